/* negs_loss_inbatch: values and gradients against a dense double reference (itself checked
 * by central finite differences), every option, masks, thread counts, scalar vs SIMD,
 * extreme temperatures and scores, workspace reuse, and argument errors. */
#include <stdio.h>

#include "test_util.h"

#include "core/cpu.h"
#include "core/csr.h"
#include "kernels/kernels.h"
#include "loss/inbatch.h"
#include "test_inbatch_ref.h"
#include "test_inbatch_util.h"

typedef struct opts {
    size_t b, m, dim;
    double t;
    int red, logq, items, users, threads, scalar;
    int holes; /* every third extra column gets logq = -inf (no candidate) */
} opts;

/* Runs one case through the library and the reference; checks loss and gradients. */
static void run_case(const opts *o, double tol)
{
    size_t b = o->b, n = o->b + o->m, d = o->dim;
    /* entries of variance 1 / sqrt(d): scores of standard deviation about 1 */
    double a = sqrt(3.0) / pow((double)d, 0.25);
    float *u = rand_f(b * d, -a, a), *v = rand_f(n * d, -a, a);
    float *lq = o->logq ? rand_f(n, -6, -1) : NULL;
    for (size_t j = o->b; lq && o->holes && j < n; j += 3) lq[j] = -INFINITY;
    uint32_t *items = NULL, *users = NULL;
    uint32_t n_items = (uint32_t)(n / 2 + 1);
    pos_tab pt = {NULL, NULL, 0, 0};
    if (o->items) {
        items = malloc(n * sizeof *items);
        for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * n_items);
    }
    negs_loss *l = make_loss(o->t, o->red, o->threads, o->scalar);
    if (o->users) {
        pt = make_pos(7, n_items, 0.15);
        users = malloc(b * sizeof *users);
        for (size_t i = 0; i < b; i++) users[i] = (uint32_t)(urand() * 7);
        assert_int_equal(negs_loss_set_positives(l, pt.csr), 0);
    }
    size_t nl = o->red == NEGS_REDUCE_NONE ? b : 1;
    float *loss = malloc(nl * sizeof *loss), *du = malloc(b * d * sizeof *du),
          *dv = malloc(n * d * sizeof *dv);
    assert_int_equal(negs_loss_inbatch(l, b, o->m, d, u, v, lq, items, users, loss, du, dv), 0);

    ib_case c = {b, o->m, d, o->t, o->red, lq, items, users, pt.dense, n_items};
    double *ud = to_d(u, b * d), *vd = to_d(v, n * d), *rows = malloc(b * sizeof *rows);
    double *gu = malloc(b * d * sizeof *gu), *gv = malloc(n * d * sizeof *gv);
    double ref = ib_ref(&c, ud, vd, rows, gu, gv);
    if (o->red == NEGS_REDUCE_NONE) {
        for (size_t i = 0; i < b; i++)
            assert_true(fabs(loss[i] - rows[i]) <= tol * fmax(1.0, fabs(rows[i])));
    } else {
        assert_true(fabs(loss[0] - ref) <= tol * fmax(1.0, fabs(ref)));
    }
    if (getenv("IB_DEBUG")) fprintf(stderr, "b%zu m%zu d%zu red%d opt%d%d%d s%d: du %.3g dv %.3g\n", b, o->m, d, o->red, o->logq, o->items, o->users, o->scalar, rel_err(du, gu, b * d, 1e-30), rel_err(dv, gv, n * d, 1e-30));
    assert_true(rel_err(du, gu, b * d, 1e-30) <= tol);
    assert_true(rel_err(dv, gv, n * d, 1e-30) <= tol);

    /* du / dv may be NULL: the others are unchanged */
    float *loss2 = malloc(nl * sizeof *loss2), *du2 = malloc(b * d * sizeof *du2);
    assert_int_equal(negs_loss_inbatch(l, b, o->m, d, u, v, lq, items, users, loss2, du2, NULL),
                     0);
    assert_memory_equal(loss, loss2, nl * sizeof *loss);
    assert_memory_equal(du, du2, b * d * sizeof *du);
    float *dv2 = malloc(n * d * sizeof *dv2);
    assert_int_equal(negs_loss_inbatch(l, b, o->m, d, u, v, lq, items, users, loss2, NULL, dv2),
                     0);
    assert_memory_equal(dv, dv2, n * d * sizeof *dv);
    assert_int_equal(negs_loss_inbatch(l, b, o->m, d, u, v, lq, items, users, loss2, NULL, NULL),
                     0);
    assert_memory_equal(loss, loss2, nl * sizeof *loss);

    negs_loss_free(l);
    free_pos(&pt);
    free(u), free(v), free(lq), free(items), free(users), free(loss), free(du), free(dv);
    free(loss2), free(du2), free(dv2), free(ud), free(vd), free(rows), free(gu), free(gv);
}

