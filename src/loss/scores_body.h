/* The score-level loss kernel, written once in plain C and included by scores_scalar.c,
 * scores_avx2.c and scores_avx512.c, which compile it for their instruction set and define
 * NEGS_SC_PART_FN (the exported name). Loops are branch-free over flat arrays so that the
 * compiler vectorises them. Every variant performs the same operations in the same order (ISO
 * C mode: no reassociation, no implicit contraction); the vector ones fuse the polynomial
 * multiply-adds (SC_MA), so they differ from the portable one by rounding only. All
 * reductions use a fixed accumulation pattern that depends on n and k alone, so results do
 * not depend on the thread count.
 *
 * Logits: BCE uses z = neg / T - logq and a = pos / T. The pairwise and listwise kinds use the
 * negative's logit minus the positive's, z = (neg - pos) / T - logq, with the positive at 0:
 * the same losses (softmax is shift-invariant), but without the cancellation of two large
 * logits at small temperatures. Masked slots get z = -inf, which every element function maps
 * to exactly 0 loss and 0 gradient. */
#ifndef NEGS_SC_PART_FN
#error "define NEGS_SC_PART_FN before including scores_body.h"
#endif

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "negsample.h"
#include "loss/scores.h"

/* a * b + c: fused where the instruction set has FMA (NEGS_SC_FMA), else two roundings. The
 * kernels then differ from the portable one by rounding only (tested to 1e-6 relative). */
#ifdef NEGS_SC_FMA
#define SC_MA(a, b, c) fmaf((a), (b), (c))
#else
#define SC_MA(a, b, c) ((a) * (b) + (c))
#endif

static const float sc_zero_f[NEGS_SC_TILE];
static const uint8_t sc_zero_m[NEGS_SC_TILE];

struct sc_scratch {
    float z[NEGS_SC_TILE];  /* logits */
    float e[NEGS_SC_TILE];  /* per-element loss terms or exponentials */
    float g[NEGS_SC_TILE];  /* gradients when d_neg is NULL */
    float p[NEGS_SC_TILE];  /* positives repeated along short rows */
    float ra[NEGS_SC_TILE]; /* per-row values */
    float rb[NEGS_SC_TILE];
    float rc[NEGS_SC_TILE];
    float rd[NEGS_SC_TILE];
    double s[NEGS_SC_TILE];    /* per-row softmax denominators */
    double sneg[NEGS_SC_TILE]; /* their negatives' part */
};

/* ---------------------------------------------------------------- element functions */

static inline float sc_from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static inline uint32_t sc_to_bits(float f)
{
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    return b;
}

/* e^x for x <= 0: Cody-Waite reduction by ln 2 and a degree-6 polynomial (Cephes' expf
 * coefficients, about 1 ulp). Exactly 1 at 0 and exactly 0 below -87.3 (and at -inf). */
static inline float sc_exp_neg(float x)
{
    float xc = x < -87.3f ? -87.3f : x;
    float fn = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round to int */
    float r = SC_MA(fn, -0.693359375f, xc);
    r = SC_MA(fn, 2.12194440e-4f, r);
    float p = 1.9875691500e-4f;
    p = SC_MA(p, r, 1.3981999507e-3f);
    p = SC_MA(p, r, 8.3334519073e-3f);
    p = SC_MA(p, r, 4.1665795894e-2f);
    p = SC_MA(p, r, 1.6666665459e-1f);
    p = SC_MA(p, r, 5.0000001201e-1f);
    p = SC_MA(p, r * r, r) + 1.0f;
    float scale = sc_from_bits((uint32_t)((int32_t)fn + 127) << 23); /* 2^fn, fn in [-126, 0] */
    float y = p * scale;
    return x < -87.3f ? 0.0f : y;
}

/* log(1 + u) for u in [0, 1]: u * P(u), P a degree-9 Chebyshev fit of log1p(u) / u
 * (relative error 1.5e-8 before rounding), so tiny u give u. */
