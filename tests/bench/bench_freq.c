/* negs_freq benchmarks.
 *   bench_freq speed [out.txt]   update speed, GAP and SKETCH, m = 2, batches of 4096 ids at
 *                                H = 2^16 and 2^24 (our side of the numpy/torch comparison)
 *   bench_freq paper [dir]       Yi et al.'s simulation: 1,000 items, q_i ~ i^2, batches of 128
 *                                without replacement, H = 5,000, reversed at step 10,000
 *   bench_freq zipf [dir]        Zipf(1.1) over 10^6 ids with drift at step 10,000, 1 MiB each
 * Tables go to stdout; with BENCH_JSON set, one JSON object per measurement is appended there;
 * [dir] receives CSV series for tests/bench/plot_freq.py. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "negsample.h"

static uint64_t rs = 0x1234567ULL;
static uint64_t rnd64(void)
{
    uint64_t z = (rs += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static uint64_t rnd_mix(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
static double rndu(void) { return (double)(rnd64() >> 11) * 0x1.0p-53; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static FILE *json_open(void)
{
    const char *p = getenv("BENCH_JSON");
    return p && *p ? fopen(p, "a") : NULL;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_freq: %s failed: %s\n", what, negs_last_error());
    exit(1);
}

static negs_freq *mk(int kind, size_t buckets, uint32_t hashes, double param)
{
    negs_freq *f = negs_freq_create(kind, buckets, hashes, 2019);
    if (!f) die("negs_freq_create");
    if (kind == NEGS_FREQ_GAP && negs_freq_set_param(f, NEGS_FP_ALPHA, param)) die("set alpha");
    if (kind == NEGS_FREQ_SKETCH && negs_freq_set_param(f, NEGS_FP_HALF_LIFE, param))
        die("set half-life");
    return f;
}

/* ------------------------------------------------------------------ speed */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One training step's estimator work, three ways, on the same stream: update then logq (two
 * calls, each hashing the ids), the fused update_logq, and its uint32 twin. Best of 51 short
 * runs, the three interleaved run by run so that load on a shared machine hits them alike. */
static int run_fused(void)
{
    enum { NB = 64 };
    static const size_t batches[2] = {1024, 4096};
    static const int kinds[2] = {NEGS_FREQ_GAP, NEGS_FREQ_SKETCH};
    static const unsigned logh[2] = {16, 24};
    uint64_t *ids = malloc(sizeof(uint64_t) * 4096 * NB);
    uint32_t *ids32 = malloc(sizeof(uint32_t) * 4096 * NB);
    float *lq = malloc(sizeof(float) * 4096);
    for (size_t i = 0; i < (size_t)4096 * NB; i++) ids32[i] = (uint32_t)(ids[i] = rnd64() % 1000000u);
    printf("update + log q of one batch, m = 2, ids uniform over 10^6, 1 thread; ns per batch, best of 51\n");
    printf("%-7s %10s %6s %16s %14s %14s %9s\n", "kind", "H", "batch", "update+logq", "update_logq",
           "update_logq_u32", "speedup");
    for (int k = 0; k < 2; k++)
        for (int h = 0; h < 2; h++)
            for (int bi = 0; bi < 2; bi++) {
                size_t H = (size_t)1 << logh[h], B = batches[bi];
                negs_freq *f[3];
                uint64_t step[3] = {0, 0, 0};
                double best[3] = {1e30, 1e30, 1e30};
                for (int v = 0; v < 3; v++) {
                    f[v] = mk(kinds[k], H, 2, kinds[k] == NEGS_FREQ_GAP ? 0.01 : 1000.0);
                    for (int w = 0; w < 2 * NB; w++, step[v]++)
                        if (negs_freq_update(f[v], step[v], ids + (size_t)(w % NB) * B, B)) die("update");
                }
                int per_run = (int)(16384 / B); /* short runs: the best saw the least load */
                for (int r = 0; r < 51; r++)
                    for (int v = 0; v < 3; v++) {
                        double t0 = now_s();
                        for (int b = 0; b < per_run; b++, step[v]++) {
                            size_t o = (size_t)(b % NB) * B;
                            int st = v == 0 ? negs_freq_update(f[v], step[v], ids + o, B) |
                                                  negs_freq_logq(f[v], ids + o, B, lq)
                                   : v == 1 ? negs_freq_update_logq(f[v], step[v], ids + o, B, lq)
                                            : negs_freq_update_logq_u32(f[v], step[v], ids32 + o, B, lq);
                            if (st) die("update/logq");
                        }
                        double t = (now_s() - t0) / per_run;
                        best[v] = t < best[v] ? t : best[v];
                    }
                printf("%-7s %10zu %6zu %16.0f %14.0f %14.0f %8.2fx\n",
                       kinds[k] == NEGS_FREQ_GAP ? "gap" : "sketch", H, B, best[0] * 1e9,
                       best[1] * 1e9, best[2] * 1e9, best[0] / best[1]);
                for (int v = 0; v < 3; v++) negs_freq_free(f[v]);
            }
    free(ids);
    free(ids32);
    free(lq);
    return 0;
}

