/* bench_bundle.c: pack and verify throughput on a ~1 GB generated model,
 * the time of a repeat open+verify that the verified-cache serves, and,
 * when wasmlet-run and the hello guest are given, the cold and repeat start
 * time of a bundle holding the model (process start to exit).
 * Usage: bench_bundle [WORKDIR] [MiB] [WASMLET_RUN HELLO_WASM].
 * Prints a table (median of runs). */
#include <sodium.h>
#include <spawn.h>
#include <time.h>

#include "build.h"
#include "bundle.h"
#include "tb.h"
#include "vcache.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* open + signature + members; returns seconds, -1 on failure. */
static double open_verify(const char *path, const bundle_trust *t, unsigned flags, bool *cached) {
    char err[512];
    double t0 = now();
    bundle *b = bundle_open(path, err, sizeof err);
    bool ok = b && bundle_verify_signature(b, t, NULL, err, sizeof err) &&
              bundle_check_members(b, flags, cached, NULL, NULL, err, sizeof err);
    double dt = now() - t0;
    bundle_close(b);
    if (!ok) fprintf(stderr, "bench_bundle: %s\n", err);
    return ok ? dt : -1;
}

extern char **environ;

/* Runs argv with stdout/stderr to /dev/null; seconds, -1 on failure. */
static double run_silent(char *const *argv) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int status = 0;
    double t0 = now();
    bool ok = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ) == 0 && waitpid(pid, &status, 0) == pid &&
              WIFEXITED(status) && WEXITSTATUS(status) == 0;
    double dt = now() - t0;
    posix_spawn_file_actions_destroy(&fa);
    return ok ? dt : -1;
}

