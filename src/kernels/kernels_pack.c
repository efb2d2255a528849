/* Packing into the panel layouts of kernels.h, and the exported form of the portable exp. */
#include <stdint.h>
#include <string.h>

#include "kernels.h"
#include "kernels_exp.h"

void negs_pack_row_panels(const float *x, size_t rows, size_t dim, size_t mr, float *out)
{
    size_t np = (rows + mr - 1) / mr;
    for (size_t p = 0; p < np; p++) {
        float *o = out + p * dim * mr;
        size_t r0 = p * mr, nr = rows - r0 < mr ? rows - r0 : mr;
        for (size_t k = 0; k < dim; k++) {
            for (size_t r = 0; r < nr; r++) o[k * mr + r] = x[(r0 + r) * dim + k];
            for (size_t r = nr; r < mr; r++) o[k * mr + r] = 0.0f;
        }
    }
}

void negs_pack_col_panels(const float *x, size_t rows, size_t dim, size_t panels, float *out)
{
    for (size_t p = 0; p < panels; p++) {
        float *o = out + p * dim * NEGS_KN_NR;
        size_t r0 = p * NEGS_KN_NR;
        size_t nr = r0 >= rows ? 0 : (rows - r0 < NEGS_KN_NR ? rows - r0 : NEGS_KN_NR);
        if (nr < NEGS_KN_NR) memset(o, 0, dim * NEGS_KN_NR * sizeof *o);
        for (size_t r = 0; r < nr; r++) {
            const float *xr = x + (r0 + r) * dim;
            for (size_t k = 0; k < dim; k++) o[k * NEGS_KN_NR + r] = xr[k];
        }
    }
}

float negs_kn_expf(float x)
{
    return negs_expf_inline(x);
}
