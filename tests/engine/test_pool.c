/* test_pool.c: the thread pool runs every chunk of every job exactly once
 * and returns only when all are done, for 1 to 4 threads, many short jobs
 * in a row (where a late worker could meet the next job) and odd chunk
 * counts; per-thread indices stay in range. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(void) {
    int failures = 0;
    job *j = calloc(1, sizeof *j);
    for (int t = 1; t <= 4; t++) {
        llm_pool *p = llm_pool_new(t);
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
