/* The negs_sampler handle, its derived tables and the per-row machinery shared by the kinds.
 *
 * Every kind draws from a "support" S (the catalogue, a category's item list or a user's
 * exposure row), optionally weighted by w = weight^alpha. A row removes from S its excluded
 * items R (the row's positive and, when excluding, the user's known positives); what is left
 * is the eligible set, drawn from in proportion to w renormalised by z = W(S) - W(R). */
#ifndef NEGS_SAMPLER_INTERNAL_H
#define NEGS_SAMPLER_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/alias.h"
#include "core/cpu.h"
#include "core/csr.h"
#include "core/pool.h"
#include "core/rng.h"
#include "negsample.h"
#include "sampler_stream.h"

/* Stream purposes (the `purpose` key of negs_rng_init): one per independent use in a row. */
#define SP_PURPOSE_DRAW 0x5301u       /* a plain kind's draws */
#define SP_PURPOSE_CHILD 0x5302u      /* a mixture's choice of child, one per draw */
#define SP_PURPOSE_CHILD_DRAW 0x5400u /* + child index: that child's draws inside a mixture */
#define SP_PURPOSE_SHARED 0x5303u     /* negs_sampler_sample_shared: a plain kind's draws */
#define SP_PURPOSE_SHARED_CHILD 0x5304u /* the same, a mixture's choice of child */
#define SP_PURPOSE_SHARED_DRAW 0x5600u  /* + child index: that child's shared draws (0x5500.. is HARD's) */

#define SP_MAX_CHILDREN 32
/* Weighted rejection switches to the exact indexed draw when less than this fraction of the
 * support's weight is eligible, and after this many rejections in a row. */
#define SP_EXACT_BELOW 0.125
#define SP_MAX_TRIES 64
/* The catalogue's prefix sums (8 B/item) are built only if a row's excluded mass can exceed
 * this fraction of the total; below it, the rare exact draw after SP_MAX_TRIES rejections
 * (probability <= 2^-64) scans the items instead. */
#define SP_PREFIX_ABOVE 0.5
/* Users whose known positives hold more than this fraction of the mass get their own alias
 * table (rejection would cost more than 1 / (1 - fraction) candidates per draw). */
#define SP_USER_TABLE_ABOVE 0.125

/* sampler_alias_simd.c: fills out[0..32) with the next 32 alias draws of an empty, aligned
 * stream and returns 1; returns 0 (the words then wait in the stream's buffer) when a Lemire
 * rejection needs the scalar loop. NULL when the CPU lacks AVX-512. */
typedef int (*sp_alias32_fn)(sp_stream *r, const negs_alias *a, uint32_t *out);
sp_alias32_fn sp_alias32_select(unsigned cpu);
/* The same 32 candidates filtered by exclusion (the user's bitmap, may be NULL, and the row's
 * positive); writes at most `room` accepted items and returns their count, or -1 (words left
 * in the buffer for the scalar replay) on a Lemire rejection or when the run of rejections,
 * carried in *run, would reach SP_MAX_TRIES. */
typedef int (*sp_excl32_fn)(sp_stream *r, const negs_alias *a, const uint32_t *bits32, int has_pos,
                            uint32_t pos, unsigned *run, uint32_t *out, uint32_t room);
sp_excl32_fn sp_excl32_select(unsigned cpu);
/* For tables beyond the caches: batches of 32 draws with the entries of the next batches
 * prefetched; returns the draws written (at most room), ending the call after a batch with a
 * Lemire rejection (which yields its accepted lanes). The stream must be empty on entry and is
 * empty on return. */
typedef uint32_t (*sp_far_fn)(sp_stream *r, const negs_alias *a, uint32_t *out, uint32_t room);
sp_far_fn sp_far_select(unsigned cpu);

/* UNIQUE weighted rows (sampler_unique_pass.c): for l < len in order, pts[c] = l + 1 where c
 * = sp_unique_points_below(u, d, inv_d, kk, m[l]) when c < kk; returns the last c (kk when
 * len is 0). sp_unique_marks_select (sampler_unique_simd.c): AVX-512's, or NULL. */
