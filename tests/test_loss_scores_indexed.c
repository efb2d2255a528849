/* negs_loss_scores_indexed and _rows: an exact small case; bit-equality with gather +
 * negs_loss_scores + scatter by hand (the same dot and axpy kernels, the documented order);
 * dot and cosine gradients against central finite differences of a double reference; thread
 * independence; shared tables; bad input. */
#include <float.h>
#include <stdio.h>

#include "test_util.h"
#include "kernels/kernels.h"
#include "loss/loss_internal.h" /* negs_loss_isa: the kernels the handle uses */
#pragma GCC diagnostic ignored "-Wunused-function" /* ref_fd: not needed here */
#include "test_loss_scores_ref.h"

static const int kinds[] = {NEGS_LOSS_BCE, NEGS_LOSS_BPR, NEGS_LOSS_HINGE, NEGS_LOSS_SOFTMAX,
                            NEGS_LOSS_LISTNET};

static uint64_t rs = 0x243F6A8885A308D3ull;
static double urand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* One random problem: small tables so that indices repeat within and across rows. */
struct prob {
    size_t n, dim;
    uint32_t k, nu, ni;
    float *ue, *ie, *logq;
    uint32_t *ui, *pi, *nidx;
    uint8_t *mask;
};

static void prob_make(struct prob *p, size_t n, uint32_t k, size_t dim, uint32_t nu,
                      uint32_t ni, int with_mask)
{
    p->n = n, p->k = k, p->dim = dim, p->nu = nu, p->ni = ni;
    p->ue = malloc(nu * dim * sizeof(float));
    p->ie = malloc(ni * dim * sizeof(float));
    p->logq = malloc(n * k * sizeof(float));
    p->ui = malloc(n * sizeof(uint32_t));
    p->pi = malloc(n * sizeof(uint32_t));
    p->nidx = malloc(n * k * sizeof(uint32_t));
    p->mask = with_mask ? calloc(n * k, 1) : NULL;
    for (size_t q = 0; q < nu * dim; q++) p->ue[q] = (float)(2 * urand() - 1);
    for (size_t q = 0; q < ni * dim; q++) p->ie[q] = (float)(2 * urand() - 1);
    for (size_t i = 0; i < n; i++) {
        p->ui[i] = (uint32_t)(urand() * nu);
        p->pi[i] = (uint32_t)(urand() * ni);
    }
    for (size_t e = 0; e < n * k; e++) {
        p->nidx[e] = (uint32_t)(urand() * ni);
        p->logq[e] = (float)(-1 - 4 * urand());
        if (p->mask && urand() < 0.25) {
            p->mask[e] = 1;
            p->nidx[e] = 0xFFFFFFFFu; /* a masked slot's index is never read */
        }
    }
}

static void prob_free(struct prob *p)
{
    free(p->ue), free(p->ie), free(p->logq), free(p->ui), free(p->pi), free(p->nidx);
    free(p->mask);
}

static negs_loss *make_loss(int kind, int red, double t, int cosine, unsigned threads)
{
    negs_loss *l = negs_loss_create(kind);
    assert_non_null(l);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_REDUCTION, red), NEGS_OK);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, t), NEGS_OK);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, cosine), NEGS_OK);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_THREADS, threads), NEGS_OK);
    return l;
}

static int call_tables(negs_loss *l, const struct prob *p, float *loss, float *du, float *dv)
{
    return negs_loss_scores_indexed(l, p->n, p->k, p->dim, p->ue, p->nu, p->ie, p->ni, p->ui,
                                    p->pi, p->nidx, p->logq, p->mask, loss, du, dv);
}

static int call_rows(negs_loss *l, const struct prob *p, float *loss, float *du, float *dp,
                     float *dn)
{
    return negs_loss_scores_indexed_rows(l, p->n, p->k, p->dim, p->ue, p->nu, p->ie, p->ni,
                                         p->ui, p->pi, p->nidx, p->logq, p->mask, loss, du, dp,
                                         dn);
}

