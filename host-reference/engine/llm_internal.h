/* llm_internal.h: the structures shared by the engine's files (model.c
 * builds an llm_model, context.c an llm_context, forward.c runs them).
 * Not part of the engine's API. */
#ifndef WASMLET_LLM_INTERNAL_H
#define WASMLET_LLM_INTERNAL_H

#include "kernels.h"
#include "llm.h"
#include "pool.h"

/* A weight matrix: rows outputs of cols inputs, row r at data + r*stride
 * bytes, in GGUF block layout as the file holds it, or repacked at load
 * (type is then a kernels.h packed type, ranges in multiples of 16 rows). */
typedef struct {
    const void *data;
    uint32_t type;
    size_t stride;
    int rows, cols;
} llm_weight;

typedef struct {
    const float *attn_norm, *ffn_norm;       /* n_embd */
    llm_weight wq, wk, wv, wo;
    llm_weight w_gate, w_up, w_down;
    const float *bq, *bk, *bv;               /* qwen2 biases, else NULL */
} llm_layer;

/* A layer's seven matrices, in the order the model packs them. */
enum { LLM_LAYER_MATS = 7 };
static inline void llm_layer_weights(const llm_layer *L, const llm_weight *ws[LLM_LAYER_MATS]) {
    ws[0] = &L->wq; ws[1] = &L->wk; ws[2] = &L->wv; ws[3] = &L->wo;
    ws[4] = &L->w_gate; ws[5] = &L->w_up; ws[6] = &L->w_down;
}

struct llm_model {
    llm_hparams hp;
    gguf_file *owned;          /* set when opened by path */
    const gguf_file *gf;
    const kn_ops *kn;
    llm_weight tok_embd, output;
    const float *output_norm;
    llm_layer *layers;
    float **converted;         /* F32 copies of half-precision 1-D tensors */
    int n_converted;
    void *packed;              /* repacked matrices (kn_pack), one mapping */
    size_t packed_bytes;
    char pack_note[400];       /* llm_model_pack_note() */
};

struct llm_sampler;

struct llm_context {
    const llm_model *m;
    const kn_ops *kn;
    llm_context_params p;
    int pos;                   /* tokens in the KV cache */
    llm_pool *pool;
    int n_chunks;              /* chunks per pool job: a few per thread */

    /* KV cache: per layer, head-major: KV head h's run starts at
     * h*kv_head_bytes; V's row for position p at p*kv_row_bytes in it
     * (head_dim elements), K's element d at kn_k_offset(k_block, ...).
     * A head's attention then reads one contiguous run instead of a row
     * out of every n_head_kv (fewer pages, an even stream for the
     * prefetcher). */
    uint32_t kv_type;          /* GGML_F32 or GGML_F16 */
    int k_block;               /* K's layout: kn_k_block() (0: rows like V) */
    size_t kv_row_bytes;       /* one head's row: head_dim elements */
    size_t kv_head_bytes;      /* n_ctx rows, rounded up to whole 16-row blocks */
    uint8_t **k_cache, **v_cache;   /* per layer, into kv_map */
    uint8_t *kv_map;           /* one mapping holding every layer's K and V */
    size_t kv_map_bytes;

    double *rope_freq;         /* n_rot/2 angular frequencies (scaled) */
    float *rope_cs;            /* n_batch x (n_rot/2) (cos, sin) pairs */

    /* Activations for up to n_batch tokens. */
    float *x, *xb, *q, *k, *v, *att, *hb, *hb2;
    void *xq;                  /* quantized activations */
    size_t xq_row_bytes;       /* bytes per quantized row (largest case) */
    float *attn_scratch;       /* n_threads x attn_scratch_floats */
    size_t attn_scratch_floats;   /* a query group's scores and sums */

    float *logits;             /* n_logits x n_vocab */
    int n_logits, cap_logits;

    struct llm_sampler *sampler;
};

/* forward.c: run tokens[0..n) (n <= n_batch) at positions pos..pos+n-1
 * and advance pos. With logits non-NULL it receives the logits of the last
 * row, or of every row (all_rows) n_vocab floats apart; NULL skips the
 * output matrix (embeddings, non-final prompt batches). Afterwards c->xb
 * holds the output-normed final hidden state of every row. */
void llm_forward(llm_context *c, const int32_t *tokens, int n, float *logits, bool all_rows);

#endif
