/* The AVX512-BF16 table of the in-batch bf16 products (see kernels_bf16.h): vdpbf16ps on bf16
 * pairs with fp32 accumulation. Compiled per function for AVX512-BF16, so the library still
 * loads on CPUs without it; used only when negs_cpu_features reports NEGS_CPU_AVX512BF16. */
#include "kernels_bf16.h"
#include "kernels.h"
#include "negsample.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#include <time.h>

#define TBF __attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl,avx512dq,avx2,fma,prfchw")))
#define INL static inline __attribute__((always_inline))
#define MR NEGS_BF16_MR

/* A 12 x 32 block of scores: 24 accumulators over two column panels, the rows' pairs
 * broadcast from the row panel. Each element is one vdpbf16ps chain over the pairs. */
TBF static void scores_bf16(const uint32_t *a, size_t np, const uint32_t *b, size_t nq,
                            size_t kp, float *s, size_t lds)
{
    for (size_t q = 0; q < nq; q += 2) {
        const uint32_t *b0 = b + q * kp * NEGS_KN_NR, *b1 = b0 + kp * NEGS_KN_NR;
        for (size_t p = 0; p < np; p++) {
            const uint32_t *ap = a + p * kp * MR;
            float *sp = s + p * MR * lds + q * NEGS_KN_NR;
            /* the block's 24 lines of s, for writing: the block's products take longer than
             * fetching them, which the stores below would otherwise wait for */
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) {
                __builtin_prefetch(sp + r * lds, 1, 3);
                __builtin_prefetch(sp + r * lds + 16, 1, 3);
            }
            __m512 c[MR][2];
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = _mm512_setzero_ps();
            for (size_t t = 0; t < kp; t++) {
                __m512bh x0 = (__m512bh)_mm512_loadu_si512(b0 + t * NEGS_KN_NR);
                __m512bh x1 = (__m512bh)_mm512_loadu_si512(b1 + t * NEGS_KN_NR);
                const uint32_t *at = ap + t * MR;
#pragma GCC unroll 12
                for (int r = 0; r < MR; r++) {
                    __m512bh w = (__m512bh)_mm512_set1_epi32((int)at[r]);
                    c[r][0] = _mm512_dpbf16_ps(c[r][0], w, x0);
                    c[r][1] = _mm512_dpbf16_ps(c[r][1], w, x1);
                }
            }
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) {
                _mm512_storeu_ps(sp + r * lds, c[r][0]);
                _mm512_storeu_ps(sp + r * lds + 16, c[r][1]);
            }
        }
    }
}

/* Vector v of nv: masked only when it is a partial last one. */
INL TBF __m512 ldf(const float *p, int last, int masked, __mmask16 tail)
{
    return last && masked ? _mm512_maskz_loadu_ps(tail, p) : _mm512_loadu_ps(p);
}

INL TBF __m512bh ldp(const uint32_t *p, int last, int masked, __mmask16 tail)
{
    return (__m512bh)(last && masked ? _mm512_maskz_loadu_epi32(tail, p)
                                     : _mm512_loadu_si512(p));
}

INL TBF void stf(float *p, int last, int masked, __mmask16 tail, __m512 x)
{
    if (last && masked) _mm512_mask_storeu_ps(p, tail, x);
    else _mm512_storeu_ps(p, x);
}

