/* bandwidth.c: streaming-read bandwidth (see bandwidth.h). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bandwidth.h"

typedef struct {
    const uint64_t *p;
    size_t n;          /* uint64_t words */
    uint64_t sink;     /* keeps the loads alive */
} slice;

static void *reader(void *arg) {
    slice *s = arg;
    /* independent accumulators so the loop is load-bound, not add-bound */
    uint64_t a = 0, b = 0, c = 0, d = 0;
    const uint64_t *p = s->p;
    size_t i = 0;
    for (; i + 8 <= s->n; i += 8) {
        a += p[i] ^ p[i + 4];
        b += p[i + 1] ^ p[i + 5];
        c += p[i + 2] ^ p[i + 6];
        d += p[i + 3] ^ p[i + 7];
    }
    s->sink = a + b + c + d;
    return NULL;
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

double kn_read_bandwidth(int threads, size_t bytes, int runs) {
    if (threads < 1 || threads > 64 || runs < 1 || runs > 100) return -1.0;
    if (bytes == 0) bytes = (size_t)256 << 20;
    size_t words = bytes / sizeof(uint64_t) / (size_t)threads / 8 * 8;
    if (words == 0) return -1.0;
    uint64_t *buf = malloc(words * (size_t)threads * sizeof(uint64_t));
    if (!buf) return -1.0;
    memset(buf, 1, words * (size_t)threads * sizeof(uint64_t));   /* fault every page in */
    double *gbs = malloc(sizeof(double) * (size_t)runs);
    slice s[64];
    pthread_t tid[64];
    int ok = gbs != NULL;
    for (int r = 0; ok && r < runs; r++) {
        double t0 = now();
        int started = 0;
        for (int t = 0; t < threads; t++) {
            s[t] = (slice){buf + (size_t)t * words, words, 0};
            if (t == 0) continue;   /* the caller's thread reads slice 0 */
            if (pthread_create(&tid[t], NULL, reader, &s[t]) != 0) { ok = 0; break; }
            started = t;
        }
        reader(&s[0]);
        for (int t = 1; t <= started; t++) pthread_join(tid[t], NULL);
        gbs[r] = (double)(words * (size_t)threads * sizeof(uint64_t)) / (now() - t0) * 1e-9;
    }
    double med = -1.0;
    if (ok) {
        qsort(gbs, (size_t)runs, sizeof(double), cmp_d);
        med = gbs[runs / 2];
    }
    free(gbs);
    free(buf);
    return med;
}
