/* model.c: build an llm_model from a GGUF file: read the hyperparameters
 * from metadata, find every tensor the architecture needs and check its
 * shape and type against them. Weights stay in the file image. */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hugemap.h"
#include "llm_internal.h"
#include "llm_err.h"
#include "pack_cache.h"

static const char *type_name(uint32_t type) {
    const gguf_type_info *ti = gguf_tensor_type_info(type);
    return ti ? ti->name : "unknown";
}

/* ---- metadata ------------------------------------------------------- */

/* Integer <arch>.<suffix> in [lo, hi]; def when absent and not required. */
static bool meta_int(const gguf_file *f, const char *arch, const char *suffix,
                     bool required, int def, int lo, int hi, int *out,
                     char *err, size_t errlen) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!gguf_find(f, key)) {
        if (required) return llm_fail(err, errlen, "llm: missing metadata key '%s'", key);
        *out = def;
        return true;
    }
    char e[200];
    int64_t v;
    if (!gguf_get_i64(f, key, &v, e, sizeof e)) return llm_fail(err, errlen, "llm: %s", e);
    if (v < lo || v > hi)
        return llm_fail(err, errlen, "llm: metadata '%s' = %lld is out of range [%d, %d]",
                    key, (long long)v, lo, hi);
    *out = (int)v;
    return true;
}

static bool meta_float(const gguf_file *f, const char *arch, const char *suffix,
                       bool required, float def, float *out, char *err, size_t errlen) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (!gguf_find(f, key)) {
        if (required) return llm_fail(err, errlen, "llm: missing metadata key '%s'", key);
        *out = def;
        return true;
    }
    char e[200];
    if (!gguf_get_f32(f, key, out, e, sizeof e)) return llm_fail(err, errlen, "llm: %s", e);
    if (!isfinite(*out) || *out <= 0)
        return llm_fail(err, errlen, "llm: metadata '%s' = %g must be positive", key, (double)*out);
    return true;
}

