/* A hard-negative curriculum: matrix factorisation trained with BPR on synthetic implicit
 * feedback, one negative per positive from a MIXTURE of an easy (uniform) child and a HARD
 * child (the top of 16 uniform candidates by the model's own dot product, DNS). The hard
 * share follows a schedule: none while the model warms up, rising to 2/3, then down to 1/3
 * near the end (against false negatives). Prints the hard share and the validation hit rate
 * (HR@10 of one held-out positive per user) as training goes, then the same model trained
 * with easy negatives only. Runs in about a second; no data files needed. */
#include <math.h>
#include <negsample.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USERS 600
#define ITEMS 1500
#define PER_USER 24 /* positives per user, one of them held out */
#define TRUE_DIM 8
#define DIM 32
#define EPOCHS 24
#define BATCH 256
#define LR 0.03f
#define REG 0.01f

static uint64_t rs = 2024;
static double unif(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return ((double)(rs >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
    return sqrt(-2.0 * log(unif())) * cos(6.283185307179586 * unif());
}

typedef struct data {
    uint64_t indptr[USERS + 1];
    uint32_t train[USERS * (PER_USER - 1)];
    uint32_t heldout[USERS];
} data;

/* Users pick items by a hidden low-rank taste plus item popularity (Gumbel-top-k). */
static void make_data(data *d)
{
    static float p[USERS][TRUE_DIM], q[ITEMS][TRUE_DIM], bias[ITEMS];
    for (int u = 0; u < USERS; u++)
        for (int f = 0; f < TRUE_DIM; f++) p[u][f] = (float)gauss();
    for (int i = 0; i < ITEMS; i++) {
        for (int f = 0; f < TRUE_DIM; f++) q[i][f] = (float)gauss() * 0.5f;
        bias[i] = (float)(-1.5 * log(1.0 + i % 97));
    }
    for (int u = 0; u < USERS; u++) {
        static double key[ITEMS];
        uint32_t pick[PER_USER];
        for (int i = 0; i < ITEMS; i++) {
            double s = bias[i];
            for (int f = 0; f < TRUE_DIM; f++) s += p[u][f] * q[i][f];
            key[i] = s - log(-log(unif()));
        }
        for (int t = 0; t < PER_USER; t++) { /* the PER_USER largest keys */
            int best = 0;
            for (int i = 1; i < ITEMS; i++)
                if (key[i] > key[best]) best = i;
            pick[t] = (uint32_t)best;
            key[best] = -INFINITY;
        }
        int h = (int)(unif() * PER_USER);
        d->heldout[u] = pick[h];
        d->indptr[u] = (uint64_t)u * (PER_USER - 1);
        for (int t = 0, j = 0; t < PER_USER; t++)
            if (t != h) d->train[u * (PER_USER - 1) + j++] = pick[t];
    }
    d->indptr[USERS] = (uint64_t)USERS * (PER_USER - 1);
}

/* HR@10: the held-out item ranks among the user's 10 best unseen items. */
static double hit_rate(const data *d, const float *U, const float *V, const negs_csr *seen)
{
    int hits = 0;
    for (int u = 0; u < USERS; u++) {
        const float *uu = U + u * DIM;
        float target = 0.0f;
        for (int f = 0; f < DIM; f++) target += uu[f] * V[d->heldout[u] * DIM + f];
        int above = 0;
        for (int i = 0; i < ITEMS && above < 10; i++) {
            if ((uint32_t)i == d->heldout[u] || negs_csr_contains(seen, (uint32_t)u, (uint32_t)i))
                continue;
            float s = 0.0f;
            for (int f = 0; f < DIM; f++) s += uu[f] * V[i * DIM + f];
            above += s > target;
        }
        hits += above < 10;
    }
    return (double)hits / USERS;
}

static negs_sampler *uniform_child(const negs_csr *seen, uint64_t seed)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, ITEMS, seed);
    if (!s || negs_sampler_set_positives(s, seen)) return NULL;
    return s;
}

/* The curriculum: child 0 easy (share 1), child 1 HARD with the scheduled share. */
static negs_sampler *curriculum(const negs_csr *seen, const double *steps, const double *hard_share,
                                size_t n_points)
{
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, ITEMS, 7);
    negs_sampler *hard = negs_sampler_create(NEGS_SAMPLER_HARD, ITEMS, 7);
    negs_sampler *easy = uniform_child(seen, 1), *pool = uniform_child(seen, 2);
    if (!mix || !hard || !easy || !pool || negs_sampler_add(hard, pool, 1.0) ||
        negs_sampler_set_param(hard, NEGS_SP_CANDIDATES, 16) ||
        negs_sampler_set_param(hard, NEGS_SP_HARD_MODE, NEGS_HARD_TOP) ||
        negs_sampler_add(mix, easy, 1.0) || negs_sampler_add(mix, hard, 0.0) ||
        negs_sampler_set_schedule(mix, 1, n_points, steps, hard_share)) {
        fprintf(stderr, "setup: %s\n", negs_last_error());
        exit(1);
    }
    return mix;
}

