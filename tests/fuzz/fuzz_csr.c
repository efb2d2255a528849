/* negs_csr_create against a brute-force model: the table is accepted exactly when indptr
 * starts at 0, never decreases and every index is below n_items; then every query (contains,
 * row size, row view, row copy) answers what a scan of the input rows says, and bad queries
 * fail with a sentence. */
#include "fuzz_common.h"

enum { FZ_MAX_USERS = 12, FZ_MAX_NNZ = 96 };

static int fz_row_has(const uint32_t *idx, uint64_t lo, uint64_t hi, uint32_t item)
{
    for (uint64_t q = lo; q < hi; q++)
        if (idx[q] == item) return 1;
    return 0;
}

int negs_fuzz_csr(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    uint32_t n_users = fz_below(&in, FZ_MAX_USERS + 1);
    uint8_t shape = fz_u8(&in);
    uint32_t n_items = shape & 0x80 ? (shape & 1 ? UINT32_MAX : 0u) : 1u + shape % 40u;
    uint64_t indptr[FZ_MAX_USERS + 1];
    uint32_t idx[FZ_MAX_NNZ];
    int valid = n_users > 0 && n_items > 0;
    uint8_t mode = fz_u8(&in);
    indptr[0] = mode == 1 ? 1 : 0;
    valid &= indptr[0] == 0;
    for (uint32_t u = 1; u <= n_users; u++) {
        uint8_t len = fz_u8(&in);
        if (mode == 2 && (len & 0xF0) == 0xF0) {
            indptr[u] = indptr[u - 1] - 1; /* decreasing (or wrapping) */
            valid = 0;
        } else {
            indptr[u] = indptr[u - 1] + len % 9;
        }
    }
    uint64_t nnz = indptr[n_users];
    int fits = valid && nnz <= FZ_MAX_NNZ;
    if (!fits) valid = 0;
    for (uint64_t q = 0; fits && q < nnz; q++) {
        uint8_t b = fz_u8(&in);
        idx[q] = b == 255 ? n_items : (n_items == UINT32_MAX ? UINT32_MAX - 1 - b : b % n_items);
        if (idx[q] >= n_items) valid = 0;
    }
    negs_csr *t = negs_csr_create(n_users, n_items, indptr, fits && nnz ? idx : NULL);
    if (!valid) {
        FUZZ_CHECK(t == NULL);
        FUZZ_CHECK_FAILURE(negs_last_status());
        return 0;
    }
    FUZZ_CHECK(t != NULL);
    FUZZ_CHECK(negs_csr_n_users(t) == n_users && negs_csr_n_items(t) == n_items);
    for (uint32_t u = 0; u < n_users; u++) {
        const uint32_t *row = NULL;
        size_t len = 0, len2 = 0;
        FUZZ_CHECK(negs_csr_row_items(t, u, &row, &len) == NEGS_OK && row != NULL);
        FUZZ_CHECK(negs_csr_row_size(t, u) == (int64_t)len);
        uint32_t copy[FZ_MAX_NNZ + 1];
        FUZZ_CHECK(negs_csr_row_copy(t, u, copy, FZ_MAX_NNZ + 1, &len2) == NEGS_OK && len2 == len);
        FUZZ_CHECK(len == 0 || memcmp(copy, row, len * sizeof *row) == 0);
        if (len > 0) FUZZ_CHECK_FAILURE(negs_csr_row_copy(t, u, copy, len - 1, &len2));
        size_t distinct = 0;
        for (uint64_t q = indptr[u]; q < indptr[u + 1]; q++)
            if (!fz_row_has(idx, indptr[u], q, idx[q])) distinct++;
        FUZZ_CHECK(len == distinct);
        for (size_t q = 0; q < len; q++) {
            FUZZ_CHECK(row[q] < n_items && (q == 0 || row[q - 1] < row[q]));
            FUZZ_CHECK(fz_row_has(idx, indptr[u], indptr[u + 1], row[q]));
        }
        /* contains on the row's items, their neighbours and the ends of the range */
        for (uint64_t q = indptr[u]; q < indptr[u + 1]; q++) {
            uint32_t probe[3] = {idx[q], idx[q] + 1, idx[q] - 1};
            for (int j = 0; j < 3; j++) {
                int c = negs_csr_contains(t, u, probe[j]);
                if (probe[j] >= n_items) FUZZ_CHECK_FAILURE(c);
                else FUZZ_CHECK(c == fz_row_has(idx, indptr[u], indptr[u + 1], probe[j]));
            }
        }
        FUZZ_CHECK(negs_csr_contains(t, u, 0) == fz_row_has(idx, indptr[u], indptr[u + 1], 0));
    }
    FUZZ_CHECK_FAILURE(negs_csr_contains(t, n_users, 0));
    FUZZ_CHECK_FAILURE(negs_csr_row_size(t, n_users));
    negs_csr_free(t);
    return 0;
}

#ifdef NEGS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return negs_fuzz_csr(data, size);
}
#endif