static bool read_hparams(const gguf_file *f, llm_hparams *hp, char *err, size_t errlen) {
    gguf_str arch;
    char e[200];
    if (!gguf_get_str(f, "general.architecture", &arch, e, sizeof e))
        return llm_fail(err, errlen, "llm: %s", e);
    if (gguf_str_eq(arch, "llama")) {
        hp->rope_neox = false;   /* the converter permutes Q/K for (2i, 2i+1) pairs */
    } else if (gguf_str_eq(arch, "qwen2")) {
        hp->rope_neox = true;
    } else {
        int n = arch.len > 40 ? 40 : (int)arch.len;
        return llm_fail(err, errlen, "llm: unsupported architecture '%.*s' (general.architecture)",
                    n, arch.ptr);
    }
    memcpy(hp->arch, arch.ptr, arch.len);
    hp->arch[arch.len] = '\0';
    const char *a = hp->arch;

    const int big = 1 << 20;
    if (!meta_int(f, a, "embedding_length", true, 0, 1, big, &hp->n_embd, err, errlen) ||
        !meta_int(f, a, "block_count", true, 0, 1, 4096, &hp->n_layer, err, errlen) ||
        !meta_int(f, a, "attention.head_count", true, 0, 1, 4096, &hp->n_head, err, errlen) ||
        !meta_int(f, a, "attention.head_count_kv", false, hp->n_head, 1, 4096,
                  &hp->n_head_kv, err, errlen) ||
        !meta_int(f, a, "feed_forward_length", true, 0, 1, big, &hp->n_ff, err, errlen) ||
        !meta_int(f, a, "context_length", true, 0, 1, big, &hp->n_ctx_train, err, errlen))
        return false;
    if (hp->n_embd % hp->n_head != 0)
        return llm_fail(err, errlen, "llm: %s.embedding_length %d is not a multiple of "
                    "%s.attention.head_count %d", a, hp->n_embd, a, hp->n_head);
    if (!meta_int(f, a, "attention.key_length", false, hp->n_embd / hp->n_head, 1, big,
                  &hp->head_dim, err, errlen))
        return false;
    if ((int64_t)hp->head_dim * hp->n_head != hp->n_embd)   /* up to 2^20 x 4096: 64 bits */
        return llm_fail(err, errlen, "llm: %s.attention.key_length %d times head_count %d "
                    "differs from embedding_length %d", a, hp->head_dim, hp->n_head, hp->n_embd);
    if (hp->n_head % hp->n_head_kv != 0)
        return llm_fail(err, errlen, "llm: %s.attention.head_count %d is not a multiple of "
                    "head_count_kv %d", a, hp->n_head, hp->n_head_kv);
    if (!meta_int(f, a, "rope.dimension_count", false, hp->head_dim, 2, big, &hp->n_rot,
                  err, errlen))
        return false;
    if (hp->n_rot % 2 != 0 || hp->n_rot > hp->head_dim)
        return llm_fail(err, errlen, "llm: %s.rope.dimension_count %d must be even and at most "
                    "the head size %d", a, hp->n_rot, hp->head_dim);
    if (!meta_float(f, a, "attention.layer_norm_rms_epsilon", true, 0, &hp->rms_eps, err,
                    errlen) ||
        !meta_float(f, a, "rope.freq_base", false, 10000.0f, &hp->rope_base, err, errlen))
        return false;

    /* RoPE scaling: only linear (positions divided by the factor). */
    float factor = 1.0f;
    char key[128];
    snprintf(key, sizeof key, "%s.rope.scaling.type", a);
    bool linear = true;
    if (gguf_find(f, key)) {
        gguf_str t;
        if (!gguf_get_str(f, key, &t, e, sizeof e)) return llm_fail(err, errlen, "llm: %s", e);
        if (gguf_str_eq(t, "none")) {
            linear = false;
        } else if (!gguf_str_eq(t, "linear")) {
            int n = t.len > 40 ? 40 : (int)t.len;
            return llm_fail(err, errlen, "llm: unsupported RoPE scaling '%.*s' (%s)", n, t.ptr, key);
        }
    }
    if (linear) {
        if (!meta_float(f, a, "rope.scaling.factor", false, 1.0f, &factor, err, errlen) ||
            (factor == 1.0f &&
             !meta_float(f, a, "rope.scale_linear", false, 1.0f, &factor, err, errlen)))
            return false;
    }
    hp->rope_freq_scale = 1.0f / factor;

    uint32_t id;
    hp->bos = gguf_get_u32(f, "tokenizer.ggml.bos_token_id", &id, e, sizeof e) ? (int32_t)id : -1;
    hp->eos = gguf_get_u32(f, "tokenizer.ggml.eos_token_id", &id, e, sizeof e) ? (int32_t)id : -1;
    return true;
}

/* ---- tensors -------------------------------------------------------- */

static const gguf_tensor *find(const llm_model *m, const char *name, bool optional,
                               char *err, size_t errlen) {
    const gguf_tensor *t = gguf_find_tensor(m->gf, name);
    if (!t && !optional) llm_fail(err, errlen, "llm: missing tensor '%s'", name);
    return t;
}

static bool check_shape(const gguf_tensor *t, const char *name, int n_dims,
                        int64_t ne0, int64_t ne1, char *err, size_t errlen) {
    bool ok = t->ne[0] == (uint64_t)ne0 && (n_dims == 1 ? 1 : t->ne[1] == (uint64_t)ne1);
    for (uint32_t d = (uint32_t)n_dims; d < t->n_dims; d++) ok = ok && t->ne[d] == 1;
    if (ok) return true;
    char got[96];
    int k = snprintf(got, sizeof got, "[%llu", (unsigned long long)t->ne[0]);
    for (uint32_t d = 1; d < t->n_dims && d < GGUF_MAX_DIMS; d++)
        k += snprintf(got + k, sizeof got - (size_t)k, ", %llu", (unsigned long long)t->ne[d]);
    snprintf(got + k, sizeof got - (size_t)k, "]");
    if (n_dims == 1)
        return llm_fail(err, errlen, "llm: tensor '%s' has shape %s, expected [%lld]",
                    name, got, (long long)ne0);
    return llm_fail(err, errlen, "llm: tensor '%s' has shape %s, expected [%lld, %lld]",
                name, got, (long long)ne0, (long long)ne1);
}