static int masked(const struct prob *p, size_t e)
{
    return p->mask && p->mask[e];
}

/* ---------------------------------------------------------------- exact small case */

static void test_exact_small(void **state)
{
    (void)state;
    /* u = (1, 2); positive (0.5, -1) scores -1.5; negatives (1, 1) -> 3, (-1, 0.5) -> 0 */
    const float ue[2] = {1, 2}, ie[6] = {0.5f, -1, 1, 1, -1, 0.5f};
    const uint32_t ui[1] = {0}, pi[1] = {0}, ni[2] = {1, 2};
    negs_loss *l = make_loss(NEGS_LOSS_SOFTMAX, NEGS_REDUCE_SUM, 1.0, 0, 1);
    float loss, du[2] = {0, 0}, dv[6] = {0};
    assert_int_equal(negs_loss_scores_indexed(l, 1, 2, 2, ue, 1, ie, 3, ui, pi, ni, NULL, NULL,
                                              &loss, du, dv),
                     NEGS_OK);
    const double S = exp(-1.5) + exp(3.0) + exp(0.0);
    const double p0 = exp(-1.5) / S, p1 = exp(3.0) / S, p2 = 1.0 / S;
    assert_true(fabs(loss - (log(S) + 1.5)) < 1e-5);
    /* du = (p0 - 1) v0 + p1 v1 + p2 v2; dv_t = coef_t u */
    const double c[3] = {p0 - 1, p1, p2};
    for (int d = 0; d < 2; d++) {
        double want = c[0] * ie[d] + c[1] * ie[2 + d] + c[2] * ie[4 + d];
        assert_true(fabs(du[d] - want) < 1e-6);
        for (int t = 0; t < 3; t++) assert_true(fabs(dv[2 * t + d] - c[t] * ue[d]) < 1e-6);
    }
    /* cosine: the scores are the cosines, u and v rescaled change nothing */
    const float ue2[2] = {3, 6}, ie2[6] = {1, -2, 7, 7, -4, 2};
    float loss2, du2[2] = {0, 0};
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, 1), NEGS_OK);
    assert_int_equal(negs_loss_scores_indexed(l, 1, 2, 2, ue, 1, ie, 3, ui, pi, ni, NULL, NULL,
                                              &loss, NULL, NULL),
                     NEGS_OK);
    assert_int_equal(negs_loss_scores_indexed(l, 1, 2, 2, ue2, 1, ie2, 3, ui, pi, ni, NULL,
                                              NULL, &loss2, du2, NULL),
                     NEGS_OK);
    const double nu = sqrt(5.0), cs[3] = {-1.5 / (nu * sqrt(1.25)), 3 / (nu * sqrt(2.0)),
                                          0.0};
    const double S2 = exp(cs[0]) + exp(cs[1]) + exp(cs[2]);
    assert_true(fabs(loss - (log(S2) - cs[0])) < 1e-5);
    assert_true(fabs(loss2 - loss) < 1e-6);
    /* the gradient is orthogonal to u (the cosine does not change along u) */
    assert_true(fabs(du2[0] * ue2[0] + du2[1] * ue2[1]) < 1e-5);
    negs_loss_free(l);
}

/* ---------------------------------------------------------------- equal to the gathered call */

/* Gathers, scores with the handle's dot kernel, runs negs_loss_scores, then scatters with the
 * handle's axpy kernel in the documented order (dot products: each row in order, the user
 * row then the item rows of the positive and the negatives in slot order). */
