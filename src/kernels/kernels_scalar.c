/* The portable kernel table: plain C (the compiler may vectorise it for the baseline ISA,
 * which never changes the order of the operations on one element). Multiply-adds go through
 * negs_fma_f so that each element is computed as the SIMD tables compute it. */
#include <math.h>

#include "kernels.h"
#include "kernels_exp.h"
#include "negsample.h"

#define MR 4

static void scores_scalar(const float *a, size_t np, const float *b, size_t nq, size_t dim,
                          float *s, size_t lds)
{
    for (size_t q = 0; q < nq; q++) {
        const float *bq = b + q * dim * NEGS_KN_NR;
        for (size_t p = 0; p < np; p++) {
            const float *ap = a + p * dim * MR;
            float acc[MR][NEGS_KN_NR] = {{0}};
            for (size_t k = 0; k < dim; k++)
                for (size_t r = 0; r < MR; r++)
                    for (size_t c = 0; c < NEGS_KN_NR; c++)
                        acc[r][c] =
                            negs_fma_f(ap[k * MR + r], bq[k * NEGS_KN_NR + c], acc[r][c]);
            for (size_t r = 0; r < MR; r++)
                for (size_t c = 0; c < NEGS_KN_NR; c++)
                    s[(p * MR + r) * lds + q * NEGS_KN_NR + c] = acc[r][c];
        }
    }
}

static void accum_scalar(float *acc, size_t ldacc, size_t ni, const float *w, size_t wsi,
                         size_t wst, const float *x, size_t ldx, size_t nt, size_t dim)
{
    for (size_t i = 0; i < ni; i++) {
        float *ai = acc + i * ldacc;
        for (size_t t = 0; t < nt; t++) {
            float wt = w[i * wsi + t * wst];
            const float *xt = x + t * ldx;
            for (size_t k = 0; k < dim; k++) ai[k] = negs_fma_f(wt, xt[k], ai[k]);
        }
    }
}

static float logits_scalar(float *z, size_t n, float scale, const float *off)
{
    float m = -INFINITY;
    for (size_t c = 0; c < n; c++) {
        z[c] = negs_fma_f(z[c], scale, -off[c]);
        m = z[c] > m ? z[c] : m;
    }
    return m;
}

static float max_scalar(const float *z, size_t n)
{
    float m = -INFINITY;
    for (size_t c = 0; c < n; c++) m = z[c] > m ? z[c] : m;
    return m;
}

static float exp_scale_scalar(float *z, size_t n, float shift, float mul)
{
    float sum = 0.0f;
    for (size_t c = 0; c < n; c++) {
        z[c] = negs_kn_expf(z[c] - shift) * mul;
        sum += z[c];
    }
    return sum;
}

const negs_kernels negs_kernels_scalar = {
    NEGS_KERNEL_SCALAR, MR, scores_scalar, accum_scalar, logits_scalar, max_scalar,
    exp_scale_scalar,
};
