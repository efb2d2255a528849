/* Allocation with overflow checks. Every failure records a last-error sentence. */
#ifndef NEGS_CORE_ALLOC_H
#define NEGS_CORE_ALLOC_H

#include <stddef.h>

/* *out = a * b; returns 0, or NEGS_E_INVALID (with a sentence naming what) on overflow. */
int negs_size_mul(size_t a, size_t b, size_t *out, const char *what);
/* *out = a + b with the same contract. */
int negs_size_add(size_t a, size_t b, size_t *out, const char *what);

/* n * size bytes; NULL (last error set: INVALID on overflow, NOMEM otherwise) on failure.
 * n == 0 returns a valid, freeable pointer. `what` names the buffer in the sentence. */
void *negs_alloc_array(size_t n, size_t size, const char *what);
void *negs_calloc_array(size_t n, size_t size, const char *what);
/* 64-byte aligned (cache line / AVX-512), freed with negs_free_aligned. */
void *negs_alloc_aligned(size_t n, size_t size, const char *what);
void negs_free_aligned(void *p);

#ifdef NEGS_FAULT_INJECTION
/* Only in the fault-injection build (make faults): the nth allocation from now fails (0: none);
 * negs_fault_allocations counts the allocations since the last arm. */
void negs_fault_arm(long nth);
long negs_fault_allocations(void);
#endif

#endif
