/* x86_simd.h: AVX2-level helpers shared by the AVX2 and AVX-512 files
 * (included only by files compiled with at least -mavx2 -mfma -mf16c).
 * Everything is static inline so each file gets its own ISA's code. */
#ifndef WASMLET_X86_SIMD_H
#define WASMLET_X86_SIMD_H

#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "kn_internal.h"

static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float hmax256(__m256 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

/* 32 nibbles of 16 bytes in block order: low nibbles are elements 0-15,
 * high nibbles 16-31. */
static inline __m256i nibbles32(const uint8_t *qs) {
    __m128i b = _mm_loadu_si128((const __m128i *)qs);
    __m128i lo = _mm_and_si128(b, _mm_set1_epi8(15));
    __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(15));
    return _mm256_set_m128i(hi, lo);
}

/* 0x10 in byte i where bit i of the 32-bit little-endian qh is set. */
static inline __m256i bit4_from_qh(const uint8_t *qh) {
    uint32_t x;
    memcpy(&x, qh, 4);
    __m256i v = _mm256_set1_epi32((int)x);
    const __m256i spread = _mm256_setr_epi64x(0x0000000000000000LL, 0x0101010101010101LL,
                                              0x0202020202020202LL, 0x0303030303030303LL);
    v = _mm256_shuffle_epi8(v, spread);
    const __m256i bit = _mm256_set1_epi64x((long long)0x8040201008040201ULL);
    v = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x10));
}

/* acc + the sums of four neighbouring u8 x s8 products per int32 lane.
 * With AVX-VNNI (x86_avxvnni.c compiles x86_avx2.c again with -mavxvnni)
 * that is one VPDPBUSD; without it, maddubs + madd + add, which gives the
 * same lanes exactly as long as no int16 pair sum saturates: every caller
 * keeps u * s pairs within 2 * 128 * 127 (unsigned quants <= 63, or |w|
 * against |x| <= 127). So the two tables agree bit for bit. */
static inline __m256i dpbusd256(__m256i acc, __m256i u, __m256i s) {
#ifdef __AVXVNNI__
    return _mm256_dpbusd_avx_epi32(acc, u, s);
#else
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
#endif
}

/* Exact int32 lane sums of signed w * signed x, w may be -128 but |x| <= 127
 * (our activations): |w| * sign-adjusted x fits maddubs without saturating. */
static inline __m256i dot_i8_avx2(__m256i w, __m256i x) {
    return dpbusd256(_mm256_setzero_si256(), _mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
}

/* Unsigned w (<= 63) times signed x, as int32 lanes. */
static inline __m256i dot_u8i8_avx2(__m256i w, __m256i x) {
    return dpbusd256(_mm256_setzero_si256(), w, x);
}

/* exp(x) to ~1 ulp in the normal range (range reduction by ln2 split in two
 * parts and a degree-6 minimax polynomial, the classic Cephes scheme).
 * Inputs are clamped to [-87.34, 88]: the 2^k factor stays a normal float
 * (k in [-126, 127]), so tiny results bottom out near 1e-38 instead of 0
 * and huge ones at e^88 instead of inf; softmax (x <= 0) and silu do not
 * notice either. Written once for any vector width W (256, 512): ROUND
 * is that width's round-to-nearest, the one intrinsic whose name differs.
 * exp256 is defined here; x86_avx512.c defines exp512. */
#define KN_DEFINE_EXP(W, ROUND)                                                                         \
    static inline __m##W exp##W(__m##W x) {                                                             \
        x = _mm##W##_min_ps(x, _mm##W##_set1_ps(88.0f));                                                \
        x = _mm##W##_max_ps(x, _mm##W##_set1_ps(-87.3365447504f));                                      \
        __m##W fx = ROUND(_mm##W##_mul_ps(x, _mm##W##_set1_ps(1.44269504088896341f)));                  \
        x = _mm##W##_fnmadd_ps(fx, _mm##W##_set1_ps(0.693359375f), x);                                  \
        x = _mm##W##_fnmadd_ps(fx, _mm##W##_set1_ps(-2.12194440e-4f), x);                               \
        __m##W y = _mm##W##_set1_ps(1.9875691500e-4f);                                                  \
        y = _mm##W##_fmadd_ps(y, x, _mm##W##_set1_ps(1.3981999507e-3f));                                \
        y = _mm##W##_fmadd_ps(y, x, _mm##W##_set1_ps(8.3334519073e-3f));                                \
        y = _mm##W##_fmadd_ps(y, x, _mm##W##_set1_ps(4.1665795894e-2f));                                \
        y = _mm##W##_fmadd_ps(y, x, _mm##W##_set1_ps(1.6666665459e-1f));                                \
        y = _mm##W##_fmadd_ps(y, x, _mm##W##_set1_ps(5.0000001201e-1f));                                \
        y = _mm##W##_fmadd_ps(y, _mm##W##_mul_ps(x, x), _mm##W##_add_ps(x, _mm##W##_set1_ps(1.0f)));    \
        __m##W##i e = _mm##W##_slli_epi32(                                                              \
            _mm##W##_add_epi32(_mm##W##_cvtps_epi32(fx), _mm##W##_set1_epi32(127)), 23);                \
        return _mm##W##_mul_ps(y, _mm##W##_castsi##W##_ps(e));                                          \
    }
#define KN_ROUND256(v) _mm256_round_ps((v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
KN_DEFINE_EXP(256, KN_ROUND256)

/* n float -> int8 with the reference's clamp and round-to-nearest-even. */
static inline void q8_store32(const float *x, float id, int8_t *out) {
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f), vid = _mm256_set1_ps(id);
    __m256i i[4];
    for (int k = 0; k < 4; k++) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + 8 * k), vid);
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        i[k] = _mm256_cvtps_epi32(v);
    }
    __m256i a = _mm256_packs_epi32(i[0], i[1]), b = _mm256_packs_epi32(i[2], i[3]);
    __m256i c = _mm256_packs_epi16(a, b);
    /* packs work per 128-bit lane: restore element order */
    c = _mm256_permutevar8x32_epi32(c, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256((__m256i *)out, c);
}

static inline float amax32(const float *x, int n) {
    const __m256 mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 m = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + j), mask));
    return hmax256(m);
}

#endif
