/* fuzz_model: libFuzzer target for the engine on hostile GGUF files. The
 * input is a whole GGUF file: written to a private temporary folder and
 * opened with llm_model_open (mapping, hyperparameters, tensor binding,
 * repacking into the pack cache, which points into the same folder). A
 * model that opens runs: a context of 8 positions on 1 thread evaluates 2
 * tokens in one batch (matmul) and 1 more (matvec), samples, and embeds.
 * Then the model is opened again, now from its pack cache entry, and the
 * same 2 tokens must give the same logits bit for bit. Whatever is
 * refused must be refused with one line starting "llm: " or "gguf: ".
 *
 * Memory: the context is small, so every allocation is bounded by a small
 * multiple of the input (every tensor a shape asks for must lie in the
 * file); run with -rss_limit_mb / -malloc_limit_mb anyway.
 * The temporary folder is $TMPDIR (else /tmp)/fuzz_model.XXXXXX, removed
 * at exit; cache entries are removed after every input. With
 * FUZZ_MODEL_VERBOSE=1 each input's outcome is printed (for reproducers). */
#define _DEFAULT_SOURCE   /* mkdtemp, setenv */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "llm.h"

static char g_dir[2048], g_model[2100], g_pack[2100];
static volatile float g_sink;
static bool g_verbose;

static void clear_pack(void) {
    DIR *d = opendir(g_pack);
    if (!d) return;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
}

static void cleanup(void) {
    clear_pack();
    rmdir(g_pack);
    unlink(g_model);
    rmdir(g_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof g_dir, "%s/fuzz_model.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        perror("fuzz_model: mkdtemp");
        exit(1);
    }
    snprintf(g_model, sizeof g_model, "%s/model.gguf", g_dir);
    snprintf(g_pack, sizeof g_pack, "%s/pack", g_dir);
    setenv("WASMLET_PACK_CACHE", g_pack, 1);
    setenv("WASMLET_PACK_CACHE_MAX", "256M", 1);
    unsetenv("WASMLET_PIN");
    g_verbose = getenv("FUZZ_MODEL_VERBOSE") && strcmp(getenv("FUZZ_MODEL_VERBOSE"), "1") == 0;
    atexit(cleanup);
    return 0;
}

/* A refusal must be one line from the engine or the reader. */
static void check_refusal(const char *what, const char *err) {
    if ((strncmp(err, "llm: ", 5) != 0 && strncmp(err, "gguf: ", 6) != 0) || strchr(err, '\n')) {
        fprintf(stderr, "fuzz_model: %s refused without a proper one-line message: '%s'\n", what, err);
        abort();
    }
}

static void write_model(const uint8_t *data, size_t size) {
    int fd = open(g_model, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) { perror("fuzz_model: open"); abort(); }
    for (size_t done = 0; done < size;) {
        ssize_t n = write(fd, data + done, size - done);
        if (n <= 0) { perror("fuzz_model: write"); abort(); }
        done += (size_t)n;
    }
    close(fd);
}

static llm_context *new_context(const llm_model *m, llm_kv_type kv) {
    llm_context_params p = llm_context_default_params();
    p.n_ctx = 8;
    p.n_threads = 1;
    p.n_batch = 2;
    p.kv_type = kv;
    p.pin_cpus = "";
    char err[512] = "";
    llm_context *c = llm_context_new(m, &p, err, sizeof err);
    if (!c) check_refusal("context", err);
    return c;
}

/* Evaluate toks[0..2) with every row's logits: refusing valid tokens in
 * an empty context is a bug. */
static void eval2(llm_context *c, const int32_t *toks, int n_vocab) {
    char err[512] = "";
    if (!llm_eval(c, toks, 2, true, err, sizeof err)) {
        fprintf(stderr, "fuzz_model: evaluation of 2 valid tokens refused: %s\n", err);
        abort();
    }
    float s = 0;
    for (int r = 0; r < 2; r++) {
        const float *l = llm_get_logits(c, r);
        s += l[0] + l[n_vocab - 1];
    }
    g_sink = s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    write_model(data, size);
    char err[512] = "";
    llm_model *m = llm_model_open(g_model, err, sizeof err);
    if (g_verbose) fprintf(stderr, "fuzz_model: %s\n", m ? llm_model_pack_note(m) : err);
    if (!m) {
        check_refusal("model", err);
        clear_pack();
        return 0;
    }
    const llm_hparams *hp = llm_model_hparams(m);
    const int V = hp->n_vocab;
    g_sink = (float)llm_model_weight_bytes(m) + (float)strlen(llm_model_pack_note(m));
    int32_t toks[3] = {hp->bos >= 0 && hp->bos < V ? hp->bos : 0, V - 1, V / 2};
    /* the cache type from the input's last byte: auto, F32, F16 */
    const llm_kv_type kv = (llm_kv_type)(size ? data[size - 1] % 3 : 0);
    float *first = NULL;

    llm_context *c = new_context(m, kv);
    if (c) {
        eval2(c, toks, V);
        first = malloc(2 * (size_t)V * sizeof *first);
        if (first) {
            memcpy(first, llm_get_logits(c, 0), (size_t)V * sizeof *first);
            memcpy(first + V, llm_get_logits(c, 1), (size_t)V * sizeof *first);
        }
        if (!llm_eval(c, toks + 2, 1, false, err, sizeof err)) {
            fprintf(stderr, "fuzz_model: evaluation of a third token refused: %s\n", err);
            abort();
        }
        int32_t t = llm_sample(c);
        if (t < 0 || t >= V) {
            fprintf(stderr, "fuzz_model: sampled token %d outside [0, %d)\n", (int)t, V);
            abort();
        }
        float *emb = malloc((size_t)hp->n_embd * sizeof *emb);
        if (emb && llm_embed(c, toks, 2, emb, err, sizeof err)) g_sink = emb[0];
        free(emb);
        llm_context_free(c);
    }
    llm_model_free(m);

    /* Again, from the entry the first open left in the pack cache (or
     * packed afresh if there is none): the same weights, the same bits. */
    llm_model *m2 = llm_model_open(g_model, err, sizeof err);
    if (!m2) {
        fprintf(stderr, "fuzz_model: model opened once, then refused: %s\n", err);
        abort();
    }
    if (g_verbose) fprintf(stderr, "fuzz_model: again: %s\n", llm_model_pack_note(m2));
    llm_context *c2 = first ? new_context(m2, kv) : NULL;
    if (c2) {
        eval2(c2, toks, V);
        if (memcmp(first, llm_get_logits(c2, 0), (size_t)V * sizeof *first) != 0 ||
            memcmp(first + V, llm_get_logits(c2, 1), (size_t)V * sizeof *first) != 0) {
            fprintf(stderr, "fuzz_model: logits differ between the first and second open (%s)\n",
                    llm_model_pack_note(m2));
            abort();
        }
        llm_context_free(c2);
    }
    free(first);
    llm_model_free(m2);
    clear_pack();
    return 0;
}
