/* x86_avx2.c: the AVX2+FMA+F16C table (compiled with those flags only),
 * and, compiled again by x86_avxvnni.c with -mavxvnni, the AVX-VNNI table.
 *
 * Integer formats: each block's dot product is exact in int32 lanes
 * (dpbusd256: maddubs + madd, or one VPDPBUSD; no saturation for our
 * activations, |x| <= 127), then scaled and accumulated in float lanes;
 * only the float summation order differs from the scalar reference, and
 * the two tables give the same bits. The K-quants keep maddubs + madd:
 * their madd multiplies by the sub-block scale, so VPDPBUSD would need a
 * 32-bit multiply after it and save nothing. */
#include "x86_simd.h"

#ifdef __AVXVNNI__
#define AVX2_TABLE kn_ops_avxvnni
#define AVX2_VEC_DOT kn_avxvnni_vec_dot
#else
#define AVX2_TABLE kn_ops_avx2
#define AVX2_VEC_DOT kn_avx2_vec_dot
#endif
#define AI static inline __attribute__((always_inline))

/* ---- weight rows x activation rows ---- */

static float vd_f32(const float *w, const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    float s = hsum256(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}

static float vd_f16(const uint16_t *w, const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i)));
        __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i + 8)));
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), a1);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(w + i))),
                             _mm256_loadu_ps(x + i), a0);
    float s = hsum256(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += h2f(w[i]) * x[i];
    return s;
}

static inline __m256 bf16x8(const uint16_t *w) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)w));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

static float vd_bf16(const uint16_t *w, const float *x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        a0 = _mm256_fmadd_ps(bf16x8(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(bf16x8(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
    }
    for (; i + 8 <= n; i += 8) a0 = _mm256_fmadd_ps(bf16x8(w + i), _mm256_loadu_ps(x + i), a0);
    float s = hsum256(_mm256_add_ps(a0, a1));
    for (; i < n; i++) s += kn_bf16_to_f32(w[i]) * x[i];
    return s;
}

static float vd_q4_0(const blk_q4_0 *w, const blk_q8_0 *x, int nb) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i off = _mm256_set1_epi8(8);
    for (int i = 0; i < nb; i++) {
        __m256i q = _mm256_sub_epi8(nibbles32(w[i].qs), off);
        __m256i y = _mm256_loadu_si256((const __m256i *)x[i].qs);
        __m256 p = _mm256_cvtepi32_ps(dot_i8_avx2(q, y));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i].d) * h2f(x[i].d)), p, acc);
    }
    return hsum256(acc);
}

static float vd_q8_0(const blk_q8_0 *w, const blk_q8_0 *x, int nb) {
    __m256 acc = _mm256_setzero_ps();
    for (int i = 0; i < nb; i++) {
        __m256i q = _mm256_loadu_si256((const __m256i *)w[i].qs);
        __m256i y = _mm256_loadu_si256((const __m256i *)x[i].qs);
        __m256 p = _mm256_cvtepi32_ps(dot_i8_avx2(q, y));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i].d) * h2f(x[i].d)), p, acc);
    }
    return hsum256(acc);
}

static float vd_q5_0(const blk_q5_0 *w, const blk_q8_0 *x, int nb) {
    __m256 acc = _mm256_setzero_ps();
    const __m256i off = _mm256_set1_epi8(16);
    for (int i = 0; i < nb; i++) {
        __m256i q = _mm256_or_si256(nibbles32(w[i].qs), bit4_from_qh(w[i].qh));
        q = _mm256_sub_epi8(q, off);
        __m256i y = _mm256_loadu_si256((const __m256i *)x[i].qs);
        __m256 p = _mm256_cvtepi32_ps(dot_i8_avx2(q, y));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i].d) * h2f(x[i].d)), p, acc);
    }
    return hsum256(acc);
}

static float vd_q4_1(const blk_q4_1 *w, const blk_q8_1 *x, int nb) {
    __m256 acc = _mm256_setzero_ps();
    float ms = 0.0f;
    for (int i = 0; i < nb; i++) {
        __m256i y = _mm256_loadu_si256((const __m256i *)x[i].qs);
        __m256 p = _mm256_cvtepi32_ps(dot_u8i8_avx2(nibbles32(w[i].qs), y));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i].d) * h2f(x[i].d)), p, acc);
        ms += h2f(w[i].m) * h2f(x[i].s);
    }
    return hsum256(acc) + ms;
}

