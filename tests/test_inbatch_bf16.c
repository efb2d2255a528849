/* NEGS_LP_PRECISION = NEGS_PRECISION_BF16 for the in-batch softmax: the bf16 rounding bit for
 * bit (hand-picked values and an independent reference on random bit patterns), the packed
 * bf16 layouts, the loss and gradients against a double reference on the same rounded rows
 * (within the rounding of G), the documented bound against fp32 on the bench's cases, the
 * native kernel (AVX512-BF16, where the CPU has it) against the portable path within their
 * documented bound, thread-count invariance on each path, the fp32 default unchanged, the
 * parameters' contract and the rows that round to Inf. */
#include <cpuid.h>
#include <float.h>
#include <stdio.h>

#include "test_util.h"

#include "kernels/kernels_bf16.h"
#include "test_inbatch_ref.h"
#include "test_inbatch_util.h"

static float from_bits(uint32_t b)
{
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

static uint32_t to_bits(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static void test_round_hand_picked(void **state)
{
    (void)state;
    static const uint32_t cases[][2] = {
        {0x3f800000u, 0x3f80u}, /* 1 */
        {0x3f807fffu, 0x3f80u}, /* just below half an ulp: down */
        {0x3f808000u, 0x3f80u}, /* tie, kept part even: down */
        {0x3f808001u, 0x3f81u}, /* just above half: up */
        {0x3f818000u, 0x3f82u}, /* tie, kept part odd: up to even */
        {0xbf808000u, 0xbf80u}, /* negative ties the same way */
        {0xbf818000u, 0xbf82u},
        {0x3fffffffu, 0x4000u}, /* carry into the exponent: 2 */
        {0x00000000u, 0x0000u}, /* +0 */
        {0x80000000u, 0x8000u}, /* -0 */
        {0x00000001u, 0x0000u}, /* smallest subnormal: to +0 */
        {0x80000001u, 0x8000u}, /* to -0 */
        {0x00008000u, 0x0000u}, /* subnormal tie, even: down */
        {0x00018000u, 0x0002u}, /* subnormal tie, odd: up */
        {0x00008001u, 0x0001u}, /* smallest bf16 subnormal */
        {0x007fffffu, 0x0080u}, /* largest subnormal rounds up to the smallest normal */
        {0x00800000u, 0x0080u}, /* FLT_MIN */
        {0x7f7f0000u, 0x7f7fu}, /* largest finite bf16 */
        {0x7f7f7fffu, 0x7f7fu}, /* below half an ulp past it: stays finite */
        {0x7f7f8000u, 0x7f80u}, /* tie with odd 0x7f7f: up, to +Inf */
        {0x7f7fffffu, 0x7f80u}, /* FLT_MAX: +Inf */
        {0xff7fffffu, 0xff80u}, /* -FLT_MAX: -Inf */
        {0x7f800000u, 0x7f80u}, /* +Inf */
        {0xff800000u, 0xff80u}, /* -Inf */
        {0x7fc00000u, 0x7fc0u}, /* quiet NaN */
        {0xffc00000u, 0xffc0u}, /* negative quiet NaN */
        {0x7f800001u, 0x7fc0u}, /* signalling NaN, payload in the dropped half: NaN, not Inf */
        {0xff800001u, 0xffc0u},
        {0x7fffffffu, 0x7fffu}, /* payload kept, no carry into the sign */
        {0x7f810000u, 0x7fc1u}, /* signalling NaN with a kept payload: quietened */
    };
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) {
        uint16_t h = negs_bf16_bits(from_bits(cases[q][0]));
        if (h != cases[q][1])
            fprintf(stderr, "bf16(0x%08x) = 0x%04x, expected 0x%04x\n", cases[q][0], h,
                    cases[q][1]);
        assert_int_equal(h, cases[q][1]);
        assert_int_equal(to_bits(negs_bf16_round(from_bits(cases[q][0]))),
                         (uint32_t)cases[q][1] << 16);
    }
    assert_true(negs_bf16_to_float(0x3f80u) == 1.0f);
    float x[4] = {1.0f, 3.3e38f, FLT_MAX, -FLT_MAX}, y[4];
    assert_int_equal(negs_bf16_round_array(x, 4, y), 2); /* first Inf */
    assert_true(y[0] == 1.0f && isfinite(y[1]) && isinf(y[2]) && y[3] == -INFINITY);
    assert_int_equal(negs_bf16_round_array(x, 2, x), 2); /* in place, none */
}

/* Against an independent definition on random bit patterns: the nearer of the two bf16
 * neighbours, compared in double, ties to the even one. */
static void test_round_random_patterns(void **state)
{
    (void)state;
    uint64_t s = 0x9e3779b97f4a7c15ull;
    size_t n = negs_test_sanitized() ? 100000 : 2000000;
    for (size_t q = 0; q < n; q++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        uint32_t b = (uint32_t)(s >> 17);
        if ((q & 3) == 0) b = (b & 0xffff0000u) | 0x8000u; /* many exact ties */
        float x = from_bits(b);
        uint16_t h = negs_bf16_bits(x);
        if (isnan(x)) {
            assert_true(isnan(negs_bf16_to_float(h)));
            assert_int_equal(h >> 15, b >> 31);
            continue;
        }
        uint32_t lo = b & 0xffff0000u, hi = lo + 0x10000u; /* |hi| >= |lo|, same sign */
        double dl = fabs((double)x - (double)from_bits(lo));
        double dh = (hi & 0x7fffffffu) >= 0x7f800000u ? INFINITY
                                                      : fabs((double)from_bits(hi) - (double)x);
        uint32_t want;
        if ((hi & 0x7fffffffu) == 0x7f800000u && (b & 0x7fffffffu) < 0x7f800000u) {
            /* past the largest finite bf16: Inf from half an ulp on (IEEE overflow rule) */
            want = (b & 0xffffu) >= 0x8000u ? hi : lo;
        } else if ((lo & 0x7fffffffu) >= 0x7f800000u) {
            want = lo; /* Inf */
        } else {
            want = dl < dh ? lo : dh < dl ? hi : ((lo >> 16) & 1u) ? hi : lo;
        }
        assert_int_equal(h, want >> 16);
    }
}

/* The packed layouts, entry by entry from their definitions (kernels_bf16.h), odd sizes
 * included: the row pairs round unrounded floats (each entry as negs_bf16_bits) and name the
 * first entry that rounds to Inf; the panels carry the same bf16 values. */
static void test_pack_layouts(void **state)
{
    (void)state;
    size_t rows = 29, dim = 5, kp = 3;
    float *x = rand_f(rows * dim, -2, 2);
#define H(r, k) ((r) < rows && (k) < dim ? (uint32_t)negs_bf16_bits(x[(r) * dim + (k)]) : 0u)
#define PAIR(r0, k0, r1, k1) (H(r0, k0) | H(r1, k1) << 16)
    size_t np = (rows + NEGS_BF16_MR - 1) / NEGS_BF16_MR, panels = 3;
    uint32_t *rp = malloc(np * kp * NEGS_BF16_MR * 4), *cp = malloc(panels * kp * 16 * 4);
    uint32_t *pr = malloc((rows + 1) / 2 * dim * 4);
    memset(pr, 0xff, (rows + 1) / 2 * dim * 4); /* the odd end's high halves must be written */
    assert_int_equal(negs_bf16_pack_row_pairs(x, rows, dim, pr), rows * dim);
    negs_bf16_row_panels(pr, rows, dim, rp);
    negs_bf16_col_panels(pr, rows, dim, panels, cp);
    for (size_t p = 0; p < np; p++)
        for (size_t q = 0; q < kp; q++)
            for (size_t r = 0; r < NEGS_BF16_MR; r++) {
                size_t row = p * NEGS_BF16_MR + r;
                assert_int_equal(rp[(p * kp + q) * NEGS_BF16_MR + r],
                                 PAIR(row, 2 * q, row, 2 * q + 1));
            }
    for (size_t p = 0; p < panels; p++)
        for (size_t q = 0; q < kp; q++)
            for (size_t c = 0; c < 16; c++)
                assert_int_equal(cp[(p * kp + q) * 16 + c],
                                 PAIR(p * 16 + c, 2 * q, p * 16 + c, 2 * q + 1));
    for (size_t t = 0; t < (rows + 1) / 2; t++)
        for (size_t k = 0; k < dim; k++)
            assert_int_equal(pr[t * dim + k], PAIR(2 * t, k, 2 * t + 1, k));
#undef PAIR
#undef H
    /* the first entry that rounds to Inf, in either half of a pair */
    x[3 * dim + 2] = from_bits(0x7f7f8000u), x[7 * dim + 4] = -FLT_MAX; /* a tie up to Inf */
    assert_int_equal(negs_bf16_pack_row_pairs(x, rows, dim, pr), 3 * dim + 2);
    x[3 * dim + 2] = from_bits(0x7f7f7fffu); /* just below: the largest bf16, finite */
    assert_int_equal(negs_bf16_pack_row_pairs(x, rows, dim, pr), 7 * dim + 4);
    /* a tile's weights rounded in place as negs_bf16_bits rounds them */
    float tile[3 * 40], orig[3 * 40];
    for (size_t q = 0; q < 120; q++) orig[q] = tile[q] = (float)(urand() * 3.0 - 1.0);
    negs_bf16_round_tile(tile, 40, 3, 33);
    for (size_t r = 0; r < 3; r++)
        for (size_t c = 0; c < 40; c++) {
            float want = c < 33 ? negs_bf16_round(orig[r * 40 + c]) : orig[r * 40 + c];
            assert_true(to_bits(tile[r * 40 + c]) == to_bits(want));
        }
    free(x), free(rp), free(cp), free(pr);
}

/* The native pairing's rounding: negs_bf16_bits, a subnormal float as a zero of its sign. */
static uint16_t g_bits(float x)
{
    if (fpclassify(x) == FP_SUBNORMAL) return (uint16_t)(to_bits(x) >> 16 & 0x8000u);
    return negs_bf16_bits(x);
}

/* The native table's G pairs (where the CPU has one): each entry e s (one float rounding, the
 * tile's factor), the target column + ta or set to ta, rounded as negs_bf16_bits but for
 * subnormals, in the documented slots of the rows' own storage (negs_bf16_row_slot,
 * negs_bf16_col_slot); an odd end's partner row 0 (its storage holds only the pairs across
 * rows); either layout's slots untouched when not asked for. */
static void native_pairs_case(const negs_bf16_kernels *hw, int set, int odd, int rows, int cols)
{
    size_t npad = 320, ldg = npad + 16;
    float *e = rand_f(2 * ldg, 0, 1.5), s[2][3] = {{0.37f, -1.3f, 2.1e-3f}, {1.0f, 0.5f, -7.0f}};
    e[5] = 0.0f, e[6] = -0.0f, e[7] = 1e-39f, e[8] = 3e38f, e[9] = -2e-39f; /* subnormals: */
    e[ldg + 200] = 1e-37f;                                      /* signed zeros */
    float *orig = malloc(2 * ldg * 4);
    memcpy(orig, e, 2 * ldg * 4);
    negs_bf16_grow g[2];
    for (int k = 0; k < 2; k++) {
        g[k].e = e + k * ldg;
        g[k].s = k && odd ? NULL : s[k];
        g[k].tc = k ? 131 : 17;
        g[k].ta = k ? -0.25f : 0.125f;
    }
    hw->g_pairs(&g[0], &g[1], set, npad, rows, cols);
    uint16_t want[2][320];
    for (int k = 0; k < 2; k++)
        for (size_t c = 0; c < npad; c++) {
            float x = orig[k * ldg + c] * s[k][c / 128];
            if (c == g[k].tc) x = set ? g[k].ta : x + g[k].ta;
            want[k][c] = k && odd ? 0u : g_bits(x);
        }
    uint32_t *slot = (uint32_t *)(void *)e, *was = (uint32_t *)(void *)orig;
    int mark[2 * 336] = {0}; /* slots the pairs own */
    for (int k = 0; k < 2; k++)
        for (size_t q = 0; q < npad / 2; q++) {
            size_t at = k * ldg + negs_bf16_row_slot(q);
            mark[at] = 1;
            if (rows && !(k && odd))
                assert_int_equal(slot[at], (uint32_t)want[k][2 * q] |
                                               (uint32_t)want[k][2 * q + 1] << 16);
            else
                assert_int_equal(slot[at], was[at]);
        }
    for (size_t c = 0; c < npad; c++) {
        size_t at = negs_bf16_col_slot(c, ldg);
        assert_int_equal(mark[at], 0);
        mark[at] = 1;
        assert_int_equal(slot[at], cols ? ((uint32_t)want[0][c] | (uint32_t)want[1][c] << 16)
                                        : was[at]);
    }
    for (size_t at = 0; at < 2 * ldg; at++) /* the rows' padding: untouched */
        if (!mark[at]) assert_int_equal(slot[at], was[at]);
    free(e), free(orig);
}

static void test_native_pairs(void **state)
{
    (void)state;
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    double kind = -1;
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_BF16_KERNEL, &kind), 0);
    negs_loss_free(l);
    if (kind != NEGS_BF16_KERNEL_AVX512BF16) {
        fprintf(stderr, "no AVX512-BF16 on this CPU: the native pairing is not tested\n");
        return;
    }
    for (int set = 0; set < 2; set++)
        for (int odd = 0; odd < 2; odd++)
            for (int which = 1; which < 4; which++)
                native_pairs_case(&negs_bf16_kernels_avx512bf16, set, odd, which & 1, which >> 1);
}

