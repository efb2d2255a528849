/* A small persistent thread pool (pthreads from libc), owned by one handle. Created when the
 * handle's THREADS parameter is set, so executing calls never create threads or allocate. */
#ifndef NEGS_CORE_POOL_H
#define NEGS_CORE_POOL_H

#include <stddef.h>

typedef struct negs_pool negs_pool;

/* fn(ctx, part, n_parts) does part `part` of n_parts; the split must depend only on the data,
 * never on which thread runs it, so results are identical for any thread count. */
typedef void (*negs_pool_fn)(void *ctx, size_t part, size_t n_parts);

/* threads >= 1 (1: no threads are started and run() calls fn inline). NULL on failure. */
negs_pool *negs_pool_create(unsigned threads);
void negs_pool_free(negs_pool *p);
unsigned negs_pool_threads(const negs_pool *p);
/* Runs fn for parts 0..n_parts-1 spread over the pool's threads (the caller works too), and
 * returns when all are done. A NULL pool runs everything inline. */
void negs_pool_run(negs_pool *p, negs_pool_fn fn, void *ctx, size_t n_parts);

/* Replaces *pool with a pool of `threads` threads (validated 1..256) and records the count;
 * for set_param(THREADS) implementations. Returns a status. */
int negs_pool_resize(negs_pool **pool, double threads, const char *func);

#endif
