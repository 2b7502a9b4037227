/* test_forward.c: properties of the forward pass on synthetic models (no
 * shared data needed): batched prompt evaluation equals token-by-token
 * evaluation, 1 and 2 threads give identical results, truncating the KV
 * cache and re-evaluating reproduces the logits, F16 KV stays close to
 * F32, the KV cache type follows the weights unless asked, qwen2 (biases, neox RoPE) passes the same checks, embeddings
 * are unit length, and bad evaluation requests are refused.
 * Usage: test_forward WORKDIR */
#define _POSIX_C_SOURCE 200809L   /* stat */
#include "engine_test.h"

static const int32_t seq[] = {1, 70, 120, 33, 200, 258, 3, 99, 150, 151, 152, 40, 41, 42, 43,
                              44, 100, 101, 102, 103, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14};
enum { NSEQ = sizeof seq / sizeof seq[0] };

/* Logits of every position of seq, evaluated in batches of `batch` (or
 * one token per call when batch == 0). Returns a malloc'd NSEQ x V array. */
static float *run(const llm_model *m, int threads, int batch, bool kv_f16) {
    llm_context_params p = llm_context_default_params();
    p.n_ctx = 64;
    p.n_threads = threads;
    p.n_batch = batch ? batch : 1;
    p.kv_type = kv_f16 ? LLM_KV_F16 : LLM_KV_F32;
    char err[256];
    llm_context *c = llm_context_new(m, &p, err, sizeof err);
    REQUIRE(c != NULL, "%s", err);
    const int V = llm_model_hparams(m)->n_vocab;
    float *out = malloc((size_t)NSEQ * (size_t)V * sizeof *out);
    if (batch) {
        REQUIRE(llm_eval(c, seq, NSEQ, true, err, sizeof err), "%s", err);
        for (int i = 0; i < NSEQ; i++)
            memcpy(out + (size_t)i * V, llm_get_logits(c, i), (size_t)V * sizeof *out);
    } else {
        for (int i = 0; i < NSEQ; i++) {
            REQUIRE(llm_eval(c, &seq[i], 1, false, err, sizeof err), "%s", err);
            memcpy(out + (size_t)i * V, llm_get_logits(c, 0), (size_t)V * sizeof *out);
        }
    }
    llm_context_free(c);
    return out;
}

/* f16_tol: F16 keys/values round at 2^-11; quantized activations
 * (Q8_0) amplify that through their own rounding, hence a looser bound. */
static void check_model(const char *path, const char *what, double f16_tol) {
    llm_model *m = t_open(path);
    const int V = llm_model_hparams(m)->n_vocab;
    const size_t n = (size_t)NSEQ * (size_t)V;
    float *single = run(m, 1, 0, false);
    float *batch = run(m, 1, 512, false);
    float *batch7 = run(m, 1, 7, false);   /* several batches, last one partial */
    float *single2 = run(m, 2, 0, false);
    float *batch2 = run(m, 2, 512, false);
    float *f16 = run(m, 2, 512, true);
    double rel = t_max_rel(batch, single, (int)n);
    CHECK(rel < 1e-4, "%s: batched vs single: %g", what, rel);
    rel = t_max_rel(batch7, batch, (int)n);
    CHECK(rel < 1e-4, "%s: batches of 7 vs one batch: %g", what, rel);
    CHECK(memcmp(single, single2, n * sizeof *single) == 0, "%s: 1 vs 2 threads (single) differ", what);
    CHECK(memcmp(batch, batch2, n * sizeof *batch) == 0, "%s: 1 vs 2 threads (batch) differ", what);
    rel = t_max_rel(f16, batch, (int)n);
    CHECK(rel < f16_tol, "%s: F16 KV cache vs F32: %g", what, rel);
    CHECK(rel > 0, "%s: F16 KV cache changed nothing", what);
    /* Positions must matter: the same token at two positions differs. */
    CHECK(memcmp(single, single + V, (size_t)V * sizeof *single) != 0, "%s: rows equal", what);
    free(single); free(batch); free(batch7); free(single2); free(batch2); free(f16);
    llm_model_free(m);
}

