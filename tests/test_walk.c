/* WALK samplers: the exact distribution of a slot (walks computed by enumeration over the
 * graph, then the retries and the uniform fallback) against empirical frequencies by
 * chi-square, positives never returned, restart 1 / walk length / tries edge cases, isolated
 * and all-positive users with the fallback counters, determinism over threads and row splits,
 * and every bad input with its status and sentence. */
#include <stdio.h>

#include "test_util.h"

static int has(const char *needle)
{
    int ok = strstr(negs_last_error(), needle) != NULL;
    if (!ok) fprintf(stderr, "last error \"%s\" lacks \"%s\"\n", negs_last_error(), needle);
    return ok;
}

/* A table from rows given as -1-terminated lists. */
static negs_csr *table(uint32_t n_users, uint32_t n_items, const int *const *rows)
{
    uint64_t indptr[64] = {0};
    uint32_t idx[1024];
    uint64_t nnz = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        for (const int *p = rows[u]; *p >= 0; p++) idx[nnz++] = (uint32_t)*p;
        indptr[u + 1] = nnz;
    }
    negs_csr *t = negs_csr_create(n_users, n_items, indptr, idx);
    assert_non_null(t);
    return t;
}

static negs_sampler *walker(negs_csr *g, uint32_t n_items, uint64_t seed, double length,
                            double restart, double tries)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_WALK, n_items, seed);
    assert_non_null(s);
    assert_int_equal(negs_sampler_set_positives(s, g), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, length), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_RESTART, restart), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, tries), NEGS_OK);
    return s;
}

static double param(const negs_sampler *s, int p)
{
    double v = -1.0;
    assert_int_equal(negs_sampler_get_param(s, p, &v), NEGS_OK);
    return v;
}

/* ---------------------------------------------------------------- the reference */

/* The small graph of the distribution tests: 6 users, 10 items, one isolated user (5). */
static const int g0[] = {0, 1, 2, -1}, g1[] = {1, 3, 4, -1}, g2[] = {2, 4, 5, 6, -1},
                 g3[] = {6, 7, -1}, g4[] = {0, 7, 8, 9, -1}, g5[] = {-1};
static const int *const small_rows[] = {g0, g1, g2, g3, g4, g5};
#define SU 6
#define SI 10

/* P(a walk of `length` hops from user u ends on item j), by propagating the exact
 * distribution over nodes hop by hop (the sum over every path of its probability). */
static void walk_dist(const negs_csr *g, uint32_t u, uint32_t length, double restart,
                      double *item_p)
{
    uint32_t nu = negs_csr_n_users(g), ni = negs_csr_n_items(g);
    double pu[64] = {0}, pi[64];
    pu[u] = 1.0;
    for (uint32_t h = 0; h < length; h += 2) {
        for (uint32_t j = 0; j < ni; j++) pi[j] = 0.0;
        for (uint32_t v = 0; v < nu; v++) {
            const uint32_t *it;
            size_t d;
            assert_int_equal(negs_csr_row_items(g, v, &it, &d), NEGS_OK);
            for (size_t x = 0; x < d; x++) pi[it[x]] += pu[v] / (double)d;
        }
        if (h + 1 == length) break;
        /* item -> user: back to u with probability restart, else uniform over its users */
        for (uint32_t v = 0; v < nu; v++) pu[v] = 0.0;
        pu[u] = restart;
        for (uint32_t j = 0; j < ni; j++) {
            uint32_t d = 0;
            for (uint32_t v = 0; v < nu; v++) d += (uint32_t)negs_csr_contains(g, v, j);
            for (uint32_t v = 0; v < nu; v++)
                if (negs_csr_contains(g, v, j)) pu[v] += (1.0 - restart) * pi[j] / d;
        }
    }
    for (uint32_t j = 0; j < ni; j++) item_p[j] = pi[j];
}

/* The slot's distribution: walks until one ends on an eligible item, at most `tries`, then the
 * uniform fallback. a = P(one walk succeeds); P(j) = P_walk(j) (1 - (1 - a)^T) / a +
 * (1 - a)^T / m. Returns the fallback probability (1 - a)^T; *a_out = a. */
