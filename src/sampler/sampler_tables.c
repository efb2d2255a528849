/* Derived tables (weight^alpha, alias tables, prefix sums, category lists) and the per-part
 * scratch. All of it is built at set time so that sampling never allocates. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/csr.h"
#include "core/errors.h"
#include "sampler_internal.h"
#include "sampler_logexp.h"
#include "sampler_unique.h"

typedef struct wpair {
    double w;
    uint32_t id;
} wpair;

static int cmp_wpair_desc(const void *a, const void *b)
{
    const wpair *x = a, *y = b;
    if (x->w != y->w) return x->w < y->w ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

void sp_tables_free(sp_tables *t)
{
    negs_alias_free(&t->alias);
    free(t->prefix);
    free(t->desc);
    free(t->cat_start);
    free(t->cat_items);
    free(t->gpos);
    free(t->cat_prefix);
    if (t->cat_alias)
        for (uint32_t g = 0; g < t->n_cat; g++) negs_alias_free(&t->cat_alias[g]);
    free(t->cat_alias);
    free(t->cat_npos);
    free(t->cat_desc);
    free(t->wd);
    free(t->hint);
    free(t->u_run);
    free(t->ur_lo);
    free(t->ur_hi);
    free(t->ur_w);
    free(t->ur_mf);
    free(t->ur_ml);
    free(t->u_w);
    free(t->u_npos);
    free(t->u_nsup);
    if (t->u_alias)
        for (uint32_t u = 0; u < t->n_users; u++) negs_alias_free(&t->u_alias[u]);
    free(t->u_alias);
    memset(t, 0, sizeof *t);
}

void sp_build_space_trim(negs_sampler *s, int all)
{
    sp_build_space *b = &s->bs;
    if (!all && b->builds >= 2) return;
    free(b->w);
    free(b->lw);
    negs_free_aligned(b->e);
    b->w = NULL;
    b->lw = NULL;
    b->e = NULL;
    b->cap = 0;
}

/* The build space's w for n items; NEGS_E_NOMEM if short. */
static int build_space_get(sp_build_space *b, uint32_t n)
{
    if (b->cap == n && b->w) return NEGS_OK;
    free(b->w);
    b->w = negs_alloc_array(n, sizeof *b->w, "sampler: weight^alpha (temporary)");
    b->cap = b->w ? n : 0;
    return b->w ? NEGS_OK : NEGS_E_NOMEM;
}

/* mx = the largest alpha lw_i over the finite lw_i, as a scan with > would find it: alpha
 * times the extreme log weight (rounding is monotone), or for alpha = 0 the zero of the first
 * finite one (its sign too). */
static double max_scaled_log(const negs_sampler *s, double alpha)
{
    if (alpha > 0.0) return alpha * s->lw_hi;
    if (alpha < 0.0) return alpha * s->lw_lo;
    for (uint32_t i = 0; i < s->n_items; i++)
        if (s->lw[i] != -INFINITY) return alpha * (double)s->lw[i];
    return -INFINITY;
}

/* w_i = exp(alpha lw_i - mx) into the build space, mx = max alpha lw_i so that no alpha
 * overflows; the common factor cancels in every probability. The largest w is 1, so the sum
 * is finite and some weight positive. One vectorised pass (libm's bits) that also sums w in
 * item order and counts the positive ones for the alias build. */
static double *build_weights(sp_tables *t, const negs_sampler *s, sp_build_space *b,
                             sp_expw_sums *ws)
{
    if (build_space_get(b, s->n_items)) return NULL;
    double alpha = s->alpha, mx = max_scaled_log(s, alpha);
    t->weighted = 1;
    t->alpha = alpha;
    t->mx = mx;
    sp_exp_weights(s->cpu, s->lw, s->n_items, alpha, mx, b->w, ws);
    return b->w;
}

/* Positions [0, n) of `ids` (items or positions) sorted by weight descending. */
static int sort_desc(uint32_t *out, const uint32_t *ids, const double *wt, uint32_t n)
{
    wpair *p = negs_alloc_array(n, sizeof *p, "sampler: weight order");
    if (!p) return NEGS_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) {
        p[i].w = wt[i];
        p[i].id = ids ? ids[i] : i;
    }
    qsort(p, n, sizeof *p, cmp_wpair_desc);
    for (uint32_t i = 0; i < n; i++) out[i] = p[i].id;
    free(p);
    return NEGS_OK;
}

