/* fuzz_model_seeds: the seed corpus of fuzz_model, tiny valid models made
 * with `wasmlet-pack synth`'s code:  fuzz_model_seeds OUTDIR [MODEL.gguf...]
 * Every weight type, llama and qwen2, tied and untied output, grouped and
 * plain heads, head sizes 2 to 64, odd widths, matrices the kernels repack (rows a
 * multiple of 16) and ones they use in place, RoPE scaling; two copies
 * add the optional keys synth leaves out (attention.key_length,
 * rope.scale_linear) and another alignment, so that the fuzzer has their
 * values to mutate. The models named after OUTDIR (e.g. stories260K) are
 * copied in when they exist. */
#include "engine_test.h"

static const char *outdir;

static void seed(const char *name, const char *type, const char *dim, const char *heads,
                 const char *kv_heads, const char *ffn, const char *layers, const char *arch,
                 const char *tied, const char *rope_scale) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s.gguf", outdir, name);
    t_synth(path, "--type", type, "--dim", dim, "--heads", heads, "--kv-heads", kv_heads,
            "--ffn", ffn, "--layers", layers, "--arch", arch, "--tied", tied, "--vocab", "259",
            "--ctx", "64", "--rope-scale", rope_scale, (const char *)NULL);
}

/* name.gguf again as name-keys.gguf, alignment 64, with the optional keys
 * <arch>.attention.key_length = head_dim and <arch>.rope.scale_linear = 1. */
static void with_keys(const char *name, const char *arch, uint32_t head_dim) {
    char src[1024], dst[1024], key[128], err[512];
    snprintf(src, sizeof src, "%s/%s.gguf", outdir, name);
    snprintf(dst, sizeof dst, "%s/%s-keys.gguf", outdir, name);
    gguf_file *f = gguf_open_file(src, err, sizeof err);
    REQUIRE(f != NULL, "%s", err);
    gguf_writer *w = gguf_writer_new(64);
    REQUIRE(w != NULL, "out of memory");
    for (uint64_t i = 0; i < gguf_kv_count(f); i++) gguf_w_copy_kv(w, f, gguf_kv_at(f, i));
    snprintf(key, sizeof key, "%s.attention.key_length", arch);
    gguf_w_u32(w, key, head_dim);
    snprintf(key, sizeof key, "%s.rope.scale_linear", arch);
    gguf_w_f32(w, key, 1.0f);
    for (uint64_t i = 0; i < gguf_tensor_count(f); i++) {
        const gguf_tensor *t = gguf_tensor_at(f, i);
        char tn[256];
        snprintf(tn, sizeof tn, "%.*s", (int)t->name.len, t->name.ptr);
        gguf_w_tensor(w, tn, t->type, t->n_dims, t->ne, t->data, t->n_bytes);
    }
    REQUIRE(gguf_writer_write_file(w, dst, err, sizeof err), "%s", err);
    gguf_writer_free(w);
    gguf_close(f);
}

static void copy(const char *src) {
    FILE *in = fopen(src, "rb");
    if (!in) return;   /* optional */
    const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, base);
    FILE *out = fopen(path, "wb");
    REQUIRE(out != NULL, "cannot write %s", path);
    char buf[65536];
    for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;)
        REQUIRE(fwrite(buf, 1, n, out) == n, "cannot write %s", path);
    fclose(in);
    REQUIRE(fclose(out) == 0, "cannot write %s", path);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: fuzz_model_seeds OUTDIR [MODEL.gguf...]\n");
        return 2;
    }
    outdir = argv[1];
    /*   name        type    dim    heads kv   ffn    layers arch     tied   rope scale */
    seed("f32-tiny", "F32",  "2",   "1",  "1", "1",   "1",   "llama", "yes", "1");
    seed("f32-hd2",  "F32",  "8",   "4",  "2", "8",   "1",   "llama", "yes", "1");
    seed("f32-r16",  "F32",  "32",  "4",  "4", "48",  "2",   "llama", "no",  "4");
    seed("f32-hd16", "F32",  "48",  "3",  "1", "16",  "1",   "qwen2", "yes", "1");
    seed("f16",      "F16",  "32",  "2",  "1", "32",  "1",   "qwen2", "no",  "1");
    seed("f16-odd",  "F16",  "6",   "3",  "1", "3",   "2",   "qwen2", "no",  "1");
    seed("bf16",     "BF16", "32",  "4",  "2", "32",  "1",   "llama", "yes", "1");
    seed("bf16-odd", "BF16", "10",  "5",  "5", "5",   "1",   "llama", "yes", "1");
    seed("q8_0",     "Q8_0", "32",  "4",  "2", "32",  "1",   "llama", "no",  "1");
    seed("q4_0",     "Q4_0", "64",  "1",  "1", "32",  "1",   "llama", "yes", "1");
    seed("q4_1",     "Q4_1", "32",  "2",  "2", "64",  "1",   "qwen2", "yes", "1");
    seed("q5_0",     "Q5_0", "32",  "4",  "1", "32",  "1",   "llama", "yes", "1");
    seed("q5_1",     "Q5_1", "32",  "4",  "4", "32",  "1",   "llama", "yes", "2");
    seed("q4_k",     "Q4_K", "256", "4",  "1", "256", "1",   "llama", "yes", "1");
    seed("q5_k",     "Q5_K", "256", "8",  "2", "256", "1",   "qwen2", "yes", "1");
    seed("q6_k",     "Q6_K", "256", "4",  "1", "256", "1",   "llama", "yes", "1");
    seed("q4_k_m",   "Q4_K_M", "256", "4", "2", "256", "1",  "llama", "no",  "1");
    with_keys("f32-hd2", "llama", 2);
    with_keys("q4_1", "qwen2", 16);
    for (int i = 2; i < argc; i++) copy(argv[i]);
    return t_result("fuzz_model_seeds");
}
