/* tok_internal.h: what the tok_*.c files share; not part of the SDK API.
 *
 * The tokenizer owns one string pool holding every token's vocabulary text
 * and decoded piece, a hash table from text to id, and (BPE) a pool of merge
 * strings with a hash table from "left right" to rank. Nothing is quadratic
 * in the vocabulary size.
 */
#ifndef WASMLET_TOK_INTERNAL_H
#define WASMLET_TOK_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tokenizer.h"

/* ---- Unicode (tok_unicode.c, tables generated into tok_unicode_tables.c) */
enum {
    TOK_U_L = 1, TOK_U_N = 2, TOK_U_P = 4, TOK_U_S = 8,
    TOK_U_M = 16, TOK_U_C = 32, TOK_U_Z = 64, TOK_U_WS = 128, /* White_Space */
};
extern const uint32_t tok_urange_start[];
extern const uint8_t tok_urange_flags[];
extern const size_t tok_urange_count;
extern const uint8_t tok_ulatin1[256];

uint8_t tok_uflags(uint32_t cp);
/* Decode text into code points the way llama.cpp does before
 * pre-tokenizing: each byte that does not start a well-formed (leniently
 * checked) sequence becomes U+FFFD. Returns the count written to cps,
 * which must hold len entries. */
size_t tok_utf8_to_cps(const uint8_t *s, size_t len, uint32_t *cps);
/* Encode one code point; returns its length (1..4). */
size_t tok_cp_to_utf8(uint32_t cp, uint8_t *out);
/* Length of the UTF-8 sequence a lead byte announces (1 for stray bytes). */
static inline size_t tok_utf8_len(uint8_t b) {
    static const uint8_t len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    return len[b >> 4];
}

/* ---- Growable arrays ---------------------------------------------------- */
typedef struct { uint32_t *v; size_t n, cap; } tok_u32vec;
bool tok_u32_push(tok_u32vec *a, uint32_t x);
typedef struct { uint8_t *v; size_t n, cap; } tok_bytes;
bool tok_bytes_put(tok_bytes *b, const void *p, size_t n);
bool tok_ids_push(tok_ids *v, int32_t id);

/* ---- Hashing ------------------------------------------------------------ */
static inline uint64_t tok_hash_step(uint64_t h, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}
#define TOK_HASH_SEED 0xcbf29ce484222325ULL

/* Equality of short byte strings without a library call (token texts are a
 * few bytes; memcmp's call overhead dominated lookups). */
static inline bool tok_bytes_eq(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* Open addressing; a slot holds the hash's high half (so most misses
 * never touch the strings) and index+1 in the low half (0 = empty). */
typedef struct { uint64_t *slot; uint32_t mask; } tok_table;
#define TOK_SLOT(h, idx) (((h) & 0xFFFFFFFF00000000ULL) | ((uint64_t)(idx) + 1))
#define TOK_SLOT_IDX(v) ((uint32_t)(v) - 1)
#define TOK_SLOT_TAG(v) ((v) & 0xFFFFFFFF00000000ULL)
bool tok_table_init(tok_table *t, size_t n_items);

/* ---- Pre-tokenizers (tok_pretok.c) -------------------------------------- */
typedef enum {
    TOK_PRE_NONE = 0,          /* SPM: no pre-tokenizer */
    TOK_PRE_DEFAULT, TOK_PRE_GPT2, TOK_PRE_LLAMA3, TOK_PRE_QWEN2,
    TOK_PRE_DEEPSEEK_LLM, TOK_PRE_DEEPSEEK_CODER, TOK_PRE_FALCON,
    TOK_PRE_STARCODER, TOK_PRE_PORO, TOK_PRE_VIKING, TOK_PRE_TEKKEN, TOK_PRE_GPT4O,
    TOK_PRE_DEEPSEEK3, TOK_PRE_SEED_CODER,
} tok_pre;
typedef struct {
    const char *name;          /* tokenizer.ggml.pre value */
    tok_pre pre;
    bool ignore_merges;        /* whole word in the vocabulary -> one token */
    bool add_bos;              /* default for add_bos_token */
} tok_pre_info;
/* NULL for a name we do not know. */
const tok_pre_info *tok_pre_find(const char *name, size_t len);
const char *tok_pre_canonical(tok_pre pre);
/* Split cps[0..n) into words; appends each word's length in code points to
 * lens (tmp is scratch). False on out of memory. */
bool tok_pretok_split(tok_pre pre, const uint32_t *cps, size_t n, tok_u32vec *lens,
                      tok_u32vec *tmp);

