/* Random sequences of API calls with random arguments on every handle kind. Whatever the
 * arguments, a call either succeeds with outputs that keep the header's promises (items below
 * n_items, never the row's positive nor, with exclusion on, a known positive of its user, no
 * repeat in a UNIQUE row, no item of weight 0, finite log q; finite losses and gradients,
 * exact zeros in masked slots; estimator probabilities in (0, 1]), or fails with a status and
 * its sentence, and the handle stays usable. */
#include "fuzz_common.h"

enum { FZ_ITEMS = 40, FZ_USERS = 6, FZ_ROWS = 8, FZ_K = 64, FZ_DIM = 4, FZ_OPS = 48 };

typedef struct fz_model {
    negs_csr *pos;                 /* the positives table the harness may hand out */
    uint32_t n_items, n_users;
    const negs_csr *sampler_pos;   /* as set on the top sampler, NULL if none */
    double weights[FZ_ITEMS];
    int has_weights;
    negs_sampler *kids[8]; /* children added to the top sampler (it owns them): the host may
                            * still call them, which must never break the parent */
    unsigned n_kids;
} fz_model;

static negs_csr *fz_table(fuzz_in *in, uint32_t n_users, uint32_t n_items)
{
    uint64_t indptr[FZ_USERS + 1] = {0};
    uint32_t idx[FZ_USERS * 8];
    for (uint32_t u = 0; u < n_users; u++) {
        uint32_t len = fz_below(in, 9);
        indptr[u + 1] = indptr[u] + len;
        for (uint32_t q = 0; q < len; q++) idx[indptr[u] + q] = fz_below(in, 255) % n_items;
    }
    negs_csr *t = negs_csr_create(n_users, n_items, indptr, idx);
    FUZZ_CHECK(t != NULL);
    return t;
}

/* -1 .. 15: the first ids and some unknown ones; behind -1 (one more byte) the later blocks:
 * shared exclude 20, SRNS 30..37, WALK 40..44, and unknown ids around them. */
static int fz_param_id(fuzz_in *in)
{
    static const int later[] = {-1, 16, 20, 21, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38,
                                39, 40, 41, 42, 43, 44, 45, 1000};
    int p = (int)fz_below(in, 17) - 1;
    if (p == -1) p = later[fz_below(in, sizeof later / sizeof later[0])];
    return p;
}

/* ------------------------------------------------------------------ samplers */

static void fz_check_sample(const negs_sampler *s, const fz_model *md, int kind, size_t n_rows,
                            const uint32_t *users, const uint32_t *positives, uint32_t k,
                            const uint32_t *items, const float *logq)
{
    double unique = 0.0, excl = 0.0;
    FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_UNIQUE, &unique) == NEGS_OK);
    FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_EXCLUDE_POSITIVES, &excl) == NEGS_OK);
    int plain = kind != NEGS_SAMPLER_MIXTURE && kind != NEGS_SAMPLER_HARD;
    if (kind == NEGS_SAMPLER_WALK) {
        FUZZ_CHECK(excl == 1.0 && unique == 0.0 && users && md->sampler_pos);
        double fb = -1.0, rej = -1.0, tries = -1.0;
        FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_WALK_FALLBACKS, &fb) == NEGS_OK);
        FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_WALK_REJECTED, &rej) == NEGS_OK);
        FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_WALK_TRIES, &tries) == NEGS_OK);
        FUZZ_CHECK(fb >= 0.0 && fb <= (double)(n_rows * k));
        FUZZ_CHECK(rej >= 0.0 && rej <= (double)(n_rows * k) * tries);
    }
    for (size_t r = 0; r < n_rows; r++) {
        for (uint32_t j = 0; j < k; j++) {
            uint32_t it = items[r * k + j];
            FUZZ_CHECK(it < md->n_items);
            if (positives) FUZZ_CHECK(it != positives[r]);
            if (plain && md->sampler_pos && excl == 1.0 && users)
                FUZZ_CHECK(negs_csr_contains(md->sampler_pos, users[r], it) == 0);
            /* EXPOSURE draws uniformly among exposed items; its weights serve the fallback */
            if (plain && kind != NEGS_SAMPLER_EXPOSURE && md->has_weights)
                FUZZ_CHECK(md->weights[it] > 0.0);
            if (plain && unique == 1.0)
                for (uint32_t q = 0; q < j; q++) FUZZ_CHECK(items[r * k + q] != it);
            if (logq && kind == NEGS_SAMPLER_WALK) {
                FUZZ_CHECK(isnan(logq[r * k + j])); /* no exact probability: NaN, documented */
            } else if (logq) {
                FUZZ_CHECK(isfinite(logq[r * k + j]));
                if (kind != NEGS_SAMPLER_HARD)
                    FUZZ_CHECK(logq[r * k + j] <= logf((float)k) + 1e-3f);
            }
        }
    }
}

