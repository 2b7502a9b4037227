/* x86_avx512_r16.c: matvec and matmul of the packed R16 quantized types
 * (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K in groups of 16 rows,
 * see kn_internal.h) with AVX-512 VNNI.
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
 * (Q4_0: the nibble, Q5_0: nibble | fifth bit << 4, Q8_0: q + 128, stored
 * so) and each lane starts from -bias * (sum of the activation block's
 * bytes), so the int32 lanes hold exactly dot(q - bias, x). Q4_1/Q5_1
 * need no bias: their quants are the unsigned values. Per row and
 * activation the float arithmetic is acc = fma(isum, dw * dx, acc) (then
 * acc = fma(m, s_x, acc) for the types with a min), block after block from
 * zero: the same in matvec and matmul, for every tile width and thread
 * split. */
#include "x86_simd.h"

enum {
    TILE = 8,              /* activations per register tile */
    ACT_CAP = 16384,       /* prepared (block, activation) sums on the stack */
    ACT_CAP_K = 4096,      /* the same for Q4_K super-blocks */
    /* Generation prefetches this far ahead in the weight stream (whole
     * blocks). On Zen 5 one core streams ~39 GB/s; 2.3 KB ahead held Q4_0
     * generation at ~93% of that, 4.6 KB reaches it (interleaved A/B,
     * docs/performance.md). The hint is NTA: each weight byte is read
     * once per token, and keeping it out of L2/L3 was worth +9% for Q8_0,
     * +3% for Q4_0 at one thread (F16/BF16 take it too since session 9,
     * x86_avx512_rf.c). */
    PF_AHEAD = 4608,
    /* The K-quants fetch a few lines per step (prefetch_part), this many
     * super-blocks ahead. Q4_K/Q5_K four (9-11 KB): with their GGUF-size
     * blocks two (4.6 KB) held Q4_K at 38-39 GB/s, three gave 41-42, four
     * 45 (bench_kernels), Q4_K_M generation +6.9%, Q5_K +6.5% at one
     * thread (5 alternated rounds each); five and six less again. Q6_K
     * two (6.7 KB; three measured the same). */
    K4_AHEAD = 4,
    K6_AHEAD = 2,
};

/* The 32-element families: quants, then what each block adds. */
enum { R_Q4_0, R_Q8_0, R_Q5_0, R_Q4_1, R_Q5_1 };
static const size_t r_bsz[] = {sizeof(blk_q4_0_r16), sizeof(blk_q8_0_r16), sizeof(blk_q5_0_r16),
                               sizeof(blk_q4_1_r16), sizeof(blk_q5_1_r16)};
static const size_t r_qoff[] = {32, 32, 96, 64, 128};   /* nibble/byte words */
static const size_t r_hoff[] = {0, 0, 32, 0, 64};       /* fifth bits */
static const int32_t r_bias[] = {8, 128, 16, 0, 0};
#define R_HAS_MIN(f) ((f) >= R_Q4_1)
#define R_HAS_QH(f) ((f) == R_Q5_0 || (f) == R_Q5_1)

static inline uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* Per activation and block: -bias * sum of its bytes (Q8_0 activations)
 * or the f16 s = d * sum (Q8_1, for the mins), and its scale. */
typedef struct {
    union {
        int32_t corr[ACT_CAP];
        float sx[ACT_CAP];
    } u;
    float dx[ACT_CAP];
} act_sums;

static void prep_acts(int fam, const uint8_t *X, size_t xs, int ncol, int nb, act_sums *s) {
    const int32_t bias = r_bias[fam];
    const size_t xsz = R_HAS_MIN(fam) ? sizeof(blk_q8_1) : sizeof(blk_q8_0);
    const __m256i ones = _mm256_set1_epi8(1);
    for (int c = 0; c < ncol; c++)
        for (int k = 0; k < nb; k++) {
            const uint8_t *b = X + (size_t)c * xs + (size_t)k * xsz;
            s->dx[c * nb + k] = h2f(rd16(b));
            if (R_HAS_MIN(fam)) {
                s->u.sx[c * nb + k] = h2f(rd16(b + 2));
                continue;
            }
            __m256i v = _mm256_dpbusd_epi32(_mm256_setzero_si256(), ones,
                                            _mm256_loadu_si256((const __m256i *)(b + 2)));
            __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(1, 0, 3, 2)));
            h = _mm_add_epi32(h, _mm_shuffle_epi32(h, _MM_SHUFFLE(2, 3, 0, 1)));
            s->u.corr[c * nb + k] = -bias * _mm_cvtsi128_si32(h);
        }
}

