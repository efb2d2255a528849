/* Selection of k of a row's candidates by score. Every mode is "the k largest keys", with a
 * key per candidate that orders (mode's preference, then earlier position) strictly:
 * - TOP, DNS_MN: the score;  SEMIHARD: (inside the window, score);  AHNS: -|score - target|;
 * - SOFTMAX: score / T + Gumbel noise. The k largest of those are k draws without replacement
 *   with probability proportional to exp(score / T), in the order they would be drawn
 *   (the Gumbel-top-k identity: Vieira 2014; Kool et al., ICML 2019).
 * A repeated id takes part once, at its first position: the race runs on all candidates, and
 * a winner that repeats an earlier id is taken out (key 0) and the race re-run. The k largest
 * of a superset that hold no repeat are the k largest without the repeats, so this is exact. */
#include <math.h>
#include <string.h>

#include "sampler_hard.h"

/* Order-preserving maps of finite floats / doubles to unsigned integers, all above 0. */
static inline uint64_t key_f(float x)
{
    uint32_t b;
    if (x == 0.0f) x = 0.0f; /* -0 ties with +0 */
    memcpy(&b, &x, sizeof b);
    return (b & 0x80000000u) ? (uint32_t)~b : (b | 0x80000000u);
}

static inline uint64_t key_d(double x)
{
    uint64_t b;
    if (x == 0.0) x = 0.0;
    memcpy(&b, &x, sizeof b);
    return (b >> 63) ? ~b : (b | ((uint64_t)1 << 63));
}

int sp_hard_needs_pos(const negs_sampler *h)
{
    return h->hard_mode == NEGS_HARD_SEMIHARD || h->hard_mode == NEGS_HARD_AHNS;
}

/* The m largest keys (0 = out), best first into sel; returns how many (< m if fewer live). */
static uint32_t race(const uint64_t *keys, uint32_t n, uint32_t m, uint32_t *sel)
{
    uint32_t cnt = 0;
    uint64_t worst = 0; /* the m-th key once m are in; an equal later key loses on position */
    for (uint32_t j = 0; j < n; j++) {
        if ((j & 7) == 0 && j + 8 <= n) { /* skip 8 losers with one branch */
            int any = 0;
            for (uint32_t l = 0; l < 8; l++) any |= keys[j + l] > worst;
            if (!any) {
                j += 7;
                continue;
            }
        }
        uint64_t key = keys[j];
        if (key <= worst) continue;
        if (cnt == m) cnt--;
        uint32_t i = cnt++;
        while (i > 0 && keys[sel[i - 1]] < key) {
            sel[i] = sel[i - 1];
            i--;
        }
        sel[i] = j;
        if (cnt == m) worst = keys[sel[m - 1]];
    }
    return cnt;
}

/* 1 if items[p] occurs before position p. */
static inline int repeats(const uint32_t *items, uint32_t p)
{
    uint32_t it = items[p];
    int rep = 0;
    for (uint32_t j = 0; j < p; j++) rep |= items[j] == it;
    return rep;
}

/* Runs the race until no winner repeats an earlier id. */
static uint32_t race_distinct(uint64_t *keys, const uint32_t *items, uint32_t n, uint32_t m,
                              uint32_t *sel)
{
    for (;;) {
        uint32_t cnt = race(keys, n, m, sel), dropped = 0;
        for (uint32_t i = 0; i < cnt; i++)
            if (repeats(items, sel[i])) {
                keys[sel[i]] = 0;
                dropped = 1;
            }
        if (!dropped) return cnt;
    }
}

/* The m largest keys by repeated arg-max (first position on ties), skipping repeats; keys
 * are consumed (set to 0). mx = the largest key. */
static uint32_t top_by_argmax(const negs_kernels *kn, uint32_t *keys, uint32_t mx,
                              const uint32_t *items, uint32_t n, uint32_t m, uint32_t *sel)
{
    uint32_t cnt = 0;
    while (mx) {
        size_t p = kn->find_u32(keys, n, mx);
        keys[p] = 0;
        if (kn->find_u32(items, n, items[p]) == p) { /* its first copy: not a repeat */
            sel[cnt++] = (uint32_t)p;
            if (cnt == m) break;
        }
        mx = kn->max_u32(keys, n);
    }
    return cnt;
}

/* SOFTMAX log q: slot i's pick given the earlier ones, exp(s/T) over what is left of the row's
 * distinct candidates (live[j] = 1). e[j] = exp((s_j - shift) / T), the shift moved to the
 * largest live score when the sum underflows (a cold temperature). */
static double softmax_weights(const float *scores, const uint64_t *live, uint32_t n, double t,
                              double shift, double *e)
{
    double z = 0.0;
    for (uint32_t j = 0; j < n; j++) {
        e[j] = live[j] ? exp(((double)scores[j] - shift) / t) : 0.0;
        z += e[j];
    }
    return z;
}

static void softmax_logq(const float *scores, const uint32_t *items, uint32_t n, float smax,
                         double t, const uint32_t *sel, uint32_t k, uint64_t *live, double *e,
                         float *logq)
{
    for (uint32_t j = 0; j < n; j++) live[j] = !repeats(items, j);
    double shift = smax, z = softmax_weights(scores, live, n, t, shift, e);
    for (uint32_t i = 0; i < k; i++) {
        if (!(z > 1e-250)) {
            shift = -INFINITY;
            for (uint32_t j = 0; j < n; j++)
                if (live[j] && scores[j] > shift) shift = scores[j];
            z = softmax_weights(scores, live, n, t, shift, e);
        }
        uint32_t p = sel[i];
        logq[i] = (float)(((double)scores[p] - shift) / t - log(z));
        live[p] = 0;
        e[p] = 0.0;
        z = 0.0; /* summed again rather than subtracted: no cancellation */
        for (uint32_t j = 0; j < n; j++) z += e[j];
    }
}

