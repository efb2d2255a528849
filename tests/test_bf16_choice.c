/* The bf16 path a handle takes (docs/inbatch.md "Kernels: the portable bf16 path and the
 * AVX512-BF16 one"): the decision as a function of two rates (the rates of both machines
 * measured so far and the threshold's edge), the forced paths (NEGS_FORCE_BF16), the rates
 * measured once per process (the same from every thread), that a handle reports the path it
 * runs (its results are that path's, bit for bit), and the portable path's fused passes
 * (G made and rounded in one pass, the rows rounded 16 at a time) against the portable C. */
#include <cpuid.h>
#include <pthread.h>
#include <stdio.h>

#include "test_util.h"

#include "core/cpu.h"
#include "kernels/kernels_bf16.h"

static uint64_t rng = 20261202;
static double urand(void) /* xorshift64*, test-local data */
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (double)((rng * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

static float *rand_f(size_t n, double lo, double hi)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * urand());
    return x;
}

/* The CPU's own AVX512-BF16, as negs_cpu_features reads it (no NEGS_FORCE_* applied). */
static int cpu_has_bf16(void)
{
    unsigned a = 0, b = 0, c = 0, d = 0;
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
           __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 5 & 1u);
}

/* NEGS_FORCE_BF16 set to `value` (NULL: unset) for one check; the old value back after. */
static char saved_force[64];
static int had_force;

static void force_bf16(const char *value)
{
    if (value) setenv("NEGS_FORCE_BF16", value, 1);
    else unsetenv("NEGS_FORCE_BF16");
}

static int save_env(void **state)
{
    (void)state;
    const char *f = getenv("NEGS_FORCE_BF16");
    had_force = f != NULL;
    if (f) snprintf(saved_force, sizeof saved_force, "%s", f);
    return 0;
}

static int restore_env(void **state)
{
    (void)state;
    force_bf16(had_force ? saved_force : NULL);
    return 0;
}

static void test_decision_from_rates(void **state)
{
    (void)state;
    /* the two machines measured (GFLOP/s per core, `make bench BENCH=inbatch`) */
    assert_int_equal(negs_bf16_native_pays(173.0, 83.8), 0);   /* Xeon family 6 model 207 */
    assert_int_equal(negs_bf16_native_pays(114.3, 227.4), 1);  /* Zen 4 */
    /* the threshold: native from 1.25x the FMA rate on */
    assert_int_equal(negs_bf16_native_pays(100.0, 125.0), 1);
    assert_int_equal(negs_bf16_native_pays(100.0, 124.9), 0);
    assert_int_equal(negs_bf16_native_pays(100.0, 100.0), 0); /* equal: the portable path */
    /* a failed measurement never picks the native path */
    assert_int_equal(negs_bf16_native_pays(0.0, 100.0), 0);
    assert_int_equal(negs_bf16_native_pays(100.0, 0.0), 0);
    assert_int_equal(negs_bf16_native_pays(-1.0, 100.0), 0);
    assert_int_equal(negs_bf16_native_pays(NAN, 500.0), 0);
    assert_int_equal(negs_bf16_native_pays(100.0, NAN), 0);
    assert_int_equal(negs_bf16_native_pays(100.0, INFINITY), 0);
    assert_int_equal(negs_bf16_native_pays(INFINITY, INFINITY), 0);
}

static void test_forced_paths(void **state)
{
    (void)state;
    const unsigned all = NEGS_CPU_AVX2 | NEGS_CPU_AVX512 | NEGS_CPU_AVX512BF16;
    const unsigned no16 = NEGS_CPU_AVX2 | NEGS_CPU_AVX512;
    double fma, bf16;
    negs_bf16_rates(&fma, &bf16);
    unsigned measured = negs_bf16_native_pays(fma, bf16) ? all : no16;
    force_bf16("native");
    assert_int_equal(negs_bf16_choose(all), all);
    assert_int_equal(negs_bf16_choose(no16), no16); /* nothing to force without the bit */
    assert_int_equal(negs_bf16_choose(0), 0);
    force_bf16("portable");
    assert_int_equal(negs_bf16_choose(all), no16);
    assert_int_equal(negs_bf16_choose(no16), no16);
    force_bf16(NULL);
    assert_int_equal(negs_bf16_choose(all), measured);
    assert_int_equal(negs_bf16_choose(no16), no16);
    force_bf16("other"); /* another value: the measured choice */
    assert_int_equal(negs_bf16_choose(all), measured);
    force_bf16("");
    assert_int_equal(negs_bf16_choose(all), measured);
}

