/* negs_sampler_select: validation, rows split into contiguous parts over the pool (each part
 * with its own workspace), and the sentence for the first failing row. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "sampler_hard.h"

const char *sp_hard_mode_name(int mode)
{
    switch (mode) {
    case NEGS_HARD_TOP: return "TOP";
    case NEGS_HARD_SEMIHARD: return "SEMIHARD";
    case NEGS_HARD_SOFTMAX: return "SOFTMAX";
    case NEGS_HARD_DNS_MN: return "DNS_MN";
    default: return "AHNS";
    }
}

int sp_hard_check_mode(const negs_sampler *h, const char *fn, uint32_t k, uint32_t n_cand,
                       int has_pos, const char *pos_what)
{
    if (sp_hard_needs_pos(h) && !has_pos)
        return negs_fail(NEGS_E_INVALID, "%s: %s is NULL but %s selection needs each row's "
                         "positive score", fn, pos_what, sp_hard_mode_name(h->hard_mode));
    if (h->hard_mode == NEGS_HARD_DNS_MN) {
        if (k > h->top_m)
            return negs_fail(NEGS_E_INVALID, "%s: k = %u exceeds NEGS_SP_TOP_M = %u (DNS_MN picks "
                             "k of the top M)", fn, k, h->top_m);
        if (h->top_m > n_cand)
            return negs_fail(NEGS_E_INVALID, "%s: NEGS_SP_TOP_M = %u exceeds the %u candidates",
                             fn, h->top_m, n_cand);
    }
    return NEGS_OK;
}

int sp_hard_report(const char *fn, const sp_part_err *e, uint32_t n_cand, uint32_t k, int scored)
{
    const uint32_t *items = e->items;
    const float *scores = e->scores;
    const negs_sampler *h = e->h;
    size_t r = e->row;
    if (e->no_draw)
        return negs_fail(NEGS_E_EXHAUSTED, "%s: row %zu has no eligible item in %s", fn, r,
                         h ? "the HARD sampler's child (fewer than NEGS_SP_CANDIDATES with UNIQUE)"
                           : "any child with a positive share");
    if (e->status == NEGS_E_EXHAUSTED)
        return negs_fail(NEGS_E_EXHAUSTED, "%s: row %zu has %u distinct candidates, fewer than "
                         "the %u to select", fn, r, e->info.distinct, k);
    if (e->status != NEGS_E_INVALID) return negs_fail(e->status, "%s: row %zu failed", fn, r);
    uint32_t j = e->info.bad;
    if (j == n_cand)
        return negs_fail(NEGS_E_INVALID, "%s: row %zu: the AHNS target beta * (pos + alpha)^(p + 1) "
                         "is not finite (positive score %g, alpha = %g, beta = %g, p = %g)", fn, r,
                         (double)e->pos, h->ahns_alpha, h->ahns_beta, h->ahns_p);
    size_t at = r * n_cand + j; /* in the caller's arrays (select) */
    if (scored)
        return negs_fail(NEGS_E_INVALID, "%s: the score of candidate %u (item %u) of row %zu is %g: "
                         "query_emb row %zu or item_emb row %u holds NaN or Inf", fn, j, items[j],
                         r, (double)scores[j], r, items[j]);
    if (!isfinite(scores[j]))
        return negs_fail(NEGS_E_INVALID, "%s: cand_scores[%zu] = %g (row %zu, candidate %u) is not "
                         "finite", fn, at, (double)scores[j], r, j);
    return negs_fail(NEGS_E_INVALID, "%s: cand_items[%zu] = %u is not below n_items = %u", fn, at,
                     items[j], h->n_items);
}

typedef struct select_ctx {
    negs_sampler *h;
    uint64_t step;
    size_t n_rows;
    uint32_t n_cand, k;
    const uint32_t *items;
    const float *scores, *pos;
    uint32_t *out;
    float *logq;
    sp_part_err err[256];
} select_ctx;

static int select_rows(select_ctx *x, sp_hard_part *w, size_t r0, size_t r1, size_t part);

/* TOP rows whole by the kernel (one call per part); the other modes row by row. */
static void select_part(void *vctx, size_t part, size_t n_parts)
{
    select_ctx *x = vctx;
    const negs_sampler *h = x->h;
    sp_hard_part *w = &h->hard->part[part];
    size_t r0 = x->n_rows * part / n_parts, r1 = x->n_rows * (part + 1) / n_parts;
    uint32_t n = x->n_cand, k = x->k;
    w->fallback = 0;
    x->err[part].status = NEGS_OK;
    size_t r = r0;
    if (h->hard_mode == NEGS_HARD_TOP && n <= 64) {
        /* whole rows by the kernel; a row it stops at (bad or short) goes through the general
         * path below, which finds what is wrong with it */
        const negs_kernels *kn = h->hard->kn;
        while (r < r1) {
            size_t done = r + kn->top_rows(x->scores + r * n, x->items + r * n, r1 - r, n,
                                           h->n_items, k, x->out + r * k);
            if (x->logq) memset(x->logq + r * k, 0, (done - r) * k * sizeof *x->logq);
            r = done;
            if (r == r1 || select_rows(x, w, r, r + 1, part)) return;
            r++;
        }
        return;
    }
    select_rows(x, w, r, r1, part);
}

