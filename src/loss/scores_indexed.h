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

/* Slots are prefetched this many ahead: the rows are read at random from tables far larger
 * than the caches, so the loads would otherwise wait for memory one row at a time. */
#define NEGS_SX_AHEAD 6

#if defined(__GNUC__)
#define NEGS_SX_PREFETCH(p, rw) __builtin_prefetch((p), (rw), 3)
#else
#define NEGS_SX_PREFETCH(p, rw) ((void)(p))
#endif

/* Prefetches the dim floats at x (rw 1: about to be written). */
static inline void negs_sx_prefetch_row(const float *x, size_t dim, int rw)
{
    const char *b = (const char *)x;
    for (size_t o = 0; o < dim * sizeof(float); o += 64) {
        if (rw) NEGS_SX_PREFETCH(b + o, 1);
        else NEGS_SX_PREFETCH(b + o, 0);
    }
}

/* The table row index of slot t (0: the positive, 1 + j: negative j) of row i, advanced by
 * `ahead` slots across row ends; -1 past the last row or in a masked slot. */
static inline int64_t negs_sx_slot_ahead(const struct negs_sx_call *c, size_t i, uint32_t t,
                                         size_t ahead)
{
    size_t tt = t + ahead;
    i += tt / ((size_t)c->k + 1);
    tt %= (size_t)c->k + 1;
    if (i >= c->n) return -1;
    if (!tt) return c->pi[i];
    const size_t e = i * c->k + tt - 1;
    return c->mask && c->mask[e] ? -1 : (int64_t)c->ni[e];
}

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
