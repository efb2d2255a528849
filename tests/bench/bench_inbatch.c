/* Benchmark of negs_loss_inbatch (forward + backward, MEAN, temperature 0.05, logQ and item
 * ids with accidental hits), one case per process so that the peak RSS is the case's own.
 *   bench_inbatch case B M DIM THREADS [REPS]  -> one line:
 *     "time_s gflops peak_rss_mib loss cpu_s" (best of REPS calls after one warm-up call;
 *     REPS = 0 times the single first call; cpu_s = the best call's process CPU time, all
 *     threads: idle pool threads sleep after a short spin, so it is about the work done)
 *   bench_inbatch case B M DIM THREADS REPS bf16 -> NEGS_PRECISION_BF16 against fp32 (see
 *     bf16_vs_fp32)
 *   bench_inbatch case B M DIM THREADS REPS bf16-only -> the first form's line for the bf16
 *     call alone (e.g. under perf record, to profile the bf16 path without fp32 calls)
 *   bench_inbatch rates                        -> the library's measured rates and bf16 path:
 *     "fma_gflops bf16_gflops avx512bf16|portable" (see rates)
 *   bench_inbatch peak16 THREADS               -> measured bf16 peak (vdpbf16ps, 64 flops per
 *     512-bit instruction) in GFLOP/s, "wall cpu" as for peak; "0 0" without AVX512-BF16
 *   bench_inbatch peak THREADS                 -> measured fp32 FMA peak in GFLOP/s (512-bit
 *     FMAs, or 256-bit ones on CPUs without AVX-512): "wall cpu", wall = by wall time, cpu =
 *     the sum of the threads' rates by their own CPU time (what a loaded machine cannot hide)
 *   bench_inbatch bw THREADS                   -> measured memory read bandwidth in GB/s
 *   bench_inbatch ml B DIM THREADS REPS FILE   -> MovieLens known-positive masking (see ml())
 *   bench_inbatch indexed B M DIM THREADS REPS COSINE -> negs_loss_inbatch_indexed against
 *     gather + negs_loss_inbatch + scatter by hand (see indexed())
 * FLOPs counted: 6 * b * (b + m) * dim (the dense algorithm's three products: logits, du and
 * dv); the recomputation of logits in the backward pass is not counted. */
#include <immintrin.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "inbatch_data.h"
#include "kernels/kernels_bf16.h" /* negs_bf16_rates: what the bf16 path's choice measured */
#include "negsample.h"

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* --- fp32 peak: 24 independent chains of 512-bit FMAs per thread (enough to cover the FMA
 * latency on every current core), one thread per core */
#define PEAK_ITERS 40000000L
/* Each loop thread records its own CPU time (out[1]): the rate while it runs, which other
 * tenants of a loaded machine do not change, unlike the wall time. */
static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

__attribute__((target("avx512f"))) static void *fma_loop(void *arg)
{
    float *out = arg;
    double c0 = thread_cpu();
    __m512 a[24];
    __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-6f);
    for (int i = 0; i < 24; i++) a[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < PEAK_ITERS / 4; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++) a[i] = _mm512_fmadd_ps(a[i], x, y);
    }
    __m512 s = a[0];
    for (int i = 1; i < 24; i++) s = _mm512_add_ps(s, a[i]);
    out[0] = _mm512_reduce_add_ps(s);
    out[1] = (float)(thread_cpu() - c0);
    return NULL;
}

/* The same with 256-bit FMAs, for CPUs without AVX-512 (whose kernels are then AVX2): 12
 * chains, four times the iterations. AVX2 has 16 vector registers: 24 chains do not fit, and
 * the spilled ones measured about half the peak (a load and a store per FMA). 12 still
 * cover 3 FMA units of latency 4. */
#define CHAINS256 12
__attribute__((target("avx2,fma"))) static void *fma_loop256(void *arg)
{
    float *out = arg;
    double c0 = thread_cpu();
    __m256 a[CHAINS256];
    __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-6f);
    for (int i = 0; i < CHAINS256; i++) a[i] = _mm256_set1_ps((float)i);
    for (long it = 0; it < PEAK_ITERS; it++) {
#pragma GCC unroll 12
        for (int i = 0; i < CHAINS256; i++) a[i] = _mm256_fmadd_ps(a[i], x, y);
    }
    __m256 s = a[0];
    for (int i = 1; i < CHAINS256; i++) s = _mm256_add_ps(s, a[i]);
    float t[8];
    _mm256_storeu_ps(t, s);
    out[0] = t[0] + t[7];
    out[1] = (float)(thread_cpu() - c0);
    return NULL;
}

