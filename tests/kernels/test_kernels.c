/* test_kernels: the scalar reference against first principles, then every
 * ISA table this CPU can run against the scalar reference.
 *
 *   test_kernels            run everything (exit 1 on the first failure)
 *   test_kernels dispatch [ISA]   print the table kn_get() picked; with
 *                           ISA, fail unless it is ISA (skip if the CPU
 *                           cannot run ISA): the WASMLET_KERNELS tests
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kn_internal.h"

static int g_fail;
#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); g_fail++; return; } } while (0)

/* ---- deterministic data ---- */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd64(void) {
    uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static float unif(void) { return (float)((rnd64() >> 40) * 0x1p-24); }   /* [0,1) */
static float gauss(void) {
    float u = unif() + 1e-7f, v = unif();
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

enum { D_GAUSS, D_ZERO, D_BIG, D_CONST, D_OUTLIER, D_COUNT };
static const char *dname[] = {"gauss", "zeros", "big", "const", "outlier"};
static void fill(float *x, int n, int kind) {
    for (int i = 0; i < n; i++) {
        switch (kind) {
        case D_GAUSS: x[i] = gauss(); break;
        case D_ZERO: x[i] = 0.0f; break;
        case D_BIG: x[i] = gauss() * 2000.0f; break;   /* scales stay finite in f16 */
        case D_CONST: x[i] = 0.75f; break;
        case D_OUTLIER: x[i] = (i % 37 == 5) ? 30.0f : gauss() * 0.01f; break;
        }
    }
}

static const uint32_t wtypes[] = {GGML_F32, GGML_F16, GGML_BF16, GGML_Q8_0, GGML_Q4_0, GGML_Q4_1,
                                  GGML_Q5_0, GGML_Q5_1, GGML_Q4_K, GGML_Q5_K, GGML_Q6_K};
#define NW (int)(sizeof wtypes / sizeof wtypes[0])
static const char *tname(uint32_t t) {
    switch (t) {
    case GGML_F32: return "F32"; case GGML_F16: return "F16"; case GGML_BF16: return "BF16";
    case GGML_Q8_0: return "Q8_0"; case GGML_Q4_0: return "Q4_0"; case GGML_Q4_1: return "Q4_1";
    case GGML_Q5_0: return "Q5_0"; case GGML_Q5_1: return "Q5_1"; case GGML_Q4_K: return "Q4_K";
    case GGML_Q5_K: return "Q5_K"; case GGML_Q6_K: return "Q6_K"; case GGML_Q8_1: return "Q8_1";
    case GGML_Q8_K: return "Q8_K"; default: return "?";
    }
}
/* Relative RMS round-trip error each type must stay under on Gaussian data
 * (a uniform quantizer with step s has RMS error s/sqrt(12)). */
static double rt_bound(uint32_t t) {
    switch (t) {
    case GGML_F32: return 0.0;
    case GGML_F16: return 4e-4;
    case GGML_BF16: return 3e-3;
    case GGML_Q8_0: return 0.007;
    case GGML_Q6_K: return 0.03;
    case GGML_Q5_0: case GGML_Q5_1: case GGML_Q5_K: return 0.05;
    default: return 0.1;   /* 4-bit types */
    }
}

/* ---- half precision ---- */
static void test_half(void) {
    for (uint32_t h = 0; h < 65536; h++) {
        float f = kn_f16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        CHECK(kn_f32_to_f16(f) == h, "f16 %04x does not round-trip", h);
        CHECK(kn_f32_to_bf16(kn_bf16_to_f32((uint16_t)h)) == h || isnan(kn_bf16_to_f32((uint16_t)h)),
              "bf16 %04x does not round-trip", h);
    }
    /* nearest, ties to even, overflow to inf */
    for (int i = 0; i < 200000; i++) {
        uint32_t u = (uint32_t)rnd64();
        float f;
        memcpy(&f, &u, 4);
        if (isnan(f) || fabsf(f) >= 65520.0f) continue;
        uint16_t h = kn_f32_to_f16(f);
        double e = fabs((double)kn_f16_to_f32(h) - f);
        for (int dlt = -1; dlt <= 1; dlt += 2) {
            uint16_t n = (uint16_t)(h + dlt);
            if ((n & 0x7c00) == 0x7c00 || ((h ^ n) & 0x8000)) continue;
            double en = fabs((double)kn_f16_to_f32(n) - f);
            CHECK(e < en || (e == en && !(h & 1)), "f16 of %a is %04x, not nearest-even", (double)f, h);
        }
    }
    CHECK(kn_f32_to_f16(65520.0f) == 0x7c00 && kn_f32_to_f16(65519.0f) == 0x7bff, "f16 overflow edge");
    CHECK(kn_f32_to_f16(0x1p-25f) == 0 && kn_f32_to_f16(0x1.8p-25f) == 1, "f16 subnormal rounding");
    CHECK(kn_f32_to_bf16(1.00390625f) == 0x3f80 && kn_f32_to_bf16(1.01171875f) == 0x3f82, "bf16 ties");
}

/* ---- quantize -> dequantize round trip ---- */
static void test_roundtrip(void) {
    enum { N = 4096 };
    static float x[N], y[N];
    static uint8_t q[N * 4];
    for (int k = 0; k < NW; k++) {
        uint32_t t = wtypes[k];
        for (int kind = 0; kind < D_COUNT; kind++) {
            fill(x, N, kind);
            kn_quantize_row(t, x, q, N);
            kn_dequantize_row(t, q, y, N);
            double se = 0, sx = 0;
            for (int i = 0; i < N; i++) {
                CHECK(isfinite(y[i]), "%s %s: non-finite at %d", tname(t), dname[kind], i);
                se += (double)(y[i] - x[i]) * (y[i] - x[i]);
                sx += (double)x[i] * x[i];
            }
            double rel = sx > 0 ? sqrt(se / sx) : sqrt(se);
            if (kind == D_ZERO) CHECK(se == 0, "%s: zeros do not stay zero", tname(t));
            if (kind == D_GAUSS || kind == D_BIG)
                CHECK(rel <= rt_bound(t), "%s %s: rel RMS error %.4g > %.4g", tname(t), dname[kind],
                      rel, rt_bound(t));
            if (kind == D_CONST) CHECK(rel <= 0.01, "%s const: rel error %.4g", tname(t), rel);
            if (kind == D_GAUSS && getenv("KN_VERBOSE"))
                printf("roundtrip %-5s rel RMS %.5f\n", tname(t), rel);
        }
    }
}

/* ---- activation formats ---- */
static void test_act(void) {
    enum { N = 512 };
    float x[N], y[N];
    blk_q8_1 b1[N / QK];
    blk_q8_K bk[N / QK_K];
    blk_q8_0 b0[N / QK];
    for (int kind = 0; kind < D_COUNT; kind++) {
        fill(x, N, kind);
        kn_ref_quantize_act(GGML_Q8_0, x, b0, N);
        kn_dequantize_row(GGML_Q8_0, b0, y, N);
        for (int i = 0; i < N; i++) {
            float amax = 0;
            for (int j = i / QK * QK; j < i / QK * QK + QK; j++) amax = fmaxf(amax, fabsf(x[j]));
            CHECK(fabsf(y[i] - x[i]) <= amax / 254.0f * 1.01f + amax * 1e-3f,
                  "Q8_0 act %s elem %d: %g vs %g", dname[kind], i, y[i], x[i]);
        }
        kn_ref_quantize_act(GGML_Q8_1, x, b1, N);
        for (int b = 0; b < N / QK; b++) {
            int s = 0;
            for (int j = 0; j < QK; j++) s += b1[b].qs[j];
            CHECK(kn_f32_to_f16(kn_f16_to_f32(b1[b].d) * (float)s) == b1[b].s, "Q8_1 s term");
            CHECK(memcmp(b1[b].qs, b0[b].qs, QK) == 0 && b1[b].d == b0[b].d, "Q8_1 quants != Q8_0");
        }
        kn_ref_quantize_act(GGML_Q8_K, x, bk, N);
        kn_dequantize_row(GGML_Q8_K, bk, y, N);
        for (int b = 0; b < N / QK_K; b++) {
            float amax = 0;
            for (int j = 0; j < QK_K; j++) amax = fmaxf(amax, fabsf(x[b * QK_K + j]));
            for (int j = 0; j < QK_K; j++)
                CHECK(fabsf(y[b * QK_K + j] - x[b * QK_K + j]) <= amax / 254.0f * 1.01f, "Q8_K act error");
            for (int g = 0; g < 16; g++) {
                int s = 0;
                for (int j = 0; j < 16; j++) s += bk[b].qs[16 * g + j];
                CHECK(s == bk[b].bsums[g], "Q8_K bsums[%d]", g);
            }
        }
    }
}

/* ---- weight rows: quantizer output, or raw random blocks with sane scales ---- */
static void make_weights(uint32_t t, uint8_t *w, int nrows, int ncols, int kind, int raw) {
    size_t rb = kn_row_bytes(t, ncols);
    float *row = malloc(sizeof(float) * (size_t)ncols);
    for (int r = 0; r < nrows; r++) {
        uint8_t *p = w + (size_t)r * rb;
        fill(row, ncols, kind);
        kn_quantize_row(t, row, p, ncols);
        if (!raw || t == GGML_F32 || t == GGML_F16 || t == GGML_BF16) continue;
        /* every bit pattern of quants and sub-scales, finite f16 scales */
        for (size_t i = 0; i < rb; i++) p[i] = (uint8_t)rnd64();
        uint32_t be, bb;
        kn_block_info(t, &be, &bb);
        for (size_t o = 0; o < rb; o += bb) {
            /* now and then the largest finite f16 scales */
            float big = (rnd64() & 7) == 0 ? 65504.0f : 0.01f;
            uint16_t d0 = kn_f32_to_f16(gauss() > 0 ? big : -big * unif());
            uint16_t d1 = kn_f32_to_f16(big * unif());
            switch (t) {
            case GGML_Q4_1: case GGML_Q5_1: case GGML_Q4_K: case GGML_Q5_K:
                memcpy(p + o, &d0, 2); memcpy(p + o + 2, &d1, 2); break;
            case GGML_Q6_K: memcpy(p + o + 208, &d0, 2); break;
            default: memcpy(p + o, &d0, 2); break;
            }
        }
    }
    free(row);
}

/* Sum of |w_i * x_i| over dequantized operands: the scale for float
 * tolerances (rounding error of any summation order is bounded by it). */
static double abs_dot(uint32_t t, const uint8_t *w, const void *xq, int n, double *exact) {
    uint32_t at = kn_act_type(t);
    float *dw = malloc(sizeof(float) * (size_t)n), *dx = malloc(sizeof(float) * (size_t)n);
    kn_dequantize_row(t, w, dw, n);
    kn_dequantize_row(at, xq, dx, n);
    double s = 0, e = 0;
    for (int i = 0; i < n; i++) {
        s += fabs((double)dw[i] * dx[i]);
        e += (double)dw[i] * dx[i];
    }
    if (exact) *exact = e;
    free(dw);
    free(dx);
    return s;
}

/* The scalar matvec equals the float dot of the dequantized operands. */
static void test_matvec_ref(void) {
    const int ncols = 1024, nrows = 5;
    for (int k = 0; k < NW; k++) {
        uint32_t t = wtypes[k], at = kn_act_type(t);
        size_t rb = kn_row_bytes(t, ncols);
        uint8_t *w = malloc(rb * (size_t)nrows), *xq = malloc(kn_row_bytes(at, ncols) + 4);
        float x[1024], y[5];
        for (int kind = 0; kind < D_COUNT; kind++) {
            make_weights(t, w, nrows, ncols, D_GAUSS, 0);
            fill(x, ncols, kind);
            kn_ref_quantize_act(at, x, xq, ncols);
            kn_ref_matvec(t, w, rb, xq, y, nrows, ncols);
            for (int r = 0; r < nrows; r++) {
                double exact, sabs = abs_dot(t, w + r * rb, xq, ncols, &exact);
                double tol = 2e-5 * sabs + 1e-30;
                if (at == GGML_Q8_1) {   /* s is f16-rounded: 2^-11 of |m * s| per block */
                    const blk_q8_1 *xb = (const void *)xq;
                    for (int b = 0; b < ncols / QK; b++) {
                        const uint8_t *blk = w + r * rb + (size_t)b * (t == GGML_Q4_1 ? 20 : 24);
                        uint16_t m;   /* the min sits at offset 2 in Q4_1 and Q5_1 */
                        memcpy(&m, blk + 2, 2);
                        tol += fabs(kn_f16_to_f32(m) * kn_f16_to_f32(xb[b].s)) * 0x1p-10;
                    }
                }
                CHECK(fabs(y[r] - exact) <= tol, "%s %s row %d: matvec %.9g vs dequantized %.9g",
                      tname(t), dname[kind], r, y[r], exact);
            }
        }
        free(w);
        free(xq);
    }
}

/* ---- every ISA vs scalar ---- */
static const kn_ops *S;

static void cmp_f(const char *what, const char *isa, const float *a, const float *b, int n,
                  double rtol, double atol) {
    for (int i = 0; i < n; i++)
        CHECK(fabs((double)a[i] - b[i]) <= atol + rtol * fabs((double)b[i]),
              "%s [%s] elem %d: %.9g vs scalar %.9g", what, isa, i, a[i], b[i]);
}

static void test_isa_matvec(const kn_ops *o) {
    /* odd block counts (96, 2848 = 89 blocks of 32) reach the single-block
     * tails of pairwise kernels; one block of 32 and of 256 */
    static const int shapes[][2] = {{1, 256}, {3, 512}, {7, 1024}, {33, 768}, {2, 2816},
                                    {4, 32}, {5, 96}, {9, 2848}, {6, 37}, {5, 300}};   /* last two: float rows with tails */
    for (int k = 0; k < NW; k++) {
        uint32_t t = wtypes[k], at = kn_act_type(t);
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            int nrows = shapes[s][0], ncols = shapes[s][1];
            uint32_t be;
            kn_block_info(t, &be, NULL);
            if (ncols % (int)be) continue;
            size_t rb = kn_row_bytes(t, ncols), ab = kn_row_bytes(at, ncols);
            const int nb = 11;   /* 8-, 4- and 2-wide activation tiles plus tails */
            uint8_t *w = malloc(rb * (size_t)nrows), *xq = malloc(ab * nb), *xq2 = malloc(ab * nb);
            float *x = malloc(sizeof(float) * (size_t)ncols * nb);
            float *y = malloc(sizeof(float) * (size_t)(nrows + 1) * nb);
            float *y2 = malloc(sizeof(float) * (size_t)(nrows + 1) * nb);
            for (int kind = 0; kind < D_COUNT; kind++) {
                int raw = kind == D_CONST;   /* random bit patterns in the weights */
                make_weights(t, w, nrows, ncols, kind == D_CONST ? D_GAUSS : kind, raw);
                for (int b = 0; b < nb; b++) fill(x + (size_t)b * ncols, ncols, kind == D_CONST ? D_OUTLIER : kind);
                for (int b = 0; b < nb; b++) {
                    S->quantize_act(at, x + (size_t)b * ncols, xq + b * ab, ncols);
                    o->quantize_act(at, x + (size_t)b * ncols, xq2 + b * ab, ncols);
                }
                CHECK(memcmp(xq, xq2, ab * nb) == 0, "quantize_act %s [%s] %s differs from scalar",
                      tname(at), o->name, dname[kind]);
                S->matvec(t, w, rb, xq, y, nrows, ncols);
                o->matvec(t, w, rb, xq, y2, nrows, ncols);
                for (int r = 0; r < nrows; r++) {
                    double tol = 2e-6 * abs_dot(t, w + r * rb, xq, ncols, NULL) + 1e-30;
                    CHECK(fabs(y[r] - y2[r]) <= tol, "matvec %s [%s] %s %dx%d row %d: %.9g vs scalar %.9g",
                          tname(t), o->name, dname[kind], nrows, ncols, r, y2[r], y[r]);
                }
                /* matmul with a y_stride wider than nrows; untouched gap stays */
                size_t ys = (size_t)nrows + 1;
                for (size_t i = 0; i < ys * nb; i++) y[i] = y2[i] = -7.0f;
                S->matmul(t, w, rb, xq, ab, y, ys, nrows, ncols, nb);
                o->matmul(t, w, rb, xq, ab, y2, ys, nrows, ncols, nb);
                for (int b = 0; b < nb; b++)
                    for (int r = 0; r <= nrows; r++) {
                        float a = y2[b * ys + r], e = y[b * ys + r];
                        double tol = r == nrows ? 0 : 2e-6 * abs_dot(t, w + r * rb, xq + b * ab, ncols, NULL);
                        CHECK(fabs(a - e) <= tol, "matmul %s [%s] %s b=%d r=%d: %.9g vs scalar %.9g",
                              tname(t), o->name, dname[kind], b, r, a, e);
                    }
                /* matmul's column b is matvec of activation row b, bit for bit,
                 * on every table (a token's logits do not depend on its
                 * batch); the packed AVX-512 layouts are checked the same
                 * way in test_isa_packed */
                for (int b = 0; b < nb; b++) {
                    o->matvec(t, w, rb, xq + b * ab, y, nrows, ncols);
                    CHECK(memcmp(y, y2 + b * ys, sizeof(float) * (size_t)nrows) == 0,
                          "matmul %s [%s] %s %dx%d b=%d differs from matvec", tname(t), o->name, dname[kind],
                          nrows, ncols, b);
                }
                /* Tables built from one source with different instructions for
                 * the same integer lanes (avxvnni from x86_avx2.c: VPDPBUSD
                 * against maddubs + madd) give the same bits, not just agree
                 * within the tolerance. With matmul = matvec on each, matmul
                 * is enough. */
                const kn_ops *twin = o->isa == KN_AVXVNNI ? kn_get_isa(KN_AVX2) : NULL;
                if (twin) {
                    for (size_t i = 0; i < ys * nb; i++) y[i] = -7.0f;
                    twin->matmul(t, w, rb, xq, ab, y, ys, nrows, ncols, nb);
                    CHECK(memcmp(y, y2, sizeof(float) * ys * nb) == 0, "matmul %s [%s vs %s] %s %dx%d differs",
                          tname(t), o->name, twin->name, dname[kind], nrows, ncols);
                }
            }
            free(w); free(xq); free(xq2); free(x); free(y); free(y2);
        }
    }
}

/* Packed R16 weights (tables with packs_r16): matvec and matmul against
 * the scalar kernels on the unpacked rows, matmul equal to matvec bit for
 * bit per activation row (what keeps prompt and generation identical), a
 * row range starting inside the matrix, and activation counts past the
 * kernel's stack batch of prepared sums with ragged tails. */
static void test_isa_packed(const kn_ops *o) {
    /* {16, 18944, 59}: 74 K super-blocks, more than one unpacked chunk
     * (64) with a ragged last one, and a second activation batch (the
     * batch is 48 there) whose 11 rows end in a tile of 3; widths 4 and 5
     * come from the last two */
    static const int shapes[][3] = {{16, 32, 1}, {48, 512, 7}, {32, 2048, 70}, {64, 96, 131},
                                    {16, 5632, 9}, {32, 65536, 10}, {32, 256, 200}, {16, 18944, 59},
                                    {32, 768, 4}, {16, 512, 5}};
    /* GGML_BF16 twice: with F32 activations, then (where the CPU has
     * AVX512-BF16) KN_BF16_R16B with BF16 activations */
    static const uint32_t types[] = {GGML_Q4_0, GGML_Q8_0, GGML_Q4_K, GGML_Q6_K, GGML_Q4_1, GGML_Q5_0,
                                     GGML_Q5_1, GGML_Q5_K, GGML_F32, GGML_F16, GGML_BF16, GGML_BF16};
    CHECK(kn_pack_type(S, GGML_Q4_0, 16, 32) == 0, "scalar table asks for packing");
    if (!o->packs_r16) return;
    CHECK(kn_pack_type(o, GGML_Q4_0, 17, 32) == 0 && kn_pack_type(o, GGML_Q4_0, 16, 65568) == 0 &&
          kn_pack_type(o, GGML_Q8_K, 16, 256) == 0 && kn_pack_type(o, GGML_Q8_0, 32, 64) == KN_Q8_0_R16 &&
          kn_pack_type(o, GGML_Q4_0, 16, 32) == KN_Q4_0_R16 && kn_pack_type(o, GGML_Q5_1, 16, 32) == KN_Q5_1_R16 &&
          kn_pack_type(o, GGML_F16, 16, 32) == KN_F16_R16 && kn_pack_type(o, GGML_F32, 16, 48) == 0,
          "kn_pack_type [%s]", o->name);
    CHECK(kn_pack_type(o, GGML_Q4_K, 16, 512) == KN_Q4_K_R16 && kn_pack_type(o, GGML_Q4_K, 16, 96) == 0 &&
          kn_pack_type(o, GGML_Q5_K, 32, 256) == KN_Q5_K_R16, "kn_pack_type K [%s]", o->name);
    uint32_t bf16_pt = kn_pack_type(o, GGML_BF16, 16, 32);
    CHECK(bf16_pt == (getenv("WASMLET_BF16_ACT") && strcmp(getenv("WASMLET_BF16_ACT"), "1") == 0 &&
                      kn_cpu_has_avx512bf16() ? KN_BF16_R16B : KN_BF16_R16),
          "kn_pack_type BF16 [%s]: %#x", o->name, bf16_pt);
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const int bf16_act = ti + 1 == sizeof types / sizeof types[0];
            if (bf16_act && (o->isa != KN_AVX512 || !kn_cpu_has_avx512bf16())) break;
            uint32_t t = types[ti], at = kn_act_type(t), be;
            int nrows = shapes[s][0], ncols = shapes[s][1], nb = shapes[s][2];
            kn_block_info(t, &be, NULL);
            if (ncols % (int)be) continue;
            uint32_t pt = bf16_act ? KN_BF16_R16B : t == GGML_BF16 ? KN_BF16_R16 : kn_pack_type(o, t, nrows, ncols);
            CHECK(pt != 0, "no packed type for %s %dx%d", tname(t), nrows, ncols);
            if (!pt) continue;
            /* the reference takes F32 activations holding the BF16 values */
            const uint32_t pat = kn_act_type(pt);
            size_t rb = kn_row_bytes(t, ncols), prb = kn_row_bytes(pt, ncols);
            size_t ab = kn_row_bytes(at, ncols) + 4, pab = kn_row_bytes(pat, ncols) + 4, ys = (size_t)nrows + 5;
            CHECK(prb == rb && (pat == at || (bf16_act && pat == GGML_BF16)), "packed geometry");
            uint8_t *w = malloc(rb * (size_t)nrows), *wp = malloc(prb * (size_t)nrows);
            uint8_t *xq = calloc((size_t)nb, ab), *pxq = calloc((size_t)nb, pab);
            float *x = malloc(sizeof(float) * (size_t)ncols);
            float *y = malloc(sizeof(float) * ys * (size_t)nb), *y2 = malloc(sizeof(float) * ys * (size_t)nb);
            float *v = malloc(sizeof(float) * (size_t)nrows);
            make_weights(t, w, nrows, ncols, D_GAUSS, s == 3 || s == 6 || s == 7);   /* raw bit patterns */
            kn_pack(pt, w, wp, nrows, ncols);
            for (int b = 0; b < nb; b++) {
                fill(x, ncols, b % 5 == 4 ? D_OUTLIER : b % 7 == 6 ? D_ZERO : D_GAUSS);
                if (bf16_act) {
                    uint16_t *h = (uint16_t *)(pxq + (size_t)b * pab);
                    o->quantize_act(GGML_BF16, x, h, ncols);
                    for (int i = 0; i < ncols; i++) x[i] = kn_bf16_to_f32(h[i]);
                }
                S->quantize_act(at, x, xq + (size_t)b * ab, ncols);
            }
            if (!bf16_act) memcpy(pxq, xq, ab * (size_t)nb);
            for (size_t i = 0; i < ys * (size_t)nb; i++) y[i] = y2[i] = -7.0f;
            S->matmul(t, w, rb, xq, ab, y, ys, nrows, ncols, nb);
            o->matmul(pt, wp, prb, pxq, pab, y2, ys, nrows, ncols, nb);
            for (int b = 0; b < nb; b++) {
                const uint8_t *xb = xq + (size_t)b * ab, *pxb = pxq + (size_t)b * pab;
                for (int r = 0; r < (int)ys; r++) {
                    float a = y2[(size_t)b * ys + r], e = y[(size_t)b * ys + r];
                    double tol = r >= nrows ? 0 : 2e-6 * abs_dot(t, w + (size_t)r * rb, xb, ncols, NULL);
                    CHECK(fabs(a - e) <= tol, "packed matmul %s [%s] %dx%d nb %d: b=%d r=%d: %.9g vs scalar %.9g",
                          tname(t), o->name, nrows, ncols, nb, b, r, a, e);
                }
                o->matvec(pt, wp, prb, pxb, v, nrows, ncols);
                CHECK(memcmp(v, y2 + (size_t)b * ys, sizeof(float) * (size_t)nrows) == 0,
                      "packed %s [%s] %dx%d: matvec and matmul row %d differ", tname(t), o->name, nrows, ncols, b);
                if (nrows >= 32) {   /* a range from row 16 */
                    o->matvec(pt, wp + 16 * prb, prb, pxb, v, nrows - 16, ncols);
                    CHECK(memcmp(v, y2 + (size_t)b * ys + 16, sizeof(float) * (size_t)(nrows - 16)) == 0,
                          "packed %s [%s]: row range from 16 differs", tname(t), o->name);
                }
            }
            free(w); free(wp); free(xq); free(pxq); free(x); free(y); free(y2); free(v);
        }
}