static float vd_q5_1(const blk_q5_1 *w, const blk_q8_1 *x, int nb) {
    __m256 acc = _mm256_setzero_ps();
    float ms = 0.0f;
    for (int i = 0; i < nb; i++) {
        __m256i q = _mm256_or_si256(nibbles32(w[i].qs), bit4_from_qh(w[i].qh));
        __m256i y = _mm256_loadu_si256((const __m256i *)x[i].qs);
        __m256 p = _mm256_cvtepi32_ps(dot_u8i8_avx2(q, y));
        acc = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i].d) * h2f(x[i].d)), p, acc);
        ms += h2f(w[i].m) * h2f(x[i].s);
    }
    return hsum256(acc) + ms;
}

/* The K-quants against nc activation rows at once (1 for the row dot, KC
 * for matmul): a block's quants, scales and mins are unpacked once and
 * feed nc dot products, each with exactly the arithmetic of the single
 * one, so matvec and matmul give the same bits. KC = 8 measured best at 1
 * thread (64-token prompt, Q4_K_M / Q6_K tok/s against the row dot: 2
 * columns +11-16% / +36%, 4 +21% / +70%, 8 +75% / +73%, 16 +60% / +33%:
 * registers spill). */
enum { KC = 8 };

/* Q4_K / Q5_K share everything but the fifth bit (qh NULL for Q4_K):
 * isum[j] = the int32 lanes of sum_k sc_k * dot(q_k, x_j) over the eight
 * sub-blocks; the min term sum_k m_k * (bsums[2k] + bsums[2k+1]) comes
 * back as int32 lanes in mi[j] (one madd over the activation's bsums). */
AI void isum_k4(int nc, const uint8_t *scales, const uint8_t *qs, const uint8_t *qh,
                 const blk_q8_K *const *x, __m256i *isum, __m256i *mi) {
    uint64_t sc64, mn64;
    k4_unpack(scales, &sc64, &mn64);
    __m128i mv = _mm_cvtsi64_si128((long long)mn64);
    __m256i mins16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));
    for (int j = 0; j < nc; j++) {
        mi[j] = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)x[j]->bsums), mins16);
        isum[j] = _mm256_setzero_si256();
    }
    const __m256i m4 = _mm256_set1_epi8(15), one = _mm256_set1_epi8(1);
    __m256i hbits = qh ? _mm256_loadu_si256((const __m256i *)qh) : _mm256_setzero_si256();
    for (int c = 0; c < 4; c++) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
        __m256i lo = _mm256_and_si256(b, m4);
        __m256i hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), m4);
        if (qh) {
            __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * c), one);
            __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(hbits, 2 * c + 1), one);
            lo = _mm256_or_si256(lo, _mm256_slli_epi16(h0, 4));
            hi = _mm256_or_si256(hi, _mm256_slli_epi16(h1, 4));
        }
        __m256i s0 = _mm256_set1_epi16((short)((sc64 >> (16 * c)) & 0xff));
        __m256i s1 = _mm256_set1_epi16((short)((sc64 >> (16 * c + 8)) & 0xff));
        for (int j = 0; j < nc; j++) {
            __m256i y0 = _mm256_loadu_si256((const __m256i *)(x[j]->qs + 64 * c));
            __m256i y1 = _mm256_loadu_si256((const __m256i *)(x[j]->qs + 64 * c + 32));
            __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), s0);
            __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), s1);
            isum[j] = _mm256_add_epi32(isum[j], _mm256_add_epi32(p0, p1));
        }
    }
}

