/* Short rows in groups of 16 consecutive rows (AVX-512). A row of one draw costs little more
 * than its memory accesses, so the per-row work is spread over a group and the accesses of
 * later groups are started early, in three stages run two groups apart:
 *   0. the group's Philox words (one 16-lane pass per block, the rows' streams side by side);
 *      its users' offsets and sums, and, for tables beyond the caches, the alias entries its
 *      first candidates will read, are prefetched;
 *   1. its first k candidates for all 16 rows at once (Lemire column, gathered alias entries);
 *      the exclusion data they will test (bitmap words, the users' lists) and their log
 *      weights are prefetched;
 *   2. each row takes its candidates in order, skipping Lemire rejections and excluded items,
 *      exactly as the per-row loop of sampler_short.c (further candidates are computed from
 *      the words one at a time); a row that needs more than its preloaded words, or the exact
 *      draw, is redone by the general path. So the output is the general path's, bit for bit. */
#include "sampler_short.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#include "philox_avx512.h"

#define T5 NEGS_T5
#define SR_G 16
#define SR_STAGES 3

typedef struct sr_group {
    size_t r;        /* first row of the call */
    unsigned n;      /* rows, at most SR_G */
    uint32_t w[SP_ROWGEN_BLOCKS][4 * SR_G]; /* word i of lane l at w[i / 4][16 (i % 4) + l] */
    uint32_t cand[SP_SHORT_MAX_K][SR_G];    /* candidate j of each lane */
    uint32_t rej[SP_SHORT_MAX_K];           /* lanes whose candidate j is a Lemire rejection */
    uint64_t off[SR_G], len[SR_G];          /* each row's user: list in the positives table */
    unsigned char mode[SR_G];               /* and its SR_* test */
} sr_group;

typedef struct sr_call {
    const negs_sampler *s;
    const sp_scratch *scr;
    uint64_t step;
    const uint32_t *users, *positives;
    uint32_t k;
    uint32_t *out;
    float *logq;
    int popular, far, excl;
    unsigned nb, ncand; /* Philox blocks and candidates per row */
    uint32_t n, thr;    /* bound of the column draw and its Lemire threshold */
    double logk, log_total;
    int plain;          /* no users, no positives: every row's set-up is the same */
    double plain_lk;    /* then its log k - log z */
    sp_rowgen g;        /* for rows redone by the general path */
} sr_call;

static inline uint32_t word(const uint32_t *w, unsigned i)
{
    return w[(i & 3u) * SR_G + (i >> 2) * 4 * SR_G];
}

T5 static void stage_words(sr_call *c, sr_group *G, size_t r, unsigned n)
{
    const negs_sampler *s = c->s;
    G->r = r;
    G->n = n;
    uint64_t row0 = s->row_offset + r;
    negs_rng rr;
    negs_rng_init(&rr, s->seed, c->step, row0, SP_PURPOSE_DRAW);
    const __m512i ctr1 = _mm512_add_epi32(_mm512_set1_epi32((int)rr.ctr[1]), SP_LANES16);
    for (unsigned b = 0; b < c->nb; b++) {
        __m512i v[4];
        sp_philox16v(rr.key, _mm512_set1_epi32((int)b), ctr1, rr.ctr[2], rr.ctr[3], v);
        for (int w = 0; w < 4; w++) _mm512_storeu_si512((void *)&G->w[b][w * SR_G], v[w]);
    }
    if (c->excl) {
        const uint64_t *ip = s->positives->indptr;
        for (unsigned l = 0; l < n; l++) {
            uint32_t u = c->users[r + l];
            __builtin_prefetch(&ip[u]);
            if (c->popular) __builtin_prefetch(&s->t.u_w[u]);
        }
    }
    if (c->far) {
        /* the columns of the first k candidates, so that stage 1's gathers find them cached */
        const __m512i nv = _mm512_set1_epi32((int)c->n);
        const negs_alias_entry *e = s->t.alias.e;
        for (uint32_t j = 0; j < c->k; j++) {
            __m512i hi = _mm512_loadu_si512((const void *)&G->w[(2 * j) >> 2][((2 * j) & 3) * SR_G]);
            __m512i mh, ml;
            sp_mulhilo16(hi, nv, &mh, &ml);
            uint32_t col[SR_G];
            _mm512_storeu_si512((void *)col, mh);
            for (unsigned l = 0; l < n; l++) __builtin_prefetch(&e[col[l]]);
        }
    }
}

