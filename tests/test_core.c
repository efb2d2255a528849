/* Version, status codes, last-error sentences, overflow-checked allocation, thread pool. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

#include "test_util.h"
#include "core/alloc.h"
#include "core/cpu.h"
#include "core/errors.h"
#include "core/pool.h"

static void test_version(void **state)
{
    (void)state;
    char expect[32];
    snprintf(expect, sizeof expect, "%d.%d.%d", NEGS_VERSION_MAJOR, NEGS_VERSION_MINOR,
             NEGS_VERSION_PATCH);
    assert_string_equal(negs_version_string(), expect);
    assert_int_equal(negs_version_number(), NEGS_VERSION_NUMBER);
    assert_int_equal(NEGS_VERSION_NUMBER,
                     NEGS_VERSION_MAJOR * 10000 + NEGS_VERSION_MINOR * 100 + NEGS_VERSION_PATCH);
}

static void test_status_names(void **state)
{
    (void)state;
    assert_string_equal(negs_status_name(NEGS_OK), "NEGS_OK");
    assert_string_equal(negs_status_name(NEGS_E_INVALID), "NEGS_E_INVALID");
    assert_string_equal(negs_status_name(NEGS_E_NOMEM), "NEGS_E_NOMEM");
    assert_string_equal(negs_status_name(NEGS_E_EXHAUSTED), "NEGS_E_EXHAUSTED");
    assert_string_equal(negs_status_name(NEGS_E_FORMAT), "NEGS_E_FORMAT");
    assert_string_equal(negs_status_name(NEGS_E_STATE), "NEGS_E_STATE");
    assert_string_equal(negs_status_name(NEGS_E_UNSUPPORTED), "NEGS_E_UNSUPPORTED");
    assert_string_equal(negs_status_name(-7), "NEGS_UNKNOWN");
    assert_string_equal(negs_status_name(1), "NEGS_UNKNOWN");
    /* Values are part of the ABI. */
    assert_int_equal(NEGS_E_INVALID, -1);
    assert_int_equal(NEGS_E_UNSUPPORTED, -6);
}

static void test_last_error_sentence(void **state)
{
    (void)state;
    assert_int_equal(negs_fail(NEGS_E_EXHAUSTED, "k = %u exceeds the %u items user %u has not seen",
                               9u, 4u, 17u),
                     NEGS_E_EXHAUSTED);
    assert_string_equal(negs_last_error(),
                        "NEGS_E_EXHAUSTED: k = 9 exceeds the 4 items user 17 has not seen");
    assert_int_equal(negs_last_status(), NEGS_E_EXHAUSTED);
    /* A long message is cut at the buffer, never overflows it. */
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    negs_fail(NEGS_E_INVALID, "%s", big);
    assert_true(strlen(negs_last_error()) < 512);
}

static void *other_thread(void *arg)
{
    (void)arg;
    /* A fresh thread has no error yet, whatever the main thread did. */
    int clean = negs_last_error()[0] == 0 && negs_last_status() == NEGS_OK;
    negs_fail(NEGS_E_STATE, "from the other thread");
    return (void *)(intptr_t)clean;
}

static void test_last_error_is_per_thread(void **state)
{
    (void)state;
    negs_fail(NEGS_E_FORMAT, "from the main thread");
    pthread_t t;
    void *clean = NULL;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &clean);
    assert_true(clean != NULL);
    assert_string_equal(negs_last_error(), "NEGS_E_FORMAT: from the main thread");
}

static void test_checks(void **state)
{
    (void)state;
    assert_fails_with(negs_check_ptr(NULL, "f", "buf"), NEGS_E_INVALID);
    assert_string_equal(negs_last_error(), "NEGS_E_INVALID: f: buf is NULL");
    float x[3] = {1.0f, NAN, 2.0f};
    assert_fails_with(negs_check_finite_f(x, 3, "f", "scores"), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "scores[1]"));
    double d[2] = {0.0, -INFINITY};
    assert_fails_with(negs_check_finite_d(d, 2, "f", "w"), NEGS_E_INVALID);
    assert_int_equal(negs_check_finite_d(d, 1, "f", "w"), NEGS_OK);
}

static void test_alloc_overflow(void **state)
{
    (void)state;
    size_t out = 7;
    assert_fails_with(negs_size_mul(SIZE_MAX / 2, 3, &out, "rows x k"), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "rows x k"));
    assert_int_equal(out, 7); /* untouched on failure */
    assert_int_equal(negs_size_mul(1000, 1000, &out, "x"), NEGS_OK);
    assert_int_equal(out, 1000000);
    assert_fails_with(negs_size_add(SIZE_MAX, 1, &out, "n + 1"), NEGS_E_INVALID);
    assert_null(negs_alloc_array(SIZE_MAX / 4, 8, "huge"));
    assert_int_equal(negs_last_status(), NEGS_E_INVALID);
    void *p = negs_alloc_array(0, 8, "empty");
    assert_non_null(p);
    free(p);
    double *a = negs_alloc_aligned(3, sizeof(double), "aligned");
    assert_non_null(a);
    assert_int_equal((uintptr_t)a % 64, 0);
    negs_free_aligned(a);
    unsigned char *z = negs_calloc_array(100, 1, "zeroed");
    assert_non_null(z);
    for (int i = 0; i < 100; i++) assert_int_equal(z[i], 0);
    free(z);
}

typedef struct {
    atomic_int hits[1000];
    atomic_size_t seen_parts; /* written by every worker */
} pool_ctx;

