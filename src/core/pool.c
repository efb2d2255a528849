/* A persistent pool of worker threads: started once, woken per job, parts claimed from a
 * shared counter. Which thread runs a part never changes what the part computes. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "alloc.h"
#include "errors.h"
#include "pool.h"

#define NEGS_POOL_MAX_THREADS 256

struct negs_pool {
    unsigned threads; /* including the caller */
    unsigned started; /* workers actually started */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    uint64_t generation;
    unsigned busy; /* workers still inside the current job */
    int stop;
    negs_pool_fn fn;
    void *ctx;
    size_t n_parts;
    atomic_size_t next;
};

static void drain(negs_pool *p)
{
    size_t i;
    while ((i = atomic_fetch_add(&p->next, 1)) < p->n_parts) p->fn(p->ctx, i, p->n_parts);
}

static void *worker_main(void *arg)
{
    negs_pool *p = arg;
    uint64_t seen = 0;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (!p->stop && p->generation == seen) pthread_cond_wait(&p->wake, &p->mu);
        if (p->stop) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->busy == 0) pthread_cond_signal(&p->done);
        pthread_mutex_unlock(&p->mu);
    }
}

negs_pool *negs_pool_create(unsigned threads)
{
    if (threads < 1 || threads > NEGS_POOL_MAX_THREADS)
        return negs_fail_null(NEGS_E_INVALID, "negs_pool_create: threads = %u is not in 1..%d",
                              threads, NEGS_POOL_MAX_THREADS);
    negs_pool *p = negs_calloc_array(1, sizeof *p, "thread pool");
    if (!p) return NULL;
    p->threads = threads;
    atomic_init(&p->next, 0);
    if (threads == 1) return p;
    p->workers = negs_alloc_array(threads - 1, sizeof *p->workers, "thread pool workers");
    if (!p->workers) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    for (unsigned i = 0; i + 1 < threads; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) {
            negs_pool_free(p);
            return negs_fail_null(NEGS_E_NOMEM, "negs_pool_create: cannot start thread %u of %u",
                                  i + 2, threads);
        }
        p->started++;
    }
    return p;
}

void negs_pool_free(negs_pool *p)
{
    if (!p) return;
    if (p->threads > 1) {
        pthread_mutex_lock(&p->mu);
        p->stop = 1;
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
        for (unsigned i = 0; i < p->started; i++) pthread_join(p->workers[i], NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->wake);
        pthread_cond_destroy(&p->done);
    }
    free(p->workers);
    free(p);
}

unsigned negs_pool_threads(const negs_pool *p)
{
    return p ? p->threads : 1;
}

void negs_pool_run(negs_pool *p, negs_pool_fn fn, void *ctx, size_t n_parts)
{
    if (!p || p->threads == 1 || n_parts <= 1) {
        for (size_t i = 0; i < n_parts; i++) fn(ctx, i, n_parts);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n_parts = n_parts;
    atomic_store(&p->next, 0);
    p->busy = p->started;
    p->generation++;
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    drain(p);
    pthread_mutex_lock(&p->mu);
    while (p->busy > 0) pthread_cond_wait(&p->done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

int negs_pool_resize(negs_pool **pool, double threads, const char *func)
{
    if (!(threads >= 1.0 && threads <= NEGS_POOL_MAX_THREADS) || threads != floor(threads))
        return negs_fail(NEGS_E_INVALID, "%s: threads = %g is not a whole number in 1..%d", func,
                         threads, NEGS_POOL_MAX_THREADS);
    unsigned n = (unsigned)threads;
    if (negs_pool_threads(*pool) == n) return NEGS_OK;
    negs_pool *fresh = NULL;
    if (n > 1) {
        fresh = negs_pool_create(n);
        if (!fresh) return negs_last_status();
    }
    negs_pool_free(*pool);
    *pool = fresh;
    return NEGS_OK;
}
