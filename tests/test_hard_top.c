/* The TOP fast path (the kernels' top_rows, used by select for TOP and DNS_MN with n_cand
 * <= 64): every kernel table against a brute-force order on rows with repeated ids, tied
 * scores and -0 / +0, n from 1 to 64; negs_sampler_select at k = 1 and k = 8 on many rows
 * against the same reference; a bad row inside a block stops at that row with its sentence. */
#include <stdio.h>

#include "test_util.h"

#include "core/cpu.h"
#include "kernels/kernels.h"

static uint64_t rs = 777;
static uint32_t urand(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % n);
}

/* Coarse scores (ties), with both zeros. */
static float score(void)
{
    uint32_t u = urand(11);
    return u == 0 ? -0.0f : (float)u / 4.0f - 1.5f;
}

/* Row's ids of the m best distinct candidates (first copies), best first, ties to the earlier
 * position; returns how many there are (<= m). */
static uint32_t reference(const float *s, const uint32_t *items, uint32_t n, uint32_t m,
                          uint32_t *out)
{
    int taken[64] = {0};
    uint32_t cnt = 0;
    while (cnt < m) {
        int best = -1;
        for (uint32_t j = 0; j < n; j++) {
            int rep = 0;
            for (uint32_t i = 0; i < j; i++) rep |= items[i] == items[j];
            if (rep || taken[j]) continue;
            if (best < 0 || s[j] > s[best]) best = (int)j; /* -0 == +0: the earlier stays */
        }
        if (best < 0) break;
        taken[best] = 1;
        out[cnt++] = items[best];
    }
    return cnt;
}

static size_t tables(const negs_kernels **out)
{
    size_t n = 0;
    out[n++] = &negs_kernels_scalar;
    unsigned f = negs_cpu_features();
    if (f & NEGS_CPU_AVX2) out[n++] = &negs_kernels_avx2;
    if (f & NEGS_CPU_AVX512) out[n++] = &negs_kernels_avx512;
    return n;
}

static void test_kernel_brute_force(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    float s[4 * 64];
    uint32_t items[4 * 64], out[4 * 64], ref[64];
    for (int trial = 0; trial < 3000; trial++) {
        uint32_t n = 1 + urand(64), m = 1 + urand(n), n_items = 1 + urand(3 * n);
        size_t rows = 1 + urand(4);
        for (size_t j = 0; j < rows * n; j++) {
            s[j] = score();
            items[j] = urand(n_items);
        }
        /* the first row that falls short of m distinct ids */
        size_t stop = rows;
        for (size_t r = 0; r < rows && stop == rows; r++)
            if (reference(s + r * n, items + r * n, n, m, ref) < m) stop = r;
        for (size_t k = 0; k < nt; k++) {
            assert_int_equal(t[k]->top_rows(s, items, rows, n, n_items, m, out), stop);
            for (size_t r = 0; r < stop; r++) {
                reference(s + r * n, items + r * n, n, m, ref);
                for (uint32_t i = 0; i < m; i++) assert_int_equal(out[r * m + i], ref[i]);
            }
        }
    }
    /* a NaN, an infinity or an id out of range stops at its row */
    for (size_t k = 0; k < nt; k++)
        for (int bad = 0; bad < 3; bad++) {
            for (uint32_t j = 0; j < 3 * 64; j++) {
                s[j] = (float)j;
                items[j] = j;
            }
            uint32_t at = 64 + 63 - (uint32_t)bad * 17;
            if (bad == 0) s[at] = NAN;
            if (bad == 1) s[at] = -INFINITY;
            if (bad == 2) items[at] = 1000;
            assert_int_equal(t[k]->top_rows(s, items, 3, 64, 1000, 8, out), 1);
        }
}

static negs_sampler *top_sampler(uint32_t n_items, uint32_t c, int threads)
{
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, n_items, 5);
    negs_sampler *ch = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n_items, 6);
    assert_non_null(h);
    assert_non_null(ch);
    assert_int_equal(negs_sampler_add(h, ch, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, c), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_THREADS, threads), NEGS_OK);
    return h;
}

