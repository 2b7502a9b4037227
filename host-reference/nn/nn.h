/* nn.h: WASI-NN (`wasi_ephemeral_nn`) for wasm2c guests, GGML backend.
 *
 * Contract: an nn_registry maps model aliases to GGUF models (a host file
 * from --nn-preload alias:GGML:AUTO:path, or bytes already mapped, e.g. a
 * bundle member). A model is opened on the first load_by_name of its alias
 * and shared read-only by every graph and guest instance that uses it; it
 * is freed when the last graph using it is unloaded.
 *
 * An nn_host is one guest instance's view: its graphs, execution contexts
 * and the guest memory. It is the context pointer of the wasm2c-mangled
 * imports Z_wasi_ephemeral_nnZ_<name>. Every guest pointer/length is checked
 * against the guest memory's current size before use: a bad one is
 * invalid_argument (1), never a host crash. Semantics and error codes follow
 * WasmEdge's GGML plugin (shared/reference/wasi-nn-abi.md; docs/wasi-nn.md).
 * One nn_host is used by one thread at a time; a registry may be shared.
 */
#ifndef WASMLET_NN_H
#define WASMLET_NN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "wasm-rt.h"
#include "wasi.h"        /* host_import */
#include "nn_config.h"
#include "llm.h"       /* llm_source */

typedef struct nn_registry nn_registry;

nn_registry *nn_registry_new(void);
void nn_registry_free(nn_registry *r);
/* "alias:GGML:AUTO:path" (encoding GGML; target AUTO, CPU or GPU accepted,
 * we run on the CPU). The file is not opened until a guest asks for it. */
bool nn_registry_preload(nn_registry *r, const char *spec, char *err, size_t errlen);
/* A model already in memory (e.g. mapped out of a bundle); data must stay
 * valid while the registry lives. src (may be NULL) names the file the
 * bytes are mapped from, so repacked weights can be cached (llm.h). */
bool nn_registry_add_buffer(nn_registry *r, const char *alias, const void *data, size_t len,
                            const llm_source *src, char *err, size_t errlen);

typedef struct {
    bool compat_unbounded_output;  /* --nn-compat=wasmedge-0.14: buf_max 0 means "big enough" */
    FILE *log;                     /* host-side messages (stderr if NULL) */
    FILE *stream;                  /* stream-stdout target (stdout if NULL) */
    int64_t ctx_cap;               /* >0: no graph gets a larger context (a bundle's limit) */
} nn_params;

typedef struct Z_wasi_ephemeral_nn_instance_t nn_host;

nn_host *nn_host_new(nn_registry *r, const nn_params *p);
void nn_host_free(nn_host *h);
void nn_host_set_memory(nn_host *h, wasm_rt_memory_t *mem);

/* The imports this host serves, for the import checker. */
extern const host_import nn_imports[];
extern const size_t nn_n_imports;

/* Bytes a compat-mode output may take past a zero buf_max: LlamaEdge's
 * guests reserve this much for an output buffer. */
#define NN_COMPAT_OUTPUT_MAX (4096u * 6u)

#endif
