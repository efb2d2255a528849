/* Times negs_loss_scores_indexed (dot products or cosines of rows gathered from 10^5 x dim
 * user and item tables, loss, gradients added into the tables) against what a trainer writes
 * without it: gather the rows, score them in plain C loops, call negs_loss_scores, then apply
 * the chain rule and scatter the gradients by hand. Both use the same handle (same kind,
 * temperature, threads). Usage:
 *   bench_loss_scores_indexed THREADS [REPS]
 * prints one line per case: "kind cosine n k dim ours_s rows_s hand_s ours_loss hand_loss"
 * (best of REPS after a warm-up call; rows_s is the _rows variant). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "negsample.h"

#define N_USERS 100000u
#define N_ITEMS 100000u

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 32) % n);
}

struct hand { /* the trainer's own buffers */
    float *gu, *gp, *gn, *pos, *neg, *dpos, *dneg, *nu, *np, *nn;
};

static float inv_norm(const float *x, size_t dim)
{
    double s = 0.0;
    for (size_t d = 0; d < dim; d++) s += (double)x[d] * x[d];
    return (float)(1.0 / sqrt(s));
}

/* Gather, score, negs_loss_scores, chain rule and scatter, written plainly. */
static int by_hand(negs_loss *l, int cosine, size_t n, uint32_t k, size_t dim, const float *ue,
                   const float *ie, const uint32_t *ui, const uint32_t *pi, const uint32_t *ni,
                   const float *lq, struct hand *h, float *loss, float *du, float *dv)
{
    for (size_t i = 0; i < n; i++) {
        memcpy(h->gu + i * dim, ue + (size_t)ui[i] * dim, dim * sizeof(float));
        memcpy(h->gp + i * dim, ie + (size_t)pi[i] * dim, dim * sizeof(float));
        for (uint32_t j = 0; j < k; j++)
            memcpy(h->gn + (i * k + j) * dim, ie + (size_t)ni[i * k + j] * dim,
                   dim * sizeof(float));
    }
    for (size_t i = 0; i < n; i++) {
        const float *u = h->gu + i * dim;
        float s = 0;
        for (size_t d = 0; d < dim; d++) s += u[d] * h->gp[i * dim + d];
        if (cosine) {
            h->nu[i] = inv_norm(u, dim);
            h->np[i] = inv_norm(h->gp + i * dim, dim);
            s *= h->nu[i] * h->np[i];
        }
        h->pos[i] = s;
        for (uint32_t j = 0; j < k; j++) {
            const float *v = h->gn + (i * k + j) * dim;
            float t = 0;
            for (size_t d = 0; d < dim; d++) t += u[d] * v[d];
            if (cosine) {
                h->nn[i * k + j] = inv_norm(v, dim);
                t *= h->nu[i] * h->nn[i * k + j];
            }
            h->neg[i * k + j] = t;
        }
    }
    int rc = negs_loss_scores(l, n, k, h->pos, h->neg, lq, NULL, loss, h->dpos, h->dneg);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        const float *u = h->gu + i * dim;
        float *gu = du + (size_t)ui[i] * dim, *gp = dv + (size_t)pi[i] * dim;
        for (uint32_t t = 0; t <= k; t++) {
            const size_t e = i * k + t - 1;
            const float c = t ? h->dneg[e] : h->dpos[i], s = t ? h->neg[e] : h->pos[i];
            const float *v = t ? h->gn + e * dim : h->gp + i * dim;
            float *gv = t ? dv + (size_t)ni[e] * dim : gp;
            if (!cosine) {
                for (size_t d = 0; d < dim; d++) {
                    gu[d] += c * v[d];
                    gv[d] += c * u[d];
                }
                continue;
            }
            const float iu = h->nu[i], iv = t ? h->nn[e] : h->np[i];
            for (size_t d = 0; d < dim; d++) {
                gu[d] += c * (iu * iv * v[d] - s * iu * iu * u[d]);
                gv[d] += c * (iu * iv * u[d] - s * iv * iv * v[d]);
            }
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s THREADS [REPS]\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    static const struct { int kind; const char *name; int cosine; size_t n; uint32_t k; size_t dim; }
        cases[] = {
            {NEGS_LOSS_SOFTMAX, "softmax", 0, 4096, 64, 64},
            {NEGS_LOSS_SOFTMAX, "softmax", 1, 4096, 64, 64},
            {NEGS_LOSS_BPR, "bpr", 0, 65536, 1, 64},
            {NEGS_LOSS_BPR, "bpr", 0, 16384, 16, 128},
            {NEGS_LOSS_BCE, "bce", 1, 16384, 16, 32},
        };
    const size_t max_dim = 128, max_nk = 16384 * 18;
    float *ue = malloc(N_USERS * max_dim * sizeof(float));
    float *ie = malloc(N_ITEMS * max_dim * sizeof(float));
    float *du = calloc(N_USERS * max_dim, sizeof(float));
    float *dv = calloc(N_ITEMS * max_dim, sizeof(float));
    uint32_t *ui = malloc(max_nk * sizeof(uint32_t)), *pi = malloc(max_nk * sizeof(uint32_t));
    uint32_t *ni = malloc(max_nk * sizeof(uint32_t));
    float *lq = malloc(max_nk * sizeof(float)), *rows = malloc(max_nk * max_dim * sizeof(float));
    struct hand h;
    float **bufs[] = {&h.gu, &h.gp, &h.gn, &h.pos, &h.neg, &h.dpos, &h.dneg, &h.nu, &h.np, &h.nn};
    for (size_t b = 0; b < sizeof bufs / sizeof bufs[0]; b++)
        *bufs[b] = malloc(max_nk * (b < 3 ? max_dim : 1) * sizeof(float));
    if (!ue || !ie || !du || !dv || !ui || !pi || !ni || !lq || !rows || !h.nn) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t q = 0; q < N_USERS * max_dim; q++) ue[q] = (float)(0.3 * sin(0.001 * q + 1));
    for (size_t q = 0; q < N_ITEMS * max_dim; q++) ie[q] = (float)(0.3 * cos(0.0007 * q));
    for (size_t q = 0; q < max_nk; q++) {
        ui[q] = rnd(N_USERS), pi[q] = rnd(N_ITEMS), ni[q] = rnd(N_ITEMS);
        lq[q] = (float)(-11.0 + sin(0.07 * q));
    }
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const size_t n = cases[c].n, dim = cases[c].dim;
        const uint32_t k = cases[c].k;
        negs_loss *l = negs_loss_create(cases[c].kind);
        if (!l || negs_loss_set_param(l, NEGS_LP_THREADS, threads) ||
            negs_loss_set_param(l, NEGS_LP_TEMPERATURE, cases[c].cosine ? 0.1 : 0.5) ||
            negs_loss_set_param(l, NEGS_LP_COSINE, cases[c].cosine)) {
            fprintf(stderr, "setup: %s\n", negs_last_error());
            return 1;
        }
        double best[3] = {1e30, 1e30, 1e30};
        float loss[2] = {0, 0};
        for (int r = -1; r < reps; r++)
            for (int which = 0; which < 3; which++) {
                double t0 = now();
                int rc = which == 0 ? negs_loss_scores_indexed(l, n, k, dim, ue, N_USERS, ie,
                                                               N_ITEMS, ui, pi, ni, lq, NULL,
                                                               &loss[0], du, dv)
                         : which == 1 ? negs_loss_scores_indexed_rows(
                                            l, n, k, dim, ue, N_USERS, ie, N_ITEMS, ui, pi, ni,
                                            lq, NULL, &loss[0], rows, rows + n * dim,
                                            rows + 2 * n * dim)
                                      : by_hand(l, cases[c].cosine, n, k, dim, ue, ie, ui, pi,
                                                ni, lq, &h, &loss[1], du, dv);
                double t = now() - t0;
                if (rc) {
                    fprintf(stderr, "case %zu: %s\n", c, negs_last_error());
                    return 1;
                }
                if (r >= 0 && t < best[which]) best[which] = t;
            }
        printf("%s %d %zu %u %zu %.6f %.6f %.6f %.7g %.7g\n", cases[c].name, cases[c].cosine, n, k,
               dim, best[0], best[1], best[2], (double)loss[0], (double)loss[1]);
        fflush(stdout);
        negs_loss_free(l);
    }
    return 0;
}
