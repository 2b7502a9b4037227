/* test_gguf_bad: one case per kind of hostile GGUF file, each built byte by
 * byte in memory. Each asserts that the reader refuses it with the specific
 * message (substring) and, where the place is well defined, the exact byte
 * offset. Run with a case name to run one case (ctest does, per case);
 * with no argument all cases run. */
#include "gguf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a little byte builder ------------------------------------------------- */

typedef struct { uint8_t b[4096]; size_t n; } B;

static void raw(B *b, const void *p, size_t n) {
    if (b->n + n > sizeof b->b) { fprintf(stderr, "builder overflow\n"); exit(1); }
    memcpy(b->b + b->n, p, n);
    b->n += n;
}
static void u8(B *b, uint8_t v) { raw(b, &v, 1); }
static void u32(B *b, uint32_t v) { for (int i = 0; i < 4; i++) u8(b, (uint8_t)(v >> 8 * i)); }
static void u64(B *b, uint64_t v) { u32(b, (uint32_t)v); u32(b, (uint32_t)(v >> 32)); }
static void str(B *b, const char *s) { u64(b, strlen(s)); raw(b, s, strlen(s)); }
static void hdr(B *b, uint32_t ver, uint64_t nt, uint64_t nkv) {
    raw(b, "GGUF", 4); u32(b, ver); u64(b, nt); u64(b, nkv);
}
static void kv_u32(B *b, const char *k, uint32_t v) { str(b, k); u32(b, GGUF_T_UINT32); u32(b, v); }
static void kv_str(B *b, const char *k, const char *v) { str(b, k); u32(b, GGUF_T_STRING); str(b, v); }
static void tinfo(B *b, const char *name, uint32_t nd, const uint64_t *ne, uint32_t type, uint64_t off) {
    str(b, name); u32(b, nd);
    for (uint32_t i = 0; i < nd; i++) u64(b, ne[i]);
    u32(b, type); u64(b, off);
}
static void pad(B *b, size_t a) { while (b->n % a) u8(b, 0); }
static void zeros(B *b, size_t n) { while (n--) u8(b, 0); }

/* ---- checks --------------------------------------------------------------- */

static int failures;

/* Refused, message contains want, and (off >= 0) "at offset off". */
static void refuse(const char *what, const B *b, const char *want, long long off) {
    char err[512] = "";
    gguf_file *f = gguf_open_buffer(b->b, b->n, err, sizeof err);
    if (f) {
        printf("FAIL %s: accepted\n", what);
        gguf_close(f);
        failures++;
        return;
    }
    char at[64] = "";
    if (off >= 0) snprintf(at, sizeof at, "at offset %lld:", off);
    if (!strstr(err, want) || !strstr(err, at) || strncmp(err, "gguf: ", 6) || strchr(err, '\n')) {
        printf("FAIL %s: got \"%s\", want \"%s\" %s\n", what, err, want, at);
        failures++;
        return;
    }
    printf("ok   %s: %s\n", what, err);
}

#define CASE(name) static void case_##name(void)

/* ---- header -------------------------------------------------------------- */

CASE(empty) { B b = {0}; refuse("empty file", &b, "magic runs past end of file", 0); }

CASE(bad_magic) {
    B b = {0};
    raw(&b, "GGML", 4); u32(&b, 3); u64(&b, 0); u64(&b, 0);
    refuse("bad magic", &b, "bad magic", 0);
}

CASE(big_endian) {
    B b = {0};
    raw(&b, "GGUF", 4); u32(&b, 0x03000000u); u64(&b, 0); u64(&b, 0);
    refuse("big-endian", &b, "big-endian GGUF", 4);
}

CASE(version) {
    B b = {0};
    hdr(&b, 4, 0, 0);
    refuse("version 4", &b, "unsupported version 4", 4);
    B z = {0};
    hdr(&z, 0, 0, 0);
    refuse("version 0", &z, "unsupported version 0", 4);
}

CASE(truncated_header) {
    B b = {0};
    raw(&b, "GGUF", 4); u32(&b, 3); u32(&b, 0);
    refuse("truncated header", &b, "tensor count runs past end of file", 8);
}

CASE(kv_count_huge) {
    B b = {0};
    hdr(&b, 3, 0, UINT64_MAX / 2);
    kv_u32(&b, "a", 1);
    refuse("kv count", &b, "metadata entries cannot fit", 16);
}

