/* The AVX2 + FMA kernel table (compiled per function for AVX2, used only when
 * negs_cpu_features reports NEGS_CPU_AVX2). */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "negsample.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#include "kernels_exp.h"

#define TAVX2 __attribute__((target("avx2,fma")))
#define INL static inline __attribute__((always_inline))
#define MR 6

/* A 6 x 16 block of scores: 12 accumulators (the 16 ymm registers hold them, the panel's two
 * halves and one broadcast). */
TAVX2 static void scores_avx2(const float *a, size_t np, const float *b, size_t nq, size_t dim,
                              float *s, size_t lds)
{
    for (size_t q = 0; q < nq; q++) {
        const float *bq = b + q * dim * NEGS_KN_NR;
        for (size_t p = 0; p < np; p++) {
            const float *ap = a + p * dim * MR;
            __m256 c[MR][2];
#pragma GCC unroll 6
            for (int r = 0; r < MR; r++) c[r][0] = c[r][1] = _mm256_setzero_ps();
            for (size_t k = 0; k < dim; k++) {
                __m256 x0 = _mm256_load_ps(bq + k * NEGS_KN_NR);
                __m256 x1 = _mm256_load_ps(bq + k * NEGS_KN_NR + 8);
                const float *ak = ap + k * MR;
#pragma GCC unroll 6
                for (int r = 0; r < MR; r++) {
                    __m256 w = _mm256_broadcast_ss(ak + r);
                    c[r][0] = _mm256_fmadd_ps(w, x0, c[r][0]);
                    c[r][1] = _mm256_fmadd_ps(w, x1, c[r][1]);
                }
            }
            float *sp = s + p * MR * lds + q * NEGS_KN_NR;
#pragma GCC unroll 6
            for (int r = 0; r < MR; r++) {
                _mm256_storeu_ps(sp + r * lds, c[r][0]);
                _mm256_storeu_ps(sp + r * lds + 8, c[r][1]);
            }
        }
    }
}

