/* Samplers: chi-square goodness of fit of every kind against its intended distribution
 * (after exclusion, inside mixtures at several schedule points), and zero draws of excluded,
 * zero-weight and out-of-category items over millions of draws. Fixed seeds; p > 1e-4. */
#include <stdio.h>

#include "test_util.h"

#include "sampler/sampler_internal.h"

#define P_MIN 1e-4

static size_t draws(size_t full)
{
    return negs_test_sanitized() ? full / 8 : full;
}

/* Samples n_rows rows of k and counts items; returns the number of draws. */
static size_t count_draws(negs_sampler *s, uint64_t step, size_t n_rows, const uint32_t *users,
                          const uint32_t *pos, uint32_t k, uint32_t n, double *counts)
{
    uint32_t *out = malloc(n_rows * k * sizeof *out);
    assert_non_null(out);
    assert_int_equal(negs_sampler_sample(s, step, n_rows, users, pos, k, out, NULL), NEGS_OK);
    for (size_t i = 0; i < n_rows * k; i++) {
        assert_true(out[i] < n);
        counts[out[i]] += 1.0;
    }
    free(out);
    return n_rows * k;
}

/* p-value of counts against probabilities p (which need not be normalised). */
static double fit(const double *counts, const double *p, uint32_t n, size_t total)
{
    double *e = malloc(n * sizeof *e), z = 0.0;
    for (uint32_t i = 0; i < n; i++) z += p[i];
    for (uint32_t i = 0; i < n; i++) e[i] = p[i] / z * (double)total;
    double pv = negs_test_chi2_p(counts, e, n);
    free(e);
    return pv;
}

static uint32_t *fill_u32(size_t n, uint32_t v)
{
    uint32_t *a = malloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) a[i] = v;
    return a;
}

static void test_uniform_fit(void **state)
{
    (void)state;
    const uint32_t n = 40;
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 11);
    double counts[40] = {0}, p[40];
    size_t rows = draws(20000);
    uint32_t *pos = fill_u32(rows, 7);
    size_t tot = count_draws(s, 3, rows, NULL, pos, 50, n, counts);
    for (uint32_t i = 0; i < n; i++) p[i] = i == 7 ? 0.0 : 1.0;
    assert_true(counts[7] == 0.0);
    assert_true(fit(counts, p, n, tot) > P_MIN);
    /* a deliberately wrong expectation must be rejected (the test can fail) */
    p[0] = 1.3;
    assert_true(fit(counts, p, n, tot) < P_MIN);
    free(pos);
    negs_sampler_free(s);
}

static void popularity_case(double alpha, uint64_t seed)
{
    const uint32_t n = 60;
    double w[60], counts[60] = {0}, p[60];
    for (uint32_t i = 0; i < n; i++) w[i] = (i % 7 == 3) ? 0.0 : 1.0 + (double)((i * 37) % 23);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, seed);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, alpha), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
    size_t rows = draws(40000);
    size_t tot = count_draws(s, 1, rows, NULL, NULL, 50, n, counts);
    for (uint32_t i = 0; i < n; i++) {
        p[i] = w[i] > 0.0 ? pow(w[i], alpha) : 0.0;
        if (w[i] == 0.0) assert_true(counts[i] == 0.0);
    }
    double pv = fit(counts, p, n, tot);
    if (!(pv > P_MIN)) fprintf(stderr, "alpha %g: p = %g\n", alpha, pv);
    assert_true(pv > P_MIN);
    negs_sampler_free(s);
}

static void test_popularity_fit_alphas(void **state)
{
    (void)state;
    popularity_case(0.75, 21);
    popularity_case(0.0, 22);
    popularity_case(1.0, 23);
    popularity_case(-1.0, 24);
    popularity_case(2.5, 25);
}

/* 5 users: user 0 has seen a few items, user 1 has seen 90% of the catalogue (the exact path),
 * user 2 nothing, users 3 and 4 four items holding about 30% of the popularity mass (their own
 * alias tables; user 4's rows have a positive among them). Draws must follow w^alpha renormalised over the eligible items. */
