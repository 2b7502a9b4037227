/* gguf_writer.c: build GGUF v3 images (see gguf.h).
 *
 * Metadata is serialized as it is added (into one growing byte buffer);
 * tensors are kept as (info, copy of data) and laid out at emit time:
 * data offsets are relative to the start of the data section, which begins
 * at the first alignment boundary after the tensor infos, every tensor
 * starts on an alignment boundary and all padding is zero bytes — the
 * rules llama.cpp's loader checks. The writer also enforces what our reader
 * enforces (names, block sizes, sizes), so what it writes reads back.
 */
#include "gguf_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TENSOR_NAME 63   /* llama.cpp keeps names in char[64] */

typedef struct { uint8_t *p; size_t n, cap; } buf;

typedef struct {
    char *name;
    uint32_t type, n_dims;
    uint64_t ne[GGUF_MAX_DIMS];
    uint8_t *data;       /* NULL: zeros */
    uint64_t n_bytes;
    uint64_t rel;        /* offset in the data section, set at emit time */
} wtensor;

struct gguf_writer {
    uint32_t alignment;
    buf meta;
    uint64_t n_kv;
    char **keys;
    size_t keys_cap;
    wtensor *t;
    uint64_t n_t;
    size_t t_cap;
    size_t align_at;     /* meta offset + 1 of a caller-written general.alignment */
    gguf_vtype align_type;
    char err[256];       /* first misuse, reported by finish */
};

static void werr(gguf_writer *w, const char *fmt, ...) {
    if (w->err[0]) return;
    va_list ap;
    va_start(ap, fmt);
    int n = snprintf(w->err, sizeof w->err, "gguf writer: ");
    vsnprintf(w->err + n, sizeof w->err - (size_t)n, fmt, ap);
    va_end(ap);
}

static bool grow(gguf_writer *w, void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return true;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem) { werr(w, "out of memory"); return false; }
        c *= 2;
    }
    void *q = realloc(*p, c * elem);
    if (!q) { werr(w, "out of memory"); return false; }
    *p = q;
    *cap = c;
    return true;
}

static void put(gguf_writer *w, const void *p, size_t n) {
    if (w->err[0]) return;
    if (n > SIZE_MAX - w->meta.n) { werr(w, "out of memory"); return; }
    void *b = w->meta.p;
    if (!grow(w, &b, &w->meta.cap, w->meta.n + n, 1)) return;
    w->meta.p = b;
    if (n) memcpy(w->meta.p + w->meta.n, p, n);
    w->meta.n += n;
}

static void put32(gguf_writer *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}

static void put64(gguf_writer *w, uint64_t v) {
    put32(w, (uint32_t)v);
    put32(w, (uint32_t)(v >> 32));
}

static void put_str(gguf_writer *w, const char *s, uint64_t n) {
    put64(w, n);
    put(w, s, (size_t)n);
}

gguf_writer *gguf_writer_new(uint32_t alignment) {
    gguf_writer *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->alignment = alignment ? alignment : 32;
    if (w->alignment & (w->alignment - 1)) werr(w, "alignment %" PRIu32 " is not a power of two", alignment);
    return w;
}

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    free(w->meta.p);
    for (uint64_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    free(w->keys);
    for (uint64_t i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    free(w->t);
    free(w);
}

/* Same rule as the reader, so that what we write reads back. */
static bool good_name(const char *s, size_t n) { return gguf__name_problem(s, n) == NULL; }

/* Start a kv: check the key, remember it, write key and type. */
static bool begin_kv(gguf_writer *w, const char *key, gguf_vtype t) {
    if (!w || w->err[0]) return false;   /* !w: gguf_writer_new ran out of memory */
    size_t n = key ? strlen(key) : 0;
    if (!key || !good_name(key, n)) { werr(w, "bad key '%.64s'", key ? key : "(null)"); return false; }
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->keys[i], key) == 0) { werr(w, "duplicate key '%.64s'", key); return false; }
    void *k = w->keys;
    if (!grow(w, &k, &w->keys_cap, (size_t)w->n_kv + 1, sizeof *w->keys)) return false;
    w->keys = k;
    char *c = malloc(n + 1);
    if (!c) { werr(w, "out of memory"); return false; }
    memcpy(c, key, n + 1);
    w->keys[w->n_kv++] = c;
    put_str(w, key, n);
    put32(w, (uint32_t)t);
    if (strcmp(key, "general.alignment") == 0) {
        w->align_at = w->meta.n + 1;
        w->align_type = t;
    }
    return true;
}