CASE(tensor_count_huge) {
    B b = {0};
    hdr(&b, 3, 1000000, 0);
    refuse("tensor count", &b, "tensors cannot fit", 8);
}

/* ---- metadata --------------------------------------------------------------- */

CASE(key_past_end) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    u64(&b, 1000); raw(&b, "general.x", 9); u32(&b, 0); u8(&b, 0);
    refuse("key length", &b, "key length 1000 runs past end of file", 24);
}

CASE(string_past_end) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    str(&b, "general.name"); u32(&b, GGUF_T_STRING); u64(&b, 1ull << 40); raw(&b, "abc", 3);
    refuse("string length", &b, "string value length 1099511627776 runs past end of file", 24 + 8 + 12 + 4);
}

CASE(array_past_end) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    str(&b, "a.b"); u32(&b, GGUF_T_ARRAY); u32(&b, GGUF_T_UINT32); u64(&b, 1ull << 62); u32(&b, 7);
    refuse("array length", &b, "array of 4611686018427387904 uint32 elements", 24 + 11 + 4 + 12);
}

CASE(string_array_count_huge) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    str(&b, "tokenizer.ggml.tokens"); u32(&b, GGUF_T_ARRAY); u32(&b, GGUF_T_STRING); u64(&b, 1u << 30);
    str(&b, "a"); str(&b, "b");
    refuse("string array count", &b, "array of 1073741824 string elements", -1);
}

CASE(string_in_array_past_end) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    str(&b, "t"); u32(&b, GGUF_T_ARRAY); u32(&b, GGUF_T_STRING); u64(&b, 2);
    str(&b, "ok"); u64(&b, 99); raw(&b, "x", 1);
    refuse("string in array", &b, "string length 99 runs past end of file", 24 + 9 + 4 + 12 + 10);
}

CASE(unknown_value_type) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    str(&b, "a.b"); u32(&b, 13); u32(&b, 0);
    refuse("value type", &b, "unknown value type 13", 24 + 11);
}

CASE(unknown_array_type) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    str(&b, "a.b"); u32(&b, GGUF_T_ARRAY); u32(&b, 77); u64(&b, 0);
    refuse("array element type", &b, "unknown array element type 77", 24 + 15);
}

CASE(nested_too_deep) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    str(&b, "deep"); u32(&b, GGUF_T_ARRAY);
    for (int i = 0; i < 12; i++) { u32(&b, GGUF_T_ARRAY); u64(&b, 1); }
    u32(&b, GGUF_T_UINT8); u64(&b, 0);
    refuse("nesting", &b, "arrays nested deeper than", -1);
}

CASE(duplicate_key) {
    B b = {0};
    hdr(&b, 3, 0, 2);
    kv_u32(&b, "llama.block_count", 5);
    kv_u32(&b, "llama.block_count", 6);
    refuse("duplicate key", &b, "duplicate key (first at offset 24)", 24 + 8 + 17 + 8);
}

CASE(empty_key) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    kv_u32(&b, "", 5);
    refuse("empty key", &b, "key is empty", 24);
}

CASE(key_not_utf8) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    kv_u32(&b, "general.\xc0\xafname", 5);
    refuse("key utf-8", &b, "key is not valid UTF-8", 24);
    B c = {0};
    hdr(&c, 3, 0, 1);
    kv_u32(&c, "general.\xe2\x82", 5);  /* truncated sequence */
    refuse("key utf-8 truncated", &c, "key is not valid UTF-8", 24);
    B d = {0};
    hdr(&d, 3, 0, 1);
    kv_u32(&d, "general.\nname", 5);
    refuse("key control char", &d, "key contains a control character", 24);
}

CASE(alignment_type) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    kv_str(&b, "general.alignment", "32");
    refuse("alignment type", &b, "key 'general.alignment' at offset 53: must be uint32, found string", 53);
}

CASE(alignment_value) {
    B b = {0};
    hdr(&b, 3, 0, 1);
    kv_u32(&b, "general.alignment", 48);
    refuse("alignment 48", &b, "alignment 48 is not a power of two", 53);
    B z = {0};
    hdr(&z, 3, 0, 1);
    kv_u32(&z, "general.alignment", 0);
    refuse("alignment 0", &z, "alignment 0 is not a power of two", 53);
}

/* ---- tensors -------------------------------------------------------------- */

/* A v3 file with one kv (so the tensor infos start at offset 24 + 19). */
static void one_kv(B *b, uint64_t nt) { hdr(b, 3, nt, 1); kv_u32(b, "a.b", 1); }
#define TI 43   /* offset of the first tensor info after one_kv */

