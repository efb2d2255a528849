/* Short rows (k <= SP_SHORT_MAX_K) of POPULARITY and UNIFORM without UNIQUE: the per-row work
 * of the general path (support set-up, stream set-up, a Philox call) dominates a row of one or
 * a few draws, so these rows are drawn by a lean loop that reads the same stream words (the
 * first blocks of 16 rows' streams generated together) and applies the same rules: an alias
 * or bounded draw per candidate, Lemire rejections and excluded candidates skipped. Any row
 * that needs more (more words than preloaded, SP_MAX_TRIES rejections in a row, the exact
 * draw, a zero-mass corner) is redone from its start by the general path, so the output is
 * exactly the general path's. */
#include <math.h>
#include <stdlib.h>

#include "core/csr.h"
#include "sampler_internal.h"
#include "sampler_short.h"

int sp_short_ok(const negs_sampler *s, uint32_t k)
{
    if (s->unique || k > SP_SHORT_MAX_K) return 0;
    if (s->kind == NEGS_SAMPLER_POPULARITY) return s->t.has_cat_tables;
    return s->kind == NEGS_SAMPLER_UNIFORM && !s->sup;
}

void sp_short_cache_build(negs_sampler *s)
{
    free(s->short_users);
    s->short_users = NULL;
    const negs_csr *p = s->positives;
    int popular = s->kind == NEGS_SAMPLER_POPULARITY && s->t.has_cat_tables && s->t.u_w;
    if (!p || !(popular || (s->kind == NEGS_SAMPLER_UNIFORM && !s->sup))) return;
    if (p->indptr[p->n_users] >> (64 - SR_LEN_BITS)) return; /* offsets beyond the packing */
    sp_short_user *su = malloc((size_t)p->n_users * sizeof *su);
    if (!su) return;
    for (uint32_t u = 0; u < p->n_users; u++) {
        /* sr_row_finish for a row of u whose positive is a known one (or absent) */
        sr_row q = {0};
        q.mode = SR_SEARCH; /* excluding, whatever the test (EXCLUDE_POSITIVES may change) */
        q.len = p->indptr[u + 1] - p->indptr[u];
        q.a = &s->t.alias;
        int ok = sr_row_finish(&q, s, u, 0) && !q.utab;
        uint64_t code = q.len < SR_LEN_CODE_MAX ? q.len : SR_LEN_CODE_MAX;
        su[u].list = p->indptr[u] << SR_LEN_BITS | code;
        su[u].logz = ok ? log(q.z) : NAN;
    }
    s->short_users = su;
}

int sp_general_row(const negs_sampler *s, const sp_scratch *scr, sp_rowgen *g, uint64_t step,
                   uint64_t rowno, int has_user, uint32_t user, int has_pos, uint32_t pos, uint32_t k,
                   uint32_t *out, float *lq, sp_row *row)
{
    int st = sp_row_init(row, s, scr, has_user, user, has_pos, pos, s->unique ? k : 1);
    if (st) return st;
    sp_stream rng;
    sp_stream_init_row(&rng, g, s->gen, s->seed, step, rowno, SP_PURPOSE_DRAW, 2 * (uint64_t)k + 2);
    sp_draw_row(row, s, scr, &rng, k, out, lq);
    return NEGS_OK;
}

static inline uint32_t word(const uint32_t *w, unsigned i)
{
    return w[(i & 3u) * 16u + (i >> 2) * 64u]; /* block i / 4 of g->w, word i % 4, this lane */
}

