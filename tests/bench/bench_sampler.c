/* Sampler benchmark: popularity sampling of 10^7 draws for catalogues of 10^4 .. 10^7 items
 * against the bare xoshiro256** + alias loop (the floor, same table), a word2vec-style unigram
 * table of 10^8 entries, and numpy / torch timings measured by peer_sampler.py (read from the
 * file named by BENCH_PEERS); then MovieLens-100K with exclusion of positives and UNIQUE rows.
 * Prints a table; with BENCH_JSON=file appends one JSON object per measurement. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "negsample.h"
#include "sampler/sampler_internal.h"

#define DRAWS 10000000u
#define K 1000u
#define UNIGRAM 100000000u
#define REPS 3

static FILE *json;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void emit(const char *cs, double ours, const char *peer, double peer_value, const char *unit,
                 double ratio)
{
    printf("  %-28s %-22s ours %10.4f  peer %10.4f %-4s ratio %7.2f\n", cs, peer, ours, peer_value,
           unit, ratio);
    if (json)
        fprintf(json, "{\"bench\": \"sampler\", \"case\": \"%s\", \"ours\": %.6g, \"peer\": \"%s\", "
                      "\"peer_value\": %.6g, \"unit\": \"%s\", \"ratio\": %.4g}\n",
                cs, ours, peer, peer_value, unit, ratio);
}

/* ---------------------------------------------------------------- peers from python */

typedef struct peer {
    char name[32];
    double n, seconds;
} peer;
static peer peers[64];
static int n_peers;

static void load_peers(const char *path)
{
    FILE *f = path && *path ? fopen(path, "r") : NULL;
    if (!f) return;
    while (n_peers < 64 && fscanf(f, "%31s %lf %lf", peers[n_peers].name, &peers[n_peers].n,
                                  &peers[n_peers].seconds) == 3)
        n_peers++;
    fclose(f);
}

static double find_peer(const char *name, double n)
{
    for (int i = 0; i < n_peers; i++)
        if (!strcmp(peers[i].name, name) && peers[i].n == n) return peers[i].seconds;
    return -1.0;
}

/* ---------------------------------------------------------------- the floor */

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** (Blackman & Vigna) feeding the same alias lookup, nothing else. */
static double floor_loop(const negs_alias *a, uint32_t *out, uint32_t n_draws)
{
    uint64_t s0 = 0x9E3779B97F4A7C15ULL, s1 = 0xBF58476D1CE4E5B9ULL, s2 = 0x94D049BB133111EBULL,
             s3 = 0x2545F4914F6CDD1DULL;
    const negs_alias_entry *e = a->e;
    uint64_t n = a->n;
    double t0 = now();
    for (uint32_t i = 0; i < n_draws; i++) {
        uint64_t x = rotl(s1 * 5, 7) * 9, t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = rotl(s3, 45);
        uint32_t col = (uint32_t)(((x >> 32) * n) >> 32);
        negs_alias_entry en = e[col];
        out[i] = (uint32_t)x < en.threshold ? col : en.alias;
    }
    return now() - t0;
}

/* ---------------------------------------------------------------- word2vec-style table */

static uint32_t *unigram;

/* Item i fills a run of the table proportional to w_i^0.75 (w given already powered). */
static double unigram_build(const double *wp, uint32_t n)
{
    double t0 = now(), total = 0.0;
    for (uint32_t i = 0; i < n; i++) total += wp[i];
    uint32_t item = 0;
    double edge = wp[0] / total;
    for (uint32_t a = 0; a < UNIGRAM; a++) {
        unigram[a] = item;
        if ((double)a / UNIGRAM > edge && item + 1 < n) edge += wp[++item] / total;
    }
    return now() - t0;
}

/* word2vec's InitUnigramTable as it is (Mikolov et al. 2013, word2vec.c): it is given the raw
 * counts and computes count^0.75 itself, once for the sum and again while filling the table;
 * fresh = 1: into a table it allocates first, as word2vec does (so its pages are touched for
 * the first time: the peer of a first set_weights call); else into the bench's warm table. */
