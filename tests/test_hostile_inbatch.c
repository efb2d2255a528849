/* Hostile input to the in-batch side added around the fused softmax: the cross-batch memory
 * (negs_xbm_*), the debiased loss (NEGS_LP_TAU_PLUS), bf16 products (NEGS_LP_PRECISION),
 * false-negative telemetry (negs_loss_set_telemetry and its read-only counts) and the indexed
 * in-batch calls. Every call gives its status and a sentence naming the argument; afterwards
 * each handle gives exactly the results of a twin that never saw the hostile calls. */
#include <limits.h>

#include "test_hostile.h"

enum { NI = 30, NU = 4, B = 3, M = 4, DIM = 3, CAP = 4, T = 2 };
static const uint64_t g_indptr[NU + 1] = {0, 2, 3, 3, 5};
static const uint32_t g_idx[5] = {1, 4, 2, 0, 3};

static void fill(float *x, size_t n, unsigned salt)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)((i * 7 + salt * 3) % 13) / 13.0f - 0.45f;
}

/* ---------------------------------------------------------------- cross-batch memory */

static void push_batch(negs_xbm *x, uint64_t step, unsigned salt)
{
    float emb[B * DIM], lq[B];
    uint32_t ids[B];
    fill(emb, B * DIM, salt);
    for (int i = 0; i < B; i++) {
        ids[i] = (uint32_t)(salt * 5 + (unsigned)i) % NI;
        lq[i] = -1.0f - 0.5f * (float)i;
    }
    assert_int_equal(negs_xbm_push(x, step, B, DIM, emb, ids, lq), NEGS_OK);
}

