/* negs_sampler_sample_shared: m negatives drawn once for a whole batch (the sampled columns of
 * mixed negatives), from the sampler's distribution over its support with, optionally, the
 * batch's positives excluded. Per-user tables are not read: a user's known positives among
 * the shared columns are the loss's to mask (negs_loss_set_positives). */
#include <stdlib.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "sampler_internal.h"

void sp_shared_free(sp_shared_ws *w)
{
    free(w->excl);
    free(w->tmp);
    free(w->rp);
    free(w->rc);
    w->excl = w->tmp = w->rp = NULL;
    w->rc = NULL;
    w->cap = w->slots = 0;
}

/* Grows the workspace to batches of n rows (the only allocation: the first call of a larger
 * batch; later calls of that size or smaller never allocate). */
static int shared_reserve(negs_sampler *s, size_t n)
{
    sp_shared_ws *w = &s->sh;
    size_t slots = s->n_children ? s->n_children : 1, per;
    if (w->cap >= n && w->slots >= slots && w->rp) return NEGS_OK;
    int st = negs_size_mul(slots, n + 1, &per, "negs_sampler_sample_shared: workspace");
    if (st) return st;
    sp_shared_ws nw = {n, slots, NULL, NULL, NULL, NULL};
    nw.excl = negs_alloc_array(n + 1, sizeof *nw.excl, "negs_sampler_sample_shared: positives");
    nw.tmp = negs_alloc_array(n + 1, sizeof *nw.tmp, "negs_sampler_sample_shared: sort buffer");
    nw.rp = negs_alloc_array(per, sizeof *nw.rp, "negs_sampler_sample_shared: removed positions");
    nw.rc = negs_alloc_array(per, sizeof *nw.rc, "negs_sampler_sample_shared: removed weights");
    if (!nw.excl || !nw.tmp || !nw.rp || !nw.rc) {
        sp_shared_free(&nw);
        return NEGS_E_NOMEM;
    }
    sp_shared_free(w);
    *w = nw;
    return NEGS_OK;
}

