/* Internals of the fused in-batch softmax (negs_loss_inbatch): its workspace and the masks. */
#ifndef NEGS_LOSS_INBATCH_H
#define NEGS_LOSS_INBATCH_H

#include <stddef.h>
#include <stdint.h>

#include "loss_internal.h"

/* Block sizes. Fixed (never derived from the thread count), so every output element is
 * computed by the same operations whatever the number of threads. */
#define NEGS_IB_ROWS 48  /* row group sizes are multiples of this (so of every table's mr) */
#define NEGS_IB_COLS 128 /* columns per tile (a multiple of 32) */
#define NEGS_IB_MAX_THREADS 256 /* the pool's own limit */
/* Scheduling only (they change no result): the bytes of a row group's buffer (its rows of G,
 * b + m floats each) aimed at, its largest row count, and the bytes of v rows a du chunk keeps
 * in L2 (a quarter of Zen 4's). */
#define NEGS_IB_GROUP_BYTES (16384u * 1024u)
#define NEGS_IB_MAX_GROUP 480
#define NEGS_IB_L2_BYTES (256u * 1024u)

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
    float *bf16; /* NEGS_PRECISION_BF16: the rounded rows of u, then of v, then (native
                  * kernel) their bf16 layouts; 64-byte aligned */
    size_t bf16_cap; /* in 4-byte units */
    size_t l2_bytes; /* one core's L2, read at creation (the blocking's scheduling only) */
} negs_ib_ws;

/* Makes l->ws hold at least `block` bytes, `groups` group entries and `pool` mask words;
 * returns a status. */
int negs_ib_ws_reserve(negs_loss *l, size_t block, size_t groups, size_t pool);
/* Makes l->ws's item table cover `n_items` ids (all 0); returns a status. */
int negs_ib_ws_items(negs_loss *l, size_t n_items);
void negs_ib_ws_free(void *ws);
/* The L2 bytes one core has (from the CPU, or a fallback), making l->ws if needed; a status. */
int negs_ib_ws_caches(negs_loss *l, size_t *l2);

/* One call of the in-batch loss, whichever entry point it came from. The rows come either
 * gathered (u, v) or from the tables by index (user_emb[user_idx[i]], item_emb[item_idx[j]]);
 * gradients go to row buffers du, dv (either may be NULL) or, added, into the tables'
 * gradients d_user_emb, d_item_emb (indexed only; either may be NULL). */
typedef struct negs_ib_call {
    const char *fn; /* the public name, for the error sentences */
    size_t b, m, dim;
    const float *u, *v;
    const float *user_emb, *item_emb; /* NULL for a gathered call */
    uint32_t n_users, n_items;
    const uint32_t *user_idx, *item_idx;
    const float *logq;
    const uint32_t *item_ids, *user_ids;
    float *loss, *du, *dv;
    int to_tables; /* indexed: add into d_user_emb, d_item_emb instead of du, dv */
    float *d_user_emb, *d_item_emb;
} negs_ib_call;

/* Runs the call (checks, workspace, masks, both passes, cosine and scatter); a status. */
int negs_ib_run(negs_loss *l, const negs_ib_call *a);

/* inbatch_rows.c: the rows the passes read. Copies (indexed) and with cosine normalises the
 * n rows of one side into x (n x dim), their inverse norms into inv (cosine only); checks
 * every row is finite and, with cosine, of norm >= 1e-30. side names it ("u", "v", or for
 * indexed rows "user_emb" / "item_emb" with idx). src: gathered rows, or a table with idx. */
int negs_ib_rows(const char *fn, const char *side, const float *src, const uint32_t *idx,
                 size_t n, size_t dim, int cosine, float *x, double *inv);
/* The gradient through the normalisation, in place: g_r = (g_r - x_r (x_r . g_r)) inv_r. */
void negs_ib_unnormalise(float *g, const float *x, const double *inv, size_t n, size_t dim);
/* table[idx[r]] += g[r] for r = 0 .. n-1, in that order. */
void negs_ib_scatter(float *table, const uint32_t *idx, const float *g, size_t n, size_t dim);

/* inbatch_bf16.c: the NEGS_PRECISION_BF16 products. On the portable path the rows rounded to
 * bf16 (as float: its operands); with a native kernel their bf16 pair layouts instead: u's row
 * panels and row pairs, v's column panels (npad columns) and row pairs. */
typedef struct negs_ib_bf16 {
    const struct negs_bf16_kernels *hw; /* NULL: the portable path */
    size_t dim, kp;                     /* kp = (dim + 1) / 2 pairs per row */
    size_t n, ldg;                      /* columns; the group buffer's row length */
    const float *ru, *rv;               /* portable: the rounded rows (NULL: native) */
    void (*scale_round)(float *z, size_t n, float s); /* portable: G (negs_ib_bf16_round_g) */
    const uint32_t *upan, *vpan, *upair, *vpair;
} negs_ib_bf16;

/* Rounds the b rows of u and the n rows of v into the workspace (growing it): as floats, or
 * with the handle's native kernel packed as pairs (group buffers of rows of ldg);
 * NEGS_E_INVALID naming the entry when one rounds to Inf. */
int negs_ib_bf16_prepare(negs_loss *l, const char *fn, const float *u, size_t b, const float *v,
                         size_t n, size_t npad, size_t dim, size_t ldg, negs_ib_bf16 *bf);
/* Portable path: row i's G from its exponentials g (npad entries) and its tiles' rescales al,
 * rounded to bf16 in the same pass: g_c = round(e_c * (float)(w * al[c / 128])), the target
 * column i's entry round(tg) when set, else round(e_i * s + tg); the bits of negs_kernels.scale,
 * the target's sum, then negs_bf16_round_tile. */