INL TAVX2 __m256i tail_mask(size_t kw)
{
    /* lanes < kw % 8 (all lanes when kw is a multiple of 8) */
    int n = (kw % 8) ? (int)(kw % 8) : 8;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Loads and stores of vector v of nv: masked only for a partial last vector (masked loads
 * and the mask registers cost more than plain ones). */
INL TAVX2 __m256 ld8(const float *p, int last, int masked, __m256i tail)
{
    return last && masked ? _mm256_maskload_ps(p, tail) : _mm256_loadu_ps(p);
}

INL TAVX2 void st8(float *p, int last, int masked, __m256i tail, __m256 x)
{
    if (last && masked) _mm256_maskstore_ps(p, tail, x);
    else _mm256_storeu_ps(p, x);
}

INL TAVX2 void accum_block2(float *acc, size_t ldacc, const float *w, size_t wsi, size_t wst,
                            const float *x, size_t ldx, size_t nt, const int nv, const int ni,
                            const int masked, __m256i tail)
{
    __m256 r[6][4];
#pragma GCC unroll 6
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            r[i][v] = ld8(acc + i * ldacc + 8 * v, v == nv - 1, masked, tail);
    for (size_t t = 0; t < nt; t++) {
        __m256 wt[6];
        const float *xt = x + t * ldx;
#pragma GCC unroll 6
        for (int i = 0; i < ni; i++) wt[i] = _mm256_broadcast_ss(w + i * wsi + t * wst);
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            __m256 xv = ld8(xt + 8 * v, v == nv - 1, masked, tail);
#pragma GCC unroll 6
            for (int i = 0; i < ni; i++) r[i][v] = _mm256_fmadd_ps(wt[i], xv, r[i][v]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < ni; i++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            st8(acc + i * ldacc + 8 * v, v == nv - 1, masked, tail, r[i][v]);
}

#define ACCUM2_NV(NV, NI)                                                                    \
    TAVX2 static void accum2_nv##NV(float *acc, size_t ldacc, size_t ni, const float *w,       \
                                    size_t wsi, size_t wst, const float *x, size_t ldx,        \
                                    size_t nt, int masked, __m256i tail)                       \
    {                                                                                          \
        size_t i = 0;                                                                          \
        if (masked) {                                                                          \
            for (; i + (NI) <= ni; i += (NI))                                                  \
                accum_block2(acc + i * ldacc, ldacc, w + i * wsi, wsi, wst, x, ldx, nt, NV,    \
                             NI, 1, tail);                                                     \
            for (; i < ni; i++)                                                                \
                accum_block2(acc + i * ldacc, ldacc, w + i * wsi, wsi, wst, x, ldx, nt, NV, 1, \
                             1, tail);                                                         \
        } else {                                                                               \
            for (; i + (NI) <= ni; i += (NI))                                                  \
                accum_block2(acc + i * ldacc, ldacc, w + i * wsi, wsi, wst, x, ldx, nt, NV,    \
                             NI, 0, tail);                                                     \
            for (; i < ni; i++)                                                                \
                accum_block2(acc + i * ldacc, ldacc, w + i * wsi, wsi, wst, x, ldx, nt, NV, 1, \
                             0, tail);                                                         \
        }                                                                                      \
    }
ACCUM2_NV(1, 6)
ACCUM2_NV(2, 4)
ACCUM2_NV(3, 3)
ACCUM2_NV(4, 3)

TAVX2 static void accum_avx2(float *acc, size_t ldacc, size_t ni, const float *w, size_t wsi,
                             size_t wst, const float *x, size_t ldx, size_t nt, size_t dim)
{
    /* Column chunks of up to 32 (4 vectors): 3 rows x 4 vectors of accumulators and the 3
     * broadcasts fit the 16 registers. */
    for (size_t k0 = 0; k0 < dim; k0 += 32) {
        size_t kw = dim - k0 < 32 ? dim - k0 : 32;
        size_t nv = (kw + 7) / 8;
        __m256i tail = tail_mask(kw);
        int masked = kw % 8 != 0;
        float *ac = acc + k0;
        const float *xc = x + k0;
        switch (nv) {
        case 1: accum2_nv1(ac, ldacc, ni, w, wsi, wst, xc, ldx, nt, masked, tail); break;
        case 2: accum2_nv2(ac, ldacc, ni, w, wsi, wst, xc, ldx, nt, masked, tail); break;
        case 3: accum2_nv3(ac, ldacc, ni, w, wsi, wst, xc, ldx, nt, masked, tail); break;
        default: accum2_nv4(ac, ldacc, ni, w, wsi, wst, xc, ldx, nt, masked, tail); break;
        }
    }
}

INL TAVX2 float hmax256(__m256 m)
{
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

INL TAVX2 float hsum256(__m256 m)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

TAVX2 static float logits_avx2(float *z, size_t n, float scale, const float *off)
{
    __m256 vs = _mm256_set1_ps(scale), m = _mm256_set1_ps(-__builtin_inff());
    for (size_t c = 0; c < n; c += 8) {
        __m256 v = _mm256_fmsub_ps(_mm256_loadu_ps(z + c), vs, _mm256_loadu_ps(off + c));
        _mm256_storeu_ps(z + c, v);
        m = _mm256_max_ps(m, v);
    }
    return hmax256(m);
}

TAVX2 static float max_avx2(const float *z, size_t n)
{
    __m256 m = _mm256_set1_ps(-__builtin_inff());
    for (size_t c = 0; c < n; c += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(z + c));
    return hmax256(m);
}

TAVX2 static float logits_mask_avx2(float *z, size_t n, float scale, const float *off,
                                    const uint32_t *bits)
{
    const __m256i lane = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
    __m256 vs = _mm256_set1_ps(scale), m = _mm256_set1_ps(-__builtin_inff()), ninf = m;
    for (size_t c = 0; c < n; c += 8) {
        __m256i k = _mm256_set1_epi32((int)(bits[c >> 5] >> (c & 24) & 255u));
        __m256 sel = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(k, lane), lane));
        __m256 v = _mm256_fmsub_ps(_mm256_loadu_ps(z + c), vs, _mm256_loadu_ps(off + c));
        v = _mm256_blendv_ps(v, ninf, sel);
        _mm256_storeu_ps(z + c, v);
        m = _mm256_max_ps(m, v);
    }
    return hmax256(m);
}

INL TAVX2 __m256 exp256(__m256 x)
{
    __m256 ok = _mm256_cmp_ps(x, _mm256_set1_ps(NEGS_EXP_LO), _CMP_GE_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(NEGS_EXP_LO)),
                      _mm256_set1_ps(NEGS_EXP_HI));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(NEGS_EXP_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(NEGS_EXP_LN2_HI), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(NEGS_EXP_LN2_LO), r);
    __m256 p = _mm256_set1_ps(NEGS_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NEGS_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NEGS_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NEGS_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NEGS_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(NEGS_EXP_P5));
    __m256 y = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(
        _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(ok, _mm256_mul_ps(y, _mm256_castsi256_ps(e)));
}

TAVX2 static float exp_scale_avx2(float *z, size_t n, float shift, float mul)
{
    __m256 vs = _mm256_set1_ps(shift), vm = _mm256_set1_ps(mul), sum = _mm256_setzero_ps();
    for (size_t c = 0; c < n; c += 8) {
        __m256 e = _mm256_mul_ps(exp256(_mm256_sub_ps(_mm256_loadu_ps(z + c), vs)), vm);
        _mm256_storeu_ps(z + c, e);
        sum = _mm256_add_ps(sum, e);
    }
    return hsum256(sum);
}

/* Lanes 0-7 in lo, 8-15 in hi; the tail through masked loads (zeros add nothing). */
TAVX2 static float dot_avx2(const float *a, const float *b, size_t dim)
{
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps();
    size_t k = 0;
    for (; k + 16 <= dim; k += 16) {
        lo = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), lo);
        hi = _mm256_fmadd_ps(_mm256_loadu_ps(a + k + 8), _mm256_loadu_ps(b + k + 8), hi);
    }
    if (k < dim) {
        const int r = (int)(dim - k);
        const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(r), idx);
        __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(r - 8), idx);
        lo = _mm256_fmadd_ps(_mm256_maskload_ps(a + k, m0), _mm256_maskload_ps(b + k, m0), lo);
        hi = _mm256_fmadd_ps(_mm256_maskload_ps(a + k + 8, m1),
                             _mm256_maskload_ps(b + k + 8, m1), hi);
    }
    __m256 s8 = _mm256_add_ps(lo, hi);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    __m128 s1 = _mm_add_ss(s2, _mm_shuffle_ps(s2, s2, 1));
    return _mm_cvtss_f32(s1);
}

