/* negs_sampler lifecycle, parameters and tables. Everything that allocates happens here, so
 * negs_sampler_sample never does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "sampler_logexp.h"
#include "core/csr.h"
#include "core/errors.h"
#include "sampler_hard.h"
#include "sampler_internal.h"
#include "sampler_walk.h"
#include "sampler_srns.h"

static const char *kind_name(int kind)
{
    switch (kind) {
    case NEGS_SAMPLER_UNIFORM: return "UNIFORM";
    case NEGS_SAMPLER_POPULARITY: return "POPULARITY";
    case NEGS_SAMPLER_CATEGORY: return "CATEGORY";
    case NEGS_SAMPLER_EXPOSURE: return "EXPOSURE";
    case NEGS_SAMPLER_MIXTURE: return "MIXTURE";
    case NEGS_SAMPLER_WALK: return "WALK";
    case NEGS_SAMPLER_SRNS: return "SRNS";
    default: return "HARD";
    }
}

NEGS_API negs_sampler *negs_sampler_create(int kind, uint32_t n_items, uint64_t seed)
{
    static const char *fn = "negs_sampler_create";
    if (kind < NEGS_SAMPLER_UNIFORM || kind > NEGS_SAMPLER_WALK)
        return negs_fail_null(NEGS_E_UNSUPPORTED, "%s: kind = %d is not a NEGS_SAMPLER_* value", fn,
                              kind);
    if (n_items == 0) return negs_fail_null(NEGS_E_INVALID, "%s: n_items is 0", fn);
    negs_sampler *s = negs_calloc_array(1, sizeof *s, "sampler handle");
    if (!s) return NULL;
    s->kind = kind;
    s->n_items = n_items;
    s->seed = seed;
    s->alpha = 0.75;
    s->exclude = 1;
    s->hard_mode = NEGS_HARD_TOP;
    s->candidates = 64;
    s->margin = 1.0;
    s->temperature = 1.0;
    s->top_m = 4;
    s->ahns_beta = 1.0;
    s->threads = 1;
    s->shared_exclude = 1;
    s->table_budget = (size_t)64 << 20;
    s->utab_budget = (size_t)64 << 20;
    s->cpu = negs_cpu_features();
    s->gen = sp_philox_select(negs_cpu_features());
    s->rows_gen = sp_philox_rows_select(negs_cpu_features());
    s->alias32 = sp_alias32_select(negs_cpu_features());
    s->excl32 = sp_excl32_select(negs_cpu_features());
    s->far = sp_far_select(negs_cpu_features());
    s->short_batch = sp_short_batch_select(negs_cpu_features());
    s->list_run = sp_list_run_select(negs_cpu_features());
    s->umarks = sp_unique_marks_select(negs_cpu_features());
    if (sp_scratch_prepare(s, 1) || sp_hard_prepare(s, 1) || sp_walk_init(s) ||
        (kind == NEGS_SAMPLER_SRNS && sp_srns_create(s))) {
        negs_sampler_free(s);
        return NULL;
    }
    return s;
}

NEGS_API void negs_sampler_free(negs_sampler *s)
{
    if (!s) return;
    for (uint32_t c = 0; c < s->n_children; c++) {
        negs_sampler_free(s->child[c]);
        free(s->sched[c].steps);
        free(s->sched[c].shares);
    }
    sp_scratch_free(s);
    sp_hard_free(s);
    sp_walk_free(s);
    sp_srns_free(s);
    sp_tables_free(&s->t);
    sp_build_space_trim(s, 1);
    free(s->short_users);
    free(s->ubits);
    negs_pool_free(s->pool);
    negs_csr_release(s->positives);
    negs_csr_release(s->exposures);
    free(s->lw);
    free(s->cat);
    free(s->sup);
    sp_shared_free(&s->sh);
    free(s);
}

static int whole(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

/* weight^alpha is exp(alpha log w - max): over the positive weights the exponents span
 * |alpha| (max log w - min log w), which must stay within 700 so that the lightest item keeps
 * a positive, normal double weight, and alpha log w itself must be finite. */
