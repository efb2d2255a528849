/* negs_sampler_sample on a WALK sampler. Row r reads one stream keyed by (seed, step,
 * ROW_OFFSET + r, SP_PURPOSE_WALK), its slots in order: each slot's walks, then (after
 * NEGS_SP_WALK_TRIES failed walks, or at once for a user without interactions) the uniform
 * fallback. So the output never depends on threads or on the split of rows over calls.
 * Nothing here allocates. */
#include <stdio.h>

#include "core/csr.h"
#include "core/errors.h"
#include "sampler_walk.h"

/* One row's fixed state. */
typedef struct walk_row {
    const negs_csr *g;
    const sp_walk *w;
    uint32_t user;
    const uint32_t *excl; /* the user's interactions, sorted, distinct */
    uint64_t nexcl;
    const uint64_t *bits; /* their bitmap, or NULL (binary search) */
    int has_pos;          /* the row's positive is excluded too (when outside excl) */
    uint32_t pos;
    uint32_t n_items;
    uint64_t m;           /* eligible items */
} walk_row;

static inline int excluded(const walk_row *r, uint32_t item)
{
    if (r->has_pos && item == r->pos) return 1;
    if (r->bits) return (int)((r->bits[item >> 6] >> (item & 63)) & 1u);
    return negs_sorted_contains(r->excl, r->nexcl, item);
}

/* The t-th (from 0) item outside the sorted, distinct list a[0..n): f(j) = a[j] - j counts
 * the outsiders below a[j] and does not decrease. */
static uint32_t rank_outside(const uint32_t *a, uint64_t n, uint64_t t)
{
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((uint64_t)a[mid] - mid <= t) lo = mid + 1;
        else hi = mid;
    }
    return (uint32_t)(t + lo);
}

/* Uniform over the eligible items: rejection from the catalogue (exact: the accepted draw is
 * uniform on the eligible set), then after SP_MAX_TRIES rejections the exact rank draw. */
static uint32_t fallback(const walk_row *r, sp_stream *st)
{
    for (int t = 0; t < SP_MAX_TRIES; t++) {
        uint32_t item = sp_bounded(st, r->n_items);
        if (!excluded(r, item)) return item;
    }
    uint64_t t = sp_bounded(st, (uint32_t)r->m);
    uint32_t item = rank_outside(r->excl, r->nexcl, t);
    /* the positive outside excl is one more item to skip */
    if (r->has_pos && item >= r->pos) item = rank_outside(r->excl, r->nexcl, t + 1);
    return item;
}

/* One walk of w->length hops from the row's user; the item it ends on. The user has at least
 * one interaction, and so has every node a walk reaches (by the edge it came along). */
static uint32_t walk_once(const walk_row *r, sp_stream *st)
{
    const negs_csr *g = r->g;
    const sp_walk *w = r->w;
    uint32_t v = r->user, half = (w->length - 1) / 2;
    for (uint32_t h = 0;; h++) {
        uint64_t lo = g->indptr[v], d = g->indptr[v + 1] - lo;
        uint32_t item = g->indices[lo + sp_bounded(st, (uint32_t)d)];
        if (h == half) return item;
        int back = w->restart_thr >> 32 ? 1 : w->restart_thr ? sp_u32(st) < w->restart_thr : 0;
        if (back) {
            v = r->user;
        } else {
            uint64_t ilo = w->g.item_ptr[item], id = w->g.item_ptr[item + 1] - ilo;
            v = w->g.item_users[ilo + sp_bounded(st, (uint32_t)id)];
        }
    }
}

typedef struct walk_ctx {
    const negs_sampler *s;
    uint64_t step;
    size_t n_rows;
    const uint32_t *users, *positives;
    uint32_t k;
    uint32_t *out;
    float *logq;
    /* per part: its counters and its first row without an eligible item (n_rows if none) */
    struct walk_part {
        uint64_t fallbacks, rejected;
        size_t bad;
    } part[256];
} walk_ctx;

