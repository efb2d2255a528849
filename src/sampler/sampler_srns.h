/* SRNS samplers (Ding et al. NeurIPS 2020): the per-user memory of S items with their last W
 * recorded scores, the per-part workspace, and the entry points sampler_handle.c delegates to.
 *
 * Memory layout, user u, slot j (0 <= j < S): ids[u S + j] is the item, cnt[u S + j] how many
 * scores it has recorded, record t (0-based) at rec[(u S + j) W + t % W]; init[u] = 0 until
 * the user's first refresh. stamp / first find each user's first row of a select call. */
#ifndef NEGS_SAMPLER_SRNS_H
#define NEGS_SAMPLER_SRNS_H

#include "sampler_internal.h"

/* Stream purposes of an SRNS row. */
#define SP_PURPOSE_SRNS_DRAW 0x5701u /* the child's fresh candidates (plain child) */
#define SP_PURPOSE_SRNS_KEEP 0x5702u /* the Gumbel keys of the memory refresh */

typedef struct sp_srns_part {
    double *key;     /* n = S + R: selection / keep keys */
    float *p;        /* n: this call's record sigmoid(score - pos) per candidate */
    uint32_t *sel;   /* n: picked positions, best first */
    uint32_t *plain; /* S: the plain top-score picks */
    uint32_t *ids, *cnt; /* S: the refreshed memory being built */
    float *rec;      /* S W */
    uint64_t passed;
} sp_srns_part;

typedef struct sp_srns {
    /* parameters */
    uint32_t S, R, W;
    double alpha, warmup, temp;
    /* the memory, of the shape (mS, mR, mW) it was prepared with; NULL before prepare */
    uint32_t n_users, mS, mR, mW;
    uint32_t *ids, *cnt;
    float *rec;
    uint8_t *init;
    uint64_t *stamp, calls;
    size_t *first;
    /* one workspace per part of a call, of the memory's shape */
    sp_srns_part *part;
    unsigned parts;
    uint64_t passed; /* NEGS_SP_SRNS_PASSED */
} sp_srns;

/* sampler_srns.c */
int sp_srns_create(negs_sampler *s);
void sp_srns_free(negs_sampler *s);
/* Workspaces for `parts` parts once the memory exists; NEGS_OK or NEGS_E_NOMEM. */
int sp_srns_parts(negs_sampler *s, unsigned parts);
int sp_srns_add(negs_sampler *srns, negs_sampler *child);
/* Parameters 30..37: NEGS_E_UNSUPPORTED for other ids (the caller tries the next family). */
int sp_srns_set_param(negs_sampler *s, int param, double value, const char *fn);
int sp_srns_get_param(const negs_sampler *s, int param, double *value, const char *fn);
int sp_srns_is_param(int param);

#endif