/* Central finite differences (in double, of the dense reference loss) against the
 * reference's analytic gradients and against the library's, for every option: reductions,
 * temperatures, logQ, accidental hits, known positives, m = 0 and m > 0. */
static void test_gradients_match_finite_differences(void **state)
{
    (void)state;
    for (int variant = 0; variant < 12; variant++) {
        size_t b = 5, m = (variant % 2) ? 3 : 0, d = 3, n = b + m;
        float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), *lq = rand_f(n, -4, -1);
        uint32_t items[8] = {0, 1, 2, 1, 3, 2, 4, 0}, users[5] = {0, 1, 0, 1, 1};
        uint8_t dense[2 * 5] = {0, 0, 0, 1, 1, 1, 0, 0, 0, 1};
        int level = variant / 2 % 4; /* 0 plain, 1 logq, 2 + item ids, 3 + known positives */
        double t = variant >= 8 ? 0.1 : 1.0;
        int red = variant % 3;
        ib_case c = {b, m, d, t, red, level >= 1 ? lq : NULL, level >= 2 ? items : NULL,
                     level >= 3 ? users : NULL, dense, 5};
        double *ud = to_d(u, b * d), *vd = to_d(v, n * d);
        double gu[15], gv[24];
        ib_ref(&c, ud, vd, NULL, gu, gv);

        negs_loss *l = make_loss(t, red, 1, 0);
        uint64_t indptr[3] = {0, 2, 4};
        uint32_t ind[4] = {3, 4, 0, 4}; /* the dense table above */
        negs_csr *pos = negs_csr_create(2, 5, indptr, ind);
        assert_int_equal(negs_loss_set_positives(l, pos), 0);
        negs_csr_free(pos);
        float loss[5], du[15], dv[24];
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, c.logq, c.item_ids, c.user_ids, loss,
                                           du, dv), 0);
        negs_loss_free(l);

        const double h = 1e-6;
        double fd[39], gmax = 0.0;
        for (size_t q = 0; q < b * d + n * d; q++) {
            double *x = q < b * d ? &ud[q] : &vd[q - b * d], x0 = *x;
            *x = x0 + h;
            double lp = ib_ref(&c, ud, vd, NULL, NULL, NULL);
            *x = x0 - h;
            double lm = ib_ref(&c, ud, vd, NULL, NULL, NULL);
            *x = x0;
            fd[q] = (lp - lm) / (2 * h);
            double g = q < b * d ? gu[q] : gv[q - b * d];
            assert_true(fabs(fd[q] - g) <= 1e-6 * fmax(1.0, fabs(g)));
            gmax = fmax(gmax, fabs(fd[q]));
        }
        for (size_t q = 0; q < b * d + n * d; q++) {
            float g = q < b * d ? du[q] : dv[q - b * d];
            assert_true(fabs(g - fd[q]) <= 1e-5 * gmax);
        }
        free(u), free(v), free(lq), free(ud), free(vd);
    }
}

