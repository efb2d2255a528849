/* The kernel tables (scalar, and AVX2 / AVX-512 when this CPU has them): each kernel against
 * a double reference, tails and remainders, untouched neighbours, position independence of
 * the blocked scores, the exp's accuracy, and scalar vs SIMD agreement. */
#include "test_util.h"

#include "core/cpu.h"
#include "kernels/kernels.h"

/* 64-byte aligned float buffers (the packed panels are read with aligned loads). */
static float *negs_alloc_aligned_test(size_t n)
{
    void *p = NULL;
    assert_int_equal(posix_memalign(&p, 64, n * sizeof(float) + 64), 0);
    return p;
}
static void negs_free_aligned_test(float *p)
{
    free(p);
}

static uint64_t rs = 777;
static float frand(void) /* uniform in [-1, 1) */
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* The tables this CPU can run. */
static size_t tables(const negs_kernels **out)
{
    size_t n = 0;
    out[n++] = &negs_kernels_scalar;
    unsigned f = negs_cpu_features();
    if (f & NEGS_CPU_AVX2) out[n++] = &negs_kernels_avx2;
    if (f & NEGS_CPU_AVX512) out[n++] = &negs_kernels_avx512;
    return n;
}

static void test_select(void **state)
{
    (void)state;
    assert_ptr_equal(negs_kernels_select(0), &negs_kernels_scalar);
    assert_int_equal(negs_kernels_select(0)->kind, NEGS_KERNEL_SCALAR);
    assert_int_equal(negs_kernels_select(NEGS_CPU_AVX2)->kind, NEGS_KERNEL_AVX2);
    assert_int_equal(negs_kernels_select(NEGS_CPU_AVX2 | NEGS_CPU_AVX512)->kind,
                     NEGS_KERNEL_AVX512);
    const negs_kernels *t[3];
    size_t nt = tables(t);
    for (size_t i = 0; i < nt; i++) assert_int_equal(48 % t[i]->mr, 0);
}

static void test_pack_layouts(void **state)
{
    (void)state;
    /* 5 rows x 3 columns, x[r][k] = 10 r + k */
    float x[15], rp[2 * 3 * 4], cp[2 * 3 * 16];
    for (int r = 0; r < 5; r++)
        for (int k = 0; k < 3; k++) x[r * 3 + k] = (float)(10 * r + k);
    negs_pack_row_panels(x, 5, 3, 4, rp);
    assert_true(rp[0 * 4 + 2] == 20.0f && rp[2 * 4 + 3] == 32.0f);  /* panel 0 */
    assert_true(rp[12 + 1 * 4 + 0] == 41.0f && rp[12 + 1 * 4 + 1] == 0.0f); /* panel 1 */
    negs_pack_col_panels(x, 5, 3, 2, cp);
    assert_true(cp[1 * 16 + 4] == 41.0f && cp[2 * 16 + 0] == 2.0f && cp[2 * 16 + 5] == 0.0f);
    for (int q = 0; q < 48; q++) assert_true(cp[48 + q] == 0.0f); /* the all-padding panel */
}

static void test_scores(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    const size_t dims[] = {1, 7, 16, 33, 130};
    for (size_t ti = 0; ti < nt; ti++)
        for (size_t di = 0; di < 5; di++) {
            size_t d = dims[di], mr = t[ti]->mr, rows = 3 * mr - 1, cols = 61, nq = 4;
            float *a = malloc(rows * d * 4), *bm = malloc(cols * d * 4);
            float *ap = negs_alloc_aligned_test(3 * mr * d);
            float *bp = negs_alloc_aligned_test(nq * 16 * d);
            for (size_t q = 0; q < rows * d; q++) a[q] = frand();
            for (size_t q = 0; q < cols * d; q++) bm[q] = frand();
            negs_pack_row_panels(a, rows, d, mr, ap);
            negs_pack_col_panels(bm, cols, d, nq, bp);
            size_t lds = 70;
            float *s = malloc(3 * mr * lds * 4), *s1 = malloc(mr * lds * 4);
            t[ti]->scores(ap, 3, bp, nq, d, s, lds);
            for (size_t r = 0; r < 3 * mr; r++)
                for (size_t c = 0; c < 64; c++) {
                    double ref = 0.0, mag = 0.0;
                    for (size_t k = 0; k < d && r < rows && c < cols; k++) {
                        ref += (double)a[r * d + k] * bm[c * d + k];
                        mag += fabs((double)a[r * d + k] * bm[c * d + k]);
                    }
                    assert_true(fabs(s[r * lds + c] - ref) <= 1e-6 * mag + 1e-30);
                }
            /* the last row panel alone, with the last two column panels: same bits */
            t[ti]->scores(ap + 2 * mr * d, 1, bp + 2 * 16 * d, 2, d, s1, lds);
            for (size_t r = 0; r < mr; r++)
                assert_memory_equal(s1 + r * lds, s + (2 * mr + r) * lds + 32, 32 * 4);
            free(a), free(bm), free(s), free(s1);
            negs_free_aligned_test(ap), negs_free_aligned_test(bp);
        }
}