static double slot_dist(const negs_csr *g, uint32_t u, int has_pos, uint32_t pos,
                        uint32_t length, double restart, uint32_t tries, double *p, double *a_out)
{
    uint32_t ni = negs_csr_n_items(g);
    double pw[64], a = 0.0, m = 0.0;
    int elig[64];
    walk_dist(g, u, length, restart, pw);
    size_t deg;
    const uint32_t *it;
    assert_int_equal(negs_csr_row_items(g, u, &it, &deg), NEGS_OK);
    for (uint32_t j = 0; j < ni; j++) {
        elig[j] = !negs_csr_contains(g, u, j) && !(has_pos && j == pos);
        if (elig[j]) {
            a += pw[j];
            m += 1.0;
        }
    }
    if (deg == 0) a = 0.0, tries = 0; /* an isolated user goes straight to the fallback */
    double fall = pow(1.0 - a, (double)tries);
    for (uint32_t j = 0; j < ni; j++)
        p[j] = elig[j] ? (a > 0.0 ? pw[j] * (1.0 - fall) / a : 0.0) + fall / m : 0.0;
    *a_out = a;
    return fall;
}

/* Draws n_rows x k slots for user u (positive pos) and compares them with slot_dist. */
static void check_distribution(uint32_t u, uint32_t pos, uint32_t length, double restart,
                               uint32_t tries, uint64_t seed)
{
    negs_csr *g = table(SU, SI, small_rows);
    negs_sampler *s = walker(g, SI, seed, length, restart, tries);
    size_t n_rows = negs_test_sanitized() ? 400 : 4000;
    uint32_t k = 25;
    uint32_t *users = malloc(n_rows * sizeof *users), *pos_arr = malloc(n_rows * sizeof *pos_arr);
    uint32_t *out = malloc(n_rows * k * sizeof *out);
    float *lq = malloc(n_rows * k * sizeof *lq);
    for (size_t r = 0; r < n_rows; r++) users[r] = u, pos_arr[r] = pos;
    double obs[SI] = {0}, p[SI], a;
    size_t draws = 0, fallbacks = 0;
    double rejected = 0.0;
    for (uint64_t step = 0; step < 2; step++) {
        assert_int_equal(negs_sampler_sample(s, step, n_rows, users, pos_arr, k, out, lq), NEGS_OK);
        for (size_t i = 0; i < n_rows * k; i++) {
            assert_true(out[i] < SI);
            assert_true(isnan(lq[i]));
            obs[out[i]] += 1.0;
        }
        draws += n_rows * k;
        fallbacks += (size_t)param(s, NEGS_SP_WALK_FALLBACKS);
        rejected += param(s, NEGS_SP_WALK_REJECTED);
    }
    double fall = slot_dist(g, u, 1, pos, length, restart, tries, p, &a);
    double exp_[SI];
    for (uint32_t j = 0; j < SI; j++) {
        exp_[j] = p[j] * (double)draws;
        if (p[j] == 0.0) assert_true(obs[j] == 0.0); /* positives and the row's positive */
    }
    double pv = negs_test_chi2_p(obs, exp_, SI);
    if (pv < 1e-4) {
        fprintf(stderr, "user %u pos %u L %u r %g T %u: p = %g\n", u, pos, length, restart, tries, pv);
        for (uint32_t j = 0; j < SI; j++) fprintf(stderr, "  item %u obs %g exp %g\n", j, obs[j], exp_[j]);
    }
    assert_true(pv >= 1e-4);
    /* fallbacks ~ Binomial(draws, fall): within 5 sigma (+1 for fall = 0) */
    double mu = fall * (double)draws, sd = sqrt((double)draws * fall * (1.0 - fall));
    assert_true(fabs((double)fallbacks - mu) <= 5.0 * sd + 1.0);
    /* rejected walks per slot: sum over t = 1..T of (1 - a)^t */
    double er = 0.0;
    for (uint32_t t = 1; t <= tries; t++) er += pow(1.0 - a, (double)t);
    if (negs_csr_row_size(g, u) == 0) er = 0.0;
    er *= (double)draws;
    assert_true(fabs(rejected - er) <= 0.05 * er + 1.0);
    free(users);
    free(pos_arr);
    free(out);
    free(lq);
    negs_sampler_free(s);
    negs_csr_free(g);
}

