/* The demo: which negatives make a better model, and at what cost.
 *
 * Trains matrix factorisation (dim 64, Adam, L2) once per negative-sampling strategy on the same
 * data and split, and prints a table of Recall@10 and NDCG@10 on the test split at the best
 * validation epoch, with epochs, seconds and training examples per second. RecBole's protocol:
 * every interaction is a positive; per-user random 8:1:1 split; full ranking over the items the
 * user has not seen; early stopping on validation NDCG@10.
 *
 * The pieces are in examples/demo/: data.c (files, split), data_synth.c (the synthetic set),
 * model.c (MF and Adam), eval.c (ranking metrics), strategy.c (the library calls), train.c (the
 * loop), progress.c. Run with --help for the options. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo/demo.h"

#define DEFAULT_DATA "../shared/data/ml-100k/ml-100k.inter"
#define SYNTH_USERS 2000
#define SYNTH_ITEMS 1500
#define MAX_SELECTED 32
#define MAX_K 1024

typedef struct {
    const char *data;
    char strategies[1024];
    train_opts train;
    int json;
    /* overrides of the swept hyper-parameters (negative: the strategy's own) */
    double lr, l2, temperature;
    long batch, candidates, k;
    long valid_users;
} options;

static void usage(FILE *f)
{
    char schedule[256];
    curriculum_schedule_text(schedule, sizeof schedule);
    fprintf(f,
            "usage: demo_trainer [options]\n"
            "  --data FILE|synthetic[:USERSxITEMS]  a RecBole .inter file or `user item` lines\n"
            "                          (default: " DEFAULT_DATA " when present, else synthetic)\n"
            "  --strategies a,b,...|all  default: all but the slow ones marked (slow) below,\n"
            "                          to stay within two minutes; all: every one\n"
            "  --epochs N              at most N epochs (1..%d, default 100)\n"
            "  --patience N            stop after N epochs without a better validation NDCG@10\n"
            "                          (1..%d, default 10)\n"
            "  --seed N                data split, synthetic data, init and draws (default 1)\n"
            "  --threads N             library and evaluation threads (1..64, default 2)\n"
            "  --valid-users N         validate (early stopping) on N random users, not all;\n"
            "                          the test always ranks for every user\n"
            "  --json                  one JSON object per strategy instead of the table\n"
            "  --lr X --l2 X --temperature X --batch N --candidates N\n"
            "                          override a strategy's hyper-parameter (for the sweep)\n"
            "  --k N                   sampled negatives (1..%d): uniform, popularity, dns,\n"
            "                          curriculum and random-walk draw N per positive and\n"
            "                          average BPR over the N pairs (dns, curriculum: the N\n"
            "                          best of c candidates, N <= c); sampled-softmax draws\n"
            "                          m = N per positive; mixed adds m = N shared by the\n"
            "                          batch; inbatch and inbatch-logq have none (their\n"
            "                          negatives are the batch's positives) and srns picks\n"
            "                          one per positive: they ignore it.\n"
            "                          Default: the strategy's own (JSON \"k\")\n"
            "  --schedule E:H,...      curriculum: DNS share H at epoch E, linear in between\n"
            "                          (epochs increasing; default %s)\n"
            "  --precision fp32|bf16   products of the in-batch strategies (default fp32)\n"
            "  --tau-plus X            the debiased strategy's tau+ in [0, 1) (default 0.01)\n"
            "strategies:\n",
            MAX_EPOCHS, MAX_EPOCHS, MAX_K, schedule);
    for (size_t k = 0; k < N_STRATEGIES; k++)
        fprintf(f, "  %-16s %s%s\n", STRATEGIES[k].name, STRATEGIES[k].what,
                strategy_is_default(&STRATEGIES[k]) ? "" : " (slow)");
}

/* Bad input: one line on stderr, exit status 2. */
__attribute__((format(printf, 1, 2), noreturn)) static void bad(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "demo_trainer: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static long parse_long(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end) bad("%s needs an integer, got '%s'", opt, s ? s : "");
    if (v < lo || v > hi) {
        bad("%s %s is out of range (%ld..%ld)", opt, s, lo, hi);
    }
    return v;
}

static double parse_double(const char *opt, const char *s, double lo, double hi)
{
    char *end;
    errno = 0;
    double v = s ? strtod(s, &end) : 0;
    if (!s || errno || end == s || *end) bad("%s needs a number, got '%s'", opt, s ? s : "");
    if (!(v >= lo && v <= hi)) bad("%s %s is out of range", opt, s);
    return v;
}

