/* Short rows in groups of 16 consecutive rows (AVX-512). A row of one draw costs little more
 * than its memory accesses, so the per-row work is spread over a group and the accesses of
 * later groups are started early, in three stages run a group apart:
 *   0. the group's Philox words (one 16-lane pass per block, the rows' streams side by side);
 *      its users' offsets and sums (for k = 1 with exclusion: their 16-byte records), and, for
 *      tables beyond the caches, the alias entries its first candidates will read, are
 *      prefetched;
 *   1. its first k candidates for all 16 rows at once (Lemire column, gathered alias entries);
 *      the exclusion data they will test (bitmap words, the users' lists) and their log
 *      weights are prefetched (k = 1 with exclusion: after gathering the users' records);
 *   2. each row takes its candidates in order, skipping Lemire rejections and excluded items,
 *      exactly as the per-row loop of sampler_short.c (further candidates are computed from
 *      the words one at a time); a row that needs more than its preloaded words, or the exact
 *      draw, is redone by the general path. So the output is the general path's, bit for bit.
 *      Rows of k = 1 are first finished 16 at a time (plain_k1, excl_k1); only the lanes those
 *      cannot finish go through the per-row steps. */
#include "sampler_short.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>

#include "philox_avx512.h"

#define T5 NEGS_T5
#define SR_G 16
/* Groups between stage 0 and stage 1 and between stage 1 and stage 2 (the prefetch distances
 * of the users' records and of what their rows test), and the groups in flight. */
#define SR_D0 1
#define SR_D1 1
#define SR_RING (SR_D0 + SR_D1 + 1)

