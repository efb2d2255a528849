/* Batched Philox4x32-10 for the sampler streams: scalar, AVX2 (8 blocks per vector) and
 * AVX-512 (16). Every variant is the function of core/rng.c applied to consecutive counters. */
#include <string.h>

#include "core/cpu.h"
#include "core/rng.h"
#include "sampler_stream.h"

static void philox_scalar(const uint32_t key[2], const uint32_t ctr[4], uint32_t b0, unsigned n,
                          uint32_t *out)
{
    for (unsigned b = 0; b < n; b++) {
        uint32_t c[4] = {b0 + b, ctr[1], ctr[2], ctr[3]}, o[4];
        negs_philox4x32_10(c, key, o);
        for (int w = 0; w < 4; w++) out[w * SP_BLOCKS + b] = o[w];
    }
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#include "philox_avx512.h"

#define T2 __attribute__((target("avx2")))
#define T5 NEGS_T5

T2 static inline void mulhilo8(__m256i a, __m256i m, __m256i *hi, __m256i *lo)
{
    __m256i pe = _mm256_mul_epu32(a, m);
    __m256i po = _mm256_mul_epu32(_mm256_srli_epi64(a, 32), m);
    *lo = _mm256_blend_epi32(pe, _mm256_slli_epi64(po, 32), 0xAA);
    *hi = _mm256_blend_epi32(_mm256_srli_epi64(pe, 32), po, 0xAA);
}

T2 static void philox_avx2(const uint32_t key[2], const uint32_t ctr[4], uint32_t b0, unsigned n,
                           uint32_t *out)
{
    if (n < SP_BLOCKS) {
        philox_scalar(key, ctr, b0, n, out);
        return;
    }
    const __m256i m0 = _mm256_set1_epi32((int)NEGS_PHILOX_M0), m1 = _mm256_set1_epi32((int)NEGS_PHILOX_M1);
    for (unsigned h = 0; h < SP_BLOCKS; h += 8) {
        __m256i c0 = _mm256_add_epi32(_mm256_set1_epi32((int)(b0 + h)),
                                      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256i c1 = _mm256_set1_epi32((int)ctr[1]), c2 = _mm256_set1_epi32((int)ctr[2]);
        __m256i c3 = _mm256_set1_epi32((int)ctr[3]);
        uint32_t k0 = key[0], k1 = key[1];
        for (int r = 0; r < 10; r++) {
            if (r > 0) {
                k0 += NEGS_PHILOX_W0;
                k1 += NEGS_PHILOX_W1;
            }
            __m256i h0, l0, h1, l1;
            mulhilo8(c0, m0, &h0, &l0);
            mulhilo8(c2, m1, &h1, &l1);
            c0 = _mm256_xor_si256(_mm256_xor_si256(h1, c1), _mm256_set1_epi32((int)k0));
            c2 = _mm256_xor_si256(_mm256_xor_si256(h0, c3), _mm256_set1_epi32((int)k1));
            c1 = l1;
            c3 = l0;
        }
        _mm256_storeu_si256((__m256i *)(out + 0 * SP_BLOCKS + h), c0);
        _mm256_storeu_si256((__m256i *)(out + 1 * SP_BLOCKS + h), c1);
        _mm256_storeu_si256((__m256i *)(out + 2 * SP_BLOCKS + h), c2);
        _mm256_storeu_si256((__m256i *)(out + 3 * SP_BLOCKS + h), c3);
    }
}

T5 static void philox_avx512(const uint32_t key[2], const uint32_t ctr[4], uint32_t b0, unsigned n,
                             uint32_t *out)
{
    if (n < SP_BLOCKS) {
        philox_scalar(key, ctr, b0, n, out);
        return;
    }
    __m512i c[4];
    sp_philox16(key, b0, ctr[1], ctr[2], ctr[3], c);
    __m512i c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    _mm512_storeu_si512((void *)(out + 0 * SP_BLOCKS), c0);
    _mm512_storeu_si512((void *)(out + 1 * SP_BLOCKS), c1);
    _mm512_storeu_si512((void *)(out + 2 * SP_BLOCKS), c2);
    _mm512_storeu_si512((void *)(out + 3 * SP_BLOCKS), c3);
}
#endif

sp_philox_fn sp_philox_select(unsigned cpu)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) return philox_avx512;
    if (cpu & NEGS_CPU_AVX2) return philox_avx2;
#else
    (void)cpu;
#endif
    return philox_scalar;
}

void sp_stream_init(sp_stream *s, sp_philox_fn gen, uint64_t seed, uint64_t step, uint64_t row,
                    uint32_t purpose, uint64_t words_hint)
{
    negs_rng r;
    negs_rng_init(&r, seed, step, row, purpose);
    memcpy(s->key, r.key, sizeof s->key);
    memcpy(s->ctr, r.ctr, sizeof s->ctr);
    s->idx = s->cap = 0;
    s->gen = gen;
    uint64_t blocks = (words_hint + 3) / 4;
    s->first = blocks >= SP_BLOCKS ? SP_BLOCKS : (unsigned)(blocks ? blocks : 1);
}

void sp_stream_refill(sp_stream *s)
{
    unsigned n = s->first;
    s->first = SP_BLOCKS;
    s->gen(s->key, s->ctr, s->ctr[0], n, s->buf);
    s->ctr[0] += n;
    s->idx = 0;
    s->cap = 4 * n;
}