static void test_matches_reference_all_options(void **state)
{
    (void)state;
    const size_t shapes[][3] = {{1, 0, 1}, {3, 2, 5}, {13, 0, 17}, {50, 21, 33}, {61, 70, 130}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int red = 0; red < 3; red++)
            for (int opt = 0; opt < 4; opt++) {
                opts o = {shapes[s][0], shapes[s][1], shapes[s][2], opt == 3 ? 0.05 : 1.0, red,
                          opt >= 1, opt >= 2, opt >= 2 && shapes[s][0] > 1, 1, 0, 0};
                run_case(&o, 2e-5);
                o.scalar = 1;
                run_case(&o, 2e-5);
                o.holes = o.logq && o.m > 0;
                if (o.holes) run_case(&o, 2e-5);
            }
}

/* Users with more known positives than the batch has distinct items: up to 20 distinct
 * (one hash probe per positive) and up to 8 (more than 4 positives per distinct item: each
 * batch item looked up among the positives), against the reference. */
static void test_many_known_positives(void **state)
{
    (void)state;
    size_t b = 24, m = 16, d = 6, n = b + m;
    uint32_t n_items = 60, n_users = 3;
    pos_tab pt = make_pos(n_users, n_items, 0.7); /* about 42 positives per user */
    for (int distinct = 20; distinct >= 8; distinct -= 12) {
        float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1);
        uint32_t items[40], users[24];
        for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * distinct);
        for (size_t i = 0; i < b; i++) users[i] = (uint32_t)(urand() * n_users);
        negs_loss *l = make_loss(0.5, NEGS_REDUCE_NONE, 2, 0);
        assert_int_equal(negs_loss_set_positives(l, pt.csr), 0);
        float loss[24], du[24 * 6], dv[40 * 6];
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, items, users, loss, du, dv),
                         0);
        ib_case c = {b, m, d, 0.5, NEGS_REDUCE_NONE, NULL, items, users, pt.dense, n_items};
        double *ud = to_d(u, b * d), *vd = to_d(v, n * d), rows[24], gu[24 * 6], gv[40 * 6];
        ib_ref(&c, ud, vd, rows, gu, gv);
        for (size_t i = 0; i < b; i++)
            assert_true(fabs(loss[i] - rows[i]) <= 1e-5 * fmax(1, rows[i]));
        assert_true(rel_err(du, gu, b * d, 1e-30) <= 1e-5);
        assert_true(rel_err(dv, gv, n * d, 1e-30) <= 1e-5);
        negs_loss_free(l);
        free(u), free(v), free(ud), free(vd);
    }
    free_pos(&pt);
}

/* Accidental hits: a duplicated positive masks the other copy only. */
static void test_accidental_hit_exact(void **state)
{
    (void)state;
    /* b = 2, both rows have item 7: row 0 sees only column 0 (and the extra negative) */
    float u[2] = {1.0f, 2.0f}, v[3] = {0.5f, -1.0f, 0.25f};
    uint32_t items[3] = {7, 7, 9};
    float loss[2], du[2], dv[3];
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_NONE, 1, 0);
    assert_int_equal(negs_loss_inbatch(l, 2, 1, 1, u, v, NULL, items, NULL, loss, du, dv), 0);
    /* row 0: logits {0.5, masked, 0.25}; row 1: {masked, -2, 0.5} */
    double l0 = log(exp(0.5) + exp(0.25)) - 0.5, l1 = log(exp(-2.0) + exp(0.5)) + 2.0;
    assert_true(fabs(loss[0] - l0) < 1e-6 && fabs(loss[1] - l1) < 1e-6);
    /* column 1 gets gradient only from its own row 1: (p_11 - 1) u_1 */
    double p11 = exp(-2.0) / (exp(-2.0) + exp(0.5));
    assert_true(fabs(dv[1] - (p11 - 1.0) * 2.0) < 1e-6);
    negs_loss_free(l);
}

/* A column masked for every row (a known positive of all users, not anyone's target)
 * contributes exactly nothing: its gradient is exactly 0 and changing its embedding or logq
 * changes no output bit. */
