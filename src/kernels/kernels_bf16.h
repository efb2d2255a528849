/* bfloat16 rounding for the in-batch softmax's NEGS_PRECISION_BF16 products.
 *
 * bf16 is the upper half of a float (sign, 8 exponent bits, 7 fraction bits): the same range,
 * 8 significant bits. The portable path rounds the rows once, then runs the fp32 kernels on
 * the rounded values: a product of two bf16 values has at most 16 significant bits, so it is
 * exact in float and only the fp32 accumulation rounds, as in a bf16 dot-product instruction
 * that accumulates in fp32. A native kernel (AVX512-BF16 vdpbf16ps, AMX tiles) would come as
 * its own negs_kernels table with a bf16 panel layout, chosen by negs_kernels_select from CPU
 * bits detected at handle creation; none is built here (see docs/inbatch.md). */
#ifndef NEGS_KERNELS_BF16_H
#define NEGS_KERNELS_BF16_H

#include <stddef.h>
#include <stdint.h>

/* The bf16 nearest to x, ties to even, as its 16 bits: finite values past the largest bf16
 * (0x7F7F, about 3.3895e38) by half an ulp or more become +-Inf, Inf stays Inf, a NaN stays a
 * (quiet) NaN with its sign, subnormals round like every other value. Integer arithmetic on
 * the bits only (no compiler bf16 type, no dependence on the FPU's rounding mode). */
uint16_t negs_bf16_bits(float x);
/* The float whose upper half is h (exact). */
float negs_bf16_to_float(uint16_t h);
/* negs_bf16_to_float(negs_bf16_bits(x)). */
float negs_bf16_round(float x);
/* out[i] = negs_bf16_round(x[i]) for i < n (out may be x); returns the first i whose result
 * is infinite, or n. */
size_t negs_bf16_round_array(const float *x, size_t n, float *out);

#endif
