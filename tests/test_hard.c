/* HARD samplers: selection against brute force for every mode on random small cases,
 * repeated ids, the semi-hard window's edges and fallback count, the temperature limits, the
 * fused sample_scored against sample + dot + select, determinism over threads and row splits,
 * curricula, and every bad input with its status and sentence. */
#include <stdio.h>

#include "test_util.h"

#include "core/cpu.h"
#include "kernels/kernels.h"

static int has(const char *needle)
{
    int ok = strstr(negs_last_error(), needle) != NULL;
    if (!ok) fprintf(stderr, "last error \"%s\" lacks \"%s\"\n", negs_last_error(), needle);
    return ok;
}

static uint64_t rs = 12345;
static uint32_t urand(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % n);
}
static float frand(void) /* [-1, 1) */
{
    return (float)urand(1u << 20) / (float)(1u << 19) - 1.0f;
}

static negs_sampler *hard_over(int child_kind, uint32_t n_items, uint32_t c, uint64_t seed)
{
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, n_items, seed);
    negs_sampler *ch = negs_sampler_create(child_kind, n_items, seed + 1);
    assert_non_null(h);
    assert_non_null(ch);
    if (child_kind == NEGS_SAMPLER_POPULARITY) {
        double *w = malloc(n_items * sizeof *w);
        for (uint32_t i = 0; i < n_items; i++) w[i] = 1.0 + (double)(i % 7);
        assert_int_equal(negs_sampler_set_weights(ch, w, n_items), NEGS_OK);
        free(w);
    }
    assert_int_equal(negs_sampler_add(h, ch, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, c), NEGS_OK);
    return h;
}

static void set_mode(negs_sampler *h, int mode)
{
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_HARD_MODE, mode), NEGS_OK);
}

/* ---------------------------------------------------------------- brute force */

typedef struct cand {
    uint32_t pos;
    int win;
    double key; /* larger is better */
} cand;

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->win != y->win) return y->win - x->win;
    if (x->key != y->key) return x->key < y->key ? 1 : -1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* The row's distinct candidates (first positions) ordered by the deterministic mode's rule. */
static uint32_t reference_order(int mode, uint32_t n, const uint32_t *items, const float *s,
                                float pos, double margin, double target, cand *out)
{
    uint32_t m = 0;
    for (uint32_t j = 0; j < n; j++) {
        int rep = 0;
        for (uint32_t i = 0; i < j; i++) rep |= items[i] == items[j];
        if (rep) continue;
        out[m].pos = j;
        out[m].win = mode == NEGS_HARD_SEMIHARD && s[j] < pos && (double)s[j] >= (double)pos - margin;
        out[m].key = mode == NEGS_HARD_AHNS ? -fabs((double)s[j] - target) : (double)s[j];
        m++;
    }
    qsort(out, m, sizeof *out, cmp_cand);
    return m;
}

/* Random rows with repeated ids and tied scores, every deterministic mode. */
static void test_brute_force(void **state)
{
    (void)state;
    const uint32_t n_items = 12, maxc = 10;
    const int modes[] = {NEGS_HARD_TOP, NEGS_HARD_SEMIHARD, NEGS_HARD_AHNS};
    negs_sampler *h = hard_over(NEGS_SAMPLER_UNIFORM, n_items, maxc, 3);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_MARGIN, 0.4), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_AHNS_ALPHA, 1.5), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_AHNS_BETA, 0.7), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_AHNS_P, 1.0), NEGS_OK);
    for (int trial = 0; trial < 600; trial++) {
        int mode = modes[trial % 3];
        set_mode(h, mode);
        uint32_t n = 1 + urand(maxc), items[10], out[10];
        float s[10], lq[10], pos = frand();
        for (uint32_t j = 0; j < n; j++) {
            items[j] = urand(n_items);
            s[j] = (float)(urand(9)) / 4.0f - 1.0f; /* coarse: ties happen */
        }
        double target = 0.7 * pow((double)pos + 1.5, 2.0);
        cand ref[10];
        uint32_t m = reference_order(mode, n, items, s, pos, 0.4, target, ref);
        uint32_t k = 1 + urand(n);
        int st = negs_sampler_select(h, 0, 1, n, items, s, &pos, k, out, lq);
        if (k > m) {
            assert_int_equal(st, NEGS_E_EXHAUSTED);
            assert_true(has("distinct candidates"));
            continue;
        }
        assert_int_equal(st, NEGS_OK);
        for (uint32_t i = 0; i < k; i++) {
            assert_int_equal(out[i], items[ref[i].pos]);
            assert_true(lq[i] == 0.0f);
        }
        double fb;
        assert_int_equal(negs_sampler_get_param(h, NEGS_SP_FALLBACK_ROWS, &fb), NEGS_OK);
        assert_true(fb == (mode == NEGS_HARD_SEMIHARD && !ref[k - 1].win ? 1.0 : 0.0));
    }
    negs_sampler_free(h);
}

