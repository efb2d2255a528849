/* The "random-walk" strategy's sampler: negatives reached by 3-hop walks (user -> item ->
 * user -> item) on the training graph, never one of the user's training items
 * (NEGS_SAMPLER_WALK; docs/samplers.md, "Random-walk negatives"). Trained with BPR, which
 * needs no log q (the walk has none). */
#include "demo.h"

negs_sampler *walk_sampler(const dataset *d, uint64_t seed, int threads)
{
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_WALK, d->n_items, seed);
    if (!s) return NULL;
    if (negs_sampler_set_positives(s, d->train_csr) ||
        negs_sampler_set_param(s, NEGS_SP_THREADS, threads) ||
        negs_sampler_set_param(s, NEGS_SP_WALK_LENGTH, 3) ||
        negs_sampler_set_param(s, NEGS_SP_WALK_TRIES, 8)) {
        negs_sampler_free(s);
        return NULL;
    }
    return s;
}
