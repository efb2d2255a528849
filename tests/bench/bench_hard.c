/* Hard negatives. Usage: bench_hard THREADS [REPS]; prints one line per case (best of REPS
 * calls after a warm-up):
 *   scored N_ITEMS ROWS C DIM K ours_s base_s
 *     negs_sampler_sample_scored (HARD, TOP, over POPULARITY with alpha 0.75) against the
 *     same number of plain popularity draws (negs_sampler_sample, k = C) plus the C dot
 *     products per row in a plain C loop, at one thread (base) and THREADS (ours);
 *   select ROWS N_CAND K ours_s
 *     negs_sampler_select (TOP) on random scores.
 * Inputs follow formulas that tests/bench/hard_peer.py repeats (weights 1 / (i + 1), items
 * random), so the peers time the same shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "negsample.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static uint64_t rs = 88172645463325252ULL;
static float frand(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (float)((double)(rs >> 11) / 9007199254740992.0 - 0.5);
}

static void die(const char *what)
{
    fprintf(stderr, "bench_hard: %s: %s\n", what, negs_last_error());
    exit(1);
}

static negs_sampler *popularity(uint32_t n_items, const double *w)
{
    negs_sampler *p = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n_items, 7);
    if (!p || negs_sampler_set_weights(p, w, n_items)) die("popularity");
    return p;
}

static void scored(uint32_t n_items, size_t rows, uint32_t c, size_t dim, uint32_t k, int threads,
                   int reps)
{
    double *w = malloc(n_items * sizeof *w);
    float *emb = malloc((size_t)n_items * dim * sizeof *emb), *q = malloc(rows * dim * sizeof *q);
    float *sc = malloc(rows * c * sizeof *sc);
    uint32_t *cand = malloc(rows * c * sizeof *cand), *out = malloc(rows * k * sizeof *out);
    if (!w || !emb || !q || !sc || !cand || !out) die("out of memory");
    for (uint32_t i = 0; i < n_items; i++) w[i] = 1.0 / (i + 1.0);
    for (size_t i = 0; i < (size_t)n_items * dim; i++) emb[i] = frand();
    for (size_t i = 0; i < rows * dim; i++) q[i] = frand();
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, n_items, 7);
    if (!h || negs_sampler_add(h, popularity(n_items, w), 1.0) ||
        negs_sampler_set_param(h, NEGS_SP_CANDIDATES, c) ||
        negs_sampler_set_param(h, NEGS_SP_THREADS, threads))
        die("hard sampler");
    negs_sampler *base = popularity(n_items, w);
    double best = 1e30, best_base = 1e30, sink = 0.0;
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        if (negs_sampler_sample_scored(h, (uint64_t)r + 1, rows, NULL, NULL, q, emb, dim, k, out,
                                       NULL))
            die("sample_scored");
        double t1 = now();
        if (negs_sampler_sample(base, (uint64_t)r + 1, rows, NULL, NULL, c, cand, NULL))
            die("sample");
        for (size_t i = 0; i < rows; i++)
            for (uint32_t j = 0; j < c; j++) {
                const float *e = emb + (size_t)cand[i * c + j] * dim, *qi = q + i * dim;
                float acc = 0.0f;
                for (size_t d = 0; d < dim; d++) acc += qi[d] * e[d];
                sc[i * c + j] = acc;
            }
        double t2 = now();
        sink += sc[rows * c / 2] + out[0];
        if (r >= 0) {
            if (t1 - t0 < best) best = t1 - t0;
            if (t2 - t1 < best_base) best_base = t2 - t1;
        }
    }
    printf("scored %u %zu %u %zu %u %.6f %.6f\n", n_items, rows, c, dim, k, best, best_base);
    fflush(stdout);
    if (sink == 12345.678) puts("");
    negs_sampler_free(h);
    negs_sampler_free(base);
    free(w);
    free(emb);
    free(q);
    free(sc);
    free(cand);
    free(out);
}

static void selection(size_t rows, uint32_t n_cand, uint32_t k, int threads, int reps)
{
    const uint32_t n_items = 1000000;
    uint32_t *items = malloc(rows * n_cand * sizeof *items), *out = malloc(rows * k * sizeof *out);
    float *s = malloc(rows * n_cand * sizeof *s);
    if (!items || !out || !s) die("out of memory");
    for (size_t i = 0; i < rows * n_cand; i++) {
        s[i] = frand();
        items[i] = (uint32_t)((frand() + 0.5f) * (float)(n_items - 1));
    }
    negs_sampler *h = negs_sampler_create(NEGS_SAMPLER_HARD, n_items, 7);
    if (!h || negs_sampler_set_param(h, NEGS_SP_CANDIDATES, n_cand) ||
        negs_sampler_set_param(h, NEGS_SP_THREADS, threads))
        die("hard sampler");
    double best = 1e30;
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        if (negs_sampler_select(h, 0, rows, n_cand, items, s, NULL, k, out, NULL)) die("select");
        double t = now() - t0;
        if (r >= 0 && t < best) best = t;
    }
    printf("select %zu %u %u %.7f\n", rows, n_cand, k, best);
    fflush(stdout);
    negs_sampler_free(h);
    free(items);
    free(out);
    free(s);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s THREADS [REPS]\n", argv[0]);
        return 2;
    }
    int threads = atoi(argv[1]);
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    scored(100000, 4096, 32, 64, 1, threads, reps);
    scored(1000000, 4096, 32, 64, 1, threads, reps);
    scored(1000000, 4096, 32, 64, 4, threads, reps);
    for (uint32_t k = 1; k <= 8; k *= 8) selection(4096, 64, k, threads, reps * 20);
    return 0;
}
