/* The negative-sampling strategies the demo compares, each one a few library calls per step.
 * Hyper-parameters come from the validation sweep in examples/demo/sweep.py (docs/results.md
 * has the table); they are never chosen on the test split. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

const strategy_def STRATEGIES[] = {
    /* name, kind, what, batch, lr, l2, temperature, candidates c, extra m */
    {"uniform", S_UNIFORM, "uniform negatives + BPR (RecBole's baseline)", 2048, 2e-3, 0.01, 1, 0, 0},
    {"popularity", S_POPULARITY, "popularity^0.75 negatives + BPR", 2048, 1e-3, 0.01, 1, 0, 0},
    {"dns", S_DNS, "DNS: the best-scored of c uniform candidates (HARD TOP) + BPR", 2048, 2e-3,
     0.01, 1, 8, 0},
    {"curriculum", S_CURRICULUM,
     "uniform negatives, then a DNS share rising to all by epoch 5 (MIXTURE) + BPR", 2048, 2e-3,
     0.01, 1, 4, 0},
    {"inbatch", S_INBATCH, "in-batch softmax, no logQ", 512, 5e-4, 0, 0.5, 0, 0},
    {"inbatch-logq", S_INBATCH_LOGQ, "in-batch softmax, logQ from negs_freq", 512, 2e-3, 0, 0.5,
     0, 0},
    {"mixed", S_MIXED,
     "in-batch + m shared uniform negatives, log q per column, known positives masked", 512,
     1e-3, 0, 1.0, 0, 64},
    {"random-walk", S_WALK,
     "random-walk negatives: 3 hops user-item-user-item on the training graph (WALK) + BPR", 2048,
     2e-3, 0.01, 1, 0, 0},
    {"sampled-softmax", S_SAMPLED_SOFTMAX,
     "m uniform negatives per positive, logQ-corrected sampled softmax", 1024, 1e-3, 0, 2.0, 0,
     64},
    {"srns", S_SRNS,
     "SRNS: a per-user memory of c items, score + std of recent scores (false negatives passed "
     "over) + BPR", 2048, 2e-3, 0.01, 1, 8, 0},
    {"cross-batch", S_CROSS_BATCH,
     "in-batch-logq + the last batches' item embeddings as extra columns (negs_xbm)", 512, 2e-3,
     0, 1.0, 0, 2048},
    {"debiased", S_DEBIASED,
     "inbatch-logq with the debiased contrastive loss (NEGS_LP_TAU_PLUS, tau+ 0.01)", 512, 2e-3,
     0, 0.5, 0, 0},
};
const size_t N_STRATEGIES = sizeof STRATEGIES / sizeof STRATEGIES[0];

int strategy_is_default(const strategy_def *def)
{
    return def->kind != S_SAMPLED_SOFTMAX && def->kind != S_CROSS_BATCH;
}

const strategy_def *strategy_find(const char *name)
{
    for (size_t k = 0; k < N_STRATEGIES; k++)
        if (strcmp(STRATEGIES[k].name, name) == 0) return &STRATEGIES[k];
    return NULL;
}

int strategy_negatives(const strategy_def *def)
{
    switch (def->kind) {
    case S_UNIFORM: case S_POPULARITY: case S_DNS: case S_CURRICULUM: case S_WALK:
        return def->extra > 0 ? def->extra : 1;
    case S_SAMPLED_SOFTMAX: case S_MIXED: return def->extra;
    case S_SRNS: return 1; /* one pick per positive from its memory; --k does not apply */
    default: return 0;
    }
}

struct strategy {
    const strategy_def *def;
    negs_sampler *sampler; /* BPR strategies' negatives; mixed: the shared ones */
    negs_loss *loss;
    negs_freq *freq; /* logQ: the streaming item frequencies */
    uint32_t *users, *items; /* the batch, then (mixed) the shared negatives after the positives */
    uint32_t *neg;
    float *logp, *logq_shared, *logq;
    float *u; /* the batch's user rows: the queries of hard-negative scoring */
    long long drawn; /* sampled negatives so far */
    srns_step *srns; /* srns: the sampler and its buffers (strategy_srns.c) */
    xbm_state *xbm; /* cross-batch */
};

