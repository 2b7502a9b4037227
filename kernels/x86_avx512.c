/* x86_avx512.c: the AVX-512 table (AVX512F/BW/VL/DQ + VNNI).
 *
 * The 32-element block types (Q4_0, Q5_0, Q8_0 against Q8_0; Q4_1, Q5_1
 * against Q8_1) use VPDPBUSD, which multiplies unsigned by signed bytes
 * and adds groups of four into int32 exactly (no int16 saturation step).
 * Signed weights are made unsigned by a bias b (8, 16 or 128) and the
 * accumulator starts at -b * (sum of the activation bytes of that lane),
 * so every lane holds an exact partial of dot(q - b, x). K-quants go
 * through 512-bit VPMADDUBSW/VPMADDWD with the sub-block scales; F32/F16/
 * BF16 through 512-bit FMA. matvec shares each activation load across four
 * rows; matmul uses register tiles (4 rows x 4 or 2 activations) so each
 * decoded weight feeds several dot products. Elementwise ops and activation
 * quantization use the AVX2 code, which these CPUs also run. The packed R16
 * types (repacked at load) go to x86_avx512_r16.c (quantized),
 * x86_avx512_rf.c (F32/F16/BF16) and x86_avx512_bf16.c (BF16 with BF16
 * activations); softmax and attention are in x86_avx512_attn.c. */
#include "x86_simd.h"

#define AI static inline __attribute__((always_inline))

/* How many rows ahead the 4-row matvec kernels prefetch (see rows_fam). */
#ifndef KN_PF_ROWS
#define KN_PF_ROWS 8
#endif

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

/* Two consecutive blocks of one row as 64 unsigned bytes in element order. */
AI __m512i load_w2(int fam, const uint8_t *b0, size_t bsz) {
    const uint8_t *b1 = b0 + bsz;
    if (fam == FAM_Q8_0) {
        __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(b0 + 2))),
                                       _mm256_loadu_si256((const __m256i *)(b1 + 2)), 1);
        return _mm512_xor_si512(z, _mm512_set1_epi8((char)0x80));
    }
    const size_t qo = fam == FAM_Q4_0 ? 2 : fam == FAM_Q5_0 ? 6 : fam == FAM_Q4_1 ? 4 : 8;
    __m256i b = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *)(b0 + qo))),
                                        _mm_loadu_si128((const __m128i *)(b1 + qo)), 1);
    __m256i lo = _mm256_and_si256(b, _mm256_set1_epi8(15));
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(b, 4), _mm256_set1_epi8(15));
    __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);   /* lo0 lo1 hi0 hi1 */
    z = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(3, 1, 2, 0));              /* lo0 hi0 lo1 hi1 */
    if (fam == FAM_Q5_0 || fam == FAM_Q5_1) {
        const size_t ho = fam == FAM_Q5_0 ? 2 : 4;
        z = _mm512_or_si512(z, _mm512_inserti64x4(_mm512_castsi256_si512(bit4_from_qh(b0 + ho)),
                                                  bit4_from_qh(b1 + ho), 1));
    }
    return z;
}

/* Two f16 values (at p and p + gap) as floats in lanes 0 and 1. */
static inline __m128 h2f_pair(const uint8_t *p, size_t gap) {
    return _mm_cvtph_ps(_mm_cvtsi32_si128((int)((uint32_t)rd16(p) | (uint32_t)rd16(p + gap) << 16)));
}

/* nr (1..4) consecutive rows against one activation row: blocks in pairs
 * (one 512-bit VPDPBUSD per pair and row), an odd last block with 256 bits. */
