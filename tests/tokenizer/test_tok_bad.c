/* Malformed tokenizer metadata: each case builds a small GGUF in memory
 * with the writer, breaks one thing, and checks that tok_load_gguf refuses
 * it with a message naming the problem (and that nothing crashes). One
 * ctest per case: `test_tok_bad NAME`; `ok_*` cases must load. */
#include "tok_internal.h"
#include "tok_test_util.h"

typedef struct {
    const char *model;        /* NULL: no key */
    bool model_as_int;
    bool no_tokens, tokens_as_ints, empty_tokens_array;
    int n_scores;             /* -1: as many as tokens; -2: none */
    int n_types;              /* -1: as many as tokens; -2: none */
    bool scores_as_ints;
    int32_t bad_type;         /* nonzero: token 3's type */
    bool empty_token, bad_byte_token;
    const char *merge2;       /* replaces the second merge */
    bool no_merges;
    const char *pre;
    int64_t bos;              /* -2: not written */
    bool eos_as_str, add_bos_as_int;
    bool dup_special;         /* token 6 = user-defined copy of control <|end|> */
    int space_prefix;         /* 0/1: write add_space_prefix; -1: not written */
} spec;

static spec base(const char *model) {
    spec s;
    memset(&s, 0, sizeof s);
    s.model = model;
    s.n_scores = s.n_types = -1;
    s.bos = -2;
    s.space_prefix = -1;
    return s;
}

static void *build(const spec *s, size_t *size) {
    /* SPM: <unk> <s> </s> <0xFF> ▁a a b ab; BPE: a b ab Ġ Ġa (scores unused). */
    static const char *spm[] = {"<unk>", "<s>", "</s>", "<0xFF>", "\xE2\x96\x81" "a", "a", "b", "ab"};
    static const int32_t spm_types[] = {2, 3, 3, 6, 1, 1, 1, 1};
    static const char *bpe[] = {"a", "b", "ab", "\xC4\xA0", "\xC4\xA0" "a", "<|end|>", "c", "d"};
    static const int32_t bpe_types[] = {1, 1, 1, 1, 1, 3, 1, 1};
    bool is_spm = s->model && strcmp(s->model, "llama") == 0;
    const char *toks[8];
    int32_t types[9] = {0};   /* one spare: the too-long arrays */
    float scores[9] = {0};
    for (int i = 0; i < 8; i++) {
        toks[i] = is_spm ? spm[i] : bpe[i];
        types[i] = is_spm ? spm_types[i] : bpe_types[i];
        scores[i] = -(float)i;
    }
    if (s->bad_type) types[3] = s->bad_type;
    if (s->empty_token) toks[6] = "";
    if (s->bad_byte_token) toks[3] = "<0xZZ>";
    if (s->dup_special) { toks[6] = "<|end|>"; types[6] = 4; }
    gguf_writer *w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", "llama");
    if (s->model && s->model_as_int) gguf_w_u32(w, "tokenizer.ggml.model", 7);
    else if (s->model) gguf_w_str(w, "tokenizer.ggml.model", s->model);
    if (s->pre) gguf_w_str(w, "tokenizer.ggml.pre", s->pre);
    if (s->tokens_as_ints) gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_INT32, types, 8);
    else if (s->empty_tokens_array) gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_STRING, toks, 0);
    else if (!s->no_tokens) gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_STRING, toks, 8);
    if (s->n_scores != -2) {
        uint64_t n = s->n_scores < 0 ? 8 : (uint64_t)s->n_scores;
        if (s->scores_as_ints) gguf_w_arr(w, "tokenizer.ggml.scores", GGUF_T_INT32, types, n);
        else gguf_w_arr(w, "tokenizer.ggml.scores", GGUF_T_FLOAT32, scores, n);
    }
    if (s->n_types != -2)
        gguf_w_arr(w, "tokenizer.ggml.token_type", GGUF_T_INT32, types, s->n_types < 0 ? 8 : (uint64_t)s->n_types);
    if (!is_spm && !s->no_merges) {
        const char *merges[] = {"\xC4\xA0 a", s->merge2 ? s->merge2 : "a b"};
        gguf_w_arr(w, "tokenizer.ggml.merges", GGUF_T_STRING, merges, 2);
    }
    if (s->bos != -2) gguf_w_i64(w, "tokenizer.ggml.bos_token_id", s->bos);
    if (s->eos_as_str) gguf_w_str(w, "tokenizer.ggml.eos_token_id", "2");
    if (s->add_bos_as_int) gguf_w_u32(w, "tokenizer.ggml.add_bos_token", 1);
    if (s->space_prefix >= 0) gguf_w_bool(w, "tokenizer.ggml.add_space_prefix", s->space_prefix == 1);
    gguf_w_u32(w, "tokenizer.ggml.padding_token_id", 0xFFFFFFFFu);   /* "none" */
    char err[256];
    void *img = gguf_writer_finish(w, size, err, sizeof err);
    gguf_writer_free(w);
    if (!img) fprintf(stderr, "writer: %s\n", err);
    return img;
}

