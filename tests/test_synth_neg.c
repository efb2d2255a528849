/* negs_synth_negatives: every output row is exactly the documented mix of the sources it
 * reports; hard lists from scores (ties to the lower slot) equal the same lists given as
 * indices; draws uniform over pairs, members and coefficients (chi-square, KS); determinism
 * and independence from the number of rows asked for; shared negatives; the documented
 * backward pass against finite differences; bad input. */
#include <float.h>
#include <stdio.h>

#include "test_util.h"

static uint64_t rs = 0xD1B54A32D192ED03ull;
static float frand(void) /* uniform in [-1, 1) */
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static float *rand_floats(size_t n)
{
    float *x = malloc(n * sizeof *x);
    for (size_t q = 0; q < n; q++) x[q] = frand();
    return x;
}

/* Each output row equals c A + (1 - c) B (formed in double, rounded once), divided by its
 * norm when normalised, with A, B the reported sources. */
static void check_mixes(size_t n, size_t dim, uint32_t k, const float *anchor, const float *neg,
                        size_t stride, size_t m, int normalize, const float *out,
                        const uint32_t *src, const float *coef, const float *inv)
{
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < m; q++) {
            const size_t o = i * m + q;
            const float c = coef[o], c1 = 1.0f - c;
            assert_true(c > 0.0f && c < 1.0f && (double)c1 == 1.0 - (double)c);
            const float *a = src[2 * o] == NEGS_SYNTH_ANCHOR ? anchor + i * dim : NULL;
            if (!a) {
                assert_true(src[2 * o] < k);
                a = neg + (i * stride + src[2 * o]) * dim;
            }
            assert_true(src[2 * o + 1] < k);
            const float *b = neg + (i * stride + src[2 * o + 1]) * dim;
            double ss = 0.0;
            float h[64];
            for (size_t d = 0; d < dim; d++) {
                h[d] = (float)((double)c * a[d] + (double)c1 * b[d]);
                ss += (double)h[d] * h[d];
            }
            for (size_t d = 0; d < dim; d++) {
                float want = normalize ? (float)((double)h[d] / sqrt(ss)) : h[d];
                assert_true(out[o * dim + d] == want);
            }
            assert_true(inv[o] == (normalize ? (float)(1.0 / sqrt(ss)) : 1.0f));
        }
}

static void test_mixes_exact(void **state)
{
    (void)state;
    const size_t n = 5, dim = 7;
    const uint32_t k = 9, nh = 4, sp = 6, sa = 3, m = sp + sa;
    float *anchor = rand_floats(n * dim), *neg = rand_floats(n * k * dim);
    float *scores = rand_floats(n * k);
    float *out = malloc(n * m * dim * 4), coef[45], inv[45];
    uint32_t src[90];
    for (int normalize = 0; normalize < 2; normalize++) {
        assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 7, 3, n, dim, k, anchor, neg, k,
                                              scores, NULL, nh, sp, sa, normalize, out, src, coef,
                                              inv),
                         NEGS_OK);
        check_mixes(n, dim, k, anchor, neg, k, m, normalize, out, src, coef, inv);
        for (size_t i = 0; i < n; i++)
            for (size_t q = 0; q < m; q++) {
                const size_t o = i * m + q;
                const uint32_t a = src[2 * o], b = src[2 * o + 1];
                /* both sources among the row's nh highest scores */
                for (int s = 0; s < 2; s++) {
                    uint32_t j = s ? b : a;
                    if (j == NEGS_SYNTH_ANCHOR) continue;
                    uint32_t higher = 0;
                    for (uint32_t t = 0; t < k; t++)
                        higher += scores[i * k + t] > scores[i * k + j];
                    assert_true(higher < nh);
                }
                if (q < sp) assert_true(a != NEGS_SYNTH_ANCHOR && a != b);
                else assert_true(a == NEGS_SYNTH_ANCHOR && coef[o] < 0.5f);
            }
    }
    /* MixGCF: negative j mixed with the positive, one coefficient per row */
    float outg[5 * 9 * 7], coefg[45], invg[45];
    uint32_t srcg[90];
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MIXGCF, 7, 3, n, dim, k, anchor, neg, k,
                                          NULL, NULL, 0, 0, 0, 0, outg, srcg, coefg, invg),
                     NEGS_OK);
    check_mixes(n, dim, k, anchor, neg, k, k, 0, outg, srcg, coefg, invg);
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < k; j++) {
            assert_true(srcg[2 * (i * k + j)] == NEGS_SYNTH_ANCHOR);
            assert_true(srcg[2 * (i * k + j) + 1] == j);
            assert_true(coefg[i * k + j] == coefg[i * k]);
        }
    assert_true(coefg[0] != coefg[k]); /* rows draw their own */
    /* n_hard = 2, one pair: the two hardest, in some order; a 1-d hand check */
    const float a1[1] = {0}, n3[3] = {1, 4, -2}, sc[3] = {0.1f, 0.9f, 0.5f};
    float o1[1], c1[1], i1[1];
    uint32_t s1[2];
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 1, 1, 1, 1, 3, a1, n3, 3, sc, NULL,
                                          2, 1, 0, 0, o1, s1, c1, i1),
                     NEGS_OK);
    assert_true((s1[0] == 1 && s1[1] == 2) || (s1[0] == 2 && s1[1] == 1));
    assert_true(o1[0] == (float)((double)c1[0] * n3[s1[0]] + (double)(1.0f - c1[0]) * n3[s1[1]]));
    free(anchor), free(neg), free(scores), free(out);
}

