/* test-tok_vectors.wasm: the SDK's tokenizer inside a guest.
 *   test-tok_vectors.wasm VOCAB.gguf CASES.inp
 * Reads a vocabulary GGUF from a granted directory, tokenizes each case of
 * the .inp file (cases end with "\n__ggml_vocab_test__\n"; no BOS, specials
 * not parsed) and prints one line per case in the .out format: " id id ...". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 20, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) { free(buf); buf = NULL; break; }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test-tok_vectors.wasm VOCAB.gguf CASES.inp\n");
        return 2;
    }
    size_t glen, ilen;
    char *img = slurp(argv[1], &glen), *in = slurp(argv[2], &ilen);
    if (!img || !in) {
        fprintf(stderr, "test-tok_vectors: cannot read %s\n", img ? argv[2] : argv[1]);
        return 1;
    }
    char err[256];
    gguf_file *g = gguf_open_buffer(img, glen, err, sizeof err);
    tokenizer *t = g ? tok_load_gguf(g, err, sizeof err) : NULL;
    if (!t) {
        fprintf(stderr, "test-tok_vectors: %s: %s\n", argv[1], err);
        return 1;
    }
    gguf_close(g);
    free(img);
    static const char sep[] = "\n__ggml_vocab_test__\n";
    const size_t sl = sizeof sep - 1;
    tok_ids ids = {0};
    for (size_t p = 0; p < ilen;) {
        size_t q = p;
        while (q + sl <= ilen && memcmp(in + q, sep, sl) != 0) q++;
        if (q + sl > ilen) break;   /* text after the last separator is not a case */
        ids.n = 0;
        if (!tok_encode(t, in + p, q - p, 0, &ids, err, sizeof err)) {
            fprintf(stderr, "test-tok_vectors: %s\n", err);
            return 1;
        }
        for (size_t i = 0; i < ids.n; i++) printf(" %d", ids.ids[i]);
        putchar('\n');
        p = q + sl;
    }
    tok_ids_free(&ids);
    tok_free(t);
    free(in);
    return fflush(stdout) == 0 ? 0 : 1;
}
