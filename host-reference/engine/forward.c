/* forward.c: the transformer forward pass of the llama family, top to
 * bottom. One call runs a batch of n tokens at positions pos..pos+n-1:
 *
 *   x = token_embd[tokens]
 *   for each layer:
 *       h = rmsnorm(x) * attn_norm
 *       q, k, v = h·Wq (+bq), h·Wk (+bk), h·Wv (+bv)        (one parallel job)
 *       rope(q, k) at each row's position; append k, v to the KV cache
 *       a = causal attention of q over the cache, GQA heads    (parallel over KV heads)
 *       x += a·Wo
 *       h = rmsnorm(x) * ffn_norm
 *       x += (silu(h·Wgate) * h·Wup)·Wdown
 *   xb = rmsnorm(x) * output_norm; logits = xb·Woutput
 *
 * Shapes come from the model's hyperparameters; the per-architecture
 * differences (biases, RoPE pair layout) are data in the model. Matrix
 * products split their output rows over the context's thread pool and
 * attention splits its (token, KV head) pairs; the other steps are cheap and
 * run on the calling thread. No split changes any arithmetic, so results
 * do not depend on the thread count.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>

#include "llm_internal.h"

/* ---- matrix products on the pool ------------------------------------ */

enum { MAX_MM = 3, TILE = 16, MAX_REGIONS = 256 };   /* regions: one per pool thread (<= 256) */

/* Below this many multiply-adds a job runs on the calling thread: waking
 * the pool costs more than it saves (tiny models, short attention). The
 * split never changes a result, only who computes it. */
#define SMALL_JOB (1u << 18)

/* The rows of a job's weights, taken one after another in tiles of 16
 * (SIMD kernels work on full tiles), are cut into one region per thread.
 * A thread works through its region from the front, half of what is left
 * at a time, so its pieces follow each other in memory (the kernel's
 * look-ahead past one piece is the start of the next: no cold start per
 * piece); a thread done with its own region takes halves from the backs
 * of the others'. The threads finish within about a tile of each other,
 * as with the shrinking chunks dealt in turn that this replaces, whose
 * every chunk was a new stream: generation +0.7 to +4.5% (Q8_0, Q4_K_M,
 * Q4_0; 2 threads, per-round medians, the two splits alternated). */
typedef struct {
    const kn_ops *kn;
    int n_w;
    const llm_weight *w[MAX_MM];
    float *y[MAX_MM];           /* y[k] row b at y[k] + b*w[k]->rows */
    int tile0[MAX_MM + 1];      /* w[k] is tiles [tile0[k], tile0[k+1]) */
    const void *xq;             /* nb activation rows, xq_stride bytes apart */
    size_t xq_stride;
    int nb;
    _Atomic uint64_t region[MAX_REGIONS];   /* tiles left in region i: lo | hi << 32 */
} mm_job;

static void run_tiles(const mm_job *j, int t0, int t1) {
    for (int k = 0; k < j->n_w; k++) {
        const llm_weight *w = j->w[k];
        const int a = t0 > j->tile0[k] ? t0 : j->tile0[k];
        const int b = t1 < j->tile0[k + 1] ? t1 : j->tile0[k + 1];
        if (a >= b) continue;
        const int r0 = (a - j->tile0[k]) * TILE;
        const int r1 = (b - j->tile0[k]) * TILE < w->rows ? (b - j->tile0[k]) * TILE : w->rows;
        const uint8_t *W = (const uint8_t *)w->data + (size_t)r0 * w->stride;
        if (j->nb == 1)
            j->kn->matvec(w->type, W, w->stride, j->xq, j->y[k] + r0, r1 - r0, w->cols);
        else
            j->kn->matmul(w->type, W, w->stride, j->xq, j->xq_stride, j->y[k] + r0,
                          (size_t)w->rows, r1 - r0, w->cols, j->nb);
    }
}

/* Take half of what is left of region r: from its front (the owner, so
 * its pieces follow each other in memory) or its back (a thief). */
