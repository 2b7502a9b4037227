/* test_badmodel.c: models whose tensors or metadata do not match are
 * refused with a one-line message naming the tensor or key. Each case is
 * a small llama built in memory with the GGUF writer, then broken in one
 * place; the unbroken model must load (so the refusals are for the
 * reason tested and nothing else). */
#define _POSIX_C_SOURCE 200809L   /* stat */
#include "engine_test.h"

enum { E = 32, H = 4, HKV = 2, F = 64, VOC = 40, KVD = E / H * HKV };

typedef struct {
    const char *arch;          /* general.architecture */
    const char *skip_tensor;   /* leave this tensor out */
    const char *skip_key;      /* leave this key out */
    const char *odd_tensor;    /* give this tensor odd_ne / odd_type */
    uint64_t odd_ne[2];
    uint32_t odd_type;
    int heads, kv_heads, rope_dims;
    uint32_t embd_key;         /* embedding_length in the metadata, if not E */
    uint32_t key_length;       /* attention.key_length, written if set */
    const char *rope_scaling;
    bool block_count_as_string;
} variant;

static void tensor(gguf_writer *w, const variant *v, const char *name, uint64_t ne0, uint64_t ne1) {
    if (v->skip_tensor && strcmp(name, v->skip_tensor) == 0) return;
    uint64_t ne[2] = {ne0, ne1};
    uint32_t type = GGML_F32;
    if (v->odd_tensor && strcmp(name, v->odd_tensor) == 0) {
        if (v->odd_ne[0]) { ne[0] = v->odd_ne[0]; ne[1] = v->odd_ne[1]; }
        if (v->odd_type) type = v->odd_type;
    }
    const gguf_type_info *ti = gguf_tensor_type_info(type);
    uint64_t bytes = ne[0] / ti->block_elems * ti->block_bytes * (ne1 ? ne[1] : 1);
    gguf_w_tensor(w, name, type, ne1 ? 2 : 1, ne, NULL, bytes);
}

static void key_u32(gguf_writer *w, const variant *v, const char *arch, const char *suffix, uint32_t val) {
    char key[128];
    snprintf(key, sizeof key, "%s.%s", arch, suffix);
    if (v->skip_key && strcmp(key, v->skip_key) == 0) return;
    gguf_w_u32(w, key, val);
}

/* Returns the load error ("" when the model loads). */
static const char *try_load(const variant *v) {
    static char err[512];
    const char *arch = v->arch ? v->arch : "llama";
    gguf_writer *w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", arch);
    key_u32(w, v, arch, "context_length", 128);
    key_u32(w, v, arch, "embedding_length", v->embd_key ? v->embd_key : E);
    if (v->block_count_as_string) {
        char key[128];
        snprintf(key, sizeof key, "%s.block_count", arch);
        gguf_w_str(w, key, "one");
    } else {
        key_u32(w, v, arch, "block_count", 1);
    }
    key_u32(w, v, arch, "feed_forward_length", F);
    key_u32(w, v, arch, "attention.head_count", (uint32_t)(v->heads ? v->heads : H));
    key_u32(w, v, arch, "attention.head_count_kv", (uint32_t)(v->kv_heads ? v->kv_heads : HKV));
    if (v->rope_dims) key_u32(w, v, arch, "rope.dimension_count", (uint32_t)v->rope_dims);
    if (v->key_length) key_u32(w, v, arch, "attention.key_length", v->key_length);
    char key[128];
    snprintf(key, sizeof key, "%s.attention.layer_norm_rms_epsilon", arch);
    if (!v->skip_key || strcmp(key, v->skip_key) != 0) gguf_w_f32(w, key, 1e-5f);
    if (v->rope_scaling) {
        snprintf(key, sizeof key, "%s.rope.scaling.type", arch);
        gguf_w_str(w, key, v->rope_scaling);
    }
    tensor(w, v, "token_embd.weight", E, VOC);
    tensor(w, v, "blk.0.attn_norm.weight", E, 0);
    tensor(w, v, "blk.0.attn_q.weight", E, E);
    tensor(w, v, "blk.0.attn_k.weight", E, KVD);
    tensor(w, v, "blk.0.attn_v.weight", E, KVD);
    tensor(w, v, "blk.0.attn_output.weight", E, E);
    if (strcmp(arch, "qwen2") == 0) {
        tensor(w, v, "blk.0.attn_q.bias", E, 0);
        tensor(w, v, "blk.0.attn_k.bias", KVD, 0);
        tensor(w, v, "blk.0.attn_v.bias", KVD, 0);
    }
    tensor(w, v, "blk.0.ffn_norm.weight", E, 0);
    tensor(w, v, "blk.0.ffn_gate.weight", E, F);
    tensor(w, v, "blk.0.ffn_up.weight", E, F);
    tensor(w, v, "blk.0.ffn_down.weight", F, E);
    tensor(w, v, "output_norm.weight", E, 0);
    tensor(w, v, "output.weight", E, VOC);
    size_t size;
    void *img = gguf_writer_finish(w, &size, err, sizeof err);
    gguf_writer_free(w);
    REQUIRE(img != NULL, "writer: %s", err);
    gguf_file *f = gguf_open_buffer(img, size, err, sizeof err);
    REQUIRE(f != NULL, "reader: %s", err);
    err[0] = '\0';
    llm_model *m = llm_model_load(f, err, sizeof err);
    if (m) {
        /* It loads: it must also run. */
        llm_context *c = t_ctx(m, 16, 1, 4);
        int32_t tok = 3;
        CHECK(llm_eval(c, &tok, 1, false, err, sizeof err), "eval: %s", err);
        llm_context_free(c);
        llm_model_free(m);
        err[0] = '\0';
    }
    gguf_close(f);
    free(img);
    CHECK(strchr(err, '\n') == NULL, "message is more than one line: %s", err);
    return err;
}