/* Part `part` of `parts` of the cache lines of the `bytes` at p, NTA.
 * The K-quant kernels fetch the super-block K4_AHEAD / K6_AHEAD on (36-53
 * lines) an eighth per sub-block step. Issued in one burst at the block's start,
 * as before, the burst stalled on the fill buffers while the arithmetic
 * that could have hidden it waited behind it. One thread, 2 GB of
 * weights, alternated runs: Q4_K 38.0 -> 39.4 GB/s, Q5_K 37.9 -> 38.9,
 * Q6_K 38.9 -> 40.0; generation, per-round A/B (30 rounds): Q4_K_M
 * +2.2%, Q5_K +3.6%, Q6_K +5.0% at 1 thread, +1.5-2.3% at 2. */
static inline __attribute__((always_inline)) void
prefetch_part(const uint8_t *p, size_t bytes, int part, int parts) {
    const size_t lines = (bytes + 63) / 64, l1 = lines * (size_t)(part + 1) / (size_t)parts;
    for (size_t l = lines * (size_t)part / (size_t)parts; l < l1; l++)
        _mm_prefetch((const char *)p + 64 * l, _MM_HINT_NTA);
}

static inline __m512i bcast4(const uint8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/* Bit `bit` of every byte of h moved to bit 4 (the fifth quant bit). */
static inline __attribute__((always_inline)) __m512i bit_to_4(__m512i h, int bit) {
    return bit <= 4 ? _mm512_slli_epi32(h, 4 - bit) : _mm512_srli_epi32(h, bit - 4);
}

/* One group of 16 rows (G) against nc (1..TILE) activations from c0. */
static inline __attribute__((always_inline)) void
tile(int fam, int nc, const uint8_t *G, int nb, const uint8_t *X, size_t xs, const act_sums *s,
     int c0, float *Y, size_t ys) {
    const size_t bsz = r_bsz[fam], qoff = r_qoff[fam], pf = (PF_AHEAD + bsz - 1) / bsz * bsz;
    const size_t xsz = R_HAS_MIN(fam) ? sizeof(blk_q8_1) : sizeof(blk_q8_0), xqo = R_HAS_MIN(fam) ? 4 : 2;
    const __m512i m4 = _mm512_set1_epi8(15), b4 = _mm512_set1_epi8(16);
    __m512 acc[TILE];
    for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_ps();
    for (int k = 0; k < nb; k++) {
        const uint8_t *b = G + (size_t)k * bsz;
        if (nc == 1)   /* generation: the stream is all there is, keep it PF_AHEAD bytes ahead */
            for (size_t o = 0; o < bsz; o += 64) _mm_prefetch((const char *)(b + pf + o), _MM_HINT_NTA);
        __m512i w[8];
        if (fam == R_Q8_0) {
            for (int v = 0; v < 8; v++) w[v] = _mm512_loadu_si512((const void *)(b + 32 + 64 * v));
        } else {
            /* low nibbles: elements 4v.., high: 16+4v.., so w[v] is element 4v.. */
            for (int v = 0; v < 4; v++) {
                __m512i q = _mm512_loadu_si512((const void *)(b + qoff + 64 * v));
                w[v] = _mm512_and_si512(q, m4);
                w[v + 4] = _mm512_and_si512(_mm512_srli_epi16(q, 4), m4);
            }
            if (R_HAS_QH(fam)) {   /* w |= bit v of each byte of qh, at bit 4 */
                const __m512i h = _mm512_loadu_si512((const void *)(b + r_hoff[fam]));
                for (int v = 0; v < 8; v++) w[v] = _mm512_ternarylogic_epi32(w[v], bit_to_4(h, v), b4, 0xF8);
            }
        }
        const __m512 dw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)b));
        __m512 mw = _mm512_setzero_ps();
        if (R_HAS_MIN(fam)) mw = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(b + 32)));
        for (int c = 0; c < nc; c++) {
            const uint8_t *xq = X + (size_t)(c0 + c) * xs + (size_t)k * xsz + xqo;
            const int si = (c0 + c) * nb + k;
            /* two dependency chains: VPDPBUSD's latency, not its rate, would bound one */
            __m512i is = R_HAS_MIN(fam) ? _mm512_setzero_si512() : _mm512_set1_epi32(s->u.corr[si]);
            __m512i is2 = _mm512_setzero_si512();
            for (int v = 0; v < 8; v += 2) {
                is = _mm512_dpbusd_epi32(is, w[v], bcast4(xq + 4 * v));
                is2 = _mm512_dpbusd_epi32(is2, w[v + 1], bcast4(xq + 4 * v + 4));
            }
            is = _mm512_add_epi32(is, is2);
            __m512 sc = _mm512_mul_ps(dw, _mm512_set1_ps(s->dx[si]));
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(is), sc, acc[c]);
            if (R_HAS_MIN(fam)) acc[c] = _mm512_fmadd_ps(mw, _mm512_set1_ps(s->u.sx[si]), acc[c]);
        }
    }
    for (int c = 0; c < nc; c++) _mm512_storeu_ps(Y + (size_t)(c0 + c) * ys, acc[c]);
}

