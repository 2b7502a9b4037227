/* synth.c: `wasmlet-pack synth`: write a GGUF model with random weights.
 *
 *   wasmlet-pack synth -o OUT.gguf [--arch llama|qwen2] [--layers N] [--dim N]
 *       [--heads N] [--kv-heads N] [--ffn N] [--vocab N] [--ctx N]
 *       [--type F32|F16|BF16|Q8_0|Q4_0|Q4_1|Q5_0|Q5_1|Q4_K|Q5_K|Q6_K|Q4_K_M]
 *       [--seed N] [--rope-base F] [--rope-scale F] [--tied yes|no]
 *       [--tokenizer-from FILE.gguf]
 *   wasmlet-pack synth --dequantize-from IN.gguf -o OUT.gguf
 *
 * Weights are a function of (seed, tensor name, element index) only, so
 * the same seed gives the same model whatever the type, and a model in
 * any type can be compared with its own F32 dequantization (the second
 * form, which copies the metadata and turns every tensor into F32). Rows
 * are generated and quantized one at a time: a model of billions of
 * weights needs memory only for its output.
 *
 * Without --tokenizer-from the vocabulary is a built-in SentencePiece-style
 * byte vocabulary: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>,
 * then filler pieces up to --vocab.
 */
#define _POSIX_C_SOURCE 200809L   /* strdup */
#include "synth.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "kernels.h"

#define TYPE_Q4_K_M 1000u   /* pseudo type: llama.cpp's mixed Q4_K_M recipe */

typedef struct {
    const char *arch, *out, *tok_from, *deq_from;
    int layers, dim, heads, kv_heads, ffn, vocab, ctx;
    uint32_t type;
    uint64_t seed;
    float rope_base, rope_scale;   /* rope_scale > 0: linear RoPE scaling factor */
    bool tied;                     /* no output.weight: token_embd is reused */
} synth_opts;

static int usage(const char *fmt, const char *a) {
    fprintf(stderr, "wasmlet-pack synth: ");
    fprintf(stderr, fmt, a);
    fputs(" (see wasmlet-pack synth --help)\n", stderr);
    return 2;
}

/* ---- random weights -------------------------------------------------- */

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t name_hash(const char *s) {
    uint64_t h = 0xcbf29ce484222325ull;   /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
    return h;
}

/* Row r of tensor `name`: uniform in [center - scale, center + scale]. */
static void random_row(uint64_t seed, const char *name, uint64_t r, float *dst, int n,
                       float center, float scale) {
    uint64_t s = mix64(seed ^ name_hash(name)) ^ mix64(r + 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < n; i++) {
        s += 0x9e3779b97f4a7c15ull;
        double u = (double)(mix64(s) >> 11) * 0x1.0p-53;   /* [0, 1) */
        dst[i] = center + scale * (float)(2.0 * u - 1.0);
    }
}

/* ---- tensors ------------------------------------------------------------ */

typedef struct {
    gguf_writer *w;
    const synth_opts *o;
    float *row;
    uint8_t *buf;
    size_t buf_cap;
    char err[256];
} synth_ctx;

static const gguf_type_info *tinfo(uint32_t t) { return gguf_tensor_type_info(t); }

/* A tensor of `rows` rows of `cols` in `type`, values uniform with the
 * given center and half-width. */
static bool add_tensor(synth_ctx *s, const char *name, uint32_t type, int cols, int rows,
                       float center, float scale) {
    const gguf_type_info *ti = tinfo(type);
    if (!ti || cols % (int)ti->block_elems != 0) {
        snprintf(s->err, sizeof s->err, "tensor '%s': row of %d is not a multiple of the %s "
                 "block size %u", name, cols, ti ? ti->name : "?", ti ? ti->block_elems : 0);
        return false;
    }
    size_t rb = kn_row_bytes(type, cols), total = rb * (size_t)rows;
    if (total > s->buf_cap) {
        uint8_t *b = realloc(s->buf, total);
        if (!b) { snprintf(s->err, sizeof s->err, "out of memory for '%s'", name); return false; }
        s->buf = b;
        s->buf_cap = total;
    }
    for (int r = 0; r < rows; r++) {
        random_row(s->o->seed, name, (uint64_t)r, s->row, cols, center, scale);
        kn_quantize_row(type, s->row, s->buf + (size_t)r * rb, cols);
    }
    uint64_t ne[2] = {(uint64_t)cols, (uint64_t)rows};
    gguf_w_tensor(s->w, name, type, rows == 1 ? 1 : 2, ne, s->buf, total);
    return true;
}

