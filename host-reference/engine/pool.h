/* pool.h: a fixed pool of worker threads for the forward pass.
 *
 * Contract: llm_pool_new(n) starts n-1 threads once. llm_pool_run() splits
 * a job into n_chunks chunks and calls fn(arg, chunk, n_chunks, thread)
 * exactly once per chunk, on the calling thread (thread 0) and on workers
 * (1..n-1) that claim chunks as they come; it returns when every chunk is
 * done. Threads claim chunks instead of owning fixed shares so that on a
 * busy machine a descheduled worker never holds up the others: the caller
 * takes whatever nobody claimed. `thread` is only for per-thread scratch.
 * Workers spin briefly between jobs (a token is hundreds of small jobs),
 * then sleep, so an idle context costs no CPU. One caller at a time.
 * With cpus (else NULL), thread i runs only on CPU cpus[i]: the workers
 * from their start, the caller between llm_pool_enter and llm_pool_leave
 * (which gives back its own mask); without cpus those two do nothing.
 */
#ifndef WASMLET_LLM_POOL_H
#define WASMLET_LLM_POOL_H

typedef struct llm_pool llm_pool;
typedef void (*llm_pool_fn)(void *arg, int chunk, int n_chunks, int thread);

llm_pool *llm_pool_new(int n_threads, const int *cpus);   /* NULL on failure */
void llm_pool_run(llm_pool *p, llm_pool_fn fn, void *arg, int n_chunks);
int llm_pool_size(const llm_pool *p);
void llm_pool_enter(llm_pool *p);
void llm_pool_leave(llm_pool *p);
void llm_pool_free(llm_pool *p);

#endif
