/* Exactly the sharing the header allows, from several threads at once (make tsan runs it
 * under ThreadSanitizer): one negs_csr read by many samplers (POPULARITY, WALK, SRNS's child)
 * and queried directly, read-only estimator queries on one negs_freq, read-only
 * negs_sampler_logq and get_param on one sampler, read-only negs_xbm_layout on one memory,
 * several loss handles with their own pools (tau+, bf16 and telemetry on), and per-thread
 * last errors. Every thread's results must equal the single-threaded ones bit for bit. */
#include <pthread.h>
#include <stdio.h>

#include "test_util.h"

enum { T = 4, NI = 2000, NU = 64, ROWS = 128, K = 8, ROUNDS = 6, B = 32, M = 16, DIM = 8 };

static negs_csr *g_pos;
static negs_freq *g_freq;
static negs_sampler *g_logq_sampler;
static uint32_t g_users[ROWS], g_rowpos[ROWS];
static uint32_t g_ref_items[ROUNDS][ROWS * K];
static float g_ref_p[NI], g_ref_logq[ROWS * K], g_ref_loss[2];
static float g_u[B * DIM], g_v[(B + M) * DIM], g_ref_du[B * DIM];
static uint32_t g_item_ids[B + M], g_user_ids[B];
/* the samplers and handles added with WALK, SRNS and the cross-batch memory */
enum { SRNS_S = 6, SRNS_R = 4, SRNS_N = SRNS_S + SRNS_R, XCAP = 24, TT = 4 };
static negs_xbm *g_xbm;
static uint32_t g_ref_walk[ROUNDS][ROWS * K], g_ref_srns[ROUNDS][ROWS * 2];
static float g_ref_xv[(B + XCAP) * DIM], g_ref_xlq[B + XCAP], g_ref_tloss, g_ref_tdu[B * DIM];
static float g_ref_tlogits[B * TT];
static uint32_t g_ref_xids[B + XCAP], g_ref_tcols[B * TT];

static negs_csr *make_table(void)
{
    static uint64_t indptr[NU + 1];
    static uint32_t idx[NU * 40];
    for (uint32_t u = 0; u < NU; u++) {
        indptr[u + 1] = indptr[u] + 5 + u % 30;
        for (uint64_t q = indptr[u]; q < indptr[u + 1]; q++) idx[q] = (uint32_t)((q * 131 + u) % NI);
    }
    return negs_csr_create(NU, NI, indptr, idx);
}

static double g_w[NI]; /* filled before the threads start: they only read it */

static negs_sampler *make_sampler(void)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, NI, 99);
    if (!s || negs_sampler_set_weights(s, g_w, NI) || negs_sampler_set_positives(s, g_pos) ||
        negs_sampler_set_param(s, NEGS_SP_THREADS, 2))
        fail_msg("sampler setup: %s", negs_last_error());
    return s;
}

static negs_loss *make_loss(void)
{
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    if (!l || negs_loss_set_param(l, NEGS_LP_THREADS, 2) || negs_loss_set_positives(l, g_pos))
        fail_msg("loss setup: %s", negs_last_error());
    return l;
}

static int run_loss(negs_loss *l, float *loss, float *du)
{
    return negs_loss_inbatch(l, B, M, DIM, g_u, g_v, NULL, g_item_ids, g_user_ids, loss, du, NULL);
}

static negs_sampler *make_walk(void)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_WALK, NI, 17);
    if (!s || negs_sampler_set_positives(s, g_pos) || negs_sampler_set_param(s, NEGS_SP_THREADS, 2) ||
        negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 5) ||
        negs_sampler_set_param(s, NEGS_SP_WALK_RESTART, 0.25))
        fail_msg("walk setup: %s", negs_last_error());
    return s;
}

static negs_sampler *make_srns(void)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_SRNS, NI, 23);
    negs_sampler *c = negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 0);
    if (!s || !c || negs_sampler_set_positives(c, g_pos) || negs_sampler_add(s, c, 1.0) ||
        negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, SRNS_S) ||
        negs_sampler_set_param(s, NEGS_SP_SRNS_REFRESH, SRNS_R) || negs_srns_prepare(s, NU) ||
        negs_sampler_set_param(s, NEGS_SP_THREADS, 2))
        fail_msg("srns setup: %s", negs_last_error());
    return s;
}

/* One SRNS step: candidates, scores made from the ids, select. */
static int srns_round(negs_sampler *s, uint64_t step, uint32_t *cand, float *sc, uint32_t *out)
{
    static const float zero_pos[ROWS];
    if (negs_srns_candidates(s, step, ROWS, g_users, g_rowpos, cand) != SRNS_N) return -1;
    for (int i = 0; i < ROWS * SRNS_N; i++) sc[i] = (float)((cand[i] * 13 + step) % 17) / 8.0f - 1.0f;
    return negs_srns_select(s, step, ROWS, g_users, g_rowpos, cand, sc, zero_pos, 2, out, NULL);
}