/* A value of sz bytes given as its bits, written little-endian. */
static void put_le(gguf_writer *w, uint64_t bits, size_t sz) {
    uint8_t b[8];
    for (size_t i = 0; i < sz; i++) b[i] = (uint8_t)(bits >> (8 * i));
    put(w, b, sz);
}

/* The bits of a host-order element of sz bytes at p. */
static uint64_t load_host(const void *p, size_t sz) {
    uint8_t b8; uint16_t b16; uint32_t b32; uint64_t b64;
    switch (sz) {
    case 1: memcpy(&b8, p, 1); return b8;
    case 2: memcpy(&b16, p, 2); return b16;
    case 4: memcpy(&b32, p, 4); return b32;
    default: memcpy(&b64, p, 8); return b64;
    }
}

static void scalar(gguf_writer *w, const char *key, gguf_vtype t, uint64_t bits) {
    if (begin_kv(w, key, t)) put_le(w, bits, gguf_vtype_size(t));
}

void gguf_w_u8(gguf_writer *w, const char *k, uint8_t v) { scalar(w, k, GGUF_T_UINT8, v); }
void gguf_w_i8(gguf_writer *w, const char *k, int8_t v) { scalar(w, k, GGUF_T_INT8, (uint8_t)v); }
void gguf_w_u16(gguf_writer *w, const char *k, uint16_t v) { scalar(w, k, GGUF_T_UINT16, v); }
void gguf_w_i16(gguf_writer *w, const char *k, int16_t v) { scalar(w, k, GGUF_T_INT16, (uint16_t)v); }
void gguf_w_u32(gguf_writer *w, const char *k, uint32_t v) { scalar(w, k, GGUF_T_UINT32, v); }
void gguf_w_i32(gguf_writer *w, const char *k, int32_t v) { scalar(w, k, GGUF_T_INT32, (uint32_t)v); }
void gguf_w_u64(gguf_writer *w, const char *k, uint64_t v) { scalar(w, k, GGUF_T_UINT64, v); }
void gguf_w_i64(gguf_writer *w, const char *k, int64_t v) { scalar(w, k, GGUF_T_INT64, (uint64_t)v); }
void gguf_w_f32(gguf_writer *w, const char *k, float v) { scalar(w, k, GGUF_T_FLOAT32, load_host(&v, 4)); }
void gguf_w_f64(gguf_writer *w, const char *k, double v) { scalar(w, k, GGUF_T_FLOAT64, load_host(&v, 8)); }
void gguf_w_bool(gguf_writer *w, const char *k, bool v) { scalar(w, k, GGUF_T_BOOL, v ? 1 : 0); }

void gguf_w_str_n(gguf_writer *w, const char *key, const char *v, size_t n) {
    if (begin_kv(w, key, GGUF_T_STRING)) put_str(w, v, n);
}
void gguf_w_str(gguf_writer *w, const char *key, const char *v) { gguf_w_str_n(w, key, v, strlen(v)); }

/* The body of an array value: element type, count, elements. */
static void put_array(gguf_writer *w, gguf_vtype elem, const void *data, uint64_t n, int depth) {
    if (depth > 7) { werr(w, "arrays nested too deeply"); return; }
    if ((uint32_t)elem > GGUF_T_FLOAT64) { werr(w, "unknown array element type %d", (int)elem); return; }
    put32(w, (uint32_t)elem);
    put64(w, n);
    if (elem == GGUF_T_STRING) {
        const char *const *s = data;
        for (uint64_t i = 0; i < n; i++) put_str(w, s[i], strlen(s[i]));
    } else if (elem == GGUF_T_ARRAY) {
        const gguf_warr *a = data;
        for (uint64_t i = 0; i < n; i++) put_array(w, a[i].type, a[i].data, a[i].n, depth + 1);
    } else {
        size_t sz = gguf_vtype_size(elem);
        const uint8_t *p = data;
        for (uint64_t i = 0; i < n && !w->err[0]; i++) put_le(w, load_host(p + i * sz, sz), sz);
    }
}

void gguf_w_arr(gguf_writer *w, const char *key, gguf_vtype elem, const void *data, uint64_t n) {
    if (begin_kv(w, key, GGUF_T_ARRAY)) put_array(w, elem, data, n, 0);
}

void gguf_w_arr_strn(gguf_writer *w, const char *key, const char *const *strs, const size_t *lens, uint64_t n) {
    if (!begin_kv(w, key, GGUF_T_ARRAY)) return;
    put32(w, GGUF_T_STRING);
    put64(w, n);
    for (uint64_t i = 0; i < n; i++) put_str(w, strs[i], lens[i]);
}

