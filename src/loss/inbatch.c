/* negs_loss_inbatch: the fused in-batch (mixed negative) softmax over b queries and b + m
 * candidates. It never forms the b x (b + m) logits:
 * - pass 1, over fixed blocks of 48 rows: stream 128-column tiles of scores through an online
 *   log-sum-exp (running max and sum per row, as FlashAttention does) and accumulate the
 *   unnormalised sum_j exp(z_ij - max_i) v_j into du, rescaled when the max moves; at the
 *   end of the row this gives the loss and du = coef (P V / l - v_i);
 * - pass 2, over fixed blocks of 128 columns: recompute the tiles of every row block in
 *   order, form g_ij = coef (p_ij - [i == j]) and accumulate dv_j += sum_i g_ij u_i.
 * Each output element belongs to one block and is computed in a fixed order, so the result
 * is bit-identical for any thread count. Memory: packed copies of u and v and O(b + m)
 * per-row and per-column arrays, plus one 48 x 128 tile per thread (see docs/inbatch.md). */
#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "core/alloc.h"
#include "core/csr.h"
#include "core/errors.h"
#include "inbatch.h"
#include "inbatch_debias.h"
#include "inbatch_telemetry.h"
#include "kernels/kernels.h"

#define R NEGS_IB_ROWS
#define C NEGS_IB_COLS

typedef struct ib_ctx {
    const negs_kernels *k;
    size_t b, n, npad, dim, mr;
    const float *u, *v;
    const float *up, *vp, *lq; /* packed u, packed v, logq (+inf on padding columns) */
    float inv_t, coef;         /* 1 / temperature; reduction scale / temperature */
    float *rowm, *roww;        /* per row: final max, coef / sum */
    double *rowloss;           /* per row loss */
    float *rowt;               /* debiased (tau+ > 0): per row, the target's gradient weight;
                                * NULL for the plain softmax */
    double tau, lfloor;        /* debiased: tau+ and the log of the estimator's floor, -1/T */
    size_t tel_t;              /* telemetry: heap size per row, 0 = off */
    uint32_t *tel_cols;        /* row i's heap at [i * tel_t, ...) */
    float *tel_logits;
    float *du, *dv;
    float *scratch;      /* `slots` tiles of R x C */
    atomic_flag *busy;   /* per tile: taken by a running part */
    size_t slots;        /* the thread count: at most that many parts run at once */
    const negs_ib_masks *mk; /* NULL: nothing is masked */
    const negs_ib_bf16 *bf;  /* NEGS_PRECISION_BF16's products (inbatch_bf16.c); NULL: fp32 */
    size_t g1, g2;           /* row blocks per pass-1 part, column blocks per pass-2 part */
    size_t cchunk, rchunk;   /* columns (pass 1) and rows (pass 2) swept per L2 chunk */
} ib_ctx;

static size_t pad_to(size_t x, size_t a)
{
    return (x + a - 1) / a * a;
}

/* The logits of row i over columns [c0, c0 + cw) in z, masks applied; returns their max. */
static float row_logits(const ib_ctx *c, size_t i, size_t c0, size_t cw, float *z)
{
    uint32_t local[4];
    const uint32_t *bits = c->mk ? negs_ib_tile_bits(c->mk, i, c0, cw, local) : NULL;
    if (bits) return c->k->logits_mask(z, cw, c->inv_t, c->lq + c0, bits);
    return c->k->logits(z, cw, c->inv_t, c->lq + c0);
}

/* One 128-column tile of a row block: scores, logits, online log-sum-exp, du accumulation.
 * mrow, lsum, zt hold the block's rows' running state. */
