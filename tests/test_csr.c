/* negs_csr: copying, sorting, de-duplication, lookups, reference counting, bad input. */
#include "test_util.h"
#include "core/csr.h"

static void test_contains_unsorted_with_duplicates(void **state)
{
    (void)state;
    uint64_t indptr[4] = {0, 4, 4, 7};
    uint32_t indices[7] = {9, 2, 9, 5, 0, 8, 0};
    negs_csr *t = negs_csr_create(3, 10, indptr, indices);
    assert_non_null(t);
    indices[0] = 3; /* the table is a copy */
    assert_int_equal(negs_csr_n_users(t), 3);
    assert_int_equal(negs_csr_n_items(t), 10);
    assert_int_equal(negs_csr_row_size(t, 0), 3); /* {2, 5, 9} */
    assert_int_equal(negs_csr_row_size(t, 1), 0);
    assert_int_equal(negs_csr_row_size(t, 2), 2); /* {0, 8} */
    for (uint32_t i = 0; i < 10; i++) {
        assert_int_equal(negs_csr_contains(t, 0, i), i == 2 || i == 5 || i == 9);
        assert_int_equal(negs_csr_contains(t, 1, i), 0);
        assert_int_equal(negs_csr_contains(t, 2, i), i == 0 || i == 8);
    }
    uint64_t len;
    const uint32_t *row = negs_csr_row(t, 0, &len);
    assert_int_equal(len, 3);
    assert_int_equal(row[0], 2);
    assert_int_equal(row[1], 5);
    assert_int_equal(row[2], 9);
    negs_csr_free(t);
}

static void test_bad_input(void **state)
{
    (void)state;
    uint64_t indptr[3] = {0, 1, 2};
    uint32_t indices[2] = {1, 4};
    assert_null(negs_csr_create(0, 5, indptr, indices));
    assert_non_null(strstr(negs_last_error(), "n_users"));
    assert_null(negs_csr_create(2, 0, indptr, indices));
    assert_non_null(strstr(negs_last_error(), "n_items"));
    assert_null(negs_csr_create(2, 5, NULL, indices));
    assert_non_null(strstr(negs_last_error(), "indptr"));
    assert_null(negs_csr_create(2, 5, indptr, NULL));
    assert_non_null(strstr(negs_last_error(), "indices"));
    assert_null(negs_csr_create(2, 4, indptr, indices)); /* 4 is not below 4 */
    assert_non_null(strstr(negs_last_error(), "indices[1] = 4"));
    assert_int_equal(negs_last_status(), NEGS_E_INVALID);
    uint64_t bad_start[3] = {1, 1, 2};
    assert_null(negs_csr_create(2, 5, bad_start, indices));
    uint64_t decreasing[3] = {0, 2, 1};
    assert_null(negs_csr_create(2, 5, decreasing, indices));
    assert_non_null(strstr(negs_last_error(), "indptr[2]"));
    uint64_t empty[3] = {0, 0, 0};
    negs_csr *t = negs_csr_create(2, 5, empty, NULL);
    assert_non_null(t);
    assert_fails_with(negs_csr_contains(t, 2, 0), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "user = 2"));
    assert_fails_with(negs_csr_contains(t, 0, 5), NEGS_E_INVALID);
    assert_fails_with(negs_csr_contains(NULL, 0, 0), NEGS_E_INVALID);
    assert_fails_with((int)negs_csr_row_size(t, 9), NEGS_E_INVALID);
    assert_fails_with((int)negs_csr_row_size(NULL, 0), NEGS_E_INVALID);
    assert_int_equal(negs_csr_n_users(NULL), 0);
    negs_csr_free(t);
    negs_csr_free(NULL);
}

static void test_reference_counting(void **state)
{
    (void)state;
    uint64_t indptr[2] = {0, 1};
    uint32_t indices[1] = {3};
    negs_csr *t = negs_csr_create(1, 4, indptr, indices);
    const negs_csr *held = negs_csr_retain(t);
    negs_csr_free(t); /* the owner lets go first: the holder still sees the data */
    assert_int_equal(negs_csr_contains(held, 0, 3), 1);
    negs_csr_release(held); /* last reference: freed (ASan/valgrind would see a leak) */
    negs_csr_release(NULL);
}

