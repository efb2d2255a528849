/* negs_freq: lifecycle, parameters, update and queries shared by both kinds. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/alloc.h"
#include "core/errors.h"
#include "freq_internal.h"

size_t negs_freq_cell_bytes(int kind)
{
    return kind == NEGS_FREQ_GAP ? sizeof(negs_gap_cell) : sizeof(double);
}

void negs_freq_derive_keys(negs_freq *f)
{
    /* Distinct, seed-dependent keys per row; the mixer makes rows behave independently. */
    for (uint32_t j = 0; j < NEGS_FREQ_MAX_HASHES; j++)
        f->keys[j] = negs_mix64(f->seed ^ negs_mix64(0x6A09E667F3BCC909ULL + j));
}

int negs_freq_alloc_tables(negs_freq *f)
{
    size_t cells, bytes;
    int st = negs_size_mul((size_t)f->buckets, f->hashes, &cells, "negs_freq: buckets * hashes");
    if (st) return st;
    st = negs_size_mul(cells, negs_freq_cell_bytes(f->kind), &bytes, "negs_freq: table bytes");
    if (st) return st;
    void *p = negs_alloc_aligned(cells, negs_freq_cell_bytes(f->kind), "negs_freq tables");
    if (!p) return NEGS_E_NOMEM;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* Large tables are hit at random: ask for huge pages (advice only; failure is harmless),
     * which removes most TLB misses once the tables outgrow the caches. */
    if (bytes >= ((size_t)8 << 20)) {
        const uintptr_t huge = (uintptr_t)2 << 20;
        uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
        if (hi > lo) (void)madvise((void *)lo, (size_t)(hi - lo), MADV_HUGEPAGE);
    }
#endif
    memset(p, 0, bytes);
    if (f->kind == NEGS_FREQ_GAP)
        f->cells = p;
    else
        f->cnt = p;
    return NEGS_OK;
}

NEGS_API negs_freq *negs_freq_create(int kind, size_t buckets, uint32_t hashes, uint64_t seed)
{
    if (kind != NEGS_FREQ_GAP && kind != NEGS_FREQ_SKETCH)
        return negs_fail_null(NEGS_E_UNSUPPORTED,
                              "negs_freq_create: kind = %d is not NEGS_FREQ_GAP or NEGS_FREQ_SKETCH",
                              kind);
    if (buckets == 0 || (uint64_t)buckets > NEGS_FREQ_MAX_BUCKETS)
        return negs_fail_null(NEGS_E_INVALID,
                              "negs_freq_create: buckets = %zu must be in [1, 2^32]", buckets);
    if (hashes == 0 || hashes > NEGS_FREQ_MAX_HASHES)
        return negs_fail_null(NEGS_E_INVALID, "negs_freq_create: hashes = %u must be in [1, %u]",
                              hashes, NEGS_FREQ_MAX_HASHES);
    negs_freq *f = negs_calloc_array(1, sizeof *f, "negs_freq handle");
    if (!f) return NULL;
    f->kind = kind;
    f->buckets = buckets;
    f->hashes = hashes;
    f->seed = seed;
    f->alpha = NEGS_FREQ_DEFAULT_ALPHA;
    f->max_gap = NEGS_FREQ_DEFAULT_MAX_GAP;
    f->half_life = 0.0;
    f->conservative = 1;
    negs_freq_derive_keys(f);
    if (negs_freq_alloc_tables(f) != NEGS_OK) {
        free(f);
        return NULL;
    }
    return f;
}

NEGS_API void negs_freq_free(negs_freq *f)
{
    if (!f) return;
    negs_free_aligned(f->cells);
    negs_free_aligned(f->cnt);
    free(f);
}