/* Re-serialize a reader's array (any version) as v3. */
static void copy_array(gguf_writer *w, const gguf_file *src, const gguf_kv *a) {
    put32(w, (uint32_t)a->arr_type);
    put64(w, a->arr_len);
    if (a->arr_type == GGUF_T_STRING) {
        for (uint64_t i = 0; i < a->arr_len; i++) {
            gguf_str s = gguf_arr_str(src, a, i);
            put_str(w, s.ptr, s.len);
        }
    } else if (a->arr_type == GGUF_T_ARRAY) {
        /* One pass over the elements: view i+1 starts where view i ends. */
        for (uint64_t i = 0; i < a->arr_len && !w->err[0]; i++) {
            gguf_kv sub;
            if (!gguf_arr_sub(src, a, i, &sub)) { werr(w, "cannot read nested array"); return; }
            copy_array(w, src, &sub);
        }
    } else {
        put(w, a->data, (size_t)(a->arr_len * gguf_vtype_size(a->arr_type)));  /* already little-endian */
    }
}

void gguf_w_copy_kv(gguf_writer *w, const gguf_file *src, const gguf_kv *kv) {
    char key[65536];
    size_t n = kv->key.len < sizeof key ? (size_t)kv->key.len : sizeof key - 1;
    memcpy(key, kv->key.ptr, n);
    key[n] = 0;
    if (!begin_kv(w, key, kv->type)) return;
    if (kv->type == GGUF_T_STRING) put_str(w, (const char *)kv->data, kv->arr_len);
    else if (kv->type == GGUF_T_ARRAY) copy_array(w, src, kv);
    else put(w, kv->data, gguf_vtype_size(kv->type));
}

void gguf_w_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                   const uint64_t *ne, const void *data, uint64_t n_bytes) {
    if (!w || w->err[0]) return;
    size_t nl = name ? strlen(name) : 0;
    if (!name || !good_name(name, nl) || nl > MAX_TENSOR_NAME) {
        werr(w, "bad tensor name '%.64s' (1 to %d bytes of UTF-8)", name ? name : "(null)", MAX_TENSOR_NAME);
        return;
    }
    for (uint64_t i = 0; i < w->n_t; i++)
        if (strcmp(w->t[i].name, name) == 0) { werr(w, "duplicate tensor '%s'", name); return; }
    const gguf_type_info *ti = gguf_tensor_type_info(type);
    if (!ti) { werr(w, "tensor '%s': unknown type %" PRIu32, name, type); return; }
    if (n_dims == 0 || n_dims > GGUF_MAX_DIMS) { werr(w, "tensor '%s': %" PRIu32 " dimensions", name, n_dims); return; }
    uint64_t n = 1;
    for (uint32_t d = 0; d < n_dims; d++) {
        if (ne[d] == 0 || ne[d] > (uint64_t)INT64_MAX / n) {
            werr(w, "tensor '%s': bad dimension %" PRIu32, name, d);
            return;
        }
        n *= ne[d];
    }
    if (ne[0] % ti->block_elems) {
        werr(w, "tensor '%s': row of %" PRIu64 " is not a multiple of the %s block size %" PRIu32,
             name, ne[0], ti->name, ti->block_elems);
        return;
    }
    if (n / ti->block_elems > UINT64_MAX / ti->block_bytes ||
        n / ti->block_elems * ti->block_bytes != n_bytes) {
        werr(w, "tensor '%s': %" PRIu64 " bytes given, the shape needs %" PRIu64, name, n_bytes,
             n / ti->block_elems * ti->block_bytes);
        return;
    }
    if (n_bytes > SIZE_MAX) { werr(w, "tensor '%s': too large", name); return; }
    void *tp = w->t;
    if (!grow(w, &tp, &w->t_cap, (size_t)w->n_t + 1, sizeof *w->t)) return;
    w->t = tp;
    wtensor *t = &w->t[w->n_t];
    memset(t, 0, sizeof *t);
    t->name = malloc(nl + 1);
    if (data) t->data = malloc(n_bytes ? (size_t)n_bytes : 1);
    if (!t->name || (data && !t->data)) {
        free(t->name);
        free(t->data);
        werr(w, "out of memory");
        return;
    }
    memcpy(t->name, name, nl + 1);
    if (data) memcpy(t->data, data, (size_t)n_bytes);
    t->type = type;
    t->n_dims = n_dims;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->n_bytes = n_bytes;
    w->n_t++;
}

/* ---- emit ------------------------------------------------------------------ */

typedef struct {
    bool (*write)(void *ctx, const void *p, size_t n);
    void *ctx;
    uint64_t pos;
    bool ok;
} sink;

