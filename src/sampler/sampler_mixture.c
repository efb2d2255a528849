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

int sp_mix_begin(sp_mix_row *m, const negs_sampler *mix, const double *shares, unsigned part,
                 uint64_t seed, uint64_t step, uint64_t rowno, int has_user, uint32_t user,
                 int has_pos, uint32_t pos, uint32_t k)
{
    uint32_t nc = mix->n_children;
    m->tot = 0.0;
    m->last = 0;
    for (uint32_t c = 0; c < nc; c++) {
        const negs_sampler *ch = mix->child[c];
        uint64_t need = 1, words = 2 * (uint64_t)k + 8;
        if (ch->kind == NEGS_SAMPLER_HARD) { /* its slots are chosen from its child's draws */
            ch = ch->child[0];
            need = ch->unique ? mix->child[c]->candidates : 1;
            words = 2 * (uint64_t)mix->child[c]->candidates + 8;
        }
        m->sh[c] = shares[c];
        if (m->sh[c] > 0.0 && sp_row_init(&m->rows[c], ch, &ch->scr[part], has_user, user, has_pos,
                                          pos, need) != NEGS_OK)
            m->sh[c] = 0.0;
        if (m->sh[c] > 0.0) {
            sp_stream_init(&m->rc[c], mix->gen, seed, step, rowno, SP_PURPOSE_CHILD_DRAW + c, words);
            m->last = c;
        }
        m->tot += m->sh[c];
        m->cum[c] = m->tot;
    }
    if (!(m->tot > 0.0)) return NEGS_E_EXHAUSTED;
    sp_stream_init(&m->pick, mix->gen, seed, step, rowno, SP_PURPOSE_CHILD, 2 * (uint64_t)k);
    return NEGS_OK;
}

uint32_t sp_mix_pick(sp_mix_row *m)
{
    double u = sp_uniform(&m->pick) * m->tot;
    uint32_t c = 0;
    while (c < m->last && !(u < m->cum[c])) c++;
    return c;
}

float sp_mix_logq(const sp_mix_row *m, const negs_sampler *mix, uint32_t k, uint32_t item)
{
    return (float)sp_mixture_logq(mix, m->rows, m->sh, m->tot, item, k);
}

int sp_mixture_row(const negs_sampler *mix, const double *shares, unsigned part, uint64_t seed,
                   uint64_t step, uint64_t rowno, int has_user, uint32_t user, int has_pos,
                   uint32_t pos, uint32_t k, uint32_t *out, float *logq)
{
    sp_mix_row m;
    if (sp_mix_begin(&m, mix, shares, part, seed, step, rowno, has_user, user, has_pos, pos, k))
        return NEGS_E_EXHAUSTED;
    for (uint32_t j = 0; j < k; j++) {
        uint32_t c = sp_mix_pick(&m);
        out[j] = sp_draw_one(&m.rows[c], &m.rc[c]);
    }
    if (logq)
        for (uint32_t j = 0; j < k; j++) logq[j] = sp_mix_logq(&m, mix, k, out[j]);
    return NEGS_OK;
}
