/* The score-level loss kernel compiled for AVX-512 (same source and arithmetic as the portable
 * one; only the vector width differs). GCC on x86-64 only; elsewhere this is the portable
 * kernel under another name. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512bw,avx512dq,avx2,fma")
#pragma GCC optimize("O3", "no-trapping-math")
#define NEGS_SC_FMA 1
#define NEGS_SC_PART_FN negs_scores_part_avx512
#include "loss/scores_body.h"
#pragma GCC pop_options
#else
#include "loss/scores.h"
void negs_scores_part_avx512(struct negs_scores_job *job, size_t part)
{
    negs_scores_part_scalar(job, part);
}
#endif
