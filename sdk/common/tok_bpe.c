/* tok_bpe.c: byte-level BPE (tokenizer.ggml.model = "gpt2").
 *
 * Per fragment: decode to code points (invalid bytes -> U+FFFD, as
 * llama.cpp does), split into words with the pre-tokenizer, map each word's
 * UTF-8 bytes through GPT-2's byte-to-character table, then merge adjacent
 * symbols lowest rank first (ties: leftmost) with a heap and a linked list,
 * O(k log k) per word of k bytes. */
#include <string.h>

#include "tok_internal.h"

/* GPT-2's table: printable Latin-1 bytes stand for themselves; the other 68
 * bytes take U+0100.. in byte order. */
uint32_t tok_byte_to_cp(uint8_t b) {
    if (b <= 32) return 256u + b;
    if (b >= 127 && b <= 160) return 162u + b;
    if (b == 173) return 323;
    return b;
}

int tok_cp_to_byte(uint32_t cp) {
    if ((cp >= 33 && cp <= 126) || (cp >= 161 && cp <= 255 && cp != 173)) return (int)cp;
    if (cp >= 256 && cp <= 288) return (int)(cp - 256);
    if (cp >= 289 && cp <= 322) return (int)(cp - 162);
    if (cp == 323) return 173;
    return -1;
}

static bool add_bigram(const tokenizer *t, tok_scratch *sc, size_t *nh, const uint8_t *w,
                       int32_t left, int32_t right) {
    if (left < 0 || right < 0) return true;
    const tok_sym *s = sc->sym;
    int32_t rank = tok_merge_rank(t, (const char *)w + s[left].start, s[left].n,
                                  (const char *)w + s[right].start, s[right].n);
    if (rank < 0) return true;
    tok_bigram b = {((uint64_t)(uint32_t)rank << 32) | (uint32_t)left, s[left].n + s[right].n};
    return tok_heap_push(sc, nh, b);
}

static bool encode_word(const tokenizer *t, tok_scratch *sc, tok_ids *out) {
    const uint8_t *w = sc->word.v;
    size_t len = sc->word.n;
    if (t->ignore_merges) {
        int32_t id = tok_lookup(t, (const char *)w, len);
        if (id >= 0) return tok_ids_push(out, id);
    }
    size_t ns = 0;
    for (size_t i = 0; i < len; ns++) i += tok_utf8_len(w[i]);
    if (ns > INT32_MAX || !tok_reserve(&sc->sym, &sc->sym_cap, ns, sizeof(tok_sym))) return false;
    tok_sym *s = sc->sym;
    size_t off = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t n = tok_utf8_len(w[off]);
        if (n > len - off) n = len - off;
        s[i] = (tok_sym){(int32_t)i - 1, i + 1 < ns ? (int32_t)i + 1 : -1, (uint32_t)off, (uint32_t)n};
        off += n;
    }
    size_t nh = 0;
    for (size_t i = 1; i < ns; i++)
        if (!add_bigram(t, sc, &nh, w, (int32_t)i - 1, (int32_t)i)) return false;
    while (nh) {
        tok_bigram b = tok_heap_pop(sc, &nh);
        s = sc->sym;
        int32_t left = tok_bigram_left(b);
        tok_sym *l = &s[left];
        /* Stale: either side merged away or grown since it was queued (the
         * sizes cannot add up again once either changed). */
        if (l->n == 0 || l->next < 0 || l->n + s[l->next].n != b.size) continue;
        tok_sym *r = &s[l->next];
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = left;
        if (!add_bigram(t, sc, &nh, w, l->prev, left)) return false;
        if (!add_bigram(t, sc, &nh, w, left, l->next)) return false;
    }
    s = sc->sym;
    for (int32_t i = 0; i >= 0 && ns; i = s[i].next) {
        const char *p = (const char *)w + s[i].start;
        int32_t id = tok_lookup(t, p, s[i].n);
        if (id >= 0) {
            if (!tok_ids_push(out, id)) return false;
            continue;
        }
        /* Not in the vocabulary: llama.cpp emits the single-byte tokens it
         * finds and drops the rest; so do we. */
        for (uint32_t k = 0; k < s[i].n; k++) {
            id = tok_lookup(t, p + k, 1);
            if (id >= 0 && !tok_ids_push(out, id)) return false;
        }
    }
    return true;
}

bool tok_bpe_encode(const tokenizer *t, const char *text, size_t len, tok_scratch *sc, tok_ids *out) {
    if (len == 0) return true;
    if (!tok_reserve((void **)&sc->cps, &sc->cps_cap, len, sizeof(uint32_t))) return false;
    size_t n = tok_utf8_to_cps((const uint8_t *)text, len, sc->cps);
    if (!tok_pretok_split(t->pre, sc->cps, n, &sc->lens, &sc->tmp)) return false;
    size_t start = 0;
    for (size_t wi = 0; wi < sc->lens.n; wi++) {
        size_t end = start + sc->lens.v[wi];
        sc->word.n = 0;
        for (size_t i = start; i < end; i++) {
            uint8_t u[4], m[4];
            size_t nu = tok_cp_to_utf8(sc->cps[i], u);
            for (size_t k = 0; k < nu; k++) {
                size_t nm = tok_cp_to_utf8(tok_byte_to_cp(u[k]), m);
                if (!tok_bytes_put(&sc->word, m, nm)) return false;
            }
        }
        if (!encode_word(t, sc, out)) return false;
        start = end;
    }
    return true;
}
