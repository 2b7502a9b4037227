/* ops.c: scalar elementwise and attention kernels (the reference). */
#include <math.h>
#include "kn_internal.h"

float kn_ref_dot_f32(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

void kn_ref_axpy(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

void kn_ref_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    float ss = 0.0f;
    for (int i = 0; i < n; i++) ss += x[i] * x[i];
    float r = 1.0f / sqrtf(ss / (float)n + eps);
    for (int i = 0; i < n; i++) out[i] = x[i] * r * w[i];
}

void kn_ref_softmax(float *x, int n) {
    if (n <= 0) return;
    float mx = x[0];
    for (int i = 1; i < n; i++) mx = fmaxf(mx, x[i]);
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) x[i] *= inv;
}

void kn_ref_silu_mul(float *gate, const float *up, int n) {
    for (int i = 0; i < n; i++) {
        float g = gate[i];
        gate[i] = g / (1.0f + expf(-g)) * up[i];
    }
}

void kn_ref_rope(float *x, int n_heads, int head_dim, int n_rot, const float *cs, int neox) {
    int half = n_rot / 2;
    for (int h = 0; h < n_heads; h++) {
        float *v = x + (size_t)h * head_dim;
        for (int i = 0; i < half; i++) {
            float c = cs[2 * i], s = cs[2 * i + 1];
            int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
            float x0 = v[a], x1 = v[b];
            v[a] = x0 * c - x1 * s;
            v[b] = x0 * s + x1 * c;
        }
    }
}

static float kv_dot(const float *q, const void *k, uint32_t kv_type, int n) {
    if (kv_type == GGML_F16) {
        const uint16_t *h = k;
        float s = 0.0f;
        for (int i = 0; i < n; i++) s += q[i] * kn_f16_to_f32(h[i]);
        return s;
    }
    return kn_ref_dot_f32(q, k, n);
}

static void kv_axpy(float *out, float a, const void *v, uint32_t kv_type, int n) {
    if (kv_type == GGML_F16) {
        const uint16_t *h = v;
        for (int i = 0; i < n; i++) out[i] += a * kn_f16_to_f32(h[i]);
        return;
    }
    kn_ref_axpy(out, a, v, n);
}

void kn_ref_attention(float *out, const float *q, int n_q, const void *k, const void *v,
                      size_t kv_stride, uint32_t kv_type, int n_pos, int head_dim,
                      float scale, float *scratch) {
    for (int h = 0; h < n_q; h++, q += head_dim, out += head_dim) {
        for (int p = 0; p < n_pos; p++)
            scratch[p] = scale * kv_dot(q, (const uint8_t *)k + (size_t)p * kv_stride, kv_type, head_dim);
        kn_ref_softmax(scratch, n_pos);
        for (int i = 0; i < head_dim; i++) out[i] = 0.0f;
        for (int p = 0; p < n_pos; p++)
            kv_axpy(out, scratch[p], (const uint8_t *)v + (size_t)p * kv_stride, kv_type, head_dim);
    }
}

const kn_ops kn_ops_scalar = {
    .name = "scalar", .isa = KN_SCALAR,
    .quantize_act = kn_ref_quantize_act,
    .matvec = kn_ref_matvec,
    .matmul = kn_ref_matmul,
    .rmsnorm = kn_ref_rmsnorm,
    .softmax = kn_ref_softmax,
    .silu_mul = kn_ref_silu_mul,
    .rope = kn_ref_rope,
    .attention = kn_ref_attention,
    .dot_f32 = kn_ref_dot_f32,
    .axpy = kn_ref_axpy,
};
