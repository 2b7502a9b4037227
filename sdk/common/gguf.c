/* gguf.c: the GGUF reader (see gguf.h and docs/gguf.md).
 *
 * One pass over the image validates everything a caller could later touch:
 * after gguf_open_buffer() succeeds, every getter only reads bytes that were
 * proven to lie inside the buffer. Counts from the file are never trusted to
 * size an allocation until they were checked against the bytes that remain
 * (each item has a known minimum encoded size). All file offsets are kept in
 * uint64_t so that the same code is safe with a 32-bit size_t (wasm32).
 */
#include "gguf_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GGUF_MAGIC 0x46554747u      /* "GGUF" read as little-endian u32 */
#define GGUF_DEFAULT_ALIGN 32u
#define GGUF_MAX_NEST 8             /* arrays of arrays deeper than this are refused */
#define GGUF_MAX_KEY 65535u

/* ---- type tables ---------------------------------------------------------- */

static const gguf_type_info type_table[] = {
    [GGML_F32] = {"F32", 1, 4},       [GGML_F16] = {"F16", 1, 2},
    [GGML_Q4_0] = {"Q4_0", 32, 18},   [GGML_Q4_1] = {"Q4_1", 32, 20},
    [GGML_Q5_0] = {"Q5_0", 32, 22},   [GGML_Q5_1] = {"Q5_1", 32, 24},
    [GGML_Q8_0] = {"Q8_0", 32, 34},   [GGML_Q8_1] = {"Q8_1", 32, 36},
    [GGML_Q2_K] = {"Q2_K", 256, 84},  [GGML_Q3_K] = {"Q3_K", 256, 110},
    [GGML_Q4_K] = {"Q4_K", 256, 144}, [GGML_Q5_K] = {"Q5_K", 256, 176},
    [GGML_Q6_K] = {"Q6_K", 256, 210}, [GGML_Q8_K] = {"Q8_K", 256, 292},
    [GGML_I8] = {"I8", 1, 1},         [GGML_I16] = {"I16", 1, 2},
    [GGML_I32] = {"I32", 1, 4},       [GGML_I64] = {"I64", 1, 8},
    [GGML_F64] = {"F64", 1, 8},       [GGML_BF16] = {"BF16", 1, 2},
};

const gguf_type_info *gguf_tensor_type_info(uint32_t type) {
    if (type >= sizeof type_table / sizeof type_table[0] || !type_table[type].name)
        return NULL;
    return &type_table[type];
}

static const char *const vtype_names[] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
    "bool", "string", "array", "uint64", "int64", "float64",
};

const char *gguf_vtype_name(uint32_t t) {
    return t < sizeof vtype_names / sizeof vtype_names[0] ? vtype_names[t] : "unknown";
}

/* Encoded size of a fixed-size value type; 0 for string, array, unknown. */
size_t gguf_vtype_size(uint32_t t) {
    switch (t) {
    case GGUF_T_UINT8: case GGUF_T_INT8: case GGUF_T_BOOL: return 1;
    case GGUF_T_UINT16: case GGUF_T_INT16: return 2;
    case GGUF_T_UINT32: case GGUF_T_INT32: case GGUF_T_FLOAT32: return 4;
    case GGUF_T_UINT64: case GGUF_T_INT64: case GGUF_T_FLOAT64: return 8;
    default: return 0;
    }
}

/* ---- messages --------------------------------------------------------------- */

/* Names come from the file: show at most 48 bytes, escape the unprintable so
 * a hostile name cannot forge terminal output or break the one-line rule. */
void gguf__quote(char *dst, size_t cap, const char *s, uint64_t n) {
    size_t o = 0;
    uint64_t shown = n > 48 ? 48 : n;
    for (uint64_t i = 0; i < shown && o + 5 < cap; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f && c != '\'' && c != '\\') dst[o++] = (char)c;
        else o += (size_t)snprintf(dst + o, cap - o, "\\x%02x", c);
    }
    if (n > shown && o + 4 < cap) { memcpy(dst + o, "...", 3); o += 3; }
    dst[o < cap ? o : cap - 1] = 0;
}

/* ---- the parser --------------------------------------------------------------- */

typedef struct {
    const uint8_t *b;
    uint64_t size, pos;
    uint32_t ver;
    char subj[256];                 /* what is being parsed, for messages */
    char *err;
    size_t errlen;
} rd;

static bool fail(rd *r, uint64_t off, const char *fmt, ...) {
    if (!r->err || !r->errlen) return false;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(r->err, r->errlen, "gguf: %s at offset %" PRIu64 ": %s", r->subj, off, msg);
    return false;
}

