/* nn_host.h: the state behind one guest's wasi_ephemeral_nn imports, shared
 * by nn_host.c (graphs, generation) and nn_imports.c (the wasm ABI). */
#ifndef WASMLET_NN_HOST_H
#define WASMLET_NN_HOST_H

#include "nn_internal.h"
#include "json.h"

#define NN_MAX_GRAPHS 64
#define NN_MAX_CTX 256
#define NN_MAX_EOG 8

typedef struct {
    bool in_use;
    char alias[NN_MAX_ALIAS];  /* "" for graphs loaded from bytes */
    nn_model *shared;          /* registry model (load_by_name) */
    void *own_bytes;           /* load(): a copy of the guest's model bytes */
    gguf_file *own_gguf;
    llm_model *own_model;
    tokenizer *own_tok;
    const llm_model *model;    /* whichever of the above */
    const tokenizer *tok;
    nn_options opt;
    llm_context *lctx;         /* KV cache and sampler: per graph, as WasmEdge */
    int lctx_n_ctx, lctx_threads, lctx_batch;
    int32_t eog[NN_MAX_EOG];
    int n_eog;
} nn_graph;

typedef struct {
    bool in_use;
    uint32_t graph;
    tok_ids prompt;
    json_buf out;              /* compute's text (or embedding JSON) */
    int n_out;                 /* tokens generated */
    bool streaming, last_eog;  /* compute_single state */
    int32_t last;
    char piece[256];
    size_t piece_len;
} nn_exec;

struct Z_wasi_ephemeral_nn_instance_t {
    nn_registry *reg;
    nn_params params;
    wasm_rt_memory_t *mem;
    nn_graph graphs[NN_MAX_GRAPHS];
    nn_exec ctxs[NN_MAX_CTX];
};

void nn_log(nn_host *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nn_graph_init(nn_host *h, uint32_t *out);
void nn_graph_bind(nn_graph *gr, const llm_model *model, const tokenizer *tok);
void nn_graph_free(nn_host *h, uint32_t g);
bool nn_is_eog(const nn_graph *gr, int32_t id);
int nn_set_prompt(nn_host *h, nn_exec *c, const char *text, size_t len);
int nn_compute(nn_host *h, nn_exec *c);
int nn_compute_single(nn_host *h, nn_exec *c);
void nn_fini_single(nn_host *h, nn_exec *c);
int nn_embed(nn_host *h, nn_exec *c);
void nn_metadata_json(const nn_exec *c, json_buf *b);

#endif
