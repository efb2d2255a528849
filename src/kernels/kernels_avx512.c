/* The AVX-512 kernel table (compiled per function for AVX-512, so the library still loads on
 * CPUs without it; used only when negs_cpu_features reports NEGS_CPU_AVX512). */
#include "kernels.h"
#include "negsample.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#include "kernels_exp.h"

#define T512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define INL static inline __attribute__((always_inline))
#define MR 12
/* accum: with strided weights, how many blocks ahead their lines are prefetched */
#define ACCUM_PF_BLOCKS 3

/* A 12 x 32 block of scores: 24 accumulators, two column panels, broadcasts from the packed
 * row panel. Each element is one FMA chain over k. */
T512 static void scores_avx512(const float *a, size_t np, const float *b, size_t nq, size_t dim,
                               float *s, size_t lds)
{
    for (size_t q = 0; q < nq; q += 2) {
        const float *b0 = b + q * dim * NEGS_KN_NR, *b1 = b0 + dim * NEGS_KN_NR;
        for (size_t p = 0; p < np; p++) {
            const float *ap = a + p * dim * MR;
            __m512 c[MR][2];
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = _mm512_setzero_ps();
#pragma GCC unroll 2
            for (size_t k = 0; k < dim; k++) {
                __m512 x0 = _mm512_load_ps(b0 + k * NEGS_KN_NR);
                __m512 x1 = _mm512_load_ps(b1 + k * NEGS_KN_NR);
                const float *ak = ap + k * MR;
#pragma GCC unroll 12
                for (int r = 0; r < MR; r++) {
                    __m512 w = _mm512_set1_ps(ak[r]);
                    c[r][0] = _mm512_fmadd_ps(w, x0, c[r][0]);
                    c[r][1] = _mm512_fmadd_ps(w, x1, c[r][1]);
                }
            }
            float *sp = s + p * MR * lds + q * NEGS_KN_NR;
#pragma GCC unroll 12
            for (int r = 0; r < MR; r++) {
                _mm512_storeu_ps(sp + r * lds, c[r][0]);
                _mm512_storeu_ps(sp + r * lds + 16, c[r][1]);
            }
        }
    }
}

/* ni x (nv vectors) accumulators kept in registers over the whole t loop. */
/* Vector v of nv: masked only when it is a partial last one. */
INL T512 __m512 ld16(const float *p, int last, int masked, __mmask16 tail)
{
    return last && masked ? _mm512_maskz_loadu_ps(tail, p) : _mm512_loadu_ps(p);
}

INL T512 void st16(float *p, int last, int masked, __mmask16 tail, __m512 x)
{
    if (last && masked) _mm512_mask_storeu_ps(p, tail, x);
    else _mm512_storeu_ps(p, x);
}

INL T512 void accum_block(float *acc, size_t ldacc, const float *w, size_t wsi, size_t wst,
                          const float *x, size_t ldx, size_t nt, const int nv, const int ni,
                          const int masked, __mmask16 tail, const int pf)
{
    __m512 r[12][4];
    /* the next block's accumulators (dv: rows far apart in memory): fetched while this one
     * runs, so its loads below do not wait on memory */
#pragma GCC unroll 12
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            _mm_prefetch((const char *)(acc + (ni + i) * ldacc + 16 * v), _MM_HINT_T0);
#pragma GCC unroll 12
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            r[i][v] = ld16(acc + i * ldacc + 16 * v, v == nv - 1, masked, tail);
#pragma GCC unroll 2
    for (size_t t = 0; t < nt; t++) {
        __m512 wt[12];
        const float *xt = x + t * ldx;
#pragma GCC unroll 12
        for (int i = 0; i < ni; i++) wt[i] = _mm512_set1_ps(w[i * wsi + t * wst]);
        /* strided weights (dv: a column of G, one cache line per t): the line of this t that
         * the block after next starts to read; no hardware prefetcher follows a stride of a
         * whole row, so without it each new line waits on L3 or memory */
        if (pf) _mm_prefetch((const char *)(w + t * wst + ACCUM_PF_BLOCKS * ni - 1), _MM_HINT_T1);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            __m512 xv = ld16(xt + 16 * v, v == nv - 1, masked, tail);
#pragma GCC unroll 12
            for (int i = 0; i < ni; i++) r[i][v] = _mm512_fmadd_ps(wt[i], xv, r[i][v]);
        }
    }
