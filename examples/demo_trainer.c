/* Demo trainer: BPR matrix factorisation on MovieLens-100K with libnegsample's uniform
 * negatives (the user's known positives excluded) and its BPR loss kernel, Adam on the host.
 *
 * Usage: demo_trainer [PATH/ml-100k.inter] [EPOCHS]
 * Protocol (RecBole's BPR quick start, whose published figures ../shared/data/README.md quotes):
 * every rating is a positive; a per-user random 8:1:1 train/valid/test split; one uniform
 * negative per positive, never one of the user's training items; embedding 64; Adam, lr 2e-3,
 * batch 2048; full ranking over the items outside the user's training (and, for test, valid)
 * items; Recall@10 and NDCG@10 on test at the epoch with the best valid NDCG@10. */
#include <math.h>
#include <negsample.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIM 64
#define BATCH 2048
#define TOPK 10

typedef struct {
    uint32_t user, item;
} pair;

/* Host-side randomness (shuffles, init): SplitMix64, seeded, so the demo is reproducible. */
static uint64_t host_state = 2024;
static uint64_t host_next(void)
{
    uint64_t z = (host_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double host_uniform(void) { return (double)(host_next() >> 11) * 0x1.0p-53; }
static void shuffle(pair *p, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(host_uniform() * (double)i);
        pair t = p[i - 1];
        p[i - 1] = p[j];
        p[j] = t;
    }
}

static int by_user(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    return (x->user > y->user) - (x->user < y->user);
}

/* Reads "user item rating timestamp" rows (RecBole's .inter with a header line). */
static pair *read_inter(const char *path, size_t *n, uint32_t *n_users, uint32_t *n_items)
{
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char line[256];
    size_t cap = 1 << 17, len = 0;
    pair *p = malloc(cap * sizeof *p);
    unsigned long max_u = 0, max_i = 0;
    if (!fgets(line, sizeof line, f)) len = 0; /* header */
    while (p && fgets(line, sizeof line, f)) {
        unsigned long u, i;
        if (sscanf(line, "%lu %lu", &u, &i) != 2) continue;
        if (len == cap) p = realloc(p, (cap *= 2) * sizeof *p);
        if (!p) break;
        p[len].user = (uint32_t)u;
        p[len].item = (uint32_t)i;
        len++;
        if (u > max_u) max_u = u;
        if (i > max_i) max_i = i;
    }
    fclose(f);
    *n = len;
    *n_users = (uint32_t)max_u + 1; /* ids are small integers: use them as indices */
    *n_items = (uint32_t)max_i + 1;
    return p;
}

typedef struct {
    float *w, *m, *v; /* parameters and Adam moments */
    size_t n;
} param;

static void param_init(param *p, size_t n)
{
    p->n = n;
    p->w = malloc(n * sizeof *p->w);
    p->m = calloc(n, sizeof *p->m);
    p->v = calloc(n, sizeof *p->v);
    for (size_t i = 0; i < n; i++) p->w[i] = (float)((host_uniform() - 0.5) * 0.2);
}

static void adam_step(param *p, float *grad, long t, float lr)
{
    const float b1 = 0.9f, b2 = 0.999f;
    float c1 = 1.0f - powf(b1, (float)t), c2 = 1.0f - powf(b2, (float)t);
    for (size_t i = 0; i < p->n; i++) {
        float g = grad[i];
        if (g == 0.0f && p->m[i] == 0.0f) continue; /* row never touched yet */
        p->m[i] = b1 * p->m[i] + (1 - b1) * g;
        p->v[i] = b2 * p->v[i] + (1 - b2) * g * g;
        p->w[i] -= lr * (p->m[i] / c1) / (sqrtf(p->v[i] / c2) + 1e-8f);
        grad[i] = 0.0f;
    }
}

static float dot(const float *a, const float *b)
{
    float s = 0.0f;
    for (int d = 0; d < DIM; d++) s += a[d] * b[d];
    return s;
}

/* Recall@10 and NDCG@10 over the users with test items, ranking every item outside train
 * (and outside `also_seen`, when given). */
static void evaluate(const float *U, const float *V, uint32_t n_users, uint32_t n_items,
                     const negs_csr *train, const negs_csr *also_seen, const pair *test,
                     size_t n_test, double *recall, double *ndcg)
{
    float *score = malloc(n_items * sizeof *score);
    char *is_test = calloc(n_items, 1);
    double r_sum = 0, n_sum = 0;
    size_t users = 0, t = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        size_t t0 = t;
        while (t < n_test && test[t].user == u) is_test[test[t++].item] = 1;
        size_t n_rel = t - t0;
        if (n_rel == 0) continue;
        for (uint32_t i = 0; i < n_items; i++)
            score[i] = negs_csr_contains(train, u, i) ||
                               (also_seen && negs_csr_contains(also_seen, u, i) == 1)
                           ? -INFINITY
                           : dot(U + u * DIM, V + i * DIM);
        double hits = 0, dcg = 0, idcg = 0;
        for (int r = 0; r < TOPK; r++) { /* selection of the top 10 */
            uint32_t best = 0;
            for (uint32_t i = 1; i < n_items; i++)
                if (score[i] > score[best]) best = i;
            if (is_test[best]) {
                hits += 1;
                dcg += 1.0 / log2(r + 2.0);
            }
            if ((size_t)r < n_rel) idcg += 1.0 / log2(r + 2.0);
            score[best] = -INFINITY;
        }
        r_sum += hits / (double)n_rel;
        n_sum += dcg / idcg;
        users++;
        for (size_t k = t0; k < t; k++) is_test[test[k].item] = 0;
    }
    *recall = r_sum / (double)users;
    *ndcg = n_sum / (double)users;
    free(score);
    free(is_test);
}

