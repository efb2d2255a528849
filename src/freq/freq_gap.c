/* GAP (Yi et al., RecSys 2019): per hashed cell, the step of the last sighting and an EMA of
 * the gaps between sightings, plus an EMA of the occurrences per sighting so that ids repeated
 * within a batch are counted without ever producing a gap of 0. */
#include <math.h>

#include "freq_internal.h"

/* The update goes row by row over a chunk of hashed ids: rows are independent, and one row's
 * table is half the footprint (at H = 2^16 and m = 2 it stays in a 1 MiB L2). Cells are
 * prefetched NEGS_FREQ_AHEAD ids ahead for tables that do not fit in any cache. */

static inline void gap_touch(negs_gap_cell *c, uint64_t step, float alpha, uint64_t max_gap)
{
    if (c->count == 0.0f) { /* first sighting: no gap yet, count this occurrence exactly */
        c->last = step;
        c->gap = 0.0f;
        c->count = 1.0f;
        return;
    }
    if (c->last == step) { /* again in the same step's batch: a count, not a gap of 0 */
        c->count += c->gap == 0.0f ? 1.0f : alpha;
        return;
    }
    uint64_t d = step - c->last;
    d = d < max_gap ? d : max_gap; /* <= 2^50: a signed conversion is exact and cheap */
    float g = (float)(int64_t)d;
    /* The first observed gap starts the EMA, so the EMA has no bias toward an initial value. */
    /* Convex combinations of values >= 1; the max only guards the invariant (B, C >= 1 once
     * set, checked on load) against rounding. */
    float b = c->gap == 0.0f ? g : c->gap + alpha * (g - c->gap);
    float k = c->count + alpha * (1.0f - c->count);
    c->gap = b > 1.0f ? b : 1.0f;
    c->count = k > 1.0f ? k : 1.0f;
    c->last = step;
}

static void gap_touch_row(negs_gap_cell *cells, const size_t *off, size_t len, uint64_t step,
                          float alpha, uint64_t max_gap)
{
    for (size_t i = 0; i < len; i++) {
#if defined(__GNUC__)
        __builtin_prefetch(cells + off[i + NEGS_FREQ_AHEAD], 1, 3);
#endif
        gap_touch(cells + off[i], step, alpha, max_gap);
    }
}

void negs_gap_update_ws(negs_freq *f, uint64_t step, size_t at, size_t len)
{
    const float alpha = (float)f->alpha;
    const uint64_t max_gap = (uint64_t)f->max_gap; /* gaps are whole steps */
    for (uint32_t j = 0; j < f->hashes; j++)
        gap_touch_row(f->cells, f->ws + j * f->ws_stride + at, len, step, alpha, max_gap);
}

double negs_gap_p(const negs_freq *f, const negs_freq_query *q, const size_t *off, size_t stride)
{
    /* Each row gives an expected count per step (occurrences per sighting / gap); collisions
     * only raise it, so the smallest row is the best (the paper's max of the gaps). */
    double lam = INFINITY;
    for (uint32_t j = 0; j < f->hashes; j++) {
        const negs_gap_cell *c = f->cells + off[j * stride];
        double l;
        if (c->count == 0.0f) {
            l = 1.0 / f->max_gap;
        } else {
            double g;
            if (c->gap == 0.0f) {
                g = q->span; /* seen at one step only: once in the whole stream so far */
            } else {
                /* The gap still open now: a mean gap g makes an open gap x this long with
                 * probability about exp(-x/g), so x is only taken as evidence once that drops
                 * below 1%: the smallest mean gap consistent with it is x / ln 100. */
                g = c->gap;
                double open = (double)(f->last_step - c->last) / NEGS_FREQ_OPEN_GAP_LOG;
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
