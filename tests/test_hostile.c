/* Hostile input to every public function, table by table: NULLs, zero sizes, overflowing
 * products, out-of-range ids, NaN / Inf / subnormal values, steps going back, parameters out
 * of bounds. Each call must give the expected status and a sentence that starts with the
 * status name and names the argument; afterwards every handle must still give exactly its
 * reference results. */
#include <dirent.h>

#include "test_hostile.h"

enum { NI = 50, NU = 4, ROWS = 3, K = 2, DIM = 3 };
static const uint64_t g_indptr[NU + 1] = {0, 2, 4, 4, 6};
static const uint32_t g_idx[6] = {1, 3, 5, 7, 0, 2};
static const uint32_t g_users[ROWS] = {0, 1, 3}, g_rowpos[ROWS] = {10, 11, 12};

static void test_version_and_errors(void **state)
{
    (void)state;
    assert_int_equal(negs_version_number(), NEGS_VERSION_NUMBER);
    assert_non_null(negs_version_string());
    assert_string_equal(negs_status_name(-7), "NEGS_UNKNOWN");
    assert_string_equal(negs_status_name(1), "NEGS_UNKNOWN");
    assert_string_equal(negs_status_name(INT32_MIN), "NEGS_UNKNOWN");
    assert_non_null(negs_last_error());
}

static void test_csr(void **state)
{
    (void)state;
    const uint64_t back[3] = {0, 2, 1}, start1[2] = {1, 1}, huge[2] = {0, UINT64_MAX};
    const uint32_t out_of_range[2] = {0, NI};
    HN(negs_csr_create(0, NI, g_indptr, g_idx), NEGS_E_INVALID, "n_users");
    HN(negs_csr_create(NU, 0, g_indptr, g_idx), NEGS_E_INVALID, "n_items");
    HN(negs_csr_create(NU, NI, NULL, g_idx), NEGS_E_INVALID, "indptr");
    HN(negs_csr_create(NU, NI, g_indptr, NULL), NEGS_E_INVALID, "indices");
    HN(negs_csr_create(2, NI, back, g_idx), NEGS_E_INVALID, "indptr[2]");
    HN(negs_csr_create(1, NI, start1, g_idx), NEGS_E_INVALID, "indptr[0]");
    HN(negs_csr_create(1, NI, huge, g_idx), NEGS_E_INVALID, "indptr");
    HN(negs_csr_create(1, NI, (const uint64_t[]){0, 2}, out_of_range), NEGS_E_INVALID, "indices[1]");
    negs_csr *t = negs_csr_create(NU, NI, g_indptr, g_idx);
    assert_non_null(t);
    const uint32_t *row = NULL;
    size_t len = 0;
    uint32_t out[4];
    H(negs_csr_contains(NULL, 0, 0), NEGS_E_INVALID, "t");
    H(negs_csr_contains(t, NU, 0), NEGS_E_INVALID, "user");
    H(negs_csr_contains(t, 0, NI), NEGS_E_INVALID, "item");
    H(negs_csr_contains(t, UINT32_MAX, UINT32_MAX), NEGS_E_INVALID, "user");
    H((int)negs_csr_row_size(NULL, 0), NEGS_E_INVALID, "t");
    H((int)negs_csr_row_size(t, NU), NEGS_E_INVALID, "user");
    H(negs_csr_row_items(NULL, 0, &row, &len), NEGS_E_INVALID, "t");
    H(negs_csr_row_items(t, NU, &row, &len), NEGS_E_INVALID, "user");
    H(negs_csr_row_items(t, 0, NULL, &len), NEGS_E_INVALID, "items");
    H(negs_csr_row_items(t, 0, &row, NULL), NEGS_E_INVALID, "len");
    H(negs_csr_row_copy(NULL, 0, out, 4, &len), NEGS_E_INVALID, "t");
    H(negs_csr_row_copy(t, NU, out, 4, &len), NEGS_E_INVALID, "user");
    H(negs_csr_row_copy(t, 0, out, 4, NULL), NEGS_E_INVALID, "len");
    H(negs_csr_row_copy(t, 0, out, 1, &len), NEGS_E_INVALID, "cap");
    check_cases();
    assert_int_equal(negs_csr_n_users(NULL), 0);
    assert_int_equal(negs_csr_n_items(NULL), 0);
    /* still the same table */
    assert_int_equal(negs_csr_row_copy(t, 3, out, 4, &len), NEGS_OK);
    assert_int_equal(len, 2);
    assert_int_equal(out[0], 0);
    assert_int_equal(out[1], 2);
    assert_int_equal(negs_csr_contains(t, 1, 7), 1);
    negs_csr_free(t);
    negs_csr_free(NULL);
}