/* Q4_K (is5 = 0) or Q5_K rows of nb blocks against nc activation rows. */
AI void vd_k45(int nc, int is5, const uint8_t *w, const blk_q8_K *const *xr, int nb, float *out) {
    __m256 acc[KC], mins[KC];
    for (int j = 0; j < nc; j++) acc[j] = mins[j] = _mm256_setzero_ps();
    const size_t bsz = is5 ? sizeof(blk_q5_K) : sizeof(blk_q4_K);
    for (int i = 0; i < nb; i++) {
        const uint8_t *wb = w + (size_t)i * bsz;
        const blk_q8_K *x[KC];
        for (int j = 0; j < nc; j++) x[j] = xr[j] + i;
        float d, dmin;
        __m256i is[KC], mi[KC];
        if (is5) {
            const blk_q5_K *b = (const blk_q5_K *)wb;
            d = h2f(b->d), dmin = h2f(b->dmin);
            isum_k4(nc, b->scales, b->qs, b->qh, x, is, mi);
        } else {
            const blk_q4_K *b = (const blk_q4_K *)wb;
            d = h2f(b->d), dmin = h2f(b->dmin);
            isum_k4(nc, b->scales, b->qs, NULL, x, is, mi);
        }
        for (int j = 0; j < nc; j++) {
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[j]->d), _mm256_cvtepi32_ps(is[j]), acc[j]);
            mins[j] = _mm256_fmadd_ps(_mm256_set1_ps(dmin * x[j]->d), _mm256_cvtepi32_ps(mi[j]), mins[j]);
        }
    }
    for (int j = 0; j < nc; j++) out[j] = hsum256(_mm256_sub_ps(acc[j], mins[j]));
}

/* Q6_K: q is unsigned 0..63; dot(q - 32, x) = dot(q, x) - 32 * sum(x), both
 * as int16 pair sums (at most 2*63*127), then weighted by the per-16
 * scales with madd. */
AI void vd_q6_K(int nc, const blk_q6_K *w, const blk_q8_K *const *xr, int nb, float *out) {
    __m256 acc[KC];
    for (int j = 0; j < nc; j++) acc[j] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(15), m2 = _mm256_set1_epi8(3), k32 = _mm256_set1_epi8(32);
    for (int i = 0; i < nb; i++) {
        const blk_q8_K *x[KC];
        __m256i isum[KC];
        for (int j = 0; j < nc; j++) x[j] = xr[j] + i, isum[j] = _mm256_setzero_si256();
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            const int8_t *sc = w[i].scales + 8 * h;
            __m256i l0 = _mm256_loadu_si256((const __m256i *)ql);
            __m256i l1 = _mm256_loadu_si256((const __m256i *)(ql + 32));
            __m256i hb = _mm256_loadu_si256((const __m256i *)qh);
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_slli_epi16(_mm256_and_si256(hb, m2), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2), m2), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 4), m2), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 6), m2), 4));
            for (int g = 0; g < 4; g++) {
                __m256i s = _mm256_set_m128i(_mm_set1_epi16(sc[2 * g + 1]), _mm_set1_epi16(sc[2 * g]));
                for (int j = 0; j < nc; j++) {
                    __m256i y = _mm256_loadu_si256((const __m256i *)(x[j]->qs + 128 * h + 32 * g));
                    __m256i p = _mm256_sub_epi16(_mm256_maddubs_epi16(q[g], y), _mm256_maddubs_epi16(k32, y));
                    isum[j] = _mm256_add_epi32(isum[j], _mm256_madd_epi16(p, s));
                }
            }
        }
        for (int j = 0; j < nc; j++)
            acc[j] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w[i].d) * x[j]->d), _mm256_cvtepi32_ps(isum[j]), acc[j]);
    }
    for (int j = 0; j < nc; j++) out[j] = hsum256(acc[j]);
}

static float vd_k(uint32_t t, const void *w, const blk_q8_K *x, int nb) {
    float y;
    if (t == GGML_Q6_K) vd_q6_K(1, w, &x, nb, &y);
    else vd_k45(1, t == GGML_Q5_K, w, &x, nb, &y);
    return y;
}

/* K-quant matmul: mm_walk's order (below) with one row per tile. Its own
 * loop: written as an mm_walk tile it measured 6-15% slower (Q4_K_M, 1
 * thread), the compiler's code for the inlined row dots differing. */
static void mm_k(uint32_t t, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs,
                 float *Y, size_t ys, int nrows, int ncols, int ncol) {
    const int nb = ncols / QK_K;
    for (int r0 = 0; r0 < nrows; r0 += 16) {
        int r1 = r0 + 16 < nrows ? r0 + 16 : nrows;
        int c = 0;
        for (; c + KC <= ncol; c += KC) {
            const blk_q8_K *x[KC];
            for (int j = 0; j < KC; j++) x[j] = (const blk_q8_K *)(X + (size_t)(c + j) * xs);
            for (int r = r0; r < r1; r++) {
                float y[KC];
                const uint8_t *w = W + (size_t)r * stride;
                if (t == GGML_Q6_K) vd_q6_K(KC, (const blk_q6_K *)w, x, nb, y);
                else vd_k45(KC, t == GGML_Q5_K, w, x, nb, y);
                for (int j = 0; j < KC; j++) Y[(size_t)(c + j) * ys + r] = y[j];
            }
        }
        for (; c < ncol; c++)
            for (int r = r0; r < r1; r++)
                Y[(size_t)c * ys + r] = vd_k(t, W + (size_t)r * stride, (const blk_q8_K *)(X + (size_t)c * xs), nb);
    }
}

