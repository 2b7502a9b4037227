/* nn_errors.c: a test guest that provokes every wasi-nn error code the
 * GGML backend defines, through the raw imports where a wrapper would
 * refuse to build the bad call.
 *
 *   test-nn_errors.wasm [ALIAS]     (a small llama model, e.g. stories260K)
 *
 * Prints "ok - NAME" or "not ok - NAME: detail" per check; exits 1 when a
 * check failed, 2 when the model cannot be loaded at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmlet/wasi_nn.h"

#define ADDR(p) ((int32_t)(uintptr_t)(p))

static int failed;

static void check(const char *name, int got, int want) {
    if (got == want) {
        printf("ok - %s\n", name);
    } else {
        printf("not ok - %s: got %d (%s), want %d (%s)\n", name, got, wl_nn_strerror(got), want,
               wl_nn_strerror(want));
        failed = 1;
    }
}

static void check_true(const char *name, int cond, const char *detail) {
    printf(cond ? "ok - %s\n" : "not ok - %s: %s\n", name, detail);
    if (!cond) failed = 1;
}

/* First byte past the guest's memory, and an address whose 100 bytes run
 * past it. */
static uint32_t mem_end(void) { return (uint32_t)__builtin_wasm_memory_size(0) * 65536u; }

static int set_config(wl_nn_ctx c, const char *json) {
    return wl_nn_set_input_bytes(c, WL_NN_INPUT_CONFIG, json, strlen(json));
}

