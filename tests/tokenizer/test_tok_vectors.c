/* Every case of ../shared/tokenizer/<vocab>.gguf.inp must give exactly the
 * ids on the same line of <vocab>.gguf.out (no BOS, specials not parsed),
 * and decode back to the input where the tokenizer is lossless. BPE
 * vocabularies run twice: merging token ids (the fast path) and merging
 * strings (the general path). */
#include "tok_internal.h"
#include "tok_test_util.h"

/* `model`: a GGUF to take the tokenizer from instead of the vocab file. */
static int run_with(const char *vocab, const char *model, bool strings) {
    char path[1024], inp[1100], outp[1100];
    snprintf(path, sizeof path, "%s/tokenizer/ggml-vocab-%s.gguf", shared_dir(), vocab);
    snprintf(inp, sizeof inp, "%s.inp", path);
    snprintf(outp, sizeof outp, "%s.out", path);
    if (model) snprintf(path, sizeof path, "%s/models/%s", shared_dir(), model);
    size_t il, ol;
    char *in = read_file(inp, &il), *out = read_file(outp, &ol);
    if (!in || !out) {
        fprintf(stderr, "SKIP: %s or %s missing\n", inp, outp);
        free(in); free(out);
        return SKIP;
    }
    gguf_file *gf;
    tokenizer *t = load_tok(path, &gf);
    CHECK(t != NULL, "%s: load failed", vocab);
    if (t && strings) {
        if (!t->pair_mode) fprintf(stderr, "%s: no id path to compare with\n", vocab);
        t->pair_mode = false;
    }
    const char *cs[512]; size_t cl[512];
    size_t nc = split_cases(in, il, cs, cl, 512);
    CHECK(nc > 0, "%s: no cases", vocab);
    char *line = out, *oend = out + ol;
    size_t pass = 0;
    for (size_t i = 0; t && i < nc; i++) {
        char *nl = memchr(line, '\n', (size_t)(oend - line));
        if (!nl) { CHECK(0, "%s: .out has fewer lines than cases", vocab); break; }
        *nl = 0;
        tok_ids ids = {0};
        char err[256];
        CHECK(tok_encode(t, cs[i], cl[i], 0, &ids, err, sizeof err), "%s", err);
        char got[65536];
        size_t g = 0;
        got[0] = 0;
        for (size_t k = 0; k < ids.n && g + 16 < sizeof got; k++)
            g += (size_t)snprintf(got + g, sizeof got - g, " %d", ids.ids[k]);
        if (strcmp(got, line) == 0) pass++;
        else fprintf(stderr, "FAIL %s case %zu '%.*s'\n  want:%s\n  got: %s\n", vocab, i,
                     (int)cl[i], cs[i], line, got), g_failures++;
        /* Round trip: BPE is lossless on valid UTF-8; SPM too (our vocabs
         * have byte fallback) except that it cannot tell U+2581 from ' '. */
        size_t dl;
        char *back = tok_decode(t, ids.ids, ids.n, false, &dl);
        bool has_marker = false;
        for (size_t k = 0; k + 2 < cl[i]; k++)
            if (memcmp(cs[i] + k, "\xE2\x96\x81", 3) == 0) has_marker = true;
        if (!has_marker)
            CHECK(back && dl == cl[i] && memcmp(back, cs[i], dl) == 0,
                  "%s case %zu: decode(encode(x)) != x ('%.*s' -> '%s')", vocab, i, (int)cl[i], cs[i],
                  back ? back : "(null)");
        free(back);
        tok_ids_free(&ids);
        line = nl + 1;
    }
    printf("%s%s%s: %zu/%zu cases\n", model ? model : vocab, model ? " on llama-spm's cases" : "",
           strings ? " (string merges)" : "", pass, nc);
    tok_free(t);
    gguf_close(gf);
    free(in);
    free(out);
    return 0;
}

static int run(const char *vocab, bool strings) { return run_with(vocab, NULL, strings); }

int main(int argc, char **argv) {
    /* A real model file with the full Llama 2 vocabulary must tokenize
     * exactly like the llama-spm vocabulary file. */
    if (argc > 1 && strcmp(argv[1], "llama-2-tiny-random") == 0) {
        char m[1024];
        snprintf(m, sizeof m, "%s/models/llama-2-tiny-random.gguf", shared_dir());
        FILE *f = fopen(m, "rb");
        if (!f) { fprintf(stderr, "SKIP: %s missing\n", m); return SKIP; }
        fclose(f);
        int r = run_with("llama-spm", "llama-2-tiny-random.gguf", false);
        return r == SKIP ? SKIP : g_failures ? 1 : 0;
    }
    const char *all[] = {"llama-spm", "llama-bpe", "gpt-2", "phi-3"};
    int skipped = 0, n = 0;
    for (int i = 0; i < 4; i++) {
        if (argc > 1 && strcmp(argv[1], all[i]) != 0) continue;
        n++;
        if (run(all[i], false) == SKIP) skipped++;
        else if (strcmp(all[i], "llama-bpe") == 0 || strcmp(all[i], "gpt-2") == 0) run(all[i], true);
    }
    if (n && skipped == n) return SKIP;
    return g_failures ? 1 : 0;
}
