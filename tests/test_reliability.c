/* Regressions of the reliability review (issue 12): each test pins one defect found by the
 * fuzzers, the failing allocator or the numeric-edge probes, so that it stays fixed. */
#include <float.h>

#include "test_util.h"
#include "freq/freq_internal.h"
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


/* A saved image of a small estimator that has seen a few ids (caller frees). */
static unsigned char *freq_image(int kind, size_t *size)
{
    negs_freq *f = negs_freq_create(kind, 16, 2, 3);
    assert_non_null(f);
    uint64_t ids[6] = {1, 2, 2, 3, 3, 3};
    assert_int_equal(negs_freq_update(f, 5, ids, 6), NEGS_OK);
    assert_int_equal(negs_freq_update(f, 9, ids, 6), NEGS_OK);
    assert_int_equal(negs_freq_save(f, NULL, 0, size), NEGS_OK);
    unsigned char *img = malloc(*size);
    assert_int_equal(negs_freq_save(f, img, *size, size), NEGS_OK);
    negs_freq_free(f);
    return img;
}

static void put_f64_at(unsigned char *img, size_t size, size_t off, double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    for (int i = 0; i < 8; i++) img[off + i] = (unsigned char)(b >> (8 * i));
    uint64_t c = negs_freq_image_checksum(img, size - 8); /* a well-formed but hostile image */
    for (int i = 0; i < 8; i++) img[size - 8 + i] = (unsigned char)(c >> (8 * i));
}

/* Any finite rate in an image: p stays above 0 and log q finite (the floor used to underflow). */
static void test_freq_floor_with_any_rate(void **state)
{
    (void)state;
    const double rates[] = {1e300, DBL_MAX, 1e-300, 4.9e-324};
    for (int kind = NEGS_FREQ_GAP; kind <= NEGS_FREQ_SKETCH; kind++)
        for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
            size_t size = 0;
            unsigned char *img = freq_image(kind, &size);
            put_f64_at(img, size, 104, rates[r]);
            negs_freq *f = negs_freq_load(img, size);
            assert_non_null(f);
            uint64_t ids[3] = {1, 3, 999};
            float p[3], lq[3];
            assert_int_equal(negs_freq_prob(f, ids, 3, p), NEGS_OK);
            assert_int_equal(negs_freq_logq(f, ids, 3, lq), NEGS_OK);
            for (int i = 0; i < 3; i++) {
                assert_true(p[i] >= FLT_MIN && p[i] <= 1.0f);
                assert_true(isfinite(lq[i]) && lq[i] >= -87.5f && lq[i] <= 0.0f);
            }
            negs_freq_free(f);
            free(img);
        }
}

/* -0.0 where save writes +0.0 is refused, so that load then save is byte-identical. */
static void test_freq_negative_zero_refused(void **state)
{
    (void)state;
    const struct { int kind; size_t off; } cases[] = {
        {NEGS_FREQ_GAP, 96}, {NEGS_FREQ_GAP, 56}, {NEGS_FREQ_SKETCH, 40}, {NEGS_FREQ_SKETCH, 56},
        {NEGS_FREQ_SKETCH, 104}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t size = 0;
        unsigned char *img = freq_image(cases[c].kind, &size);
        put_f64_at(img, size, cases[c].off, -0.0); /* GAP total, half_life; SKETCH alpha, ... */
        assert_null(negs_freq_load(img, size));
        assert_int_equal(negs_last_status(), NEGS_E_FORMAT);
        assert_non_null(strstr(negs_last_error(), "-0.0"));
        free(img);
    }
}

/* A half-life of -0.0 is no decay, held as +0.0: what a SKETCH with it saves loads again
 * (make fuzz found set_param keeping -0.0, which save wrote and load refused). */
static void test_freq_half_life_negative_zero(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_SKETCH, 32, 2, 1);
    assert_non_null(f);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_HALF_LIFE, -0.0), NEGS_OK);
    double v = 1.0;
    assert_int_equal(negs_freq_get_param(f, NEGS_FP_HALF_LIFE, &v), NEGS_OK);
    assert_true(v == 0.0 && !signbit(v));
    const uint64_t ids[3] = {1, 2, 1};
    assert_int_equal(negs_freq_update(f, 4, ids, 3), NEGS_OK);
    size_t n = 0;
    assert_int_equal(negs_freq_save(f, NULL, 0, &n), NEGS_OK);
    unsigned char *a = malloc(n), *b = malloc(n);
    assert_true(a && b);
    assert_int_equal(negs_freq_save(f, a, n, &n), NEGS_OK);
    negs_freq *g = negs_freq_load(a, n);
    assert_non_null(g);
    assert_int_equal(negs_freq_save(g, b, n, &n), NEGS_OK);
    assert_memory_equal(a, b, n);
    negs_freq_free(g);
    negs_freq_free(f);
    free(a);
    free(b);
}

