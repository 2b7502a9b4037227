/* quant.c: scalar conversions between f32 and every block format.
 *
 * Dequantizers follow the GGUF layouts exactly (see kn_internal.h). The
 * weight quantizers are our own simple ones: symmetric/affine fits per
 * block, and for K-quants a per-sub-block least-squares (scale, min) fit
 * followed by 6/8-bit quantization of the sub-block scales. They produce
 * valid blocks with small error; they do not try to match any other
 * implementation bit for bit.
 *
 * Activation quantizers (Q8_0, Q8_1, Q8_K) are defined with ops that SIMD
 * code can reproduce exactly: amax, id = 127/amax, q = rint(x*id) with
 * round-to-nearest-even, so the SIMD versions must match them bit for bit. */
#include <math.h>
#include <string.h>
#include "kn_internal.h"

#define H2F kn_f16_to_f32
#define F2H kn_f32_to_f16

static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }
/* Round with a clamp done in float first, so NaN/huge inputs never reach an
 * out-of-range conversion. */
static inline int qround(float v, int lo, int hi) {
    v = fmaxf(v, (float)lo);
    v = fminf(v, (float)hi);
    return (int)lrintf(v);
}

/* ---- dequantize -------------------------------------------------------- */

static void deq_q4_0(const blk_q4_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK) {
        float d = H2F(b[i].d);
        for (int j = 0; j < QK / 2; j++) {
            y[j] = (float)((b[i].qs[j] & 15) - 8) * d;
            y[j + 16] = (float)((b[i].qs[j] >> 4) - 8) * d;
        }
    }
}

static void deq_q4_1(const blk_q4_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK) {
        float d = H2F(b[i].d), m = H2F(b[i].m);
        for (int j = 0; j < QK / 2; j++) {
            y[j] = (float)(b[i].qs[j] & 15) * d + m;
            y[j + 16] = (float)(b[i].qs[j] >> 4) * d + m;
        }
    }
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void deq_q5_0(const blk_q5_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK) {
        float d = H2F(b[i].d);
        uint32_t qh = le32(b[i].qh);
        for (int j = 0; j < QK / 2; j++) {
            int q0 = (b[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int q1 = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (float)(q0 - 16) * d;
            y[j + 16] = (float)(q1 - 16) * d;
        }
    }
}

static void deq_q5_1(const blk_q5_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK) {
        float d = H2F(b[i].d), m = H2F(b[i].m);
        uint32_t qh = le32(b[i].qh);
        for (int j = 0; j < QK / 2; j++) {
            int q0 = (b[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int q1 = (b[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            y[j] = (float)q0 * d + m;
            y[j + 16] = (float)q1 * d + m;
        }
    }
}

static void deq_q8_0(const blk_q8_0 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK) {
        float d = H2F(b[i].d);
        for (int j = 0; j < QK; j++) y[j] = (float)b[i].qs[j] * d;
    }
}

static void deq_q8_1(const blk_q8_1 *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK) {
        float d = H2F(b[i].d);
        for (int j = 0; j < QK; j++) y[j] = (float)b[i].qs[j] * d;
    }
}

static void deq_q8_K(const blk_q8_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, y += QK_K)
        for (int j = 0; j < QK_K; j++) y[j] = (float)b[i].qs[j] * b[i].d;
}

static void deq_q4_K(const blk_q4_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
        const uint8_t *q = b[i].qs;
        for (int c = 0; c < 4; c++, q += 32, y += 64) {
            int sc0, m0, sc1, m1;
            kn_k4_scale_min(b[i].scales, 2 * c, &sc0, &m0);
            kn_k4_scale_min(b[i].scales, 2 * c + 1, &sc1, &m1);
            float d0 = d * (float)sc0, mm0 = dmin * (float)m0;
            float d1 = d * (float)sc1, mm1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) {
                y[l] = d0 * (float)(q[l] & 15) - mm0;
                y[l + 32] = d1 * (float)(q[l] >> 4) - mm1;
            }
        }
    }
}

