/*
 * negsample.h - libnegsample, negative sampling for recommender and contrastive training.
 *
 * The one public header. C99 or later, or C++11 or later.
 *
 * Conventions
 * - Every function that can fail returns int: NEGS_OK (0) or a count on success, a negative
 *   NEGS_E_* code on failure; the detail is in negs_last_error(). Constructors return a handle
 *   or NULL (the reason is then in negs_last_error()). negs_X_free(NULL) is a no-op.
 * - The library never aborts, never exits and never writes to stdout or stderr.
 * - Sizes are size_t, item indices uint32_t, hashed ids uint64_t, scores and embeddings float
 *   (row-major, contiguous).
 *
 * Thread safety
 * - One handle is used by one thread at a time. Functions documented as read-only queries
 *   (negs_csr_contains, negs_freq_prob, negs_freq_logq, negs_freq_save, the get_param calls)
 *   may be called on one handle from several threads at once while nobody modifies it.
 * - Different handles never interfere. negs_last_error() is per thread.
 * - A negs_csr is immutable after creation and may be shared by any number of handles and
 *   threads.
 *
 * ABI: see docs/ABI.md. Enum values are numbered explicitly and never reused.
 */
#ifndef NEGSAMPLE_H
#define NEGSAMPLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(NEGS_BUILDING_LIBRARY) && defined(__GNUC__)
#define NEGS_API __attribute__((visibility("default")))
#else
#define NEGS_API
#endif

/* ---------------------------------------------------------------- version */

#define NEGS_VERSION_MAJOR 0
#define NEGS_VERSION_MINOR 1
#define NEGS_VERSION_PATCH 0
#define NEGS_VERSION_NUMBER \
    (NEGS_VERSION_MAJOR * 10000 + NEGS_VERSION_MINOR * 100 + NEGS_VERSION_PATCH)

/* The version of the library actually loaded (compare with NEGS_VERSION_NUMBER). */
NEGS_API unsigned negs_version_number(void);
/* "MAJOR.MINOR.PATCH", e.g. "0.1.0"; static storage. */
NEGS_API const char *negs_version_string(void);

/* ---------------------------------------------------------------- status */

#define NEGS_OK 0
#define NEGS_E_INVALID (-1)     /* bad argument: NULL, zero/overflowing size, out of range, NaN */
#define NEGS_E_NOMEM (-2)       /* an allocation failed */
#define NEGS_E_EXHAUSTED (-3)   /* fewer eligible items than asked */
#define NEGS_E_FORMAT (-4)      /* saved state corrupt, truncated or of an unknown version */
#define NEGS_E_STATE (-5)       /* the handle lacks what the call needs */
#define NEGS_E_UNSUPPORTED (-6) /* unknown kind or parameter id */

/* "NEGS_OK", "NEGS_E_INVALID", ...; "NEGS_UNKNOWN" for any other value. Static storage. */
NEGS_API const char *negs_status_name(int status);
/* This thread's last failure as a sentence naming the argument and value, starting with the
 * status name ("NEGS_E_INVALID: negs_sampler_sample: k is 0"); "" if none yet. A
 * successful call does not clear it. The text stays valid until this thread's next failure. */
NEGS_API const char *negs_last_error(void);
/* This thread's last failure status (NEGS_OK if none yet): the code behind a NULL returned by
 * a constructor. */
NEGS_API int negs_last_status(void);

/* ---------------------------------------------------------------- item lists (CSR) */

typedef struct negs_csr negs_csr;

/* Copies the table: row u holds indices[indptr[u] .. indptr[u+1]). Rows may be unsorted and
 * may hold duplicates (they are sorted and de-duplicated in the copy). indptr[0] must be 0 and
 * non-decreasing; every index must be < n_items. indices may be NULL when indptr[n_users] is 0.
 * Reference-counted: handles that are given the table keep it alive, so freeing it first is
 * safe. */
NEGS_API negs_csr *negs_csr_create(uint32_t n_users, uint32_t n_items, const uint64_t *indptr,
                                   const uint32_t *indices);
NEGS_API void negs_csr_free(negs_csr *t);
/* 1 if item is in user's row, 0 if not, a negative status on bad input. Read-only. */
NEGS_API int negs_csr_contains(const negs_csr *t, uint32_t user, uint32_t item);
/* Shape queries; 0 for a NULL table. */
NEGS_API uint32_t negs_csr_n_users(const negs_csr *t);
NEGS_API uint32_t negs_csr_n_items(const negs_csr *t);
/* Number of distinct items in user's row, or a negative status on bad input. */
NEGS_API int64_t negs_csr_row_size(const negs_csr *t, uint32_t user);
/* User's row without copying: *items points at its *len distinct items, sorted ascending,
 * each < n_items, inside the table (never NULL, even for an empty row). The memory is the
 * table's: read it only, and only while the table is alive (a handle holding the table keeps
 * it alive, but the caller needs its own negs_csr pointer to be sure). NEGS_OK, or
 * NEGS_E_INVALID for a NULL argument or user >= n_users (then *items and *len are untouched).
 * Read-only: safe from several threads at once. */
NEGS_API int negs_csr_row_items(const negs_csr *t, uint32_t user, const uint32_t **items,
                                size_t *len);
/* User's row copied into out[0 .. *len): the same sorted, distinct items. *len receives the
 * row's length whenever user is valid; out NULL asks for the length only (cap is ignored).
 * NEGS_OK; NEGS_E_INVALID for a NULL t or len, user >= n_users, or cap < the row's length
 * (nothing is written to out then; the sentence gives both numbers). Read-only. */
NEGS_API int negs_csr_row_copy(const negs_csr *t, uint32_t user, uint32_t *out, size_t cap,
                               size_t *len);

/* ---------------------------------------------------------------- samplers */

typedef struct negs_sampler negs_sampler;