static void pass1_tile(const ib_ctx *c, size_t i0, size_t rn, size_t c0, float *s, float *mrow,
                       double *lsum, float *zt, uint32_t *live)
{
    const negs_kernels *k = c->k;
    size_t dim = c->dim, cw = c->npad - c0 < C ? c->npad - c0 : C;
    if (c->bf && c->bf->hw) negs_ib_bf16_scores(c->bf, i0, rn, c0, cw, s, C);
    else k->scores(c->up + i0 * dim, (rn + c->mr - 1) / c->mr, c->vp + c0 * dim,
                   cw / NEGS_KN_NR, dim, s, C); /* i0 is a multiple of mr */
    for (size_t r = 0; r < rn; r++) {
        size_t i = i0 + r;
        float *z = s + r * C;
        float tmax = row_logits(c, i, c0, cw, z);
        if (i >= c0 && i < c0 + cw) zt[r] = z[i - c0];
        if (c->tel_t)
            negs_ib_tel_tile(c->tel_cols + i * c->tel_t, c->tel_logits + i * c->tel_t, c->tel_t,
                             z, c0, cw, i);
        if (c->rowt) live[r] += negs_ib_debias_tile(z, cw, i >= c0 ? i - c0 : cw);
        if (tmax == -INFINITY) { /* everything masked in this tile: weights 0 */
            memset(z, 0, cw * sizeof *z);
            continue;
        }
        float mnew = tmax > mrow[r] ? tmax : mrow[r];
        double alpha = mrow[r] == -INFINITY ? 0.0 : exp((double)mrow[r] - (double)mnew);
        float sum = k->exp_scale(z, cw, mnew, 1.0f);
        lsum[r] = lsum[r] * alpha + sum;
        if (c->du && alpha != 1.0) {
            float a = (float)alpha, *d = c->du + i * dim;
            for (size_t q = 0; q < dim; q++) d[q] *= a;
        }
        mrow[r] = mnew;
    }
    if (c->du && c0 < c->n) {
        size_t cn = c->n - c0 < cw ? c->n - c0 : cw;
        if (c->bf) negs_ib_bf16_du(c->bf, c->du + i0 * dim, rn, s, C, c0, cn);
        else k->accum(c->du + i0 * dim, dim, rn, s, C, 1, c->v + c0 * dim, dim, cn, dim);
    }
}

/* The end of row i of the debiased softmax: its loss, weights and du (lsum holds its
 * negatives only). */
static void finish_debiased(const ib_ctx *c, size_t i, float m, double lsum, float zt,
                            uint32_t live)
{
    negs_ib_debias_finish(c->tau, c->lfloor, c->coef, m, lsum, zt, live, &c->rowloss[i],
                          &c->roww[i], &c->rowt[i]);
    c->rowm[i] = m;
    if (c->du) {
        float w = c->roww[i], t = c->rowt[i], *d = c->du + i * c->dim;
        const float *vi = c->v + i * c->dim;
        for (size_t q = 0; q < c->dim; q++) d[q] = d[q] * w + t * vi[q];
    }
}

/* A group of up to g1 row blocks starting at row g0. The columns are swept in chunks of
 * c->cchunk (sized so that the chunk's packed and plain v stay in L2), each chunk visited by
 * every row block of the group in turn: v is read from memory once per group instead of once
 * per block. Each row still sees its tiles in column order, so nothing it computes changes. */
static void pass1_group(const ib_ctx *c, size_t g0, float *s)
{
    size_t rows = c->b - g0 < c->g1 * R ? c->b - g0 : c->g1 * R, dim = c->dim;
    float mrow[NEGS_IB_GROUP * R], zt[NEGS_IB_GROUP * R];
    double lsum[NEGS_IB_GROUP * R];
    uint32_t live[NEGS_IB_GROUP * R]; /* debiased: live negatives per row */
    for (size_t r = 0; r < rows; r++) {
        mrow[r] = -INFINITY;
        lsum[r] = 0.0;
        zt[r] = 0.0f;
        live[r] = 0;
        if (c->tel_t)
            negs_ib_tel_clear(c->tel_cols + (g0 + r) * c->tel_t,
                              c->tel_logits + (g0 + r) * c->tel_t, c->tel_t);
    }
    if (c->du) memset(c->du + g0 * dim, 0, rows * dim * sizeof *c->du);
    for (size_t h0 = 0; h0 < c->npad; h0 += c->cchunk) {
        size_t h1 = c->npad - h0 < c->cchunk ? c->npad : h0 + c->cchunk;
        for (size_t o = 0; o < rows; o += R) {
            size_t rn = rows - o < R ? rows - o : R;
            for (size_t c0 = h0; c0 < h1; c0 += C)
                pass1_tile(c, g0 + o, rn, c0, s, mrow + o, lsum + o, zt + o, live + o);
        }
    }
    for (size_t r = 0; r < rows; r++) {
        size_t i = g0 + r;
        if (c->tel_t)
            negs_ib_tel_sort(c->tel_cols + i * c->tel_t, c->tel_logits + i * c->tel_t, c->tel_t);
        if (c->rowt) {
            finish_debiased(c, i, mrow[r], lsum[r], zt[r], live[r]);
            continue;
        }
        /* the target column is never masked, so lsum >= its own term > 0 */
        c->rowloss[i] = ((double)mrow[r] - (double)zt[r]) + log(lsum[r]);
        c->rowm[i] = mrow[r];
        c->roww[i] = (float)((double)c->coef / lsum[r]);
        if (c->du) {
            float w = c->roww[i], cf = c->coef, *d = c->du + i * dim;
            const float *vi = c->v + i * dim;
            for (size_t q = 0; q < dim; q++) d[q] = d[q] * w - cf * vi[q];
        }
    }
}

