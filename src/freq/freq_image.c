/* The saved image of a negs_freq (docs/FORMAT.md): little-endian fields written byte by byte,
 * so it reads the same on any host, closed by a 64-bit checksum over everything before it. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "freq_internal.h"

#define IMG_MAGIC "NEGSFREQ"
#define IMG_VERSION 1u
#define IMG_HEADER 128u
#define IMG_FLAG_CONSERVATIVE 1u
#define IMG_FLAG_HAS_DATA 2u

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}
static void put_f64(unsigned char *p, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(p, u);
}
static void put_f32(unsigned char *p, float v)
{
    uint32_t u;
    memcpy(&u, &v, 4);
    put_u32(p, u);
}
static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static double get_f64(const unsigned char *p)
{
    uint64_t u = get_u64(p);
    double v;
    memcpy(&v, &u, 8);
    return v;
}
static float get_f32(const unsigned char *p)
{
    uint32_t u = get_u32(p);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

/* Over n bytes (a multiple of 8) read as little-endian 64-bit words. Every step is a bijection
 * of the state for a fixed word, so any change confined to one word always changes the sum. */
uint64_t negs_freq_image_checksum(const unsigned char *p, size_t n)
{
    uint64_t s = 0xCBF29CE484222325ULL;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        s = (s ^ get_u64(p + i)) * 0x9E3779B97F4A7C15ULL;
        s ^= s >> 32;
    }
    return negs_mix64(s ^ (uint64_t)n);
}

/* Bytes of the whole image, or 0 on overflow. */
static size_t image_size(int kind, uint64_t buckets, uint32_t hashes, uint64_t *table_bytes)
{
    uint64_t cells = buckets * hashes; /* buckets <= 2^32, hashes <= 32: no overflow */
    uint64_t cell = negs_freq_cell_bytes(kind);
    if (cells > (UINT64_MAX - IMG_HEADER - 8) / cell) return 0;
    *table_bytes = cells * cell;
    uint64_t total = IMG_HEADER + *table_bytes + 8;
    if (total > SIZE_MAX) return 0;
    return (size_t)total;
}

NEGS_API int negs_freq_save(const negs_freq *f, void *buf, size_t cap, size_t *size)
{
    int st = negs_check_ptr(f, "negs_freq_save", "f");
    if (!st) st = negs_check_ptr(size, "negs_freq_save", "size");
    if (st) return st;
    uint64_t table_bytes;
    size_t need = image_size(f->kind, f->buckets, f->hashes, &table_bytes);
    if (need == 0)
        return negs_fail(NEGS_E_INVALID, "negs_freq_save: the image would not fit in a size_t");
    *size = need;
    if (!buf) return NEGS_OK;
    if (cap < need)
        return negs_fail(NEGS_E_INVALID, "negs_freq_save: cap = %zu bytes is less than the %zu "
                         "the image needs", cap, need);
    unsigned char *p = buf;
    int gap = f->kind == NEGS_FREQ_GAP;
    memcpy(p, IMG_MAGIC, 8);
    put_u32(p + 8, IMG_VERSION);
    put_u32(p + 12, (uint32_t)f->kind);
    put_u64(p + 16, f->buckets);
    put_u32(p + 24, f->hashes);
    put_u32(p + 28, (!gap && f->conservative ? IMG_FLAG_CONSERVATIVE : 0u) |
                        (f->has_data ? IMG_FLAG_HAS_DATA : 0u));
    put_u64(p + 32, f->seed);
    put_f64(p + 40, gap ? f->alpha : 0.0);
    put_f64(p + 48, f->max_gap);
    put_f64(p + 56, gap ? 0.0 : f->half_life);
    put_u64(p + 64, f->first_step);
    put_u64(p + 72, f->last_step);
    put_u64(p + 80, f->total_ids);
    put_u64(p + 88, gap ? 0 : f->landmark);
    put_f64(p + 96, gap ? 0.0 : f->total);
    put_f64(p + 104, f->rate);
    put_u64(p + 112, f->rate_delta);
    put_u64(p + 120, table_bytes);
    unsigned char *t = p + IMG_HEADER;
    size_t cells = (size_t)f->buckets * f->hashes;
    if (gap) {
        for (size_t k = 0; k < cells; k++, t += 16) {
            put_u64(t, f->cells[k].last);
            put_f32(t + 8, f->cells[k].gap);
            put_f32(t + 12, f->cells[k].count);
        }
    } else {
        for (size_t k = 0; k < cells; k++, t += 8) put_f64(t, f->cnt[k]);
    }
    put_u64(t, negs_freq_image_checksum(p, need - 8));
    return NEGS_OK;
}

