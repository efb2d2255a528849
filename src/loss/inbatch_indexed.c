/* negs_loss_inbatch_indexed and _indexed_rows: the fused in-batch softmax on rows of the
 * caller's user and item tables, read by index. The rows are copied into the handle's
 * workspace (normalised with NEGS_LP_COSINE) and go through exactly the passes of
 * negs_loss_inbatch, so the numbers are those of gather + negs_loss_inbatch. The table row
 * indices are the ids: item_idx masks the accidental hits, and with known positives set,
 * user_idx selects each row's user. */
#include <string.h>

#include "core/errors.h"
#include "inbatch.h"

static int indexed(negs_loss *l, const char *fn, size_t b, size_t m, size_t dim,
                   const float *user_emb, uint32_t n_users, const float *item_emb,
                   uint32_t n_items, const uint32_t *user_idx, const uint32_t *item_idx,
                   const float *logq, float *loss, int to_tables, float *g_user, float *g_item)
{
    int st = negs_check_ptr(user_emb, fn, "user_emb");
    if (!st) st = negs_check_ptr(item_emb, fn, "item_emb");
    if (!st) st = negs_check_ptr(user_idx, fn, "user_idx");
    if (!st) st = negs_check_ptr(item_idx, fn, "item_idx");
    if (st) return st;
    negs_ib_call a;
    memset(&a, 0, sizeof a);
    a.fn = fn;
    a.b = b;
    a.m = m;
    a.dim = dim;
    a.user_emb = user_emb;
    a.item_emb = item_emb;
    a.n_users = n_users;
    a.n_items = n_items;
    a.user_idx = user_idx;
    a.item_idx = item_idx;
    a.logq = logq;
    a.item_ids = item_idx;
    a.user_ids = l && l->positives ? user_idx : NULL;
    a.loss = loss;
    a.to_tables = to_tables;
    if (to_tables) {
        a.d_user_emb = g_user;
        a.d_item_emb = g_item;
    } else {
        a.du = g_user;
        a.dv = g_item;
    }
    return negs_ib_run(l, &a);
}

NEGS_API int negs_loss_inbatch_indexed(negs_loss *l, size_t b, size_t m, size_t dim,
                                       const float *user_emb, uint32_t n_users,
                                       const float *item_emb, uint32_t n_items,
                                       const uint32_t *user_idx, const uint32_t *item_idx,
                                       const float *logq, float *loss, float *d_user_emb,
                                       float *d_item_emb)
{
    return indexed(l, "negs_loss_inbatch_indexed", b, m, dim, user_emb, n_users, item_emb,
                   n_items, user_idx, item_idx, logq, loss, 1, d_user_emb, d_item_emb);
}

NEGS_API int negs_loss_inbatch_indexed_rows(negs_loss *l, size_t b, size_t m, size_t dim,
                                            const float *user_emb, uint32_t n_users,
                                            const float *item_emb, uint32_t n_items,
                                            const uint32_t *user_idx, const uint32_t *item_idx,
                                            const float *logq, float *loss, float *du_rows,
                                            float *dv_rows)
{
    return indexed(l, "negs_loss_inbatch_indexed_rows", b, m, dim, user_emb, n_users, item_emb,
                   n_items, user_idx, item_idx, logq, loss, 0, du_rows, dv_rows);
}
