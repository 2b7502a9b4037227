/* test_gguf_roundtrip: write every value type (scalars, strings, arrays of
 * each type, arrays of strings, nested arrays) and tensors of several types
 * with the writer, read the image back and compare; check llama.cpp's layout
 * rules (aligned data section, aligned tensors, zero padding); check that
 * copying every kv and tensor reproduces the image byte for byte; check the
 * writer's refusals and the atomic file write. */
#define _POSIX_C_SOURCE 200809L
#include "gguf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;
#define CHECK(c, ...) do { if (!(c)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static uint8_t tdata[6][4096];

static gguf_writer *build(uint32_t align) {
    gguf_writer *w = gguf_writer_new(align);
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u8(w, "t.u8", 250);
    gguf_w_i8(w, "t.i8", -100);
    gguf_w_u16(w, "t.u16", 65000);
    gguf_w_i16(w, "t.i16", -32000);
    gguf_w_u32(w, "t.u32", 4000000000u);
    gguf_w_i32(w, "t.i32", -2000000000);
    gguf_w_u64(w, "t.u64", 18000000000000000000ull);
    gguf_w_i64(w, "t.i64", -9000000000000000000ll);
    gguf_w_f32(w, "t.f32", 0.15625f);
    gguf_w_f64(w, "t.f64", -1e300);
    gguf_w_bool(w, "t.bool", true);
    gguf_w_str(w, "t.empty", "");
    gguf_w_str_n(w, "t.nul", "a\0b\xff", 4);    /* values are bytes, not C strings */
    gguf_w_str(w, "t.utf8.\xc3\xa9", "\xe2\x96\x81hello");
    static const uint8_t a8[] = {1, 2, 255};
    static const int16_t a16[] = {-1, 2, -3};
    static const uint32_t a32[] = {7, 8, 9, 10};
    static const float af[] = {0.5f, -2.25f};
    static const double ad[] = {1e-300, 3.5};
    static const int64_t a64[] = {INT64_MIN, 0, INT64_MAX};
    static const uint8_t ab[] = {1, 0, 1};
    gguf_w_arr(w, "a.u8", GGUF_T_UINT8, a8, 3);
    gguf_w_arr(w, "a.i16", GGUF_T_INT16, a16, 3);
    gguf_w_arr(w, "a.u32", GGUF_T_UINT32, a32, 4);
    gguf_w_arr(w, "a.f32", GGUF_T_FLOAT32, af, 2);
    gguf_w_arr(w, "a.f64", GGUF_T_FLOAT64, ad, 2);
    gguf_w_arr(w, "a.i64", GGUF_T_INT64, a64, 3);
    gguf_w_arr(w, "a.bool", GGUF_T_BOOL, ab, 3);
    gguf_w_arr(w, "a.empty", GGUF_T_INT32, NULL, 0);
    static const char *const strs[] = {"<unk>", "", "\xe2\x96\x81the"};
    gguf_w_arr(w, "a.str", GGUF_T_STRING, strs, 3);
    static const size_t lens[] = {3, 0, 1};
    static const char *const raw[] = {"x\0y", "", "\x80"};
    gguf_w_arr_strn(w, "a.strn", raw, lens, 3);
    /* nested: [[1,2],[],[3]] of u16, and [[["a","bc"]], []] of strings */
    static const uint16_t n1[] = {1, 2}, n3[] = {3};
    static const gguf_warr inner[] = {{GGUF_T_UINT16, n1, 2}, {GGUF_T_UINT16, NULL, 0}, {GGUF_T_UINT16, n3, 1}};
    gguf_w_arr(w, "a.nested", GGUF_T_ARRAY, inner, 3);
    static const char *const sa[] = {"a", "bc"};
    static const gguf_warr lvl2[] = {{GGUF_T_STRING, sa, 2}};
    static const gguf_warr lvl1[] = {{GGUF_T_ARRAY, lvl2, 1}, {GGUF_T_ARRAY, NULL, 0}};
    gguf_w_arr(w, "a.nested2", GGUF_T_ARRAY, lvl1, 2);

    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 4096; j++) tdata[i][j] = (uint8_t)(j * 7 + i * 31 + 1);
    uint64_t s1[2] = {8, 3};
    gguf_w_tensor(w, "f32", GGML_F32, 2, s1, tdata[0], 8 * 3 * 4);
    uint64_t s2[1] = {5};
    gguf_w_tensor(w, "f16.odd", GGML_F16, 1, s2, tdata[1], 10);
    uint64_t s3[3] = {64, 2, 2};
    gguf_w_tensor(w, "q4_0", GGML_Q4_0, 3, s3, tdata[2], 2 * 4 * 18);
    uint64_t s4[2] = {256, 2};
    gguf_w_tensor(w, "q4_k", GGML_Q4_K, 2, s4, tdata[3], 2 * 144);
    uint64_t s5[4] = {32, 1, 1, 2};
    gguf_w_tensor(w, "q8_0", GGML_Q8_0, 4, s5, tdata[4], 2 * 34);
    uint64_t s6[1] = {7};
    gguf_w_tensor(w, "zeros.i32", GGML_I32, 1, s6, NULL, 28);
    return w;
}

