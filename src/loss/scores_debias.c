/* negs_loss_scores for a SOFTMAX handle with NEGS_LP_TAU_PLUS > 0: the debiased contrastive
 * loss (Chuang et al., NeurIPS 2020), row by row in double (debias.c). Logits as for the plain
 * softmax: the positive's is pos / T, a negative's neg / T - logq; masked slots are not
 * negatives (excluded from N). Rows are split into parts by n and k alone and the part sums
 * are added in order, so the bytes do not depend on the thread count. */
#include <float.h>
#include <math.h>

#include "core/errors.h"
#include "core/pool.h"
#include "loss/debias.h"
#include "loss/loss_internal.h"
#include "loss/scores.h"

typedef struct sd_job {
    size_t n, k, rows_per_part;
    const float *pos, *neg, *logq;
    const uint8_t *mask;
    float inv_t, gscale;
    double lfloor, tau;
    float *loss_rows, *d_pos, *d_neg;
    double part_loss[NEGS_SC_MAX_PARTS];
} sd_job;

/* The logit of slot e relative to the positive's, as the plain softmax forms it. */
static float sd_logit(const sd_job *jb, size_t e, float p)
{
    return (jb->neg[e] - p) * jb->inv_t - (jb->logq ? jb->logq[e] : 0.0f);
}

static void sd_part(void *ctx, size_t part, size_t n_parts)
{
    sd_job *jb = ctx;
    (void)n_parts;
    size_t r0 = part * jb->rows_per_part, r1 = r0 + jb->rows_per_part, k = jb->k;
    if (r1 > jb->n) r1 = jb->n;
    double acc = 0.0;
    for (size_t i = r0; i < r1; i++) {
        const float p = jb->pos[i];
        const uint8_t *mk = jb->mask ? jb->mask + i * k : NULL;
        /* relative to the positive: its logit is 0 and the floor -1/T - pos/T */
        double m = -INFINITY, s = 0.0;
        uint64_t live = 0;
        for (size_t j = 0; j < k; j++) {
            if (mk && mk[j]) continue;
            double z = sd_logit(jb, i * k + j, p);
            if (z > m) {
                s = s * exp(m - z); /* exp(-inf) = 0 while s is 0 */
                m = z;
            }
            s += exp(z - m);
            live++;
        }
        if (!live) m = 0.0;
        negs_debias_out o;
        negs_debias_row(0.0, m, s, live, jb->lfloor - (double)p * (double)jb->inv_t, jb->tau, &o);
        if (jb->loss_rows) jb->loss_rows[i] = (float)o.loss;
        else acc += o.loss;
        if (jb->d_pos) jb->d_pos[i] = (float)(o.gp * (double)jb->gscale);
        if (jb->d_neg) {
            double w = o.gn * (double)jb->gscale;
            for (size_t j = 0; j < k; j++)
                jb->d_neg[i * k + j] =
                    (mk && mk[j]) ? 0.0f : (float)(w * exp((double)sd_logit(jb, i * k + j, p) - m));
        }
    }
    jb->part_loss[part] = acc;
}

/* Every unmasked input and logit finite, else a sentence naming the first offender. */
static int sd_check(const sd_job *jb, const char *fn, double temperature)
{
    for (size_t i = 0; i < jb->n; i++) {
        const float p = jb->pos[i];
        if (!isfinite(p) || !isfinite(p * jb->inv_t))
            return negs_fail(NEGS_E_INVALID, "%s: pos[%zu] = %g is not finite or its logit "
                             "pos / T overflows float (T = %g)", fn, i, (double)p, temperature);
        for (size_t j = 0; j < jb->k; j++) {
            size_t e = i * jb->k + j;
            if (jb->mask && jb->mask[e]) continue;
            if (!isfinite(jb->neg[e]))
                return negs_fail(NEGS_E_INVALID, "%s: neg[%zu] (row %zu, slot %zu) = %g is not "
                                 "finite", fn, e, i, j, (double)jb->neg[e]);
            if (jb->logq && !isfinite(jb->logq[e]))
                return negs_fail(NEGS_E_INVALID, "%s: neg_logq[%zu] (row %zu, slot %zu) = %g is "
                                 "not finite", fn, e, i, j, (double)jb->logq[e]);
            if (!isfinite(sd_logit(jb, e, p)))
                return negs_fail(NEGS_E_INVALID, "%s: the logit of neg[%zu] (row %zu, slot %zu) "
                                 "overflows float at temperature %g", fn, e, i, j, temperature);
        }
    }
    return NEGS_OK;
}

int negs_scores_debias(negs_loss *l, const char *fn, size_t n, uint32_t k, const float *pos,
                       const float *neg, const float *neg_logq, const uint8_t *neg_mask,
                       float *loss, float *d_pos, float *d_neg)
{
    sd_job jb;
    jb.n = n;
    jb.k = k;
    jb.pos = pos;
    jb.neg = neg;
    jb.logq = neg_logq;
    jb.mask = neg_mask;
    const double inv_t = 1.0 / l->temperature;
    jb.inv_t = (float)inv_t;
    if (!(jb.inv_t > 0.0f) || !isfinite(jb.inv_t) || !isnormal(jb.inv_t))
        return negs_fail(NEGS_E_INVALID, "%s: temperature = %g puts 1/T outside the float "
                         "range", fn, l->temperature);
    jb.gscale = (float)(l->reduction == NEGS_REDUCE_MEAN ? inv_t / (double)n : inv_t);
    jb.lfloor = -(double)jb.inv_t; /* the paper's e^(-1/t): a cosine score is >= -1 */
    jb.tau = l->tau_plus;
    jb.loss_rows = l->reduction == NEGS_REDUCE_NONE ? loss : NULL;
    jb.d_pos = d_pos;
    jb.d_neg = d_neg;
    int st = sd_check(&jb, fn, l->temperature);
    if (st) return st;
    /* parts of whole rows, from n and k only (as negs_scores_exec splits them) */
    size_t rpp = (n + NEGS_SC_MAX_PARTS - 1) / NEGS_SC_MAX_PARTS;
    const size_t min_rows = (65536 + (size_t)k - 1) / k;
    if (rpp < min_rows) rpp = min_rows;
    jb.rows_per_part = rpp;
    const size_t n_parts = (n - 1) / rpp + 1;
    if (n_parts == 1) sd_part(&jb, 0, 1);
    else negs_pool_run(l->pool, sd_part, &jb, n_parts);
    if (l->reduction == NEGS_REDUCE_NONE) {
        for (size_t r = 0; r < n; r++)
            if (!isfinite(loss[r]))
                return negs_fail(NEGS_E_INVALID, "%s: the loss of row %zu overflows float",
                                 fn, r);
        return NEGS_OK;
    }
    double total = 0.0;
    for (size_t p = 0; p < n_parts; p++) total += jb.part_loss[p];
    double red = l->reduction == NEGS_REDUCE_MEAN ? total / (double)n : total;
    if (!(fabs(red) <= FLT_MAX))
        return negs_fail(NEGS_E_INVALID, "%s: the loss %g overflows float", fn, red);
    loss[0] = (float)red;
    return NEGS_OK;
}
