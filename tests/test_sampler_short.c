/* Short rows (k <= SP_SHORT_MAX_K): the batched groups of sampler_short_batch.c and the lean
 * loop of sampler_short.c give exactly what the general path gives for every row (items and
 * log q bit for bit), with and without exclusion, per-user tables, exact draws, rows whose
 * candidates run out, and row numbers around 2^32. */
#include <stdio.h>

#include "test_util.h"

#include "core/cpu.h"
#include "core/rng.h"
#include "sampler/sampler_internal.h"

/* Each row by sp_general_row, against one negs_sampler_sample call. */
static void check_rows(negs_sampler *s, uint64_t step, size_t rows, const uint32_t *users,
                       const uint32_t *pos, uint32_t k)
{
    uint32_t *out = malloc(rows * k * sizeof *out), *ref = malloc(k * sizeof *ref);
    float *lq = malloc(rows * k * sizeof *lq), *rlq = malloc(k * sizeof *rlq);
    assert_int_equal(negs_sampler_sample(s, step, rows, users, pos, k, out, lq), NEGS_OK);
    sp_rowgen g;
    sp_rowgen_init(&g, s->rows_gen);
    for (size_t r = 0; r < rows; r++) {
        sp_row row;
        assert_int_equal(sp_general_row(s, &s->scr[0], &g, step, s->row_offset + r, users != NULL,
                                        users ? users[r] : 0, pos != NULL, pos ? pos[r] : 0, k,
                                        ref, rlq, &row),
                         NEGS_OK);
        if (memcmp(ref, out + r * k, k * sizeof *ref) || memcmp(rlq, lq + r * k, k * sizeof *rlq))
            fprintf(stderr, "row %zu (k = %u) differs: %u vs %u\n", r, k, out[r * k], ref[0]);
        assert_memory_equal(ref, out + r * k, k * sizeof *ref);
        assert_memory_equal(rlq, lq + r * k, k * sizeof *rlq);
    }
    free(out);
    free(ref);
    free(lq);
    free(rlq);
}

static void test_short_rows_equal_general(void **state)
{
    (void)state;
    const uint32_t n = 2000, nu = 5;
    const size_t rows = 600;
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) w[i] = i % 17 == 3 ? 0.0 : 1.0 / (1.0 + i);
    /* users: light, heavy in mass (own table), seen 95% (exact draws), empty, the top items */
    uint64_t ip[6] = {0};
    uint32_t *ix = malloc(4 * n * sizeof *ix);
    size_t c = 0;
    for (uint32_t u = 0; u < nu; u++) {
        for (uint32_t i = 0; i < n; i++) {
            int in = u == 0 ? i % 97 == 5 : u == 1 ? i < 40 : u == 2 ? i % 20 != 0 : u == 3 ? 0 : i < 3;
            if (in) ix[c++] = i;
        }
        ip[u + 1] = c;
    }
    negs_csr *pt = negs_csr_create(nu, n, ip, ix);
    uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
    for (size_t r = 0; r < rows; r++) {
        users[r] = (uint32_t)(r % nu);
        pos[r] = (uint32_t)((r * 7919) % n);
    }
    for (int kind = 0; kind < 2; kind++)
        for (int excl = 0; excl < 3; excl++) {
            negs_sampler *s = negs_sampler_create(kind ? NEGS_SAMPLER_POPULARITY : NEGS_SAMPLER_UNIFORM, n, 77);
            if (kind) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
            if (excl) assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
            const uint32_t *us = excl ? users : NULL, *ps = excl == 2 || !excl ? pos : NULL;
            if (excl == 1) ps = NULL;
            for (uint32_t k = 1; k <= SP_SHORT_MAX_K + 1; k++) {
                assert_true(sp_short_ok(s, k) == (k <= SP_SHORT_MAX_K));
                check_rows(s, k, rows, us, ps, k);
                if (!excl) check_rows(s, k, rows, NULL, NULL, k);
            }
            /* row numbers across 2^32: groups of 16 rows never straddle a key */
            assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, 4294967296.0 - 37.0), NEGS_OK);
            check_rows(s, 3, rows, us, ps, 1);
            check_rows(s, 3, rows, us, ps, 5);
            negs_sampler_free(s);
        }
    negs_csr_free(pt);
    free(ix);
    free(w);
    free(users);
    free(pos);
}

/* A catalogue of 3 * 2^30 items: a quarter of the bounded draws fall in Lemire's rejection
 * zone, so the skip rule is exercised on every other row. */
