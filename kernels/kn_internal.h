/* kn_internal.h: block layouts and the scalar entry points shared by the
 * per-ISA tables (not part of the public contract in kernels.h).
 *
 * The block structs are the GGUF/ggml on-disk layouts, byte for byte
 * (static asserts below pin the sizes). Halves are stored as raw uint16_t.
 * All block sizes are even, so a 2-aligned row start keeps every uint16_t
 * field aligned; Q8_K (an in-memory activation format only) is 4-aligned.
 *
 * Value of element i within a block (q = stored quant):
 *   Q4_0  d*(q-8)       q = nibble: i<16 low nibble of qs[i], else high of qs[i-16]
 *   Q4_1  d*q + m       same nibble order
 *   Q5_0  d*(q-16)      q = nibble | bit i of qh (little-endian u32) << 4
 *   Q5_1  d*q + m       same
 *   Q8_0  d*q           q = qs[i] (int8)
 *   K-quants: see docs/kernels.md and the dequantizers in scalar/quant.c.
 */
#ifndef WASMLET_KN_INTERNAL_H
#define WASMLET_KN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "kernels.h"

#define QK 32     /* elements per block of the 32-element types */
#define QK_K 256  /* elements per K-quant super-block */

typedef struct { uint16_t d; uint8_t qs[QK / 2]; } blk_q4_0;
typedef struct { uint16_t d, m; uint8_t qs[QK / 2]; } blk_q4_1;
typedef struct { uint16_t d; uint8_t qh[4]; uint8_t qs[QK / 2]; } blk_q5_0;
typedef struct { uint16_t d, m; uint8_t qh[4]; uint8_t qs[QK / 2]; } blk_q5_1;
typedef struct { uint16_t d; int8_t qs[QK]; } blk_q8_0;
/* Activation for Q4_1/Q5_1: s = d * sum(qs), both f16 (carries the min term). */
typedef struct { uint16_t d, s; int8_t qs[QK]; } blk_q8_1;

/* Q4_K: 8 sub-blocks of 32, each with a 6-bit scale and 6-bit min packed in
 * scales[12]; x = d*sc*q - dmin*m. qs holds 4 chunks of 64 elements: byte l
 * of chunk c has element 64c+l in its low nibble, 64c+32+l in its high one. */
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qs[QK_K / 2]; } blk_q4_K;
/* Q5_K: as Q4_K plus a fifth bit: element 64c+l uses bit 2c of qh[l],
 * element 64c+32+l uses bit 2c+1. */
typedef struct { uint16_t d, dmin; uint8_t scales[12]; uint8_t qh[QK_K / 8]; uint8_t qs[QK_K / 2]; } blk_q5_K;
/* Q6_K: 16 sub-blocks of 16 with int8 scales; x = d*sc*(q-32), q 6 bits:
 * per half h (128 elements), ql[64h..], qh[32h..], for l < 32:
 *   e = l:     ql[l] low nibble,     qh[l] bits 0-1
 *   e = l+32:  ql[l+32] low nibble,  qh[l] bits 2-3
 *   e = l+64:  ql[l] high nibble,    qh[l] bits 4-5
 *   e = l+96:  ql[l+32] high nibble, qh[l] bits 6-7
 * and the scale of element e (0..127 within the half) is scales[8h + e/16]. */
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; uint16_t d; } blk_q6_K;
/* Activation for K-quants: f32 d, bsums[j] = sum of qs[16j..16j+15]. */
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } blk_q8_K;

_Static_assert(sizeof(blk_q4_0) == 18, "q4_0");
_Static_assert(sizeof(blk_q4_1) == 20, "q4_1");
_Static_assert(sizeof(blk_q5_0) == 22, "q5_0");
_Static_assert(sizeof(blk_q5_1) == 24, "q5_1");
_Static_assert(sizeof(blk_q8_0) == 34, "q8_0");
_Static_assert(sizeof(blk_q8_1) == 36, "q8_1");
_Static_assert(sizeof(blk_q4_K) == 144, "q4_K");
_Static_assert(sizeof(blk_q5_K) == 176, "q5_K");
_Static_assert(sizeof(blk_q6_K) == 210, "q6_K");
_Static_assert(sizeof(blk_q8_K) == 292, "q8_K");

/* Packed R16 types (kn_pack): rows in groups of 16; group g (rows 16g..)
 * at g*16*stride holds, block after block (nb = ncols/32 of them), 16 f16
 * scales (row order) then nv x 16 little-endian u32 words, word (v, r) =
 * bytes 4v..4v+3 of row r's quants: Q4_0 nv = 4 (each word's low nibbles
 * are elements 4v.., its high nibbles 16+4v..), Q8_0 nv = 8 with every
 * byte stored as q + 128 (unsigned). Same size as the GGUF blocks. */
