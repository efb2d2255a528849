/* Drawing the k items of one row of a plain (non-mixture) kind, and their log q.
 * - with replacement: k independent draws from the eligible distribution, E[count] = k p_i;
 * - UNIQUE rows: sampler_unique.c. */
#include <math.h>

#include "sampler_internal.h"
#include "sampler_short.h"

/* One alias draw from the support's table, as negs_alias_draw but on the batched stream.
 * Branch-free select: an entry whose alias is itself has threshold 2^32 - 1, and the coin
 * that fails it picks the alias, which is the same column. */
static inline uint32_t alias_pos(const negs_alias *a, sp_stream *r)
{
    for (;;) {
        uint64_t x = sp_u64(r);
        uint64_t m = (x >> 32) * (uint64_t)a->n;
        uint32_t lo = (uint32_t)m;
        if (lo < a->n) {
            uint32_t t = (uint32_t)(-a->n) % a->n;
            if (lo < t) continue;
        }
        uint32_t col = (uint32_t)(m >> 32);
        negs_alias_entry en = a->e[col];
        uint32_t take = 0u - (uint32_t)((uint32_t)x < en.threshold);
        return (col & take) | (en.alias & ~take);
    }
}

/* A draw from the support before exclusion: by weight, or uniform over its positions. */
static inline uint32_t support_draw(const sp_row *row, sp_stream *r)
{
    const sp_support *s = &row->s;
    uint32_t off = s->lw ? alias_pos(s->alias, r) : sp_bounded(r, s->hi - s->lo);
    return sp_item_at(s, s->lo + off);
}

static inline uint32_t draw_one(sp_row *row, sp_stream *r)
{
    if (!row->exact) {
        /* Rejection: at least 1/8 of the support's mass is eligible, so SP_MAX_TRIES failures
         * in a row (probability <= (7/8)^64 < 2e-4) are rare; the exact draw then takes over. */
        for (int tries = 0; tries < SP_MAX_TRIES; tries++) {
            uint32_t item = support_draw(row, r);
            if (!sp_row_excluded(row, item)) return item;
        }
        sp_row_build_removed(row);
    }
    if (!row->s.lw) return sp_row_rank_to_item(row, sp_bounded(r, (uint32_t)row->m));
    return sp_row_weight_to_item(row, sp_uniform(r) * row->z);
}

uint32_t sp_draw_one(sp_row *row, sp_stream *r)
{
    return draw_one(row, r);
}

/* The hot loop of popularity sampling with nothing to exclude: alias lookups reading the
 * batched stream in place (two words per draw, the same words alias_pos would read), and
 * prefetching the entries of draws 8 ahead when the table is larger than the caches. */
static void alias_run(const sp_row *row, sp_stream *r, uint32_t k, uint32_t *restrict out,
                      sp_alias32_fn fused, sp_far_fn far_fn)
{
    const negs_alias *a = row->s.alias;
    const uint32_t *items = row->s.items;
    const uint32_t lo = row->s.lo, n = a->n;
    const negs_alias_entry *e = a->e;
    /* beyond the caches: a large table, or a user's own table (rows rarely share a user) */
    const int far = n >= (1u << 19) || row->utab;
    uint32_t j = 0;
    while (j < k) {
        if (r->idx == r->cap) {
            if (far && far_fn && !items && lo == 0 && k - j >= 64 && r->first == SP_BLOCKS) {
                uint32_t got = far_fn(r, a, out + j, k - j);
                j += got;
                if (r->idx == r->cap) continue;
            } else if (fused && !items && lo == 0 && k - j >= 32 && r->first == SP_BLOCKS) {
                if (fused(r, a, out + j)) {
                    j += 32;
                    continue;
                }
            } else {
                sp_stream_refill(r);
            }
        }
        if (r->idx & 1u) { /* not on a draw boundary: take the general path once */
            uint32_t p = lo + alias_pos(a, r);
            out[j++] = items ? items[p] : p;
            continue;
        }
        const uint32_t *buf = r->buf;
        unsigned idx = r->idx, cap = r->cap;
        for (; j < k && idx < cap; idx += 2) {
            unsigned b = idx >> 2, w = idx & 3u;
            uint64_t x = ((uint64_t)buf[w * SP_BLOCKS + b] << 32) | buf[(w + 1) * SP_BLOCKS + b];
            if (far && idx + 16 < cap) {
                unsigned i2 = idx + 16;
                uint64_t hi = buf[(i2 & 3u) * SP_BLOCKS + (i2 >> 2)];
                __builtin_prefetch(&e[(hi * n) >> 32]);
            }
            uint64_t m = (x >> 32) * (uint64_t)n;
            if ((uint32_t)m < n && (uint32_t)m < (uint32_t)(-n) % n) continue; /* Lemire */
            uint32_t col = (uint32_t)(m >> 32);
            negs_alias_entry en = e[col];
            uint32_t take = 0u - (uint32_t)((uint32_t)x < en.threshold);
            uint32_t p = lo + ((col & take) | (en.alias & ~take));
            out[j++] = items ? items[p] : p;
        }
        r->idx = idx;
    }
}