static inline float sc_log1p_01(float u)
{
    float p = -3.1760570127516985e-3f;
    p = SC_MA(p, u, 1.9542526453733444e-2f);
    p = SC_MA(p, u, -5.6373611092567444e-2f);
    p = SC_MA(p, u, 1.0543623566627502e-1f);
    p = SC_MA(p, u, -1.5269666910171510e-1f);
    p = SC_MA(p, u, 1.9663274288177490e-1f);
    p = SC_MA(p, u, -2.4951615929603577e-1f);
    p = SC_MA(p, u, 3.3329710364341736e-1f);
    p = SC_MA(p, u, -4.9999892711639404e-1f);
    p = SC_MA(p, u, 1.0f);
    return u * p;
}

/* log(w) for w >= 1 finite (Cephes' logf polynomial on the mantissa in [sqrt(1/2), sqrt(2))). */
static inline float sc_log_ge1(float w)
{
    uint32_t b = sc_to_bits(w);
    int32_t ex = (int32_t)(b >> 23) - 127;
    float m = sc_from_bits((b & 0x007fffffu) | 0x3f800000u);
    int big = m > 1.41421356f;
    m = big ? m * 0.5f : m;
    float fe = (float)(ex + big);
    float f = m - 1.0f;
    float z = f * f;
    float y = 7.0376836292e-2f;
    y = y * f - 1.1514610310e-1f;
    y = y * f + 1.1676998740e-1f;
    y = y * f - 1.2420140846e-1f;
    y = y * f + 1.4249322787e-1f;
    y = y * f - 1.6668057665e-1f;
    y = y * f + 2.0000714765e-1f;
    y = y * f - 2.4999993993e-1f;
    y = y * f + 3.3333331174e-1f;
    y = y * f * z;
    y = y + fe * -2.12194440e-4f;
    y = y - 0.5f * z;
    return (f + y) + fe * 0.693359375f;
}

/* log(1 + u) for u >= 0; the second term restores what rounding 1 + u lost, so tiny u
 * give u. rw is 1 / (1 + u), passed in because callers need it anyway. */
static inline float sc_log1p_w(float u, float w, float rw)
{
    return sc_log_ge1(w) + (u - (w - 1.0f)) * rw;
}

/* ---------------------------------------------------------------- flat loops */

/* Sum in double with a fixed pattern of sixteen partial sums (several independent vector
 * chains once vectorised); short arrays are summed left to right. */
static double sc_sum(size_t n, const float *x)
{
    if (n < 16) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += x[i];
        return s;
    }
    double a[16] = {0};
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (size_t j = 0; j < 16; j++) a[j] += x[i + j];
    for (; i < n; i++) a[0] += x[i];
    for (size_t j = 0; j < 8; j++) a[j] += a[j + 8];
    for (size_t j = 0; j < 4; j++) a[j] += a[j + 4];
    return (a[0] + a[2]) + (a[1] + a[3]);
}

/* max(m, x[0..n)); -inf entries never win. Max is exact, so the order does not matter. */
static float sc_max(size_t n, const float *x, float m)
{
    float m0 = m, m1 = m, m2 = m, m3 = m;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        m0 = x[i] > m0 ? x[i] : m0;
        m1 = x[i + 1] > m1 ? x[i + 1] : m1;
        m2 = x[i + 2] > m2 ? x[i + 2] : m2;
        m3 = x[i + 3] > m3 ? x[i + 3] : m3;
    }
    for (; i < n; i++) m0 = x[i] > m0 ? x[i] : m0;
    m0 = m1 > m0 ? m1 : m0;
    m2 = m3 > m2 ? m3 : m2;
    return m2 > m0 ? m2 : m0;
}

/* Number of unmasked slots among n. */
static uint32_t sc_unmasked(size_t n, const uint8_t *mk)
{
    uint32_t c = 0;
    for (size_t i = 0; i < n; i++) c += mk[i] == 0;
    return c;
}

/* Sum of the unmasked (finite) logits, in double. */
static double sc_sum_unmasked(size_t n, const float *z)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += z[i] > -INFINITY ? (double)z[i] : 0.0;
    return s;
}

/* Nonzero if some x[i] * inv_t is NaN or infinite. */
static int sc_bad_scaled(size_t n, const float *x, float inv_t)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) bad |= !(fabsf(x[i] * inv_t) <= FLT_MAX);
    return bad;
}

