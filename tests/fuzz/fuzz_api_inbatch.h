/* The in-batch part of the API fuzzer (included by fuzz_api.c): false-negative telemetry
 * checked against the masks, the indexed in-batch calls against gather + negs_loss_inbatch,
 * and negs_xbm sequences (create / set_param / push / reset / layout with random ages,
 * capacities and steps) against a plain model of the ring, the layout fed to
 * negs_loss_inbatch. Whatever the arguments, a call fails with a status and its sentence or
 * keeps the documented promises. */
#ifndef NEGS_FUZZ_API_INBATCH_H
#define NEGS_FUZZ_API_INBATCH_H

enum { FZ_TEL_ROWS = 8, FZ_XBM_CAP = 6, FZ_IB_B = 4, FZ_IB_M = 8 };

/* What the harness knows of a loss handle besides its parameters. */
typedef struct fz_loss_state {
    const negs_csr *pos;   /* known positives set on the handle, or NULL */
    uint32_t tel_t;        /* telemetry in force: 0 off */
    size_t tel_rows;
    uint32_t cols[FZ_TEL_ROWS * NEGS_TELEMETRY_MAX_TOP];
    float logits[FZ_TEL_ROWS * NEGS_TELEMETRY_MAX_TOP];
} fz_loss_state;

static void fz_set_telemetry(fuzz_in *in, negs_loss *l, int kind, fz_loss_state *ls)
{
    uint8_t sel = fz_u8(in);
    uint32_t t = sel < 200 ? fz_below(in, 9) : fz_below(in, NEGS_TELEMETRY_MAX_TOP + 3);
    size_t rows = fz_below(in, FZ_TEL_ROWS + 1);
    int null_cols = fz_u8(in) == 0, null_logits = fz_u8(in) == 0;
    int st = negs_loss_set_telemetry(l, t, rows, null_cols ? NULL : ls->cols,
                                     null_logits ? NULL : ls->logits);
    double v = -1.0;
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_TELEMETRY_TOP, &v) == NEGS_OK);
    if (st) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_CHECK(kind == NEGS_LOSS_SOFTMAX || st == NEGS_E_UNSUPPORTED);
        FUZZ_CHECK(v == ls->tel_t); /* the telemetry in force is kept */
        return;
    }
    FUZZ_CHECK(kind == NEGS_LOSS_SOFTMAX && t <= NEGS_TELEMETRY_MAX_TOP);
    FUZZ_CHECK(t == 0 || (rows > 0 && !null_cols && !null_logits));
    FUZZ_CHECK(v == t);
    ls->tel_t = t;
    ls->tel_rows = t ? rows : 0;
}

/* Whether column j is masked for row i (or no candidate), by the header's rules. */
static int fz_masked(const fz_loss_state *ls, size_t i, size_t j, size_t b, const float *logq,
                     const uint32_t *item_ids, const uint32_t *user_ids, int *hit, int *known)
{
    *hit = *known = 0;
    if (item_ids && item_ids[j] == item_ids[i]) *hit = 1;
    else if (item_ids && user_ids && ls->pos && negs_csr_contains(ls->pos, user_ids[i], item_ids[j]) == 1)
        *known = 1;
    return *hit || *known || (j >= b && logq && logq[j] == -INFINITY);
}

/* Whether the logit of (i, j) may overflow float: a column whose logit is -inf after an
 * overflow contributes exactly 0 (the call is OK) and cannot be reported. */
static int fz_near_overflow(const negs_loss *l, const float *u, const float *v, size_t dim,
                            size_t i, size_t j, const float *logq)
{
    double T = 1.0, cosine = 0.0, dot = 0.0;
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_TEMPERATURE, &T) == NEGS_OK);
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_COSINE, &cosine) == NEGS_OK);
    if (cosine == 1.0) return 0;
    for (size_t d = 0; d < dim; d++) dot += fabs((double)u[i * dim + d] * v[j * dim + d]);
    return dot / T + (logq ? fabs(logq[j]) : 0.0) > 1e37;
}

/* After an OK in-batch call with telemetry on: each row's list holds min(t, live) live
 * negatives (fewer only by columns whose logit may have overflowed), best first, then
 * (UINT32_MAX, -inf); the counts are those of the masks. */
