/* NEGS_PRECISION_BF16 for the in-batch softmax: the rows the products read, rounded to bf16
 * into a buffer of the workspace, and the native kernel's three products on them. On the
 * portable path the fp32 kernels multiply the rounded rows (held as float) and G, rounded in
 * place once its row is complete (inbatch.c, phase B); with a native kernel (AVX512-BF16) the
 * rows are rounded straight into their bf16 pair layouts once per call (no float copy) and
 * each row of G is made, rounded and paired in one pass from its exponentials. The rounding
 * is the same integer arithmetic on both, so both multiply the same values (kernels_bf16.h). */
#include "core/alloc.h"
#include "core/errors.h"
#include "inbatch.h"
#include "kernels/kernels.h"
#include "kernels/kernels_bf16.h"

#define R NEGS_IB_ROWS
#define C NEGS_IB_COLS

_Static_assert(NEGS_BF16_TILE == NEGS_IB_COLS, "g_pairs' factors are per column tile");

static int rounds_to_inf(const char *fn, const char *side, const float *x, size_t at,
                         size_t dim)
{
    return negs_fail(NEGS_E_INVALID, "%s: %s row %zu, entry %zu = %g rounds to Inf in bf16 "
                     "(NEGS_LP_PRECISION = NEGS_PRECISION_BF16 needs |x| below 3.3961e38)",
                     fn, side, at / dim, at % dim, (double)x[at]);
}

/* *off += count (4-byte units) rounded up to 16 (64 bytes); *at = the old *off. */
static int carve(size_t *off, size_t *at, size_t count)
{
    size_t x;
    if (negs_size_add(count, 15, &x, "negs_loss_inbatch: bf16 workspace") ||
        negs_size_add(*off, x / 16 * 16, &x, "negs_loss_inbatch: bf16 workspace"))
        return NEGS_E_INVALID;
    *at = *off;
    *off = x;
    return NEGS_OK;
}

int negs_ib_bf16_prepare(negs_loss *l, const char *fn, const float *u, size_t b, const float *v,
                         size_t n, size_t npad, size_t dim, size_t group, size_t ldg,
                         negs_ib_bf16 *bf)
{
    negs_ib_ws *w = l->ws; /* made by negs_ib_ws_reserve */
    bf->hw = negs_bf16_kernels_select(negs_loss_isa(l));
    bf->dim = dim;
    bf->kp = (dim + 1) / 2;
    bf->n = n;
    bf->ldg = ldg;
    /* no overflow in the products: the call's padded sizes times dim * 4 are checked. The
     * portable path multiplies the rounded rows as floats; the native one only their bf16
     * layouts (the row pairs round each entry once, the panels are made from them) */
    size_t nu = b * dim, nv = n * dim, kp = bf->kp, off = 0, ru = 0, rv = 0, upan = 0, vpan = 0;
    size_t upair = 0, vpair = 0, grow = 0, gcol = 0;
    int st = NEGS_OK;
    if (!bf->hw) {
        st = carve(&off, &ru, nu);
        if (!st) st = carve(&off, &rv, nv);
    } else {
        size_t urows = (b + NEGS_BF16_MR - 1) / NEGS_BF16_MR * NEGS_BF16_MR;
        st = carve(&off, &upan, urows * kp);
        if (!st) st = carve(&off, &vpan, npad * kp);
        if (!st) st = carve(&off, &upair, (b + 1) / 2 * dim);
        if (!st) st = carve(&off, &vpair, (n + 1) / 2 * dim);
        /* G's pairs: group rows of ldg / 2 (along columns) and group / 2 rows of ldg (across
         * rows); no overflow: the group buffer of group x ldg floats is already carved */
        if (!st) st = carve(&off, &grow, group * (ldg / 2));
        if (!st) st = carve(&off, &gcol, (group + 1) / 2 * ldg);
    }
    if (st) return st;
    if (off > w->bf16_cap) {
        float *p = negs_alloc_aligned(off, sizeof *p, "in-batch bf16 rows");
        if (!p) return NEGS_E_NOMEM;
        negs_free_aligned(w->bf16);
        w->bf16 = p;
        w->bf16_cap = off;
    }
    bf->ru = bf->rv = NULL;
    bf->upan = bf->vpan = bf->upair = bf->vpair = NULL;
    bf->grow = bf->gcol = NULL;
    if (!bf->hw) {
        float *xu = w->bf16 + ru, *xv = w->bf16 + rv;
        size_t at = negs_bf16_round_array(u, nu, xu);
        if (at < nu) return rounds_to_inf(fn, "u", u, at, dim);
        at = negs_bf16_round_array(v, nv, xv);
        if (at < nv) return rounds_to_inf(fn, "v", v, at, dim);
        bf->ru = xu;
        bf->rv = xv;
        return NEGS_OK;
    }
    uint32_t *base = (uint32_t *)(void *)w->bf16;
    size_t at = bf->hw->row_pairs(u, b, dim, base + upair); /* u, v are checked finite */
    if (at < nu) return rounds_to_inf(fn, "u", u, at, dim);
    at = bf->hw->row_pairs(v, n, dim, base + vpair);
    if (at < nv) return rounds_to_inf(fn, "v", v, at, dim);
    negs_bf16_row_panels(base + upair, b, dim, base + upan);
    negs_bf16_col_panels(base + vpair, n, dim, npad / NEGS_KN_NR, base + vpan);
    bf->upan = base + upan;
    bf->vpan = base + vpan;
    bf->upair = base + upair;
    bf->vpair = base + vpair;
    bf->grow = base + grow;
    bf->gcol = base + gcol;
    return NEGS_OK;
}