static inline __attribute__((always_inline)) void
group_cols(int fam, const uint8_t *G, int nb, const uint8_t *X, size_t xs, const act_sums *s, int ncol,
           float *Y, size_t ys) {
    int c = 0;
    for (; c + TILE <= ncol; c += TILE) tile(fam, TILE, G, nb, X, xs, s, c, Y, ys);
    switch (ncol - c) {   /* constant widths keep the accumulators in registers */
    case 1: tile(fam, 1, G, nb, X, xs, s, c, Y, ys); break;
    case 2: tile(fam, 2, G, nb, X, xs, s, c, Y, ys); break;
    case 3: tile(fam, 3, G, nb, X, xs, s, c, Y, ys); break;
    case 4: tile(fam, 4, G, nb, X, xs, s, c, Y, ys); break;
    case 5: tile(fam, 5, G, nb, X, xs, s, c, Y, ys); break;
    case 6: tile(fam, 6, G, nb, X, xs, s, c, Y, ys); break;
    case 7: tile(fam, 7, G, nb, X, xs, s, c, Y, ys); break;
    default: break;
    }
}

/* ---- Q4_K ----------------------------------------------------------------
 * Per super-block, row lane r and activation: sub-block j's exact dot
 * isum_j (eight VPDPBUSDs of unsigned nibbles against the activation
 * bytes), tot = sum_j sc_j * isum_j and mins = sum_j m_j * (sum of the
 * activation's 32 bytes of j) in int32 (VPDPWSSD on int16 pairs), then
 * acc = fma(tot, d*dx, acc); acc = fma(-mins, dmin*dx, acc).
 *
 * The 6-bit scales and mins stay packed as in GGUF: 144 bytes a row, where
 * unpacked bytes and int16 mins took 156 that generation had to stream
 * (Q4_K_M and Q5_K +3% a token at one thread; with the prefetch distance
 * the smaller blocks then wanted, +10%). Generation unpacks them
 * in registers (three loads and a few instructions for 16 rows, one
 * VPSHUFB per sub-block); a prompt unpacks a row group's once per
 * activation batch into k4_sm, which its tiles read as before (unpacked
 * in the tile, the 8-wide tile's registers spilled: prompt -7%). */

/* The VPSHUFB control that takes byte b of each dword, zero-extended
 * (b = 0..3). */
static inline __attribute__((always_inline)) __m512i byte_sel(int b) {
    const __m128i c = _mm_setr_epi8((char)b, -1, -1, -1, (char)(4 + b), -1, -1, -1, (char)(8 + b), -1, -1, -1,
                                    (char)(12 + b), -1, -1, -1);
    return _mm512_broadcast_i32x4(c);
}
/* The VPSHUFB control that takes bytes 2p and 2p+1 of each dword as an
 * int16 pair (p = 0, 1). */
