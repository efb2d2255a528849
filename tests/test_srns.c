/* SRNS samplers: selection, passed-over count and memory refresh against a brute-force model
 * of the memory kept by the test, the constructed false-negative case, determinism over thread
 * counts and row splits, exclusion, and bad input with its status and sentence. */
#include <stdio.h>

#include "test_util.h"

static int has(const char *needle)
{
    int ok = strstr(negs_last_error(), needle) != NULL;
    if (!ok) fprintf(stderr, "last error \"%s\" lacks \"%s\"\n", negs_last_error(), needle);
    return ok;
}

static uint64_t rs = 987654321;
static uint32_t urand(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % n);
}
static float frand(void) /* [-2, 2) on a coarse grid: ties happen */
{
    return (float)urand(64) / 16.0f - 2.0f;
}

/* A deterministic "model": the score of (user, item) at a step. */
static float model_score(uint32_t user, uint32_t item, uint64_t step)
{
    uint64_t h = (uint64_t)user * 0x9E3779B97F4A7C15ull ^ (uint64_t)item * 0xC2B2AE3D27D4EB4Full ^
                 step * 0x165667B19E3779F9ull;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (float)(h % 4096) / 1024.0f - 2.0f;
}

typedef struct cfg {
    uint32_t n_items, n_users, S, R, W;
    double alpha, warmup, temp;
} cfg;

/* An SRNS sampler over a UNIFORM child that excludes the users' positives (known may be NULL). */
static negs_sampler *make(const cfg *c, const negs_csr *known, uint64_t seed)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_SRNS, c->n_items, seed);
    negs_sampler *ch = negs_sampler_create(NEGS_SAMPLER_UNIFORM, c->n_items, seed + 1);
    assert_non_null(s);
    assert_non_null(ch);
    if (known) assert_int_equal(negs_sampler_set_positives(ch, known), NEGS_OK);
    assert_int_equal(negs_sampler_add(s, ch, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, c->S), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_REFRESH, c->R), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_HISTORY, c->W), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_ALPHA, c->alpha), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_WARMUP, c->warmup), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_TEMPERATURE, c->temp), NEGS_OK);
    assert_int_equal(negs_srns_prepare(s, c->n_users), NEGS_OK);
    return s;
}

/* ---------------------------------------------------------------- the brute-force model */

#define RMAX 16 /* slots and candidates */
#define HMAX 64 /* records kept per slot (all of them) */

typedef struct ref_user {
    int init;
    uint32_t id[RMAX];
    uint32_t n[RMAX];
    float rec[RMAX][HMAX];
} ref_user;

static float rec_of(float score, float pos)
{
    return (float)(1.0 / (1.0 + exp((double)pos - (double)score)));
}

/* std of the last W - 1 records and p, oldest first, population. */
static double ref_std(const ref_user *u, uint32_t j, uint32_t W, float p)
{
    if (!u->init) return 0.0;
    uint32_t h = u->n[j] < W - 1 ? u->n[j] : W - 1;
    double xs[HMAX + 1];
    for (uint32_t t = 0; t < h; t++) xs[t] = u->rec[j][u->n[j] - h + t];
    xs[h] = p;
    double sum = 0.0;
    for (uint32_t t = 0; t <= h; t++) sum += xs[t];
    double mean = sum / (h + 1), v = 0.0;
    for (uint32_t t = 0; t <= h; t++) v += (xs[t] - mean) * (xs[t] - mean);
    return sqrt(v / (h + 1));
}

/* best-first positions of the k largest val among live, ties to the earlier; returns count */
static uint32_t ref_top(const double *val, const int *live, uint32_t n, uint32_t k, uint32_t *out)
{
    int used[2 * RMAX] = {0};
    uint32_t got = 0;
    for (; got < k; got++) {
        int best = -1;
        for (uint32_t j = 0; j < n; j++)
            if (live[j] && !used[j] && (best < 0 || val[j] > val[best])) best = (int)j;
        if (best < 0) break;
        used[best] = 1;
        out[got] = (uint32_t)best;
    }
    return got;
}

