/* Masks of the in-batch softmax. Per call: the columns are grouped by item id (a stable radix
 * sort) and a table indexed by item id takes an item to its group; a row's masked groups are
 * its own item's (when duplicated) and one load per known positive of its user. The row's
 * masked columns are then stored as a sorted list or as a bit row, whichever is smaller, so
 * applying them to a tile costs O(1) plus its hits, and the work grows with the positives
 * that land in the batch, never with b x (b + m) lookups.
 * Rows of one user share one stored row, their user's base: every column whose item is one
 * of the user's known positives. A row whose own item is a known positive of its user, or
 * has no duplicate in the batch, masks exactly the base less its own column (removed when a
 * tile is read), so a user's mask is found and written once however many rows it has (rows are
 * grouped by a stable radix sort on the user id). The other rows keep a row of their own.
 * Nothing here allocates. */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "core/cpu.h"
#include "core/csr.h"
#include "core/pool.h"
#include "inbatch.h"
#include "inbatch_mask_simd.h"

/* Row i's glist slots: its own group, the groups its user's known positives can hit (its row
 * length, or the number of groups when that is smaller), and one spare for the branch-free
 * store past the last hit. */
static size_t bound(const negs_ib_masks *mk, size_t i)
{
    if (!mk->user_ids) return 1;
    uint64_t len;
    negs_csr_row(mk->pos, mk->user_ids[i], &len);
    return 2 + (len < mk->n_groups ? (size_t)len : mk->n_groups);
}

#define SHARED NEGS_IB_SHARED
#define CLEAR_OWN NEGS_IB_CLEAR_OWN
#define BITS NEGS_IB_BITS

/* Splits the rows into mk->parts parts of about equal work (1 + work(mk, i) for row i); the
 * part a row falls in changes nothing it computes. */
static void cut_parts(negs_ib_masks *mk, size_t (*work)(const negs_ib_masks *, size_t))
{
    size_t b = mk->b, total = 0, acc = 0, p = 1;
    for (size_t i = 0; i < b; i++) total += 1 + work(mk, i);
    mk->cut[0] = 0;
    for (size_t i = 0; i < b && p < mk->parts; i++) {
        while (p < mk->parts && acc >= total * p / mk->parts) mk->cut[p++] = i;
        acc += 1 + work(mk, i);
    }
    while (p < mk->parts) mk->cut[p++] = b;
    mk->cut[mk->parts] = b;
}

/* Stable LSD radix sort of the rows by user id into a (t the other buffer, b entries each);
 * returns the buffer that holds the order. Passes stop at the largest id's top byte. */
static uint32_t *rows_by_user(const negs_ib_masks *mk, uint32_t *a, uint32_t *t)
{
    size_t b = mk->b;
    const uint32_t *uid = mk->user_ids;
    uint32_t top = 0;
    for (size_t i = 0; i < b; i++) {
        a[i] = (uint32_t)i;
        top |= uid[i];
    }
    for (unsigned shift = 0; shift < 32 && (shift == 0 || top >> shift); shift += 8) {
        size_t count[257] = {0};
        for (size_t j = 0; j < b; j++) count[((uid[a[j]] >> shift) & 255u) + 1]++;
        for (size_t d = 0; d < 256; d++) count[d + 1] += count[d];
        for (size_t j = 0; j < b; j++) t[count[(uid[a[j]] >> shift) & 255u]++] = a[j];
        uint32_t *x = a;
        a = t;
        t = x;
    }
    return a;
}

/* The rows in user order (runs of one user, rows ascending within a run; NULL without user
 * ids: every row its own run). Kept in moff's space (2 (b + 1) words) until negs_ib_layout. */
static const uint32_t *user_order(const negs_ib_masks *mk)
{
    if (!mk->user_ids) return NULL;
    uint32_t *m = (uint32_t *)(void *)mk->moff;
    return m[2 * mk->b + 1] ? m + mk->b : m; /* which half the sort ended in */
}

static size_t run_end(const negs_ib_masks *mk, const uint32_t *ord, size_t s)
{
    size_t e = s + 1;
    if (ord)
        while (e < mk->b && mk->user_ids[ord[e]] == mk->user_ids[ord[s]]) e++;
    return e;
}