/* One tile of pass 2: rows [i0, i0 + rn) against the column block at c0. */
static void pass2_tile(const ib_ctx *c, size_t c0, size_t i0, size_t rn, float *s)
{
    const negs_kernels *k = c->k;
    size_t dim = c->dim;
    size_t cw = c->npad - c0 < C ? c->npad - c0 : C;
    size_t cn = c->n - c0 < cw ? c->n - c0 : cw; /* c0 < n always */
    if (c->bf && c->bf->hw) negs_ib_bf16_scores(c->bf, i0, rn, c0, cw, s, C);
    else k->scores(c->up + i0 * dim, (rn + c->mr - 1) / c->mr, c->vp + c0 * dim,
                   cw / NEGS_KN_NR, dim, s, C);
    for (size_t r = 0; r < rn; r++) {
        size_t i = i0 + r;
        float *z = s + r * C;
        row_logits(c, i, c0, cw, z);
        k->exp_scale(z, cw, c->rowm[i], c->roww[i]);
        if (i >= c0 && i < c0 + cw) {
            if (c->rowt) z[i - c0] = c->rowt[i];
            else z[i - c0] -= c->coef;
        }
    }
    if (c->bf) negs_ib_bf16_dv(c->bf, c->dv + c0 * dim, cn, s, C, i0, rn);
    else k->accum(c->dv + c0 * dim, dim, cn, s, 1, C, c->u + i0 * dim, dim, rn, dim);
}

/* A group of up to g2 column blocks starting at column h0, swept over the rows in chunks of
 * c->rchunk (u kept in L2 across the group's blocks). Each column block still sees the row
 * blocks in order, so dv is accumulated in the same order as block by block. */
static void pass2_group(const ib_ctx *c, size_t h0, float *s)
{
    size_t cols = c->n - h0 < c->g2 * C ? c->n - h0 : c->g2 * C;
    memset(c->dv + h0 * c->dim, 0, cols * c->dim * sizeof *c->dv);
    for (size_t r0 = 0; r0 < c->b; r0 += c->rchunk) {
        size_t r1 = c->b - r0 < c->rchunk ? c->b : r0 + c->rchunk;
        for (size_t o = 0; o < cols; o += C)
            for (size_t i0 = r0; i0 < r1; i0 += R)
                pass2_tile(c, h0 + o, i0, r1 - i0 < R ? r1 - i0 : R, s);
    }
}

/* One part per block, claimed dynamically by the pool's threads (a slow or busy thread just
 * takes fewer blocks); a part borrows any free scratch tile, which changes nothing it
 * computes. */
static float *take_tile(const ib_ctx *c, size_t *slot)
{
    for (;;)
        for (size_t q = 0; q < c->slots; q++)
            if (!atomic_flag_test_and_set(&c->busy[q])) {
                *slot = q;
                return c->scratch + q * R * C;
            }
}

static void run_pass1(void *ctx, size_t part, size_t n_parts)
{
    const ib_ctx *c = ctx;
    size_t slot;
    float *s = take_tile(c, &slot);
    (void)n_parts;
    pass1_group(c, part * c->g1 * R, s);
    atomic_flag_clear(&c->busy[slot]);
}

static void run_pass2(void *ctx, size_t part, size_t n_parts)
{
    const ib_ctx *c = ctx;
    size_t slot;
    float *s = take_tile(c, &slot);
    (void)n_parts;
    pass2_group(c, part * c->g2 * C, s);
    atomic_flag_clear(&c->busy[slot]);
}

