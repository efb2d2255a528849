/* Random-walk negatives against uniform ones on the same graph, in the same run. Usage:
 * bench_walk [FILE.inter] [REPS]; FILE is a RecBole .inter file (header line, user and item in
 * the first two columns) or `user item` lines; without it (or "synthetic") a seeded graph of
 * 1000 users x 2000 items with Zipf-like item popularity. Every interaction is a positive.
 * Prints one line per case (best of REPS timed calls of 4096 rows after a warm-up):
 *   case K THREADS draws_per_s rejected_per_draw fallbacks_per_draw
 * for "uniform" (UNIFORM excluding the positives) and "walkL" (WALK, L hops, 8 tries). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "negsample.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_walk: %s: %s\n", what, negs_last_error());
    exit(1);
}

static uint64_t rs = 88172645463325252ULL;
static uint32_t urand(uint32_t n)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return (uint32_t)((rs >> 11) % n);
}

typedef struct {
    uint32_t n_users, n_items;
    size_t n;
    uint32_t *u, *i;
} edges;

/* Dense ids in order of first appearance. */
static uint32_t remap(uint32_t **map, uint32_t *cap, uint32_t *next, unsigned long raw)
{
    if (raw >= 10000000ul) die("id above 10^7");
    while (raw >= *cap) {
        uint32_t nc = *cap ? *cap * 2 : 1024;
        *map = realloc(*map, nc * sizeof **map);
        if (!*map) die("out of memory");
        for (uint32_t x = *cap; x < nc; x++) (*map)[x] = UINT32_MAX;
        *cap = nc;
    }
    if ((*map)[raw] == UINT32_MAX) (*map)[raw] = (*next)++;
    return (*map)[raw];
}

static void load(const char *path, edges *e)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_walk: cannot open %s\n", path);
        exit(1);
    }
    char line[512];
    size_t cap = 0;
    uint32_t *um = NULL, *im = NULL, ucap = 0, icap = 0;
    e->n_users = e->n_items = 0;
    e->n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        if (sscanf(line, "%lu %lu", &a, &b) != 2) continue; /* the header */
        if (e->n == cap) {
            cap = cap ? 2 * cap : 4096;
            e->u = realloc(e->u, cap * sizeof *e->u);
            e->i = realloc(e->i, cap * sizeof *e->i);
            if (!e->u || !e->i) die("out of memory");
        }
        e->u[e->n] = remap(&um, &ucap, &e->n_users, a);
        e->i[e->n] = remap(&im, &icap, &e->n_items, b);
        e->n++;
    }
    fclose(f);
    free(um);
    free(im);
}

static void synth(edges *e)
{
    e->n_users = 1000;
    e->n_items = 2000;
    e->n = 50000;
    e->u = malloc(e->n * sizeof *e->u);
    e->i = malloc(e->n * sizeof *e->i);
    if (!e->u || !e->i) die("out of memory");
    for (size_t x = 0; x < e->n; x++) {
        e->u[x] = urand(e->n_users);
        /* popularity ~ 1 / rank: the square of a uniform concentrates on low ids */
        uint32_t r = urand(e->n_items);
        e->i[x] = (uint32_t)((uint64_t)r * r / e->n_items);
    }
}

static negs_csr *graph(const edges *e)
{
    uint64_t *indptr = calloc(e->n_users + 1, sizeof *indptr);
    uint32_t *idx = malloc(e->n * sizeof *idx);
    if (!indptr || !idx) die("out of memory");
    for (size_t x = 0; x < e->n; x++) indptr[e->u[x] + 1]++;
    for (uint32_t u = 0; u < e->n_users; u++) indptr[u + 1] += indptr[u];
    uint64_t *at = malloc(e->n_users * sizeof *at);
    memcpy(at, indptr, e->n_users * sizeof *at);
    for (size_t x = 0; x < e->n; x++) idx[at[e->u[x]]++] = e->i[x];
    negs_csr *t = negs_csr_create(e->n_users, e->n_items, indptr, idx);
    if (!t) die("negs_csr_create");
    free(indptr);
    free(idx);
    free(at);
    return t;
}

static void run(const char *name, negs_sampler *s, const uint32_t *users, const uint32_t *pos,
                size_t rows, uint32_t k, int threads, int reps)
{
    uint32_t *out = malloc(rows * k * sizeof *out);
    if (!out) die("out of memory");
    if (negs_sampler_set_param(s, NEGS_SP_THREADS, threads)) die("threads");
    if (negs_sampler_sample(s, 0, rows, users, pos, k, out, NULL)) die(name);
    double best = 1e30, rej = 0.0, fb = 0.0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (negs_sampler_sample(s, (uint64_t)r + 1, rows, users, pos, k, out, NULL)) die(name);
        double t = now() - t0;
        if (t < best) best = t;
    }
    if (strcmp(name, "uniform") != 0) {
        negs_sampler_get_param(s, NEGS_SP_WALK_REJECTED, &rej);
        negs_sampler_get_param(s, NEGS_SP_WALK_FALLBACKS, &fb);
    }
    double draws = (double)rows * k;
    printf("%s %u %d %.0f %.4f %.4f\n", name, k, threads, draws / best, rej / draws, fb / draws);
    free(out);
}

int main(int argc, char **argv)
{
    edges e = {0};
    const char *path = argc > 1 ? argv[1] : "synthetic";
    int reps = argc > 2 ? atoi(argv[2]) : 5;
    if (reps < 1) reps = 1;
    if (strcmp(path, "synthetic") == 0) synth(&e);
    else load(path, &e);
    negs_csr *g = graph(&e);
    const size_t rows = 4096;
    uint32_t *users = malloc(rows * sizeof *users), *pos = malloc(rows * sizeof *pos);
    for (size_t r = 0; r < rows; r++) { /* training rows: random interactions */
        size_t x = urand((uint32_t)e.n);
        users[r] = e.u[x];
        pos[r] = e.i[x];
    }
    printf("# graph %s: %u users, %u items, %zu interactions\n", path, e.n_users, e.n_items, e.n);
    static const uint32_t ks[] = {1, 16};
    for (int th = 1; th <= 2; th++)
        for (int a = 0; a < 2; a++) {
            negs_sampler *u = negs_sampler_create(NEGS_SAMPLER_UNIFORM, e.n_items, 7);
            if (!u || negs_sampler_set_positives(u, g)) die("uniform");
            run("uniform", u, users, pos, rows, ks[a], th, reps);
            negs_sampler_free(u);
            static const int lengths[] = {3, 5};
            for (int l = 0; l < 2; l++) {
                negs_sampler *w = negs_sampler_create(NEGS_SAMPLER_WALK, e.n_items, 7);
                if (!w || negs_sampler_set_positives(w, g) ||
                    negs_sampler_set_param(w, NEGS_SP_WALK_LENGTH, lengths[l]))
                    die("walk");
                char name[16];
                snprintf(name, sizeof name, "walk%d", lengths[l]);
                run(name, w, users, pos, rows, ks[a], th, reps);
                negs_sampler_free(w);
            }
        }
    negs_csr_free(g);
    free(users);
    free(pos);
    free(e.u);
    free(e.i);
    return 0;
}
