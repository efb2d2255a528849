/* Samplers: every bad input answered with its status and a sentence, exact log q against
 * brute-force enumeration on small catalogues, determinism over threads and call splits. */
#include <stdio.h>

#include "test_util.h"

#include "core/cpu.h"
#include "core/rng.h"
#include "sampler/sampler_internal.h"
#include "sampler/sampler_stream.h"

#define LQ_TOL 2e-5

static int has(const char *needle)
{
    return strstr(negs_last_error(), needle) != NULL;
}

static negs_sampler *popularity(uint32_t n, const double *w, double alpha, uint64_t seed)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, seed);
    assert_non_null(s);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, alpha), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
    return s;
}

static void test_create_and_params(void **state)
{
    (void)state;
    assert_null(negs_sampler_create(1000, 10, 1));
    assert_int_equal(negs_last_status(), NEGS_E_UNSUPPORTED);
    assert_null(negs_sampler_create(0, 10, 1));
    assert_int_equal(negs_last_status(), NEGS_E_UNSUPPORTED);
    assert_null(negs_sampler_create(77, 10, 1));
    assert_null(negs_sampler_create(NEGS_SAMPLER_UNIFORM, 0, 1));
    assert_int_equal(negs_last_status(), NEGS_E_INVALID);
    negs_sampler_free(NULL);

    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 10, 1);
    double v;
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_ALPHA, &v), NEGS_OK);
    assert_true(v == 0.75);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_EXCLUDE_POSITIVES, &v), NEGS_OK);
    assert_true(v == 1.0);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_THREADS, &v), NEGS_OK);
    assert_true(v == 1.0);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_ROW_OFFSET, &v), NEGS_OK);
    assert_true(v == 0.0);
    assert_fails_with(negs_sampler_set_param(NULL, NEGS_SP_ALPHA, 1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_ALPHA, NAN), NEGS_E_INVALID);
    assert_true(has("alpha"));
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_ALPHA, INFINITY), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 2.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_EXCLUDE_POSITIVES, 0.5), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_HARD_MODE, 6.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_CANDIDATES, 0.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_CANDIDATES, 2.5), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_MARGIN, -1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_TEMPERATURE, 0.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_THREADS, 0.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_THREADS, 1.5), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, -1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, 99, 1.0), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_sampler_get_param(s, 99, &v), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_sampler_get_param(s, NEGS_SP_ALPHA, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_get_param(NULL, NEGS_SP_ALPHA, &v), NEGS_E_INVALID);
    /* HARD parameters are validated and stored */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_HARD_MODE, NEGS_HARD_SOFTMAX), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_TEMPERATURE, 0.5), NEGS_OK);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_TEMPERATURE, &v), NEGS_OK);
    assert_true(v == 0.5);
    negs_sampler_free(s);
}

static void test_tables_errors(void **state)
{
    (void)state;
    double w[4] = {1, 2, 3, 4}, bad[4] = {1, NAN, 3, 4}, neg[4] = {1, -2, 3, 4}, zero[4] = {0};
    double inf[4] = {1, INFINITY, 1, 1}, big[4] = {1e308, 1e308, 1e308, 1};
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 4, 1);
    assert_fails_with(negs_sampler_set_weights(NULL, w, 4), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_weights(s, NULL, 4), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_weights(s, w, 3), NEGS_E_INVALID);
    assert_true(has("n_items = 3"));
    assert_fails_with(negs_sampler_set_weights(s, bad, 4), NEGS_E_INVALID);
    assert_true(has("weights[1]"));
    assert_fails_with(negs_sampler_set_weights(s, neg, 4), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_weights(s, inf, 4), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_weights(s, zero, 4), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_weights(s, big, 4), NEGS_E_INVALID);
    uint32_t out[8];
    assert_fails_with(negs_sampler_sample(s, 0, 1, NULL, NULL, 2, out, NULL), NEGS_E_STATE);
    assert_true(has("without weights"));
    uint32_t cat[4] = {0, 1, 0, 1};
    assert_fails_with(negs_sampler_set_categories(s, cat, 4), NEGS_E_UNSUPPORTED);
    negs_sampler_free(s);

    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 4, 1);
    assert_fails_with(negs_sampler_set_weights(u, w, 4), NEGS_E_UNSUPPORTED);
    uint64_t ip[2] = {0, 1};
    uint32_t ix[1] = {2};
    negs_csr *t5 = negs_csr_create(1, 5, ip, ix);
    assert_fails_with(negs_sampler_set_positives(u, t5), NEGS_E_INVALID);
    assert_true(has("5 items"));
    assert_fails_with(negs_sampler_set_exposures(u, t5), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_sampler_set_positives(NULL, t5), NEGS_E_INVALID);
    negs_csr_free(t5);
    negs_sampler_free(u);

    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_CATEGORY, 4, 1);
    uint32_t badcat[4] = {0, 1, 0xFFFFFFF0u, 1};
    assert_fails_with(negs_sampler_set_categories(c, NULL, 4), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_categories(c, cat, 5), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_categories(c, badcat, 4), NEGS_E_INVALID);
    assert_true(has("category_of_item[2]"));
    uint32_t pos[1] = {0};
    assert_fails_with(negs_sampler_sample(c, 0, 1, NULL, pos, 1, out, NULL), NEGS_E_STATE);
    assert_int_equal(negs_sampler_set_categories(c, cat, 4), NEGS_OK);
    assert_fails_with(negs_sampler_sample(c, 0, 1, NULL, NULL, 1, out, NULL), NEGS_E_INVALID);
    assert_true(has("positives is NULL"));
    negs_sampler_free(c);

    negs_sampler *e = negs_sampler_create(NEGS_SAMPLER_EXPOSURE, 4, 1);
    uint32_t users[1] = {0};
    assert_fails_with(negs_sampler_sample(e, 0, 1, users, NULL, 1, out, NULL), NEGS_E_STATE);
    negs_sampler_free(e);
}

