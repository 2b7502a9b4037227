/* arm_neon.c: the AArch64 Advanced SIMD table (baseline ARMv8.0: no
 * dot-product extension needed, so it runs on every AArch64 CPU).
 *
 * Quantized rows: widening int8 multiplies (vmull_s8, each product fits
 * int16) with pairwise accumulation into int32 (vpadalq_s16), so each
 * block's integer dot is exact, then scaled and summed in float (lanes for
 * the 32-element types; the reference's per-super-block expression for the
 * K-quants). F32/F16/BF16 rows and the elementwise ops use float lanes
 * with FMA. */
#include <arm_neon.h>
#include <math.h>
#include <string.h>
#include "kn_internal.h"

#define H2F kn_f16_to_f32

static inline int32x4_t dot32_s8(int8x16_t a0, int8x16_t a1, int8x16_t b0, int8x16_t b1) {
    int32x4_t s = vdupq_n_s32(0);
    s = vpadalq_s16(s, vmull_s8(vget_low_s8(a0), vget_low_s8(b0)));
    s = vpadalq_s16(s, vmull_high_s8(a0, b0));
    s = vpadalq_s16(s, vmull_s8(vget_low_s8(a1), vget_low_s8(b1)));
    s = vpadalq_s16(s, vmull_high_s8(a1, b1));
    return s;
}

static float vd_q4_0(const blk_q4_0 *w, const blk_q8_0 *x, int nb) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    const uint8x16_t m4 = vdupq_n_u8(15);
    const int8x16_t k8 = vdupq_n_s8(8);
    for (int i = 0; i < nb; i++) {
        uint8x16_t b = vld1q_u8(w[i].qs);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(b, m4)), k8);
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(b, 4)), k8);
        int32x4_t s = dot32_s8(lo, hi, vld1q_s8(x[i].qs), vld1q_s8(x[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), H2F(w[i].d) * H2F(x[i].d));
    }
    return vaddvq_f32(acc);
}

static float vd_q8_0(const blk_q8_0 *w, const blk_q8_0 *x, int nb) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    for (int i = 0; i < nb; i++) {
        int32x4_t s = dot32_s8(vld1q_s8(w[i].qs), vld1q_s8(w[i].qs + 16),
                               vld1q_s8(x[i].qs), vld1q_s8(x[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), H2F(w[i].d) * H2F(x[i].d));
    }
    return vaddvq_f32(acc);
}

/* 0x10 in byte i where bit i of the 32-bit little-endian qh is set:
 * elements 0-15 in *lo, 16-31 in *hi. */
static inline void bit4_from_qh(const uint8_t *qh, uint8x16_t *lo, uint8x16_t *hi) {
    static const uint8_t bits[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t b = vld1q_u8(bits), k10 = vdupq_n_u8(0x10);
    *lo = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[0]), vdup_n_u8(qh[1])), b), k10);
    *hi = vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[2]), vdup_n_u8(qh[3])), b), k10);
}

static float vd_q5_0(const blk_q5_0 *w, const blk_q8_0 *x, int nb) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    const uint8x16_t m4 = vdupq_n_u8(15);
    const int8x16_t k16 = vdupq_n_s8(16);
    for (int i = 0; i < nb; i++) {
        uint8x16_t b = vld1q_u8(w[i].qs), hl, hh;
        bit4_from_qh(w[i].qh, &hl, &hh);
        int8x16_t lo = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(b, m4), hl)), k16);
        int8x16_t hi = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(b, 4), hh)), k16);
        int32x4_t s = dot32_s8(lo, hi, vld1q_s8(x[i].qs), vld1q_s8(x[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), H2F(w[i].d) * H2F(x[i].d));
    }
    return vaddvq_f32(acc);
}

/* Q4_1 / Q5_1 (has_qh): unsigned quants, plus the m * s term per block. */
static float vd_x_1(const uint8_t *blk, size_t bsz, int has_qh, const blk_q8_1 *x, int nb) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    float ms = 0.0f;
    const uint8x16_t m4 = vdupq_n_u8(15);
    for (int i = 0; i < nb; i++, blk += bsz) {
        uint16_t d, m;
        memcpy(&d, blk, 2);
        memcpy(&m, blk + 2, 2);
        uint8x16_t b = vld1q_u8(blk + (has_qh ? 8 : 4));
        uint8x16_t lo = vandq_u8(b, m4), hi = vshrq_n_u8(b, 4);
        if (has_qh) {
            uint8x16_t hl, hh;
            bit4_from_qh(blk + 4, &hl, &hh);
            lo = vorrq_u8(lo, hl);
            hi = vorrq_u8(hi, hh);
        }
        int32x4_t s = dot32_s8(vreinterpretq_s8_u8(lo), vreinterpretq_s8_u8(hi),
                               vld1q_s8(x[i].qs), vld1q_s8(x[i].qs + 16));
        acc = vfmaq_n_f32(acc, vcvtq_f32_s32(s), H2F(d) * H2F(x[i].d));
        ms += H2F(m) * H2F(x[i].s);
    }
    return vaddvq_f32(acc) + ms;
}