static void test_sampler(void **state)
{
    (void)state;
    negs_csr *t = negs_csr_create(NU, NI, g_indptr, g_idx);
    HN(negs_sampler_create(0, NI, 1), NEGS_E_UNSUPPORTED, "kind");
    HN(negs_sampler_create(99, NI, 1), NEGS_E_UNSUPPORTED, "kind");
    HN(negs_sampler_create(NEGS_SAMPLER_UNIFORM, 0, 1), NEGS_E_INVALID, "n_items");
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, NI, 5);
    assert_non_null(s);
    double w[NI + 1];
    for (int i = 0; i <= NI; i++) w[i] = 1.0 + i % 3;
    uint32_t ref[ROWS * K], items[ROWS * K];
    float ref_lq[ROWS * K], lq[ROWS * K];
    double v = 0;
    H(negs_sampler_sample(s, 0, ROWS, g_users, g_rowpos, K, items, lq), NEGS_E_STATE, "weights");
    assert_int_equal(negs_sampler_set_weights(s, w, NI), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(s, t), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 4, ROWS, g_users, g_rowpos, K, ref, ref_lq), NEGS_OK);

    H(negs_sampler_set_param(NULL, NEGS_SP_ALPHA, 1), NEGS_E_INVALID, "s");
    H(negs_sampler_set_param(s, 0, 1), NEGS_E_UNSUPPORTED, "0");
    H(negs_sampler_set_param(s, 1000, 1), NEGS_E_UNSUPPORTED, "1000");
    H(negs_sampler_set_param(s, NEGS_SP_ALPHA, NAN), NEGS_E_INVALID, "alpha");
    H(negs_sampler_set_param(s, NEGS_SP_ALPHA, INFINITY), NEGS_E_INVALID, "alpha");
    H(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 2), NEGS_E_INVALID, "unique");
    H(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0.5), NEGS_E_INVALID, "unique");
    H(negs_sampler_set_param(s, NEGS_SP_EXCLUDE_POSITIVES, -1), NEGS_E_INVALID, "exclude");
    H(negs_sampler_set_param(s, NEGS_SP_HARD_MODE, 99), NEGS_E_INVALID, "mode");
    H(negs_sampler_set_param(s, NEGS_SP_CANDIDATES, 0), NEGS_E_INVALID, "candidates");
    H(negs_sampler_set_param(s, NEGS_SP_CANDIDATES, 1e300), NEGS_E_INVALID, "candidates");
    H(negs_sampler_set_param(s, NEGS_SP_MARGIN, NAN), NEGS_E_INVALID, "margin");
    H(negs_sampler_set_param(s, NEGS_SP_TEMPERATURE, 0), NEGS_E_INVALID, "temperature");
    H(negs_sampler_set_param(s, NEGS_SP_TEMPERATURE, -1e-310), NEGS_E_INVALID, "temperature");
    H(negs_sampler_set_param(s, NEGS_SP_THREADS, 0), NEGS_E_INVALID, "threads");
    H(negs_sampler_set_param(s, NEGS_SP_THREADS, 1e9), NEGS_E_INVALID, "threads");
    H(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, -1), NEGS_E_INVALID, "row_offset");
    H(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, 1e300), NEGS_E_INVALID, "row_offset");
    H(negs_sampler_set_param(s, NEGS_SP_FALLBACK_ROWS, 1), NEGS_E_INVALID, "read-only");
    H(negs_sampler_set_param(s, NEGS_SP_SHARED_EXCLUDE, 2), NEGS_E_INVALID, "shared_exclude");
    H(negs_sampler_set_param(s, NEGS_SP_SHARED_EXCLUDE, NAN), NEGS_E_INVALID, "shared_exclude");
    H(negs_sampler_get_param(NULL, NEGS_SP_ALPHA, &v), NEGS_E_INVALID, "s");
    H(negs_sampler_get_param(s, NEGS_SP_ALPHA, NULL), NEGS_E_INVALID, "value");
    H(negs_sampler_get_param(s, 777, &v), NEGS_E_UNSUPPORTED, "777");

    w[3] = -1.0;
    H(negs_sampler_set_weights(s, w, NI), NEGS_E_INVALID, "weights[3]");
    w[3] = NAN;
    H(negs_sampler_set_weights(s, w, NI), NEGS_E_INVALID, "weights[3]");
    w[3] = INFINITY;
    H(negs_sampler_set_weights(s, w, NI), NEGS_E_INVALID, "weights[3]");
    w[3] = 1.0;
    H(negs_sampler_set_weights(s, w, NI + 1), NEGS_E_INVALID, "n_items");
    H(negs_sampler_set_weights(s, w, 0), NEGS_E_INVALID, "n_items");
    H(negs_sampler_set_weights(s, NULL, NI), NEGS_E_INVALID, "weights");
    H(negs_sampler_set_weights(NULL, w, NI), NEGS_E_INVALID, "s");
    double zero[NI] = {0};
    H(negs_sampler_set_weights(s, zero, NI), NEGS_E_INVALID, "weight");
    negs_csr *wide = negs_csr_create(NU, NI + 1, g_indptr, g_idx);
    H(negs_sampler_set_positives(s, wide), NEGS_E_INVALID, "51 items");
    H(negs_sampler_set_positives(NULL, t), NEGS_E_INVALID, "s");
    H(negs_sampler_set_exposures(NULL, t), NEGS_E_INVALID, "s");
    H(negs_sampler_set_exposures(s, wide), NEGS_E_UNSUPPORTED, "EXPOSURE");
    uint32_t cats[NI + 1] = {0};
    H(negs_sampler_set_categories(s, cats, NI + 1), NEGS_E_UNSUPPORTED, "CATEGORY");
    H(negs_sampler_set_categories(s, NULL, NI), NEGS_E_INVALID, "category_of_item");
    H(negs_sampler_set_categories(NULL, cats, NI), NEGS_E_INVALID, "s");
    H(negs_sampler_add(s, s, 1.0), NEGS_E_INVALID, "MIXTURE");
    H(negs_sampler_add(NULL, s, 1.0), NEGS_E_INVALID, "mixture");
    H(negs_sampler_set_schedule(s, 0, 2, (const double[]){0, 1}, (const double[]){1, 1}),
      NEGS_E_INVALID, "MIXTURE");
    H(negs_sampler_set_support(s, (const uint32_t[]){1}, 1), NEGS_E_UNSUPPORTED, "UNIFORM");

    uint32_t bad_users[ROWS] = {0, NU, 1}, bad_pos[ROWS] = {0, 1, NI};
    H(negs_sampler_sample(NULL, 0, ROWS, g_users, g_rowpos, K, items, lq), NEGS_E_INVALID, "s");
    H(negs_sampler_sample(s, 0, ROWS, g_users, g_rowpos, 0, items, lq), NEGS_E_INVALID, "k");
    H(negs_sampler_sample(s, 0, ROWS, g_users, g_rowpos, K, NULL, lq), NEGS_E_INVALID, "out_items");
    H(negs_sampler_sample(s, 0, ROWS, NULL, g_rowpos, K, items, lq), NEGS_E_INVALID, "users");
    H(negs_sampler_sample(s, 0, ROWS, bad_users, g_rowpos, K, items, lq), NEGS_E_INVALID, "users[1]");
    H(negs_sampler_sample(s, 0, ROWS, g_users, bad_pos, K, items, lq), NEGS_E_INVALID, "positives[2]");
    H(negs_sampler_sample(s, 0, SIZE_MAX, g_users, g_rowpos, K, items, lq), NEGS_E_INVALID, "n_rows");
    H(negs_sampler_sample(s, 0, SIZE_MAX / 2, g_users, g_rowpos, UINT32_MAX, items, lq),
      NEGS_E_INVALID, "overflow");
    H(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1), NEGS_OK, "");
    H(negs_sampler_sample(s, 0, ROWS, g_users, g_rowpos, NI, items, lq), NEGS_E_EXHAUSTED, "row");
    H(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0), NEGS_OK, "");
    H(negs_sampler_logq(NULL, 0, ROWS, g_users, g_rowpos, ref, K, lq), NEGS_E_INVALID, "s");
    H(negs_sampler_logq(s, 0, ROWS, g_users, g_rowpos, NULL, K, lq), NEGS_E_INVALID, "items");
    H(negs_sampler_logq(s, 0, ROWS, g_users, g_rowpos, bad_pos, 1, lq), NEGS_E_INVALID, "items[2]");
    H(negs_sampler_logq(s, 0, ROWS, g_users, g_rowpos, ref, K, NULL), NEGS_E_INVALID, "out_logq");
    H(negs_sampler_sample_shared(NULL, 0, ROWS, g_rowpos, K, items, lq, NULL), NEGS_E_INVALID, "s");
    H(negs_sampler_sample_shared(s, 0, ROWS, bad_pos, K, items, lq, NULL), NEGS_E_INVALID, "positives[2]");
    H(negs_sampler_sample_shared(s, 0, ROWS, g_rowpos, K, NULL, lq, NULL), NEGS_E_INVALID, "out_items");
    H(negs_sampler_select(s, 0, ROWS, 2, ref, ref_lq, NULL, 1, items, NULL), NEGS_E_INVALID, "HARD");
    H(negs_sampler_sample_scored(s, 0, ROWS, g_users, g_rowpos, ref_lq, ref_lq, 1, 1, items, NULL),
      NEGS_E_INVALID, "HARD");
    check_cases();

    /* the handle is unchanged: the same draws and log q */
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_ALPHA, &v), NEGS_OK);
    assert_true(v == 0.75);
    assert_int_equal(negs_sampler_sample(s, 4, ROWS, g_users, g_rowpos, K, items, lq), NEGS_OK);
    assert_memory_equal(items, ref, sizeof ref);
    assert_memory_equal(lq, ref_lq, sizeof lq);
    negs_sampler_free(s);
    negs_sampler_free(NULL);
    negs_csr_free(wide);
    negs_csr_free(t);
}

