/* The error sentences that the header and docs/api.md quote are the library's real ones. */
#include "test_util.h"

static void test_header_k0_sentence(void **state)
{
    (void)state;
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 10, 1);
    assert_non_null(s);
    uint32_t items[1];
    assert_int_equal(negs_sampler_sample(s, 0, 1, NULL, NULL, 0, items, NULL), NEGS_E_INVALID);
    /* include/negsample.h, negs_last_error */
    assert_string_equal(negs_last_error(), "NEGS_E_INVALID: negs_sampler_sample: k is 0");
    negs_sampler_free(s);
}

static void test_api_md_csr_sentence(void **state)
{
    (void)state;
    uint64_t indptr[3] = {0, 1, 2};
    uint32_t indices[2] = {1, 4};
    assert_null(negs_csr_create(2, 4, indptr, indices));
    /* docs/api.md, Errors */
    assert_string_equal(negs_last_error(),
                        "NEGS_E_INVALID: negs_csr_create: indices[1] = 4 is not below n_items = 4");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_k0_sentence),
        cmocka_unit_test(test_api_md_csr_sentence),
    };
    return cmocka_run_group_tests_name("doc_sentences", tests, NULL, NULL);
}