static negs_sampler *fz_child(fuzz_in *in, const fz_model *md)
{
    int kind = 1 + (int)fz_below(in, 2); /* UNIFORM or POPULARITY */
    negs_sampler *c = negs_sampler_create(kind, md->n_items, fz_u8(in));
    FUZZ_CHECK(c != NULL);
    if (kind == NEGS_SAMPLER_POPULARITY) {
        double w[FZ_ITEMS];
        for (uint32_t i = 0; i < md->n_items; i++) w[i] = (double)fz_below(in, 4);
        w[0] = 1.0;
        FUZZ_CHECK(negs_sampler_set_weights(c, w, md->n_items) == NEGS_OK);
    }
    if (fz_u8(in) & 1) FUZZ_CHECK(negs_sampler_set_positives(c, md->pos) == NEGS_OK);
    return c;
}

/* SRNS: sometimes (re)prepare, draw the candidates, corrupt a few, select. */
static void fz_srns(fuzz_in *in, negs_sampler *s, const fz_model *md)
{
    uint32_t users[FZ_ROWS], cand[FZ_ROWS * FZ_K], out[FZ_ROWS * FZ_K];
    float sc[FZ_ROWS * FZ_K], ps[FZ_ROWS], lq[FZ_ROWS * FZ_K];
    double S = 0.0, R = 0.0;
    FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_SRNS_MEMORY, &S) == NEGS_OK &&
               negs_sampler_get_param(s, NEGS_SP_SRNS_REFRESH, &R) == NEGS_OK);
    size_t n_rows = fz_below(in, FZ_ROWS + 1), n = (size_t)(S + R);
    if (n_rows * n > FZ_ROWS * FZ_K) return;
    int st;
    if (fz_u8(in) & 1 && (st = negs_srns_prepare(s, fz_below(in, (uint8_t)(md->n_users + 1)))))
        FUZZ_CHECK_FAILURE(st);
    for (size_t r = 0; r < n_rows; r++) users[r] = fz_below(in, (uint8_t)(md->n_users + 1));
    uint64_t step = fz_u8(in);
    st = negs_srns_candidates(s, step, n_rows, users, NULL, cand);
    if (st < 0) {
        FUZZ_CHECK_FAILURE(st);
        return;
    }
    FUZZ_CHECK((size_t)st == n);
    for (size_t i = 0; i < n_rows * n; i++) {
        FUZZ_CHECK(cand[i] < md->n_items);
        if (fz_u8(in) == 0) cand[i] = fz_below(in, 255) % (md->n_items + 1);
        sc[i] = fz_float(in);
    }
    for (size_t r = 0; r < n_rows; r++) ps[r] = fz_float(in);
    uint32_t k = fz_below(in, 5);
    st = negs_srns_select(s, step, n_rows, users, NULL, cand, sc, ps, k, out, lq);
    if (st) {
        FUZZ_CHECK_FAILURE(st);
        return;
    }
    for (size_t i = 0; i < n_rows * k; i++) FUZZ_CHECK(out[i] < md->n_items && lq[i] == 0.0f);
}

/* WALK: the draws do not depend on NEGS_SP_THREADS nor on splitting the rows over calls with
 * matching NEGS_SP_ROW_OFFSET (documented), and a call never allocates (not checked here). */