typedef struct sr_group {
    size_t r;        /* first row of the call */
    unsigned n;      /* rows, at most SR_G */
    uint32_t w[SP_ROWGEN_BLOCKS][4 * SR_G]; /* word i of lane l at w[i / 4][16 (i % 4) + l] */
    uint32_t cand[SP_SHORT_MAX_K][SR_G];    /* candidate j of each lane */
    uint32_t rej[SP_SHORT_MAX_K];           /* lanes whose candidate j is a Lemire rejection */
    uint64_t off[SR_G], len[SR_G];          /* each row's user: list in the positives table */
    unsigned char mode[SR_G];               /* and its SR_* test */
    uint64_t ulist[SR_G];                   /* k = 1 with exclusion: the users' records */
    double ulogz[SR_G];
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
    int excl1;          /* k = 1 with exclusion, from the users' records (excl_k1) */
    uint32_t bits_min;  /* lists of at least this length are tested in the bitmaps (sr_mode) */
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
    if (c->excl1) {
        for (unsigned l = 0; l < n; l++) __builtin_prefetch(&s->short_users[c->users[r + l]]);
    } else if (c->excl) {
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

/* The 16 bit codes of the users' list lengths (min(length, 255)) from their records. */
T5 static inline __m512i len_codes(const uint64_t *ulist)
{
    const __m512i m = _mm512_set1_epi64(SR_LEN_CODE_MAX);
    __m256i lo = _mm512_cvtepi64_epi32(_mm512_and_si512(_mm512_loadu_si512((const void *)ulist), m));
    __m256i hi = _mm512_cvtepi64_epi32(_mm512_and_si512(_mm512_loadu_si512((const void *)(ulist + 8)), m));
    return _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
}

/* Stage 1 of k = 1 with exclusion: the group's user records (prefetched at stage 0) in four
 * gathers, then what stage 2 will test prefetched: the lists (the lines of the list's first 64
 * items) or, for users tested in their bitmaps, the words of the candidate and the positive. */
T5 static void users_k1(const sr_call *c, sr_group *G)
{
    const negs_sampler *s = c->s;
    const __mmask16 all = (__mmask16)((1u << G->n) - 1u);
    __m512i uv = _mm512_maskz_loadu_epi32(all, c->users + G->r);
    __m512i ilo = _mm512_slli_epi64(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(uv)), 1);
    __m512i ihi = _mm512_slli_epi64(_mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(uv, 1)), 1);
    const void *base = (const void *)s->short_users;
    const __mmask8 mlo = (__mmask8)all, mhi = (__mmask8)(all >> 8);
    /* a record is two 8-byte words: list at 2u, logz at 2u + 1 */
    _mm512_storeu_si512((void *)G->ulist, _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), mlo, ilo, base, 8));
    _mm512_storeu_si512((void *)(G->ulist + 8), _mm512_mask_i64gather_epi64(_mm512_setzero_si512(), mhi, ihi, base, 8));
    const double *lzb = &s->short_users->logz;
    _mm512_storeu_pd(G->ulogz, _mm512_mask_i64gather_pd(_mm512_setzero_pd(), mlo, ilo, lzb, 8));
    _mm512_storeu_pd(G->ulogz + 8, _mm512_mask_i64gather_pd(_mm512_setzero_pd(), mhi, ihi, lzb, 8));
    const uint32_t *ix = s->positives->indices;
    for (unsigned l = 0; l < G->n; l++) {
        uint32_t code = (uint32_t)(G->ulist[l] & SR_LEN_CODE_MAX);
        if (code >= c->bits_min) {
            const uint64_t *b = s->ubits + (size_t)c->users[G->r + l] * s->ubits_words;
            __builtin_prefetch(b + (G->cand[0][l] >> 6));
            if (c->positives) __builtin_prefetch(b + (c->positives[G->r + l] >> 6));
        } else if (code <= SR_LIST_MAX) {
            const uint32_t *list = ix + (G->ulist[l] >> SR_LEN_BITS);
            __builtin_prefetch(list);
            if (code > 16) __builtin_prefetch(list + 16);
            if (code > 32) __builtin_prefetch(list + 32);
            if (code > 48) __builtin_prefetch(list + 48);
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
    if (c->excl1) {
        users_k1(c, G);
    } else if (c->excl) {
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

/* 16 floats from two halves of 8 doubles, each rounded once. */
T5 static inline __m512 ps_of_halves(__m512d lo, __m512d hi)
{
    return _mm512_castpd_ps(_mm512_insertf64x4(
        _mm512_castps_pd(_mm512_castps256_ps512(_mm512_cvtpd_ps(lo))),
        _mm256_castps_pd(_mm512_cvtpd_ps(hi)), 1));
}

/* The load masks of the 16-item chunk at `from` of lists of `code` items (0 outside `lanes`). */
T5 static inline __m256i chunk_masks(__m512i code, unsigned from, __mmask16 lanes)
{
    const __m512i one = _mm512_set1_epi32(1);
    const __m512i f = _mm512_set1_epi32((int)from);
    __m512i left = _mm512_min_epu32(_mm512_sub_epi32(_mm512_max_epu32(code, f), f), _mm512_set1_epi32(16));
    __m512i m = _mm512_maskz_sub_epi32(lanes, _mm512_sllv_epi32(one, left), one);
    return _mm512_cvtepi32_epi16(m);
}

/* The list test of excl_k1 for the lanes of `lanes` (lists of at most SR_LIST_MAX items):
 * each lane's candidate and positive against its list, two masked chunks of 16 per lane
 * (masks made for all lanes at once, so no branch on the length), two more for lists longer
 * than 32. Sets the lanes' bits of *kc (candidate known) and *kp (positive known). */
T5 static void lists_k1(const sr_call *c, const sr_group *G, __mmask16 lanes, __m512i code,
                        __m512i pv, __mmask16 *kc, __mmask16 *kp)
{
    const uint32_t *ix = c->s->positives->indices;
    uint16_t mk[4][SR_G];
    unsigned char hc[SR_G], hp[SR_G];
    const __mmask16 longer = (__mmask16)(lanes & _mm512_cmpgt_epu32_mask(code, _mm512_set1_epi32(32)));
    for (unsigned q = 0; q < (longer ? 4u : 2u); q++)
        _mm256_storeu_si256((__m256i *)(void *)mk[q], chunk_masks(code, 16 * q, lanes));
    uint32_t pos[SR_G];
    _mm512_storeu_si512((void *)pos, pv);
    for (unsigned l = 0; l < SR_G; l++) {
        const uint32_t *L = ix + (G->ulist[l] >> SR_LEN_BITS);
        const __m512i vc = _mm512_set1_epi32((int)G->cand[0][l]), vp = _mm512_set1_epi32((int)pos[l]);
        const __mmask16 m0 = mk[0][l], m1 = mk[1][l];
        const __m512i a0 = _mm512_maskz_loadu_epi32(m0, L), a1 = _mm512_maskz_loadu_epi32(m1, L + 16);
        __mmask16 c0 = _mm512_mask_cmpeq_epi32_mask(m0, a0, vc), c1 = _mm512_mask_cmpeq_epi32_mask(m1, a1, vc);
        __mmask16 p0 = _mm512_mask_cmpeq_epi32_mask(m0, a0, vp), p1 = _mm512_mask_cmpeq_epi32_mask(m1, a1, vp);
        hc[l] = (unsigned char)((c0 | c1) != 0);
        hp[l] = (unsigned char)((p0 | p1) != 0);
    }
    for (unsigned m = longer; m; m &= m - 1u) {
        const unsigned l = (unsigned)__builtin_ctz(m);
        const uint32_t *L = ix + (G->ulist[l] >> SR_LEN_BITS) + 32;
        const __m512i vc = _mm512_set1_epi32((int)G->cand[0][l]), vp = _mm512_set1_epi32((int)pos[l]);
        const __mmask16 m2 = mk[2][l], m3 = mk[3][l];
        const __m512i a2 = _mm512_maskz_loadu_epi32(m2, L), a3 = _mm512_maskz_loadu_epi32(m3, L + 16);
        __mmask16 c2 = _mm512_mask_cmpeq_epi32_mask(m2, a2, vc), c3 = _mm512_mask_cmpeq_epi32_mask(m3, a3, vc);
        __mmask16 p2 = _mm512_mask_cmpeq_epi32_mask(m2, a2, vp), p3 = _mm512_mask_cmpeq_epi32_mask(m3, a3, vp);
        hc[l] |= (unsigned char)((c2 | c3) != 0);
        hp[l] |= (unsigned char)((p2 | p3) != 0);
    }
    const __m512i zero = _mm512_setzero_si512();
    *kc |= (__mmask16)(lanes & _mm512_cmpneq_epi32_mask(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)hc)), zero));
    *kp |= (__mmask16)(lanes & _mm512_cmpneq_epi32_mask(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(const void *)hp)), zero));
}