static void out(sink *s, const void *p, size_t n) {
    if (s->ok && n && !s->write(s->ctx, p, n)) s->ok = false;
    s->pos += n;
}

static void out_zeros(sink *s, uint64_t n) {
    static const uint8_t z[256];
    while (n) {
        size_t k = n < sizeof z ? (size_t)n : sizeof z;
        out(s, z, k);
        n -= k;
    }
}

static void out_le(sink *s, uint64_t v, int bytes) {
    uint8_t b[8];
    for (int i = 0; i < bytes; i++) b[i] = (uint8_t)(v >> (8 * i));
    out(s, b, (size_t)bytes);
}

bool gguf_writer_emit(gguf_writer *w, bool (*write)(void *ctx, const void *p, size_t n),
                      void *ctx, char *err, size_t errlen) {
    if (!w) {
        snprintf(err, errlen, "gguf writer: no writer (out of memory?)");
        return false;
    }
    /* A non-default alignment must be stated in the file, or readers would
     * assume 32; written first so it can't be missed. */
    bool add_align = w->alignment != 32 && !w->align_at;
    if (w->align_at && !w->err[0]) {
        /* the caller wrote it: it has to agree with the layout we produce */
        const uint8_t *p = w->meta.p + w->align_at - 1;
        uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if (w->align_type != GGUF_T_UINT32 || v != w->alignment)
            werr(w, "general.alignment must be the uint32 %" PRIu32 " given to gguf_writer_new", w->alignment);
    }
    if (w->err[0]) {
        snprintf(err, errlen, "%s", w->err);
        return false;
    }
    uint64_t a = w->alignment, rel = 0;
    for (uint64_t i = 0; i < w->n_t; i++) {
        rel += (a - rel % a) % a;
        w->t[i].rel = rel;
        rel += w->t[i].n_bytes;
    }
    sink s = {write, ctx, 0, true};
    out_le(&s, 0x46554747u, 4);
    out_le(&s, 3, 4);
    out_le(&s, w->n_t, 8);
    out_le(&s, w->n_kv + add_align, 8);
    if (add_align) {
        static const char k[] = "general.alignment";
        out_le(&s, sizeof k - 1, 8);
        out(&s, k, sizeof k - 1);
        out_le(&s, GGUF_T_UINT32, 4);
        out_le(&s, a, 4);
    }
    out(&s, w->meta.p, w->meta.n);
    for (uint64_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        size_t nl = strlen(t->name);
        out_le(&s, nl, 8);
        out(&s, t->name, nl);
        out_le(&s, t->n_dims, 4);
        for (uint32_t d = 0; d < t->n_dims; d++) out_le(&s, t->ne[d], 8);
        out_le(&s, t->type, 4);
        out_le(&s, t->rel, 8);
    }
    if (w->n_t) {
        out_zeros(&s, (a - s.pos % a) % a);
        uint64_t ds = s.pos;
        for (uint64_t i = 0; i < w->n_t; i++) {
            const wtensor *t = &w->t[i];
            out_zeros(&s, ds + t->rel - s.pos);
            if (t->data) out(&s, t->data, (size_t)t->n_bytes);
            else out_zeros(&s, t->n_bytes);
        }
        out_zeros(&s, (a - s.pos % a) % a);  /* llama.cpp pads the last tensor too */
    }
    if (!s.ok) {
        snprintf(err, errlen, "gguf writer: output write failed");
        return false;
    }
    return true;
}

typedef struct { uint8_t *p; size_t n, cap; } membuf;

static bool to_mem(void *ctx, const void *p, size_t n) {
    membuf *m = ctx;
    if (n > m->cap - m->n) return false;
    memcpy(m->p + m->n, p, n);
    m->n += n;
    return true;
}

static bool count_only(void *ctx, const void *p, size_t n) {
    (void)p;
    uint64_t *c = ctx;
    *c += n;
    return true;
}

void *gguf_writer_finish(gguf_writer *w, size_t *size, char *err, size_t errlen) {
    uint64_t total = 0;
    if (!gguf_writer_emit(w, count_only, &total, err, errlen)) return NULL;
    if (total > SIZE_MAX) {
        snprintf(err, errlen, "gguf writer: image of %" PRIu64 " bytes does not fit in memory", total);
        return NULL;
    }
    membuf m = {malloc(total ? (size_t)total : 1), 0, (size_t)total};
    if (!m.p) {
        snprintf(err, errlen, "gguf writer: out of memory (%" PRIu64 " bytes)", total);
        return NULL;
    }
    if (!gguf_writer_emit(w, to_mem, &m, err, errlen)) {
        free(m.p);
        return NULL;
    }
    *size = m.n;
    return m.p;
}