static void test_sample_errors(void **state)
{
    (void)state;
    double w[6] = {1, 2, 3, 4, 5, 6};
    negs_sampler *s = popularity(6, w, 1.0, 3);
    uint32_t out[64];
    float lq[64];
    uint32_t users[2] = {0, 1}, pos[2] = {0, 7};
    assert_fails_with(negs_sampler_sample(NULL, 0, 1, NULL, NULL, 1, out, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample(s, 0, 0, NULL, NULL, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("n_rows"));
    assert_fails_with(negs_sampler_sample(s, 0, 1, NULL, NULL, 0, out, lq), NEGS_E_INVALID);
    assert_true(has("k is 0"));
    assert_fails_with(negs_sampler_sample(s, 0, 1, NULL, NULL, 1, NULL, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample(s, 0, SIZE_MAX / 2, NULL, NULL, 4, out, lq),
                      NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample(s, 0, 2, NULL, pos, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("positives[1] = 7"));
    /* positives table: users needed and in range */
    uint64_t ip[3] = {0, 2, 7};
    uint32_t ix[7] = {1, 2, 0, 1, 2, 3, 4};
    negs_csr *pt = negs_csr_create(2, 6, ip, ix);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    assert_fails_with(negs_sampler_sample(s, 0, 1, NULL, NULL, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("users is NULL"));
    uint32_t far[1] = {2};
    assert_fails_with(negs_sampler_sample(s, 0, 1, far, NULL, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("users[0] = 2"));
    /* EXHAUSTED: user 1 with positive 0 has only item 5 left */
    uint32_t p0[2] = {0, 0};
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 0, 2, users, p0, 2, out, lq), NEGS_E_EXHAUSTED);
    assert_true(has("row 1"));
    assert_true(has("user 1"));
    assert_int_equal(negs_sampler_sample(s, 0, 2, users, p0, 1, out, lq), NEGS_OK);
    assert_int_equal(out[1], 5);
    assert_true(fabsf(lq[1]) < 1e-6f); /* certain */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0.0), NEGS_OK);
    /* without UNIQUE only an empty eligible set is exhausted */
    uint32_t p5[2] = {5, 5};
    assert_int_equal(negs_sampler_sample(s, 0, 2, users, p5, 3, out, lq), NEGS_E_EXHAUSTED);
    assert_true(has("row 1"));
    assert_int_equal(negs_sampler_sample(s, 0, 1, users, p5, 3, out, lq), NEGS_OK);
    /* switching exclusion off makes the user's positives eligible again */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_EXCLUDE_POSITIVES, 0.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 0, 2, NULL, p5, 3, out, lq), NEGS_OK);
    negs_csr_free(pt);
    negs_sampler_free(s);
}