/* Groups of blocks per part and the chunk sizes. None of this changes what any element is
 * computed from or in which order (see pass1_group, pass2_group), so it may depend on the
 * thread count: groups shrink until there are at least 4 parts per thread to balance. */
static void plan_groups(ib_ctx *c, size_t threads)
{
    size_t rb = (c->b + R - 1) / R, cb = (c->n + C - 1) / C, want = 4 * threads;
    c->g1 = NEGS_IB_GROUP;
    while (c->g1 > 1 && (rb + c->g1 - 1) / c->g1 < want) c->g1--;
    c->g2 = NEGS_IB_GROUP;
    while (c->g2 > 1 && (cb + c->g2 - 1) / c->g2 < want) c->g2--;
    /* packed and plain copies of a chunk's rows: 8 dim bytes each, about 384 KiB in all */
    size_t fit = NEGS_IB_L2_BYTES / (8 * c->dim);
    c->cchunk = fit / C < 1 ? C : fit / C * C;
    c->rchunk = fit / R < 1 ? R : fit / R * R;
}

/* Byte offsets of the workspace regions (each 64-byte aligned). */
typedef struct ib_layout {
    size_t up, vp, lq, rowm, roww, rowloss, rowt, scratch, xu, xv, inv, gu, gv;
    size_t ord, tmp, gstart, gend, gptr, gcnt, hits, moff, mscratch, total;
} ib_layout;

static int region(size_t *off, size_t *at, size_t count, size_t size)
{
    size_t bytes;
    if (negs_size_mul(count, size, &bytes, "negs_loss_inbatch: workspace") ||
        negs_size_add(bytes, 63, &bytes, "negs_loss_inbatch: workspace"))
        return NEGS_E_INVALID;
    *at = *off;
    if (negs_size_add(*off, bytes / 64 * 64, off, "negs_loss_inbatch: workspace"))
        return NEGS_E_INVALID;
    return NEGS_OK;
}

/* The workspace of a call: the passes' packed panels and per-row state, the masks (masks),
 * copied or normalised rows (rows) with their inverse norms (cosine), and gradient rows on
 * their way to the tables (gu, gv). */
static int plan_layout(ib_layout *ly, size_t b, size_t n, size_t npad, size_t dim, size_t mr,
                       size_t parts, int masks, int rows, int cosine, int gu, int gv,
                       int debias)
{
    size_t off = 0, urows = pad_to(b, mr), x;
    int st = negs_size_mul(urows, dim, &x, "negs_loss_inbatch: packed u");
    if (!st) st = region(&off, &ly->up, x, sizeof(float));
    if (!st) st = negs_size_mul(npad, dim, &x, "negs_loss_inbatch: packed v");
    if (!st) st = region(&off, &ly->vp, x, sizeof(float));
    if (!st) st = region(&off, &ly->lq, npad, sizeof(float));
    if (!st) st = region(&off, &ly->rowm, b, sizeof(float));
    if (!st) st = region(&off, &ly->roww, b, sizeof(float));
    if (!st) st = region(&off, &ly->rowloss, b, sizeof(double));
    if (!st) st = region(&off, &ly->rowt, debias ? b : 0, sizeof(float));
    if (!st) st = region(&off, &ly->scratch, parts * R * C, sizeof(float));
    size_t mn = masks ? n : 0, mb = masks ? b + 1 : 0, mr_ = masks ? b : 0;
    size_t words = masks ? npad / 32 : 0;
    if (!st) st = region(&off, &ly->ord, mn, sizeof(uint32_t));
    if (!st) st = region(&off, &ly->tmp, mn, sizeof(uint32_t));
    if (!st) st = region(&off, &ly->gstart, mn, sizeof(uint32_t));
    if (!st) st = region(&off, &ly->gend, mn, sizeof(uint32_t));
    if (!st) st = region(&off, &ly->gptr, mb, sizeof(size_t));
    if (!st) st = region(&off, &ly->gcnt, mr_, sizeof(uint32_t));
    if (!st) st = region(&off, &ly->hits, mr_, sizeof(uint32_t));
    if (!st) st = region(&off, &ly->moff, mb, sizeof(size_t));
    if (!st) st = negs_size_mul(8 * words, parts, &x, "negs_loss_inbatch: mask scratch");
    if (!st) st = region(&off, &ly->mscratch, x, sizeof(uint32_t));
    size_t bd = b * dim, nd = n * dim; /* no overflow: checked with the padded sizes */
    if (!st) st = region(&off, &ly->xu, rows ? bd : 0, sizeof(float));
    if (!st) st = region(&off, &ly->xv, rows ? nd : 0, sizeof(float));
    if (!st) st = region(&off, &ly->inv, cosine ? b + n : 0, sizeof(double));
    if (!st) st = region(&off, &ly->gu, gu ? bd : 0, sizeof(float));
    if (!st) st = region(&off, &ly->gv, gv ? nd : 0, sizeof(float));
    ly->total = off;
    return st;
}

