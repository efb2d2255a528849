/* The "cross-batch" strategy (CBNS, Wang et al. SIGIR 2021): the in-batch softmax with logQ,
 * plus the item embeddings of the last few batches, kept in a negs_xbm, as extra columns.
 * The memory's rows are constants: their gradient is dropped, only the batch's rows learn. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

struct xbm_state {
    negs_xbm *mem;
    size_t rows; /* batch + capacity: the columns of the widest step */
    float *u, *v, *du, *dv, *logq;
    uint32_t *ids;
};

void xbm_state_free(xbm_state *x)
{
    if (!x) return;
    negs_xbm_free(x->mem);
    free(x->u), free(x->v), free(x->du), free(x->dv), free(x->logq), free(x->ids);
    free(x);
}

xbm_state *xbm_state_create(const strategy_def *def, char *err, size_t err_len)
{
    xbm_state *x = calloc(1, sizeof *x);
    size_t batch = (size_t)def->batch, cap = (size_t)def->extra;
    if (!x) goto nomem;
    x->rows = batch + cap;
    x->u = malloc(batch * DIM * sizeof(float));
    x->du = malloc(batch * DIM * sizeof(float));
    x->v = malloc(x->rows * DIM * sizeof(float));
    x->dv = malloc(x->rows * DIM * sizeof(float));
    x->logq = malloc(x->rows * sizeof(float));
    x->ids = malloc(x->rows * sizeof(uint32_t));
    if (!x->u || !x->du || !x->v || !x->dv || !x->logq || !x->ids) goto nomem;
    x->mem = negs_xbm_create(cap, DIM);
    /* Entries live as long as the batches the capacity holds: a few steps of model drift. */
    if (!x->mem || negs_xbm_set_param(x->mem, NEGS_XP_MAX_AGE, (double)((cap + batch - 1) / batch))) {
        snprintf(err, err_len, "negs_xbm: %s", negs_last_error());
        xbm_state_free(x);
        return NULL;
    }
    return x;
nomem:
    snprintf(err, err_len, "out of memory");
    xbm_state_free(x);
    return NULL;
}

int xbm_step(xbm_state *x, negs_loss *loss, negs_freq *freq, model *mo, uint64_t step,
             const uint32_t *users, const uint32_t *items, size_t n, float *loss_out, char *err,
             size_t err_len)
{
    for (size_t r = 0; r < n; r++) {
        memcpy(x->u + r * DIM, mo->user.w + (size_t)users[r] * DIM, DIM * sizeof(float));
        memcpy(x->v + r * DIM, mo->item.w + (size_t)items[r] * DIM, DIM * sizeof(float));
        x->ids[r] = items[r];
    }
    const char *what = "negs_freq_update_logq_u32";
    if (negs_freq_update_logq_u32(freq, step, items, n, x->logq)) goto fail;
    what = "negs_xbm_layout"; /* the memory of earlier steps only: this batch is not in it yet */
    int m = negs_xbm_layout(x->mem, step, n, DIM, x->rows, x->v, x->logq, x->ids, NULL, NULL);
    if (m < 0) goto fail;
    what = "negs_loss_inbatch";
    if (negs_loss_inbatch(loss, n, (size_t)m, DIM, x->u, x->v, x->logq, x->ids, users, loss_out,
                          x->du, x->dv))
        goto fail;
    for (size_t r = 0; r < n; r++) { /* rows n .. n+m-1 of dv (the memory) are dropped */
        float *gu = mo->user.g + (size_t)users[r] * DIM, *gi = mo->item.g + (size_t)items[r] * DIM;
        for (int d = 0; d < DIM; d++) {
            gu[d] += x->du[r * DIM + d];
            gi[d] += x->dv[r * DIM + d];
        }
    }
    what = "negs_xbm_push"; /* the batch's rows and log q as they were at this step */
    if (negs_xbm_push(x->mem, step, n, DIM, x->v, x->ids, x->logq)) goto fail;
    return 0;
fail:
    snprintf(err, err_len, "%s: %s", what, negs_last_error());
    return -1;
}