static int select_rows(select_ctx *x, sp_hard_part *w, size_t r0, size_t r1, size_t part)
{
    const negs_sampler *h = x->h;
    uint32_t n = x->n_cand, k = x->k;
    for (size_t r = r0; r < r1; r++) {
        sp_sel_info info;
        int st = sp_hard_select_row(h, w, h->seed, x->step, h->row_offset + r, SP_PURPOSE_SELECT,
                                    n, x->items + r * n, x->scores + r * n,
                                    x->pos ? x->pos[r] : 0.0f, k, x->out + r * k,
                                    x->logq ? x->logq + r * k : NULL, &info);
        if (st) {
            x->err[part] = (sp_part_err){st, r, info, x->pos ? x->pos[r] : 0.0f, h, 0,
                                         x->items + r * n, x->scores + r * n};
            return st;
        }
        w->fallback += (uint64_t)info.fell;
    }
    return NEGS_OK;
}

int sp_hard_check_handle(const negs_sampler *h, const char *fn)
{
    if (h->kind != NEGS_SAMPLER_HARD)
        return negs_fail(NEGS_E_INVALID, "%s: the sampler is not HARD (kind %d)", fn, h->kind);
    if (h->owned)
        return negs_fail(NEGS_E_INVALID, "%s: this HARD sampler belongs to a mixture; call the "
                         "mixture", fn);
    return NEGS_OK;
}

uint64_t sp_hard_collect(sp_hard *hd, unsigned parts)
{
    uint64_t n = 0;
    for (unsigned p = 0; p < parts; p++) n += hd->part[p].fallback;
    return hd->fallback_rows = n;
}

NEGS_API int negs_sampler_select(negs_sampler *hard, uint64_t step, size_t n_rows, uint32_t n_cand,
                                 const uint32_t *cand_items, const float *cand_scores,
                                 const float *pos_scores, uint32_t k, uint32_t *out_items,
                                 float *out_logq)
{
    static const char *fn = "negs_sampler_select";
    int st = negs_check_ptr(hard, fn, "hard");
    if (!st) st = sp_hard_check_handle(hard, fn);
    if (!st) st = negs_check_ptr(cand_items, fn, "cand_items");
    if (!st) st = negs_check_ptr(cand_scores, fn, "cand_scores");
    if (!st) st = negs_check_ptr(out_items, fn, "out_items");
    if (st) return st;
    if (n_rows == 0) return negs_fail(NEGS_E_INVALID, "%s: n_rows is 0", fn);
    if (n_cand == 0) return negs_fail(NEGS_E_INVALID, "%s: n_cand is 0", fn);
    if (k == 0) return negs_fail(NEGS_E_INVALID, "%s: k is 0", fn);
    if (k > n_cand)
        return negs_fail(NEGS_E_INVALID, "%s: k = %u exceeds n_cand = %u", fn, k, n_cand);
    size_t total;
    if ((st = negs_size_mul(n_rows, n_cand, &total, "negs_sampler_select: n_rows * n_cand")) ||
        (st = negs_size_mul(n_rows, k, &total, "negs_sampler_select: n_rows * k")))
        return st;
    if (n_cand > hard->hard->cap)
        return negs_fail(NEGS_E_STATE, "%s: n_cand = %u exceeds NEGS_SP_CANDIDATES = %u, the size "
                         "of the handle's workspace (set it to at least n_cand)", fn, n_cand,
                         hard->hard->cap);
    if ((st = sp_hard_check_mode(hard, fn, k, n_cand, pos_scores != NULL, "pos_scores"))) return st;
    if (sp_hard_needs_pos(hard) && (st = negs_check_finite_f(pos_scores, n_rows, fn, "pos_scores")))
        return st;
    /* err[] is left uninitialised: each part sets its own entry before anything reads it
     * (zeroing all 256, some 16 KB, is a visible share of a call of a few microseconds) */
    select_ctx x;
    x.h = hard;
    x.step = step;
    x.n_rows = n_rows;
    x.n_cand = n_cand;
    x.k = k;
    x.items = cand_items;
    x.scores = cand_scores;
    x.pos = pos_scores;
    x.out = out_items;
    x.logq = out_logq;
    unsigned parts = hard->hard->parts < n_rows ? hard->hard->parts : (unsigned)n_rows;
    negs_pool_run(hard->pool, select_part, &x, parts);
    sp_hard_collect(hard->hard, parts);
    for (unsigned p = 0; p < parts; p++)
        if (x.err[p].status)
            return sp_hard_report(fn, &x.err[p], n_cand, k, 0);
    return NEGS_OK;
}
