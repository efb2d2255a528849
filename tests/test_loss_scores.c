/* negs_loss_scores: exact small cases, a double reference and central finite differences for
 * every kind and option, masks, reductions, threads, kernels, extremes and bad input. */
#include <float.h>
#include <stdio.h>

#include "test_util.h"
#include "core/cpu.h"
#include "loss/loss_internal.h" /* to run the AVX2 kernel on an AVX-512 machine */

/* |a - b| <= tol in double (cmocka's assert_float_equal compares in float). */
#define assert_near(a, b, tol)                                                          \
    do {                                                                                \
        double a_ = (a), b_ = (b), t_ = (tol);                                          \
        if (!(fabs(a_ - b_) <= t_)) {                                                   \
            print_error("%s = %.12g, expected %.12g (tolerance %g)\n", #a, a_, b_, t_); \
            fail();                                                                     \
        }                                                                               \
    } while (0)
#include "test_loss_scores_ref.h"

static const int kinds[] = {NEGS_LOSS_BCE, NEGS_LOSS_BPR, NEGS_LOSS_HINGE, NEGS_LOSS_SOFTMAX,
                            NEGS_LOSS_LISTNET};

/* xorshift for test inputs only (the library's own randomness is not involved here) */
static uint64_t rs = 88172645463325252ull;
static double urand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (double)(rs >> 11) / 9007199254740992.0;
}

struct data {
    size_t n;
    uint32_t k;
    float *pos, *neg, *logq;
    uint8_t *mask;
    double *dpos, *dneg, *dlogq;
};

static void data_fill(struct data *d, size_t n, uint32_t k, double scale, int with_logq,
                      int with_mask)
{
    d->n = n;
    d->k = k;
    d->pos = malloc(n * sizeof *d->pos);
    d->neg = malloc(n * k * sizeof *d->neg);
    d->logq = with_logq ? malloc(n * k * sizeof *d->logq) : NULL;
    d->mask = with_mask ? calloc(n * k, 1) : NULL;
    d->dpos = malloc(n * sizeof *d->dpos);
    d->dneg = malloc(n * k * sizeof *d->dneg);
    d->dlogq = with_logq ? malloc(n * k * sizeof *d->dlogq) : NULL;
    for (size_t i = 0; i < n; i++) d->dpos[i] = d->pos[i] = (float)(scale * (2 * urand() - 1));
    for (size_t e = 0; e < n * k; e++) {
        d->dneg[e] = d->neg[e] = (float)(scale * (2 * urand() - 1));
        if (d->logq) d->dlogq[e] = d->logq[e] = (float)(-1.0 - 8.0 * urand());
        if (d->mask) d->mask[e] = urand() < 0.3;
    }
    /* one fully masked row, when there is room for it */
    if (d->mask && n > 2)
        for (uint32_t j = 0; j < k; j++) d->mask[k + j] = 1;
}

static void data_free(struct data *d)
{
    free(d->pos);
    free(d->neg);
    free(d->logq);
    free(d->mask);
    free(d->dpos);
    free(d->dneg);
    free(d->dlogq);
}

static negs_loss *make_loss(int kind, double t, int red, double margin)
{
    negs_loss *l = negs_loss_create(kind);
    assert_non_null(l);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, t), NEGS_OK);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_REDUCTION, red), NEGS_OK);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_MARGIN, margin), NEGS_OK);
    return l;
}

static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
    return m;
}

/* ---------------------------------------------------------------- exact small cases */

static float run1(int kind, float pos, const float *neg, uint32_t k, float *dp, float *dn)
{
    negs_loss *l = negs_loss_create(kind);
    float loss = -1;
    assert_int_equal(negs_loss_scores(l, 1, k, &pos, neg, NULL, NULL, &loss, dp, dn), NEGS_OK);
    negs_loss_free(l);
    return loss;
}

