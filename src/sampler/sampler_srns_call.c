/* negs_srns_candidates and negs_srns_select (the contract is in include/negsample.h).
 * select runs in two passes over the pool: every row picks from the memory as the call found
 * it (and the call fails, memory untouched, if any row is bad); then the first row of each
 * user refreshes that user's memory, so no two parts ever write one user. */
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "sampler_srns.h"

static int check_handle(const negs_sampler *s, const char *fn)
{
    if (s->kind != NEGS_SAMPLER_SRNS)
        return negs_fail(NEGS_E_INVALID, "%s: the sampler is not SRNS (kind %d)", fn, s->kind);
    const sp_srns *m = s->srns;
    if (s->n_children == 0)
        return negs_fail(NEGS_E_STATE, "%s: the SRNS sampler has no child (call negs_sampler_add)",
                         fn);
    if (!m->ids)
        return negs_fail(NEGS_E_STATE, "%s: the SRNS memory is not sized (call negs_srns_prepare)",
                         fn);
    if (m->S != m->mS || m->R != m->mR || m->W != m->mW)
        return negs_fail(NEGS_E_STATE, "%s: NEGS_SP_SRNS_MEMORY / REFRESH / HISTORY changed since "
                         "negs_srns_prepare (the memory has S = %u, R = %u, W = %u): call "
                         "negs_srns_prepare again", fn, m->mS, m->mR, m->mW);
    if (m->parts < s->threads)
        return negs_fail(NEGS_E_STATE, "%s: the SRNS workspace is smaller than NEGS_SP_THREADS", fn);
    return NEGS_OK;
}

static int check_users(const sp_srns *m, const char *fn, const uint32_t *users, size_t n_rows)
{
    for (size_t r = 0; r < n_rows; r++)
        if (users[r] >= m->n_users)
            return negs_fail(NEGS_E_INVALID, "%s: users[%zu] = %u is not below the %u users of the "
                             "SRNS memory (negs_srns_prepare)", fn, r, users[r], m->n_users);
    return NEGS_OK;
}

/* The child's shares at step (a MIXTURE child); STATE when they are all 0. */
static int child_shares(const negs_sampler *s, uint64_t step, double *shares, const char *fn)
{
    const negs_sampler *ch = s->child[0];
    double tot = 0.0;
    for (uint32_t c = 0; c < ch->n_children; c++) tot += shares[c] = sp_schedule_share(ch, c, step);
    if (ch->kind == NEGS_SAMPLER_MIXTURE && !(tot > 0.0))
        return negs_fail(NEGS_E_STATE, "%s: every share of the SRNS sampler's MIXTURE child is 0 "
                         "at step %llu", fn, (unsigned long long)step);
    return NEGS_OK;
}

/* c fresh candidates of one row from the child. */
static int draw(const negs_sampler *s, const double *shares, unsigned part, uint64_t step,
                uint64_t rowno, uint32_t user, int has_pos, uint32_t pos, uint32_t c, uint32_t *out)
{
    const negs_sampler *ch = s->child[0];
    if (c == 0) return NEGS_OK;
    if (ch->kind == NEGS_SAMPLER_MIXTURE)
        return sp_mixture_row(ch, shares, part, s->seed, step, rowno, 1, user, has_pos, pos, c, out,
                              NULL);
    sp_row row;
    int st = sp_row_init(&row, ch, &ch->scr[part], 1, user, has_pos, pos, ch->unique ? c : 1);
    if (st) return st;
    sp_stream rng;
    sp_stream_init(&rng, ch->gen, s->seed, step, rowno, SP_PURPOSE_SRNS_DRAW, 2 * (uint64_t)c + 8);
    sp_draw_row(&row, ch, &ch->scr[part], &rng, c, out, NULL);
    return NEGS_OK;
}

typedef struct cand_ctx {
    const negs_sampler *s;
    uint64_t step;
    size_t n_rows;
    const uint32_t *users, *positives;
    uint32_t *out;
    const double *shares;
    size_t bad[256]; /* per part: the first exhausted row, or n_rows */
} cand_ctx;