T5 static void stage_cands(sr_call *c, sr_group *G)
{
    const negs_sampler *s = c->s;
    const __m512i nv = _mm512_set1_epi32((int)c->n), thr = _mm512_set1_epi32((int)c->thr);
    const negs_alias_entry *e = s->t.alias.e;
    for (uint32_t j = 0; j < c->k; j++) {
        unsigned i = c->popular ? 2 * j : j;
        __m512i hi = _mm512_loadu_si512((const void *)&G->w[i >> 2][(i & 3) * SR_G]);
        __m512i mh, ml;
        sp_mulhilo16(hi, nv, &mh, &ml);
        G->rej[j] = _mm512_cmplt_epu32_mask(ml, thr);
        __m512i item = mh;
        if (c->popular) {
            /* alias select: the column when the coin (the next word) is below its threshold */
            __m512i lo = _mm512_loadu_si512((const void *)&G->w[(i + 1) >> 2][((i + 1) & 3) * SR_G]);
            __m512i th = _mm512_i32gather_epi32(mh, (const void *)&e->threshold, 8);
            __m512i al = _mm512_i32gather_epi32(mh, (const void *)&e->alias, 8);
            item = _mm512_mask_blend_epi32(_mm512_cmplt_epu32_mask(lo, th), al, mh);
        }
        _mm512_storeu_si512((void *)G->cand[j], item);
    }
    if (c->excl) {
        /* what the row's test will read: its bitmap words or its list */
        const negs_csr *p = s->positives;
        for (unsigned l = 0; l < G->n; l++) {
            uint32_t u = c->users[G->r + l];
            uint64_t off = p->indptr[u], len = p->indptr[u + 1] - off;
            int mode = sr_mode(s, len, 1);
            G->off[l] = off;
            G->len[l] = len;
            G->mode[l] = (unsigned char)mode;
            if (mode == SR_BITS) {
                const uint64_t *b = s->ubits + (size_t)u * s->ubits_words;
                __builtin_prefetch(b + (G->cand[0][l] >> 6));
                if (c->positives) __builtin_prefetch(b + (c->positives[G->r + l] >> 6));
            } else {
                const uint32_t *list = p->indices + off;
                __builtin_prefetch(list);
                if (mode == SR_LIST && len > 16) __builtin_prefetch(list + 16);
                if (mode == SR_LIST && len > 32) __builtin_prefetch(list + 32);
                if (mode == SR_LIST && len > 48) __builtin_prefetch(list + 48);
            }
        }
    }
    if (c->logq && c->popular)
        for (unsigned l = 0; l < G->n; l++) __builtin_prefetch(&s->lw[G->cand[0][l]]);
}

/* item is one of the list's len (<= SR_LIST_MAX) sorted items; masked loads never read past
 * the list. */
T5 static inline int list_has(const uint32_t *list, uint64_t len, uint32_t item)
{
    const __m512i v = _mm512_set1_epi32((int)item);
    __mmask16 hit = 0;
    uint64_t i = 0;
    for (; i + 16 <= len; i += 16)
        hit |= _mm512_cmpeq_epi32_mask(_mm512_loadu_si512((const void *)(list + i)), v);
    if (i < len) {
        __mmask16 m = (__mmask16)((1u << (len - i)) - 1u);
        hit |= _mm512_mask_cmpeq_epi32_mask(m, _mm512_maskz_loadu_epi32(m, list + i), v);
    }
    return hit != 0;
}

T5 static inline int known(const sr_row *q, uint32_t item)
{
    switch (q->mode) {
    case SR_BITS:
        return (int)((q->bits[item >> 6] >> (item & 63)) & 1u);
    case SR_LIST:
        return list_has(q->list, q->len, item);
    default:
        return negs_sorted_contains(q->list, q->len, item);
    }
}

/* Candidate j of a lane from its words (a user's own table, or beyond the first k): 0 on a
 * Lemire rejection. */
static inline int cand_scalar(const sr_call *c, const negs_alias *a, const uint32_t *w, unsigned j,
                              uint32_t *item)
{
    if (c->popular) {
        uint64_t hi = word(w, 2 * j), lo = word(w, 2 * j + 1);
        uint64_t mm = hi * (uint64_t)c->n;
        if ((uint32_t)mm < c->thr) return 0;
        uint32_t col = (uint32_t)(mm >> 32);
        negs_alias_entry en = a->e[col];
        uint32_t take = 0u - (uint32_t)((uint32_t)lo < en.threshold);
        *item = (col & take) | (en.alias & ~take);
        return 1;
    }
    uint64_t mm = (uint64_t)word(w, j) * c->n;
    if ((uint32_t)mm < c->thr) return 0;
    *item = (uint32_t)(mm >> 32);
    return 1;
}