static int fail(const char *what)
{
    fprintf(stderr, "demo_trainer: %s: %s\n", what, negs_last_error());
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "../shared/data/ml-100k/ml-100k.inter";
    int epochs = argc > 2 ? atoi(argv[2]) : 40;
    size_t n;
    uint32_t n_users, n_items;
    pair *all = read_inter(path, &n, &n_users, &n_items);
    if (!all || n == 0) {
        fprintf(stderr, "demo_trainer: cannot read %s (see ../shared/data/README.md)\n", path);
        return 1;
    }
    /* Per-user 80/20 split: shuffle, group by user (stable order within a user is random). */
    shuffle(all, n);
    qsort(all, n, sizeof *all, by_user);
    pair *train = malloc(n * sizeof *train), *valid = malloc(n * sizeof *valid),
         *test = malloc(n * sizeof *test);
    size_t n_train = 0, n_valid = 0, n_test = 0;
    uint64_t *indptr = calloc((size_t)n_users + 1, sizeof *indptr);
    uint64_t *vindptr = calloc((size_t)n_users + 1, sizeof *vindptr);
    uint32_t *indices = malloc(n * sizeof *indices), *vindices = malloc(n * sizeof *vindices);
    for (size_t b = 0; b < n;) {
        size_t e = b;
        while (e < n && all[e].user == all[b].user) e++;
        size_t cut1 = b + (size_t)((double)(e - b) * 0.8 + 0.5);
        size_t cut2 = cut1 + (size_t)((double)(e - b) * 0.1 + 0.5);
        for (size_t k = b; k < e; k++) {
            if (k < cut1) {
                indices[n_train] = all[k].item;
                train[n_train++] = all[k];
                indptr[all[k].user + 1]++;
            } else if (k < cut2) {
                vindices[n_valid] = all[k].item;
                valid[n_valid++] = all[k];
                vindptr[all[k].user + 1]++;
            } else {
                test[n_test++] = all[k];
            }
        }
        b = e;
    }
    for (uint32_t u = 0; u < n_users; u++) {
        indptr[u + 1] += indptr[u];
        vindptr[u + 1] += vindptr[u];
    }
    negs_csr *known = negs_csr_create(n_users, n_items, indptr, indices);
    negs_csr *valid_seen = negs_csr_create(n_users, n_items, vindptr, vindices);
    if (!known || !valid_seen) return fail("negs_csr_create");
    printf("MovieLens-100K: %u users, %u items, %zu train / %zu valid / %zu test interactions\n",
           n_users - 1, n_items - 1, n_train, n_valid, n_test);

    /* Uniform over the ids that are real items: a popularity sampler at alpha 0 draws
     * uniformly among the items of non-zero weight (ids start at 1, and some are unused). */
    double *exists = calloc(n_items, sizeof *exists);
    for (size_t k = 0; k < n; k++) exists[all[k].item] = 1.0;
    negs_sampler *sampler = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n_items, 7);
    if (!sampler) return fail("negs_sampler_create");
    if (negs_sampler_set_param(sampler, NEGS_SP_ALPHA, 0.0) ||
        negs_sampler_set_weights(sampler, exists, n_items) ||
        negs_sampler_set_positives(sampler, known))
        return fail("sampler setup");
    free(exists);
    negs_loss *bpr = negs_loss_create(NEGS_LOSS_BPR);
    if (!bpr) return fail("negs_loss_create");

    param U, V;
    param_init(&U, (size_t)n_users * DIM);
    param_init(&V, (size_t)n_items * DIM);
    float *gU = calloc(U.n, sizeof *gU), *gV = calloc(V.n, sizeof *gV);
    uint32_t users[BATCH], pos[BATCH], neg[BATCH];
    float s_pos[BATCH], s_neg[BATCH], d_pos[BATCH], d_neg[BATCH], loss;
    long step = 0;
    double best_valid = -1, best_recall = 0, best_ndcg = 0;
    int best_epoch = 0;
    for (int epoch = 1; epoch <= epochs; epoch++) {
        shuffle(train, n_train);
        double epoch_loss = 0;
        size_t batches = 0;
        for (size_t b = 0; b < n_train; b += BATCH) {
            size_t m = n_train - b < BATCH ? n_train - b : BATCH;
            for (size_t r = 0; r < m; r++) {
                users[r] = train[b + r].user;
                pos[r] = train[b + r].item;
            }
            step++;
            if (negs_sampler_sample(sampler, (uint64_t)step, m, users, pos, 1, neg, NULL) < 0)
                return fail("negs_sampler_sample");
            for (size_t r = 0; r < m; r++) {
                s_pos[r] = dot(U.w + users[r] * DIM, V.w + pos[r] * DIM);
                s_neg[r] = dot(U.w + users[r] * DIM, V.w + neg[r] * DIM);
            }
            if (negs_loss_scores(bpr, m, 1, s_pos, s_neg, NULL, NULL, &loss, d_pos, d_neg))
                return fail("negs_loss_scores");
            for (size_t r = 0; r < m; r++) {
                float *u = U.w + users[r] * DIM, *vp = V.w + pos[r] * DIM, *vn = V.w + neg[r] * DIM;
                float *gu = gU + users[r] * DIM, *gp = gV + pos[r] * DIM, *gn = gV + neg[r] * DIM;
                for (int d = 0; d < DIM; d++) {
                    gu[d] += d_pos[r] * vp[d] + d_neg[r] * vn[d];
                    gp[d] += d_pos[r] * u[d];
                    gn[d] += d_neg[r] * u[d];
                }
            }
            adam_step(&U, gU, step, 2e-3f);
            adam_step(&V, gV, step, 2e-3f);
            epoch_loss += loss;
            batches++;
        }
        if (epoch % 5 == 0 || epoch == epochs) {
            double v_recall, v_ndcg, recall, ndcg;
            evaluate(U.w, V.w, n_users, n_items, known, NULL, valid, n_valid, &v_recall, &v_ndcg);
            evaluate(U.w, V.w, n_users, n_items, known, valid_seen, test, n_test, &recall, &ndcg);
            printf("epoch %3d  BPR loss %.4f  valid NDCG@10 %.4f  test Recall@10 %.4f NDCG@10 %.4f\n",
                   epoch, epoch_loss / (double)batches, v_ndcg, recall, ndcg);
            if (v_ndcg > best_valid) {
                best_valid = v_ndcg, best_recall = recall, best_ndcg = ndcg, best_epoch = epoch;
            }
        }
    }
    printf("best valid epoch %d: test Recall@10 %.4f, NDCG@10 %.4f "
           "(RecBole's BPR on ml-100k, same protocol: Recall@10 0.2368, NDCG@10 0.2768)\n",
           best_epoch, best_recall, best_ndcg);
    negs_sampler_free(sampler);
    negs_loss_free(bpr);
    negs_csr_free(known);
    negs_csr_free(valid_seen);
    free(all), free(train), free(valid), free(test), free(indptr), free(indices);
    free(vindptr), free(vindices);
    free(U.w), free(U.m), free(U.v), free(V.w), free(V.m), free(V.v), free(gU), free(gV);
    return 0;
}
