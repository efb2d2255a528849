/* Regressions of the reliability review (issue 12): each test pins one defect found by the
 * fuzzers, the failing allocator or the numeric-edge probes, so that it stays fixed. */
#include <float.h>

#include "test_util.h"
#include "kernels/kernels_exp.h"

/* Out-of-range loss parameters are refused at set_param, and the old value stays. */
static void test_loss_param_ranges(void **state)
{
    (void)state;
    negs_loss *l = negs_loss_create(NEGS_LOSS_HINGE);
    assert_non_null(l);
    double v = 0.0;
    const double bad_t[] = {1e-39, 1e38, 0.0, -1.0, NAN, INFINITY, 1e300};
    for (size_t i = 0; i < sizeof bad_t / sizeof bad_t[0]; i++) {
        assert_fails_with(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, bad_t[i]), NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "temperature"));
        assert_int_equal(negs_loss_get_param(l, NEGS_LP_TEMPERATURE, &v), NEGS_OK);
        assert_true(v == 1.0);
    }
    const double good_t[] = {1e-38, 1e37, 0.05, 3.0};
    for (size_t i = 0; i < sizeof good_t / sizeof good_t[0]; i++)
        assert_int_equal(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, good_t[i]), NEGS_OK);
    const double bad_m[] = {2.7e154, -1e39, NAN, INFINITY};
    for (size_t i = 0; i < sizeof bad_m / sizeof bad_m[0]; i++) {
        assert_fails_with(negs_loss_set_param(l, NEGS_LP_MARGIN, bad_m[i]), NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "margin"));
        assert_int_equal(negs_loss_get_param(l, NEGS_LP_MARGIN, &v), NEGS_OK);
        assert_true(v == 1.0);
    }
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_MARGIN, -3e38), NEGS_OK);
    /* The handle still computes. */
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 1.0), NEGS_OK);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_MARGIN, 1.0), NEGS_OK);
    float pos = 1.0f, neg[2] = {0.5f, 2.0f}, loss = 0.0f;
    assert_int_equal(negs_loss_scores(l, 1, 2, &pos, neg, NULL, NULL, &loss, NULL, NULL), NEGS_OK);
    assert_float_equal(loss, (0.5f + 2.0f) / 2.0f, 1e-6);
    negs_loss_free(l);
}

/* The portable exp takes NaN and infinities without converting a NaN to an integer (UBSan's
 * float-cast-overflow check runs this under make sanitize). */
static void test_scalar_exp_edges(void **state)
{
    (void)state;
    volatile float in[] = {NAN, -NAN, INFINITY, -INFINITY, 1e30f, -1e30f, 88.0f, -87.0f};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        float y = negs_expf_inline(in[i]);
        assert_false(isnan(y));
        assert_true(y >= 0.0f);
    }
    assert_true(negs_expf_inline(-INFINITY) == 0.0f);
    assert_true(isfinite(negs_expf_inline(INFINITY)));
    assert_float_equal(negs_expf_inline(1.0f), 2.7182817f, 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_param_ranges),
        cmocka_unit_test(test_scalar_exp_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