static negs_loss *make_tel_loss(uint32_t *cols, float *logits)
{
    negs_loss *l = make_loss();
    if (negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 0.1) ||
        negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_BF16) ||
        negs_loss_set_telemetry(l, TT, B, cols, logits))
        fail_msg("telemetry loss setup: %s", negs_last_error());
    return l;
}

static int xbm_layout(float *v, float *lq, uint32_t *ids)
{
    memset(v, 0, (B + XCAP) * DIM * sizeof *v);
    return negs_xbm_layout(g_xbm, 40, B, DIM, B + XCAP, v, lq, ids, NULL, NULL);
}

/* The WALK, SRNS, cross-batch and telemetry part of a worker; returns its mismatches. */
static long worker_new_handles(void)
{
    long bad = 0;
    negs_sampler *w = make_walk(), *sr = make_srns();
    static _Thread_local uint32_t cols[B * TT], items[ROWS * K], cand[ROWS * SRNS_N], out[ROWS * 2];
    static _Thread_local float logits[B * TT], sc[ROWS * SRNS_N], xv[(B + XCAP) * DIM], xlq[B + XCAP];
    static _Thread_local float du[B * DIM];
    static _Thread_local uint32_t xids[B + XCAP];
    negs_loss *l = make_tel_loss(cols, logits);
    for (int r = 0; r < ROUNDS; r++) {
        if (negs_sampler_sample(w, (uint64_t)r, ROWS, g_users, g_rowpos, K, items, NULL) ||
            memcmp(items, g_ref_walk[r], sizeof items))
            bad++;
        if (srns_round(sr, (uint64_t)r, cand, sc, out) || memcmp(out, g_ref_srns[r], sizeof out)) bad++;
        if (xbm_layout(xv, xlq, xids) != XCAP || memcmp(xv, g_ref_xv, sizeof xv) ||
            memcmp(xlq, g_ref_xlq, sizeof xlq) || memcmp(xids + B, g_ref_xids + B, XCAP * sizeof *xids))
            bad++;
        double size = 0, alpha = 0;
        if (negs_xbm_get_param(g_xbm, NEGS_XP_SIZE, &size) || size != XCAP) bad++;
        if (negs_sampler_get_param(g_logq_sampler, NEGS_SP_ALPHA, &alpha) || alpha != 0.75) bad++;
        float loss = 0.0f;
        if (run_loss(l, &loss, du) || memcmp(&loss, &g_ref_tloss, sizeof loss) ||
            memcmp(du, g_ref_tdu, sizeof du) || memcmp(cols, g_ref_tcols, sizeof cols) ||
            memcmp(logits, g_ref_tlogits, sizeof logits))
            bad++;
    }
    negs_loss_free(l);
    negs_sampler_free(sr);
    negs_sampler_free(w);
    return bad;
}

static void *worker(void *arg)
{
    long id = (long)arg, bad = 0;
    negs_sampler *s = make_sampler(); /* its own handle on the shared table */
    negs_loss *l = make_loss();
    static _Thread_local uint32_t items[ROWS * K];
    static _Thread_local float p[NI], lq[ROWS * K], du[B * DIM];
    uint64_t ids[NI];
    for (uint32_t i = 0; i < NI; i++) ids[i] = i;
    for (int r = 0; r < ROUNDS; r++) {
        if (negs_sampler_sample(s, (uint64_t)r, ROWS, g_users, g_rowpos, K, items, NULL)) bad++;
        if (memcmp(items, g_ref_items[r], sizeof items)) bad++;
        for (uint32_t u = 0; u < NU; u += 7) /* direct queries of the shared table */
            if (negs_csr_contains(g_pos, u, items[u]) < 0 || negs_csr_row_size(g_pos, u) < 5) bad++;
        if (negs_freq_prob(g_freq, ids, NI, p) || memcmp(p, g_ref_p, sizeof p)) bad++;
        size_t n = 0;
        if (negs_freq_save(g_freq, NULL, 0, &n) || n == 0) bad++;
        if (negs_sampler_logq(g_logq_sampler, 0, ROWS, g_users, g_rowpos, g_ref_items[0], K, lq) ||
            memcmp(lq, g_ref_logq, sizeof lq))
            bad++;
        float loss = 0.0f;
        if (run_loss(l, &loss, du) || memcmp(&loss, g_ref_loss, sizeof loss) ||
            memcmp(du, g_ref_du, sizeof du))
            bad++;
        /* this thread's own last error */
        negs_sampler_sample(s, 0, 1, g_users, g_rowpos, 0, items, NULL);
        char want[64];
        snprintf(want, sizeof want, "k is 0");
        if (!strstr(negs_last_error(), want)) bad++;
        if (negs_loss_set_param(l, 1000 + (int)id, 1.0) != NEGS_E_UNSUPPORTED) bad++;
        snprintf(want, sizeof want, "%ld", 1000 + id);
        if (!strstr(negs_last_error(), want)) bad++;
    }
    negs_loss_free(l);
    negs_sampler_free(s);
    bad += worker_new_handles();
    return (void *)bad;
}

