/* llm_text.c: see llm_text.h. Built on the shared tokenizer
 * (sdk/common/tokenizer.h): prompts are encoded as llama.cpp's tools do
 * (BOS/EOS as the metadata says, control-token texts parsed), and output
 * bytes go through its streaming UTF-8 decoder. */
#include "llm_text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

struct llm_text {
    tokenizer *tok;
    tok_utf8_stream stream;
    bool at_start;   /* nothing printed yet: drop SPM's dummy-prefix space */
};

llm_text *llm_text_new(const gguf_file *f, char *err, size_t errlen) {
    llm_text *t = calloc(1, sizeof *t);
    if (!t) { snprintf(err, errlen, "out of memory"); return NULL; }
    t->tok = tok_load_gguf(f, err, errlen);
    if (!t->tok) { free(t); return NULL; }
    tok_stream_init(&t->stream);
    return t;
}

void llm_text_free(llm_text *t) {
    if (!t) return;
    tok_free(t->tok);
    free(t);
}

int llm_text_tokenize(llm_text *t, const char *prompt, int32_t *out, int cap,
                      char *err, size_t errlen) {
    tok_ids ids = {0};
    if (!tok_encode(t->tok, prompt, strlen(prompt), TOK_ADD_SPECIAL | TOK_PARSE_SPECIAL, &ids,
                    err, errlen)) {
        tok_ids_free(&ids);
        return -1;
    }
    if (ids.n > (size_t)cap) {
        snprintf(err, errlen, "%zu tokens do not fit the context of %d", ids.n, cap);
        tok_ids_free(&ids);
        return -1;
    }
    memcpy(out, ids.ids, ids.n * sizeof *out);
    int n = (int)ids.n;
    tok_ids_free(&ids);
    t->at_start = prompt[0] == '\0';
    return n;
}

static void put(llm_text *t, const char *bytes, size_t n, FILE *out) {
    while (n > 0) {
        char buf[TOK_STREAM_OUT_MAX(256)];
        size_t k = n < 256 ? n : 256;
        size_t m = tok_stream_push(&t->stream, bytes, k, buf);
        fwrite(buf, 1, m, out);
        bytes += k;
        n -= k;
    }
}

void llm_text_emit(llm_text *t, int32_t token, FILE *out) {
    size_t n = 0;
    if (t->at_start) {
        /* tok_decode drops the dummy prefix's space on a first piece. */
        char *s = tok_decode(t->tok, &token, 1, false, &n);
        if (!s) return;
        if (n > 0) t->at_start = false;
        put(t, s, n, out);
        free(s);
        return;
    }
    const char *p = tok_piece(t->tok, token, false, &n);
    if (p) put(t, p, n, out);
}

void llm_text_flush(llm_text *t, FILE *out) {
    char buf[TOK_STREAM_OUT_MAX(0)];
    size_t m = tok_stream_flush(&t->stream, buf);
    fwrite(buf, 1, m, out);
}
