/* The rows of the in-batch loss when they are not the caller's gathered ones: gathered from
 * the caller's tables by index, L2-normalised for the cosine option, and the way back for
 * the gradients (through the normalisation, scattered into the tables). */
#include <math.h>
#include <string.h>

#include "core/errors.h"
#include "inbatch.h"

/* Below this L2 norm a row has no direction (the header's contract for NEGS_LP_COSINE). */
#define MIN_NORM 1e-30

static int bad_row(const char *fn, const char *side, const uint32_t *idx, size_t r,
                   const char *what)
{
    if (idx)
        return negs_fail(NEGS_E_INVALID, "%s: %s row %u (index %zu) %s", fn, side, idx[r], r,
                         what);
    return negs_fail(NEGS_E_INVALID, "%s: %s row %zu %s", fn, side, r, what);
}

int negs_ib_rows(const char *fn, const char *side, const float *src, const uint32_t *idx,
                 size_t n, size_t dim, int cosine, float *x, double *inv)
{
    for (size_t r = 0; r < n; r++) {
        const float *s = src + (idx ? (size_t)idx[r] : r) * dim;
        float *d = x + r * dim;
        double ss = 0.0;
        for (size_t k = 0; k < dim; k++) {
            if (!isfinite(s[k])) return bad_row(fn, side, idx, r, "holds a NaN or Inf");
            ss += (double)s[k] * (double)s[k];
        }
        if (!cosine) {
            memcpy(d, s, dim * sizeof *d);
            continue;
        }
        double norm = sqrt(ss);
        if (!(norm >= MIN_NORM))
            return bad_row(fn, side, idx, r, "has an L2 norm below 1e-30: its cosine is "
                                             "undefined (NEGS_LP_COSINE)");
        inv[r] = 1.0 / norm;
        for (size_t k = 0; k < dim; k++) d[k] = (float)((double)s[k] * inv[r]);
    }
    return NEGS_OK;
}

void negs_ib_unnormalise(float *g, const float *x, const double *inv, size_t n, size_t dim)
{
    for (size_t r = 0; r < n; r++) {
        float *gr = g + r * dim;
        const float *xr = x + r * dim;
        double dot = 0.0;
        for (size_t k = 0; k < dim; k++) dot += (double)xr[k] * (double)gr[k];
        for (size_t k = 0; k < dim; k++)
            gr[k] = (float)(((double)gr[k] - (double)xr[k] * dot) * inv[r]);
    }
}

void negs_ib_scatter(float *table, const uint32_t *idx, const float *g, size_t n, size_t dim)
{
    for (size_t r = 0; r < n; r++) {
        float *restrict t = table + (size_t)idx[r] * dim;
        const float *restrict gr = g + r * dim;
        for (size_t k = 0; k < dim; k++) t[k] += gr[k];
    }
}
