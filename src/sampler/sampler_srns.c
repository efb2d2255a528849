/* SRNS samplers: parameters 30..37, the child, and the memory and workspaces that
 * negs_srns_prepare allocates (the calls in sampler_srns_call.c never allocate). */
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "sampler_srns.h"

int sp_srns_create(negs_sampler *s)
{
    sp_srns *m = negs_calloc_array(1, sizeof *m, "SRNS sampler: parameters");
    if (!m) return NEGS_E_NOMEM;
    m->S = 16;
    m->R = 16;
    m->W = 5;
    m->alpha = 1.0;
    m->temp = 1.0;
    s->srns = m;
    return NEGS_OK;
}

static void free_parts(sp_srns_part *p, unsigned parts)
{
    if (!p) return;
    for (unsigned i = 0; i < parts; i++) {
        free(p[i].key);
        free(p[i].p);
        free(p[i].sel);
        free(p[i].plain);
        free(p[i].ids);
        free(p[i].cnt);
        free(p[i].rec);
    }
    free(p);
}

static void free_memory(sp_srns *m)
{
    free(m->ids);
    free(m->cnt);
    free(m->rec);
    free(m->init);
    free(m->stamp);
    free(m->first);
    free_parts(m->part, m->parts);
    m->ids = m->cnt = NULL;
    m->rec = NULL;
    m->init = NULL;
    m->stamp = NULL;
    m->first = NULL;
    m->part = NULL;
    m->parts = 0;
    m->n_users = 0;
}

void sp_srns_free(negs_sampler *s)
{
    if (!s->srns) return;
    free_memory(s->srns);
    free(s->srns);
    s->srns = NULL;
}

int sp_srns_parts(negs_sampler *s, unsigned parts)
{
    sp_srns *m = s->srns;
    if (!m || !m->ids) return NEGS_OK;
    size_t n = (size_t)m->mS + m->mR, S = m->mS;
    sp_srns_part *p = negs_calloc_array(parts, sizeof *p, "SRNS sampler: workspace");
    int ok = p != NULL;
    for (unsigned i = 0; ok && i < parts; i++) {
        p[i].key = negs_alloc_array(n, sizeof *p[i].key, "SRNS sampler: keys");
        p[i].p = negs_alloc_array(n, sizeof *p[i].p, "SRNS sampler: records");
        p[i].sel = negs_alloc_array(n, sizeof *p[i].sel, "SRNS sampler: picks");
        p[i].plain = negs_alloc_array(S, sizeof *p[i].plain, "SRNS sampler: picks");
        p[i].ids = negs_alloc_array(S, sizeof *p[i].ids, "SRNS sampler: memory");
        p[i].cnt = negs_alloc_array(S, sizeof *p[i].cnt, "SRNS sampler: memory");
        p[i].rec = negs_alloc_array(S * m->mW, sizeof *p[i].rec, "SRNS sampler: memory");
        ok = p[i].key && p[i].p && p[i].sel && p[i].plain && p[i].ids && p[i].cnt && p[i].rec;
    }
    if (!ok) {
        free_parts(p, p ? parts : 0);
        return NEGS_E_NOMEM;
    }
    free_parts(m->part, m->parts);
    m->part = p;
    m->parts = parts;
    return NEGS_OK;
}

NEGS_API int negs_srns_prepare(negs_sampler *srns, uint32_t n_users)
{
    static const char *fn = "negs_srns_prepare";
    int st = negs_check_ptr(srns, fn, "srns");
    if (st) return st;
    if (srns->kind != NEGS_SAMPLER_SRNS)
        return negs_fail(NEGS_E_INVALID, "%s: the sampler is not SRNS (kind %d)", fn, srns->kind);
    if (n_users == 0) return negs_fail(NEGS_E_INVALID, "%s: n_users is 0", fn);
    sp_srns *m = srns->srns;
    size_t slots, recs;
    if ((st = negs_size_mul(n_users, m->S, &slots, "negs_srns_prepare: n_users * S")) ||
        (st = negs_size_mul(slots, m->W, &recs, "negs_srns_prepare: n_users * S * W")))
        return st;
    free_memory(m);
    m->ids = negs_alloc_array(slots, sizeof *m->ids, "negs_srns_prepare: memory items");
    m->cnt = negs_calloc_array(slots, sizeof *m->cnt, "negs_srns_prepare: record counts");
    m->rec = negs_calloc_array(recs, sizeof *m->rec, "negs_srns_prepare: records");
    m->init = negs_calloc_array(n_users, sizeof *m->init, "negs_srns_prepare: users");
    m->stamp = negs_calloc_array(n_users, sizeof *m->stamp, "negs_srns_prepare: users");
    m->first = negs_calloc_array(n_users, sizeof *m->first, "negs_srns_prepare: users");
    if (!m->ids || !m->cnt || !m->rec || !m->init || !m->stamp || !m->first) {
        free_memory(m);
        return NEGS_E_NOMEM;
    }
    m->n_users = n_users;
    m->mS = m->S;
    m->mR = m->R;
    m->mW = m->W;
    m->calls = 0;
    m->passed = 0;
    if ((st = sp_srns_parts(srns, srns->threads)) != NEGS_OK) free_memory(m);
    return st;
}