#define NEGS_SAMPLER_UNIFORM 1
#define NEGS_SAMPLER_POPULARITY 2
#define NEGS_SAMPLER_CATEGORY 3
#define NEGS_SAMPLER_EXPOSURE 4
#define NEGS_SAMPLER_MIXTURE 5
#define NEGS_SAMPLER_HARD 6
#define NEGS_SAMPLER_SRNS 7 /* false-negative-aware selection from a per-user memory (docs/hard.md) */
#define NEGS_SAMPLER_WALK 8 /* random-walk negatives on the interaction graph (see below) */

/* Parameters of negs_sampler_set_param / get_param. */
#define NEGS_SP_ALPHA 1             /* popularity exponent, default 0.75, any finite value with
                                     * |alpha| ln(w_max / w_min) <= 700 over the positive weights
                                     * (else INVALID at set_param / set_weights, naming alpha) */
#define NEGS_SP_UNIQUE 2            /* 0/1, default 0: no item twice in one row */
#define NEGS_SP_EXCLUDE_POSITIVES 3 /* 0/1, default 1 once positives are set */
#define NEGS_SP_HARD_MODE 4         /* NEGS_HARD_TOP, NEGS_HARD_SEMIHARD, NEGS_HARD_SOFTMAX */
#define NEGS_SP_CANDIDATES 5        /* c: candidates drawn per row by a HARD sampler's child */
#define NEGS_SP_MARGIN 6            /* semi-hard window */
#define NEGS_SP_TEMPERATURE 7       /* softmax selection temperature */
#define NEGS_SP_THREADS 8           /* default 1; results never depend on it */
#define NEGS_SP_ROW_OFFSET 9        /* default 0: row r of a call is numbered ROW_OFFSET + r in the
                                     * random stream, so a batch split over calls with matching
                                     * offsets draws exactly what one whole call draws */
/* Hard negatives (docs/hard.md): */
#define NEGS_SP_TOP_M 10            /* DNS(M,N): select uniformly among the top M, default 4 */
#define NEGS_SP_AHNS_ALPHA 11       /* AHNS target beta * (pos + alpha)^(p + 1): alpha, default 0 */
#define NEGS_SP_AHNS_BETA 12        /* AHNS beta, default 1 */
#define NEGS_SP_AHNS_P 13           /* AHNS p, default 0 */
#define NEGS_SP_FALLBACK_ROWS 14    /* read-only: rows of the last select / sample_scored call
                                     * that had fewer than k semi-hard candidates */
#define NEGS_SP_SHARED_EXCLUDE 20   /* 0/1, default 1: negs_sampler_sample_shared never draws one
                                     * of the batch's positives */

/* Random-walk negatives (NEGS_SAMPLER_WALK; docs/samplers.md, "Random-walk negatives").
 * The graph is the positives table (negs_sampler_set_positives: users x items; the item ->
 * user transpose is built into the handle there). Each slot of row r walks from users[r]:
 * an odd hop goes from the current user to one of its items, uniformly; an even hop goes from
 * the current item back to the start user with probability NEGS_SP_WALK_RESTART, else to one of
 * the item's users, uniformly. After NEGS_SP_WALK_LENGTH hops the walk ends on an item; it is
 * the slot's negative unless the user has interacted with it or it is the row's positive. After
 * NEGS_SP_WALK_TRIES failed walks (at once for a user without interactions) the slot is drawn
 * uniformly among the row's eligible items. The user's positives are never returned. users is
 * required (each below the table's users); positives may be NULL. No exact per-item
 * probability is computed: out_logq (may be NULL) is NaN in every slot, negs_sampler_logq
 * answers NEGS_E_UNSUPPORTED. NEGS_E_STATE without a table; NEGS_E_EXHAUSTED for a row whose
 * user's interactions and positive cover the catalogue. UNIQUE and EXCLUDE_POSITIVES = 0 are
 * NEGS_E_UNSUPPORTED, as is a WALK sampler as a mixture's or HARD sampler's child. Draws are
 * keyed by (seed, step, NEGS_SP_ROW_OFFSET + r) and the slot's place in the row: identical for
 * any NEGS_SP_THREADS and row split; a call never allocates. The parameters below apply to
 * WALK samplers only (else NEGS_E_UNSUPPORTED). */
#define NEGS_SP_WALK_LENGTH 40    /* hops per walk, odd, 3..99, default 3 (user-item-user-item) */
#define NEGS_SP_WALK_RESTART 41   /* probability in [0, 1] of an item -> user hop returning to the
                                   * start user, default 0; used as the nearest multiple of 2^-32 */
#define NEGS_SP_WALK_TRIES 42     /* walks per slot before the uniform fallback, 0..1024, default 8
                                   * (0: every slot is the fallback's) */
#define NEGS_SP_WALK_FALLBACKS 43 /* read-only: slots of the last sample call drawn by the fallback */
#define NEGS_SP_WALK_REJECTED 44  /* read-only: walks of the last sample call that ended on an
                                   * excluded item */
/* SRNS (Ding et al. NeurIPS 2020; docs/hard.md "SRNS"): */
#define NEGS_SP_SRNS_MEMORY 30      /* S: memory slots per user, default 16 (1..65536) */
#define NEGS_SP_SRNS_REFRESH 31     /* R: fresh child draws per row and call, default 16 (0..65536;
                                     * 0: the memory is fixed after its first fill) */
#define NEGS_SP_SRNS_HISTORY 32     /* W: recorded scores per slot, default 5 (1..255) */
#define NEGS_SP_SRNS_ALPHA 33       /* weight of the std in score + alpha * std, default 1, >= 0 */
#define NEGS_SP_SRNS_WARMUP 34      /* steps over which alpha rises linearly from 0, default 0 */
#define NEGS_SP_SRNS_TEMPERATURE 35 /* the memory keeps S of S + R by exp(score / T), default 1 */
#define NEGS_SP_SRNS_PASSED 36      /* read-only: suspected false negatives passed over by the last
                                     * negs_srns_select (plain top-score picks not chosen) */
