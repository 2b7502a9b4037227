/* test_pool.c: the thread pool runs every chunk of every job exactly once
 * and returns only when all are done, for 1 to 4 threads, many short jobs
 * in a row (where a late worker could meet the next job) and odd chunk
 * counts; per-thread indices stay in range. Pinning: CPU pin lists are
 * parsed or refused with a reason, each pinned thread runs on its CPU,
 * and the caller gets its own CPU mask back after an evaluation. */
#define _GNU_SOURCE   /* sched_getcpu, CPU_* */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_pin.h"
#include "pool.h"

enum { MAX_CHUNKS = 64 };

typedef struct {
    atomic_int runs[MAX_CHUNKS];
    atomic_int bad;
    int n_threads;
    long sink;
} job;

static void fn(void *arg, int chunk, int n_chunks, int thread) {
    job *j = arg;
    if (chunk < 0 || chunk >= n_chunks || n_chunks > MAX_CHUNKS || thread < 0 ||
        thread >= j->n_threads)
        atomic_fetch_add(&j->bad, 1);
    else
        atomic_fetch_add(&j->runs[chunk], 1);
    /* a little uneven work */
    volatile long s = 0;
    for (int i = 0; i < (chunk % 5) * 50; i++) s += i;
}

/* Per thread: the CPUs seen while running chunks (bit per CPU < 64). */
typedef struct {
    atomic_ullong seen[4];
} cpu_job;

static void where(void *arg, int chunk, int n_chunks, int thread) {
    (void)chunk; (void)n_chunks;
    cpu_job *j = arg;
    int cpu = sched_getcpu();
    if (cpu >= 0 && cpu < 64 && thread < 4) atomic_fetch_or(&j->seen[thread], 1ull << cpu);
    volatile long s = 0;
    for (int i = 0; i < 20000; i++) s += i;
}

static int test_pinning(void) {
    int failures = 0, cpus[8];
    char err[200];
    cpu_set_t allowed;
    CPU_ZERO(&allowed);
    sched_getaffinity(0, sizeof allowed, &allowed);
    int first = -1, last = -1;
    for (int c = 0; c < 64; c++)
        if (CPU_ISSET(c, &allowed)) { if (first < 0) first = c; last = c; }
    if (first < 0) { fprintf(stderr, "no allowed CPU below 64: pinning not tested\n"); return 0; }

    /* auto: the allowed CPUs in order, wrapping round */
    if (!llm_cpu_pin_parse("auto", 8, cpus, err, sizeof err) || cpus[0] != first) {
        fprintf(stderr, "auto: %s\n", err);
        failures++;
    }
    for (int i = 1; i < 8; i++)
        if (!CPU_ISSET(cpus[i], &allowed)) { fprintf(stderr, "auto gave CPU %d\n", cpus[i]); failures++; }
    char spec[64];
    snprintf(spec, sizeof spec, "%d-%d,%d", first, last, first);
    if (!llm_cpu_pin_parse(spec, 2, cpus, err, sizeof err) || cpus[0] != first ||
        cpus[1] != (last > first ? first + 1 : first)) {
        fprintf(stderr, "'%s': %s\n", spec, err);
        failures++;
    }
    static const struct { const char *spec, *why; } bad[] = {
        {"", "empty"}, {"x", "bad CPU number at 'x'"}, {"0-", "bad range end"},
        {"3-1", "bad range end"}, {"0,", "bad CPU number at ''"}, {"0;1", "unexpected ';'"},
        {"-1", "bad CPU number"}, {"1024", "bad CPU number"}, {"1023", "not available"},
        {"0x1", "unexpected 'x'"}, {" 0", "bad CPU number"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = 0;
        if (llm_cpu_pin_parse(bad[i].spec, 1, cpus, err, sizeof err) || !strstr(err, bad[i].why)) {
            fprintf(stderr, "'%s' accepted or wrong reason: '%s'\n", bad[i].spec, err);
            failures++;
        }
    }
    snprintf(spec, sizeof spec, "%d", first);
    if (llm_cpu_pin_parse(spec, 2, cpus, err, sizeof err) || !strstr(err, "names 1 CPU for 2 threads")) {
        fprintf(stderr, "one CPU for two threads: '%s'\n", err);
        failures++;
    }

    /* Pinned pool: thread i only ever runs on cpus[i]. */
    int pin[2] = {last, first};
    cpu_job *j = calloc(1, sizeof *j);
    llm_pool *p = llm_pool_new(2, pin);
    if (!p) { fprintf(stderr, "pinned pool failed\n"); free(j); return failures + 1; }
    llm_pool_enter(p);
    for (int iter = 0; iter < 200; iter++) llm_pool_run(p, where, j, 8);
    llm_pool_leave(p);
    for (int t = 0; t < 2; t++) {
        unsigned long long s = atomic_load(&j->seen[t]);
        if (s & ~(1ull << pin[t])) {
            fprintf(stderr, "thread %d pinned to CPU %d ran on mask %#llx\n", t, pin[t], s);
            failures++;
        }
    }
    if (!(atomic_load(&j->seen[0]) & (1ull << pin[0]))) { fprintf(stderr, "caller never ran\n"); failures++; }
    cpu_set_t after;
    CPU_ZERO(&after);
    sched_getaffinity(0, sizeof after, &after);
    if (!CPU_EQUAL(&after, &allowed)) { fprintf(stderr, "caller's CPU mask not restored\n"); failures++; }
    llm_pool_free(p);
    free(j);
    return failures;
}

int main(void) {
    int failures = test_pinning();
    job *j = calloc(1, sizeof *j);
    for (int t = 1; t <= 4; t++) {
        llm_pool *p = llm_pool_new(t, NULL);
        if (!p || llm_pool_size(p) != t) { fprintf(stderr, "pool of %d\n", t); return 1; }
        j->n_threads = t;
        for (int iter = 0; iter < 20000; iter++) {
            int n = 1 + (iter * 7) % MAX_CHUNKS;
            for (int c = 0; c < MAX_CHUNKS; c++) atomic_store(&j->runs[c], 0);
            llm_pool_run(p, fn, j, n);
            for (int c = 0; c < MAX_CHUNKS; c++) {
                int want = c < n ? 1 : 0, got = atomic_load(&j->runs[c]);
                if (got != want) {
                    if (failures++ < 10)
                        fprintf(stderr, "threads %d job %d: chunk %d of %d ran %d times\n", t, iter,
                                c, n, got);
                }
            }
        }
        if (atomic_load(&j->bad)) { fprintf(stderr, "threads %d: bad arguments\n", t); failures++; }
        llm_pool_free(p);
    }
    free(j);
    fprintf(stderr, "test_pool: %s\n", failures ? "FAILED" : "ok");
    return failures ? 1 : 0;
}
