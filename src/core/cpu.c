/* CPU feature detection (GCC/Clang builtins check both the CPU and the OS's saved state). */
#include <stdlib.h>

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
#endif
    const char *force = getenv("NEGS_FORCE_SCALAR");
    if (force && force[0] == '1') f = 0;
    return f;
}
