/* NEGS_LP_TAU_PLUS: the debiased contrastive loss (Chuang et al., NeurIPS 2020) in
 * negs_loss_scores (SOFTMAX) and the fused in-batch softmax: exact small cases, both branches
 * of the estimator's floor, a dense double reference whose gradients are checked by central
 * finite differences, thread counts, the indexed calls, tau+ = 0 and bad values. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#include "test_inbatch_ref.h"
#include "test_inbatch_util.h"

/* ---------------------------------------------------------------- references */

/* One row of the estimator, directly from the paper's formula: zp the positive's logit, z
 * the n live negatives' logits. Returns the loss; dz (n) and *dzp get its gradients. *floor
 * is set when the clamp is active. */
static double dcl_row(double zp, const double *z, size_t n, double tau, double t, double *dzp,
                      double *dz, int *floor)
{
    *floor = 0;
    if (n == 0) {
        *dzp = 0.0;
        return 0.0;
    }
    double p = exp(zp), s = 0.0, f = (double)n * exp(-1.0 / t);
    for (size_t j = 0; j < n; j++) s += exp(z[j]);
    double x = (s - (double)n * tau * p) / (1.0 - tau);
    if (x >= f) {
        double d = p + x;
        *dzp = p * (1.0 - (double)n * tau / (1.0 - tau)) / d - 1.0;
        for (size_t j = 0; j < n; j++) dz[j] = exp(z[j]) / ((1.0 - tau) * d);
        return log(d) - zp;
    }
    *floor = 1;
    double d = p + f;
    *dzp = p / d - 1.0;
    for (size_t j = 0; j < n; j++) dz[j] = 0.0;
    return log(d) - zp;
}

/* negs_loss_scores' debiased SOFTMAX in double: the reduced loss; gradients of it (NONE: of
 * the sum) in dp (n), dn (n*k) if not NULL; *floors counts the clamped rows. */
static double dcl_scores(size_t n, size_t k, const double *pos, const double *neg,
                         const float *lq, const uint8_t *mask, double tau, double t, int red,
                         double *dp, double *dn, size_t *floors)
{
    double *z = malloc(k * sizeof *z), *dz = malloc(k * sizeof *dz), total = 0.0;
    double scale = red == NEGS_REDUCE_MEAN ? 1.0 / (double)n : 1.0;
    *floors = 0;
    for (size_t i = 0; i < n; i++) {
        size_t live = 0;
        for (size_t j = 0; j < k; j++)
            if (!mask || !mask[i * k + j])
                z[live++] = neg[i * k + j] / t - (lq ? (double)lq[i * k + j] : 0.0);
        double dzp;
        int fl;
        total += dcl_row(pos[i] / t, z, live, tau, t, &dzp, dz, &fl);
        *floors += (size_t)fl;
        if (dp) dp[i] = dzp * scale / t;
        for (size_t j = 0, q = 0; dn && j < k; j++)
            dn[i * k + j] = (mask && mask[i * k + j]) ? 0.0 : dz[q++] * scale / t;
    }
    free(z);
    free(dz);
    return total * scale;
}

/* The in-batch debiased softmax, dense, in double (masks as test_inbatch_ref.h's). */
static double dcl_inbatch(const ib_case *c, double tau, const double *u, const double *v,
                          double *du, double *dv, size_t *floors)
{
    size_t b = c->b, n = c->b + c->m, d = c->dim;
    double scale = c->reduction == NEGS_REDUCE_MEAN ? 1.0 / (double)b : 1.0, total = 0.0;
    double *z = malloc(n * sizeof *z), *dz = malloc(n * sizeof *dz);
    size_t *col = malloc(n * sizeof *col);
    if (du) memset(du, 0, b * d * sizeof *du);
    if (dv) memset(dv, 0, n * d * sizeof *dv);
    *floors = 0;
    for (size_t i = 0; i < b; i++) {
        double zp = 0.0;
        size_t live = 0;
        for (size_t j = 0; j < n; j++) {
            if (ib_masked(c, i, j)) continue;
            double s = 0.0;
            for (size_t q = 0; q < d; q++) s += u[i * d + q] * v[j * d + q];
            double zj = s / c->temperature - (c->logq ? (double)c->logq[j] : 0.0);
            if (j == i) {
                zp = zj;
                continue;
            }
            col[live] = j;
            z[live++] = zj;
        }
        double dzp;
        int fl;
        total += dcl_row(zp, z, live, tau, c->temperature, &dzp, dz, &fl);
        *floors += (size_t)fl;
        for (size_t e = 0; e <= live; e++) {
            size_t j = e < live ? col[e] : i;
            double g = (e < live ? dz[e] : dzp) * scale / c->temperature;
            for (size_t q = 0; q < d; q++) {
                if (du) du[i * d + q] += g * v[j * d + q];
                if (dv) dv[j * d + q] += g * u[i * d + q];
            }
        }
    }
    free(z);
    free(dz);
    free(col);
    return total * scale;
}

