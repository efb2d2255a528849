/* Masks of the in-batch softmax. Columns are grouped by item id once per call (a stable
 * radix sort, no allocation); a row stores the groups it masks, never the columns, so the
 * memory is O(b + m) plus one entry per (row, masked item), whatever the group sizes. */
#include <math.h>
#include <string.h>

#include "core/csr.h"
#include "inbatch.h"

size_t negs_ib_groups(negs_ib_masks *mk, const uint32_t *item_ids)
{
    size_t n = mk->n;
    uint32_t *a = mk->ord, *t = mk->tmp;
    for (size_t j = 0; j < n; j++) a[j] = (uint32_t)j;
    /* LSD radix sort on the item id, 8 bits per pass; stable, so columns stay ascending
     * within a group. Four passes: the result ends in `a` again. */
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t j = 0; j < n; j++) count[((item_ids[a[j]] >> shift) & 255u) + 1]++;
        for (size_t d = 0; d < 256; d++) count[d + 1] += count[d];
        for (size_t j = 0; j < n; j++) t[count[(item_ids[a[j]] >> shift) & 255u]++] = a[j];
        uint32_t *s = a;
        a = t;
        t = s;
    }
    size_t ng = 0;
    for (size_t s = 0; s < n;) {
        size_t e = s + 1;
        while (e < n && item_ids[a[e]] == item_ids[a[s]]) e++;
        for (size_t k = s; k < e; k++) mk->gstart[a[k]] = (uint32_t)s;
        mk->gend[s] = (uint32_t)e;
        mk->tmp[ng++] = (uint32_t)s;
        s = e;
    }
    return ng;
}

static void put(uint32_t *out, size_t *cnt, uint32_t g)
{
    if (out) out[*cnt] = g;
    (*cnt)++;
}

size_t negs_ib_row_groups(const negs_ib_masks *mk, size_t n_groups, const uint32_t *item_ids,
                          const uint32_t *user_ids, const negs_csr *pos, size_t i,
                          uint32_t *out)
{
    size_t cnt = 0;
    uint32_t own = mk->gstart[i];
    if (mk->gend[own] - own > 1) put(out, &cnt, own); /* accidental hits */
    if (!user_ids || !pos) return cnt;
    uint64_t len;
    const uint32_t *row = negs_csr_row(pos, user_ids[i], &len);
    if (len <= n_groups) {
        /* each known positive looked up among the batch's item ids */
        for (uint64_t q = 0; q < len; q++) {
            size_t lo = 0, hi = n_groups;
            while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (item_ids[mk->ord[mk->tmp[mid]]] < row[q]) lo = mid + 1;
                else hi = mid;
            }
            if (lo < n_groups && item_ids[mk->ord[mk->tmp[lo]]] == row[q] && mk->tmp[lo] != own)
                put(out, &cnt, mk->tmp[lo]);
        }
    } else {
        /* each batch item id looked up among the (many) known positives */
        for (size_t g = 0; g < n_groups; g++) {
            uint32_t s = mk->tmp[g];
            if (s != own && negs_sorted_contains(row, len, item_ids[mk->ord[s]]))
                put(out, &cnt, s);
        }
    }
    return cnt;
}

size_t negs_ib_apply(const negs_ib_masks *mk, size_t i, size_t c0, size_t c1, float *z)
{
    size_t hits = 0;
    for (size_t q = mk->rowptr[i]; q < mk->rowptr[i + 1]; q++) {
        size_t lo = mk->glist[q], hi = mk->gend[lo];
        while (lo < hi) { /* first column >= c0 in the group */
            size_t mid = lo + (hi - lo) / 2;
            if (mk->ord[mid] < c0) lo = mid + 1;
            else hi = mid;
        }
        for (size_t k = lo; k < mk->gend[mk->glist[q]] && mk->ord[k] < c1; k++) {
            if (mk->ord[k] == i) continue;
            z[mk->ord[k] - c0] = -INFINITY;
            hits++;
        }
    }
    return hits;
}
