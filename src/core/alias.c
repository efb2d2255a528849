/* Vose's alias method in double precision with 32-bit fixed-point thresholds. */
#include <math.h>
#include <stdlib.h>

#include "alias.h"
#include "alloc.h"
#include "errors.h"

/* A column's acceptance probability rounded to the 32-bit threshold grid, as a double (the
 * threshold times 2^-32, exactly): adding 2^20 (whose ulp is 2^-32) rounds prob in [0, 1] to a
 * multiple of 2^-32 as nearbyint(prob 2^32) does (the current rounding mode), and the
 * subtraction is exact. Two additions on the error diffusion's chain of dependent operations,
 * no libm call, no integer round trip. */
static double to_grid(double prob)
{
    double t = (prob + 0x1.0p20) - 0x1.0p20; /* not folded: C without -ffast-math keeps IEEE order */
    if (t >= 1.0 - 0x1.0p-32) return 1.0 - 0x1.0p-32;
    if (t < 0x1.0p-32) return prob > 0.0 ? 0x1.0p-32 : 0.0; /* a positive weight keeps a chance */
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
    return negs_alias_build_checked(a, w, n, total, n_pos, any_pos, NULL);
}

/* Items are small when their scaled weight w scale is below 1, large otherwise: one bit per
 * item (set: large), made in one pass, so that the sweep's cursors find their next item with a
 * bit scan rather than a test per item (data-dependent branches when the weights are not in
 * order). */
static void classify(const double *w, uint32_t n, double scale, uint64_t *bits)
{
    for (uint32_t k = 0; k < n / 64; k++) {
        const double *x = w + (size_t)k * 64;
        uint64_t b = 0;
        for (unsigned j = 0; j < 64; j++) b |= (uint64_t)!(x[j] * scale < 1.0) << j;
        bits[k] = b;
    }
    if (n % 64) {
        uint64_t b = 0;
        for (uint32_t i = n & ~63u; i < n; i++) b |= (uint64_t)!(w[i] * scale < 1.0) << (i & 63);
        bits[n / 64] = b;
    }
}

/* The highest index below i whose bit is `large` (1) or not (0), or -1: both cursors of the
 * sweep only move down. */
static inline int64_t next_below(const uint64_t *bits, int64_t i, int large)
{
    if (--i < 0) return -1;
    uint64_t flip = large ? 0 : ~(uint64_t)0;
    int64_t k = i >> 6;
    uint64_t m = (bits[k] ^ flip) & (~(uint64_t)0 >> (63 - (i & 63)));
    while (!m) {
        if (--k < 0) return -1;
        m = bits[k] ^ flip;
    }
    return k * 64 + 63 - __builtin_clzll(m);
}

/* Vose's construction as a sweep (the pairing of Vose's small and large stacks, filled in item
 * order and popped from the top, is the same: the highest small item left gets the highest
 * large item left, and a large item that falls below 1 is the next small one at once). So two
 * cursors run down the items, reading w in order: no work lists, no scaled copy. */
int negs_alias_build_checked(negs_alias *a, const double *w, uint32_t n, double total,
                             uint32_t n_pos, uint32_t any_pos, negs_alias_entry *spare)
{
    a->n = 0;
    a->e = NULL;
    negs_alias_entry *e = spare ? spare
                                : negs_alloc_aligned(n, sizeof *e, "negs_alias_build: table");
    uint64_t *bits = negs_alloc_array((size_t)n / 64 + 1, sizeof *bits,
                                      "negs_alias_build: item classes");
    if (!e || !bits) {
        negs_free_aligned(e);
        free(bits);
        return NEGS_E_NOMEM;
    }
    double scale = (double)n / total;
    classify(w, n, scale, bits);
    /* s: the small item being placed, ps its scaled weight (what is left of it when it was
     * large); every original small item below si is still to place; l: the large item that
     * fills the columns, pl what is left of it. */
    int64_t si = next_below(bits, n, 0), s = si, l = next_below(bits, n, 1);
    double ps = s >= 0 ? w[s] * scale : 0.0, pl = l >= 0 ? w[l] * scale : 0.0;
    /* Error diffusion: each column's quantisation error is carried into the next column's
     * rounding, so the leftover columns never absorb more than 2^-33 of mass in total. */
    double carried = 0.0;
    while (s >= 0 && l >= 0) {
        double tg = 0.0; /* the threshold 2^-32; a zero weight stays exactly zero */
        if (ps > 0.0 || w[s] > 0.0) { /* p = w scale: w is read only when p underflowed */
            double d = ps - carried; /* clamped to [0, 1] without a libm call */
            double target = d > 0.0 ? (d < 1.0 ? d : 1.0) : 0.0;
            tg = to_grid(target);
            carried += tg - ps;
        }
        e[s].threshold = (uint32_t)(tg * 4294967296.0);
        e[s].alias = (uint32_t)l;
        /* Take from l exactly what column s really hands it after quantisation, so rounding
         * errors never pile up on one item however many columns alias to it. */
        pl -= 1.0 - tg;
        if (pl < 1.0) { /* l is placed next, as a small item; the next large one fills */
            s = l;
            ps = pl;
            l = next_below(bits, l, 1);
            pl = l >= 0 ? w[l] * scale : 0.0;
        } else {
            s = si = next_below(bits, si, 0);
            ps = s >= 0 ? w[s] * scale : 0.0;
        }
    }
    /* What is left has mass 1 up to rounding: always accept it. A zero-weight leftover (only
     * possible through extreme rounding) points at a positive item instead. */
    for (; l >= 0; l = next_below(bits, l, 1)) {
        e[l].threshold = UINT32_MAX;
        e[l].alias = (uint32_t)l;
    }
    if (s >= 0 && s != si) { /* a former large item (positive); si itself is placed */
        e[s].threshold = UINT32_MAX;
        e[s].alias = (uint32_t)s;
        s = next_below(bits, si, 0);
    }
    for (; s >= 0; s = next_below(bits, s, 0)) {
        e[s].threshold = w[s] > 0.0 ? UINT32_MAX : 0;
        e[s].alias = w[s] > 0.0 ? (uint32_t)s : any_pos;
    }
    free(bits);
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