static uint64_t left(const rd *r) { return r->size - r->pos; }

static bool need(rd *r, uint64_t n, const char *what) {
    if (n > left(r))
        return fail(r, r->pos, "%s runs past end of file (%" PRIu64 " bytes needed, %" PRIu64 " left)",
                    what, n, left(r));
    return true;
}

static bool rd_u32(rd *r, uint32_t *v, const char *what) {
    if (!need(r, 4, what)) return false;
    *v = ld32(r->b + r->pos);
    r->pos += 4;
    return true;
}

static bool rd_u64(rd *r, uint64_t *v, const char *what) {
    if (!need(r, 8, what)) return false;
    *v = ld64(r->b + r->pos);
    r->pos += 8;
    return true;
}

/* Counts and lengths are u32 in v1 and u64 from v2 on. */
static unsigned len_bytes(const rd *r) { return r->ver == 1 ? 4 : 8; }

static bool rd_len(rd *r, uint64_t *v, const char *what) {
    if (r->ver == 1) {
        uint32_t x;
        if (!rd_u32(r, &x, what)) return false;
        *v = x;
        return true;
    }
    return rd_u64(r, v, what);
}

/* A string: length then bytes. */
static bool rd_str(rd *r, gguf_str *s, const char *what) {
    uint64_t at = r->pos, n;
    if (!rd_len(r, &n, what)) return false;
    if (n > left(r))
        return fail(r, at, "%s length %" PRIu64 " runs past end of file (%" PRIu64 " bytes left)",
                    what, n, left(r));
    s->ptr = (const char *)r->b + r->pos;
    s->len = n;
    r->pos += n;
    return true;
}

/* Keys and tensor names: non-empty, bounded, valid UTF-8 without control
 * characters (they are identifiers and end up in messages and listings). */
const char *gguf__name_problem(const char *name, uint64_t len) {
    gguf_str s = {name, len};
    if (s.len == 0) return "is empty";
    if (s.len > GGUF_MAX_KEY) return "is longer than 65535 bytes";
    const unsigned char *p = (const unsigned char *)s.ptr;
    uint64_t i = 0;
    while (i < s.len) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f) return "contains a control character";
            i++;
            continue;
        }
        /* n = continuation bytes; lead bytes c0, c1, f5..ff are never valid */
        unsigned n = c >= 0xf5 ? 0 : c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : 0;
        if (n == 0 || n >= s.len - i) return "is not valid UTF-8";
        uint32_t cp = c & (0x3fu >> n);
        for (unsigned k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return "is not valid UTF-8";
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return "is not valid UTF-8";
        i += n + 1;
    }
    return NULL;
}

static bool valid_vtype(uint32_t t) { return t <= GGUF_T_FLOAT64; }

/* Minimum encoded size of one array element of type t. */
static uint64_t min_elem(const rd *r, uint32_t t) {
    if (t == GGUF_T_STRING) return len_bytes(r);
    if (t == GGUF_T_ARRAY) return 4 + len_bytes(r);
    return gguf_vtype_size(t);
}

static bool skip_value(rd *r, uint32_t t, int depth);

/* The body of an array (after its element type and count): check, skip, and
 * optionally record where each element starts. */
static bool skip_array_body(rd *r, uint32_t et, uint64_t n, int depth, uint64_t *offs) {
    uint64_t me = min_elem(r, et);
    if (n > left(r) / me)
        return fail(r, r->pos, "array of %" PRIu64 " %s elements needs at least %" PRIu64
                    " bytes per element, only %" PRIu64 " bytes left", n, gguf_vtype_name(et), me, left(r));
    if (et != GGUF_T_STRING && et != GGUF_T_ARRAY) {
        r->pos += n * me;
        return true;
    }
    for (uint64_t i = 0; i < n; i++) {
        if (offs) offs[i] = r->pos;
        if (!skip_value(r, et, depth)) return false;
    }
    return true;
}

static bool rd_array_head(rd *r, uint32_t *et, uint64_t *n, int depth) {
    uint64_t at = r->pos;
    if (depth >= GGUF_MAX_NEST) return fail(r, at, "arrays nested deeper than %d levels", GGUF_MAX_NEST);
    if (!rd_u32(r, et, "array element type")) return false;
    if (!valid_vtype(*et)) return fail(r, at, "unknown array element type %" PRIu32, *et);
    return rd_len(r, n, "array length");
}