static int build_catalogue(sp_tables *t, const double *w, uint32_t n, const sp_expw_sums *ws,
                           sp_build_space *b)
{
    negs_alias_entry *spare = b->e;
    b->e = NULL; /* the new table's now, whatever happens */
    int st = negs_alias_build_checked(&t->alias, w, n, ws->total, ws->n_pos, ws->any_pos, spare);
    if (st) return st;
    /* the build's own sum (in item order) and positive count: no second pass */
    t->total = t->alias.total;
    t->npos = t->alias.n_positive;
    t->has_cat_tables = 1;
    return NEGS_OK;
}

/* Prefix sums for the exact indexed draw, and the weight order for UNIQUE rows. */
static int build_exact(sp_tables *t, const double *w, uint32_t n, int unique)
{
    t->prefix = negs_alloc_array((size_t)n + 1, sizeof *t->prefix, "sampler: prefix sums");
    if (!t->prefix) return NEGS_E_NOMEM;
    double acc = 0.0;
    for (uint32_t i = 0; i < n; i++) {
        t->prefix[i] = acc;
        acc += w[i];
    }
    t->prefix[n] = acc;
    if (unique) {
        t->desc = negs_alloc_array(n, sizeof *t->desc, "sampler: weight order");
        if (!t->desc) return NEGS_E_NOMEM;
        return sort_desc(t->desc, NULL, w, n);
    }
    return NEGS_OK;
}

/* UNIQUE weighted rows: each item's w (so that the rows read it instead of an exp of the float
 * log weight: the same doubles), and with the catalogue's prefix sums the hints that start each
 * point's search near its answer (one per item: a point lands in a bucket of 1/n of the mass,
 * which holds about one item on average) and, with exclusion, the per-user tables of
 * sampler_unique_pass.c. */
static int build_unique(sp_tables *t, const double *w, uint32_t n, const negs_csr *pos)
{
    t->wd = negs_alloc_array(n, sizeof *t->wd, "sampler: UNIQUE weights");
    if (!t->wd) return NEGS_E_NOMEM;
    memcpy(t->wd, w, (size_t)n * sizeof *w);
    const double *P = t->prefix;
    if (!P || !(P[n] > 0.0)) return NEGS_OK;
    t->hint = negs_alloc_array(n, sizeof *t->hint, "sampler: UNIQUE search hints");
    if (!t->hint) return NEGS_E_NOMEM;
    t->n_hint = n;
    t->hint_scale = (double)n / P[n];
    uint32_t x = 0;
    for (uint32_t q = 0; q < n; q++) {
        double at = (double)q / t->hint_scale;
        while (x < n && P[x + 1] <= at) x++;
        t->hint[q] = x;
    }
    return pos && t->has_cat_tables ? sp_unique_user_tables(t, w, pos) : NEGS_OK;
}

/* 1 when some row of some user can have excluded more than SP_PREFIX_ABOVE of the mass: the
 * user's known positives plus the heaviest item (the row's positive). */
static int needs_prefix(const sp_tables *t, const double *w, uint32_t n, const negs_csr *p)
{
    if (!p) return 0;
    double wmax = 0.0;
    for (uint32_t i = 0; i < n; i++)
        if (w[i] > wmax) wmax = w[i];
    for (uint32_t u = 0; u < p->n_users; u++)
        if (t->u_w[u] + wmax > SP_PREFIX_ABOVE * t->total) return 1;
    return 0;
}