/* z = neg / T - logq, masked -inf; nonzero if an unmasked z is not finite. */
static int sc_logits_abs(size_t n, const float *neg, const float *lq, const uint8_t *mk,
                         float inv_t, float *z)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float v = neg[i] * inv_t - lq[i];
        bad |= (mk[i] == 0) & !(fabsf(v) <= FLT_MAX);
        z[i] = mk[i] ? -INFINITY : v;
    }
    return bad;
}

/* The per-row loops below come in copies for k = 2..8 with k a constant, so that the compiler
 * vectorises across rows (a vector then holds several short rows); the arithmetic and the
 * order of every sum are the same in all copies. */

/* P[r * K + j] = pos[r]: rows of K copies. */
#define SC_EXPAND_K(K)                                                                   \
    static void sc_expand_##K(size_t rows, const float *x, float *out)                  \
    {                                                                                    \
        for (size_t r = 0; r < rows; r++)                                                \
            for (size_t j = 0; j < (K); j++) out[r * (K) + j] = x[r];                    \
    }
SC_EXPAND_K(2)
SC_EXPAND_K(3)
SC_EXPAND_K(4)
SC_EXPAND_K(5)
SC_EXPAND_K(6)
SC_EXPAND_K(7)
SC_EXPAND_K(8)

/* z = (neg - p) / T - logq element by element, masked -inf. */
static int sc_logits_pair_flat(size_t n, const float *p, const float *neg, const float *lq,
                               const uint8_t *mk, float inv_t, float *z)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        float v = (neg[i] - p[i]) * inv_t - lq[i];
        bad |= (mk[i] == 0) & !(fabsf(v) <= FLT_MAX);
        z[i] = mk[i] ? -INFINITY : v;
    }
    return bad;
}

/* z = (neg - pos_row) / T - logq for `rows` rows of k slots, masked -inf; nonzero if an
 * unmasked z is not finite. Short rows go through pbuf (rows * k floats) holding the
 * positives repeated, so that the loop is flat. */
static int sc_logits_pair(size_t rows, size_t k, const float *pos, const float *neg,
                          const float *lq, const uint8_t *mk, float inv_t, float *z,
                          float *pbuf)
{
    switch (k) {
    case 1: return sc_logits_pair_flat(rows, pos, neg, lq, mk, inv_t, z);
    case 2: sc_expand_2(rows, pos, pbuf); break;
    case 3: sc_expand_3(rows, pos, pbuf); break;
    case 4: sc_expand_4(rows, pos, pbuf); break;
    case 5: sc_expand_5(rows, pos, pbuf); break;
    case 6: sc_expand_6(rows, pos, pbuf); break;
    case 7: sc_expand_7(rows, pos, pbuf); break;
    case 8: sc_expand_8(rows, pos, pbuf); break;
    default: {
        int bad = 0;
        for (size_t r = 0; r < rows; r++) {
            const float p = pos[r];
            const size_t o = r * k;
            for (size_t j = 0; j < k; j++) {
                float v = (neg[o + j] - p) * inv_t - lq[o + j];
                bad |= (mk[o + j] == 0) & !(fabsf(v) <= FLT_MAX);
                z[o + j] = mk[o + j] ? -INFINITY : v;
            }
        }
        return bad;
    }
    }
    return sc_logits_pair_flat(rows * k, pbuf, neg, lq, mk, inv_t, z);
}

/* out[r] = scale * sum of row r (k slots). Rows of fewer than 8 slots are summed left to
 * right in float (at most 7 roundings), longer ones by sc_sum in double. */
#define SC_ROWSUM_K(K)                                                                   \
    static void sc_row_sums_##K(size_t rows, const float *x, float scale, float *out)   \
    {                                                                                    \
        for (size_t r = 0; r < rows; r++) {                                              \
            float a = x[r * (K)];                                                        \
            for (size_t j = 1; j < (K); j++) a += x[r * (K) + j];                        \
            out[r] = a * scale;                                                          \
        }                                                                                \
    }
SC_ROWSUM_K(1)
SC_ROWSUM_K(2)
SC_ROWSUM_K(3)
SC_ROWSUM_K(4)
SC_ROWSUM_K(5)
SC_ROWSUM_K(6)
SC_ROWSUM_K(7)

