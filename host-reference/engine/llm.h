/* llm.h: the LLM engine: load a GGUF model, run it, sample from it.
 *
 * Contract:
 *  - An llm_model is loaded once from a parsed gguf_file (normally mmap'd)
 *    and is read-only afterwards, so several contexts (threads, WASI-NN
 *    execution contexts) may share it. Weights are used in place inside the
 *    file image; only small 1-D tensors stored in a half type are converted
 *    to F32 copies. Loading validates every tensor against the metadata; a
 *    mismatch fails with one line naming the tensor or key.
 *  - An llm_context owns everything that changes while generating: the KV
 *    cache, the current position, scratch buffers, a thread pool (created
 *    once, reused for every evaluation) and a sampler.
 *  - Nothing here prints; errors come back as one-line messages in err.
 */
#ifndef WASMLET_LLM_H
#define WASMLET_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gguf.h"

/* Shape and constants of a model, all read from its metadata. */
typedef struct {
    char arch[16];          /* "llama", "qwen2" */
    int n_vocab;            /* rows of token_embd */
    int n_embd;             /* <arch>.embedding_length */
    int n_layer;            /* <arch>.block_count */
    int n_head;             /* <arch>.attention.head_count */
    int n_head_kv;          /* <arch>.attention.head_count_kv (default n_head) */
    int head_dim;           /* n_embd / n_head (or attention.key_length) */
    int n_ff;               /* <arch>.feed_forward_length */
    int n_ctx_train;        /* <arch>.context_length */
    int n_rot;              /* <arch>.rope.dimension_count (default head_dim) */
    float rms_eps;          /* <arch>.attention.layer_norm_rms_epsilon */
    float rope_base;        /* <arch>.rope.freq_base (default 10000) */
    float rope_freq_scale;  /* 1 / rope.scaling.factor for linear scaling */
    bool rope_neox;         /* rotate (i, i+n_rot/2) instead of (2i, 2i+1) */
    bool tied_output;       /* output.weight absent: token_embd reused */
    int32_t bos, eos;       /* tokenizer.ggml.{bos,eos}_token_id, -1 if absent */
} llm_hparams;

typedef struct llm_model llm_model;
typedef struct llm_context llm_context;

/* Where a model's image lives: the file's identity and the image's place
 * in it. Keys the cache of repacked weights (pack_cache.h). */
typedef struct {
    uint64_t dev, ino, size, mtime_ns, ctime_ns;
    uint64_t offset, length;   /* the GGUF image inside the file */
} llm_source;
/* The identity of open file fd; false if it cannot be read. */
bool llm_source_of_fd(int fd, uint64_t offset, uint64_t length, llm_source *out);

/* Load from a parsed file. The model borrows f: f must outlive it.
 * Matrices the kernels stream faster repacked are copied once into
 * anonymous memory. */
llm_model *llm_model_load(const gguf_file *f, char *err, size_t errlen);
/* As llm_model_load for an image that is a file (or part of one, src):
 * repacked matrices come from, or go to, the per-user pack cache. */
llm_model *llm_model_load_source(const gguf_file *f, const llm_source *src, char *err, size_t errlen);
/* Map and parse path, then load with the pack cache; the model owns the
 * mapping. */
llm_model *llm_model_open(const char *path, char *err, size_t errlen);
/* How the weights were made ready, for a verbose line: "used in place",
 * "packed in memory", "cache hit <path>", "packed into new cache entry
 * <path>", or why the cache was not used. */
const char *llm_model_pack_note(const llm_model *m);
void llm_model_free(llm_model *m);
const llm_hparams *llm_model_hparams(const llm_model *m);
const gguf_file *llm_model_gguf(const llm_model *m);
/* Bytes of weights one token's forward pass reads (for roofline figures). */
uint64_t llm_model_weight_bytes(const llm_model *m);

/* ---- Sampling --------------------------------------------------------
 * Order of operations (as llama.cpp's default chain): penalties over the
 * last repeat_last_n accepted tokens, then greedy if temp <= 0, else
 * top-k, top-p, min-p (on the untempered distribution), temperature, and
 * a draw from our own xoshiro256** generator seeded by seed. */
