/* Masks of the in-batch softmax. Per call: the columns are grouped by item id (a stable radix
 * sort) and a table indexed by item id takes an item to its group; a row's masked groups are
 * its own item's (when duplicated) and one load per known positive of its user. The row's
 * masked columns are then stored as a sorted list or as a bit row, whichever is smaller, so
 * applying them to a tile costs O(1) plus its hits, and the work grows with the positives
 * that land in the batch, never with b x (b + m) lookups. Nothing here allocates. */
#include <string.h>

#include "core/csr.h"
#include "inbatch.h"

/* How many of user u's known positives can hit a group: its row length, or the number of
 * groups when that is smaller. */
static size_t bound(const negs_ib_masks *mk, size_t i)
{
    if (!mk->user_ids) return 1;
    uint64_t len;
    negs_csr_row(mk->pos, mk->user_ids[i], &len);
    return 1 + (len < mk->n_groups ? (size_t)len : mk->n_groups);
}

size_t negs_ib_groups(negs_ib_masks *mk)
{
    size_t n = mk->n;
    const uint32_t *id = mk->item_ids;
    uint32_t *a = mk->ord, *t = mk->tmp;
    for (size_t j = 0; j < n; j++) a[j] = (uint32_t)j;
    /* LSD radix sort on the item id, 8 bits per pass; stable, so columns stay ascending
     * within a group. Four passes: the result ends in `a` again. */
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t j = 0; j < n; j++) count[((id[a[j]] >> shift) & 255u) + 1]++;
        for (size_t d = 0; d < 256; d++) count[d + 1] += count[d];
        for (size_t j = 0; j < n; j++) t[count[(id[a[j]] >> shift) & 255u]++] = a[j];
        uint32_t *s = a;
        a = t;
        t = s;
    }
    size_t ng = 0;
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && id[a[e]] == id[a[s]]) e++;
        for (size_t k = s; k < e; k++) mk->gstart[a[k]] = (uint32_t)s;
        mk->gend[s] = (uint32_t)e;
        mk->tmp[ng++] = (uint32_t)s;
        if (mk->user_ids) mk->itab[id[a[s]]] = (uint64_t)(e - s) << 32 | (uint64_t)(s + 1);
        s = e;
    }
    mk->n_groups = ng;
    mk->gptr[0] = 0;
    for (size_t i = 0; i < mk->b; i++) mk->gptr[i + 1] = mk->gptr[i] + bound(mk, i);
    return mk->gptr[mk->b];
}

void negs_ib_clear_items(negs_ib_masks *mk)
{
    for (size_t g = 0; g < mk->n_groups; g++) mk->itab[mk->item_ids[mk->ord[mk->tmp[g]]]] = 0;
}

static size_t part_begin(const negs_ib_masks *mk, size_t part)
{
    return mk->b * part / mk->parts;
}

void negs_ib_find(negs_ib_masks *mk, size_t part)
{
    const uint32_t *id = mk->item_ids;
    for (size_t i = part_begin(mk, part); i < part_begin(mk, part + 1); i++) {
        uint32_t *out = mk->glist + mk->gptr[i], own = mk->gstart[i], cnt = 0;
        size_t hits = mk->gend[own] - own - 1; /* accidental hits */
        if (hits) out[cnt++] = own;
        if (mk->user_ids) {
            uint64_t len;
            const uint32_t *row = negs_csr_row(mk->pos, mk->user_ids[i], &len);
            if (len <= 4 * (uint64_t)mk->n_groups) {
                for (uint64_t q = 0; q < len; q++) { /* one load per known positive */
                    /* without branches: whether a positive is in the batch is a coin toss */
                    uint64_t e = mk->itab[row[q]];
                    uint32_t g = (uint32_t)e - 1, ok = (e != 0) & (g != own);
                    out[cnt] = g;
                    cnt += ok;
                    hits += ok * (e >> 32);
                }
            } else {
                for (size_t q = 0; q < mk->n_groups; q++) { /* the user's many positives */
                    uint32_t g = mk->tmp[q];
                    if (g == own || !negs_sorted_contains(row, len, id[mk->ord[g]])) continue;
                    out[cnt++] = g;
                    hits += mk->gend[g] - g;
                }
            }
        }
        mk->gcnt[i] = cnt;
        mk->hits[i] = (uint32_t)hits;
    }
}

/* A row with at least `words` masked columns is a bit row; shorter ones are lists. */
static int is_bits(const negs_ib_masks *mk, size_t i)
{
    return mk->hits[i] >= mk->words;
}

size_t negs_ib_layout(negs_ib_masks *mk)
{
    mk->moff[0] = 0;
    for (size_t i = 0; i < mk->b; i++)
        mk->moff[i + 1] = mk->moff[i] + (is_bits(mk, i) ? mk->words : mk->hits[i]);
    return mk->moff[mk->b];
}