typedef struct { uint16_t d[16]; uint32_t q[4][16]; } blk_q4_0_r16;
typedef struct { uint16_t d[16]; uint32_t q[8][16]; } blk_q8_0_r16;
_Static_assert(sizeof(blk_q4_0_r16) == 16 * sizeof(blk_q4_0), "q4_0 r16");
_Static_assert(sizeof(blk_q8_0_r16) == 16 * sizeof(blk_q8_0), "q8_0 r16");
/* Q4_1, Q5_0, Q5_1: as Q4_0 with the rows' mins (m[r]) after the scales
 * and, for the 5-bit types, one u32 of fifth bits per row before the
 * nibble words, reordered so that bit 8b + v is the fifth bit of byte b
 * of word v (element 4v + b: the GGUF qh bit 4v + b); a shift by v then
 * lines up word v's fifth bits for all four bytes at once. */
typedef struct { uint16_t d[16], m[16]; uint32_t q[4][16]; } blk_q4_1_r16;
typedef struct { uint16_t d[16]; uint32_t qh[16]; uint32_t q[4][16]; } blk_q5_0_r16;
typedef struct { uint16_t d[16], m[16]; uint32_t qh[16]; uint32_t q[4][16]; } blk_q5_1_r16;
_Static_assert(sizeof(blk_q4_1_r16) == 16 * sizeof(blk_q4_1), "q4_1 r16");
_Static_assert(sizeof(blk_q5_0_r16) == 16 * sizeof(blk_q5_0), "q5_0 r16");
_Static_assert(sizeof(blk_q5_1_r16) == 16 * sizeof(blk_q5_1), "q5_1 r16");
/* Q4_K: per super-block, the 16 rows' d and dmin, their 12 bytes of 6-bit
 * scales and mins as in GGUF (word (w, r) = scales[4w..4w+3] of row r, so
 * a 64-byte load holds one word of every row and the word-parallel unpack
 * of k4_unpack runs on all 16 rows at once), then the quants: word
 * (c, v, r) = bytes 4v..4v+3 of row r's 64-element chunk c (low nibbles:
 * elements 64c+4v.., high: 64c+32+4v..). 144 bytes a row per super-block,
 * as GGUF: a token streams no more bytes than the model holds. */
typedef struct {
    uint16_t d[16], dmin[16];
    uint32_t s[3][16];
    uint32_t q[4][8][16];
} blk_q4_K_r16;
_Static_assert(sizeof(blk_q4_K_r16) == 16 * sizeof(blk_q4_K), "q4_K r16");
/* Q5_K: the Q4_K R16 block, then the fifth bits: word (v, r) = qh[4v..4v+3]
 * of row r (sub-block j's bit of an element is bit j of its qh byte).
 * 176 bytes a row per super-block, as GGUF. */
typedef struct {
    blk_q4_K_r16 k4;
    uint32_t qh[8][16];
} blk_q5_K_r16;
_Static_assert(sizeof(blk_q5_K_r16) == 16 * sizeof(blk_q5_K), "q5_K r16");
/* Q6_K: per super-block the 16 rows' d, the int8 scales (sc[j][r]), then
 * ql words (h, c, v, r) = ql[64h + 32c + 4v..+3] and qh words (h, v, r) =
 * qh[32h + 4v..+3] of row r. Group k (0..3) of half h, word v: quants =
 * ((ql(h, k&1, v) >> 4(k>>1)) & 15) | ((qh(h, v) >> 2k) & 3) << 4, elements
 * 128h + 32k + 4v.., sub-block 8h + 2k + v/4. Same size as GGUF. */
typedef struct {
    uint16_t d[16];
    int8_t sc[16][16];
    uint32_t ql[2][2][8][16];
    uint32_t qh[2][8][16];
} blk_q6_K_r16;
_Static_assert(sizeof(blk_q6_K_r16) == 16 * sizeof(blk_q6_K), "q6_K r16");
/* Float R16 (KN_F32_R16, KN_F16_R16): group g holds, column after column,
 * the 16 rows' values of that column (64 or 32 bytes). BF16 (KN_BF16_R16,
 * KN_BF16_R16B): column pairs, word (k, r) = row r's columns 2k (low
 * half) and 2k+1 (high half). Same size as the GGUF rows. */
enum { KN_R16_MAX_BLOCKS = 2048 };   /* rows up to 65536 elements */

/* Block geometry of a type: elements and bytes per block; 0 if unknown. */
int kn_block_info(uint32_t type, uint32_t *elems, uint32_t *bytes);

/* Q4_K/Q5_K: the 6-bit scale and min of sub-block j (0..7). */
static inline void kn_k4_scale_min(const uint8_t *s, int j, int *sc, int *m) {
    if (j < 4) {
        *sc = s[j] & 63;
        *m = s[j + 4] & 63;
    } else {
        *sc = (s[j + 4] & 0x0F) | ((s[j - 4] >> 6) << 4);
        *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
    }
}

/* All eight 6-bit scales and mins of a Q4_K/Q5_K block at once, as eight
 * bytes each (byte j of *sc is sc_j), with word operations; the SIMD
 * kernels use it instead of eight kn_k4_scale_min calls. */
