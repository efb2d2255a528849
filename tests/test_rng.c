/* Philox4x32-10 known answers, stream keying, Lemire bounded integers, uniform floats. */
#include "test_util.h"
#include "core/rng.h"

static void test_philox_known_answers(void **state)
{
    (void)state;
    /* Random123 kat_vectors, "philox4x32 10": counter, key, expected output. */
    static const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int i = 0; i < 3; i++) {
        uint32_t out[4];
        negs_philox4x32_10(&kat[i][0], &kat[i][4], out);
        for (int j = 0; j < 4; j++) assert_int_equal(out[j], kat[i][6 + j]);
    }
}

static uint64_t first_word(uint64_t seed, uint64_t step, uint64_t row, uint32_t purpose)
{
    negs_rng r;
    negs_rng_init(&r, seed, step, row, purpose);
    return negs_rng_u64(&r);
}

static void test_stream_keys(void **state)
{
    (void)state;
    uint64_t base = first_word(42, 7, 3, 1);
    assert_true(base == first_word(42, 7, 3, 1)); /* a pure function of its keys */
    assert_true(base != first_word(43, 7, 3, 1));
    assert_true(base != first_word(42, 8, 3, 1));
    assert_true(base != first_word(42, 7, 4, 1));
    assert_true(base != first_word(42, 7, 3, 2));
    /* High halves of step and row matter too. */
    assert_true(first_word(1, 5, 0, 0) != first_word(1, 5 + (1ULL << 32), 0, 0));
    assert_true(first_word(1, 0, 5, 0) != first_word(1, 0, 5 + (1ULL << 32), 0));
}

static void test_seek_matches_sequential(void **state)
{
    (void)state;
    negs_rng a, b;
    negs_rng_init(&a, 9, 1, 2, 3);
    uint32_t seq[64];
    for (int i = 0; i < 64; i++) seq[i] = negs_rng_u32(&a);
    for (uint64_t w = 0; w < 64; w += 5) {
        negs_rng_init(&b, 9, 1, 2, 3);
        negs_rng_seek(&b, w);
        for (uint64_t i = w; i < 64; i++) assert_int_equal(negs_rng_u32(&b), seq[i]);
    }
}

static void check_bounded(uint32_t n, size_t draws)
{
    double *obs = calloc(n, sizeof *obs), *exp_ = calloc(n, sizeof *exp_);
    negs_rng r;
    negs_rng_init(&r, 2024, 0, n, 0);
    for (size_t i = 0; i < draws; i++) {
        uint32_t x = negs_rng_bounded(&r, n);
        assert_true(x < n);
        obs[x] += 1.0;
    }
    for (uint32_t i = 0; i < n; i++) exp_[i] = (double)draws / n;
    double p = negs_test_chi2_p(obs, exp_, n);
    assert_true(p > 1e-4);
    free(obs);
    free(exp_);
}

static void test_bounded_uniform(void **state)
{
    (void)state;
    size_t draws = negs_test_sanitized() ? 200000 : 1000000;
    check_bounded(2, draws);
    check_bounded(3, draws);
    check_bounded(7, draws);
    check_bounded(1000, draws);
    negs_rng r;
    negs_rng_init(&r, 1, 1, 1, 1);
    for (int i = 0; i < 100; i++) assert_int_equal(negs_rng_bounded(&r, 1), 0);
}

/* n = 3 * 2^30: plain multiply-shift without Lemire's rejection would favour the values
 * whose preimage is larger, by 1/3 relative; the thirds of the range must be equal. */
static void test_bounded_large_n_is_unbiased(void **state)
{
    (void)state;
    const uint32_t n = 3u << 30;
    size_t draws = negs_test_sanitized() ? 300000 : 1500000;
    double obs[3] = {0, 0, 0}, exp_[3];
    negs_rng r;
    negs_rng_init(&r, 77, 0, 0, 0);
    for (size_t i = 0; i < draws; i++) {
        uint32_t x = negs_rng_bounded(&r, n);
        assert_true(x < n);
        obs[x >> 30] += 1.0;
    }
    for (int i = 0; i < 3; i++) exp_[i] = draws / 3.0;
    assert_true(negs_test_chi2_p(obs, exp_, 3) > 1e-4);
    /* 64-bit version, same idea at 3 * 2^62. */
    const uint64_t n64 = 3ULL << 62;
    double o64[3] = {0, 0, 0};
    for (size_t i = 0; i < draws; i++) {
        uint64_t x = negs_rng_bounded64(&r, n64);
        assert_true(x < n64);
        o64[x >> 62] += 1.0;
    }
    assert_true(negs_test_chi2_p(o64, exp_, 3) > 1e-4);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_uniform_ks(void **state)
{
    (void)state;
    size_t n = 100000;
    double *u = malloc(n * sizeof *u);
    negs_rng r;
    negs_rng_init(&r, 5, 6, 7, 8);
    for (size_t i = 0; i < n; i++) {
        u[i] = negs_rng_uniform(&r);
        assert_true(u[i] >= 0.0 && u[i] < 1.0);
    }
    qsort(u, n, sizeof *u, cmp_double);
    double d = 0.0;
    for (size_t i = 0; i < n; i++) {
        double lo = u[i] - (double)i / n, hi = (double)(i + 1) / n - u[i];
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    assert_true(negs_test_ks_p(d, n) > 1e-4);
    for (size_t i = 0; i < n; i++) {
        float f = negs_rng_uniformf(&r);
        assert_true(f >= 0.0f && f < 1.0f);
        assert_true(negs_rng_uniform_pos(&r) > 0.0);
    }
    free(u);
}

/* Consecutive rows must look independent: the top two bits of row r's first draw against
 * row r+1's, in a 4 x 4 contingency table. */
static void test_rows_independent(void **state)
{
    (void)state;
    size_t rows = 200000;
    double obs[16] = {0}, exp_[16];
    uint32_t prev = 0;
    for (size_t row = 0; row <= rows; row++) {
        negs_rng r;
        negs_rng_init(&r, 11, 3, row, 0);
        uint32_t top = negs_rng_u32(&r) >> 30;
        if (row > 0) obs[prev * 4 + top] += 1.0;
        prev = top;
    }
    for (int i = 0; i < 16; i++) exp_[i] = rows / 16.0;
    assert_true(negs_test_chi2_p(obs, exp_, 16) > 1e-4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_philox_known_answers),
        cmocka_unit_test(test_stream_keys),
        cmocka_unit_test(test_seek_matches_sequential),
        cmocka_unit_test(test_bounded_uniform),
        cmocka_unit_test(test_bounded_large_n_is_unbiased),
        cmocka_unit_test(test_uniform_ks),
        cmocka_unit_test(test_rows_independent),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