/* The native row pairs: the portable function's bits and return value, every dim % 16 and an
 * odd end, ties, values that carry into the exponent, and the first entry that rounds to Inf
 * (in either row of a pair). */
static void test_native_row_pairs(void **state)
{
    (void)state;
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    double kind = -1;
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_BF16_KERNEL, &kind), 0);
    negs_loss_free(l);
    if (kind != NEGS_BF16_KERNEL_AVX512BF16) {
        fprintf(stderr, "no AVX512-BF16 on this CPU: the native row pairs are not tested\n");
        return;
    }
    const negs_bf16_kernels *hw = &negs_bf16_kernels_avx512bf16;
    for (size_t dim = 1; dim <= 40; dim++)
        for (size_t rows = 1; rows <= 5; rows += 2) {
            size_t n = rows * dim, np = (rows + 1) / 2 * dim;
            float *x = rand_f(n, -3, 3);
            for (size_t q = 0; q < n; q += 3) /* ties, and ties that carry */
                x[q] = from_bits((to_bits(x[q]) & 0xffff0000u) | (q % 2 ? 0x8000u : 0xffffu));
            if (n > 4) x[4] = 1e-39f, x[n - 1] = -3.3e38f;
            uint32_t *a = malloc(np * 4), *b = malloc(np * 4);
            memset(b, 0xcd, np * 4);
            assert_int_equal(hw->row_pairs(x, rows, dim, a), n);
            assert_int_equal(negs_bf16_pack_row_pairs(x, rows, dim, b), n);
            assert_memory_equal(a, b, np * 4);
            for (size_t at = dim / 2; at < n; at += dim + 1) { /* one Inf, then two */
                float keep = x[at];
                x[at] = from_bits(0x7f7f8000u);
                assert_int_equal(hw->row_pairs(x, rows, dim, a), at);
                if (at + dim < n) {
                    x[at + dim] = -FLT_MAX;
                    assert_int_equal(hw->row_pairs(x, rows, dim, a), at);
                    x[at + dim] = from_bits(to_bits(x[at + dim]) & 0x3fffffffu);
                }
                x[at] = keep;
            }
            free(x), free(a), free(b);
        }
}

