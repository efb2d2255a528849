/* The float exp shared by every kernel table: Cephes-style range reduction x = n ln2 + r,
 * |r| <= ln2 / 2, a degree-6 polynomial for e^r (relative error about 1e-7) and 2^n built in
 * the exponent bits. Inputs below EXP_LO give exactly 0 (the results would be subnormal). */
#ifndef NEGS_KERNELS_EXP_H
#define NEGS_KERNELS_EXP_H

#include <stdint.h>
#include <string.h>

#define NEGS_EXP_LO (-87.33654f) /* ln(2^-126) */
#define NEGS_EXP_HI 88.0f        /* keeps 2^n finite */
#define NEGS_EXP_LOG2E 1.44269504088896341f
#define NEGS_EXP_LN2_HI 0.693359375f
#define NEGS_EXP_LN2_LO (-2.12194440e-4f)
#define NEGS_EXP_P0 1.9875691500e-4f
#define NEGS_EXP_P1 1.3981999507e-3f
#define NEGS_EXP_P2 8.3334519073e-3f
#define NEGS_EXP_P3 4.1665795894e-2f
#define NEGS_EXP_P4 1.6666665459e-1f
#define NEGS_EXP_P5 5.0000001201e-1f

/* a * b + c rounded once to float, as an FMA does, for the portable code: the product is
 * exact in double and the sum differs from a true FMA only when it lands exactly halfway
 * between two floats after rounding to double (about one case in 2^29). This keeps the
 * scalar and SIMD tables in agreement to about 1e-7 instead of 1e-5 at low temperatures. */
static inline float negs_fma_f(float a, float b, float c)
{
    return (float)((double)a * (double)b + (double)c);
}

/* The portable exp, branch-free so that loops over it vectorise: the same operations as the
 * SIMD tables (rounding to nearest even by the 1.5 * 2^23 trick, exact for |y| < 2^22). */
static inline float negs_expf_inline(float x)
{
    /* NaN and -inf take the low clamp, so the conversion of n below is always defined. */
    float xc = x >= NEGS_EXP_LO ? x : NEGS_EXP_LO;
    xc = xc > NEGS_EXP_HI ? NEGS_EXP_HI : xc;
    float n = (xc * NEGS_EXP_LOG2E + 12582912.0f) - 12582912.0f;
    float r = negs_fma_f(-n, NEGS_EXP_LN2_HI, xc);
    r = negs_fma_f(-n, NEGS_EXP_LN2_LO, r);
    float p = NEGS_EXP_P0;
    p = negs_fma_f(p, r, NEGS_EXP_P1);
    p = negs_fma_f(p, r, NEGS_EXP_P2);
    p = negs_fma_f(p, r, NEGS_EXP_P3);
    p = negs_fma_f(p, r, NEGS_EXP_P4);
    p = negs_fma_f(p, r, NEGS_EXP_P5);
    float y = negs_fma_f(p * r, r, r + 1.0f);
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return x >= NEGS_EXP_LO ? y * scale : 0.0f;
}

#endif