/* Rows of k = 1 with the users' known positives excluded, 16 at a time, from the records
 * gathered at stage 1: the part of sr_row_finish for a row whose positive is a known one (or
 * absent) was done at rebuild (the record's log z, NaN when such a row needs the per-row code:
 * exact draws, no eligible mass, the user's own table). The candidate and the positive are
 * tested together: in the bitmaps by two gathers for the whole group, in the lists by masked
 * compares of each lane's list (at most SR_LIST_MAX items, no branch on the length below 32),
 * by binary search for a longer list without a bitmap. A lane is finished here when its
 * positive is a known one (or absent) and its candidate is neither a Lemire rejection nor
 * excluded; any other lane (a positive not in the list, a rejected first candidate, NaN) is
 * left to select_row, which redoes it from the start. Returns those lanes. */
T5 static unsigned excl_k1(const sr_call *c, const sr_group *G)
{
    const negs_sampler *s = c->s;
    const negs_csr *p = s->positives;
    const unsigned n = G->n;
    const size_t r = G->r;
    const __mmask16 all = (__mmask16)((1u << n) - 1u);
    const int has_pos = c->positives != NULL;
    const __m512i item0 = _mm512_loadu_si512((const void *)G->cand[0]);
    const __m512i pv = has_pos ? _mm512_maskz_loadu_epi32(all, c->positives + r) : _mm512_setzero_si512();
    const __m512i code = len_codes(G->ulist);
    const __mmask16 bits = (__mmask16)(_mm512_cmpge_epu32_mask(code, _mm512_set1_epi32((int)c->bits_min)) & all);
    const __mmask16 list = (__mmask16)(_mm512_cmple_epu32_mask(code, _mm512_set1_epi32(SR_LIST_MAX)) & all & ~bits);
    const __mmask16 search = (__mmask16)(all & ~bits & ~list);
    __mmask16 kc = 0, kp = has_pos ? 0 : all; /* candidate known; positive known (or none) */
    if (bits) {
        /* bit i of a user's bitmap is bit i % 32 of its 32-bit word i / 32 */
        const int *b32 = (const int *)(const void *)s->ubits;
        const __m512i uv = _mm512_maskz_loadu_epi32(bits, c->users + r);
        const __m512i wpu = _mm512_set1_epi64((long long)(2 * s->ubits_words));
        const __m512i ulo = _mm512_mul_epu32(_mm512_cvtepu32_epi64(_mm512_castsi512_si256(uv)), wpu);
        const __m512i uhi = _mm512_mul_epu32(_mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(uv, 1)), wpu);
        const __m512i one = _mm512_set1_epi32(1), b31 = _mm512_set1_epi32(31);
        for (int t = 0; t < 1 + has_pos; t++) {
            const __m512i v = t ? pv : item0, wi = _mm512_srli_epi32(v, 5);
            __m512i ilo = _mm512_add_epi64(ulo, _mm512_cvtepu32_epi64(_mm512_castsi512_si256(wi)));
            __m512i ihi = _mm512_add_epi64(uhi, _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(wi, 1)));
            __m256i glo = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), (__mmask8)bits, ilo, b32, 4);
            __m256i ghi = _mm512_mask_i64gather_epi32(_mm256_setzero_si256(), (__mmask8)(bits >> 8), ihi, b32, 4);
            __m512i g = _mm512_inserti64x4(_mm512_castsi256_si512(glo), ghi, 1);
            __mmask16 hit = _mm512_mask_test_epi32_mask(bits, _mm512_srlv_epi32(g, _mm512_and_si512(v, b31)), one);
            if (t) kp |= hit;
            else kc |= hit;
        }
    }
    if (list) lists_k1(c, G, list, code, pv, &kc, &kp);
    for (unsigned m = search; m; m &= m - 1u) {
        const unsigned l = (unsigned)__builtin_ctz(m);
        const uint32_t u = c->users[r + l];
        const uint64_t off = p->indptr[u], len = p->indptr[u + 1] - off;
        kc |= (__mmask16)((unsigned)negs_sorted_contains(p->indices + off, len, G->cand[0][l]) << l);
        if (has_pos)
            kp |= (__mmask16)((unsigned)negs_sorted_contains(p->indices + off, len, c->positives[r + l]) << l);
    }
    const __m512d lz_lo = _mm512_loadu_pd(G->ulogz), lz_hi = _mm512_loadu_pd(G->ulogz + 8);
    const __mmask16 ordered = (__mmask16)(_mm512_cmp_pd_mask(lz_lo, lz_lo, _CMP_ORD_Q) |
                                          ((unsigned)_mm512_cmp_pd_mask(lz_hi, lz_hi, _CMP_ORD_Q) << 8));
    /* the positive must be a known one (or absent) and the candidate must not */
    __mmask16 ok = (__mmask16)(all & ~G->rej[0] & ~kc & kp & ordered);
    /* a lane whose first candidate was rejected or excluded takes its second, as the per-row
     * loop would (its positive is excluded with the list, so only the list is tested) */
    __m512i item = item0;
    const unsigned again = (unsigned)(all & ~ok & kp & ordered);
    if (again) {
        uint32_t second[SR_G];
        unsigned took = 0;
        for (unsigned m = again; m; m &= m - 1u) {
            const unsigned l = (unsigned)__builtin_ctz(m);
            uint32_t it;
            if (!cand_scalar(c, &s->t.alias, &G->w[0][l], 1, &it)) continue;
            const uint64_t len = G->ulist[l] & SR_LEN_CODE_MAX;
            int in;
            if (len >= c->bits_min) {
                const uint64_t *b = s->ubits + (size_t)c->users[r + l] * s->ubits_words;
                in = (int)((b[it >> 6] >> (it & 63)) & 1u);
            } else if (len <= SR_LIST_MAX) {
                in = list_has(p->indices + (G->ulist[l] >> SR_LEN_BITS), len, it);
            } else {
                const uint32_t u = c->users[r + l];
                in = negs_sorted_contains(p->indices + p->indptr[u], p->indptr[u + 1] - p->indptr[u], it);
            }
            if (in) continue;
            second[l] = it;
            took |= 1u << l;
        }
        item = _mm512_mask_loadu_epi32(item, (__mmask16)took, second);
        ok |= (__mmask16)took;
    }
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
        _mm512_mask_storeu_ps(c->logq + r, ok, f);
    }
    _mm512_mask_storeu_epi32(c->out + r, ok, item);
    return (unsigned)(all & ~ok);
}

