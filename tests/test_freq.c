/* negs_freq: GAP and SKETCH behaviour (exactness, drift, duplicates, decay, merge, bad input). */
#include <stdio.h>

#include "freq/freq_internal.h"
#include "test_util.h"

/* A fixed-seed stream of test randomness, independent of the library. */
static uint64_t tr_state;
static double tr_uniform(void)
{
    tr_state += 0x9E3779B97F4A7C15ULL;
    uint64_t z = tr_state;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53;
}

static double p_of(const negs_freq *f, uint64_t id)
{
    float p;
    assert_int_equal(negs_freq_prob(f, &id, 1, &p), NEGS_OK);
    return p;
}

static void assert_rel(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol * fabs(want))) {
        print_error("got %.9g, want %.9g (relative tolerance %g)\n", got, want, tol);
        fail();
    }
}

/* True when the ids fall in pairwise distinct buckets of every row (no collisions). */
static int no_collisions(const negs_freq *f, const uint64_t *ids, size_t n)
{
    for (uint32_t j = 0; j < f->hashes; j++)
        for (size_t a = 0; a < n; a++)
            for (size_t b = a + 1; b < n; b++)
                if (negs_freq_bucket(f, j, ids[a]) == negs_freq_bucket(f, j, ids[b])) return 0;
    return 1;
}


#define assert_null_with(call, status)                                   \
    do {                                                                 \
        void *negs_p_ = (void *)(call);                                  \
        assert_null(negs_p_);                                            \
        assert_int_equal(negs_last_status(), (status));                  \
        assert_true(strlen(negs_last_error()) > 0);                      \
    } while (0)

static void test_create_bad_input(void **state)
{
    (void)state;
    assert_null_with(negs_freq_create(0, 16, 1, 1), NEGS_E_UNSUPPORTED);
    assert_null_with(negs_freq_create(3, 16, 1, 1), NEGS_E_UNSUPPORTED);
    assert_null_with(negs_freq_create(NEGS_FREQ_GAP, 0, 1, 1), NEGS_E_INVALID);
    assert_null_with(negs_freq_create(NEGS_FREQ_SKETCH, 16, 0, 1), NEGS_E_INVALID);
    assert_null_with(negs_freq_create(NEGS_FREQ_SKETCH, 16, 33, 1), NEGS_E_INVALID);
#if SIZE_MAX > 0xFFFFFFFFu
    assert_null_with(negs_freq_create(NEGS_FREQ_GAP, ((size_t)1 << 32) + 1, 1, 1), NEGS_E_INVALID);
#endif
    negs_freq_free(NULL);
}

