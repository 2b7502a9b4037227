/* engine_test.h: the little the engine tests share: checks that report
 * file:line and keep going, the shared-data folder, synthetic models. */
#ifndef WASMLET_ENGINE_TEST_H
#define WASMLET_ENGINE_TEST_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "llm.h"
#include "synth.h"

static int t_failures;

#define CHECK(cond, ...)                                                        \
    do {                                                                        \
        if (!(cond)) {                                                          \
            t_failures++;                                                       \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
        }                                                                       \
    } while (0)

/* Like CHECK (cond evaluated once) but stops the test. */
#define REQUIRE(cond, ...)                                                      \
    do {                                                                        \
        int t_ok_ = (cond) ? 1 : 0;                                             \
        CHECK(t_ok_, __VA_ARGS__);                                              \
        if (!t_ok_) exit(1);                                                    \
    } while (0)

static inline int t_result(const char *name) {
    if (t_failures) fprintf(stderr, "%s: %d check(s) failed\n", name, t_failures);
    else fprintf(stderr, "%s: ok\n", name);
    return t_failures ? 1 : 0;
}

/* ../shared (WASMLET_SHARED) or NULL when absent: the caller skips (77). */
static inline const char *t_shared(void) {
    const char *d = getenv("WASMLET_SHARED");
    if (!d || !*d) d = "../shared";
    struct stat st;
    if (stat(d, &st) != 0 || !S_ISDIR(st.st_mode)) return NULL;
    return d;
}

/* Write a synthetic model through `wasmlet-pack synth`'s code; the flags
 * are a NULL-terminated list after the output path. */
static inline void t_synth(const char *out, ...) {
    char *argv[64];
    int argc = 0;
    argv[argc++] = "synth";
    argv[argc++] = "-o";
    argv[argc++] = (char *)out;
    va_list ap;
    va_start(ap, out);
    for (const char *a; (a = va_arg(ap, const char *)) != NULL && argc < 63; )
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    int rc = pack_synth(argc, argv);
    if (rc != 0) {
        fprintf(stderr, "synth of %s failed (%d)\n", out, rc);
        exit(1);
    }
}

static inline llm_model *t_open(const char *path) {
    char err[512];
    llm_model *m = llm_model_open(path, err, sizeof err);
    if (!m) {
        fprintf(stderr, "%s: %s\n", path, err);
        exit(1);
    }
    return m;
}

static inline llm_context *t_ctx(const llm_model *m, int n_ctx, int threads, int batch) {
    llm_context_params p = llm_context_default_params();
    p.n_ctx = n_ctx;
    p.n_threads = threads;
    p.n_batch = batch;
    char err[512];
    llm_context *c = llm_context_new(m, &p, err, sizeof err);
    if (!c) {
        fprintf(stderr, "context: %s\n", err);
        exit(1);
    }
    return c;
}

/* max |a-b| / max(1, |b|) over n values */
static inline double t_max_rel(const float *a, const float *b, int n) {
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (isnan(d)) return INFINITY;
        if (d > worst) worst = d;
    }
    return worst;
}

#endif
