/* negs_loss lifecycle and parameters. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "core/alloc.h"
#include "core/cpu.h"
#include "core/csr.h"
#include "core/errors.h"
#include "kernels/kernels_bf16.h"
#include "loss_internal.h"

NEGS_API negs_loss *negs_loss_create(int kind)
{
    if (kind < NEGS_LOSS_BCE || kind > NEGS_LOSS_LISTNET)
        return negs_fail_null(NEGS_E_UNSUPPORTED,
                              "negs_loss_create: kind = %d is not a NEGS_LOSS_* value", kind);
    negs_loss *l = negs_calloc_array(1, sizeof *l, "loss handle");
    if (!l) return NULL;
    l->kind = kind;
    l->temperature = 1.0;
    l->margin = 1.0;
    l->reduction = NEGS_REDUCE_MEAN;
    l->threads = 1;
    l->cpu = negs_bf16_choose(negs_cpu_features()); /* the bf16 path by measured rates */
    return l;
}

NEGS_API void negs_loss_free(negs_loss *l)
{
    if (!l) return;
    if (l->ws && l->ws_free) l->ws_free(l->ws);
    negs_free_aligned(l->sx_buf);
    negs_pool_free(l->pool);
    negs_csr_release(l->positives);
    free(l);
}

NEGS_API int negs_loss_set_param(negs_loss *l, int param, double value)
{
    int st = negs_check_ptr(l, "negs_loss_set_param", "l");
    if (st) return st;
    switch (param) {
    case NEGS_LP_TEMPERATURE:
        /* Every kernel multiplies by 1/T as a float: it must be a normal float. */
        if (!(value > 0.0) || !isfinite(value) || !isnormal((float)(1.0 / value)) ||
            !((float)(1.0 / value) <= FLT_MAX))
            return negs_fail(NEGS_E_INVALID,
                             "negs_loss_set_param: temperature = %g must be in [%g, %g] "
                             "(1/T a normal float)", value, 1.0 / FLT_MAX, 1.0 / FLT_MIN);
        l->temperature = value;
        return NEGS_OK;
    case NEGS_LP_MARGIN:
        if (!(fabs(value) <= FLT_MAX))
            return negs_fail(NEGS_E_INVALID,
                             "negs_loss_set_param: margin = %g must be finite and fit a float "
                             "(|margin| <= %g)", value, (double)FLT_MAX);
        l->margin = value;
        return NEGS_OK;
    case NEGS_LP_REDUCTION:
        if (value != NEGS_REDUCE_MEAN && value != NEGS_REDUCE_SUM && value != NEGS_REDUCE_NONE)
            return negs_fail(NEGS_E_INVALID,
                             "negs_loss_set_param: reduction = %g is not a NEGS_REDUCE_* value",
                             value);
        l->reduction = (int)value;
        return NEGS_OK;
    case NEGS_LP_THREADS:
        st = negs_pool_resize(&l->pool, value, "negs_loss_set_param");
        if (st) return st;
        l->threads = (unsigned)value;
        return NEGS_OK;
    case NEGS_LP_FORCE_SCALAR:
        if (value != 0.0 && value != 1.0)
            return negs_fail(NEGS_E_INVALID, "negs_loss_set_param: force_scalar = %g is not 0 or 1",
                             value);
        l->force_scalar = (int)value;
        return NEGS_OK;
    case NEGS_LP_COSINE:
        if (value != 0.0 && value != 1.0)
            return negs_fail(NEGS_E_INVALID, "negs_loss_set_param: cosine = %g is not 0 or 1",
                             value);
        l->cosine = (int)value;
        return NEGS_OK;
    case NEGS_LP_TAU_PLUS:
        if (l->kind != NEGS_LOSS_SOFTMAX)
            return negs_fail(NEGS_E_UNSUPPORTED, "negs_loss_set_param: tau_plus is a parameter "
                             "of the softmax (NEGS_LOSS_SOFTMAX) only; this handle's kind is %d",
                             l->kind);
        if (!(value >= 0.0 && value < 1.0))
            return negs_fail(NEGS_E_INVALID, "negs_loss_set_param: tau_plus = %g must be in "
                                             "[0, 1) (the class prior of a false negative)",
                             value);
        l->tau_plus = value;
        return NEGS_OK;
    case NEGS_LP_PRECISION:
        if (value != NEGS_PRECISION_FP32 && value != NEGS_PRECISION_BF16)
            return negs_fail(NEGS_E_INVALID, "negs_loss_set_param: precision = %g is not "
                             "NEGS_PRECISION_FP32 (0) or NEGS_PRECISION_BF16 (1)", value);
        if (value == NEGS_PRECISION_BF16 && l->kind != NEGS_LOSS_SOFTMAX)
            return negs_fail(NEGS_E_UNSUPPORTED, "negs_loss_set_param: NEGS_PRECISION_BF16 is "
                             "for the fused in-batch softmax (NEGS_LOSS_SOFTMAX handles); this "
                             "handle's kind is %d and its score-level losses take float scores",
                             l->kind);
        l->precision = (int)value;
        return NEGS_OK;
    case NEGS_LP_TELEMETRY_TOP:
    case NEGS_LP_MASKED_HITS:
    case NEGS_LP_MASKED_KNOWN:
        return negs_fail(NEGS_E_INVALID, "negs_loss_set_param: parameter %d is read-only "
                         "(telemetry is set with negs_loss_set_telemetry)", param);
    case NEGS_LP_KERNEL:
    case NEGS_LP_BF16_KERNEL:
        return negs_fail(NEGS_E_INVALID, "negs_loss_set_param: %s is read-only (force the "
                         "portable path with NEGS_LP_FORCE_SCALAR)", param == NEGS_LP_KERNEL
                         ? "NEGS_LP_KERNEL" : "NEGS_LP_BF16_KERNEL");
    default:
        return negs_fail(NEGS_E_UNSUPPORTED, "negs_loss_set_param: unknown parameter %d", param);
    }
}

