/* Vose alias tables: exact table probabilities, goodness of fit, zero weights, large n. */
#include "test_util.h"
#include "core/alias.h"
#include "core/alloc.h"

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

/* The construction the sweep replaces, as it was: Vose's small and large work lists filled in
 * item order and used as stacks, the same error diffusion. The sweep must give its tables to the
 * bit (every seeded draw depends on them). */
static double ref_threshold(double prob)
{
    double t = (prob * 4294967296.0 + 0x1.0p52) - 0x1.0p52;
    if (t >= 4294967295.0) return 4294967295.0;
    if (t < 1.0) return prob > 0.0 ? 1.0 : 0.0;
    return t;
}

static void ref_build(negs_alias_entry *e, const double *w, uint32_t n, uint32_t any_pos)
{
    double total = 0.0;
    for (uint32_t i = 0; i < n; i++) total += w[i];
    double *p = malloc(n * sizeof *p), scale = (double)n / total, carried = 0.0;
    uint32_t *work = malloc(n * sizeof *work);
    assert_true(p && work);
    size_t n_small = 0, n_large = 0;
    for (uint32_t i = 0; i < n; i++) {
        p[i] = w[i] * scale;
        if (p[i] < 1.0) work[n_small++] = i;
        else work[n - 1 - n_large++] = i;
    }
    while (n_small > 0 && n_large > 0) {
        uint32_t s = work[--n_small], l = work[n - n_large];
        double td = 0.0;
        if (p[s] > 0.0 || w[s] > 0.0) {
            double d = p[s] - carried;
            td = ref_threshold(d > 0.0 ? (d < 1.0 ? d : 1.0) : 0.0);
            carried += td * 0x1.0p-32 - p[s];
        }
        e[s].threshold = (uint32_t)td;
        e[s].alias = l;
        p[l] -= 1.0 - td * 0x1.0p-32;
        if (p[l] < 1.0) {
            n_large--;
            work[n_small++] = l;
        }
    }
    while (n_large > 0) {
        uint32_t l = work[n - n_large--];
        e[l].threshold = UINT32_MAX;
        e[l].alias = l;
    }
    while (n_small > 0) {
        uint32_t s = work[--n_small];
        e[s].threshold = w[s] > 0.0 ? UINT32_MAX : 0;
        e[s].alias = w[s] > 0.0 ? s : any_pos;
    }
    free(p);
    free(work);
}

static uint64_t mix_state;
static double unit_rand(void)
{
    mix_state = mix_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(mix_state >> 11) + 0.5) * 0x1.0p-53;
}

/* Weight set `kind` of n items: random, heavy-tailed, sorted both ways, ties, zeros, tiny and
 * subnormal weights, a single positive item, all items equal (p = 1 up to rounding). */
static void weight_set(int kind, double *w, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        double u = unit_rand();
        switch (kind) {
        case 0: w[i] = u; break;
        case 1: w[i] = pow(u, -2.0); break;
        case 2: w[i] = 1.0 / (i + 1.0); break;
        case 3: w[i] = 1.0 + i; break;
        case 4: w[i] = u < 0.5 ? 1.0 : 3.0; break;
        case 5: w[i] = u < 0.3 ? 0.0 : u < 0.35 ? 1e-310 : u < 0.4 ? 1e-300 : u; break;
        case 6: w[i] = i == n / 3 ? 2.5 : 0.0; break;
        case 7: w[i] = 0.1; break;
        default: w[i] = exp(60.0 * (u - 0.5)); break;
        }
    }
}

static void test_sweep_matches_stack_construction(void **state)
{
    (void)state;
    static const uint32_t sizes[] = {1, 2, 3, 7, 64, 1000, 4099, 100003};
    mix_state = 11;
    for (int kind = 0; kind < 9; kind++)
        for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
            uint32_t n = sizes[z];
            double *w = malloc(n * sizeof *w);
            negs_alias_entry *ref = malloc(n * sizeof *ref);
            assert_true(w && ref);
            weight_set(kind, w, n);
            uint32_t any = 0, n_pos = 0;
            for (uint32_t i = 0; i < n; i++)
                if (w[i] > 0.0) {
                    any = i;
                    n_pos++;
                }
            if (n_pos == 0) w[any = n - 1] = 1.0;
            negs_alias a;
            assert_int_equal(negs_alias_build(&a, w, n), NEGS_OK);
            ref_build(ref, w, n, any);
            assert_memory_equal(a.e, ref, n * sizeof *ref);
            negs_alias_free(&a);
            free(w);
            free(ref);
        }
}

/* The build from checked weights into a recycled table is the same table. */
static void test_checked_build_same_table(void **state)
{
    (void)state;
    enum { N = 5000 };
    static double w[N];
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
    negs_alias_entry *spare = negs_alloc_aligned(N, sizeof *spare, "test: spare table");
    assert_non_null(spare);
    memset(spare, 0xa5, N * sizeof *spare); /* a stale table: every entry must be written */
    assert_int_equal(negs_alias_build_checked(&b, w, N, total, n_pos, any, spare), NEGS_OK);
    assert_ptr_equal(b.e, spare);
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
        cmocka_unit_test(test_sweep_matches_stack_construction),
        cmocka_unit_test(test_more_than_2_pow_24_items),
    };
    return cmocka_run_group_tests_name("alias", tests, NULL, NULL);
}
