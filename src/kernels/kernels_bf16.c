/* bfloat16 rounding on the bits and the portable packing into the bf16 pair layouts (see
 * kernels_bf16.h). */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/cpu.h"
#if defined(__GNUC__) && defined(__x86_64__)
#include <cpuid.h>
#endif
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

void negs_bf16_scale_round(float *z, size_t n, float s)
{
    for (size_t c = 0; c < n; c++) {
        float x = z[c] * s;
        uint32_t b;
        memcpy(&b, &x, sizeof b);
        b = (b + 0x7fffu + (b >> 16 & 1u)) & 0xffff0000u; /* as negs_bf16_round_tile */
        memcpy(&z[c], &b, sizeof b);
    }
}

negs_bf16_scale_round_fn negs_bf16_scale_round_select(unsigned isa)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (isa & NEGS_CPU_AVX512) return negs_bf16_scale_round_avx512;
#else
    (void)isa;
#endif
    return negs_bf16_scale_round;
}

negs_bf16_round_array_fn negs_bf16_round_array_select(unsigned isa)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (isa & NEGS_CPU_AVX512) return negs_bf16_round_array_avx512;
#else
    (void)isa;
#endif
    return negs_bf16_round_array;
}

int negs_bf16_native_pays(double fma_gflops, double bf16_gflops)
{
    if (!(fma_gflops > 0.0) || !(bf16_gflops > 0.0) || !isfinite(fma_gflops) ||
        !isfinite(bf16_gflops))
        return 0;
    return bf16_gflops >= NEGS_BF16_NATIVE_MIN_RATIO * fma_gflops;
}

static pthread_once_t rates_once = PTHREAD_ONCE_INIT;
static double rate_fma, rate_bf16;

/* The CPU's own AVX512-BF16 (CPUID leaf 7 subleaf 1, EAX bit 5, with AVX-512 F, DQ, BW, VL as
 * negs_cpu_features asks), whatever NEGS_FORCE_* hide from the handles: the rates are the
 * CPU's, so that a forced run reports the same ones. */
static void measure_once(void)
{
#if defined(__GNUC__) && defined(__x86_64__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma") && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 5 & 1u))
        negs_bf16_measure_rates(&rate_fma, &rate_bf16);
#endif
}

void negs_bf16_rates(double *fma_gflops, double *bf16_gflops)
{
    pthread_once(&rates_once, measure_once);
    *fma_gflops = rate_fma;
    *bf16_gflops = rate_bf16;
}

unsigned negs_bf16_choose(unsigned cpu)
{
    if (!(cpu & NEGS_CPU_AVX512BF16)) return cpu;
    const char *force = getenv("NEGS_FORCE_BF16");
    if (force && strcmp(force, "native") == 0) return cpu;
    if (force && strcmp(force, "portable") == 0) return cpu & ~NEGS_CPU_AVX512BF16;
    double fma, bf16;
    negs_bf16_rates(&fma, &bf16);
    return negs_bf16_native_pays(fma, bf16) ? cpu : cpu & ~NEGS_CPU_AVX512BF16;
}

size_t negs_bf16_pack_row_pairs(const float *x, size_t rows, size_t dim, uint32_t *out)
{
    size_t first_inf = rows * dim;
    for (size_t t = 0; 2 * t < rows; t++) {
        uint32_t *o = out + t * dim;
        for (int h = 0; h < 2; h++) {
            size_t r = 2 * t + (size_t)h;
            if (r >= rows) break; /* the row past an odd end: high halves stay 0 */
            const float *xr = x + r * dim;
            for (size_t k = 0; k < dim; k++) {
                uint32_t b = negs_bf16_bits(xr[k]);
                if ((b & 0x7fffu) == 0x7f80u && first_inf == rows * dim) first_inf = r * dim + k;
                o[k] = h ? (o[k] & 0xffffu) | b << 16 : b;
            }
        }
    }
    return first_inf;
}

/* The bf16 of x[r][k] from the row pairs of negs_bf16_pack_row_pairs (0 past dim). */
static uint32_t from_pairs(const uint32_t *pairs, size_t r, size_t k, size_t dim)
{
    return k < dim ? pairs[r / 2 * dim + k] >> (16 * (r % 2)) & 0xffffu : 0u;
}

void negs_bf16_row_panels(const uint32_t *pairs, size_t rows, size_t dim, uint32_t *out)
{
    size_t kp = (dim + 1) / 2, np = (rows + NEGS_BF16_MR - 1) / NEGS_BF16_MR;
    for (size_t p = 0; p < np; p++) {
        uint32_t *o = out + p * kp * NEGS_BF16_MR;
        size_t r0 = p * NEGS_BF16_MR, nr = rows - r0 < NEGS_BF16_MR ? rows - r0 : NEGS_BF16_MR;
        for (size_t q = 0; q < kp; q++) {
            for (size_t r = 0; r < nr; r++)
                o[q * NEGS_BF16_MR + r] = from_pairs(pairs, r0 + r, 2 * q, dim) |
                                          from_pairs(pairs, r0 + r, 2 * q + 1, dim) << 16;
            for (size_t r = nr; r < NEGS_BF16_MR; r++) o[q * NEGS_BF16_MR + r] = 0u;
        }
    }
}

void negs_bf16_col_panels(const uint32_t *pairs, size_t rows, size_t dim, size_t panels,
                          uint32_t *out)
{
    size_t kp = (dim + 1) / 2;
    for (size_t p = 0; p < panels; p++) {
        uint32_t *o = out + p * kp * NEGS_KN_NR;
        size_t r0 = p * NEGS_KN_NR;
        size_t nr = r0 >= rows ? 0 : (rows - r0 < NEGS_KN_NR ? rows - r0 : NEGS_KN_NR);
        for (size_t q = 0; q < kp; q++) {
            for (size_t c = 0; c < nr; c++)
                o[q * NEGS_KN_NR + c] = from_pairs(pairs, r0 + c, 2 * q, dim) |
                                        from_pairs(pairs, r0 + c, 2 * q + 1, dim) << 16;
            for (size_t c = nr; c < NEGS_KN_NR; c++) o[q * NEGS_KN_NR + c] = 0u;
        }
    }
}