static void test_hard_and_mixture(void **state)
{
    (void)state;
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, NI, 3);
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, NI, 3);
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 3);
    negs_sampler *other = negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI + 1, 3);
    assert_true(h && m && c && other);
    uint32_t cand[ROWS * 4] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, items[ROWS * 64];
    float sc[ROWS * 4] = {0}, ps[ROWS] = {0}, q[ROWS * DIM] = {0}, emb[NI * DIM] = {0}, lq[ROWS * 4];
    H(negs_sampler_sample(h, 0, ROWS, NULL, g_rowpos, 64, items, NULL), NEGS_E_STATE, "child");
    H(negs_sampler_add(m, c, NAN), NEGS_E_INVALID, "share");
    H(negs_sampler_add(m, c, -1.0), NEGS_E_INVALID, "share");
    H(negs_sampler_add(m, other, 1.0), NEGS_E_INVALID, "51 items");
    H(negs_sampler_add(m, NULL, 1.0), NEGS_E_INVALID, "child");
    H(negs_sampler_add(m, m, 1.0), NEGS_E_INVALID, "own child");
    assert_int_equal(negs_sampler_add(m, c, 1.0), NEGS_OK);
    H(negs_sampler_set_schedule(m, 1, 2, (const double[]){0, 1}, (const double[]){1, 1}),
      NEGS_E_INVALID, "child");
    H(negs_sampler_set_schedule(m, 0, 2, (const double[]){1, 0}, (const double[]){1, 1}),
      NEGS_E_INVALID, "steps");
    H(negs_sampler_set_schedule(m, 0, 2, (const double[]){0, 1}, (const double[]){1, NAN}),
      NEGS_E_INVALID, "shares[1]");
    H(negs_sampler_set_schedule(m, 0, 0, NULL, NULL), NEGS_E_INVALID, "steps");
    H(negs_sampler_set_param(m, NEGS_SP_UNIQUE, 1), NEGS_E_UNSUPPORTED, "MIXTURE");
    H(negs_sampler_set_param(h, NEGS_SP_TOP_M, 0), NEGS_E_INVALID, "top_m");
    H(negs_sampler_set_param(h, NEGS_SP_TOP_M, 2.5), NEGS_E_INVALID, "top_m");
    H(negs_sampler_set_param(h, NEGS_SP_TOP_M, 1e10), NEGS_E_INVALID, "top_m");
    H(negs_sampler_set_param(h, NEGS_SP_AHNS_ALPHA, NAN), NEGS_E_INVALID, "ahns_alpha");
    H(negs_sampler_set_param(h, NEGS_SP_AHNS_BETA, INFINITY), NEGS_E_INVALID, "ahns_beta");
    H(negs_sampler_set_param(h, NEGS_SP_AHNS_P, -INFINITY), NEGS_E_INVALID, "ahns_p");
    assert_int_equal(negs_sampler_add(h, m, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, 4), NEGS_OK);
    H(negs_sampler_sample(h, 0, ROWS, NULL, g_rowpos, 3, items, NULL), NEGS_E_INVALID, "k");
    H(negs_sampler_select(h, 0, ROWS, 5, cand, sc, ps, 1, items, lq), NEGS_E_STATE, "n_cand");
    H(negs_sampler_select(h, 0, ROWS, 4, cand, sc, ps, 5, items, lq), NEGS_E_INVALID, "k");
    H(negs_sampler_select(h, 0, ROWS, 4, NULL, sc, ps, 1, items, lq), NEGS_E_INVALID, "cand_items");
    H(negs_sampler_select(h, 0, ROWS, 4, cand, NULL, ps, 1, items, lq), NEGS_E_INVALID, "cand_scores");
    sc[5] = NAN;
    H(negs_sampler_select(h, 0, ROWS, 4, cand, sc, ps, 1, items, lq), NEGS_E_INVALID, "cand_scores[5]");
    sc[5] = 0;
    cand[7] = NI;
    H(negs_sampler_select(h, 0, ROWS, 4, cand, sc, ps, 1, items, lq), NEGS_E_INVALID, "cand_items[7]");
    cand[7] = 8;
    H(negs_sampler_set_param(h, NEGS_SP_HARD_MODE, NEGS_HARD_SEMIHARD), NEGS_OK, "");
    H(negs_sampler_select(h, 0, ROWS, 4, cand, sc, NULL, 1, items, lq), NEGS_E_INVALID, "pos_scores");
    H(negs_sampler_sample_scored(h, 0, ROWS, NULL, g_rowpos, q, emb, 0, 1, items, lq),
      NEGS_E_INVALID, "dim");
    H(negs_sampler_sample_scored(h, 0, ROWS, NULL, g_rowpos, NULL, emb, DIM, 1, items, lq),
      NEGS_E_INVALID, "query_emb");
    H(negs_sampler_sample_scored(h, 0, ROWS, NULL, g_rowpos, q, NULL, DIM, 1, items, lq),
      NEGS_E_INVALID, "item_emb");
    H(negs_sampler_sample_scored(h, 0, ROWS, NULL, g_rowpos, q, emb, SIZE_MAX / 2, 1, items, lq),
      NEGS_E_INVALID, "overflow");
    q[4] = INFINITY;
    H(negs_sampler_sample_scored(h, 0, ROWS, NULL, g_rowpos, q, emb, DIM, 1, items, lq),
      NEGS_E_INVALID, "query_emb");
    q[4] = 0;
    check_cases();
    double v = 0;
    assert_int_equal(negs_sampler_get_param(h, NEGS_SP_TOP_M, &v), NEGS_OK);
    assert_true(v == 4.0);
    assert_int_equal(negs_sampler_get_param(h, NEGS_SP_AHNS_BETA, &v), NEGS_OK);
    assert_true(v == 1.0);
    assert_int_equal(negs_sampler_sample_scored(h, 0, ROWS, NULL, g_rowpos, q, emb, DIM, 2, items, lq),
                     NEGS_OK);
    for (int i = 0; i < ROWS * 2; i++) assert_true(items[i] < NI && items[i] != g_rowpos[i / 2]);
    negs_sampler_free(h);
    negs_sampler_free(other);
}