static void cand_part(void *vctx, size_t part, size_t n_parts)
{
    cand_ctx *x = vctx;
    const negs_sampler *s = x->s;
    const sp_srns *m = s->srns;
    uint32_t S = m->mS, n = m->mS + m->mR;
    size_t r0 = x->n_rows * part / n_parts, r1 = x->n_rows * (part + 1) / n_parts;
    x->bad[part] = x->n_rows;
    for (size_t r = r0; r < r1; r++) {
        uint32_t u = x->users[r], *out = x->out + r * n;
        int has_pos = x->positives != NULL;
        uint32_t pos = has_pos ? x->positives[r] : 0;
        int st;
        if (m->init[u]) {
            memcpy(out, m->ids + (size_t)u * S, S * sizeof *out);
            st = draw(s, x->shares, (unsigned)part, x->step, s->row_offset + r, u, has_pos, pos,
                      m->mR, out + S);
        } else {
            st = draw(s, x->shares, (unsigned)part, x->step, s->row_offset + r, u, has_pos, pos, n,
                      out);
        }
        if (st) {
            x->bad[part] = r;
            return;
        }
    }
}

NEGS_API int negs_srns_candidates(negs_sampler *srns, uint64_t step, size_t n_rows,
                                  const uint32_t *users, const uint32_t *positives,
                                  uint32_t *out_items)
{
    static const char *fn = "negs_srns_candidates";
    int st = negs_check_ptr(srns, fn, "srns");
    if (!st) st = check_handle(srns, fn);
    if (!st) st = negs_check_ptr(users, fn, "users");
    if (!st) st = negs_check_ptr(out_items, fn, "out_items");
    if (st) return st;
    if (n_rows == 0) return negs_fail(NEGS_E_INVALID, "%s: n_rows is 0", fn);
    const sp_srns *m = srns->srns;
    uint32_t n = m->mS + m->mR;
    size_t total;
    if ((st = negs_size_mul(n_rows, n, &total, "negs_srns_candidates: n_rows * (S + R)"))) return st;
    if ((st = check_users(m, fn, users, n_rows))) return st;
    if ((st = sp_check_rows(srns, srns->threads, fn, n_rows, users, positives))) return st;
    double shares[SP_MAX_CHILDREN];
    if ((st = child_shares(srns, step, shares, fn))) return st;
    cand_ctx x = {srns, step, n_rows, users, positives, out_items, shares, {0}};
    unsigned parts = srns->threads < n_rows ? srns->threads : (unsigned)n_rows;
    negs_pool_run(srns->pool, cand_part, &x, parts);
    for (unsigned p = 0; p < parts; p++)
        if (x.bad[p] < n_rows) {
            size_t r = x.bad[p];
            return negs_fail(NEGS_E_EXHAUSTED, "%s: row %zu (user %u) has %s eligible item in the "
                             "SRNS sampler's child", fn, r, users[r],
                             srns->child[0]->unique ? "fewer than the candidates it needs with "
                                                      "UNIQUE" : "no");
        }
    return (int)n;
}

/* ---------------------------------------------------------------- select */

enum { BAD_ITEM = 1, BAD_SCORE, BAD_MEMORY, BAD_SHORT };

typedef struct sel_err {
    int what; /* 0 or BAD_* */
    size_t row;
    uint32_t j; /* the candidate (BAD_SHORT: the distinct eligible count) */
} sel_err;

typedef struct sel_ctx {
    const negs_sampler *s;
    uint64_t step;
    size_t n_rows;
    const uint32_t *users, *positives, *items;
    const float *scores, *pos;
    uint32_t k;
    uint32_t *out;
    float *logq;
    double alpha_t;
    sel_err err[256];
} sel_ctx;

/* The m largest keys (NaN: out of the race), best first into sel, ties to the earlier
 * position; returns how many (< m when fewer are in the race). */