static void test_params(void **state)
{
    (void)state;
    negs_freq *g = negs_freq_create(NEGS_FREQ_GAP, 64, 2, 7);
    negs_freq *s = negs_freq_create(NEGS_FREQ_SKETCH, 64, 2, 7);
    double v;
    assert_int_equal(negs_freq_get_param(g, NEGS_FP_ALPHA, &v), NEGS_OK);
    assert_true(v == 0.01);
    assert_int_equal(negs_freq_get_param(g, NEGS_FP_MAX_GAP, &v), NEGS_OK);
    assert_true(v == 100000.0);
    assert_int_equal(negs_freq_get_param(s, NEGS_FP_HALF_LIFE, &v), NEGS_OK);
    assert_true(v == 0.0);
    assert_int_equal(negs_freq_get_param(s, NEGS_FP_CONSERVATIVE, &v), NEGS_OK);
    assert_true(v == 1.0);
    assert_int_equal(negs_freq_set_param(g, NEGS_FP_ALPHA, 1.0), NEGS_OK);
    assert_fails_with(negs_freq_set_param(g, NEGS_FP_ALPHA, 0.0), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(g, NEGS_FP_ALPHA, 1.5), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(g, NEGS_FP_ALPHA, NAN), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(g, NEGS_FP_MAX_GAP, 0.5), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(g, NEGS_FP_MAX_GAP, INFINITY), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(s, NEGS_FP_HALF_LIFE, -1.0), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(s, NEGS_FP_HALF_LIFE, NAN), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(s, NEGS_FP_CONSERVATIVE, 0.5), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(g, NEGS_FP_HALF_LIFE, 10.0), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_freq_set_param(s, NEGS_FP_ALPHA, 0.1), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_freq_set_param(s, 99, 0.1), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_freq_get_param(g, 0, &v), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_freq_get_param(g, NEGS_FP_ALPHA, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_freq_set_param(NULL, NEGS_FP_ALPHA, 0.1), NEGS_E_INVALID);
    negs_freq_free(g);
    negs_freq_free(s);
}

static void test_update_query_bad_input(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 64, 2, 7);
    uint64_t ids[2] = {1, 2};
    float out[2];
    assert_fails_with(negs_freq_prob(f, ids, 2, out), NEGS_E_STATE); /* nothing seen yet */
    assert_fails_with(negs_freq_update(NULL, 0, ids, 2), NEGS_E_INVALID);
    assert_fails_with(negs_freq_update(f, 0, NULL, 2), NEGS_E_INVALID);
    assert_int_equal(negs_freq_update(f, 10, ids, 2), NEGS_OK);
    assert_int_equal(negs_freq_update(f, 10, ids, 2), NEGS_OK); /* equal step: same batch */
    float before[2], after[2];
    assert_int_equal(negs_freq_prob(f, ids, 2, before), NEGS_OK);
    assert_fails_with(negs_freq_update(f, 9, ids, 2), NEGS_E_INVALID);
    assert_int_equal(negs_freq_prob(f, ids, 2, after), NEGS_OK);
    assert_memory_equal(before, after, sizeof before); /* a refused update changes nothing */
    assert_int_equal(negs_freq_update(f, 11, NULL, 0), NEGS_OK); /* an empty batch */
    assert_fails_with(negs_freq_prob(f, NULL, 2, out), NEGS_E_INVALID);
    assert_fails_with(negs_freq_prob(f, ids, 2, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_freq_logq(f, ids, 2, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_freq_logq_batch(f, ids, 2, 0, out), NEGS_E_INVALID);
    assert_fails_with(negs_freq_prob(NULL, ids, 2, out), NEGS_E_INVALID);
    assert_int_equal(negs_freq_prob(f, NULL, 0, NULL), NEGS_OK);
    assert_fails_with(negs_freq_reset(NULL), NEGS_E_INVALID);
    assert_int_equal(negs_freq_reset(f), NEGS_OK);
    assert_fails_with(negs_freq_prob(f, ids, 2, out), NEGS_E_STATE);
    assert_int_equal(negs_freq_update(f, 3, ids, 2), NEGS_OK); /* after reset, any step */
    negs_freq *e = negs_freq_create(NEGS_FREQ_SKETCH, 64, 2, 7);
    assert_int_equal(negs_freq_update(e, 0, NULL, 0), NEGS_OK);
    assert_fails_with(negs_freq_prob(e, ids, 2, out), NEGS_E_STATE); /* steps but no ids */
    negs_freq_free(e);
    negs_freq_free(f);
}

/* Items with period g appear at every multiple of g: without collisions the gap is exactly g,
 * so the expected count per step is 1/g and p = (1/g) / (examples per step). */
static void periodic_case(uint32_t hashes)
{
    static const uint64_t period[6] = {1, 2, 3, 5, 7, 10};
    uint64_t ids[6];
    for (int k = 0; k < 6; k++) ids[k] = 1000003u * (uint64_t)(k + 1);
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 1u << 16, hashes, 42);
    assert_true(no_collisions(f, ids, 6));
    uint64_t total = 0, batch[6];
    const uint64_t T = 600;
    for (uint64_t t = 0; t < T; t++) {
        size_t n = 0;
        for (int k = 0; k < 6; k++)
            if (t % period[k] == 0) batch[n++] = ids[k];
        total += n;
        assert_int_equal(negs_freq_update(f, t, batch, n), NEGS_OK);
    }
    (void)total;
    double per_step = f->rate; /* examples per step: tested on its own */
    for (int k = 0; k < 6; k++) {
        assert_rel(p_of(f, ids[k]), 1.0 / (double)period[k] / per_step, 1e-6);
        const negs_gap_cell *c = f->cells + negs_freq_bucket(f, 0, ids[k]);
        assert_true(c->gap == (float)period[k]);
    }
    negs_freq_free(f);
}

static void test_gap_periodic_exact(void **state)
{
    (void)state;
    periodic_case(1);
    periodic_case(2);
    periodic_case(4);
}

/* Saturation: when every item is in every batch (a batch as large as the catalogue), all gaps
 * are 1 and 1/B cannot tell items apart; the occurrence counts still do. */
static void test_gap_saturation(void **state)
{
    (void)state;
    static const int count[4] = {26, 19, 13, 6}; /* 64 ids per batch */
    uint64_t batch[64], items[4] = {101, 202, 303, 404};
    size_t n = 0;
    for (int k = 0; k < 4; k++)
        for (int c = 0; c < count[k]; c++) batch[n++] = items[k];
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 1u << 12, 2, 8);
    assert_true(no_collisions(f, items, 4));
    for (uint64_t t = 0; t < 500; t++) {
        /* shuffle deterministically so duplicates are not adjacent */
        for (size_t i = 63; i > 0; i--) {
            size_t j = (size_t)(t * 7 + i * 13) % (i + 1);
            uint64_t x = batch[i];
            batch[i] = batch[j];
            batch[j] = x;
        }
        assert_int_equal(negs_freq_update(f, t, batch, 64), NEGS_OK);
    }
    for (int k = 0; k < 4; k++) assert_rel(p_of(f, items[k]), count[k] / 64.0, 1e-4);
    negs_freq_free(f);
}

