/* Sixteen Philox4x32-10 blocks at once with AVX-512, shared by the batched stream generator
 * and the fused alias kernels. Include only inside an x86-64 GCC/Clang block. */
#ifndef NEGS_SAMPLER_PHILOX_AVX512_H
#define NEGS_SAMPLER_PHILOX_AVX512_H

#include <immintrin.h>
#include <stdint.h>

#include "core/rng.h"

#define NEGS_T5 __attribute__((target("avx512f")))

/* 32 x 32 -> 64-bit products of each lane: high and low halves. */
NEGS_T5 static inline void sp_mulhilo16(__m512i a, __m512i m, __m512i *hi, __m512i *lo)
{
    __m512i pe = _mm512_mul_epu32(a, m);
    __m512i po = _mm512_mul_epu32(_mm512_srli_epi64(a, 32), m);
    *lo = _mm512_mask_blend_epi32(0xAAAA, pe, _mm512_slli_epi64(po, 32));
    *hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 32), po);
}

#define SP_LANES16 _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)

/* Sixteen blocks with the counters (c0, c1, ctr2, ctr3) of each lane under key: c[w] holds
 * word w of each. */
NEGS_T5 static inline void sp_philox16v(const uint32_t key[2], __m512i c0, __m512i c1,
                                        uint32_t ctr2, uint32_t ctr3, __m512i c[4])
{
    const __m512i m0 = _mm512_set1_epi32((int)NEGS_PHILOX_M0);
    const __m512i m1 = _mm512_set1_epi32((int)NEGS_PHILOX_M1);
    __m512i c2 = _mm512_set1_epi32((int)ctr2), c3 = _mm512_set1_epi32((int)ctr3);
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += NEGS_PHILOX_W0;
            k1 += NEGS_PHILOX_W1;
        }
        __m512i h0, l0, h1, l1;
        sp_mulhilo16(c0, m0, &h0, &l0);
        sp_mulhilo16(c2, m1, &h1, &l1);
        c0 = _mm512_ternarylogic_epi32(h1, c1, _mm512_set1_epi32((int)k0), 0x96);
        c2 = _mm512_ternarylogic_epi32(h0, c3, _mm512_set1_epi32((int)k1), 0x96);
        c1 = l1;
        c3 = l0;
    }
    c[0] = c0;
    c[1] = c1;
    c[2] = c2;
    c[3] = c3;
}

/* Blocks b0 + lane of one stream (counters (b0 + lane, ctr1, ctr2, ctr3)). */
NEGS_T5 static inline void sp_philox16(const uint32_t key[2], uint32_t b0, uint32_t ctr1,
                                       uint32_t ctr2, uint32_t ctr3, __m512i c[4])
{
    sp_philox16v(key, _mm512_add_epi32(_mm512_set1_epi32((int)b0), SP_LANES16),
                 _mm512_set1_epi32((int)ctr1), ctr2, ctr3, c);
}

#endif