static void test_exact_values(void **state)
{
    (void)state;
    const float z2[2] = {0, 0};
    float dp, dn[2];
    /* BCE at zero logits: 3 log 2; d = sigmoid - label */
    assert_near(run1(NEGS_LOSS_BCE, 0, z2, 2, &dp, dn), 3 * log(2.0), 1e-6);
    assert_near(dp, -0.5, 1e-7);
    assert_near(dn[0], 0.5, 1e-7);
    /* SOFTMAX over three equal logits: log 3, p = 1/3 */
    assert_near(run1(NEGS_LOSS_SOFTMAX, 0, z2, 2, &dp, dn), log(3.0), 1e-6);
    assert_near(dp, 1.0 / 3 - 1, 1e-7);
    assert_near(dn[1], 1.0 / 3, 1e-7);
    /* BPR: mean of -log sigmoid(1 - 0) and -log sigmoid(1 - 2) */
    const float n12[2] = {0, 2};
    double want = 0.5 * (log1p(exp(-1.0)) + log1p(exp(1.0)));
    assert_near(run1(NEGS_LOSS_BPR, 1, n12, 2, &dp, dn), want, 1e-6);
    assert_near(dn[0], 0.5 / (1 + exp(1.0)), 1e-7);
    /* HINGE (margin 1): mean(max(0, 1 - 1 + 0), max(0, 1 - 1 + 2)) = 1; only slot 1 active */
    assert_near(run1(NEGS_LOSS_HINGE, 1, n12, 2, &dp, dn), 1.0, 1e-7);
    assert_true(dn[0] == 0.0f && dn[1] == 0.5f && dp == -0.5f);
    /* LISTNET with equal logits: cross entropy of t against uniform = log 3 */
    assert_near(run1(NEGS_LOSS_LISTNET, 0, z2, 2, &dp, dn), log(3.0), 1e-6);
    double t0 = exp(1.0) / (exp(1.0) + 2);
    assert_near(dp, 1.0 / 3 - t0, 1e-7);
}

/* Temperature, logQ and margin follow the one order logit = score / T - logq. */
static void test_order_of_operations(void **state)
{
    (void)state;
    float pos = 3.0f, neg[1] = {1.0f}, lq[1] = {-0.5f}, loss;
    negs_loss *l = make_loss(NEGS_LOSS_HINGE, 2.0, NEGS_REDUCE_SUM, 0.25);
    /* max(0, 0.25 - 3/2 + (1/2 + 0.5)) = 0 ; with margin 1: 0.5 */
    assert_int_equal(negs_loss_scores(l, 1, 1, &pos, neg, lq, NULL, &loss, NULL, NULL), 0);
    assert_true(loss == 0.0f);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_MARGIN, 1.0), 0);
    assert_int_equal(negs_loss_scores(l, 1, 1, &pos, neg, lq, NULL, &loss, NULL, NULL), 0);
    assert_near(loss, 0.5, 1e-7);
    negs_loss_free(l);
    /* SOFTMAX: logits [3/2, 1/2 + 0.5] */
    l = make_loss(NEGS_LOSS_SOFTMAX, 2.0, NEGS_REDUCE_SUM, 1);
    assert_int_equal(negs_loss_scores(l, 1, 1, &pos, neg, lq, NULL, &loss, NULL, NULL), 0);
    assert_near(loss, log1p(exp(1.0 - 1.5)), 1e-7);
    negs_loss_free(l);
    /* BCE: the negative's logit 1/2 + 0.5 = 1, the positive's 3/2 (no logq for it) */
    l = make_loss(NEGS_LOSS_BCE, 2.0, NEGS_REDUCE_SUM, 1);
    assert_int_equal(negs_loss_scores(l, 1, 1, &pos, neg, lq, NULL, &loss, NULL, NULL), 0);
    assert_near(loss, log1p(exp(-1.5)) + log1p(exp(1.0)), 1e-6);
    negs_loss_free(l);
}

/* ---------------------------------------------------------------- reference and FD */

