/* negs_xbm, the cross-batch memory: FIFO order and wrap-around against a plain history of
 * every push, ages and expiry, the laid-out columns fed to negs_loss_inbatch against the same
 * columns built by hand and against the dense double reference, masking of accidental hits and
 * known positives held in the memory, and bad input. */
#include <limits.h>
#include <stdio.h>

#include "test_util.h"
#include "test_inbatch_ref.h"
#include "test_inbatch_util.h"

/* ---------------------------------------------------------------- the brute-force model */

#define HIST_MAX 512
#define DIM_MAX 16

/* Every entry ever pushed, in push order: the memory must be the last `capacity` of them. */
typedef struct history {
    size_t n, dim;
    uint32_t id_range; /* pushed ids are drawn in 0 .. id_range - 1 */
    float emb[HIST_MAX][DIM_MAX];
    uint32_t id[HIST_MAX];
    float logq[HIST_MAX];
    uint64_t step[HIST_MAX];
} history;

static void push_both(negs_xbm *x, history *h, uint64_t step, size_t n, int with_logq)
{
    float emb[HIST_MAX * DIM_MAX] = {0}, lq[HIST_MAX] = {0};
    uint32_t ids[HIST_MAX] = {0};
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < h->dim; k++) emb[i * h->dim + k] = (float)(urand() * 2.0 - 1.0);
        ids[i] = (uint32_t)(urand() * h->id_range);
        lq[i] = (float)(-1.0 - 5.0 * urand());
    }
    assert_int_equal(negs_xbm_push(x, step, n, h->dim, emb, ids, with_logq ? lq : NULL), NEGS_OK);
    for (size_t i = 0; i < n; i++) {
        assert_true(h->n < HIST_MAX);
        memcpy(h->emb[h->n], emb + i * h->dim, h->dim * sizeof(float));
        h->id[h->n] = ids[i];
        h->logq[h->n] = with_logq ? lq[i] : 0.0f;
        h->step[h->n] = step;
        h->n++;
    }
}

/* The memory as the history says, newest first, written after b rows. Returns m. */
static size_t expected_layout(const history *h, size_t capacity, uint64_t step, uint64_t max_age,
                              size_t b, float *v, float *logq, uint32_t *ids, uint64_t *ages)
{
    size_t m = h->n < capacity ? h->n : capacity;
    for (size_t k = 0; k < m; k++) {
        size_t e = h->n - 1 - k;
        uint64_t age = step - h->step[e];
        memcpy(v + (b + k) * h->dim, h->emb[e], h->dim * sizeof(float));
        logq[b + k] = age > max_age ? -INFINITY : h->logq[e];
        ids[b + k] = h->id[e];
        ages[k] = age;
    }
    return m;
}

/* layout equals the model byte for byte (rows below b and past b + m untouched). */
static void check_against_model(const negs_xbm *x, const history *h, size_t capacity,
                                uint64_t step, uint64_t max_age, size_t b)
{
    enum { ROWS = 64 };
    size_t d = h->dim;
    float v[ROWS * DIM_MAX], ev[ROWS * DIM_MAX], lq[ROWS], elq[ROWS];
    uint32_t ids[ROWS], eids[ROWS];
    uint64_t ages[ROWS], eages[ROWS];
    size_t live = 12345;
    assert_true(b + capacity <= ROWS);
    memset(v, 0x7f, sizeof v), memset(ev, 0x7f, sizeof ev);
    memset(lq, 0x7f, sizeof lq), memset(elq, 0x7f, sizeof elq);
    memset(ids, 0xab, sizeof ids), memset(eids, 0xab, sizeof eids);
    memset(ages, 0xcd, sizeof ages), memset(eages, 0xcd, sizeof eages);
    size_t em = expected_layout(h, capacity, step, max_age, b, ev, elq, eids, eages);
    int m = negs_xbm_layout(x, step, b, d, ROWS, v, lq, ids, ages, &live);
    assert_int_equal(m, (int)em);
    assert_memory_equal(v, ev, sizeof v);
    assert_memory_equal(lq, elq, sizeof lq);
    assert_memory_equal(ids, eids, sizeof ids);
    assert_memory_equal(ages, eages, sizeof ages);
    size_t elive = 0;
    while (elive < em && eages[elive] <= max_age) elive++;
    assert_int_equal(live, elive);
    double size;
    assert_int_equal(negs_xbm_get_param(x, NEGS_XP_SIZE, &size), NEGS_OK);
    assert_true(size == (double)em);
}