static float vd_bf16(const uint16_t *w, const float *x, int n) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        uint16x8_t h = vld1q_u16(w + i);
        a0 = vfmaq_f32(a0, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(h), 16)), vld1q_f32(x + i));
        a1 = vfmaq_f32(a1, vreinterpretq_f32_u32(vshll_high_n_u16(h, 16)), vld1q_f32(x + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++) s += kn_bf16_to_f32(w[i]) * x[i];
    return s;
}

static float vd_f32(const float *w, const float *x, int n) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        a0 = vfmaq_f32(a0, vld1q_f32(w + i), vld1q_f32(x + i));
        a1 = vfmaq_f32(a1, vld1q_f32(w + i + 4), vld1q_f32(x + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}

static float vd_f16(const uint16_t *w, const float *x, int n) {
    float32x4_t a0 = vdupq_n_f32(0.0f), a1 = vdupq_n_f32(0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        float16x8_t h = vreinterpretq_f16_u16(vld1q_u16(w + i));
        a0 = vfmaq_f32(a0, vcvt_f32_f16(vget_low_f16(h)), vld1q_f32(x + i));
        a1 = vfmaq_f32(a1, vcvt_high_f32_f16(h), vld1q_f32(x + i + 4));
    }
    float s = vaddvq_f32(vaddq_f32(a0, a1));
    for (; i < n; i++) s += H2F(w[i]) * x[i];
    return s;
}

/* dot of 16 int8 pairs as an exact int */
static inline int dot16_s8(int8x16_t a, int8x16_t b) {
    int32x4_t s = vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    s = vpadalq_s16(s, vmull_high_s8(a, b));
    return vaddvq_s32(s);
}

/* Q4_K / Q5_K (qh NULL for Q4_K): integer parts exactly as the scalar
 * reference, and the same float expression per super-block. */
static float vd_k4(const uint8_t *blk, size_t bsz, int has_qh, const blk_q8_K *x, int nb) {
    float s = 0.0f;
    const uint8x16_t m4 = vdupq_n_u8(15), one = vdupq_n_u8(1);
    for (int i = 0; i < nb; i++, blk += bsz) {
        const blk_q4_K *w = (const blk_q4_K *)blk;   /* Q5_K shares the first 16 bytes */
        const uint8_t *qs = has_qh ? ((const blk_q5_K *)blk)->qs : w->qs;
        uint64_t sc64, mn64;
        k4_unpack(w->scales, &sc64, &mn64);
        uint8_t sc[8], mn[8];
        memcpy(sc, &sc64, 8);
        memcpy(mn, &mn64, 8);
        int16x8_t bs = vpaddq_s16(vld1q_s16(x[i].bsums), vld1q_s16(x[i].bsums + 8));
        int16x8_t m16 = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
        int32x4_t mp = vmull_s16(vget_low_s16(bs), vget_low_s16(m16));
        mp = vmlal_high_s16(mp, bs, m16);
        int macc = vaddvq_s32(mp), acc = 0;
        uint8x16_t h0 = vdupq_n_u8(0), h1 = vdupq_n_u8(0);
        if (has_qh) {
            h0 = vld1q_u8(((const blk_q5_K *)blk)->qh);
            h1 = vld1q_u8(((const blk_q5_K *)blk)->qh + 16);
        }
        const int8_t *y = x[i].qs;
        for (int c = 0; c < 4; c++, y += 64) {
            uint8x16_t b0 = vld1q_u8(qs + 32 * c), b1 = vld1q_u8(qs + 32 * c + 16);
            uint8x16_t lo0 = vandq_u8(b0, m4), lo1 = vandq_u8(b1, m4);
            uint8x16_t hi0 = vshrq_n_u8(b0, 4), hi1 = vshrq_n_u8(b1, 4);
            if (has_qh) {
                int8x16_t sl = vdupq_n_s8((int8_t)(-2 * c)), sh = vdupq_n_s8((int8_t)(-2 * c - 1));
                lo0 = vorrq_u8(lo0, vshlq_n_u8(vandq_u8(vshlq_u8(h0, sl), one), 4));
                lo1 = vorrq_u8(lo1, vshlq_n_u8(vandq_u8(vshlq_u8(h1, sl), one), 4));
                hi0 = vorrq_u8(hi0, vshlq_n_u8(vandq_u8(vshlq_u8(h0, sh), one), 4));
                hi1 = vorrq_u8(hi1, vshlq_n_u8(vandq_u8(vshlq_u8(h1, sh), one), 4));
            }
            int d0 = dot16_s8(vreinterpretq_s8_u8(lo0), vld1q_s8(y)) +
                     dot16_s8(vreinterpretq_s8_u8(lo1), vld1q_s8(y + 16));
            int d1 = dot16_s8(vreinterpretq_s8_u8(hi0), vld1q_s8(y + 32)) +
                     dot16_s8(vreinterpretq_s8_u8(hi1), vld1q_s8(y + 48));
            acc += sc[2 * c] * d0 + sc[2 * c + 1] * d1;
        }
        s += H2F(w->d) * x[i].d * (float)acc - H2F(w->dmin) * x[i].d * (float)macc;
    }
    return s;
}

static float vd_q6_K(const blk_q6_K *w, const blk_q8_K *x, int nb) {
    float s = 0.0f;
    const uint8x16_t m4 = vdupq_n_u8(15), m2 = vdupq_n_u8(3);
    const int8x16_t k32 = vdupq_n_s8(32);
    for (int i = 0; i < nb; i++) {
        int acc = 0;
        for (int h = 0; h < 2; h++) {
            const uint8_t *ql = w[i].ql + 64 * h, *qh = w[i].qh + 32 * h;
            const int8_t *sc = w[i].scales + 8 * h, *y = x[i].qs + 128 * h;
            for (int k = 0; k < 2; k++) {   /* l in [16k, 16k + 16) */
                uint8x16_t la = vld1q_u8(ql + 16 * k), lb = vld1q_u8(ql + 32 + 16 * k);
                uint8x16_t hb = vld1q_u8(qh + 16 * k);
                uint8x16_t q[4];
                q[0] = vorrq_u8(vandq_u8(la, m4), vshlq_n_u8(vandq_u8(hb, m2), 4));
                q[1] = vorrq_u8(vandq_u8(lb, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 2), m2), 4));
                q[2] = vorrq_u8(vshrq_n_u8(la, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(hb, 4), m2), 4));
                q[3] = vorrq_u8(vshrq_n_u8(lb, 4), vshlq_n_u8(vshrq_n_u8(hb, 6), 4));
                for (int g = 0; g < 4; g++) {
                    int8x16_t v = vsubq_s8(vreinterpretq_s8_u8(q[g]), k32);
                    acc += sc[2 * g + k] * dot16_s8(v, vld1q_s8(y + 32 * g + 16 * k));
                }
            }
        }
        s += H2F(w[i].d) * x[i].d * (float)acc;
    }
    return s;
}

