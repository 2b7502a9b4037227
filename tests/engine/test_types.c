/* test_types.c: every weight type end to end. For each type a synthetic
 * model is written in that type, and again as its own F32 dequantization
 * (synth --dequantize-from); the two must give next-token logits that
 * agree within the error the type's activation format explains (F32
 * activations for F32/F16/BF16: rounding only; Q8_0/Q8_1/Q8_K
 * activations: about 1%). For lossy types the quantized model must also
 * be closer to its dequantization than to the original F32 weights, which
 * shows the engine reads the quantized bits the way they were written.
 * Usage: test_types WORKDIR */
#define _POSIX_C_SOURCE 200809L   /* stat */
#include "engine_test.h"

static const int32_t seq[] = {1, 70, 120, 33, 200, 258, 3, 99, 150, 151, 152, 40, 41, 42, 43, 44};
enum { NSEQ = sizeof seq / sizeof seq[0] };

static float *logits_of(const char *path, int *V) {
    llm_model *m = t_open(path);
    *V = llm_model_hparams(m)->n_vocab;
    llm_context *c = t_ctx(m, 32, 2, 8);
    char err[256];
    REQUIRE(llm_eval(c, seq, NSEQ, true, err, sizeof err), "%s", err);
    float *out = malloc((size_t)NSEQ * (size_t)*V * sizeof *out);
    for (int i = 0; i < NSEQ; i++)
        memcpy(out + (size_t)i * *V, llm_get_logits(c, i), (size_t)*V * sizeof *out);
    llm_context_free(c);
    llm_model_free(m);
    return out;
}

/* sqrt(mean((a-b)^2)) / sqrt(mean(b^2)) */
static double rel_rms(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1));
}

static uint32_t tensor_type(const char *path, const char *name) {
    char err[256];
    gguf_file *f = gguf_open_file(path, err, sizeof err);
    REQUIRE(f != NULL, "%s", err);
    const gguf_tensor *t = gguf_find_tensor(f, name);
    uint32_t type = t ? t->type : 9999;
    gguf_close(f);
    return type;
}

int main(int argc, char **argv) {
    REQUIRE(argc == 2, "usage: test_types WORKDIR");
    static const struct {
        const char *name;
        uint32_t q_type, out_type;   /* of attn_q and output */
        double tol;                  /* quantized vs its dequantization */
        bool lossy;
    } types[] = {
        {"F32", GGML_F32, GGML_F32, 1e-6, false},
        {"F16", GGML_F16, GGML_F16, 1e-5, true},
        {"BF16", GGML_BF16, GGML_BF16, 1e-5, true},
        {"Q8_0", GGML_Q8_0, GGML_Q8_0, 0.03, true},
        {"Q4_0", GGML_Q4_0, GGML_Q4_0, 0.03, true},
        {"Q4_1", GGML_Q4_1, GGML_Q4_1, 0.03, true},
        {"Q5_0", GGML_Q5_0, GGML_Q5_0, 0.03, true},
        {"Q5_1", GGML_Q5_1, GGML_Q5_1, 0.03, true},
        {"Q4_K", GGML_Q4_K, GGML_Q4_K, 0.03, true},
        {"Q5_K", GGML_Q5_K, GGML_Q5_K, 0.03, true},
        {"Q6_K", GGML_Q6_K, GGML_Q6_K, 0.03, true},
        {"Q4_K_M", GGML_Q4_K, GGML_Q6_K, 0.03, true},
    };
    const char *shape[] = {"--layers", "2", "--dim", "256", "--heads", "4", "--kv-heads", "2",
                           "--ffn", "512", "--vocab", "300", "--seed", "5"};
#define SHAPE shape[0], shape[1], shape[2], shape[3], shape[4], shape[5], shape[6], shape[7], \
              shape[8], shape[9], shape[10], shape[11], shape[12], shape[13]
    char raw[1024];
    snprintf(raw, sizeof raw, "%s/types-raw-F32.gguf", argv[1]);
    t_synth(raw, SHAPE, "--type", "F32", NULL);
    int V;
    float *ref = logits_of(raw, &V);
    const size_t n = (size_t)NSEQ * (size_t)V;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        char q[1024], d[1024];
        snprintf(q, sizeof q, "%s/types-%s.gguf", argv[1], types[i].name);
        snprintf(d, sizeof d, "%s/types-%s-deq.gguf", argv[1], types[i].name);
        t_synth(q, SHAPE, "--type", types[i].name, NULL);
        char *deq_argv[] = {"synth", "--dequantize-from", q, "-o", d, NULL};
        REQUIRE(pack_synth(5, deq_argv) == 0, "dequantize %s", q);
        CHECK(tensor_type(q, "blk.1.attn_q.weight") == types[i].q_type &&
              tensor_type(q, "output.weight") == types[i].out_type, "%s: tensor types", types[i].name);
        CHECK(tensor_type(d, "blk.1.attn_q.weight") == GGML_F32, "%s: dequantized type", types[i].name);
        int V2;
        float *lq = logits_of(q, &V2), *ld = logits_of(d, &V2);
        double e_deq = rel_rms(lq, ld, n), e_raw = rel_rms(lq, ref, n);
        printf("%-7s vs own dequantization %.3g, vs original F32 weights %.3g\n", types[i].name,
               e_deq, e_raw);
        CHECK(e_deq <= types[i].tol, "%s: %g vs dequantized exceeds %g", types[i].name, e_deq,
              types[i].tol);
        if (types[i].lossy)
            CHECK(e_deq < e_raw, "%s: closer to the original weights (%g) than to its own "
                  "dequantization (%g)", types[i].name, e_raw, e_deq);
        free(lq);
        free(ld);
    }
    free(ref);
    return t_result("test_types");
}