static void test_masked_slots_contribute_zero(void **state)
{
    (void)state;
    size_t b = 70, m = 40, d = 19, n = b + m;
    float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), *lq = rand_f(n, -5, -1);
    uint32_t *items = malloc(n * sizeof *items), users[70];
    for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(j + 1);
    items[b + 5] = 0; /* item 0: a known positive of both users */
    items[b + 33] = 0;
    for (size_t i = 0; i < b; i++) users[i] = (uint32_t)(i % 2);
    uint64_t indptr[3] = {0, 1, 2};
    uint32_t ind[2] = {0, 0};
    negs_csr *pos = negs_csr_create(2, (uint32_t)n + 1, indptr, ind);
    for (int scalar = 0; scalar < 2; scalar++) {
        negs_loss *l = make_loss(0.3, NEGS_REDUCE_MEAN, 2, scalar);
        assert_int_equal(negs_loss_set_positives(l, pos), 0);
        float loss1, loss2, *du1 = malloc(b * d * 4), *du2 = malloc(b * d * 4),
                            *dv1 = malloc(n * d * 4), *dv2 = malloc(n * d * 4);
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, users, &loss1, du1, dv1),
                         0);
        for (size_t k = 0; k < d; k++) {
            assert_true(dv1[(b + 5) * d + k] == 0.0f && !signbit(dv1[(b + 5) * d + k]));
            assert_true(dv1[(b + 33) * d + k] == 0.0f);
            v[(b + 5) * d + k] = 1e3f * (float)(k + 1); /* would dominate if it counted */
        }
        lq[b + 33] = -1e3f;
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, users, &loss2, du2, dv2),
                         0);
        assert_memory_equal(&loss1, &loss2, sizeof loss1);
        assert_memory_equal(du1, du2, b * d * 4);
        for (size_t j = 0; j < n; j++)
            if (j != b + 5) assert_memory_equal(dv1 + j * d, dv2 + j * d, d * 4);
        negs_loss_free(l);
        free(du1), free(du2), free(dv1), free(dv2);
        for (size_t k = 0; k < d; k++) v[(b + 5) * d + k] = 0.5f;
        lq[b + 33] = -2.0f;
    }
    negs_csr_free(pos);
    free(u), free(v), free(lq), free(items);
}

/* logq = -inf marks an extra column as no candidate: exactly the call without that column
 * (same bytes when it is the last one), its gradient exactly 0; b = 1 with its only negative
 * removed has loss and gradients exactly 0. */
static void test_no_candidate_columns(void **state)
{
    (void)state;
    size_t b = 37, m = 12, d = 9, n = b + m;
    float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), *lq = rand_f(n, -5, -1);
    uint32_t *items = malloc(n * sizeof *items);
    for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * 30);
    for (int scalar = 0; scalar < 2; scalar++) {
        negs_loss *l = make_loss(0.2, NEGS_REDUCE_NONE, 2, scalar);
        float loss1[37], loss2[37], *du1 = malloc(b * d * 4), *du2 = malloc(b * d * 4),
                                    *dv1 = malloc(n * d * 4), *dv2 = malloc(n * d * 4);
        float keep = lq[n - 1];
        lq[n - 1] = -INFINITY;
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, NULL, loss1, du1, dv1),
                         0);
        assert_int_equal(negs_loss_inbatch(l, b, m - 1, d, u, v, lq, items, NULL, loss2, du2,
                                           dv2), 0);
        assert_memory_equal(loss1, loss2, sizeof loss1);
        assert_memory_equal(du1, du2, b * d * 4);
        assert_memory_equal(dv1, dv2, (n - 1) * d * 4);
        for (size_t k = 0; k < d; k++)
            assert_true(dv1[(n - 1) * d + k] == 0.0f && !signbit(dv1[(n - 1) * d + k]));
        lq[n - 1] = keep;
        negs_loss_free(l);
        free(du1), free(du2), free(dv1), free(dv2);
    }
    float u1[2] = {3, -1}, v1[4] = {1, 2, -5, 7}, lq1[2] = {-1.5f, -INFINITY}, loss, du[2], dv[4];
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_MEAN, 1, 0);
    assert_int_equal(negs_loss_inbatch(l, 1, 1, 2, u1, v1, lq1, NULL, NULL, &loss, du, dv), 0);
    assert_true(loss == 0.0f && du[0] == 0.0f && du[1] == 0.0f);
    for (int k = 0; k < 4; k++) assert_true(dv[k] == 0.0f);
    /* a query's own column cannot be -inf; +inf and NaN are refused everywhere */
    lq1[0] = -INFINITY;
    assert_fails_with(negs_loss_inbatch(l, 1, 1, 2, u1, v1, lq1, NULL, NULL, &loss, du, dv),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "logq[0] = -inf"));
    lq1[0] = 0;
    lq1[1] = INFINITY;
    assert_fails_with(negs_loss_inbatch(l, 1, 1, 2, u1, v1, lq1, NULL, NULL, &loss, du, dv),
                      NEGS_E_INVALID);
    lq1[1] = NAN;
    assert_fails_with(negs_loss_inbatch(l, 1, 1, 2, u1, v1, lq1, NULL, NULL, &loss, du, dv),
                      NEGS_E_INVALID);
    negs_loss_free(l);
    free(u), free(v), free(lq), free(items);
}

