/* Fault injection (make faults): every create, set and first-execution path is run once to
 * count its allocations, then once more for every n with the n-th allocation failing. Each
 * failure must be NULL or NEGS_E_NOMEM with a sentence starting "NEGS_E_NOMEM"; the handles
 * involved must still be usable (a later call answers OK or a status with a sentence) and
 * freeable, and nothing may leak (the build uses ASan's leak checker). A repeated execution
 * of the same shape must not allocate at all. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negsample.h"
#include "core/alloc.h"

static int failures;
static int g_faulted; /* the armed fault has been reported by a call */

#define FAIL(...)                                                                          \
    do {                                                                                   \
        fprintf(stderr, "faults: %s:%d: ", __FILE__, __LINE__);                            \
        fprintf(stderr, __VA_ARGS__);                                                      \
        fputc('\n', stderr);                                                               \
        failures++;                                                                        \
    } while (0)

/* A call that may meet the fault: OK, or NOMEM with its sentence (then `out` is taken). */
#define STEP(call)                                                                         \
    do {                                                                                   \
        int st_ = (call);                                                                  \
        if (st_ < 0 && !nomem_ok(st_, #call)) goto out;                                    \
        if (st_ == NEGS_E_NOMEM) goto out;                                                 \
    } while (0)
#define MAKE(var, call)                                                                    \
    do {                                                                                   \
        var = (call);                                                                      \
        if (!var) {                                                                        \
            nomem_ok(negs_last_status(), #call);                                           \
            goto out;                                                                      \
        }                                                                                  \
    } while (0)
/* A repeated execution: must succeed without allocating. */
#define AGAIN(call)                                                                        \
    do {                                                                                   \
        long before_ = negs_fault_allocations();                                           \
        int st_ = (call);                                                                  \
        if (st_ < 0) FAIL("%s repeated: %s", #call, negs_last_error());                    \
        if (negs_fault_allocations() != before_) FAIL("%s repeated allocates", #call);     \
    } while (0)

static int nomem_ok(int st, const char *what)
{
    if (st != NEGS_E_NOMEM) {
        FAIL("%s: status %s, expected NEGS_E_NOMEM: %s", what, negs_status_name(st),
             negs_last_error());
        return 0;
    }
    if (strncmp(negs_last_error(), "NEGS_E_NOMEM: ", 14) != 0 || strlen(negs_last_error()) < 24)
        FAIL("%s: NOMEM without its sentence: \"%s\"", what, negs_last_error());
    g_faulted = 1;
    return 1;
}

/* After a fault the handle must still answer: OK or a status with its sentence. */
static void still_usable(int st, const char *what)
{
    if (st < 0 && strncmp(negs_last_error(), negs_status_name(st), strlen(negs_status_name(st))))
        FAIL("%s after a fault: %s without a sentence", what, negs_status_name(st));
}

enum { NI = 300, NU = 8, K = 4, ROWS = 6, DIM = 5 };
static uint64_t g_indptr[NU + 1];
static uint32_t g_indices[NU * 200];
static double g_w[NI];
static uint32_t g_cat[NI], g_users[ROWS], g_pos[ROWS], g_items[ROWS * 64];
static float g_logq[ROWS * 64], g_emb[NI * DIM], g_q[ROWS * DIM];

static void setup_data(void)
{
    /* user 0 has seen most of the catalogue's mass (a per-user table), the others a few */
    for (uint32_t u = 0; u < NU; u++) {
        uint32_t len = u == 0 ? 200 : 3 + u;
        g_indptr[u + 1] = g_indptr[u] + len;
        for (uint32_t q = 0; q < len; q++) g_indices[g_indptr[u] + q] = (q * 7 + u) % NI;
    }
    for (uint32_t i = 0; i < NI; i++) {
        g_w[i] = 1.0 + (double)(i % 13);
        g_cat[i] = i % 5;
    }
    for (uint32_t r = 0; r < ROWS; r++) {
        g_users[r] = r % NU;
        g_pos[r] = 250 + r;
    }
    for (size_t i = 0; i < NI * DIM; i++) g_emb[i] = (float)((i * 37) % 19) / 19.0f - 0.5f;
    for (size_t i = 0; i < ROWS * DIM; i++) g_q[i] = (float)((i * 11) % 7) / 7.0f - 0.5f;
}

static int sample_rows(negs_sampler *s, uint32_t k)
{
    return negs_sampler_sample(s, 3, ROWS, g_users, g_pos, k, g_items, g_logq);
}

static void sc_csr(void)
{
    negs_csr *t = NULL;
    MAKE(t, negs_csr_create(NU, NI, g_indptr, g_indices));
out:
    negs_csr_free(t);
}

/* A plain kind with every table and the parameters whose setting builds something. */
static void sc_plain(int kind)
{
    negs_csr *t = NULL;
    negs_sampler *s = NULL;
    MAKE(t, negs_csr_create(NU, NI, g_indptr, g_indices));
    MAKE(s, negs_sampler_create(kind, NI, 7));
    if (kind != NEGS_SAMPLER_UNIFORM) STEP(negs_sampler_set_weights(s, g_w, NI));
    if (kind == NEGS_SAMPLER_CATEGORY) STEP(negs_sampler_set_categories(s, g_cat, NI));
    if (kind == NEGS_SAMPLER_EXPOSURE) STEP(negs_sampler_set_exposures(s, t));
    STEP(negs_sampler_set_positives(s, t));
    STEP(negs_sampler_set_param(s, NEGS_SP_THREADS, 2));
    STEP(sample_rows(s, K));
    AGAIN(sample_rows(s, K));
    STEP(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1));
    STEP(sample_rows(s, K));
    AGAIN(sample_rows(s, K));
    if (kind == NEGS_SAMPLER_UNIFORM) {
        uint32_t ids[50];
        for (uint32_t i = 0; i < 50; i++) ids[i] = i * 3;
        STEP(negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0));
        STEP(negs_sampler_set_support(s, ids, 50));
        STEP(sample_rows(s, K));
    }
    if (kind <= NEGS_SAMPLER_POPULARITY) {
        float pl[ROWS];
        STEP(negs_sampler_sample_shared(s, 1, ROWS, g_pos, 8, g_items, g_logq, pl));
        AGAIN(negs_sampler_sample_shared(s, 1, ROWS, g_pos, 8, g_items, g_logq, pl));
    }
out:
    if (s) still_usable(sample_rows(s, K), "negs_sampler_sample");
    negs_sampler_free(s);
    negs_csr_free(t);
}

static void sc_uniform(void) { sc_plain(NEGS_SAMPLER_UNIFORM); }
static void sc_popularity(void) { sc_plain(NEGS_SAMPLER_POPULARITY); }
static void sc_category(void) { sc_plain(NEGS_SAMPLER_CATEGORY); }
static void sc_exposure(void) { sc_plain(NEGS_SAMPLER_EXPOSURE); }

static void sc_mixture(void)
{
    negs_sampler *m = NULL, *a = NULL, *b = NULL;
    MAKE(m, negs_sampler_create(NEGS_SAMPLER_MIXTURE, NI, 9));
    MAKE(a, negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 1));
    MAKE(b, negs_sampler_create(NEGS_SAMPLER_POPULARITY, NI, 2));
    STEP(negs_sampler_set_weights(b, g_w, NI));
    STEP(negs_sampler_add(m, a, 1.0));
    a = NULL; /* the mixture owns it now */
    STEP(negs_sampler_add(m, b, 2.0));
    b = NULL;
    const double steps[2] = {0, 10}, shares[2] = {0.1, 0.9};
    STEP(negs_sampler_set_schedule(m, 1, 2, steps, shares));
    STEP(negs_sampler_set_param(m, NEGS_SP_THREADS, 3));
    STEP(sample_rows(m, K));
    AGAIN(sample_rows(m, K));
out:
    if (m) still_usable(sample_rows(m, K), "negs_sampler_sample (mixture)");
    negs_sampler_free(a);
    negs_sampler_free(b);
    negs_sampler_free(m);
}

static void sc_hard(void)
{
    negs_sampler *h = NULL, *c = NULL;
    MAKE(h, negs_sampler_create(NEGS_SAMPLER_HARD, NI, 5));
    MAKE(c, negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 1));
    STEP(negs_sampler_add(h, c, 1.0));
    c = NULL;
    STEP(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, 16));
    STEP(negs_sampler_set_param(h, NEGS_SP_THREADS, 2));
    STEP(sample_rows(h, 16));
    AGAIN(sample_rows(h, 16));
    float scores[ROWS * 16];
    for (int i = 0; i < ROWS * 16; i++) scores[i] = (float)(i % 9);
    uint32_t cand[ROWS * 16], out4[ROWS * K];
    memcpy(cand, g_items, sizeof cand);
    STEP(negs_sampler_select(h, 1, ROWS, 16, cand, scores, NULL, K, out4, NULL));
    AGAIN(negs_sampler_select(h, 1, ROWS, 16, cand, scores, NULL, K, out4, NULL));
    STEP(negs_sampler_set_param(h, NEGS_SP_HARD_MODE, NEGS_HARD_SOFTMAX));
    STEP(negs_sampler_sample_scored(h, 2, ROWS, g_users, g_pos, g_q, g_emb, DIM, K, out4, g_logq));
    AGAIN(negs_sampler_sample_scored(h, 2, ROWS, g_users, g_pos, g_q, g_emb, DIM, K, out4, g_logq));
out:
    if (h) still_usable(sample_rows(h, 16), "negs_sampler_sample (hard)");
    negs_sampler_free(c);
    negs_sampler_free(h);
}

