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
     "uniform, then a rising share of DNS, then a lower one (MIXTURE) + BPR", 2048, 2e-3, 0.01, 1,
     32, 0},
    {"inbatch", S_INBATCH, "in-batch softmax, no logQ", 512, 5e-4, 0, 0.5, 0, 0},
    {"inbatch-logq", S_INBATCH_LOGQ, "in-batch softmax, logQ from negs_freq", 512, 2e-3, 0, 0.5,
     0, 0},
    {"mixed", S_MIXED,
     "in-batch + m shared uniform negatives, log q per column, known positives masked", 512,
     2e-3, 0, 0.5, 0, 256},
    {"random-walk", S_WALK,
     "random-walk negatives: 3 hops user-item-user-item on the training graph (WALK) + BPR", 2048,
     2e-3, 0.01, 1, 0, 0},
};
const size_t N_STRATEGIES = sizeof STRATEGIES / sizeof STRATEGIES[0];

const strategy_def *strategy_find(const char *name)
{
    for (size_t k = 0; k < N_STRATEGIES; k++)
        if (strcmp(STRATEGIES[k].name, name) == 0) return &STRATEGIES[k];
    return NULL;
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
};

static int lib_fail(char *err, size_t err_len, const char *what)
{
    snprintf(err, err_len, "%s: %s", what, negs_last_error());
    return -1;
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

/* The curriculum: a MIXTURE of uniform (easy) and DNS (hard) negatives whose hard share is 0 for
 * the first epochs, rises to a peak, then falls back (late hard negatives are more often
 * false negatives). Points in epochs. */
static const double CURRICULUM_EPOCH[] = {0, 2, 12, 40};
static const double CURRICULUM_HARD[] = {0, 0, 0.8, 0.4};
#define CURRICULUM_POINTS (sizeof CURRICULUM_EPOCH / sizeof CURRICULUM_EPOCH[0])

static negs_sampler *curriculum_sampler(const strategy_def *def, const dataset *d, uint64_t seed,
                                        int threads, long steps_per_epoch)
{
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, d->n_items, seed);
    negs_sampler *easy = base_sampler(0, d, seed + 2, threads);
    negs_sampler *hard = dns_sampler(def, d, seed + 3, threads);
    double steps[CURRICULUM_POINTS], easy_share[CURRICULUM_POINTS];
    for (size_t k = 0; k < CURRICULUM_POINTS; k++) {
        steps[k] = CURRICULUM_EPOCH[k] * (double)steps_per_epoch;
        easy_share[k] = 1.0 - CURRICULUM_HARD[k];
    }
    if (!mix || !easy || !hard || negs_sampler_set_param(mix, NEGS_SP_THREADS, threads)) goto fail;
    if (negs_sampler_add(mix, easy, 1.0)) goto fail;
    easy = NULL; /* the mixture owns it now */
    if (negs_sampler_add(mix, hard, 0.0)) goto fail;
    hard = NULL;
    if (negs_sampler_set_schedule(mix, 0, CURRICULUM_POINTS, steps, easy_share) ||
        negs_sampler_set_schedule(mix, 1, CURRICULUM_POINTS, steps, CURRICULUM_HARD))
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
    s->users = malloc(cap * sizeof *s->users);
    s->items = malloc(cap * sizeof *s->items);
    s->neg = malloc(cap * sizeof *s->neg);
    s->logp = malloc(cap * sizeof(float));
    s->logq_shared = malloc(cap * sizeof(float));
    s->logq = malloc(cap * sizeof(float));
    s->u = malloc(cap * DIM * sizeof(float));
    if (!s->users || !s->items || !s->neg || !s->logp || !s->logq_shared ||
        !s->logq || !s->u) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    int bpr = def->kind <= S_CURRICULUM || def->kind == S_WALK;
    switch (def->kind) {
    case S_UNIFORM: s->sampler = base_sampler(0, d, seed, threads); break;
    case S_POPULARITY: s->sampler = base_sampler(1, d, seed, threads); break;
    case S_DNS: s->sampler = dns_sampler(def, d, seed, threads); break;
    case S_CURRICULUM: s->sampler = curriculum_sampler(def, d, seed, threads, steps_per_epoch); break;
    case S_WALK: s->sampler = walk_sampler(d, seed, threads); break;
    case S_MIXED:
        s->sampler = negs_sampler_create(NEGS_SAMPLER_UNIFORM, d->n_items, seed);
        break;
    default: break;
    }
    if ((bpr || def->kind == S_MIXED) && !s->sampler) {
        lib_fail(err, err_len, "sampler");
        goto fail;
    }
    s->loss = negs_loss_create(bpr ? NEGS_LOSS_BPR : NEGS_LOSS_SOFTMAX);
    if (!s->loss || negs_loss_set_param(s->loss, NEGS_LP_THREADS, threads) ||
        (!bpr && negs_loss_set_param(s->loss, NEGS_LP_TEMPERATURE, def->temperature)) ||
        (def->kind == S_MIXED && negs_loss_set_positives(s->loss, d->train_csr))) {
        lib_fail(err, err_len, "loss");
        goto fail;
    }
    if (def->kind == S_INBATCH_LOGQ || def->kind == S_MIXED) {
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

/* One negative per positive from the sampler (hard ones scored by the model: the user's row is
 * the query); BPR on the scores, which the library computes from the tables by index and whose
 * gradients it adds into the gradient tables. */
static int step_bpr(strategy *s, model *mo, uint64_t step, size_t n, float *loss, char *err,
                    size_t err_len)
{
    if (s->def->kind == S_DNS || s->def->kind == S_CURRICULUM) {
        for (size_t r = 0; r < n; r++)
            memcpy(s->u + r * DIM, mo->user.w + (size_t)s->users[r] * DIM, DIM * sizeof(float));
        if (negs_sampler_sample_scored(s->sampler, step, n, s->users, s->items, s->u, mo->item.w,
                                       DIM, 1, s->neg, NULL) < 0)
            return lib_fail(err, err_len, "negs_sampler_sample_scored");
    } else if (negs_sampler_sample(s->sampler, step, n, s->users, s->items, 1, s->neg, NULL) < 0) {
        return lib_fail(err, err_len, "negs_sampler_sample");
    }
    if (negs_loss_scores_indexed(s->loss, n, 1, DIM, mo->user.w, (uint32_t)mo->user.rows,
                                 mo->item.w, (uint32_t)mo->item.rows, s->users, s->items, s->neg,
                                 NULL, NULL, loss, mo->user.g, mo->item.g))
        return lib_fail(err, err_len, "negs_loss_scores_indexed");
    float l2 = (float)s->def->l2 / (float)n;
    table_l2(&mo->user, s->users, n, l2);
    table_l2(&mo->item, s->items, n, l2);
    table_l2(&mo->item, s->neg, n, l2);
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
    if (s->def->kind <= S_CURRICULUM || s->def->kind == S_WALK)
        return step_bpr(s, mo, step, n, loss, err, err_len);
    return step_inbatch(s, mo, step, n, loss, err, err_len);
}

void strategy_free(strategy *s)
{
    if (!s) return;
    negs_sampler_free(s->sampler);
    negs_loss_free(s->loss);
    negs_freq_free(s->freq);
    free(s->users), free(s->items), free(s->neg), free(s->logp);
    free(s->logq_shared), free(s->logq), free(s->u);
    free(s);
}
