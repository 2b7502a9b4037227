/* bandwidth.c: streaming-read bandwidth (see bandwidth.h). */
#define _DEFAULT_SOURCE   /* MAP_ANONYMOUS, MADV_HUGEPAGE */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "bandwidth.h"
#include "kernels.h"

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

/* The widest loads the kernel table uses: with 8-byte loads a thread can
 * run out of issue slots before memory runs out of bandwidth (seen at half
 * the 64-byte figure on a busy host), and the kernels stream with 64. */
#define WIDE_READER(name, isa, bytes)                                                   \
    __attribute__((target(isa))) static void *name(void *arg) {                         \
        typedef uint64_t vec __attribute__((vector_size(bytes)));                       \
        slice *s = arg;                                                                 \
        const vec *p = (const vec *)(const void *)s->p;   /* 64-byte aligned slices */ \
        const size_t n = s->n * sizeof(uint64_t) / (4 * (bytes)) * 4;                   \
        vec a = {0}, b = a, c = a, d = a;                                               \
        for (size_t i = 0; i < n; i += 4) {                                             \
            a ^= p[i];                                                                  \
            b ^= p[i + 1];                                                              \
            c ^= p[i + 2];                                                              \
            d ^= p[i + 3];                                                              \
        }                                                                               \
        a ^= b ^ c ^ d;                                                                 \
        s->sink = a[0];                                                                 \
        return NULL;                                                                    \
    }
#if defined(__x86_64__) && defined(KN_HAVE_AVX512)
WIDE_READER(reader_avx512, "avx512f", 64)
#endif
#if defined(__x86_64__) && defined(KN_HAVE_AVX2)
WIDE_READER(reader_avx2, "avx2", 32)
#endif

typedef void *(*reader_fn)(void *);

static reader_fn pick_reader(void) {
    const kn_ops *o = kn_get();
#if defined(__x86_64__) && defined(KN_HAVE_AVX512)
    if (o && o->isa == KN_AVX512) return reader_avx512;
#endif
#if defined(__x86_64__) && defined(KN_HAVE_AVX2)
    if (o && (o->isa == KN_AVX2 || o->isa == KN_AVXVNNI)) return reader_avx2;
#endif
    (void)o;
    return reader;
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
    if (bytes == 0) bytes = (size_t)512 << 20;
    size_t words = bytes / sizeof(uint64_t) / (size_t)threads / 8 * 8;
    if (words == 0) return -1.0;
    /* In 2 MB pages where the OS offers them, as the engine's weights are
     * mapped (hugemap.h): with 4 KB pages the probe would measure TLB
     * misses (in a VM, two-level page walks) and understate the limit. */
    const size_t len = words * (size_t)threads * sizeof(uint64_t), huge = (size_t)2 << 20;
    uint8_t *map = mmap(NULL, len + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return -1.0;
    uint64_t *buf = (uint64_t *)(map + ((huge - (uintptr_t)map % huge) & (huge - 1)));
#ifdef MADV_HUGEPAGE
    madvise(buf, len, MADV_HUGEPAGE);
#endif
    memset(buf, 1, len);   /* fault every page in */
    double *gbs = malloc(sizeof(double) * (size_t)runs);
    slice s[64];
    pthread_t tid[64];
    int ok = gbs != NULL;
    const reader_fn stream = pick_reader();
    for (int r = 0; ok && r < runs; r++) {
        double t0 = now();
        int started = 0;
        for (int t = 0; t < threads; t++) {
            s[t] = (slice){buf + (size_t)t * words, words, 0};
            if (t == 0) continue;   /* the caller's thread reads slice 0 */
            if (pthread_create(&tid[t], NULL, stream, &s[t]) != 0) { ok = 0; break; }
            started = t;
        }
        stream(&s[0]);
        for (int t = 1; t <= started; t++) pthread_join(tid[t], NULL);
        gbs[r] = (double)(words * (size_t)threads * sizeof(uint64_t)) / (now() - t0) * 1e-9;
    }
    double med = -1.0;
    if (ok) {
        qsort(gbs, (size_t)runs, sizeof(double), cmp_d);
        med = gbs[runs / 2];
    }
    free(gbs);
    munmap(map, len + huge);
    return med;
}