static void check_case(int kind, size_t n, uint32_t k, double T, int red, int with_logq,
                       int with_mask, double scale)
{
    struct data d;
    data_fill(&d, n, k, scale, with_logq, with_mask);
    const double margin = 0.75;
    negs_loss *l = make_loss(kind, T, red, margin);
    float *loss = malloc(n * sizeof *loss), *gp = malloc(n * sizeof *gp);
    float *gn = malloc(n * k * sizeof *gn);
    assert_int_equal(negs_loss_scores(l, n, k, d.pos, d.neg, d.logq, d.mask, loss, gp, gn),
                     NEGS_OK);
    struct ref_case c = {kind, red, n, k, T, margin, d.dpos, d.dneg, d.dlogq, d.mask};
    char what[160];
    snprintf(what, sizeof what, "kind %d n %zu k %u T %g red %d logq %d mask %d", kind, n, k, T,
             red, with_logq, with_mask);
    /* losses: 1e-5 relative (per row for NONE, relative to the row scale) */
    if (red == NEGS_REDUCE_NONE) {
        double sc = 1e-30;
        for (size_t i = 0; i < n; i++) sc = fmax(sc, fabs(ref_row(&c, i)));
        for (size_t i = 0; i < n; i++) {
            double r = ref_row(&c, i);
            if (!(fabs(loss[i] - r) <= 1e-5 * fmax(fabs(r), 1e-3 * sc))) {
                print_error("%s: row %zu loss %.9g vs %.9g\n", what, i, loss[i], r);
                fail();
            }
        }
    } else {
        double r = ref_total(&c);
        if (!(fabs(loss[0] - r) <= 1e-5 * fabs(r) + 1e-12)) {
            print_error("%s: loss %.9g vs %.9g\n", what, loss[0], r);
            fail();
        }
    }
    /* gradients: central differences of the double reference */
    double gscale = fmax(max_abs(gp, n), max_abs(gn, n * k));
    /* FD in double is good to ~1e-9 relative on short rows; on rows of thousands of slots
     * its own rounding noise grows, so the bound does too */
    double tol = (k > 64 ? 3e-5 : 2e-6) * gscale + 1e-12;
    /* Each difference re-evaluates the reference (O(n k)): under NEGS_SANITIZE (sanitizers,
     * valgrind) long cases check about 256 rows and 256 slots spread over the arrays. */
    size_t pstride = negs_test_sanitized() && n > 256 ? (n / 256) | 1 : 1;
    for (size_t i = 0; i < n; i += pstride) {
        double fd = ref_fd(&c, &d.dpos[i]);
        if (!(fabs(gp[i] - fd) <= tol)) {
            print_error("%s: d_pos[%zu] %.9g vs fd %.9g\n", what, i, gp[i], fd);
            fail();
        }
    }
    size_t stride = negs_test_sanitized() && n * k > 256 ? (n * k / 256) | 1 : 1;
    for (size_t e = 0; e < n * k; e++) {
        if (d.mask && d.mask[e]) {
            assert_true(gn[e] == 0.0f && !signbit(gn[e]));
            continue;
        }
        if (e % stride) continue;
        double fd = ref_fd(&c, &d.dneg[e]);
        if (!(fabs(gn[e] - fd) <= tol)) {
            print_error("%s: d_neg[%zu] %.9g vs fd %.9g\n", what, e, gn[e], fd);
            fail();
        }
    }
    free(loss);
    free(gp);
    free(gn);
    negs_loss_free(l);
    data_free(&d);
}

static void test_reference_and_fd(void **state)
{
    (void)state;
    static const uint32_t ks[] = {1, 3, 8};
    static const double ts[] = {1.0, 0.5, 2.5};
    for (size_t a = 0; a < 5; a++)
        for (size_t b = 0; b < 3; b++)
            for (int red = 0; red < 3; red++)
                for (int opt = 0; opt < 4; opt++)
                    check_case(kinds[a], 7, ks[b], ts[(b + red + opt) % 3], red, opt & 1,
                               opt >> 1, 3.0);
}

/* Rows longer than one tile take the segmented path. */
static void test_long_rows(void **state)
{
    (void)state;
    for (size_t a = 0; a < 5; a++) {
        check_case(kinds[a], 3, 1500, 0.7, NEGS_REDUCE_NONE, 1, 1, 2.0);
        check_case(kinds[a], 2, 2049, 1.3, NEGS_REDUCE_MEAN, 0, 0, 2.0);
    }
}

/* Many rows per tile and several tiles per part (k small, n past a tile). */
static void test_many_rows(void **state)
{
    (void)state;
    for (size_t a = 0; a < 5; a++) {
        check_case(kinds[a], 1100, 1, 1.0, NEGS_REDUCE_MEAN, 1, 1, 4.0);
        check_case(kinds[a], 300, 5, 0.8, NEGS_REDUCE_SUM, 0, 1, 4.0);
    }
}