/* BF16 activations (KN_BF16_R16B): every table's conversion is the
 * scalar kn_f32_to_bf16, bit for bit, on random bit patterns (NaN, inf,
 * denormals, ties) and odd lengths. */
static void test_isa_bf16_act(const kn_ops *o) {
    enum { N = 4099 };
    static float x[N];
    static uint16_t a[N], b[N];
    for (int i = 0; i < N; i++) {
        uint32_t u = (uint32_t)rnd64();
        if (i % 3 == 0) u = (u & 0xffff8000u) | 0x8000u;   /* a tie */
        memcpy(&x[i], &u, 4);
    }
    for (int n = N; n > 0; n -= 1000) {
        S->quantize_act(GGML_BF16, x, a, n);
        o->quantize_act(GGML_BF16, x, b, n);
        for (int i = 0; i < n; i++)
            CHECK(a[i] == b[i] && a[i] == kn_f32_to_bf16(x[i]), "bf16 act [%s] n=%d elem %d: %04x vs %04x",
                  o->name, n, i, b[i], a[i]);
    }
}

static void test_isa_ops(const kn_ops *o) {
    static const int lens[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 1000, 2048};
    enum { M = 2048 };
    static float a[M], b[M], c[M], d[M], w[M];
    /* F32 -> F16 rows (an F16 KV cache): bit for bit the scalar rounding,
     * on random bit patterns (subnormals, ties, overflow to inf) */
    static uint16_t h1[M], h2[M];
    for (int i = 0; i < M; i++) {
        uint32_t u = (uint32_t)rnd64();
        u = (u & 0x87ffffffu) | ((uint32_t)(96 + rnd64() % 64) << 23);   /* exponents around F16's range */
        memcpy(&a[i], &u, 4);
    }
    a[0] = 65520.0f; a[1] = -65519.0f; a[2] = 0x1.8p-25f; a[3] = -0.0f;
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        kn_ops_scalar.quantize_act(GGML_F16, a, h1, lens[li]);
        o->quantize_act(GGML_F16, a, h2, lens[li]);
        CHECK(memcmp(h1, h2, sizeof(uint16_t) * (size_t)lens[li]) == 0, "quantize_act F16 [%s] n %d differs from scalar",
              o->name, lens[li]);
    }
    for (int i = 0; i < M; i++) CHECK(h1[i] == kn_f32_to_f16(a[i]), "scalar F16 row %d", i);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        int n = lens[li];
        fill(a, n, D_GAUSS); fill(b, n, D_GAUSS); fill(w, n, D_GAUSS);
        double sabs = 0;
        for (int i = 0; i < n; i++) sabs += fabs((double)a[i] * b[i]);
        float r1 = S->dot_f32(a, b, n), r2 = o->dot_f32(a, b, n);
        CHECK(fabs(r1 - r2) <= 1e-6 * sabs, "dot_f32 [%s] n=%d: %.9g vs %.9g", o->name, n, r2, r1);
        memcpy(c, b, sizeof(float) * n); memcpy(d, b, sizeof(float) * n);
        S->axpy(c, 0.37f, a, n); o->axpy(d, 0.37f, a, n);
        cmp_f("axpy", o->name, d, c, n, 1e-6, 1e-6);
        S->rmsnorm(c, a, w, n, 1e-5f); o->rmsnorm(d, a, w, n, 1e-5f);
        cmp_f("rmsnorm", o->name, d, c, n, 1e-5, 1e-6);
        memcpy(d, a, sizeof(float) * n);
        o->rmsnorm(d, d, w, n, 1e-5f);   /* aliasing allowed */
        cmp_f("rmsnorm in place", o->name, d, c, n, 1e-5, 1e-6);
        for (int i = 0; i < n; i++) c[i] = d[i] = a[i] * 10.0f;
        S->softmax(c, n); o->softmax(d, n);
        cmp_f("softmax", o->name, d, c, n, 1e-5, 1e-7);
        for (int i = 0; i < n; i++) c[i] = d[i] = a[i] * 5.0f;
        S->silu_mul(c, b, n); o->silu_mul(d, b, n);
        cmp_f("silu_mul", o->name, d, c, n, 1e-5, 1e-6);
    }
    /* rope: both modes, partial rotation */
    static const int rs[][3] = {{4, 64, 64}, {2, 128, 64}, {3, 16, 16}, {1, 6, 4}, {5, 80, 32}};
    for (size_t k = 0; k < sizeof rs / sizeof rs[0]; k++) {
        int nh = rs[k][0], hd = rs[k][1], nr = rs[k][2];
        float cs[256];
        for (int i = 0; i < nr / 2; i++) {
            float th = 17.0f * powf(10000.0f, -2.0f * i / nr);
            cs[2 * i] = cosf(th); cs[2 * i + 1] = sinf(th);
        }
        for (int neox = 0; neox < 2; neox++) {
            fill(c, nh * hd, D_GAUSS);
            memcpy(d, c, sizeof(float) * nh * hd);
            S->rope(c, nh, hd, nr, cs, neox); o->rope(d, nh, hd, nr, cs, neox);
            cmp_f(neox ? "rope neox" : "rope", o->name, d, c, nh * hd, 1e-6, 1e-6);
        }
    }
    /* attention over F32 and F16 caches, one head and query groups: every
     * head of a group against the scalar reference, and bit for bit what
     * the same table gives that head alone (a head must not depend on its
     * group). Lengths around the SIMD blocks of 16 and 32 positions. The
     * table reads K in its own layout (kn_k_block), the reference rows;
     * a blocked cache's lanes past n_pos hold junk the table must ignore. */
    static const int at[][3] = {{1, 64, 1}, {7, 64, 1}, {100, 128, 1}, {33, 16, 1}, {5, 48, 1},
                                {16, 64, 8}, {48, 64, 3}, {97, 64, 8}, {31, 128, 2}, {65, 32, 4},
                                {50, 64, 12}, {18, 32, 11}};   /* groups past 8 heads go in parts */
    enum { NQ = 12, HD = 128, NP = 128 };
    static float qs[NQ * HD], got[NQ * HD], ref[HD], alone[HD], sc1[NQ * (NP + HD)], sc2[NQ * (NP + HD)];
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        const int np = at[k][0], hd = at[k][1], nq = at[k][2];
        for (int f16 = 0; f16 < 2; f16++) {
            size_t es = f16 ? 2 : 4, stride = es * (size_t)hd * 3;   /* interleaved heads */
            const uint32_t kt = f16 ? GGML_F16 : GGML_F32;
            const int kb = kn_k_block(o, hd, kt), whole = (np + 15) / 16 * 16;
            CHECK(kn_k_block(S, hd, kt) == 0, "scalar table asks for blocked K");
            uint8_t *K = malloc(stride * np), *V = malloc(stride * np), *Ko = malloc(stride * whole);
            for (size_t i = 0; i < stride * whole; i++) Ko[i] = (uint8_t)(0x3c + i % 7);   /* finite junk */
            for (int p = 0; p < np; p++)
                for (int i = 0; i < hd; i++) {
                    float kv[2] = {gauss(), gauss()};
                    const size_t ko = kn_k_offset(kb, stride, es, p, i);
                    if (f16) {
                        uint16_t hk = kn_f32_to_f16(kv[0]), hv = kn_f32_to_f16(kv[1]);
                        memcpy(K + p * stride + 2 * i, &hk, 2); memcpy(V + p * stride + 2 * i, &hv, 2);
                        memcpy(Ko + ko, &hk, 2);
                    } else {
                        memcpy(K + p * stride + 4 * i, &kv[0], 4); memcpy(V + p * stride + 4 * i, &kv[1], 4);
                        memcpy(Ko + ko, &kv[0], 4);
                    }
                }
            fill(qs, nq * hd, D_GAUSS);
            const float scale = 1.0f / sqrtf((float)hd);
            o->attention(got, qs, nq, Ko, V, stride, kt, np, hd, scale, sc2);
            for (int h = 0; h < nq; h++) {
                S->attention(ref, qs + h * hd, 1, K, V, stride, kt, np, hd, scale, sc1);
                o->attention(alone, qs + h * hd, 1, Ko, V, stride, kt, np, hd, scale, sc1);
                cmp_f(f16 ? "attention f16" : "attention f32", o->name, got + h * hd, ref, hd, 1e-5, 1e-5);
                CHECK(memcmp(got + h * hd, alone, sizeof(float) * (size_t)hd) == 0,
                      "attention [%s] n_pos %d group %d head %d differs from the head alone", o->name, np, nq, h);
            }
            free(K); free(V); free(Ko);
        }
    }
}

