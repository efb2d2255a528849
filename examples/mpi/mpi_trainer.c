/* Data-parallel matrix factorisation with libnegsample and MPI (docs/mpi.md).
 *
 * Every rank holds the whole model (user table U, item table V) and takes rows
 * [rank * b, (rank + 1) * b) of each global batch of B = ranks * b rows. Per step:
 *  - in-batch softmax with logQ over the global batch: each rank gathers the positives'
 *    embeddings and ids of all ranks (MPI_Allgather), so its rows see all B in-batch columns
 *    plus M shared sampled negatives (negs_sampler_sample_shared, keyed by (seed, step) only);
 *  - a BPR term on k per-row negatives drawn with NEGS_SP_ROW_OFFSET = rank * b, so the union
 *    over ranks is exactly what one process draws for the whole batch;
 *  - log q from one SKETCH estimator per rank (its own rows), merged every --merge-every steps
 *    (images gathered, loaded and negs_freq_merge'd in rank order: with NEGS_FP_CONSERVATIVE
 *    = 0 the merge is the sketch of the union, exactly);
 *  - dense gradients summed in rank order after MPI_Allgather (a fixed order, so a run is
 *    bit-reproducible for a given number of ranks), then SGD on every rank.
 * Checkpoints (--ckpt-dir, --ckpt-every) hold the model and every rank's estimator image;
 * --resume continues from the last complete one. --check verifies on rank 0, every step, that
 * the ranks' negatives equal one call for the whole batch and the merged estimator equals one
 * estimator fed the whole batch. */
#include <mpi.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mpi_trainer.h"

typedef struct {
    const char *data, *ckpt_dir;
    uint32_t n_users, n_items, dim, k, m;
    size_t batch, n_inter;
    uint64_t seed, steps, merge_every, ckpt_every, die_at;
    int die_rank, resume, check, quiet;
    double lr;
} mt_opts;

static int rank_, n_ranks_;

static void die(const char *what, int st)
{
    fprintf(stderr, "mpi_trainer rank %d: %s failed: %s (%s)\n", rank_, what,
            st ? negs_status_name(st) : "error", st ? negs_last_error() : "see above");
    MPI_Abort(MPI_COMM_WORLD, 1);
}
#define NEGS_TRY(call)                 \
    do {                               \
        int st_ = (call);              \
        if (st_ < 0) die(#call, st_);  \
    } while (0)

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) die("calloc", 0);
    return p;
}

static void usage(void)
{
    puts("mpirun -np P build/examples/mpi/mpi_trainer [options]\n"
         "  --data FILE        'user item ...' lines (e.g. ../shared/data/ml-100k/ml-100k.inter; other\n"
         "                     lines, like a header, are skipped); default: synthetic\n"
         "  --users N --items N --interactions N   synthetic set (1000, 2000, 50000)\n"
         "  --batch B          global batch, a multiple of P (256)\n"
         "  --dim D --k K --m M   embedding size, per-row negatives, shared negatives (32 4 64)\n"
         "  --steps N --lr X --seed S   (60, 0.05, 7)\n"
         "  --merge-every N    merge the ranks' estimators every N steps (1)\n"
         "  --ckpt-dir DIR --ckpt-every N   checkpoint every N steps (a multiple of merge-every)\n"
         "  --resume           continue from DIR's last complete checkpoint\n"
         "  --die-at T --die-rank R   rank R kills itself at step T (tests)\n"
         "  --check            verify negatives and estimator against one process, every step\n"
         "  --quiet            print only the summary");
}