static void by_hand(negs_loss *l, const struct prob *p, float *loss, float *du, float *dv,
                    float *dneg_rows)
{
    const negs_kernels *kn = negs_kernels_select(negs_loss_isa(l));
    const size_t n = p->n, k = p->k, dim = p->dim;
    float *pos = malloc(n * sizeof(float)), *neg = calloc(n * k, sizeof(float));
    float *dpos = malloc(n * sizeof(float)), *dneg = malloc(n * k * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        const float *u = p->ue + p->ui[i] * dim;
        pos[i] = kn->dot(u, p->ie + p->pi[i] * dim, dim);
        for (size_t j = 0; j < k; j++)
            if (!masked(p, i * k + j)) neg[i * k + j] = kn->dot(u, p->ie + p->nidx[i * k + j] * dim, dim);
    }
    assert_int_equal(negs_loss_scores(l, n, p->k, pos, neg, p->logq, p->mask, loss, dpos, dneg),
                     NEGS_OK);
    for (size_t i = 0; i < n; i++) {
        float *g = du + p->ui[i] * dim;
        if (dpos[i] != 0.0f) kn->axpy(g, dpos[i], p->ie + p->pi[i] * dim, dim);
        for (size_t j = 0; j < k; j++)
            if (!masked(p, i * k + j) && dneg[i * k + j] != 0.0f)
                kn->axpy(g, dneg[i * k + j], p->ie + p->nidx[i * k + j] * dim, dim);
    }
    for (size_t i = 0; i < n; i++) {
        const float *u = p->ue + p->ui[i] * dim;
        if (dpos[i] != 0.0f) kn->axpy(dv + p->pi[i] * dim, dpos[i], u, dim);
        for (size_t j = 0; j < k; j++) {
            size_t e = i * k + j;
            memset(dneg_rows + e * dim, 0, dim * sizeof(float));
            if (masked(p, e) || dneg[e] == 0.0f) continue;
            kn->axpy(dv + p->nidx[e] * dim, dneg[e], u, dim);
            kn->axpy(dneg_rows + e * dim, dneg[e], u, dim);
        }
    }
    free(pos), free(neg), free(dpos), free(dneg);
}

static void test_equals_gathered(void **state)
{
    (void)state;
    const int reds[] = {NEGS_REDUCE_MEAN, NEGS_REDUCE_SUM, NEGS_REDUCE_NONE};
    for (int scalar = 0; scalar < 2; scalar++)
        for (size_t ki = 0; ki < 5; ki++)
            for (size_t ri = 0; ri < 3; ri++) {
                struct prob p;
                prob_make(&p, 37, 5, 19, 11, 23, ri != 1);
                negs_loss *l = make_loss(kinds[ki], reds[ri], 0.7, 0, 1);
                assert_int_equal(negs_loss_set_param(l, NEGS_LP_FORCE_SCALAR, scalar), NEGS_OK);
                size_t nl = reds[ri] == NEGS_REDUCE_NONE ? p.n : 1, dim = p.dim;
                float *l1 = malloc(nl * 4), *l2 = malloc(nl * 4);
                float *du1 = malloc(p.nu * dim * 4), *du2 = malloc(p.nu * dim * 4);
                float *dv1 = malloc(p.ni * dim * 4), *dv2 = malloc(p.ni * dim * 4);
                float *rn1 = malloc(p.n * p.k * dim * 4), *rn2 = malloc(p.n * p.k * dim * 4);
                for (size_t q = 0; q < p.nu * dim; q++) du1[q] = du2[q] = (float)urand();
                for (size_t q = 0; q < p.ni * dim; q++) dv1[q] = dv2[q] = (float)urand();
                by_hand(l, &p, l1, du1, dv1, rn1);
                assert_int_equal(call_tables(l, &p, l2, du2, dv2), NEGS_OK);
                assert_memory_equal(l1, l2, nl * 4);
                assert_memory_equal(du1, du2, p.nu * dim * 4);
                assert_memory_equal(dv1, dv2, p.ni * dim * 4);
                memset(rn2, 0x7f, p.n * p.k * dim * 4);
                assert_int_equal(call_rows(l, &p, l2, NULL, NULL, rn2), NEGS_OK);
                assert_memory_equal(l1, l2, nl * 4);
                assert_memory_equal(rn1, rn2, p.n * p.k * dim * 4);
                free(l1), free(l2), free(du1), free(du2), free(dv1), free(dv2), free(rn1),
                    free(rn2);
                negs_loss_free(l);
                prob_free(&p);
            }
}