static uint32_t top(const double *key, uint32_t n, uint32_t m, uint32_t *sel)
{
    uint32_t cnt = 0;
    for (uint32_t j = 0; j < n; j++) {
        double kj = key[j];
        if (isnan(kj)) continue;
        if (cnt == m && !(kj > key[sel[m - 1]])) continue;
        uint32_t i = cnt < m ? cnt++ : m - 1;
        while (i > 0 && key[sel[i - 1]] < kj) {
            sel[i] = sel[i - 1];
            i--;
        }
        sel[i] = j;
    }
    return cnt;
}

/* 1 if items[j] occurs before position j. */
static int repeats(const uint32_t *items, uint32_t j)
{
    for (uint32_t i = 0; i < j; i++)
        if (items[i] == items[j]) return 1;
    return 0;
}

/* The record of a candidate: p = sigmoid(score - positive's score), as float. */
static void records(const float *scores, float pos, uint32_t n, float *p)
{
    for (uint32_t j = 0; j < n; j++) p[j] = (float)(1.0 / (1.0 + exp((double)pos - (double)scores[j])));
}

/* Population std of slot j's last min(cnt, W - 1) records (oldest first) and the record p. */
static double slot_std(const sp_srns *m, size_t slot, float p)
{
    uint32_t W = m->mW, c = m->cnt[slot], h = c < W - 1 ? c : W - 1;
    const float *rec = m->rec + slot * W;
    double sum = p;
    for (uint32_t t = c - h; t < c; t++) sum += rec[t % W];
    double mean = sum / (double)(h + 1), d = (double)p - mean, v = d * d;
    for (uint32_t t = c - h; t < c; t++) {
        d = (double)rec[t % W] - mean;
        v += d * d;
    }
    return sqrt(v / (double)(h + 1));
}

static int select_row(const sel_ctx *x, sp_srns_part *w, size_t r, sel_err *e)
{
    const negs_sampler *s = x->s;
    const sp_srns *m = s->srns;
    uint32_t S = m->mS, n = m->mS + m->mR, k = x->k, u = x->users[r];
    const uint32_t *ci = x->items + r * n, *mem = m->ids + (size_t)u * S;
    const float *cs = x->scores + r * n;
    int has_pos = x->positives != NULL;
    uint32_t pos = has_pos ? x->positives[r] : 0;
    *e = (sel_err){0, r, 0};
    for (uint32_t j = 0; j < n; j++) {
        if (ci[j] >= s->n_items) e->what = BAD_ITEM;
        else if (!isfinite(cs[j])) e->what = BAD_SCORE;
        else if (j < S && m->init[u] && ci[j] != mem[j]) e->what = BAD_MEMORY;
        if (e->what) {
            e->j = j;
            return e->what;
        }
    }
    records(cs, x->pos[r], S, w->p);
    for (uint32_t j = 0; j < S; j++) {
        if ((has_pos && ci[j] == pos) || repeats(ci, j)) {
            w->key[j] = NAN;
            continue;
        }
        double sd = m->init[u] ? slot_std(m, (size_t)u * S + j, w->p[j]) : 0.0;
        w->key[j] = (double)w->p[j] + x->alpha_t * sd;
    }
    uint32_t got = top(w->key, S, k, w->sel);
    if (got < k) {
        *e = (sel_err){BAD_SHORT, r, got};
        return BAD_SHORT;
    }
    for (uint32_t i = 0; i < k; i++) x->out[r * k + i] = ci[w->sel[i]];
    if (x->logq) memset(x->logq + r * k, 0, k * sizeof *x->logq);
    /* the plain rule: the same race on p alone */
    for (uint32_t j = 0; j < S; j++)
        if (!isnan(w->key[j])) w->key[j] = w->p[j];
    top(w->key, S, k, w->plain);
    for (uint32_t i = 0; i < k; i++) {
        int chosen = 0;
        for (uint32_t l = 0; l < k && !chosen; l++) chosen = w->sel[l] == w->plain[i];
        w->passed += (uint64_t)!chosen;
    }
    return 0;
}