/* ni x nv accumulators kept in registers over the whole pair loop. */
INL TBF void accum_block(float *acc, size_t ldacc, const uint32_t *const *w, size_t wst,
                         const uint32_t *x, size_t ldx, size_t nt, const int nv, const int ni,
                         const int masked, __mmask16 tail)
{
    __m512 r[12][4];
#pragma GCC unroll 12
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            r[i][v] = ldf(acc + i * ldacc + 16 * v, v == nv - 1, masked, tail);
            /* the next block's accumulators (the rows after these), fetched for writing while
             * this block runs (a prefetch past the end is harmless) */
            __builtin_prefetch(acc + (ni + i) * ldacc + 16 * v, 1, 3);
        }
    for (size_t t = 0; t < nt; t++) {
        __m512bh wt[12];
        const uint32_t *xt = x + t * ldx;
        /* wst = 0: a row of G paired in place, 16 pairs in every 32 slots */
        size_t at = wst ? t * wst : (t >> 4 << 5) + (t & 15);
        /* weights rows apart (dV's, one line per t): fetched 16 steps ahead, as no hardware
         * prefetcher follows a stride of pages */
        if (wst > 16) __builtin_prefetch(w[0] + (t + 16) * wst, 0, 3);
#pragma GCC unroll 12
        for (int i = 0; i < ni; i++) wt[i] = (__m512bh)_mm512_set1_epi32((int)w[i][at]);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            __m512bh xv = ldp(xt + 16 * v, v == nv - 1, masked, tail);
#pragma GCC unroll 12
            for (int i = 0; i < ni; i++) r[i][v] = _mm512_dpbf16_ps(r[i][v], wt[i], xv);
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            stf(acc + i * ldacc + 16 * v, v == nv - 1, masked, tail, r[i][v]);
}

#define ACCUM_NV(NV, NI)                                                                     \
    TBF static void accum_nv##NV(float *acc, size_t ldacc, size_t ni, const uint32_t *const *w, \
                                 size_t wst, const uint32_t *x, size_t ldx, size_t nt,         \
                                 int masked, __mmask16 tail)                                   \
    {                                                                                          \
        size_t i = 0;                                                                          \
        if (masked) {                                                                          \
            for (; i + (NI) <= ni; i += (NI))                                                  \
                accum_block(acc + i * ldacc, ldacc, w + i, wst, x, ldx, nt, NV, NI, 1, tail);  \
            for (; i < ni; i++)                                                                \
                accum_block(acc + i * ldacc, ldacc, w + i, wst, x, ldx, nt, NV, 1, 1, tail);   \
        } else {                                                                               \
            for (; i + (NI) <= ni; i += (NI))                                                  \
                accum_block(acc + i * ldacc, ldacc, w + i, wst, x, ldx, nt, NV, NI, 0, tail);  \
            for (; i < ni; i++)                                                                \
                accum_block(acc + i * ldacc, ldacc, w + i, wst, x, ldx, nt, NV, 1, 0, tail);   \
        }                                                                                      \
    }
ACCUM_NV(1, 12)
ACCUM_NV(2, 12)
ACCUM_NV(3, 8)
ACCUM_NV(4, 6)

TBF static void accum_bf16(float *acc, size_t ldacc, size_t ni, const uint32_t *const *w,
                           size_t wst, const uint32_t *x, size_t nt, size_t dim)
{
    /* Chunks of up to 64 entries (4 vectors): 6 rows x 4 vectors of accumulators plus 4 of x
     * fit the 32 registers. The order over the pairs is the same in every chunk. */
    for (size_t k0 = 0; k0 < dim; k0 += 64) {
        size_t kw = dim - k0 < 64 ? dim - k0 : 64;
        size_t nv = (kw + 15) / 16;
        __mmask16 tail = (kw % 16) ? (__mmask16)((1u << (kw % 16)) - 1u) : (__mmask16)0xFFFF;
        int masked = kw % 16 != 0;
        float *ac = acc + k0;
        const uint32_t *xc = x + k0;
        switch (nv) {
        case 1: accum_nv1(ac, ldacc, ni, w, wst, xc, dim, nt, masked, tail); break;
        case 2: accum_nv2(ac, ldacc, ni, w, wst, xc, dim, nt, masked, tail); break;
        case 3: accum_nv3(ac, ldacc, ni, w, wst, xc, dim, nt, masked, tail); break;
        default: accum_nv4(ac, ldacc, ni, w, wst, xc, dim, nt, masked, tail); break;
        }
    }
}