int sp_hard_select_row(const negs_sampler *h, sp_hard_part *w, uint64_t seed, uint64_t step,
                       uint64_t row, uint32_t purpose, uint32_t n, const uint32_t *items,
                       const float *scores, float pos, uint32_t k, uint32_t *out, float *logq,
                       sp_sel_info *info)
{
    uint64_t *keys = w->keys;
    uint32_t *sel = w->sel;
    const int mode = h->hard_mode;
    const uint32_t n_items = h->n_items;
    /* bad: some score is NaN or Inf or some id out of range (found again below, rarely) */
    uint32_t bad = 0, top = UINT32_MAX; /* top: how many the TOP path selected */
    float smax = -INFINITY;
    sp_stream rng;
    if (mode == NEGS_HARD_SOFTMAX || mode == NEGS_HARD_DNS_MN)
        sp_stream_init(&rng, h->gen, seed, step, row, purpose,
                       mode == NEGS_HARD_SOFTMAX ? 2 * (uint64_t)n : 2 * (uint64_t)k + 8);
    switch (mode) {
    case NEGS_HARD_SEMIHARD: {
        double hi = pos, lo = (double)pos - h->margin;
        for (uint32_t j = 0; j < n; j++) {
            double x = scores[j];
            bad |= (uint32_t)!isfinite(scores[j]) | (uint32_t)(items[j] >= n_items);
            keys[j] = ((uint64_t)(x < hi && x >= lo) << 32) | key_f(scores[j]);
        }
        break;
    }
    case NEGS_HARD_AHNS: {
        double target = h->ahns_beta * pow((double)pos + h->ahns_alpha, h->ahns_p + 1.0);
        if (!isfinite(target)) {
            info->bad = n;
            return NEGS_E_INVALID;
        }
        for (uint32_t j = 0; j < n; j++) {
            bad |= (uint32_t)!isfinite(scores[j]) | (uint32_t)(items[j] >= n_items);
            keys[j] = key_d(-fabs((double)scores[j] - target));
        }
        break;
    }
    case NEGS_HARD_SOFTMAX:
        for (uint32_t j = 0; j < n; j++) {
            bad |= (uint32_t)!isfinite(scores[j]) | (uint32_t)(items[j] >= n_items);
            smax = scores[j] > smax ? scores[j] : smax;
        }
        for (uint32_t j = 0; j < n && !bad; j++) {
            double u = ((double)(sp_u64(&rng) >> 11) + 0.5) * 0x1.0p-53; /* in (0, 1) */
            keys[j] = key_d(((double)scores[j] - smax) / h->temperature - log(-log(u)));
        }
        break;
    default: { /* TOP, DNS_MN: uint32 keys and repeated arg-max, by the SIMD kernels */
        const negs_kernels *kn = h->hard->kn;
        uint32_t m = mode == NEGS_HARD_DNS_MN ? h->top_m : k;
        uint32_t *ids = mode == NEGS_HARD_TOP ? out : sel;
        if (n <= 64 && kn->top_rows(scores, items, 1, n, n_items, m, ids)) {
            if (mode == NEGS_HARD_TOP) { /* the kernel wrote the ids */
                if (logq) for (uint32_t i = 0; i < k; i++) logq[i] = 0.0f;
            } else { /* ids of the top M in sel: a uniform k-subset, as below */
                for (uint32_t i = 0; i < k; i++) {
                    uint32_t j = i + sp_bounded(&rng, m - i), t = sel[i];
                    out[i] = sel[j];
                    sel[j] = t;
                    if (logq) logq[i] = (float)-log((double)(m - i));
                }
            }
            info->fell = 0;
            return NEGS_OK;
        }
        /* else n > 64, or a bad or short row: the general path finds what it is */
        uint32_t mx = kn->float_keys(scores, n, w->k32);
        bad = !mx || kn->max_u32(items, n) >= n_items;
        if (!bad) top = top_by_argmax(kn, w->k32, mx, items, n,
                                      mode == NEGS_HARD_DNS_MN ? h->top_m : k, sel);
        break;
    }
    }
    if (bad) {
        uint32_t j = 0;
        while (isfinite(scores[j]) && items[j] < n_items) j++;
        info->bad = j;
        return NEGS_E_INVALID;
    }
    uint32_t cnt = top != UINT32_MAX ? top : race_distinct(keys, items, n, k, sel);
    if (cnt < k) {
        info->distinct = cnt;
        return NEGS_E_EXHAUSTED;
    }
    info->fell = mode == NEGS_HARD_SEMIHARD && !(keys[sel[k - 1]] >> 32);
    if (mode == NEGS_HARD_DNS_MN) { /* a uniform k-subset of the top cnt, in draw order */
        for (uint32_t i = 0; i < k; i++) {
            uint32_t j = i + sp_bounded(&rng, cnt - i), t = sel[i];
            sel[i] = sel[j];
            sel[j] = t;
            if (logq) logq[i] = (float)-log((double)(cnt - i));
        }
    } else if (logq && mode == NEGS_HARD_SOFTMAX) {
        softmax_logq(scores, items, n, smax, h->temperature, sel, k, keys, w->e, logq);
    } else if (logq) {
        for (uint32_t i = 0; i < k; i++) logq[i] = 0.0f;
    }
    for (uint32_t i = 0; i < k; i++) out[i] = items[sel[i]];
    return NEGS_OK;
}