static void fz_check_telemetry(const negs_loss *l, const fz_loss_state *ls, size_t b, size_t m,
                               size_t dim, const float *u, const float *v, const float *logq,
                               const uint32_t *item_ids, const uint32_t *user_ids)
{
    uint32_t t = ls->tel_t;
    uint64_t hits = 0, known = 0;
    for (size_t i = 0; i < b; i++) {
        size_t live = 0, unsure = 0;
        for (size_t j = 0; j < b + m; j++) {
            int h, k;
            if (j == i) continue;
            if (!fz_masked(ls, i, j, b, logq, item_ids, user_ids, &h, &k)) {
                live++;
                unsure += (size_t)fz_near_overflow(l, u, v, dim, i, j, logq);
            }
            hits += (uint64_t)h;
            known += (uint64_t)k;
        }
        size_t want = live < t ? live : t, least = live - unsure < t ? live - unsure : t;
        size_t got = 0;
        while (got < t && ls->cols[i * t + got] != UINT32_MAX) got++;
        FUZZ_CHECK(got >= least && got <= want);
        for (uint32_t r = 0; r < t; r++) {
            uint32_t c = ls->cols[i * t + r];
            float z = ls->logits[i * t + r];
            if (r >= got) {
                FUZZ_CHECK(c == UINT32_MAX && z == -INFINITY);
                continue;
            }
            int h, k;
            FUZZ_CHECK(c < b + m && c != i && isfinite(z));
            FUZZ_CHECK(!fz_masked(ls, i, c, b, logq, item_ids, user_ids, &h, &k));
            if (r > 0) {
                uint32_t pc = ls->cols[i * t + r - 1];
                float pz = ls->logits[i * t + r - 1];
                FUZZ_CHECK(pz > z || (pz == z && pc < c)); /* best first, ties to the smaller column */
            }
        }
    }
    double dh = -1.0, dk = -1.0;
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_MASKED_HITS, &dh) == NEGS_OK);
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_MASKED_KNOWN, &dk) == NEGS_OK);
    FUZZ_CHECK(dh == (double)hits && dk == (double)(user_ids ? known : 0));
}

/* The promises of an OK in-batch call: finite loss and gradients, exact zero gradient rows
 * for the no-candidate columns; with telemetry, its lists; and the same bytes with it off. */
static void fz_check_inbatch(negs_loss *l, fz_loss_state *ls, size_t b, size_t m, size_t dim,
                             const float *u, const float *v, const float *logq,
                             const uint32_t *item_ids, const uint32_t *user_ids,
                             const float *loss, const float *du, const float *dv)
{
    double red = 0.0;
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_REDUCTION, &red) == NEGS_OK);
    size_t nl = red == NEGS_REDUCE_NONE ? b : 1;
    FUZZ_CHECK(fz_all_finite(loss, nl));
    if (du) FUZZ_CHECK(fz_all_finite(du, b * dim));
    if (dv) {
        FUZZ_CHECK(fz_all_finite(dv, (b + m) * dim));
        for (size_t j = b; logq && j < b + m; j++)
            if (logq[j] == -INFINITY)
                for (size_t d = 0; d < dim; d++) FUZZ_CHECK(dv[j * dim + d] == 0.0f);
    }
    if (!ls->tel_t) return;
    fz_check_telemetry(l, ls, b, m, dim, u, v, logq, item_ids, user_ids);
    /* off, the call gives the same bytes */
    float loss2[FZ_IB_B], du2[FZ_IB_B * FZ_DIM], dv2[(FZ_IB_B + FZ_IB_M) * FZ_DIM];
    FUZZ_CHECK(negs_loss_set_telemetry(l, 0, 0, NULL, NULL) == NEGS_OK);
    FUZZ_CHECK(negs_loss_inbatch(l, b, m, dim, u, v, logq, item_ids, user_ids, loss2,
                                 du ? du2 : NULL, dv ? dv2 : NULL) == NEGS_OK);
    FUZZ_CHECK(memcmp(loss, loss2, nl * sizeof *loss) == 0);
    if (du) FUZZ_CHECK(memcmp(du, du2, b * dim * sizeof *du) == 0);
    if (dv) FUZZ_CHECK(memcmp(dv, dv2, (b + m) * dim * sizeof *dv) == 0);
    FUZZ_CHECK(negs_loss_set_telemetry(l, ls->tel_t, ls->tel_rows, ls->cols, ls->logits) == NEGS_OK);
}

/* A logq for b + m columns: finite mostly, sometimes -inf (no candidate), NaN or +inf. */
static float fz_logq(fuzz_in *in)
{
    uint8_t sel = fz_u8(in);
    if (sel < 20) return -INFINITY;
    return fz_float(in);
}

/* _indexed_rows (and sometimes _indexed into zeroed tables) against gathering the rows and
 * calling negs_loss_inbatch: the same status class and, when OK, the same bytes. */
