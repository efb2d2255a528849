/* negs_sampler_sample: validation, then rows split into contiguous parts over the pool.
 * Row r uses only streams keyed by (seed, step, ROW_OFFSET + r, purpose), so the output never
 * depends on the split. Nothing here allocates. */
#include <stdio.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/csr.h"
#include "core/errors.h"
#include "sampler_hard.h"
#include "sampler_internal.h"
#include "sampler_walk.h"

typedef struct run_ctx {
    const negs_sampler *s;
    uint64_t step;
    size_t n_rows;
    const uint32_t *users, *positives;
    uint32_t k;
    uint32_t *out;
    float *logq;
    const double *shares;
    /* per part: the first failing row */
    struct part_err {
        int status;
        size_t row;
        uint64_t m;
        int fallback;
    } err[256];
} run_ctx;

static void run_part(void *vctx, size_t part, size_t n_parts)
{
    run_ctx *c = vctx;
    const negs_sampler *s = c->s;
    size_t r0 = c->n_rows * part / n_parts, r1 = c->n_rows * (part + 1) / n_parts;
    const sp_scratch *scr = &s->scr[part];
    c->err[part].status = NEGS_OK;
    if (sp_short_ok(s, c->k)) {
        size_t bad_row;
        sp_row bad;
        int st = sp_short_rows(s, scr, c->step, r0, r1, c->users, c->positives, c->k, c->out,
                               c->logq, &bad_row, &bad);
        if (st) c->err[part] = (struct part_err){st, bad_row, bad.m, bad.fallback};
        return;
    }
    sp_rowgen g;
    sp_rowgen_init(&g, s->rows_gen);
    for (size_t r = r0; r < r1; r++) {
        int has_user = c->users != NULL, has_pos = c->positives != NULL;
        uint32_t user = has_user ? c->users[r] : 0, pos = has_pos ? c->positives[r] : 0;
        uint64_t rowno = s->row_offset + r;
        uint32_t *out = c->out + r * c->k;
        float *lq = c->logq ? c->logq + r * c->k : NULL;
        int st;
        if (s->kind == NEGS_SAMPLER_MIXTURE) {
            st = sp_mixture_row(s, c->shares, (unsigned)part, s->seed, c->step, rowno, has_user,
                                user, has_pos, pos, c->k, out, lq);
            if (st) {
                c->err[part] = (struct part_err){st, r, 0, 0};
                return;
            }
            continue;
        }
        sp_row row;
        st = sp_general_row(s, scr, &g, c->step, rowno, has_user, user, has_pos, pos, c->k, out, lq,
                            &row);
        if (st) {
            c->err[part] = (struct part_err){st, r, row.m, row.fallback};
            return;
        }
    }
}

static int has_children(const negs_sampler *s)
{
    return s->kind == NEGS_SAMPLER_MIXTURE || s->kind == NEGS_SAMPLER_HARD ||
           s->kind == NEGS_SAMPLER_SRNS;
}

static int needs_user(const negs_sampler *s)
{
    if (has_children(s)) {
        for (uint32_t c = 0; c < s->n_children; c++)
            if (needs_user(s->child[c])) return 1;
        return 0;
    }
    return s->kind == NEGS_SAMPLER_EXPOSURE || (s->positives && s->exclude);
}

static int needs_pos(const negs_sampler *s)
{
    if (has_children(s)) {
        for (uint32_t c = 0; c < s->n_children; c++)
            if (needs_pos(s->child[c])) return 1;
        return 0;
    }
    return s->kind == NEGS_SAMPLER_CATEGORY;
}

/* STATE when a table the kind needs is missing or the plan is out of date. */
static int check_ready(const negs_sampler *s, unsigned parts, const char *fn, const char *who)
{
    switch (s->kind) {
    case NEGS_SAMPLER_POPULARITY:
        if (!s->lw)
            return negs_fail(NEGS_E_STATE, "%s: %s is a POPULARITY sampler without weights (call "
                             "negs_sampler_set_weights)", fn, who);
        break;
    case NEGS_SAMPLER_CATEGORY:
        if (!s->cat)
            return negs_fail(NEGS_E_STATE, "%s: %s is a CATEGORY sampler without categories (call "
                             "negs_sampler_set_categories)", fn, who);
        break;
    case NEGS_SAMPLER_EXPOSURE:
        if (!s->exposures)
            return negs_fail(NEGS_E_STATE, "%s: %s is an EXPOSURE sampler without exposures (call "
                             "negs_sampler_set_exposures)", fn, who);
        break;
    case NEGS_SAMPLER_MIXTURE:
        if (s->n_children == 0)
            return negs_fail(NEGS_E_STATE, "%s: the MIXTURE has no children (call "
                             "negs_sampler_add)", fn);
        for (uint32_t c = 0; c < s->n_children; c++) {
            char name[32];
            snprintf(name, sizeof name, "child %u", c);
            if (s->child[c]->unique)
                return negs_fail(NEGS_E_UNSUPPORTED, "%s: %s of the mixture has UNIQUE set, which "
                                 "a mixture's child cannot honour", fn, name);
            int st = check_ready(s->child[c], parts, fn, name);
            if (st) return st;
        }
        break;
    case NEGS_SAMPLER_HARD:
    case NEGS_SAMPLER_SRNS: {
        int hard = s->kind == NEGS_SAMPLER_HARD;
        if (s->n_children == 0)
            return negs_fail(NEGS_E_STATE, "%s: %s is a %s sampler without a child (call "
                             "negs_sampler_add)", fn, who, hard ? "HARD" : "SRNS");
        int st = check_ready(s->child[0], parts, fn,
                             hard ? "the HARD sampler's child" : "the SRNS sampler's child");
        if (st) return st;
        break;
    }
    default:
        break;
    }
    if (s->scr_parts < parts || s->scr_cap < s->max_excl + 1 || (s->unique && !s->scr_bits))
        return negs_fail(NEGS_E_STATE, "%s: %s was changed after it was added to a mixture; set "
                         "its tables before negs_sampler_add", fn, who);
    return NEGS_OK;
}

