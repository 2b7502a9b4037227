/* tok_pretok.c: the byte-level BPE pre-tokenizers, selected by
 * tokenizer.ggml.pre.
 *
 * Each variant is the list of regular expressions llama.cpp applies in turn
 * (every expression splits each piece the previous ones produced; both the
 * matches and the text between them become pieces). We implement each
 * expression as a hand-written matcher with the regex's leftmost-first,
 * backtracking semantics, over our generated Unicode tables: \p{L}, \p{N},
 * \p{P} are the general categories, \s is the White_Space property.
 * Expressions without \p{..} that llama.cpp runs through std::wregex see
 * non-ASCII whitespace as U+000B; cls() reproduces that for their explicit
 * character classes. The expressions themselves are in docs/tokenizer.md.
 */
#include <string.h>

#include "tok_internal.h"

typedef size_t (*matcher)(const uint32_t *c, size_t pos, size_t end);

static inline uint8_t fl(const uint32_t *c, size_t i, size_t end) {
    return i < end ? tok_uflags(c[i]) : 0;
}
static inline bool is_ws(uint8_t f) { return f & TOK_U_WS; }
static inline bool is_l(uint8_t f) { return f & TOK_U_L; }
static inline bool is_n(uint8_t f) { return f & TOK_U_N; }
/* [^\s\p{L}\p{N}]; positions past the piece never match. */
static inline bool is_other(const uint32_t *c, size_t i, size_t end) {
    return i < end && !(tok_uflags(c[i]) & (TOK_U_WS | TOK_U_L | TOK_U_N));
}
static inline uint32_t cls(uint32_t cp) {
    return cp > 0x7F && (tok_uflags(cp) & TOK_U_WS) ? 0x0B : cp;
}
static inline uint32_t lower_ascii(uint32_t cp) {
    return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
}

static size_t run(const uint32_t *c, size_t i, size_t end, uint8_t mask) {
    size_t s = i;
    while (i < end && (tok_uflags(c[i]) & mask)) i++;
    return i - s;
}
static size_t run_other(const uint32_t *c, size_t i, size_t end) {
    size_t s = i;
    while (is_other(c, i, end)) i++;
    return i - s;
}

/* 's|'t|'re|'ve|'m|'ll|'d, optionally case-insensitive (the generator
 * checks that no non-ASCII letter lower-cases to one of these letters). */
static size_t contraction(const uint32_t *c, size_t pos, size_t end, bool icase) {
    if (c[pos] != '\'' || pos + 1 >= end) return 0;
    uint32_t a = icase ? lower_ascii(c[pos + 1]) : c[pos + 1];
    if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
    if (pos + 2 >= end) return 0;
    uint32_t b = icase ? lower_ascii(c[pos + 2]) : c[pos + 2];
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
    return 0;
}

/* \s+(?!\S): the whole run at the end of the piece, else all but its last
 * character (which then starts the next match); 0 if that leaves nothing. */
static size_t ws_not_before_nonws(const uint32_t *c, size_t pos, size_t end) {
    size_t k = run(c, pos, end, TOK_U_WS);
    if (k == 0) return 0;
    if (pos + k == end) return k;
    return k > 1 ? k - 1 : 0;
}

/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
static size_t m_gpt2(const uint32_t *c, size_t pos, size_t end) {
    size_t k = contraction(c, pos, end, false);
    if (k) return k;
    size_t sp = c[pos] == ' ';
    if (is_l(fl(c, pos + sp, end))) return sp + run(c, pos + sp, end, TOK_U_L);
    if (is_n(fl(c, pos + sp, end))) return sp + run(c, pos + sp, end, TOK_U_N);
    if (is_other(c, pos + sp, end)) return sp + run_other(c, pos + sp, end);
    return ws_not_before_nonws(c, pos, end);
}

/* \s*[\r\n]+|\s+(?!\S)|\s+ : the whitespace tail of the llama3 family. */
static size_t ws_tail(const uint32_t *c, size_t pos, size_t end) {
    size_t k = run(c, pos, end, TOK_U_WS);
    for (size_t i = pos + k; i > pos; i--)   /* \s*[\r\n]+: up to the last CR/LF */
        if (c[i - 1] == '\r' || c[i - 1] == '\n') return i - pos;
    size_t w = ws_not_before_nonws(c, pos, end);
    return w ? w : k;
}