/* A matrix of rows x cols (GGUF shape [cols, rows]). */
static bool bind_matrix(llm_model *m, const char *name, int cols, int rows, bool optional,
                        llm_weight *w, char *err, size_t errlen) {
    memset(w, 0, sizeof *w);
    const gguf_tensor *t = find(m, name, optional, err, errlen);
    if (!t) return optional;
    if (!check_shape(t, name, 2, cols, rows, err, errlen)) return false;
    if (!kn_type_supported(t->type))
        return llm_fail(err, errlen, "llm: tensor '%s' has unsupported type %s (%u)",
                    name, type_name(t->type), t->type);
    const gguf_type_info *ti = gguf_tensor_type_info(t->type);
    if (!ti || cols % (int)ti->block_elems != 0)
        return llm_fail(err, errlen, "llm: tensor '%s': row of %d is not a multiple of the %s "
                    "block size", name, cols, type_name(t->type));
    if ((uintptr_t)t->data % 4 != 0)
        return llm_fail(err, errlen, "llm: tensor '%s' data at offset %llu is not 4-byte aligned",
                    name, (unsigned long long)t->offset);
    w->data = t->data;
    w->type = t->type;
    w->stride = kn_row_bytes(t->type, cols);
    w->rows = rows;
    w->cols = cols;
    if ((uint64_t)w->stride * (uint64_t)rows != t->n_bytes)
        return llm_fail(err, errlen, "llm: tensor '%s' holds %llu bytes, expected %llu", name,
                    (unsigned long long)t->n_bytes,
                    (unsigned long long)w->stride * (unsigned long long)rows);
    return true;
}

/* A vector of n floats; half types (and unaligned F32) become F32 copies. */
static bool bind_vector(llm_model *m, const char *name, int n, bool optional,
                        const float **out, char *err, size_t errlen) {
    *out = NULL;
    const gguf_tensor *t = find(m, name, optional, err, errlen);
    if (!t) return optional;
    if (!check_shape(t, name, 1, n, 1, err, errlen)) return false;
    if (t->type != GGML_F32 && t->type != GGML_F16 && t->type != GGML_BF16)
        return llm_fail(err, errlen, "llm: tensor '%s' has unsupported type %s (%u) for a "
                    "vector (F32, F16 or BF16)", name, type_name(t->type), t->type);
    if (t->type == GGML_F32 && (uintptr_t)t->data % 4 == 0) {
        *out = t->data;
        return true;
    }
    float *copy = malloc((size_t)n * sizeof *copy);
    float **list = realloc(m->converted, (size_t)(m->n_converted + 1) * sizeof *list);
    if (!copy || !list) {
        free(copy);
        if (list) m->converted = list;
        return llm_fail(err, errlen, "llm: out of memory converting '%s'", name);
    }
    m->converted = list;
    m->converted[m->n_converted++] = copy;
    const uint8_t *src = t->data;
    for (int i = 0; i < n; i++) {
        if (t->type == GGML_F32) {
            memcpy(&copy[i], src + 4 * (size_t)i, 4);
        } else {
            uint16_t h;
            memcpy(&h, src + 2 * (size_t)i, 2);
            copy[i] = t->type == GGML_F16 ? kn_f16_to_f32(h) : kn_bf16_to_f32(h);
        }
    }
    *out = copy;
    return true;
}

