/* Full-ranking evaluation (RecBole's "full" mode): for every user with target items, score every
 * item, drop the ones the user is known to have (train, and valid when testing), take the top
 * 10; Recall@10 = hits / targets, NDCG@10 = DCG / ideal DCG. Users are split over threads; each
 * user's figures land in its own slot and are summed in user order, so the result does not
 * depend on the thread count. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "demo.h"

#define USER_BLOCK 16  /* users scored together: each item row is loaded once per block */
#define ITEM_TILE 256  /* items per tile: the tile's rows stay in L1 while the block uses them */

typedef struct {
    const model *mo;
    const dataset *d;
    const negs_csr *target, *seen, *also;
    const uint8_t *only; /* NULL, or 1 for the users to evaluate */
    double *per_user; /* 4 per user: recall, ndcg, random recall, random ndcg; NAN = skipped */
    uint32_t first, stride; /* this thread's blocks: first, first + stride, ... */
} job;

static double discount(int rank) { return 1.0 / log2(rank + 2.0); }

/* scores[b][i] = user rows[b] . item i, for nb <= USER_BLOCK users; an AVX2 clone is picked at
 * load time on CPUs that have it (same sums in the same order: the results do not change). */
__attribute__((target_clones("avx2", "default"))) static void
score_block(const float *U, const uint32_t *users, int nb, const float *V, uint32_t n_items,
            float *scores)
{
    for (uint32_t i0 = 0; i0 < n_items; i0 += ITEM_TILE) {
        uint32_t i1 = i0 + ITEM_TILE < n_items ? i0 + ITEM_TILE : n_items;
        for (int b = 0; b < nb; b++) {
            const float *u = U + (size_t)users[b] * DIM;
            float *out = scores + (size_t)b * n_items;
            for (uint32_t i = i0; i < i1; i++) out[i] = dot64(u, V + (size_t)i * DIM);
        }
    }
}

static void rank_user(const job *j, uint32_t u, float *score, char *is_target)
{
    double *out = j->per_user + 4 * (size_t)u;
    const uint32_t *t;
    size_t n_t;
    if (negs_csr_row_items(j->target, u, &t, &n_t) || n_t == 0) return;
    uint32_t n_items = j->d->n_items;
    size_t excluded = 0;
    const negs_csr *ex[2] = {j->seen, j->also};
    for (int e = 0; e < 2; e++) {
        const uint32_t *row;
        size_t len;
        if (!ex[e] || negs_csr_row_items(ex[e], u, &row, &len)) continue;
        for (size_t k = 0; k < len; k++) {
            excluded += score[row[k]] != -INFINITY;
            score[row[k]] = -INFINITY;
        }
    }
    size_t n_rel = 0;
    for (size_t k = 0; k < n_t; k++) {
        n_rel += !is_target[t[k]] && score[t[k]] != -INFINITY;
        is_target[t[k]] = 1;
    }
    /* the top 10 by insertion into a sorted list */
    float top_s[TOPK];
    uint32_t top_i[TOPK];
    int n_top = 0;
    for (uint32_t i = 0; i < n_items; i++) {
        float s = score[i];
        if (s == -INFINITY || (n_top == TOPK && s <= top_s[TOPK - 1])) continue;
        int p = n_top < TOPK ? n_top++ : TOPK - 1;
        while (p > 0 && top_s[p - 1] < s) {
            top_s[p] = top_s[p - 1], top_i[p] = top_i[p - 1];
            p--;
        }
        top_s[p] = s, top_i[p] = i;
    }
    double hits = 0, dcg = 0, idcg = 0, disc_sum = 0;
    for (int r = 0; r < n_top; r++) {
        if (is_target[top_i[r]]) hits += 1, dcg += discount(r);
        disc_sum += discount(r);
    }
    for (int r = 0; r < TOPK && (size_t)r < n_rel; r++) idcg += discount(r);
    for (size_t k = 0; k < n_t; k++) is_target[t[k]] = 0;
    if (n_rel == 0) return;
    double cand = (double)(n_items - excluded); /* a random ranking: each slot hits n_rel/cand */
    out[0] = hits / (double)n_rel;
    out[1] = dcg / idcg;
    out[2] = (double)n_top / cand;
    out[3] = disc_sum * ((double)n_rel / cand) / idcg;
}

static int wanted(const job *j, uint32_t u)
{
    size_t len;
    const uint32_t *row;
    return (!j->only || j->only[u]) && negs_csr_row_items(j->target, u, &row, &len) == 0 && len;
}

static void *run(void *arg)
{
    const job *j = arg;
    uint32_t n_users = j->d->n_users, n_items = j->d->n_items;
    float *scores = malloc((size_t)USER_BLOCK * n_items * sizeof *scores);
    char *is_target = calloc(n_items, 1);
    for (uint32_t u0 = j->first * USER_BLOCK; u0 < n_users; u0 += j->stride * USER_BLOCK) {
        uint32_t users[USER_BLOCK];
        int nb = 0;
        for (uint32_t u = u0; u < n_users && u < u0 + USER_BLOCK; u++) {
            j->per_user[4 * (size_t)u] = NAN;
            if (!scores || !is_target) j->per_user[4 * (size_t)u] = -1; /* out of memory */
            else if (wanted(j, u)) users[nb++] = u;
        }
        if (!nb) continue;
        score_block(j->mo->user.w, users, nb, j->mo->item.w, n_items, scores);
        for (int b = 0; b < nb; b++)
            rank_user(j, users[b], scores + (size_t)b * n_items, is_target);
    }
    free(scores);
    free(is_target);
    return NULL;
}

int evaluate(const model *mo, const dataset *d, const negs_csr *target, const negs_csr *seen,
             const negs_csr *also, const uint8_t *only, int threads, metrics *out)
{
    double *per_user = malloc((size_t)d->n_users * 4 * sizeof *per_user);
    job jobs[64];
    pthread_t tid[64];
    if (!per_user) return -1;
    if (threads < 1) threads = 1;
    if (threads > 64) threads = 64;
    int joined[64] = {0};
    for (int t = 0; t < threads; t++)
        jobs[t] = (job){mo, d, target, seen, also, only, per_user, (uint32_t)t, (uint32_t)threads};
    for (int t = 1; t < threads; t++) /* a thread that cannot start runs here instead */
        if (pthread_create(&tid[t], NULL, run, &jobs[t]) == 0) joined[t] = 1;
        else run(&jobs[t]);
    run(&jobs[0]);
    for (int t = 1; t < threads; t++)
        if (joined[t]) pthread_join(tid[t], NULL);
    double s[4] = {0};
    size_t users = 0;
    int rc = 0;
    for (uint32_t u = 0; u < d->n_users; u++) {
        const double *p = per_user + 4 * (size_t)u;
        if (p[0] == -1) rc = -1;
        if (isnan(p[0]) || p[0] < 0) continue;
        for (int k = 0; k < 4; k++) s[k] += p[k];
        users++;
    }
    free(per_user);
    double n = users ? (double)users : 1.0;
    *out = (metrics){s[0] / n, s[1] / n, s[2] / n, s[3] / n};
    return rc;
}