/* One row's pick by the model; returns the passed-over count, or -1 when short. */
static int ref_select(const cfg *c, const ref_user *u, const uint32_t *ci, const float *cs,
                      float ps, int has_pos, uint32_t pos, double alpha_t, uint32_t k,
                      uint32_t *out)
{
    double crit[RMAX], plain[RMAX];
    int live[RMAX];
    for (uint32_t j = 0; j < c->S; j++) {
        live[j] = !(has_pos && ci[j] == pos);
        for (uint32_t i = 0; i < j; i++) live[j] &= ci[i] != ci[j];
        float p = rec_of(cs[j], ps);
        plain[j] = p;
        crit[j] = (double)p + alpha_t * ref_std(u, j, c->W, p);
    }
    uint32_t a[RMAX], b[RMAX];
    if (ref_top(crit, live, c->S, k, a) < k) return -1;
    ref_top(plain, live, c->S, k, b);
    int passed = 0;
    for (uint32_t i = 0; i < k; i++) {
        out[i] = ci[a[i]];
        int in = 0;
        for (uint32_t l = 0; l < k; l++) in |= a[l] == b[i];
        passed += !in;
    }
    return passed;
}

/* The refresh at a cold temperature: keep the S best scores among the distinct, non-positive
 * candidates (then the others by position), in position order; record p. */
static void ref_refresh(const cfg *c, ref_user *u, const uint32_t *ci, const float *cs, float ps,
                        int has_pos, uint32_t pos)
{
    uint32_t n = c->S + c->R, keep[2 * RMAX];
    double val[2 * RMAX];
    int live[2 * RMAX], dead[2 * RMAX];
    for (uint32_t j = 0; j < n; j++) {
        live[j] = !(has_pos && ci[j] == pos);
        for (uint32_t i = 0; i < j; i++) live[j] &= ci[i] != ci[j];
        dead[j] = !live[j];
        val[j] = cs[j];
    }
    uint32_t got = ref_top(val, live, n, c->S, keep);
    for (uint32_t j = 0; j < n && got < c->S; j++) /* fill with the ineligible, by position */
        if (dead[j]) keep[got++] = j;
    for (uint32_t i = 1; i < c->S; i++)
        for (uint32_t l = i; l > 0 && keep[l - 1] > keep[l]; l--) {
            uint32_t t = keep[l];
            keep[l] = keep[l - 1];
            keep[l - 1] = t;
        }
    ref_user nu = {1, {0}, {0}, {{0}}};
    for (uint32_t i = 0; i < c->S; i++) {
        uint32_t j = keep[i];
        nu.id[i] = ci[j];
        if (u->init && j < c->S) {
            nu.n[i] = u->n[j];
            memcpy(nu.rec[i], u->rec[j], sizeof nu.rec[i]);
        }
        assert_true(nu.n[i] < HMAX);
        nu.rec[i][nu.n[i]++] = rec_of(cs[j], ps);
    }
    *u = nu;
}

static negs_csr *random_positives(uint32_t n_users, uint32_t n_items, uint32_t per_user)
{
    uint64_t *indptr = malloc((n_users + 1) * sizeof *indptr);
    uint32_t *idx = malloc((size_t)n_users * per_user * sizeof *idx);
    indptr[0] = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        for (uint32_t j = 0; j < per_user; j++) idx[u * per_user + j] = urand(n_items);
        indptr[u + 1] = indptr[u] + per_user;
    }
    negs_csr *t = negs_csr_create(n_users, n_items, indptr, idx);
    assert_non_null(t);
    free(indptr);
    free(idx);
    return t;
}

