/* The systematic pass of UNIQUE weighted rows without walking the gaps one by one.
 *
 * The row's removed positions (excluded or certain), in position order, are its events; the
 * gap before event i holds the eligible positions between event i - 1 and event i, and on the
 * line of eligible weight it ends at end_i = P[pos_i] - base - W_i (W_i: the removed weight
 * before event i, added up as the sequential pass does). That pass sends point j to the first
 * gap whose end exceeds it, which is the first event whose running maximum M_i of end exceeds
 * it (end may dip by an ulp where two events touch). So the gap of point j is the number of
 * events with M_i <= t_j, and since both sequences ascend, each event's count of points below
 * it, c_i, gives every point's gap at once: mark c_i with i, then take the running maximum of
 * the marks over the points. No branch depends on the data except rare rounding repairs, and
 * a point's search starts from the catalogue's hint for it, inside its gap.
 *
 * For a row whose removed set is the user's positives (no certain item, the row's positive
 * one of them or absent), W and M are the user's own tables, made once when the tables are
 * built; other rows compute them in chunks of UQ_CHUNK events on the stack. Either way W is
 * the sequential pass's sum of the differences of build_removed's running sums. */
#include "sampler_unique.h"

#include <string.h>
#if defined(__GNUC__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/alloc.h"

#define UQ_CHUNK 256

typedef struct uq_pass {
    const sp_row *row;
    const sp_support *s;
    const double *P, *wd;
    const sp_tables *ht; /* hints over the catalogue's prefix sums, or NULL */
    sp_umarks_fn marks;
    const uint32_t *capped;
    uint32_t h, kk, n_p; /* n_p: the last index of P (the support's end) */
    double base, u, d, inv_d;
    uint32_t *pts;
    uint32_t j;          /* points placed so far */
    int64_t prev;        /* the last point's position, -1 before the first */
} uq_pass;

/* Runs of events: run r covers positions [lo[r], hi[r]) (consecutive removed positions make
 * one run: the gaps between them are empty), with the removed weight after it (wa) and the
 * running maximum of the gap ends at its first position (mf, which the marks count points
 * against) and at its last (ml); the gap before lo[0] starts at g0 with removed weight w0, and
 * the run before the chunk ended with the maximum ml0. A point at or above mf[r] but below
 * ml[r] falls, by an ulp of rounding, into one of the empty gaps inside run r. */
typedef struct uq_chunk {
    const uint32_t *lo, *hi;
    const double *wa, *mf, *ml;
    uint32_t len, g0;
    double w0, ml0;
} uq_chunk;

int sp_unique_usable(const sp_row *row, const uint32_t *capped, uint32_t h, uint32_t x)
{
    const sp_support *s = &row->s;
    uint32_t item = sp_item_at(s, x);
    if (!sp_item_positive(s, item) || sp_row_excluded(row, item)) return 0;
    uint32_t a = 0, b = h;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (capped[mid] < x) a = mid + 1;
        else b = mid;
    }
    return !(a < h && capped[a] == x);
}

uint32_t sp_unique_next_usable(const sp_row *row, const uint32_t *capped, uint32_t h,
                               uint32_t prev, int have_prev)
{
    const sp_support *s = &row->s;
    for (uint32_t x = have_prev ? prev + 1 : s->lo; x < s->hi; x++)
        if (sp_unique_usable(row, capped, h, x)) return x;
    return prev;
}

uint32_t sp_unique_points_below(double u, double d, double inv_d, uint32_t kk, double m)
{
    double e = m * inv_d - u;
    int64_t c = e > -2.0 && e < (double)kk + 2.0 ? (int64_t)e : e > 0.0 ? (int64_t)kk : 0;
    c += (double)c < e;
    c = c < 0 ? 0 : c > (int64_t)kk ? (int64_t)kk : c;
    int up = (c < (int64_t)kk) & ((u + (double)c) * d < m);
    int down = (c > 0) & !((u + ((double)c - 1.0)) * d < m);
    if (__builtin_expect(up | down, 0)) {
        while (c > 0 && !((u + (double)(c - 1)) * d < m)) c--;
        while (c < (int64_t)kk && (u + (double)c) * d < m) c++;
    }
    return (uint32_t)c;
}

