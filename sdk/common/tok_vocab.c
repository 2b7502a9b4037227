/* tok_vocab.c: building a tokenizer from its parts (tokens, scores, types,
 * merges, special ids, flags), validating every part, and the lookups the
 * encoders use. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

/* A well-spread table never has long probe runs; a file crafted to collide
 * would make loading (and lookups) quadratic, so it is refused instead. */
#define MAX_PROBE 1024

/* The longest run of occupied slots bounds every lookup, hits and misses
 * alike (wrapping runs are counted from slot 0; good enough as a bound). */
static bool runs_short(const tok_table *tb) {
    uint32_t run = 0;
    for (uint64_t i = 0; i <= tb->mask; i++) {
        run = tb->slot[i] ? run + 1 : 0;
        if (run > MAX_PROBE) return false;
    }
    return true;
}

struct tok_builder {
    tokenizer *t;
    uint8_t *seen;
    tok_bytes pool, mpool;
    tok_u32vec moff, mlen, msplit;
    tok_spec spec;
    const tok_pre_info *pre;
};

void tok_spec_init(tok_spec *s) {
    memset(s, 0, sizeof *s);
    s->bos = s->eos = s->unk = s->pad = TOK_UNSET;
    s->add_bos = s->add_eos = s->add_space_prefix = -1;
}

void tok_free(tokenizer *t) {
    if (!t) return;
    free(t->pool);
    free(t->text_off); free(t->text_len);
    free(t->piece_off); free(t->piece_len);
    free(t->score); free(t->type); free(t->strip);
    free(t->by_text.slot);
    free(t->merge_pool);
    free(t->merge_off); free(t->merge_len); free(t->merge_split);
    free(t->merges.slot);
    tok_bpe_free(t);
    free(t->special);
    free(t->special_by_text.slot);
    free(t->special_lens);
    free(t->special_canon);
    free(t);
}

void tok_builder_free(tok_builder *b) {
    if (!b) return;
    tok_free(b->t);
    free(b->seen);
    free(b->pool.v); free(b->mpool.v);
    free(b->moff.v); free(b->mlen.v); free(b->msplit.v);
    free(b);
}

tok_builder *tok_builder_new(const tok_spec *spec, char *err, size_t errlen) {
    tok_model model;
    if (spec->model && spec->model_len == 5 && memcmp(spec->model, "llama", 5) == 0) model = TOK_MODEL_SPM;
    else if (spec->model && spec->model_len == 4 && memcmp(spec->model, "gpt2", 4) == 0) model = TOK_MODEL_BPE;
    else {
        int n = spec->model_len > 64 ? 64 : (int)spec->model_len;
        tok_err(err, errlen, "tokenizer: unsupported tokenizer model '%.*s' (supported: llama, gpt2)",
                n, spec->model ? spec->model : "");
        return NULL;
    }
    const tok_pre_info *pre = NULL;
    if (model == TOK_MODEL_BPE) {
        pre = spec->pre ? tok_pre_find(spec->pre, spec->pre_len) : tok_pre_find("default", 7);
        if (!pre) {
            int n = spec->pre_len > 64 ? 64 : (int)spec->pre_len;
            tok_err(err, errlen, "tokenizer: unknown pre-tokenizer '%.*s' (tokenizer.ggml.pre); "
                    "refusing rather than tokenizing differently from the model", n, spec->pre);
            return NULL;
        }
    }
    if (spec->n_tokens == 0 || spec->n_tokens > INT32_MAX) {
        tok_err(err, errlen, "tokenizer: bad vocabulary size %u", spec->n_tokens);
        return NULL;
    }
    tok_builder *b = calloc(1, sizeof *b);
    if (!b) goto oom;
    b->spec = *spec;
    b->pre = pre;
    b->t = calloc(1, sizeof *b->t);
    if (!b->t) goto oom;
    tokenizer *t = b->t;
    t->model = model;
    t->pre = pre ? pre->pre : TOK_PRE_NONE;
    t->n = spec->n_tokens;
    size_t n = t->n;
    b->seen = calloc(n, 1);
    t->text_off = calloc(n, sizeof(uint32_t));
    t->text_len = calloc(n, sizeof(uint32_t));
    t->piece_off = calloc(n, sizeof(uint32_t));
    t->piece_len = calloc(n, sizeof(uint32_t));
    t->score = calloc(n, sizeof(float));
    t->type = calloc(n, 1);
    t->strip = calloc(n, 1);
    if (!b->seen || !t->text_off || !t->text_len || !t->piece_off || !t->piece_len || !t->score ||
        !t->type || !t->strip)
        goto oom;
    return b;
oom:
    tok_builder_free(b);
    tok_err(err, errlen, "tokenizer: out of memory for %u tokens", spec->n_tokens);
    return NULL;
}