static inline __attribute__((always_inline)) __m512i pair_sel(int p) {
    const int b = 2 * p;
    const __m128i c = _mm_setr_epi8((char)b, -1, (char)(b + 1), -1, (char)(4 + b), -1, (char)(5 + b), -1,
                                    (char)(8 + b), -1, (char)(9 + b), -1, (char)(12 + b), -1, (char)(13 + b), -1);
    return _mm512_broadcast_i32x4(c);
}

/* k4_unpack on 16 rows: lane r of lo / hi = the four 6-bit values 0-3 /
 * 4-7 of row r, a byte each. Scales: a = word 0, c = word 2; mins: a =
 * word 1, c = word 2 >> 4. */
static inline __attribute__((always_inline)) void k4_unpack16(__m512i a, __m512i c, __m512i *lo, __m512i *hi) {
    *lo = _mm512_and_si512(a, _mm512_set1_epi8(0x3f));
    *hi = _mm512_ternarylogic_epi32(_mm512_srli_epi32(a, 2), _mm512_set1_epi8(0x30),
                                    _mm512_and_si512(c, _mm512_set1_epi8(15)), 0xEA);   /* (a & b) | c */
}

/* One super-block's 16 rows of scales and mins, unpacked for a prompt. */
typedef struct {
    uint8_t sc[8][16];       /* sc[j][r]: sub-block j's scale of row r */
    int16_t m[4][16][2];     /* m[i][r]: the mins of sub-blocks 2i, 2i+1 of row r */
} k4_sm;
enum { K4_PRE = 64 };        /* super-blocks unpacked at a time (24 KB) */

static void unpack_sm(const uint8_t *G, size_t bsz, int n, k4_sm *o) {
    for (int k = 0; k < n; k++) {
        const blk_q4_K_r16 *b = (const blk_q4_K_r16 *)(G + (size_t)k * bsz);
        const __m512i s2 = _mm512_loadu_si512((const void *)b->s[2]);
        __m512i sc_lo, sc_hi, mn_lo, mn_hi;
        k4_unpack16(_mm512_loadu_si512((const void *)b->s[0]), s2, &sc_lo, &sc_hi);
        k4_unpack16(_mm512_loadu_si512((const void *)b->s[1]), _mm512_srli_epi32(s2, 4), &mn_lo, &mn_hi);
        for (int j = 0; j < 8; j++)
            _mm_storeu_si128((__m128i *)o[k].sc[j],
                             _mm512_cvtepi32_epi8(_mm512_shuffle_epi8(j < 4 ? sc_lo : sc_hi, byte_sel(j % 4))));
        for (int i = 0; i < 4; i++)
            _mm512_storeu_si512((void *)o[k].m[i], _mm512_shuffle_epi8(i < 2 ? mn_lo : mn_hi, pair_sel(i % 2)));
    }
}

typedef struct {
    uint32_t bs2[ACT_CAP_K][4];   /* int16 pairs: sums of sub-blocks (2i, 2i+1) */
} act_sums_k;

static void prep_acts_k(const uint8_t *X, size_t xs, int ncol, int nb, act_sums_k *s) {
    for (int c = 0; c < ncol; c++)
        for (int k = 0; k < nb; k++) {
            const blk_q8_K *b = (const blk_q8_K *)(X + (size_t)c * xs) + k;
            for (int i = 0; i < 4; i++) {
                int16_t lo = (int16_t)(b->bsums[4 * i] + b->bsums[4 * i + 1]);
                int16_t hi = (int16_t)(b->bsums[4 * i + 2] + b->bsums[4 * i + 3]);
                s->bs2[c * nb + k][i] = (uint16_t)lo | (uint32_t)(uint16_t)hi << 16;
            }
        }
}

/* Super-blocks [k0, k1) of one row group against nc activations from c0,
 * continuing the sums in Y when k0 > 0 (stored and reloaded floats: the
 * same bits as one pass). pre: k0..k1's scales unpacked (prompt), or NULL:
 * unpack here (generation). */
