/* The negative-sampling strategies the demo compares, each one a few library calls per step.
 * Hyper-parameters come from the validation sweep in examples/demo/sweep.sh (docs/results.md
 * has the table); they are never chosen on the test split. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

enum kind { BPR_SAMPLED, INBATCH };
enum source { SRC_UNIFORM, SRC_POPULARITY };

const strategy_def STRATEGIES[] = {
    /* name        what                                            batch  lr    l2    T    c  m */
    {"uniform", "uniform negatives + BPR (RecBole's baseline)", 2048, 2e-3, 0, 1, 0, 0},
    {"popularity", "popularity^0.75 negatives + BPR", 2048, 2e-3, 0, 1, 0, 0},
    {"inbatch", "in-batch softmax, no logQ", 512, 2e-3, 0, 0.2, 0, 0},
    {"inbatch-logq", "in-batch softmax, logQ from negs_freq", 512, 2e-3, 0, 0.2, 0, 0},
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
    enum kind kind;
    int logq; /* in-batch: subtract negs_freq's log q */
    negs_sampler *sampler;
    negs_loss *loss;
    negs_freq *freq;
    size_t cap;
    uint32_t *users, *items, *neg;
    uint64_t *ids64;
    float *s_pos, *s_neg, *d_pos, *d_neg, *logq_buf;
    float *u, *v, *du, *dv; /* gathered rows and their gradients (in-batch) */
};

static int lib_fail(char *err, size_t err_len, const char *what)
{
    snprintf(err, err_len, "%s: %s", what, negs_last_error());
    return -1;
}

static negs_sampler *make_sampler(enum source src, const dataset *d, uint64_t seed, int threads)
{
    int kind = src == SRC_UNIFORM ? NEGS_SAMPLER_UNIFORM : NEGS_SAMPLER_POPULARITY;
    negs_sampler *s = negs_sampler_create(kind, d->n_items, seed);
    if (!s) return NULL;
    if (negs_sampler_set_positives(s, d->train_csr) ||
        negs_sampler_set_param(s, NEGS_SP_THREADS, threads) ||
        (src == SRC_POPULARITY && (negs_sampler_set_weights(s, d->item_count, d->n_items) ||
                                   negs_sampler_set_param(s, NEGS_SP_ALPHA, 0.75)))) {
        negs_sampler_free(s);
        return NULL;
    }
    return s;
}

strategy *strategy_create(const strategy_def *def, const dataset *d, uint64_t seed, int threads,
                          long total_steps, char *err, size_t err_len)
{
    (void)total_steps;
    strategy *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    s->def = def;
    const char *n = def->name;
    size_t cap = s->cap = (size_t)def->batch + (size_t)def->extra;
    s->users = malloc(cap * sizeof *s->users);
    s->items = malloc(cap * sizeof *s->items);
    s->neg = malloc(cap * sizeof *s->neg);
    s->ids64 = malloc(cap * sizeof *s->ids64);
    s->s_pos = malloc(cap * sizeof(float));
    s->s_neg = malloc(cap * sizeof(float));
    s->d_pos = malloc(cap * sizeof(float));
    s->d_neg = malloc(cap * sizeof(float));
    s->logq_buf = malloc(cap * sizeof(float));
    s->u = malloc(cap * DIM * sizeof(float));
    s->v = malloc(cap * DIM * sizeof(float));
    s->du = malloc(cap * DIM * sizeof(float));
    s->dv = malloc(cap * DIM * sizeof(float));
    if (!s->users || !s->items || !s->neg || !s->ids64 || !s->s_pos || !s->s_neg || !s->d_pos ||
        !s->d_neg || !s->logq_buf || !s->u || !s->v || !s->du || !s->dv) {
        snprintf(err, err_len, "out of memory");
        goto fail;
    }
    if (strcmp(n, "uniform") == 0 || strcmp(n, "popularity") == 0) {
        s->kind = BPR_SAMPLED;
        s->sampler = make_sampler(n[0] == 'u' ? SRC_UNIFORM : SRC_POPULARITY, d, seed, threads);
        if (!s->sampler) {
            lib_fail(err, err_len, "sampler");
            goto fail;
        }
        s->loss = negs_loss_create(NEGS_LOSS_BPR);
    } else {
        s->kind = INBATCH;
        s->logq = strcmp(n, "inbatch-logq") == 0;
        s->loss = negs_loss_create(NEGS_LOSS_SOFTMAX);
        if (s->loss && (negs_loss_set_param(s->loss, NEGS_LP_TEMPERATURE, def->temperature) ||
                        negs_loss_set_positives(s->loss, d->train_csr))) {
            lib_fail(err, err_len, "in-batch loss");
            goto fail;
        }
        if (s->logq) {
            /* buckets well above the catalogue so that hash collisions are rare */
            size_t buckets = 4 * (size_t)d->n_items < 1024 ? 1024 : 4 * (size_t)d->n_items;
            s->freq = negs_freq_create(NEGS_FREQ_GAP, buckets, 2, seed);
            if (!s->freq) {
                lib_fail(err, err_len, "negs_freq_create");
                goto fail;
            }
        }
    }
    if (!s->loss || negs_loss_set_param(s->loss, NEGS_LP_THREADS, threads)) {
        lib_fail(err, err_len, "loss");
        goto fail;
    }
    return s;
fail:
    strategy_free(s);
    return NULL;
}

