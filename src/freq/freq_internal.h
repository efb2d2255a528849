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

/* Allocates the zeroed tables of a handle whose kind and shape are set; status. */
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

void negs_gap_update(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n);
/* Per-example probability of one id, in [qmin, 1]. */
double negs_gap_p(const negs_freq *f, const negs_freq_query *q, uint64_t id);

void negs_sketch_update(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n);
double negs_sketch_p(const negs_freq *f, const negs_freq_query *q, uint64_t id);
/* Moves the landmark to `to` (>= landmark), rescaling counters and total. */
void negs_sketch_renormalise(negs_freq *f, uint64_t to);
/* into += other (same shape, seed, half-life, both with data), aligning landmarks. */
void negs_sketch_merge(negs_freq *into, const negs_freq *other);

#endif