typedef uint32_t (*sp_umarks_fn)(const double *m, uint32_t len, double u, double d,
                                 double inv_d, uint32_t kk, uint32_t *pts);
sp_umarks_fn sp_unique_marks_select(unsigned cpu);

/* Tables derived from weights, alpha and categories; rebuilt as a whole by sp_rebuild. */
typedef struct sp_tables {
    /* weighted: w_i = exp(alpha * lw_i - mx), lw the handle's float log weights (no copy) */
    int weighted;
    double alpha, mx;
    /* the catalogue as one weighted support (POPULARITY, EXPOSURE's fallback) */
    int has_cat_tables;
    negs_alias alias;   /* over items */
    double *prefix;     /* n + 1: prefix[x] = sum of w over items < x; built only when some
                         * row can need the exact indexed draw (UNIQUE, or a user whose
                         * excluded mass can exceed SP_PREFIX_ABOVE of the total), else NULL */
    uint32_t *desc;     /* n: items by w descending (UNIQUE only), else NULL */
    /* UNIQUE weighted rows (sampler_unique.c), else NULL / 0: */
    double *wd;         /* n: w of each item, the doubles sp_item_w computes (no exp per use) */
    uint32_t *hint;     /* n_hint: hint[q] = last x with prefix[x] <= q * total / n_hint, where
                         * a point's search over the prefix sums starts */
    uint32_t n_hint;
    double hint_scale;  /* n_hint / total */
    /* with positives: each user's positives as runs of consecutive items (one event of
     * the systematic pass per run, sampler_unique_pass.c); user u's runs are
     * [u_run[u], u_run[u + 1]) */
    uint64_t *u_run;    /* n_users + 1 */
    uint32_t *ur_lo, *ur_hi; /* per run: its first item and one past its last */
    double *ur_w;       /* per run: the removed weight up to its end, as a row's pass adds it */
    double *ur_mf, *ur_ml; /* per run: the running maximum of the gap ends at its first and
                            * at its last item */
    double total;
    uint64_t npos;      /* items of positive weight */
    /* categories (CATEGORY) */
    uint32_t n_cat;       /* 1 + the largest category id */
    uint32_t *cat_start;  /* n_cat + 1: category g holds cat_items[cat_start[g] .. cat_start[g+1]) */
    uint32_t *cat_items;  /* n: items grouped by category, ascending within one */
    uint32_t *gpos;       /* n: position of each item in cat_items */
    double *cat_prefix;   /* n + 1 over cat_items positions (weighted only) */
    negs_alias *cat_alias;/* n_cat tables over local positions (weighted only; n = 0 if empty) */
    uint32_t *cat_npos;   /* n_cat: items of positive weight (weighted only) */
    uint32_t *cat_desc;   /* n: positions by w descending within each category (UNIQUE only) */
    /* per user of the positives table, for the catalogue support: weight and positive-weight
     * count of the user's known positives (so a row need not walk them) */
    double *u_w;
    uint32_t *u_npos;
    /* UNIFORM with a support set and positives: each user's known positives inside the set */
    uint32_t *u_nsup;
    /* per user whose known positives hold more than SP_USER_TABLE_ABOVE of the mass: an alias
     * table over the catalogue with those positives at weight 0 (n = 0: none), so that its
     * rows draw without rejecting them; within the handle's table budget. NULL if none. */
    negs_alias *u_alias;
    uint32_t n_users;     /* entries of u_alias */
    size_t u_alias_bytes;
} sp_tables;

typedef struct sp_scratch {
    uint32_t *rp;   /* removed positions, ascending */
    double *rc;     /* rc[j] = weight of rp[0..j] */
    uint64_t *bits; /* n_items bits, all zero between rows (UNIQUE uniform draws) */
} sp_scratch;

/* Workspace of negs_sampler_sample_shared: the batch's positives sorted (excl, tmp) and one
 * removed-positions scratch (rp, rc) per child (or one for a plain kind), for batches of up
 * to cap rows. */
