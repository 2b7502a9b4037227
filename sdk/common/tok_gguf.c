/* tok_gguf.c: the tokenizer from a GGUF's tokenizer.ggml.* metadata.
 * Every key is optional except the model and the tokens (plus scores for
 * SentencePiece and merges for byte-level BPE); a key of the wrong type or
 * an array of the wrong length is an error naming the key. */
#include <stdio.h>
#include <string.h>

#include "tok_internal.h"

#define KEY(k) "tokenizer.ggml." k

static bool opt_str(const gguf_file *f, const char *key, gguf_str *out, bool *present, char *err, size_t errlen) {
    *present = gguf_find(f, key) != NULL;
    return !*present || gguf_get_str(f, key, out, err, errlen);
}

static bool opt_id(const gguf_file *f, const char *key, int64_t *out, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv) return true;
    if (kv->type == GGUF_T_BOOL || !gguf_kv_int(kv, out)) {
        tok_err(err, errlen, "tokenizer: %s at offset %llu: expected an integer token id", key,
                (unsigned long long)kv->offset);
        return false;
    }
    return true;
}

static bool opt_bool(const gguf_file *f, const char *key, int *out, char *err, size_t errlen) {
    if (!gguf_find(f, key)) return true;
    bool v;
    if (!gguf_get_bool(f, key, &v, err, errlen)) return false;
    *out = v;
    return true;
}

/* An optional array whose length must match the vocabulary. */
static bool opt_arr(const gguf_file *f, const char *key, bool want_float, uint64_t n,
                    const gguf_kv **out, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(f, key);
    *out = NULL;
    if (!kv) return true;
    bool ok = kv->type == GGUF_T_ARRAY;
    gguf_vtype e = kv->arr_type;
    if (ok && want_float) ok = e == GGUF_T_FLOAT32 || e == GGUF_T_FLOAT64;
    if (ok && !want_float)
        ok = e == GGUF_T_INT8 || e == GGUF_T_UINT8 || e == GGUF_T_INT16 || e == GGUF_T_UINT16 ||
             e == GGUF_T_INT32 || e == GGUF_T_UINT32 || e == GGUF_T_INT64 || e == GGUF_T_UINT64;
    if (!ok) {
        tok_err(err, errlen, "tokenizer: %s at offset %llu: expected an array of %s", key,
                (unsigned long long)kv->offset, want_float ? "floats" : "integers");
        return false;
    }
    if (kv->arr_len != n) {
        tok_err(err, errlen, "tokenizer: %s has %llu entries but there are %llu tokens", key,
                (unsigned long long)kv->arr_len, (unsigned long long)n);
        return false;
    }
    *out = kv;
    return true;
}

tokenizer *tok_load_gguf(const gguf_file *f, char *err, size_t errlen) {
    tok_spec spec;
    tok_spec_init(&spec);
    gguf_str model, pre;
    bool has;
    if (!opt_str(f, KEY("model"), &model, &has, err, errlen)) return NULL;
    if (!has) {
        tok_err(err, errlen, "tokenizer: no tokenizer.ggml.model in this file");
        return NULL;
    }
    spec.model = model.ptr;
    spec.model_len = (size_t)model.len;
    if (!opt_str(f, KEY("pre"), &pre, &has, err, errlen)) return NULL;
    if (has) { spec.pre = pre.ptr; spec.pre_len = (size_t)pre.len; }
    gguf_str name;   /* only a hint (see strip rules): a non-string is ignored */
    const gguf_kv *nk = gguf_find(f, "general.name");
    if (nk && nk->type == GGUF_T_STRING && gguf_kv_str(nk, &name)) {
        spec.name = name.ptr;
        spec.name_len = (size_t)name.len;
    }

    const gguf_kv *tokens;
    if (!gguf_get_arr(f, KEY("tokens"), GGUF_T_STRING, &tokens, err, errlen)) return NULL;
    if (tokens->arr_len == 0 || tokens->arr_len > INT32_MAX) {
        tok_err(err, errlen, "tokenizer: tokenizer.ggml.tokens has %llu entries",
                (unsigned long long)tokens->arr_len);
        return NULL;
    }
    uint64_t n = tokens->arr_len;
    spec.n_tokens = (uint32_t)n;
    const gguf_kv *scores, *types, *merges = NULL;
    if (!opt_arr(f, KEY("scores"), true, n, &scores, err, errlen)) return NULL;
    if (!opt_arr(f, KEY("token_type"), false, n, &types, err, errlen)) return NULL;
    bool spm = model.len == 5 && memcmp(model.ptr, "llama", 5) == 0;
    if (spm && !scores) {
        tok_err(err, errlen, "tokenizer: SentencePiece model without tokenizer.ggml.scores");
        return NULL;
    }
    if (!spm && gguf_find(f, KEY("merges")) &&
        !gguf_get_arr(f, KEY("merges"), GGUF_T_STRING, &merges, err, errlen))
        return NULL;
    if (!opt_id(f, KEY("bos_token_id"), &spec.bos, err, errlen) ||
        !opt_id(f, KEY("eos_token_id"), &spec.eos, err, errlen) ||
        !opt_id(f, KEY("unknown_token_id"), &spec.unk, err, errlen) ||
        !opt_id(f, KEY("padding_token_id"), &spec.pad, err, errlen) ||
        !opt_bool(f, KEY("add_bos_token"), &spec.add_bos, err, errlen) ||
        !opt_bool(f, KEY("add_eos_token"), &spec.add_eos, err, errlen) ||
        !opt_bool(f, KEY("add_space_prefix"), &spec.add_space_prefix, err, errlen))
        return NULL;

    tok_builder *b = tok_builder_new(&spec, err, errlen);
    if (!b) return NULL;
    for (uint64_t i = 0; i < n; i++) {
        gguf_str s = gguf_arr_str(f, tokens, i);
        float score = scores ? (float)gguf_arr_float(scores, i) : 0.0f;
        int64_t ty = types ? gguf_arr_int(types, i) : TOK_TYPE_NORMAL;
        if (ty < INT32_MIN || ty > INT32_MAX) ty = -1;
        if (!tok_builder_token(b, (uint32_t)i, s.ptr, (size_t)s.len, score, (int32_t)ty, err, errlen)) {
            tok_builder_free(b);
            return NULL;
        }
    }
    for (uint64_t i = 0; merges && i < merges->arr_len; i++) {
        gguf_str s = gguf_arr_str(f, merges, i);
        if (!tok_builder_merge(b, s.ptr, (size_t)s.len, err, errlen)) {
            tok_builder_free(b);
            return NULL;
        }
    }
    return tok_builder_finish(b, err, errlen);
}