/* Sorted, distinct copy of ids into w->excl (LSD radix sort, 8 bits a pass); returns the count. */
static size_t sorted_distinct(sp_shared_ws *w, const uint32_t *ids, size_t n)
{
    uint32_t *a = w->excl, *b = w->tmp;
    for (size_t i = 0; i < n; i++) a[i] = ids[i];
    for (int shift = 0; shift < 32; shift += 8) {
        size_t cnt[257] = {0};
        for (size_t i = 0; i < n; i++) cnt[((a[i] >> shift) & 255u) + 1]++;
        for (int d = 0; d < 256; d++) cnt[d + 1] += cnt[d];
        for (size_t i = 0; i < n; i++) b[cnt[(a[i] >> shift) & 255u]++] = a[i];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    /* four passes: the sorted ids are back in w->excl */
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (m == 0 || a[i] != a[m - 1]) a[m++] = a[i];
    return m;
}

static int shared_kind(int kind)
{
    return kind == NEGS_SAMPLER_UNIFORM || kind == NEGS_SAMPLER_POPULARITY;
}

static int check_kind(const negs_sampler *s, const char *fn)
{
    const negs_sampler *bad = NULL;
    uint32_t bc = 0;
    if (s->kind == NEGS_SAMPLER_MIXTURE) {
        for (uint32_t c = 0; c < s->n_children && !bad; c++)
            if (!shared_kind(s->child[c]->kind)) bad = s->child[bc = c];
    } else if (!shared_kind(s->kind)) {
        bad = s;
    }
    if (!bad) return NEGS_OK;
    const char *why = bad->kind == NEGS_SAMPLER_CATEGORY ? "CATEGORY draws from one row's positive's category"
                      : bad->kind == NEGS_SAMPLER_EXPOSURE ? "EXPOSURE draws from one user's exposures"
                      : bad->kind == NEGS_SAMPLER_WALK ? "WALK walks from one row's user"
                      : "HARD selects by one row's model scores";
    if (bad == s)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: %s, so it has no draws shared by a batch (use "
                         "UNIFORM, POPULARITY or a mixture of them)", fn, why);
    return negs_fail(NEGS_E_UNSUPPORTED, "%s: child %u of the mixture: %s, so it has no draws "
                     "shared by a batch (use UNIFORM, POPULARITY or a mixture of them)", fn, bc, why);
}

NEGS_API int negs_sampler_sample_shared(negs_sampler *s, uint64_t step, size_t n_rows,
                                        const uint32_t *positives, uint32_t m,
                                        uint32_t *out_items, float *out_logq,
                                        float *out_pos_logq)
{
    static const char *fn = "negs_sampler_sample_shared";
    int st = negs_check_ptr(s, fn, "s");
    if (!st) st = negs_check_ptr(out_items, fn, "out_items");
    if (st) return st;
    if (m == 0) return negs_fail(NEGS_E_INVALID, "%s: m is 0", fn);
    if (n_rows > 0 && !positives)
        return negs_fail(NEGS_E_INVALID, "%s: positives is NULL but n_rows = %zu", fn, n_rows);
    if (s->owned)
        return negs_fail(NEGS_E_INVALID, "%s: this sampler belongs to a mixture; sample from the "
                         "mixture", fn);
    if ((st = check_kind(s, fn)) != NEGS_OK) return st;
    if ((st = sp_check_ready(s, fn)) != NEGS_OK) return st;
    for (size_t r = 0; r < n_rows; r++)
        if (positives[r] >= s->n_items)
            return negs_fail(NEGS_E_INVALID, "%s: positives[%zu] = %u is not below n_items = %u", fn,
                             r, positives[r], s->n_items);
    int mix = s->kind == NEGS_SAMPLER_MIXTURE;
    double sh[SP_MAX_CHILDREN], tot = 0.0;
    for (uint32_t c = 0; c < s->n_children; c++) tot += sh[c] = sp_schedule_share(s, c, step);
    if (mix && !(tot > 0.0))
        return negs_fail(NEGS_E_STATE, "%s: every child's share is 0 at step %llu", fn,
                         (unsigned long long)step);
    if ((st = shared_reserve(s, n_rows)) != NEGS_OK) return st;

    sp_shared_ws *w = &s->sh;
    size_t ne = s->shared_exclude ? sorted_distinct(w, positives, n_rows) : 0;
    sp_mix_row mr; /* a mixture's rows, shares and streams, as sp_mix_begin lays them out */
    sp_row row;
    if (mix) {
        mr.tot = 0.0;
        mr.last = 0;
        for (uint32_t c = 0; c < s->n_children; c++) {
            size_t off = (size_t)c * (w->cap + 1);
            mr.sh[c] = sh[c];
            if (mr.sh[c] > 0.0 && sp_row_init_list(&mr.rows[c], s->child[c], w->excl, ne,
                                                   w->rp + off, w->rc + off, 1) != NEGS_OK)
                mr.sh[c] = 0.0;
            if (mr.sh[c] > 0.0) {
                sp_stream_init(&mr.rc[c], s->gen, s->seed, step, 0, SP_PURPOSE_SHARED_DRAW + c,
                               2 * (uint64_t)m + 8);
                mr.last = c;
            }
            mr.tot += mr.sh[c];
            mr.cum[c] = mr.tot;
        }
        if (!(mr.tot > 0.0))
            return negs_fail(NEGS_E_EXHAUSTED, "%s: no child with a positive share has an item left "
                             "after excluding the batch's %zu distinct positives", fn, ne);
        sp_stream_init(&mr.pick, s->gen, s->seed, step, 0, SP_PURPOSE_SHARED_CHILD, 2 * (uint64_t)m);
        for (uint32_t j = 0; j < m; j++) {
            uint32_t c = sp_mix_pick(&mr);
            out_items[j] = sp_draw_one(&mr.rows[c], &mr.rc[c]);
        }
        if (out_logq)
            for (uint32_t j = 0; j < m; j++) out_logq[j] = sp_mix_logq(&mr, s, m, out_items[j]);
    } else {
        uint64_t need = s->unique ? m : 1;
        if (sp_row_init_list(&row, s, w->excl, ne, w->rp, w->rc, need) != NEGS_OK) {
            if (s->unique)
                return negs_fail(NEGS_E_EXHAUSTED, "%s: m = %u exceeds the %llu items left after "
                                 "excluding the batch's %zu distinct positives", fn, m,
                                 (unsigned long long)row.m, ne);
            return negs_fail(NEGS_E_EXHAUSTED, "%s: no item is left after excluding the batch's %zu "
                             "distinct positives", fn, ne);
        }
        sp_stream rng;
        sp_stream_init(&rng, s->gen, s->seed, step, 0, SP_PURPOSE_SHARED, 2 * (uint64_t)m + 8);
        sp_draw_row(&row, s, &s->scr[0], &rng, m, out_items, out_logq);
    }
    if (out_pos_logq)
        for (size_t r = 0; r < n_rows; r++)
            out_pos_logq[r] = mix ? sp_mix_logq(&mr, s, m, positives[r])
                                  : (float)sp_row_logq(&row, s, positives[r], m);
    return NEGS_OK;
}
