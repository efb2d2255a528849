/* Indexed score-level losses for dot-product models (negs_loss_scores_indexed and
 * negs_loss_scores_indexed_rows): rows of the caller's user and item tables are read by index,
 * scored with the kernels' dot product (as cosines with NEGS_LP_COSINE), the same job as
 * negs_loss_scores runs on those scores, and the score gradients are routed back to the rows.
 * docs/losses.md states the contract. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "core/pool.h"
#include "kernels/kernels.h"
#include "loss/loss_internal.h"
#include "loss/scores.h"
#include "loss/scores_indexed.h"

/* Rows are scored in at most this many parts (whole rows each); which part reports a bad row
 * first only decides the sentence, and the first in row order always wins. */
#define SX_MAX_PARTS 256

enum { SX_OK = 0, SX_BAD_USER_NORM, SX_BAD_ITEM_NORM, SX_BAD_SCORE };

static int sx_masked(const struct negs_sx_call *c, size_t e)
{
    return c->mask && c->mask[e];
}

/* 1 / ||x||_2 with the norm in double; 0 when the norm is below 1e-30 or not finite. */
static float sx_inv_norm(const float *x, size_t dim)
{
    double s = 0.0;
    for (size_t d = 0; d < dim; d++) s += (double)x[d] * (double)x[d];
    const double nr = sqrt(s);
    return nr >= 1e-30 && isfinite(nr) ? (float)(1.0 / nr) : 0.0f;
}

struct sx_score_job {
    struct negs_sx_call *c;
    size_t rows_per_part;
    size_t bad_row[SX_MAX_PARTS];
    uint32_t bad_slot[SX_MAX_PARTS]; /* 0: the positive, 1 + j: negative j */
    int bad_what[SX_MAX_PARTS];
};

/* Scores row i (and its inverse norms with cosine); returns SX_OK or what failed, at *slot. */
static int sx_score_row(struct negs_sx_call *c, size_t i, uint32_t *slot)
{
    const size_t dim = c->dim, k = c->k;
    const float *u = c->ue + (size_t)c->ui[i] * dim;
    float iu = 1.0f;
    *slot = 0;
    if (c->cosine) {
        iu = sx_inv_norm(u, dim);
        if (iu == 0.0f) return SX_BAD_USER_NORM;
        c->iu[i] = iu;
    }
    for (uint32_t t = 0; t <= k; t++) {
        const size_t e = i * k + t - 1; /* the negative's slot, when t >= 1 */
        *slot = t;
        if (t && sx_masked(c, e)) {
            c->neg[e] = 0.0f;
            if (c->cosine) c->iv[c->n + e] = 0.0f;
            continue;
        }
        const int64_t next = negs_sx_slot_ahead(c, i, t, NEGS_SX_AHEAD);
        if (next >= 0) negs_sx_prefetch_row(c->ie + (size_t)next * dim, dim, 0);
        if (t == k && i + 1 < c->n)
            negs_sx_prefetch_row(c->ue + (size_t)c->ui[i + 1] * dim, dim, 0);
        const float *v = c->ie + (size_t)(t ? c->ni[e] : c->pi[i]) * dim;
        float s = c->kn->dot(u, v, dim);
        if (c->cosine) {
            const float iv = sx_inv_norm(v, dim);
            if (iv == 0.0f) return SX_BAD_ITEM_NORM;
            c->iv[t ? c->n + e : i] = iv;
            s = s * iu * iv;
        }
        if (!isfinite(s)) return SX_BAD_SCORE;
        if (t) c->neg[e] = s;
        else c->pos[i] = s;
    }
    return SX_OK;
}

static void sx_score_part(void *ctx, size_t part, size_t n_parts)
{
    struct sx_score_job *jb = ctx;
    struct negs_sx_call *c = jb->c;
    (void)n_parts;
    const size_t r0 = part * jb->rows_per_part;
    const size_t r1 = c->n - r0 < jb->rows_per_part ? c->n : r0 + jb->rows_per_part;
    jb->bad_what[part] = SX_OK;
    for (size_t i = r0; i < r1; i++) {
        uint32_t slot;
        int what = sx_score_row(c, i, &slot);
        if (what != SX_OK) {
            jb->bad_row[part] = i;
            jb->bad_slot[part] = slot;
            jb->bad_what[part] = what;
            return;
        }
    }
}