static int lib_fail(char *err, size_t err_len, const char *what)
{
    snprintf(err, err_len, "%s: %s", what, negs_last_error());
    return -1;
}

int strategy_set_precision(strategy *s, int precision, char *err, size_t err_len)
{
    if (s->def->kind <= S_CURRICULUM || precision == NEGS_PRECISION_FP32) return 0;
    if (negs_loss_set_param(s->loss, NEGS_LP_PRECISION, precision))
        return lib_fail(err, err_len, "precision");
    return 0;
}

/* A uniform or popularity sampler that never draws the user's training items. */
static negs_sampler *base_sampler(int popularity, const dataset *d, uint64_t seed, int threads)
{
    negs_sampler *s = negs_sampler_create(popularity ? NEGS_SAMPLER_POPULARITY : NEGS_SAMPLER_UNIFORM,
                                          d->n_items, seed);
    if (!s) return NULL;
    if (negs_sampler_set_positives(s, d->train_csr) ||
        negs_sampler_set_param(s, NEGS_SP_THREADS, threads) ||
        (popularity && (negs_sampler_set_weights(s, d->item_count, d->n_items) ||
                        negs_sampler_set_param(s, NEGS_SP_ALPHA, 0.75)))) {
        negs_sampler_free(s);
        return NULL;
    }
    return s;
}

/* DNS: HARD TOP over c uniform candidates, scored by the model inside the library. */
static negs_sampler *dns_sampler(const strategy_def *def, const dataset *d, uint64_t seed,
                                 int threads)
{
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, d->n_items, seed);
    negs_sampler *child = base_sampler(0, d, seed + 1, threads);
    if (!h || !child || negs_sampler_set_param(h, NEGS_SP_HARD_MODE, NEGS_HARD_TOP) ||
        negs_sampler_set_param(h, NEGS_SP_CANDIDATES, def->candidates) ||
        negs_sampler_set_param(h, NEGS_SP_THREADS, threads) || negs_sampler_add(h, child, 1.0)) {
        negs_sampler_free(child);
        negs_sampler_free(h);
        return NULL;
    }
    return h;
}

/* The curriculum: a MIXTURE of uniform (easy) and DNS (hard) negatives whose hard share rises
 * from 0 at the start (a random model's "hard" negatives are noise) to all of them by epoch 5.
 * Points in epochs; the validation sweep chose them (docs/results.md). */
static const double CURRICULUM_EPOCH[] = {0, 5};
static const double CURRICULUM_HARD[] = {0, 1};
#define CURRICULUM_POINTS (sizeof CURRICULUM_EPOCH / sizeof CURRICULUM_EPOCH[0])
#define SCHEDULE_MAX 16

/* the schedule in use: the default above, or --schedule's */
static double sched_epoch[SCHEDULE_MAX], sched_hard[SCHEDULE_MAX];
static size_t sched_points;

int curriculum_set_schedule(const char *spec, char *err, size_t err_len)
{
    double e[SCHEDULE_MAX], h[SCHEDULE_MAX];
    size_t n = 0;
    const char *p = spec;
    for (;;) {
        char *end;
        double epoch = strtod(p, &end);
        if (end == p || *end != ':') break;
        p = end + 1;
        double hard = strtod(p, &end);
        if (end == p || (*end && *end != ',')) break;
        if (n == SCHEDULE_MAX) {
            snprintf(err, err_len, "schedule '%s' has more than %d points", spec, SCHEDULE_MAX);
            return -1;
        }
        if (!(epoch >= 0 && epoch <= 1e6) || (n && !(epoch > e[n - 1])) ||
            !(hard >= 0 && hard <= 1)) {
            snprintf(err, err_len,
                     "schedule '%s': epochs must increase from >= 0, shares lie in [0, 1]", spec);
            return -1;
        }
        e[n] = epoch;
        h[n++] = hard;
        if (!*end) {
            memcpy(sched_epoch, e, n * sizeof *e);
            memcpy(sched_hard, h, n * sizeof *h);
            sched_points = n;
            return 0;
        }
        p = end + 1;
    }
    snprintf(err, err_len, "schedule '%s': expected EPOCH:SHARE[,EPOCH:SHARE...]", spec);
    return -1;
}

