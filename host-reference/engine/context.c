/* context.c: an llm_context's life: allocation of the KV cache, RoPE table
 * and activation buffers, evaluation in batches, and the bookkeeping
 * around the forward pass (forward.c). */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cpu_pin.h"
#include "llm_internal.h"
#include "llm_err.h"

/* A forward pass takes at most this many tokens: the activation scratch
 * grows with it (~85 KB a token at 1.1B, ~22 MB at 256), while a larger
 * pass saves only one more read of the weights per 256 prompt tokens,
 * small beside a batch's arithmetic. Longer prompts run in passes. */
enum { LLM_MAX_UBATCH = 256 };

/* Largest KV cache that asks for huge pages (see llm_context_new). */
#define KV_HUGE_MAX ((size_t)512 << 20)

llm_context_params llm_context_default_params(void) {
    /* 256 tokens per pass: half the scratch of 512 (~20 MB at 1.1B) for
     * one more read of each weight matrix per 512 prompt tokens, which is
     * small beside the arithmetic of a batch. */
    llm_context_params p = {.n_ctx = 0, .n_threads = 1, .n_batch = 256, .kv_type = LLM_KV_AUTO,
                            .pin_cpus = NULL};
    return p;
}

/* Largest quantized row any matrix of the model needs for its input. */
static size_t max_act_row_bytes(const llm_model *m) {
    const llm_weight *ws[LLM_LAYER_MATS];
    size_t best = 0;
    for (int l = -1; l < m->hp.n_layer; l++) {
        int n = 1;
        if (l < 0) {
            ws[0] = &m->output;
        } else {
            llm_layer_weights(&m->layers[l], ws);
            n = LLM_LAYER_MATS;
        }
        for (int i = 0; i < n; i++) {
            size_t b = kn_row_bytes(kn_act_type(ws[i]->type), ws[i]->cols);
            if (b > best) best = b;
        }
    }
    return best;
}

/* LLM_KV_AUTO's rule (llm.h): F16 when every layer matrix takes 8-bit
 * activations. Measured on random 2-layer models (logits of 64 positions,
 * relative RMS): F16 vs F32 cache 1.4% for Q4_0/Q8_0 and 2.0% for Q4_K_M,
 * the same size as, and no further from the dequantized model than, the
 * activations' own rounding (1.4% / 2.0%); 2.3e-4 for an F16 model, whose
 * results are otherwise exact. */
static uint32_t pick_kv_type(const llm_model *m, llm_kv_type want) {
    if (want == LLM_KV_F32) return GGML_F32;
    if (want == LLM_KV_F16) return GGML_F16;
    for (int l = 0; l < m->hp.n_layer; l++) {
        const llm_weight *ws[LLM_LAYER_MATS];
        llm_layer_weights(&m->layers[l], ws);
        for (int i = 0; i < LLM_LAYER_MATS; i++) {
            const uint32_t at = kn_act_type(ws[i]->type);
            if (at != GGML_Q8_0 && at != GGML_Q8_1 && at != GGML_Q8_K) return GGML_F32;
        }
    }
    return m->hp.n_layer > 0 ? GGML_F16 : GGML_F32;
}

static void *alloc_floats(size_t n, bool *ok) {
    void *p = calloc(n ? n : 1, sizeof(float));
    if (!p) *ok = false;
    return p;
}

