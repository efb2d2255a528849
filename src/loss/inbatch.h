/* Internals of the fused in-batch softmax (negs_loss_inbatch): its workspace and the masks. */
#ifndef NEGS_LOSS_INBATCH_H
#define NEGS_LOSS_INBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "loss_internal.h"

/* Block sizes. Fixed (never derived from the thread count), so every output element is
 * computed by the same operations whatever the number of threads. */
#define NEGS_IB_ROWS 48  /* rows per row block (a multiple of every table's mr) */
#define NEGS_IB_COLS 128 /* columns per tile / column block (a multiple of 32) */
#define NEGS_IB_MAX_THREADS 256 /* the pool's own limit */
/* Scheduling only (they change no result): at most this many blocks per part, and the bytes
 * of u or v rows a part keeps hot while its blocks share them (about a third of Zen 4's L2). */
#define NEGS_IB_GROUP 4
#define NEGS_IB_L2_BYTES (384u * 1024u)

/* The workspace kept in negs_loss.ws: one 64-byte aligned block carved per call, plus the
 * mask group list, whose length depends on the data. Both only grow. */
typedef struct negs_ib_ws {
    unsigned char *block;
    size_t block_cap;
    uint32_t *groups;
    size_t groups_cap;
} negs_ib_ws;

/* Makes l->ws hold at least `block` bytes and `groups` group entries; returns a status. */
int negs_ib_ws_reserve(negs_loss *l, size_t block, size_t groups);
void negs_ib_ws_free(void *ws);

/* Accidental-hit and known-positive masks, as groups of columns sharing an item id.
 * ord lists the columns sorted by (item id, column); a group is a run ord[s..gend[s]).
 * Row i masks the columns of the groups glist[rowptr[i] .. rowptr[i+1]) except column i. */
typedef struct negs_ib_masks {
    size_t n;         /* columns */
    uint32_t *ord;    /* n */
    uint32_t *tmp;    /* n: radix sort buffer, then the run starts */
    uint32_t *gstart; /* n: per column, the start of its group in ord */
    uint32_t *gend;   /* n: per group start, its end */
    size_t *rowptr;   /* b + 1 */
    uint32_t *glist;  /* rowptr[b] entries */
} negs_ib_masks;

/* Sorts the columns and forms the groups (ord, tmp, gstart, gend must be set). Returns the
 * number of distinct item ids; tmp[0..that) then holds each group's start. */
size_t negs_ib_groups(negs_ib_masks *mk, const uint32_t *item_ids);
/* Counts (glist NULL) or writes row i's masked groups; returns their number. user_ids and
 * pos may be NULL (no known-positive masking). */
size_t negs_ib_row_groups(const negs_ib_masks *mk, size_t n_groups, const uint32_t *item_ids,
                          const uint32_t *user_ids, const negs_csr *pos, size_t i,
                          uint32_t *out);
/* Sets z[c - c0] = -inf for row i's masked columns c in [c0, c1); returns how many. */
size_t negs_ib_apply(const negs_ib_masks *mk, size_t i, size_t c0, size_t c1, float *z);

#endif