#define NEGS_SP_SRNS_USERS 37       /* read-only: users the memory holds (0 before negs_srns_prepare) */

#define NEGS_HARD_TOP 1
#define NEGS_HARD_SEMIHARD 2
#define NEGS_HARD_SOFTMAX 3
#define NEGS_HARD_DNS_MN 4 /* uniform among the top NEGS_SP_TOP_M (Shi et al. 2023) */
#define NEGS_HARD_AHNS 5   /* closest to beta * (pos + alpha)^(p + 1) (Lai et al. AAAI 2024) */

NEGS_API negs_sampler *negs_sampler_create(int kind, uint32_t n_items, uint64_t seed);
NEGS_API void negs_sampler_free(negs_sampler *s);
NEGS_API int negs_sampler_set_param(negs_sampler *s, int param, double value);
NEGS_API int negs_sampler_get_param(const negs_sampler *s, int param, double *value);
NEGS_API int negs_sampler_set_weights(negs_sampler *s, const double *weights, uint32_t n_items);
NEGS_API int negs_sampler_set_positives(negs_sampler *s, const negs_csr *positives);
NEGS_API int negs_sampler_set_exposures(negs_sampler *s, const negs_csr *exposures);
NEGS_API int negs_sampler_set_categories(negs_sampler *s, const uint32_t *category_of_item,
                                         uint32_t n_items);
NEGS_API int negs_sampler_add(negs_sampler *mixture_or_hard, negs_sampler *child, double share);
NEGS_API int negs_sampler_set_schedule(negs_sampler *mixture, uint32_t child, size_t n_points,
                                       const double *steps, const double *shares);
NEGS_API int negs_sampler_sample(negs_sampler *s, uint64_t step, size_t n_rows,
                                 const uint32_t *users, const uint32_t *positives, uint32_t k,
                                 uint32_t *out_items, float *out_logq);
/* Hard negatives (docs/hard.md). A HARD sampler has exactly one child (negs_sampler_add; the
 * share is ignored; any kind, a MIXTURE included). negs_sampler_sample on it writes
 * c = NEGS_SP_CANDIDATES candidates per row (k must equal c), drawn by the child with the
 * child's exclusion and log q, keyed by the HARD sampler's seed.
 * negs_sampler_select keeps k of each row's n_cand candidates (cand_items and cand_scores are
 * n_rows x n_cand, n_cand <= NEGS_SP_CANDIDATES, k <= n_cand) by NEGS_SP_HARD_MODE: TOP the k
 * highest; SEMIHARD the highest in [pos - margin, pos), filled with the highest of the rest;
 * SOFTMAX k without replacement with probability proportional to exp(score / temperature);
 * DNS_MN k uniformly among the top NEGS_SP_TOP_M; AHNS the k closest to
 * beta * (pos + alpha)^(p + 1). Ties go to the earlier candidate. A repeated id takes part
 * once, at its first position. pos_scores (n_rows) is required by SEMIHARD and AHNS, else may
 * be NULL. out_items holds n_rows x k ids; out_logq (may be NULL) the log probability of each
 * slot's pick given the row's candidates and its earlier picks (0 for the deterministic modes;
 * for SOFTMAX with k = 1 exactly the selection probability). Random choices are keyed by
 * (seed, step, NEGS_SP_ROW_OFFSET + row). A row with fewer than k distinct candidates is
 * NEGS_E_EXHAUSTED.
 * negs_sampler_sample_scored draws c candidates per row from the child, scores them as dot
 * products of query_emb (n_rows x dim) with rows of item_emb (n_items x dim), scores the
 * positive likewise (positives are required by SEMIHARD and AHNS) and selects k <= c. It also
 * takes a MIXTURE with HARD children (a curriculum): each slot picks a child by the shares at
 * `step`; a HARD child's slots hold its selection; negs_sampler_sample on such a mixture
 * answers NEGS_E_STATE. Neither call allocates; results never depend on NEGS_SP_THREADS. */
NEGS_API int negs_sampler_select(negs_sampler *hard, uint64_t step, size_t n_rows,
                                 uint32_t n_cand, const uint32_t *cand_items,
                                 const float *cand_scores, const float *pos_scores, uint32_t k,
                                 uint32_t *out_items, float *out_logq);
NEGS_API int negs_sampler_sample_scored(negs_sampler *hard, uint64_t step, size_t n_rows,
                                        const uint32_t *users, const uint32_t *positives,
                                        const float *query_emb, const float *item_emb,
                                        size_t dim, uint32_t k, uint32_t *out_items,
                                        float *out_logq);

/* SRNS: false-negative-aware hard negatives (Ding et al. NeurIPS 2020; docs/hard.md "SRNS").
 * An SRNS sampler has exactly one child (negs_sampler_add; the share is ignored; a plain kind
 * or a MIXTURE without HARD children) and, per user, a memory of S = NEGS_SP_SRNS_MEMORY
 * items, each with its last W = NEGS_SP_SRNS_HISTORY recorded scores
 * p = sigmoid(score - positive's score). A step is a pair of calls on the same rows:
 * negs_srns_candidates writes n = S + R candidates per row (R = NEGS_SP_SRNS_REFRESH): the
 * user's S memory items, then R fresh draws from the child (a user seen for the first time
 * gets S + R fresh draws), with the child's exclusion, keyed by (seed, step,
 * NEGS_SP_ROW_OFFSET + row). It changes nothing and returns n. The host scores them.
 * negs_srns_select takes those ids back unchanged (cand_items, n_rows x n; INVALID if a
 * memory part differs from the user's memory), their scores and pos_scores (n_rows, required),
 * and picks per row the k <= S memory slots with the largest p + alpha_t * std(p) (std over
 * the slot's recorded p, this call's included; alpha_t = NEGS_SP_SRNS_ALPHA *
 * min(1, step / NEGS_SP_SRNS_WARMUP)), best first, ties to the earlier slot, skipping a repeated
 * id and the row's positive (positives may be NULL). out_logq (may be NULL) is 0: the choice
 * is deterministic given the scores and has no sampling probability. NEGS_SP_SRNS_PASSED
 * counts the plain top-k-by-p picks it passed over (high score, low variance: likely false
 * negatives). Then the first row of each user in the call refreshes that user's memory: it
 * records p for the kept items and keeps S of the n candidates, drawn without replacement in
 * proportion to exp(score / NEGS_SP_SRNS_TEMPERATURE) (distinct ids and not the positive
 * first; a fresh item starts an empty history), keyed by (seed, step, row). Results never
 * depend on NEGS_SP_THREADS, nor on splitting the rows over calls when each user's rows of a
 * step are in one call. On failure the memory is unchanged. Neither call allocates.
 * negs_srns_prepare sizes (and clears) the memory for users 0 .. n_users - 1 with the current
 * S, R, W (changing them later makes the calls answer STATE until it is called again). */