AI void rows_fam(int fam, int nr, const uint8_t *W, size_t stride, const uint8_t *xq, int nb, float *y) {
    static const size_t bsz_of[] = {18, 22, 34, 20, 24};
    static const int shift_of[] = {3, 4, 7, 0, 0};   /* log2 of the bias */
    const size_t bsz = bsz_of[fam];
    const int shift = shift_of[fam];
    const int has_min = fam >= FAM_Q4_1;
    const size_t xsz = has_min ? sizeof(blk_q8_1) : sizeof(blk_q8_0), xoff = has_min ? 4 : 2;
    __m512 acc[4];
    __m128 msv[4];
    for (int r = 0; r < 4; r++) {
        acc[r] = _mm512_setzero_ps();
        msv[r] = _mm_setzero_ps();
    }
    const __m512i ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    int i = 0;
    for (; i + 2 <= nb; i += 2) {
        const uint8_t *x0 = xq + (size_t)i * xsz;
        __m512i yv = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(x0 + xoff))),
                                        _mm256_loadu_si256((const __m256i *)(x0 + xsz + xoff)), 1);
        __m128 dx = h2f_pair(x0, xsz);
        __m128 sx = has_min ? h2f_pair(x0 + 2, xsz) : _mm_setzero_ps();
        __m512i base = zero;
        if (!has_min)
            base = _mm512_sub_epi32(zero, _mm512_slli_epi32(_mm512_dpbusd_epi32(zero, ones, yv), shift));
        for (int r = 0; r < nr; r++) {
            const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz;
            /* Each row is a short stream (~1 KB), too short for the hardware
             * prefetcher to ramp up: fetch the next row group's bytes now. */
            if (nr == 4) {
                _mm_prefetch((const char *)(wb + KN_PF_ROWS * stride), _MM_HINT_T0);
                if (2 * bsz > 64) _mm_prefetch((const char *)(wb + KN_PF_ROWS * stride + 64), _MM_HINT_T0);
            }
            __m512i dp = _mm512_dpbusd_epi32(base, load_w2(fam, wb, bsz), yv);
            __m128 sc = _mm_mul_ps(h2f_pair(wb, bsz), dx);
            acc[r] = _mm512_fmadd_ps(_mm512_permutexvar_ps(idx, _mm512_castps128_ps512(sc)),
                                     _mm512_cvtepi32_ps(dp), acc[r]);
            if (has_min) msv[r] = _mm_fmadd_ps(h2f_pair(wb + 2, bsz), sx, msv[r]);
        }
    }
    float tail[4] = {0, 0, 0, 0};
    if (i < nb) {
        const uint8_t *xb = xq + (size_t)i * xsz;
        __m256i yv = _mm256_loadu_si256((const __m256i *)(xb + xoff));
        float dx = h2f(rd16(xb));
        __m256i base = _mm256_setzero_si256();
        if (!has_min)
            base = _mm256_sub_epi32(base, _mm256_slli_epi32(
                _mm256_dpbusd_epi32(base, _mm256_set1_epi8(1), yv), shift));
        for (int r = 0; r < nr; r++) {
            const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz;
            __m256i dp = _mm256_dpbusd_epi32(base, load_w(fam, wb), yv);
            tail[r] = hsum256(_mm256_mul_ps(_mm256_set1_ps(h2f(rd16(wb)) * dx), _mm256_cvtepi32_ps(dp)));
            if (has_min) tail[r] += h2f(rd16(wb + 2)) * h2f(rd16(xb + 2));
        }
    }
    for (int r = 0; r < nr; r++) {
        __m128 m = _mm_add_ss(msv[r], _mm_movehdup_ps(msv[r]));   /* lanes 0 + 1 */
        y[r] = _mm512_reduce_add_ps(acc[r]) + tail[r] + _mm_cvtss_f32(m);
    }
}

#define FAM_MATVEC(name, fam)                                                                  \
    static void name(const uint8_t *W, size_t stride, const uint8_t *xq, float *y, int nrows, int nb) { \
        int r = 0;                                                                             \
        for (; r + 4 <= nrows; r += 4) rows_fam(fam, 4, W + (size_t)r * stride, stride, xq, nb, y + r); \
        for (; r < nrows; r++) rows_fam(fam, 1, W + (size_t)r * stride, stride, xq, nb, y + r); \
    }
FAM_MATVEC(mv_q4_0, FAM_Q4_0)
FAM_MATVEC(mv_q5_0, FAM_Q5_0)
/* Q8_0 (~1 byte per weight) is memory-bound even one row at a time, and a
 * single sequential stream measured faster than four prefetched ones. */
static void mv_q8_0(const uint8_t *W, size_t stride, const uint8_t *xq, float *y, int nrows, int nb) {
    for (int r = 0; r < nrows; r++) rows_fam(FAM_Q8_0, 1, W + (size_t)r * stride, stride, xq, nb, y + r);
}
FAM_MATVEC(mv_q4_1, FAM_Q4_1)
FAM_MATVEC(mv_q5_1, FAM_Q5_1)

/* ---- K-quants: 64 elements per 512-bit step, 4 rows per activation ----
 * Products go through VPMADDUBSW (unsigned q <= 63 times signed x, int16
 * pair sums <= 2*63*127, no saturation) and VPMADDWD with the sub-block
 * scales (int16), so the int32 lanes hold sum_j sc_j * dot_j exactly. */

enum { KQ4, KQ5, KQ6 };

/* int16 lanes 0-15 = s[a], 16-31 = s[b] */
static inline __m512i idx_pair(int a, int b) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_set1_epi16((short)a)), _mm256_set1_epi16((short)b), 1);
}
/* int16 lane k = s[base + k/8] */
static inline __m512i idx_quad(int base) {
    return _mm512_set_epi64(0x0003000300030003LL + base * 0x0001000100010001LL, 0x0003000300030003LL + base * 0x0001000100010001LL,
                            0x0002000200020002LL + base * 0x0001000100010001LL, 0x0002000200020002LL + base * 0x0001000100010001LL,
                            0x0001000100010001LL + base * 0x0001000100010001LL, 0x0001000100010001LL + base * 0x0001000100010001LL,
                            base * 0x0001000100010001LL, base * 0x0001000100010001LL);
}