static void test_xbm(void **state)
{
    (void)state;
    HN(negs_xbm_create(0, DIM), NEGS_E_INVALID, "capacity");
    HN(negs_xbm_create((size_t)INT_MAX + 1, DIM), NEGS_E_INVALID, "capacity");
    HN(negs_xbm_create(SIZE_MAX, DIM), NEGS_E_INVALID, "capacity");
    HN(negs_xbm_create(CAP, 0), NEGS_E_INVALID, "dim");
    HN(negs_xbm_create(INT_MAX, SIZE_MAX / 2), NEGS_E_INVALID, "capacity * dim");
    HN(negs_xbm_create(2, SIZE_MAX / 4), NEGS_E_INVALID, "embeddings"); /* bytes overflow */
    check_cases();

    negs_xbm *x = negs_xbm_create(CAP, DIM), *twin = negs_xbm_create(CAP, DIM);
    assert_true(x && twin);
    assert_int_equal(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, 2), NEGS_OK);
    assert_int_equal(negs_xbm_set_param(twin, NEGS_XP_MAX_AGE, 2), NEGS_OK);
    push_batch(x, 3, 1);
    push_batch(twin, 3, 1);
    push_batch(x, 5, 2);
    push_batch(twin, 5, 2);
    double v = 0;
    float emb[(CAP + 1) * DIM], lq[CAP + 1], rows[(B + CAP) * DIM], rlq[B + CAP];
    uint32_t ids[CAP + 1] = {0}, rids[B + CAP];
    fill(emb, (CAP + 1) * DIM, 9);
    for (int i = 0; i <= CAP; i++) lq[i] = -2.0f;

    H(negs_xbm_set_param(NULL, NEGS_XP_MAX_AGE, 1), NEGS_E_INVALID, "x");
    H(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, -1), NEGS_E_INVALID, "NEGS_XP_MAX_AGE");
    H(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, 1.5), NEGS_E_INVALID, "NEGS_XP_MAX_AGE");
    H(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, NAN), NEGS_E_INVALID, "NEGS_XP_MAX_AGE");
    H(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, -INFINITY), NEGS_E_INVALID, "NEGS_XP_MAX_AGE");
    H(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, 0x1p54), NEGS_E_INVALID, "NEGS_XP_MAX_AGE");
    H(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, -1e-310), NEGS_E_INVALID, "NEGS_XP_MAX_AGE");
    H(negs_xbm_set_param(x, NEGS_XP_CAPACITY, 8), NEGS_E_INVALID, "read-only");
    H(negs_xbm_set_param(x, NEGS_XP_DIM, 8), NEGS_E_INVALID, "read-only");
    H(negs_xbm_set_param(x, NEGS_XP_SIZE, 0), NEGS_E_INVALID, "read-only");
    H(negs_xbm_set_param(x, 0, 1), NEGS_E_UNSUPPORTED, "0");
    H(negs_xbm_set_param(x, 99, 1), NEGS_E_UNSUPPORTED, "99");
    H(negs_xbm_get_param(NULL, NEGS_XP_SIZE, &v), NEGS_E_INVALID, "x");
    H(negs_xbm_get_param(x, NEGS_XP_SIZE, NULL), NEGS_E_INVALID, "value");
    H(negs_xbm_get_param(x, -3, &v), NEGS_E_UNSUPPORTED, "-3");
    H(negs_xbm_reset(NULL), NEGS_E_INVALID, "x");

    H(negs_xbm_push(NULL, 6, 1, DIM, emb, ids, lq), NEGS_E_INVALID, "x");
    H(negs_xbm_push(x, 6, 1, DIM + 1, emb, ids, lq), NEGS_E_INVALID, "dim");
    H(negs_xbm_push(x, 6, 1, 0, emb, ids, lq), NEGS_E_INVALID, "dim");
    H(negs_xbm_push(x, 6, CAP + 1, DIM, emb, ids, lq), NEGS_E_INVALID, "capacity");
    H(negs_xbm_push(x, 6, SIZE_MAX, DIM, emb, ids, lq), NEGS_E_INVALID, "capacity");
    H(negs_xbm_push(x, 4, 1, DIM, emb, ids, lq), NEGS_E_INVALID, "step 4");
    H(negs_xbm_push(x, 6, 1, DIM, NULL, ids, lq), NEGS_E_INVALID, "emb");
    H(negs_xbm_push(x, 6, 1, DIM, emb, NULL, lq), NEGS_E_INVALID, "item_ids");
    emb[DIM + 2] = NAN;
    H(negs_xbm_push(x, 6, 2, DIM, emb, ids, lq), NEGS_E_INVALID, "emb[5]");
    emb[DIM + 2] = 1e-41f; /* subnormal: finite */
    lq[1] = INFINITY;
    H(negs_xbm_push(x, 6, 2, DIM, emb, ids, lq), NEGS_E_INVALID, "logq[1]");
    lq[1] = -INFINITY; /* not a log q a push can hold: the layout's -inf means no candidate */
    H(negs_xbm_push(x, 6, 2, DIM, emb, ids, lq), NEGS_E_INVALID, "logq[1]");
    lq[1] = -2.0f;

    H(negs_xbm_layout(NULL, 6, B, DIM, B + CAP, rows, rlq, rids, NULL, NULL), NEGS_E_INVALID, "x");
    H(negs_xbm_layout(x, 6, B, DIM, B + CAP, NULL, rlq, rids, NULL, NULL), NEGS_E_INVALID, "v");
    H(negs_xbm_layout(x, 6, B, DIM, B + CAP, rows, NULL, rids, NULL, NULL), NEGS_E_INVALID, "logq");
    H(negs_xbm_layout(x, 6, B, DIM - 1, B + CAP, rows, rlq, rids, NULL, NULL), NEGS_E_INVALID, "dim");
    H(negs_xbm_layout(x, 6, B, DIM, B + CAP - 1, rows, rlq, rids, NULL, NULL), NEGS_E_INVALID, "n_rows");
    H(negs_xbm_layout(x, 6, SIZE_MAX - 1, DIM, B + CAP, rows, rlq, rids, NULL, NULL), NEGS_E_INVALID,
      "n_rows");
    H(negs_xbm_layout(x, 4, B, DIM, B + CAP, rows, rlq, rids, NULL, NULL), NEGS_E_INVALID, "step 4");
    check_cases();

    /* unchanged: size, max age and the twin's layout, bit for bit */
    assert_int_equal(negs_xbm_get_param(x, NEGS_XP_SIZE, &v), NEGS_OK);
    assert_true(v == CAP);
    assert_int_equal(negs_xbm_get_param(x, NEGS_XP_MAX_AGE, &v), NEGS_OK);
    assert_true(v == 2.0);
    float rows2[(B + CAP) * DIM], rlq2[B + CAP];
    uint32_t rids2[B + CAP];
    uint64_t age[CAP], age2[CAP];
    size_t live = 0, live2 = 0;
    memset(rows, 0, sizeof rows);
    memset(rows2, 0, sizeof rows2);
    memset(rlq, 0, sizeof rlq);
    memset(rlq2, 0, sizeof rlq2);
    memset(rids, 0, sizeof rids);
    memset(rids2, 0, sizeof rids2);
    assert_int_equal(negs_xbm_layout(x, 6, B, DIM, B + CAP, rows, rlq, rids, age, &live), CAP);
    assert_int_equal(negs_xbm_layout(twin, 6, B, DIM, B + CAP, rows2, rlq2, rids2, age2, &live2), CAP);
    assert_memory_equal(rows, rows2, sizeof rows);
    assert_memory_equal(rlq, rlq2, sizeof rlq);
    assert_memory_equal(rids, rids2, sizeof rids);
    assert_memory_equal(age, age2, sizeof age);
    assert_int_equal(live, live2);
    assert_int_equal(live, B); /* the step-3 entry is 3 steps old, past MAX_AGE = 2 */
    assert_true(rlq[B + CAP - 1] == -INFINITY);
    /* and the laid-out columns are a valid negs_loss_inbatch input */
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    float u[B * DIM], loss, du[B * DIM];
    fill(u, B * DIM, 4);
    fill(rows, B * DIM, 5);
    for (int i = 0; i < B; i++) {
        rlq[i] = -1.0f;
        rids[i] = 20 + (uint32_t)i;
    }
    assert_int_equal(negs_loss_inbatch(l, B, CAP, DIM, u, rows, rlq, rids, NULL, &loss, du, NULL),
                     NEGS_OK);
    assert_true(isfinite(loss));
    negs_loss_free(l);
    assert_int_equal(negs_xbm_reset(x), NEGS_OK);
    assert_int_equal(negs_xbm_get_param(x, NEGS_XP_SIZE, &v), NEGS_OK);
    assert_true(v == 0);
    negs_xbm_free(x);
    negs_xbm_free(twin);
    negs_xbm_free(NULL);
}