size_t negs_ib_groups(negs_ib_masks *mk)
{
    size_t n = mk->n, b = mk->b;
    const uint32_t *id = mk->item_ids;
    uint32_t *a = mk->ord, *t = mk->tmp;
    uint32_t top = 0;
    for (size_t j = 0; j < n; j++) {
        a[j] = (uint32_t)j;
        top |= id[j];
    }
    /* LSD radix sort on the item id, 8 bits per pass up to the largest id's top byte; stable,
     * so columns stay ascending within a group. An odd number of passes ends in tmp: copied
     * back. */
    for (unsigned shift = 0; shift < 32 && (shift == 0 || top >> shift); shift += 8) {
        size_t count[257] = {0};
        for (size_t j = 0; j < n; j++) count[((id[a[j]] >> shift) & 255u) + 1]++;
        for (size_t d = 0; d < 256; d++) count[d + 1] += count[d];
        for (size_t j = 0; j < n; j++) t[count[(id[a[j]] >> shift) & 255u]++] = a[j];
        uint32_t *s = a;
        a = t;
        t = s;
    }
    if (a != mk->ord) {
        memcpy(mk->ord, a, n * sizeof *a);
        a = mk->ord;
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
    /* each row's glist slots: its own group, then room for its user's positives' groups */
    mk->gptr[0] = 0;
    for (size_t i = 0; i < b; i++) mk->gptr[i + 1] = mk->gptr[i] + bound(mk, i);
    const uint32_t *ord = NULL;
    if (mk->user_ids) {
        uint32_t *m = (uint32_t *)(void *)mk->moff;
        ord = rows_by_user(mk, m, m + b);
        m[2 * b + 1] = ord != m; /* for user_order */
    }
    /* the parts of negs_ib_find: whole runs, about equal numbers of positive lookups */
    size_t total = mk->gptr[b] + b, acc = 0, p = 1;
    mk->cut[0] = 0;
    for (size_t s = 0; s < b && p < mk->parts;) {
        size_t e = run_end(mk, ord, s);
        while (p < mk->parts && acc >= total * p / mk->parts) mk->cut[p++] = s;
        for (size_t q = s; q < e; q++) {
            size_t i = ord ? ord[q] : q;
            acc += 1 + mk->gptr[i + 1] - mk->gptr[i];
        }
        s = e;
    }
    while (p < mk->parts) mk->cut[p++] = b;
    mk->cut[mk->parts] = b;
    return mk->gptr[b];
}

void negs_ib_clear_items(negs_ib_masks *mk)
{
    for (size_t g = 0; g < mk->n_groups; g++) mk->itab[mk->item_ids[mk->ord[mk->tmp[g]]]] = 0;
}

/* The groups of the user's positives that hold columns of the batch, into out (one load per
 * positive), in ascending order of group start (the row and the groups are both sorted by item
 * id; set_bytes relies on it); returns their count and adds their columns to *hits. */
static uint32_t user_groups(const negs_ib_masks *mk, const uint32_t *row, uint64_t len,
                            uint32_t *restrict out, size_t *hits, int wide)
{
    uint32_t cnt = 0;
    size_t h = 0;
#if NEGS_IB_HAVE_LOOKUP512
    if (wide && len <= 4 * (uint64_t)mk->n_groups)
        return negs_ib_lookup_avx512(mk->itab, row, len, out, hits);
#else
    (void)wide;
#endif
    if (len <= 4 * (uint64_t)mk->n_groups) {
        const uint64_t *restrict itab = mk->itab;
        for (uint64_t q = 0; q < len; q++) {
            /* without branches: whether a positive is in the batch is a coin toss */
            uint64_t e = itab[row[q]];
            uint32_t ok = e != 0;
            out[cnt] = (uint32_t)e - 1;
            cnt += ok;
            h += e >> 32; /* 0 for a miss */
        }
    } else {
        for (size_t q = 0; q < mk->n_groups; q++) { /* the user's many positives */
            uint32_t g = mk->tmp[q];
            if (!negs_sorted_contains(row, len, mk->item_ids[mk->ord[g]])) continue;
            out[cnt++] = g;
            h += mk->gend[g] - g;
        }
    }
    *hits = h;
    return cnt;
}

/* Whether item is in the sorted row: a binary search without branches (whether a row's item is
 * among its user's positives is data, not a pattern). */
static int row_holds(const uint32_t *row, uint64_t len, uint32_t item)
{
    if (!len) return 0;
    const uint32_t *p = row;
    for (uint64_t n = len; n > 1;) {
        uint64_t half = n / 2;
        p = p[half - 1] < item ? p + half : p; /* the first entry >= item stays in [p, p + n) */
        n -= half;
    }
    return *p == item;
}

/* One run: the rows of one user (or, without user ids, one row). Its user's base (the groups
 * of the user's positives) goes to the glist slots of the run's first row after its own-group
 * slot. A row whose own group is in the base (its item is a positive) or has no duplicate
 * reads the base: the first such row stores it (src = itself), the others point at it. Any
 * other row stores its own group, then the base. */
static void find_run(negs_ib_masks *mk, const uint32_t *ord, size_t s, size_t e, int wide)
{
    uint32_t *glist = mk->glist;
    if (!ord) { /* accidental hits only */
        uint32_t own = mk->gstart[s];
        size_t hits = mk->gend[own] - own - 1;
        glist[mk->gptr[s]] = own;
        mk->src[s] = (uint32_t)s;
        mk->sflag[s] = 0;
        mk->gcnt[s] = hits != 0;
        mk->hits[s] = (uint32_t)hits;
        return;
    }
    uint32_t r0 = ord[s], owner = UINT32_MAX;
    size_t boff = mk->gptr[r0] + 1, bh;
    uint32_t *base = glist + boff;
    uint64_t len;
    const uint32_t *row = negs_csr_row(mk->pos, mk->user_ids[r0], &len);
    uint32_t cnt = user_groups(mk, row, len, base, &bh, wide);
    for (size_t q = s; q < e; q++) {
        uint32_t i = ord[q], own = mk->gstart[i];
        /* the row's own group is in the base exactly when its item is a positive */
#if NEGS_IB_HAVE_LOOKUP512
        int inpos = wide ? negs_ib_holds_avx512(base, cnt, own)
                         : row_holds(row, len, mk->item_ids[i]);
#else
        int inpos = row_holds(row, len, mk->item_ids[i]);
#endif
        mk->gcnt[i] = 0;
        if (inpos || mk->gend[own] - own == 1) {
            if (owner == UINT32_MAX) owner = i;
            mk->src[i] = owner;
            mk->sflag[i] = (uint8_t)(SHARED | (inpos ? CLEAR_OWN : 0u));
            continue;
        }
        uint32_t *out = glist + mk->gptr[i];
        out[0] = own;
        if (i != r0) memcpy(out + 1, base, cnt * sizeof *base);
        mk->src[i] = i;
        mk->sflag[i] = 0;
        mk->gcnt[i] = 1 + cnt;
        mk->hits[i] = (uint32_t)(mk->gend[own] - own - 1 + bh);
    }
    if (owner != UINT32_MAX) {
        mk->gptr[owner] = boff;
        mk->gcnt[owner] = cnt;
        mk->hits[owner] = (uint32_t)bh; /* what is stored; negs_ib_layout makes it the row's */
    }
}

/* negs_ib_find, with the AVX-512 lookup when `wide` (the caller checked the CPU). */
static void find_part(negs_ib_masks *mk, size_t part, int wide)
{
    const uint32_t *ord = user_order(mk);
    for (size_t s = mk->cut[part]; s < mk->cut[part + 1];) {
        size_t e = run_end(mk, ord, s);
        find_run(mk, ord, s, e, wide);
        s = e;
    }
}

void negs_ib_find(negs_ib_masks *mk, size_t part)
{
    find_part(mk, part, 0);
}

/* Columns in the mask row i reads (after negs_ib_layout): its own, or its user's base, which
 * holds column i when the flag says so. */
static uint32_t stored(const negs_ib_masks *mk, size_t i)
{
    return mk->hits[i] + ((mk->sflag[i] & CLEAR_OWN) != 0);
}

/* A stored mask of at least `words` columns is a bit row; shorter ones are lists. */
static int is_bits(const negs_ib_masks *mk, size_t i)
{
    return (mk->sflag[i] & BITS) != 0;
}

/* Pool words row i stores (0 when it reads another row's). */
static size_t stored_words(const negs_ib_masks *mk, size_t i)
{
    return mk->src[i] != i ? 0 : is_bits(mk, i) ? mk->words : stored(mk, i);
}

static size_t fill_work(const negs_ib_masks *mk, size_t i)
{
    return mk->src[i] != i ? 0 : stored(mk, i) + stored_words(mk, i) / 4;
}

size_t negs_ib_layout(negs_ib_masks *mk)
{
    size_t total = 0;
    for (size_t i = 0; i < mk->b; i++) {
        uint32_t o = mk->src[i], clr = (mk->sflag[i] & CLEAR_OWN) != 0;
        /* a base less the row's own column; o < i for a row that reads another's base */
        uint32_t n = o == i ? mk->hits[i] : stored(mk, o);
        mk->hits[i] = n - clr;
        if (n >= mk->words) mk->sflag[i] |= BITS;
        mk->moff[i] = o == i ? total : mk->moff[o];
        total += stored_words(mk, i);
    }
    mk->moff[mk->b] = total;
    /* the parts of negs_ib_fill: about equal numbers of columns to set and words to pack */
    cut_parts(mk, fill_work);
    return total;
}

/* Sets the bits of row i's stored columns in `bits` (zeroed, words long). Column i only sits
 * in its own group, so its bit is set with that group's and, unless the row stores its user's
 * base (which holds column i when the row's item is one of the user's positives), cleared at
 * the end. */
static void set_bits(const negs_ib_masks *mk, size_t i, uint32_t *restrict bits)
{
    const uint32_t *restrict g = mk->glist + mk->gptr[i], *restrict ord = mk->ord;
    const uint32_t *restrict gend = mk->gend;
    for (uint32_t q = 0, nq = mk->gcnt[i]; q < nq; q++) {
        uint32_t k = g[q], e = gend[k], c = ord[k];
        bits[c >> 5] |= 1u << (c & 31); /* a group has one column or more: most have one */
        for (k++; k < e; k++) bits[ord[k] >> 5] |= 1u << (ord[k] & 31);
    }
    if (!(mk->sflag[i] & SHARED)) bits[i >> 5] &= ~(1u << (i & 31));
}

/* The padded column table of set_bytes, after the glist entries (PAD_SLOTS of them): per
 * group start k, poff[k] (n entries; only group starts are set), then each group's columns
 * in blocks of PAD, the last block padded by repeating the group's last column. */
#define PAD 8
static size_t pad_slots(const negs_ib_masks *mk)
{
    size_t t = mk->n;
    for (size_t q = 0; q < mk->n_groups; q++) {
        uint32_t k = mk->tmp[q];
        t += (mk->gend[k] - k + PAD - 1) / PAD * PAD;
    }
    return t;
}

static void pad_columns(negs_ib_masks *mk)
{
    uint32_t *poff = mk->glist + mk->gptr[mk->b], *cpad = poff + mk->n;
    const uint32_t *ord = mk->ord;
    uint32_t o = 0;
    for (size_t q = 0; q < mk->n_groups; q++) {
        uint32_t k = mk->tmp[q], e = mk->gend[k];
        poff[k] = o;
        for (uint32_t c = k; c < e; c++) cpad[o++] = ord[c];
        for (; o % PAD; o++) cpad[o] = ord[e - 1];
    }
}

/* As set_bits for a bit row, through a byte per column (plain stores, where setting bits one
 * by one is a chain of read-modify-writes on a few words), packed 16 bytes at a time by SSE2's
 * movemask (x86-64), else 8 at a time by a multiply that moves byte k's 0/1 to bit 56 + k.
 * `bytes` (npad, all 0) is left all 0. */
static void set_bytes(const negs_ib_masks *mk, size_t i, unsigned char *restrict bytes,
                      uint32_t *restrict bits)
{
    const uint32_t *restrict g = mk->glist + mk->gptr[i], *restrict gend = mk->gend;
    const uint32_t *restrict poff = mk->glist + mk->gptr[mk->b], *restrict cpad = poff + mk->n;
    for (uint32_t q = 0, nq = mk->gcnt[i]; q < nq; q++) {
        /* a group's columns in whole blocks of PAD (repeats are harmless): most groups take
         * one block, so group sizes cost few mispredictions */
        uint32_t k = g[q];
        const uint32_t *c = cpad + poff[k], *end = c + (gend[k] - k);
        do { /* PAD stores, written out: -O2 keeps a loop of 4 as a loop */
            bytes[c[0]] = 1;
            bytes[c[1]] = 1;
            bytes[c[2]] = 1;
            bytes[c[3]] = 1;
            bytes[c[4]] = 1;
            bytes[c[5]] = 1;
            bytes[c[6]] = 1;
            bytes[c[7]] = 1;
            c += PAD;
        } while (c < end);
    }
    if (!(mk->sflag[i] & SHARED)) bytes[i] = 0;
    for (size_t w = 0; w < mk->words; w++) {
        uint32_t x = 0;
#if defined(__SSE2__)
        /* 0/1 bytes shifted to their top bit, whose 16 the movemask gathers */
        __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)(bytes + 32 * w));
        __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(bytes + 32 * w + 16));
        x = (uint32_t)_mm_movemask_epi8(_mm_slli_epi16(lo, 7)) |
            (uint32_t)_mm_movemask_epi8(_mm_slli_epi16(hi, 7)) << 16;
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
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
    for (size_t i = mk->cut[part]; i < mk->cut[part + 1]; i++) {
        uint32_t n = stored(mk, i);
        /* before the pointer: the pool is NULL with no hits */
        if (mk->src[i] != i || !n) continue;
        uint32_t *dst = mk->pool + mk->moff[i];
        if (is_bits(mk, i)) {
            set_bytes(mk, i, (unsigned char *)scratch, dst);
            continue;
        }
        /* a list: the bits give the columns in order; the scan clears the scratch again */
        set_bits(mk, i, scratch);
        size_t cnt = 0;
        for (size_t w = 0; cnt < n; w++)
            for (uint32_t x = scratch[w]; x; x &= x - 1)
                dst[cnt++] = (uint32_t)(w * 32 + (size_t)__builtin_ctz(x));
        memset(scratch, 0, mk->words * sizeof *scratch);
    }
}