/* Loads; returns the tokenizer or NULL with the message in err. */
static tokenizer *load(const spec *s, char *err, size_t errlen) {
    size_t size;
    void *img = build(s, &size);
    if (!img) { snprintf(err, errlen, "(writer failed)"); return NULL; }
    gguf_file *g = gguf_open_buffer(img, size, err, errlen);
    tokenizer *t = g ? tok_load_gguf(g, err, errlen) : NULL;
    gguf_close(g);
    free(img);   /* the tokenizer must not point into the file */
    return t;
}

static int expect_refused(spec s, const char *want) {
    char err[256] = "";
    tokenizer *t = load(&s, err, sizeof err);
    if (t) { tok_free(t); fprintf(stderr, "FAIL: accepted; wanted an error containing '%s'\n", want); return 1; }
    if (!strstr(err, want)) { fprintf(stderr, "FAIL: message '%s' lacks '%s'\n", err, want); return 1; }
    printf("refused: %s\n", err);
    return 0;
}

static int expect_ok(spec s, const char *text, unsigned flags, const char *want_ids) {
    char err[256] = "";
    tokenizer *t = load(&s, err, sizeof err);
    if (!t) { fprintf(stderr, "FAIL: refused: %s\n", err); return 1; }
    tok_ids ids = {0};
    bool ok = tok_encode(t, text, strlen(text), flags, &ids, err, sizeof err);
    char got[256] = "";
    for (size_t i = 0, g = 0; ok && i < ids.n; i++)
        g += (size_t)snprintf(got + g, sizeof got - g, i ? " %d" : "%d", ids.ids[i]);
    int rc = ok && strcmp(got, want_ids) == 0 ? 0 : 1;
    if (rc) fprintf(stderr, "FAIL: '%s' -> '%s', want '%s' (%s)\n", text, got, want_ids, ok ? "" : err);
    CHECK(tok_pad(t) == -1, "padding 0xFFFFFFFF must mean none");
    tok_ids_free(&ids);
    tok_free(t);
    return rc + g_failures;
}

