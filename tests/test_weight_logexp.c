/* The weight build's vectorised log and exp (sampler_logexp.c) against libm, bit for bit, on
 * every kernel family this CPU has: random bit patterns, subnormals, 0, the largest doubles,
 * values next to 1, values whose float log or double exp lies next to a rounding boundary (the
 * lanes recomputed by libm), invalid weights at every lane and in the tail; then the tables of
 * whole samplers built under each family. */
#include <float.h>

#include "test_util.h"
#include "sampler/sampler_internal.h"
#include "sampler/sampler_logexp.h"

static uint64_t rng_state;
static uint64_t next_u64(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double unit(void)
{
    return ((double)(next_u64() >> 11) + 0.5) * 0x1.0p-53;
}

static double from_bits(uint64_t b)
{
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* The kernel families to compare: this CPU's, capped as NEGS_FORCE_ISA would. */
static unsigned families[3];
static int n_families;
static void find_families(void)
{
    unsigned f = negs_cpu_features();
    n_families = 0;
    families[n_families++] = 0;
    if (f & NEGS_CPU_AVX2) families[n_families++] = NEGS_CPU_AVX2;
    if (f & NEGS_CPU_AVX512) families[n_families++] = NEGS_CPU_AVX2 | NEGS_CPU_AVX512;
}

static size_t sized(size_t full)
{
    return negs_test_sanitized() ? full / 10 : full;
}

/* libm's definitions, as set_weights and the build had them */
static void log_reference(const double *x, uint32_t n, float *lw, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (uint32_t i = 0; i < n; i++) {
        lw[i] = x[i] > 0.0 ? (float)log(x[i]) : -INFINITY;
        if (x[i] > 0.0) {
            *lo = lw[i] < *lo ? lw[i] : *lo;
            *hi = lw[i] > *hi ? lw[i] : *hi;
        }
    }
}

static void check_log(const double *x, uint32_t n)
{
    float *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    assert_true(want && got);
    double lo, hi, sum = 0.0;
    log_reference(x, n, want, &lo, &hi);
    for (uint32_t i = 0; i < n; i++) sum += x[i];
    for (int f = 0; f < n_families; f++) {
        double glo, ghi, gsum;
        assert_int_equal(sp_log_weights(families[f], x, n, got, &glo, &ghi, &gsum), n);
        for (uint32_t i = 0; i < n; i++)
            if (memcmp(&got[i], &want[i], sizeof *got) != 0)
                fail_msg("family %u: log(%a) gave %a, libm %a", families[f], x[i], (double)got[i],
                         (double)want[i]);
        assert_true(glo == lo && ghi == hi);
        assert_int_equal(isfinite(gsum), isfinite(sum));
        assert_int_equal(gsum > 0.0, sum > 0.0);
    }
    free(want);
    free(got);
}

static void test_log_matches_libm(void **state)
{
    (void)state;
    uint32_t n = (uint32_t)sized(2000003);
    double *x = malloc(n * sizeof *x);
    assert_non_null(x);
    rng_state = 7;
    /* random bit patterns: every binade, subnormals included (sum overflows: checked too) */
    for (uint32_t i = 0; i < n; i++) x[i] = from_bits(next_u64() & 0x7fefffffffffffffULL);
    const double special[] = {0.0, 5e-324, 0x1.0p-1022, 0x1.fffffffffffffp-1023, DBL_MAX, 1.0,
                              nextafter(1.0, 0.0), nextafter(1.0, 2.0), 2.0, 0.5, M_SQRT2,
                              M_SQRT1_2, nextafter(M_SQRT2, 0.0), 3.0, 1e-300, 1e300};
    for (size_t j = 0; j < sizeof special / sizeof *special; j++) x[j * 5] = special[j];
    check_log(x, n);
    /* near 1, where the log is small, and the Zipf weights of the bench */
    for (uint32_t i = 0; i < n; i++) x[i] = i % 2 ? 1.0 + (unit() - 0.5) * 1e-6 : 1.0 / (i + 1.0);
    check_log(x, n);
    /* float logs next to a float rounding midpoint: x = exp(midpoint) puts log(x) within an
     * ulp of it, in the lanes that go to libm */
    for (uint32_t i = 0; i < n; i++) {
        float a = (float)((unit() - 0.5) * 1400.0), b = nextafterf(a, INFINITY);
        x[i] = exp(0.5 * ((double)a + (double)b)) * (1.0 + (double)(int)(i % 5 - 2) * 0x1.0p-52);
    }
    check_log(x, n);
    free(x);
}

static void test_log_reports_first_bad_weight(void **state)
{
    (void)state;
    enum { N = 37 };
    double x[N];
    float lw[N];
    const double bad[] = {NAN, -1.0, INFINITY, -INFINITY, -0x1.0p-1074};
    for (int f = 0; f < n_families; f++)
        for (size_t b = 0; b < sizeof bad / sizeof *bad; b++)
            for (uint32_t at = 0; at < N; at++) {
                for (uint32_t i = 0; i < N; i++) x[i] = 1.0 + i;
                x[at] = bad[b];
                if (at + 3 < N) x[at + 3] = NAN; /* a later bad weight is not the one reported */
                double lo, hi, sum;
                assert_int_equal(sp_log_weights(families[f], x, N, lw, &lo, &hi, &sum), at);
            }
    /* every weight 0: no positive log */
    for (uint32_t i = 0; i < N; i++) x[i] = 0.0;
    for (int f = 0; f < n_families; f++) {
        double lo, hi, sum;
        assert_int_equal(sp_log_weights(families[f], x, N, lw, &lo, &hi, &sum), N);
        assert_true(lo == INFINITY && hi == -INFINITY && sum == 0.0);
        for (uint32_t i = 0; i < N; i++) assert_true(lw[i] == -INFINITY);
    }
}

static void check_exp(const float *lw, uint32_t n, double alpha, double mx)
{
    double *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
    assert_true(want && got);
    double total = 0.0;
    uint32_t n_pos = 0, any_pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        want[i] = lw[i] == -INFINITY ? 0.0 : exp(alpha * (double)lw[i] - mx);
        total += want[i];
        n_pos += want[i] > 0.0;
        any_pos = want[i] > 0.0 ? i : any_pos;
    }
    for (int f = 0; f < n_families; f++) {
        sp_expw_sums r;
        sp_exp_weights(families[f], lw, n, alpha, mx, got, &r);
        for (uint32_t i = 0; i < n; i++)
            if (memcmp(&got[i], &want[i], sizeof *got) != 0)
                fail_msg("family %u: exp(%g %a - %a) gave %a, libm %a", families[f], alpha,
                         (double)lw[i], mx, got[i], want[i]);
        assert_true(memcmp(&r.total, &total, sizeof total) == 0); /* the sum in item order */
        assert_int_equal(r.n_pos, n_pos);
        assert_int_equal(r.any_pos, any_pos);
    }
    free(want);
    free(got);
}

static void test_exp_matches_libm(void **state)
{
    (void)state;
    uint32_t n = (uint32_t)sized(2000005);
    float *lw = malloc(n * sizeof *lw);
    assert_non_null(lw);
    rng_state = 9;
    /* log weights over the whole usable span, zero weights among them; about 4 in 100 exps land
     * next to a rounding midpoint and go to libm */
    for (uint32_t i = 0; i < n; i++) lw[i] = i % 13 == 4 ? -INFINITY : (float)((unit() - 0.5) * 1400.0);
    const double alphas[] = {0.75, 1.0, -0.5, 0.0, 0.3};
    for (size_t a = 0; a < sizeof alphas / sizeof *alphas; a++) {
        double alpha = alphas[a], mx = -INFINITY;
        for (uint32_t i = 0; i < n; i++)
            if (lw[i] != -INFINITY && alpha * (double)lw[i] > mx) mx = alpha * (double)lw[i];
        check_exp(lw, n, alpha, mx);
    }
    /* beyond the kernels' range (results subnormal or 0, through libm), x = 0 and -0 */
    check_exp(lw, n, 1.2, 0.0);
    lw[0] = lw[1] = 0.0f;
    check_exp(lw, 9, 0.0, -0.0);
    check_exp(lw, 9, -0.0, 0.0);
    free(lw);
}

/* Whole samplers built on each kernel family (NEGS_FORCE_ISA at creation) have the same float
 * log weights, alias tables and sums to the bit. */
static negs_sampler *built(const char *isa, const double *w, uint32_t n, double alpha)
{
    setenv("NEGS_FORCE_ISA", isa, 1);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, 5);
    unsetenv("NEGS_FORCE_ISA");
    assert_non_null(s);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, alpha), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
    return s;
}

