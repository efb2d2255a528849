/* negs_freq_merge: SKETCH estimators of one shape and seed add up; GAP ones are refused. */
#include <float.h>
#include <inttypes.h>
#include <string.h>

#include "core/errors.h"
#include "freq_internal.h"

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
    if (into == other)
        return negs_fail(NEGS_E_INVALID, "negs_freq_merge: into and other are the same estimator "
                                         "(merging it into itself would count its stream twice)");
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
    /* Sums that real streams never come near; refused so that the result stays finite and
     * loadable (a hostile image can carry any finite total or rate). */
    if (into->total + other->total > DBL_MAX / 4 || !(into->rate + other->rate <= DBL_MAX / 4))
        return negs_fail(NEGS_E_INVALID, "negs_freq_merge: the merged total weight (%g + %g) or "
                         "rate (%g + %g) would overflow", into->total, other->total, into->rate,
                         other->rate);
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
