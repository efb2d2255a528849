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

/* Block `block` of the streams of 16 consecutive rows (counters (block, ctr1 + lane, ctr2,
 * ctr3), ctr1 + 15 not wrapping) into out as [word][lane]: word w of lane l at out[w * 16 + l]. */
typedef void (*sp_philox_rows_fn)(const uint32_t key[2], uint32_t block, uint32_t ctr1,
                                  uint32_t ctr2, uint32_t ctr3, uint32_t *out);
sp_philox_rows_fn sp_philox_rows_select(unsigned cpu);

/* Short rows pay a Philox call or more per row for a few words: the first blocks of 16
 * consecutive rows' streams are generated together (one SIMD pass per block) and handed to
 * each row's stream, which then continues word for word as sp_stream_init's would. */
#define SP_ROWGEN_BLOCKS 4 /* rows that need more words use sp_stream_init */
typedef struct sp_rowgen {
    sp_philox_rows_fn rows;
    int valid;
    uint64_t seed, step, row0;
    uint32_t purpose;
    unsigned nb;
    uint32_t key[2];
    uint32_t w[SP_ROWGEN_BLOCKS][4 * 16];
} sp_rowgen;

void sp_rowgen_init(sp_rowgen *g, sp_philox_rows_fn rows);
/* This row's lane of the first nb blocks of its stream (word i at p[64 (i / 4) + 16 (i % 4)]),
 * refilling g for rows row .. row + 15 when it does not hold them; NULL when the row cannot
 * be batched (nb > SP_ROWGEN_BLOCKS, or the 16 rows would not share a key). */
const uint32_t *sp_rowgen_words(sp_rowgen *g, uint64_t seed, uint64_t step, uint64_t row,
                                uint32_t purpose, unsigned nb);
/* As sp_stream_init, taking the first blocks from g (refilled for rows row .. row + 15 when it
 * does not hold this row) when words_hint fits SP_ROWGEN_BLOCKS blocks. */
void sp_stream_init_row(sp_stream *s, sp_rowgen *g, sp_philox_fn gen, uint64_t seed,
                        uint64_t step, uint64_t row, uint32_t purpose, uint64_t words_hint);

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
