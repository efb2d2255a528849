/* Matrix factorisation: a user table and an item table of DIM floats per row, Adam on the
 * host (the library never owns the model). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

static int table_init(table *t, size_t rows, host_rng *r)
{
    t->rows = rows;
    size_t n = rows * DIM;
    t->w = malloc(n * sizeof *t->w);
    t->m = calloc(n, sizeof *t->m);
    t->v = calloc(n, sizeof *t->v);
    t->g = calloc(n, sizeof *t->g);
    if (!t->w || !t->m || !t->v || !t->g) return -1;
    /* xavier_normal_ on a rows x DIM embedding, as RecBole initialises it */
    double sd = sqrt(2.0 / ((double)rows + DIM));
    for (size_t i = 0; i < n; i++) t->w[i] = (float)(sd * rng_normal(r));
    return 0;
}

static void table_free(table *t)
{
    free(t->w), free(t->m), free(t->v), free(t->g);
    memset(t, 0, sizeof *t);
}

int model_init(model *mo, uint32_t n_users, uint32_t n_items, host_rng *r)
{
    memset(mo, 0, sizeof *mo);
    if (table_init(&mo->user, n_users, r) || table_init(&mo->item, n_items, r)) {
        model_free(mo);
        return -1;
    }
    return 0;
}

void model_free(model *mo)
{
    table_free(&mo->user);
    table_free(&mo->item);
}

static void table_adam(table *t, float lr, float c1, float c2)
{
    const float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
    float *restrict w = t->w, *restrict m = t->m, *restrict v = t->v, *restrict g = t->g;
    size_t n = t->rows * DIM;
    for (size_t row = 0; row < n; row += DIM) {
        int live = 0; /* a row that has never had a gradient keeps zero moments: skip it */
        for (int d = 0; d < DIM; d++) live |= (g[row + d] != 0.0f) | (m[row + d] != 0.0f);
        if (!live) continue;
        for (int d = 0; d < DIM; d++) {
            size_t i = row + (size_t)d;
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            w[i] -= lr * (m[i] / c1) / (sqrtf(v[i] / c2) + eps);
            g[i] = 0.0f;
        }
    }
}

void model_adam(model *mo, float lr)
{
    mo->t++;
    float c1 = 1.0f - powf(0.9f, (float)mo->t), c2 = 1.0f - powf(0.999f, (float)mo->t);
    table_adam(&mo->user, lr, c1, c2);
    table_adam(&mo->item, lr, c1, c2);
}

void model_copy(model *dst, const model *src)
{
    memcpy(dst->user.w, src->user.w, src->user.rows * DIM * sizeof *dst->user.w);
    memcpy(dst->item.w, src->item.w, src->item.rows * DIM * sizeof *dst->item.w);
}

void table_l2(table *t, const uint32_t *rows, size_t n, float l2)
{
    if (l2 == 0.0f) return;
    for (size_t k = 0; k < n; k++) {
        const float *w = t->w + (size_t)rows[k] * DIM;
        float *g = t->g + (size_t)rows[k] * DIM;
        for (int d = 0; d < DIM; d++) g[d] += l2 * w[d];
    }
}