static double once_rates[2][2];

static void *rates_thread(void *arg)
{
    double *r = arg;
    negs_bf16_rates(&r[0], &r[1]);
    return NULL;
}

static void test_rates_once(void **state)
{
    (void)state;
    /* the process's first call, from two threads at once, then again: every call returns
     * the same two numbers */
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, rates_thread, once_rates[0]), 0);
    rates_thread(once_rates[1]);
    assert_int_equal(pthread_join(t, NULL), 0);
    double again[2];
    negs_bf16_rates(&again[0], &again[1]);
    for (int k = 0; k < 2; k++) {
        assert_true(once_rates[0][k] == once_rates[1][k]);
        assert_true(again[k] == once_rates[0][k]);
    }
    if (cpu_has_bf16()) {
        /* plausible rates: positive, finite GFLOP/s of one core; no lower bound beyond 0, as
         * sanitizer builds and loaded machines run the timed loops many times slower */
        assert_true(again[0] > 0.0 && again[0] < 2000.0);
        assert_true(again[1] > 0.0 && again[1] < 4000.0);
        if (getenv("IB_DEBUG"))
            fprintf(stderr, "rates: fma %.1f GFLOP/s, vdpbf16ps %.1f (%.2fx): %s\n", again[0],
                    again[1], again[1] / again[0],
                    negs_bf16_native_pays(again[0], again[1]) ? "native" : "portable");
    } else {
        assert_true(again[0] == 0.0 && again[1] == 0.0);
    }
}

/* A bf16 call on a fresh handle under NEGS_FORCE_BF16 = force; *kind what it reports. */
static void bf16_call(const char *force, size_t b, size_t m, size_t d, const float *u,
                      const float *v, const float *lq, float *loss, float *du, float *dv,
                      double *kind)
{
    force_bf16(force);
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    assert_non_null(l);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 0.05), 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_BF16), 0);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_BF16_KERNEL, kind), 0);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, NULL, NULL, loss, du, dv), 0);
    negs_loss_free(l);
}

static void test_handle_reports_its_path(void **state)
{
    (void)state;
    size_t b = 150, m = 70, d = 64, n = b + m;
    float *u = rand_f(b * d, -0.5, 0.5), *v = rand_f(n * d, -0.5, 0.5), *lq = rand_f(n, -7, -3);
    float loss[3], *du[3], *dv[3];
    double kind[3];
    const char *force[3] = {"native", "portable", NULL};
    for (int p = 0; p < 3; p++) {
        du[p] = malloc(b * d * 4), dv[p] = malloc(n * d * 4);
        bf16_call(force[p], b, m, d, u, v, lq, &loss[p], du[p], dv[p], &kind[p]);
    }
    int has = cpu_has_bf16();
    const char *cap = getenv("NEGS_FORCE_ISA"), *fs = getenv("NEGS_FORCE_SCALAR");
    if ((cap && (!strcmp(cap, "avx512") || !strcmp(cap, "avx2") || !strcmp(cap, "scalar"))) ||
        (fs && fs[0] == '1'))
        has = 0; /* the caps drop AVX512-BF16 before the choice */
    assert_true(kind[0] == (has ? NEGS_BF16_KERNEL_AVX512BF16 : NEGS_BF16_KERNEL_PORTABLE));
    assert_true(kind[1] == NEGS_BF16_KERNEL_PORTABLE);
    double fma, bf16;
    negs_bf16_rates(&fma, &bf16);
    int native = has && negs_bf16_native_pays(fma, bf16);
    assert_true(kind[2] == (native ? NEGS_BF16_KERNEL_AVX512BF16 : NEGS_BF16_KERNEL_PORTABLE));
    /* the default handle computes what the path it reports computes, bit for bit */
    int same = native ? 0 : 1;
    assert_memory_equal(&loss[2], &loss[same], sizeof loss[2]);
    assert_memory_equal(du[2], du[same], b * d * 4);
    assert_memory_equal(dv[2], dv[same], n * d * 4);
    if (has) /* and the two paths are told apart by their bits (the order of the sums) */
        assert_true(memcmp(du[0], du[1], b * d * 4) != 0 || memcmp(dv[0], dv[1], n * d * 4) != 0);
    for (int p = 0; p < 3; p++) free(du[p]), free(dv[p]);
    free(u), free(v), free(lq);
}

