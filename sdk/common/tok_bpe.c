/* tok_bpe.c: byte-level BPE (tokenizer.ggml.model = "gpt2").
 *
 * Per fragment: decode to code points (invalid bytes -> U+FFFD, as
 * llama.cpp does), split into words with the pre-tokenizer, map each word's
 * UTF-8 bytes through GPT-2's byte-to-character table, then merge adjacent
 * symbols lowest rank first (ties: leftmost) with a heap and a linked list,
 * O(k log k) per word of k bytes. */
#include <stdlib.h>
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

/* ---- Merges on token ids ------------------------------------------------ */

static inline uint64_t pair_hash(int32_t a, int32_t b) {
    uint64_t h = ((uint64_t)(uint32_t)a << 32 | (uint32_t)b) * 0x9E3779B97F4A7C15ULL;
    return h ^ (h >> 29);
}

static int32_t pair_rank(const tokenizer *t, int32_t a, int32_t b) {
    uint64_t h = pair_hash(a, b), tag = TOK_SLOT_TAG(h);
    for (uint32_t i = (uint32_t)h & t->pairs.mask;; i = (i + 1) & t->pairs.mask) {
        uint64_t v = t->pairs.slot[i];
        if (v == 0) return -1;
        uint32_t r = TOK_SLOT_IDX(v);
        if (TOK_SLOT_TAG(v) == tag && t->pair_left[r] == a && t->pair_right[r] == b) return (int32_t)r;
    }
}

void tok_bpe_free(tokenizer *t) {
    free(t->pairs.slot);
    free(t->pair_left);
    free(t->pair_right);
    free(t->pair_result);
    t->pairs.slot = NULL;
    t->pair_left = t->pair_right = t->pair_result = NULL;
    t->pair_mode = false;
}

/* When every symbol starts as a token and every merge that can fire yields
 * a token, merging texts and merging their ids give the same result: a
 * merge whose parts are not both tokens can never fire then. If some merge
 * yields a non-token the string path stays in use. */
bool tok_bpe_prepare(tokenizer *t) {
    for (int b = 0; b < 256; b++) {
        uint8_t m[4];
        size_t nm = tok_cp_to_utf8(tok_byte_to_cp((uint8_t)b), m);
        t->byte_char_token[b] = tok_lookup(t, (const char *)m, nm);
    }
    uint32_t n = t->n_merges;
    t->pair_left = malloc((n ? n : 1) * sizeof(int32_t));
    t->pair_right = malloc((n ? n : 1) * sizeof(int32_t));
    t->pair_result = malloc((n ? n : 1) * sizeof(int32_t));
    if (!t->pair_left || !t->pair_right || !t->pair_result || !tok_table_init(&t->pairs, n)) {
        tok_bpe_free(t);
        return false;
    }
    char small[256];
    for (uint32_t r = 0; r < n; r++) {
        const char *m = t->merge_pool + t->merge_off[r];
        uint32_t len = t->merge_len[r], sl = t->merge_split[r];
        int32_t a = tok_lookup(t, m, sl), b = tok_lookup(t, m + sl + 1, len - sl - 1);
        t->pair_left[r] = t->pair_right[r] = t->pair_result[r] = -1;
        if (a < 0 || b < 0) continue;
        char *cat = len - 1 <= sizeof small ? small : malloc(len - 1);
        if (!cat) { tok_bpe_free(t); return false; }
        memcpy(cat, m, sl);
        memcpy(cat + sl, m + sl + 1, len - sl - 1);
        int32_t ab = tok_lookup(t, cat, len - 1);
        if (cat != small) free(cat);
        if (ab < 0) {                 /* a merge into a non-token: keep strings */
            tok_bpe_free(t);
            return true;
        }
        if (pair_rank(t, a, b) >= 0) continue;   /* the first (lowest) rank stays */
        t->pair_left[r] = a;
        t->pair_right[r] = b;
        t->pair_result[r] = ab;
        uint64_t h = pair_hash(a, b);
        uint32_t i = (uint32_t)h & t->pairs.mask;
        while (t->pairs.slot[i]) i = (i + 1) & t->pairs.mask;
        t->pairs.slot[i] = TOK_SLOT(h, r);
    }
    t->pair_mode = true;
    return true;
}

