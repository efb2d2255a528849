/* Interaction data: reading a file, RecBole's per-user ratio split, the CSR tables. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "demo.h"

uint64_t rng_next(host_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

double rng_uniform(host_rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

double rng_normal(host_rng *r)
{
    double u1 = rng_uniform(r), u2 = rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* Sorted distinct raw ids; returns their count. */
static size_t unique_ids(uint64_t *ids, size_t n)
{
    qsort(ids, n, sizeof *ids, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || ids[i] != ids[k - 1]) ids[k++] = ids[i];
    return k;
}

static uint32_t dense_id(const uint64_t *ids, size_t n, uint64_t raw)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < raw) lo = mid + 1;
        else hi = mid;
    }
    return (uint32_t)lo;
}

/* Splits a line into tab/space-separated fields in place; returns the count (at most max). */
static int fields(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    while (*p && n < max) {
        while (*p == ' ' || *p == '\t') p++;
        if (!*p || *p == '\n' || *p == '\r') break;
        f[n++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r') p++;
        if (*p) *p++ = '\0';
    }
    return n;
}

static int parse_id(const char *s, uint64_t *out)
{
    if (*s < '0' || *s > '9') return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end) return -1;
    *out = v;
    return 0;
}

int data_load(const char *path, dataset *d, char *err, size_t err_len)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, err_len, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096];
    char *fl[16];
    int ucol = 0, icol = 1, lineno = 0, rc = -1;
    size_t cap = 1 << 16, n = 0;
    uint64_t *raw = malloc(2 * cap * sizeof *raw);
    while (raw && fgets(line, sizeof line, f)) {
        lineno++;
        if (strlen(line) == sizeof line - 1 && line[sizeof line - 2] != '\n') {
            snprintf(err, err_len, "%s:%d: line too long", path, lineno);
            goto out;
        }
        int nf = fields(line, fl, 16);
        if (nf == 0) continue;
        if (lineno == 1 && strchr(fl[0], ':')) { /* RecBole header: name:type per column */
            ucol = icol = -1;
            for (int k = 0; k < nf; k++) {
                if (strncmp(fl[k], "user_id:", 8) == 0) ucol = k;
                if (strncmp(fl[k], "item_id:", 8) == 0) icol = k;
            }
            if (ucol < 0 || icol < 0) {
                snprintf(err, err_len, "%s:1: header has no user_id: and item_id: columns", path);
                goto out;
            }
            continue;
        }
        uint64_t u, i;
        if (nf <= ucol || nf <= icol || parse_id(fl[ucol], &u) || parse_id(fl[icol], &i)) {
            snprintf(err, err_len, "%s:%d: expected integer user and item ids", path, lineno);
            goto out;
        }
        if (n == cap) {
            uint64_t *p = realloc(raw, 4 * cap * sizeof *raw);
            if (!p) break;
            raw = p;
            cap *= 2;
        }
        raw[2 * n] = u;
        raw[2 * n + 1] = i;
        n++;
    }
    if (!raw) {
        snprintf(err, err_len, "out of memory reading %s", path);
        goto out;
    }
    if (ferror(f)) {
        snprintf(err, err_len, "error reading %s", path);
        goto out;
    }
    if (n == 0) {
        snprintf(err, err_len, "%s: no interactions", path);
        goto out;
    }
    uint64_t *us = malloc(n * sizeof *us), *is = malloc(n * sizeof *is);
    d->all = malloc(n * sizeof *d->all);
    if (!us || !is || !d->all) {
        free(us), free(is);
        snprintf(err, err_len, "out of memory reading %s", path);
        goto out;
    }
    for (size_t k = 0; k < n; k++) us[k] = raw[2 * k], is[k] = raw[2 * k + 1];
    size_t nu = unique_ids(us, n), ni = unique_ids(is, n);
    if (nu > UINT32_MAX - 1 || ni > UINT32_MAX - 1) {
        free(us), free(is);
        snprintf(err, err_len, "%s: too many users or items", path);
        goto out;
    }
    for (size_t k = 0; k < n; k++) {
        d->all[k].user = dense_id(us, nu, raw[2 * k]);
        d->all[k].item = dense_id(is, ni, raw[2 * k + 1]);
    }
    free(us), free(is);
    d->n_all = n;
    d->n_users = (uint32_t)nu;
    d->n_items = (uint32_t)ni;
    const char *base = strrchr(path, '/');
    snprintf(d->name, sizeof d->name, "%s", base ? base + 1 : path);
    rc = 0;
out:
    free(raw);
    fclose(f);
    if (rc) data_free(d);
    return rc;
}

/* The CSR table of a user-grouped list. */
static negs_csr *csr_of(const pair *p, size_t n, uint32_t n_users, uint32_t n_items)
{
    uint64_t *indptr = calloc((size_t)n_users + 1, sizeof *indptr);
    uint32_t *idx = malloc((n ? n : 1) * sizeof *idx);
    negs_csr *t = NULL;
    if (indptr && idx) {
        for (size_t k = 0; k < n; k++) {
            indptr[p[k].user + 1]++;
            idx[k] = p[k].item; /* p is grouped by user */
        }
        for (uint32_t u = 0; u < n_users; u++) indptr[u + 1] += indptr[u];
        t = negs_csr_create(n_users, n_items, indptr, idx);
    }
    free(indptr), free(idx);
    return t;
}