static void select_part(void *vctx, size_t part, size_t n_parts)
{
    sel_ctx *x = vctx;
    sp_srns_part *w = &x->s->srns->part[part];
    size_t r0 = x->n_rows * part / n_parts, r1 = x->n_rows * (part + 1) / n_parts;
    w->passed = 0;
    x->err[part].what = 0;
    for (size_t r = r0; r < r1; r++)
        if (select_row(x, w, r, &x->err[part])) return;
}

/* Gumbel keys of the candidates, keep S (eligible first), store them in position order with
 * their histories, and record this call's p. */
static void refresh_row(const sel_ctx *x, sp_srns_part *w, size_t r)
{
    const negs_sampler *s = x->s;
    sp_srns *m = s->srns;
    uint32_t S = m->mS, W = m->mW, n = m->mS + m->mR, u = x->users[r];
    const uint32_t *ci = x->items + r * n;
    const float *cs = x->scores + r * n;
    int has_pos = x->positives != NULL, init = m->init[u];
    uint32_t pos = has_pos ? x->positives[r] : 0;
    double t = m->temp;
    records(cs, x->pos[r], n, w->p);
    sp_stream rng;
    sp_stream_init(&rng, s->gen, s->seed, x->step, s->row_offset + r, SP_PURPOSE_SRNS_KEEP,
                   2 * (uint64_t)n + 8);
    for (uint32_t j = 0; j < n; j++) {
        double v = ((double)(sp_u64(&rng) >> 11) + 0.5) * 0x1.0p-53;
        double g = -log(-log(v));
        int live = !(has_pos && ci[j] == pos) && !repeats(ci, j);
        /* s / T + g and s + T g order alike; each form stays finite on its side of T = 1 */
        w->key[j] = !live ? -INFINITY : t >= 1.0 ? (double)cs[j] / t + g : (double)cs[j] + t * g;
    }
    top(w->key, n, S, w->sel);
    for (uint32_t i = 1; i < S; i++) { /* position order */
        uint32_t v = w->sel[i], l = i;
        for (; l > 0 && w->sel[l - 1] > v; l--) w->sel[l] = w->sel[l - 1];
        w->sel[l] = v;
    }
    size_t base = (size_t)u * S;
    for (uint32_t i = 0; i < S; i++) {
        uint32_t j = w->sel[i];
        float *rec = w->rec + (size_t)i * W;
        w->ids[i] = ci[j];
        if (init && j < S) {
            w->cnt[i] = m->cnt[base + j];
            memcpy(rec, m->rec + (base + j) * W, W * sizeof *rec);
        } else {
            w->cnt[i] = 0;
        }
        rec[w->cnt[i] % W] = w->p[j];
        w->cnt[i]++;
    }
    memcpy(m->ids + base, w->ids, S * sizeof *w->ids);
    memcpy(m->cnt + base, w->cnt, S * sizeof *w->cnt);
    memcpy(m->rec + base * W, w->rec, (size_t)S * W * sizeof *w->rec);
    m->init[u] = 1;
}

static void refresh_part(void *vctx, size_t part, size_t n_parts)
{
    sel_ctx *x = vctx;
    const sp_srns *m = x->s->srns;
    size_t r0 = x->n_rows * part / n_parts, r1 = x->n_rows * (part + 1) / n_parts;
    for (size_t r = r0; r < r1; r++)
        if (m->first[x->users[r]] == r) refresh_row(x, &m->part[part], r);
}