bool tok_builder_token(tok_builder *b, uint32_t id, const char *text, size_t len,
                       float score, int32_t type, char *err, size_t errlen) {
    tokenizer *t = b->t;
    if (id >= t->n) {
        tok_err(err, errlen, "tokenizer: token id %u out of range (vocabulary size %u)", id, t->n);
        return false;
    }
    if (b->seen[id]) {
        tok_err(err, errlen, "tokenizer: token %u given twice", id);
        return false;
    }
    char empty[32];
    if (len == 0) {   /* llama.cpp's stand-in, so such files load the same */
        len = (size_t)snprintf(empty, sizeof empty, "[EMPTY_%u]", id);
        text = empty;
    }
    if (type < 0 || type > TOK_TYPE_BYTE) {
        tok_err(err, errlen, "tokenizer: token %u has unknown type %d", id, (int)type);
        return false;
    }
    if (len > UINT32_MAX || b->pool.n + len > UINT32_MAX) {
        tok_err(err, errlen, "tokenizer: token %u: vocabulary text too large", id);
        return false;
    }
    t->text_off[id] = (uint32_t)b->pool.n;
    t->text_len[id] = (uint32_t)len;
    if (!tok_bytes_put(&b->pool, text, len)) {
        tok_err(err, errlen, "tokenizer: out of memory at token %u", id);
        return false;
    }
    t->score[id] = score;
    t->type[id] = (uint8_t)type;
    b->seen[id] = 1;
    return true;
}

bool tok_builder_merge(tok_builder *b, const char *text, size_t len, char *err, size_t errlen) {
    size_t idx = b->moff.n;
    const char *sp = len > 1 ? memchr(text + 1, ' ', len - 1) : NULL;
    if (!sp || sp == text + len - 1) {
        tok_err(err, errlen, "tokenizer: merge %zu is not 'left right' (%zu bytes)", idx, len);
        return false;
    }
    if (b->mpool.n + len > UINT32_MAX || idx >= INT32_MAX) {
        tok_err(err, errlen, "tokenizer: merge %zu: merge table too large", idx);
        return false;
    }
    if (!tok_u32_push(&b->moff, (uint32_t)b->mpool.n) || !tok_u32_push(&b->mlen, (uint32_t)len) ||
        !tok_u32_push(&b->msplit, (uint32_t)(sp - text)) || !tok_bytes_put(&b->mpool, text, len)) {
        tok_err(err, errlen, "tokenizer: out of memory at merge %zu", idx);
        return false;
    }
    return true;
}

/* ---- Lookups ------------------------------------------------------------ */

int32_t tok_lookup(const tokenizer *t, const char *s, size_t n) {
    return tok_lookup_hashed(t, s, n, tok_hash_step(TOK_HASH_SEED, (const uint8_t *)s, n));
}

int32_t tok_lookup_hashed(const tokenizer *t, const char *s, size_t n, uint64_t h) {
    uint64_t tag = TOK_SLOT_TAG(h);
    for (uint32_t i = (uint32_t)h & t->by_text.mask;; i = (i + 1) & t->by_text.mask) {
        uint64_t v = t->by_text.slot[i];
        if (v == 0) return -1;
        if (TOK_SLOT_TAG(v) != tag) continue;
        uint32_t id = TOK_SLOT_IDX(v);
        if (t->text_len[id] == n && tok_bytes_eq(tok_text_ptr(t, id), s, n)) return (int32_t)id;
    }
}