static void fz_walk_split(fuzz_in *in, negs_sampler *s, const fz_model *md)
{
    uint32_t users[FZ_ROWS], positives[FZ_ROWS], a[FZ_ROWS * 6], b[FZ_ROWS * 6];
    float la[FZ_ROWS * 6], lb[FZ_ROWS * 6];
    size_t n_rows = 1 + fz_below(in, FZ_ROWS), cut = fz_below(in, (uint8_t)(n_rows + 1));
    uint32_t k = 1 + fz_below(in, 6);
    for (size_t r = 0; r < n_rows; r++) {
        users[r] = fz_below(in, (uint8_t)md->n_users);
        positives[r] = fz_below(in, 255) % md->n_items;
    }
    uint64_t step = fz_u8(in);
    double threads = 0.0, offset = 0.0;
    FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_THREADS, &threads) == NEGS_OK);
    FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_ROW_OFFSET, &offset) == NEGS_OK);
    int st = negs_sampler_sample(s, step, n_rows, users, positives, k, a, la);
    if (st) {
        FUZZ_CHECK_FAILURE(st);
        return;
    }
    fz_check_sample(s, md, NEGS_SAMPLER_WALK, n_rows, users, positives, k, a, la);
    if (offset + (double)cut > 9007199254740992.0) return; /* ROW_OFFSET's range */
    FUZZ_CHECK(negs_sampler_set_param(s, NEGS_SP_THREADS, 1 + fz_below(in, 4)) == NEGS_OK);
    int whole = 1;
    if (cut > 0) whole &= negs_sampler_sample(s, step, cut, users, positives, k, b, lb) == NEGS_OK;
    FUZZ_CHECK(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, offset + (double)cut) == NEGS_OK);
    if (cut < n_rows)
        whole &= negs_sampler_sample(s, step, n_rows - cut, users + cut, positives + cut, k,
                                     b + cut * k, lb + cut * k) == NEGS_OK;
    FUZZ_CHECK(whole);
    FUZZ_CHECK(memcmp(a, b, n_rows * k * sizeof *a) == 0);
    FUZZ_CHECK(negs_sampler_set_param(s, NEGS_SP_THREADS, threads) == NEGS_OK);
    FUZZ_CHECK(negs_sampler_set_param(s, NEGS_SP_ROW_OFFSET, offset) == NEGS_OK);
}

