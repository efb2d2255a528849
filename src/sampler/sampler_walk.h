/* WALK samplers: negatives reached by short random walks on the user-item interaction graph
 * (the positives table), user -> item -> user -> ... -> item, that the user has not interacted
 * with; a uniform draw over the user's eligible items after a bounded number of failed walks.
 * docs/samplers.md, "Random-walk negatives", states the walk exactly. */
#ifndef NEGS_SAMPLER_WALK_H
#define NEGS_SAMPLER_WALK_H

#include "sampler_internal.h"

#define SP_PURPOSE_WALK 0x5801u /* a row's walks and fallback draws, slot after slot */

#define SP_WALK_MAX_LENGTH 99u
#define SP_WALK_MAX_TRIES 1024u

/* The graph's transpose: item i's users are item_users[item_ptr[i] .. item_ptr[i+1]),
 * ascending; NULLs without a graph. */
typedef struct sp_walk_graph {
    uint64_t *item_ptr;
    uint32_t *item_users;
} sp_walk_graph;

typedef struct sp_walk {
    uint32_t length;      /* hops, odd, >= 3 */
    double restart;       /* NEGS_SP_WALK_RESTART as set */
    uint64_t restart_thr; /* a hop from an item restarts when a 32-bit word is below this
                           * (2^32: always, 0: never) */
    uint32_t tries;       /* walks per slot before the fallback */
    sp_walk_graph g;
    /* read-only counters of the last negs_sampler_sample call */
    uint64_t fallbacks, rejected;
} sp_walk;

/* sampler_walk.c: the handle's part (at create for kind WALK), parameters 40..49, the graph. */
int sp_walk_init(negs_sampler *s);
void sp_walk_free(negs_sampler *s);
int sp_walk_set_param(negs_sampler *s, int param, double value, const char *fn);
int sp_walk_get_param(const negs_sampler *s, int param, double *value, const char *fn);
/* negs_sampler_set_positives in two phases: builds the transpose of positives into *out
 * (NULL table or not a WALK sampler: empty), NEGS_OK or NEGS_E_NOMEM; then, once the call
 * cannot fail any more, keeps it (freeing the previous one) or drops it. */
int sp_walk_graph_build(const negs_sampler *s, const negs_csr *positives, sp_walk_graph *out);
void sp_walk_graph_keep(negs_sampler *s, sp_walk_graph *g);
void sp_walk_graph_drop(sp_walk_graph *g);

/* sampler_walk_draw.c: negs_sampler_sample on a WALK sampler (generic checks done). */
int sp_walk_sample(negs_sampler *s, uint64_t step, size_t n_rows, const uint32_t *users,
                   const uint32_t *positives, uint32_t k, uint32_t *out_items, float *out_logq);

#endif