static void test_mixture_errors(void **state)
{
    (void)state;
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, 8, 1);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 8, 1);
    negs_sampler *u9 = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 9, 1);
    negs_sampler *m2 = negs_sampler_create(NEGS_SAMPLER_MIXTURE, 8, 1);
    uint32_t out[8];
    assert_fails_with(negs_sampler_sample(m, 0, 1, NULL, NULL, 1, out, NULL), NEGS_E_STATE);
    assert_fails_with(negs_sampler_add(NULL, u, 1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_add(m, NULL, 1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_add(u, m, 1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_add(m, m, 1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_add(m, m2, 1.0), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_sampler_add(m, u9, 1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_add(m, u, NAN), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_add(m, u, -1.0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(m, NEGS_SP_UNIQUE, 1.0), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_sampler_set_positives(m, NULL), NEGS_E_UNSUPPORTED);
    assert_int_equal(negs_sampler_set_param(u, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    assert_fails_with(negs_sampler_add(m, u, 1.0), NEGS_E_UNSUPPORTED);
    assert_int_equal(negs_sampler_set_param(u, NEGS_SP_UNIQUE, 0.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, u, 0.0), NEGS_OK);
    assert_fails_with(negs_sampler_add(m2, u, 1.0), NEGS_E_INVALID); /* already owned */
    assert_fails_with(negs_sampler_sample(u, 0, 1, NULL, NULL, 1, out, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample(m, 0, 1, NULL, NULL, 1, out, NULL), NEGS_E_STATE);
    assert_true(has("share is 0"));
    double st[2] = {0, 10}, sh[2] = {1, 0}, bads[2] = {10, 0}, badsh[2] = {1, -1};
    assert_fails_with(negs_sampler_set_schedule(NULL, 0, 2, st, sh), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_schedule(m, 1, 2, st, sh), NEGS_E_INVALID);
    assert_true(has("child = 1"));
    assert_fails_with(negs_sampler_set_schedule(m, 0, 0, st, sh), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_schedule(m, 0, 2, NULL, sh), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_schedule(m, 0, 2, bads, sh), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_schedule(m, 0, 2, st, badsh), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_schedule(m2, 0, 2, st, sh), NEGS_E_INVALID);
    assert_int_equal(negs_sampler_set_schedule(m, 0, 2, st, sh), NEGS_OK);
    assert_int_equal(negs_sampler_sample(m, 3, 1, NULL, NULL, 2, out, NULL), NEGS_OK);
    assert_fails_with(negs_sampler_sample(m, 10, 1, NULL, NULL, 2, out, NULL), NEGS_E_STATE);
    /* a POPULARITY child without weights makes the mixture answer STATE */
    negs_sampler *p = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 8, 1);
    assert_int_equal(negs_sampler_add(m, p, 1.0), NEGS_OK);
    assert_fails_with(negs_sampler_sample(m, 3, 1, NULL, NULL, 2, out, NULL), NEGS_E_STATE);
    assert_true(has("child 1"));
    negs_sampler_free(m); /* frees u and p */
    negs_sampler_free(m2);
    negs_sampler_free(u9);
}

static void test_hard_entry_points(void **state)
{
    (void)state;
    uint32_t out[4];
    float lq[4];
    assert_fails_with(negs_sampler_select(NULL, 0, 1, 4, NULL, NULL, NULL, 1, out, lq),
                      NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_scored(NULL, 0, 1, NULL, NULL, NULL, NULL, 4, 1, out, lq),
                      NEGS_E_INVALID);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 8, 1);
    assert_fails_with(negs_sampler_select(u, 0, 1, 4, NULL, NULL, NULL, 1, out, lq),
                      NEGS_E_INVALID);
    assert_true(has("not HARD"));
    assert_fails_with(negs_sampler_sample_scored(u, 0, 1, NULL, NULL, NULL, NULL, 4, 1, out, lq),
                      NEGS_E_INVALID); /* tests/test_hard.c covers the HARD kind */
    negs_sampler_free(u);
}

/* ---------------------------------------------------------------- exact log q */

static void check_logq(const uint32_t *out, const float *lq, size_t cnt, const double *expect_q)
{
    for (size_t i = 0; i < cnt; i++) {
        assert_true(expect_q[out[i]] > 0.0);
        double d = fabs((double)lq[i] - log(expect_q[out[i]]));
        if (d > LQ_TOL) fprintf(stderr, "item %u: logq %.7f expected %.7f\n", out[i], lq[i],
                                log(expect_q[out[i]]));
        assert_true(d <= LQ_TOL);
    }
}

static void test_logq_popularity_excluded(void **state)
{
    (void)state;
    /* n = 6, user 0 has seen {1, 4}; row positive 2: eligible {0, 3, 5} */
    double w[6] = {3, 5, 2, 0.5, 7, 1.5};
    negs_sampler *s = popularity(6, w, 0.75, 4);
    uint64_t ip[2] = {0, 2};
    uint32_t ix[2] = {4, 1};
    negs_csr *pt = negs_csr_create(1, 6, ip, ix);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    uint32_t users[50] = {0}, pos[50], out[50 * 3];
    float lq[50 * 3];
    for (int r = 0; r < 50; r++) pos[r] = 2;
    assert_int_equal(negs_sampler_sample(s, 1, 50, users, pos, 3, out, lq), NEGS_OK);
    double q[6] = {0}, z = 0.0;
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 4 && i != 2) z += pow(w[i], 0.75);
    for (int i = 0; i < 6; i++)
        if (i != 1 && i != 4 && i != 2) q[i] = 3.0 * pow(w[i], 0.75) / z;
    check_logq(out, lq, 150, q);
    negs_csr_free(pt);
    negs_sampler_free(s);
}

/* The worked example of docs/samplers.md, value for value. */
static void test_logq_worked_example(void **state)
{
    (void)state;
    double w[6] = {3, 5, 2, 0.5, 7, 1.5};
    negs_sampler *s = popularity(6, w, 1.0, 12);
    uint64_t ip[2] = {0, 2};
    uint32_t ix[2] = {1, 4};
    negs_csr *pt = negs_csr_create(1, 6, ip, ix);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    uint32_t users[40] = {0}, pos[40], out[40 * 3];
    float lq[40 * 3];
    for (int r = 0; r < 40; r++) pos[r] = 2;
    double want[6] = {0.588, 0, 0, -1.204, 0, -0.105};
    assert_int_equal(negs_sampler_sample(s, 0, 40, users, pos, 3, out, lq), NEGS_OK);
    for (int i = 0; i < 120; i++) assert_true(fabs(lq[i] - want[out[i]]) < 6e-4);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    double wu[6] = {0, 0, 0, -1.386, 0, -0.288};
    int seen0 = 0;
    assert_int_equal(negs_sampler_sample(s, 0, 40, users, pos, 2, out, lq), NEGS_OK);
    for (int i = 0; i < 80; i++) {
        assert_true(fabs(lq[i] - wu[out[i]]) < 6e-4);
        seen0 += out[i] == 0;
    }
    assert_int_equal(seen0, 40); /* certain in every row */
    negs_sampler_free(s);
    /* the mixture: POPULARITY and UNIFORM with equal shares */
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, 6, 12);
    negs_sampler *p = popularity(6, w, 1.0, 0), *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 6, 0);
    assert_int_equal(negs_sampler_set_positives(p, pt), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(u, pt), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, p, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, u, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(m, 0, 40, users, pos, 3, out, lq), NEGS_OK);
    int seen3 = 0;
    for (int i = 0; i < 120; i++)
        if (out[i] == 3) {
            assert_true(fabs(lq[i] - (-0.431)) < 6e-4);
            seen3++;
        }
    assert_true(seen3 > 0);
    negs_sampler_free(m);
    negs_csr_free(pt);
}

/* Brute force for the UNIQUE weighted design: pi = min(1, c w) with sum k (bisection). */
static void inclusion(const double *w, const int *elig, int n, int k, double *pi)
{
    double lo = 0.0, hi = 1e6;
    for (int it = 0; it < 300; it++) {
        double c = 0.5 * (lo + hi), sum = 0.0;
        for (int i = 0; i < n; i++) sum += elig[i] ? fmin(1.0, c * w[i]) : 0.0;
        if (sum < k) lo = c;
        else hi = c;
    }
    for (int i = 0; i < n; i++) pi[i] = elig[i] ? fmin(1.0, hi * w[i]) : 0.0;
}

static void test_logq_unique(void **state)
{
    (void)state;
    /* weighted: n = 6, k = 3 */
    double w[6] = {9, 1, 2, 3, 0.5, 4};
    negs_sampler *s = popularity(6, w, 1.0, 5);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    uint32_t pos[200], out[200 * 3];
    float lq[200 * 3];
    for (int r = 0; r < 200; r++) pos[r] = 3;
    assert_int_equal(negs_sampler_sample(s, 2, 200, NULL, pos, 3, out, lq), NEGS_OK);
    int elig[6] = {1, 1, 1, 0, 1, 1};
    double pi[6], sum = 0.0;
    inclusion(w, elig, 6, 3, pi);
    for (int i = 0; i < 6; i++) sum += pi[i];
    assert_true(fabs(sum - 3.0) < 1e-9);
    assert_true(pi[0] == 1.0);
    check_logq(out, lq, 600, pi);
    for (int r = 0; r < 200; r++) {
        assert_int_not_equal(out[3 * r], out[3 * r + 1]);
        assert_int_not_equal(out[3 * r], out[3 * r + 2]);
        assert_int_not_equal(out[3 * r + 1], out[3 * r + 2]);
    }
    /* k = m with awkward weights: every eligible item once, each certain */
    double aw[7] = {0.1, 0.7, 0.3, 0.0, 1.0 / 3.0, 2.9, 0.2};
    negs_sampler *s2 = popularity(7, aw, 0.9, 6);
    assert_int_equal(negs_sampler_set_param(s2, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    uint32_t p6[50];
    for (int r = 0; r < 50; r++) p6[r] = 6;
    assert_int_equal(negs_sampler_sample(s2, 2, 50, NULL, p6, 5, out, lq), NEGS_OK);
    for (int r = 0; r < 50; r++) {
        int seen[7] = {0};
        for (int j = 0; j < 5; j++) {
            uint32_t it = out[5 * r + j];
            assert_true(it != 3 && it != 6 && !seen[it]);
            seen[it] = 1;
            assert_true(fabsf(lq[5 * r + j]) < 1e-6f);
        }
    }
    assert_int_equal(negs_sampler_sample(s2, 2, 1, NULL, p6, 6, out, lq), NEGS_E_EXHAUSTED);
    negs_sampler_free(s2);
    negs_sampler_free(s);

    /* unweighted: UNIFORM with exclusion, inclusion k / m */
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 6, 5);
    assert_int_equal(negs_sampler_set_param(u, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    uint64_t ip[2] = {0, 1};
    uint32_t ix[1] = {0}, users[200] = {0};
    negs_csr *pt = negs_csr_create(1, 6, ip, ix);
    assert_int_equal(negs_sampler_set_positives(u, pt), NEGS_OK);
    assert_int_equal(negs_sampler_sample(u, 2, 200, users, pos, 3, out, lq), NEGS_OK);
    double q[6] = {0, 0.75, 0.75, 0, 0.75, 0.75};
    check_logq(out, lq, 600, q);
    /* k = m: every eligible item, each certain */
    assert_int_equal(negs_sampler_sample(u, 2, 1, users, pos, 4, out, lq), NEGS_OK);
    double one[6] = {0, 1, 1, 0, 1, 1};
    check_logq(out, lq, 4, one);
    negs_csr_free(pt);
    negs_sampler_free(u);
}

static void test_logq_mixture(void **state)
{
    (void)state;
    /* children: uniform excluding user positives, popularity (no table), category */
    const int n = 8;
    double w[8] = {5, 1, 1, 2, 8, 0, 3, 1};
    uint32_t cat[8] = {0, 1, 0, 1, 0, 1, 0, 1};
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n, 77);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 0);
    negs_sampler *p = popularity(n, w, 1.0, 0);
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_CATEGORY, n, 0);
    assert_int_equal(negs_sampler_set_categories(c, cat, n), NEGS_OK);
    uint64_t ip[2] = {0, 2};
    uint32_t ix[2] = {1, 6};
    negs_csr *pt = negs_csr_create(1, n, ip, ix);
    assert_int_equal(negs_sampler_set_positives(u, pt), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, u, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, p, 2.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, c, 1.0), NEGS_OK);
    uint32_t users[100] = {0}, pos[100], out[100 * 5];
    float lq[100 * 5];
    for (int r = 0; r < 100; r++) pos[r] = 0;
    assert_int_equal(negs_sampler_sample(m, 0, 100, users, pos, 5, out, lq), NEGS_OK);
    double q[8];
    double zp = 0.0;
    for (int i = 1; i < n; i++) zp += w[i];
    for (int i = 0; i < n; i++) {
        double pu = (i == 0 || i == 1 || i == 6) ? 0.0 : 1.0 / 5.0;
        double pp = i == 0 ? 0.0 : w[i] / zp;
        double pc = (cat[i] == 0 && i != 0) ? 1.0 / 3.0 : 0.0;
        q[i] = 5.0 * (0.25 * pu + 0.5 * pp + 0.25 * pc);
    }
    check_logq(out, lq, 500, q);
    negs_csr_free(pt);
    negs_sampler_free(m);
}

static void test_logq_category_exposure(void **state)
{
    (void)state;
    const int n = 10;
    double w[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    uint32_t cat[10] = {0, 0, 0, 0, 0, 1, 1, 1, 1, 1};
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_CATEGORY, n, 3);
    assert_int_equal(negs_sampler_set_categories(c, cat, n), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(c, w, n), NEGS_OK);
    uint32_t pos[60], out[60 * 4], users[60] = {0};
    float lq[60 * 4];
    for (int r = 0; r < 60; r++) pos[r] = 7;
    assert_int_equal(negs_sampler_sample(c, 0, 60, NULL, pos, 4, out, lq), NEGS_OK);
    double q[10] = {0}, z = 0.0;
    for (int i = 5; i < 10; i++)
        if (i != 7) z += pow(w[i], 0.75);
    for (int i = 5; i < 10; i++)
        if (i != 7) q[i] = 4.0 * pow(w[i], 0.75) / z;
    check_logq(out, lq, 240, q);
    /* UNIQUE weighted within the category */
    assert_int_equal(negs_sampler_set_param(c, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(c, 0, 60, NULL, pos, 2, out, lq), NEGS_OK);
    int elig[10] = {0, 0, 0, 0, 0, 1, 1, 0, 1, 1};
    double wa[10], pi[10];
    for (int i = 0; i < n; i++) wa[i] = pow(w[i], 0.75);
    inclusion(wa, elig, n, 2, pi);
    check_logq(out, lq, 120, pi);
    negs_sampler_free(c);

    /* EXPOSURE: uniform over exposed eligible items, or the fallback */
    uint64_t ep[3] = {0, 4, 5};
    uint32_t ex[5] = {1, 3, 5, 9, 2};
    negs_csr *et = negs_csr_create(2, n, ep, ex);
    negs_sampler *e = negs_sampler_create(NEGS_SAMPLER_EXPOSURE, n, 3);
    assert_int_equal(negs_sampler_set_exposures(e, et), NEGS_OK);
    for (int r = 0; r < 60; r++) pos[r] = 3;
    assert_int_equal(negs_sampler_sample(e, 0, 60, users, pos, 4, out, lq), NEGS_OK);
    double qe[10] = {0, 4.0 / 3, 0, 0, 0, 4.0 / 3, 0, 0, 0, 4.0 / 3};
    check_logq(out, lq, 240, qe);
    /* user 1 has one exposure (2); with UNIQUE and k = 3 it falls back to the catalogue */
    assert_int_equal(negs_sampler_set_param(e, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    for (int r = 0; r < 60; r++) users[r] = 1;
    assert_int_equal(negs_sampler_sample(e, 0, 60, users, pos, 3, out, lq), NEGS_OK);
    double qf[10];
    for (int i = 0; i < n; i++) qf[i] = i == 3 ? 0.0 : 3.0 / 9.0;
    check_logq(out, lq, 180, qf);
    negs_csr_free(et);
    negs_sampler_free(e);
}

/* docs/samplers.md: EXPOSURE's own draw ignores the weights (an exposed item of weight 0 is
 * drawn like the others); the fallback is weighted and never draws a weight-0 item. */
static void test_exposure_weight_zero(void **state)
{
    (void)state;
    const uint32_t n = 6;
    uint64_t ep[3] = {0, 2, 2}; /* user 0: exposures {1, 4}; user 1: none (falls back) */
    uint32_t ex[2] = {1, 4};
    double w[6] = {1, 0, 1, 1, 1, 0};
    negs_csr *et = negs_csr_create(2, n, ep, ex);
    negs_sampler *e = negs_sampler_create(NEGS_SAMPLER_EXPOSURE, n, 9);
    assert_int_equal(negs_sampler_set_exposures(e, et), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(e, w, n), NEGS_OK);
    uint32_t users[200], pos[200], out[200];
    for (int r = 0; r < 200; r++) {
        users[r] = (uint32_t)(r % 2);
        pos[r] = 0;
    }
    assert_int_equal(negs_sampler_sample(e, 0, 200, users, pos, 1, out, NULL), NEGS_OK);
    int seen_weight0_exposed = 0;
    for (int r = 0; r < 200; r++) {
        if (users[r] == 0) {
            assert_true(out[r] == 1 || out[r] == 4);
            seen_weight0_exposed |= out[r] == 1;
        } else {
            assert_true(out[r] != 0 && out[r] != 1 && out[r] != 5);
        }
    }
    assert_true(seen_weight0_exposed); /* P(missed in 100 fair draws) = 2^-100 */
    negs_sampler_free(e);
    negs_csr_free(et);
}

/* ---------------------------------------------------------------- determinism */

static negs_sampler *busy_sampler(uint32_t n, negs_csr **pt_out)
{
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) w[i] = 1.0 + (double)((i * 2654435761u) % 1000);
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n, 2024);
    negs_sampler *p = popularity(n, w, 0.75, 0);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 0);
    uint64_t ip[4] = {0, 50, 50, 950};
    uint32_t *ix = malloc(950 * sizeof *ix);
    for (uint32_t j = 0; j < 950; j++) ix[j] = j < 50 ? 3 * j : j - 50;
    negs_csr *pt = negs_csr_create(3, n, ip, ix);
    assert_int_equal(negs_sampler_set_positives(p, pt), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(u, pt), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, p, 3.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(m, u, 1.0), NEGS_OK);
    free(ix);
    free(w);
    *pt_out = pt;
    return m;
}

static void run_all(negs_sampler *s, size_t rows, uint32_t k, uint32_t *out, float *lq)
{
    uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
    for (size_t r = 0; r < rows; r++) {
        users[r] = (uint32_t)(r % 3);
        pos[r] = (uint32_t)((r * 31) % 1000);
    }
    assert_int_equal(negs_sampler_sample(s, 42, rows, users, pos, k, out, lq), NEGS_OK);
    free(users);
    free(pos);
}

/* Memory: 12 B/item (float log weights + alias) unless some row can need the exact indexed
 * draw; the scan that replaces the prefix sums inverts the same cumulative weight; alpha
 * changed after set_weights is honoured from the float logs. */
static void test_memory_and_scan(void **state)
{
    (void)state;
    enum { N = 1000 };
    double w[N];
    for (int i = 0; i < N; i++) w[i] = (i % 5 == 4) ? 0.0 : 1.0 + (double)(i % 7);
    negs_sampler *s = popularity(N, w, 0.75, 9);
    assert_int_equal(sp_item_bytes(s), 12 * N);
    /* user 0 light (items 0..9), user 1 heavy (items 0..899: about 90% of the mass) */
    uint64_t ip[3] = {0, 10, 910};
    uint32_t ix[910];
    for (int i = 0; i < 10; i++) ix[i] = (uint32_t)i;
    for (int i = 0; i < 900; i++) ix[10 + i] = (uint32_t)i;
    negs_csr *light = negs_csr_create(1, N, ip, ix);
    negs_csr *heavy = negs_csr_create(2, N, ip, ix);
    assert_int_equal(negs_sampler_set_positives(s, light), NEGS_OK);
    assert_null(s->t.prefix);
    assert_int_equal(sp_item_bytes(s), 12 * N);
    /* the scan inverts the eligible cumulative weight exactly as enumeration does */
    sp_row row;
    assert_int_equal(sp_row_init(&row, s, &s->scr[0], 1, 0, 1, 20, 1), NEGS_OK);
    double cum[N], acc = 0.0;
    for (int i = 0; i < N; i++) {
        int ok = i >= 10 && i != 20 && w[i] > 0.0;
        acc += ok ? pow(w[i], 0.75) : 0.0;
        cum[i] = acc;
    }
    double scale = row.z / acc;
    assert_true(scale > 0.0);
    for (int t = 0; t < 997; t++) {
        double u = (t + 0.5) / 997.0;
        uint32_t got = sp_row_weight_to_item(&row, u * row.z);
        int want = 0;
        while (cum[want] <= u * acc) want++;
        assert_int_equal(got, want);
    }
    /* a heavy user makes the prefix sums necessary; UNIQUE too */
    assert_int_equal(negs_sampler_set_positives(s, heavy), NEGS_OK);
    assert_non_null(s->t.prefix);
    assert_int_equal(sp_item_bytes(s), 12 * N + 8 * (N + 1));
    assert_int_equal(negs_sampler_set_positives(s, light), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    assert_non_null(s->t.prefix);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0.0), NEGS_OK);
    assert_null(s->t.prefix);
    /* alpha changed afterwards: log q against enumeration with the new exponent */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, -0.5), NEGS_OK);
    uint32_t users[40] = {0}, pos[40], out[40 * 5];
    float lq[40 * 5];
    for (int r = 0; r < 40; r++) pos[r] = 20;
    assert_int_equal(negs_sampler_sample(s, 3, 40, users, pos, 5, out, lq), NEGS_OK);
    double q[N], z = 0.0;
    for (int i = 0; i < N; i++) z += (i >= 10 && i != 20 && w[i] > 0.0) ? pow(w[i], -0.5) : 0.0;
    for (int i = 0; i < N; i++)
        q[i] = (i >= 10 && i != 20 && w[i] > 0.0) ? 5.0 * pow(w[i], -0.5) / z : 0.0;
    check_logq(out, lq, 200, q);
    negs_csr_free(light);
    negs_csr_free(heavy);
    negs_sampler_free(s);
}

