/* The dense OpenBLAS peer of bench_inbatch: the same loss and both gradients as
 * negs_loss_inbatch (MEAN, temperature 0.05, logQ, accidental hits masked), computed the
 * dense way with cblas_sgemm and the b x (b + m) logits materialised:
 *   Z = U V^T (sgemm); per row, in parallel over `threads` threads: z = Z / T - logq, hits
 *   masked, online max, exp and sum (the library's vectorised kernels), loss, and Z turned in
 *   place into G = coef (softmax - [i == j]); then dU = G V and dV = G^T U (two sgemms).
 * The data recipe is bench_inbatch's (inbatch_data.h), so the loss is the same.
 *   bench_inbatch_blas case B M DIM THREADS [REPS] -> one line:
 *     "time_s gflops peak_rss_mib loss corename rel_loss rel_du rel_dv"
 *     (best of REPS calls after a warm-up, REPS = 0: the single first call; peak RSS taken
 *     before the comparison; rel_* = relative difference from negs_loss_inbatch on the same
 *     inputs: |loss - ours| / |ours|, max |du - ours| / max |ours|, the same for dv)
 *   bench_inbatch_blas corename -> the OpenBLAS core type that runs (after OPENBLAS_CORETYPE)
 * OpenBLAS's thread count comes from OPENBLAS_NUM_THREADS, set by the caller's command.
 * Built only where OpenBLAS is installed (without it the binary says so and exits 77). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef NEGS_BENCH_NO_OPENBLAS
#include <cblas.h>
#include <pthread.h>
#include <sys/resource.h>
#include <time.h>

#include "core/cpu.h"
#include "inbatch_data.h"
#include "kernels/kernels.h"
#include "negsample.h"

#define TEMPERATURE 0.05f

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

typedef struct dense {
    size_t b, n, ld, dim; /* ld: Z's row stride, n padded to 32 (padding columns: lq = +inf) */
    const float *u, *v, *lq;
    const uint32_t *items;
    float *z;
    double *rowloss;
    float coef;
    const negs_kernels *k;
} dense;

/* Rows [r0, r1) of Z into G, with their losses. */
static void softmax_rows(const dense *d, size_t r0, size_t r1)
{
    const negs_kernels *k = d->k;
    for (size_t i = r0; i < r1; i++) {
        float *z = d->z + i * d->ld;
        k->logits(z, d->ld, 1.0f / TEMPERATURE, d->lq);
        uint32_t own = d->items[i];
        for (size_t j = 0; j < d->n; j++) z[j] = d->items[j] == own && j != i ? -INFINITY : z[j];
        float mx = k->max(z, d->ld), zi = z[i];
        float sum = k->exp_scale(z, d->ld, mx, 1.0f);
        d->rowloss[i] = ((double)mx - (double)zi) + log((double)sum);
        float w = d->coef / sum;
        for (size_t j = 0; j < d->ld; j++) z[j] *= w;
        z[i] -= d->coef;
    }
}

typedef struct part {
    const dense *d;
    size_t r0, r1;
} part;

static void *run_part(void *arg)
{
    const part *p = arg;
    softmax_rows(p->d, p->r0, p->r1);
    return NULL;
}

/* One forward + backward step; returns the mean loss. */
static float step(const dense *d, int threads, float *du, float *dv)
{
    size_t b = d->b, n = d->n, dim = d->dim;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)b, (int)n, (int)dim, 1.0f, d->u,
                (int)dim, d->v, (int)dim, 0.0f, d->z, (int)d->ld);
    pthread_t th[64];
    part pt[64];
    for (int t = 0; t < threads; t++) {
        pt[t].d = d;
        pt[t].r0 = b * (size_t)t / (size_t)threads;
        pt[t].r1 = b * (size_t)(t + 1) / (size_t)threads;
        if (t > 0) pthread_create(&th[t], NULL, run_part, &pt[t]);
    }
    run_part(&pt[0]);
    for (int t = 1; t < threads; t++) pthread_join(th[t], NULL);
    double total = 0.0;
    for (size_t i = 0; i < b; i++) total += d->rowloss[i];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)b, (int)dim, (int)n, 1.0f, d->z,
                (int)d->ld, d->v, (int)dim, 0.0f, du, (int)dim);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)dim, (int)b, 1.0f, d->z,
                (int)d->ld, d->u, (int)dim, 0.0f, dv, (int)dim);
    return (float)(total / (double)b);
}