static float neon_vec_dot(uint32_t t, const void *w, const void *xq, int n) {
    switch (t) {
    case GGML_F32: return vd_f32(w, xq, n);
    case GGML_F16: return vd_f16(w, xq, n);
    case GGML_Q4_0: return vd_q4_0(w, xq, n / QK);
    case GGML_Q8_0: return vd_q8_0(w, xq, n / QK);
    case GGML_Q5_0: return vd_q5_0(w, xq, n / QK);
    case GGML_Q4_1: return vd_x_1(w, sizeof(blk_q4_1), 0, xq, n / QK);
    case GGML_Q5_1: return vd_x_1(w, sizeof(blk_q5_1), 1, xq, n / QK);
    case GGML_BF16: return vd_bf16(w, xq, n);
    case GGML_Q4_K: return vd_k4(w, sizeof(blk_q4_K), 0, xq, n / QK_K);
    case GGML_Q5_K: return vd_k4(w, sizeof(blk_q5_K), 1, xq, n / QK_K);
    case GGML_Q6_K: return vd_q6_K(w, xq, n / QK_K);
    default: return 0.0f;
    }
}

static void neon_matvec(uint32_t t, const void *W, size_t stride, const void *xq,
                        float *y, int nrows, int ncols) {
    for (int r = 0; r < nrows; r++)
        y[r] = neon_vec_dot(t, (const uint8_t *)W + (size_t)r * stride, xq, ncols);
}