AI void rows_k(int kind, int nr, const uint8_t *W, size_t stride, const blk_q8_K *x, int nb, float *y) {
    const size_t bsz = kind == KQ4 ? sizeof(blk_q4_K) : kind == KQ5 ? sizeof(blk_q5_K) : sizeof(blk_q6_K);
    const __m512i m4 = _mm512_set1_epi8(15), one = _mm512_set1_epi8(1), m2 = _mm512_set1_epi8(3);
    __m512 acc[4];
    __m256 mins[4];
    for (int r = 0; r < 4; r++) {
        acc[r] = _mm512_setzero_ps();
        mins[r] = _mm256_setzero_ps();
    }
    for (int i = 0; i < nb; i++) {
        const blk_q8_K *xb = &x[i];
        __m512i yv[4], y32[4];
        for (int c = 0; c < 4; c++) yv[c] = _mm512_loadu_si512((const void *)(xb->qs + 64 * c));
        if (kind == KQ6)
            for (int c = 0; c < 4; c++) y32[c] = _mm512_maddubs_epi16(_mm512_set1_epi8(32), yv[c]);
        __m256i bs = _mm256_loadu_si256((const __m256i *)xb->bsums);
        for (int r = 0; r < nr; r++) {
            const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz;
            if (nr == 4)
                for (size_t o = 0; o < bsz; o += 64) _mm_prefetch((const char *)(wb + KN_PF_ROWS * stride + o), _MM_HINT_T0);
            __m512i isum = _mm512_setzero_si512();
            float d;
            if (kind == KQ6) {
                const blk_q6_K *w = (const blk_q6_K *)wb;
                d = h2f(w->d);
                __m512i sc = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales)));
                for (int h = 0; h < 2; h++) {
                    __m512i l = _mm512_loadu_si512((const void *)(w->ql + 64 * h));
                    __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w->qh + 32 * h)));
                    __m512i q01 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_slli_epi16(_mm512_and_si512(
                        _mm512_srlv_epi16(hb, idx_pair(0, 2)), m2), 4));
                    __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_slli_epi16(
                        _mm512_and_si512(_mm512_srlv_epi16(hb, idx_pair(4, 6)), m2), 4));
                    __m512i p01 = _mm512_sub_epi16(_mm512_maddubs_epi16(q01, yv[2 * h]), y32[2 * h]);
                    __m512i p23 = _mm512_sub_epi16(_mm512_maddubs_epi16(q23, yv[2 * h + 1]), y32[2 * h + 1]);
                    isum = _mm512_add_epi32(isum, _mm512_madd_epi16(p01, _mm512_permutexvar_epi16(idx_quad(8 * h), sc)));
                    isum = _mm512_add_epi32(isum, _mm512_madd_epi16(p23, _mm512_permutexvar_epi16(idx_quad(8 * h + 4), sc)));
                }
            } else {
                const blk_q4_K *w4 = (const blk_q4_K *)wb;   /* Q5_K shares the first 16 bytes */
                const uint8_t *qs = kind == KQ4 ? w4->qs : ((const blk_q5_K *)wb)->qs;
                d = h2f(w4->d);
                uint64_t sc64, mn64;
                k4_unpack(w4->scales, &sc64, &mn64);
                __m512i sc = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc64)));
                __m128i mv = _mm_cvtsi64_si128((long long)mn64);
                __m256i mdup = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));
                __m256i mi = _mm256_madd_epi16(bs, mdup);
                mins[r] = _mm256_fmadd_ps(_mm256_set1_ps(h2f(w4->dmin) * xb->d), _mm256_cvtepi32_ps(mi), mins[r]);
                __m512i hb = _mm512_setzero_si512();
                if (kind == KQ5) hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)((const blk_q5_K *)wb)->qh));
                for (int c = 0; c < 4; c++) {
                    __m256i b = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                    __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(b), _mm256_srli_epi16(b, 4), 1);
                    q = _mm512_and_si512(q, m4);
                    if (kind == KQ5)
                        q = _mm512_or_si512(q, _mm512_slli_epi16(_mm512_and_si512(
                            _mm512_srlv_epi16(hb, idx_pair(2 * c, 2 * c + 1)), one), 4));
                    __m512i p = _mm512_maddubs_epi16(q, yv[c]);
                    isum = _mm512_add_epi32(isum, _mm512_madd_epi16(p, _mm512_permutexvar_epi16(idx_pair(2 * c, 2 * c + 1), sc)));
                }
            }
            acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(d * xb->d), _mm512_cvtepi32_ps(isum), acc[r]);
        }
    }
    for (int r = 0; r < nr; r++) y[r] = _mm512_reduce_add_ps(acc[r]) - hsum256(mins[r]);
}

