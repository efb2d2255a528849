/* The weight build's bulk log and exp with libm's exact results: set_weights's float log
 * weights (float)log(x) and the build's w = exp(alpha lw - mx). Vectorised with AVX-512 or
 * AVX2 (+ FMA), libm otherwise. Each vector lane is computed to well within an ulp and
 * checked: a lane whose rounding could differ from libm's (its value too close to a rounding
 * boundary: about 1 float log in 10^7, about 4 exps in 100) is recomputed by libm, so the
 * results are libm's bits and the tables do not depend on the instruction set. */
#include <math.h>

#include "sampler_logexp.h"

/* log: x = m 2^k with m in [sqrt(1/2), sqrt(2)), f = m - 1 (exact), s = f / (2 + f) and
 * log(1 + f) = 2 atanh(s) = f - f^2/2 + s (f^2/2 + R), R = sum_{i=1..10} 2 s^(2i) / (2i + 1)
 * (the series' remainder is below 2^-56 of the result for |s| <= 0.1716). ln 2 in two parts
 * (hi: 32 bits, so that k ln2_hi is exact). Error: a few double ulps, against a check margin of
 * 64 (below). */
#define LN2_HI 0x1.62e42ff000000p-1
#define LN2_LO -0x1.718432a1b0e26p-35
#define SQRT2 0x1.6a09e667f3bcdp+0
/* a float log is libm's when the double estimate is more than LOG_MARGIN double ulps from a
 * float rounding midpoint (the low 29 mantissa bits of a midpoint are 2^28) */
#define LOG_MARGIN 64

/* exp: x = k ln2/16 + r, |r| <= ln2/32, r = t - u with ln2/16 in two parts: t = x - k L1 is
 * exact (L1 of 38 bits, so k L1 is exact for |k| < 2^15), u = k L2 below 2^-29; exp(x) =
 * 2^(k/16 rounded down) T_j e^r, T_j = 2^(j/16) as hi + lo, j = k mod 16, e^t - 1 = t + t^2/2 +
 * ... + t^8/8! (remainder below 2^-68) and e^-u = 1 - u + u^2/2. The sum is carried to about
 * 2^-62 of the result: the rounding error of the last addition (err) says how far the exact
 * value is from the rounded one, and a lane whose exact value may lie within 0.02 ulp of a
 * rounding midpoint goes to libm (whose exp is within 0.52 ulp: beyond that margin it returns
 * the nearest double too). */
#define EXP_INVL 0x1.71547652b82fep+4
#define EXP_L1 0x1.62e42fefa0000p-5
#define EXP_L2 0x1.cf79abc9e3b3ap-44
#define EXP_KEEP 0.48 /* |err| <= 0.48 ulp: at least 0.02 ulp from a midpoint */
#define EXP_LO -700.0 /* beyond: libm (results stay normal and finite inside) */
#define EXP_HI 700.0

/* 2^(j/16), j = 0..15, to 106 bits: hi = the nearest double, lo = the nearest double to the
 * rest (from Python's decimal module at 60 digits). */
static const double exp_tab_hi[16] = {
    0x1.0000000000000p+0, 0x1.0b5586cf9890fp+0, 0x1.172b83c7d517bp+0, 0x1.2387a6e756238p+0,
    0x1.306fe0a31b715p+0, 0x1.3dea64c123422p+0, 0x1.4bfdad5362a27p+0, 0x1.5ab07dd485429p+0,
    0x1.6a09e667f3bcdp+0, 0x1.7a11473eb0187p+0, 0x1.8ace5422aa0dbp+0, 0x1.9c49182a3f090p+0,
    0x1.ae89f995ad3adp+0, 0x1.c199bdd85529cp+0, 0x1.d5818dcfba487p+0, 0x1.ea4afa2a490dap+0};