static void schedule_default(void)
{
    if (sched_points) return;
    memcpy(sched_epoch, CURRICULUM_EPOCH, sizeof CURRICULUM_EPOCH);
    memcpy(sched_hard, CURRICULUM_HARD, sizeof CURRICULUM_HARD);
    sched_points = CURRICULUM_POINTS;
}

void curriculum_schedule_text(char *buf, size_t cap)
{
    schedule_default();
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < sched_points && len < cap; k++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%g:%g", k ? "," : "", sched_epoch[k],
                                sched_hard[k]);
}

static negs_sampler *curriculum_sampler(const strategy_def *def, const dataset *d, uint64_t seed,
                                        int threads, long steps_per_epoch)
{
    schedule_default();
    size_t n = sched_points;
    double steps[SCHEDULE_MAX], easy_share[SCHEDULE_MAX];
    for (size_t k = 0; k < n; k++) {
        steps[k] = sched_epoch[k] * (double)steps_per_epoch;
        easy_share[k] = 1.0 - sched_hard[k];
    }
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, d->n_items, seed);
    negs_sampler *easy = base_sampler(0, d, seed + 2, threads);
    negs_sampler *hard = dns_sampler(def, d, seed + 3, threads);
    if (!mix || !easy || !hard || negs_sampler_set_param(mix, NEGS_SP_THREADS, threads)) goto fail;
    if (negs_sampler_add(mix, easy, 1.0)) goto fail;
    easy = NULL; /* the mixture owns it now */
    if (negs_sampler_add(mix, hard, 0.0)) goto fail;
    hard = NULL;
    if (negs_sampler_set_schedule(mix, 0, n, steps, easy_share) ||
        negs_sampler_set_schedule(mix, 1, n, steps, sched_hard))
        goto fail;
    return mix;
fail:
    negs_sampler_free(easy);
    negs_sampler_free(hard);
    negs_sampler_free(mix);
    return NULL;
}