#define BAD(...) negs_fail_null(NEGS_E_FORMAT, "negs_freq_load: " __VA_ARGS__)

/* Checks the decoded tables against the header's state; NULL if they are consistent. */
static const char *check_tables(const negs_freq *f, const unsigned char *t)
{
    size_t cells = (size_t)f->buckets * f->hashes;
    if (f->kind == NEGS_FREQ_GAP) {
        for (size_t k = 0; k < cells; k++, t += 16) {
            uint64_t last = get_u64(t);
            float gap = get_f32(t + 8), count = get_f32(t + 12);
            if (!isfinite(gap) || !isfinite(count)) return "a GAP cell holds NaN or Inf";
            if (count == 0.0f) {
                if (last != 0 || gap != 0.0f) return "an unseen GAP cell is not all zero";
                continue;
            }
            if (!f->has_data) return "a GAP cell is set in an estimator with no data";
            if (count < 1.0f) return "a GAP cell's count is below 1";
            if (gap != 0.0f && gap < 1.0f) return "a GAP cell's gap is below 1 step";
            if (last < f->first_step || last > f->last_step)
                return "a GAP cell's last step lies outside the estimator's steps";
        }
    } else {
        for (size_t k = 0; k < cells; k++, t += 8) {
            double c = get_f64(t);
            if (!isfinite(c) || c < 0.0) return "a sketch counter is negative, NaN or Inf";
            /* A counter never exceeds the total weight (up to rounding: 2x is generous), which
             * also keeps merged counters finite. */
            if (c > 2.0 * f->total) return "a sketch counter exceeds the total weight";
            if (!f->has_data && c != 0.0) return "a sketch counter is set in an estimator with no data";
        }
    }
    return NULL;
}