/* select TOP at k = 1 and k = 8 over 500 rows x 64 with many repeats, 1 and 2 threads. */
static void test_select_k1_k8(void **state)
{
    (void)state;
    enum { ROWS = 500, N = 64 };
    float *s = malloc(ROWS * N * sizeof *s), lq[ROWS * 8];
    uint32_t *items = malloc(ROWS * N * sizeof *items), out[ROWS * 8], ref[8];
    assert_non_null(s);
    assert_non_null(items);
    for (size_t j = 0; j < ROWS * N; j++) {
        s[j] = score();
        items[j] = urand(40); /* about 25 distinct ids per row */
    }
    for (int threads = 1; threads <= 2; threads++) {
        negs_sampler *h = top_sampler(40, N, threads);
        for (uint32_t k = 1; k <= 8; k += 7) {
            for (size_t i = 0; i < ROWS * k; i++) lq[i] = 1.0f;
            assert_int_equal(negs_sampler_select(h, 0, ROWS, N, items, s, NULL, k, out, lq),
                             NEGS_OK);
            for (size_t r = 0; r < ROWS; r++) {
                assert_int_equal(reference(s + r * N, items + r * N, N, k, ref), k);
                for (uint32_t i = 0; i < k; i++) {
                    assert_int_equal(out[r * k + i], ref[i]);
                    assert_true(lq[r * k + i] == 0.0f);
                }
            }
        }
        /* a row with too few distinct ids in the middle: EXHAUSTED naming it */
        uint32_t keep[N];
        memcpy(keep, items + 321 * N, sizeof keep);
        for (uint32_t j = 0; j < N; j++) items[321 * N + j] = j % 5;
        assert_int_equal(negs_sampler_select(h, 0, ROWS, N, items, s, NULL, 8, out, NULL),
                         NEGS_E_EXHAUSTED);
        assert_non_null(strstr(negs_last_error(), "row 321 has 5 distinct candidates"));
        memcpy(items + 321 * N, keep, sizeof keep);
        s[400 * N + 9] = NAN;
        assert_int_equal(negs_sampler_select(h, 0, ROWS, N, items, s, NULL, 1, out, NULL),
                         NEGS_E_INVALID);
        assert_non_null(
            strstr(negs_last_error(), "cand_scores[25609] = nan (row 400, candidate 9)"));
        s[400 * N + 9] = 0.5f;
        negs_sampler_free(h);
    }
    free(s);
    free(items);
}

/* DNS_MN on the fast path: its picks are k distinct ids among the row's top M. */
static void test_dns_mn_fast(void **state)
{
    (void)state;
    enum { ROWS = 200, N = 64, M = 8, K = 3 };
    float *s = malloc(ROWS * N * sizeof *s), lq[ROWS * K];
    uint32_t *items = malloc(ROWS * N * sizeof *items), out[ROWS * K], ref[M];
    assert_non_null(s);
    assert_non_null(items);
    for (size_t j = 0; j < ROWS * N; j++) {
        s[j] = score();
        items[j] = urand(30);
    }
    negs_sampler *h = top_sampler(30, N, 1);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_HARD_MODE, NEGS_HARD_DNS_MN), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TOP_M, M), NEGS_OK);
    assert_int_equal(negs_sampler_select(h, 3, ROWS, N, items, s, NULL, K, out, lq), NEGS_OK);
    for (size_t r = 0; r < ROWS; r++) {
        assert_int_equal(reference(s + r * N, items + r * N, N, M, ref), M);
        for (uint32_t i = 0; i < K; i++) {
            int in = 0;
            for (uint32_t j = 0; j < M; j++) in |= out[r * K + i] == ref[j];
            assert_true(in);
            for (uint32_t j = 0; j < i; j++) assert_true(out[r * K + j] != out[r * K + i]);
            assert_true(lq[r * K + i] == (float)-log((double)(M - i)));
        }
    }
    negs_sampler_free(h);
    free(s);
    free(items);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_brute_force),
        cmocka_unit_test(test_select_k1_k8),
        cmocka_unit_test(test_dns_mn_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