/* DNS(M,N): k distinct picks from the top M (by the TOP order), log q = -log(M - i). */
static void test_dns_mn(void **state)
{
    (void)state;
    negs_sampler *h = hard_over(NEGS_SAMPLER_UNIFORM, 20, 16, 5);
    set_mode(h, NEGS_HARD_DNS_MN);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TOP_M, 5), NEGS_OK);
    for (int trial = 0; trial < 300; trial++) {
        uint32_t n = 8 + urand(9), items[16], out[5];
        float s[16], lq[5];
        for (uint32_t j = 0; j < n; j++) {
            items[j] = urand(20);
            s[j] = frand();
        }
        cand ref[16];
        uint32_t m = reference_order(NEGS_HARD_TOP, n, items, s, 0.0f, 0.0, 0.0, ref);
        uint32_t k = 1 + urand(5), top = m < 5 ? m : 5;
        int st = negs_sampler_select(h, (uint64_t)trial, 1, n, items, s, NULL, k, out, lq);
        if (k > top) {
            assert_int_equal(st, NEGS_E_EXHAUSTED);
            continue;
        }
        assert_int_equal(st, NEGS_OK);
        for (uint32_t i = 0; i < k; i++) {
            int in_top = 0;
            for (uint32_t t = 0; t < top; t++) in_top |= out[i] == items[ref[t].pos];
            assert_true(in_top);
            for (uint32_t t = 0; t < i; t++) assert_true(out[t] != out[i]);
            assert_true(fabsf(lq[i] + logf((float)(top - i))) < 1e-6f);
        }
    }
    negs_sampler_free(h);
}

/* SOFTMAX: a cold temperature is TOP, and log q for k = 1 is the exact selection probability. */
static void test_softmax_limits_and_logq(void **state)
{
    (void)state;
    negs_sampler *h = hard_over(NEGS_SAMPLER_UNIFORM, 50, 8, 7);
    set_mode(h, NEGS_HARD_SOFTMAX);
    const size_t rows = 200;
    uint32_t items[200 * 8], out[200 * 8], ref_out[200 * 8];
    float s[200 * 8], lq[200 * 8];
    for (size_t r = 0; r < rows; r++)
        for (uint32_t j = 0; j < 8; j++) {
            items[r * 8 + j] = (uint32_t)(r % 3 + j * 5); /* distinct within a row */
            s[r * 8 + j] = (float)urand(40) * 0.25f - 5.0f + 0.01f * (float)j; /* gaps >= 0.01 */
        }
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TEMPERATURE, 1e-4), NEGS_OK);
    assert_int_equal(negs_sampler_select(h, 1, rows, 8, items, s, NULL, 4, out, lq), NEGS_OK);
    set_mode(h, NEGS_HARD_TOP);
    assert_int_equal(negs_sampler_select(h, 1, rows, 8, items, s, NULL, 4, ref_out, NULL), NEGS_OK);
    assert_memory_equal(out, ref_out, rows * 4 * sizeof *out);
    for (size_t i = 0; i < rows * 4; i++) assert_true(fabsf(lq[i]) < 1e-6f);
    /* k = 1: log q = s / T - logsumexp(s / T) over the distinct candidates */
    set_mode(h, NEGS_HARD_SOFTMAX);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TEMPERATURE, 0.7), NEGS_OK);
    items[3] = items[1]; /* a repeat in row 0: it takes part once */
    assert_int_equal(negs_sampler_select(h, 2, rows, 8, items, s, NULL, 1, out, lq), NEGS_OK);
    for (size_t r = 0; r < rows; r++) {
        double z = 0.0, sel = NAN;
        for (uint32_t j = 0; j < 8; j++) {
            if (r == 0 && j == 3) continue;
            z += exp(s[r * 8 + j] / 0.7);
            if (items[r * 8 + j] == out[r]) sel = s[r * 8 + j] / 0.7;
        }
        assert_true(fabs(lq[r] - (sel - log(z))) < 1e-5);
    }
    /* k > 1: the slots' log q sum to the log probability of the ordered selection */
    assert_int_equal(negs_sampler_select(h, 3, 1, 8, items, s, NULL, 3, out, lq), NEGS_OK);
    double lp = 0.0, zl = 0.0;
    for (uint32_t j = 0; j < 8; j++)
        if (j != 3) zl += exp(s[j] / 0.7);
    for (uint32_t i = 0; i < 3; i++)
        for (uint32_t j = 0; j < 8; j++)
            if (j != 3 && items[j] == out[i]) {
                lp += s[j] / 0.7 - log(zl);
                zl -= exp(s[j] / 0.7);
            }
    assert_true(fabs((double)lq[0] + lq[1] + lq[2] - lp) < 1e-5);
    negs_sampler_free(h);
}

