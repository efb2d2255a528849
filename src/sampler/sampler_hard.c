/* HARD samplers: the selection workspace, the child, parameters 10..14, and
 * negs_sampler_sample on a HARD sampler (the child's c candidates per row). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "sampler_hard.h"

static void free_parts(sp_hard_part *p, unsigned parts)
{
    if (!p) return;
    for (unsigned i = 0; i < parts; i++) {
        free(p[i].items);
        free(p[i].scores);
        free(p[i].keys);
        free(p[i].k32);
        free(p[i].sel);
        free(p[i].e);
        free(p[i].picked);
        free(p[i].picked_lq);
    }
    free(p);
}

void sp_hard_free(negs_sampler *s)
{
    if (!s->hard) return;
    free_parts(s->hard->part, s->hard->parts);
    free(s->hard);
    s->hard = NULL;
}

int sp_hard_prepare(negs_sampler *s, unsigned parts)
{
    for (uint32_t c = 0; c < s->n_children; c++) {
        int st = sp_hard_prepare(s->child[c], parts);
        if (st) return st;
    }
    if (s->kind != NEGS_SAMPLER_HARD) return NEGS_OK;
    if (!s->hard) {
        s->hard = negs_calloc_array(1, sizeof *s->hard, "HARD sampler: workspace");
        if (!s->hard) return NEGS_E_NOMEM;
        s->hard->kn = negs_kernels_select(negs_cpu_features());
    }
    sp_hard *h = s->hard;
    if (h->part && h->parts == parts && h->cap == s->candidates) return NEGS_OK;
    size_t cap = s->candidates;
    sp_hard_part *p = negs_calloc_array(parts, sizeof *p, "HARD sampler: workspace");
    int ok = p != NULL;
    for (unsigned i = 0; ok && i < parts; i++) {
        p[i].items = negs_alloc_array(2 * cap, sizeof *p[i].items, "HARD sampler: candidates");
        p[i].scores = negs_alloc_array(cap, sizeof *p[i].scores, "HARD sampler: scores");
        p[i].keys = negs_alloc_array(cap, sizeof *p[i].keys, "HARD sampler: keys");
        p[i].k32 = negs_alloc_array(cap, sizeof *p[i].k32, "HARD sampler: keys");
        p[i].sel = negs_alloc_array(cap, sizeof *p[i].sel, "HARD sampler: selection");
        p[i].e = negs_alloc_array(cap, sizeof *p[i].e, "HARD sampler: softmax weights");
        p[i].picked = negs_alloc_array(cap, sizeof *p[i].picked, "HARD sampler: picks");
        p[i].picked_lq = negs_alloc_array(cap, sizeof *p[i].picked_lq, "HARD sampler: picks");
        ok = p[i].items && p[i].scores && p[i].keys && p[i].k32 && p[i].sel && p[i].e && p[i].picked &&
             p[i].picked_lq;
    }
    if (!ok) {
        free_parts(p, p ? parts : 0);
        return NEGS_E_NOMEM;
    }
    free_parts(h->part, h->parts);
    h->part = p;
    h->parts = parts;
    h->cap = s->candidates;
    return NEGS_OK;
}

/* The child draws candidates, so it must not itself need scores. */
static int scoreless(const negs_sampler *s)
{
    if (s->kind == NEGS_SAMPLER_HARD || s->kind == NEGS_SAMPLER_SRNS) return 0;
    for (uint32_t c = 0; c < s->n_children; c++)
        if (!scoreless(s->child[c])) return 0;
    return 1;
}

int sp_hard_add(negs_sampler *hard, negs_sampler *child)
{
    static const char *fn = "negs_sampler_add";
    if (hard->n_children)
        return negs_fail(NEGS_E_INVALID, "%s: the HARD sampler already has its child (exactly one "
                         "is allowed)", fn);
    if (!scoreless(child))
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: the child %s a HARD or SRNS sampler, which needs scores; "
                         "a HARD sampler's child must draw without them", fn,
                         child->kind == NEGS_SAMPLER_MIXTURE ? "holds" : "is");
    if (hard->owned && child->kind == NEGS_SAMPLER_MIXTURE)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: this HARD sampler belongs to a mixture, so its "
                         "child cannot be a MIXTURE (no nesting of mixtures)", fn);
    int st = sp_scratch_prepare(child, hard->scr_parts);
    if (!st) st = sp_hard_prepare(child, hard->scr_parts);
    if (st) return st;
    hard->child[0] = child;
    hard->share[0] = 1.0;
    hard->n_children = 1;
    child->owned = 1;
    return NEGS_OK;
}

static uint64_t fallback_rows(const negs_sampler *s)
{
    uint64_t n = s->hard ? s->hard->fallback_rows : 0;
    if (s->kind == NEGS_SAMPLER_MIXTURE)
        for (uint32_t c = 0; c < s->n_children; c++) n += fallback_rows(s->child[c]);
    return n;
}