/* One row on the preloaded words w (lane-strided); 1 when done, 0 to redo it generally. */
static int short_row(const negs_sampler *s, const uint32_t *w, unsigned cap, int has_user,
                     uint32_t user, int has_pos, uint32_t pos, uint32_t k, double logk,
                     double log_total, uint32_t *out, float *lq)
{
    sr_row q;
    int pos_in = sr_row_begin(&q, s, has_user, user, has_pos, pos, 0) && q.mode != SR_NONE &&
                 sr_known_scalar(&q, pos);
    if (!sr_row_finish(&q, s, user, pos_in)) return 0;
    const negs_alias *a = q.a;
    const uint32_t n = s->kind == NEGS_SAMPLER_POPULARITY ? a->n : s->n_items;
    const uint32_t thr = (uint32_t)(-n) % n;
    unsigned i = 0, run = 0;
    for (uint32_t j = 0; j < k;) {
        uint32_t item;
        if (s->kind == NEGS_SAMPLER_POPULARITY) {
            if (i + 2 > cap) return 0;
            uint64_t hi = word(w, i), lo = word(w, i + 1);
            i += 2;
            uint64_t mm = hi * (uint64_t)n;
            if ((uint32_t)mm < n && (uint32_t)mm < thr) continue; /* Lemire: next candidate */
            uint32_t col = (uint32_t)(mm >> 32);
            negs_alias_entry en = a->e[col];
            uint32_t take = 0u - (uint32_t)((uint32_t)lo < en.threshold);
            item = (col & take) | (en.alias & ~take);
        } else {
            if (i + 1 > cap) return 0;
            uint64_t mm = (uint64_t)word(w, i++) * n;
            if ((uint32_t)mm < n && (uint32_t)mm < thr) continue;
            item = (uint32_t)(mm >> 32);
        }
        if ((q.test_pos && item == pos) || (q.mode != SR_NONE && sr_known_scalar(&q, item))) {
            if (++run == SP_MAX_TRIES) return 0;
            continue;
        }
        run = 0;
        out[j++] = item;
    }
    if (lq) {
        /* the general path's expressions: log k - log z, then + alpha lw - mx */
        double lk = sr_log_ratio(s, &q, logk, log_total);
        if (s->kind == NEGS_SAMPLER_POPULARITY) {
            double c = lk - s->t.mx;
            for (uint32_t j = 0; j < k; j++) lq[j] = (float)(c + s->t.alpha * (double)s->lw[out[j]]);
        } else {
            for (uint32_t j = 0; j < k; j++) lq[j] = (float)lk;
        }
    }
    return 1;
}

int sp_short_rows(const negs_sampler *s, const sp_scratch *scr, uint64_t step, size_t r0,
                  size_t r1, const uint32_t *users, const uint32_t *positives, uint32_t k,
                  uint32_t *out, float *logq, size_t *bad_row, sp_row *bad)
{
    /* the batch gathers alias entries with signed 32-bit indices */
    if (s->short_batch && (s->kind != NEGS_SAMPLER_POPULARITY || s->t.alias.n <= (1u << 31)))
        return s->short_batch(s, scr, step, r0, r1, users, positives, k, out, logq, bad_row, bad);
    sp_rowgen g;
    sp_rowgen_init(&g, s->rows_gen);
    const int popular = s->kind == NEGS_SAMPLER_POPULARITY;
    const unsigned nb = (unsigned)(((popular ? 2 * k : k) + 2 + 3) / 4);
    const double logk = log((double)k);
    const double log_total = log(popular ? s->t.total : (double)s->n_items);
    for (size_t r = r0; r < r1; r++) {
        int has_user = users != NULL, has_pos = positives != NULL;
        uint32_t user = has_user ? users[r] : 0, pos = has_pos ? positives[r] : 0;
        uint64_t rowno = s->row_offset + r;
        uint32_t *o = out + r * k;
        float *lq = logq ? logq + r * k : NULL;
        const uint32_t *w = sp_rowgen_words(&g, s->seed, step, rowno, SP_PURPOSE_DRAW, nb);
        if (w && short_row(s, w, 4 * nb, has_user, user, has_pos, pos, k, logk, log_total, o, lq))
            continue;
        int st = sp_general_row(s, scr, &g, step, rowno, has_user, user, has_pos, pos, k, o, lq, bad);
        if (st) {
            *bad_row = r;
            return st;
        }
    }
    return NEGS_OK;
}
