/* The in-batch benches' data recipe, shared so that bench_inbatch and its dense OpenBLAS peer
 * (bench_inbatch_blas) see the same inputs and print the same loss. */
#ifndef NEGS_BENCH_INBATCH_DATA_H
#define NEGS_BENCH_INBATCH_DATA_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

static uint64_t st = 88172645463325252ull;
static float frand(void)
{
    st ^= st << 13;
    st ^= st >> 7;
    st ^= st << 17;
    return (float)((double)(st >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* u (b x dim) and v (n x dim) uniform in +-1/sqrt(dim); items from a popularity-skewed
 * catalogue of 10 n ids (some accidental hits); logq uniform in [-6, -4]. */
static void inbatch_data(size_t b, size_t n, size_t dim, float *u, float *v, uint32_t *items,
                         float *lq)
{
    float sc = 1.0f / sqrtf((float)dim);
    for (size_t i = 0; i < b * dim; i++) u[i] = frand() * sc;
    for (size_t i = 0; i < n * dim; i++) v[i] = frand() * sc;
    for (size_t j = 0; j < n; j++) {
        double r = (frand() + 1.0) / 2.0;
        items[j] = (uint32_t)(10.0 * (double)n * r * r * r);
        lq[j] = -5.0f + frand();
    }
}

#endif