static bool take_half(mm_job *j, int r, bool front, int *a, int *b) {
    uint64_t c = atomic_load(&j->region[r]);
    for (;;) {
        const int lo = (int)(uint32_t)c, hi = (int)(c >> 32);
        if (lo >= hi) return false;
        const int n = (hi - lo + 1) / 2;
        const uint64_t next = front ? (uint64_t)(uint32_t)(lo + n) | (uint64_t)hi << 32
                                    : (uint64_t)(uint32_t)lo | (uint64_t)(hi - n) << 32;
        if (atomic_compare_exchange_weak(&j->region[r], &c, next)) {
            *a = front ? lo : hi - n;
            *b = front ? lo + n : hi;
            return true;
        }
    }
}

static void mm_worker(void *arg, int chunk, int n_chunks, int thread) {
    (void)thread;
    mm_job *j = arg;
    int a, b;
    while (take_half(j, chunk, true, &a, &b)) run_tiles(j, a, b);
    for (int i = 1; i < n_chunks; i++)
        while (take_half(j, (chunk + i) % n_chunks, false, &a, &b)) run_tiles(j, a, b);
}

typedef struct {
    const kn_ops *kn;
    uint32_t act_type;
    const float *x;
    int n;
    uint8_t *dst;
    size_t dst_stride;
    int nb;
} quant_job;

static void quant_worker(void *arg, int chunk, int n_chunks, int thread) {
    (void)thread;
    const quant_job *j = arg;
    for (int b = chunk; b < j->nb; b += n_chunks)
        j->kn->quantize_act(j->act_type, j->x + (size_t)b * (size_t)j->n,
                            j->dst + (size_t)b * j->dst_stride, j->n);
}

/* y[k] = X·w[k]ᵀ for nb rows of X (n_in floats each). Weights sharing an
 * activation format share one conversion of X and one pool dispatch. */
static void matmul(llm_context *c, const float *X, int nb, int n_w,
                   const llm_weight *const *w, float *const *y) {
    int k = 0;
    while (k < n_w) {
        const uint32_t act = kn_act_type(w[k]->type);
        const int n_in = w[k]->cols;
        mm_job job = {.kn = c->kn, .nb = nb};
        if (act == GGML_F32) {
            job.xq = X;
            job.xq_stride = (size_t)n_in * sizeof(float);
        } else {
            quant_job q = {c->kn, act, X, n_in, c->xq, c->xq_row_bytes, nb};
            if ((size_t)nb * (size_t)n_in < SMALL_JOB) quant_worker(&q, 0, 1, 0);
            else llm_pool_run(c->pool, quant_worker, &q, c->n_chunks);
            job.xq = c->xq;
            job.xq_stride = c->xq_row_bytes;
        }
        size_t work = 0;
        while (k < n_w && job.n_w < MAX_MM && kn_act_type(w[k]->type) == act) {
            job.w[job.n_w] = w[k];
            job.y[job.n_w] = y[k];
            job.tile0[job.n_w + 1] = job.tile0[job.n_w] + (w[k]->rows + TILE - 1) / TILE;
            work += (size_t)w[k]->rows * (size_t)w[k]->cols * (size_t)nb;
            job.n_w++;
            k++;
        }
        const int pool = llm_pool_size(c->pool), T = job.tile0[job.n_w];
        const int threads = work < SMALL_JOB ? 1 : pool < MAX_REGIONS ? pool : MAX_REGIONS;
        if (threads == 1) {
            run_tiles(&job, 0, T);
            continue;
        }
        for (int i = 0; i < threads; i++)
            atomic_init(&job.region[i], (uint32_t)((int64_t)T * i / threads) | (uint64_t)((int64_t)T * (i + 1) / threads) << 32);
        llm_pool_run(c->pool, mm_worker, &job, threads);
    }
}

/* ---- attention on the pool ------------------------------------------ */

typedef struct {
    llm_context *c;
    int layer, nb;
} attn_job;

