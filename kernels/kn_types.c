/* kn_types.c: type geometry and half-precision conversions.
 *
 * The block table is private to kernels/ on purpose: the kernels must not
 * depend on the GGUF reader being linked, only on its type ids. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kn_internal.h"

int kn_block_info(uint32_t type, uint32_t *elems, uint32_t *bytes) {
    uint32_t e, b;
    switch (type) {
    case GGML_F32:  e = 1;    b = 4;   break;
    case GGML_F16:  e = 1;    b = 2;   break;
    case GGML_BF16: e = 1;    b = 2;   break;
    case GGML_Q4_0: e = QK;   b = sizeof(blk_q4_0); break;
    case GGML_Q4_1: e = QK;   b = sizeof(blk_q4_1); break;
    case GGML_Q5_0: e = QK;   b = sizeof(blk_q5_0); break;
    case GGML_Q5_1: e = QK;   b = sizeof(blk_q5_1); break;
    case GGML_Q8_0: e = QK;   b = sizeof(blk_q8_0); break;
    case GGML_Q8_1: e = QK;   b = sizeof(blk_q8_1); break;
    case GGML_Q4_K: e = QK_K; b = sizeof(blk_q4_K); break;
    case GGML_Q5_K: e = QK_K; b = sizeof(blk_q5_K); break;
    case GGML_Q6_K: e = QK_K; b = sizeof(blk_q6_K); break;
    case GGML_Q8_K: e = QK_K; b = sizeof(blk_q8_K); break;
    case KN_Q4_0_R16: e = QK; b = sizeof(blk_q4_0); break;
    case KN_Q8_0_R16: e = QK; b = sizeof(blk_q8_0); break;
    case KN_Q4_K_R16: e = QK_K; b = sizeof(blk_q4_K_r16) / 16; break;
    case KN_Q6_K_R16: e = QK_K; b = sizeof(blk_q6_K); break;
    case KN_Q4_1_R16: e = QK; b = sizeof(blk_q4_1); break;
    case KN_Q5_0_R16: e = QK; b = sizeof(blk_q5_0); break;
    case KN_Q5_1_R16: e = QK; b = sizeof(blk_q5_1); break;
    case KN_Q5_K_R16: e = QK_K; b = sizeof(blk_q5_K_r16) / 16; break;
    case KN_F32_R16: e = 1; b = 4; break;
    case KN_F16_R16: case KN_BF16_R16: case KN_BF16_R16B: e = 1; b = 2; break;
    default: return 0;
    }
    if (elems) *elems = e;
    if (bytes) *bytes = b;
    return 1;
}

size_t kn_row_bytes(uint32_t type, int64_t n) {
    uint32_t e, b;
    if (!kn_block_info(type, &e, &b) || n < 0) return 0;
    return (size_t)(n / e) * b;
}

uint32_t kn_act_type(uint32_t wtype) {
    switch (wtype) {
    case GGML_F32: case GGML_F16: case GGML_BF16: return GGML_F32;
    case KN_F32_R16: case KN_F16_R16: case KN_BF16_R16: return GGML_F32;
    case KN_BF16_R16B: return GGML_BF16;
    case GGML_Q4_0: case GGML_Q5_0: case GGML_Q8_0: return GGML_Q8_0;
    case KN_Q4_0_R16: case KN_Q5_0_R16: case KN_Q8_0_R16: return GGML_Q8_0;
    case GGML_Q4_1: case GGML_Q5_1: return GGML_Q8_1;
    case KN_Q4_1_R16: case KN_Q5_1_R16: return GGML_Q8_1;
    case GGML_Q4_K: case GGML_Q5_K: case GGML_Q6_K: return GGML_Q8_K;
    case KN_Q4_K_R16: case KN_Q5_K_R16: case KN_Q6_K_R16: return GGML_Q8_K;
    default: return 0;
    }
}

/* Not kn_act_type() != 0: the half types' activation type, F32, is id 0. */
int kn_type_supported(uint32_t wtype) {
    switch (wtype) {
    case GGML_F32: case GGML_F16: case GGML_BF16:
    case GGML_Q4_0: case GGML_Q4_1: case GGML_Q5_0: case GGML_Q5_1: case GGML_Q8_0:
    case GGML_Q4_K: case GGML_Q5_K: case GGML_Q6_K:
        return 1;
    default:
        return 0;
    }
}

/* BF16 weights take BF16 activations (VDPBF16PS) only on request:
 * rounding the activations to BF16 changes results by ~1e-3 relative,
 * more than the F32-activation contract the engine tests hold BF16 to. */
static int bf16_act_requested(void) {
    const char *e = getenv("WASMLET_BF16_ACT");
    return e && strcmp(e, "1") == 0;
}

