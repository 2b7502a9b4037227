/* test_reference.c: the engine against a second, naive implementation of
 * the same models written here in double precision straight from the
 * definitions (no kernels, no batching, no threads): llama with grouped
 * KV heads, a tied output, another RoPE base and linear RoPE scaling;
 * qwen2 with Q/K/V biases and neox RoPE, and with a single KV head. The
 * golden stories260K run only covers plain llama; this covers the rest.
 * Usage: test_reference WORKDIR */
#define _POSIX_C_SOURCE 200809L   /* stat */
#include "engine_test.h"

typedef struct {
    const gguf_file *f;
    const llm_hparams *hp;
    double *k_cache, *v_cache;   /* [layer][pos][n_head_kv*head_dim] */
    int n_ctx;
} ref_model;

static const float *tensor(const ref_model *r, const char *fmt, int l) {
    char name[96];
    snprintf(name, sizeof name, fmt, l);
    const gguf_tensor *t = gguf_find_tensor(r->f, name);
    return t && t->type == GGML_F32 ? t->data : NULL;
}

/* y[rows] = W[rows x cols] x */
static void matvec(const float *W, const double *x, double *y, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int c = 0; c < cols; c++) s += (double)W[(size_t)r * cols + c] * x[c];
        y[r] = s;
    }
}