/* ---------------------------------------------------------------- FIFO, ages, expiry */

static void test_fifo_exact_by_hand(void **state)
{
    (void)state;
    /* capacity 3, dim 1: embeddings are the entry numbers, so the order is visible. */
    negs_xbm *x = negs_xbm_create(3, 1);
    assert_non_null(x);
    float e[4] = {1, 2, 3, 4}, lq[4] = {-1, -2, -3, -4}, v[8], l[8];
    uint32_t id[4] = {11, 12, 13, 14}, ids[8];
    assert_int_equal(negs_xbm_layout(x, 0, 1, 1, 8, v, l, ids, NULL, NULL), 0);
    assert_int_equal(negs_xbm_push(x, 0, 2, 1, e, id, lq), NEGS_OK); /* holds 1 2 */
    assert_int_equal(negs_xbm_layout(x, 1, 1, 1, 8, v, l, ids, NULL, NULL), 2);
    assert_true(v[1] == 2 && v[2] == 1 && ids[1] == 12 && ids[2] == 11 && l[1] == -2 && l[2] == -1);
    assert_int_equal(negs_xbm_push(x, 1, 2, 1, e + 2, id + 2, lq + 2), NEGS_OK); /* 2 3 4 */
    assert_int_equal(negs_xbm_layout(x, 2, 0, 1, 8, v, l, ids, NULL, NULL), 3);
    assert_true(v[0] == 4 && v[1] == 3 && v[2] == 2);
    assert_true(ids[0] == 14 && ids[1] == 13 && ids[2] == 12);
    assert_int_equal(negs_xbm_push(x, 2, 3, 1, e, id, NULL), NEGS_OK); /* 1 2 3, logq 0 */
    assert_int_equal(negs_xbm_layout(x, 2, 0, 1, 8, v, l, ids, NULL, NULL), 3);
    assert_true(v[0] == 3 && v[1] == 2 && v[2] == 1 && l[0] == 0 && l[2] == 0);
    assert_int_equal(negs_xbm_reset(x), NEGS_OK);
    assert_int_equal(negs_xbm_layout(x, 0, 0, 1, 8, v, l, ids, NULL, NULL), 0);
    negs_xbm_free(x);
    negs_xbm_free(NULL);
}

static void test_fifo_wraparound_random(void **state)
{
    (void)state;
    static const size_t caps[] = {1, 2, 7, 16};
    for (size_t c = 0; c < sizeof caps / sizeof *caps; c++) {
        static history h;
        memset(&h, 0, sizeof h);
        h.dim = 5;
        h.id_range = 1000;
        negs_xbm *x = negs_xbm_create(caps[c], h.dim);
        assert_non_null(x);
        uint64_t step = 0;
        for (int round = 0; round < 40; round++) {
            size_t n = (size_t)(urand() * (double)(caps[c] + 1)); /* 0 .. capacity */
            if (h.n + n > HIST_MAX) break;
            step += (uint64_t)(urand() * 3.0); /* the same step twice, too */
            push_both(x, &h, step, n, round % 3 != 0);
            check_against_model(x, &h, caps[c], step + 1, UINT64_MAX, round % 4);
        }
        negs_xbm_free(x);
    }
}

