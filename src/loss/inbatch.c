/* negs_loss_inbatch: the fused in-batch (mixed negative) softmax over b queries and b + m
 * candidates. It never forms the b x (b + m) logits, but it computes each logit once: the
 * rows go in groups (up to 480 rows, as many as keep the group's rows of G within about
 * 16 MiB), each group in the pool in two runs:
 * - tiles, by 128-column tiles (and 96 rows): the scores of the group's rows, the logits
 *   (masks applied), each (row, tile)'s max and e^(z - tile max) in place with its sum; the
 *   previous group's dv_j += sum_i G_ij u_i runs beside them (by columns, on its own buffer);
 * - rows, by 24 rows: the row's max M, the tiles' rescale e^(tile max - M), the sum l, the
 *   loss, the row of G = coef (p_ij - [i == j]) in place, then du rows = G V.
 * Every element depends only on its row and tile, or is one chain in a fixed order (du over
 * the columns, dv over the rows, groups in row order), so the result is bit-identical for any
 * thread count and group size. Memory: packed copies of u and v, O(b + m) per-row arrays and
 * two group buffers (see docs/inbatch.md). */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/csr.h"
#include "core/errors.h"
#include "inbatch.h"
#include "inbatch_debias.h"
#include "inbatch_telemetry.h"
#include "kernels/kernels.h"
#include "kernels/kernels_bf16.h"

#define C NEGS_IB_COLS

/* A row group: rows [g0, g0 + gn), its buffer (gn rows of ldg floats: scores, then per
 * tile e^(z - tile max), then G) and its rows' tile state (ntp entries per row: each tile's
 * max, sum, rescale, debiased live count; and the target's logit per row). gn = 0: none. */
typedef struct ib_group {
    size_t g0, gn;
    float *g;
    float *tmax, *tsum, *talpha, *zt;
    uint32_t *tlive;
} ib_group;

typedef struct ib_ctx {
    const negs_kernels *k;
    size_t b, n, npad, dim, mr;
    size_t ntiles, ntp;        /* column tiles of C, and that rounded up to 16 */
    const float *u, *v;
    const float *up, *vp, *lq; /* packed u, packed v, logq (+inf on padding columns) */
    float inv_t, coef;         /* 1 / temperature; reduction scale / temperature */
    double *rowloss;           /* per row loss */
    int debias;                /* tau+ > 0 */
    double tau, lfloor;        /* debiased: tau+ and the log of the estimator's floor, -1/T */
    size_t tel_t;              /* telemetry: heap size per row, 0 = off */
    uint32_t *tel_cols;        /* row i's heap at [i * tel_t, ...) */
    float *tel_logits;
    float *du, *dv;
    const negs_ib_masks *mk;   /* NULL: nothing is masked */
    const negs_ib_bf16 *bf;    /* NEGS_PRECISION_BF16's products (inbatch_bf16.c); NULL: fp32 */
    size_t group, ngroups;     /* rows per group (the last may have fewer), groups */
    size_t ldg;
    size_t nbuf;               /* group buffers: 3 pipelined, 2 with the native bf16 kernel */
    float *gbuf[3];            /* group q uses gbuf[q % nbuf] */
    /* two sets of tile state (group q uses set q % 2), each group rows x ntp entries */
    float *tmax, *tsum, *talpha, *zt;
    uint32_t *tlive;
    /* the groups a run works on (see run_groups): its tiles, its rows and du, its dv */
    ib_group tile_g, rows_g, dv_g;
    size_t a_rows;             /* rows per tile part (all tiles in one part with telemetry) */
    size_t du_rows;            /* rows per row part (phase B and du) */
    size_t dv_cols, kchunk;    /* columns per dv part; columns per L2 chunk of v in du */
    size_t threads, l2;        /* the pool's threads and one core's L2 bytes (scheduling) */
} ib_ctx;

static size_t pad_to(size_t x, size_t a)
{
    return (x + a - 1) / a * a;
}

/* Tiles [t0, t1) of rows [r0, r0 + rn) of group q (r0 a multiple of every table's mr):
 * scores into the group buffer, then per row and tile the logits (masks applied), the
 * target's logit, telemetry and debiased counts, the tile's max, and e^(z - tile max) in
 * place with its sum. Every value depends only on its row and tile. */
