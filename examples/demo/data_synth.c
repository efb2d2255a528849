/* The synthetic data set used when no real file is at hand.
 *
 * Generative story (all from the seed):
 * - every user u and item i has a planted factor p_u, q_i ~ N(0, I) in SYNTH_DIM dimensions;
 * - item popularity is Zipf: the item of popularity rank r (a random permutation of the items)
 *   has weight (r + 1)^-SYNTH_ZIPF;
 * - user u interacts with n_u = SYNTH_MIN + Exp(SYNTH_MEAN) distinct items (at most half of the
 *   catalogue), drawn without replacement with probability proportional to
 *   weight_i * exp(SYNTH_AFFINITY * p_u.q_i / sqrt(SYNTH_DIM)) (Gumbel top-k).
 * So popular items are popular for everyone (what popularity negatives and the logQ correction
 * are about), and the personal part is a low-rank signal that MF can recover. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

#define SYNTH_DIM 16
#define SYNTH_ZIPF 0.9
#define SYNTH_AFFINITY 2.5
#define SYNTH_MIN 10
#define SYNTH_MEAN 40.0

typedef struct {
    double key;
    uint32_t item;
} keyed;

static int by_key_desc(const void *a, const void *b)
{
    double x = ((const keyed *)a)->key, y = ((const keyed *)b)->key;
    return (x < y) - (x > y);
}

int data_synth(uint32_t n_users, uint32_t n_items, uint64_t seed, dataset *d, char *err,
               size_t err_len)
{
    memset(d, 0, sizeof *d);
    host_rng r = {seed * 0x2545F4914F6CDD1DULL + 17};
    double *p = malloc((size_t)n_users * SYNTH_DIM * sizeof *p);
    double *q = malloc((size_t)n_items * SYNTH_DIM * sizeof *q);
    double *logw = malloc(n_items * sizeof *logw);
    uint32_t *rank = malloc(n_items * sizeof *rank);
    keyed *k = malloc(n_items * sizeof *k);
    size_t cap = (size_t)n_users * (SYNTH_MIN + 4 * (size_t)SYNTH_MEAN), n = 0;
    d->all = malloc(cap * sizeof *d->all);
    int rc = -1;
    if (!p || !q || !logw || !rank || !k || !d->all) {
        snprintf(err, err_len, "out of memory generating the synthetic data");
        goto out;
    }
    for (size_t j = 0; j < (size_t)n_users * SYNTH_DIM; j++) p[j] = rng_normal(&r);
    for (size_t j = 0; j < (size_t)n_items * SYNTH_DIM; j++) q[j] = rng_normal(&r);
    for (uint32_t i = 0; i < n_items; i++) rank[i] = i;
    for (uint32_t i = n_items; i > 1; i--) {
        uint32_t j = (uint32_t)(rng_uniform(&r) * i), t = rank[i - 1];
        rank[i - 1] = rank[j], rank[j] = t;
    }
    for (uint32_t i = 0; i < n_items; i++) logw[i] = -SYNTH_ZIPF * log(rank[i] + 1.0);
    for (uint32_t u = 0; u < n_users; u++) {
        size_t n_u = SYNTH_MIN + (size_t)(-SYNTH_MEAN * log(1.0 - rng_uniform(&r)));
        if (n_u > n_items / 2) n_u = n_items / 2;
        for (uint32_t i = 0; i < n_items; i++) {
            double a = 0;
            for (int t = 0; t < SYNTH_DIM; t++)
                a += p[(size_t)u * SYNTH_DIM + t] * q[(size_t)i * SYNTH_DIM + t];
            double gumbel = -log(-log(1.0 - rng_uniform(&r) + 1e-300) + 1e-300);
            k[i].key = logw[i] + SYNTH_AFFINITY * a / sqrt((double)SYNTH_DIM) + gumbel;
            k[i].item = i;
        }
        qsort(k, n_items, sizeof *k, by_key_desc);
        if (n + n_u > cap) {
            pair *np = realloc(d->all, (cap *= 2) * sizeof *np);
            if (!np) {
                snprintf(err, err_len, "out of memory generating the synthetic data");
                goto out;
            }
            d->all = np;
        }
        for (size_t j = 0; j < n_u; j++) d->all[n++] = (pair){u, k[j].item};
    }
    d->n_all = n;
    d->n_users = n_users;
    d->n_items = n_items;
    snprintf(d->name, sizeof d->name, "synthetic %ux%u", n_users, n_items);
    rc = 0;
out:
    free(p), free(q), free(logw), free(rank), free(k);
    if (rc) data_free(d);
    return rc;
}
