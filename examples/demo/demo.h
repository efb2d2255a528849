/* The demo trainer's pieces: data (load, synthesise, split), the MF model and its optimiser,
 * evaluation, the strategies, the training loop and the progress display. One header, since
 * they are all parts of one example program. */
#ifndef DEMO_H
#define DEMO_H

#include <negsample.h>
#include <stddef.h>
#include <stdint.h>

#define DIM 64
#define TOPK 10

/* ---------------------------------------------------------------- host randomness */

/* SplitMix64 for the host's own draws (synthetic data, split, shuffles, init). */
typedef struct {
    uint64_t s;
} host_rng;
uint64_t rng_next(host_rng *r);
double rng_uniform(host_rng *r); /* [0, 1) */
double rng_normal(host_rng *r);

/* ---------------------------------------------------------------- data */

typedef struct {
    uint32_t user, item;
} pair;

typedef struct {
    char name[256];          /* what was used, for the table and --json */
    uint32_t n_users, n_items; /* dense ids 0..n-1 */
    pair *all;
    size_t n_all;
    /* RecBole's split, per user 8:1:1 at random; each list grouped by user */
    pair *train, *valid, *test;
    size_t n_train, n_valid, n_test;
    negs_csr *train_csr; /* known positives: excluded from negatives and from every ranking */
    negs_csr *valid_csr; /* also excluded from the test ranking */
    negs_csr *test_csr;
    double *item_count; /* train interactions per item */
    uint8_t *valid_only; /* NULL: validate on every user; else the sampled users (1) */
} dataset;

/* Reads a RecBole .inter file (header line naming user_id / item_id columns) or `user item`
 * lines; ids are integers, remapped densely. 0, or -1 with a one-line reason in err. */
int data_load(const char *path, dataset *d, char *err, size_t err_len);
/* The seeded synthetic set (see data_synth.c for the generative story). */
int data_synth(uint32_t n_users, uint32_t n_items, uint64_t seed, dataset *d, char *err,
               size_t err_len);
/* RecBole's ratio split and the CSR tables. */
int data_split(dataset *d, uint64_t seed, char *err, size_t err_len);
/* Validation (early stopping only) on n users drawn at random, the same for every strategy. */
int data_sample_valid_users(dataset *d, uint32_t n, uint64_t seed);
void data_free(dataset *d);

/* ---------------------------------------------------------------- model and optimiser */

typedef struct {
    float *w, *m, *v, *g; /* parameters, Adam moments, gradient accumulator */
    size_t rows;
} table;

typedef struct {
    table user, item;
    long t; /* Adam step */
} model;

int model_init(model *mo, uint32_t n_users, uint32_t n_items, host_rng *r);
void model_free(model *mo);
/* Dense Adam as torch.optim.Adam (rows never touched are skipped until their first gradient);
 * zeroes the gradients. */
