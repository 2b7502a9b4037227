/* gguf.h: read (and write) GGUF model files safely.
 *
 * Contract: gguf_open_buffer() parses a GGUF v2/v3 image held in memory
 * (v1 is read or refused as documented in docs/gguf.md). Every count,
 * length, offset and dimension is checked against the buffer before use;
 * any inconsistency fails with a one-line message naming the problem and
 * the byte offset, and nothing is returned. On success all strings and
 * tensor data point INTO the caller's buffer (never copied), so the buffer
 * must outlive the gguf_file. The host maps files with gguf_open_file()
 * (mmap, read-only); the guest and the fuzzer use gguf_open_buffer().
 *
 * Portable C11: no SIMD, no threads; file I/O only in gguf_host.c so the
 * same source builds for the host and for wasm32-wasi. A parsed gguf_file
 * is immutable: any number of threads may read it at once.
 */
#ifndef WASMLET_GGUF_H
#define WASMLET_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Metadata value types, numbered as in the GGUF specification. */
typedef enum {
    GGUF_T_UINT8 = 0, GGUF_T_INT8 = 1, GGUF_T_UINT16 = 2, GGUF_T_INT16 = 3,
    GGUF_T_UINT32 = 4, GGUF_T_INT32 = 5, GGUF_T_FLOAT32 = 6, GGUF_T_BOOL = 7,
    GGUF_T_STRING = 8, GGUF_T_ARRAY = 9, GGUF_T_UINT64 = 10, GGUF_T_INT64 = 11,
    GGUF_T_FLOAT64 = 12,
} gguf_vtype;

/* Tensor element types, numbered as ggml numbers them (only ids we know
 * the layout of are accepted; see gguf_tensor_type_info()). */
typedef enum {
    GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q4_1 = 3,
    GGML_Q5_0 = 6, GGML_Q5_1 = 7, GGML_Q8_0 = 8, GGML_Q8_1 = 9,
    GGML_Q2_K = 10, GGML_Q3_K = 11, GGML_Q4_K = 12, GGML_Q5_K = 13,
    GGML_Q6_K = 14, GGML_Q8_K = 15, GGML_I8 = 24, GGML_I16 = 25,
    GGML_I32 = 26, GGML_I64 = 27, GGML_F64 = 28, GGML_BF16 = 30,
} ggml_type;

typedef struct {
    const char *name;      /* "Q4_K" */
    uint32_t block_elems;  /* elements per block (1 for plain types) */
    uint32_t block_bytes;  /* bytes per block */
} gguf_type_info;

/* NULL for an id we do not know. */
const gguf_type_info *gguf_tensor_type_info(uint32_t type);

/* A string inside the file: NOT NUL-terminated. */
typedef struct { const char *ptr; uint64_t len; } gguf_str;

typedef struct gguf_file gguf_file;

typedef struct {
    gguf_str key;
    gguf_vtype type;
    /* For GGUF_T_ARRAY: element type and count; arrays may nest. */
    gguf_vtype arr_type;
    uint64_t arr_len;
    uint64_t offset;       /* file offset of the value, for messages */
    const uint8_t *data;   /* raw little-endian value bytes in the file;
                            * GGUF_T_STRING: the string's bytes, arr_len its length;
                            * GGUF_T_ARRAY: the first element */
} gguf_kv;

#define GGUF_MAX_DIMS 4
typedef struct {
    gguf_str name;
    uint32_t type;                 /* ggml_type */
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS];    /* ne[0] = elements per row (fastest) */
    uint64_t n_elems;
    uint64_t n_bytes;
    uint64_t offset;               /* absolute file offset of the data */
    const void *data;              /* points into the file buffer */
} gguf_tensor;

/* Parse. On failure returns NULL and writes a one-line message into err
 * (e.g. "gguf: tensor 'blk.0.attn_q.weight' at offset 1234: data past end
 * of file"). */
gguf_file *gguf_open_buffer(const void *buf, size_t len, char *err, size_t errlen);
/* mmap a file read-only and parse it (host only; not in the guest build). */
gguf_file *gguf_open_file(const char *path, char *err, size_t errlen);
void gguf_close(gguf_file *f);

uint32_t gguf_version(const gguf_file *f);
uint32_t gguf_alignment(const gguf_file *f);
const void *gguf_base(const gguf_file *f);   /* start of the file image */
size_t gguf_size(const gguf_file *f);

/* Metadata. */
uint64_t gguf_kv_count(const gguf_file *f);
const gguf_kv *gguf_kv_at(const gguf_file *f, uint64_t i);
const gguf_kv *gguf_find(const gguf_file *f, const char *key);

/* Typed getters: return false (and write err) when the key is missing or
 * has a different type; integer getters accept any integer type whose value
 * fits the requested width. The err message names the key and offset. */
bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out, char *err, size_t errlen);
bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, char *err, size_t errlen);
bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, char *err, size_t errlen);
bool gguf_get_f32(const gguf_file *f, const char *key, float *out, char *err, size_t errlen); /* f32 or f64 */
bool gguf_get_bool(const gguf_file *f, const char *key, bool *out, char *err, size_t errlen);
bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out, char *err, size_t errlen);
/* Array of a given element type (for arrays of strings, use gguf_arr_str). */
bool gguf_get_arr(const gguf_file *f, const char *key, gguf_vtype elem, const gguf_kv **out, char *err, size_t errlen);

