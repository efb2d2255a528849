/* Scale (make check-slow, run by CI, not by make check): a POPULARITY sampler over 10^8 items
 * with a positives table, and a SKETCH estimator of 2^26 buckets, each built and used within
 * the memory docs/samplers.md and docs/freq.md state. */
#include <stdio.h>

#include "test_util.h"
#include "sampler/sampler_internal.h"

/* This process's resident or virtual size in bytes ("VmRSS" / "VmSize" of /proc/self/status). */
static double proc_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1.0;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') kb = atof(line + n + 1);
    if (f) fclose(f);
    return kb * 1024.0;
}

static void test_popularity_1e8(void **state)
{
    (void)state;
    const uint32_t n_items = 100000000u, n_users = 1000;
    double *w = malloc((size_t)n_items * sizeof *w);
    assert_non_null(w);
    for (uint32_t i = 0; i < n_items; i++) w[i] = i % 1000 == 7 ? 0.0 : 1.0 + (double)(i % 97);
    /* user u has seen 50 items spread over the whole catalogue */
    uint64_t *indptr = malloc((n_users + 1) * sizeof *indptr);
    uint32_t *idx = malloc((size_t)n_users * 50 * sizeof *idx);
    assert_true(indptr && idx);
    indptr[0] = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        indptr[u + 1] = indptr[u] + 50;
        for (uint32_t q = 0; q < 50; q++) idx[indptr[u] + q] = (uint32_t)(((uint64_t)q * 1999993u + u * 7919u) % n_items);
    }
    negs_csr *pos = negs_csr_create(n_users, n_items, indptr, idx);
    assert_non_null(pos);
    double rss0 = proc_bytes("VmRSS");
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n_items, 42);
    assert_non_null(s);
    assert_int_equal(negs_sampler_set_weights(s, w, n_items), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(s, pos), NEGS_OK);
    double grown = proc_bytes("VmRSS") - rss0;
    size_t per_item = sp_item_bytes(s);
    printf("scale: 10^8 items: %zu B/item held (12 documented), resident growth %.0f MB\n",
           per_item / n_items, grown / 1e6);
    assert_true(per_item <= (size_t)12 * n_items);
    /* per-user extras: sums, bitmaps within 64 MiB, scratch; 5% for the allocator */
    assert_true(grown <= 1.05 * (double)per_item + (64.0 + 16.0) * 1048576.0);

    enum { ROWS = 20000, K = 8 };
    uint32_t *users = malloc(ROWS * sizeof *users), *rowpos = malloc(ROWS * sizeof *rowpos);
    uint32_t *items = malloc((size_t)ROWS * K * sizeof *items);
    float *lq = malloc((size_t)ROWS * K * sizeof *lq);
    assert_true(users && rowpos && items && lq);
    for (uint32_t r = 0; r < ROWS; r++) {
        users[r] = r % n_users;
        rowpos[r] = idx[indptr[users[r]]];
    }
    for (uint64_t step = 0; step < 3; step++) {
        assert_int_equal(negs_sampler_sample(s, step, ROWS, users, rowpos, K, items, lq), NEGS_OK);
        for (size_t i = 0; i < (size_t)ROWS * K; i++) {
            assert_true(items[i] < n_items && w[items[i]] > 0.0);
            assert_int_equal(negs_csr_contains(pos, users[i / K], items[i]), 0);
            assert_true(isfinite(lq[i]) && lq[i] < 0.0f);
        }
    }
    /* UNIQUE adds its prefix sums (8), weight order (4), each item's w and search hint (12):
     * 36 B/item documented (docs/samplers.md), + a bit per item for the unweighted draws */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1), NEGS_OK);
    printf("scale: 10^8 items with UNIQUE: %zu B/item held (36 documented)\n",
           sp_item_bytes(s) / n_items);
    assert_true(sp_item_bytes(s) <= (size_t)36 * n_items + (size_t)n_items / 8 + 64);
    assert_int_equal(negs_sampler_sample(s, 9, ROWS, users, rowpos, K, items, lq), NEGS_OK);
    for (size_t r = 0; r < ROWS; r++)
        for (int j = 0; j < K; j++) {
            assert_int_equal(negs_csr_contains(pos, users[r], items[r * K + j]), 0);
            for (int q = 0; q < j; q++) assert_true(items[r * K + q] != items[r * K + j]);
        }
    negs_sampler_free(s);
    negs_csr_free(pos);
    free(users);
    free(rowpos);
    free(items);
    free(lq);
    free(idx);
    free(indptr);
    free(w);
}

static void test_sketch_2_26(void **state)
{
    (void)state;
    const size_t buckets = (size_t)1 << 26;
    const uint32_t hashes = 2;
    double vm0 = proc_bytes("VmSize");
    negs_freq *f = negs_freq_create(NEGS_FREQ_SKETCH, buckets, hashes, 5);
    assert_non_null(f);
    double vgrown = proc_bytes("VmSize") - vm0, table = (double)buckets * hashes * 8;
    printf("scale: SKETCH 2^26 x 2: table %.0f MB (documented buckets x hashes x 8), address space "
           "growth %.0f MB\n", table / 1e6, vgrown / 1e6);
    assert_true(vgrown <= table * 1.02 + 16.0 * 1048576.0);
    enum { N = 1 << 16 };
    uint64_t *ids = malloc(N * sizeof *ids);
    float *p = malloc(N * sizeof *p);
    assert_true(ids && p);
    for (uint64_t st = 1; st <= 20; st++) {
        for (size_t i = 0; i < N; i++) ids[i] = (i * 2654435761u + st * 97) % 50000000u;
        assert_int_equal(negs_freq_update(f, st, ids, N), NEGS_OK);
    }
    assert_int_equal(negs_freq_prob(f, ids, N, p), NEGS_OK);
    for (size_t i = 0; i < N; i++) assert_true(p[i] > 0.0f && p[i] <= 1.0f);
    size_t size = 0;
    assert_int_equal(negs_freq_save(f, NULL, 0, &size), NEGS_OK);
    assert_true(size == 128 + (size_t)table + 8);
    negs_freq_free(f);
    free(ids);
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_popularity_1e8),
        cmocka_unit_test(test_sketch_2_26),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