const uint32_t *negs_ib_tile_slow(const negs_ib_masks *mk, size_t i, size_t c0, size_t cw,
                                  uint32_t *local)
{
    uint32_t h = stored(mk, i);
    const uint32_t *p = mk->pool + mk->moff[i];
    size_t nw = (cw + 31) / 32;
    /* a base holding row i's own column: the tile that holds it drops it */
    int drop = (mk->sflag[i] & CLEAR_OWN) && i >= c0 && i < c0 + cw;
    uint32_t any = 0;
    memset(local, 0, 4 * sizeof *local);
    if (is_bits(mk, i)) {
        memcpy(local, p + c0 / 32, nw * sizeof *local);
        if (drop) local[(i - c0) >> 5] &= ~(1u << ((i - c0) & 31));
        for (size_t w = 0; w < nw; w++) any |= local[w];
        return any ? local : NULL;
    }
    size_t lo = 0, hi = h;
    while (lo < hi) { /* the first masked column >= c0 */
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid] < c0) lo = mid + 1;
        else hi = mid;
    }
    for (; lo < h && p[lo] < c0 + cw; lo++)
        if (!drop || p[lo] != i) {
            local[(p[lo] - c0) >> 5] |= 1u << ((p[lo] - c0) & 31);
            any = 1;
        }
    return any ? local : NULL;
}

