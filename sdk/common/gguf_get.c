/* gguf_get.c: typed access to a parsed GGUF file (see gguf.h). Everything
 * here reads bytes that gguf_open_buffer() already proved to lie inside the
 * buffer, so the only checks left are types, widths and indexes. */
#include "gguf_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_err(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- scalar values ------------------------------------------------------------ */

static bool load_int(uint32_t t, const uint8_t *p, int64_t *v, uint64_t *u, bool *is_unsigned) {
    *is_unsigned = false;
    switch (t) {
    case GGUF_T_UINT8: *v = p[0]; break;
    case GGUF_T_INT8: *v = (int8_t)p[0]; break;
    case GGUF_T_UINT16: *v = ld16(p); break;
    case GGUF_T_INT16: *v = (int16_t)ld16(p); break;
    case GGUF_T_UINT32: *v = ld32(p); break;
    case GGUF_T_INT32: *v = (int32_t)ld32(p); break;
    case GGUF_T_BOOL: *v = p[0] != 0; break;
    case GGUF_T_INT64: *v = (int64_t)ld64(p); break;
    case GGUF_T_UINT64: *u = ld64(p); *is_unsigned = true; *v = (int64_t)(*u & INT64_MAX); return true;
    default: return false;
    }
    *u = (uint64_t)*v;
    return true;
}

bool gguf_kv_int(const gguf_kv *kv, int64_t *out) {
    int64_t v;
    uint64_t u;
    bool uns;
    if (!load_int(kv->type, kv->data, &v, &u, &uns)) return false;
    if (uns && u > (uint64_t)INT64_MAX) return false;
    *out = v;
    return true;
}

static double ld_float(uint32_t t, const uint8_t *p) {
    if (t == GGUF_T_FLOAT32) {
        uint32_t b = ld32(p);
        float x;
        memcpy(&x, &b, 4);
        return x;
    }
    uint64_t b = ld64(p);
    double x;
    memcpy(&x, &b, 8);
    return x;
}

bool gguf_kv_float(const gguf_kv *kv, double *out) {
    if (kv->type != GGUF_T_FLOAT32 && kv->type != GGUF_T_FLOAT64) return false;
    *out = ld_float(kv->type, kv->data);
    return true;
}

bool gguf_kv_str(const gguf_kv *kv, gguf_str *out) {
    if (kv->type != GGUF_T_STRING) return false;
    out->ptr = (const char *)kv->data;
    out->len = kv->arr_len;
    return true;
}

/* ---- typed getters ----------------------------------------------------------- */

static const gguf_kv *find_or_err(const gguf_file *f, const char *key, char *err, size_t errlen) {
    const gguf_kv *kv = gguf_find(f, key);
    if (!kv) {
        char q[200];
        gguf__quote(q, sizeof q, key, strlen(key));
        set_err(err, errlen, "gguf: key '%s' not found", q);
    }
    return kv;
}

static bool wrong_type(const gguf_kv *kv, const char *want, char *err, size_t errlen) {
    char q[200];
    gguf__quote(q, sizeof q, kv->key.ptr, kv->key.len);
    const char *have = gguf_vtype_name(kv->type);
    if (kv->type == GGUF_T_ARRAY)
        set_err(err, errlen, "gguf: key '%s' at offset %" PRIu64 ": expected %s, found array of %s",
                q, kv->offset, want, gguf_vtype_name(kv->arr_type));
    else
        set_err(err, errlen, "gguf: key '%s' at offset %" PRIu64 ": expected %s, found %s",
                q, kv->offset, want, have);
    return false;
}

/* Integer getters: any integer type (not bool) whose value fits [lo, hi]. */
static bool get_int(const gguf_file *f, const char *key, const char *want, bool want_unsigned,
                    uint64_t umax, int64_t smin, int64_t smax, int64_t *sv, uint64_t *uv,
                    char *err, size_t errlen) {
    const gguf_kv *kv = find_or_err(f, key, err, errlen);
    if (!kv) return false;
    int64_t v;
    uint64_t u;
    bool uns;
    if (kv->type == GGUF_T_BOOL || !load_int(kv->type, kv->data, &v, &u, &uns))
        return wrong_type(kv, want, err, errlen);
    char q[200];
    gguf__quote(q, sizeof q, kv->key.ptr, kv->key.len);
    if (want_unsigned) {
        if ((!uns && v < 0) || u > umax) {
            if (uns) set_err(err, errlen, "gguf: key '%s' at offset %" PRIu64 ": value %" PRIu64 " does not fit %s", q, kv->offset, u, want);
            else set_err(err, errlen, "gguf: key '%s' at offset %" PRIu64 ": value %" PRId64 " does not fit %s", q, kv->offset, v, want);
            return false;
        }
        *uv = u;
    } else {
        if ((uns && u > (uint64_t)smax) || (!uns && (v < smin || v > smax))) {
            if (uns) set_err(err, errlen, "gguf: key '%s' at offset %" PRIu64 ": value %" PRIu64 " does not fit %s", q, kv->offset, u, want);
            else set_err(err, errlen, "gguf: key '%s' at offset %" PRIu64 ": value %" PRId64 " does not fit %s", q, kv->offset, v, want);
            return false;
        }
        *sv = v;
    }
    return true;
}