/* ---------------------------------------------------------------- masks */

/* Masked slots contribute exactly nothing: their values (even NaN) do not matter, their
 * gradient is +0, and a row equals the same row with the masked slots removed. */
static void test_masked_slots(void **state)
{
    (void)state;
    const float pos[2] = {0.3f, -0.2f};
    const float negA[6] = {0.1f, 9.0f, -0.4f, 0.7f, -3.0f, 2.0f};
    float negB[6], lqB[6];
    memcpy(negB, negA, sizeof negA);
    for (int e = 0; e < 6; e++) lqB[e] = -1.0f;
    const uint8_t mask[6] = {0, 1, 0, 1, 1, 1}; /* row 1 fully masked */
    negB[1] = NAN;
    negB[3] = INFINITY;
    lqB[4] = -INFINITY;
    const float lqA[6] = {-1, -1, -1, -1, -1, -1};
    /* the compacted row 0 */
    const float negC[2] = {0.1f, -0.4f}, lqC[2] = {-1, -1};
    for (size_t a = 0; a < 5; a++) {
        negs_loss *l = make_loss(kinds[a], 0.9, NEGS_REDUCE_NONE, 1.0);
        float la[2], lb[2], lc, gpa[2], gpb[2], gna[6], gnb[6], gpc, gnc[2];
        assert_int_equal(negs_loss_scores(l, 2, 3, pos, negA, lqA, mask, la, gpa, gna), 0);
        assert_int_equal(negs_loss_scores(l, 2, 3, pos, negB, lqB, mask, lb, gpb, gnb), 0);
        assert_memory_equal(la, lb, sizeof la);
        assert_memory_equal(gpa, gpb, sizeof gpa);
        assert_memory_equal(gna, gnb, sizeof gna);
        for (int e = 0; e < 6; e++)
            if (mask[e]) assert_true(gnb[e] == 0.0f && !signbit(gnb[e]));
        assert_int_equal(negs_loss_scores(l, 1, 2, pos, negC, lqC, NULL, &lc, &gpc, gnc), 0);
        assert_near(la[0], lc, 1e-6 * fabs(lc) + 1e-7);
        assert_near(gpa[0], gpc, 1e-6);
        assert_near(gna[0], gnc[0], 1e-6);
        assert_near(gna[2], gnc[1], 1e-6);
        /* a fully masked row: BCE keeps its positive term, the others give exactly 0 */
        if (kinds[a] == NEGS_LOSS_BCE) {
            assert_near(la[1], log1p(exp(0.2 / 0.9)), 1e-6);
        } else {
            assert_true(la[1] == 0.0f && gpa[1] == 0.0f);
        }
        negs_loss_free(l);
    }
}

/* A mask of zeros gives the same gradients and row losses as no mask. */
static void test_zero_mask_equals_none(void **state)
{
    (void)state;
    struct data d;
    data_fill(&d, 50, 6, 2.0, 1, 0);
    uint8_t *zm = calloc(50 * 6, 1);
    for (size_t a = 0; a < 5; a++) {
        negs_loss *l = make_loss(kinds[a], 0.6, NEGS_REDUCE_NONE, 1.0);
        float l1[50], l2[50], p1[50], p2[50], n1[300], n2[300];
        assert_int_equal(negs_loss_scores(l, 50, 6, d.pos, d.neg, d.logq, NULL, l1, p1, n1), 0);
        assert_int_equal(negs_loss_scores(l, 50, 6, d.pos, d.neg, d.logq, zm, l2, p2, n2), 0);
        for (int i = 0; i < 50; i++) assert_near(l1[i], l2[i], 1e-6 * fabs(l1[i]));
        assert_memory_equal(n1, n2, sizeof n1);
        for (int i = 0; i < 50; i++) assert_near(p1[i], p2[i], 1e-6);
        negs_loss_free(l);
    }
    free(zm);
    data_free(&d);
}

/* ---------------------------------------------------------------- reductions and NULLs */