static void walk_part(void *vctx, size_t part, size_t n_parts)
{
    walk_ctx *c = vctx;
    const negs_sampler *s = c->s;
    const sp_walk *w = s->walk;
    struct walk_part *pc = &c->part[part];
    size_t r0 = c->n_rows * part / n_parts, r1 = c->n_rows * (part + 1) / n_parts;
    *pc = (struct walk_part){0, 0, c->n_rows};
    for (size_t i = r0; i < r1; i++) {
        walk_row r;
        r.g = s->positives;
        r.w = w;
        r.user = c->users[i];
        r.excl = negs_csr_row(r.g, r.user, &r.nexcl);
        r.bits = s->ubits ? s->ubits + (size_t)r.user * s->ubits_words : NULL;
        r.n_items = s->n_items;
        r.has_pos = 0;
        r.pos = c->positives ? c->positives[i] : 0;
        r.has_pos = c->positives && !negs_sorted_contains(r.excl, r.nexcl, r.pos);
        r.m = (uint64_t)s->n_items - r.nexcl - (uint64_t)r.has_pos;
        if (r.m == 0) {
            pc->bad = i;
            return;
        }
        uint32_t tries = r.nexcl ? w->tries : 0;
        sp_stream st;
        sp_stream_init(&st, s->gen, s->seed, c->step, s->row_offset + i, SP_PURPOSE_WALK,
                       (uint64_t)c->k * (w->length + 2));
        uint32_t *out = c->out + i * c->k;
        for (uint32_t j = 0; j < c->k; j++) {
            uint32_t t = 0, item = 0;
            for (; t < tries; t++) {
                item = walk_once(&r, &st);
                if (!excluded(&r, item)) break;
            }
            pc->rejected += t;
            if (t == tries) {
                item = fallback(&r, &st);
                pc->fallbacks++;
            }
            out[j] = item;
        }
        if (c->logq)
            for (uint32_t j = 0; j < c->k; j++) c->logq[i * c->k + j] = NAN;
    }
}

int sp_walk_sample(negs_sampler *s, uint64_t step, size_t n_rows, const uint32_t *users,
                   const uint32_t *positives, uint32_t k, uint32_t *out_items, float *out_logq)
{
    static const char *fn = "negs_sampler_sample";
    if (!s->positives)
        return negs_fail(NEGS_E_STATE, "%s: the WALK sampler has no interaction graph (call "
                         "negs_sampler_set_positives)", fn);
    if (!users)
        return negs_fail(NEGS_E_INVALID, "%s: users is NULL but a WALK sampler starts each row's "
                         "walks at its user", fn);
    int st = sp_check_rows(s, s->threads, fn, n_rows, users, positives);
    if (st) return st;
    walk_ctx c; /* on the stack (about 6 KiB): no allocation */
    c.s = s;
    c.step = step;
    c.n_rows = n_rows;
    c.users = users;
    c.positives = positives;
    c.k = k;
    c.out = out_items;
    c.logq = out_logq;
    unsigned parts = s->threads < n_rows ? s->threads : (unsigned)n_rows;
    negs_pool_run(s->pool, walk_part, &c, parts);
    sp_walk *w = s->walk;
    w->fallbacks = w->rejected = 0;
    size_t bad = n_rows;
    for (unsigned p = 0; p < parts; p++) {
        w->fallbacks += c.part[p].fallbacks;
        w->rejected += c.part[p].rejected;
        if (c.part[p].bad < bad) bad = c.part[p].bad;
    }
    if (bad == n_rows) return NEGS_OK;
    char who[96];
    if (positives)
        snprintf(who, sizeof who, "row %zu (user %u, positive %u)", bad, users[bad], positives[bad]);
    else
        snprintf(who, sizeof who, "row %zu (user %u)", bad, users[bad]);
    return negs_fail(NEGS_E_EXHAUSTED, "%s: %s has no eligible item: its user's interactions "
                     "and its positive cover all %u items", fn, who, s->n_items);
}