/* RecBole's split_by_ratio for [0.8, 0.1, 0.1]: valid and test get floor(0.1 n) each, train the
 * rest; then, while train keeps more than one, a part whose share of n is in (0, 1) gets one
 * item (test first). The user's interactions are in a random order (RecBole's "RO"). */
static void split_counts(size_t n, size_t cnt[3])
{
    static const double ratio[3] = {0.8, 0.1, 0.1};
    cnt[1] = (size_t)(ratio[1] * (double)n);
    cnt[2] = (size_t)(ratio[2] * (double)n);
    cnt[0] = n - cnt[1] - cnt[2];
    for (int i = 2; i >= 1; i--) {
        if (cnt[0] <= 1) break;
        double share = ratio[i] * (double)n;
        if (share > 0 && share < 1) cnt[i]++, cnt[0]--;
    }
}

int data_split(dataset *d, uint64_t seed, char *err, size_t err_len)
{
    host_rng r = {seed ^ 0x5157A1E5ULL};
    size_t n = d->n_all;
    for (size_t i = n; i > 1; i--) { /* shuffle, then group by user keeping that order */
        size_t j = (size_t)(rng_uniform(&r) * (double)i);
        pair t = d->all[i - 1];
        d->all[i - 1] = d->all[j];
        d->all[j] = t;
    }
    /* a counting sort by user: stable, so each user's items stay in random order */
    pair *grouped = malloc(n * sizeof *grouped);
    size_t *start = calloc((size_t)d->n_users + 1, sizeof *start);
    d->train = malloc(n * sizeof *d->train);
    d->valid = malloc(n * sizeof *d->valid);
    d->test = malloc(n * sizeof *d->test);
    d->item_count = calloc(d->n_items, sizeof *d->item_count);
    if (!grouped || !start || !d->train || !d->valid || !d->test || !d->item_count) {
        free(grouped), free(start);
        snprintf(err, err_len, "out of memory splitting the data");
        return -1;
    }
    for (size_t k = 0; k < n; k++) start[d->all[k].user + 1]++;
    for (uint32_t u = 0; u < d->n_users; u++) start[u + 1] += start[u];
    for (size_t k = 0; k < n; k++) grouped[start[d->all[k].user]++] = d->all[k];
    memcpy(d->all, grouped, n * sizeof *grouped);
    free(grouped), free(start);
    d->n_train = d->n_valid = d->n_test = 0;
    for (size_t b = 0; b < n;) {
        size_t e = b, cnt[3];
        while (e < n && d->all[e].user == d->all[b].user) e++;
        split_counts(e - b, cnt);
        for (size_t k = b; k < e; k++) {
            if (k < b + cnt[0]) {
                d->train[d->n_train++] = d->all[k];
                d->item_count[d->all[k].item] += 1;
            } else if (k < b + cnt[0] + cnt[1]) {
                d->valid[d->n_valid++] = d->all[k];
            } else {
                d->test[d->n_test++] = d->all[k];
            }
        }
        b = e;
    }
    d->train_csr = csr_of(d->train, d->n_train, d->n_users, d->n_items);
    d->valid_csr = csr_of(d->valid, d->n_valid, d->n_users, d->n_items);
    d->test_csr = csr_of(d->test, d->n_test, d->n_users, d->n_items);
    if (!d->train_csr || !d->valid_csr || !d->test_csr) {
        snprintf(err, err_len, "negs_csr_create: %s", negs_last_error());
        return -1;
    }
    if (d->n_valid == 0 || d->n_test == 0) {
        snprintf(err, err_len, "%s: too few interactions per user for a valid/test split",
                 d->name);
        return -1;
    }
    return 0;
}

int data_sample_valid_users(dataset *d, uint32_t n, uint64_t seed)
{
    if (n >= d->n_users) return 0;
    uint32_t *perm = malloc(d->n_users * sizeof *perm);
    d->valid_only = calloc(d->n_users, 1);
    if (!perm || !d->valid_only) {
        free(perm);
        return -1;
    }
    host_rng r = {seed ^ 0xA11DULL};
    for (uint32_t u = 0; u < d->n_users; u++) perm[u] = u;
    for (uint32_t k = 0; k < n; k++) { /* the first n of a Fisher-Yates shuffle */
        uint32_t j = k + (uint32_t)(rng_uniform(&r) * (d->n_users - k)), t = perm[k];
        perm[k] = perm[j], perm[j] = t;
        d->valid_only[perm[k]] = 1;
    }
    free(perm);
    return 0;
}

void data_free(dataset *d)
{
    free(d->all), free(d->train), free(d->valid), free(d->test), free(d->item_count);
    free(d->valid_only);
    negs_csr_free(d->train_csr);
    negs_csr_free(d->valid_csr);
    negs_csr_free(d->test_csr);
    memset(d, 0, sizeof *d);
}
