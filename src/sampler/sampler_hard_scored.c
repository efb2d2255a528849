/* negs_sampler_sample_scored: draw c candidates per row, score them as dot products with the
 * gathered item rows (the kernel table's dot), select k. On a HARD sampler the next row's
 * candidates are drawn and their rows prefetched before the current row is scored, so the
 * gathers overlap the selection. On a MIXTURE with HARD children (a curriculum) each slot picks
 * its child as sp_mixture_row does, and a HARD child's slots take its selection. */
#include "core/alloc.h"
#include "core/errors.h"
#include "sampler_hard.h"

typedef struct scored_ctx {
    const negs_sampler *s;
    uint64_t step;
    size_t n_rows;
    const uint32_t *users, *positives;
    const float *q, *emb;
    size_t dim;
    uint32_t k;
    uint32_t *out;
    float *logq;
    const double *shares;
    sp_part_err err[256];
} scored_ctx;

static void prefetch_rows(const float *emb, size_t dim, const uint32_t *idx, uint32_t n)
{
    size_t bytes = dim * sizeof(float);
    for (uint32_t i = 0; i < n; i++) {
        const char *p = (const char *)(emb + (size_t)idx[i] * dim);
        for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
    }
}

/* Draws row r's candidates into buf and prefetches their rows (and the positive's). */
static int draw_ahead(const scored_ctx *x, unsigned part, size_t r, uint32_t *buf)
{
    const negs_sampler *s = x->s;
    int st = sp_hard_draw_row(s, x->shares, part, s->seed, x->step, s->row_offset + r,
                              x->users != NULL, x->users ? x->users[r] : 0, x->positives != NULL,
                              x->positives ? x->positives[r] : 0, buf, NULL);
    if (st) return st;
    prefetch_rows(x->emb, x->dim, buf, s->candidates);
    if (x->positives) prefetch_rows(x->emb, x->dim, x->positives + r, 1);
    return NEGS_OK;
}

/* out[i] = query row r . item row idx[i]. */
static void score_rows(const scored_ctx *x, const negs_kernels *kn, size_t r, const uint32_t *idx,
                       uint32_t n, float *out)
{
    const float *qr = x->q + r * x->dim;
    for (uint32_t i = 0; i < n; i++) out[i] = kn->dot(qr, x->emb + (size_t)idx[i] * x->dim, x->dim);
}

static float pos_score(const scored_ctx *x, const negs_kernels *kn, size_t r)
{
    float ps = 0.0f;
    if (x->positives) score_rows(x, kn, r, x->positives + r, 1, &ps);
    return ps;
}

static void hard_part(void *vctx, size_t part, size_t n_parts)
{
    scored_ctx *x = vctx;
    const negs_sampler *s = x->s;
    sp_hard_part *w = &s->hard->part[part];
    const negs_kernels *kn = s->hard->kn;
    size_t r0 = x->n_rows * part / n_parts, r1 = x->n_rows * (part + 1) / n_parts;
    uint32_t c = s->candidates, k = x->k;
    uint32_t *cur = w->items, *next = w->items + c;
    sp_part_err *e = &x->err[part];
    w->fallback = 0;
    e->status = NEGS_OK;
    if (r0 == r1) return;
    int next_st = draw_ahead(x, (unsigned)part, r0, cur);
    for (size_t r = r0; r < r1; r++) {
        if (next_st) {
            *e = (sp_part_err){NEGS_E_EXHAUSTED, r, {0, 0, 0}, 0.0f, s, 1, NULL, NULL};
            return;
        }
        if (r + 1 < r1) next_st = draw_ahead(x, (unsigned)part, r + 1, next);
        float ps = pos_score(x, kn, r);
        score_rows(x, kn, r, cur, c, w->scores);
        sp_sel_info info;
        int st = sp_hard_select_row(s, w, s->seed, x->step, s->row_offset + r, SP_PURPOSE_SELECT, c,
                                    cur, w->scores, ps, k, x->out + r * k,
                                    x->logq ? x->logq + r * k : NULL, &info);
        if (st) {
            *e = (sp_part_err){st, r, info, ps, s, 0, cur, w->scores};
            return;
        }
        w->fallback += (uint64_t)info.fell;
        uint32_t *t = cur;
        cur = next;
        next = t;
    }
}

/* One curriculum row: slots pick children; each HARD child with slots scores its candidates
 * and selects that many; then the slots are filled in order. */
