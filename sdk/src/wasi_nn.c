/* wasi_nn.c: typed wrappers over the raw wasi_ephemeral_nn imports.
 * On wasm32 a pointer is the guest address, so (int32_t)(uintptr_t)p is
 * exactly what the host expects. */
#include "wasmlet/wasi_nn.h"

#include <string.h>

#define ADDR(p) ((int32_t)(uintptr_t)(p))

int wl_nn_load(const void *model, size_t model_len, const char *config_json,
               wl_nn_encoding enc, wl_nn_target target, wl_nn_graph *out) {
    wl_nn_buf b[2] = { { (uint32_t)ADDR(model), (uint32_t)model_len }, { 0, 0 } };
    int n = 1;
    if (config_json) {
        b[1].ptr = (uint32_t)ADDR(config_json);
        b[1].len = (uint32_t)strlen(config_json);
        n = 2;
    }
    return wl_nn_raw_load(ADDR(b), n, (int32_t)enc, (int32_t)target, ADDR(out));
}

int wl_nn_load_by_name(const char *alias, const char *config_json, wl_nn_graph *out) {
    if (!config_json)
        return wl_nn_raw_load_by_name(ADDR(alias), (int32_t)strlen(alias), ADDR(out));
    return wl_nn_raw_load_by_name_with_config(ADDR(alias), (int32_t)strlen(alias), ADDR(config_json),
                                              (int32_t)strlen(config_json), ADDR(out));
}

int wl_nn_init_context(wl_nn_graph g, wl_nn_ctx *out) {
    return wl_nn_raw_init_execution_context((int32_t)g, ADDR(out));
}

int wl_nn_set_input_bytes(wl_nn_ctx c, uint32_t index, const void *data, size_t len) {
    uint32_t dims[1] = { (uint32_t)len };
    wl_nn_tensor t = { (uint32_t)ADDR(dims), 1, WL_NN_U8, (uint32_t)ADDR(data), (uint32_t)len };
    return wl_nn_raw_set_input((int32_t)c, (int32_t)index, ADDR(&t));
}

int wl_nn_compute(wl_nn_ctx c) { return wl_nn_raw_compute((int32_t)c); }

int wl_nn_get_output(wl_nn_ctx c, uint32_t index, void *buf, size_t cap, size_t *written) {
    uint32_t w = 0;
    int e = wl_nn_raw_get_output((int32_t)c, (int32_t)index, ADDR(buf), (int32_t)cap, ADDR(&w));
    if (written) *written = w;
    return e;
}

int wl_nn_compute_single(wl_nn_ctx c) { return wl_nn_raw_compute_single((int32_t)c); }

int wl_nn_get_output_single(wl_nn_ctx c, uint32_t index, void *buf, size_t cap, size_t *written) {
    uint32_t w = 0;
    int e = wl_nn_raw_get_output_single((int32_t)c, (int32_t)index, ADDR(buf), (int32_t)cap, ADDR(&w));
    if (written) *written = w;
    return e;
}

int wl_nn_fini_single(wl_nn_ctx c) { return wl_nn_raw_fini_single((int32_t)c); }

int wl_nn_unload(wl_nn_graph g) { return wl_nn_raw_unload((int32_t)g); }