static void sc_freq(int kind)
{
    negs_freq *f = NULL, *g = NULL, *h = NULL;
    unsigned char *img = NULL;
    uint64_t ids[64];
    uint32_t ids32[64];
    float lq[64];
    for (int i = 0; i < 64; i++) ids32[i] = (uint32_t)(ids[i] = (uint64_t)(i * i % 17));
    MAKE(f, negs_freq_create(kind, 256, 3, 11));
    STEP(negs_freq_set_param(f, NEGS_FP_MAX_GAP, 500));
    STEP(negs_freq_update(f, 1, ids, 64));
    STEP(negs_freq_update_u32(f, 2, ids32, 64));
    STEP(negs_freq_update_logq(f, 3, ids, 64, lq));
    AGAIN(negs_freq_update_logq(f, 4, ids, 64, lq));
    STEP(negs_freq_update_logq_u32(f, 5, ids32, 64, lq));
    AGAIN(negs_freq_update_logq_u32(f, 6, ids32, 64, lq));
    AGAIN(negs_freq_logq(f, ids, 64, lq));
    size_t n = 0;
    STEP(negs_freq_save(f, NULL, 0, &n));
    img = malloc(n);
    if (!img || negs_freq_save(f, img, n, &n)) {
        FAIL("save");
        goto out;
    }
    MAKE(g, negs_freq_load(img, n));
    MAKE(h, negs_freq_create(kind, 256, 3, 11));
    STEP(negs_freq_update(h, 9, ids, 10));
    if (kind == NEGS_FREQ_SKETCH) STEP(negs_freq_merge(g, h));
    STEP(negs_freq_reset(g));
out:
    if (f) still_usable(negs_freq_update(f, 50, ids, 4), "negs_freq_update");
    free(img);
    negs_freq_free(f);
    negs_freq_free(g);
    negs_freq_free(h);
}