/* The hard list from scores (ties to the lower slot) equals the same list passed in hard_idx;
 * NULL for both means the first n_hard slots. */
static void test_hard_list(void **state)
{
    (void)state;
    const size_t n = 3, dim = 4;
    const uint32_t k = 12, nh = 5, m = 20;
    float *anchor = rand_floats(n * dim), *neg = rand_floats(n * k * dim);
    float scores[36];
    for (int q = 0; q < 36; q++) scores[q] = (float)((q * 7) % 5); /* many ties */
    uint32_t hard[15];
    for (size_t i = 0; i < n; i++) { /* brute force: sort slots by (-score, slot) */
        uint32_t ord[12];
        for (uint32_t j = 0; j < k; j++) ord[j] = j;
        for (uint32_t x = 0; x < k; x++)
            for (uint32_t y = x + 1; y < k; y++) {
                float sx = scores[i * k + ord[x]], sy = scores[i * k + ord[y]];
                if (sy > sx || (sy == sx && ord[y] < ord[x])) {
                    uint32_t t = ord[x];
                    ord[x] = ord[y], ord[y] = t;
                }
            }
        memcpy(hard + i * nh, ord, nh * 4);
    }
    float o1[3 * 20 * 4], o2[3 * 20 * 4], c1[60], c2[60];
    uint32_t s1[120], s2[120];
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 5, 9, n, dim, k, anchor, neg, k,
                                          scores, NULL, nh, 12, 8, 1, o1, s1, c1, NULL),
                     NEGS_OK);
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 5, 9, n, dim, k, anchor, neg, k, NULL,
                                          hard, nh, 12, 8, 1, o2, s2, c2, NULL),
                     NEGS_OK);
    assert_memory_equal(o1, o2, sizeof o1);
    assert_memory_equal(s1, s2, sizeof s1);
    assert_memory_equal(c1, c2, sizeof c1);
    /* no scores, no indices: slots 0..nh-1 */
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 5, 9, n, dim, k, anchor, neg, k, NULL,
                                          NULL, nh, 12, 8, 1, o2, s2, c2, NULL),
                     NEGS_OK);
    for (size_t q = 0; q < n * m * 2; q++)
        assert_true(s2[q] == NEGS_SYNTH_ANCHOR || s2[q] < nh);
    free(anchor), free(neg);
}

