/* The data-parallel MPI trainer (examples/mpi, docs/mpi.md): shared declarations. */
#ifndef MPI_TRAINER_H
#define MPI_TRAINER_H

#include <stddef.h>
#include <stdint.h>

#include "negsample.h"

/* Interactions (user, item) the batches are drawn from: a MovieLens-style file or a
 * synthetic set generated from the seed, identical on every rank. */
typedef struct {
    uint32_t *user, *item;
    size_t n;
    uint32_t n_users, n_items;
    double *item_count; /* popularity, the negative sampler's weights */
} mt_data;

int mt_data_load(mt_data *d, const char *path);
void mt_data_synth(mt_data *d, uint32_t n_users, uint32_t n_items, size_t n, uint64_t seed);
void mt_data_free(mt_data *d);
/* Global row g of step t: one interaction picked by a hash of (seed, t, g), so any rank can
 * read any row without reading the others. */
void mt_data_row(const mt_data *d, uint64_t seed, uint64_t step, uint64_t g, uint32_t *user,
                 uint32_t *item);

uint64_t mt_hash(uint64_t x);
uint64_t mt_digest(uint64_t h, const void *p, size_t n);

/* Checkpoint: <dir>/latest names the last complete step s; <dir>/model.<s> holds the model
 * (written by rank 0), <dir>/freq.<s>.<rank> each rank's estimator image. */
typedef struct {
    uint64_t step; /* the first step still to run */
    uint32_t n_ranks, n_users, n_items, dim;
} mt_ckpt_head;

int mt_ckpt_write_freq(const char *dir, uint64_t step, int rank, const negs_freq *f);
int mt_ckpt_write_model(const char *dir, const mt_ckpt_head *h, const float *u, const float *v);
int mt_ckpt_commit(const char *dir, uint64_t step);
int mt_ckpt_latest(const char *dir, uint64_t *step);
int mt_ckpt_read_model(const char *dir, uint64_t step, mt_ckpt_head *h, float *u, float *v,
                       size_t n_u, size_t n_v);
negs_freq *mt_ckpt_read_freq(const char *dir, uint64_t step, int rank);

#endif