/* Indexed score losses: a gradient entry that overflows float from finite rows is refused, in
 * both the rows and the tables variants (make fuzz found it OK with inf: tau+ gives a
 * positive's coefficient above 1; BCE sums two terms near FLT_MAX). */
static void test_scores_indexed_gradient_overflow(void **state)
{
    (void)state;
    const uint32_t ui[1] = {0}, pi[1] = {0}, ni[1] = {1};
    for (int c = 0; c < 2; c++) {
        negs_loss *l = negs_loss_create(c == 0 ? NEGS_LOSS_SOFTMAX : NEGS_LOSS_BCE);
        assert_non_null(l);
        float ue[1], ie[2], loss, du[1], dp[1], dn[1], tu[1] = {0}, ti[2] = {0, 0};
        if (c == 0) { /* scores 0: tau+ 0.9 makes the positive's coefficient -(1 + ...) */
            assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 0.9), NEGS_OK);
            ue[0] = -3.3e38f;
            ie[0] = ie[1] = 0.0f;
        } else { /* saturated scores: d user = -v_pos + v_neg = 6e38 */
            assert_int_equal(negs_loss_set_param(l, NEGS_LP_REDUCTION, NEGS_REDUCE_SUM), NEGS_OK);
            ue[0] = 1e-30f;
            ie[0] = -3e38f;
            ie[1] = 3e38f;
        }
        int st = negs_loss_scores_indexed_rows(l, 1, 1, 1, ue, 1, ie, 2, ui, pi, ni, NULL, NULL,
                                               &loss, du, dp, dn);
        assert_int_equal(st, NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "overflows float"));
        st = negs_loss_scores_indexed(l, 1, 1, 1, ue, 1, ie, 2, ui, pi, ni, NULL, NULL, &loss, tu, ti);
        assert_int_equal(st, NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "overflows float"));
        /* the same call without the gradients is fine: the loss itself is finite */
        assert_int_equal(negs_loss_scores_indexed_rows(l, 1, 1, 1, ue, 1, ie, 2, ui, pi, ni, NULL,
                                                       NULL, &loss, NULL, NULL, NULL), NEGS_OK);
        assert_true(isfinite(loss));
        negs_loss_free(l);
    }
}

/* SKETCH counters far above the total are refused; merges that would overflow are refused
 * and leave the estimator as it was; merging an estimator into itself is refused. */
static void test_freq_sketch_counters_and_merge(void **state)
{
    (void)state;
    size_t size = 0;
    unsigned char *img = freq_image(NEGS_FREQ_SKETCH, &size);
    put_f64_at(img, size, 128, 1e300); /* the first counter */
    assert_null(negs_freq_load(img, size));
    assert_int_equal(negs_last_status(), NEGS_E_FORMAT);
    assert_non_null(strstr(negs_last_error(), "counter"));
    free(img);

    /* total and every counter near DBL_MAX / 3: each image is valid, their sum is not */
    img = freq_image(NEGS_FREQ_SKETCH, &size);
    put_f64_at(img, size, 96, 6e307);
    for (size_t off = 128; off < size - 8; off += 8) put_f64_at(img, size, off, 5e307);
    negs_freq *a = negs_freq_load(img, size), *b = negs_freq_load(img, size);
    assert_true(a && b);
    assert_fails_with(negs_freq_merge(a, b), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "overflow"));
    unsigned char *again = malloc(size);
    size_t n = 0;
    assert_int_equal(negs_freq_save(a, again, size, &n), NEGS_OK);
    assert_memory_equal(again, img, size);
    negs_freq_free(b);

    assert_fails_with(negs_freq_merge(a, a), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "itself"));
    assert_int_equal(negs_freq_save(a, again, size, &n), NEGS_OK);
    assert_memory_equal(again, img, size);
    negs_freq_free(a);
    free(again);
    free(img);
}

/* Finite scores whose row sum overflows (BCE, two negatives of 3e38): refused, never an
 * infinite loss with NEGS_OK, for every reduction. */
