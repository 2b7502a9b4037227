/* nn_config.c: JSON options of the GGML backend (see nn_config.h). */
#include "nn_config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"

void nn_options_default(nn_options *o) {
    memset(o, 0, sizeof *o);
    o->n_predict = -1;
    o->ctx_size = 4096;        /* WasmEdge's and LlamaEdge's default */
    o->batch_size = 512;
    o->ubatch_size = 512;
    o->threads = 2;
    o->threads_batch = 2;
    o->temp = 0.8;
    o->top_p = 0.95;
    o->min_p = 0.05;
    o->typ_p = 1.0;
    o->top_k = 40;
    o->repeat_penalty = 1.0;
    o->last_n_penalty = 64;
    o->seed = 0xFFFFFFFFu;      /* llama.cpp's "random seed" marker: we use a fixed one */
}

typedef enum { K_BOOL, K_INT, K_UINT, K_FLOAT, K_STR, K_IGNORED } kind;

typedef struct {
    const char *name;   /* dashed spelling; underscores are accepted too */
    kind k;
    size_t off;
    bool store;         /* false: known but not honoured by this engine */
} key;

#define F(m) offsetof(nn_options, m)
static const key keys[] = {
    { "enable-log", K_BOOL, F(enable_log), true },
    { "enable-debug-log", K_BOOL, F(enable_debug_log), true },
    { "stream-stdout", K_BOOL, F(stream_stdout), true },
    { "embedding", K_BOOL, F(embedding), true },
    { "ignore-eos", K_BOOL, F(ignore_eos), true },
    { "include-usage", K_BOOL, F(include_usage), true },
    { "n-predict", K_INT, F(n_predict), true },
    { "ctx-size", K_UINT, F(ctx_size), true },
    { "batch-size", K_UINT, F(batch_size), true },
    { "ubatch-size", K_UINT, F(ubatch_size), true },
    { "threads", K_UINT, F(threads), true },
    { "threads-batch", K_UINT, F(threads_batch), true },
    { "n-gpu-layers", K_INT, F(n_gpu_layers), true },
    { "temp", K_FLOAT, F(temp), true },
    { "top-p", K_FLOAT, F(top_p), true },
    { "min-p", K_FLOAT, F(min_p), true },
    { "typ-p", K_FLOAT, F(typ_p), true },
    { "top-k", K_INT, F(top_k), true },
    { "repeat-penalty", K_FLOAT, F(repeat_penalty), true },
    { "presence-penalty", K_FLOAT, F(presence_penalty), true },
    { "frequency-penalty", K_FLOAT, F(frequency_penalty), true },
    { "last-n-penalty", K_INT, F(last_n_penalty), true },
    { "seed", K_UINT, F(seed), true },
    { "reverse-prompt", K_STR, F(reverse_prompt), true },
    /* Known keys this engine cannot honour: type-checked, then ignored. */
    { "main-gpu", K_INT, 0, false }, { "split-mode", K_STR, 0, false }, { "tensor-split", K_STR, 0, false },
    { "use-mmap", K_BOOL, 0, false }, { "use-mlock", K_BOOL, 0, false }, { "grammar", K_STR, 0, false },
    { "json-schema", K_STR, 0, false }, { "mmproj", K_STR, 0, false }, { "image", K_STR, 0, false },
};
#undef F

/* "n_predict" and "n-predict" name the same key. */
static bool same_key(const char *dashed, const char *k, size_t n) {
    if (strlen(dashed) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = k[i] == '_' ? '-' : k[i];
        if (c != dashed[i]) return false;
    }
    return true;
}

static int check(const key *kd, const json_value *v, char *err, size_t errlen) {
    const char *want = NULL;
    switch (kd->k) {
    case K_BOOL: if (v->type != JSON_BOOL) want = "a boolean"; break;
    case K_INT: if (v->type != JSON_NUMBER || !v->is_int) want = "an integer"; break;
    case K_UINT: if (v->type != JSON_NUMBER || !v->is_int || v->integer < 0) want = "a non-negative integer"; break;
    case K_FLOAT: if (v->type != JSON_NUMBER) want = "a number"; break;
    case K_STR:
        if (v->type != JSON_STRING) want = "a string";
        else if (kd->store && v->len >= NN_MAX_STOP) want = "a string shorter than 256 bytes";
        break;
    case K_IGNORED: break;
    }
    if (!want) return NN_OK;
    snprintf(err, errlen, "wasi-nn config: \"%s\" must be %s, got %s", kd->name, want,
             json_type_name(v->type));
    return NN_INVALID_ARGUMENT;
}

int nn_config_apply(nn_options *o, const char *text, size_t len, char *err, size_t errlen) {
    char jerr[160];
    json_value *root = json_parse(text, len, jerr, sizeof jerr);
    if (!root) {
        snprintf(err, errlen, "wasi-nn config: %s", jerr);
        return NN_INVALID_ENCODING;
    }
    if (root->type != JSON_OBJECT) {
        snprintf(err, errlen, "wasi-nn config: expected a JSON object, got %s", json_type_name(root->type));
        json_free(root);
        return NN_INVALID_ENCODING;
    }
    /* Check everything first so a bad key leaves the options unchanged. */
    nn_options next = *o;
    int rc = NN_OK;
    for (size_t i = 0; i < root->len && rc == NN_OK; i++) {
        const json_member *m = &root->members[i];
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            const key *kd = &keys[k];
            if (!same_key(kd->name, m->key, m->key_len)) continue;
            rc = check(kd, &m->value, err, errlen);
            if (rc != NN_OK || !kd->store) break;
            char *field = (char *)&next + kd->off;
            switch (kd->k) {
            case K_BOOL: *(bool *)field = m->value.boolean; break;
            case K_INT: *(int64_t *)field = m->value.integer; break;
            case K_UINT:
                if (kd->off == offsetof(nn_options, seed)) *(uint64_t *)field = (uint64_t)m->value.integer;
                else *(int64_t *)field = m->value.integer;
                break;
            case K_FLOAT: *(double *)field = m->value.number; break;
            case K_STR: memcpy(field, m->value.str, m->value.len + 1); break;
            case K_IGNORED: break;
            }
            break;
        }
    }
    json_free(root);
    if (rc == NN_OK) *o = next;
    return rc;
}