static void check_values(const gguf_file *f) {
    char err[256];
    uint64_t u;
    int64_t i;
    uint32_t u32;
    float x;
    bool b;
    gguf_str s;
    CHECK(gguf_get_u64(f, "t.u8", &u, err, sizeof err) && u == 250, "u8");
    CHECK(gguf_get_i64(f, "t.i8", &i, err, sizeof err) && i == -100, "i8");
    CHECK(gguf_get_u32(f, "t.u16", &u32, err, sizeof err) && u32 == 65000, "u16");
    CHECK(gguf_get_i64(f, "t.i16", &i, err, sizeof err) && i == -32000, "i16");
    CHECK(gguf_get_u32(f, "t.u32", &u32, err, sizeof err) && u32 == 4000000000u, "u32");
    CHECK(gguf_get_i64(f, "t.i32", &i, err, sizeof err) && i == -2000000000, "i32");
    CHECK(gguf_get_u64(f, "t.u64", &u, err, sizeof err) && u == 18000000000000000000ull, "u64");
    CHECK(!gguf_get_i64(f, "t.u64", &i, err, sizeof err) && strstr(err, "does not fit int64"), "u64 as i64");
    CHECK(gguf_get_i64(f, "t.i64", &i, err, sizeof err) && i == -9000000000000000000ll, "i64");
    CHECK(gguf_get_f32(f, "t.f32", &x, err, sizeof err) && x == 0.15625f, "f32");
    const gguf_kv *kv = gguf_find(f, "t.f64");
    double d;
    CHECK(kv && gguf_kv_float(kv, &d) && d == -1e300, "f64");
    CHECK(gguf_get_bool(f, "t.bool", &b, err, sizeof err) && b, "bool");
    CHECK(gguf_get_str(f, "t.empty", &s, err, sizeof err) && s.len == 0, "empty string");
    CHECK(gguf_get_str(f, "t.nul", &s, err, sizeof err) && s.len == 4 && !memcmp(s.ptr, "a\0b\xff", 4), "nul string");
    CHECK(gguf_get_str(f, "t.utf8.\xc3\xa9", &s, err, sizeof err) && gguf_str_eq(s, "\xe2\x96\x81hello"), "utf8");

    const gguf_kv *a;
    CHECK(gguf_get_arr(f, "a.u8", GGUF_T_UINT8, &a, err, sizeof err) && a->arr_len == 3 && gguf_arr_int(a, 2) == 255, "a.u8");
    CHECK(gguf_get_arr(f, "a.i16", GGUF_T_INT16, &a, err, sizeof err) && gguf_arr_int(a, 2) == -3, "a.i16");
    CHECK(gguf_get_arr(f, "a.u32", GGUF_T_UINT32, &a, err, sizeof err) && gguf_arr_int(a, 3) == 10, "a.u32");
    CHECK(gguf_get_arr(f, "a.f32", GGUF_T_FLOAT32, &a, err, sizeof err) && gguf_arr_float(a, 1) == -2.25, "a.f32");
    CHECK(gguf_get_arr(f, "a.f64", GGUF_T_FLOAT64, &a, err, sizeof err) && gguf_arr_float(a, 0) == 1e-300, "a.f64");
    CHECK(gguf_get_arr(f, "a.i64", GGUF_T_INT64, &a, err, sizeof err) && gguf_arr_int(a, 0) == INT64_MIN &&
          gguf_arr_int(a, 2) == INT64_MAX, "a.i64");
    CHECK(gguf_get_arr(f, "a.bool", GGUF_T_BOOL, &a, err, sizeof err) && gguf_arr_int(a, 0) == 1 && gguf_arr_int(a, 1) == 0, "a.bool");
    CHECK(gguf_get_arr(f, "a.empty", GGUF_T_INT32, &a, err, sizeof err) && a->arr_len == 0, "a.empty");
    CHECK(gguf_get_arr(f, "a.str", GGUF_T_STRING, &a, err, sizeof err) && a->arr_len == 3 &&
          gguf_str_eq(gguf_arr_str(f, a, 0), "<unk>") && gguf_arr_str(f, a, 1).len == 0 &&
          gguf_str_eq(gguf_arr_str(f, a, 2), "\xe2\x96\x81the"), "a.str");
    CHECK(gguf_arr_str(f, a, 3).len == 0, "a.str out of range");
    CHECK(gguf_get_arr(f, "a.strn", GGUF_T_STRING, &a, err, sizeof err) && gguf_arr_str(f, a, 0).len == 3 &&
          !memcmp(gguf_arr_str(f, a, 0).ptr, "x\0y", 3) && gguf_str_eq(gguf_arr_str(f, a, 2), "\x80"), "a.strn");

    gguf_kv sub, sub2;
    CHECK(gguf_get_arr(f, "a.nested", GGUF_T_ARRAY, &a, err, sizeof err) && a->arr_len == 3, "a.nested");
    CHECK(gguf_arr_sub(f, a, 0, &sub) && sub.arr_type == GGUF_T_UINT16 && sub.arr_len == 2 &&
          gguf_arr_int(&sub, 1) == 2, "nested[0]");
    CHECK(gguf_arr_sub(f, a, 1, &sub) && sub.arr_len == 0, "nested[1]");
    CHECK(gguf_arr_sub(f, a, 2, &sub) && sub.arr_len == 1 && gguf_arr_int(&sub, 0) == 3, "nested[2]");
    CHECK(!gguf_arr_sub(f, a, 3, &sub), "nested out of range");
    CHECK(gguf_get_arr(f, "a.nested2", GGUF_T_ARRAY, &a, err, sizeof err) && a->arr_len == 2, "a.nested2");
    CHECK(gguf_arr_sub(f, a, 0, &sub) && sub.arr_type == GGUF_T_ARRAY && sub.arr_len == 1 &&
          gguf_arr_sub(f, &sub, 0, &sub2) && sub2.arr_type == GGUF_T_STRING && sub2.arr_len == 2 &&
          gguf_str_eq(gguf_arr_str(f, &sub2, 1), "bc") && gguf_str_eq(gguf_arr_str(f, &sub2, 0), "a"), "nested2[0][0]");
    CHECK(gguf_arr_sub(f, a, 1, &sub) && sub.arr_type == GGUF_T_ARRAY && sub.arr_len == 0, "nested2[1]");
}