/* A weight matrix (output rows x input cols): unit-variance outputs for
 * unit-variance inputs, so activations stay in a realistic range. */
static bool add_matrix(synth_ctx *s, const char *name, uint32_t type, int cols, int rows) {
    return add_tensor(s, name, type, cols, rows, 0.0f, sqrtf(3.0f / (float)cols));
}

/* llama.cpp's Q4_K_M recipe, roughly: Q6_K for the output and for attn_v /
 * ffn_down in the first and last eighth of the layers and every third
 * layer between; Q4_K elsewhere. */
static bool more_bits(int l, int n) {
    return l < n / 8 || l >= 7 * n / 8 || (l - n / 8) % 3 == 2;
}

static uint32_t pick(uint32_t type, const char *role, int l, int n) {
    if (type != TYPE_Q4_K_M) return type;
    if (strcmp(role, "output") == 0) return GGML_Q6_K;
    if ((strcmp(role, "attn_v") == 0 || strcmp(role, "ffn_down") == 0) && more_bits(l, n))
        return GGML_Q6_K;
    return GGML_Q4_K;
}

static bool add_weights(synth_ctx *s) {
    const synth_opts *o = s->o;
    const int E = o->dim, KV = o->dim / o->heads * o->kv_heads, F = o->ffn, V = o->vocab;
    const bool qwen = strcmp(o->arch, "qwen2") == 0;
    char n[96];
    if (!add_tensor(s, "token_embd.weight", pick(o->type, "token_embd", 0, 1), E, V, 0.0f, 1.0f))
        return false;
    for (int l = 0; l < o->layers; l++) {
        static const struct { const char *role; int out, in; } mats[] = {
            {"attn_q", 0, 0}, {"attn_k", 1, 0}, {"attn_v", 1, 0}, {"attn_output", 0, 0},
            {"ffn_gate", 2, 0}, {"ffn_up", 2, 0}, {"ffn_down", 0, 2},
        };
        const int dims[3] = {E, KV, F};
        snprintf(n, sizeof n, "blk.%d.attn_norm.weight", l);
        if (!add_tensor(s, n, GGML_F32, E, 1, 1.0f, 0.1f)) return false;
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++) {
            snprintf(n, sizeof n, "blk.%d.%s.weight", l, mats[i].role);
            if (!add_matrix(s, n, pick(o->type, mats[i].role, l, o->layers), dims[mats[i].in],
                            dims[mats[i].out]))
                return false;
            if (i == 3) {   /* the FFN's norm sits between the two blocks */
                snprintf(n, sizeof n, "blk.%d.ffn_norm.weight", l);
                if (!add_tensor(s, n, GGML_F32, E, 1, 1.0f, 0.1f)) return false;
            }
        }
        if (qwen) {
            static const char *const bias[3] = {"attn_q", "attn_k", "attn_v"};
            for (int i = 0; i < 3; i++) {
                snprintf(n, sizeof n, "blk.%d.%s.bias", l, bias[i]);
                if (!add_tensor(s, n, GGML_F32, i == 0 ? E : KV, 1, 0.0f, 0.2f)) return false;
            }
        }
    }
    if (!add_tensor(s, "output_norm.weight", GGML_F32, E, 1, 1.0f, 0.1f)) return false;
    if (o->tied) return true;
    return add_matrix(s, "output.weight", pick(o->type, "output", 0, 1), E, V);
}

/* ---- vocabulary ---------------------------------------------------------- */

