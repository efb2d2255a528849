/* The portable score-level loss kernel (NEGS_LP_FORCE_SCALAR = 1, or a CPU without AVX2):
 * plain C for the baseline instruction set. With GCC the loops are still vectorised for what
 * the baseline offers (SSE2 on x86-64, NEON on AArch64); that changes no result, since the
 * compiler may neither reassociate nor contract here. */
#if defined(__GNUC__) && !defined(__clang__)
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#pragma GCC optimize("O3", "no-trapping-math")
#endif
#define NEGS_SC_PART_FN negs_scores_part_scalar
#include "loss/scores_body.h"