static void test_precision_param(void **state)
{
    (void)state;
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    double v = -1;
    /* the bf16 kernel: native when the CPU reports AVX512-BF16 (CPUID leaf 7 subleaf 1, EAX
     * bit 5) with AVX-512 F, BW, VL and NEGS_FORCE_BF16 or the measured rates choose it */
    unsigned ea = 0, eb = 0, ec = 0, ed = 0;
    int has = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
              __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
              __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
              __get_cpuid_count(7, 1, &ea, &eb, &ec, &ed) && (ea >> 5 & 1u);
    const char *fs = getenv("NEGS_FORCE_SCALAR");
    if (fs && fs[0] == '1') has = 0;
    const char *cap = getenv("NEGS_FORCE_ISA"); /* every cap drops AVX512-BF16 */
    if (cap && (!strcmp(cap, "avx512") || !strcmp(cap, "avx2") || !strcmp(cap, "scalar"))) has = 0;
    const char *fb = getenv("NEGS_FORCE_BF16"); /* main forces "native" unless set */
    if (!fb || strcmp(fb, "native")) {
        double fma, bf16;
        negs_bf16_rates(&fma, &bf16);
        if (fb && !strcmp(fb, "portable")) has = 0;
        else has = has && negs_bf16_native_pays(fma, bf16);
    }
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_BF16_KERNEL, &v), 0);
    assert_true(v == (has ? NEGS_BF16_KERNEL_AVX512BF16 : NEGS_BF16_KERNEL_PORTABLE));
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_FORCE_SCALAR, 1), 0);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_BF16_KERNEL, &v), 0);
    assert_true(v == NEGS_BF16_KERNEL_PORTABLE);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_FORCE_SCALAR, 0), 0);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_BF16_KERNEL, 0), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "NEGS_LP_BF16_KERNEL is read-only"));
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_PRECISION, &v), 0);
    assert_true(v == NEGS_PRECISION_FP32);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_BF16), 0);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_PRECISION, &v), 0);
    assert_true(v == NEGS_PRECISION_BF16);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_PRECISION, 2), NEGS_E_INVALID);
    assert_string_equal(negs_last_error(), "NEGS_E_INVALID: negs_loss_set_param: precision = 2 "
                                           "is not NEGS_PRECISION_FP32 (0) or "
                                           "NEGS_PRECISION_BF16 (1)");
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_PRECISION, 0.5), NEGS_E_INVALID);
    assert_fails_with(negs_loss_set_param(l, NEGS_LP_PRECISION, NAN), NEGS_E_INVALID);
    assert_int_equal(negs_loss_get_param(l, NEGS_LP_PRECISION, &v), 0);
    assert_true(v == NEGS_PRECISION_BF16); /* unchanged by the refused values */
    negs_loss_free(l);
    /* the score-level kinds: FP32 is what they do, BF16 is refused */
    for (int kind = NEGS_LOSS_BCE; kind <= NEGS_LOSS_LISTNET; kind++) {
        if (kind == NEGS_LOSS_SOFTMAX) continue;
        l = negs_loss_create(kind);
        assert_fails_with(negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_BF16),
                          NEGS_E_UNSUPPORTED);
        assert_non_null(strstr(negs_last_error(), "NEGS_LOSS_SOFTMAX"));
        assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_FP32), 0);
        assert_fails_with(negs_loss_set_param(l, NEGS_LP_PRECISION, 3), NEGS_E_INVALID);
        assert_int_equal(negs_loss_get_param(l, NEGS_LP_PRECISION, &v), 0);
        assert_true(v == NEGS_PRECISION_FP32);
        negs_loss_free(l);
    }
}

static double *rounded_d(const float *x, size_t n)
{
    float *r = malloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++) r[i] = negs_bf16_round(x[i]);
    double *y = to_d(r, n);
    free(r);
    return y;
}

/* Unit rows as the library forms them (norm in double, x / ||x|| rounded to float), then
 * rounded to bf16; the double unit rows in unit, the norms in norm. */
static double *unit_bf16(const float *x, size_t n, size_t d, double *unit, double *norm)
{
    double *y = malloc(n * d * sizeof *y);
    for (size_t r = 0; r < n; r++) {
        double ss = 0.0;
        for (size_t k = 0; k < d; k++) ss += (double)x[r * d + k] * (double)x[r * d + k];
        norm[r] = sqrt(ss);
        for (size_t k = 0; k < d; k++) {
            float f = (float)((double)x[r * d + k] * (1.0 / norm[r]));
            unit[r * d + k] = f;
            y[r * d + k] = negs_bf16_round(f);
        }
    }
    return y;
}

/* What G's rounding may move in each gradient entry, in double on the rows x (already
 * rounded): bu_ik = coef sum_j (p_ij + [i == j]) |v_jk|, bv_jk = coef sum_i (p_ij + [i == j])
 * |u_ik|; each rounded weight is within 2^-9 of its value (the tests allow 2^-8 B). */