static int check_args(const negs_loss *l, const negs_ib_call *a, size_t *n_out)
{
    const char *fn = a->fn;
    size_t b = a->b, m = a->m, dim = a->dim;
    int st = negs_check_ptr(l, fn, "l");
    if (!st) st = negs_check_ptr(a->loss, fn, "loss");
    if (!st && !a->user_emb) st = negs_check_ptr(a->u, fn, "u");
    if (!st && !a->user_emb) st = negs_check_ptr(a->v, fn, "v");
    if (st) return st;
    if (l->kind != NEGS_LOSS_SOFTMAX)
        return negs_fail(NEGS_E_UNSUPPORTED,
                         "%s: the fused in-batch loss is a softmax; this handle's kind is %d, "
                         "use NEGS_LOSS_SOFTMAX (%d)", fn, l->kind, NEGS_LOSS_SOFTMAX);
    if (b == 0) return negs_fail(NEGS_E_INVALID, "%s: b = 0 (no queries)", fn);
    if (dim == 0) return negs_fail(NEGS_E_INVALID, "%s: dim = 0", fn);
    size_t n, x;
    if (negs_size_add(b, m, &n, "negs_loss_inbatch: b + m")) return NEGS_E_INVALID;
    if (n > UINT32_MAX)
        return negs_fail(NEGS_E_INVALID, "%s: b + m = %zu exceeds %u candidates", fn, n,
                         (unsigned)UINT32_MAX);
    if (negs_size_mul(n, dim, &x, "negs_loss_inbatch: (b + m) * dim") ||
        negs_size_add(n, 2 * C, &x, "negs_loss_inbatch: padded b + m") ||
        negs_size_mul(x, dim, &x, "negs_loss_inbatch: padded (b + m) * dim") ||
        negs_size_mul(x, sizeof(float), &x, "negs_loss_inbatch: padded (b + m) * dim bytes"))
        return NEGS_E_INVALID;
    if (a->user_emb) { /* indexed: every index in range before anything is read */
        if ((size_t)a->n_users * dim / dim != a->n_users ||
            (size_t)a->n_items * dim / dim != a->n_items)
            return negs_fail(NEGS_E_INVALID, "%s: a table's size overflows size_t", fn);
        for (size_t i = 0; i < b; i++)
            if (a->user_idx[i] >= a->n_users)
                return negs_fail(NEGS_E_INVALID, "%s: user_idx[%zu] = %u is out of range "
                                 "(n_users = %u)", fn, i, a->user_idx[i], a->n_users);
        for (size_t j = 0; j < n; j++)
            if (a->item_idx[j] >= a->n_items)
                return negs_fail(NEGS_E_INVALID, "%s: item_idx[%zu] = %u is out of range "
                                 "(n_items = %u)", fn, j, a->item_idx[j], a->n_items);
    }
    /* -inf marks one of the m extra columns as no candidate; a column j < b is the target of
     * query j, so it must be finite */
    const float *logq = a->logq;
    for (size_t j = 0; logq && j < n; j++)
        if (!isfinite(logq[j]) && (j < b || logq[j] != -INFINITY))
            return negs_fail(NEGS_E_INVALID, "%s: logq[%zu] = %g is not finite%s", fn, j,
                             (double)logq[j], j < b ? " (a column j < b is query j's target, so "
                             "it cannot be -inf = no candidate)" : " and not -inf (no candidate)");
    const uint32_t *user_ids = a->user_ids, *item_ids = a->item_ids;
    if (user_ids) {
        if (!l->positives)
            return negs_fail(NEGS_E_STATE, "%s: user_ids given but no known positives are set "
                                           "(negs_loss_set_positives); pass NULL", fn);
        if (!item_ids)
            return negs_fail(NEGS_E_INVALID, "%s: user_ids need item_ids to find the users' "
                                             "known positives among the candidates", fn);
        const negs_csr *p = l->positives;
        const char *un = a->user_emb ? "user_idx" : "user_ids";
        const char *in = a->user_emb ? "item_idx" : "item_ids";
        for (size_t i = 0; i < b; i++)
            if (user_ids[i] >= p->n_users)
                return negs_fail(NEGS_E_INVALID, "%s: %s[%zu] = %u is out of range "
                                 "(the positives table has %u users)", fn, un, i, user_ids[i],
                                 p->n_users);
        for (size_t j = 0; j < n; j++)
            if (item_ids[j] >= p->n_items)
                return negs_fail(NEGS_E_INVALID, "%s: %s[%zu] = %u is out of range "
                                 "(the positives table has %u items)", fn, in, j, item_ids[j],
                                 p->n_items);
    }
    *n_out = n;
    return NEGS_OK;
}

