/* Shared negatives (negs_sampler_sample_shared) and the mixed-negatives log q
 * (negs_mixed_logq): distributions by chi-square, log q against brute force, exclusion of the
 * batch's positives, determinism, errors; the recipe's log q equals the simulated expected
 * count of each item among the b + m columns. */
#include <stdio.h>

#include "test_util.h"

#include "core/rng.h"
#include "sampler/sampler_internal.h"

static int has(const char *needle)
{
    return strstr(negs_last_error(), needle) != NULL;
}

enum { N = 30 };

static void zipf(double *w, double *wa, double alpha)
{
    for (int i = 0; i < N; i++) {
        w[i] = i == 4 ? 0.0 : 1.0 / (1.0 + i);
        wa[i] = w[i] > 0.0 ? pow(w[i], alpha) : 0.0;
    }
}

/* Draws many shared sets and checks frequencies (chi-square), out_logq and out_pos_logq
 * against the brute-force expected counts q (m draws). */
static void check_shared(negs_sampler *s, size_t b, const uint32_t *pos, uint32_t m,
                         const double *q, int unique)
{
    const int reps = negs_test_sanitized() ? 400 : 4000;
    uint32_t out[64];
    float lq[64], plq[64];
    double obs[N] = {0}, expect[N];
    for (int r = 0; r < reps; r++) {
        assert_int_equal(negs_sampler_sample_shared(s, (uint64_t)r, b, pos, m, out, lq, plq), NEGS_OK);
        for (uint32_t j = 0; j < m; j++) {
            assert_true(q[out[j]] > 0.0);
            assert_true(fabs((double)lq[j] - log(q[out[j]])) < 2e-5);
            obs[out[j]] += 1.0;
            for (uint32_t i = 0; unique && i < j; i++) assert_int_not_equal(out[i], out[j]);
        }
        for (size_t i = 0; i < b; i++) {
            if (q[pos[i]] == 0.0) assert_true(plq[i] == -INFINITY);
            else assert_true(fabs((double)plq[i] - log(q[pos[i]])) < 2e-5);
        }
    }
    if (unique) {
        /* A systematic design's inclusions in one set are all functions of one uniform, so the
         * cells are dependent and Pearson's statistic is not chi-square: test each cell's
         * count, Binomial(reps, pi), on its own (|z| < 5 over 30 cells). */
        for (int i = 0; i < N; i++) {
            if (q[i] == 0.0 || q[i] >= 1.0) {
                assert_true(obs[i] == (q[i] == 0.0 ? 0.0 : reps));
                continue;
            }
            double zs = (obs[i] - reps * q[i]) / sqrt(reps * q[i] * (1.0 - q[i]));
            if (fabs(zs) >= 5.0) fprintf(stderr, "item %d: z = %.2f\n", i, zs);
            assert_true(fabs(zs) < 5.0);
        }
        return;
    }
    for (int i = 0; i < N; i++) expect[i] = q[i] * reps;
    double p = negs_test_chi2_p(obs, expect, N);
    if (p < 1e-4) fprintf(stderr, "chi-square p = %g\n", p);
    assert_true(p > 1e-4);
}