/* Defined behaviour for duplicates: an id repeated in one batch (or in a second update call
 * at the same step) moves its gap once and its count once per occurrence. */
static void test_gap_duplicates(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 1u << 12, 2, 3);
    negs_freq *g = negs_freq_create(NEGS_FREQ_GAP, 1u << 12, 2, 3);
    uint64_t batch[4] = {7, 9, 7, 7}, x = 7, y = 9;
    assert_true(no_collisions(f, batch, 2));
    for (uint64_t t = 0; t < 300; t++) {
        assert_int_equal(negs_freq_update(f, t, batch, 4), NEGS_OK);
        /* the same batch in two calls at one step */
        assert_int_equal(negs_freq_update(g, t, batch, 2), NEGS_OK);
        assert_int_equal(negs_freq_update(g, t, batch + 2, 2), NEGS_OK);
    }
    const negs_gap_cell *c = f->cells + negs_freq_bucket(f, 0, x);
    assert_true(c->gap == 1.0f); /* never a gap of 0 */
    assert_rel(p_of(f, x), 0.75, 1e-5);
    assert_rel(p_of(f, y), 0.25, 1e-5);
    assert_true(p_of(f, x) == p_of(g, x) && p_of(f, y) == p_of(g, y));
    negs_freq_free(f);
    negs_freq_free(g);
}

/* The EMA starts from the first observed gap, so it is unbiased from the second sighting on
 * (an EMA started at 0 would read gap * (1 - (1 - alpha)^k)). Geometric gaps with P = 0.1. */
static void test_gap_ema_start_unbiased(void **state)
{
    (void)state;
    const size_t n_ids = negs_test_sanitized() ? 1000 : 2000;
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 1u << 20, 1, 5);
    uint64_t *batch = malloc(n_ids * sizeof *batch);
    tr_state = 11;
    for (uint64_t t = 0; t < 200; t++) {
        size_t n = 0;
        for (size_t i = 0; i < n_ids; i++)
            if (tr_uniform() < 0.1) batch[n++] = i + 1;
        assert_int_equal(negs_freq_update(f, t, batch, n), NEGS_OK);
    }
    double sum = 0.0;
    size_t seen = 0;
    for (size_t i = 0; i < n_ids; i++) {
        const negs_gap_cell *c = f->cells + negs_freq_bucket(f, 0, i + 1);
        if (c->gap > 0.0f) {
            sum += c->gap;
            seen++;
        }
    }
    assert_true(seen > n_ids * 9 / 10);
    double mean = sum / (double)seen; /* E = 1/P = 10; sd of one ~ 9.5 */
    if (fabs(mean - 10.0) > 0.9) {
        print_error("mean gap %.4f over %zu ids, want 10\n", mean, seen);
        fail();
    }
    free(batch);
    negs_freq_free(f);
}

/* After a period change from 10 to 5 the EMA converges geometrically: after k new gaps the
 * gap reads 5 + 5 (1 - alpha)^k. */
static void test_gap_convergence(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 1024, 1, 9);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_ALPHA, 0.1), NEGS_OK);
    uint64_t x = 77, t = 0;
    for (int i = 0; i < 200; i++, t += 10) assert_int_equal(negs_freq_update(f, t, &x, 1), NEGS_OK);
    t -= 5;
    for (int k = 0; k < 20; k++, t += 5) assert_int_equal(negs_freq_update(f, t, &x, 1), NEGS_OK);
    const negs_gap_cell *c = f->cells + negs_freq_bucket(f, 0, x);
    assert_rel(c->gap, 5.0 + 5.0 * pow(0.9, 20), 1e-5);
    negs_freq_free(f);
}