static int build_categories(sp_tables *t, const double *w, const uint32_t *cat, uint32_t n,
                            int unique)
{
    uint32_t mx = 0;
    for (uint32_t i = 0; i < n; i++)
        if (cat[i] > mx) mx = cat[i];
    t->n_cat = mx + 1;
    t->cat_start = negs_calloc_array((size_t)t->n_cat + 1, sizeof *t->cat_start, "sampler: categories");
    t->cat_items = negs_alloc_array(n, sizeof *t->cat_items, "sampler: category lists");
    t->gpos = negs_alloc_array(n, sizeof *t->gpos, "sampler: category positions");
    if (!t->cat_start || !t->cat_items || !t->gpos) return NEGS_E_NOMEM;
    for (uint32_t i = 0; i < n; i++) t->cat_start[cat[i] + 1]++;
    for (uint32_t g = 0; g < t->n_cat; g++) t->cat_start[g + 1] += t->cat_start[g];
    /* Counting sort: items ascending within each category, so positions follow item ids. */
    uint32_t *fill = negs_alloc_array(t->n_cat, sizeof *fill, "sampler: category fill");
    if (!fill) return NEGS_E_NOMEM;
    memcpy(fill, t->cat_start, (size_t)t->n_cat * sizeof *fill);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t x = fill[cat[i]]++;
        t->cat_items[x] = i;
        t->gpos[i] = x;
    }
    free(fill);
    if (!w) return NEGS_OK;

    t->cat_prefix = negs_alloc_array((size_t)n + 1, sizeof *t->cat_prefix, "sampler: category prefix");
    t->cat_alias = negs_calloc_array(t->n_cat, sizeof *t->cat_alias, "sampler: category tables");
    t->cat_npos = negs_calloc_array(t->n_cat, sizeof *t->cat_npos, "sampler: category counts");
    double *seg = negs_alloc_array(n, sizeof *seg, "sampler: category weights");
    if (!t->cat_prefix || !t->cat_alias || !t->cat_npos || !seg) {
        free(seg);
        return NEGS_E_NOMEM;
    }
    if (unique) {
        t->cat_desc = negs_alloc_array(n, sizeof *t->cat_desc, "sampler: category weight order");
        if (!t->cat_desc) {
            free(seg);
            return NEGS_E_NOMEM;
        }
    }
    double acc = 0.0;
    for (uint32_t x = 0; x < n; x++) {
        t->cat_prefix[x] = acc;
        seg[x] = w[t->cat_items[x]];
        acc += seg[x];
    }
    t->cat_prefix[n] = acc;
    int st = NEGS_OK;
    for (uint32_t g = 0; g < t->n_cat && !st; g++) {
        uint32_t lo = t->cat_start[g], len = t->cat_start[g + 1] - lo;
        for (uint32_t x = lo; x < lo + len; x++) t->cat_npos[g] += seg[x] > 0.0;
        if (t->cat_npos[g] > 0) st = negs_alias_build(&t->cat_alias[g], seg + lo, len);
        if (!st && unique && len > 0) {
            uint32_t *ids = t->cat_desc + lo;
            for (uint32_t j = 0; j < len; j++) ids[j] = lo + j;
            /* sort this segment's positions by weight: reuse sort_desc on the segment */
            st = sort_desc(ids, ids, seg + lo, len);
        }
    }
    free(seg);
    return st;
}

/* Weight and positive-weight count of each user's known positives on the catalogue. */
static int build_user_sums(sp_tables *t, const double *wt, const negs_csr *p)
{
    t->u_w = negs_alloc_array(p->n_users, sizeof *t->u_w, "sampler: per-user weights");
    t->u_npos = negs_alloc_array(p->n_users, sizeof *t->u_npos, "sampler: per-user counts");
    if (!t->u_w || !t->u_npos) return NEGS_E_NOMEM;
    for (uint32_t u = 0; u < p->n_users; u++) {
        double acc = 0.0;
        uint32_t cnt = 0;
        for (uint64_t j = p->indptr[u]; j < p->indptr[u + 1]; j++) {
            double w = wt[p->indices[j]];
            acc += w;
            cnt += w > 0.0;
        }
        t->u_w[u] = acc;
        t->u_npos[u] = cnt;
    }
    return NEGS_OK;
}

/* Per-user alias tables for the users who exclude much of the mass, users in id order while
 * the budget lasts. Each row of such a user then draws from its own table: its known
 * positives have probability exactly 0 there, so only the row's positive can be rejected. */
