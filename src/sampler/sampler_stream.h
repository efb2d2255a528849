/* A row's random stream, read exactly like negs_rng (the same Philox4x32-10 words in the same
 * order, keyed by seed, step, row and purpose) but generated SP_BLOCKS blocks at a time with
 * SIMD when the CPU has it, so a draw costs a few loads instead of a Philox call. */
#ifndef NEGS_SAMPLER_STREAM_H
#define NEGS_SAMPLER_STREAM_H

#include <stdint.h>

#define SP_BLOCKS 16 /* Philox blocks per refill: 64 words, 32 draws of 64 bits */

/* Generates blocks b0 .. b0 + n - 1 (n <= SP_BLOCKS) into out as [word][block]: word w of block
 * b at out[w * SP_BLOCKS + b]. */
typedef void (*sp_philox_fn)(const uint32_t key[2], const uint32_t ctr[4], uint32_t b0, unsigned n,
                             uint32_t *out);

typedef struct sp_stream {
    uint32_t key[2];
    uint32_t ctr[4];     /* ctr[0]: the next block to generate */
    unsigned idx, cap;   /* next unread word of buf, words in buf */
    unsigned first;      /* blocks of the first refill (short rows need few) */
    sp_philox_fn gen;
    uint32_t buf[4 * SP_BLOCKS];
} sp_stream;

/* The fastest generator for this CPU (cpu = NEGS_CPU_* bits); all give identical words. */
sp_philox_fn sp_philox_select(unsigned cpu);
/* words_hint: roughly how many 32-bit words the row will read (sizes the first refill). */
void sp_stream_init(sp_stream *s, sp_philox_fn gen, uint64_t seed, uint64_t step, uint64_t row,
                    uint32_t purpose, uint64_t words_hint);
void sp_stream_refill(sp_stream *s);

static inline uint32_t sp_u32(sp_stream *s)
{
    if (s->idx == s->cap) sp_stream_refill(s);
    unsigned i = s->idx++;
    return s->buf[(i & 3) * SP_BLOCKS + (i >> 2)];
}

/* As negs_rng_u64: the first word is the high half. */
static inline uint64_t sp_u64(sp_stream *s)
{
    uint64_t hi = sp_u32(s);
    return (hi << 32) | sp_u32(s);
}

/* As negs_rng_bounded (Lemire). */
static inline uint32_t sp_bounded(sp_stream *s, uint32_t n)
{
    uint64_t m = (uint64_t)sp_u32(s) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) {
            m = (uint64_t)sp_u32(s) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* As negs_rng_uniform: [0, 1) with 53 bits. */
static inline double sp_uniform(sp_stream *s)
{
    return (double)(sp_u64(s) >> 11) * 0x1.0p-53;
}

#endif
