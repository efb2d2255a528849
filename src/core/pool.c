/* A persistent pool of worker threads, started once. A job is published in one atomic word
 * (its part count and the next unclaimed part); the caller and the workers claim parts from
 * it, so which thread runs a part never changes what the part computes.
 *
 * Waking a sleeping thread through a condition variable costs tens of microseconds on a
 * virtual machine, more than a whole small job. So an idle worker spins for a bounded time
 * (POOL_SPIN_NS, with the CPU's pause instruction) on the job word before it sleeps, and the
 * caller spins as long on the job's completion before it sleeps. The caller never waits for a
 * worker that has not claimed a part: a call whose parts the caller finishes alone returns at
 * once, and a sleeping worker that wakes late finds nothing left to claim. Idle beyond the
 * spin, every thread sleeps (no CPU burnt). */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "alloc.h"
#include "errors.h"
#include "pool.h"

#define NEGS_POOL_MAX_THREADS 256
/* How long a thread spins before sleeping: a few wake-ups' worth, small next to any idle
 * period a trainer has between calls. */
#define POOL_SPIN_NS 50000u

struct negs_pool {
    unsigned threads; /* including the caller */
    unsigned started; /* workers actually started */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, finished;
    /* the current job: n_parts << 32 | next part to claim (claimed out when equal) */
    _Atomic uint64_t claim;
    atomic_size_t done;          /* parts of the current job finished */
    atomic_uint sleepers;        /* workers waiting on `wake` */
    atomic_int caller_sleeps;    /* the caller waits on `finished` */
    atomic_int stop;
    /* written by the caller only while no part is claimed and unfinished */
    negs_pool_fn fn;
    void *ctx;
};

static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int has_work(negs_pool *p)
{
    uint64_t c = atomic_load(&p->claim);
    return (c & 0xffffffffu) < (c >> 32);
}

static int job_finished(negs_pool *p, size_t n_parts)
{
    return atomic_load(&p->done) == n_parts;
}

/* Spins until ready(p, n) (1) or POOL_SPIN_NS have passed (0); the clock is read every 64
 * pauses only. */
static int spin(negs_pool *p, int (*ready)(negs_pool *, size_t), size_t n)
{
    uint64_t end = 0;
    for (unsigned i = 1;; i++) {
        if (ready(p, n)) return 1;
        cpu_pause();
        if (i % 64 == 0) {
            uint64_t t = now_ns();
            if (!end) end = t + POOL_SPIN_NS;
            else if (t > end) return 0;
        }
    }
}

static int job_or_stop(negs_pool *p, size_t unused)
{
    (void)unused;
    return has_work(p) || atomic_load(&p->stop);
}

/* Claims and runs parts of the current job until none is left. A successful claim keeps the
 * caller from returning (and so from changing fn and ctx) until that part is counted done. */
static void work(negs_pool *p)
{
    uint64_t c = atomic_load(&p->claim);
    for (;;) {
        size_t n = (size_t)(c >> 32), i = (size_t)(c & 0xffffffffu);
        if (i >= n) return;
        if (!atomic_compare_exchange_weak(&p->claim, &c, c + 1)) continue;
        p->fn(p->ctx, i, n);
        if (atomic_fetch_add(&p->done, 1) + 1 == n && atomic_load(&p->caller_sleeps)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->finished);
            pthread_mutex_unlock(&p->mu);
        }
        c = atomic_load(&p->claim);
    }
}

static void *worker_main(void *arg)
{
    negs_pool *p = arg;
    for (;;) {
        if (!spin(p, job_or_stop, 0)) {
            pthread_mutex_lock(&p->mu);
            /* counted before the check: a caller that publishes after it sees the count */
            atomic_fetch_add(&p->sleepers, 1);
            while (!job_or_stop(p, 0)) pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stop)) return NULL;
        work(p);
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
    atomic_init(&p->claim, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_sleeps, 0);
    atomic_init(&p->stop, 0);
    if (threads == 1) return p;
    p->workers = negs_alloc_array(threads - 1, sizeof *p->workers, "thread pool workers");
    if (!p->workers) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->finished, NULL);
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
        atomic_store(&p->stop, 1);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
        for (unsigned i = 0; i < p->started; i++) pthread_join(p->workers[i], NULL);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->wake);
        pthread_cond_destroy(&p->finished);
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
    if (!p || p->threads == 1 || p->started == 0 || n_parts <= 1 || n_parts > 0xffffffffu) {
        for (size_t i = 0; i < n_parts; i++) fn(ctx, i, n_parts);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->done, 0);
    atomic_store(&p->claim, (uint64_t)n_parts << 32); /* published: parts can be claimed */
    if (atomic_load(&p->sleepers)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }
    work(p);
    if (job_finished(p, n_parts) || spin(p, job_finished, n_parts)) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_sleeps, 1); /* before the check: the last finisher sees it */
    while (!job_finished(p, n_parts)) pthread_cond_wait(&p->finished, &p->mu);
    atomic_store(&p->caller_sleeps, 0);
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