TAVX2 static void axpy_avx2(float *y, float w, const float *x, size_t dim)
{
    const __m256 vw = _mm256_set1_ps(w);
    size_t k = 0;
    for (; k + 8 <= dim; k += 8)
        _mm256_storeu_ps(y + k,
                         _mm256_fmadd_ps(vw, _mm256_loadu_ps(x + k), _mm256_loadu_ps(y + k)));
    if (k < dim) {
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(dim - k)),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(y + k, m, _mm256_fmadd_ps(vw, _mm256_maskload_ps(x + k, m),
                                                      _mm256_maskload_ps(y + k, m)));
    }
}

INL TAVX2 uint32_t hmax_u32(__m256i m)
{
    __m128i x = _mm_max_epu32(_mm256_castsi256_si128(m), _mm256_extracti128_si256(m, 1));
    x = _mm_max_epu32(x, _mm_shuffle_epi32(x, 0x4E));
    x = _mm_max_epu32(x, _mm_shuffle_epi32(x, 0xB1));
    return (uint32_t)_mm_cvtsi128_si32(x);
}

TAVX2 uint32_t negs_kn_float_keys_avx2(const float *s, size_t n, uint32_t *keys)
{
    const __m256i expo = _mm256_set1_epi32(0x7f800000), sign = _mm256_set1_epi32((int)0x80000000u);
    __m256i mx = _mm256_setzero_si256(), bad = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i b = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(_mm256_and_si256(b, expo), expo));
        b = _mm256_andnot_si256(_mm256_cmpeq_epi32(b, sign), b); /* -0 as +0 */
        __m256i k = _mm256_xor_si256(b, _mm256_or_si256(_mm256_srai_epi32(b, 31), sign));
        _mm256_storeu_si256((__m256i *)(void *)(keys + i), k);
        mx = _mm256_max_epu32(mx, k);
    }
    uint32_t m = hmax_u32(mx), nonfinite = (uint32_t)_mm256_movemask_epi8(bad);
    for (; i < n; i++) {
        uint32_t b;
        memcpy(&b, s + i, sizeof b);
        nonfinite |= (b & 0x7f800000u) == 0x7f800000u;
        b = b == 0x80000000u ? 0u : b;
        keys[i] = b ^ ((uint32_t)((int32_t)b >> 31) | 0x80000000u);
        m = keys[i] > m ? keys[i] : m;
    }
    return nonfinite ? 0 : m;
}