static void sc_gap(void) { sc_freq(NEGS_FREQ_GAP); }
static void sc_sketch(void) { sc_freq(NEGS_FREQ_SKETCH); }

static void sc_loss(int kind)
{
    enum { B = 6, M = 3, N = 5, KK = 4 };
    negs_loss *l = NULL;
    negs_csr *t = NULL;
    float pos[N], neg[N * KK], d_pos[N], d_neg[N * KK], loss[B];
    float u[B * DIM], v[(B + M) * DIM], du[B * DIM], dv[(B + M) * DIM], lq[B + M];
    float d_user[NU * DIM], d_item[NI * DIM], rows_u[N * DIM], rows_p[N * DIM], rows_n[N * KK * DIM];
    uint32_t item_ids[B + M], user_ids[B], ui[N], pi[N], ni[N * KK];
    for (int i = 0; i < N; i++) pos[i] = 0.1f * (float)i;
    for (int i = 0; i < N * KK; i++) neg[i] = 0.05f * (float)(i % 7);
    for (int i = 0; i < B * DIM; i++) u[i] = g_q[i % (ROWS * DIM)];
    for (int i = 0; i < (B + M) * DIM; i++) v[i] = g_emb[i];
    for (int i = 0; i < B + M; i++) {
        lq[i] = -3.0f;
        item_ids[i] = (uint32_t)(i % 4) * 7; /* accidental hits and known positives */
    }
    for (int i = 0; i < B; i++) user_ids[i] = (uint32_t)i % NU;
    for (int i = 0; i < N; i++) {
        ui[i] = (uint32_t)i % NU;
        pi[i] = (uint32_t)i * 3;
    }
    for (int i = 0; i < N * KK; i++) ni[i] = (uint32_t)i * 5 % NI;
    memset(d_user, 0, sizeof d_user);
    memset(d_item, 0, sizeof d_item);
    MAKE(l, negs_loss_create(kind));
    MAKE(t, negs_csr_create(NU, NI, g_indptr, g_indices));
    STEP(negs_loss_set_param(l, NEGS_LP_THREADS, 2));
    STEP(negs_loss_scores(l, N, KK, pos, neg, NULL, NULL, loss, d_pos, d_neg));
    AGAIN(negs_loss_scores(l, N, KK, pos, neg, NULL, NULL, loss, d_pos, d_neg));
    STEP(negs_loss_scores_indexed(l, N, KK, DIM, g_q, NU, g_emb, NI, ui, pi, ni, NULL, NULL, loss,
                                  d_user, d_item));
    AGAIN(negs_loss_scores_indexed(l, N, KK, DIM, g_q, NU, g_emb, NI, ui, pi, ni, NULL, NULL, loss,
                                   d_user, d_item));
    STEP(negs_loss_scores_indexed_rows(l, N, KK, DIM, g_q, NU, g_emb, NI, ui, pi, ni, NULL, NULL,
                                       loss, rows_u, rows_p, rows_n));
    if (kind == NEGS_LOSS_SOFTMAX) {
        STEP(negs_loss_set_positives(l, t));
        STEP(negs_loss_inbatch(l, B, M, DIM, u, v, lq, item_ids, user_ids, loss, du, dv));
        AGAIN(negs_loss_inbatch(l, B, M, DIM, u, v, lq, item_ids, user_ids, loss, du, dv));
    }
out:
    if (l) still_usable(negs_loss_scores(l, N, KK, pos, neg, NULL, NULL, loss, d_pos, d_neg),
                        "negs_loss_scores");
    negs_loss_free(l);
    negs_csr_free(t);
}

