/* negs_freq_load on arbitrary bytes. A refused image must say NEGS_E_FORMAT; an accepted one
 * must answer finite queries in the header's range, save to exactly the bytes it was loaded
 * from, survive an update, a save and a reload, and merge (SKETCH) into a loadable image.
 * The first input byte picks the mode: odd = the rest with its checksum recomputed (so the
 * fuzzer reaches the field checks), even = the rest as it is. */
#include "fuzz_common.h"
#include "freq/freq_internal.h"

/* Queries of ids 0..15 and two hashed ones: p in (0, 1], log q finite and <= 0. */
static void fz_freq_queries(const negs_freq *f)
{
    uint64_t ids[18];
    float p[18], lq[18], lb[18];
    for (int i = 0; i < 16; i++) ids[i] = (uint64_t)i;
    ids[16] = UINT64_MAX;
    ids[17] = 0x9E3779B97F4A7C15u;
    int st = negs_freq_prob(f, ids, 18, p);
    if (st != NEGS_OK) {
        FUZZ_CHECK(st == NEGS_E_STATE);
        return;
    }
    FUZZ_CHECK(negs_freq_logq(f, ids, 18, lq) == NEGS_OK);
    FUZZ_CHECK(negs_freq_logq_batch(f, ids, 18, 256, lb) == NEGS_OK);
    for (int i = 0; i < 18; i++) {
        FUZZ_CHECK(p[i] > 0.0f && p[i] <= 1.0f);
        FUZZ_CHECK(isfinite(lq[i]) && lq[i] <= 0.0f);
        FUZZ_CHECK(isfinite(lb[i]) && lb[i] <= 0.0f);
    }
}

/* save, then load and save again: the same bytes. Returns the image (caller frees). */
static unsigned char *fz_freq_roundtrip(const negs_freq *f, size_t *size)
{
    FUZZ_CHECK(negs_freq_save(f, NULL, 0, size) == NEGS_OK);
    unsigned char *a = malloc(*size), *b = malloc(*size);
    FUZZ_CHECK(a && b);
    size_t n = 0;
    FUZZ_CHECK(negs_freq_save(f, a, *size, &n) == NEGS_OK && n == *size);
    negs_freq *g = negs_freq_load(a, n);
    FUZZ_CHECK(g != NULL);
    FUZZ_CHECK(negs_freq_save(g, b, *size, &n) == NEGS_OK && n == *size);
    FUZZ_CHECK(memcmp(a, b, n) == 0);
    negs_freq_free(g);
    free(b);
    return a;
}

int negs_fuzz_freq_load(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    size_t n = size - 1;
    unsigned char *img = malloc(n ? n : 1);
    FUZZ_CHECK(img);
    memcpy(img, data + 1, n);
    if ((data[0] & 1) && n >= 136 && n % 8 == 0) {
        uint64_t c = negs_freq_image_checksum(img, n - 8);
        for (int i = 0; i < 8; i++) img[n - 8 + i] = (unsigned char)(c >> (8 * i));
    }
    negs_freq *f = negs_freq_load(img, n);
    if (!f) {
        FUZZ_CHECK(negs_last_status() == NEGS_E_FORMAT);
        free(img);
        return 0;
    }
    size_t saved = 0;
    unsigned char *again = fz_freq_roundtrip(f, &saved);
    FUZZ_CHECK(saved == n && memcmp(again, img, n) == 0); /* load then save: the same bytes */
    free(again);
    fz_freq_queries(f);

    /* Continue the loaded stream: at its last step (allowed) and later. */
    double v = 0.0;
    FUZZ_CHECK(negs_freq_get_param(f, NEGS_FP_MAX_GAP, &v) == NEGS_OK && v >= 1.0);
    uint64_t ids[4] = {1, 2, 2, data[0]};
    uint64_t last = 0;
    for (int i = 0; i < 8; i++) last |= (uint64_t)img[72 + i] << (8 * i);
    int st = negs_freq_update(f, last, ids, 4);
    FUZZ_CHECK(st == NEGS_OK);
    if (last < UINT64_MAX - 1000) FUZZ_CHECK(negs_freq_update(f, last + 1000, ids, 3) == NEGS_OK);
    fz_freq_queries(f);
    free(fz_freq_roundtrip(f, &saved));

    /* A SKETCH merges with a copy of itself as loaded: still finite and loadable. */
    negs_freq *g = negs_freq_load(img, n);
    FUZZ_CHECK(g != NULL);
    st = negs_freq_merge(g, f);
    if (st == NEGS_OK) {
        fz_freq_queries(g);
        free(fz_freq_roundtrip(g, &saved));
    } else {
        FUZZ_CHECK_FAILURE(st);
    }
    FUZZ_CHECK(negs_freq_reset(g) == NEGS_OK);
    FUZZ_CHECK(negs_freq_prob(g, ids, 1, &(float){0}) == NEGS_E_STATE);
    negs_freq_free(g);
    negs_freq_free(f);
    free(img);
    return 0;
}

#ifdef NEGS_LIBFUZZER
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return negs_fuzz_freq_load(data, size);
}
#endif
