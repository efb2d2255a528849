/* CPU feature detection (GCC/Clang builtins check both the CPU and the OS's saved state). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
/* The size in bytes of the unified or data cache of `level` from CPUID's deterministic cache
 * parameters (leaf 4 on Intel, 0x8000001D on AMD: ways x partitions x line x sets), 0 when
 * the leaf is missing. Leaf 0x80000006, which glibc's sysconf reads on AMD, can describe the
 * host's caches rather than the ones a virtual machine's core sees. */
static size_t cpuid_cache(unsigned leaf, unsigned level)
{
    unsigned a, b, c, d;
    if (__get_cpuid_max(leaf & 0x80000000u, NULL) < leaf) return 0;
    for (unsigned i = 0; i < 16; i++) {
        __cpuid_count(leaf, i, a, b, c, d);
        unsigned type = a & 31u;
        if (type == 0) break;
        if ((type == 1 || type == 3) && (a >> 5 & 7u) == level)
            return (size_t)((b >> 22) + 1) * (((b >> 12) & 0x3ffu) + 1) * ((b & 0xfffu) + 1) *
                   ((size_t)c + 1);
    }
    return 0;
}
#endif

size_t negs_cpu_cache_bytes(unsigned level)
{
    size_t bytes = 0;
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
    bytes = cpuid_cache(0x8000001Du, level);
    if (!bytes) bytes = cpuid_cache(4u, level);
#endif
#if defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    if (!bytes && (level == 2 || level == 3)) {
        long v = sysconf(level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
        if (v > 0) bytes = (size_t)v;
    }
#endif
    return bytes;
}