/*  ?[^\s\p{L}\p{N}]+ followed by any of `tail` (a NUL-terminated ASCII set). */
static size_t other_run_tail(const uint32_t *c, size_t pos, size_t end, const char *tail) {
    size_t sp = c[pos] == ' ';
    if (!is_other(c, pos + sp, end)) return 0;
    size_t i = pos + sp + run_other(c, pos + sp, end);
    while (i < end && c[i] < 0x80 && c[i] && strchr(tail, (int)c[i])) i++;
    return i - pos;
}

/* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,D}|
 *  ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+   (llama3: D=3, qwen2: D=1;
 * seed-coder: D=1 and no [\r\n]* after the symbols) */
static size_t m_llama3_like(const uint32_t *c, size_t pos, size_t end, size_t max_digits, const char *tail) {
    size_t k = contraction(c, pos, end, true);
    if (k) return k;
    uint32_t cp = c[pos];
    uint8_t f = tok_uflags(cp);
    if (is_l(f)) return run(c, pos, end, TOK_U_L);
    if (cp != '\r' && cp != '\n' && !is_n(f) && is_l(fl(c, pos + 1, end)))
        return 1 + run(c, pos + 1, end, TOK_U_L);
    if (is_n(f)) {
        k = run(c, pos, end, TOK_U_N);
        return k < max_digits ? k : max_digits;
    }
    k = other_run_tail(c, pos, end, tail);
    return k ? k : ws_tail(c, pos, end);
}
static size_t m_llama3(const uint32_t *c, size_t pos, size_t end) { return m_llama3_like(c, pos, end, 3, "\r\n"); }
static size_t m_qwen2(const uint32_t *c, size_t pos, size_t end) { return m_llama3_like(c, pos, end, 1, "\r\n"); }
static size_t m_seed_coder(const uint32_t *c, size_t pos, size_t end) { return m_llama3_like(c, pos, end, 1, ""); }

/* tekken and gpt-4o: llama.cpp runs [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] as "a letter
 * but not a-z" and [\p{Ll}\p{Lm}\p{Lo}\p{M}] as "a letter but not A-Z" (so any
 * non-ASCII letter is both); we do the same. */
static inline bool upperish(uint32_t cp) { return (tok_uflags(cp) & TOK_U_L) && !(cp >= 'a' && cp <= 'z'); }
static inline bool lowerish(uint32_t cp) { return (tok_uflags(cp) & TOK_U_L) && !(cp >= 'A' && cp <= 'Z'); }

/* U*L+ with backtracking: the longest run of U whose next character is L. */
static size_t upper_star_lower_plus(const uint32_t *c, size_t i, size_t end) {
    size_t kmax = 0;
    while (i + kmax < end && upperish(c[i + kmax])) kmax++;
    for (size_t k = kmax + 1; k-- > 0;) {
        if (i + k < end && lowerish(c[i + k])) {
            size_t j = i + k;
            while (j < end && lowerish(c[j])) j++;
            return j - i;
        }
    }
    return 0;
}
/* U+L* */
static size_t upper_plus_lower_star(const uint32_t *c, size_t i, size_t end) {
    size_t j = i;
    while (j < end && upperish(c[j])) j++;
    if (j == i) return 0;
    while (j < end && lowerish(c[j])) j++;
    return j - i;
}
/* [^\r\n\p{L}\p{N}]?X : the optional character is never a letter, so a
 * letter at pos must start X itself. */
static size_t opt_prefix(size_t (*x)(const uint32_t *, size_t, size_t), const uint32_t *c, size_t pos, size_t end) {
    uint8_t f = tok_uflags(c[pos]);
    if (is_l(f)) return x(c, pos, end);
    if (c[pos] == '\r' || c[pos] == '\n' || is_n(f) || pos + 1 >= end) return 0;
    size_t k = x(c, pos + 1, end);
    return k ? k + 1 : 0;
}
static size_t m_tekken_like(const uint32_t *c, size_t pos, size_t end, size_t max_digits, bool suffix) {
    size_t k = opt_prefix(upper_star_lower_plus, c, pos, end);
    if (!k) k = opt_prefix(upper_plus_lower_star, c, pos, end);
    if (k) return suffix ? k + contraction(c, pos + k, end, true) : k;
    if (is_n(tok_uflags(c[pos]))) {
        k = run(c, pos, end, TOK_U_N);
        return k < max_digits ? k : max_digits;
    }
    k = other_run_tail(c, pos, end, "\r\n/");
    return k ? k : ws_tail(c, pos, end);
}
/* [^\r\n\p{L}\p{N}]?U*L+|[^\r\n\p{L}\p{N}]?U+L*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|
 * \s*[\r\n]+|\s+(?!\S)|\s+ */
