/* negs_freq parameters: set and get, with the kind each one applies to. */
#include <math.h>

#include "core/errors.h"
#include "freq_internal.h"

static const char *param_name(int param)
{
    switch (param) {
    case NEGS_FP_ALPHA: return "NEGS_FP_ALPHA";
    case NEGS_FP_MAX_GAP: return "NEGS_FP_MAX_GAP";
    case NEGS_FP_HALF_LIFE: return "NEGS_FP_HALF_LIFE";
    case NEGS_FP_CONSERVATIVE: return "NEGS_FP_CONSERVATIVE";
    default: return "?";
    }
}

/* ALPHA belongs to GAP; HALF_LIFE and CONSERVATIVE to SKETCH; MAX_GAP to both. */
static int check_param_kind(const negs_freq *f, int param, const char *func)
{
    int ok;
    switch (param) {
    case NEGS_FP_ALPHA: ok = f->kind == NEGS_FREQ_GAP; break;
    case NEGS_FP_MAX_GAP: ok = 1; break;
    case NEGS_FP_HALF_LIFE:
    case NEGS_FP_CONSERVATIVE: ok = f->kind == NEGS_FREQ_SKETCH; break;
    default:
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: param = %d is not a NEGS_FP_* value", func, param);
    }
    if (!ok)
        return negs_fail(NEGS_E_UNSUPPORTED, "%s: %s does not apply to a %s estimator", func,
                         param_name(param), f->kind == NEGS_FREQ_GAP ? "GAP" : "SKETCH");
    return NEGS_OK;
}

NEGS_API int negs_freq_set_param(negs_freq *f, int param, double value)
{
    int st = negs_check_ptr(f, "negs_freq_set_param", "f");
    if (st) return st;
    st = check_param_kind(f, param, "negs_freq_set_param");
    if (st) return st;
    switch (param) {
    case NEGS_FP_ALPHA:
        if (!(value > 0.0 && value <= 1.0))
            return negs_fail(NEGS_E_INVALID, "negs_freq_set_param: alpha = %g must be in (0, 1]",
                             value);
        f->alpha = value;
        return NEGS_OK;
    case NEGS_FP_MAX_GAP:
        if (!(value >= 1.0 && value <= NEGS_FREQ_MAX_MAX_GAP))
            return negs_fail(NEGS_E_INVALID,
                             "negs_freq_set_param: max_gap = %g must be in [1, 1e15] steps", value);
        f->max_gap = value;
        return NEGS_OK;
    case NEGS_FP_HALF_LIFE:
        if (!(value >= 0.0 && value <= 1e15))
            return negs_fail(NEGS_E_INVALID,
                             "negs_freq_set_param: half_life = %g must be 0 (no decay) or in "
                             "(0, 1e15] steps", value);
        /* Bring the counters to the last step under the old half-life; the new one then
         * applies from there on. */
        if (f->has_data) negs_sketch_renormalise(f, f->last_step);
        f->landmark = f->last_step;
        f->half_life = value == 0.0 ? 0.0 : value; /* -0.0 is no decay too, saved as +0.0 */
        return NEGS_OK;
    default: /* NEGS_FP_CONSERVATIVE */
        if (value != 0.0 && value != 1.0)
            return negs_fail(NEGS_E_INVALID, "negs_freq_set_param: conservative = %g must be 0 or 1",
                             value);
        f->conservative = (int)value;
        return NEGS_OK;
    }
}

NEGS_API int negs_freq_get_param(const negs_freq *f, int param, double *value)
{
    int st = negs_check_ptr(f, "negs_freq_get_param", "f");
    if (!st) st = negs_check_ptr(value, "negs_freq_get_param", "value");
    if (!st) st = check_param_kind(f, param, "negs_freq_get_param");
    if (st) return st;
    switch (param) {
    case NEGS_FP_ALPHA: *value = f->alpha; break;
    case NEGS_FP_MAX_GAP: *value = f->max_gap; break;
    case NEGS_FP_HALF_LIFE: *value = f->half_life; break;
    default: *value = f->conservative; break;
    }
    return NEGS_OK;
}
