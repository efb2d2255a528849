/* Hostile input to the samplers that keep per-user state or walk the interaction graph: WALK
 * (NEGS_SP_WALK_*) and SRNS (negs_srns_prepare / _candidates / _select, NEGS_SP_SRNS_*).
 * Every call gives its status and a sentence naming the argument; afterwards each handle
 * still gives exactly the results of a twin that never saw the hostile calls. */
#include "test_hostile.h"

enum { NI = 40, NU = 5, ROWS = 4, K = 3 };
/* user 4 has no interactions: its slots all come from the fallback */
static const uint64_t g_indptr[NU + 1] = {0, 3, 6, 8, 12, 12};
static const uint32_t g_idx[12] = {1, 2, 3, 2, 4, 5, 3, 6, 0, 7, 8, 9};
static const uint32_t g_users[ROWS] = {0, 1, 3, 4}, g_rowpos[ROWS] = {20, 21, 22, 23};

static negs_sampler *walker(const negs_csr *t, uint64_t seed)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_WALK, NI, seed);
    assert_non_null(s);
    assert_int_equal(negs_sampler_set_positives(s, t), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 5), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_RESTART, 0.25), NEGS_OK);
    return s;
}

static void test_walk(void **state)
{
    (void)state;
    negs_csr *t = negs_csr_create(NU, NI, g_indptr, g_idx);
    assert_non_null(t);
    negs_sampler *s = walker(t, 11), *twin = walker(t, 11);
    negs_sampler *bare = negs_sampler_create(NEGS_SAMPLER_WALK, NI, 11);
    negs_sampler *uni = negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 11);
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, NI, 11);
    negs_sampler *hard = negs_sampler_create(NEGS_SAMPLER_HARD, NI, 11);
    assert_true(bare && uni && mix && hard);
    uint32_t items[ROWS * K], ref[ROWS * K];
    float lq[ROWS * K], ref_lq[ROWS * K];
    double v = 0;

    H(negs_sampler_sample(bare, 0, ROWS, g_users, g_rowpos, K, items, lq), NEGS_E_STATE, "graph");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 1), NEGS_E_INVALID, "walk_length");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 4), NEGS_E_INVALID, "walk_length");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 101), NEGS_E_INVALID, "walk_length");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 3.5), NEGS_E_INVALID, "walk_length");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, NAN), NEGS_E_INVALID, "walk_length");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, -INFINITY), NEGS_E_INVALID, "walk_length");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_RESTART, -1e-310), NEGS_E_INVALID, "walk_restart");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_RESTART, 1.0000001), NEGS_E_INVALID, "walk_restart");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_RESTART, NAN), NEGS_E_INVALID, "walk_restart");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, -1), NEGS_E_INVALID, "walk_tries");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, 1025), NEGS_E_INVALID, "walk_tries");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, 0.5), NEGS_E_INVALID, "walk_tries");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, INFINITY), NEGS_E_INVALID, "walk_tries");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_FALLBACKS, 0), NEGS_E_INVALID, "read-only");
    H(negs_sampler_set_param(s, NEGS_SP_WALK_REJECTED, 0), NEGS_E_INVALID, "read-only");
    H(negs_sampler_set_param(uni, NEGS_SP_WALK_LENGTH, 3), NEGS_E_UNSUPPORTED, "WALK");
    H(negs_sampler_get_param(uni, NEGS_SP_WALK_FALLBACKS, &v), NEGS_E_UNSUPPORTED, "WALK");
    H(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1), NEGS_E_UNSUPPORTED, "UNIQUE");
    H(negs_sampler_set_param(s, NEGS_SP_EXCLUDE_POSITIVES, 0), NEGS_E_UNSUPPORTED, "WALK");
    H(negs_sampler_set_param(s, NEGS_SP_THREADS, 0), NEGS_E_INVALID, "threads");
    H(negs_sampler_set_weights(s, (const double[NI]){1}, NI), NEGS_E_UNSUPPORTED, "WALK");
    H(negs_sampler_set_support(s, (const uint32_t[]){1, 2}, 2), NEGS_E_UNSUPPORTED, "UNIFORM");
    H(negs_sampler_add(mix, s, 1.0), NEGS_E_UNSUPPORTED, "WALK");
    H(negs_sampler_add(hard, s, 1.0), NEGS_E_UNSUPPORTED, "WALK");
    H(negs_sampler_add(s, uni, 1.0), NEGS_E_INVALID, "WALK");
    H(negs_sampler_logq(s, 0, ROWS, g_users, g_rowpos, ref, K, lq), NEGS_E_UNSUPPORTED, "WALK");
    H(negs_sampler_sample_shared(s, 0, ROWS, g_rowpos, K, items, lq, NULL), NEGS_E_UNSUPPORTED,
      "WALK");

    uint32_t bad_users[ROWS] = {0, 1, NU, 4}, bad_pos[ROWS] = {0, 1, 2, NI};
    H(negs_sampler_sample(NULL, 0, ROWS, g_users, g_rowpos, K, items, lq), NEGS_E_INVALID, "s");
    H(negs_sampler_sample(s, 0, ROWS, NULL, g_rowpos, K, items, lq), NEGS_E_INVALID, "users");
    H(negs_sampler_sample(s, 0, ROWS, bad_users, g_rowpos, K, items, lq), NEGS_E_INVALID, "users[2]");
    H(negs_sampler_sample(s, 0, ROWS, g_users, bad_pos, K, items, lq), NEGS_E_INVALID, "positives[3]");
    H(negs_sampler_sample(s, 0, ROWS, g_users, g_rowpos, 0, items, lq), NEGS_E_INVALID, "k");
    H(negs_sampler_sample(s, 0, 0, g_users, g_rowpos, K, items, lq), NEGS_E_INVALID, "n_rows");
    H(negs_sampler_sample(s, 0, ROWS, g_users, g_rowpos, K, NULL, lq), NEGS_E_INVALID, "out_items");
    H(negs_sampler_sample(s, 0, SIZE_MAX / 2, g_users, g_rowpos, UINT32_MAX, items, lq),
      NEGS_E_INVALID, "overflow");
    /* a user whose interactions and positive cover a tiny catalogue */
    const uint64_t full_ptr[2] = {0, 2};
    negs_csr *full = negs_csr_create(1, 3, full_ptr, (const uint32_t[]){0, 1});
    negs_sampler *tiny = negs_sampler_create(NEGS_SAMPLER_WALK, 3, 1);
    assert_true(full && tiny);
    assert_int_equal(negs_sampler_set_positives(tiny, full), NEGS_OK);
    H(negs_sampler_sample(tiny, 0, 1, (const uint32_t[]){0}, (const uint32_t[]){2}, 1, items, lq),
      NEGS_E_EXHAUSTED, "row 0");
    negs_csr *wide = negs_csr_create(NU, NI + 1, g_indptr, g_idx);
    H(negs_sampler_set_positives(s, wide), NEGS_E_INVALID, "41 items");
    check_cases();

    /* the handle is unchanged: the twin's draws, NaN log q, counters and parameters */
    assert_int_equal(negs_sampler_sample(twin, 7, ROWS, g_users, g_rowpos, K, ref, ref_lq), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 7, ROWS, g_users, g_rowpos, K, items, lq), NEGS_OK);
    assert_memory_equal(items, ref, sizeof ref);
    assert_memory_equal(lq, ref_lq, sizeof lq);
    for (int i = 0; i < ROWS * K; i++) {
        assert_true(isnan(lq[i]));
        assert_true(items[i] < NI && items[i] != g_rowpos[i / K]);
        assert_int_equal(negs_csr_contains(t, g_users[i / K], items[i]), 0);
    }
    double a = 0, b = 0;
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_WALK_FALLBACKS, &a), NEGS_OK);
    assert_int_equal(negs_sampler_get_param(twin, NEGS_SP_WALK_FALLBACKS, &b), NEGS_OK);
    assert_true(a == b && a >= K); /* user 4's slots at least */
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_WALK_LENGTH, &v), NEGS_OK);
    assert_true(v == 5.0);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_WALK_RESTART, &v), NEGS_OK);
    assert_true(v == 0.25);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_WALK_TRIES, &v), NEGS_OK);
    assert_true(v == 8.0);
    negs_sampler_free(tiny);
    negs_csr_free(full);
    negs_csr_free(wide);
    negs_sampler_free(s);
    negs_sampler_free(twin);
    negs_sampler_free(bare);
    negs_sampler_free(uni);
    negs_sampler_free(mix);
    negs_sampler_free(hard);
    negs_csr_free(t);
}

