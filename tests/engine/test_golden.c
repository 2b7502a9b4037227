/* test_golden.c: the engine against an independent reference on a real
 * model: stories260K's 256 greedy tokens from BOS, and its logits for the
 * first 16 positions within 1e-4 relative; llama-2-tiny-random (F16,
 * 32000-token vocabulary) loads and generates. Skips without ../shared. */
#define _POSIX_C_SOURCE 200809L   /* stat */
#include "engine_test.h"
#include "json.h"

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) { free(buf); buf = NULL; }
    fclose(f);
    if (buf) { buf[n] = '\0'; *len = (size_t)n; }
    return buf;
}

/* "IDS a b c ..." on the first line of the golden file. */
static int read_golden_ids(const char *path, int32_t *ids, int cap) {
    size_t len;
    char *text = read_all(path, &len);
    REQUIRE(text != NULL, "cannot read %s", path);
    REQUIRE(strncmp(text, "IDS ", 4) == 0, "%s: no IDS line", path);
    int n = 0;
    char *p = text + 4, *end;
    while (n < cap && *p && *p != '\n') {
        long v = strtol(p, &end, 10);
        if (end == p) break;
        ids[n++] = (int32_t)v;
        p = end;
    }
    free(text);
    return n;
}

static void test_greedy(const char *shared) {
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/stories260K-greedy256.txt", shared);
    int32_t golden[300];
    int n = read_golden_ids(path, golden, 300);
    CHECK(n == 256, "golden has %d ids", n);

    snprintf(path, sizeof path, "%s/models/stories260K.gguf", shared);
    llm_model *m = t_open(path);
    const llm_hparams *hp = llm_model_hparams(m);
    CHECK(hp->n_vocab == 512 && hp->n_layer == 5 && hp->n_head_kv == 4 && hp->tied_output == false,
          "hparams vocab %d layers %d kv %d", hp->n_vocab, hp->n_layer, hp->n_head_kv);
    for (int threads = 1; threads <= 2; threads++) {
        llm_context *c = t_ctx(m, 512, threads, 64);
        llm_sampler_params sp = llm_sampler_default_params();
        sp.temp = 0;
        CHECK(llm_set_sampler(c, &sp), "sampler");
        char err[256];
        int32_t tok = hp->bos;
        int same = 0;
        for (int i = 0; i < n; i++) {
            REQUIRE(llm_eval(c, &tok, 1, false, err, sizeof err), "%s", err);
            tok = llm_sample(c);
            if (tok == golden[i]) same++;
            else { CHECK(0, "threads %d: token %d is %d, golden %d", threads, i, tok, golden[i]); break; }
        }
        CHECK(same == n, "threads %d: %d of %d tokens match", threads, same, n);
        llm_context_free(c);
    }
    llm_model_free(m);
}

static void test_logits(const char *shared) {
    char path[1024];
    snprintf(path, sizeof path, "%s/golden/stories260K-logits-first16.json", shared);
    size_t len;
    char *text = read_all(path, &len);
    REQUIRE(text != NULL, "cannot read %s", path);
    char err[256];
    json_value *root = json_parse(text, len, err, sizeof err);
    REQUIRE(root != NULL, "%s: %s", path, err);
    const json_value *in = json_get(root, "input_tokens"), *lg = json_get(root, "logits");
    REQUIRE(in && in->type == JSON_ARRAY && lg && lg->type == JSON_ARRAY && in->len == lg->len,
            "%s: unexpected layout", path);
    const int n = (int)in->len;
    CHECK(n == 16, "%d positions", n);
    int32_t toks[64];
    for (int i = 0; i < n && i < 64; i++) toks[i] = (int32_t)in->items[i].integer;

    snprintf(path, sizeof path, "%s/models/stories260K.gguf", shared);
    llm_model *m = t_open(path);
    const int V = llm_model_hparams(m)->n_vocab;
    float *want = malloc((size_t)V * sizeof *want);
    /* Whole prompt in one batch, and again one token at a time. */
    for (int mode = 0; mode < 2; mode++) {
        llm_context *c = t_ctx(m, 64, 2, 64);
        if (mode == 0) REQUIRE(llm_eval(c, toks, n, true, err, sizeof err), "%s", err);
        for (int i = 0; i < n; i++) {
            const json_value *row = &lg->items[i];
            REQUIRE(row->type == JSON_ARRAY && (int)row->len == V, "row %d has %zu logits", i, row->len);
            for (int k = 0; k < V; k++) want[k] = (float)row->items[k].number;
            const float *got;
            if (mode == 0) {
                got = llm_get_logits(c, i);
            } else {
                REQUIRE(llm_eval(c, &toks[i], 1, false, err, sizeof err), "%s", err);
                got = llm_get_logits(c, 0);
            }
            double rel = t_max_rel(got, want, V);
            CHECK(rel <= 1e-4, "%s: position %d: max relative error %g", mode ? "single" : "batch", i, rel);
        }
        llm_context_free(c);
    }
    free(want);
    llm_model_free(m);
    json_free(root);
    free(text);
}

static void test_tiny_random(const char *shared) {
    char path[1024];
    snprintf(path, sizeof path, "%s/models/llama-2-tiny-random.gguf", shared);
    llm_model *m = t_open(path);
    const llm_hparams *hp = llm_model_hparams(m);
    CHECK(hp->n_vocab == 32000 && hp->n_embd == 8, "vocab %d embd %d", hp->n_vocab, hp->n_embd);
    llm_context *c = t_ctx(m, 128, 2, 32);
    llm_sampler_params sp = llm_sampler_default_params();
    sp.seed = 42;
    llm_set_sampler(c, &sp);
    char err[256];
    int32_t tok = hp->bos;
    for (int i = 0; i < 32; i++) {
        REQUIRE(llm_eval(c, &tok, 1, false, err, sizeof err), "%s", err);
        const float *l = llm_get_logits(c, 0);
        int finite = 1;
        for (int k = 0; k < hp->n_vocab; k++) finite &= isfinite(l[k]) != 0;
        CHECK(finite, "non-finite logits at step %d", i);
        tok = llm_sample(c);
        CHECK(tok >= 0 && tok < hp->n_vocab, "token %d", tok);
    }
    CHECK(llm_pos(c) == 32, "pos %d", llm_pos(c));
    llm_context_free(c);
    llm_model_free(m);
}

int main(void) {
    const char *shared = t_shared();
    if (!shared) {
        fprintf(stderr, "test_golden: no shared test data (WASMLET_SHARED): skipped\n");
        return 77;
    }
    test_greedy(shared);
    test_logits(shared);
    test_tiny_random(shared);
    return t_result("test_golden");
}
