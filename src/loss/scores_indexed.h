/* The indexed score-level losses: one call's view of the caller's tables and of the
 * workspace, shared by the forward pass (scores_indexed.c) and the gradient routing
 * (scores_indexed_grad.c). */
#ifndef NEGS_LOSS_SCORES_INDEXED_H
#define NEGS_LOSS_SCORES_INDEXED_H

#include <stddef.h>
#include <stdint.h>

#include "core/pool.h"
#include "kernels/kernels.h"

struct negs_sx_call {
    const negs_kernels *kn;
    size_t n;
    uint32_t k;
    size_t dim;
    const float *ue, *ie;       /* the user and item tables, rows of dim floats */
    const uint32_t *ui, *pi, *ni; /* user_idx (n), pos_idx (n), neg_idx (n*k) */
    const uint8_t *mask;        /* n*k or NULL */
    int cosine;
    /* workspace */
    float *pos, *neg;   /* scores: n, n*k (0 in masked slots) */
    float *dpos, *dneg; /* gradients of the reduced loss with respect to the scores */
    float *iu;          /* cosine: 1 / ||user row||, n */
    float *iv;          /* cosine: 1 / ||item row||, n for the positives then n*k */
};

/* d_user_emb[user_idx[i]] and d_item_emb[pos_idx[i] / neg_idx[e]] += the rows' gradients,
 * each table row receiving its contributions in row order (positive, then negatives in slot
 * order) whatever the thread count. Either table may be NULL (skipped). */
void negs_sx_scatter_tables(const struct negs_sx_call *c, negs_pool *pool, unsigned threads,
                            float *d_user_emb, float *d_item_emb);

/* d_user_rows[i], d_pos_rows[i], d_neg_rows[e] = the gradient of each gathered row (zero in
 * masked slots). Any may be NULL (skipped). */
void negs_sx_write_rows(const struct negs_sx_call *c, negs_pool *pool, unsigned threads,
                        float *d_user_rows, float *d_pos_rows, float *d_neg_rows);

#endif
