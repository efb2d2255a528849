/* negs_freq internals: the handle, the two kinds and the saved image. */
#ifndef NEGS_FREQ_INTERNAL_H
#define NEGS_FREQ_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "negsample.h"

#define NEGS_FREQ_MAX_HASHES 32u
/* buckets <= 2^32 so that a 32x32-bit multiply maps a hash to a bucket (Lemire's fastrange). */
#define NEGS_FREQ_MAX_BUCKETS ((uint64_t)1 << 32)
#define NEGS_FREQ_DEFAULT_ALPHA 0.01
#define NEGS_FREQ_DEFAULT_MAX_GAP 100000.0
/* MAX_GAP above this would not survive the float gap cells with a meaningful value. */
#define NEGS_FREQ_MAX_MAX_GAP 1e15
/* The sketch's forward-decay scale 2^((t - landmark)/half_life) is renormalised once the
 * exponent passes this, keeping every counter far below DBL_MAX (2^1024). */
#define NEGS_FREQ_RENORM_EXP 256.0
/* ln(100): an open gap counts once a gap that long would have probability < 1%. */
#define NEGS_FREQ_OPEN_GAP_LOG 4.605170185988091
/* The SKETCH's EMA rate for examples per step (GAP uses its own alpha). */
#define NEGS_FREQ_SKETCH_RATE_ALPHA 0.01
/* Updates hash a chunk of ids into the handle's workspace (the table offset of every id's cell
 * in every row), then apply it: a chunk holds NEGS_FREQ_WS_CELLS / hashes ids, at least
 * NEGS_FREQ_WS_MIN, so the workspace stays near 64 KiB and negs_freq_update_logq hashes each
 * id once for batches up to that size. GAP keeps it row by row (each row NEGS_FREQ_AHEAD slots
 * longer, for prefetching), SKETCH id by id (all rows of an id are used together). */
#define NEGS_FREQ_WS_CELLS 8192u
#define NEGS_FREQ_WS_MIN 512u
#define NEGS_FREQ_AHEAD 24u

/* One GAP cell (16 bytes, so 4 share a cache line): the step of the last sighting, the EMA of
 * the gaps between sightings (0 = seen at one step only), and the EMA of the occurrences per
 * sighting (0 = never seen). */
typedef struct negs_gap_cell {
    uint64_t last;
    float gap;
    float count;
} negs_gap_cell;

struct negs_freq {
    int kind;
    uint32_t hashes;
    uint64_t buckets;
    uint64_t seed;
    uint64_t keys[NEGS_FREQ_MAX_HASHES]; /* per-row hash keys derived from seed */
    double alpha;      /* GAP */
    double max_gap;    /* both */
    double half_life;  /* SKETCH, 0 = no decay */
    int conservative;  /* SKETCH */
    int has_data;      /* at least one update since create/reset */
    uint64_t first_step, last_step;
    uint64_t total_ids; /* ids seen over the lifetime (saturating) */
    double rate;          /* EMA of examples per unit step (ids / steps since the previous one) */
    uint64_t rate_delta;  /* steps between the last two distinct update steps; 0 = one step */
    uint64_t landmark;  /* SKETCH: counters are scaled by 2^((t - landmark)/half_life) */
    double total;       /* SKETCH: scaled decayed total weight */
    negs_gap_cell *cells; /* GAP: hashes rows of buckets cells */
    double *cnt;          /* SKETCH: hashes rows of buckets counters */
    size_t *ws;           /* hashes x ws_stride cell offsets (update workspace) */
    size_t ws_ids;        /* ids per chunk */
    size_t ws_stride;     /* ws_ids + NEGS_FREQ_AHEAD */
};

/* Rows 2k and 2k+1 take the high and low halves of one 64-bit mix of the id with key k (one
 * mixer per two rows), mapped to [0, buckets) by a 32x32-bit multiply (Lemire's fastrange). */
static inline uint64_t negs_freq_half_bucket(uint64_t mixed, uint32_t j, uint64_t buckets)
{
    uint64_t h = (j & 1u) ? (mixed & 0xFFFFFFFFu) : (mixed >> 32);
    return (h * buckets) >> 32;
}

static inline uint64_t negs_freq_mix(const negs_freq *f, uint32_t j, uint64_t id)
{
    return negs_mix64(id ^ f->keys[j >> 1]);
}

/* Bucket of id in row j. */
static inline uint64_t negs_freq_bucket(const negs_freq *f, uint32_t j, uint64_t id)
{
    return negs_freq_half_bucket(negs_freq_mix(f, j, id), j, f->buckets);
}

/* Ids arrive as uint64 or uint32 (the _u32 entry points): exactly one pointer is set (both
 * may be NULL when n is 0). A uint32 id is the same id widened, so it hashes identically. */
