/* negs_synth_negatives: synthetic hard negatives as convex mixes of embedding rows, MoCHi
 * (Kalantidis et al., NeurIPS 2020) and MixGCF's positive mixing (Huang et al., KDD 2021).
 * Every draw comes from a Philox stream keyed by (seed, step, row, purpose) and positioned at
 * the synthesised row, so a synthesised row does not depend on how many others are asked
 * for. docs/losses.md states the contract. */
#include <math.h>
#include <stdint.h>

#include "core/alloc.h"
#include "core/errors.h"
#include "core/rng.h"
#include "negsample.h"

/* Stream purposes (see core/rng.h): pair mixes, anchor mixes, MixGCF's per-row alpha. */
#define SYN_PURPOSE_PAIRS 0x5601u
#define SYN_PURPOSE_ANCHOR 0x5602u
#define SYN_PURPOSE_MIXGCF 0x5603u
/* Words reserved per synthesised row in its stream (it uses at most 3, more only on the
 * rare rejections of a bounded draw). */
#define SYN_WORDS_PER_ROW 16u
/* The row's hard list lives on the stack when it is computed from scores. */
#define SYN_MAX_SCORED 4096u

/* A coefficient (m + 1/2) / 2^23 with m of 32 - shift random bits: in (0, 1) for shift 9,
 * in (0, 1/2) for shift 10. It and 1 - it are exact in float, and never 0 or 1. */
static float syn_coef(negs_rng *r, unsigned shift)
{
    return (float)(((double)(negs_rng_u32(r) >> shift) + 0.5) * 0x1p-23);
}

/* a is less hard than b: a lower score, or an equal score at a later slot. */
static int syn_worse(const float *s, uint32_t a, uint32_t b)
{
    return s[a] < s[b] || (s[a] == s[b] && a > b);
}

static void syn_sift(const float *s, uint32_t *h, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= n) return;
        if (c + 1 < n && syn_worse(s, h[c + 1], h[c])) c++;
        if (!syn_worse(s, h[c], h[i])) return;
        uint32_t t = h[c];
        h[c] = h[i];
        h[i] = t;
        i = c;
    }
}

/* h[0..nh) = the slots of the nh highest of the k scores, hardest first (ties: lower slot
 * first): a heap of the nh best seen (its root the least hard), then heap-sorted. */
static void syn_top(const float *s, uint32_t k, uint32_t nh, uint32_t *h)
{
    for (uint32_t j = 0; j < nh; j++) h[j] = j;
    for (uint32_t i = nh / 2; i-- > 0;) syn_sift(s, h, nh, i);
    for (uint32_t j = nh; j < k; j++)
        if (syn_worse(s, h[0], j)) {
            h[0] = j;
            syn_sift(s, h, nh, 0);
        }
    for (uint32_t end = nh; end-- > 1;) {
        uint32_t t = h[0];
        h[0] = h[end];
        h[end] = t;
        syn_sift(s, h, end, 0);
    }
}

struct syn_call {
    const char *fn;
    size_t dim;
    uint32_t k;
    const float *anchor, *neg;
    size_t neg_stride;
    int normalize;
    float *out;
    uint32_t *out_src;
    float *out_coef, *out_inv_norm;
};

/* out row o = ca * a + (1 - ca) * b, then L2-normalised when asked; records its sources. */
static int syn_write(const struct syn_call *c, size_t row, size_t o, const float *a,
                     uint32_t src_a, const float *b, uint32_t src_b, float ca)
{
    const float cb = 1.0f - ca; /* exact: see syn_coef */
    float *h = c->out + o * c->dim;
    double ss = 0.0;
    for (size_t d = 0; d < c->dim; d++) {
        h[d] = (float)((double)ca * a[d] + (double)cb * b[d]);
        ss += (double)h[d] * (double)h[d];
    }
    float inv = 1.0f;
    if (c->normalize) {
        const double nr = sqrt(ss);
        if (!(nr >= 1e-30) || !isfinite(nr))
            return negs_fail(NEGS_E_INVALID,
                             "%s: row %zu: the mix %g * source %u + %g * source %u has L2 norm "
                             "%g, which cannot be normalised",
                             c->fn, row, (double)ca, (unsigned)src_a, (double)cb,
                             (unsigned)src_b, nr);
        for (size_t d = 0; d < c->dim; d++) h[d] = (float)((double)h[d] / nr);
        inv = (float)(1.0 / nr);
    }
    if (c->out_src) c->out_src[2 * o] = src_a, c->out_src[2 * o + 1] = src_b;
    if (c->out_coef) c->out_coef[o] = ca;
    if (c->out_inv_norm) c->out_inv_norm[o] = inv;
    return NEGS_OK;
}