#define SP_ALPHA_SPAN 700.0
/* lo, hi: the least and largest log weight of the positive weights. */
static int check_alpha_span(double lo, double hi, double alpha, const char *fn)
{
    double span = hi - lo, mag = fmax(fabs(lo), fabs(hi));
    if (fabs(alpha) * span <= SP_ALPHA_SPAN && fabs(alpha) * mag <= 1e300) return NEGS_OK;
    double limit = fmin(span > 0.0 ? SP_ALPHA_SPAN / span : INFINITY, 1e300 / mag);
    return negs_fail(NEGS_E_INVALID, "%s: alpha = %g is outside the usable range |alpha| <= %g "
                     "for these weights (positive weights from %g to %g): weight^alpha would "
                     "span more than e^700 and items of positive weight would get probability 0",
                     fn, alpha, limit, exp(lo), exp(hi));
}

static int check_alpha(const negs_sampler *s, double alpha, const char *fn)
{
    return s->lw ? check_alpha_span(s->lw_lo, s->lw_hi, alpha, fn) : NEGS_OK;
}

NEGS_API int negs_sampler_set_param(negs_sampler *s, int param, double value)
{
    static const char *fn = "negs_sampler_set_param";
    int st = negs_check_ptr(s, fn, "s");
    if (st) return st;
    switch (param) {
    case NEGS_SP_ALPHA: {
        if (!isfinite(value))
            return negs_fail(NEGS_E_INVALID, "%s: alpha = %g must be finite", fn, value);
        if ((st = check_alpha(s, value, fn)) != NEGS_OK) return st;
        double old = s->alpha;
        s->alpha = value;
        if (s->lw && (st = sp_rebuild(s)) != NEGS_OK) s->alpha = old;
        return st;
    }
    case NEGS_SP_UNIQUE:
    case NEGS_SP_EXCLUDE_POSITIVES:
        if (value != 0.0 && value != 1.0)
            return negs_fail(NEGS_E_INVALID, "%s: %s = %g must be 0 or 1", fn,
                             param == NEGS_SP_UNIQUE ? "unique" : "exclude_positives", value);
        if (s->kind == NEGS_SAMPLER_WALK && param == NEGS_SP_UNIQUE && value == 1.0)
            return negs_fail(NEGS_E_UNSUPPORTED, "%s: UNIQUE is not supported on a WALK sampler "
                             "(each slot is drawn by its own walks)", fn);
        if (s->kind == NEGS_SAMPLER_WALK && param == NEGS_SP_EXCLUDE_POSITIVES && value == 0.0)
            return negs_fail(NEGS_E_UNSUPPORTED, "%s: a WALK sampler always excludes the user's "
                             "positives (its walks run on them)", fn);
        if (param == NEGS_SP_EXCLUDE_POSITIVES) {
            s->exclude = (int)value;
            return NEGS_OK;
        }
        if (value == 1.0 && s->kind == NEGS_SAMPLER_MIXTURE)
            return negs_fail(NEGS_E_UNSUPPORTED, "%s: UNIQUE is not supported on a MIXTURE sampler "
                             "(its log q would need the inclusion probabilities of a mixed "
                             "design); draw unique rows from a single kind", fn);
        if (value == 1.0 && (s->kind == NEGS_SAMPLER_HARD || s->kind == NEGS_SAMPLER_SRNS))
            return negs_fail(NEGS_E_UNSUPPORTED, "%s: set UNIQUE on the %s sampler's child (it "
                             "draws the candidates)", fn, kind_name(s->kind));
        if (s->owned && value == 1.0)
            return negs_fail(NEGS_E_UNSUPPORTED, "%s: UNIQUE is not supported on a mixture's child "
                             "(a child draws one item at a time)", fn);
        if ((int)value == s->unique) return NEGS_OK;
        s->unique = (int)value;
        if ((st = sp_rebuild(s)) != NEGS_OK || (st = sp_scratch_prepare(s, s->scr_parts)) != NEGS_OK) {
            s->unique = !s->unique;
            sp_rebuild(s);
            return st;
        }
        return NEGS_OK;
    case NEGS_SP_HARD_MODE:
        if (!whole(value, NEGS_HARD_TOP, NEGS_HARD_AHNS))
            return negs_fail(NEGS_E_INVALID, "%s: hard_mode = %g is not a NEGS_HARD_* value", fn,
                             value);
        s->hard_mode = (int)value;
        return NEGS_OK;
    case NEGS_SP_CANDIDATES:
        if (!whole(value, 1.0, 4294967295.0))
            return negs_fail(NEGS_E_INVALID, "%s: candidates = %g is not a whole number in "
                             "1..4294967295", fn, value);
    {
        uint32_t old = s->candidates;
        s->candidates = (uint32_t)value;
        if ((st = sp_hard_prepare(s, s->scr_parts)) != NEGS_OK) s->candidates = old;
        return st;
    }
    case NEGS_SP_MARGIN:
        if (!isfinite(value) || value < 0.0)
            return negs_fail(NEGS_E_INVALID, "%s: margin = %g must be finite and >= 0", fn, value);
        s->margin = value;
        return NEGS_OK;
    case NEGS_SP_TEMPERATURE:
        if (!isfinite(value) || !(value > 0.0))
            return negs_fail(NEGS_E_INVALID, "%s: temperature = %g must be finite and > 0", fn,
                             value);
        s->temperature = value;
        return NEGS_OK;
    case NEGS_SP_THREADS:
        if (s->owned)
            return negs_fail(NEGS_E_INVALID, "%s: set threads on the mixture, not on its child", fn);
        st = negs_pool_resize(&s->pool, value, fn);
        if (st) return st;
        if ((st = sp_scratch_prepare(s, (unsigned)value)) != NEGS_OK) return st;
        if ((st = sp_hard_prepare(s, (unsigned)value)) != NEGS_OK) return st;
        if ((st = sp_srns_parts(s, (unsigned)value)) != NEGS_OK) return st;
        s->threads = (unsigned)value;
        return NEGS_OK;
    case NEGS_SP_SHARED_EXCLUDE:
        if (value != 0.0 && value != 1.0)
            return negs_fail(NEGS_E_INVALID, "%s: shared_exclude = %g must be 0 or 1", fn, value);
        s->shared_exclude = (int)value;
        return NEGS_OK;
    case NEGS_SP_ROW_OFFSET:
        if (!whole(value, 0.0, 9007199254740992.0))
            return negs_fail(NEGS_E_INVALID, "%s: row_offset = %g is not a whole number in 0..2^53",
                             fn, value);
        s->row_offset = (uint64_t)value;
        return NEGS_OK;
    default:
        if (param >= NEGS_SP_WALK_LENGTH && param <= NEGS_SP_WALK_REJECTED)
            return sp_walk_set_param(s, param, value, fn);
        if (sp_srns_is_param(param)) return sp_srns_set_param(s, param, value, fn);
        return sp_hard_set_param(s, param, value, fn);
    }
}

