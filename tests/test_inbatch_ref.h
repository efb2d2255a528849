/* A dense double-precision reference of negs_loss_inbatch for the tests: builds the whole
 * b x (b + m) logit matrix, masks it, and differentiates by hand. */
#ifndef NEGS_TEST_INBATCH_REF_H
#define NEGS_TEST_INBATCH_REF_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct ib_case {
    size_t b, m, dim;
    double temperature;
    int reduction;
    const float *logq;        /* or NULL */
    const uint32_t *item_ids; /* or NULL */
    /* known positives as a dense [user][item] 0/1 table, or NULL */
    const uint32_t *user_ids;
    const uint8_t *pos_dense;
    uint32_t n_items;
} ib_case;

static int ib_masked(const ib_case *c, size_t i, size_t j)
{
    if (j == i) return 0;
    if (c->logq && c->logq[j] == -INFINITY) return 1; /* no candidate (only j >= b) */
    if (c->item_ids && c->item_ids[j] == c->item_ids[i]) return 1;
    if (c->user_ids && c->pos_dense &&
        c->pos_dense[(size_t)c->user_ids[i] * c->n_items + c->item_ids[j]])
        return 1;
    return 0;
}

/* Reduced loss (NONE: the sum) in double; per-row losses in rows (b) if not NULL; gradients
 * (of the reduced loss; NONE: of the sum) in du, dv if not NULL. */
static double ib_ref(const ib_case *c, const double *u, const double *v, double *rows,
                     double *du, double *dv)
{
    size_t b = c->b, n = c->b + c->m, d = c->dim;
    double scale = c->reduction == 0 ? 1.0 / (double)b : 1.0, total = 0.0;
    double *z = malloc(n * sizeof *z);
    if (du)
        for (size_t q = 0; q < b * d; q++) du[q] = 0.0;
    if (dv)
        for (size_t q = 0; q < n * d; q++) dv[q] = 0.0;
    for (size_t i = 0; i < b; i++) {
        double mx = -INFINITY;
        for (size_t j = 0; j < n; j++) {
            if (ib_masked(c, i, j)) {
                z[j] = -INFINITY;
                continue;
            }
            double s = 0.0;
            for (size_t k = 0; k < d; k++) s += u[i * d + k] * v[j * d + k];
            z[j] = s / c->temperature - (c->logq ? (double)c->logq[j] : 0.0);
            if (z[j] > mx) mx = z[j];
        }
        double sum = 0.0;
        for (size_t j = 0; j < n; j++) sum += exp(z[j] - mx);
        double lse = mx + log(sum), li = lse - z[i];
        if (rows) rows[i] = li;
        total += li;
        for (size_t j = 0; j < n; j++) {
            double g = (exp(z[j] - lse) - (j == i ? 1.0 : 0.0)) * scale / c->temperature;
            if (g == 0.0) continue;
            for (size_t k = 0; k < d; k++) {
                if (du) du[i * d + k] += g * v[j * d + k];
                if (dv) dv[j * d + k] += g * u[i * d + k];
            }
        }
    }
    free(z);
    return total * scale;
}

/* Rows scaled to unit L2 norm (in double); the norms in norm. */
static inline double *ib_unit_rows(const double *x, size_t n, size_t d, double *norm)
{
    double *y = malloc(n * d * sizeof *y);
    for (size_t r = 0; r < n; r++) {
        double ss = 0.0;
        for (size_t k = 0; k < d; k++) ss += x[r * d + k] * x[r * d + k];
        norm[r] = sqrt(ss);
        for (size_t k = 0; k < d; k++) y[r * d + k] = x[r * d + k] / norm[r];
    }
    return y;
}

/* g <- the gradient with respect to the raw rows, from g with respect to the unit rows y. */
static inline void ib_back_unit(double *g, const double *y, const double *norm, size_t n, size_t d)
{
    for (size_t r = 0; r < n; r++) {
        double dot = 0.0;
        for (size_t k = 0; k < d; k++) dot += y[r * d + k] * g[r * d + k];
        for (size_t k = 0; k < d; k++) g[r * d + k] = (g[r * d + k] - y[r * d + k] * dot) / norm[r];
    }
}

/* ib_ref with cosine scores (NEGS_LP_COSINE): the same on L2-normalised rows, gradients with
 * respect to the raw rows. */
static inline double ib_ref_cos(const ib_case *c, const double *u, const double *v, double *rows,
                         double *du, double *dv)
{
    size_t b = c->b, n = c->b + c->m, d = c->dim;
    double *nu = malloc(b * sizeof *nu), *nv = malloc(n * sizeof *nv);
    double *yu = ib_unit_rows(u, b, d, nu), *yv = ib_unit_rows(v, n, d, nv);
    double total = ib_ref(c, yu, yv, rows, du, dv);
    if (du) ib_back_unit(du, yu, nu, b, d);
    if (dv) ib_back_unit(dv, yv, nv, n, d);
    free(nu), free(nv), free(yu), free(yv);
    return total;
}

#endif