static void tiles(const ib_ctx *c, const ib_group *q, size_t r0, size_t rn, size_t t0,
                  size_t t1)
{
    const negs_kernels *k = c->k;
    size_t dim = c->dim, mr = c->mr;
    for (size_t t = t0; t < t1; t++) {
        size_t c0 = t * C, cw = c->npad - c0 < C ? c->npad - c0 : C;
        float *gt = q->g + r0 * c->ldg + c0;
        if (c->bf && c->bf->hw) negs_ib_bf16_scores(c->bf, q->g0 + r0, rn, c0, cw, gt, c->ldg);
        else k->scores(c->up + (q->g0 + r0) * dim, (rn + mr - 1) / mr, c->vp + c0 * dim,
                       cw / NEGS_KN_NR, dim, gt, c->ldg);
        for (size_t r = r0; r < r0 + rn; r++) {
            size_t i = q->g0 + r, at = r * c->ntp + t;
            float *z = q->g + r * c->ldg + c0, tm;
            uint32_t local[4];
            const uint32_t *bits = c->mk ? negs_ib_tile_bits(c->mk, i, c0, cw, local) : NULL;
            tm = bits ? k->logits_mask(z, cw, c->inv_t, c->lq + c0, bits)
                      : k->logits(z, cw, c->inv_t, c->lq + c0);
            if (i >= c0 && i < c0 + cw) q->zt[r] = z[i - c0];
            if (c->tel_t)
                negs_ib_tel_tile(c->tel_cols + i * c->tel_t, c->tel_logits + i * c->tel_t,
                                 c->tel_t, z, c0, cw, i);
            if (c->debias) q->tlive[at] = negs_ib_debias_tile(z, cw, i >= c0 ? i - c0 : cw);
            q->tmax[at] = tm;
            if (tm == -INFINITY) { /* everything masked in this tile: weights 0 */
                memset(z, 0, cw * sizeof *z);
                q->tsum[at] = 0.0f;
            } else {
                q->tsum[at] = k->exp_scale(z, cw, tm, 1.0f);
            }
        }
    }
}

/* Row r of group q, once its tiles are done: the row's max M over its tiles, each tile's
 * rescale e^(tile max - M), the sum l (in double, tiles in column order), the loss, and with
 * gradients the row of G = dloss/dz times the reduction scale, in place:
 * G_ij = coef e^(z_ij - M) / l - coef [i == j] (debiased: the weights of debias.h). With the
 * native bf16 kernel G is not written: each tile's factor replaces its rescale in talpha and
 * the target's term is returned, for negs_ib_bf16_pair_g to make G's pairs in one pass. */
static float finish_row(const ib_ctx *c, const ib_group *q, size_t r, int grads)
{
    const negs_kernels *k = c->k;
    size_t i = q->g0 + r, nt = c->ntiles;
    const float *tm = q->tmax + r * c->ntp, *ts = q->tsum + r * c->ntp;
    float *al = q->talpha + r * c->ntp, *g = q->g + r * c->ldg;
    float m = k->max(tm, c->ntp); /* padding entries are -inf; the target's tile is live */
    if (c->tel_t)
        negs_ib_tel_sort(c->tel_cols + i * c->tel_t, c->tel_logits + i * c->tel_t, c->tel_t);
    if (!isfinite(m)) { /* a logit overflowed: the call fails on the loss */
        c->rowloss[i] = NAN;
        memset(al, 0, c->ntp * sizeof *al); /* defined factors for the native pairs */
        return 0.0f;
    }
    memcpy(al, tm, c->ntp * sizeof *al);
    k->exp_scale(al, c->ntp, m, 1.0f); /* 0 for all-masked tiles and padding */
    double l = 0.0;
    uint32_t live = 0;
    for (size_t t = 0; t < nt; t++) {
        l += (double)ts[t] * (double)al[t];
        if (c->debias) live += q->tlive[r * c->ntp + t];
    }
    double w;
    float tg = -c->coef; /* G's target entry is e w + tg (debiased: e is 0 there) */
    if (c->debias) {
        float wf;
        negs_ib_debias_finish(c->tau, c->lfloor, c->coef, m, l, q->zt[r], live,
                              &c->rowloss[i], &wf, &tg);
        w = wf;
    } else {
        /* the target column is never masked, so l >= its own term > 0 */
        c->rowloss[i] = ((double)m - (double)q->zt[r]) + log(l);
        w = (double)c->coef / l;
    }
    if (!grads) return 0.0f;
    if (c->bf && c->bf->hw) {
        for (size_t t = 0; t < nt; t++) al[t] = (float)(w * (double)al[t]);
        return tg;
    }
    if (c->bf) { /* bf16, portable path: G made and rounded in one pass (inbatch_bf16.c) */
        negs_ib_bf16_round_g(c->bf, g, al, w, i, tg, c->debias, c->npad);
        return 0.0f;
    }
    for (size_t t = 0; t < nt; t++) {
        size_t c0 = t * C, cw = c->npad - c0 < C ? c->npad - c0 : C;
        k->scale(g + c0, cw, (float)(w * (double)al[t]));
    }
    g[i] = c->debias ? tg : g[i] + tg;
    return 0.0f;
}

