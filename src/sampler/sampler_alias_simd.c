/* 32 alias draws at once with AVX-512: 16 Philox blocks give 32 64-bit draws, whose columns,
 * Lemire checks, table gathers and coin flips run as vectors. The words are also left in the
 * stream's buffer, so when a Lemire rejection (probability n / 2^32 per draw) occurs the
 * caller replays them one by one: results are always those of the scalar loop. */
#include "sampler_internal.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include "philox_avx512.h"

#define T5 NEGS_T5

/* Alias lookups of 16 draws whose high words are hiw and low words low. */
T5 static inline __m512i lookup(__m512i hiw, __m512i low, __m512i nv, __m512i tv,
                                const negs_alias_entry *e, __mmask16 *reject)
{
    __m512i col, lo;
    sp_mulhilo16(hiw, nv, &col, &lo);
    *reject |= _mm512_cmplt_epu32_mask(lo, tv);
    __m512i g0 = _mm512_i32gather_epi64(_mm512_castsi512_si256(col), (const void *)e, 8);
    __m512i g1 = _mm512_i32gather_epi64(_mm512_extracti64x4_epi64(col, 1), (const void *)e, 8);
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    __m512i thr = _mm512_permutex2var_epi32(g0, ev, g1);
    __m512i ali = _mm512_permutex2var_epi32(g0, od, g1);
    __mmask16 take = _mm512_cmplt_epu32_mask(low, thr);
    return _mm512_mask_blend_epi32(take, ali, col);
}

/* Philox blocks b0 .. b0 + 15 of the stream as four word vectors. */
T5 static inline void philox16(const sp_stream *r, uint32_t b0, __m512i c[4])
{
    sp_philox16(r->key, b0, r->ctr[1], r->ctr[2], r->ctr[3], c);
}

/* Generates the stream's next 16 blocks into its buffer (marked unread) and returns the 32
 * alias draws in stream order in v[0] (draws 0..15) and v[1] (16..31); 0 if any needed a
 * Lemire rejection. */
T5 static int gen32(sp_stream *r, const negs_alias *a, __m512i v[2])
{
    __m512i c[4];
    philox16(r, r->ctr[0], c);
    __m512i c0 = c[0], c1 = c[1], c2 = c[2], c3 = c[3];
    _mm512_storeu_si512((void *)(r->buf + 0 * SP_BLOCKS), c0);
    _mm512_storeu_si512((void *)(r->buf + 1 * SP_BLOCKS), c1);
    _mm512_storeu_si512((void *)(r->buf + 2 * SP_BLOCKS), c2);
    _mm512_storeu_si512((void *)(r->buf + 3 * SP_BLOCKS), c3);
    r->ctr[0] += SP_BLOCKS;
    r->idx = 0;
    r->cap = 4 * SP_BLOCKS;
    r->first = SP_BLOCKS;
    uint32_t n = a->n;
    __m512i nv = _mm512_set1_epi32((int)n), tv = _mm512_set1_epi32((int)((uint32_t)(-n) % n));
    __mmask16 reject = 0;
    __m512i even = lookup(c0, c1, nv, tv, a->e, &reject); /* draws 0, 2, 4, ... */
    __m512i odd = lookup(c2, c3, nv, tv, a->e, &reject);  /* draws 1, 3, 5, ... */
    if (reject) return 0;
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30,
                                          15, 31);
    v[0] = _mm512_permutex2var_epi32(even, ilo, odd);
    v[1] = _mm512_permutex2var_epi32(even, ihi, odd);
    return 1;
}

T5 static int alias32_avx512(sp_stream *r, const negs_alias *a, uint32_t *out)
{
    __m512i v[2];
    if (!gen32(r, a, v)) return 0;
    _mm512_storeu_si512((void *)out, v[0]);
    _mm512_storeu_si512((void *)(out + 16), v[1]);
    r->idx = r->cap;
    return 1;
}

/* 32 candidates filtered by the user's bitmap (read as 32-bit words) and the row's positive,
 * in stream order; the run of rejections carries over between batches. */
T5 static int excl32_avx512(sp_stream *r, const negs_alias *a, const uint32_t *bits32, int has_pos,
                            uint32_t pos, unsigned *run, uint32_t *out, uint32_t room)
{
    __m512i v[2];
    if (!gen32(r, a, v)) return -1;
    const __m512i one = _mm512_set1_epi32(1), low5 = _mm512_set1_epi32(31);
    const __m512i pv = _mm512_set1_epi32((int)pos);
    __mmask16 acc[2];
    for (int h = 0; h < 2; h++) {
        __mmask16 ex = has_pos ? _mm512_cmpeq_epi32_mask(v[h], pv) : 0;
        if (bits32) {
            __m512i wd = _mm512_i32gather_epi32(_mm512_srli_epi32(v[h], 5), (const void *)bits32, 4);
            __m512i bt = _mm512_srlv_epi32(wd, _mm512_and_si512(v[h], low5));
            ex |= _mm512_test_epi32_mask(bt, one);
        }
        acc[h] = (__mmask16)~ex;
    }
    uint32_t all = (uint32_t)acc[0] | ((uint32_t)acc[1] << 16);
    unsigned lead = all ? (unsigned)__builtin_ctz(all) : 32u;
    if (*run + lead >= SP_MAX_TRIES) return -1; /* the exact draw is due: replay in scalar */
    /* compress in registers (the memory form is slow) and store with masks that stop at room */
    unsigned c0 = (unsigned)__builtin_popcount(acc[0]), c1 = (unsigned)__builtin_popcount(acc[1]);
    unsigned n0 = c0 < room ? c0 : room, n1 = c1 < room - n0 ? c1 : room - n0;
    _mm512_mask_storeu_epi32((void *)out, (__mmask16)((1u << n0) - 1u),
                             _mm512_maskz_compress_epi32(acc[0], v[0]));
    _mm512_mask_storeu_epi32((void *)(out + n0), (__mmask16)((1u << n1) - 1u),
                             _mm512_maskz_compress_epi32(acc[1], v[1]));
    unsigned cnt = n0 + n1;
    /* what follows the last acceptance (or the whole batch) continues the run */
    *run = all ? (unsigned)__builtin_clz(all) : *run + 32u;
    r->idx = r->cap;
    return (int)cnt;
}


