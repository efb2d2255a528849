/* bfloat16 rounding on the bits (see kernels_bf16.h). */
#include <string.h>

#include "kernels_bf16.h"

uint16_t negs_bf16_bits(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    if ((b & 0x7fffffffu) > 0x7f800000u) /* NaN: keep sign and top payload, set quiet */
        return (uint16_t)(b >> 16 | 0x0040u);
    /* add just under half of the dropped part's unit, plus the kept part's low bit: a tie
     * carries only when the kept part is odd; a carry out of the fraction bumps the exponent,
     * up to Inf past the largest finite value */
    b += 0x7fffu + (b >> 16 & 1u);
    return (uint16_t)(b >> 16);
}

float negs_bf16_to_float(uint16_t h)
{
    uint32_t b = (uint32_t)h << 16;
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

float negs_bf16_round(float x)
{
    return negs_bf16_to_float(negs_bf16_bits(x));
}

size_t negs_bf16_round_array(const float *x, size_t n, float *out)
{
    size_t first_inf = n;
    for (size_t i = 0; i < n; i++) {
        uint16_t h = negs_bf16_bits(x[i]);
        if ((h & 0x7fffu) == 0x7f80u && first_inf == n) first_inf = i;
        out[i] = negs_bf16_to_float(h);
    }
    return first_inf;
}