static void test_shared_popularity(void **state)
{
    (void)state;
    double w[N], wa[N], q[N];
    zipf(w, wa, 0.75);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, N, 3);
    assert_int_equal(negs_sampler_set_weights(s, w, N), NEGS_OK);
    /* a positives table is set but not read by shared draws */
    uint64_t ip[2] = {0, 3};
    uint32_t ix[3] = {1, 2, 3};
    negs_csr *pt = negs_csr_create(1, N, ip, ix);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    uint32_t pos[6] = {0, 7, 0, 12, 29, 7}; /* duplicates: 4 distinct */
    const uint32_t m = 8;
    double z = 0.0;
    for (int i = 0; i < N; i++)
        if (i != 0 && i != 7 && i != 12 && i != 29) z += wa[i];
    for (int i = 0; i < N; i++)
        q[i] = (i != 0 && i != 7 && i != 12 && i != 29) ? m * wa[i] / z : 0.0;
    check_shared(s, 6, pos, m, q, 0);
    /* exclusion off: the plain distribution; the positives' log q is then finite */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SHARED_EXCLUDE, 0.0), NEGS_OK);
    double v;
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_SHARED_EXCLUDE, &v), NEGS_OK);
    assert_true(v == 0.0);
    z = 0.0;
    for (int i = 0; i < N; i++) z += wa[i];
    for (int i = 0; i < N; i++) q[i] = m * wa[i] / z;
    check_shared(s, 6, pos, m, q, 0);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_SHARED_EXCLUDE, 2.0), NEGS_E_INVALID);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SHARED_EXCLUDE, 1.0), NEGS_OK);
    /* UNIQUE: inclusion probabilities of the systematic design (brute force: bisection) */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    int elig[N];
    for (int i = 0; i < N; i++) elig[i] = i != 0 && i != 7 && i != 12 && i != 29 && wa[i] > 0.0;
    double lo = 0.0, hi = 1e9;
    for (int it = 0; it < 400; it++) {
        double c = 0.5 * (lo + hi), sum = 0.0;
        for (int i = 0; i < N; i++) sum += elig[i] ? fmin(1.0, c * wa[i]) : 0.0;
        if (sum < m) lo = c;
        else hi = c;
    }
    for (int i = 0; i < N; i++) q[i] = elig[i] ? fmin(1.0, hi * wa[i]) : 0.0;
    check_shared(s, 6, pos, m, q, 1);
    /* too few items left for a unique set */
    uint32_t many[N];
    for (int i = 0; i < N; i++) many[i] = (uint32_t)i;
    uint32_t got[8];
    assert_int_equal(negs_sampler_sample_shared(s, 0, 22, many, 8, got, NULL, NULL), NEGS_OK);
    assert_fails_with(negs_sampler_sample_shared(s, 0, 23, many, 8, got, NULL, NULL),
                      NEGS_E_EXHAUSTED);
    assert_true(has("m = 8 exceeds the 7 items left"));
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0.0), NEGS_OK);
    assert_fails_with(negs_sampler_sample_shared(s, 0, N, many, 8, got, NULL, NULL),
                      NEGS_E_EXHAUSTED);
    negs_csr_free(pt);
    negs_sampler_free(s);
}

