/* wl_vocab.c: the guest-side tokenizer and chat template from a GGUF file
 * (contract in wasmlet/tokens.h), over sdk/common's gguf and tokenizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"
#include "wasmlet/tokens.h"
#include "wl_internal.h"

#define VOCAB_FILE_MAX ((long)1 << 30)

struct wl_vocab {
    tokenizer *tok;
    char *chat_template;   /* NULL when the file has none */
};

int wl_vocab_from_buffer(wl_vocab **out, const void *buf, size_t len, const char *name) {
    if (!out || !buf) return wl_fail(WL_E_ARG, "wl_vocab: NULL argument");
    *out = NULL;
    if (!name) name = "GGUF image";
    char err[256];
    gguf_file *g = gguf_open_buffer(buf, len, err, sizeof err);
    if (!g) return wl_fail(WL_E_FORMAT, "%s: %s", name, err);
    wl_vocab *v = calloc(1, sizeof *v);
    if (!v) {
        gguf_close(g);
        return wl_fail(WL_E_NOMEM, "%s: out of memory", name);
    }
    v->tok = tok_load_gguf(g, err, sizeof err);
    int e = v->tok ? WL_OK : wl_fail(WL_E_FORMAT, "%s: %s", name, err);
    const gguf_kv *kv = e ? NULL : gguf_find(g, "tokenizer.chat_template");
    gguf_str s;
    if (kv && gguf_kv_str(kv, &s)) {
        v->chat_template = malloc(s.len + 1);
        if (!v->chat_template) {
            e = wl_fail(WL_E_NOMEM, "%s: out of memory", name);
        } else {
            memcpy(v->chat_template, s.ptr, s.len);
            v->chat_template[s.len] = 0;
        }
    }
    gguf_close(g);
    if (e) {
        wl_vocab_free(v);
        return e;
    }
    *out = v;
    return WL_OK;
}

int wl_vocab_open(wl_vocab **out, const char *path) {
    if (!out || !path) return wl_fail(WL_E_ARG, "wl_vocab_open: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return wl_fail(WL_E_IO, "%s: cannot open (is its folder granted to the guest?)", path);
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (size < 0 || size > VOCAB_FILE_MAX || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return wl_fail(WL_E_IO, "%s: cannot size the file, or it is over 1 GiB", path);
    }
    void *buf = malloc(size ? (size_t)size : 1);
    if (!buf) {
        fclose(f);
        return wl_fail(WL_E_NOMEM, "%s: out of memory for %ld bytes", path, size);
    }
    size_t got = fread(buf, 1, (size_t)size, f);
    fclose(f);
    if (got != (size_t)size) {
        free(buf);
        return wl_fail(WL_E_IO, "%s: read %zu of %ld bytes", path, got, size);
    }
    int e = wl_vocab_from_buffer(out, buf, (size_t)size, path);
    free(buf);
    return e;
}

void wl_vocab_free(wl_vocab *v) {
    if (!v) return;
    tok_free(v->tok);
    free(v->chat_template);
    free(v);
}

const char *wl_vocab_chat_template(const wl_vocab *v) { return v ? v->chat_template : NULL; }
uint32_t wl_vocab_size(const wl_vocab *v) { return v ? tok_n_vocab(v->tok) : 0; }

int wl_vocab_encode(const wl_vocab *v, const char *text, size_t len, bool add_special, bool parse_special,
                    int32_t **ids, size_t *n) {
    if (!v || (!text && len) || !ids || !n) return wl_fail(WL_E_ARG, "wl_vocab_encode: NULL argument");
    tok_ids out = { 0 };
    char err[160];
    unsigned flags = (add_special ? TOK_ADD_SPECIAL : 0) | (parse_special ? TOK_PARSE_SPECIAL : 0);
    if (!tok_encode(v->tok, text ? text : "", len, flags, &out, err, sizeof err)) {
        tok_ids_free(&out);
        return wl_fail(WL_E_NOMEM, "tokenize: %s", err);
    }
    *ids = out.ids;
    *n = out.n;
    return WL_OK;
}

int wl_vocab_count(const wl_vocab *v, const char *text, size_t len, size_t *n) {
    int32_t *ids = NULL;
    int e = wl_vocab_encode(v, text, len, true, true, &ids, n);
    free(ids);
    return e;
}

const char *wl_vocab_piece(const wl_vocab *v, int32_t id, size_t *len) {
    return v ? tok_piece(v->tok, id, true, len) : NULL;
}