static int report(const char *fn, const sel_ctx *x, const sel_err *e)
{
    const sp_srns *m = x->s->srns;
    uint32_t n = m->mS + m->mR;
    size_t r = e->row, at = r * n + e->j;
    uint32_t u = x->users[r];
    switch (e->what) {
    case BAD_ITEM:
        return negs_fail(NEGS_E_INVALID, "%s: cand_items[%zu] = %u is not below n_items = %u", fn,
                         at, x->items[at], x->s->n_items);
    case BAD_SCORE:
        return negs_fail(NEGS_E_INVALID, "%s: cand_scores[%zu] = %g (row %zu, candidate %u) is not "
                         "finite", fn, at, (double)x->scores[at], r, e->j);
    case BAD_MEMORY:
        return negs_fail(NEGS_E_INVALID, "%s: cand_items[%zu] = %u (row %zu, user %u) is not slot %u "
                         "of the user's memory (item %u): pass the ids of negs_srns_candidates "
                         "unchanged, the two calls in pairs on the same rows", fn, at, x->items[at],
                         r, u, e->j, m->ids[(size_t)u * m->mS + e->j]);
    default:
        return negs_fail(NEGS_E_EXHAUSTED, "%s: row %zu (user %u) has %u distinct eligible memory "
                         "items, fewer than k = %u", fn, r, u, e->j, x->k);
    }
}

NEGS_API int negs_srns_select(negs_sampler *srns, uint64_t step, size_t n_rows,
                              const uint32_t *users, const uint32_t *positives,
                              const uint32_t *cand_items, const float *cand_scores,
                              const float *pos_scores, uint32_t k, uint32_t *out_items,
                              float *out_logq)
{
    static const char *fn = "negs_srns_select";
    int st = negs_check_ptr(srns, fn, "srns");
    if (!st) st = check_handle(srns, fn);
    if (!st) st = negs_check_ptr(users, fn, "users");
    if (!st) st = negs_check_ptr(cand_items, fn, "cand_items");
    if (!st) st = negs_check_ptr(cand_scores, fn, "cand_scores");
    if (!st) st = negs_check_ptr(out_items, fn, "out_items");
    if (st) return st;
    if (!pos_scores)
        return negs_fail(NEGS_E_INVALID, "%s: pos_scores is NULL but SRNS scores each candidate "
                         "against the row's positive", fn);
    if (n_rows == 0) return negs_fail(NEGS_E_INVALID, "%s: n_rows is 0", fn);
    sp_srns *m = srns->srns;
    if (k == 0) return negs_fail(NEGS_E_INVALID, "%s: k is 0", fn);
    if (k > m->mS)
        return negs_fail(NEGS_E_INVALID, "%s: k = %u exceeds NEGS_SP_SRNS_MEMORY = %u", fn, k,
                         m->mS);
    size_t total;
    if ((st = negs_size_mul(n_rows, (size_t)m->mS + m->mR, &total,
                            "negs_srns_select: n_rows * (S + R)")) ||
        (st = negs_size_mul(n_rows, k, &total, "negs_srns_select: n_rows * k")))
        return st;
    if ((st = check_users(m, fn, users, n_rows))) return st;
    if (positives)
        for (size_t r = 0; r < n_rows; r++)
            if (positives[r] >= srns->n_items)
                return negs_fail(NEGS_E_INVALID, "%s: positives[%zu] = %u is not below n_items = %u",
                                 fn, r, positives[r], srns->n_items);
    if ((st = negs_check_finite_f(pos_scores, n_rows, fn, "pos_scores"))) return st;
    double ramp = m->warmup > 0.0 ? (double)step / m->warmup : 1.0;
    sel_ctx x = {srns, step, n_rows, users, positives, cand_items, cand_scores, pos_scores, k,
                 out_items, out_logq, m->alpha * (ramp < 1.0 ? ramp : 1.0), {{0}}};
    unsigned parts = srns->threads < n_rows ? srns->threads : (unsigned)n_rows;
    negs_pool_run(srns->pool, select_part, &x, parts);
    for (unsigned p = 0; p < parts; p++)
        if (x.err[p].what) return report(fn, &x, &x.err[p]);
    m->passed = 0;
    for (unsigned p = 0; p < parts; p++) m->passed += m->part[p].passed;
    /* each user's first row of the call refreshes its memory */
    m->calls++;
    for (size_t r = 0; r < n_rows; r++)
        if (m->stamp[users[r]] != m->calls) {
            m->stamp[users[r]] = m->calls;
            m->first[users[r]] = r;
        }
    negs_pool_run(srns->pool, refresh_part, &x, parts);
    return NEGS_OK;
}
