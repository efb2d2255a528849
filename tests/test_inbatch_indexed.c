/* negs_loss_inbatch_indexed / _indexed_rows and the cosine option of the in-batch loss:
 * indexed calls give the bytes of gather + negs_loss_inbatch (+ scatter in the documented
 * order), cosine matches a dense double reference (itself checked by finite differences of
 * the raw rows), thread counts give the same bytes, and bad input is refused with the
 * gradient tables untouched. */
#include <stdio.h>

#include "test_util.h"

#include "loss/inbatch.h"
#include "test_inbatch_ref.h"
#include "test_inbatch_util.h"

/* Tables, indices (with repeats) and the gathered rows of one indexed case. */
typedef struct ix_case {
    size_t b, m, dim, n;
    uint32_t n_users, n_items;
    float *ue, *ie;            /* tables */
    uint32_t *uidx, *iidx;     /* b, n */
    float *u, *v, *lq;         /* gathered rows, logq */
} ix_case;

static ix_case make_ix(size_t b, size_t m, size_t dim, uint32_t n_users, uint32_t n_items)
{
    ix_case x = {b, m, dim, b + m, n_users, n_items, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    x.ue = rand_f((size_t)n_users * dim, -1, 1);
    x.ie = rand_f((size_t)n_items * dim, -1, 1);
    x.uidx = malloc(b * sizeof *x.uidx);
    x.iidx = malloc(x.n * sizeof *x.iidx);
    x.u = malloc(b * dim * sizeof *x.u);
    x.v = malloc(x.n * dim * sizeof *x.v);
    x.lq = rand_f(x.n, -6, -1);
    for (size_t i = 0; i < b; i++) x.uidx[i] = (uint32_t)(urand() * n_users);
    for (size_t j = 0; j < x.n; j++) x.iidx[j] = (uint32_t)(urand() * n_items);
    for (size_t i = 0; i < b; i++)
        memcpy(x.u + i * dim, x.ue + (size_t)x.uidx[i] * dim, dim * sizeof *x.u);
    for (size_t j = 0; j < x.n; j++)
        memcpy(x.v + j * dim, x.ie + (size_t)x.iidx[j] * dim, dim * sizeof *x.v);
    return x;
}

static void free_ix(ix_case *x)
{
    free(x->ue), free(x->ie), free(x->uidx), free(x->iidx), free(x->u), free(x->v), free(x->lq);
}

/* _indexed_rows and _indexed against gather + negs_loss_inbatch (+ scatter by hand, users
 * first then items, into tables that already hold values): the same bytes. */
static void check_indexed(negs_loss *l, ix_case *x, int with_pos)
{
    size_t b = x->b, n = x->n, d = x->dim;
    double red;
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_REDUCTION, &red), 0);
    size_t nl = red == NEGS_REDUCE_NONE ? b : 1;
    float *loss1 = malloc(nl * 4), *loss2 = malloc(nl * 4), *loss3 = malloc(nl * 4);
    float *du1 = malloc(b * d * 4), *dv1 = malloc(n * d * 4);
    float *du2 = malloc(b * d * 4), *dv2 = malloc(n * d * 4);
    assert_int_equal(negs_loss_inbatch(l, b, x->m, d, x->u, x->v, x->lq, x->iidx,
                                       with_pos ? x->uidx : NULL, loss1, du1, dv1), 0);
    assert_int_equal(negs_loss_inbatch_indexed_rows(l, b, x->m, d, x->ue, x->n_users, x->ie,
                                                    x->n_items, x->uidx, x->iidx, x->lq, loss2,
                                                    du2, dv2), 0);
    assert_memory_equal(loss1, loss2, nl * 4);
    assert_memory_equal(du1, du2, b * d * 4);
    assert_memory_equal(dv1, dv2, n * d * 4);

    size_t nu = (size_t)x->n_users * d, ni = (size_t)x->n_items * d;
    float *gu = rand_f(nu, -1, 1), *gi = rand_f(ni, -1, 1);
    float *ru = malloc(nu * 4), *ri = malloc(ni * 4);
    memcpy(ru, gu, nu * 4);
    memcpy(ri, gi, ni * 4);
    for (size_t i = 0; i < b; i++)
        for (size_t k = 0; k < d; k++) ru[(size_t)x->uidx[i] * d + k] += du1[i * d + k];
    for (size_t j = 0; j < n; j++)
        for (size_t k = 0; k < d; k++) ri[(size_t)x->iidx[j] * d + k] += dv1[j * d + k];
    assert_int_equal(negs_loss_inbatch_indexed(l, b, x->m, d, x->ue, x->n_users, x->ie,
                                               x->n_items, x->uidx, x->iidx, x->lq, loss3, gu,
                                               gi), 0);
    assert_memory_equal(loss1, loss3, nl * 4);
    assert_memory_equal(gu, ru, nu * 4);
    assert_memory_equal(gi, ri, ni * 4);
    free(loss1), free(loss2), free(loss3), free(du1), free(dv1), free(du2), free(dv2);
    free(gu), free(gi), free(ru), free(ri);
}