/* The window is [pos - margin, pos): its edges, and the rows that fell back, counted. */
static void test_semihard_window(void **state)
{
    (void)state;
    negs_sampler *h = hard_over(NEGS_SAMPLER_UNIFORM, 10, 6, 9);
    set_mode(h, NEGS_HARD_SEMIHARD);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_MARGIN, 0.5), NEGS_OK);
    uint32_t items[12] = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}, out[6];
    float s[12] = {1.0f, 0.5f, 0.75f, 0.25f, 2.0f, 0.49999997f,
                   1.0f, 0.5f, 0.75f, 0.25f, 2.0f, 0.49999997f};
    float pos[2] = {1.0f, 1.0f};
    double fb;
    assert_int_equal(negs_sampler_select(h, 0, 2, 6, items, s, pos, 2, out, NULL), NEGS_OK);
    uint32_t want2[4] = {2, 1, 2, 1};
    assert_memory_equal(out, want2, sizeof want2);
    assert_int_equal(negs_sampler_get_param(h, NEGS_SP_FALLBACK_ROWS, &fb), NEGS_OK);
    assert_true(fb == 0.0);
    /* three asked, two in the window: the best of the rest (2.0, above the positive) fills */
    assert_int_equal(negs_sampler_select(h, 0, 2, 6, items, s, pos, 3, out, NULL), NEGS_OK);
    uint32_t want3[6] = {2, 1, 4, 2, 1, 4};
    assert_memory_equal(out, want3, sizeof want3);
    assert_int_equal(negs_sampler_get_param(h, NEGS_SP_FALLBACK_ROWS, &fb), NEGS_OK);
    assert_true(fb == 2.0);
    /* margin 0: an empty window, the row is TOP */
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_MARGIN, 0.0), NEGS_OK);
    assert_int_equal(negs_sampler_select(h, 0, 1, 6, items, s, pos, 2, out, NULL), NEGS_OK);
    assert_int_equal(out[0], 4);
    assert_int_equal(out[1], 0);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_FALLBACK_ROWS, 0.0), NEGS_E_INVALID);
    assert_true(has("read-only"));
    negs_sampler_free(h);
}

/* ---------------------------------------------------------------- sample and sample_scored */

/* HARD.sample is the child's draws, keyed by the HARD sampler's seed and row numbers. */
static void test_sample_is_child_draws(void **state)
{
    (void)state;
    negs_sampler *h = hard_over(NEGS_SAMPLER_POPULARITY, 100, 16, 21);
    negs_sampler *twin = negs_sampler_create(NEGS_SAMPLER_POPULARITY, 100, 21);
    double w[100];
    for (uint32_t i = 0; i < 100; i++) w[i] = 1.0 + (double)(i % 7);
    assert_int_equal(negs_sampler_set_weights(twin, w, 100), NEGS_OK);
    uint32_t pos[5] = {1, 2, 3, 4, 5}, a[5 * 16], b[5 * 16];
    float la[5 * 16], lb[5 * 16];
    assert_int_equal(negs_sampler_sample(h, 9, 5, NULL, pos, 16, a, la), NEGS_OK);
    assert_int_equal(negs_sampler_sample(twin, 9, 5, NULL, pos, 16, b, lb), NEGS_OK);
    assert_memory_equal(a, b, sizeof a);
    assert_memory_equal(la, lb, sizeof la);
    assert_int_equal(negs_sampler_sample(h, 9, 5, NULL, pos, 8, a, NULL), NEGS_E_INVALID);
    assert_true(has("NEGS_SP_CANDIDATES = 16"));
    negs_sampler_free(h);
    negs_sampler_free(twin);
}

/* Embeddings with a few repeated rows (ties) and everything else random. */
static float *random_emb(size_t rows, size_t dim)
{
    float *e = malloc(rows * dim * sizeof *e);
    for (size_t i = 0; i < rows * dim; i++) e[i] = frand();
    return e;
}

