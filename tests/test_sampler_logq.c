/* negs_sampler_logq against brute force (every item of small catalogues, every kind, exclusion,
 * UNIQUE, mixtures with schedules) and against sample's own out_logq; UNIFORM support sets. */
#include <stdio.h>

#include "test_util.h"

#include "sampler/sampler_internal.h"

#define LQ_TOL 2e-5

static int has(const char *needle)
{
    return strstr(negs_last_error(), needle) != NULL;
}

/* Brute force: the expected count of each item among k draws, from the eligible items and
 * their weights (w = NULL: unweighted). UNIQUE weighted: pi = min(1, c w), sum k (bisection). */
static void reference(const double *w, const int *elig, int n, uint32_t k, int unique, double *q)
{
    double z = 0.0;
    int m = 0;
    for (int i = 0; i < n; i++)
        if (elig[i] && (!w || w[i] > 0.0)) {
            z += w ? w[i] : 1.0;
            m++;
        }
    if (!unique || !w) {
        for (int i = 0; i < n; i++)
            q[i] = elig[i] && (!w || w[i] > 0.0) ? (unique ? (double)k / m : k * (w ? w[i] : 1.0) / z)
                                                 : 0.0;
        return;
    }
    double lo = 0.0, hi = 1e9;
    for (int it = 0; it < 400; it++) {
        double c = 0.5 * (lo + hi), sum = 0.0;
        for (int i = 0; i < n; i++) sum += elig[i] ? fmin(1.0, c * w[i]) : 0.0;
        if (sum < k) lo = c;
        else hi = c;
    }
    for (int i = 0; i < n; i++) q[i] = elig[i] ? fmin(1.0, hi * w[i]) : 0.0;
}

/* Queries every item of one row and compares with log(expect), -inf where expect is 0. */
static void check_row(const negs_sampler *s, uint64_t step, const uint32_t *user,
                      const uint32_t *pos, uint32_t k, const double *expect, uint32_t n)
{
    uint32_t items[256], users[256], poss[256];
    float lq[256];
    assert_true(n <= 256);
    for (uint32_t i = 0; i < n; i++) {
        items[i] = i;
        users[i] = user ? *user : 0;
        poss[i] = pos ? *pos : 0;
    }
    assert_int_equal(negs_sampler_logq(s, step, n, user ? users : NULL, pos ? poss : NULL, items,
                                       k, lq), NEGS_OK);
    for (uint32_t i = 0; i < n; i++) {
        if (expect[i] == 0.0) {
            if (lq[i] != -INFINITY) fprintf(stderr, "item %u: logq %g, expected -inf\n", i, lq[i]);
            assert_true(lq[i] == -INFINITY);
            continue;
        }
        double d = fabs((double)lq[i] - log(expect[i]));
        if (d > LQ_TOL) fprintf(stderr, "item %u: logq %.7f expected %.7f\n", i, lq[i], log(expect[i]));
        assert_true(d <= LQ_TOL);
    }
}

/* sample's out_logq and logq on the drawn triples agree. */
static void check_matches_sample(negs_sampler *s, uint64_t step, size_t rows, const uint32_t *users,
                                 const uint32_t *pos, uint32_t k)
{
    size_t n = rows * k;
    uint32_t *out = malloc(n * sizeof *out), *u = malloc(n * sizeof *u), *p = malloc(n * sizeof *p);
    float *lq = malloc(n * sizeof *lq), *lq2 = malloc(n * sizeof *lq2);
    assert_int_equal(negs_sampler_sample(s, step, rows, users, pos, k, out, lq), NEGS_OK);
    for (size_t i = 0; i < n; i++) {
        u[i] = users ? users[i / k] : 0;
        p[i] = pos ? pos[i / k] : 0;
    }
    assert_int_equal(negs_sampler_logq(s, step, n, users ? u : NULL, pos ? p : NULL, out, k, lq2),
                     NEGS_OK);
    for (size_t i = 0; i < n; i++) {
        if (fabsf(lq[i] - lq2[i]) > 1e-6f)
            fprintf(stderr, "slot %zu item %u: sample %.8f logq %.8f\n", i, out[i], lq[i], lq2[i]);
        assert_true(fabsf(lq[i] - lq2[i]) <= 1e-6f);
    }
    free(out);
    free(u);
    free(p);
    free(lq);
    free(lq2);
}

