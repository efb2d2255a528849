/* Times negs_loss_scores (forward + backward: loss, d_pos and d_neg, mean reduction, with
 * neg_logq) for every kind and k, at one thread count. Usage:
 *   bench_loss_scores THREADS [N] [REPS] [K...]
 * prints one line per case: "kind k time_s loss" (best of REPS after a warm-up call).
 * Inputs follow a formula that tests/bench/loss_scores_peer.py repeats exactly, so the two
 * losses can be compared. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "negsample.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static const struct { const char *name; int kind; } kinds[] = {
    {"bce", NEGS_LOSS_BCE},         {"bpr", NEGS_LOSS_BPR},
    {"hinge", NEGS_LOSS_HINGE},     {"softmax", NEGS_LOSS_SOFTMAX},
    {"listnet", NEGS_LOSS_LISTNET},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s THREADS [N] [REPS] [K...]\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    size_t n = argc > 2 ? strtoull(argv[2], NULL, 10) : 1000000;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    unsigned ks[16] = {1, 4, 64};
    int nk = 3;
    if (argc > 4) {
        nk = 0;
        for (int a = 4; a < argc && nk < 16; a++) ks[nk++] = (unsigned)atoi(argv[a]);
    }
    for (int c = 0; c < nk; c++) {
        unsigned k = ks[c];
        size_t nnk = n * k;
        float *pos = malloc(n * sizeof *pos), *neg = malloc(nnk * sizeof *neg);
        float *lq = malloc(nnk * sizeof *lq), *dp = malloc(n * sizeof *dp);
        float *dn = malloc(nnk * sizeof *dn);
        if (!pos || !neg || !lq || !dp || !dn) {
            fprintf(stderr, "out of memory\n");
            return 1;
        }
        for (size_t i = 0; i < n; i++) pos[i] = (float)(2.0 * sin(0.37 * (double)i) + 1.0);
        for (size_t e = 0; e < nnk; e++) {
            neg[e] = (float)(2.0 * cos(0.11 * (double)e));
            lq[e] = (float)(-5.0 + sin(0.07 * (double)e));
        }
        for (size_t a = 0; a < sizeof kinds / sizeof kinds[0]; a++) {
            negs_loss *l = negs_loss_create(kinds[a].kind);
            if (!l || negs_loss_set_param(l, NEGS_LP_THREADS, threads) ||
                negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 0.5)) {
                fprintf(stderr, "setup: %s\n", negs_last_error());
                return 1;
            }
            float loss = 0;
            double best = 1e30;
            for (int r = -1; r < reps; r++) {
                double t0 = now();
                if (negs_loss_scores(l, n, k, pos, neg, lq, NULL, &loss, dp, dn)) {
                    fprintf(stderr, "negs_loss_scores: %s\n", negs_last_error());
                    return 1;
                }
                double t = now() - t0;
                if (r >= 0 && t < best) best = t;
            }
            printf("%s %u %.6f %.7g\n", kinds[a].name, k, best, (double)loss);
            fflush(stdout);
            negs_loss_free(l);
        }
        free(pos);
        free(neg);
        free(lq);
        free(dp);
        free(dn);
    }
    return 0;
}