typedef struct sp_shared_ws {
    size_t cap, slots;
    uint32_t *excl, *tmp;
    uint32_t *rp;
    double *rc;
} sp_shared_ws;

typedef struct sp_schedule {
    size_t n;       /* 0: no schedule, the static share holds */
    double *steps;  /* ascending */
    double *shares;
} sp_schedule;

/* The temporaries of a weighted build (weight^alpha 8 B/item, the spare float log weights of
 * set_weights 4, the previous alias table 8, recycled as the next build's: 20 B/item). Freed
 * after each build until set_weights has been called twice; from then on (weights under drift)
 * the handle keeps them (cap = n_items), so that its rebuilds touch no fresh pages. Peak
 * memory is the same. */
typedef struct sp_build_space {
    double *w;
    float *lw;
    negs_alias_entry *e; /* n_items entries or NULL */
    uint32_t cap;
    unsigned builds; /* set_weights calls so far, counted up to 2 */
} sp_build_space;

/* Short rows (sampler_short_batch.c) in groups of 16: Philox, candidates and table gathers
 * across the group, the next groups' data prefetched. Same contract and output as
 * sp_short_rows's per-row loop. */
struct sp_row;
struct sp_stream;
/* k draws of a UNIFORM catalogue row without exact draws, the user's known positives tested by
 * a SIMD scan of their sorted list (at most SR_LIST_MAX items): the same draws as draw_one
 * (sampler_short_batch.c, AVX-512). */
typedef void (*sp_list_run_fn)(struct sp_row *row, struct sp_stream *r, uint32_t k, uint32_t *out);
typedef int (*sp_short_batch_fn)(const negs_sampler *s, const sp_scratch *scr, uint64_t step,
                                 size_t r0, size_t r1, const uint32_t *users,
                                 const uint32_t *positives, uint32_t k, uint32_t *out, float *logq,
                                 size_t *bad_row, struct sp_row *bad);

struct negs_sampler {
    int kind;
    uint32_t n_items;
    uint64_t seed;
    /* parameters */
    double alpha;
    int unique;
    int exclude;
    int hard_mode;
    uint32_t candidates;
    double margin, temperature;
    uint32_t top_m;                  /* DNS(M,N)'s M */
    double ahns_alpha, ahns_beta, ahns_p;
    struct sp_hard *hard;            /* HARD selection workspace (sampler_hard.h), or NULL */
    struct sp_walk *walk;            /* WALK parameters and graph (sampler_walk.h), or NULL */
    struct sp_srns *srns;            /* SRNS parameters and memory (sampler_srns.h), or NULL */
    unsigned threads;
    uint64_t row_offset;
    negs_pool *pool;
    /* tables given by the caller */
    float *lw;               /* n: log of the caller's weights as float (-inf for 0); NULL
                              * until set_weights. The only per-item copy of the weights. */
    double lw_lo, lw_hi;     /* with lw: its least and largest finite values */
    unsigned cpu;            /* NEGS_CPU_* at creation: the weight build's log / exp kernels */
    uint32_t *cat;           /* n, copied; NULL until set_categories */
    uint32_t *sup;           /* UNIFORM's valid ids, ascending, distinct; NULL: the catalogue */
    uint32_t n_sup;
    int shared_exclude;      /* NEGS_SP_SHARED_EXCLUDE */
    sp_shared_ws sh;         /* negs_sampler_sample_shared's workspace, grown with the batch */
    const negs_csr *positives, *exposures; /* retained */
    uint32_t max_excl;       /* longest row of positives */
    size_t table_budget;     /* bytes allowed for the per-user bitmaps */
    size_t utab_budget;      /* bytes allowed for the per-user alias tables */
    uint64_t *ubits;         /* per-user bitmaps of the positives (within budget), or NULL */
    size_t ubits_words;      /* 64-bit words per user */
    sp_philox_fn gen;        /* batched Philox for this CPU */
    sp_philox_rows_fn rows_gen; /* the same across 16 rows' streams (short rows) */
    sp_alias32_fn alias32;   /* fused Philox + alias kernel, or NULL */
    sp_excl32_fn excl32;     /* the same with exclusion, or NULL */
    sp_far_fn far;           /* the same with prefetching, for large tables, or NULL */
    sp_short_batch_fn short_batch; /* short rows in groups, or NULL (one row at a time) */
    sp_list_run_fn list_run; /* UNIFORM rows testing the user's list by SIMD, or NULL */
    sp_umarks_fn umarks;     /* UNIQUE weighted rows' marks by SIMD, or NULL */
    struct sp_short_user *short_users; /* per user of the positives: its list and the log z
                              * of a short row that excludes its known positives and no other
                              * item (sampler_short.h); NULL: none */
    sp_tables t;
    sp_build_space bs;
    /* children (MIXTURE, HARD) */
    int owned;               /* 1 once handed to a parent */
    uint32_t n_children;
    negs_sampler *child[SP_MAX_CHILDREN];
    double share[SP_MAX_CHILDREN];
    sp_schedule sched[SP_MAX_CHILDREN];
    /* scratch, one per part of a sample call (parts = the calling handle's threads) */
    sp_scratch *scr;
    unsigned scr_parts;
    uint32_t scr_cap; /* capacity of rp / rc */
    int scr_bits;
};