NEGS_API int negs_sampler_get_param(const negs_sampler *s, int param, double *value)
{
    static const char *fn = "negs_sampler_get_param";
    int st = negs_check_ptr(s, fn, "s");
    if (!st) st = negs_check_ptr(value, fn, "value");
    if (st) return st;
    switch (param) {
    case NEGS_SP_ALPHA: *value = s->alpha; return NEGS_OK;
    case NEGS_SP_UNIQUE: *value = s->unique; return NEGS_OK;
    case NEGS_SP_EXCLUDE_POSITIVES: *value = s->exclude; return NEGS_OK;
    case NEGS_SP_HARD_MODE: *value = s->hard_mode; return NEGS_OK;
    case NEGS_SP_CANDIDATES: *value = s->candidates; return NEGS_OK;
    case NEGS_SP_MARGIN: *value = s->margin; return NEGS_OK;
    case NEGS_SP_TEMPERATURE: *value = s->temperature; return NEGS_OK;
    case NEGS_SP_THREADS: *value = s->threads; return NEGS_OK;
    case NEGS_SP_ROW_OFFSET: *value = (double)s->row_offset; return NEGS_OK;
    case NEGS_SP_SHARED_EXCLUDE: *value = s->shared_exclude; return NEGS_OK;
    default:
        if (param >= NEGS_SP_WALK_LENGTH && param <= NEGS_SP_WALK_REJECTED)
            return sp_walk_get_param(s, param, value, fn);
        if (sp_srns_is_param(param)) return sp_srns_get_param(s, param, value, fn);
        return sp_hard_get_param(s, param, value, fn);
    }
}

/* A float log weight array no longer in use: the next set_weights's copy once the handle keeps
 * its build space (sp_build_space), else freed. */
static void keep_spare(negs_sampler *s, float *lw)
{
    if (s->bs.builds >= 2 && !s->bs.lw) s->bs.lw = lw;
    else free(lw);
}

