/* Vose alias tables: exact table probabilities, goodness of fit, zero weights, large n. */
#include "test_util.h"
#include "core/alias.h"

static void test_table_probabilities_match_weights(void **state)
{
    (void)state;
    const double w[6] = {1.0, 0.0, 3.0, 0.5, 10.0, 2.5};
    negs_alias a;
    assert_int_equal(negs_alias_build(&a, w, 6), NEGS_OK);
    assert_int_equal(a.n_positive, 5);
    assert_true(fabs(a.total - 17.0) < 1e-12);
    double p[6], sum = 0.0;
    negs_alias_probs(&a, p);
    for (uint32_t i = 0; i < 6; i++) {
        assert_true(fabs(p[i] - w[i] / 17.0) <= 0x1.0p-31 / 6.0); /* documented bound */
        assert_true(fabs(negs_alias_prob(&a, i) - p[i]) < 1e-15);
        sum += p[i];
    }
    assert_true(fabs(sum - 1.0) < 1e-12);
    assert_true(p[1] == 0.0); /* exactly zero, not rounded */
    negs_alias_free(&a);
}

static void test_goodness_of_fit_and_zero_weights(void **state)
{
    (void)state;
    enum { N = 200 };
    double w[N], obs[N] = {0}, exp_[N];
    for (int i = 0; i < N; i++) w[i] = (i % 7 == 3) ? 0.0 : pow(i + 1.0, -0.8);
    negs_alias a;
    assert_int_equal(negs_alias_build(&a, w, N), NEGS_OK);
    double p[N];
    negs_alias_probs(&a, p);
    size_t draws = negs_test_sanitized() ? 500000 : 3000000;
    negs_rng r;
    negs_rng_init(&r, 3, 0, 0, 0);
    for (size_t i = 0; i < draws; i++) obs[negs_alias_draw(&a, &r)] += 1.0;
    for (int i = 0; i < N; i++) {
        exp_[i] = p[i] * (double)draws;
        if (w[i] == 0.0) assert_true(obs[i] == 0.0);
    }
    assert_true(negs_test_chi2_p(obs, exp_, N) > 1e-4);
    negs_alias_free(&a);
}

/* A tiny positive weight beside huge ones keeps a non-zero probability. */
static void test_tiny_weight_not_lost(void **state)
{
    (void)state;
    const double w[3] = {1e-30, 1.0, 1.0};
    negs_alias a;
    assert_int_equal(negs_alias_build(&a, w, 3), NEGS_OK);
    assert_true(negs_alias_prob(&a, 0) > 0.0);
    assert_true(negs_alias_prob(&a, 0) < 1e-9);
    negs_alias_free(&a);
}

static void test_bad_weights(void **state)
{
    (void)state;
    negs_alias a;
    const double neg[3] = {1.0, -0.5, 1.0};
    assert_fails_with(negs_alias_build(&a, neg, 3), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "weights[1] = -0.5"));
    const double nan_[2] = {NAN, 1.0};
    assert_fails_with(negs_alias_build(&a, nan_, 2), NEGS_E_INVALID);
    const double inf_[2] = {1.0, INFINITY};
    assert_fails_with(negs_alias_build(&a, inf_, 2), NEGS_E_INVALID);
    const double zero[2] = {0.0, 0.0};
    assert_fails_with(negs_alias_build(&a, zero, 2), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "every weight is 0"));
    const double huge[2] = {1e308, 1e308};
    assert_fails_with(negs_alias_build(&a, huge, 2), NEGS_E_INVALID);
    assert_fails_with(negs_alias_build(&a, NULL, 2), NEGS_E_INVALID);
    assert_fails_with(negs_alias_build(&a, zero, 0), NEGS_E_INVALID);
    assert_null(a.e);
    negs_alias_free(&a);
}

/* Beyond 2^24 items a float-based table cannot tell neighbouring cumulative weights apart;
 * the double build must give the last items their exact share. */
static void test_more_than_2_pow_24_items(void **state)
{
    (void)state;
    uint32_t n = (1u << 24) + 5;
    double *w = malloc((size_t)n * sizeof *w);
    assert_non_null(w);
    for (uint32_t i = 0; i < n; i++) w[i] = 1.0;
    w[n - 1] = 0.0;
    w[n - 2] = 4.0;
    negs_alias a;
    assert_int_equal(negs_alias_build(&a, w, n), NEGS_OK);
    double total = (double)n - 1.0 + 3.0;
    double bound = 0x1.0p-31 / n; /* the documented quantisation bound, with a factor 2 */
    assert_true(fabs(negs_alias_prob(&a, n - 2) - 4.0 / total) < bound);
    assert_true(negs_alias_prob(&a, n - 1) == 0.0);
    assert_true(fabs(negs_alias_prob(&a, n - 3) - 1.0 / total) < bound);
    assert_true(fabs(negs_alias_prob(&a, 0) - 1.0 / total) < bound);
    negs_alias_free(&a);
    free(w);
}

/* The build from checked weights with caller temporaries is the same table. */
static void test_checked_build_same_table(void **state)
{
    (void)state;
    enum { N = 5000 };
    static double w[N], p[N];
    static uint32_t work[N];
    double total = 0.0;
    uint32_t n_pos = 0, any = 0;
    for (uint32_t i = 0; i < N; i++) {
        w[i] = i % 11 == 3 ? 0.0 : i % 5 == 0 ? 1e-300 : 1.0 / (1.0 + i % 97);
        total += w[i];
        if (w[i] > 0.0) {
            n_pos++;
            any = i;
        }
    }
    negs_alias a, b;
    assert_int_equal(negs_alias_build(&a, w, N), NEGS_OK);
    assert_int_equal(negs_alias_build_checked(&b, w, N, total, n_pos, any, p, work), NEGS_OK);
    assert_int_equal(a.n, b.n);
    assert_int_equal(a.n_positive, b.n_positive);
    assert_true(a.total == b.total);
    assert_memory_equal(a.e, b.e, N * sizeof *a.e);
    negs_alias_free(&a);
    negs_alias_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_probabilities_match_weights),
        cmocka_unit_test(test_goodness_of_fit_and_zero_weights),
        cmocka_unit_test(test_tiny_weight_not_lost),
        cmocka_unit_test(test_bad_weights),
        cmocka_unit_test(test_checked_build_same_table),
        cmocka_unit_test(test_more_than_2_pow_24_items),
    };
    return cmocka_run_group_tests_name("alias", tests, NULL, NULL);
}
