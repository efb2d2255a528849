/* negs_sampler_set_support: a UNIFORM sampler restricted to a set of valid ids. The set is
 * the rows' support (positions index the sorted ids), so draws, exclusion, exhaustion and
 * log q follow the same code as every other support. */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "sampler_internal.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

NEGS_API int negs_sampler_set_support(negs_sampler *s, const uint32_t *ids, uint32_t n)
{
    static const char *fn = "negs_sampler_set_support";
    int st = negs_check_ptr(s, fn, "s");
    if (st) return st;
    if (s->kind != NEGS_SAMPLER_UNIFORM)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: only UNIFORM samplers take a support set%s", fn,
                         s->kind == NEGS_SAMPLER_MIXTURE ? " (set it on the mixture's UNIFORM children)"
                         : " (with weights, give the items outside the set weight 0)");
    if (!ids && n > 0) return negs_fail(NEGS_E_INVALID, "%s: ids is NULL but n = %u", fn, n);
    if (ids && n == 0)
        return negs_fail(NEGS_E_INVALID, "%s: n is 0 (pass ids = NULL and n = 0 to restore the "
                         "whole catalogue)", fn);
    for (uint32_t i = 0; i < n; i++)
        if (ids[i] >= s->n_items)
            return negs_fail(NEGS_E_INVALID, "%s: ids[%u] = %u is not below n_items = %u", fn, i,
                             ids[i], s->n_items);
    uint32_t *copy = NULL, m = 0;
    if (n > 0) {
        copy = negs_alloc_array(n, sizeof *copy, "negs_sampler_set_support: ids");
        if (!copy) return NEGS_E_NOMEM;
        memcpy(copy, ids, (size_t)n * sizeof *copy);
        qsort(copy, n, sizeof *copy, cmp_u32);
        for (uint32_t i = 0; i < n; i++)
            if (m == 0 || copy[i] != copy[m - 1]) copy[m++] = copy[i];
    }
    uint32_t *old = s->sup, old_n = s->n_sup;
    s->sup = copy;
    s->n_sup = m;
    if ((st = sp_rebuild(s)) != NEGS_OK) {
        s->sup = old;
        s->n_sup = old_n;
        free(copy);
        return st;
    }
    free(old);
    return NEGS_OK;
}