static bool add_builtin_vocab(gguf_writer *w, int V, char *err, size_t errlen) {
    char **tok = calloc((size_t)V, sizeof *tok);
    float *score = calloc((size_t)V, sizeof *score);
    int32_t *type = calloc((size_t)V, sizeof *type);
    bool ok = tok && score && type;
    for (int i = 0; ok && i < V; i++) {
        char piece[32];
        if (i == 0) { snprintf(piece, sizeof piece, "<unk>"); type[i] = 2; }
        else if (i == 1) { snprintf(piece, sizeof piece, "<s>"); type[i] = 3; }
        else if (i == 2) { snprintf(piece, sizeof piece, "</s>"); type[i] = 3; }
        else if (i < 259) { snprintf(piece, sizeof piece, "<0x%02X>", i - 3); type[i] = 6; }
        else {
            /* Filler: U+2581 then a base-26 name, unique per id. */
            int k = i - 259, len = 3;
            piece[0] = (char)0xE2; piece[1] = (char)0x96; piece[2] = (char)0x81;
            do { piece[len++] = (char)('a' + k % 26); k /= 26; } while (k && len < 30);
            piece[len] = '\0';
            type[i] = 1;
            score[i] = -(float)(i - 259);
        }
        tok[i] = strdup(piece);
        if (!tok[i]) ok = false;
    }
    if (ok) {
        gguf_w_str(w, "tokenizer.ggml.model", "llama");
        gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_STRING, tok, (uint64_t)V);
        gguf_w_arr(w, "tokenizer.ggml.scores", GGUF_T_FLOAT32, score, (uint64_t)V);
        gguf_w_arr(w, "tokenizer.ggml.token_type", GGUF_T_INT32, type, (uint64_t)V);
        gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", 0);
        gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
        gguf_w_u32(w, "tokenizer.ggml.eos_token_id", 2);
        gguf_w_bool(w, "tokenizer.ggml.add_bos_token", true);
    } else {
        snprintf(err, errlen, "out of memory building the vocabulary");
    }
    for (int i = 0; tok && i < V; i++) free(tok[i]);
    free(tok);
    free(score);
    free(type);
    return ok;
}

/* Copy tokenizer.ggml.* from src; returns the vocabulary size or -1. */
static int copy_vocab(gguf_writer *w, const gguf_file *src, char *err, size_t errlen) {
    const gguf_kv *toks;
    if (!gguf_get_arr(src, "tokenizer.ggml.tokens", GGUF_T_STRING, &toks, err, errlen)) return -1;
    for (uint64_t i = 0; i < gguf_kv_count(src); i++) {
        const gguf_kv *kv = gguf_kv_at(src, i);
        if (kv->key.len > 16 && memcmp(kv->key.ptr, "tokenizer.ggml.", 15) == 0)
            gguf_w_copy_kv(w, src, kv);
    }
    if (toks->arr_len < 3 || toks->arr_len > (1u << 24)) {
        snprintf(err, errlen, "vocabulary of %llu tokens is out of range",
                 (unsigned long long)toks->arr_len);
        return -1;
    }
    return (int)toks->arr_len;
}

/* ---- the two modes --------------------------------------------------------- */