static inline __attribute__((always_inline)) void
tile_k(int q5, int nc, const uint8_t *G, int nb, int k0, int k1, const k4_sm *pre, const uint8_t *X, size_t xs,
       const act_sums_k *s, int c0, float *Y, size_t ys) {
    const size_t bsz = q5 ? sizeof(blk_q5_K_r16) : sizeof(blk_q4_K_r16);
    const __m512i m4 = _mm512_set1_epi8(15), b4 = _mm512_set1_epi8(16);
    /* built once: the j loop below is not unrolled, and a control made
     * inside it cost ~20 instructions per sub-block */
    const __m512i sel[4] = {byte_sel(0), byte_sel(1), byte_sel(2), byte_sel(3)}, psel[2] = {pair_sel(0), pair_sel(1)};
    __m512 acc[TILE];
    for (int c = 0; c < nc; c++) acc[c] = k0 ? _mm512_loadu_ps(Y + (size_t)(c0 + c) * ys) : _mm512_setzero_ps();
    for (int k = k0; k < k1; k++) {
        const blk_q4_K_r16 *b = (const blk_q4_K_r16 *)(G + (size_t)k * bsz);
        const uint32_t (*qh)[16] = ((const blk_q5_K_r16 *)b)->qh;   /* read only when q5 */
        const blk_q8_K *xb[TILE];
        __m512i tot[TILE];
        for (int c = 0; c < nc; c++) {
            xb[c] = (const blk_q8_K *)(X + (size_t)(c0 + c) * xs) + k;
            tot[c] = _mm512_setzero_si512();
        }
        __m512i sc_lo = _mm512_setzero_si512(), sc_hi = sc_lo;
        if (!pre)
            k4_unpack16(_mm512_loadu_si512((const void *)b->s[0]), _mm512_loadu_si512((const void *)b->s[2]),
                        &sc_lo, &sc_hi);
        for (int j = 0; j < 8; j++) {
            const int ch = j / 2, sh = 4 * (j % 2);
            if (nc == 1) prefetch_part((const uint8_t *)b + K4_AHEAD * bsz, bsz, j, 8);
            __m512i w[8];
            for (int v = 0; v < 8; v++)
                w[v] = _mm512_and_si512(_mm512_srli_epi16(_mm512_loadu_si512((const void *)b->q[ch][v]), sh), m4);
            if (q5)   /* sub-block j's fifth bit is bit j of each qh byte */
                for (int v = 0; v < 8; v++)
                    w[v] = _mm512_ternarylogic_epi32(w[v], bit_to_4(_mm512_loadu_si512((const void *)qh[v]), j),
                                                     b4, 0xF8);
            const __m512i sc = pre ? _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)pre[k - k0].sc[j]))
                                   : _mm512_shuffle_epi8(j < 4 ? sc_lo : sc_hi, sel[j % 4]);
            for (int c = 0; c < nc; c++) {
                const uint8_t *xq = (const uint8_t *)xb[c]->qs + 64 * ch + 8 * sh;
                __m512i is = _mm512_setzero_si512(), is2 = _mm512_setzero_si512();
                for (int v = 0; v < 8; v += 2) {
                    is = _mm512_dpbusd_epi32(is, w[v], bcast4(xq + 4 * v));
                    is2 = _mm512_dpbusd_epi32(is2, w[v + 1], bcast4(xq + 4 * v + 4));
                }
                tot[c] = _mm512_add_epi32(tot[c], _mm512_mullo_epi32(_mm512_add_epi32(is, is2), sc));
            }
        }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)b->d));
        const __m512 dmin = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)b->dmin));
        __m512i mn_lo = _mm512_setzero_si512(), mn_hi = mn_lo;
        if (!pre)
            k4_unpack16(_mm512_loadu_si512((const void *)b->s[1]),
                        _mm512_srli_epi32(_mm512_loadu_si512((const void *)b->s[2]), 4), &mn_lo, &mn_hi);
        for (int c = 0; c < nc; c++) {
            const uint32_t *bs = s->bs2[(c0 + c) * nb + k];
            __m512i mi = _mm512_setzero_si512();
            for (int i = 0; i < 4; i++)
                mi = _mm512_dpwssd_epi32(mi, pre ? _mm512_loadu_si512((const void *)pre[k - k0].m[i])
                                                 : _mm512_shuffle_epi8(i < 2 ? mn_lo : mn_hi, psel[i % 2]),
                                         _mm512_set1_epi32((int)bs[i]));
            const __m512 dx = _mm512_set1_ps(xb[c]->d);
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tot[c]), _mm512_mul_ps(d, dx), acc[c]);
            acc[c] = _mm512_fnmadd_ps(_mm512_cvtepi32_ps(mi), _mm512_mul_ps(dmin, dx), acc[c]);
        }
    }
    for (int c = 0; c < nc; c++) _mm512_storeu_ps(Y + (size_t)(c0 + c) * ys, acc[c]);
}

