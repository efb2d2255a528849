/* NEGS_PRECISION_BF16 for the in-batch softmax: the rows the products read, rounded to bf16
 * into a buffer of the workspace. The passes then read these rows for the logits and for both
 * gradient products (du = G V, dv = G^T U), so the gradients are exactly those of the loss at
 * the rounded rows, computed in fp32 (docs/inbatch.md gives the bound against fp32). */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "inbatch.h"
#include "kernels/kernels_bf16.h"

static int rounds_to_inf(const char *fn, const char *side, const float *x, size_t at,
                         size_t dim)
{
    return negs_fail(NEGS_E_INVALID, "%s: %s row %zu, entry %zu = %g rounds to Inf in bf16 "
                     "(NEGS_LP_PRECISION = NEGS_PRECISION_BF16 needs |x| below 3.3961e38)",
                     fn, side, at / dim, at % dim, (double)x[at]);
}

int negs_ib_bf16_rows(negs_loss *l, const char *fn, const float *u, size_t b, const float *v,
                      size_t n, size_t dim, const float **ru, const float **rv)
{
    negs_ib_ws *w = l->ws; /* made by negs_ib_ws_reserve */
    size_t nu = b * dim, nv = n * dim; /* no overflow: the call's sizes are checked */
    if (nu + nv > w->bf16_cap) {
        float *p = negs_alloc_array(nu + nv, sizeof *p, "in-batch bf16 rows");
        if (!p) return NEGS_E_NOMEM;
        free(w->bf16);
        w->bf16 = p;
        w->bf16_cap = nu + nv;
    }
    size_t at = negs_bf16_round_array(u, nu, w->bf16);
    if (at < nu) return rounds_to_inf(fn, "u", u, at, dim);
    at = negs_bf16_round_array(v, nv, w->bf16 + nu);
    if (at < nv) return rounds_to_inf(fn, "v", v, at, dim);
    *ru = w->bf16;
    *rv = w->bf16 + nu;
    return NEGS_OK;
}