/* The scalar ops against their definitions (double precision). */
static void test_ref_ops(void) {
    float x[8] = {1, 2, 3, 4, -1, -2, 0.5f, 8}, y[8], w[8] = {1, 1, 1, 1, 2, 2, 2, 2};
    double ss = 0;
    for (int i = 0; i < 8; i++) ss += (double)x[i] * x[i];
    kn_ref_rmsnorm(y, x, w, 8, 1e-6f);
    for (int i = 0; i < 8; i++)
        CHECK(fabs(y[i] - x[i] * w[i] / sqrt(ss / 8 + 1e-6)) < 1e-5, "rmsnorm elem %d", i);
    memcpy(y, x, sizeof x);
    kn_ref_softmax(y, 8);
    double z = 0;
    for (int i = 0; i < 8; i++) z += exp(x[i]);
    for (int i = 0; i < 8; i++) CHECK(fabs(y[i] - exp(x[i]) / z) < 1e-6, "softmax elem %d", i);
    memcpy(y, x, sizeof x);
    kn_ref_silu_mul(y, w, 8);
    for (int i = 0; i < 8; i++) CHECK(fabs(y[i] - x[i] / (1 + exp(-x[i])) * w[i]) < 1e-5, "silu elem %d", i);
    /* rope by a quarter turn: (a, b) -> (-b, a) */
    float cs[4] = {0, 1, 0, 1}, v[4] = {1, 2, 3, 4};
    kn_ref_rope(v, 1, 4, 4, cs, 0);
    CHECK(v[0] == -2 && v[1] == 1 && v[2] == -4 && v[3] == 3, "rope llama pairs");
    float v2[4] = {1, 2, 3, 4};
    kn_ref_rope(v2, 1, 4, 4, cs, 1);
    CHECK(v2[0] == -3 && v2[2] == 1 && v2[1] == -4 && v2[3] == 2, "rope neox pairs");
    /* attention with one position returns V */
    float q[4] = {1, 0, 0, 0}, K[4] = {1, 1, 1, 1}, V[4] = {5, 6, 7, 8}, out[4], scr[1];
    kn_ref_attention(out, q, 1, K, V, 16, GGML_F32, 1, 4, 0.5f, scr);
    CHECK(out[0] == 5 && out[3] == 8, "attention single position");
}