int sp_hard_set_param(negs_sampler *s, int param, double value, const char *fn)
{
    switch (param) {
    case NEGS_SP_TOP_M:
        if (!(value >= 1.0 && value <= 4294967295.0 && value == floor(value)))
            return negs_fail(NEGS_E_INVALID, "%s: top_m = %g is not a whole number in "
                             "1..4294967295", fn, value);
        s->top_m = (uint32_t)value;
        return NEGS_OK;
    case NEGS_SP_AHNS_ALPHA:
    case NEGS_SP_AHNS_BETA:
    case NEGS_SP_AHNS_P: {
        const char *name = param == NEGS_SP_AHNS_ALPHA ? "ahns_alpha"
                           : param == NEGS_SP_AHNS_BETA ? "ahns_beta" : "ahns_p";
        if (!isfinite(value))
            return negs_fail(NEGS_E_INVALID, "%s: %s = %g must be finite", fn, name, value);
        *(param == NEGS_SP_AHNS_ALPHA ? &s->ahns_alpha
          : param == NEGS_SP_AHNS_BETA ? &s->ahns_beta : &s->ahns_p) = value;
        return NEGS_OK;
    }
    case NEGS_SP_FALLBACK_ROWS:
        return negs_fail(NEGS_E_INVALID, "%s: NEGS_SP_FALLBACK_ROWS is read-only", fn);
    default:
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: unknown parameter %d", fn, param);
    }
}

int sp_hard_get_param(const negs_sampler *s, int param, double *value, const char *fn)
{
    switch (param) {
    case NEGS_SP_TOP_M: *value = s->top_m; return NEGS_OK;
    case NEGS_SP_AHNS_ALPHA: *value = s->ahns_alpha; return NEGS_OK;
    case NEGS_SP_AHNS_BETA: *value = s->ahns_beta; return NEGS_OK;
    case NEGS_SP_AHNS_P: *value = s->ahns_p; return NEGS_OK;
    case NEGS_SP_FALLBACK_ROWS: *value = (double)fallback_rows(s); return NEGS_OK;
    default: return negs_fail(NEGS_E_UNSUPPORTED, "%s: unknown parameter %d", fn, param);
    }
}

int sp_hard_draw_row(const negs_sampler *h, const double *shares, unsigned part, uint64_t seed,
                     uint64_t step, uint64_t row, int has_user, uint32_t user, int has_pos,
                     uint32_t pos, uint32_t *out, float *logq)
{
    const negs_sampler *ch = h->child[0];
    uint32_t c = h->candidates;
    if (ch->kind == NEGS_SAMPLER_MIXTURE)
        return sp_mixture_row(ch, shares, part, seed, step, row, has_user, user, has_pos, pos, c,
                              out, logq);
    sp_row r;
    int st = sp_row_init(&r, ch, &ch->scr[part], has_user, user, has_pos, pos, ch->unique ? c : 1);
    if (st) return st;
    sp_stream rng;
    sp_stream_init(&rng, ch->gen, seed, step, row, SP_PURPOSE_DRAW, 2 * (uint64_t)c + 8);
    sp_draw_row(&r, ch, &ch->scr[part], &rng, c, out, logq);
    return NEGS_OK;
}

typedef struct draw_ctx {
    const negs_sampler *s;
    uint64_t step;
    size_t n_rows;
    const uint32_t *users, *positives;
    uint32_t *out;
    float *logq;
    const double *shares;
    size_t bad[256]; /* per part: the first exhausted row, or n_rows */
} draw_ctx;

static void draw_part(void *vctx, size_t part, size_t n_parts)
{
    draw_ctx *x = vctx;
    const negs_sampler *s = x->s;
    size_t r0 = x->n_rows * part / n_parts, r1 = x->n_rows * (part + 1) / n_parts;
    uint32_t c = s->candidates;
    x->bad[part] = x->n_rows;
    for (size_t r = r0; r < r1; r++) {
        int st = sp_hard_draw_row(s, x->shares, (unsigned)part, s->seed, x->step,
                                  s->row_offset + r, x->users != NULL, x->users ? x->users[r] : 0,
                                  x->positives != NULL, x->positives ? x->positives[r] : 0,
                                  x->out + r * c, x->logq ? x->logq + r * c : NULL);
        if (st) {
            x->bad[part] = r;
            return;
        }
    }
}

int sp_hard_sample(negs_sampler *s, uint64_t step, size_t n_rows, const uint32_t *users,
                   const uint32_t *positives, uint32_t k, uint32_t *out_items, float *out_logq)
{
    static const char *fn = "negs_sampler_sample";
    if (k != s->candidates)
        return negs_fail(NEGS_E_INVALID, "%s: k = %u, but a HARD sampler fills NEGS_SP_CANDIDATES "
                         "= %u candidates per row (pass k = %u, or use negs_sampler_sample_scored)",
                         fn, k, s->candidates, s->candidates);
    int st = sp_check_rows(s, s->threads, fn, n_rows, users, positives);
    if (st) return st;
    const negs_sampler *ch = s->child[0];
    double shares[SP_MAX_CHILDREN];
    double tot = 0.0;
    for (uint32_t c = 0; c < ch->n_children; c++) tot += shares[c] = sp_schedule_share(ch, c, step);
    if (ch->kind == NEGS_SAMPLER_MIXTURE && !(tot > 0.0))
        return negs_fail(NEGS_E_STATE, "%s: every share of the HARD sampler's MIXTURE child is 0 "
                         "at step %llu", fn, (unsigned long long)step);
    draw_ctx x = {s, step, n_rows, users, positives, out_items, out_logq, shares, {0}};
    unsigned parts = s->threads < n_rows ? s->threads : (unsigned)n_rows;
    negs_pool_run(s->pool, draw_part, &x, parts);
    for (unsigned p = 0; p < parts; p++)
        if (x.bad[p] < n_rows)
            return negs_fail(NEGS_E_EXHAUSTED, "%s: row %zu has %s eligible item in the HARD "
                             "sampler's child", fn, x.bad[p],
                             ch->unique ? "fewer than NEGS_SP_CANDIDATES" : "no");
    return NEGS_OK;
}