/* An id that stops appearing: its open gap (steps since the last sighting) takes over once a
 * gap that long is improbable (< 1%) under the gap EMA: g = max(B, open / ln 100). */
static void test_gap_open_gap_drift_down(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 1u << 12, 2, 1);
    uint64_t both[2] = {5, 6}, y = 6;
    assert_true(no_collisions(f, both, 2));
    uint64_t t = 0, total = 0;
    for (; t < 100; t++, total += 2) assert_int_equal(negs_freq_update(f, t, both, 2), NEGS_OK);
    double before = p_of(f, 5);
    assert_rel(before, 0.5, 1e-6);
    double last = before;
    for (; t < 400; t++, total++) {
        assert_int_equal(negs_freq_update(f, t, &y, 1), NEGS_OK);
        if (t % 50 == 0) {
            /* examples per step: EMA (alpha 0.01) from 2 toward 1 */
            double per_step = 1.0 + pow(0.99, (double)(t - 99)), p = p_of(f, 5);
            double g = (double)(t - 99) / log(100.0); /* the open gap, at the 1% level */
            assert_rel(p, 1.0 / (g > 1.0 ? g : 1.0) / per_step, 1e-5);
            if (t > 100) assert_true(p < last);
            last = p;
        }
    }
    negs_freq_free(f);
}

/* The first-sight rule: unseen -> 1/MAX_GAP per step; seen at one step only -> once in the
 * stream so far, capped by MAX_GAP (never gap = step, whatever the step number). */
static void test_gap_first_sight(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 1u << 12, 2, 1);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_MAX_GAP, 100.0), NEGS_OK);
    uint64_t a = 1, cold = 2, never = 3;
    const uint64_t t0 = (uint64_t)1 << 50; /* a stream that starts late */
    for (uint64_t t = t0; t < t0 + 40; t++) assert_int_equal(negs_freq_update(f, t, &a, 1), NEGS_OK);
    assert_int_equal(negs_freq_update(f, t0 + 40, &cold, 1), NEGS_OK);
    double per_step = 41.0 / 41.0;
    assert_rel(p_of(f, cold), 1.0 / 41.0 / per_step, 1e-6); /* span 41 < MAX_GAP */
    assert_rel(p_of(f, never), 1.0 / 100.0 / per_step, 1e-6);
    for (uint64_t t = t0 + 41; t < t0 + 300; t++)
        assert_int_equal(negs_freq_update(f, t, &a, 1), NEGS_OK);
    assert_int_equal(negs_freq_update(f, t0 + 300, &cold, 1), NEGS_OK); /* second sighting */
    per_step = 1.0;
    assert_rel(p_of(f, cold), 1.0 / 100.0 / per_step, 1e-6); /* gap 260 capped at 100 */
    negs_freq *g = negs_freq_create(NEGS_FREQ_GAP, 1u << 12, 2, 1);
    assert_int_equal(negs_freq_set_param(g, NEGS_FP_MAX_GAP, 100.0), NEGS_OK);
    for (uint64_t t = 0; t < 500; t++) assert_int_equal(negs_freq_update(g, t, &a, 1), NEGS_OK);
    assert_int_equal(negs_freq_update(g, 500, &cold, 1), NEGS_OK);
    assert_rel(p_of(g, cold), 1.0 / 100.0, 1e-6); /* span 501 capped at MAX_GAP */
    negs_freq_free(f);
    negs_freq_free(g);
}

/* Examples per unit step: exact for constant batches, per unit step when steps skip, and a
 * second call at one step adds to that step's batch. */
static void test_examples_per_step(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_GAP, 256, 1, 1);
    uint64_t b[60];
    for (int i = 0; i < 60; i++) b[i] = (uint64_t)i;
    for (uint64_t t = 0; t < 10; t++) assert_int_equal(negs_freq_update(f, t, b, 6), NEGS_OK);
    assert_true(f->rate == 6.0);
    assert_int_equal(negs_freq_update(f, 9, b, 6), NEGS_OK); /* 12 at step 9 */
    assert_rel(f->rate, 6.0 + 0.01 * 6.0, 1e-12);
    negs_freq *g = negs_freq_create(NEGS_FREQ_SKETCH, 256, 1, 1);
    for (uint64_t t = 0; t < 5000; t += 10) assert_int_equal(negs_freq_update(g, t, b, 50), NEGS_OK);
    /* 50 ids every 10 steps: 5 per step; the first step (no interval yet) counted 50 */
    assert_rel(g->rate, 5.0 + 45.0 * pow(0.99, 499.0), 1e-9);
    negs_freq_free(f);
    negs_freq_free(g);
}

