/* kv_equal.h (tests): deep comparison of two metadata values, possibly from
 * files of different GGUF versions, through the public reader API only. */
#ifndef TEST_KV_EQUAL_H
#define TEST_KV_EQUAL_H
#include "gguf.h"
#include <string.h>

static bool arr_equal(const gguf_file *fa, const gguf_kv *a, const gguf_file *fb, const gguf_kv *b) {
    if (a->arr_type != b->arr_type || a->arr_len != b->arr_len) return false;
    for (uint64_t i = 0; i < a->arr_len; i++) {
        if (a->arr_type == GGUF_T_STRING) {
            gguf_str x = gguf_arr_str(fa, a, i), y = gguf_arr_str(fb, b, i);
            if (x.len != y.len || memcmp(x.ptr, y.ptr, (size_t)x.len)) return false;
        } else if (a->arr_type == GGUF_T_ARRAY) {
            gguf_kv sa, sb;
            if (!gguf_arr_sub(fa, a, i, &sa) || !gguf_arr_sub(fb, b, i, &sb) || !arr_equal(fa, &sa, fb, &sb))
                return false;
        } else {
            size_t sz = gguf_vtype_size(a->arr_type);
            if (memcmp(a->data + i * sz, b->data + i * sz, sz)) return false;
        }
    }
    return true;
}

static bool kv_equal(const gguf_file *fa, const gguf_kv *a, const gguf_file *fb, const gguf_kv *b) {
    if (a->type != b->type || a->key.len != b->key.len || memcmp(a->key.ptr, b->key.ptr, (size_t)a->key.len))
        return false;
    if (a->type == GGUF_T_ARRAY) return arr_equal(fa, a, fb, b);
    if (a->type == GGUF_T_STRING)
        return a->arr_len == b->arr_len && memcmp(a->data, b->data, (size_t)a->arr_len) == 0;
    return memcmp(a->data, b->data, gguf_vtype_size(a->type)) == 0;
}
#endif