enum { N = 48, NU = 4 };

/* Users: 0 sees 3 light items, 1 sees a third of the mass (own alias table), 2 sees all but
 * 4 items (exact draws), 3 sees nothing. */
static negs_csr *users_table(const double *w, int (*seen)[N])
{
    uint64_t ip[NU + 1] = {0};
    uint32_t ix[NU * N];
    size_t c = 0;
    memset(seen, 0, sizeof(int[NU][N]));
    for (int u = 0; u < NU; u++) {
        for (int i = 0; i < N; i++) {
            int in = u == 0 ? (i == 40 || i == 41 || i == 45)
                     : u == 1 ? (i % 3 == 0)
                     : u == 2 ? (i > 3) : 0;
            if (in) {
                ix[c++] = (uint32_t)i;
                seen[u][i] = 1;
            }
        }
        ip[u + 1] = c;
    }
    (void)w;
    return negs_csr_create(NU, N, ip, ix);
}

static void weights(double *w, double alpha, double *wa)
{
    for (int i = 0; i < N; i++) {
        w[i] = (i % 7 == 5) ? 0.0 : 1.0 + (double)((i * 37) % 11) + (i < 3 ? 300.0 : 0.0);
        wa[i] = w[i] > 0.0 ? pow(w[i], alpha) : 0.0;
    }
}

static void test_logq_popularity_brute(void **state)
{
    (void)state;
    double w[N], wa[N];
    weights(w, 0.75, wa);
    int seen[NU][N];
    negs_csr *pt = users_table(w, seen);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, N, 9);
    assert_int_equal(negs_sampler_set_weights(s, w, N), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    for (int unique = 0; unique <= 1; unique++) {
        assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, unique), NEGS_OK);
        for (uint32_t u = 0; u < NU; u++)
            for (uint32_t pos = 0; pos < N; pos += 5) {
                uint32_t k = unique ? (u == 2 ? 2 : 6) : 4;
                int elig[N];
                for (int i = 0; i < N; i++) elig[i] = !seen[u][i] && i != (int)pos;
                double q[N];
                reference(wa, elig, N, k, unique, q);
                check_row(s, 0, &u, &pos, k, q, N);
            }
    }
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0), NEGS_OK);
    /* without a row positive or users (exclusion off) */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_EXCLUDE_POSITIVES, 0), NEGS_OK);
    int all[N];
    double q[N];
    for (int i = 0; i < N; i++) all[i] = 1;
    reference(wa, all, N, 3, 0, q);
    check_row(s, 0, NULL, NULL, 3, q, N);
    negs_csr_free(pt);
    negs_sampler_free(s);
}