static double unigram_build_w2v(const double *w, uint32_t n, int fresh)
{
    double t0 = now(), total = 0.0;
    uint32_t *table = fresh ? malloc((size_t)UNIGRAM * sizeof *table) : unigram;
    if (!table) return -1.0;
    for (uint32_t i = 0; i < n; i++) total += pow(w[i], 0.75);
    uint32_t item = 0;
    double edge = pow(w[0], 0.75) / total;
    for (uint32_t a = 0; a < UNIGRAM; a++) {
        table[a] = item;
        if ((double)a / UNIGRAM > edge && item + 1 < n) edge += pow(w[++item], 0.75) / total;
    }
    double t = now() - t0;
    if (fresh) {
        unigram[table[UNIGRAM / 2] % UNIGRAM] += 0; /* keep the fill */
        free(table);
    }
    return t;
}

static double unigram_draws(uint32_t *out, uint32_t n_draws)
{
    unsigned long long r = 1;
    double t0 = now();
    for (uint32_t i = 0; i < n_draws; i++) {
        r = r * 25214903917ULL + 11;
        out[i] = unigram[(r >> 16) % UNIGRAM];
    }
    return now() - t0;
}

/* ---------------------------------------------------------------- a bare Vose build */

/* The textbook construction (Vose 1991) over already powered weights, as a user would write
 * it: scaled probabilities, small and large work lists, a 32-bit threshold and alias per item;
 * its arrays allocated fresh, like every rebuild of ours. */
static double vose_bare(const double *wp, uint32_t n, uint32_t *sink)
{
    double t0 = now(), total = 0.0;
    for (uint32_t i = 0; i < n; i++) total += wp[i];
    double *p = malloc(n * sizeof *p);
    uint32_t *thr = malloc(n * sizeof *thr), *al = malloc(n * sizeof *al);
    uint32_t *small = malloc(n * sizeof *small), *large = malloc(n * sizeof *large);
    size_t ns = 0, nl = 0;
    for (uint32_t i = 0; i < n; i++) {
        p[i] = wp[i] * n / total;
        if (p[i] < 1.0) small[ns++] = i;
        else large[nl++] = i;
    }
    while (ns && nl) {
        uint32_t a = small[--ns], b = large[nl - 1];
        thr[a] = (uint32_t)(p[a] * 4294967295.0);
        al[a] = b;
        p[b] -= 1.0 - p[a];
        if (p[b] < 1.0) {
            nl--;
            small[ns++] = b;
        }
    }
    while (nl) thr[large[--nl]] = UINT32_MAX;
    while (ns) thr[small[--ns]] = UINT32_MAX;
    double t = now() - t0;
    *sink += thr[n / 2] + al[n / 3];
    free(p);
    free(thr);
    free(al);
    free(small);
    free(large);
    return t;
}

/* CPU time of the calling thread: under load the build lines also give their ratios by it. */
static double thread_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#define BUILD_REPS 5 /* rebuild and peer builds, interleaved: best of */

/* ---------------------------------------------------------------- ours */

static double best_sample(negs_sampler *s, size_t rows, const uint32_t *users, const uint32_t *pos,
                          uint32_t k, uint32_t *out, float *lq)
{
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        double t0 = now();
        int st = negs_sampler_sample(s, (uint64_t)r, rows, users, pos, k, out, lq);
        double t = now() - t0;
        if (st) {
            fprintf(stderr, "sample failed: %s\n", negs_last_error());
            exit(1);
        }
        if (t < best) best = t;
    }
    return best;
}

/* BENCH_BUILD_ONLY=1: only the build and rebuild lines (skips every draw and the other
 * sections), for timing table builds. */
static int build_only;