NEGS_API int negs_srns_prepare(negs_sampler *srns, uint32_t n_users);
NEGS_API int negs_srns_candidates(negs_sampler *srns, uint64_t step, size_t n_rows,
                                  const uint32_t *users, const uint32_t *positives,
                                  uint32_t *out_items);
NEGS_API int negs_srns_select(negs_sampler *srns, uint64_t step, size_t n_rows,
                              const uint32_t *users, const uint32_t *positives,
                              const uint32_t *cand_items, const float *cand_scores,
                              const float *pos_scores, uint32_t k, uint32_t *out_items,
                              float *out_logq);

/* Exact log q of any item, without drawing: for each i, the row (users[i], positives[i]) at
 * `step` and the item items[i], out_logq[i] = log of the expected number of times the item
 * appears among k draws of that row: exactly the value negs_sampler_sample's out_logq gives
 * when it draws the item (every kind, exclusion, UNIQUE inclusion probabilities, a mixture's
 * shares at `step`), and -inf for an item the row never draws (excluded, weight 0, outside the
 * support). users / positives may be NULL as for negs_sampler_sample. Read-only: safe to call
 * from several threads on one handle while nobody changes it. EXHAUSTED when a row has no
 * eligible item (with UNIQUE: fewer than k); UNSUPPORTED on a HARD sampler or a mixture with
 * a HARD child (their selection depends on the model's scores). */
NEGS_API int negs_sampler_logq(const negs_sampler *s, uint64_t step, size_t n,
                               const uint32_t *users, const uint32_t *positives,
                               const uint32_t *items, uint32_t k, float *out_logq);
/* Restricts a UNIFORM sampler to the valid ids ids[0..n) (copied; any order, duplicates
 * ignored; each below n_items): rows draw uniformly among the eligible valid ids, and log q
 * is that of this distribution (-inf outside the set). ids = NULL with n = 0 restores the whole
 * catalogue. Other kinds answer UNSUPPORTED (with weights, give the other items weight 0). */
NEGS_API int negs_sampler_set_support(negs_sampler *s, const uint32_t *ids, uint32_t n);
/* Shared negatives: m items drawn once for a whole batch (the sampled columns of mixed
 * negatives) from a UNIFORM or POPULARITY sampler or a mixture of them, over its support, by
 * weight^alpha, with UNIQUE honoured, never drawing one of the batch's positives[0..n_rows)
 * while NEGS_SP_SHARED_EXCLUDE is 1 (the default). Per-user tables are not read (mask a user's
 * known positives in the loss). out_logq (m, may be NULL): log of each item's expected count
 * among the m draws; out_pos_logq (n_rows, may be NULL): the same for each batch positive
 * (-inf when excluded). The draws depend on (seed, step) only, not on ROW_OFFSET or threads.
 * The first call with a larger n_rows grows a workspace in the handle (NOMEM possible);
 * calls up to that size never allocate. EXHAUSTED when nothing (with UNIQUE: fewer than m
 * items) is left. */
NEGS_API int negs_sampler_sample_shared(negs_sampler *s, uint64_t step, size_t n_rows,
                                        const uint32_t *positives, uint32_t m,
                                        uint32_t *out_items, float *out_logq,
                                        float *out_pos_logq);
/* THE log q of mixed negatives (b in-batch columns, then m shared sampled ones): for each of
 * the b + m columns j, out_logq[j] = logaddexp(log b + logp[j], logq_shared[j]) =
 * log(b p_j + m q_j), with logp[j] the estimator's per-example log p of the column's item
 * (negs_freq_logq) and logq_shared[j] = log m + log q_j, the sampler's log q of that item
 * among the m shared draws (out_logq / out_pos_logq of negs_sampler_sample_shared, or
 * negs_sampler_logq with k = m); -inf where the sampler never draws the item. Pass out_logq
 * to negs_loss_inbatch's logq. Stateless; INVALID for NaN or +inf inputs or b = 0. */
NEGS_API int negs_mixed_logq(size_t b, size_t m, const float *logp, const float *logq_shared,
                             float *out_logq);

/* ---------------------------------------------------------------- frequency estimator */

typedef struct negs_freq negs_freq;

#define NEGS_FREQ_GAP 1    /* Yi et al. 2019: hashed arrays of last step and gap EMA */
#define NEGS_FREQ_SKETCH 2 /* count-min sketch, conservative update, exponential decay */

#define NEGS_FP_ALPHA 1     /* gap EMA rate in (0, 1], default 0.01 */
#define NEGS_FP_MAX_GAP 2   /* cap for unseen and cold items */
#define NEGS_FP_HALF_LIFE 3 /* sketch decay in steps; default 0 = none */
#define NEGS_FP_CONSERVATIVE 4 /* sketch: 0/1, default 1 = conservative update; 0 = plain
                                * count-min, whose merge equals the sketch of the union */