static void expect(const variant *v, const char *a, const char *b) {
    const char *err = try_load(v);
    CHECK(err[0] && strstr(err, a) && (!b || strstr(err, b)), "expected '%s'%s%s, got '%s'", a,
          b ? " and " : "", b ? b : "", err);
}

int main(void) {
    variant ok = {0};
    CHECK(try_load(&ok)[0] == '\0', "valid llama refused: %s", try_load(&ok));
    variant okq = {.arch = "qwen2"};
    CHECK(try_load(&okq)[0] == '\0', "valid qwen2 refused: %s", try_load(&okq));
    variant tied = {.skip_tensor = "output.weight"};
    CHECK(try_load(&tied)[0] == '\0', "tied output refused: %s", try_load(&tied));

    expect(&(variant){.skip_tensor = "blk.0.ffn_up.weight"}, "missing tensor 'blk.0.ffn_up.weight'", NULL);
    expect(&(variant){.skip_tensor = "output_norm.weight"}, "missing tensor 'output_norm.weight'", NULL);
    expect(&(variant){.skip_tensor = "token_embd.weight"}, "missing tensor 'token_embd.weight'", NULL);
    expect(&(variant){.arch = "qwen2", .skip_tensor = "blk.0.attn_k.bias"},
           "missing tensor 'blk.0.attn_k.bias'", NULL);
    expect(&(variant){.odd_tensor = "blk.0.attn_k.weight", .odd_ne = {E, E}},
           "tensor 'blk.0.attn_k.weight' has shape [32, 32], expected [32, 16]", NULL);
    expect(&(variant){.odd_tensor = "blk.0.ffn_down.weight", .odd_ne = {E, F}},
           "'blk.0.ffn_down.weight'", "shape");
    expect(&(variant){.odd_tensor = "output.weight", .odd_ne = {E, VOC + 1}}, "'output.weight'", "shape");
    expect(&(variant){.odd_tensor = "blk.0.attn_q.weight", .odd_type = GGML_I32},
           "tensor 'blk.0.attn_q.weight' has unsupported type I32", NULL);
    expect(&(variant){.odd_tensor = "blk.0.ffn_norm.weight", .odd_type = GGML_Q8_0},
           "tensor 'blk.0.ffn_norm.weight' has unsupported type Q8_0", NULL);
    expect(&(variant){.arch = "gpt2"}, "unsupported architecture 'gpt2' (general.architecture)", NULL);
    expect(&(variant){.skip_key = "llama.embedding_length"},
           "missing metadata key 'llama.embedding_length'", NULL);
    expect(&(variant){.skip_key = "llama.attention.layer_norm_rms_epsilon"},
           "llama.attention.layer_norm_rms_epsilon", NULL);
    expect(&(variant){.block_count_as_string = true}, "llama.block_count", NULL);
    expect(&(variant){.heads = 5, .kv_heads = 5}, "llama.embedding_length 32", "head_count 5");
    expect(&(variant){.heads = 4, .kv_heads = 3}, "head_count_kv 3", NULL);
    expect(&(variant){.rope_dims = 7}, "llama.rope.dimension_count 7", NULL);
    /* key_length x head_count is 2^32: refused, not an int overflow. In
     * release the wrapped product is refused too: only UBSan (the asan
     * build) sees the difference. */
    expect(&(variant){.embd_key = 4096, .heads = 4096, .key_length = 1u << 20},
           "llama.attention.key_length 1048576 times head_count 4096", "embedding_length 4096");
    expect(&(variant){.rope_scaling = "yarn"}, "unsupported RoPE scaling 'yarn'", "llama.rope.scaling.type");
    /* Linear scaling is accepted. */
    CHECK(try_load(&(variant){.rope_scaling = "linear"})[0] == '\0', "linear scaling refused");
    return t_result("test_badmodel");
}
