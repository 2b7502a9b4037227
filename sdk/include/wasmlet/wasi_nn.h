/* wasmlet/wasi_nn.h: layer 1 of the guest SDK, the raw `wasi_ephemeral_nn`
 * imports exactly as WasmEdge's GGML plugin serves them (WasmEdge enum
 * numbering), plus typed wrappers that turn error codes into messages.
 *
 * Every import takes and returns i32. Handles and byte counts come back
 * through out-pointers. Only the functions a guest actually calls end up
 * in its import section (they are plain declarations, no stubs).
 */
#ifndef WASMLET_WASI_NN_H
#define WASMLET_WASI_NN_H

#include <stddef.h>
#include <stdint.h>

/* error codes (WasmEdge numbering) */
typedef enum {
    WL_NN_SUCCESS = 0,
    WL_NN_INVALID_ARGUMENT = 1,
    WL_NN_INVALID_ENCODING = 2,
    WL_NN_MISSING_MEMORY = 3,
    WL_NN_BUSY = 4,
    WL_NN_RUNTIME_ERROR = 5,
    WL_NN_UNSUPPORTED_OPERATION = 6,
    WL_NN_TOO_LARGE = 7,
    WL_NN_NOT_FOUND = 8,
    WL_NN_END_OF_SEQUENCE = 100,
    WL_NN_CONTEXT_FULL = 101,
    WL_NN_PROMPT_TOO_LONG = 102,
    WL_NN_MODEL_NOT_FOUND = 103,
} wl_nn_error;

typedef enum {
    WL_NN_ENC_OPENVINO = 0, WL_NN_ENC_ONNX = 1, WL_NN_ENC_TENSORFLOW = 2,
    WL_NN_ENC_PYTORCH = 3, WL_NN_ENC_TFLITE = 4, WL_NN_ENC_AUTODETECT = 5,
    WL_NN_ENC_GGML = 6,
} wl_nn_encoding;

typedef enum { WL_NN_CPU = 0, WL_NN_GPU = 1, WL_NN_TPU = 2, WL_NN_AUTO = 3 } wl_nn_target;

typedef enum {
    WL_NN_F16 = 0, WL_NN_F32 = 1, WL_NN_F64 = 2, WL_NN_U8 = 3, WL_NN_I32 = 4, WL_NN_I64 = 5,
} wl_nn_tensor_type;

/* The 20-byte tensor struct set_input reads. `type` is a full u32. */
typedef struct {
    uint32_t dims_ptr;   /* -> uint32_t dims[dims_len] */
    uint32_t dims_len;
    uint32_t type;       /* wl_nn_tensor_type */
    uint32_t data_ptr;
    uint32_t data_len;
} wl_nn_tensor;

/* A builder for `load`: {ptr, len} pairs. */
typedef struct { uint32_t ptr, len; } wl_nn_buf;

/* Output/input indices of the GGML backend. */
#define WL_NN_INPUT_PROMPT 0
#define WL_NN_INPUT_CONFIG 1
#define WL_NN_OUTPUT_TEXT 0
#define WL_NN_OUTPUT_METADATA 1

#ifdef __wasm__
#define WL_NN_IMPORT(name) __attribute__((import_module("wasi_ephemeral_nn"), import_name(name)))
#else
#define WL_NN_IMPORT(name)
#endif

/* ---- raw imports (pointers are guest addresses, i.e. i32) ------------- */
WL_NN_IMPORT("load")
int32_t wl_nn_raw_load(int32_t builders_ptr, int32_t builders_count, int32_t encoding,
                       int32_t target, int32_t graph_out_ptr);
WL_NN_IMPORT("load_by_name")
int32_t wl_nn_raw_load_by_name(int32_t name_ptr, int32_t name_len, int32_t graph_out_ptr);
WL_NN_IMPORT("load_by_name_with_config")
int32_t wl_nn_raw_load_by_name_with_config(int32_t name_ptr, int32_t name_len, int32_t config_ptr,
                                           int32_t config_len, int32_t graph_out_ptr);
WL_NN_IMPORT("init_execution_context")
int32_t wl_nn_raw_init_execution_context(int32_t graph, int32_t ctx_out_ptr);
WL_NN_IMPORT("set_input")
int32_t wl_nn_raw_set_input(int32_t ctx, int32_t index, int32_t tensor_ptr);
WL_NN_IMPORT("compute")
int32_t wl_nn_raw_compute(int32_t ctx);
WL_NN_IMPORT("get_output")
int32_t wl_nn_raw_get_output(int32_t ctx, int32_t index, int32_t buf_ptr, int32_t buf_max,
                             int32_t written_ptr);
WL_NN_IMPORT("compute_single")
int32_t wl_nn_raw_compute_single(int32_t ctx);
WL_NN_IMPORT("get_output_single")
int32_t wl_nn_raw_get_output_single(int32_t ctx, int32_t index, int32_t buf_ptr, int32_t buf_max,
                                    int32_t written_ptr);
WL_NN_IMPORT("fini_single")
int32_t wl_nn_raw_fini_single(int32_t ctx);
WL_NN_IMPORT("unload")
int32_t wl_nn_raw_unload(int32_t graph);
WL_NN_IMPORT("finalize_execution_context")
int32_t wl_nn_raw_finalize_execution_context(int32_t ctx);

/* ---- typed wrappers ---------------------------------------------------
 * Same semantics as the raw calls, with C types. They return the error
 * code; wl_nn_strerror() names it. */
typedef uint32_t wl_nn_graph;
typedef uint32_t wl_nn_ctx;

const char *wl_nn_strerror(int err);
int wl_nn_load(const void *model, size_t model_len, const char *config_json,
               wl_nn_encoding enc, wl_nn_target target, wl_nn_graph *out);
int wl_nn_load_by_name(const char *alias, const char *config_json /* may be NULL */,
                       wl_nn_graph *out);
int wl_nn_init_context(wl_nn_graph g, wl_nn_ctx *out);
/* Prompt or config bytes as a u8 tensor of shape [len]. */
int wl_nn_set_input_bytes(wl_nn_ctx c, uint32_t index, const void *data, size_t len);
int wl_nn_compute(wl_nn_ctx c);
/* Writes at most cap bytes; *written gets the size (on WL_NN_TOO_LARGE, the
 * size needed, as current WasmEdge reports it). */
int wl_nn_get_output(wl_nn_ctx c, uint32_t index, void *buf, size_t cap, size_t *written);
int wl_nn_compute_single(wl_nn_ctx c);
int wl_nn_get_output_single(wl_nn_ctx c, uint32_t index, void *buf, size_t cap, size_t *written);
int wl_nn_fini_single(wl_nn_ctx c);
int wl_nn_unload(wl_nn_graph g);

#endif
