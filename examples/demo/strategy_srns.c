/* The "srns" strategy's library calls (kept apart from strategy.c): a per-user memory of
 * def->candidates items refreshed by as many uniform draws per row and step, the host scoring
 * every candidate with the model (user row . item row), and the pick by score + alpha * std
 * of the recent scores (Ding et al., NeurIPS 2020; docs/hard.md "SRNS"). */
#include <stdio.h>
#include <stdlib.h>

#include "demo.h"

/* The paper's defaults: 5 recorded scores, alpha 1 reached after a warm-up (here 2 epochs).
 * A hot refresh (T = 100: nearly uniform turnover) beat T = 1 and T = 10 on ML-100K
 * validation (seed 1): at T = 1 the memory hoards the hardest items, false negatives
 * included, and does worse than uniform negatives. */
#define SRNS_HISTORY 5
#define SRNS_ALPHA 1.0
#define SRNS_WARMUP_EPOCHS 2.0
#define SRNS_TEMPERATURE 100.0

struct srns_step {
    negs_sampler *s;
    uint32_t width;      /* S + R candidates per row */
    uint32_t *cand;      /* batch x width */
    float *scores, *pos; /* batch x width, batch */
};

srns_step *srns_step_create(const strategy_def *def, const dataset *d, uint64_t seed, int threads,
                            long steps_per_epoch)
{
    srns_step *t = calloc(1, sizeof *t);
    negs_sampler *child = negs_sampler_create(NEGS_SAMPLER_UNIFORM, d->n_items, seed + 1);
    if (!t || !child) goto fail;
    t->s = negs_sampler_create(NEGS_SAMPLER_SRNS, d->n_items, seed);
    if (!t->s || negs_sampler_set_positives(child, d->train_csr) ||
        negs_sampler_add(t->s, child, 1.0))
        goto fail;
    child = NULL; /* the SRNS sampler owns it */
    if (negs_sampler_set_param(t->s, NEGS_SP_SRNS_MEMORY, def->candidates) ||
        negs_sampler_set_param(t->s, NEGS_SP_SRNS_REFRESH, def->candidates) ||
        negs_sampler_set_param(t->s, NEGS_SP_SRNS_HISTORY, SRNS_HISTORY) ||
        negs_sampler_set_param(t->s, NEGS_SP_SRNS_ALPHA, SRNS_ALPHA) ||
        negs_sampler_set_param(t->s, NEGS_SP_SRNS_WARMUP,
                               SRNS_WARMUP_EPOCHS * (double)steps_per_epoch) ||
        negs_sampler_set_param(t->s, NEGS_SP_SRNS_TEMPERATURE, SRNS_TEMPERATURE) ||
        negs_sampler_set_param(t->s, NEGS_SP_THREADS, threads) ||
        negs_srns_prepare(t->s, d->n_users))
        goto fail;
    t->width = 2 * (uint32_t)def->candidates;
    t->cand = malloc((size_t)def->batch * t->width * sizeof *t->cand);
    t->scores = malloc((size_t)def->batch * t->width * sizeof *t->scores);
    t->pos = malloc((size_t)def->batch * sizeof *t->pos);
    if (!t->cand || !t->scores || !t->pos) goto fail;
    return t;
fail:
    negs_sampler_free(child);
    srns_step_free(t);
    return NULL;
}

static float dot(const float *a, const float *b)
{
    float acc = 0.0f;
    for (int i = 0; i < DIM; i++) acc += a[i] * b[i];
    return acc;
}

int srns_step_negatives(srns_step *t, const model *mo, uint64_t step, size_t n,
                        const uint32_t *users, const uint32_t *items, uint32_t *neg, char *err,
                        size_t err_len)
{
    const char *what = "negs_srns_candidates";
    if (negs_srns_candidates(t->s, step, n, users, items, t->cand) < 0) goto fail;
    for (size_t r = 0; r < n; r++) {
        const float *u = mo->user.w + (size_t)users[r] * DIM;
        t->pos[r] = dot(u, mo->item.w + (size_t)items[r] * DIM);
        for (uint32_t j = 0; j < t->width; j++) {
            size_t at = r * t->width + j;
            t->scores[at] = dot(u, mo->item.w + (size_t)t->cand[at] * DIM);
        }
    }
    what = "negs_srns_select";
    if (negs_srns_select(t->s, step, n, users, items, t->cand, t->scores, t->pos, 1, neg, NULL))
        goto fail;
    return 0;
fail:
    snprintf(err, err_len, "%s: %s", what, negs_last_error());
    return -1;
}

void srns_step_free(srns_step *t)
{
    if (!t) return;
    negs_sampler_free(t->s);
    free(t->cand);
    free(t->scores);
    free(t->pos);
    free(t);
}