#pragma GCC unroll 12
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            st16(acc + i * ldacc + 16 * v, v == nv - 1, masked, tail, r[i][v]);
}

/* The blocks of NI rows, then the remaining rows one at a time. */
#define ACCUM_RUN(NV, NI, MASKED, PF)                                                        \
    do {                                                                                       \
        for (; i + (NI) <= ni; i += (NI))                                                      \
            accum_block(acc + i * ldacc, ldacc, w + i * wsi, wsi, wst, x, ldx, nt, NV, NI,     \
                        MASKED, tail, PF);                                                     \
        for (; i < ni; i++)                                                                    \
            accum_block(acc + i * ldacc, ldacc, w + i * wsi, wsi, wst, x, ldx, nt, NV, 1,      \
                        MASKED, tail, 0);                                                      \
    } while (0)
#define ACCUM_NV(NV, NI)                                                                     \
    T512 static void accum_nv##NV(float *acc, size_t ldacc, size_t ni, const float *w,         \
                                  size_t wsi, size_t wst, const float *x, size_t ldx,          \
                                  size_t nt, int masked, __mmask16 tail)                       \
    {                                                                                          \
        size_t i = 0;                                                                          \
        int pf = wsi == 1 && wst > 16; /* a block's weights of one t share a line, not t's */  \
        if (masked && pf) ACCUM_RUN(NV, NI, 1, 1);                                             \
        else if (masked) ACCUM_RUN(NV, NI, 1, 0);                                              \
        else if (pf) ACCUM_RUN(NV, NI, 0, 1);                                                  \
        else ACCUM_RUN(NV, NI, 0, 0);                                                          \
    }
ACCUM_NV(1, 12)
ACCUM_NV(2, 12)
ACCUM_NV(3, 8)
ACCUM_NV(4, 6)

T512 static void accum_avx512(float *acc, size_t ldacc, size_t ni, const float *w, size_t wsi,
                              size_t wst, const float *x, size_t ldx, size_t nt, size_t dim)
{
    /* Column chunks of up to 64 (4 vectors): 6 rows x 4 vectors of accumulators plus the 4
     * vectors of x fit the 32 registers, so each x vector is loaded once per t. The element
     * order over t is the same in every chunk. */
    for (size_t k0 = 0; k0 < dim; k0 += 64) {
        size_t kw = dim - k0 < 64 ? dim - k0 : 64;
        size_t nv = (kw + 15) / 16;
        __mmask16 tail = (kw % 16) ? (__mmask16)((1u << (kw % 16)) - 1u) : (__mmask16)0xFFFF;
        int masked = kw % 16 != 0;
        float *ac = acc + k0;
        const float *xc = x + k0;
        switch (nv) {
        case 1: accum_nv1(ac, ldacc, ni, w, wsi, wst, xc, ldx, nt, masked, tail); break;
        case 2: accum_nv2(ac, ldacc, ni, w, wsi, wst, xc, ldx, nt, masked, tail); break;
        case 3: accum_nv3(ac, ldacc, ni, w, wsi, wst, xc, ldx, nt, masked, tail); break;
        default: accum_nv4(ac, ldacc, ni, w, wsi, wst, xc, ldx, nt, masked, tail); break;
        }
    }
}

T512 static float logits_avx512(float *z, size_t n, float scale, const float *off)
{
    __m512 vs = _mm512_set1_ps(scale), m = _mm512_set1_ps(-__builtin_inff());
    for (size_t c = 0; c < n; c += 16) {
        __m512 v = _mm512_fmsub_ps(_mm512_loadu_ps(z + c), vs, _mm512_loadu_ps(off + c));
        _mm512_storeu_ps(z + c, v);
        m = _mm512_max_ps(m, v);
    }
    return _mm512_reduce_max_ps(m);
}

T512 static float max_avx512(const float *z, size_t n)
{
    __m512 m = _mm512_set1_ps(-__builtin_inff());
    for (size_t c = 0; c < n; c += 16) m = _mm512_max_ps(m, _mm512_loadu_ps(z + c));
    return _mm512_reduce_max_ps(m);
}