static const double exp_tab_lo[16] = {
    0x0.0p+0,                0x1.8a62e4adc610bp-54,  -0x1.19041b9d78a76p-55, 0x1.9b07eb6c70573p-54,
    0x1.6f46ad23182e4p-55,   0x1.ada0911f09ebcp-55,  0x1.d4397afec42e2p-56,  0x1.6324c054647adp-54,
    -0x1.bdd3413b26456p-54,  -0x1.41577ee04992fp-55, 0x1.6e9f156864b27p-54,  0x1.c7c46b071f2bep-56,
    0x1.7a1cd345dcc81p-54,   0x1.11065895048ddp-55,  0x1.2ed02d75b3707p-55,  -0x1.e9c23179c2893p-54};

/* The scalar definitions the vector lanes must reproduce. */
static float log_weight(double x)
{
    return x > 0.0 ? (float)log(x) : -INFINITY;
}

static double exp_weight(float lw, double alpha, double mx)
{
    return lw == -INFINITY ? 0.0 : exp(alpha * (double)lw - mx);
}

static uint32_t logw_scalar(const double *x, uint32_t i, uint32_t n, float *lw, double *lo,
                            double *hi)
{
    for (; i < n; i++) {
        if (!(x[i] >= 0.0 && x[i] < INFINITY)) return i;
        float l = lw[i] = log_weight(x[i]);
        if (x[i] > 0.0) {
            *lo = l < *lo ? l : *lo;
            *hi = l > *hi ? l : *hi;
        }
    }
    return n;
}

static void expw_scalar(const float *lw, uint32_t i, uint32_t n, double alpha, double mx, double *w,
                        sp_expw_sums *r)
{
    for (; i < n; i++) {
        double x = w[i] = exp_weight(lw[i], alpha, mx);
        r->total += x;
        r->n_pos += x > 0.0;
        r->any_pos = x > 0.0 ? i : r->any_pos;
    }
}

/* The sums of w[c0, c1) in item order, added to r. */
static inline void sum_weights(const double *w, uint32_t c0, uint32_t c1, sp_expw_sums *r)
{
    double total = r->total;
    uint32_t n_pos = r->n_pos, any_pos = r->any_pos;
    for (uint32_t i = c0; i < c1; i++) {
        total += w[i];
        n_pos += w[i] > 0.0;
        any_pos = w[i] > 0.0 ? i : any_pos;
    }
    r->total = total;
    r->n_pos = n_pos;
    r->any_pos = any_pos;
}

/* The vector exp runs over chunks of EXP_CHUNK items (in L1): the lanes to recompute are
 * listed, then recomputed by libm (no call inside the vector loop). The sum in item order is
 * one chain of dependent additions: chunk k - 1's runs inside chunk k's vector loop (its values
 * are final by then), so that the two overlap. */
#define EXP_CHUNK 1024

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define T256 __attribute__((target("avx2,fma")))

/* ---------------------------------------------------------------- AVX-512 */

