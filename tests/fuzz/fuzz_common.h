/* Shared by the fuzz harnesses: a reader that turns the fuzzer's bytes into arguments, and the
 * invariant check. Each harness defines `int negs_fuzz_<name>(const uint8_t *, size_t)`; built
 * with -DNEGS_LIBFUZZER it also defines libFuzzer's entry point, otherwise tests/
 * test_fuzz_replay.c calls it on every file of tests/fuzz/corpus and tests/fuzz/repro. */
#ifndef NEGS_FUZZ_COMMON_H
#define NEGS_FUZZ_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "negsample.h"

/* The replay driver names the input it runs, for the message below. */
static const char *fz_input_name = "(libFuzzer input)";

/* A violated invariant is a crash, so that libFuzzer keeps the input as a reproducer. */
#define FUZZ_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "fuzz invariant failed on %s: %s (%s:%d); last error: %s\n",    \
                    fz_input_name, #cond, __FILE__, __LINE__, negs_last_error());          \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

/* A failing call must say why: a known status and a sentence that starts with its name. */
#define FUZZ_CHECK_FAILURE(st)                                                             \
    do {                                                                                   \
        int fz_st_ = (st);                                                                 \
        FUZZ_CHECK(fz_st_ < 0 && fz_st_ >= NEGS_E_UNSUPPORTED);                            \
        FUZZ_CHECK(strncmp(negs_last_error(), negs_status_name(fz_st_),                    \
                           strlen(negs_status_name(fz_st_))) == 0);                        \
    } while (0)

typedef struct fuzz_in {
    const uint8_t *p;
    size_t n;
} fuzz_in;

static inline uint8_t fz_u8(fuzz_in *in)
{
    if (in->n == 0) return 0;
    in->n--;
    return *in->p++;
}

static inline uint32_t fz_u32(fuzz_in *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v = v << 8 | fz_u8(in);
    return v;
}

static inline uint64_t fz_u64(fuzz_in *in)
{
    return (uint64_t)fz_u32(in) << 32 | fz_u32(in);
}

/* Small values are the interesting ones: below `lim` (lim > 0). */
static inline uint32_t fz_below(fuzz_in *in, uint32_t lim)
{
    return fz_u8(in) % lim;
}

/* A double that is often an edge: zeros of both signs, subnormals, huge, NaN, infinities. */
static inline double fz_double(fuzz_in *in)
{
    static const double edges[] = {0.0, -0.0, 1.0, -1.0, 0.5, 2.0, 1e-310, -1e-310, 1e-39,
                                   1e38, -1e38, 3e38, -3e38, 1e300, -1e300, 2.7e154, 88.0,
                                   -88.0, 1e-300, 0.75, 1e15, 1e16, 64.0, 3.0, 4.0};
    uint8_t sel = fz_u8(in);
    if (sel < 2 * (sizeof edges / sizeof edges[0])) return edges[sel % (sizeof edges / sizeof edges[0])];
    if (sel < 200) return (double)(int8_t)fz_u8(in) / 16.0;
    if (sel < 215) return NAN;
    if (sel < 230) return sel & 1 ? INFINITY : -INFINITY;
    uint64_t bits = fz_u64(in);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static inline float fz_float(fuzz_in *in)
{
    uint8_t sel = fz_u8(in);
    if (sel < 160) return (float)(int8_t)fz_u8(in) / 8.0f;
    if (sel < 240) return (float)fz_double(in); /* may overflow to inf: also an input */
    uint32_t bits = fz_u32(in);
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline int fz_all_finite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return 0;
    return 1;
}

#endif
