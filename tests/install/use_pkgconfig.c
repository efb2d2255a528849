/* Built with `pkg-config --cflags --libs negsample` against an installed copy. */
#include <negsample.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    if (negs_version_number() != NEGS_VERSION_NUMBER) {
        printf("header %d and library %u disagree\n", NEGS_VERSION_NUMBER, negs_version_number());
        return 1;
    }
    uint64_t indptr[3] = {0, 2, 3};
    uint32_t indices[3] = {4, 1, 0};
    negs_csr *t = negs_csr_create(2, 5, indptr, indices);
    int ok = t && negs_csr_contains(t, 0, 4) == 1 && negs_csr_contains(t, 1, 4) == 0;
    negs_csr_free(t);
    printf("installed libnegsample %s works: %s\n", negs_version_string(), ok ? "yes" : "no");
    return ok ? 0 : 1;
}