static double rel_max(const float *x, const float *ref, size_t n)
{
    double diff = 0.0, mag = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)x[i] - (double)ref[i]), r = fabs((double)ref[i]);
        diff = e > diff ? e : diff;
        mag = r > mag ? r : mag;
    }
    return mag > 0.0 ? diff / mag : diff;
}

static int run_case(size_t b, size_t m, size_t dim, int threads, int reps)
{
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "threads must be 1..64\n");
        return 2;
    }
    size_t n = b + m, ld = (n + 31) / 32 * 32;
    float *u = malloc(b * dim * 4), *v = malloc(n * dim * 4), *lq = malloc(ld * 4);
    float *du = malloc(b * dim * 4), *dv = malloc(n * dim * 4);
    float *z = calloc(b * ld, 4);
    double *rowloss = malloc(b * sizeof *rowloss);
    uint32_t *items = malloc(n * 4);
    if (!u || !v || !lq || !du || !dv || !z || !rowloss || !items) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    inbatch_data(b, n, dim, u, v, items, lq);
    for (size_t j = n; j < ld; j++) lq[j] = INFINITY; /* padding columns: logit -inf */
    dense d = {.b = b, .n = n, .ld = ld, .dim = dim, .u = u, .v = v, .lq = lq, .items = items,
               .z = z, .rowloss = rowloss, .coef = (float)(1.0 / (double)b / TEMPERATURE),
               .k = negs_kernels_select(negs_cpu_features())};
    double t0 = now();
    float loss = step(&d, threads, du, dv); /* warm-up */
    double best = reps == 0 ? now() - t0 : 1e30;
    for (int r = 0; r < reps; r++) {
        t0 = now();
        step(&d, threads, du, dv);
        double t = now() - t0;
        if (t < best) best = t;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss = ru.ru_maxrss / 1024.0;
    free(z);

    /* the same step by negs_loss_inbatch, for the agreement figures */
    float *du2 = malloc(b * dim * 4), *dv2 = malloc(n * dim * 4), loss2;
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    negs_loss_set_param(l, NEGS_LP_TEMPERATURE, TEMPERATURE);
    negs_loss_set_param(l, NEGS_LP_THREADS, threads);
    if (!du2 || !dv2 || !l ||
        negs_loss_inbatch(l, b, m, dim, u, v, lq, items, NULL, &loss2, du2, dv2)) {
        fprintf(stderr, "negs_loss_inbatch: %s\n", negs_last_error());
        return 1;
    }
    double flops = 6.0 * (double)b * (double)n * (double)dim;
    printf("%.6f %.2f %.1f %.6g %s %.2g %.2g %.2g\n", best, flops / best / 1e9, rss, loss,
           openblas_get_corename(), fabs((double)loss - loss2) / fabs((double)loss2),
           rel_max(du, du2, b * dim), rel_max(dv, dv2, n * dim));
    negs_loss_free(l);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "corename")) {
        printf("%s\n", openblas_get_corename());
        return 0;
    }
    if (argc < 6 || strcmp(argv[1], "case")) {
        fprintf(stderr, "usage: %s case B M DIM THREADS [REPS] | corename\n", argv[0]);
        return 2;
    }
    return run_case(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
                    strtoull(argv[4], NULL, 10), atoi(argv[5]), argc > 6 ? atoi(argv[6]) : 3);
}
#else
int main(void)
{
    printf("bench_inbatch_blas: built without OpenBLAS (libopenblas-dev not found)\n");
    return 77;
}
#endif