TAVX2 uint32_t negs_kn_max_u32_avx2(const uint32_t *a, size_t n)
{
    __m256i mx = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        mx = _mm256_max_epu32(mx, _mm256_loadu_si256((const __m256i *)(const void *)(a + i)));
    uint32_t m = hmax_u32(mx);
    for (; i < n; i++) m = a[i] > m ? a[i] : m;
    return m;
}

INL TAVX2 unsigned eq_mask(const uint32_t *a, __m256i vv)
{
    __m256i e = _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(const void *)a), vv);
    return (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(e));
}

/* Up to 64 entries without a data-dependent branch (the mask of all matches, then its first
 * bit); longer arrays test 32 lanes per branch. */
TAVX2 size_t negs_kn_find_u32_avx2(const uint32_t *a, size_t n, uint32_t v)
{
    const __m256i vv = _mm256_set1_epi32((int)v);
    size_t i = 0;
    if (n <= 64) {
        uint64_t m = 0;
        for (; i + 8 <= n; i += 8) m |= (uint64_t)eq_mask(a + i, vv) << i;
        for (; i < n; i++) m |= (uint64_t)(a[i] == v) << i;
        return m ? (size_t)__builtin_ctzll(m) : n;
    }
    for (; i + 32 <= n; i += 32) {
        uint32_t m = eq_mask(a + i, vv) | eq_mask(a + i + 8, vv) << 8 |
                     eq_mask(a + i + 16, vv) << 16 | eq_mask(a + i + 24, vv) << 24;
        if (m) return i + (size_t)__builtin_ctz(m);
    }
    for (; i + 8 <= n; i += 8) {
        __m256i e = _mm256_cmpeq_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(a + i)), vv);
        unsigned mask = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(e));
        if (mask) return i + (size_t)__builtin_ctz(mask);
    }
    while (i < n && a[i] != v) i++;
    return i;
}

/* The sign bits of the 32-bit lanes of q[0..c) (c <= 4; each lane all ones or all zeros) as
 * a 32-bit mask, lane l of q[v] at bit 8 v + l: packed to bytes, one movemask instead of four. */
INL TAVX2 uint32_t lane_mask4(const __m256i *q, const int c)
{
    const __m256i z = _mm256_setzero_si256();
    __m256i a = _mm256_packs_epi32(q[0], c > 1 ? q[1] : z);
    __m256i b = _mm256_packs_epi32(c > 2 ? q[2] : z, c > 3 ? q[3] : z);
    __m256i x = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(a, b),
                                            _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    return (uint32_t)_mm256_movemask_epi8(x);
}

/* The same for e[0..nv), nv <= 8, as 64 bits. */
INL TAVX2 uint64_t lane_mask(const __m256i *e, const int nv)
{
    uint64_t m = lane_mask4(e, nv < 4 ? nv : 4);
    return nv > 4 ? m | (uint64_t)lane_mask4(e + 4, nv - 4) << 32 : m;
}

/* Vector v of a row's ids (lanes past n as 0); loaded again where needed rather than held:
 * the scores take the registers. */
INL TAVX2 __m256i load_ids(const uint32_t *ir, int v, const int nv, const int full, __m256i tail)
{
    return full || v < nv - 1
               ? _mm256_loadu_si256((const __m256i *)(const void *)(ir + 8 * v))
               : _mm256_maskload_epi32((const int *)(const void *)(ir + 8 * v), tail);
}

/* The maximum of x[0..nv) in every lane. */
INL TAVX2 __m256 row_max(const __m256 *x, const int nv)
{
    __m256 mx = x[0];
#pragma GCC unroll 8
    for (int v = 1; v < nv; v++) mx = _mm256_max_ps(mx, x[v]);
    mx = _mm256_max_ps(mx, _mm256_permute2f128_ps(mx, mx, 1));
    mx = _mm256_max_ps(mx, _mm256_permute_ps(mx, 0x4E));
    return _mm256_max_ps(mx, _mm256_permute_ps(mx, 0xB1));
}

/* 1 if ir[p] does not occur below position p. */
INL TAVX2 int first_copy(const uint32_t *ir, unsigned p, const int nv, const int full,
                         __m256i tail)
{
    __m256i vi = _mm256_set1_epi32((int)ir[p]), f[8];
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) f[v] = _mm256_cmpeq_epi32(load_ids(ir, v, nv, full, tail), vi);
    return !(lane_mask(f, nv) & ((UINT64_C(1) << p) - 1));
}