static negs_csr *make_positives(uint32_t n)
{
    uint64_t indptr[6];
    uint32_t *idx = malloc(2 * n * sizeof *idx);
    size_t m = 0;
    indptr[0] = 0;
    idx[m++] = 1, idx[m++] = 4, idx[m++] = 9, idx[m++] = 30;
    indptr[1] = m;
    for (uint32_t i = 0; i < n; i++)
        if (i % 10 != 2) idx[m++] = i;
    indptr[2] = m;
    indptr[3] = m;
    for (int u = 3; u < 5; u++) {
        idx[m++] = 0, idx[m++] = 2, idx[m++] = 3, idx[m++] = 7;
        indptr[u + 1] = m;
    }
    negs_csr *t = negs_csr_create(5, n, indptr, idx);
    free(idx);
    return t;
}

static void exclusion_case(int kind, int weighted)
{
    const uint32_t n = 60;
    double w[60];
    for (uint32_t i = 0; i < n; i++) w[i] = (i == 5) ? 0.0 : 1.0 + (double)((i * 13) % 17);
    /* make the 90% user's seen items carry almost all the weight too */
    w[0] = 500.0;
    negs_sampler *s = negs_sampler_create(kind, n, 99);
    if (weighted) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
    negs_csr *pt = make_positives(n);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    negs_csr_free(pt); /* the sampler keeps it alive */
    if (weighted) {
        assert_non_null(s->t.u_alias);
        assert_true(s->t.u_alias[3].n == n && s->t.u_alias[4].n == n && s->t.u_alias[2].n == 0);
    }
    for (uint32_t u = 0; u < 5; u++) {
        double counts[60] = {0}, p[60];
        size_t rows = draws(u == 1 ? 20000 : 40000);
        uint32_t ppos = u == 4 ? 0 : 12;
        uint32_t *users = fill_u32(rows, u), *pos = fill_u32(rows, ppos);
        size_t tot = count_draws(s, 5, rows, users, pos, 50, n, counts);
        for (uint32_t i = 0; i < n; i++) {
            int seen = (u == 0 && (i == 1 || i == 4 || i == 9 || i == 30)) || (u == 1 && i % 10 != 2) ||
                       (u >= 3 && (i == 0 || i == 2 || i == 3 || i == 7));
            double base = weighted ? (w[i] > 0.0 ? pow(w[i], 0.75) : 0.0) : 1.0;
            p[i] = (seen || i == ppos) ? 0.0 : base;
            if (p[i] == 0.0) assert_true(counts[i] == 0.0);
        }
        double pv = fit(counts, p, n, tot);
        if (!(pv > P_MIN)) fprintf(stderr, "kind %d user %u: p = %g\n", kind, u, pv);
        assert_true(pv > P_MIN);
        free(users);
        free(pos);
    }
    negs_sampler_free(s);
}

/* The row's positive holds 90% of the weight: rejection would be slow, so the exact indexed
 * draw over the eligible items serves the row. */
static void test_exact_path_fit(void **state)
{
    (void)state;
    const uint32_t n = 30;
    double w[30], counts[30] = {0}, p[30];
    for (uint32_t i = 0; i < n; i++) w[i] = 1.0 + (double)(i % 5);
    w[6] = 900.0;
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, 61);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
    size_t rows = draws(20000);
    uint32_t *pos = fill_u32(rows, 6);
    size_t tot = count_draws(s, 8, rows, NULL, pos, 50, n, counts);
    for (uint32_t i = 0; i < n; i++) p[i] = i == 6 ? 0.0 : w[i];
    assert_true(counts[6] == 0.0);
    assert_true(fit(counts, p, n, tot) > P_MIN);
    free(pos);
    negs_sampler_free(s);
}

static void test_exclusion_fit(void **state)
{
    (void)state;
    exclusion_case(NEGS_SAMPLER_UNIFORM, 0);
    exclusion_case(NEGS_SAMPLER_POPULARITY, 1);
}

