/* CPU feature detection, done once per handle at creation. */
#ifndef NEGS_CORE_CPU_H
#define NEGS_CORE_CPU_H

#include <stddef.h>

#define NEGS_CPU_AVX2 1u    /* AVX2 and FMA usable (CPU and OS) */
#define NEGS_CPU_AVX512 2u  /* AVX-512 F usable (CPU and OS) */
/* AVX512-BF16 (vdpbf16ps) with AVX-512 F, BW and VL, for the in-batch bf16 products */
#define NEGS_CPU_AVX512BF16 4u

/* Bit set of NEGS_CPU_* for the running CPU. The environment variable NEGS_FORCE_SCALAR=1
 * (read at each call, i.e. at each handle creation) masks everything, for testing the
 * portable path on any machine. NEGS_FORCE_ISA caps the set instead: "avx512" (no
 * AVX512-BF16), "avx2" (no AVX-512), "scalar" (nothing); another value has no effect. */
unsigned negs_cpu_features(void);

/* The bytes of the data or unified cache of `level` (1, 2 or 3) one core sees (an L3 is the
 * whole cache shared by its cores), from CPUID, else sysconf; 0 when neither tells. */
size_t negs_cpu_cache_bytes(unsigned level);

#endif