static int c_no_model(void) { return expect_refused(base(NULL), "no tokenizer.ggml.model"); }
static int c_unknown_model(void) { return expect_refused(base("bert"), "unsupported tokenizer model 'bert'"); }
static int c_model_not_string(void) { spec s = base("llama"); s.model_as_int = true; return expect_refused(s, "tokenizer.ggml.model"); }
static int c_no_tokens(void) { spec s = base("llama"); s.no_tokens = true; return expect_refused(s, "tokenizer.ggml.tokens"); }
static int c_tokens_not_strings(void) { spec s = base("llama"); s.tokens_as_ints = true; return expect_refused(s, "tokenizer.ggml.tokens"); }
static int c_tokens_empty(void) { spec s = base("llama"); s.empty_tokens_array = true; return expect_refused(s, "tokenizer.ggml.tokens has 0 entries"); }
static int c_scores_short(void) { spec s = base("llama"); s.n_scores = 7; return expect_refused(s, "tokenizer.ggml.scores has 7 entries but there are 8 tokens"); }
static int c_scores_long(void) { spec s = base("llama"); s.n_scores = 9; return expect_refused(s, "tokenizer.ggml.scores has 9 entries"); }
static int c_scores_not_floats(void) { spec s = base("llama"); s.scores_as_ints = true; return expect_refused(s, "tokenizer.ggml.scores"); }
static int c_spm_without_scores(void) { spec s = base("llama"); s.n_scores = -2; return expect_refused(s, "without tokenizer.ggml.scores"); }
static int c_types_short(void) { spec s = base("llama"); s.n_types = 3; return expect_refused(s, "tokenizer.ggml.token_type has 3 entries"); }
static int c_type_unknown(void) { spec s = base("llama"); s.bad_type = 9; return expect_refused(s, "token 3 has unknown type 9"); }
static int c_type_negative(void) { spec s = base("llama"); s.bad_type = -4; return expect_refused(s, "token 3 has unknown type -4"); }
/* An empty token text gets llama.cpp's stand-in "[EMPTY_<id>]". */
static int c_ok_empty_token(void) {
    spec s = base("llama");
    s.empty_token = true;
    char err[256] = "";
    tokenizer *t = load(&s, err, sizeof err);
    if (!t) { fprintf(stderr, "FAIL: refused: %s\n", err); return 1; }
    size_t n;
    const char *txt = tok_text(t, 6, &n);
    int rc = txt && n == 9 && memcmp(txt, "[EMPTY_6]", 9) == 0 ? 0 : 1;
    if (rc) fprintf(stderr, "FAIL: token 6 text '%.*s'\n", (int)n, txt ? txt : "");
    tok_free(t);
    return rc;
}
static int c_bad_byte_token(void) { spec s = base("llama"); s.bad_byte_token = true; return expect_refused(s, "token 3 has type BYTE but its text is not <0xNN>"); }
static int c_bos_out_of_range(void) { spec s = base("llama"); s.bos = 1000; return expect_refused(s, "BOS token id 1000 out of range"); }
static int c_bos_negative(void) { spec s = base("llama"); s.bos = -7; return expect_refused(s, "BOS token id -7 out of range"); }
static int c_eos_not_int(void) { spec s = base("llama"); s.eos_as_str = true; return expect_refused(s, "tokenizer.ggml.eos_token_id"); }
static int c_add_bos_not_bool(void) { spec s = base("llama"); s.add_bos_as_int = true; return expect_refused(s, "tokenizer.ggml.add_bos_token"); }
static int c_merge_no_space(void) { spec s = base("gpt2"); s.merge2 = "ab"; return expect_refused(s, "merge 1 is not 'left right'"); }
static int c_merge_trailing_space(void) { spec s = base("gpt2"); s.merge2 = "a "; return expect_refused(s, "merge 1 is not 'left right'"); }
static int c_merge_empty(void) { spec s = base("gpt2"); s.merge2 = ""; return expect_refused(s, "merge 1 is not 'left right'"); }
static int c_bpe_without_merges(void) { spec s = base("gpt2"); s.no_merges = true; return expect_refused(s, "needs merges"); }
static int c_unknown_pre(void) { spec s = base("gpt2"); s.pre = "no-such-pre"; return expect_refused(s, "unknown pre-tokenizer 'no-such-pre'"); }
/* Accepted files, with the tokens they give. */
/* "▁ab▁a": "▁a" scores higher than "ab", and "▁ab" is no token. */
static int c_ok_spm(void) { return expect_ok(base("llama"), "ab a", 0, "4 6 4"); }
/* Without the dummy prefix (Gemma-style metadata) "ab" merges after all. */
static int c_ok_spm_no_space_prefix(void) { spec s = base("llama"); s.space_prefix = 0; return expect_ok(s, "ab a", 0, "7 4"); }
static int c_ok_spm_bos(void) { return expect_ok(base("llama"), "a", TOK_ADD_SPECIAL, "1 4"); }
/* U+2581 has no byte tokens here (-> <unk> x3); 0xFF has <0xFF>. */
static int c_ok_spm_byte_fallback(void) { return expect_ok(base("llama"), "\xFF", 0, "0 0 0 3"); }
static int c_ok_bpe(void) { spec s = base("gpt2"); s.pre = "gpt-2"; return expect_ok(s, "ab a", 0, "2 4"); }
/* Not parsed: the text goes through BPE; characters without a token are
 * dropped (as llama.cpp does), only "d" remains. */
static int c_ok_bpe_special_not_parsed(void) { return expect_ok(base("gpt2"), "<|end|>", 0, "7"); }
/* Two specials with one text: the first in order (by id) takes the
 * occurrences when it is in play; unparsed, only the user-defined one is. */
static int c_ok_duplicate_special_unparsed(void) { spec s = base("gpt2"); s.dup_special = true; return expect_ok(s, "a<|end|>b", 0, "0 6 1"); }
static int c_ok_duplicate_special_parsed(void) { spec s = base("gpt2"); s.dup_special = true; return expect_ok(s, "a<|end|>b", TOK_PARSE_SPECIAL, "0 5 1"); }
/* A merge whose result is no token ("c d"): the general string path runs,
 * the merged symbol is not in the vocabulary and falls back to its
 * one-byte tokens. */