static void test_freq(void **state)
{
    (void)state;
    HN(negs_freq_create(0, 64, 2, 1), NEGS_E_UNSUPPORTED, "kind");
    HN(negs_freq_create(NEGS_FREQ_GAP, 0, 2, 1), NEGS_E_INVALID, "buckets");
    HN(negs_freq_create(NEGS_FREQ_GAP, ((size_t)1 << 32) + 1, 2, 1), NEGS_E_INVALID, "buckets");
    HN(negs_freq_create(NEGS_FREQ_GAP, 64, 0, 1), NEGS_E_INVALID, "hashes");
    HN(negs_freq_create(NEGS_FREQ_GAP, 64, 33, 1), NEGS_E_INVALID, "hashes");
    HN(negs_freq_load(NULL, 10), NEGS_E_INVALID, "buf");
    HN(negs_freq_load("NEGSFREQ", 8), NEGS_E_FORMAT, "");
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 64, 2, 1);
    negs_freq *s = negs_freq_create(NEGS_FREQ_SKETCH, 64, 2, 1);
    negs_freq *s2 = negs_freq_create(NEGS_FREQ_SKETCH, 32, 2, 1);
    assert_true(f && s && s2);
    uint64_t ids[4] = {1, 2, 3, 1};
    uint32_t ids32[4] = {1, 2, 3, 1};
    float p[4], ref[4];
    double v = 0;
    size_t n = 0;
    H(negs_freq_prob(f, ids, 4, p), NEGS_E_STATE, "not seen");
    assert_int_equal(negs_freq_update(f, 10, ids, 4), NEGS_OK);
    assert_int_equal(negs_freq_update(s, 10, ids, 4), NEGS_OK);
    assert_int_equal(negs_freq_prob(f, ids, 4, ref), NEGS_OK);
    H(negs_freq_set_param(NULL, NEGS_FP_ALPHA, 0.5), NEGS_E_INVALID, "f");
    H(negs_freq_set_param(f, 99, 0.5), NEGS_E_UNSUPPORTED, "99");
    H(negs_freq_set_param(f, NEGS_FP_ALPHA, 0.0), NEGS_E_INVALID, "alpha");
    H(negs_freq_set_param(f, NEGS_FP_ALPHA, 1.5), NEGS_E_INVALID, "alpha");
    H(negs_freq_set_param(f, NEGS_FP_ALPHA, NAN), NEGS_E_INVALID, "alpha");
    H(negs_freq_set_param(f, NEGS_FP_MAX_GAP, 0.5), NEGS_E_INVALID, "max_gap");
    H(negs_freq_set_param(f, NEGS_FP_MAX_GAP, 1e300), NEGS_E_INVALID, "max_gap");
    H(negs_freq_set_param(s, NEGS_FP_HALF_LIFE, -1), NEGS_E_INVALID, "half_life");
    H(negs_freq_set_param(s, NEGS_FP_HALF_LIFE, INFINITY), NEGS_E_INVALID, "half_life");
    H(negs_freq_set_param(s, NEGS_FP_CONSERVATIVE, 2), NEGS_E_INVALID, "conservative");
    H(negs_freq_get_param(f, NEGS_FP_ALPHA, NULL), NEGS_E_INVALID, "value");
    H(negs_freq_get_param(NULL, NEGS_FP_ALPHA, &v), NEGS_E_INVALID, "f");
    H(negs_freq_update(NULL, 11, ids, 4), NEGS_E_INVALID, "f");
    H(negs_freq_update(f, 11, NULL, 4), NEGS_E_INVALID, "ids");
    H(negs_freq_update(f, 9, ids, 4), NEGS_E_INVALID, "step");
    H(negs_freq_update_u32(f, 9, ids32, 4), NEGS_E_INVALID, "step");
    H(negs_freq_update_u32(f, 11, NULL, 4), NEGS_E_INVALID, "ids");
    H(negs_freq_update_logq(f, 9, ids, 4, p), NEGS_E_INVALID, "step");
    H(negs_freq_update_logq(f, 11, ids, 4, NULL), NEGS_E_INVALID, "out");
    H(negs_freq_update_logq_u32(f, 9, ids32, 4, p), NEGS_E_INVALID, "step");
    H(negs_freq_prob(NULL, ids, 4, p), NEGS_E_INVALID, "f");
    H(negs_freq_prob(f, NULL, 4, p), NEGS_E_INVALID, "ids");
    H(negs_freq_prob(f, ids, 4, NULL), NEGS_E_INVALID, "output");
    H(negs_freq_prob_u32(f, NULL, 4, p), NEGS_E_INVALID, "ids");
    H(negs_freq_logq(f, ids, 4, NULL), NEGS_E_INVALID, "output");
    H(negs_freq_logq_u32(f, ids32, 4, NULL), NEGS_E_INVALID, "output");
    H(negs_freq_logq_batch(f, ids, 4, 0, p), NEGS_E_INVALID, "batch_size");
    H(negs_freq_logq_batch_u32(f, ids32, 4, 0, p), NEGS_E_INVALID, "batch_size");
    H(negs_freq_save(NULL, NULL, 0, &n), NEGS_E_INVALID, "f");
    H(negs_freq_save(f, NULL, 0, NULL), NEGS_E_INVALID, "size");
    unsigned char small[16];
    H(negs_freq_save(f, small, sizeof small, &n), NEGS_E_INVALID, "cap");
    H(negs_freq_merge(f, f), NEGS_E_UNSUPPORTED, "GAP");
    H(negs_freq_merge(s, s2), NEGS_E_INVALID, "buckets");
    H(negs_freq_merge(s, f), NEGS_E_INVALID, "kind");
    H(negs_freq_merge(NULL, s), NEGS_E_INVALID, "into");
    H(negs_freq_merge(s, NULL), NEGS_E_INVALID, "other");
    H(negs_freq_reset(NULL), NEGS_E_INVALID, "f");
    check_cases();
    assert_int_equal(negs_freq_prob(f, ids, 4, p), NEGS_OK);
    assert_memory_equal(p, ref, sizeof p);
    assert_int_equal(negs_freq_get_param(f, NEGS_FP_ALPHA, &v), NEGS_OK);
    assert_true(v == 0.01);
    negs_freq_free(f);
    negs_freq_free(s);
    negs_freq_free(s2);
    negs_freq_free(NULL);
}