NEGS_API int negs_freq_reset(negs_freq *f)
{
    int st = negs_check_ptr(f, "negs_freq_reset", "f");
    if (st) return st;
    size_t cells = (size_t)f->buckets * f->hashes;
    if (f->cells) memset(f->cells, 0, cells * sizeof *f->cells);
    if (f->cnt) memset(f->cnt, 0, cells * sizeof *f->cnt);
    f->has_data = 0;
    f->first_step = f->last_step = f->total_ids = f->landmark = f->rate_delta = 0;
    f->total = f->rate = 0.0;
    return NEGS_OK;
}

static const char *param_name(int param)
{
    switch (param) {
    case NEGS_FP_ALPHA: return "NEGS_FP_ALPHA";
    case NEGS_FP_MAX_GAP: return "NEGS_FP_MAX_GAP";
    case NEGS_FP_HALF_LIFE: return "NEGS_FP_HALF_LIFE";
    case NEGS_FP_CONSERVATIVE: return "NEGS_FP_CONSERVATIVE";
    default: return "?";
    }
}

/* ALPHA belongs to GAP; HALF_LIFE and CONSERVATIVE to SKETCH; MAX_GAP to both. */
static int check_param_kind(const negs_freq *f, int param, const char *func)
{
    int ok;
    switch (param) {
    case NEGS_FP_ALPHA: ok = f->kind == NEGS_FREQ_GAP; break;
    case NEGS_FP_MAX_GAP: ok = 1; break;
    case NEGS_FP_HALF_LIFE:
    case NEGS_FP_CONSERVATIVE: ok = f->kind == NEGS_FREQ_SKETCH; break;
    default:
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: param = %d is not a NEGS_FP_* value", func, param);
    }
    if (!ok)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: %s does not apply to a %s estimator", func,
                         param_name(param), f->kind == NEGS_FREQ_GAP ? "GAP" : "SKETCH");
    return NEGS_OK;
}

NEGS_API int negs_freq_set_param(negs_freq *f, int param, double value)
{
    int st = negs_check_ptr(f, "negs_freq_set_param", "f");
    if (st) return st;
    st = check_param_kind(f, param, "negs_freq_set_param");
    if (st) return st;
    switch (param) {
    case NEGS_FP_ALPHA:
        if (!(value > 0.0 && value <= 1.0))
            return negs_fail(NEGS_E_INVALID, "negs_freq_set_param: alpha = %g must be in (0, 1]",
                             value);
        f->alpha = value;
        return NEGS_OK;
    case NEGS_FP_MAX_GAP:
        if (!(value >= 1.0 && value <= NEGS_FREQ_MAX_MAX_GAP))
            return negs_fail(NEGS_E_INVALID,
                             "negs_freq_set_param: max_gap = %g must be in [1, 1e15] steps", value);
        f->max_gap = value;
        return NEGS_OK;
    case NEGS_FP_HALF_LIFE:
        if (!(value >= 0.0 && value <= 1e15))
            return negs_fail(NEGS_E_INVALID,
                             "negs_freq_set_param: half_life = %g must be 0 (no decay) or in "
                             "(0, 1e15] steps", value);
        /* Bring the counters to the last step under the old half-life; the new one then
         * applies from there on. */
        if (f->has_data) negs_sketch_renormalise(f, f->last_step);
        f->landmark = f->last_step;
        f->half_life = value;
        return NEGS_OK;
    default: /* NEGS_FP_CONSERVATIVE */
        if (value != 0.0 && value != 1.0)
            return negs_fail(NEGS_E_INVALID, "negs_freq_set_param: conservative = %g must be 0 or 1",
                             value);
        f->conservative = (int)value;
        return NEGS_OK;
    }
}

NEGS_API int negs_freq_get_param(const negs_freq *f, int param, double *value)
{
    int st = negs_check_ptr(f, "negs_freq_get_param", "f");
    if (!st) st = negs_check_ptr(value, "negs_freq_get_param", "value");
    if (!st) st = check_param_kind(f, param, "negs_freq_get_param");
    if (st) return st;
    switch (param) {
    case NEGS_FP_ALPHA: *value = f->alpha; break;
    case NEGS_FP_MAX_GAP: *value = f->max_gap; break;
    case NEGS_FP_HALF_LIFE: *value = f->half_life; break;
    default: *value = f->conservative; break;
    }
    return NEGS_OK;
}

