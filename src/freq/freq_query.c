/* negs_freq queries: per-example probability, its log, and log P(in a batch). Read-only. */
#include <math.h>

#include "core/errors.h"
#include "freq_internal.h"

/* Validates a query and fills its context. */
static int query_begin(const negs_freq *f, const uint64_t *ids, size_t n, const void *out,
                       const char *func, negs_freq_query *q)
{
    int st = negs_check_ptr(f, func, "f");
    if (st) return st;
    if (n > 0 && !ids) return negs_fail(NEGS_E_INVALID, "%s: ids is NULL but n = %zu", func, n);
    if (n > 0 && !out) return negs_fail(NEGS_E_INVALID, "%s: the output is NULL but n = %zu", func, n);
    if (!f->has_data || f->total_ids == 0)
        return negs_fail(NEGS_E_STATE, "%s: the estimator has not seen any id yet", func);
    q->now = (double)f->last_step;
    q->span = (double)(f->last_step - f->first_step) + 1.0;
    q->per_step = f->rate > 0.0 ? f->rate : 0x1.0p-1000; /* only empty steps lately */
    q->qmin = 1.0 / (f->max_gap * q->per_step);
    if (q->qmin > 1.0) q->qmin = 1.0;
    return NEGS_OK;
}

static inline double freq_p(const negs_freq *f, const negs_freq_query *q, uint64_t id)
{
    return f->kind == NEGS_FREQ_GAP ? negs_gap_p(f, q, id) : negs_sketch_p(f, q, id);
}

NEGS_API int negs_freq_prob(const negs_freq *f, const uint64_t *ids, size_t n, float *out_p)
{
    negs_freq_query q;
    int st = query_begin(f, ids, n, out_p, "negs_freq_prob", &q);
    if (st) return st;
    for (size_t i = 0; i < n; i++) out_p[i] = (float)freq_p(f, &q, ids[i]);
    return NEGS_OK;
}

NEGS_API int negs_freq_logq(const negs_freq *f, const uint64_t *ids, size_t n, float *out_logq)
{
    negs_freq_query q;
    int st = query_begin(f, ids, n, out_logq, "negs_freq_logq", &q);
    if (st) return st;
    for (size_t i = 0; i < n; i++) out_logq[i] = (float)log(freq_p(f, &q, ids[i]));
    return NEGS_OK;
}

NEGS_API int negs_freq_logq_batch(const negs_freq *f, const uint64_t *ids, size_t n,
                                  size_t batch_size, float *out_logq)
{
    negs_freq_query q;
    int st = query_begin(f, ids, n, out_logq, "negs_freq_logq_batch", &q);
    if (st) return st;
    if (batch_size == 0)
        return negs_fail(NEGS_E_INVALID, "negs_freq_logq_batch: batch_size = 0 must be >= 1");
    double b = (double)batch_size;
    for (size_t i = 0; i < n; i++) {
        /* 1 - (1-p)^b = -expm1(b * log1p(-p)): exact for tiny p, and p = 1 gives log 1 = 0. */
        double p = freq_p(f, &q, ids[i]);
        out_logq[i] = (float)log(-expm1(b * log1p(-p)));
    }
    return NEGS_OK;
}