static void test_ages_and_expiry(void **state)
{
    (void)state;
    static history h;
    memset(&h, 0, sizeof h);
    h.dim = 2;
    h.id_range = 1000;
    negs_xbm *x = negs_xbm_create(8, 2);
    assert_non_null(x);
    double got;
    assert_int_equal(negs_xbm_get_param(x, NEGS_XP_MAX_AGE, &got), NEGS_OK);
    assert_true(got == INFINITY);
    push_both(x, &h, 0, 2, 1);
    push_both(x, &h, 3, 2, 1);
    push_both(x, &h, 5, 3, 1);
    /* At step 7: ages 2, 2, 2, 4, 4, 7, 7. */
    assert_int_equal(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, 4), NEGS_OK);
    assert_int_equal(negs_xbm_get_param(x, NEGS_XP_MAX_AGE, &got), NEGS_OK);
    assert_true(got == 4.0);
    check_against_model(x, &h, 8, 7, 4, 3);
    float v[16 * 2], lq[16];
    uint32_t ids[16];
    uint64_t ages[16];
    size_t live;
    assert_int_equal(negs_xbm_layout(x, 7, 0, 2, 16, v, lq, ids, ages, &live), 7);
    static const uint64_t want_ages[7] = {2, 2, 2, 4, 4, 7, 7};
    assert_memory_equal(ages, want_ages, sizeof want_ages);
    assert_int_equal(live, 5);
    for (size_t k = 0; k < 7; k++) assert_true(k < 5 ? isfinite(lq[k]) : lq[k] == -INFINITY);
    /* Age 0 (laid out at the push step) is live even at max age 0; age 1 is not. */
    assert_int_equal(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, 0), NEGS_OK);
    check_against_model(x, &h, 8, 5, 0, 1);
    assert_int_equal(negs_xbm_layout(x, 5, 0, 2, 16, v, lq, ids, NULL, &live), 7);
    assert_int_equal(live, 3);
    assert_int_equal(negs_xbm_layout(x, 6, 0, 2, 16, v, lq, ids, NULL, &live), 7);
    assert_int_equal(live, 0);
    for (size_t k = 0; k < 7; k++) assert_true(lq[k] == -INFINITY);
    /* Back to no limit. */
    assert_int_equal(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, INFINITY), NEGS_OK);
    check_against_model(x, &h, 8, 1000000, UINT64_MAX, 2);
    negs_xbm_free(x);
}

/* ---------------------------------------------------------------- fed to negs_loss_inbatch */

enum { B = 6, CAP = 10, D = 8, N_USERS = 5, N_ITEMS = 40 };

/* A memory of CAP entries over four batches of B; batch items and memory items both from a
 * small catalogue, so accidental hits and known positives land in the memory. */
static negs_xbm *filled_memory(history *h, uint64_t max_age)
{
    memset(h, 0, sizeof *h);
    h->dim = D;
    negs_xbm *x = negs_xbm_create(CAP, D);
    assert_non_null(x);
    h->id_range = N_ITEMS;
    for (uint64_t s = 0; s < 4; s++) push_both(x, h, s, B, 1);
    if (max_age != UINT64_MAX)
        assert_int_equal(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, (double)max_age), NEGS_OK);
    return x;
}

