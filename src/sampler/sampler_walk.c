/* WALK samplers: the handle's part, parameters and the graph's transpose. Everything that
 * allocates for a WALK sampler happens here, so its sample calls never do. */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/csr.h"
#include "core/errors.h"
#include "sampler_walk.h"

int sp_walk_init(negs_sampler *s)
{
    if (s->kind != NEGS_SAMPLER_WALK) return NEGS_OK;
    sp_walk *w = negs_calloc_array(1, sizeof *w, "negs_sampler_create: walk state");
    if (!w) return NEGS_E_NOMEM;
    w->length = 3;
    w->restart = 0.0;
    w->restart_thr = 0;
    w->tries = 8;
    s->walk = w;
    return NEGS_OK;
}

void sp_walk_free(negs_sampler *s)
{
    if (!s->walk) return;
    sp_walk_graph_drop(&s->walk->g);
    free(s->walk);
    s->walk = NULL;
}

static const char *param_name(int param)
{
    switch (param) {
    case NEGS_SP_WALK_LENGTH: return "NEGS_SP_WALK_LENGTH";
    case NEGS_SP_WALK_RESTART: return "NEGS_SP_WALK_RESTART";
    case NEGS_SP_WALK_TRIES: return "NEGS_SP_WALK_TRIES";
    case NEGS_SP_WALK_FALLBACKS: return "NEGS_SP_WALK_FALLBACKS";
    default: return "NEGS_SP_WALK_REJECTED";
    }
}

static int walk_param(int param)
{
    return param >= NEGS_SP_WALK_LENGTH && param <= NEGS_SP_WALK_REJECTED;
}

static int check_walk(const negs_sampler *s, int param, const char *fn)
{
    if (!walk_param(param))
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: unknown parameter %d", fn, param);
    if (!s->walk)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: %s applies to WALK samplers only (this one is "
                         "kind %d)", fn, param_name(param), s->kind);
    return NEGS_OK;
}

int sp_walk_set_param(negs_sampler *s, int param, double value, const char *fn)
{
    int st = check_walk(s, param, fn);
    if (st) return st;
    sp_walk *w = s->walk;
    switch (param) {
    case NEGS_SP_WALK_LENGTH:
        if (!(value >= 3.0 && value <= SP_WALK_MAX_LENGTH && value == floor(value)) ||
            fmod(value, 2.0) != 1.0)
            return negs_fail(NEGS_E_INVALID, "%s: walk_length = %g must be an odd whole number of "
                             "hops in 3..%u (a walk ends on an item; 1 hop only reaches the "
                             "user's own positives)", fn, value, SP_WALK_MAX_LENGTH);
        w->length = (uint32_t)value;
        return NEGS_OK;
    case NEGS_SP_WALK_RESTART:
        if (!(value >= 0.0 && value <= 1.0))
            return negs_fail(NEGS_E_INVALID, "%s: walk_restart = %g must be a probability in "
                             "[0, 1]", fn, value);
        w->restart = value;
        /* exact for multiples of 2^-32 (0, 1, 1/2, 1/4, ...), else the nearest one */
        w->restart_thr = (uint64_t)llround(value * 4294967296.0);
        return NEGS_OK;
    case NEGS_SP_WALK_TRIES:
        if (!(value >= 0.0 && value <= SP_WALK_MAX_TRIES && value == floor(value)))
            return negs_fail(NEGS_E_INVALID, "%s: walk_tries = %g is not a whole number in 0..%u",
                             fn, value, SP_WALK_MAX_TRIES);
        w->tries = (uint32_t)value;
        return NEGS_OK;
    default:
        return negs_fail(NEGS_E_INVALID, "%s: %s is read-only", fn, param_name(param));
    }
}

int sp_walk_get_param(const negs_sampler *s, int param, double *value, const char *fn)
{
    int st = check_walk(s, param, fn);
    if (st) return st;
    const sp_walk *w = s->walk;
    switch (param) {
    case NEGS_SP_WALK_LENGTH: *value = w->length; return NEGS_OK;
    case NEGS_SP_WALK_RESTART: *value = w->restart; return NEGS_OK;
    case NEGS_SP_WALK_TRIES: *value = w->tries; return NEGS_OK;
    case NEGS_SP_WALK_FALLBACKS: *value = (double)w->fallbacks; return NEGS_OK;
    default: *value = (double)w->rejected; return NEGS_OK;
    }
}

int sp_walk_graph_build(const negs_sampler *s, const negs_csr *g, sp_walk_graph *out)
{
    out->item_ptr = NULL;
    out->item_users = NULL;
    if (!s->walk || !g) return NEGS_OK;
    uint64_t nnz = g->indptr[g->n_users];
    uint64_t *ptr = negs_calloc_array((size_t)g->n_items + 1, sizeof *ptr,
                                      "negs_sampler_set_positives: walk graph item offsets");
    uint32_t *users = ptr ? negs_alloc_array((size_t)nnz, sizeof *users,
                                             "negs_sampler_set_positives: walk graph item users")
                          : NULL;
    if (!ptr || !users) {
        free(ptr);
        return NEGS_E_NOMEM;
    }
    for (uint64_t j = 0; j < nnz; j++) ptr[g->indices[j] + 1]++;
    for (uint32_t i = 0; i < g->n_items; i++) ptr[i + 1] += ptr[i];
    /* users in ascending order within each item: a counting sort, ptr[i] as the cursor */
    for (uint32_t u = 0; u < g->n_users; u++)
        for (uint64_t j = g->indptr[u]; j < g->indptr[u + 1]; j++) users[ptr[g->indices[j]]++] = u;
    for (uint32_t i = g->n_items; i > 0; i--) ptr[i] = ptr[i - 1];
    ptr[0] = 0;
    out->item_ptr = ptr;
    out->item_users = users;
    return NEGS_OK;
}

void sp_walk_graph_drop(sp_walk_graph *g)
{
    free(g->item_ptr);
    free(g->item_users);
    g->item_ptr = NULL;
    g->item_users = NULL;
}

void sp_walk_graph_keep(negs_sampler *s, sp_walk_graph *g)
{
    if (!s->walk) return;
    sp_walk_graph_drop(&s->walk->g);
    s->walk->g = *g;
}