int32_t tok_merge_rank(const tokenizer *t, const char *a, size_t na, const char *b, size_t nb) {
    if (!t->n_merges) return -1;
    uint64_t h = tok_hash_step(TOK_HASH_SEED, (const uint8_t *)a, na);
    h = tok_hash_step(h, (const uint8_t *)" ", 1);
    h = tok_hash_step(h, (const uint8_t *)b, nb);
    uint64_t tag = TOK_SLOT_TAG(h);
    for (uint32_t i = (uint32_t)h & t->merges.mask;; i = (i + 1) & t->merges.mask) {
        uint64_t v = t->merges.slot[i];
        if (v == 0) return -1;
        if (TOK_SLOT_TAG(v) != tag) continue;
        uint32_t r = TOK_SLOT_IDX(v);
        const char *m = t->merge_pool + t->merge_off[r];
        uint32_t sl = t->merge_split[r];
        if (sl == na && t->merge_len[r] - sl - 1 == nb && tok_bytes_eq(m, a, na) &&
            tok_bytes_eq(m + sl + 1, b, nb))
            return (int32_t)r;
    }
}

/* ---- Finishing ---------------------------------------------------------- */

/* Resolves a special id: unset -> default, -1/0xFFFFFFFF -> none. */
static bool special_id(const char *what, int64_t v, int32_t dflt, uint32_t n, int32_t *out,
                       char *err, size_t errlen) {
    if (v == TOK_UNSET) { *out = dflt < (int64_t)n ? dflt : -1; return true; }
    if (v == -1 || v == 0xFFFFFFFFLL) { *out = -1; return true; }
    if (v < 0 || v >= (int64_t)n) {
        tok_err(err, errlen, "tokenizer: %s token id %lld out of range (vocabulary size %u)",
                what, (long long)v, n);
        return false;
    }
    *out = (int32_t)v;
    return true;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Appends the decoded bytes of token id to pool (see tok_piece).
 * 0: done; -1: out of memory; -2: malformed token (err set). */
static int make_piece(const tokenizer *t, uint32_t id, const char *txt, tok_bytes *pool,
                       char *err, size_t errlen) {
    size_t n = t->text_len[id];
    int type = t->type[id];
    if (type == TOK_TYPE_CONTROL || type == TOK_TYPE_UNKNOWN || type == TOK_TYPE_USER_DEFINED)
        return tok_bytes_put(pool, txt, n) ? 0 : -1;
    if (t->model == TOK_MODEL_SPM) {
        if (type == TOK_TYPE_BYTE) {
            int hi = n == 6 ? hexval(txt[3]) : -1, lo = n == 6 ? hexval(txt[4]) : -1;
            if (n != 6 || memcmp(txt, "<0x", 3) != 0 || txt[5] != '>' || hi < 0 || lo < 0) {
                tok_err(err, errlen, "tokenizer: token %u has type BYTE but its text is not <0xNN>", id);
                return -2;
            }
            uint8_t byte = (uint8_t)(hi * 16 + lo);
            return tok_bytes_put(pool, &byte, 1) ? 0 : -1;
        }
        if (type != TOK_TYPE_NORMAL) return 0;        /* unused/undefined: no text */
        for (size_t i = 0; i < n; i++) {
            bool mark = i + 2 < n && memcmp(txt + i, "\xE2\x96\x81", 3) == 0;
            if (!tok_bytes_put(pool, mark ? " " : txt + i, 1)) return -1;
            if (mark) i += 2;
        }
        return 0;
    }
    if (type != TOK_TYPE_NORMAL) return 0;
    /* Byte-level: every character stands for one byte; a character outside
     * the map is kept as it is. */
    uint32_t cps[8];
    for (size_t i = 0; i < n;) {
        size_t l = tok_utf8_len((uint8_t)txt[i]);
        if (l > n - i) l = n - i;
        size_t k = tok_utf8_to_cps((const uint8_t *)txt + i, l, cps);
        int byte = k == 1 ? tok_cp_to_byte(cps[0]) : -1;
        uint8_t c = (uint8_t)byte;
        if (!(byte >= 0 ? tok_bytes_put(pool, &c, 1) : tok_bytes_put(pool, txt + i, l))) return -1;
        i += l;
    }
    return 0;
}

/* What tok_encode needs to find which special texts occur in one pass:
 * their first bytes, their distinct lengths and a text -> index table. */
static int index_specials(tokenizer *t) {
    if (!tok_table_init(&t->special_by_text, t->n_special)) return -1;
    t->special_lens = malloc((t->n_special ? t->n_special : 1) * sizeof *t->special_lens);
    t->special_canon = malloc((t->n_special ? t->n_special : 1) * sizeof *t->special_canon);
    if (!t->special_lens || !t->special_canon) return -1;
    for (uint32_t k = t->n_special; k-- > 0;) {      /* shortest first */
        uint32_t id = (uint32_t)t->special[k], n = t->text_len[id];
        const char *s = tok_text_ptr(t, id);
        t->special_first[(uint8_t)s[0]] = 1;
        if (t->n_special_lens == 0 || t->special_lens[t->n_special_lens - 1] != n)
            t->special_lens[t->n_special_lens++] = n;
    }
    for (uint32_t k = 0; k < t->n_special; k++) {
        uint32_t id = (uint32_t)t->special[k], n = t->text_len[id];
        const char *s = tok_text_ptr(t, id);
        uint64_t h = tok_hash_step(TOK_HASH_SEED, (const uint8_t *)s, n);
        uint32_t i = (uint32_t)h & t->special_by_text.mask, probes = 0;
        bool dup = false;
        for (;; i = (i + 1) & t->special_by_text.mask) {
            uint64_t v = t->special_by_text.slot[i];
            if (v == 0) break;
            if (++probes > MAX_PROBE) return -2;
            uint32_t o = (uint32_t)t->special[TOK_SLOT_IDX(v)];
            if (t->text_len[o] == n && memcmp(tok_text_ptr(t, o), s, n) == 0) { dup = true; break; }
        }
        if (!dup) t->special_by_text.slot[i] = TOK_SLOT(h, k);   /* the first in order stays */
        t->special_canon[k] = dup ? TOK_SLOT_IDX(t->special_by_text.slot[i]) : k;
    }
    return runs_short(&t->special_by_text) ? 0 : -2;
}

int32_t tok_special_lookup(const tokenizer *t, const char *s, size_t n) {
    uint64_t h = tok_hash_step(TOK_HASH_SEED, (const uint8_t *)s, n), tag = TOK_SLOT_TAG(h);
    for (uint32_t i = (uint32_t)h & t->special_by_text.mask;; i = (i + 1) & t->special_by_text.mask) {
        uint64_t v = t->special_by_text.slot[i];
        if (v == 0) return -1;
        if (TOK_SLOT_TAG(v) != tag) continue;
        uint32_t k = TOK_SLOT_IDX(v), id = (uint32_t)t->special[k];
        if (t->text_len[id] == n && memcmp(tok_text_ptr(t, id), s, n) == 0) return (int32_t)k;
    }
}

static bool contains_ci(const char *s, size_t n, const char *needle) {
    size_t m = strlen(needle);
    for (size_t i = 0; s && i + m <= n; i++) {
        size_t k = 0;
        while (k < m && (s[i + k] >= 'A' && s[i + k] <= 'Z' ? s[i + k] + 32 : s[i + k]) == needle[k]) k++;
        if (k == m) return true;
    }
    return false;
}

static void set_strip(tokenizer *t, const char *text, uint8_t bit, bool on) {
    int32_t id = tok_lookup(t, text, strlen(text));
    if (id < 0) return;
    t->strip[id] = (uint8_t)(on ? t->strip[id] | bit : t->strip[id] & ~bit);
}

/* Whitespace-swallowing special tokens. The GGUF does not say; llama.cpp
 * decides by tokenizer.ggml.pre and general.name (facts from its source),
 * and Phi-3's chat prompts tokenize differently without it. */
static void strip_rules(tokenizer *t, const tok_spec *sp) {
    if (contains_ci(sp->pre, sp->pre_len, "jina-v2-de") || contains_ci(sp->pre, sp->pre_len, "jina-v2-es") ||
        contains_ci(sp->pre, sp->pre_len, "jina-v2-code")) {
        set_strip(t, "<mask>", TOK_LSTRIP, true);
    } else if (contains_ci(sp->name, sp->name_len, "phi-3") || contains_ci(sp->name, sp->name_len, "phi3")) {
        for (uint32_t k = 0; k < t->n_special; k++) t->strip[t->special[k]] |= TOK_RSTRIP;
        set_strip(t, "</s>", TOK_RSTRIP, true);
        set_strip(t, "<unk>", TOK_RSTRIP, false);
        set_strip(t, "<s>", TOK_RSTRIP, false);
        set_strip(t, "<|endoftext|>", TOK_RSTRIP, false);
    }
}

static int cmp_special(const void *a, const void *b) {
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int insert_tokens(tokenizer *t) {
    if (!tok_table_init(&t->by_text, t->n)) return -1;
    for (uint32_t id = 0; id < t->n; id++) {
        const char *s = tok_text_ptr(t, id);
        size_t n = t->text_len[id];
        uint64_t h = tok_hash_step(TOK_HASH_SEED, (const uint8_t *)s, n);
        uint32_t i = (uint32_t)h & t->by_text.mask, probes = 0;
        for (;; i = (i + 1) & t->by_text.mask) {
            uint64_t v = t->by_text.slot[i];
            if (v == 0) break;
            if (++probes > MAX_PROBE) return -2;
            uint32_t o = TOK_SLOT_IDX(v);
            if (TOK_SLOT_TAG(v) == TOK_SLOT_TAG(h) && t->text_len[o] == n &&
                memcmp(tok_text_ptr(t, o), s, n) == 0)
                break;
        }
        t->by_text.slot[i] = TOK_SLOT(h, id);     /* a later duplicate replaces */
    }
    return runs_short(&t->by_text) ? 0 : -2;
}

static int insert_merges(tokenizer *t) {
    if (!tok_table_init(&t->merges, t->n_merges)) return -1;
    for (uint32_t r = 0; r < t->n_merges; r++) {
        const char *m = t->merge_pool + t->merge_off[r];
        uint32_t len = t->merge_len[r];
        uint64_t h = tok_hash_step(TOK_HASH_SEED, (const uint8_t *)m, len);
        uint32_t i = (uint32_t)h & t->merges.mask, probes = 0;
        bool dup = false;
        for (;; i = (i + 1) & t->merges.mask) {
            uint64_t v = t->merges.slot[i];
            if (v == 0) break;
            if (++probes > MAX_PROBE) return -2;
            uint32_t o = TOK_SLOT_IDX(v);
            if (TOK_SLOT_TAG(v) == TOK_SLOT_TAG(h) && t->merge_len[o] == len &&
                t->merge_split[o] == t->merge_split[r] &&
                memcmp(t->merge_pool + t->merge_off[o], m, len) == 0) { dup = true; break; }
        }
        if (!dup) t->merges.slot[i] = TOK_SLOT(h, r);   /* the first (lowest rank) stays */
    }
    return runs_short(&t->merges) ? 0 : -2;
}

tokenizer *tok_builder_finish(tok_builder *b, char *err, size_t errlen) {
    tokenizer *t = b->t;
    const tok_spec *sp = &b->spec;
    for (uint32_t id = 0; id < t->n; id++) {
        if (!b->seen[id]) {
            tok_err(err, errlen, "tokenizer: token %u missing", id);
            goto fail;
        }
    }
    if (t->model == TOK_MODEL_BPE && b->moff.n == 0) {
        tok_err(err, errlen, "tokenizer: byte-level BPE needs merges (tokenizer.ggml.merges)");
        goto fail;
    }
    bool spm = t->model == TOK_MODEL_SPM;
    if (!special_id("BOS", sp->bos, spm ? 1 : -1, t->n, &t->bos, err, errlen) ||
        !special_id("EOS", sp->eos, spm ? 2 : -1, t->n, &t->eos, err, errlen) ||
        !special_id("UNK", sp->unk, spm ? 0 : -1, t->n, &t->unk, err, errlen) ||
        !special_id("PAD", sp->pad, -1, t->n, &t->pad, err, errlen))
        goto fail;
    t->add_bos = sp->add_bos >= 0 ? sp->add_bos : (spm || (b->pre && b->pre->add_bos));
    t->add_eos = sp->add_eos >= 0 ? sp->add_eos : false;
    t->add_space_prefix = spm && (sp->add_space_prefix >= 0 ? sp->add_space_prefix : true);
    t->ignore_merges = b->pre && b->pre->ignore_merges;

    /* Pieces go into the same pool after all texts. */
    for (uint32_t id = 0; id < t->n; id++) {
        size_t start = b->pool.n;
        /* Copy the text first: pool->v may move while the piece grows. */
        char small[64];
        size_t n = t->text_len[id];
        char *txt = n <= sizeof small ? small : malloc(n);
        if (!txt) goto oom;
        memcpy(txt, b->pool.v + t->text_off[id], n);
        int r = make_piece(t, id, txt, &b->pool, err, errlen);
        if (txt != small) free(txt);
        if (r == -2) goto fail;
        if (r < 0) goto oom;
        if (b->pool.n > UINT32_MAX) goto oom;
        t->piece_off[id] = (uint32_t)start;
        t->piece_len[id] = (uint32_t)(b->pool.n - start);
    }
    t->pool = (char *)b->pool.v;
    b->pool.v = NULL;
    t->merge_pool = (char *)b->mpool.v;
    b->mpool.v = NULL;
    t->merge_off = b->moff.v; b->moff.v = NULL;
    t->merge_len = b->mlen.v; b->mlen.v = NULL;
    t->merge_split = b->msplit.v; b->msplit.v = NULL;
    t->n_merges = (uint32_t)b->moff.n;
    int r1 = insert_tokens(t), r2 = r1 ? r1 : insert_merges(t);
    if (r1 == -2 || r2 == -2) {
        tok_err(err, errlen, "tokenizer: %s hash into one cluster (a crafted file?); refused",
                r1 == -2 ? "token texts" : "merges");
        goto fail;
    }
    if (r1 || r2) goto oom;
    if (!spm && !tok_bpe_prepare(t)) goto oom;

    for (int c = 0; c < 256; c++) {
        char hex[7];
        snprintf(hex, sizeof hex, "<0x%02X>", c);
        char raw = (char)c;
        int32_t id = spm ? tok_lookup(t, hex, 6) : -1;
        if (spm && id < 0) id = tok_lookup(t, &raw, 1);
        t->byte_token[c] = id;
    }

    /* Special tokens, longest text first, then by id (llama.cpp's order). */
    uint32_t ns = 0;
    for (uint32_t id = 0; id < t->n; id++) {
        int ty = t->type[id];
        ns += ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_USER_DEFINED || ty == TOK_TYPE_UNKNOWN;
    }
    uint64_t *order = malloc((ns ? ns : 1) * sizeof *order);
    t->special = malloc((ns ? ns : 1) * sizeof *t->special);
    if (!order || !t->special) { free(order); goto oom; }
    ns = 0;
    for (uint32_t id = 0; id < t->n; id++) {
        int ty = t->type[id];
        if (ty == TOK_TYPE_CONTROL || ty == TOK_TYPE_USER_DEFINED || ty == TOK_TYPE_UNKNOWN)
            order[ns++] = ((uint64_t)(UINT32_MAX - t->text_len[id]) << 32) | id;
    }
    qsort(order, ns, sizeof *order, cmp_special);
    for (uint32_t i = 0; i < ns; i++) t->special[i] = (int32_t)(order[i] & 0xFFFFFFFFu);
    t->n_special = ns;
    free(order);
    int r3 = index_specials(t);
    if (r3 == -2) {
        tok_err(err, errlen, "tokenizer: special token texts hash into one cluster (a crafted file?); refused");
        goto fail;
    }
    if (r3) goto oom;
    strip_rules(t, sp);

    b->t = NULL;
    tok_builder_free(b);
    return t;
oom:
    tok_err(err, errlen, "tokenizer: out of memory");
fail:
    tok_builder_free(b);
    return NULL;
}

/* ---- Properties --------------------------------------------------------- */
tok_model tok_get_model(const tokenizer *t) { return t->model; }
const char *tok_pre_name(const tokenizer *t) { return tok_pre_canonical(t->pre); }
uint32_t tok_n_vocab(const tokenizer *t) { return t->n; }
int32_t tok_bos(const tokenizer *t) { return t->bos; }
int32_t tok_eos(const tokenizer *t) { return t->eos; }
int32_t tok_unk(const tokenizer *t) { return t->unk; }
int32_t tok_pad(const tokenizer *t) { return t->pad; }
bool tok_adds_bos(const tokenizer *t) { return t->add_bos; }
bool tok_adds_eos(const tokenizer *t) { return t->add_eos; }
int tok_token_type(const tokenizer *t, int32_t id) {
    return id >= 0 && (uint32_t)id < t->n ? t->type[id] : 0;
}
float tok_score(const tokenizer *t, int32_t id) {
    return id >= 0 && (uint32_t)id < t->n ? t->score[id] : 0.0f;
}
const char *tok_text(const tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || (uint32_t)id >= t->n) return NULL;
    *len = t->text_len[id];
    return tok_text_ptr(t, (uint32_t)id);
}
int32_t tok_find(const tokenizer *t, const char *text, size_t len) { return tok_lookup(t, text, len); }
