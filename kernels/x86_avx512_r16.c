/* x86_avx512_r16.c: matvec and matmul of the packed R16 types (Q4_0 and
 * Q8_0 in groups of 16 rows, see kn_internal.h) with AVX-512 VNNI.
 *
 * The GGUF-layout kernels in x86_avx512.c put 4-element groups of ONE row
 * in the lanes of a VPDPBUSD, so every block needs a horizontal scale step
 * (convert, permute, multiply, FMA) per row and activation: about six
 * instructions per 64 multiply-adds. Packed, lane r of a weight vector
 * holds four bytes of row r; an activation's four bytes are broadcast
 * straight from memory (an embedded-broadcast operand), and eight
 * VPDPBUSDs give the exact int32 block dot products of 16 rows at once.
 * The block's scale then costs three instructions for 16 x 32 products,
 * and the weights of a row range are one contiguous stream.
 *
 * VPDPBUSD multiplies unsigned by signed bytes: the weights are unsigned
 * (Q4_0: the nibble, Q8_0: q + 128, stored so) and each lane starts from
 * -bias * (sum of the activation block's bytes), so the int32 lanes hold
 * exactly dot(q - bias, x). Per row and activation the float arithmetic
 * is acc = fma(isum, dw * dx, acc), block after block from zero: the same
 * in matvec and matmul, for every tile width and thread split. */
#include "x86_simd.h"

enum {
    TILE = 8,              /* activations per register tile */
    ACT_CAP = 16384,       /* prepared (block, activation) sums on the stack */
};

static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Per activation and block: -bias * sum of its bytes, and its scale. */
typedef struct {
    int32_t corr[ACT_CAP];
    float dx[ACT_CAP];
} act_sums;

static void prep_acts(int q8, const uint8_t *X, size_t xs, int ncol, int nb, act_sums *s) {
    const int32_t bias = q8 ? 128 : 8;
    const __m256i ones = _mm256_set1_epi8(1);
    for (int c = 0; c < ncol; c++)
        for (int k = 0; k < nb; k++) {
            const uint8_t *b = X + (size_t)c * xs + (size_t)k * sizeof(blk_q8_0);
            __m256i v = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones,
                                            _mm256_loadu_si256((const __m256i *)(b + 2)));
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
            s->corr[c * nb + k] = -bias * _mm_cvtsi128_si32(h);
            s->dx[c * nb + k] = h2f(rd16(b));
        }
}

static inline __m512i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* One group of 16 rows (G) against nc (1..TILE) activations from c0. */
static inline __attribute__((always_inline)) void
tile(int q8, int nc, const uint8_t *G, int nb, const uint8_t *X, size_t xs, const act_sums *s,
     int c0, float *Y, size_t ys) {
    const size_t bsz = q8 ? sizeof(blk_q8_0_r16) : sizeof(blk_q4_0_r16);
    const __m512i m4 = _mm512_set1_epi8(15);
    __m512 acc[TILE];
    for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_ps();
    for (int k = 0; k < nb; k++) {
        const uint8_t *b = G + (size_t)k * bsz;
        if (nc == 1)   /* generation: the stream is all there is, keep it ahead */
            for (size_t o = 0; o < bsz; o += 64) _mm_prefetch((const char *)(b + 8 * bsz + o), _MM_HINT_T0);
        __m512i w[8];
        if (q8) {
            for (int v = 0; v < 8; v++) w[v] = _mm512_loadu_si512((const void *)(b + 32 + 64 * v));
        } else {
            /* low nibbles: elements 4v.., high: 16+4v.., so w[v] is element 4v.. */
            for (int v = 0; v < 4; v++) {
                __m512i q = _mm512_loadu_si512((const void *)(b + 32 + 64 * v));
                w[v] = _mm512_and_si512(q, m4);
                w[v + 4] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)b));
        for (int c = 0; c < nc; c++) {
            const uint8_t *xq = X + (size_t)(c0 + c) * xs + (size_t)k * sizeof(blk_q8_0) + 2;
            const int si = (c0 + c) * nb + k;
            __m512i is = _mm512_set1_epi32(s->corr[si]);
            for (int v = 0; v < 8; v++) is = _mm512_dpbusd_epi32(is, w[v], bcast4(xq + 4 * v));
            __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(s->dx[si]));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), sc, acc[c]);
        }
    }
    for (int c = 0; c < nc; c++) _mm512_storeu_ps(Y + (size_t)(c0 + c) * ys, acc[c]);
}

static inline __attribute__((always_inline)) void
group_cols(int q8, const uint8_t *G, int nb, const uint8_t *X, size_t xs, const act_sums *s, int ncol,
           float *Y, size_t ys) {
    int c = 0;
    for (; c + TILE <= ncol; c += TILE) tile(q8, TILE, G, nb, X, xs, s, c, Y, ys);
    switch (ncol - c) {   /* constant widths keep the accumulators in registers */
    case 1: tile(q8, 1, G, nb, X, xs, s, c, Y, ys); break;
    case 2: tile(q8, 2, G, nb, X, xs, s, c, Y, ys); break;
    case 3: tile(q8, 3, G, nb, X, xs, s, c, Y, ys); break;
    case 4: tile(q8, 4, G, nb, X, xs, s, c, Y, ys); break;
    case 5: tile(q8, 5, G, nb, X, xs, s, c, Y, ys); break;
    case 6: tile(q8, 6, G, nb, X, xs, s, c, Y, ys); break;
    case 7: tile(q8, 7, G, nb, X, xs, s, c, Y, ys); break;
    default: break;
    }
}

void kn_avx512_r16(uint32_t ptype, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs,
                   float *Y, size_t ys, int nrows, int nb, int ncol) {
    const int q8 = ptype == KN_Q8_0_R16;
    if (nb < 1 || nb > KN_R16_MAX_BLOCKS || ncol < 1) return;
    /* Activations in batches whose sums fit the stack buffer (a multiple
     * of the tile); every row group passes over a batch while it is warm
     * in cache. The weights are read once per batch. */
    int per = ACT_CAP / nb;
    if (per > TILE) per -= per % TILE;
    act_sums s;
    for (int c0 = 0; c0 < ncol; c0 += per) {
        const int nc = ncol - c0 < per ? ncol - c0 : per;
        const uint8_t *Xc = X + (size_t)c0 * xs;
        prep_acts(q8, Xc, xs, nc, nb, &s);
        for (int r = 0; r + 16 <= nrows; r += 16) {
            const uint8_t *G = W + (size_t)r * stride;
            float *Yr = Y + (size_t)c0 * ys + r;
            if (q8) group_cols(1, G, nb, Xc, xs, &s, nc, Yr, ys);
            else group_cols(0, G, nb, Xc, xs, &s, nc, Yr, ys);
        }
    }
}
