/* Blocked dense kernels behind one dispatch table: one implementation per instruction set
 * (kernels_scalar.c, kernels_avx2.c, kernels_avx512.c), chosen once per handle.
 *
 * Packed layouts (built by kernels_pack.c, shared by every instruction set):
 * - row panels: rows grouped by `mr` (the table's), each panel stored k-major as
 *   panel[k * mr + r]; rows past the end are zero;
 * - column panels: rows grouped by NEGS_KN_NR = 16, panel[k * 16 + c]; zero padded.
 * Every kernel computes each output element with one fixed sequence of operations that does
 * not depend on where the element sits in a block, so blocked results are reproducible. */
#ifndef NEGS_KERNELS_H
#define NEGS_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define NEGS_KN_NR 16 /* columns per column panel */

typedef struct negs_kernels {
    int kind;  /* NEGS_KERNEL_* */
    size_t mr; /* rows per row panel (divides 48) */
    /* s[r * lds + c] = sum_k a[r][k] * b[c][k] for r < np * mr, c < nq * 16, with `a` as np
     * row panels and `b` as nq column panels (nq even), each dot product accumulated in
     * k order from 0. */
    void (*scores)(const float *a, size_t np, const float *b, size_t nq, size_t dim, float *s,
                   size_t lds);
    /* acc[i * ldacc + k] += sum_t w[i * wsi + t * wst] * x[t * ldx + k] for i < ni, k < dim,
     * t taken in order 0..nt-1. */
    void (*accum)(float *acc, size_t ldacc, size_t ni, const float *w, size_t wsi, size_t wst,
                  const float *x, size_t ldx, size_t nt, size_t dim);
    /* z[c] = z[c] * scale - off[c] for c < n (n a multiple of 16); returns max_c z[c]. */
    float (*logits)(float *z, size_t n, float scale, const float *off);
    /* max_c z[c] (n a multiple of 16; -inf when all are -inf). */
    float (*max)(const float *z, size_t n);
    /* As logits, then z[c] = -inf where bit c of the bit row is set (bits[c / 32] >> c % 32
     * & 1); returns the max of the result. */
    float (*logits_mask)(float *z, size_t n, float scale, const float *off,
                         const uint32_t *bits);
    /* z[c] = exp(z[c] - shift) * mul (exactly 0 where z[c] is -inf); returns the sum of the
     * new values. shift is finite. */
    float (*exp_scale)(float *z, size_t n, float shift, float mul);
    /* sum_k a[k] * b[k] in one fixed order for every table: 16 lanes, lane c an FMA chain
     * over k = c, c + 16, ... (the last dim % 16 elements into lanes 0..), then the lanes
     * added as (c, c + 8), (c, c + 4), (c, c + 2), (0, 1). */
    float (*dot)(const float *a, const float *b, size_t dim);
    /* y[k] = fma(w, x[k], y[k]) for k < dim (y and x must not overlap). */
    void (*axpy)(float *y, float w, const float *x, size_t dim);
    /* Selection by score. keys[i] = the bits of s[i] mapped so that unsigned order is float
     * order (-0 as +0; every finite value maps above 0). Returns the largest key, or 0 when
     * some s[i] is NaN or infinite. */
    uint32_t (*float_keys)(const float *s, size_t n, uint32_t *keys);
    /* max of a[0..n) (0 for n = 0). */
    uint32_t (*max_u32)(const uint32_t *a, size_t n);
    /* The first i with a[i] == v, or n. */
    size_t (*find_u32)(const uint32_t *a, size_t n, uint32_t v);
    /* TOP of n_rows rows of n <= 64 candidates (scores s and ids items, row r at r * n): row
     * r's ids of its m largest scores into out[r * m ..], best first, ties to the earlier
     * position (-0 as +0), an id counted only at its first position in the row (later copies
     * are skipped). Stops at the first row with a NaN or infinite score, an id >= n_items or
     * fewer than m distinct ids, and returns its index (n_rows when every row is done). */
    size_t (*top_rows)(const float *s, const uint32_t *items, size_t n_rows, size_t n,
                       uint32_t n_items, uint32_t m, uint32_t *out);
    /* z[c] *= s for c < n (n a multiple of 16): one rounding, the same in every table. */
    void (*scale)(float *z, size_t n, float s);
} negs_kernels;

/* The best table for NEGS_CPU_* bits `isa` (0: the portable scalar one). */
const negs_kernels *negs_kernels_select(unsigned isa);

/* The tables themselves (the SIMD ones must only be used when the CPU supports them). */
extern const negs_kernels negs_kernels_scalar;
extern const negs_kernels negs_kernels_avx2;
extern const negs_kernels negs_kernels_avx512;

/* The AVX2 selection kernels, shared by the AVX-512 table. */
uint32_t negs_kn_float_keys_avx2(const float *s, size_t n, uint32_t *keys);
uint32_t negs_kn_max_u32_avx2(const uint32_t *a, size_t n);
size_t negs_kn_find_u32_avx2(const uint32_t *a, size_t n, uint32_t v);
size_t negs_kn_top_rows_avx2(const float *s, const uint32_t *items, size_t n_rows, size_t n,
                             uint32_t n_items, uint32_t m, uint32_t *out);
/* The AVX-512 top_rows (kernels_top512.c). */
size_t negs_kn_top_rows_avx512(const float *s, const uint32_t *items, size_t n_rows, size_t n,
                               uint32_t n_items, uint32_t m, uint32_t *out);

/* Packs rows x[r * dim + k], r < rows, into ceil(rows / mr) row panels. */
void negs_pack_row_panels(const float *x, size_t rows, size_t dim, size_t mr, float *out);
/* The AVX2 selection kernels, shared by the AVX-512 table. */
uint32_t negs_kn_float_keys_avx2(const float *s, size_t n, uint32_t *keys);
uint32_t negs_kn_max_u32_avx2(const uint32_t *a, size_t n);
size_t negs_kn_find_u32_avx2(const uint32_t *a, size_t n, uint32_t v);

/* Packs rows x[r * dim + k], r < rows, into ceil(rows / 16) column panels, then zero panels
 * up to `panels` in total. */
void negs_pack_col_panels(const float *x, size_t rows, size_t dim, size_t panels, float *out);

/* exp(x) in float as the SIMD kernels compute it (relative error below 2e-7 for x in
 * [-87, 88]; 0 below -87.3, including -inf). For tests and the scalar table. */
float negs_kn_expf(float x);

#endif
