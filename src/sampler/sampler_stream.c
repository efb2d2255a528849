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

/* Eight blocks with the counters (c0, c1, c2, c3) of each lane, stored as [word][lane] at out
 * with rows of `stride` words. */
T2 static void philox8(const uint32_t key[2], __m256i c0, __m256i c1, __m256i c2, __m256i c3,
                       uint32_t *out, unsigned stride)
{
    const __m256i m0 = _mm256_set1_epi32((int)NEGS_PHILOX_M0), m1 = _mm256_set1_epi32((int)NEGS_PHILOX_M1);
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
    _mm256_storeu_si256((__m256i *)(out + 0 * stride), c0);
    _mm256_storeu_si256((__m256i *)(out + 1 * stride), c1);
    _mm256_storeu_si256((__m256i *)(out + 2 * stride), c2);
    _mm256_storeu_si256((__m256i *)(out + 3 * stride), c3);
}

T2 static void philox_avx2(const uint32_t key[2], const uint32_t ctr[4], uint32_t b0, unsigned n,
                           uint32_t *out)
{
    if (n < SP_BLOCKS) {
        philox_scalar(key, ctr, b0, n, out);
        return;
    }
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (unsigned h = 0; h < SP_BLOCKS; h += 8)
        philox8(key, _mm256_add_epi32(_mm256_set1_epi32((int)(b0 + h)), lanes),
                _mm256_set1_epi32((int)ctr[1]), _mm256_set1_epi32((int)ctr[2]),
                _mm256_set1_epi32((int)ctr[3]), out + h, SP_BLOCKS);
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

T2 static void philox_rows_avx2(const uint32_t key[2], uint32_t block, uint32_t ctr1, uint32_t ctr2,
                                uint32_t ctr3, uint32_t *out)
{
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (unsigned h = 0; h < 16; h += 8)
        philox8(key, _mm256_set1_epi32((int)block),
                _mm256_add_epi32(_mm256_set1_epi32((int)(ctr1 + h)), lanes),
                _mm256_set1_epi32((int)ctr2), _mm256_set1_epi32((int)ctr3), out + h, 16);
}

T5 static void philox_rows_avx512(const uint32_t key[2], uint32_t block, uint32_t ctr1,
                                  uint32_t ctr2, uint32_t ctr3, uint32_t *out)
{
    __m512i c[4];
    sp_philox16v(key, _mm512_set1_epi32((int)block),
                 _mm512_add_epi32(_mm512_set1_epi32((int)ctr1), SP_LANES16), ctr2, ctr3, c);
    for (int w = 0; w < 4; w++) _mm512_storeu_si512((void *)(out + 16 * w), c[w]);
}
#endif

static void philox_rows_scalar(const uint32_t key[2], uint32_t block, uint32_t ctr1, uint32_t ctr2,
                               uint32_t ctr3, uint32_t *out)
{
    for (uint32_t l = 0; l < 16; l++) {
        uint32_t c[4] = {block, ctr1 + l, ctr2, ctr3}, o[4];
        negs_philox4x32_10(c, key, o);
        for (int w = 0; w < 4; w++) out[16 * w + l] = o[w];
    }
}

sp_philox_rows_fn sp_philox_rows_select(unsigned cpu)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) return philox_rows_avx512;
    if (cpu & NEGS_CPU_AVX2) return philox_rows_avx2;
#else
    (void)cpu;
#endif
    return philox_rows_scalar;
}

void sp_rowgen_init(sp_rowgen *g, sp_philox_rows_fn rows)
{
    g->rows = rows;
    g->valid = 0;
}

const uint32_t *sp_rowgen_words(sp_rowgen *g, uint64_t seed, uint64_t step, uint64_t row,
                                uint32_t purpose, unsigned nb)
{
    /* the 16 rows must share the key (the row's high half) and the low half must not wrap */
    if (nb > SP_ROWGEN_BLOCKS || (uint32_t)row > UINT32_MAX - 15u) return NULL;
    if (!g->valid || g->seed != seed || g->step != step || g->purpose != purpose ||
        row < g->row0 || row - g->row0 >= 16 || g->nb < nb) {
        negs_rng r;
        negs_rng_init(&r, seed, step, row, purpose);
        g->key[0] = r.key[0];
        g->key[1] = r.key[1];
        for (unsigned b = 0; b < nb; b++) g->rows(g->key, b, r.ctr[1], r.ctr[2], r.ctr[3], g->w[b]);
        g->valid = 1;
        g->seed = seed;
        g->step = step;
        g->row0 = row;
        g->purpose = purpose;
        g->nb = nb;
    }
    return &g->w[0][row - g->row0];
}

void sp_stream_init_row(sp_stream *s, sp_rowgen *g, sp_philox_fn gen, uint64_t seed,
                        uint64_t step, uint64_t row, uint32_t purpose, uint64_t words_hint)
{
    unsigned nb = words_hint > 4 ? (unsigned)((words_hint + 3) / 4) : 1;
    const uint32_t *w = sp_rowgen_words(g, seed, step, row, purpose, nb);
    if (!w) {
        sp_stream_init(s, gen, seed, step, row, purpose, words_hint);
        return;
    }
    s->key[0] = g->key[0];
    s->key[1] = g->key[1];
    s->ctr[0] = nb;
    s->ctr[1] = (uint32_t)row;
    s->ctr[2] = (uint32_t)step;
    s->ctr[3] = (uint32_t)(step >> 32);
    for (unsigned b = 0; b < nb; b++)
        for (unsigned j = 0; j < 4; j++) s->buf[j * SP_BLOCKS + b] = w[64 * b + 16 * j];
    s->idx = 0;
    s->cap = 4 * nb;
    s->first = SP_BLOCKS;
    s->gen = gen;
}

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