static void test_short_rows_lemire(void **state)
{
    (void)state;
    const uint32_t n = 3u << 30;
    const size_t rows = 400;
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 5);
    assert_non_null(s);
    uint32_t *pos = malloc(rows * sizeof *pos);
    for (size_t r = 0; r < rows; r++) pos[r] = (uint32_t)(r * 2654435761u) % n;
    for (uint32_t k = 1; k <= SP_SHORT_MAX_K; k++) {
        check_rows(s, k, rows, NULL, NULL, k);
        check_rows(s, k, rows, NULL, pos, k);
    }
    negs_sampler_free(s);
    free(pos);
}

/* The 16-row Philox of this CPU (and the portable one) gives each row the words of negs_rng. */
static void test_rowgen_matches_rng(void **state)
{
    (void)state;
    sp_philox_rows_fn fns[2] = {sp_philox_rows_select(negs_cpu_features()), sp_philox_rows_select(0)};
    for (int f = 0; f < 2; f++) {
        sp_rowgen g;
        sp_rowgen_init(&g, fns[f]);
        const uint64_t rows[3] = {0, 12345, ((uint64_t)7 << 32) + 99};
        for (int i = 0; i < 3; i++)
            for (uint64_t r = rows[i]; r < rows[i] + 40; r++) {
                const uint32_t *w = sp_rowgen_words(&g, 42, 0x123456789ULL, r, 0x5301u, 4);
                assert_non_null(w);
                negs_rng ref;
                negs_rng_init(&ref, 42, 0x123456789ULL, r, 0x5301u);
                for (unsigned j = 0; j < 16; j++)
                    assert_int_equal(w[64 * (j / 4) + 16 * (j % 4)], negs_rng_u32(&ref));
            }
        /* 16 rows that would straddle a key are refused */
        assert_null(sp_rowgen_words(&g, 42, 0, 0xFFFFFFF5u, 0x5301u, 1));
    }
}

/* Short rows are the same for any thread count and any split of the rows. */
static void test_short_rows_threads_split(void **state)
{
    (void)state;
    const uint32_t n = 500;
    const size_t rows = 333;
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 3);
    uint32_t *a = malloc(rows * 2 * sizeof *a), *b = malloc(rows * 2 * sizeof *b);
    assert_int_equal(negs_sampler_sample(s, 9, rows, NULL, NULL, 2, a, NULL), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_THREADS, 2.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 9, rows, NULL, NULL, 2, b, NULL), NEGS_OK);
    assert_memory_equal(a, b, rows * 2 * sizeof *a);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_THREADS, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 9, 101, NULL, NULL, 2, b, NULL), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, 101.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(s, 9, rows - 101, NULL, NULL, 2, b + 202, NULL), NEGS_OK);
    assert_memory_equal(a, b, rows * 2 * sizeof *a);
    negs_sampler_free(s);
    free(a);
    free(b);
}