static size_t m_tekken(const uint32_t *c, size_t pos, size_t end) { return m_tekken_like(c, pos, end, 1, false); }
/* The same with an optional (?i) contraction after each word and \p{N}{1,3}. */
static size_t m_gpt4o(const uint32_t *c, size_t pos, size_t end) { return m_tekken_like(c, pos, end, 3, true); }

/* deepseek-v3: [!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|
 * [^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static inline bool ascii_alpha(uint32_t cp) { return (cp | 32) >= 'a' && (cp | 32) <= 'z'; }
static size_t m_ds3(const uint32_t *c, size_t pos, size_t end) {
    uint32_t cp = c[pos];
    if ((cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
        (cp >= 0x7B && cp <= 0x7E)) {
        size_t i = pos + 1;
        while (i < end && ascii_alpha(c[i])) i++;
        if (i > pos + 1) return i - pos;
    }
    const uint8_t lm = TOK_U_L | TOK_U_M, ps = TOK_U_P | TOK_U_S;
    uint8_t f = tok_uflags(cp);
    if (f & lm) return run(c, pos, end, lm);
    if (cp != '\r' && cp != '\n' && !(f & (TOK_U_L | ps)) && (fl(c, pos + 1, end) & lm))
        return 1 + run(c, pos + 1, end, lm);
    size_t sp = cp == ' ';
    if (fl(c, pos + sp, end) & ps) {
        size_t i = pos + sp + run(c, pos + sp, end, ps);
        while (i < end && (c[i] == '\r' || c[i] == '\n')) i++;
        return i - pos;
    }
    return ws_tail(c, pos, end);
}
static size_t m_num3(const uint32_t *c, size_t pos, size_t end) {
    size_t k = run(c, pos, end, TOK_U_N);
    return k < 3 ? k : 3;
}

/* [\p{P}\$\+<=>\^~\|]+ and falcon's variant with ` added. */
static size_t punct_run(const uint32_t *c, size_t pos, size_t end, const char *extra) {
    size_t i = pos;
    while (i < end && ((tok_uflags(c[i]) & TOK_U_P) || (c[i] < 0x80 && c[i] && strchr(extra, (int)c[i]))))
        i++;
    return i - pos;
}
static size_t m_punct(const uint32_t *c, size_t pos, size_t end) { return punct_run(c, pos, end, "$+<=>^~|"); }
static size_t m_punct_falcon(const uint32_t *c, size_t pos, size_t end) { return punct_run(c, pos, end, "$+<=>^~|`"); }

static size_t m_num_run(const uint32_t *c, size_t pos, size_t end) { return run(c, pos, end, TOK_U_N); }
static size_t m_num1(const uint32_t *c, size_t pos, size_t end) { return is_n(fl(c, pos, end)) ? 1 : 0; }
/* [0-9][0-9][0-9] */
static size_t m_ascii3(const uint32_t *c, size_t pos, size_t end) {
    if (pos + 3 > end) return 0;
    for (size_t i = pos; i < pos + 3; i++)
        if (c[i] < '0' || c[i] > '9') return 0;
    return 3;
}
/* [\r\n] */
static size_t m_crlf1(const uint32_t *c, size_t pos, size_t end) {
    (void)end;
    return c[pos] == '\r' || c[pos] == '\n' ? 1 : 0;
}