/* 16 entries of a row of G from its exponentials at column c: e s, the target fixed. */
INL TBF __m512 g16(const negs_bf16_grow *r, size_t c, __m512 s, int set)
{
    __m512 x = _mm512_mul_ps(_mm512_loadu_ps(r->e + c), s);
    if (r->tc - c < 16) {
        __mmask16 k = (__mmask16)(1u << (r->tc - c));
        __m512 ta = _mm512_set1_ps(r->ta);
        x = set ? _mm512_mask_mov_ps(x, k, ta) : _mm512_mask_add_ps(x, k, x, ta);
    }
    return x;
}

/* G's pairs in one pass over the exponentials, in their place (NEGS_BF16_G_INPLACE): each
 * block of 32 columns is read into registers before its slots are written. vcvtne2ps2bf16
 * rounds to nearest even as negs_bf16_bits does, except that it takes subnormal floats as 0
 * (vdpbf16ps would take a subnormal bf16 as 0 anyway); vpermw interleaves two rows' bf16 into
 * pairs across them. */
TBF static void g_pairs_bf16(const negs_bf16_grow *r0, const negs_bf16_grow *r1, int set,
                             size_t npad, int rows, int cols)
{
    /* (a_0, b_0, a_1, b_1, ...) from (a_0 .. a_15, b_0 .. b_15) */
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9,
                                         24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1,
                                         16, 0);
    const __m512 zero = _mm512_setzero_ps();
    float *o0 = r0->e, *o1 = r1->e;
    int live1 = r1->s != NULL;
    for (size_t c0 = 0; c0 < npad; c0 += NEGS_BF16_TILE) {
        size_t c1 = npad - c0 < NEGS_BF16_TILE ? npad : c0 + NEGS_BF16_TILE;
        __m512 s0 = _mm512_set1_ps(r0->s[c0 / NEGS_BF16_TILE]);
        __m512 s1 = live1 ? _mm512_set1_ps(r1->s[c0 / NEGS_BF16_TILE]) : zero;
        for (size_t c = c0; c < c1; c += 32) {
            __m512 a0 = g16(r0, c, s0, set), b0 = g16(r0, c + 16, s0, set);
            __m512 a1 = zero, b1 = zero;
            if (live1) a1 = g16(r1, c, s1, set), b1 = g16(r1, c + 16, s1, set);
            if (rows) {
                _mm512_storeu_si512(o0 + c, (__m512i)_mm512_cvtne2ps_pbh(b0, a0));
                if (live1) _mm512_storeu_si512(o1 + c, (__m512i)_mm512_cvtne2ps_pbh(b1, a1));
            }
            if (cols) {
                __m512i lo = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(a1, a0));
                __m512i hi = _mm512_permutexvar_epi16(idx, (__m512i)_mm512_cvtne2ps_pbh(b1, b0));
                _mm512_storeu_si512(o0 + c + 16, lo);
                _mm512_storeu_si512(o1 + c + 16, hi);
            }
        }
    }
}

/* 16 floats (finite) rounded to bf16 as negs_bf16_bits does, kept in the upper halves. */
INL TBF __m512i round16(__m512i b)
{
    __m512i odd = _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(1));
    b = _mm512_add_epi32(b, _mm512_add_epi32(odd, _mm512_set1_epi32(0x7fff)));
    return _mm512_and_si512(b, _mm512_set1_epi32((int)0xffff0000u));
}

/* negs_bf16_pack_row_pairs for finite x, 16 entries at a time; a row with an entry that
 * rounds to Inf is redone by the portable function, which names the first. */