/* docs/freq.md has the details. buckets (1..2^32) per row, hashes rows (1..32); memory is
 * buckets * hashes * 16 bytes (GAP) or * 8 (SKETCH), plus a workspace of about 64 KiB.
 * update: one batch at one step; steps never go down (INVALID), the same step continues that
 * step's batch (the tables as if in one call; the rate only to rounding), duplicates are
 * counted. prob: per-example probability in [1 / (MAX_GAP * examples per step), 1] and never
 * below FLT_MIN (log q >= -87.4, finite); STATE before any id was seen. merge: SKETCHes of
 * equal shape, seed and half-life (else INVALID); GAP: UNSUPPORTED; an estimator into itself:
 * INVALID.
 * load: NULL with NEGS_E_FORMAT for any damaged image (docs/FORMAT.md). */
NEGS_API negs_freq *negs_freq_create(int kind, size_t buckets, uint32_t hashes, uint64_t seed);
NEGS_API void negs_freq_free(negs_freq *f);
NEGS_API int negs_freq_set_param(negs_freq *f, int param, double value);
NEGS_API int negs_freq_get_param(const negs_freq *f, int param, double *value);
NEGS_API int negs_freq_update(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n);
NEGS_API int negs_freq_prob(const negs_freq *f, const uint64_t *ids, size_t n, float *out_p);
NEGS_API int negs_freq_logq(const negs_freq *f, const uint64_t *ids, size_t n, float *out_logq);
NEGS_API int negs_freq_save(const negs_freq *f, void *buf, size_t cap, size_t *size);
NEGS_API negs_freq *negs_freq_load(const void *buf, size_t size);
NEGS_API int negs_freq_merge(negs_freq *into, const negs_freq *other);
NEGS_API int negs_freq_reset(negs_freq *f);
/* log P(the id is in a batch of batch_size examples) = log(1 - (1 - p)^batch_size), with p the
 * per-example probability of negs_freq_prob, computed stably (log1p/expm1). For a batch whose
 * candidates are de-duplicated; with one column per example subtract negs_freq_logq instead
 * (docs/freq.md says why). Read-only. */
NEGS_API int negs_freq_logq_batch(const negs_freq *f, const uint64_t *ids, size_t n,
                                  size_t batch_size, float *out_logq);
/* uint32 ids (the item indices of samplers and losses): each call gives exactly what its
 * uint64 twin gives for the same ids widened to uint64 (bit-identical state and outputs), so
 * one estimator may be fed by either. */
NEGS_API int negs_freq_update_u32(negs_freq *f, uint64_t step, const uint32_t *ids, size_t n);
NEGS_API int negs_freq_prob_u32(const negs_freq *f, const uint32_t *ids, size_t n, float *out_p);
NEGS_API int negs_freq_logq_u32(const negs_freq *f, const uint32_t *ids, size_t n,
                                float *out_logq);
NEGS_API int negs_freq_logq_batch_u32(const negs_freq *f, const uint32_t *ids, size_t n,
                                      size_t batch_size, float *out_logq);
/* One pass for a training step: negs_freq_update(f, step, ids, n), then out_logq[i] = log q of
 * ids[i] read AFTER the update, bit-identical to negs_freq_logq right after negs_freq_update,
 * but hashing each id once (for batches up to 8192 / hashes ids, at least 512; larger ones
 * are hashed twice in part). After, because every in-batch candidate is in the batch by
 * construction: the estimate that has seen this batch is the one Yi et al. use, and an id new
 * in this batch gets its first-sight estimate instead of the floor 1 / (MAX_GAP * examples per
 * step). Errors as negs_freq_update (out_logq NULL with n > 0 is INVALID); on an error nothing
 * changed. n = 0 only advances the clock. */
NEGS_API int negs_freq_update_logq(negs_freq *f, uint64_t step, const uint64_t *ids, size_t n,
                                   float *out_logq);
NEGS_API int negs_freq_update_logq_u32(negs_freq *f, uint64_t step, const uint32_t *ids,
                                       size_t n, float *out_logq);

/* ---------------------------------------------------------------- losses */

typedef struct negs_loss negs_loss;

#define NEGS_LOSS_BCE 1
#define NEGS_LOSS_BPR 2
#define NEGS_LOSS_HINGE 3
#define NEGS_LOSS_SOFTMAX 4
#define NEGS_LOSS_LISTNET 5

#define NEGS_LP_TEMPERATURE 1 /* default 1 */
#define NEGS_LP_MARGIN 2      /* hinge, default 1 */
#define NEGS_LP_REDUCTION 3   /* NEGS_REDUCE_MEAN (default), NEGS_REDUCE_SUM, NEGS_REDUCE_NONE */
#define NEGS_LP_THREADS 4     /* default 1; results bit-identical for any value */
#define NEGS_LP_FORCE_SCALAR 5 /* 0/1, default 0: 1 forces the portable kernels */
#define NEGS_LP_KERNEL 6       /* read-only: the kernel in use, a NEGS_KERNEL_* value */
/* 0/1, default 0. 1: scores are cosines, i.e. dot products of the L2-normalised rows
 * x / ||x||_2 (then divided by the temperature as usual), and the gradients are taken through
 * the normalisation (they are the gradients with respect to the raw, unnormalised rows). A row
 * whose L2 norm (computed in double) is below 1e-30, a zero row included, has no direction:
 * the call answers NEGS_E_INVALID naming the array and row, and writes nothing. */
#define NEGS_LP_COSINE 7
/* SOFTMAX only (other kinds: NEGS_E_UNSUPPORTED); in [0, 1), default 0. tau+ > 0: the debiased
 * contrastive loss of Chuang et al. (NeurIPS 2020) in negs_loss_scores and the in-batch calls,
 * -log(e^pos / (e^pos + N Ng)) with Ng = max((mean_j e^neg_j - tau+ e^pos) / (1 - tau+),
 * e^(-1/T)) over the logits, N the row's unmasked negatives; the floor's branch gives the
 * negatives no gradient. 0 is the plain softmax, bit for bit. See docs/losses.md. */