static int peak(int threads)
{
    int wide = __builtin_cpu_supports("avx512f");
    if (!wide && !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))) {
        printf("0 0\n");
        return 0;
    }
    if (threads < 1 || threads > 64) return 2;
    pthread_t th[64];
    float out[64][2];
    /* best of 5: other processes on the machine only ever slow it down */
    double best = 1e30, cpu_best[64];
    for (int i = 0; i < threads; i++) cpu_best[i] = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (int i = 0; i < threads; i++)
            pthread_create(&th[i], NULL, wide ? fma_loop : fma_loop256, out[i]);
        for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
        double t = now() - t0;
        if (t < best) best = t;
        for (int i = 0; i < threads; i++)
            if (out[i][1] < cpu_best[i]) cpu_best[i] = out[i][1];
    }
    /* 24 chains x 16 lanes x PEAK_ITERS / 4 = 12 chains x 8 lanes x PEAK_ITERS: the same
     * flops either way */
    double flops = PEAK_ITERS * 96.0 * 2, cpu_rate = 0;
    for (int i = 0; i < threads; i++) cpu_rate += flops / cpu_best[i];
    printf("%.1f %.1f\n", (double)threads * flops / best / 1e9, cpu_rate / 1e9);
    return 0;
}

/* --- memory bandwidth: each thread sums its share of a 512 MiB buffer (read only, far
 * beyond any cache), best of 5; prints GB/s. */
#define BW_BYTES (512ul << 20)
typedef struct bw_part {
    const double *x;
    size_t n;
    double sum;
} bw_part;

static void *bw_read(void *arg)
{
    bw_part *p = arg;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i + 4 <= p->n; i += 4) {
        s0 += p->x[i];
        s1 += p->x[i + 1];
        s2 += p->x[i + 2];
        s3 += p->x[i + 3];
    }
    p->sum = s0 + s1 + s2 + s3;
    return NULL;
}

static int bandwidth(int threads)
{
    size_t n = BW_BYTES / sizeof(double), per = n / (size_t)threads;
    double *x = malloc(BW_BYTES), best = 1e30, sum = 0;
    if (!x || threads < 1 || threads > 64) return 1;
    for (size_t i = 0; i < n; i++) x[i] = (double)(i & 1023);
    pthread_t th[64];
    bw_part pt[64];
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (int i = 0; i < threads; i++) {
            pt[i] = (bw_part){x + (size_t)i * per, per, 0};
            pthread_create(&th[i], NULL, bw_read, &pt[i]);
        }
        for (int i = 0; i < threads; i++) pthread_join(th[i], NULL), sum += pt[i].sum;
        double t = now() - t0;
        if (t < best) best = t;
    }
    printf("%.1f\n", (double)per * (double)threads * sizeof(double) / best / 1e9);
    free(x);
    return sum < 0; /* keeps the sums */
}

/* --- MovieLens-100K: a batch of b real (user, item) interactions, row r being interaction
 * (r * 2654435761) mod N of the file (the torch peer picks the same rows), dim-64 random
 * embeddings, logq = log of the item's share of the interactions. Times, best of REPS after
 * a warm-up, interleaved: no item ids (unmasked), item ids (accidental hits), item ids +
 * user ids with the users' known positives (the whole file). Prints one line:
 * "unmasked_s hits_s masked_s masked_pct unmasked_cpu_s masked_cpu_s", masked_pct = % of the
 * b x (b - 1) off-target pairs that the full masking removes; the last two are the best
 * process CPU times (all threads; the pool's idle threads sleep), which other tenants of a
 * loaded machine disturb much less than wall times. */