/* sample_scored = sample, the kernel table's dot, select: for every mode, bit for bit. */
static void test_scored_matches_pieces(void **state)
{
    (void)state;
    const uint32_t n_items = 300, c = 24, k = 3;
    const size_t rows = 40, dim = 20;
    float *emb = random_emb(n_items, dim), *q = random_emb(rows, dim);
    const negs_kernels *kn = negs_kernels_select(negs_cpu_features());
    uint32_t pos[40], cnd[40 * 24], a[40 * 3], b[40 * 3];
    float sc[40 * 24], ps[40], la[40 * 3], lb[40 * 3];
    for (size_t r = 0; r < rows; r++) pos[r] = urand(n_items);
    for (int mode = NEGS_HARD_TOP; mode <= NEGS_HARD_AHNS; mode++) {
        negs_sampler *h = hard_over(NEGS_SAMPLER_POPULARITY, n_items, c, 31);
        set_mode(h, mode);
        assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TEMPERATURE, 0.3), NEGS_OK);
        assert_int_equal(negs_sampler_set_param(h, NEGS_SP_AHNS_ALPHA, 3.0), NEGS_OK);
        assert_int_equal(negs_sampler_set_param(h, NEGS_SP_ROW_OFFSET, 5), NEGS_OK);
        assert_int_equal(negs_sampler_sample_scored(h, 4, rows, NULL, pos, q, emb, dim, k, a, la),
                         NEGS_OK);
        assert_int_equal(negs_sampler_sample(h, 4, rows, NULL, pos, c, cnd, NULL), NEGS_OK);
        for (size_t r = 0; r < rows; r++) {
            for (uint32_t j = 0; j < c; j++)
                sc[r * c + j] = kn->dot(q + r * dim, emb + (size_t)cnd[r * c + j] * dim, dim);
            ps[r] = kn->dot(q + r * dim, emb + (size_t)pos[r] * dim, dim);
        }
        assert_int_equal(negs_sampler_select(h, 4, rows, c, cnd, sc, ps, k, b, lb), NEGS_OK);
        assert_memory_equal(a, b, sizeof a);
        assert_memory_equal(la, lb, sizeof la);
        negs_sampler_free(h);
    }
    free(emb);
    free(q);
}

/* Results never depend on the thread count or on how the rows are split over calls. */
static void test_threads_and_splits(void **state)
{
    (void)state;
    const uint32_t n_items = 500, c = 32, k = 4;
    const size_t rows = 101, dim = 16;
    float *emb = random_emb(n_items, dim), *q = random_emb(rows, dim);
    uint32_t pos[101], ref[101 * 4], got[101 * 4];
    float lref[101 * 4], lgot[101 * 4];
    for (size_t r = 0; r < rows; r++) pos[r] = urand(n_items);
    for (int mode = NEGS_HARD_TOP; mode <= NEGS_HARD_AHNS; mode++) {
        negs_sampler *h = hard_over(NEGS_SAMPLER_POPULARITY, n_items, c, 41);
        set_mode(h, mode);
        assert_int_equal(negs_sampler_sample_scored(h, 8, rows, NULL, pos, q, emb, dim, k, ref,
                                                    lref), NEGS_OK);
        for (unsigned t = 2; t <= 3; t++) {
            assert_int_equal(negs_sampler_set_param(h, NEGS_SP_THREADS, t), NEGS_OK);
            assert_int_equal(negs_sampler_sample_scored(h, 8, rows, NULL, pos, q, emb, dim, k, got,
                                                        lgot), NEGS_OK);
            assert_memory_equal(ref, got, sizeof ref);
            assert_memory_equal(lref, lgot, sizeof lref);
        }
        const size_t cut = 37;
        assert_int_equal(negs_sampler_sample_scored(h, 8, cut, NULL, pos, q, emb, dim, k, got, lgot),
                         NEGS_OK);
        assert_int_equal(negs_sampler_set_param(h, NEGS_SP_ROW_OFFSET, cut), NEGS_OK);
        assert_int_equal(negs_sampler_sample_scored(h, 8, rows - cut, NULL, pos + cut, q + cut * dim,
                                                    emb, dim, k, got + cut * k, lgot + cut * k),
                         NEGS_OK);
        assert_memory_equal(ref, got, sizeof ref);
        assert_memory_equal(lref, lgot, sizeof lref);
        negs_sampler_free(h);
    }
    free(emb);
    free(q);
}