/* Random small cases, repeated users in a batch, k from 1 to 3, a cold refresh. */
static void test_against_model(void **state)
{
    (void)state;
    for (int trial = 0; trial < 6; trial++) {
        cfg c = {24 + urand(24), 5, 3 + urand(6), urand(5), 1 + urand(5),
                 trial == 0 ? 0.0 : 0.3 + 0.4 * trial, trial == 2 ? 6.0 : 0.0, 1e-6};
        negs_csr *known = random_positives(c.n_users, c.n_items, 3);
        negs_sampler *s = make(&c, known, 100 + (uint64_t)trial);
        assert_int_equal(negs_sampler_set_param(s, NEGS_SP_THREADS, 1 + trial % 3), NEGS_OK);
        ref_user ref[5];
        memset(ref, 0, sizeof ref);
        uint32_t n = c.S + c.R, users[8], pos[8], cand[8 * 2 * RMAX], out[8 * 3], want[3];
        float sc[8 * 2 * RMAX], ps[8];
        for (uint64_t step = 0; step < 14; step++) {
            size_t rows = 1 + urand(8);
            uint32_t k = 1 + urand(c.S < 3 ? c.S : 3);
            for (size_t r = 0; r < rows; r++) {
                users[r] = urand(c.n_users);
                const uint32_t *row;
                size_t len;
                assert_int_equal(negs_csr_row_items(known, users[r], &row, &len), NEGS_OK);
                pos[r] = row[urand((uint32_t)len)];
                ps[r] = frand();
            }
            assert_int_equal(negs_srns_candidates(s, step, rows, users, pos, cand), (int)n);
            for (size_t r = 0; r < rows; r++) {
                const ref_user *u = &ref[users[r]];
                for (uint32_t j = 0; j < n; j++) {
                    assert_int_equal(negs_csr_contains(known, users[r], cand[r * n + j]), 0);
                    if (j < c.S && u->init) assert_int_equal(cand[r * n + j], u->id[j]);
                    /* distinct within the row, so the cold refresh has no ties either */
                    sc[r * n + j] = frand() + (float)j * 1e-3f;
                }
            }
            float lq[8 * 3];
            int st = negs_srns_select(s, step, rows, users, pos, cand, sc, ps, k, out, lq);
            double ramp = c.warmup > 0 ? (double)step / c.warmup : 1.0;
            double alpha_t = c.alpha * (ramp < 1 ? ramp : 1);
            long passed = 0;
            int short_row = -1;
            for (size_t r = 0; r < rows && short_row < 0; r++) {
                int p = ref_select(&c, &ref[users[r]], cand + r * n, sc + r * n, ps[r], 1, pos[r],
                                   alpha_t, k, want);
                if (p < 0) {
                    short_row = (int)r;
                    break;
                }
                passed += p;
                for (uint32_t i = 0; i < k; i++) {
                    assert_int_equal(out[r * k + i], want[i]);
                    assert_true(lq[r * k + i] == 0.0f);
                }
            }
            if (short_row >= 0) {
                assert_int_equal(st, NEGS_E_EXHAUSTED);
                assert_true(has("fewer than k"));
                continue; /* the memory is unchanged */
            }
            assert_int_equal(st, NEGS_OK);
            double got;
            assert_int_equal(negs_sampler_get_param(s, NEGS_SP_SRNS_PASSED, &got), NEGS_OK);
            assert_int_equal((long)got, passed);
            int seen[5] = {0};
            for (size_t r = 0; r < rows; r++)
                if (!seen[users[r]]) {
                    seen[users[r]] = 1;
                    ref_refresh(&c, &ref[users[r]], cand + r * n, sc + r * n, ps[r], 1, pos[r]);
                }
        }
        negs_sampler_free(s);
        negs_csr_free(known);
    }
}

/* ---------------------------------------------------------------- constructed false negative */

/* Slot 0 scores high and steadily (a likely false negative), slot 1 high and low by turns (a
 * hard true negative), the others low. With R = 0 the memory stays put. */