/* Pair draws uniform over the n_hard (n_hard - 1) ordered pairs, anchor draws over the
 * members, coefficients uniform on (0, 1) and (0, 1/2) (chi-square and KS, fixed seeds). */
static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

static void test_draw_statistics(void **state)
{
    (void)state;
    const uint32_t k = 6, nh = 4, sp = 3, sa = 2, m = sp + sa;
    const size_t n = negs_test_sanitized() ? 2000 : 20000, dim = 1;
    float *anchor = rand_floats(n), *neg = rand_floats(k); /* shared by every row */
    float *out = malloc(n * m * 4), *coef = malloc(n * m * 4);
    uint32_t *src = malloc(n * m * 2 * 4);
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 42, 0, n, dim, k, anchor, neg, 0,
                                          NULL, NULL, nh, sp, sa, 0, out, src, coef, NULL),
                     NEGS_OK);
    double pairs[16] = {0}, want_pairs[16], members[4] = {0}, want_members[4];
    float *ca = malloc(n * sp * 4), *cb = malloc(n * sa * 4);
    for (size_t i = 0; i < n; i++)
        for (uint32_t q = 0; q < m; q++) {
            size_t o = i * m + q;
            if (q < sp) {
                pairs[src[2 * o] * 4 + src[2 * o + 1]] += 1;
                ca[i * sp + q] = coef[o];
            } else {
                members[src[2 * o + 1]] += 1;
                cb[i * sa + q - sp] = coef[o];
            }
        }
    for (int x = 0; x < 16; x++) want_pairs[x] = x / 4 == x % 4 ? 0.0 : (double)n * sp / 12.0;
    for (int x = 0; x < 4; x++) want_members[x] = (double)n * sa / 4.0;
    assert_true(negs_test_chi2_p(pairs, want_pairs, 16) > 1e-4);
    assert_true(negs_test_chi2_p(members, want_members, 4) > 1e-4);
    float *cs[2] = {ca, cb};
    size_t cn[2] = {n * sp, n * sa};
    for (int w = 0; w < 2; w++) {
        qsort(cs[w], cn[w], 4, cmp_float);
        double d = 0, top = w ? 0.5 : 1.0;
        for (size_t q = 0; q < cn[w]; q++) {
            double f = cs[w][q] / top;
            d = fmax(d, fmax(fabs((q + 1.0) / cn[w] - f), fabs((double)q / cn[w] - f)));
        }
        assert_true(negs_test_ks_p(d, cn[w]) > 1e-4);
    }
    free(anchor), free(neg), free(out), free(coef), free(src), free(ca), free(cb);
}

/* Same keys, same bytes; a row's outputs do not depend on other rows or on how many mixes
 * are asked for; another step draws others. */
static void test_determinism(void **state)
{
    (void)state;
    const size_t n = 4, dim = 5;
    const uint32_t k = 8, nh = 6;
    float *anchor = rand_floats(n * dim), *neg = rand_floats(n * k * dim);
    float *scores = rand_floats(n * k);
    float a[4 * 10 * 5], b[4 * 10 * 5], c[4 * 10 * 5];
    uint32_t sa[80], sb[80];
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 3, 11, n, dim, k, anchor, neg, k,
                                          scores, NULL, nh, 6, 4, 1, a, sa, NULL, NULL),
                     NEGS_OK);
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 3, 11, n, dim, k, anchor, neg, k,
                                          scores, NULL, nh, 6, 4, 1, b, sb, NULL, NULL),
                     NEGS_OK);
    assert_memory_equal(a, b, sizeof a);
    /* fewer mixes: the same first pair rows and the same first anchor rows */
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 3, 11, n, dim, k, anchor, neg, k,
                                          scores, NULL, nh, 2, 1, 1, c, NULL, NULL, NULL),
                     NEGS_OK);
    for (size_t i = 0; i < n; i++) {
        assert_memory_equal(c + i * 3 * dim, a + i * 10 * dim, 2 * dim * 4);
        assert_memory_equal(c + (i * 3 + 2) * dim, a + (i * 10 + 6) * dim, dim * 4);
    }
    /* rows are keyed by their position in the call: a one-row call on row 0's data is row 0 */
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 3, 11, 1, dim, k, anchor, neg, k,
                                          scores, NULL, nh, 6, 4, 1, c, NULL, NULL, NULL),
                     NEGS_OK);
    assert_memory_equal(c, a, 10 * dim * 4);
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 3, 12, n, dim, k, anchor, neg, k,
                                          scores, NULL, nh, 6, 4, 1, b, sb, NULL, NULL),
                     NEGS_OK);
    assert_true(memcmp(a, b, sizeof a) != 0);
    free(anchor), free(neg), free(scores);
}