#define K_MATVEC(name, kind)                                                                   \
    static void name(const uint8_t *W, size_t stride, const void *xq, float *y, int nrows, int nb) { \
        int r = 0;                                                                             \
        for (; r + 4 <= nrows; r += 4) rows_k(kind, 4, W + (size_t)r * stride, stride, xq, nb, y + r); \
        for (; r < nrows; r++) rows_k(kind, 1, W + (size_t)r * stride, stride, xq, nb, y + r); \
    }
K_MATVEC(mv_q4_K, KQ4)
K_MATVEC(mv_q5_K, KQ5)
K_MATVEC(mv_q6_K, KQ6)

/* K-quant matmul: a 4-row x 2-activation tile; each decoded 64-element
 * step of weights feeds both activations. Every product keeps rows_k's
 * arithmetic lane for lane (Q6_K's "- 32" per int16 pair, the mins in
 * their own accumulator), so a column equals the matvec bit for bit and a
 * token's logits do not depend on its batch. */
AI void mmk_tile(int kind, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs,
                 float *Y, size_t ys, int nb) {
    const size_t bsz = kind == KQ4 ? sizeof(blk_q4_K) : kind == KQ5 ? sizeof(blk_q5_K) : sizeof(blk_q6_K);
    const __m512i m4 = _mm512_set1_epi8(15), one = _mm512_set1_epi8(1), m2 = _mm512_set1_epi8(3);
    __m512 acc[4][2];
    __m256 mins[4][2];
    for (int r = 0; r < 4; r++) {
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
        mins[r][0] = mins[r][1] = _mm256_setzero_ps();
    }
    for (int i = 0; i < nb; i++) {
        const blk_q8_K *xa[2] = {(const blk_q8_K *)X + i, (const blk_q8_K *)(X + xs) + i};
        __m512i yv[2][4], y32[2][4];
        __m256i bs[2];
        for (int a = 0; a < 2; a++) {
            for (int c = 0; c < 4; c++) yv[a][c] = _mm512_loadu_si512((const void *)(xa[a]->qs + 64 * c));
            if (kind == KQ6)
                for (int c = 0; c < 4; c++) y32[a][c] = _mm512_maddubs_epi16(_mm512_set1_epi8(32), yv[a][c]);
            bs[a] = _mm256_loadu_si256((const __m256i *)xa[a]->bsums);
        }
        for (int r = 0; r < 4; r++) {
            const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz;
            __m512i isum[2] = {_mm512_setzero_si512(), _mm512_setzero_si512()};
            float d;
            if (kind == KQ6) {
                const blk_q6_K *w = (const blk_q6_K *)wb;
                d = h2f(w->d);
                __m512i sc = _mm512_castsi256_si512(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)w->scales)));
                for (int h = 0; h < 2; h++) {
                    __m512i l = _mm512_loadu_si512((const void *)(w->ql + 64 * h));
                    __m512i hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(w->qh + 32 * h)));
                    __m512i q01 = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_slli_epi16(_mm512_and_si512(
                        _mm512_srlv_epi16(hb, idx_pair(0, 2)), m2), 4));
                    __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4), _mm512_slli_epi16(
                        _mm512_and_si512(_mm512_srlv_epi16(hb, idx_pair(4, 6)), m2), 4));
                    __m512i s01 = _mm512_permutexvar_epi16(idx_quad(8 * h), sc);
                    __m512i s23 = _mm512_permutexvar_epi16(idx_quad(8 * h + 4), sc);
                    for (int a = 0; a < 2; a++) {
                        __m512i p01 = _mm512_sub_epi16(_mm512_maddubs_epi16(q01, yv[a][2 * h]), y32[a][2 * h]);
                        __m512i p23 = _mm512_sub_epi16(_mm512_maddubs_epi16(q23, yv[a][2 * h + 1]), y32[a][2 * h + 1]);
                        isum[a] = _mm512_add_epi32(isum[a], _mm512_madd_epi16(p01, s01));
                        isum[a] = _mm512_add_epi32(isum[a], _mm512_madd_epi16(p23, s23));
                    }
                }
            } else {
                const blk_q4_K *w4 = (const blk_q4_K *)wb;
                const uint8_t *qs = kind == KQ4 ? w4->qs : ((const blk_q5_K *)wb)->qs;
                d = h2f(w4->d);
                uint64_t sc64, mn64;
                k4_unpack(w4->scales, &sc64, &mn64);
                __m512i sc = _mm512_castsi128_si512(_mm_cvtepu8_epi16(_mm_cvtsi64_si128((long long)sc64)));
                __m128i mv = _mm_cvtsi64_si128((long long)mn64);
                __m256i mdup = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(mv, mv));
                const float dmin = h2f(w4->dmin);
                for (int a = 0; a < 2; a++)
                    mins[r][a] = _mm256_fmadd_ps(_mm256_set1_ps(dmin * xa[a]->d),
                                                 _mm256_cvtepi32_ps(_mm256_madd_epi16(bs[a], mdup)), mins[r][a]);
                __m512i hb = _mm512_setzero_si512();
                if (kind == KQ5) hb = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)((const blk_q5_K *)wb)->qh));
                for (int c = 0; c < 4; c++) {
                    __m256i b = _mm256_loadu_si256((const __m256i *)(qs + 32 * c));
                    __m512i q = _mm512_and_si512(_mm512_inserti64x4(_mm512_castsi256_si512(b), _mm256_srli_epi16(b, 4), 1), m4);
                    if (kind == KQ5)
                        q = _mm512_or_si512(q, _mm512_slli_epi16(_mm512_and_si512(
                            _mm512_srlv_epi16(hb, idx_pair(2 * c, 2 * c + 1)), one), 4));
                    __m512i scv = _mm512_permutexvar_epi16(idx_pair(2 * c, 2 * c + 1), sc);
                    for (int a = 0; a < 2; a++)
                        isum[a] = _mm512_add_epi32(isum[a], _mm512_madd_epi16(_mm512_maddubs_epi16(q, yv[a][c]), scv));
                }
            }
            for (int a = 0; a < 2; a++)
                acc[r][a] = _mm512_fmadd_ps(_mm512_set1_ps(d * xa[a]->d), _mm512_cvtepi32_ps(isum[a]), acc[r][a]);
        }
    }
    for (int r = 0; r < 4; r++) {
        Y[r] = _mm512_reduce_add_ps(acc[r][0]) - hsum256(mins[r][0]);
        Y[ys + r] = _mm512_reduce_add_ps(acc[r][1]) - hsum256(mins[r][1]);
    }
}