static inline void k4_unpack(const uint8_t *s, uint64_t *sc, uint64_t *mn) {
    uint32_t a, b, c;
    memcpy(&a, s, 4);
    memcpy(&b, s + 4, 4);
    memcpy(&c, s + 8, 4);
    uint32_t sc_lo = a & 0x3f3f3f3fu, mn_lo = b & 0x3f3f3f3fu;
    uint32_t sc_hi = (c & 0x0f0f0f0fu) | ((a >> 6) & 0x03030303u) << 4;
    uint32_t mn_hi = ((c >> 4) & 0x0f0f0f0fu) | ((b >> 6) & 0x03030303u) << 4;
    *sc = sc_lo | (uint64_t)sc_hi << 32;
    *mn = mn_lo | (uint64_t)mn_hi << 32;
}

/* Scalar ops; SIMD tables point at these for what they do not accelerate. */
void kn_ref_quantize_act(uint32_t act_type, const float *x, void *dst, int n);
void kn_ref_matvec(uint32_t wtype, const void *W, size_t stride,
                   const void *xq, float *y, int nrows, int ncols);
void kn_ref_matmul(uint32_t wtype, const void *W, size_t stride,
                   const void *xq, size_t xq_stride,
                   float *Y, size_t y_stride, int nrows, int ncols, int nb);
void kn_ref_rmsnorm(float *out, const float *x, const float *w, int n, float eps);
void kn_ref_softmax(float *x, int n);
void kn_ref_silu_mul(float *gate, const float *up, int n);
void kn_ref_rope(float *x, int n_heads, int head_dim, int n_rot, const float *cs, int neox);
void kn_ref_attention(float *out, const float *q, int n_q, const void *k, const void *v,
                      size_t kv_stride, uint32_t kv_type, int n_pos, int head_dim,
                      float scale, float *scratch);
float kn_ref_dot_f32(const float *a, const float *b, int n);

void kn_ref_axpy(float *y, float a, const float *x, int n);

/* One weight row against one quantized activation row (scalar). */
float kn_ref_vec_dot(uint32_t wtype, const void *w, const void *xq, int n);

/* matmul in terms of a row-dot function: walks rows in tiles so a tile of
 * weights stays in cache while every activation row passes over it. */
typedef float (*kn_vec_dot_fn)(uint32_t wtype, const void *w, const void *xq, int n);
void kn_matmul_tiled(kn_vec_dot_fn dot, uint32_t wtype, const void *W, size_t stride,
                     const void *xq, size_t xq_stride,
                     float *Y, size_t y_stride, int nrows, int ncols, int nb);

/* The AVX2 row dot (x86_avx2.c), which the AVX-512 table reuses for the
 * types it has no better kernel for. */
float kn_avx2_vec_dot(uint32_t wtype, const void *w, const void *xq, int n);
/* The same compiled with AVX-VNNI (x86_avxvnni.c): the same results. */
float kn_avxvnni_vec_dot(uint32_t wtype, const void *w, const void *xq, int n);

/* Shapes the AVX-512 attention runs itself (query and output in registers,
 * K in 16-position blocks); others go to the AVX2 version, on rows. */
static inline int kn_attn16_native(int head_dim, uint32_t kv_type) {
    return head_dim > 0 && head_dim % 16 == 0 && head_dim <= 128 && (kv_type == GGML_F32 || kv_type == GGML_F16);
}

/* x86_avx512_attn.c: the AVX-512 table's softmax and attention. */
void kn_avx512_softmax(float *x, int n);
void kn_avx512_attention(float *out, const float *q, int n_q, const void *k, const void *v, size_t kv_stride,
                         uint32_t kv_type, int n_pos, int head_dim, float scale, float *scratch);

/* AVX-512 VNNI matvec/matmul of the R16 types (x86_avx512_r16.c): nrows a
 * multiple of 16, ncol activation rows of nb blocks (Q8_0, or Q8_K for
 * KN_Q4_K_R16), xs bytes apart. */
void kn_avx512_r16(uint32_t ptype, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs,
                   float *Y, size_t ys, int nrows, int nb, int ncol);

/* AVX-512 FMA matvec/matmul of KN_F32_R16/KN_F16_R16/KN_BF16_R16
 * (x86_avx512_rf.c): F32 activation rows xs floats apart, n columns (even),
 * nrows a multiple of 16. */
void kn_avx512_rf(uint32_t ptype, const uint8_t *W, size_t stride, const float *X, size_t xs,
                  float *Y, size_t ys, int nrows, int n, int ncol);
/* AVX512-BF16 matvec/matmul of KN_BF16_R16B (x86_avx512_bf16.c): BF16
 * activation rows xs bytes apart; only when kn_cpu_has_avx512bf16(). */
void kn_avx512_bf16(const uint8_t *W, size_t stride, const uint8_t *X, size_t xs, float *Y, size_t ys,
                    int nrows, int n, int ncol);
int kn_cpu_has_avx512bf16(void);

/* Per-ISA tables (each file defines one; NULL-safe when not compiled in). */
extern const kn_ops kn_ops_scalar;
extern const kn_ops kn_ops_avx2;
extern const kn_ops kn_ops_avxvnni;
extern const kn_ops kn_ops_avx512;
extern const kn_ops kn_ops_neon;

#endif
