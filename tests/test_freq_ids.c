/* negs_freq id story: the uint32 entry points equal the uint64 ones bit for bit, the fused
 * update + log q equals update then logq bit for bit, and what a split update at one step
 * keeps exactly (the tables) and only to rounding (the rate, the decayed total). */
#include "freq/freq_internal.h"
#include "test_util.h"

static uint64_t lcg = 99;
static uint32_t rnd32(void)
{
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(lcg >> 32);
}

static negs_freq *make(int kind, size_t buckets, uint32_t hashes, double half_life)
{
    negs_freq *f = negs_freq_create(kind, buckets, hashes, 0xBEEF);
    assert_non_null(f);
    if (kind == NEGS_FREQ_SKETCH && half_life > 0.0)
        assert_int_equal(negs_freq_set_param(f, NEGS_FP_HALF_LIFE, half_life), NEGS_OK);
    return f;
}

static unsigned char *image(const negs_freq *f, size_t *n)
{
    assert_int_equal(negs_freq_save(f, NULL, 0, n), NEGS_OK);
    unsigned char *buf = malloc(*n);
    assert_non_null(buf);
    assert_int_equal(negs_freq_save(f, buf, *n, n), NEGS_OK);
    return buf;
}

static void assert_same_state(const negs_freq *a, const negs_freq *b)
{
    size_t na, nb;
    unsigned char *ia = image(a, &na), *ib = image(b, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(ia, ib, na);
    free(ia);
    free(ib);
}

/* Ids that use all 32 bits, with repeats, so both hashing and duplicate counting matter. */
static void fill_ids(uint32_t *ids32, uint64_t *ids64, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t r = rnd32();
        ids32[i] = (i % 5 == 0 && i) ? ids32[i / 2] : (r & 1 ? r : r % 300);
        ids64[i] = ids32[i];
    }
}

static const struct shape {
    int kind;
    size_t buckets;
    uint32_t hashes;
    double half_life;
} shapes[] = {
    {NEGS_FREQ_GAP, 97, 1, 0},     {NEGS_FREQ_GAP, 256, 2, 0},      {NEGS_FREQ_GAP, 64, 5, 0},
    {NEGS_FREQ_SKETCH, 97, 1, 0},  {NEGS_FREQ_SKETCH, 256, 2, 9.5}, {NEGS_FREQ_SKETCH, 64, 3, 0},
    {NEGS_FREQ_SKETCH, 32, 32, 4},
};
#define N_SHAPES (sizeof shapes / sizeof shapes[0])

/* Batch sizes around the workspace chunk (16384 / hashes ids, at least 512). */
static size_t batch_size(const negs_freq *f, int k)
{
    const size_t c = f->ws_ids;
    const size_t sizes[7] = {1, 7, c - 1, c, c + 1, 2 * c + 3, 300};
    return sizes[k % 7];
}

static void test_u32_equals_u64(void **state)
{
    (void)state;
    for (size_t s = 0; s < N_SHAPES; s++) {
        const struct shape *sh = &shapes[s];
        negs_freq *a = make(sh->kind, sh->buckets, sh->hashes, sh->half_life);
        negs_freq *b = make(sh->kind, sh->buckets, sh->hashes, sh->half_life);
        size_t cap = 2 * a->ws_ids + 3;
        uint32_t *ids32 = malloc(cap * sizeof *ids32);
        uint64_t *ids64 = malloc(cap * sizeof *ids64);
        float *o64 = malloc(cap * sizeof *o64), *o32 = malloc(cap * sizeof *o32);
        uint64_t step = 1000;
        for (int k = 0; k < 10; k++) {
            size_t n = batch_size(a, k);
            fill_ids(ids32, ids64, n);
            step += (uint64_t)(k % 3); /* k % 3 == 0: the same step continues */
            assert_int_equal(negs_freq_update(a, step, ids64, n), NEGS_OK);
            assert_int_equal(negs_freq_update_u32(b, step, ids32, n), NEGS_OK);
            assert_same_state(a, b);
            assert_int_equal(negs_freq_prob(a, ids64, n, o64), NEGS_OK);
            assert_int_equal(negs_freq_prob_u32(a, ids32, n, o32), NEGS_OK);
            assert_memory_equal(o64, o32, n * sizeof *o64);
            assert_int_equal(negs_freq_logq(a, ids64, n, o64), NEGS_OK);
            assert_int_equal(negs_freq_logq_u32(b, ids32, n, o32), NEGS_OK);
            assert_memory_equal(o64, o32, n * sizeof *o64);
            assert_int_equal(negs_freq_logq_batch(a, ids64, n, 64, o64), NEGS_OK);
            assert_int_equal(negs_freq_logq_batch_u32(b, ids32, n, 64, o32), NEGS_OK);
            assert_memory_equal(o64, o32, n * sizeof *o64);
        }
        /* the uint32 calls check their arguments like the uint64 ones */
        assert_fails_with(negs_freq_update_u32(b, step - 1, ids32, 1), NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "negs_freq_update_u32: step ="));
        assert_fails_with(negs_freq_update_u32(b, step, NULL, 1), NEGS_E_INVALID);
        assert_fails_with(negs_freq_prob_u32(b, NULL, 1, o32), NEGS_E_INVALID);
        assert_fails_with(negs_freq_logq_u32(b, ids32, 1, NULL), NEGS_E_INVALID);
        assert_fails_with(negs_freq_logq_batch_u32(b, ids32, 1, 0, o32), NEGS_E_INVALID);
        assert_non_null(strstr(negs_last_error(), "negs_freq_logq_batch_u32: batch_size = 0"));
        assert_same_state(a, b); /* failed calls changed nothing */
        free(ids32);
        free(ids64);
        free(o64);
        free(o32);
        negs_freq_free(a);
        negs_freq_free(b);
    }
    negs_freq *e = make(NEGS_FREQ_GAP, 8, 1, 0);
    uint32_t id = 3;
    float p;
    assert_fails_with(negs_freq_prob_u32(e, &id, 1, &p), NEGS_E_STATE);
    assert_fails_with(negs_freq_update_u32(NULL, 0, &id, 1), NEGS_E_INVALID);
    negs_freq_free(e);
}