static negs_loss *make_dcl(double t, int red, int threads, double tau)
{
    negs_loss *l = make_loss(t, red, threads, 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, tau), NEGS_OK);
    return l;
}

/* ---------------------------------------------------------------- exact small cases */

static void test_scores_exact(void **state)
{
    (void)state;
    negs_loss *l = make_dcl(1.0, NEGS_REDUCE_SUM, 1, 0.1);
    /* pos 1, negatives 0.5 and -0.5, tau+ 0.1: N Ng = (e^.5 + e^-.5 - 2 (0.1) e) / 0.9 is
     * above the floor 2 / e; values from the formula in double */
    float pos = 1.0f, neg[2] = {0.5f, -0.5f}, loss, dp, dn[2];
    assert_int_equal(negs_loss_scores(l, 1, 2, &pos, neg, NULL, NULL, &loss, &dp, dn), NEGS_OK);
    assert_float_equal(loss, 0.5304065401207976, 1e-6);
    assert_float_equal(dp, -0.5423822125067046, 1e-6);
    assert_float_equal(dn[0], 0.3965131693493488, 1e-6);
    assert_float_equal(dn[1], 0.1458690431573559, 1e-6);
    /* pos 3, negatives -2, -2, tau+ 0.2: the estimate is negative, the floor 2 / e holds: the
     * loss is log(e^3 + 2/e) - 3 and the negatives get exactly no gradient */
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 0.2), NEGS_OK);
    pos = 3.0f;
    neg[0] = neg[1] = -2.0f;
    assert_int_equal(negs_loss_scores(l, 1, 2, &pos, neg, NULL, NULL, &loss, &dp, dn), NEGS_OK);
    assert_float_equal(loss, 0.03597629974819316, 1e-7);
    assert_float_equal(dp, -0.035336844028096115, 1e-7);
    assert_true(dn[0] == 0.0f && dn[1] == 0.0f);
    /* every slot masked: no negative, loss 0 */
    uint8_t mask[2] = {1, 1};
    assert_int_equal(negs_loss_scores(l, 1, 2, &pos, neg, NULL, mask, &loss, &dp, dn), NEGS_OK);
    assert_true(loss == 0.0f && dp == 0.0f && dn[0] == 0.0f && dn[1] == 0.0f);
    negs_loss_free(l);
}

static void test_inbatch_exact(void **state)
{
    (void)state;
    /* b = 2, dim 1, T = 1: row 0 has logits (u0 v0, u0 v1) = (1, -1), row 1 (2, -2) with
     * target -2. tau+ = 0.1, N = 1 per row. */
    float u[2] = {1.0f, 2.0f}, v[2] = {1.0f, -1.0f}, loss[2], du[2], dv[2];
    negs_loss *l = make_dcl(1.0, NEGS_REDUCE_NONE, 1, 0.1);
    assert_int_equal(negs_loss_inbatch(l, 2, 0, 1, u, v, NULL, NULL, NULL, loss, du, dv),
                     NEGS_OK);
    /* row 0: (e^-1 - 0.1 e) / 0.9 is below the floor e^-1: clamped, loss log(e + 1/e) - 1,
     * no gradient through column 1; row 1: the estimate (e^2 - 0.1 e^-2) / 0.9 holds */
    assert_float_equal(loss[0], 0.12692801104297247, 1e-6);
    assert_float_equal(loss[1], 4.119906715949975, 1e-6);
    assert_float_equal(du[0], -0.11920292202211757, 1e-6);
    assert_float_equal(du[1], 1.9711181691258153, 1e-6);
    assert_float_equal(dv[0], 1.8519152471036977, 1e-6);
    assert_float_equal(dv[1], -1.971118169125815, 1e-6);
    negs_loss_free(l);
}