/* SKETCH without decay and without collisions counts exactly. */
static void test_sketch_exact_shares(void **state)
{
    (void)state;
    for (int cu = 0; cu <= 1; cu++) {
        negs_freq *f = negs_freq_create(NEGS_FREQ_SKETCH, 1u << 12, 3, 4);
        assert_int_equal(negs_freq_set_param(f, NEGS_FP_CONSERVATIVE, cu), NEGS_OK);
        uint64_t batch[6] = {10, 11, 11, 12, 12, 12};
        assert_true(no_collisions(f, (uint64_t[]){10, 11, 12}, 3));
        for (uint64_t t = 0; t < 50; t++) assert_int_equal(negs_freq_update(f, t, batch, 6), NEGS_OK);
        assert_rel(p_of(f, 10), 1.0 / 6.0, 1e-6);
        assert_rel(p_of(f, 11), 2.0 / 6.0, 1e-6);
        assert_rel(p_of(f, 12), 3.0 / 6.0, 1e-6);
        /* unseen: the floor 1 / (MAX_GAP * examples per step) */
        assert_rel(p_of(f, 13), 1.0 / (100000.0 * 6.0), 1e-6);
        float lq;
        uint64_t id = 12;
        assert_int_equal(negs_freq_logq(f, &id, 1, &lq), NEGS_OK);
        assert_rel(lq, log(0.5), 1e-6);
        negs_freq_free(f);
    }
}

/* One half-life halves a past occurrence's weight. */
static void test_sketch_half_life(void **state)
{
    (void)state;
    const double h = 250.0;
    negs_freq *f = negs_freq_create(NEGS_FREQ_SKETCH, 1u << 12, 2, 4);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_HALF_LIFE, h), NEGS_OK);
    uint64_t eight[8] = {1, 1, 1, 1, 1, 1, 1, 1}, y = 2;
    assert_int_equal(negs_freq_update(f, 1000, eight, 8), NEGS_OK);
    assert_int_equal(negs_freq_update(f, 1000 + 3 * 250, &y, 1), NEGS_OK);
    assert_rel(p_of(f, 1), 0.5, 1e-9); /* 8 * 2^-3 = 1 against 1 */
    assert_rel(p_of(f, 2), 0.5, 1e-9);
    assert_int_equal(negs_freq_update(f, 1000 + 4 * 250, &y, 1), NEGS_OK);
    /* x: 0.5, y: 1 * 0.5 + 1 = 1.5 */
    assert_rel(p_of(f, 1), 0.25, 1e-9);
    /* changing the half-life keeps the past decayed under the old one */
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_HALF_LIFE, 100.0), NEGS_OK);
    assert_int_equal(negs_freq_update(f, 1000 + 4 * 250 + 100, &y, 1), NEGS_OK);
    /* x: 0.25, y: 0.75 + 1 */
    assert_rel(p_of(f, 1), 0.25 / 2.0, 1e-9);
    negs_freq_free(f);
}

/* Forward decay never overflows: steps around and beyond 2^40 with a short half-life, and a
 * jump far ahead that decays all history away. */