llm_context *llm_context_new(const llm_model *m, const llm_context_params *params,
                             char *err, size_t errlen) {
    const llm_hparams *hp = &m->hp;
    llm_context_params p = params ? *params : llm_context_default_params();
    if (p.n_ctx == 0) p.n_ctx = hp->n_ctx_train;
    if (p.n_ctx < 1 || p.n_ctx > (1 << 20)) {
        llm_fail(err, errlen, "llm: context size %d out of range [1, %d]", p.n_ctx, 1 << 20);
        return NULL;
    }
    if (p.n_threads < 1 || p.n_threads > 256) {
        llm_fail(err, errlen, "llm: thread count %d out of range [1, 256]", p.n_threads);
        return NULL;
    }
    if (p.kv_type != LLM_KV_AUTO && p.kv_type != LLM_KV_F32 && p.kv_type != LLM_KV_F16) {
        llm_fail(err, errlen, "llm: KV cache type %d unknown (auto, F32 or F16)", (int)p.kv_type);
        return NULL;
    }
    const char *pin = p.pin_cpus ? p.pin_cpus : getenv("WASMLET_PIN");
    int pin_list[256], *cpus = NULL;   /* n_threads <= 256, checked above */
    if (pin && *pin) {
        char why[160];
        if (!llm_cpu_pin_parse(pin, p.n_threads, pin_list, why, sizeof why)) {
            llm_fail(err, errlen, "llm: %s%s", why, p.pin_cpus ? "" : " (from WASMLET_PIN)");
            return NULL;
        }
        cpus = pin_list;
    }
    p.pin_cpus = NULL;   /* the caller's string need not outlive this call */
    if (p.n_batch < 1) p.n_batch = 1;
    if (p.n_batch > LLM_MAX_UBATCH) p.n_batch = LLM_MAX_UBATCH;
    if (p.n_batch > p.n_ctx) p.n_batch = p.n_ctx;

    llm_context *c = calloc(1, sizeof *c);
    if (!c) { llm_fail(err, errlen, "llm: out of memory"); return NULL; }
    c->m = m;
    c->kn = m->kn;
    c->p = p;
    bool ok = true;

    const size_t E = (size_t)hp->n_embd, KV = (size_t)hp->n_head_kv * (size_t)hp->head_dim;
    const size_t B = (size_t)p.n_batch, F = (size_t)hp->n_ff, T = (size_t)p.n_ctx;
    c->kv_type = pick_kv_type(m, p.kv_type);
    c->kv_row_bytes = (size_t)hp->head_dim * (c->kv_type == GGML_F16 ? 2 : 4);
    c->k_block = kn_k_block(c->kn, hp->head_dim, c->kv_type);
    /* Whole 16-position blocks, for a blocked K (kernels.h); V alike. */
    c->kv_head_bytes = (T + KN_K_BLOCK - 1) / KN_K_BLOCK * KN_K_BLOCK * c->kv_row_bytes;
    /* One anonymous mapping: page-aligned, so every 64-byte row sits on
     * cache lines (calloc's large blocks start 16 bytes into a page, and
     * attention's row loads then each touched one more line: 1.7x slower
     * at position 2000), and zero pages stay unbacked until written. */
    const size_t layer_bytes = (size_t)hp->n_head_kv * c->kv_head_bytes;
    c->k_cache = calloc((size_t)hp->n_layer, sizeof *c->k_cache);
    c->v_cache = calloc((size_t)hp->n_layer, sizeof *c->v_cache);
    c->kv_map_bytes = 2 * (size_t)hp->n_layer * layer_bytes;
    void *kv = mmap(NULL, c->kv_map_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    c->kv_map = kv == MAP_FAILED ? NULL : kv;
    /* Huge pages: attention walks the cache in 4 KB pages otherwise, a TLB
     * miss and a restart of the hardware prefetcher every 16 rows (F32,
     * head size 64). Measured at position 2000, TinyLlama shape, Q4_0, 2
     * threads: attention 2.8-3.0 -> 2.4-2.5 ms a token. The cost: every
     * layer and head starts its own run of rows, so the first token backs
     * the cache in 2 MB steps, nearly all of a small one (88 MB at n_ctx
     * 2048). Only caches up to KV_HUGE_MAX take the hint, so a long n_ctx
     * still grows 4 KB at a time. A hint: where THP is off it changes
     * nothing. */
    if (c->kv_map && c->kv_map_bytes <= KV_HUGE_MAX) madvise(kv, c->kv_map_bytes, MADV_HUGEPAGE);
    if (!c->k_cache || !c->v_cache || !c->kv_map) ok = false;
    for (int l = 0; ok && l < hp->n_layer; l++) {
        c->k_cache[l] = c->kv_map + 2 * (size_t)l * layer_bytes;
        c->v_cache[l] = c->k_cache[l] + layer_bytes;
    }

    /* RoPE: theta(pos, i) = pos * freq_scale * base^(-2i/n_rot); the
     * per-row cos/sin are filled by forward() from these frequencies. */
    const int half = hp->n_rot / 2;
    c->rope_freq = calloc((size_t)half + 1, sizeof *c->rope_freq);
    if (!c->rope_freq) ok = false;
    c->rope_cs = alloc_floats(B * (size_t)hp->n_rot, &ok);
    for (int i = 0; ok && i < half; i++)
        c->rope_freq[i] = hp->rope_freq_scale * pow((double)hp->rope_base, -2.0 * i / hp->n_rot);

    c->x = alloc_floats(B * E, &ok);
    c->xb = alloc_floats(B * E, &ok);
    c->q = alloc_floats(B * E, &ok);
    c->k = alloc_floats(B * KV, &ok);
    c->v = alloc_floats(B * KV, &ok);
    c->att = alloc_floats(B * E, &ok);
    c->hb = alloc_floats(B * F, &ok);
    c->hb2 = alloc_floats(B * F, &ok);
    c->xq_row_bytes = (max_act_row_bytes(m) + 63) & ~(size_t)63;
    c->xq = calloc(B, c->xq_row_bytes);
    if (!c->xq) ok = false;
    c->attn_scratch_floats = (size_t)(hp->n_head / hp->n_head_kv) * (T + (size_t)hp->head_dim);
    c->attn_scratch = alloc_floats((size_t)p.n_threads * c->attn_scratch_floats, &ok);
    c->cap_logits = 1;
    c->logits = alloc_floats((size_t)hp->n_vocab, &ok);
    if (!ok) {
        llm_fail(err, errlen, "llm: out of memory for a context of %d positions", p.n_ctx);
        llm_context_free(c);
        return NULL;
    }
    c->pool = llm_pool_new(p.n_threads, cpus);
    c->n_chunks = p.n_threads == 1 ? 1 : 4 * p.n_threads;
    if (!c->pool) {
        llm_fail(err, errlen, "llm: cannot start %d threads%s", p.n_threads, pin && *pin ? " pinned to CPUs" : "");
        llm_context_free(c);
        return NULL;
    }
    llm_sampler_params sp = llm_sampler_default_params();
    if (!llm_set_sampler(c, &sp)) {
        llm_fail(err, errlen, "llm: out of memory");
        llm_context_free(c);
        return NULL;
    }
    return c;
}

void llm_context_free(llm_context *c) {
    if (!c) return;
    llm_pool_free(c->pool);
    if (c->kv_map) munmap(c->kv_map, c->kv_map_bytes);
    free(c->k_cache);
    free(c->v_cache);
    free(c->rope_cs);
    free(c->rope_freq);
    free(c->x); free(c->xb); free(c->q); free(c->k); free(c->v);
    free(c->att); free(c->hb); free(c->hb2); free(c->xq);
    free(c->attn_scratch);
    free(c->logits);
    llm_sampler_free(c->sampler);
    free(c);
}

const llm_model *llm_context_model(const llm_context *c) { return c->m; }
int llm_context_n_ctx(const llm_context *c) { return c->p.n_ctx; }
uint32_t llm_context_kv_type(const llm_context *c) { return c->kv_type; }

size_t llm_kv_resident_bytes(const llm_context *c) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE), n = (c->kv_map_bytes + page - 1) / page;
    unsigned char *vec = malloc(n ? n : 1);
    size_t resident = 0;
    if (vec && mincore(c->kv_map, c->kv_map_bytes, vec) == 0)
        for (size_t i = 0; i < n; i++) resident += vec[i] & 1;
    free(vec);
    return resident * page;
}
int llm_pos(const llm_context *c) { return c->pos; }