float AVX2_VEC_DOT(uint32_t t, const void *w, const void *xq, int n) {
    switch (t) {
    case GGML_F32: return vd_f32(w, xq, n);
    case GGML_F16: return vd_f16(w, xq, n);
    case GGML_BF16: return vd_bf16(w, xq, n);
    case GGML_Q4_0: return vd_q4_0(w, xq, n / QK);
    case GGML_Q4_1: return vd_q4_1(w, xq, n / QK);
    case GGML_Q5_0: return vd_q5_0(w, xq, n / QK);
    case GGML_Q5_1: return vd_q5_1(w, xq, n / QK);
    case GGML_Q8_0: return vd_q8_0(w, xq, n / QK);
    case GGML_Q4_K: case GGML_Q5_K: case GGML_Q6_K: return vd_k(t, w, xq, n / QK_K);
    default: return 0.0f;
    }
}

static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* 4-bit and 5-bit 32-element types, nr (1..4) rows per activation pass.
 * Quants stay unsigned (maddubs takes u8 x s8 directly, pair sums at most
 * 2*31*127); Q4_0/Q5_0's bias comes back as -b * (lane sum of x), the same
 * exact lane arithmetic as the AVX-512 kernels. Rows are short streams, so
 * the next row group is prefetched as in x86_avx512.c. */
enum { R_Q4_0, R_Q5_0, R_Q4_1, R_Q5_1 };

AI void rows_u(int fam, int nr, const uint8_t *W, size_t stride, const uint8_t *xq, int nb, float *y) {
    static const size_t bsz_of[] = {18, 22, 20, 24}, qo_of[] = {2, 6, 4, 8}, ho_of[] = {0, 2, 0, 4};
    const size_t bsz = bsz_of[fam], qo = qo_of[fam], ho = ho_of[fam];
    const int has_min = fam >= R_Q4_1, has_qh = fam == R_Q5_0 || fam == R_Q5_1;
    const int shift = fam == R_Q4_0 ? 3 : 4;
    const size_t xsz = has_min ? sizeof(blk_q8_1) : sizeof(blk_q8_0), xoff = has_min ? 4 : 2;
    const __m256i ones8 = _mm256_set1_epi8(1);
    __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
    float ms[4] = {0, 0, 0, 0};
    for (int i = 0; i < nb; i++) {
        const uint8_t *xb = xq + (size_t)i * xsz;
        __m256i yv = _mm256_loadu_si256((const __m256i *)(xb + xoff));
        float dx = h2f(rd16(xb));
        __m256i base = _mm256_setzero_si256();
        if (!has_min)
            base = _mm256_sub_epi32(base, _mm256_slli_epi32(dpbusd256(_mm256_setzero_si256(), ones8, yv), shift));
        for (int r = 0; r < nr; r++) {
            const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz;
            if (nr == 4) _mm_prefetch((const char *)(wb + 8 * stride), _MM_HINT_T0);
            __m256i q = nibbles32(wb + qo);
            if (has_qh) q = _mm256_or_si256(q, bit4_from_qh(wb + ho));
            __m256i p = dpbusd256(base, q, yv);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(rd16(wb)) * dx), _mm256_cvtepi32_ps(p), acc[r]);
            if (has_min) ms[r] += h2f(rd16(wb + 2)) * h2f(rd16(xb + 2));
        }
    }
    for (int r = 0; r < nr; r++) y[r] = hsum256(acc[r]) + ms[r];
}

AI void mv_u(int fam, const uint8_t *W, size_t stride, const uint8_t *xq, float *y, int nrows, int nb) {
    int r = 0;
    for (; r + 4 <= nrows; r += 4) rows_u(fam, 4, W + (size_t)r * stride, stride, xq, nb, y + r);
    for (; r < nrows; r++) rows_u(fam, 1, W + (size_t)r * stride, stride, xq, nb, y + r);
}

