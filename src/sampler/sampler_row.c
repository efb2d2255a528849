/* Per-row state: the row's support, its removed (excluded) positions and the normaliser of
 * the eligible distribution, plus exact indexed draws that need no rejection. */
#include <string.h>

#include "core/csr.h"
#include "sampler_internal.h"

static void support_catalogue(sp_support *sup, const negs_sampler *s)
{
    memset(sup, 0, sizeof *sup);
    sup->lo = 0;
    sup->hi = s->n_items;
    sup->lookup = SP_LOOKUP_IDENTITY;
    if (s->t.has_cat_tables) {
        sup->lw = s->lw;
        sup->alpha = s->t.alpha;
        sup->mx = s->t.mx;
        sup->prefix = s->t.prefix;
        sup->alias = &s->t.alias;
        sup->desc = s->t.desc;
        sup->total = s->t.total;
        sup->npos = s->t.npos;
    } else if (s->sup) {
        /* UNIFORM restricted to the caller's valid ids (negs_sampler_set_support) */
        sup->items = s->sup;
        sup->hi = s->n_sup;
        sup->lookup = SP_LOOKUP_SEARCH;
        sup->total = (double)s->n_sup;
        sup->npos = s->n_sup;
    } else {
        sup->total = (double)s->n_items;
        sup->npos = s->n_items;
    }
}

static void support_category(sp_support *sup, const negs_sampler *s, uint32_t pos)
{
    const sp_tables *t = &s->t;
    memset(sup, 0, sizeof *sup);
    uint32_t g = s->cat[pos];
    sup->items = t->cat_items;
    sup->lo = t->cat_start[g];
    sup->hi = t->cat_start[g + 1];
    sup->lookup = SP_LOOKUP_CATEGORY;
    sup->gpos = t->gpos;
    sup->cat = s->cat;
    sup->g = g;
    if (t->weighted) {
        sup->lw = s->lw;
        sup->alpha = t->alpha;
        sup->mx = t->mx;
        sup->prefix = t->cat_prefix;
        sup->alias = &t->cat_alias[g];
        sup->desc = t->cat_desc;
        sup->total = t->cat_prefix[sup->hi] - t->cat_prefix[sup->lo];
        sup->npos = t->cat_npos[g];
    } else {
        sup->total = (double)(sup->hi - sup->lo);
        sup->npos = sup->hi - sup->lo;
    }
}

static void support_exposure(sp_support *sup, const negs_sampler *s, uint32_t user)
{
    uint64_t len;
    memset(sup, 0, sizeof *sup);
    sup->items = negs_csr_row(s->exposures, user, &len);
    sup->lo = 0;
    sup->hi = (uint32_t)len;
    sup->lookup = SP_LOOKUP_SEARCH;
    sup->total = (double)len;
    sup->npos = len;
}

/* Position of item in the support; 0 when it is not there. */
static int find_pos(const sp_support *s, uint32_t item, uint32_t *x)
{
    switch (s->lookup) {
    case SP_LOOKUP_IDENTITY:
        *x = item;
        return item >= s->lo && item < s->hi;
    case SP_LOOKUP_CATEGORY:
        if (s->cat[item] != s->g) return 0;
        *x = s->gpos[item];
        return 1;
    default: {
        uint32_t a = s->lo, b = s->hi;
        while (a < b) {
            uint32_t mid = a + (b - a) / 2;
            if (s->items[mid] < item) a = mid + 1;
            else b = mid;
        }
        *x = a;
        return a < s->hi && s->items[a] == item;
    }
    }
}

/* R = (known positives U {positive}) within the support, as ascending positions, with the
 * eligible weight z and count m that are left. */
