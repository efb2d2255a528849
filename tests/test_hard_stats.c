/* HARD selection statistics (fixed seeds): SOFTMAX frequencies against the exact
 * without-replacement probabilities, the hot-temperature limit, DNS(M,N)'s uniform picks, and
 * a curriculum's share of hard negatives per phase of its schedule (chi-square each). */
#include <stdio.h>

#include "test_util.h"

#define P_MIN 1e-4

static size_t rows_for(size_t full)
{
    return negs_test_sanitized() ? full / 5 : full;
}

static negs_sampler *hard_sampler(uint32_t n_items, uint32_t c, int mode)
{
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, n_items, 2024);
    assert_int_equal(negs_sampler_add(h, negs_sampler_create(NEGS_SAMPLER_UNIFORM, n_items, 1), 1),
                     NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, c), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_HARD_MODE, mode), NEGS_OK);
    return h;
}

/* n_rows copies of one row of candidates. */
static void tile(size_t rows, uint32_t n, const uint32_t *it, const float *sc, uint32_t *items,
                 float *scores)
{
    for (size_t r = 0; r < rows; r++) {
        memcpy(items + r * n, it, n * sizeof *it);
        memcpy(scores + r * n, sc, n * sizeof *sc);
    }
}

/* Ordered pairs (first pick, second pick) of k = 2 draws without replacement, with a repeated
 * id (position 5 repeats item 12 with another score: it takes part once, at position 2). */
static void test_softmax_pairs(void **state)
{
    (void)state;
    const uint32_t n = 6;
    const uint32_t it[6] = {10, 11, 12, 13, 14, 12};
    const float sc[6] = {0.3f, -0.2f, 1.0f, 0.0f, 0.5f, 3.0f};
    const double t = 0.8;
    size_t rows = rows_for(20000);
    uint32_t *items = malloc(rows * n * sizeof *items), *out = malloc(rows * 2 * sizeof *out);
    float *scores = malloc(rows * n * sizeof *scores);
    tile(rows, n, it, sc, items, scores);
    negs_sampler *h = hard_sampler(20, n, NEGS_HARD_SOFTMAX);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TEMPERATURE, t), NEGS_OK);
    assert_int_equal(negs_sampler_select(h, 3, rows, n, items, scores, NULL, 2, out, NULL), NEGS_OK);
    double obs[25] = {0}, expect[25] = {0}, w[5], z = 0.0;
    for (int i = 0; i < 5; i++) z += w[i] = exp(sc[i] / t);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            if (i != j) expect[i * 5 + j] = (double)rows * w[i] / z * w[j] / (z - w[i]);
    for (size_t r = 0; r < rows; r++) {
        int a = (int)out[2 * r] - 10, b = (int)out[2 * r + 1] - 10;
        assert_true(a >= 0 && a < 5 && b >= 0 && b < 5 && a != b);
        obs[a * 5 + b] += 1.0;
    }
    double p = negs_test_chi2_p(obs, expect, 25);
    printf("softmax pairs: chi-square p = %.4f over %zu rows\n", p, rows);
    assert_true(p > P_MIN);
    negs_sampler_free(h);
    free(items);
    free(out);
    free(scores);
}

/* A hot temperature is uniform over the candidates. */
static void test_softmax_hot_is_uniform(void **state)
{
    (void)state;
    const uint32_t n = 8;
    const uint32_t it[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const float sc[8] = {5.0f, -3.0f, 1.0f, 0.0f, 2.0f, -1.0f, 4.0f, 0.5f};
    size_t rows = rows_for(16000);
    uint32_t *items = malloc(rows * n * sizeof *items), *out = malloc(rows * sizeof *out);
    float *scores = malloc(rows * n * sizeof *scores);
    tile(rows, n, it, sc, items, scores);
    negs_sampler *h = hard_sampler(8, n, NEGS_HARD_SOFTMAX);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TEMPERATURE, 1e9), NEGS_OK);
    assert_int_equal(negs_sampler_select(h, 1, rows, n, items, scores, NULL, 1, out, NULL), NEGS_OK);
    double obs[8] = {0}, expect[8];
    for (int i = 0; i < 8; i++) expect[i] = (double)rows / 8.0;
    for (size_t r = 0; r < rows; r++) obs[out[r]] += 1.0;
    double p = negs_test_chi2_p(obs, expect, 8);
    printf("softmax T = 1e9: chi-square p = %.4f\n", p);
    assert_true(p > P_MIN);
    negs_sampler_free(h);
    free(items);
    free(out);
    free(scores);
}