static void test_distribution_3hop(void **state)
{
    (void)state;
    check_distribution(0, 1, 3, 0.0, 8, 11);  /* many walks end on positives */
    check_distribution(1, 3, 3, 0.0, 1, 12);  /* one try: a large fallback share */
    check_distribution(2, 9, 3, 0.25, 2, 13); /* restart, positive outside the user's row */
    check_distribution(3, 6, 3, 0.5, 4, 14);
}

static void test_distribution_longer(void **state)
{
    (void)state;
    check_distribution(0, 2, 5, 0.0, 3, 21);
    check_distribution(4, 0, 7, 0.25, 2, 22);
    check_distribution(3, 7, 99, 0.125, 1, 23); /* the longest walk */
}

/* Restart 1: every walk returns to the user's own items, so every slot is the fallback's;
 * tries 0 is the fallback alone; an isolated user goes straight to it (no walk). */
static void test_fallback_edges(void **state)
{
    (void)state;
    negs_csr *g = table(SU, SI, small_rows);
    uint32_t users[200], out[200 * 10];
    for (int r = 0; r < 200; r++) users[r] = (uint32_t)(r % SU);
    negs_sampler *s = walker(g, SI, 5, 5, 1.0, 3);
    assert_int_equal(negs_sampler_sample(s, 0, 200, users, NULL, 10, out, NULL), NEGS_OK);
    double fb = param(s, NEGS_SP_WALK_FALLBACKS), rj = param(s, NEGS_SP_WALK_REJECTED);
    assert_true(fb == 2000.0);
    /* 5 users with interactions x 3 tries per slot; the isolated user walks no walk */
    size_t walked = 0;
    for (int r = 0; r < 200; r++) walked += users[r] != 5;
    assert_true(rj == (double)(walked * 10 * 3));
    for (int i = 0; i < 2000; i++) assert_int_equal(negs_csr_contains(g, users[i / 10], out[i]), 0);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, 0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 1, 200, users, NULL, 10, out, NULL), NEGS_OK);
    assert_true(param(s, NEGS_SP_WALK_FALLBACKS) == 2000.0);
    assert_true(param(s, NEGS_SP_WALK_REJECTED) == 0.0);
    negs_sampler_free(s);

    /* the isolated user's slots: uniform over the items but the row's positive */
    s = walker(g, SI, 6, 3, 0.0, 8);
    size_t n = negs_test_sanitized() ? 2000 : 20000;
    uint32_t *u5 = malloc(n * sizeof *u5), *p5 = malloc(n * sizeof *p5), *o = malloc(n * 4 * sizeof *o);
    for (size_t r = 0; r < n; r++) u5[r] = 5, p5[r] = 3;
    assert_int_equal(negs_sampler_sample(s, 0, n, u5, p5, 4, o, NULL), NEGS_OK);
    assert_true(param(s, NEGS_SP_WALK_FALLBACKS) == (double)(n * 4));
    assert_true(param(s, NEGS_SP_WALK_REJECTED) == 0.0);
    double obs[SI] = {0}, ex[SI];
    for (size_t i = 0; i < n * 4; i++) obs[o[i]] += 1.0;
    for (int j = 0; j < SI; j++) ex[j] = j == 3 ? 0.0 : (double)(n * 4) / 9.0;
    assert_true(negs_test_chi2_p(obs, ex, SI) >= 1e-4);
    free(u5);
    free(p5);
    free(o);
    negs_sampler_free(s);
    negs_csr_free(g);
}

/* A user whose walks can only reach its own items (its component is complete) always falls
 * back, to the items outside the component; a user with every item, or every item but the
 * row's positive, has none: EXHAUSTED naming the row. */
