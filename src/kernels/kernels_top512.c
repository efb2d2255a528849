/* TOP selection of rows of at most 64 candidates with AVX-512 (the avx512 table's top_rows;
 * same contract and the same results bit for bit as the scalar and AVX2 ones, kernels.h).
 *
 * A row's scores sit in nv <= 4 zmm registers (lanes past n at -inf) and its ids in as many
 * more. One pass over the row checks the scores (|bits| above FLT_MAX: NaN or Inf) and the
 * ids (above n_items - 1) with two unsigned maxima, so a row costs its loads plus:
 * - k = 1: one arg-max (the row's maximum broadcast, the lanes equal to it as a 64-bit mask,
 *   its lowest bit: ties to the earlier position) and one comparison of the winner's id with
 *   the row's ids below it; a winner that repeats an earlier id (rare) goes to the loop below;
 * - k > 1: repeated arg-max, each round taking the lanes equal to the maximum in position
 *   order and setting them to -inf. A round is one long dependency chain (the reduction to
 *   the maximum), so two rows are worked on together: their chains overlap. */
#include "kernels.h"

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#include <math.h>

#define T512 __attribute__((target("avx512f,avx512dq,avx2,fma")))
#define INL static inline __attribute__((always_inline))

/* One row being selected: live scores, its ids and output, picks so far. */
typedef struct top_row {
    __m512 x[4];
    const uint32_t *ir;
    uint32_t *out;
    uint32_t cnt;
    int done; /* m picks made, or no live lane left */
} top_row;

/* Vector v of a row: all 16 lanes, or the last one's lanes below n (the others 0; masked
 * loads do not touch memory past the row). */
INL T512 __m512i load16(const uint32_t *p, int v, const int nv, const int full, __mmask16 tail)
{
    if (full || v < nv - 1) return _mm512_loadu_si512((const void *)(p + 16 * v));
    return _mm512_maskz_loadu_epi32(tail, (const void *)(p + 16 * v));
}

/* Loads row r into x (lanes past n at -inf) and ids; returns nonzero if some score is NaN or
 * infinite or some id is above last. */
INL T512 int load_row(const float *sr, const uint32_t *ir, const int nv, const int full,
                      __mmask16 tail, __m512i last, __m512 *x, __m512i *ids)
{
    const __m512i absm = _mm512_set1_epi32(0x7fffffff), big = _mm512_set1_epi32(0x7f7fffff);
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512i fin = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
        __m512i b = load16((const uint32_t *)(const void *)sr, v, nv, full, tail);
        ids[v] = load16(ir, v, nv, full, tail);
        fin = _mm512_max_epu32(fin, _mm512_and_si512(b, absm));
        hi = _mm512_max_epu32(hi, ids[v]);
        x[v] = full || v < nv - 1 ? _mm512_castsi512_ps(b)
                                  : _mm512_mask_mov_ps(ninf, tail, _mm512_castsi512_ps(b));
    }
    return (int)(_mm512_cmpgt_epu32_mask(fin, big) | _mm512_cmpgt_epu32_mask(hi, last));
}

/* The maximum of x[0..nv) in every lane. */
INL T512 __m512 row_max(const __m512 *x, const int nv)
{
    __m512 m = x[0];
    if (nv == 4) m = _mm512_max_ps(_mm512_max_ps(x[0], x[1]), _mm512_max_ps(x[2], x[3]));
    if (nv == 3) m = _mm512_max_ps(_mm512_max_ps(x[0], x[1]), x[2]);
    if (nv == 2) m = _mm512_max_ps(x[0], x[1]);
    /* the last levels in 256 and 128 bits (cheaper than zmm shuffles here), then broadcast */
    __m256 h = _mm256_max_ps(_mm512_castps512_ps256(m), _mm512_extractf32x8_ps(m, 1));
    __m128 q = _mm_max_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_max_ps(q, _mm_permute_ps(q, _MM_SHUFFLE(1, 0, 3, 2)));
    q = _mm_max_ps(q, _mm_permute_ps(q, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm512_broadcastss_ps(q);
}

/* 1 if the id at position p does not occur below p; ids[v] = the row's ids (0 past n). */
INL T512 int first_copy_v(const __m512i *ids, uint32_t id, unsigned p, const int nv)
{
    const __m512i vi = _mm512_set1_epi32((int)id);
    uint64_t d = 0;
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) d |= (uint64_t)_mm512_cmpeq_epi32_mask(ids[v], vi) << (16 * v);
    return !(d & ((UINT64_C(1) << p) - 1));
}

/* The same with the ids read again from the row (the registers hold two rows' scores). */
INL T512 int first_copy(const uint32_t *ir, unsigned p, const int nv, const int full,
                        __mmask16 tail)
{
    __m512i ids[4];
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) ids[v] = load16(ir, v, nv, full, tail);
    return first_copy_v(ids, ir[p], p, nv);
}