static void parse(int argc, char **argv, options *o)
{
    *o = (options){.data = NULL, .json = 0, .lr = -1, .l2 = -1, .temperature = -1, .batch = -1,
                   .candidates = -1, .k = -1};
    o->train = (train_opts){.max_epochs = 100, .patience = 10, .threads = 2, .seed = 1,
                            .eval_every = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (strncmp(a, "--", 2) != 0) bad("unexpected argument '%s' (see --help)", a);
        if (!v) bad("%s needs a value", a);
        i++;
        if (strcmp(a, "--data") == 0) o->data = v;
        else if (strcmp(a, "--strategies") == 0) {
            if (strlen(v) >= sizeof o->strategies) bad("%s: list too long", a);
            strcpy(o->strategies, v);
        } else if (strcmp(a, "--epochs") == 0) o->train.max_epochs = (int)parse_long(a, v, 1, MAX_EPOCHS);
        else if (strcmp(a, "--patience") == 0) o->train.patience = (int)parse_long(a, v, 1, MAX_EPOCHS);
        else if (strcmp(a, "--seed") == 0) o->train.seed = (uint64_t)parse_long(a, v, 0, LONG_MAX);
        else if (strcmp(a, "--threads") == 0) o->train.threads = (int)parse_long(a, v, 1, 64);
        else if (strcmp(a, "--valid-users") == 0) o->valid_users = parse_long(a, v, 1, UINT32_MAX);
        else if (strcmp(a, "--lr") == 0) o->lr = parse_double(a, v, 1e-6, 1.0);
        else if (strcmp(a, "--l2") == 0) o->l2 = parse_double(a, v, 0.0, 10.0);
        else if (strcmp(a, "--temperature") == 0) o->temperature = parse_double(a, v, 0.01, 100.0);
        else if (strcmp(a, "--batch") == 0) o->batch = parse_long(a, v, 16, 65536);
        else if (strcmp(a, "--candidates") == 0) o->candidates = parse_long(a, v, 2, 1024);
        else if (strcmp(a, "--k") == 0) o->k = parse_long(a, v, 1, MAX_K);
        else if (strcmp(a, "--schedule") == 0) {
            char err[256];
            if (curriculum_set_schedule(v, err, sizeof err)) bad("--schedule: %s", err);
        }
        else if (strcmp(a, "--precision") == 0) {
            if (strcmp(v, "fp32") && strcmp(v, "bf16")) bad("%s needs fp32 or bf16, got '%s'", a, v);
            o->train.precision = strcmp(v, "bf16") == 0 ? NEGS_PRECISION_BF16 : NEGS_PRECISION_FP32;
        }
        else if (strcmp(a, "--tau-plus") == 0) debiased_tau_plus = parse_double(a, v, 0.0, 0.999);
        else bad("unknown option '%s' (see --help)", a);
    }
}

/* The selected strategies, with the command-line overrides applied. */
static size_t select_strategies(const options *o, strategy_def *out)
{
    size_t n = 0;
    if (!o->strategies[0] || strcmp(o->strategies, "all") == 0) {
        for (size_t k = 0; k < N_STRATEGIES; k++)
            if (o->strategies[0] || strategy_is_default(&STRATEGIES[k])) out[n++] = STRATEGIES[k];
    } else {
        char list[1024];
        strcpy(list, o->strategies);
        for (char *save, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            const strategy_def *def = strategy_find(tok);
            if (!def) bad("unknown strategy '%s' (see --help)", tok);
            if (n == MAX_SELECTED) bad("too many strategies");
            out[n++] = *def;
        }
        if (n == 0) bad("--strategies names no strategy");
    }
    for (size_t k = 0; k < n; k++) {
        if (o->lr > 0) out[k].lr = o->lr;
        if (o->l2 >= 0) out[k].l2 = o->l2;
        if (o->temperature > 0) out[k].temperature = o->temperature;
        if (o->batch > 0) out[k].batch = (int)o->batch;
        if (o->candidates > 0) out[k].candidates = (int)o->candidates;
        if (o->k > 0 && strategy_negatives(&out[k])) out[k].extra = (int)o->k;
        if ((out[k].kind == S_DNS || out[k].kind == S_CURRICULUM) &&
            strategy_negatives(&out[k]) > out[k].candidates)
            bad("--k %d exceeds %s's %d candidates (--candidates)", strategy_negatives(&out[k]),
                out[k].name, out[k].candidates);
    }
    return n;
}

static void load_data(const options *o, dataset *d)
{
    char err[512];
    const char *path = o->data;
    int rc;
    if (!path) path = access(DEFAULT_DATA, R_OK) == 0 ? DEFAULT_DATA : "synthetic";
    if (strncmp(path, "synthetic", 9) == 0) {
        unsigned long users = SYNTH_USERS, items = SYNTH_ITEMS;
        char tail;
        if (path[9] && (path[9] != ':' || sscanf(path + 10, "%lux%lu%c", &users, &items, &tail) != 2))
            bad("--data %s: expected synthetic or synthetic:USERSxITEMS", path);
        if (users < 10 || users > 1000000 || items < 40 || items > 1000000)
            bad("--data %s: synthetic sizes are 10..1000000 users and 40..1000000 items", path);
        rc = data_synth((uint32_t)users, (uint32_t)items, o->train.seed, d, err, sizeof err);
    } else {
        rc = data_load(path, d, err, sizeof err);
    }
    if (rc == 0) rc = data_split(d, o->train.seed, err, sizeof err);
    if (rc) bad("%s", err);
    if (o->valid_users && data_sample_valid_users(d, (uint32_t)o->valid_users, o->train.seed))
        bad("out of memory");
}

