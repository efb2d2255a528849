/* The debiased estimator of one row (see debias.h), in double, shifted by the largest of the
 * logits involved so that no exponential overflows. */
#include <math.h>

#include "debias.h"

void negs_debias_row(double zp, double m, double s, uint64_t n, double lfloor, double tau,
                     negs_debias_out *out)
{
    if (n == 0) { /* only the positive: softmax over one logit */
        out->loss = out->gp = out->gn = 0.0;
        return;
    }
    double top = m > zp ? m : zp;
    if (lfloor > top) top = lfloor;
    double sh = exp(m - top), p = exp(zp - top), nd = (double)n;
    /* N Ng, unclamped and at the floor, in units of e^top */
    double x = (s * sh - nd * tau * p) / (1.0 - tau), xf = nd * exp(lfloor - top);
    double d;
    if (x >= xf) { /* the estimate: gradients through the negatives and the positive */
        d = p + x;
        out->gp = p * (1.0 - nd * tau / (1.0 - tau)) / d - 1.0;
        out->gn = sh / ((1.0 - tau) * d);
    } else { /* clamped at N e^lfloor: a constant, no gradient to the negatives */
        d = p + xf;
        out->gp = p / d - 1.0;
        out->gn = 0.0;
    }
    out->loss = log(d) - (zp - top);
}