static void test_shared_uniform_mixture(void **state)
{
    (void)state;
    double w[N], wa[N], q[N];
    zipf(w, wa, 1.0);
    /* UNIFORM restricted to a support set */
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, N, 3);
    uint32_t ids[10] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19};
    assert_int_equal(negs_sampler_set_support(u, ids, 10), NEGS_OK);
    uint32_t pos[3] = {3, 4, 19};
    for (int i = 0; i < N; i++) q[i] = (i % 2 == 1 && i < 20 && i != 3 && i != 19) ? 4.0 / 8.0 : 0.0;
    check_shared(u, 3, pos, 4, q, 0);
    /* a mixture: POPULARITY 3 : UNIFORM (support) 1, with a schedule that holds */
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, N, 11);
    negs_sampler *p = negs_sampler_create(NEGS_SAMPLER_POPULARITY, N, 0);
    assert_int_equal(negs_sampler_set_param(p, NEGS_SP_ALPHA, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(p, w, N), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, p, 3.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, u, 1.0), NEGS_OK);
    double zp = 0.0;
    for (int i = 0; i < N; i++)
        if (i != 3 && i != 4 && i != 19) zp += wa[i];
    for (int i = 0; i < N; i++) {
        double pp = (i != 3 && i != 19) ? wa[i] / zp : 0.0;
        double pu = (i % 2 == 1 && i < 20 && i != 3 && i != 19) ? 1.0 / 8.0 : 0.0;
        q[i] = 6.0 * (0.75 * pp + 0.25 * pu);
    }
    check_shared(m, 3, pos, 6, q, 0);
    /* every id of the support set excluded: that child gets share 0 */
    uint32_t allsup[10];
    memcpy(allsup, ids, sizeof ids);
    uint32_t out[6];
    float lq[6];
    assert_int_equal(negs_sampler_sample_shared(m, 0, 10, allsup, 6, out, lq, NULL), NEGS_OK);
    for (int j = 0; j < 6; j++) assert_true(out[j] % 2 == 0 || out[j] >= 20);
    /* shared draws ignore ROW_OFFSET and threads */
    uint32_t a[6], b[6];
    assert_int_equal(negs_sampler_sample_shared(m, 9, 3, pos, 6, a, NULL, NULL), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(m, NEGS_SP_ROW_OFFSET, 1000.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(m, NEGS_SP_THREADS, 2.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample_shared(m, 9, 3, pos, 6, b, NULL, NULL), NEGS_OK);
    assert_memory_equal(a, b, sizeof a);
    /* a larger batch grows the workspace; the smaller one gives the same draws after it */
    uint32_t big[500];
    for (int i = 0; i < 500; i++) big[i] = (uint32_t)(i % 3 == 0 ? 3 : i % 3 == 1 ? 4 : 19);
    assert_int_equal(negs_sampler_sample_shared(m, 9, 500, big, 6, b, NULL, NULL), NEGS_OK);
    assert_memory_equal(a, b, sizeof a); /* the same distinct positives */
    negs_sampler_free(m);
}

static void test_shared_errors(void **state)
{
    (void)state;
    uint32_t pos[2] = {0, 1}, out[4];
    negs_sampler *p = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 8, 1);
    assert_fails_with(negs_sampler_sample_shared(NULL, 0, 2, pos, 4, out, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_shared(p, 0, 2, pos, 4, NULL, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_shared(p, 0, 2, pos, 0, out, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_shared(p, 0, 2, NULL, 4, out, NULL, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_shared(p, 0, 2, pos, 4, out, NULL, NULL), NEGS_E_STATE);
    double w[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    assert_int_equal(negs_sampler_set_weights(p, w, 8), NEGS_OK);
    uint32_t bad[2] = {0, 8};
    assert_fails_with(negs_sampler_sample_shared(p, 0, 2, bad, 4, out, NULL, NULL), NEGS_E_INVALID);
    assert_true(has("positives[1] = 8"));
    assert_int_equal(negs_sampler_sample_shared(p, 0, 0, NULL, 4, out, NULL, NULL), NEGS_OK);
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_CATEGORY, 8, 1);
    assert_fails_with(negs_sampler_sample_shared(c, 0, 2, pos, 4, out, NULL, NULL), NEGS_E_UNSUPPORTED);
    assert_true(has("CATEGORY"));
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, 8, 1);
    negs_sampler *e = negs_sampler_create(NEGS_SAMPLER_EXPOSURE, 8, 1);
    assert_int_equal(negs_sampler_add(m, p, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, e, 1.0), NEGS_OK);
    assert_fails_with(negs_sampler_sample_shared(m, 0, 2, pos, 4, out, NULL, NULL), NEGS_E_UNSUPPORTED);
    assert_true(has("child 1"));
    assert_fails_with(negs_sampler_sample_shared(p, 0, 2, pos, 4, out, NULL, NULL), NEGS_E_INVALID);
    assert_true(has("belongs to a mixture"));
    negs_sampler_free(m);
    negs_sampler_free(c);
}

/* ---------------------------------------------------------------- negs_mixed_logq */

static void test_mixed_logq_values(void **state)
{
    (void)state;
    float logp[5] = {logf(0.1f), logf(0.2f), logf(0.05f), logf(0.3f), logf(0.01f)};
    float lqs[5] = {-INFINITY, logf(0.5f), -INFINITY, logf(2.0f), logf(0.25f)};
    float out[5];
    assert_int_equal(negs_mixed_logq(3, 2, logp, lqs, out), NEGS_OK);
    for (int j = 0; j < 5; j++) {
        double ref = log(3.0 * exp((double)logp[j]) + exp((double)lqs[j]));
        assert_true(fabs((double)out[j] - ref) < 1e-6);
    }
    /* extreme magnitudes: no overflow, no loss of the larger term */
    float lp2[2] = {-200.0f, -3.0f}, lq2[2] = {-1.0f, -300.0f};
    assert_int_equal(negs_mixed_logq(1, 1, lp2, lq2, out), NEGS_OK);
    assert_true(fabsf(out[0] - -1.0f) < 1e-6f && fabsf(out[1] - -3.0f) < 1e-6f);
    float ninf[2] = {-INFINITY, -INFINITY};
    assert_int_equal(negs_mixed_logq(1, 1, ninf, ninf, out), NEGS_OK);
    assert_true(out[0] == -INFINITY);
    float nan2[2] = {NAN, 0.0f}, inf2[2] = {0.0f, INFINITY};
    assert_fails_with(negs_mixed_logq(1, 1, nan2, lq2, out), NEGS_E_INVALID);
    assert_true(has("logp[0]"));
    assert_fails_with(negs_mixed_logq(1, 1, lp2, inf2, out), NEGS_E_INVALID);
    assert_true(has("logq_shared[1]"));
    assert_fails_with(negs_mixed_logq(0, 1, lp2, lq2, out), NEGS_E_INVALID);
    assert_fails_with(negs_mixed_logq(1, 1, NULL, lq2, out), NEGS_E_INVALID);
    assert_fails_with(negs_mixed_logq(1, 1, lp2, NULL, out), NEGS_E_INVALID);
    assert_fails_with(negs_mixed_logq(1, 1, lp2, lq2, NULL), NEGS_E_INVALID);
}

/* Brute force: batches whose b positives are drawn from the data distribution p, plus m shared
 * negatives; the count of each item over the b + m columns averages exp(recipe). */
static void test_mixed_logq_expected_count(void **state)
{
    (void)state;
    const size_t b = 8;
    const uint32_t m = 4;
    const int batches = negs_test_sanitized() ? 2000 : 20000;
    double w[N], wa[N], p[N], cum[N];
    zipf(w, wa, 0.5);
    double tp = 0.0;
    for (int i = 0; i < N; i++) tp += p[i] = 1.0 + (i % 5); /* the data's item distribution */
    double acc = 0.0;
    for (int i = 0; i < N; i++) cum[i] = (acc += p[i] /= tp);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, N, 5);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, 0.5), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w, N), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SHARED_EXCLUDE, 0.0), NEGS_OK);
    /* the recipe, per item: logp from p, logq_shared from the sampler's query with k = m */
    uint32_t items[N];
    float logp[N], lqs[N], rec[N];
    for (int i = 0; i < N; i++) {
        items[i] = (uint32_t)i;
        logp[i] = (float)log(p[i]);
    }
    assert_int_equal(negs_sampler_logq(s, 0, N, NULL, NULL, items, m, lqs), NEGS_OK);
    for (int i = 0; i < N; i++) {
        /* column 0 of a batch of b + m columns holds item i */
        float lp_c[12], lq_c[12], out_c[12];
        for (int j = 0; j < 12; j++) {
            lp_c[j] = logp[i];
            lq_c[j] = lqs[i];
        }
        assert_int_equal(negs_mixed_logq(b, m, lp_c, lq_c, out_c), NEGS_OK);
        rec[i] = out_c[0];
    }
    double obs[N] = {0}, expect[N];
    negs_rng r;
    negs_rng_init(&r, 99, 0, 0, 1);
    uint32_t shared[4];
    for (int t = 0; t < batches; t++) {
        for (size_t i = 0; i < b; i++) {
            double u = negs_rng_uniform(&r);
            int it = 0;
            while (it < N - 1 && !(u < cum[it])) it++;
            obs[it] += 1.0;
        }
        assert_int_equal(negs_sampler_sample_shared(s, (uint64_t)t, 0, NULL, m, shared, NULL, NULL),
                         NEGS_OK);
        for (uint32_t j = 0; j < m; j++) obs[shared[j]] += 1.0;
    }
    for (int i = 0; i < N; i++) expect[i] = batches * exp((double)rec[i]);
    double sum = 0.0;
    for (int i = 0; i < N; i++) sum += exp((double)rec[i]);
    assert_true(fabs(sum - (double)(b + m)) < 1e-4); /* the columns' expected counts add up */
    double pv = negs_test_chi2_p(obs, expect, N);
    if (pv < 1e-4) fprintf(stderr, "chi-square p = %g\n", pv);
    assert_true(pv > 1e-4);
    negs_sampler_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_popularity),
        cmocka_unit_test(test_shared_uniform_mixture),
        cmocka_unit_test(test_shared_errors),
        cmocka_unit_test(test_mixed_logq_values),
        cmocka_unit_test(test_mixed_logq_expected_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
