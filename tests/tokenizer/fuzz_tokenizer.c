/* fuzz_tokenizer: libFuzzer target for the tokenizer. The first byte picks
 * what the rest is:
 *   even: text, encoded by a real vocabulary (from $WASMLET_SHARED, when
 *         present) with flags from the second byte; every id must be in
 *         range, the pieces must decode and the streaming decoder must only
 *         emit valid UTF-8; plus every pre-tokenizer on the same text, whose
 *         word lengths must add up.
 *   odd:  a vocabulary: NUL-separated token texts (then, after an empty
 *         entry, merges) with types and scores taken from the bytes; if the
 *         builder accepts it, the same bytes are encoded with it.
 * Any crash, sanitizer report or broken invariant (abort) is a failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok_internal.h"

static tokenizer *vocabs[4];
static int n_vocabs;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *dir = getenv("WASMLET_SHARED");
    const char *names[] = {"llama-spm", "llama-bpe", "gpt-2", "phi-3"};
    for (int i = 0; dir && i < 4; i++) {
        char path[1024], err[256];
        snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-%s.gguf", dir, names[i]);
        gguf_file *g = gguf_open_file(path, err, sizeof err);
        if (!g) continue;
        tokenizer *t = tok_load_gguf(g, err, sizeof err);
        gguf_close(g);
        if (t) vocabs[n_vocabs++] = t;
    }
    return 0;
}

static bool valid_utf8(const char *s, size_t n) {
    tok_utf8_stream st;
    tok_stream_init(&st);
    char *out = malloc(TOK_STREAM_OUT_MAX(n));
    if (!out) abort();
    size_t o = tok_stream_push(&st, s, n, out);
    o += tok_stream_flush(&st, out + o);
    bool same = o == n && memcmp(out, s, n) == 0;
    free(out);
    return same;
}

static void check_encode(const tokenizer *t, const uint8_t *text, size_t n, unsigned flags) {
    tok_ids ids = {0};
    char err[256];
    if (!tok_encode(t, (const char *)text, n, flags, &ids, err, sizeof err)) {
        tok_ids_free(&ids);
        return;   /* no BOS/EOS in this vocabulary */
    }
    tok_utf8_stream st;
    tok_stream_init(&st);
    for (size_t i = 0; i < ids.n; i++) {
        if (ids.ids[i] < 0 || (uint32_t)ids.ids[i] >= tok_n_vocab(t)) abort();
        size_t l;
        const char *p = tok_piece(t, ids.ids[i], (i & 1) != 0, &l);
        if (!p) abort();
        char *out = malloc(TOK_STREAM_OUT_MAX(l));
        if (!out) abort();
        size_t o = tok_stream_push(&st, p, l, out);
        if (o > TOK_STREAM_OUT_MAX(l) || !valid_utf8(out, o)) abort();
        free(out);
    }
    size_t dl;
    free(tok_decode(t, ids.ids, ids.n, flags & 1, &dl));
    tok_ids_free(&ids);
}

static void fuzz_text(const uint8_t *d, size_t n) {
    if (n < 1) return;
    unsigned flags = d[0] & 15;
    d++; n--;
    for (int i = 0; i < n_vocabs; i++) check_encode(vocabs[i], d, n, flags);
    uint32_t *cps = malloc((n + 1) * sizeof *cps);
    if (!cps) abort();
    size_t nc = tok_utf8_to_cps(d, n, cps);
    tok_u32vec lens = {0}, tmp = {0};
    for (int pre = TOK_PRE_DEFAULT; pre <= TOK_PRE_SEED_CODER; pre++) {
        if (!tok_pretok_split((tok_pre)pre, cps, nc, &lens, &tmp)) abort();
        size_t sum = 0;
        for (size_t k = 0; k < lens.n; k++) {
            if (lens.v[k] == 0) abort();
            sum += lens.v[k];
        }
        if (sum != nc) abort();
    }
    free(lens.v);
    free(tmp.v);
    free(cps);
}

static void fuzz_vocab(const uint8_t *d, size_t n) {
    if (n < 2) return;
    bool spm = d[0] & 1;
    const char *entries[256];
    size_t lens[256], ne = 0, split = 0;
    size_t p = 1;
    while (p < n && ne < 256) {
        const uint8_t *z = memchr(d + p, 0, n - p);
        size_t l = z ? (size_t)(z - (d + p)) : n - p;
        if (l == 0 && !split) split = ne;
        entries[ne] = (const char *)d + p;
        lens[ne++] = l;
        p += l + 1;
    }
    size_t nt = split ? split : ne;
    if (nt == 0) return;
    tok_spec sp;
    tok_spec_init(&sp);
    sp.model = spm ? "llama" : "gpt2";
    sp.model_len = strlen(sp.model);
    sp.pre = "llama3";
    sp.pre_len = 6;
    if (d[0] & 2) { sp.pre = "gpt-2"; sp.pre_len = 5; }
    sp.n_tokens = (uint32_t)nt;
    char err[256];
    tok_builder *b = tok_builder_new(&sp, err, sizeof err);
    if (!b) return;
    for (size_t i = 0; i < nt; i++) {
        uint8_t x = lens[i] ? (uint8_t)entries[i][0] : 0;
        if (!tok_builder_token(b, (uint32_t)i, entries[i], lens[i], -(float)(x % 7), 1 + x % 6, err, sizeof err)) {
            tok_builder_free(b);
            return;
        }
    }
    for (size_t i = nt + 1; i < ne; i++)
        if (!tok_builder_merge(b, entries[i], lens[i], err, sizeof err)) {
            tok_builder_free(b);
            return;
        }
    tokenizer *t = tok_builder_finish(b, err, sizeof err);
    if (!t) return;
    check_encode(t, d, n, d[0] >> 4);
    tok_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] & 1) fuzz_vocab(data + 1, size - 1);
    else fuzz_text(data + 1, size - 1);
    return 0;
}
