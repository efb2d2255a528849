/* Shared by the CMocka suites: includes and statistics helpers. */
#ifndef NEGS_TEST_UTIL_H
#define NEGS_TEST_UTIL_H

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "negsample.h"

/* Under `make sanitize` (NEGS_SANITIZE=1) statistical tests may use fewer draws. */
static inline int negs_test_sanitized(void)
{
    const char *s = getenv("NEGS_SANITIZE");
    return s && s[0] == '1';
}

/* Regularised upper incomplete gamma Q(a, x) (Numerical Recipes' series / continued
 * fraction split at x = a + 1), for chi-square tail probabilities. */
static inline double negs_test_gamma_q(double a, double x)
{
    if (x <= 0.0) return 1.0;
    double lg = lgamma(a);
    if (x < a + 1.0) {
        double ap = a, sum = 1.0 / a, del = sum;
        for (int n = 0; n < 100000; n++) {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * 1e-15) break;
        }
        return 1.0 - sum * exp(-x + a * log(x) - lg);
    }
    double b = x + 1.0 - a, c = 1.0 / 1e-300, d = 1.0 / b, h = d;
    for (int i = 1; i < 100000; i++) {
        double an = -i * (i - a);
        b += 2.0;
        d = an * d + b;
        if (fabs(d) < 1e-300) d = 1e-300;
        c = b + an / c;
        if (fabs(c) < 1e-300) c = 1e-300;
        d = 1.0 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1.0) < 1e-15) break;
    }
    return exp(-x + a * log(x) - lg) * h;
}

/* Pearson chi-square p-value of observed counts against expected counts (cells with
 * expected == 0 must have observed == 0, else p = 0). Cells are not pooled: keep each
 * expected count >= 5. */
static inline double negs_test_chi2_p(const double *observed, const double *expected, size_t n)
{
    double chi2 = 0.0;
    size_t df = 0;
    for (size_t i = 0; i < n; i++) {
        if (expected[i] == 0.0) {
            if (observed[i] != 0.0) return 0.0;
            continue;
        }
        double d = observed[i] - expected[i];
        chi2 += d * d / expected[i];
        df++;
    }
    if (df < 2) return 1.0;
    return negs_test_gamma_q((double)(df - 1) / 2.0, chi2 / 2.0);
}

/* Kolmogorov-Smirnov: the asymptotic p-value of statistic d for n samples. */
static inline double negs_test_ks_p(double d, size_t n)
{
    double sn = sqrt((double)n), t = (sn + 0.12 + 0.11 / sn) * d, p = 0.0;
    for (int j = 1; j < 200; j++) {
        double term = 2.0 * ((j & 1) ? 1.0 : -1.0) * exp(-2.0 * j * j * t * t);
        p += term;
        if (fabs(term) < 1e-12) break;
    }
    return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

/* Asserts the call failed with `status` and left a non-empty last-error sentence. */
#define assert_fails_with(call, status)                                   \
    do {                                                                  \
        int negs_rc_ = (call);                                            \
        assert_int_equal(negs_rc_, (status));                             \
        assert_true(strlen(negs_last_error()) > 0);                       \
    } while (0)

#endif