/* ---------------------------------------------------------------- against the reference */

static void check_scores(size_t n, size_t k, double t, int red, double tau, int logq, int mask,
                         size_t *floors_out)
{
    float *pos = rand_f(n, -1.5, 1.5), *neg = rand_f(n * k, -1.5, 1.5);
    float *lq = logq ? rand_f(n * k, -3, 0) : NULL;
    uint8_t *mk = NULL;
    if (mask) {
        mk = malloc(n * k);
        for (size_t e = 0; e < n * k; e++) mk[e] = urand() < 0.3;
        memset(mk, 1, k); /* a row without negatives */
    }
    double *pd = to_d(pos, n), *nd = to_d(neg, n * k);
    double *rp = malloc(n * sizeof *rp), *rn = malloc(n * k * sizeof *rn);
    size_t floors;
    double ref = dcl_scores(n, k, pd, nd, lq, mk, tau, t, red, rp, rn, &floors);
    negs_loss *l = make_dcl(t, red, 1, tau);
    float *loss = malloc((red == NEGS_REDUCE_NONE ? n : 1) * sizeof *loss);
    float *dp = malloc(n * sizeof *dp), *dn = malloc(n * k * sizeof *dn);
    assert_int_equal(negs_loss_scores(l, n, k, pos, neg, lq, mk, loss, dp, dn), NEGS_OK);
    if (red != NEGS_REDUCE_NONE) {
        assert_true(fabs(loss[0] - ref) <= 1e-5 * fmax(1.0, fabs(ref)));
    } else {
        double sum = 0.0;
        for (size_t i = 0; i < n; i++) sum += loss[i];
        assert_true(fabs(sum - ref) <= 1e-5 * fmax(1.0, fabs(ref)));
    }
    assert_true(rel_err(dp, rp, n, 1e-12) < 1e-5);
    assert_true(rel_err(dn, rn, n * k, 1e-12) < 1e-5);
    /* finite differences of the reference (double) confirm its gradients */
    for (size_t q = 0; q < 6; q++) {
        size_t i = (size_t)(urand() * n), e = i * k + (size_t)(urand() * k);
        const double h = 1e-6;
        size_t f;
        double keep = pd[i];
        pd[i] = keep + h;
        double lp = dcl_scores(n, k, pd, nd, lq, mk, tau, t, red, NULL, NULL, &f);
        pd[i] = keep - h;
        double lm = dcl_scores(n, k, pd, nd, lq, mk, tau, t, red, NULL, NULL, &f);
        pd[i] = keep;
        /* rounding of the loss's sum over the rows, divided by h, plus the O(h^2) term */
        double tol = 1e-6 * fmax(1.0, fabs(rp[i])) + 1e-15 * fabs(ref) / h;
        assert_true(fabs((lp - lm) / (2 * h) - rp[i]) < tol);
        keep = nd[e];
        nd[e] = keep + h;
        lp = dcl_scores(n, k, pd, nd, lq, mk, tau, t, red, NULL, NULL, &f);
        nd[e] = keep - h;
        lm = dcl_scores(n, k, pd, nd, lq, mk, tau, t, red, NULL, NULL, &f);
        nd[e] = keep;
        assert_true(fabs((lp - lm) / (2 * h) - rn[e]) < tol);
    }
    /* the same bytes on 1, 2 and 5 threads (several parts: n k above 64K slots) */
    for (int th = 2; th <= 5; th += 3) {
        negs_loss *l2 = make_dcl(t, red, th, tau);
        float *loss2 = malloc((red == NEGS_REDUCE_NONE ? n : 1) * sizeof *loss2);
        float *dp2 = malloc(n * sizeof *dp2), *dn2 = malloc(n * k * sizeof *dn2);
        assert_int_equal(negs_loss_scores(l2, n, k, pos, neg, lq, mk, loss2, dp2, dn2), NEGS_OK);
        assert_memory_equal(loss, loss2, (red == NEGS_REDUCE_NONE ? n : 1) * sizeof *loss);
        assert_memory_equal(dp, dp2, n * sizeof *dp);
        assert_memory_equal(dn, dn2, n * k * sizeof *dn);
        free(loss2), free(dp2), free(dn2);
        negs_loss_free(l2);
    }
    *floors_out = floors;
    negs_loss_free(l);
    free(pos), free(neg), free(lq), free(mk), free(pd), free(nd), free(rp), free(rn);
    free(loss), free(dp), free(dn);
}