#define NEGS_LP_TAU_PLUS 8
/* The products of the fused in-batch softmax (negs_loss_inbatch, _indexed, _indexed_rows):
 * NEGS_PRECISION_FP32 (default) or NEGS_PRECISION_BF16. With BF16 the embeddings stay float
 * in the caller's buffers; the rows the products read (after normalisation with
 * NEGS_LP_COSINE) are rounded to bfloat16 (round to nearest even) for the logits and for both
 * gradient products, du = G V and dv = G^T U, and so is G = coef (p - [i == j]) itself, once
 * per call, the same rounded G for both products. The exp, the sums and the outputs stay
 * float: the loss is that of the rounded rows, the gradients within G's rounding (2^-9
 * relative per term) of its gradients. A row entry that rounds to Inf
 * (|x| >= 3.3961e38, half an ulp past the largest bf16) makes the call NEGS_E_INVALID. A
 * value other than these two: NEGS_E_INVALID. BF16 on a handle that is not
 * NEGS_LOSS_SOFTMAX: NEGS_E_UNSUPPORTED (the score-level losses take scores, not embeddings;
 * FP32 is accepted on every kind). See docs/inbatch.md. */
#define NEGS_LP_PRECISION 9

#define NEGS_PRECISION_FP32 0
#define NEGS_PRECISION_BF16 1
/* Read-only, see negs_loss_set_telemetry: the t in force (0: off), and the masked (row,
 * column) pairs of the last in-batch call made with telemetry on: accidental hits (a column
 * holding the row's own item) and known positives of the row's user (other items). */
#define NEGS_LP_TELEMETRY_TOP 10
#define NEGS_LP_MASKED_HITS 11
#define NEGS_LP_MASKED_KNOWN 12
/* Read-only: the kernel of the NEGS_PRECISION_BF16 products on this handle, chosen at
 * creation (NEGS_LP_FORCE_SCALAR = 1 gives the portable one): NEGS_BF16_KERNEL_PORTABLE
 * (the rows and G rounded to bf16 values held as float, multiplied by the fp32 kernels of
 * NEGS_LP_KERNEL) or NEGS_BF16_KERNEL_AVX512BF16 (vdpbf16ps on bf16 pairs), the latter where
 * the CPU has AVX512-BF16 and vdpbf16ps's rate, measured once per process, is at least 1.25x
 * the FMA units' (the environment's NEGS_FORCE_BF16=native or =portable forces a path). Both
 * compute the same rounded products; their fp32 sums differ in order (see docs/inbatch.md for
 * the bound). */
#define NEGS_LP_BF16_KERNEL 13
#define NEGS_BF16_KERNEL_PORTABLE 0
#define NEGS_BF16_KERNEL_AVX512BF16 1
#define NEGS_TELEMETRY_MAX_TOP 64

#define NEGS_KERNEL_SCALAR 0
#define NEGS_KERNEL_AVX2 1
#define NEGS_KERNEL_AVX512 2

#define NEGS_REDUCE_MEAN 0
#define NEGS_REDUCE_SUM 1
#define NEGS_REDUCE_NONE 2

NEGS_API negs_loss *negs_loss_create(int kind);
NEGS_API void negs_loss_free(negs_loss *l);
NEGS_API int negs_loss_set_param(negs_loss *l, int param, double value);
NEGS_API int negs_loss_get_param(const negs_loss *l, int param, double *value);
NEGS_API int negs_loss_scores(negs_loss *l, size_t n, uint32_t k, const float *pos,
                              const float *neg, const float *neg_logq, const uint8_t *neg_mask,
                              float *loss, float *d_pos, float *d_neg);
/* Fused in-batch softmax (SOFTMAX handles only; other kinds: NEGS_E_UNSUPPORTED). u: b x dim
 * queries; v: (b+m) x dim, row i < b is query i's positive, then m shared negatives. Logits
 * u_i.v_j / temperature - logq_j; row i's target is column i; columns j != i with row i's item
 * id, or holding a known positive of user_ids[i], are masked. logq_j = -inf for j >= b marks
 * column j as no candidate: masked for every row, exactly zero contribution and dv_j = 0
 * (-inf for j < b, +inf or NaN: NEGS_E_INVALID). loss: 1 value, or b with
 * NEGS_REDUCE_NONE; du, dv (may be NULL): gradients of the reduced loss. Memory grows with
 * (b+m) dim, never b (b+m); user_ids need item_ids and negs_loss_set_positives (else
 * NEGS_E_STATE). See docs/inbatch.md. */
NEGS_API int negs_loss_inbatch(negs_loss *l, size_t b, size_t m, size_t dim, const float *u,
                               const float *v, const float *logq, const uint32_t *item_ids,
                               const uint32_t *user_ids, float *loss, float *du, float *dv);
/* The in-batch softmax on rows of the caller's tables, for dot-product (or, with
 * NEGS_LP_COSINE, cosine) two-tower models: u_i = user_emb[user_idx[i]] (user_emb n_users x
 * dim), v_j = item_emb[item_idx[j]] (item_emb n_items x dim, j < b + m), then exactly
 * negs_loss_inbatch (same numbers, bit for bit, as gathering the rows and calling it). The
 * indices are the ids: columns sharing row i's item_idx are masked (accidental hits), and
 * when known positives are set (negs_loss_set_positives), so are the columns holding a known
 * positive of user user_idx[i] (indices must then be in the table's range). logq: b + m or
 * NULL, as for negs_loss_inbatch (-inf: no candidate). Every index is checked before
 * anything is read (NEGS_E_INVALID naming the array and position), as is every row read (NaN
 * or Inf; cosine: a norm below 1e-30); on failure no gradient is written. No allocation once
 * the handle has seen the shape; bit-identical for any NEGS_LP_THREADS.
 * _indexed ADDS the gradients of the reduced loss into d_user_emb (n_users x dim) and
 * d_item_emb (n_items x dim), either may be NULL: first the users' rows in order i = 0 .. b-1,
 * then the items' in order j = 0 .. b+m-1, so repeated indices and a shared table (the same
 * buffer for both) get a fixed order. See docs/inbatch.md. */