#define K_MATMUL(name, kind, mv)                                                               \
    static void name(const uint8_t *W, size_t stride, const uint8_t *X, size_t xs, float *Y,   \
                     size_t ys, int nrows, int nb, int ncol) {                                  \
        int r = 0;                                                                             \
        for (; r + 4 <= nrows; r += 4) {                                                       \
            int c = 0;                                                                         \
            for (; c + 2 <= ncol; c += 2)                                                      \
                mmk_tile(kind, W + (size_t)r * stride, stride, X + (size_t)c * xs, xs, Y + (size_t)c * ys + r, ys, nb); \
            for (; c < ncol; c++) mv(W + (size_t)r * stride, stride, X + (size_t)c * xs, Y + (size_t)c * ys + r, 4, nb); \
        }                                                                                      \
        if (r < nrows)                                                                         \
            for (int c = 0; c < ncol; c++)                                                     \
                mv(W + (size_t)r * stride, stride, X + (size_t)c * xs, Y + (size_t)c * ys + r, nrows - r, nb); \
    }
K_MATMUL(mm_q4_K, KQ4, mv_q4_K)
K_MATMUL(mm_q5_K, KQ5, mv_q5_K)
K_MATMUL(mm_q6_K, KQ6, mv_q6_K)

/* ---- F32 / F16 / BF16 rows against F32 activations ---- */

enum { FF32, FF16, FBF16 };

/* 16 weights (or the first `left` of them, the rest zero) as floats */
AI __m512 load_wf(int kind, const void *w, int i, int left) {
    __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
    if (kind == FF32) return _mm512_maskz_loadu_ps(m, (const float *)w + i);
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)w + i);
    if (kind == FF16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

AI void rows_f(int kind, int nr, int nc, const uint8_t *W, size_t stride, const float *X, size_t xs,
               float *Y, size_t ys, int n) {
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        int left = n - i;
        __mmask16 m = left >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << left) - 1);
        __m512 xv[4];
        for (int c = 0; c < nc; c++) xv[c] = _mm512_maskz_loadu_ps(m, X + (size_t)c * xs + i);
        for (int r = 0; r < nr; r++) {
            const uint8_t *wr = W + (size_t)r * stride;
            if (nr == 4 && nc == 1) _mm_prefetch((const char *)(wr + KN_PF_ROWS * stride) + i * (kind == FF32 ? 4 : 2), _MM_HINT_T0);
            __m512 wv = load_wf(kind, wr, i, left);
            for (int c = 0; c < nc; c++) acc[r][c] = _mm512_fmadd_ps(wv, xv[c], acc[r][c]);
        }
    }
    for (int c = 0; c < nc; c++)
        for (int r = 0; r < nr; r++) Y[(size_t)c * ys + r] = _mm512_reduce_add_ps(acc[r][c]);
}

