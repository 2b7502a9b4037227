/* gen_corpus: (re)generate the fuzzer's seed corpus with our writer:
 *   fuzz_gen_corpus OUTDIR [SHARED]
 * Small valid files covering every value type, nested arrays, tensors of
 * several types and alignments, GGUF v1 and v2 encodings, a tokenizer-like
 * file (and, given the shared folder, stories260K's real metadata with tiny
 * tensors), plus truncated and byte-mangled variants of some of them. */
#include "gguf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *outdir;

static void save(const char *name, const void *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) { fprintf(stderr, "cannot write %s\n", path); exit(1); }
}

/* Save the image, and with variants: truncated halfway, and mangled bytes. */
static void finish(gguf_writer *w, const char *name, int variants) {
    char err[256], vn[256];
    size_t n;
    uint8_t *img = gguf_writer_finish(w, &n, err, sizeof err);
    if (!img) { fprintf(stderr, "%s: %s\n", name, err); exit(1); }
    gguf_writer_free(w);
    save(name, img, n);
    if (variants) {
        snprintf(vn, sizeof vn, "%s.trunc", name);
        save(vn, img, n / 2);
        static const size_t at[] = {8, 16, 30, 41, 57};
        for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
            if (at[k] >= n) break;
            uint8_t keep = img[at[k]];
            img[at[k]] ^= 0x80;
            snprintf(vn, sizeof vn, "%s.flip%zu", name, at[k]);
            save(vn, img, n);
            img[at[k]] = keep;
        }
    }
    free(img);
}