static int ml(size_t b, size_t dim, int threads, int reps, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    size_t cap = 1 << 17, n_int = 0;
    uint32_t *us = malloc(cap * 4), *it = malloc(cap * 4), n_users = 0, n_items = 0;
    char line[256];
    if (!fgets(line, sizeof line, f)) return 1; /* the header */
    unsigned a, c;
    while (fgets(line, sizeof line, f) && sscanf(line, "%u %u", &a, &c) == 2) {
        if (n_int == cap) {
            cap *= 2;
            us = realloc(us, cap * 4);
            it = realloc(it, cap * 4);
        }
        us[n_int] = a;
        it[n_int++] = c;
        if (a >= n_users) n_users = a + 1;
        if (c >= n_items) n_items = c + 1;
    }
    fclose(f);
    uint64_t *indptr = calloc(n_users + 1, 8);
    uint32_t *ind = malloc(n_int * 4), *fill = calloc(n_users, 4);
    double *count = calloc(n_items, sizeof *count);
    for (size_t q = 0; q < n_int; q++) indptr[us[q] + 1]++, count[it[q]]++;
    for (uint32_t x = 0; x < n_users; x++) indptr[x + 1] += indptr[x];
    for (size_t q = 0; q < n_int; q++) ind[indptr[us[q]] + fill[us[q]]++] = it[q];
    negs_csr *pos = negs_csr_create(n_users, n_items, indptr, ind);
    float *u = malloc(b * dim * 4), *v = malloc(b * dim * 4), *lq = malloc(b * 4);
    float *du = malloc(b * dim * 4), *dv = malloc(b * dim * 4), loss;
    uint32_t *users = malloc(b * 4), *items = malloc(b * 4);
    float sc = 1.0f / sqrtf((float)dim);
    for (size_t i = 0; i < b * dim; i++) u[i] = frand() * sc, v[i] = frand() * sc;
    for (size_t r = 0; r < b; r++) {
        size_t q = (size_t)((uint64_t)r * 2654435761u % n_int);
        users[r] = us[q];
        items[r] = it[q];
        lq[r] = (float)log(count[it[q]] / (double)n_int);
    }
    size_t masked = 0;
    for (size_t i = 0; i < b; i++)
        for (size_t j = 0; j < b; j++)
            masked += j != i && (items[j] == items[i] || negs_csr_contains(pos, users[i], items[j]));
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 0.05);
    negs_loss_set_param(l, NEGS_LP_THREADS, threads);
    negs_loss_set_positives(l, pos);
    double best[3] = {1e30, 1e30, 1e30}, cpu[3] = {1e30, 1e30, 1e30};
    for (int r = -1; r < reps; r++)
        for (int k = 0; k < 3; k++) {
            double c0 = cpu_now(), t0 = now();
            int rc = negs_loss_inbatch(l, b, 0, dim, u, v, lq, k ? items : NULL,
                                       k == 2 ? users : NULL, &loss, du, dv);
            double t = now() - t0, tc = cpu_now() - c0;
            if (rc) {
                fprintf(stderr, "negs_loss_inbatch: %s\n", negs_last_error());
                return 1;
            }
            if (r >= 0 && t < best[k]) best[k] = t;
            if (r >= 0 && tc < cpu[k]) cpu[k] = tc;
        }
    printf("%.6f %.6f %.6f %.1f %.6f %.6f\n", best[0], best[1], best[2],
           100.0 * (double)masked / ((double)b * (double)(b - 1)), cpu[0], cpu[2]);
    negs_loss_free(l);
    negs_csr_free(pos);
    return 0;
}

/* --- Indexed: tables of 10^5 users and 10^5 items (dim floats each), b user indices and
 * b + m item indices drawn uniformly; one side gathers the rows by hand, calls
 * negs_loss_inbatch and adds du, dv into the gradient tables (in row order), the other calls
 * negs_loss_inbatch_indexed. Both add into zeroed tables; best of REPS, interleaved, after a
 * warm-up. Prints "by_hand_s indexed_s". */
static void gather(float *dst, const float *tab, const uint32_t *idx, size_t n, size_t dim)
{
    for (size_t r = 0; r < n; r++) memcpy(dst + r * dim, tab + (size_t)idx[r] * dim, dim * 4);
}

static void scatter(float *tab, const uint32_t *idx, const float *g, size_t n, size_t dim)
{
    for (size_t r = 0; r < n; r++)
        for (size_t k = 0; k < dim; k++) tab[(size_t)idx[r] * dim + k] += g[r * dim + k];
}