static void test_scores_reference(void **state)
{
    (void)state;
    size_t f1, f2, f3;
    check_scores(40, 9, 1.0, NEGS_REDUCE_MEAN, 0.05, 1, 1, &f1);
    check_scores(33, 20, 0.5, NEGS_REDUCE_NONE, 0.3, 0, 1, &f2);
    check_scores(9000, 16, 0.25, NEGS_REDUCE_SUM, 0.1, 1, 0, &f3); /* several parts */
    /* both branches were taken: some rows at the floor, most not */
    assert_true(f2 > 0 && f2 < 33);
    assert_true(f1 < 40);
}

typedef struct ib_opts {
    size_t b, m, dim;
    double t, tau;
    int red, logq, items, users, cosine;
} ib_opts;

/* One in-batch case against dcl_inbatch; checks the reference by finite differences and the
 * library on 1, 2 and 5 threads (same bytes) and on the portable kernels (to rounding). */
static size_t check_inbatch(const ib_opts *o)
{
    size_t b = o->b, n = o->b + o->m, d = o->dim;
    double a = sqrt(3.0) / pow((double)d, 0.25);
    float *u = rand_f(b * d, -a, a), *v = rand_f(n * d, -a, a);
    float *lq = o->logq ? rand_f(n, -4, -1) : NULL;
    for (size_t j = b; lq && j < n; j += 4) lq[j] = -INFINITY; /* no candidate */
    uint32_t n_items = (uint32_t)(n / 2 + 1), *items = NULL, *users = NULL;
    pos_tab pt = {NULL, NULL, 0, 0};
    if (o->items) {
        items = malloc(n * sizeof *items);
        for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * n_items);
    }
    if (o->users) {
        pt = make_pos(5, n_items, 0.2);
        users = malloc(b * sizeof *users);
        for (size_t i = 0; i < b; i++) users[i] = (uint32_t)(urand() * 5);
    }
    ib_case c = {b, o->m, d, o->t, o->red, lq, items, users, pt.dense, n_items};
    double *ud = to_d(u, b * d), *vd = to_d(v, n * d);
    double *rdu = malloc(b * d * sizeof *rdu), *rdv = malloc(n * d * sizeof *rdv);
    size_t floors, f;
    double ref = dcl_inbatch(&c, o->tau, ud, vd, rdu, rdv, &floors);
    for (size_t q = 0; q < 4; q++) { /* the reference's gradients, by central differences */
        const double h = 1e-6;
        double *x = q & 1 ? vd : ud, *g = q & 1 ? rdv : rdu;
        size_t e = (size_t)(urand() * (q & 1 ? n * d : b * d));
        double keep = x[e];
        x[e] = keep + h;
        double lp = dcl_inbatch(&c, o->tau, ud, vd, NULL, NULL, &f);
        x[e] = keep - h;
        double lm = dcl_inbatch(&c, o->tau, ud, vd, NULL, NULL, &f);
        x[e] = keep;
        assert_true(fabs((lp - lm) / (2 * h) - g[e]) < 1e-6 * fmax(1.0, fabs(g[e])));
    }
    size_t nl = o->red == NEGS_REDUCE_NONE ? b : 1;
    float *loss0 = NULL, *du0 = NULL, *dv0 = NULL;
    for (int run = 0; run < 4; run++) { /* threads 1, 2, 5, then scalar */
        int th = run == 1 ? 2 : run == 2 ? 5 : 1;
        negs_loss *l = make_loss(o->t, o->red, th, run == 3);
        assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, o->tau), NEGS_OK);
        if (o->users) assert_int_equal(negs_loss_set_positives(l, pt.csr), NEGS_OK);
        float *loss = malloc(nl * sizeof *loss), *du = malloc(b * d * sizeof *du);
        float *dv = malloc(n * d * sizeof *dv);
        assert_int_equal(negs_loss_inbatch(l, b, o->m, d, u, v, lq, items, users, loss, du, dv),
                         NEGS_OK);
        double got = loss[0];
        if (o->red == NEGS_REDUCE_NONE)
            for (size_t i = 1; i < b; i++) got += loss[i];
        assert_true(fabs(got - ref) <= 1e-5 * fmax(1.0, fabs(ref)));
        assert_true(rel_err(du, rdu, b * d, 1e-12) < 1e-5);
        assert_true(rel_err(dv, rdv, n * d, 1e-12) < 1e-5);
        if (run == 0) {
            loss0 = loss, du0 = du, dv0 = dv;
        } else {
            if (run < 3) {
                assert_memory_equal(loss, loss0, nl * sizeof *loss);
                assert_memory_equal(du, du0, b * d * sizeof *du);
                assert_memory_equal(dv, dv0, n * d * sizeof *dv);
            }
            free(loss), free(du), free(dv);
        }
        negs_loss_free(l);
    }
    free(loss0), free(du0), free(dv0);
    free(u), free(v), free(lq), free(items), free(users), free(ud), free(vd), free(rdu),
        free(rdv);
    if (o->users) free_pos(&pt);
    return floors;
}