static int parse(int argc, char **argv, mt_opts *o)
{
    *o = (mt_opts){NULL, NULL, 1000, 2000, 32, 4, 64, 256, 50000, 7, 60, 1, 0, UINT64_MAX,
                   -1, 0, 0, 0, 0.05};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int used = 1;
        if (!strcmp(a, "--resume")) o->resume = 1, used = 0;
        else if (!strcmp(a, "--check")) o->check = 1, used = 0;
        else if (!strcmp(a, "--quiet")) o->quiet = 1, used = 0;
        else if (!strcmp(a, "--help")) return usage(), 1;
        else if (!v) return fprintf(stderr, "mpi_trainer: %s needs a value\n", a), -1;
        else if (!strcmp(a, "--data")) o->data = v;
        else if (!strcmp(a, "--ckpt-dir")) o->ckpt_dir = v;
        else if (!strcmp(a, "--users")) o->n_users = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--items")) o->n_items = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--interactions")) o->n_inter = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--batch")) o->batch = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--dim")) o->dim = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--k")) o->k = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--m")) o->m = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--steps")) o->steps = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--lr")) o->lr = strtod(v, NULL);
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--merge-every")) o->merge_every = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--ckpt-every")) o->ckpt_every = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--die-at")) o->die_at = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--die-rank")) o->die_rank = atoi(v);
        else return fprintf(stderr, "mpi_trainer: unknown option %s (--help)\n", a), -1;
        i += used;
    }
    const char *bad = NULL;
    if (o->batch == 0 || o->batch % (size_t)n_ranks_) bad = "--batch must be a positive multiple of the rank count";
    else if (o->dim == 0 || o->k == 0 || o->m == 0) bad = "--dim, --k and --m must be positive";
    else if (o->merge_every == 0) bad = "--merge-every must be positive";
    else if (o->ckpt_every && o->ckpt_every % o->merge_every) bad = "--ckpt-every must be a multiple of --merge-every";
    else if ((o->ckpt_every || o->resume) && !o->ckpt_dir) bad = "--ckpt-every and --resume need --ckpt-dir";
    if (bad) return fprintf(stderr, "mpi_trainer: %s\n", bad), -1;
    return 0;
}

/* The training state of one rank. */
typedef struct {
    mt_opts o;
    mt_data d;
    size_t b, off, nu, nv, cols; /* local rows, first global row, table sizes, B + M */
    float *U, *V, *grad, *all_grads;
    negs_sampler *sampler, *check_sampler;
    negs_loss *softmax, *bpr;
    negs_freq *own, *merged, *check_freq;
    unsigned char *img, *all_imgs;
    size_t img_size;
    /* per-step buffers */
    uint32_t *all_items, *users, *pos, *neg, *gpos, *col_ids, *ids_perm, *all_neg, *one_neg;
    float *neg_logq, *shared_logq, *logp, *logq_shared, *col_logq, *logq_perm, *u_rows, *v_local,
        *v_gathered, *v_perm, *du, *dv, *check_logq, *all_logq;
    uint64_t neg_digest, freq_digest;
} mt_state;

static negs_freq *new_estimator(uint64_t seed)
{
    negs_freq *f = negs_freq_create(NEGS_FREQ_SKETCH, 4096, 4, seed);
    if (!f) die("negs_freq_create", NEGS_E_INVALID);
    NEGS_TRY(negs_freq_set_param(f, NEGS_FP_CONSERVATIVE, 0)); /* exact merges */
    return f;
}