static void test_indexed_equals_gathered(void **state)
{
    (void)state;
    const size_t shapes[][5] = {{1, 0, 3, 1, 1},    {5, 3, 4, 3, 4},     {40, 17, 33, 12, 30},
                                {130, 70, 16, 50, 90}, {97, 200, 64, 400, 150}};
    pos_tab pt = make_pos(400, 400, 0.05);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int variant = 0; variant < 8; variant++) {
            ix_case x = make_ix(shapes[s][0], shapes[s][1], shapes[s][2],
                                (uint32_t)shapes[s][3], (uint32_t)shapes[s][4]);
            int red = variant % 3, cosine = variant / 2 % 2, pos = variant >= 4;
            negs_loss *l = make_loss(variant == 7 ? 0.05 : 0.5, red, 1 + variant % 2,
                                     variant == 6);
            assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, cosine), 0);
            if (pos) assert_int_equal(negs_loss_set_positives(l, pt.csr), 0);
            check_indexed(l, &x, pos);
            negs_loss_free(l);
            free_ix(&x);
        }
    free_pos(&pt);
}

/* One table for users and items (the same buffer for both gradients), NULL gradients. */
static void test_shared_table_and_null_gradients(void **state)
{
    (void)state;
    size_t b = 30, m = 10, d = 8, n = b + m;
    uint32_t rows = 25;
    float *tab = rand_f(rows * d, -1, 1), *lq = rand_f(n, -4, -1), loss1, loss2;
    uint32_t ui[30], ii[40];
    for (size_t i = 0; i < b; i++) ui[i] = (uint32_t)(urand() * rows);
    for (size_t j = 0; j < n; j++) ii[j] = (uint32_t)(urand() * rows);
    negs_loss *l = make_loss(0.3, NEGS_REDUCE_SUM, 2, 0);
    float *du = malloc(b * d * 4), *dv = malloc(n * d * 4), *g = calloc(rows * d, 4);
    float *ref = calloc(rows * d, 4);
    assert_int_equal(negs_loss_inbatch_indexed_rows(l, b, m, d, tab, rows, tab, rows, ui, ii, lq,
                                                    &loss1, du, dv), 0);
    for (size_t i = 0; i < b; i++)
        for (size_t k = 0; k < d; k++) ref[ui[i] * d + k] += du[i * d + k];
    for (size_t j = 0; j < n; j++)
        for (size_t k = 0; k < d; k++) ref[ii[j] * d + k] += dv[j * d + k];
    assert_int_equal(negs_loss_inbatch_indexed(l, b, m, d, tab, rows, tab, rows, ui, ii, lq,
                                               &loss2, g, g), 0);
    assert_memory_equal(&loss1, &loss2, 4);
    assert_memory_equal(g, ref, rows * d * 4);
    /* NULL gradients: the loss alone, the other gradient unchanged */
    float *dv2 = malloc(n * d * 4);
    assert_int_equal(negs_loss_inbatch_indexed_rows(l, b, m, d, tab, rows, tab, rows, ui, ii, lq,
                                                    &loss2, NULL, dv2), 0);
    assert_memory_equal(dv, dv2, n * d * 4);
    memset(g, 0, rows * d * 4);
    assert_int_equal(negs_loss_inbatch_indexed(l, b, m, d, tab, rows, tab, rows, ui, ii, lq,
                                               &loss2, NULL, NULL), 0);
    assert_memory_equal(&loss1, &loss2, 4);
    for (size_t q = 0; q < rows * d; q++) assert_true(g[q] == 0.0f);
    negs_loss_free(l);
    free(tab), free(lq), free(du), free(dv), free(g), free(ref), free(dv2);
}