static void sc_bce(void) { sc_loss(NEGS_LOSS_BCE); }
static void sc_softmax(void) { sc_loss(NEGS_LOSS_SOFTMAX); }
static void sc_listnet(void) { sc_loss(NEGS_LOSS_LISTNET); }

static void sc_walk(void)
{
    negs_csr *t = NULL;
    negs_sampler *s = NULL;
    MAKE(t, negs_csr_create(NU, NI, g_indptr, g_indices));
    MAKE(s, negs_sampler_create(NEGS_SAMPLER_WALK, NI, 4));
    STEP(negs_sampler_set_positives(s, t)); /* builds the item -> user transpose */
    STEP(negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 5));
    STEP(negs_sampler_set_param(s, NEGS_SP_THREADS, 2));
    STEP(sample_rows(s, K));
    AGAIN(sample_rows(s, K));
    STEP(negs_sampler_set_positives(s, t)); /* a second graph replaces the first */
    AGAIN(sample_rows(s, K));
out:
    if (s) still_usable(sample_rows(s, K), "negs_sampler_sample (walk)");
    negs_sampler_free(s);
    negs_csr_free(t);
}

static void sc_srns(void)
{
    enum { S = 6, R = 4, N = S + R };
    negs_csr *t = NULL;
    negs_sampler *s = NULL, *c = NULL, *mix = NULL, *a = NULL;
    uint32_t cand[ROWS * N], out[ROWS * 2];
    float sc[ROWS * N], ps[ROWS], lq[ROWS * 2];
    for (int r = 0; r < ROWS; r++) ps[r] = 0.1f * (float)r;
    MAKE(t, negs_csr_create(NU, NI, g_indptr, g_indices));
    MAKE(s, negs_sampler_create(NEGS_SAMPLER_SRNS, NI, 6));
    MAKE(mix, negs_sampler_create(NEGS_SAMPLER_MIXTURE, NI, 1));
    MAKE(a, negs_sampler_create(NEGS_SAMPLER_UNIFORM, NI, 1));
    MAKE(c, negs_sampler_create(NEGS_SAMPLER_POPULARITY, NI, 2));
    STEP(negs_sampler_set_weights(c, g_w, NI));
    STEP(negs_sampler_set_positives(c, t));
    STEP(negs_sampler_set_positives(a, t));
    STEP(negs_sampler_add(mix, a, 1.0));
    a = NULL;
    STEP(negs_sampler_add(mix, c, 1.0));
    c = NULL;
    STEP(negs_sampler_add(s, mix, 1.0));
    mix = NULL;
    STEP(negs_sampler_set_param(s, NEGS_SP_SRNS_MEMORY, S));
    STEP(negs_sampler_set_param(s, NEGS_SP_SRNS_REFRESH, R));
    STEP(negs_srns_prepare(s, NU));
    STEP(negs_sampler_set_param(s, NEGS_SP_THREADS, 3)); /* per-part workspaces */
    for (uint64_t step = 1; step <= 2; step++) {
        int n = negs_srns_candidates(s, step, ROWS, g_users, g_pos, cand);
        if (n < 0 && !nomem_ok(n, "negs_srns_candidates")) goto out;
        if (n < 0) goto out;
        for (int i = 0; i < ROWS * N; i++) sc[i] = (float)(cand[i] % 7) * 0.3f;
        if (step == 1)
            STEP(negs_srns_select(s, step, ROWS, g_users, g_pos, cand, sc, ps, 2, out, lq));
        else
            AGAIN(negs_srns_select(s, step, ROWS, g_users, g_pos, cand, sc, ps, 2, out, lq));
    }
    AGAIN(negs_srns_candidates(s, 3, ROWS, g_users, g_pos, cand));
    STEP(negs_srns_prepare(s, NU + 2)); /* re-sized: the old memory is freed */
out:
    if (s) still_usable(negs_srns_candidates(s, 4, ROWS, g_users, g_pos, cand), "negs_srns_candidates");
    negs_sampler_free(a);
    negs_sampler_free(c);
    negs_sampler_free(mix);
    negs_sampler_free(s);
    negs_csr_free(t);
}