uint32_t sp_unique_marks(const double *m, uint32_t len, double u, double d, double inv_d,
                         uint32_t kk, uint32_t *pts)
{
    uint32_t c = kk;
    for (uint32_t l = 0; l < len; l++) {
        c = sp_unique_points_below(u, d, inv_d, kk, m[l]);
        if (c < kk) pts[c] = l + 1;
    }
    return c;
}

/* Largest x in [lo, hi) with P[x] <= v, else lo (hi > lo); no data-dependent branch. */
static inline uint32_t search_le(const double *P, uint32_t lo, uint32_t hi, double v)
{
    uint32_t n = hi - lo;
    while (n > 1) {
        uint32_t half = n / 2;
        lo = P[lo + half] <= v ? lo + half : lo;
        n -= half;
    }
    return lo;
}

/* The catalogue's hints, copied out of the tables for the loop. */
typedef struct uq_hints {
    const uint32_t *hint; /* NULL: no hints, binary search */
    uint32_t n_hint;
    double scale;
} uq_hints;

/* Largest x in [g0, g1) with P[x] <= v, else g0 (g1 > g0): from the hint of v's 1/n of the
 * mass (about one item), counting the few positions after it with P <= v four at a time.
 * P has entries up to n_p; v >= 0. */
static inline uint32_t locate(const double *P, uq_hints hs, uint32_t n_p, uint32_t g0, uint32_t g1,
                              double v)
{
    if (!hs.hint) return search_le(P, g0, g1, v);
    double qd = v * hs.scale;
    uint32_t q = qd < (double)hs.n_hint ? (uint32_t)qd : hs.n_hint - 1;
    uint32_t x = hs.hint[q];
    x = x < g0 ? g0 : x;
    x = x < g1 ? x : g1 - 1;
    if (__builtin_expect((x > g0) & (P[x] > v), 0)) return search_le(P, g0, x, v); /* rounding */
    while (x + 4 <= n_p) {
        uint32_t room = g1 - 1 - x; /* positions of the gap after x */
        const double *q4 = P + x + 1;
#if defined(__GNUC__) && defined(__SSE2__)
        __m128d vv = _mm_set1_pd(v);
        unsigned mk = (unsigned)_mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(q4), vv)) |
                      (unsigned)_mm_movemask_pd(_mm_cmple_pd(_mm_loadu_pd(q4 + 2), vv)) << 2;
        uint32_t c = (uint32_t)__builtin_ctz(~mk); /* P ascends: the set bits are a prefix */
#else
        uint32_t c = (uint32_t)(q4[0] <= v) + (uint32_t)(q4[1] <= v) + (uint32_t)(q4[2] <= v) +
                     (uint32_t)(q4[3] <= v);
#endif
        c = c < room ? c : room;
        x += c;
        if (c < 4) return x;
    }
    while (x + 1 < g1 && P[x + 1] <= v) x++;
    return x;
}

/* Marks then places the points of the gaps before the chunk's runs (and, for the last
 * chunk, after them). Points before p->j were placed by earlier chunks. The run arrays are
 * readable at index 0 even when len is 0. */
