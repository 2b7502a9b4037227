/* nn_rust_style.c: a guest that uses the ABI exactly the way WasmEdge's
 * Rust examples (wasmedge-ggml/llama with the wasmedge-wasi-nn crate) do,
 * so the host can be checked against what those binaries expect:
 *
 *   - the model alias in argv[1] and the prompt in argv[2];
 *   - settings from environment variables holding JSON values, turned into
 *     one JSON object with dashed keys;
 *   - load_by_name_with_config (the crate's build_from_cache), then
 *     init_execution_context;
 *   - set_input twice with U8 tensors whose dims are [1] whatever the data
 *     length (as the crate sends them): index 1 = the settings, then
 *     index 0 = the prompt;
 *   - a streaming loop of compute_single + get_output_single(0) into a
 *     fixed buffer until end_of_sequence (or context_full: the loop does
 *     not count tokens, n_predict does not apply to it), then
 *     fini_single; then the same prompt non-streaming: compute,
 *     get_output(0) and get_output(1) (token counts); then unload.
 *
 * Prints the streamed text, the whole text and "ok - ..." lines; exits 1
 * when a call fails or the two texts disagree where both have text
 * (run it greedy: temp=0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wasmlet/wasi_nn.h"

#define ADDR(p) ((int32_t)(uintptr_t)(p))
#define OUT_MAX (4096 * 6)

static int failed;

static int call(const char *what, int e) {
    if (e) {
        printf("not ok - %s: %s (%d)\n", what, wl_nn_strerror(e), e);
        failed = 1;
    }
    return e;
}

/* The crate's set_input: dims [1], type u8, the bytes as data. */
static int set_input(uint32_t ctx, uint32_t index, const void *data, size_t len) {
    uint32_t dims[1] = { 1 };
    wl_nn_tensor t = { (uint32_t)ADDR(dims), 1, WL_NN_U8, (uint32_t)ADDR(data), (uint32_t)len };
    return wl_nn_raw_set_input((int32_t)ctx, (int32_t)index, ADDR(&t));
}

/* Appends "key":value when the environment variable is set. The examples
 * parse numbers and booleans from the variable as JSON and take
 * reverse_prompt as plain text (a JSON string in the config). */
static void add_env(json_buf *b, const char *env, const char *key) {
    const char *v = getenv(env);
    if (!v) return;
    json_buf_raw(b, b->len > 1 ? "," : "", b->len > 1);
    json_buf_cstr(b, key);
    json_buf_raw(b, ":", 1);
    if (strcmp(env, "reverse_prompt") == 0) json_buf_cstr(b, v);
    else json_buf_raw(b, v, strlen(v));
}

int main(int argc, char **argv) {
    const char *alias = argc > 1 ? argv[1] : "default";
    const char *prompt = argc > 2 ? argv[2] : "Once upon a time";
    static const char *const keys[][2] = {
        { "enable_log", "enable-log" }, { "enable_debug_log", "enable-debug-log" },
        { "ctx_size", "ctx-size" }, { "n_predict", "n-predict" }, { "n_gpu_layers", "n-gpu-layers" },
        { "reverse_prompt", "reverse-prompt" }, { "batch_size", "batch-size" }, { "threads", "threads" },
        { "temp", "temp" }, { "top_p", "top-p" }, { "repeat_penalty", "repeat-penalty" }, { "seed", "seed" },
    };
    json_buf cfg = { 0 };
    json_buf_raw(&cfg, "{", 1);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) add_env(&cfg, keys[i][0], keys[i][1]);
    json_buf_raw(&cfg, "}", 1);
    if (cfg.oom) return 1;
    const char *config = cfg.data;
    printf("config: %s\n", config);

    uint32_t graph = 0, ctx = 0;
    if (call("load_by_name_with_config",
             wl_nn_raw_load_by_name_with_config(ADDR(alias), (int32_t)strlen(alias), ADDR(config),
                                                (int32_t)strlen(config), ADDR(&graph))))
        return 1;
    if (call("init_execution_context", wl_nn_raw_init_execution_context((int32_t)graph, ADDR(&ctx)))) return 1;
    if (call("set_input(1, config)", set_input(ctx, 1, config, strlen(config)))) return 1;
    if (call("set_input(0, prompt)", set_input(ctx, 0, prompt, strlen(prompt)))) return 1;

    static char streamed[OUT_MAX * 4], piece[OUT_MAX];
    size_t ns = 0;
    int e, tokens = 0;
    for (;;) {
        e = wl_nn_raw_compute_single((int32_t)ctx);
        if (e) break;
        uint32_t w = 0;
        if (call("get_output_single(0)",
                 wl_nn_raw_get_output_single((int32_t)ctx, 0, ADDR(piece), OUT_MAX, ADDR(&w))))
            return 1;
        if (w > OUT_MAX || ns + w >= sizeof streamed) {
            printf("not ok - get_output_single wrote %u bytes\n", w);
            return 1;
        }
        memcpy(streamed + ns, piece, w);
        ns += w;
        tokens++;
    }
    if (e != WL_NN_END_OF_SEQUENCE && e != WL_NN_CONTEXT_FULL) call("compute_single", e);
    else printf("ok - streaming ended with %s after %d tokens\n", wl_nn_strerror(e), tokens);
    static char meta[1024];
    uint32_t mw = 0;
    if (!call("get_output_single(1) metadata",
              wl_nn_raw_get_output_single((int32_t)ctx, 1, ADDR(meta), sizeof meta - 1, ADDR(&mw)))) {
        meta[mw] = 0;
        printf("ok - streaming metadata: %s\n", meta);
    }
    call("fini_single", wl_nn_raw_fini_single((int32_t)ctx));
    streamed[ns] = 0;
    printf("streamed: %s\n", streamed);

    /* The same prompt, non-streaming. */
    if (call("set_input(0, prompt) again", set_input(ctx, 0, prompt, strlen(prompt)))) return 1;
    e = wl_nn_raw_compute((int32_t)ctx);
    if (e && e != WL_NN_CONTEXT_FULL) call("compute", e);
    static char whole[OUT_MAX + 1];
    uint32_t ww = 0;
    if (!call("get_output(0)", wl_nn_raw_get_output((int32_t)ctx, 0, ADDR(whole), OUT_MAX, ADDR(&ww)))) {
        whole[ww] = 0;
        printf("whole: %s\n", whole);
        /* compute stops at n-predict and leaves the end-of-text token's
         * text at the end; compute_single ignores n-predict and never
         * delivers that text. With greedy settings the two agree on what
         * both produced. */
        size_t common = ww < ns ? ww : ns;
        if (memcmp(whole, streamed, common) == 0)
            printf("ok - streamed and whole texts agree on their first %zu bytes\n", common);
        else {
            printf("not ok - streamed and whole texts differ\n");
            failed = 1;
        }
    }
    if (!call("get_output(1) metadata", wl_nn_raw_get_output((int32_t)ctx, 1, ADDR(meta), sizeof meta - 1, ADDR(&mw)))) {
        meta[mw] = 0;
        printf("%s - metadata: %s\n", strstr(meta, "\"input_tokens\"") && strstr(meta, "\"output_tokens\"") ? "ok" : "not ok",
               meta);
        if (!strstr(meta, "\"input_tokens\"")) failed = 1;
    }
    call("unload", wl_nn_raw_unload((int32_t)graph));
    printf(failed ? "FAILED\n" : "PASSED\n");
    return failed;
}