static uint32_t bits_of(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

/* Random floats over every exponent, ties and near-ties of the bf16 rounding among them. */
static void pattern(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t b = (uint32_t)(urand() * 4294967296.0);
        if (i % 4 == 1) b = (b & 0xffff0000u) | 0x8000u; /* a tie */
        if (i % 4 == 2) b = (b & 0xffff0000u) | 0x7fffu; /* just under one */
        b &= 0xbfffffffu; /* exponent below 128: finite, and finite times the scales below */
        memcpy(&x[i], &b, sizeof b);
    }
}

/* The fused passes of the portable path give the bits of the separate ones. */
static void test_fused_portable_passes(void **state)
{
    (void)state;
    unsigned isa = negs_cpu_features();
    negs_bf16_scale_round_fn fused = negs_bf16_scale_round_select(isa);
    negs_bf16_round_array_fn rows = negs_bf16_round_array_select(isa);
    const float scales[] = {1.0f, 0.37f, 3.0e-30f, 1.7e10f, -2.5f};
    for (size_t n = 1; n <= 70; n += (n < 33 ? 1 : 37)) {
        float *x = malloc(n * 4), *a = malloc(n * 4), *c = malloc(n * 4), *r = malloc(n * 4);
        for (int rep = 0; rep < 20; rep++) {
            pattern(x, n);
            for (size_t k = 0; k < sizeof scales / sizeof scales[0]; k++) {
                for (size_t i = 0; i < n; i++) a[i] = x[i] * scales[k]; /* scale, then round */
                negs_bf16_round_tile(a, n, 1, n);
                memcpy(c, x, n * 4);
                negs_bf16_scale_round(c, n, scales[k]);
                for (size_t i = 0; i < n; i++) assert_int_equal(bits_of(c[i]), bits_of(a[i]));
                memcpy(c, x, n * 4);
                fused(c, n, scales[k]);
                for (size_t i = 0; i < n; i++) assert_int_equal(bits_of(c[i]), bits_of(a[i]));
            }
            /* the rows: the portable function's bits and first Inf */
            assert_int_equal(rows(x, n, r), negs_bf16_round_array(x, n, a));
            assert_memory_equal(r, a, n * 4);
            size_t at = (size_t)(urand() * (double)n);
            float keep = x[at];
            x[at] = (rep & 1) ? -3.3999e38f : 3.3962e38f; /* rounds to Inf */
            if (at + 1 < n) x[n - 1] = 3.3999e38f;         /* a later one is not the first */
            assert_int_equal(rows(x, n, r), at);
            assert_int_equal(negs_bf16_round_array(x, n, a), at);
            x[at] = keep;
        }
        free(x), free(a), free(c), free(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rates_once), /* first: its two threads make the first call */
        cmocka_unit_test(test_decision_from_rates),
        cmocka_unit_test_setup_teardown(test_forced_paths, save_env, restore_env),
        cmocka_unit_test_setup_teardown(test_handle_reports_its_path, save_env, restore_env),
        cmocka_unit_test(test_fused_portable_passes),
    };
    return cmocka_run_group_tests_name("bf16_choice", tests, NULL, NULL);
}