static int sx_report(const struct negs_sx_call *c, const char *fn, size_t i, uint32_t t,
                     int what)
{
    const uint32_t user = c->ui[i], item = t ? c->ni[i * c->k + t - 1] : c->pi[i];
    char where[64];
    if (t) snprintf(where, sizeof where, "negative %u", (unsigned)(t - 1));
    else snprintf(where, sizeof where, "positive");
    if (what == SX_BAD_USER_NORM)
        return negs_fail(NEGS_E_INVALID,
                         "%s: cosine: user_emb row %u (user_idx[%zu]) has an L2 norm below "
                         "1e-30 or not finite, so it has no direction",
                         fn, (unsigned)user, i);
    if (what == SX_BAD_ITEM_NORM)
        return negs_fail(NEGS_E_INVALID,
                         "%s: cosine: item_emb row %u (row %zu's %s) has an L2 norm below "
                         "1e-30 or not finite, so it has no direction",
                         fn, (unsigned)item, i, where);
    return negs_fail(NEGS_E_INVALID,
                     "%s: the score of row %zu's %s (user_emb row %u . item_emb row %u) is "
                     "not finite: the rows hold NaN or Inf, or the dot product overflows float",
                     fn, i, where, (unsigned)user, (unsigned)item);
}

/* Index checks, in row order, before anything is computed or written. */
static int sx_check_indices(const struct negs_sx_call *c, const char *fn, uint32_t n_users,
                            uint32_t n_items)
{
    for (size_t i = 0; i < c->n; i++) {
        if (c->ui[i] >= n_users)
            return negs_fail(NEGS_E_INVALID, "%s: user_idx[%zu] = %u is not below n_users = %u",
                             fn, i, (unsigned)c->ui[i], (unsigned)n_users);
        if (c->pi[i] >= n_items)
            return negs_fail(NEGS_E_INVALID, "%s: pos_idx[%zu] = %u is not below n_items = %u",
                             fn, i, (unsigned)c->pi[i], (unsigned)n_items);
        for (uint32_t j = 0; j < c->k; j++) {
            const size_t e = i * c->k + j;
            if (!sx_masked(c, e) && c->ni[e] >= n_items)
                return negs_fail(NEGS_E_INVALID,
                                 "%s: neg_idx[%zu] (row %zu, slot %u) = %u is not below "
                                 "n_items = %u",
                                 fn, e, i, (unsigned)j, (unsigned)c->ni[e], (unsigned)n_items);
        }
    }
    return NEGS_OK;
}

/* Carves the workspace: scores, their gradients and (cosine) inverse norms. */
static int sx_workspace(negs_loss *l, struct negs_sx_call *c, const char *fn)
{
    size_t nk = c->n * c->k, per, total;
    int st = negs_size_add(c->n, nk, &per, fn);          /* one value per row and slot */
    if (!st) st = negs_size_mul(per, c->cosine ? 3 : 2, &total, fn);
    if (!st && c->cosine) st = negs_size_add(total, c->n, &total, fn);
    if (st) return st;
    if (total > l->sx_cap) {
        float *p = negs_alloc_aligned(total, sizeof *p, "indexed loss workspace");
        if (!p) return negs_last_status();
        negs_free_aligned(l->sx_buf);
        l->sx_buf = p;
        l->sx_cap = total;
    }
    float *w = l->sx_buf;
    c->pos = w;
    c->neg = w + c->n;
    c->dpos = w + per;
    c->dneg = c->dpos + c->n;
    c->iu = c->cosine ? w + 2 * per : NULL;
    c->iv = c->cosine ? c->iu + c->n : NULL;
    return NEGS_OK;
}

