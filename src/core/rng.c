/* Philox4x32-10 and the keyed streams built on it. */
#include "rng.h"

void negs_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k0 += NEGS_PHILOX_W0;
            k1 += NEGS_PHILOX_W1;
        }
        uint64_t p0 = (uint64_t)NEGS_PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)NEGS_PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* Key = mixed (seed, purpose, high half of row); counter = (block, row low half, step).
 * The mix is a bijection of the seed for fixed (purpose, row), so distinct seeds never share
 * a stream. */
void negs_rng_init(negs_rng *r, uint64_t seed, uint64_t step, uint64_t row, uint32_t purpose)
{
    uint64_t k = negs_mix64(seed ^ negs_mix64(((uint64_t)purpose << 32) | (row >> 32)));
    r->key[0] = (uint32_t)k;
    r->key[1] = (uint32_t)(k >> 32);
    r->ctr[0] = 0;
    r->ctr[1] = (uint32_t)row;
    r->ctr[2] = (uint32_t)step;
    r->ctr[3] = (uint32_t)(step >> 32);
    r->idx = 4;
}

static void refill(negs_rng *r)
{
    negs_philox4x32_10(r->ctr, r->key, r->buf);
    r->ctr[0]++;
    r->idx = 0;
}

void negs_rng_seek(negs_rng *r, uint64_t word)
{
    r->ctr[0] = (uint32_t)(word / 4);
    refill(r);
    r->idx = (unsigned)(word % 4);
}

uint32_t negs_rng_u32(negs_rng *r)
{
    if (r->idx >= 4) refill(r);
    return r->buf[r->idx++];
}

uint64_t negs_rng_u64(negs_rng *r)
{
    uint64_t hi = negs_rng_u32(r);
    return (hi << 32) | negs_rng_u32(r);
}

uint32_t negs_rng_bounded(negs_rng *r, uint32_t n)
{
    uint64_t m = (uint64_t)negs_rng_u32(r) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) {
            m = (uint64_t)negs_rng_u32(r) * n;
            lo = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

__extension__ typedef unsigned __int128 negs_u128;

uint64_t negs_rng_bounded64(negs_rng *r, uint64_t n)
{
    negs_u128 m = (negs_u128)negs_rng_u64(r) * n;
    uint64_t lo = (uint64_t)m;
    if (lo < n) {
        uint64_t t = (uint64_t)(-n) % n;
        while (lo < t) {
            m = (negs_u128)negs_rng_u64(r) * n;
            lo = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double negs_rng_uniform(negs_rng *r)
{
    return (double)(negs_rng_u64(r) >> 11) * 0x1.0p-53;
}

float negs_rng_uniformf(negs_rng *r)
{
    return (float)(negs_rng_u32(r) >> 8) * 0x1.0p-24f;
}

double negs_rng_uniform_pos(negs_rng *r)
{
    return ((double)(negs_rng_u64(r) >> 11) + 0.5) * 0x1.0p-53;
}