static void deq_q5_K(const blk_q5_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        float d = H2F(b[i].d), dmin = H2F(b[i].dmin);
        const uint8_t *q = b[i].qs, *qh = b[i].qh;
        for (int c = 0; c < 4; c++, q += 32, y += 64) {
            int sc0, m0, sc1, m1;
            kn_k4_scale_min(b[i].scales, 2 * c, &sc0, &m0);
            kn_k4_scale_min(b[i].scales, 2 * c + 1, &sc1, &m1);
            float d0 = d * (float)sc0, mm0 = dmin * (float)m0;
            float d1 = d * (float)sc1, mm1 = dmin * (float)m1;
            for (int l = 0; l < 32; l++) {
                int h0 = (qh[l] >> (2 * c)) & 1, h1 = (qh[l] >> (2 * c + 1)) & 1;
                y[l] = d0 * (float)((q[l] & 15) | h0 << 4) - mm0;
                y[l + 32] = d1 * (float)((q[l] >> 4) | h1 << 4) - mm1;
            }
        }
    }
}

static void deq_q6_K(const blk_q6_K *b, float *y, int64_t nb) {
    for (int64_t i = 0; i < nb; i++) {
        float d = H2F(b[i].d);
        for (int h = 0; h < 2; h++, y += 128) {
            const uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            const int8_t *sc = b[i].scales + 8 * h;
            for (int l = 0; l < 32; l++) {
                int q0 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
                int q1 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
                int q2 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                int q3 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                y[l] = d * (float)sc[l / 16] * (float)q0;
                y[l + 32] = d * (float)sc[2 + l / 16] * (float)q1;
                y[l + 64] = d * (float)sc[4 + l / 16] * (float)q2;
                y[l + 96] = d * (float)sc[6 + l / 16] * (float)q3;
            }
        }
    }
}

void kn_dequantize_row(uint32_t type, const void *src, float *dst, int64_t n) {
    uint32_t be = 1;
    if (!kn_block_info(type, &be, NULL)) return;
    int64_t nb = n / be;
    switch (type) {
    case GGML_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case GGML_F16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = kn_f16_to_f32(h[i]);
        break;
    }
    case GGML_BF16: {
        const uint16_t *h = src;
        for (int64_t i = 0; i < n; i++) dst[i] = kn_bf16_to_f32(h[i]);
        break;
    }
    case GGML_Q4_0: deq_q4_0(src, dst, nb); break;
    case GGML_Q4_1: deq_q4_1(src, dst, nb); break;
    case GGML_Q5_0: deq_q5_0(src, dst, nb); break;
    case GGML_Q5_1: deq_q5_1(src, dst, nb); break;
    case GGML_Q8_0: deq_q8_0(src, dst, nb); break;
    case GGML_Q8_1: deq_q8_1(src, dst, nb); break;
    case GGML_Q4_K: deq_q4_K(src, dst, nb); break;
    case GGML_Q5_K: deq_q5_K(src, dst, nb); break;
    case GGML_Q6_K: deq_q6_K(src, dst, nb); break;
    case GGML_Q8_K: deq_q8_K(src, dst, nb); break;
    default: break;
    }
}

/* ---- activation quantizers (the exact reference for SIMD versions) ----- */

static float amax_of(const float *x, int n) {
    float m = 0.0f;
    for (int j = 0; j < n; j++) m = fmaxf(m, fabsf(x[j]));
    return m;
}

static void q8_block(const float *x, int n, float amax, int8_t *qs) {
    float id = amax > 0.0f ? 127.0f / amax : 0.0f;
    for (int j = 0; j < n; j++) qs[j] = (int8_t)qround(x[j] * id, -127, 127);
}

static void act_q8_0(const float *x, blk_q8_0 *b, int nb) {
    for (int i = 0; i < nb; i++, x += QK) {
        float amax = amax_of(x, QK);
        b[i].d = F2H(amax / 127.0f);
        q8_block(x, QK, amax, b[i].qs);
    }
}

static void act_q8_1(const float *x, blk_q8_1 *b, int nb) {
    for (int i = 0; i < nb; i++, x += QK) {
        float amax = amax_of(x, QK);
        b[i].d = F2H(amax / 127.0f);
        q8_block(x, QK, amax, b[i].qs);
        int sum = 0;
        for (int j = 0; j < QK; j++) sum += b[i].qs[j];
        b[i].s = F2H(H2F(b[i].d) * (float)sum);
    }
}