static void test_tables_same_on_every_family(void **state)
{
    (void)state;
    uint32_t n = (uint32_t)sized(300007);
    double *w = malloc(n * sizeof *w);
    assert_non_null(w);
    rng_state = 3;
    const char *isa[3] = {"scalar", "avx2", "avx512"};
    for (int kind = 0; kind < 3; kind++) {
        for (uint32_t i = 0; i < n; i++)
            w[i] = kind == 0 ? 1.0 / (i + 1.0) : kind == 1 ? (i % 7 == 0 ? 0.0 : unit())
                                                           : exp(400.0 * (unit() - 0.5));
        negs_sampler *ref = built(isa[0], w, n, kind == 2 ? -0.9 : 0.75);
        for (int f = 1; f < 3; f++) {
            negs_sampler *s = built(isa[f], w, n, kind == 2 ? -0.9 : 0.75);
            assert_memory_equal(s->lw, ref->lw, n * sizeof *s->lw);
            assert_memory_equal(s->t.alias.e, ref->t.alias.e, n * sizeof *s->t.alias.e);
            assert_true(s->t.total == ref->t.total && s->t.mx == ref->t.mx);
            assert_true(s->lw_lo == ref->lw_lo && s->lw_hi == ref->lw_hi);
            negs_sampler_free(s);
        }
        negs_sampler_free(ref);
    }
    free(w);
}

int main(void)
{
    find_families();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_matches_libm),
        cmocka_unit_test(test_log_reports_first_bad_weight),
        cmocka_unit_test(test_exp_matches_libm),
        cmocka_unit_test(test_tables_same_on_every_family),
    };
    return cmocka_run_group_tests_name("weight_logexp", tests, NULL, NULL);
}