/* A HARD sampler over a MIXTURE, with exclusion of known positives. */
static void test_mixture_child_and_exclusion(void **state)
{
    (void)state;
    const uint32_t n_items = 40;
    uint64_t indptr[3] = {0, 3, 5};
    uint32_t idx[5] = {1, 2, 3, 7, 8};
    negs_csr *known = negs_csr_create(2, n_items, indptr, idx);
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, n_items, 3);
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n_items, 4);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n_items, 5);
    negs_sampler *u2 = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n_items, 5);
    assert_int_equal(negs_sampler_set_positives(u, known), NEGS_OK);
    assert_int_equal(negs_sampler_set_positives(u2, known), NEGS_OK);
    assert_int_equal(negs_sampler_add(mix, u, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(mix, u2, 2.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(h, mix, NAN), NEGS_OK); /* the share is ignored */
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, 12), NEGS_OK);
    float *emb = random_emb(n_items, 8), *q = random_emb(50, 8);
    uint32_t users[50], pos[50], out[50 * 5];
    for (int r = 0; r < 50; r++) {
        users[r] = (uint32_t)(r % 2);
        pos[r] = (uint32_t)(10 + r % 5);
    }
    assert_fails_with(negs_sampler_sample_scored(h, 0, 50, NULL, pos, q, emb, 8, 5, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("users is NULL"));
    assert_int_equal(negs_sampler_sample_scored(h, 0, 50, users, pos, q, emb, 8, 5, out, NULL),
                     NEGS_OK);
    for (int r = 0; r < 50; r++)
        for (int j = 0; j < 5; j++) {
            uint32_t it = out[r * 5 + j];
            assert_true(it != pos[r]);
            assert_int_equal(negs_csr_contains(known, users[r], it), 0);
            for (int i = 0; i < j; i++) assert_true(out[r * 5 + i] != it);
        }
    negs_sampler_free(h);
    negs_csr_free(known);
    free(emb);
    free(q);
}

/* ---------------------------------------------------------------- curriculum */

static negs_sampler *curriculum(uint32_t n_items, uint32_t c, uint64_t seed)
{
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n_items, seed);
    negs_sampler *easy = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n_items, 1);
    negs_sampler *hard = hard_over(NEGS_SAMPLER_UNIFORM, n_items, c, 2);
    assert_int_equal(negs_sampler_add(mix, easy, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_add(mix, hard, 1.0), NEGS_OK);
    return mix;
}