static void avx2_matvec(uint32_t t, const void *W, size_t stride, const void *xq,
                        float *y, int nrows, int ncols) {
    switch (t) {
    case GGML_Q4_0: mv_u(R_Q4_0, W, stride, xq, y, nrows, ncols / QK); return;
    case GGML_Q5_0: mv_u(R_Q5_0, W, stride, xq, y, nrows, ncols / QK); return;
    case GGML_Q4_1: mv_u(R_Q4_1, W, stride, xq, y, nrows, ncols / QK); return;
    case GGML_Q5_1: mv_u(R_Q5_1, W, stride, xq, y, nrows, ncols / QK); return;
    default:
        for (int r = 0; r < nrows; r++)
            y[r] = AVX2_VEC_DOT(t, (const uint8_t *)W + (size_t)r * stride, xq, ncols);
    }
}

/* matmul for the 32-element types: a 4-row x 2-activation register tile,
 * so each decoded weight block feeds two dot products. Quants stay
 * unsigned, as in rows_u: Q4_0/Q5_0's bias is -b * (lane sum of x), once
 * per activation block for all four rows, so a row's block costs one
 * dpbusd256 per activation (one VPDPBUSD with AVX-VNNI); Q4_1/Q5_1 add
 * m * s per block as the reference does. Q8_0 keeps the sign trick
 * (dot_i8_avx2). The int32 lanes are the same either way. */
enum { F_Q4_0, F_Q5_0, F_Q8_0, F_Q4_1, F_Q5_1 };

AI __m256i w_quants(int fam, const uint8_t *b) {
    switch (fam) {
    case F_Q8_0: return _mm256_loadu_si256((const __m256i *)(b + 2));
    case F_Q4_0: return nibbles32(b + 2);
    case F_Q5_0: return _mm256_or_si256(nibbles32(b + 6), bit4_from_qh(b + 2));
    case F_Q4_1: return nibbles32(b + 4);
    default: return _mm256_or_si256(nibbles32(b + 8), bit4_from_qh(b + 4));
    }
}

/* MR rows x MC activation rows, nb blocks each. Measured at 1 thread
 * (64-token prompt): 2 x 4 and 1 x 8 were no faster than 4 x 2 (1 x 8:
 * Q4_0 -17%); unlike the K-quants', a block has little per-row work to
 * share. */
enum { MR = 4, MC = 2 };
AI void mm_tile(int fam, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs,
                float *Y, size_t ys, int nb) {
    static const size_t bsz_of[] = {18, 22, 34, 20, 24};
    const size_t bsz = bsz_of[fam];
    const int has_min = fam == F_Q4_1 || fam == F_Q5_1;
    const size_t xsz = has_min ? sizeof(blk_q8_1) : sizeof(blk_q8_0), xoff = has_min ? 4 : 2;
    const int shift = fam == F_Q4_0 ? 3 : 4;
    const __m256i zero = _mm256_setzero_si256(), ones8 = _mm256_set1_epi8(1);
    __m256 acc[MR][MC];
    float ms[MR][MC];
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < MC; c++) acc[r][c] = _mm256_setzero_ps(), ms[r][c] = 0.0f;
    for (int i = 0; i < nb; i++) {
        __m256i xv[MC], bias[MC];
        float dx[MC], sx[MC];
        for (int c = 0; c < MC; c++) {
            const uint8_t *xb = X + (size_t)c * xs + (size_t)i * xsz;
            xv[c] = _mm256_loadu_si256((const __m256i *)(xb + xoff));
            dx[c] = h2f(rd16(xb));
            sx[c] = has_min ? h2f(rd16(xb + 2)) : 0.0f;
            bias[c] = zero;
            if (fam == F_Q4_0 || fam == F_Q5_0)
                bias[c] = _mm256_sub_epi32(zero, _mm256_slli_epi32(dpbusd256(zero, ones8, xv[c]), shift));
        }
        for (int r = 0; r < MR; r++) {
            const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz;
            __m256i q = w_quants(fam, wb);
            __m256i aq = fam == F_Q8_0 ? _mm256_sign_epi8(q, q) : q;
            float dw = h2f(rd16(wb)), mw = has_min ? h2f(rd16(wb + 2)) : 0.0f;
            for (int c = 0; c < MC; c++) {
                __m256i p = fam == F_Q8_0 ? dpbusd256(zero, aq, _mm256_sign_epi8(xv[c], q))
                                          : dpbusd256(bias[c], q, xv[c]);
                acc[r][c] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dx[c]), _mm256_cvtepi32_ps(p), acc[r][c]);
                if (has_min) ms[r][c] += mw * sx[c];
            }
        }
    }
    for (int r = 0; r < MR; r++)
        for (int c = 0; c < MC; c++) Y[(size_t)c * ys + r] = hsum256(acc[r][c]) + ms[r][c];
}

