/* x86_avx512_rf.c: matvec and matmul of packed float weights (KN_F32_R16,
 * KN_F16_R16, KN_BF16_R16: 16 rows interleaved column by column, see
 * kn_internal.h) against F32 activations, with AVX-512 FMA.
 *
 * Lane r of a weight vector is row r of the group, so one FMA with the
 * activation's element j broadcast (an embedded-broadcast memory operand)
 * does column j of 16 rows: no horizontal sums, and the weights of a row
 * range are one contiguous stream (the GGUF-layout kernels read four
 * short row streams and reduce each at the end). F16 columns go through
 * VCVTPH2PS; BF16 columns are stored in pairs, widened by a shift (even
 * column) or a mask (odd column).
 *
 * Arithmetic, per row and activation: four accumulators, column j added
 * to accumulator j % 4 by FMA in column order from zero, result
 * (a0 + a1) + (a2 + a3). It is the same in matvec and matmul for every
 * tile width and thread split, so prompt and generation agree bit for
 * bit. Four chains hide the FMA latency when one activation is all there
 * is (generation). */
#include "x86_simd.h"

#define AI static inline __attribute__((always_inline))

enum {
    FT = 4,                      /* activations per register tile */
    ACT_BUDGET = 384 * 1024,     /* bytes of activations kept warm per pass over the rows */
};

/* Columns j..j+3 of a group as floats. */
AI void cols4(int kind, const uint8_t *G, int j, __m512 w[4]) {
    if (kind == GGML_F32) {
        for (int i = 0; i < 4; i++) w[i] = _mm512_loadu_ps((const float *)G + 16 * (size_t)(j + i));
    } else if (kind == GGML_F16) {
        for (int i = 0; i < 4; i++)
            w[i] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(G + 32 * (size_t)(j + i))));
    } else {   /* BF16 pairs: word (k, r) = columns 2k (low half) and 2k+1 (high) */
        const __m512i hi = _mm512_set1_epi32((int)0xffff0000u);
        for (int i = 0; i < 2; i++) {
            __m512i v = _mm512_loadu_si512((const void *)(G + 64 * (size_t)(j / 2 + i)));
            w[2 * i] = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
            w[2 * i + 1] = _mm512_castsi512_ps(_mm512_and_si512(v, hi));
        }
    }
}

/* One group of 16 rows against nc (1..FT) activations, n columns. */
AI void ftile(int kind, int nc, const uint8_t *G, int n, const float *X, size_t xs, float *Y, size_t ys) {
    const size_t es = kind == GGML_F32 ? 4 : 2;
    __m512 acc[FT][4];
    for (int c = 0; c < nc; c++)
        for (int i = 0; i < 4; i++) acc[c][i] = _mm512_setzero_ps();
    for (int j = 0; j < n; j += 4) {
        if (nc == 1)   /* generation: the stream is all there is, keep it ahead */
            for (size_t o = 0; o < 64 * es; o += 64)
                _mm_prefetch((const char *)(G + 16 * es * (size_t)j + 2048 + o), _MM_HINT_T0);
        __m512 w[4];
        cols4(kind, G, j, w);
        for (int c = 0; c < nc; c++) {
            const float *x = X + (size_t)c * xs + j;
            for (int i = 0; i < 4; i++) acc[c][i] = _mm512_fmadd_ps(w[i], _mm512_set1_ps(x[i]), acc[c][i]);
        }
    }
    for (int c = 0; c < nc; c++)
        _mm512_storeu_ps(Y + (size_t)c * ys, _mm512_add_ps(_mm512_add_ps(acc[c][0], acc[c][1]),
                                                           _mm512_add_ps(acc[c][2], acc[c][3])));
}

AI void fgroups(int kind, const uint8_t *W, size_t stride, const float *X, size_t xs, float *Y, size_t ys,
                int nrows, int n, int ncol) {
    /* Activations in chunks that stay in L2 while every row group passes
     * over them; the weights are read once per chunk. */
    int per = (int)(ACT_BUDGET / ((size_t)n * sizeof(float)));
    per = per < FT ? FT : per - per % FT;
    for (int c0 = 0; c0 < ncol; c0 += per) {
        const int nc = ncol - c0 < per ? ncol - c0 : per;
        const float *Xc = X + (size_t)c0 * xs;
        for (int r = 0; r + 16 <= nrows; r += 16) {
            const uint8_t *G = W + (size_t)r * stride;
            float *Yr = Y + (size_t)c0 * ys + r;
            int c = 0;
            for (; c + FT <= nc; c += FT) ftile(kind, FT, G, n, Xc + (size_t)c * xs, xs, Yr + (size_t)c * ys, ys);
            switch (nc - c) {   /* constant widths keep the accumulators in registers */
            case 1: ftile(kind, 1, G, n, Xc + (size_t)c * xs, xs, Yr + (size_t)c * ys, ys); break;
            case 2: ftile(kind, 2, G, n, Xc + (size_t)c * xs, xs, Yr + (size_t)c * ys, ys); break;
            case 3: ftile(kind, 3, G, n, Xc + (size_t)c * xs, xs, Yr + (size_t)c * ys, ys); break;
            default: break;
            }
        }
    }
}

void kn_avx512_rf(uint32_t ptype, const uint8_t *W, size_t stride, const float *X, size_t xs,
                  float *Y, size_t ys, int nrows, int n, int ncol) {
    if (n < 4 || n % 4 || ncol < 1) return;
    switch (ptype) {
    case KN_F32_R16: fgroups(GGML_F32, W, stride, X, xs, Y, ys, nrows, n, ncol); return;
    case KN_F16_R16: fgroups(GGML_F16, W, stride, X, xs, Y, ys, nrows, n, ncol); return;
    case KN_BF16_R16: fgroups(GGML_BF16, W, stride, X, xs, Y, ys, nrows, n, ncol); return;
    default: return;
    }
}