/* One support as seen by one row. Positions index `items` (NULL: position == item). */
typedef struct sp_support {
    const uint32_t *items;
    uint32_t lo, hi;          /* positions [lo, hi) */
    const float *lw;          /* weighted: log raw weight by item; NULL: unweighted */
    double alpha, mx;         /* weighted: w = exp(alpha * lw - mx) */
    const double *prefix;     /* weighted: cumulative weight by position, or NULL (catalogue
                               * without prefix sums: exact draws scan) */
    const negs_alias *alias;  /* weighted: draws a position offset in [0, hi - lo) */
    const uint32_t *desc;     /* weighted + UNIQUE: positions [lo, hi) by weight descending */
    int desc_items;           /* desc holds items (catalogue) rather than positions */
    double total;             /* W(S) */
    uint64_t npos;            /* positive-weight items in S */
    int lookup;               /* how an item finds its position: SP_LOOKUP_* */
    const uint32_t *gpos;     /* CATEGORY lookup */
    const uint32_t *cat;
    uint32_t g;
} sp_support;

#define SP_LOOKUP_IDENTITY 0
#define SP_LOOKUP_CATEGORY 1
#define SP_LOOKUP_SEARCH 2

typedef struct sp_row {
    sp_support s;
    uint32_t pos_item;
    int has_pos;
    const uint32_t *excl;   /* the user's known positives when excluding, else NULL */
    uint64_t nexcl;
    const uint64_t *ubits;  /* the user's bitmap of excl, or NULL (binary search) */
    int utab;               /* s.alias is the user's own table: excl never drawn */
    int pos_in_excl;        /* the row's positive is one of excl */
    int uruns;              /* UNIQUE weighted: R is the user's positives, whose runs are
                             * t.ur_*[ur0 .. ur0 + nur) */
    uint32_t nur;
    uint64_t ur0;
    int r_built;            /* rp / rc / nr hold R (built lazily on the catalogue) */
    uint32_t *rp;
    double *rc;
    uint32_t nr;
    double z;               /* eligible weight (unweighted: the count) */
    uint64_t m;             /* eligible items of positive weight */
    int exact;              /* weighted: draw by exact index instead of rejection */
    int fallback;           /* EXPOSURE row that fell back to the catalogue */
} sp_row;

/* sampler_tables.c */
int sp_rebuild(negs_sampler *s);
/* Frees the build temporaries unless the handle keeps them (see sp_build_space); all = 1
 * frees them in any case (the handle's end). */
void sp_build_space_trim(negs_sampler *s, int all);
void sp_tables_free(sp_tables *t);
int sp_scratch_prepare(negs_sampler *s, unsigned parts);
void sp_scratch_free(negs_sampler *s);

/* sampler_row.c: builds row state; returns 0, or NEGS_E_EXHAUSTED when fewer than `need`
 * eligible items exist (EXPOSURE first falls back to the catalogue). */
