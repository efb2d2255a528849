/* Allocation with overflow checks; failures record a sentence naming the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "errors.h"

int negs_size_mul(size_t a, size_t b, size_t *out, const char *what)
{
    if (b != 0 && a > SIZE_MAX / b)
        return negs_fail(NEGS_E_INVALID, "%s: %zu x %zu overflows size_t", what, a, b);
    *out = a * b;
    return NEGS_OK;
}

int negs_size_add(size_t a, size_t b, size_t *out, const char *what)
{
    if (a > SIZE_MAX - b)
        return negs_fail(NEGS_E_INVALID, "%s: %zu + %zu overflows size_t", what, a, b);
    *out = a + b;
    return NEGS_OK;
}

#ifdef NEGS_FAULT_INJECTION
/* Test-only hook of `make faults` (never in lib/): the armed allocation fails. Single-threaded
 * use: the fault driver arms it between calls. */
static long fault_countdown, fault_seen;

void negs_fault_arm(long nth)
{
    fault_countdown = nth;
    fault_seen = 0;
}

long negs_fault_allocations(void)
{
    return fault_seen;
}

static int fault_hit(void)
{
    fault_seen++;
    return fault_countdown > 0 && --fault_countdown == 0;
}
#else
static int fault_hit(void)
{
    return 0;
}
#endif

static void *alloc_bytes(size_t n, size_t size, const char *what, int zero, int aligned)
{
    size_t bytes = 0;
    if (negs_size_mul(n, size, &bytes, what)) return NULL;
    if (bytes == 0) bytes = 1; /* a valid, freeable pointer for empty arrays */
    void *p;
    if (fault_hit()) {
        p = NULL;
    } else if (aligned) {
        size_t rounded = (bytes + 63) & ~(size_t)63;
        if (rounded < bytes) {
            negs_fail(NEGS_E_INVALID, "%s: %zu bytes overflow when aligned", what, bytes);
            return NULL;
        }
        p = aligned_alloc(64, rounded);
        if (p && zero) memset(p, 0, rounded);
    } else {
        p = zero ? calloc(1, bytes) : malloc(bytes);
    }
    if (!p) negs_fail(NEGS_E_NOMEM, "%s: cannot allocate %zu bytes", what, bytes);
    return p;
}

void *negs_alloc_array(size_t n, size_t size, const char *what)
{
    return alloc_bytes(n, size, what, 0, 0);
}

void *negs_calloc_array(size_t n, size_t size, const char *what)
{
    return alloc_bytes(n, size, what, 1, 0);
}

void *negs_alloc_aligned(size_t n, size_t size, const char *what)
{
    return alloc_bytes(n, size, what, 0, 1);
}

void negs_free_aligned(void *p)
{
    free(p);
}