/* Row l of the group; 1 when done, 0 to redo it generally. */
T5 static int select_row(const sr_call *c, const sr_group *G, unsigned l)
{
    const negs_sampler *s = c->s;
    size_t r = G->r + l;
    const uint32_t k = c->k;
    int has_user = c->users != NULL, has_pos = c->positives != NULL;
    uint32_t user = has_user ? c->users[r] : 0, pos = has_pos ? c->positives[r] : 0;
    sr_row q;
    int pos_in = sr_row_begin(&q, s, has_user, user, has_pos, pos, 1) && known(&q, pos);
    if (!sr_row_finish(&q, s, user, pos_in)) return 0;
    uint32_t *o = c->out + r * k;
    const uint32_t *w = &G->w[0][l];
    unsigned j = 0, run = 0;
    for (uint32_t got = 0; got < k; j++) {
        uint32_t item;
        if (j < k && !q.utab) {
            if ((G->rej[j] >> l) & 1u) continue;
            item = G->cand[j][l];
        } else {
            if (j >= c->ncand) return 0;
            if (!cand_scalar(c, q.a, w, j, &item)) continue;
        }
        if ((q.test_pos && item == pos) || (q.mode != SR_NONE && known(&q, item))) {
            if (++run == SP_MAX_TRIES) return 0;
            continue;
        }
        run = 0;
        o[got++] = item;
    }
    if (c->logq) {
        float *lq = c->logq + r * k;
        double lk = sr_log_ratio(s, &q, c->logk, c->log_total);
        if (c->popular) {
            double cc = lk - s->t.mx;
            for (uint32_t x = 0; x < k; x++) lq[x] = (float)(cc + s->t.alpha * (double)s->lw[o[x]]);
        } else {
            for (uint32_t x = 0; x < k; x++) lq[x] = (float)lk;
        }
    }
    return 1;
}

/* Rows of k = 1 without users or positives (the set-up is the call's): the group's first
 * candidates are its items unless a lane was a Lemire rejection; log q from the gathered float
 * log weights with the per-row code's double operations (a product, then a sum). Returns the
 * lanes left to select_row. */
T5 static unsigned plain_k1(const sr_call *c, const sr_group *G)
{
    const negs_sampler *s = c->s;
    __mmask16 all = (__mmask16)((1u << G->n) - 1u), ok = (__mmask16)(all & ~G->rej[0]);
    __m512i item = _mm512_loadu_si512((const void *)G->cand[0]);
    _mm512_mask_storeu_epi32(c->out + G->r, ok, item);
    if (c->logq) {
        float *lq = c->logq + G->r;
        if (c->popular) {
            __m512 lw = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), ok, item, s->lw, 4);
            const __m512d cc = _mm512_set1_pd(c->plain_lk - s->t.mx), a = _mm512_set1_pd(s->t.alpha);
            __m512d lo = _mm512_add_pd(cc, _mm512_mul_pd(a, _mm512_cvtps_pd(_mm512_castps512_ps256(lw))));
            __m512d hi = _mm512_add_pd(cc, _mm512_mul_pd(a, _mm512_cvtps_pd(_mm256_castpd_ps(
                                                   _mm512_extractf64x4_pd(_mm512_castps_pd(lw), 1)))));
            __m512 f = _mm512_castpd_ps(_mm512_insertf64x4(
                _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo))),
                _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
            _mm512_mask_storeu_ps(lq, ok, f);
        } else {
            _mm512_mask_storeu_ps(lq, ok, _mm512_set1_ps((float)c->plain_lk));
        }
    }
    return (unsigned)(all & ~ok);
}

/* Both halves of 16 lanes as 8 doubles each. */
T5 static inline void pd_halves(__m512i v32, __m512d *lo, __m512d *hi)
{
    *lo = _mm512_cvtepu32_pd(_mm512_castsi512_si256(v32));
    *hi = _mm512_cvtepu32_pd(_mm512_extracti64x4_epi64(v32, 1));
}

/* 16 floats from two halves of 8 doubles, each rounded once. */
T5 static inline __m512 ps_of_halves(__m512d lo, __m512d hi)
{
    return _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo))),
        _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
}

