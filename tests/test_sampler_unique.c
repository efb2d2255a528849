/* UNIQUE weighted rows: the handle's fast tables (each item's w, the search hints over the
 * prefix sums, the per-user removed weights) give exactly the bits of the plain path (an exp
 * per weight, galloping searches, a pass over the removed items per row), which is the path a
 * handle without those tables takes. Random catalogues (zero weights, heavy items that are
 * certain, several alphas), users with few and many positives, rows whose positive is or is
 * not one of the user's, exclusion on and off, CATEGORY supports, log q, 1 and 3 threads. */
#include <stdio.h>

#include "test_util.h"

#include "core/csr.h"
#include "sampler/sampler_internal.h"

static uint64_t rs = 0x2545f4914f6cdd1dull;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % n);
}

/* The tables' fast parts dropped: the handle then draws by the plain path. */
static void drop_fast_tables(negs_sampler *s)
{
    free(s->t.wd);
    free(s->t.hint);
    free(s->t.u_run);
    free(s->t.ur_lo);
    free(s->t.ur_hi);
    free(s->t.ur_w);
    free(s->t.ur_mf);
    free(s->t.ur_ml);
    s->t.wd = NULL;
    s->t.hint = NULL;
    s->t.n_hint = 0;
    s->t.u_run = NULL;
    s->t.ur_lo = s->t.ur_hi = NULL;
    s->t.ur_w = s->t.ur_mf = s->t.ur_ml = NULL;
}

typedef struct ucase {
    uint32_t n_items, n_users, k, n_cat;
    double alpha, zero_share, heavy;
    int exclude, threads;
} ucase;

static negs_sampler *make(const ucase *c, const double *w, const negs_csr *pos, const uint32_t *cat)
{
    negs_sampler *s = negs_sampler_create(cat ? NEGS_SAMPLER_CATEGORY : NEGS_SAMPLER_POPULARITY,
                                          c->n_items, 12345);
    assert_non_null(s);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, c->alpha), 0);
    assert_int_equal(negs_sampler_set_weights(s, w, c->n_items), 0);
    if (cat) assert_int_equal(negs_sampler_set_categories(s, cat, c->n_items), 0);
    assert_int_equal(negs_sampler_set_positives(s, pos), 0);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_EXCLUDE_POSITIVES, c->exclude), 0);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), 0);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_THREADS, c->threads), 0);
    return s;
}

static void check(const ucase *c)
{
    uint32_t n = c->n_items;
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) {
        w[i] = rnd(1000000) < c->zero_share * 1e6 ? 0.0 : 1.0 + rnd(1000);
        if (rnd(1000000) < c->heavy * 1e6) w[i] *= 1000.0; /* certain items for large k */
    }
    uint32_t *cat = NULL;
    if (c->n_cat) {
        cat = malloc(n * sizeof *cat);
        for (uint32_t i = 0; i < n; i++) cat[i] = rnd(c->n_cat);
    }
    uint64_t *indptr = calloc(c->n_users + 1, sizeof *indptr);
    uint32_t *ind = malloc((size_t)c->n_users * n * sizeof *ind);
    size_t nnz = 0;
    for (uint32_t u = 0; u < c->n_users; u++) {
        /* user u keeps about u / n_users of the catalogue, capped so rows keep k items */
        uint32_t want = (uint32_t)((double)u / c->n_users * (n / 2));
        for (uint32_t i = 0; i < n; i++)
            if (rnd(n) < want) ind[nnz++] = i;
        indptr[u + 1] = nnz;
    }
    negs_csr *pos = negs_csr_create(c->n_users, n, indptr, ind);
    assert_non_null(pos);
    negs_sampler *fast = make(c, w, pos, cat), *plain = make(c, w, pos, cat);
    setenv("NEGS_FORCE_SCALAR", "1", 1); /* the marks without AVX-512 */
    negs_sampler *scalar = make(c, w, pos, cat);
    unsetenv("NEGS_FORCE_SCALAR");
    assert_null(scalar->umarks);
    assert_non_null(fast->t.wd);
    if (!cat) assert_non_null(fast->t.hint);
    if (!cat) assert_non_null(fast->t.u_run);
    drop_fast_tables(plain);

    size_t rows = 300;
    uint32_t *users = malloc(rows * sizeof *users), *posi = malloc(rows * sizeof *posi);
    for (size_t r = 0; r < rows; r++) {
        users[r] = rnd(c->n_users);
        uint64_t len = indptr[users[r] + 1] - indptr[users[r]];
        /* mostly one of the user's positives (the fast removed weights), else any item */
        posi[r] = len && rnd(4) ? ind[indptr[users[r]] + rnd((uint32_t)len)] : rnd(n);
    }
    size_t total = rows * c->k;
    uint32_t *a = malloc(total * sizeof *a), *b = malloc(total * sizeof *b);
    float *la = malloc(total * sizeof *la), *lb = malloc(total * sizeof *lb);
    for (uint64_t step = 0; step < 3; step++) {
        int sa = negs_sampler_sample(fast, step, rows, users, posi, c->k, a, la);
        int sb = negs_sampler_sample(plain, step, rows, users, posi, c->k, b, lb);
        assert_int_equal(sa, sb);
        if (sa) continue; /* the same row exhausted in both */
        assert_memory_equal(a, b, total * sizeof *a);
        assert_memory_equal(la, lb, total * sizeof *la);
        assert_int_equal(negs_sampler_sample(scalar, step, rows, users, posi, c->k, b, lb), 0);
        assert_memory_equal(a, b, total * sizeof *a);
        assert_memory_equal(la, lb, total * sizeof *la);
        /* and without log q: the same items */
        assert_int_equal(negs_sampler_sample(fast, step, rows, users, posi, c->k, a, NULL), 0);
        assert_memory_equal(a, b, total * sizeof *a);
    }
    /* negs_sampler_logq reads the same row state */
    float qa[64], qb[64];
    uint32_t items[64], uq[64], pq[64];
    for (uint32_t q = 0; q < 64; q++) items[q] = rnd(n), uq[q] = users[0], pq[q] = posi[0];
    int sa = negs_sampler_logq(fast, 0, 64, uq, pq, items, c->k, qa);
    assert_int_equal(sa, negs_sampler_logq(plain, 0, 64, uq, pq, items, c->k, qb));
    if (!sa) assert_memory_equal(qa, qb, sizeof qa);

    negs_sampler_free(fast);
    negs_sampler_free(plain);
    negs_sampler_free(scalar);
    negs_csr_free(pos);
    free(w), free(cat), free(indptr), free(ind), free(users), free(posi);
    free(a), free(b), free(la), free(lb);
}