static int run_speed(const char *out_path)
{
    enum { BATCH = 4096, NB = 64 };
    uint64_t *ids = malloc(sizeof(uint64_t) * BATCH * NB);
    for (size_t i = 0; i < (size_t)BATCH * NB; i++) ids[i] = rnd64() % 1000000u; /* 10^6 ids */
    FILE *out = out_path ? fopen(out_path, "w") : NULL;
    printf("negs_freq update speed: batches of %d ids uniform over 10^6 ids, m = 2, 1 thread\n",
           BATCH);
    printf("%-7s %10s %10s %14s %12s\n", "kind", "H", "table MiB", "ns/batch", "M ids/s");
    static const int kinds[2] = {NEGS_FREQ_GAP, NEGS_FREQ_SKETCH};
    static const unsigned logh[2] = {16, 24};
    for (int k = 0; k < 2; k++)
        for (int h = 0; h < 2; h++) {
            size_t H = (size_t)1 << logh[h];
            negs_freq *f = mk(kinds[k], H, 2, kinds[k] == NEGS_FREQ_GAP ? 0.01 : 1000.0);
            uint64_t step = 0;
            for (int w = 0; w < 2 * NB; w++, step++)
                if (negs_freq_update(f, step, ids + (size_t)(w % NB) * BATCH, BATCH)) die("update");
            /* best of 11 runs (the machine may be shared; the peer is timed the same way) */
            int per_run = logh[h] == 16 ? 256 : 128;
            double t[11];
            for (int r = 0; r < 11; r++) {
                double t0 = now_s();
                for (int b = 0; b < per_run; b++, step++)
                    negs_freq_update(f, step, ids + (size_t)(b % NB) * BATCH, BATCH);
                t[r] = (now_s() - t0) / per_run;
            }
            qsort(t, 11, sizeof t[0], cmp_double);
            double ns = t[0] * 1e9, mib = (double)H * 2 * (kinds[k] == NEGS_FREQ_GAP ? 16 : 8) / 1048576.0;
            const char *name = kinds[k] == NEGS_FREQ_GAP ? "gap" : "sketch";
            printf("%-7s %10zu %10.0f %14.0f %12.1f\n", name, H, mib, ns, BATCH / ns * 1e3);
            if (out) fprintf(out, "%s %u %.1f\n", name, logh[h], ns);
            negs_freq_free(f);
        }
    /* The memory floor at 2^24: the same number of random read-modify-writes (2 per id) on a
     * 512 MiB array of 16-byte cells, prefetched, with no hashing and no arithmetic. */
    {
        size_t cells = (size_t)1 << 25;
        uint64_t *a = calloc(cells, 16);
        uint32_t *ix = malloc(sizeof(uint32_t) * 2 * BATCH * 16);
        if (a && ix) {
            for (size_t i = 0; i < (size_t)2 * BATCH * 16; i++) ix[i] = (uint32_t)(rnd64() % cells);
            for (size_t i = 0; i < cells; i += 256) a[2 * i] = 1; /* touch every page */
            double best = 1e30;
            for (int r = 0; r < 11; r++) {
                double t0 = now_s();
                for (int b = 0; b < 64; b++) {
                    const uint32_t *x = ix + (size_t)(b % 16) * 2 * BATCH;
                    for (int i = 0; i < 2 * BATCH; i++) {
                        if (i + 24 < 2 * BATCH) __builtin_prefetch(a + 2 * (size_t)x[i + 24], 1, 3);
                        a[2 * (size_t)x[i]] += 1;
                    }
                }
                double t = (now_s() - t0) / 64;
                best = t < best ? t : best;
            }
            printf("floor: %d random read-modify-writes in 512 MiB (plain C, prefetched): %.0f ns\n",
                   2 * BATCH, best * 1e9);
        }
        free(a);
        free(ix);
    }
    if (out) fclose(out);
    free(ids);
    return run_fused();
}