NEGS_API int negs_sampler_set_weights(negs_sampler *s, const double *weights, uint32_t n_items)
{
    static const char *fn = "negs_sampler_set_weights";
    int st = negs_check_ptr(s, fn, "s");
    if (!st) st = negs_check_ptr(weights, fn, "weights");
    if (st) return st;
    if (s->kind == NEGS_SAMPLER_UNIFORM || s->kind == NEGS_SAMPLER_MIXTURE ||
        s->kind == NEGS_SAMPLER_HARD || s->kind == NEGS_SAMPLER_WALK ||
        s->kind == NEGS_SAMPLER_SRNS)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: a %s sampler takes no weights (%s)", fn,
                         kind_name(s->kind),
                         s->kind == NEGS_SAMPLER_UNIFORM ? "use POPULARITY with alpha 0"
                         : s->kind == NEGS_SAMPLER_WALK  ? "its walks follow the graph's edges"
                                                         : "set them on its children");
    if (n_items != s->n_items)
        return negs_fail(NEGS_E_INVALID, "%s: n_items = %u differs from the sampler's %u items", fn,
                         n_items, s->n_items);
    /* Kept as float logs (4 B/item): alpha can change later without a double copy. Written
     * into the spare copy a rebuilding handle keeps (sp_build_space), checked on the way. */
    float *copy = s->bs.lw;
    s->bs.lw = NULL;
    if (!copy && !(copy = negs_alloc_array(n_items, sizeof *copy,
                                           "negs_sampler_set_weights: log weights")))
        return NEGS_E_NOMEM;
    double sum, lo, hi; /* (float)log of each weight, vectorised with libm's bits */
    uint32_t bad = sp_log_weights(s->cpu, weights, n_items, copy, &lo, &hi, &sum);
    if (bad < n_items) {
        keep_spare(s, copy);
        return negs_fail(NEGS_E_INVALID, "%s: weights[%u] = %g is not a finite, non-negative "
                         "number", fn, bad, weights[bad]);
    }
    if (!(sum > 0.0)) st = negs_fail(NEGS_E_INVALID, "%s: every weight is 0", fn);
    else if (!isfinite(sum)) st = negs_fail(NEGS_E_INVALID, "%s: the weights sum to infinity", fn);
    else st = check_alpha_span(lo, hi, s->alpha, fn);
    if (st) {
        keep_spare(s, copy);
        return st;
    }
    float *old = s->lw;
    double old_lo = s->lw_lo, old_hi = s->lw_hi;
    s->lw = copy;
    s->lw_lo = lo;
    s->lw_hi = hi;
    s->bs.builds += s->bs.builds < 2;
    if ((st = sp_rebuild(s)) != NEGS_OK) {
        s->lw = old;
        s->lw_lo = old_lo;
        s->lw_hi = old_hi;
        keep_spare(s, copy);
        return st;
    }
    keep_spare(s, old); /* the next call's copy */
    return NEGS_OK;
}

static int check_table(const negs_sampler *s, const negs_csr *t, const char *fn, const char *what)
{
    if (t && t->n_items != s->n_items)
        return negs_fail(NEGS_E_INVALID, "%s: the %s table has %u items, the sampler %u", fn, what,
                         t->n_items, s->n_items);
    return NEGS_OK;
}

NEGS_API int negs_sampler_set_positives(negs_sampler *s, const negs_csr *positives)
{
    static const char *fn = "negs_sampler_set_positives";
    int st = negs_check_ptr(s, fn, "s");
    if (st) return st;
    if (s->kind == NEGS_SAMPLER_MIXTURE || s->kind == NEGS_SAMPLER_HARD ||
        s->kind == NEGS_SAMPLER_SRNS)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: a %s sampler excludes through its children: set "
                         "the positives on each child before negs_sampler_add", fn,
                         kind_name(s->kind));
    if ((st = check_table(s, positives, fn, "positives")) != NEGS_OK) return st;
    uint32_t old_max = s->max_excl, mx = 0;
    if (positives)
        for (uint32_t u = 0; u < positives->n_users; u++) {
            uint64_t len = positives->indptr[u + 1] - positives->indptr[u];
            if (len > mx) mx = (uint32_t)len;
        }
    sp_walk_graph graph;
    if ((st = sp_walk_graph_build(s, positives, &graph)) != NEGS_OK) return st;
    s->max_excl = mx;
    if ((st = sp_scratch_prepare(s, s->scr_parts)) != NEGS_OK) {
        s->max_excl = old_max;
        sp_walk_graph_drop(&graph);
        return st;
    }
    uint64_t *bits = NULL;
    size_t words = ((size_t)s->n_items + 63) / 64;
    /* Per-user bitmaps make the exclusion test one load; kept while they fit the budget. */
    if (positives && (double)positives->n_users * (double)words * 8.0 <= (double)s->table_budget) {
        bits = negs_calloc_array((size_t)positives->n_users * words, sizeof *bits,
                                 "negs_sampler_set_positives: bitmaps");
        if (!bits) {
            sp_walk_graph_drop(&graph);
            return NEGS_E_NOMEM;
        }
        for (uint32_t u = 0; u < positives->n_users; u++)
            for (uint64_t j = positives->indptr[u]; j < positives->indptr[u + 1]; j++) {
                uint32_t it = positives->indices[j];
                bits[(size_t)u * words + (it >> 6)] |= (uint64_t)1 << (it & 63);
            }
    }
    const negs_csr *old = s->positives;
    s->positives = positives ? negs_csr_retain(positives) : NULL;
    if ((st = sp_rebuild(s)) != NEGS_OK) {
        negs_csr_release(s->positives);
        s->positives = old;
        free(bits);
        sp_walk_graph_drop(&graph);
        return st;
    }
    sp_walk_graph_keep(s, &graph);
    negs_csr_release(old);
    free(s->ubits);
    s->ubits = bits;
    s->ubits_words = words;
    return NEGS_OK;
}

