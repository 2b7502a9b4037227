/* nn_config.h: the GGML backend's JSON options, as WasmEdge reads them.
 *
 * Contract: nn_config_apply() merges one JSON object (from load's second
 * builder, load_by_name_with_config, or set_input index 1) into an
 * nn_options. Known keys must have the right JSON type (integers for
 * counts, numbers for floats, booleans, strings) or the call fails with
 * WL_NN_INVALID_ARGUMENT; text that is not a JSON object fails with
 * WL_NN_INVALID_ENCODING; unknown keys are ignored. LlamaEdge's underscore
 * spellings (json_schema, include_usage, ...) are accepted for every key.
 * On failure the options are unchanged.
 */
#ifndef WASMLET_NN_CONFIG_H
#define WASMLET_NN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* WasmEdge's error numbering (the same values as sdk/include/wasmlet/wasi_nn.h). */
enum {
    NN_OK = 0, NN_INVALID_ARGUMENT = 1, NN_INVALID_ENCODING = 2, NN_MISSING_MEMORY = 3,
    NN_BUSY = 4, NN_RUNTIME_ERROR = 5, NN_UNSUPPORTED = 6, NN_TOO_LARGE = 7, NN_NOT_FOUND = 8,
    NN_END_OF_SEQUENCE = 100, NN_CONTEXT_FULL = 101, NN_PROMPT_TOO_LONG = 102,
    NN_MODEL_NOT_FOUND = 103,
};

#define NN_MAX_STOP 256   /* bytes of reverse-prompt kept */

typedef struct {
    bool enable_log, enable_debug_log, stream_stdout, embedding, ignore_eos, include_usage;
    int64_t n_predict;        /* <0: until end of generation or a full context */
    int64_t ctx_size;         /* 0: the model's context length (capped) */
    int64_t batch_size, ubatch_size;
    int64_t threads, threads_batch;
    int64_t n_gpu_layers;     /* accepted, no GPU here */
    double temp, top_p, min_p, typ_p;
    int64_t top_k;
    double repeat_penalty, presence_penalty, frequency_penalty;
    int64_t last_n_penalty;
    uint64_t seed;
    char reverse_prompt[NN_MAX_STOP];
} nn_options;

void nn_options_default(nn_options *o);
/* Returns NN_OK, NN_INVALID_ARGUMENT or NN_INVALID_ENCODING; err names the
 * key or the JSON problem. */
int nn_config_apply(nn_options *o, const char *json, size_t len, char *err, size_t errlen);

#endif
