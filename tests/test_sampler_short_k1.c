/* Rows of k = 1 with exclusion, the batched groups' own path (sampler_short_batch.c's excl_k1:
 * the users' records, bitmap tests by gathers, list tests by masked compares, binary search for
 * long lists without bitmaps): every row is the general path's, items and log q bit for bit,
 * whatever mix of tests a group of 16 rows holds. */
#include <math.h>
#include <stdio.h>

#include "test_util.h"

#include "core/csr.h"
#include "sampler/sampler_internal.h"
#include "sampler/sampler_short.h"

static uint64_t xs(uint64_t *x)
{
    *x ^= *x << 13, *x ^= *x >> 7, *x ^= *x << 17;
    return *x;
}

/* The call against sp_general_row row by row, and against the per-row loop (no batch). */
static void check_k1(negs_sampler *s, uint64_t step, size_t rows, const uint32_t *users,
                     const uint32_t *pos)
{
    uint32_t *a = malloc(rows * sizeof *a), *b = malloc(rows * sizeof *b);
    float *la = malloc(rows * sizeof *la), *lb = malloc(rows * sizeof *lb);
    assert_int_equal(negs_sampler_sample(s, step, rows, users, pos, 1, a, la), NEGS_OK);
    sp_rowgen g;
    sp_rowgen_init(&g, s->rows_gen);
    for (size_t r = 0; r < rows; r++) {
        sp_row row;
        uint32_t ref;
        float rlq;
        assert_int_equal(sp_general_row(s, &s->scr[0], &g, step, s->row_offset + r, users != NULL,
                                        users ? users[r] : 0, pos != NULL, pos ? pos[r] : 0, 1,
                                        &ref, &rlq, &row),
                         NEGS_OK);
        if (ref != a[r] || memcmp(&rlq, &la[r], sizeof rlq))
            fprintf(stderr, "row %zu (user %u) differs: %u vs %u, log q %g vs %g\n", r,
                    users ? users[r] : 0, a[r], ref, (double)la[r], (double)rlq);
        assert_int_equal(a[r], ref);
        assert_memory_equal(&la[r], &rlq, sizeof rlq);
    }
    /* without log q: the same items */
    assert_int_equal(negs_sampler_sample(s, step, rows, users, pos, 1, b, NULL), NEGS_OK);
    assert_memory_equal(a, b, rows * sizeof *a);
    sp_short_batch_fn batch = s->short_batch;
    s->short_batch = NULL;
    assert_int_equal(negs_sampler_sample(s, step, rows, users, pos, 1, b, lb), NEGS_OK);
    s->short_batch = batch;
    assert_memory_equal(a, b, rows * sizeof *a);
    assert_memory_equal(la, lb, rows * sizeof *la);
    free(a);
    free(b);
    free(la);
    free(lb);
}

/* Users of 0 .. 300 known positives around the chunk sizes of 16 and the list limit of 64, one
 * of all items but three and one of the heaviest items (its own table), with bitmaps (lists
 * shorter than the bitmap's half-words are scanned, longer ones use the bitmap) and without
 * (lists beyond 64 by binary search); rows mixing all users, positives known, unknown, absent;
 * 16 * 37 + 5 rows, and row numbers across 2^32. */
static void test_k1_mixed_groups(void **state)
{
    (void)state;
    static const uint32_t lens[] = {0, 1, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 300};
    const uint32_t nl = sizeof lens / sizeof lens[0], nu = nl + 2, n = 5000;
    const size_t rows = 16 * 37 + 5;
    uint64_t x = 0x2545F4914F6CDD1DULL;
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) w[i] = i % 13 == 7 ? 0.0 : 1.0 / (1.0 + i);
    uint64_t *ip = malloc((nu + 1) * sizeof *ip);
    uint32_t *ix = malloc(((size_t)nu * 300 + 2 * n) * sizeof *ix);
    size_t c = 0;
    ip[0] = 0;
    for (uint32_t u = 0; u < nu; u++) {
        if (u == nl) { /* all items but three: exact draws */
            for (uint32_t i = 0; i < n; i++)
                if (i != 10 && i != 2000 && i != 4999) ix[c++] = i;
        } else if (u == nl + 1) { /* the 30 heaviest items: more than 1/8 of the mass */
            for (uint32_t i = 0; i < 30; i++) ix[c++] = i;
        } else { /* distinct random items */
            size_t c0 = c;
            while (c - c0 < lens[u]) {
                uint32_t it = (uint32_t)(xs(&x) % n), dup = 0;
                for (size_t j = c0; j < c; j++) dup |= ix[j] == it;
                if (!dup) ix[c++] = it;
            }
        }
        ip[u + 1] = c;
    }
    negs_csr *pt = negs_csr_create(nu, n, ip, ix);
    assert_non_null(pt);
    uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
    for (size_t r = 0; r < rows; r++) {
        users[r] = (uint32_t)(xs(&x) % nu);
        uint64_t len = ip[users[r] + 1] - ip[users[r]];
        pos[r] = len && xs(&x) % 5 ? ix[ip[users[r]] + xs(&x) % len] : (uint32_t)(xs(&x) % n);
    }
    for (int kind = 0; kind < 2; kind++)
        for (int bits = 0; bits < 2; bits++) {
            negs_sampler *s = negs_sampler_create(kind ? NEGS_SAMPLER_POPULARITY : NEGS_SAMPLER_UNIFORM, n, 9 + kind);
            assert_non_null(s);
            if (kind) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
            if (!bits) s->table_budget = 0;
            assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
            assert_true((s->ubits != NULL) == bits);
            assert_non_null(s->short_users);
            for (uint64_t step = 0; step < 3; step++) {
                check_k1(s, step, rows, users, pos);
                check_k1(s, step, rows, users, NULL);
                check_k1(s, step, 7, users + 3, pos + 3); /* a group of fewer than 16 rows */
            }
            assert_int_equal(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, 4294967296.0 - 21.0), NEGS_OK);
            check_k1(s, 1, rows, users, pos);
            negs_sampler_free(s);
        }
    negs_csr_free(pt);
    free(w);
    free(ip);
    free(ix);
    free(users);
    free(pos);
}

