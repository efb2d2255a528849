/* The in-batch workspace: grown on demand, so calls of a shape seen before never allocate. */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "inbatch.h"

void negs_ib_ws_free(void *ws)
{
    negs_ib_ws *w = ws;
    if (!w) return;
    negs_free_aligned(w->block);
    free(w->groups);
    free(w->pool);
    free(w->itab);
    negs_free_aligned(w->bf16);
    free(w);
}

/* Grows *buf to at least `want` entries (its old content is dropped). */
static int grow(uint32_t **buf, size_t *cap, size_t want, const char *what)
{
    if (want <= *cap) return NEGS_OK;
    uint32_t *g = negs_alloc_array(want, sizeof *g, what);
    if (!g) return NEGS_E_NOMEM;
    free(*buf);
    *buf = g;
    *cap = want;
    return NEGS_OK;
}

/* A cache size read from the CPU, or `fallback` when it does not tell, kept within [lo, hi]
 * (a virtual machine may report nonsense). */
static size_t cache_or(unsigned level, size_t fallback, size_t lo, size_t hi)
{
    size_t bytes = negs_cpu_cache_bytes(level);
    if (!bytes) bytes = fallback;
    return bytes < lo ? lo : bytes > hi ? hi : bytes;
}

/* l->ws, made (with the caches' sizes) on first use; NULL when out of memory. */
static negs_ib_ws *ws_of(negs_loss *l)
{
    negs_ib_ws *w = l->ws;
    if (w) return w;
    w = negs_calloc_array(1, sizeof *w, "in-batch workspace");
    if (!w) return NULL;
    w->l2_bytes = cache_or(2, 256u << 10, 128u << 10, 8u << 20);
    l->ws = w;
    l->ws_free = negs_ib_ws_free;
    return w;
}

int negs_ib_ws_caches(negs_loss *l, size_t *l2)
{
    negs_ib_ws *w = ws_of(l);
    if (!w) return NEGS_E_NOMEM;
    *l2 = w->l2_bytes;
    return NEGS_OK;
}

int negs_ib_ws_reserve(negs_loss *l, size_t block, size_t groups, size_t pool)
{
    negs_ib_ws *w = ws_of(l);
    if (!w) return NEGS_E_NOMEM;
    if (block > w->block_cap) {
        unsigned char *p = negs_alloc_aligned(block, 1, "in-batch workspace");
        if (!p) return NEGS_E_NOMEM;
        negs_free_aligned(w->block);
        w->block = p;
        w->block_cap = block;
    }
    int st = grow(&w->groups, &w->groups_cap, groups, "in-batch mask groups");
    if (!st) st = grow(&w->pool, &w->pool_cap, pool, "in-batch masks");
    return st;
}

int negs_ib_ws_items(negs_loss *l, size_t n_items)
{
    negs_ib_ws *w = l->ws; /* made by negs_ib_ws_reserve */
    if (n_items <= w->itab_cap) return NEGS_OK;
    uint64_t *t = negs_calloc_array(n_items, sizeof *t, "in-batch item table");
    if (!t) return NEGS_E_NOMEM;
    free(w->itab);
    w->itab = t;
    w->itab_cap = n_items;
    return NEGS_OK;
}