static void test_reductions_and_null_outputs(void **state)
{
    (void)state;
    struct data d;
    data_fill(&d, 40, 4, 2.0, 1, 1);
    for (size_t a = 0; a < 5; a++) {
        float rows[40], sum, mean, gp[40], gn[160], gp_sum[40], gn_sum[160], gp2[40], gn2[160];
        negs_loss *l = make_loss(kinds[a], 0.8, NEGS_REDUCE_NONE, 1.0);
        assert_int_equal(negs_loss_scores(l, 40, 4, d.pos, d.neg, d.logq, d.mask, rows, gp, gn),
                         0);
        negs_loss_set_param(l, NEGS_LP_REDUCTION, NEGS_REDUCE_SUM);
        assert_int_equal(
            negs_loss_scores(l, 40, 4, d.pos, d.neg, d.logq, d.mask, &sum, gp_sum, gn_sum), 0);
        double s = 0;
        for (int i = 0; i < 40; i++) s += rows[i];
        assert_near(sum, s, 1e-5 * fabs(s));
        /* NONE gives the gradients of the sum */
        assert_memory_equal(gp, gp_sum, sizeof gp);
        assert_memory_equal(gn, gn_sum, sizeof gn);
        negs_loss_set_param(l, NEGS_LP_REDUCTION, NEGS_REDUCE_MEAN);
        assert_int_equal(negs_loss_scores(l, 40, 4, d.pos, d.neg, d.logq, d.mask, &mean, gp, gn),
                         0);
        assert_near(mean, s / 40, 1e-5 * fabs(s / 40));
        for (int e = 0; e < 160; e++) assert_near(gn[e], gn_sum[e] / 40, 1e-6);
        /* NULL gradients: same loss, and the other gradient unchanged */
        float m2;
        assert_int_equal(negs_loss_scores(l, 40, 4, d.pos, d.neg, d.logq, d.mask, &m2, NULL, NULL),
                         0);
        assert_true(m2 == mean);
        assert_int_equal(negs_loss_scores(l, 40, 4, d.pos, d.neg, d.logq, d.mask, &m2, gp2, NULL),
                         0);
        assert_memory_equal(gp2, gp, sizeof gp);
        assert_int_equal(negs_loss_scores(l, 40, 4, d.pos, d.neg, d.logq, d.mask, &m2, NULL, gn2),
                         0);
        assert_memory_equal(gn2, gn, sizeof gn);
        negs_loss_free(l);
    }
    data_free(&d);
}

/* ---------------------------------------------------------------- threads and kernels */

/* isa: 0 the handle's choice, 1 NEGS_LP_FORCE_SCALAR, 2 at most AVX2 */
static void run_all(int kind, int threads, int isa, const struct data *d, int red, float *loss,
                    float *gp, float *gn)
{
    negs_loss *l = make_loss(kind, 0.7, red, 1.0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_THREADS, threads), 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_FORCE_SCALAR, isa == 1), 0);
    if (isa == 2) {
        double kern;
        l->cpu &= NEGS_CPU_AVX2;
        assert_int_equal(negs_loss_get_param(l, NEGS_LP_KERNEL, &kern), 0);
        assert_true(kern == NEGS_KERNEL_AVX2);
    }
    assert_int_equal(negs_loss_scores(l, d->n, d->k, d->pos, d->neg, d->logq, d->mask, loss, gp, gn),
                     0);
    negs_loss_free(l);
}

/* Shapes that split into several parts (and, for k = 1500, rows of several segments). */
static const struct { size_t n; uint32_t k; } shapes[] = {{70000, 1}, {40000, 4}, {3000, 64},
                                                         {100, 1500}};

static void test_threads_identical(void **state)
{
    (void)state;
    for (size_t s = 0; s < 4; s++) {
        struct data d;
        data_fill(&d, shapes[s].n, shapes[s].k, 3.0, 1, s & 1);
        size_t n = d.n, nk = d.n * d.k;
        float *l1 = malloc(n * 4), *l2 = malloc(n * 4), *p1 = malloc(n * 4), *p2 = malloc(n * 4);
        float *g1 = malloc(nk * 4), *g2 = malloc(nk * 4);
        for (size_t a = 0; a < 5; a++) {
            int red = (int)((a + s) % 3);
            run_all(kinds[a], 1, 0, &d, red, l1, p1, g1);
            for (int t = 2; t <= 5; t += 3) {
                memset(l2, 0, n * 4);
                run_all(kinds[a], t, 0, &d, red, l2, p2, g2);
                assert_memory_equal(l1, l2, red == NEGS_REDUCE_NONE ? n * 4 : 4);
                assert_memory_equal(p1, p2, n * 4);
                assert_memory_equal(g1, g2, nk * 4);
            }
        }
        free(l1);
        free(l2);
        free(p1);
        free(p2);
        free(g1);
        free(g2);
        data_free(&d);
    }
}