static inline __attribute__((always_inline)) void
r16_q4_K(int q5, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs, float *Y, size_t ys,
         int nrows, int nb, int ncol) {
    const size_t bsz = q5 ? sizeof(blk_q5_K_r16) : sizeof(blk_q4_K_r16);
    int per = ACT_CAP_K / nb;
    if (per > TILE) per -= per % TILE;
    act_sums_k s;
    if (ncol == 1) {   /* generation */
        prep_acts_k(X, xs, 1, nb, &s);
        for (int r = 0; r + 16 <= nrows; r += 16) tile_k(q5, 1, W + (size_t)r * stride, nb, 0, nb, NULL, X, xs, &s, 0, Y + r, ys);
        return;
    }
    k4_sm pre[K4_PRE];
    for (int c0 = 0; c0 < ncol; c0 += per) {
        const int nc = ncol - c0 < per ? ncol - c0 : per;
        const uint8_t *Xc = X + (size_t)c0 * xs;
        prep_acts_k(Xc, xs, nc, nb, &s);
        for (int r = 0; r + 16 <= nrows; r += 16) {
            const uint8_t *G = W + (size_t)r * stride;
            float *Yr = Y + (size_t)c0 * ys + r;
            for (int k0 = 0; k0 < nb; k0 += K4_PRE) {
                const int k1 = nb - k0 < K4_PRE ? nb : k0 + K4_PRE;
                unpack_sm(G + (size_t)k0 * bsz, bsz, k1 - k0, pre);
                int c = 0;
                for (; c + TILE <= nc; c += TILE) tile_k(q5, TILE, G, nb, k0, k1, pre, Xc, xs, &s, c, Yr, ys);
                switch (nc - c) {
                case 1: tile_k(q5, 1, G, nb, k0, k1, pre, Xc, xs, &s, c, Yr, ys); break;
                case 2: tile_k(q5, 2, G, nb, k0, k1, pre, Xc, xs, &s, c, Yr, ys); break;
                case 3: tile_k(q5, 3, G, nb, k0, k1, pre, Xc, xs, &s, c, Yr, ys); break;
                case 4: tile_k(q5, 4, G, nb, k0, k1, pre, Xc, xs, &s, c, Yr, ys); break;
                case 5: tile_k(q5, 5, G, nb, k0, k1, pre, Xc, xs, &s, c, Yr, ys); break;
                case 6: tile_k(q5, 6, G, nb, k0, k1, pre, Xc, xs, &s, c, Yr, ys); break;
                case 7: tile_k(q5, 7, G, nb, k0, k1, pre, Xc, xs, &s, c, Yr, ys); break;
                default: break;
                }
            }
        }
    }
}

/* ---- Q6_K ----------------------------------------------------------------
 * Sub-blocks of 16: tot = sum_j sc_j * isum_j (quants 0..63 unsigned)
 * minus 32 * sum_j sc_j * bsums_j (VPDPWSSD with the activation's own
 * int16 bsums, no preparation), all exact in int32; then
 * acc = fma(tot, d*dx, acc). */