NEGS_API int negs_freq_update(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n)
{
    int st = negs_check_ptr(f, "negs_freq_update", "f");
    if (st) return st;
    if (n > 0 && !ids)
        return negs_fail(NEGS_E_INVALID, "negs_freq_update: ids is NULL but n = %zu", n);
    if (f->has_data && step < f->last_step)
        return negs_fail(NEGS_E_INVALID,
                         "negs_freq_update: step = %" PRIu64 " is before the last step %" PRIu64
                         " (steps never go down)", step, f->last_step);
    if (!f->has_data) {
        f->first_step = step;
        f->landmark = step;
    }
    /* Examples per unit step, an EMA like the gaps (linear, so shards' rates add on merge);
     * a second call at the same step adds to that step's batch. */
    double a = f->kind == NEGS_FREQ_GAP ? f->alpha : NEGS_FREQ_SKETCH_RATE_ALPHA;
    if (!f->has_data) {
        f->rate = (double)n;
        f->rate_delta = 0;
    } else if (step == f->last_step) {
        f->rate += f->rate_delta == 0 ? (double)n : a * (double)n / (double)f->rate_delta;
    } else {
        uint64_t d = step - f->last_step;
        f->rate += a * ((double)n / (double)d - f->rate);
        f->rate_delta = d;
    }
    if (f->kind == NEGS_FREQ_GAP)
        negs_gap_update(f, step, ids, n);
    else
        negs_sketch_update(f, step, ids, n);
    f->has_data = 1;
    f->last_step = step;
    f->total_ids = (uint64_t)n > UINT64_MAX - f->total_ids ? UINT64_MAX : f->total_ids + n;
    return NEGS_OK;
}

/* Validates a query and fills its context. */
static int query_begin(const negs_freq *f, const uint64_t *ids, size_t n, const void *out,
                       const char *func, negs_freq_query *q)
{
    int st = negs_check_ptr(f, func, "f");
    if (st) return st;
    if (n > 0 && !ids) return negs_fail(NEGS_E_INVALID, "%s: ids is NULL but n = %zu", func, n);
    if (n > 0 && !out) return negs_fail(NEGS_E_INVALID, "%s: the output is NULL but n = %zu", func, n);
    if (!f->has_data || f->total_ids == 0)
        return negs_fail(NEGS_E_STATE, "%s: the estimator has not seen any id yet", func);
    q->now = (double)f->last_step;
    q->span = (double)(f->last_step - f->first_step) + 1.0;
    q->per_step = f->rate > 0.0 ? f->rate : 0x1.0p-1000; /* only empty steps lately */
    q->qmin = 1.0 / (f->max_gap * q->per_step);
    if (q->qmin > 1.0) q->qmin = 1.0;
    return NEGS_OK;
}

static inline double freq_p(const negs_freq *f, const negs_freq_query *q, uint64_t id)
{
    return f->kind == NEGS_FREQ_GAP ? negs_gap_p(f, q, id) : negs_sketch_p(f, q, id);
}

NEGS_API int negs_freq_prob(const negs_freq *f, const uint64_t *ids, size_t n, float *out_p)
{
    negs_freq_query q;
    int st = query_begin(f, ids, n, out_p, "negs_freq_prob", &q);
    if (st) return st;
    for (size_t i = 0; i < n; i++) out_p[i] = (float)freq_p(f, &q, ids[i]);
    return NEGS_OK;
}