/* Rows of k = 1 with the users' known positives excluded, 16 at a time. The per-user part of
 * sr_row_finish for a row whose positive is a known one (or absent) was done at rebuild:
 * short_logz[u] holds its log z, or NaN when such a row needs the scalar code (exact draws,
 * no eligible mass, the user's own table). Here the lists or bitmaps are tested lane by lane
 * (offsets and tests chosen at stage 1) and the rest is vector work. A lane that needs
 * anything else (a positive that is not a known one, a rejected or excluded first candidate)
 * is left to select_row, which redoes it from the start. Returns those lanes. */
T5 static unsigned excl_k1(const sr_call *c, const sr_group *G)
{
    const negs_sampler *s = c->s;
    const uint32_t *ix = s->positives->indices;
    const unsigned n = G->n;
    const __mmask16 all = (__mmask16)((1u << n) - 1u);
    const int has_pos = c->positives != NULL;
    __m512i item = _mm512_loadu_si512((const void *)G->cand[0]);
    uint32_t known_any = 0;
    for (unsigned l = 0; l < n; l++) {
        sr_row q;
        q.mode = G->mode[l];
        q.len = G->len[l];
        q.list = ix + G->off[l];
        q.bits = s->ubits ? s->ubits + (size_t)c->users[G->r + l] * s->ubits_words : NULL;
        /* the positive must be a known one and the candidate must not */
        int bad = known(&q, G->cand[0][l]) || (has_pos && !known(&q, c->positives[G->r + l]));
        known_any |= (uint32_t)bad << l;
    }
    __mmask16 ok = (__mmask16)(all & ~G->rej[0] & ~known_any);
    __m512i uv = _mm512_maskz_loadu_epi32(all, c->users + G->r);
    __m512i u_lo = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(uv));
    __m512i u_hi = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(uv, 1));
    __m512d lz_lo = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), (__mmask8)ok, u_lo, s->short_logz, 8);
    __m512d lz_hi = _mm512_mask_i64gather_pd(_mm512_setzero_pd(), (__mmask8)(ok >> 8), u_hi, s->short_logz, 8);
    ok &= (__mmask16)(_mm512_cmp_pd_mask(lz_lo, lz_lo, _CMP_ORD_Q) |
                      ((unsigned)_mm512_cmp_pd_mask(lz_hi, lz_hi, _CMP_ORD_Q) << 8));
    if (c->logq) {
        const __m512d logk = _mm512_set1_pd(c->logk);
        __m512d lk_lo = _mm512_sub_pd(logk, lz_lo), lk_hi = _mm512_sub_pd(logk, lz_hi);
        __m512 f;
        if (c->popular) {
            /* (float)((lk - mx) + alpha * lw), the scalar code's operations */
            const __m512d mx = _mm512_set1_pd(s->t.mx), a = _mm512_set1_pd(s->t.alpha);
            __m512 lw = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), ok, item, s->lw, 4);
            __m512d w_lo = _mm512_cvtps_pd(_mm512_castps512_ps256(lw));
            __m512d w_hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(lw), 1)));
            f = ps_of_halves(_mm512_add_pd(_mm512_sub_pd(lk_lo, mx), _mm512_mul_pd(a, w_lo)),
                             _mm512_add_pd(_mm512_sub_pd(lk_hi, mx), _mm512_mul_pd(a, w_hi)));
        } else {
            f = ps_of_halves(lk_lo, lk_hi);
        }
        _mm512_mask_storeu_ps(c->logq + G->r, ok, f);
    }
    _mm512_mask_storeu_epi32(c->out + G->r, ok, item);
    return (unsigned)(all & ~ok);
}

T5 static int stage_select(sr_call *c, const sr_group *G, size_t *bad_row, sp_row *bad)
{
    const negs_sampler *s = c->s;
    unsigned todo = (1u << G->n) - 1u;
    if (c->plain && c->k == 1) todo = plain_k1(c, G);
    else if (c->excl && c->k == 1 && s->short_logz) todo = excl_k1(c, G);
    for (unsigned l = 0; l < G->n; l++) {
        if (!((todo >> l) & 1u) || select_row(c, G, l)) continue;
        size_t r = G->r + l;
        int has_user = c->users != NULL, has_pos = c->positives != NULL;
        float *lq = c->logq ? c->logq + r * c->k : NULL;
        int st = sp_general_row(s, c->scr, &c->g, c->step, s->row_offset + r, has_user,
                                has_user ? c->users[r] : 0, has_pos, has_pos ? c->positives[r] : 0,
                                c->k, c->out + r * c->k, lq, bad);
        if (st) {
            *bad_row = r;
            return st;
        }
    }
    return NEGS_OK;
}

