/* Packing into the panel layouts of kernels.h, and the scalar exp. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/cpu.h"
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
    if (!(x >= NEGS_EXP_LO)) return 0.0f; /* also -inf */
    if (x > NEGS_EXP_HI) x = NEGS_EXP_HI;
    /* the same operations as the SIMD tables, FMAs included */
    float n = nearbyintf(x * NEGS_EXP_LOG2E);
    float r = negs_fma_f(-n, NEGS_EXP_LN2_HI, x);
    r = negs_fma_f(-n, NEGS_EXP_LN2_LO, r);
    float p = NEGS_EXP_P0;
    p = negs_fma_f(p, r, NEGS_EXP_P1);
    p = negs_fma_f(p, r, NEGS_EXP_P2);
    p = negs_fma_f(p, r, NEGS_EXP_P3);
    p = negs_fma_f(p, r, NEGS_EXP_P4);
    p = negs_fma_f(p, r, NEGS_EXP_P5);
    float y = negs_fma_f(p * r, r, r + 1.0f);
    int32_t e = (int32_t)n + 127;
    if (e < 1) e = 1; /* x >= EXP_LO keeps n >= -126; this guards rounding at the edge */
    uint32_t bits = (uint32_t)e << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

const negs_kernels *negs_kernels_select(unsigned isa)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (isa & NEGS_CPU_AVX512) return &negs_kernels_avx512;
    if (isa & NEGS_CPU_AVX2) return &negs_kernels_avx2;
#else
    (void)isa;
#endif
    return &negs_kernels_scalar;
}
