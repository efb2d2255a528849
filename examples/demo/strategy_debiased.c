/* The "debiased" strategy: inbatch-logq whose softmax is the debiased contrastive loss of
 * Chuang et al. (NeurIPS 2020), NEGS_LP_TAU_PLUS = tau+ (the chance that an in-batch negative
 * is in fact a positive of the user). Everything else is inbatch-logq's. */
#include "demo.h"

/* From the validation sweep (examples/demo/sweep.py, docs/results.md); --tau-plus sets it. */
double debiased_tau_plus = 0.01;

int debiased_setup(negs_loss *loss)
{
    return negs_loss_set_param(loss, NEGS_LP_TAU_PLUS, debiased_tau_plus);
}
