/* CPU feature detection (GCC/Clang builtins check both the CPU and the OS's saved state). */
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#include <cpuid.h>
#endif

#include "cpu.h"

unsigned negs_cpu_features(void)
{
    unsigned f = 0;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) f |= NEGS_CPU_AVX2;
    if ((f & NEGS_CPU_AVX2) && __builtin_cpu_supports("avx512f") &&
        __builtin_cpu_supports("avx512dq"))
        f |= NEGS_CPU_AVX512;
    /* AVX512-BF16 is CPUID leaf 7 subleaf 1, EAX bit 5; the OS's zmm state is covered by the
     * AVX-512 F check above */
    unsigned a = 0, b = 0, c = 0, d = 0;
    if ((f & NEGS_CPU_AVX512) && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __get_cpuid_count(7, 1, &a, &b, &c, &d) &&
        (a >> 5 & 1u))
        f |= NEGS_CPU_AVX512BF16;
#endif
    const char *force = getenv("NEGS_FORCE_SCALAR");
    if (force && force[0] == '1') f = 0;
    /* A cap, so that one machine can run the suites on each kernel family a user's CPU may
     * pick: "avx512" drops AVX512-BF16, "avx2" drops AVX-512 too, "scalar" keeps nothing. */
    const char *cap = getenv("NEGS_FORCE_ISA");
    if (cap && strcmp(cap, "avx512") == 0) f &= NEGS_CPU_AVX2 | NEGS_CPU_AVX512;
    else if (cap && strcmp(cap, "avx2") == 0) f &= NEGS_CPU_AVX2;
    else if (cap && strcmp(cap, "scalar") == 0) f = 0;
    return f;
}
