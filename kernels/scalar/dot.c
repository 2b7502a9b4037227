/* dot.c: scalar weight-row x activation-row dot products, matvec, matmul.
 *
 * The reference arithmetic, which every SIMD path must reproduce: each
 * block's integer dot product is computed exactly in int32, then scaled and
 * summed in float, block by block in order. SIMD paths keep the integer
 * part exact but sum blocks in a different order (lanes), so the float
 * result agrees within rounding, not bit for bit (see docs/kernels.md). */
#include "kn_internal.h"

#define H2F kn_f16_to_f32

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static float dot_f32w(const float *w, const float *x, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += w[i] * x[i];
    return s;
}

static float dot_f16w(const uint16_t *w, const float *x, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += kn_f16_to_f32(w[i]) * x[i];
    return s;
}

static float dot_bf16w(const uint16_t *w, const float *x, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += kn_bf16_to_f32(w[i]) * x[i];
    return s;
}

static float dot_q4_0(const blk_q4_0 *w, const blk_q8_0 *x, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int acc = 0;
        for (int j = 0; j < QK / 2; j++) {
            acc += ((w[i].qs[j] & 15) - 8) * x[i].qs[j];
            acc += ((w[i].qs[j] >> 4) - 8) * x[i].qs[j + 16];
        }
        s += H2F(w[i].d) * H2F(x[i].d) * (float)acc;
    }
    return s;
}

static float dot_q4_1(const blk_q4_1 *w, const blk_q8_1 *x, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int acc = 0;
        for (int j = 0; j < QK / 2; j++) {
            acc += (w[i].qs[j] & 15) * x[i].qs[j];
            acc += (w[i].qs[j] >> 4) * x[i].qs[j + 16];
        }
        s += H2F(w[i].d) * H2F(x[i].d) * (float)acc + H2F(w[i].m) * H2F(x[i].s);
    }
    return s;
}

static float dot_q5_0(const blk_q5_0 *w, const blk_q8_0 *x, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        uint32_t qh = le32(w[i].qh);
        int acc = 0;
        for (int j = 0; j < QK / 2; j++) {
            int q0 = (w[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int q1 = (w[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            acc += (q0 - 16) * x[i].qs[j] + (q1 - 16) * x[i].qs[j + 16];
        }
        s += H2F(w[i].d) * H2F(x[i].d) * (float)acc;
    }
    return s;
}

static float dot_q5_1(const blk_q5_1 *w, const blk_q8_1 *x, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        uint32_t qh = le32(w[i].qh);
        int acc = 0;
        for (int j = 0; j < QK / 2; j++) {
            int q0 = (w[i].qs[j] & 15) | (int)((qh >> j) & 1) << 4;
            int q1 = (w[i].qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
            acc += q0 * x[i].qs[j] + q1 * x[i].qs[j + 16];
        }
        s += H2F(w[i].d) * H2F(x[i].d) * (float)acc + H2F(w[i].m) * H2F(x[i].s);
    }
    return s;
}

static float dot_q8_0(const blk_q8_0 *w, const blk_q8_0 *x, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int acc = 0;
        for (int j = 0; j < QK; j++) acc += w[i].qs[j] * x[i].qs[j];
        s += H2F(w[i].d) * H2F(x[i].d) * (float)acc;
    }
    return s;
}

/* Q4_K: sum_j d*sc_j*dot(q, x) - dmin*m_j*sum(x), the x sums from bsums. */
static float dot_q4_K(const blk_q4_K *w, const blk_q8_K *x, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int acc = 0, macc = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            kn_k4_scale_min(w[i].scales, j, &sc, &m);
            const uint8_t *q = w[i].qs + 32 * (j / 2);
            const int8_t *xq = x[i].qs + 32 * j;
            int shift = (j & 1) * 4, d = 0;
            for (int l = 0; l < 32; l++) d += ((q[l] >> shift) & 15) * xq[l];
            acc += sc * d;
            macc += m * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
        }
        s += H2F(w[i].d) * x[i].d * (float)acc - H2F(w[i].dmin) * x[i].d * (float)macc;
    }
    return s;
}

