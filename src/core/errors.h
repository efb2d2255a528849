/* Status codes and the thread-local last-error sentence. */
#ifndef NEGS_CORE_ERRORS_H
#define NEGS_CORE_ERRORS_H

#include "negsample.h"

/* Records a printf-style sentence as this thread's last error and returns status, so a
 * failing path reads `return negs_fail(NEGS_E_INVALID, "k = %u exceeds ...", k);`.
 * Internal only: the public API has no variadic functions. */
int negs_fail(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* negs_fail for constructors: records the error and returns NULL. */
void *negs_fail_null(int status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Argument checks that record a sentence naming the function and argument. Each returns
 * NEGS_OK or the failing status. */
int negs_check_ptr(const void *p, const char *func, const char *arg);
/* Every value finite (no NaN or Inf). */
int negs_check_finite_f(const float *x, size_t n, const char *func, const char *arg);
int negs_check_finite_d(const double *x, size_t n, const char *func, const char *arg);

#endif