static void build_removed(sp_row *row)
{
    const sp_support *s = &row->s;
    uint32_t nr = 0, x;
    double acc = 0.0;
    uint64_t npos_removed = 0;
    uint64_t i = 0;
    int pos_pending = row->has_pos;
    for (;;) {
        uint32_t item;
        if (i < row->nexcl && (!pos_pending || row->excl[i] <= row->pos_item)) {
            item = row->excl[i++];
            if (pos_pending && item == row->pos_item) pos_pending = 0;
        } else if (pos_pending) {
            item = row->pos_item;
            pos_pending = 0;
        } else {
            break;
        }
        if (!find_pos(s, item, &x)) continue;
        double w = sp_item_w(s, item);
        acc += w;
        npos_removed += w > 0.0;
        if (row->rp) { /* NULL: a read-only query wants z and m only */
            row->rp[nr] = x;
            row->rc[nr] = acc;
        }
        nr++;
    }
    row->nr = nr;
    row->r_built = 1;
    if (s->lw) {
        row->m = s->npos - npos_removed;
        row->z = s->total - acc;
        /* Cancellation when nearly all the weight is removed: sum what is left instead. */
        if (row->m > 0 && !(row->z > 1e-6 * s->total)) {
            double z = 0.0;
            for (uint32_t p = s->lo; p < s->hi; p++) {
                uint32_t item = sp_item_at(s, p);
                if (!sp_row_excluded(row, item)) z += sp_item_w(s, item);
            }
            row->z = z;
        }
        row->exact = row->z < SP_EXACT_BELOW * s->total;
    } else {
        row->m = (uint64_t)(s->hi - s->lo) - nr;
        row->z = (double)row->m;
        row->exact = 1;
    }
}

void sp_row_build_removed(sp_row *row)
{
    if (!row->r_built) build_removed(row);
}

/* item in the user's known positives (not the row's positive). */
static int in_user_list(const sp_row *row, uint32_t item)
{
    if (row->ubits) return (int)((row->ubits[item >> 6] >> (item & 63)) & 1u);
    return negs_sorted_contains(row->excl, row->nexcl, item);
}

/* The catalogue without walking R: per-user sums made at set time give z and m. R is built
 * later only if the row needs exact indexed draws. */
static void catalogue_fast(sp_row *row, const negs_sampler *s, uint32_t user, int unique)
{
    const sp_support *sup = &row->s;
    row->pos_in_excl = row->has_pos && row->excl && in_user_list(row, row->pos_item);
    int pos_removed = row->has_pos && !row->pos_in_excl;
    uint64_t nexcl = row->excl ? row->nexcl : 0;
    if (sup->lw) {
        double wp = pos_removed ? sp_item_w(sup, row->pos_item) : 0.0;
        double rw = (row->excl ? s->t.u_w[user] : 0.0) + wp;
        uint64_t rn = (row->excl ? s->t.u_npos[user] : 0) + (wp > 0.0);
        row->m = sup->npos - rn;
        row->z = sup->total - rw;
        if (row->m > 0 && !(row->z > 1e-6 * sup->total)) {
            build_removed(row);
            return;
        }
        row->exact = row->z < SP_EXACT_BELOW * sup->total;
    } else {
        if (sup->items) { /* a support set: count only what lies inside it */
            uint32_t x;
            nexcl = row->excl ? s->t.u_nsup[user] : 0;
            pos_removed = pos_removed && find_pos(sup, row->pos_item, &x);
        }
        row->m = (uint64_t)sup->hi - nexcl - (uint64_t)pos_removed;
        row->z = (double)row->m;
        row->exact = (double)row->m < SP_EXACT_BELOW * (double)sup->hi;
    }
    row->nr = 0;
    row->r_built = 0;
    if (row->excl && s->t.u_alias && s->t.u_alias[user].n) {
        row->s.alias = &s->t.u_alias[user];
        row->utab = 1;
    }
    if (unique && sp_unique_removed(row, s, user)) return; /* sampler_unique.c */
    if (row->exact || unique) build_removed(row);
}

int sp_row_init(sp_row *row, const negs_sampler *s, const sp_scratch *scr, int has_user,
                uint32_t user, int has_pos, uint32_t pos, uint64_t need)
{
    row->pos_item = pos;
    row->has_pos = has_pos;
    row->excl = NULL;
    row->nexcl = 0;
    row->ubits = NULL;
    row->rp = scr->rp;
    row->rc = scr->rc;
    row->fallback = 0;
    row->r_built = 0;
    row->utab = 0;
    row->pos_in_excl = 0;
    row->uruns = 0;
    int unique = s->unique;
    if (s->positives && s->exclude && has_user) {
        row->excl = negs_csr_row(s->positives, user, &row->nexcl);
        if (s->ubits) row->ubits = s->ubits + (size_t)user * s->ubits_words;
    }
    switch (s->kind) {
    case NEGS_SAMPLER_CATEGORY:
        support_category(&row->s, s, pos);
        build_removed(row);
        break;
    case NEGS_SAMPLER_EXPOSURE:
        support_exposure(&row->s, s, user);
        build_removed(row);
        if (row->m < need) {
            row->fallback = 1;
            support_catalogue(&row->s, s);
            catalogue_fast(row, s, user, unique);
        }
        break;
    default:
        support_catalogue(&row->s, s);
        catalogue_fast(row, s, user, unique);
        break;
    }
    return row->m < need ? NEGS_E_EXHAUSTED : NEGS_OK;
}