static void setup(mt_state *s)
{
    mt_opts *o = &s->o;
    if (o->data) {
        if (mt_data_load(&s->d, o->data)) {
            fprintf(stderr, "mpi_trainer: cannot read interactions from %s\n", o->data);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    } else {
        mt_data_synth(&s->d, o->n_users, o->n_items, o->n_inter, o->seed);
    }
    s->b = o->batch / (size_t)n_ranks_;
    s->off = (size_t)rank_ * s->b;
    s->nu = (size_t)s->d.n_users * o->dim;
    s->nv = (size_t)s->d.n_items * o->dim;
    s->cols = o->batch + o->m;
    s->U = xcalloc(s->nu, sizeof(float));
    s->V = xcalloc(s->nv, sizeof(float));
    for (size_t i = 0; i < s->nu + s->nv; i++) { /* the same initial model on every rank */
        float x = (float)((double)(mt_hash(o->seed * 31 + i) >> 11) * 0x1.0p-53 - 0.5) * 0.2f;
        if (i < s->nu) s->U[i] = x;
        else s->V[i - s->nu] = x;
    }
    s->grad = xcalloc(s->nu + s->nv, sizeof(float));
    s->all_grads = n_ranks_ > 1 ? xcalloc((s->nu + s->nv) * (size_t)n_ranks_, sizeof(float)) : NULL;

    s->sampler = negs_sampler_create(NEGS_SAMPLER_POPULARITY, s->d.n_items, o->seed);
    if (!s->sampler) die("negs_sampler_create", NEGS_E_INVALID);
    NEGS_TRY(negs_sampler_set_weights(s->sampler, s->d.item_count, s->d.n_items));
    NEGS_TRY(negs_sampler_set_param(s->sampler, NEGS_SP_ROW_OFFSET, (double)s->off));
    s->softmax = negs_loss_create(NEGS_LOSS_SOFTMAX);
    s->bpr = negs_loss_create(NEGS_LOSS_BPR);
    if (!s->softmax || !s->bpr) die("negs_loss_create", NEGS_E_INVALID);
    NEGS_TRY(negs_loss_set_param(s->softmax, NEGS_LP_REDUCTION, NEGS_REDUCE_SUM));
    NEGS_TRY(negs_loss_set_param(s->bpr, NEGS_LP_REDUCTION, NEGS_REDUCE_SUM));
    s->own = new_estimator(o->seed);
    negs_freq_save(s->own, NULL, 0, &s->img_size); /* cap 0: only asks for the size */
    if (s->img_size == 0) die("negs_freq_save (size query)", NEGS_E_INVALID);
    s->img = xcalloc(s->img_size, 1);
    s->all_imgs = xcalloc(s->img_size * (size_t)n_ranks_, 1);
    if (o->check && !o->resume && rank_ == 0) { /* the reference starts at step 0 */
        s->check_sampler = negs_sampler_create(NEGS_SAMPLER_POPULARITY, s->d.n_items, o->seed);
        if (!s->check_sampler) die("negs_sampler_create", NEGS_E_INVALID);
        NEGS_TRY(negs_sampler_set_weights(s->check_sampler, s->d.item_count, s->d.n_items));
        s->check_freq = new_estimator(o->seed);
        s->one_neg = xcalloc(o->batch * o->k, sizeof(uint32_t));
        s->check_logq = xcalloc(s->d.n_items, sizeof(float));
    }
    size_t b = s->b, B = o->batch, dim = o->dim, C = s->cols;
    s->users = xcalloc(b, sizeof(uint32_t));
    s->pos = xcalloc(b, sizeof(uint32_t));
    s->neg = xcalloc(b * o->k, sizeof(uint32_t));
    s->all_neg = xcalloc(B * o->k, sizeof(uint32_t));
    s->gpos = xcalloc(B, sizeof(uint32_t));
    s->col_ids = xcalloc(C, sizeof(uint32_t));
    s->ids_perm = xcalloc(C, sizeof(uint32_t));
    s->neg_logq = xcalloc(b * o->k, sizeof(float));
    s->shared_logq = xcalloc(o->m, sizeof(float));
    s->logp = xcalloc(C, sizeof(float));
    s->logq_shared = xcalloc(C, sizeof(float));
    s->col_logq = xcalloc(C, sizeof(float));
    s->logq_perm = xcalloc(C, sizeof(float));
    s->u_rows = xcalloc(b * dim, sizeof(float));
    s->v_local = xcalloc(b * dim, sizeof(float));
    s->v_gathered = xcalloc(B * dim, sizeof(float));
    s->v_perm = xcalloc(C * dim, sizeof(float));
    s->du = xcalloc(b * dim, sizeof(float));
    s->dv = xcalloc(C * dim, sizeof(float));
    s->all_logq = xcalloc(s->d.n_items, sizeof(float));
    s->all_items = xcalloc(s->d.n_items, sizeof(uint32_t));
    for (uint32_t i = 0; i < s->d.n_items; i++) s->all_items[i] = i;
    s->neg_digest = s->freq_digest = 0xCBF29CE484222325ull;
}

/* merged = own_0 + own_1 + ... in rank order (the same handle on every rank). */
static void merge_estimators(mt_state *s)
{
    size_t size = s->img_size;
    NEGS_TRY(negs_freq_save(s->own, s->img, size, &size));
    MPI_Allgather(s->img, (int)size, MPI_BYTE, s->all_imgs, (int)size, MPI_BYTE, MPI_COMM_WORLD);
    negs_freq_free(s->merged);
    s->merged = negs_freq_load(s->all_imgs, size);
    if (!s->merged) die("negs_freq_load", NEGS_E_FORMAT);
    for (int r = 1; r < n_ranks_; r++) {
        negs_freq *other = negs_freq_load(s->all_imgs + (size_t)r * size, size);
        if (!other) die("negs_freq_load", NEGS_E_FORMAT);
        NEGS_TRY(negs_freq_merge(s->merged, other));
        negs_freq_free(other);
    }
    uint32_t n = s->d.n_items, *all = s->all_items;
    NEGS_TRY(negs_freq_logq_u32(s->merged, all, n, s->all_logq));
    s->freq_digest = mt_digest(s->freq_digest, s->all_logq, n * sizeof(float));
    if (s->check_freq) {
        NEGS_TRY(negs_freq_logq_u32(s->check_freq, all, n, s->check_logq));
        if (memcmp(s->check_logq, s->all_logq, n * sizeof(float))) {
            fprintf(stderr, "mpi_trainer: CHECK FAILED: the merged estimator differs from one "
                            "estimator fed the whole batch\n");
            MPI_Abort(MPI_COMM_WORLD, 3);
        }
    }
}

static void gather_rows(const float *table, const uint32_t *idx, size_t n, size_t dim, float *out)
{
    for (size_t i = 0; i < n; i++) memcpy(out + i * dim, table + (size_t)idx[i] * dim, dim * sizeof(float));
}

static void scatter_add(float *table, const uint32_t *idx, size_t n, size_t dim, const float *g)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < dim; j++) table[(size_t)idx[i] * dim + j] += g[i * dim + j];
}