static void g_round_bound(const ib_case *c, const double *u, const double *v, double *bu,
                          double *bv)
{
    size_t b = c->b, n = c->b + c->m, d = c->dim;
    double coef = (c->reduction == 0 ? 1.0 / (double)b : 1.0) / c->temperature;
    double *z = malloc(n * sizeof *z);
    memset(bu, 0, b * d * sizeof *bu);
    memset(bv, 0, n * d * sizeof *bv);
    for (size_t i = 0; i < b; i++) {
        double mx = -INFINITY, sum = 0.0;
        for (size_t j = 0; j < n; j++) {
            double s = 0.0;
            for (size_t k = 0; k < d; k++) s += u[i * d + k] * v[j * d + k];
            z[j] = ib_masked(c, i, j) ? -INFINITY
                   : s / c->temperature - (c->logq ? (double)c->logq[j] : 0.0);
            mx = fmax(mx, z[j]);
        }
        for (size_t j = 0; j < n; j++) sum += exp(z[j] - mx);
        for (size_t j = 0; j < n; j++) {
            double w = coef * (exp(z[j] - mx) / sum + (j == i ? 1.0 : 0.0));
            if (w == 0.0) continue;
            for (size_t k = 0; k < d; k++) {
                bu[i * d + k] += w * fabs(v[j * d + k]);
                bv[j * d + k] += w * fabs(u[i * d + k]);
            }
        }
    }
    free(z);
}

/* The bound through the normalisation (ib_back_unit's map on absolute values). */
static void bound_back_unit(double *g, const double *y, const double *norm, size_t n, size_t d)
{
    for (size_t r = 0; r < n; r++) {
        double dot = 0.0;
        for (size_t k = 0; k < d; k++) dot += fabs(y[r * d + k]) * g[r * d + k];
        for (size_t k = 0; k < d; k++)
            g[r * d + k] = (g[r * d + k] + fabs(y[r * d + k]) * dot) / norm[r];
    }
}

/* Every |a - ref| within slack * bnd + tol * max |ref|. */
static void within(const float *a, const double *ref, const double *bnd, double slack,
                   size_t n, double tol)
{
    double mx = 1e-30;
    for (size_t q = 0; q < n; q++) mx = fmax(mx, fabs(ref[q]));
    for (size_t q = 0; q < n; q++) {
        double e = fabs((double)a[q] - ref[q]), lim = slack * bnd[q] + tol * mx;
        if (e > lim) fprintf(stderr, "entry %zu: %g vs %g (limit %g)\n", q, (double)a[q], ref[q], lim);
        assert_true(e <= lim);
    }
}

typedef struct bopts {
    size_t b, m, dim;
    double t;
    int red, logq, items, users, threads, scalar, cosine;
} bopts;

/* The library in bf16 against the dense double reference on the rounded rows: the same
 * function, so the loss agrees to fp32 level (tol) and the gradients within the rounding of
 * G (2^-8 of g_round_bound) plus tol of their largest entry. */
static void rounded_case(const bopts *o, double tol)
{
    size_t b = o->b, n = o->b + o->m, d = o->dim;
    double a = sqrt(3.0) / pow((double)d, 0.25);
    float *u = rand_f(b * d, -a, a), *v = rand_f(n * d, -a, a);
    float *lq = o->logq ? rand_f(n, -6, -1) : NULL;
    for (size_t j = o->b; lq && j < n; j += 5) lq[j] = -INFINITY;
    uint32_t *items = NULL, *users = NULL, n_items = (uint32_t)(n / 2 + 1);
    pos_tab pt = {NULL, NULL, 0, 0};
    if (o->items) {
        items = malloc(n * sizeof *items);
        for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * n_items);
    }
    negs_loss *l = make_loss(o->t, o->red, o->threads, o->scalar);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_BF16), 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, o->cosine), 0);
    if (o->users) {
        pt = make_pos(7, n_items, 0.15);
        users = malloc(b * sizeof *users);
        for (size_t i = 0; i < b; i++) users[i] = (uint32_t)(urand() * 7);
        assert_int_equal(negs_loss_set_positives(l, pt.csr), 0);
    }
    size_t nl = o->red == NEGS_REDUCE_NONE ? b : 1;
    float *loss = malloc(nl * 4), *du = malloc(b * d * 4), *dv = malloc(n * d * 4);
    assert_int_equal(negs_loss_inbatch(l, b, o->m, d, u, v, lq, items, users, loss, du, dv), 0);

    ib_case c = {b, o->m, d, o->t, o->red, lq, items, users, pt.dense, n_items};
    double *rows = malloc(b * sizeof *rows), *gu = malloc(b * d * 8), *gv = malloc(n * d * 8);
    double *ud, *vd, ref, *bu = malloc(b * d * 8), *bv = malloc(n * d * 8);
    if (o->cosine) {
        double *uu = malloc(b * d * 8), *uv = malloc(n * d * 8), *nu = malloc(b * 8),
               *nv = malloc(n * 8);
        ud = unit_bf16(u, b, d, uu, nu);
        vd = unit_bf16(v, n, d, uv, nv);
        ref = ib_ref(&c, ud, vd, rows, gu, gv);
        g_round_bound(&c, ud, vd, bu, bv);
        ib_back_unit(gu, uu, nu, b, d); /* through the unrounded unit rows, as the library */
        ib_back_unit(gv, uv, nv, n, d);
        bound_back_unit(bu, uu, nu, b, d);
        bound_back_unit(bv, uv, nv, n, d);
        free(uu), free(uv), free(nu), free(nv);
    } else {
        ud = rounded_d(u, b * d);
        vd = rounded_d(v, n * d);
        ref = ib_ref(&c, ud, vd, rows, gu, gv);
        g_round_bound(&c, ud, vd, bu, bv);
    }
    if (o->red == NEGS_REDUCE_NONE) {
        for (size_t i = 0; i < b; i++)
            assert_true(fabs(loss[i] - rows[i]) <= tol * fmax(1.0, fabs(rows[i])));
    } else {
        assert_true(fabs(loss[0] - ref) <= tol * fmax(1.0, fabs(ref)));
    }
    within(du, gu, bu, ldexp(1.0, -8), b * d, tol);
    within(dv, gv, bv, ldexp(1.0, -8), n * d, tol);
    /* and G's rounding is really there: not the fp32-G gradients of the rounded rows */
    if (o->b * d >= 1000) assert_true(rel_err(du, gu, b * d, 1e-30) > 1e-6);
    negs_loss_free(l);
    free_pos(&pt);
    free(u), free(v), free(lq), free(items), free(users), free(loss), free(du), free(dv);
    free(rows), free(gu), free(gv), free(ud), free(vd), free(bu), free(bv);
}

static void test_matches_rounded_reference(void **state)
{
    (void)state;
    static const bopts cases[] = {
        {37, 0, 5, 1.0, NEGS_REDUCE_MEAN, 0, 0, 0, 1, 0, 0},
        {64, 29, 16, 0.05, NEGS_REDUCE_MEAN, 1, 1, 0, 1, 0, 0},
        {100, 57, 33, 0.1, NEGS_REDUCE_SUM, 1, 1, 1, 2, 0, 0},
        {100, 57, 33, 0.1, NEGS_REDUCE_NONE, 1, 1, 1, 2, 1, 0},
        {130, 70, 48, 0.05, NEGS_REDUCE_MEAN, 1, 1, 0, 1, 1, 0},
        {130, 70, 48, 0.05, NEGS_REDUCE_MEAN, 1, 1, 1, 2, 0, 1},
        {90, 40, 20, 0.07, NEGS_REDUCE_SUM, 0, 1, 0, 1, 1, 1},
    };
    for (size_t q = 0; q < sizeof cases / sizeof cases[0]; q++) rounded_case(&cases[q], 1e-5);
}