static void test_all_positive_users(void **state)
{
    (void)state;
    static const int a0[] = {0, 1, 2, -1}, a1[] = {0, 1, 2, -1}, a2[] = {3, 4, -1},
                     a3[] = {0, 1, 2, 3, 4, 5, -1}, a4[] = {0, 1, 2, 3, 5, -1};
    static const int *const rows[] = {a0, a1, a2, a3, a4};
    negs_csr *g = table(5, 6, rows);
    /* users 0 and 1 share items 0..2 only; user 3 has all 6 items, but it links the components:
     * keep it out of the first graph */
    static const int *const rows_a[] = {a0, a1, a2};
    negs_csr *ga = table(3, 6, rows_a);
    negs_sampler *s = walker(ga, 6, 3, 3, 0.0, 4);
    uint32_t users[50], out[50 * 6];
    for (int r = 0; r < 50; r++) users[r] = (uint32_t)(r & 1);
    assert_int_equal(negs_sampler_sample(s, 0, 50, users, NULL, 6, out, NULL), NEGS_OK);
    assert_true(param(s, NEGS_SP_WALK_FALLBACKS) == 300.0);
    assert_true(param(s, NEGS_SP_WALK_REJECTED) == 1200.0);
    for (int i = 0; i < 300; i++) assert_true(out[i] >= 3);
    negs_sampler_free(s);
    negs_csr_free(ga);

    s = walker(g, 6, 3, 3, 0.0, 4);
    uint32_t u3[3] = {0, 3, 1}, pos[3] = {1, 0, 2};
    assert_fails_with(negs_sampler_sample(s, 0, 3, u3, pos, 2, out, NULL), NEGS_E_EXHAUSTED);
    assert_true(has("row 1 (user 3, positive 0) has no eligible item"));
    uint32_t u4[2] = {0, 4}, pos4[2] = {1, 4};
    assert_fails_with(negs_sampler_sample(s, 0, 2, u4, pos4, 2, out, NULL), NEGS_E_EXHAUSTED);
    assert_true(has("row 1 (user 4, positive 4)"));
    pos4[1] = 0; /* now item 4 is eligible, and the only one */
    assert_int_equal(negs_sampler_sample(s, 0, 2, u4, pos4, 2, out, NULL), NEGS_OK);
    assert_int_equal(out[2], 4);
    assert_int_equal(out[3], 4);
    negs_sampler_free(s);
    negs_csr_free(g);
}

/* ---------------------------------------------------------------- random graphs */

static uint64_t rs = 99;
static uint32_t urand(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % n);
}

/* n_users users with 0..max_deg random items (user 0 isolated, user 1 with all but 2). */
static negs_csr *random_graph(uint32_t n_users, uint32_t n_items, uint32_t max_deg)
{
    uint64_t *indptr = calloc(n_users + 1, sizeof *indptr);
    uint32_t *idx = malloc((size_t)n_users * n_items * sizeof *idx);
    uint64_t nnz = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        uint32_t d = u == 0 ? 0 : u == 1 ? n_items - 2 : urand(max_deg + 1);
        for (uint32_t x = 0; x < d; x++) idx[nnz++] = u == 1 ? x + 2 : urand(n_items);
        indptr[u + 1] = nnz;
    }
    negs_csr *t = negs_csr_create(n_users, n_items, indptr, idx);
    assert_non_null(t);
    free(indptr);
    free(idx);
    return t;
}