CASE(zero_dims) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[1] = {4};
    tinfo(&b, "w", 0, ne, GGML_F32, 0);
    pad(&b, 32); zeros(&b, 16);
    refuse("0 dims", &b, "tensor has 0 dimensions", TI + 9);
}

CASE(too_many_dims) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[5] = {1, 1, 1, 1, 1};
    tinfo(&b, "w", 5, ne, GGML_F32, 0);
    pad(&b, 32); zeros(&b, 16);
    refuse("5 dims", &b, "5 dimensions (at most 4)", TI + 9);
}

CASE(zero_dim_size) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[2] = {4, 0};
    tinfo(&b, "w", 2, ne, GGML_F32, 0);
    pad(&b, 32); zeros(&b, 16);
    refuse("zero-size dim", &b, "dimension 1 is zero", TI + 9 + 4 + 8);
}

CASE(dims_overflow) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[3] = {1u << 31, 1u << 31, 1u << 31};
    tinfo(&b, "w", 3, ne, GGML_F32, 0);
    pad(&b, 32); zeros(&b, 16);
    refuse("dims overflow", &b, "element count overflows (dimension 2", TI + 9 + 4 + 16);
}

CASE(bytes_overflow) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[2] = {1ull << 32, 1ull << 30};   /* 2^62 elements, fits int64, *4 bytes does not */
    tinfo(&b, "w", 2, ne, GGML_F32, 0);
    pad(&b, 32); zeros(&b, 16);
    refuse("byte size overflow", &b, "byte size overflows", TI + 9);
}

CASE(unknown_tensor_type) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[1] = {32};
    tinfo(&b, "w", 1, ne, 4 /* Q4_2, removed from ggml */, 0);
    pad(&b, 32); zeros(&b, 32);
    refuse("tensor type 4", &b, "unknown tensor type 4", TI + 9 + 4 + 8);
    B c = {0};
    one_kv(&c, 1);
    tinfo(&c, "w", 1, ne, 0xffffffffu, 0);
    refuse("tensor type max", &c, "unknown tensor type 4294967295", TI + 9 + 4 + 8);
}

CASE(row_not_block_multiple) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[2] = {48, 2};
    tinfo(&b, "blk.0.ffn_up.weight", 2, ne, GGML_Q4_0, 0);
    pad(&b, 32); zeros(&b, 64);
    refuse("row vs block", &b, "tensor 'blk.0.ffn_up.weight' at offset 70: row of 48 elements is not a multiple of the Q4_0 block size 32", -1);
    B c = {0};
    one_kv(&c, 1);
    uint64_t ne2[2] = {128, 2};
    tinfo(&c, "k", 2, ne2, GGML_Q6_K, 0);
    pad(&c, 32); zeros(&c, 512);
    refuse("row vs K block", &c, "not a multiple of the Q6_K block size 256", TI + 9);
}

CASE(misaligned) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[1] = {4};
    tinfo(&b, "w", 1, ne, GGML_F32, 16);
    pad(&b, 32); zeros(&b, 64);
    refuse("misaligned", &b, "data offset 16 is not a multiple of the alignment 32", TI + 9 + 4 + 8 + 4);
    B c = {0};   /* the same offset is fine with general.alignment = 16 */
    hdr(&c, 3, 1, 1);
    kv_u32(&c, "general.alignment", 16);
    tinfo(&c, "w", 1, ne, GGML_F32, 16);
    pad(&c, 16); zeros(&c, 32);
    char err[256];
    gguf_file *f = gguf_open_buffer(c.b, c.n, err, sizeof err);
    if (!f || gguf_alignment(f) != 16 || gguf_tensor_at(f, 0)->offset % 16) {
        printf("FAIL alignment 16 file: %s\n", f ? "wrong layout" : err);
        failures++;
    }
    gguf_close(f);
}

CASE(data_past_end) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[2] = {8, 8};
    tinfo(&b, "output.weight", 2, ne, GGML_F32, 0);
    pad(&b, 32); zeros(&b, 255);
    refuse("data past end", &b, "data (256 bytes at data offset 0) runs past end of file (data section holds 255 bytes)", -1);
}

CASE(offset_huge) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[1] = {8};
    tinfo(&b, "w", 1, ne, GGML_F32, UINT64_MAX - 31);  /* aligned; offset + size wraps */
    pad(&b, 32); zeros(&b, 32);
    refuse("offset wrap", &b, "runs past end of file", TI + 9 + 4 + 8 + 4);
}