/* The largest of v[0 .. n): 16 lanes of maxima in a fixed-length loop, which the compiler
 * turns into vector maxima (SSE2 at the baseline, AVX2 in the copy below). */
static inline uint32_t max_u32(const uint32_t *v, size_t n)
{
    enum { LANES = 16 };
    uint32_t m[LANES] = {0}, top = 0;
    size_t r = 0;
    for (; r + LANES <= n; r += LANES)
        for (unsigned l = 0; l < LANES; l++) m[l] = v[r + l] > m[l] ? v[r + l] : m[l];
    for (; r < n; r++) top = v[r] > top ? v[r] : top;
    for (unsigned l = 0; l < LANES; l++) top = m[l] > top ? m[l] : top;
    return top;
}

#if defined(__GNUC__) && defined(__x86_64__)
__attribute__((target("avx2"))) static uint32_t max_u32_avx2(const uint32_t *v, size_t n)
{
    return max_u32(v, n);
}
#endif

/* The first r < n with v[r] >= lim, or n. Every call checks all its rows, so the check is a
 * maximum over blocks (no branch per row, which cost about 1 ns a row of k = 1; the scalar
 * maximum was still 7 % of a call of k = 1 rows with exclusion); the row is looked for only in
 * a block that fails. */
static size_t first_at_least(const negs_sampler *s, const uint32_t *v, size_t n, uint32_t lim)
{
    enum { BLOCK = 1024 };
#if defined(__GNUC__) && defined(__x86_64__)
    const int avx2 = (s->cpu & NEGS_CPU_AVX2) != 0;
#else
    (void)s;
    const int avx2 = 0;
#endif
    for (size_t b = 0; b < n; b += BLOCK) {
        size_t e = n - b < BLOCK ? n : b + BLOCK;
#if defined(__GNUC__) && defined(__x86_64__)
        uint32_t top = avx2 ? max_u32_avx2(v + b, e - b) : max_u32(v + b, e - b);
#else
        uint32_t top = max_u32(v + b, e - b);
#endif
        if (top < lim) continue;
        for (size_t r = b; r < e; r++)
            if (v[r] >= lim) return r;
    }
    return n;
}

/* users[r] must be a row of every per-user table the sampler (or a child) reads. */
static int check_users(const negs_sampler *s, const char *fn, const uint32_t *users, size_t n_rows)
{
    if (has_children(s)) {
        for (uint32_t c = 0; c < s->n_children; c++) {
            int st = check_users(s->child[c], fn, users, n_rows);
            if (st) return st;
        }
        return NEGS_OK;
    }
    const negs_csr *t[2] = {s->positives && s->exclude ? s->positives : NULL,
                            s->kind == NEGS_SAMPLER_EXPOSURE ? s->exposures : NULL};
    for (int i = 0; i < 2; i++) {
        if (!t[i]) continue;
        size_t r = first_at_least(s, users, n_rows, t[i]->n_users);
        if (r < n_rows)
            return negs_fail(NEGS_E_INVALID, "%s: users[%zu] = %u is not below the %u users of "
                             "the %s table", fn, r, users[r], t[i]->n_users,
                             i == 0 ? "positives" : "exposures");
    }
    return NEGS_OK;
}

