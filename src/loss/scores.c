/* negs_loss_scores: argument checks, the split into parts, threads and the final reduction.
 * The arithmetic is in scores_body.h; docs/losses.md states the definitions. */
#include <float.h>
#include <math.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/errors.h"
#include "core/pool.h"
#include "loss/loss_internal.h"
#include "loss/scores.h"

static void sc_run_part(void *ctx, size_t part, size_t n_parts)
{
    struct negs_scores_job *jb = ctx;
    (void)n_parts;
    jb->kernel(jb, part);
}

/* Finds the first offending value at or after row `row` (the start of the tile that failed)
 * and records a sentence naming it. */
static int sc_report_bad(const struct negs_scores_job *jb, size_t row, double temperature,
                         const char *fn)
{
    const size_t k = jb->k;
    for (size_t i = row; i < jb->n; i++) {
        const float p = jb->pos[i];
        if (!isfinite(p))
            return negs_fail(NEGS_E_INVALID, "%s: pos[%zu] = %g is not finite", fn, i,
                             (double)p);
        if (!isfinite(p * jb->inv_t))
            return negs_fail(NEGS_E_INVALID,
                             "%s: the logit pos[%zu] / T = %g / %g overflows float", fn, i,
                             (double)p, temperature);
        for (size_t j = 0; j < k; j++) {
            const size_t e = i * k + j;
            if (jb->mask && jb->mask[e]) continue;
            const float v = jb->neg[e], q = jb->logq ? jb->logq[e] : 0.0f;
            if (!isfinite(v))
                return negs_fail(NEGS_E_INVALID,
                                 "%s: neg[%zu] (row %zu, slot %zu) = %g is not finite", fn,
                                 e, i, j, (double)v);
            if (!isfinite(q))
                return negs_fail(NEGS_E_INVALID,
                                 "%s: neg_logq[%zu] (row %zu, slot %zu) = %g is not finite",
                                 fn, e, i, j, (double)q);
            const float z = jb->kind == NEGS_LOSS_BCE ? v * jb->inv_t - q
                                                      : (v - p) * jb->inv_t - q;
            if (!isfinite(z))
                return negs_fail(NEGS_E_INVALID,
                                 "%s: the logit of neg[%zu] (row %zu, slot %zu) overflows "
                                 "float at temperature %g",
                                 fn, e, i, j, temperature);
        }
    }
    return negs_fail(NEGS_E_INVALID, "%s: non-finite input at or after row %zu", fn, row);
}

NEGS_API int negs_loss_scores(negs_loss *l, size_t n, uint32_t k, const float *pos,
                              const float *neg, const float *neg_logq, const uint8_t *neg_mask,
                              float *loss, float *d_pos, float *d_neg)
{
    static const char fn[] = "negs_loss_scores";
    int st = negs_check_ptr(l, fn, "l");
    if (!st) st = negs_check_ptr(pos, fn, "pos");
    if (!st) st = negs_check_ptr(neg, fn, "neg");
    if (!st) st = negs_check_ptr(loss, fn, "loss");
    if (st) return st;
    if (n == 0) return negs_fail(NEGS_E_INVALID, "negs_loss_scores: n = 0 rows");
    if (k == 0)
        return negs_fail(NEGS_E_INVALID, "negs_loss_scores: k = 0 negatives per row");
    size_t nk;
    st = negs_size_mul(n, k, &nk, "negs_loss_scores: n * k");
    if (st) return st;
    return negs_scores_exec(l, fn, n, k, pos, neg, neg_logq, neg_mask, loss, d_pos, d_neg);
}

int negs_scores_exec(negs_loss *l, const char *fn, size_t n, uint32_t k, const float *pos,
                     const float *neg, const float *neg_logq, const uint8_t *neg_mask,
                     float *loss, float *d_pos, float *d_neg)
{
    if (l->kind < NEGS_LOSS_BCE || l->kind > NEGS_LOSS_LISTNET)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: loss kind %d has no score form", fn,
                         l->kind);
    if (l->kind == NEGS_LOSS_SOFTMAX && l->tau_plus > 0.0)
        return negs_scores_debias(l, fn, n, k, pos, neg, neg_logq, neg_mask, loss, d_pos, d_neg);

    /* The job is large (per-part results), and lives here: executing never allocates. */
    struct negs_scores_job jb;
    jb.kind = l->kind;
    jb.n = n;
    jb.k = k;
    jb.pos = pos;
    jb.neg = neg;
    jb.logq = neg_logq;
    jb.mask = neg_mask;
    jb.loss_rows = l->reduction == NEGS_REDUCE_NONE ? loss : NULL;
    jb.d_pos = d_pos;
    jb.d_neg = d_neg;

    const double inv_t = 1.0 / l->temperature;
    jb.inv_t = (float)inv_t;
    if (!(jb.inv_t > 0.0f) || !isfinite(jb.inv_t) || !isnormal(jb.inv_t))
        return negs_fail(NEGS_E_INVALID,
                         "%s: temperature = %g puts 1/T outside the float range", fn,
                         l->temperature);
    jb.gscale = (float)(l->reduction == NEGS_REDUCE_MEAN ? inv_t / (double)n : inv_t);
    if (l->kind == NEGS_LOSS_HINGE && !(fabs(l->margin) <= FLT_MAX))
        return negs_fail(NEGS_E_INVALID, "%s: margin = %g does not fit a float", fn,
                         l->margin);
    jb.margin = (float)l->margin;

    /* Parts of whole rows, at least ~64K slots each and at most NEGS_SC_MAX_PARTS of them;
     * the split depends on n and k only, so every thread count gives the same bytes. */
    size_t rpp = (n + NEGS_SC_MAX_PARTS - 1) / NEGS_SC_MAX_PARTS;
    const size_t min_rows = (65536 + (size_t)k - 1) / k;
    if (rpp < min_rows) rpp = min_rows;
    jb.rows_per_part = rpp;
    const size_t n_parts = (n - 1) / rpp + 1;

    const unsigned isa = negs_loss_isa(l);
    jb.kernel = (isa & NEGS_CPU_AVX512) ? negs_scores_part_avx512
                : (isa & NEGS_CPU_AVX2) ? negs_scores_part_avx2 : negs_scores_part_scalar;
    if (n_parts == 1) sc_run_part(&jb, 0, 1);
    else negs_pool_run(l->pool, sc_run_part, &jb, n_parts);

    double total = 0.0;
    for (size_t p = 0; p < n_parts; p++) {
        if (jb.part_bad[p] != NEGS_SC_NO_BAD)
            return sc_report_bad(&jb, jb.part_bad[p], l->temperature, fn);
        total += jb.part_loss[p];
    }
    /* Every logit fits a float, but a row's or the batch's sum may not (BCE: two negatives
     * of 3e38): refuse rather than return an infinite loss. */
    if (l->reduction == NEGS_REDUCE_NONE) {
        for (size_t r = 0; r < n; r++)
            if (!isfinite(loss[r]))
                return negs_fail(NEGS_E_INVALID, "%s: the loss of row %zu overflows float (its "
                                 "logits are finite but sum past 3.4e38); scale the scores down",
                                 fn, r);
        return NEGS_OK;
    }
    double red = l->reduction == NEGS_REDUCE_MEAN ? total / (double)n : total;
    if (!(fabs(red) <= FLT_MAX))
        return negs_fail(NEGS_E_INVALID, "%s: the loss %g overflows float (the logits are finite "
                         "but their sum is not); scale the scores down", fn, red);
    loss[0] = (float)red;
    return NEGS_OK;
}