TBF static size_t row_pairs_bf16(const float *x, size_t rows, size_t dim, uint32_t *out)
{
    const __m512i inf = _mm512_set1_epi32(0x7f800000), abs = _mm512_set1_epi32(0x7fffffff);
    __mmask16 tail = dim % 16 ? (__mmask16)((1u << (dim % 16)) - 1u) : (__mmask16)0xFFFF;
    for (size_t t = 0; 2 * t < rows; t++) {
        const float *x0 = x + 2 * t * dim, *x1 = x0 + dim;
        int two = 2 * t + 1 < rows;
        __mmask16 bad = 0;
        for (size_t k = 0; k < dim; k += 16) {
            __mmask16 m = dim - k < 16 ? tail : (__mmask16)0xFFFF;
            __m512i a = round16(_mm512_maskz_loadu_epi32(m, x0 + k));
            __m512i b = two ? round16(_mm512_maskz_loadu_epi32(m, x1 + k)) : _mm512_setzero_si512();
            bad |= _mm512_cmpeq_epi32_mask(_mm512_and_si512(a, abs), inf) |
                   _mm512_cmpeq_epi32_mask(_mm512_and_si512(b, abs), inf);
            _mm512_mask_storeu_epi32(out + t * dim + k, m,
                                     _mm512_or_si512(_mm512_srli_epi32(a, 16), b));
        }
        if (bad) /* from this pair of rows on: the portable function finds the first */
            return 2 * t * dim + negs_bf16_pack_row_pairs(x0, rows - 2 * t, dim, out + t * dim);
    }
    return rows * dim;
}

/* negs_bf16_scale_round (the same bits) 16 at a time: AVX-512 F only, for the portable path. */
__attribute__((target("avx512f"))) void negs_bf16_scale_round_avx512(float *z, size_t n, float s)
{
    const __m512 vs = _mm512_set1_ps(s);
    const __m512i one = _mm512_set1_epi32(1), half = _mm512_set1_epi32(0x7fff);
    const __m512i hi = _mm512_set1_epi32((int)0xffff0000u);
    for (size_t c = 0; c < n; c += 16) {
        __mmask16 m = n - c < 16 ? (__mmask16)((1u << (n - c)) - 1u) : (__mmask16)0xFFFF;
        __m512i b = _mm512_castps_si512(_mm512_mul_ps(_mm512_maskz_loadu_ps(m, z + c), vs));
        __m512i odd = _mm512_and_si512(_mm512_srli_epi32(b, 16), one);
        b = _mm512_and_si512(_mm512_add_epi32(b, _mm512_add_epi32(odd, half)), hi);
        _mm512_mask_storeu_ps(z + c, m, _mm512_castsi512_ps(b));
    }
}

/* negs_bf16_round_array (the same bits and return value) for finite x, AVX-512 F: a block of
 * 16 with an entry that rounds to Inf is redone by the portable function, which finds it. */
__attribute__((target("avx512f"))) size_t negs_bf16_round_array_avx512(const float *x, size_t n,
                                                                        float *out)
{
    const __m512i one = _mm512_set1_epi32(1), half = _mm512_set1_epi32(0x7fff);
    const __m512i hi = _mm512_set1_epi32((int)0xffff0000u), abs = _mm512_set1_epi32(0x7fffffff);
    const __m512i inf = _mm512_set1_epi32(0x7f800000);
    for (size_t c = 0; c < n; c += 16) {
        __mmask16 m = n - c < 16 ? (__mmask16)((1u << (n - c)) - 1u) : (__mmask16)0xFFFF;
        __m512i b = _mm512_maskz_loadu_epi32(m, x + c);
        __m512i odd = _mm512_and_si512(_mm512_srli_epi32(b, 16), one);
        b = _mm512_and_si512(_mm512_add_epi32(b, _mm512_add_epi32(odd, half)), hi);
        if (_mm512_cmpeq_epi32_mask(_mm512_and_si512(b, abs), inf))
            return c + negs_bf16_round_array(x + c, n - c, out + c);
        _mm512_mask_storeu_epi32(out + c, m, b);
    }
    return n;
}

/* --- The rates negs_bf16_choose compares: CHAINS independent chains (more than latency x
 * ports of either instruction on current cores) of STEPS instructions, timed by the monotonic
 * clock; the best of TRIALS alternated trials of each, after WARM trials of FMAs (the 512-bit
 * units may start at a reduced rate or clock). About 50 microseconds in all. */
#define CHAINS 24
#define STEPS 128
#define TRIALS 6
#define WARM 16

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

/* The trials are written in assembly so that what is timed is the same 24 register chains at
 * any optimisation level: compiled from intrinsics, an -O0 or sanitizer build keeps the
 * accumulators in memory, and both loops then run at the speed of the stores (measured so
 * under ASan: FMA 4.5 GFLOP/s, vdpbf16ps 9.4, twice as "fast" only because it counts twice
 * the flops), which would pick the native path on a CPU where it is slower. */