static void loss_vs_brute_force(uint64_t max_age, int reduction, int threads)
{
    static history h;
    negs_xbm *x = filled_memory(&h, max_age);
    pos_tab pos = make_pos(N_USERS, N_ITEMS, 0.2);
    negs_loss *l = make_loss(0.2, reduction, threads, 0);
    assert_int_equal(negs_loss_set_positives(l, pos.csr), NEGS_OK);
    const uint64_t step = 4;
    float *u = rand_f(B * D, -1, 1), *pv = rand_f(B * D, -1, 1);
    float v[(B + CAP) * D], bv[(B + CAP) * D], lq[B + CAP], blq[B + CAP];
    uint32_t ids[B + CAP], bids[B + CAP], users[B];
    uint64_t ages[CAP];
    for (size_t i = 0; i < B; i++) {
        ids[i] = bids[i] = (uint32_t)(urand() * N_ITEMS);
        lq[i] = blq[i] = (float)(-2.0 - urand());
        users[i] = (uint32_t)(urand() * N_USERS);
    }
    ids[0] = bids[0] = h.id[h.n - 1]; /* an accidental hit: row 0's positive is in memory */
    memcpy(v, pv, sizeof(float) * B * D);
    memcpy(bv, pv, sizeof(float) * B * D);
    size_t live;
    int m = negs_xbm_layout(x, step, B, D, B + CAP, v, lq, ids, NULL, &live);
    assert_int_equal(m, CAP);
    size_t bm = expected_layout(&h, CAP, step, max_age, B, bv, blq, bids, ages);
    assert_int_equal(bm, CAP);

    float loss[B], bloss[B], du[B * D], bdu[B * D], dv[(B + CAP) * D], bdv[(B + CAP) * D];
    assert_int_equal(negs_loss_inbatch(l, B, (size_t)m, D, u, v, lq, ids, users, loss, du, dv),
                     NEGS_OK);
    assert_int_equal(negs_loss_inbatch(l, B, bm, D, u, bv, blq, bids, users, bloss, bdu, bdv),
                     NEGS_OK);
    size_t n_loss = reduction == NEGS_REDUCE_NONE ? B : 1;
    assert_memory_equal(loss, bloss, n_loss * sizeof *loss);
    assert_memory_equal(du, bdu, sizeof du);
    assert_memory_equal(dv, bdv, sizeof dv);

    /* The dense double reference on the same columns, masks included. */
    double *ud = to_d(u, B * D), *vd = to_d(v, (B + CAP) * D);
    double rows[B], rdu[B * D], rdv[(B + CAP) * D];
    ib_case c = {B, CAP, D, 0.2, reduction, lq, ids, users, pos.dense, N_ITEMS};
    double total = ib_ref(&c, ud, vd, rows, rdu, rdv);
    if (reduction == NEGS_REDUCE_NONE)
        assert_true(rel_err(loss, rows, B, 1e-3) < 1e-5);
    else
        assert_true(fabs(loss[0] - total) <= 1e-5 * fmax(1.0, fabs(total)));
    assert_true(rel_err(du, rdu, B * D, 1e-6) < 1e-5);
    assert_true(rel_err(dv, rdv, (B + CAP) * D, 1e-6) < 1e-5);
    /* Expired entries are no candidates: dv is exactly zero on their rows. */
    for (size_t k = live; k < CAP; k++)
        for (size_t q = 0; q < D; q++) assert_true(dv[(B + k) * D + q] == 0.0f);
    /* Only the live prefix: the same loss (the expired columns contribute exactly 0). */
    float lloss[B], ldu[B * D];
    assert_int_equal(negs_loss_inbatch(l, B, live, D, u, v, lq, ids, users, lloss, ldu, NULL),
                     NEGS_OK);
    for (size_t i = 0; i < n_loss; i++) assert_true(fabsf(lloss[i] - loss[i]) <= 1e-6f * fabsf(loss[i]));
    assert_true(rel_err(ldu, rdu, B * D, 1e-6) < 1e-5);

    free(ud), free(vd), free(u), free(pv);
    negs_loss_free(l);
    free_pos(&pos);
    negs_xbm_free(x);
}

static void test_loss_equals_brute_force(void **state)
{
    (void)state;
    loss_vs_brute_force(UINT64_MAX, NEGS_REDUCE_MEAN, 1);
    loss_vs_brute_force(UINT64_MAX, NEGS_REDUCE_NONE, 2);
    loss_vs_brute_force(1, NEGS_REDUCE_MEAN, 2); /* the older of the two batches held expired */
    loss_vs_brute_force(1, NEGS_REDUCE_SUM, 1);
}

/* An accidental hit in the memory: row 0's positive, pushed by an earlier batch, is masked
 * for row 0 (and only for it) through the laid-out item ids. b = 2, dim = 1 by hand. */