/* update_logq == update then logq: the same outputs and the same state, for batches below,
 * at and above the workspace chunk, for both id types. */
static void test_update_logq_equals_update_then_logq(void **state)
{
    (void)state;
    for (size_t s = 0; s < N_SHAPES; s++) {
        const struct shape *sh = &shapes[s];
        negs_freq *a = make(sh->kind, sh->buckets, sh->hashes, sh->half_life);
        negs_freq *b = make(sh->kind, sh->buckets, sh->hashes, sh->half_life);
        negs_freq *c = make(sh->kind, sh->buckets, sh->hashes, sh->half_life);
        size_t cap = 2 * a->ws_ids + 3;
        uint32_t *ids32 = malloc(cap * sizeof *ids32);
        uint64_t *ids64 = malloc(cap * sizeof *ids64);
        float *oa = malloc(cap * sizeof *oa), *ob = malloc(cap * sizeof *ob);
        float *oc = malloc(cap * sizeof *oc);
        uint64_t step = 5;
        for (int k = 0; k < 10; k++) {
            size_t n = batch_size(a, k + 3);
            fill_ids(ids32, ids64, n);
            step += (uint64_t)(k % 4 == 1 ? 0 : 1 + k); /* uneven steps, one repeated */
            assert_int_equal(negs_freq_update(a, step, ids64, n), NEGS_OK);
            assert_int_equal(negs_freq_logq(a, ids64, n, oa), NEGS_OK);
            assert_int_equal(negs_freq_update_logq(b, step, ids64, n, ob), NEGS_OK);
            assert_int_equal(negs_freq_update_logq_u32(c, step, ids32, n, oc), NEGS_OK);
            assert_memory_equal(oa, ob, n * sizeof *oa);
            assert_memory_equal(oa, oc, n * sizeof *oa);
            assert_same_state(a, b);
            assert_same_state(a, c);
        }
        free(ids32);
        free(ids64);
        free(oa);
        free(ob);
        free(oc);
        negs_freq_free(a);
        negs_freq_free(b);
        negs_freq_free(c);
    }
}

/* Log q is read after the batch's own update: an id first seen in this batch gets its
 * first-sight estimate (above the floor), and a failed call changes nothing. */
