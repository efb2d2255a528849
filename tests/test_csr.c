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
        cmocka_unit_test(test_sorted_contains),
    };
    return cmocka_run_group_tests_name("csr", tests, NULL, NULL);
}
