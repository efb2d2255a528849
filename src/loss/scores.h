/* Score-level losses (negs_loss_scores): the job shared by the public entry point and the
 * per-instruction-set kernels. One kernel source (scores_body.h) is compiled once per
 * instruction set; every variant does the same arithmetic in the same order. */
#ifndef NEGS_LOSS_SCORES_H
#define NEGS_LOSS_SCORES_H

#include <stddef.h>
#include <stdint.h>

/* Elements per tile: a tile holds whole rows when k <= this, else one row is walked in
 * segments of this size. Small enough that a tile's scratch stays in L1. */
#define NEGS_SC_TILE 1024

/* Upper bound on the parts a call is split into (the per-part results live on the stack). */
#define NEGS_SC_MAX_PARTS 256

/* Reported by a part whose rows are all valid. */
#define NEGS_SC_NO_BAD ((size_t)-1)

struct negs_scores_job {
    int kind;                 /* NEGS_LOSS_* */
    size_t n;
    uint32_t k;
    const float *pos;         /* n */
    const float *neg;         /* n*k */
    const float *logq;        /* n*k or NULL */
    const uint8_t *mask;      /* n*k or NULL; nonzero = masked */
    float *loss_rows;         /* n with NEGS_REDUCE_NONE, else NULL */
    float *d_pos;             /* n or NULL */
    float *d_neg;             /* n*k or NULL */
    float inv_t;              /* 1 / temperature */
    float gscale;             /* inv_t, times 1/n with NEGS_REDUCE_MEAN */
    float margin;             /* hinge */
    size_t rows_per_part;     /* depends on n and k only, never on the thread count */
    double part_loss[NEGS_SC_MAX_PARTS];  /* sum of the part's row losses */
    size_t part_bad[NEGS_SC_MAX_PARTS];   /* first row of the tile that failed, or NO_BAD */
    void (*kernel)(struct negs_scores_job *job, size_t part);
};

/* Computes part `part` of the job: rows [part*rows_per_part, ...). */
void negs_scores_part_scalar(struct negs_scores_job *job, size_t part);
void negs_scores_part_avx2(struct negs_scores_job *job, size_t part);
void negs_scores_part_avx512(struct negs_scores_job *job, size_t part);

/* negs_loss_scores after its argument checks (n, k >= 1, n * k fits size_t, pos, neg and
 * loss non-NULL): validates the handle's parameters and runs the job. `fn` names the public
 * function in failure sentences. Shared with the indexed variants. */
struct negs_loss;
int negs_scores_exec(struct negs_loss *l, const char *fn, size_t n, uint32_t k,
                     const float *pos, const float *neg, const float *neg_logq,
                     const uint8_t *neg_mask, float *loss, float *d_pos, float *d_neg);
/* The same job for a SOFTMAX handle with tau+ > 0: the debiased loss (scores_debias.c). */
int negs_scores_debias(struct negs_loss *l, const char *fn, size_t n, uint32_t k,
                       const float *pos, const float *neg, const float *neg_logq,
                       const uint8_t *neg_mask, float *loss, float *d_pos, float *d_neg);

#endif