NEGS_API int negs_loss_inbatch_indexed(negs_loss *l, size_t b, size_t m, size_t dim,
                                       const float *user_emb, uint32_t n_users,
                                       const float *item_emb, uint32_t n_items,
                                       const uint32_t *user_idx, const uint32_t *item_idx,
                                       const float *logq, float *loss, float *d_user_emb,
                                       float *d_item_emb);
/* _indexed_rows WRITES one gradient row per gathered row instead, for sparse optimisers (the
 * indices are the caller's user_idx, item_idx): du_rows (b x dim) and dv_rows ((b+m) x dim)
 * are exactly negs_loss_inbatch's du and dv on the gathered rows; either may be NULL. */
NEGS_API int negs_loss_inbatch_indexed_rows(negs_loss *l, size_t b, size_t m, size_t dim,
                                            const float *user_emb, uint32_t n_users,
                                            const float *item_emb, uint32_t n_items,
                                            const uint32_t *user_idx, const uint32_t *item_idx,
                                            const float *logq, float *loss, float *du_rows,
                                            float *dv_rows);
NEGS_API int negs_loss_set_positives(negs_loss *l, const negs_csr *positives);
/* False-negative telemetry of the fused in-batch calls (SOFTMAX handles; other kinds:
 * NEGS_E_UNSUPPORTED). t in 1..NEGS_TELEMETRY_MAX_TOP turns it on: every later
 * negs_loss_inbatch (and _indexed, _indexed_rows) call writes, for each row i < b, the t
 * hardest live negatives its log-sum-exp pass saw: out_cols[i*t + r] the column j (0 .. b+m-1,
 * never i, never a masked column) and out_logits[i*t + r] its logit u_i.v_j / T - logq_j, best
 * first (larger logit, ties to the smaller column); a row with fewer than t live negatives
 * ends in (UINT32_MAX, -inf) entries. It also records the call's masked pairs, read with
 * negs_loss_get_param (NEGS_LP_MASKED_HITS, NEGS_LP_MASKED_KNOWN). The buffers (max_rows * t
 * entries each, kept by the caller while set) bound b: a call with b > max_rows is
 * NEGS_E_INVALID. t = 0 turns it off (the pointers are ignored); off, the calls do no such
 * work and give the same bytes. Bit-identical for any NEGS_LP_THREADS; no logits are stored.
 * On a failed call the buffers are unspecified. See docs/inbatch.md. */
NEGS_API int negs_loss_set_telemetry(negs_loss *l, uint32_t t, size_t max_rows,
                                     uint32_t *out_cols, float *out_logits);
NEGS_API int negs_adv_perturb(size_t n, size_t dim, const float *grad, float eps,
                              float *out_delta);

/* Synthetic hard negatives (docs/losses.md): each output row is a convex mix
 * c * A + (1 - c) * B of two source rows of one input row, L2-normalised when normalize != 0.
 * Sources: the row's anchor (NEGS_SYNTH_ANCHOR) or its negative j, at
 * neg + (i * neg_stride + j) * dim (neg_stride = k: each row its own k negatives; 0: k
 * negatives shared by every row, e.g. a MoCo queue).
 * NEGS_SYNTH_MOCHI (Kalantidis et al. 2020; anchor = the query): the row's hard list is its
 * n_hard hardest negatives (hard_idx: their slots, hardest first; else the n_hard highest
 * neg_scores, ties to the lower slot, n_hard <= 4096; else slots 0..n_hard-1); s_pairs rows
 * mix two distinct members, c ~ U(0, 1), then s_anchor rows mix the query with one member,
 * c ~ U(0, 1/2) on the query. NEGS_SYNTH_MIXGCF (Huang et al. 2021; anchor = the positive):
 * k rows per row, negative j mixed with the positive at one c ~ U(0, 1) per row; n_hard,
 * s_pairs, s_anchor must be 0 and neg_scores, hard_idx NULL.
 * out: n * m rows of dim (m = s_pairs + s_anchor, or k), row-major. For the backward pass,
 * optional per output row: out_src (2 uint32: A's and B's source), out_coef (c), out_inv_norm
 * (1 / ||mix|| before normalising; 1 without). Draws are keyed by (seed, step, row): one output
 * row does not depend on threads, call order or how many others are asked for. Every input is
 * checked before anything is written (NaN/Inf, indices, sizes: NEGS_E_INVALID); a mix of norm
 * below 1e-30 to normalise fails with out partly written. Stateless and thread-safe. */
#define NEGS_SYNTH_MOCHI 1
#define NEGS_SYNTH_MIXGCF 2
#define NEGS_SYNTH_ANCHOR 0xFFFFFFFFu
NEGS_API int negs_synth_negatives(int method, uint64_t seed, uint64_t step, size_t n,
                                  size_t dim, uint32_t k, const float *anchor, const float *neg,
                                  size_t neg_stride, const float *neg_scores,
                                  const uint32_t *hard_idx, uint32_t n_hard, uint32_t s_pairs,
                                  uint32_t s_anchor, int normalize, float *out,
                                  uint32_t *out_src, float *out_coef, float *out_inv_norm);