static void test_losses(void **state)
{
    (void)state;
    HN(negs_loss_create(0), NEGS_E_UNSUPPORTED, "kind");
    HN(negs_loss_create(6), NEGS_E_UNSUPPORTED, "kind");
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    assert_non_null(l);
    float pos[2] = {1.0f, 0.5f}, neg[4] = {0.1f, 0.2f, 0.3f, -0.4f}, loss[4], dp[2], dn[4];
    float ref_loss, ref_dn[4];
    assert_int_equal(negs_loss_scores(l, 2, 2, pos, neg, NULL, NULL, &ref_loss, dp, ref_dn), NEGS_OK);
    double v = 0;
    H(negs_loss_set_param(NULL, NEGS_LP_TEMPERATURE, 1), NEGS_E_INVALID, "l");
    H(negs_loss_set_param(l, 0, 1), NEGS_E_UNSUPPORTED, "0");
    H(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 1e-39), NEGS_E_INVALID, "temperature");
    H(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 1e38), NEGS_E_INVALID, "temperature");
    H(negs_loss_set_param(l, NEGS_LP_TEMPERATURE, -1e-310), NEGS_E_INVALID, "temperature");
    H(negs_loss_set_param(l, NEGS_LP_MARGIN, 2.7e154), NEGS_E_INVALID, "margin");
    H(negs_loss_set_param(l, NEGS_LP_REDUCTION, 3), NEGS_E_INVALID, "reduction");
    H(negs_loss_set_param(l, NEGS_LP_REDUCTION, NAN), NEGS_E_INVALID, "reduction");
    H(negs_loss_set_param(l, NEGS_LP_THREADS, 0), NEGS_E_INVALID, "threads");
    H(negs_loss_set_param(l, NEGS_LP_THREADS, 1.5), NEGS_E_INVALID, "threads");
    H(negs_loss_set_param(l, NEGS_LP_FORCE_SCALAR, 2), NEGS_E_INVALID, "force_scalar");
    H(negs_loss_set_param(l, NEGS_LP_KERNEL, 0), NEGS_E_INVALID, "read-only");
    H(negs_loss_set_param(l, NEGS_LP_COSINE, -1), NEGS_E_INVALID, "cosine");
    H(negs_loss_get_param(l, NEGS_LP_TEMPERATURE, NULL), NEGS_E_INVALID, "value");
    H(negs_loss_get_param(l, 77, &v), NEGS_E_UNSUPPORTED, "77");
    H(negs_loss_scores(NULL, 2, 2, pos, neg, NULL, NULL, loss, dp, dn), NEGS_E_INVALID, "l");
    H(negs_loss_scores(l, 2, 2, NULL, neg, NULL, NULL, loss, dp, dn), NEGS_E_INVALID, "pos");
    H(negs_loss_scores(l, 2, 2, pos, NULL, NULL, NULL, loss, dp, dn), NEGS_E_INVALID, "neg");
    H(negs_loss_scores(l, 2, 2, pos, neg, NULL, NULL, NULL, dp, dn), NEGS_E_INVALID, "loss");
    H(negs_loss_scores(l, SIZE_MAX, UINT32_MAX, pos, neg, NULL, NULL, loss, dp, dn), NEGS_E_INVALID, "overflow");
    neg[3] = NAN;
    H(negs_loss_scores(l, 2, 2, pos, neg, NULL, NULL, loss, dp, dn), NEGS_E_INVALID, "neg");
    neg[3] = -0.4f;
    pos[1] = -INFINITY;
    H(negs_loss_scores(l, 2, 2, pos, neg, NULL, NULL, loss, dp, dn), NEGS_E_INVALID, "pos");
    pos[1] = 0.5f;
    float sub[2] = {1e-45f, -1e-40f}, subn[4] = {1e-45f, -1e-45f, 1e-39f, 0.0f};
    H(negs_loss_scores(l, 2, 2, sub, subn, subn, NULL, loss, dp, dn), NEGS_OK, ""); /* subnormals are finite */
    float bad_lq[4] = {0, 0, INFINITY, 0};
    H(negs_loss_scores(l, 2, 2, pos, neg, bad_lq, NULL, loss, dp, dn), NEGS_E_INVALID, "neg_logq");
    float u[2 * DIM] = {1, 0, 0, 0, 1, 0}, vv[3 * DIM] = {1, 0, 0, 0, 1, 0, 0, 0, 1}, du[2 * DIM];
    uint32_t item_ids[3] = {1, 2, NI}, user_ids[2] = {0, 1};
    H(negs_loss_inbatch(NULL, 2, 1, DIM, u, vv, NULL, NULL, NULL, loss, du, NULL), NEGS_E_INVALID, "l");
    H(negs_loss_inbatch(l, 0, 1, DIM, u, vv, NULL, NULL, NULL, loss, du, NULL), NEGS_E_INVALID, "b");
    H(negs_loss_inbatch(l, 2, 1, 0, u, vv, NULL, NULL, NULL, loss, du, NULL), NEGS_E_INVALID, "dim");
    H(negs_loss_inbatch(l, 2, 1, DIM, NULL, vv, NULL, NULL, NULL, loss, du, NULL), NEGS_E_INVALID, "u");
    H(negs_loss_inbatch(l, 2, 1, DIM, u, NULL, NULL, NULL, NULL, loss, du, NULL), NEGS_E_INVALID, "v");
    H(negs_loss_inbatch(l, 2, 1, DIM, u, vv, NULL, NULL, NULL, NULL, du, NULL), NEGS_E_INVALID, "loss");
    H(negs_loss_inbatch(l, SIZE_MAX / 2, SIZE_MAX / 2, DIM, u, vv, NULL, NULL, NULL, loss, du, NULL),
      NEGS_E_INVALID, "b + m");
    H(negs_loss_inbatch(l, 2, 1, DIM, u, vv, NULL, item_ids, user_ids, loss, du, NULL), NEGS_E_STATE,
      "positives");
    u[1] = NAN;
    H(negs_loss_inbatch(l, 2, 1, DIM, u, vv, NULL, NULL, NULL, loss, du, NULL), NEGS_E_INVALID, "u");
    u[1] = 0;
    H(negs_loss_set_positives(NULL, NULL), NEGS_E_INVALID, "l");
    negs_loss *bpr = negs_loss_create(NEGS_LOSS_BPR);
    H(negs_loss_inbatch(bpr, 2, 1, DIM, u, vv, NULL, NULL, NULL, loss, du, NULL), NEGS_E_UNSUPPORTED,
      "SOFTMAX");
    negs_loss_free(bpr);
    float emb[NI * DIM] = {0}, d_item[NI * DIM];
    for (int i = 0; i < NI * DIM; i++) emb[i] = (float)(i % 5) * 0.1f;
    uint32_t ui[2] = {0, 1}, pi[2] = {2, 3}, ni[4] = {4, 5, 6, NI};
    H(negs_loss_scores_indexed(NULL, 2, 2, DIM, emb, NU, emb, NI, ui, pi, ni, NULL, NULL, loss, NULL,
                               d_item), NEGS_E_INVALID, "l");
    H(negs_loss_scores_indexed(l, 2, 2, DIM, emb, NU, emb, NI, ui, pi, ni, NULL, NULL, loss, NULL,
                               d_item), NEGS_E_INVALID, "neg_idx[3]");
    ni[3] = 7;
    ui[1] = NU;
    H(negs_loss_scores_indexed_rows(l, 2, 2, DIM, emb, NU, emb, NI, ui, pi, ni, NULL, NULL, loss,
                                    NULL, NULL, NULL), NEGS_E_INVALID, "user_idx[1]");
    ui[1] = 1;
    H(negs_loss_scores_indexed_rows(l, 2, 2, 0, emb, NU, emb, NI, ui, pi, ni, NULL, NULL, loss,
                                    NULL, NULL, NULL), NEGS_E_INVALID, "dim");
    H(negs_loss_scores_indexed_rows(l, 2, 2, DIM, NULL, NU, emb, NI, ui, pi, ni, NULL, NULL, loss,
                                    NULL, NULL, NULL), NEGS_E_INVALID, "user_emb");
    float grad[2 * DIM] = {1, 2, 3, 0, 0, 0}, delta[2 * DIM];
    H(negs_adv_perturb(2, DIM, NULL, 0.1f, delta), NEGS_E_INVALID, "grad");
    H(negs_adv_perturb(2, DIM, grad, 0.1f, NULL), NEGS_E_INVALID, "out_delta");
    H(negs_adv_perturb(2, DIM, grad, NAN, delta), NEGS_E_INVALID, "eps");
    H(negs_adv_perturb(SIZE_MAX, SIZE_MAX, grad, 0.1f, delta), NEGS_E_INVALID, "overflow");
    grad[2] = INFINITY;
    H(negs_adv_perturb(2, DIM, grad, 0.1f, delta), NEGS_E_INVALID, "grad");
    float out[DIM * 4], lgp[3] = {-1, -2, -3};
    H(negs_mixed_logq(0, 1, lgp, lgp, out), NEGS_E_INVALID, "b");
    H(negs_mixed_logq(2, 1, NULL, lgp, out), NEGS_E_INVALID, "logp");
    lgp[1] = NAN;
    H(negs_mixed_logq(2, 1, lgp, lgp, out), NEGS_E_INVALID, "logp");
    H(negs_synth_negatives(0, 1, 0, 1, DIM, 2, u, vv, 2, NULL, NULL, 0, 0, 0, 0, out, NULL, NULL,
                           NULL), NEGS_E_UNSUPPORTED, "method");
    H(negs_synth_negatives(NEGS_SYNTH_MIXGCF, 1, 0, 1, DIM, 2, u, NULL, 2, NULL, NULL, 0, 0, 0, 0,
                           out, NULL, NULL, NULL), NEGS_E_INVALID, "neg");
    H(negs_synth_negatives(NEGS_SYNTH_MIXGCF, 1, 0, 1, DIM, 2, u, vv, 2, NULL, NULL, 3, 0, 0, 0,
                           out, NULL, NULL, NULL), NEGS_E_INVALID, "n_hard");
    check_cases();
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_TEMPERATURE, &v), NEGS_OK);
    assert_true(v == 1.0);
    float l2;
    assert_int_equal(negs_loss_scores(l, 2, 2, pos, neg, NULL, NULL, &l2, dp, dn), NEGS_OK);
    assert_memory_equal(&l2, &ref_loss, sizeof l2);
    assert_memory_equal(dn, ref_dn, sizeof dn);
    negs_loss_free(l);
    negs_loss_free(NULL);
}