/* ---------------------------------------------------------------- loss handles */

typedef struct ib_out {
    float loss, du[B * DIM], dv[(B + M) * DIM], logits[B * T];
    uint32_t cols[B * T];
    double hits, known;
} ib_out;

static float g_u[B * DIM], g_v[(B + M) * DIM], g_lq[B + M];
static uint32_t g_items[B + M], g_users[B];

static negs_loss *softmax(const negs_csr *t, ib_out *o, int precision)
{
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    assert_non_null(l);
    assert_int_equal(negs_loss_set_positives(l, t), NEGS_OK);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 0.1), NEGS_OK);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, precision), NEGS_OK);
    assert_int_equal(negs_loss_set_telemetry(l, T, B, o->cols, o->logits), NEGS_OK);
    return l;
}

static void run(negs_loss *l, ib_out *o)
{
    assert_int_equal(negs_loss_inbatch(l, B, M, DIM, g_u, g_v, g_lq, g_items, g_users, &o->loss,
                                       o->du, o->dv), NEGS_OK);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_HITS, &o->hits), NEGS_OK);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_MASKED_KNOWN, &o->known), NEGS_OK);
}

static void same(const ib_out *a, const ib_out *b)
{
    assert_memory_equal(&a->loss, &b->loss, sizeof a->loss);
    assert_memory_equal(a->du, b->du, sizeof a->du);
    assert_memory_equal(a->dv, b->dv, sizeof a->dv);
    assert_memory_equal(a->cols, b->cols, sizeof a->cols);
    assert_memory_equal(a->logits, b->logits, sizeof a->logits);
    assert_true(a->hits == b->hits && a->known == b->known);
}

