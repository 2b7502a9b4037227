/* llm_text.c: see llm_text.h. Until the shared tokenizer lands, prompts
 * are limited to BOS alone, and tokens are turned into text from the
 * vocabulary directly (SentencePiece pieces: U+2581 is a space, <0xNN> a
 * raw byte, control tokens print nothing). */
#include "llm_text.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct llm_text {
    const gguf_file *f;
    const gguf_kv *tokens, *types;
    int32_t bos;
    unsigned char pend[8];   /* bytes of an unfinished UTF-8 character */
    int n_pend;
};

static int fail(char *err, size_t errlen, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

llm_text *llm_text_new(const gguf_file *f, char *err, size_t errlen) {
    llm_text *t = calloc(1, sizeof *t);
    if (!t) { fail(err, errlen, "out of memory"); return NULL; }
    t->f = f;
    char e[200];
    if (!gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_T_STRING, &t->tokens, e, sizeof e))
        t->tokens = NULL;
    if (!gguf_get_arr(f, "tokenizer.ggml.token_type", GGUF_T_INT32, &t->types, e, sizeof e))
        t->types = NULL;
    uint32_t id;
    t->bos = gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &id, e, sizeof e) ? (int32_t)id : -1;
    return t;
}

void llm_text_free(llm_text *t) { free(t); }

int llm_text_tokenize(llm_text *t, const char *prompt, int32_t *out, int cap,
                      char *err, size_t errlen) {
    if (prompt[0] != '\0')
        return fail(err, errlen, "this build has no tokenizer: only an empty prompt (BOS) works");
    if (t->bos < 0) return 0;
    if (cap < 1) return fail(err, errlen, "the context has no room for the prompt");
    out[0] = t->bos;
    return 1;
}

/* Length of the UTF-8 sequence a lead byte starts (1 for stray bytes). */
static int utf8_len(unsigned char b) {
    if (b >= 0xF0 && b < 0xF8) return 4;
    if (b >= 0xE0) return b < 0xF0 ? 3 : 1;
    if (b >= 0xC0) return 2;
    return 1;
}

static void put_byte(llm_text *t, unsigned char b, FILE *out) {
    if (t->n_pend > 0 && (b & 0xC0) != 0x80) llm_text_flush(t, out);   /* broken sequence */
    t->pend[t->n_pend++] = b;
    if (t->n_pend >= utf8_len(t->pend[0])) llm_text_flush(t, out);
}

void llm_text_emit(llm_text *t, int32_t token, FILE *out) {
    if (!t->tokens || token < 0 || (uint64_t)token >= t->tokens->arr_len) return;
    if (t->types && (uint64_t)token < t->types->arr_len) {
        int64_t ty = gguf_arr_int(t->types, (uint64_t)token);
        if (ty == 3) return;   /* control token */
    }
    gguf_str s = gguf_arr_str(t->f, t->tokens, (uint64_t)token);
    const unsigned char *p = (const unsigned char *)s.ptr;
    unsigned hex;
    char tail;
    if (s.len == 6 && memcmp(p, "<0x", 3) == 0 && sscanf((const char *)p + 3, "%2x%c", &hex, &tail) == 2 &&
        tail == '>') {
        put_byte(t, (unsigned char)hex, out);
        return;
    }
    for (uint64_t i = 0; i < s.len; i++) {
        if (i + 2 < s.len && p[i] == 0xE2 && p[i + 1] == 0x96 && p[i + 2] == 0x81) {
            put_byte(t, ' ', out);
            i += 2;
        } else {
            put_byte(t, p[i], out);
        }
    }
}

void llm_text_flush(llm_text *t, FILE *out) {
    if (t->n_pend) fwrite(t->pend, 1, (size_t)t->n_pend, out);
    t->n_pend = 0;
}