static int synth_random(const synth_opts *o) {
    char err[256];
    gguf_file *tf = NULL;
    gguf_writer *w = gguf_writer_new(32);
    synth_ctx s = {.w = w, .o = o};
    synth_opts opt = *o;
    int rc = 1;
    if (!w) { fprintf(stderr, "wasmlet-pack synth: out of memory\n"); return 1; }

    gguf_w_str(w, "general.architecture", o->arch);
    gguf_w_str(w, "general.name", "wasmlet synthetic");
    if (o->tok_from) {
        tf = gguf_open_file(o->tok_from, err, sizeof err);
        if (!tf) { fprintf(stderr, "wasmlet-pack synth: %s: %s\n", o->tok_from, err); goto done; }
        int V = copy_vocab(w, tf, err, sizeof err);
        if (V < 0) { fprintf(stderr, "wasmlet-pack synth: %s: %s\n", o->tok_from, err); goto done; }
        if (opt.vocab && opt.vocab != V) {
            fprintf(stderr, "wasmlet-pack synth: --vocab %d differs from the %d tokens of %s\n",
                    opt.vocab, V, o->tok_from);
            rc = 2;
            goto done;
        }
        opt.vocab = V;
    } else {
        if (!opt.vocab) opt.vocab = 259;
        if (opt.vocab < 259) {
            fprintf(stderr, "wasmlet-pack synth: --vocab %d is below the 259 tokens of the "
                    "built-in byte vocabulary\n", opt.vocab);
            rc = 2;
            goto done;
        }
        if (!add_builtin_vocab(w, opt.vocab, err, sizeof err)) {
            fprintf(stderr, "wasmlet-pack synth: %s\n", err);
            goto done;
        }
    }
    char key[96];
#define KEY(suffix) (snprintf(key, sizeof key, "%s.%s", o->arch, suffix), key)
    gguf_w_u32(w, KEY("context_length"), (uint32_t)opt.ctx);
    gguf_w_u32(w, KEY("embedding_length"), (uint32_t)opt.dim);
    gguf_w_u32(w, KEY("block_count"), (uint32_t)opt.layers);
    gguf_w_u32(w, KEY("feed_forward_length"), (uint32_t)opt.ffn);
    gguf_w_u32(w, KEY("attention.head_count"), (uint32_t)opt.heads);
    gguf_w_u32(w, KEY("attention.head_count_kv"), (uint32_t)opt.kv_heads);
    gguf_w_u32(w, KEY("rope.dimension_count"), (uint32_t)(opt.dim / opt.heads));
    gguf_w_f32(w, KEY("rope.freq_base"), opt.rope_base);
    if (opt.rope_scale > 0) {
        gguf_w_str(w, KEY("rope.scaling.type"), "linear");
        gguf_w_f32(w, KEY("rope.scaling.factor"), opt.rope_scale);
    }
    gguf_w_f32(w, KEY("attention.layer_norm_rms_epsilon"), 1e-5f);
#undef KEY
    s.o = &opt;
    s.row = malloc((size_t)(opt.dim > opt.ffn ? opt.dim : opt.ffn) * sizeof *s.row);
    if (!s.row) { fprintf(stderr, "wasmlet-pack synth: out of memory\n"); goto done; }
    if (!add_weights(&s)) { fprintf(stderr, "wasmlet-pack synth: %s\n", s.err); rc = 2; goto done; }
    if (!gguf_writer_write_file(w, o->out, err, sizeof err)) {
        fprintf(stderr, "wasmlet-pack synth: %s: %s\n", o->out, err);
        goto done;
    }
    rc = 0;
done:
    free(s.row);
    free(s.buf);
    gguf_writer_free(w);
    gguf_close(tf);
    return rc;
}

static int synth_dequantize(const synth_opts *o) {
    char err[256];
    gguf_file *f = gguf_open_file(o->deq_from, err, sizeof err);
    if (!f) { fprintf(stderr, "wasmlet-pack synth: %s: %s\n", o->deq_from, err); return 1; }
    gguf_writer *w = gguf_writer_new(gguf_alignment(f));
    float *buf = NULL;
    int rc = 1;
    if (!w) goto done;
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) {
        const gguf_kv *kv = gguf_kv_at(f, i);
        if (!gguf_str_eq(kv->key, "general.alignment") && !gguf_str_eq(kv->key, "general.file_type"))
            gguf_w_copy_kv(w, f, kv);
    }
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        const gguf_type_info *ti = tinfo(t->type);
        if (!ti || !(t->type == GGML_F16 || t->type == GGML_BF16 || kn_type_supported(t->type)) || t->ne[0] == 0) {
            fprintf(stderr, "wasmlet-pack synth: %s: tensor '%.*s' has type %s, which cannot "
                    "be dequantized\n", o->deq_from, (int)t->name.len, t->name.ptr,
                    ti ? ti->name : "unknown");
            goto done;
        }
        float *b = realloc(buf, (size_t)t->n_elems * sizeof *b);
        if (!b) { fprintf(stderr, "wasmlet-pack synth: out of memory\n"); goto done; }
        buf = b;
        const uint64_t cols = t->ne[0], rows = t->n_elems / cols;
        const size_t rb = kn_row_bytes(t->type, (int64_t)cols);
        for (uint64_t r = 0; r < rows; r++)
            kn_dequantize_row(t->type, (const uint8_t *)t->data + r * rb, buf + r * cols,
                              (int64_t)cols);
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        gguf_w_tensor(w, name, GGML_F32, t->n_dims, t->ne, buf, t->n_elems * sizeof(float));
    }
    if (!gguf_writer_write_file(w, o->out, err, sizeof err)) {
        fprintf(stderr, "wasmlet-pack synth: %s: %s\n", o->out, err);
        goto done;
    }
    rc = 0;