int main(int argc, char **argv) {
    const char *work = argc > 1 ? argv[1] : "/tmp";
    uint64_t mib = argc > 2 ? strtoull(argv[2], NULL, 10) : 1024;
    char err[512], dir[200];
    if (!ms_init(err, sizeof err)) return 1;
    snprintf(dir, sizeof dir, "%.150s/wasmlet-bench-bundle-XXXXXX", work);
    if (!mkdtemp(dir)) {
        perror(dir);
        return 1;
    }
    snprintf(tb_dir, sizeof tb_dir, "%s", dir);
    atexit(tb_cleanup);
    char cache[700];
    snprintf(cache, sizeof cache, "%s/cache", dir);
    setenv("WASMLET_CACHE_DIR", cache, 1);

    /* The model: one F16 tensor of mib MiB plus a vocabulary. */
    gguf_writer *w = gguf_writer_new(32);
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_u32(w, "llama.context_length", 4096);
    const char *toks[] = {"<unk>", "<s>", "</s>", "a"};
    gguf_w_arr(w, "tokenizer.ggml.tokens", GGUF_T_STRING, toks, 4);
    uint64_t ne[2] = {4096, mib * 128};   /* 4096 F16 = 8 KiB per row */
    gguf_w_tensor(w, "token_embd.weight", GGML_F16, 2, ne, NULL, ne[0] * ne[1] * 2);
    const char *model = tb_path("model.gguf");
    double t0 = now();
    bool ok = gguf_writer_write_file(w, model, err, sizeof err);
    gguf_writer_free(w);
    if (!ok) {
        fprintf(stderr, "bench_bundle: %s\n", err);
        return 1;
    }
    fprintf(stderr, "generated %s in %.1f s\n", model, now() - t0);
    /* Models are normally old files: let its times settle so packing takes
     * the no-rehash path (build.c; a fresh file is re-hashed while copied). */
    struct timespec settle = {VCACHE_RACY_SECONDS, 200000000};
    nanosleep(&settle, NULL);
    tb_write(tb_path("app.wasm"), tb_wasm, sizeof tb_wasm);
    struct stat st;
    stat(model, &st);
    double mb = (double)st.st_size / 1e6;

    ms_pubkey pk;
    ms_seckey sk;
    ms_keygen(&pk, &sk);
    bundle_trust trust = {&pk, 1};

    enum { RUNS = 3, REPEAT = 15 };
    double pack[RUNS], cold[RUNS], warm[REPEAT], sha[RUNS];
    build_opts o;
    memset(&o, 0, sizeof o);
    o.wasm_path = tb_path("app.wasm");
    o.models[0] = (build_model){"default", model};
    o.n_models = 1;
    o.name = "bench";
    o.version = "1";
    o.key = &sk;
    o.out = tb_path("bench.wasmlet");
    for (int r = 0; r < RUNS; r++) {
        t0 = now();
        if (!bundle_build(&o, err, sizeof err)) {
            fprintf(stderr, "bench_bundle: %s\n", err);
            return 1;
        }
        pack[r] = now() - t0;
    }
    /* Raw SHA-256 speed, for reference: hashing is what verify does. */
    int fd = open(model, O_RDONLY);
    for (int r = 0; r < RUNS; r++) {
        uint8_t h[32];
        t0 = now();
        bundle_hash_range(fd, 0, (uint64_t)st.st_size, h, NULL, NULL, 0, 0, err, sizeof err);
        sha[r] = now() - t0;
    }
    close(fd);
    bool cached = false;
    for (int r = 0; r < RUNS; r++) {
        cold[r] = open_verify(o.out, &trust, BUNDLE_NO_CACHE, &cached);
        if (cold[r] < 0) return 1;
    }
    /* The cache records only files whose times are older than the racy window. */
    struct timespec pause = {VCACHE_RACY_SECONDS, 200000000};
    nanosleep(&pause, NULL);
    double first = open_verify(o.out, &trust, 0, &cached);
    bool first_cached = cached;
    int hits = 0;
    for (int r = 0; r < REPEAT; r++) {
        warm[r] = open_verify(o.out, &trust, 0, &cached);
        hits += cached;
    }
    double p = median(pack, RUNS), c = median(cold, RUNS), s = median(sha, RUNS), wm = median(warm, REPEAT);
    printf("\nbench-bundle: %.0f MB model (one F16 tensor), signed bundle, page cache warm\n", mb);
    printf("%-44s %12s %12s\n", "step", "time", "throughput");
    printf("%-44s %10.2f s %7.0f MB/s\n", "pack (validate, hash, write tar, fsync)", p, mb / p);
    printf("%-44s %10.2f s %7.0f MB/s\n", "SHA-256 alone (libsodium, pread 1 MiB)", s, mb / s);
    printf("%-44s %10.2f s %7.0f MB/s\n", "cold open+verify (signature + full hash)", c, mb / c);
    printf("%-44s %10.2f s %12s\n", first_cached ? "first start (cache hit?!)" : "first start (no cache entry, records one)",
           first, "");
    printf("%-44s %9.3f ms %12s\n", "repeat open+verify (verified-cache hit)", wm * 1e3, "");
    printf("(median of %d runs; repeat: median of %d, %d/%d cache hits)\n", RUNS, REPEAT, hits, REPEAT);

    /* wasmlet-run on a bundle of the hello guest and this model. */
    const char *run = argc > 4 ? argv[3] : NULL, *hello = argc > 4 ? argv[4] : NULL;
    if (!run || access(run, X_OK) != 0 || access(hello, R_OK) != 0) {
        printf("wasmlet-run or hello.wasm not built: start times skipped\n");
        return hits == REPEAT ? 0 : 1;
    }
    o.wasm_path = hello;
    o.out = tb_path("hello.wasmlet");
    if (!bundle_build(&o, err, sizeof err)) {
        fprintf(stderr, "bench_bundle: %s\n", err);
        return 1;
    }
    char *pub = ms_pubkey_format(&pk);
    tb_write(tb_path("k.pub"), pub, strlen(pub));
    free(pub);
    char *args[] = {(char *)run, "--trust", tb_path("k.pub"), (char *)o.out, NULL};
    run_silent(args);   /* compiles the guest into wasmlet-run's module cache (racy window: no record) */
    nanosleep(&pause, NULL);
    double cold_start = run_silent(args), starts[REPEAT];
    for (int r = 0; r < REPEAT; r++) starts[r] = run_silent(args);
    char *full[] = {(char *)run, "--trust", tb_path("k.pub"), "--verify-full", (char *)o.out, NULL};
    double full_start = run_silent(full);
    if (cold_start < 0 || full_start < 0) {
        fprintf(stderr, "bench_bundle: wasmlet-run failed\n");
        return 1;
    }
    printf("\nwasmlet-run --trust KEY hello.wasmlet (hello guest + this model; guest already compiled)\n");
    printf("%-44s %10.2f s\n", "first start (verifies, records)", cold_start);
    printf("%-44s %9.1f ms  (median of %d)\n", "repeat start (verified-cache)", median(starts, REPEAT) * 1e3, REPEAT);
    printf("%-44s %10.2f s\n", "start with --verify-full", full_start);
    return hits == REPEAT ? 0 : 1;
}