static void fz_sampler_op(fuzz_in *in, negs_sampler *s, int kind, fz_model *md)
{
    uint32_t users[FZ_ROWS], positives[FZ_ROWS], items[FZ_ROWS * FZ_K];
    float logq[FZ_ROWS * FZ_K];
    int st;
    switch (fz_below(in, 10)) {
    case 0: {
        int p = fz_param_id(in);
        double v = fz_double(in), before = 0.0, after = 0.0;
        int had = negs_sampler_get_param(s, p, &before);
        st = negs_sampler_set_param(s, p, v);
        if (st) {
            FUZZ_CHECK_FAILURE(st);
            if (had == NEGS_OK && p != NEGS_SP_FALLBACK_ROWS) {
                FUZZ_CHECK(negs_sampler_get_param(s, p, &after) == NEGS_OK);
                FUZZ_CHECK(memcmp(&before, &after, sizeof before) == 0); /* value kept */
            }
        } else {
            FUZZ_CHECK(negs_sampler_get_param(s, p, &after) == NEGS_OK && isfinite(after));
        }
        return;
    }
    case 1: {
        double w[FZ_ITEMS];
        uint32_t n = md->n_items + (fz_u8(in) == 7);
        if (n > FZ_ITEMS) n = FZ_ITEMS;
        for (uint32_t i = 0; i < n; i++) w[i] = fz_u8(in) < 200 ? (double)fz_below(in, 5) : fz_double(in);
        st = negs_sampler_set_weights(s, w, n);
        if (st) FUZZ_CHECK_FAILURE(st);
        else {
            FUZZ_CHECK(n == md->n_items);
            memcpy(md->weights, w, n * sizeof *w);
            md->has_weights = 1;
        }
        return;
    }
    case 2: {
        const negs_csr *t = fz_u8(in) & 1 ? md->pos : NULL;
        st = negs_sampler_set_positives(s, t);
        if (st) FUZZ_CHECK_FAILURE(st);
        else md->sampler_pos = t;
        if (!st && fz_u8(in)) {
            st = negs_sampler_set_positives(s, md->pos);
            if (st) FUZZ_CHECK_FAILURE(st);
            else md->sampler_pos = md->pos;
        }
        return;
    }
    case 3:
        if (md->n_kids && (fz_u8(in) & 1)) { /* change a child after it was added */
            negs_sampler *c = md->kids[fz_below(in, (uint8_t)md->n_kids)];
            double w[FZ_ITEMS];
            switch (fz_below(in, 4)) {
            case 0: st = negs_sampler_set_param(c, fz_param_id(in), fz_double(in)); break;
            case 1:
                for (uint32_t i = 0; i < md->n_items; i++) w[i] = (double)fz_below(in, 3);
                st = negs_sampler_set_weights(c, w, md->n_items);
                break;
            case 2: st = negs_sampler_set_positives(c, fz_u8(in) & 1 ? md->pos : NULL); break;
            default: st = negs_sampler_add(c, s, 1.0); break; /* the parent as its child's child */
            }
            if (st) FUZZ_CHECK_FAILURE(st);
            return;
        }
        st = negs_sampler_set_exposures(s, md->pos);
        if (st) FUZZ_CHECK_FAILURE(st);
        return;
    case 4: {
        uint32_t cat[FZ_ITEMS];
        for (uint32_t i = 0; i < md->n_items; i++) cat[i] = fz_below(in, 4);
        st = negs_sampler_set_categories(s, cat, md->n_items);
        if (st) FUZZ_CHECK_FAILURE(st);
        return;
    }
    case 5: {
        negs_sampler *c = fz_child(in, md);
        st = negs_sampler_add(s, c, fz_double(in));
        if (st) {
            FUZZ_CHECK_FAILURE(st);
            negs_sampler_free(c); /* still ours after a failed add */
        } else if (md->n_kids < 8) {
            md->kids[md->n_kids++] = c;
        }
        return;
    }
    case 6: case 7: {
        size_t n_rows = fz_below(in, FZ_ROWS + 1);
        uint32_t k = fz_below(in, 7);
        if (kind == NEGS_SAMPLER_HARD) {
            double c = 0.0;
            FUZZ_CHECK(negs_sampler_get_param(s, NEGS_SP_CANDIDATES, &c) == NEGS_OK);
            if (c <= FZ_K && (fz_u8(in) & 3)) k = (uint32_t)c;
        }
        uint8_t flags = fz_u8(in);
        for (size_t r = 0; r < n_rows; r++) {
            users[r] = fz_below(in, (uint8_t)(md->n_users + 1));
            positives[r] = fz_below(in, 255) % (md->n_items + 1);
        }
        const uint32_t *u = flags & 1 ? users : NULL, *p = flags & 2 ? positives : NULL;
        float *lq = flags & 4 ? logq : NULL;
        uint64_t step = fz_below(in, 4);
        st = negs_sampler_sample(s, step, n_rows, u, p, k, items, lq);
        if (st) FUZZ_CHECK_FAILURE(st);
        else fz_check_sample(s, md, kind, n_rows, u, p, k, items, lq);
        return;
    }
    case 8: {
        if (kind == NEGS_SAMPLER_SRNS) {
            fz_srns(in, s, md);
            return;
        }
        if (kind == NEGS_SAMPLER_WALK) {
            fz_walk_split(in, s, md);
            return;
        }
        size_t n_rows = fz_below(in, FZ_ROWS + 1);
        uint32_t n_cand = fz_below(in, 9), k = fz_below(in, 5);
        uint32_t cand[FZ_ROWS * 8];
        float sc[FZ_ROWS * 8], ps[FZ_ROWS];
        for (size_t i = 0; i < n_rows * n_cand; i++) {
            cand[i] = fz_below(in, 255) % (md->n_items + 1);
            sc[i] = fz_float(in);
        }
        for (size_t r = 0; r < n_rows; r++) ps[r] = fz_float(in);
        st = negs_sampler_select(s, fz_u8(in), n_rows, n_cand, cand, sc, ps, k, items, logq);
        if (st) {
            FUZZ_CHECK_FAILURE(st);
            return;
        }
        for (size_t r = 0; r < n_rows; r++)
            for (uint32_t j = 0; j < k; j++) {
                int found = 0;
                for (uint32_t c = 0; c < n_cand; c++) found |= cand[r * n_cand + c] == items[r * k + j];
                FUZZ_CHECK(found);
                FUZZ_CHECK(isfinite(logq[r * k + j]) && logq[r * k + j] <= 1e-6f);
            }
        return;
    }
    default: {
        size_t n_rows = fz_below(in, 5), dim = fz_below(in, FZ_DIM + 1);
        uint32_t k = fz_below(in, 5);
        float q[FZ_ROWS * FZ_DIM], emb[FZ_ITEMS * FZ_DIM];
        for (size_t i = 0; i < n_rows * dim; i++) q[i] = fz_float(in);
        for (size_t i = 0; i < md->n_items * dim; i++) emb[i] = (float)(int8_t)fz_u8(in) / 32.0f;
        for (size_t r = 0; r < n_rows; r++) {
            users[r] = fz_below(in, (uint8_t)md->n_users);
            positives[r] = fz_below(in, 255) % md->n_items;
        }
        st = negs_sampler_sample_scored(s, fz_u8(in), n_rows, users, positives, q, emb, dim, k,
                                        items, logq);
        if (st) FUZZ_CHECK_FAILURE(st);
        else
            for (size_t i = 0; i < n_rows * k; i++) {
                FUZZ_CHECK(items[i] < md->n_items && items[i] != positives[i / k]);
                FUZZ_CHECK(isfinite(logq[i]));
            }
        return;
    }
    }
}

