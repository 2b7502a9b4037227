/* pool.h: a fixed pool of worker threads for the forward pass.
 *
 * Contract: llm_pool_new(n) starts n-1 threads once; llm_pool_run() calls
 * fn(arg, i, n) for i in [0, n) — i = 0 on the calling thread — and
 * returns when all have finished. Workers spin briefly between jobs (the
 * forward pass dispatches hundreds of jobs per token) and then sleep, so
 * an idle context costs no CPU. One caller at a time per pool.
 */
#ifndef WASMLET_LLM_POOL_H
#define WASMLET_LLM_POOL_H

typedef struct llm_pool llm_pool;
typedef void (*llm_pool_fn)(void *arg, int ith, int nth);

llm_pool *llm_pool_new(int n_threads);   /* NULL on failure */
void llm_pool_run(llm_pool *p, llm_pool_fn fn, void *arg);
int llm_pool_size(const llm_pool *p);
void llm_pool_free(llm_pool *p);

#endif
