/* The marks of UNIQUE weighted rows (sp_umarks_fn) with AVX-512: eight events' counts of the
 * points below them at once. The estimate ceil(m / d - u) is checked in the vector against the
 * same products the scalar count compares; a lane that fails (m / d - u within rounding of an
 * integer) takes the scalar count. The marks are those of sp_unique_marks. */
#include "sampler_unique.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define T5 __attribute__((target("avx512f")))

T5 static uint32_t marks_avx512(const double *m, uint32_t len, double u, double d, double inv_d,
                                uint32_t kk, uint32_t *pts)
{
    const __m512d vu = _mm512_set1_pd(u), vd = _mm512_set1_pd(d), vi = _mm512_set1_pd(inv_d);
    const __m512d top = _mm512_set1_pd((double)kk), zero = _mm512_setzero_pd();
    const __m512d one = _mm512_set1_pd(1.0);
    uint32_t c = kk, cnt[8];
    for (uint32_t l = 0; l < len; l += 8) {
        uint32_t n = len - l < 8 ? len - l : 8;
        __mmask8 lanes = (__mmask8)((1u << n) - 1u);
        __m512d mv = _mm512_maskz_loadu_pd(lanes, m + l);
        __m512d e = _mm512_sub_pd(_mm512_mul_pd(mv, vi), vu);
        e = _mm512_min_pd(_mm512_max_pd(e, zero), top); /* a NaN becomes 0, as in the scalar */
        __m512d cd = _mm512_roundscale_pd(e, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC);
        __m512d tc = _mm512_mul_pd(_mm512_add_pd(vu, cd), vd);
        __m512d tm = _mm512_mul_pd(_mm512_add_pd(vu, _mm512_sub_pd(cd, one)), vd);
        __mmask8 up = _mm512_cmp_pd_mask(cd, top, _CMP_LT_OQ) & _mm512_cmp_pd_mask(tc, mv, _CMP_LT_OQ);
        __mmask8 down = _mm512_cmp_pd_mask(cd, zero, _CMP_GT_OQ) &
                        _mm512_cmp_pd_mask(tm, mv, _CMP_NLT_UQ);
        _mm256_storeu_si256((__m256i *)(void *)cnt, _mm512_cvttpd_epu32(cd));
        unsigned fix = (unsigned)(up | down) & lanes;
        while (fix) {
            unsigned i = (unsigned)__builtin_ctz(fix);
            cnt[i] = sp_unique_points_below(u, d, inv_d, kk, m[l + i]);
            fix &= fix - 1;
        }
        for (uint32_t i = 0; i < n; i++) {
            c = cnt[i];
            if (c < kk) pts[c] = l + i + 1;
        }
    }
    return c;
}
#endif

sp_umarks_fn sp_unique_marks_select(unsigned cpu)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) return marks_avx512;
#else
    (void)cpu;
#endif
    return NULL;
}