/* The bench's data (tests/bench/bench_inbatch.c): entries uniform in [-1, 1] / sqrt(dim),
 * logq = -5 + U(-1, 1), item ids from a popularity-skewed catalogue of 10 n, T = 0.05. */
typedef struct bench_data {
    size_t b, m, dim;
    float *u, *v, *lq;
    uint32_t *items;
} bench_data;

static bench_data bench_case(size_t b, size_t m, size_t dim)
{
    size_t n = b + m;
    bench_data x = {b, m, dim, NULL, NULL, NULL, NULL};
    double sc = 1.0 / sqrt((double)dim);
    x.u = rand_f(b * dim, -sc, sc);
    x.v = rand_f(n * dim, -sc, sc);
    x.lq = rand_f(n, -6, -4);
    x.items = malloc(n * sizeof *x.items);
    for (size_t j = 0; j < n; j++) {
        double r = urand();
        x.items[j] = (uint32_t)(10.0 * (double)n * r * r * r);
    }
    return x;
}

static void run_bench_case(const bench_data *x, int precision, int threads, float *loss,
                           float *du, float *dv)
{
    negs_loss *l = make_loss(0.05, NEGS_REDUCE_MEAN, threads, 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, precision), 0);
    assert_int_equal(negs_loss_inbatch(l, x->b, x->m, x->dim, x->u, x->v, x->lq, x->items, NULL,
                                       loss, du, dv), 0);
    negs_loss_free(l);
}

/* The a-priori bound of docs/inbatch.md ("bf16 against fp32"), per element, from the inputs
 * and the probabilities p (in double): with eps_i = (2^-7 + 2^-16 + 2 dim 2^-24)
 * max_j sum_k |u_ik| |v_jk| / T, a bound on how far a logit of row i moves,
 *   |du' - du|_ik <= coef ((e^{2 eps_i} - 1)(1 + 2^-8) Vmax_k + 2^-8 (Vmax_k + |v_ik|)
 *                          + 2^-8 (1 + 2^-8) (Vmax_k + |v_ik|)),
 *   |dv' - dv|_jk <= coef ((1 + 2^-8) Q_j Umax_k + 2^-8 (P_j Umax_k + [j < b] |u_jk|)
 *                          + 2^-8 (1 + 2^-8) (P_j + Q_j + [j < b]) Umax_k),
 * the last terms for the rounding of G (2^-9 per weight, doubled for the float operations
 * around it);
 * P_j = sum_i p_ij, Q_j = sum_i p_ij (e^{2 eps_i} - 1), Vmax_k = max_j |v_jk|, Umax_k likewise;
 * plus 1e-5 of the largest gradient entry for the fp32 rounding of both results. Returns the
 * largest (difference / bound) over the entries (<= 1: the bound holds). */
static double bound_ratio(const bench_data *x, const float *du0, const float *dv0,
                          const float *du1, const float *dv1)
{
    size_t b = x->b, n = b + x->m, d = x->dim;
    double t = 0.05, coef = 1.0 / ((double)b * t), u8 = ldexp(1.0, -8);
    double *z = malloc(n * 8), *pj = calloc(n, 8), *qj = calloc(n, 8), *eps = malloc(b * 8);
    double *vmax = calloc(d, 8), *umax = calloc(d, 8);
    for (size_t j = 0; j < n; j++)
        for (size_t k = 0; k < d; k++) vmax[k] = fmax(vmax[k], fabs(x->v[j * d + k]));
    for (size_t i = 0; i < b; i++)
        for (size_t k = 0; k < d; k++) umax[k] = fmax(umax[k], fabs(x->u[i * d + k]));
    double dz = ldexp(1.0, -7) + ldexp(1.0, -16) + 2.0 * (double)d * ldexp(1.0, -24);
    for (size_t i = 0; i < b; i++) {
        double mx = -INFINITY, amax = 0.0, sum = 0.0;
        for (size_t j = 0; j < n; j++) {
            double s = 0.0, sa = 0.0;
            for (size_t k = 0; k < d; k++) {
                double p = (double)x->u[i * d + k] * (double)x->v[j * d + k];
                s += p;
                sa += fabs(p);
            }
            int masked = j != i && x->items[j] == x->items[i];
            z[j] = masked ? -INFINITY : s / t - x->lq[j];
            if (!masked) amax = fmax(amax, sa);
            mx = fmax(mx, z[j]);
        }
        eps[i] = dz * amax / t;
        for (size_t j = 0; j < n; j++) sum += exp(z[j] - mx);
        double grow = expm1(2.0 * eps[i]);
        for (size_t j = 0; j < n; j++) {
            double p = exp(z[j] - mx) / sum;
            pj[j] += p;
            qj[j] += p * grow;
        }
    }
    double gmax = 0.0, worst = 0.0;
    for (size_t q = 0; q < b * d; q++) gmax = fmax(gmax, fabs(du0[q]));
    for (size_t q = 0; q < n * d; q++) gmax = fmax(gmax, fabs(dv0[q]));
    for (size_t i = 0; i < b; i++)
        for (size_t k = 0; k < d; k++) {
            double bd = coef * (expm1(2.0 * eps[i]) * (1.0 + u8) * vmax[k] +
                                u8 * (vmax[k] + fabs(x->v[i * d + k])) +
                                u8 * (1.0 + u8) * (vmax[k] + fabs(x->v[i * d + k]))) +
                        1e-5 * gmax;
            worst = fmax(worst, fabs((double)du1[i * d + k] - du0[i * d + k]) / bd);
        }
    for (size_t j = 0; j < n; j++)
        for (size_t k = 0; k < d; k++) {
            double bd = coef * ((1.0 + u8) * qj[j] * umax[k] +
                                u8 * (pj[j] * umax[k] + (j < b ? fabs(x->u[j * d + k]) : 0.0)) +
                                u8 * (1.0 + u8) * (pj[j] + qj[j] + (j < b)) * umax[k]) +
                        1e-5 * gmax;
            worst = fmax(worst, fabs((double)dv1[j * d + k] - dv0[j * d + k]) / bd);
        }
    free(z), free(pj), free(qj), free(eps), free(vmax), free(umax);
    return worst;
}

static double max_rel(const float *a, const float *ref, size_t n)
{
    double mx = 1e-30, e = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx = fmax(mx, fabs(ref[i]));
        e = fmax(e, fabs((double)a[i] - ref[i]));
    }
    return e / mx;
}