static void fz_samplers(fuzz_in *in, fz_model *md)
{
    int kind = (int)fz_below(in, 8); /* 0 is not a kind; behind it, WALK or 9 (not a kind) */
    if (kind == 0) kind = fz_u8(in) & 1 ? NEGS_SAMPLER_WALK : (fz_u8(in) & 1 ? 9 : 0);
    negs_sampler *s = negs_sampler_create(kind, md->n_items, fz_u64(in));
    if (kind < NEGS_SAMPLER_UNIFORM || kind > NEGS_SAMPLER_WALK) {
        FUZZ_CHECK(s == NULL && negs_last_status() == NEGS_E_UNSUPPORTED);
        return;
    }
    FUZZ_CHECK(s != NULL);
    if (kind == NEGS_SAMPLER_HARD && (fz_u8(in) & 1))
        FUZZ_CHECK(negs_sampler_set_param(s, NEGS_SP_CANDIDATES, 1 + fz_below(in, 8)) == NEGS_OK);
    for (int op = 0; op < FZ_OPS && in->n > 0; op++) fz_sampler_op(in, s, kind, md);
    negs_sampler_free(s); /* and its children */
    md->n_kids = 0;
}

/* ------------------------------------------------------------------ losses */

static void fz_loss_scores(fuzz_in *in, negs_loss *l)
{
    size_t n = fz_below(in, 5);
    uint32_t k = fz_below(in, 5);
    float pos[4], neg[16], lq[16], loss[4], dp[4], dn[16];
    uint8_t mask[16];
    uint8_t flags = fz_u8(in);
    for (size_t i = 0; i < n; i++) pos[i] = fz_float(in);
    for (size_t i = 0; i < n * k; i++) {
        neg[i] = fz_float(in);
        lq[i] = flags & 1 ? fz_float(in) : 0.0f;
        mask[i] = fz_below(in, 4) == 0;
    }
    int st = negs_loss_scores(l, n, k, pos, neg, flags & 1 ? lq : NULL, flags & 2 ? mask : NULL,
                              loss, flags & 4 ? dp : NULL, flags & 8 ? dn : NULL);
    if (st) {
        FUZZ_CHECK_FAILURE(st);
        return;
    }
    double red = 0.0;
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_REDUCTION, &red) == NEGS_OK);
    FUZZ_CHECK(fz_all_finite(loss, red == NEGS_REDUCE_NONE ? n : 1));
    if (flags & 4) FUZZ_CHECK(fz_all_finite(dp, n));
    if (flags & 8) {
        FUZZ_CHECK(fz_all_finite(dn, n * k));
        if (flags & 2)
            for (size_t i = 0; i < n * k; i++) FUZZ_CHECK(!mask[i] || dn[i] == 0.0f);
    }
}