static bool bind_tensors(llm_model *m, char *err, size_t errlen) {
    const llm_hparams *hp = &m->hp;
    const int E = hp->n_embd, KV = hp->n_head_kv * hp->head_dim, F = hp->n_ff;
    const gguf_tensor *te = find(m, "token_embd.weight", false, err, errlen);
    if (!te) return false;
    if (te->n_dims < 2 || te->ne[1] == 0 || te->ne[1] > (1u << 24))
        return llm_fail(err, errlen, "llm: tensor 'token_embd.weight' must be [%d, n_vocab]", E);
    m->hp.n_vocab = (int)te->ne[1];
    const int V = hp->n_vocab;
    if (!bind_matrix(m, "token_embd.weight", E, V, false, &m->tok_embd, err, errlen) ||
        !bind_vector(m, "output_norm.weight", E, false, &m->output_norm, err, errlen) ||
        !bind_matrix(m, "output.weight", E, V, true, &m->output, err, errlen))
        return false;
    m->hp.tied_output = m->output.data == NULL;
    if (m->hp.tied_output) m->output = m->tok_embd;

    m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers);
    if (!m->layers) return llm_fail(err, errlen, "llm: out of memory");
    const bool biases = strcmp(hp->arch, "qwen2") == 0;
    for (int l = 0; l < hp->n_layer; l++) {
        llm_layer *L = &m->layers[l];
        char n[10][64];
        static const char *const suffix[10] = {
            "attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
            "attn_output.weight", "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight",
            "ffn_down.weight", "",
        };
        for (int i = 0; i < 9; i++) snprintf(n[i], sizeof n[i], "blk.%d.%s", l, suffix[i]);
        if (!bind_vector(m, n[0], E, false, &L->attn_norm, err, errlen) ||
            !bind_matrix(m, n[1], E, E, false, &L->wq, err, errlen) ||
            !bind_matrix(m, n[2], E, KV, false, &L->wk, err, errlen) ||
            !bind_matrix(m, n[3], E, KV, false, &L->wv, err, errlen) ||
            !bind_matrix(m, n[4], E, E, false, &L->wo, err, errlen) ||
            !bind_vector(m, n[5], E, false, &L->ffn_norm, err, errlen) ||
            !bind_matrix(m, n[6], E, F, false, &L->w_gate, err, errlen) ||
            !bind_matrix(m, n[7], E, F, false, &L->w_up, err, errlen) ||
            !bind_matrix(m, n[8], F, E, false, &L->w_down, err, errlen))
            return false;
        if (biases) {
            char b[3][64];
            snprintf(b[0], sizeof b[0], "blk.%d.attn_q.bias", l);
            snprintf(b[1], sizeof b[1], "blk.%d.attn_k.bias", l);
            snprintf(b[2], sizeof b[2], "blk.%d.attn_v.bias", l);
            if (!bind_vector(m, b[0], E, false, &L->bq, err, errlen) ||
                !bind_vector(m, b[1], KV, false, &L->bk, err, errlen) ||
                !bind_vector(m, b[2], KV, false, &L->bv, err, errlen))
                return false;
        }
    }
    return true;
}

/* Repack the matrices the kernel table streams faster in another layout
 * (kn_pack_type), all into one mapping: an entry of the pack cache when
 * the image is a file (pack_cache.h), so later starts only map it, else
 * anonymous memory. A miss packs straight into a new entry, piece by
 * piece, and then maps it. The mapped originals are not read again. The
 * token embedding stays as mapped (rows are looked up one at a time); a
 * tied output matrix gets its own packed copy. */
static llm_weight *packable(llm_model *m, int i) {
    if (i == 0) return &m->output;
    llm_layer *L = &m->layers[(i - 1) / 7];
    llm_weight *ws[7] = {&L->wq, &L->wk, &L->wv, &L->wo, &L->w_gate, &L->w_up, &L->w_down};
    return ws[(i - 1) % 7];
}