static int build_user_alias(sp_tables *t, const double *w, uint32_t n, const negs_csr *p,
                            size_t budget)
{
    size_t per = (size_t)n * sizeof(negs_alias_entry), used = 0;
    int any = 0;
    for (uint32_t u = 0; u < p->n_users && !any; u++)
        any = t->u_w[u] > SP_USER_TABLE_ABOVE * t->total && t->u_w[u] < t->total;
    if (!any || per > budget) return NEGS_OK;
    t->u_alias = negs_calloc_array(p->n_users, sizeof *t->u_alias, "sampler: per-user tables");
    double *wu = negs_alloc_array(n, sizeof *wu, "sampler: per-user weights");
    if (!t->u_alias || !wu) {
        free(wu);
        return NEGS_E_NOMEM;
    }
    t->n_users = p->n_users;
    memcpy(wu, w, (size_t)n * sizeof *wu);
    int st = NEGS_OK;
    for (uint32_t u = 0; u < p->n_users && !st && used + per <= budget; u++) {
        if (!(t->u_w[u] > SP_USER_TABLE_ABOVE * t->total) || t->u_npos[u] >= t->npos) continue;
        for (uint64_t j = p->indptr[u]; j < p->indptr[u + 1]; j++) wu[p->indices[j]] = 0.0;
        st = negs_alias_build(&t->u_alias[u], wu, n);
        for (uint64_t j = p->indptr[u]; j < p->indptr[u + 1]; j++)
            wu[p->indices[j]] = w[p->indices[j]];
        used += per;
    }
    free(wu);
    t->u_alias_bytes = used;
    return st;
}

/* UNIFORM with a support set: how many of each user's known positives lie inside it. */
static int build_support_counts(sp_tables *t, const uint32_t *sup, uint32_t n_sup, uint32_t n,
                                const negs_csr *p)
{
    uint64_t *in = negs_calloc_array(((size_t)n + 63) / 64, sizeof *in, "sampler: support bitmap");
    t->u_nsup = negs_alloc_array(p->n_users, sizeof *t->u_nsup, "sampler: per-user support counts");
    if (!in || !t->u_nsup) {
        free(in);
        return NEGS_E_NOMEM;
    }
    for (uint32_t j = 0; j < n_sup; j++) in[sup[j] >> 6] |= (uint64_t)1 << (sup[j] & 63);
    for (uint32_t u = 0; u < p->n_users; u++) {
        uint32_t cnt = 0;
        for (uint64_t j = p->indptr[u]; j < p->indptr[u + 1]; j++) {
            uint32_t it = p->indices[j];
            cnt += (uint32_t)((in[it >> 6] >> (it & 63)) & 1u);
        }
        t->u_nsup[u] = cnt;
    }
    free(in);
    return NEGS_OK;
}

int sp_rebuild(negs_sampler *s)
{
    sp_tables nt;
    memset(&nt, 0, sizeof nt);
    int st = NEGS_OK;
    int weighted = s->lw && s->kind != NEGS_SAMPLER_UNIFORM && s->kind != NEGS_SAMPLER_MIXTURE;
    double *w = NULL;
    sp_expw_sums ws;
    if (weighted && !(w = build_weights(&nt, s, &s->bs, &ws)))
        st = NEGS_E_NOMEM;
    if (!st && weighted &&
        (s->kind == NEGS_SAMPLER_POPULARITY || s->kind == NEGS_SAMPLER_EXPOSURE))
        st = build_catalogue(&nt, w, s->n_items, &ws, &s->bs);
    if (!st && s->kind == NEGS_SAMPLER_CATEGORY && s->cat)
        st = build_categories(&nt, w, s->cat, s->n_items, s->unique);
    if (!st && nt.has_cat_tables && s->positives)
        st = build_user_sums(&nt, w, s->positives);
    if (!st && nt.has_cat_tables && s->positives && !s->unique)
        st = build_user_alias(&nt, w, s->n_items, s->positives, s->utab_budget);
    if (!st && nt.has_cat_tables &&
        (s->unique || needs_prefix(&nt, w, s->n_items, s->positives)))
        st = build_exact(&nt, w, s->n_items, s->unique);
    if (!st && s->sup && s->positives)
        st = build_support_counts(&nt, s->sup, s->n_sup, s->n_items, s->positives);
    if (!st && weighted && s->unique)
        st = build_unique(&nt, w, s->n_items, s->positives);
    if (st) {
        sp_build_space_trim(s, 0);
        sp_tables_free(&nt);
        return st;
    }
    /* a handle that keeps its build space recycles the table it replaces */
    if (s->bs.builds >= 2 && !s->bs.e && s->t.alias.e && s->t.alias.n == s->n_items) {
        s->bs.e = s->t.alias.e;
        s->t.alias.e = NULL;
    }
    sp_build_space_trim(s, 0);
    sp_tables_free(&s->t);
    s->t = nt;
    sp_short_cache_build(s); /* sampler_short.c: per-user log z of short rows */
    return NEGS_OK;
}

