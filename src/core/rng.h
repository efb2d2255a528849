/* Counter-based random numbers: Philox4x32-10 (Salmon et al., SC'11, "Parallel random
 * numbers: as easy as 1, 2, 3"). Every random draw in the library comes from here. */
#ifndef NEGS_CORE_RNG_H
#define NEGS_CORE_RNG_H

#include <stdint.h>

/* Philox4x32 multipliers and Weyl key increments (Salmon et al. 2011), shared by the SIMD
 * stream generators so every variant is the same function. */
#define NEGS_PHILOX_M0 0xD2511F53u
#define NEGS_PHILOX_M1 0xCD9E8D57u
#define NEGS_PHILOX_W0 0x9E3779B9u /* golden ratio */
#define NEGS_PHILOX_W1 0xBB67AE85u /* sqrt(3) - 1 */

/* One Philox4x32-10 block: out = bijection_key(ctr). Checked against Random123's KAT. */
void negs_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* A stream of draws keyed by (seed, step, row, purpose): the n-th value of a stream is a pure
 * function of those keys and n (its "slot"), so results never depend on threads or call order.
 * `purpose` separates independent uses within one row (e.g. choosing a mixture child vs the
 * child's own draw); pick a distinct small constant per use. */
typedef struct negs_rng {
    uint32_t key[2];
    uint32_t ctr[4]; /* ctr[0] = block index within the stream */
    uint32_t buf[4];
    unsigned idx; /* next unused word of buf; 4 = empty */
} negs_rng;

void negs_rng_init(negs_rng *r, uint64_t seed, uint64_t step, uint64_t row, uint32_t purpose);
/* Jumps to slot `word` (counted in 32-bit words from the stream's start). */
void negs_rng_seek(negs_rng *r, uint64_t word);

uint32_t negs_rng_u32(negs_rng *r);
uint64_t negs_rng_u64(negs_rng *r);
/* Unbiased integer in [0, n), n >= 1 (Lemire, "Fast random integer generation in an
 * interval", ACM TOMACS 2019). */
uint32_t negs_rng_bounded(negs_rng *r, uint32_t n);
uint64_t negs_rng_bounded64(negs_rng *r, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits; float in [0, 1) with 24. */
double negs_rng_uniform(negs_rng *r);
float negs_rng_uniformf(negs_rng *r);
/* Uniform double in (0, 1): never 0, for logs. */
double negs_rng_uniform_pos(negs_rng *r);

/* SplitMix64 finaliser: a fast 64-bit mixer for hashing ids and deriving keys. */
static inline uint64_t negs_mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

#endif