/* du rows [r0, r0 + rn) of group q = G V over every column, in column order (in chunks of v
 * that stay in L2). */
static void grad_du(const ib_ctx *c, const ib_group *q, size_t r0, size_t rn)
{
    size_t dim = c->dim;
    float *d = c->du + (q->g0 + r0) * dim;
    float *g = q->g + r0 * c->ldg;
    memset(d, 0, rn * dim * sizeof *d);
    if (c->bf && c->bf->hw) { /* the native bf16 products, on G paired by rows_part */
        negs_ib_bf16_du(c->bf, q->g, d, r0, rn);
        return;
    }
    for (size_t j0 = 0; j0 < c->n; j0 += c->kchunk) {
        size_t cn = c->n - j0 < c->kchunk ? c->n - j0 : c->kchunk;
        c->k->accum(d, dim, rn, g + j0, c->ldg, 1, c->v + j0 * dim, dim, cn, dim);
    }
}

/* dv columns [j0, j0 + cn) += G^T U over group q's rows in order. The groups' dv run in row
 * order, so dv_j is one chain over i. */
static void grad_dv(const ib_ctx *c, const ib_group *q, size_t j0, size_t cn)
{
    size_t dim = c->dim;
    if (c->bf && c->bf->hw) { /* the native bf16 products, on G paired in place by
                               * rows_part */
        negs_ib_bf16_dv(c->bf, q->g, c->dv, j0, cn, q->g0, q->gn);
        return;
    }
    c->k->accum(c->dv + j0 * dim, dim, cn, q->g + j0, 1, c->ldg, c->u + q->g0 * dim, dim, q->gn,
                dim);
}

/* The parts of a run: the row parts of rows_g (finish_row, then du; the coarsest, so they
 * are claimed first), then the dv parts of dv_g (columns), then the tile parts of tile_g (by
 * tile, then by a_rows rows; with telemetry by rows, every tile of a row in one part, so that
 * its heap sees them in order). The three groups use different buffers and tile state. */
static size_t parts_rows(const ib_ctx *c)
{
    return (c->rows_g.gn + c->du_rows - 1) / c->du_rows;
}

static size_t parts_dv(const ib_ctx *c)
{
    return c->dv && c->dv_g.gn ? (c->n + c->dv_cols - 1) / c->dv_cols : 0;
}

static size_t row_chunks(const ib_ctx *c)
{
    return (c->tile_g.gn + c->a_rows - 1) / c->a_rows;
}

static size_t parts_tiles(const ib_ctx *c)
{
    return c->tile_g.gn ? row_chunks(c) * (c->tel_t ? 1 : c->ntiles) : 0;
}

static void rows_part(const ib_ctx *c, const ib_group *q, size_t part)
{
    size_t r0 = part * c->du_rows;
    size_t rn = q->gn - r0 < c->du_rows ? q->gn - r0 : c->du_rows;
    int grads = c->du || c->dv;
    if (c->bf && c->bf->hw && grads) { /* du_rows is even: G's pairs of rows, while hot */
        for (size_t r = r0; r < r0 + rn; r += 2) {
            size_t k = r + 1 < r0 + rn ? 2 : 1;
            float tg[2] = {finish_row(c, q, r, 1), 0.0f};
            if (k == 2) tg[1] = finish_row(c, q, r + 1, 1);
            negs_ib_bf16_pair_g(c->bf, q->g, r, k, q->talpha, c->ntp, q->g0, tg, c->debias,
                                c->npad, c->du != NULL, c->dv != NULL);
        }
    } else {
        for (size_t r = r0; r < r0 + rn; r++) finish_row(c, q, r, grads);
    }
    if (c->du) grad_du(c, q, r0, rn);
}

