/* kernels.h: the compute kernels the engine calls, one table per ISA.
 *
 * Contract: every operation has a plain scalar reference (kernels/scalar/)
 * and may have faster versions (x86 AVX2+FMA, AVX-VNNI, AVX-512, ARM NEON)
 * that must agree with it: bit-exact where the arithmetic is integer, within
 * a tight float tolerance otherwise. kn_get() picks the best table the CPU
 * and OS support at run time; WASMLET_KERNELS=scalar|avx2|avxvnni|avx512|neon
 * forces a lower one (a request above what the CPU has is refused with a
 * message).
 *
 * Kernels are single-threaded and work on the row range they are given;
 * the engine's thread pool splits rows. Nothing here allocates (the packed
 * AVX-512 kernels keep up to 128 KB of prepared sums on the stack).
 *
 * Type ids are ggml's (see sdk/common/gguf.h). Weight rows are in GGUF
 * block layout, row r at W + r*stride bytes. Activations are first converted
 * with quantize_act() to the format kn_act_type(wtype) names: Q8_0 for
 * Q4_0/Q5_0/Q8_0, Q8_1 for Q4_1/Q5_1, Q8_K for the K-quants, F32 for
 * F32/F16/BF16 (kernels for half types may convert internally).
 */
#ifndef WASMLET_KERNELS_H
#define WASMLET_KERNELS_H

#include <stddef.h>
#include <stdint.h>
#include "gguf.h"   /* ggml_type ids and block sizes (gguf_tensor_type_info) */

/* Numbered in the order they were added; KN_ISA_COUNT bounds a loop over them. */
typedef enum { KN_SCALAR = 0, KN_AVX2 = 1, KN_AVX512 = 2, KN_NEON = 3, KN_AVXVNNI = 4, KN_ISA_COUNT } kn_isa;

typedef struct kn_ops {
    const char *name;   /* "scalar", "avx2", "avx512", "neon", "avxvnni" */
    kn_isa isa;

    /* Activation conversion for matvec/matmul: n floats -> act_type blocks
     * (n is a multiple of the block size); also GGML_F16 (any n, rounded
     * to nearest even: an F16 KV cache's rows). */
    void (*quantize_act)(uint32_t act_type, const float *x, void *dst, int n);

    /* y[r] = dot(W row r, x) for r in [0, nrows); ncols elements per row;
     * xq is x after quantize_act(kn_act_type(wtype)). */
    void (*matvec)(uint32_t wtype, const void *W, size_t stride,
                   const void *xq, float *y, int nrows, int ncols);

    /* Y[b*y_stride + r] = dot(W row r, X row b) for b in [0, nb): the batched
     * (prompt) form of matvec; X rows are xq_stride bytes apart. */
    void (*matmul)(uint32_t wtype, const void *W, size_t stride,
                   const void *xq, size_t xq_stride,
                   float *Y, size_t y_stride, int nrows, int ncols, int nb);

    /* out = x / sqrt(mean(x^2) + eps) * w  (out may alias x) */
    void (*rmsnorm)(float *out, const float *x, const float *w, int n, float eps);
    /* in place, numerically stable (subtract max) */
    void (*softmax)(float *x, int n);
    /* gate[i] = silu(gate[i]) * up[i] */
    void (*silu_mul)(float *gate, const float *up, int n);
    /* Rotate n_heads heads of head_dim floats in place. cs holds n_rot/2
     * (cos, sin) pairs for this position. neox=0: pairs (2i, 2i+1) (llama);
     * neox=1: pairs (i, i + n_rot/2) (qwen2, gpt-neox). Dims >= n_rot stay. */
    void (*rope)(float *x, int n_heads, int head_dim, int n_rot,
                 const float *cs, int neox);
    /* n_q query heads that share one K/V head (a GQA group) over n_pos
     * cached positions; for each head h (q and out rows h*head_dim on):
     *   s[p] = scale * dot(q_h, K[p]); a = softmax(s); out_h = sum_p a[p] * V[p]
     * V[p] at v + p*kv_stride bytes; K[p] likewise, or in 16-position
     * blocks where kn_k_block() says so; kv_type GGML_F32 or GGML_F16.
     * A head's result does not depend on n_q: the group only lets a table
     * read each cached row once for all its heads. scratch holds at least
     * n_q * (n_pos + head_dim) floats. */
    void (*attention)(float *out, const float *q, int n_q, const void *k, const void *v,
                      size_t kv_stride, uint32_t kv_type, int n_pos, int head_dim,
                      float scale, float *scratch);
    float (*dot_f32)(const float *a, const float *b, int n);
    /* y += a * x */
    void (*axpy)(float *y, float a, const float *x, int n);

    /* matvec/matmul also take the packed types KN_Q*_R16 below */
    int packs_r16;
    /* attention reads K in blocks (kn_k_block) where its shape allows */
    int k_blocks;
} kn_ops;