static uint8_t bytes[8192];

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: fuzz_gen_corpus OUTDIR [SHARED]\n"); return 2; }
    outdir = argv[1];
    for (size_t i = 0; i < sizeof bytes; i++) bytes[i] = (uint8_t)(i * 37 + 11);

    finish(gguf_writer_new(32), "empty.gguf", 0);

    gguf_writer *w = gguf_writer_new(32);
    gguf_w_u8(w, "s.u8", 1); gguf_w_i8(w, "s.i8", -1); gguf_w_u16(w, "s.u16", 2); gguf_w_i16(w, "s.i16", -2);
    gguf_w_u32(w, "s.u32", 3); gguf_w_i32(w, "s.i32", -3); gguf_w_u64(w, "s.u64", 4); gguf_w_i64(w, "s.i64", -4);
    gguf_w_f32(w, "s.f32", 0.5f); gguf_w_f64(w, "s.f64", 0.25); gguf_w_bool(w, "s.bool", true);
    gguf_w_str(w, "s.str", "hello"); gguf_w_str(w, "s.empty", "");
    finish(w, "scalars.gguf", 1);

    w = gguf_writer_new(32);
    static const int32_t ai[] = {1, -2, 3};
    static const float af[] = {1.5f, -0.5f};
    static const char *const as[] = {"<s>", "</s>", "a", ""};
    gguf_w_arr(w, "a.i32", GGUF_T_INT32, ai, 3);
    gguf_w_arr(w, "a.f32", GGUF_T_FLOAT32, af, 2);
    gguf_w_arr(w, "a.str", GGUF_T_STRING, as, 4);
    static const uint16_t n1[] = {7, 8};
    static const gguf_warr in[] = {{GGUF_T_UINT16, n1, 2}, {GGUF_T_STRING, as, 2}, {GGUF_T_INT8, NULL, 0}};
    gguf_w_arr(w, "a.nested", GGUF_T_ARRAY, in, 3);
    static const gguf_warr in2[] = {{GGUF_T_ARRAY, in, 3}};
    gguf_w_arr(w, "a.nested2", GGUF_T_ARRAY, in2, 1);
    finish(w, "arrays.gguf", 1);

    static const uint32_t align[] = {32, 64, 1, 8};
    for (int k = 0; k < 4; k++) {
        w = gguf_writer_new(align[k]);
        gguf_w_str(w, "general.architecture", "llama");
        uint64_t s1[2] = {4, 2}, s2[1] = {3}, s3[2] = {32, 2}, s4[1] = {256};
        gguf_w_tensor(w, "a.f32", GGML_F32, 2, s1, bytes, 32);
        gguf_w_tensor(w, "b.f16", GGML_F16, 1, s2, bytes, 6);
        gguf_w_tensor(w, "c.q8_0", GGML_Q8_0, 2, s3, bytes, 68);
        gguf_w_tensor(w, "d.q4_k", GGML_Q4_K, 1, s4, bytes, 144);
        gguf_w_tensor(w, "e.bf16", GGML_BF16, 1, s2, NULL, 6);
        char name[64];
        snprintf(name, sizeof name, "tensors-align%u.gguf", align[k]);
        finish(w, name, k == 0);
    }

    /* tokenizer-like: tokens, scores, types, merges */
    w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u32(w, "llama.block_count", 1);
    gguf_w_u32(w, "llama.embedding_length", 8);
    gguf_w_str(w, "tokenizer.ggml.model", "gpt2");
    gguf_w_str(w, "tokenizer.ggml.pre", "llama-bpe");
    const char *toks[40];
    size_t lens[40];
    char store[40][8];
    float scores[40];
    int32_t types[40];
    for (int i = 0; i < 40; i++) {
        snprintf(store[i], sizeof store[i], i < 20 ? "%c" : "%c%c", 'a' + i % 20, 'a' + (i + 1) % 20);
        toks[i] = store[i]; lens[i] = strlen(store[i]); scores[i] = -(float)i; types[i] = 1;
    }
    gguf_w_arr_strn(w, "tokenizer.ggml.tokens", toks, lens, 40);
    gguf_w_arr(w, "tokenizer.ggml.scores", GGUF_T_FLOAT32, scores, 40);
    gguf_w_arr(w, "tokenizer.ggml.token_type", GGUF_T_INT32, types, 40);
    static const char *const merges[] = {"a b", "b c", "ab c", "c d"};
    gguf_w_arr(w, "tokenizer.ggml.merges", GGUF_T_STRING, merges, 4);
    gguf_w_u32(w, "tokenizer.ggml.bos_token_id", 1);
    gguf_w_bool(w, "tokenizer.ggml.add_bos_token", true);
    uint64_t e[2] = {8, 40};
    gguf_w_tensor(w, "token_embd.weight", GGML_F32, 2, e, bytes, 8 * 40 * 4);
    finish(w, "tokenizer.gguf", 1);

    /* v2: the v3 layout with version 2 */
    w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", "llama");
    uint64_t s[1] = {8};
    gguf_w_tensor(w, "t", GGML_F32, 1, s, bytes, 32);
    char err[256];
    size_t n;
    uint8_t *img = gguf_writer_finish(w, &n, err, sizeof err);
    gguf_writer_free(w);
    img[4] = 2;
    save("v2.gguf", img, n);
    free(img);

    /* v1 by hand: u32 counts, lengths and dimensions */
    {
        uint8_t b[256];
        size_t o = 0;
#define P32(v) do { uint32_t x_ = (v); for (int i_ = 0; i_ < 4; i_++) b[o++] = (uint8_t)(x_ >> 8 * i_); } while (0)
#define PS(s) do { P32((uint32_t)strlen(s)); memcpy(b + o, s, strlen(s)); o += strlen(s); } while (0)
        memcpy(b, "GGUF", 4); o = 4;
        P32(1); P32(1); P32(2);
        PS("general.architecture"); P32(GGUF_T_STRING); PS("llama");
        PS("tokenizer.ggml.tokens"); P32(GGUF_T_ARRAY); P32(GGUF_T_STRING); P32(2); PS("x"); PS("yz");
        PS("w"); P32(2); P32(4); P32(2); P32(GGML_F32); P32(0); P32(0);
        while (o % 32) b[o++] = 0;
        memcpy(b + o, bytes, 32); o += 32;
        save("v1.gguf", b, o);
    }

    /* stories260K's real metadata (v1 file -> v3) with one tiny tensor */
    if (argc > 2) {
        char path[1024];
        snprintf(path, sizeof path, "%s/models/stories260K-gguf-v1.gguf", argv[2]);
        gguf_file *f = gguf_open_file(path, err, sizeof err);
        if (!f) {   /* no shared data here: the other seeds still do */
            fprintf(stderr, "note: %s (seed skipped)\n", err);
            return 0;
        }
        w = gguf_writer_new(32);
        for (uint64_t i = 0; i < gguf_kv_count(f); i++) gguf_w_copy_kv(w, f, gguf_kv_at(f, i));
        gguf_w_tensor(w, "output_norm.weight", GGML_F32, 1, s, bytes, 32);
        gguf_close(f);
        finish(w, "stories-meta.gguf", 0);
    }
    return 0;
}
