/* negs_xbm: the cross-batch memory, a FIFO ring of (embedding, item id, log q, push step). */
#include <math.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/errors.h"

#define NO_MAX_AGE UINT64_MAX /* NEGS_XP_MAX_AGE = +inf */
#define MAX_AGE_LIMIT 9007199254740992.0 /* 2^53: every whole double below is exact */

struct negs_xbm {
    size_t capacity, dim;
    size_t head; /* the slot the next entry goes to */
    size_t size; /* entries held */
    uint64_t max_age;
    float *emb;      /* capacity x dim */
    uint32_t *ids;   /* capacity */
    float *logq;     /* capacity */
    uint64_t *steps; /* capacity: the step each entry was pushed at */
};

NEGS_API void negs_xbm_free(negs_xbm *x)
{
    if (!x) return;
    free(x->emb);
    free(x->ids);
    free(x->logq);
    free(x->steps);
    free(x);
}

NEGS_API negs_xbm *negs_xbm_create(size_t capacity, size_t dim)
{
    static const char *fn = "negs_xbm_create";
    if (capacity == 0) return negs_fail_null(NEGS_E_INVALID, "%s: capacity is 0", fn);
    if (capacity > INT_MAX) /* layout returns m as an int */
        return negs_fail_null(NEGS_E_INVALID, "%s: capacity = %zu exceeds INT_MAX = %d", fn,
                              capacity, INT_MAX);
    if (dim == 0) return negs_fail_null(NEGS_E_INVALID, "%s: dim is 0", fn);
    size_t n_floats;
    if (negs_size_mul(capacity, dim, &n_floats, "negs_xbm_create: capacity * dim")) return NULL;
    negs_xbm *x = negs_calloc_array(1, sizeof *x, "negs_xbm_create: handle");
    if (!x) return NULL;
    x->emb = negs_alloc_array(n_floats, sizeof *x->emb, "negs_xbm_create: embeddings");
    x->ids = x->emb ? negs_alloc_array(capacity, sizeof *x->ids, "negs_xbm_create: ids") : NULL;
    x->logq = x->ids ? negs_alloc_array(capacity, sizeof *x->logq, "negs_xbm_create: logq") : NULL;
    x->steps = x->logq ? negs_alloc_array(capacity, sizeof *x->steps, "negs_xbm_create: steps")
                       : NULL;
    if (!x->steps) {
        negs_xbm_free(x);
        return NULL;
    }
    x->capacity = capacity;
    x->dim = dim;
    x->max_age = NO_MAX_AGE;
    return x;
}

NEGS_API int negs_xbm_set_param(negs_xbm *x, int param, double value)
{
    static const char *fn = "negs_xbm_set_param";
    if (negs_check_ptr(x, fn, "x")) return NEGS_E_INVALID;
    switch (param) {
    case NEGS_XP_MAX_AGE:
        if (value == INFINITY) {
            x->max_age = NO_MAX_AGE;
            return NEGS_OK;
        }
        if (!(value >= 0.0 && value <= MAX_AGE_LIMIT) || value != floor(value))
            return negs_fail(NEGS_E_INVALID,
                             "%s: NEGS_XP_MAX_AGE = %g is not a whole number in 0 .. 2^53 or +inf",
                             fn, value);
        x->max_age = (uint64_t)value;
        return NEGS_OK;
    case NEGS_XP_CAPACITY:
    case NEGS_XP_DIM:
    case NEGS_XP_SIZE:
        return negs_fail(NEGS_E_INVALID, "%s: parameter %d is read-only", fn, param);
    default:
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: unknown parameter %d", fn, param);
    }
}

NEGS_API int negs_xbm_get_param(const negs_xbm *x, int param, double *value)
{
    static const char *fn = "negs_xbm_get_param";
    if (negs_check_ptr(x, fn, "x") || negs_check_ptr(value, fn, "value")) return NEGS_E_INVALID;
    switch (param) {
    case NEGS_XP_MAX_AGE:
        *value = x->max_age == NO_MAX_AGE ? INFINITY : (double)x->max_age;
        return NEGS_OK;
    case NEGS_XP_CAPACITY: *value = (double)x->capacity; return NEGS_OK;
    case NEGS_XP_DIM: *value = (double)x->dim; return NEGS_OK;
    case NEGS_XP_SIZE: *value = (double)x->size; return NEGS_OK;
    default: return negs_fail(NEGS_E_UNSUPPORTED, "%s: unknown parameter %d", fn, param);
    }
}