static void attn_worker(void *arg, int chunk, int n_chunks, int thread) {
    const attn_job *j = arg;
    llm_context *c = j->c;
    const llm_hparams *hp = &c->m->hp;
    const int hd = hp->head_dim, E = hp->n_embd, group = hp->n_head / hp->n_head_kv;
    const float scale = 1.0f / sqrtf((float)hd);
    float *scratch = c->attn_scratch + (size_t)thread * c->attn_scratch_floats;
    for (int idx = chunk; idx < j->nb * hp->n_head_kv; idx += n_chunks) {
        const int b = idx / hp->n_head_kv, kvh = idx % hp->n_head_kv;
        const size_t off = (size_t)kvh * c->kv_head_bytes, qo = (size_t)b * E + (size_t)kvh * group * hd;
        c->kn->attention(c->att + qo, c->q + qo, group, c->k_cache[j->layer] + off,
                         c->v_cache[j->layer] + off, c->kv_row_bytes, c->kv_type, c->pos + b + 1, hd,
                         scale, scratch);
    }
}

/* A job is (token, KV head) pairs: each call runs the KV head's whole
 * query group, which reads the cached rows once for all of them. One pair
 * per chunk while there are few (a generated token's KV heads: an equal
 * share each); many pairs (a prompt) are dealt out in strides, which also
 * spreads the causal mask's short and long rows evenly. */
static int attn_chunks(const llm_context *c, int pairs) {
    if (c->n_chunks == 1) return 1;
    return pairs <= 16 * c->n_chunks ? pairs : 16 * c->n_chunks;
}

/* ---- small helpers --------------------------------------------------- */

static void add_rows(const kn_ops *kn, float *x, const float *y, int nb, int n) {
    for (int b = 0; b < nb; b++) kn->axpy(x + (size_t)b * n, 1.0f, y + (size_t)b * n, n);
}

static void add_bias(const kn_ops *kn, float *x, const float *bias, int nb, int n) {
    if (bias) for (int b = 0; b < nb; b++) kn->axpy(x + (size_t)b * n, 1.0f, bias, n);
}

static void rmsnorm_rows(const kn_ops *kn, float *out, const float *x, const float *w,
                         int nb, int n, float eps) {
    for (int b = 0; b < nb; b++) kn->rmsnorm(out + (size_t)b * n, x + (size_t)b * n, w, n, eps);
}

/* Row b of src (n_kv heads of hd floats) goes to each head's cache at
 * position pos+b, in the layout `block` names (kn_k_block: V is always
 * rows, K may be 16-position blocks). */
static void store_kv(llm_context *c, uint8_t *cache, const float *src, int nb, int n_kv, int hd, int block) {
    const bool f16 = c->kv_type == GGML_F16;
    const size_t size = f16 ? 2 : 4;
    for (int b = 0; b < nb; b++)
        for (int h = 0; h < n_kv; h++) {
            uint8_t *head = cache + (size_t)h * c->kv_head_bytes;
            const int pos = c->pos + b;
            const float *s = src + ((size_t)b * (size_t)n_kv + (size_t)h) * (size_t)hd;
            if (!block) {   /* a row: copied, or converted by the kernel table */
                uint8_t *row = head + (size_t)pos * c->kv_row_bytes;
                if (f16) c->kn->quantize_act(GGML_F16, s, row, hd);
                else memcpy(row, s, (size_t)hd * sizeof(float));
                continue;
            }
            for (int i0 = 0; i0 < hd; i0 += 64) {   /* blocked K: element by element, 64 converted at a time */
                const int n = hd - i0 < 64 ? hd - i0 : 64;
                uint16_t h16[64];
                if (f16) c->kn->quantize_act(GGML_F16, s + i0, h16, n);
                for (int i = 0; i < n; i++)
                    memcpy(head + kn_k_offset(block, c->kv_row_bytes, size, pos, i0 + i), f16 ? (const void *)&h16[i]
                                                                                            : (const void *)&s[i0 + i], size);
            }
        }
}

/* ---- the pass ----------------------------------------------------------- */

