/* pool.c: see pool.h.
 *
 * A job is announced by storing claim = gen<<32 (a new generation, chunk
 * 0). Threads take chunk numbers with a compare-and-swap on claim, so a
 * claim is always tied to its generation: a worker that wakes up late can
 * never take a chunk of a job it did not see published. `limit` carries
 * the job's chunk count with the same generation tag. The caller moves on
 * only when `done` reaches the chunk count, so a job's fields stay valid
 * while any of its chunks runs. */
#define _GNU_SOURCE   /* sched_yield, pthread affinity */
#include "pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

enum { SPIN_LIMIT = 4000 };

typedef struct {
    struct llm_pool *pool;
    int index;
} worker_arg;

struct llm_pool {
    int n;
    pthread_t *threads;
    worker_arg *args;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    _Atomic uint64_t claim;    /* gen << 32 | next chunk */
    _Atomic uint64_t limit;    /* gen << 32 | n_chunks */
    atomic_int done;           /* chunks finished in the current job */
    atomic_int sleepers;
    atomic_bool quit;
    uint32_t gen;              /* caller only */
    llm_pool_fn fn;            /* valid while a claimed chunk of the job runs */
    void *arg;
    bool pinned;               /* the caller runs on cpu0 between enter and leave */
    int cpu0;
    bool entered;              /* saved_mask holds the caller's own mask */
#ifdef __linux__
    cpu_set_t saved_mask;
#endif
};

/* Take and run chunks of job `gen` until none is left. */
static void work(llm_pool *p, uint32_t gen, int thread) {
    for (;;) {
        uint64_t c = atomic_load(&p->claim);
        if ((uint32_t)(c >> 32) != gen) return;
        if (!atomic_compare_exchange_weak(&p->claim, &c, c + 1)) continue;
        uint64_t lim = atomic_load(&p->limit);
        uint32_t idx = (uint32_t)c, n = (uint32_t)lim;
        /* A newer generation means this job finished: idx was past the end. */
        if ((uint32_t)(lim >> 32) != gen || idx >= n) return;
        p->fn(p->arg, (int)idx, (int)n, thread);
        atomic_fetch_add(&p->done, 1);
    }
}

static void *worker_main(void *v) {
    worker_arg *wa = v;
    llm_pool *p = wa->pool;
    uint32_t seen = 0;
    for (;;) {
        uint32_t gen;
        int spins = 0;
        while ((gen = (uint32_t)(atomic_load(&p->claim) >> 32)) == seen) {
            if (atomic_load(&p->quit)) return NULL;
            if (++spins < SPIN_LIMIT) { cpu_relax(); continue; }
            /* sleepers is raised before re-checking claim, and the caller
             * stores claim before reading sleepers: one of us sees the
             * other, so no wake-up is lost. */
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((uint32_t)(atomic_load(&p->claim) >> 32) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = gen;
        work(p, gen, wa->index);
    }
}

#ifdef __linux__
static bool one_cpu(int cpu, cpu_set_t *set) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return false;
    CPU_ZERO(set);
    CPU_SET(cpu, set);
    return true;
}
#endif

llm_pool *llm_pool_new(int n_threads, const int *cpus) {
    if (n_threads < 1) n_threads = 1;
    llm_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->claim, 0);
    atomic_init(&p->limit, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->quit, false);
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0) { llm_pool_free(p); return NULL; }
    if (cpus) {
#ifdef __linux__
        p->pinned = true;
        p->cpu0 = cpus[0];
#else
        pthread_attr_destroy(&attr);
        llm_pool_free(p);
        return NULL;
#endif
    }
    if (n_threads > 1) {
        p->threads = calloc((size_t)n_threads, sizeof *p->threads);
        p->args = calloc((size_t)n_threads, sizeof *p->args);
        if (!p->threads || !p->args) {
            pthread_attr_destroy(&attr);
            p->n = 1;
            llm_pool_free(p);
            return NULL;
        }
        for (int i = 1; i < n_threads; i++) {
            p->args[i].pool = p;
            p->args[i].index = i;
            bool ok = true;
#ifdef __linux__
            cpu_set_t set;
            if (cpus) ok = one_cpu(cpus[i], &set) && pthread_attr_setaffinity_np(&attr, sizeof set, &set) == 0;
#endif
            if (!ok || pthread_create(&p->threads[i], &attr, worker_main, &p->args[i]) != 0) {
                pthread_attr_destroy(&attr);
                p->n = i;   /* only threads [1, i) exist */
                llm_pool_free(p);
                return NULL;
            }
        }
    }
    pthread_attr_destroy(&attr);
    return p;
}

int llm_pool_size(const llm_pool *p) { return p->n; }

/* The caller is pinned only while it evaluates, so that a pool never
 * leaves its mark on a thread that goes on to do other work (or to make
 * a second context, whose "auto" must see the whole mask). Two system
 * calls per evaluation, not per job. */
void llm_pool_enter(llm_pool *p) {
#ifdef __linux__
    cpu_set_t set;
    if (!p->pinned || p->entered || !one_cpu(p->cpu0, &set)) return;
    if (pthread_getaffinity_np(pthread_self(), sizeof p->saved_mask, &p->saved_mask) != 0) return;
    p->entered = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
#else
    (void)p;
#endif
}

void llm_pool_leave(llm_pool *p) {
#ifdef __linux__
    if (!p->entered) return;
    pthread_setaffinity_np(pthread_self(), sizeof p->saved_mask, &p->saved_mask);
    p->entered = false;
#else
    (void)p;
#endif
}

void llm_pool_run(llm_pool *p, llm_pool_fn fn, void *arg, int n_chunks) {
    if (n_chunks < 1) return;
    if (p->n == 1 || n_chunks == 1) {
        for (int i = 0; i < n_chunks; i++) fn(arg, i, n_chunks, 0);
        return;
    }
    const uint32_t gen = ++p->gen;
    p->fn = fn;
    p->arg = arg;
    atomic_store(&p->done, 0);
    atomic_store(&p->limit, (uint64_t)gen << 32 | (uint32_t)n_chunks);
    atomic_store(&p->claim, (uint64_t)gen << 32);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    work(p, gen, 0);
    /* Only chunks already claimed by others can be left; yield now and
     * then so a descheduled holder gets the CPU back. */
    int spins = 0;
    while (atomic_load(&p->done) < n_chunks) {
        if (++spins % SPIN_LIMIT == 0) sched_yield();
        else cpu_relax();
    }
}

void llm_pool_free(llm_pool *p) {
    if (!p) return;
    if (p->threads && p->n > 1) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->quit, true);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
        for (int i = 1; i < p->n; i++) pthread_join(p->threads[i], NULL);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    free(p->threads);
    free(p->args);
    free(p);
}