void llm_kv_truncate(llm_context *c, int n_pos) {
    if (n_pos < 0) n_pos = 0;
    if (n_pos < c->pos) c->pos = n_pos;
}

static bool check_tokens(const llm_context *c, const int32_t *tokens, int n,
                         char *err, size_t errlen) {
    if (n < 1) return llm_fail(err, errlen, "llm: nothing to evaluate");
    if (n > c->p.n_ctx - c->pos)
        return llm_fail(err, errlen, "llm: context full: %d + %d tokens exceed n_ctx %d",
                    c->pos, n, c->p.n_ctx);
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= c->m->hp.n_vocab)
            return llm_fail(err, errlen, "llm: token %d at index %d is outside the vocabulary "
                        "(%d tokens)", (int)tokens[i], i, c->m->hp.n_vocab);
    return true;
}

bool llm_eval(llm_context *c, const int32_t *tokens, int n, bool all_logits,
              char *err, size_t errlen) {
    if (!check_tokens(c, tokens, n, err, errlen)) return false;
    const size_t V = (size_t)c->m->hp.n_vocab;
    int rows = all_logits ? n : 1;
    if (rows > c->cap_logits) {
        float *l = realloc(c->logits, (size_t)rows * V * sizeof *l);
        if (!l) return llm_fail(err, errlen, "llm: out of memory for %d rows of logits", rows);
        c->logits = l;
        c->cap_logits = rows;
    }
    llm_pool_enter(c->pool);
    for (int done = 0; done < n; ) {
        int b = n - done < c->p.n_batch ? n - done : c->p.n_batch;
        float *dst = all_logits ? c->logits + (size_t)done * V
                   : done + b == n ? c->logits : NULL;
        llm_forward(c, tokens + done, b, dst, all_logits);
        done += b;
    }
    llm_pool_leave(c->pool);
    c->n_logits = rows;
    return true;
}

