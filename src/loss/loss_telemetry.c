/* negs_loss_set_telemetry: where the fused in-batch softmax reports each row's hardest live
 * negatives (inbatch_telemetry.c), and the read-only counts of masked pairs. */
#include "core/alloc.h"
#include "core/errors.h"
#include "loss_internal.h"

NEGS_API int negs_loss_set_telemetry(negs_loss *l, uint32_t t, size_t max_rows,
                                     uint32_t *out_cols, float *out_logits)
{
    static const char fn[] = "negs_loss_set_telemetry";
    int st = negs_check_ptr(l, fn, "l");
    if (st) return st;
    if (l->kind != NEGS_LOSS_SOFTMAX)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: telemetry comes from the fused in-batch "
                         "softmax; this handle's kind is %d, not NEGS_LOSS_SOFTMAX (%d)", fn,
                         l->kind, NEGS_LOSS_SOFTMAX);
    if (t > NEGS_TELEMETRY_MAX_TOP)
        return negs_fail(NEGS_E_INVALID, "%s: t = %u exceeds NEGS_TELEMETRY_MAX_TOP = %d", fn,
                         t, NEGS_TELEMETRY_MAX_TOP);
    if (t > 0) {
        size_t x;
        st = negs_check_ptr(out_cols, fn, "out_cols");
        if (!st) st = negs_check_ptr(out_logits, fn, "out_logits");
        if (!st && max_rows == 0)
            st = negs_fail(NEGS_E_INVALID, "%s: max_rows = 0 (the buffers hold no row)", fn);
        if (!st) st = negs_size_mul(max_rows, (size_t)t * sizeof(float), &x, "negs_loss_set_"
                                    "telemetry: max_rows * t");
        if (st) return st;
    }
    l->tel_t = t;
    l->tel_rows = t ? max_rows : 0;
    l->tel_cols = t ? out_cols : NULL;
    l->tel_logits = t ? out_logits : NULL;
    l->tel_hits = l->tel_known = 0;
    return NEGS_OK;
}
