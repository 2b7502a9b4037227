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
 * Arithmetic, per row and activation: two accumulators, column j added
 * to accumulator j % 2 by FMA in column order from zero, result a0 + a1.
 * It is the same in matvec and matmul for every tile width and thread
 * split, so prompt and generation agree bit for bit. A register tile is
 * 16 rows x 8 activations (16 accumulators): each weight load (and F16
 * conversion) feeds eight FMAs; with 4 activations F32 prompt processing
 * was bound by streaming the weights from L2 (40 vs 70 GMAC/s for F16). */
#include "x86_simd.h"

#define AI static inline __attribute__((always_inline))

enum {
    FT = 8,                      /* activations per register tile */
    ACT_BUDGET = 768 * 1024,     /* bytes of activations kept warm per pass over the rows */
    CHUNK_MAX = 256,             /* activations per chunk (partial sums: 32 KB on the stack) */
    PF_FLOAT = 4096,             /* bytes a float stream is prefetched ahead */
    /* F16/BF16 generation's single NTA stream: 8 KB, against 4 KB F16
     * +5% and BF16 +2% at one thread (medians of 9 and 6 alternated
     * rounds; 12 KB fell back; three later F16 pairs +0 to +6.5%). */
    PF_HALF_GEN = 8192,
};

/* Columns j and j+1 of a group as floats. */
AI void cols2(int kind, const uint8_t *G, int j, __m512 w[2]) {
    if (kind == GGML_F32) {
        for (int i = 0; i < 2; i++) w[i] = _mm512_loadu_ps((const float *)G + 16 * (size_t)(j + i));
    } else if (kind == GGML_F16) {
        for (int i = 0; i < 2; i++)
            w[i] = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(G + 32 * (size_t)(j + i))));
    } else {   /* BF16 pairs: word (k, r) = columns 2k (low half) and 2k+1 (high) */
        __m512i v = _mm512_loadu_si512((const void *)(G + 32 * (size_t)j));
        w[0] = _mm512_castsi512_ps(_mm512_slli_epi32(v, 16));
        w[1] = _mm512_castsi512_ps(_mm512_and_si512(v, _mm512_set1_epi32((int)0xffff0000u)));
    }
}

/* One group of 16 rows against nc (1..FT) activations, columns j0..j1.
 * Partial sums live in P (two per activation) between column blocks;
 * storing and reloading a float is exact, so blocking changes nothing. */
AI void ftile(int kind, int nc, const uint8_t *G, int j0, int j1, int first, int last, const float *X, size_t xs,
              float *Y, size_t ys, float *P) {
    const size_t es = kind == GGML_F32 ? 4 : 2;
    __m512 a0[FT], a1[FT];
    for (int c = 0; c < nc; c++) {
        a0[c] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(P + 32 * c);
        a1[c] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(P + 32 * c + 16);
    }
    const int half_gen = kind != GGML_F32 && !P;   /* F16/BF16 generation: see fgroups */
    const size_t ahead = half_gen ? PF_HALF_GEN : PF_FLOAT;
    for (int j = j0; j < j1; j += 2) {
        if (nc == 1) {   /* the stream is all there is (generation, or a prompt's last tile): keep it ahead */
            const char *pf = (const char *)(G + 16 * es * (size_t)j + ahead);
            for (size_t o = 0; o < 32 * es; o += 64) {
                if (half_gen) _mm_prefetch(pf + o, _MM_HINT_NTA);
                else _mm_prefetch(pf + o, _MM_HINT_T0);
            }
        }
        __m512 w[2];
        cols2(kind, G, j, w);
        for (int c = 0; c < nc; c++) {
            const float *x = X + (size_t)c * xs + j;
            a0[c] = _mm512_fmadd_ps(w[0], _mm512_set1_ps(x[0]), a0[c]);
            a1[c] = _mm512_fmadd_ps(w[1], _mm512_set1_ps(x[1]), a1[c]);
        }
    }
    for (int c = 0; c < nc; c++) {
        if (last) {
            _mm512_storeu_ps(Y + (size_t)c * ys, _mm512_add_ps(a0[c], a1[c]));
        } else {
            _mm512_storeu_ps(P + 32 * c, a0[c]);
            _mm512_storeu_ps(P + 32 * c + 16, a1[c]);
        }
    }
}

/* F32 generation: two row groups at once, the same per-lane arithmetic
 * as ftile with one activation, but four independent FMA chains instead
 * of two. Each stream is prefetched 4 KB ahead. F16 and BF16 use ftile
 * (see fgroups). */