T5 static int stage_select(sr_call *c, const sr_group *G, size_t *bad_row, sp_row *bad)
{
    const negs_sampler *s = c->s;
    unsigned todo = (1u << G->n) - 1u;
    if (c->plain && c->k == 1) todo = plain_k1(c, G);
    else if (c->excl1) todo = excl_k1(c, G);
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
    c.excl1 = c.excl && k == 1 && s->short_users;
    /* sr_mode: the bitmap for lists of at least words / 2 items or longer than SR_LIST_MAX */
    c.bits_min = SR_LEN_CODE_MAX + 1; /* no bitmaps: never */
    if (s->ubits) {
        size_t half = s->ubits_words / 2 + (s->ubits_words & 1);
        c.bits_min = half < SR_LIST_MAX + 1 ? (uint32_t)half : SR_LIST_MAX + 1;
    }
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
    sr_group ring[SR_RING];
    /* group t lives in ring[t % SR_RING]; at step i, stage 0 runs on group i, stage 1 on group
     * i - SR_D0 and stage 2 on group i - SR_D0 - SR_D1 */
    size_t next = r0, made = 0;
    for (size_t i = 0;; i++) {
        if (next < r1) {
            unsigned n = group_rows(s, next, r1);
            stage_words(&c, &ring[i % SR_RING], next, n);
            next += n;
            made++;
        }
        if (i >= SR_D0 && i - SR_D0 < made) stage_cands(&c, &ring[(i - SR_D0) % SR_RING]);
        if (i < SR_D0 + SR_D1) continue;
        size_t t = i - SR_D0 - SR_D1;
        if (t >= made) break;
        int st = stage_select(&c, &ring[t % SR_RING], bad_row, bad);
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