static void check_tensors(const gguf_file *f, uint32_t align) {
    static const struct { const char *name; uint32_t type; uint64_t bytes; int data; } want[] = {
        {"f32", GGML_F32, 96, 0}, {"f16.odd", GGML_F16, 10, 1}, {"q4_0", GGML_Q4_0, 144, 2},
        {"q4_k", GGML_Q4_K, 288, 3}, {"q8_0", GGML_Q8_0, 68, 4}, {"zeros.i32", GGML_I32, 28, -1},
    };
    CHECK(gguf_tensor_count(f) == 6, "tensor count");
    CHECK(gguf_alignment(f) == align, "alignment %u", gguf_alignment(f));
    const uint8_t *base = gguf_base(f);
    uint64_t ds = gguf_data_offset(f);
    CHECK(ds % align == 0, "data section aligned");
    uint64_t end = ds;
    for (int i = 0; i < 6; i++) {
        const gguf_tensor *t = gguf_find_tensor(f, want[i].name);
        CHECK(t && t == gguf_tensor_at(f, (uint64_t)i), "%s order", want[i].name);
        if (!t) continue;
        CHECK(t->type == want[i].type && t->n_bytes == want[i].bytes, "%s type/size", want[i].name);
        CHECK(t->offset % align == 0, "%s aligned", want[i].name);
        for (uint64_t k = end; k < t->offset; k++) CHECK(base[k] == 0, "padding byte %" PRIu64 " not zero", k);
        const uint8_t *p = t->data;
        if (want[i].data >= 0) CHECK(!memcmp(p, tdata[want[i].data], (size_t)t->n_bytes), "%s data", want[i].name);
        else for (uint64_t k = 0; k < t->n_bytes; k++) CHECK(p[k] == 0, "%s zeros", want[i].name);
        end = t->offset + t->n_bytes;
    }
    CHECK(gguf_size(f) % align == 0 && gguf_size(f) - end < align, "file ends padded to alignment");
    for (uint64_t k = end; k < gguf_size(f); k++) CHECK(base[k] == 0, "tail padding");
    const gguf_tensor *q = gguf_find_tensor(f, "q4_0");
    CHECK(q && q->n_dims == 3 && q->ne[0] == 64 && q->ne[2] == 2 && q->ne[3] == 1 && q->n_elems == 256, "q4_0 shape");
}