/* Cosine scores: against the dense double reference on normalised rows, every option. */
static void test_cosine_matches_reference(void **state)
{
    (void)state;
    const size_t shapes[][3] = {{1, 0, 2}, {6, 3, 5}, {50, 21, 33}, {61, 70, 130}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (int variant = 0; variant < 6; variant++) {
            size_t b = shapes[s][0], m = shapes[s][1], d = shapes[s][2], n = b + m;
            int red = variant % 3, scalar = variant >= 3;
            double t = variant % 2 ? 0.05 : 1.0;
            /* rows of very different norms: the cosine must not care */
            float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1);
            for (size_t i = 0; i < b; i++)
                for (size_t k = 0; k < d; k++) u[i * d + k] *= (float)(1e-3 + 5 * urand());
            float *lq = rand_f(n, -6, -1);
            uint32_t *items = malloc(n * sizeof *items);
            for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * (n / 2 + 1));
            negs_loss *l = make_loss(t, red, 2, scalar);
            assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, 1), 0);
            size_t nl = red == NEGS_REDUCE_NONE ? b : 1;
            float *loss = malloc(nl * 4), *du = malloc(b * d * 4), *dv = malloc(n * d * 4);
            assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, NULL, loss, du, dv),
                             0);
            ib_case c = {b, m, d, t, red, lq, items, NULL, NULL, 0};
            double *ud = to_d(u, b * d), *vd = to_d(v, n * d), *rows = malloc(b * 8);
            double *gu = malloc(b * d * 8), *gv = malloc(n * d * 8);
            double ref = ib_ref_cos(&c, ud, vd, rows, gu, gv);
            if (red == NEGS_REDUCE_NONE)
                for (size_t i = 0; i < b; i++)
                    assert_true(fabs(loss[i] - rows[i]) <= 2e-5 * fmax(1.0, fabs(rows[i])));
            else
                assert_true(fabs(loss[0] - ref) <= 2e-5 * fmax(1.0, fabs(ref)));
            assert_true(rel_err(du, gu, b * d, 1e-30) <= 2e-5);
            assert_true(rel_err(dv, gv, n * d, 1e-30) <= 2e-5);
            negs_loss_free(l);
            free(u), free(v), free(lq), free(items), free(loss), free(du), free(dv);
            free(ud), free(vd), free(rows), free(gu), free(gv);
        }
}

/* The cosine reference's gradients against central finite differences of its loss in the
 * raw rows, and the library's against both. */