static void test_curriculum_api(void **state)
{
    (void)state;
    const uint32_t n_items = 64;
    negs_sampler *mix = curriculum(n_items, 16, 7);
    float *emb = random_emb(n_items, 8), *q = random_emb(30, 8);
    uint32_t pos[30], out[30 * 6], plain[30 * 6];
    float lq[30 * 6], lp[30 * 6];
    for (int r = 0; r < 30; r++) pos[r] = (uint32_t)r;
    assert_fails_with(negs_sampler_sample(mix, 0, 30, NULL, pos, 6, out, NULL), NEGS_E_STATE);
    assert_true(has("needs the model's scores: call negs_sampler_sample_scored"));
    assert_int_equal(negs_sampler_sample_scored(mix, 0, 30, NULL, pos, q, emb, 8, 6, out, lq),
                     NEGS_OK);
    for (int r = 0; r < 30; r++)
        for (int j = 0; j < 6; j++) {
            assert_true(out[r * 6 + j] != pos[r]);
            assert_true(isfinite(lq[r * 6 + j]));
        }
    /* share 0 for the HARD child: exactly the plain mixture of the easy child */
    double st[1] = {0}, zero[1] = {0};
    assert_int_equal(negs_sampler_set_schedule(mix, 1, 1, st, zero), NEGS_OK);
    assert_int_equal(negs_sampler_sample_scored(mix, 5, 30, NULL, pos, q, emb, 8, 6, out, lq),
                     NEGS_OK);
    negs_sampler *ref = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n_items, 7);
    assert_int_equal(negs_sampler_add(ref, negs_sampler_create(NEGS_SAMPLER_UNIFORM, n_items, 1),
                                      1.0), NEGS_OK);
    assert_int_equal(negs_sampler_sample(ref, 5, 30, NULL, pos, 6, plain, lp), NEGS_OK);
    assert_memory_equal(out, plain, sizeof plain);
    assert_memory_equal(lq, lp, sizeof lp);
    /* only the HARD child: rows are its selection (TOP, distinct, log q 0); threads agree */
    double one[1] = {1};
    assert_int_equal(negs_sampler_set_schedule(mix, 0, 1, st, zero), NEGS_OK);
    assert_int_equal(negs_sampler_set_schedule(mix, 1, 1, st, one), NEGS_OK);
    assert_int_equal(negs_sampler_sample_scored(mix, 5, 30, NULL, pos, q, emb, 8, 6, out, lq),
                     NEGS_OK);
    for (int r = 0; r < 30; r++)
        for (int j = 0; j < 6; j++) {
            assert_true(lq[r * 6 + j] == 0.0f);
            for (int i = 0; i < j; i++) assert_true(out[r * 6 + i] != out[r * 6 + j]);
        }
    double half[1] = {1};
    assert_int_equal(negs_sampler_set_schedule(mix, 0, 1, st, half), NEGS_OK);
    assert_int_equal(negs_sampler_sample_scored(mix, 5, 30, NULL, pos, q, emb, 8, 6, out, lq),
                     NEGS_OK);
    assert_int_equal(negs_sampler_set_param(mix, NEGS_SP_THREADS, 2), NEGS_OK);
    assert_int_equal(negs_sampler_sample_scored(mix, 5, 30, NULL, pos, q, emb, 8, 6, plain, lp),
                     NEGS_OK);
    assert_memory_equal(out, plain, sizeof plain);
    assert_memory_equal(lq, lp, sizeof lp);
    /* k above the HARD child's candidates */
    assert_fails_with(negs_sampler_sample_scored(mix, 5, 1, NULL, pos, q, emb, 8, 17, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("of a HARD child"));
    /* a HARD child drawing from a MIXTURE is refused (no nesting) */
    negs_sampler *h2 = negs_sampler_create(NEGS_SAMPLER_HARD, n_items, 1);
    assert_int_equal(negs_sampler_add(h2, negs_sampler_create(NEGS_SAMPLER_MIXTURE, n_items, 1), 1),
                     NEGS_OK);
    assert_fails_with(negs_sampler_add(mix, h2, 1.0), NEGS_E_UNSUPPORTED);
    assert_true(has("no nesting"));
    negs_sampler_free(h2);
    negs_sampler_free(ref);
    negs_sampler_free(mix);
    free(emb);
    free(q);
}

/* ---------------------------------------------------------------- bad input */

static void test_create_add_params(void **state)
{
    (void)state;
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, 10, 1);
    assert_non_null(h);
    double v;
    assert_int_equal(negs_sampler_get_param(h, NEGS_SP_TOP_M, &v), NEGS_OK);
    assert_true(v == 4.0);
    assert_int_equal(negs_sampler_get_param(h, NEGS_SP_AHNS_BETA, &v), NEGS_OK);
    assert_true(v == 1.0);
    assert_int_equal(negs_sampler_get_param(h, NEGS_SP_AHNS_ALPHA, &v), NEGS_OK);
    assert_true(v == 0.0);
    assert_int_equal(negs_sampler_get_param(h, NEGS_SP_FALLBACK_ROWS, &v), NEGS_OK);
    assert_true(v == 0.0);
    assert_fails_with(negs_sampler_set_param(h, NEGS_SP_TOP_M, 0), NEGS_E_INVALID);
    assert_true(has("top_m = 0"));
    assert_fails_with(negs_sampler_set_param(h, NEGS_SP_TOP_M, 2.5), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(h, NEGS_SP_AHNS_P, NAN), NEGS_E_INVALID);
    assert_true(has("ahns_p"));
    assert_fails_with(negs_sampler_set_param(h, NEGS_SP_HARD_MODE, 6), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_set_param(h, NEGS_SP_HARD_MODE, 0), NEGS_E_INVALID);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_HARD_MODE, NEGS_HARD_AHNS), NEGS_OK);
    assert_fails_with(negs_sampler_set_param(h, NEGS_SP_UNIQUE, 1), NEGS_E_UNSUPPORTED);
    assert_true(has("child"));
    double w[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    assert_fails_with(negs_sampler_set_weights(h, w, 10), NEGS_E_UNSUPPORTED);
    assert_fails_with(negs_sampler_set_positives(h, NULL), NEGS_E_UNSUPPORTED);
    uint32_t out[8];
    assert_fails_with(negs_sampler_sample(h, 0, 1, NULL, NULL, 64, out, NULL), NEGS_E_STATE);
    assert_true(has("without a child"));
    negs_sampler *hh = negs_sampler_create(NEGS_SAMPLER_HARD, 10, 1);
    assert_fails_with(negs_sampler_add(h, hh, 1.0), NEGS_E_UNSUPPORTED);
    assert_true(has("needs scores"));
    negs_sampler *u9 = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 9, 1);
    assert_fails_with(negs_sampler_add(h, u9, 1.0), NEGS_E_INVALID);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 10, 1);
    negs_sampler *u2 = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 10, 1);
    assert_int_equal(negs_sampler_set_param(u, NEGS_SP_UNIQUE, 1), NEGS_OK); /* distinct candidates */
    assert_int_equal(negs_sampler_add(h, u, -5.0), NEGS_OK);
    assert_fails_with(negs_sampler_add(h, u2, 1.0), NEGS_E_INVALID);
    assert_true(has("already has its child"));
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, 8), NEGS_OK);
    assert_int_equal(negs_sampler_sample(h, 0, 1, NULL, NULL, 8, out, NULL), NEGS_OK);
    for (int j = 0; j < 8; j++)
        for (int i = 0; i < j; i++) assert_true(out[i] != out[j]);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, 11), NEGS_OK);
    uint32_t big[11];
    assert_fails_with(negs_sampler_sample(h, 0, 1, NULL, NULL, 11, big, NULL), NEGS_E_EXHAUSTED);
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, 10, 1);
    assert_fails_with(negs_sampler_set_schedule(h, 0, 1, w, w), NEGS_E_INVALID);
    negs_sampler_free(m);
    negs_sampler_free(hh);
    negs_sampler_free(u9);
    negs_sampler_free(u2);
    negs_sampler_free(h);
}