/* Copy every kv and tensor into a new writer: the image must be identical. */
static void check_copy(const gguf_file *f, const void *img, size_t n, uint32_t align) {
    gguf_writer *w = gguf_writer_new(align);
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) gguf_w_copy_kv(w, f, gguf_kv_at(f, i));
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        gguf_w_tensor(w, name, t->type, t->n_dims, t->ne, t->data, t->n_bytes);
    }
    char err[256];
    size_t m = 0;
    void *copy = gguf_writer_finish(w, &m, err, sizeof err);
    CHECK(copy && m == n && !memcmp(copy, img, n), "copy differs (%zu vs %zu bytes): %s", m, n, copy ? "" : err);
    free(copy);
    gguf_writer_free(w);
}

static void roundtrip(uint32_t align) {
    gguf_writer *w = build(align);
    char err[256];
    size_t n = 0;
    void *img = gguf_writer_finish(w, &n, err, sizeof err);
    CHECK(img, "finish: %s", err);
    if (!img) { gguf_writer_free(w); return; }
    gguf_file *f = gguf_open_buffer(img, n, err, sizeof err);
    CHECK(f, "read back (align %u): %s", align, err);
    if (f) {
        CHECK(gguf_version(f) == 3, "v3");
        CHECK(gguf_kv_count(f) == 27 + (align != 32), "kv count %" PRIu64, gguf_kv_count(f));
        check_values(f);
        check_tensors(f, align);
        check_copy(f, img, n, align);
        gguf_close(f);
    }
    /* the atomic file write produces the same bytes */
    char path[] = "/tmp/gguf-rt-XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    CHECK(gguf_writer_write_file(w, path, err, sizeof err), "write_file: %s", err);
    gguf_file *g = gguf_open_file(path, err, sizeof err);
    CHECK(g && gguf_size(g) == n && !memcmp(gguf_base(g), img, n), "file image differs: %s", g ? "" : err);
    gguf_close(g);
    unlink(path);
    CHECK(!gguf_writer_write_file(w, "/nonexistent-dir/x.gguf", err, sizeof err) &&
          strstr(err, "/nonexistent-dir/x.gguf"), "write to missing dir: %s", err);
    free(img);
    gguf_writer_free(w);
    printf("ok   round trip, alignment %u (%zu bytes)\n", align, n);
}