NEGS_API int negs_freq_logq(const negs_freq *f, const uint64_t *ids, size_t n, float *out_logq)
{
    negs_freq_query q;
    int st = query_begin(f, ids, n, out_logq, "negs_freq_logq", &q);
    if (st) return st;
    for (size_t i = 0; i < n; i++) out_logq[i] = (float)log(freq_p(f, &q, ids[i]));
    return NEGS_OK;
}

NEGS_API int negs_freq_logq_batch(const negs_freq *f, const uint64_t *ids, size_t n,
                                  size_t batch_size, float *out_logq)
{
    negs_freq_query q;
    int st = query_begin(f, ids, n, out_logq, "negs_freq_logq_batch", &q);
    if (st) return st;
    if (batch_size == 0)
        return negs_fail(NEGS_E_INVALID, "negs_freq_logq_batch: batch_size = 0 must be >= 1");
    double b = (double)batch_size;
    for (size_t i = 0; i < n; i++) {
        /* 1 - (1-p)^b = -expm1(b * log1p(-p)): exact for tiny p, and p = 1 gives log 1 = 0. */
        double p = freq_p(f, &q, ids[i]);
        out_logq[i] = (float)log(-expm1(b * log1p(-p)));
    }
    return NEGS_OK;
}

NEGS_API int negs_freq_merge(negs_freq *into, const negs_freq *other)
{
    int st = negs_check_ptr(into, "negs_freq_merge", "into");
    if (!st) st = negs_check_ptr(other, "negs_freq_merge", "other");
    if (st) return st;
    if (into->kind != other->kind)
        return negs_fail(NEGS_E_INVALID,
                         "negs_freq_merge: kinds differ (into is %s, other is %s)",
                         into->kind == NEGS_FREQ_GAP ? "GAP" : "SKETCH",
                         other->kind == NEGS_FREQ_GAP ? "GAP" : "SKETCH");
    if (into->kind == NEGS_FREQ_GAP)
        return negs_fail(NEGS_E_UNSUPPORTED,
                         "negs_freq_merge: GAP estimators cannot be merged (the gap between "
                         "sightings of the union stream is not a function of the shards' gap "
                         "EMAs); use NEGS_FREQ_SKETCH for data-parallel workers");
    if (into->buckets != other->buckets || into->hashes != other->hashes)
        return negs_fail(NEGS_E_INVALID,
                         "negs_freq_merge: shapes differ (into %" PRIu64 " buckets x %u hashes, "
                         "other %" PRIu64 " x %u)", into->buckets, into->hashes, other->buckets,
                         other->hashes);
    if (into->seed != other->seed)
        return negs_fail(NEGS_E_INVALID,
                         "negs_freq_merge: seeds differ (%" PRIu64 " and %" PRIu64
                         "), so ids hash to different buckets", into->seed, other->seed);
    if (into->half_life != other->half_life)
        return negs_fail(NEGS_E_INVALID, "negs_freq_merge: half-lives differ (%g and %g steps)",
                         into->half_life, other->half_life);
    if (!other->has_data) return NEGS_OK;
    if (!into->has_data) {
        size_t cells = (size_t)into->buckets * into->hashes;
        memcpy(into->cnt, other->cnt, cells * sizeof *into->cnt);
        into->total = other->total;
        into->landmark = other->landmark;
        into->first_step = other->first_step;
        into->last_step = other->last_step;
        into->total_ids = other->total_ids;
        into->rate = other->rate;
        into->rate_delta = other->rate_delta;
        into->has_data = 1;
        return NEGS_OK;
    }
    negs_sketch_merge(into, other);
    into->rate += other->rate; /* shards of one stream at the same steps: rates add */
    if (other->last_step > into->last_step) into->rate_delta = other->rate_delta;
    if (other->first_step < into->first_step) into->first_step = other->first_step;
    if (other->last_step > into->last_step) into->last_step = other->last_step;
    into->total_ids = other->total_ids > UINT64_MAX - into->total_ids
                          ? UINT64_MAX
                          : into->total_ids + other->total_ids;
    return NEGS_OK;
}
