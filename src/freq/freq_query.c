/* negs_freq queries: per-example probability, its log, and log P(in a batch), for uint64 and
 * uint32 ids. Read-only: ids are hashed into a local array, never into the handle's workspace. */
#include <float.h>
#include <math.h>

#include "core/errors.h"
#include "freq_internal.h"

int negs_freq_query_begin(const negs_freq *f, const void *ids, size_t n, const void *out,
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
    /* A loaded or merged rate may be any finite value: the floor stays a normal float, so p is
     * never 0 and log q never -inf. */
    if (q->qmin < FLT_MIN) q->qmin = FLT_MIN;
    return NEGS_OK;
}

static inline double freq_p(const negs_freq *f, const negs_freq_query *q, uint64_t id)
{
    size_t off[NEGS_FREQ_MAX_HASHES];
    negs_freq_hash_ids(f, &id, NULL, 0, 0, 1, off, 1, 1);
    return negs_freq_p_at(f, q, off, 1);
}

enum { QUERY_P, QUERY_LOG, QUERY_LOG_BATCH };

static int query(const negs_freq *f, const uint64_t *ids64, const uint32_t *ids32, size_t n,
                 int what, size_t batch_size, float *out, const char *func)
{
    negs_freq_query q;
    const void *ids = ids64 ? (const void *)ids64 : (const void *)ids32;
    int st = negs_freq_query_begin(f, ids, n, out, func, &q);
    if (st) return st;
    if (what == QUERY_P) {
        for (size_t i = 0; i < n; i++) out[i] = (float)freq_p(f, &q, negs_freq_id(ids64, ids32, i));
    } else if (what == QUERY_LOG) {
        for (size_t i = 0; i < n; i++)
            out[i] = (float)log(freq_p(f, &q, negs_freq_id(ids64, ids32, i)));
    } else {
        if (batch_size == 0) return negs_fail(NEGS_E_INVALID, "%s: batch_size = 0 must be >= 1", func);
        double b = (double)batch_size;
        for (size_t i = 0; i < n; i++) {
            /* 1 - (1-p)^b = -expm1(b * log1p(-p)): exact for tiny p, and p = 1 gives log 1 = 0. */
            double p = freq_p(f, &q, negs_freq_id(ids64, ids32, i));
            out[i] = (float)log(-expm1(b * log1p(-p)));
        }
    }
    return NEGS_OK;
}

NEGS_API int negs_freq_prob(const negs_freq *f, const uint64_t *ids, size_t n, float *out_p)
{
    return query(f, ids, NULL, n, QUERY_P, 0, out_p, "negs_freq_prob");
}

NEGS_API int negs_freq_prob_u32(const negs_freq *f, const uint32_t *ids, size_t n, float *out_p)
{
    return query(f, NULL, ids, n, QUERY_P, 0, out_p, "negs_freq_prob_u32");
}

NEGS_API int negs_freq_logq(const negs_freq *f, const uint64_t *ids, size_t n, float *out_logq)
{
    return query(f, ids, NULL, n, QUERY_LOG, 0, out_logq, "negs_freq_logq");
}

NEGS_API int negs_freq_logq_u32(const negs_freq *f, const uint32_t *ids, size_t n, float *out_logq)
{
    return query(f, NULL, ids, n, QUERY_LOG, 0, out_logq, "negs_freq_logq_u32");
}

NEGS_API int negs_freq_logq_batch(const negs_freq *f, const uint64_t *ids, size_t n,
                                  size_t batch_size, float *out_logq)
{
    return query(f, ids, NULL, n, QUERY_LOG_BATCH, batch_size, out_logq, "negs_freq_logq_batch");
}

NEGS_API int negs_freq_logq_batch_u32(const negs_freq *f, const uint32_t *ids, size_t n,
                                      size_t batch_size, float *out_logq)
{
    return query(f, NULL, ids, n, QUERY_LOG_BATCH, batch_size, out_logq,
                 "negs_freq_logq_batch_u32");
}