static void test_accum(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    const size_t dims[] = {1, 5, 16, 31, 64, 100, 128, 150, 257};
    for (size_t ti = 0; ti < nt; ti++)
        for (size_t di = 0; di < 9; di++)
            for (int layout = 0; layout < 2; layout++) {
                size_t d = dims[di], ni = 29, ntt = 23, ld = d + 3;
                float *acc = malloc(ni * ld * 4), *x = malloc(ntt * d * 4);
                float *w = malloc(ni * ntt * 4), *orig = malloc(ni * ld * 4);
                for (size_t q = 0; q < ni * ld; q++) orig[q] = acc[q] = frand();
                for (size_t q = 0; q < ntt * d; q++) x[q] = frand();
                for (size_t q = 0; q < ni * ntt; q++) w[q] = frand();
                /* layout 0: w[i][t]; layout 1: w[t][i] */
                size_t wsi = layout ? 1 : ntt, wst = layout ? ni : 1;
                t[ti]->accum(acc, ld, ni, w, wsi, wst, x, d, ntt, d);
                for (size_t i = 0; i < ni; i++) {
                    for (size_t k = 0; k < d; k++) {
                        double ref = orig[i * ld + k], mag = fabs(ref);
                        for (size_t tt = 0; tt < ntt; tt++) {
                            ref += (double)w[i * wsi + tt * wst] * x[tt * d + k];
                            mag += fabs((double)w[i * wsi + tt * wst] * x[tt * d + k]);
                        }
                        assert_true(fabs(acc[i * ld + k] - ref) <= 1e-6 * mag);
                    }
                    for (size_t k = d; k < ld; k++) /* the gap between rows is untouched */
                        assert_true(acc[i * ld + k] == orig[i * ld + k]);
                }
                free(acc), free(x), free(w), free(orig);
            }
}

static void test_row_ops(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    for (size_t ti = 0; ti < nt; ti++) {
        float z[64], off[64], z0[64];
        for (int c = 0; c < 64; c++) {
            z0[c] = z[c] = 10.0f * frand();
            off[c] = frand();
        }
        off[9] = INFINITY;
        float mx = t[ti]->logits(z, 64, 3.0f, off), ref_mx = -INFINITY;
        for (int c = 0; c < 64; c++) {
            double ref = (double)z0[c] * 3.0 - off[c];
            if (c == 9) {
                assert_true(z[c] == -INFINITY);
                continue;
            }
            assert_true(fabs(z[c] - ref) <= 1e-6 * fabs(ref) + 1e-6);
            if (z[c] > ref_mx) ref_mx = z[c];
        }
        assert_true(mx == ref_mx);
        assert_true(t[ti]->max(z, 64) == ref_mx);
        for (int c = 0; c < 64; c++) z0[c] = z[c];
        float sum = t[ti]->exp_scale(z, 64, mx, 0.5f);
        double ref_sum = 0.0;
        for (int c = 0; c < 64; c++) {
            double e = c == 9 ? 0.0 : 0.5 * exp((double)(z0[c] - mx)); /* float difference */
            ref_sum += e;
            if (c == 9) assert_true(z[c] == 0.0f);
            else assert_true(fabs(z[c] - e) <= 3e-7 * e + 1e-37);
        }
        assert_true(fabs(sum - ref_sum) <= 1e-6 * ref_sum);
        float ninf[16];
        for (int c = 0; c < 16; c++) ninf[c] = -INFINITY;
        assert_true(t[ti]->max(ninf, 16) == -INFINITY);
        /* scale: each entry one float product (exact in double, then rounded), only n of them */
        for (int c = 0; c < 64; c++) z0[c] = z[c] = 10.0f * frand();
        t[ti]->scale(z, 48, 0.3f);
        for (int c = 0; c < 64; c++)
            assert_true(z[c] == (c < 48 ? (float)((double)z0[c] * (double)0.3f) : z0[c]));
    }
}