static void test_logq_uniform_category_exposure(void **state)
{
    (void)state;
    double w[N], wa[N];
    weights(w, 1.0, wa);
    int seen[NU][N];
    negs_csr *pt = users_table(w, seen);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, N, 2);
    assert_int_equal(negs_sampler_set_positives(u, pt), NEGS_OK);
    for (int unique = 0; unique <= 1; unique++) {
        assert_int_equal(negs_sampler_set_param(u, NEGS_SP_UNIQUE, unique), NEGS_OK);
        for (uint32_t us = 0; us < NU; us++) {
            uint32_t pos = 2, k = 3;
            int elig[N];
            for (int i = 0; i < N; i++) elig[i] = !seen[us][i] && i != (int)pos;
            double q[N];
            reference(NULL, elig, N, k, unique, q);
            check_row(u, 0, &us, &pos, k, q, N);
        }
    }
    negs_sampler_free(u);

    /* CATEGORY, weighted and not, with exclusion */
    uint32_t cat[N];
    for (int i = 0; i < N; i++) cat[i] = (uint32_t)(i % 5);
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_CATEGORY, N, 2);
    assert_int_equal(negs_sampler_set_categories(c, cat, N), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(c, pt), NEGS_OK);
    for (int weighted = 0; weighted <= 1; weighted++) {
        if (weighted) {
            assert_int_equal(negs_sampler_set_param(c, NEGS_SP_ALPHA, 1.0), NEGS_OK);
            assert_int_equal(negs_sampler_set_weights(c, w, N), NEGS_OK);
        }
        for (int unique = 0; unique <= 1; unique++) {
            assert_int_equal(negs_sampler_set_param(c, NEGS_SP_UNIQUE, unique), NEGS_OK);
            for (uint32_t us = 0; us < 2; us++)
                for (uint32_t pos = 0; pos < 5; pos++) {
                    int elig[N];
                    for (int i = 0; i < N; i++)
                        elig[i] = cat[i] == cat[pos] && !seen[us][i] && i != (int)pos;
                    double q[N];
                    reference(weighted ? wa : NULL, elig, N, 3, unique, q);
                    check_row(c, 0, &us, &pos, 3, q, N);
                }
        }
    }
    negs_sampler_free(c);

    /* EXPOSURE: uniform over the exposed eligible items, the catalogue as the fallback */
    uint64_t ep[3] = {0, 6, 7};
    uint32_t ex[7] = {1, 5, 9, 13, 17, 40, 22};
    negs_csr *et = negs_csr_create(2, N, ep, ex);
    negs_sampler *e = negs_sampler_create(NEGS_SAMPLER_EXPOSURE, N, 2);
    assert_int_equal(negs_sampler_set_exposures(e, et), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(e, pt), NEGS_OK);
    uint32_t u0 = 0, p5 = 5, u1 = 1, p22 = 22;
    int elig[N];
    double q[N];
    for (int i = 0; i < N; i++) elig[i] = (i == 1 || i == 9 || i == 13 || i == 17);
    reference(NULL, elig, N, 2, 0, q);
    check_row(e, 0, &u0, &p5, 2, q, N);
    /* user 1's only exposure is its positive: the row falls back to the catalogue */
    for (int i = 0; i < N; i++) elig[i] = !seen[1][i] && i != 22;
    reference(NULL, elig, N, 2, 0, q);
    check_row(e, 0, &u1, &p22, 2, q, N);
    negs_sampler_free(e);
    negs_csr_free(et);
    negs_csr_free(pt);
}

static void test_logq_mixture_schedule(void **state)
{
    (void)state;
    double w[N], wa[N];
    weights(w, 0.75, wa);
    int seen[NU][N];
    negs_csr *pt = users_table(w, seen);
    uint32_t cat[N];
    for (int i = 0; i < N; i++) cat[i] = (uint32_t)(i % 4);
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, N, 5);
    negs_sampler *p = negs_sampler_create(NEGS_SAMPLER_POPULARITY, N, 0);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, N, 0);
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_CATEGORY, N, 0);
    assert_int_equal(negs_sampler_set_weights(p, w, N), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(p, pt), NEGS_OK);
    assert_int_equal(negs_sampler_set_categories(c, cat, N), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, p, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, u, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, c, 2.0), NEGS_OK);
    /* changing a child after it was added works (the docs once said otherwise) */
    assert_int_equal(negs_sampler_set_positives(u, pt), NEGS_OK);
    double st[2] = {100, 200}, sp[2] = {0.0, 3.0};
    assert_int_equal(negs_sampler_set_schedule(m, 0, 2, st, sp), NEGS_OK);
    const uint64_t steps[3] = {50, 150, 400};
    for (int si = 0; si < 3; si++) {
        double share[3] = {steps[si] <= 100 ? 0.0 : steps[si] >= 200 ? 3.0 : 3.0 * (steps[si] - 100) / 100.0,
                           1.0, 2.0};
        for (uint32_t us = 0; us < NU; us++) {
            uint32_t pos = 7;
            double qp[N], qu[N], qc[N], q[N];
            int ep[N], eu[N], ec[N];
            for (int i = 0; i < N; i++) {
                ep[i] = !seen[us][i] && i != 7;
                eu[i] = ep[i];
                ec[i] = cat[i] == cat[7] && i != 7; /* the category child has no positives table */
            }
            reference(wa, ep, N, 1, 0, qp);
            reference(NULL, eu, N, 1, 0, qu);
            reference(NULL, ec, N, 1, 0, qc);
            double sh[3] = {share[0], share[1], share[2]}, tot = 0.0;
            /* a child without an eligible item gets share 0 for the row */
            int np = 0, nu = 0;
            for (int i = 0; i < N; i++) {
                np += qp[i] > 0.0;
                nu += qu[i] > 0.0;
            }
            if (!np) sh[0] = 0.0;
            if (!nu) sh[1] = 0.0;
            for (int j = 0; j < 3; j++) tot += sh[j];
            for (int i = 0; i < N; i++) q[i] = 5.0 * (sh[0] * qp[i] + sh[1] * qu[i] + sh[2] * qc[i]) / tot;
            check_row(m, steps[si], &us, &pos, 5, q, N);
        }
        uint32_t users[40], poss[40];
        for (int r = 0; r < 40; r++) {
            users[r] = (uint32_t)(r % NU);
            poss[r] = (uint32_t)((r * 7) % N);
        }
        check_matches_sample(m, steps[si], 40, users, poss, 5);
    }
    negs_sampler_free(m);
    negs_csr_free(pt);
}

