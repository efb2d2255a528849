/* The portable score-level loss kernel (NEGS_LP_FORCE_SCALAR = 1, or a CPU without AVX2). */
#define NEGS_SC_PART_FN negs_scores_part_scalar
#include "loss/scores_body.h"