/* log of 8 positive finite doubles (other lanes: garbage); *amb: lanes to recompute. */
T512 static inline __m512d log8(__m512d x, __mmask8 *amb)
{
    __m512d m = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_zero);
    __m512d k = _mm512_getexp_pd(x); /* subnormals too */
    __mmask8 big = _mm512_cmp_pd_mask(m, _mm512_set1_pd(SQRT2), _CMP_GE_OQ);
    m = _mm512_mask_mul_pd(m, big, m, _mm512_set1_pd(0.5));
    k = _mm512_mask_add_pd(k, big, k, _mm512_set1_pd(1.0));
    __m512d f = _mm512_sub_pd(m, _mm512_set1_pd(1.0));
    __m512d s = _mm512_div_pd(f, _mm512_add_pd(f, _mm512_set1_pd(2.0)));
    __m512d z = _mm512_mul_pd(s, s);
    __m512d R = _mm512_set1_pd(2.0 / 21.0);
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 19.0));
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 17.0));
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 15.0));
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 13.0));
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 11.0));
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 9.0));
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 7.0));
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 5.0));
    R = _mm512_fmadd_pd(R, z, _mm512_set1_pd(2.0 / 3.0));
    R = _mm512_mul_pd(R, z);
    __m512d hfsq = _mm512_mul_pd(_mm512_set1_pd(0.5), _mm512_mul_pd(f, f));
    __m512d tail = _mm512_fmadd_pd(s, _mm512_add_pd(hfsq, R), _mm512_mul_pd(k, _mm512_set1_pd(LN2_LO)));
    __m512d y = _mm512_fmadd_pd(k, _mm512_set1_pd(LN2_HI), _mm512_add_pd(_mm512_sub_pd(f, hfsq), tail));
    /* distance of y's low 29 mantissa bits from a float midpoint's */
    __m512i low = _mm512_and_si512(_mm512_castpd_si512(y), _mm512_set1_epi64((1 << 29) - 1));
    __m512i off = _mm512_abs_epi64(_mm512_sub_epi64(low, _mm512_set1_epi64(1 << 28)));
    *amb = _mm512_cmple_epi64_mask(off, _mm512_set1_epi64(LOG_MARGIN));
    return y;
}

T512 static uint32_t logw_avx512(const double *x, uint32_t n, float *lw, double *lo, double *hi,
                                 double *sum)
{
    const __m512d zero = _mm512_setzero_pd(), inf = _mm512_set1_pd(INFINITY), ninf = -inf;
    __m512d vsum = zero, vlo = inf, vhi = ninf;
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m512d v = _mm512_loadu_pd(x + i);
        __mmask8 ok = _mm512_cmp_pd_mask(v, zero, _CMP_GE_OQ) & _mm512_cmp_pd_mask(v, inf, _CMP_LT_OQ);
        if (ok != 0xFF) {
            *sum = 0.0; /* unused on failure */
            return i + (uint32_t)__builtin_ctz(~(unsigned)ok & 0xFFu);
        }
        __mmask8 pos = _mm512_cmp_pd_mask(v, zero, _CMP_GT_OQ), amb;
        vsum = _mm512_add_pd(vsum, v);
        __m512d y = _mm512_mask_blend_pd(pos, ninf, log8(v, &amb));
        __m256 f = _mm512_cvtpd_ps(y);
        _mm256_storeu_ps(lw + i, f);
        if ((amb &= pos) != 0) {
            for (unsigned b = amb; b; b &= b - 1) {
                unsigned t = (unsigned)__builtin_ctz(b);
                lw[i + t] = log_weight(x[i + t]);
            }
            f = _mm256_loadu_ps(lw + i);
        }
        __m512d l = _mm512_cvtps_pd(f);
        vlo = _mm512_mask_min_pd(vlo, pos, vlo, l);
        vhi = _mm512_max_pd(vhi, l); /* -inf lanes never win */
    }
    double l8[8], h8[8];
    _mm512_storeu_pd(l8, vlo);
    _mm512_storeu_pd(h8, vhi);
    for (int t = 0; t < 8; t++) {
        *lo = l8[t] < *lo ? l8[t] : *lo;
        *hi = h8[t] > *hi ? h8[t] : *hi;
    }
    *sum = _mm512_reduce_add_pd(vsum);
    uint32_t bad = logw_scalar(x, i, n, lw, lo, hi);
    for (; i < bad; i++) *sum += x[i];
    return bad;
}