#include "fuzz_api_inbatch.h"

static void fz_loss_inbatch(fuzz_in *in, negs_loss *l, fz_loss_state *ls, const fz_model *md)
{
    size_t b = fz_below(in, 5), m = fz_below(in, 3), dim = fz_below(in, FZ_DIM + 1);
    float u[4 * FZ_DIM], v[6 * FZ_DIM], lq[6], loss[4], du[4 * FZ_DIM], dv[6 * FZ_DIM];
    uint32_t items[6], users[4];
    uint8_t flags = fz_u8(in);
    for (size_t i = 0; i < b * dim; i++) u[i] = fz_float(in);
    for (size_t i = 0; i < (b + m) * dim; i++) v[i] = fz_float(in);
    for (size_t i = 0; i < b + m; i++) {
        lq[i] = flags & 32 ? fz_logq(in) : fz_float(in);
        items[i] = fz_below(in, 255) % md->n_items;
    }
    for (size_t i = 0; i < b; i++) users[i] = fz_below(in, (uint8_t)(md->n_users + 1));
    const float *logq = flags & 1 ? lq : NULL;
    const uint32_t *item_ids = flags & 2 ? items : NULL, *user_ids = flags & 4 ? users : NULL;
    int st = negs_loss_inbatch(l, b, m, dim, u, v, logq, item_ids, user_ids, loss,
                               flags & 8 ? du : NULL, flags & 16 ? dv : NULL);
    if (st) {
        FUZZ_CHECK_FAILURE(st);
        return;
    }
    fz_check_inbatch(l, ls, b, m, dim, u, v, logq, item_ids, user_ids, loss, flags & 8 ? du : NULL,
                     flags & 16 ? dv : NULL);
    if (!(flags & 64)) return;
    /* another thread count gives the same bytes (documented: bit-identical for any threads) */
    double threads = 1.0, red = 0.0;
    float loss2[4], du2[4 * FZ_DIM], dv2[6 * FZ_DIM];
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_THREADS, &threads) == NEGS_OK);
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_REDUCTION, &red) == NEGS_OK);
    FUZZ_CHECK(negs_loss_set_param(l, NEGS_LP_THREADS, threads == 1.0 ? 3.0 : 1.0) == NEGS_OK);
    FUZZ_CHECK(negs_loss_inbatch(l, b, m, dim, u, v, logq, item_ids, user_ids, loss2,
                                 flags & 8 ? du2 : NULL, flags & 16 ? dv2 : NULL) == NEGS_OK);
    FUZZ_CHECK(memcmp(loss, loss2, (red == NEGS_REDUCE_NONE ? b : 1) * sizeof *loss) == 0);
    if (flags & 8) FUZZ_CHECK(memcmp(du, du2, b * dim * sizeof *du) == 0);
    if (flags & 16) FUZZ_CHECK(memcmp(dv, dv2, (b + m) * dim * sizeof *dv) == 0);
    FUZZ_CHECK(negs_loss_set_param(l, NEGS_LP_THREADS, threads) == NEGS_OK);
}

