/* negs_mixed_logq: the log q of the columns of mixed negatives (b in-batch + m shared sampled
 * columns). A column's item is expected b p_j times among the in-batch columns (p_j = the
 * estimator's per-example probability) and m q_j times among the shared ones (q_j = the
 * sampler's per-draw probability), so its correction is log(b p_j + m q_j) = logaddexp(log b
 * + log p_j, log m + log q_j). Stateless. */
#include <math.h>

#include "core/errors.h"
#include "negsample.h"

NEGS_API int negs_mixed_logq(size_t b, size_t m, const float *logp, const float *logq_shared,
                             float *out_logq)
{
    static const char *fn = "negs_mixed_logq";
    int st = negs_check_ptr(logp, fn, "logp");
    if (!st) st = negs_check_ptr(logq_shared, fn, "logq_shared");
    if (!st) st = negs_check_ptr(out_logq, fn, "out_logq");
    if (st) return st;
    if (b == 0) return negs_fail(NEGS_E_INVALID, "%s: b is 0 (no in-batch columns)", fn);
    size_t n = b + m;
    if (n < b) return negs_fail(NEGS_E_INVALID, "%s: b + m overflows", fn);
    for (size_t j = 0; j < n; j++) {
        if (isnan(logp[j]) || logp[j] == INFINITY)
            return negs_fail(NEGS_E_INVALID, "%s: logp[%zu] = %g is not a log probability", fn, j,
                             (double)logp[j]);
        if (isnan(logq_shared[j]) || logq_shared[j] == INFINITY)
            return negs_fail(NEGS_E_INVALID, "%s: logq_shared[%zu] = %g is not a log expected count",
                             fn, j, (double)logq_shared[j]);
    }
    double lb = log((double)b);
    for (size_t j = 0; j < n; j++) {
        double x = lb + (double)logp[j], y = (double)logq_shared[j];
        double hi = x > y ? x : y, lo = x > y ? y : x;
        out_logq[j] = hi == -INFINITY ? -INFINITY : (float)(hi + log1p(exp(lo - hi)));
    }
    return NEGS_OK;
}