/* The child draws the candidates, so it must not itself need scores. */
static int scoreless(const negs_sampler *s)
{
    if (s->kind == NEGS_SAMPLER_HARD || s->kind == NEGS_SAMPLER_SRNS) return 0;
    for (uint32_t c = 0; c < s->n_children; c++)
        if (!scoreless(s->child[c])) return 0;
    return 1;
}

int sp_srns_add(negs_sampler *srns, negs_sampler *child)
{
    static const char *fn = "negs_sampler_add";
    if (srns->n_children)
        return negs_fail(NEGS_E_INVALID, "%s: the SRNS sampler already has its child (exactly one "
                         "is allowed)", fn);
    if (!scoreless(child))
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: the child %s, which needs scores; an SRNS "
                         "sampler's child must draw without them", fn,
                         child->n_children && child->kind == NEGS_SAMPLER_MIXTURE
                             ? "holds a HARD sampler" : "is a HARD or SRNS sampler");
    int st = sp_scratch_prepare(child, srns->scr_parts);
    if (st) return st;
    srns->child[0] = child;
    srns->share[0] = 1.0;
    srns->n_children = 1;
    child->owned = 1;
    return NEGS_OK;
}

int sp_srns_is_param(int param)
{
    return param >= NEGS_SP_SRNS_MEMORY && param <= NEGS_SP_SRNS_USERS;
}

static int whole(double v, double lo, double hi)
{
    return v >= lo && v <= hi && v == floor(v);
}

int sp_srns_set_param(negs_sampler *s, int param, double value, const char *fn)
{
    if (!sp_srns_is_param(param))
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: unknown parameter %d", fn, param);
    if (!s->srns)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: parameter %d (NEGS_SP_SRNS_*) applies to SRNS "
                         "samplers only", fn, param);
    sp_srns *m = s->srns;
    switch (param) {
    case NEGS_SP_SRNS_MEMORY:
    case NEGS_SP_SRNS_REFRESH:
    case NEGS_SP_SRNS_HISTORY: {
        double lo = param == NEGS_SP_SRNS_REFRESH ? 0.0 : 1.0;
        double hi = param == NEGS_SP_SRNS_HISTORY ? 255.0 : 65536.0;
        const char *name = param == NEGS_SP_SRNS_MEMORY ? "srns_memory"
                           : param == NEGS_SP_SRNS_REFRESH ? "srns_refresh" : "srns_history";
        if (!whole(value, lo, hi))
            return negs_fail(NEGS_E_INVALID, "%s: %s = %g is not a whole number in %g..%g", fn,
                             name, value, lo, hi);
        *(param == NEGS_SP_SRNS_MEMORY ? &m->S : param == NEGS_SP_SRNS_REFRESH ? &m->R : &m->W) =
            (uint32_t)value;
        return NEGS_OK;
    }
    case NEGS_SP_SRNS_ALPHA:
    case NEGS_SP_SRNS_WARMUP:
        if (!isfinite(value) || value < 0.0)
            return negs_fail(NEGS_E_INVALID, "%s: %s = %g must be finite and >= 0", fn,
                             param == NEGS_SP_SRNS_ALPHA ? "srns_alpha" : "srns_warmup", value);
        *(param == NEGS_SP_SRNS_ALPHA ? &m->alpha : &m->warmup) = value;
        return NEGS_OK;
    case NEGS_SP_SRNS_TEMPERATURE:
        if (!isfinite(value) || !(value > 0.0))
            return negs_fail(NEGS_E_INVALID, "%s: srns_temperature = %g must be finite and > 0", fn,
                             value);
        m->temp = value;
        return NEGS_OK;
    default:
        return negs_fail(NEGS_E_INVALID, "%s: %s is read-only", fn,
                         param == NEGS_SP_SRNS_PASSED ? "NEGS_SP_SRNS_PASSED" : "NEGS_SP_SRNS_USERS");
    }
}

int sp_srns_get_param(const negs_sampler *s, int param, double *value, const char *fn)
{
    if (!sp_srns_is_param(param))
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: unknown parameter %d", fn, param);
    if (!s->srns)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: parameter %d (NEGS_SP_SRNS_*) applies to SRNS "
                         "samplers only", fn, param);
    const sp_srns *m = s->srns;
    switch (param) {
    case NEGS_SP_SRNS_MEMORY: *value = m->S; break;
    case NEGS_SP_SRNS_REFRESH: *value = m->R; break;
    case NEGS_SP_SRNS_HISTORY: *value = m->W; break;
    case NEGS_SP_SRNS_ALPHA: *value = m->alpha; break;
    case NEGS_SP_SRNS_WARMUP: *value = m->warmup; break;
    case NEGS_SP_SRNS_TEMPERATURE: *value = m->temp; break;
    case NEGS_SP_SRNS_PASSED: *value = (double)m->passed; break;
    default: *value = m->n_users; break;
    }
    return NEGS_OK;
}