int main(int argc, char **argv) {
    const char *alias = argc > 1 ? argv[1] : "default";
    uint32_t end = mem_end();
    wl_nn_graph g = 0;
    wl_nn_ctx c = 0;

    /* 103: no model under that alias. */
    check("unknown alias gives model_not_found", wl_nn_load_by_name("no-such-model-alias", NULL, &g),
          WL_NN_MODEL_NOT_FOUND);

    /* 2: config that is not JSON (before the alias is loaded, so the host
     * must read it). */
    check("unparsable config JSON at load gives invalid_encoding",
          wl_nn_load_by_name(alias, "{\"ctx-size\": 64,", &g), WL_NN_INVALID_ENCODING);

    int e = wl_nn_load_by_name(alias, "{\"ctx-size\":64,\"temp\":0,\"ignore-eos\":true}", &g);
    check("load_by_name_with_config", e, WL_NN_SUCCESS);
    if (e) return 2;
    e = wl_nn_init_context(g, &c);
    check("init_execution_context", e, WL_NN_SUCCESS);
    if (e) return 2;

    check("unparsable config JSON in set_input(1) gives invalid_encoding", set_config(c, "{ctx-size: 64}"),
          WL_NN_INVALID_ENCODING);
    check("config that is not an object gives invalid_encoding", set_config(c, "[1,2]"), WL_NN_INVALID_ENCODING);
    check("config key of the wrong type gives invalid_argument", set_config(c, "{\"ctx-size\":\"big\"}"),
          WL_NN_INVALID_ARGUMENT);
    check("n-predict as a string gives invalid_argument", set_config(c, "{\"n-predict\":\"8\"}"),
          WL_NN_INVALID_ARGUMENT);
    check("unknown config keys are ignored", set_config(c, "{\"no-such-key\":[1,{}]}"), WL_NN_SUCCESS);

    /* 1: pointers and lengths outside the guest's memory. */
    static const char prompt[] = "Once";
    uint32_t dims[1] = { 4 };
    wl_nn_tensor t = { (uint32_t)ADDR(dims), 1, WL_NN_U8, (uint32_t)ADDR(prompt), 4 };
    check("set_input: tensor struct out of bounds", wl_nn_raw_set_input((int32_t)c, 0, (int32_t)(end - 8)),
          WL_NN_INVALID_ARGUMENT);
    check("set_input: tensor struct at 0xFFFFFFF0", wl_nn_raw_set_input((int32_t)c, 0, (int32_t)0xFFFFFFF0u),
          WL_NN_INVALID_ARGUMENT);
    wl_nn_tensor bad = t;
    bad.data_ptr = end - 2;
    check("set_input: data runs past memory", wl_nn_raw_set_input((int32_t)c, 0, ADDR(&bad)),
          WL_NN_INVALID_ARGUMENT);
    bad = t;
    bad.data_len = 0xFFFFFFF0u;
    check("set_input: huge data length", wl_nn_raw_set_input((int32_t)c, 0, ADDR(&bad)), WL_NN_INVALID_ARGUMENT);
    bad = t;
    bad.dims_ptr = 0xFFFFFFFCu;
    check("set_input: dims out of bounds", wl_nn_raw_set_input((int32_t)c, 0, ADDR(&bad)), WL_NN_INVALID_ARGUMENT);
    bad = t;
    bad.dims_len = 0x40000001u;
    check("set_input: dims length overflows", wl_nn_raw_set_input((int32_t)c, 0, ADDR(&bad)),
          WL_NN_INVALID_ARGUMENT);
    check("load_by_name: name out of bounds", wl_nn_raw_load_by_name((int32_t)(end - 3), 16, ADDR(&g)),
          WL_NN_INVALID_ARGUMENT);
    check("load_by_name: graph out-pointer out of bounds",
          wl_nn_raw_load_by_name(ADDR(alias), (int32_t)strlen(alias), (int32_t)(end - 2)), WL_NN_INVALID_ARGUMENT);
    check("load_by_name_with_config: config out of bounds",
          wl_nn_raw_load_by_name_with_config(ADDR(alias), (int32_t)strlen(alias), (int32_t)(end - 10), 100,
                                             ADDR(&g)), WL_NN_INVALID_ARGUMENT);
    check("init_execution_context: out-pointer out of bounds",
          wl_nn_raw_init_execution_context((int32_t)g, (int32_t)end), WL_NN_INVALID_ARGUMENT);
    wl_nn_buf builders[1] = { { end - 16, 4096 } };
    wl_nn_graph g2 = 0;
    check("load: model bytes out of bounds",
          wl_nn_raw_load(ADDR(builders), 1, WL_NN_ENC_GGML, WL_NN_CPU, ADDR(&g2)), WL_NN_INVALID_ARGUMENT);
    check("load: builder array out of bounds",
          wl_nn_raw_load((int32_t)(end - 4), 1, WL_NN_ENC_GGML, WL_NN_CPU, ADDR(&g2)), WL_NN_INVALID_ARGUMENT);

    /* A prompt and some output for the output checks. */
    e = wl_nn_raw_set_input((int32_t)c, 0, ADDR(&t));
    check("set_input: a good prompt still works after the bad calls", e, WL_NN_SUCCESS);
    check("set_config n-predict 8", set_config(c, "{\"n-predict\":8}"), WL_NN_SUCCESS);
    check("compute", wl_nn_compute(c), WL_NN_SUCCESS);
    uint32_t w = 0;
    char out[4096];
    check("get_output: buffer out of bounds",
          wl_nn_raw_get_output((int32_t)c, 0, (int32_t)(end - 1), 64, ADDR(&w)), WL_NN_INVALID_ARGUMENT);
    check("get_output: written out-pointer out of bounds",
          wl_nn_raw_get_output((int32_t)c, 0, ADDR(out), sizeof out, (int32_t)(end - 1)), WL_NN_INVALID_ARGUMENT);

    /* 7: a short buffer, with the size needed reported. */
    size_t full = 0;
    check("get_output into a big buffer", wl_nn_get_output(c, 0, out, sizeof out, &full), WL_NN_SUCCESS);
    check_true("the output is not empty", full > 1, "8 tokens gave no text");
    size_t need = 0;
    check("get_output with buf_max 1 gives too_large", wl_nn_get_output(c, 0, out, 1, &need), WL_NN_TOO_LARGE);
    char detail[96];
    snprintf(detail, sizeof detail, "bytes_written %zu, output is %zu bytes", need, full);
    check_true("too_large reports the size needed in bytes_written", need == full, detail);
    need = 0;
    check("get_output with buf_max 0 gives too_large", wl_nn_get_output(c, 0, out, 0, &need), WL_NN_TOO_LARGE);
    check_true("too_large with buf_max 0 reports the size needed", need == full, "bytes_written differs");
    size_t again = 0;
    check("get_output with exactly the size needed", wl_nn_get_output(c, 0, out, full, &again), WL_NN_SUCCESS);
    check_true("same size the second time", again == full, "sizes differ");
    check("get_output(1) metadata", wl_nn_get_output(c, 1, out, sizeof out, &need), WL_NN_SUCCESS);
    check("metadata with buf_max 2 gives too_large", wl_nn_get_output(c, 1, out, 2, &need), WL_NN_TOO_LARGE);

    /* 102: a prompt longer than n_ctx - 4 (the context is 64 tokens). */
    char longp[2048] = "";
    for (int i = 0; i < 60; i++) strcat(longp, "Once upon a time ");
    e = wl_nn_set_input_bytes(c, 0, longp, strlen(longp));
    if (e == WL_NN_SUCCESS) e = wl_nn_compute(c);
    check("prompt longer than the context gives prompt_too_long", e, WL_NN_PROMPT_TOO_LONG);

    /* 101: streaming past the end of a 64-token context (EOS ignored). */
    e = wl_nn_set_input_bytes(c, 0, prompt, 4);
    int n = 0;
    while (e == WL_NN_SUCCESS && n < 1000) {
        e = wl_nn_compute_single(c);
        if (e == WL_NN_SUCCESS) {
            n++;
            /* 7 on a piece too. */
            if (n == 1) {
                size_t pn = 0;
                int pe = wl_nn_get_output_single(c, 0, out, 0, &pn);
                check_true("get_output_single with buf_max 0: success or too_large with the size",
                           (pe == WL_NN_SUCCESS && pn == 0) || (pe == WL_NN_TOO_LARGE && pn > 0),
                           wl_nn_strerror(pe));
            }
        }
    }
    check("streaming past the context gives context_full", e, WL_NN_CONTEXT_FULL);
    snprintf(detail, sizeof detail, "%d tokens before context_full", n);
    check_true("context_full comes within the context size", n > 0 && n <= 64, detail);
    check("fini_single", wl_nn_fini_single(c), WL_NN_SUCCESS);

    /* 101 from compute (n-predict unlimited, EOS ignored). */
    check("set_config n-predict -1", set_config(c, "{\"n-predict\":-1}"), WL_NN_SUCCESS);
    e = wl_nn_set_input_bytes(c, 0, prompt, 4);
    if (e == WL_NN_SUCCESS) e = wl_nn_compute(c);
    check("compute past the context gives context_full", e, WL_NN_CONTEXT_FULL);

    /* 100: the model ends its text. With EOS honoured and sampling, a
     * story model ends a story well within 512 tokens; try a few seeds. */
    check("set_config for end of sequence",
          set_config(c, "{\"ctx-size\":512,\"ignore-eos\":false,\"temp\":1.0,\"seed\":1}"), WL_NN_SUCCESS);
    int seen = 0;
    for (int seed = 1; seed <= 8 && !seen; seed++) {
        char cfg[64];
        snprintf(cfg, sizeof cfg, "{\"seed\":%d}", seed);
        set_config(c, cfg);
        e = wl_nn_set_input_bytes(c, 0, prompt, 4);
        for (n = 0; e == WL_NN_SUCCESS && n < 600; n++) e = wl_nn_compute_single(c);
        wl_nn_fini_single(c);
        if (e == WL_NN_END_OF_SEQUENCE) seen = 1;
    }
    check("the model's end of text gives end_of_sequence", e, WL_NN_END_OF_SEQUENCE);

    check("unload", wl_nn_unload(g), WL_NN_SUCCESS);
    printf(failed ? "FAILED\n" : "PASSED\n");
    return failed;
}