uint32_t kn_pack_type(const kn_ops *o, uint32_t wtype, int nrows, int ncols) {
    if (!o || !o->packs_r16 || nrows < 16 || nrows % 16 || ncols < QK || ncols % QK ||
        ncols / QK > KN_R16_MAX_BLOCKS)
        return 0;
    switch (wtype) {
    case GGML_Q4_K: case GGML_Q5_K: case GGML_Q6_K:
        return ncols % QK_K ? 0 : 0x100u | wtype;
    case GGML_Q4_0: case GGML_Q4_1: case GGML_Q5_0: case GGML_Q5_1: case GGML_Q8_0:
    case GGML_F32: case GGML_F16:
        return 0x100u | wtype;
    case GGML_BF16:
        return o->isa == KN_AVX512 && kn_cpu_has_avx512bf16() && bf16_act_requested() ? KN_BF16_R16B
                                                                                      : KN_BF16_R16;
    default:
        return 0;
    }
}

/* Float rows: group g, column j (or pair j/2 for BF16), row r. Units of
 * 2 or 4 bytes copied as integers (a GB of weights at load: a memcpy call
 * per element took seconds). */
static void pack_float(uint32_t ptype, const void *src, void *dst, int nrows, int ncols) {
    const size_t unit = ptype == KN_F16_R16 ? 2 : 4, es = ptype == KN_F32_R16 ? 4 : 2;
    const size_t per = (size_t)ncols * es / unit;   /* units per row */
    for (int g = 0; g < nrows / 16; g++) {
        const uint8_t *in = (const uint8_t *)src + (size_t)g * 16 * per * unit;
        uint8_t *out = (uint8_t *)dst + (size_t)g * 16 * per * unit;
        for (size_t k = 0; k < per; k++)
            for (int r = 0; r < 16; r++) {
                const uint8_t *p = in + ((size_t)r * per + k) * unit;
                if (unit == 2) {
                    uint16_t v;
                    memcpy(&v, p, 2);
                    memcpy(out + (16 * k + (size_t)r) * 2, &v, 2);
                } else {
                    uint32_t v;
                    memcpy(&v, p, 4);
                    memcpy(out + (16 * k + (size_t)r) * 4, &v, 4);
                }
            }
    }
}

/* Q4_1/Q5_0/Q5_1: scales, mins, reordered fifth bits, nibble words. */
static void pack_q45(uint32_t ptype, const void *src, void *dst, int nrows, int ncols) {
    const int has_m = ptype != KN_Q5_0_R16, has_h = ptype != KN_Q4_1_R16, nb = ncols / QK;
    uint32_t be, bsz;
    kn_block_info(ptype & 0xffu, &be, &bsz);
    const size_t stride = (size_t)nb * bsz, hoff = has_m ? 64 : 32, qoff = hoff + (has_h ? 64 : 0);
    const size_t gh = has_m ? 4 : 2, gq = has_h ? gh + 4 : 4;   /* GGUF offsets of qh and qs */
    for (int g = 0; g < nrows / 16; g++)
        for (int k = 0; k < nb; k++) {
            uint8_t *out = (uint8_t *)dst + ((size_t)g * (size_t)nb + (size_t)k) * 16 * bsz;
            for (int r = 0; r < 16; r++) {
                const uint8_t *b = (const uint8_t *)src + (size_t)(16 * g + r) * stride + (size_t)k * bsz;
                memcpy(out + 2 * r, b, 2);
                if (has_m) memcpy(out + 32 + 2 * r, b + 2, 2);
                if (has_h) {
                    uint32_t qh, re = 0;
                    memcpy(&qh, b + gh, 4);
                    for (int v = 0; v < 8; v++)
                        for (int by = 0; by < 4; by++) re |= ((qh >> (4 * v + by)) & 1u) << (8 * by + v);
                    memcpy(out + hoff + 4 * (size_t)r, &re, 4);
                }
                for (int v = 0; v < 4; v++)
                    memcpy(out + qoff + 4 * (16 * (size_t)v + (size_t)r), b + gq + 4 * v, 4);
            }
        }
}

/* Q4_K, and Q5_K (q5) with its fifth bits after the Q4_K part. */
static void pack_q4_K(const void *src, void *dst, int nrows, int ncols, int q5) {
    const int nb = ncols / QK_K;
    const size_t bsz = q5 ? sizeof(blk_q5_K) : sizeof(blk_q4_K), stride = (size_t)nb * bsz;
    const size_t osz = q5 ? sizeof(blk_q5_K_r16) : sizeof(blk_q4_K_r16);
    for (int g = 0; g < nrows / 16; g++)
        for (int k = 0; k < nb; k++) {
            blk_q5_K_r16 o5;
            blk_q4_K_r16 o;
            for (int r = 0; r < 16; r++) {
                blk_q4_K b;
                const uint8_t *in = (const uint8_t *)src + (size_t)(16 * g + r) * stride + (size_t)k * bsz;
                if (q5) {
                    blk_q5_K b5;
                    memcpy(&b5, in, sizeof b5);
                    memcpy(&b, &b5, 16);   /* d, dmin, scales */
                    memcpy(b.qs, b5.qs, sizeof b.qs);
                    for (int v = 0; v < 8; v++) memcpy(&o5.qh[v][r], b5.qh + 4 * v, 4);
                } else {
                    memcpy(&b, in, sizeof b);
                }
                o.d[r] = b.d;
                o.dmin[r] = b.dmin;
                for (int w = 0; w < 3; w++) memcpy(&o.s[w][r], b.scales + 4 * w, 4);
                for (int c = 0; c < 4; c++)
                    for (int v = 0; v < 8; v++) memcpy(&o.q[c][v][r], b.qs + 32 * c + 4 * v, 4);
            }
            o5.k4 = o;
            memcpy((uint8_t *)dst + ((size_t)g * (size_t)nb + (size_t)k) * osz, q5 ? (const void *)&o5 : &o, osz);
        }
}

