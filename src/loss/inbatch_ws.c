/* The in-batch workspace: grown on demand, so calls of a shape seen before never allocate. */
#include <stdlib.h>

#include "core/alloc.h"
#include "inbatch.h"

void negs_ib_ws_free(void *ws)
{
    negs_ib_ws *w = ws;
    if (!w) return;
    negs_free_aligned(w->block);
    free(w->groups);
    free(w);
}

int negs_ib_ws_reserve(negs_loss *l, size_t block, size_t groups)
{
    negs_ib_ws *w = l->ws;
    if (!w) {
        w = negs_calloc_array(1, sizeof *w, "in-batch workspace");
        if (!w) return NEGS_E_NOMEM;
        l->ws = w;
        l->ws_free = negs_ib_ws_free;
    }
    if (block > w->block_cap) {
        unsigned char *p = negs_alloc_aligned(block, 1, "in-batch workspace");
        if (!p) return NEGS_E_NOMEM;
        negs_free_aligned(w->block);
        w->block = p;
        w->block_cap = block;
    }
    if (groups > w->groups_cap) {
        uint32_t *g = negs_alloc_array(groups, sizeof *g, "in-batch mask groups");
        if (!g) return NEGS_E_NOMEM;
        free(w->groups);
        w->groups = g;
        w->groups_cap = groups;
    }
    return NEGS_OK;
}