static void test_sketch_no_overflow_2_40(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_SKETCH, 1u << 10, 2, 4);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_HALF_LIFE, 3.0), NEGS_OK);
    uint64_t batch[4] = {1, 1, 1, 2};
    const uint64_t t0 = ((uint64_t)1 << 40) - 3000;
    for (uint64_t t = t0; t < t0 + 6000; t++) assert_int_equal(negs_freq_update(f, t, batch, 4), NEGS_OK);
    assert_true(isfinite(f->total) && f->total < 1e300);
    assert_rel(p_of(f, 1), 0.75, 1e-9);
    assert_rel(p_of(f, 2), 0.25, 1e-9);
    uint64_t z = 3;
    assert_int_equal(negs_freq_update(f, (uint64_t)1 << 41, &z, 1), NEGS_OK);
    assert_rel(p_of(f, 3), 1.0, 1e-9);
    assert_rel(p_of(f, 1), 1.0 / (1e5 * (4.0 * 0.99 + 0.01 * 0x1.0p-40)), 1e-6); /* the floor */
    assert_int_equal(negs_freq_update(f, UINT64_MAX - 1, &z, 1), NEGS_OK);
    assert_int_equal(negs_freq_update(f, UINT64_MAX, batch, 4), NEGS_OK);
    assert_rel(p_of(f, 1), 0.75 / (1.0 + 4.0 * exp2(-1.0 / 3.0) / 4.0 + 0.0) * 1.0, 0.5);
    float p[3];
    assert_int_equal(negs_freq_prob(f, (uint64_t[]){1, 2, 3}, 3, p), NEGS_OK);
    for (int i = 0; i < 3; i++) assert_true(isfinite(p[i]) && p[i] > 0.0f && p[i] <= 1.0f);
    /* GAP too: gaps near 2^63 and beyond */
    negs_freq *g = negs_freq_create(NEGS_FREQ_GAP, 1u << 10, 2, 4);
    assert_int_equal(negs_freq_update(g, 0, &z, 1), NEGS_OK);
    assert_int_equal(negs_freq_update(g, UINT64_MAX, &z, 1), NEGS_OK);
    assert_rel(p_of(g, 3), 1.0 / 100000.0 / (2.0 / 0x1.0p64), 1e-3 + 1.0); /* finite */
    assert_true(p_of(g, 3) <= 1.0f && p_of(g, 3) > 0.0f);
    negs_freq_free(g);
    negs_freq_free(f);
}

/* Merge by addition: with plain count-min it equals the sketch of the union (bit-exact
 * without decay, to rounding with decay); with conservative update it stays between the true
 * count and the plain count-min of the union. */
static void build_shards(negs_freq *a, negs_freq *b, negs_freq *u, uint64_t steps)
{
    uint64_t ba[64], bb[64], bu[128];
    tr_state = 99;
    for (uint64_t t = 0; t < steps; t++) {
        for (int i = 0; i < 64; i++) {
            ba[i] = (uint64_t)(tr_uniform() * tr_uniform() * 300.0);
            bb[i] = (uint64_t)(tr_uniform() * 300.0);
            bu[i] = ba[i];
            bu[64 + i] = bb[i];
        }
        assert_int_equal(negs_freq_update(a, t, ba, 64), NEGS_OK);
        assert_int_equal(negs_freq_update(b, t, bb, 64), NEGS_OK);
        if (u) assert_int_equal(negs_freq_update(u, t, bu, 128), NEGS_OK);
    }
}

static negs_freq *mk_sketch(double h, int cu)
{
    negs_freq *f = negs_freq_create(NEGS_FREQ_SKETCH, 128, 3, 17);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_HALF_LIFE, h), NEGS_OK);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_CONSERVATIVE, cu), NEGS_OK);
    return f;
}