static void neon_matmul(uint32_t t, const void *W, size_t stride, const void *xq, size_t xq_stride,
                        float *Y, size_t y_stride, int nrows, int ncols, int nb) {
    kn_matmul_tiled(neon_vec_dot, t, W, stride, xq, xq_stride, Y, y_stride, nrows, ncols, nb);
}

/* ---- activation quantization: bit-identical to the reference ---- */

static float amax_n(const float *x, int n) {
    float32x4_t m = vdupq_n_f32(0.0f);
    for (int j = 0; j < n; j += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + j)));
    return vmaxvq_f32(m);
}

/* rint with ties to even (FCVTNS), after the reference's clamp */
static void q8_store_n(const float *x, float id, int8_t *out, int n) {
    const float32x4_t lo = vdupq_n_f32(-127.0f), hi = vdupq_n_f32(127.0f);
    for (int j = 0; j < n; j += 8) {
        float32x4_t a = vminq_f32(vmaxq_f32(vmulq_n_f32(vld1q_f32(x + j), id), lo), hi);
        float32x4_t b = vminq_f32(vmaxq_f32(vmulq_n_f32(vld1q_f32(x + j + 4), id), lo), hi);
        int16x8_t h = vcombine_s16(vqmovn_s32(vcvtnq_s32_f32(a)), vqmovn_s32(vcvtnq_s32_f32(b)));
        vst1_s8(out + j, vqmovn_s16(h));
    }
}

static void neon_quantize_act(uint32_t at, const float *x, void *dst, int n) {
    switch (at) {
    case GGML_Q8_0: case GGML_Q8_1: {
        int is1 = at == GGML_Q8_1;
        uint8_t *out = dst;
        size_t bs = is1 ? sizeof(blk_q8_1) : sizeof(blk_q8_0);
        for (int i = 0; i < n / QK; i++, x += QK, out += bs) {
            float amax = amax_n(x, QK);
            uint16_t d = kn_f32_to_f16(amax / 127.0f);
            int8_t *qs = (int8_t *)(out + (is1 ? 4 : 2));
            q8_store_n(x, amax > 0.0f ? 127.0f / amax : 0.0f, qs, QK);
            memcpy(out, &d, 2);
            if (is1) {
                int s = vaddlvq_s16(vaddq_s16(vmovl_s8(vld1_s8(qs)), vmovl_s8(vld1_s8(qs + 8)))) +
                        vaddlvq_s16(vaddq_s16(vmovl_s8(vld1_s8(qs + 16)), vmovl_s8(vld1_s8(qs + 24))));
                uint16_t sh = kn_f32_to_f16(kn_f16_to_f32(d) * (float)s);
                memcpy(out + 2, &sh, 2);
            }
        }
        break;
    }
    case GGML_Q8_K: {
        blk_q8_K *b = dst;
        for (int i = 0; i < n / QK_K; i++, x += QK_K) {
            float amax = amax_n(x, QK_K);
            b[i].d = amax / 127.0f;
            q8_store_n(x, amax > 0.0f ? 127.0f / amax : 0.0f, b[i].qs, QK_K);
            for (int g = 0; g < QK_K / 16; g++)
                b[i].bsums[g] = (int16_t)vaddlvq_s8(vld1q_s8(b[i].qs + 16 * g));
        }
        break;
    }
    default: kn_ref_quantize_act(at, x, dst, n); break;
    }
}

/* ---- elementwise ---- */

/* exp(x): the same clamp, range reduction and polynomial as the x86
 * version (x86_simd.h). */
static inline float32x4_t exp4(float32x4_t x) {
    x = vminq_f32(x, vdupq_n_f32(88.0f));
    x = vmaxq_f32(x, vdupq_n_f32(-87.3365447504f));
    float32x4_t fx = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    x = vfmsq_f32(x, fx, vdupq_n_f32(0.693359375f));
    x = vfmsq_f32(x, fx, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t y = vdupq_n_f32(1.9875691500e-4f);
    y = vfmaq_f32(vdupq_n_f32(1.3981999507e-3f), y, x);
    y = vfmaq_f32(vdupq_n_f32(8.3334519073e-3f), y, x);
    y = vfmaq_f32(vdupq_n_f32(4.1665795894e-2f), y, x);
    y = vfmaq_f32(vdupq_n_f32(1.6666665459e-1f), y, x);
    y = vfmaq_f32(vdupq_n_f32(5.0000001201e-1f), y, x);
    y = vfmaq_f32(vaddq_f32(x, vdupq_n_f32(1.0f)), y, vmulq_f32(x, x));
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(fx), vdupq_n_s32(127)), 23);
    return vmulq_f32(y, vreinterpretq_f32_s32(e));
}