/* Loss, du and dv of 1, 2 and 5 threads are the same bytes: with full set for every
 * reduction and both kernel paths, else for the SIMD path and the mean. */
static void threads_identical(size_t b, size_t m, size_t d, int full)
{
    size_t n = b + m;
    float *u = rand_f(b * d, -2, 2), *v = rand_f(n * d, -2, 2), *lq = rand_f(n, -8, -1);
    uint32_t *items = malloc(n * sizeof *items);
    for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * 200);
    uint32_t *users = malloc(b * sizeof *users);
    for (size_t i = 0; i < b; i++) users[i] = (uint32_t)(urand() * 9);
    pos_tab pt = make_pos(9, 200, 0.1);
    for (int scalar = 0; scalar < 1 + full; scalar++)
        for (int red = 0; red < (full ? 3 : 1); red++) {
            size_t nl = red == NEGS_REDUCE_NONE ? b : 1;
            float *ref_l = NULL, *ref_du = NULL, *ref_dv = NULL;
            const int counts[3] = {1, 2, 5};
            for (int t = 0; t < 3; t++) {
                negs_loss *l = make_loss(0.2, red, counts[t], scalar);
                assert_int_equal(negs_loss_set_positives(l, pt.csr), 0);
                float *loss = malloc(nl * 4), *du = malloc(b * d * 4), *dv = malloc(n * d * 4);
                assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items,
                                                   red == 1 ? NULL : users, loss, du, dv), 0);
                if (!ref_l) {
                    ref_l = loss, ref_du = du, ref_dv = dv;
                } else {
                    assert_memory_equal(loss, ref_l, nl * 4);
                    assert_memory_equal(du, ref_du, b * d * 4);
                    assert_memory_equal(dv, ref_dv, n * d * 4);
                    free(loss), free(du), free(dv);
                }
                negs_loss_free(l);
            }
            free(ref_l), free(ref_du), free(ref_dv);
        }
    free_pos(&pt);
    free(u), free(v), free(lq), free(items), free(users);
}

static void test_threads_identical_bytes(void **state)
{
    (void)state;
    threads_identical(230, 150, 37, 1);
}

/* dim 400: du streams v in chunks of one 128-column tile (7 of them over 800 columns), and
 * 300 rows make a group of 336 in 4 tile parts of 96 rows per tile. The result must not
 * notice: the same bytes for every thread count, and the dense reference's values. */
static void test_chunked_sweeps(void **state)
{
    (void)state;
    /* The chunking is the same code for both kernel tables and every reduction: under the
     * sanitizers and valgrind (NEGS_SANITIZE) the portable table and the other reductions are
     * left to test_threads_identical_bytes, which covers them on a smaller shape. */
    /* Under NEGS_SANITIZE also a smaller batch (150 + 250: still two tile parts per tile and
     * four du chunks). */
    int full = !negs_test_sanitized();
    size_t b = full ? 300 : 150, m = full ? 500 : 250;
    threads_identical(b, m, 400, full);
    opts o = {b, m, 400, 0.05, NEGS_REDUCE_MEAN, 1, 1, 0, 1, 0, 0};
    /* fp32 sums of 400 products scaled by 1 / T = 20: 2.2e-5 relative on the smaller draw */
    double tol = 4e-5;
    if (full) run_case(&o, tol);
    o.threads = 2;
    run_case(&o, tol);
}