/* F32/F16/BF16 matmul: FR rows x FC activation rows of FMAs per pass, each
 * weight vector converted once for FC products; walked by mm_walk.
 * Each product keeps vd_f32/vd_f16/vd_bf16's order exactly (two
 * accumulators over alternate 8-element groups, a last odd group into the
 * first, their sum, then the scalar tail), so a token's logits do not
 * depend on whether it came in a batch or alone. 2 x 3 is the largest
 * tile that keeps both sets of accumulators in registers (1 thread,
 * 64-token prompt: F16 +65%, F32 +61% over row-tiled matvec; a 4 x 3 tile
 * with one accumulator was 1-4% faster than this one when the type was
 * not a constant, but gave other bits than matvec). */
enum { FR = 2, FC = 3 };

AI __m256 w_f8(uint32_t t, const uint8_t *w, int i) {
    if (t == GGML_F32) return _mm256_loadu_ps((const float *)w + i);
    if (t == GGML_F16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + i)));
    return bf16x8((const uint16_t *)w + i);
}

AI float w_f1(uint32_t t, const uint8_t *w, int i) {
    if (t == GGML_F32) return ((const float *)w)[i];
    uint16_t h;
    memcpy(&h, w + 2 * (size_t)i, 2);
    return t == GGML_F16 ? h2f(h) : kn_bf16_to_f32(h);
}

AI void mmf_tile(uint32_t t, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs,
                 float *Y, size_t ys, int n) {
    __m256 a0[FR][FC], a1[FR][FC];
    for (int r = 0; r < FR; r++)
        for (int c = 0; c < FC; c++) a0[r][c] = a1[r][c] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int r = 0; r < FR; r++) {
            __m256 w0 = w_f8(t, W + (size_t)r * stride, i), w1 = w_f8(t, W + (size_t)r * stride, i + 8);
            for (int c = 0; c < FC; c++) {
                const float *x = (const float *)(X + (size_t)c * xs) + i;
                a0[r][c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x), a0[r][c]);
                a1[r][c] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + 8), a1[r][c]);
            }
        }
    if (i + 8 <= n) {
        for (int r = 0; r < FR; r++) {
            __m256 w0 = w_f8(t, W + (size_t)r * stride, i);
            for (int c = 0; c < FC; c++)
                a0[r][c] = _mm256_fmadd_ps(w0, _mm256_loadu_ps((const float *)(X + (size_t)c * xs) + i), a0[r][c]);
        }
        i += 8;
    }
    for (int r = 0; r < FR; r++)
        for (int c = 0; c < FC; c++) {
            const float *x = (const float *)(X + (size_t)c * xs);
            float sum = hsum256(_mm256_add_ps(a0[r][c], a1[r][c]));
            for (int k = i; k < n; k++) sum += w_f1(t, W + (size_t)r * stride, k) * x[k];
            Y[(size_t)c * ys + r] = sum;
        }
}

/* The walk every AVX2 matmul shares, as in kn_matmul_tiled: 16-row tiles
 * (in L1/L2) reused across every activation row; inside a tile, mc
 * activation rows at a time go past its groups of mr rows. Leftover rows
 * and activation rows take the row dot, which gives the tiles' bits. fam
 * picks the tile: a 32-element family or F_FLOAT; with constant
 * arguments each inlined copy is the tile's own loop. */
enum { F_FLOAT = 16 };

