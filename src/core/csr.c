/* negs_csr: a copied, sorted, de-duplicated, reference-counted table of item lists. */
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "csr.h"
#include "errors.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int validate(uint32_t n_users, uint32_t n_items, const uint64_t *indptr,
                    const uint32_t *indices)
{
    static const char *fn = "negs_csr_create";
    if (n_users == 0) return negs_fail(NEGS_E_INVALID, "%s: n_users is 0", fn);
    if (n_items == 0) return negs_fail(NEGS_E_INVALID, "%s: n_items is 0", fn);
    if (!indptr) return negs_fail(NEGS_E_INVALID, "%s: indptr is NULL", fn);
    if (indptr[0] != 0)
        return negs_fail(NEGS_E_INVALID, "%s: indptr[0] = %llu, must be 0", fn,
                         (unsigned long long)indptr[0]);
    for (uint32_t u = 0; u < n_users; u++)
        if (indptr[u + 1] < indptr[u])
            return negs_fail(NEGS_E_INVALID, "%s: indptr[%u] = %llu is less than indptr[%u] = %llu",
                             fn, u + 1, (unsigned long long)indptr[u + 1], u,
                             (unsigned long long)indptr[u]);
    uint64_t nnz = indptr[n_users];
    if (nnz > SIZE_MAX / sizeof(uint32_t))
        return negs_fail(NEGS_E_INVALID, "%s: indptr[n_users] = %llu entries overflow memory", fn,
                         (unsigned long long)nnz);
    if (nnz > 0 && !indices)
        return negs_fail(NEGS_E_INVALID, "%s: indices is NULL but indptr[n_users] = %llu", fn,
                         (unsigned long long)nnz);
    for (uint64_t i = 0; i < nnz; i++)
        if (indices[i] >= n_items)
            return negs_fail(NEGS_E_INVALID, "%s: indices[%llu] = %u is not below n_items = %u",
                             fn, (unsigned long long)i, indices[i], n_items);
    return NEGS_OK;
}

NEGS_API negs_csr *negs_csr_create(uint32_t n_users, uint32_t n_items, const uint64_t *indptr,
                                   const uint32_t *indices)
{
    if (validate(n_users, n_items, indptr, indices)) return NULL;
    size_t nnz = (size_t)indptr[n_users];
    negs_csr *t = negs_calloc_array(1, sizeof *t, "negs_csr_create: table");
    if (!t) return NULL;
    t->indptr = negs_alloc_array((size_t)n_users + 1, sizeof *t->indptr, "negs_csr_create: indptr");
    t->indices = negs_alloc_array(nnz, sizeof *t->indices, "negs_csr_create: indices");
    if (!t->indptr || !t->indices) {
        free(t->indptr);
        free(t->indices);
        free(t);
        return NULL;
    }
    if (nnz) memcpy(t->indices, indices, nnz * sizeof *indices);
    /* Sort each row and squeeze out duplicates in place. */
    uint64_t out = 0;
    t->indptr[0] = 0;
    for (uint32_t u = 0; u < n_users; u++) {
        uint64_t b = indptr[u], e = indptr[u + 1];
        qsort(t->indices + b, (size_t)(e - b), sizeof(uint32_t), cmp_u32);
        for (uint64_t i = b; i < e; i++)
            if (i == b || t->indices[i] != t->indices[i - 1]) t->indices[out++] = t->indices[i];
        t->indptr[u + 1] = out;
    }
    t->n_users = n_users;
    t->n_items = n_items;
    atomic_init(&t->refs, 1u);
    return t;
}

/* The reference count is the one mutable field of a shared table. */
static negs_csr *mutable_table(const negs_csr *t)
{
    return (negs_csr *)(uintptr_t)t;
}

const negs_csr *negs_csr_retain(const negs_csr *t)
{
    if (t) atomic_fetch_add(&mutable_table(t)->refs, 1u);
    return t;
}

void negs_csr_release(const negs_csr *t)
{
    negs_csr *m = mutable_table(t);
    if (!m || atomic_fetch_sub(&m->refs, 1u) != 1u) return;
    free(m->indptr);
    free(m->indices);
    free(m);
}

NEGS_API void negs_csr_free(negs_csr *t)
{
    negs_csr_release(t);
}

int negs_sorted_contains(const uint32_t *row, uint64_t len, uint32_t item)
{
    uint64_t lo = 0, hi = len;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (row[mid] < item) lo = mid + 1;
        else hi = mid;
    }
    return lo < len && row[lo] == item;
}

static int check_row(const negs_csr *t, uint32_t user, const char *fn)
{
    if (!t) return negs_fail(NEGS_E_INVALID, "%s: t is NULL", fn);
    if (user >= t->n_users)
        return negs_fail(NEGS_E_INVALID, "%s: user = %u is not below n_users = %u", fn, user,
                         t->n_users);
    return NEGS_OK;
}

NEGS_API int negs_csr_contains(const negs_csr *t, uint32_t user, uint32_t item)
{
    int rc = check_row(t, user, "negs_csr_contains");
    if (rc) return rc;
    if (item >= t->n_items)
        return negs_fail(NEGS_E_INVALID, "negs_csr_contains: item = %u is not below n_items = %u",
                         item, t->n_items);
    uint64_t len;
    const uint32_t *row = negs_csr_row(t, user, &len);
    return negs_sorted_contains(row, len, item);
}

NEGS_API uint32_t negs_csr_n_users(const negs_csr *t)
{
    return t ? t->n_users : 0;
}

NEGS_API uint32_t negs_csr_n_items(const negs_csr *t)
{
    return t ? t->n_items : 0;
}

NEGS_API int64_t negs_csr_row_size(const negs_csr *t, uint32_t user)
{
    int rc = check_row(t, user, "negs_csr_row_size");
    if (rc) return rc;
    return (int64_t)(t->indptr[user + 1] - t->indptr[user]);
}

NEGS_API int negs_csr_row_items(const negs_csr *t, uint32_t user, const uint32_t **items,
                                size_t *len)
{
    static const char *fn = "negs_csr_row_items";
    int rc = check_row(t, user, fn);
    if (rc) return rc;
    if (!items) return negs_fail(NEGS_E_INVALID, "%s: items is NULL", fn);
    if (!len) return negs_fail(NEGS_E_INVALID, "%s: len is NULL", fn);
    uint64_t n;
    *items = negs_csr_row(t, user, &n); /* indices is never NULL (alloc of 0 gives 1 byte) */
    *len = (size_t)n;                   /* n <= nnz, which create checked fits in memory */
    return NEGS_OK;
}

NEGS_API int negs_csr_row_copy(const negs_csr *t, uint32_t user, uint32_t *out, size_t cap,
                               size_t *len)
{
    static const char *fn = "negs_csr_row_copy";
    int rc = check_row(t, user, fn);
    if (rc) return rc;
    if (!len) return negs_fail(NEGS_E_INVALID, "%s: len is NULL", fn);
    uint64_t n;
    const uint32_t *row = negs_csr_row(t, user, &n);
    *len = (size_t)n;
    if (!out) return NEGS_OK;
    if (cap < n)
        return negs_fail(NEGS_E_INVALID, "%s: cap = %zu is less than the %zu items of user %u",
                         fn, cap, (size_t)n, user);
    if (n) memcpy(out, row, (size_t)n * sizeof *row);
    return NEGS_OK;
}