static double train(const data *d, const negs_csr *seen, negs_sampler *mix, const double *steps,
                    const double *hard_share, size_t n_points, int verbose)
{
    static float U[USERS * DIM], V[ITEMS * DIM], q[BATCH * DIM];
    static uint32_t order[USERS * (PER_USER - 1)], users[BATCH], pos[BATCH], neg[BATCH];
    const size_t n_train = (size_t)USERS * (PER_USER - 1);
    uint64_t saved = rs;
    rs = 99; /* the same initialisation and order for every run */
    for (int i = 0; i < USERS * DIM; i++) U[i] = (float)gauss() * 0.1f;
    for (int i = 0; i < ITEMS * DIM; i++) V[i] = (float)gauss() * 0.1f;
    for (size_t e = 0; e < n_train; e++) order[e] = (uint32_t)e;
    uint64_t step = 0;
    double hr = 0.0;
    for (int epoch = 1; epoch <= EPOCHS; epoch++) {
        for (size_t e = n_train - 1; e > 0; e--) { /* shuffle */
            size_t j = (size_t)(unif() * (double)(e + 1));
            uint32_t t = order[e];
            order[e] = order[j];
            order[j] = t;
        }
        for (size_t b0 = 0; b0 < n_train; b0 += BATCH, step++) {
            size_t nb = n_train - b0 < BATCH ? n_train - b0 : BATCH;
            for (size_t r = 0; r < nb; r++) {
                uint32_t e = order[b0 + r];
                users[r] = e / (PER_USER - 1);
                pos[r] = d->train[e];
                memcpy(q + r * DIM, U + users[r] * DIM, DIM * sizeof *q);
            }
            if (negs_sampler_sample_scored(mix, step, nb, users, pos, q, V, DIM, 1, neg, NULL)) {
                fprintf(stderr, "sample_scored: %s\n", negs_last_error());
                exit(1);
            }
            for (size_t r = 0; r < nb; r++) { /* BPR step on (u, i, j) */
                float *uu = U + users[r] * DIM, *vi = V + pos[r] * DIM, *vj = V + neg[r] * DIM;
                float x = 0.0f;
                for (int f = 0; f < DIM; f++) x += uu[f] * (vi[f] - vj[f]);
                float g = 1.0f / (1.0f + expf(x));
                for (int f = 0; f < DIM; f++) {
                    float du = g * (vi[f] - vj[f]) - REG * uu[f];
                    vi[f] += LR * (g * uu[f] - REG * vi[f]);
                    vj[f] += LR * (-g * uu[f] - REG * vj[f]);
                    uu[f] += LR * du;
                }
            }
        }
        if (verbose && epoch % 3 == 0) {
            hr = hit_rate(d, U, V, seen);
            double s = hard_share[n_points - 1]; /* the schedule at this step, as the mixture */
            for (size_t p = 0; p + 1 < n_points; p++)
                if ((double)step < steps[p + 1]) {
                    double f = ((double)step - steps[p]) / (steps[p + 1] - steps[p]);
                    s = hard_share[p] + (f < 0 ? 0 : f) * (hard_share[p + 1] - hard_share[p]);
                    break;
                }
            printf("epoch %2d  step %5llu  hard share %.2f  HR@10 %.3f\n", epoch,
                   (unsigned long long)step, s / (1.0 + s), hr);
        }
    }
    rs = saved;
    return verbose ? hr : hit_rate(d, U, V, seen);
}

int main(void)
{
    static data d;
    make_data(&d);
    negs_csr *seen = negs_csr_create(USERS, ITEMS, d.indptr, d.train);
    if (!seen) {
        fprintf(stderr, "%s\n", negs_last_error());
        return 1;
    }
    const double total = EPOCHS * ceil((double)USERS * (PER_USER - 1) / BATCH);
    /* hard share s against the easy child's 1: s / (1 + s) = 0, 0, 2/3, 1/3 */
    const double steps[4] = {0, 0.25 * total, 0.6 * total, total}, share[4] = {0, 0, 2, 0.5};
    negs_sampler *mix = curriculum(seen, steps, share, 4);
    printf("curriculum (easy = uniform, hard = top of 16 uniform candidates):\n");
    double hr = train(&d, seen, mix, steps, share, 4, 1);
    negs_sampler_free(mix);
    const double none[1] = {0}, at0[1] = {0};
    mix = curriculum(seen, at0, none, 1);
    double easy = train(&d, seen, mix, at0, none, 1, 0);
    printf("final HR@10: curriculum %.3f, easy negatives only %.3f\n", hr, easy);
    negs_sampler_free(mix);
    negs_csr_free(seen);
    return 0;
}