static inline __attribute__((always_inline)) void
tile_6(int nc, const uint8_t *G, int nb, const uint8_t *X, size_t xs, int c0, float *Y, size_t ys) {
    const __m512i m4 = _mm512_set1_epi8(15), m30 = _mm512_set1_epi8(0x30);
    const __m512i inter = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                           23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    __m512 acc[TILE];
    for (int c = 0; c < nc; c++) acc[c] = _mm512_setzero_ps();
    for (int k = 0; k < nb; k++) {
        const blk_q6_K_r16 *b = (const blk_q6_K_r16 *)(G + (size_t)k * sizeof(blk_q6_K_r16));
        const blk_q8_K *xb[TILE];
        __m512i tot[TILE];
        for (int c = 0; c < nc; c++) {
            xb[c] = (const blk_q8_K *)(X + (size_t)(c0 + c) * xs) + k;
            tot[c] = _mm512_setzero_si512();
        }
        /* the "- 32" part: lanes = rows, pairs of sub-blocks (2i, 2i+1) */
        for (int i = 0; i < 8; i++) {
            __m512i scp = _mm512_permutexvar_epi16(inter, _mm512_cvtepi8_epi16(
                _mm256_loadu_si256((const __m256i *)b->sc[2 * i])));
            for (int c = 0; c < nc; c++) {
                int32_t bs;
                memcpy(&bs, &xb[c]->bsums[2 * i], 4);
                tot[c] = _mm512_dpwssd_epi32(tot[c], scp, _mm512_set1_epi32(bs));
            }
        }
        for (int c = 0; c < nc; c++) tot[c] = _mm512_mullo_epi32(tot[c], _mm512_set1_epi32(-32));
        for (int h = 0; h < 2; h++)
            for (int g = 0; g < 4; g++) {
                if (nc == 1) prefetch_part((const uint8_t *)(b + K6_AHEAD), sizeof *b, 4 * h + g, 8);
                /* w = low 4 bits from ql (its nibble shifted down) | the
                 * 2 qh bits moved to bits 4-5: one shift each, one AND,
                 * and a ternary select (ql & 0x0F) | hi. */
                __m512i w[8];
                for (int v = 0; v < 8; v++) {
                    __m512i lo = _mm512_srli_epi16(_mm512_loadu_si512((const void *)b->ql[h][g & 1][v]), 4 * (g >> 1));
                    __m512i hi = _mm512_loadu_si512((const void *)b->qh[h][v]);
                    hi = g == 3 ? _mm512_srli_epi16(hi, 2) : _mm512_slli_epi16(hi, 4 - 2 * g);
                    w[v] = _mm512_ternarylogic_epi32(lo, _mm512_and_si512(hi, m30), m4, 0xEC);
                }
                const int j = 8 * h + 2 * g;
                const __m512i sa = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b->sc[j]));
                const __m512i sb = _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)b->sc[j + 1]));
                for (int c = 0; c < nc; c++) {
                    const uint8_t *xq = (const uint8_t *)xb[c]->qs + 128 * h + 32 * g;
                    __m512i ia = _mm512_setzero_si512(), ib = _mm512_setzero_si512();
                    for (int v = 0; v < 4; v++) {
                        ia = _mm512_dpbusd_epi32(ia, w[v], bcast4(xq + 4 * v));
                        ib = _mm512_dpbusd_epi32(ib, w[v + 4], bcast4(xq + 16 + 4 * v));
                    }
                    tot[c] = _mm512_add_epi32(tot[c], _mm512_add_epi32(_mm512_mullo_epi32(ia, sa),
                                                                      _mm512_mullo_epi32(ib, sb)));
                }
            }
        const __m512 d = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)b->d));
        for (int c = 0; c < nc; c++)
            acc[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(tot[c]), _mm512_mul_ps(d, _mm512_set1_ps(xb[c]->d)), acc[c]);
    }
    for (int c = 0; c < nc; c++) _mm512_storeu_ps(Y + (size_t)(c0 + c) * ys, acc[c]);
}

static void r16_q6_K(const uint8_t *W, size_t stride, const uint8_t *X, size_t xs, float *Y, size_t ys,
                     int nrows, int nb, int ncol) {
    /* Activations in batches of 64 so a batch stays in cache while every
     * row group passes over it. */
    for (int c0 = 0; c0 < ncol; c0 += 64) {
        const int nc = ncol - c0 < 64 ? ncol - c0 : 64;
        const uint8_t *Xc = X + (size_t)c0 * xs;
        for (int r = 0; r + 16 <= nrows; r += 16) {
            const uint8_t *G = W + (size_t)r * stride;
            float *Yr = Y + (size_t)c0 * ys + r;
            int c = 0;
            for (; c + TILE <= nc; c += TILE) tile_6(TILE, G, nb, Xc, xs, c, Yr, ys);
            switch (nc - c) {
            case 1: tile_6(1, G, nb, Xc, xs, c, Yr, ys); break;
            case 2: tile_6(2, G, nb, Xc, xs, c, Yr, ys); break;
            case 3: tile_6(3, G, nb, Xc, xs, c, Yr, ys); break;
            case 4: tile_6(4, G, nb, Xc, xs, c, Yr, ys); break;
            case 5: tile_6(5, G, nb, Xc, xs, c, Yr, ys); break;
            case 6: tile_6(6, G, nb, Xc, xs, c, Yr, ys); break;
            case 7: tile_6(7, G, nb, Xc, xs, c, Yr, ys); break;
            default: break;
            }
        }
    }
}

