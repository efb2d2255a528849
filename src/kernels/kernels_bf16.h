/* bfloat16 rounding and the bf16 products of the in-batch softmax's NEGS_PRECISION_BF16.
 *
 * bf16 is the upper half of a float (sign, 8 exponent bits, 7 fraction bits): the same range,
 * 8 significant bits. A product of two bf16 values has at most 16 significant bits, so it is
 * exact in float and only the fp32 accumulation rounds. Two paths compute the same products:
 * - portable (every machine): the rows are rounded to bf16 values stored as float, the
 *   gradient weights G are rounded the same way row by row, and the fp32 kernels multiply;
 * - AVX512-BF16 (vdpbf16ps, where the CPU has it and its measured rate beats the FMA units':
 *   negs_bf16_choose, at handle creation): the same rounded
 *   values packed as bf16 pairs along the summed index, multiplied pair by pair with fp32
 *   accumulation.
 * Both round the rows with negs_bf16_bits (integer arithmetic: the same bits on both paths);
 * the native path rounds G with vcvtne2ps2bf16, the same rounding except that subnormal
 * floats become 0. What differs is the fp32 order of the sums (vdpbf16ps adds the two
 * products of a pair per step) and vdpbf16ps's treatment of subnormal bf16 inputs and fp32
 * results as zero. */
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
/* x[r * ldx + c] = negs_bf16_round(x[r * ldx + c]) for r < rows, c < cols (finite x). */
void negs_bf16_round_tile(float *x, size_t ldx, size_t rows, size_t cols);

/* The packed bf16 layouts. A pair is one uint32: the bf16 of an even index in the low half,
 * of the next index in the high half (what vdpbf16ps multiplies lane by lane). Odd sizes are
 * padded with 0. kp = (dim + 1) / 2 pairs per row. */
#define NEGS_BF16_MR 12 /* rows per bf16 row panel (divides NEGS_IB_ROWS) */
/* Row pairs for the gradient products (pairs along the row index), rounding each float once
 * (negs_bf16_bits): ceil(rows / 2) pair rows, out[t * dim + k] = the pair (x[2 t][k],
 * x[2 t + 1][k]); the row past an odd end is 0. Returns the index r * dim + k of the first
 * entry that rounds to Inf, or rows * dim. */
size_t negs_bf16_pack_row_pairs(const float *x, size_t rows, size_t dim, uint32_t *out);
/* The panels for the scores, made from those row pairs (no rounding: the same bf16 values).
 * Row panels: ceil(rows / 12) panels, out[(p * kp + q) * 12 + r] = the pair
 * (x[12 p + r][2 q], x[12 p + r][2 q + 1]); rows past the end are 0. */
void negs_bf16_row_panels(const uint32_t *pairs, size_t rows, size_t dim, uint32_t *out);
/* Column panels: `panels` panels of 16 rows, out[(p * kp + q) * 16 + c] = the pair
 * (x[16 p + c][2 q], x[16 p + c][2 q + 1]); rows past `rows` are 0. */
void negs_bf16_col_panels(const uint32_t *pairs, size_t rows, size_t dim, size_t panels,
                          uint32_t *out);

#define NEGS_BF16_TILE 128 /* the columns g_pairs' factors s cover (NEGS_IB_COLS) */

/* G's pairs in the place of its exponentials (the row group's buffer, rows of ldg floats):
 * for rows r, r + 1 (r even) and each 32-column block c, row r's slots [c, c + 16) hold row
 * r's pairs along the columns (pair (c + 2q, c + 2q + 1) in slot c + q) and row r + 1's slots
 * [c, c + 16) row r + 1's; row r's slots [c + 16, c + 32) hold the pairs across the two rows
 * (low half row r's) of columns c .. c + 15, row r + 1's those of columns c + 16 .. c + 31.
 * Pair q of a row along the columns is at slot negs_bf16_row_slot(q); the pair across rows
 * of column j at negs_bf16_col_slot(j, ldg) from row r's start. */
static inline size_t negs_bf16_row_slot(size_t q)
{
    return q / 16 * 32 + q % 16;
}
static inline size_t negs_bf16_col_slot(size_t j, size_t ldg)
{
    return (j % 32 >= 16 ? ldg : 0) + j / 32 * 32 + 16 + j % 16;
}

/* One row of G for g_pairs: G_c = e[c] * s[c / 128] (one float rounding, as
 * negs_kernels.scale), then at the target column tc: G + ta, or ta when `set` (the debiased
 * weights); each G_c rounded to bf16 as negs_bf16_bits but a subnormal float becomes a zero of
 * its sign (vcvtne2ps2bf16). s = NULL: a row of zeros (the row past an odd end; e its
 * storage, not read). */
typedef struct negs_bf16_grow {
    float *e;       /* npad entries, replaced by the pairs */
    const float *s; /* one factor per NEGS_BF16_TILE columns */
    size_t tc;
    float ta;
} negs_bf16_grow;