#define F_KERNELS(mvname, mmname, kind)                                                        \
    static void mvname(const uint8_t *W, size_t stride, const float *x, float *y, int nrows, int n) { \
        int r = 0;                                                                             \
        for (; r + 4 <= nrows; r += 4) rows_f(kind, 4, 1, W + (size_t)r * stride, stride, x, 0, y + r, 0, n); \
        for (; r < nrows; r++) rows_f(kind, 1, 1, W + (size_t)r * stride, stride, x, 0, y + r, 0, n); \
    }                                                                                          \
    static void mmname(const uint8_t *W, size_t stride, const float *X, size_t xs, float *Y, size_t ys, \
                       int nrows, int n, int ncol) {                                           \
        int r = 0;                                                                             \
        for (; r + 4 <= nrows; r += 4) {                                                       \
            int c = 0;                                                                         \
            for (; c + 4 <= ncol; c += 4)                                                      \
                rows_f(kind, 4, 4, W + (size_t)r * stride, stride, X + (size_t)c * xs, xs, Y + (size_t)c * ys + r, ys, n); \
            for (; c < ncol; c++)                                                              \
                rows_f(kind, 4, 1, W + (size_t)r * stride, stride, X + (size_t)c * xs, 0, Y + (size_t)c * ys + r, 0, n); \
        }                                                                                      \
        for (; r < nrows; r++)                                                                 \
            for (int c = 0; c < ncol; c++)                                                     \
                rows_f(kind, 1, 1, W + (size_t)r * stride, stride, X + (size_t)c * xs, 0, Y + (size_t)c * ys + r, 0, n); \
    }
F_KERNELS(mv_f32, mm_f32, FF32)
F_KERNELS(mv_f16, mm_f16, FF16)
F_KERNELS(mv_bf16, mm_bf16, FBF16)

static void a512_matvec(uint32_t t, const void *W, size_t stride, const void *xq,
                        float *y, int nrows, int ncols) {
    int nb = ncols / QK;
    switch (t) {
    case KN_Q4_0_R16: case KN_Q8_0_R16: case KN_Q4_1_R16: case KN_Q5_0_R16: case KN_Q5_1_R16:
        kn_avx512_r16(t, W, stride, xq, 0, y, 0, nrows, nb, 1);
        return;
    case KN_Q4_K_R16: case KN_Q5_K_R16: case KN_Q6_K_R16:
        kn_avx512_r16(t, W, stride, xq, 0, y, 0, nrows, ncols / QK_K, 1);
        return;
    case KN_F32_R16: case KN_F16_R16: case KN_BF16_R16: kn_avx512_rf(t, W, stride, xq, 0, y, 0, nrows, ncols, 1); return;
    case KN_BF16_R16B: kn_avx512_bf16(W, stride, xq, 0, y, 0, nrows, ncols, 1); return;
    case GGML_Q4_0: mv_q4_0(W, stride, xq, y, nrows, nb); return;
    case GGML_Q5_0: mv_q5_0(W, stride, xq, y, nrows, nb); return;
    case GGML_Q8_0: mv_q8_0(W, stride, xq, y, nrows, nb); return;
    case GGML_Q4_1: mv_q4_1(W, stride, xq, y, nrows, nb); return;
    case GGML_Q5_1: mv_q5_1(W, stride, xq, y, nrows, nb); return;
    case GGML_Q4_K: mv_q4_K(W, stride, xq, y, nrows, ncols / QK_K); return;
    case GGML_F32: mv_f32(W, stride, xq, y, nrows, ncols); return;
    case GGML_F16: mv_f16(W, stride, xq, y, nrows, ncols); return;
    case GGML_BF16: mv_bf16(W, stride, xq, y, nrows, ncols); return;
    case GGML_Q5_K: mv_q5_K(W, stride, xq, y, nrows, ncols / QK_K); return;
    case GGML_Q6_K: mv_q6_K(W, stride, xq, y, nrows, ncols / QK_K); return;
    default:
        for (int r = 0; r < nrows; r++)
            y[r] = kn_avx2_vec_dot(t, (const uint8_t *)W + (size_t)r * stride, xq, ncols);
    }
}

/* matmul for Q4_0/Q5_0/Q8_0: a 4-row x 4-activation register tile, so each
 * decoded weight pair feeds four VPDPBUSDs (prompt processing is compute-
 * bound, unlike matvec). Per-lane arithmetic is the matvec's. */