bool gguf_get_u64(const gguf_file *f, const char *key, uint64_t *out, char *err, size_t errlen) {
    int64_t s;
    return get_int(f, key, "uint64", true, UINT64_MAX, 0, 0, &s, out, err, errlen);
}

bool gguf_get_u32(const gguf_file *f, const char *key, uint32_t *out, char *err, size_t errlen) {
    int64_t s;
    uint64_t u;
    if (!get_int(f, key, "uint32", true, UINT32_MAX, 0, 0, &s, &u, err, errlen)) return false;
    *out = (uint32_t)u;
    return true;
}

bool gguf_get_i64(const gguf_file *f, const char *key, int64_t *out, char *err, size_t errlen) {
    uint64_t u;
    return get_int(f, key, "int64", false, 0, INT64_MIN, INT64_MAX, out, &u, err, errlen);
}

bool gguf_get_f32(const gguf_file *f, const char *key, float *out, char *err, size_t errlen) {
    const gguf_kv *kv = find_or_err(f, key, err, errlen);
    if (!kv) return false;
    double d;
    if (!gguf_kv_float(kv, &d)) return wrong_type(kv, "float32", err, errlen);
    *out = (float)d;
    return true;
}

bool gguf_get_bool(const gguf_file *f, const char *key, bool *out, char *err, size_t errlen) {
    const gguf_kv *kv = find_or_err(f, key, err, errlen);
    if (!kv) return false;
    if (kv->type != GGUF_T_BOOL) return wrong_type(kv, "bool", err, errlen);
    *out = kv->data[0] != 0;
    return true;
}

bool gguf_get_str(const gguf_file *f, const char *key, gguf_str *out, char *err, size_t errlen) {
    const gguf_kv *kv = find_or_err(f, key, err, errlen);
    if (!kv) return false;
    if (!gguf_kv_str(kv, out)) return wrong_type(kv, "string", err, errlen);
    return true;
}

bool gguf_get_arr(const gguf_file *f, const char *key, gguf_vtype elem, const gguf_kv **out,
                  char *err, size_t errlen) {
    const gguf_kv *kv = find_or_err(f, key, err, errlen);
    if (!kv) return false;
    if (kv->type != GGUF_T_ARRAY || kv->arr_type != elem) {
        char want[40];
        snprintf(want, sizeof want, "array of %s", gguf_vtype_name(elem));
        return wrong_type(kv, want, err, errlen);
    }
    *out = kv;
    return true;
}

/* ---- array elements ----------------------------------------------------------- */

gguf_str gguf_arr_str(const gguf_file *f, const gguf_kv *kv, uint64_t i) {
    gguf_str s = {"", 0};
    if (kv->type != GGUF_T_ARRAY || kv->arr_type != GGUF_T_STRING || i >= kv->arr_len) return s;
    uint64_t at = gguf__elem_offset(f, kv, i);
    const uint8_t *p = f->base + at;
    s.len = f->version == 1 ? ld32(p) : ld64(p);
    s.ptr = (const char *)p + (f->version == 1 ? 4 : 8);
    return s;
}

int64_t gguf_arr_int(const gguf_kv *kv, uint64_t i) {
    if (kv->type != GGUF_T_ARRAY || i >= kv->arr_len) return 0;
    size_t sz = gguf_vtype_size(kv->arr_type);
    int64_t v;
    uint64_t u;
    bool uns;
    if (!load_int(kv->arr_type, kv->data + i * sz, &v, &u, &uns)) return 0;
    return uns ? (int64_t)u : v;
}

double gguf_arr_float(const gguf_kv *kv, uint64_t i) {
    if (kv->type != GGUF_T_ARRAY || i >= kv->arr_len) return 0;
    if (kv->arr_type != GGUF_T_FLOAT32 && kv->arr_type != GGUF_T_FLOAT64) return 0;
    return ld_float(kv->arr_type, kv->data + i * gguf_vtype_size(kv->arr_type));
}

bool gguf_arr_sub(const gguf_file *f, const gguf_kv *kv, uint64_t i, gguf_kv *out) {
    if (kv->type != GGUF_T_ARRAY || kv->arr_type != GGUF_T_ARRAY || i >= kv->arr_len) return false;
    uint64_t at = gguf__elem_offset(f, kv, i);
    const uint8_t *p = f->base + at;
    *out = *kv;
    out->type = GGUF_T_ARRAY;
    out->arr_type = (gguf_vtype)ld32(p);
    out->arr_len = f->version == 1 ? ld32(p + 4) : ld64(p + 4);
    out->offset = at;
    out->data = p + 4 + (f->version == 1 ? 4 : 8);
    return true;
}
