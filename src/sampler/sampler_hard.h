/* HARD samplers and curricula: the selection workspace, the selection of one row, and the
 * entry points that sampler_handle.c and sampler_sample.c delegate to. */
#ifndef NEGS_SAMPLER_HARD_H
#define NEGS_SAMPLER_HARD_H

#include "kernels/kernels.h"
#include "sampler_internal.h"

/* Selection streams: a HARD sampler's own, and child c's inside a curriculum mixture. */
#define SP_PURPOSE_SELECT 0x5501u
#define SP_PURPOSE_SELECT_CHILD 0x5510u

/* One part's workspace, `cap` = NEGS_SP_CANDIDATES entries each. */
typedef struct sp_hard_part {
    uint32_t *items;   /* 2 cap: this row's and the next row's candidates (sample_scored) */
    float *scores;     /* their scores (sample_scored) */
    uint64_t *keys;    /* selection keys, 0 = out of the race */
    uint32_t *k32;     /* TOP and DNS_MN: the scores' keys (kernels' float_keys) */
    uint32_t *sel;     /* selected positions, best first */
    double *e;         /* SOFTMAX: exp((s - max) / T) */
    uint32_t *picked;  /* a curriculum's selected items and their log q */
    float *picked_lq;
    uint64_t fallback; /* rows of the last call that fell back (SEMIHARD) */
} sp_hard_part;

typedef struct sp_hard {
    const negs_kernels *kn; /* the dot products of sample_scored */
    sp_hard_part *part;
    unsigned parts;
    uint32_t cap;
    uint64_t fallback_rows; /* NEGS_SP_FALLBACK_ROWS */
} sp_hard;

/* How a row's selection ended, beyond its status. */
typedef struct sp_sel_info {
    uint32_t bad;      /* INVALID: the candidate with a non-finite score or an id out of range,
                        * or n when the AHNS target is not finite */
    uint32_t distinct; /* EXHAUSTED: the distinct candidates found */
    int fell;          /* SEMIHARD: fewer than k candidates in the window */
} sp_sel_info;

/* Selects k of the n candidates (items, scores) of one row by h's mode into out (ids) and
 * logq (may be NULL), with pos the positive's score where the mode needs it and the random
 * choices keyed by (seed, step, row, purpose). Returns NEGS_OK, NEGS_E_INVALID or
 * NEGS_E_EXHAUSTED (detail in info). n <= w's capacity, k <= n. */
int sp_hard_select_row(const negs_sampler *h, sp_hard_part *w, uint64_t seed, uint64_t step,
                       uint64_t row, uint32_t purpose, uint32_t n, const uint32_t *items,
                       const float *scores, float pos, uint32_t k, uint32_t *out, float *logq,
                       sp_sel_info *info);
/* The mode needs each row's positive score. */
int sp_hard_needs_pos(const negs_sampler *h);

/* sampler_hard_call.c: shared by select and sample_scored. */
typedef struct sp_part_err {
    int status;
    size_t row;
    sp_sel_info info;
    float pos;                 /* the row's positive score */
    const negs_sampler *h;     /* the HARD sampler that selected */
    int no_draw;               /* the row had no eligible candidate to draw */
    const uint32_t *items;     /* the row's candidates and their scores */
    const float *scores;
} sp_part_err;
const char *sp_hard_mode_name(int mode);
/* INVALID unless h is a HARD sampler of its own (not a mixture's child). */
int sp_hard_check_handle(const negs_sampler *h, const char *fn);
/* The mode's requirements: the positive's score, k <= M <= n_cand for DNS_MN. */
int sp_hard_check_mode(const negs_sampler *h, const char *fn, uint32_t k, uint32_t n_cand,
                       int has_pos, const char *pos_what);
/* The sentence for a failed row (scored: candidates drawn and scored by sample_scored). */
int sp_hard_report(const char *fn, const sp_part_err *e, uint32_t n_cand, uint32_t k, int scored);
/* Sums the parts' fallback counts into NEGS_SP_FALLBACK_ROWS; returns it. */
uint64_t sp_hard_collect(sp_hard *hd, unsigned parts);

/* sampler_hard.c: workspace for `parts` parts of s and of its children (HARD ones); NEGS_OK
 * or NEGS_E_NOMEM. */
int sp_hard_prepare(negs_sampler *s, unsigned parts);
void sp_hard_free(negs_sampler *s);
/* negs_sampler_add with a HARD parent (the generic checks done). */
int sp_hard_add(negs_sampler *hard, negs_sampler *child);
/* Parameters 10..14 (and UNSUPPORTED for any other id). */
int sp_hard_set_param(negs_sampler *s, int param, double value, const char *fn);
int sp_hard_get_param(const negs_sampler *s, int param, double *value, const char *fn);
/* negs_sampler_sample on a HARD sampler (generic argument checks done). */
int sp_hard_sample(negs_sampler *s, uint64_t step, size_t n_rows, const uint32_t *users,
                   const uint32_t *positives, uint32_t k, uint32_t *out_items, float *out_logq);
/* c candidates of one row from a HARD sampler's child, keyed by seed. */
int sp_hard_draw_row(const negs_sampler *h, const double *shares, unsigned part, uint64_t seed,
                     uint64_t step, uint64_t row, int has_user, uint32_t user, int has_pos,
                     uint32_t pos, uint32_t *out, float *logq);

#endif