static void test_fast_tables_bit_identical(void **state)
{
    (void)state;
    const ucase cases[] = {
        {50, 5, 5, 0, 0.75, 0.0, 0.0, 1, 1},
        {200, 20, 30, 0, 1.0, 0.1, 0.05, 1, 1},   /* certain items, zero weights */
        {1682, 40, 100, 0, 0.75, 0.0, 0.0, 1, 3},
        {1000, 30, 60, 0, 0.3, 0.2, 0.02, 1, 3},
        {1000, 30, 60, 0, -0.5, 0.0, 0.01, 1, 1}, /* a negative alpha */
        {500, 10, 40, 0, 0.75, 0.05, 0.05, 0, 1}, /* no exclusion */
        {600, 15, 10, 4, 0.75, 0.1, 0.05, 1, 3},  /* CATEGORY */
        {3000, 8, 200, 0, 2.0, 0.0, 0.003, 1, 1}, /* steep weights */
        {64, 6, 1, 0, 1.0, 0.1, 0.1, 1, 1},      /* k = 1 */
        {40, 4, 18, 0, 0.75, 0.0, 0.0, 1, 1},    /* k near m for the heavy users */
        {5000, 3, 2000, 0, 0.75, 0.05, 0.001, 1, 1}, /* long rows: several chunks of events */
        {300, 10, 50, 0, 4.0, 0.0, 0.02, 1, 3},  /* certain items in most rows */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check(&cases[i]);
}

/* pi_i = min(1, c w_i) over the eligible items (elig[i] != 0) with sum pi = k, c found by
 * bisection (not the library's walk in weight order). */
static void inclusion_pi(const double *w, const int *elig, uint32_t n, uint32_t k, double *pi)
{
    double lo = 0.0, hi = 1.0;
    for (;;) { /* grow hi until the sum reaches k */
        double sum = 0.0;
        for (uint32_t i = 0; i < n; i++) sum += elig[i] ? fmin(1.0, hi * w[i]) : 0.0;
        if (sum >= k) break;
        hi *= 2.0;
    }
    for (int it = 0; it < 200; it++) {
        double c = 0.5 * (lo + hi), sum = 0.0;
        for (uint32_t i = 0; i < n; i++) sum += elig[i] ? fmin(1.0, c * w[i]) : 0.0;
        if (sum < k) lo = c;
        else hi = c;
    }
    for (uint32_t i = 0; i < n; i++) pi[i] = elig[i] ? fmin(1.0, hi * w[i]) : 0.0;
}

typedef struct icase {
    uint32_t k;
    uint32_t n_known; /* the user's known positives: items 1, 1 + stride, ... */
    uint32_t stride;
    int pos_known;    /* the row's positive is one of them (else item 0) */
    int heavy;        /* items 3, 7, 11 get 50x the weight: certain for larger k */
} icase;

/* R rows of one (user, positive): every row holds k distinct eligible items and the certain
 * ones; each item's inclusion count is Binomial(R, pi_i) (the rows are independent), checked
 * item by item (|z| < 4.5) and with Pearson's statistic; log q = log pi. */
static void check_inclusion(const icase *c)
{
    enum { N = 60 };
    double w[N];
    for (uint32_t i = 0; i < N; i++) {
        w[i] = i % 13 == 5 ? 0.0 : 1.0 + (double)((i * 37) % 11);
        if (c->heavy && (i == 3 || i == 7 || i == 11)) w[i] = 50.0 * (1.0 + (double)i);
    }
    uint64_t indptr[3] = {0, 0, 0};
    uint32_t ind[N];
    for (uint32_t i = 1; indptr[2] < c->n_known && i < N; i += c->stride) ind[indptr[2]++] = i;
    indptr[1] = 0; /* user 0 has none, user 1 the list */
    negs_csr *pos = negs_csr_create(2, N, indptr, ind);
    assert_non_null(pos);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, N, 99);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ALPHA, 1.0), 0);
    assert_int_equal(negs_sampler_set_weights(s, w, N), 0);
    assert_int_equal(negs_sampler_set_positives(s, pos), 0);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_EXCLUDE_POSITIVES, 1.0), 0);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0), 0);
    uint32_t positive = c->pos_known ? ind[0] : 0;
    int elig[N];
    uint32_t m = 0;
    for (uint32_t i = 0; i < N; i++) {
        elig[i] = w[i] > 0.0 && i != positive && !negs_sorted_contains(ind, indptr[2], i);
        m += (uint32_t)elig[i];
    }
    size_t rows = negs_test_sanitized() ? 4000 : 20000;
    uint32_t *users = malloc(rows * sizeof *users), *posi = malloc(rows * sizeof *posi);
    for (size_t r = 0; r < rows; r++) users[r] = 1, posi[r] = positive;
    uint32_t *out = malloc(rows * c->k * sizeof *out);
    float *lq = malloc(rows * c->k * sizeof *lq);
    int st = negs_sampler_sample(s, 3, rows, users, posi, c->k, out, lq);
    if (c->k > m) { /* exhaustion, naming the row */
        assert_int_equal(st, NEGS_E_EXHAUSTED);
        assert_non_null(strstr(negs_last_error(), "eligible items of row 0 (user 1"));
    } else {
        assert_int_equal(st, 0);
        double pi[N], counts[N] = {0};
        inclusion_pi(w, elig, N, c->k, pi);
        for (size_t r = 0; r < rows; r++) {
            int seen[N] = {0};
            for (uint32_t j = 0; j < c->k; j++) {
                uint32_t it = out[r * c->k + j];
                assert_true(it < N && elig[it] && !seen[it]);
                seen[it] = 1;
                counts[it] += 1.0;
                double want = pi[it] > 1.0 - 1e-12 ? 0.0 : log(pi[it]);
                assert_true(fabs(lq[r * c->k + j] - want) < 1e-5 * (1.0 + fabs(want)));
            }
        }
        double chi2 = 0.0;
        int df = 0;
        for (uint32_t i = 0; i < N; i++) {
            double e = pi[i] * (double)rows;
            if (pi[i] == 0.0 || pi[i] > 1.0 - 1e-12) { /* never, or in every row */
                assert_true(counts[i] == (pi[i] == 0.0 ? 0.0 : (double)rows));
                continue;
            }
            double d = counts[i] - e, var = e * (1.0 - pi[i]);
            assert_true(fabs(d) < 4.5 * sqrt(var));
            chi2 += d * d / var;
            df++;
        }
        if (df > 1) assert_true(negs_test_gamma_q((df - 1) / 2.0, chi2 / 2.0) > 1e-4);
    }
    negs_sampler_free(s);
    negs_csr_free(pos);
    free(users), free(posi), free(out), free(lq);
}

static void test_inclusion_matches_pi(void **state)
{
    (void)state;
    const icase cases[] = {
        {10, 15, 3, 1, 1},  /* certain items, the user's tables */
        {10, 15, 3, 0, 1},  /* the row's positive not among the user's: events merged per row */
        {1, 15, 3, 1, 0},   /* k = 1: pi = w / z */
        {6, 0, 1, 0, 1},    /* no known positives */
        {3, 15, 3, 1, 1},   /* k = the three heavy items: all certain, no uncertain point */
        {2, 55, 1, 1, 0},   /* positives cover nearly everything: 4 eligible items left */
        {4, 55, 1, 1, 0},   /* k = m: every eligible item, log q 0 */
        {5, 55, 1, 1, 0},   /* k > m: exhausted */
        {40, 8, 7, 1, 1},   /* k near m, most items certain */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_inclusion(&cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fast_tables_bit_identical),
        cmocka_unit_test(test_inclusion_matches_pi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
