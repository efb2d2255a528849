/* The known-positive lookup of the in-batch masks with AVX-512 F: 16 positives per step, their
 * item-table entries by two 8-lane gathers, the hits kept by a compress (a masked store, so
 * nothing past them is written); and the membership test of a row's own group in its user's
 * base. The scalar code in inbatch_mask.c computes the same. */
#include "inbatch_mask_simd.h"

#if NEGS_IB_HAVE_LOOKUP512
#include <immintrin.h>

#define T512 __attribute__((target("avx512f")))

T512 uint32_t negs_ib_lookup_avx512(const uint64_t *itab, const uint32_t *row, uint64_t len,
                                    uint32_t *out, size_t *hits)
{
    uint32_t cnt = 0;
    uint64_t q = 0;
    __m512i hsum = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    for (; q + 16 <= len; q += 16) {
        __m512i id = _mm512_loadu_si512((const void *)(row + q));
        __m512i lo = _mm512_i32gather_epi64(_mm512_castsi512_si256(id), (const void *)itab, 8);
        __m512i hi = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(id, 1),
                                            (const void *)itab, 8);
        __mmask16 m = (__mmask16)(_mm512_test_epi64_mask(lo, lo) |
                                  (unsigned)_mm512_test_epi64_mask(hi, hi) << 8);
        __m512i st = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi64_epi32(lo)),
                                        _mm512_cvtepi64_epi32(hi), 1);
        st = _mm512_maskz_compress_epi32(m, _mm512_sub_epi32(st, one));
        unsigned k = (unsigned)__builtin_popcount(m);
        _mm512_mask_storeu_epi32(out + cnt, (__mmask16)((1u << k) - 1), st);
        cnt += k;
        hsum = _mm512_add_epi64(hsum, _mm512_add_epi64(_mm512_srli_epi64(lo, 32),
                                                       _mm512_srli_epi64(hi, 32)));
    }
    uint64_t h = (uint64_t)_mm512_reduce_add_epi64(hsum);
    for (; q < len; q++) {
        uint64_t e = itab[row[q]];
        if (e) out[cnt++] = (uint32_t)e - 1;
        h += e >> 32;
    }
    *hits = h;
    return cnt;
}

T512 int negs_ib_holds_avx512(const uint32_t *list, uint32_t n, uint32_t x)
{
    __m512i key = _mm512_set1_epi32((int)x);
    uint32_t q = 0;
    __mmask16 hit = 0;
    for (; q + 16 <= n; q += 16)
        hit |= _mm512_cmpeq_epi32_mask(key, _mm512_loadu_si512((const void *)(list + q)));
    if (q < n) /* the tail by a masked load: nothing past list[n - 1] is read */
        hit |= _mm512_mask_cmpeq_epi32_mask(
            (__mmask16)((1u << (n - q)) - 1), key,
            _mm512_maskz_loadu_epi32((__mmask16)((1u << (n - q)) - 1), list + q));
    return hit != 0;
}
#endif