static size_t packed_bytes(const llm_weight *w, uint32_t pt) {
    return (kn_row_bytes(pt, w->cols) * (size_t)w->rows + 63) & ~(size_t)63;
}

#define NOT_PACKED SIZE_MAX

typedef struct {
    llm_model *m;
    const size_t *off;     /* per packable matrix: its place, or NOT_PACKED */
    int n;
    uint8_t *base;         /* pack into memory here, or */
    const pack_writer *wr; /* into an entry, piece by piece */
    size_t bytes;
    uint8_t **bufs;        /* per thread: a piece, then one row group */
    atomic_int failed;
} pack_job;

static void pack_worker(void *arg, int i, int n_chunks, int thread) {
    (void)n_chunks; (void)thread;
    pack_job *j = arg;
    llm_weight *w = packable(j->m, i);
    if (j->off[i] == NOT_PACKED) return;
    kn_pack(kn_pack_type(j->m->kn, w->type, w->rows, w->cols), w->data, j->base + j->off[i], w->rows, w->cols);
}

/* Piece k of an entry, bytes [k, k+1) · PACK_CACHE_WRITE of the data, packed
 * into this thread's buffer and written: the pieces that leave 2 MB folios
 * in the page cache (pack_cache.h), from a buffer that stays in cache.
 * Row groups of 16 cut by a piece's edge are packed aside and the cut part
 * copied; padding between matrices is zeros. */
static void piece_worker(void *arg, int k, int n_chunks, int thread) {
    (void)n_chunks;
    pack_job *j = arg;
    if (atomic_load(&j->failed)) return;
    const size_t p0 = (size_t)k * PACK_CACHE_WRITE;
    const size_t p1 = j->bytes - p0 < PACK_CACHE_WRITE ? j->bytes : p0 + PACK_CACHE_WRITE;
    uint8_t *buf = j->bufs[thread], *group = buf + PACK_CACHE_WRITE;
    memset(buf, 0, p1 - p0);
    for (int i = 0; i < j->n; i++) {
        if (j->off[i] == NOT_PACKED) continue;
        const llm_weight *w = packable(j->m, i);
        const uint32_t pt = kn_pack_type(j->m->kn, w->type, w->rows, w->cols);
        const size_t gb = kn_row_bytes(pt, w->cols) * 16, start = j->off[i];
        const size_t end = start + gb * (size_t)(w->rows / 16);
        if (end <= p0 || start >= p1) continue;
        const size_t a = p0 > start ? p0 : start, b = p1 < end ? p1 : end;
        for (size_t g = (a - start) / gb; start + g * gb < b;) {
            const size_t g0 = start + g * gb;
            const uint8_t *src = (const uint8_t *)w->data + g * 16 * w->stride;
            if (g0 >= p0 && g0 + gb <= p1) {
                /* every whole group inside the piece in one call */
                size_t ng = (p1 - g0) / gb, left = (end - g0) / gb;
                if (ng > left) ng = left;
                kn_pack(pt, src, buf + (g0 - p0), (int)(16 * ng), w->cols);
                g += ng;
            } else {
                kn_pack(pt, src, group, 16, w->cols);
                const size_t c0 = g0 > p0 ? g0 : p0, c1 = g0 + gb < p1 ? g0 + gb : p1;
                memcpy(buf + (c0 - p0), group + (c0 - g0), c1 - c0);
                g++;
            }
        }
    }
    if (!pack_cache_write(j->wr, p0, buf, p1 - p0)) atomic_store(&j->failed, 1);
}