static void fz_loss_indexed(fuzz_in *in, negs_loss *l, const fz_model *md)
{
    size_t n = fz_below(in, 4), dim = 1 + fz_below(in, FZ_DIM);
    uint32_t k = fz_below(in, 4);
    float ue[FZ_USERS * FZ_DIM], ie[FZ_ITEMS * FZ_DIM], loss[4];
    float du[3 * FZ_DIM], dp[3 * FZ_DIM], dn[9 * FZ_DIM];
    uint32_t ui[3], pi[3], ni[9];
    for (size_t i = 0; i < md->n_users * dim; i++) ue[i] = fz_float(in);
    for (size_t i = 0; i < md->n_items * dim; i++) ie[i] = fz_float(in);
    for (size_t i = 0; i < n; i++) {
        ui[i] = fz_below(in, (uint8_t)(md->n_users + 1));
        pi[i] = fz_below(in, 255) % (md->n_items + 1);
    }
    for (size_t i = 0; i < n * k; i++) ni[i] = fz_below(in, 255) % (md->n_items + 1);
    int st = negs_loss_scores_indexed_rows(l, n, k, dim, ue, md->n_users, ie, md->n_items, ui, pi,
                                           ni, NULL, NULL, loss, du, dp, dn);
    if (st) {
        FUZZ_CHECK_FAILURE(st);
        return;
    }
    double red = 0.0;
    FUZZ_CHECK(negs_loss_get_param(l, NEGS_LP_REDUCTION, &red) == NEGS_OK);
    FUZZ_CHECK(fz_all_finite(loss, red == NEGS_REDUCE_NONE ? n : 1));
    FUZZ_CHECK(fz_all_finite(du, n * dim) && fz_all_finite(dp, n * dim));
    FUZZ_CHECK(fz_all_finite(dn, n * k * dim));
}

static void fz_losses(fuzz_in *in, fz_model *md)
{
    int kind = (int)fz_below(in, 7);
    negs_loss *l = negs_loss_create(kind);
    if (kind < NEGS_LOSS_BCE || kind > NEGS_LOSS_LISTNET) {
        FUZZ_CHECK(l == NULL && negs_last_status() == NEGS_E_UNSUPPORTED);
        return;
    }
    FUZZ_CHECK(l != NULL);
    static fz_loss_state ls; /* the telemetry buffers live as long as the handle */
    memset(&ls, 0, sizeof ls);
    for (int op = 0; op < FZ_OPS && in->n > 0; op++) {
        switch (fz_below(in, 6)) {
        case 0: {
            int p = fz_param_id(in);
            double v = fz_double(in), before = 0.0, after = 0.0;
            int had = negs_loss_get_param(l, p, &before);
            int st = negs_loss_set_param(l, p, v);
            if (st) {
                FUZZ_CHECK_FAILURE(st);
                if (had == NEGS_OK) {
                    FUZZ_CHECK(negs_loss_get_param(l, p, &after) == NEGS_OK);
                    FUZZ_CHECK(memcmp(&before, &after, sizeof before) == 0);
                }
            }
            break;
        }
        case 1:
            ls.pos = fz_u8(in) & 1 ? md->pos : NULL;
            FUZZ_CHECK(negs_loss_set_positives(l, ls.pos) == NEGS_OK);
            break;
        case 2: fz_loss_inbatch(in, l, &ls, md); break;
        case 3: fz_loss_indexed(in, l, md); break;
        case 4: fz_loss_scores(in, l); break;
        default: /* the in-batch extras, behind one more byte */
            switch (fz_below(in, 4)) {
            case 0: fz_set_telemetry(in, l, kind, &ls); break;
            case 1: fz_loss_inbatch_indexed(in, l, &ls, md); break;
            case 2: fz_xbm_seq(in, l, &ls, md); break;
            default: fz_loss_scores(in, l); break;
            }
            break;
        }
    }
    negs_loss_free(l);
}

/* ------------------------------------------------------------------ estimators */

static void fz_freq_check(const negs_freq *f)
{
    uint64_t ids[6] = {0, 1, 2, 3, 77, UINT64_MAX};
    float p[6], lq[6];
    int st = negs_freq_prob(f, ids, 6, p);
    if (st) {
        FUZZ_CHECK(st == NEGS_E_STATE);
        return;
    }
    FUZZ_CHECK(negs_freq_logq(f, ids, 6, lq) == NEGS_OK);
    for (int i = 0; i < 6; i++) {
        FUZZ_CHECK(p[i] > 0.0f && p[i] <= 1.0f);
        FUZZ_CHECK(isfinite(lq[i]) && lq[i] <= 0.0f);
    }
    size_t n = 0;
    FUZZ_CHECK(negs_freq_save(f, NULL, 0, &n) == NEGS_OK);
    unsigned char *a = malloc(n), *b = malloc(n);
    FUZZ_CHECK(a && b && negs_freq_save(f, a, n, &n) == NEGS_OK);
    negs_freq *g = negs_freq_load(a, n);
    FUZZ_CHECK(g != NULL);
    FUZZ_CHECK(negs_freq_save(g, b, n, &n) == NEGS_OK && memcmp(a, b, n) == 0);
    negs_freq_free(g);
    free(a);
    free(b);
}

