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

/* Fine scores (few ties) and a wide id range (few repeats): every width n = 1..64 (each of
 * the AVX-512 kernel's partial and full last vectors), m up to n, 1..9 rows (its pairs of
 * rows and an odd last one), a bad or short row anywhere in the block; every table agrees
 * with the reference and with each other. */
static void test_kernel_widths(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    enum { ROWS = 9 };
    float s[ROWS * 64];
    uint32_t items[ROWS * 64], out[ROWS * 64], ref[64];
    for (uint32_t n = 1; n <= 64; n++)
        for (int trial = 0; trial < 24; trial++) {
            uint32_t m = trial < 3 ? n : 1 + urand(n < 12 ? n : 12), n_items = 100000;
            size_t rows = 1 + urand(ROWS);
            for (size_t j = 0; j < rows * n; j++) {
                s[j] = (float)urand(1u << 20) / 4096.0f - 128.0f;
                items[j] = trial % 4 == 3 ? urand(2 * n) : urand(n_items);
            }
            size_t bad_row = trial % 5 == 4 ? urand((uint32_t)rows) : rows;
            if (bad_row < rows) {
                uint32_t at = urand(n), what = urand(4);
                if (what == 0) s[bad_row * n + at] = NAN;
                if (what == 1) s[bad_row * n + at] = INFINITY;
                if (what == 2) items[bad_row * n + at] = n_items;
                if (what == 3) /* too few distinct ids for m (when m > 1) */
                    for (uint32_t j = 0; j < n; j++) items[bad_row * n + j] = 7;
                if (what == 3 && m == 1) bad_row = rows;
            }
            size_t stop = bad_row;
            for (size_t r = 0; r < stop; r++)
                if (reference(s + r * n, items + r * n, n, m, ref) < m) stop = r;
            for (size_t k = 0; k < nt; k++) {
                for (size_t j = 0; j < rows * m; j++) out[j] = UINT32_MAX;
                assert_int_equal(t[k]->top_rows(s, items, rows, n, n_items, m, out), stop);
                for (size_t r = 0; r < stop; r++) {
                    reference(s + r * n, items + r * n, n, m, ref);
                    for (uint32_t i = 0; i < m; i++) assert_int_equal(out[r * m + i], ref[i]);
                }
            }
        }
}

/* The cases the fast paths single out, at n = 20 (a partial last vector) and n = 64:
 * k = 1 won by a later copy of an id (its earlier copy scores lower), ties of -0 and +0 at
 * the top, every score equal, a NaN just past the row's end (in the next row, which the
 * masked loads of the row must not see), the largest valid id. */
static void test_kernel_edges(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    float s[2 * 64];
    uint32_t items[2 * 64], out[2 * 64], ref[64];
    const uint32_t widths[2] = {20, 64};
    for (int w = 0; w < 2; w++) {
        uint32_t n = widths[w];
        for (int c = 0; c < 4; c++) {
            for (uint32_t j = 0; j < 2 * n; j++) {
                s[j] = (float)j * 0.25f - 3.0f;
                items[j] = 1000 + j;
            }
            if (c == 0) { /* id 5 at 2 (score -2.5) and at n - 1 (the row's best) */
                items[2] = items[n - 1] = 5;
            } else if (c == 1) {
                for (uint32_t j = 0; j < n; j++) s[j] = j % 3 ? -1.0f : (j % 2 ? 0.0f : -0.0f);
            } else if (c == 2) {
                for (uint32_t j = 0; j < n; j++) s[j] = 0.5f;
                items[n / 2] = 1999; /* n_items - 1 */
            } else {
                s[n] = NAN; /* row 1's first score */
            }
            for (uint32_t m = 1; m <= n; m += (m < 4 ? 1 : 7)) {
                size_t expect = c == 3 ? 1 : 2;
                for (size_t k = 0; k < nt; k++) {
                    assert_int_equal(t[k]->top_rows(s, items, 2, n, 2000, m, out), expect);
                    for (size_t r = 0; r < expect; r++) {
                        assert_int_equal(reference(s + r * n, items + r * n, n, m, ref), m);
                        for (uint32_t i = 0; i < m; i++)
                            assert_int_equal(out[r * m + i], ref[i]);
                    }
                }
            }
        }
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
        cmocka_unit_test(test_kernel_widths),
        cmocka_unit_test(test_kernel_edges),
        cmocka_unit_test(test_select_k1_k8),
        cmocka_unit_test(test_dns_mn_fast),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