static bool skip_value(rd *r, uint32_t t, int depth) {
    if (t == GGUF_T_STRING) {
        gguf_str s;
        return rd_str(r, &s, "string");
    }
    if (t == GGUF_T_ARRAY) {
        uint32_t et = 0;
        uint64_t n = 0;
        return rd_array_head(r, &et, &n, depth) && skip_array_body(r, et, n, depth + 1, NULL);
    }
    size_t sz = gguf_vtype_size(t);
    if (!need(r, sz, gguf_vtype_name(t))) return false;
    r->pos += sz;
    return true;
}

/* ---- hashing of names (duplicate checks and O(1) lookup) -------------------- */

static uint64_t hash_bytes(const char *s, uint64_t n) {
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint64_t hcap_for(uint64_t n) {
    uint64_t c = 8;
    while (c < n * 2) c <<= 1;
    return c;
}

/* Find name in table; names(i) gives entry i's name. Returns the slot. */
typedef gguf_str (*name_at_fn)(const gguf_file *f, uint64_t i);
static gguf_str kv_name(const gguf_file *f, uint64_t i) { return f->kvs[i].key; }
static gguf_str t_name(const gguf_file *f, uint64_t i) { return f->tensors[i].name; }

static uint64_t *h_slot(const gguf_file *f, uint64_t *tab, uint64_t cap, name_at_fn nf,
                        const char *s, uint64_t n) {
    if (!tab) return NULL;
    uint64_t i = hash_bytes(s, n) & (cap - 1);
    for (;;) {
        uint64_t *slot = &tab[i];
        if (*slot == 0) return slot;
        gguf_str k = nf(f, *slot - 1);
        if (k.len == n && memcmp(k.ptr, s, (size_t)n) == 0) return slot;
        i = (i + 1) & (cap - 1);
    }
}

/* ---- allocation guarded against size_t overflow (32-bit guests) ------------- */

static void *alloc_n(uint64_t n, size_t elem) {
    if (n == 0) n = 1;
    if (n > SIZE_MAX / elem) return NULL;
    return calloc((size_t)n, elem);
}

/* ---- header, metadata, tensor infos ---------------------------------------- */

static bool parse_kvs(rd *r, gguf_file *f) {
    uint64_t min_kv = (uint64_t)len_bytes(r) + 1 + 4 + 1;  /* key len, 1 key byte, type, 1 value byte */
    if (f->n_kv > left(r) / min_kv)
        return fail(r, 8 + len_bytes(r), "%" PRIu64 " metadata entries cannot fit in the %" PRIu64
                    " bytes left (each takes at least %" PRIu64 ")", f->n_kv, left(r), min_kv);
    f->kvs = alloc_n(f->n_kv, sizeof *f->kvs);
    f->elem_off = alloc_n(f->n_kv, sizeof *f->elem_off);
    f->kv_hcap = hcap_for(f->n_kv);
    f->kv_hash = alloc_n(f->kv_hcap, sizeof *f->kv_hash);
    if (!f->kvs || !f->elem_off || !f->kv_hash) return fail(r, r->pos, "out of memory");

    for (uint64_t i = 0; i < f->n_kv; i++) {
        gguf_kv *kv = &f->kvs[i];
        uint64_t at = r->pos;
        snprintf(r->subj, sizeof r->subj, "metadata entry #%" PRIu64, i);
        if (!rd_str(r, &kv->key, "key")) return false;
        const char *why = gguf__name_problem(kv->key.ptr, kv->key.len);
        if (why) return fail(r, at, "key %s", why);
        char q[200];
        gguf__quote(q, sizeof q, kv->key.ptr, kv->key.len);
        snprintf(r->subj, sizeof r->subj, "key '%s'", q);
        uint64_t *slot = h_slot(f, f->kv_hash, f->kv_hcap, kv_name, kv->key.ptr, kv->key.len);
        if (*slot) return fail(r, at, "duplicate key (first at offset %" PRIu64 ")",
                               (uint64_t)((const uint8_t *)f->kvs[*slot - 1].key.ptr - r->b) - len_bytes(r));
        *slot = i + 1;

        uint32_t t;
        uint64_t tat = r->pos;
        if (!rd_u32(r, &t, "value type")) return false;
        if (!valid_vtype(t)) return fail(r, tat, "unknown value type %" PRIu32, t);
        kv->type = (gguf_vtype)t;
        kv->offset = r->pos;
        if (t == GGUF_T_STRING) {
            gguf_str s;
            if (!rd_str(r, &s, "string value")) return false;
            kv->data = (const uint8_t *)s.ptr;
            kv->arr_len = s.len;
        } else if (t == GGUF_T_ARRAY) {
            uint32_t et = 0;
            uint64_t n = 0;
            if (!rd_array_head(r, &et, &n, 0)) return false;
            kv->arr_type = (gguf_vtype)et;
            kv->arr_len = n;
            kv->data = r->b + r->pos;
            uint64_t *offs = NULL;
            if (et == GGUF_T_STRING || et == GGUF_T_ARRAY) {
                /* Fits-check first so the index is never larger than the file. */
                if (n > left(r) / min_elem(r, et))
                    return skip_array_body(r, et, n, 1, NULL);
                offs = f->elem_off[i] = alloc_n(n, sizeof *offs);
                if (!offs) return fail(r, r->pos, "out of memory");
            }
            if (!skip_array_body(r, et, n, 1, offs)) return false;
        } else {
            kv->data = r->b + r->pos;
            if (!skip_value(r, t, 0)) return false;
        }
    }
    return true;
}

static bool parse_alignment(rd *r, gguf_file *f) {
    f->alignment = GGUF_DEFAULT_ALIGN;
    const gguf_kv *kv = gguf_find(f, "general.alignment");
    if (!kv) return true;
    snprintf(r->subj, sizeof r->subj, "key 'general.alignment'");
    if (kv->type != GGUF_T_UINT32)
        return fail(r, kv->offset, "must be uint32, found %s", gguf_vtype_name(kv->type));
    uint32_t a = ld32(kv->data);
    if (a == 0 || (a & (a - 1)))
        return fail(r, kv->offset, "alignment %" PRIu32 " is not a power of two", a);
    f->alignment = a;
    return true;
}

static bool parse_tensor_infos(rd *r, gguf_file *f, uint64_t *info_at) {
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        uint64_t at = r->pos;
        info_at[i] = at;
        snprintf(r->subj, sizeof r->subj, "tensor #%" PRIu64, i);
        if (!rd_str(r, &t->name, "tensor name")) return false;
        const char *why = gguf__name_problem(t->name.ptr, t->name.len);
        if (why) return fail(r, at, "name %s", why);
        char q[200];
        gguf__quote(q, sizeof q, t->name.ptr, t->name.len);
        snprintf(r->subj, sizeof r->subj, "tensor '%s'", q);
        uint64_t *slot = h_slot(f, f->t_hash, f->t_hcap, t_name, t->name.ptr, t->name.len);
        if (*slot) return fail(r, at, "duplicate tensor name (first at offset %" PRIu64 ")",
                               info_at[*slot - 1]);
        *slot = i + 1;

        uint64_t dat = r->pos;
        if (!rd_u32(r, &t->n_dims, "dimension count")) return false;
        if (t->n_dims == 0) return fail(r, dat, "tensor has 0 dimensions");
        if (t->n_dims > GGUF_MAX_DIMS)
            return fail(r, dat, "%" PRIu32 " dimensions (at most %d)", t->n_dims, GGUF_MAX_DIMS);
        uint64_t n = 1;
        for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
        for (uint32_t d = 0; d < t->n_dims; d++) {
            uint64_t eat = r->pos;
            if (!rd_len(r, &t->ne[d], "dimension")) return false;
            if (t->ne[d] == 0) return fail(r, eat, "dimension %" PRIu32 " is zero", d);
            if (t->ne[d] > (uint64_t)INT64_MAX / n)
                return fail(r, eat, "element count overflows (dimension %" PRIu32 " = %" PRIu64 ")",
                            d, t->ne[d]);
            n *= t->ne[d];
        }
        t->n_elems = n;
        uint64_t tat = r->pos;
        if (!rd_u32(r, &t->type, "tensor type")) return false;
        const gguf_type_info *ti = gguf_tensor_type_info(t->type);
        if (!ti) return fail(r, tat, "unknown tensor type %" PRIu32, t->type);
        if (t->ne[0] % ti->block_elems)
            return fail(r, dat, "row of %" PRIu64 " elements is not a multiple of the %s block size %" PRIu32,
                        t->ne[0], ti->name, ti->block_elems);
        uint64_t blocks = n / ti->block_elems;
        if (blocks > UINT64_MAX / ti->block_bytes)
            return fail(r, dat, "byte size overflows");
        t->n_bytes = blocks * ti->block_bytes;
        if (!rd_u64(r, &t->offset, "data offset")) return false;  /* relative for now */
    }
    return true;
}

