/* Status names, the thread-local last-error sentence and shared argument checks. */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "errors.h"

/* Per-thread slots live behind a pthread key rather than _Thread_local: C11 TLS in a shared
 * library calls __tls_get_addr and so would add ld-linux to NEEDED (libc and libm only). */
typedef struct error_slot {
    int status;
    char text[512];
} error_slot;

static pthread_key_t slot_key;
static pthread_once_t slot_once = PTHREAD_ONCE_INIT;
static int slot_key_ok;
/* Given to a thread whose slot cannot be allocated: the one failure it can still report. */
static error_slot out_of_memory_slot = {NEGS_E_NOMEM,
                                        "NEGS_E_NOMEM: no memory to record the error message"};

static void free_slot(void *p)
{
    if (p != &out_of_memory_slot) free(p);
}

static void make_key(void)
{
    slot_key_ok = pthread_key_create(&slot_key, free_slot) == 0;
}

static error_slot *get_slot(int create)
{
    pthread_once(&slot_once, make_key);
    if (!slot_key_ok) return create ? &out_of_memory_slot : NULL;
    error_slot *s = pthread_getspecific(slot_key);
    if (!s && create) {
        s = calloc(1, sizeof *s);
        if (!s) s = &out_of_memory_slot;
        pthread_setspecific(slot_key, s);
    }
    return s;
}

/* The sentence starts with the status name, so a constructor's NULL still tells its code. */
static void record(int status, const char *fmt, va_list ap)
{
    error_slot *s = get_slot(1);
    if (s == &out_of_memory_slot) return;
    int head = snprintf(s->text, sizeof s->text, "%s: ", negs_status_name(status));
    if (head < 0) head = 0;
    vsnprintf(s->text + head, sizeof s->text - (size_t)head, fmt, ap);
    s->status = status;
}

int negs_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(status, fmt, ap);
    va_end(ap);
    return status;
}

void *negs_fail_null(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    record(status, fmt, ap);
    va_end(ap);
    return NULL;
}

NEGS_API const char *negs_last_error(void)
{
    const error_slot *s = get_slot(0);
    return s ? s->text : "";
}

NEGS_API int negs_last_status(void)
{
    const error_slot *s = get_slot(0);
    return s ? s->status : NEGS_OK;
}

NEGS_API const char *negs_status_name(int status)
{
    switch (status) {
    case NEGS_OK: return "NEGS_OK";
    case NEGS_E_INVALID: return "NEGS_E_INVALID";
    case NEGS_E_NOMEM: return "NEGS_E_NOMEM";
    case NEGS_E_EXHAUSTED: return "NEGS_E_EXHAUSTED";
    case NEGS_E_FORMAT: return "NEGS_E_FORMAT";
    case NEGS_E_STATE: return "NEGS_E_STATE";
    case NEGS_E_UNSUPPORTED: return "NEGS_E_UNSUPPORTED";
    default: return "NEGS_UNKNOWN";
    }
}

int negs_check_ptr(const void *p, const char *func, const char *arg)
{
    if (p) return NEGS_OK;
    return negs_fail(NEGS_E_INVALID, "%s: %s is NULL", func, arg);
}

int negs_check_finite_f(const float *x, size_t n, const char *func, const char *arg)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return negs_fail(NEGS_E_INVALID, "%s: %s[%zu] = %g is not finite", func, arg, i,
                             (double)x[i]);
    return NEGS_OK;
}

int negs_check_finite_d(const double *x, size_t n, const char *func, const char *arg)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return negs_fail(NEGS_E_INVALID, "%s: %s[%zu] = %g is not finite", func, arg, i, x[i]);
    return NEGS_OK;
}
