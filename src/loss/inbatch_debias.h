/* The debiased contrastive loss (NEGS_LP_TAU_PLUS > 0) inside the fused in-batch softmax:
 * pass 1 sums the row's live negatives without its target and counts them; the row's end
 * turns the sums into its loss and its two gradient weights (debias.h). */
#ifndef NEGS_LOSS_INBATCH_DEBIAS_H
#define NEGS_LOSS_INBATCH_DEBIAS_H

#include <stddef.h>
#include <stdint.h>

/* For one row's tile of cw logits: the number of live (> -inf) ones other than lane `t`
 * (the target's lane, or >= cw when the target is in another tile); sets z[t] to -inf so that
 * the tile's sum holds the negatives only. */
uint32_t negs_ib_debias_tile(float *z, size_t cw, size_t t);

/* The row's end. m: its running max; lsum: sum of e^(z_j - m) over its `live` negatives; zt:
 * its target's logit; coef: reduction scale / temperature. Writes the row's loss, the weight
 * w of its negatives (coef dloss/dz_j = w e^(z_j - m); 0 at the floor) and the target's
 * tg = coef dloss/dz_target. */
void negs_ib_debias_finish(double tau, double lfloor, float coef, float m, double lsum, float zt,
                           uint32_t live, double *loss, float *w, float *tg);

#endif