/* Millions of draws: never an excluded, zero-weight or out-of-category item. */
static void test_never_forbidden(void **state)
{
    (void)state;
    const uint32_t n = 2000;
    double *w = malloc(n * sizeof *w);
    uint32_t *cat = malloc(n * sizeof *cat);
    for (uint32_t i = 0; i < n; i++) {
        w[i] = (i % 5 == 0) ? 0.0 : 1.0 + (double)(i % 97);
        cat[i] = i % 13;
    }
    uint64_t indptr[3] = {0, 300, 300};
    uint32_t idx[300];
    for (uint32_t j = 0; j < 300; j++) idx[j] = 1 + 6 * j;
    negs_csr *pt = negs_csr_create(2, n, indptr, idx);
    size_t rows = draws(40000);
    uint32_t k = 100;
    uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
    uint32_t *out = malloc(rows * k * sizeof *out);
    for (size_t r = 0; r < rows; r++) {
        users[r] = (uint32_t)(r & 1);
        pos[r] = (uint32_t)((r * 7919) % n);
    }
    int kinds[2] = {NEGS_SAMPLER_POPULARITY, NEGS_SAMPLER_CATEGORY};
    for (int kk = 0; kk < 2; kk++) {
        negs_sampler *s = negs_sampler_create(kinds[kk], n, 5 + kk);
        assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
        if (kinds[kk] == NEGS_SAMPLER_CATEGORY)
            assert_int_equal(negs_sampler_set_categories(s, cat, n), NEGS_OK);
        assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
        assert_int_equal(negs_sampler_sample(s, 9, rows, users, pos, k, out, NULL), NEGS_OK);
        size_t bad = 0;
        for (size_t r = 0; r < rows; r++)
            for (uint32_t j = 0; j < k; j++) {
                uint32_t it = out[r * k + j];
                bad += w[it] == 0.0;
                bad += it == pos[r];
                bad += users[r] == 0 && it % 6 == 1 && it <= 1 + 6 * 299;
                if (kinds[kk] == NEGS_SAMPLER_CATEGORY) bad += cat[it] != cat[pos[r]];
            }
        assert_int_equal(bad, 0);
        negs_sampler_free(s);
    }
    negs_csr_free(pt);
    free(w);
    free(cat);
    free(users);
    free(pos);
    free(out);
}

static void test_category_fit(void **state)
{
    (void)state;
    const uint32_t n = 90;
    uint32_t cat[90];
    double w[90];
    for (uint32_t i = 0; i < n; i++) {
        cat[i] = i % 3;
        w[i] = 1.0 + (double)((i * 11) % 19);
    }
    for (int weighted = 0; weighted < 2; weighted++) {
        negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_CATEGORY, n, 31 + weighted);
        assert_int_equal(negs_sampler_set_categories(s, cat, n), NEGS_OK);
        if (weighted) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
        double counts[90] = {0}, p[90];
        size_t rows = draws(30000);
        uint32_t *pos = fill_u32(rows, 10); /* category 1 */
        size_t tot = count_draws(s, 2, rows, NULL, pos, 30, n, counts);
        for (uint32_t i = 0; i < n; i++) {
            p[i] = (cat[i] != 1 || i == 10) ? 0.0 : (weighted ? pow(w[i], 0.75) : 1.0);
            if (p[i] == 0.0) assert_true(counts[i] == 0.0);
        }
        assert_true(fit(counts, p, n, tot) > P_MIN);
        free(pos);
        negs_sampler_free(s);
    }
}

static void test_exposure_fit_and_fallback(void **state)
{
    (void)state;
    const uint32_t n = 50;
    /* user 0: 12 exposures (2 of them positives); user 1: 2 exposures, both positives */
    uint64_t eptr[3] = {0, 12, 14};
    uint32_t eidx[14] = {2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 32, 35, 40, 41};
    uint64_t pptr[3] = {0, 2, 4};
    uint32_t pidx[4] = {5, 20, 40, 41};
    negs_csr *ex = negs_csr_create(2, n, eptr, eidx), *pt = negs_csr_create(2, n, pptr, pidx);
    double w[50];
    for (uint32_t i = 0; i < n; i++) w[i] = 1.0 + (double)(i % 9);
    for (int weighted = 0; weighted < 2; weighted++) {
        negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_EXPOSURE, n, 41);
        assert_int_equal(negs_sampler_set_exposures(s, ex), NEGS_OK);
        assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
        if (weighted) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
        for (uint32_t u = 0; u < 2; u++) {
            double counts[50] = {0}, p[50];
            size_t rows = draws(20000);
            uint32_t *users = fill_u32(rows, u), *pos = fill_u32(rows, 8);
            size_t tot = count_draws(s, 4, rows, users, pos, 25, n, counts);
            for (uint32_t i = 0; i < n; i++) {
                int excl = i == 8 || (u == 0 && (i == 5 || i == 20)) || (u == 1 && (i == 40 || i == 41));
                int exposed = u == 0 && i <= 35 && i % 3 == 2;
                if (u == 0) p[i] = (exposed && !excl) ? 1.0 : 0.0;
                else p[i] = excl ? 0.0 : (weighted ? pow(w[i], 0.75) : 1.0); /* fallback */
                if (p[i] == 0.0) assert_true(counts[i] == 0.0);
            }
            double pv = fit(counts, p, n, tot);
            if (!(pv > P_MIN)) fprintf(stderr, "exposure w=%d u=%u p=%g\n", weighted, u, pv);
            assert_true(pv > P_MIN);
            free(users);
            free(pos);
        }
        negs_sampler_free(s);
    }
    negs_csr_free(ex);
    negs_csr_free(pt);
}