static int indexed(size_t b, size_t m, size_t dim, int threads, int reps, int cosine)
{
    const uint32_t rows = 100000;
    size_t n = b + m, tsz = (size_t)rows * dim;
    float *ue = malloc(tsz * 4), *ie = malloc(tsz * 4), *gu = calloc(tsz, 4), *gi = calloc(tsz, 4);
    float *u = malloc(b * dim * 4), *v = malloc(n * dim * 4), *lq = malloc(n * 4);
    float *du = malloc(b * dim * 4), *dv = malloc(n * dim * 4), loss;
    uint32_t *ui = malloc(b * 4), *ii = malloc(n * 4);
    float sc = 1.0f / sqrtf((float)dim);
    for (size_t q = 0; q < tsz; q++) ue[q] = frand() * sc, ie[q] = frand() * sc;
    for (size_t i = 0; i < b; i++) ui[i] = (uint32_t)((frand() + 1.0f) / 2 * (rows - 1));
    for (size_t j = 0; j < n; j++) {
        ii[j] = (uint32_t)((frand() + 1.0f) / 2 * (rows - 1));
        lq[j] = -5.0f + frand();
    }
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 0.05);
    negs_loss_set_param(l, NEGS_LP_THREADS, threads);
    negs_loss_set_param(l, NEGS_LP_COSINE, cosine);
    double best[2] = {1e30, 1e30};
    for (int r = -1; r < reps; r++) {
        double t0 = now();
        gather(u, ue, ui, b, dim);
        gather(v, ie, ii, n, dim);
        int rc = negs_loss_inbatch(l, b, m, dim, u, v, lq, ii, NULL, &loss, du, dv);
        scatter(gu, ui, du, b, dim);
        scatter(gi, ii, dv, n, dim);
        double t1 = now();
        rc |= negs_loss_inbatch_indexed(l, b, m, dim, ue, rows, ie, rows, ui, ii, lq, &loss, gu,
                                        gi);
        double t2 = now();
        if (rc) {
            fprintf(stderr, "indexed: %s\n", negs_last_error());
            return 1;
        }
        if (r >= 0 && t1 - t0 < best[0]) best[0] = t1 - t0;
        if (r >= 0 && t2 - t1 < best[1]) best[1] = t2 - t1;
    }
    printf("%.6f %.6f\n", best[0], best[1]);
    negs_loss_free(l);
    return 0;
}

/* --- bf16 peak: 24 independent chains of vdpbf16ps per thread (latency 6 or less on current
 * cores), as fma_loop */
__attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl"))) static void *dp_loop(void *arg)
{
    float *out = arg;
    double c0 = thread_cpu();
    __m512 a[24];
    __m512bh x = (__m512bh)_mm512_set1_epi32(0x3f7f3f7f), y = (__m512bh)_mm512_set1_epi32(0x33803380);
    for (int i = 0; i < 24; i++) a[i] = _mm512_set1_ps((float)i);
    for (long it = 0; it < PEAK_ITERS / 4; it++) {
#pragma GCC unroll 24
        for (int i = 0; i < 24; i++) a[i] = _mm512_dpbf16_ps(a[i], x, y);
    }
    __m512 s = a[0];
    for (int i = 1; i < 24; i++) s = _mm512_add_ps(s, a[i]);
    out[0] = _mm512_reduce_add_ps(s);
    out[1] = (float)(thread_cpu() - c0);
    return NULL;
}

static int peak16(int threads)
{
    if (!__builtin_cpu_supports("avx512bf16") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl")) {
        printf("0 0\n");
        return 0;
    }
    if (threads < 1 || threads > 64) return 2;
    pthread_t th[64];
    float out[64][2];
    double best = 1e30, cpu_best[64];
    for (int i = 0; i < threads; i++) cpu_best[i] = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, dp_loop, out[i]);
        for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
        double t = now() - t0;
        if (t < best) best = t;
        for (int i = 0; i < threads; i++)
            if (out[i][1] < cpu_best[i]) cpu_best[i] = out[i][1];
    }
    double flops = PEAK_ITERS / 4 * 24.0 * 64.0, cpu_rate = 0;
    for (int i = 0; i < threads; i++) cpu_rate += flops / cpu_best[i];
    printf("%.1f %.1f\n", (double)threads * flops / best / 1e9, cpu_rate / 1e9);
    return 0;
}

/* --- bf16 against fp32 (case ... bf16): the same call on a second handle with
 * NEGS_PRECISION_BF16 (the path the library chooses), and where the CPU has both paths on a
 * third with the other one forced (NEGS_FORCE_BF16), all timed interleaved (best of REPS
 * after a warm-up each). Prints "fp32_s bf16_s bf16_gflops loss_rel du_rel dv_rel kernel
 * fp32_cpu_s bf16_cpu_s other_kernel other_s other_cpu_s": the bf16 result's difference from
 * fp32 (|loss' - loss| / |loss|, max |g' - g| / max |g|), the NEGS_BF16_KERNEL_* that ran,
 * each call's best process CPU time (all threads), and the other path's kernel and times
 * (-1 0 0 where there is none). */