static void test_positives_never_returned(void **state)
{
    (void)state;
    const uint32_t nu = 60, ni = 90, n = 300, k = 16;
    negs_csr *g = random_graph(nu, ni, 40);
    uint32_t *users = malloc(n * sizeof *users), *pos = malloc(n * sizeof *pos);
    uint32_t *out = malloc(n * k * sizeof *out);
    static const double lengths[] = {3, 5, 9}, restarts[] = {0.0, 0.3, 1.0}, tries[] = {0, 1, 8};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 3; c++) {
                negs_sampler *s = walker(g, ni, (uint64_t)(a * 9 + b * 3 + c), lengths[a],
                                         restarts[b], tries[c]);
                for (uint32_t r = 0; r < n; r++) {
                    users[r] = urand(nu);
                    pos[r] = urand(ni);
                    if (users[r] == 1 && pos[r] >= 2) pos[r] = urand(2); /* keep one item */
                }
                assert_int_equal(negs_sampler_sample(s, 7, n, users, pos, k, out, NULL), NEGS_OK);
                for (uint32_t i = 0; i < n * k; i++) {
                    uint32_t r = i / k;
                    assert_true(out[i] < ni);
                    assert_int_equal(negs_csr_contains(g, users[r], out[i]), 0);
                    assert_true(out[i] != pos[r]);
                }
                negs_sampler_free(s);
            }
    free(users);
    free(pos);
    free(out);
    negs_csr_free(g);
}

/* Two components: with enough tries every walk negative stays in the user's component
 * (graph-local, unlike a uniform draw); only fallbacks may leave it. */
static void test_walks_stay_local(void **state)
{
    (void)state;
    const uint32_t nu = 40, ni = 60, n = 200, k = 8;
    uint64_t indptr[41];
    uint32_t idx[40 * 12];
    uint64_t nnz = 0;
    indptr[0] = 0;
    for (uint32_t u = 0; u < nu; u++) {
        uint32_t base = u < nu / 2 ? 0 : ni / 2;
        for (uint32_t x = 0; x < 6; x++) idx[nnz++] = base + urand(ni / 2);
        indptr[u + 1] = nnz;
    }
    negs_csr *g = negs_csr_create(nu, ni, indptr, idx);
    assert_non_null(g);
    negs_sampler *s = walker(g, ni, 8, 3, 0.0, 64);
    uint32_t users[200], out[200 * 8];
    for (uint32_t r = 0; r < n; r++) users[r] = urand(nu);
    assert_int_equal(negs_sampler_sample(s, 0, n, users, NULL, k, out, NULL), NEGS_OK);
    assert_true(param(s, NEGS_SP_WALK_FALLBACKS) == 0.0);
    for (uint32_t i = 0; i < n * k; i++)
        assert_int_equal(out[i] < ni / 2, users[i / k] < nu / 2);
    negs_sampler_free(s);
    negs_csr_free(g);
}

/* Threads 1, 2, 3, 8 and a split of the rows over calls (ROW_OFFSET) give the same items and
 * the same counters; a different seed or step gives different ones. */
static void test_determinism(void **state)
{
    (void)state;
    const uint32_t nu = 50, ni = 70, n = 257, k = 9;
    negs_csr *g = random_graph(nu, ni, 30);
    uint32_t users[257], pos[257], ref[257 * 9], out[257 * 9];
    for (uint32_t r = 0; r < n; r++) {
        users[r] = urand(nu);
        pos[r] = users[r] == 1 ? 0 : urand(ni);
    }
    negs_sampler *s = walker(g, ni, 42, 5, 0.2, 3);
    assert_int_equal(negs_sampler_sample(s, 3, n, users, pos, k, ref, NULL), NEGS_OK);
    double fb = param(s, NEGS_SP_WALK_FALLBACKS), rj = param(s, NEGS_SP_WALK_REJECTED);
    assert_true(fb > 0.0 && rj > 0.0);
    static const double threads[] = {2, 3, 8, 1};
    for (int t = 0; t < 4; t++) {
        assert_int_equal(negs_sampler_set_param(s, NEGS_SP_THREADS, threads[t]), NEGS_OK);
        memset(out, 0xff, sizeof out);
        assert_int_equal(negs_sampler_sample(s, 3, n, users, pos, k, out, NULL), NEGS_OK);
        assert_memory_equal(out, ref, sizeof out);
        assert_true(param(s, NEGS_SP_WALK_FALLBACKS) == fb);
        assert_true(param(s, NEGS_SP_WALK_REJECTED) == rj);
    }
    /* rows [0, 100) and [100, 257) in two calls */
    memset(out, 0xff, sizeof out);
    assert_int_equal(negs_sampler_sample(s, 3, 100, users, pos, k, out, NULL), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, 100), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 3, n - 100, users + 100, pos + 100, k, out + 100 * k,
                                         NULL), NEGS_OK);
    assert_memory_equal(out, ref, sizeof out);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, 0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 4, n, users, pos, k, out, NULL), NEGS_OK);
    assert_true(memcmp(out, ref, sizeof out) != 0);
    negs_sampler_free(s);
    /* the table may be freed first: the sampler keeps it (and its transpose) */
    s = walker(g, ni, 42, 5, 0.2, 3);
    negs_csr_free(g);
    assert_int_equal(negs_sampler_sample(s, 3, n, users, pos, k, out, NULL), NEGS_OK);
    assert_memory_equal(out, ref, sizeof out);
    negs_sampler_free(s);
}

