/* The portable kernel table: plain C (the compiler may vectorise it for the baseline ISA,
 * which never changes the order of the operations on one element). Multiply-adds go through
 * negs_fma_f so that each element is computed as the SIMD tables compute it. */
#include <math.h>
#include <string.h>

#include "kernels.h"
#include "kernels_exp.h"
#include "negsample.h"

#define MR 4

/* One row of a 16-column panel: acc[c] = sum_k a[k * MR] * b[k * 16 + c]. Kept in double
 * between steps but rounded to float after each one, exactly as a float FMA chain. */
static inline void row16(const float *restrict a, const float *restrict b, size_t dim,
                         float *restrict out)
{
    float acc[NEGS_KN_NR] = {0};
    for (size_t k = 0; k < dim; k++) {
        double ak = a[k * MR];
        for (size_t c = 0; c < NEGS_KN_NR; c++)
            acc[c] = (float)(ak * (double)b[k * NEGS_KN_NR + c] + (double)acc[c]);
    }
    for (size_t c = 0; c < NEGS_KN_NR; c++) out[c] = acc[c];
}

static void scores_scalar(const float *a, size_t np, const float *b, size_t nq, size_t dim,
                          float *s, size_t lds)
{
    for (size_t q = 0; q < nq; q++)
        for (size_t p = 0; p < np; p++)
            for (size_t r = 0; r < MR; r++)
                row16(a + p * dim * MR + r, b + q * dim * NEGS_KN_NR, dim,
                      s + (p * MR + r) * lds + q * NEGS_KN_NR);
}

/* a[q] += w * x[q] for q < 8 (a fixed-length loop over distinct arrays vectorises at -O2). */
static inline void axpy8(float *restrict a, const float *restrict x, float w)
{
    double wd = w;
    for (size_t q = 0; q < 8; q++) a[q] = (float)(wd * (double)x[q] + (double)a[q]);
}

static void accum_scalar(float *acc, size_t ldacc, size_t ni, const float *w, size_t wsi,
                         size_t wst, const float *x, size_t ldx, size_t nt, size_t dim)
{
    for (size_t i = 0; i < ni; i++) {
        float *restrict ai = acc + i * ldacc; /* restrict: lets the k loop vectorise */
        for (size_t t = 0; t < nt; t++) {
            float wt = w[i * wsi + t * wst];
            const float *restrict xt = x + t * ldx;
            size_t k = 0;
            for (; k + 8 <= dim; k += 8) /* fixed-length inner loops vectorise at -O2 */
                axpy8(ai + k, xt + k, wt);
            for (; k < dim; k++) ai[k] = negs_fma_f(wt, xt[k], ai[k]);
        }
    }
}

static float logits_scalar(float *z, size_t n, float scale, const float *off)
{
    float m = -INFINITY;
    for (size_t c = 0; c < n; c++) {
        z[c] = negs_fma_f(z[c], scale, -off[c]);
        m = z[c] > m ? z[c] : m;
    }
    return m;
}

static float max_scalar(const float *z, size_t n)
{
    float m = -INFINITY;
    for (size_t c = 0; c < n; c++) m = z[c] > m ? z[c] : m;
    return m;
}

static float logits_mask_scalar(float *z, size_t n, float scale, const float *off,
                                const uint32_t *bits)
{
    float m = -INFINITY;
    for (size_t c = 0; c < n; c++) {
        z[c] = bits[c >> 5] >> (c & 31) & 1u ? -INFINITY : negs_fma_f(z[c], scale, -off[c]);
        m = z[c] > m ? z[c] : m;
    }
    return m;
}

static float exp_scale_scalar(float *z, size_t n, float shift, float mul)
{
    float sum = 0.0f;
    for (size_t c = 0; c < n; c += 16) {
        for (size_t q = 0; q < 16; q++) z[c + q] = negs_expf_inline(z[c + q] - shift) * mul;
        for (size_t q = 0; q < 16; q++) sum += z[c + q];
    }
    return sum;
}

static float dot_scalar(const float *a, const float *b, size_t dim)
{
    float l[16] = {0};
    size_t k = 0;
    for (; k + 16 <= dim; k += 16)
        for (size_t c = 0; c < 16; c++) l[c] = negs_fma_f(a[k + c], b[k + c], l[c]);
    for (size_t c = 0; k + c < dim; c++) l[c] = negs_fma_f(a[k + c], b[k + c], l[c]);
    for (size_t h = 8; h >= 1; h /= 2)
        for (size_t c = 0; c < h; c++) l[c] = l[c] + l[c + h];
    return l[0];
}

static void axpy_scalar(float *y, float w, const float *x, size_t dim)
{
    size_t k = 0;
    for (; k + 8 <= dim; k += 8) axpy8(y + k, x + k, w);
    for (; k < dim; k++) y[k] = negs_fma_f(w, x[k], y[k]);
}

static uint32_t float_key(uint32_t b)
{
    b = b == 0x80000000u ? 0u : b;
    return b ^ ((uint32_t)((int32_t)b >> 31) | 0x80000000u);
}

static uint32_t float_keys_scalar(const float *s, size_t n, uint32_t *keys)
{
    uint32_t mx = 0, bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, s + i, sizeof b);
        bad |= (b & 0x7f800000u) == 0x7f800000u;
        keys[i] = float_key(b);
        mx = keys[i] > mx ? keys[i] : mx;
    }
    return bad ? 0 : mx;
}

static uint32_t max_u32_scalar(const uint32_t *a, size_t n)
{
    uint32_t mx = 0;
    for (size_t i = 0; i < n; i++) mx = a[i] > mx ? a[i] : mx;
    return mx;
}

static size_t find_u32_scalar(const uint32_t *a, size_t n, uint32_t v)
{
    size_t i = 0;
    while (i < n && a[i] != v) i++;
    return i;
}

/* Repeated arg-max over a copy of the row, a taken score replaced by -inf (the scores are
 * finite, so -inf is below every live one). */
static size_t top_rows_scalar(const float *s, const uint32_t *items, size_t n_rows, size_t n,
                              uint32_t n_items, uint32_t m, uint32_t *out)
{
    float x[64];
    for (size_t r = 0; r < n_rows; r++) {
        const float *sr = s + r * n;
        const uint32_t *ir = items + r * n;
        uint32_t bad = 0, cnt = 0;
        for (size_t j = 0; j < n; j++) {
            bad |= !isfinite(sr[j]) | (ir[j] >= n_items);
            x[j] = sr[j];
        }
        if (bad) return r;
        while (cnt < m) {
            size_t p = 0;
            for (size_t j = 1; j < n; j++) p = x[j] > x[p] ? j : p;
            if (x[p] == -INFINITY) break;
            x[p] = -INFINITY;
            size_t j = 0;
            while (ir[j] != ir[p]) j++;
            if (j == p) out[r * m + cnt++] = ir[p];
        }
        if (cnt < m) return r;
    }
    return n_rows;
}

static void scale_scalar(float *z, size_t n, float s)
{
    for (size_t c = 0; c < n; c++) z[c] *= s;
}

const negs_kernels negs_kernels_scalar = {
    NEGS_KERNEL_SCALAR, MR, scores_scalar, accum_scalar, logits_scalar, max_scalar,
    logits_mask_scalar, exp_scale_scalar, dot_scalar, axpy_scalar, float_keys_scalar,
    max_u32_scalar, find_u32_scalar,
    top_rows_scalar, scale_scalar,
};