NEGS_API int negs_sampler_sample(negs_sampler *s, uint64_t step, size_t n_rows,
                                 const uint32_t *users, const uint32_t *positives, uint32_t k,
                                 uint32_t *out_items, float *out_logq)
{
    static const char *fn = "negs_sampler_sample";
    int st = negs_check_ptr(s, fn, "s");
    if (!st) st = negs_check_ptr(out_items, fn, "out_items");
    if (st) return st;
    if (n_rows == 0) return negs_fail(NEGS_E_INVALID, "%s: n_rows is 0", fn);
    if (k == 0) return negs_fail(NEGS_E_INVALID, "%s: k is 0", fn);
    size_t total;
    if ((st = negs_size_mul(n_rows, k, &total, "negs_sampler_sample: n_rows * k")) != NEGS_OK) return st;
    if (s->owned)
        return negs_fail(NEGS_E_INVALID, "%s: this sampler belongs to a mixture; sample from the "
                         "mixture", fn);
    for (uint32_t c = 0; c < s->n_children; c++)
        if (s->kind == NEGS_SAMPLER_MIXTURE && s->child[c]->kind == NEGS_SAMPLER_HARD)
            return negs_fail(NEGS_E_STATE, "%s: child %u of the mixture is a HARD sampler, which "
                             "needs the model's scores: call negs_sampler_sample_scored", fn, c);
    if (s->kind == NEGS_SAMPLER_SRNS)
        return negs_fail(NEGS_E_STATE, "%s: an SRNS sampler needs the model's scores: call "
                         "negs_srns_candidates, then negs_srns_select", fn);
    if (s->kind == NEGS_SAMPLER_HARD)
        return sp_hard_sample(s, step, n_rows, users, positives, k, out_items, out_logq);
    if (s->kind == NEGS_SAMPLER_WALK)
        return sp_walk_sample(s, step, n_rows, users, positives, k, out_items, out_logq);
    unsigned parts = s->threads;
    if ((size_t)parts > n_rows) parts = (unsigned)n_rows;
    if ((st = sp_check_rows(s, s->threads, fn, n_rows, users, positives)) != NEGS_OK) return st;
    double shares[SP_MAX_CHILDREN], tot = 0.0;
    for (uint32_t c = 0; c < s->n_children; c++) tot += shares[c] = sp_schedule_share(s, c, step);
    if (s->kind == NEGS_SAMPLER_MIXTURE && !(tot > 0.0))
        return negs_fail(NEGS_E_STATE, "%s: every child's share is 0 at step %llu", fn,
                         (unsigned long long)step);

    run_ctx ctx; /* on the stack (about 6 KiB): no allocation, no TLS */
    ctx.s = s;
    ctx.step = step;
    ctx.n_rows = n_rows;
    ctx.users = users;
    ctx.positives = positives;
    ctx.k = k;
    ctx.out = out_items;
    ctx.logq = out_logq;
    ctx.shares = shares;
    negs_pool_run(s->pool, run_part, &ctx, parts);

    const struct part_err *bad = NULL;
    for (unsigned p = 0; p < parts && !bad; p++)
        if (ctx.err[p].status) bad = &ctx.err[p];
    if (!bad) return NEGS_OK;
    size_t r = bad->row;
    char who[96];
    if (users && positives) snprintf(who, sizeof who, "row %zu (user %u, positive %u)", r, users[r], positives[r]);
    else if (users) snprintf(who, sizeof who, "row %zu (user %u)", r, users[r]);
    else if (positives) snprintf(who, sizeof who, "row %zu (positive %u)", r, positives[r]);
    else snprintf(who, sizeof who, "row %zu", r);
    if (s->kind == NEGS_SAMPLER_MIXTURE)
        return negs_fail(NEGS_E_EXHAUSTED, "%s: %s has no eligible item in any child with a "
                         "positive share", fn, who);
    if (s->unique)
        return negs_fail(NEGS_E_EXHAUSTED, "%s: k = %u exceeds the %llu eligible items of %s%s", fn,
                         k, (unsigned long long)bad->m, who,
                         bad->fallback ? " (after falling back from its exposures to the catalogue)" : "");
    return negs_fail(NEGS_E_EXHAUSTED, "%s: %s has no eligible item%s", fn, who,
                     bad->fallback ? " (even after falling back from its exposures to the catalogue)"
                                   : "");
}

int sp_check_ready(const negs_sampler *s, const char *fn)
{
    return check_ready(s, 0, fn, "the sampler");
}

int sp_check_rows(const negs_sampler *s, unsigned parts, const char *fn, size_t n_rows,
                  const uint32_t *users, const uint32_t *positives)
{
    int st = check_ready(s, parts, fn, "the sampler");
    if (st) return st;
    if (needs_user(s) && !users)
        return negs_fail(NEGS_E_INVALID, "%s: users is NULL but the sampler reads per-user tables "
                         "(positives or exposures)", fn);
    if (needs_pos(s) && !positives)
        return negs_fail(NEGS_E_INVALID, "%s: positives is NULL but a CATEGORY sampler needs each "
                         "row's positive", fn);
    if (users && (st = check_users(s, fn, users, n_rows)) != NEGS_OK) return st;
    size_t r = positives ? first_at_least(s, positives, n_rows, s->n_items) : n_rows;
    if (r < n_rows)
        return negs_fail(NEGS_E_INVALID, "%s: positives[%zu] = %u is not below n_items = %u", fn, r,
                         positives[r], s->n_items);
    return NEGS_OK;
}