static inline uint64_t negs_freq_id(const uint64_t *ids64, const uint32_t *ids32, size_t i)
{
    return ids64 ? ids64[i] : ids32[i];
}

/* The table offset of the cell of ids [base + at, base + at + len) in every row (j * buckets
 * plus the bucket), id i's row j into ws[i * by_id + j * by_row]; one mix serves two rows.
 * Row pair by row pair, so each pair's key stays in a register. */
static inline void negs_freq_hash_ids(const negs_freq *f, const uint64_t *ids64,
                                      const uint32_t *ids32, size_t base, size_t at, size_t len,
                                      size_t *ws, size_t by_id, size_t by_row)
{
    const uint32_t m = f->hashes;
    const uint64_t buckets = f->buckets;
    for (uint32_t j = 0; j < m; j += 2) {
        const uint64_t key = f->keys[j >> 1];
        const size_t row0 = j * (size_t)buckets, row1 = row0 + (size_t)buckets;
        size_t *o0 = ws + j * by_row, *o1 = o0 + by_row;
        if (j + 1 < m) {
            for (size_t i = at; i < at + len; i++) {
                uint64_t x = negs_mix64(negs_freq_id(ids64, ids32, base + i) ^ key);
                o0[i * by_id] = row0 + (size_t)negs_freq_half_bucket(x, 0, buckets);
                o1[i * by_id] = row1 + (size_t)negs_freq_half_bucket(x, 1, buckets);
            }
        } else {
            for (size_t i = at; i < at + len; i++) {
                uint64_t x = negs_mix64(negs_freq_id(ids64, ids32, base + i) ^ key);
                o0[i * by_id] = row0 + (size_t)negs_freq_half_bucket(x, 0, buckets);
            }
        }
    }
}

/* Where the workspace holds id i's offsets: row j's at ws + i * by_id + j * by_row. */
static inline void negs_freq_ws_layout(const negs_freq *f, size_t *by_id, size_t *by_row)
{
    *by_id = f->kind == NEGS_FREQ_GAP ? 1 : f->hashes;
    *by_row = f->kind == NEGS_FREQ_GAP ? f->ws_stride : 1;
}

/* Allocates the zeroed tables and the workspace of a handle whose kind and shape are set;
 * status. */
int negs_freq_alloc_tables(negs_freq *f);
/* Derives f->keys from f->seed. */
void negs_freq_derive_keys(negs_freq *f);
/* Bytes of one table cell of this kind. */
size_t negs_freq_cell_bytes(int kind);

/* The image checksum over n bytes (a multiple of 8); docs/FORMAT.md defines it. */
uint64_t negs_freq_image_checksum(const unsigned char *p, size_t n);

/* Query context shared by both kinds: fixed for one prob/logq call. */
typedef struct negs_freq_query {
    double now;       /* last update step, as a double */
    double span;      /* steps from the first update to now, inclusive */
    double per_step;  /* examples per unit step (f->rate) */
    double qmin;      /* floor: 1 / (max_gap * per_step) */
} negs_freq_query;

/* Validates a query and fills its context (the output pointer is checked against n). */
int negs_freq_query_begin(const negs_freq *f, const void *ids, size_t n, const void *out,
                          const char *func, negs_freq_query *q);

/* The kinds work on cell offsets: off[j * stride] is the id's cell in row j. */
/* Records the ids in workspace slots [at, at + len) at step (each row padded after them for
 * the prefetches NEGS_FREQ_AHEAD ids ahead). */
void negs_gap_update_ws(negs_freq *f, uint64_t step, size_t at, size_t len);
/* Per-example probability of one id, in [qmin, 1]. */
double negs_gap_p(const negs_freq *f, const negs_freq_query *q, const size_t *off, size_t stride);

/* Weight of an occurrence at step (moves the landmark first if the scale would overflow). */
double negs_sketch_weight(negs_freq *f, uint64_t step);
/* Adds weight w for the len ids from base (counters only; the caller adds to total), leaving
 * their offsets in the workspace. */
void negs_sketch_update_ids(negs_freq *f, double w, const uint64_t *ids64, const uint32_t *ids32,
                            size_t base, size_t len);
double negs_sketch_p(const negs_freq *f, const negs_freq_query *q, const size_t *off,
                     size_t stride);
/* The estimate of the id whose cells are off[j * stride]. */
static inline double negs_freq_p_at(const negs_freq *f, const negs_freq_query *q,
                                    const size_t *off, size_t stride)
{
    return f->kind == NEGS_FREQ_GAP ? negs_gap_p(f, q, off, stride) : negs_sketch_p(f, q, off, stride);
}

/* Moves the landmark to `to` (>= landmark), rescaling counters and total. */
void negs_sketch_renormalise(negs_freq *f, uint64_t to);
/* into += other (same shape, seed, half-life, both with data), aligning landmarks. */
void negs_sketch_merge(negs_freq *into, const negs_freq *other);

#endif