static void test_threads_bit_identical(void **state)
{
    (void)state;
    const size_t rows = 3001;
    const uint32_t k = 17;
    uint32_t *ref = malloc(rows * k * sizeof *ref), *out = malloc(rows * k * sizeof *out);
    float *rlq = malloc(rows * k * sizeof *rlq), *lq = malloc(rows * k * sizeof *lq);
    negs_csr *pt;
    negs_sampler *m = busy_sampler(1000, &pt);
    run_all(m, rows, k, ref, rlq);
    unsigned th[3] = {2, 7, 1};
    for (int t = 0; t < 3; t++) {
        assert_int_equal(negs_sampler_set_param(m, NEGS_SP_THREADS, th[t]), NEGS_OK);
        memset(out, 0, rows * k * sizeof *out);
        run_all(m, rows, k, out, lq);
        assert_memory_equal(out, ref, rows * k * sizeof *out);
        assert_memory_equal(lq, rlq, rows * k * sizeof *lq);
    }
    /* a plain kind with UNIQUE too */
    double *w = malloc(1000 * sizeof *w);
    for (int i = 0; i < 1000; i++) w[i] = 1.0 + i % 17;
    negs_sampler *p = popularity(1000, w, 0.5, 9);
    assert_int_equal(negs_sampler_set_param(p, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(p, pt), NEGS_OK);
    run_all(p, rows, k, ref, rlq);
    for (int t = 0; t < 3; t++) {
        assert_int_equal(negs_sampler_set_param(p, NEGS_SP_THREADS, th[t]), NEGS_OK);
        run_all(p, rows, k, out, lq);
        assert_memory_equal(out, ref, rows * k * sizeof *out);
        assert_memory_equal(lq, rlq, rows * k * sizeof *lq);
    }
    /* per-user tables (user 0 excludes 30% of the mass) through the batched kernels */
    {
        uint64_t ip2[4] = {0, 300, 300, 310};
        uint32_t ix2[310];
        for (uint32_t j = 0; j < 310; j++) ix2[j] = j < 300 ? j : 500 + j;
        negs_csr *pt2 = negs_csr_create(3, 1000, ip2, ix2);
        negs_sampler *q = popularity(1000, w, 0.75, 5);
        assert_int_equal(negs_sampler_set_positives(q, pt2), NEGS_OK);
        assert_non_null(q->t.u_alias);
        assert_true(q->t.u_alias[0].n == 1000 && q->t.u_alias[2].n == 0);
        const uint32_t k2 = 100;
        uint32_t *r2 = malloc(rows * k2 * sizeof *r2), *o2 = malloc(rows * k2 * sizeof *o2);
        float *rl2 = malloc(rows * k2 * sizeof *rl2), *l2 = malloc(rows * k2 * sizeof *l2);
        run_all(q, rows, k2, r2, rl2);
        for (int t = 0; t < 3; t++) {
            assert_int_equal(negs_sampler_set_param(q, NEGS_SP_THREADS, th[t]), NEGS_OK);
            run_all(q, rows, k2, o2, l2);
            assert_memory_equal(o2, r2, rows * k2 * sizeof *o2);
            assert_memory_equal(l2, rl2, rows * k2 * sizeof *l2);
        }
        for (size_t r = 0; r < rows; r++)
            for (uint32_t j = 0; j < k2; j++) {
                uint32_t it = r2[r * k2 + j];
                assert_int_equal(negs_csr_contains(pt2, (uint32_t)(r % 3), it), 0);
                assert_int_not_equal(it, (uint32_t)((r * 31) % 1000));
            }
        free(r2);
        free(o2);
        free(rl2);
        free(l2);
        negs_sampler_free(q);
        negs_csr_free(pt2);
    }
    /* a different seed gives different draws (the comparison above can fail) */
    negs_sampler *p2 = popularity(1000, w, 0.5, 10);
    assert_int_equal(negs_sampler_set_param(p2, NEGS_SP_UNIQUE, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(p2, pt), NEGS_OK);
    run_all(p2, rows, k, out, lq);
    assert_true(memcmp(out, ref, rows * k * sizeof *out) != 0);
    negs_sampler_free(p2);
    negs_sampler_free(p);
    free(w);
    negs_csr_free(pt);
    negs_sampler_free(m);
    free(ref);
    free(out);
    free(rlq);
    free(lq);
}

static void test_row_offset_split(void **state)
{
    (void)state;
    const size_t rows = 1000, half = 400;
    const uint32_t k = 9;
    negs_csr *pt;
    negs_sampler *m = busy_sampler(1000, &pt);
    uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
    for (size_t r = 0; r < rows; r++) {
        users[r] = (uint32_t)(r % 3);
        pos[r] = (uint32_t)((r * 7) % 1000);
    }
    uint32_t *whole = malloc(rows * k * sizeof *whole), *split = malloc(rows * k * sizeof *split);
    float *lw = malloc(rows * k * sizeof *lw), *ls = malloc(rows * k * sizeof *ls);
    assert_int_equal(negs_sampler_sample(m, 5, rows, users, pos, k, whole, lw), NEGS_OK);
    assert_int_equal(negs_sampler_sample(m, 5, half, users, pos, k, split, ls), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(m, NEGS_SP_ROW_OFFSET, (double)half), NEGS_OK);
    assert_int_equal(negs_sampler_sample(m, 5, rows - half, users + half, pos + half, k,
                                         split + half * k, ls + half * k), NEGS_OK);
    assert_memory_equal(whole, split, rows * k * sizeof *whole);
    assert_memory_equal(lw, ls, rows * k * sizeof *lw);
    /* without the offset the second half differs */
    assert_int_equal(negs_sampler_set_param(m, NEGS_SP_ROW_OFFSET, 0.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(m, 5, rows - half, users + half, pos + half, k,
                                         split + half * k, ls + half * k), NEGS_OK);
    assert_true(memcmp(whole, split, rows * k * sizeof *whole) != 0);
    /* the same call again is identical; another step is not */
    assert_int_equal(negs_sampler_sample(m, 5, rows, users, pos, k, split, ls), NEGS_OK);
    assert_memory_equal(whole, split, rows * k * sizeof *whole);
    assert_int_equal(negs_sampler_sample(m, 6, rows, users, pos, k, split, ls), NEGS_OK);
    assert_true(memcmp(whole, split, rows * k * sizeof *whole) != 0);
    negs_csr_free(pt);
    negs_sampler_free(m);
    free(users);
    free(pos);
    free(whole);
    free(split);
    free(lw);
    free(ls);
}

/* Known draws for a fixed seed: the stream is documented (Philox keyed by seed, step, row,
 * purpose), so these values hold on any machine and in any later run. */
static void test_stable_across_runs(void **state)
{
    (void)state;
    static const uint32_t want_u[8] = {922, 850, 989, 300, 27, 759, 919, 283};
    static const uint32_t want_p[8] = {929, 989, 26, 919, 317, 854, 423, 656};
    double w[1000];
    for (int i = 0; i < 1000; i++) w[i] = 1 + i % 10;
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 1000, 123);
    negs_sampler *p = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 1000, 123);
    assert_int_equal(negs_sampler_set_weights(p, w, 1000), NEGS_OK);
    uint32_t out[8];
    assert_int_equal(negs_sampler_sample(u, 7, 1, NULL, NULL, 8, out, NULL), NEGS_OK);
    assert_memory_equal(out, want_u, sizeof out);
    assert_int_equal(negs_sampler_sample(p, 7, 1, NULL, NULL, 8, out, NULL), NEGS_OK);
    assert_memory_equal(out, want_p, sizeof out);
    negs_sampler_free(u);
    negs_sampler_free(p);
}

/* The batched streams (scalar, AVX2, AVX-512 where the CPU has them) read exactly the words of
 * negs_rng, whatever the size of the first refill. */
static void test_stream_matches_rng(void **state)
{
    (void)state;
    unsigned cpus[3] = {0, NEGS_CPU_AVX2, NEGS_CPU_AVX2 | NEGS_CPU_AVX512};
    unsigned have = negs_cpu_features();
    for (int c = 0; c < 3; c++) {
        if ((cpus[c] & have) != cpus[c]) continue;
        sp_philox_fn gen = sp_philox_select(cpus[c]);
        uint64_t hints[3] = {1, 13, 1000};
        for (int h = 0; h < 3; h++) {
            negs_rng r;
            sp_stream st;
            negs_rng_init(&r, 0xABCDEF12345ULL + h, 77 + ((uint64_t)h << 33), (5ULL << 32) | 9, 3);
            sp_stream_init(&st, gen, 0xABCDEF12345ULL + h, 77 + ((uint64_t)h << 33), (5ULL << 32) | 9,
                           3, hints[h]);
            for (int i = 0; i < 1000; i++) assert_int_equal(sp_u32(&st), negs_rng_u32(&r));
            assert_true(sp_u64(&st) == negs_rng_u64(&r));
            assert_true(sp_bounded(&st, 1000003) == negs_rng_bounded(&r, 1000003));
            assert_true(sp_uniform(&st) == negs_rng_uniform(&r));
        }
    }
}

/* The fused AVX-512 kernel and the portable loop give the same draws (large tables make
 * Lemire rejections happen, exercising the replay). */
static void test_fused_matches_portable(void **state)
{
    (void)state;
    uint32_t sizes[2] = {1000, 3000000};
    for (int si = 0; si < 2; si++) {
        uint32_t n = sizes[si];
        double *w = malloc(n * sizeof *w);
        for (uint32_t i = 0; i < n; i++) w[i] = 1.0 / (1.0 + (double)(i % 5000));
        negs_sampler *fast = popularity(n, w, 0.75, 8);
        setenv("NEGS_FORCE_SCALAR", "1", 1);
        negs_sampler *slow = popularity(n, w, 0.75, 8);
        unsetenv("NEGS_FORCE_SCALAR");
        size_t rows = 50, k = 4000;
        uint32_t *a = malloc(rows * k * sizeof *a), *b = malloc(rows * k * sizeof *b);
        assert_int_equal(negs_sampler_sample(fast, 3, rows, NULL, NULL, (uint32_t)k, a, NULL), NEGS_OK);
        assert_int_equal(negs_sampler_sample(slow, 3, rows, NULL, NULL, (uint32_t)k, b, NULL), NEGS_OK);
        assert_memory_equal(a, b, rows * k * sizeof *a);
        free(a);
        free(b);
        free(w);
        negs_sampler_free(fast);
        negs_sampler_free(slow);
    }
    /* with exclusion: bitmaps + AVX-512, bitmaps + portable, binary search (no budget) */
    const uint32_t n = 5000, nu = 64;
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) w[i] = 1.0 / (1.0 + (double)i);
    uint64_t *ip = malloc((nu + 1) * sizeof *ip);
    uint32_t *ix = malloc(nu * 400 * sizeof *ix);
    ip[0] = 0;
    for (uint32_t u = 0; u < nu; u++) {
        for (uint32_t j = 0; j < 400; j++) ix[u * 400 + j] = (j * 7 + u * 13) % (u < 8 ? 450 : n);
        ip[u + 1] = (uint64_t)(u + 1) * 400;
    }
    negs_csr *pt = negs_csr_create(nu, n, ip, ix);
    negs_sampler *s3[3];
    for (int v = 0; v < 3; v++) {
        if (v == 1) setenv("NEGS_FORCE_SCALAR", "1", 1);
        s3[v] = popularity(n, w, 1.0, 21);
        if (v == 2) s3[v]->table_budget = 0; /* no bitmaps; per-user tables kept */
        assert_int_equal(negs_sampler_set_positives(s3[v], pt), NEGS_OK);
        unsetenv("NEGS_FORCE_SCALAR");
    }
    assert_non_null(s3[0]->ubits);
    assert_null(s3[2]->ubits);
    assert_non_null(s3[0]->t.u_alias);
    assert_non_null(s3[2]->t.u_alias);
    size_t rows = 300;
    uint32_t k = 700, *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
    for (size_t r = 0; r < rows; r++) {
        users[r] = (uint32_t)(r % nu);
        pos[r] = (uint32_t)(r % 3);
    }
    uint32_t *o[3];
    float *l[3];
    for (int v = 0; v < 3; v++) {
        o[v] = malloc(rows * k * sizeof *o[v]);
        l[v] = malloc(rows * k * sizeof *l[v]);
        assert_int_equal(negs_sampler_sample(s3[v], 4, rows, users, pos, k, o[v], l[v]), NEGS_OK);
    }
    for (int v = 1; v < 3; v++) {
        assert_memory_equal(o[0], o[v], rows * k * sizeof *o[0]);
        assert_memory_equal(l[0], l[v], rows * k * sizeof *l[0]);
    }
    for (size_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < k; j++) {
            uint32_t it = o[0][r * k + j];
            assert_int_equal(negs_csr_contains(pt, users[r], it), 0);
            assert_int_not_equal(it, pos[r]);
        }
    for (int v = 0; v < 3; v++) {
        free(o[v]);
        free(l[v]);
        negs_sampler_free(s3[v]);
    }
    negs_csr_free(pt);
    free(ip);
    free(ix);
    free(w);
    free(users);
    free(pos);
}

