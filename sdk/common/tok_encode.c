/* tok_encode.c: text -> ids. Splits out special-token texts first (as
 * llama.cpp does: longest token text first, each occurrence leftmost and
 * non-overlapping, inside the pieces still raw; a token marked lstrip/rstrip
 * swallows the whitespace beside it), then runs SPM or BPE on each raw
 * piece, then adds BOS/EOS. User-defined tokens are always split out;
 * control and unknown tokens only with TOK_PARSE_SPECIAL. */
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

typedef struct { size_t off, len; int32_t tok; } frag;   /* tok < 0: raw text */
typedef struct { frag *v; size_t n, cap; } frags;

static bool frag_push(frags *f, size_t off, size_t len, int32_t tok) {
    if (!tok_reserve((void **)&f->v, &f->cap, f->n + 1, sizeof(frag))) return false;
    f->v[f->n++] = (frag){off, len, tok};
    return true;
}

static const char *find(const char *hay, size_t n, const char *needle, size_t m) {
    if (m == 0 || m > n) return NULL;
    const char *end = hay + n - m + 1;
    for (const char *p = hay; p < end;) {
        p = memchr(p, (unsigned char)needle[0], (size_t)(end - p));
        if (!p) return NULL;
        if (memcmp(p, needle, m) == 0) return p;
        p++;
    }
    return NULL;
}

/* C's isspace in the "C" locale, which llama.cpp uses for stripping. */
static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Splits every raw fragment of *in at the occurrences of token id. */
static bool split_special(const tokenizer *t, const char *text, int32_t id, frags *in, frags *out) {
    size_t m = t->text_len[id];
    const char *s = tok_text_ptr(t, id);
    out->n = 0;
    for (size_t i = 0; i < in->n; i++) {
        frag f = in->v[i];
        if (f.tok >= 0) {
            if (!frag_push(out, f.off, f.len, f.tok)) return false;
            continue;
        }
        size_t off = f.off, end = f.off + f.len;
        const char *p;
        while ((p = find(text + off, end - off, s, m)) != NULL) {
            size_t at = (size_t)(p - text), left_end = at;
            if (t->strip[id] & TOK_LSTRIP)
                while (left_end > off && is_space(text[left_end - 1])) left_end--;
            if (left_end > off && !frag_push(out, off, left_end - off, -1)) return false;
            if (!frag_push(out, at, m, id)) return false;
            off = at + m;
            if (t->strip[id] & TOK_RSTRIP)
                while (off < end && is_space(text[off])) off++;
        }
        if (end > off && !frag_push(out, off, end - off, -1)) return false;
    }
    frags tmp = *in;
    *in = *out;
    *out = tmp;
    return true;
}

bool tok_encode(const tokenizer *t, const char *text, size_t len, unsigned flags,
                tok_ids *out, char *err, size_t errlen) {
    bool want_bos = (flags & TOK_BOS) || ((flags & TOK_ADD_SPECIAL) && t->add_bos);
    bool want_eos = (flags & TOK_EOS) || ((flags & TOK_ADD_SPECIAL) && t->add_eos);
    if (want_bos && t->bos < 0) {
        tok_err(err, errlen, "tokenizer: BOS requested but the model has no BOS token");
        return false;
    }
    if (want_eos && t->eos < 0) {
        tok_err(err, errlen, "tokenizer: EOS requested but the model has no EOS token");
        return false;
    }
    size_t n0 = out->n;
    frags a = {0}, b = {0};
    tok_scratch sc;
    memset(&sc, 0, sizeof sc);
    bool ok = true;
    if (len > 0) ok = frag_push(&a, 0, len, -1);
    /* One pass finds which special texts occur at all; only those then
     * split the text, in order (vocabularies can have thousands). */
    uint8_t *present = len > 0 && t->n_special ? calloc(t->n_special, 1) : NULL;
    if (len > 0 && t->n_special && !present) ok = false;
    for (size_t i = 0; ok && present && i < len; i++) {
        if (!t->special_first[(uint8_t)text[i]]) continue;
        for (uint32_t k = 0; k < t->n_special_lens && t->special_lens[k] <= len - i; k++) {
            int32_t idx = tok_special_lookup(t, text + i, t->special_lens[k]);
            if (idx >= 0) present[idx] = 1;
        }
    }
    for (uint32_t i = 0; ok && present && i < t->n_special; i++) {
        int32_t id = t->special[i];
        if (!present[t->special_canon[i]]) continue;
        if (!(flags & TOK_PARSE_SPECIAL) && t->type[id] != TOK_TYPE_USER_DEFINED) continue;
        ok = split_special(t, text, id, &a, &b);
    }
    free(present);
    if (ok && want_bos) ok = tok_ids_push(out, t->bos);
    bool prev_special = true;   /* SPM: the dummy prefix goes on the first raw piece */
    for (size_t i = 0; ok && i < a.n; i++) {
        frag f = a.v[i];
        if (f.tok >= 0) {
            ok = tok_ids_push(out, f.tok);
            prev_special = true;
        } else if (t->model == TOK_MODEL_SPM) {
            ok = tok_spm_encode(t, text + f.off, f.len, t->add_space_prefix && prev_special, &sc, out);
            prev_special = false;
        } else {
            ok = tok_bpe_encode(t, text + f.off, f.len, &sc, out);
        }
    }
    if (ok && want_eos) ok = tok_ids_push(out, t->eos);
    if (!ok) {
        tok_err(err, errlen, "tokenizer: out of memory encoding %zu bytes", len);
        out->n = n0;   /* nothing half-appended */
    }
    free(a.v);
    free(b.v);
    tok_scratch_free(&sc);
    return ok;
}