/* ---------------------------------------------------------------- coverage of the header */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) n = 0;
    if (s) s[n] = '\0';
    fclose(f);
    return s;
}

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether `word` (followed by `after`, e.g. "(") occurs in src word-bounded on a line that
 * contains every one of the markers before it (NULL-terminated; none: any line). */
static int occurs(const char *src, const char *word, const char *after, const char *const *markers)
{
    size_t wl = strlen(word), al = strlen(after);
    for (const char *p = strstr(src, word); p; p = strstr(p + 1, word)) {
        if ((p > src && ident_char(p[-1])) || strncmp(p + wl, after, al) != 0) continue;
        if (!al && ident_char(p[wl])) continue;
        const char *bol = p;
        while (bol > src && bol[-1] != '\n') bol--;
        int all = 1;
        for (const char *const *m = markers; *m && all; m++) {
            const char *hit = NULL;
            for (const char *q = bol; q < p && !hit; q++)
                if (strncmp(q, *m, strlen(*m)) == 0) hit = q;
            all = hit != NULL;
        }
        if (all) return 1;
    }
    return 0;
}

/* Every public function of include/negsample.h has a hostile entry in a tests/test_hostile*.c
 * suite (a status-returning call inside H(...), a constructor inside HN(...), and the rest,
 * negs_X_free and the shape queries, called at least once), and every parameter id
 * (NEGS_SP_*, NEGS_LP_*, NEGS_FP_*, NEGS_XP_*) is set hostilely through H(...set_param...),
 * so that a function or parameter added to the header without one fails here. Functions
 * without arguments (the version and last-error queries) have nothing to be hostile about. */
