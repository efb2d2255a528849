/* The weight build's bulk log and exp (sampler_logexp.c): vectorised where the CPU allows,
 * with exactly libm's results. */
#ifndef NEGS_SAMPLER_LOGEXP_H
#define NEGS_SAMPLER_LOGEXP_H

#include <stdint.h>

#include "core/cpu.h"

/* lw[i] = (float)log(x[i]) for x[i] > 0, -inf for x[i] = 0, for the weights of set_weights.
 * Returns the index of the first weight that is not finite and non-negative (lw is then
 * partly written), else n with *lo, *hi the least and largest lw of the positive weights (+inf
 * and -inf if none) and *sum the weights' sum (its finiteness that of the sum in item order).
 * cpu: NEGS_CPU_* bits (negs_cpu_features). */
uint32_t sp_log_weights(unsigned cpu, const double *x, uint32_t n, float *lw, double *lo,
                        double *hi, double *sum);

/* What the alias build needs besides w, in item order. */
typedef struct sp_expw_sums {
    double total;   /* the sum of w in item order */
    uint32_t n_pos; /* items with w > 0 */
    uint32_t any_pos; /* the last of them (0 if none) */
} sp_expw_sums;

/* w[i] = exp(alpha lw[i] - mx) (0 for lw[i] = -inf), the same doubles as libm's exp. */
void sp_exp_weights(unsigned cpu, const float *lw, uint32_t n, double alpha, double mx, double *w,
                    sp_expw_sums *r);

#endif