size_t sp_item_bytes(const negs_sampler *s)
{
    const sp_tables *t = &s->t;
    size_t n = s->n_items, b = 0;
    if (s->lw) b += n * sizeof *s->lw;
    if (s->cat) b += n * sizeof *s->cat;
    if (t->alias.e) b += (size_t)t->alias.n * sizeof *t->alias.e;
    if (t->prefix) b += (n + 1) * sizeof *t->prefix;
    if (t->desc) b += n * sizeof *t->desc;
    if (t->wd) b += n * sizeof *t->wd;
    if (t->hint) b += (size_t)t->n_hint * sizeof *t->hint;
    if (t->cat_items) b += 2 * n * sizeof *t->cat_items; /* + gpos */
    if (t->cat_prefix) b += (n + 1) * sizeof *t->cat_prefix;
    if (t->cat_alias)
        for (uint32_t g = 0; g < t->n_cat; g++) b += (size_t)t->cat_alias[g].n * sizeof(negs_alias_entry);
    if (t->cat_desc) b += n * sizeof *t->cat_desc;
    if (s->sup) b += (size_t)s->n_sup * sizeof *s->sup;
    if (s->scr_bits) b += (size_t)s->scr_parts * ((n + 63) / 64) * 8;
    const sp_build_space *bs = &s->bs;
    if (bs->w) b += n * sizeof *bs->w;
    if (bs->lw) b += n * sizeof *bs->lw;
    if (bs->e) b += n * sizeof *bs->e;
    return b;
}

void sp_scratch_free(negs_sampler *s)
{
    if (s->scr)
        for (unsigned p = 0; p < s->scr_parts; p++) {
            free(s->scr[p].rp);
            free(s->scr[p].rc);
            free(s->scr[p].bits);
        }
    free(s->scr);
    s->scr = NULL;
    s->scr_parts = 0;
    s->scr_cap = 0;
    s->scr_bits = 0;
}

int sp_scratch_prepare(negs_sampler *s, unsigned parts)
{
    uint32_t cap = s->max_excl + 1;
    int bits = s->unique;
    size_t words = ((size_t)s->n_items + 63) / 64;
    sp_scratch *scr = negs_calloc_array(parts, sizeof *scr, "sampler: scratch");
    if (!scr) return NEGS_E_NOMEM;
    int st = NEGS_OK;
    for (unsigned p = 0; p < parts && !st; p++) {
        scr[p].rp = negs_alloc_array(cap, sizeof *scr[p].rp, "sampler: excluded positions");
        scr[p].rc = negs_alloc_array(cap, sizeof *scr[p].rc, "sampler: excluded weights");
        if (bits) scr[p].bits = negs_calloc_array(words, sizeof *scr[p].bits, "sampler: item bitmap");
        if (!scr[p].rp || !scr[p].rc || (bits && !scr[p].bits)) st = NEGS_E_NOMEM;
    }
    if (st) {
        for (unsigned p = 0; p < parts; p++) {
            free(scr[p].rp);
            free(scr[p].rc);
            free(scr[p].bits);
        }
        free(scr);
        return st;
    }
    sp_scratch_free(s);
    s->scr = scr;
    s->scr_parts = parts;
    s->scr_cap = cap;
    s->scr_bits = bits;
    for (uint32_t c = 0; c < s->n_children && !st; c++) st = sp_scratch_prepare(s->child[c], parts);
    return st;
}