/* Rank 0: the ranks' per-row negatives equal one call for the whole batch. */
static void check_negatives(mt_state *s, uint64_t step)
{
    MPI_Gather(s->neg, (int)(s->b * s->o.k), MPI_UNSIGNED, s->all_neg, (int)(s->b * s->o.k),
               MPI_UNSIGNED, 0, MPI_COMM_WORLD);
    if (rank_ != 0) return;
    s->neg_digest = mt_digest(s->neg_digest, s->all_neg, s->o.batch * s->o.k * sizeof(uint32_t));
    if (!s->check_sampler) return;
    NEGS_TRY(negs_sampler_sample(s->check_sampler, step, s->o.batch, NULL, NULL, s->o.k,
                                 s->one_neg, NULL));
    if (memcmp(s->one_neg, s->all_neg, s->o.batch * s->o.k * sizeof(uint32_t))) {
        fprintf(stderr, "mpi_trainer: CHECK FAILED at step %llu: the ranks' negatives differ "
                        "from one call for the whole batch\n", (unsigned long long)step);
        MPI_Abort(MPI_COMM_WORLD, 3);
    }
}

/* One training step; returns the global mean loss (the same on every rank). */
static double train_step(mt_state *s, uint64_t step)
{
    const mt_opts *o = &s->o;
    const size_t b = s->b, B = o->batch, M = o->m, dim = o->dim, C = s->cols;
    for (size_t i = 0; i < b; i++) mt_data_row(&s->d, o->seed, step, s->off + i, &s->users[i], &s->pos[i]);

    /* estimator: own rows every step, merged across ranks every merge_every steps */
    NEGS_TRY(negs_freq_update_u32(s->own, step, s->pos, b));
    MPI_Allgather(s->pos, (int)b, MPI_UNSIGNED, s->gpos, (int)b, MPI_UNSIGNED, MPI_COMM_WORLD);
    if (s->check_freq) NEGS_TRY(negs_freq_update_u32(s->check_freq, step, s->gpos, B));
    if (step % o->merge_every == 0 || !s->merged) merge_estimators(s);

    /* negatives: per-row ones at global row numbers, shared ones keyed by (seed, step) */
    NEGS_TRY(negs_sampler_sample(s->sampler, step, b, NULL, NULL, o->k, s->neg, s->neg_logq));
    check_negatives(s, step);
    memcpy(s->col_ids, s->gpos, B * sizeof(uint32_t));
    NEGS_TRY(negs_sampler_sample_shared(s->sampler, step, B, s->gpos, (uint32_t)M, s->col_ids + B,
                                        s->shared_logq, s->logq_shared));
    memcpy(s->logq_shared + B, s->shared_logq, M * sizeof(float));
    NEGS_TRY(negs_freq_logq_u32(s->merged, s->col_ids, C, s->logp));
    NEGS_TRY(negs_mixed_logq(B, M, s->logp, s->logq_shared, s->col_logq));

    /* columns: the item embeddings of every rank's positives (as an item tower's outputs
     * would be), own rows' first so that row i's target is column i, then the shared ones */
    gather_rows(s->V, s->pos, b, dim, s->v_local);
    MPI_Allgather(s->v_local, (int)(b * dim), MPI_FLOAT, s->v_gathered, (int)(b * dim), MPI_FLOAT,
                  MPI_COMM_WORLD);
    size_t c = 0;
    for (size_t pass = 0; pass < 2; pass++)
        for (size_t g = 0; g < B; g++) {
            int local = g >= s->off && g < s->off + b;
            if (local != (pass == 0)) continue;
            memcpy(s->v_perm + c * dim, s->v_gathered + g * dim, dim * sizeof(float));
            s->ids_perm[c] = s->gpos[g];
            s->logq_perm[c++] = s->col_logq[g];
        }
    gather_rows(s->V, s->col_ids + B, M, dim, s->v_perm + B * dim);
    memcpy(s->ids_perm + B, s->col_ids + B, M * sizeof(uint32_t));
    memcpy(s->logq_perm + B, s->col_logq + B, M * sizeof(float));
    gather_rows(s->U, s->users, b, dim, s->u_rows);

    /* losses (sums over the rank's rows) and gradients into dense tables */
    float loss[2] = {0.0f, 0.0f};
    memset(s->grad, 0, (s->nu + s->nv) * sizeof(float));
    float *dU = s->grad, *dV = s->grad + s->nu;
    NEGS_TRY(negs_loss_inbatch(s->softmax, b, C - b, dim, s->u_rows, s->v_perm, s->logq_perm,
                               s->ids_perm, NULL, &loss[0], s->du, s->dv));
    NEGS_TRY(negs_loss_scores_indexed(s->bpr, b, o->k, dim, s->U, s->d.n_users, s->V,
                                      s->d.n_items, s->users, s->pos, s->neg, NULL, NULL,
                                      &loss[1], dU, dV));
    scatter_add(dU, s->users, b, dim, s->du);
    scatter_add(dV, s->ids_perm, C, dim, s->dv);

    /* reduction in rank order: gather every rank's gradient, sum 0, 1, ..., P-1 */
    const float *sum = s->grad;
    size_t n = s->nu + s->nv;
    if (n_ranks_ > 1) {
        MPI_Allgather(s->grad, (int)n, MPI_FLOAT, s->all_grads, (int)n, MPI_FLOAT, MPI_COMM_WORLD);
        for (int r = 1; r < n_ranks_; r++)
            for (size_t i = 0; i < n; i++) s->all_grads[i] += s->all_grads[(size_t)r * n + i];
        sum = s->all_grads;
    }
    float scale = (float)(o->lr / (double)B);
    for (size_t i = 0; i < s->nu; i++) s->U[i] -= scale * sum[i];
    for (size_t i = 0; i < s->nv; i++) s->V[i] -= scale * sum[s->nu + i];

    float all_loss[2 * 64];
    float *al = n_ranks_ <= 64 ? all_loss : xcalloc(2 * (size_t)n_ranks_, sizeof(float));
    MPI_Allgather(loss, 2, MPI_FLOAT, al, 2, MPI_FLOAT, MPI_COMM_WORLD);
    double total = 0.0;
    for (int r = 0; r < n_ranks_; r++) total += (double)al[2 * r] + (double)al[2 * r + 1];
    if (al != all_loss) free(al);
    return total / (double)B;
}

