/* The in-batch masks as built (negs_ib_build, read through negs_ib_tile_bits) against brute
 * force: for every row and every 128-column tile, exactly the columns j != i whose item is the
 * row's own or one of its user's known positives, and each row's masked-column count. Random
 * batches with many duplicates, users with several rows (their base rows shared), rows whose
 * item is not among their user's positives, users with more positives than the batch has
 * groups, list and bit rows, accidental hits only, groups of many columns, item ids past 2^16,
 * and 1 to 3 parts; with the AVX-512 lookup (where the CPU has it) and without. */
#include <stdio.h>

#include "test_util.h"

#include "loss/inbatch.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)((rng_state >> 11) % n);
}

typedef struct mask_case {
    size_t b, m;
    uint32_t n_users, n_items;
    double density; /* chance that an item is one of a user's positives */
    int with_users, threads;
} mask_case;

static int brute_masked(const negs_csr *pos, const uint32_t *items, const uint32_t *users,
                        size_t i, size_t j)
{
    if (j == i) return 0;
    if (items[j] == items[i]) return 1;
    return users && negs_csr_contains(pos, users[i], items[j]) == 1;
}

static void check_case(const mask_case *mc)
{
    size_t b = mc->b, n = b + mc->m, npad = (n + 31) / 32 * 32;
    /* the library pads to 2 * NEGS_KN_NR; any multiple of 32 works for the masks */
    uint32_t *items = malloc(n * sizeof *items), *users = malloc(b * sizeof *users);
    for (size_t j = 0; j < n; j++) items[j] = rnd(mc->n_items);
    /* few users, so that most have several rows; user 0 holds every item */
    for (size_t i = 0; i < b; i++) users[i] = rnd(mc->n_users);
    uint64_t *indptr = calloc(mc->n_users + 1, sizeof *indptr);
    uint32_t *ind = malloc((size_t)mc->n_users * mc->n_items * sizeof *ind);
    size_t nnz = 0;
    for (uint32_t u = 0; u < mc->n_users; u++) {
        for (uint32_t it = 0; it < mc->n_items; it++)
            if (u == 0 || rnd(1000000) < mc->density * 1e6) ind[nnz++] = it;
        indptr[u + 1] = nnz;
    }
    /* most rows' items among their user's positives, as with real interactions */
    for (size_t i = 0; i < b; i++)
        if (rnd(4) && indptr[users[i] + 1] > indptr[users[i]])
            items[i] = ind[indptr[users[i]] + rnd((uint32_t)(indptr[users[i] + 1] - indptr[users[i]]))];
    negs_csr *pos = negs_csr_create(mc->n_users, mc->n_items, indptr, ind);
    assert_non_null(pos);

    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_THREADS, mc->threads), 0);
    assert_int_equal(negs_loss_set_positives(l, pos), 0);
    assert_int_equal(negs_ib_ws_reserve(l, 64, 0, 0), 0);

    negs_ib_masks mk;
    memset(&mk, 0, sizeof mk);
    mk.b = b;
    mk.n = n;
    mk.words = npad / 32;
    mk.item_ids = items;
    mk.user_ids = mc->with_users ? users : NULL;
    mk.pos = mc->with_users ? pos : NULL;
    mk.ord = malloc(n * 4), mk.tmp = malloc(n * 4), mk.gstart = malloc(n * 4);
    mk.gend = malloc(n * 4), mk.gptr = malloc((b + 1) * sizeof(size_t));
    mk.gcnt = malloc(b * 4), mk.hits = malloc(b * 4), mk.src = malloc(b * 4);
    mk.sflag = malloc(b), mk.moff = malloc((b + 1) * sizeof(size_t));
    mk.parts = (size_t)mc->threads;
    mk.scratch = calloc(8 * mk.words * mk.parts, sizeof *mk.scratch);
    assert_int_equal(negs_ib_build(l, &mk), 0);

    const uint32_t *u = mc->with_users ? users : NULL;
    size_t shared = 0;
    for (size_t i = 0; i < b; i++) {
        size_t count = 0;
        shared += mk.src[i] != i;
        for (size_t c0 = 0; c0 < npad; c0 += 128) {
            size_t cw = npad - c0 < 128 ? npad - c0 : 128;
            uint32_t local[4], want[4] = {0, 0, 0, 0}, any = 0;
            for (size_t j = c0; j < c0 + cw; j++)
                if (j < n && brute_masked(pos, items, u, i, j)) {
                    want[(j - c0) >> 5] |= 1u << ((j - c0) & 31);
                    any = 1;
                    count++;
                }
            const uint32_t *got = negs_ib_tile_bits(&mk, i, c0, cw, local);
            if (!any) {
                assert_null(got);
                continue;
            }
            assert_non_null(got);
            for (size_t w = 0; w < (cw + 31) / 32; w++) {
                if (got[w] != want[w])
                    fprintf(stderr, "b %zu m %zu row %zu tile %zu word %zu: %08x, want %08x\n",
                            b, mc->m, i, c0, w, got[w], want[w]);
                assert_int_equal(got[w], want[w]);
            }
        }
        assert_int_equal(mk.hits[i], count);
    }
    /* rows of one user did share their base in the batches built for it */
    if (mc->with_users && b >= 4 * mc->n_users) assert_true(shared > 0);

    negs_loss_free(l);
    negs_csr_free(pos);
    free(mk.ord), free(mk.tmp), free(mk.gstart), free(mk.gend), free(mk.gptr), free(mk.gcnt);
    free(mk.hits), free(mk.src), free(mk.sflag), free(mk.moff), free(mk.scratch);
    free(items), free(users), free(indptr), free(ind);
}