/* ---------------------------------------------------------------- SRNS */

enum { S = 4, R = 3, N = S + R };

static negs_sampler *srns(const negs_csr *t, uint64_t seed)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_SRNS, NI, seed);
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 0);
    assert_true(s && c);
    assert_int_equal(negs_sampler_set_positives(c, t), NEGS_OK);
    assert_int_equal(negs_sampler_add(s, c, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, S), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_REFRESH, R), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_HISTORY, 3), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_WARMUP, 4), NEGS_OK);
    assert_int_equal(negs_srns_prepare(s, NU), NEGS_OK);
    return s;
}

/* Deterministic scores of a step's candidates, from the ids. */
static void scores(const uint32_t *cand, float *sc, float *ps, uint64_t step)
{
    for (int i = 0; i < ROWS * N; i++) sc[i] = (float)((cand[i] * 7 + step * 3) % 11) / 4.0f - 1.0f;
    for (int r = 0; r < ROWS; r++) ps[r] = 0.5f + 0.1f * (float)r;
}

/* One full step (candidates, scores, select) on a handle. */
static void srns_step(negs_sampler *s, uint64_t step, uint32_t *out, double *passed)
{
    uint32_t cand[ROWS * N];
    float sc[ROWS * N], ps[ROWS], lq[ROWS * 2];
    assert_int_equal(negs_srns_candidates(s, step, ROWS, g_users, g_rowpos, cand), N);
    scores(cand, sc, ps, step);
    assert_int_equal(negs_srns_select(s, step, ROWS, g_users, g_rowpos, cand, sc, ps, 2, out, lq),
                     NEGS_OK);
    for (int i = 0; i < ROWS * 2; i++) assert_true(lq[i] == 0.0f && out[i] < NI);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_SRNS_PASSED, passed), NEGS_OK);
}