static void fz_loss_inbatch_indexed(fuzz_in *in, negs_loss *l, fz_loss_state *ls, const fz_model *md)
{
    size_t b = fz_below(in, FZ_IB_B + 1), m = fz_below(in, 4), dim = 1 + fz_below(in, FZ_DIM);
    float ue[FZ_USERS * FZ_DIM], ie[FZ_ITEMS * FZ_DIM], lq[FZ_IB_B + 4];
    float u[FZ_IB_B * FZ_DIM], v[(FZ_IB_B + 4) * FZ_DIM], loss[FZ_IB_B], loss2[FZ_IB_B];
    float du[FZ_IB_B * FZ_DIM], dv[(FZ_IB_B + 4) * FZ_DIM], du2[FZ_IB_B * FZ_DIM];
    float dv2[(FZ_IB_B + 4) * FZ_DIM];
    uint32_t ui[FZ_IB_B], ii[FZ_IB_B + 4];
    uint8_t flags = fz_u8(in);
    for (size_t i = 0; i < md->n_users * dim; i++) ue[i] = fz_float(in);
    for (size_t i = 0; i < md->n_items * dim; i++) ie[i] = fz_float(in);
    for (size_t i = 0; i < b; i++) ui[i] = fz_below(in, (uint8_t)(md->n_users + (flags & 32 ? 1 : 0)));
    for (size_t j = 0; j < b + m; j++) {
        ii[j] = fz_below(in, 255) % (md->n_items + (flags & 64 ? 1 : 0));
        lq[j] = fz_logq(in);
    }
    const float *logq = flags & 1 ? lq : NULL;
    int st = negs_loss_inbatch_indexed_rows(l, b, m, dim, ue, md->n_users, ie, md->n_items, ui, ii,
                                            logq, loss, flags & 2 ? du : NULL, flags & 4 ? dv : NULL);
    if (st) FUZZ_CHECK_FAILURE(st);
    /* the gathered twin, when every index is in range */
    int in_range = 1;
    for (size_t i = 0; i < b; i++) in_range &= ui[i] < md->n_users;
    for (size_t j = 0; j < b + m; j++) in_range &= ii[j] < md->n_items;
    if (!in_range || b == 0) {
        FUZZ_CHECK(st != NEGS_OK);
        return;
    }
    for (size_t i = 0; i < b; i++) memcpy(u + i * dim, ue + ui[i] * dim, dim * sizeof *u);
    for (size_t j = 0; j < b + m; j++) memcpy(v + j * dim, ie + ii[j] * dim, dim * sizeof *v);
    if (st == NEGS_OK) /* checked before the twin overwrites the telemetry */
        fz_check_inbatch(l, ls, b, m, dim, u, v, logq, ii, ls->pos ? ui : NULL, loss,
                         flags & 2 ? du : NULL, flags & 4 ? dv : NULL);
    int st2 = negs_loss_inbatch(l, b, m, dim, u, v, logq, ii, ls->pos ? ui : NULL, loss2,
                                flags & 2 ? du2 : NULL, flags & 4 ? dv2 : NULL);
    FUZZ_CHECK((st == NEGS_OK) == (st2 == NEGS_OK));
    if (st) return;
    double red = 0.0;
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_REDUCTION, &red) == NEGS_OK);
    FUZZ_CHECK(memcmp(loss, loss2, (red == NEGS_REDUCE_NONE ? b : 1) * sizeof *loss) == 0);
    if (flags & 2) FUZZ_CHECK(memcmp(du, du2, b * dim * sizeof *du) == 0);
    if (flags & 4) FUZZ_CHECK(memcmp(dv, dv2, (b + m) * dim * sizeof *dv) == 0);
    if (!(flags & 8)) return;
    /* _indexed ADDS into the tables: into zeroed tables, the sums of the rows' gradients */
    float gu[FZ_USERS * FZ_DIM] = {0}, gi[FZ_ITEMS * FZ_DIM] = {0};
    st = negs_loss_inbatch_indexed(l, b, m, dim, ue, md->n_users, ie, md->n_items, ui, ii, logq,
                                   loss2, gu, gi);
    FUZZ_CHECK(st == NEGS_OK);
    FUZZ_CHECK(fz_all_finite(gu, md->n_users * dim) && fz_all_finite(gi, md->n_items * dim));
}

/* ------------------------------------------------------------------ cross-batch memory */