/* More rows than one group holds (at most 480): b = 1500 runs as four groups or more (their
 * size follows the L2 read from the CPU), so dv_j's chain goes through every group's rows in order, the three buffers rotate
 * (the fourth group reuses the first's) and each run holds one group's tiles beside the
 * previous group's rows and du and the one before's dv. The same bytes for 1, 2 and 5
 * threads, and the dense reference's values. */
static void test_several_groups(void **state)
{
    (void)state;
    int full = !negs_test_sanitized();
    threads_identical(1500, 40, 9, full);
    opts o = {1500, 40, 9, 0.2, NEGS_REDUCE_SUM, 1, 1, 1, 2, 0, 0};
    run_case(&o, 1e-5);
}

/* Every SIMD table this CPU has (selected by overriding the handle's detected bits) agrees
 * with the portable one to 1e-6 relative, and keeps the thread-count invariance. */
static void test_scalar_and_simd_agree(void **state)
{
    (void)state;
    size_t b = 150, m = 100, d = 64, n = b + m;
    /* unit-norm-sized rows at temperature 0.05, as two-tower models use */
    float *u = rand_f(b * d, -0.2, 0.2), *v = rand_f(n * d, -0.2, 0.2), *lq = rand_f(n, -8, -1);
    uint32_t *items = malloc(n * sizeof *items);
    for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * 180);
    unsigned have = negs_cpu_features();
    const unsigned isas[3] = {0, NEGS_CPU_AVX2, NEGS_CPU_AVX2 | NEGS_CPU_AVX512};
    double *rdu = NULL, *rdv = NULL, rloss = 0.0; /* the portable table's results */
    for (int s = 0; s < 3; s++) {
        if ((isas[s] & have) != isas[s]) continue;
        float loss[2], *du[2], *dv[2];
        for (int t = 0; t < 2; t++) {
            negs_loss *l = make_loss(0.05, NEGS_REDUCE_SUM, t + 1, 0);
            l->cpu = isas[s]; /* test hook: pick the table */
            double kernel;
            assert_int_equal(negs_loss_get_param(l, NEGS_LP_KERNEL, &kernel), 0);
            assert_int_equal((int)kernel, negs_kernels_select(isas[s])->kind);
            du[t] = malloc(b * d * 4), dv[t] = malloc(n * d * 4);
            assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, NULL, &loss[t], du[t],
                                               dv[t]), 0);
            negs_loss_free(l);
        }
        /* 1 and 2 threads: the same bytes */
        assert_memory_equal(&loss[0], &loss[1], 4);
        assert_memory_equal(du[0], du[1], b * d * 4);
        assert_memory_equal(dv[0], dv[1], n * d * 4);
        if (!rdu) {
            rloss = loss[0], rdu = to_d(du[0], b * d), rdv = to_d(dv[0], n * d);
        } else {
            assert_true(fabs(loss[0] - rloss) <= 1e-6 * fabs(rloss));
            assert_true(rel_err(du[0], rdu, b * d, 0) <= 1e-6);
            assert_true(rel_err(dv[0], rdv, n * d, 0) <= 1e-6);
        }
        free(du[0]), free(du[1]), free(dv[0]), free(dv[1]);
    }
    free(u), free(v), free(lq), free(items), free(rdu), free(rdv);
}