static int curriculum_row(const scored_ctx *x, unsigned part, size_t r, sp_part_err *e)
{
    const negs_sampler *s = x->s;
    uint64_t rowno = s->row_offset + r;
    uint32_t k = x->k, *out = x->out + r * k, count[SP_MAX_CHILDREN] = {0};
    float *lq = x->logq ? x->logq + r * k : NULL;
    sp_mix_row m;
    if (sp_mix_begin(&m, s, x->shares, part, s->seed, x->step, rowno, x->users != NULL,
                     x->users ? x->users[r] : 0, x->positives != NULL,
                     x->positives ? x->positives[r] : 0, k)) {
        *e = (sp_part_err){NEGS_E_EXHAUSTED, r, {0, 0, 0}, 0.0f, NULL, 1, NULL, NULL};
        return NEGS_E_EXHAUSTED;
    }
    for (uint32_t j = 0; j < k; j++) count[out[j] = sp_mix_pick(&m)]++;
    float ps = 0.0f;
    int have_ps = 0;
    for (uint32_t h = 0; h < s->n_children; h++) {
        const negs_sampler *hc = s->child[h];
        if (!count[h] || hc->kind != NEGS_SAMPLER_HARD) continue;
        const negs_sampler *g = hc->child[0];
        sp_hard_part *w = &hc->hard->part[part];
        uint32_t c = hc->candidates;
        sp_draw_row(&m.rows[h], g, &g->scr[part], &m.rc[h], c, w->items, NULL);
        prefetch_rows(x->emb, x->dim, w->items, c);
        if (!have_ps) {
            ps = pos_score(x, hc->hard->kn, r);
            have_ps = 1;
        }
        score_rows(x, hc->hard->kn, r, w->items, c, w->scores);
        sp_sel_info info;
        int st = sp_hard_select_row(hc, w, s->seed, x->step, rowno, SP_PURPOSE_SELECT_CHILD + h, c,
                                    w->items, w->scores, ps, count[h], w->picked,
                                    lq ? w->picked_lq : NULL, &info);
        if (st) {
            *e = (sp_part_err){st, r, info, ps, hc, 0, w->items, w->scores};
            return st;
        }
        w->fallback += (uint64_t)info.fell;
        count[h] = 0; /* from here on: the picks used so far */
    }
    for (uint32_t j = 0; j < k; j++) {
        uint32_t ch = out[j];
        if (s->child[ch]->kind == NEGS_SAMPLER_HARD) {
            const sp_hard_part *w = &s->child[ch]->hard->part[part];
            uint32_t i = count[ch]++;
            out[j] = w->picked[i];
            if (lq) lq[j] = w->picked_lq[i];
        } else {
            out[j] = sp_draw_one(&m.rows[ch], &m.rc[ch]);
            if (lq) lq[j] = sp_mix_logq(&m, s, k, out[j]);
        }
    }
    return NEGS_OK;
}

static void curriculum_part(void *vctx, size_t part, size_t n_parts)
{
    scored_ctx *x = vctx;
    const negs_sampler *s = x->s;
    size_t r0 = x->n_rows * part / n_parts, r1 = x->n_rows * (part + 1) / n_parts;
    for (uint32_t h = 0; h < s->n_children; h++)
        if (s->child[h]->kind == NEGS_SAMPLER_HARD) s->child[h]->hard->part[part].fallback = 0;
    x->err[part].status = NEGS_OK;
    for (size_t r = r0; r < r1; r++)
        if (curriculum_row(x, (unsigned)part, r, &x->err[part])) return;
}