AI void mm4x4(int fam, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs,
              float *Y, size_t ys, int nb) {
    static const size_t bsz_of[] = {18, 22, 34, 20, 24};
    static const int shift_of[] = {3, 4, 7, 0, 0};
    const size_t bsz = bsz_of[fam], xsz = sizeof(blk_q8_0);
    const int shift = shift_of[fam];
    const __m512i ones = _mm512_set1_epi8(1), zero = _mm512_setzero_si512();
    const __m512i idx = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    __m512 acc[4][4];
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    int i = 0;
    for (; i + 2 <= nb; i += 2) {
        __m512i yv[4], base[4];
        __m128 dx[4];
        for (int c = 0; c < 4; c++) {
            const uint8_t *x0 = X + (size_t)c * xs + (size_t)i * xsz;
            yv[c] = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(x0 + 2))),
                                       _mm256_loadu_si256((const __m256i *)(x0 + xsz + 2)), 1);
            dx[c] = h2f_pair(x0, xsz);
            base[c] = _mm512_sub_epi32(zero, _mm512_slli_epi32(_mm512_dpbusd_epi32(zero, ones, yv[c]), shift));
        }
        for (int r = 0; r < 4; r++) {
            const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz;
            __m512i q = load_w2(fam, wb, bsz);
            __m128 dw = h2f_pair(wb, bsz);
            for (int c = 0; c < 4; c++) {
                __m512i dp = _mm512_dpbusd_epi32(base[c], q, yv[c]);
                __m512 sc = _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(_mm_mul_ps(dw, dx[c])));
                acc[r][c] = _mm512_fmadd_ps(sc, _mm512_cvtepi32_ps(dp), acc[r][c]);
            }
        }
    }
    for (int c = 0; c < 4; c++)
        for (int r = 0; r < 4; r++) {
            float t = 0.0f;
            if (i < nb) {   /* odd last block */
                const uint8_t *xb = X + (size_t)c * xs + (size_t)i * xsz;
                const uint8_t *wb = W + (size_t)r * stride + (size_t)i * bsz;
                __m256i yv = _mm256_loadu_si256((const __m256i *)(xb + 2));
                __m256i base = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(
                    _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_set1_epi8(1), yv), shift));
                __m256i dp = _mm256_dpbusd_epi32(base, load_w(fam, wb), yv);
                t = hsum256(_mm256_mul_ps(_mm256_set1_ps(h2f(rd16(wb)) * h2f(rd16(xb))), _mm256_cvtepi32_ps(dp)));
            }
            Y[(size_t)c * ys + r] = _mm512_reduce_add_ps(acc[r][c]) + t;
        }
}

#define FAM_MATMUL(name, fam, mv)                                                              \
    static void name(const uint8_t *W, size_t stride, const uint8_t *X, size_t xs, float *Y,   \
                     size_t ys, int nrows, int nb, int ncol) {                                  \
        int r = 0;                                                                             \
        for (; r + 4 <= nrows; r += 4) {                                                       \
            int c = 0;                                                                         \
            for (; c + 4 <= ncol; c += 4)                                                      \
                mm4x4(fam, W + (size_t)r * stride, stride, X + (size_t)c * xs, xs, Y + (size_t)c * ys + r, ys, nb); \
            for (; c < ncol; c++) mv(W + (size_t)r * stride, stride, X + (size_t)c * xs, Y + (size_t)c * ys + r, 4, nb); \
        }                                                                                      \
        if (r < nrows)                                                                         \
            for (int c = 0; c < ncol; c++)                                                     \
                mv(W + (size_t)r * stride, stride, X + (size_t)c * xs, Y + (size_t)c * ys + r, nrows - r, nb); \
    }
FAM_MATMUL(mm_q4_0, FAM_Q4_0, mv_q4_0)
FAM_MATMUL(mm_q5_0, FAM_Q5_0, mv_q5_0)
FAM_MATMUL(mm_q8_0, FAM_Q8_0, mv_q8_0)