/* The native bf16 products, one table per instruction set. */
typedef struct negs_bf16_kernels {
    int kind; /* NEGS_BF16_KERNEL_* */
    /* s[r * lds + c] = sum over pairs q < kp, in order, of the pair products of a's row r and
     * b's column c, for r < np * 12, c < nq * 16 (nq even); a: np row panels, b: nq column
     * panels (negs_bf16_pack_*_panels). */
    void (*scores)(const uint32_t *a, size_t np, const uint32_t *b, size_t nq, size_t kp,
                   float *s, size_t lds);
    /* acc[i * ldacc + k] += sum over pairs t < nt, in order, of w[i][wt(t)] (a pair of
     * weights) times x[t * dim + k] (a pair of rows' entries), for i < ni, k < dim; wt(t) =
     * t * wst, or with wst = 0 negs_bf16_row_slot(t) (a row of G's pairs in place). */
    void (*accum)(float *acc, size_t ldacc, size_t ni, const uint32_t *const *w, size_t wst,
                  const uint32_t *x, size_t nt, size_t dim);
    /* Rows r0 and r1 of G made from their exponentials, rounded and paired in one pass for
     * c < npad (a multiple of 32), in place (see negs_bf16_row_slot): the pairs along each row
     * when `rows`, across the two when `cols`. */
    void (*g_pairs)(const struct negs_bf16_grow *r0, const struct negs_bf16_grow *r1, int set,
                    size_t npad, int rows, int cols);
    /* negs_bf16_pack_row_pairs (the same bits and return value) for finite x. */
    size_t (*row_pairs)(const float *x, size_t rows, size_t dim, uint32_t *out);
} negs_bf16_kernels;

/* The portable path's pass that makes a row of G: z[c] = bf16 rounding (as negs_bf16_bits,
 * finite values) of z[c] * s, one float multiplication as negs_kernels.scale, for c < n; the
 * same bits as scale followed by negs_bf16_round_tile, in one pass. */
typedef void (*negs_bf16_scale_round_fn)(float *z, size_t n, float s);
void negs_bf16_scale_round(float *z, size_t n, float s); /* portable C */
/* The fastest version for NEGS_CPU_* bits `isa` (AVX-512 F, or the portable one). */
negs_bf16_scale_round_fn negs_bf16_scale_round_select(unsigned isa);
/* negs_bf16_round_array for finite x (the same bits and return value), by `isa`. */
typedef size_t (*negs_bf16_round_array_fn)(const float *x, size_t n, float *out);
negs_bf16_round_array_fn negs_bf16_round_array_select(unsigned isa);
#if defined(__GNUC__) && defined(__x86_64__)
void negs_bf16_scale_round_avx512(float *z, size_t n, float s);
size_t negs_bf16_round_array_avx512(const float *x, size_t n, float *out);
#endif

/* Which bf16 path a handle takes where the CPU has AVX512-BF16: the native one only where
 * vdpbf16ps outruns the FMA units, by the rates measured once per process (CPUID alone says
 * nothing of the rate: 0.48x the FMA's flops on one Xeon, 1.99x on Zen 4). */
#define NEGS_BF16_NATIVE_MIN_RATIO 1.25
/* The decision from two measured rates in GFLOP/s (FMA: 32 flops per 512-bit vfmadd,
 * vdpbf16ps: 64): 1 (native) when bf16 >= NEGS_BF16_NATIVE_MIN_RATIO * fma, else 0; 0 for
 * rates that are not positive and finite (a failed measurement). */
int negs_bf16_native_pays(double fma_gflops, double bf16_gflops);
/* The rates of negs_bf16_native_pays on this CPU, measured on the first call (a timed loop of
 * each instruction, best of several alternated trials, about 50 microseconds in all; once
 * per process, thread-safe) and returned by every later one; 0, 0 without AVX512-BF16. */
void negs_bf16_rates(double *fma_gflops, double *bf16_gflops);
/* The timed loops themselves (AVX512-BF16 CPUs only): one trial of each, fresh. */
void negs_bf16_measure_rates(double *fma_gflops, double *bf16_gflops);
/* NEGS_CPU_* bits `cpu` (negs_cpu_features) with NEGS_CPU_AVX512BF16 kept only where the
 * native path is chosen: NEGS_FORCE_BF16=native keeps it (when the CPU has it), =portable
 * drops it, unset or any other value: negs_bf16_native_pays(negs_bf16_rates()). The
 * environment is read at each call (each handle creation), the rates once per process. */
unsigned negs_bf16_choose(unsigned cpu);

/* The native table for NEGS_CPU_* bits `isa`, or NULL (then the portable path runs). */
const negs_bf16_kernels *negs_bf16_kernels_select(unsigned isa);
extern const negs_bf16_kernels negs_bf16_kernels_avx512bf16;

#endif