/* Temperature 0.01 with scores up to 1e4 (logits 1e6): finite, and close to the reference. */
static void test_extreme_scores_and_temperature(void **state)
{
    (void)state;
    size_t b = 40, m = 30, d = 4, n = b + m;
    for (int scalar = 0; scalar < 2; scalar++)
        for (int sign = -1; sign <= 1; sign += 2) {
            float *u = rand_f(b * d, -50, 50), *v = rand_f(n * d, -50, 50);
            for (size_t q = 0; q < n * d; q++) v[q] *= (float)sign;
            negs_loss *l = make_loss(0.01, NEGS_REDUCE_MEAN, 2, scalar);
            float loss, *du = malloc(b * d * 4), *dv = malloc(n * d * 4);
            assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, NULL, NULL, &loss, du, dv),
                             0);
            assert_true(isfinite(loss));
            for (size_t q = 0; q < b * d; q++) assert_true(isfinite(du[q]));
            for (size_t q = 0; q < n * d; q++) assert_true(isfinite(dv[q]));
            ib_case c = {b, m, d, 0.01, 0, NULL, NULL, NULL, NULL, 0};
            double *ud = to_d(u, b * d), *vd = to_d(v, n * d);
            double *gu = malloc(b * d * 8), *gv = malloc(n * d * 8);
            double ref = ib_ref(&c, ud, vd, NULL, gu, gv);
            /* logits of 1e6 carry float rounding of about 0.1: compare loosely */
            assert_true(fabs(loss - ref) <= 1e-4 * fabs(ref) + 1.0);
            assert_true(rel_err(du, gu, b * d, 0) <= 0.2);
            negs_loss_free(l);
            free(u), free(v), free(du), free(dv), free(ud), free(vd), free(gu), free(gv);
        }
}

static void test_reductions_consistent(void **state)
{
    (void)state;
    size_t b = 33, m = 9, d = 8, n = b + m;
    float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1);
    float rows[33], sum, mean;
    negs_loss *l = make_loss(0.5, NEGS_REDUCE_NONE, 1, 0);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, NULL, NULL, rows, NULL, NULL), 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_REDUCTION, NEGS_REDUCE_SUM), 0);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, NULL, NULL, &sum, NULL, NULL), 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_REDUCTION, NEGS_REDUCE_MEAN), 0);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, NULL, NULL, &mean, NULL, NULL), 0);
    double s = 0;
    for (size_t i = 0; i < b; i++) s += rows[i];
    assert_true(fabs(sum - s) < 1e-5 * s && fabs(mean - s / b) < 1e-5 * s / b);
    negs_loss_free(l);
    free(u), free(v);
}

/* Same shape again: the workspace is reused, not reallocated. */
static void test_workspace_reused(void **state)
{
    (void)state;
    size_t b = 100, m = 50, d = 16, n = b + m;
    float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), loss;
    float *du = malloc(b * d * 4), *dv = malloc(n * d * 4);
    uint32_t *items = malloc(n * sizeof *items), users[100];
    for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(j % 90);
    for (size_t i = 0; i < b; i++) users[i] = (uint32_t)(i % 7);
    pos_tab pt = make_pos(7, 90, 0.2);
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_MEAN, 2, 0);
    assert_int_equal(negs_loss_set_positives(l, pt.csr), 0);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, items, users, &loss, du, dv), 0);
    negs_ib_ws *w = l->ws;
    assert_non_null(w);
    unsigned char *block = w->block;
    uint32_t *groups = w->groups, *pool = w->pool;
    uint64_t *itab = w->itab;
    size_t cap = w->block_cap;
    for (int r = 0; r < 3; r++) {
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, items, r ? users : NULL,
                                           &loss, du, dv), 0);
        assert_ptr_equal(w->block, block);
        assert_ptr_equal(w->groups, groups);
        assert_ptr_equal(w->pool, pool);
        assert_ptr_equal(w->itab, itab);
        assert_int_equal(w->block_cap, cap);
    }
    /* the item table is left all 0 for the next call */
    for (size_t q = 0; q < w->itab_cap; q++) assert_true(w->itab[q] == 0);
    /* smaller shapes fit too */
    assert_int_equal(negs_loss_inbatch(l, b / 2, m, d, u, v, NULL, items, users, &loss, du, dv),
                     0);
    assert_ptr_equal(w->block, block);
    negs_loss_free(l);
    free_pos(&pt);
    free(u), free(v), free(du), free(dv), free(items);
}

