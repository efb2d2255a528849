/* Exactly the sharing the header allows, from several threads at once (make tsan runs it
 * under ThreadSanitizer): one negs_csr read by many samplers and queried directly, read-only
 * estimator queries on one negs_freq, read-only negs_sampler_logq on one sampler, several loss
 * handles with their own pools, and per-thread last errors. Every thread's results must equal
 * the single-threaded ones bit for bit. */
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
    return (void *)bad;
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