static void test_accidental_hit_in_memory(void **state)
{
    (void)state;
    negs_xbm *x = negs_xbm_create(2, 1);
    assert_non_null(x);
    float me[2] = {2.0f, 1.0f}, mlq[2] = {0.0f, 0.0f};
    uint32_t mid[2] = {7, 8}; /* item 7 is row 0's positive below */
    assert_int_equal(negs_xbm_push(x, 0, 2, 1, me, mid, mlq), NEGS_OK);
    float u[2] = {1.0f, 0.5f}, v[4] = {0.5f, -1.0f, 0, 0}, lq[4] = {0, 0, 0, 0};
    uint32_t ids[4] = {7, 9, 0, 0};
    assert_int_equal(negs_xbm_layout(x, 1, 2, 1, 4, v, lq, ids, NULL, NULL), 2);
    /* columns: v = 0.5 (id 7), -1 (id 9), 1 (id 8, newest), 2 (id 7, the hit) */
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_NONE, 1, 0);
    float loss[2], dv[4];
    assert_int_equal(negs_loss_inbatch(l, 2, 2, 1, u, v, lq, ids, NULL, loss, NULL, dv), NEGS_OK);
    /* row 0 over columns 0, 1, 2 (column 3 masked); row 1 over all four */
    double z0[3] = {0.5, -1.0, 1.0}, z1[4] = {0.25, -0.5, 0.5, 1.0};
    double s0 = exp(z0[0]) + exp(z0[1]) + exp(z0[2]);
    double s1 = exp(z1[0]) + exp(z1[1]) + exp(z1[2]) + exp(z1[3]);
    assert_true(fabs(loss[0] - (log(s0) - z0[0])) < 1e-6);
    assert_true(fabs(loss[1] - (log(s1) - z1[1])) < 1e-6);
    /* dv of the hit's column: row 1's share only */
    assert_true(fabs(dv[3] - exp(z1[3]) / s1 * u[1]) < 1e-6);
    /* Without the ids nothing is masked: row 0 then differs. */
    float unmasked[2];
    assert_int_equal(negs_loss_inbatch(l, 2, 2, 1, u, v, lq, NULL, NULL, unmasked, NULL, NULL),
                     NEGS_OK);
    assert_true(unmasked[0] > loss[0] + 0.1f);
    negs_loss_free(l);
    negs_xbm_free(x);
}

/* ---------------------------------------------------------------- bad input */