/* Scalar rejection over the candidates left in the stream's buffer (at least one), with the
 * run of rejections carried across calls: after SP_MAX_TRIES in a row the exact draw takes
 * the slot. The batched kernel follows exactly this rule, so both give the same items. */
static uint32_t reject_run(sp_row *row, sp_stream *r, unsigned *run, uint32_t *out, uint32_t j,
                           uint32_t k)
{
    do {
        uint32_t item = support_draw(row, r);
        if (!sp_row_excluded(row, item)) {
            out[j++] = item;
            *run = 0;
        } else if (++*run == SP_MAX_TRIES) {
            sp_row_build_removed(row);
            out[j++] = sp_row_weight_to_item(row, sp_uniform(r) * row->z);
            *run = 0;
        }
    } while (j < k && r->idx < r->cap);
    return j;
}

static void excl_run(sp_row *row, sp_stream *r, uint32_t k, uint32_t *out, sp_excl32_fn fused)
{
    unsigned run = 0;
    uint32_t j = 0;
    /* the user's own table never draws the user's positives: only the row's is tested */
    const uint32_t *bits32 = row->utab ? NULL : (const uint32_t *)(const void *)row->ubits;
    while (j < k) {
        if (fused && r->idx == r->cap && r->first == SP_BLOCKS) {
            int c = fused(r, row->s.alias, bits32, row->has_pos, row->pos_item, &run, out + j, k - j);
            if (c >= 0) {
                j += (uint32_t)c;
                continue;
            }
        }
        j = reject_run(row, r, &run, out, j, k);
    }
}

void sp_draw_row(sp_row *row, const negs_sampler *s, const sp_scratch *scr, sp_stream *r,
                 uint32_t k, uint32_t *out, float *logq)
{
    if (s->unique) {
        sp_draw_unique(row, s, scr, r, k, out, logq);
        return;
    }
    /* nothing to reject: no exclusion, or the user's own table and a positive among the
     * user's known positives (which that table never draws) */
    int none = row->utab ? (!row->has_pos || row->pos_in_excl) : (!row->has_pos && !row->excl);
    if (row->s.lw && !row->exact && none)
        alias_run(row, r, k, out, s->alias32, s->far);
    else if (row->s.lw && !row->exact && !row->s.items && (!row->excl || row->ubits || row->utab))
        excl_run(row, r, k, out, s->excl32);
    else if (s->list_run && !row->s.lw && !row->exact && !row->s.items && row->s.lo == 0 &&
             row->excl && row->nexcl <= SR_LIST_MAX &&
             (!row->ubits || s->ubits_words * 8 > 16 * row->nexcl))
        s->list_run(row, r, k, out); /* the list beats a bitmap spread over many lines */
    else
        for (uint32_t j = 0; j < k; j++) out[j] = draw_one(row, r);
    if (!logq) return;
    double lk = log((double)k) - log(row->z);
    if (!row->s.lw) {
        for (uint32_t j = 0; j < k; j++) logq[j] = (float)lk;
    } else {
        const float *lw = row->s.lw;
        double a = row->s.alpha, c = lk - row->s.mx;
        for (uint32_t j = 0; j < k; j++) logq[j] = (float)(c + a * (double)lw[out[j]]);
    }
}