/* logits_mask: exactly the set bits become -inf (every lane position of the 32-bit words),
 * the others are the logits' bytes, and the max is that of the rest. */
static void test_logits_mask(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    for (size_t ti = 0; ti < nt; ti++)
        for (int rep = 0; rep < 50; rep++) {
            float z[128], z0[128], off[128];
            uint32_t bits[4] = {0};
            for (int c = 0; c < 128; c++) {
                z0[c] = z[c] = 10.0f * frand();
                off[c] = frand();
                if (frand() < (rep % 5) * 0.25f - 0.5f) bits[c / 32] |= 1u << (c % 32);
            }
            if (rep == 49) bits[0] = bits[1] = bits[2] = bits[3] = UINT32_MAX;
            float mx = t[ti]->logits_mask(z, 128, 3.0f, off, bits), ref = -INFINITY;
            t[ti]->logits(z0, 128, 3.0f, off);
            for (int c = 0; c < 128; c++) {
                int on = bits[c / 32] >> (c % 32) & 1;
                assert_true(on ? z[c] == -INFINITY : z[c] == z0[c]);
                if (!on && z0[c] > ref) ref = z0[c];
            }
            assert_true(mx == ref);
        }
}

/* The exp over its whole range, in each table (through exp_scale) and in scalar form. */
static void test_exp_accuracy(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    enum { N = 4096 };
    static float x[N], y[N];
    double worst = 0.0;
    for (size_t ti = 0; ti < nt; ti++)
        for (int rep = 0; rep < 40; rep++) {
            for (int i = 0; i < N; i++)
                y[i] = x[i] = -87.0f + 175.0f * (float)(rep * N + i) / (40.0f * N);
            t[ti]->exp_scale(y, N, 0.0f, 1.0f);
            for (int i = 0; i < N; i++) {
                double e = exp((double)x[i]), r1 = fabs(y[i] - e) / e;
                double r2 = fabs(negs_kn_expf(x[i]) - e) / e;
                worst = fmax(worst, fmax(r1, r2));
            }
        }
    assert_true(worst < 2.5e-7);
    assert_true(negs_kn_expf(-INFINITY) == 0.0f && negs_kn_expf(-87.5f) == 0.0f);
    assert_true(negs_kn_expf(0.0f) == 1.0f);
    for (size_t ti = 0; ti < nt; ti++) {
        float z[16];
        for (int c = 0; c < 16; c++) z[c] = c % 2 ? -INFINITY : -100.0f - (float)c;
        assert_true(t[ti]->exp_scale(z, 16, 0.0f, 1.0f) == 0.0f);
        for (int c = 0; c < 16; c++) assert_true(z[c] == 0.0f && !signbit(z[c]));
    }
}

/* Every table computes the same numbers as the scalar one, to float rounding. */
/* Selection kernels: keys order like the floats, NaN / Inf answer 0, max and find on every
 * length (vector bodies and tails). */
static void test_selection_keys(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    float s[37];
    uint32_t keys[37], a[37];
    for (size_t k = 0; k < nt; k++)
        for (size_t n = 1; n <= 37; n++) {
            for (size_t i = 0; i < n; i++) {
                s[i] = i % 5 == 0 ? -0.0f : (i % 7 == 0 ? 0.0f : frand() * 1e3f);
                a[i] = (uint32_t)(frand() * 1e6f + 1e6f);
            }
            uint32_t mx = t[k]->float_keys(s, n, keys);
            float fmx = -INFINITY;
            for (size_t i = 0; i < n; i++) fmx = s[i] > fmx ? s[i] : fmx;
            for (size_t i = 0; i < n; i++) {
                assert_true(keys[i] > 0);
                assert_true((keys[i] == mx) == (s[i] == fmx));
                for (size_t j = 0; j < n; j++) {
                    assert_true((keys[i] < keys[j]) == (s[i] < s[j]));
                    assert_true((keys[i] == keys[j]) == (s[i] == s[j]));
                }
            }
            uint32_t amx = 0;
            for (size_t i = 0; i < n; i++) amx = a[i] > amx ? a[i] : amx;
            assert_int_equal(t[k]->max_u32(a, n), amx);
            assert_int_equal(t[k]->find_u32(a, n, a[n - 1]) <= n - 1, 1);
            assert_int_equal(a[t[k]->find_u32(a, n, a[n / 2])], a[n / 2]);
            assert_int_equal(t[k]->find_u32(a, n, 7), n);
            s[n / 3] = (n % 2) ? NAN : -INFINITY;
            assert_int_equal(t[k]->float_keys(s, n, keys), 0);
        }
    assert_int_equal(negs_kernels_scalar.max_u32(a, 0), 0);
}