static const float *syn_neg(const struct syn_call *c, size_t row, uint32_t slot)
{
    return c->neg + (row * c->neg_stride + slot) * c->dim;
}

/* Every value the call reads is finite; the scores and indices are in range. */
static int syn_check_inputs(const struct syn_call *c, size_t n, const float *neg_scores,
                            const uint32_t *hard_idx, uint32_t n_hard)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t d = 0; d < c->dim; d++)
            if (!isfinite(c->anchor[i * c->dim + d]))
                return negs_fail(NEGS_E_INVALID, "%s: anchor[%zu] (row %zu) = %g is not finite",
                                 c->fn, i * c->dim + d, i, (double)c->anchor[i * c->dim + d]);
        if (i == 0 || c->neg_stride != 0)
            for (uint32_t j = 0; j < c->k; j++) {
                const float *v = syn_neg(c, i, j);
                for (size_t d = 0; d < c->dim; d++)
                    if (!isfinite(v[d]))
                        return negs_fail(NEGS_E_INVALID,
                                         "%s: negative %u of row %zu holds %g at dimension %zu",
                                         c->fn, (unsigned)j, i, (double)v[d], d);
            }
        for (uint32_t j = 0; neg_scores && j < c->k; j++)
            if (isnan(neg_scores[i * c->k + j]))
                return negs_fail(NEGS_E_INVALID, "%s: neg_scores[%zu] (row %zu, slot %u) is NaN",
                                 c->fn, i * c->k + j, i, (unsigned)j);
        for (uint32_t r = 0; hard_idx && r < n_hard; r++)
            if (hard_idx[i * n_hard + r] >= c->k)
                return negs_fail(NEGS_E_INVALID,
                                 "%s: hard_idx[%zu] (row %zu) = %u is not below k = %u", c->fn,
                                 i * n_hard + r, i, (unsigned)hard_idx[i * n_hard + r],
                                 (unsigned)c->k);
    }
    return NEGS_OK;
}

static int syn_check_args(int method, size_t n, size_t dim, uint32_t k, const float *anchor,
                          const float *neg, size_t neg_stride, const float *neg_scores,
                          const uint32_t *hard_idx, uint32_t n_hard, uint32_t s_pairs,
                          uint32_t s_anchor, const float *out, const char *fn)
{
    int st = negs_check_ptr(anchor, fn, "anchor");
    if (!st) st = negs_check_ptr(neg, fn, "neg");
    if (!st) st = negs_check_ptr(out, fn, "out");
    if (st) return st;
    if (n == 0) return negs_fail(NEGS_E_INVALID, "%s: n = 0 rows", fn);
    if (dim == 0) return negs_fail(NEGS_E_INVALID, "%s: dim = 0", fn);
    if (k == 0) return negs_fail(NEGS_E_INVALID, "%s: k = 0 negatives per row", fn);
    if (method == NEGS_SYNTH_MIXGCF) {
        if (n_hard || s_pairs || s_anchor || neg_scores || hard_idx)
            return negs_fail(NEGS_E_INVALID,
                             "%s: NEGS_SYNTH_MIXGCF mixes every negative with the positive: "
                             "n_hard, s_pairs, s_anchor must be 0 and neg_scores, hard_idx NULL",
                             fn);
    } else if (method == NEGS_SYNTH_MOCHI) {
        if (n_hard == 0 || n_hard > k)
            return negs_fail(NEGS_E_INVALID, "%s: n_hard = %u must be in 1..k = %u", fn,
                             (unsigned)n_hard, (unsigned)k);
        if (s_pairs && n_hard < 2)
            return negs_fail(NEGS_E_INVALID,
                             "%s: s_pairs = %u mixes of two distinct hard negatives need "
                             "n_hard >= 2 (it is %u)",
                             fn, (unsigned)s_pairs, (unsigned)n_hard);
        if ((uint64_t)s_pairs + s_anchor == 0)
            return negs_fail(NEGS_E_INVALID, "%s: s_pairs + s_anchor = 0: nothing to synthesise",
                             fn);
        if (neg_scores && hard_idx)
            return negs_fail(NEGS_E_INVALID, "%s: give neg_scores or hard_idx, not both", fn);
        if (neg_scores && n_hard > SYN_MAX_SCORED)
            return negs_fail(NEGS_E_INVALID,
                             "%s: n_hard = %u exceeds %u when the hardest are found from "
                             "neg_scores; pass their slots in hard_idx instead",
                             fn, (unsigned)n_hard, SYN_MAX_SCORED);
    } else {
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: method = %d is not a NEGS_SYNTH_* value", fn,
                         method);
    }
    /* the sizes addressed: anchors, the negatives' extent, the outputs */
    size_t x, rows;
    const uint64_t m = method == NEGS_SYNTH_MIXGCF ? k : (uint64_t)s_pairs + s_anchor;
    st = negs_size_mul(n, dim, &x, "negs_synth_negatives: n * dim");
    if (!st) st = negs_size_mul(n - 1, neg_stride, &rows, "negs_synth_negatives: n * neg_stride");
    if (!st) st = negs_size_add(rows, k, &rows, "negs_synth_negatives: negative rows");
    if (!st) st = negs_size_mul(rows, dim, &x, "negs_synth_negatives: negative rows * dim");
    if (!st && m > SIZE_MAX) st = negs_fail(NEGS_E_INVALID, "%s: too many outputs", fn);
    if (!st) st = negs_size_mul(n, (size_t)m, &x, "negs_synth_negatives: n * rows out");
    if (!st) st = negs_size_mul(x, 2 * dim, &x, "negs_synth_negatives: output size");
    return st;
}

