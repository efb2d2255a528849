/* Draws popularity negatives that skip each user's known positives, with their log q: per
 * slot, log of the expected number of times that item appears among the row's k draws,
 * log(k q) with q the per-draw probability (so it may be positive), which is what sampled
 * softmax subtracts from the item's logit. */
#include <negsample.h>
#include <stdio.h>

int main(void)
{
    double counts[6] = {50, 30, 10, 5, 3, 2};             /* item popularity */
    uint64_t indptr[3] = {0, 2, 3};                       /* user 0 saw {0, 1}; user 1 saw {4} */
    uint32_t seen[3] = {0, 1, 4};
    negs_csr *positives = negs_csr_create(2, 6, indptr, seen);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 6, /*seed=*/42);
    if (!positives || !s || negs_sampler_set_weights(s, counts, 6) ||
        negs_sampler_set_positives(s, positives)) {
        fprintf(stderr, "setup failed: %s\n", negs_last_error());
        return 1;
    }
    negs_csr_free(positives);                             /* the sampler keeps its own reference */
    uint32_t users[2] = {0, 1}, pos[2] = {1, 4}, items[2 * 3];
    float logq[2 * 3];
    int rc = negs_sampler_sample(s, /*step=*/0, 2, users, pos, 3, items, logq);
    if (rc < 0) {
        fprintf(stderr, "%s\n", negs_last_error());
        return 1;
    }
    for (int i = 0; i < 6; i++) printf("user %d: item %u, log(k q) %.3f\n", i / 3, items[i], logq[i]);
    negs_sampler_free(s);
    return 0;
}
