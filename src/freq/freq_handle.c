/* negs_freq: lifecycle (create, free, reset), shared by both kinds. */
#include <stdlib.h>
#include <string.h>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "core/alloc.h"
#include "core/errors.h"
#include "freq_internal.h"

size_t negs_freq_cell_bytes(int kind)
{
    return kind == NEGS_FREQ_GAP ? sizeof(negs_gap_cell) : sizeof(double);
}

void negs_freq_derive_keys(negs_freq *f)
{
    /* Distinct, seed-dependent keys per row; the mixer makes rows behave independently. */
    for (uint32_t j = 0; j < NEGS_FREQ_MAX_HASHES; j++)
        f->keys[j] = negs_mix64(f->seed ^ negs_mix64(0x6A09E667F3BCC909ULL + j));
}

int negs_freq_alloc_tables(negs_freq *f)
{
    size_t cells, bytes;
    int st = negs_size_mul((size_t)f->buckets, f->hashes, &cells, "negs_freq: buckets * hashes");
    if (st) return st;
    st = negs_size_mul(cells, negs_freq_cell_bytes(f->kind), &bytes, "negs_freq: table bytes");
    if (st) return st;
    f->ws_ids = NEGS_FREQ_WS_CELLS / f->hashes;
    if (f->ws_ids < NEGS_FREQ_WS_MIN) f->ws_ids = NEGS_FREQ_WS_MIN;
    f->ws_stride = f->ws_ids + NEGS_FREQ_AHEAD;
    f->ws = negs_alloc_array(f->ws_stride * f->hashes, sizeof *f->ws, "negs_freq workspace");
    if (!f->ws) return NEGS_E_NOMEM;
    void *p = negs_alloc_aligned(cells, negs_freq_cell_bytes(f->kind), "negs_freq tables");
    if (!p) {
        free(f->ws);
        f->ws = NULL;
        return NEGS_E_NOMEM;
    }
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    /* Large tables are hit at random: ask for huge pages (advice only; failure is harmless),
     * which removes most TLB misses once the tables outgrow the caches. */
    if (bytes >= ((size_t)8 << 20)) {
        const uintptr_t huge = (uintptr_t)2 << 20;
        uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
        uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
        if (hi > lo) (void)madvise((void *)lo, (size_t)(hi - lo), MADV_HUGEPAGE);
    }
#endif
    memset(p, 0, bytes);
    if (f->kind == NEGS_FREQ_GAP)
        f->cells = p;
    else
        f->cnt = p;
    return NEGS_OK;
}

NEGS_API negs_freq *negs_freq_create(int kind, size_t buckets, uint32_t hashes, uint64_t seed)
{
    if (kind != NEGS_FREQ_GAP && kind != NEGS_FREQ_SKETCH)
        return negs_fail_null(NEGS_E_UNSUPPORTED,
                              "negs_freq_create: kind = %d is not NEGS_FREQ_GAP or NEGS_FREQ_SKETCH",
                              kind);
    if (buckets == 0 || (uint64_t)buckets > NEGS_FREQ_MAX_BUCKETS)
        return negs_fail_null(NEGS_E_INVALID,
                              "negs_freq_create: buckets = %zu must be in [1, 2^32]", buckets);
    if (hashes == 0 || hashes > NEGS_FREQ_MAX_HASHES)
        return negs_fail_null(NEGS_E_INVALID, "negs_freq_create: hashes = %u must be in [1, %u]",
                              hashes, NEGS_FREQ_MAX_HASHES);
    negs_freq *f = negs_calloc_array(1, sizeof *f, "negs_freq handle");
    if (!f) return NULL;
    f->kind = kind;
    f->buckets = buckets;
    f->hashes = hashes;
    f->seed = seed;
    f->alpha = NEGS_FREQ_DEFAULT_ALPHA;
    f->max_gap = NEGS_FREQ_DEFAULT_MAX_GAP;
    f->half_life = 0.0;
    f->conservative = 1;
    negs_freq_derive_keys(f);
    if (negs_freq_alloc_tables(f) != NEGS_OK) {
        free(f);
        return NULL;
    }
    return f;
}

NEGS_API void negs_freq_free(negs_freq *f)
{
    if (!f) return;
    negs_free_aligned(f->cells);
    negs_free_aligned(f->cnt);
    free(f->ws);
    free(f);
}

NEGS_API int negs_freq_reset(negs_freq *f)
{
    int st = negs_check_ptr(f, "negs_freq_reset", "f");
    if (st) return st;
    size_t cells = (size_t)f->buckets * f->hashes;
    if (f->cells) memset(f->cells, 0, cells * sizeof *f->cells);
    if (f->cnt) memset(f->cnt, 0, cells * sizeof *f->cnt);
    f->has_data = 0;
    f->first_step = f->last_step = f->total_ids = f->landmark = f->rate_delta = 0;
    f->total = f->rate = 0.0;
    return NEGS_OK;
}