/* One round: the lanes equal to the row's maximum leave the race and are taken in position
 * order (ids that repeat an earlier one skipped) until m are taken. */
INL T512 void round_row(top_row *w, uint32_t m, const int nv, const int full, __mmask16 tail)
{
    const __m512 ninf = _mm512_set1_ps(-INFINITY);
    __m512 mx = row_max(w->x, nv);
    if (_mm512_cvtss_f32(mx) == -INFINITY) {
        w->done = 1;
        return;
    }
    uint64_t e = 0;
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
        __mmask16 k = _mm512_cmp_ps_mask(w->x[v], mx, _CMP_EQ_OQ);
        w->x[v] = _mm512_mask_mov_ps(w->x[v], k, ninf);
        e |= (uint64_t)k << (16 * v);
    }
    while (e && w->cnt < m) {
        unsigned p = (unsigned)__builtin_ctzll(e);
        e &= e - 1;
        if (first_copy(w->ir, p, nv, full, tail)) w->out[w->cnt++] = w->ir[p];
    }
    w->done = w->cnt == m;
}

INL T512 uint32_t select_one(top_row *w, uint32_t m, const int nv, const int full,
                             __mmask16 tail)
{
    while (!w->done) round_row(w, m, nv, full, tail);
    return w->cnt;
}

INL T512 size_t top_rows_nv(const float *s, const uint32_t *items, size_t n_rows, size_t n,
                            uint32_t n_items, uint32_t m, uint32_t *out, const int nv,
                            const int full)
{
    const __mmask16 tail = (__mmask16)((1u << (n - 16 * (size_t)(nv - 1))) - 1u);
    const __m512i last = _mm512_set1_epi32((int)(n_items - 1));
    __m512i ids[4];
    if (m == 1) {
        for (size_t r = 0; r < n_rows; r++) {
            top_row a = {.ir = items + r * n, .out = out + r, .cnt = 0, .done = 0};
            if (load_row(s + r * n, a.ir, nv, full, tail, last, a.x, ids)) return r;
            __m512 mx = row_max(a.x, nv);
            uint64_t e = 0;
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++)
                e |= (uint64_t)_mm512_cmp_ps_mask(a.x[v], mx, _CMP_EQ_OQ) << (16 * v);
            unsigned p = (unsigned)__builtin_ctzll(e); /* some lane is finite: e != 0 */
            uint32_t id = a.ir[p];
            if (first_copy_v(ids, id, p, nv)) {
                out[r] = id;
                continue;
            }
            if (select_one(&a, 1, nv, full, tail) < 1) return r; /* a repeat won: the slow way */
        }
        return n_rows;
    }
    size_t r = 0;
    for (; r + 2 <= n_rows; r += 2) {
        top_row a = {.ir = items + r * n, .out = out + r * m, .cnt = 0, .done = 0};
        top_row b = {.ir = a.ir + n, .out = a.out + m, .cnt = 0, .done = 0};
        if (load_row(s + r * n, a.ir, nv, full, tail, last, a.x, ids)) return r;
        if (load_row(s + (r + 1) * n, b.ir, nv, full, tail, last, b.x, ids)) {
            if (select_one(&a, m, nv, full, tail) < m) return r;
            return r + 1;
        }
        while (!a.done && !b.done) {
            round_row(&a, m, nv, full, tail);
            round_row(&b, m, nv, full, tail);
        }
        if (select_one(&a, m, nv, full, tail) < m) return r;
        if (select_one(&b, m, nv, full, tail) < m) return r + 1;
    }
    if (r < n_rows) {
        top_row a = {.ir = items + r * n, .out = out + r * m, .cnt = 0, .done = 0};
        if (load_row(s + r * n, a.ir, nv, full, tail, last, a.x, ids) ||
            select_one(&a, m, nv, full, tail) < m)
            return r;
    }
    return n_rows;
}

/* Each width compiled on its own (nv constant); n = 64 and n = 48 etc. with full vectors only. */
T512 size_t negs_kn_top_rows_avx512(const float *s, const uint32_t *items, size_t n_rows, size_t n,
                                    uint32_t n_items, uint32_t m, uint32_t *out)
{
    switch (n % 16 == 0 ? n / 16 + 4 : (n + 15) / 16) {
    case 1: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 1, 0);
    case 2: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 2, 0);
    case 3: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 3, 0);
    case 4: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 4, 0);
    case 5: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 1, 1);
    case 6: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 2, 1);
    case 7: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 3, 1);
    default: return top_rows_nv(s, items, n_rows, n, n_items, m, out, 4, 1);
    }
}

#endif