/* ---------------------------------------------------------------- finite differences */

/* The reduced loss in double from the tables (dot products or cosines). */
static double ref_tables(const struct prob *p, const double *ue, const double *ie, int kind,
                         int red, double t, int cosine)
{
    const size_t n = p->n, k = p->k, dim = p->dim;
    double pos[64], neg[64 * 8], lq[64 * 8];
    for (size_t i = 0; i < n; i++)
        for (size_t s = 0; s <= k; s++) {
            size_t e = i * k + s - 1;
            if (s && masked(p, e)) {
                neg[e] = 0;
                continue;
            }
            const double *u = ue + p->ui[i] * dim, *v = ie + (s ? p->nidx[e] : p->pi[i]) * dim;
            double d = 0, nu = 0, nv = 0;
            for (size_t q = 0; q < dim; q++) d += u[q] * v[q], nu += u[q] * u[q], nv += v[q] * v[q];
            if (cosine) d /= sqrt(nu) * sqrt(nv);
            if (s) neg[e] = d, lq[e] = p->logq[e];
            else pos[i] = d;
        }
    struct ref_case c = {kind, red, n, p->k, t, 1.0, pos, neg, lq, p->mask};
    return ref_total(&c);
}

static void check_fd(int kind, int red, double t, int cosine)
{
    struct prob p;
    prob_make(&p, 6, 3, 5, 4, 7, 1);
    const size_t dim = p.dim, nu = p.nu * dim, ni = p.ni * dim;
    double *ue = malloc(nu * 8), *ie = malloc(ni * 8);
    for (size_t q = 0; q < nu; q++) ue[q] = p.ue[q];
    for (size_t q = 0; q < ni; q++) ie[q] = p.ie[q];
    negs_loss *l = make_loss(kind, red, t, cosine, 1);
    float loss[6], *du = calloc(nu, 4), *dv = calloc(ni, 4);
    assert_int_equal(call_tables(l, &p, loss, du, dv), NEGS_OK);
    double gmax = 0, err = 0;
    for (int side = 0; side < 2; side++) {
        double *x = side ? ie : ue;
        const float *g = side ? dv : du;
        for (size_t q = 0; q < (side ? ni : nu); q++) {
            const double keep = x[q], h = 1e-6;
            x[q] = keep + h;
            double up = ref_tables(&p, ue, ie, kind, red, t, cosine);
            x[q] = keep - h;
            double dn = ref_tables(&p, ue, ie, kind, red, t, cosine);
            x[q] = keep;
            double fd = (up - dn) / (2 * h);
            gmax = fmax(gmax, fabs(fd));
            err = fmax(err, fabs(fd - g[q]));
        }
    }
    if (!(err <= 1e-4 * gmax + 1e-6)) {
        print_error("kind %d red %d T %g cosine %d: max |ours - fd| = %g, max |fd| = %g\n", kind,
                    red, t, cosine, err, gmax);
        fail();
    }
    free(ue), free(ie), free(du), free(dv);
    negs_loss_free(l);
    prob_free(&p);
}

static void test_finite_differences(void **state)
{
    (void)state;
    for (size_t ki = 0; ki < 5; ki++)
        for (int cosine = 0; cosine < 2; cosine++) {
            if (kinds[ki] == NEGS_LOSS_HINGE) continue; /* kinks: checked exactly above */
            check_fd(kinds[ki], NEGS_REDUCE_MEAN, 0.5, cosine);
            check_fd(kinds[ki], NEGS_REDUCE_NONE, 1.0, cosine);
        }
    check_fd(NEGS_LOSS_SOFTMAX, NEGS_REDUCE_SUM, 0.05, 1); /* InfoNCE at a low temperature */
}