static void test_masks_match_brute_force(void **state)
{
    (void)state;
    const mask_case cases[] = {
        {1, 0, 1, 3, 0.5, 1, 1},         {2, 0, 1, 2, 0.5, 1, 1},
        {5, 3, 2, 4, 0.3, 1, 1},         {37, 0, 5, 20, 0.2, 1, 2},
        {64, 64, 8, 40, 0.1, 1, 3},      {200, 0, 20, 150, 0.3, 1, 2},
        {300, 100, 7, 60, 0.05, 1, 1},   {300, 100, 7, 60, 0.05, 1, 3},
        {513, 0, 40, 900, 0.02, 1, 2},   /* mostly list rows */
        {700, 50, 30, 120, 0.6, 1, 2},   /* bit rows, users with more positives than groups */
        {700, 50, 30, 120, 0.6, 0, 2},   /* accidental hits only */
        {1000, 0, 500, 2000, 0.01, 1, 3}, /* users with one row: nothing to share */
        {20, 5, 3, 500, 0.5, 1, 2},      /* a user with more positives than 4 x the groups */
        {10, 0, 1, 30, 1.0, 1, 1},       /* every group hit, then misses: the spare slot */
        {12, 2, 2, 40, 0.9, 1, 2},
        {2000, 48, 40, 50, 0.3, 1, 2},   /* groups of ~40 columns: many blocks of the table */
        {1500, 100, 30, 300, 0.4, 1, 1}, /* ~120 positives per user: whole gathers and tails */
        {300, 20, 20, 70000, 0.0005, 1, 2}, /* ids past 2^16: three sort passes, copied back */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) check_case(&cases[c]);
}

/* Batches of the same kinds with the portable code: NEGS_FORCE_ISA=avx2 at handle creation turns off
 * the AVX-512 lookup (where the CPU has it), so both paths meet brute force in one run. */
static void test_masks_portable_path(void **state)
{
    const char *was = getenv("NEGS_FORCE_ISA");
    char keep[32] = "";
    if (was) snprintf(keep, sizeof keep, "%s", was);
    setenv("NEGS_FORCE_ISA", "avx2", 1);
    test_masks_match_brute_force(state);
    if (was) setenv("NEGS_FORCE_ISA", keep, 1);
    else unsetenv("NEGS_FORCE_ISA");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masks_match_brute_force),
        cmocka_unit_test(test_masks_portable_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