static void rmsnorm(const double *x, const float *w, double *out, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    double k = 1.0 / sqrt(ss / n + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * k * w[i];
}

static void rope(double *v, int n_heads, const llm_hparams *hp, int pos) {
    const int hd = hp->head_dim, half = hp->n_rot / 2;
    for (int h = 0; h < n_heads; h++) {
        double *x = v + (size_t)h * hd;
        for (int i = 0; i < half; i++) {
            double theta = pos * (double)hp->rope_freq_scale * pow(hp->rope_base, -2.0 * i / hp->n_rot);
            int a = hp->rope_neox ? i : 2 * i, b = hp->rope_neox ? i + half : 2 * i + 1;
            double x0 = x[a], x1 = x[b];
            x[a] = x0 * cos(theta) - x1 * sin(theta);
            x[b] = x0 * sin(theta) + x1 * cos(theta);
        }
    }
}

/* Logits of token tok at position pos (all earlier positions already run). */
static void ref_step(ref_model *r, int tok, int pos, double *logits) {
    const llm_hparams *hp = r->hp;
    const int E = hp->n_embd, F = hp->n_ff, hd = hp->head_dim, KV = hp->n_head_kv * hd;
    double *x = calloc((size_t)E, sizeof *x), *h = calloc((size_t)E, sizeof *h);
    double *q = calloc((size_t)E, sizeof *q), *att = calloc((size_t)E, sizeof *att);
    double *o = calloc((size_t)E, sizeof *o), *g = calloc((size_t)F, sizeof *g);
    double *u = calloc((size_t)F, sizeof *u), *s = calloc((size_t)pos + 1, sizeof *s);
    const float *embd = tensor(r, "token_embd.weight", 0);
    for (int i = 0; i < E; i++) x[i] = embd[(size_t)tok * E + i];
    for (int l = 0; l < hp->n_layer; l++) {
        double *kc = r->k_cache + ((size_t)l * r->n_ctx + pos) * KV;
        double *vc = r->v_cache + ((size_t)l * r->n_ctx + pos) * KV;
        rmsnorm(x, tensor(r, "blk.%d.attn_norm.weight", l), h, E, hp->rms_eps);
        matvec(tensor(r, "blk.%d.attn_q.weight", l), h, q, E, E);
        matvec(tensor(r, "blk.%d.attn_k.weight", l), h, kc, KV, E);
        matvec(tensor(r, "blk.%d.attn_v.weight", l), h, vc, KV, E);
        const float *bq = tensor(r, "blk.%d.attn_q.bias", l), *bk = tensor(r, "blk.%d.attn_k.bias", l),
                    *bv = tensor(r, "blk.%d.attn_v.bias", l);
        for (int i = 0; bq && i < E; i++) q[i] += bq[i];
        for (int i = 0; bk && i < KV; i++) kc[i] += bk[i];
        for (int i = 0; bv && i < KV; i++) vc[i] += bv[i];
        rope(q, hp->n_head, hp, pos);
        rope(kc, hp->n_head_kv, hp, pos);
        for (int hh = 0; hh < hp->n_head; hh++) {
            const int kvh = hh / (hp->n_head / hp->n_head_kv);
            double max = -INFINITY, sum = 0;
            for (int p = 0; p <= pos; p++) {
                const double *k = r->k_cache + ((size_t)l * r->n_ctx + p) * KV + (size_t)kvh * hd;
                double d = 0;
                for (int i = 0; i < hd; i++) d += q[hh * hd + i] * k[i];
                s[p] = d / sqrt((double)hd);
                if (s[p] > max) max = s[p];
            }
            for (int p = 0; p <= pos; p++) { s[p] = exp(s[p] - max); sum += s[p]; }
            for (int i = 0; i < hd; i++) att[hh * hd + i] = 0;
            for (int p = 0; p <= pos; p++) {
                const double *v = r->v_cache + ((size_t)l * r->n_ctx + p) * KV + (size_t)kvh * hd;
                for (int i = 0; i < hd; i++) att[hh * hd + i] += s[p] / sum * v[i];
            }
        }
        matvec(tensor(r, "blk.%d.attn_output.weight", l), att, o, E, E);
        for (int i = 0; i < E; i++) x[i] += o[i];
        rmsnorm(x, tensor(r, "blk.%d.ffn_norm.weight", l), h, E, hp->rms_eps);
        matvec(tensor(r, "blk.%d.ffn_gate.weight", l), h, g, F, E);
        matvec(tensor(r, "blk.%d.ffn_up.weight", l), h, u, F, E);
        double *gu = calloc((size_t)F, sizeof *gu);
        for (int i = 0; i < F; i++) gu[i] = g[i] / (1.0 + exp(-g[i])) * u[i];
        matvec(tensor(r, "blk.%d.ffn_down.weight", l), gu, o, E, F);
        free(gu);
        for (int i = 0; i < E; i++) x[i] += o[i];
    }
    rmsnorm(x, tensor(r, "output_norm.weight", 0), h, E, hp->rms_eps);
    const float *out = tensor(r, "output.weight", 0);
    matvec(out ? out : embd, h, logits, hp->n_vocab, E);
    free(x); free(h); free(q); free(att); free(o); free(g); free(u); free(s);
}

static void compare(const char *path, const char *what) {
    llm_model *m = t_open(path);
    const llm_hparams *hp = llm_model_hparams(m);
    static const int32_t toks[] = {1, 77, 3, 200, 45, 45, 120, 9, 250, 31, 64, 100};
    const int n = (int)(sizeof toks / sizeof toks[0]), V = hp->n_vocab;
    ref_model r = {llm_model_gguf(m), hp, NULL, NULL, n};
    const size_t kv = (size_t)hp->n_layer * (size_t)n * (size_t)hp->n_head_kv * (size_t)hp->head_dim;
    r.k_cache = calloc(kv, sizeof *r.k_cache);
    r.v_cache = calloc(kv, sizeof *r.v_cache);
    llm_context *c = t_ctx(m, 32, 2, 5);
    char err[256];
    REQUIRE(llm_eval(c, toks, n, true, err, sizeof err), "%s", err);
    double *want = malloc((size_t)V * sizeof *want);
    float *wantf = malloc((size_t)V * sizeof *wantf);
    for (int p = 0; p < n; p++) {
        ref_step(&r, toks[p], p, want);
        for (int i = 0; i < V; i++) wantf[i] = (float)want[i];
        double rel = t_max_rel(llm_get_logits(c, p), wantf, V);
        CHECK(rel < 1e-4, "%s: position %d: max relative error %g vs the reference", what, p, rel);
    }
    free(want); free(wantf); free(r.k_cache); free(r.v_cache);
    llm_context_free(c);
    llm_model_free(m);
}

int main(int argc, char **argv) {
    REQUIRE(argc == 2, "usage: test_reference WORKDIR");
    char p[4][1024];
    for (int i = 0; i < 4; i++) snprintf(p[i], sizeof p[i], "%s/ref-%d.gguf", argv[1], i);
    t_synth(p[0], "--layers", "2", "--dim", "64", "--heads", "8", "--kv-heads", "2", "--ffn", "96",
            "--vocab", "300", "--seed", "21", NULL);
    t_synth(p[1], "--layers", "2", "--dim", "64", "--heads", "4", "--kv-heads", "4", "--ffn", "80",
            "--vocab", "280", "--seed", "22", "--tied", "yes", "--rope-scale", "4", "--rope-base",
            "500", NULL);
    t_synth(p[2], "--arch", "qwen2", "--layers", "2", "--dim", "64", "--heads", "4", "--kv-heads", "2",
            "--ffn", "96", "--vocab", "270", "--seed", "23", NULL);
    t_synth(p[3], "--arch", "qwen2", "--layers", "1", "--dim", "96", "--heads", "6", "--kv-heads", "1",
            "--ffn", "64", "--vocab", "260", "--seed", "24", "--tied", "yes", NULL);
    compare(p[0], "llama GQA 8/2");
    compare(p[1], "llama tied, linear RoPE x4, base 500");
    compare(p[2], "qwen2 biases, neox");
    compare(p[3], "qwen2 tied, MQA");

    llm_model *m = t_open(p[1]);
    CHECK(llm_model_hparams(m)->tied_output && llm_model_hparams(m)->rope_freq_scale == 0.25f,
          "tied %d, freq scale %g", llm_model_hparams(m)->tied_output,
          (double)llm_model_hparams(m)->rope_freq_scale);
    llm_model_free(m);
    return t_result("test_reference");
}
