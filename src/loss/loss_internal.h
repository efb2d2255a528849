/* The negs_loss handle, shared by the score-level losses and the fused in-batch softmax. */
#ifndef NEGS_LOSS_INTERNAL_H
#define NEGS_LOSS_INTERNAL_H

#include "negsample.h"
#include "core/pool.h"

struct negs_loss {
    int kind;               /* NEGS_LOSS_* */
    double temperature;     /* > 0, default 1 */
    double margin;          /* hinge margin, default 1 */
    int reduction;          /* NEGS_REDUCE_* */
    unsigned threads;       /* >= 1 */
    negs_pool *pool;        /* threads - 1 workers; NULL when threads == 1 */
    const negs_csr *positives; /* retained; NULL when not set */
    unsigned cpu;           /* NEGS_CPU_* bits detected at creation */
    int force_scalar;       /* NEGS_LP_FORCE_SCALAR */
    int cosine;             /* NEGS_LP_COSINE: scores on L2-normalised rows */
    double tau_plus;        /* NEGS_LP_TAU_PLUS: debiased softmax's class prior, 0 = off */
    int precision;          /* NEGS_LP_PRECISION: NEGS_PRECISION_* of the in-batch products */
    /* negs_loss_set_telemetry: t hardest live negatives per row into the caller's buffers
     * (t = 0: off), and the last in-batch call's masked pairs */
    uint32_t tel_t;
    size_t tel_rows;
    uint32_t *tel_cols;
    float *tel_logits;
    uint64_t tel_hits, tel_known;
    /* Workspace of the fused in-batch softmax, kept between calls so that repeated calls of
     * the same shape never allocate; freed by ws_free in negs_loss_free. */
    void *ws;
    void (*ws_free)(void *ws);
    /* Workspace of the indexed score-level losses (scores, their gradients, inverse norms),
     * grown on demand so that calls of a shape seen before never allocate. */
    float *sx_buf;
    size_t sx_cap; /* floats */
};

/* The instruction set the kernels of this handle use: NEGS_CPU_* bits, 0 for scalar. */
static inline unsigned negs_loss_isa(const negs_loss *l)
{
    return l->force_scalar ? 0u : l->cpu;
}

#endif