static void test_cosine_finite_differences(void **state)
{
    (void)state;
    for (int variant = 0; variant < 4; variant++) {
        size_t b = 4, m = variant % 2 ? 3 : 0, d = 3, n = b + m;
        double t = variant >= 2 ? 0.2 : 1.0;
        float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), *lq = rand_f(n, -3, -1);
        uint32_t items[7] = {0, 1, 2, 1, 3, 1, 0};
        ib_case c = {b, m, d, t, NEGS_REDUCE_MEAN, lq, items, NULL, NULL, 0};
        double *ud = to_d(u, b * d), *vd = to_d(v, n * d), gu[12], gv[21];
        ib_ref_cos(&c, ud, vd, NULL, gu, gv);
        negs_loss *l = make_loss(t, NEGS_REDUCE_MEAN, 1, 0);
        assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, 1), 0);
        float loss, du[12], dv[21];
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, NULL, &loss, du, dv), 0);
        negs_loss_free(l);
        const double h = 1e-6;
        double gmax = 0.0, fd[33];
        for (size_t q = 0; q < b * d + n * d; q++) {
            double *x = q < b * d ? &ud[q] : &vd[q - b * d], x0 = *x;
            *x = x0 + h;
            double lp = ib_ref_cos(&c, ud, vd, NULL, NULL, NULL);
            *x = x0 - h;
            double lm = ib_ref_cos(&c, ud, vd, NULL, NULL, NULL);
            *x = x0;
            fd[q] = (lp - lm) / (2 * h);
            double g = q < b * d ? gu[q] : gv[q - b * d];
            assert_true(fabs(fd[q] - g) <= 1e-6 * fmax(1.0, fabs(g)));
            gmax = fmax(gmax, fabs(fd[q]));
        }
        for (size_t q = 0; q < b * d + n * d; q++)
            assert_true(fabs((q < b * d ? du[q] : dv[q - b * d]) - fd[q]) <= 1e-5 * gmax);
        free(u), free(v), free(lq), free(ud), free(vd);
    }
}

/* 1, 2 and 5 threads: the same bytes for indexed tables with cosine and known positives. */
static void test_indexed_threads_identical(void **state)
{
    (void)state;
    size_t b = negs_test_sanitized() ? 150 : 300, m = 200, d = 40;
    ix_case x = make_ix(b, m, d, 120, 500);
    pos_tab pt = make_pos(120, 500, 0.05);
    size_t nu = 120 * d, ni = 500 * d;
    float *ref_u = NULL, *ref_i = NULL, ref_loss = 0;
    const int counts[3] = {1, 2, 5};
    for (int t = 0; t < 3; t++) {
        negs_loss *l = make_loss(0.1, NEGS_REDUCE_MEAN, counts[t], 0);
        assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, 1), 0);
        assert_int_equal(negs_loss_set_positives(l, pt.csr), 0);
        float loss, *gu = calloc(nu, 4), *gi = calloc(ni, 4);
        assert_int_equal(negs_loss_inbatch_indexed(l, b, m, d, x.ue, 120, x.ie, 500, x.uidx,
                                                   x.iidx, x.lq, &loss, gu, gi), 0);
        if (!ref_u) {
            ref_u = gu, ref_i = gi, ref_loss = loss;
        } else {
            assert_memory_equal(&loss, &ref_loss, 4);
            assert_memory_equal(gu, ref_u, nu * 4);
            assert_memory_equal(gi, ref_i, ni * 4);
            free(gu), free(gi);
        }
        negs_loss_free(l);
    }
    free(ref_u), free(ref_i);
    free_pos(&pt);
    free_ix(&x);
}

/* Repeated calls of one shape never grow the workspace. */
static void test_indexed_workspace_reused(void **state)
{
    (void)state;
    ix_case x = make_ix(64, 32, 16, 40, 80);
    negs_loss *l = make_loss(0.5, NEGS_REDUCE_MEAN, 2, 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, 1), 0);
    float loss, *gu = calloc(40 * 16, 4), *gi = calloc(80 * 16, 4);
    assert_int_equal(negs_loss_inbatch_indexed(l, 64, 32, 16, x.ue, 40, x.ie, 80, x.uidx,
                                               x.iidx, x.lq, &loss, gu, gi), 0);
    negs_ib_ws *w = l->ws;
    unsigned char *block = w->block;
    size_t cap = w->block_cap;
    for (int r = 0; r < 3; r++) {
        assert_int_equal(negs_loss_inbatch_indexed(l, 64, 32, 16, x.ue, 40, x.ie, 80, x.uidx,
                                                   x.iidx, x.lq, &loss, gu, gi), 0);
        assert_ptr_equal(w->block, block);
        assert_int_equal(w->block_cap, cap);
    }
    negs_loss_free(l);
    free(gu), free(gi);
    free_ix(&x);
}

static void test_indexed_errors(void **state)
{
    (void)state;
    ix_case x = make_ix(4, 2, 3, 5, 7);
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_MEAN, 1, 0);
    float loss, *gu = calloc(5 * 3, 4), *gi = calloc(7 * 3, 4);