static void run_chunk(uq_pass *p, const uq_chunk *c, int last)
{
    const sp_row *row = p->row;
    const sp_support *s = p->s;
    uint32_t *pts = p->pts;
    const uint32_t kk = p->kk, j0 = p->j, len = c->len, hi = s->hi, n_p = p->n_p;
    const uint32_t lm1 = len ? len - 1 : 0, cg0 = c->g0;
    const double u = p->u, d = p->d, base = p->base, cw0 = c->w0, cml0 = c->ml0;
    const uint32_t *rlo = c->lo, *rhi = c->hi;
    const double *wa = c->wa, *ml = c->ml, *wd = p->wd, *P = p->P;
    const uq_hints hs = {p->ht ? p->ht->hint : NULL, p->ht ? p->ht->n_hint : 0,
                         p->ht ? p->ht->hint_scale : 0.0};
    if (j0 < kk) pts[j0] = 0; /* the previous chunk's mark: its runs all lie before */
    uint32_t cl = p->marks(c->mf, len, u, d, p->inv_d, kk, pts);
    uint32_t j1 = last ? kk : cl;
    uint32_t g = 0;
    int64_t prev = p->prev;
    for (uint32_t j = j0; j < j1; j++) {
        uint32_t mk = pts[j];
        g = mk > g ? mk : g;
        /* the gap's bounds and removed weight, read without a branch on g */
        uint32_t gi = g ? g - 1 : 0, gc = g < len ? g : lm1;
        uint32_t pa = rhi[gi], pb = rlo[gc];
        double wg = wa[gi], mg = ml[gi];
        uint32_t g0 = g ? pa : cg0, g1 = g < len ? pb : hi;
        double w = g ? wg : cw0, m_in = g ? mg : cml0;
        double t0 = (u + (double)j) * d;
        double v = t0 + base + w;
        uint32_t x = g1 > g0 ? locate(P, hs, n_p, g0, g1, v) : g0;
        uint32_t xs = x < hi ? x : hi - 1;
        if (__builtin_expect(!((g1 > g0) & ((int64_t)x > prev) & (wd[sp_item_at(s, xs)] > 0.0) &
                               !(t0 < m_in)), 0)) {
            /* inside a gap only the weight can disqualify (rounding past a zero weight); a
             * point inside a run's empty gaps is on a removed position */
            int have = prev >= 0;
            if (t0 < m_in || (have && x <= (uint32_t)prev) || x >= hi ||
                !(g1 > g0 ? wd[sp_item_at(s, x)] > 0.0 : sp_unique_usable(row, p->capped, p->h, x)))
                x = sp_unique_next_usable(row, p->capped, p->h, have ? (uint32_t)prev : x, have);
        }
        pts[j] = x;
        prev = x;
    }
    p->prev = prev;
    p->j = j1;
}

/* Events merged from the removed positions and the certain ones, with W and M computed as
 * the sequential pass computes its gap ends, in runs of consecutive positions, UQ_CHUNK runs
 * at a time (a run never spans two chunks). */
static void run_merged(uq_pass *p)
{
    const sp_row *row = p->row;
    const sp_support *s = p->s;
    uint32_t lo[UQ_CHUNK], hi[UQ_CHUNK];
    double wa[UQ_CHUNK], mf[UQ_CHUNK], ml[UQ_CHUNK];
    lo[0] = hi[0] = 0;
    wa[0] = ml[0] = 0.0;
    uq_chunk c = {lo, hi, wa, mf, ml, 0, s->lo, 0.0, -INFINITY};
    uint32_t ir = 0, ic = 0, nr = row->nr, h = p->h, len = 0;
    /* acc: build_removed's running sums of the removed weights (the same additions) */
    double wrm = 0.0, mx = -INFINITY, acc = 0.0, accp = 0.0;
    while (ir < nr || ic < h) {
        int from_r = ir < nr && (ic >= h || row->rp[ir] < p->capped[ic]);
        uint32_t g1 = from_r ? row->rp[ir] : p->capped[ic];
        double end = p->P[g1] - p->base - wrm;
        mx = end > mx ? end : mx;
        if (from_r) {
            acc += p->wd[sp_item_at(s, g1)];
            wrm += acc - accp;
            accp = acc;
            ir++;
        } else {
            wrm += p->wd[sp_item_at(s, p->capped[ic])];
            ic++;
        }
        if (len && g1 == hi[len - 1]) { /* extends the last run */
            hi[len - 1] = g1 + 1;
            wa[len - 1] = wrm;
            ml[len - 1] = mx;
            continue;
        }
        if (len == UQ_CHUNK) {
            c.len = len;
            run_chunk(p, &c, 0);
            c.g0 = hi[len - 1];
            c.w0 = wa[len - 1];
            c.ml0 = ml[len - 1];
            len = 0;
        }
        lo[len] = g1;
        hi[len] = g1 + 1;
        wa[len] = wrm;
        mf[len] = ml[len] = mx;
        len++;
    }
    c.len = len;
    run_chunk(p, &c, 1);
}