static int sx_check_args(negs_loss *l, const char *fn, size_t n, uint32_t k, size_t dim,
                         const float *user_emb, uint32_t n_users, const float *item_emb,
                         uint32_t n_items, const uint32_t *user_idx, const uint32_t *pos_idx,
                         const uint32_t *neg_idx, const float *loss)
{
    int st = negs_check_ptr(l, fn, "l");
    if (!st) st = negs_check_ptr(user_emb, fn, "user_emb");
    if (!st) st = negs_check_ptr(item_emb, fn, "item_emb");
    if (!st) st = negs_check_ptr(user_idx, fn, "user_idx");
    if (!st) st = negs_check_ptr(pos_idx, fn, "pos_idx");
    if (!st) st = negs_check_ptr(neg_idx, fn, "neg_idx");
    if (!st) st = negs_check_ptr(loss, fn, "loss");
    if (st) return st;
    if (n == 0) return negs_fail(NEGS_E_INVALID, "%s: n = 0 rows", fn);
    if (k == 0) return negs_fail(NEGS_E_INVALID, "%s: k = 0 negatives per row", fn);
    if (dim == 0) return negs_fail(NEGS_E_INVALID, "%s: dim = 0", fn);
    if (n_users == 0) return negs_fail(NEGS_E_INVALID, "%s: n_users = 0", fn);
    if (n_items == 0) return negs_fail(NEGS_E_INVALID, "%s: n_items = 0", fn);
    /* sizes the call indexes with: slots, row-gradient buffers, the two tables */
    size_t x;
    char what[96];
    snprintf(what, sizeof what, "%s: n * k * dim", fn);
    st = negs_size_mul(n, k, &x, what);
    if (!st) st = negs_size_mul(x, dim, &x, what);
    snprintf(what, sizeof what, "%s: n_users * dim", fn);
    if (!st) st = negs_size_mul(n_users, dim, &x, what);
    snprintf(what, sizeof what, "%s: n_items * dim", fn);
    if (!st) st = negs_size_mul(n_items, dim, &x, what);
    return st;
}

/* Everything up to the score gradients: checks, scores, the loss. */
static int sx_forward(negs_loss *l, const char *fn, struct negs_sx_call *c, uint32_t n_users,
                      uint32_t n_items, const float *neg_logq, float *loss, int want_grad)
{
    int st = sx_check_indices(c, fn, n_users, n_items);
    if (!st) st = sx_workspace(l, c, fn);
    if (st) return st;

    struct sx_score_job jb;
    jb.c = c;
    size_t parts = l->threads > 1 ? 4 * (size_t)l->threads : 1;
    if (parts > SX_MAX_PARTS) parts = SX_MAX_PARTS;
    if (parts > c->n) parts = c->n;
    jb.rows_per_part = (c->n + parts - 1) / parts;
    parts = (c->n - 1) / jb.rows_per_part + 1;
    negs_pool_run(l->pool, sx_score_part, &jb, parts);
    for (size_t p = 0; p < parts; p++)
        if (jb.bad_what[p] != SX_OK)
            return sx_report(c, fn, jb.bad_row[p], jb.bad_slot[p], jb.bad_what[p]);

    return negs_scores_exec(l, fn, c->n, c->k, c->pos, c->neg, neg_logq, c->mask, loss,
                            want_grad ? c->dpos : NULL, want_grad ? c->dneg : NULL);
}

static void sx_init(struct negs_sx_call *c, const negs_loss *l, size_t n, uint32_t k,
                    size_t dim, const float *user_emb, const float *item_emb,
                    const uint32_t *user_idx, const uint32_t *pos_idx, const uint32_t *neg_idx,
                    const uint8_t *neg_mask)
{
    memset(c, 0, sizeof *c);
    c->kn = negs_kernels_select(negs_loss_isa(l));
    c->n = n;
    c->k = k;
    c->dim = dim;
    c->ue = user_emb;
    c->ie = item_emb;
    c->ui = user_idx;
    c->pi = pos_idx;
    c->ni = neg_idx;
    c->mask = neg_mask;
    c->cosine = l->cosine;
}

/* A gradient row that overflowed float: the products and sums of finite rows near 3.4e38
 * (or a coefficient above 1, as tau+ gives) can pass FLT_MAX. Refused after the fact. */
static int sx_grad_overflow(const char *fn, const char *what, size_t row)
{
    return negs_fail(NEGS_E_INVALID, "%s: the gradient %s row %zu overflows float (the inputs "
                     "are finite, but entries near 3.4e38 make a product or sum pass it); "
                     "scale the embeddings down", fn, what, row);
}

static int sx_row_finite(const float *x, size_t dim)
{
    for (size_t d = 0; d < dim; d++)
        if (!isfinite(x[d])) return 0;
    return 1;
}