T512 static float logits_mask_avx512(float *z, size_t n, float scale, const float *off,
                                     const uint32_t *bits)
{
    __m512 vs = _mm512_set1_ps(scale), m = _mm512_set1_ps(-__builtin_inff()), ninf = m;
    for (size_t c = 0; c < n; c += 16) {
        __m512 v = _mm512_fmsub_ps(_mm512_loadu_ps(z + c), vs, _mm512_loadu_ps(off + c));
        v = _mm512_mask_mov_ps(v, (__mmask16)(bits[c >> 5] >> (c & 16)), ninf);
        _mm512_storeu_ps(z + c, v);
        m = _mm512_max_ps(m, v);
    }
    return _mm512_reduce_max_ps(m);
}

/* exp as negs_kn_expf, 16 lanes at a time: the same range reduction and polynomial, and 2^n
 * applied by vscalefps (the same product as building 2^n in the exponent bits: a power of two
 * times y, rounded once). Lanes below NEGS_EXP_LO (and NaN, -inf) are zeroed by the mask, so
 * they need no clamp. */
INL T512 __m512 exp512(__m512 x)
{
    __mmask16 ok = _mm512_cmp_ps_mask(x, _mm512_set1_ps(NEGS_EXP_LO), _CMP_GE_OQ);
    x = _mm512_min_ps(x, _mm512_set1_ps(NEGS_EXP_HI));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(NEGS_EXP_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(NEGS_EXP_LN2_HI), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(NEGS_EXP_LN2_LO), r);
    __m512 p = _mm512_set1_ps(NEGS_EXP_P0);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NEGS_EXP_P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NEGS_EXP_P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NEGS_EXP_P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NEGS_EXP_P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(NEGS_EXP_P5));
    __m512 y = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r,
                               _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_maskz_scalef_ps(ok, y, n);
}

T512 static float exp_scale_avx512(float *z, size_t n, float shift, float mul)
{
    __m512 vs = _mm512_set1_ps(shift), vm = _mm512_set1_ps(mul), sum = _mm512_setzero_ps();
    for (size_t c = 0; c < n; c += 16) {
        __m512 e = _mm512_mul_ps(exp512(_mm512_sub_ps(_mm512_loadu_ps(z + c), vs)), vm);
        _mm512_storeu_ps(z + c, e);
        sum = _mm512_add_ps(sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

T512 static float dot_avx512(const float *a, const float *b, size_t dim)
{
    __m512 acc = _mm512_setzero_ps();
    size_t k = 0;
    for (; k + 16 <= dim; k += 16)
        acc = _mm512_fmadd_ps(_mm512_loadu_ps(a + k), _mm512_loadu_ps(b + k), acc);
    if (k < dim) {
        __mmask16 m = (__mmask16)((1u << (dim - k)) - 1u);
        acc = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + k), _mm512_maskz_loadu_ps(m, b + k),
                              acc);
    }
    __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(acc),
                              _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1)));
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
}

T512 static void axpy_avx512(float *y, float w, const float *x, size_t dim)
{
    const __m512 vw = _mm512_set1_ps(w);
    size_t k = 0;
    for (; k + 16 <= dim; k += 16)
        _mm512_storeu_ps(y + k,
                         _mm512_fmadd_ps(vw, _mm512_loadu_ps(x + k), _mm512_loadu_ps(y + k)));
    if (k < dim) {
        __mmask16 m = (__mmask16)((1u << (dim - k)) - 1u);
        _mm512_mask_storeu_ps(y + k, m, _mm512_fmadd_ps(vw, _mm512_maskz_loadu_ps(m, x + k),
                                                        _mm512_maskz_loadu_ps(m, y + k)));
    }
}

T512 static void scale_avx512(float *z, size_t n, float s)
{
    const __m512 vs = _mm512_set1_ps(s);
    for (size_t c = 0; c < n; c += 16)
        _mm512_storeu_ps(z + c, _mm512_mul_ps(_mm512_loadu_ps(z + c), vs));
}

const negs_kernels negs_kernels_avx512 = {
    NEGS_KERNEL_AVX512, MR, scores_avx512, accum_avx512, logits_avx512, max_avx512,
    logits_mask_avx512, exp_scale_avx512, dot_avx512, axpy_avx512, negs_kn_float_keys_avx2,
    negs_kn_max_u32_avx2, negs_kn_find_u32_avx2,
    negs_kn_top_rows_avx512, scale_avx512,
};

#endif