/* The bench's cases (b = 1024, m in {0, 4096}, dim in {64, 128}; a quarter of that under
 * NEGS_SANITIZE): loss within 1e-2 relative of fp32, every gradient entry within the a-priori
 * bound, and the max-norm relative gradient differences within the figure docs/inbatch.md
 * quotes (1e-2; measured 1.9e-3 to 2.7e-3, most of it the rounding of v_i and u_j in the
 * target terms, which is up to 2^-8 of them). */
static void test_bench_cases_against_fp32(void **state)
{
    (void)state;
    size_t b = negs_test_sanitized() ? 256 : 1024;
    for (int mi = 0; mi < 2; mi++)
        for (int di = 0; di < 2; di++) {
            size_t m = mi ? 4 * b : 0, d = di ? 128 : 64, n = b + m;
            bench_data x = bench_case(b, m, d);
            float l0, l1, *du0 = malloc(b * d * 4), *dv0 = malloc(n * d * 4);
            float *du1 = malloc(b * d * 4), *dv1 = malloc(n * d * 4);
            run_bench_case(&x, NEGS_PRECISION_FP32, 2, &l0, du0, dv0);
            run_bench_case(&x, NEGS_PRECISION_BF16, 2, &l1, du1, dv1);
            double el = fabs((double)l1 - l0) / fabs((double)l0);
            double eu = max_rel(du1, du0, b * d), ev = max_rel(dv1, dv0, n * d);
            double ratio = bound_ratio(&x, du0, dv0, du1, dv1);
            if (getenv("IB_DEBUG"))
                fprintf(stderr, "b %zu m %zu dim %zu: loss %.3g du %.3g dv %.3g bound %.3g\n",
                        b, m, d, el, eu, ev, ratio);
            assert_true(el <= 1e-2);
            assert_true(ratio <= 1.0);
            assert_true(eu <= 1e-2 && ev <= 1e-2);
            free(du0), free(dv0), free(du1), free(dv1);
            free(x.u), free(x.v), free(x.lq), free(x.items);
        }
}

/* bf16 results are the same bytes for 1, 2 and 5 threads, with every mask, for the gathered
 * and the indexed calls, on the handle's kernel and on the portable one; the indexed call
 * equals gathering the rows and calling. */
static void test_threads_and_indexed_identical(void **state)
{
    (void)state;
    size_t b = 230, m = 150, d = 37, n = b + m;
    float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), *lq = rand_f(n, -8, -1);
    uint32_t *items = malloc(n * 4), *users = malloc(b * 4), *ui = malloc(b * 4);
    for (size_t j = 0; j < n; j++) items[j] = (uint32_t)(urand() * 200);
    for (size_t i = 0; i < b; i++) users[i] = (uint32_t)(urand() * 9), ui[i] = users[i];
    pos_tab pt = make_pos(9, 200, 0.1);
    /* tables: user row users[i] holds u_i's values for the first such i, the items likewise */
    float *ue = calloc(9 * d, 4), *ie = calloc(200 * d, 4);
    for (size_t i = 0; i < b; i++) memcpy(ue + users[i] * d, u + i * d, d * 4);
    for (size_t j = 0; j < n; j++) memcpy(ie + items[j] * d, v + j * d, d * 4);
    float *gu = malloc(b * d * 4), *gv = malloc(n * d * 4);
    for (size_t i = 0; i < b; i++) memcpy(gu + i * d, ue + users[i] * d, d * 4);
    for (size_t j = 0; j < n; j++) memcpy(gv + j * d, ie + items[j] * d, d * 4);
    for (int cs = 0; cs < 4; cs++) {
        int cosine = cs & 1, scalar = cs >> 1; /* the handle's kernel, then the portable one */
        float *ref[3] = {NULL, NULL, NULL};
        const int counts[3] = {1, 2, 5};
        for (int t = 0; t < 3; t++) {
            negs_loss *l = make_loss(0.1, NEGS_REDUCE_MEAN, counts[t], scalar);
            assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, 1), 0);
            assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, cosine), 0);
            assert_int_equal(negs_loss_set_positives(l, pt.csr), 0);
            float loss, *du = malloc(b * d * 4), *dv = malloc(n * d * 4);
            assert_int_equal(negs_loss_inbatch(l, b, m, d, gu, gv, lq, items, users, &loss, du,
                                               dv), 0);
            float li, *dur = malloc(b * d * 4), *dvr = malloc(n * d * 4);
            assert_int_equal(negs_loss_inbatch_indexed_rows(l, b, m, d, ue, 9, ie, 200, ui,
                                                            items, lq, &li, dur, dvr), 0);
            assert_memory_equal(&li, &loss, 4);
            assert_memory_equal(dur, du, b * d * 4);
            assert_memory_equal(dvr, dv, n * d * 4);
            free(dur), free(dvr);
            if (!ref[0]) {
                ref[0] = malloc(4);
                memcpy(ref[0], &loss, 4);
                ref[1] = du, ref[2] = dv;
            } else {
                assert_memory_equal(&loss, ref[0], 4);
                assert_memory_equal(du, ref[1], b * d * 4);
                assert_memory_equal(dv, ref[2], n * d * 4);
                free(du), free(dv);
            }
            negs_loss_free(l);
        }
        free(ref[0]), free(ref[1]), free(ref[2]);
    }
    free_pos(&pt);
    free(u), free(v), free(lq), free(items), free(users), free(ui), free(ue), free(ie);
    free(gu), free(gv);
}

/* The handle's kernel (native where the CPU has it) against the portable path on the same
 * inputs, within the bound of docs/inbatch.md ("the two bf16 paths"): both multiply the same
 * rounded values; their logits differ by the fp32 order of the sums, at most
 * eta = 2 (dim + 2) 2^-24 max_ij sum_k |u'_ik| |v'_jk| / T, so every gradient entry is within
 * (2^-8 + 2 (e^{2 eta} - 1) + 2 (b + n + 2) 2^-24) B + 10^-6 max |g| (B: g_round_bound; a
 * weight near a rounding boundary may round apart by one bf16 ulp, 2^-8), and the loss within
 * 2 eta + 10^-6 relative. */