/* Sets the bits of row i's masked columns in `bits` (zeroed, words long). Column i only sits
 * in its own group, so its bit is set with that group's and cleared at the end. */
static void set_bits(const negs_ib_masks *mk, size_t i, uint32_t *restrict bits)
{
    const uint32_t *restrict g = mk->glist + mk->gptr[i], *restrict ord = mk->ord;
    const uint32_t *restrict gend = mk->gend;
    for (uint32_t q = 0, nq = mk->gcnt[i]; q < nq; q++) {
        uint32_t k = g[q], e = gend[k], c = ord[k];
        bits[c >> 5] |= 1u << (c & 31); /* a group has one column or more: most have one */
        for (k++; k < e; k++) bits[ord[k] >> 5] |= 1u << (ord[k] & 31);
    }
    bits[i >> 5] &= ~(1u << (i & 31));
}

/* As set_bits for a bit row, through a byte per column (plain stores, where setting bits one
 * by one is a chain of read-modify-writes on a few words), packed 8 bytes at a time: the
 * multiply moves byte k's 0/1 to bit 56 + k. `bytes` (npad, all 0) is left all 0. */
static void set_bytes(const negs_ib_masks *mk, size_t i, unsigned char *restrict bytes,
                      uint32_t *restrict bits)
{
    const uint32_t *restrict g = mk->glist + mk->gptr[i], *restrict ord = mk->ord;
    const uint32_t *restrict gend = mk->gend;
    for (uint32_t q = 0, nq = mk->gcnt[i]; q < nq; q++) {
        /* most groups hold 1 to 4 columns: store 4 without a branch (repeating the last one
         * is harmless), loop only over the rest, so group sizes cost no mispredictions */
        uint32_t k = g[q], e = gend[k], last = e - 1;
        bytes[ord[k]] = 1;
        bytes[ord[k + 1 < last ? k + 1 : last]] = 1;
        bytes[ord[k + 2 < last ? k + 2 : last]] = 1;
        bytes[ord[k + 3 < last ? k + 3 : last]] = 1;
        for (k += 4; k < e; k++) bytes[ord[k]] = 1;
    }
    bytes[i] = 0;
    for (size_t w = 0; w < mk->words; w++) {
        uint32_t x = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        for (unsigned h = 0; h < 4; h++) {
            uint64_t v; /* byte k of v is column 32 w + 8 h + k */
            memcpy(&v, bytes + 32 * w + 8 * h, 8);
            x |= (uint32_t)((v * 0x0102040810204080ull) >> 56) << (8 * h);
        }
#else
        for (unsigned q = 0; q < 32; q++) x |= (uint32_t)bytes[32 * w + q] << q;
#endif
        bits[w] = x;
    }
    memset(bytes, 0, mk->words * 32);
}

void negs_ib_fill(negs_ib_masks *mk, size_t part)
{
    uint32_t *scratch = mk->scratch + part * mk->words * 8; /* npad bytes per part */
    for (size_t i = part_begin(mk, part); i < part_begin(mk, part + 1); i++) {
        if (!mk->hits[i]) continue; /* before the pointer: the pool is NULL with no hits */
        uint32_t *dst = mk->pool + mk->moff[i];
        if (is_bits(mk, i)) {
            set_bytes(mk, i, (unsigned char *)scratch, dst);
            continue;
        }
        /* a list: the bits give the columns in order; the scan clears the scratch again */
        set_bits(mk, i, scratch);
        size_t cnt = 0;
        for (size_t w = 0; cnt < mk->hits[i]; w++)
            for (uint32_t x = scratch[w]; x; x &= x - 1)
                dst[cnt++] = (uint32_t)(w * 32 + (size_t)__builtin_ctz(x));
        memset(scratch, 0, mk->words * sizeof *scratch);
    }
}

const uint32_t *negs_ib_tile_bits(const negs_ib_masks *mk, size_t i, size_t c0, size_t cw,
                                  uint32_t *local)
{
    uint32_t h = mk->hits[i];
    if (!h) return NULL;
    const uint32_t *p = mk->pool + mk->moff[i];
    size_t nw = (cw + 31) / 32;
    if (is_bits(mk, i)) {
        p += c0 / 32;
        for (size_t w = 0; w < nw; w++)
            if (p[w]) return p;
        return NULL;
    }
    size_t lo = 0, hi = h;
    while (lo < hi) { /* the first masked column >= c0 */
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid] < c0) lo = mid + 1;
        else hi = mid;
    }
    if (lo == h || p[lo] >= c0 + cw) return NULL;
    memset(local, 0, 4 * sizeof *local);
    for (; lo < h && p[lo] < c0 + cw; lo++) local[(p[lo] - c0) >> 5] |= 1u << ((p[lo] - c0) & 31);
    return local;
}
