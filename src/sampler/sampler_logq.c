/* Exact log q of any item for a row, without drawing: the value out_logq holds when the item
 * is drawn (the same expressions, evaluated in the same order), -inf when the row never draws
 * it. negs_sampler_logq only reads the handle. */
#include <math.h>
#include <stdio.h>

#include "core/errors.h"
#include "sampler_internal.h"

/* UNIQUE weighted: the certainty walk of sp_draw_row's systematic design (items in weight
 * order taken while (k - h) w >= the weight left), then pi = w / d for the others. */
static double unique_weighted_logq(const sp_row *row, uint32_t item, uint32_t k)
{
    const sp_support *s = &row->s;
    uint32_t h = 0;
    double zu = row->z;
    for (uint32_t q = s->lo; q < s->hi && h < k; q++) {
        uint32_t it = sp_item_at(s, s->desc[q]);
        if (sp_row_excluded(row, it)) continue;
        double w = sp_item_w(s, it);
        if (!(w > 0.0)) break;
        if ((double)(k - h) * w < zu) break;
        if (it == item) return 0.0; /* certain */
        h++;
        zu -= w;
    }
    uint32_t kk = k - h;
    if (kk == 0) return -INFINITY; /* the certain items fill the row */
    double d = zu / kk;
    return sp_item_logw(s, item) - log(d);
}

double sp_row_logq(const sp_row *row, const negs_sampler *s, uint32_t item, uint32_t k)
{
    double w = sp_row_weight(row, item);
    if (!(w > 0.0)) return -INFINITY;
    if (s->unique) {
        if (row->s.lw) return unique_weighted_logq(row, item, k);
        return log((double)k) - log((double)row->m);
    }
    double lk = log((double)k) - log(row->z);
    if (!row->s.lw) return lk;
    return (lk - row->s.mx) + row->s.alpha * (double)row->s.lw[item];
}

double sp_mixture_logq(const negs_sampler *mix, const sp_row *rows, const double *sh, double tot,
                       uint32_t item, uint32_t k)
{
    double q = 0.0;
    for (uint32_t c = 0; c < mix->n_children; c++)
        if (sh[c] > 0.0 && mix->child[c]->kind != NEGS_SAMPLER_HARD)
            q += sh[c] / tot * sp_row_weight(&rows[c], item) / rows[c].z;
    return log((double)k * q);
}

/* A HARD sampler, or a mixture with a HARD child, has no log q of its own. */
static int check_not_hard(const negs_sampler *s, const char *fn)
{
    if (s->kind == NEGS_SAMPLER_SRNS)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: the sampler is SRNS: its selection depends on "
                         "the model's scores, so it has no log q of its own", fn);
    if (s->kind == NEGS_SAMPLER_HARD)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: the sampler is HARD: its selection depends on the "
                         "model's scores, so it has no log q of its own", fn);
    if (s->kind == NEGS_SAMPLER_WALK)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: the sampler is WALK: the probability of an item "
                         "is a sum over all walks to it, which is not computed (docs/samplers.md, "
                         "Random-walk negatives)", fn);
    for (uint32_t c = 0; c < s->n_children; c++)
        if (s->child[c]->kind == NEGS_SAMPLER_HARD)
            return negs_fail(NEGS_E_UNSUPPORTED, "%s: child %u of the mixture is HARD: its selection "
                             "depends on the model's scores, so the mixture has no log q of its own",
                             fn, c);
    return NEGS_OK;
}

static void row_name(char *buf, size_t cap, size_t i, const uint32_t *users,
                     const uint32_t *positives)
{
    if (users && positives) snprintf(buf, cap, "triple %zu (user %u, positive %u)", i, users[i], positives[i]);
    else if (users) snprintf(buf, cap, "triple %zu (user %u)", i, users[i]);
    else if (positives) snprintf(buf, cap, "triple %zu (positive %u)", i, positives[i]);
    else snprintf(buf, cap, "triple %zu", i);
}

NEGS_API int negs_sampler_logq(const negs_sampler *s, uint64_t step, size_t n,
                               const uint32_t *users, const uint32_t *positives,
                               const uint32_t *items, uint32_t k, float *out_logq)
{
    static const char *fn = "negs_sampler_logq";
    int st = negs_check_ptr(s, fn, "s");
    if (!st) st = negs_check_ptr(items, fn, "items");
    if (!st) st = negs_check_ptr(out_logq, fn, "out_logq");
    if (st) return st;
    if (n == 0) return negs_fail(NEGS_E_INVALID, "%s: n is 0", fn);
    if (k == 0) return negs_fail(NEGS_E_INVALID, "%s: k is 0", fn);
    if ((st = check_not_hard(s, fn)) != NEGS_OK) return st;
    if ((st = sp_check_rows(s, 0, fn, n, users, positives)) != NEGS_OK) return st;
    for (size_t i = 0; i < n; i++)
        if (items[i] >= s->n_items)
            return negs_fail(NEGS_E_INVALID, "%s: items[%zu] = %u is not below n_items = %u", fn, i,
                             items[i], s->n_items);
    int mix = s->kind == NEGS_SAMPLER_MIXTURE;
    double shares[SP_MAX_CHILDREN], tot = 0.0;
    for (uint32_t c = 0; c < s->n_children; c++) tot += shares[c] = sp_schedule_share(s, c, step);
    if (mix && !(tot > 0.0))
        return negs_fail(NEGS_E_STATE, "%s: every child's share is 0 at step %llu", fn,
                         (unsigned long long)step);
    /* No scratch: the rows need z and m only, so the handle is never written. */
    const sp_scratch none = {NULL, NULL, NULL};
    sp_row rows[SP_MAX_CHILDREN], row;
    double sh[SP_MAX_CHILDREN], t = 0.0;
    int have = 0;
    for (size_t i = 0; i < n; i++) {
        int has_user = users != NULL, has_pos = positives != NULL;
        uint32_t user = has_user ? users[i] : 0, pos = has_pos ? positives[i] : 0;
        /* consecutive triples of one row (its k candidates) share the row's state */
        int same = have && (!has_user || user == users[i - 1]) && (!has_pos || pos == positives[i - 1]);
        if (!same) {
            int bad;
            if (mix) {
                t = 0.0;
                for (uint32_t c = 0; c < s->n_children; c++) {
                    const negs_sampler *ch = s->child[c];
                    sh[c] = shares[c];
                    if (sh[c] > 0.0 &&
                        sp_row_init(&rows[c], ch, &none, has_user, user, has_pos, pos, 1) != NEGS_OK)
                        sh[c] = 0.0;
                    t += sh[c];
                }
                bad = !(t > 0.0);
            } else {
                bad = sp_row_init(&row, s, &none, has_user, user, has_pos, pos,
                                  s->unique ? k : 1) != NEGS_OK;
            }
            if (bad) {
                char who[96];
                row_name(who, sizeof who, i, users, positives);
                return negs_fail(NEGS_E_EXHAUSTED, "%s: the row of %s %s, so its log q is undefined",
                                 fn, who, mix ? "has no eligible item in any child with a positive share"
                                 : s->unique ? "has fewer than k eligible items" : "has no eligible item");
            }
            have = 1;
        }
        out_logq[i] = (float)(mix ? sp_mixture_logq(s, rows, sh, t, items[i], k)
                                  : sp_row_logq(&row, s, items[i], k));
    }
    return NEGS_OK;
}