/* Index of the first non-finite entry of x[0, n), or n. */
static size_t first_nonfinite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

static int ib_overflow(const char *fn, const char *what)
{
    return negs_fail(NEGS_E_INVALID, "%s: %s overflows float (the inputs are "
                     "finite, but entries near 3.4e38 make a sum pass it); scale the embeddings "
                     "or logq down", fn, what);
}

static void run_find(void *ctx, size_t part, size_t n_parts)
{
    (void)n_parts;
    negs_ib_find(ctx, part);
}

static void run_fill(void *ctx, size_t part, size_t n_parts)
{
    (void)n_parts;
    negs_ib_fill(ctx, part);
}

/* Builds every row's mask into the workspace (growing its data-sized buffers): groups and the
 * item table, then in parallel each row's candidate groups, then each row's mask. */
static int build_masks(negs_loss *l, negs_ib_masks *mk)
{
    int st = mk->user_ids ? negs_ib_ws_items(l, mk->pos->n_items) : NEGS_OK;
    if (st) return st;
    mk->itab = ((negs_ib_ws *)l->ws)->itab;
    size_t ng = negs_ib_groups(mk);
    st = negs_ib_ws_reserve(l, 0, ng, 0); /* leaves the block where it is */
    if (st) {
        if (mk->user_ids) negs_ib_clear_items(mk);
        return st;
    }
    mk->glist = ((negs_ib_ws *)l->ws)->groups;
    negs_pool_run(l->pool, run_find, mk, mk->parts);
    if (mk->user_ids) negs_ib_clear_items(mk);
    size_t words = negs_ib_layout(mk);
    st = negs_ib_ws_reserve(l, 0, 0, words);
    if (st) return st;
    mk->pool = ((negs_ib_ws *)l->ws)->pool;
    negs_pool_run(l->pool, run_fill, mk, mk->parts);
    return NEGS_OK;
}