static void test_false_negative_count(void **state)
{
    (void)state;
    cfg c = {100000, 1, 4, 0, 4, 1.0, 0.0, 1.0};
    negs_sampler *s = make(&c, NULL, 7);
    uint32_t user = 0, cand[4], out, first[4];
    float pos = 0.0f, sc[4];
    double passed;
    for (uint64_t step = 0; step < 8; step++) {
        assert_int_equal(negs_srns_candidates(s, step, 1, &user, NULL, cand), 4);
        if (step == 0) memcpy(first, cand, sizeof first);
        assert_memory_equal(cand, first, sizeof first); /* R = 0: fixed after the first fill */
        sc[0] = 2.0f;
        sc[1] = step % 2 ? -2.0f : 1.8f;
        sc[2] = sc[3] = -3.0f;
        assert_int_equal(negs_srns_select(s, step, 1, &user, NULL, cand, sc, &pos, 1, &out, NULL),
                         NEGS_OK);
        assert_int_equal(negs_sampler_get_param(s, NEGS_SP_SRNS_PASSED, &passed), NEGS_OK);
        if (step == 0 || step % 2) { /* no history yet, or slot 1 low now: the top score wins */
            assert_int_equal(out, cand[0]);
            assert_true(passed == 0.0);
        } else { /* slot 1's variance outweighs slot 0's small lead */
            assert_int_equal(out, cand[1]);
            assert_true(passed == 1.0);
        }
    }
    /* alpha = 0 is plain DNS over the memory: never passes anything over */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_ALPHA, 0.0), NEGS_OK);
    assert_int_equal(negs_srns_candidates(s, 8, 1, &user, NULL, cand), 4);
    sc[1] = 1.8f;
    assert_int_equal(negs_srns_select(s, 8, 1, &user, NULL, cand, sc, &pos, 1, &out, NULL), NEGS_OK);
    assert_int_equal(out, cand[0]);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_SRNS_PASSED, &passed), NEGS_OK);
    assert_true(passed == 0.0);
    /* warm-up: at step 0 of a warm-up alpha_t is 0, so the top score wins again */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_ALPHA, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_WARMUP, 100.0), NEGS_OK);
    assert_int_equal(negs_srns_select(s, 0, 1, &user, NULL, cand, sc, &pos, 1, &out, NULL), NEGS_OK);
    assert_int_equal(out, cand[0]);
    negs_sampler_free(s);
}

/* ---------------------------------------------------------------- memory refresh */

static void test_refresh(void **state)
{
    (void)state;
    /* cold: the S best of S + R stay (fresh ones better here: all replaced) */
    cfg c = {100000, 1, 6, 6, 5, 1.0, 0.0, 1e-6};
    negs_sampler *s = make(&c, NULL, 11);
    uint32_t user = 0, cand[12], cand2[12], out;
    float sc[12], pos = 0.0f;
    assert_int_equal(negs_srns_candidates(s, 0, 1, &user, NULL, cand), 12);
    for (int j = 0; j < 12; j++) sc[j] = j < 6 ? -1.0f - (float)j : 1.0f + (float)j;
    assert_int_equal(negs_srns_select(s, 0, 1, &user, NULL, cand, sc, &pos, 1, &out, NULL), NEGS_OK);
    assert_int_equal(negs_srns_candidates(s, 1, 1, &user, NULL, cand2), 12);
    assert_memory_equal(cand2, cand + 6, 6 * sizeof *cand);
    /* a failed select leaves the memory alone */
    sc[3] = NAN;
    assert_int_equal(negs_srns_select(s, 1, 1, &user, NULL, cand2, sc, &pos, 1, &out, NULL),
                     NEGS_E_INVALID);
    assert_true(has("cand_scores[3] = nan (row 0, candidate 3) is not finite"));
    assert_int_equal(negs_srns_candidates(s, 2, 1, &user, NULL, cand), 12);
    assert_memory_equal(cand, cand2, 6 * sizeof *cand);
    /* prepare clears the memory: a user starts over with S + R fresh draws */
    assert_int_equal(negs_srns_prepare(s, 1), NEGS_OK);
    assert_int_equal(negs_srns_candidates(s, 2, 1, &user, NULL, cand2), 12);
    assert_true(memcmp(cand, cand2, 6 * sizeof *cand) != 0);
    negs_sampler_free(s);

    /* hot: the kept set is close to uniform, so about R / (S + R) of it is fresh */
    cfg h = {100000, 64, 8, 8, 2, 1.0, 0.0, 1e6};
    s = make(&h, NULL, 12);
    uint32_t users[64], c16[64 * 16], o[64], next[64 * 16];
    float s16[64 * 16], p64[64] = {0};
    for (uint32_t u = 0; u < 64; u++) users[u] = u;
    long fresh = 0, total = 0;
    int rounds = negs_test_sanitized() ? 4 : 20;
    for (int t = 0; t < rounds; t++) {
        assert_int_equal(negs_srns_candidates(s, (uint64_t)t, 64, users, NULL, c16), 16);
        for (int j = 0; j < 64 * 16; j++) s16[j] = (j % 16) < 8 ? 1.0f : -1.0f;
        assert_int_equal(negs_srns_select(s, (uint64_t)t, 64, users, NULL, c16, s16, p64, 1, o, NULL),
                         NEGS_OK);
        assert_int_equal(negs_srns_candidates(s, (uint64_t)t + 1, 64, users, NULL, next), 16);
        if (t == 0) continue; /* the first round is all fresh */
        for (int r = 0; r < 64; r++)
            for (int i = 0; i < 8; i++) {
                int from_fresh = 0;
                for (int j = 8; j < 16; j++) from_fresh |= next[r * 16 + i] == c16[r * 16 + j];
                fresh += from_fresh;
                total++;
            }
    }
    double f = (double)fresh / (double)total, sd = sqrt(0.25 / (double)total);
    assert_true(fabs(f - 0.5) < 5 * sd + 0.01);
    negs_sampler_free(s);
}

