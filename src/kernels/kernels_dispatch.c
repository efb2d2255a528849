/* The dispatch tables: the best kernel tables for the instruction sets a handle detected. */
#include "core/cpu.h"
#include "kernels.h"
#include "kernels_bf16.h"

const negs_kernels *negs_kernels_select(unsigned isa)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (isa & NEGS_CPU_AVX512) return &negs_kernels_avx512;
    if (isa & NEGS_CPU_AVX2) return &negs_kernels_avx2;
#else
    (void)isa;
#endif
    return &negs_kernels_scalar;
}

const negs_bf16_kernels *negs_bf16_kernels_select(unsigned isa)
{
#if defined(__GNUC__) && defined(__x86_64__)
    if (isa & NEGS_CPU_AVX512BF16) return &negs_bf16_kernels_avx512bf16;
#else
    (void)isa;
#endif
    return NULL;
}
