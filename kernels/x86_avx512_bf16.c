/* x86_avx512_bf16.c: matvec and matmul of KN_BF16_R16B (BF16 weights in
 * the R16 column-pair layout, kn_internal.h) against BF16 activations
 * with AVX512-BF16's VDPBF16PS. Compiled with -mavx512bf16 (this file
 * only); reached only when CPUID reports avx512_bf16 (kn_pack_type).
 *
 * Lane r holds the pair (w[r][2k], w[r][2k+1]); the activation's pair
 * (x[2k], x[2k+1]) is broadcast as one 32-bit word, and one VDPBF16PS adds
 * both products to lane r: 32 multiply-adds per instruction against 16
 * for an F32 FMA, the whole gain for prompt processing. Products of two
 * BF16 values are exact in F32, so each lane does two correctly rounded
 * additions per pair (hardware flushes denormal inputs to zero).
 *
 * Arithmetic, per row and activation: two accumulators, pair k added to
 * accumulator k % 2 in pair order from zero, result a0 + a1; the same in
 * matvec and matmul for every tile width and thread split. */
#include "x86_simd.h"

#define AI static inline __attribute__((always_inline))

enum {
    BT = 8,                      /* activations per register tile */
    ACT_BUDGET = 768 * 1024,     /* bytes of activations kept warm per pass over the rows */
};

static inline __m512i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

AI __m512 dp(__m512 acc, __m512i w, __m512i x) { return _mm512_dpbf16_ps(acc, (__m512bh)w, (__m512bh)x); }

/* One group of 16 rows against nc (1..BT) activations of np column pairs. */
AI void btile(int nc, const uint8_t *G, int np, const uint8_t *X, size_t xs, float *Y, size_t ys) {
    __m512 a0[BT], a1[BT];
    for (int c = 0; c < nc; c++) a0[c] = a1[c] = _mm512_setzero_ps();
    for (int k = 0; k < np; k += 2) {
        const uint8_t *g = G + 64 * (size_t)k;
        if (nc == 1) {
            _mm_prefetch((const char *)(g + 2048), _MM_HINT_T0);
            _mm_prefetch((const char *)(g + 2048 + 64), _MM_HINT_T0);
        }
        const __m512i w0 = _mm512_loadu_si512((const void *)g), w1 = _mm512_loadu_si512((const void *)(g + 64));
        for (int c = 0; c < nc; c++) {
            const uint8_t *x = X + (size_t)c * xs + 4 * (size_t)k;
            a0[c] = dp(a0[c], w0, bcast4(x));
            a1[c] = dp(a1[c], w1, bcast4(x + 4));
        }
    }
    for (int c = 0; c < nc; c++) _mm512_storeu_ps(Y + (size_t)c * ys, _mm512_add_ps(a0[c], a1[c]));
}

/* X: ncol rows of n BF16 values, xs bytes apart. n a multiple of 4. */
void kn_avx512_bf16(const uint8_t *W, size_t stride, const uint8_t *X, size_t xs, float *Y, size_t ys,
                    int nrows, int n, int ncol) {
    if (n < 4 || n % 4 || ncol < 1) return;
    const int np = n / 2;
    int per = (int)(ACT_BUDGET / ((size_t)n * 2));
    per = per < BT ? BT : per - per % BT;
    for (int c0 = 0; c0 < ncol; c0 += per) {
        const int nc = ncol - c0 < per ? ncol - c0 : per;
        const uint8_t *Xc = X + (size_t)c0 * xs;
        for (int r = 0; r + 16 <= nrows; r += 16) {
            const uint8_t *G = W + (size_t)r * stride;
            float *Yr = Y + (size_t)c0 * ys + r;
            int c = 0;
            for (; c + BT <= nc; c += BT) btile(BT, G, np, Xc + (size_t)c * xs, xs, Yr + (size_t)c * ys, ys);
            const uint8_t *Xt = Xc + (size_t)c * xs;
            float *Yt = Yr + (size_t)c * ys;
            switch (nc - c) {   /* constant widths keep the accumulators in registers */
            case 1: btile(1, G, np, Xt, xs, Yt, ys); break;
            case 2: btile(2, G, np, Xt, xs, Yt, ys); break;
            case 3: btile(3, G, np, Xt, xs, Yt, ys); break;
            case 4: btile(4, G, np, Xt, xs, Yt, ys); break;
            case 5: btile(5, G, np, Xt, xs, Yt, ys); break;
            case 6: btile(6, G, np, Xt, xs, Yt, ys); break;
            case 7: btile(7, G, np, Xt, xs, Yt, ys); break;
            default: break;
            }
        }
    }
}
