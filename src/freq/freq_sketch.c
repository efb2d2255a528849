/* SKETCH: count-min (Cormode & Muthukrishnan 2005) with conservative update (Estan & Varghese
 * 2002) and exponential decay by forward decay (Cormode et al., ICDE 2009): an occurrence at
 * step t adds 2^((t - landmark)/half_life), so all counters decay together and a share
 * (counter / total) needs no per-query rescaling. The landmark moves forward before the scale
 * can overflow. */
#include <math.h>

#include "freq_internal.h"

#define SKETCH_CHUNK 16u

static void sketch_locate(const negs_freq *f, const uint64_t *ids, size_t len, double **ptr)
{
    const uint32_t m = f->hashes;
    const uint64_t buckets = f->buckets;
    for (size_t i = 0; i < len; i++) {
        uint64_t mixed = 0;
        for (uint32_t j = 0; j < m; j++) {
            if (!(j & 1u)) mixed = negs_freq_mix(f, j, ids[i]);
            double *c = f->cnt + (size_t)j * buckets + negs_freq_half_bucket(mixed, j, buckets);
#if defined(__GNUC__)
            __builtin_prefetch(c, 1, 3);
#endif
            ptr[i * m + j] = c;
        }
    }
}

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

void negs_sketch_update(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n)
{
    double w = 1.0;
    if (f->half_life > 0.0) {
        double e = (double)(step - f->landmark) / f->half_life;
        if (e > NEGS_FREQ_RENORM_EXP) {
            negs_sketch_renormalise(f, step);
            e = 0.0;
        }
        w = exp2(e);
    }
    if (n == 0) return;
    const uint32_t m = f->hashes;
    double *ring[2][SKETCH_CHUNK * NEGS_FREQ_MAX_HASHES];
    sketch_locate(f, ids, n < SKETCH_CHUNK ? n : SKETCH_CHUNK, ring[0]);
    for (size_t base = 0, k = 0; base < n; base += SKETCH_CHUNK, k ^= 1) {
        size_t cur = n - base < SKETCH_CHUNK ? n - base : SKETCH_CHUNK;
        size_t next = base + SKETCH_CHUNK;
        if (next < n) sketch_locate(f, ids + next, n - next < SKETCH_CHUNK ? n - next : SKETCH_CHUNK,
                                    ring[k ^ 1]);
        double **p = ring[k];
        if (f->conservative) {
            /* Raise only the counters below the new estimate: never under the true count,
             * and collisions inflate less than with plain count-min. */
            for (size_t i = 0; i < cur; i++, p += m) {
                double est = *p[0];
                for (uint32_t j = 1; j < m; j++) est = *p[j] < est ? *p[j] : est;
                est += w;
                for (uint32_t j = 0; j < m; j++) *p[j] = *p[j] < est ? est : *p[j];
            }
        } else {
            for (size_t i = 0; i < cur * m; i++) *p[i] += w;
        }
    }
    f->total += w * (double)n;
}

double negs_sketch_p(const negs_freq *f, const negs_freq_query *q, uint64_t id)
{
    double est = INFINITY;
    for (uint32_t j = 0; j < f->hashes; j++) {
        double c = f->cnt[(size_t)j * f->buckets + negs_freq_bucket(f, j, id)];
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