/* draw_one's rejection for a UNIFORM catalogue row, the known positives found by list_has
 * instead of a bitmap probe (n / 8 bytes a user, one random line per probe) or a binary
 * search; after SP_MAX_TRIES rejections in a row, the same exact draw. */
T5 static void list_run_avx512(sp_row *row, sp_stream *r, uint32_t k, uint32_t *out)
{
    const uint32_t n = row->s.hi, pos = row->pos_item;
    const int has_pos = row->has_pos;
    for (uint32_t j = 0; j < k; j++) {
        int tries = 0;
        for (; tries < SP_MAX_TRIES; tries++) {
            uint32_t item = sp_bounded(r, n);
            if (!(has_pos && item == pos) && !list_has(row->excl, row->nexcl, item)) {
                out[j] = item;
                break;
            }
        }
        if (tries == SP_MAX_TRIES) {
            sp_row_build_removed(row);
            out[j] = sp_row_rank_to_item(row, sp_bounded(r, (uint32_t)row->m));
        }
    }
}

/* Rows in a group share the Philox key: a group never crosses a multiple of 2^32 rows. */
static unsigned group_rows(const negs_sampler *s, size_t r, size_t r1)
{
    uint64_t left = r1 - r, row = s->row_offset + r;
    uint64_t to_wrap = ((row >> 32) + 1) * ((uint64_t)1 << 32) - row;
    if (left > to_wrap) left = to_wrap;
    return left < SR_G ? (unsigned)left : SR_G;
}

T5 static int short_batch_avx512(const negs_sampler *s, const sp_scratch *scr, uint64_t step,
                                 size_t r0, size_t r1, const uint32_t *users,
                                 const uint32_t *positives, uint32_t k, uint32_t *out, float *logq,
                                 size_t *bad_row, sp_row *bad)
{
    sr_call c;
    c.s = s;
    c.scr = scr;
    c.step = step;
    c.users = users;
    c.positives = positives;
    c.k = k;
    c.out = out;
    c.logq = logq;
    c.popular = s->kind == NEGS_SAMPLER_POPULARITY;
    c.excl = s->positives && s->exclude && users;
    c.nb = ((c.popular ? 2 * k : k) + 2 + 3) / 4;
    c.ncand = c.popular ? 2 * c.nb : 4 * c.nb;
    c.n = c.popular ? s->t.alias.n : s->n_items;
    c.thr = (uint32_t)(-c.n) % c.n;
    c.far = c.popular && c.n >= (1u << 16);
    c.logk = log((double)k);
    c.log_total = log(c.popular ? s->t.total : (double)s->n_items);
    c.plain = !users && !positives;
    c.plain_lk = c.logk - c.log_total; /* z is the full mass */
    sp_rowgen_init(&c.g, s->rows_gen);
    sr_group ring[SR_STAGES];
    /* group t lives in ring[t % SR_STAGES]; stage 0 of group t + 2 and stage 1 of group t + 1
     * run before stage 2 of group t */
    size_t next = r0, made = 0;
    for (; made < SR_STAGES - 1 && next < r1; made++) {
        unsigned n = group_rows(s, next, r1);
        stage_words(&c, &ring[made], next, n);
        next += n;
    }
    if (made > 0) stage_cands(&c, &ring[0]);
    for (size_t t = 0; t < made; t++) {
        if (next < r1) {
            unsigned n = group_rows(s, next, r1);
            stage_words(&c, &ring[made % SR_STAGES], next, n);
            next += n;
            made++;
        }
        if (t + 1 < made) stage_cands(&c, &ring[(t + 1) % SR_STAGES]);
        int st = stage_select(&c, &ring[t % SR_STAGES], bad_row, bad);
        if (st) return st;
    }
    return NEGS_OK;
}
#endif

sp_list_run_fn sp_list_run_select(unsigned cpu)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) return list_run_avx512;
#else
    (void)cpu;
#endif
    return NULL;
}

sp_short_batch_fn sp_short_batch_select(unsigned cpu)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (cpu & NEGS_CPU_AVX512) return short_batch_avx512;
#else
    (void)cpu;
#endif
    return NULL;
}