/* exp of 8 doubles; *amb: lanes to recompute (outside [EXP_LO, EXP_HI] included). */
T512 static inline __m512d exp8(__m512d x, __mmask8 *amb)
{
    __m512d kd = _mm512_roundscale_pd(_mm512_mul_pd(x, _mm512_set1_pd(EXP_INVL)),
                                      _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512d t = _mm512_fnmadd_pd(kd, _mm512_set1_pd(EXP_L1), x); /* exact */
    __m512d u = _mm512_mul_pd(kd, _mm512_set1_pd(EXP_L2));       /* r = t - u, |u| < 2^-29 */
    __m512d p = _mm512_set1_pd(1.0 / 40320.0);
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(1.0 / 5040.0));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(1.0 / 720.0));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(1.0 / 120.0));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(1.0 / 24.0));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(1.0 / 6.0));
    p = _mm512_fmadd_pd(p, t, _mm512_set1_pd(0.5));
    __m512d q = _mm512_mul_pd(_mm512_mul_pd(t, t), p); /* e^t - 1 - t */
    /* e^(t - u) - 1 - t = q - u e^t + u^2 / 2 (to 2^-64) */
    __m512d et = _mm512_add_pd(_mm512_add_pd(_mm512_set1_pd(1.0), t), q);
    __m512d low = _mm512_fnmadd_pd(u, et, q);
    low = _mm512_fmadd_pd(_mm512_mul_pd(u, _mm512_set1_pd(0.5)), u, low);
    __m512d rh = t;
    __m512i ki = _mm512_cvtpd_epi64(kd);
    __m512i j = _mm512_and_si512(ki, _mm512_set1_epi64(15));
    __m512d th = _mm512_permutex2var_pd(_mm512_loadu_pd(exp_tab_hi), j, _mm512_loadu_pd(exp_tab_hi + 8));
    __m512d tl = _mm512_permutex2var_pd(_mm512_loadu_pd(exp_tab_lo), j, _mm512_loadu_pd(exp_tab_lo + 8));
    __m512d ph = _mm512_mul_pd(th, rh);
    __m512d pl = _mm512_fmsub_pd(th, rh, ph); /* th rh = ph + pl exactly */
    __m512d rest = _mm512_add_pd(pl, _mm512_fmadd_pd(th, low, _mm512_fmadd_pd(tl, rh, tl)));
    __m512d s1 = _mm512_add_pd(th, ph);
    __m512d e1 = _mm512_sub_pd(ph, _mm512_sub_pd(s1, th));
    __m512d tail = _mm512_add_pd(e1, rest);
    __m512d s = _mm512_add_pd(s1, tail);
    __m512d err = _mm512_sub_pd(tail, _mm512_sub_pd(s, s1));
    __m512i sb = _mm512_castpd_si512(s);
    __m512d below = _mm512_sub_pd(s, _mm512_castsi512_pd(_mm512_sub_epi64(sb, _mm512_set1_epi64(1))));
    __m512d aerr = _mm512_abs_pd(err);
    *amb = _mm512_cmp_pd_mask(aerr, _mm512_mul_pd(below, _mm512_set1_pd(EXP_KEEP)), _CMP_GT_OQ) |
           _mm512_cmp_pd_mask(x, _mm512_set1_pd(EXP_LO), _CMP_LT_OQ) |
           _mm512_cmp_pd_mask(x, _mm512_set1_pd(EXP_HI), _CMP_GT_OQ);
    __m512i scale = _mm512_slli_epi64(_mm512_srai_epi64(ki, 4), 52);
    return _mm512_castsi512_pd(_mm512_add_epi64(sb, scale));
}