typedef struct { uint64_t off, end, idx; } span;
static int cmp_span(const void *a, const void *b) {
    uint64_t x = ((const span *)a)->off, y = ((const span *)b)->off;
    return x < y ? -1 : x > y;
}

/* Place every tensor: aligned, inside the file, no two sharing a byte. */
static bool place_tensors(rd *r, gguf_file *f, const uint64_t *info_at) {
    uint64_t a = f->alignment;
    uint64_t ds = r->pos + (a - r->pos % a) % a;
    f->data_start = ds;
    if (f->n_tensors == 0) return true;
    uint64_t avail = ds <= f->size ? f->size - ds : 0;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        gguf_tensor *t = &f->tensors[i];
        char q[200];
        gguf__quote(q, sizeof q, t->name.ptr, t->name.len);
        snprintf(r->subj, sizeof r->subj, "tensor '%s'", q);
        uint64_t oat = info_at[i] + len_bytes(r) + t->name.len + 4 + (uint64_t)t->n_dims * len_bytes(r) + 4;
        if (t->offset % a)
            return fail(r, oat, "data offset %" PRIu64 " is not a multiple of the alignment %" PRIu64,
                        t->offset, a);
        if (t->offset > avail || t->n_bytes > avail - t->offset)
            return fail(r, oat, "data (%" PRIu64 " bytes at data offset %" PRIu64
                        ") runs past end of file (data section holds %" PRIu64 " bytes)",
                        t->n_bytes, t->offset, avail);
    }
    span *ord = alloc_n(f->n_tensors, sizeof *ord);
    if (!ord) return fail(r, r->pos, "out of memory");
    for (uint64_t i = 0; i < f->n_tensors; i++)
        ord[i] = (span){f->tensors[i].offset, f->tensors[i].offset + f->tensors[i].n_bytes, i};
    qsort(ord, (size_t)f->n_tensors, sizeof *ord, cmp_span);
    bool ok = true;
    for (uint64_t k = 1; k < f->n_tensors && ok; k++) {
        if (ord[k].off < ord[k - 1].end) {
            const gguf_tensor *p = &f->tensors[ord[k - 1].idx], *t = &f->tensors[ord[k].idx];
            char q[200], qp[200];
            gguf__quote(q, sizeof q, t->name.ptr, t->name.len);
            gguf__quote(qp, sizeof qp, p->name.ptr, p->name.len);
            snprintf(r->subj, sizeof r->subj, "tensor '%s'", q);
            ok = fail(r, info_at[ord[k].idx], "data overlaps tensor '%s' (data offsets %" PRIu64 " and %" PRIu64 ")",
                      qp, t->offset, p->offset);
        }
    }
    free(ord);
    for (uint64_t i = 0; i < f->n_tensors && ok; i++) {
        gguf_tensor *t = &f->tensors[i];
        t->offset += ds;
        t->data = r->b + t->offset;
    }
    return ok;
}