void negs_ib_bf16_scores(const negs_ib_bf16 *bf, size_t i0, size_t rn, size_t c0, size_t cw,
                         float *s, size_t lds)
{
    bf->hw->scores(bf->upan + i0 * bf->kp, (rn + NEGS_BF16_MR - 1) / NEGS_BF16_MR,
                   bf->vpan + c0 * bf->kp, cw / NEGS_KN_NR, bf->kp, s, lds);
}

void negs_ib_bf16_pair_g(const negs_ib_bf16 *bf, const float *g, size_t r, size_t rn,
                         const float *s, size_t lds, size_t g0, const float *tg, int set,
                         size_t npad, int du, int dv)
{
    size_t ldg = bf->ldg;
    negs_bf16_grow row[2];
    for (size_t k = 0; k < rn; k++) {
        row[k].e = g + (r + k) * ldg;
        row[k].s = s + (r + k) * lds;
        row[k].tc = g0 + r + k;
        row[k].ta = tg[k];
        row[k].row = du ? bf->grow + (r + k) * (ldg / 2) : NULL;
    }
    bf->hw->g_pairs(&row[0], rn > 1 ? &row[1] : NULL, set, npad,
                    dv ? bf->gcol + r / 2 * ldg : NULL);
}

void negs_ib_bf16_du(const negs_ib_bf16 *bf, float *du, size_t r0, size_t rn)
{
    /* the columns in chunks whose pairs of v rows stay in L2 across the row blocks; each
     * entry is still one chain over the pairs in order */
    size_t dim = bf->dim, fit = NEGS_IB_L2_BYTES / (8 * dim) * 2;
    size_t chunk = fit < NEGS_IB_COLS ? NEGS_IB_COLS : fit / NEGS_IB_COLS * NEGS_IB_COLS;
    const uint32_t *w = bf->grow + r0 * (bf->ldg / 2);
    for (size_t j0 = 0; j0 < bf->n; j0 += chunk) {
        size_t cn = bf->n - j0 < chunk ? bf->n - j0 : chunk; /* an odd last cn meets the zero
                                                               * row of v's pairs */
        bf->hw->accum(du, dim, rn, w + j0 / 2, bf->ldg / 2, 1, bf->vpair + j0 / 2 * dim,
                      (cn + 1) / 2, dim);
    }
}

void negs_ib_bf16_dv(const negs_ib_bf16 *bf, float *dv, size_t j0, size_t cn, size_t i0,
                     size_t gn)
{
    size_t dim = bf->dim;
    bf->hw->accum(dv + j0 * dim, dim, cn, bf->gcol + j0, 1, bf->ldg, bf->upair + i0 / 2 * dim,
                  (gn + 1) / 2, dim);
}