static void mark(void *ctx, size_t part, size_t n_parts)
{
    pool_ctx *c = ctx;
    atomic_store(&c->seen_parts, n_parts);
    atomic_fetch_add(&c->hits[part], 1);
}

static void test_pool_runs_each_part_once(void **state)
{
    (void)state;
    unsigned counts[] = {1, 2, 7};
    for (int t = 0; t < 3; t++) {
        negs_pool *p = negs_pool_create(counts[t]);
        assert_non_null(p);
        assert_int_equal(negs_pool_threads(p), counts[t]);
        for (int round = 0; round < 20; round++) {
            static pool_ctx c;
            memset(&c, 0, sizeof c);
            size_t n = (size_t)(round * 37 % 1000) + 1;
            negs_pool_run(p, mark, &c, n);
            for (size_t i = 0; i < 1000; i++) assert_int_equal(c.hits[i], i < n ? 1 : 0);
        }
        negs_pool_free(p);
    }
    negs_pool_free(NULL);
}

static void pause_us(long us)
{
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
}

/* Part 0 slow: the caller (or a worker) waits past the pool's spin and sleeps on completion. */
static void mark_slow(void *ctx, size_t part, size_t n_parts)
{
    if (part == 0) pause_us(300);
    mark(ctx, part, n_parts);
}

/* Many small jobs back to back (the workers spinning), jobs after idle gaps longer than the
 * spin (the workers asleep, woken by the next job), and slow parts (the caller asleep): every
 * part runs exactly once each time, with any thread count. */
static void test_pool_wake_paths(void **state)
{
    (void)state;
    unsigned counts[] = {2, 3};
    for (int t = 0; t < 2; t++) {
        negs_pool *p = negs_pool_create(counts[t]);
        assert_non_null(p);
        static pool_ctx c;
        for (int round = 0; round < 600; round++) {
            size_t n = (size_t)(round % 5) + 2;
            memset(&c, 0, sizeof c);
            if (round % 100 == 99) pause_us(2000); /* idle: the workers go to sleep */
            negs_pool_run(p, round % 50 == 7 ? mark_slow : mark, &c, n);
            for (size_t i = 0; i < 8; i++) assert_int_equal(c.hits[i], i < n ? 1 : 0);
            assert_int_equal(c.seen_parts, n);
        }
        negs_pool_free(p);
    }
}

static void test_pool_resize(void **state)
{
    (void)state;
    negs_pool *p = NULL;
    assert_fails_with(negs_pool_resize(&p, 0.0, "set_param"), NEGS_E_INVALID);
    assert_fails_with(negs_pool_resize(&p, 2.5, "set_param"), NEGS_E_INVALID);
    assert_fails_with(negs_pool_resize(&p, NAN, "set_param"), NEGS_E_INVALID);
    assert_fails_with(negs_pool_resize(&p, 1000.0, "set_param"), NEGS_E_INVALID);
    assert_null(p);
    assert_int_equal(negs_pool_resize(&p, 3.0, "set_param"), NEGS_OK);
    assert_int_equal(negs_pool_threads(p), 3);
    assert_int_equal(negs_pool_resize(&p, 1.0, "set_param"), NEGS_OK);
    assert_null(p);
    assert_int_equal(negs_pool_threads(p), 1);
}

static void test_cpu_detection(void **state)
{
    (void)state;
    /* the suites may run under a cap (make check-isa): detect without it, restore it after */
    const char *outer = getenv("NEGS_FORCE_ISA");
    char saved[16] = "";
    if (outer) snprintf(saved, sizeof saved, "%s", outer);
    unsetenv("NEGS_FORCE_ISA");
    unsigned f = negs_cpu_features();
    __builtin_cpu_init();
    assert_int_equal((f & NEGS_CPU_AVX2) != 0,
                     __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"));
    if (f & NEGS_CPU_AVX512) assert_true(f & NEGS_CPU_AVX2);
    if (f & NEGS_CPU_AVX512BF16) assert_true(f & NEGS_CPU_AVX512);
    setenv("NEGS_FORCE_SCALAR", "1", 1);
    assert_int_equal(negs_cpu_features(), 0);
    unsetenv("NEGS_FORCE_SCALAR");
    assert_int_equal(negs_cpu_features(), f);
    setenv("NEGS_FORCE_ISA", "avx512", 1);
    assert_int_equal(negs_cpu_features(), f & (NEGS_CPU_AVX2 | NEGS_CPU_AVX512));
    setenv("NEGS_FORCE_ISA", "avx2", 1);
    assert_int_equal(negs_cpu_features(), f & NEGS_CPU_AVX2);
    setenv("NEGS_FORCE_ISA", "scalar", 1);
    assert_int_equal(negs_cpu_features(), 0);
    setenv("NEGS_FORCE_ISA", "avx1024", 1); /* not a cap: no effect */
    assert_int_equal(negs_cpu_features(), f);
    if (outer) setenv("NEGS_FORCE_ISA", saved, 1);
    else unsetenv("NEGS_FORCE_ISA");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_status_names),
        cmocka_unit_test(test_last_error_sentence),
        cmocka_unit_test(test_last_error_is_per_thread),
        cmocka_unit_test(test_checks),
        cmocka_unit_test(test_alloc_overflow),
        cmocka_unit_test(test_pool_runs_each_part_once),
        cmocka_unit_test(test_pool_wake_paths),
        cmocka_unit_test(test_pool_resize),
        cmocka_unit_test(test_cpu_detection),
    };
    return cmocka_run_group_tests_name("core", tests, NULL, NULL);
}
