/* bench_kernels: matvec throughput in GB/s of weight bytes, per weight type
 * and per ISA table, on a 5632 x 2048 matrix (TinyLlama's FFN gate/up),
 * replicated so the working set is far beyond the last-level cache; then
 * the best table on the layout the engine streams (its packed type where
 * it packs one, 1 and 2 threads); plus the machine's streaming read
 * bandwidth for scale. Median of several runs. Not a test: it asserts
 * nothing. */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "bandwidth.h"
#include "kn_internal.h"

enum { NROWS = 5632, NCOLS = 2048, RUNS = 5 };
static const size_t WORKING_SET = (size_t)160 << 20;

/* Weights in 2 MB pages where the OS allows, as the engine maps them and
 * as the bandwidth probe reads (4 KB pages would add TLB misses). */
static uint8_t *huge_alloc(size_t len) {
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, len, MADV_HUGEPAGE);
#endif
    return p;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const kn_ops *o;
    uint32_t t;
    const uint8_t *w;
    size_t rb;
    const void *xq;
    float *y;
    int r0, r1, copies;
    size_t mat_bytes;
} job;

static void run_job(job *j) {
    for (int c = 0; c < j->copies; c++)
        j->o->matvec(j->t, j->w + (size_t)c * j->mat_bytes + (size_t)j->r0 * j->rb, j->rb, j->xq,
                     j->y + j->r0, j->r1 - j->r0, NCOLS);
}
static void *thr(void *a) { run_job(a); return NULL; }

/* GB/s of weight bytes, median of RUNS, with `threads` splitting the rows. */
static double bench(const kn_ops *o, uint32_t t, const uint8_t *w, int copies, size_t mat_bytes,
                    const void *xq, float *y, int threads) {
    double g[RUNS];
    size_t rb = kn_row_bytes(t, NCOLS);
    for (int r = 0; r < RUNS; r++) {
        job jobs[2];
        pthread_t tid;
        for (int k = 0; k < threads; k++)
            jobs[k] = (job){o, t, w, rb, xq, y, NROWS * k / threads, NROWS * (k + 1) / threads, copies, mat_bytes};
        double t0 = now();
        if (threads == 2 && pthread_create(&tid, NULL, thr, &jobs[1]) != 0) return -1;
        run_job(&jobs[0]);
        if (threads == 2) pthread_join(tid, NULL);
        g[r] = (double)mat_bytes * copies / (now() - t0) * 1e-9;
    }
    qsort(g, RUNS, sizeof g[0], cmp_d);
    return g[RUNS / 2];
}

int main(void) {
    static const uint32_t types[] = {GGML_Q4_0, GGML_Q8_0, GGML_Q4_K, GGML_Q6_K, GGML_Q4_1, GGML_Q5_0,
                                     GGML_Q5_1, GGML_Q5_K, GGML_F16, GGML_BF16, GGML_F32};
    static const char *names[] = {"Q4_0", "Q8_0", "Q4_K", "Q6_K", "Q4_1", "Q5_0", "Q5_1", "Q5_K",
                                  "F16", "BF16", "F32"};
    double bw1 = kn_read_bandwidth(1, 0, 7), bw2 = kn_read_bandwidth(2, 0, 7);
    const kn_ops *isas[KN_ISA_COUNT];
    int ni = 0;
    for (int i = 0; i < KN_ISA_COUNT; i++)
        if (kn_get_isa((kn_isa)i)) isas[ni++] = kn_get_isa((kn_isa)i);
    const kn_ops *best = kn_get();
    if (!best) return 1;
    printf("cpu: %s\n", kn_cpu_features());
    printf("read bandwidth: %.1f GB/s (1 thread), %.1f GB/s (2 threads), median of 7\n", bw1, bw2);
    printf("matvec %dx%d, GB/s of weight bytes, working set ~%zu MiB, median of %d\n\n", NROWS, NCOLS,
           WORKING_SET >> 20, RUNS);
    printf("%-5s", "type");
    for (int i = 0; i < ni; i++) printf(" %8s", isas[i]->name);
    printf(" %8s %8s %7s %7s\n", "engine", "eng 2T", "%bw1", "%bw2");
    float *x = malloc(sizeof(float) * NCOLS), *y = malloc(sizeof(float) * NROWS);
    float *row = malloc(sizeof(float) * NCOLS);
    uint64_t s = 12345;
    for (int i = 0; i < NCOLS; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((int)(s >> 40) % 2001 - 1000) / 1000.0f;
    }
    for (size_t k = 0; k < sizeof types / sizeof types[0]; k++) {
        uint32_t t = types[k];
        size_t rb = kn_row_bytes(t, NCOLS), mb = rb * NROWS;
        int copies = (int)((WORKING_SET + mb - 1) / mb);
        uint8_t *w = huge_alloc(mb * (size_t)copies);
        void *xq = malloc(kn_row_bytes(kn_act_type(t), NCOLS) + 64);
        if (!w || !xq) return 1;
        for (int r = 0; r < NROWS; r++) {
            for (int i = 0; i < NCOLS; i++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                row[i] = (float)((int)(s >> 40) % 2001 - 1000) / 1000.0f;
            }
            kn_quantize_row(t, row, w + (size_t)r * rb, NCOLS);
        }
        for (int c = 1; c < copies; c++) memcpy(w + (size_t)c * mb, w, mb);
        printf("%-5s", names[k]);
        for (int i = 0; i < ni; i++) {
            isas[i]->quantize_act(kn_act_type(t), x, xq, NCOLS);
            double g = bench(isas[i], t, w, isas[i]->isa == KN_SCALAR ? 1 : copies, mb, xq, y, 1);
            printf(" %8.2f", g);
            fflush(stdout);
        }
        /* The engine's layout: packed where the table packs this type (the
         * packed rows are the same size, except Q4_K/Q5_K's). */
        best->quantize_act(kn_act_type(t), x, xq, NCOLS);
        const uint32_t pt = kn_pack_type(best, t, NROWS, NCOLS);
        uint8_t *pw = w;
        size_t pmb = mb;
        if (pt) {
            pmb = kn_row_bytes(pt, NCOLS) * NROWS;
            pw = huge_alloc(pmb * (size_t)copies);
            if (!pw) return 1;
            kn_pack(pt, w, pw, NROWS, NCOLS);
            for (int c = 1; c < copies; c++) memcpy(pw + (size_t)c * pmb, pw, pmb);
            if (pt == KN_BF16_R16B) best->quantize_act(GGML_BF16, x, xq, NCOLS);
        }
        const uint32_t et = pt ? pt : t;
        const double e1 = bench(best, et, pw, copies, pmb, xq, y, 1);
        const double e2 = bench(best, et, pw, copies, pmb, xq, y, 2);
        printf(" %8.2f %8.2f %6.0f%% %6.0f%%\n", e1, e2, 100 * e1 / bw1, 100 * e2 / bw2);
        if (pt) munmap(pw, pmb * (size_t)copies);
        munmap(w, mb * (size_t)copies);
        free(xq);
    }
    printf("\n(scalar runs over one copy, which may partly sit in cache.)\n");
    free(x); free(y); free(row);
    return 0;
}