static double max_rel(const float *a, const float *ref, size_t n)
{
    double mx = 1e-30, e = 0.0;
    for (size_t i = 0; i < n; i++) {
        mx = fmax(mx, fabs(ref[i]));
        e = fmax(e, fabs((double)a[i] - ref[i]));
    }
    return e / mx;
}

static int bf16_vs_fp32(negs_loss *l, size_t b, size_t m, size_t dim, const float *u,
                        const float *v, const float *lq, const uint32_t *items, int reps,
                        float *du, float *dv)
{
    size_t n = b + m;
    double threads;
    negs_loss_get_param(l, NEGS_LP_THREADS, &threads);
    negs_loss *h = negs_loss_create(NEGS_LOSS_SOFTMAX);
    negs_loss_set_param(h, NEGS_LP_TEMPERATURE, 0.05);
    negs_loss_set_param(h, NEGS_LP_THREADS, threads);
    if (getenv("BENCH_SCALAR")) negs_loss_set_param(h, NEGS_LP_FORCE_SCALAR, 1);
    negs_loss_set_param(h, NEGS_LP_PRECISION, NEGS_PRECISION_BF16);
    float loss, loss16, *du16 = malloc(b * dim * 4), *dv16 = malloc(n * dim * 4);
    double best[3] = {1e30, 1e30, 1e30}, cbest[3] = {1e30, 1e30, 1e30}, kernel = -1, other = -1;
    negs_loss_get_param(h, NEGS_LP_BF16_KERNEL, &kernel);
    /* the other path, forced (created with NEGS_FORCE_BF16 set, then the variable restored) */
    const char *was = getenv("NEGS_FORCE_BF16");
    char keep[64] = "";
    if (was) snprintf(keep, sizeof keep, "%s", was);
    setenv("NEGS_FORCE_BF16", kernel == NEGS_BF16_KERNEL_PORTABLE ? "native" : "portable", 1);
    negs_loss *o = negs_loss_create(NEGS_LOSS_SOFTMAX);
    if (was) setenv("NEGS_FORCE_BF16", keep, 1);
    else unsetenv("NEGS_FORCE_BF16");
    negs_loss_set_param(o, NEGS_LP_TEMPERATURE, 0.05);
    negs_loss_set_param(o, NEGS_LP_THREADS, threads);
    if (getenv("BENCH_SCALAR")) negs_loss_set_param(o, NEGS_LP_FORCE_SCALAR, 1);
    negs_loss_set_param(o, NEGS_LP_PRECISION, NEGS_PRECISION_BF16);
    negs_loss_get_param(o, NEGS_LP_BF16_KERNEL, &other);
    int calls = other != kernel ? 3 : 2; /* no other path: two calls */
    float losso, *duo = malloc(b * dim * 4), *dvo = malloc(n * dim * 4);
    for (int r = -1; r < (reps < 1 ? 1 : reps); r++)
        for (int k = 0; k < calls; k++) {
            double c0 = cpu_now(), t0 = now();
            int rc = k == 2 ? negs_loss_inbatch(o, b, m, dim, u, v, lq, items, NULL, &losso, duo,
                                                dvo)
                     : k ? negs_loss_inbatch(h, b, m, dim, u, v, lq, items, NULL, &loss16, du16,
                                             dv16)
                         : negs_loss_inbatch(l, b, m, dim, u, v, lq, items, NULL, &loss, du, dv);
            double t = now() - t0, tc = cpu_now() - c0;
            if (rc) {
                fprintf(stderr, "negs_loss_inbatch: %s\n", negs_last_error());
                return 1;
            }
            if (r >= 0 && t < best[k]) best[k] = t;
            if (r >= 0 && tc < cbest[k]) cbest[k] = tc;
        }
    double flops = 6.0 * (double)b * (double)n * (double)dim;
    printf("%.6f %.6f %.2f %.3g %.3g %.3g %d %.6f %.6f", best[0], best[1],
           flops / best[1] / 1e9, fabs((double)loss16 - loss) / fabs((double)loss),
           max_rel(du16, du, b * dim), max_rel(dv16, dv, n * dim), (int)kernel, cbest[0],
           cbest[1]);
    if (calls == 3) printf(" %d %.6f %.6f\n", (int)other, best[2], cbest[2]);
    else printf(" -1 0 0\n");
    negs_loss_free(o);
    free(duo), free(dvo);
    negs_loss_free(h);
    negs_loss_free(l);
    free(du16), free(dv16);
    return 0;
}