/* ---------------------------------------------------------------- bad input */

static void test_params(void **state)
{
    (void)state;
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_WALK, 10, 1);
    assert_non_null(s);
    assert_true(param(s, NEGS_SP_WALK_LENGTH) == 3.0);
    assert_true(param(s, NEGS_SP_WALK_RESTART) == 0.0);
    assert_true(param(s, NEGS_SP_WALK_TRIES) == 8.0);
    assert_true(param(s, NEGS_SP_WALK_FALLBACKS) == 0.0);
    assert_true(param(s, NEGS_SP_WALK_REJECTED) == 0.0);
    static const double bad_len[] = {1, 2, 4, 0, -3, 101, 3.5, NAN, INFINITY};
    for (int i = 0; i < 9; i++) {
        assert_fails_with(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, bad_len[i]), NEGS_E_INVALID);
        assert_true(has("walk_length"));
    }
    assert_true(param(s, NEGS_SP_WALK_LENGTH) == 3.0);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 99), NEGS_OK);
    static const double bad_r[] = {-0.1, 1.5, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        assert_fails_with(negs_sampler_set_param(s, NEGS_SP_WALK_RESTART, bad_r[i]), NEGS_E_INVALID);
        assert_true(has("walk_restart"));
    }
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_RESTART, 1.0), NEGS_OK);
    assert_true(param(s, NEGS_SP_WALK_RESTART) == 1.0);
    static const double bad_t[] = {-1, 1025, 2.5, NAN};
    for (int i = 0; i < 4; i++) {
        assert_fails_with(negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, bad_t[i]), NEGS_E_INVALID);
        assert_true(has("walk_tries"));
    }
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, 1024), NEGS_OK);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_WALK_FALLBACKS, 0), NEGS_E_INVALID);
    assert_true(has("NEGS_SP_WALK_FALLBACKS is read-only"));
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_WALK_REJECTED, 0), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(s, 49, 0), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1), NEGS_E_UNSUPPORTED);
    assert_true(has("UNIQUE is not supported on a WALK sampler"));
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0), NEGS_OK);
    assert_fails_with(negs_sampler_set_param(s, NEGS_SP_EXCLUDE_POSITIVES, 0), NEGS_E_UNSUPPORTED);
    assert_true(has("always excludes"));
    double w[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_fails_with(negs_sampler_set_weights(s, w, 10), NEGS_E_UNSUPPORTED);
    assert_true(has("WALK sampler takes no weights"));
    negs_sampler_free(s);

    /* the walk parameters belong to WALK samplers */
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 10, 1);
    assert_fails_with(negs_sampler_set_param(u, NEGS_SP_WALK_LENGTH, 3), NEGS_E_UNSUPPORTED);
    assert_true(has("NEGS_SP_WALK_LENGTH applies to WALK samplers only"));
    double v;
    assert_fails_with(negs_sampler_get_param(u, NEGS_SP_WALK_FALLBACKS, &v), NEGS_E_UNSUPPORTED);
    negs_sampler_free(u);
}