/* The public row views agree with contains() on a random table (brute-force reference). */
static void test_row_items_and_copy(void **state)
{
    (void)state;
    enum { USERS = 40, ITEMS = 97, NNZ = 600 };
    uint64_t indptr[USERS + 1] = {0};
    uint32_t indices[NNZ];
    uint64_t x = 12345;
    for (uint32_t u = 0; u < USERS; u++) /* rows of 0..30 raw entries, with duplicates */
        indptr[u + 1] = indptr[u] + (u % 7 == 3 ? 0 : (u * 13) % 31);
    for (uint64_t i = 0; i < indptr[USERS]; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        indices[i] = (uint32_t)((x >> 33) % ITEMS);
    }
    negs_csr *t = negs_csr_create(USERS, ITEMS, indptr, indices);
    assert_non_null(t);
    uint32_t buf[ITEMS];
    for (uint32_t u = 0; u < USERS; u++) {
        const uint32_t *items = NULL;
        size_t len = 999, len2 = 999, len3 = 999;
        assert_int_equal(negs_csr_row_items(t, u, &items, &len), NEGS_OK);
        assert_non_null(items); /* even for the empty rows u % 7 == 3 */
        assert_int_equal(len, (size_t)negs_csr_row_size(t, u));
        size_t seen = 0;
        for (uint32_t i = 0; i < ITEMS; i++) {
            int in = negs_csr_contains(t, u, i);
            if (in) {
                assert_true(seen < len);
                assert_int_equal(items[seen], i); /* ascending, distinct, exactly the members */
                seen++;
            }
        }
        assert_int_equal(seen, len);
        assert_int_equal(negs_csr_row_copy(t, u, NULL, 0, &len2), NEGS_OK); /* size query */
        assert_int_equal(len2, len);
        assert_int_equal(negs_csr_row_copy(t, u, buf, len, &len3), NEGS_OK); /* exact fit */
        assert_int_equal(len3, len);
        if (len) assert_memory_equal(buf, items, len * sizeof *buf);
    }
    negs_csr_free(t);
}

static void test_row_bad_input(void **state)
{
    (void)state;
    uint64_t indptr[3] = {0, 3, 3};
    uint32_t indices[3] = {4, 1, 2};
    negs_csr *t = negs_csr_create(2, 5, indptr, indices);
    const uint32_t *items = NULL;
    size_t len = 7;
    assert_fails_with(negs_csr_row_items(t, 2, &items, &len), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "negs_csr_row_items: user = 2 is not below n_users = 2"));
    assert_null(items);
    assert_int_equal(len, 7); /* untouched on failure */
    assert_fails_with(negs_csr_row_items(NULL, 0, &items, &len), NEGS_E_INVALID);
    assert_fails_with(negs_csr_row_items(t, 0, NULL, &len), NEGS_E_INVALID);
    assert_fails_with(negs_csr_row_items(t, 0, &items, NULL), NEGS_E_INVALID);
    uint32_t buf[4] = {77, 77, 77, 77};
    assert_fails_with(negs_csr_row_copy(t, 0, buf, 2, &len), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "cap = 2 is less than the 3 items of user 0"));
    assert_int_equal(len, 3); /* the caller learns the size it needs */
    assert_int_equal(buf[0], 77);
    assert_int_equal(buf[1], 77); /* nothing written */
    assert_fails_with(negs_csr_row_copy(t, 0, buf, 4, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_csr_row_copy(t, 5, buf, 4, &len), NEGS_E_INVALID);
    assert_fails_with(negs_csr_row_copy(NULL, 0, buf, 4, &len), NEGS_E_INVALID);
    assert_int_equal(negs_csr_row_copy(t, 0, buf, 4, &len), NEGS_OK);
    assert_int_equal(len, 3);
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[1], 2);
    assert_int_equal(buf[2], 4);
    assert_int_equal(buf[3], 77); /* nothing past the row */
    assert_int_equal(negs_csr_row_copy(t, 1, buf, 0, &len), NEGS_OK); /* empty row, cap 0 */
    assert_int_equal(len, 0);
    negs_csr_free(t);
}

static void test_sorted_contains(void **state)
{
    (void)state;
    uint32_t row[5] = {1, 3, 5, 7, 9};
    for (uint32_t i = 0; i < 11; i++)
        assert_int_equal(negs_sorted_contains(row, 5, i), (i & 1) && i < 10);
    assert_int_equal(negs_sorted_contains(row, 0, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contains_unsorted_with_duplicates),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_reference_counting),
        cmocka_unit_test(test_row_items_and_copy),
        cmocka_unit_test(test_row_bad_input),
        cmocka_unit_test(test_sorted_contains),
    };
    return cmocka_run_group_tests_name("csr", tests, NULL, NULL);
}