static void fz_freq_op(fuzz_in *in, negs_freq *f, negs_freq *other, uint64_t *step)
{
    switch (fz_below(in, 6)) {
    case 0: {
        int p = fz_param_id(in);
        double v = fz_double(in), before = 0.0, after = 0.0;
        int had = negs_freq_get_param(f, p, &before);
        int st = negs_freq_set_param(f, p, v);
        if (st) {
            FUZZ_CHECK_FAILURE(st);
            if (had == NEGS_OK) {
                FUZZ_CHECK(negs_freq_get_param(f, p, &after) == NEGS_OK);
                FUZZ_CHECK(memcmp(&before, &after, sizeof before) == 0);
            }
        }
        return;
    }
    case 1: case 2: {
        uint64_t ids[16];
        size_t n = fz_below(in, 17);
        for (size_t i = 0; i < n; i++) ids[i] = fz_below(in, 12);
        uint8_t d = fz_u8(in);
        uint64_t s = d == 255 ? *step - 1 : (d >= 250 ? *step + ((uint64_t)1 << (d - 200)) : *step + d % 8);
        int st = negs_freq_update(fz_u8(in) & 1 ? other : f, s, ids, n);
        if (st) FUZZ_CHECK_FAILURE(st);
        else if (s > *step) *step = s;
        return;
    }
    case 3: {
        int st = negs_freq_merge(f, fz_u8(in) & 1 ? other : f);
        if (st) FUZZ_CHECK_FAILURE(st);
        fz_freq_check(f);
        return;
    }
    case 4: fz_freq_check(f); return;
    default:
        if (fz_below(in, 8) == 0) FUZZ_CHECK(negs_freq_reset(f) == NEGS_OK);
        fz_freq_check(other);
        return;
    }
}

static void fz_freqs(fuzz_in *in)
{
    int kind = (int)fz_below(in, 4);
    size_t buckets = fz_below(in, 65);
    uint32_t hashes = fz_below(in, 6);
    uint64_t seed = fz_u8(in);
    negs_freq *f = negs_freq_create(kind, buckets, hashes, seed);
    int ok = (kind == NEGS_FREQ_GAP || kind == NEGS_FREQ_SKETCH) && buckets > 0 && hashes > 0;
    FUZZ_CHECK((f != NULL) == ok);
    if (!f) {
        FUZZ_CHECK_FAILURE(negs_last_status());
        return;
    }
    negs_freq *other = negs_freq_create(kind, buckets, hashes, seed);
    FUZZ_CHECK(other != NULL);
    uint64_t step = 0;
    for (int op = 0; op < FZ_OPS && in->n > 0; op++) fz_freq_op(in, f, other, &step);
    fz_freq_check(f);
    negs_freq_free(other);
    negs_freq_free(f);
}

int negs_fuzz_api(const uint8_t *data, size_t size)
{
    fuzz_in in = {data, size};
    fz_model md;
    memset(&md, 0, sizeof md);
    md.n_items = 1 + fz_below(&in, FZ_ITEMS);
    md.n_users = 1 + fz_below(&in, FZ_USERS);
    uint8_t which = fz_u8(&in);
    md.pos = fz_table(&in, md.n_users, md.n_items);
    switch (which % 3) {
    case 0: fz_samplers(&in, &md); break;
    case 1: fz_losses(&in, &md); break;
    default: fz_freqs(&in); break;
    }
    negs_csr_free(md.pos);
    return 0;
}

#ifdef NEGS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return negs_fuzz_api(data, size);
}
#endif
