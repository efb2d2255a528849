/* negs_adv_perturb: eps * g / ||g||_2 per row (APR). */
#include <float.h>

#include "test_util.h"

/* |a - b| <= tol in double (cmocka's assert_float_equal compares in float). */
#define assert_near(a, b, tol)                                                          \
    do {                                                                                \
        double a_ = (a), b_ = (b), t_ = (tol);                                          \
        if (!(fabs(a_ - b_) <= t_)) {                                                   \
            print_error("%s = %.12g, expected %.12g (tolerance %g)\n", #a, a_, b_, t_); \
            fail();                                                                     \
        }                                                                               \
    } while (0)

static void test_exact_rows(void **state)
{
    (void)state;
    const float g[6] = {3, 4, 0, 0, 0, 0};
    float d[6];
    assert_int_equal(negs_adv_perturb(2, 3, g, 0.5f, d), NEGS_OK);
    assert_near(d[0], 0.3, 1e-7);
    assert_near(d[1], 0.4, 1e-7);
    assert_true(d[2] == 0.0f);
    /* a zero row gives a zero delta, not NaN */
    for (int j = 3; j < 6; j++) assert_true(d[j] == 0.0f);
    /* negative eps points against the gradient */
    assert_int_equal(negs_adv_perturb(2, 3, g, -2.0f, d), NEGS_OK);
    assert_near(d[0], -1.2, 1e-7);
    assert_near(d[1], -1.6, 1e-7);
    /* eps = 0: all zeros */
    assert_int_equal(negs_adv_perturb(2, 3, g, 0.0f, d), NEGS_OK);
    for (int j = 0; j < 6; j++) assert_true(d[j] == 0.0f);
}

/* Every nonzero row has norm |eps| and the direction of g; in place works. */
static void test_norm_and_direction(void **state)
{
    (void)state;
    enum { N = 9, D = 37 };
    float g[N * D], d[N * D];
    uint64_t x = 12345;
    for (int i = 0; i < N * D; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        g[i] = (float)((double)(x >> 11) / 9007199254740992.0 - 0.5) * (float)(1 + i % 5);
    }
    /* rows of extreme magnitudes: the norm is taken in double, so neither squares overflow
     * nor underflow */
    for (int j = 0; j < D; j++) {
        g[D + j] = 3e37f * (j % 2 ? 1.0f : -1.0f);
        g[2 * D + j] = 1e-41f * (float)(j % 3);
    }
    assert_int_equal(negs_adv_perturb(N, D, g, 0.25f, d), NEGS_OK);
    for (int i = 0; i < N; i++) {
        double ss = 0, gg = 0, dot = 0;
        for (int j = 0; j < D; j++) {
            ss += (double)d[i * D + j] * d[i * D + j];
            gg += (double)g[i * D + j] * g[i * D + j];
            dot += (double)d[i * D + j] * g[i * D + j];
        }
        const double norm = sqrt(ss), cosine = dot / (norm * sqrt(gg));
        assert_near(norm, 0.25, 1e-6);
        assert_near(cosine, 1.0, 1e-6);
    }
    float in_place[N * D];
    memcpy(in_place, g, sizeof g);
    assert_int_equal(negs_adv_perturb(N, D, in_place, 0.25f, in_place), NEGS_OK);
    assert_memory_equal(in_place, d, sizeof d);
}

static void test_errors(void **state)
{
    (void)state;
    float g[4] = {1, 2, 3, 4}, d[4] = {7, 7, 7, 7};
    assert_fails_with(negs_adv_perturb(2, 2, NULL, 1.0f, d), NEGS_E_INVALID);
    assert_fails_with(negs_adv_perturb(2, 2, g, 1.0f, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_adv_perturb(0, 2, g, 1.0f, d), NEGS_E_INVALID);
    assert_fails_with(negs_adv_perturb(2, 0, g, 1.0f, d), NEGS_E_INVALID);
    assert_fails_with(negs_adv_perturb(SIZE_MAX / 2, 3, g, 1.0f, d), NEGS_E_INVALID);
    assert_fails_with(negs_adv_perturb(2, 2, g, NAN, d), NEGS_E_INVALID);
    assert_fails_with(negs_adv_perturb(2, 2, g, INFINITY, d), NEGS_E_INVALID);
    g[3] = NAN;
    assert_fails_with(negs_adv_perturb(2, 2, g, 1.0f, d), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "grad"));
    g[3] = -INFINITY;
    assert_fails_with(negs_adv_perturb(2, 2, g, 1.0f, d), NEGS_E_INVALID);
    /* a failed call writes nothing */
    for (int j = 0; j < 4; j++) assert_true(d[j] == 7.0f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_rows),
        cmocka_unit_test(test_norm_and_direction),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