typedef struct {
    float temp;               /* <= 0: greedy (argmax, lowest id on ties) */
    int top_k;                /* <= 0: off */
    float top_p;              /* >= 1: off */
    float min_p;              /* <= 0: off */
    float repeat_penalty;     /* 1: off. logit>0 ? logit/rp : logit*rp */
    int repeat_last_n;        /* window of the penalties; 0: off */
    float presence_penalty;   /* subtracted once from each token in window */
    float frequency_penalty;  /* subtracted per occurrence in window */
    uint64_t seed;
} llm_sampler_params;

llm_sampler_params llm_sampler_default_params(void);

typedef struct llm_sampler llm_sampler;
llm_sampler *llm_sampler_new(const llm_sampler_params *p, int n_vocab);
void llm_sampler_free(llm_sampler *s);
/* Restart the RNG from the seed and forget the history. */
void llm_sampler_reset(llm_sampler *s);
/* Record a token (prompt or generated) in the penalty window. */
void llm_sampler_accept(llm_sampler *s, int32_t token);
/* Pick a token from n_vocab logits (not modified) and accept it. */
int32_t llm_sampler_sample(llm_sampler *s, const float *logits);
/* Apply the penalties of the current window to logits in place (exposed
 * for tests and for hosts that want the adjusted distribution). */
void llm_sampler_apply_penalties(const llm_sampler *s, float *logits);

/* ---- Contexts -------------------------------------------------------- */
/* What the KV cache stores. AUTO, the default: F16 when every layer matrix
 * is quantized (their inputs are rounded to 8 bits already, and the
 * cache's 2^-11 rounding moves the logits no more than any other rounding
 * change does; half the cache traffic, which at long context is most of
 * attention's time), else F32 (F32/F16/BF16 models stay exact). */
typedef enum { LLM_KV_AUTO = 0, LLM_KV_F32, LLM_KV_F16 } llm_kv_type;

typedef struct {
    int n_ctx;        /* positions in the KV cache; 0: the model's context_length */
    int n_threads;    /* >= 1 */
    int n_batch;      /* tokens per forward pass when evaluating a prompt (at most 256) */
    llm_kv_type kv_type;   /* see llm_kv_type; default AUTO */
    /* Pin thread i (0: the calling thread) to one CPU: "auto" or a list
     * like "0,2-3" (cpu_pin.h); "" none; NULL (the default) takes
     * WASMLET_PIN from the environment, unset meaning none. */
    const char *pin_cpus;
} llm_context_params;

llm_context_params llm_context_default_params(void);
llm_context *llm_context_new(const llm_model *m, const llm_context_params *p,
                             char *err, size_t errlen);
void llm_context_free(llm_context *c);
const llm_model *llm_context_model(const llm_context *c);
int llm_context_n_ctx(const llm_context *c);
/* The cache's element type as chosen: GGML_F32 or GGML_F16. */
uint32_t llm_context_kv_type(const llm_context *c);
/* Bytes of the KV cache backed by memory now (the cache is mapped for
 * n_ctx positions and backed as it is written; 0 if that cannot be told). */
size_t llm_kv_resident_bytes(const llm_context *c);

/* Evaluate n tokens at the current position and advance it. With
 * all_logits the logits of every one of the n positions are kept, else
 * only those of the last. Returns false with err set (context full, token
 * id out of range) without changing the state. */
bool llm_eval(llm_context *c, const int32_t *tokens, int n, bool all_logits,
              char *err, size_t errlen);
/* Logits (n_vocab floats) of row i of the last llm_eval: with all_logits
 * i in [0, n), else only i = 0 (the last token). NULL if out of range. */
const float *llm_get_logits(const llm_context *c, int i);
int llm_pos(const llm_context *c);
/* Forget positions >= n_pos (0 = reset the whole cache). */
void llm_kv_truncate(llm_context *c, int n_pos);

/* The context's sampler (replaced by llm_set_sampler). */
bool llm_set_sampler(llm_context *c, const llm_sampler_params *p);
llm_sampler *llm_get_sampler(llm_context *c);
/* Sample from the last logits with the context's sampler (-1 before any
 * llm_eval). */
int32_t llm_sample(llm_context *c);

/* Sentence embedding: resets the cache, runs the tokens, writes the mean
 * over positions of the final (output-normed) hidden state, L2-normalized,
 * into out (n_embd floats). The cache is left reset. */
bool llm_embed(llm_context *c, const int32_t *tokens, int n, float *out,
               char *err, size_t errlen);

#endif