T512 static void expw_avx512(const float *lw, uint32_t n, double alpha, double mx, double *w,
                             sp_expw_sums *r)
{
    const __m512d va = _mm512_set1_pd(alpha), vm = _mm512_set1_pd(mx);
    const __m512d ninf = _mm512_set1_pd(-INFINITY);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0, 0, 0, 0, 0, 0);
    uint32_t nv = n & ~7u, redo[EXP_CHUNK + 16], prev = 0, prev_len = 0;
    sp_expw_sums acc = *r;
    for (uint32_t c0 = 0; c0 < nv; c0 += EXP_CHUNK) {
        uint32_t len = nv - c0 < EXP_CHUNK ? nv - c0 : EXP_CHUNK, n_redo = 0;
        for (uint32_t j = 0; j < len; j += 8) {
            uint32_t i = c0 + j;
            __m512d l = _mm512_cvtps_pd(_mm256_loadu_ps(lw + i));
            __mmask8 fin = _mm512_cmp_pd_mask(l, ninf, _CMP_NEQ_OQ), amb;
            __m512d x = _mm512_sub_pd(_mm512_mul_pd(va, l), vm); /* as exp_weight rounds it */
            _mm512_storeu_pd(w + i, _mm512_maskz_mov_pd(fin, exp8(x, &amb)));
            /* listed without a branch per lane (the register form of compress: the memory
             * form is slow); redo has room for a whole vector past the last entry */
            __mmask16 m = (__mmask16)(amb & fin);
            __m512i ids = _mm512_add_epi32(_mm512_set1_epi32((int)i), lane);
            _mm512_storeu_si512((void *)(redo + n_redo), _mm512_maskz_compress_epi32(m, ids));
            n_redo += (uint32_t)__builtin_popcount(m);
            if (j < prev_len) sum_weights(w, prev + j, prev + j + 8, &acc);
        }
        if (prev_len > len) sum_weights(w, prev + len, prev + prev_len, &acc);
        for (uint32_t k = 0; k < n_redo; k++) w[redo[k]] = exp_weight(lw[redo[k]], alpha, mx);
        prev = c0;
        prev_len = len;
    }
    sum_weights(w, prev, prev + prev_len, &acc);
    *r = acc;
    expw_scalar(lw, nv, n, alpha, mx, w, r);
}

/* ---------------------------------------------------------------- AVX2 + FMA */

T256 static inline __m256d i64_to_pd(__m256i v) /* |v| < 2^51 */
{
    const __m256d magic = _mm256_set1_pd(0x1.8p52);
    return _mm256_sub_pd(_mm256_castsi256_pd(_mm256_add_epi64(v, _mm256_castpd_si256(magic))), magic);
}

T256 static inline __m256d log4(__m256d x, int *amb)
{
    __m256d sub = _mm256_cmp_pd(x, _mm256_set1_pd(0x1.0p-1022), _CMP_LT_OQ);
    x = _mm256_blendv_pd(x, _mm256_mul_pd(x, _mm256_set1_pd(0x1.0p54)), sub);
    __m256i b = _mm256_castpd_si256(x);
    __m256d k = i64_to_pd(_mm256_sub_epi64(_mm256_srli_epi64(b, 52), _mm256_set1_epi64x(1023)));
    k = _mm256_sub_pd(k, _mm256_and_pd(sub, _mm256_set1_pd(54.0)));
    __m256d m = _mm256_castsi256_pd(_mm256_or_si256(
        _mm256_and_si256(b, _mm256_set1_epi64x(0x000fffffffffffffLL)),
        _mm256_set1_epi64x(0x3ff0000000000000LL)));
    __m256d big = _mm256_cmp_pd(m, _mm256_set1_pd(SQRT2), _CMP_GE_OQ);
    m = _mm256_blendv_pd(m, _mm256_mul_pd(m, _mm256_set1_pd(0.5)), big);
    k = _mm256_add_pd(k, _mm256_and_pd(big, _mm256_set1_pd(1.0)));
    __m256d f = _mm256_sub_pd(m, _mm256_set1_pd(1.0));
    __m256d s = _mm256_div_pd(f, _mm256_add_pd(f, _mm256_set1_pd(2.0)));
    __m256d z = _mm256_mul_pd(s, s);
    __m256d R = _mm256_set1_pd(2.0 / 21.0);
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 19.0));
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 17.0));
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 15.0));
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 13.0));
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 11.0));
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 9.0));
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 7.0));
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 5.0));
    R = _mm256_fmadd_pd(R, z, _mm256_set1_pd(2.0 / 3.0));
    R = _mm256_mul_pd(R, z);
    __m256d hfsq = _mm256_mul_pd(_mm256_set1_pd(0.5), _mm256_mul_pd(f, f));
    __m256d tail = _mm256_fmadd_pd(s, _mm256_add_pd(hfsq, R), _mm256_mul_pd(k, _mm256_set1_pd(LN2_LO)));
    __m256d y = _mm256_fmadd_pd(k, _mm256_set1_pd(LN2_HI), _mm256_add_pd(_mm256_sub_pd(f, hfsq), tail));
    __m256i low = _mm256_and_si256(_mm256_castpd_si256(y), _mm256_set1_epi64x((1 << 29) - 1));
    __m256i off = _mm256_sub_epi64(low, _mm256_set1_epi64x(1 << 28));
    /* |off| <= LOG_MARGIN as off + MARGIN unsigned-below 2 MARGIN + 1: two signed compares */
    __m256i lo_ok = _mm256_cmpgt_epi64(off, _mm256_set1_epi64x(LOG_MARGIN));
    __m256i hi_ok = _mm256_cmpgt_epi64(_mm256_set1_epi64x(-LOG_MARGIN), off);
    *amb = ~_mm256_movemask_pd(_mm256_castsi256_pd(_mm256_or_si256(lo_ok, hi_ok))) & 15;
    return y;
}

