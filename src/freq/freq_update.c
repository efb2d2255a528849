/* negs_freq updates for uint64 and uint32 ids, and the fused update + log q of one batch. */
#include <inttypes.h>
#include <math.h>

#include "core/errors.h"
#include "freq_internal.h"

/* Hashes ids [base + at, base + at + len) into workspace slots [at, at + len); for GAP, then
 * pads every row after them for the prefetches. */
static void hash_ids(negs_freq *f, const uint64_t *ids64, const uint32_t *ids32, size_t base,
                     size_t at, size_t len)
{
    size_t by_id, by_row;
    negs_freq_ws_layout(f, &by_id, &by_row);
    negs_freq_hash_ids(f, ids64, ids32, base, at, len, f->ws, by_id, by_row);
    if (f->kind != NEGS_FREQ_GAP) return;
    for (uint32_t j = 0; j < f->hashes; j++) {
        size_t *row = f->ws + j * by_row;
        for (size_t i = at + len; i < at + len + NEGS_FREQ_AHEAD; i++) row[i] = row[at + len - 1];
    }
}

/* GAP over one chunk: in groups of GAP_GROUP ids (hash, then row by row), as a group's
 * indices stay in L1; the chunk's indices are left in the workspace. */
#define GAP_GROUP 512u
static void gap_chunk(negs_freq *f, uint64_t step, const uint64_t *ids64, const uint32_t *ids32,
                      size_t base, size_t len)
{
    for (size_t at = 0; at < len; at += GAP_GROUP) {
        size_t g = len - at < GAP_GROUP ? len - at : GAP_GROUP;
        hash_ids(f, ids64, ids32, base, at, g);
        negs_gap_update_ws(f, step, at, g);
    }
}

static int update(negs_freq *f, uint64_t step, const uint64_t *ids64, const uint32_t *ids32,
                  size_t n, const char *func)
{
    int st = negs_check_ptr(f, func, "f");
    if (st) return st;
    if (n > 0 && !ids64 && !ids32)
        return negs_fail(NEGS_E_INVALID, "%s: ids is NULL but n = %zu", func, n);
    if (f->has_data && step < f->last_step)
        return negs_fail(NEGS_E_INVALID,
                         "%s: step = %" PRIu64 " is before the last step %" PRIu64
                         " (steps never go down)", func, step, f->last_step);
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
    double w = f->kind == NEGS_FREQ_SKETCH ? negs_sketch_weight(f, step) : 0.0;
    for (size_t base = 0; base < n; base += f->ws_ids) {
        size_t len = n - base < f->ws_ids ? n - base : f->ws_ids;
        if (f->kind == NEGS_FREQ_GAP) {
            gap_chunk(f, step, ids64, ids32, base, len);
        } else {
            negs_sketch_update_ids(f, w, ids64, ids32, base, len);
        }
    }
    if (f->kind == NEGS_FREQ_SKETCH) f->total += w * (double)n;
    f->has_data = 1;
    f->last_step = step;
    f->total_ids = (uint64_t)n > UINT64_MAX - f->total_ids ? UINT64_MAX : f->total_ids + n;
    return NEGS_OK;
}

/* The update, then log q of every id read after it, from the buckets the update hashed: the
 * workspace still holds the last chunk; earlier chunks (batches above ws_ids) are rehashed. */
static int update_logq(negs_freq *f, uint64_t step, const uint64_t *ids64, const uint32_t *ids32,
                       size_t n, float *out_logq, const char *func)
{
    if (f && n > 0 && !out_logq)
        return negs_fail(NEGS_E_INVALID, "%s: out_logq is NULL but n = %zu", func, n);
    int st = update(f, step, ids64, ids32, n, func);
    if (st || n == 0) return st;
    negs_freq_query q;
    st = negs_freq_query_begin(f, ids64 ? (const void *)ids64 : (const void *)ids32, n, out_logq,
                               func, &q);
    if (st) return st; /* not reached: the update has just seen n > 0 ids */
    size_t by_id, by_row, last = (n - 1) / f->ws_ids * f->ws_ids;
    negs_freq_ws_layout(f, &by_id, &by_row);
    for (size_t base = last;; base -= f->ws_ids) {
        size_t len = n - base < f->ws_ids ? n - base : f->ws_ids;
        if (base != last) hash_ids(f, ids64, ids32, base, 0, len);
        for (size_t i = 0; i < len; i++)
            out_logq[base + i] = (float)log(negs_freq_p_at(f, &q, f->ws + i * by_id, by_row));
        if (base == 0) break;
    }
    return NEGS_OK;
}

NEGS_API int negs_freq_update(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n)
{
    return update(f, step, ids, NULL, n, "negs_freq_update");
}

NEGS_API int negs_freq_update_u32(negs_freq *f, uint64_t step, const uint32_t *ids, size_t n)
{
    return update(f, step, NULL, ids, n, "negs_freq_update_u32");
}

NEGS_API int negs_freq_update_logq(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n,
                                   float *out_logq)
{
    return update_logq(f, step, ids, NULL, n, out_logq, "negs_freq_update_logq");
}

NEGS_API int negs_freq_update_logq_u32(negs_freq *f, uint64_t step, const uint32_t *ids,
                                       size_t n, float *out_logq)
{
    return update_logq(f, step, NULL, ids, n, out_logq, "negs_freq_update_logq_u32");
}