#define ACC1(insn, r) insn " %%zmm31, %%zmm30, %%zmm" #r "\n\t"
#define ACC24(insn)                                                                          \
    ACC1(insn, 0) ACC1(insn, 1) ACC1(insn, 2) ACC1(insn, 3) ACC1(insn, 4) ACC1(insn, 5)       \
    ACC1(insn, 6) ACC1(insn, 7) ACC1(insn, 8) ACC1(insn, 9) ACC1(insn, 10) ACC1(insn, 11)     \
    ACC1(insn, 12) ACC1(insn, 13) ACC1(insn, 14) ACC1(insn, 15) ACC1(insn, 16)                \
    ACC1(insn, 17) ACC1(insn, 18) ACC1(insn, 19) ACC1(insn, 20) ACC1(insn, 21)                \
    ACC1(insn, 22) ACC1(insn, 23)
#define ZERO1(r) "vpxord %%zmm" #r ", %%zmm" #r ", %%zmm" #r "\n\t"
#define ZERO24                                                                               \
    ZERO1(0) ZERO1(1) ZERO1(2) ZERO1(3) ZERO1(4) ZERO1(5) ZERO1(6) ZERO1(7) ZERO1(8)          \
    ZERO1(9) ZERO1(10) ZERO1(11) ZERO1(12) ZERO1(13) ZERO1(14) ZERO1(15) ZERO1(16)            \
    ZERO1(17) ZERO1(18) ZERO1(19) ZERO1(20) ZERO1(21) ZERO1(22) ZERO1(23)
#define CLOBBER24                                                                            \
    "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",    \
        "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19",     \
        "xmm20", "xmm21", "xmm22", "xmm23", "xmm30", "xmm31"
/* One trial: STEPS rounds of `insn` on the 24 chains, x and y broadcast (for vdpbf16ps each
 * float's two halves are the bf16 pair: 0.999f and 0.001f give normal products, no
 * subnormals on either unit). */
#define TRIAL(insn)                                                                          \
    long steps = STEPS;                                                                      \
    double t0 = now_ns();                                                                    \
    __asm__ volatile("vbroadcastss %1, %%zmm30\n\t"                                          \
                     "vbroadcastss %2, %%zmm31\n\t" ZERO24 "1:\n\t" ACC24(insn)              \
                     "dec %0\n\t"                                                            \
                     "jnz 1b\n\t"                                                            \
                     : "+r"(steps)                                                           \
                     : "m"(xf), "m"(yf)                                                      \
                     : CLOBBER24, "cc");                                                     \
    return now_ns() - t0

TBF static double fma_trial(float xf, float yf)
{
    TRIAL("vfmadd231ps");
}

TBF static double dp_trial(float xf, float yf)
{
    TRIAL("vdpbf16ps");
}

void negs_bf16_measure_rates(double *fma_gflops, double *bf16_gflops)
{
    volatile float xv = 0.999f, yv = 0.001f; /* not constants the compiler could fold */
    float x = xv, y = yv;
    double best_fma = 1e300, best_dp = 1e300;
    for (int w = 0; w < WARM; w++) (void)fma_trial(x, y);
    for (int t = 0; t < TRIALS; t++) {
        double a = fma_trial(x, y), b = dp_trial(x, y);
        if (a > 0.0 && a < best_fma) best_fma = a;
        if (b > 0.0 && b < best_dp) best_dp = b;
    }
    double n = (double)CHAINS * STEPS; /* instructions per trial */
    *fma_gflops = best_fma < 1e300 ? n * 32.0 / best_fma : 0.0;
    *bf16_gflops = best_dp < 1e300 ? n * 64.0 / best_dp : 0.0;
}

const negs_bf16_kernels negs_bf16_kernels_avx512bf16 = {
    NEGS_BF16_KERNEL_AVX512BF16, scores_bf16, accum_bf16, g_pairs_bf16, row_pairs_bf16,
};

#endif
