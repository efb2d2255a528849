/* False-negative telemetry of the fused in-batch softmax (negs_loss_set_telemetry): per row,
 * the t hardest live negatives its pass-1 log-sum-exp sees, kept in a small heap that lives
 * in the caller's buffers; per call, the masked accidental hits and known positives. */
#ifndef NEGS_LOSS_INBATCH_TELEMETRY_H
#define NEGS_LOSS_INBATCH_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>

#include "inbatch.h"

/* One row's heap: t entries (logit, column), the worst at 0; empty entries are (-inf,
 * UINT32_MAX). Better = larger logit, then smaller column. */
void negs_ib_tel_clear(uint32_t *cols, float *logits, size_t t);
/* Offers the tile's logits z[0, cw) of columns c0.. (masked: -inf, skipped), except column
 * `self` (the row's target). */
void negs_ib_tel_tile(uint32_t *cols, float *logits, size_t t, const float *z, size_t c0,
                      size_t cw, size_t self);
/* Orders the heap best first (empty entries last). */
void negs_ib_tel_sort(uint32_t *cols, float *logits, size_t t);
/* Masked (row, column) pairs of a call: accidental hits (the row's own item elsewhere) and
 * known positives of the row's user (other items). */
void negs_ib_tel_counts(const negs_ib_masks *mk, uint64_t *hits, uint64_t *known);

#endif