done:
    free(buf);
    gguf_writer_free(w);
    gguf_close(f);
    return rc;
}

/* ---- flags ------------------------------------------------------------------ */

static bool parse_int(const char *s, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (!*s || errno || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

/* The --type names (and Q4_K_M), for parse_type and the help. */
static const uint32_t synth_types[] = {GGML_F32, GGML_F16, GGML_BF16, GGML_Q8_0, GGML_Q4_0,
                                       GGML_Q4_1, GGML_Q5_0, GGML_Q5_1, GGML_Q4_K, GGML_Q5_K,
                                       GGML_Q6_K};
#define N_SYNTH_TYPES (sizeof synth_types / sizeof synth_types[0])

static bool parse_type(const char *s, uint32_t *out) {
    if (strcmp(s, "Q4_K_M") == 0) { *out = TYPE_Q4_K_M; return true; }
    for (size_t i = 0; i < N_SYNTH_TYPES; i++)
        if (strcmp(s, tinfo(synth_types[i])->name) == 0) { *out = synth_types[i]; return true; }
    return false;
}

/* -h/--help; the flags listed are the ones pack_synth's loop takes. */
static int help(void) {
    fputs("usage: wasmlet-pack synth -o OUT.gguf [options]      random weights\n"
          "       wasmlet-pack synth --dequantize-from IN.gguf -o OUT.gguf\n"
          "Weights depend only on the seed, the tensor name and the position, so every\n"
          "type holds the same weights up to quantization. The second form writes\n"
          "IN's weights as F32 (metadata copied).\n"
          "  -o FILE                 the GGUF file to write (required)\n"
          "  --arch llama|qwen2      architecture (default llama)\n"
          "  --layers N              layers (default 2)\n"
          "  --dim N                 embedding size (default 64)\n"
          "  --heads N               attention heads (default 4)\n"
          "  --kv-heads N            key/value heads (default: as many as --heads)\n"
          "  --ffn N                 feed-forward size (default: 2 x --dim)\n"
          "  --vocab N               vocabulary size (default 259, the byte vocabulary)\n"
          "  --ctx N                 context length (default 2048)\n"
          "  --type T                weight type (default F32), one of the types below\n"
          "  --seed N                weight seed (default 1)\n"
          "  --rope-base F           RoPE base (default 10000, qwen2 1000000)\n"
          "  --rope-scale F          linear RoPE scaling factor (default: none)\n"
          "  --tied yes|no           reuse token_embd as the output matrix (default no)\n"
          "  --tokenizer-from FILE   take the vocabulary from this GGUF\n"
          "  --dequantize-from FILE  the second form: FILE's weights as F32\n"
          "  -h, --help              print this help and exit\n"
          "Types:", stdout);
    for (size_t i = 0; i < N_SYNTH_TYPES; i++) printf(" %s", tinfo(synth_types[i])->name);
    fputs(" Q4_K_M\n", stdout);
    return 0;
}

/* The flags that take a value: a last argument that is one of them lacks
 * its value, any other is unknown. */
static bool takes_value(const char *a) {
    static const char *const f[] = {"-o", "--arch", "--layers", "--dim", "--heads", "--kv-heads", "--ffn",
                                    "--vocab", "--ctx", "--type", "--tokenizer-from", "--dequantize-from",
                                    "--rope-base", "--rope-scale", "--tied", "--seed"};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (strcmp(a, f[i]) == 0) return true;
    return false;
}

int pack_synth(int argc, char **argv) {
    synth_opts o = {
        .arch = "llama", .layers = 2, .dim = 64, .heads = 4, .kv_heads = 0, .ffn = 0,
        .vocab = 0, .ctx = 2048, .type = GGML_F32, .seed = 1, .rope_base = 0,
    };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return help();
        if (!takes_value(a)) return usage("unknown flag '%s'", a);
        if (i + 1 >= argc) return usage("flag %s needs a value", a);
        const char *v = argv[++i];
        bool ok = true;
        if (strcmp(a, "-o") == 0) o.out = v;
        else if (strcmp(a, "--arch") == 0) {
            o.arch = v;
            ok = strcmp(v, "llama") == 0 || strcmp(v, "qwen2") == 0;
        }
        else if (strcmp(a, "--layers") == 0) ok = parse_int(v, 1, 1024, &o.layers);
        else if (strcmp(a, "--dim") == 0) ok = parse_int(v, 2, 1 << 16, &o.dim);
        else if (strcmp(a, "--heads") == 0) ok = parse_int(v, 1, 1024, &o.heads);
        else if (strcmp(a, "--kv-heads") == 0) ok = parse_int(v, 1, 1024, &o.kv_heads);
        else if (strcmp(a, "--ffn") == 0) ok = parse_int(v, 1, 1 << 18, &o.ffn);
        else if (strcmp(a, "--vocab") == 0) ok = parse_int(v, 1, 1 << 22, &o.vocab);
        else if (strcmp(a, "--ctx") == 0) ok = parse_int(v, 1, 1 << 20, &o.ctx);
        else if (strcmp(a, "--type") == 0) ok = parse_type(v, &o.type);
        else if (strcmp(a, "--tokenizer-from") == 0) o.tok_from = v;
        else if (strcmp(a, "--dequantize-from") == 0) o.deq_from = v;
        else if (strcmp(a, "--rope-base") == 0) {
            char *end;
            errno = 0;
            o.rope_base = strtof(v, &end);
            ok = *v && !errno && !*end && isfinite(o.rope_base) && o.rope_base > 0;
        }
        else if (strcmp(a, "--rope-scale") == 0) {
            char *end;
            errno = 0;
            o.rope_scale = strtof(v, &end);
            ok = *v && !errno && !*end && isfinite(o.rope_scale) && o.rope_scale > 0;
        }
        else if (strcmp(a, "--tied") == 0) {
            ok = strcmp(v, "yes") == 0 || strcmp(v, "no") == 0;
            o.tied = strcmp(v, "yes") == 0;
        }
        else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            ok = *v && *v != '-' && !errno && !*end;
            o.seed = s;
        }
        else return usage("unknown flag '%s'", a);
        if (!ok) {
            fprintf(stderr, "wasmlet-pack synth: bad value '%s' for %s (see wasmlet-pack synth --help)\n", v, a);
            return 2;
        }
    }
    if (!o.out) return usage("missing -o OUT.gguf%s", "");
    if (o.deq_from) return synth_dequantize(&o);
    if (!o.kv_heads) o.kv_heads = o.heads;
    if (!o.ffn) o.ffn = 2 * o.dim;
    if (o.rope_base == 0) o.rope_base = strcmp(o.arch, "qwen2") == 0 ? 1000000.0f : 10000.0f;
    if (o.dim % o.heads != 0 || o.heads % o.kv_heads != 0 || (o.dim / o.heads) % 2 != 0) {
        fprintf(stderr, "wasmlet-pack synth: --dim %d, --heads %d, --kv-heads %d: dim must be "
                "a multiple of heads with an even head size, heads a multiple of kv-heads\n",
                o.dim, o.heads, o.kv_heads);
        return 2;
    }
    return synth_random(&o);
}