/* Rebuilds reuse the handle's kept temporaries (from the second build on): a handle rebuilt
 * through several weight sets, alphas and failed calls draws exactly as a fresh handle built
 * once with the final weights (the same items and the same log q bits). */
static void draw_bits(negs_sampler *s, uint32_t *out, float *lq)
{
    assert_int_equal(negs_sampler_sample(s, 3, 50, NULL, NULL, 40, out, lq), NEGS_OK);
}

static void test_rebuilds_match_fresh(void **state)
{
    (void)state;
    enum { N = 3001 };
    static double w1[N], w2[N], w3[N];
    static uint32_t a[2000], b[2000];
    static float la[2000], lb[2000];
    for (uint32_t i = 0; i < N; i++) {
        w1[i] = 1.0 / (i + 1.0);
        w2[i] = i % 7 == 0 ? 0.0 : 1.0 + (double)((i * 2654435761u) % 1000);
        w3[i] = exp(-(double)(i % 50));
    }
    double bad[4] = {1, NAN, 1, 1};
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, N, 9);
    assert_int_equal(negs_sampler_set_weights(s, w1, N), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w3, N), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w1, N), NEGS_OK);
    assert_fails_with(negs_sampler_set_weights(s, bad, 4), NEGS_E_INVALID);
    w2[5] = NAN;
    assert_fails_with(negs_sampler_set_weights(s, w2, N), NEGS_E_INVALID);
    w2[5] = 2.0;
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, 0.75), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w2, N), NEGS_OK);
    negs_sampler *f = negs_sampler_create(NEGS_SAMPLER_POPULARITY, N, 9);
    assert_int_equal(negs_sampler_set_weights(f, w2, N), NEGS_OK);
    /* kept: log weights 4 + table 8, and the build space: w 8, spare log weights 4, the
     * recycled previous table 8 */
    assert_int_equal(sp_item_bytes(s), 32 * N);
    assert_int_equal(sp_item_bytes(f), 12 * N);
    draw_bits(s, a, la);
    draw_bits(f, b, lb);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_equal(la, lb, sizeof la);
    for (int i = 0; i < 2000; i++) assert_true(a[i] % 7 != 0); /* zero weights stay zero */
    negs_sampler_free(s);
    negs_sampler_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_and_params),
        cmocka_unit_test(test_tables_errors),
        cmocka_unit_test(test_rebuilds_match_fresh),
        cmocka_unit_test(test_sample_errors),
        cmocka_unit_test(test_mixture_errors),
        cmocka_unit_test(test_hard_entry_points),
        cmocka_unit_test(test_logq_popularity_excluded),
        cmocka_unit_test(test_logq_worked_example),
        cmocka_unit_test(test_logq_unique),
        cmocka_unit_test(test_logq_mixture),
        cmocka_unit_test(test_logq_category_exposure),
        cmocka_unit_test(test_memory_and_scan),
        cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_row_offset_split),
        cmocka_unit_test(test_stable_across_runs),
        cmocka_unit_test(test_stream_matches_rng),
        cmocka_unit_test(test_fused_matches_portable),
        cmocka_unit_test(test_exposure_weight_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