/* Indexed score-level losses for dot-product models (docs/losses.md). Row i's scores are
 * user_emb[user_idx[i]] . item_emb[pos_idx[i]] and . item_emb[neg_idx[i*k+j]] (rows of dim
 * floats; cosines of those rows with NEGS_LP_COSINE = 1), computed with the library's SIMD
 * dot product; the loss is then exactly negs_loss_scores on those scores with the same
 * neg_logq and neg_mask (a masked slot's neg_idx is never read). loss: 1 value, or n with
 * NEGS_REDUCE_NONE. Every index is checked before anything is computed (NEGS_E_INVALID naming
 * the array and position), as is every score (NaN/Inf rows, overflow; cosine: a row of norm
 * below 1e-30); on failure the gradient outputs are untouched. A gradient entry that
 * overflows float (finite inputs near 3.4e38, a tau+ coefficient above 1) is NEGS_E_INVALID
 * found after writing: the rows (or the tables' touched rows) then hold partial values. The
 * workspace lives in the handle: repeated calls of the same shape never allocate. Results are
 * bit-identical for any NEGS_LP_THREADS.
 * _indexed ADDS the gradients of the reduced loss into the caller's tables d_user_emb
 * (n_users x dim) and d_item_emb (n_items x dim), either may be NULL; a table row hit several
 * times receives its contributions in row order (the positive, then the negatives by slot).
 * The two may be the same buffer (a shared table), and must not overlap the inputs. */
NEGS_API int negs_loss_scores_indexed(negs_loss *l, size_t n, uint32_t k, size_t dim,
                                      const float *user_emb, uint32_t n_users,
                                      const float *item_emb, uint32_t n_items,
                                      const uint32_t *user_idx, const uint32_t *pos_idx,
                                      const uint32_t *neg_idx, const float *neg_logq,
                                      const uint8_t *neg_mask, float *loss, float *d_user_emb,
                                      float *d_item_emb);
/* _indexed_rows WRITES one gradient row per gathered row instead, for sparse optimisers (the
 * indices are the caller's own user_idx, pos_idx, neg_idx): d_user_rows (n x dim), d_pos_rows
 * (n x dim), d_neg_rows (n*k x dim, zero in masked slots); any may be NULL. */
NEGS_API int negs_loss_scores_indexed_rows(negs_loss *l, size_t n, uint32_t k, size_t dim,
                                           const float *user_emb, uint32_t n_users,
                                           const float *item_emb, uint32_t n_items,
                                           const uint32_t *user_idx, const uint32_t *pos_idx,
                                           const uint32_t *neg_idx, const float *neg_logq,
                                           const uint8_t *neg_mask, float *loss,
                                           float *d_user_rows, float *d_pos_rows,
                                           float *d_neg_rows);

/* ---------------------------------------------------------------- cross-batch memory */

/* Cross-batch negatives (CBNS, Wang et al. SIGIR 2021; the MoCo / MoCHi queue): a FIFO ring of
 * the item embeddings, item ids and log q of recent batches, laid out as negs_loss_inbatch's m
 * extra columns. Capacity and dim are fixed at creation; nothing is allocated afterwards. The
 * entries are constants: the gradient negs_loss_inbatch writes for their rows of dv is to be
 * ignored (docs/inbatch.md, "Cross-batch memory"). Uses no other handle. */
typedef struct negs_xbm negs_xbm;

/* Entries older than this many steps (age = layout step - push step) are laid out with
 * logq = -inf (no candidate). A whole number >= 0 (up to 2^53) or +inf; default +inf. */
#define NEGS_XP_MAX_AGE 1
#define NEGS_XP_CAPACITY 2 /* read-only: entries the ring holds at most */
#define NEGS_XP_DIM 3      /* read-only: floats per embedding */
#define NEGS_XP_SIZE 4     /* read-only: entries held now (0 .. capacity) */

/* capacity: 1 .. INT_MAX entries; dim >= 1; memory (4 dim + 16) capacity bytes. */
NEGS_API negs_xbm *negs_xbm_create(size_t capacity, size_t dim);
NEGS_API void negs_xbm_free(negs_xbm *x);
NEGS_API int negs_xbm_set_param(negs_xbm *x, int param, double value);
NEGS_API int negs_xbm_get_param(const negs_xbm *x, int param, double *value);
/* Empties the ring (the parameters stay). */
NEGS_API int negs_xbm_reset(negs_xbm *x);
/* Appends n entries at `step` in row order: emb (n x dim), item_ids (n), logq (n, or NULL:
 * 0, no correction; e.g. the estimator's log q of the batch). When full, the oldest entries
 * are overwritten. NEGS_E_INVALID (and nothing changes) for n > capacity, dim != the
 * handle's, NULL arrays with n > 0, a NaN or Inf in emb or logq, or a step below the last
 * push's. NEGS_OK. */
NEGS_API int negs_xbm_push(negs_xbm *x, uint64_t step, size_t n, size_t dim, const float *emb,
                           const uint32_t *item_ids, const float *logq);
/* Writes the m entries held, newest first, after the caller's b positives: entry k (k = 0 the
 * newest) into row b + k of v (n_rows x dim), logq[b + k] (its pushed log q, or -inf when its
 * age step - push step exceeds NEGS_XP_MAX_AGE) and item_ids[b + k] (item_ids may be NULL).
 * Rows and entries below b are not touched. Ages never decrease with k, so the live entries
 * are the first *out_live (may be NULL); out_age (m entries, may be NULL) gets each age. Pass
 * the same v, logq, item_ids with m to negs_loss_inbatch: accidental hits and known positives
 * in the memory are masked as for any column. Returns m (0 .. capacity), or NEGS_E_INVALID
 * (nothing written) for NULL v or logq, dim != the handle's, n_rows < b + m, or step below the
 * newest entry's. A read-only query (see Thread safety above). */
NEGS_API int negs_xbm_layout(const negs_xbm *x, uint64_t step, size_t b, size_t dim,
                             size_t n_rows, float *v, float *logq, uint32_t *item_ids,
                             uint64_t *out_age, size_t *out_live);

#ifdef __cplusplus
}
#endif

#endif /* NEGSAMPLE_H */