static double sc_sum(size_t n, const float *x);

static void sc_row_sums(size_t rows, size_t k, const float *x, float scale, float *out)
{
    switch (k) {
    case 1: sc_row_sums_1(rows, x, scale, out); return;
    case 2: sc_row_sums_2(rows, x, scale, out); return;
    case 3: sc_row_sums_3(rows, x, scale, out); return;
    case 4: sc_row_sums_4(rows, x, scale, out); return;
    case 5: sc_row_sums_5(rows, x, scale, out); return;
    case 6: sc_row_sums_6(rows, x, scale, out); return;
    case 7: sc_row_sums_7(rows, x, scale, out); return;
    default:
        for (size_t r = 0; r < rows; r++) out[r] = (float)(sc_sum(k, x + r * k) * scale);
    }
}

/* softplus(z) = -log sigmoid(-z) = max(z, 0) + log1p(e^-|z|), and sigmoid(z), stably. */
static inline float sc_softplus1(float z, float *sig)
{
    float u = sc_exp_neg(-fabsf(z));
    float wp = 1.0f + u, rw = 1.0f / wp;
    float pz = z > 0.0f ? z : 0.0f;
    float ur = u * rw;
    *sig = z >= 0.0f ? rw : ur;
    return pz + sc_log1p_01(u);
}

/* l = softplus(z); g = sigmoid(z) * w (g may be NULL). */
static void sc_softplus(size_t n, const float *z, float *l, float *g, float w)
{
    if (g) {
        for (size_t i = 0; i < n; i++) {
            float sg, sp = sc_softplus1(z[i], &sg);
            l[i] = sp;
            g[i] = sg * w;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float sg, sp = sc_softplus1(z[i], &sg);
            l[i] = sp;
        }
    }
}

/* h = margin + z; l = max(h, 0); g = [h > 0] * w (g may be NULL). */
static void sc_hinge(size_t n, const float *z, float margin, float *l, float *g, float w)
{
    if (g) {
        for (size_t i = 0; i < n; i++) {
            float h = margin + z[i];
            l[i] = h > 0.0f ? h : 0.0f;
            g[i] = h > 0.0f ? w : 0.0f;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            float h = margin + z[i];
            l[i] = h > 0.0f ? h : 0.0f;
        }
    }
}

/* e = exp(z - m_row) for rows of k slots (z <= m_row). */
static void sc_exp_rows(size_t rows, size_t k, const float *z, const float *m, float *e)
{
    if (k == 1) {
        for (size_t i = 0; i < rows; i++) e[i] = sc_exp_neg(z[i] - m[i]);
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        const float mr = m[r];
        const size_t o = r * k;
        for (size_t j = 0; j < k; j++) e[o + j] = sc_exp_neg(z[o + j] - mr);
    }
}

/* x = exp(x) for x <= 0. */
static void sc_exp_inplace(size_t n, float *x)
{
    for (size_t i = 0; i < n; i++) x[i] = sc_exp_neg(x[i]);
}

/* y = log(1 + u) for u >= 0. */
static void sc_log1p_inplace(size_t n, float *u)
{
    for (size_t i = 0; i < n; i++) {
        float w = 1.0f + u[i];
        u[i] = sc_log1p_w(u[i], w, 1.0f / w);
    }
}

/* out = x * w_row, or (listwise) out = unmasked ? x * w_row - t_row : 0. */
static void sc_scale_rows(size_t rows, size_t k, const float *x, const float *w, float *out)
{
    if (k == 1) {
        for (size_t i = 0; i < rows; i++) out[i] = x[i] * w[i];
        return;
    }
    for (size_t r = 0; r < rows; r++) {
        const float wr = w[r];
        const size_t o = r * k;
        for (size_t j = 0; j < k; j++) out[o + j] = x[o + j] * wr;
    }
}

static void sc_listnet_rows(size_t rows, size_t k, const float *x, const float *z,
                            const float *w, const float *t, float *out)
{
    for (size_t r = 0; r < rows; r++) {
        const float wr = w[r], tr = t[r];
        const size_t o = r * k;
        for (size_t j = 0; j < k; j++)
            out[o + j] = z[o + j] > -INFINITY ? x[o + j] * wr - tr : 0.0f;
    }
}

