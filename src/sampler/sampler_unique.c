/* UNIQUE rows of a plain kind (no item twice in one row), and their log q:
 * - unweighted: a uniform k-subset of the eligible set (Floyd), inclusion k / m;
 * - weighted: systematic pi-ps sampling (Madow 1949) with inclusion probabilities
 *   pi_i = min(1, c w_i), c fixed by sum pi_i = k; items with c w_i >= 1 are taken for sure. */
#include <math.h>

#include "sampler_internal.h"
#include "sampler_unique.h"

static void shuffle(uint32_t *out, float *logq, uint32_t k, sp_stream *r)
{
    for (uint32_t i = k; i > 1; i--) {
        uint32_t j = sp_bounded(r, i);
        uint32_t t = out[i - 1];
        out[i - 1] = out[j];
        out[j] = t;
        if (logq) {
            float f = logq[i - 1];
            logq[i - 1] = logq[j];
            logq[j] = f;
        }
    }
}

static inline int bit_get(const uint64_t *b, uint32_t i)
{
    return (int)((b[i >> 6] >> (i & 63)) & 1u);
}

static void unique_uniform(const sp_row *row, const sp_scratch *scr, sp_stream *r, uint32_t k,
                           uint32_t *out, float *logq)
{
    uint64_t m = row->m, n_out = 0;
    uint64_t *bits = scr->bits;
    for (uint64_t j = m - k; j < m; j++) {
        uint32_t item = sp_row_rank_to_item(row, sp_bounded(r, (uint32_t)(j + 1)));
        if (bit_get(bits, item)) item = sp_row_rank_to_item(row, j);
        bits[item >> 6] |= (uint64_t)1 << (item & 63);
        out[n_out++] = item;
    }
    for (uint32_t j = 0; j < k; j++) bits[out[j] >> 6] = 0;
    if (logq) {
        float lq = (float)(log((double)k) - log((double)m));
        for (uint32_t j = 0; j < k; j++) logq[j] = lq;
    }
    shuffle(out, logq, k, r);
}