void model_adam(model *mo, float lr);
void model_copy(model *dst, const model *src); /* parameters only (best-epoch snapshot) */
/* L2 on the rows an example used: g += l2 * w (RecBole's EmbLoss style, per occurrence). */
void table_l2(table *t, const uint32_t *rows, size_t n, float l2);
static inline float dot64(const float *a, const float *b)
{
    float s[8] = {0}; /* 8 lanes: the compiler keeps them in one vector register */
    for (int d = 0; d < DIM; d += 8)
        for (int j = 0; j < 8; j++) s[j] += a[d + j] * b[d + j];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* ---------------------------------------------------------------- evaluation */

typedef struct {
    double recall, ndcg;
    double random_recall, random_ndcg; /* expected value of a uniformly random ranking */
} metrics;

/* Full ranking over the items outside `seen` (and `also`, may be NULL) for each user with items
 * in `target` (and only[u] = 1 when `only` is given); Recall@10, NDCG@10 averaged over those
 * users. 0, or -1 out of memory. */
int evaluate(const model *mo, const dataset *d, const negs_csr *target, const negs_csr *seen,
             const negs_csr *also, const uint8_t *only, int threads, metrics *out);

/* ---------------------------------------------------------------- strategies */

enum strategy_kind {
    S_UNIFORM,      /* 1. uniform + BPR */
    S_POPULARITY,   /* 2. popularity^0.75 + BPR */
    S_DNS,          /* 3. HARD TOP of c uniform candidates + BPR */
    S_CURRICULUM,   /* 4. MIXTURE of uniform and HARD on a schedule + BPR */
    S_INBATCH,      /* 5. in-batch softmax */
    S_INBATCH_LOGQ, /* 6. in-batch softmax with logQ from negs_freq */
    S_MIXED,        /* 7. in-batch + m shared sampled negatives, mixed log q */
    S_WALK,         /* random-walk negatives (NEGS_SAMPLER_WALK) + BPR */
    S_SAMPLED_SOFTMAX, /* m uniform negatives per positive, logQ-corrected softmax */
    S_SRNS,            /* SRNS: a per-user memory, score + alpha * std of recent scores + BPR */
    S_CROSS_BATCH,     /* in-batch-logq + a negs_xbm of recent batches' item rows (strategy_xbm.c) */
    S_DEBIASED         /* inbatch-logq with the debiased loss, NEGS_LP_TAU_PLUS (strategy_debiased.c) */
};

typedef struct {
    const char *name;
    enum strategy_kind kind;
    const char *what;  /* one line for --help and the table */
    int batch;         /* examples per step */
    double lr, l2;
    double temperature; /* softmax strategies */
    int candidates;     /* DNS / curriculum */
    /* sampled negatives (--k): mixed, shared by the batch (its m); BPR strategies and
     * sampled-softmax, per positive (0: one); see strategy_negatives; cross-batch: the
     * memory's rows */
    int extra;
} strategy_def;

/* The number of sampled negatives of a strategy (what --k sets): per positive for the BPR
 * strategies and sampled-softmax, shared by the batch for mixed, 0 for the in-batch-only
 * ones (their negatives are the batch's positives). */
int strategy_negatives(const strategy_def *def);
/* The curriculum's schedule "E:H,E:H,...": DNS share H at epoch E, piecewise linear, epochs
 * strictly increasing from >= 0, shares in [0, 1]. Replaces the default (CURRICULUM_* in
 * strategy.c) for every curriculum created afterwards; 0, or -1 with the reason in err. */
int curriculum_set_schedule(const char *spec, char *err, size_t err_len);
/* The schedule in use as "E:H,..." (for --help). */
void curriculum_schedule_text(char *buf, size_t cap);

extern const strategy_def STRATEGIES[];
extern const size_t N_STRATEGIES;
const strategy_def *strategy_find(const char *name);
/* Whether a run without --strategies includes it (the slow ones would take make demo past two
 * minutes on 2 cores; --strategies all runs them too). */
int strategy_is_default(const strategy_def *def);

/* strategy_walk.c: the random-walk strategy's sampler over the training graph; NULL on failure
 * (the reason in negs_last_error()). */
negs_sampler *walk_sampler(const dataset *d, uint64_t seed, int threads);

/* strategy_debiased.c: the debiased strategy's tau+ (--tau-plus sets it) and its loss setup
 * (a status). */
extern double debiased_tau_plus;
int debiased_setup(negs_loss *loss);

typedef struct strategy strategy;
/* Builds the handles a strategy needs; NULL with the reason in err. */
strategy *strategy_create(const strategy_def *def, const dataset *d, uint64_t seed, int threads,
                          long steps_per_epoch, char *err, size_t err_len);
/* One optimisation step on examples batch[0..n): accumulates gradients into the model's
 * tables and returns the loss in *loss; 0 or -1 with the reason in err. */
int strategy_step(strategy *s, model *mo, uint64_t step, const pair *batch, size_t n,
                  float *loss, char *err, size_t err_len);
/* The sampled negatives drawn so far (slots handed to the loss), for --json. */
long long strategy_drawn(const strategy *s);
/* NEGS_PRECISION_* of the softmax strategies' in-batch products (the BPR ones ignore it);
 * 0 or -1 with the reason in err. */
int strategy_set_precision(strategy *s, int precision, char *err, size_t err_len);
void strategy_free(strategy *s);

/* strategy_srns.c: the SRNS sampler of the "srns" strategy and its per-step buffers. */
typedef struct srns_step srns_step;
srns_step *srns_step_create(const strategy_def *def, const dataset *d, uint64_t seed, int threads,
                            long steps_per_epoch);
/* One negative per row: the memory's candidates scored by the model, then the SRNS pick. */
int srns_step_negatives(srns_step *t, const model *mo, uint64_t step, size_t n,
                        const uint32_t *users, const uint32_t *items, uint32_t *neg, char *err,
                        size_t err_len);
void srns_step_free(srns_step *t);

/* The cross-batch strategy's memory and buffers (strategy_xbm.c). */
typedef struct xbm_state xbm_state;
xbm_state *xbm_state_create(const strategy_def *def, char *err, size_t err_len);
/* One step: gathers the batch's rows, lays the memory out after them, the in-batch softmax with
 * logQ (known positives masked by the loss), adds the batch rows' gradients into the tables,
 * then pushes the batch into the memory. 0, or -1 with the reason in err. */
int xbm_step(xbm_state *x, negs_loss *loss, negs_freq *freq, model *mo, uint64_t step,
             const uint32_t *users, const uint32_t *items, size_t n, float *loss_out, char *err,
             size_t err_len);
void xbm_state_free(xbm_state *x);

/* ---------------------------------------------------------------- training */

typedef struct {
    int max_epochs, patience, threads;
    uint64_t seed;
    int eval_every;
    int precision; /* NEGS_PRECISION_* (strategy_set_precision) */
} train_opts;

#define MAX_EPOCHS 1000

typedef struct {
    metrics test;      /* at the best validation epoch */
    double best_valid; /* validation NDCG@10 there */
    int best_epoch, epochs;
    double seconds, train_seconds;
    double examples_per_s; /* training examples per second of training time */
    long long negatives;   /* sampled negatives drawn (strategy_drawn) */
    int n_hist;
    double hist_valid[MAX_EPOCHS]; /* validation NDCG@10 after epoch i+1 */
    double hist_secs[MAX_EPOCHS];  /* seconds since the start, at that point */
    double hist_loss[MAX_EPOCHS];
    int hist_epoch[MAX_EPOCHS];
} train_result;

int train_strategy(const strategy_def *def, const dataset *d, const train_opts *o,
                   train_result *res, char *err, size_t err_len);

/* ---------------------------------------------------------------- progress */

void progress_epoch(const char *name, int epoch, int max_epochs, double loss,
                    double examples_per_s, double valid_ndcg, double secs_left);
void progress_done(void);
double now_seconds(void);

#endif