static void test_logq_matches_sample(void **state)
{
    (void)state;
    const uint32_t n = 3000;
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) w[i] = (i % 13 == 0) ? 0.0 : 1.0 / (1.0 + i % 97);
    uint64_t ip[4] = {0, 10, 1500, 2990};
    uint32_t *ix = malloc(2990 * sizeof *ix);
    for (uint32_t j = 0; j < 2990; j++) ix[j] = j < 10 ? j * 7 : j < 1500 ? (j - 10) * 2 : j - 1500;
    negs_csr *pt = negs_csr_create(3, n, ip, ix);
    uint32_t users[64], pos[64];
    for (int r = 0; r < 64; r++) {
        users[r] = (uint32_t)(r % 3);
        pos[r] = (uint32_t)((r * 131) % n);
    }
    int kinds[2] = {NEGS_SAMPLER_POPULARITY, NEGS_SAMPLER_UNIFORM};
    for (int ki = 0; ki < 2; ki++)
        for (int unique = 0; unique <= 1; unique++) {
            negs_sampler *s = negs_sampler_create(kinds[ki], n, 31);
            if (kinds[ki] == NEGS_SAMPLER_POPULARITY) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
            assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
            assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, unique), NEGS_OK);
            const uint32_t ks[3] = {1, 4, 64};
            for (int j = 0; j < 3; j++) check_matches_sample(s, (uint64_t)j, 64, users, pos, ks[j]);
            negs_sampler_free(s);
        }
    negs_csr_free(pt);
    free(ix);
    free(w);
}

