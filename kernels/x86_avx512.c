/* x86_avx512.c: the AVX-512 table (AVX512F/BW/VL/DQ + VNNI).
 *
 * The 32-element block types (Q4_0, Q5_0, Q8_0 against Q8_0; Q4_1, Q5_1
 * against Q8_1) use VPDPBUSD, which multiplies unsigned by signed bytes
 * and adds groups of four into int32 exactly (no int16 saturation step).
 * Signed weights are made unsigned by a bias b (8, 16 or 128) and the
 * accumulator starts at -b * (sum of the activation bytes of that lane),
 * so every lane holds an exact partial of dot(q - b, x). Four rows share
 * each activation block load. Types without a VNNI kernel here (K-quants,
 * F32/F16/BF16) and the elementwise ops use the AVX2 code, which these
 * CPUs also run. */
#include "x86_simd.h"

#define AI static inline __attribute__((always_inline))

enum { FAM_Q4_0, FAM_Q5_0, FAM_Q8_0, FAM_Q4_1, FAM_Q5_1 };

static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

AI __m256i load_w(int fam, const uint8_t *b) {
    switch (fam) {
    case FAM_Q4_0: return nibbles32(b + 2);
    case FAM_Q5_0: return _mm256_or_si256(nibbles32(b + 6), bit4_from_qh(b + 2));
    case FAM_Q8_0: return _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(b + 2)),
                                           _mm256_set1_epi8((char)0x80));
    case FAM_Q4_1: return nibbles32(b + 4);
    default: return _mm256_or_si256(nibbles32(b + 8), bit4_from_qh(b + 4));
    }
}

/* nr (1..4) consecutive rows against one activation row. */
AI void rows_fam(int fam, int nr, const uint8_t *W, size_t stride, const uint8_t *xq, int nb, float *y) {
    static const size_t bsz[] = {18, 22, 34, 20, 24};
    static const int shift[] = {3, 4, 7, 0, 0};   /* log2 of the bias */
    const int has_min = fam >= FAM_Q4_1;
    const size_t xsz = has_min ? sizeof(blk_q8_1) : sizeof(blk_q8_0), xoff = has_min ? 4 : 2;
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float ms[4] = {0, 0, 0, 0};
    const __m256i ones = _mm256_set1_epi8(1), zero = _mm256_setzero_si256();
    for (int i = 0; i < nb; i++) {
        const uint8_t *xb = xq + (size_t)i * xsz;
        __m256i yv = _mm256_loadu_si256((const __m256i *)(xb + xoff));
        float dx = h2f(rd16(xb));
        __m256i base = zero;
        if (!has_min)
            base = _mm256_sub_epi32(zero, _mm256_slli_epi32(_mm256_dpbusd_epi32(zero, ones, yv), shift[fam]));
        for (int r = 0; r < nr; r++) {
            const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz[fam];
            /* Each row is a short stream (one row is ~1 KB), too short for the
             * hardware prefetcher to ramp up; fetch the next row group now. */
            if (nr == 4) _mm_prefetch((const char *)(wb + 4 * stride), _MM_HINT_T0);
            __m256i dp = _mm256_dpbusd_epi32(base, load_w(fam, wb), yv);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(rd16(wb)) * dx), _mm256_cvtepi32_ps(dp), acc[r]);
            if (has_min) ms[r] += h2f(rd16(wb + 2)) * h2f(rd16(xb + 2));
        }
    }
    for (int r = 0; r < nr; r++) y[r] = hsum256(acc[r]) + ms[r];
}

#define FAM_MATVEC(name, fam)                                                                  \
    static void name(const uint8_t *W, size_t stride, const uint8_t *xq, float *y, int nrows, int nb) { \
        int r = 0;                                                                             \
        for (; r + 4 <= nrows; r += 4) rows_fam(fam, 4, W + (size_t)r * stride, stride, xq, nb, y + r); \
        for (; r < nrows; r++) rows_fam(fam, 1, W + (size_t)r * stride, stride, xq, nb, y + r); \
    }
FAM_MATVEC(mv_q4_0, FAM_Q4_0)
FAM_MATVEC(mv_q5_0, FAM_Q5_0)
FAM_MATVEC(mv_q8_0, FAM_Q8_0)
FAM_MATVEC(mv_q4_1, FAM_Q4_1)
FAM_MATVEC(mv_q5_1, FAM_Q5_1)

static void a512_matvec(uint32_t t, const void *W, size_t stride, const void *xq,
                        float *y, int nrows, int ncols) {
    int nb = ncols / QK;
    switch (t) {
    case GGML_Q4_0: mv_q4_0(W, stride, xq, y, nrows, nb); return;
    case GGML_Q5_0: mv_q5_0(W, stride, xq, y, nrows, nb); return;
    case GGML_Q8_0: mv_q8_0(W, stride, xq, y, nrows, nb); return;
    case GGML_Q4_1: mv_q4_1(W, stride, xq, y, nrows, nb); return;
    case GGML_Q5_1: mv_q5_1(W, stride, xq, y, nrows, nb); return;
    default:
        for (int r = 0; r < nrows; r++)
            y[r] = kn_avx2_vec_dot(t, (const uint8_t *)W + (size_t)r * stride, xq, ncols);
    }
}

/* Row tiles reused across all activation rows, as in kn_matmul_tiled. */
static void a512_matmul(uint32_t t, const void *W, size_t stride, const void *xq, size_t xq_stride,
                        float *Y, size_t y_stride, int nrows, int ncols, int nb) {
    const int tile = 16;
    for (int r0 = 0; r0 < nrows; r0 += tile) {
        int n = nrows - r0 < tile ? nrows - r0 : tile;
        for (int b = 0; b < nb; b++)
            a512_matvec(t, (const uint8_t *)W + (size_t)r0 * stride, stride,
                        (const uint8_t *)xq + (size_t)b * xq_stride, Y + (size_t)b * y_stride + r0, n, ncols);
    }
}

/* Elementwise ops: the AVX2 versions (memory- or latency-bound here). */
static void a512_quantize_act(uint32_t at, const float *x, void *dst, int n) { kn_ops_avx2.quantize_act(at, x, dst, n); }
static void a512_rmsnorm(float *o, const float *x, const float *w, int n, float eps) { kn_ops_avx2.rmsnorm(o, x, w, n, eps); }
static void a512_softmax(float *x, int n) { kn_ops_avx2.softmax(x, n); }
static void a512_silu_mul(float *g, const float *u, int n) { kn_ops_avx2.silu_mul(g, u, n); }
static void a512_attention(float *out, const float *q, const void *k, const void *v, size_t kv_stride,
                           uint32_t kv_type, int n_pos, int head_dim, float scale, float *scratch) {
    kn_ops_avx2.attention(out, q, k, v, kv_stride, kv_type, n_pos, head_dim, scale, scratch);
}
static float a512_dot_f32(const float *a, const float *b, int n) { return kn_ops_avx2.dot_f32(a, b, n); }
static void a512_axpy(float *y, float a, const float *x, int n) { kn_ops_avx2.axpy(y, a, x, n); }

const kn_ops kn_ops_avx512 = {
    .name = "avx512", .isa = KN_AVX512,
    .quantize_act = a512_quantize_act,
    .matvec = a512_matvec,
    .matmul = a512_matmul,
    .rmsnorm = a512_rmsnorm,
    .softmax = a512_softmax,
    .silu_mul = a512_silu_mul,
    .rope = kn_ref_rope,
    .attention = a512_attention,
    .dot_f32 = a512_dot_f32,
    .axpy = a512_axpy,
};
