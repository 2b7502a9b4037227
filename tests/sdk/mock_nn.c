/* mock_nn.c: the fake wasi-nn backend (see mock_nn.h). */
#include "mock_nn.h"

#include <stdio.h>
#include <string.h>

#include "wasmlet/wasi_nn.h"

mock_state mock;

void mock_reset(void) {
    memset(&mock, 0, sizeof mock);
    mock.end_code = WL_NN_END_OF_SEQUENCE;
}

static void keep(char *dst, size_t cap, const void *src, size_t n) {
    if (n >= cap) n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

int wl_nn_load(const void *model, size_t model_len, const char *config_json, wl_nn_encoding enc,
               wl_nn_target target, wl_nn_graph *out) {
    (void)model; (void)model_len; (void)enc; (void)target;
    if (config_json) keep(mock.config, sizeof mock.config, config_json, strlen(config_json));
    *out = 1;
    return 0;
}

int wl_nn_load_by_name(const char *alias, const char *config_json, wl_nn_graph *out) {
    (void)alias;
    mock.n_load++;
    if (mock.load_err) return mock.load_err;
    if (config_json) {
        mock.n_load_cfg++;
        keep(mock.config, sizeof mock.config, config_json, strlen(config_json));
    }
    *out = 7;
    return 0;
}

int wl_nn_init_context(wl_nn_graph g, wl_nn_ctx *out) {
    if (g != 7) return WL_NN_INVALID_ARGUMENT;
    if (mock.init_err) return mock.init_err;
    *out = 3;
    return 0;
}

int wl_nn_set_input_bytes(wl_nn_ctx c, uint32_t index, const void *data, size_t len) {
    if (c != 3) return WL_NN_INVALID_ARGUMENT;
    if (index == 1) {
        mock.n_set_config++;
        keep(mock.config, sizeof mock.config, data, len);
        return 0;
    }
    keep(mock.prompt, sizeof mock.prompt, data, len);
    if (mock.prompt_limit && len > mock.prompt_limit) return WL_NN_PROMPT_TOO_LONG;
    mock.next_piece = 0;
    return 0;
}

int wl_nn_compute(wl_nn_ctx c) { return c != 3 ? WL_NN_INVALID_ARGUMENT : mock.compute_err; }

/* Copies text the way current WasmEdge does: too small -> 7 + size needed. */
static int give(const char *text, void *buf, size_t cap, size_t *written) {
    size_t n = strlen(text);
    if (mock.lie_written) {
        *written = cap + 10;
        return 0;
    }
    if (n > cap) {
        mock.n_too_large++;
        *written = mock.old_host ? 0 : n;
        return WL_NN_TOO_LARGE;
    }
    memcpy(buf, text, n);
    *written = n;
    return 0;
}

int wl_nn_get_output(wl_nn_ctx c, uint32_t index, void *buf, size_t cap, size_t *written) {
    if (c != 3) return WL_NN_INVALID_ARGUMENT;
    if (index == 1) return mock.meta ? give(mock.meta, buf, cap, written) : WL_NN_UNSUPPORTED_OPERATION;
    return give(mock.whole ? mock.whole : "", buf, cap, written);
}

int wl_nn_compute_single(wl_nn_ctx c) {
    if (c != 3) return WL_NN_INVALID_ARGUMENT;
    mock.n_compute_single++;
    if (!mock.pieces || !mock.pieces[mock.next_piece]) return mock.end_code;
    mock.next_piece++;
    return 0;
}

int wl_nn_get_output_single(wl_nn_ctx c, uint32_t index, void *buf, size_t cap, size_t *written) {
    if (c != 3) return WL_NN_INVALID_ARGUMENT;
    if (index == 1) return mock.meta ? give(mock.meta, buf, cap, written) : WL_NN_UNSUPPORTED_OPERATION;
    if (mock.next_piece == 0) return WL_NN_INVALID_ARGUMENT;
    return give(mock.pieces[mock.next_piece - 1], buf, cap, written);
}

int wl_nn_fini_single(wl_nn_ctx c) {
    mock.n_fini++;
    return c != 3 ? WL_NN_INVALID_ARGUMENT : 0;
}

int wl_nn_unload(wl_nn_graph g) {
    mock.n_unload++;
    return g != 7 ? WL_NN_INVALID_ARGUMENT : 0;
}