static void test_logq_errors(void **state)
{
    (void)state;
    double w[6] = {1, 2, 3, 4, 5, 6};
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 6, 1);
    uint32_t items[2] = {0, 1}, bad[2] = {0, 6}, users[2] = {0, 1}, pos[2] = {0, 0};
    float lq[2];
    assert_fails_with(negs_sampler_logq(NULL, 0, 2, NULL, NULL, items, 1, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_logq(s, 0, 2, NULL, NULL, NULL, 1, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_logq(s, 0, 2, NULL, NULL, items, 1, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_logq(s, 0, 2, NULL, NULL, items, 1, lq), NEGS_E_STATE);
    assert_true(has("negs_sampler_logq"));
    assert_int_equal(negs_sampler_set_weights(s, w, 6), NEGS_OK);
    assert_fails_with(negs_sampler_logq(s, 0, 0, NULL, NULL, items, 1, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_logq(s, 0, 2, NULL, NULL, items, 0, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_logq(s, 0, 2, NULL, NULL, bad, 1, lq), NEGS_E_INVALID);
    assert_true(has("items[1] = 6"));
    uint64_t ip[3] = {0, 1, 6};
    uint32_t ix[6] = {2, 1, 2, 3, 4, 5};
    negs_csr *pt = negs_csr_create(2, 6, ip, ix);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    assert_fails_with(negs_sampler_logq(s, 0, 2, NULL, NULL, items, 1, lq), NEGS_E_INVALID);
    assert_true(has("users is NULL"));
    /* user 1 with positive 0 has nothing left */
    assert_fails_with(negs_sampler_logq(s, 0, 2, users, pos, items, 1, lq), NEGS_E_EXHAUSTED);
    assert_true(has("triple 1 (user 1, positive 0)"));
    /* HARD samplers (and mixtures holding one) have no log q of their own */
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, 6, 1);
    assert_non_null(h);
    assert_int_equal(negs_sampler_add(h, negs_sampler_create(NEGS_SAMPLER_UNIFORM, 6, 1), 1.0),
                     NEGS_OK);
    assert_fails_with(negs_sampler_logq(h, 0, 2, NULL, NULL, items, 1, lq), NEGS_E_UNSUPPORTED);
    assert_true(has("HARD"));
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, 6, 1);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 6, 1);
    assert_int_equal(negs_sampler_add(m, u, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_logq(m, 0, 2, NULL, NULL, items, 3, lq), NEGS_OK);
    assert_true(fabsf(lq[0] - logf(0.5f)) < 1e-6f);
    assert_int_equal(negs_sampler_add(m, h, 1.0), NEGS_OK);
    assert_fails_with(negs_sampler_logq(m, 0, 2, NULL, NULL, items, 1, lq), NEGS_E_UNSUPPORTED);
    assert_true(has("child 1"));
    uint32_t o4[4];
    assert_fails_with(negs_sampler_sample_shared(m, 0, 0, NULL, 4, o4, NULL, NULL),
                      NEGS_E_UNSUPPORTED);
    negs_sampler_free(m);
    negs_csr_free(pt);
    negs_sampler_free(s);
}

/* ---------------------------------------------------------------- UNIFORM support sets */

static void test_support_set(void **state)
{
    (void)state;
    const uint32_t n = 1000;
    uint32_t ids[9] = {999, 3, 500, 3, 77, 0, 640, 641, 12}; /* 8 distinct */
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 4);
    assert_int_equal(negs_sampler_set_support(s, ids, 9), NEGS_OK);
    const size_t rows = negs_test_sanitized() ? 2000 : 20000;
    uint32_t *out = malloc(rows * 4 * sizeof *out);
    float *lq = malloc(rows * 4 * sizeof *lq);
    uint32_t *pos = malloc(rows * sizeof *pos), *users = malloc(rows * sizeof *users);
    for (size_t r = 0; r < rows; r++) {
        pos[r] = 500;
        users[r] = 0;
    }
    assert_int_equal(negs_sampler_sample(s, 0, rows, NULL, pos, 4, out, lq), NEGS_OK);
    /* 7 eligible ids (500 is the positive), uniform: chi-square */
    const uint32_t valid[7] = {0, 3, 12, 77, 640, 641, 999};
    double obs[7] = {0}, exp_[7];
    for (size_t i = 0; i < rows * 4; i++) {
        int hit = -1;
        for (int j = 0; j < 7; j++)
            if (out[i] == valid[j]) hit = j;
        assert_true(hit >= 0);
        obs[hit] += 1.0;
        assert_true(fabsf(lq[i] - logf(4.0f / 7.0f)) < 1e-6f);
    }
    for (int j = 0; j < 7; j++) exp_[j] = rows * 4 / 7.0;
    assert_true(negs_test_chi2_p(obs, exp_, 7) > 1e-4);
    double q[1000];
    for (uint32_t i = 0; i < n; i++) q[i] = 0.0;
    for (int j = 0; j < 7; j++) q[valid[j]] = 4.0 / 7.0;
    check_row(s, 0, NULL, &pos[0], 4, q, 256); /* items 0..255 */
    /* exclusion inside the set: user 0 has seen 3, 77, 640 and two ids outside the set */
    uint64_t ip[3] = {0, 5, 5};
    uint32_t ix[5] = {3, 77, 100, 640, 900};
    negs_csr *pt = negs_csr_create(2, n, ip, ix);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 1, rows, users, pos, 4, out, lq), NEGS_OK);
    for (size_t i = 0; i < rows * 4; i++) {
        assert_true(out[i] == 0 || out[i] == 12 || out[i] == 641 || out[i] == 999);
        assert_true(fabsf(lq[i] - logf(1.0f)) < 1e-6f);
    }
    check_matches_sample(s, 2, 50, users, pos, 3);
    /* UNIQUE: k = 4 takes all four; k = 5 is exhausted */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 1, 10, users, pos, 4, out, lq), NEGS_OK);
    for (int r = 0; r < 10; r++) {
        uint32_t sum = 0;
        for (int j = 0; j < 4; j++) sum += out[4 * r + j];
        assert_int_equal(sum, 0 + 12 + 641 + 999);
    }
    assert_fails_with(negs_sampler_sample(s, 1, 10, users, pos, 5, out, lq), NEGS_E_EXHAUSTED);
    assert_true(has("4 eligible items"));
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0.0), NEGS_OK);
    /* as a mixture child, next to a POPULARITY child */
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n, 4);
    negs_sampler *p = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, 0);
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) w[i] = 1.0 + i % 3;
    assert_int_equal(negs_sampler_set_weights(p, w, n), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, s, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, p, 1.0), NEGS_OK);
    check_matches_sample(m, 3, 50, users, pos, 3);
    /* restoring the whole catalogue through the child pointer */
    assert_int_equal(negs_sampler_set_support(s, NULL, 0), NEGS_OK);
    check_matches_sample(m, 3, 50, users, pos, 3);
    /* errors */
    assert_fails_with(negs_sampler_set_support(NULL, ids, 1), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_support(s, NULL, 3), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_support(s, ids, 0), NEGS_E_INVALID);
    uint32_t far[2] = {1, 1000};
    assert_fails_with(negs_sampler_set_support(s, far, 2), NEGS_E_INVALID);
    assert_true(has("ids[1] = 1000"));
    assert_fails_with(negs_sampler_set_support(p, ids, 2), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_sampler_set_support(m, ids, 2), NEGS_E_UNSUPPORTED);
    negs_sampler_free(m);
    negs_csr_free(pt);
    free(w);
    free(out);
    free(lq);
    free(pos);
    free(users);
}