static void checkpoint(mt_state *s, uint64_t next_step)
{
    const char *dir = s->o.ckpt_dir;
    if (rank_ == 0) mkdir(dir, 0777);
    MPI_Barrier(MPI_COMM_WORLD);
    int bad = mt_ckpt_write_freq(dir, next_step, rank_, s->own);
    if (rank_ == 0) {
        mt_ckpt_head h = {next_step, (uint32_t)n_ranks_, s->d.n_users, s->d.n_items, s->o.dim};
        bad |= mt_ckpt_write_model(dir, &h, s->U, s->V);
    }
    int any_bad = 0;
    MPI_Allreduce(&bad, &any_bad, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD);
    if (any_bad) die("writing the checkpoint", 0);
    if (rank_ == 0 && mt_ckpt_commit(dir, next_step)) die("committing the checkpoint", 0);
    MPI_Barrier(MPI_COMM_WORLD);
}

static uint64_t resume(mt_state *s)
{
    uint64_t step = 0;
    mt_ckpt_head h;
    if (mt_ckpt_latest(s->o.ckpt_dir, &step) ||
        mt_ckpt_read_model(s->o.ckpt_dir, step, &h, s->U, s->V, s->nu, s->nv)) {
        fprintf(stderr, "mpi_trainer: no readable checkpoint in %s\n", s->o.ckpt_dir);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    if (h.n_ranks != (uint32_t)n_ranks_ || h.dim != s->o.dim || h.n_items != s->d.n_items) {
        fprintf(stderr, "mpi_trainer: the checkpoint was written by %u ranks with dim %u and %u "
                        "items; resume with the same settings\n", h.n_ranks, h.dim, h.n_items);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    negs_freq *f = mt_ckpt_read_freq(s->o.ckpt_dir, step, rank_);
    if (!f) die("reading this rank's estimator image (negs_freq_load)", NEGS_E_FORMAT);
    negs_freq_free(s->own);
    s->own = f;
    return step;
}

static uint64_t model_digest(const mt_state *s)
{
    uint64_t h = mt_digest(0xCBF29CE484222325ull, s->U, s->nu * sizeof(float));
    return mt_digest(h, s->V, s->nv * sizeof(float));
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &n_ranks_);
    mt_state s;
    memset(&s, 0, sizeof s);
    int st = parse(argc, argv, &s.o);
    if (st) {
        MPI_Finalize();
        return st > 0 ? 0 : 2;
    }
    setup(&s);
    uint64_t first = s.o.resume ? resume(&s) : 0;
    double t0 = MPI_Wtime(), loss = 0.0;
    for (uint64_t step = first; step < s.o.steps; step++) {
        if (step == s.o.die_at && rank_ == s.o.die_rank) raise(SIGKILL);
        loss = train_step(&s, step);
        if (rank_ == 0 && !s.o.quiet) printf("step %llu loss %.9e\n", (unsigned long long)step, loss);
        if (s.o.ckpt_every && (step + 1) % s.o.ckpt_every == 0) checkpoint(&s, step + 1);
    }
    double secs = MPI_Wtime() - t0;
    if (rank_ == 0) {
        printf("ranks %d steps %llu-%llu seconds %.3f ms_per_step %.3f\n", n_ranks_,
               (unsigned long long)first, (unsigned long long)s.o.steps, secs,
               s.o.steps > first ? 1e3 * secs / (double)(s.o.steps - first) : 0.0);
        printf("final loss %.9e\n", loss);
        printf("digest negatives %016llx\n", (unsigned long long)s.neg_digest);
        printf("digest estimator %016llx\n", (unsigned long long)s.freq_digest);
        printf("digest model %016llx\n", (unsigned long long)model_digest(&s));
        if (s.check_freq) puts("check passed: negatives and merged estimator equal one process's");
    }
    MPI_Finalize();
    return 0;
}
