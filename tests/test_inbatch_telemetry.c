/* negs_loss_set_telemetry: the t hardest live negatives per row and the masked-pair counts of
 * the fused in-batch softmax, against brute force on batches whose logits are exact in float
 * (small integer embeddings, T = 0.5, logq in quarters), so ids and logits compare exactly and
 * ties are frequent; thread counts, the portable kernels, the debiased loss, the indexed call,
 * a constructed batch's counts, telemetry off = the same bytes, and bad arguments. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

#include "test_inbatch_ref.h"
#include "test_inbatch_util.h"

typedef struct tel_case {
    size_t b, m, dim, t;
    float *u, *v, *lq;
    uint32_t *items, *users;
    pos_tab pt;
    uint32_t n_items;
} tel_case;

static tel_case make_case(size_t b, size_t m, size_t dim, size_t t, int users)
{
    tel_case c = {b, m, dim, t, NULL, NULL, NULL, NULL, NULL, {NULL, NULL, 0, 0}, 0};
    size_t n = b + m;
    c.u = malloc(b * dim * sizeof *c.u);
    c.v = malloc(n * dim * sizeof *c.v);
    c.lq = malloc(n * sizeof *c.lq);
    for (size_t q = 0; q < b * dim; q++) c.u[q] = (float)((int)(urand() * 7) - 3);
    for (size_t q = 0; q < n * dim; q++) c.v[q] = (float)((int)(urand() * 7) - 3);
    for (size_t j = 0; j < n; j++) c.lq[j] = -(float)(int)(urand() * 9) / 4.0f;
    for (size_t j = b + 1; j < n; j += 5) c.lq[j] = -INFINITY; /* no candidate */
    c.n_items = (uint32_t)(n / 2 + 1);
    c.items = malloc(n * sizeof *c.items);
    for (size_t j = 0; j < n; j++) c.items[j] = (uint32_t)(urand() * c.n_items);
    if (users) {
        c.pt = make_pos(6, c.n_items, 0.1);
        c.users = malloc(b * sizeof *c.users);
        for (size_t i = 0; i < b; i++) c.users[i] = (uint32_t)(urand() * 6);
    }
    return c;
}

static void free_case(tel_case *c)
{
    free(c->u), free(c->v), free(c->lq), free(c->items), free(c->users);
    if (c->users) free_pos(&c->pt);
}

/* The expected heaps: every live negative's exact logit, sorted (larger first, then smaller
 * column), the first t kept; (UINT32_MAX, -inf) after the last. Returns the masked counts. */
static void brute(const tel_case *c, uint32_t *cols, float *logits, uint64_t *hits,
                  uint64_t *known)
{
    size_t b = c->b, n = c->b + c->m, d = c->dim, t = c->t;
    ib_case ic = {b, c->m, d, 0.5, 0, c->lq, c->items, c->users, c->pt.dense, c->n_items};
    uint32_t *jc = malloc(n * sizeof *jc);
    float *jz = malloc(n * sizeof *jz);
    *hits = *known = 0;
    for (size_t i = 0; i < b; i++) {
        size_t live = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            int acc = c->items[j] == c->items[i];
            int kp = !acc && c->users && c->pt.dense[c->users[i] * c->n_items + c->items[j]];
            *hits += (uint64_t)acc;
            *known += (uint64_t)kp;
            if (ib_masked(&ic, i, j)) continue;
            double s = 0.0;
            for (size_t q = 0; q < d; q++) s += (double)c->u[i * d + q] * c->v[j * d + q];
            float z = (float)(s * 2.0 - c->lq[j]); /* exact: small integers and quarters */
            size_t p = live++;
            /* insertion in (logit desc, column asc) order */
            while (p > 0 && jz[p - 1] < z) {
                jz[p] = jz[p - 1];
                jc[p] = jc[p - 1];
                p--;
            }
            jz[p] = z;
            jc[p] = (uint32_t)j;
        }
        for (size_t r = 0; r < t; r++) {
            cols[i * t + r] = r < live ? jc[r] : UINT32_MAX;
            logits[i * t + r] = r < live ? jz[r] : -INFINITY;
        }
    }
    free(jc);
    free(jz);
}