typedef struct { uint32_t lo, hi; } range;
static bool in_ranges(uint32_t cp, const range *r, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (cp >= r[i].lo && cp <= r[i].hi) return true;
    return false;
}
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* deepseek-llm's letter class: the cased-letter ranges of its regex. */
static const range ds_letters[] = {
    {0x41, 0x5A}, {0x61, 0x7A}, {0xB5, 0xB5}, {0xC0, 0xD6}, {0xD8, 0xF6}, {0xF8, 0x1BA},
    {0x1BC, 0x1BF}, {0x1C4, 0x293}, {0x295, 0x2AF}, {0x370, 0x373}, {0x376, 0x377},
    {0x37B, 0x37D}, {0x37F, 0x37F}, {0x386, 0x386}, {0x388, 0x38A}, {0x38C, 0x38C},
    {0x38E, 0x3A1}, {0x3A3, 0x3F5}, {0x3F7, 0x481}, {0x48A, 0x52F}, {0x531, 0x556},
    {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF},
    {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15}, {0x1F18, 0x1F1D},
    {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B},
    {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE},
    {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC},
    {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107}, {0x210A, 0x2113},
    {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126}, {0x2128, 0x2128},
    {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F}, {0x2145, 0x2149},
    {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE},
    {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787},
    {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A},
    {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
    {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
static const range ds_punct[] = {
    {0x21, 0x2F}, {0x3A, 0x7E}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002},
};
static const range cjk[] = { {0x4E00, 0x9FA5}, {0x800, 0x4E00}, {0xAC00, 0xD7FF} };
static const range cjk_kana[] = { {0x4E00, 0x9FA5}, {0x3040, 0x309F}, {0x30A0, 0x30FF} };

/* \s?[CLASS]+ over explicit ranges (std::wregex view of the text). */
static size_t ws_opt_class(const uint32_t *c, size_t pos, size_t end, const range *r, size_t nr) {
    size_t i = pos;
    if (is_ws(tok_uflags(c[i])) && i + 1 < end && in_ranges(cls(c[i + 1]), r, nr)) i++;
    size_t s = i;
    while (i < end && in_ranges(cls(c[i]), r, nr)) i++;
    return i > s ? i - pos : 0;
}
static size_t m_ds_letters(const uint32_t *c, size_t pos, size_t end) {
    return ws_opt_class(c, pos, end, ds_letters, COUNT(ds_letters));
}
static size_t m_ds_punct(const uint32_t *c, size_t pos, size_t end) {
    return ws_opt_class(c, pos, end, ds_punct, COUNT(ds_punct));
}
/* \s+$ */
static size_t m_ws_at_end(const uint32_t *c, size_t pos, size_t end) {
    size_t k = run(c, pos, end, TOK_U_WS);
    return k && pos + k == end ? k : 0;
}
static size_t class_run(const uint32_t *c, size_t pos, size_t end, const range *r, size_t nr) {
    size_t i = pos;
    while (i < end && in_ranges(cls(c[i]), r, nr)) i++;
    return i - pos;
}
static size_t m_cjk(const uint32_t *c, size_t pos, size_t end) { return class_run(c, pos, end, cjk, COUNT(cjk)); }
static size_t m_cjk_kana(const uint32_t *c, size_t pos, size_t end) {
    return class_run(c, pos, end, cjk_kana, COUNT(cjk_kana));
}
/* \s?\p{L}+ and \s?\p{P}+ (deepseek-coder) */
static size_t ws_opt_run(const uint32_t *c, size_t pos, size_t end, uint8_t mask) {
    size_t i = pos;
    if (is_ws(tok_uflags(c[i])) && (fl(c, i + 1, end) & mask)) i++;
    size_t k = run(c, i, end, mask);
    return k ? i - pos + k : 0;
}
static size_t m_ws_letters(const uint32_t *c, size_t pos, size_t end) { return ws_opt_run(c, pos, end, TOK_U_L); }
static size_t m_ws_punct(const uint32_t *c, size_t pos, size_t end) { return ws_opt_run(c, pos, end, TOK_U_P); }

/*  ?[^(\s|.,!?…。，、।۔،)]+  (poro, bloom, gpt3-finnish, viking) */
static bool poro_stop(uint32_t cp) {
    static const uint32_t stop[] = {'(', '|', '.', ',', '!', '?', ')', 0x2026, 0x3002, 0xFF0C,
                                    0x3001, 0x0964, 0x06D4, 0x060C};
    cp = cls(cp);
    if (is_ws(tok_uflags(cp))) return true;
    for (size_t i = 0; i < COUNT(stop); i++)
        if (stop[i] == cp) return true;
    return false;
}
static size_t m_poro(const uint32_t *c, size_t pos, size_t end) {
    size_t i = pos + (c[pos] == ' ' && pos + 1 < end && !poro_stop(c[pos + 1]));
    size_t s = i;
    while (i < end && !poro_stop(c[i])) i++;
    return i > s ? i - pos : 0;
}

/* ---- Variants ----------------------------------------------------------- */
#define MAX_STAGES 6
typedef struct { tok_pre pre; const char *canonical; matcher stage[MAX_STAGES]; } variant;
static const variant variants[] = {
    {TOK_PRE_DEFAULT, "default", {m_punct, m_gpt2, m_num_run, m_ascii3}},
    {TOK_PRE_GPT2, "gpt2", {m_gpt2}},
    {TOK_PRE_LLAMA3, "llama3", {m_llama3}},
    {TOK_PRE_QWEN2, "qwen2", {m_qwen2}},
    {TOK_PRE_DEEPSEEK_LLM, "deepseek-llm",
     {m_crlf1, m_ds_letters, m_ds_punct, m_ws_at_end, m_cjk, m_num_run}},
    {TOK_PRE_DEEPSEEK_CODER, "deepseek-coder", {m_crlf1, m_ws_letters, m_ws_punct, m_cjk, m_num1}},
    {TOK_PRE_FALCON, "falcon", {m_punct_falcon, m_gpt2, m_ascii3}},
    {TOK_PRE_STARCODER, "starcoder", {m_num1, m_gpt2}},
    {TOK_PRE_PORO, "poro", {m_poro}},
    {TOK_PRE_VIKING, "viking", {m_poro, m_num1}},
    {TOK_PRE_TEKKEN, "tekken", {m_tekken}},
    {TOK_PRE_GPT4O, "gpt-4o", {m_gpt4o}},
    {TOK_PRE_DEEPSEEK3, "deepseek-v3", {m_num3, m_cjk_kana, m_ds3}},
    {TOK_PRE_SEED_CODER, "seed-coder", {m_seed_coder}},
};

/* tokenizer.ggml.pre names, as llama.cpp's converter writes them. */
static const tok_pre_info names[] = {
    {"default", TOK_PRE_DEFAULT, false, false},
    {"llama3", TOK_PRE_LLAMA3, true, true},
    {"llama-v3", TOK_PRE_LLAMA3, true, true},
    {"llama-bpe", TOK_PRE_LLAMA3, true, true},
    {"falcon3", TOK_PRE_LLAMA3, true, true},
    {"dbrx", TOK_PRE_LLAMA3, false, false},
    {"smaug-bpe", TOK_PRE_LLAMA3, false, false},
    {"chatglm-bpe", TOK_PRE_LLAMA3, false, false},
    {"deepseek-llm", TOK_PRE_DEEPSEEK_LLM, false, false},
    {"deepseek-coder", TOK_PRE_DEEPSEEK_CODER, false, false},
    {"falcon", TOK_PRE_FALCON, false, false},
    {"mpt", TOK_PRE_GPT2, false, false},
    {"gpt-2", TOK_PRE_GPT2, false, false},
    {"gpt2", TOK_PRE_GPT2, false, false},
    {"phi-2", TOK_PRE_GPT2, false, false},
    {"olmo", TOK_PRE_GPT2, false, false},
    {"jais", TOK_PRE_GPT2, false, false},
    {"jina-es", TOK_PRE_GPT2, false, false},
    {"jina-de", TOK_PRE_GPT2, false, false},
    {"jina-v1-en", TOK_PRE_GPT2, false, false},
    {"jina-v2-es", TOK_PRE_GPT2, false, false},
    {"jina-v2-de", TOK_PRE_GPT2, false, false},
    {"jina-v2-code", TOK_PRE_GPT2, false, false},
    {"starcoder", TOK_PRE_STARCODER, false, false},
    {"refact", TOK_PRE_STARCODER, false, false},
    {"command-r", TOK_PRE_STARCODER, false, false},
    {"smollm", TOK_PRE_STARCODER, false, false},
    {"codeshell", TOK_PRE_STARCODER, false, false},
    {"exaone", TOK_PRE_STARCODER, false, false},
    {"minerva-7b", TOK_PRE_STARCODER, false, false},
    {"qwen2", TOK_PRE_QWEN2, false, false},
    {"stablelm2", TOK_PRE_QWEN2, false, false},
    {"poro-chat", TOK_PRE_PORO, false, false},
    {"bloom", TOK_PRE_PORO, false, false},
    {"gpt3-finnish", TOK_PRE_PORO, false, false},
    {"viking", TOK_PRE_VIKING, false, false},
    {"tekken", TOK_PRE_TEKKEN, true, true},
    {"gpt-4o", TOK_PRE_GPT4O, false, false},
    {"llama4", TOK_PRE_GPT4O, false, false},
    {"minimax-m2", TOK_PRE_GPT4O, false, false},
    {"deepseek-v3", TOK_PRE_DEEPSEEK3, false, false},
    {"hunyuan-dense", TOK_PRE_DEEPSEEK3, false, false},
    {"seed-coder", TOK_PRE_SEED_CODER, false, false},
    {"pixtral", TOK_PRE_LLAMA3, true, true},
    {"falcon-h1", TOK_PRE_LLAMA3, true, true},
    {"midm-2.0", TOK_PRE_LLAMA3, true, true},
    {"lfm2", TOK_PRE_LLAMA3, true, true},
    {"glm4", TOK_PRE_LLAMA3, false, false},
    {"deepseek-r1-qwen", TOK_PRE_QWEN2, false, false},
    {"kormo", TOK_PRE_QWEN2, false, false},
    {"megrez", TOK_PRE_QWEN2, false, false},
    {"hunyuan", TOK_PRE_QWEN2, false, false},
    {"grok-2", TOK_PRE_QWEN2, false, false},
    {"bailingmoe", TOK_PRE_QWEN2, false, false},
    {"bailingmoe2", TOK_PRE_QWEN2, false, false},
    {"llada-moe", TOK_PRE_QWEN2, false, false},
    {"exaone4", TOK_PRE_GPT2, false, false},
    {"gigachat", TOK_PRE_GPT2, false, false},
    {"a.x-4.0", TOK_PRE_GPT2, false, false},
    {"mellum", TOK_PRE_GPT2, false, false},
    {"roberta-bpe", TOK_PRE_GPT2, false, false},
    {"trillion", TOK_PRE_GPT2, false, false},
    {"granite-docling", TOK_PRE_GPT2, false, false},
};

const tok_pre_info *tok_pre_find(const char *name, size_t len) {
    for (size_t i = 0; i < COUNT(names); i++)
        if (strlen(names[i].name) == len && memcmp(names[i].name, name, len) == 0) return &names[i];
    return NULL;
}

const char *tok_pre_canonical(tok_pre pre) {
    for (size_t i = 0; i < COUNT(variants); i++)
        if (variants[i].pre == pre) return variants[i].canonical;
    return "none";
}

static bool split_stage(matcher m, const uint32_t *c, const tok_u32vec *in, tok_u32vec *out) {
    size_t start = 0;
    out->n = 0;
    for (size_t w = 0; w < in->n; w++) {
        size_t end = start + in->v[w], gap = start, pos = start;
        while (pos < end) {
            size_t k = m(c, pos, end);
            if (k == 0) { pos++; continue; }
            if (pos > gap && !tok_u32_push(out, (uint32_t)(pos - gap))) return false;
            if (!tok_u32_push(out, (uint32_t)k)) return false;
            pos += k;
            gap = pos;
        }
        if (end > gap && !tok_u32_push(out, (uint32_t)(end - gap))) return false;
        start = end;
    }
    return true;
}

bool tok_pretok_split(tok_pre pre, const uint32_t *cps, size_t n, tok_u32vec *lens, tok_u32vec *tmp) {
    const variant *v = NULL;
    for (size_t i = 0; i < COUNT(variants); i++)
        if (variants[i].pre == pre) v = &variants[i];
    lens->n = 0;
    if (n == 0) return true;
    if (n > UINT32_MAX || !tok_u32_push(lens, (uint32_t)n)) return false;
    if (!v) return true;
    for (size_t s = 0; s < MAX_STAGES && v->stage[s]; s++) {
        if (!split_stage(v->stage[s], cps, lens, tmp)) return false;
        tok_u32vec t = *lens;
        *lens = *tmp;
        *tmp = t;
    }
    return true;
}