/* Relative to each entry, floored at a tenth of the array's largest entry: ListNet's gradient
 * p - t is a difference of nearly equal terms, whose rounding is relative to the terms. */
static void assert_close_rel(const float *a, const float *b, size_t n, double rel)
{
    double sc = fmax(max_abs(b, n), 1e-30);
    for (size_t i = 0; i < n; i++)
        if (!(fabs(a[i] - b[i]) <= rel * fmax(fabs(b[i]), 0.1 * sc))) {
            print_error("index %zu: %.9g vs %.9g\n", i, a[i], b[i]);
            fail();
        }
}

static void test_scalar_matches_simd(void **state)
{
    (void)state;
    double kern;
    negs_loss *probe = negs_loss_create(NEGS_LOSS_BCE);
    negs_loss_get_param(probe, NEGS_LP_KERNEL, &kern);
    negs_loss_free(probe);
    if (kern == NEGS_KERNEL_SCALAR)
        print_message("(no SIMD kernel on this CPU: comparing scalar with itself)\n");
    const int avx2 = (negs_cpu_features() & NEGS_CPU_AVX2) != 0;
    for (size_t s = 0; s < 4; s++) {
        struct data d;
        data_fill(&d, shapes[s].n / 4, shapes[s].k, 5.0, s & 1, (s >> 1) & 1);
        size_t n = d.n, nk = d.n * d.k;
        float *l1 = malloc(n * 4), *l2 = malloc(n * 4), *p1 = malloc(n * 4), *p2 = malloc(n * 4);
        float *g1 = malloc(nk * 4), *g2 = malloc(nk * 4);
        for (size_t a = 0; a < 5; a++) {
            run_all(kinds[a], 1, 0, &d, NEGS_REDUCE_NONE, l1, p1, g1);
            run_all(kinds[a], 1, 1, &d, NEGS_REDUCE_NONE, l2, p2, g2);
            assert_close_rel(l1, l2, n, 1e-6);
            assert_close_rel(p1, p2, n, 1e-6);
            assert_close_rel(g1, g2, nk, 1e-6);
            if (avx2) {
                run_all(kinds[a], 1, 2, &d, NEGS_REDUCE_NONE, l1, p1, g1);
                assert_close_rel(l1, l2, n, 1e-6);
                assert_close_rel(p1, p2, n, 1e-6);
                assert_close_rel(g1, g2, nk, 1e-6);
            }
        }
        free(l1);
        free(l2);
        free(p1);
        free(p2);
        free(g1);
        free(g2);
        data_free(&d);
    }
}

/* ---------------------------------------------------------------- numerics at the extremes */