static void test_select_errors(void **state)
{
    (void)state;
    negs_sampler *h = hard_over(NEGS_SAMPLER_UNIFORM, 10, 4, 1);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, 10, 1);
    uint32_t items[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8];
    float s[8] = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f}, pos[2] = {0.5f, 0.5f}, lq[8];
    assert_fails_with(negs_sampler_select(NULL, 0, 1, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_select(u, 0, 1, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("not HARD"));
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, NULL, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("cand_items"));
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, NULL, pos, 1, out, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, pos, 1, NULL, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_select(h, 0, 0, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_select(h, 0, 1, 0, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, pos, 0, out, lq), NEGS_E_INVALID);
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, pos, 9, out, lq), NEGS_E_INVALID);
    assert_true(has("k = 9 exceeds n_cand = 4"));
    assert_fails_with(negs_sampler_select(h, 0, 1, 8, items, s, pos, 1, out, lq), NEGS_E_STATE);
    assert_true(has("NEGS_SP_CANDIDATES = 4"));
    s[6] = NAN;
    assert_fails_with(negs_sampler_select(h, 0, 2, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("cand_scores[6] = nan (row 1, candidate 2) is not finite"));
    s[6] = INFINITY;
    assert_fails_with(negs_sampler_select(h, 0, 2, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    s[6] = 0.7f;
    items[5] = 10;
    assert_fails_with(negs_sampler_select(h, 0, 2, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("cand_items[5] = 10 is not below n_items = 10"));
    items[5] = 6;
    items[1] = items[0] = items[2];
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, pos, 3, out, lq), NEGS_E_EXHAUSTED);
    assert_true(has("row 0 has 2 distinct candidates"));
    items[0] = 1;
    items[1] = 2;
    set_mode(h, NEGS_HARD_SEMIHARD);
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, NULL, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("pos_scores is NULL but SEMIHARD"));
    pos[1] = NAN;
    assert_fails_with(negs_sampler_select(h, 0, 2, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("pos_scores"));
    pos[1] = 0.5f;
    set_mode(h, NEGS_HARD_AHNS);
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, NULL, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("pos_scores is NULL but AHNS"));
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_AHNS_P, -0.5), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_AHNS_ALPHA, -1.0), NEGS_OK);
    assert_fails_with(negs_sampler_select(h, 0, 2, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("row 0: the AHNS target"));
    set_mode(h, NEGS_HARD_DNS_MN);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TOP_M, 2), NEGS_OK);
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, NULL, 3, out, lq), NEGS_E_INVALID);
    assert_true(has("k = 3 exceeds NEGS_SP_TOP_M = 2"));
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_TOP_M, 5), NEGS_OK);
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, NULL, 3, out, lq), NEGS_E_INVALID);
    assert_true(has("NEGS_SP_TOP_M = 5 exceeds the 4 candidates"));
    /* a HARD sampler inside a mixture is driven by the mixture */
    negs_sampler *mix = negs_sampler_create(NEGS_SAMPLER_MIXTURE, 10, 1);
    assert_int_equal(negs_sampler_add(mix, h, 1.0), NEGS_OK);
    assert_fails_with(negs_sampler_select(h, 0, 1, 4, items, s, pos, 1, out, lq), NEGS_E_INVALID);
    assert_true(has("belongs to a mixture"));
    negs_sampler_free(mix);
    negs_sampler_free(u);
}