/* The backward pass of docs/losses.md, from out_src, out_coef and out_inv_norm, against
 * central differences of L = sum_o w_o . h_o with the draws held fixed. */
static double synth_loss(const float *anchor, const float *neg, const float *w, size_t n,
                         size_t dim, uint32_t k, size_t m)
{
    float out[3 * 6 * 4];
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 9, 2, n, dim, k, anchor, neg, k,
                                          NULL, NULL, 3, 4, 2, 1, out, NULL, NULL, NULL),
                     NEGS_OK);
    double l = 0;
    for (size_t q = 0; q < n * m * dim; q++) l += (double)w[q] * out[q];
    return l;
}

static void test_backward_recipe(void **state)
{
    (void)state;
    const size_t n = 3, dim = 4, m = 6;
    const uint32_t k = 5;
    float *anchor = rand_floats(n * dim), *neg = rand_floats(n * k * dim), *w = rand_floats(n * m * dim);
    float out[3 * 6 * 4], coef[18], inv[18];
    uint32_t src[36];
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 9, 2, n, dim, k, anchor, neg, k, NULL,
                                          NULL, 3, 4, 2, 1, out, src, coef, inv),
                     NEGS_OK);
    double ga[12] = {0}, gn[60] = {0};
    for (size_t i = 0; i < n; i++)
        for (size_t q = 0; q < m; q++) {
            const size_t o = i * m + q;
            const float *h = out + o * dim, *g = w + o * dim;
            double hg = 0;
            for (size_t d = 0; d < dim; d++) hg += (double)h[d] * g[d];
            for (size_t d = 0; d < dim; d++) {
                double gt = inv[o] * (g[d] - h[d] * hg); /* through the normalisation */
                double *ta = src[2 * o] == NEGS_SYNTH_ANCHOR ? ga + i * dim
                                                             : gn + (i * k + src[2 * o]) * dim;
                ta[d] += coef[o] * gt;
                gn[(i * k + src[2 * o + 1]) * dim + d] += (1.0 - coef[o]) * gt;
            }
        }
    for (int side = 0; side < 2; side++) {
        float *x = side ? neg : anchor;
        const double *g = side ? gn : ga;
        for (size_t q = 0; q < (side ? n * k * dim : n * dim); q++) {
            const float keep = x[q], h = 1e-2f;
            x[q] = keep + h;
            double up = synth_loss(anchor, neg, w, n, dim, k, m);
            x[q] = keep - h;
            double dn = synth_loss(anchor, neg, w, n, dim, k, m);
            x[q] = keep;
            double fd = (up - dn) / (2.0 * h);
            assert_true(fabs(fd - g[q]) < 2e-3 * (1.0 + fabs(g[q])));
        }
    }
    free(anchor), free(neg), free(w);
}