/* ---------------------------------------------------------------- tiles of whole rows */

/* Rows [r0, r0 + R) with R * k <= NEGS_SC_TILE. Adds the sum of row losses to *acc (or
 * stores them with NEGS_REDUCE_NONE). Returns nonzero, having written nothing that
 * matters, if an input of the tile is not finite. */
static int sc_tile(const struct negs_scores_job *jb, size_t r0, size_t R, struct sc_scratch *s,
                   double *acc)
{
    const size_t k = jb->k, E = R * k, off = r0 * k;
    const float *pos = jb->pos + r0, *neg = jb->neg + off;
    const float *lq = jb->logq ? jb->logq + off : sc_zero_f;
    const uint8_t *mk = jb->mask ? jb->mask + off : sc_zero_m;
    float *dneg = jb->d_neg ? jb->d_neg + off : NULL;
    float *dpos = jb->d_pos ? jb->d_pos + r0 : NULL;
    float *lrow = jb->loss_rows ? jb->loss_rows + r0 : NULL;
    const float gs = jb->gscale, inv_t = jb->inv_t;

    if (sc_bad_scaled(R, pos, inv_t)) return 1;

    if (jb->kind == NEGS_LOSS_BCE) {
        if (sc_logits_abs(E, neg, lq, mk, inv_t, s->z)) return 1;
        sc_softplus(E, s->z, s->e, dneg, gs);
        for (size_t r = 0; r < R; r++) s->ra[r] = -(pos[r] * inv_t);
        sc_softplus(R, s->ra, s->rb, dpos, -gs); /* -log sigmoid(a), d = -sigmoid(-a) */
        if (lrow) {
            for (size_t r = 0; r < R; r++)
                lrow[r] = (float)((double)s->rb[r] + sc_sum(k, s->e + r * k));
        } else {
            *acc += sc_sum(R, s->rb) + sc_sum(E, s->e);
        }
        return 0;
    }

    if (sc_logits_pair(R, k, pos, neg, lq, mk, inv_t, s->z, s->p)) return 1;

    if (jb->kind == NEGS_LOSS_BPR || jb->kind == NEGS_LOSS_HINGE) {
        float *g = dneg ? dneg : (dpos ? s->g : NULL);
        const int hinge = jb->kind == NEGS_LOSS_HINGE;
        if (!jb->mask) { /* every row averages over k */
            const float w = (float)((double)gs / (double)k);
            if (hinge) sc_hinge(E, s->z, jb->margin, s->e, g, w);
            else sc_softplus(E, s->z, s->e, g, w);
            if (dpos) {
                if (k == 1) for (size_t r = 0; r < R; r++) dpos[r] = -g[r];
                else sc_row_sums(R, k, g, -1.0f, dpos);
            }
            if (lrow) {
                for (size_t r = 0; r < R; r++)
                    lrow[r] = (float)(sc_sum(k, s->e + r * k) / (double)k);
            } else {
                *acc += sc_sum(E, s->e) / (double)k;
            }
            return 0;
        }
        if (hinge) sc_hinge(E, s->z, jb->margin, s->e, g, 1.0f);
        else sc_softplus(E, s->z, s->e, g, 1.0f);
        double tot = 0;
        for (size_t r = 0; r < R; r++) {
            uint32_t c = sc_unmasked(k, mk + r * k);
            s->ra[r] = c ? (float)((double)gs / (double)c) : 0.0f;
            double lr = c ? sc_sum(k, s->e + r * k) / (double)c : 0.0;
            if (lrow) lrow[r] = (float)lr;
            else tot += lr;
        }
        if (g) {
            sc_scale_rows(R, k, g, s->ra, g);
            if (dpos)
                sc_row_sums(R, k, g, -1.0f, dpos);
        }
        *acc += tot;
        return 0;
    }

    /* SOFTMAX and LISTNET: the positive's logit is 0, m = max(0, z), S = e^-m + sum e^(z-m),
     * log-sum-exp = m + log(S) = m + log1p(S - 1), and S - 1 is exact when m = 0. */
    float *m = s->ra, *lg = s->rb, *w = s->rc, *t = s->rd;
    const int listnet = jb->kind == NEGS_LOSS_LISTNET;
    for (size_t r = 0; r < R; r++) m[r] = sc_max(k, s->z + r * k, 0.0f);
    sc_exp_rows(R, k, s->z, m, s->e);
    for (size_t r = 0; r < R; r++) lg[r] = -m[r];
    sc_exp_inplace(R, lg); /* e^-m: the positive's term */
    for (size_t r = 0; r < R; r++) {
        double sneg = sc_sum(k, s->e + r * k), S = (double)lg[r] + sneg;
        s->sneg[r] = sneg;
        s->s[r] = S;
        lg[r] = (float)(S - 1.0);
        w[r] = (float)((double)gs / S);
    }
    sc_log1p_inplace(R, lg);
    double tot = 0;
    for (size_t r = 0; r < R; r++) {
        double lr = (double)m[r] + (double)lg[r], p = s->sneg[r] / s->s[r]; /* p: negatives' mass */
        if (listnet) {
            /* targets softmax([1, 0, ...]) over the c unmasked slots: e/(e+c), 1/(e+c) */
            uint32_t c = jb->mask ? sc_unmasked(k, mk + r * k) : (uint32_t)k;
            double t1 = 1.0 / (2.718281828459045 + (double)c);
            lr -= t1 * sc_sum_unmasked(k, s->z + r * k);
            p -= (double)c * t1;
            t[r] = (float)(t1 * (double)gs);
        }
        if (dpos) dpos[r] = (float)(-p * (double)gs);
        if (lrow) lrow[r] = (float)lr;
        else tot += lr;
    }
    *acc += tot;
    if (dneg) {
        if (listnet) sc_listnet_rows(R, k, s->e, s->z, w, t, dneg);
        else sc_scale_rows(R, k, s->e, w, dneg);
    }
    return 0;
}

