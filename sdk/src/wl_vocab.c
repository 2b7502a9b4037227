/* wl_vocab.c: the guest-side tokenizer and chat template from a GGUF file
 * (contract in wasmlet/tokens.h), over sdk/common's gguf and tokenizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "tokenizer.h"
#include "wasmlet/tokens.h"
#include "wl_internal.h"

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

/* A model file can be far larger than a wasm32 guest's memory, but the
 * tokenizer needs only the metadata at its front. So the file is read in
 * growing prefixes, and each prefix is parsed as a GGUF that claims no
 * tensors (its tensor count zeroed in a copy of the header): once the
 * prefix holds every metadata key, the parse succeeds. A file that ends
 * within the prefix is parsed as it is. */
static size_t first_prefix = (size_t)8 << 20;
#define PREFIX_MAX ((size_t)1 << 30)

void wl_vocab_set_first_prefix(size_t n) { first_prefix = n ? n : (size_t)8 << 20; }

int wl_vocab_open(wl_vocab **out, const char *path) {
    if (!out || !path) return wl_fail(WL_E_ARG, "wl_vocab_open: NULL argument");
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return wl_fail(WL_E_IO, "%s: cannot open (is its folder granted to the guest?)", path);
    unsigned char *buf = NULL;
    size_t have = 0, want = first_prefix;
    int e = WL_E_IO;
    for (;;) {
        unsigned char *b = realloc(buf, want);
        if (!b) {
            e = wl_fail(WL_E_NOMEM, "%s: out of memory for %zu bytes", path, want);
            break;
        }
        buf = b;
        have += fread(buf + have, 1, want - have, f);
        if (ferror(f)) {
            e = wl_fail(WL_E_IO, "%s: read error after %zu bytes", path, have);
            break;
        }
        bool whole = have < want;
        unsigned char saved[8];
        size_t count_len = 0;
        if (!whole && have >= 16 && memcmp(buf, "GGUF", 4) == 0) {
            uint32_t ver = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 | (uint32_t)buf[7] << 24;
            count_len = ver == 1 ? 4 : 8;   /* version 1 counts are u32 */
            memcpy(saved, buf + 8, count_len);
            memset(buf + 8, 0, count_len);
        }
        e = wl_vocab_from_buffer(out, buf, have, path);
        if (e == WL_OK || whole || count_len == 0 || e == WL_E_NOMEM) break;
        if (want >= PREFIX_MAX) {
            e = wl_fail(WL_E_FORMAT, "%s: no complete GGUF metadata in the first %zu bytes (%s)", path, want,
                        wl_last_error());
            break;
        }
        memcpy(buf + 8, saved, count_len);
        want *= 2;
    }
    fclose(f);
    free(buf);
    if (e == WL_OK) wl_clear_error();
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