/* The rows variant agrees with the tables variant (rows summed by hand, to rounding). */
static void test_rows_sum_to_tables(void **state)
{
    (void)state;
    for (int cosine = 0; cosine < 2; cosine++) {
        struct prob p;
        prob_make(&p, 40, 4, 9, 6, 10, 1);
        const size_t dim = p.dim, n = p.n, k = p.k;
        negs_loss *l = make_loss(NEGS_LOSS_SOFTMAX, NEGS_REDUCE_MEAN, 0.3, cosine, 1);
        float loss, *du = calloc(p.nu * dim, 4), *dv = calloc(p.ni * dim, 4);
        float *ru = malloc(n * dim * 4), *rp = malloc(n * dim * 4), *rn = malloc(n * k * dim * 4);
        double *su = calloc(p.nu * dim, 8), *sv = calloc(p.ni * dim, 8);
        assert_int_equal(call_tables(l, &p, &loss, du, dv), NEGS_OK);
        assert_int_equal(call_rows(l, &p, &loss, ru, rp, rn), NEGS_OK);
        for (size_t i = 0; i < n; i++)
            for (size_t q = 0; q < dim; q++) {
                su[p.ui[i] * dim + q] += ru[i * dim + q];
                sv[p.pi[i] * dim + q] += rp[i * dim + q];
                for (size_t j = 0; j < k; j++)
                    if (!masked(&p, i * k + j)) sv[p.nidx[i * k + j] * dim + q] += rn[(i * k + j) * dim + q];
                    else assert_true(rn[(i * k + j) * dim + q] == 0.0f);
            }
        for (size_t q = 0; q < p.nu * dim; q++) assert_true(fabs(su[q] - du[q]) < 1e-6);
        for (size_t q = 0; q < p.ni * dim; q++) assert_true(fabs(sv[q] - dv[q]) < 1e-6);
        free(du), free(dv), free(ru), free(rp), free(rn), free(su), free(sv);
        negs_loss_free(l);
        prob_free(&p);
    }
}

/* ---------------------------------------------------------------- threads, shared tables */

static void test_threads(void **state)
{
    (void)state;
    const size_t n = negs_test_sanitized() ? 300 : 3000;
    for (int cosine = 0; cosine < 2; cosine++) {
        struct prob p;
        prob_make(&p, n, 7, 24, 50, 80, 1);
        const size_t dim = p.dim, tu = p.nu * dim, ti = p.ni * dim, tr = n * p.k * dim;
        float *ref[4] = {NULL}, *got[4];
        const unsigned th[] = {1, 2, 5};
        for (int x = 0; x < 3; x++) {
            negs_loss *l = make_loss(NEGS_LOSS_BPR, NEGS_REDUCE_MEAN, 0.5, cosine, th[x]);
            got[0] = calloc(tu, 4), got[1] = calloc(ti, 4), got[2] = malloc(tr * 4),
            got[3] = malloc(2 * 4);
            assert_int_equal(call_tables(l, &p, got[3], got[0], got[1]), NEGS_OK);
            assert_int_equal(call_rows(l, &p, got[3] + 1, NULL, NULL, got[2]), NEGS_OK);
            negs_loss_free(l);
            if (!x) {
                memcpy(ref, got, sizeof got);
                continue;
            }
            assert_memory_equal(ref[0], got[0], tu * 4);
            assert_memory_equal(ref[1], got[1], ti * 4);
            assert_memory_equal(ref[2], got[2], tr * 4);
            assert_memory_equal(ref[3], got[3], 2 * 4);
            for (int b = 0; b < 4; b++) free(got[b]);
        }
        for (int b = 0; b < 4; b++) free(ref[b]);
        prob_free(&p);
    }
}