/* ------------------------------------------------------------------ accuracy, shared */

typedef struct est {
    const char *name;
    negs_freq *f;
    size_t bytes;
    double stat_pre, stat_post; /* mean error over the last 2,000 steps before each end */
    long rec_own, rec_ref;      /* steps after the switch to reach 1.25x a stationary error */
    double *err;                /* per evaluation */
    double *err_all;            /* zipf: over all ids */
} est;

static size_t table_bytes(int kind, size_t buckets, uint32_t hashes)
{
    return buckets * hashes * (kind == NEGS_FREQ_GAP ? 16u : 8u);
}

static void add_est(est *e, const char *name, int kind, size_t buckets, uint32_t hashes,
                    double param, size_t n_eval)
{
    e->name = name;
    e->f = mk(kind, buckets, hashes, param);
    e->bytes = table_bytes(kind, buckets, hashes);
    e->err = calloc(n_eval, sizeof(double));
    e->err_all = calloc(n_eval, sizeof(double));
}

static double mean_range(const double *x, size_t a, size_t b)
{
    double s = 0.0;
    for (size_t i = a; i < b; i++) s += x[i];
    return s / (double)(b - a);
}

/* Steps after the switch until err <= thr, scanning evaluations every `every` steps. */
static long recovery(const double *err, size_t first, size_t n, size_t every, double thr)
{
    for (size_t i = first; i < n; i++)
        if (err[i] <= thr) return (long)((i - first + 1) * every);
    return -1;
}

/* ------------------------------------------------------------------ paper simulation */

/* Randomised systematic PPS sampling: a without-replacement batch whose inclusion
 * probabilities are exactly batch * q_i (all <= 1 here), so the truth is known exactly. */
static size_t pps_batch(const double *q, size_t n, size_t batch, uint32_t *perm, uint64_t *out)
{
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(rndu() * (double)(i + 1));
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    double u = rndu(), cum = 0.0;
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        double next = cum + (double)batch * q[perm[k]];
        if (floor(next - u) > floor(cum - u)) out[m++] = perm[k] + 1; /* ids 1..n */
        cum = next;
    }
    return m;
}

static void print_table(FILE *js, const char *bench, est *e, int n_est, int ref, const char *unit)
{
    printf("%-26s %9s %12s %12s %10s %10s\n", "estimator", "bytes", "err before", "err after",
           "rec(own)", "rec(ref)");
    for (int i = 0; i < n_est; i++) {
        printf("%-26s %9zu %12.4f %12.4f %10ld %10ld\n", e[i].name, e[i].bytes, e[i].stat_pre,
               e[i].stat_post, e[i].rec_own, e[i].rec_ref);
        if (js) {
            fprintf(js,
                    "{\"bench\":\"%s\",\"case\":\"%s stationary error\",\"ours\":%.6f,"
                    "\"peer\":\"%s\",\"peer_value\":%.6f,\"unit\":\"%s\",\"ratio\":%.4f,"
                    "\"bytes\":%zu}\n",
                    bench, e[i].name, e[i].stat_pre, e[ref].name, e[ref].stat_pre, unit,
                    e[ref].stat_pre / e[i].stat_pre, e[i].bytes);
            fprintf(js,
                    "{\"bench\":\"%s\",\"case\":\"%s recovery steps\",\"ours\":%ld,"
                    "\"peer\":\"%s\",\"peer_value\":%ld,\"unit\":\"steps\",\"ratio\":%.4f,"
                    "\"bytes\":%zu}\n",
                    bench, e[i].name, e[i].rec_ref, e[ref].name, e[ref].rec_ref,
                    e[i].rec_ref > 0 ? (double)e[ref].rec_ref / (double)e[i].rec_ref : 0.0,
                    e[i].bytes);
        }
    }
}

static void finish_errors(est *e, int n_est, int ref, size_t n_eval, size_t every)
{
    size_t half = n_eval / 2, tail = 2000 / every;
    for (int i = 0; i < n_est; i++) {
        e[i].stat_pre = mean_range(e[i].err, half - tail, half);
        e[i].stat_post = mean_range(e[i].err, n_eval - tail, n_eval);
        e[i].rec_own = recovery(e[i].err, half, n_eval, every, 1.25 * e[i].stat_pre);
    }
    for (int i = 0; i < n_est; i++)
        e[i].rec_ref = recovery(e[i].err, half, n_eval, every, 1.25 * e[ref].stat_pre);
}