/* Element access of an array kv (bounds were checked at parse time; the
 * index must be < arr_len). Elements of top-level arrays of strings/arrays
 * are located through an index built at parse time, so gguf_arr_str is O(1);
 * inside a nested view (gguf_arr_sub) element i costs a walk over i elements.
 * Out-of-range or wrongly typed access returns an empty string / 0 / false. */
gguf_str gguf_arr_str(const gguf_file *f, const gguf_kv *kv, uint64_t i);
int64_t  gguf_arr_int(const gguf_kv *kv, uint64_t i);   /* any integer elem type */
double   gguf_arr_float(const gguf_kv *kv, uint64_t i); /* f32 / f64 elems */
/* Nested arrays: the i-th element of an array-of-arrays as a kv view. */
bool gguf_arr_sub(const gguf_file *f, const gguf_kv *kv, uint64_t i, gguf_kv *out);

/* Helpers for scalar values of a kv already found. */
bool gguf_kv_int(const gguf_kv *kv, int64_t *out);   /* any integer type, or bool */
bool gguf_kv_float(const gguf_kv *kv, double *out);  /* f32 / f64 */

/* Tensors. */
uint64_t gguf_tensor_count(const gguf_file *f);
const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i);
const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name);

/* Compare a gguf_str with a C string. */
bool gguf_str_eq(gguf_str s, const char *c);

/* Added helpers. */
bool gguf_kv_str(const gguf_kv *kv, gguf_str *out);   /* string kv */
const char *gguf_vtype_name(uint32_t t);   /* "uint32", ...; "unknown" */
size_t gguf_vtype_size(uint32_t t);        /* fixed-size types; 0 for string/array */
uint64_t gguf_data_offset(const gguf_file *f);  /* start of the tensor data section */
/* Make gguf_close() call release(ctx) last, e.g. to unmap or free the image. */
void gguf_set_release(gguf_file *f, void (*release)(void *ctx), void *ctx);

/* ---- Writer ------------------------------------------------------------
 * Builds a GGUF v3 image in memory (or streams it to a FILE through a
 * callback), with the given alignment (default 32). Metadata keys are
 * written in the order added; tensors in the order added, each aligned. */
typedef struct gguf_writer gguf_writer;
/* alignment 0 means 32. NULL on out of memory: every gguf_w_* call then does
 * nothing and finish/write_file report the failure. */
gguf_writer *gguf_writer_new(uint32_t alignment);
void gguf_writer_free(gguf_writer *w);
void gguf_w_u8(gguf_writer *w, const char *key, uint8_t v);
void gguf_w_i8(gguf_writer *w, const char *key, int8_t v);
void gguf_w_u16(gguf_writer *w, const char *key, uint16_t v);
void gguf_w_i16(gguf_writer *w, const char *key, int16_t v);
void gguf_w_u32(gguf_writer *w, const char *key, uint32_t v);
void gguf_w_i32(gguf_writer *w, const char *key, int32_t v);
void gguf_w_u64(gguf_writer *w, const char *key, uint64_t v);
void gguf_w_i64(gguf_writer *w, const char *key, int64_t v);
void gguf_w_f32(gguf_writer *w, const char *key, float v);
void gguf_w_f64(gguf_writer *w, const char *key, double v);
void gguf_w_bool(gguf_writer *w, const char *key, bool v);
void gguf_w_str(gguf_writer *w, const char *key, const char *v);
void gguf_w_str_n(gguf_writer *w, const char *key, const char *v, size_t n);
/* Arrays: elem is the element type, data points to n packed little-endian
 * elements; for GGUF_T_STRING pass an array of `const char *` (NUL-terminated)
 * or use gguf_w_arr_strn with explicit lengths; for GGUF_T_ARRAY pass an
 * array of n gguf_warr (each an inner array, which may nest again). */
typedef struct { gguf_vtype type; const void *data; uint64_t n; } gguf_warr;
void gguf_w_arr(gguf_writer *w, const char *key, gguf_vtype elem, const void *data, uint64_t n);
void gguf_w_arr_strn(gguf_writer *w, const char *key, const char *const *strs, const size_t *lens, uint64_t n);
/* A copy of any kv from a reader (tokenizer metadata, etc.). */
void gguf_w_copy_kv(gguf_writer *w, const gguf_file *src, const gguf_kv *kv);
/* Tensor: ne[0] is the row length; data of n_bytes is copied (or NULL to
 * reserve zeros). */
void gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                   const uint64_t *ne, const void *data, uint64_t n_bytes);
/* The first misuse (bad name, duplicate, row not a multiple of the block
 * size, n_bytes not matching the shape, out of memory) is remembered and
 * reported by finish/write_file; later calls are then ignored.
 * Finish: returns a malloc'd image and its size (caller frees), or NULL
 * with err set. The writer stays valid (finish may be called again). */
void *gguf_writer_finish(gguf_writer *w, size_t *size, char *err, size_t errlen);
/* Finish straight to a file path, atomically (temp + rename). */
bool gguf_writer_write_file(gguf_writer *w, const char *path, char *err, size_t errlen);
/* Stream the image through a callback (returns false to abort). */
bool gguf_writer_emit(gguf_writer *w, bool (*write)(void *ctx, const void *p, size_t n),
                      void *ctx, char *err, size_t errlen);

#endif