void kn_avx512_r16(uint32_t ptype, const uint8_t *W, size_t stride, const uint8_t *X, size_t xs,
                   float *Y, size_t ys, int nrows, int nb, int ncol) {
    if (nb < 1 || nb > KN_R16_MAX_BLOCKS || ncol < 1) return;
    /* A generation call starts its stream cold: the per-block prefetches
     * run `ahead` bytes ahead, so the first `ahead` bytes would be demand
     * misses one after another. Ask for them all at once. */
    if (ncol == 1) {
        const size_t ahead = ptype == KN_Q4_K_R16   ? K4_AHEAD * sizeof(blk_q4_K_r16)
                             : ptype == KN_Q5_K_R16 ? K4_AHEAD * sizeof(blk_q5_K_r16)
                             : ptype == KN_Q6_K_R16 ? K6_AHEAD * sizeof(blk_q6_K_r16)
                                                    : PF_AHEAD;
        const size_t total = (size_t)(nrows / 16) * 16 * stride, head = total < ahead ? total : ahead;
        for (size_t o = 0; o < head; o += 64) _mm_prefetch((const char *)W + o, _MM_HINT_NTA);
    }
    if (ptype == KN_Q4_K_R16) {
        r16_q4_K(0, W, stride, X, xs, Y, ys, nrows, nb, ncol);
        return;
    }
    if (ptype == KN_Q5_K_R16) {
        r16_q4_K(1, W, stride, X, xs, Y, ys, nrows, nb, ncol);
        return;
    }
    const int fam = ptype == KN_Q8_0_R16 ? R_Q8_0 : ptype == KN_Q5_0_R16 ? R_Q5_0 : ptype == KN_Q4_1_R16 ? R_Q4_1
                  : ptype == KN_Q5_1_R16 ? R_Q5_1 : R_Q4_0;
    if (ptype == KN_Q6_K_R16) {
        r16_q6_K(W, stride, X, xs, Y, ys, nrows, nb, ncol);
        return;
    }
    /* Activations in batches whose sums fit the stack buffer (a multiple
     * of the tile); every row group passes over a batch while it is warm
     * in cache. The weights are read once per batch. */
    int per = ACT_CAP / nb;
    if (per > TILE) per -= per % TILE;
    act_sums s;
    for (int c0 = 0; c0 < ncol; c0 += per) {
        const int nc = ncol - c0 < per ? ncol - c0 : per;
        const uint8_t *Xc = X + (size_t)c0 * xs;
        prep_acts(fam, Xc, xs, nc, nb, &s);
        for (int r = 0; r + 16 <= nrows; r += 16) {
            const uint8_t *G = W + (size_t)r * stride;
            float *Yr = Y + (size_t)c0 * ys + r;
            switch (fam) {   /* one instantiation per family */
            case R_Q8_0: group_cols(R_Q8_0, G, nb, Xc, xs, &s, nc, Yr, ys); break;
            case R_Q5_0: group_cols(R_Q5_0, G, nb, Xc, xs, &s, nc, Yr, ys); break;
            case R_Q4_1: group_cols(R_Q4_1, G, nb, Xc, xs, &s, nc, Yr, ys); break;
            case R_Q5_1: group_cols(R_Q5_1, G, nb, Xc, xs, &s, nc, Yr, ys); break;
            default: group_cols(R_Q4_0, G, nb, Xc, xs, &s, nc, Yr, ys); break;
            }
        }
    }
}
