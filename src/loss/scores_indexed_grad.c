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

/* g += the gradient of the loss with respect to row i's user row. */
static void sx_user_grad(const struct negs_sx_call *c, size_t i, float *g)
{
    const size_t k = c->k;
    const float iu = c->cosine ? c->iu[i] : 1.0f;
    double cs = 0.0; /* cosine: sum_t coef_t s_t */
    for (uint32_t t = 0; t <= k; t++) {
        const size_t e = i * k + t - 1;
        if (sx_skip(c, t, e)) continue;
        const float coef = sx_coef(c, i, t, e);
        if (coef == 0.0f) continue;
        float w = coef;
        if (c->cosine) {
            w = coef * iu * (t ? c->iv[c->n + e] : c->iv[i]);
            cs += (double)coef * (double)(t ? c->neg[e] : c->pos[i]);
        }
        c->kn->axpy(g, w, sx_item_row(c, i, t, e), c->dim);
    }
    if (cs != 0.0)
        c->kn->axpy(g, -(float)cs * iu * iu, c->ue + (size_t)c->ui[i] * c->dim, c->dim);
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

struct sx_out {
    const struct negs_sx_call *c;
    float *a, *b, *d; /* tables (a: users, b: items) or row buffers (a, b: n, d: n*k) */
    size_t rows_per_part;
};

static void sx_user_part(void *ctx, size_t part, size_t n_parts)
{
    const struct sx_out *o = ctx;
    const struct negs_sx_call *c = o->c;
    for (size_t i = 0; i < c->n; i++)
        if (c->ui[i] % n_parts == part) sx_user_grad(c, i, o->a + (size_t)c->ui[i] * c->dim);
}

static void sx_item_part(void *ctx, size_t part, size_t n_parts)
{
    const struct sx_out *o = ctx;
    const struct negs_sx_call *c = o->c;
    for (size_t i = 0; i < c->n; i++)
        for (uint32_t t = 0; t <= c->k; t++) {
            const size_t e = i * c->k + t - 1;
            if (sx_skip(c, t, e)) continue;
            const uint32_t idx = t ? c->ni[e] : c->pi[i];
            if (idx % n_parts != part) continue;
            const float coef = sx_coef(c, i, t, e);
            if (coef != 0.0f) sx_item_grad(c, i, t, e, coef, o->b + (size_t)idx * c->dim);
        }
}

void negs_sx_scatter_tables(const struct negs_sx_call *c, negs_pool *pool, unsigned threads,
                            float *d_user_emb, float *d_item_emb)
{
    struct sx_out o = {c, d_user_emb, d_item_emb, NULL, 0};
    /* one phase after the other, so the two tables may be the same buffer */
    if (d_user_emb) negs_pool_run(pool, sx_user_part, &o, threads);
    if (d_item_emb) negs_pool_run(pool, sx_item_part, &o, threads);
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
            sx_user_grad(c, i, o->a + i * dim);
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