/* A large support set with a heavy user: the exact (rank) draw path. */
static void test_support_exact_path(void **state)
{
    (void)state;
    const uint32_t n = 4096;
    uint32_t *ids = malloc(n * sizeof *ids), ns = 0;
    for (uint32_t i = 0; i < n; i += 2) ids[ns++] = i; /* even ids */
    uint64_t ip[2] = {0, 0};
    uint32_t *ix = malloc(n * sizeof *ix);
    for (uint32_t i = 0; i < n; i++)
        if (i % 2 == 1 || i % 64 != 0) ix[ip[1]++] = i; /* leaves ids 64 j: 64 of 2048 */
    negs_csr *pt = negs_csr_create(1, n, ip, ix);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 8);
    assert_int_equal(negs_sampler_set_support(s, ids, ns), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    uint32_t users[100] = {0}, pos[100], out[100 * 8];
    float lq[100 * 8];
    for (int r = 0; r < 100; r++) pos[r] = 128;
    assert_int_equal(negs_sampler_sample(s, 0, 100, users, pos, 8, out, lq), NEGS_OK);
    for (int i = 0; i < 800; i++) {
        assert_true(out[i] % 64 == 0 && out[i] != 128);
        assert_true(fabsf(lq[i] - logf(8.0f / 63.0f)) < 1e-6f);
    }
    check_matches_sample(s, 1, 100, users, pos, 8);
    negs_sampler_free(s);
    negs_csr_free(pt);
    free(ids);
    free(ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logq_popularity_brute),
        cmocka_unit_test(test_logq_uniform_category_exposure),
        cmocka_unit_test(test_logq_mixture_schedule),
        cmocka_unit_test(test_logq_matches_sample),
        cmocka_unit_test(test_logq_errors),
        cmocka_unit_test(test_support_set),
        cmocka_unit_test(test_support_exact_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