/* ---------------------------------------------------------------- determinism */

/* Steps of a batch of distinct users (scores from model_score), run whole or split into calls
 * with matching ROW_OFFSET; returns the picks of every step and the sum of PASSED. */
static double run_steps(unsigned threads, size_t split, uint32_t *picks)
{
    cfg c = {3000, 300, 12, 8, 5, 0.8, 0.0, 0.5};
    rs = 4242; /* the same known positives in every run */
    negs_csr *known = random_positives(c.n_users, c.n_items, 10);
    negs_sampler *s = make(&c, known, 2024);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_THREADS, threads), NEGS_OK);
    enum { B = 96, N = 20, K = 2 };
    uint32_t users[B], cand[B * N];
    float sc[B * N], ps[B];
    double passed_sum = 0.0;
    int steps = negs_test_sanitized() ? 5 : 12;
    for (int t = 0; t < steps; t++) {
        for (size_t r = 0; r < B; r++) {
            users[r] = (uint32_t)((r * 7 + (size_t)t * 13) % c.n_users); /* distinct in a step */
            ps[r] = model_score(users[r], 0, (uint64_t)t);
        }
        for (size_t r0 = 0; r0 < B; r0 += split) {
            size_t rows = B - r0 < split ? B - r0 : split;
            assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, (double)r0), NEGS_OK);
            assert_int_equal(negs_srns_candidates(s, (uint64_t)t, rows, users + r0, NULL,
                                                  cand + r0 * N), N);
            for (size_t j = r0 * N; j < (r0 + rows) * N; j++)
                sc[j] = model_score(users[j / N], cand[j], (uint64_t)t);
            assert_int_equal(negs_srns_select(s, (uint64_t)t, rows, users + r0, NULL, cand + r0 * N,
                                              sc + r0 * N, ps + r0, K,
                                              picks + ((size_t)t * B + r0) * K, NULL),
                             NEGS_OK);
            double p;
            assert_int_equal(negs_sampler_get_param(s, NEGS_SP_SRNS_PASSED, &p), NEGS_OK);
            passed_sum += p;
        }
        for (size_t r = 0; r < B; r++)
            for (int i = 0; i < K; i++)
                assert_int_equal(negs_csr_contains(known, users[r], picks[((size_t)t * B + r) * K + i]),
                                 0);
    }
    negs_sampler_free(s);
    negs_csr_free(known);
    return passed_sum;
}

static void test_threads_and_splits(void **state)
{
    (void)state;
    size_t cap = 12 * 96 * 2;
    uint32_t *a = calloc(cap, 4), *b = calloc(cap, 4), *c = calloc(cap, 4);
    double pa = run_steps(1, 96, a), pb = run_steps(3, 96, b), pc = run_steps(2, 40, c);
    assert_memory_equal(a, b, cap * 4);
    assert_memory_equal(a, c, cap * 4);
    assert_true(pa == pb && pa == pc);
    assert_true(pa > 0.0); /* the variance term changed some picks */
    free(a);
    free(b);
    free(c);
}