/* The word-parallel scale unpacking the SIMD kernels use agrees with the
 * reference byte formula for every bit pattern. */
static void test_k4_unpack(void) {
    for (int it = 0; it < 20000; it++) {
        uint8_t sb[12];
        for (int i = 0; i < 12; i++) sb[i] = (uint8_t)rnd64();
        uint64_t sc, mn;
        k4_unpack(sb, &sc, &mn);
        for (int j = 0; j < 8; j++) {
            int a, m;
            kn_k4_scale_min(sb, j, &a, &m);
            CHECK((int)((sc >> (8 * j)) & 0xff) == a && (int)((mn >> (8 * j)) & 0xff) == m,
                  "k4_unpack sub-block %d", j);
        }
    }
}

static void test_dispatch(void) {
    CHECK(kn_get_isa(KN_SCALAR) == &kn_ops_scalar, "scalar table always available");
    CHECK(kn_get_isa((kn_isa)99) == NULL, "bogus isa refused");
    CHECK(kn_type_supported(GGML_F32) && kn_type_supported(GGML_Q6_K) && !kn_type_supported(GGML_Q2_K),
          "kn_type_supported");
    /* the half types' activation type is F32, id 0: they are still supported */
    CHECK(kn_type_supported(GGML_F16) && kn_type_supported(GGML_BF16) && !kn_type_supported(GGML_Q8_K) &&
          !kn_type_supported(GGML_Q8_1) && !kn_type_supported(9999), "kn_type_supported: half/activation types");
    CHECK(kn_row_bytes(GGML_Q4_K, 512) == 288 && kn_row_bytes(GGML_Q8_0, 64) == 68, "kn_row_bytes");
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "dispatch") == 0) {
        /* dispatch [ISA]: with ISA, skip (77) when this CPU cannot run it,
         * else require that WASMLET_KERNELS made kn_get() pick exactly it */
        if (argc > 2) {
            static const char *names[KN_ISA_COUNT] = {"scalar", "avx2", "avx512", "neon", "avxvnni"};
            for (int i = 0; i < KN_ISA_COUNT; i++)
                if (strcmp(argv[2], names[i]) == 0 && !kn_get_isa((kn_isa)i)) return 77;
        }
        const kn_ops *o = kn_get();
        printf("%s\n", o ? o->name : "none");
        if (!o) return 1;
        return argc > 2 && strcmp(o->name, argv[2]) != 0 ? 1 : 0;
    }
    printf("cpu: %s\n", kn_cpu_features());
    S = &kn_ops_scalar;
    test_half();
    test_roundtrip();
    test_act();
    test_matvec_ref();
    test_ref_ops();
    test_k4_unpack();
    test_dispatch();
    int tested = 0;
    for (int i = 1; i < KN_ISA_COUNT; i++) {
        const kn_ops *o = kn_get_isa((kn_isa)i);
        if (!o) continue;
        printf("checking %s against scalar\n", o->name);
        test_isa_matvec(o);
        test_isa_packed(o);
        test_isa_bf16_act(o);
        test_isa_ops(o);
        tested++;
    }
    /* the scalar table against itself exercises the comparison harness */
    if (!tested) { test_isa_matvec(S); test_isa_ops(S); }
    printf("%s (%d SIMD tables checked)\n", g_fail ? "FAILED" : "ok", tested);
    return g_fail ? 1 : 0;
}