static int c_ok_bpe_merge_to_non_token(void) { spec s = base("gpt2"); s.merge2 = "c d"; return expect_ok(s, "cd", 0, "6 7"); }
static int c_ok_bpe_special_parsed(void) { return expect_ok(base("gpt2"), "c<|end|>d", TOK_PARSE_SPECIAL, "6 5 7"); }

/* Asking for a BOS the model does not have is an error, output untouched. */
static int c_encode_bos_missing(void) {
    spec s = base("gpt2");
    char err[256] = "";
    tokenizer *t = load(&s, err, sizeof err);
    if (!t) { fprintf(stderr, "FAIL: refused: %s\n", err); return 1; }
    tok_ids ids = {0};
    bool ok = tok_encode(t, "ab", 2, TOK_BOS, &ids, err, sizeof err);
    int rc = !ok && ids.n == 0 && strstr(err, "BOS requested but the model has no BOS token") ? 0 : 1;
    if (rc) fprintf(stderr, "FAIL: ok=%d n=%zu err='%s'\n", ok, ids.n, err);
    else printf("refused: %s\n", err);
    tok_ids_free(&ids);
    tok_free(t);
    return rc;
}

/* Token texts chosen so their hashes land in one bucket, or in 1100
 * consecutive buckets (a long run of short probes), of the 4096-slot table: loading must refuse rather than make every
 * lookup slow. */
static int hash_flood(bool consecutive) {
    enum { N = 1100 };
    tok_spec sp;
    tok_spec_init(&sp);
    sp.model = "llama";
    sp.model_len = 5;
    sp.n_tokens = N;
    char err[256];
    tok_builder *b = tok_builder_new(&sp, err, sizeof err);
    if (!b) { fprintf(stderr, "FAIL: %s\n", err); return 1; }
    uint32_t found = 0;
    for (uint32_t k = 0; found < N; k++) {
        char s[16];
        int n = snprintf(s, sizeof s, "t%u", k);
        uint64_t h = tok_hash_step(TOK_HASH_SEED, (const uint8_t *)s, (size_t)n) & 4095;
        if (consecutive ? h >= 64 + 600 || h < 64 : h != 0) continue;
        if (!tok_builder_token(b, found++, s, (size_t)n, 0.0f, TOK_TYPE_NORMAL, err, sizeof err)) {
            fprintf(stderr, "FAIL: %s\n", err);
            tok_builder_free(b);
            return 1;
        }
    }
    tokenizer *t = tok_builder_finish(b, err, sizeof err);
    if (t) { tok_free(t); fprintf(stderr, "FAIL: colliding vocabulary accepted\n"); return 1; }
    if (!strstr(err, "one cluster")) { fprintf(stderr, "FAIL: message '%s'\n", err); return 1; }
    printf("refused: %s\n", err);
    return 0;
}
static int c_hash_flood(void) { return hash_flood(false); }
static int c_hash_run(void) { return hash_flood(true); }

#define ALL(X) X(no_model) X(unknown_model) X(model_not_string) X(no_tokens) X(tokens_not_strings) \
    X(tokens_empty) X(scores_short) X(scores_long) X(scores_not_floats) X(spm_without_scores) \
    X(types_short) X(type_unknown) X(type_negative) X(ok_empty_token) X(bad_byte_token) \
    X(bos_out_of_range) X(bos_negative) X(eos_not_int) X(add_bos_not_bool) X(merge_no_space) \
    X(merge_trailing_space) X(merge_empty) X(bpe_without_merges) X(unknown_pre) X(ok_spm) \
    X(ok_spm_bos) X(ok_spm_byte_fallback) X(ok_bpe) X(ok_bpe_special_not_parsed) X(ok_bpe_special_parsed) \
    X(ok_duplicate_special_unparsed) X(ok_duplicate_special_parsed) X(hash_flood) X(hash_run) X(ok_bpe_merge_to_non_token) X(encode_bos_missing) X(ok_spm_no_space_prefix)

int main(int argc, char **argv) {
    struct { const char *name; int (*fn)(void); } cases[] = {
#define X(n) {#n, c_##n},
        ALL(X)
#undef X
    };
    int fails = 0, ran = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
        ran++;
        int r = cases[i].fn();
        if (r) fprintf(stderr, "case %s failed\n", cases[i].name);
        fails += r != 0;
    }
    if (!ran) { fprintf(stderr, "no case named %s\n", argc > 1 ? argv[1] : ""); return 2; }
    return fails ? 1 : 0;
}