static void sort_u32(uint32_t *a, uint32_t n)
{
    /* Shell sort with Ciura's gaps: in place, no allocation, n is at most k. */
    static const uint32_t gaps[] = {1750, 701, 301, 132, 57, 23, 10, 4, 1};
    for (unsigned g = 0; g < sizeof gaps / sizeof gaps[0]; g++) {
        uint32_t gap = gaps[g];
        for (uint32_t i = gap; i < n; i++) {
            uint32_t v = a[i], j = i;
            while (j >= gap && a[j - gap] > v) {
                a[j] = a[j - gap];
                j -= gap;
            }
            a[j] = v;
        }
    }
    /* Gaps above 1750 are missing, so finish with insertion sort for long arrays. */
    for (uint32_t i = 1; i < n; i++) {
        uint32_t v = a[i], j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

/* Largest x in [from, hi) with P[x] <= v (from itself if none): galloping from `from`, as the
 * systematic points and the removed positions they skip move forward a little at a time. */
static uint32_t gallop(const double *P, uint32_t from, uint32_t hi, double v)
{
    uint32_t lo = from, step = 1;
    while (lo + step < hi && P[lo + step] <= v) {
        lo += step;
        step <<= 1;
    }
    uint32_t top = lo + step < hi ? lo + step : hi;
    while (top - lo > 1) {
        uint32_t mid = lo + (top - lo) / 2;
        if (P[mid] <= v) lo = mid;
        else top = mid;
    }
    return lo;
}

/* The systematic pass as a walk over the gaps between removed (excluded or certain)
 * positions, for handles without the UNIQUE tables: in the gap [g0, g1) the line of eligible
 * weight is P[x] - base - removed-before, so the points falling in it are located by a search
 * inside the gap. sp_unique_points (sampler_unique_pass.c) gives the same positions. */
static void points_walk(const sp_row *row, const uint32_t *out, uint32_t h, double u, double d,
                        uint32_t kk, uint32_t *pts)
{
    const sp_support *s = &row->s;
    const double *P = s->prefix;
    double base = P[s->lo], wrm = 0.0;
    uint32_t ir = 0, ic = 0, g0 = s->lo, j = 0, prev = 0;
    int have_prev = 0;
    while (j < kk) {
        int from_r = ir < row->nr && (ic >= h || row->rp[ir] < out[ic]);
        int more = from_r || ic < h;
        uint32_t g1 = more ? (from_r ? row->rp[ir] : out[ic]) : s->hi;
        double end = P[g1] - base - wrm;
        uint32_t a = g0;
        while (j < kk) {
            double t0 = (u + (double)j) * d;
            if (more && !(t0 < end)) break;
            uint32_t x = g1 > g0 ? gallop(P, a, g1, t0 + base + wrm) : g0;
            /* inside a gap a position is neither removed nor certain: only its weight can
             * disqualify it (rounding past a zero-weight item) */
            if ((have_prev && x <= prev) || x >= s->hi ||
                !(g1 > g0 ? sp_item_positive(s, sp_item_at(s, x)) : sp_unique_usable(row, out, h, x)))
                x = sp_unique_next_usable(row, out, h, have_prev ? prev : x, have_prev);
            pts[j++] = x;
            prev = x;
            have_prev = 1;
            a = x > a && x < g1 ? x : a;
        }
        if (!more) break;
        if (from_r) {
            wrm += row->rc[ir] - (ir > 0 ? row->rc[ir - 1] : 0.0);
            ir++;
        } else {
            wrm += sp_item_w(s, sp_item_at(s, out[ic]));
            ic++;
        }
        g0 = g1 + 1;
    }
}

int sp_unique_removed(sp_row *row, const negs_sampler *s, uint32_t user)
{
    const sp_tables *t = &s->t;
    const sp_support *sup = &row->s;
    if (!t->u_run || !row->excl || !row->nexcl || sup->lookup != SP_LOOKUP_IDENTITY || !sup->lw ||
        (row->has_pos && !row->pos_in_excl))
        return 0;
    /* R is the user's positives, in their order: build_removed's sums are the handle's */
    uint64_t m = sup->npos - t->u_npos[user];
    double z = sup->total - t->u_w[user];
    if (m > 0 && !(z > 1e-6 * sup->total)) return 0; /* the cancellation repair: build_removed */
    row->rp = (uint32_t *)(uintptr_t)row->excl; /* read only from here on */
    row->rc = NULL;
    row->uruns = 1;
    row->ur0 = t->u_run[user];
    row->nur = (uint32_t)(t->u_run[user + 1] - t->u_run[user]);
    row->nr = (uint32_t)row->nexcl;
    row->r_built = 1;
    row->m = m;
    row->z = z;
    row->exact = z < SP_EXACT_BELOW * sup->total;
    return 1;
}

static void unique_weighted(const sp_row *row, const negs_sampler *hs, sp_stream *r, uint32_t k,
                            uint32_t *out, float *logq)
{
    const sp_support *s = &row->s;
    const sp_tables *t = &hs->t;
    const double *wd = t->wd;
    uint32_t h = 0;
    double zu = row->z;
    /* Take for sure every item whose inclusion probability would reach 1. */
    for (uint32_t q = s->lo; q < s->hi && h < k; q++) {
        uint32_t x = s->desc[q], item = sp_item_at(s, x);
        if (sp_row_excluded(row, item)) continue; /* before the weight: often the top items */
        double w = wd ? wd[item] : sp_item_w(s, item);
        if (!(w > 0.0)) break;
        if ((double)(k - h) * w < zu) break;
        out[h++] = x;
        zu -= w;
    }
    uint32_t kk = k - h;
    sort_u32(out, h);
    double d = kk > 0 ? zu / kk : 1.0;
    if (kk > 0) {
        double u = sp_uniform(r);
        if (wd) sp_unique_points(row, t, hs->umarks, out, h, u, d, kk, out + h); /* sampler_unique_pass.c */
        else points_walk(row, out, h, u, d, kk, out + h);
    }
    double ld = log(d);
    for (uint32_t j = 0; j < k; j++) {
        uint32_t item = sp_item_at(s, out[j]);
        out[j] = item;
        if (logq) logq[j] = j < h ? 0.0f : (float)(sp_item_logw(s, item) - ld);
    }
    shuffle(out, logq, k, r);
}

void sp_draw_unique(sp_row *row, const negs_sampler *s, const sp_scratch *scr, sp_stream *r,
                    uint32_t k, uint32_t *out, float *logq)
{
    if (row->s.lw) unique_weighted(row, s, r, k, out, logq);
    else unique_uniform(row, scr, r, k, out, logq);
}