NEGS_API negs_freq *negs_freq_load(const void *buf, size_t size)
{
    if (!buf) return negs_fail_null(NEGS_E_INVALID, "negs_freq_load: buf is NULL");
    const unsigned char *p = buf;
    if (size < IMG_HEADER + 8)
        return BAD("size = %zu bytes is shorter than the %u-byte header and checksum", size,
                   IMG_HEADER + 8);
    if (memcmp(p, IMG_MAGIC, 8) != 0) return BAD("the magic is not \"NEGSFREQ\"");
    uint32_t version = get_u32(p + 8);
    if (version != IMG_VERSION) return BAD("format version %u is not the supported 1", version);
    /* The checksum before any other field: a damaged image is reported as damaged, not as
     * whichever field the damage happened to hit. The size the header describes only refines
     * the sentence (a truncated or over-long buffer). */
    if (get_u64(p + size - 8) != negs_freq_image_checksum(p, size - 8)) {
        uint64_t tb;
        uint32_t hk = get_u32(p + 12), hh = get_u32(p + 24);
        uint64_t hb = get_u64(p + 16);
        size_t described = (hk == NEGS_FREQ_GAP || hk == NEGS_FREQ_SKETCH) && hb >= 1 &&
                                   hb <= NEGS_FREQ_MAX_BUCKETS && hh >= 1 && hh <= NEGS_FREQ_MAX_HASHES
                               ? image_size((int)hk, hb, hh, &tb)
                               : 0;
        if (described && described != size)
            return BAD("the checksum does not match: size = %zu bytes but the header describes %zu "
                       "(truncated, over-long or damaged)", size, described);
        return BAD("the checksum does not match (the image is damaged)");
    }
    negs_freq tmp;
    memset(&tmp, 0, sizeof tmp);
    uint32_t kind = get_u32(p + 12);
    if (kind != NEGS_FREQ_GAP && kind != NEGS_FREQ_SKETCH) return BAD("kind = %u is unknown", kind);
    tmp.kind = (int)kind;
    int gap = tmp.kind == NEGS_FREQ_GAP;
    tmp.buckets = get_u64(p + 16);
    if (tmp.buckets == 0 || tmp.buckets > NEGS_FREQ_MAX_BUCKETS || tmp.buckets > SIZE_MAX)
        return BAD("buckets = %" PRIu64 " is outside [1, 2^32]", tmp.buckets);
    tmp.hashes = get_u32(p + 24);
    if (tmp.hashes == 0 || tmp.hashes > NEGS_FREQ_MAX_HASHES)
        return BAD("hashes = %u is outside [1, %u]", tmp.hashes, NEGS_FREQ_MAX_HASHES);
    uint32_t flags = get_u32(p + 28);
    if (flags & ~(IMG_FLAG_CONSERVATIVE | IMG_FLAG_HAS_DATA) || (gap && (flags & IMG_FLAG_CONSERVATIVE)))
        return BAD("flags = 0x%x has bits this kind does not define", flags);
    tmp.conservative = gap ? 1 : (flags & IMG_FLAG_CONSERVATIVE) != 0;
    tmp.has_data = (flags & IMG_FLAG_HAS_DATA) != 0;
    tmp.seed = get_u64(p + 32);
    double alpha = get_f64(p + 40);
    tmp.max_gap = get_f64(p + 48);
    double half_life = get_f64(p + 56);
    if (gap ? !(alpha > 0.0 && alpha <= 1.0) : alpha != 0.0)
        return BAD("alpha = %g is out of range for this kind", alpha);
    tmp.alpha = gap ? alpha : NEGS_FREQ_DEFAULT_ALPHA;
    if (!(tmp.max_gap >= 1.0 && tmp.max_gap <= NEGS_FREQ_MAX_MAX_GAP))
        return BAD("max_gap = %g is outside [1, 1e15]", tmp.max_gap);
    if (gap ? half_life != 0.0 : !(half_life >= 0.0 && half_life <= 1e15))
        return BAD("half_life = %g is out of range for this kind", half_life);
    tmp.half_life = half_life;
    tmp.first_step = get_u64(p + 64);
    tmp.last_step = get_u64(p + 72);
    tmp.total_ids = get_u64(p + 80);
    tmp.landmark = get_u64(p + 88);
    tmp.total = get_f64(p + 96);
    tmp.rate = get_f64(p + 104);
    tmp.rate_delta = get_u64(p + 112);
    /* save writes +0.0 where these are 0: -0.0 would not survive load then save */
    if (signbit(alpha) || signbit(half_life) || signbit(tmp.total) || signbit(tmp.rate))
        return BAD("alpha, half_life, total or rate is negative (-0.0 included)");
    if (!isfinite(tmp.rate) || tmp.rate < 0.0)
        return BAD("the examples-per-step rate = %g is negative, NaN or Inf", tmp.rate);
    if (!isfinite(tmp.total) || tmp.total < 0.0)
        return BAD("the sketch total = %g is negative, NaN or Inf", tmp.total);
    if (!tmp.has_data) {
        if (tmp.first_step || tmp.last_step || tmp.total_ids || tmp.landmark || tmp.total != 0.0 ||
            tmp.rate != 0.0 || tmp.rate_delta)
            return BAD("an estimator with no data has a non-zero step state");
    } else {
        if (tmp.first_step > tmp.last_step) return BAD("the first step is after the last step");
        if (tmp.rate_delta > tmp.last_step - tmp.first_step)
            return BAD("the last step interval is longer than the estimator's steps");
        if (gap && (tmp.landmark || tmp.total != 0.0))
            return BAD("a GAP image has sketch state (landmark or total)");
        if (!gap && (tmp.landmark < tmp.first_step || tmp.landmark > tmp.last_step))
            return BAD("the landmark lies outside the estimator's steps");
        if (!gap && tmp.half_life > 0.0 &&
            (double)(tmp.last_step - tmp.landmark) / tmp.half_life > NEGS_FREQ_RENORM_EXP)
            return BAD("the landmark is too far behind the last step");
        if (tmp.total_ids == 0 && tmp.total != 0.0) return BAD("a total weight without any id");
    }
    uint64_t table_bytes;
    size_t need = image_size(tmp.kind, tmp.buckets, tmp.hashes, &table_bytes);
    if (need == 0 || get_u64(p + 120) != table_bytes)
        return BAD("the table size field does not match buckets x hashes");
    if (size != need)
        return BAD("size = %zu bytes but the header describes %zu", size, need);
    const char *why = check_tables(&tmp, p + IMG_HEADER);
    if (why) return BAD("%s", why);

    negs_freq *f = negs_freq_create(tmp.kind, (size_t)tmp.buckets, tmp.hashes, tmp.seed);
    if (!f) return NULL;
    negs_freq made = *f; /* the allocations and derived fields of the new handle */
    *f = tmp;
    memcpy(f->keys, made.keys, sizeof f->keys);
    f->cells = made.cells;
    f->cnt = made.cnt;
    f->ws = made.ws;
    f->ws_ids = made.ws_ids;
    f->ws_stride = made.ws_stride;
    const unsigned char *t = p + IMG_HEADER;
    size_t n = (size_t)f->buckets * f->hashes;
    if (gap) {
        for (size_t k = 0; k < n; k++, t += 16) {
            f->cells[k].last = get_u64(t);
            f->cells[k].gap = get_f32(t + 8);
            f->cells[k].count = get_f32(t + 12);
        }
    } else {
        for (size_t k = 0; k < n; k++, t += 8) f->cnt[k] = get_f64(t);
    }
    return f;
}