static uint64_t xs(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* The batched groups (this CPU's, when it has AVX-512), the per-row loop and the general path
 * on random cases: catalogues with zero weights, users whose lists cross the SIMD chunk sizes
 * (0 .. 200 items), a heavy user (own table), bitmaps or none, positives known or not,
 * calls cut at every group and 2^32-row boundary, k = 1 .. 7: items and log q bit for bit. */
static void test_short_batch_random(void **state)
{
    (void)state;
    static const uint32_t lens[] = {0, 1, 7, 15, 16, 17, 31, 32, 33, 48, 63, 64, 65, 200};
    const int trials = negs_test_sanitized() ? 12 : 60;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    int drawn = 0;
    for (int trial = 0; trial < trials; trial++) {
        /* every fourth catalogue is beyond the size at which the batch prefetches entries */
        uint32_t n = trial % 4 == 3 ? 70000 + (uint32_t)(xs(&x) % 5000) : 300 + (uint32_t)(xs(&x) % 3000);
        uint32_t nu = 2 + (uint32_t)(xs(&x) % 30);
        double *w = malloc(n * sizeof *w);
        for (uint32_t i = 0; i < n; i++) w[i] = xs(&x) % 11 == 0 ? 0.0 : 1.0 / (1.0 + (double)(xs(&x) % 1000));
        uint64_t *ip = malloc((nu + 1) * sizeof *ip);
        uint32_t *ix = malloc(((size_t)nu * 400 + n) * sizeof *ix);
        size_t c = 0;
        ip[0] = 0;
        for (uint32_t u = 0; u < nu; u++) {
            if (u == 1) { /* nine items in ten at random: about 90% of the mass, exact draws */
                for (uint32_t i = 0; i < n; i++)
                    if (xs(&x) % 10) ix[c++] = i;
                ip[u + 1] = c;
                continue;
            }
            uint32_t len = u == 0 ? 300 : lens[xs(&x) % (sizeof lens / sizeof lens[0])];
            for (uint32_t j = 0; j < len; j++) /* user 0: the first items, a heavy user */
                ix[c++] = u == 0 ? j : (uint32_t)(xs(&x) % n);
            ip[u + 1] = c;
        }
        negs_csr *pt = negs_csr_create(nu, n, ip, ix);
        assert_non_null(pt);
        int kind = (int)(xs(&x) % 2), excl = (int)(xs(&x) % 3);
        uint32_t k = trial % 2 ? 1 : 1 + (uint32_t)(xs(&x) % SP_SHORT_MAX_K);
        size_t rows = 1 + (size_t)(xs(&x) % 250);
        negs_sampler *s = negs_sampler_create(kind ? NEGS_SAMPLER_POPULARITY : NEGS_SAMPLER_UNIFORM, n, trial);
        if (kind) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
        if (xs(&x) % 2) s->table_budget = 0; /* no bitmaps: the lists alone */
        if (xs(&x) % 2) s->utab_budget = 0;  /* no user's own tables */
        if (excl) assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
        if (xs(&x) % 3 == 0)
            assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET,
                                                    4294967296.0 - (double)(xs(&x) % 40)), NEGS_OK);
        uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
        for (size_t r = 0; r < rows; r++) {
            users[r] = xs(&x) % 4 ? (uint32_t)(xs(&x) % nu) : 1; /* often the exact-draw user */
            uint64_t len = ip[users[r] + 1] - ip[users[r]];
            /* mostly one of the user's known items, as in training */
            pos[r] = len && xs(&x) % 4 ? ix[ip[users[r]] + xs(&x) % len] : (uint32_t)(xs(&x) % n);
        }
        const uint32_t *us = excl ? users : NULL, *ps = excl != 1 && xs(&x) % 2 ? pos : NULL;
        uint32_t *a = malloc(rows * k * sizeof *a), *b = malloc(rows * k * sizeof *b);
        float *la = malloc(rows * k * sizeof *la), *lb = malloc(rows * k * sizeof *lb);
        int st = negs_sampler_sample(s, (uint64_t)trial, rows, us, ps, k, a, la);
        if (st == NEGS_OK) {
            drawn++;
            check_rows(s, (uint64_t)trial, rows, us, ps, k);
            sp_short_batch_fn batch = s->short_batch;
            s->short_batch = NULL; /* the per-row loop */
            assert_int_equal(negs_sampler_sample(s, (uint64_t)trial, rows, us, ps, k, b, lb), NEGS_OK);
            assert_memory_equal(a, b, rows * k * sizeof *a);
            assert_memory_equal(la, lb, rows * k * sizeof *la);
            s->short_batch = batch;
        } else {
            assert_int_equal(st, NEGS_E_EXHAUSTED); /* a row without eligible items */
        }
        negs_sampler_free(s);
        negs_csr_free(pt);
        free(w);
        free(ip);
        free(ix);
        free(users);
        free(pos);
        free(a);
        free(b);
        free(la);
        free(lb);
    }
    assert_true(drawn >= trials * 3 / 4);
}

/* Batched rows with exclusion and log q: the same for 1 and 2 threads and for a call cut in
 * two at a row that is not a multiple of 16. */