static void run_parts(void *ctx, size_t part, size_t n_parts)
{
    const ib_ctx *c = ctx;
    size_t nr = parts_rows(c), nd = parts_dv(c);
    (void)n_parts;
    if (part < nr) {
        rows_part(c, &c->rows_g, part);
        return;
    }
    part -= nr;
    if (part < nd) {
        size_t j0 = part * c->dv_cols;
        grad_dv(c, &c->dv_g, j0, c->n - j0 < c->dv_cols ? c->n - j0 : c->dv_cols);
        return;
    }
    part -= nd;
    const ib_group *q = &c->tile_g;
    size_t nrc = row_chunks(c), rc = part % nrc, r0 = rc * c->a_rows;
    size_t rn = q->gn - r0 < c->a_rows ? q->gn - r0 : c->a_rows;
    if (!c->tel_t) {
        tiles(c, q, r0, rn, part / nrc, part / nrc + 1);
        return;
    }
    for (size_t r = r0; r < r0 + rn; r++)
        negs_ib_tel_clear(c->tel_cols + (q->g0 + r) * c->tel_t,
                          c->tel_logits + (q->g0 + r) * c->tel_t, c->tel_t);
    tiles(c, q, r0, rn, 0, c->ntiles);
}

/* Rows per group (a multiple of NEGS_IB_ROWS, so of every mr, at most NEGS_IB_MAX_GROUP), then
 * evened out over the groups. The pipelined schedule: as many as keep a group buffer within
 * half of one core's L2 (read from the CPU), at least 2 NEGS_IB_ROWS. A group's buffer is
 * written by its tiles, read and written by its rows, read by dv: within L2 the rows (run just
 * after the tiles on a thread) find it there; beyond, every pass goes to L3. Fewer rows cost a
 * read and write of dv per group (8 dim / rows bytes per pair), which at 96 rows is less than
 * the buffer's L3 traffic (on a 2-FMA-port Intel core with 2 MiB of L2: 13-17 % less CPU time
 * than 16 MiB buffers at b = 1024 .. 16,384; docs/inbatch.md). The native bf16 schedule keeps
 * buffers of about NEGS_IB_GROUP_BYTES (at least NEGS_IB_ROWS rows). Nothing any element is
 * computed from, nor the order of any sum, depends on the group or part sizes: they are
 * scheduling only. */
static void plan_groups(ib_ctx *c)
{
    size_t row_bytes = c->ldg * sizeof(float);
    size_t rows = c->nbuf == 3 ? c->l2 / 2 / row_bytes : NEGS_IB_GROUP_BYTES / row_bytes;
    size_t least = c->nbuf == 3 ? 2 * NEGS_IB_ROWS : NEGS_IB_ROWS;
    rows = rows / NEGS_IB_ROWS * NEGS_IB_ROWS;
    if (rows < least) rows = least;
    if (rows > NEGS_IB_MAX_GROUP) rows = NEGS_IB_MAX_GROUP;
    c->ngroups = (c->b + rows - 1) / rows;
    c->group = pad_to((c->b + c->ngroups - 1) / c->ngroups, NEGS_IB_ROWS);
    c->ngroups = (c->b + c->group - 1) / c->group;
    c->a_rows = c->tel_t ? NEGS_IB_ROWS : 2 * NEGS_IB_ROWS;
    /* Rows per row part: each du part streams all of v (4 (b+m) dim bytes, from L3 or
     * memory when it is MiBs) once, so the more rows share that stream the less traffic:
     * up to 96 rows, as long as the group still has 4 parts per thread to balance (one
     * thread: 96; two threads and groups of 240: 24). A multiple of 24 (of every accum block
     * and even, as the bf16 pairs of rows take). */
    c->du_rows = 24;
    for (size_t k = 4; k > 1; k /= 2)
        if (c->threads == 1 ? c->group >= 24 * k : c->group / (24 * k) >= 4 * c->threads) {
            c->du_rows = 24 * k;
            break;
        }
    /* dv parts of about a 24-row du part's work, 48 or 96 columns (a multiple of every accum
     * block; at most a tile, as the bf16 products take) */
    c->dv_cols = 24 * c->n / c->group >= 96 ? 96 : 48;
    /* columns of a du chunk: its v rows within a quarter of the L2, and with the part's G
     * columns within half of it */
    size_t fit = c->l2 / 4 / (4 * c->dim), fit2 = c->l2 / 2 / (4 * (c->dim + c->du_rows));
    if (fit2 < fit) fit = fit2;
    c->kchunk = fit < C ? C : fit / C * C;
}