gguf_file *gguf_open_buffer(const void *buf, size_t len, char *err, size_t errlen) {
    rd r = {.b = buf, .size = len, .err = err, .errlen = errlen};
    snprintf(r.subj, sizeof r.subj, "header");
    if (!buf && len) { fail(&r, 0, "no buffer"); return NULL; }
    uint32_t magic;
    if (!rd_u32(&r, &magic, "magic")) return NULL;
    if (magic != GGUF_MAGIC) { fail(&r, 0, "bad magic (not a GGUF file)"); return NULL; }
    uint32_t ver;
    if (!rd_u32(&r, &ver, "version")) return NULL;
    if (ver != 0 && (ver & 0xffff) == 0) {
        /* A big-endian file stores version 3 as 0x03000000. */
        fail(&r, 4, "big-endian GGUF (version field 0x%08" PRIx32 ") is not supported", ver);
        return NULL;
    }
    if (ver == 0 || ver > 3) { fail(&r, 4, "unsupported version %" PRIu32 " (1 to 3 are read)", ver); return NULL; }
    r.ver = ver;

    gguf_file *f = calloc(1, sizeof *f);
    if (!f) { fail(&r, 0, "out of memory"); return NULL; }
    f->base = buf;
    f->size = len;
    f->version = ver;
    if (!rd_len(&r, &f->n_tensors, "tensor count") || !rd_len(&r, &f->n_kv, "metadata count"))
        goto bad;
    /* Tensor-count sanity before the metadata is read: each info takes at
     * least a name length, one name byte, n_dims, one dimension, type, offset. */
    uint64_t min_ti = (uint64_t)len_bytes(&r) * 2 + 1 + 4 + 4 + 8;
    if (f->n_tensors > left(&r) / min_ti) {
        fail(&r, 8, "%" PRIu64 " tensors cannot fit in the %" PRIu64 " bytes left", f->n_tensors, left(&r));
        goto bad;
    }
    if (!parse_kvs(&r, f) || !parse_alignment(&r, f)) goto bad;
    snprintf(r.subj, sizeof r.subj, "tensor infos");
    if (f->n_tensors > left(&r) / min_ti) {
        fail(&r, r.pos, "%" PRIu64 " tensors cannot fit in the %" PRIu64 " bytes left", f->n_tensors, left(&r));
        goto bad;
    }
    f->tensors = alloc_n(f->n_tensors, sizeof *f->tensors);
    f->t_hcap = hcap_for(f->n_tensors);
    f->t_hash = alloc_n(f->t_hcap, sizeof *f->t_hash);
    uint64_t *info_at = alloc_n(f->n_tensors, sizeof *info_at);
    if (!f->tensors || !f->t_hash || !info_at) {
        free(info_at);
        fail(&r, r.pos, "out of memory");
        goto bad;
    }
    bool ok = parse_tensor_infos(&r, f, info_at) && place_tensors(&r, f, info_at);
    free(info_at);
    if (ok) return f;
bad:
    gguf_close(f);
    return NULL;
}

