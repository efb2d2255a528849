/* GAP (Yi et al., RecSys 2019): per hashed cell, the step of the last sighting and an EMA of
 * the gaps between sightings, plus an EMA of the occurrences per sighting so that ids repeated
 * within a batch are counted without ever producing a gap of 0. */
#include <math.h>

#include "freq_internal.h"

/* Ids are hashed one chunk ahead of their update so that the cells of the next chunk are
 * already on their way from memory (matters once the tables outgrow the caches). */
#define GAP_CHUNK 16u

static inline void gap_touch(negs_gap_cell *c, uint64_t step, double alpha, double max_gap)
{
    if (c->count == 0.0f) { /* first sighting: no gap yet, count this occurrence exactly */
        c->last = step;
        c->gap = 0.0f;
        c->count = 1.0f;
        return;
    }
    if (c->last == step) { /* again in the same step's batch: a count, not a gap of 0 */
        c->count += c->gap == 0.0f ? 1.0f : (float)alpha;
        return;
    }
    double g = (double)(step - c->last);
    if (g > max_gap) g = max_gap;
    /* The first observed gap starts the EMA, so the EMA has no bias toward an initial value. */
    double b = c->gap == 0.0f ? g : c->gap + alpha * (g - c->gap);
    c->gap = (float)b;
    c->count = (float)(c->count + alpha * (1.0 - c->count));
    c->last = step;
}

static void gap_locate(const negs_freq *f, const uint64_t *ids, size_t len, negs_gap_cell **ptr)
{
    const uint32_t m = f->hashes;
    for (size_t i = 0; i < len; i++)
        for (uint32_t j = 0; j < m; j++) {
            negs_gap_cell *c = f->cells + (size_t)j * f->buckets + negs_freq_bucket(f, j, ids[i]);
#if defined(__GNUC__)
            __builtin_prefetch(c, 1, 1);
#endif
            ptr[i * m + j] = c;
        }
}

void negs_gap_update(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n)
{
    negs_gap_cell *ring[2][GAP_CHUNK * NEGS_FREQ_MAX_HASHES];
    const uint32_t m = f->hashes;
    const double alpha = f->alpha, max_gap = f->max_gap;
    if (n == 0) return;
    size_t len = n < GAP_CHUNK ? n : GAP_CHUNK;
    gap_locate(f, ids, len, ring[0]);
    for (size_t base = 0, k = 0; base < n; base += GAP_CHUNK, k ^= 1) {
        size_t cur = n - base < GAP_CHUNK ? n - base : GAP_CHUNK;
        size_t next = base + GAP_CHUNK;
        if (next < n) gap_locate(f, ids + next, n - next < GAP_CHUNK ? n - next : GAP_CHUNK,
                                 ring[k ^ 1]);
        negs_gap_cell **p = ring[k];
        for (size_t i = 0; i < cur * m; i++) gap_touch(p[i], step, alpha, max_gap);
    }
}

double negs_gap_p(const negs_freq *f, const negs_freq_query *q, uint64_t id)
{
    /* Each row gives an expected count per step (occurrences per sighting / gap); collisions
     * only raise it, so the smallest row is the best (the paper's max of the gaps). */
    double lam = INFINITY;
    for (uint32_t j = 0; j < f->hashes; j++) {
        const negs_gap_cell *c = f->cells + (size_t)j * f->buckets + negs_freq_bucket(f, j, id);
        double l;
        if (c->count == 0.0f) {
            l = 1.0 / f->max_gap;
        } else {
            double g;
            if (c->gap == 0.0f) {
                g = q->span; /* seen at one step only: once in the whole stream so far */
            } else {
                g = c->gap;
                double open = (double)(f->last_step - c->last); /* the gap still open now */
                if (open > g) g = open;
            }
            if (g > f->max_gap) g = f->max_gap;
            if (g < 1.0) g = 1.0;
            l = c->count / g;
        }
        if (l < lam) lam = l;
    }
    double p = lam / q->per_step;
    if (p < q->qmin) p = q->qmin;
    return p > 1.0 ? 1.0 : p;
}