/* The paper's Algorithm 1 exactly as published (one hash, A and B start at 0, p = 1/B, no cap,
 * no first-sight rule, no open gap): a reference row, not part of the library. */
typedef struct published {
    uint64_t *a;
    double *b;
    size_t h;
    double alpha;
} published;

static size_t pub_bucket(const published *p, uint64_t id)
{
    return (size_t)(((uint64_t)(uint32_t)(rnd_mix(id) >> 32) * p->h) >> 32);
}

static void pub_update(published *p, uint64_t t, const uint64_t *ids, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t k = pub_bucket(p, ids[i]);
        p->b[k] = (1.0 - p->alpha) * p->b[k] + p->alpha * (double)(t - p->a[k]);
        p->a[k] = t;
    }
}

/* Per-example probability from the published p = 1/B (a probability per batch). */
static double pub_prob(const published *p, uint64_t id, double batch)
{
    double b = p->b[pub_bucket(p, id)];
    double pb = b > 1.0 ? 1.0 / b : 1.0;
    return pb / batch;
}

static int run_paper(const char *dir)
{
    enum { N = 1000, BATCH = 128, STEPS = 20000, SWITCH = 10000, EVERY = 10, H = 5000 };
    const size_t n_eval = STEPS / EVERY;
    static double q_before[N], q_after[N];
    double s = 0.0;
    for (int i = 0; i < N; i++) s += (double)(i + 1) * (i + 1);
    for (int i = 0; i < N; i++) {
        q_before[i] = (double)(i + 1) * (i + 1) / s;
        q_after[N - 1 - i] = q_before[i];
    }
    est e[8];
    int n_est = 0;
    add_est(&e[n_est++], "GAP m=1 a=0.01 (paper)", NEGS_FREQ_GAP, H, 1, 0.01, n_eval);
    /* row 1 is the published algorithm, computed outside the library */
    add_est(&e[n_est++], "as published m=1 a=0.01", NEGS_FREQ_GAP, 1, 1, 0.01, n_eval);
    e[1].bytes = H * 16;
    published pub = {calloc(H, 8), calloc(H, 8), H, 0.01};
    add_est(&e[n_est++], "GAP m=2 a=0.01", NEGS_FREQ_GAP, H, 2, 0.01, n_eval);
    add_est(&e[n_est++], "GAP m=4 a=0.01", NEGS_FREQ_GAP, H, 4, 0.01, n_eval);
    add_est(&e[n_est++], "SKETCH 2x5000 h=250", NEGS_FREQ_SKETCH, H, 2, 250.0, n_eval);
    add_est(&e[n_est++], "SKETCH 2x5000 h=500", NEGS_FREQ_SKETCH, H, 2, 500.0, n_eval);
    add_est(&e[n_est++], "SKETCH 2x5000 h=1000", NEGS_FREQ_SKETCH, H, 2, 1000.0, n_eval);
    add_est(&e[n_est++], "SKETCH 4x2500 h=500", NEGS_FREQ_SKETCH, H / 2, 4, 500.0, n_eval);
    uint32_t perm[N];
    for (uint32_t i = 0; i < N; i++) perm[i] = i;
    uint64_t batch[N], all[N];
    for (uint64_t i = 0; i < N; i++) all[i] = i + 1;
    float p[N];
    /* traces of three items around the switch, for the plot */
    static const int trace_item[3] = {1000, 900, 1};
    FILE *tr = NULL, *se = NULL;
    char path[4096];
    if (dir) {
        snprintf(path, sizeof path, "%s/freq_paper_items.csv", dir);
        tr = fopen(path, "w");
        snprintf(path, sizeof path, "%s/freq_paper_error.csv", dir);
        se = fopen(path, "w");
        if (tr) fprintf(tr, "step,item,truth,estimator,estimate\n");
        if (se) fprintf(se, "step,estimator,error\n");
    }
    rs = 2019;
    for (uint64_t t = 0; t < STEPS; t++) {
        const double *q = t < SWITCH ? q_before : q_after;
        size_t m = pps_batch(q, N, BATCH, perm, batch);
        for (int i = 0; i < n_est; i++)
            if (negs_freq_update(e[i].f, t, batch, m)) die("update");
        pub_update(&pub, t, batch, m);
        if ((t + 1) % EVERY) continue;
        size_t ev = t / EVERY;
        for (int i = 0; i < n_est; i++) {
            if (i == 1) {
                for (int k = 0; k < N; k++) p[k] = (float)pub_prob(&pub, all[k], BATCH);
            } else if (negs_freq_prob(e[i].f, all, N, p)) {
                die("prob");
            }
            /* (1/2B) sum |P^ - P| with P = B q the inclusion probability = (1/2) sum |q^ - q| */
            double err = 0.0;
            for (int k = 0; k < N; k++) err += fabs((double)p[k] - q[k]);
            e[i].err[ev] = 0.5 * err;
            if (se) fprintf(se, "%llu,%s,%.6f\n", (unsigned long long)t, e[i].name, e[i].err[ev]);
            if (tr && t >= 8000 && t < 14000 && (i == 0 || i == 1 || i == 5))
                for (int k = 0; k < 3; k++)
                    fprintf(tr, "%llu,%d,%.6g,%s,%.6g\n", (unsigned long long)t, trace_item[k],
                            BATCH * q[trace_item[k] - 1], e[i].name,
                            BATCH * (double)p[trace_item[k] - 1]);
        }
    }
    if (tr) fclose(tr);
    if (se) fclose(se);
    finish_errors(e, n_est, 0, n_eval, EVERY);
    printf("Yi et al. simulation: 1,000 items, q_i ~ i^2, batches of %d without replacement "
           "(systematic PPS), H = %d,\nreversed at step %d, %d steps. err = (1/2B) sum_i |P^_i - "
           "P_i| (P = inclusion probability), evaluated every %d steps;\nerr before/after = mean "
           "over the 2,000 steps before the switch / before the end; rec = steps after the switch "
           "until err <= 1.25 x\nthe estimator's own err before (own) or the paper setting's (ref).\n",
           BATCH, H, SWITCH, STEPS, EVERY);
    FILE *js = json_open();
    print_table(js, "freq_paper", e, n_est, 0, "error");
    if (js) fclose(js);
    for (int i = 0; i < n_est; i++) {
        negs_freq_free(e[i].f);
        free(e[i].err);
        free(e[i].err_all);
    }
    free(pub.a);
    free(pub.b);
    return 0;
}