AI void mm_walk(int fam, uint32_t t, int mr, int mc, const uint8_t *W, size_t stride, const uint8_t *X,
                size_t xs, float *Y, size_t ys, int nrows, int ncols, int ncol) {
    for (int r0 = 0; r0 < nrows; r0 += 16) {
        int r1 = r0 + 16 < nrows ? r0 + 16 : nrows, rt = r0 + (r1 - r0) / mr * mr;
        int c = 0;
        for (; c + mc <= ncol; c += mc) {
            for (int r = r0; r < rt; r += mr) {
                const uint8_t *w = W + (size_t)r * stride, *x = X + (size_t)c * xs;
                float *y = Y + (size_t)c * ys + r;
                if (fam == F_FLOAT) mmf_tile(t, w, stride, x, xs, y, ys, ncols);
                else mm_tile(fam, w, stride, x, xs, y, ys, ncols / QK);
            }
            for (int k = c; k < c + mc; k++)
                for (int r = rt; r < r1; r++)
                    Y[(size_t)k * ys + r] = AVX2_VEC_DOT(t, W + (size_t)r * stride, X + (size_t)k * xs, ncols);
        }
        for (; c < ncol; c++)
            for (int r = r0; r < r1; r++)
                Y[(size_t)c * ys + r] = AVX2_VEC_DOT(t, W + (size_t)r * stride, X + (size_t)c * xs, ncols);
    }
}

static void avx2_matmul(uint32_t t, const void *W, size_t stride, const void *xq, size_t xq_stride,
                        float *Y, size_t y_stride, int nrows, int ncols, int nb) {
    /* constant arguments, so that each inlined copy is specialized */
#define WALK(fam, type, mr, mc) mm_walk(fam, type, mr, mc, W, stride, xq, xq_stride, Y, y_stride, nrows, ncols, nb)
    switch (t) {
    case GGML_Q4_0: WALK(F_Q4_0, GGML_Q4_0, MR, MC); return;
    case GGML_Q5_0: WALK(F_Q5_0, GGML_Q5_0, MR, MC); return;
    case GGML_Q8_0: WALK(F_Q8_0, GGML_Q8_0, MR, MC); return;
    case GGML_Q4_1: WALK(F_Q4_1, GGML_Q4_1, MR, MC); return;
    case GGML_Q5_1: WALK(F_Q5_1, GGML_Q5_1, MR, MC); return;
    case GGML_Q4_K: case GGML_Q5_K: case GGML_Q6_K:
        mm_k(t, W, stride, xq, xq_stride, Y, y_stride, nrows, ncols, nb);
        return;
    case GGML_F32: WALK(F_FLOAT, GGML_F32, FR, FC); return;
    case GGML_F16: WALK(F_FLOAT, GGML_F16, FR, FC); return;
    case GGML_BF16: WALK(F_FLOAT, GGML_BF16, FR, FC); return;
    default: kn_matmul_tiled(AVX2_VEC_DOT, t, W, stride, xq, xq_stride, Y, y_stride, nrows, ncols, nb);
    }
#undef WALK
}

/* ---- activation quantization (bit-identical to the scalar reference) ---- */

static void avx2_quantize_act(uint32_t at, const float *x, void *dst, int n) {
    switch (at) {
    case GGML_Q8_0: case GGML_Q8_1: {
        int is1 = at == GGML_Q8_1;
        uint8_t *out = dst;
        size_t bs = is1 ? sizeof(blk_q8_1) : sizeof(blk_q8_0);
        for (int i = 0; i < n / QK; i++, x += QK, out += bs) {
            float amax = amax32(x, QK);
            uint16_t d = kn_f32_to_f16(amax / 127.0f);
            int8_t *qs = (int8_t *)(out + (is1 ? 4 : 2));
            q8_store32(x, amax > 0.0f ? 127.0f / amax : 0.0f, qs);
            memcpy(out, &d, 2);
            if (is1) {
                int s = 0;
                for (int j = 0; j < QK; j++) s += qs[j];
                uint16_t sh = kn_f32_to_f16(kn_f16_to_f32(d) * (float)s);
                memcpy(out + 2, &sh, 2);
            }
        }
        break;
    }
    case GGML_Q8_K: {
        blk_q8_K *b = dst;
        for (int i = 0; i < n / QK_K; i++, x += QK_K) {
            float amax = amax32(x, QK_K), id = amax > 0.0f ? 127.0f / amax : 0.0f;
            b[i].d = amax / 127.0f;
            for (int k = 0; k < QK_K / 32; k++) q8_store32(x + 32 * k, id, b[i].qs + 32 * k);
            for (int g = 0; g < QK_K / 16; g++) {
                __m128i v = _mm_loadu_si128((const __m128i *)(b[i].qs + 16 * g));
                __m256i w = _mm256_madd_epi16(_mm256_cvtepi8_epi16(v), _mm256_set1_epi16(1));
                __m128i s = _mm_add_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
                s = _mm_hadd_epi32(s, s);
                s = _mm_hadd_epi32(s, s);
                b[i].bsums[g] = (int16_t)_mm_cvtsi128_si32(s);
            }
        }
        break;
    }
    case GGML_F16: {   /* VCVTPS2PH rounds to nearest even, as kn_f32_to_f16 */
        uint16_t *h = dst;
        int i = 0;
        for (; i + 8 <= n; i += 8)
            _mm_storeu_si128((__m128i *)(h + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
        for (; i < n; i++) h[i] = kn_f32_to_f16(x[i]);
        break;
    }
    default: kn_ref_quantize_act(at, x, dst, n); break;
    }
}

/* ---- elementwise ---- */

static float avx2_dot_f32(const float *a, const float *b, int n) { return vd_f32(a, b, n); }

static void avx2_axpy(float *y, float a, const float *x, int n) {
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

static void avx2_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float ss = vd_f32(x, x, n);
    float r = 1.0f / sqrtf(ss / (float)n + eps);
    __m256 vr = _mm256_set1_ps(r);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vr), _mm256_loadu_ps(w + i)));
    for (; i < n; i++) out[i] = x[i] * r * w[i];
}