static void test_scored_errors(void **state)
{
    (void)state;
    const uint32_t n = 20;
    negs_sampler *h = hard_over(NEGS_SAMPLER_UNIFORM, n, 8, 1);
    negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 1);
    negs_sampler *m = negs_sampler_create(NEGS_SAMPLER_MIXTURE, n, 1);
    assert_int_equal(negs_sampler_add(m, negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 1), 1.0),
                     NEGS_OK);
    float *emb = random_emb(n, 4), q[8] = {1, 2, 3, 4, 1, 2, 3, 4};
    uint32_t pos[2] = {3, 4}, out[16];
    assert_fails_with(negs_sampler_sample_scored(NULL, 0, 2, NULL, pos, q, emb, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_scored(u, 0, 2, NULL, pos, q, emb, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("not HARD"));
    assert_fails_with(negs_sampler_sample_scored(m, 0, 2, NULL, pos, q, emb, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("no HARD child"));
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, pos, NULL, emb, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("query_emb"));
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, pos, q, NULL, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, pos, q, emb, 4, 2, NULL, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_scored(h, 0, 0, NULL, pos, q, emb, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, pos, q, emb, 0, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, pos, q, emb, 4, 0, out, NULL),
                      NEGS_E_INVALID);
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, pos, q, emb, 4, 9, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("k = 9 exceeds NEGS_SP_CANDIDATES = 8"));
    set_mode(h, NEGS_HARD_SEMIHARD);
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, NULL, q, emb, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("positives is NULL but SEMIHARD"));
    set_mode(h, NEGS_HARD_TOP);
    q[5] = NAN;
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, pos, q, emb, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("query_emb"));
    q[5] = 2;
    for (uint32_t i = 0; i < n; i++) emb[i * 4 + 1] = NAN; /* every row: some candidate hits it */
    assert_fails_with(negs_sampler_sample_scored(h, 0, 2, NULL, pos, q, emb, 4, 2, out, NULL),
                      NEGS_E_INVALID);
    assert_true(has("of row 0 is nan: query_emb row 0 or item_emb row"));
    negs_sampler *lone = negs_sampler_create(NEGS_SAMPLER_HARD, n, 1);
    assert_fails_with(negs_sampler_sample_scored(lone, 0, 2, NULL, pos, q, emb, 4, 2, out, NULL),
                      NEGS_E_STATE);
    assert_true(has("without a child"));
    negs_sampler_free(lone);
    assert_int_equal(negs_sampler_set_param(h, NEGS_SP_CANDIDATES, 30), NEGS_OK);
    negs_sampler *hu = negs_sampler_create(NEGS_SAMPLER_HARD, n, 1);
    negs_sampler *uu = negs_sampler_create(NEGS_SAMPLER_UNIFORM, n, 1);
    assert_int_equal(negs_sampler_set_param(uu, NEGS_SP_UNIQUE, 1), NEGS_OK);
    assert_int_equal(negs_sampler_add(hu, uu, 1.0), NEGS_OK);
    assert_int_equal(negs_sampler_set_param(hu, NEGS_SP_CANDIDATES, 30), NEGS_OK);
    assert_fails_with(negs_sampler_sample_scored(hu, 0, 2, NULL, pos, q, emb, 4, 2, out, NULL),
                      NEGS_E_EXHAUSTED);
    assert_true(has("row 0 has no eligible item in the HARD sampler's child"));
    negs_sampler_free(hu);
    negs_sampler_free(h);
    negs_sampler_free(u);
    negs_sampler_free(m);
    free(emb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_brute_force),
        cmocka_unit_test(test_dns_mn),
        cmocka_unit_test(test_softmax_limits_and_logq),
        cmocka_unit_test(test_semihard_window),
        cmocka_unit_test(test_sample_is_child_draws),
        cmocka_unit_test(test_scored_matches_pieces),
        cmocka_unit_test(test_threads_and_splits),
        cmocka_unit_test(test_mixture_child_and_exclusion),
        cmocka_unit_test(test_curriculum_api),
        cmocka_unit_test(test_create_add_params),
        cmocka_unit_test(test_select_errors),
        cmocka_unit_test(test_scored_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