int sp_row_init_list(sp_row *row, const negs_sampler *s, const uint32_t *excl, uint64_t nexcl,
                     uint32_t *rp, double *rc, uint64_t need)
{
    memset(row, 0, sizeof *row);
    row->excl = nexcl ? excl : NULL;
    row->nexcl = nexcl;
    row->rp = rp;
    row->rc = rc;
    support_catalogue(&row->s, s);
    build_removed(row);
    return row->m < need ? NEGS_E_EXHAUSTED : NEGS_OK;
}

int sp_row_removed_pos(const sp_row *row, uint32_t x)
{
    uint32_t a = 0, b = row->nr;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (row->rp[mid] < x) a = mid + 1;
        else b = mid;
    }
    return a < row->nr && row->rp[a] == x;
}

double sp_row_weight(const sp_row *row, uint32_t item)
{
    uint32_t x;
    if (!find_pos(&row->s, item, &x) || sp_row_excluded(row, item)) return 0.0;
    return sp_item_w(&row->s, item);
}

uint32_t sp_row_rank_to_item(const sp_row *row, uint64_t t)
{
    /* f(j) = eligible positions before removed position j, non-decreasing in j. */
    uint32_t a = 0, b = row->nr, lo = row->s.lo;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if ((uint64_t)(row->rp[mid] - lo - mid) <= t) a = mid + 1;
        else b = mid;
    }
    return sp_item_at(&row->s, (uint32_t)(lo + t + a));
}

/* A position near x that is eligible and of positive weight (rounding repair; rare). */
static uint32_t repair(const sp_row *row, uint32_t x)
{
    const sp_support *s = &row->s;
    for (uint32_t d = 0; d < s->hi - s->lo; d++) {
        uint32_t c[2] = {x >= s->lo + d ? x - d : s->hi, x + d};
        for (int k = 0; k < 2; k++) {
            uint32_t p = c[k];
            if (p < s->lo || p >= s->hi) continue;
            if (sp_item_w(s, sp_item_at(s, p)) > 0.0 && !sp_row_removed_pos(row, p)) return p;
        }
    }
    return x;
}

/* Without prefix sums (a catalogue whose rows never lose more than SP_PREFIX_ABOVE of the
 * mass, reached only after SP_MAX_TRIES rejections in a row): the same inverse of the eligible
 * cumulative weight, by a scan over the items. O(n), probability below 2^-64 per draw. */
static uint32_t weight_to_item_scan(const sp_row *row, double u)
{
    const sp_support *s = &row->s;
    double acc = 0.0;
    uint32_t last = s->lo;
    for (uint32_t x = s->lo; x < s->hi; x++) {
        uint32_t item = sp_item_at(s, x);
        double w = sp_item_w(s, item);
        if (!(w > 0.0) || sp_row_excluded(row, item)) continue;
        acc += w;
        last = x;
        if (u < acc) return item;
    }
    return sp_item_at(s, last);
}

uint32_t sp_row_weight_to_item(const sp_row *row, double u)
{
    const sp_support *s = &row->s;
    const double *P = s->prefix;
    if (!P) return weight_to_item_scan(row, u);
    double base = P[s->lo];
    /* B(j) = eligible weight before removed position j, non-decreasing in j. */
    uint32_t a = 0, b = row->nr;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        double bj = (P[row->rp[mid]] - base) - (mid > 0 ? row->rc[mid - 1] : 0.0);
        if (bj <= u) a = mid + 1;
        else b = mid;
    }
    uint32_t j = a;
    uint32_t ga = j > 0 ? row->rp[j - 1] + 1 : s->lo, gb = j < row->nr ? row->rp[j] : s->hi;
    double v = u + base + (j > 0 ? row->rc[j - 1] : 0.0);
    if (ga >= gb) return sp_item_at(s, repair(row, ga < s->hi ? ga : s->hi - 1));
    /* largest x in [ga, gb) with P[x] <= v */
    uint32_t lo = ga, hi = gb;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (P[mid] <= v) lo = mid;
        else hi = mid;
    }
    uint32_t x = lo;
    if (!(sp_item_w(s, sp_item_at(s, x)) > 0.0)) x = repair(row, x);
    return sp_item_at(s, x);
}
