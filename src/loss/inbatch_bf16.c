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
                         size_t n, size_t npad, size_t dim, size_t ldg, negs_ib_bf16 *bf)
{
    negs_ib_ws *w = l->ws; /* made by negs_ib_ws_reserve */
    bf->hw = negs_bf16_kernels_select(negs_loss_isa(l));
    bf->scale_round = negs_bf16_scale_round_select(negs_loss_isa(l));
    bf->dim = dim;
    bf->kp = (dim + 1) / 2;
    bf->n = n;
    bf->ldg = ldg;
    /* no overflow in the products: the call's padded sizes times dim * 4 are checked. The
     * portable path multiplies the rounded rows as floats; the native one only their bf16
     * layouts (the row pairs round each entry once, the panels are made from them) */
    size_t nu = b * dim, nv = n * dim, kp = bf->kp, off = 0, ru = 0, rv = 0, upan = 0, vpan = 0;
    size_t upair = 0, vpair = 0;
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
    if (!bf->hw) {
        float *xu = w->bf16 + ru, *xv = w->bf16 + rv;
        negs_bf16_round_array_fn round = negs_bf16_round_array_select(negs_loss_isa(l));
        size_t at = round(u, nu, xu); /* u, v are checked finite */
        if (at < nu) return rounds_to_inf(fn, "u", u, at, dim);
        at = round(v, nv, xv);
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
    return NEGS_OK;
}

void negs_ib_bf16_round_g(const negs_ib_bf16 *bf, float *g, const float *al, double w,
                          size_t i, float tg, int set, size_t npad)
{
    size_t ti = i / C;
    float si = (float)(w * (double)al[ti]), e = g[i]; /* the target's, before its rounding */
    for (size_t c0 = 0, t = 0; c0 < npad; c0 += C, t++)
        bf->scale_round(g + c0, npad - c0 < C ? npad - c0 : C, (float)(w * (double)al[t]));
    float x = e * si; /* as scale, then the target's sum: two roundings */
    g[i] = set ? tg : x + tg;
    negs_bf16_round_tile(g + i, 1, 1, 1);
}

void negs_ib_bf16_scores(const negs_ib_bf16 *bf, size_t i0, size_t rn, size_t c0, size_t cw,
                         float *s, size_t lds)
{
    bf->hw->scores(bf->upan + i0 * bf->kp, (rn + NEGS_BF16_MR - 1) / NEGS_BF16_MR,
                   bf->vpan + c0 * bf->kp, cw / NEGS_KN_NR, bf->kp, s, lds);
}

void negs_ib_bf16_pair_g(const negs_ib_bf16 *bf, float *g, size_t r, size_t rn,
                         const float *s, size_t lds, size_t g0, const float *tg, int set,
                         size_t npad, int du, int dv)
{
    negs_bf16_grow row[2];
    for (size_t k = 0; k < 2; k++) { /* the row past an odd end: storage only */
        row[k].e = g + (r + k) * bf->ldg;
        row[k].s = k < rn ? s + (r + k) * lds : NULL;
        row[k].tc = g0 + r + k;
        row[k].ta = tg[k];
    }
    bf->hw->g_pairs(&row[0], &row[1], set, npad, du, dv);
}

/* Row pointers handed to the accum kernel at a time (a multiple of its blocks' rows). */
#define PTRS 96

void negs_ib_bf16_du(const negs_ib_bf16 *bf, const float *g, float *du, size_t r0, size_t rn)
{
    /* the columns in chunks whose pairs of v rows stay in L2 across the row blocks; each
     * entry is still one chain over the pairs in order. Row i's weights: its pairs in place,
     * from the chunk's first (j0 a multiple of 32: slot j0) */
    size_t dim = bf->dim, fit = NEGS_IB_L2_BYTES / (8 * dim) * 2;
    size_t chunk = fit < NEGS_IB_COLS ? NEGS_IB_COLS : fit / NEGS_IB_COLS * NEGS_IB_COLS;
    const uint32_t *w[PTRS];
    for (size_t i0 = 0; i0 < rn; i0 += PTRS) {
        size_t ni = rn - i0 < PTRS ? rn - i0 : PTRS;
        for (size_t j0 = 0; j0 < bf->n; j0 += chunk) {
            size_t cn = bf->n - j0 < chunk ? bf->n - j0 : chunk; /* an odd last cn meets the
                                                                   * zero row of v's pairs */
            for (size_t i = 0; i < ni; i++)
                w[i] = (const uint32_t *)(const void *)(g + (r0 + i0 + i) * bf->ldg) + j0;
            bf->hw->accum(du + i0 * dim, dim, ni, w, 0, bf->vpair + j0 / 2 * dim, (cn + 1) / 2,
                          dim);
        }
    }
}

void negs_ib_bf16_dv(const negs_ib_bf16 *bf, const float *g, float *dv, size_t j0, size_t cn,
                     size_t i0, size_t gn)
{
    /* column j's weights: the pairs across rows 2t, 2t + 1, two rows of the buffer apart */
    size_t dim = bf->dim, ldg = bf->ldg;
    const uint32_t *base = (const uint32_t *)(const void *)g, *w[PTRS];
    for (size_t c = 0; c < cn; c += PTRS) {
        size_t ni = cn - c < PTRS ? cn - c : PTRS;
        for (size_t i = 0; i < ni; i++) w[i] = base + negs_bf16_col_slot(j0 + c + i, ldg);
        bf->hw->accum(dv + (j0 + c) * dim, dim, ni, w, 2 * ldg, bf->upair + i0 / 2 * dim,
                      (gn + 1) / 2, dim);
    }
}