static void hostile_loss(negs_loss *l, negs_loss *bpr)
{
    uint32_t cols[B * T];
    float logits[B * T], loss[B], du[B * DIM];
    double v = 0;
    H(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, -1e-310), NEGS_E_INVALID, "tau_plus");
    H(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 1.0), NEGS_E_INVALID, "tau_plus");
    H(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, NAN), NEGS_E_INVALID, "tau_plus");
    H(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, INFINITY), NEGS_E_INVALID, "tau_plus");
    H(negs_loss_set_param(bpr, NEGS_LP_TAU_PLUS, 0.1), NEGS_E_UNSUPPORTED, "tau_plus");
    H(negs_loss_set_param(l, NEGS_LP_PRECISION, 2), NEGS_E_INVALID, "precision");
    H(negs_loss_set_param(l, NEGS_LP_PRECISION, 0.5), NEGS_E_INVALID, "precision");
    H(negs_loss_set_param(l, NEGS_LP_PRECISION, NAN), NEGS_E_INVALID, "precision");
    H(negs_loss_set_param(l, NEGS_LP_PRECISION, -1), NEGS_E_INVALID, "precision");
    H(negs_loss_set_param(bpr, NEGS_LP_PRECISION, NEGS_PRECISION_BF16), NEGS_E_UNSUPPORTED, "BF16");
    H(negs_loss_set_param(l, NEGS_LP_TELEMETRY_TOP, 1), NEGS_E_INVALID, "read-only");
    H(negs_loss_set_param(l, NEGS_LP_MASKED_HITS, 0), NEGS_E_INVALID, "read-only");
    H(negs_loss_set_param(l, NEGS_LP_MASKED_KNOWN, 0), NEGS_E_INVALID, "read-only");
    H(negs_loss_set_param(l, NEGS_LP_BF16_KERNEL, NEGS_BF16_KERNEL_PORTABLE), NEGS_E_INVALID,
      "read-only");
    H(negs_loss_get_param(NULL, NEGS_LP_MASKED_HITS, &v), NEGS_E_INVALID, "l");

    H(negs_loss_set_telemetry(NULL, T, B, cols, logits), NEGS_E_INVALID, "l");
    H(negs_loss_set_telemetry(bpr, T, B, cols, logits), NEGS_E_UNSUPPORTED, "SOFTMAX");
    H(negs_loss_set_telemetry(l, NEGS_TELEMETRY_MAX_TOP + 1, B, cols, logits), NEGS_E_INVALID, "t = 65");
    H(negs_loss_set_telemetry(l, UINT32_MAX, B, cols, logits), NEGS_E_INVALID, "NEGS_TELEMETRY_MAX_TOP");
    H(negs_loss_set_telemetry(l, T, B, NULL, logits), NEGS_E_INVALID, "out_cols");
    H(negs_loss_set_telemetry(l, T, B, cols, NULL), NEGS_E_INVALID, "out_logits");
    H(negs_loss_set_telemetry(l, T, 0, cols, logits), NEGS_E_INVALID, "max_rows");
    H(negs_loss_set_telemetry(l, NEGS_TELEMETRY_MAX_TOP, SIZE_MAX / 8, cols, logits), NEGS_E_INVALID,
      "max_rows * t");
    /* the telemetry buffers hold B rows: a larger batch is refused */
    float u2[(B + 1) * DIM], v2[(B + 1 + M) * DIM];
    fill(u2, (B + 1) * DIM, 1);
    fill(v2, (B + 1 + M) * DIM, 2);
    H(negs_loss_inbatch(l, B + 1, M, DIM, u2, v2, NULL, NULL, NULL, loss, NULL, NULL), NEGS_E_INVALID,
      "telemetry");
    float lq_bad[B + M];
    memcpy(lq_bad, g_lq, sizeof lq_bad);
    lq_bad[1] = -INFINITY;
    H(negs_loss_inbatch(l, B, M, DIM, g_u, g_v, lq_bad, g_items, g_users, loss, du, NULL),
      NEGS_E_INVALID, "logq[1]");
    lq_bad[1] = g_lq[1];
    lq_bad[B + 1] = NAN;
    H(negs_loss_inbatch(l, B, M, DIM, g_u, g_v, lq_bad, g_items, g_users, loss, du, NULL),
      NEGS_E_INVALID, "logq[4]");
    uint32_t bad_users[B] = {0, NU, 1}, bad_items[B + M] = {0, 1, 2, 3, 4, NI, 6};
    H(negs_loss_inbatch(l, B, M, DIM, g_u, g_v, g_lq, g_items, bad_users, loss, du, NULL),
      NEGS_E_INVALID, "user_ids[1]");
    H(negs_loss_inbatch(l, B, M, DIM, g_u, g_v, g_lq, bad_items, g_users, loss, du, NULL),
      NEGS_E_INVALID, "item_ids[5]");
    H(negs_loss_inbatch(l, B, M, DIM, g_u, g_v, g_lq, NULL, g_users, loss, du, NULL),
      NEGS_E_INVALID, "item_ids");

    /* the indexed calls: the tables are g_u (NU rows would be needed: use g_v as both) */
    const float *tab = g_v; /* (B + M) rows of DIM */
    uint32_t ui[B] = {0, 1, 2}, ii[B + M] = {0, 1, 2, 3, 4, 5, 6};
    float dtab[(B + M) * DIM];
    memset(dtab, 0, sizeof dtab);
    H(negs_loss_inbatch_indexed(NULL, B, M, DIM, tab, NU, tab, B + M, ui, ii, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "l");
    H(negs_loss_inbatch_indexed(l, B, M, DIM, NULL, NU, tab, B + M, ui, ii, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "user_emb");
    H(negs_loss_inbatch_indexed(l, B, M, DIM, tab, NU, NULL, B + M, ui, ii, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "item_emb");
    H(negs_loss_inbatch_indexed(l, B, M, DIM, tab, NU, tab, B + M, NULL, ii, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "user_idx");
    H(negs_loss_inbatch_indexed(l, B, M, DIM, tab, NU, tab, B + M, ui, NULL, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "item_idx");
    H(negs_loss_inbatch_indexed(l, B, M, DIM, tab, NU, tab, B + M, ui, ii, NULL, NULL, dtab, dtab),
      NEGS_E_INVALID, "loss");
    H(negs_loss_inbatch_indexed(l, 0, M, DIM, tab, NU, tab, B + M, ui, ii, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "b");
    H(negs_loss_inbatch_indexed(l, B, M, 0, tab, NU, tab, B + M, ui, ii, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "dim");
    H(negs_loss_inbatch_indexed(l, B, SIZE_MAX - 1, DIM, tab, NU, tab, B + M, ui, ii, NULL, loss,
                                dtab, dtab), NEGS_E_INVALID, "b + m");
    H(negs_loss_inbatch_indexed(l, B, M, SIZE_MAX / 2, tab, UINT32_MAX, tab, B + M, ui, ii, NULL,
                                loss, dtab, dtab), NEGS_E_INVALID, "overflow");
    ui[2] = NU;
    H(negs_loss_inbatch_indexed(l, B, M, DIM, tab, NU, tab, B + M, ui, ii, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "user_idx[2]");
    ui[2] = 2;
    ii[6] = B + M;
    H(negs_loss_inbatch_indexed(l, B, M, DIM, tab, NU, tab, B + M, ui, ii, NULL, loss, dtab, dtab),
      NEGS_E_INVALID, "item_idx[6]");
    H(negs_loss_inbatch_indexed_rows(l, B, M, DIM, tab, NU, tab, B + M, ui, ii, NULL, loss, NULL,
                                     NULL), NEGS_E_INVALID, "item_idx[6]");
    ii[6] = 6;
    H(negs_loss_inbatch_indexed_rows(NULL, B, M, DIM, tab, NU, tab, B + M, ui, ii, NULL, loss, NULL,
                                     NULL), NEGS_E_INVALID, "l");
    H(negs_loss_inbatch_indexed_rows(l, B, M, DIM, tab, NU, tab, B + M, NULL, ii, NULL, loss, NULL,
                                     NULL), NEGS_E_INVALID, "user_idx");
    H(negs_loss_inbatch_indexed_rows(bpr, B, M, DIM, tab, NU, tab, B + M, ui, ii, NULL, loss, NULL,
                                     NULL), NEGS_E_UNSUPPORTED, "SOFTMAX");
    float nan_tab[(B + M) * DIM];
    memcpy(nan_tab, tab, sizeof nan_tab);
    nan_tab[2 * DIM + 1] = NAN; /* row 2, read as user 2 and as item 2 */
    H(negs_loss_inbatch_indexed_rows(l, B, M, DIM, nan_tab, NU, nan_tab, B + M, ui, ii, NULL, loss,
                                     NULL, NULL), NEGS_E_INVALID, "row 2");
    /* a known positive's user out of the table's range, through the indexed path */
    ui[0] = NU; /* below n_users = NU + 1 of this call, not below the positives' NU users */
    H(negs_loss_inbatch_indexed(l, B, M, DIM, tab, NU + 1, tab, B + M, ui, ii, NULL, loss, dtab,
                                dtab), NEGS_E_INVALID, "user_idx[0]");
}

static void test_loss_handles(void **state)
{
    (void)state;
    negs_csr *t = negs_csr_create(NU, NI, g_indptr, g_idx);
    assert_non_null(t);
    fill(g_u, B * DIM, 1);
    fill(g_v, (B + M) * DIM, 2);
    for (int j = 0; j < B + M; j++) {
        g_lq[j] = -1.0f - 0.25f * (float)j;
        g_items[j] = (uint32_t)(j % 5); /* known positives of users 0 and 3 among them */
    }
    g_items[B + 1] = g_items[0]; /* an accidental hit */
    for (int i = 0; i < B; i++) g_users[i] = (uint32_t)(i * 3) % NU;
    for (int precision = NEGS_PRECISION_FP32; precision <= NEGS_PRECISION_BF16; precision++) {
        ib_out ref, got;
        memset(&ref, 0, sizeof ref);
        memset(&got, 0, sizeof got);
        negs_loss *l = softmax(t, &got, precision), *twin = softmax(t, &ref, precision);
        negs_loss *bpr = negs_loss_create(NEGS_LOSS_BPR);
        run(twin, &ref); /* the first call on each allocates its workspace */
        run(l, &got);
        same(&got, &ref);
        assert_true(ref.hits >= 1 && ref.known >= 1);
        hostile_loss(l, bpr);
        if (precision == NEGS_PRECISION_BF16) {
            float big[B * DIM], loss;
            memcpy(big, g_u, sizeof big);
            big[4] = 3.4e38f; /* finite, but rounds to Inf in bf16 */
            H(negs_loss_inbatch(l, B, M, DIM, big, g_v, g_lq, NULL, NULL, &loss, NULL, NULL),
              NEGS_E_INVALID, "rounds to Inf");
        }
        check_cases();
        /* unchanged: parameters, telemetry in force, and the twin's bytes */
        double v = 0;
        assert_int_equal(negs_loss_get_param(l, NEGS_LP_TAU_PLUS, &v), NEGS_OK);
        assert_true(v == 0.1);
        assert_int_equal(negs_loss_get_param(l, NEGS_LP_PRECISION, &v), NEGS_OK);
        assert_true(v == precision);
        assert_int_equal(negs_loss_get_param(l, NEGS_LP_TELEMETRY_TOP, &v), NEGS_OK);
        assert_true(v == T);
        memset(&got, 0x55, sizeof got);
        memset(&ref, 0x55, sizeof ref);
        run(twin, &ref);
        run(l, &got);
        same(&got, &ref);
        for (int i = 0; i < B * T; i++) /* a live column other than the row's own, or none */
            assert_true((got.cols[i] < B + M && got.cols[i] != (uint32_t)i / T) ||
                        (got.cols[i] == UINT32_MAX && got.logits[i] == -INFINITY));
        negs_loss_free(l);
        negs_loss_free(twin);
        negs_loss_free(bpr);
    }
    negs_csr_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xbm),
        cmocka_unit_test(test_loss_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
