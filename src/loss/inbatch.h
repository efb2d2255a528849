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

/* The workspace kept in negs_loss.ws: one 64-byte aligned block carved per call, plus two
 * buffers whose length depends on the data (the masks' candidate groups and their rows). All
 * only grow. */
typedef struct negs_ib_ws {
    unsigned char *block;
    size_t block_cap;
    uint32_t *groups;
    size_t groups_cap;
    uint32_t *pool;
    size_t pool_cap;
    uint64_t *itab; /* per item id of the positives table (see negs_ib_masks); 0 between calls */
    size_t itab_cap;
} negs_ib_ws;

/* Makes l->ws hold at least `block` bytes, `groups` group entries and `pool` mask words;
 * returns a status. */
int negs_ib_ws_reserve(negs_loss *l, size_t block, size_t groups, size_t pool);
/* Makes l->ws's item table cover `n_items` ids (all 0); returns a status. */
int negs_ib_ws_items(negs_loss *l, size_t n_items);
void negs_ib_ws_free(void *ws);

/* Accidental-hit, known-positive and no-candidate masks, built once per call.
 * Columns are grouped by item id (ord lists them sorted by (item id, column); a group is the
 * run ord[s..gend[s]) and gstart[j] is column j's run start), and a table indexed by item id
 * gives an item's group, so a row's known positives cost one load each. Each masked row is then
 * stored in whichever form is smaller: a sorted list of its masked columns, or a bit row of
 * `words` 32-bit words (bit c set: column c masked). Column i is never masked in row i. */
typedef struct negs_ib_masks {
    size_t b, n, words;  /* rows, columns, words per bit row (npad / 32) */
    const uint32_t *item_ids, *user_ids; /* user_ids NULL: no known-positive masking */
    const negs_csr *pos;
    uint32_t *ord;       /* n */
    uint32_t *tmp;       /* n: radix sort buffer, then the groups' starts */
    uint32_t *gstart;    /* n */
    uint32_t *gend;      /* n: per group start, its end */
    size_t n_groups;
    uint64_t *itab;      /* with user_ids: item id -> group size << 32 | (group start + 1);
                          * 0: not in the batch */
    size_t *gptr;        /* b + 1: row i's candidate groups live in glist[gptr[i] ..) */
    uint32_t *gcnt;      /* b: how many of them there are */
    uint32_t *glist;
    uint32_t *hits;      /* b: masked columns per row */
    size_t *moff;        /* b + 1: row i's mask words in pool[moff[i] .. moff[i + 1]) */
    uint32_t *pool;
    uint32_t *scratch;   /* parts * words: one bit row per part */
    size_t parts;
} negs_ib_masks;

/* Sorts the columns, forms the groups and fills itab; sets gptr (from upper bounds) and
 * returns the glist entries needed. */
size_t negs_ib_groups(negs_ib_masks *mk);
/* Sets itab back to all 0 (after negs_ib_find). */
void negs_ib_clear_items(negs_ib_masks *mk);
/* Finds every row's candidate groups and masked-column count (rows split in mk->parts parts;
 * part p may run on any thread). */
void negs_ib_find(negs_ib_masks *mk, size_t part);
/* Sets moff from hits; returns the pool words needed. */
size_t negs_ib_layout(negs_ib_masks *mk);
/* Writes the masks of part `part`'s rows into the pool. */
void negs_ib_fill(negs_ib_masks *mk, size_t part);
/* Row i's mask bits for the columns [c0, c0 + cw) (c0 a multiple of 32, cw <= 128): a pointer
 * to them (word 0 = columns c0..c0+31), built in `local` (4 words) for list rows; NULL when
 * none of those columns is masked. */
const uint32_t *negs_ib_tile_bits(const negs_ib_masks *mk, size_t i, size_t c0, size_t cw,
                                  uint32_t *local);

#endif