static void native_case(size_t b, size_t m, size_t d, int cosine, int masks)
{
    size_t n = b + m;
    double t = 0.05;
    float *u = rand_f(b * d, -0.3, 0.3), *v = rand_f(n * d, -0.3, 0.3), *lq = rand_f(n, -7, -3);
    uint32_t *items = masks ? malloc(n * 4) : NULL;
    for (size_t j = 0; masks && j < n; j++) items[j] = (uint32_t)(urand() * (double)n);
    /* 0: the native kernel where the CPU has it (main forces it), 1: the portable path on
     * the portable C kernels, 2: on the handle's fp32 kernels (NEGS_FORCE_BF16=portable) */
    float loss[3], *du[3], *dv[3];
    const char *force = getenv("NEGS_FORCE_BF16");
    for (int p = 0; p < 3; p++) {
        if (p == 2) setenv("NEGS_FORCE_BF16", "portable", 1);
        negs_loss *l = make_loss(t, NEGS_REDUCE_MEAN, 2, p == 1);
        if (p == 2) force ? setenv("NEGS_FORCE_BF16", force, 1) : unsetenv("NEGS_FORCE_BF16");
        assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_BF16), 0);
        assert_int_equal(negs_loss_set_param(l, NEGS_LP_COSINE, cosine), 0);
        du[p] = malloc(b * d * 4), dv[p] = malloc(n * d * 4);
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, items, NULL, &loss[p], du[p],
                                           dv[p]), 0);
        negs_loss_free(l);
    }
    /* the bound, in double on the rounded rows the products read */
    ib_case c = {b, m, d, t, NEGS_REDUCE_MEAN, lq, items, NULL, NULL, 0};
    double *bu = malloc(b * d * 8), *bv = malloc(n * d * 8), *ud, *vd;
    double *uu = NULL, *uv = NULL, *nu = malloc(b * 8), *nv = malloc(n * 8);
    if (cosine) {
        uu = malloc(b * d * 8), uv = malloc(n * d * 8);
        ud = unit_bf16(u, b, d, uu, nu);
        vd = unit_bf16(v, n, d, uv, nv);
    } else {
        ud = rounded_d(u, b * d);
        vd = rounded_d(v, n * d);
    }
    g_round_bound(&c, ud, vd, bu, bv);
    if (cosine) {
        bound_back_unit(bu, uu, nu, b, d);
        bound_back_unit(bv, uv, nv, n, d);
    }
    double amax = 0.0;
    for (size_t i = 0; i < b; i++)
        for (size_t j = 0; j < n; j++) {
            double sa = 0.0;
            for (size_t k = 0; k < d; k++) sa += fabs(ud[i * d + k] * vd[j * d + k]);
            amax = fmax(amax, sa);
        }
    double eta = 2.0 * (double)(d + 2) * ldexp(1.0, -24) * amax / t;
    double slack = ldexp(1.0, -8) + 2.0 * expm1(2.0 * eta) + 2.0 * (double)(b + n + 2) * ldexp(1.0, -24);
    double *g0 = malloc((b > n ? b : n) * d * 8);
    for (int p = 1; p < 3; p++) {
        for (size_t q = 0; q < b * d; q++) g0[q] = du[p][q];
        within(du[0], g0, bu, slack, b * d, 1e-6);
        for (size_t q = 0; q < n * d; q++) g0[q] = dv[p][q];
        within(dv[0], g0, bv, slack, n * d, 1e-6);
        assert_true(fabs((double)loss[0] - loss[p]) <= (2.0 * eta + 1e-6) * fabs((double)loss[p]));
    }
    if (getenv("IB_DEBUG"))
        fprintf(stderr, "native vs portable b %zu m %zu dim %zu cos %d: loss %.3g du %.3g dv "
                "%.3g (eta %.3g)\n", b, m, d, cosine, fabs((double)loss[0] - loss[1]) / loss[1],
                max_rel(du[0], du[1], b * d), max_rel(dv[0], dv[1], n * d), eta);
    free(g0), free(bu), free(bv), free(ud), free(vd), free(uu), free(uv), free(nu), free(nv);
    for (int p = 0; p < 3; p++) free(du[p]), free(dv[p]);
    free(u), free(v), free(lq), free(items);
}

static void test_native_against_portable(void **state)
{
    (void)state;
    int small = negs_test_sanitized();
    native_case(small ? 100 : 300, small ? 60 : 700, 64, 0, 1);
    native_case(small ? 97 : 301, small ? 30 : 301, 37, 0, 0); /* odd sizes: padded pairs */
    native_case(small ? 64 : 200, small ? 16 : 120, 128, 1, 1);
    native_case(49, 3, 1, 0, 1);
}

/* G's rounding bound for the debiased softmax (no masks, every column live), in double on the
 * rounded rows x, and du itself (gu, to check the weights against the library): bu_ik = sum_j |G_ij| |v_jk|, bv_jk = sum_i |G_ij| |u_ik|, with G the
 * estimator's gradient with respect to the logits times coef (docs/losses.md): with
 * D = e^zp + N Ng, a negative's weight is e^z_j / ((1 - tau) D) (0 when Ng is at its floor)
 * and the positive's -1 + e^zp (1 - N tau / (1 - tau)) / D (-1 + e^zp / D at the floor). */
static void debias_bound(size_t b, size_t n, size_t d, double t, double tau, const double *u,
                         const double *v, const float *lq, double *bu, double *bv, double *gu)
{
    double coef = 1.0 / ((double)b * t);
    double *z = malloc(n * 8);
    memset(bu, 0, b * d * 8);
    memset(bv, 0, n * d * 8);
    memset(gu, 0, b * d * 8);
    for (size_t i = 0; i < b; i++) {
        double mx = -INFINITY, sn = 0.0, N = (double)(n - 1);
        for (size_t j = 0; j < n; j++) {
            double sc = 0.0;
            for (size_t k = 0; k < d; k++) sc += u[i * d + k] * v[j * d + k];
            z[j] = sc / t - (double)lq[j];
            mx = fmax(mx, z[j]);
        }
        for (size_t j = 0; j < n; j++)
            if (j != i) sn += exp(z[j] - mx);
        double ep = exp(z[i] - mx), ng = (sn / N - tau * ep) / (1.0 - tau);
        double fl = exp(-1.0 / t - mx), clamp = ng <= fl;
        if (clamp) ng = fl;
        double dd = ep + N * ng;
        for (size_t j = 0; j < n; j++) {
            double g = j != i ? (clamp ? 0.0 : exp(z[j] - mx) / ((1.0 - tau) * dd))
                       : -1.0 + ep * (clamp ? 1.0 : 1.0 - N * tau / (1.0 - tau)) / dd;
            for (size_t k = 0; k < d; k++) gu[i * d + k] += g * coef * v[j * d + k];
            g = fabs(g) * coef;
            for (size_t k = 0; k < d; k++) {
                bu[i * d + k] += g * fabs(v[j * d + k]);
                bv[j * d + k] += g * fabs(u[i * d + k]);
            }
        }
    }
    free(z);
}

/* The debiased softmax (tau+ > 0) in bf16: the same bytes for 1, 2 and 3 threads on the
 * handle's kernel and on the portable one; the portable path against fp32 on the same rounded
 * rows (so the same logits, bit for bit) within G's rounding, 2^-8 of debias_bound; the
 * handle's kernel against the portable one within twice that (their logits' order
 * differences, eta of about 1e-4 here, move the weights far less). */
