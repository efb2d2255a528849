/* Checkpoints of the MPI trainer. Every file is written to a temporary name and renamed, and
 * <dir>/latest is renamed into place only after every rank has written its part, so a rank
 * killed at any moment leaves the previous complete checkpoint readable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mpi_trainer.h"

static int write_atomic(const char *path, const void *a, size_t na, const void *b, size_t nb)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return -1;
    int bad = fwrite(a, 1, na, f) != na || (nb && fwrite(b, 1, nb, f) != nb);
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path)) return -1;
    return 0;
}

int mt_ckpt_write_freq(const char *dir, uint64_t step, int rank, const negs_freq *f)
{
    size_t size = 0;
    if (negs_freq_save(f, NULL, 0, &size) != NEGS_OK && size == 0) return -1;
    void *buf = malloc(size);
    if (!buf || negs_freq_save(f, buf, size, &size) != NEGS_OK) {
        free(buf);
        return -1;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/freq.%llu.%d", dir, (unsigned long long)step, rank);
    int st = write_atomic(path, buf, size, NULL, 0);
    free(buf);
    return st;
}

int mt_ckpt_write_model(const char *dir, const mt_ckpt_head *h, const float *u, const float *v)
{
    size_t nu = (size_t)h->n_users * h->dim, nv = (size_t)h->n_items * h->dim;
    size_t size = sizeof *h + (nu + nv) * sizeof(float);
    unsigned char *buf = malloc(size);
    if (!buf) return -1;
    memcpy(buf, h, sizeof *h);
    memcpy(buf + sizeof *h, u, nu * sizeof(float));
    memcpy(buf + sizeof *h + nu * sizeof(float), v, nv * sizeof(float));
    char path[4096];
    snprintf(path, sizeof path, "%s/model.%llu", dir, (unsigned long long)h->step);
    int st = write_atomic(path, buf, size, NULL, 0);
    free(buf);
    return st;
}

int mt_ckpt_commit(const char *dir, uint64_t step)
{
    char path[4096], text[32];
    snprintf(path, sizeof path, "%s/latest", dir);
    int n = snprintf(text, sizeof text, "%llu\n", (unsigned long long)step);
    return write_atomic(path, text, (size_t)n, NULL, 0);
}

int mt_ckpt_latest(const char *dir, uint64_t *step)
{
    char path[4096];
    unsigned long long s;
    snprintf(path, sizeof path, "%s/latest", dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int ok = fscanf(f, "%llu", &s) == 1;
    fclose(f);
    if (!ok) return -1;
    *step = s;
    return 0;
}

static void *read_all(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *b = realloc(buf, cap *= 2);
        if (!b) free(buf);
        buf = b;
    }
    fclose(f);
    *size = n;
    return buf;
}

int mt_ckpt_read_model(const char *dir, uint64_t step, mt_ckpt_head *h, float *u, float *v,
                       size_t n_u, size_t n_v)
{
    char path[4096];
    size_t size;
    snprintf(path, sizeof path, "%s/model.%llu", dir, (unsigned long long)step);
    unsigned char *buf = read_all(path, &size);
    if (!buf) return -1;
    int st = -1;
    if (size == sizeof *h + (n_u + n_v) * sizeof(float)) {
        memcpy(h, buf, sizeof *h);
        memcpy(u, buf + sizeof *h, n_u * sizeof(float));
        memcpy(v, buf + sizeof *h + n_u * sizeof(float), n_v * sizeof(float));
        st = h->step == step ? 0 : -1;
    }
    free(buf);
    return st;
}

negs_freq *mt_ckpt_read_freq(const char *dir, uint64_t step, int rank)
{
    char path[4096];
    size_t size;
    snprintf(path, sizeof path, "%s/freq.%llu.%d", dir, (unsigned long long)step, rank);
    void *buf = read_all(path, &size);
    if (!buf) return NULL;
    negs_freq *f = negs_freq_load(buf, size);
    free(buf);
    return f;
}