CASE(overlap) {
    B b = {0};
    one_kv(&b, 2);
    uint64_t ne[1] = {16};   /* 64 bytes each */
    tinfo(&b, "a", 1, ne, GGML_F32, 0);
    size_t second = b.n;
    tinfo(&b, "b", 1, ne, GGML_F32, 32);
    pad(&b, 32); zeros(&b, 128);
    refuse("overlap", &b, "tensor 'b'", (long long)second);
    refuse("overlap", &b, "data overlaps tensor 'a' (data offsets 32 and 0)", -1);
}

CASE(duplicate_tensor) {
    B b = {0};
    one_kv(&b, 2);
    uint64_t ne[1] = {8};
    tinfo(&b, "w", 1, ne, GGML_F32, 0);
    size_t second = b.n;
    tinfo(&b, "w", 1, ne, GGML_F32, 32);
    pad(&b, 32); zeros(&b, 64);
    refuse("duplicate tensor", &b, "duplicate tensor name (first at offset 43)", (long long)second);
}

CASE(bad_tensor_name) {
    B b = {0};
    one_kv(&b, 1);
    uint64_t ne[1] = {8};
    tinfo(&b, "", 1, ne, GGML_F32, 0);
    pad(&b, 32); zeros(&b, 32);
    refuse("empty tensor name", &b, "tensor #0 at offset 43: name is empty", TI);
}

CASE(truncated_tensor_info) {
    B b = {0};
    one_kv(&b, 1);
    /* long enough to pass the count check (33 bytes), too short for 4 dims */
    str(&b, "w"); u32(&b, 4); u64(&b, 8); u64(&b, 8); u64(&b, 8);
    u8(&b, 1); u8(&b, 2);
    refuse("truncated info", &b, "dimension runs past end of file", TI + 9 + 4 + 24);
}

CASE(v1_truncated) {
    B b = {0};
    raw(&b, "GGUF", 4); u32(&b, 1); u32(&b, 0); u32(&b, 1);
    u32(&b, 3); raw(&b, "a.b", 3); u32(&b, GGUF_T_STRING); u32(&b, 50); raw(&b, "xy", 2);
    refuse("v1 string", &b, "string value length 50 runs past end of file", 16 + 7 + 4);
}

/* ---- getters on a well-formed file ------------------------------------------- */

static void want_err(const char *what, bool ok, const char *err, const char *want) {
    if (ok || !strstr(err, want)) {
        printf("FAIL %s: %s \"%s\", want \"%s\"\n", what, ok ? "succeeded" : "got", err, want);
        failures++;
    } else {
        printf("ok   %s: %s\n", what, err);
    }
}

CASE(getter_types) {
    B b = {0};
    hdr(&b, 3, 0, 4);
    kv_str(&b, "llama.block_count", "five");           /* value at 24+8+17+4 = 53 */
    str(&b, "llama.context_length"); u32(&b, GGUF_T_INT32); u32(&b, (uint32_t)-1);
    str(&b, "big"); u32(&b, GGUF_T_UINT64); u64(&b, 1ull << 40);
    str(&b, "arr"); u32(&b, GGUF_T_ARRAY); u32(&b, GGUF_T_INT32); u64(&b, 1); u32(&b, 7);
    char err[256] = "";
    gguf_file *f = gguf_open_buffer(b.b, b.n, err, sizeof err);
    if (!f) { printf("FAIL getter file: %s\n", err); failures++; return; }
    uint32_t u;
    uint64_t u64v;
    int64_t i64;
    float x;
    bool bo;
    gguf_str s;
    const gguf_kv *kv;
    want_err("u32 of string", gguf_get_u32(f, "llama.block_count", &u, err, sizeof err), err,
             "gguf: key 'llama.block_count' at offset 53: expected uint32, found string");
    want_err("u32 of -1", gguf_get_u32(f, "llama.context_length", &u, err, sizeof err), err,
             "value -1 does not fit uint32");
    want_err("u64 of -1", gguf_get_u64(f, "llama.context_length", &u64v, err, sizeof err), err,
             "value -1 does not fit uint64");
    want_err("u32 of 2^40", gguf_get_u32(f, "big", &u, err, sizeof err), err,
             "value 1099511627776 does not fit uint32");
    want_err("missing", gguf_get_u32(f, "llama.nope", &u, err, sizeof err), err, "key 'llama.nope' not found");
    want_err("f32 of int", gguf_get_f32(f, "big", &x, err, sizeof err), err, "expected float32, found uint64");
    want_err("bool of str", gguf_get_bool(f, "llama.block_count", &bo, err, sizeof err), err, "expected bool");
    want_err("str of arr", gguf_get_str(f, "arr", &s, err, sizeof err), err, "expected string, found array of int32");
    want_err("arr wrong elem", gguf_get_arr(f, "arr", GGUF_T_FLOAT32, &kv, err, sizeof err), err,
             "expected array of float32, found array of int32");
    if (!gguf_get_i64(f, "llama.context_length", &i64, err, sizeof err) || i64 != -1) {
        printf("FAIL i64 of int32 -1\n");
        failures++;
    }
    if (!gguf_get_arr(f, "arr", GGUF_T_INT32, &kv, err, sizeof err) || gguf_arr_int(kv, 0) != 7 ||
        gguf_arr_int(kv, 1) != 0) {
        printf("FAIL arr access\n");
        failures++;
    }
    gguf_close(f);
}