/* The writer refuses what the reader would refuse, with the first error. */
static void refusals(void) {
    static const struct { const char *want; int kind; } cases[] = {
        {"row of 48 is not a multiple of the Q4_0 block size 32", 0},
        {"duplicate key 'x.y'", 1},
        {"duplicate tensor 'w'", 2},
        {"bytes given, the shape needs", 3},
        {"bad tensor name", 4},
        {"bad key", 5},
        {"unknown type 5", 6},
        {"general.alignment must be the uint32 64", 7},
        {"alignment 24 is not a power of two", 8},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        gguf_writer *w = gguf_writer_new(cases[c].kind == 7 ? 64 : cases[c].kind == 8 ? 24 : 32);
        uint64_t ne[2] = {48, 2}, ne1[1] = {8};
        static uint8_t z[256];
        switch (cases[c].kind) {
        case 0: gguf_w_tensor(w, "w", GGML_Q4_0, 2, ne, NULL, 54); break;
        case 1: gguf_w_u32(w, "x.y", 1); gguf_w_str(w, "x.y", "again"); break;
        case 2: gguf_w_tensor(w, "w", GGML_F32, 1, ne1, z, 32); gguf_w_tensor(w, "w", GGML_F32, 1, ne1, z, 32); break;
        case 3: gguf_w_tensor(w, "w", GGML_F32, 1, ne1, z, 31); break;
        case 4: gguf_w_tensor(w, "a.name.that.is.much.longer.than.sixty.three.bytes.which.llama.cpp.refuses",
                              GGML_F32, 1, ne1, z, 32); break;
        case 5: gguf_w_u8(w, "", 1); break;
        case 6: gguf_w_tensor(w, "w", 5, 1, ne1, z, 32); break;
        case 7: gguf_w_u32(w, "general.alignment", 32); break;
        case 8: break;
        }
        gguf_w_u32(w, "after.error", 1);   /* ignored once an error is recorded */
        char err[256] = "";
        size_t n;
        void *img = gguf_writer_finish(w, &n, err, sizeof err);
        CHECK(!img && strstr(err, cases[c].want) && !strncmp(err, "gguf writer: ", 13),
              "writer case %zu: got '%s', want '%s'", c, err, cases[c].want);
        free(img);
        gguf_writer_free(w);
    }
    /* general.alignment written by the caller, matching: accepted, not doubled */
    gguf_writer *w = gguf_writer_new(64);
    gguf_w_u32(w, "general.alignment", 64);
    char err[256];
    size_t n;
    void *img = gguf_writer_finish(w, &n, err, sizeof err);
    gguf_file *f = img ? gguf_open_buffer(img, n, err, sizeof err) : NULL;
    CHECK(f && gguf_kv_count(f) == 1 && gguf_alignment(f) == 64, "explicit alignment: %s", err);
    gguf_close(f);
    free(img);
    gguf_writer_free(w);
    /* an empty writer gives a valid empty file */
    w = gguf_writer_new(0);
    img = gguf_writer_finish(w, &n, err, sizeof err);
    f = img ? gguf_open_buffer(img, n, err, sizeof err) : NULL;
    CHECK(f && n == 24 && gguf_kv_count(f) == 0 && gguf_tensor_count(f) == 0, "empty file");
    gguf_close(f);
    free(img);
    gguf_writer_free(w);
    printf("ok   writer refusals\n");
}

/* GGUF v1 built by hand (u32 counts, lengths and dimensions): read, and
 * re-encoded as v3 by copying. */
