/* The measured bf16 rate of AMX tiles (tdpbf16ps), the unit an AMX in-batch kernel would run
 * on, for the bf16 section of run_inbatch.sh (the library has no AMX kernel yet: this tells
 * what one could reach on the CPU at hand).
 *   bench_amx_peak THREADS -> "wall cpu" in GFLOP/s as bench_inbatch peak: wall = by wall
 *     time, cpu = the sum of the threads' rates by their own CPU time; "0 0" where the CPU has
 *     no AMX-BF16 or Linux refuses the tile state (arch_prctl ARCH_REQ_XCOMP_PERM).
 * Each tdpbf16ps multiplies a 16 x 32 bf16 tile by a 32 x 16 one into 16 x 16 fp32 sums:
 * 16 * 16 * 32 * 2 = 16384 flops. Four accumulator tiles (2 x 2 blocking, all 8 tiles in use)
 * keep the unit busy whatever its latency. */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__linux__) && defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#define HAVE_AMX_BUILD 1
#endif

#define ITERS 2000000L /* 4 tdpbf16ps each: about 0.15 s at 900 GFLOP/s */
#define FLOPS (ITERS * 4.0 * 16384.0)
#define REPS 7

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double thread_cpu(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#ifdef HAVE_AMX_BUILD
static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* CPUID leaf 7: EDX bit 22 AMX-BF16, bit 24 AMX-TILE; the OS must enable XTILECFG and
 * XTILEDATA (XCR0 bits 17, 18), then grant this process the tile data (Linux 5.16+). */
static int amx_usable(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d >> 22 & 1u) || !(d >> 24 & 1u)) return 0;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c >> 27 & 1u)) return 0; /* OSXSAVE */
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo >> 17 & 3u) != 3u) return 0;
    return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
}

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

__attribute__((target("amx-tile,amx-bf16"))) static void *tile_loop(void *arg)
{
    float *out = arg;
    uint16_t in[16 * 32] __attribute__((aligned(64)));
    for (int i = 0; i < 16 * 32; i++) in[i] = (uint16_t)(0x3f80 + i % 7) /* 1.0 .. 1.05 */;
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.colsb[t] = 64;
        cfg.rows[t] = 16;
    }
    _tile_loadconfig(&cfg); /* per thread: the tile state is the thread's */
    _tile_loadd(4, in, 64);
    _tile_loadd(5, in, 64);
    _tile_loadd(6, in, 64);
    _tile_loadd(7, in, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    double c0 = thread_cpu();
    for (long it = 0; it < ITERS; it++) {
        _tile_dpbf16ps(0, 4, 5);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 6, 5);
        _tile_dpbf16ps(3, 6, 7);
    }
    out[1] = (float)(thread_cpu() - c0);
    float c[16 * 16] __attribute__((aligned(64)));
    _tile_stored(0, c, 64); /* the sums are used: the loop cannot be dropped */
    out[0] = c[0];
    _tile_release();
    return NULL;
}
#endif

int main(int argc, char **argv)
{
    int threads = argc >= 2 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "usage: %s THREADS (1..64)\n", argv[0]);
        return 2;
    }
#ifdef HAVE_AMX_BUILD
    if (!amx_usable()) {
        printf("0 0\n");
        return 0;
    }
    pthread_t th[64];
    float out[64][2];
    double best = 1e30, rate[REPS];
    for (int rep = 0; rep < REPS; rep++) { /* the first runs warm the unit up */
        double t0 = now();
        for (int i = 0; i < threads; i++) pthread_create(&th[i], NULL, tile_loop, out[i]);
        for (int i = 0; i < threads; i++) pthread_join(th[i], NULL);
        double t = now() - t0;
        if (t < best) best = t;
        rate[rep] = 0;
        for (int i = 0; i < threads; i++) rate[rep] += FLOPS / out[i][1];
    }
    /* by CPU time: the median run's, since a thread's CPU clock under 2 busy threads was seen
     * to read low now and then (rates above the 1-thread one times the threads) */
    qsort(rate, REPS, sizeof rate[0], by_value);
    printf("%.1f %.1f\n", (double)threads * FLOPS / best / 1e9, rate[REPS / 2] / 1e9);
#else
    printf("0 0\n");
#endif
    return 0;
}