NEGS_API int negs_sampler_set_exposures(negs_sampler *s, const negs_csr *exposures)
{
    static const char *fn = "negs_sampler_set_exposures";
    int st = negs_check_ptr(s, fn, "s");
    if (st) return st;
    if (s->kind != NEGS_SAMPLER_EXPOSURE)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: only EXPOSURE samplers take exposures (this one "
                         "is %s)", fn, kind_name(s->kind));
    if ((st = check_table(s, exposures, fn, "exposures")) != NEGS_OK) return st;
    negs_csr_release(s->exposures);
    s->exposures = exposures ? negs_csr_retain(exposures) : NULL;
    return NEGS_OK;
}

NEGS_API int negs_sampler_set_categories(negs_sampler *s, const uint32_t *category_of_item,
                                         uint32_t n_items)
{
    static const char *fn = "negs_sampler_set_categories";
    int st = negs_check_ptr(s, fn, "s");
    if (!st) st = negs_check_ptr(category_of_item, fn, "category_of_item");
    if (st) return st;
    if (s->kind != NEGS_SAMPLER_CATEGORY)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: only CATEGORY samplers take categories (this one "
                         "is %s)", fn, kind_name(s->kind));
    if (n_items != s->n_items)
        return negs_fail(NEGS_E_INVALID, "%s: n_items = %u differs from the sampler's %u items", fn,
                         n_items, s->n_items);
    uint32_t bound = n_items > (1u << 20) ? n_items : (1u << 20);
    for (uint32_t i = 0; i < n_items; i++)
        if (category_of_item[i] >= bound)
            return negs_fail(NEGS_E_INVALID, "%s: category_of_item[%u] = %u is not below %u (ids "
                             "must be below max(n_items, 2^20))", fn, i, category_of_item[i], bound);
    uint32_t *copy = negs_alloc_array(n_items, sizeof *copy, "negs_sampler_set_categories: copy");
    if (!copy) return NEGS_E_NOMEM;
    memcpy(copy, category_of_item, (size_t)n_items * sizeof *copy);
    uint32_t *old = s->cat;
    s->cat = copy;
    if ((st = sp_rebuild(s)) != NEGS_OK) {
        s->cat = old;
        free(copy);
        return st;
    }
    free(old);
    return NEGS_OK;
}