/* A curriculum: uniform share 1 -> 0.2 over steps 100..200, popularity 0 -> 0.8. */
static void test_mixture_schedule_fit(void **state)
{
    (void)state;
    const uint32_t n = 30;
    double w[30];
    for (uint32_t i = 0; i < n; i++) w[i] = (i < 5) ? 40.0 : 1.0 + (double)(i % 4);
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n, 7);
    negs_sampler *uni = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 0);
    negs_sampler *pop = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, 0);
    assert_int_equal(negs_sampler_set_param(pop, NEGS_SP_ALPHA, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(pop, w, n), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, uni, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, pop, 0.0), NEGS_OK);
    double st[3] = {100, 200, 300}, su[3] = {1.0, 0.2, 0.5}, sp[3] = {0.0, 0.8, 0.5};
    assert_int_equal(negs_sampler_set_schedule(m, 0, 3, st, su), NEGS_OK);
    assert_int_equal(negs_sampler_set_schedule(m, 1, 3, st, sp), NEGS_OK);
    uint64_t steps[5] = {0, 150, 200, 250, 1000};
    double wu[5] = {1.0, 0.6, 0.2, 0.35, 0.5};
    double wsum = 0.0;
    for (uint32_t i = 0; i < n; i++) wsum += (i == 3) ? 0.0 : w[i];
    for (int t = 0; t < 5; t++) {
        double counts[30] = {0}, p[30];
        size_t rows = draws(20000);
        uint32_t *pos = fill_u32(rows, 3);
        size_t tot = count_draws(m, steps[t], rows, NULL, pos, 40, n, counts);
        for (uint32_t i = 0; i < n; i++)
            p[i] = i == 3 ? 0.0 : wu[t] / (n - 1) + (1.0 - wu[t]) * w[i] / wsum;
        double pv = fit(counts, p, n, tot);
        if (!(pv > P_MIN)) fprintf(stderr, "step %llu: p = %g\n", (unsigned long long)steps[t], pv);
        assert_true(pv > P_MIN);
        free(pos);
    }
    negs_sampler_free(m);
}

/* UNIQUE rows: inclusion frequencies against the design's inclusion probabilities. */
static void test_unique_inclusion_fit(void **state)
{
    (void)state;
    const uint32_t n = 12, k = 4;
    double w[12] = {30, 1, 2, 3, 4, 5, 6, 0, 8, 9, 10, 11};
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, 17);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
    size_t rows = draws(100000);
    uint32_t *pos = fill_u32(rows, 2);
    uint32_t *out = malloc(rows * k * sizeof *out);
    float *lq = malloc(rows * k * sizeof *lq);
    assert_int_equal(negs_sampler_sample(s, 0, rows, NULL, pos, k, out, lq), NEGS_OK);
    /* pi_i = min(1, c w_i) with sum = k over the eligible items (bisection on c) */
    double pi[12], lo = 0.0, hi = 10.0;
    for (int it = 0; it < 200; it++) {
        double c = 0.5 * (lo + hi), sum = 0.0;
        for (uint32_t i = 0; i < n; i++) sum += i == 2 ? 0.0 : fmin(1.0, c * w[i]);
        if (sum < k) lo = c;
        else hi = c;
    }
    double counts[12] = {0}, e[12];
    for (uint32_t i = 0; i < n; i++) {
        pi[i] = i == 2 ? 0.0 : fmin(1.0, lo * w[i]);
        e[i] = pi[i] * (double)rows;
    }
    assert_true(fabs(pi[0] - 1.0) < 1e-12); /* the heavy item is certain */
    for (size_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < k; j++) {
            uint32_t it = out[r * k + j];
            counts[it] += 1.0;
            for (uint32_t jj = 0; jj < j; jj++) assert_int_not_equal(out[r * k + jj], it);
            assert_true(fabs(lq[r * k + j] - log(pi[it])) < 1e-5);
        }
    /* Pearson with the binomial variance of each inclusion count: sum (o-e)^2 / (e (1-pi)) */
    double chi2 = 0.0;
    int df = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (pi[i] == 0.0 || pi[i] == 1.0) {
            assert_true(counts[i] == e[i]);
            continue;
        }
        double d = counts[i] - e[i];
        chi2 += d * d / (e[i] * (1.0 - pi[i]));
        df++;
    }
    double pv = negs_test_gamma_q((df - 1) / 2.0, chi2 / 2.0);
    assert_true(pv > P_MIN);
    free(pos);
    free(out);
    free(lq);
    negs_sampler_free(s);
}