/* The data set's name as a JSON string body: quotes, backslashes and control bytes dropped. */
static const char *json_safe(const char *name, char *buf, size_t cap)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < cap; p++)
        if (*p != '"' && *p != '\\' && (unsigned char)*p >= 0x20) buf[n++] = *p;
    buf[n] = '\0';
    return buf;
}

static void print_json(const strategy_def *def, const dataset *d, const options *o,
                       const train_result *r)
{
    char name[sizeof d->name];
    printf("{\"strategy\": \"%s\", \"dataset\": \"%s\", \"users\": %u, \"items\": %u, "
           "\"train_examples\": %zu, \"seed\": %llu, \"recall@10\": %.6f, \"ndcg@10\": %.6f, "
           "\"random_recall@10\": %.6f, \"random_ndcg@10\": %.6f, \"epochs\": %d, "
           "\"best_epoch\": %d, \"valid_ndcg@10\": %.6f, \"seconds\": %.3f, "
           "\"examples_per_s\": %.0f, \"batch\": %d, \"lr\": %g, \"l2\": %g, "
           "\"temperature\": %g, \"candidates\": %d, \"extra\": %d, \"k\": %d, "
           "\"negatives_drawn\": %lld, \"precision\": \"%s\", \"history\": [",
           def->name, json_safe(d->name, name, sizeof name), d->n_users, d->n_items, d->n_train,
           (unsigned long long)o->train.seed,
           r->test.recall, r->test.ndcg, r->test.random_recall, r->test.random_ndcg, r->epochs,
           r->best_epoch, r->best_valid, r->seconds, r->examples_per_s, def->batch, def->lr,
           def->l2, def->temperature, def->candidates, def->extra, strategy_negatives(def),
           r->negatives, o->train.precision == NEGS_PRECISION_BF16 ? "bf16" : "fp32");
    for (int h = 0; h < r->n_hist; h++)
        printf("%s{\"epoch\": %d, \"seconds\": %.3f, \"loss\": %.6f, \"valid_ndcg@10\": %.6f}",
               h ? ", " : "", r->hist_epoch[h], r->hist_secs[h], r->hist_loss[h], r->hist_valid[h]);
    printf("]}\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    options o;
    parse(argc, argv, &o);
    strategy_def defs[MAX_SELECTED];
    size_t n_defs = select_strategies(&o, defs);
    dataset d;
    load_data(&o, &d);
    if (!o.json)
        printf("data: %s, %u users, %u items; %zu train / %zu valid / %zu test interactions "
               "(seed %llu, %d threads)\n\n",
               d.name, d.n_users, d.n_items, d.n_train, d.n_valid, d.n_test,
               (unsigned long long)o.train.seed, o.train.threads);
    static train_result res[MAX_SELECTED];
    int failed = 0;
    for (size_t k = 0; k < n_defs; k++) {
        char err[512];
        if (train_strategy(&defs[k], &d, &o.train, &res[k], err, sizeof err)) {
            fprintf(stderr, "demo_trainer: %s: %s\n", defs[k].name, err);
            failed = 1;
            res[k].epochs = -1;
            continue;
        }
        if (o.json) print_json(&defs[k], &d, &o, &res[k]);
    }
    if (!o.json) {
        printf("%-16s %9s %9s %7s %8s %11s\n", "strategy", "Recall@10", "NDCG@10", "epochs",
               "seconds", "examples/s");
        for (size_t k = 0; k < n_defs; k++) {
            const train_result *r = &res[k];
            if (r->epochs < 0) {
                printf("%-16s %9s %9s\n", defs[k].name, "failed", "failed");
                continue;
            }
            char ep[16];
            snprintf(ep, sizeof ep, "%d/%d", r->best_epoch, r->epochs);
            printf("%-16s %9.4f %9.4f %7s %8.1f %11.0f\n", defs[k].name, r->test.recall,
                   r->test.ndcg, ep, r->seconds, r->examples_per_s);
        }
        for (size_t k = 0; k < n_defs; k++) /* the same for every strategy: it is the data's */
            if (res[k].epochs > 0) {
                printf("%-16s %9.4f %9.4f\n", "(random)", res[k].test.random_recall,
                       res[k].test.random_ndcg);
                break;
            }
        printf("\n");
        printf("Test metrics at the best validation epoch (epochs: best/run). The strategies are\n"
               "described by --help; docs/results.md has them on MovieLens-100K and Amazon Video.\n");
    }
    data_free(&d);
    return failed ? 1 : 0;
}