static void test_inbatch_reference(void **state)
{
    (void)state;
    size_t big = negs_test_sanitized() ? 60 : 230;
    ib_opts cases[] = {
        {1, 0, 4, 1.0, 0.1, NEGS_REDUCE_MEAN, 0, 0, 0, 0},   /* no negative at all */
        {6, 3, 5, 1.0, 0.05, NEGS_REDUCE_SUM, 1, 0, 0, 0},
        {50, 20, 16, 0.5, 0.3, NEGS_REDUCE_NONE, 1, 1, 0, 0}, /* many rows at the floor */
        {70, 9, 12, 0.2, 0.02, NEGS_REDUCE_MEAN, 0, 1, 1, 0},
        {big, 61, 24, 0.1, 0.05, NEGS_REDUCE_MEAN, 1, 1, 1, 0}, /* several blocks and tiles */
    };
    size_t floors[5];
    for (size_t q = 0; q < 5; q++) floors[q] = check_inbatch(&cases[q]);
    assert_true(floors[2] > 0 && floors[2] < 50);
    assert_true(floors[4] < big);
}

/* ---------------------------------------------------------------- plumbing */

/* tau+ = 0 is the plain softmax, byte for byte, after a debiased call on the handle. */
static void test_tau_zero_is_plain(void **state)
{
    (void)state;
    size_t b = 60, m = 20, d = 8, n = b + m;
    float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), *lq = rand_f(n, -5, -1);
    float l0, l1, *du0 = malloc(b * d * 4), *du1 = malloc(b * d * 4);
    float *dv0 = malloc(n * d * 4), *dv1 = malloc(n * d * 4);
    negs_loss *plain = make_loss(0.2, NEGS_REDUCE_MEAN, 1, 0), *l = make_dcl(0.2, 0, 1, 0.1);
    assert_int_equal(negs_loss_inbatch(plain, b, m, d, u, v, lq, NULL, NULL, &l0, du0, dv0), 0);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, NULL, NULL, &l1, du1, dv1), 0);
    assert_true(l0 != l1);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 0.0), NEGS_OK);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, NULL, NULL, &l1, du1, dv1), 0);
    assert_memory_equal(&l0, &l1, sizeof l0);
    assert_memory_equal(du0, du1, b * d * 4);
    assert_memory_equal(dv0, dv1, n * d * 4);
    /* scores: the same */
    float sp[3] = {0.5f, -1, 2}, sn[6] = {1, 2, 0, -1, 3, 0.5f}, a, c, dpa[3], dpc[3], dna[6],
          dnc[6];
    assert_int_equal(negs_loss_scores(plain, 3, 2, sp, sn, NULL, NULL, &a, dpa, dna), 0);
    assert_int_equal(negs_loss_scores(l, 3, 2, sp, sn, NULL, NULL, &c, dpc, dnc), 0);
    assert_memory_equal(&a, &c, sizeof a);
    assert_memory_equal(dpa, dpc, sizeof dpa);
    assert_memory_equal(dna, dnc, sizeof dna);
    double got;
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_TAU_PLUS, &got), NEGS_OK);
    assert_true(got == 0.0);
    negs_loss_free(plain);
    negs_loss_free(l);
    free(u), free(v), free(lq), free(du0), free(du1), free(dv0), free(dv1);
}

