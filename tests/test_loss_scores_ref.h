/* A direct double-precision transcription of the score-level loss definitions (API.md and
 * docs/losses.md), independent of the library's kernel structure: absolute logits
 * x = neg / T - logq and a = pos / T, masked slots skipped. Used for losses and, through
 * central finite differences, for gradients. */
#ifndef TEST_LOSS_SCORES_REF_H
#define TEST_LOSS_SCORES_REF_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "negsample.h"

struct ref_case {
    int kind, reduction;
    size_t n;
    uint32_t k;
    double temperature, margin;
    const double *pos, *neg, *logq; /* logq may be NULL */
    const uint8_t *mask;            /* may be NULL */
};

static double ref_softplus(double x) /* log(1 + e^x) */
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static double ref_row(const struct ref_case *c, size_t i)
{
    const double T = c->temperature, a = c->pos[i] / T;
    double x[4096];
    uint32_t m = 0;
    for (uint32_t j = 0; j < c->k; j++) {
        size_t e = i * c->k + j;
        if (c->mask && c->mask[e]) continue;
        x[m++] = c->neg[e] / T - (c->logq ? c->logq[e] : 0.0);
    }
    double s = 0.0;
    switch (c->kind) {
    case NEGS_LOSS_BCE:
        s = ref_softplus(-a);
        for (uint32_t j = 0; j < m; j++) s += ref_softplus(x[j]);
        return s;
    case NEGS_LOSS_BPR:
        for (uint32_t j = 0; j < m; j++) s += ref_softplus(-(a - x[j]));
        return m ? s / m : 0.0;
    case NEGS_LOSS_HINGE:
        for (uint32_t j = 0; j < m; j++) s += fmax(0.0, c->margin - a + x[j]);
        return m ? s / m : 0.0;
    default: {
        double mx = a;
        for (uint32_t j = 0; j < m; j++) mx = fmax(mx, x[j]);
        double S = exp(a - mx);
        for (uint32_t j = 0; j < m; j++) S += exp(x[j] - mx);
        double lse = mx + log(S);
        if (c->kind == NEGS_LOSS_SOFTMAX) return lse - a;
        /* ListNet: -sum t_i log p_i, t = softmax([1, 0, ..., 0]) over the m + 1 entries */
        double e1 = exp(1.0), zt = e1 + m;
        s = -(e1 / zt) * (a - lse);
        for (uint32_t j = 0; j < m; j++) s -= (1.0 / zt) * (x[j] - lse);
        return s;
    }
    }
}

/* The reduced loss (NONE: the sum, whose gradients the library returns). */
static double ref_total(const struct ref_case *c)
{
    double s = 0.0;
    for (size_t i = 0; i < c->n; i++) s += ref_row(c, i);
    return c->reduction == NEGS_REDUCE_MEAN ? s / (double)c->n : s;
}

/* Central difference of ref_total with respect to *v (a slot of pos or neg). */
static double ref_fd(const struct ref_case *c, double *v)
{
    const double h = 1e-5 * fmax(1.0, fabs(*v)), keep = *v;
    *v = keep + h;
    double up = ref_total(c);
    *v = keep - h;
    double dn = ref_total(c);
    *v = keep;
    return (up - dn) / (2.0 * h);
}

#endif