/* Packing is memory-bound and done once: a few threads, or this one. */
static bool run_pack_job(pack_job *j) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cpus < 2 ? 1 : cpus > 4 ? 4 : (int)cpus;
    llm_pool *pool = threads > 1 ? llm_pool_new(threads, NULL) : NULL;
    if (!pool) threads = 1;
    int n = j->n;
    llm_pool_fn fn = pack_worker;
    bool ok = true;
    if (j->wr) {
        size_t group = 0;
        for (int i = 0; i < j->n; i++) {
            const llm_weight *w = packable(j->m, i);
            size_t gb = kn_row_bytes(kn_pack_type(j->m->kn, w->type, w->rows, w->cols), w->cols) * 16;
            if (j->off[i] != NOT_PACKED && gb > group) group = gb;
        }
        j->bufs = calloc((size_t)threads, sizeof *j->bufs);
        ok = j->bufs != NULL;
        for (int t = 0; ok && t < threads; t++) ok = (j->bufs[t] = malloc(PACK_CACHE_WRITE + group)) != NULL;
        n = (int)((j->bytes + PACK_CACHE_WRITE - 1) / PACK_CACHE_WRITE);
        fn = piece_worker;
    }
    if (ok) {
        if (pool) llm_pool_run(pool, fn, j, n);
        else for (int i = 0; i < n; i++) fn(j, i, n, 0);
    }
    llm_pool_free(pool);
    for (int t = 0; j->bufs && t < threads; t++) free(j->bufs[t]);
    free(j->bufs);
    j->bufs = NULL;
    return ok && !atomic_load(&j->failed);
}

/* Once packed, a file mapping's pages of the originals can go: the
 * process would otherwise hold the weights twice. Whole pages inside each
 * tensor only, and never the embedding table a tied output shares. Not
 * for buffers (dropping their pages would zero them). */
