/* Vose's alias method in double precision with 32-bit fixed-point thresholds. */
#include <math.h>
#include <stdlib.h>

#include "alias.h"
#include "alloc.h"
#include "errors.h"

/* Round to an integer as nearbyint does (the current rounding mode) for 0 <= x <= 2^33:
 * adding 2^52 leaves no fraction bits, so the sum rounds and the subtraction is exact. A
 * libm call per item otherwise. */
static double round_small(double x)
{
    return (x + 0x1.0p52) - 0x1.0p52; /* not folded: C without -ffast-math keeps IEEE order */
}

/* The 32-bit threshold of an acceptance probability, as a double (exactly the integer): the
 * error diffusion below carries it on without a round trip through an integer register. */
static double to_threshold(double prob)
{
    double t = round_small(prob * 4294967296.0);
    if (t >= 4294967295.0) return 4294967295.0;
    if (t < 1.0) return prob > 0.0 ? 1.0 : 0.0; /* a positive weight keeps a non-zero chance */
    return t;
}

int negs_alias_build(negs_alias *a, const double *w, uint32_t n)
{
    static const char *fn = "negs_alias_build";
    a->n = 0;
    a->e = NULL;
    a->total = 0.0;
    a->n_positive = 0;
    if (n == 0) return negs_fail(NEGS_E_INVALID, "%s: n is 0", fn);
    if (!w) return negs_fail(NEGS_E_INVALID, "%s: weights is NULL", fn);
    double total = 0.0;
    uint32_t n_pos = 0, any_pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || w[i] < 0.0)
            return negs_fail(NEGS_E_INVALID, "%s: weights[%u] = %g is not a finite, non-negative "
                             "number", fn, i, w[i]);
        if (w[i] > 0.0) {
            n_pos++;
            any_pos = i;
        }
        total += w[i];
    }
    if (n_pos == 0) return negs_fail(NEGS_E_INVALID, "%s: every weight is 0", fn);
    if (!isfinite(total))
        return negs_fail(NEGS_E_INVALID, "%s: the weights sum to infinity", fn);

    double *p = negs_alloc_array(n, sizeof *p, "negs_alias_build: scaled weights");
    uint32_t *work = negs_alloc_array(n, sizeof *work, "negs_alias_build: work list");
    int st = p && work ? negs_alias_build_checked(a, w, n, total, n_pos, any_pos, p, work)
                       : NEGS_E_NOMEM;
    free(p);
    free(work);
    return st;
}

int negs_alias_build_checked(negs_alias *a, const double *w, uint32_t n, double total,
                             uint32_t n_pos, uint32_t any_pos, double *p, uint32_t *work)
{
    a->n = 0;
    a->e = NULL;
    negs_alias_entry *e = negs_alloc_aligned(n, sizeof *e, "negs_alias_build: table");
    if (!e) return NEGS_E_NOMEM;
    /* Small items fill work[] from the front, large ones from the back. */
    size_t n_small = 0, n_large = 0;
    double scale = (double)n / total;
    for (uint32_t i = 0; i < n; i++) {
        p[i] = w[i] * scale;
        if (p[i] < 1.0) work[n_small++] = i;
        else work[n - 1 - n_large++] = i;
    }
    /* Error diffusion: each column's quantisation error is carried into the next column's
     * rounding, so the leftover columns never absorb more than 2^-33 of mass in total. */
    double carried = 0.0;
    while (n_small > 0 && n_large > 0) {
        uint32_t s = work[--n_small];
        uint32_t l = work[n - n_large]; /* top of the large stack */
        double td = 0.0; /* the threshold; a zero weight stays exactly zero */
        if (p[s] > 0.0 || w[s] > 0.0) { /* p = w scale: w is read only when p underflowed */
            double d = p[s] - carried; /* clamped to [0, 1] without a libm call */
            double target = d > 0.0 ? (d < 1.0 ? d : 1.0) : 0.0;
            td = to_threshold(target);
            carried += td * 0x1.0p-32 - p[s];
        }
        e[s].threshold = (uint32_t)td;
        e[s].alias = l;
        /* Take from l exactly what column s really hands it after quantisation, so rounding
         * errors never pile up on one item however many columns alias to it. */
        p[l] -= 1.0 - td * 0x1.0p-32;
        if (p[l] < 1.0) {
            n_large--;
            work[n_small++] = l;
        }
    }
    /* What is left has mass 1 up to rounding: always accept it. A zero-weight leftover (only
     * possible through extreme rounding) points at a positive item instead. */
    while (n_large > 0) {
        uint32_t l = work[n - n_large--];
        e[l].threshold = UINT32_MAX;
        e[l].alias = l;
    }
    while (n_small > 0) {
        uint32_t s = work[--n_small];
        e[s].threshold = w[s] > 0.0 ? UINT32_MAX : 0;
        e[s].alias = w[s] > 0.0 ? s : any_pos;
    }
    a->n = n;
    a->e = e;
    a->total = total;
    a->n_positive = n_pos;
    return NEGS_OK;
}

void negs_alias_free(negs_alias *a)
{
    if (!a) return;
    negs_free_aligned(a->e);
    a->e = NULL;
    a->n = 0;
}

/* Column i is accepted with P(coin < threshold) = threshold / 2^32, or always when its alias
 * is itself; the rest of its 1/n goes to its alias. */
static double accept_prob(const negs_alias_entry *en, uint32_t i)
{
    return en->alias == i ? 1.0 : (double)en->threshold * 0x1.0p-32;
}

void negs_alias_probs(const negs_alias *a, double *out)
{
    double inv_n = 1.0 / (double)a->n;
    for (uint32_t i = 0; i < a->n; i++) out[i] = 0.0;
    for (uint32_t i = 0; i < a->n; i++) {
        double acc = accept_prob(&a->e[i], i);
        out[i] += acc * inv_n;
        if (acc < 1.0) out[a->e[i].alias] += (1.0 - acc) * inv_n;
    }
}

double negs_alias_prob(const negs_alias *a, uint32_t i)
{
    double inv_n = 1.0 / (double)a->n, p = accept_prob(&a->e[i], i) * inv_n;
    for (uint32_t j = 0; j < a->n; j++) {
        double acc = accept_prob(&a->e[j], j);
        if (acc < 1.0 && a->e[j].alias == i) p += (1.0 - acc) * inv_n;
    }
    return p;
}