static void test_errors(void **state)
{
    (void)state;
    float u[4] = {1, 2, 3, 4}, v[6] = {1, 0, 0, 1, 1, 1}, lq[3] = {0, 0, 0}, loss[2];
    uint32_t items[3] = {0, 1, 2}, users[2] = {0, 1};
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_MEAN, 1, 0);
    assert_fails_with(negs_loss_inbatch(NULL, 2, 1, 2, u, v, NULL, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, NULL, v, NULL, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, NULL, NULL, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, NULL, NULL, NULL, NULL, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch(l, 0, 1, 2, u, v, NULL, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 0, u, v, NULL, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch(l, 2, SIZE_MAX - 1, 2, u, v, NULL, NULL, NULL, loss,
                                        NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch(l, 2, 1, SIZE_MAX / 2, u, v, NULL, NULL, NULL, loss,
                                        NULL, NULL), NEGS_E_INVALID);
    u[3] = NAN;
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, NULL, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    u[3] = 4;
    v[5] = INFINITY;
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, NULL, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    v[5] = 1;
    lq[1] = -INFINITY; /* a target column */
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, lq, NULL, NULL, loss, NULL, NULL),
                      NEGS_E_INVALID);
    lq[1] = 0;
    /* user_ids without positives: STATE; with them but no item_ids: INVALID */
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, lq, items, users, loss, NULL, NULL),
                      NEGS_E_STATE);
    uint64_t indptr[2] = {0, 1};
    uint32_t ind[1] = {2};
    negs_csr *pos = negs_csr_create(1, 3, indptr, ind);
    assert_int_equal(negs_loss_set_positives(l, pos), 0);
    negs_csr_free(pos);
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, lq, NULL, users, loss, NULL, NULL),
                      NEGS_E_INVALID);
    /* user 1 is out of range of a 1-user table */
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, lq, items, users, loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "user_ids[1] = 1"));
    users[1] = 0;
    items[2] = 3; /* out of the table's 3 items */
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, lq, items, users, loss, NULL, NULL),
                      NEGS_E_INVALID);
    items[2] = 2;
    assert_int_equal(negs_loss_inbatch(l, 2, 1, 2, u, v, lq, items, users, loss, NULL, NULL), 0);
    /* scores that overflow float */
    float big_u[4] = {3e38f, 3e38f, 1, 1}, big_v[6] = {3e38f, 3e38f, 1, 1, 1, 1};
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, big_u, big_v, NULL, NULL, NULL, loss, NULL,
                                        NULL), NEGS_E_INVALID);
    negs_loss_free(l);
    /* other kinds refuse the fused in-batch loss */
    for (int kind = NEGS_LOSS_BCE; kind <= NEGS_LOSS_LISTNET; kind++) {
        if (kind == NEGS_LOSS_SOFTMAX) continue;
        negs_loss *o = negs_loss_create(kind);
        assert_fails_with(negs_loss_inbatch(o, 2, 1, 2, u, v, NULL, NULL, NULL, loss, NULL, NULL),
                          NEGS_E_UNSUPPORTED);
        negs_loss_free(o);
    }
}

static void test_cosine_param(void **state)
{
    (void)state;
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_MEAN, 1, 0);
    double v = -1;
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_COSINE, &v), 0);
    assert_true(v == 0.0);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_COSINE, 0.5), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_COSINE, 2), NEGS_E_INVALID);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, 1), 0);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_COSINE, &v), 0);
    assert_true(v == 1.0);
    negs_loss_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients_match_finite_differences),
        cmocka_unit_test(test_matches_reference_all_options),
        cmocka_unit_test(test_many_known_positives),
        cmocka_unit_test(test_accidental_hit_exact),
        cmocka_unit_test(test_masked_slots_contribute_zero),
        cmocka_unit_test(test_no_candidate_columns),
        cmocka_unit_test(test_threads_identical_bytes),
        cmocka_unit_test(test_chunked_sweeps),
        cmocka_unit_test(test_several_groups),
        cmocka_unit_test(test_scalar_and_simd_agree),
        cmocka_unit_test(test_extreme_scores_and_temperature),
        cmocka_unit_test(test_reductions_consistent),
        cmocka_unit_test(test_workspace_reused),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_cosine_param),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