static void release_originals(llm_model *m, const size_t *off, int n) {
    const long pg = sysconf(_SC_PAGESIZE);
    for (int i = 0; i < n && pg > 0; i++) {
        const llm_weight *w = packable(m, i);
        if (off[i] == NOT_PACKED || w->data == m->tok_embd.data) continue;
        uintptr_t a = (uintptr_t)w->data, e = a + w->stride * (size_t)w->rows;
        a = (a + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
        e &= ~((uintptr_t)pg - 1);
        if (e > a) madvise((void *)a, e - a, MADV_DONTNEED);
    }
}

static uint64_t wbytes(const llm_weight *w) { return (uint64_t)w->stride * (uint64_t)w->rows; }

/* The weights a token streams are faulted in at open (hugemap.h: read
 * back from disk that way the page cache holds them in 2 MB folios
 * throughout, and the first token takes no faults): the matrices used in
 * place and the packed copy, `packed` bytes at buf (NULL: none), checked
 * against the memory limit together. */
static void populate_weights(llm_model *m, const size_t *off, int n, const uint8_t *buf, size_t packed) {
    uint64_t total = buf ? packed : 0;
    for (int i = 0; i < n; i++)
        if (off[i] == NOT_PACKED) total += wbytes(packable(m, i));
    for (int i = 0; i < n; i++)
        if (off[i] == NOT_PACKED) hugemap_populate(packable(m, i)->data, (size_t)wbytes(packable(m, i)), total);
    if (buf) hugemap_populate(buf, packed, total);
}

/* The part of a cache entry's key beyond the source file: where each
 * packed matrix is in the image, its types and its shape (FNV-1a). */
static uint64_t layout_hash(llm_model *m, int n) {
    uint64_t x = 0xcbf29ce484222325u;
    const uint8_t *base = gguf_base(m->gf);
    for (int i = 0; i < n; i++) {
        llm_weight *w = packable(m, i);
        uint64_t v[5] = {(uint64_t)((const uint8_t *)w->data - base), w->type,
                         kn_pack_type(m->kn, w->type, w->rows, w->cols), (uint64_t)w->rows, (uint64_t)w->cols};
        for (int k = 0; k < 5; k++)
            for (int b = 0; b < 64; b += 8) x = (x ^ ((v[k] >> b) & 0xff)) * 0x100000001b3u;
    }
    return x;
}

/* A cache entry must hold what packing gives today: the first 16 rows of
 * every matrix are packed again and compared, which catches a changed
 * layout (a newer build) and a source edited behind a kept identity,
 * for the price of one row group per matrix. */
static bool entry_agrees(llm_model *m, int n, const size_t *off, const uint8_t *entry) {
    bool ok = true;
    uint8_t *tmp = NULL;
    size_t cap = 0;
    for (int i = 0; i < n && ok; i++) {
        llm_weight *w = packable(m, i);
        if (off[i] == NOT_PACKED) continue;
        uint32_t pt = kn_pack_type(m->kn, w->type, w->rows, w->cols);
        size_t len = kn_row_bytes(pt, w->cols) * 16;
        if (len > cap) {
            free(tmp);
            if (!(tmp = malloc(cap = len))) return false;
        }
        kn_pack(pt, w->data, tmp, 16, w->cols);
        ok = memcmp(tmp, entry + off[i], len) == 0;
    }
    free(tmp);
    return ok;
}

static bool pack_matrices(llm_model *m, const llm_source *src, bool file_mapped, char *err, size_t errlen) {
    const int n = 1 + 7 * m->hp.n_layer;
    size_t *off = malloc(sizeof *off * (size_t)n), total = 0;
    uint32_t n_mats = 0;
    if (!off) return llm_fail(err, errlen, "llm: out of memory");
    for (int i = 0; i < n; i++) {
        llm_weight *w = packable(m, i);
        uint32_t pt = kn_pack_type(m->kn, w->type, w->rows, w->cols);
        off[i] = pt ? total : NOT_PACKED;
        if (pt) total += packed_bytes(w, pt), n_mats++;
    }
    snprintf(m->pack_note, sizeof m->pack_note, "weights used in place");
    if (total == 0) {
        populate_weights(m, off, n, NULL, 0);
        free(off);
        return true;
    }

    pack_desc d = {.n_mats = n_mats, .layout = layout_hash(m, n), .bytes = total};
    char dir[4096], why[400] = "";
    uint8_t *buf = NULL;
    const bool cache = src && pack_cache_dir(dir, sizeof dir, why, sizeof why);
    if (cache) {
        d.src = *src;
        snprintf(d.table, sizeof d.table, "%s", m->kn->name);
        buf = pack_cache_map(dir, &d, why, sizeof why);
        if (buf && !entry_agrees(m, n, off, buf)) {
            /* Not what this build packs: replaced by a fresh entry (a
             * start that still maps the old one keeps its copy). */
            munmap(buf, total);
            buf = NULL;
        }
    }
    pack_writer wr;
    if (!buf && cache && pack_cache_create(dir, &d, &wr, why, sizeof why)) {
        pack_job job = {.m = m, .off = off, .n = n, .wr = &wr, .bytes = total};
        if (run_pack_job(&job)) {
            buf = pack_cache_commit(&wr, &d, why, sizeof why);
        } else {
            snprintf(why, sizeof why, "cannot write the cache entry in %.300s", dir);
            pack_cache_abort(&wr);
        }
    }
    populate_weights(m, off, n, buf, total);   /* the entry, if mapped, and any matrices used in place */
    if (buf) snprintf(m->pack_note, sizeof m->pack_note, "%s", why);
    if (!buf) {
        snprintf(m->pack_note, sizeof m->pack_note, "packed in memory%s%s", src ? "; " : "", src ? why : "");
        /* Huge pages where the OS offers them: the copy is hundreds of MB,
         * and 4 KB pages cost page faults now and TLB misses every token. */
        buf = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (buf == MAP_FAILED) {
            free(off);
            return llm_fail(err, errlen, "llm: out of memory repacking weights (%zu bytes)", total);
        }
#ifdef MADV_HUGEPAGE
        madvise(buf, total, MADV_HUGEPAGE);   /* a hint: failure only costs speed */
#endif
        pack_job job = {.m = m, .off = off, .n = n, .base = buf};
        run_pack_job(&job);
    }
    if (file_mapped) release_originals(m, off, n);
    m->packed = buf;
    m->packed_bytes = total;
    for (int i = 0; i < n; i++) {
        llm_weight *w = packable(m, i);
        if (off[i] == NOT_PACKED) continue;
        uint32_t pt = kn_pack_type(m->kn, w->type, w->rows, w->cols);
        w->data = buf + off[i];
        w->type = pt;
        w->stride = kn_row_bytes(pt, w->cols);   /* Q4_K packs its scales wider */
    }
    free(off);
    return true;
}

/* ---- API ------------------------------------------------------------ */

static llm_model *load(const gguf_file *f, const llm_source *src, bool file_mapped, char *err, size_t errlen) {
    llm_model *m = calloc(1, sizeof *m);
    if (!m) { llm_fail(err, errlen, "llm: out of memory"); return NULL; }
    m->gf = f;
    m->kn = kn_get();
    if (!m->kn) {
        llm_fail(err, errlen, "llm: no usable compute kernels (see WASMLET_KERNELS)");
        llm_model_free(m);
        return NULL;
    }
    if (!read_hparams(f, &m->hp, err, errlen) || !bind_tensors(m, err, errlen) ||
        !pack_matrices(m, src, file_mapped, err, errlen)) {
        llm_model_free(m);
        return NULL;
    }
    return m;
}

llm_model *llm_model_load(const gguf_file *f, char *err, size_t errlen) {
    return load(f, NULL, false, err, errlen);
}

llm_model *llm_model_load_source(const gguf_file *f, const llm_source *src, char *err, size_t errlen) {
    return load(f, src, false, err, errlen);
}

bool llm_source_of_fd(int fd, uint64_t offset, uint64_t length, llm_source *out) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
    *out = (llm_source){(uint64_t)st.st_dev, (uint64_t)st.st_ino, (uint64_t)st.st_size,
                        (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec,
                        (uint64_t)st.st_ctim.tv_sec * 1000000000u + (uint64_t)st.st_ctim.tv_nsec,
                        offset, length};
    return true;
}

/* The identity is read before and after mapping: a file replaced in
 * between gets no cache rather than another file's entry. */
static bool source_of_path(const char *path, llm_source *out) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = llm_source_of_fd(fd, 0, 0, out);
    close(fd);
    out->length = out->size;
    return ok;
}