/* Group q (or none when q is out of range): its rows, buffer and tile state. */
static ib_group group_at(const ib_ctx *c, size_t q, int valid)
{
    ib_group g;
    memset(&g, 0, sizeof g);
    if (!valid || q >= c->ngroups) return g;
    size_t set = (q % 2) * c->group * c->ntp;
    g.g0 = q * c->group;
    g.gn = c->b - g.g0 < c->group ? c->b - g.g0 : c->group;
    g.g = c->gbuf[q % c->nbuf];
    g.tmax = c->tmax + set;
    g.tsum = c->tsum + set;
    g.talpha = c->talpha + set;
    g.tlive = c->tlive ? c->tlive + set : NULL;
    g.zt = c->zt + (q % 2) * c->group;
    return g;
}

static void run_one(negs_pool *pool, ib_ctx *c)
{
    size_t parts = parts_rows(c) + parts_dv(c) + parts_tiles(c);
    if (parts) negs_pool_run(pool, run_parts, c, parts);
}

/* Pipelined (three buffers): run s holds group s's tiles, group s - 1's rows and du, and
 * group s - 2's dv, so a call is ngroups + 2 runs on the pool, each with fine tile parts to
 * balance its coarse row parts. With the native bf16 kernel, the two-run schedule it was
 * written for: group q's tiles with group q - 1's dv, then group q's rows; then the last
 * group's dv. Either way dv runs over the groups in row order. */
static void run_groups(negs_pool *pool, ib_ctx *c)
{
    if (c->dv) memset(c->dv, 0, c->n * c->dim * sizeof *c->dv);
    if (c->nbuf == 3) {
        for (size_t s = 0; s < c->ngroups + 2; s++) {
            c->tile_g = group_at(c, s, 1);
            c->rows_g = group_at(c, s - 1, s >= 1);
            c->dv_g = group_at(c, s - 2, s >= 2);
            run_one(pool, c);
        }
        return;
    }
    memset(&c->rows_g, 0, sizeof c->rows_g);
    for (size_t q = 0; q <= c->ngroups; q++) {
        c->tile_g = group_at(c, q, 1);
        c->dv_g = group_at(c, q - 1, q >= 1);
        run_one(pool, c);
        memset(&c->dv_g, 0, sizeof c->dv_g);
        c->rows_g = c->tile_g;
        memset(&c->tile_g, 0, sizeof c->tile_g);
        run_one(pool, c);
        memset(&c->rows_g, 0, sizeof c->rows_g);
    }
}