/* ------------------------------------------------------------------ Zipf stream with drift */

static int run_zipf(const char *dir)
{
    enum { BATCH = 1024, STEPS = 20000, SWITCH = 10000, EVERY = 100, ALL_EVERY = 1000, TOP = 1000 };
    const uint64_t N = 1000000, MUL = 7919, ADD = 123457; /* drift: rank r -> id (r*MUL+ADD) % N */
    const size_t n_eval = STEPS / EVERY;
    double *cdf = malloc(sizeof(double) * N), *q = malloc(sizeof(double) * N);
    double s = 0.0;
    for (uint64_t r = 0; r < N; r++) s += pow((double)(r + 1), -1.1);
    double c = 0.0;
    for (uint64_t r = 0; r < N; r++) {
        q[r] = pow((double)(r + 1), -1.1) / s;
        c += q[r];
        cdf[r] = c;
    }
    est e[5];
    int n_est = 0;
    const size_t MIB = 1u << 20;
    add_est(&e[n_est++], "GAP m=1 a=0.01 (paper)", NEGS_FREQ_GAP, MIB / 16, 1, 0.01, n_eval);
    add_est(&e[n_est++], "GAP m=2 a=0.01", NEGS_FREQ_GAP, MIB / 32, 2, 0.01, n_eval);
    add_est(&e[n_est++], "SKETCH 2x65536 h=250", NEGS_FREQ_SKETCH, MIB / 16, 2, 250.0, n_eval);
    add_est(&e[n_est++], "SKETCH 2x65536 h=1000", NEGS_FREQ_SKETCH, MIB / 16, 2, 1000.0, n_eval);
    add_est(&e[n_est++], "SKETCH 4x32768 h=1000", NEGS_FREQ_SKETCH, MIB / 32, 4, 1000.0, n_eval);
    uint64_t batch[BATCH], top_ids[TOP];
    uint64_t *all = malloc(sizeof(uint64_t) * N);
    float *p = malloc(sizeof(float) * N), ptop[TOP];
    FILE *se = NULL;
    char path[4096];
    if (dir) {
        snprintf(path, sizeof path, "%s/freq_zipf_error.csv", dir);
        se = fopen(path, "w");
        if (se) fprintf(se, "step,estimator,error_top,error_all\n");
    }
    rs = 1100;
    for (uint64_t t = 0; t < STEPS; t++) {
        int after = t >= SWITCH;
        for (int b = 0; b < BATCH; b++) {
            double u = rndu() * c;
            size_t lo = 0, hi = N - 1;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (cdf[mid] < u) lo = mid + 1; else hi = mid;
            }
            batch[b] = after ? (lo * MUL + ADD) % N : lo;
        }
        for (int i = 0; i < n_est; i++)
            if (negs_freq_update(e[i].f, t, batch, BATCH)) die("update");
        if ((t + 1) % EVERY) continue;
        size_t ev = t / EVERY;
        for (uint64_t r = 0; r < TOP; r++) top_ids[r] = after ? (r * MUL + ADD) % N : r;
        int do_all = (t + 1) % ALL_EVERY == 0;
        if (do_all)
            for (uint64_t r = 0; r < N; r++) all[r] = after ? (r * MUL + ADD) % N : r;
        for (int i = 0; i < n_est; i++) {
            /* head: relative L1 over the current top 1,000 ids */
            if (negs_freq_prob(e[i].f, top_ids, TOP, ptop)) die("prob");
            double num = 0.0, den = 0.0;
            for (int r = 0; r < TOP; r++) {
                num += fabs((double)ptop[r] - q[r]);
                den += q[r];
            }
            e[i].err[ev] = num / den;
            double ea = NAN;
            if (do_all) {
                if (negs_freq_prob(e[i].f, all, N, p)) die("prob");
                ea = 0.0;
                for (uint64_t r = 0; r < N; r++) ea += fabs((double)p[r] - q[r]);
                ea *= 0.5;
                e[i].err_all[ev] = ea;
            }
            if (se) fprintf(se, "%llu,%s,%.6f,%.6f\n", (unsigned long long)t, e[i].name, e[i].err[ev], ea);
        }
    }
    if (se) fclose(se);
    finish_errors(e, n_est, 0, n_eval, EVERY);
    printf("Zipf(1.1) over 10^6 ids, batches of %d iid ids, 1 MiB of tables each, popularity "
           "reshuffled at step %d (rank r -> id (%llu r + %llu) mod 10^6).\n"
           "err = sum over the current top 1,000 ids of |q^ - q| / their total q (evaluated every "
           "%d steps); all = (1/2) sum over all 10^6 ids of |q^ - q|\n(mean of the evaluations every "
           "%d steps over the 2,000 steps before the switch / the end); rec as above.\n",
           BATCH, SWITCH, (unsigned long long)MUL, (unsigned long long)ADD, EVERY, ALL_EVERY);
    FILE *js = json_open();
    print_table(js, "freq_zipf", e, n_est, 0, "relative L1 (top 1000)");
    printf("%-26s %12s %12s\n", "estimator", "all before", "all after");
    size_t half = n_eval / 2, stride = ALL_EVERY / EVERY;
    double before[5], after[5];
    for (int i = 0; i < n_est; i++) {
        double b = 0.0, a = 0.0;
        int nb = 0, na = 0;
        for (size_t ev = stride - 1; ev < n_eval; ev += stride) {
            if (ev < half && ev >= half - 2000 / EVERY) b += e[i].err_all[ev], nb++;
            if (ev >= n_eval - 2000 / EVERY) a += e[i].err_all[ev], na++;
        }
        before[i] = b / nb;
        after[i] = a / na;
        printf("%-26s %12.4f %12.4f\n", e[i].name, before[i], after[i]);
    }
    for (int i = 0; js && i < n_est; i++)
        fprintf(js,
                "{\"bench\":\"freq_zipf\",\"case\":\"%s error all ids\",\"ours\":%.6f,"
                "\"peer\":\"%s\",\"peer_value\":%.6f,\"unit\":\"(1/2) L1\",\"ratio\":%.4f,"
                "\"bytes\":%zu}\n",
                e[i].name, before[i], e[0].name, before[0], before[0] / before[i], e[i].bytes);
    if (js) fclose(js);
    for (int i = 0; i < n_est; i++) {
        negs_freq_free(e[i].f);
        free(e[i].err);
        free(e[i].err_all);
    }
    free(cdf), free(q), free(all), free(p);
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "all";
    const char *arg = argc > 2 ? argv[2] : NULL;
    if (!strcmp(mode, "speed")) return run_speed(arg);
    if (!strcmp(mode, "paper")) return run_paper(arg);
    if (!strcmp(mode, "zipf")) return run_zipf(arg);
    if (!strcmp(mode, "all")) return run_speed(NULL) | run_paper(NULL) | run_zipf(NULL);
    fprintf(stderr, "usage: bench_freq speed|paper|zipf|all [out]\n");
    return 2;
}