static void test_srns(void **state)
{
    (void)state;
    negs_csr *t = negs_csr_create(NU, NI, g_indptr, g_idx);
    assert_non_null(t);
    negs_sampler *s = srns(t, 5), *twin = srns(t, 5);
    negs_sampler *bare = negs_sampler_create(NEGS_SAMPLER_SRNS, NI, 5);
    negs_sampler *nochild = negs_sampler_create(NEGS_SAMPLER_SRNS, NI, 5);
    negs_sampler *uni = negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 5);
    negs_sampler *hard = negs_sampler_create(NEGS_SAMPLER_HARD, NI, 5);
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, NI, 5);
    assert_true(bare && nochild && uni && hard && mix);
    assert_int_equal(negs_srns_prepare(nochild, NU), NEGS_OK);
    assert_int_equal(negs_sampler_add(bare, negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 1), 1.0),
                     NEGS_OK);
    uint32_t out[ROWS * S], ref_out[ROWS * 2], cand[ROWS * N];
    float sc[ROWS * N], ps[ROWS], lq[ROWS * S];
    double v = 0, passed = 0, ref_passed = 0;
    /* one good step on both, so that the memory holds something to protect */
    srns_step(s, 1, out, &passed);
    srns_step(twin, 1, ref_out, &ref_passed);

    H(negs_srns_prepare(NULL, NU), NEGS_E_INVALID, "srns");
    H(negs_srns_prepare(uni, NU), NEGS_E_INVALID, "not SRNS");
    H(negs_srns_prepare(s, 0), NEGS_E_INVALID, "n_users");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, 0), NEGS_E_INVALID, "srns_memory");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, 65537), NEGS_E_INVALID, "srns_memory");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, 2.5), NEGS_E_INVALID, "srns_memory");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_REFRESH, -1), NEGS_E_INVALID, "srns_refresh");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_REFRESH, NAN), NEGS_E_INVALID, "srns_refresh");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_HISTORY, 0), NEGS_E_INVALID, "srns_history");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_HISTORY, 256), NEGS_E_INVALID, "srns_history");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_ALPHA, -1e-310), NEGS_E_INVALID, "srns_alpha");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_ALPHA, INFINITY), NEGS_E_INVALID, "srns_alpha");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_WARMUP, NAN), NEGS_E_INVALID, "srns_warmup");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_WARMUP, -1), NEGS_E_INVALID, "srns_warmup");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_TEMPERATURE, 0), NEGS_E_INVALID, "srns_temperature");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_TEMPERATURE, INFINITY), NEGS_E_INVALID, "srns_temperature");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_PASSED, 0), NEGS_E_INVALID, "read-only");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_USERS, NU), NEGS_E_INVALID, "read-only");
    H(negs_sampler_set_param(uni, NEGS_SP_SRNS_MEMORY, 4), NEGS_E_UNSUPPORTED, "SRNS");
    H(negs_sampler_get_param(uni, NEGS_SP_SRNS_PASSED, &v), NEGS_E_UNSUPPORTED, "SRNS");
    H(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1), NEGS_E_UNSUPPORTED, "child");
    H(negs_sampler_add(s, uni, 1.0), NEGS_E_INVALID, "already");
    H(negs_sampler_add(nochild, hard, 1.0), NEGS_E_UNSUPPORTED, "scores");
    H(negs_sampler_add(mix, nochild, 1.0), NEGS_E_UNSUPPORTED, "SRNS");
    H(negs_sampler_sample(s, 1, ROWS, g_users, g_rowpos, K, out, lq), NEGS_E_STATE, "negs_srns_select");
    H(negs_sampler_logq(s, 1, ROWS, g_users, g_rowpos, g_rowpos, 1, lq), NEGS_E_UNSUPPORTED, "SRNS");
    H(negs_sampler_sample_shared(s, 1, ROWS, g_rowpos, K, out, lq, NULL), NEGS_E_UNSUPPORTED, "");

    /* candidates */
    uint32_t bad_users[ROWS] = {0, 1, NU, 4}, bad_pos[ROWS] = {0, 1, 2, NI};
    H(negs_srns_candidates(NULL, 2, ROWS, g_users, g_rowpos, cand), NEGS_E_INVALID, "srns");
    H(negs_srns_candidates(uni, 2, ROWS, g_users, g_rowpos, cand), NEGS_E_INVALID, "not SRNS");
    H(negs_srns_candidates(nochild, 2, ROWS, g_users, g_rowpos, cand), NEGS_E_STATE, "child");
    H(negs_srns_candidates(bare, 2, ROWS, g_users, g_rowpos, cand), NEGS_E_STATE, "negs_srns_prepare");
    H(negs_srns_candidates(s, 2, ROWS, NULL, g_rowpos, cand), NEGS_E_INVALID, "users");
    H(negs_srns_candidates(s, 2, ROWS, g_users, g_rowpos, NULL), NEGS_E_INVALID, "out_items");
    H(negs_srns_candidates(s, 2, 0, g_users, g_rowpos, cand), NEGS_E_INVALID, "n_rows");
    H(negs_srns_candidates(s, 2, SIZE_MAX / 2, g_users, g_rowpos, cand), NEGS_E_INVALID, "overflow");
    H(negs_srns_candidates(s, 2, ROWS, bad_users, g_rowpos, cand), NEGS_E_INVALID, "users[2]");
    H(negs_srns_candidates(s, 2, ROWS, g_users, bad_pos, cand), NEGS_E_INVALID, "positives[3]");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, S + 1), NEGS_OK, "");
    H(negs_srns_candidates(s, 2, ROWS, g_users, g_rowpos, cand), NEGS_E_STATE, "changed");
    H(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, S), NEGS_OK, ""); /* back: the memory fits */

    /* select, on the real candidates of step 2 with one thing wrong at a time */
    assert_int_equal(negs_srns_candidates(s, 2, ROWS, g_users, g_rowpos, cand), N);
    scores(cand, sc, ps, 2);
    H(negs_srns_select(NULL, 2, ROWS, g_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID, "srns");
    H(negs_srns_select(uni, 2, ROWS, g_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID, "not SRNS");
    H(negs_srns_select(s, 2, ROWS, NULL, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID, "users");
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, NULL, sc, ps, 2, out, lq), NEGS_E_INVALID, "cand_items");
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, NULL, ps, 2, out, lq), NEGS_E_INVALID, "cand_scores");
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, sc, NULL, 2, out, lq), NEGS_E_INVALID, "pos_scores");
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, sc, ps, 2, NULL, lq), NEGS_E_INVALID, "out_items");
    H(negs_srns_select(s, 2, 0, g_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID, "n_rows");
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, sc, ps, 0, out, lq), NEGS_E_INVALID, "k");
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, sc, ps, S + 1, out, lq), NEGS_E_INVALID,
      "NEGS_SP_SRNS_MEMORY");
    H(negs_srns_select(s, 2, SIZE_MAX / 4, g_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID,
      "overflow");
    H(negs_srns_select(s, 2, ROWS, bad_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID,
      "users[2]");
    H(negs_srns_select(s, 2, ROWS, g_users, bad_pos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID,
      "positives[3]");
    ps[1] = NAN;
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID,
      "pos_scores[1]");
    ps[1] = 0.6f;
    sc[N + 5] = INFINITY;
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID,
      "cand_scores[12]");
    sc[N + 5] = -1e-40f; /* subnormal: finite, the step goes on below with the real score */
    uint32_t keep = cand[2 * N + 1];
    cand[2 * N + 1] = NI;
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID,
      "cand_items[15]");
    cand[2 * N + 1] = (keep + 1) % NI; /* in range, but not the memory's item */
    H(negs_srns_select(s, 2, ROWS, g_users, g_rowpos, cand, sc, ps, 2, out, lq), NEGS_E_INVALID,
      "slot 1");
    cand[2 * N + 1] = keep;
    check_cases();

    /* the memory is unchanged: step 2 gives the twin's picks and PASSED */
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_SRNS_USERS, &v), NEGS_OK);
    assert_true(v == NU);
    srns_step(s, 2, out, &passed);
    srns_step(twin, 2, ref_out, &ref_passed);
    assert_memory_equal(out, ref_out, sizeof ref_out);
    assert_true(passed == ref_passed);
    srns_step(s, 3, out, &passed);
    srns_step(twin, 3, ref_out, &ref_passed);
    assert_memory_equal(out, ref_out, sizeof ref_out);
    negs_sampler_free(s);
    negs_sampler_free(twin);
    negs_sampler_free(bare);
    negs_sampler_free(nochild);
    negs_sampler_free(uni);
    negs_sampler_free(hard);
    negs_sampler_free(mix);
    negs_csr_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_srns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