static void avx2_softmax(float *x, int n) {
    if (n <= 0) return;
    int i = 0;
    __m256 vm = _mm256_set1_ps(x[0]);
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + i));
    float mx = hmax256(vm);
    for (; i < n; i++) mx = fmaxf(mx, x[i]);
    __m256 vmx = _mm256_set1_ps(mx), vs = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmx));
        _mm256_storeu_ps(x + i, e);
        vs = _mm256_add_ps(vs, e);
    }
    float sum = hsum256(vs);
    for (; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), inv));
    for (; i < n; i++) x[i] *= 1.0f / sum;
}

static void avx2_silu_mul(float *g, const float *up, int n) {
    const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(g + i);
        __m256 e = exp256(_mm256_sub_ps(zero, v));
        __m256 s = _mm256_div_ps(v, _mm256_add_ps(one, e));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(s, _mm256_loadu_ps(up + i)));
    }
    for (; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * up[i];
}

static float kv_dot(const float *q, const void *k, uint32_t kt, int n) {
    return kt == GGML_F16 ? vd_f16(k, q, n) : vd_f32(k, q, n);
}

static void kv_axpy(float *out, float a, const void *v, uint32_t kt, int n) {
    if (kt != GGML_F16) {
        avx2_axpy(out, a, v, n);
        return;
    }
    const uint16_t *h = v;
    __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 hv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(h + i)));
        _mm256_storeu_ps(out + i, _mm256_fmadd_ps(va, hv, _mm256_loadu_ps(out + i)));
    }
    for (; i < n; i++) out[i] += a * h2f(h[i]);
}

static void avx2_attention(float *out, const float *q, int n_q, const void *k, const void *v,
                           size_t kv_stride, uint32_t kv_type, int n_pos, int head_dim,
                           float scale, float *scratch) {
    for (int h = 0; h < n_q; h++, q += head_dim, out += head_dim) {
        for (int p = 0; p < n_pos; p++)
            scratch[p] = scale * kv_dot(q, (const uint8_t *)k + (size_t)p * kv_stride, kv_type, head_dim);
        avx2_softmax(scratch, n_pos);
        memset(out, 0, sizeof(float) * (size_t)head_dim);
        for (int p = 0; p < n_pos; p++)
            kv_axpy(out, scratch[p], (const uint8_t *)v + (size_t)p * kv_stride, kv_type, head_dim);
    }
}

const kn_ops AVX2_TABLE = {
#ifdef __AVXVNNI__
    .name = "avxvnni", .isa = KN_AVXVNNI,
#else
    .name = "avx2", .isa = KN_AVX2,
#endif
    .quantize_act = avx2_quantize_act,
    .matvec = avx2_matvec,
    .matmul = avx2_matmul,
    .rmsnorm = avx2_rmsnorm,
    .softmax = avx2_softmax,
    .silu_mul = avx2_silu_mul,
    .rope = kn_ref_rope,
    .attention = avx2_attention,
    .dot_f32 = avx2_dot_f32,
    .axpy = avx2_axpy,
};