static void test_extremes(void **state)
{
    (void)state;
    /* T = 0.01 and scores up to +-1e4: logits up to +-1e6 */
    for (int opt = 0; opt < 4; opt++)
        for (size_t a = 0; a < 5; a++) {
            struct data d;
            data_fill(&d, 64, 16, 1e4, opt & 1, opt >> 1);
            d.dpos[0] = d.pos[0] = 1e4f;
            d.dneg[0] = d.neg[0] = -1e4f;
            d.dpos[3] = d.pos[3] = -1e4f;
            d.dneg[3 * 16] = d.neg[3 * 16] = 1e4f;
            negs_loss *l = make_loss(kinds[a], 0.01, NEGS_REDUCE_NONE, 1.0);
            float loss[64], gp[64], gn[64 * 16];
            assert_int_equal(negs_loss_scores(l, 64, 16, d.pos, d.neg, d.logq, d.mask, loss, gp, gn),
                             0);
            struct ref_case c = {kinds[a], NEGS_REDUCE_NONE, 64, 16, 0.01, 1.0,
                                 d.dpos, d.dneg, d.dlogq, d.mask};
            for (int i = 0; i < 64; i++) {
                assert_true(isfinite(loss[i]) && isfinite(gp[i]));
                double r = ref_row(&c, i);
                /* the logits are ~1e6, formed in float: compare at that scale */
                if (!(fabs(loss[i] - r) <= 1e-5 * fmax(fabs(r), 1.0) + 0.5)) {
                    print_error("kind %d opt %d row %d: %.9g vs %.9g\n", kinds[a], opt, i, loss[i], r);
                    fail();
                }
            }
            for (int e = 0; e < 64 * 16; e++) assert_true(isfinite(gn[e]));
            negs_loss_free(l);
            data_free(&d);
        }
    /* a huge positive margin of victory: the softmax loss is tiny but not 0 */
    negs_loss *l = make_loss(NEGS_LOSS_SOFTMAX, 1.0, NEGS_REDUCE_SUM, 1.0);
    float pos = 20.0f, neg[2] = {0.0f, 0.0f}, loss;
    assert_int_equal(negs_loss_scores(l, 1, 2, &pos, neg, NULL, NULL, &loss, NULL, NULL), 0);
    assert_near(loss, log1p(2 * exp(-20.0)), 1e-6 * log1p(2 * exp(-20.0)));
    negs_loss_free(l);
}

/* ---------------------------------------------------------------- bad input */

static void test_errors(void **state)
{
    (void)state;
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    float pos[2] = {0, 1}, neg[4] = {0, 1, 2, 3}, lq[4] = {0, 0, 0, 0}, loss[2];
    uint8_t mk[4] = {0, 0, 0, 0};
    assert_fails_with(negs_loss_scores(NULL, 2, 2, pos, neg, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_scores(l, 2, 2, NULL, neg, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_scores(l, 2, 2, pos, NULL, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_scores(l, 2, 2, pos, neg, NULL, NULL, NULL, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_scores(l, 0, 2, pos, neg, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_scores(l, 2, 0, pos, neg, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_scores(l, SIZE_MAX / 2, 4, pos, neg, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    neg[3] = NAN;
    assert_fails_with(negs_loss_scores(l, 2, 2, pos, neg, lq, mk, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "neg[3]"));
    mk[3] = 1; /* masked: ignored */
    assert_int_equal(negs_loss_scores(l, 2, 2, pos, neg, lq, mk, loss, NULL, NULL), 0);
    neg[3] = 3;
    lq[2] = INFINITY;
    assert_fails_with(negs_loss_scores(l, 2, 2, pos, neg, lq, mk, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "neg_logq[2]"));
    lq[2] = 0;
    pos[1] = -INFINITY;
    assert_fails_with(negs_loss_scores(l, 2, 2, pos, neg, lq, mk, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "pos[1]"));
    pos[1] = 3e38f;
    neg[2] = -3e38f; /* finite, but the logit difference overflows */
    assert_fails_with(negs_loss_scores(l, 2, 2, pos, neg, lq, mk, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "overflows"));
    negs_loss_free(l);
    /* parameters out of range */
    l = negs_loss_create(NEGS_LOSS_HINGE);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 0.0), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, NAN), NEGS_E_INVALID);
    /* refused at set_param (1/T not a float, margin beyond float), not at every call */
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 1e-300), NEGS_E_INVALID);
    pos[1] = 1;
    neg[2] = 2;
    assert_int_equal(negs_loss_scores(l, 2, 2, pos, neg, NULL, NULL, loss, NULL, NULL), 0);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_MARGIN, 1e300), NEGS_E_INVALID);
    assert_int_equal(negs_loss_scores(l, 2, 2, pos, neg, NULL, NULL, loss, NULL, NULL), 0);
    negs_loss_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_values),
        cmocka_unit_test(test_order_of_operations),
        cmocka_unit_test(test_reference_and_fd),
        cmocka_unit_test(test_long_rows),
        cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_masked_slots),
        cmocka_unit_test(test_zero_mask_equals_none),
        cmocka_unit_test(test_reductions_and_null_outputs),
        cmocka_unit_test(test_threads_identical),
        cmocka_unit_test(test_scalar_matches_simd),
        cmocka_unit_test(test_extremes),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