void gguf_set_release(gguf_file *f, void (*release)(void *ctx), void *ctx) {
    f->release = release;
    f->release_ctx = ctx;
}

void gguf_close(gguf_file *f) {
    if (!f) return;
    if (f->elem_off)
        for (uint64_t i = 0; i < f->n_kv; i++) free(f->elem_off[i]);
    free(f->elem_off);
    free(f->kvs);
    free(f->kv_hash);
    free(f->tensors);
    free(f->t_hash);
    if (f->release) f->release(f->release_ctx);
    free(f);
}

/* ---- accessors --------------------------------------------------------------- */

uint32_t gguf_version(const gguf_file *f) { return f->version; }
uint32_t gguf_alignment(const gguf_file *f) { return f->alignment; }
const void *gguf_base(const gguf_file *f) { return f->base; }
size_t gguf_size(const gguf_file *f) { return (size_t)f->size; }
uint64_t gguf_data_offset(const gguf_file *f) { return f->data_start; }

uint64_t gguf_kv_count(const gguf_file *f) { return f->n_kv; }
const gguf_kv *gguf_kv_at(const gguf_file *f, uint64_t i) { return i < f->n_kv ? &f->kvs[i] : NULL; }

const gguf_kv *gguf_find(const gguf_file *f, const char *key) {
    uint64_t *s = h_slot(f, f->kv_hash, f->kv_hcap, kv_name, key, strlen(key));
    return s && *s ? &f->kvs[*s - 1] : NULL;
}

uint64_t gguf_tensor_count(const gguf_file *f) { return f->n_tensors; }
const gguf_tensor *gguf_tensor_at(const gguf_file *f, uint64_t i) {
    return i < f->n_tensors ? &f->tensors[i] : NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *f, const char *name) {
    uint64_t *s = h_slot(f, f->t_hash, f->t_hcap, t_name, name, strlen(name));
    return s && *s ? &f->tensors[*s - 1] : NULL;
}

bool gguf_str_eq(gguf_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && memcmp(s.ptr, c, n) == 0;
}

/* ---- element offsets (used by gguf_get.c) ------------------------------------ */

/* Offset of element i of a string/array array. Top-level kvs have an index
 * built at parse time; views made by gguf_arr_sub are walked (already
 * validated, so the walk needs no checks beyond the parse-time ones). */
uint64_t gguf__elem_offset(const gguf_file *f, const gguf_kv *kv, uint64_t i) {
    uintptr_t p = (uintptr_t)kv, lo = (uintptr_t)f->kvs, hi = (uintptr_t)(f->kvs + f->n_kv);
    if (p >= lo && p < hi) {
        uint64_t k = (uint64_t)(kv - f->kvs);
        if (f->elem_off[k]) return f->elem_off[k][i];
    }
    rd r = {.b = f->base, .size = f->size, .ver = f->version};
    r.pos = (uint64_t)(kv->data - f->base);
    for (uint64_t k = 0; k < i; k++) skip_value(&r, kv->arr_type, 1);
    return r.pos;
}
