/* x86_avx512_attn.c: softmax and attention for the AVX-512 table.
 *
 * Attention runs one GQA group per call: K in 16-position blocks stored
 * dimension-major (kn_k_block in kernels.h), so a block's scores for up to
 * 8 heads are 16 lanes of FMAs with no horizontal sums; then the softmax
 * (1/sum folded into the output); then V in rows, two heads per pass, 32
 * positions at a time while they are in L1. Prefetches for the blocks
 * ahead are issued inside the arithmetic. A head's result is the same
 * whichever group it runs in (checked bit for bit by test_kernels). */
#include "x86_simd.h"

#define AI static inline __attribute__((always_inline))

/* exp256's scheme on 16 lanes (x86_simd.h). */
#define KN_ROUND512(v) _mm512_roundscale_ps((v), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
KN_DEFINE_EXP(512, KN_ROUND512)

/* Softmax on 16 lanes with masked tails (with 8 lanes it took a sixth
 * of attention's time at position 2000). softmax_exp is all of it but
 * the final scaling: x[i] = exp(x[i] - max x), returning their sum;
 * attention folds 1/sum into its output instead. */
static float softmax_exp(float *x, int n) {
    const __mmask16 tail = (__mmask16)((1u << (n % 16)) - 1);
    const int full = n - n % 16;
    __m512 vm = _mm512_set1_ps(x[0]);
    for (int i = 0; i < full; i += 16) vm = _mm512_max_ps(vm, _mm512_loadu_ps(x + i));
    vm = _mm512_mask_max_ps(vm, tail, vm, _mm512_maskz_loadu_ps(tail, x + full));
    const __m512 vmx = _mm512_set1_ps(_mm512_reduce_max_ps(vm));
    __m512 vs = _mm512_setzero_ps();
    for (int i = 0; i < full; i += 16) {
        const __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(x + i), vmx));
        _mm512_storeu_ps(x + i, e);
        vs = _mm512_add_ps(vs, e);
    }
    if (tail) {
        const __m512 e = exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, x + full), vmx));
        _mm512_mask_storeu_ps(x + full, tail, e);
        vs = _mm512_mask_add_ps(vs, tail, vs, e);
    }
    return _mm512_reduce_add_ps(vs);
}
void kn_avx512_softmax(float *x, int n) {
    if (n <= 0) return;
    const __mmask16 tail = (__mmask16)((1u << (n % 16)) - 1);
    const int full = n - n % 16;
    const __m512 inv = _mm512_set1_ps(1.0f / softmax_exp(x, n));
    for (int i = 0; i < full; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), inv));
    if (tail) _mm512_mask_storeu_ps(x + full, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + full), inv));
}

/* Attention with the query and the output held in registers (head_dim a
 * multiple of 16, at most 128; kn_attn16_native): K in 16-position blocks
 * (kernels.h), so scores are plain FMAs 16 positions wide; V in rows, one
 * pass of loads and FMAs per position, no loads or stores of out. Other
 * shapes use the AVX2 version, on rows. */
AI __m512 kv16(int f16, const uint8_t *row, int j) {
    if (f16) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(row + 32 * j)));
    return _mm512_loadu_ps((const float *)row + 16 * j);
}

/* The group's heads take turns on each block of cached rows while it is
 * in L1, so K and V are read from memory once per group rather than once
 * per head (at position 2000: 90 MB a token with an F32 cache, instead of
 * 8x that from L2/L3). Blocks are prefetched AHEAD blocks ahead into
 * L1. With the cache in 2 MB pages, 2 blocks ahead with T0 beat 4 with
 * NTA (which won with 4 KB pages): attention at position 2000, 2 threads,
 * 2.27-2.46 -> 2.11-2.28 ms a token; 1 thread 3.08-3.46 -> 2.90-3.19. */
enum { KB = 16, VB = 32, AHEAD = 2, FOLD = 64 };

AI void prefetch_rows(const uint8_t *r, size_t stride, int n, size_t row) {
    for (int i = 0; i < n; i++)
        for (size_t off = 0; off < row; off += 64) _mm_prefetch((const char *)r + (size_t)i * stride + off, _MM_HINT_T0);
}