/* The K cache layout table o's attention reads for this head size and
 * cache type: 0, rows (element d of position p at p*kv_stride + d*size);
 * or KN_K_BLOCK, blocks of 16 positions stored dimension-major (element d
 * of position p at (p/16)*16*kv_stride + (d*16 + p%16)*size), so the
 * scores of 16 positions are 16 lanes of plain FMAs with no horizontal
 * sums. A blocked cache holds whole blocks: n_pos rounded up to 16 rows
 * of kv_stride bytes (the lanes past n_pos are read, never used). */
enum { KN_K_BLOCK = 16 };
int kn_k_block(const kn_ops *o, int head_dim, uint32_t kv_type);
static inline size_t kn_k_offset(int block, size_t kv_stride, size_t size, int p, int d) {
    if (!block) return (size_t)p * kv_stride + (size_t)d * size;
    return (size_t)(p / KN_K_BLOCK) * KN_K_BLOCK * kv_stride + ((size_t)d * KN_K_BLOCK + (size_t)(p % KN_K_BLOCK)) * size;
}

/* The table chosen for this CPU (and WASMLET_KERNELS). Thread-safe; the
 * first call detects. Returns NULL and prints why if the override names an
 * ISA this CPU cannot run. */
const kn_ops *kn_get(void);
/* A specific table, or NULL if not compiled in or not supported here. */
const kn_ops *kn_get_isa(kn_isa isa);
const char *kn_cpu_features(void);   /* "avx2 fma avx512f avx512vnni ..." */

/* Activation format for a weight type (see above); 0 if unsupported. */
uint32_t kn_act_type(uint32_t wtype);
/* Bytes for n elements of a type (n a multiple of its block size). */
size_t kn_row_bytes(uint32_t type, int64_t n);
/* Is this weight type supported by matvec/matmul? */
int kn_type_supported(uint32_t wtype);

/* Packed weights. A table that streams a repacked layout faster says so
 * through kn_pack_type(); the engine repacks such a matrix once at load
 * with kn_pack() and passes the packed type to matvec/matmul. The R16
 * types interleave groups of 16 rows block by block (layout in
 * kn_internal.h); row r0 of a range is at W + r0*stride with stride =
 * kn_row_bytes(packed type, ncols) (the GGUF type's, for every type), and ranges
 * start at and span multiples of 16 rows. Activations are those of the
 * unpacked type (kn_act_type(packed type); KN_BF16_R16B: BF16). With
 * a packed type, matmul gives every activation row exactly the bits
 * matvec gives it (prompt and generation agree bit for bit). */
#define KN_Q4_0_R16 (0x100u | GGML_Q4_0)
#define KN_Q8_0_R16 (0x100u | GGML_Q8_0)
#define KN_Q4_K_R16 (0x100u | GGML_Q4_K)
#define KN_Q6_K_R16 (0x100u | GGML_Q6_K)
#define KN_Q4_1_R16 (0x100u | GGML_Q4_1)
#define KN_Q5_0_R16 (0x100u | GGML_Q5_0)
#define KN_Q5_1_R16 (0x100u | GGML_Q5_1)
#define KN_Q5_K_R16 (0x100u | GGML_Q5_K)
/* Float weights, 16 rows interleaved column by column (same size as the
 * GGUF rows). KN_BF16_R16 takes F32 activations; KN_BF16_R16B is the same
 * layout taking BF16 activations (AVX512-BF16 dot products, see
 * kn_pack_type). */
#define KN_F32_R16 (0x100u | GGML_F32)
#define KN_F16_R16 (0x100u | GGML_F16)
#define KN_BF16_R16 (0x100u | GGML_BF16)
#define KN_BF16_R16B (0x200u | GGML_BF16)
/* The packed type table o wants for this matrix, or 0 (keep it as is). */
uint32_t kn_pack_type(const kn_ops *o, uint32_t wtype, int nrows, int ncols);
/* nrows x ncols GGUF rows (contiguous) -> packed type ptype at dst
 * (kn_row_bytes(ptype, ncols) * nrows bytes). Scalar, any table. */
void kn_pack(uint32_t ptype, const void *src, void *dst, int nrows, int ncols);

/* Reference conversions (scalar; for loading, synth, tests). */
void kn_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n);
void kn_quantize_row(uint32_t type, const float *src, void *dst, int64_t n);

/* Half-precision helpers. */
float kn_f16_to_f32(uint16_t h);
uint16_t kn_f32_to_f16(float f);
float kn_bf16_to_f32(uint16_t h);
uint16_t kn_f32_to_bf16(float f);   /* round to nearest even */

#endif