/* ---------------------------------------------------------------- bad input */

static void test_errors(void **state)
{
    (void)state;
    uint32_t user = 0, cand[8], out[8], bad_user = 5;
    float sc[8] = {0}, pos = 0.0f;
    double v;
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 10, 1);
    assert_int_equal(negs_srns_prepare(u, 3), NEGS_E_INVALID);
    assert_true(has("negs_srns_prepare: the sampler is not SRNS"));
    assert_int_equal(negs_sampler_set_param(u, NEGS_SP_SRNS_ALPHA, 1.0), NEGS_E_UNSUPPORTED);
    assert_true(has("applies to SRNS samplers only"));
    assert_int_equal(negs_srns_candidates(u, 0, 1, &user, NULL, cand), NEGS_E_INVALID);
    assert_true(has("negs_srns_candidates: the sampler is not SRNS"));

    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_SRNS, 10, 1);
    assert_non_null(s);
    assert_int_equal(negs_sampler_get_param(s, NEGS_SP_SRNS_USERS, &v), NEGS_OK);
    assert_true(v == 0.0);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, 0), NEGS_E_INVALID);
    assert_true(has("srns_memory = 0 is not a whole number in 1..65536"));
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_HISTORY, 256), NEGS_E_INVALID);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_ALPHA, -1), NEGS_E_INVALID);
    assert_true(has("srns_alpha = -1 must be finite and >= 0"));
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_TEMPERATURE, 0), NEGS_E_INVALID);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_PASSED, 1), NEGS_E_INVALID);
    assert_true(has("NEGS_SP_SRNS_PASSED is read-only"));
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, 4), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_REFRESH, 4), NEGS_OK);
    assert_int_equal(negs_srns_prepare(s, 0), NEGS_E_INVALID);
    assert_int_equal(negs_srns_prepare(s, 2), NEGS_OK);
    assert_int_equal(negs_srns_candidates(s, 0, 1, &user, NULL, cand), NEGS_E_STATE);
    assert_true(has("has no child (call negs_sampler_add)"));
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, 10, 2);
    assert_int_equal(negs_sampler_add(s, h, 1.0), NEGS_E_UNSUPPORTED);
    assert_true(has("must draw without them"));
    negs_sampler_free(h);
    assert_int_equal(negs_sampler_add(s, u, 1.0), NEGS_OK);
    negs_sampler *u2 = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 10, 3);
    assert_int_equal(negs_sampler_add(s, u2, 1.0), NEGS_E_INVALID);
    assert_true(has("already has its child"));
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, 10, 3);
    negs_sampler *s2 = negs_sampler_create(NEGS_SAMPLER_SRNS, 10, 3);
    assert_int_equal(negs_sampler_add(mix, s2, 1.0), NEGS_E_UNSUPPORTED);
    assert_true(has("an SRNS sampler cannot be a mixture's child"));
    negs_sampler_free(s2);
    negs_sampler_free(mix);
    negs_sampler_free(u2);

    assert_int_equal(negs_sampler_sample(s, 0, 1, &user, NULL, 8, out, NULL), NEGS_E_STATE);
    assert_true(has("call negs_srns_candidates, then negs_srns_select"));
    assert_int_equal(negs_srns_candidates(s, 0, 1, NULL, NULL, cand), NEGS_E_INVALID);
    assert_int_equal(negs_srns_candidates(s, 0, 1, &bad_user, NULL, cand), NEGS_E_INVALID);
    assert_true(has("users[0] = 5 is not below the 2 users of the SRNS memory"));
    assert_int_equal(negs_srns_candidates(s, 0, 0, &user, NULL, cand), NEGS_E_INVALID);
    assert_int_equal(negs_srns_candidates(s, 0, 1, &user, NULL, cand), 8);
    assert_int_equal(negs_srns_select(s, 0, 1, &user, NULL, cand, sc, NULL, 1, out, NULL),
                     NEGS_E_INVALID);
    assert_true(has("pos_scores is NULL"));
    assert_int_equal(negs_srns_select(s, 0, 1, &user, NULL, cand, sc, &pos, 5, out, NULL),
                     NEGS_E_INVALID);
    assert_true(has("k = 5 exceeds NEGS_SP_SRNS_MEMORY = 4"));
    assert_int_equal(negs_srns_select(s, 0, 1, &user, NULL, cand, sc, &pos, 0, out, NULL),
                     NEGS_E_INVALID);
    float inf = INFINITY;
    assert_int_equal(negs_srns_select(s, 0, 1, &user, NULL, cand, sc, &inf, 1, out, NULL),
                     NEGS_E_INVALID);
    uint32_t keep = cand[6];
    cand[6] = 10;
    assert_int_equal(negs_srns_select(s, 0, 1, &user, NULL, cand, sc, &pos, 1, out, NULL),
                     NEGS_E_INVALID);
    assert_true(has("cand_items[6] = 10 is not below n_items = 10"));
    cand[6] = keep;
    uint32_t positive = cand[0];
    assert_int_equal(negs_srns_select(s, 0, 1, &user, &positive, cand, sc, &pos, 1, out, NULL),
                     NEGS_OK);
    /* all scores tie: the first distinct slot that is not the row's positive */
    uint32_t want = 4;
    for (uint32_t j = 0; j < 4 && want == 4; j++) {
        int rep = cand[j] == positive;
        for (uint32_t i = 0; i < j; i++) rep |= cand[i] == cand[j];
        if (!rep) want = j;
    }
    if (want < 4) assert_int_equal(out[0], cand[want]);
    assert_true(out[0] != positive); /* the row's positive is never picked */
    assert_int_equal(negs_srns_candidates(s, 1, 1, &user, NULL, cand), 8);
    cand[2] = (cand[2] + 1) % 10;
    assert_int_equal(negs_srns_select(s, 1, 1, &user, NULL, cand, sc, &pos, 1, out, NULL),
                     NEGS_E_INVALID);
    assert_true(has("is not slot 2 of the user's memory"));
    /* a memory of one repeated id (R = 0 keeps what the first call gave): too few to pick */
    negs_sampler *s3 = negs_sampler_create(NEGS_SAMPLER_SRNS, 10, 4);
    assert_int_equal(negs_sampler_add(s3, negs_sampler_create(NEGS_SAMPLER_UNIFORM, 10, 5), 1), 0);
    assert_int_equal(negs_sampler_set_param(s3, NEGS_SP_SRNS_MEMORY, 4), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s3, NEGS_SP_SRNS_REFRESH, 0), NEGS_OK);
    assert_int_equal(negs_srns_prepare(s3, 1), NEGS_OK);
    uint32_t same[4] = {3, 3, 3, 3};
    assert_int_equal(negs_srns_select(s3, 0, 1, &user, NULL, same, sc, &pos, 1, out, NULL),
                     NEGS_OK); /* a new user: any ids */
    assert_int_equal(out[0], 3);
    assert_int_equal(negs_srns_candidates(s3, 1, 1, &user, NULL, cand), 4);
    assert_memory_equal(cand, same, sizeof same);
    assert_int_equal(negs_srns_select(s3, 1, 1, &user, NULL, cand, sc, &pos, 2, out, NULL),
                     NEGS_E_EXHAUSTED);
    assert_true(has("row 0 (user 0) has 1 distinct eligible memory items, fewer than k = 2"));
    negs_sampler_free(s3);
    /* the shape changed after prepare */
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_SRNS_HISTORY, 3), NEGS_OK);
    assert_int_equal(negs_srns_candidates(s, 0, 1, &user, NULL, cand), NEGS_E_STATE);
    assert_true(has("call negs_srns_prepare again"));
    assert_int_equal(negs_sampler_logq(s, 0, 1, &user, NULL, &user, 1, sc), NEGS_E_UNSUPPORTED);
    negs_sampler_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_model),
        cmocka_unit_test(test_false_negative_count),
        cmocka_unit_test(test_refresh),
        cmocka_unit_test(test_threads_and_splits),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