static void test_scores_row_sum_overflow(void **state)
{
    (void)state;
    for (int red = NEGS_REDUCE_MEAN; red <= NEGS_REDUCE_NONE; red++) {
        negs_loss *l = negs_loss_create(NEGS_LOSS_BCE);
        assert_non_null(l);
        assert_int_equal(negs_loss_set_param(l, NEGS_LP_REDUCTION, red), NEGS_OK);
        float pos = 0.0f, neg[2] = {3e38f, 3e38f}, loss = 0.0f, dp, dn[2];
        assert_fails_with(negs_loss_scores(l, 1, 2, &pos, neg, NULL, NULL, &loss, &dp, dn),
                          NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "overflows float"));
        neg[1] = 1.0f; /* one of them alone fits */
        assert_int_equal(negs_loss_scores(l, 1, 2, &pos, neg, NULL, NULL, &loss, &dp, dn), NEGS_OK);
        assert_true(isfinite(loss) && loss > 1e38f);
        negs_loss_free(l);
    }
}

/* In-batch: v entries near 3e38 with equal logits; the true du is 0, a running sum of
 * unnormalised terms would pass FLT_MAX. Either finite outputs or a refusal naming du. */
static void test_inbatch_large_v(void **state)
{
    (void)state;
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    assert_non_null(l);
    float u[2] = {0.0f, 0.0f}, v[4] = {3e38f, 3e38f, 3e38f, 3e38f}, loss = 0.0f, du[2], dv[4];
    int st = negs_loss_inbatch(l, 2, 2, 1, u, v, NULL, NULL, NULL, &loss, du, dv);
    if (st == NEGS_OK) {
        assert_true(isfinite(loss) && isfinite(du[0]) && isfinite(du[1]));
        for (int j = 0; j < 4; j++) assert_true(isfinite(dv[j]));
    } else {
        assert_int_equal(st, NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "overflows float"));
    }
    /* the handle still computes ordinary inputs */
    float u2[2] = {0.5f, -0.5f}, v2[4] = {1.0f, -1.0f, 2.0f, 0.0f};
    assert_int_equal(negs_loss_inbatch(l, 2, 2, 1, u2, v2, NULL, NULL, NULL, &loss, du, dv), NEGS_OK);
    assert_true(isfinite(loss) && isfinite(du[0]));
    negs_loss_free(l);
}

/* POPULARITY alpha: outside |alpha| x ln(w_max / w_min) <= 700 it is refused at set_param or
 * set_weights with a sentence naming alpha; inside, every item of positive weight is drawn. */
static void test_popularity_alpha_range(void **state)
{
    (void)state;
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 4, 1);
    assert_non_null(s);
    const double w[4] = {1.0, 1e6, 0.0, 5.0}; /* ln(1e6) = 13.8: |alpha| <= 50.6 */
    assert_int_equal(negs_sampler_set_weights(s, w, 4), NEGS_OK);
    const double bad[] = {1e308, -1e308, 51.0, -51.0, 1e20};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_fails_with(negs_sampler_set_param(s, NEGS_SP_ALPHA, bad[i]), NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "alpha"));
        assert_non_null(strstr(negs_last_error(), "probability 0"));
    }
    double v = 0.0;
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_ALPHA, &v), NEGS_OK);
    assert_true(v == 0.75);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, -50.0), NEGS_OK);
    uint32_t pos = 1, items[64];
    float lq[64];
    assert_int_equal(negs_sampler_sample(s, 0, 1, NULL, &pos, 64, items, lq), NEGS_OK);
    for (int i = 0; i < 64; i++) assert_true(items[i] != 2 && items[i] != 1 && isfinite(lq[i]));
    /* weights set after an alpha they cannot take */
    negs_sampler *t = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 4, 1);
    assert_int_equal(negs_sampler_set_param(t, NEGS_SP_ALPHA, 200.0), NEGS_OK);
    assert_fails_with(negs_sampler_set_weights(t, w, 4), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "alpha = 200"));
    const double flat[4] = {2.0, 2.0, 0.0, 2.0};
    assert_int_equal(negs_sampler_set_weights(t, flat, 4), NEGS_OK);
    assert_int_equal(negs_sampler_sample(t, 0, 1, NULL, &pos, 8, items, lq), NEGS_OK);
    for (int i = 0; i < 8; i++) assert_true(items[i] == 0 || items[i] == 3);
    negs_sampler_free(t);
    negs_sampler_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loss_param_ranges),
        cmocka_unit_test(test_scalar_exp_edges),
        cmocka_unit_test(test_freq_floor_with_any_rate),
        cmocka_unit_test(test_freq_negative_zero_refused),
        cmocka_unit_test(test_freq_half_life_negative_zero),
        cmocka_unit_test(test_scores_indexed_gradient_overflow),
        cmocka_unit_test(test_freq_sketch_counters_and_merge),
        cmocka_unit_test(test_scores_row_sum_overflow),
        cmocka_unit_test(test_inbatch_large_v),
        cmocka_unit_test(test_popularity_alpha_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