static void act_q8_K(const float *x, blk_q8_K *b, int nb) {
    for (int i = 0; i < nb; i++, x += QK_K) {
        float amax = amax_of(x, QK_K);
        b[i].d = amax / 127.0f;
        q8_block(x, QK_K, amax, b[i].qs);
        for (int g = 0; g < QK_K / 16; g++) {
            int s = 0;
            for (int j = 0; j < 16; j++) s += b[i].qs[16 * g + j];
            b[i].bsums[g] = (int16_t)s;
        }
    }
}

void kn_ref_quantize_act(uint32_t act_type, const float *x, void *dst, int n) {
    switch (act_type) {
    case GGML_F32: memcpy(dst, x, (size_t)n * sizeof(float)); break;
    case GGML_Q8_0: act_q8_0(x, dst, n / QK); break;
    case GGML_Q8_1: act_q8_1(x, dst, n / QK); break;
    case GGML_Q8_K: act_q8_K(x, dst, n / QK_K); break;
    case GGML_BF16:
        for (int i = 0; i < n; i++) ((uint16_t *)dst)[i] = kn_f32_to_bf16(x[i]);
        break;
    case GGML_F16:
        for (int i = 0; i < n; i++) ((uint16_t *)dst)[i] = kn_f32_to_f16(x[i]);
        break;
    default: break;
    }
}

/* ---- weight quantizers ------------------------------------------------- */

/* The element with the largest magnitude, sign kept. */
static float signed_max(const float *x, int n) {
    float best = 0.0f;
    for (int j = 0; j < n; j++)
        if (fabsf(x[j]) > fabsf(best)) best = x[j];
    return best;
}

static void q_q4_0(const float *x, blk_q4_0 *b, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK) {
        /* the extreme value maps to -8, using the full asymmetric range */
        float d = signed_max(x, QK) / -8.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = F2H(d);
        for (int j = 0; j < QK / 2; j++) {
            int q0 = qround(x[j] * id, -8, 7) + 8, q1 = qround(x[j + 16] * id, -8, 7) + 8;
            b[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

static void q_q5_0(const float *x, blk_q5_0 *b, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK) {
        float d = signed_max(x, QK) / -16.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = F2H(d);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            int q0 = qround(x[j] * id, -16, 15) + 16, q1 = qround(x[j + 16] * id, -16, 15) + 16;
            b[i].qs[j] = (uint8_t)((q0 & 15) | (q1 & 15) << 4);
            qh |= (uint32_t)(q0 >> 4) << j | (uint32_t)(q1 >> 4) << (j + 16);
        }
        for (int k = 0; k < 4; k++) b[i].qh[k] = (uint8_t)(qh >> (8 * k));
    }
}

static void minmax(const float *x, int n, float *mn, float *mx) {
    *mn = *mx = x[0];
    for (int j = 1; j < n; j++) {
        *mn = fminf(*mn, x[j]);
        *mx = fmaxf(*mx, x[j]);
    }
}

static void q_q4_1(const float *x, blk_q4_1 *b, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK) {
        float mn, mx;
        minmax(x, QK, &mn, &mx);
        float d = (mx - mn) / 15.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = F2H(d);
        b[i].m = F2H(mn);
        for (int j = 0; j < QK / 2; j++) {
            int q0 = qround((x[j] - mn) * id, 0, 15), q1 = qround((x[j + 16] - mn) * id, 0, 15);
            b[i].qs[j] = (uint8_t)(q0 | q1 << 4);
        }
    }
}

static void q_q5_1(const float *x, blk_q5_1 *b, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK) {
        float mn, mx;
        minmax(x, QK, &mn, &mx);
        float d = (mx - mn) / 31.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        b[i].d = F2H(d);
        b[i].m = F2H(mn);
        uint32_t qh = 0;
        for (int j = 0; j < QK / 2; j++) {
            int q0 = qround((x[j] - mn) * id, 0, 31), q1 = qround((x[j + 16] - mn) * id, 0, 31);
            b[i].qs[j] = (uint8_t)((q0 & 15) | (q1 & 15) << 4);
            qh |= (uint32_t)(q0 >> 4) << j | (uint32_t)(q1 >> 4) << (j + 16);
        }
        for (int k = 0; k < 4; k++) b[i].qh[k] = (uint8_t)(qh >> (8 * k));
    }
}

