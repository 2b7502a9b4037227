/* test_gguf_shared: read the real GGUF files in ../shared (models and
 * tokenizer vocabularies) and check facts about them; check that the v1
 * copy of stories260K reads as the same model as the v3 one, and that
 * copying it through the writer yields a v3 file the reader accepts.
 * Skips (77) when the shared folder is absent. */
#include "gguf.h"
#include "kv_equal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;
static char shared[1024];

#define CHECK(c, ...) do { if (!(c)) { printf("FAIL %s:%d: ", __FILE__, __LINE__); printf(__VA_ARGS__); printf("\n"); failures++; } } while (0)

static gguf_file *open_shared(const char *rel) {
    char path[2048], err[512];
    snprintf(path, sizeof path, "%s/%s", shared, rel);
    gguf_file *f = gguf_open_file(path, err, sizeof err);
    CHECK(f, "%s: %s", rel, err);
    return f;
}

static uint64_t get_u(const gguf_file *f, const char *key) {
    uint64_t v = 0;
    char err[256];
    CHECK(gguf_get_u64(f, key, &v, err, sizeof err), "%s", err);
    return v;
}

static void check_str(const gguf_file *f, const char *key, const char *want) {
    gguf_str s = {"", 0};
    char err[256];
    CHECK(gguf_get_str(f, key, &s, err, sizeof err), "%s", err);
    CHECK(gguf_str_eq(s, want), "%s = '%.*s', want '%s'", key, (int)s.len, s.ptr, want);
}

static uint64_t n_tokens(const gguf_file *f) {
    const gguf_kv *kv = NULL;
    char err[256];
    CHECK(gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_T_STRING, &kv, err, sizeof err), "%s", err);
    return kv ? kv->arr_len : 0;
}

static void check_stories(const gguf_file *f) {
    check_str(f, "general.architecture", "llama");
    CHECK(get_u(f, "llama.embedding_length") == 64, "embedding_length");
    CHECK(get_u(f, "llama.block_count") == 5, "block_count");
    CHECK(get_u(f, "llama.attention.head_count") == 8, "head_count");
    CHECK(get_u(f, "llama.attention.head_count_kv") == 4, "head_count_kv");
    CHECK(get_u(f, "llama.feed_forward_length") == 172, "ffn");
    CHECK(n_tokens(f) == 512, "512 tokens");
    const gguf_kv *tok;
    char err[256];
    if (gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_T_STRING, &tok, err, sizeof err)) {
        CHECK(gguf_str_eq(gguf_arr_str(f, tok, 0), "<unk>"), "token 0");
        CHECK(gguf_str_eq(gguf_arr_str(f, tok, 1), "<s>"), "token 1");
        CHECK(gguf_str_eq(gguf_arr_str(f, tok, 3), "<0x00>"), "token 3");
    }
    const gguf_kv *sc;
    CHECK(gguf_get_arr(f, "tokenizer.ggml.scores", GGUF_T_FLOAT32, &sc, err, sizeof err) && sc->arr_len == 512,
          "scores");
    const gguf_tensor *t = gguf_find_tensor(f, "token_embd.weight");
    CHECK(t && t->n_dims == 2 && t->ne[0] == 64 && t->ne[1] == 512 && t->type == GGML_F32 &&
          t->n_bytes == 64 * 512 * 4, "token_embd.weight shape/type");
    CHECK(gguf_tensor_count(f) == 48, "48 tensors, got %" PRIu64, gguf_tensor_count(f));
    uint64_t params = 0;
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *x = gguf_tensor_at(f, i);
        params += x->n_elems;
        CHECK(x->offset % gguf_alignment(f) == 0 && x->offset >= gguf_data_offset(f) &&
              x->offset + x->n_bytes <= gguf_size(f) &&
              (const uint8_t *)x->data == (const uint8_t *)gguf_base(f) + x->offset, "tensor placement");
    }
    /* stories260K: 260K parameters by name; the exact count follows from the shapes */
    CHECK(params > 250000 && params < 300000, "parameter count %" PRIu64, params);
    CHECK(gguf_find_tensor(f, "blk.4.ffn_down.weight") != NULL, "blk.4.ffn_down.weight");
    CHECK(gguf_find_tensor(f, "blk.5.ffn_down.weight") == NULL, "no blk.5");
}