static void test_sketch_merge_is_union(void **state)
{
    (void)state;
    /* plain count-min, no decay: the saved images are identical */
    negs_freq *a = mk_sketch(0, 0), *b = mk_sketch(0, 0), *u = mk_sketch(0, 0);
    build_shards(a, b, u, 200);
    assert_int_equal(negs_freq_merge(a, b), NEGS_OK);
    size_t na, nu;
    assert_int_equal(negs_freq_save(a, NULL, 0, &na), NEGS_OK);
    assert_int_equal(negs_freq_save(u, NULL, 0, &nu), NEGS_OK);
    assert_int_equal(na, nu);
    unsigned char *ia = malloc(na), *iu = malloc(nu);
    assert_int_equal(negs_freq_save(a, ia, na, &na), NEGS_OK);
    assert_int_equal(negs_freq_save(u, iu, nu, &nu), NEGS_OK);
    assert_memory_equal(ia, iu, na);
    free(ia);
    free(iu);
    negs_freq_free(a), negs_freq_free(b), negs_freq_free(u);

    /* plain count-min with decay across several renormalisations: equal to rounding */
    a = mk_sketch(2.0, 0), b = mk_sketch(2.0, 0), u = mk_sketch(2.0, 0);
    build_shards(a, b, u, 1500);
    assert_int_equal(negs_freq_merge(a, b), NEGS_OK);
    assert_true(a->landmark == u->landmark);
    for (size_t k = 0; k < 128 * 3; k++) assert_true(fabs(a->cnt[k] - u->cnt[k]) <= 1e-12 * u->total);
    assert_rel(a->total, u->total, 1e-12);
    negs_freq_free(a), negs_freq_free(b), negs_freq_free(u);

    /* shards updated at different steps (b only every third step), so their landmarks differ
     * and the merge has to align them */
    a = mk_sketch(2.0, 0), b = mk_sketch(2.0, 0), u = mk_sketch(2.0, 0);
    {
        uint64_t ba[8], bu[16];
        for (uint64_t t = 0; t < 1500; t++) {
            for (int i = 0; i < 8; i++) ba[i] = bu[i] = (t * 31 + (uint64_t)i * 7) % 97;
            assert_int_equal(negs_freq_update(a, t, ba, 8), NEGS_OK);
            size_t nb = 8;
            if (t % 3 == 1) {
                for (int i = 0; i < 8; i++) ba[i] = bu[8 + i] = (t * 17 + (uint64_t)i) % 89;
                assert_int_equal(negs_freq_update(b, t, ba, 8), NEGS_OK);
                nb = 16;
            }
            assert_int_equal(negs_freq_update(u, t, bu, nb), NEGS_OK);
        }
    }
    assert_true(a->landmark != b->landmark);
    assert_int_equal(negs_freq_merge(b, a), NEGS_OK);
    /* landmarks may differ from the union's: compare the decayed shares */
    for (size_t k = 0; k < 128 * 3; k++)
        assert_true(fabs(b->cnt[k] / b->total - u->cnt[k] / u->total) <= 1e-12);
    for (uint64_t id = 0; id < 100; id++) /* above the floor (the step rates differ here) */
        if (p_of(u, id) > 1e-4) assert_rel(p_of(b, id), p_of(u, id), 1e-6);
    /* and the merged sketch saves and loads like any other */
    {
        size_t n;
        assert_int_equal(negs_freq_save(b, NULL, 0, &n), NEGS_OK);
        unsigned char *img = malloc(n);
        assert_int_equal(negs_freq_save(b, img, n, &n), NEGS_OK);
        negs_freq *l = negs_freq_load(img, n);
        assert_non_null(l);
        assert_true(p_of(l, 5) == p_of(b, 5));
        negs_freq_free(l);
        free(img);
    }
    negs_freq_free(a), negs_freq_free(b), negs_freq_free(u);

    /* conservative update: true count <= merged estimate <= plain count-min of the union */
    a = mk_sketch(0, 1), b = mk_sketch(0, 1), u = mk_sketch(0, 0);
    negs_freq *exact = negs_freq_create(NEGS_FREQ_SKETCH, 1u << 16, 1, 1);
    build_shards(a, b, u, 200);
    assert_int_equal(negs_freq_merge(a, b), NEGS_OK);
    tr_state = 99;
    double count[300] = {0};
    for (uint64_t t = 0; t < 200; t++)
        for (int i = 0; i < 64; i++) {
            count[(uint64_t)(tr_uniform() * tr_uniform() * 300.0)] += 1;
            count[(uint64_t)(tr_uniform() * 300.0)] += 1;
        }
    int strictly_better = 0;
    for (uint64_t id = 0; id < 300; id++) {
        double pm = p_of(a, id) * 25600.0, pu = p_of(u, id) * 25600.0;
        assert_true(pm >= count[id] * (1 - 1e-6) - 1e-3 || count[id] == 0);
        assert_true(pm <= pu * (1 + 1e-6));
        strictly_better += pm < pu * (1 - 1e-6);
    }
    assert_true(strictly_better > 0);
    negs_freq_free(exact);
    negs_freq_free(a), negs_freq_free(b), negs_freq_free(u);
}