static void sc_xbm(void)
{
    enum { CAP = 7, B = 4 };
    negs_xbm *x = NULL;
    negs_loss *l = NULL;
    float v[(B + CAP) * DIM], lq[B + CAP], u[B * DIM], loss, du[B * DIM];
    uint32_t ids[B + CAP];
    for (int i = 0; i < (B + CAP) * DIM; i++) v[i] = g_emb[i];
    for (int i = 0; i < B * DIM; i++) u[i] = g_q[i % (ROWS * DIM)];
    for (int i = 0; i < B + CAP; i++) {
        lq[i] = -2.0f;
        ids[i] = (uint32_t)i * 3;
    }
    MAKE(x, negs_xbm_create(CAP, DIM));
    STEP(negs_xbm_set_param(x, NEGS_XP_MAX_AGE, 1));
    STEP(negs_xbm_push(x, 1, B, DIM, v, ids, lq));
    STEP(negs_xbm_push(x, 2, B, DIM, v + B * DIM, ids + B, NULL)); /* wraps */
    AGAIN(negs_xbm_layout(x, 3, B, DIM, B + CAP, v, lq, ids, NULL, NULL));
    MAKE(l, negs_loss_create(NEGS_LOSS_SOFTMAX));
    STEP(negs_loss_inbatch(l, B, CAP, DIM, u, v, lq, ids, NULL, &loss, du, NULL));
    AGAIN(negs_loss_inbatch(l, B, CAP, DIM, u, v, lq, ids, NULL, &loss, du, NULL));
    STEP(negs_xbm_reset(x));
    AGAIN(negs_xbm_push(x, 0, B, DIM, v, ids, lq));
out:
    if (x) still_usable(negs_xbm_push(x, 9, 1, DIM, v, ids, lq), "negs_xbm_push");
    negs_loss_free(l);
    negs_xbm_free(x);
}