/* The indexed calls run the same passes: equal bytes to gathering the rows. */
static void test_indexed_equals_gathered(void **state)
{
    (void)state;
    size_t b = 40, m = 15, d = 12, n = b + m;
    uint32_t nu = 30, ni = 50;
    float *ue = rand_f(nu * d, -1, 1), *ie = rand_f(ni * d, -1, 1), *lq = rand_f(n, -4, -1);
    uint32_t *ui = malloc(b * 4), *ii = malloc(n * 4);
    for (size_t i = 0; i < b; i++) ui[i] = (uint32_t)(urand() * nu);
    for (size_t j = 0; j < n; j++) ii[j] = (uint32_t)(urand() * ni);
    float *u = malloc(b * d * 4), *v = malloc(n * d * 4);
    for (size_t i = 0; i < b; i++) memcpy(u + i * d, ue + ui[i] * d, d * 4);
    for (size_t j = 0; j < n; j++) memcpy(v + j * d, ie + ii[j] * d, d * 4);
    float la, lb, *dua = malloc(b * d * 4), *dub = malloc(b * d * 4);
    float *dva = malloc(n * d * 4), *dvb = malloc(n * d * 4);
    negs_loss *l = make_dcl(0.1, NEGS_REDUCE_MEAN, 2, 0.05);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, ii, NULL, &la, dua, dva), 0);
    assert_int_equal(negs_loss_inbatch_indexed_rows(l, b, m, d, ue, nu, ie, ni, ui, ii, lq, &lb,
                                                    dub, dvb), 0);
    assert_memory_equal(&la, &lb, sizeof la);
    assert_memory_equal(dua, dub, b * d * 4);
    assert_memory_equal(dva, dvb, n * d * 4);
    negs_loss_free(l);
    free(ue), free(ie), free(lq), free(ui), free(ii), free(u), free(v), free(dua), free(dub),
        free(dva), free(dvb);
}

static void test_bad_tau(void **state)
{
    (void)state;
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, -0.01), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "tau_plus"));
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 1.0), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, NAN), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, INFINITY), NEGS_E_INVALID);
    double got;
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_TAU_PLUS, &got), NEGS_OK);
    assert_true(got == 0.0); /* unchanged by the refusals */
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 0.999), NEGS_OK);
    negs_loss_free(l);
    negs_loss *bpr = negs_loss_create(NEGS_LOSS_BPR);
    assert_fails_with(negs_loss_set_param(bpr, NEGS_LP_TAU_PLUS, 0.1), NEGS_E_UNSUPPORTED);
    negs_loss_free(bpr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scores_exact),
        cmocka_unit_test(test_inbatch_exact),
        cmocka_unit_test(test_scores_reference),
        cmocka_unit_test(test_inbatch_reference),
        cmocka_unit_test(test_tau_zero_is_plain),
        cmocka_unit_test(test_indexed_equals_gathered),
        cmocka_unit_test(test_bad_tau),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