void negs_ib_bf16_round_g(const negs_ib_bf16 *bf, float *g, const float *al, double w,
                          size_t i, float tg, int set, size_t npad);
/* Native kernel only: the scores of rows [i0, i0 + rn) (i0 a multiple of 48) against columns
 * [c0, c0 + cw) (c0 a multiple of 128, cw of 32) into s (ld lds). */
void negs_ib_bf16_scores(const negs_ib_bf16 *bf, size_t i0, size_t rn, size_t c0, size_t cw,
                         float *s, size_t lds);
/* Native kernel only: G's rows r, r + 1 of the group (rn = 2, r even; rn = 1 at an odd end:
 * the next row taken as 0, its storage in the buffer written) made from the group buffer g's
 * exponentials (rows of bf->ldg) times their tiles' factors (row r's at s[r * lds + tile]),
 * the target column g0 + r then + tg[k] (or tg[k] when set), rounded to bf16 and paired in
 * one pass, in place (negs_bf16_row_slot), for du (along the columns) and / or dv (across the
 * rows), npad columns. */
void negs_ib_bf16_pair_g(const negs_ib_bf16 *bf, float *g, size_t r, size_t rn,
                         const float *s, size_t lds, size_t g0, const float *tg, int set,
                         size_t npad, int du, int dv);
/* Native kernel only: du rows (du: the first) = their value + G's group rows [r0, r0 + rn)
 * (paired in place in g) times V, every column in order. */
void negs_ib_bf16_du(const negs_ib_bf16 *bf, const float *g, float *du, size_t r0, size_t rn);
/* Native kernel only: dv rows [j0, j0 + cn) += G^T U over the group's gn rows in order (the
 * group starting at row i0, even; its G paired in place in g). */
void negs_ib_bf16_dv(const negs_ib_bf16 *bf, const float *g, float *dv, size_t j0, size_t cn,
                     size_t i0, size_t gn);

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
    uint32_t *src;       /* b: the row whose stored mask row i reads (i, or the first row of
                          * i's user that stores the user's base; see inbatch_mask.c) */
    uint8_t *sflag;      /* b: how row i reads it (inbatch_mask.c) */
    size_t *moff;        /* b + 1: the mask row i reads starts at pool[moff[i]] (its own, or
                          * its src's); moff[b]: the pool words in all */
    uint32_t *pool;
    uint32_t *scratch;   /* parts * 8 words: per part, a byte per column (or a bit row) */
    size_t parts;
    size_t cut[NEGS_IB_MAX_THREADS + 1]; /* rows of part p: [cut[p], cut[p + 1]) */
} negs_ib_masks;

/* Builds every row's mask into the workspace of l (growing its data-sized buffers): groups
 * and the item table, then in parallel on l's pool each row's candidate groups, then each
 * stored row; a status. mk's per-row and per-column arrays are the caller's. */
int negs_ib_build(negs_loss *l, negs_ib_masks *mk);
/* Sorts the columns, forms the groups and fills itab, sorts the rows by user (into moff's
 * space); sets gptr (from upper bounds) and the parts of negs_ib_find (whole users), and
 * returns the glist entries needed. */
size_t negs_ib_groups(negs_ib_masks *mk);
/* Sets itab back to all 0 (after negs_ib_find). */
void negs_ib_clear_items(negs_ib_masks *mk);
/* Finds every row's candidate groups and masked-column count, and which rows share their
 * user's base (users split in mk->parts parts; part p may run on any thread). */
void negs_ib_find(negs_ib_masks *mk, size_t part);
/* Sets every row's masked-column count, moff and the form of its mask; returns the pool
 * words needed. */
size_t negs_ib_layout(negs_ib_masks *mk);
/* Writes the masks of part `part`'s rows into the pool. */
void negs_ib_fill(negs_ib_masks *mk, size_t part);
/* sflag bits: the row reads its user's base (SHARED); the base holds the row's own column,
 * which a read drops (CLEAR_OWN); the mask row read is a bit row, else a sorted list (BITS). */
#define NEGS_IB_SHARED 1u
#define NEGS_IB_CLEAR_OWN 2u
#define NEGS_IB_BITS 4u
/* negs_ib_tile_bits for a list row, or the tile of a base row that drops the row's column. */
const uint32_t *negs_ib_tile_slow(const negs_ib_masks *mk, size_t i, size_t c0, size_t cw,
                                  uint32_t *local);
/* Row i's mask bits for the columns [c0, c0 + cw) (c0 a multiple of 32, cw <= 128): a pointer
 * to them (word 0 = columns c0..c0+31), built in `local` (4 words) for list rows; NULL when
 * none of those columns is masked. Inline: the passes ask once per row and tile. */
static inline const uint32_t *negs_ib_tile_bits(const negs_ib_masks *mk, size_t i, size_t c0,
                                                size_t cw, uint32_t *local)
{
    if (!mk->hits[i]) return NULL;
    unsigned f = mk->sflag[i];
    if (!(f & NEGS_IB_BITS) || ((f & NEGS_IB_CLEAR_OWN) && i >= c0 && i < c0 + cw))
        return negs_ib_tile_slow(mk, i, c0, cw, local);
    const uint32_t *p = mk->pool + mk->moff[i] + c0 / 32;
    uint32_t any = 0;
    for (size_t w = 0, nw = (cw + 31) / 32; w < nw; w++) any |= p[w];
    return any ? p : NULL;
}

#endif