/* Telemetry, tau+ and bf16 on the fused in-batch softmax: each first call grows its own part
 * of the workspace (the bf16 rows, the debiased sums, the telemetry heaps). */
static void sc_inbatch_options(int precision, int cosine)
{
    enum { B = 6, M = 3, T = 3 };
    negs_loss *l = NULL;
    negs_csr *t = NULL;
    float u[B * DIM], v[(B + M) * DIM], du[B * DIM], dv[(B + M) * DIM], lq[B + M], loss;
    float logits[B * T], d_user[NU * DIM], d_item[NI * DIM], rows_u[B * DIM], rows_v[(B + M) * DIM];
    uint32_t cols[B * T], item_ids[B + M], user_ids[B];
    for (int i = 0; i < B * DIM; i++) u[i] = g_q[i % (ROWS * DIM)];
    for (int i = 0; i < (B + M) * DIM; i++) v[i] = g_emb[i];
    for (int i = 0; i < B + M; i++) {
        lq[i] = -3.0f;
        item_ids[i] = (uint32_t)(i % 4) * 7;
    }
    for (int i = 0; i < B; i++) user_ids[i] = (uint32_t)i % NU;
    memset(d_user, 0, sizeof d_user);
    memset(d_item, 0, sizeof d_item);
    MAKE(l, negs_loss_create(NEGS_LOSS_SOFTMAX));
    MAKE(t, negs_csr_create(NU, NI, g_indptr, g_indices));
    STEP(negs_loss_set_param(l, NEGS_LP_PRECISION, precision));
    STEP(negs_loss_set_param(l, NEGS_LP_COSINE, cosine));
    STEP(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 0.05));
    STEP(negs_loss_set_param(l, NEGS_LP_THREADS, 2));
    STEP(negs_loss_set_telemetry(l, T, B, cols, logits));
    STEP(negs_loss_set_positives(l, t));
    STEP(negs_loss_inbatch(l, B, M, DIM, u, v, lq, item_ids, user_ids, &loss, du, dv));
    AGAIN(negs_loss_inbatch(l, B, M, DIM, u, v, lq, item_ids, user_ids, &loss, du, dv));
    STEP(negs_loss_inbatch_indexed(l, B, M, DIM, g_q, NU, g_emb, NI, user_ids, item_ids, lq, &loss,
                                   d_user, d_item));
    AGAIN(negs_loss_inbatch_indexed(l, B, M, DIM, g_q, NU, g_emb, NI, user_ids, item_ids, lq,
                                    &loss, d_user, d_item));
    STEP(negs_loss_inbatch_indexed_rows(l, B, M, DIM, g_q, NU, g_emb, NI, user_ids, item_ids, lq,
                                        &loss, rows_u, rows_v));
    AGAIN(negs_loss_inbatch_indexed_rows(l, B, M, DIM, g_q, NU, g_emb, NI, user_ids, item_ids, lq,
                                         &loss, rows_u, rows_v));
    STEP(negs_loss_set_telemetry(l, 0, 0, NULL, NULL));
    AGAIN(negs_loss_inbatch(l, B, M, DIM, u, v, lq, item_ids, user_ids, &loss, du, dv));
