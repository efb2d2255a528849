/* The shared, immutable, reference-counted item-list table behind negs_csr. */
#ifndef NEGS_CORE_CSR_H
#define NEGS_CORE_CSR_H

#include <stdatomic.h>
#include <stdint.h>
#include "negsample.h"

struct negs_csr {
    uint32_t n_users;
    uint32_t n_items;
    uint64_t *indptr;  /* n_users + 1 */
    uint32_t *indices; /* each row sorted ascending, distinct */
    atomic_uint refs;
};

/* Handles that keep a table call retain when given it and release when done (the table is
 * immutable; only its reference count changes, atomically). NULL is a no-op for both. */
const negs_csr *negs_csr_retain(const negs_csr *t);
void negs_csr_release(const negs_csr *t);

/* Row access without checks (caller validated user < n_users). */
static inline const uint32_t *negs_csr_row(const negs_csr *t, uint32_t user, uint64_t *len)
{
    *len = t->indptr[user + 1] - t->indptr[user];
    return t->indices + t->indptr[user];
}
/* Binary search in a sorted row; 1 if found. */
int negs_sorted_contains(const uint32_t *row, uint64_t len, uint32_t item);

#endif
