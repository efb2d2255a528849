/* The set-up of one short row (k <= SP_SHORT_MAX_K), shared by the per-row loop of
 * sampler_short.c and the batched groups of sampler_short_batch.c: how the user's known
 * positives are tested, the eligible mass z and the checks that send a row to the general
 * path. Both apply exactly the general path's rules (sampler_row.c's catalogue_fast). */
#ifndef NEGS_SAMPLER_SHORT_H
#define NEGS_SAMPLER_SHORT_H

#include "core/csr.h"
#include "sampler_internal.h"

/* How a candidate is tested against the user's known positives. */
#define SR_NONE 0   /* nothing to test (no exclusion, or the user's own table) */
#define SR_BITS 1   /* the user's bitmap: one load */
#define SR_LIST 2   /* a SIMD scan of the sorted list (at most SR_LIST_MAX items) */
#define SR_SEARCH 3 /* binary search in the sorted list */
/* Longest list scanned with SIMD compares (4 vectors of 16). A user's bitmap is n / 8 bytes
 * spread over n / 512 cache lines, of which each probe touches one at random, while the list
 * is a few lines that every probe of the row reuses: the list wins unless the bitmap is within
 * a few times the list's size. */
#define SR_LIST_MAX 64

/* What a batch of short rows reads for a row's user (sampler_short.c builds one per user of
 * the positives at each rebuild, 16 B, four to a cache line), so that a group of 16 rows
 * gathers its users' set-up in a few vector loads instead of the offsets, sums and libm log of
 * each row: */
typedef struct sp_short_user {
    uint64_t list; /* offset of the user's list in the positives table << 8 | min(length, 255) */
    double logz;   /* log z of a row that excludes the known positives and no other item, NaN
                    * when such a row needs the per-row code (exact draws, no eligible mass,
                    * the user's own table) */
} sp_short_user;
#define SR_LEN_BITS 8
#define SR_LEN_CODE_MAX 255u

typedef struct sr_row {
    int mode;               /* SR_*: the test of the known positives */
    const uint64_t *bits;   /* the user's bitmap, or NULL */
    const uint32_t *list;   /* the user's known positives, ascending */
    uint64_t len;
    int test_pos;           /* the row's positive is tested apart (not a known positive) */
    uint32_t pos;
    const negs_alias *a;    /* the table drawn from (POPULARITY) */
    int utab;               /* a is the user's own table */
    double z;               /* eligible mass (UNIFORM: the count) */
} sr_row;

/* The test for a user with len known positives. */
static inline int sr_mode(const negs_sampler *s, uint64_t len, int simd)
{
    int small_bits = s->ubits && s->ubits_words * 8 <= 16 * len;
    if (s->ubits && (small_bits || len > SR_LIST_MAX || !simd)) return SR_BITS;
    return simd && len <= SR_LIST_MAX ? SR_LIST : SR_SEARCH;
}

/* Part one: the user's list and the test to use; simd says whether SR_LIST is available.
 * Returns 1 if the row's positive must then be looked up in the list (sr_row_finish's
 * pos_in), 0 if it need not. */
static inline int sr_row_begin(sr_row *q, const negs_sampler *s, int has_user, uint32_t user,
                               int has_pos, uint32_t pos, int simd)
{
    q->mode = SR_NONE;
    q->bits = NULL;
    q->list = NULL;
    q->len = 0;
    q->pos = pos;
    q->test_pos = has_pos;
    q->a = &s->t.alias;
    q->utab = 0;
    if (!(s->positives && s->exclude && has_user)) return 0;
    q->list = negs_csr_row(s->positives, user, &q->len);
    if (s->ubits) q->bits = s->ubits + (size_t)user * s->ubits_words;
    q->mode = sr_mode(s, q->len, simd);
    return has_pos;
}

/* Part two, given whether the row's positive is a known positive: z, the user's own table,
 * and 0 when the general path must draw the row (exact draws, a zero-mass corner). */
static inline int sr_row_finish(sr_row *q, const negs_sampler *s, uint32_t user, int pos_in)
{
    const sp_tables *t = &s->t;
    int excl = q->mode != SR_NONE;
    q->test_pos = q->test_pos && !pos_in;
    if (s->kind == NEGS_SAMPLER_POPULARITY) {
        /* z and m exactly as catalogue_fast computes them */
        double wp = q->test_pos ? sp_lw_weight(s->lw[q->pos], t->alpha, t->mx) : 0.0;
        double rw = (excl ? t->u_w[user] : 0.0) + wp;
        uint64_t rn = (excl ? t->u_npos[user] : 0) + (wp > 0.0);
        uint64_t m = t->npos - rn;
        q->z = t->total - rw;
        if (m == 0 || !(q->z > 1e-6 * t->total) || q->z < SP_EXACT_BELOW * t->total) return 0;
        if (excl && t->u_alias && t->u_alias[user].n) {
            q->a = &t->u_alias[user];
            q->utab = 1;
            q->mode = SR_NONE; /* the user's own table never draws the user's positives */
        }
    } else {
        uint64_t m = (uint64_t)s->n_items - q->len - (uint64_t)q->test_pos;
        q->z = (double)m;
        if ((double)m < SP_EXACT_BELOW * (double)s->n_items) return 0;
    }
    return 1;
}

/* The test of part one without SIMD (SR_LIST is never chosen then). */
static inline int sr_known_scalar(const sr_row *q, uint32_t item)
{
    if (q->mode == SR_BITS) return (int)((q->bits[item >> 6] >> (item & 63)) & 1u);
    return negs_sorted_contains(q->list, q->len, item);
}

/* log k - log z as the general path computes it (log_total: log of the full mass). */
static inline double sr_log_ratio(const negs_sampler *s, const sr_row *q, double logk,
                                  double log_total)
{
    double ztot = s->kind == NEGS_SAMPLER_POPULARITY ? s->t.total : (double)s->n_items;
    return logk - (q->z == ztot ? log_total : log(q->z));
}

#endif