out:
    if (l) still_usable(negs_loss_inbatch(l, B, M, DIM, u, v, lq, item_ids, user_ids, &loss, du, dv),
                        "negs_loss_inbatch");
    negs_loss_free(l);
    negs_csr_free(t);
}

static void sc_inbatch_fp32(void) { sc_inbatch_options(NEGS_PRECISION_FP32, 0); }
static void sc_inbatch_bf16(void) { sc_inbatch_options(NEGS_PRECISION_BF16, 0); }
static void sc_inbatch_bf16_cos(void) { sc_inbatch_options(NEGS_PRECISION_BF16, 1); }

/* tau+ on the score-level softmax: its own buffers of the scores path */
static void sc_debias_scores(void)
{
    enum { N = 5, KK = 4 };
    negs_loss *l = NULL;
    float pos[N], neg[N * KK], d_pos[N], d_neg[N * KK], loss;
    for (int i = 0; i < N; i++) pos[i] = 0.1f * (float)i;
    for (int i = 0; i < N * KK; i++) neg[i] = 0.05f * (float)(i % 7);
    MAKE(l, negs_loss_create(NEGS_LOSS_SOFTMAX));
    STEP(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, 0.2));
    STEP(negs_loss_set_param(l, NEGS_LP_THREADS, 2));
    STEP(negs_loss_scores(l, N, KK, pos, neg, NULL, NULL, &loss, d_pos, d_neg));
    AGAIN(negs_loss_scores(l, N, KK, pos, neg, NULL, NULL, &loss, d_pos, d_neg));
out:
    if (l) still_usable(negs_loss_scores(l, N, KK, pos, neg, NULL, NULL, &loss, d_pos, d_neg),
                        "negs_loss_scores (tau+)");
    negs_loss_free(l);
}

static const struct {
    const char *name;
    void (*run)(void);
} scenarios[] = {
    {"csr", sc_csr},         {"uniform", sc_uniform}, {"popularity", sc_popularity},
    {"category", sc_category}, {"exposure", sc_exposure}, {"mixture", sc_mixture},
    {"hard", sc_hard},       {"gap", sc_gap},         {"sketch", sc_sketch},
    {"bce", sc_bce},         {"softmax", sc_softmax}, {"listnet", sc_listnet},
    {"walk", sc_walk},       {"srns", sc_srns},       {"xbm", sc_xbm},
    {"ib-fp32", sc_inbatch_fp32}, {"ib-bf16", sc_inbatch_bf16}, {"ib-bf16-cos", sc_inbatch_bf16_cos},
    {"tau+", sc_debias_scores},
};

int main(void)
{
    setup_data();
    long total = 0;
    for (size_t s = 0; s < sizeof scenarios / sizeof scenarios[0]; s++) {
        negs_fault_arm(0);
        g_faulted = 0;
        scenarios[s].run();
        long n = negs_fault_allocations();
        if (g_faulted) FAIL("%s: a NOMEM without any injected fault", scenarios[s].name);
        for (long nth = 1; nth <= n; nth++) {
            negs_fault_arm(nth);
            g_faulted = 0;
            scenarios[s].run();
            if (!g_faulted) FAIL("%s: allocation %ld of %ld failed silently", scenarios[s].name, nth, n);
        }
        negs_fault_arm(0);
        printf("faults: %-10s %3ld allocations, each failed once\n", scenarios[s].name, n);
        total += n;
    }
    printf("faults: %ld injected failures, %d problems\n", total, failures);
    return failures ? 1 : 0;
}