static float neon_dot_f32(const float *a, const float *b, int n) { return vd_f32(a, b, n); }

static void neon_axpy(float *y, float a, const float *x, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(y + i, vfmaq_n_f32(vld1q_f32(y + i), vld1q_f32(x + i), a));
    for (; i < n; i++) y[i] += a * x[i];
}

static void neon_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float r = 1.0f / sqrtf(vd_f32(x, x, n) / (float)n + eps);
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), r), vld1q_f32(w + i)));
    for (; i < n; i++) out[i] = x[i] * r * w[i];
}

static void neon_softmax(float *x, int n) {
    if (n <= 0) return;
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = fmaxf(mx, x[i]);
    float32x4_t vs = vdupq_n_f32(0.0f), vmx = vdupq_n_f32(mx);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t e = exp4(vsubq_f32(vld1q_f32(x + i), vmx));
        vst1q_f32(x + i, e);
        vs = vaddq_f32(vs, e);
    }
    float sum = vaddvq_f32(vs);
    for (; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(x + i, vmulq_n_f32(vld1q_f32(x + i), inv));
    for (; i < n; i++) x[i] *= inv;
}

static void neon_silu_mul(float *g, const float *up, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t v = vld1q_f32(g + i);
        float32x4_t s = vdivq_f32(v, vaddq_f32(vdupq_n_f32(1.0f), exp4(vnegq_f32(v))));
        vst1q_f32(g + i, vmulq_f32(s, vld1q_f32(up + i)));
    }
    for (; i < n; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * up[i];
}

static void neon_attention_head(float *out, const float *q, const void *k, const void *v,
                                size_t kv_stride, uint32_t kv_type, int n_pos, int head_dim,
                                float scale, float *scratch) {
    int f16 = kv_type == GGML_F16;
    for (int p = 0; p < n_pos; p++) {
        const void *kp = (const uint8_t *)k + (size_t)p * kv_stride;
        scratch[p] = scale * (f16 ? vd_f16(kp, q, head_dim) : vd_f32(kp, q, head_dim));
    }
    neon_softmax(scratch, n_pos);
    memset(out, 0, sizeof(float) * (size_t)head_dim);
    for (int p = 0; p < n_pos; p++) {
        const void *vp = (const uint8_t *)v + (size_t)p * kv_stride;
        float a = scratch[p];
        if (!f16) {
            neon_axpy(out, a, vp, head_dim);
            continue;
        }
        const uint16_t *h = vp;
        int i = 0;
        for (; i + 8 <= head_dim; i += 8) {
            float16x8_t hv = vreinterpretq_f16_u16(vld1q_u16(h + i));
            vst1q_f32(out + i, vfmaq_n_f32(vld1q_f32(out + i), vcvt_f32_f16(vget_low_f16(hv)), a));
            vst1q_f32(out + i + 4, vfmaq_n_f32(vld1q_f32(out + i + 4), vcvt_high_f32_f16(hv), a));
        }
        for (; i < head_dim; i++) out[i] += a * H2F(h[i]);
    }
}

static void neon_attention(float *out, const float *q, int n_q, const void *k, const void *v,
                           size_t kv_stride, uint32_t kv_type, int n_pos, int head_dim,
                           float scale, float *scratch) {
    for (int h = 0; h < n_q; h++)
        neon_attention_head(out + (size_t)h * head_dim, q + (size_t)h * head_dim, k, v, kv_stride,
                            kv_type, n_pos, head_dim, scale, scratch);
}

const kn_ops kn_ops_neon = {
    .name = "neon", .isa = KN_NEON,
    .quantize_act = neon_quantize_act,
    .matvec = neon_matvec,
    .matmul = neon_matmul,
    .rmsnorm = neon_rmsnorm,
    .softmax = neon_softmax,
    .silu_mul = neon_silu_mul,
    .rope = kn_ref_rope,
    .attention = neon_attention,
    .dot_f32 = neon_dot_f32,
    .axpy = neon_axpy,
};