void llm_forward(llm_context *c, const int32_t *tokens, int nb, float *logits, bool all_rows) {
    const llm_model *m = c->m;
    const llm_hparams *hp = &m->hp;
    const kn_ops *kn = c->kn;
    const int E = hp->n_embd, F = hp->n_ff, hd = hp->head_dim;
    const int KV = hp->n_head_kv * hd, half = hp->n_rot / 2;

    /* Token embeddings; rows may be quantized. */
    for (int b = 0; b < nb; b++)
        kn_dequantize_row(m->tok_embd.type,
                          (const uint8_t *)m->tok_embd.data + (size_t)tokens[b] * m->tok_embd.stride,
                          c->x + (size_t)b * E, E);

    /* cos/sin for each row's position. */
    for (int b = 0; b < nb; b++) {
        const double pos = (double)(c->pos + b);
        float *cs = c->rope_cs + (size_t)b * (size_t)hp->n_rot;
        for (int i = 0; i < half; i++) {
            cs[2 * i] = (float)cos(pos * c->rope_freq[i]);
            cs[2 * i + 1] = (float)sin(pos * c->rope_freq[i]);
        }
    }

    for (int l = 0; l < hp->n_layer; l++) {
        const llm_layer *L = &m->layers[l];

        /* Attention block. */
        rmsnorm_rows(kn, c->xb, c->x, L->attn_norm, nb, E, hp->rms_eps);
        const llm_weight *qkv_w[3] = {&L->wq, &L->wk, &L->wv};
        float *qkv_y[3] = {c->q, c->k, c->v};
        matmul(c, c->xb, nb, 3, qkv_w, qkv_y);
        add_bias(kn, c->q, L->bq, nb, E);
        add_bias(kn, c->k, L->bk, nb, KV);
        add_bias(kn, c->v, L->bv, nb, KV);
        for (int b = 0; b < nb; b++) {
            const float *cs = c->rope_cs + (size_t)b * (size_t)hp->n_rot;
            kn->rope(c->q + (size_t)b * E, hp->n_head, hd, hp->n_rot, cs, hp->rope_neox);
            kn->rope(c->k + (size_t)b * KV, hp->n_head_kv, hd, hp->n_rot, cs, hp->rope_neox);
        }
        store_kv(c, c->k_cache[l], c->k, nb, hp->n_head_kv, hd, c->k_block);
        store_kv(c, c->v_cache[l], c->v, nb, hp->n_head_kv, hd, 0);
        attn_job aj = {c, l, nb};
        if ((size_t)nb * (size_t)(c->pos + nb) * (size_t)E < SMALL_JOB) attn_worker(&aj, 0, 1, 0);
        else llm_pool_run(c->pool, attn_worker, &aj, attn_chunks(c, nb * hp->n_head_kv));
        const llm_weight *wo[1] = {&L->wo};
        float *o[1] = {c->xb};
        matmul(c, c->att, nb, 1, wo, o);
        add_rows(kn, c->x, c->xb, nb, E);

        /* Feed-forward block (SwiGLU). */
        rmsnorm_rows(kn, c->xb, c->x, L->ffn_norm, nb, E, hp->rms_eps);
        const llm_weight *gu_w[2] = {&L->w_gate, &L->w_up};
        float *gu_y[2] = {c->hb, c->hb2};
        matmul(c, c->xb, nb, 2, gu_w, gu_y);
        for (int b = 0; b < nb; b++)
            kn->silu_mul(c->hb + (size_t)b * F, c->hb2 + (size_t)b * F, F);
        const llm_weight *wd[1] = {&L->w_down};
        float *d[1] = {c->xb};
        matmul(c, c->hb, nb, 1, wd, d);
        add_rows(kn, c->x, c->xb, nb, E);
    }

    /* Output: final norm of every row (embeddings use it), logits of the
     * rows asked for. */
    rmsnorm_rows(kn, c->xb, c->x, m->output_norm, nb, E, hp->rms_eps);
    if (logits) {
        const llm_weight *wout[1] = {&m->output};
        float *lg[1] = {logits};
        if (all_rows) matmul(c, c->xb, nb, 1, wout, lg);
        else matmul(c, c->xb + (size_t)(nb - 1) * E, 1, 1, wout, lg);
    }
    c->pos += nb;
}