static void check_truncate(const char *path) {
    llm_model *m = t_open(path);
    const int V = llm_model_hparams(m)->n_vocab;
    llm_context *c = t_ctx(m, 64, 2, 16);
    char err[256];
    /* The cache is backed as it is written, and the count says so. */
    CHECK(llm_kv_resident_bytes(c) == 0, "fresh cache resident: %zu bytes", llm_kv_resident_bytes(c));
    REQUIRE(llm_eval(c, seq, 20, true, err, sizeof err), "%s", err);
    const llm_hparams *hp = llm_model_hparams(m);
    const size_t written = (size_t)2 * hp->n_layer * hp->n_head_kv * 20 * hp->head_dim * sizeof(float);
    CHECK(llm_kv_resident_bytes(c) >= written, "resident %zu < %zu written", llm_kv_resident_bytes(c), written);
    float *want = malloc((size_t)V * sizeof *want);
    memcpy(want, llm_get_logits(c, 19), (size_t)V * sizeof *want);
    llm_kv_truncate(c, 12);
    CHECK(llm_pos(c) == 12, "pos after truncate %d", llm_pos(c));
    REQUIRE(llm_eval(c, seq + 12, 8, false, err, sizeof err), "%s", err);
    CHECK(t_max_rel(llm_get_logits(c, 0), want, V) < 1e-5, "after truncate: logits differ");
    CHECK(llm_get_logits(c, 1) == NULL, "only the last row is kept");
    llm_kv_truncate(c, 0);
    REQUIRE(llm_eval(c, seq, 20, false, err, sizeof err), "%s", err);
    CHECK(t_max_rel(llm_get_logits(c, 0), want, V) < 1e-4, "after reset: logits differ");

    /* Refusals leave the state alone. */
    int32_t bad = V;
    CHECK(!llm_eval(c, &bad, 1, false, err, sizeof err) && strstr(err, "outside the vocabulary"),
          "token out of range: %s", err);
    int32_t neg = -1;
    CHECK(!llm_eval(c, &neg, 1, false, err, sizeof err), "negative token accepted");
    int32_t many[64] = {0};
    CHECK(!llm_eval(c, many, 45, false, err, sizeof err) && strstr(err, "context full"),
          "overflow: %s", err);
    CHECK(llm_pos(c) == 20, "pos after refusals %d", llm_pos(c));
    CHECK(llm_eval(c, many, 44, false, err, sizeof err), "filling the context: %s", err);
    CHECK(llm_pos(c) == 64, "pos %d", llm_pos(c));

    /* Embeddings: unit length, deterministic, input-dependent. */
    const int E = llm_model_hparams(m)->n_embd;
    float *e1 = malloc((size_t)E * sizeof *e1), *e2 = malloc((size_t)E * sizeof *e2);
    REQUIRE(llm_embed(c, seq, 10, e1, err, sizeof err), "%s", err);
    double norm = 0;
    for (int i = 0; i < E; i++) norm += (double)e1[i] * e1[i];
    CHECK(fabs(norm - 1.0) < 1e-5, "embedding norm^2 %g", norm);
    CHECK(llm_pos(c) == 0, "embedding leaves the cache reset");
    REQUIRE(llm_embed(c, seq, 10, e2, err, sizeof err), "%s", err);
    CHECK(memcmp(e1, e2, (size_t)E * sizeof *e1) == 0, "embedding not deterministic");
    REQUIRE(llm_embed(c, seq + 10, 10, e2, err, sizeof err), "%s", err);
    CHECK(memcmp(e1, e2, (size_t)E * sizeof *e1) != 0, "different inputs, same embedding");
    free(e1); free(e2);
    free(want);
    llm_context_free(c);
    llm_model_free(m);
}

/* The KV cache's type: AUTO gives F16 for a model whose layer matrices
 * are all quantized and F32 otherwise; F32/F16 are taken as asked; the
 * cache is sized by it; an unknown value is refused. */
static void check_kv_type(const char *f32_path, const char *q_path) {
    llm_model *f = t_open(f32_path), *q = t_open(q_path);
    const llm_kv_type kinds[] = {LLM_KV_AUTO, LLM_KV_F32, LLM_KV_F16};
    const uint32_t want_f[] = {GGML_F32, GGML_F32, GGML_F16}, want_q[] = {GGML_F16, GGML_F32, GGML_F16};
    char err[256];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
            llm_context_params p = llm_context_default_params();
            p.n_ctx = 64;
            p.kv_type = kinds[i];
            llm_context *c = llm_context_new(j ? q : f, &p, err, sizeof err);
            REQUIRE(c != NULL, "%s", err);
            const uint32_t want = j ? want_q[i] : want_f[i];
            CHECK(llm_context_kv_type(c) == want, "kv_type %d on the %s model: %u", (int)kinds[i],
                  j ? "Q4_0" : "F32", llm_context_kv_type(c));
            REQUIRE(llm_eval(c, seq, 20, false, err, sizeof err), "%s", err);
            const llm_hparams *hp = llm_model_hparams(j ? q : f);
            const size_t row = (size_t)hp->head_dim * (want == GGML_F16 ? 2 : 4);
            const size_t written = (size_t)2 * hp->n_layer * hp->n_head_kv * 20 * row;
            CHECK(llm_kv_resident_bytes(c) >= written, "%s model, kv_type %d: resident %zu < %zu written",
                  j ? "Q4_0" : "F32", (int)kinds[i], llm_kv_resident_bytes(c), written);
            llm_context_free(c);
        }
    llm_context_params p = llm_context_default_params();
    p.n_ctx = 64;
    p.kv_type = (llm_kv_type)7;
    CHECK(llm_context_new(f, &p, err, sizeof err) == NULL && strstr(err, "KV cache type 7"),
          "unknown KV cache type: %s", err);
    llm_model_free(f);
    llm_model_free(q);
}