/* References of worker_new_handles, single-threaded, and the shared memory. */
static void make_new_references(void)
{
    negs_sampler *w = make_walk(), *sr = make_srns();
    static uint32_t cand[ROWS * SRNS_N];
    static float sc[ROWS * SRNS_N];
    for (int r = 0; r < ROUNDS; r++) {
        assert_int_equal(negs_sampler_sample(w, (uint64_t)r, ROWS, g_users, g_rowpos, K,
                                             g_ref_walk[r], NULL), 0);
        assert_int_equal(srns_round(sr, (uint64_t)r, cand, sc, g_ref_srns[r]), 0);
    }
    negs_sampler_free(sr);
    negs_sampler_free(w);
    g_xbm = negs_xbm_create(XCAP, DIM);
    assert_non_null(g_xbm);
    assert_int_equal(negs_xbm_set_param(g_xbm, NEGS_XP_MAX_AGE, 10), 0);
    for (uint64_t st = 20; st <= 38; st += 6) /* 4 pushes of 8 into 24 slots: it wraps */
        assert_int_equal(negs_xbm_push(g_xbm, st, 8, DIM, g_v + st % 5 * DIM, g_item_ids, NULL), 0);
    assert_int_equal(xbm_layout(g_ref_xv, g_ref_xlq, g_ref_xids), XCAP);
    negs_loss *l = make_tel_loss(g_ref_tcols, g_ref_tlogits);
    assert_int_equal(run_loss(l, &g_ref_tloss, g_ref_tdu), 0);
    negs_loss_free(l);
}

static void test_shared_handles(void **state)
{
    (void)state;
    g_pos = make_table();
    assert_non_null(g_pos);
    for (uint32_t i = 0; i < NI; i++) g_w[i] = 1.0 + (double)(i % 17);
    for (uint32_t r = 0; r < ROWS; r++) {
        g_users[r] = (r * 5) % NU;
        g_rowpos[r] = (r * 37) % NI;
    }
    for (int i = 0; i < B * DIM; i++) g_u[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
    for (int i = 0; i < (B + M) * DIM; i++) g_v[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
    for (int i = 0; i < B + M; i++) g_item_ids[i] = (uint32_t)(i * 131 % 61);
    for (int i = 0; i < B; i++) g_user_ids[i] = (uint32_t)i % NU;

    g_freq = negs_freq_create(NEGS_FREQ_SKETCH, 1024, 4, 3);
    assert_non_null(g_freq);
    uint64_t ids[NI];
    for (uint32_t i = 0; i < NI; i++) ids[i] = i % (1 + i % 97);
    for (uint64_t st = 1; st <= 5; st++) assert_int_equal(negs_freq_update(g_freq, st, ids, NI), 0);
    for (uint32_t i = 0; i < NI; i++) ids[i] = i;
    assert_int_equal(negs_freq_prob(g_freq, ids, NI, g_ref_p), 0);

    /* references, single-threaded */
    negs_sampler *s = make_sampler();
    for (int r = 0; r < ROUNDS; r++)
        assert_int_equal(negs_sampler_sample(s, (uint64_t)r, ROWS, g_users, g_rowpos, K,
                                             g_ref_items[r], NULL), 0);
    g_logq_sampler = s; /* shared read-only from now on */
    assert_int_equal(negs_sampler_logq(s, 0, ROWS, g_users, g_rowpos, g_ref_items[0], K, g_ref_logq), 0);
    negs_loss *l = make_loss();
    assert_int_equal(run_loss(l, g_ref_loss, g_ref_du), 0);
    negs_loss_free(l);

    make_new_references();
    pthread_t th[T];
    for (long t = 0; t < T; t++) assert_int_equal(pthread_create(&th[t], NULL, worker, (void *)t), 0);
    long bad = 0;
    for (int t = 0; t < T; t++) {
        void *r = NULL;
        pthread_join(th[t], &r);
        bad += (long)r;
    }
    assert_int_equal(bad, 0);
    negs_sampler_free(g_logq_sampler);
    negs_xbm_free(g_xbm);
    negs_freq_free(g_freq);
    negs_csr_free(g_pos); /* the last reference */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_handles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