static void expect_error(int rc, int want, const char *needle)
{
    assert_int_equal(rc, want);
    if (!strstr(negs_last_error(), needle) ||
        strncmp(negs_last_error(), negs_status_name(want), strlen(negs_status_name(want)))) {
        printf("sentence \"%s\" lacks \"%s\"\n", negs_last_error(), needle);
        fail();
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    assert_null(negs_xbm_create(0, 4));
    expect_error(negs_last_status(), NEGS_E_INVALID, "negs_xbm_create: capacity is 0");
    assert_null(negs_xbm_create(4, 0));
    expect_error(negs_last_status(), NEGS_E_INVALID, "negs_xbm_create: dim is 0");
    assert_null(negs_xbm_create((size_t)INT_MAX + 1, 1));
    expect_error(negs_last_status(), NEGS_E_INVALID, "exceeds INT_MAX");
    assert_null(negs_xbm_create(4, SIZE_MAX / 2));
    expect_error(negs_last_status(), NEGS_E_INVALID, "capacity * dim");

    static history h;
    memset(&h, 0, sizeof h);
    h.dim = 3;
    h.id_range = 1000;
    negs_xbm *x = negs_xbm_create(4, 3);
    assert_non_null(x);
    push_both(x, &h, 5, 3, 1);
    float e[5 * 3] = {0}, lq[5] = {0}, v[16 * 3];
    uint32_t id[5] = {0}, ids[16];
    expect_error(negs_xbm_push(x, 6, 5, 3, e, id, lq), NEGS_E_INVALID,
                 "negs_xbm_push: n = 5 entries exceed the capacity 4");
    expect_error(negs_xbm_push(x, 6, 1, 4, e, id, lq), NEGS_E_INVALID,
                 "negs_xbm_push: dim = 4 but the memory holds rows of dim 3");
    expect_error(negs_xbm_push(x, 4, 1, 3, e, id, lq), NEGS_E_INVALID,
                 "negs_xbm_push: step 4 is below the last push's step 5");
    expect_error(negs_xbm_push(x, 6, 1, 3, NULL, id, lq), NEGS_E_INVALID, "emb is NULL");
    expect_error(negs_xbm_push(x, 6, 1, 3, e, NULL, lq), NEGS_E_INVALID, "item_ids is NULL");
    expect_error(negs_xbm_push(NULL, 6, 1, 3, e, id, lq), NEGS_E_INVALID, "x is NULL");
    e[4] = NAN;
    expect_error(negs_xbm_push(x, 6, 2, 3, e, id, lq), NEGS_E_INVALID,
                 "negs_xbm_push: emb[4] = nan is not finite");
    e[4] = INFINITY;
    expect_error(negs_xbm_push(x, 6, 2, 3, e, id, lq), NEGS_E_INVALID, "emb[4] = inf");
    e[4] = 0;
    lq[1] = -INFINITY;
    expect_error(negs_xbm_push(x, 6, 2, 3, e, id, lq), NEGS_E_INVALID, "logq[1] = -inf");
    lq[1] = NAN;
    expect_error(negs_xbm_push(x, 6, 2, 3, e, id, lq), NEGS_E_INVALID, "logq[1] = nan");
    /* n = 0 is a no-op, but its step is still checked. */
    assert_int_equal(negs_xbm_push(x, 6, 0, 3, NULL, NULL, NULL), NEGS_OK);
    expect_error(negs_xbm_push(x, 2, 0, 3, NULL, NULL, NULL), NEGS_E_INVALID, "step 2");

    expect_error(negs_xbm_layout(x, 6, 1, 3, 16, NULL, lq, ids, NULL, NULL), NEGS_E_INVALID,
                 "negs_xbm_layout: v is NULL");
    expect_error(negs_xbm_layout(x, 6, 1, 3, 16, v, NULL, ids, NULL, NULL), NEGS_E_INVALID,
                 "negs_xbm_layout: logq is NULL");
    expect_error(negs_xbm_layout(x, 6, 1, 2, 16, v, lq, ids, NULL, NULL), NEGS_E_INVALID,
                 "negs_xbm_layout: dim = 2 but the memory holds rows of dim 3");
    expect_error(negs_xbm_layout(x, 6, 2, 3, 4, v, lq, ids, NULL, NULL), NEGS_E_INVALID,
                 "negs_xbm_layout: n_rows = 4 cannot hold b = 2 positives and the 3 entries held");
    expect_error(negs_xbm_layout(x, 6, SIZE_MAX, 3, SIZE_MAX, v, lq, ids, NULL, NULL),
                 NEGS_E_INVALID, "cannot hold");
    expect_error(negs_xbm_layout(x, 4, 1, 3, 16, v, lq, ids, NULL, NULL), NEGS_E_INVALID,
                 "negs_xbm_layout: step 4 is below the newest entry's step 5");
    expect_error(negs_xbm_layout(NULL, 6, 1, 3, 16, v, lq, ids, NULL, NULL), NEGS_E_INVALID,
                 "x is NULL");

    static const double bad_ages[] = {-1.0, 0.5, NAN, -INFINITY, 1e300};
    for (size_t i = 0; i < sizeof bad_ages / sizeof *bad_ages; i++)
        expect_error(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, bad_ages[i]), NEGS_E_INVALID,
                     "NEGS_XP_MAX_AGE");
    expect_error(negs_xbm_set_param(x, NEGS_XP_CAPACITY, 8), NEGS_E_INVALID, "read-only");
    expect_error(negs_xbm_set_param(x, NEGS_XP_SIZE, 0), NEGS_E_INVALID, "read-only");
    expect_error(negs_xbm_set_param(x, 99, 0), NEGS_E_UNSUPPORTED, "unknown parameter 99");
    double got;
    expect_error(negs_xbm_get_param(x, 99, &got), NEGS_E_UNSUPPORTED, "unknown parameter 99");
    expect_error(negs_xbm_get_param(x, NEGS_XP_DIM, NULL), NEGS_E_INVALID, "value is NULL");
    expect_error(negs_xbm_reset(NULL), NEGS_E_INVALID, "negs_xbm_reset: x is NULL");
    assert_int_equal(negs_xbm_get_param(x, NEGS_XP_CAPACITY, &got), NEGS_OK);
    assert_true(got == 4.0);
    assert_int_equal(negs_xbm_get_param(x, NEGS_XP_DIM, &got), NEGS_OK);
    assert_true(got == 3.0);

    /* Nothing changed through all of it. */
    check_against_model(x, &h, 4, 9, UINT64_MAX, 2);
    negs_xbm_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fifo_exact_by_hand),
        cmocka_unit_test(test_fifo_wraparound_random),
        cmocka_unit_test(test_ages_and_expiry),
        cmocka_unit_test(test_loss_equals_brute_force),
        cmocka_unit_test(test_accidental_hit_in_memory),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