/* Rows of at most 8 * nv candidates, the scores in registers (lanes past n at -inf), then a
 * repeated arg-max: the lanes equal to the row's maximum, taken in position order (ties to
 * the earlier one), set to -inf. An id's earlier copy is found by comparing it with the lanes
 * below its position. */
INL TAVX2 size_t top_rows_nv(const float *s, const uint32_t *items, size_t n_rows, size_t n,
                             uint32_t n_items, uint32_t m, uint32_t *out, const int nv,
                             const int full)
{
    const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - 8 * (size_t)(nv - 1))),
                                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    const __m256 ninf = _mm256_set1_ps(-INFINITY);
    const __m256i absm = _mm256_set1_epi32(0x7fffffff), big = _mm256_set1_epi32(0x7f7fffff),
                  last = _mm256_set1_epi32((int)(n_items - 1));
    for (size_t r = 0; r < n_rows; r++) {
        const float *sr = s + r * n;
        const uint32_t *ir = items + r * n;
        __m256 x[8];
        __m256i fin = _mm256_setzero_si256(), hi = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++) {
            int ld = full || v < nv - 1;
            __m256i b = ld ? _mm256_loadu_si256((const __m256i *)(const void *)(sr + 8 * v))
                           : _mm256_maskload_epi32((const int *)(const void *)(sr + 8 * v), tail);
            fin = _mm256_max_epi32(fin, _mm256_and_si256(b, absm));
            hi = _mm256_max_epu32(hi, load_ids(ir, v, nv, full, tail));
            x[v] = ld ? _mm256_castsi256_ps(b)
                      : _mm256_blendv_ps(ninf, _mm256_castsi256_ps(b), _mm256_castsi256_ps(tail));
        }
        /* some |score| above FLT_MAX (NaN, Inf), or some id above n_items - 1 */
        __m256i in = _mm256_cmpeq_epi32(_mm256_max_epu32(hi, last), last);
        __m256i bad = _mm256_andnot_si256(in, _mm256_set1_epi32(-1));
        bad = _mm256_or_si256(bad, _mm256_cmpgt_epi32(fin, big));
        if (!_mm256_testz_si256(bad, bad)) return r;
        uint32_t cnt = 0;
        while (cnt < m) {
            __m256 mx = row_max(x, nv);
            if (_mm256_cvtss_f32(mx) == -INFINITY) break;
            __m256i e[8];
#pragma GCC unroll 8
            for (int v = 0; v < nv; v++) {
                __m256 ev = _mm256_cmp_ps(x[v], mx, _CMP_EQ_OQ);
                e[v] = _mm256_castps_si256(ev);
                x[v] = _mm256_blendv_ps(x[v], ninf, ev);
            }
            uint64_t eq = lane_mask(e, nv);
            while (eq && cnt < m) {
                unsigned p = (unsigned)__builtin_ctzll(eq);
                eq &= eq - 1;
                if (first_copy(ir, p, nv, full, tail)) out[r * m + cnt++] = ir[p];
            }
        }
        if (cnt < m) return r;
    }
    return n_rows;
}

/* n = 64 (a full last vector) is compiled on its own: plain loads only. */
TAVX2 size_t negs_kn_top_rows_avx2(const float *s, const uint32_t *items, size_t n_rows, size_t n,
                                   uint32_t n_items, uint32_t m, uint32_t *out)
{
    switch (n == 64 ? 0 : (n + 7) / 8) {
    case 0: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 8, 1);
    case 1: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 1, 0);
    case 2: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 2, 0);
    case 3: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 3, 0);
    case 4: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 4, 0);
    case 5: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 5, 0);
    case 6: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 6, 0);
    case 7: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 7, 0);
    default: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 8, 0);
    }
}

TAVX2 static void scale_avx2(float *z, size_t n, float s)
{
    const __m256 vs = _mm256_set1_ps(s);
    for (size_t c = 0; c < n; c += 8)
        _mm256_storeu_ps(z + c, _mm256_mul_ps(_mm256_loadu_ps(z + c), vs));
}

const negs_kernels negs_kernels_avx2 = {
    NEGS_KERNEL_AVX2, MR, scores_avx2, accum_avx2, logits_avx2, max_avx2, logits_mask_avx2,
    exp_scale_avx2, dot_avx2, axpy_avx2, negs_kn_float_keys_avx2, negs_kn_max_u32_avx2,
    negs_kn_find_u32_avx2,
    negs_kn_top_rows_avx2, scale_avx2,
};

#endif
