/* The known-positive lookup of the in-batch masks (inbatch_mask.c) with AVX-512 gathers. */
#ifndef NEGS_LOSS_INBATCH_MASK_SIMD_H
#define NEGS_LOSS_INBATCH_MASK_SIMD_H

#include <stddef.h>
#include <stdint.h>

/* 1 when this build has negs_ib_lookup_avx512 (x86-64 with GCC or Clang). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define NEGS_IB_HAVE_LOOKUP512 1
/* For each item of row[0 .. len) (ids below 2^31) whose itab entry (size << 32 | (start + 1),
 * 0 when not in the batch) is not 0, appends start to out (in row order); returns how many,
 * and adds the sizes to *hits. Writes no entry of out past the last one appended. Only on a
 * CPU with AVX-512 F. */
uint32_t negs_ib_lookup_avx512(const uint64_t *itab, const uint32_t *row, uint64_t len,
                               uint32_t *out, size_t *hits);
/* Whether x is one of list[0 .. n): 16 compares at a time, no chain of dependent loads. */
int negs_ib_holds_avx512(const uint32_t *list, uint32_t n, uint32_t x);
#else
#define NEGS_IB_HAVE_LOOKUP512 0
#endif

#endif