/* UNIQUE unweighted rows (UNIFORM with exclusion, EXPOSURE): every eligible item is included
 * with probability k / m, and all k-subsets come up (pairs checked). */
static void test_unique_uniform_fit(void **state)
{
    (void)state;
    const uint32_t n = 10, k = 4;
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 71);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    uint64_t ip[2] = {0, 2};
    uint32_t ix[2] = {3, 8};
    negs_csr *pt = negs_csr_create(1, n, ip, ix);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    size_t rows = draws(80000);
    uint32_t *users = fill_u32(rows, 0), *pos = fill_u32(rows, 0);
    uint32_t *out = malloc(rows * k * sizeof *out);
    assert_int_equal(negs_sampler_sample(s, 1, rows, users, pos, k, out, NULL), NEGS_OK);
    double counts[10] = {0}, p[10], pairs[100] = {0}, pe[100] = {0};
    for (size_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < k; j++) {
            uint32_t it = out[r * k + j];
            counts[it] += 1.0;
            for (uint32_t jj = 0; jj < k; jj++) {
                assert_true(jj == j || out[r * k + jj] != it);
                if (jj > j) {
                    uint32_t a = it < out[r * k + jj] ? it : out[r * k + jj];
                    uint32_t b = it < out[r * k + jj] ? out[r * k + jj] : it;
                    pairs[a * n + b] += 1.0;
                }
            }
        }
    for (uint32_t i = 0; i < n; i++) p[i] = (i == 0 || i == 3 || i == 8) ? 0.0 : 1.0;
    for (uint32_t i = 0; i < n; i++)
        if (p[i] == 0.0) assert_true(counts[i] == 0.0);
    /* inclusion k/m = 4/7 each, with the binomial variance */
    double chi2 = 0.0, pi = 4.0 / 7.0;
    for (uint32_t i = 0; i < n; i++) {
        if (p[i] == 0.0) continue;
        double e = pi * (double)rows, d = counts[i] - e;
        chi2 += d * d / (e * (1.0 - pi));
    }
    assert_true(negs_test_gamma_q(3.0, chi2 / 2.0) > P_MIN);
    /* every pair of the 7 eligible items equally likely: C(5,2)/C(7,4)... 6 pairs per row */
    for (uint32_t a = 0; a < n; a++)
        for (uint32_t b = a + 1; b < n; b++)
            if (p[a] > 0.0 && p[b] > 0.0) pe[a * n + b] = 1.0;
    assert_true(fit(pairs, pe, 100, rows * 6) > P_MIN);
    free(users);
    free(pos);
    free(out);
    negs_csr_free(pt);
    negs_sampler_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_fit),
        cmocka_unit_test(test_popularity_fit_alphas),
        cmocka_unit_test(test_exclusion_fit),
        cmocka_unit_test(test_exact_path_fit),
        cmocka_unit_test(test_never_forbidden),
        cmocka_unit_test(test_category_fit),
        cmocka_unit_test(test_exposure_fit_and_fallback),
        cmocka_unit_test(test_mixture_schedule_fit),
        cmocka_unit_test(test_unique_inclusion_fit),
        cmocka_unit_test(test_unique_uniform_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