/* Runs the call with telemetry on; returns the loss, and the handle's counts. */
static float run(const tel_case *c, int threads, int scalar, double tau, uint32_t *cols,
                 float *logits, uint64_t *hits, uint64_t *known)
{
    negs_loss *l = make_loss(0.5, NEGS_REDUCE_MEAN, threads, scalar);
    if (tau > 0) assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, tau), NEGS_OK);
    if (c->users) assert_int_equal(negs_loss_set_positives(l, c->pt.csr), NEGS_OK);
    assert_int_equal(negs_loss_set_telemetry(l, (uint32_t)c->t, c->b, cols, logits), NEGS_OK);
    size_t n = c->b + c->m;
    float loss, *du = malloc(c->b * c->dim * 4), *dv = malloc(n * c->dim * 4);
    assert_int_equal(negs_loss_inbatch(l, c->b, c->m, c->dim, c->u, c->v, c->lq, c->items,
                                       c->users, &loss, du, dv), NEGS_OK);
    double h, k;
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_HITS, &h), NEGS_OK);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_KNOWN, &k), NEGS_OK);
    *hits = (uint64_t)h;
    *known = (uint64_t)k;
    negs_loss_free(l);
    free(du);
    free(dv);
    return loss;
}

static void check_case(size_t b, size_t m, size_t t, int users)
{
    tel_case c = make_case(b, m, 6, t, users);
    uint32_t *ec = malloc(b * t * 4), *gc = malloc(b * t * 4);
    float *ez = malloc(b * t * 4), *gz = malloc(b * t * 4);
    uint64_t eh, ek, gh, gk;
    brute(&c, ec, ez, &eh, &ek);
    int runs[][2] = {{1, 0}, {2, 0}, {5, 0}, {1, 1}, {2, 1}};
    for (size_t q = 0; q < 5; q++)
        for (int debias = 0; debias < 2; debias++) {
            memset(gc, 0xab, b * t * 4);
            run(&c, runs[q][0], runs[q][1], debias ? 0.05 : 0.0, gc, gz, &gh, &gk);
            assert_memory_equal(gc, ec, b * t * 4);
            assert_memory_equal(gz, ez, b * t * 4);
            assert_int_equal(gh, eh);
            assert_int_equal(gk, ek);
        }
    free(ec), free(gc), free(ez), free(gz);
    free_case(&c);
}

static void test_brute_force(void **state)
{
    (void)state;
    check_case(3, 2, 8, 0);      /* fewer live negatives than t: empty entries at the end */
    check_case(150, 100, 7, 1);  /* several row blocks and column tiles, ties, every mask */
    check_case(60, 200, 1, 1);   /* t = 1 */
    check_case(97, 30, NEGS_TELEMETRY_MAX_TOP, 0);
}

/* Counts on a batch built by hand. Columns: items 5 5 7 9 | 5 7 (b = 4, m = 2). Accidental
 * hits: row 0 {1, 4}, row 1 {0, 4}, row 2 {5}, row 3 none: 5. Known positives (users 0..3 =
 * {7}, {5, 9}, {}, {5, 7}), other than the row's own item: row 0 {2, 5}, row 1 {3}, row 3
 * {0, 1, 4, 2, 5}: 8. */