/* The table rows the call added to, checked in row order. */
static int sx_check_tables(const struct negs_sx_call *c, const char *fn, const float *d_user,
                           const float *d_item)
{
    for (size_t i = 0; i < c->n; i++) {
        if (d_user && !sx_row_finite(d_user + (size_t)c->ui[i] * c->dim, c->dim))
            return sx_grad_overflow(fn, "d_user_emb", c->ui[i]);
        if (d_item && !sx_row_finite(d_item + (size_t)c->pi[i] * c->dim, c->dim))
            return sx_grad_overflow(fn, "d_item_emb", c->pi[i]);
        for (uint32_t t = 0; d_item && t < c->k; t++) {
            size_t e = i * c->k + t;
            if (c->mask && c->mask[e]) continue; /* never read */
            if (!sx_row_finite(d_item + (size_t)c->ni[e] * c->dim, c->dim))
                return sx_grad_overflow(fn, "d_item_emb", c->ni[e]);
        }
    }
    return NEGS_OK;
}

static int sx_check_rows(const struct negs_sx_call *c, const char *fn, const float *du,
                         const float *dp, const float *dn)
{
    for (size_t i = 0; i < c->n; i++) {
        if (du && !sx_row_finite(du + i * c->dim, c->dim)) return sx_grad_overflow(fn, "d_user_rows", i);
        if (dp && !sx_row_finite(dp + i * c->dim, c->dim)) return sx_grad_overflow(fn, "d_pos_rows", i);
    }
    for (size_t e = 0; dn && e < c->n * c->k; e++)
        if (!sx_row_finite(dn + e * c->dim, c->dim)) return sx_grad_overflow(fn, "d_neg_rows", e);
    return NEGS_OK;
}

NEGS_API int negs_loss_scores_indexed(negs_loss *l, size_t n, uint32_t k, size_t dim,
                                      const float *user_emb, uint32_t n_users,
                                      const float *item_emb, uint32_t n_items,
                                      const uint32_t *user_idx, const uint32_t *pos_idx,
                                      const uint32_t *neg_idx, const float *neg_logq,
                                      const uint8_t *neg_mask, float *loss, float *d_user_emb,
                                      float *d_item_emb)
{
    static const char fn[] = "negs_loss_scores_indexed";
    int st = sx_check_args(l, fn, n, k, dim, user_emb, n_users, item_emb, n_items, user_idx,
                           pos_idx, neg_idx, loss);
    if (st) return st;
    struct negs_sx_call c;
    sx_init(&c, l, n, k, dim, user_emb, item_emb, user_idx, pos_idx, neg_idx, neg_mask);
    st = sx_forward(l, fn, &c, n_users, n_items, neg_logq, loss, d_user_emb || d_item_emb);
    if (st) return st;
    negs_sx_scatter_tables(&c, l->pool, l->threads, d_user_emb, d_item_emb);
    return sx_check_tables(&c, fn, d_user_emb, d_item_emb);
}

NEGS_API int negs_loss_scores_indexed_rows(negs_loss *l, size_t n, uint32_t k, size_t dim,
                                           const float *user_emb, uint32_t n_users,
                                           const float *item_emb, uint32_t n_items,
                                           const uint32_t *user_idx, const uint32_t *pos_idx,
                                           const uint32_t *neg_idx, const float *neg_logq,
                                           const uint8_t *neg_mask, float *loss,
                                           float *d_user_rows, float *d_pos_rows,
                                           float *d_neg_rows)
{
    static const char fn[] = "negs_loss_scores_indexed_rows";
    int st = sx_check_args(l, fn, n, k, dim, user_emb, n_users, item_emb, n_items, user_idx,
                           pos_idx, neg_idx, loss);
    if (st) return st;
    struct negs_sx_call c;
    sx_init(&c, l, n, k, dim, user_emb, item_emb, user_idx, pos_idx, neg_idx, neg_mask);
    st = sx_forward(l, fn, &c, n_users, n_items, neg_logq, loss,
                    d_user_rows || d_pos_rows || d_neg_rows);
    if (st) return st;
    negs_sx_write_rows(&c, l->pool, l->threads, d_user_rows, d_pos_rows, d_neg_rows);
    return sx_check_rows(&c, fn, d_user_rows, d_pos_rows, d_neg_rows);
}