static void test_update_logq_after_and_errors(void **state)
{
    (void)state;
    negs_freq *f = make(NEGS_FREQ_GAP, 1024, 2, 0);
    uint64_t old[4] = {1, 2, 3, 4};
    float lq[4];
    for (uint64_t t = 0; t < 10; t++) assert_int_equal(negs_freq_update(f, t, old, 4), NEGS_OK);
    uint64_t fresh[4] = {1, 2, 3, 777};
    float before;
    assert_int_equal(negs_freq_logq(f, fresh + 3, 1, &before), NEGS_OK); /* never seen: floor */
    assert_int_equal(negs_freq_update_logq(f, 10, fresh, 4, lq), NEGS_OK);
    assert_true(lq[3] > before + 1.0f); /* the batch's own sighting counts */
    float again[4];
    assert_int_equal(negs_freq_logq(f, fresh, 4, again), NEGS_OK);
    assert_memory_equal(lq, again, sizeof lq);

    size_t n0;
    unsigned char *img0 = image(f, &n0);
    float untouched[2] = {5.0f, 5.0f};
    assert_fails_with(negs_freq_update_logq(f, 11, fresh, 4, NULL), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "negs_freq_update_logq: out_logq is NULL"));
    assert_fails_with(negs_freq_update_logq(f, 9, fresh, 2, untouched), NEGS_E_INVALID);
    assert_true(untouched[0] == 5.0f && untouched[1] == 5.0f);
    assert_fails_with(negs_freq_update_logq(f, 11, NULL, 2, untouched), NEGS_E_INVALID);
    assert_fails_with(negs_freq_update_logq(NULL, 11, fresh, 2, untouched), NEGS_E_INVALID);
    assert_fails_with(negs_freq_update_logq_u32(f, 11, NULL, 2, untouched), NEGS_E_INVALID);
    size_t n1;
    unsigned char *img1 = image(f, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(img0, img1, n0);
    /* n = 0: advances the clock only (ids and out may be NULL) */
    assert_int_equal(negs_freq_update_logq(f, 50, NULL, 0, NULL), NEGS_OK);
    assert_fails_with(negs_freq_update(f, 49, old, 1), NEGS_E_INVALID);
    /* an empty estimator: n = 0 is fine, and the first batch is answered */
    negs_freq *e = make(NEGS_FREQ_SKETCH, 64, 2, 0);
    assert_int_equal(negs_freq_update_logq_u32(e, 3, NULL, 0, NULL), NEGS_OK);
    uint32_t one = 9;
    assert_int_equal(negs_freq_update_logq_u32(e, 4, &one, 1, lq), NEGS_OK);
    assert_true(lq[0] == 0.0f); /* the only id seen: p = 1 */
    free(img0);
    free(img1);
    negs_freq_free(e);
    negs_freq_free(f);
}

/* update(t, a) then update(t, b) against update(t, a ++ b): the tables are bit-identical; the
 * examples-per-step rate (and, with decay, the sketch's total) are the same sums in another
 * order, equal to rounding, and so are the estimates (docs/freq.md, "Steps and updates"). */
static void test_split_updates(void **state)
{
    (void)state;
    for (size_t s = 0; s < N_SHAPES; s++) {
        const struct shape *sh = &shapes[s];
        negs_freq *a = make(sh->kind, sh->buckets, sh->hashes, sh->half_life);
        negs_freq *b = make(sh->kind, sh->buckets, sh->hashes, sh->half_life);
        uint32_t ids32[40];
        uint64_t ids[40];
        float pa[40], pb[40];
        for (uint64_t t = 0; t < 600; t += 1 + t % 3) {
            fill_ids(ids32, ids, 40);
            size_t k = (size_t)(t % 41); /* 0 and 40 included: an empty part */
            assert_int_equal(negs_freq_update(a, t, ids, 40), NEGS_OK);
            assert_int_equal(negs_freq_update(b, t, ids, k), NEGS_OK);
            assert_int_equal(negs_freq_update_u32(b, t, ids32 + k, 40 - k), NEGS_OK);
        }
        size_t cells = (size_t)a->buckets * a->hashes;
        if (a->kind == NEGS_FREQ_GAP)
            assert_memory_equal(a->cells, b->cells, cells * sizeof *a->cells);
        else
            assert_memory_equal(a->cnt, b->cnt, cells * sizeof *a->cnt);
        assert_true(a->total_ids == b->total_ids && a->last_step == b->last_step);
        assert_true(fabs(a->rate - b->rate) <= 1e-13 * a->rate);
        assert_true(fabs(a->total - b->total) <= 1e-13 * a->total);
        if (sh->kind == NEGS_FREQ_SKETCH && sh->half_life == 0.0) assert_true(a->total == b->total);
        assert_int_equal(negs_freq_prob(a, ids, 40, pa), NEGS_OK);
        assert_int_equal(negs_freq_prob(b, ids, 40, pb), NEGS_OK);
        for (int i = 0; i < 40; i++) assert_true(fabsf(pa[i] - pb[i]) <= 2e-7f * pa[i]);
        negs_freq_free(a);
        negs_freq_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_u32_equals_u64),
        cmocka_unit_test(test_update_logq_equals_update_then_logq),
        cmocka_unit_test(test_update_logq_after_and_errors),
        cmocka_unit_test(test_split_updates),
    };
    return cmocka_run_group_tests_name("freq_ids", tests, NULL, NULL);
}