static void q_q8_0(const float *x, blk_q8_0 *b, int64_t nb) { act_q8_0(x, b, (int)nb); }

/* Fit x ~ scale*q - min with q in [0, nmax], min >= 0 (the K-quant offset
 * can only subtract). Start from the range, then alternate assigning q and
 * a least-squares solve of (scale, min), keeping the best error seen. */
static void fit_affine(const float *x, int n, int nmax, float *scale, float *min) {
    float mn, mx;
    minmax(x, n, &mn, &mx);
    mn = fminf(mn, 0.0f);
    float s = (mx - mn) / (float)nmax, off = mn;   /* x ~ s*q + off */
    float best_s = s, best_off = off, best_err = INFINITY;
    for (int it = 0; it < 4 && s > 0.0f; it++) {
        float is = 1.0f / s, err = 0.0f;
        double sq = 0, sq2 = 0, sx = 0, sqx = 0;
        for (int j = 0; j < n; j++) {
            int q = qround((x[j] - off) * is, 0, nmax);
            float e = s * (float)q + off - x[j];
            err += e * e;
            sq += q; sq2 += (double)q * q; sx += x[j]; sqx += (double)q * x[j];
        }
        if (err < best_err) { best_err = err; best_s = s; best_off = off; }
        double det = n * sq2 - sq * sq;
        if (det <= 0) break;
        double ns = (n * sqx - sq * sx) / det, noff = (sq2 * sx - sq * sqx) / det;
        if (noff > 0) { noff = 0; ns = sq2 > 0 ? sqx / sq2 : 0; }
        if (!(ns > 0)) break;
        s = (float)ns;
        off = (float)noff;
    }
    *scale = best_s > 0.0f ? best_s : 0.0f;
    *min = -best_off;
}

/* Shared by Q4_K (nmax 15) and Q5_K (nmax 31): fills d, dmin, scales and
 * the integer quants q[256]. */
static void k4_fit(const float *x, int nmax, uint16_t *dh, uint16_t *dminh,
                   uint8_t scales[12], uint8_t q[QK_K]) {
    float sc[8], mn[8], maxsc = 0.0f, maxmn = 0.0f;
    for (int j = 0; j < 8; j++) {
        fit_affine(x + 32 * j, 32, nmax, &sc[j], &mn[j]);
        maxsc = fmaxf(maxsc, sc[j]);
        maxmn = fmaxf(maxmn, mn[j]);
    }
    *dh = F2H(maxsc / 63.0f);
    *dminh = F2H(maxmn / 63.0f);
    float d = H2F(*dh), dmin = H2F(*dminh);
    int isc[8], imn[8];
    for (int j = 0; j < 8; j++) {
        isc[j] = d > 0.0f ? qround(sc[j] / d, 0, 63) : 0;
        imn[j] = dmin > 0.0f ? qround(mn[j] / dmin, 0, 63) : 0;
    }
    for (int j = 0; j < 4; j++) {
        scales[j] = (uint8_t)(isc[j] | (isc[j + 4] >> 4) << 6);
        scales[j + 4] = (uint8_t)(imn[j] | (imn[j + 4] >> 4) << 6);
        scales[j + 8] = (uint8_t)((isc[j + 4] & 15) | (imn[j + 4] & 15) << 4);
    }
    for (int j = 0; j < 8; j++) {
        float ds = d * (float)isc[j], dm = dmin * (float)imn[j];
        float ids = ds > 0.0f ? 1.0f / ds : 0.0f;
        for (int l = 0; l < 32; l++)
            q[32 * j + l] = (uint8_t)qround((x[32 * j + l] + dm) * ids, 0, nmax);
    }
}