T5 static inline void prefetch32(const __m512i c[4], __m512i nv, const negs_alias_entry *e)
{
    uint32_t col[32];
    __m512i h, l;
    sp_mulhilo16(c[0], nv, &h, &l);
    _mm512_storeu_si512((void *)col, h);
    sp_mulhilo16(c[2], nv, &h, &l);
    _mm512_storeu_si512((void *)(col + 16), h);
    for (int i = 0; i < 32; i++) __builtin_prefetch(&e[col[i]]);
}

/* Tables larger than the caches: the blocks of batches i + 1 .. i + DEPTH - 1 are generated
 * and their entries prefetched before batch i is looked up, so the memory latency overlaps.
 * Writes at most `room` draws and returns how many; a batch with a Lemire rejection yields its
 * accepted lanes (exactly what the scalar loop reads) and ends the call. */
T5 static uint32_t far_avx512(sp_stream *r, const negs_alias *a, uint32_t *out, uint32_t room)
{
    enum { DEPTH = 8 }; /* batches in flight: generated and prefetched ahead of their lookups */
    uint32_t n = a->n, done = 0, batches = room / 32, made = 0;
    const __m512i nv = _mm512_set1_epi32((int)n);
    const __m512i tv = _mm512_set1_epi32((int)((uint32_t)(-n) % n));
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30,
                                          15, 31);
    __m512i q[DEPTH][4];
    for (; made < batches && made < DEPTH - 1; made++) {
        philox16(r, r->ctr[0] + made * SP_BLOCKS, q[made % DEPTH]);
        prefetch32(q[made % DEPTH], nv, a->e);
    }
    for (uint32_t i = 0; i < batches; i++) {
        if (made < batches) {
            philox16(r, r->ctr[0] + (made - i) * SP_BLOCKS, q[made % DEPTH]);
            prefetch32(q[made % DEPTH], nv, a->e);
            made++;
        }
        __m512i *cur = q[i % DEPTH];
        __mmask16 reject = 0;
        __m512i even = lookup(cur[0], cur[1], nv, tv, a->e, &reject);
        __m512i odd = lookup(cur[2], cur[3], nv, tv, a->e, &reject);
        __m512i v0 = _mm512_permutex2var_epi32(even, ilo, odd);
        __m512i v1 = _mm512_permutex2var_epi32(even, ihi, odd);
        r->ctr[0] += SP_BLOCKS; /* batch i consumed: ctr[0] now names batch i + 1 */
        if (!reject) {
            _mm512_storeu_si512((void *)(out + done), v0);
            _mm512_storeu_si512((void *)(out + done + 16), v1);
            done += 32;
            continue;
        }
        /* A Lemire-rejected 64-bit word is skipped and the next one serves the same draw, so
         * the batch's draws are its accepted lanes in order; the row may then end early. */
        __m512i l0, l1, hv;
        sp_mulhilo16(_mm512_permutex2var_epi32(cur[0], ilo, cur[2]), nv, &hv, &l0);
        sp_mulhilo16(_mm512_permutex2var_epi32(cur[0], ihi, cur[2]), nv, &hv, &l1);
        __mmask16 a0 = (__mmask16)~_mm512_cmplt_epu32_mask(l0, tv);
        __mmask16 a1 = (__mmask16)~_mm512_cmplt_epu32_mask(l1, tv);
        uint32_t left = room - done;
        unsigned c0 = (unsigned)__builtin_popcount(a0), c1 = (unsigned)__builtin_popcount(a1);
        unsigned n0 = c0 < left ? c0 : left, n1 = c1 < left - n0 ? c1 : left - n0;
        _mm512_mask_storeu_epi32((void *)(out + done), (__mmask16)((1u << n0) - 1u),
                                 _mm512_maskz_compress_epi32(a0, v0));
        _mm512_mask_storeu_epi32((void *)(out + done + n0), (__mmask16)((1u << n1) - 1u),
                                 _mm512_maskz_compress_epi32(a1, v1));
        done += n0 + n1;
        if (done == room) break;
        /* fewer than 32 came out: the later batches still follow in stream order, but the
         * room check below needs whole batches, so leave the rest to the caller */
        r->idx = r->cap = 0;
        r->first = SP_BLOCKS;
        return done;
    }
    r->idx = r->cap = 0;
    r->first = SP_BLOCKS;
    return done;
}
#endif

sp_alias32_fn sp_alias32_select(unsigned cpu)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) return alias32_avx512;
#else
    (void)cpu;
#endif
    return NULL;
}

sp_excl32_fn sp_excl32_select(unsigned cpu)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) return excl32_avx512;
#else
    (void)cpu;
#endif
    return NULL;
}

sp_far_fn sp_far_select(unsigned cpu)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) return far_avx512;
#else
    (void)cpu;
#endif
    return NULL;
}