static void catalogue_sizes(uint32_t *out)
{
    static const uint32_t sizes[4] = {10000, 100000, 1000000, 10000000};
    unigram = malloc((size_t)UNIGRAM * sizeof *unigram);
    printf("popularity sampling, %u draws (alpha 0.75, Zipf weights 1/(i+1)), seconds:\n", DRAWS);
    for (int si = 0; si < 4; si++) {
        uint32_t n = sizes[si];
        double *w = malloc(n * sizeof *w), *wp = malloc(n * sizeof *wp);
        for (uint32_t i = 0; i < n; i++) {
            w[i] = 1.0 / (double)(i + 1);
            wp[i] = pow(w[i], 0.75);
        }
        negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, n, 42);
        double t0 = now();
        negs_sampler_set_weights(s, w, n);
        double build = now() - t0;
        double ours = build_only ? 0.0 : best_sample(s, DRAWS / K, NULL, NULL, K, out, NULL);
        double fl = 1e30;
        for (int r = 0; !build_only && r < REPS; r++) {
            double t = floor_loop(&s->t.alias, out, DRAWS);
            if (t < fl) fl = t;
        }
        double uni = 1e30;
        if (unigram) unigram_build(wp, n); /* the table the draws below read (timed later) */
        for (int r = 0; unigram && !build_only && r < REPS; r++) {
            double t = unigram_draws(out, DRAWS);
            if (t < uni) uni = t;
        }
        char cs[64];
        snprintf(cs, sizeof cs, "popularity_n%u", n);
        if (build_only) {
            printf(" n = %u:\n", n);
        } else {
            printf(" n = %u: ours %.1f M draws/s\n", n, DRAWS / ours / 1e6);
            emit(cs, ours, "xoshiro_alias_floor", fl, "s", fl / ours);
            if (unigram) emit(cs, ours, "unigram_table_1e8", uni, "s", uni / ours);
            double np = find_peer("numpy_choice", n), tm = find_peer("torch_multinomial", n);
            if (np > 0) emit(cs, ours, "numpy_choice", np, "s", np / ours);
            if (tm > 0) emit(cs, ours, "torch_multinomial", tm, "s", tm / ours);
        }
        /* a rebuild under drift: the same call again on a warm handle; each peer warm too (its
         * table's pages touched), best of BUILD_REPS, the four interleaved; wall clock and the
         * thread's CPU time */
        double rebuild = 1e30, bare = 1e30, ubuild = 1e30, uw2v = 1e30;
        double c_re = 1e30, c_bare = 1e30, c_ub = 1e30, c_w2v = 1e30;
        uint32_t sink = 0;
        for (int r = 0; r < BUILD_REPS; r++) {
            double c0 = thread_cpu(), t1 = now();
            negs_sampler_set_weights(s, w, n);
            double t = now() - t1, c1 = thread_cpu();
            if (t < rebuild) rebuild = t;
            if (c1 - c0 < c_re) c_re = c1 - c0;
            t = vose_bare(wp, n, &sink);
            double c2 = thread_cpu();
            if (t < bare) bare = t;
            if (c2 - c1 < c_bare) c_bare = c2 - c1;
            if (!unigram) continue;
            t = unigram_build(wp, n);
            double c3 = thread_cpu();
            if (t < ubuild) ubuild = t;
            if (c3 - c2 < c_ub) c_ub = c3 - c2;
            t = unigram_build_w2v(w, n, 0);
            if (t < uw2v) uw2v = t;
            if (thread_cpu() - c3 < c_w2v) c_w2v = thread_cpu() - c3;
        }
        snprintf(cs, sizeof cs, "build_n%u", n);
        if (unigram) emit(cs, build, "unigram_table_build", ubuild, "s", ubuild / build);
        double ufresh = unigram ? unigram_build_w2v(w, n, 1) : -1.0; /* first call vs first call */
        if (ufresh > 0) emit(cs, build, "unigram_w2v_fresh_build", ufresh, "s", ufresh / build);
        snprintf(cs, sizeof cs, "rebuild_n%u", n);
        if (unigram) emit(cs, rebuild, "unigram_table_build", ubuild, "s", ubuild / rebuild);
        if (unigram) emit(cs, rebuild, "unigram_w2v_build", uw2v, "s", uw2v / rebuild);
        emit(cs, rebuild, "bare_vose_build", bare, "s", bare / rebuild);
        printf("  (set_weights: %.1f ns per item warm; bare Vose %.1f; unigram table %.1f given "
               "w^0.75, %.1f computing it as word2vec does%s)\n", rebuild / n * 1e9,
               bare / n * 1e9, ubuild / n * 1e9, uw2v / n * 1e9, sink == 1 ? " " : "");
        snprintf(cs, sizeof cs, "rebuild_cpu_n%u", n);
        if (unigram) emit(cs, c_re, "unigram_table_build", c_ub, "s", c_ub / c_re);
        if (unigram) emit(cs, c_re, "unigram_w2v_build", c_w2v, "s", c_w2v / c_re);
        emit(cs, c_re, "bare_vose_build", c_bare, "s", c_bare / c_re);
        printf("  (by the thread's CPU time: set_weights %.1f ns per item; bare Vose %.1f; unigram "
               "table %.1f, %.1f as word2vec)\n", c_re / n * 1e9, c_bare / n * 1e9, c_ub / n * 1e9,
               c_w2v / n * 1e9);
        /* bytes per item: every per-item array the handle holds (sp_item_bytes) */
        double handle_b = (double)sp_item_bytes(s) / n;
        snprintf(cs, sizeof cs, "bytes_per_item_n%u", n);
        emit(cs, handle_b, "unigram_table_bytes", 4.0 * UNIGRAM / n, "B", 4.0 * UNIGRAM / n / handle_b);
        printf("  (handle: %.1f B/item in all: float log weights 4 + alias table 8, + 20 of rebuild "
               "temporaries once set_weights has run twice)\n", handle_b);
        negs_sampler_free(s);
        free(w);
        free(wp);
    }
    free(unigram);
}

