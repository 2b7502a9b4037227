/* tok_spm.c: SentencePiece-style BPE (tokenizer.ggml.model = "llama"),
 * as llama.cpp runs it.
 *
 * Spaces become U+2581 (and one is prepended when the caller asks for the
 * dummy prefix); the text starts as one symbol per UTF-8 character; the
 * adjacent pair whose concatenation is a vocabulary token with the highest
 * score is merged first (ties: leftmost), until no pair is a token. A final
 * symbol that is not a token falls back to byte tokens <0xNN>. */
#include <string.h>

#include "tok_internal.h"

/* Order-preserving map of a float to uint32 (so the heap can compare keys
 * as integers); -0.0 and 0.0 compare equal as they do in C. */
static uint32_t float_order(float f) {
    if (f == 0.0f) f = 0.0f;
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

static bool add_bigram(const tokenizer *t, tok_scratch *sc, size_t *nh, const uint8_t *w,
                       int32_t left, int32_t right) {
    if (left < 0 || right < 0) return true;
    const tok_sym *s = sc->sym;
    uint32_t size = s[left].n + s[right].n;
    uint64_t h = tok_hash_step(sc->hash[left], w + s[right].start, s[right].n);
    int32_t id = tok_lookup_hashed(t, (const char *)w + s[left].start, size, h);
    if (id < 0) return true;
    /* Highest score first: invert the order. */
    uint64_t key = ((uint64_t)(~float_order(t->score[id])) << 32) | (uint32_t)left;
    tok_bigram b = {key, size};
    return tok_heap_push(sc, nh, b);
}

bool tok_spm_encode(const tokenizer *t, const char *text, size_t len, bool space_prefix,
                    tok_scratch *sc, tok_ids *out) {
    static const char marker[3] = {'\xE2', '\x96', '\x81'};   /* U+2581 */
    sc->word.n = 0;
    if (space_prefix && !tok_bytes_put(&sc->word, marker, 3)) return false;
    for (size_t i = 0; i < len; i++) {
        bool ok = text[i] == ' ' ? tok_bytes_put(&sc->word, marker, 3)
                                 : tok_bytes_put(&sc->word, text + i, 1);
        if (!ok) return false;
    }
    const uint8_t *w = sc->word.v;
    size_t wl = sc->word.n;
    if (wl == 0) return true;
    if (wl > UINT32_MAX) return false;
    size_t ns = 0;
    for (size_t i = 0; i < wl; ns++) i += tok_utf8_len(w[i]);
    if (ns > INT32_MAX || !tok_reserve(&sc->sym, &sc->sym_cap, ns, sizeof(tok_sym)) ||
        !tok_reserve((void **)&sc->hash, &sc->hash_cap, ns, sizeof(uint64_t)))
        return false;
    tok_sym *s = sc->sym;
    size_t off = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t n = tok_utf8_len(w[off]);
        if (n > wl - off) n = wl - off;
        s[i] = (tok_sym){(int32_t)i - 1, i + 1 < ns ? (int32_t)i + 1 : -1, (uint32_t)off, (uint32_t)n, -1};
        sc->hash[i] = tok_hash_step(TOK_HASH_SEED, w + off, n);
        off += n;
    }
    size_t nh = 0;
    for (size_t i = 1; i < ns; i++)
        if (!add_bigram(t, sc, &nh, w, (int32_t)i - 1, (int32_t)i)) return false;
    while (nh) {
        tok_bigram b = tok_heap_pop(sc, &nh);
        int32_t left = tok_bigram_left(b);
        tok_sym *l = &s[left];
        /* Stale: either side merged away or grown since it was queued (the
         * sizes cannot add up again once either changed). */
        if (l->n == 0 || l->next < 0 || l->n + s[l->next].n != b.size) continue;
        tok_sym *r = &s[l->next];
        sc->hash[left] = tok_hash_step(sc->hash[left], w + r->start, r->n);
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = left;
        if (!add_bigram(t, sc, &nh, w, l->prev, left)) return false;
        if (!add_bigram(t, sc, &nh, w, left, l->next)) return false;
    }
    /* Every merged symbol is a token by construction, so llama.cpp's
     * re-segmentation through its merge history reduces to: a token, or
     * the bytes of one unmerged character. */
    for (int32_t i = 0; i >= 0; i = s[i].next) {
        int32_t id = tok_lookup(t, (const char *)w + s[i].start, s[i].n);
        if (id >= 0) {
            if (!tok_ids_push(out, id)) return false;
            continue;
        }
        for (uint32_t k = 0; k < s[i].n; k++) {
            id = t->byte_token[w[s[i].start + k]];
            if (id < 0) id = t->unk;            /* no byte token: <unk>, else dropped */
            if (id >= 0 && !tok_ids_push(out, id)) return false;
        }
    }
    return true;
}