/* Heads h..h+nh-1 over the n rows of V at vb (positions p..): even
 * positions add into out, odd ones into O2 (one set of sums would wait an
 * FMA's latency per position). Blocks start even, so a head's sums are
 * the same whether it runs alone or beside another. */
AI void v_block(int f16, int nv, int nh, float *out, float *O2, const float *S, int h, int hd, int n_pos,
                int p, int n, const uint8_t *vb, size_t kv_stride, const uint8_t *pf, int lines) {
    const int half = (lines + 1) / 2;   /* half the lines now, half midway */
    for (int l = 0; l < half; l++) _mm_prefetch((const char *)pf + 64 * (size_t)l, _MM_HINT_T0);
    __m512 o[2][8], o2[2][8];
    for (int g = 0; g < nh; g++)
        for (int j = 0; j < nv; j++) {
            o[g][j] = _mm512_loadu_ps(out + (size_t)(h + g) * hd + 16 * j);
            o2[g][j] = _mm512_loadu_ps(O2 + (size_t)(h + g) * hd + 16 * j);
        }
    const float *a = S + (size_t)h * n_pos + p;
    int i = 0;
    for (; i + 2 <= n; i += 2) {
        if (i == (n / 4) * 2)
            for (int l = half; l < lines; l++) _mm_prefetch((const char *)pf + 64 * (size_t)l, _MM_HINT_T0);
        const uint8_t *vr = vb + (size_t)i * kv_stride;
        __m512 x[8], y[8];
        for (int j = 0; j < nv; j++) {
            x[j] = kv16(f16, vr, j);
            y[j] = kv16(f16, vr + kv_stride, j);
            if (nh == 2) __asm__("" : "+v"(x[j]), "+v"(y[j]));   /* load once for both heads */
        }
        for (int g = 0; g < nh; g++) {
            const __m512 a0 = _mm512_set1_ps(a[(size_t)g * n_pos + i]), a1 = _mm512_set1_ps(a[(size_t)g * n_pos + i + 1]);
            for (int j = 0; j < nv; j++) o[g][j] = _mm512_fmadd_ps(a0, x[j], o[g][j]);
            for (int j = 0; j < nv; j++) o2[g][j] = _mm512_fmadd_ps(a1, y[j], o2[g][j]);
        }
    }
    if (i < n) {
        const uint8_t *vr = vb + (size_t)i * kv_stride;
        for (int g = 0; g < nh; g++) {
            const __m512 a0 = _mm512_set1_ps(a[(size_t)g * n_pos + i]);
            for (int j = 0; j < nv; j++) o[g][j] = _mm512_fmadd_ps(a0, kv16(f16, vr, j), o[g][j]);
        }
    }
    for (int g = 0; g < nh; g++)
        for (int j = 0; j < nv; j++) {
            _mm512_storeu_ps(out + (size_t)(h + g) * hd + 16 * j, o[g][j]);
            _mm512_storeu_ps(O2 + (size_t)(h + g) * hd + 16 * j, o2[g][j]);
        }
}

/* Scores of nh (1..8) heads (q: their rows) for one block of 16
 * positions in the blocked K layout (kernels.h): per head one FMA chain
 * for even and one for odd dimensions, added, scaled: 16 positions per
 * instruction with no horizontal sums. Only the first m lanes are valid:
 * a partial block loads whole (the cache holds whole blocks) and stores
 * m. A head's scores do not depend on its neighbours. Meanwhile the
 * `lines` cache lines at pf are prefetched, a quarter at a time. */