/* One table for users and items (item-to-item models): the gradient tables may be one buffer. */
static void test_shared_table(void **state)
{
    (void)state;
    struct prob p;
    prob_make(&p, 30, 3, 8, 12, 12, 0);
    const size_t dim = p.dim, t = p.ni * dim;
    free(p.ue);
    p.ue = p.ie;
    negs_loss *l = make_loss(NEGS_LOSS_SOFTMAX, NEGS_REDUCE_SUM, 1.0, 1, 2);
    float loss, *d = calloc(t, 4), *du = calloc(t, 4), *dv = calloc(t, 4);
    assert_int_equal(call_tables(l, &p, &loss, d, d), NEGS_OK);
    assert_int_equal(call_tables(l, &p, &loss, du, dv), NEGS_OK);
    for (size_t q = 0; q < t; q++) assert_true(fabs(d[q] - (du[q] + dv[q])) < 1e-5);
    p.ue = NULL;
    free(d), free(du), free(dv);
    negs_loss_free(l);
    prob_free(&p);
}

/* ---------------------------------------------------------------- bad input */

static void test_bad_input(void **state)
{
    (void)state;
    struct prob p;
    prob_make(&p, 4, 2, 3, 3, 5, 0);
    p.pi[0] = 1; /* item 1 is read */
    negs_loss *l = make_loss(NEGS_LOSS_BPR, NEGS_REDUCE_MEAN, 1.0, 0, 1);
    float loss, du[9], dv[15], du0[9], dv0[15];
    for (int q = 0; q < 9; q++) du[q] = du0[q] = (float)q;
    for (int q = 0; q < 15; q++) dv[q] = dv0[q] = (float)q;
#define IDX(...) negs_loss_scores_indexed(l, __VA_ARGS__, &loss, du, dv)
    assert_fails_with(IDX(0, 2, 3, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(IDX(4, 0, 3, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(IDX(4, 2, 0, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(IDX(4, 2, 3, NULL, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(IDX(4, 2, 3, p.ue, 3, p.ie, 5, p.ui, NULL, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(IDX(4, 2, 3, p.ue, 0, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(IDX(4, 2, SIZE_MAX / 2, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "overflow"));
    p.ui[2] = 3;
    assert_fails_with(IDX(4, 2, 3, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "user_idx[2] = 3"));
    p.ui[2] = 0;
    p.nidx[5] = 5;
    assert_fails_with(IDX(4, 2, 3, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "neg_idx[5] (row 2, slot 1) = 5"));
    uint8_t mask[8] = {0, 0, 0, 0, 0, 1, 0, 0}; /* a masked slot's index is not read */
    assert_int_equal(IDX(4, 2, 3, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, mask), NEGS_OK);
    memcpy(du, du0, sizeof du), memcpy(dv, dv0, sizeof dv);
    p.nidx[5] = 1;
    p.ie[1 * 3 + 2] = NAN;
    assert_fails_with(IDX(4, 2, 3, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "not finite"));
    p.ie[1 * 3 + 2] = 0.5f;
    float lq[8] = {0, 0, 0, INFINITY, 0, 0, 0, 0};
    assert_fails_with(IDX(4, 2, 3, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, lq, NULL), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "neg_logq[3]"));
    /* cosine: a zero row has no direction */
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, 1), NEGS_OK);
    for (int q = 0; q < 3; q++) p.ue[p.ui[1] * 3 + q] = 0.0f;
    assert_fails_with(IDX(4, 2, 3, p.ue, 3, p.ie, 5, p.ui, p.pi, p.nidx, NULL, NULL), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "norm"));
#undef IDX
    /* failures never touched the gradient tables */
    assert_memory_equal(du, du0, sizeof du);
    assert_memory_equal(dv, dv0, sizeof dv);
    assert_fails_with(call_rows(NULL, &p, &loss, NULL, NULL, NULL), NEGS_E_INVALID);
    negs_loss_free(l);
    prob_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_small),        cmocka_unit_test(test_equals_gathered),
        cmocka_unit_test(test_finite_differences), cmocka_unit_test(test_rows_sum_to_tables),
        cmocka_unit_test(test_threads),            cmocka_unit_test(test_shared_table),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