T256 static uint32_t logw_avx2(const double *x, uint32_t n, float *lw, double *lo, double *hi,
                               double *sum)
{
    const __m256d zero = _mm256_setzero_pd(), inf = _mm256_set1_pd(INFINITY);
    const __m256d ninf = _mm256_set1_pd(-INFINITY);
    __m256d vsum = zero, vlo = inf, vhi = ninf;
    uint32_t i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d v = _mm256_loadu_pd(x + i);
        int ok = _mm256_movemask_pd(_mm256_and_pd(_mm256_cmp_pd(v, zero, _CMP_GE_OQ),
                                                  _mm256_cmp_pd(v, inf, _CMP_LT_OQ)));
        if (ok != 15) {
            *sum = 0.0;
            return i + (uint32_t)__builtin_ctz(~(unsigned)ok & 15u);
        }
        __m256d pos = _mm256_cmp_pd(v, zero, _CMP_GT_OQ);
        int amb;
        vsum = _mm256_add_pd(vsum, v);
        __m256d y = _mm256_blendv_pd(ninf, log4(_mm256_blendv_pd(_mm256_set1_pd(1.0), v, pos), &amb), pos);
        __m128 f = _mm256_cvtpd_ps(y);
        _mm_storeu_ps(lw + i, f);
        if ((amb &= _mm256_movemask_pd(pos)) != 0) {
            for (unsigned b = (unsigned)amb; b; b &= b - 1) {
                unsigned t = (unsigned)__builtin_ctz(b);
                lw[i + t] = log_weight(x[i + t]);
            }
            f = _mm_loadu_ps(lw + i);
        }
        __m256d l = _mm256_cvtps_pd(f);
        vlo = _mm256_min_pd(vlo, _mm256_blendv_pd(inf, l, pos));
        vhi = _mm256_max_pd(vhi, l);
    }
    double l4[4], h4[4], s4[4];
    _mm256_storeu_pd(l4, vlo);
    _mm256_storeu_pd(h4, vhi);
    _mm256_storeu_pd(s4, vsum);
    for (int t = 0; t < 4; t++) {
        *lo = l4[t] < *lo ? l4[t] : *lo;
        *hi = h4[t] > *hi ? h4[t] : *hi;
    }
    *sum = (s4[0] + s4[1]) + (s4[2] + s4[3]);
    uint32_t bad = logw_scalar(x, i, n, lw, lo, hi);
    for (; i < bad; i++) *sum += x[i];
    return bad;
}