NEGS_API int negs_synth_negatives(int method, uint64_t seed, uint64_t step, size_t n,
                                  size_t dim, uint32_t k, const float *anchor, const float *neg,
                                  size_t neg_stride, const float *neg_scores,
                                  const uint32_t *hard_idx, uint32_t n_hard, uint32_t s_pairs,
                                  uint32_t s_anchor, int normalize, float *out,
                                  uint32_t *out_src, float *out_coef, float *out_inv_norm)
{
    static const char fn[] = "negs_synth_negatives";
    int st = syn_check_args(method, n, dim, k, anchor, neg, neg_stride, neg_scores, hard_idx,
                            n_hard, s_pairs, s_anchor, out, fn);
    if (st) return st;
    const struct syn_call c = {fn,        dim, k,   anchor,  neg,         neg_stride,
                               normalize, out, out_src, out_coef, out_inv_norm};
    st = syn_check_inputs(&c, n, neg_scores, hard_idx, n_hard);
    if (st) return st;

    uint32_t scored[SYN_MAX_SCORED];
    size_t o = 0; /* the next output row */
    for (size_t i = 0; i < n; i++) {
        negs_rng r;
        if (method == NEGS_SYNTH_MIXGCF) {
            negs_rng_init(&r, seed, step, i, SYN_PURPOSE_MIXGCF);
            const float alpha = syn_coef(&r, 9);
            for (uint32_t j = 0; j < k; j++, o++) {
                st = syn_write(&c, i, o, anchor + i * dim, NEGS_SYNTH_ANCHOR, syn_neg(&c, i, j),
                               j, alpha);
                if (st) return st;
            }
            continue;
        }
        const uint32_t *h = hard_idx ? hard_idx + i * n_hard : scored;
        if (neg_scores) syn_top(neg_scores + i * k, k, n_hard, scored);
        else if (!hard_idx)
            for (uint32_t j = 0; j < n_hard; j++) scored[j] = j;
        /* s_pairs mixes alpha n_a + (1 - alpha) n_b of two distinct hard negatives */
        negs_rng_init(&r, seed, step, i, SYN_PURPOSE_PAIRS);
        for (uint32_t q = 0; q < s_pairs; q++, o++) {
            negs_rng_seek(&r, (uint64_t)q * SYN_WORDS_PER_ROW);
            const uint32_t a = negs_rng_bounded(&r, n_hard);
            uint32_t b = negs_rng_bounded(&r, n_hard - 1);
            b += b >= a;
            const float alpha = syn_coef(&r, 9);
            st = syn_write(&c, i, o, syn_neg(&c, i, h[a]), h[a], syn_neg(&c, i, h[b]), h[b],
                           alpha);
            if (st) return st;
        }
        /* s_anchor mixes beta q + (1 - beta) n_j, beta in (0, 1/2): the query stays the
         * smaller part, so the mix is harder than n_j without becoming a positive */
        negs_rng_init(&r, seed, step, i, SYN_PURPOSE_ANCHOR);
        for (uint32_t q = 0; q < s_anchor; q++, o++) {
            negs_rng_seek(&r, (uint64_t)q * SYN_WORDS_PER_ROW);
            const uint32_t j = negs_rng_bounded(&r, n_hard);
            const float beta = syn_coef(&r, 10);
            st = syn_write(&c, i, o, anchor + i * dim, NEGS_SYNTH_ANCHOR, syn_neg(&c, i, h[j]),
                           h[j], beta);
            if (st) return st;
        }
    }
    return NEGS_OK;
}