static void test_debiased_bf16(void **state)
{
    (void)state;
    size_t b = 150, m = 90, d = 40, n = b + m;
    double t = 0.1, tau = 0.05;
    float *u = rand_f(b * d, -0.4, 0.4), *v = rand_f(n * d, -0.4, 0.4), *lq = rand_f(n, -7, -3);
    float *ur = malloc(b * d * 4), *vr = malloc(n * d * 4);
    negs_bf16_round_array(u, b * d, ur);
    negs_bf16_round_array(v, n * d, vr);
    float loss[3], *du[3], *dv[3];
    for (int p = 0; p < 3; p++) { /* the handle's kernel, portable, fp32 on the rounded rows */
        du[p] = malloc(b * d * 4), dv[p] = malloc(n * d * 4);
        for (int th = 1; th <= 3; th++) {
            negs_loss *l = make_loss(t, NEGS_REDUCE_MEAN, th, p >= 1);
            assert_int_equal(negs_loss_set_param(l, NEGS_LP_TAU_PLUS, tau), 0);
            if (p < 2)
                assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_BF16),
                                 0);
            float x, *gu = malloc(b * d * 4), *gv = malloc(n * d * 4);
            assert_int_equal(negs_loss_inbatch(l, b, m, d, p < 2 ? u : ur, p < 2 ? v : vr, lq,
                                               NULL, NULL, &x, gu, gv), 0);
            if (th == 1) {
                loss[p] = x;
                memcpy(du[p], gu, b * d * 4);
                memcpy(dv[p], gv, n * d * 4);
            } else {
                assert_memory_equal(&x, &loss[p], 4);
                assert_memory_equal(gu, du[p], b * d * 4);
                assert_memory_equal(gv, dv[p], n * d * 4);
            }
            free(gu), free(gv);
            negs_loss_free(l);
        }
    }
    double *ud = to_d(ur, b * d), *vd = to_d(vr, n * d);
    double *bu = malloc(b * d * 8), *bv = malloc(n * d * 8), *ref = malloc(n * d * 8);
    debias_bound(b, n, d, t, tau, ud, vd, lq, bu, bv, ref);
    assert_true(rel_err(du[2], ref, b * d, 1e-30) <= 1e-4); /* the bound's weights are right */
    assert_true(loss[1] == loss[2]); /* the same logits: the loss does not see G */
    for (int p = 0; p < 2; p++) {
        int q = p == 0 ? 1 : 2; /* native against portable, portable against fp32 */
        double slack = ldexp(1.0, p == 0 ? -7 : -8);
        for (size_t e = 0; e < b * d; e++) ref[e] = du[q][e];
        within(du[p], ref, bu, slack, b * d, 1e-5);
        for (size_t e = 0; e < n * d; e++) ref[e] = dv[q][e];
        within(dv[p], ref, bv, slack, n * d, 1e-5);
        if (getenv("IB_DEBUG"))
            fprintf(stderr, "debiased %d vs %d: loss %.3g du %.3g dv %.3g\n", p, q,
                    fabs((double)loss[p] - loss[q]) / fabs((double)loss[q]),
                    max_rel(du[p], du[q], b * d), max_rel(dv[p], dv[q], n * d));
    }
    assert_true(memcmp(du[1], du[2], b * d * 4) != 0); /* G is rounded */
    for (int p = 0; p < 3; p++) free(du[p]), free(dv[p]);
    free(u), free(v), free(lq), free(ur), free(vr), free(ud), free(vd), free(bu), free(bv);
    free(ref);
}

/* FP32 is the default and unchanged: the default handle, one set to FP32, and one switched
 * to BF16 and back give the same bytes; BF16 gives other ones. */
static void test_fp32_default_unchanged(void **state)
{
    (void)state;
    size_t b = 150, m = 60, d = 24, n = b + m;
    float *u = rand_f(b * d, -1, 1), *v = rand_f(n * d, -1, 1), *lq = rand_f(n, -8, -1);
    float loss[4], *du[4], *dv[4];
    for (int r = 0; r < 4; r++) {
        negs_loss *l = make_loss(0.05, NEGS_REDUCE_MEAN, 2, 0);
        if (r == 1) assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, 0), 0);
        if (r >= 2) assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, 1), 0);
        if (r == 2) { /* a bf16 call, then back to fp32 on the same workspace */
            float x, *g = malloc(b * d * 4);
            assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, NULL, NULL, &x, g, NULL),
                             0);
            free(g);
            assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, 0), 0);
        }
        du[r] = malloc(b * d * 4), dv[r] = malloc(n * d * 4);
        assert_int_equal(negs_loss_inbatch(l, b, m, d, u, v, lq, NULL, NULL, &loss[r], du[r],
                                           dv[r]), 0);
        negs_loss_free(l);
    }
    for (int r = 1; r < 3; r++) {
        assert_memory_equal(&loss[r], &loss[0], 4);
        assert_memory_equal(du[r], du[0], b * d * 4);
        assert_memory_equal(dv[r], dv[0], n * d * 4);
    }
    assert_true(memcmp(du[3], du[0], b * d * 4) != 0);
    assert_true(memcmp(dv[3], dv[0], n * d * 4) != 0);
    for (int r = 0; r < 4; r++) free(du[r]), free(dv[r]);
    free(u), free(v), free(lq);
}

/* A finite entry that rounds to Inf in bf16 is refused, naming it, before anything is
 * written. */
static void test_rounds_to_inf(void **state)
{
    (void)state;
    float u[4] = {1, 2, 3, 4}, v[6] = {1, 0, 0, 1, 1, 1}, loss = -7.0f, du[4], dv[6];
    negs_loss *l = make_loss(1.0, NEGS_REDUCE_MEAN, 1, 0);
    assert_int_equal(negs_loss_set_param(l, NEGS_LP_PRECISION, 1), 0);
    v[3] = 3.3999e38f;
    memset(du, 0x5a, sizeof du);
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, NULL, NULL, NULL, &loss, du, dv),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "v row 1, entry 1"));
    assert_non_null(strstr(negs_last_error(), "rounds to Inf in bf16"));
    assert_true(loss == -7.0f);
    unsigned char fill[sizeof du];
    memset(fill, 0x5a, sizeof fill);
    assert_memory_equal(du, fill, sizeof du);
    /* u is checked too */
    v[3] = 1.0f;
    u[0] = 3.3999e38f;
    assert_fails_with(negs_loss_inbatch(l, 2, 1, 2, u, v, NULL, NULL, NULL, &loss, du, dv),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "u row 0, entry 0"));
    negs_loss_free(l);
}

int main(void)
{
    /* the native kernel wherever the CPU has it, even where the measured rates choose the
     * portable path (test_bf16_choice tests the choice), unless the caller forces a path */
    setenv("NEGS_FORCE_BF16", "native", 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_hand_picked),
        cmocka_unit_test(test_round_random_patterns),
        cmocka_unit_test(test_pack_layouts),
        cmocka_unit_test(test_native_pairs),
        cmocka_unit_test(test_native_row_pairs),
        cmocka_unit_test(test_precision_param),
        cmocka_unit_test(test_matches_rounded_reference),
        cmocka_unit_test(test_bench_cases_against_fp32),
        cmocka_unit_test(test_native_against_portable),
        cmocka_unit_test(test_threads_and_indexed_identical),
        cmocka_unit_test(test_debiased_bf16),
        cmocka_unit_test(test_fp32_default_unchanged),
        cmocka_unit_test(test_rounds_to_inf),
    };
    return cmocka_run_group_tests_name("inbatch_bf16", tests, NULL, NULL);
}