static float dot_q5_K(const blk_q5_K *w, const blk_q8_K *x, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int acc = 0, macc = 0;
        for (int j = 0; j < 8; j++) {
            int sc, m;
            kn_k4_scale_min(w[i].scales, j, &sc, &m);
            const uint8_t *q = w[i].qs + 32 * (j / 2);
            const int8_t *xq = x[i].qs + 32 * j;
            int shift = (j & 1) * 4, d = 0;
            for (int l = 0; l < 32; l++) {
                int v = ((q[l] >> shift) & 15) | ((w[i].qh[l] >> j) & 1) << 4;
                d += v * xq[l];
            }
            acc += sc * d;
            macc += m * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
        }
        s += H2F(w[i].d) * x[i].d * (float)acc - H2F(w[i].dmin) * x[i].d * (float)macc;
    }
    return s;
}

static float dot_q6_K(const blk_q6_K *w, const blk_q8_K *x, int nb) {
    float s = 0.0f;
    for (int i = 0; i < nb; i++) {
        int acc = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            const int8_t *xq = x[i].qs + 128 * h, *sc = w[i].scales + 8 * h;
            int part[8] = {0};   /* per 16-element sub-block */
            for (int l = 0; l < 32; l++) {
                int q0 = ((ql[l] & 15) | ((qh[l] >> 0) & 3) << 4) - 32;
                int q1 = ((ql[l + 32] & 15) | ((qh[l] >> 2) & 3) << 4) - 32;
                int q2 = ((ql[l] >> 4) | ((qh[l] >> 4) & 3) << 4) - 32;
                int q3 = ((ql[l + 32] >> 4) | ((qh[l] >> 6) & 3) << 4) - 32;
                part[l / 16] += q0 * xq[l];
                part[2 + l / 16] += q1 * xq[l + 32];
                part[4 + l / 16] += q2 * xq[l + 64];
                part[6 + l / 16] += q3 * xq[l + 96];
            }
            for (int k = 0; k < 8; k++) acc += sc[k] * part[k];
        }
        s += H2F(w[i].d) * x[i].d * (float)acc;
    }
    return s;
}

float kn_ref_vec_dot(uint32_t wtype, const void *w, const void *xq, int n) {
    switch (wtype) {
    case GGML_F32: return dot_f32w(w, xq, n);
    case GGML_F16: return dot_f16w(w, xq, n);
    case GGML_BF16: return dot_bf16w(w, xq, n);
    case GGML_Q4_0: return dot_q4_0(w, xq, n / QK);
    case GGML_Q4_1: return dot_q4_1(w, xq, n / QK);
    case GGML_Q5_0: return dot_q5_0(w, xq, n / QK);
    case GGML_Q5_1: return dot_q5_1(w, xq, n / QK);
    case GGML_Q8_0: return dot_q8_0(w, xq, n / QK);
    case GGML_Q4_K: return dot_q4_K(w, xq, n / QK_K);
    case GGML_Q5_K: return dot_q5_K(w, xq, n / QK_K);
    case GGML_Q6_K: return dot_q6_K(w, xq, n / QK_K);
    default: return 0.0f;
    }
}

void kn_ref_matvec(uint32_t wtype, const void *W, size_t stride,
                   const void *xq, float *y, int nrows, int ncols) {
    for (int r = 0; r < nrows; r++)
        y[r] = kn_ref_vec_dot(wtype, (const uint8_t *)W + (size_t)r * stride, xq, ncols);
}

void kn_matmul_tiled(kn_vec_dot_fn dot, uint32_t wtype, const void *W, size_t stride,
                     const void *xq, size_t xq_stride,
                     float *Y, size_t y_stride, int nrows, int ncols, int nb) {
    /* A tile of rows (~16 rows of a 2048-wide Q8_0 matrix is ~35 KB) is
     * reused across every activation row before moving on. */
    const int tile = 16;
    for (int r0 = 0; r0 < nrows; r0 += tile) {
        int r1 = r0 + tile < nrows ? r0 + tile : nrows;
        for (int b = 0; b < nb; b++) {
            const void *x = (const uint8_t *)xq + (size_t)b * xq_stride;
            float *y = Y + (size_t)b * y_stride;
            for (int r = r0; r < r1; r++)
                y[r] = dot(wtype, (const uint8_t *)W + (size_t)r * stride, x, ncols);
        }
    }
}

void kn_ref_matmul(uint32_t wtype, const void *W, size_t stride,
                   const void *xq, size_t xq_stride,
                   float *Y, size_t y_stride, int nrows, int ncols, int nb) {
    kn_matmul_tiled(kn_ref_vec_dot, wtype, W, stride, xq, xq_stride, Y, y_stride,
                    nrows, ncols, nb);
}
