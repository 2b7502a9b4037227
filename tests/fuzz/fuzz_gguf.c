/* fuzz_gguf: libFuzzer target for the GGUF reader (and, on what it accepts,
 * the writer). Whatever gguf_open_buffer() accepts is walked completely
 * through the public API — every key through its typed getters, every array
 * element, nested arrays recursively, every tensor's first and last data
 * byte — so a bounds mistake anywhere trips ASan. An accepted file is then
 * re-encoded with the writer; if the writer accepts it, the reader must
 * accept the result too (a broken invariant aborts, which fails the run). */
#include "gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile uint64_t sink;

static void walk_array(const gguf_file *f, const gguf_kv *kv, int depth) {
    for (uint64_t i = 0; i < kv->arr_len && i < 4096; i++) {
        switch (kv->arr_type) {
        case GGUF_T_STRING: {
            gguf_str s = gguf_arr_str(f, kv, i);
            if (s.len) sink += (unsigned char)s.ptr[0] + (unsigned char)s.ptr[s.len - 1];
            break;
        }
        case GGUF_T_ARRAY: {
            gguf_kv sub;
            if (!gguf_arr_sub(f, kv, i, &sub)) abort();   /* validated at parse time */
            if (depth < 16) walk_array(f, &sub, depth + 1);
            break;
        }
        case GGUF_T_FLOAT32: case GGUF_T_FLOAT64: sink += (uint64_t)(gguf_arr_float(kv, i) != 0); break;
        default: sink += (uint64_t)gguf_arr_int(kv, i); break;
        }
    }
    /* the last element too, and one past the end (must be refused quietly) */
    if (kv->arr_type == GGUF_T_STRING && kv->arr_len) sink += gguf_arr_str(f, kv, kv->arr_len - 1).len;
    sink += gguf_arr_str(f, kv, kv->arr_len).len;
}

static void walk(const gguf_file *f) {
    char key[65536 + 1], err[512];
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        memcpy(key, kv->key.ptr, (size_t)kv->key.len);
        key[kv->key.len] = 0;
        if (gguf_find(f, key) != kv) abort();
        uint64_t u; int64_t s; uint32_t u32; float x; bool b; gguf_str str; const gguf_kv *a;
        sink += gguf_get_u64(f, key, &u, err, sizeof err) + gguf_get_i64(f, key, &s, err, sizeof err) +
                gguf_get_u32(f, key, &u32, err, sizeof err) + gguf_get_f32(f, key, &x, err, sizeof err) +
                gguf_get_bool(f, key, &b, err, sizeof err) + gguf_get_str(f, key, &str, err, sizeof err) +
                gguf_get_arr(f, key, kv->arr_type, &a, err, sizeof err);
        double d;
        sink += gguf_kv_int(kv, &s) + gguf_kv_float(kv, &d);
        if (kv->type == GGUF_T_STRING && kv->arr_len) sink += kv->data[kv->arr_len - 1];
        if (kv->type == GGUF_T_ARRAY) walk_array(f, kv, 0);
    }
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        char name[65536 + 1];
        memcpy(name, t->name.ptr, (size_t)t->name.len);
        name[t->name.len] = 0;
        if (gguf_find_tensor(f, name) != t) abort();
        const uint8_t *p = t->data;
        if (t->n_bytes) sink += p[0] + p[t->n_bytes - 1];
    }
}

static void rewrite(const gguf_file *f) {
    gguf_writer *w = gguf_writer_new(gguf_alignment(f));
    if (!w) return;
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) gguf_w_copy_kv(w, f, gguf_kv_at(f, i));
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        char name[65536 + 1];
        memcpy(name, t->name.ptr, (size_t)t->name.len);
        name[t->name.len] = 0;
        gguf_w_tensor(w, name, t->type, t->n_dims, t->ne, t->data, t->n_bytes);
    }
    char err[512];
    size_t n = 0;
    void *img = gguf_writer_finish(w, &n, err, sizeof err);
    gguf_writer_free(w);
    if (!img) return;   /* e.g. a tensor name longer than llama.cpp allows */
    gguf_file *g = gguf_open_buffer(img, n, err, sizeof err);
    if (!g || gguf_kv_count(g) != gguf_kv_count(f) + (gguf_alignment(f) != 32 && !gguf_find(f, "general.alignment")) ||
        gguf_tensor_count(g) != gguf_tensor_count(f)) {
        fprintf(stderr, "rewrite not accepted: %s\n", g ? "counts differ" : err);
        abort();
    }
    gguf_close(g);
    free(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    gguf_file *f = gguf_open_buffer(data, size, err, sizeof err);
    if (!f) {
        if (strncmp(err, "gguf: ", 6) != 0 || strchr(err, '\n')) abort();   /* one-line, prefixed */
        return 0;
    }
    walk(f);
    rewrite(f);
    gguf_close(f);
    return 0;
}
