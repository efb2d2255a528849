/* UNIQUE weighted rows: the systematic pass that places a row's k' uncertain points (the
 * design is in sampler_unique.c). */
#ifndef NEGS_SAMPLER_UNIQUE_H
#define NEGS_SAMPLER_UNIQUE_H

#include <stdint.h>

#include "sampler_internal.h"

/* 1 if support position x can be drawn by the row: positive weight, not excluded, not one of
 * the row's h certain positions capped[0..h) (ascending). */
int sp_unique_usable(const sp_row *row, const uint32_t *capped, uint32_t h, uint32_t x);
/* Rounding repair: the first usable position after prev (from the support's start when
 * have_prev is 0), else prev. Practically never runs; bounded by the support size. */
uint32_t sp_unique_next_usable(const sp_row *row, const uint32_t *capped, uint32_t h,
                               uint32_t prev, int have_prev);

/* The number of points (u + j) d, j < kk, below m (they are a prefix): a division's
 * estimate, checked with the very products the sequential pass compares; off by one only
 * when m / d is within rounding of an integer, then corrected (a loop for the rest). */
uint32_t sp_unique_points_below(double u, double d, double inv_d, uint32_t kk, double m);
/* sp_umarks_fn (sampler_internal.h) without SIMD. */
uint32_t sp_unique_marks(const double *m, uint32_t len, double u, double d, double inv_d,
                         uint32_t kk, uint32_t *pts);

/* The positions of the kk points (u + j) d, j < kk, on the line of the row's eligible,
 * uncertain weights in position order, into pts[0..kk), with the row's h certain positions
 * capped[0..h) ascending, marking with `marks` (NULL: sp_unique_marks). Needs the handle's
 * UNIQUE tables (t->wd); the answer is the one of
 * the sequential pass over the gaps (sampler_unique.c's points_walk), bit for bit. */
void sp_unique_points(const sp_row *row, const sp_tables *t, sp_umarks_fn marks,
                      const uint32_t *capped, uint32_t h, double u, double d, uint32_t kk,
                      uint32_t *pts);

/* The per-user tables of UNIQUE weighted catalogue rows (sampler_unique_pass.c): for each
 * entry of the positives table, the removed weight up to and including it and the running
 * maximum of the eligible weight before each removed position (see there). */
int sp_unique_user_tables(sp_tables *t, const double *w, const negs_csr *p);

#endif