/* Two contexts on one model do not disturb each other. */
static void check_shared_model(const char *path) {
    llm_model *m = t_open(path);
    const int V = llm_model_hparams(m)->n_vocab;
    llm_context *a = t_ctx(m, 64, 1, 8), *b = t_ctx(m, 64, 2, 8);
    char err[256];
    REQUIRE(llm_eval(a, seq, 5, false, err, sizeof err), "%s", err);
    REQUIRE(llm_eval(b, seq + 5, 9, false, err, sizeof err), "%s", err);
    REQUIRE(llm_eval(a, seq + 5, 5, false, err, sizeof err), "%s", err);
    llm_context *ref = t_ctx(m, 64, 1, 64);
    REQUIRE(llm_eval(ref, seq, 10, false, err, sizeof err), "%s", err);
    CHECK(t_max_rel(llm_get_logits(a, 0), llm_get_logits(ref, 0), V) < 1e-5,
          "context a disturbed by b");
    llm_context_free(a); llm_context_free(b); llm_context_free(ref);
    llm_model_free(m);
}

int main(int argc, char **argv) {
    REQUIRE(argc == 2, "usage: test_forward WORKDIR");
    char llama[1024], qwen[1024], qwen_q8[1024], wide[1024];
    snprintf(llama, sizeof llama, "%s/fwd-llama.gguf", argv[1]);
    snprintf(qwen, sizeof qwen, "%s/fwd-qwen2.gguf", argv[1]);
    snprintf(qwen_q8, sizeof qwen_q8, "%s/fwd-qwen2-q8.gguf", argv[1]);
    t_synth(llama, "--layers", "3", "--dim", "64", "--heads", "8", "--kv-heads", "2", "--ffn", "96",
            "--vocab", "300", "--type", "F32", "--seed", "11", NULL);
    t_synth(qwen, "--arch", "qwen2", "--layers", "2", "--dim", "64", "--heads", "4", "--kv-heads", "2",
            "--ffn", "128", "--vocab", "260", "--type", "F32", "--seed", "12", NULL);
    t_synth(qwen_q8, "--arch", "qwen2", "--layers", "2", "--dim", "64", "--heads", "4", "--kv-heads", "2",
            "--ffn", "128", "--vocab", "260", "--type", "Q8_0", "--seed", "12", NULL);
    /* Wide enough that matrix products and attention go to the pool. */
    snprintf(wide, sizeof wide, "%s/fwd-wide-q4.gguf", argv[1]);
    t_synth(wide, "--layers", "2", "--dim", "512", "--heads", "8", "--kv-heads", "2", "--ffn", "1024",
            "--vocab", "600", "--type", "Q4_0", "--seed", "13", NULL);
    check_model(wide, "llama Q4_0 (pooled)", 0.15);
    check_model(llama, "llama F32", 5e-3);
    check_model(qwen, "qwen2 F32", 5e-3);
    check_model(qwen_q8, "qwen2 Q8_0", 0.15);
    check_truncate(llama);
    check_kv_type(llama, wide);
    check_shared_model(llama);

    llm_model *q = t_open(qwen);
    const llm_hparams *hp = llm_model_hparams(q);
    CHECK(hp->rope_neox && strcmp(hp->arch, "qwen2") == 0 && hp->rope_base == 1000000.0f,
          "qwen2 hparams: neox %d base %g", hp->rope_neox, (double)hp->rope_base);
    llm_model_free(q);
    llm_model *l = t_open(llama);
    hp = llm_model_hparams(l);
    CHECK(!hp->rope_neox && hp->n_head_kv == 2 && hp->head_dim == 8 && hp->n_vocab == 300,
          "llama hparams");
    llm_model_free(l);
    return t_result("test_forward");
}