/* DNS(M = 4, N = 10), k = 2: every ordered pair of the top 4 equally likely. */
static void test_dns_mn_uniform(void **state)
{
    (void)state;
    const uint32_t n = 10;
    const uint32_t it[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    const float sc[10] = {0.1f, 0.9f, 0.3f, 0.8f, 0.2f, 0.7f, 0.0f, 0.6f, 0.4f, 0.5f};
    size_t rows = rows_for(12000);
    uint32_t *items = malloc(rows * n * sizeof *items), *out = malloc(rows * 2 * sizeof *out);
    float *scores = malloc(rows * n * sizeof *scores);
    tile(rows, n, it, sc, items, scores);
    negs_sampler *h = hard_sampler(10, n, NEGS_HARD_DNS_MN);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TOP_M, 4), NEGS_OK);
    assert_int_equal(negs_sampler_select(h, 1, rows, n, items, scores, NULL, 2, out, NULL), NEGS_OK);
    const int top[4] = {1, 3, 5, 7}; /* scores 0.9, 0.8, 0.7, 0.6 */
    double obs[16] = {0}, expect[16] = {0};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            if (i != j) expect[i * 4 + j] = (double)rows / 12.0;
    for (size_t r = 0; r < rows; r++) {
        int a = -1, b = -1;
        for (int i = 0; i < 4; i++) {
            if ((int)out[2 * r] == top[i]) a = i;
            if ((int)out[2 * r + 1] == top[i]) b = i;
        }
        assert_true(a >= 0 && b >= 0 && a != b);
        obs[a * 4 + b] += 1.0;
    }
    double p = negs_test_chi2_p(obs, expect, 16);
    printf("DNS(4, 10): chi-square p = %.4f\n", p);
    assert_true(p > P_MIN);
    negs_sampler_free(h);
    free(items);
    free(out);
    free(scores);
}

/* A curriculum: easy negatives from items 50..99, hard ones selected from candidates among
 * items 0..49, so an item tells which child filled its slot. The hard share follows the
 * schedule 0 -> 1 -> 0.25 against the easy child's constant 1. */
static void test_curriculum_shares(void **state)
{
    (void)state;
    const uint32_t n_items = 100, k = 4;
    const size_t dim = 8;
    double we[100], wh[100];
    for (uint32_t i = 0; i < n_items; i++) {
        we[i] = i >= 50 ? 1.0 : 0.0;
        wh[i] = i < 50 ? 1.0 : 0.0;
    }
    negs_sampler *easy = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n_items, 1);
    negs_sampler *pool = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n_items, 1);
    assert_int_equal(negs_sampler_set_weights(easy, we, n_items), NEGS_OK);
    assert_int_equal(negs_sampler_set_weights(pool, wh, n_items), NEGS_OK);
    negs_sampler *hard = negs_sampler_create(NEGS_SAMPLER_HARD, n_items, 1);
    assert_int_equal(negs_sampler_add(hard, pool, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(hard, NEGS_SP_CANDIDATES, 16), NEGS_OK);
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n_items, 99);
    assert_int_equal(negs_sampler_add(mix, easy, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(mix, hard, 0.0), NEGS_OK);
    const double steps[3] = {0, 100, 200}, shares[3] = {0, 1, 0.25};
    assert_int_equal(negs_sampler_set_schedule(mix, 1, 3, steps, shares), NEGS_OK);
    size_t rows = rows_for(2500);
    float *q = malloc(rows * dim * sizeof *q), *emb = malloc(n_items * dim * sizeof *emb);
    for (size_t i = 0; i < rows * dim; i++) q[i] = (float)((i * 7919) % 13) / 13.0f - 0.5f;
    for (size_t i = 0; i < n_items * dim; i++) emb[i] = (float)((i * 104729) % 17) / 17.0f - 0.5f;
    uint32_t *out = malloc(rows * k * sizeof *out);
    const uint64_t at[6] = {0, 50, 100, 150, 200, 300};
    for (int ph = 0; ph < 6; ph++) {
        double s = at[ph] <= 100 ? at[ph] / 100.0 : at[ph] >= 200 ? 0.25 : 1.0 - 0.75 * (at[ph] - 100.0) / 100.0;
        double p_hard = s / (1.0 + s);
        assert_int_equal(negs_sampler_sample_scored(mix, at[ph], rows, NULL, NULL, q, emb, dim, k, out,
                                                    NULL), NEGS_OK);
        double obs[2] = {0, 0}, expect[2] = {(double)(rows * k) * p_hard,
                                             (double)(rows * k) * (1.0 - p_hard)};
        for (size_t r = 0; r < rows; r++)
            for (uint32_t j = 0; j < k; j++) {
                uint32_t it = out[r * k + j];
                obs[it < 50 ? 0 : 1] += 1.0;
                if (it < 50) /* hard picks are distinct within the row */
                    for (uint32_t i = 0; i < j; i++) assert_true(out[r * k + i] != it);
            }
        if (p_hard == 0.0) {
            assert_true(obs[0] == 0.0);
            continue;
        }
        double p = negs_test_chi2_p(obs, expect, 2);
        printf("curriculum step %3llu: hard share %.4f (expected %.4f), p = %.4f\n",
               (unsigned long long)at[ph], obs[0] / (double)(rows * k), p_hard, p);
        assert_true(p > P_MIN);
    }
    negs_sampler_free(mix);
    free(q);
    free(emb);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_softmax_pairs),
        cmocka_unit_test(test_softmax_hot_is_uniform),
        cmocka_unit_test(test_dns_mn_uniform),
        cmocka_unit_test(test_curriculum_shares),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