llm_model *llm_model_open(const char *path, char *err, size_t errlen) {
    llm_source before = {0}, after = {0};
    bool have = source_of_path(path, &before);
    gguf_file *f = gguf_open_file(path, err, errlen);
    if (!f) return NULL;
    have = have && source_of_path(path, &after) && memcmp(&before, &after, sizeof before) == 0 &&
           before.size == gguf_size(f);
    llm_model *m = load(f, have ? &before : NULL, true, err, errlen);
    if (!m) { gguf_close(f); return NULL; }
    m->owned = f;
    return m;
}

const char *llm_model_pack_note(const llm_model *m) { return m->pack_note; }

void llm_model_free(llm_model *m) {
    if (!m) return;
    for (int i = 0; i < m->n_converted; i++) free(m->converted[i]);
    free(m->converted);
    if (m->packed) munmap(m->packed, m->packed_bytes);
    free(m->layers);
    if (m->owned) gguf_close(m->owned);
    free(m);
}

const llm_hparams *llm_model_hparams(const llm_model *m) { return &m->hp; }
const gguf_file *llm_model_gguf(const llm_model *m) { return m->gf; }

uint64_t llm_model_weight_bytes(const llm_model *m) {
    uint64_t total = wbytes(&m->output);
    for (int l = 0; l < m->hp.n_layer; l++) {
        const llm_weight *ws[LLM_LAYER_MATS];
        llm_layer_weights(&m->layers[l], ws);
        for (int i = 0; i < LLM_LAYER_MATS; i++) total += wbytes(ws[i]);
    }
    return total;
}
