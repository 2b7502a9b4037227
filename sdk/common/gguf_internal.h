/* gguf_internal.h: shared by the GGUF reader (gguf.c, gguf_get.c) and
 * writer (gguf_writer.c); not part of the SDK interface. */
#ifndef WASMLET_GGUF_INTERNAL_H
#define WASMLET_GGUF_INTERNAL_H

#include "gguf.h"

struct gguf_file {
    const uint8_t *base;
    uint64_t size;
    uint32_t version;
    uint32_t alignment;
    uint64_t data_start;            /* absolute offset of the tensor data section */
    uint64_t n_kv, n_tensors;
    gguf_kv *kvs;
    gguf_tensor *tensors;
    uint64_t **elem_off;            /* per kv: element offsets of string/array arrays */
    uint64_t *kv_hash, kv_hcap;     /* open addressing, slots hold index + 1 */
    uint64_t *t_hash, t_hcap;
    void (*release)(void *ctx);
    void *release_ctx;
};

/* ---- little-endian loads (the image need not be aligned) ------------------ */

static inline uint16_t ld16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t ld32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p) { return ld32(p) | (uint64_t)ld32(p + 4) << 32; }

/* Write a name from the file into dst for a message: at most 48 bytes,
 * unprintable bytes as \xNN, so hostile names cannot break the one line. */
void gguf__quote(char *dst, size_t cap, const char *s, uint64_t n);
/* NULL if a key / tensor name is acceptable, else what is wrong with it:
 * 1..65535 bytes of valid UTF-8 without control characters. */
const char *gguf__name_problem(const char *name, uint64_t len);
/* File offset of element i (< arr_len) of an array of strings or arrays. */
uint64_t gguf__elem_offset(const gguf_file *f, const gguf_kv *kv, uint64_t i);

#endif
