/* bfloat16 rounding on the bits and the portable packing into the bf16 pair layouts (see
 * kernels_bf16.h). */
#include <string.h>

#include "kernels.h"
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

void negs_bf16_round_tile(float *x, size_t ldx, size_t rows, size_t cols)
{
    for (size_t r = 0; r < rows; r++) {
        float *xr = x + r * ldx;
        for (size_t c = 0; c < cols; c++) {
            uint32_t b;
            memcpy(&b, &xr[c], sizeof b);
            b = (b + 0x7fffu + (b >> 16 & 1u)) & 0xffff0000u; /* finite: no NaN case */
            memcpy(&xr[c], &b, sizeof b);
        }
    }
}

/* The high half of a float already rounded to bf16. */
static uint32_t hi16(const float *x)
{
    uint32_t b;
    memcpy(&b, x, sizeof b);
    return b >> 16;
}

/* The pair (x[k], x[k + 1]) of a row of dim entries (the entry past the end is 0). */
static uint32_t pair_in_row(const float *x, size_t k, size_t dim)
{
    return hi16(x + k) | (k + 1 < dim ? hi16(x + k + 1) << 16 : 0u);
}

void negs_bf16_pack_row_panels(const float *x, size_t rows, size_t dim, uint32_t *out)
{
    size_t kp = (dim + 1) / 2, np = (rows + NEGS_BF16_MR - 1) / NEGS_BF16_MR;
    for (size_t p = 0; p < np; p++) {
        uint32_t *o = out + p * kp * NEGS_BF16_MR;
        size_t r0 = p * NEGS_BF16_MR, nr = rows - r0 < NEGS_BF16_MR ? rows - r0 : NEGS_BF16_MR;
        for (size_t q = 0; q < kp; q++) {
            for (size_t r = 0; r < nr; r++)
                o[q * NEGS_BF16_MR + r] = pair_in_row(x + (r0 + r) * dim, 2 * q, dim);
            for (size_t r = nr; r < NEGS_BF16_MR; r++) o[q * NEGS_BF16_MR + r] = 0u;
        }
    }
}

void negs_bf16_pack_col_panels(const float *x, size_t rows, size_t dim, size_t panels,
                               uint32_t *out)
{
    size_t kp = (dim + 1) / 2;
    for (size_t p = 0; p < panels; p++) {
        uint32_t *o = out + p * kp * NEGS_KN_NR;
        size_t r0 = p * NEGS_KN_NR;
        size_t nr = r0 >= rows ? 0 : (rows - r0 < NEGS_KN_NR ? rows - r0 : NEGS_KN_NR);
        for (size_t q = 0; q < kp; q++) {
            for (size_t c = 0; c < nr; c++)
                o[q * NEGS_KN_NR + c] = pair_in_row(x + (r0 + c) * dim, 2 * q, dim);
            for (size_t c = nr; c < NEGS_KN_NR; c++) o[q * NEGS_KN_NR + c] = 0u;
        }
    }
}

void negs_bf16_pack_row_pairs(const float *x, size_t rows, size_t dim, uint32_t *out)
{
    for (size_t t = 0; 2 * t < rows; t++) {
        const float *x0 = x + 2 * t * dim, *x1 = x0 + dim;
        uint32_t *o = out + t * dim;
        if (2 * t + 1 < rows)
            for (size_t k = 0; k < dim; k++) o[k] = hi16(x0 + k) | hi16(x1 + k) << 16;
        else
            for (size_t k = 0; k < dim; k++) o[k] = hi16(x0 + k);
    }
}
