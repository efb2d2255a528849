/* SKETCH: count-min (Cormode & Muthukrishnan 2005) with conservative update (Estan & Varghese
 * 2002) and exponential decay by forward decay (Cormode et al., ICDE 2009): an occurrence at
 * step t adds 2^((t - landmark)/half_life), so all counters decay together and a share
 * (counter / total) needs no per-query rescaling. The landmark moves forward before the scale
 * can overflow. */
#include <math.h>

#include "freq_internal.h"

#define SKETCH_GROUP 16u

void negs_sketch_renormalise(negs_freq *f, uint64_t to)
{
    if (f->half_life <= 0.0 || to <= f->landmark) {
        if (to > f->landmark) f->landmark = to;
        return;
    }
    double factor = exp2(-(double)(to - f->landmark) / f->half_life);
    size_t cells = (size_t)f->hashes * f->buckets;
    for (size_t k = 0; k < cells; k++) f->cnt[k] *= factor;
    f->total *= factor;
    f->landmark = to;
}

double negs_sketch_weight(negs_freq *f, uint64_t step)
{
    if (f->half_life <= 0.0) return 1.0;
    double e = (double)(step - f->landmark) / f->half_life;
    if (e > NEGS_FREQ_RENORM_EXP) {
        negs_sketch_renormalise(f, step);
        e = 0.0;
    }
    return exp2(e);
}

/* Hashes ids [i, i + len) of the chunk into the workspace and prefetches their counters. */
static void sketch_locate(negs_freq *f, const uint64_t *ids64, const uint32_t *ids32, size_t base,
                          size_t i, size_t len)
{
    const uint32_t m = f->hashes;
    negs_freq_hash_ids(f, ids64, ids32, base, i, len, f->ws, m, 1); /* id by id */
#if defined(__GNUC__)
    const double *cnt = f->cnt;
    for (size_t k = i * m; k < (i + len) * m; k++) __builtin_prefetch(cnt + f->ws[k], 1, 3);
#endif
}

void negs_sketch_update_ids(negs_freq *f, double w, const uint64_t *ids64, const uint32_t *ids32,
                            size_t base, size_t len)
{
    const uint32_t m = f->hashes;
    const size_t *ws = f->ws;
    double *cnt = f->cnt;
    const int conservative = f->conservative;
    /* A software pipeline: locate (hash and prefetch) one group ahead of the group updated. */
    sketch_locate(f, ids64, ids32, base, 0, len < SKETCH_GROUP ? len : SKETCH_GROUP);
    for (size_t g = 0; g < len; g += SKETCH_GROUP) {
        size_t end = len - g < SKETCH_GROUP ? len : g + SKETCH_GROUP;
        if (end < len)
            sketch_locate(f, ids64, ids32, base, end, len - end < SKETCH_GROUP ? len - end : SKETCH_GROUP);
        if (conservative) {
            /* Raise only the counters below the new estimate: never under the true count,
             * and collisions inflate less than with plain count-min. */
            for (size_t i = g; i < end; i++) {
                const size_t *off = ws + i * m;
                double est = cnt[off[0]];
                for (uint32_t j = 1; j < m; j++) est = cnt[off[j]] < est ? cnt[off[j]] : est;
                est += w;
                for (uint32_t j = 0; j < m; j++) cnt[off[j]] = cnt[off[j]] < est ? est : cnt[off[j]];
            }
        } else {
            for (size_t i = g * m; i < end * m; i++) cnt[ws[i]] += w;
        }
    }
}

double negs_sketch_p(const negs_freq *f, const negs_freq_query *q, const size_t *off,
                     size_t stride)
{
    double est = INFINITY;
    for (uint32_t j = 0; j < f->hashes; j++) {
        double c = f->cnt[off[j * stride]];
        if (c < est) est = c;
    }
    double p = f->total > 0.0 ? est / f->total : 0.0; /* total 0: all history decayed away */
    if (p < q->qmin) p = q->qmin;
    return p > 1.0 ? 1.0 : p;
}

void negs_sketch_merge(negs_freq *into, const negs_freq *other)
{
    double fa = 1.0, fb = 1.0;
    uint64_t landmark = into->landmark;
    if (into->half_life > 0.0) { /* align both to the later landmark (factors <= 1) */
        if (other->landmark > landmark) {
            landmark = other->landmark;
            fa = exp2(-(double)(landmark - into->landmark) / into->half_life);
        } else {
            fb = exp2(-(double)(landmark - other->landmark) / into->half_life);
        }
    }
    size_t cells = (size_t)into->hashes * into->buckets;
    if (fa == 1.0 && fb == 1.0) {
        for (size_t k = 0; k < cells; k++) into->cnt[k] += other->cnt[k];
    } else {
        for (size_t k = 0; k < cells; k++) into->cnt[k] = into->cnt[k] * fa + other->cnt[k] * fb;
    }
    into->total = into->total * fa + other->total * fb;
    into->landmark = landmark;
}