/* ---------------------------------------------------------------- short rows */

/* As best_sample, also giving the best CPU time of the calling thread (the call runs on it
 * with one thread): on a loaded host the wall clock counts the time other jobs held the
 * core, the thread's CPU time does not. */
static double best_sample_cpu(negs_sampler *s, size_t rows, const uint32_t *users,
                              const uint32_t *pos, uint32_t k, uint32_t *out, float *lq,
                              double *cpu)
{
    double best = 1e30;
    *cpu = 1e30;
    for (int r = 0; r < REPS; r++) {
        struct timespec c0, c1;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
        double t0 = now();
        int st = negs_sampler_sample(s, (uint64_t)r, rows, users, pos, k, out, lq);
        double t = now() - t0;
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
        if (st) {
            fprintf(stderr, "sample failed: %s\n", negs_last_error());
            exit(1);
        }
        double c = (double)(c1.tv_sec - c0.tv_sec) + 1e-9 * (double)(c1.tv_nsec - c0.tv_nsec);
        if (t < best) best = t;
        if (c < *cpu) *cpu = c;
    }
    return best;
}

/* Rows of k = 1, 4 and 64 (2^22 draws in all) for UNIFORM and POPULARITY over 10^3 .. 10^6
 * items, without and with exclusion (4096 users of 32 known positives each, and the row's
 * positive): ns per draw, k = 1 against k = 64 (the fixed per-row cost; also in CPU time of the
 * thread) and against numpy's choice(p=) and torch.multinomial per draw (their 10^7-draw
 * calls, wall clock). */