static void a512_matmul(uint32_t t, const void *W, size_t stride, const void *xq, size_t xq_stride,
                        float *Y, size_t y_stride, int nrows, int ncols, int nb) {
    switch (t) {
    case KN_Q4_0_R16: case KN_Q8_0_R16: case KN_Q4_1_R16: case KN_Q5_0_R16: case KN_Q5_1_R16:
        kn_avx512_r16(t, W, stride, xq, xq_stride, Y, y_stride, nrows, ncols / QK, nb);
        return;
    case KN_Q4_K_R16: case KN_Q5_K_R16: case KN_Q6_K_R16:
        kn_avx512_r16(t, W, stride, xq, xq_stride, Y, y_stride, nrows, ncols / QK_K, nb);
        return;
    case KN_F32_R16: case KN_F16_R16: case KN_BF16_R16:
        kn_avx512_rf(t, W, stride, xq, xq_stride / 4, Y, y_stride, nrows, ncols, nb);
        return;
    case KN_BF16_R16B: kn_avx512_bf16(W, stride, xq, xq_stride, Y, y_stride, nrows, ncols, nb); return;
    case GGML_Q4_0: mm_q4_0(W, stride, xq, xq_stride, Y, y_stride, nrows, ncols / QK, nb); return;
    case GGML_Q5_0: mm_q5_0(W, stride, xq, xq_stride, Y, y_stride, nrows, ncols / QK, nb); return;
    case GGML_Q8_0: mm_q8_0(W, stride, xq, xq_stride, Y, y_stride, nrows, ncols / QK, nb); return;
    /* xq_stride is in bytes; F32 activation rows must be float-aligned apart */
    case GGML_F32: mm_f32(W, stride, xq, xq_stride / 4, Y, y_stride, nrows, ncols, nb); return;
    case GGML_F16: mm_f16(W, stride, xq, xq_stride / 4, Y, y_stride, nrows, ncols, nb); return;
    case GGML_BF16: mm_bf16(W, stride, xq, xq_stride / 4, Y, y_stride, nrows, ncols, nb); return;
    case GGML_Q4_K: mm_q4_K(W, stride, xq, xq_stride, Y, y_stride, nrows, ncols / QK_K, nb); return;
    case GGML_Q5_K: mm_q5_K(W, stride, xq, xq_stride, Y, y_stride, nrows, ncols / QK_K, nb); return;
    case GGML_Q6_K: mm_q6_K(W, stride, xq, xq_stride, Y, y_stride, nrows, ncols / QK_K, nb); return;
    default: break;
    }
    /* Row tiles reused across all activation rows, as in kn_matmul_tiled. */
    const int tile = 16;
    for (int r0 = 0; r0 < nrows; r0 += tile) {
        int n = nrows - r0 < tile ? nrows - r0 : tile;
        for (int b = 0; b < nb; b++)
            a512_matvec(t, (const uint8_t *)W + (size_t)r0 * stride, stride,
                        (const uint8_t *)xq + (size_t)b * xq_stride, Y + (size_t)b * y_stride + r0, n, ncols);
    }
}

/* Elementwise ops: the AVX2 versions (memory- or latency-bound here). */
/* n floats -> BF16, round to nearest even with quiet NaNs: the scalar
 * kn_f32_to_bf16's integer arithmetic, 16 at a time, so every path agrees
 * bit for bit. */
static void to_bf16(const float *x, uint16_t *dst, int n) {
    int i = 0;
    const __m512i lsb = _mm512_set1_epi32(1), rnd = _mm512_set1_epi32(0x7fff);
    const __m512i absm = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
    const __m512i qbit = _mm512_set1_epi32(0x400000);
    for (; i + 16 <= n; i += 16) {
        __m512i v = _mm512_loadu_si512((const void *)(x + i));
        __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(v, absm), inf);
        __m512i r = _mm512_add_epi32(v, _mm512_add_epi32(rnd, _mm512_and_si512(_mm512_srli_epi32(v, 16), lsb)));
        r = _mm512_mask_or_epi32(r, nan, v, qbit);
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtepi32_epi16(_mm512_srli_epi32(r, 16)));
    }
    for (; i < n; i++) dst[i] = kn_f32_to_bf16(x[i]);
}

static void a512_quantize_act(uint32_t at, const float *x, void *dst, int n) {
    if (at == GGML_BF16) to_bf16(x, dst, n);
    else kn_ops_avx2.quantize_act(at, x, dst, n);
}
static void a512_rmsnorm(float *o, const float *x, const float *w, int n, float eps) { kn_ops_avx2.rmsnorm(o, x, w, n, eps); }
static void a512_silu_mul(float *g, const float *u, int n) { kn_ops_avx2.silu_mul(g, u, n); }
static float a512_dot_f32(const float *a, const float *b, int n) { return kn_ops_avx2.dot_f32(a, b, n); }
static void a512_axpy(float *y, float a, const float *x, int n) { kn_ops_avx2.axpy(y, a, x, n); }

const kn_ops kn_ops_avx512 = {
    .name = "avx512", .isa = KN_AVX512,
    .quantize_act = a512_quantize_act,
    .matvec = a512_matvec,
    .matmul = a512_matmul,
    .rmsnorm = a512_rmsnorm,
    .softmax = kn_avx512_softmax,
    .silu_mul = a512_silu_mul,
    .rope = kn_ref_rope,
    .attention = kn_avx512_attention,
    .dot_f32 = a512_dot_f32,
    .axpy = a512_axpy,
    .packs_r16 = 1,
    .k_blocks = 1,
};