static void test_bad_input(void **state)
{
    (void)state;
    negs_csr *g = table(SU, SI, small_rows);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_WALK, SI, 1);
    uint32_t users[2] = {0, 1}, pos[2] = {0, 1}, out[8];
    float lq[8];
    assert_fails_with(negs_sampler_sample(s, 0, 2, users, pos, 4, out, lq), NEGS_E_STATE);
    assert_true(has("no interaction graph"));
    negs_csr *g11 = negs_csr_create(1, SI + 1, (const uint64_t[]){0, 0}, NULL);
    assert_fails_with(negs_sampler_set_positives(s, g11), NEGS_E_INVALID);
    negs_csr_free(g11);
    assert_int_equal(negs_sampler_set_positives(s, g), NEGS_OK);
    assert_fails_with(negs_sampler_sample(s, 0, 2, NULL, pos, 4, out, lq), NEGS_E_INVALID);
    assert_true(has("users is NULL but a WALK sampler"));
    users[1] = SU;
    assert_fails_with(negs_sampler_sample(s, 0, 2, users, pos, 4, out, lq), NEGS_E_INVALID);
    assert_true(has("users[1] = 6"));
    users[1] = 1;
    pos[0] = SI;
    assert_fails_with(negs_sampler_sample(s, 0, 2, users, pos, 4, out, lq), NEGS_E_INVALID);
    assert_true(has("positives[0] = 10"));
    pos[0] = 0;
    assert_fails_with(negs_sampler_sample(s, 0, 2, users, pos, 0, out, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample(s, 0, 0, users, pos, 4, out, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample(s, 0, 2, users, pos, 4, NULL, lq), NEGS_E_INVALID);
    assert_int_equal(negs_sampler_sample(s, 0, 2, users, pos, 4, out, lq), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 0, 2, users, NULL, 4, out, NULL), NEGS_OK);
    /* no log q of its own, no shared draws, not a child */
    uint32_t items[2] = {3, 4};
    float q[2];
    assert_fails_with(negs_sampler_logq(s, 0, 2, users, pos, items, 4, q), NEGS_E_UNSUPPORTED);
    assert_true(has("the sampler is WALK"));
    assert_fails_with(negs_sampler_sample_shared(s, 0, 2, pos, 4, out, lq, NULL), NEGS_E_UNSUPPORTED);
    assert_true(has("WALK walks from one row's user"));
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, SI, 1);
    negs_sampler *hard = negs_sampler_create(NEGS_SAMPLER_HARD, SI, 1);
    assert_fails_with(negs_sampler_add(mix, s, 1.0), NEGS_E_UNSUPPORTED);
    assert_true(has("a WALK sampler cannot be a child"));
    assert_fails_with(negs_sampler_add(hard, s, 1.0), NEGS_E_UNSUPPORTED);
    negs_sampler_free(mix);
    negs_sampler_free(hard);
    assert_fails_with(negs_sampler_select(s, 0, 1, 2, items, (const float[]){0, 1}, NULL, 1, out,
                                          NULL), NEGS_E_INVALID);
    /* a new graph replaces the old one; none at all is STATE again */
    static const int *const rows2[] = {g1, g0};
    negs_csr *gb = table(2, SI, rows2);
    assert_int_equal(negs_sampler_set_positives(s, gb), NEGS_OK);
    negs_csr_free(gb);
    assert_int_equal(negs_sampler_sample(s, 0, 2, users, NULL, 4, out, NULL), NEGS_OK);
    for (int i = 0; i < 8; i++) assert_int_equal(negs_csr_contains(g, 1 - i / 4, out[i]), 0);
    assert_int_equal(negs_sampler_set_positives(s, NULL), NEGS_OK);
    assert_fails_with(negs_sampler_sample(s, 0, 2, users, NULL, 4, out, NULL), NEGS_E_STATE);
    negs_sampler_free(s);
    negs_csr_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distribution_3hop),
        cmocka_unit_test(test_distribution_longer),
        cmocka_unit_test(test_fallback_edges),
        cmocka_unit_test(test_all_positive_users),
        cmocka_unit_test(test_positives_never_returned),
        cmocka_unit_test(test_walks_stay_local),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
