/* tok_test_util.h: helpers for the tokenizer tests (reading files, the
 * shared-data folder, splitting vector files). */
#ifndef WASMLET_TOK_TEST_UTIL_H
#define WASMLET_TOK_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

#define SKIP 77

static int g_failures __attribute__((unused));
#define CHECK(cond, ...) do { if (!(cond)) { g_failures++; \
    fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); \
    fputc('\n', stderr); } } while (0)

static inline const char *shared_dir(void) {
    const char *d = getenv("WASMLET_SHARED");
    return d && *d ? d : "../shared";
}

static inline char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = 0;
    *len = n;
    return buf;
}

/* Cases of a .inp file: each ends with "\n__ggml_vocab_test__\n". Returns
 * the number of cases; starts[i]/lens[i] point into text. */
#define VOCAB_SEP "\n__ggml_vocab_test__\n"
static inline size_t split_cases(const char *text, size_t len, const char **starts, size_t *lens, size_t max) {
    size_t n = 0, sl = strlen(VOCAB_SEP);
    const char *p = text, *end = text + len;
    while (p < end && n < max) {
        const char *q = NULL;
        for (const char *s = p; s + sl <= end; s++)
            if (memcmp(s, VOCAB_SEP, sl) == 0) { q = s; break; }
        if (!q) break;
        starts[n] = p;
        lens[n] = (size_t)(q - p);
        n++;
        p = q + sl;
    }
    return n;
}

/* Load a tokenizer from a GGUF file; NULL (message printed) on failure. */
static inline tokenizer *load_tok(const char *path, gguf_file **gf) {
    char err[256] = "";
    *gf = gguf_open_file(path, err, sizeof err);
    if (!*gf) { fprintf(stderr, "%s: %s\n", path, err); return NULL; }
    tokenizer *t = tok_load_gguf(*gf, err, sizeof err);
    if (!t) fprintf(stderr, "%s: %s\n", path, err);
    return t;
}

#endif