/* ---- The tokenizer ------------------------------------------------------ */
struct tokenizer {
    tok_model model;
    tok_pre pre;
    uint32_t n;
    char *pool;                       /* texts and pieces */
    uint32_t *text_off, *text_len;    /* vocabulary text in pool */
    uint32_t *piece_off, *piece_len;  /* decoded bytes in pool */
    float *score;
    uint8_t *type;
    uint8_t *strip;                   /* TOK_LSTRIP/TOK_RSTRIP per token */
    tok_table by_text;                /* text -> id; the last duplicate wins */

    char *merge_pool;                 /* "left right" strings, rank order */
    uint32_t *merge_off, *merge_len, *merge_split;  /* split = left length */
    uint32_t n_merges;
    tok_table merges;                 /* first duplicate wins */
    /* Merges as token-id pairs, when every merge's parts and result are
     * tokens (all real vocabularies): (left id, right id) -> rank, with the
     * result id per rank. Then BPE runs on ids, no strings. */
    bool pair_mode;
    tok_table pairs;
    int32_t *pair_left, *pair_right, *pair_result;   /* by rank; -1: never fires */
    int32_t byte_char_token[256];     /* token of GPT-2's character for each byte */

    int32_t bos, eos, unk, pad;
    bool add_bos, add_eos, add_space_prefix, ignore_merges;
    int32_t byte_token[256];          /* SPM byte fallback (-1: none) */
    int32_t *special;                 /* control/user-defined/unknown, longest first */
    uint32_t n_special;
    tok_table special_by_text;        /* text -> index into special (the first) */
    uint32_t *special_canon;          /* index of the first special with the same text */
    uint32_t *special_lens;           /* the distinct text lengths, ascending */
    uint32_t n_special_lens;
    uint8_t special_first[256];       /* bytes a special text can start with */
};
/* Whitespace a special token swallows on its left/right when split out
 * (llama.cpp sets these by model name; see tok_vocab.c). */
enum { TOK_LSTRIP = 1, TOK_RSTRIP = 2 };
/* Index into t->special of the special token with exactly this text, or -1. */
int32_t tok_special_lookup(const tokenizer *t, const char *s, size_t n);

static inline const char *tok_text_ptr(const tokenizer *t, uint32_t id) {
    return t->pool + t->text_off[id];
}
/* Token id of an exact text, or -1. The _hashed form takes the text's
 * hash (tok_hash_step from TOK_HASH_SEED), which callers can extend
 * symbol by symbol since FNV-1a is a left fold. */
int32_t tok_lookup(const tokenizer *t, const char *s, size_t n);
int32_t tok_lookup_hashed(const tokenizer *t, const char *s, size_t n, uint64_t h);
/* Rank of the merge (a, b), or -1. */
int32_t tok_merge_rank(const tokenizer *t, const char *a, size_t na, const char *b, size_t nb);

/* Scratch memory reused across the fragments of one tok_encode call. */
typedef struct {
    void *sym; size_t sym_cap;
    void *heap; size_t heap_cap;
    uint64_t *hash; size_t hash_cap;  /* SPM: each symbol's text hash */
    uint32_t *cps; size_t cps_cap;
    tok_u32vec lens, tmp;
    tok_bytes word, raw;
} tok_scratch;
void tok_scratch_free(tok_scratch *s);

bool tok_spm_encode(const tokenizer *t, const char *text, size_t len, bool space_prefix,
                    tok_scratch *sc, tok_ids *out);
bool tok_bpe_encode(const tokenizer *t, const char *text, size_t len, tok_scratch *sc, tok_ids *out);

/* Builds the pair tables (BPE); false on out of memory. */
bool tok_bpe_prepare(tokenizer *t);
void tok_bpe_free(tokenizer *t);

/* GPT-2's byte <-> character map (tok_bpe.c). */
uint32_t tok_byte_to_cp(uint8_t b);
int tok_cp_to_byte(uint32_t cp);      /* -1 when cp is not a mapped byte */

/* Symbols and the merge queue shared by the SPM and BPE merge loops. */
typedef struct { int32_t prev, next; uint32_t start, n; int32_t id; } tok_sym;
/* A queued merge: key orders the queue (its low half is the left symbol);
 * the right symbol is the left one's next when the entry is still valid. */
typedef struct { uint64_t key; uint32_t size; } tok_bigram;
static inline int32_t tok_bigram_left(tok_bigram b) { return (int32_t)(uint32_t)b.key; }
bool tok_heap_push(tok_scratch *sc, size_t *n, tok_bigram b);
tok_bigram tok_heap_pop(tok_scratch *sc, size_t *n);
bool tok_reserve(void **p, size_t *cap, size_t need, size_t elem);

void tok_err(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