int sp_row_init(sp_row *row, const negs_sampler *s, const sp_scratch *scr, int has_user,
                uint32_t user, int has_pos, uint32_t pos, uint64_t need);
/* A row of the catalogue support (or the support set) without a user or positive, excluding
 * the sorted, distinct items excl[0..nexcl) (shared draws); rp / rc hold nexcl entries, or are
 * NULL for a query that needs only z and m. */
int sp_row_init_list(sp_row *row, const negs_sampler *s, const uint32_t *excl, uint64_t nexcl,
                     uint32_t *rp, double *rc, uint64_t need);
/* Fills rp / rc / nr if the fast path skipped them. */
void sp_row_build_removed(sp_row *row);
static inline int sp_row_excluded(const sp_row *row, uint32_t item)
{
    if (row->has_pos && item == row->pos_item) return 1;
    if (!row->excl) return 0;
    if (row->ubits) return (int)((row->ubits[item >> 6] >> (item & 63)) & 1u);
    return negs_sorted_contains(row->excl, row->nexcl, item);
}
/* 1 if support position x is removed for this row. */
int sp_row_removed_pos(const sp_row *row, uint32_t x);
/* Weight of item under the row's distribution (0 when ineligible or outside the support). */
double sp_row_weight(const sp_row *row, uint32_t item);
uint32_t sp_row_rank_to_item(const sp_row *row, uint64_t t);
uint32_t sp_row_weight_to_item(const sp_row *row, double u);
static inline uint32_t sp_item_at(const sp_support *s, uint32_t x)
{
    return s->items ? s->items[x] : x;
}
/* w = weight^alpha (scaled by exp(-mx)) from the stored float log weight; 1 unweighted. */
static inline double sp_lw_weight(float lw, double alpha, double mx)
{
    return lw == -INFINITY ? 0.0 : exp(alpha * (double)lw - mx);
}
static inline double sp_item_w(const sp_support *s, uint32_t item)
{
    return s->lw ? sp_lw_weight(s->lw[item], s->alpha, s->mx) : 1.0;
}
/* sp_item_w(s, item) > 0, without the exp unless w could underflow. */
static inline int sp_item_positive(const sp_support *s, uint32_t item)
{
    if (!s->lw) return 1;
    float l = s->lw[item];
    if (l == -INFINITY) return 0;
    double x = s->alpha * (double)l - s->mx;
    return x > -700.0 || exp(x) > 0.0;
}
/* log w of an item of positive weight. */
static inline double sp_item_logw(const sp_support *s, uint32_t item)
{
    return s->alpha * (double)s->lw[item] - s->mx;
}
/* Bytes of the handle's per-item arrays (weights, alias, prefix sums, orders, categories,
 * per-part item bitmaps), for the benchmark's bytes-per-item figure. */
size_t sp_item_bytes(const negs_sampler *s);

/* sampler_draw.c */
uint32_t sp_draw_one(sp_row *row, sp_stream *r);
/* k items of one row; logq may be NULL. */
void sp_draw_row(sp_row *row, const negs_sampler *s, const sp_scratch *scr, sp_stream *r,
                 uint32_t k, uint32_t *out, float *logq);

/* sampler_unique.c: k distinct items of one row of a UNIQUE sampler s (see there); logq may be
 * NULL. */
void sp_draw_unique(sp_row *row, const negs_sampler *s, const sp_scratch *scr, sp_stream *r,
                    uint32_t k, uint32_t *out, float *logq);
/* The removed positions and weights of a UNIQUE weighted catalogue row of `user` from the
 * handle's per-user sums (no pass over the user's positives), when its positive is one of them
 * or absent; the same values build_removed computes. 0: not applicable, build them. */
int sp_unique_removed(sp_row *row, const negs_sampler *s, uint32_t user);

/* sampler_shared.c */
void sp_shared_free(sp_shared_ws *w);

/* sampler_logq.c: log of the expected count of item among k draws of the row (the value
 * sp_draw_row writes for drawn items); -inf when the row never draws it. The row was built by
 * sp_row_init with need = (s->unique ? k : 1) and succeeded. */