NEGS_API int negs_loss_get_param(const negs_loss *l, int param, double *value)
{
    int st = negs_check_ptr(l, "negs_loss_get_param", "l");
    if (!st) st = negs_check_ptr(value, "negs_loss_get_param", "value");
    if (st) return st;
    switch (param) {
    case NEGS_LP_TEMPERATURE: *value = l->temperature; return NEGS_OK;
    case NEGS_LP_MARGIN: *value = l->margin; return NEGS_OK;
    case NEGS_LP_REDUCTION: *value = l->reduction; return NEGS_OK;
    case NEGS_LP_THREADS: *value = l->threads; return NEGS_OK;
    case NEGS_LP_FORCE_SCALAR: *value = l->force_scalar; return NEGS_OK;
    case NEGS_LP_COSINE: *value = l->cosine; return NEGS_OK;
    case NEGS_LP_TAU_PLUS: *value = l->tau_plus; return NEGS_OK;
    case NEGS_LP_PRECISION: *value = l->precision; return NEGS_OK;
    case NEGS_LP_TELEMETRY_TOP: *value = l->tel_t; return NEGS_OK;
    case NEGS_LP_MASKED_HITS: *value = (double)l->tel_hits; return NEGS_OK;
    case NEGS_LP_MASKED_KNOWN: *value = (double)l->tel_known; return NEGS_OK;
    case NEGS_LP_KERNEL: {
        unsigned isa = negs_loss_isa(l);
        *value = (isa & NEGS_CPU_AVX512) ? NEGS_KERNEL_AVX512
                 : (isa & NEGS_CPU_AVX2) ? NEGS_KERNEL_AVX2 : NEGS_KERNEL_SCALAR;
        return NEGS_OK;
    }
    case NEGS_LP_BF16_KERNEL:
        *value = negs_bf16_kernels_select(negs_loss_isa(l)) ? NEGS_BF16_KERNEL_AVX512BF16
                                                             : NEGS_BF16_KERNEL_PORTABLE;
        return NEGS_OK;
    default:
        return negs_fail(NEGS_E_UNSUPPORTED, "negs_loss_get_param: unknown parameter %d", param);
    }
}

NEGS_API int negs_loss_set_positives(negs_loss *l, const negs_csr *positives)
{
    int st = negs_check_ptr(l, "negs_loss_set_positives", "l");
    if (st) return st;
    /* NULL clears the table. */
    if (positives) negs_csr_retain(positives);
    negs_csr_release(l->positives);
    l->positives = positives;
    return NEGS_OK;
}
