// The first program of docs/cpp.md: popularity negatives that skip each user's known
// positives, with their log q; a failure shows up as a negs::error.
#include <negsample.hpp>

#include <cstdio>
#include <vector>

int main()
{
    try {
        std::vector<double> counts = {50, 30, 10, 5, 3, 2}; // item popularity
        std::vector<std::uint64_t> indptr = {0, 2, 3};      // user 0 saw {0, 1}, user 1 saw {4}
        std::vector<std::uint32_t> seen = {0, 1, 4};
        negs::csr positives(2, 6, indptr, seen);
        negs::sampler s(NEGS_SAMPLER_POPULARITY, 6, /*seed=*/42);
        s.set_weights(counts); // weight = count^0.75 by default
        s.set_positives(positives);
        std::vector<std::uint32_t> users = {0, 1}, pos = {1, 4}, items(2 * 3);
        std::vector<float> logq(items.size());
        s.sample(/*step=*/0, users, pos, /*k=*/3, items, logq);
        for (std::size_t i = 0; i < items.size(); i++)
            std::printf("user %zu: item %u, log q %.3f\n", i / 3, items[i], logq[i]);
        std::vector<std::uint32_t> strangers = {0, 7}; // the table knows users 0 and 1 only
        s.sample(0, strangers, pos, 3, items);
    } catch (const negs::error &e) {
        std::printf("failed with status %d: %s\n", e.status(), e.what());
    }
    return 0;
}