static void test_tables_agree(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    size_t d = 77, rows = 48, cols = 64;
    float *a = malloc(rows * d * 4), *bm = malloc(cols * d * 4);
    for (size_t q = 0; q < rows * d; q++) a[q] = frand();
    for (size_t q = 0; q < cols * d; q++) bm[q] = frand();
    float *bp = negs_alloc_aligned_test(cols * d), *ap = negs_alloc_aligned_test(rows * d);
    negs_pack_col_panels(bm, cols, d, 4, bp);
    float *s[3];
    for (size_t ti = 0; ti < nt; ti++) {
        negs_pack_row_panels(a, rows, d, t[ti]->mr, ap);
        s[ti] = malloc(rows * cols * 4);
        t[ti]->scores(ap, rows / t[ti]->mr, bp, 4, d, s[ti], cols);
    }
    for (size_t ti = 1; ti < nt; ti++)
        for (size_t q = 0; q < rows * cols; q++)
            assert_true(fabs(s[ti][q] - s[0][q]) <= 1e-6 * fmax(1.0, fabs(s[0][q])));
    for (size_t ti = 0; ti < nt; ti++) free(s[ti]);
    free(a), free(bm);
    negs_free_aligned_test(ap), negs_free_aligned_test(bp);
}

/* dot and axpy: against double references, every tail length, the documented lane order
 * (recomputed here with fmaf: the SIMD tables must match it bit for bit, the portable one to
 * rounding), and axpy leaving the elements past dim untouched. */
static void test_dot_axpy(void **state)
{
    (void)state;
    const negs_kernels *t[3];
    size_t nt = tables(t);
    float a[80], b[80], y[81], y0[81];
    for (size_t dim = 1; dim <= 70; dim++) {
        for (size_t q = 0; q < 80; q++) a[q] = frand(), b[q] = frand();
        double ref = 0.0, mag = 0.0;
        for (size_t q = 0; q < dim; q++) ref += (double)a[q] * b[q], mag += fabs((double)a[q] * b[q]);
        /* the lane order with true FMAs */
        float l[16] = {0};
        for (size_t q = 0; q < dim; q++) {
            size_t full = dim - dim % 16, c = q < full ? q % 16 : q - full;
            l[c] = fmaf(a[q], b[q], l[c]);
        }
        for (size_t h = 8; h >= 1; h /= 2)
            for (size_t c = 0; c < h; c++) l[c] = l[c] + l[c + h];
        for (size_t ti = 0; ti < nt; ti++) {
            float d = t[ti]->dot(a, b, dim);
            assert_true(fabs(d - ref) <= 1e-6 * mag + 1e-30);
            if (t[ti]->kind != NEGS_KERNEL_SCALAR) assert_true(d == l[0]);
            for (size_t q = 0; q < 81; q++) y[q] = y0[q] = frand();
            t[ti]->axpy(y, 0.37f, a, dim);
            for (size_t q = 0; q < dim; q++) {
                float e = fmaf(0.37f, a[q], y0[q]);
                if (t[ti]->kind != NEGS_KERNEL_SCALAR) assert_true(y[q] == e);
                else assert_true(fabs(y[q] - e) <= 1e-7 * (fabs(e) + 1.0));
            }
            for (size_t q = dim; q < 81; q++) assert_true(y[q] == y0[q]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_select),        cmocka_unit_test(test_pack_layouts),
        cmocka_unit_test(test_scores),        cmocka_unit_test(test_accum),
        cmocka_unit_test(test_row_ops),
        cmocka_unit_test(test_logits_mask),       cmocka_unit_test(test_exp_accuracy),
        cmocka_unit_test(test_tables_agree),  cmocka_unit_test(test_dot_axpy),
        cmocka_unit_test(test_selection_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