strategy *strategy_create(const strategy_def *def, const dataset *d, uint64_t seed, int threads,
                          long steps_per_epoch, char *err, size_t err_len)
{
    strategy *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->def = def;
    size_t cap = (size_t)def->batch + (size_t)def->extra;
    /* per-positive negatives: batch x k of them (and their log q) */
    int kn = strategy_negatives(def);
    size_t per_row = def->kind == S_MIXED || kn < 1 ? 1 : (size_t)kn;
    size_t n_neg = (size_t)def->batch * per_row > cap ? (size_t)def->batch * per_row : cap;
    s->users = malloc(cap * sizeof *s->users);
    s->items = malloc(cap * sizeof *s->items);
    s->neg = malloc(n_neg * sizeof *s->neg);
    s->logp = malloc(cap * sizeof(float));
    s->logq_shared = malloc(cap * sizeof(float));
    s->logq = malloc(n_neg * sizeof(float));
    s->u = malloc(cap * DIM * sizeof(float));
    if (!s->users || !s->items || !s->neg || !s->logp || !s->logq_shared ||
        !s->logq || !s->u) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    int bpr = def->kind <= S_CURRICULUM || def->kind == S_WALK || def->kind == S_SRNS;
    switch (def->kind) {
    case S_UNIFORM: s->sampler = base_sampler(0, d, seed, threads); break;
    case S_POPULARITY: s->sampler = base_sampler(1, d, seed, threads); break;
    case S_DNS: s->sampler = dns_sampler(def, d, seed, threads); break;
    case S_CURRICULUM: s->sampler = curriculum_sampler(def, d, seed, threads, steps_per_epoch); break;
    case S_WALK: s->sampler = walk_sampler(d, seed, threads); break;
    case S_MIXED:
        s->sampler = negs_sampler_create(NEGS_SAMPLER_UNIFORM, d->n_items, seed);
        break;
    case S_SAMPLED_SOFTMAX: s->sampler = base_sampler(0, d, seed, threads); break;
    default: break;
    }
    if (def->kind == S_SRNS &&
        !(s->srns = srns_step_create(def, d, seed, threads, steps_per_epoch))) {
        lib_fail(err, err_len, "srns sampler");
        goto fail;
    }
    if ((bpr || def->kind == S_MIXED || def->kind == S_SAMPLED_SOFTMAX) && !s->sampler &&
        !s->srns) {
        lib_fail(err, err_len, "sampler");
        goto fail;
    }
    s->loss = negs_loss_create(bpr ? NEGS_LOSS_BPR : NEGS_LOSS_SOFTMAX);
    if (!s->loss || negs_loss_set_param(s->loss, NEGS_LP_THREADS, threads) ||
        (!bpr && negs_loss_set_param(s->loss, NEGS_LP_TEMPERATURE, def->temperature)) ||
        ((def->kind == S_MIXED || def->kind == S_CROSS_BATCH) &&
         negs_loss_set_positives(s->loss, d->train_csr)) ||
        (def->kind == S_DEBIASED && debiased_setup(s->loss))) {
        lib_fail(err, err_len, "loss");
        goto fail;
    }
    if (def->kind == S_CROSS_BATCH && !(s->xbm = xbm_state_create(def, err, err_len))) goto fail;
    if (def->kind == S_INBATCH_LOGQ || def->kind == S_MIXED || def->kind == S_CROSS_BATCH ||
        def->kind == S_DEBIASED) {
        /* buckets well above the catalogue, so that hash collisions are rare */
        size_t buckets = 4 * (size_t)d->n_items < 1024 ? 1024 : 4 * (size_t)d->n_items;
        s->freq = negs_freq_create(NEGS_FREQ_GAP, buckets, 2, seed);
        if (!s->freq) {
            lib_fail(err, err_len, "negs_freq_create");
            goto fail;
        }
    }
    return s;
fail:
    strategy_free(s);
    return NULL;
}

/* k negatives per positive from the sampler (hard ones scored by the model: the user's row is
 * the query; DNS keeps the k best of its c candidates); BPR on the scores, which the library
 * computes from the tables by index and whose gradients it adds into the gradient tables. A
 * row's loss is the mean of its k pairs' terms, and the negatives' L2 is divided by k too, so
 * that k changes how many negatives a positive sees, not the step size. Sampled-softmax
 * (logq: the draws' log q) is the same call with the SOFTMAX loss over the k = m negatives. */
static int step_sampled(strategy *s, model *mo, uint64_t step, size_t n, float *loss, char *err,
                        size_t err_len)
{
    uint32_t k = (uint32_t)strategy_negatives(s->def);
    float *logq = s->def->kind == S_SAMPLED_SOFTMAX ? s->logq : NULL;
    if (s->def->kind == S_DNS || s->def->kind == S_CURRICULUM) {
        for (size_t r = 0; r < n; r++)
            memcpy(s->u + r * DIM, mo->user.w + (size_t)s->users[r] * DIM, DIM * sizeof(float));
        if (negs_sampler_sample_scored(s->sampler, step, n, s->users, s->items, s->u, mo->item.w,
                                       DIM, k, s->neg, NULL) < 0)
            return lib_fail(err, err_len, "negs_sampler_sample_scored");
    } else if (s->def->kind == S_SRNS) {
        if (srns_step_negatives(s->srns, mo, step, n, s->users, s->items, s->neg, err, err_len))
            return -1;
    } else if (negs_sampler_sample(s->sampler, step, n, s->users, s->items, k, s->neg, logq) < 0) {
        return lib_fail(err, err_len, "negs_sampler_sample");
    }
    if (negs_loss_scores_indexed(s->loss, n, k, DIM, mo->user.w, (uint32_t)mo->user.rows,
                                 mo->item.w, (uint32_t)mo->item.rows, s->users, s->items, s->neg,
                                 logq, NULL, loss, mo->user.g, mo->item.g))
        return lib_fail(err, err_len, "negs_loss_scores_indexed");
    s->drawn += (long long)(n * k);
    float l2 = (float)s->def->l2 / (float)n;
    table_l2(&mo->user, s->users, n, l2);
    table_l2(&mo->item, s->items, n, l2);
    table_l2(&mo->item, s->neg, n * k, l2 / (float)k);
    return 0;
}