NEGS_API int negs_sampler_add(negs_sampler *mixture_or_hard, negs_sampler *child, double share)
{
    static const char *fn = "negs_sampler_add";
    negs_sampler *m = mixture_or_hard;
    int st = negs_check_ptr(m, fn, "mixture_or_hard");
    if (!st) st = negs_check_ptr(child, fn, "child");
    if (st) return st;
    if (m->kind != NEGS_SAMPLER_MIXTURE && m->kind != NEGS_SAMPLER_HARD &&
        m->kind != NEGS_SAMPLER_SRNS)
        return negs_fail(NEGS_E_INVALID, "%s: the parent is a %s sampler; only MIXTURE, HARD and "
                         "SRNS samplers take children", fn, kind_name(m->kind));
    if (child == m) return negs_fail(NEGS_E_INVALID, "%s: a sampler cannot be its own child", fn);
    if (child->owned)
        return negs_fail(NEGS_E_INVALID, "%s: the child already belongs to another sampler", fn);
    if (child->n_items != m->n_items)
        return negs_fail(NEGS_E_INVALID, "%s: the child has %u items, the parent %u", fn,
                         child->n_items, m->n_items);
    if (child->kind == NEGS_SAMPLER_WALK)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: a WALK sampler cannot be a child (it has no log "
                         "q for a mixture and draws whole rows of walks); sample from it directly",
                         fn);
    if (m->kind == NEGS_SAMPLER_HARD) return sp_hard_add(m, child);
    if (m->kind == NEGS_SAMPLER_SRNS) return sp_srns_add(m, child);
    if (child->kind == NEGS_SAMPLER_SRNS)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: an SRNS sampler cannot be a mixture's child (it "
                         "selects with negs_srns_select)", fn);
    if (child->kind == NEGS_SAMPLER_MIXTURE)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: a MIXTURE sampler cannot be a mixture's child (no "
                         "nesting)", fn);
    if (child->kind == NEGS_SAMPLER_HARD && child->n_children &&
        child->child[0]->kind == NEGS_SAMPLER_MIXTURE)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: the HARD child draws from a MIXTURE; a mixture's "
                         "HARD child must draw from a single kind (no nesting of mixtures)", fn);
    if (child->unique)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: the child has UNIQUE set; a mixture's child "
                         "draws one item at a time", fn);
    if (!isfinite(share) || share < 0.0)
        return negs_fail(NEGS_E_INVALID, "%s: share = %g must be finite and >= 0", fn, share);
    if (m->n_children >= SP_MAX_CHILDREN)
        return negs_fail(NEGS_E_INVALID, "%s: the mixture already has the maximum of %d children",
                         fn, SP_MAX_CHILDREN);
    if ((st = sp_scratch_prepare(child, m->scr_parts)) != NEGS_OK ||
        (st = sp_hard_prepare(child, m->scr_parts)) != NEGS_OK)
        return st;
    uint32_t c = m->n_children++;
    m->child[c] = child;
    m->share[c] = share;
    memset(&m->sched[c], 0, sizeof m->sched[c]);
    child->owned = 1;
    return NEGS_OK;
}

NEGS_API int negs_sampler_set_schedule(negs_sampler *mixture, uint32_t child, size_t n_points,
                                       const double *steps, const double *shares)
{
    static const char *fn = "negs_sampler_set_schedule";
    int st = negs_check_ptr(mixture, fn, "mixture");
    if (!st) st = negs_check_ptr(steps, fn, "steps");
    if (!st) st = negs_check_ptr(shares, fn, "shares");
    if (st) return st;
    if (mixture->kind != NEGS_SAMPLER_MIXTURE)
        return negs_fail(NEGS_E_INVALID, "%s: the sampler is %s, not MIXTURE", fn,
                         kind_name(mixture->kind));
    if (child >= mixture->n_children)
        return negs_fail(NEGS_E_INVALID, "%s: child = %u but the mixture has %u children", fn, child,
                         mixture->n_children);
    if (n_points == 0) return negs_fail(NEGS_E_INVALID, "%s: n_points is 0", fn);
    for (size_t i = 0; i < n_points; i++) {
        if (!isfinite(steps[i]))
            return negs_fail(NEGS_E_INVALID, "%s: steps[%zu] = %g is not finite", fn, i, steps[i]);
        if (i > 0 && !(steps[i] > steps[i - 1]))
            return negs_fail(NEGS_E_INVALID, "%s: steps[%zu] = %g does not exceed steps[%zu] = %g",
                             fn, i, steps[i], i - 1, steps[i - 1]);
        if (!isfinite(shares[i]) || shares[i] < 0.0)
            return negs_fail(NEGS_E_INVALID, "%s: shares[%zu] = %g must be finite and >= 0", fn, i,
                             shares[i]);
    }
    double *cs = negs_alloc_array(n_points, sizeof *cs, "negs_sampler_set_schedule: steps");
    double *ch = negs_alloc_array(n_points, sizeof *ch, "negs_sampler_set_schedule: shares");
    if (!cs || !ch) {
        free(cs);
        free(ch);
        return NEGS_E_NOMEM;
    }
    memcpy(cs, steps, n_points * sizeof *cs);
    memcpy(ch, shares, n_points * sizeof *ch);
    sp_schedule *sc = &mixture->sched[child];
    free(sc->steps);
    free(sc->shares);
    sc->n = n_points;
    sc->steps = cs;
    sc->shares = ch;
    return NEGS_OK;
}