int negs_ib_run(negs_loss *l, const negs_ib_call *a)
{
    size_t n = 0;
    int st = check_args(l, a, &n);
    if (st) return st;
    if (l->tel_t && a->b > l->tel_rows)
        return negs_fail(NEGS_E_INVALID, "%s: b = %zu exceeds the %zu rows of the telemetry "
                         "buffers (negs_loss_set_telemetry)", a->fn, a->b, l->tel_rows);
    size_t b = a->b, dim = a->dim;
    const uint32_t *item_ids = a->item_ids, *user_ids = a->user_ids;
    const negs_kernels *k = negs_kernels_select(negs_loss_isa(l));
    size_t npad = pad_to(n, 2 * NEGS_KN_NR);
    size_t parts = negs_pool_threads(l->pool); /* 1 without a pool */
    if (parts > NEGS_IB_MAX_THREADS) parts = NEGS_IB_MAX_THREADS;
    int indexed = a->user_emb != NULL, cosine = l->cosine, own_rows = indexed || cosine;
    int gu = a->to_tables && a->d_user_emb, gv = a->to_tables && a->d_item_emb;
    ib_layout ly;
    int debias = l->tau_plus > 0.0;
    st = plan_layout(&ly, b, n, npad, dim, k->mr, parts, item_ids != NULL, own_rows, cosine,
                     gu, gv, debias);
    if (!st) st = negs_ib_ws_reserve(l, ly.total, 0, 0);
    if (st) return st;
    unsigned char *base = ((negs_ib_ws *)l->ws)->block;

    /* the rows the passes read: the caller's, or copied / normalised into the workspace */
    const float *u = a->u, *v = a->v;
    double *inv = (double *)(base + ly.inv);
    if (own_rows) {
        float *xu = (float *)(base + ly.xu), *xv = (float *)(base + ly.xv);
        st = negs_ib_rows(a->fn, indexed ? "user_emb" : "u", indexed ? a->user_emb : u,
                          a->user_idx, b, dim, cosine, xu, inv);
        if (!st)
            st = negs_ib_rows(a->fn, indexed ? "item_emb" : "v", indexed ? a->item_emb : v,
                              a->item_idx, n, dim, cosine, xv, inv + b);
        if (st) return st;
        u = xu;
        v = xv;
    } else {
        st = negs_check_finite_f(u, b * dim, a->fn, "u");
        if (!st) st = negs_check_finite_f(v, n * dim, a->fn, "v");
        if (st) return st;
    }
    float *du = gu ? (float *)(base + ly.gu) : a->to_tables ? NULL : a->du;
    float *dv = gv ? (float *)(base + ly.gv) : a->to_tables ? NULL : a->dv;

    /* the rows the products read: with NEGS_PRECISION_BF16 rounded copies (u, v stay as they
     * are for the cosine gradients) */
    const float *pu = u, *pv = v;
    negs_ib_bf16 bf;
    if (l->precision == NEGS_PRECISION_BF16) {
        st = negs_ib_bf16_prepare(l, a->fn, u, b, v, n, npad, dim, &bf);
        if (st) return st;
        pu = bf.ru;
        pv = bf.rv;
    }

    ib_ctx c;
    memset(&c, 0, sizeof c);
    c.k = k;
    c.b = b;
    c.n = n;
    c.npad = npad;
    c.dim = dim;
    c.mr = k->mr;
    c.u = pu;
    c.v = pv;
    float *up = (float *)(base + ly.up), *vp = (float *)(base + ly.vp);
    float *lq = (float *)(base + ly.lq);
    if (l->precision == NEGS_PRECISION_BF16) c.bf = &bf;
    if (!c.bf || !bf.hw) { /* the native bf16 kernel has its own panels */
        negs_pack_row_panels(pu, b, dim, k->mr, up);
        negs_pack_col_panels(pv, n, dim, npad / NEGS_KN_NR, vp);
    }
    /* the kernels subtract lq: +inf makes the logit -inf, as for the padding columns */
    const float *logq = a->logq;
    for (size_t j = 0; j < n; j++) lq[j] = !logq ? 0.0f : logq[j] == -INFINITY ? INFINITY : logq[j];
    for (size_t j = n; j < npad; j++) lq[j] = INFINITY; /* padding columns: logit -inf */
    c.up = up;
    c.vp = vp;
    c.lq = lq;
    double scale = l->reduction == NEGS_REDUCE_MEAN ? 1.0 / (double)b : 1.0;
    c.inv_t = (float)(1.0 / l->temperature);
    c.coef = (float)(scale / l->temperature);
    c.rowm = (float *)(base + ly.rowm);
    c.roww = (float *)(base + ly.roww);
    c.rowloss = (double *)(base + ly.rowloss);
    if (debias) {
        c.rowt = (float *)(base + ly.rowt);
        c.tau = l->tau_plus;
        c.lfloor = -(double)c.inv_t; /* the paper's e^(-1/t): a cosine score is >= -1 */
    }
    c.tel_t = l->tel_t;
    c.tel_cols = l->tel_cols;
    c.tel_logits = l->tel_logits;
    c.du = du;
    c.dv = dv;
    c.scratch = (float *)(base + ly.scratch);

    negs_ib_masks mk;
    if (item_ids) {
        memset(&mk, 0, sizeof mk);
        mk.b = b;
        mk.n = n;
        mk.words = npad / 32;
        mk.item_ids = item_ids;
        mk.user_ids = user_ids;
        mk.pos = user_ids ? l->positives : NULL;
        mk.ord = (uint32_t *)(base + ly.ord);
        mk.tmp = (uint32_t *)(base + ly.tmp);
        mk.gstart = (uint32_t *)(base + ly.gstart);
        mk.gend = (uint32_t *)(base + ly.gend);
        mk.gptr = (size_t *)(base + ly.gptr);
        mk.gcnt = (uint32_t *)(base + ly.gcnt);
        mk.hits = (uint32_t *)(base + ly.hits);
        mk.moff = (size_t *)(base + ly.moff);
        mk.scratch = (uint32_t *)(base + ly.mscratch);
        mk.parts = parts;
        memset(mk.scratch, 0, 8 * mk.words * parts * sizeof *mk.scratch);
        st = build_masks(l, &mk);
        if (st) return st;
        if (mk.moff[b] > 0) c.mk = &mk;
    }
    if (l->tel_t) {
        l->tel_hits = l->tel_known = 0;
        if (item_ids) negs_ib_tel_counts(&mk, &l->tel_hits, &l->tel_known);
    }

    atomic_flag busy[NEGS_IB_MAX_THREADS];
    c.slots = parts < NEGS_IB_MAX_THREADS ? parts : NEGS_IB_MAX_THREADS;
    for (size_t q = 0; q < c.slots; q++) atomic_flag_clear(&busy[q]);
    c.busy = busy;
    plan_groups(&c, parts);
    negs_pool_run(l->pool, run_pass1, &c, (b + c.g1 * R - 1) / (c.g1 * R));

    double total = 0.0;
    for (size_t i = 0; i < b; i++) total += c.rowloss[i];
    if (!isfinite(total))
        return negs_fail(NEGS_E_INVALID, "%s: a logit u_i . v_j / temperature - logq_j "
                                         "overflowed float (the loss is not finite); scale the "
                                         "embeddings or logq down", a->fn);
    if (l->reduction == NEGS_REDUCE_NONE)
        for (size_t i = 0; i < b; i++) a->loss[i] = (float)c.rowloss[i];
    else
        a->loss[0] = (float)(total * scale);
    if (l->reduction != NEGS_REDUCE_NONE ? !isfinite(a->loss[0]) : first_nonfinite(a->loss, b) < b)
        return ib_overflow(a->fn, "the loss");

    if (dv) negs_pool_run(l->pool, run_pass2, &c, (n + c.g2 * C - 1) / (c.g2 * C));
    /* A gradient is a sum over columns (du) or rows (dv) of terms that fit a float; with
     * entries near 3e38 the sum may not: refuse rather than return OK with inf. */
    if (du && first_nonfinite(du, b * dim) < b * dim) return ib_overflow(a->fn, "du");
    if (dv && first_nonfinite(dv, n * dim) < n * dim) return ib_overflow(a->fn, "dv");
    if (cosine && du) negs_ib_unnormalise(du, u, inv, b, dim);
    if (cosine && dv) negs_ib_unnormalise(dv, v, inv + b, n, dim);
    /* users' rows first, then the items', each in row order: a fixed order for a shared
     * table and repeated indices */
    if (gu) negs_ib_scatter(a->d_user_emb, a->user_idx, du, b, dim);
    if (gv) negs_ib_scatter(a->d_item_emb, a->item_idx, dv, n, dim);
    return NEGS_OK;
}

NEGS_API int negs_loss_inbatch(negs_loss *l, size_t b, size_t m, size_t dim, const float *u,
                               const float *v, const float *logq, const uint32_t *item_ids,
                               const uint32_t *user_ids, float *loss, float *du, float *dv)
{
    negs_ib_call a;
    memset(&a, 0, sizeof a);
    a.fn = "negs_loss_inbatch";
    a.b = b;
    a.m = m;
    a.dim = dim;
    a.u = u;
    a.v = v;
    a.logq = logq;
    a.item_ids = item_ids;
    a.user_ids = user_ids;
    a.loss = loss;
    a.du = du;
    a.dv = dv;
    return negs_ib_run(l, &a);
}