double sp_row_logq(const sp_row *row, const negs_sampler *s, uint32_t item, uint32_t k);
/* log(k * sum over the non-HARD children c with sh[c] > 0 of (sh[c] / tot) * p_c(item)), p_c
 * from the built child rows[c]: the mixture's log q. */
double sp_mixture_logq(const negs_sampler *mix, const sp_row *rows, const double *sh, double tot,
                       uint32_t item, uint32_t k);

/* sampler_sample.c: STATE when a table the sampler (or a child) needs is missing. */
int sp_check_ready(const negs_sampler *s, const char *fn);
/* sampler_sample.c: the checks of a call's rows (tables ready for `parts` parts, users and
 * positives given where needed and in range), with sentences naming fn. */
int sp_check_rows(const negs_sampler *s, unsigned parts, const char *fn, size_t n_rows,
                  const uint32_t *users, const uint32_t *positives);

/* sampler_short.c: rows of at most SP_SHORT_MAX_K draws (see there). */
#define SP_SHORT_MAX_K 7
int sp_short_ok(const negs_sampler *s, uint32_t k);
/* sampler_short_batch.c: sp_short_batch_fn for this CPU, or NULL without AVX-512. */
sp_short_batch_fn sp_short_batch_select(unsigned cpu);
sp_list_run_fn sp_list_run_select(unsigned cpu);
/* Rebuilds short_users for the current tables (after sp_rebuild); on a failed allocation
 * leaves it NULL, which only makes short rows with exclusion slower. */
void sp_short_cache_build(negs_sampler *s);
/* Rows [r0, r1) of a call; on a row without eligible items returns its status with the row
 * in *bad_row and its state in *bad. */
int sp_short_rows(const negs_sampler *s, const sp_scratch *scr, uint64_t step, size_t r0,
                  size_t r1, const uint32_t *users, const uint32_t *positives, uint32_t k,
                  uint32_t *out, float *logq, size_t *bad_row, sp_row *bad);
/* One row of a plain kind by the general path (sp_row_init, then sp_draw_row). */
int sp_general_row(const negs_sampler *s, const sp_scratch *scr, sp_rowgen *g, uint64_t step,
                   uint64_t rowno, int has_user, uint32_t user, int has_pos, uint32_t pos, uint32_t k,
                   uint32_t *out, float *lq, sp_row *row);

/* sampler_mixture.c */
double sp_schedule_share(const negs_sampler *mix, uint32_t c, uint64_t step);
/* One row of a mixture in progress: each child's row state and stream, and the choice of
 * child per slot. A HARD child's row is that of its own child (its candidates). */
typedef struct sp_mix_row {
    sp_row rows[SP_MAX_CHILDREN];
    sp_stream rc[SP_MAX_CHILDREN];
    sp_stream pick;
    double cum[SP_MAX_CHILDREN], sh[SP_MAX_CHILDREN], tot;
    uint32_t last;
} sp_mix_row;
/* NEGS_E_EXHAUSTED when no child with a positive share has an eligible item. */
int sp_mix_begin(sp_mix_row *m, const negs_sampler *mix, const double *shares, unsigned part,
                 uint64_t seed, uint64_t step, uint64_t rowno, int has_user, uint32_t user,
                 int has_pos, uint32_t pos, uint32_t k);
uint32_t sp_mix_pick(sp_mix_row *m);
/* log(k * sum over the non-HARD children of share_c * p_c(item)), shares normalised over all. */
float sp_mix_logq(const sp_mix_row *m, const negs_sampler *mix, uint32_t k, uint32_t item);
/* One row of a mixture without HARD children, keyed by seed, with the given (unnormalised,
 * per-child) shares; NEGS_E_EXHAUSTED when no child with a positive share has an eligible item. */
int sp_mixture_row(const negs_sampler *mix, const double *shares, unsigned part, uint64_t seed,
                   uint64_t step, uint64_t rowno, int has_user, uint32_t user, int has_pos,
                   uint32_t pos, uint32_t k, uint32_t *out, float *logq);

#endif