AI void k_block(int f16, int nv, int nh, const float *q, const uint8_t *kb, __m512 vscale, float *S, int n_pos,
                int m, const uint8_t *pf, int lines) {
    const int hd = 16 * nv, quarter = (lines + 3) / 4;
    __m512 a[8], b[8];
    for (int g = 0; g < nh; g++) a[g] = b[g] = _mm512_setzero_ps();
#pragma GCC unroll 4
    for (int d = 0; d < hd; d += 2) {
        if (d % (hd / 4) == 0)   /* a quarter of the lines before each quarter of the dimensions */
            for (int l = d / (hd / 4) * quarter, e = l + quarter; l < e && l < lines; l++)
                _mm_prefetch((const char *)pf + 64 * (size_t)l, _MM_HINT_T0);
        const __m512 k0 = kv16(f16, kb, d), k1 = kv16(f16, kb, d + 1);   /* dimensions d, d+1 of 16 positions */
#pragma GCC unroll 8
        for (int g = 0; g < nh; g++) {
            a[g] = _mm512_fmadd_ps(_mm512_set1_ps(q[(size_t)g * hd + d]), k0, a[g]);
            b[g] = _mm512_fmadd_ps(_mm512_set1_ps(q[(size_t)g * hd + d + 1]), k1, b[g]);
        }
    }
    const __mmask16 keep = m >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << m) - 1);
#pragma GCC unroll 8
    for (int g = 0; g < nh; g++)
        _mm512_mask_storeu_ps(S + (size_t)g * n_pos, keep, _mm512_mul_ps(vscale, _mm512_add_ps(a[g], b[g])));
}

AI void attn_group(int f16, int nv, float *out, const float *q, int n_q, const uint8_t *k, const uint8_t *v,
                   size_t kv_stride, int n_pos, float scale, float *scratch) {
    const int hd = 16 * nv;
    const size_t row = (size_t)nv * (f16 ? 32 : 64);
    float *S = scratch, *O2 = scratch + (size_t)n_q * n_pos;   /* scores; odd-position sums */
    const __m512 vscale = _mm512_set1_ps(scale);
    /* The blocks the loops' look-ahead never covers: K's first AHEAD now,
     * V's first AHEAD during K's last (else each phase starts on misses). */
    const int nkb = (n_pos + KB - 1) / KB, nvb = (n_pos + VB - 1) / VB;
    prefetch_rows(k, kv_stride, (nkb < AHEAD ? nkb : AHEAD) * KB, row);
    for (int bi = 0; bi < nkb; bi++) {
        const int p = bi * KB, m = n_pos - p < KB ? n_pos - p : KB;
        const uint8_t *kb = k + (size_t)p * kv_stride, *pf = NULL;
        int lines = 0;
        if (bi + AHEAD < nkb) {   /* a K block's lines span all of it (dimension-major) */
            pf = kb + (size_t)(AHEAD * KB) * kv_stride;
            lines = (int)(KB * row / 64);
        } else if ((bi - (nkb - AHEAD)) * VB < n_pos) {
            const int vp = (bi - (nkb - AHEAD)) * VB;
            pf = v + (size_t)vp * kv_stride;
            lines = (int)((size_t)(n_pos - vp < VB ? n_pos - vp : VB) * kv_stride / 64);
        }
        for (int h = 0; h < n_q; h += 8) {
            const float *qh = q + (size_t)h * hd;
            float *Sh = S + (size_t)h * n_pos + p;
            const int pl = h == 0 ? lines : 0;
            switch (n_q - h < 8 ? n_q - h : 8) {   /* constant head counts keep the sums in registers */
            case 1: k_block(f16, nv, 1, qh, kb, vscale, Sh, n_pos, m, pf, pl); break;
            case 2: k_block(f16, nv, 2, qh, kb, vscale, Sh, n_pos, m, pf, pl); break;
            case 3: k_block(f16, nv, 3, qh, kb, vscale, Sh, n_pos, m, pf, pl); break;
            case 4: k_block(f16, nv, 4, qh, kb, vscale, Sh, n_pos, m, pf, pl); break;
            case 5: k_block(f16, nv, 5, qh, kb, vscale, Sh, n_pos, m, pf, pl); break;
            case 6: k_block(f16, nv, 6, qh, kb, vscale, Sh, n_pos, m, pf, pl); break;
            case 7: k_block(f16, nv, 7, qh, kb, vscale, Sh, n_pos, m, pf, pl); break;
            default: k_block(f16, nv, 8, qh, kb, vscale, Sh, n_pos, m, pf, pl); break;
            }
        }
    }
    /* Up to FOLD heads keep 1/sum and scale their output once at the end
     * instead of every weight; larger groups normalize the weights. */
    float inv[FOLD];
    for (int h = 0; h < n_q; h++) {
        if (n_q <= FOLD) inv[h] = 1.0f / softmax_exp(S + (size_t)h * n_pos, n_pos);
        else kn_avx512_softmax(S + (size_t)h * n_pos, n_pos);
        memset(out + (size_t)h * hd, 0, sizeof(float) * (size_t)hd);
        memset(O2 + (size_t)h * hd, 0, sizeof(float) * (size_t)hd);
    }
    const int npass = nv <= 4 ? (n_q + 1) / 2 : n_q;   /* passes over each V block */
    for (int bi = 0; bi < nvb; bi++) {
        const int p = bi * VB, n = n_pos - p < VB ? n_pos - p : VB;
        const uint8_t *vb = v + (size_t)p * kv_stride;
        /* V's block AHEAD on, its lines shared out over the passes */
        const int ahead = n_pos - p - AHEAD * VB < VB ? n_pos - p - AHEAD * VB : VB;
        const int lines = ahead > 0 ? (int)((size_t)ahead * kv_stride / 64) : 0, share = (lines + npass - 1) / npass;
        const uint8_t *pf = vb + (size_t)(AHEAD * VB) * kv_stride;
        for (int h = 0, pass = 0; h < n_q; pass++) {
            const int nh = nv <= 4 && h + 2 <= n_q ? 2 : 1;   /* two heads per pass share each V row's loads */
            const int l0 = pass * share, nl = lines - l0 < share ? lines - l0 : share;
            const uint8_t *pp = pf + 64 * (size_t)l0;
            if (nh == 2) v_block(f16, nv, 2, out, O2, S, h, hd, n_pos, p, n, vb, kv_stride, pp, nl > 0 ? nl : 0);
            else v_block(f16, nv, 1, out, O2, S, h, hd, n_pos, p, n, vb, kv_stride, pp, nl > 0 ? nl : 0);
            h += nh;
        }
    }
    for (int h = 0; h < n_q; h++)
        for (int j = 0; j < nv; j++) {
            float *oh = out + (size_t)h * hd + 16 * j;
            __m512 o = _mm512_add_ps(_mm512_loadu_ps(oh), _mm512_loadu_ps(O2 + (size_t)h * hd + 16 * j));
            if (n_q <= FOLD) o = _mm512_mul_ps(o, _mm512_set1_ps(inv[h]));
            _mm512_storeu_ps(oh, o);
        }
}

