/* The debiased contrastive estimator of Chuang et al. (NeurIPS 2020) for one row, shared by
 * negs_loss_scores (SOFTMAX) and the fused in-batch softmax. docs/losses.md states it. */
#ifndef NEGS_LOSS_DEBIAS_H
#define NEGS_LOSS_DEBIAS_H

#include <stdint.h>

/* One row's loss and its gradients with respect to the logits. */
typedef struct negs_debias_out {
    double loss; /* -log(e^zp / (e^zp + N Ng)) */
    double gp;   /* dloss / dzp */
    double gn;   /* dloss / dz_j = gn * e^(z_j - m) for every live negative j (0 when clamped) */
} negs_debias_out;

/* zp: the positive's logit; m: any finite shift (the caller's running max); s: the sum over
 * the row's n live negatives of e^(z_j - m); lfloor: log of the floor of Ng (-1/T); tau: the
 * class prior tau+ in (0, 1). Ng = max((s e^m / n - tau e^zp) / (1 - tau), e^lfloor). A row
 * without a live negative (n = 0) has loss 0 and zero gradients. */
void negs_debias_row(double zp, double m, double s, uint64_t n, double lfloor, double tau,
                     negs_debias_out *out);

#endif
