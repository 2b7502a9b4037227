/* nn_errors.c: a test guest that provokes every wasi-nn error code the
 * GGML backend defines, through the raw imports where a wrapper would
 * refuse to build the bad call.
 *
 *   test-nn_errors.wasm [ALIAS]     (a small llama model, e.g. stories260K)
 *
 * End of sequence (100) needs a model that ends its text on cue: the
 * guest builds one in memory (a 1-layer llama whose only likely next token
 * is EOS) and passes it to `load`, which also exercises that path.
 *
 * Prints "ok - NAME" or "not ok - NAME: detail" per check; exits 1 when a
 * check failed, 2 when the model cannot be loaded at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
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

/* A tiny llama GGUF: every token embeds to ones, attention and FFN weights
 * are zero (so the residual stream stays ones), the final norm is ones and
 * only EOS's output row is non-zero: the logits are 8 for EOS and 0 for
 * the rest, so the model ends its text at once, greedy or not. */
enum { E = 8, V = 4, F = 16 };
static void *tiny_model(size_t *size) {
    static float ones[E * V], zeros[F * E], out[E * V];
    for (int i = 0; i < E * V; i++) ones[i] = 1.0f;
    for (int i = 0; i < E; i++) out[2 * E + i] = 1.0f;   /* row of token 2 = EOS */
    gguf_writer *w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u32(w, "llama.context_length", 64);
    gguf_w_u32(w, "llama.embedding_length", E);
    gguf_w_u32(w, "llama.block_count", 1);
    gguf_w_u32(w, "llama.feed_forward_length", F);
    gguf_w_u32(w, "llama.attention.head_count", 2);
    gguf_w_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_w_str(w, "tokenizer.ggml.model", "llama");
    static const char sp_a[] = { (char)0xE2, (char)0x96, (char)0x81, 'a', 0 };   /* U+2581 "a" */
    const char *const toks[V] = { "<unk>", "<s>", "</s>", sp_a };
    static const float scores[V] = { 0, 0, 0, -1 };
    static const int32_t types[V] = { 2, 3, 3, 1 };
    gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_STRING, toks, V);
    gguf_w_arr(w, "tokenizer.ggml.scores", GGUF_T_FLOAT32, scores, V);
    gguf_w_arr(w, "tokenizer.ggml.token_type", GGUF_T_INT32, types, V);
    gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2);
    uint64_t ev[2] = { E, V }, ee[2] = { E, E }, ef[2] = { E, F }, fe[2] = { F, E }, e1[1] = { E };
    gguf_w_tensor(w, "token_embd.weight", GGML_F32, 2, ev, ones, sizeof ones);
    gguf_w_tensor(w, "output_norm.weight", GGML_F32, 1, e1, ones, E * 4);
    gguf_w_tensor(w, "output.weight", GGML_F32, 2, ev, out, sizeof out);
    gguf_w_tensor(w, "blk.0.attn_norm.weight", GGML_F32, 1, e1, ones, E * 4);
    gguf_w_tensor(w, "blk.0.ffn_norm.weight", GGML_F32, 1, e1, ones, E * 4);
    static const char *const sq[] = { "attn_q", "attn_k", "attn_v", "attn_output" };
    char name[64];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "blk.0.%s.weight", sq[i]);
        gguf_w_tensor(w, name, GGML_F32, 2, ee, zeros, E * E * 4);
    }
    gguf_w_tensor(w, "blk.0.ffn_gate.weight", GGML_F32, 2, ef, zeros, E * F * 4);
    gguf_w_tensor(w, "blk.0.ffn_up.weight", GGML_F32, 2, ef, zeros, E * F * 4);
    gguf_w_tensor(w, "blk.0.ffn_down.weight", GGML_F32, 2, fe, zeros, E * F * 4);
    char err[256];
    void *img = gguf_writer_finish(w, size, err, sizeof err);
    if (!img) printf("not ok - building the tiny model: %s\n", err);
    gguf_writer_free(w);
    return img;
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
    static char detail_buf[8];
    size_t w_unused = 0;
    wl_nn_ctx c2_unused = 0;
    wl_nn_buf builders[1] = { { end - 16, 4096 } };
    wl_nn_graph g2 = 0;
    check("load: model bytes out of bounds",
          wl_nn_raw_load(ADDR(builders), 1, WL_NN_ENC_GGML, WL_NN_CPU, ADDR(&g2)), WL_NN_INVALID_ARGUMENT);
    check("load: builder array out of bounds",
          wl_nn_raw_load((int32_t)(end - 4), 1, WL_NN_ENC_GGML, WL_NN_CPU, ADDR(&g2)), WL_NN_INVALID_ARGUMENT);

    /* Handles the host never gave out. */
    check("compute on an unknown context", wl_nn_compute(9999), WL_NN_INVALID_ARGUMENT);
    check("get_output on an unknown context", wl_nn_get_output(9999, 0, detail_buf, 8, &w_unused),
          WL_NN_INVALID_ARGUMENT);
    check("init_execution_context on an unknown graph", wl_nn_init_context(9999, &c2_unused),
          WL_NN_INVALID_ARGUMENT);
    check("unload of an unknown graph", wl_nn_unload(9999), WL_NN_INVALID_ARGUMENT);

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

    /* 100: a model that ends its text at once, loaded from guest memory. */
    size_t msize = 0;
    void *img = tiny_model(&msize);
    if (img) {
        static const char cfg[] = "{\"temp\":0}";
        wl_nn_graph tg = 0;
        wl_nn_ctx tc = 0;
        e = wl_nn_load(img, msize, cfg, WL_NN_ENC_GGML, WL_NN_CPU, &tg);
        check("load: a model from guest memory", e, WL_NN_SUCCESS);
        free(img);   /* the host copied what it needs */
        if (!e) {
            check("init_execution_context (tiny model)", wl_nn_init_context(tg, &tc), WL_NN_SUCCESS);
            check("set_input (tiny model)", wl_nn_set_input_bytes(tc, 0, "a", 1), WL_NN_SUCCESS);
            check("the model's end of text gives end_of_sequence", wl_nn_compute_single(tc),
                  WL_NN_END_OF_SEQUENCE);
            check("end_of_sequence again on the next call", wl_nn_compute_single(tc), WL_NN_END_OF_SEQUENCE);
            check("fini_single (tiny model)", wl_nn_fini_single(tc), WL_NN_SUCCESS);
            check("compute ends at the end of text too", wl_nn_compute(tc), WL_NN_SUCCESS);
            check("unload (tiny model)", wl_nn_unload(tg), WL_NN_SUCCESS);
        }
    }
    static const char notgguf[] = "GGUF but not really a model";
    e = wl_nn_load(notgguf, sizeof notgguf, NULL, WL_NN_ENC_GGML, WL_NN_CPU, &g2);
    check_true("load: bytes that are no model are refused", e != WL_NN_SUCCESS, "accepted");
    check("load: an encoding other than GGML", wl_nn_load(notgguf, sizeof notgguf, NULL, WL_NN_ENC_ONNX,
          WL_NN_CPU, &g2), WL_NN_INVALID_ENCODING);

    check("unload", wl_nn_unload(g), WL_NN_SUCCESS);
    printf(failed ? "FAILED\n" : "PASSED\n");
    return failed;
}