/* The per-user records follow the positives table: offset and length code of each list, log z
 * of a row excluding exactly the known positives (NaN for the user of exact draws and the user
 * with its own table), rebuilt by set_positives and set_weights. */
static void test_k1_user_records(void **state)
{
    (void)state;
    const uint32_t n = 1000;
    uint64_t ip[5] = {0, 0, 300, 300 + 950, 300 + 950 + 3};
    uint32_t *ix = malloc(ip[4] * sizeof *ix);
    for (uint32_t j = 0; j < 300; j++) ix[j] = 3 * j + 1;       /* user 1: 300 items */
    for (uint32_t j = 0; j < 950; j++) ix[300 + j] = j;         /* user 2: 95% of the items */
    for (uint32_t j = 0; j < 3; j++) ix[1250 + j] = 500 + j;    /* user 3: three light items */
    negs_csr *pt = negs_csr_create(4, n, ip, ix);
    double *w = malloc(n * sizeof *w);
    for (uint32_t i = 0; i < n; i++) w[i] = 1.0 + (double)(i % 7);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 1);
    assert_null(s->short_users);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    const sp_short_user *su = s->short_users;
    assert_non_null(su);
    for (uint32_t u = 0; u < 4; u++) {
        uint64_t len = ip[u + 1] - ip[u];
        assert_true(su[u].list >> SR_LEN_BITS == ip[u]);
        assert_true((su[u].list & SR_LEN_CODE_MAX) == (len < SR_LEN_CODE_MAX ? len : SR_LEN_CODE_MAX));
    }
    assert_true(su[0].logz == log(1000.0));
    assert_true(su[1].logz == log(700.0));
    assert_true(isnan(su[2].logz)); /* 50 items left: below 1/8, exact draws */
    assert_true(su[3].logz == log(997.0));
    negs_sampler_free(s);

    s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, 1);
    assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
    assert_null(s->short_users);
    assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
    su = s->short_users;
    assert_non_null(su);
    assert_true(su[0].logz == log(s->t.total));
    assert_true(su[3].logz == log(s->t.total - s->t.u_w[3]));
    /* user 1 holds about 30% of the mass: its own table, so the per-row code */
    assert_true(s->t.u_alias && s->t.u_alias[1].n);
    assert_true(isnan(su[1].logz));
    assert_true(isnan(su[2].logz));
    assert_int_equal(negs_sampler_set_positives(s, NULL), NEGS_OK);
    assert_null(s->short_users);
    negs_sampler_free(s);
    negs_csr_free(pt);
    free(ix);
    free(w);
}

/* Every row's first candidate excluded or rejected often: catalogues of 40 and 150 items with
 * users of up to 28 and 105 of them (beyond SR_LIST_MAX), with bitmaps and without, so many
 * lanes take their second candidate in the group (tested in the bitmap, the list or by binary
 * search) and some go on to the per-row steps or the general path. */
static void test_k1_dense_exclusion(void **state)
{
    (void)state;
    enum { NU = 8, ROWS = 333 };
    static const uint32_t ns[2] = {40, 150}, per[2] = {4, 15};
    for (int ci = 0; ci < 2; ci++) {
        const uint32_t n = ns[ci];
        uint64_t ip[NU + 1];
        uint32_t ix[NU * 150];
        size_t c = 0;
        ip[0] = 0;
        for (uint32_t u = 0; u < NU; u++) {
            for (uint32_t i = 0; i < n && c - ip[u] < per[ci] * u; i += 1 + u % 3) ix[c++] = i;
            ip[u + 1] = c;
        }
        assert_true(ip[NU] - ip[NU - 1] > SR_LIST_MAX || ci == 0);
        negs_csr *pt = negs_csr_create(NU, n, ip, ix);
        uint32_t users[ROWS], pos[ROWS];
        uint64_t x = 99;
        for (size_t r = 0; r < ROWS; r++) {
            users[r] = (uint32_t)(xs(&x) % NU);
            uint64_t len = ip[users[r] + 1] - ip[users[r]];
            /* mostly a known positive (the case finished in the group), else any item */
            pos[r] = len && xs(&x) % 4 ? ix[ip[users[r]] + xs(&x) % len] : (uint32_t)(xs(&x) % n);
        }
        double w[150];
        for (uint32_t i = 0; i < n; i++) w[i] = 1.0 + (double)(i % 5);
        for (int kind = 0; kind < 2; kind++)
            for (int bits = 0; bits < 2; bits++) {
                negs_sampler *s = negs_sampler_create(kind ? NEGS_SAMPLER_POPULARITY : NEGS_SAMPLER_UNIFORM, n, 3);
                if (kind) assert_int_equal(negs_sampler_set_weights(s, w, n), NEGS_OK);
                if (!bits) s->table_budget = 0;
                assert_int_equal(negs_sampler_set_positives(s, pt), NEGS_OK);
                assert_true((s->ubits != NULL) == bits);
                for (uint64_t step = 4; step < 7; step++) {
                    check_k1(s, step, ROWS, users, pos);
                    check_k1(s, step, ROWS, users, NULL);
                }
                negs_sampler_free(s);
            }
        negs_csr_free(pt);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_k1_mixed_groups),
        cmocka_unit_test(test_k1_user_records),
        cmocka_unit_test(test_k1_dense_exclusion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