/* The log q of each of the n (+ m) columns: the estimator's per-example log p, read after
 * counting this batch (Yi et al.); for mixed negatives combined with the shared draws' log q. */
static int column_logq(strategy *s, uint64_t step, size_t n, size_t m, char *err, size_t err_len)
{
    float *logp = m ? s->logp : s->logq;
    if (negs_freq_update_logq_u32(s->freq, step, s->items, n, logp) ||
        (m && negs_freq_logq_u32(s->freq, s->items + n, m, logp + n)))
        return lib_fail(err, err_len, "negs_freq");
    if (m && negs_mixed_logq(n, m, s->logp, s->logq_shared, s->logq))
        return lib_fail(err, err_len, "negs_mixed_logq");
    return 0;
}

/* In-batch softmax on the tables by index: every other row's positive is a negative
 * (accidental hits masked by the loss), optionally logQ-corrected; mixed adds m shared uniform
 * negatives, never one of the batch's positives, and masks the users' known positives (the
 * loss handle has them). The gradients are added into the gradient tables. */
static int step_inbatch(strategy *s, model *mo, uint64_t step, size_t n, float *loss, char *err,
                        size_t err_len)
{
    enum strategy_kind kind = s->def->kind;
    size_t m = kind == S_MIXED ? (size_t)s->def->extra : 0;
    if (m && negs_sampler_sample_shared(s->sampler, step, n, s->items, (uint32_t)m, s->items + n,
                                        s->logq_shared + n, s->logq_shared) < 0)
        return lib_fail(err, err_len, "negs_sampler_sample_shared");
    if (kind != S_INBATCH && column_logq(s, step, n, m, err, err_len)) return -1;
    if (negs_loss_inbatch_indexed(s->loss, n, m, DIM, mo->user.w, (uint32_t)mo->user.rows,
                                  mo->item.w, (uint32_t)mo->item.rows, s->users, s->items,
                                  kind == S_INBATCH ? NULL : s->logq, loss, mo->user.g,
                                  mo->item.g))
        return lib_fail(err, err_len, "negs_loss_inbatch_indexed");
    s->drawn += (long long)m;
    float l2 = (float)s->def->l2 / (float)n;
    table_l2(&mo->user, s->users, n, l2);
    table_l2(&mo->item, s->items, n + m, l2);
    return 0;
}

int strategy_step(strategy *s, model *mo, uint64_t step, const pair *batch, size_t n,
                  float *loss, char *err, size_t err_len)
{
    for (size_t r = 0; r < n; r++) {
        s->users[r] = batch[r].user;
        s->items[r] = batch[r].item;
    }
    if (s->def->kind <= S_CURRICULUM || s->def->kind == S_WALK ||
        s->def->kind == S_SAMPLED_SOFTMAX || s->def->kind == S_SRNS)
        return step_sampled(s, mo, step, n, loss, err, err_len);
    if (s->def->kind == S_CROSS_BATCH)
        return xbm_step(s->xbm, s->loss, s->freq, mo, step, s->users, s->items, n, loss, err,
                        err_len);
    return step_inbatch(s, mo, step, n, loss, err, err_len);
}

long long strategy_drawn(const strategy *s)
{
    return s->drawn;
}

void strategy_free(strategy *s)
{
    if (!s) return;
    negs_sampler_free(s->sampler);
    srns_step_free(s->srns);
    negs_loss_free(s->loss);
    negs_freq_free(s->freq);
    xbm_state_free(s->xbm);
    free(s->users), free(s->items), free(s->neg), free(s->logp);
    free(s->logq_shared), free(s->logq), free(s->u);
    free(s);
}