#define CALL(L) negs_loss_inbatch_indexed(L, 4, 2, 3, x.ue, 5, x.ie, 7, x.uidx, x.iidx, x.lq, \
                                          &loss, gu, gi)
    assert_fails_with(negs_loss_inbatch_indexed(l, 4, 2, 3, NULL, 5, x.ie, 7, x.uidx, x.iidx,
                                                NULL, &loss, gu, gi), NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch_indexed(l, 4, 2, 3, x.ue, 5, x.ie, 7, x.uidx, NULL,
                                                NULL, &loss, gu, gi), NEGS_E_INVALID);
    assert_fails_with(negs_loss_inbatch_indexed_rows(NULL, 4, 2, 3, x.ue, 5, x.ie, 7, x.uidx,
                                                     x.iidx, NULL, &loss, NULL, NULL),
                      NEGS_E_INVALID);
    x.uidx[2] = 5;
    assert_fails_with(CALL(l), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "user_idx[2] = 5"));
    x.uidx[2] = 0;
    x.iidx[5] = 7;
    assert_fails_with(CALL(l), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "item_idx[5] = 7"));
    x.iidx[5] = 1;
    /* a NaN in a row that is read; in a row that is not, nothing happens */
    for (uint32_t r = 0; r < 7; r++) {
        int read = 0;
        for (size_t j = 0; j < x.n; j++) read |= x.iidx[j] == r;
        x.ie[r * 3 + 1] = NAN;
        if (read) assert_fails_with(CALL(l), NEGS_E_INVALID);
        else assert_int_equal(CALL(l), 0);
        x.ie[r * 3 + 1] = 0.5f;
    }
    /* cosine: a zero row that is read */
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, 1), 0);
    memset(gu, 0, 5 * 3 * 4);
    memset(gi, 0, 7 * 3 * 4);
    float keep[3];
    memcpy(keep, x.ue + (size_t)x.uidx[1] * 3, sizeof keep);
    memset(x.ue + (size_t)x.uidx[1] * 3, 0, sizeof keep);
    assert_fails_with(CALL(l), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "norm below 1e-30"));
    for (int q = 0; q < 15; q++) assert_true(gu[q] == 0.0f); /* untouched */
    for (int q = 0; q < 21; q++) assert_true(gi[q] == 0.0f);
    memcpy(x.ue + (size_t)x.uidx[1] * 3, keep, sizeof keep);
    /* gathered cosine too */
    float du[12], dv[18];
    memset(x.v + 3, 0, 3 * sizeof *x.v);
    assert_fails_with(negs_loss_inbatch(l, 4, 2, 3, x.u, x.v, NULL, NULL, NULL, &loss, du, dv),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "v row 1"));
    /* known positives: indices must be in the positives table's range */
    uint64_t indptr[3] = {0, 1, 2};
    uint32_t ind[2] = {0, 1};
    negs_csr *pos = negs_csr_create(2, 7, indptr, ind);
    assert_int_equal(negs_loss_set_positives(l, pos), 0);
    negs_csr_free(pos);
    x.uidx[0] = 4;
    assert_fails_with(CALL(l), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "user_idx[0] = 4"));
#undef CALL
    negs_loss_free(l);
    /* other kinds refuse */
    negs_loss *o = negs_loss_create(NEGS_LOSS_BPR);
    assert_fails_with(negs_loss_inbatch_indexed(o, 4, 2, 3, x.ue, 5, x.ie, 7, x.uidx, x.iidx,
                                                NULL, &loss, gu, gi), NEGS_E_UNSUPPORTED);
    negs_loss_free(o);
    free(gu), free(gi);
    free_ix(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_indexed_equals_gathered),
        cmocka_unit_test(test_shared_table_and_null_gradients),
        cmocka_unit_test(test_cosine_matches_reference),
        cmocka_unit_test(test_cosine_finite_differences),
        cmocka_unit_test(test_indexed_threads_identical),
        cmocka_unit_test(test_indexed_workspace_reused),
        cmocka_unit_test(test_indexed_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