static void short_rows(uint32_t *out, float *lq)
{
    enum { SR_DRAWS = 1u << 22, SR_USERS = 4096, SR_PER = 32 };
    static const uint32_t sizes[4] = {1000, 10000, 100000, 1000000};
    static const uint32_t ks[3] = {1, 4, 64};
    uint32_t *users = malloc(SR_DRAWS * sizeof *users), *pos = malloc(SR_DRAWS * sizeof *pos);
    uint64_t *ip = malloc((SR_USERS + 1) * sizeof *ip);
    uint32_t *ix = malloc((size_t)SR_USERS * SR_PER * sizeof *ix);
    double load[3] = {0, 0, 0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la) {
        if (fscanf(la, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = -1.0;
        fclose(la);
    }
    printf("short rows: ns per draw (2^22 draws as rows of k), best of %d; load average %.2f %.2f "
           "%.2f:\n", REPS, load[0], load[1], load[2]);
    for (int si = 0; si < 4; si++) {
        uint32_t n = sizes[si];
        uint64_t x = 88172645463325252ULL;
        ip[0] = 0;
        for (uint32_t u = 0; u < SR_USERS; u++) {
            for (uint32_t j = 0; j < SR_PER; j++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                ix[u * SR_PER + j] = (uint32_t)(x % n);
            }
            ip[u + 1] = (uint64_t)(u + 1) * SR_PER;
        }
        for (uint32_t r = 0; r < SR_DRAWS; r++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            users[r] = (uint32_t)(x % SR_USERS);
            pos[r] = ix[users[r] * SR_PER + (uint32_t)((x >> 32) % SR_PER)];
        }
        negs_csr *pt = negs_csr_create(SR_USERS, n, ip, ix);
        double *w = malloc(n * sizeof *w);
        for (uint32_t i = 0; i < n; i++) w[i] = 1.0 / (double)(i + 1);
        for (int kind = 0; kind < 2; kind++)
            for (int excl = 0; excl < 2; excl++) {
                negs_sampler *s = negs_sampler_create(kind ? NEGS_SAMPLER_POPULARITY : NEGS_SAMPLER_UNIFORM, n, 5);
                if (kind) negs_sampler_set_weights(s, w, n);
                if (excl) negs_sampler_set_positives(s, pt);
                double per[3], per_lq[3], cpu[3], cpu_lq[3];
                for (int ki = 0; ki < 3; ki++) {
                    size_t rows = SR_DRAWS / ks[ki];
                    per[ki] = best_sample_cpu(s, rows, excl ? users : NULL, excl ? pos : NULL, ks[ki],
                                              out, NULL, &cpu[ki]) / SR_DRAWS * 1e9;
                    per_lq[ki] = best_sample_cpu(s, rows, excl ? users : NULL, excl ? pos : NULL,
                                                 ks[ki], out, lq, &cpu_lq[ki]) / SR_DRAWS * 1e9;
                    cpu[ki] *= 1e9 / SR_DRAWS;
                    cpu_lq[ki] *= 1e9 / SR_DRAWS;
                }
                const char *kn = kind ? "popularity" : "uniform", *en = excl ? "_exclusion" : "";
                char cs[96];
                printf(" %s%s n = %u: k=1 %.2f ns, k=4 %.2f ns, k=64 %.2f ns per draw (with log q: "
                       "%.2f / %.2f / %.2f)\n", kn, en, n, per[0], per[1], per[2], per_lq[0], per_lq[1],
                       per_lq[2]);
                printf(" %s%s n = %u, thread CPU time: k=1 %.2f ns, k=4 %.2f ns, k=64 %.2f ns per draw "
                       "(with log q: %.2f / %.2f / %.2f)\n", kn, en, n, cpu[0], cpu[1], cpu[2], cpu_lq[0],
                       cpu_lq[1], cpu_lq[2]);
                for (int ki = 0; ki < 2; ki++) {
                    snprintf(cs, sizeof cs, "%s%s_n%u_k%u", kn, en, n, ks[ki]);
                    emit(cs, per[ki], "ours_k64_per_draw", per[2], "ns", per[2] / per[ki]);
                    snprintf(cs, sizeof cs, "%s%s_logq_n%u_k%u", kn, en, n, ks[ki]);
                    emit(cs, per_lq[ki], "ours_k64_logq_per_draw", per_lq[2], "ns", per_lq[2] / per_lq[ki]);
                    snprintf(cs, sizeof cs, "%s%s_cpu_n%u_k%u", kn, en, n, ks[ki]);
                    emit(cs, cpu[ki], "ours_k64_cpu_per_draw", cpu[2], "ns", cpu[2] / cpu[ki]);
                    snprintf(cs, sizeof cs, "%s%s_logq_cpu_n%u_k%u", kn, en, n, ks[ki]);
                    emit(cs, cpu_lq[ki], "ours_k64_logq_cpu_per_draw", cpu_lq[2], "ns", cpu_lq[2] / cpu_lq[ki]);
                }
                double np = find_peer("numpy_choice", n), tm = find_peer("torch_multinomial", n);
                snprintf(cs, sizeof cs, "%s%s_n%u_k1", kn, en, n);
                if (np > 0) emit(cs, per[0], "numpy_choice_per_draw", np / 1e7 * 1e9, "ns", np / 1e7 * 1e9 / per[0]);
                if (tm > 0) emit(cs, per[0], "torch_multinomial_per_draw", tm / 1e7 * 1e9, "ns", tm / 1e7 * 1e9 / per[0]);
                negs_sampler_free(s);
            }
        negs_csr_free(pt);
        free(w);
    }
    free(users);
    free(pos);
    free(ip);
    free(ix);
}

/* ---------------------------------------------------------------- MovieLens-100K */

static void movielens(const char *path, uint32_t *out, float *lq)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("MovieLens-100K not found at %s: skipped\n", path);
        return;
    }
    enum { MAXR = 100000 };
    static uint32_t u[MAXR], it[MAXR];
    size_t n = 0;
    char line[256];
    uint32_t nu = 0, ni = 0;
    if (!fgets(line, sizeof line, f)) n = 0; /* header */
    while (n < MAXR && fgets(line, sizeof line, f)) {
        unsigned a, b;
        if (sscanf(line, "%u %u", &a, &b) != 2 || a == 0 || b == 0) continue;
        u[n] = a - 1;
        it[n] = b - 1;
        if (a > nu) nu = a;
        if (b > ni) ni = b;
        n++;
    }
    fclose(f);
    double *w = calloc(ni, sizeof *w);
    uint64_t *indptr = calloc((size_t)nu + 1, sizeof *indptr);
    uint32_t *idx = malloc(n * sizeof *idx), *fill = calloc(nu, sizeof *fill);
    for (size_t r = 0; r < n; r++) {
        w[it[r]] += 1.0;
        indptr[u[r] + 1]++;
    }
    for (uint32_t x = 0; x < nu; x++) indptr[x + 1] += indptr[x];
    for (size_t r = 0; r < n; r++) idx[indptr[u[r]] + fill[u[r]]++] = it[r];
    negs_csr *pt = negs_csr_create(nu, ni, indptr, idx);
    const uint32_t k = 100;
    printf("MovieLens-100K: %zu rows (user, positive), %u users, %u items, k = %u (%zu draws), "
           "seconds:\n", n, nu, ni, k, n * k);
    negs_sampler *s = negs_sampler_create(NEGS_SAMPLER_POPULARITY, ni, 7);
    negs_sampler_set_weights(s, w, ni);
    double plain = best_sample(s, n, NULL, NULL, k, out, NULL);
    negs_sampler_set_positives(s, pt);
    uint32_t own = 0;
    for (uint32_t x = 0; s->t.u_alias && x < s->t.n_users; x++) own += s->t.u_alias[x].n > 0;
    printf("  handle: %.1f B/item (prefix sums %s), per user %.0f B (bitmap %zu + sums 12); "
           "own alias tables for %u users, %.1f MB\n",
           (double)sp_item_bytes(s) / ni, s->t.prefix ? "built" : "not needed",
           (double)s->ubits_words * 8.0 + 12.0, s->ubits_words * 8, own,
           (double)s->t.u_alias_bytes / 1e6);
    double excl = best_sample(s, n, u, it, k, out, NULL);
    double excl_lq = best_sample(s, n, u, it, k, out, lq);
    negs_sampler_set_param(s, NEGS_SP_UNIQUE, 1.0);
    double uniq = best_sample(s, n, u, it, k, out, NULL);
    negs_sampler_set_param(s, NEGS_SP_UNIQUE, 0.0);
    negs_sampler_set_param(s, NEGS_SP_THREADS, 2.0);
    double excl2 = best_sample(s, n, u, it, k, out, NULL);
    emit("ml100k_exclusion", excl, "ours_plain_popularity", plain, "s", plain / excl);
    emit("ml100k_exclusion_logq", excl_lq, "ours_plain_popularity", plain, "s", plain / excl_lq);
    emit("ml100k_unique", uniq, "ours_plain_popularity", plain, "s", plain / uniq);
    emit("ml100k_exclusion_2threads", excl2, "ours_exclusion_1thread", excl, "s", excl / excl2);
    double np = find_peer("numpy_choice", ni);
    if (np > 0) {
        double per = np / 1e7 * (double)(n * k);
        emit("ml100k_plain", plain, "numpy_choice", per, "s", per / plain);
        emit("ml100k_exclusion", excl, "numpy_choice_no_exclusion", per, "s", per / excl);
    }
    negs_sampler_free(s);
    negs_csr_free(pt);
    free(w);
    free(indptr);
    free(idx);
    free(fill);
}

int main(void)
{
    const char *jp = getenv("BENCH_JSON");
    if (jp && *jp) json = fopen(jp, "a");
    load_peers(getenv("BENCH_PEERS"));
    uint32_t *out = malloc((size_t)DRAWS * sizeof *out);
    float *lq = malloc((size_t)DRAWS * sizeof *lq);
    const char *ml = getenv("ML100K"), *bo = getenv("BENCH_BUILD_ONLY");
    build_only = bo && *bo && *bo != '0';
    if (!getenv("BENCH_SKIP_SIZES")) catalogue_sizes(out);
    if (!build_only && !getenv("BENCH_SKIP_SHORT")) short_rows(out, lq);
    if (!build_only) movielens(ml && *ml ? ml : "../shared/data/ml-100k/ml-100k.inter", out, lq);
    free(out);
    free(lq);
    if (json) fclose(json);
    return 0;
}
