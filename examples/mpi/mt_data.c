/* Interactions for the MPI trainer: a MovieLens-style file ("user item ..." per line) or a
 * synthetic set, and the hash that maps a (step, global row) to one of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_trainer.h"

uint64_t mt_hash(uint64_t x) /* splitmix64's finaliser */
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t mt_digest(uint64_t h, const void *p, size_t n) /* FNV-1a, 64 bits */
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001B3ull;
    return h;
}

static int grow(mt_data *d, size_t cap)
{
    uint32_t *u = realloc(d->user, cap * sizeof *u);
    if (!u) return -1;
    d->user = u;
    uint32_t *it = realloc(d->item, cap * sizeof *it);
    if (!it) return -1;
    d->item = it;
    return 0;
}

static int count_items(mt_data *d)
{
    d->item_count = calloc(d->n_items, sizeof *d->item_count);
    if (!d->item_count) return -1;
    for (size_t i = 0; i < d->n; i++) d->item_count[d->item[i]] += 1.0;
    return 0;
}

int mt_data_load(mt_data *d, const char *path)
{
    memset(d, 0, sizeof *d);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t cap = 0;
    unsigned long u, it;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lu %lu", &u, &it) != 2 || u > 0xFFFFFFFEul || it > 0xFFFFFFFEul)
            continue;
        if (d->n == cap && grow(d, cap = cap ? 2 * cap : 4096)) break;
        d->user[d->n] = (uint32_t)u;
        d->item[d->n] = (uint32_t)it;
        if (u >= d->n_users) d->n_users = (uint32_t)u + 1;
        if (it >= d->n_items) d->n_items = (uint32_t)it + 1;
        d->n++;
    }
    int bad = ferror(f) || d->n == 0;
    fclose(f);
    if (bad || count_items(d)) {
        mt_data_free(d);
        return -1;
    }
    return 0;
}

/* Users prefer a window of items around their own "taste" centre; item popularity is
 * Zipf-like (the square of a uniform draw skews towards low ids). */
void mt_data_synth(mt_data *d, uint32_t n_users, uint32_t n_items, size_t n, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    if (grow(d, n)) abort();
    d->n = n;
    d->n_users = n_users;
    d->n_items = n_items;
    for (size_t i = 0; i < n; i++) {
        uint64_t h = mt_hash(seed ^ mt_hash(i));
        uint32_t user = (uint32_t)(h % n_users);
        double r = (double)(mt_hash(h) >> 11) * 0x1.0p-53;
        uint32_t centre = (uint32_t)(mt_hash(user + seed) % n_items);
        uint32_t offset = (uint32_t)(r * r * 64.0);
        d->user[i] = user;
        d->item[i] = (centre + offset) % n_items;
    }
    if (count_items(d)) abort();
}

void mt_data_free(mt_data *d)
{
    free(d->user);
    free(d->item);
    free(d->item_count);
    memset(d, 0, sizeof *d);
}

void mt_data_row(const mt_data *d, uint64_t seed, uint64_t step, uint64_t g, uint32_t *user,
                 uint32_t *item)
{
    size_t i = (size_t)(mt_hash(seed ^ mt_hash(step ^ mt_hash(g))) % d->n);
    *user = d->user[i];
    *item = d->item[i];
}