void kn_avx512_attention(float *out, const float *q, int n_q, const void *k, const void *v, size_t kv_stride,
                         uint32_t kv_type, int n_pos, int head_dim, float scale, float *scratch) {
    int f16 = kv_type == GGML_F16;
    if (!kn_attn16_native(head_dim, kv_type) || n_pos < 1) {
        kn_ops_avx2.attention(out, q, n_q, k, v, kv_stride, kv_type, n_pos, head_dim, scale, scratch);
        return;
    }
    /* one instantiation per (cache type, head size) keeps the loops unrolled */
    switch (head_dim / 16 + (f16 ? 8 : 0)) {
#define ATT(nv)                                                                                      \
    case nv: attn_group(0, nv, out, q, n_q, k, v, kv_stride, n_pos, scale, scratch); return;        \
    case nv + 8: attn_group(1, nv, out, q, n_q, k, v, kv_stride, n_pos, scale, scratch); return;
    ATT(1) ATT(2) ATT(3) ATT(4) ATT(5) ATT(6) ATT(7)
#undef ATT
    case 8: attn_group(0, 8, out, q, n_q, k, v, kv_stride, n_pos, scale, scratch); return;
    case 16: attn_group(1, 8, out, q, n_q, k, v, kv_stride, n_pos, scale, scratch); return;
    }
}