/* Byte offsets of the workspace regions (each 64-byte aligned). */
typedef struct ib_layout {
    size_t up, vp, lq, rowloss, g0, g1, g2, tmax, tsum, talpha, tlive, zt, xu, xv, inv, gu, gv;
    size_t ord, tmp, gstart, gend, gptr, gcnt, hits, moff, msrc, mflag, mscratch, total;
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

/* The workspace of a call: the packed panels, the row groups' nbuf buffers and two sets of
 * per-tile state (group rows of ldg and ntp entries), the masks (masks), copied or normalised rows (rows) with
 * their inverse norms (cosine), and gradient rows on their way to the tables (gu, gv). */
static int plan_layout(ib_layout *ly, size_t b, size_t n, size_t npad, size_t dim, size_t mr,
                       size_t parts, size_t group, size_t ldg, size_t ntp, int masks, int rows,
                       int cosine, int gu, int gv, int debias, int panels, size_t nbuf)
{
    size_t off = 0, urows = panels ? pad_to(b, mr) : 0, x; /* no fp32 panels: native bf16 */
    int st = negs_size_mul(urows, dim, &x, "negs_loss_inbatch: packed u");
    if (!st) st = region(&off, &ly->up, x, sizeof(float));
    if (!st) st = negs_size_mul(panels ? npad : 0, dim, &x, "negs_loss_inbatch: packed v");
    if (!st) st = region(&off, &ly->vp, x, sizeof(float));
    if (!st) st = region(&off, &ly->lq, npad, sizeof(float));
    if (!st) st = region(&off, &ly->rowloss, b, sizeof(double));
    if (!st) st = negs_size_mul(group, ldg, &x, "negs_loss_inbatch: group buffers");
    if (!st) st = region(&off, &ly->g0, x, sizeof(float));
    if (!st) st = region(&off, &ly->g1, x, sizeof(float));
    if (!st) st = region(&off, &ly->g2, nbuf > 2 ? x : 0, sizeof(float));
    if (!st) st = negs_size_mul(2 * group, ntp, &x, "negs_loss_inbatch: tile state");
    if (!st) st = region(&off, &ly->tmax, x, sizeof(float));
    if (!st) st = region(&off, &ly->tsum, x, sizeof(float));
    if (!st) st = region(&off, &ly->talpha, x, sizeof(float));
    if (!st) st = region(&off, &ly->tlive, debias ? x : 0, sizeof(uint32_t));
    if (!st) st = region(&off, &ly->zt, 2 * group, sizeof(float));
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
    if (!st) st = region(&off, &ly->msrc, mr_, sizeof(uint32_t));
    if (!st) st = region(&off, &ly->mflag, mr_, sizeof(uint8_t));
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
    ib_ctx c;
    memset(&c, 0, sizeof c);
    c.k = k;
    c.b = b;
    c.n = n;
    c.npad = npad;
    c.dim = dim;
    c.mr = k->mr;
    c.ntiles = (npad + C - 1) / C;
    c.ntp = pad_to(c.ntiles, NEGS_KN_NR);
    c.ldg = npad + NEGS_KN_NR; /* rows not 4 KiB apart: no cache-set conflicts between them */
    c.tel_t = l->tel_t;
    c.threads = parts;
    int native16 = l->precision == NEGS_PRECISION_BF16 &&
                   negs_bf16_kernels_select(negs_loss_isa(l)) != NULL; /* own panels */
    c.nbuf = native16 ? 2 : 3;
    st = negs_ib_ws_caches(l, &c.l2);
    if (st) return st;
    plan_groups(&c);
    st = plan_layout(&ly, b, n, npad, dim, k->mr, parts, c.group, c.ldg, c.ntp, item_ids != NULL,
                     own_rows, cosine, gu, gv, debias, !native16, c.nbuf);
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
        st = negs_ib_bf16_prepare(l, a->fn, u, b, v, n, npad, dim, c.ldg, &bf);
        if (st) return st;
        pu = bf.ru;
        pv = bf.rv;
    }

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
    c.rowloss = (double *)(base + ly.rowloss);
    c.gbuf[0] = (float *)(base + ly.g0);
    c.gbuf[1] = (float *)(base + ly.g1);
    c.gbuf[2] = (float *)(base + ly.g2);
    c.tmax = (float *)(base + ly.tmax);
    c.tsum = (float *)(base + ly.tsum);
    c.talpha = (float *)(base + ly.talpha);
    c.zt = (float *)(base + ly.zt);
    for (size_t r = 0; r < 2 * c.group; r++) /* both sets' padding: no tile */
        for (size_t t = c.ntiles; t < c.ntp; t++) {
            c.tmax[r * c.ntp + t] = -INFINITY;
            c.tsum[r * c.ntp + t] = 0.0f;
        }
    if (debias) {
        c.debias = 1;
        c.tlive = (uint32_t *)(base + ly.tlive);
        c.tau = l->tau_plus;
        c.lfloor = -(double)c.inv_t; /* the paper's e^(-1/t): a cosine score is >= -1 */
    }
    c.tel_cols = l->tel_cols;
    c.tel_logits = l->tel_logits;
    c.du = du;
    c.dv = dv;

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
        mk.src = (uint32_t *)(base + ly.msrc);
        mk.sflag = base + ly.mflag;
        mk.scratch = (uint32_t *)(base + ly.mscratch);
        mk.parts = parts;
        memset(mk.scratch, 0, 8 * mk.words * parts * sizeof *mk.scratch);
        st = negs_ib_build(l, &mk);
        if (st) return st;
        if (mk.moff[b] > 0) c.mk = &mk;
    }
    if (l->tel_t) {
        l->tel_hits = l->tel_known = 0;
        if (item_ids) negs_ib_tel_counts(&mk, &l->tel_hits, &l->tel_known);
    }

    run_groups(l->pool, &c);

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