typedef struct find_ctx {
    negs_ib_masks *mk;
    int wide;
} find_ctx;

static void run_find(void *ctx, size_t part, size_t n_parts)
{
    (void)n_parts;
    find_ctx *f = ctx;
    find_part(f->mk, part, f->wide);
}

static void run_fill(void *ctx, size_t part, size_t n_parts)
{
    (void)n_parts;
    negs_ib_fill(ctx, part);
}

int negs_ib_build(negs_loss *l, negs_ib_masks *mk)
{
    int st = mk->user_ids ? negs_ib_ws_items(l, mk->pos->n_items) : NEGS_OK;
    if (st) return st;
    mk->itab = ((negs_ib_ws *)l->ws)->itab;
    size_t ng = negs_ib_groups(mk);
    st = negs_ib_ws_reserve(l, 0, ng + pad_slots(mk), 0); /* leaves the block where it is */
    if (st) {
        if (mk->user_ids) negs_ib_clear_items(mk);
        return st;
    }
    mk->glist = ((negs_ib_ws *)l->ws)->groups;
    pad_columns(mk);
    /* the gathers index with signed 32-bit lanes */
    find_ctx f = {mk, (l->cpu & NEGS_CPU_AVX512) && mk->user_ids && mk->pos->n_items <= INT32_MAX};
    negs_pool_run(l->pool, run_find, &f, mk->parts);
    if (mk->user_ids) negs_ib_clear_items(mk);
    size_t words = negs_ib_layout(mk);
    st = negs_ib_ws_reserve(l, 0, 0, words);
    if (st) return st;
    mk->pool = ((negs_ib_ws *)l->ws)->pool;
    negs_pool_run(l->pool, run_fill, mk, mk->parts);
    return NEGS_OK;
}