static void q_q4_K(const float *x, blk_q4_K *b, int64_t nb) {
    uint8_t q[QK_K];
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        k4_fit(x, 15, &b[i].d, &b[i].dmin, b[i].scales, q);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++)
                b[i].qs[32 * c + l] = (uint8_t)(q[64 * c + l] | q[64 * c + 32 + l] << 4);
    }
}

static void q_q5_K(const float *x, blk_q5_K *b, int64_t nb) {
    uint8_t q[QK_K];
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        k4_fit(x, 31, &b[i].d, &b[i].dmin, b[i].scales, q);
        memset(b[i].qh, 0, sizeof b[i].qh);
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) {
                int q0 = q[64 * c + l], q1 = q[64 * c + 32 + l];
                b[i].qs[32 * c + l] = (uint8_t)((q0 & 15) | (q1 & 15) << 4);
                b[i].qh[l] |= (uint8_t)((q0 >> 4) << (2 * c) | (q1 >> 4) << (2 * c + 1));
            }
    }
}

static void q_q6_K(const float *x, blk_q6_K *b, int64_t nb) {
    for (int64_t i = 0; i < nb; i++, x += QK_K) {
        float s[16], maxs = 0.0f;
        for (int j = 0; j < 16; j++) {
            s[j] = signed_max(x + 16 * j, 16) / -32.0f;
            maxs = fmaxf(maxs, fabsf(s[j]));
        }
        b[i].d = F2H(maxs / 127.0f);
        float d = H2F(b[i].d);
        int q[QK_K];
        for (int j = 0; j < 16; j++) {
            int isc = d > 0.0f ? qround(s[j] / d, -127, 127) : 0;
            b[i].scales[j] = (int8_t)isc;
            float ds = d * (float)isc, ids = ds != 0.0f ? 1.0f / ds : 0.0f;
            for (int l = 0; l < 16; l++) q[16 * j + l] = qround(x[16 * j + l] * ids, -32, 31) + 32;
        }
        for (int h = 0; h < 2; h++) {
            const int *qq = q + 128 * h;
            uint8_t *ql = b[i].ql + 64 * h, *qh = b[i].qh + 32 * h;
            for (int l = 0; l < 32; l++) {
                ql[l] = (uint8_t)((qq[l] & 15) | (qq[l + 64] & 15) << 4);
                ql[l + 32] = (uint8_t)((qq[l + 32] & 15) | (qq[l + 96] & 15) << 4);
                qh[l] = (uint8_t)((qq[l] >> 4) | (qq[l + 32] >> 4) << 2 |
                                  (qq[l + 64] >> 4) << 4 | (qq[l + 96] >> 4) << 6);
            }
        }
    }
}

void kn_quantize_row(uint32_t type, const float *src, void *dst, int64_t n) {
    uint32_t be = 1;
    if (!kn_block_info(type, &be, NULL)) return;
    int64_t nb = n / be;
    switch (type) {
    case GGML_F32: memcpy(dst, src, (size_t)n * sizeof(float)); break;
    case GGML_F16: {
        uint16_t *h = dst;
        for (int64_t i = 0; i < n; i++) h[i] = kn_f32_to_f16(src[i]);
        break;
    }
    case GGML_BF16: {
        uint16_t *h = dst;
        for (int64_t i = 0; i < n; i++) h[i] = kn_f32_to_bf16(src[i]);
        break;
    }
    case GGML_Q4_0: q_q4_0(src, dst, nb); break;
    case GGML_Q4_1: q_q4_1(src, dst, nb); break;
    case GGML_Q5_0: q_q5_0(src, dst, nb); break;
    case GGML_Q5_1: q_q5_1(src, dst, nb); break;
    case GGML_Q8_0: q_q8_0(src, dst, nb); break;
    case GGML_Q4_K: q_q4_K(src, dst, nb); break;
    case GGML_Q5_K: q_q5_K(src, dst, nb); break;
    case GGML_Q6_K: q_q6_K(src, dst, nb); break;
    case GGML_Q8_1: act_q8_1(src, dst, (int)nb); break;
    case GGML_Q8_K: act_q8_K(src, dst, (int)nb); break;
    default: break;
    }
}