static void test_counts_constructed(void **state)
{
    (void)state;
    size_t b = 4, m = 2, n = 6, d = 2;
    float u[8] = {1, 0, 0, 1, 1, 1, -1, 0}, v[12] = {1, 2, 0, 1, 2, 0, 1, 1, 2, 1, 3, -1};
    uint32_t items[6] = {5, 5, 7, 9, 5, 7}, users[4] = {0, 1, 2, 3};
    uint64_t indptr[5] = {0, 1, 3, 3, 5};
    uint32_t ind[5] = {7, 5, 9, 5, 7};
    negs_csr *pos = negs_csr_create(4, 10, indptr, ind);
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_MEAN, 1, 0);
    assert_int_equal(negs_loss_set_positives(l, pos), NEGS_OK);
    uint32_t cols[4 * 3];
    float logits[4 * 3], loss, du[8], dv[12];
    double h, k, t;
    assert_int_equal(negs_loss_set_telemetry(l, 3, 4, cols, logits), NEGS_OK);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_TELEMETRY_TOP, &t), NEGS_OK);
    assert_true(t == 3.0);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, items, users, &loss, du, dv), 0);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_HITS, &h), NEGS_OK);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_KNOWN, &k), NEGS_OK);
    assert_true(h == 5.0 && k == 8.0);
    /* row 3 has no live negative left; row 2 has columns 0, 1, 3, 4 of logits 3, 1, 2, 3 */
    assert_int_equal(cols[9], UINT32_MAX);
    assert_true(logits[9] == -INFINITY);
    assert_int_equal(cols[6], 0);
    assert_int_equal(cols[7], 4);
    assert_int_equal(cols[8], 3);
    assert_true(logits[6] == 3.0f && logits[7] == 3.0f && logits[8] == 2.0f);
    /* without user_ids only the accidental hits; without item_ids nothing */
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, items, NULL, &loss, du, dv), 0);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_HITS, &h), NEGS_OK);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_KNOWN, &k), NEGS_OK);
    assert_true(h == 5.0 && k == 0.0);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, NULL, NULL, &loss, du, dv), 0);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_HITS, &h), NEGS_OK);
    assert_true(h == 0.0);
    (void)n;
    negs_loss_free(l);
    negs_csr_free(pos);
}

/* Off, and on, the loss and gradients are the same bytes; off, the buffers are not touched. */
static void test_off_is_unchanged(void **state)
{
    (void)state;
    size_t b = 100, m = 60, d = 16, n = b + m, t = 4;
    float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), *lq = rand_f(n, -5, -1);
    uint32_t *items = malloc(n * 4), *cols = malloc(b * t * 4);
    float *logits = malloc(b * t * 4);
    for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * 70);
    float l0, l1, *du0 = malloc(b * d * 4), *du1 = malloc(b * d * 4);
    float *dv0 = malloc(n * d * 4), *dv1 = malloc(n * d * 4);
    negs_loss *plain = make_loss(0.1, NEGS_REDUCE_MEAN, 2, 0), *l = make_loss(0.1, 0, 2, 0);
    assert_int_equal(negs_loss_inbatch(plain, b, m, d, u, v, lq, items, NULL, &l0, du0, dv0), 0);
    assert_int_equal(negs_loss_set_telemetry(l, (uint32_t)t, b, cols, logits), NEGS_OK);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, NULL, &l1, du1, dv1), 0);
    assert_memory_equal(&l0, &l1, 4);
    assert_memory_equal(du0, du1, b * d * 4);
    assert_memory_equal(dv0, dv1, n * d * 4);
    assert_int_equal(negs_loss_set_telemetry(l, 0, 0, NULL, NULL), NEGS_OK);
    memset(cols, 0x5a, b * t * 4);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, NULL, &l1, du1, dv1), 0);
    assert_memory_equal(&l0, &l1, 4);
    assert_memory_equal(du0, du1, b * d * 4);
    for (size_t q = 0; q < b * t; q++) assert_int_equal(cols[q], 0x5a5a5a5au);
    double tt;
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_TELEMETRY_TOP, &tt), NEGS_OK);
    assert_true(tt == 0.0);
    negs_loss_free(plain);
    negs_loss_free(l);
    free(u), free(v), free(lq), free(items), free(cols), free(logits), free(du0), free(du1),
        free(dv0), free(dv1);
}