static void test_short_batch_threads(void **state)
{
    (void)state;
    const uint32_t n = 4000, nu = 64;
    const size_t rows = 1001;
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) w[i] = 1.0 / (1.0 + i);
    uint64_t ip[65];
    uint32_t *ix = malloc(nu * 40 * sizeof *ix);
    uint64_t x = 12345;
    ip[0] = 0;
    for (uint32_t u = 0; u < nu; u++) {
        for (uint32_t j = 0; j < 40; j++) ix[u * 40 + j] = (uint32_t)(xs(&x) % n);
        ip[u + 1] = (u + 1) * 40;
    }
    negs_csr *pt = negs_csr_create(nu, n, ip, ix);
    uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
    for (size_t r = 0; r < rows; r++) {
        users[r] = (uint32_t)(xs(&x) % nu);
        pos[r] = ix[users[r] * 40 + xs(&x) % 40];
    }
    for (int kind = 0; kind < 2; kind++)
        for (uint32_t k = 1; k <= 4; k += 3) {
            negs_sampler *s = negs_sampler_create(kind ? NEGS_SAMPLER_POPULARITY : NEGS_SAMPLER_UNIFORM, n, 11);
            if (kind) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
            assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
            uint32_t *a = malloc(rows * k * sizeof *a), *b = malloc(rows * k * sizeof *b);
            float *la = malloc(rows * k * sizeof *la), *lb = malloc(rows * k * sizeof *lb);
            assert_int_equal(negs_sampler_sample(s, 3, rows, users, pos, k, a, la), NEGS_OK);
            assert_int_equal(negs_sampler_set_param(s, NEGS_SP_THREADS, 2.0), NEGS_OK);
            assert_int_equal(negs_sampler_sample(s, 3, rows, users, pos, k, b, lb), NEGS_OK);
            assert_memory_equal(a, b, rows * k * sizeof *a);
            assert_memory_equal(la, lb, rows * k * sizeof *la);
            assert_int_equal(negs_sampler_set_param(s, NEGS_SP_THREADS, 1.0), NEGS_OK);
            memset(b, 0, rows * k * sizeof *b);
            assert_int_equal(negs_sampler_sample(s, 3, 333, users, pos, k, b, lb), NEGS_OK);
            assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, 333.0), NEGS_OK);
            assert_int_equal(negs_sampler_sample(s, 3, rows - 333, users + 333, pos + 333, k,
                                                 b + 333 * k, lb + 333 * k), NEGS_OK);
            assert_memory_equal(a, b, rows * k * sizeof *a);
            assert_memory_equal(la, lb, rows * k * sizeof *la);
            negs_sampler_free(s);
            free(a);
            free(b);
            free(la);
            free(lb);
        }
    negs_csr_free(pt);
    free(w);
    free(ix);
    free(users);
    free(pos);
}

/* Long UNIFORM rows testing the user's list by SIMD (sampler_draw.c's list_run) draw what the
 * bitmap / binary-search loop draws: lists of 0 .. 70 items, a user of nine items in ten
 * (exact draws), bitmaps or none, positives known or not. */
static void test_uniform_list_run(void **state)
{
    (void)state;
    uint64_t x = 777;
    for (int trial = 0; trial < 8; trial++) {
        uint32_t n = trial % 2 ? 150000 : 3000 + (uint32_t)(xs(&x) % 2000), nu = 40;
        uint64_t *ip = malloc((nu + 1) * sizeof *ip);
        uint32_t *ix = malloc(((size_t)nu * 80 + n) * sizeof *ix);
        size_t c = 0;
        ip[0] = 0;
        for (uint32_t u = 0; u < nu; u++) {
            uint32_t len = u == 0 ? n : (uint32_t)(xs(&x) % 71);
            for (uint32_t j = 0; j < len; j++) {
                if (u == 0 && xs(&x) % 10 == 0) continue;
                ix[c++] = u == 0 ? j : (uint32_t)(xs(&x) % n);
            }
            ip[u + 1] = c;
        }
        negs_csr *pt = negs_csr_create(nu, n, ip, ix);
        negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 40 + trial);
        if (trial % 4 >= 2) s->table_budget = 0;
        assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
        const size_t rows = 200;
        const uint32_t k = trial % 3 ? 64 : 9;
        uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
        for (size_t r = 0; r < rows; r++) {
            users[r] = (uint32_t)(xs(&x) % nu);
            uint64_t len = ip[users[r] + 1] - ip[users[r]];
            pos[r] = len && xs(&x) % 3 ? ix[ip[users[r]] + xs(&x) % len] : (uint32_t)(xs(&x) % n);
        }
        uint32_t *a = malloc(rows * k * sizeof *a), *b = malloc(rows * k * sizeof *b);
        float *la = malloc(rows * k * sizeof *la), *lb = malloc(rows * k * sizeof *lb);
        assert_int_equal(negs_sampler_sample(s, 5, rows, users, pos, k, a, la), NEGS_OK);
        sp_list_run_fn run = s->list_run;
        s->list_run = NULL;
        assert_int_equal(negs_sampler_sample(s, 5, rows, users, pos, k, b, lb), NEGS_OK);
        s->list_run = run;
        assert_memory_equal(a, b, rows * k * sizeof *a);
        assert_memory_equal(la, lb, rows * k * sizeof *la);
        negs_sampler_free(s);
        negs_csr_free(pt);
        free(ip);
        free(ix);
        free(users);
        free(pos);
        free(a);
        free(b);
        free(la);
        free(lb);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_short_rows_equal_general),
        cmocka_unit_test(test_short_rows_lemire),
        cmocka_unit_test(test_rowgen_matches_rng),
        cmocka_unit_test(test_short_rows_threads_split),
        cmocka_unit_test(test_short_batch_random),
        cmocka_unit_test(test_short_batch_threads),
        cmocka_unit_test(test_uniform_list_run),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