NEGS_API int negs_xbm_reset(negs_xbm *x)
{
    if (negs_check_ptr(x, "negs_xbm_reset", "x")) return NEGS_E_INVALID;
    x->head = 0;
    x->size = 0;
    return NEGS_OK;
}

/* The slot of entry k, k = 0 the newest. */
static size_t slot_of(const negs_xbm *x, size_t k)
{
    return (x->head + x->capacity - 1 - k) % x->capacity;
}

static int check_push(const negs_xbm *x, uint64_t step, size_t n, size_t dim, const float *emb,
                      const uint32_t *item_ids, const float *logq)
{
    static const char *fn = "negs_xbm_push";
    if (negs_check_ptr(x, fn, "x")) return NEGS_E_INVALID;
    if (dim != x->dim)
        return negs_fail(NEGS_E_INVALID, "%s: dim = %zu but the memory holds rows of dim %zu", fn,
                         dim, x->dim);
    if (n > x->capacity)
        return negs_fail(NEGS_E_INVALID, "%s: n = %zu entries exceed the capacity %zu", fn, n,
                         x->capacity);
    if (x->size > 0 && step < x->steps[slot_of(x, 0)])
        return negs_fail(NEGS_E_INVALID, "%s: step %llu is below the last push's step %llu", fn,
                         (unsigned long long)step, (unsigned long long)x->steps[slot_of(x, 0)]);
    if (n == 0) return NEGS_OK;
    if (negs_check_ptr(emb, fn, "emb") || negs_check_ptr(item_ids, fn, "item_ids"))
        return NEGS_E_INVALID;
    if (negs_check_finite_f(emb, n * dim, fn, "emb")) return NEGS_E_INVALID;
    if (logq && negs_check_finite_f(logq, n, fn, "logq")) return NEGS_E_INVALID;
    return NEGS_OK;
}

NEGS_API int negs_xbm_push(negs_xbm *x, uint64_t step, size_t n, size_t dim, const float *emb,
                           const uint32_t *item_ids, const float *logq)
{
    int rc = check_push(x, step, n, dim, emb, item_ids, logq);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        size_t s = x->head;
        memcpy(x->emb + s * dim, emb + i * dim, dim * sizeof *emb);
        x->ids[s] = item_ids[i];
        x->logq[s] = logq ? logq[i] : 0.0f;
        x->steps[s] = step;
        x->head = s + 1 == x->capacity ? 0 : s + 1;
    }
    x->size = x->size + n < x->capacity ? x->size + n : x->capacity;
    return NEGS_OK;
}

static int check_layout(const negs_xbm *x, uint64_t step, size_t b, size_t dim, size_t n_rows,
                        const float *v, const float *logq)
{
    static const char *fn = "negs_xbm_layout";
    if (negs_check_ptr(x, fn, "x") || negs_check_ptr(v, fn, "v") ||
        negs_check_ptr(logq, fn, "logq"))
        return NEGS_E_INVALID;
    if (dim != x->dim)
        return negs_fail(NEGS_E_INVALID, "%s: dim = %zu but the memory holds rows of dim %zu", fn,
                         dim, x->dim);
    if (b > SIZE_MAX - x->size || n_rows < b + x->size)
        return negs_fail(NEGS_E_INVALID,
                         "%s: n_rows = %zu cannot hold b = %zu positives and the %zu entries held",
                         fn, n_rows, b, x->size);
    if (x->size > 0 && step < x->steps[slot_of(x, 0)])
        return negs_fail(NEGS_E_INVALID, "%s: step %llu is below the newest entry's step %llu", fn,
                         (unsigned long long)step, (unsigned long long)x->steps[slot_of(x, 0)]);
    return NEGS_OK;
}

NEGS_API int negs_xbm_layout(const negs_xbm *x, uint64_t step, size_t b, size_t dim,
                             size_t n_rows, float *v, float *logq, uint32_t *item_ids,
                             uint64_t *out_age, size_t *out_live)
{
    int rc = check_layout(x, step, b, dim, n_rows, v, logq);
    if (rc) return rc;
    size_t live = 0;
    for (size_t k = 0; k < x->size; k++) {
        size_t s = slot_of(x, k);
        uint64_t age = step - x->steps[s];
        int expired = x->max_age != NO_MAX_AGE && age > x->max_age;
        memcpy(v + (b + k) * dim, x->emb + s * dim, dim * sizeof *v);
        logq[b + k] = expired ? -INFINITY : x->logq[s];
        if (item_ids) item_ids[b + k] = x->ids[s];
        if (out_age) out_age[k] = age;
        if (!expired) live = k + 1;
    }
    if (out_live) *out_live = live;
    return (int)x->size;
}
