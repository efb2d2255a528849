/* Vose's alias method (Vose 1991, IEEE TSE 17(9)), built in double precision. Entry i holds
 * a 32-bit acceptance threshold and an alias: 8 bytes per item, any n up to 2^32 - 1. */
#ifndef NEGS_CORE_ALIAS_H
#define NEGS_CORE_ALIAS_H

#include <stddef.h>
#include <stdint.h>
#include "rng.h"

typedef struct negs_alias_entry {
    uint32_t threshold; /* accept column i when the 32-bit coin < threshold */
    uint32_t alias;     /* otherwise take this item; alias == i means "always accept" */
} negs_alias_entry;

typedef struct negs_alias {
    uint32_t n;             /* columns */
    negs_alias_entry *e;    /* n entries, 64-byte aligned */
    double total;           /* sum of the weights */
    uint32_t n_positive;    /* items of non-zero weight */
} negs_alias;

/* Builds from n non-negative finite weights with a positive sum. On failure returns a
 * negative status (last error set) and leaves *a empty. Frees nothing in *a first. */
int negs_alias_build(negs_alias *a, const double *w, uint32_t n);
/* The same from weights known to be valid, with their sum in item order (total), the count of
 * positive ones (n_pos >= 1) and the index of one of them (any_pos): the table is identical to
 * negs_alias_build's. It is written into spare (n entries from negs_alloc_aligned, which a now
 * owns) when not NULL: a handle that rebuilds often recycles its previous table (freed on
 * failure). Needs n / 8 bytes of other memory during the build. */
int negs_alias_build_checked(negs_alias *a, const double *w, uint32_t n, double total,
                             uint32_t n_pos, uint32_t any_pos, negs_alias_entry *spare);
void negs_alias_free(negs_alias *a);

/* The probabilities the table really draws with, 32-bit threshold quantisation included:
 * each within about 2^-32/n of weight/total (error diffusion keeps the rounding from piling
 * up), exactly 0 for zero weights. out[0..n). O(n). */
void negs_alias_probs(const negs_alias *a, double *out);
/* The same for one item, O(n): for tests and diagnostics. */
double negs_alias_prob(const negs_alias *a, uint32_t i);

/* One draw: column by Lemire from the high word, coin from the low word of one 64-bit draw. */
static inline uint32_t negs_alias_draw(const negs_alias *a, negs_rng *r)
{
    for (;;) {
        uint64_t x = negs_rng_u64(r);
        uint64_t m = (x >> 32) * (uint64_t)a->n;
        uint32_t lo = (uint32_t)m;
        if (lo < a->n) { /* Lemire's rejection zone: rare, n/2^32 */
            uint32_t t = (uint32_t)(-a->n) % a->n;
            if (lo < t) continue;
        }
        uint32_t col = (uint32_t)(m >> 32);
        const negs_alias_entry *en = &a->e[col];
        return ((uint32_t)x < en->threshold || en->alias == col) ? col : en->alias;
    }
}

#endif