static void test_bad_input(void **state)
{
    (void)state;
    float anchor[8] = {1, 2, 3, 4, 5, 6, 7, 8}, neg[24], sc[6] = {1, 2, 3, 4, 5, 6};
    for (int q = 0; q < 24; q++) neg[q] = (float)(q + 1);
    float out[64];
    uint32_t hard[4] = {0, 1, 2, 1};
    for (int q = 0; q < 64; q++) out[q] = -7.0f;
    /* n = 2 rows, dim = 4, k = 3 */
#define SY(method, n, dim, k, a, ng, scores, hi, nh, sp, sa, nz) \
    negs_synth_negatives(method, 1, 1, n, dim, k, a, ng, 3, scores, hi, nh, sp, sa, nz, out, NULL, \
                         NULL, NULL)
    assert_int_equal(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, NULL, 2, 1, 1, 1), NEGS_OK);
    for (int q = 0; q < 64; q++) out[q] = -7.0f;
    assert_fails_with(SY(9, 2, 4, 3, anchor, neg, sc, NULL, 2, 1, 1, 1), NEGS_E_UNSUPPORTED);
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 0, 4, 3, anchor, neg, sc, NULL, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 0, 3, anchor, neg, sc, NULL, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 0, anchor, neg, sc, NULL, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, NULL, neg, sc, NULL, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, NULL, sc, NULL, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, NULL, 4, 1, 1, 1), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "n_hard = 4"));
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, NULL, 0, 1, 1, 1), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, NULL, 1, 1, 1, 1), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "distinct"));
    assert_int_equal(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, NULL, 1, 0, 2, 1), NEGS_OK);
    for (int q = 0; q < 64; q++) out[q] = -7.0f;
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, NULL, 2, 0, 0, 1), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, hard, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MIXGCF, 2, 4, 3, anchor, neg, NULL, NULL, 2, 0, 0, 0), NEGS_E_INVALID);
    assert_fails_with(SY(NEGS_SYNTH_MIXGCF, 2, 4, 3, anchor, neg, sc, NULL, 0, 0, 0, 0), NEGS_E_INVALID);
    hard[3] = 3;
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, NULL, hard, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "hard_idx[3] (row 1) = 3"));
    sc[4] = NAN;
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, NULL, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "neg_scores[4]"));
    sc[4] = 5;
    neg[13] = INFINITY;
    assert_fails_with(SY(NEGS_SYNTH_MOCHI, 2, 4, 3, anchor, neg, sc, NULL, 2, 1, 1, 1), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "negative 0 of row 1"));
    neg[13] = 1;
    anchor[5] = NAN;
    assert_fails_with(SY(NEGS_SYNTH_MIXGCF, 2, 4, 3, anchor, neg, NULL, NULL, 0, 0, 0, 0), NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "anchor[5]"));
    anchor[5] = 6;
    /* every failure so far left out untouched */
    for (int q = 0; q < 64; q++) assert_true(out[q] == -7.0f);
    /* n_hard beyond the stack list with scores */
    assert_fails_with(negs_synth_negatives(NEGS_SYNTH_MOCHI, 1, 1, 1, 4, 5000, anchor, neg, 0, sc,
                                           NULL, 4097, 1, 0, 0, out, NULL, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "hard_idx"));
    /* a zero mix cannot be normalised: zero query and zero negatives */
    float z[12] = {0};
    assert_fails_with(negs_synth_negatives(NEGS_SYNTH_MOCHI, 1, 1, 1, 4, 3, z, z, 3, NULL, NULL,
                                           2, 0, 1, 1, out, NULL, NULL, NULL),
                      NEGS_E_INVALID);
    assert_non_null(strstr(negs_last_error(), "normalised"));
    assert_int_equal(negs_synth_negatives(NEGS_SYNTH_MOCHI, 1, 1, 1, 4, 3, z, z, 3, NULL, NULL,
                                          2, 0, 1, 0, out, NULL, NULL, NULL),
                     NEGS_OK);
    assert_fails_with(negs_synth_negatives(NEGS_SYNTH_MOCHI, 1, 1, SIZE_MAX / 2, 4, 3, anchor,
                                           neg, 3, NULL, NULL, 2, 1, 0, 0, out, NULL, NULL, NULL),
                      NEGS_E_INVALID);
#undef SY
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mixes_exact),     cmocka_unit_test(test_hard_list),
        cmocka_unit_test(test_draw_statistics), cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_backward_recipe), cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
