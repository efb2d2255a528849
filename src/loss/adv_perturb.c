/* negs_adv_perturb: the adversarial perturbation of APR (He et al., SIGIR 2018), per row
 * delta = eps * g / ||g||_2. Norms are accumulated in double; see docs/losses.md. */
#include <math.h>
#include <stddef.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "negsample.h"

NEGS_API int negs_adv_perturb(size_t n, size_t dim, const float *grad, float eps,
                              float *out_delta)
{
    static const char fn[] = "negs_adv_perturb";
    int st = negs_check_ptr(grad, fn, "grad");
    if (!st) st = negs_check_ptr(out_delta, fn, "out_delta");
    if (st) return st;
    if (n == 0) return negs_fail(NEGS_E_INVALID, "negs_adv_perturb: n = 0 rows");
    if (dim == 0) return negs_fail(NEGS_E_INVALID, "negs_adv_perturb: dim = 0");
    if (!isfinite(eps))
        return negs_fail(NEGS_E_INVALID, "negs_adv_perturb: eps = %g is not finite", (double)eps);
    size_t total;
    st = negs_size_mul(n, dim, &total, "negs_adv_perturb: n * dim");
    if (st) return st;
    /* Validate everything before writing, so a failed call leaves out_delta untouched (and
     * out_delta may alias grad). */
    st = negs_check_finite_f(grad, total, fn, "grad");
    if (st) return st;

    for (size_t i = 0; i < n; i++) {
        const float *g = grad + i * dim;
        float *d = out_delta + i * dim;
        double ss = 0.0;
        for (size_t j = 0; j < dim; j++) ss += (double)g[j] * (double)g[j];
        if (ss == 0.0) {
            for (size_t j = 0; j < dim; j++) d[j] = 0.0f;
            continue;
        }
        /* ss cannot overflow: dim * FLT_MAX^2 stays far below DBL_MAX for any dim. */
        const double scale = (double)eps / sqrt(ss);
        for (size_t j = 0; j < dim; j++) d[j] = (float)((double)g[j] * scale);
    }
    return NEGS_OK;
}