/* ---------------------------------------------------------------- rows longer than a tile */

/* Logits of slots [j0, j0 + len) of row i; nonzero if an unmasked one is not finite. */
static int sc_segment(const struct negs_scores_job *jb, size_t i, size_t j0, size_t len, float *z,
                      float *pbuf)
{
    const size_t o = i * (size_t)jb->k + j0;
    const float *lq = jb->logq ? jb->logq + o : sc_zero_f;
    const uint8_t *mk = jb->mask ? jb->mask + o : sc_zero_m;
    if (jb->kind == NEGS_LOSS_BCE) return sc_logits_abs(len, jb->neg + o, lq, mk, jb->inv_t, z);
    return sc_logits_pair(1, len, jb->pos + i, jb->neg + o, lq, mk, jb->inv_t, z, pbuf);
}

#define SC_SEGMENTS(j0, len, k)                                                           \
    for (size_t j0 = 0, len = (k) < NEGS_SC_TILE ? (k) : NEGS_SC_TILE; j0 < (k);           \
         j0 += NEGS_SC_TILE, len = (k) - j0 < NEGS_SC_TILE ? (k) - j0 : NEGS_SC_TILE)

/* Row i when k > NEGS_SC_TILE, walked in segments: one pass for validity and the row's
 * statistics, then one for the loss (and, for the listwise kinds, one for the gradients). */