/* --- rates: what the library measured to choose the bf16 path (negs_bf16_rates, once per
 * process): "fma_gflops bf16_gflops choice", choice = the path a new handle takes
 * (avx512bf16 or portable; NEGS_FORCE_BF16 applies). */
static int rates(void)
{
    double fma, bf16;
    negs_bf16_rates(&fma, &bf16);
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    double kernel = -1;
    negs_loss_get_param(l, NEGS_LP_BF16_KERNEL, &kernel);
    negs_loss_free(l);
    printf("%.1f %.1f %s\n", fma, bf16,
           kernel == NEGS_BF16_KERNEL_AVX512BF16 ? "avx512bf16" : "portable");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 8 && !strcmp(argv[1], "indexed"))
        return indexed(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10),
                       strtoull(argv[4], NULL, 10), atoi(argv[5]), atoi(argv[6]),
                       atoi(argv[7]));
    if (argc >= 3 && !strcmp(argv[1], "peak")) return peak(atoi(argv[2]));
    if (argc >= 3 && !strcmp(argv[1], "peak16")) return peak16(atoi(argv[2]));
    if (argc >= 2 && !strcmp(argv[1], "rates")) return rates();
    if (argc >= 3 && !strcmp(argv[1], "bw")) return bandwidth(atoi(argv[2]));
    if (argc >= 7 && !strcmp(argv[1], "ml"))
        return ml(strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10), atoi(argv[4]),
                  atoi(argv[5]), argv[6]);
    if (argc < 6 || strcmp(argv[1], "case")) {
        fprintf(stderr, "usage: %s case B M DIM THREADS [REPS] | peak THREADS | bw THREADS\n", argv[0]);
        return 2;
    }
    size_t b = strtoull(argv[2], NULL, 10), m = strtoull(argv[3], NULL, 10);
    size_t dim = strtoull(argv[4], NULL, 10);
    int threads = atoi(argv[5]), reps = argc > 6 ? atoi(argv[6]) : 3;
    size_t n = b + m;
    float *u = malloc(b * dim * 4), *v = malloc(n * dim * 4), *lq = malloc(n * 4);
    float *du = malloc(b * dim * 4), *dv = malloc(n * dim * 4), loss;
    uint32_t *items = malloc(n * 4);
    inbatch_data(b, n, dim, u, v, items, lq);
    negs_loss *l = negs_loss_create(NEGS_LOSS_SOFTMAX);
    negs_loss_set_param(l, NEGS_LP_TEMPERATURE, 0.05);
    negs_loss_set_param(l, NEGS_LP_THREADS, threads);
    if (getenv("BENCH_SCALAR")) negs_loss_set_param(l, NEGS_LP_FORCE_SCALAR, 1);
    if (argc > 7 && !strcmp(argv[7], "bf16")) /* its own warm-ups, interleaved */
        return bf16_vs_fp32(l, b, m, dim, u, v, lq, items, reps, du, dv);
    if (argc > 7 && !strcmp(argv[7], "bf16-only"))
        negs_loss_set_param(l, NEGS_LP_PRECISION, NEGS_PRECISION_BF16);
    double c0 = cpu_now(), t0 = now();
    int rc = negs_loss_inbatch(l, b, m, dim, u, v, lq, items, NULL, &loss, du, dv); /* warm */
    double best = reps == 0 ? now() - t0 : 1e30;
    if (rc) {
        fprintf(stderr, "negs_loss_inbatch: %s\n", negs_last_error());
        return 1;
    }
    double cbest = reps == 0 ? cpu_now() - c0 : 1e30;
    for (int r = 0; r < reps; r++) {
        c0 = cpu_now();
        t0 = now();
        negs_loss_inbatch(l, b, m, dim, u, v, lq, items, NULL, &loss, du, dv);
        double t = now() - t0, tc = cpu_now() - c0;
        if (t < best) best = t;
        if (tc < cbest) cbest = tc;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double flops = 6.0 * (double)b * (double)n * (double)dim;
    printf("%.6f %.2f %.1f %.6g %.6f\n", best, flops / best / 1e9, ru.ru_maxrss / 1024.0, loss,
           cbest);
    negs_loss_free(l);
    return 0;
}