/* The ring as the header describes it: the last `capacity` entries pushed, in push order. */
typedef struct fz_xbm_model {
    size_t cap, dim, n;
    uint64_t max_age; /* UINT64_MAX: +inf */
    float emb[FZ_XBM_CAP][FZ_DIM], logq[FZ_XBM_CAP];
    uint32_t id[FZ_XBM_CAP];
    uint64_t step[FZ_XBM_CAP];
} fz_xbm_model;

static void fz_xbm_push(fuzz_in *in, negs_xbm *x, fz_xbm_model *md)
{
    float emb[(FZ_XBM_CAP + 1) * (FZ_DIM + 1)], lq[FZ_XBM_CAP + 1];
    uint32_t ids[FZ_XBM_CAP + 1];
    size_t n = fz_below(in, (uint8_t)(md->cap + 2)), dim = md->dim + (fz_u8(in) == 1);
    uint8_t d = fz_u8(in), flags = fz_u8(in);
    uint64_t last = md->n ? md->step[md->n - 1] : 0;
    uint64_t step = d == 255 ? last - 1 : d >= 250 ? last + ((uint64_t)1 << (d - 200)) : last + d % 4;
    int finite = 1;
    for (size_t i = 0; i < n * dim && n <= md->cap; i++) {
        emb[i] = flags & 1 ? fz_float(in) : (float)(int8_t)fz_u8(in) / 16.0f;
        finite &= isfinite(emb[i]) != 0;
    }
    for (size_t i = 0; i < n && n <= md->cap; i++) {
        ids[i] = fz_u8(in) % FZ_ITEMS;
        lq[i] = flags & 2 ? fz_float(in) : -1.0f - (float)(i % 3);
        if (flags & 4) finite &= isfinite(lq[i]) != 0;
    }
    int st = negs_xbm_push(x, step, n, dim, emb, ids, flags & 4 ? lq : NULL);
    int want = dim == md->dim && n <= md->cap && (md->n == 0 || step >= last) && (n == 0 || finite);
    if (st) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_CHECK(!want && st == NEGS_E_INVALID);
        return;
    }
    FUZZ_CHECK(want);
    for (size_t i = 0; i < n; i++) {
        if (md->n == md->cap) { /* the oldest goes */
            memmove(md->emb[0], md->emb[1], (md->cap - 1) * sizeof md->emb[0]);
            memmove(md->logq, md->logq + 1, (md->cap - 1) * sizeof *md->logq);
            memmove(md->id, md->id + 1, (md->cap - 1) * sizeof *md->id);
            memmove(md->step, md->step + 1, (md->cap - 1) * sizeof *md->step);
            md->n--;
        }
        memcpy(md->emb[md->n], emb + i * dim, dim * sizeof(float));
        md->logq[md->n] = flags & 4 ? lq[i] : 0.0f;
        md->id[md->n] = ids[i];
        md->step[md->n] = step;
        md->n++;
    }
}

