/* Routing the score gradients of the indexed losses back to the rows. With dot products,
 * d score / d u = v and d score / d v = u. With cosines s = u.v / (|u| |v|),
 *   d s / d u = v / (|u| |v|) - s u / |u|^2,   d s / d v = u / (|u| |v|) - s v / |v|^2,
 * so every gradient is a short sum of axpys of the rows themselves. Accumulation into the
 * caller's tables gives each table row to exactly one part (row index modulo the part count),
 * and each part walks the call's rows in order: a row's contributions are added in the same
 * order for any thread count, so the bytes never depend on it. */
#include <string.h>

#include "loss/scores_indexed.h"

static int sx_skip(const struct negs_sx_call *c, uint32_t t, size_t e)
{
    return t && c->mask && c->mask[e];
}

static float sx_coef(const struct negs_sx_call *c, size_t i, uint32_t t, size_t e)
{
    return t ? c->dneg[e] : c->dpos[i];
}

static const float *sx_item_row(const struct negs_sx_call *c, size_t i, uint32_t t, size_t e)
{
    return c->ie + (size_t)(t ? c->ni[e] : c->pi[i]) * c->dim;
}

/* g += the gradient with respect to the item row in slot t of row i (coefficient coef). */
static void sx_item_grad(const struct negs_sx_call *c, size_t i, uint32_t t, size_t e,
                         float coef, float *g)
{
    const float *u = c->ue + (size_t)c->ui[i] * c->dim;
    if (!c->cosine) {
        c->kn->axpy(g, coef, u, c->dim);
        return;
    }
    const float iv = t ? c->iv[c->n + e] : c->iv[i], s = t ? c->neg[e] : c->pos[i];
    c->kn->axpy(g, coef * c->iu[i] * iv, u, c->dim);
    c->kn->axpy(g, -coef * s * iv * iv, sx_item_row(c, i, t, e), c->dim);
}

/* Row i's contributions: gu += the gradient with respect to its user row (gu may be NULL),
 * and, when dv is not NULL, dv[item] += the gradient with respect to each slot's item row for
 * the items this part owns (item % n_parts == part). One pass, so each item row is read once
 * for both. */
static void sx_row_grad(const struct negs_sx_call *c, size_t i, float *gu, float *dv,
                        size_t part, size_t n_parts)
{
    const size_t k = c->k, dim = c->dim;
    const float iu = c->cosine ? c->iu[i] : 1.0f;
    double cs = 0.0; /* cosine: sum_t coef_t s_t */
    for (uint32_t t = 0; t <= k; t++) {
        const int64_t next = negs_sx_slot_ahead(c, i, t, NEGS_SX_AHEAD);
        const int next_owned = dv && next >= 0 && (size_t)next % n_parts == part;
        if (next >= 0 && (gu || (next_owned && c->cosine)))
            negs_sx_prefetch_row(c->ie + (size_t)next * dim, dim, 0);
        if (next_owned) negs_sx_prefetch_row(dv + (size_t)next * dim, dim, 1);
        const size_t e = i * k + t - 1;
        if (sx_skip(c, t, e)) continue;
        const float coef = sx_coef(c, i, t, e);
        if (coef == 0.0f) continue;
        if (gu) {
            float w = coef;
            if (c->cosine) {
                w = coef * iu * (t ? c->iv[c->n + e] : c->iv[i]);
                cs += (double)coef * (double)(t ? c->neg[e] : c->pos[i]);
            }
            c->kn->axpy(gu, w, sx_item_row(c, i, t, e), dim);
        }
        const uint32_t idx = t ? c->ni[e] : c->pi[i];
        if (dv && idx % n_parts == part) sx_item_grad(c, i, t, e, coef, dv + (size_t)idx * dim);
    }
    if (gu && cs != 0.0) c->kn->axpy(gu, -(float)cs * iu * iu, c->ue + (size_t)c->ui[i] * dim, dim);
}

struct sx_out {
    const struct negs_sx_call *c;
    float *a, *b, *d; /* tables (a: users, b: items) or row buffers (a, b: n, d: n*k) */
    size_t rows_per_part;
};

/* Part `part` of the tables' accumulation: the users and items it owns (index modulo
 * n_parts), the call's rows walked in order. */
static void sx_tables_part(void *ctx, size_t part, size_t n_parts)
{
    const struct sx_out *o = ctx;
    const struct negs_sx_call *c = o->c;
    const size_t dim = c->dim;
    for (size_t i = 0; i < c->n; i++) {
        if (o->a && i + 1 < c->n && c->ui[i + 1] % n_parts == part) {
            negs_sx_prefetch_row(o->a + (size_t)c->ui[i + 1] * dim, dim, 1);
            if (c->cosine) negs_sx_prefetch_row(c->ue + (size_t)c->ui[i + 1] * dim, dim, 0);
        }
        float *gu = o->a && c->ui[i] % n_parts == part ? o->a + (size_t)c->ui[i] * dim : NULL;
        if (gu || o->b) sx_row_grad(c, i, gu, o->b, part, n_parts);
    }
}

void negs_sx_scatter_tables(const struct negs_sx_call *c, negs_pool *pool, unsigned threads,
                            float *d_user_emb, float *d_item_emb)
{
    if (d_user_emb != d_item_emb) {
        struct sx_out o = {c, d_user_emb, d_item_emb, NULL, 0};
        if (d_user_emb || d_item_emb) negs_pool_run(pool, sx_tables_part, &o, threads);
        return;
    }
    /* One buffer for both: the users' pass, then the items', so that a row's contributions
     * keep one order whatever the thread count. */
    struct sx_out ou = {c, d_user_emb, NULL, NULL, 0}, oi = {c, NULL, d_item_emb, NULL, 0};
    negs_pool_run(pool, sx_tables_part, &ou, threads);
    negs_pool_run(pool, sx_tables_part, &oi, threads);
}

static void sx_rows_part(void *ctx, size_t part, size_t n_parts)
{
    const struct sx_out *o = ctx;
    const struct negs_sx_call *c = o->c;
    const size_t dim = c->dim, r0 = part * o->rows_per_part;
    const size_t r1 = c->n - r0 < o->rows_per_part ? c->n : r0 + o->rows_per_part;
    (void)n_parts;
    for (size_t i = r0; i < r1; i++) {
        if (o->a) {
            memset(o->a + i * dim, 0, dim * sizeof(float));
            sx_row_grad(c, i, o->a + i * dim, NULL, 0, 1);
        }
        for (uint32_t t = 0; t <= c->k; t++) {
            const size_t e = i * c->k + t - 1;
            float *g = t ? (o->d ? o->d + e * dim : NULL) : (o->b ? o->b + i * dim : NULL);
            if (!g) continue;
            memset(g, 0, dim * sizeof(float));
            if (sx_skip(c, t, e)) continue;
            const float coef = sx_coef(c, i, t, e);
            if (coef != 0.0f) sx_item_grad(c, i, t, e, coef, g);
        }
    }
}

void negs_sx_write_rows(const struct negs_sx_call *c, negs_pool *pool, unsigned threads,
                        float *d_user_rows, float *d_pos_rows, float *d_neg_rows)
{
    if (!d_user_rows && !d_pos_rows && !d_neg_rows) return;
    struct sx_out o = {c, d_user_rows, d_pos_rows, d_neg_rows, 0};
    size_t parts = threads > 1 ? 4 * (size_t)threads : 1;
    if (parts > c->n) parts = c->n;
    o.rows_per_part = (c->n + parts - 1) / parts;
    parts = (c->n - 1) / o.rows_per_part + 1;
    negs_pool_run(pool, sx_rows_part, &o, parts);
}