static void pack_q6_K(const void *src, void *dst, int nrows, int ncols) {
    const int nb = ncols / QK_K;
    const size_t stride = (size_t)nb * sizeof(blk_q6_K);
    for (int g = 0; g < nrows / 16; g++)
        for (int k = 0; k < nb; k++) {
            blk_q6_K_r16 o;
            for (int r = 0; r < 16; r++) {
                blk_q6_K b;
                memcpy(&b, (const uint8_t *)src + (size_t)(16 * g + r) * stride + (size_t)k * sizeof b, sizeof b);
                o.d[r] = b.d;
                for (int j = 0; j < 16; j++) o.sc[j][r] = b.scales[j];
                for (int h = 0; h < 2; h++)
                    for (int v = 0; v < 8; v++) {
                        memcpy(&o.ql[h][0][v][r], b.ql + 64 * h + 4 * v, 4);
                        memcpy(&o.ql[h][1][v][r], b.ql + 64 * h + 32 + 4 * v, 4);
                        memcpy(&o.qh[h][v][r], b.qh + 32 * h + 4 * v, 4);
                    }
            }
            memcpy((uint8_t *)dst + ((size_t)g * (size_t)nb + (size_t)k) * sizeof o, &o, sizeof o);
        }
}

void kn_pack(uint32_t ptype, const void *src, void *dst, int nrows, int ncols) {
    switch (ptype) {
    case KN_Q4_K_R16: case KN_Q5_K_R16:
        pack_q4_K(src, dst, nrows, ncols, ptype == KN_Q5_K_R16);
        return;
    case KN_F32_R16: case KN_F16_R16: case KN_BF16_R16: case KN_BF16_R16B:
        pack_float(ptype, src, dst, nrows, ncols);
        return;
    case KN_Q4_1_R16: case KN_Q5_0_R16: case KN_Q5_1_R16:
        pack_q45(ptype, src, dst, nrows, ncols);
        return;
    default: break;
    }
    if (ptype == KN_Q6_K_R16) {
        pack_q6_K(src, dst, nrows, ncols);
        return;
    }
    const int q8 = ptype == KN_Q8_0_R16, nv = q8 ? 8 : 4, nb = ncols / QK;
    const size_t bsz = q8 ? sizeof(blk_q8_0) : sizeof(blk_q4_0), stride = (size_t)nb * bsz;
    const uint32_t flip = q8 ? 0x80808080u : 0;
    for (int g = 0; g < nrows / 16; g++)
        for (int k = 0; k < nb; k++) {
            uint8_t *out = (uint8_t *)dst + ((size_t)g * (size_t)nb + (size_t)k) * 16 * bsz;
            for (int r = 0; r < 16; r++) {
                const uint8_t *b = (const uint8_t *)src + (size_t)(16 * g + r) * stride + (size_t)k * bsz;
                memcpy(out + 2 * r, b, 2);
                for (int v = 0; v < nv; v++) {
                    uint32_t w;
                    memcpy(&w, b + 2 + 4 * v, 4);
                    w ^= flip;
                    memcpy(out + 32 + 4 * (16 * (size_t)v + (size_t)r), &w, 4);
                }
            }
        }
}

static uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float kn_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0) {
        /* zero or subnormal: mant * 2^-24 is exact in f32 */
        float v = (float)mant * 0x1p-24f;
        return u2f(sign | f2u(v));
    }
    if (exp == 31) return u2f(sign | 0x7f800000u | (mant << 13));
    return u2f(sign | ((exp + 112) << 23) | (mant << 13));
}

/* Round to nearest even, like F16C's VCVTPS2PH with RNE, so SIMD
 * conversions agree bit for bit. */
uint16_t kn_f32_to_f16(float f) {
    uint32_t x = f2u(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000);
    x &= 0x7fffffffu;
    if (x > 0x7f800000u) return (uint16_t)(sign | 0x7e00 | ((x >> 13) & 0x3ff));
    if (x >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);  /* >= 65520: inf */
    if (x < 0x38800000u) {
        /* Below 2^-14: the sum lands in 0.5's binade whose ulp is 2^-24, the
         * half subnormal step, so the FPU does the RNE rounding for us. */
        float t = u2f(x) + 0.5f;
        return (uint16_t)(sign | (f2u(t) - f2u(0.5f)));
    }
    uint32_t odd = (x >> 13) & 1;
    x += ((uint32_t)(15 - 127) << 23) + 0xfff + odd;
    return (uint16_t)(sign | (x >> 13));
}

float kn_bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }

uint16_t kn_f32_to_bf16(float f) {
    uint32_t x = f2u(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40);  /* quiet NaN */
    x += 0x7fff + ((x >> 16) & 1);
    return (uint16_t)(x >> 16);
}