static void test_every_public_name_has_an_entry(void **state)
{
    (void)state;
    char *hdr = slurp("include/negsample.h");
    if (!hdr) fail_msg("include/negsample.h not found: run from the repository root (make check)");
    size_t cap = 1, len = 0;
    char *src = calloc(1, 1);
    DIR *d = opendir("tests");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (strncmp(e->d_name, "test_hostile", 12) != 0 || nl < 3 || strcmp(e->d_name + nl - 2, ".c"))
            continue;
        char path[512];
        snprintf(path, sizeof path, "tests/%s", e->d_name);
        char *one = slurp(path);
        assert_non_null(one);
        size_t ol = strlen(one);
        src = realloc(src, cap = len + ol + 2);
        memcpy(src + len, one, ol);
        len += ol;
        src[len++] = '\n';
        src[len] = '\0';
        free(one);
    }
    closedir(d);
    (void)cap;
    int missing = 0, functions = 0, params = 0;
    static const char *const in_h[] = {"H(", NULL}, *const in_hn[] = {"HN(", NULL};
    static const char *const anywhere[] = {NULL}, *const in_set[] = {"H(", "set_param(", NULL};
    for (const char *p = strstr(hdr, "\nNEGS_API "); p; p = strstr(p + 1, "\nNEGS_API ")) {
        const char *type = p + 10, *paren = strchr(type, '(');
        const char *end = paren;
        while (end > type && !ident_char(end[-1])) end--;
        const char *start = end;
        while (start > type && ident_char(start[-1])) start--;
        char name[96], rtype[96];
        snprintf(name, sizeof name, "%.*s", (int)(end - start), start);
        snprintf(rtype, sizeof rtype, "%.*s", (int)(start - type), type);
        functions++;
        if (strncmp(paren, "(void)", 6) == 0) continue;
        const char *const *where = strstr(rtype, "negs_") ? in_hn
                                   : (strncmp(rtype, "int ", 4) == 0 || strncmp(rtype, "int64_t ", 8) == 0)
                                       ? in_h : anywhere;
        if (!occurs(src, name, "(", where)) {
            print_error("%s has no hostile entry (%s)\n", name,
                        where == in_hn ? "HN(...)" : where == in_h ? "H(...)" : "no call at all");
            missing++;
        }
    }
    for (const char *p = strstr(hdr, "#define NEGS_"); p; p = strstr(p + 1, "#define NEGS_")) {
        const char *name = p + 8;
        if (!(name[6] == 'P' && name[7] == '_' && strchr("SLFX", name[5]))) continue;
        size_t nl = 0;
        while (ident_char(name[nl])) nl++;
        char id[96];
        snprintf(id, sizeof id, "%.*s", (int)nl, name);
        params++;
        if (!occurs(src, id, "", in_set)) {
            print_error("%s is never set in a hostile entry (H(...set_param(..., %s, ...)))\n", id, id);
            missing++;
        }
    }
    /* the scan itself must have found the header's contents */
    assert_true(functions >= 70);
    assert_true(params >= 40);
    assert_int_equal(missing, 0);
    free(src);
    free(hdr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version_and_errors), cmocka_unit_test(test_csr),
        cmocka_unit_test(test_sampler),            cmocka_unit_test(test_hard_and_mixture),
        cmocka_unit_test(test_freq),               cmocka_unit_test(test_losses),
        cmocka_unit_test(test_every_public_name_has_an_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