/* Every prefix of a valid file must be refused cleanly (ASan watches). */
CASE(every_truncation) {
    B b = {0};
    hdr(&b, 3, 2, 3);
    kv_u32(&b, "general.alignment", 64);
    str(&b, "toks"); u32(&b, GGUF_T_ARRAY); u32(&b, GGUF_T_STRING); u64(&b, 2); str(&b, "ab"); str(&b, "c");
    str(&b, "nest"); u32(&b, GGUF_T_ARRAY); u32(&b, GGUF_T_ARRAY); u64(&b, 1);
    u32(&b, GGUF_T_UINT16); u64(&b, 2); u8(&b, 1); u8(&b, 0); u8(&b, 2); u8(&b, 0);
    uint64_t ne[2] = {32, 2};
    tinfo(&b, "q", 2, ne, GGML_Q8_0, 0);
    uint64_t ne1[1] = {3};
    tinfo(&b, "f", 1, ne1, GGML_F16, 128);
    pad(&b, 64); zeros(&b, 128 + 6);
    char err[256];
    gguf_file *f = gguf_open_buffer(b.b, b.n, err, sizeof err);
    if (!f) { printf("FAIL full file: %s\n", err); failures++; return; }
    gguf_close(f);
    int bad = 0;
    for (size_t n = 0; n < b.n; n++) {
        uint8_t *copy = malloc(n ? n : 1);   /* exact-size heap copy so ASan sees overreads */
        memcpy(copy, b.b, n);
        f = gguf_open_buffer(copy, n, err, sizeof err);
        if (f) { bad++; gguf_close(f); }
        else if (strncmp(err, "gguf: ", 6)) bad++;
        free(copy);
    }
    if (bad) { printf("FAIL %d truncations accepted or badly reported\n", bad); failures++; }
    else printf("ok   all %zu truncations refused\n", b.n);
}

#define ALL(X) X(empty) X(bad_magic) X(big_endian) X(version) X(truncated_header) \
    X(kv_count_huge) X(tensor_count_huge) X(key_past_end) X(string_past_end) X(array_past_end) \
    X(string_array_count_huge) X(string_in_array_past_end) X(unknown_value_type) \
    X(unknown_array_type) X(nested_too_deep) X(duplicate_key) X(empty_key) X(key_not_utf8) \
    X(alignment_type) X(alignment_value) X(zero_dims) X(too_many_dims) X(zero_dim_size) \
    X(dims_overflow) X(bytes_overflow) X(unknown_tensor_type) X(row_not_block_multiple) \
    X(misaligned) X(data_past_end) X(offset_huge) X(overlap) X(duplicate_tensor) \
    X(bad_tensor_name) X(truncated_tensor_info) X(v1_truncated) X(getter_types) X(every_truncation)

int main(int argc, char **argv) {
    static const struct { const char *name; void (*fn)(void); } cases[] = {
#define ENTRY(n) {#n, case_##n},
        ALL(ENTRY)
    };
    size_t n = sizeof cases / sizeof cases[0];
    bool ran = false;
    for (size_t i = 0; i < n; i++) {
        if (argc > 1 && strcmp(argv[1], cases[i].name)) continue;
        cases[i].fn();
        ran = true;
    }
    if (!ran) { fprintf(stderr, "no case named %s\n", argv[1]); return 2; }
    return failures ? 1 : 0;
}