T256 static inline __m256d exp4(__m256d x, int *amb)
{
    const __m256d magic = _mm256_set1_pd(0x1.8p52);
    __m256d kd = _mm256_round_pd(_mm256_mul_pd(x, _mm256_set1_pd(EXP_INVL)),
                                 _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256d t = _mm256_fnmadd_pd(kd, _mm256_set1_pd(EXP_L1), x);
    __m256d u = _mm256_mul_pd(kd, _mm256_set1_pd(EXP_L2));
    __m256d p = _mm256_set1_pd(1.0 / 40320.0);
    p = _mm256_fmadd_pd(p, t, _mm256_set1_pd(1.0 / 5040.0));
    p = _mm256_fmadd_pd(p, t, _mm256_set1_pd(1.0 / 720.0));
    p = _mm256_fmadd_pd(p, t, _mm256_set1_pd(1.0 / 120.0));
    p = _mm256_fmadd_pd(p, t, _mm256_set1_pd(1.0 / 24.0));
    p = _mm256_fmadd_pd(p, t, _mm256_set1_pd(1.0 / 6.0));
    p = _mm256_fmadd_pd(p, t, _mm256_set1_pd(0.5));
    __m256d q = _mm256_mul_pd(_mm256_mul_pd(t, t), p);
    __m256d et = _mm256_add_pd(_mm256_add_pd(_mm256_set1_pd(1.0), t), q);
    __m256d low = _mm256_fnmadd_pd(u, et, q);
    low = _mm256_fmadd_pd(_mm256_mul_pd(u, _mm256_set1_pd(0.5)), u, low);
    __m256d rh = t;
    __m256i ki = _mm256_sub_epi64(_mm256_castpd_si256(_mm256_add_pd(kd, magic)),
                                  _mm256_castpd_si256(magic));
    __m256i j = _mm256_and_si256(ki, _mm256_set1_epi64x(15));
    __m256d th = _mm256_i64gather_pd(exp_tab_hi, j, 8);
    __m256d tl = _mm256_i64gather_pd(exp_tab_lo, j, 8);
    __m256d ph = _mm256_mul_pd(th, rh);
    __m256d pl = _mm256_fmsub_pd(th, rh, ph);
    __m256d rest = _mm256_add_pd(pl, _mm256_fmadd_pd(th, low, _mm256_fmadd_pd(tl, rh, tl)));
    __m256d s1 = _mm256_add_pd(th, ph);
    __m256d e1 = _mm256_sub_pd(ph, _mm256_sub_pd(s1, th));
    __m256d tail = _mm256_add_pd(e1, rest);
    __m256d s = _mm256_add_pd(s1, tail);
    __m256d err = _mm256_sub_pd(tail, _mm256_sub_pd(s, s1));
    __m256i sb = _mm256_castpd_si256(s);
    __m256d below = _mm256_sub_pd(s, _mm256_castsi256_pd(_mm256_sub_epi64(sb, _mm256_set1_epi64x(1))));
    __m256d aerr = _mm256_andnot_pd(_mm256_set1_pd(-0.0), err);
    __m256d bad = _mm256_or_pd(
        _mm256_cmp_pd(aerr, _mm256_mul_pd(below, _mm256_set1_pd(EXP_KEEP)), _CMP_GT_OQ),
        _mm256_or_pd(_mm256_cmp_pd(x, _mm256_set1_pd(EXP_LO), _CMP_LT_OQ),
                     _mm256_cmp_pd(x, _mm256_set1_pd(EXP_HI), _CMP_GT_OQ)));
    *amb = _mm256_movemask_pd(bad);
    /* 2^K with K = k >> 4: (k << 48) with its 4 low bits (j) cleared is K << 52, mod 2^64 */
    __m256i scale = _mm256_andnot_si256(_mm256_set1_epi64x(15LL << 48), _mm256_slli_epi64(ki, 48));
    return _mm256_castsi256_pd(_mm256_add_epi64(sb, scale));
}

T256 static void expw_avx2(const float *lw, uint32_t n, double alpha, double mx, double *w,
                           sp_expw_sums *r)
{
    const __m256d va = _mm256_set1_pd(alpha), vm = _mm256_set1_pd(mx);
    const __m256d ninf = _mm256_set1_pd(-INFINITY);
    uint32_t nv = n & ~3u, redo[EXP_CHUNK], prev = 0, prev_len = 0;
    sp_expw_sums acc = *r;
    for (uint32_t c0 = 0; c0 < nv; c0 += EXP_CHUNK) {
        uint32_t len = nv - c0 < EXP_CHUNK ? nv - c0 : EXP_CHUNK, n_redo = 0;
        for (uint32_t j = 0; j < len; j += 4) {
            uint32_t i = c0 + j;
            __m256d l = _mm256_cvtps_pd(_mm_loadu_ps(lw + i));
            __m256d fin = _mm256_cmp_pd(l, ninf, _CMP_NEQ_OQ);
            __m256d x = _mm256_sub_pd(_mm256_mul_pd(va, l), vm);
            int amb;
            _mm256_storeu_pd(w + i, _mm256_and_pd(fin, exp4(_mm256_and_pd(fin, x), &amb)));
            unsigned m = (unsigned)(amb & _mm256_movemask_pd(fin));
            for (unsigned t = 0; t < 4; t++) { /* listed without a branch per lane */
                redo[n_redo] = i + t;
                n_redo += (m >> t) & 1u;
            }
            if (j < prev_len) sum_weights(w, prev + j, prev + j + 4, &acc);
        }
        if (prev_len > len) sum_weights(w, prev + len, prev + prev_len, &acc);
        for (uint32_t k = 0; k < n_redo; k++) w[redo[k]] = exp_weight(lw[redo[k]], alpha, mx);
        prev = c0;
        prev_len = len;
    }
    sum_weights(w, prev, prev + prev_len, &acc);
    *r = acc;
    expw_scalar(lw, nv, n, alpha, mx, w, r);
}
#endif

uint32_t sp_log_weights(unsigned cpu, const double *x, uint32_t n, float *lw, double *lo,
                        double *hi, double *sum)
{
    *lo = INFINITY;
    *hi = -INFINITY;
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) {
        uint32_t bad = logw_avx512(x, n, lw, lo, hi, sum);
        /* a partial sum near overflow: the sum in item order decides (non-negative terms: below
         * 2^1000 any order's sum is finite) */
        if (bad == n && !(*sum < 0x1.0p1000)) {
            double s = 0.0;
            for (uint32_t i = 0; i < n; i++) s += x[i];
            *sum = s;
        }
        return bad;
    }
    if (cpu & NEGS_CPU_AVX2) {
        uint32_t bad = logw_avx2(x, n, lw, lo, hi, sum);
        if (bad == n && !(*sum < 0x1.0p1000)) {
            double s = 0.0;
            for (uint32_t i = 0; i < n; i++) s += x[i];
            *sum = s;
        }
        return bad;
    }
#else
    (void)cpu;
#endif
    uint32_t bad = logw_scalar(x, 0, n, lw, lo, hi);
    double s = 0.0;
    for (uint32_t i = 0; i < bad; i++) s += x[i];
    *sum = s;
    return bad;
}

void sp_exp_weights(unsigned cpu, const float *lw, uint32_t n, double alpha, double mx, double *w,
                    sp_expw_sums *r)
{
    r->total = 0.0;
    r->n_pos = 0;
    r->any_pos = 0;
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) {
        expw_avx512(lw, n, alpha, mx, w, r);
        return;
    }
    if (cpu & NEGS_CPU_AVX2) {
        expw_avx2(lw, n, alpha, mx, w, r);
        return;
    }
#else
    (void)cpu;
#endif
    expw_scalar(lw, 0, n, alpha, mx, w, r);
}