static void test_merge_refusals(void **state)
{
    (void)state;
    negs_freq *s = negs_freq_create(NEGS_FREQ_SKETCH, 64, 2, 1);
    negs_freq *g = negs_freq_create(NEGS_FREQ_GAP, 64, 2, 1);
    negs_freq *g2 = negs_freq_create(NEGS_FREQ_GAP, 64, 2, 1);
    negs_freq *sb = negs_freq_create(NEGS_FREQ_SKETCH, 65, 2, 1);
    negs_freq *sh = negs_freq_create(NEGS_FREQ_SKETCH, 64, 3, 1);
    negs_freq *ss = negs_freq_create(NEGS_FREQ_SKETCH, 64, 2, 2);
    negs_freq *sl = negs_freq_create(NEGS_FREQ_SKETCH, 64, 2, 1);
    negs_freq *ok = negs_freq_create(NEGS_FREQ_SKETCH, 64, 2, 1);
    assert_int_equal(negs_freq_set_param(sl, NEGS_FP_HALF_LIFE, 5.0), NEGS_OK);
    assert_fails_with(negs_freq_merge(s, g), NEGS_E_INVALID);
    assert_fails_with(negs_freq_merge(g, g2), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_freq_merge(s, sb), NEGS_E_INVALID);
    assert_fails_with(negs_freq_merge(s, sh), NEGS_E_INVALID);
    assert_fails_with(negs_freq_merge(s, ss), NEGS_E_INVALID);
    assert_fails_with(negs_freq_merge(s, sl), NEGS_E_INVALID);
    assert_fails_with(negs_freq_merge(NULL, s), NEGS_E_INVALID);
    assert_fails_with(negs_freq_merge(s, NULL), NEGS_E_INVALID);
    /* merging into an empty sketch copies; merging an empty one changes nothing */
    uint64_t ids[3] = {1, 2, 2};
    assert_int_equal(negs_freq_update(ok, 4, ids, 3), NEGS_OK);
    assert_int_equal(negs_freq_merge(s, ok), NEGS_OK);
    assert_rel(p_of(s, 2), 2.0 / 3.0, 1e-6);
    negs_freq *empty = negs_freq_create(NEGS_FREQ_SKETCH, 64, 2, 1);
    assert_int_equal(negs_freq_merge(s, empty), NEGS_OK);
    assert_rel(p_of(s, 2), 2.0 / 3.0, 1e-6);
    negs_freq_free(empty);
    negs_freq_free(s), negs_freq_free(g), negs_freq_free(g2), negs_freq_free(sb);
    negs_freq_free(sh), negs_freq_free(ss), negs_freq_free(sl), negs_freq_free(ok);
}

/* log P(in a batch of B) = log(1 - (1 - p)^B), stable at both ends. */
static void test_logq_batch(void **state)
{
    (void)state;
    negs_freq *f = negs_freq_create(NEGS_FREQ_SKETCH, 1u << 12, 2, 4);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_MAX_GAP, 1e15), NEGS_OK);
    uint64_t batch[4] = {1, 1, 1, 2};
    assert_int_equal(negs_freq_update(f, 0, batch, 4), NEGS_OK);
    uint64_t ids[3] = {1, 2, 3};
    float lb[3], lq[3];
    assert_int_equal(negs_freq_logq_batch(f, ids, 3, 10, lb), NEGS_OK);
    assert_int_equal(negs_freq_logq(f, ids, 3, lq), NEGS_OK);
    assert_rel(lb[0], log(1.0 - pow(0.25, 10)), 1e-5);
    assert_rel(lb[1], log(1.0 - pow(0.75, 10)), 1e-5);
    /* p = 1/(1e15 * 4) is tiny: log(B p) to float precision, where 1-(1-p)^B would be 0 */
    assert_rel(lb[2], log(10.0 / 4e15), 1e-6);
    assert_rel(lq[2], log(1.0 / 4e15), 1e-6);
    assert_int_equal(negs_freq_logq_batch(f, ids, 1, 1, lb), NEGS_OK);
    assert_rel(lb[0], log(0.75), 1e-6); /* B = 1 gives p */
    negs_freq_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_bad_input),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_update_query_bad_input),
        cmocka_unit_test(test_gap_periodic_exact),
        cmocka_unit_test(test_gap_duplicates),
        cmocka_unit_test(test_gap_saturation),
        cmocka_unit_test(test_gap_ema_start_unbiased),
        cmocka_unit_test(test_gap_convergence),
        cmocka_unit_test(test_gap_open_gap_drift_down),
        cmocka_unit_test(test_gap_first_sight),
        cmocka_unit_test(test_examples_per_step),
        cmocka_unit_test(test_sketch_exact_shares),
        cmocka_unit_test(test_sketch_half_life),
        cmocka_unit_test(test_sketch_no_overflow_2_40),
        cmocka_unit_test(test_sketch_merge_is_union),
        cmocka_unit_test(test_merge_refusals),
        cmocka_unit_test(test_logq_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