/* v1 vs v3: the model-defining keys (the two conversions differ in name,
 * context length and padding id) have equal values and every tensor has
 * identical shape and bytes. */
static void compare_v1_v3(const gguf_file *v1, const gguf_file *v3) {
    static const char *const keys[] = {
        "general.architecture", "llama.embedding_length", "llama.block_count",
        "llama.feed_forward_length", "llama.attention.head_count", "llama.attention.head_count_kv",
        "llama.rope.dimension_count", "llama.attention.layer_norm_rms_epsilon",
        "tokenizer.ggml.model", "tokenizer.ggml.tokens", "tokenizer.ggml.scores",
        "tokenizer.ggml.token_type", "tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id",
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const gguf_kv *a = gguf_find(v1, keys[i]), *b = gguf_find(v3, keys[i]);
        CHECK(a && b && kv_equal(v1, a, v3, b), "key %s differs between v1 and v3", keys[i]);
    }
    CHECK(gguf_tensor_count(v1) == gguf_tensor_count(v3), "tensor counts");
    for (uint64_t i = 0; i < gguf_tensor_count(v1); i++) {
        const gguf_tensor *a = gguf_tensor_at(v1, i);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)a->name.len, a->name.ptr);
        const gguf_tensor *b = gguf_find_tensor(v3, name);
        CHECK(b && a->type == b->type && a->n_dims == b->n_dims && !memcmp(a->ne, b->ne, sizeof a->ne) &&
              a->n_bytes == b->n_bytes && !memcmp(a->data, b->data, (size_t)a->n_bytes),
              "tensor %s differs between v1 and v3", name);
    }
}

/* Re-encode a file with the writer (every kv copied, every tensor's bytes)
 * and check the result reads back equal. */
static void rewrite(const gguf_file *src, const char *what) {
    gguf_writer *w = gguf_writer_new(gguf_alignment(src));
    for (uint64_t i = 0; i < gguf_kv_count(src); i++) gguf_w_copy_kv(w, src, gguf_kv_at(src, i));
    for (uint64_t i = 0; i < gguf_tensor_count(src); i++) {
        const gguf_tensor *t = gguf_tensor_at(src, i);
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)t->name.len, t->name.ptr);
        gguf_w_tensor(w, name, t->type, t->n_dims, t->ne, t->data, t->n_bytes);
    }
    char err[512];
    size_t n = 0;
    void *img = gguf_writer_finish(w, &n, err, sizeof err);
    gguf_writer_free(w);
    CHECK(img, "%s rewrite: %s", what, err);
    if (!img) return;
    gguf_file *g = gguf_open_buffer(img, n, err, sizeof err);
    CHECK(g, "%s rewrite reads back: %s", what, err);
    if (g) {
        CHECK(gguf_version(g) == 3, "rewrite is v3");
        CHECK(gguf_kv_count(g) == gguf_kv_count(src), "kv count");
        for (uint64_t i = 0; i < gguf_kv_count(src) && i < gguf_kv_count(g); i++)
            CHECK(kv_equal(src, gguf_kv_at(src, i), g, gguf_kv_at(g, i)), "%s kv %" PRIu64 " differs", what, i);
        for (uint64_t i = 0; i < gguf_tensor_count(src); i++) {
            const gguf_tensor *a = gguf_tensor_at(src, i), *b = gguf_tensor_at(g, i);
            CHECK(b && a->n_bytes == b->n_bytes && !memcmp(a->data, b->data, (size_t)a->n_bytes), "tensor %" PRIu64, i);
        }
        gguf_close(g);
    }
    free(img);
}