void sp_unique_points(const sp_row *row, const sp_tables *t, sp_umarks_fn marks,
                      const uint32_t *capped, uint32_t h, double u, double d, uint32_t kk,
                      uint32_t *pts)
{
    const sp_support *s = &row->s;
    uq_pass p;
    p.row = row;
    p.s = s;
    p.P = s->prefix;
    p.wd = t->wd;
    p.ht = t->hint && s->prefix == t->prefix ? t : NULL;
    p.marks = marks ? marks : sp_unique_marks;
    p.capped = capped;
    p.h = h;
    p.kk = kk;
    p.n_p = s->hi;
    p.base = p.P[s->lo];
    p.u = u;
    p.d = d;
    p.inv_d = 1.0 / d;
    p.pts = pts;
    p.j = 0;
    p.prev = -1;
    memset(pts, 0, (size_t)kk * sizeof *pts);
    if (row->uruns && h == 0) {
        uint64_t r0 = row->ur0;
        uq_chunk c = {t->ur_lo + r0, t->ur_hi + r0, t->ur_w + r0, t->ur_mf + r0, t->ur_ml + r0,
                      row->nur, s->lo, 0.0, -INFINITY};
        run_chunk(&p, &c, 1);
    } else {
        run_merged(&p);
    }
}

int sp_unique_user_tables(sp_tables *t, const double *w, const negs_csr *p)
{
    uint64_t nruns = 0;
    for (uint32_t u = 0; u < p->n_users; u++)
        for (uint64_t j = p->indptr[u]; j < p->indptr[u + 1]; j++)
            nruns += j == p->indptr[u] || p->indices[j] != p->indices[j - 1] + 1;
    /* one spare run: a row reads index 0 of its user's arrays even when the user has none */
    uint64_t na = nruns + 1;
    t->u_run = negs_alloc_array((uint64_t)p->n_users + 1, sizeof *t->u_run, "sampler: per-user runs");
    t->ur_lo = negs_alloc_array(na, sizeof *t->ur_lo, "sampler: per-user run starts");
    t->ur_hi = negs_alloc_array(na, sizeof *t->ur_hi, "sampler: per-user run ends");
    t->ur_w = negs_alloc_array(na, sizeof *t->ur_w, "sampler: per-user removed weights");
    t->ur_mf = negs_alloc_array(na, sizeof *t->ur_mf, "sampler: per-user gap ends");
    t->ur_ml = negs_alloc_array(na, sizeof *t->ur_ml, "sampler: per-user gap ends");
    if (!t->u_run || !t->ur_lo || !t->ur_hi || !t->ur_w || !t->ur_mf || !t->ur_ml)
        return NEGS_E_NOMEM;
    const double *P = t->prefix;
    uint64_t r = 0;
    for (uint32_t u = 0; u < p->n_users; u++) {
        t->u_run[u] = r;
        /* the running sums of build_removed, and the sequential pass's differences of them */
        double acc = 0.0, prev = 0.0, wrm = 0.0, mx = -INFINITY;
        for (uint64_t j = p->indptr[u]; j < p->indptr[u + 1]; j++) {
            uint32_t item = p->indices[j];
            acc += w[item];
            double end = P[item] - P[0] - wrm;
            mx = end > mx ? end : mx;
            wrm += acc - prev;
            prev = acc;
            if (r == t->u_run[u] || item != t->ur_hi[r - 1]) {
                t->ur_lo[r] = item;
                t->ur_mf[r] = mx;
                r++;
            }
            t->ur_hi[r - 1] = item + 1;
            t->ur_w[r - 1] = wrm;
            t->ur_ml[r - 1] = mx;
        }
    }
    t->u_run[p->n_users] = r;
    t->ur_lo[r] = t->ur_hi[r] = 0;
    t->ur_w[r] = t->ur_mf[r] = t->ur_ml[r] = 0.0;
    return NEGS_OK;
}
