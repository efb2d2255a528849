/* MIXTURE: each draw picks a child by its current share, then that child draws one item.
 * log q of an item is log(k * sum_c share_c * p_c(item | row)), with p_c the child's eligible
 * distribution for the row; a child with no eligible item for the row gets share 0 there. */
#include <math.h>

#include "sampler_internal.h"

double sp_schedule_share(const negs_sampler *mix, uint32_t c, uint64_t step)
{
    const sp_schedule *sc = &mix->sched[c];
    if (sc->n == 0) return mix->share[c];
    double x = (double)step;
    if (x <= sc->steps[0]) return sc->shares[0];
    if (x >= sc->steps[sc->n - 1]) return sc->shares[sc->n - 1];
    size_t i = 1;
    while (sc->steps[i] < x) i++;
    double x0 = sc->steps[i - 1], x1 = sc->steps[i], f = (x - x0) / (x1 - x0);
    return sc->shares[i - 1] + f * (sc->shares[i] - sc->shares[i - 1]);
}

int sp_mixture_row(const negs_sampler *mix, const double *shares, unsigned part, uint64_t step,
                   uint64_t rowno, int has_user, uint32_t user, int has_pos, uint32_t pos,
                   uint32_t k, uint32_t *out, float *logq)
{
    sp_row rows[SP_MAX_CHILDREN];
    sp_stream rc[SP_MAX_CHILDREN];
    double cum[SP_MAX_CHILDREN], sh[SP_MAX_CHILDREN], tot = 0.0;
    uint32_t nc = mix->n_children, last = 0;
    for (uint32_t c = 0; c < nc; c++) {
        const negs_sampler *ch = mix->child[c];
        sh[c] = shares[c];
        if (sh[c] > 0.0 &&
            sp_row_init(&rows[c], ch, &ch->scr[part], has_user, user, has_pos, pos, 1) != NEGS_OK)
            sh[c] = 0.0;
        if (sh[c] > 0.0) {
            sp_stream_init(&rc[c], mix->gen, mix->seed, step, rowno, SP_PURPOSE_CHILD_DRAW + c,
                           2 * (uint64_t)k + 8);
            last = c;
        }
        tot += sh[c];
        cum[c] = tot;
    }
    if (!(tot > 0.0)) return NEGS_E_EXHAUSTED;
    sp_stream pick;
    sp_stream_init(&pick, mix->gen, mix->seed, step, rowno, SP_PURPOSE_CHILD, 2 * (uint64_t)k);
    for (uint32_t j = 0; j < k; j++) {
        double u = sp_uniform(&pick) * tot;
        uint32_t c = 0;
        while (c < last && !(u < cum[c])) c++;
        out[j] = sp_draw_one(&rows[c], &rc[c]);
    }
    if (logq) {
        for (uint32_t c = 0; c < nc; c++) sh[c] /= tot;
        for (uint32_t j = 0; j < k; j++) {
            double q = 0.0;
            for (uint32_t c = 0; c < nc; c++)
                if (sh[c] > 0.0) q += sh[c] * sp_row_weight(&rows[c], out[j]) / rows[c].z;
            logq[j] = (float)log((double)k * q);
        }
    }
    return NEGS_OK;
}
