/* Helpers shared by the in-batch test suites: test-local random data, handles, known
 * positives as a CSR and as a dense table, and a max-norm relative error. */
#ifndef NEGS_TEST_INBATCH_UTIL_H
#define NEGS_TEST_INBATCH_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "negsample.h"

static uint64_t rng_state = 12345;
static double urand(void) /* xorshift64*, test-local data generator */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static float *rand_f(size_t n, double lo, double hi)
{
    float *x = malloc(n * sizeof *x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * urand());
    return x;
}

static double *to_d(const float *x, size_t n)
{
    double *y = malloc(n * sizeof *y);
    for (size_t i = 0; i < n; i++) y[i] = x[i];
    return y;
}

static negs_loss *make_loss(double t, int red, int threads, int scalar)
{
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    assert_non_null(l);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, t), 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_REDUCTION, red), 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_THREADS, threads), 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_FORCE_SCALAR, scalar), 0);
    return l;
}

/* Positives as a CSR and as the reference's dense table. */
typedef struct pos_tab {
    negs_csr *csr;
    uint8_t *dense;
    uint32_t n_users, n_items;
} pos_tab;

static pos_tab make_pos(uint32_t n_users, uint32_t n_items, double density)
{
    pos_tab p = {NULL, calloc((size_t)n_users * n_items, 1), n_users, n_items};
    uint64_t *indptr = calloc(n_users + 1, sizeof *indptr);
    uint32_t *ind = malloc((size_t)n_users * n_items * sizeof *ind);
    size_t nnz = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        for (uint32_t it = 0; it < n_items; it++)
            if (urand() < density) {
                ind[nnz++] = it;
                p.dense[(size_t)u * n_items + it] = 1;
            }
        indptr[u + 1] = nnz;
    }
    p.csr = negs_csr_create(n_users, n_items, indptr, ind);
    assert_non_null(p.csr);
    free(indptr);
    free(ind);
    return p;
}

static void free_pos(pos_tab *p)
{
    negs_csr_free(p->csr);
    free(p->dense);
}

/* Max |a - b| over max(|b|, floor). */
static double rel_err(const float *a, const double *b, size_t n, double floor_)
{
    double mx = floor_, e = 0.0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    for (size_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - b[i]));
    return e / mx;
}

#endif