/* One negative per positive from the sampler, BPR on the scores, the chain rule by hand. */
static int step_bpr(strategy *s, model *mo, uint64_t step, size_t n, float *loss, char *err,
                    size_t err_len)
{
    if (negs_sampler_sample(s->sampler, step, n, s->users, s->items, 1, s->neg, NULL) < 0)
        return lib_fail(err, err_len, "negs_sampler_sample");
    const float *U = mo->user.w, *V = mo->item.w;
    for (size_t r = 0; r < n; r++) {
        const float *u = U + (size_t)s->users[r] * DIM;
        s->s_pos[r] = dot64(u, V + (size_t)s->items[r] * DIM);
        s->s_neg[r] = dot64(u, V + (size_t)s->neg[r] * DIM);
    }
    if (negs_loss_scores(s->loss, n, 1, s->s_pos, s->s_neg, NULL, NULL, loss, s->d_pos, s->d_neg))
        return lib_fail(err, err_len, "negs_loss_scores");
    float *gU = mo->user.g, *gV = mo->item.g;
    for (size_t r = 0; r < n; r++) {
        const float *u = U + (size_t)s->users[r] * DIM, *vp = V + (size_t)s->items[r] * DIM,
                    *vn = V + (size_t)s->neg[r] * DIM;
        float *gu = gU + (size_t)s->users[r] * DIM, *gp = gV + (size_t)s->items[r] * DIM,
              *gn = gV + (size_t)s->neg[r] * DIM;
        for (int k = 0; k < DIM; k++) {
            gu[k] += s->d_pos[r] * vp[k] + s->d_neg[r] * vn[k];
            gp[k] += s->d_pos[r] * u[k];
            gn[k] += s->d_neg[r] * u[k];
        }
    }
    float l2 = (float)s->def->l2 / (float)n;
    table_l2(&mo->user, s->users, n, l2);
    table_l2(&mo->item, s->items, n, l2);
    table_l2(&mo->item, s->neg, n, l2);
    return 0;
}

/* In-batch softmax: every other row's positive is a negative (accidental hits and the user's
 * known positives masked by the loss); optionally logQ-corrected with the streaming estimate. */
static int step_inbatch(strategy *s, model *mo, uint64_t step, size_t n, float *loss, char *err,
                        size_t err_len)
{
    const float *logq = NULL;
    if (s->logq) {
        for (size_t r = 0; r < n; r++) s->ids64[r] = s->items[r];
        if (negs_freq_update(s->freq, step, s->ids64, n) ||
            negs_freq_logq(s->freq, s->ids64, n, s->logq_buf))
            return lib_fail(err, err_len, "negs_freq");
        logq = s->logq_buf;
    }
    for (size_t r = 0; r < n; r++) {
        memcpy(s->u + r * DIM, mo->user.w + (size_t)s->users[r] * DIM, DIM * sizeof(float));
        memcpy(s->v + r * DIM, mo->item.w + (size_t)s->items[r] * DIM, DIM * sizeof(float));
    }
    if (negs_loss_inbatch(s->loss, n, 0, DIM, s->u, s->v, logq, s->items, NULL, loss, s->du,
                          s->dv))
        return lib_fail(err, err_len, "negs_loss_inbatch");
    for (size_t r = 0; r < n; r++) {
        float *gu = mo->user.g + (size_t)s->users[r] * DIM, *gv = mo->item.g + (size_t)s->items[r] * DIM;
        for (int k = 0; k < DIM; k++) {
            gu[k] += s->du[r * DIM + k];
            gv[k] += s->dv[r * DIM + k];
        }
    }
    float l2 = (float)s->def->l2 / (float)n;
    table_l2(&mo->user, s->users, n, l2);
    table_l2(&mo->item, s->items, n, l2);
    return 0;
}

int strategy_step(strategy *s, model *mo, uint64_t step, const pair *batch, size_t n,
                  float *loss, char *err, size_t err_len)
{
    for (size_t r = 0; r < n; r++) {
        s->users[r] = batch[r].user;
        s->items[r] = batch[r].item;
    }
    if (s->kind == BPR_SAMPLED) return step_bpr(s, mo, step, n, loss, err, err_len);
    return step_inbatch(s, mo, step, n, loss, err, err_len);
}

void strategy_free(strategy *s)
{
    if (!s) return;
    negs_sampler_free(s->sampler);
    negs_loss_free(s->loss);
    negs_freq_free(s->freq);
    free(s->users), free(s->items), free(s->neg), free(s->ids64), free(s->s_pos);
    free(s->s_neg), free(s->d_pos), free(s->d_neg), free(s->logq_buf);
    free(s->u), free(s->v), free(s->du), free(s->dv);
    free(s);
}