AI void fvec2(int kind, const uint8_t *GA, const uint8_t *GB, int n, const float *x, float *y) {
    const size_t es = kind == GGML_F32 ? 4 : 2;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, b0 = a0, b1 = a0;
    for (int j = 0; j < n; j += 2) {
        for (size_t o = 0; o < 32 * es; o += 64) {
            _mm_prefetch((const char *)(GA + 16 * es * (size_t)j + PF_FLOAT + o), _MM_HINT_T0);
            _mm_prefetch((const char *)(GB + 16 * es * (size_t)j + PF_FLOAT + o), _MM_HINT_T0);
        }
        __m512 wa[2], wb[2];
        cols2(kind, GA, j, wa);
        cols2(kind, GB, j, wb);
        const __m512 x0 = _mm512_set1_ps(x[j]), x1 = _mm512_set1_ps(x[j + 1]);
        a0 = _mm512_fmadd_ps(wa[0], x0, a0);
        a1 = _mm512_fmadd_ps(wa[1], x1, a1);
        b0 = _mm512_fmadd_ps(wb[0], x0, b0);
        b1 = _mm512_fmadd_ps(wb[1], x1, b1);
    }
    _mm512_storeu_ps(y, _mm512_add_ps(a0, a1));
    _mm512_storeu_ps(y + 16, _mm512_add_ps(b0, b1));
}

AI void fgroups(int kind, const uint8_t *W, size_t stride, const float *X, size_t xs, float *Y, size_t ys,
                int nrows, int n, int ncol) {
    /* Generation. F16 and BF16 read one row group at a time, a single
     * stream prefetched NTA 8 KB ahead; two groups at once (two streams,
     * prefetched T0) were slower: per-round A/B at 1 thread, BF16 +8.8%,
     * F16 +7.0%, BF16 at 2 threads +7.0% (one group with T0: +6.3%,
     * +5.5%, +6.1%). F32 keeps two groups, because with one group its two
     * FMA chains bind on latency (-4%). */
    if (ncol == 1) {
        int r = 0;
        if (kind == GGML_F32)
            for (; r + 32 <= nrows; r += 32)
                fvec2(kind, W + (size_t)r * stride, W + (size_t)(r + 16) * stride, n, X, Y + r);
        for (; r + 16 <= nrows; r += 16)
            ftile(kind, 1, W + (size_t)r * stride, 0, n, 1, 1, X, xs, Y + r, ys, NULL);
        return;
    }
    /* Activations in chunks that stay in L2 while every row group passes
     * over them (the weights are read once per chunk); within a group,
     * columns in blocks whose weights (16 KB) stay in L1 while every tile
     * of the chunk passes over them. */
    int per = (int)(ACT_BUDGET / ((size_t)n * sizeof(float)));
    per = per < FT ? FT : per > CHUNK_MAX ? CHUNK_MAX : per - per % FT;
    const int kb = kind == GGML_F32 ? 256 : 512;
    float P[CHUNK_MAX * 32];
    for (int c0 = 0; c0 < ncol; c0 += per) {
        const int nc = ncol - c0 < per ? ncol - c0 : per;
        const float *Xc = X + (size_t)c0 * xs;
        for (int r = 0; r + 16 <= nrows; r += 16) {
            const uint8_t *G = W + (size_t)r * stride;
            float *Yr = Y + (size_t)c0 * ys + r;
            for (int j0 = 0; j0 < n; j0 += kb) {
                const int j1 = n - j0 < kb ? n : j0 + kb, first = j0 == 0, last = j1 == n;
                int c = 0;
                for (; c + FT <= nc; c += FT)
                    ftile(kind, FT, G, j0, j1, first, last, Xc + (size_t)c * xs, xs, Yr + (size_t)c * ys, ys, P + 32 * c);
                const float *Xt = Xc + (size_t)c * xs;
                float *Yt = Yr + (size_t)c * ys, *Pt = P + 32 * c;
                switch (nc - c) {   /* constant widths keep the accumulators in registers */
                case 1: ftile(kind, 1, G, j0, j1, first, last, Xt, xs, Yt, ys, Pt); break;
                case 2: ftile(kind, 2, G, j0, j1, first, last, Xt, xs, Yt, ys, Pt); break;
                case 3: ftile(kind, 3, G, j0, j1, first, last, Xt, xs, Yt, ys, Pt); break;
                case 4: ftile(kind, 4, G, j0, j1, first, last, Xt, xs, Yt, ys, Pt); break;
                case 5: ftile(kind, 5, G, j0, j1, first, last, Xt, xs, Yt, ys, Pt); break;
                case 6: ftile(kind, 6, G, j0, j1, first, last, Xt, xs, Yt, ys, Pt); break;
                case 7: ftile(kind, 7, G, j0, j1, first, last, Xt, xs, Yt, ys, Pt); break;
                default: break;
                }
            }
        }
    }
}

void kn_avx512_rf(uint32_t ptype, const uint8_t *W, size_t stride, const float *X, size_t xs,
                  float *Y, size_t ys, int nrows, int n, int ncol) {
    if (n < 2 || n % 2 || ncol < 1) return;
    switch (ptype) {
    case KN_F32_R16: fgroups(GGML_F32, W, stride, X, xs, Y, ys, nrows, n, ncol); return;
    case KN_F16_R16: fgroups(GGML_F16, W, stride, X, xs, Y, ys, nrows, n, ncol); return;
    case KN_BF16_R16: fgroups(GGML_BF16, W, stride, X, xs, Y, ys, nrows, n, ncol); return;
    default: return;
    }
}