/* The indexed call reports the same heaps as the gathered one (columns are positions). */
static void test_indexed(void **state)
{
    (void)state;
    size_t b = 50, m = 20, d = 8, n = b + m, t = 5;
    uint32_t nu = 40, ni = 60;
    float *ue = rand_f(nu * d, -1, 1), *ie = rand_f(ni * d, -1, 1);
    uint32_t *ui = malloc(b * 4), *ii = malloc(n * 4);
    for (size_t i = 0; i < b; i++) ui[i] = (uint32_t)(urand() * nu);
    for (size_t j = 0; j < n; j++) ii[j] = (uint32_t)(urand() * ni);
    float *u = malloc(b * d * 4), *v = malloc(n * d * 4), loss;
    for (size_t i = 0; i < b; i++) memcpy(u + i * d, ue + ui[i] * d, d * 4);
    for (size_t j = 0; j < n; j++) memcpy(v + j * d, ie + ii[j] * d, d * 4);
    uint32_t *ca = malloc(b * t * 4), *cb = malloc(b * t * 4);
    float *za = malloc(b * t * 4), *zb = malloc(b * t * 4);
    negs_loss *l = make_loss(0.2, NEGS_REDUCE_MEAN, 1, 0);
    assert_int_equal(negs_loss_set_telemetry(l, (uint32_t)t, b, ca, za), NEGS_OK);
    assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, NULL, ii, NULL, &loss, NULL, NULL), 0);
    assert_int_equal(negs_loss_set_telemetry(l, (uint32_t)t, b, cb, zb), NEGS_OK);
    assert_int_equal(negs_loss_inbatch_indexed_rows(l, b, m, d, ue, nu, ie, ni, ui, ii, NULL,
                                                    &loss, NULL, NULL), 0);
    assert_memory_equal(ca, cb, b * t * 4);
    assert_memory_equal(za, zb, b * t * 4);
    for (size_t i = 0; i < b; i++) /* never the row's own item */
        for (size_t r = 0; r < t; r++) assert_true(ii[ca[i * t + r]] != ii[i]);
    negs_loss_free(l);
    free(ue), free(ie), free(ui), free(ii), free(u), free(v), free(ca), free(cb), free(za),
        free(zb);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uint32_t cols[8];
    float logits[8], u[4] = {1, 2, 3, 4}, v[4] = {1, 0, 0, 1}, loss;
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    assert_fails_with(negs_loss_set_telemetry(NULL, 1, 1, cols, logits), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_telemetry(l, NEGS_TELEMETRY_MAX_TOP + 1, 1, cols, logits),
                      NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_telemetry(l, 2, 4, NULL, logits), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_telemetry(l, 2, 4, cols, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_telemetry(l, 2, 0, cols, logits), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_telemetry(l, 2, SIZE_MAX / 4, cols, logits), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_TELEMETRY_TOP, 3), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_MASKED_HITS, 0), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_MASKED_KNOWN, 0), NEGS_E_INVALID);
    /* buffers of one row: a call with b = 2 is refused, naming both sizes */
    assert_int_equal(negs_loss_set_telemetry(l, 4, 1, cols, logits), NEGS_OK);
    assert_fails_with(negs_loss_inbatch(l, 2, 0, 2, u, v, NULL, NULL, NULL, &loss, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "b = 2 exceeds the 1 rows"));
    assert_int_equal(negs_loss_inbatch(l, 1, 1, 2, u, v, NULL, NULL, NULL, &loss, NULL, NULL), 0);
    assert_int_equal(cols[0], 1);
    assert_int_equal(cols[1], UINT32_MAX);
    negs_loss_free(l);
    negs_loss *bpr = negs_loss_create(NEGS_LOSS_BPR);
    assert_fails_with(negs_loss_set_telemetry(bpr, 2, 4, cols, logits), NEGS_E_UNSUPPORTED);
    negs_loss_free(bpr);
}

int main(void)
{
    (void)to_d;
    (void)rel_err;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brute_force),
        cmocka_unit_test(test_counts_constructed),
        cmocka_unit_test(test_off_is_unchanged),
        cmocka_unit_test(test_indexed),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