const float *llm_get_logits(const llm_context *c, int i) {
    if (i < 0 || i >= c->n_logits) return NULL;
    return c->logits + (size_t)i * (size_t)c->m->hp.n_vocab;
}

bool llm_set_sampler(llm_context *c, const llm_sampler_params *p) {
    llm_sampler *s = llm_sampler_new(p, c->m->hp.n_vocab);
    if (!s) return false;
    llm_sampler_free(c->sampler);
    c->sampler = s;
    return true;
}

llm_sampler *llm_get_sampler(llm_context *c) { return c->sampler; }

int32_t llm_sample(llm_context *c) {
    if (c->n_logits < 1) return -1;
    return llm_sampler_sample(c->sampler, c->logits + (size_t)(c->n_logits - 1) *
                                                          (size_t)c->m->hp.n_vocab);
}

bool llm_embed(llm_context *c, const int32_t *tokens, int n, float *out,
               char *err, size_t errlen) {
    llm_kv_truncate(c, 0);
    if (!check_tokens(c, tokens, n, err, errlen)) return false;
    const int E = c->m->hp.n_embd;
    double *sum = calloc((size_t)E, sizeof *sum);
    if (!sum) return llm_fail(err, errlen, "llm: out of memory");
    llm_pool_enter(c->pool);
    for (int done = 0; done < n; ) {
        int b = n - done < c->p.n_batch ? n - done : c->p.n_batch;
        llm_forward(c, tokens + done, b, NULL, false);
        for (int r = 0; r < b; r++)
            for (int i = 0; i < E; i++) sum[i] += c->xb[(size_t)r * (size_t)E + (size_t)i];
        done += b;
    }
    llm_pool_leave(c->pool);
    double norm = 0;
    for (int i = 0; i < E; i++) {
        sum[i] /= n;
        norm += sum[i] * sum[i];
    }
    norm = sqrt(norm);
    for (int i = 0; i < E; i++) out[i] = (float)(norm > 0 ? sum[i] / norm : 0.0);
    free(sum);
    llm_kv_truncate(c, 0);
    return true;
}