static void v1(void) {
    uint8_t b[512];
    size_t o = 0;
#define P32(v) do { uint32_t x_ = (v); for (int i_ = 0; i_ < 4; i_++) b[o++] = (uint8_t)(x_ >> 8 * i_); } while (0)
#define P64(v) do { P32((uint32_t)(v)); P32((uint32_t)((uint64_t)(v) >> 32)); } while (0)
#define PS(s) do { P32((uint32_t)strlen(s)); memcpy(b + o, s, strlen(s)); o += strlen(s); } while (0)
    memcpy(b, "GGUF", 4); o = 4;
    P32(1); P32(2); P32(3);
    PS("general.architecture"); P32(GGUF_T_STRING); PS("llama");
    PS("tokenizer.ggml.tokens"); P32(GGUF_T_ARRAY); P32(GGUF_T_STRING); P32(3); PS("<s>"); PS(""); PS("xyz");
    PS("n"); P32(GGUF_T_ARRAY); P32(GGUF_T_ARRAY); P32(2);
    P32(GGUF_T_INT16); P32(1); b[o++] = 0xfe; b[o++] = 0xff;
    P32(GGUF_T_STRING); P32(1); PS("q");
    PS("a"); P32(2); P32(4); P32(2); P32(GGML_F32); P64(0);
    PS("b"); P32(1); P32(32); P32(GGML_Q8_0); P64(32);
    while (o % 32) b[o++] = 0;
    for (int i = 0; i < 32 + 34; i++) b[o++] = (uint8_t)i;
    char err[256];
    gguf_file *f = gguf_open_buffer(b, o, err, sizeof err);
    CHECK(f, "v1: %s", err);
    if (!f) return;
    gguf_str s;
    const gguf_kv *a;
    gguf_kv sub;
    CHECK(gguf_version(f) == 1 && gguf_get_str(f, "general.architecture", &s, err, sizeof err) &&
          gguf_str_eq(s, "llama"), "v1 string");
    CHECK(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_T_STRING, &a, err, sizeof err) && a->arr_len == 3 &&
          gguf_str_eq(gguf_arr_str(f, a, 0), "<s>") && gguf_arr_str(f, a, 1).len == 0 &&
          gguf_str_eq(gguf_arr_str(f, a, 2), "xyz"), "v1 string array");
    CHECK(gguf_get_arr(f, "n", GGUF_T_ARRAY, &a, err, sizeof err) && gguf_arr_sub(f, a, 0, &sub) &&
          sub.arr_len == 1 && gguf_arr_int(&sub, 0) == -2 && gguf_arr_sub(f, a, 1, &sub) &&
          gguf_str_eq(gguf_arr_str(f, &sub, 0), "q"), "v1 nested");
    const gguf_tensor *t = gguf_find_tensor(f, "a"), *q = gguf_find_tensor(f, "b");
    CHECK(t && t->n_dims == 2 && t->ne[0] == 4 && t->ne[1] == 2 && t->n_bytes == 32 &&
          ((const uint8_t *)t->data)[31] == 31, "v1 tensor a");
    CHECK(q && q->ne[0] == 32 && q->n_bytes == 34 && ((const uint8_t *)q->data)[0] == 32, "v1 tensor b");
    gguf_writer *w = gguf_writer_new(32);
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) gguf_w_copy_kv(w, f, gguf_kv_at(f, i));
    size_t n;
    void *img = gguf_writer_finish(w, &n, err, sizeof err);
    gguf_file *g = img ? gguf_open_buffer(img, n, err, sizeof err) : NULL;
    CHECK(g && gguf_version(g) == 3 && gguf_get_arr(g, "n", GGUF_T_ARRAY, &a, err, sizeof err) &&
          gguf_arr_sub(g, a, 1, &sub) && gguf_str_eq(gguf_arr_str(g, &sub, 0), "q") &&
          gguf_get_arr(g, "tokenizer.ggml.tokens", GGUF_T_STRING, &a, err, sizeof err) &&
          gguf_str_eq(gguf_arr_str(g, a, 2), "xyz"), "v1 -> v3 copy: %s", err);
    gguf_close(g);
    free(img);
    gguf_writer_free(w);
    gguf_close(f);
    printf("ok   v1 read and copied to v3\n");
}

int main(void) {
    v1();
    roundtrip(32);
    roundtrip(64);
    roundtrip(1);
    refusals();
    return failures ? 1 : 0;
}