static void check_vocab(const char *file, const char *model, uint64_t ntok) {
    char rel[256];
    snprintf(rel, sizeof rel, "tokenizer/%s", file);
    gguf_file *f = open_shared(rel);
    if (!f) return;
    check_str(f, "tokenizer.ggml.model", model);
    CHECK(n_tokens(f) == ntok, "%s: %" PRIu64 " tokens, want %" PRIu64, file, n_tokens(f), ntok);
    CHECK(gguf_tensor_count(f) == 0, "%s: vocab-only file has no tensors", file);
    const gguf_kv *tt;
    char err[256];
    CHECK(gguf_get_arr(f, "tokenizer.ggml.token_type", GGUF_T_INT32, &tt, err, sizeof err) && tt->arr_len == ntok,
          "%s: token_type", file);
    const gguf_kv *m = gguf_find(f, "tokenizer.ggml.merges");
    if (strcmp(model, "gpt2") == 0) {
        CHECK(m && m->type == GGUF_T_ARRAY && m->arr_type == GGUF_T_STRING && m->arr_len > 1000, "%s: merges", file);
        /* a merge is two pieces separated by one space */
        if (m) {
            gguf_str s = gguf_arr_str(f, m, m->arr_len - 1);
            CHECK(s.len >= 3 && memchr(s.ptr, ' ', (size_t)s.len), "%s: last merge '%.*s'", file, (int)s.len, s.ptr);
        }
    }
    /* the last token is reachable through the index and lies in the file */
    if (gguf_get_arr(f, "tokenizer.ggml.tokens", GGUF_T_STRING, &tt, err, sizeof err)) {
        gguf_str s = gguf_arr_str(f, tt, tt->arr_len - 1);
        const char *b = gguf_base(f);
        CHECK(s.len > 0 && s.ptr > b && s.ptr + s.len <= b + gguf_size(f), "%s: last token", file);
    }
    rewrite(f, file);
    gguf_close(f);
}

int main(void) {
    const char *env = getenv("WASMLET_SHARED");
    snprintf(shared, sizeof shared, "%s", env && *env ? env : "../shared");
    struct stat st;
    char probe[1100];
    snprintf(probe, sizeof probe, "%s/models/stories260K.gguf", shared);
    if (stat(probe, &st) != 0) {
        printf("SKIP: %s not found (set WASMLET_SHARED)\n", probe);
        return 77;
    }
    gguf_file *v3 = open_shared("models/stories260K.gguf");
    gguf_file *v1 = open_shared("models/stories260K-gguf-v1.gguf");
    if (v3) {
        CHECK(gguf_version(v3) == 3 && gguf_alignment(v3) == 32, "v3 header");
        check_stories(v3);
        rewrite(v3, "stories260K v3");
    }
    if (v1) {
        CHECK(gguf_version(v1) == 1, "v1 header");
        check_stories(v1);
        rewrite(v1, "stories260K v1");   /* v1 -> v3 through gguf_w_copy_kv */
    }
    if (v1 && v3) compare_v1_v3(v1, v3);
    gguf_close(v1);
    gguf_close(v3);

    gguf_file *r = open_shared("models/llama-2-tiny-random.gguf");
    if (r) {
        check_str(r, "general.architecture", "llama");
        uint64_t d = get_u(r, "llama.embedding_length");
        CHECK(n_tokens(r) == 32000, "32000 tokens");
        const gguf_tensor *t = gguf_find_tensor(r, "token_embd.weight");
        CHECK(t && t->ne[0] == d && t->ne[1] == 32000, "token_embd shape");
        int f16 = 0;
        for (uint64_t i = 0; i < gguf_tensor_count(r); i++) f16 += gguf_tensor_at(r, i)->type == GGML_F16;
        CHECK(f16 > 0, "some F16 tensors");
        rewrite(r, "llama-2-tiny-random");
        gguf_close(r);
    }

    check_vocab("ggml-vocab-gpt-2.gguf", "gpt2", 50257);
    check_vocab("ggml-vocab-llama-bpe.gguf", "gpt2", 128256);
    check_vocab("ggml-vocab-llama-spm.gguf", "llama", 32000);
    check_vocab("ggml-vocab-phi-3.gguf", "llama", 32064);

    char err[512];
    CHECK(!gguf_open_file("/nonexistent/x.gguf", err, sizeof err) && strstr(err, "cannot open /nonexistent/x.gguf"),
          "missing file: %s", err);
    CHECK(!gguf_open_file(shared, err, sizeof err) && strstr(err, "not a regular file"), "directory: %s", err);
    char readme[1100];
    snprintf(readme, sizeof readme, "%s/README.md", shared);
    CHECK(!gguf_open_file(readme, err, sizeof err) && strstr(err, "bad magic"), "text file: %s", err);

    printf("%s\n", failures ? "FAILED" : "ok: shared GGUF files read");
    return failures ? 1 : 0;
}