/* The HARD samplers that select in this call: s itself, or a mixture's HARD children. */
static int check_selectors(const negs_sampler *s, const char *fn, uint32_t k, int has_pos,
                           unsigned parts, unsigned *n_hard)
{
    *n_hard = 0;
    for (uint32_t c = 0; c < (s->kind == NEGS_SAMPLER_HARD ? 1u : s->n_children); c++) {
        const negs_sampler *h = s->kind == NEGS_SAMPLER_HARD ? s : s->child[c];
        if (h->kind != NEGS_SAMPLER_HARD) continue;
        ++*n_hard;
        if (k > h->candidates)
            return negs_fail(NEGS_E_INVALID, "%s: k = %u exceeds NEGS_SP_CANDIDATES = %u%s", fn, k,
                             h->candidates, h == s ? "" : " of a HARD child (its slots may fill "
                             "the row)");
        int st = sp_hard_check_mode(h, fn, k, h->candidates, has_pos, "positives");
        if (st) return st;
        if (h->n_children == 0)
            return negs_fail(NEGS_E_STATE, "%s: a HARD sampler without a child (call "
                             "negs_sampler_add)", fn);
        if (h->hard->parts < parts || h->hard->cap != h->candidates)
            return negs_fail(NEGS_E_STATE, "%s: a HARD child was changed after it was added to "
                             "the mixture; set its parameters before negs_sampler_add", fn);
    }
    if (!*n_hard)
        return negs_fail(NEGS_E_INVALID, "%s: the MIXTURE has no HARD child (use "
                         "negs_sampler_sample)", fn);
    return NEGS_OK;
}

NEGS_API int negs_sampler_sample_scored(negs_sampler *s, uint64_t step, size_t n_rows,
                                        const uint32_t *users, const uint32_t *positives,
                                        const float *query_emb, const float *item_emb, size_t dim,
                                        uint32_t k, uint32_t *out_items, float *out_logq)
{
    static const char *fn = "negs_sampler_sample_scored";
    int st = negs_check_ptr(s, fn, "hard");
    if (st) return st;
    if (s->kind != NEGS_SAMPLER_MIXTURE && (st = sp_hard_check_handle(s, fn))) return st;
    if (s->owned)
        return negs_fail(NEGS_E_INVALID, "%s: this sampler belongs to a mixture; call the mixture",
                         fn);
    if (!st) st = negs_check_ptr(query_emb, fn, "query_emb");
    if (!st) st = negs_check_ptr(item_emb, fn, "item_emb");
    if (!st) st = negs_check_ptr(out_items, fn, "out_items");
    if (st) return st;
    if (n_rows == 0) return negs_fail(NEGS_E_INVALID, "%s: n_rows is 0", fn);
    if (k == 0) return negs_fail(NEGS_E_INVALID, "%s: k is 0", fn);
    if (dim == 0) return negs_fail(NEGS_E_INVALID, "%s: dim is 0", fn);
    size_t t;
    if ((st = negs_size_mul(n_rows, k, &t, "negs_sampler_sample_scored: n_rows * k")) ||
        (st = negs_size_mul(n_rows, dim, &t, "negs_sampler_sample_scored: n_rows * dim")) ||
        (st = negs_size_mul(s->n_items, dim, &t, "negs_sampler_sample_scored: n_items * dim")))
        return st;
    unsigned n_hard, parts = s->threads < n_rows ? s->threads : (unsigned)n_rows;
    if ((st = check_selectors(s, fn, k, positives != NULL, s->threads, &n_hard))) return st;
    if ((st = sp_check_rows(s, s->threads, fn, n_rows, users, positives))) return st;
    if ((st = negs_check_finite_f(query_emb, n_rows * dim, fn, "query_emb"))) return st;
    const negs_sampler *mix = s->kind == NEGS_SAMPLER_MIXTURE ? s : s->child[0];
    double shares[SP_MAX_CHILDREN], tot = 0.0;
    for (uint32_t c = 0; c < mix->n_children; c++) tot += shares[c] = sp_schedule_share(mix, c, step);
    if (mix->kind == NEGS_SAMPLER_MIXTURE && !(tot > 0.0))
        return negs_fail(NEGS_E_STATE, "%s: every child's share is 0 at step %llu", fn,
                         (unsigned long long)step);
    scored_ctx x = {s, step, n_rows, users, positives, query_emb, item_emb, dim, k,
                    out_items, out_logq, shares, {{0}}};
    negs_pool_run(s->pool, s->kind == NEGS_SAMPLER_HARD ? hard_part : curriculum_part, &x, parts);
    for (uint32_t c = 0; c < (s->kind == NEGS_SAMPLER_HARD ? 1u : s->n_children); c++) {
        const negs_sampler *h = s->kind == NEGS_SAMPLER_HARD ? s : s->child[c];
        if (h->kind == NEGS_SAMPLER_HARD) sp_hard_collect(h->hard, parts);
    }
    for (unsigned p = 0; p < parts; p++) {
        const sp_part_err *e = &x.err[p];
        if (e->status) return sp_hard_report(fn, e, e->h ? e->h->candidates : 0, k, 1);
    }
    return NEGS_OK;
}
