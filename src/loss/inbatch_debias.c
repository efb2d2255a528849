/* Pass-1 and row-end pieces of the debiased in-batch softmax (see inbatch_debias.h). */
#include <math.h>

#include "debias.h"
#include "inbatch_debias.h"

uint32_t negs_ib_debias_tile(float *z, size_t cw, size_t t)
{
    uint32_t live = 0;
    for (size_t q = 0; q < cw; q++) live += z[q] > -INFINITY;
    if (t < cw) {
        live -= 1; /* the target is never masked */
        z[t] = -INFINITY;
    }
    return live;
}

void negs_ib_debias_finish(double tau, double lfloor, float coef, float m, double lsum, float zt,
                           uint32_t live, double *loss, float *w, float *tg)
{
    negs_debias_out o;
    negs_debias_row((double)zt, (double)m, lsum, live, lfloor, tau, &o);
    *loss = o.loss;
    *w = (float)((double)coef * o.gn);
    *tg = (float)((double)coef * o.gp);
}
