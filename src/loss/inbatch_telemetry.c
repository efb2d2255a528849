/* Telemetry heaps and counts (see inbatch_telemetry.h). A row's tiles come in column order,
 * so the result depends only on the row's logits: the same for any thread count. */
#include <math.h>

#include "inbatch_telemetry.h"

/* Whether (za, ca) ranks below (zb, cb). */
static int worse(float za, uint32_t ca, float zb, uint32_t cb)
{
    return za < zb || (za == zb && ca > cb);
}

static void swap(uint32_t *cols, float *logits, size_t a, size_t b)
{
    uint32_t c = cols[a];
    float z = logits[a];
    cols[a] = cols[b];
    logits[a] = logits[b];
    cols[b] = c;
    logits[b] = z;
}

/* Restores the heap below position p (of n entries). */
static void sift(uint32_t *cols, float *logits, size_t n, size_t p)
{
    for (;;) {
        size_t l = 2 * p + 1, r = l + 1, w = p;
        if (l < n && worse(logits[l], cols[l], logits[w], cols[w])) w = l;
        if (r < n && worse(logits[r], cols[r], logits[w], cols[w])) w = r;
        if (w == p) return;
        swap(cols, logits, p, w);
        p = w;
    }
}

void negs_ib_tel_clear(uint32_t *cols, float *logits, size_t t)
{
    for (size_t q = 0; q < t; q++) {
        cols[q] = UINT32_MAX;
        logits[q] = -INFINITY;
    }
}

void negs_ib_tel_tile(uint32_t *cols, float *logits, size_t t, const float *z, size_t c0,
                      size_t cw, size_t self)
{
    for (size_t q = 0; q < cw; q++) {
        float zq = z[q];
        uint32_t c = (uint32_t)(c0 + q);
        /* most lanes fail the first test: the root is the worst kept */
        if (!(zq >= logits[0]) || zq == -INFINITY || c0 + q == self) continue;
        if (!worse(logits[0], cols[0], zq, c)) continue;
        logits[0] = zq;
        cols[0] = c;
        sift(cols, logits, t, 0);
    }
}

void negs_ib_tel_sort(uint32_t *cols, float *logits, size_t t)
{
    for (size_t n = t; n > 1; n--) { /* the worst to the end, then the rest */
        swap(cols, logits, 0, n - 1);
        sift(cols, logits, n - 1, 0);
    }
}

void negs_ib_tel_counts(const negs_ib_masks *mk, uint64_t *hits, uint64_t *known)
{
    uint64_t h = 0, all = 0;
    for (size_t i = 0; i < mk->b; i++) {
        uint32_t own = mk->gstart[i];
        h += mk->gend[own] - own - 1;
        all += mk->hits[i];
    }
    *hits = h;
    *known = all - h;
}