/* layout checked entry by entry against the model, then the columns fed to the loss. */
static void fz_xbm_layout(fuzz_in *in, const negs_xbm *x, const fz_xbm_model *md, negs_loss *l,
                          fz_loss_state *ls, const fz_model *fm)
{
    enum { ROWS = FZ_IB_B + FZ_XBM_CAP };
    float v[ROWS * FZ_DIM], lq[ROWS], u[FZ_IB_B * FZ_DIM], loss[FZ_IB_B];
    float du[FZ_IB_B * FZ_DIM], dv[ROWS * FZ_DIM];
    uint32_t ids[ROWS], users[FZ_IB_B];
    uint64_t age[FZ_XBM_CAP];
    size_t b = 1 + fz_below(in, FZ_IB_B), dim = md->dim, live = 99;
    size_t n_rows = b + md->n - (fz_u8(in) == 3 && b + md->n > 0 ? 1 : 0);
    uint8_t d = fz_u8(in), flags = fz_u8(in);
    uint64_t newest = md->n ? md->step[md->n - 1] : 0;
    uint64_t step = d == 255 ? newest - 1 : d >= 250 ? newest + ((uint64_t)1 << (d - 200)) : newest + d % 5;
    memset(v, 0, sizeof v);
    int st = negs_xbm_layout(x, step, b, dim, n_rows, v, lq, flags & 1 ? ids : NULL,
                             flags & 2 ? age : NULL, flags & 4 ? &live : NULL);
    int want = n_rows >= b + md->n && (md->n == 0 || step >= newest);
    if (st < 0) {
        FUZZ_CHECK_FAILURE(st);
        FUZZ_CHECK(!want);
        return;
    }
    FUZZ_CHECK(want && (size_t)st == md->n);
    size_t m = md->n, want_live = 0;
    for (size_t k = 0; k < m; k++) {
        size_t e = md->n - 1 - k; /* newest first */
        uint64_t a = step - md->step[e];
        int expired = md->max_age != UINT64_MAX && a > md->max_age;
        FUZZ_CHECK(memcmp(v + (b + k) * dim, md->emb[e], dim * sizeof *v) == 0);
        FUZZ_CHECK(expired ? lq[b + k] == -INFINITY : memcmp(&lq[b + k], &md->logq[e], sizeof *lq) == 0);
        if (flags & 1) FUZZ_CHECK(ids[b + k] == md->id[e]);
        if (flags & 2) FUZZ_CHECK(age[k] == a && (k == 0 || age[k] >= age[k - 1]));
        if (!expired) want_live = k + 1;
    }
    if (flags & 4) FUZZ_CHECK(live == want_live);
    /* the positives, then the memory's columns into the fused loss */
    for (size_t i = 0; i < b * dim; i++) {
        u[i] = fz_float(in);
        v[i] = fz_float(in);
    }
    for (size_t i = 0; i < b; i++) {
        lq[i] = flags & 8 ? fz_float(in) : -2.0f;
        ids[i] = fz_u8(in) % fm->n_items;
        users[i] = fz_below(in, (uint8_t)fm->n_users);
    }
    for (size_t k = 0; k < m; k++) ids[b + k] = md->id[md->n - 1 - k] % fm->n_items;
    const uint32_t *item_ids = flags & 16 ? ids : NULL;
    const uint32_t *user_ids = item_ids && ls->pos && (flags & 32) ? users : NULL;
    st = negs_loss_inbatch(l, b, m, dim, u, v, lq, item_ids, user_ids, loss, flags & 64 ? du : NULL,
                           flags & 128 ? dv : NULL);
    if (st) {
        FUZZ_CHECK_FAILURE(st);
        return;
    }
    fz_check_inbatch(l, ls, b, m, dim, u, v, lq, item_ids, user_ids, loss, flags & 64 ? du : NULL,
                     flags & 128 ? dv : NULL);
}

static void fz_xbm_seq(fuzz_in *in, negs_loss *l, fz_loss_state *ls, const fz_model *fm)
{
    size_t cap = fz_below(in, FZ_XBM_CAP + 1), dim = 1 + fz_below(in, FZ_DIM);
    negs_xbm *x = negs_xbm_create(cap, dim);
    if (cap == 0) {
        FUZZ_CHECK(x == NULL && negs_last_status() == NEGS_E_INVALID);
        return;
    }
    FUZZ_CHECK(x != NULL);
    fz_xbm_model md;
    memset(&md, 0, sizeof md);
    md.cap = cap;
    md.dim = dim;
    md.max_age = UINT64_MAX;
    for (int op = 0; op < 16 && in->n > 0; op++) {
        switch (fz_below(in, 6)) {
        case 0: {
            int p = (int)fz_below(in, 6);
            double v = fz_double(in), got = -1.0;
            int st = negs_xbm_set_param(x, p, v);
            if (st) FUZZ_CHECK_FAILURE(st);
            else {
                FUZZ_CHECK(p == NEGS_XP_MAX_AGE);
                FUZZ_CHECK(v == INFINITY || (v >= 0.0 && v == floor(v) && v <= 9007199254740992.0));
                md.max_age = v == INFINITY ? UINT64_MAX : (uint64_t)v;
            }
            for (p = 0; p <= 5; p++) {
                st = negs_xbm_get_param(x, p, &got);
                if (p < NEGS_XP_MAX_AGE || p > NEGS_XP_SIZE) {
                    FUZZ_CHECK(st == NEGS_E_UNSUPPORTED);
                    continue;
                }
                FUZZ_CHECK(st == NEGS_OK);
                double want = p == NEGS_XP_MAX_AGE ? (md.max_age == UINT64_MAX ? INFINITY : (double)md.max_age)
                              : p == NEGS_XP_CAPACITY ? (double)cap : p == NEGS_XP_DIM ? (double)dim
                                                                                      : (double)md.n;
                FUZZ_CHECK(got == want);
            }
            break;
        }
        case 1: case 2: fz_xbm_push(in, x, &md); break;
        case 3:
            if (fz_below(in, 4) == 0) {
                FUZZ_CHECK(negs_xbm_reset(x) == NEGS_OK);
                md.n = 0;
            }
            break;
        default: fz_xbm_layout(in, x, &md, l, ls, fm); break;
        }
    }
    negs_xbm_free(x);
}

#endif