static bool add_pair(const tokenizer *t, tok_scratch *sc, size_t *nh, int32_t left, int32_t right) {
    if (left < 0 || right < 0) return true;
    const tok_sym *s = sc->sym;
    int32_t rank = pair_rank(t, s[left].id, s[right].id);
    if (rank < 0) return true;
    tok_bigram b = {((uint64_t)(uint32_t)rank << 32) | (uint32_t)left, s[left].n + s[right].n};
    return tok_heap_push(sc, nh, b);
}

/* The word's raw bytes are in sc->raw and every byte has a token. */
static bool encode_word_ids(const tokenizer *t, tok_scratch *sc, tok_ids *out) {
    size_t ns = sc->raw.n;
    if (ns > INT32_MAX || !tok_reserve(&sc->sym, &sc->sym_cap, ns, sizeof(tok_sym))) return false;
    tok_sym *s = sc->sym;
    for (size_t i = 0; i < ns; i++)
        s[i] = (tok_sym){(int32_t)i - 1, i + 1 < ns ? (int32_t)i + 1 : -1, (uint32_t)i, 1,
                         t->byte_char_token[sc->raw.v[i]]};
    size_t nh = 0;
    for (size_t i = 1; i < ns; i++)
        if (!add_pair(t, sc, &nh, (int32_t)i - 1, (int32_t)i)) return false;
    while (nh) {
        tok_bigram b = tok_heap_pop(sc, &nh);
        int32_t left = tok_bigram_left(b);
        tok_sym *l = &s[left];
        if (l->n == 0 || l->next < 0 || l->n + s[l->next].n != b.size) continue;   /* stale */
        tok_sym *r = &s[l->next];
        l->id = t->pair_result[b.key >> 32];
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = left;
        if (!add_pair(t, sc, &nh, l->prev, left)) return false;
        if (!add_pair(t, sc, &nh, left, l->next)) return false;
    }
    for (int32_t i = 0; i >= 0 && ns; i = s[i].next)
        if (!tok_ids_push(out, s[i].id)) return false;
    return true;
}

/* ---- Merges on strings (any vocabulary) ---------------------------------- */

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
    size_t ns = 0;
    for (size_t i = 0; i < len; ns++) i += tok_utf8_len(w[i]);
    if (ns > INT32_MAX || !tok_reserve(&sc->sym, &sc->sym_cap, ns, sizeof(tok_sym))) return false;
    tok_sym *s = sc->sym;
    size_t off = 0;
    for (size_t i = 0; i < ns; i++) {
        size_t n = tok_utf8_len(w[off]);
        if (n > len - off) n = len - off;
        s[i] = (tok_sym){(int32_t)i - 1, i + 1 < ns ? (int32_t)i + 1 : -1, (uint32_t)off, (uint32_t)n, -1};
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
        sc->raw.n = 0;
        for (size_t i = start; i < end; i++) {
            uint8_t u[4];
            if (!tok_bytes_put(&sc->raw, u, tok_cp_to_utf8(sc->cps[i], u))) return false;
        }
        start = end;
        bool ids = t->pair_mode;
        for (size_t k = 0; ids && k < sc->raw.n; k++) ids = t->byte_char_token[sc->raw.v[k]] >= 0;
        if (ids && !t->ignore_merges) {
            if (!encode_word_ids(t, sc, out)) return false;
            continue;
        }
        sc->word.n = 0;
        for (size_t k = 0; k < sc->raw.n; k++) {
            uint8_t m[4];
            if (!tok_bytes_put(&sc->word, m, tok_cp_to_utf8(tok_byte_to_cp(sc->raw.v[k]), m))) return false;
        }
        if (t->ignore_merges) {   /* a whole word in the vocabulary is one token */
            int32_t id = tok_lookup(t, (const char *)sc->word.v, sc->word.n);
            if (id >= 0) {
                if (!tok_ids_push(out, id)) return false;
                continue;
            }
        }
        if (!(ids ? encode_word_ids(t, sc, out) : encode_word(t, sc, out))) return false;
    }
    return true;
}