static int sc_long_row(const struct negs_scores_job *jb, size_t i, struct sc_scratch *s,
                       double *loss)
{
    const size_t k = jb->k, base = i * k;
    const float inv_t = jb->inv_t, gs = jb->gscale;
    float *dpos = jb->d_pos ? jb->d_pos + i : NULL;
    if (sc_bad_scaled(1, jb->pos + i, inv_t)) return 1;

    uint32_t c = 0;
    float m = 0.0f;
    double zs = 0.0;
    SC_SEGMENTS(j0, len, k) {
        if (sc_segment(jb, i, j0, len, s->z, s->p)) return 1;
        c += jb->mask ? sc_unmasked(len, jb->mask + base + j0) : (uint32_t)len;
        m = sc_max(len, s->z, m);
        if (jb->kind == NEGS_LOSS_LISTNET) zs += sc_sum_unmasked(len, s->z);
    }

    if (jb->kind == NEGS_LOSS_BCE) {
        s->ra[0] = -(jb->pos[i] * inv_t);
        sc_softplus(1, s->ra, s->rb, dpos, -gs);
        double l = s->rb[0];
        SC_SEGMENTS(j0, len, k) {
            sc_segment(jb, i, j0, len, s->z, s->p);
            sc_softplus(len, s->z, s->e, jb->d_neg ? jb->d_neg + base + j0 : NULL, gs);
            l += sc_sum(len, s->e);
        }
        *loss = l;
        return 0;
    }

    if (jb->kind == NEGS_LOSS_BPR || jb->kind == NEGS_LOSS_HINGE) {
        const float w = c ? (float)((double)gs / (double)c) : 0.0f;
        double l = 0.0, gsum = 0.0;
        SC_SEGMENTS(j0, len, k) {
            float *g = jb->d_neg ? jb->d_neg + base + j0 : (dpos ? s->g : NULL);
            sc_segment(jb, i, j0, len, s->z, s->p);
            if (jb->kind == NEGS_LOSS_HINGE) sc_hinge(len, s->z, jb->margin, s->e, g, w);
            else sc_softplus(len, s->z, s->e, g, w);
            l += sc_sum(len, s->e);
            if (dpos) gsum += sc_sum(len, g);
        }
        *loss = c ? l / (double)c : 0.0;
        if (dpos) *dpos = -(float)gsum;
        return 0;
    }

    double sneg = 0.0;
    SC_SEGMENTS(j0, len, k) {
        sc_segment(jb, i, j0, len, s->z, s->p);
        sc_exp_rows(1, len, s->z, &m, s->e);
        sneg += sc_sum(len, s->e);
    }
    s->ra[0] = -m;
    sc_exp_inplace(1, s->ra);
    const double S = (double)s->ra[0] + sneg;
    s->rb[0] = (float)(S - 1.0);
    sc_log1p_inplace(1, s->rb);
    double lr = (double)m + (double)s->rb[0], p = sneg / S;
    s->ra[0] = (float)((double)gs / S);
    s->rc[0] = 0.0f;
    if (jb->kind == NEGS_LOSS_LISTNET) {
        double t1 = 1.0 / (2.718281828459045 + (double)c);
        lr -= t1 * zs;
        p -= (double)c * t1;
        s->rc[0] = (float)(t1 * (double)gs);
    }
    if (dpos) *dpos = (float)(-p * (double)gs);
    *loss = lr;
    if (jb->d_neg) {
        SC_SEGMENTS(j0, len, k) {
            sc_segment(jb, i, j0, len, s->z, s->p);
            sc_exp_rows(1, len, s->z, &m, s->e);
            if (jb->kind == NEGS_LOSS_LISTNET)
                sc_listnet_rows(1, len, s->e, s->z, s->ra, s->rc, jb->d_neg + base + j0);
            else
                sc_scale_rows(1, len, s->e, s->ra, jb->d_neg + base + j0);
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- one part */

void NEGS_SC_PART_FN(struct negs_scores_job *jb, size_t part)
{
    struct sc_scratch s;
    const size_t r_begin = part * jb->rows_per_part;
    const size_t r_end = jb->n - r_begin < jb->rows_per_part ? jb->n : r_begin + jb->rows_per_part;
    double acc = 0.0;
    size_t bad = NEGS_SC_NO_BAD;
    if (jb->k <= NEGS_SC_TILE) {
        const size_t tr = NEGS_SC_TILE / jb->k;
        for (size_t r = r_begin; r < r_end; r += tr) {
            size_t R = r_end - r < tr ? r_end - r : tr;
            if (sc_tile(jb, r, R, &s, &acc)) {
                bad = r;
                break;
            }
        }
    } else {
        for (size_t r = r_begin; r < r_end; r++) {
            double lr;
            if (sc_long_row(jb, r, &s, &lr)) {
                bad = r;
                break;
            }
            if (jb->loss_rows) jb->loss_rows[r] = (float)lr;
            else acc += lr;
        }
    }
    jb->part_loss[part] = acc;
    jb->part_bad[part] = bad;
}
