/* negs_freq save/load: bit-exact round trips, and every damaged image refused with FORMAT. */
#include "freq/freq_internal.h"
#include "test_util.h"

static negs_freq *filled(int kind, size_t buckets, uint32_t hashes, double half_life)
{
    negs_freq *f = negs_freq_create(kind, buckets, hashes, 0xC0FFEE);
    assert_non_null(f);
    if (kind == NEGS_FREQ_SKETCH)
        assert_int_equal(negs_freq_set_param(f, NEGS_FP_HALF_LIFE, half_life), NEGS_OK);
    else
        assert_int_equal(negs_freq_set_param(f, NEGS_FP_ALPHA, 0.05), NEGS_OK);
    assert_int_equal(negs_freq_set_param(f, NEGS_FP_MAX_GAP, 5000.0), NEGS_OK);
    uint64_t batch[16];
    for (uint64_t t = 100; t < 400; t += 3) {
        for (int i = 0; i < 16; i++) batch[i] = (t * 7 + (uint64_t)i * (uint64_t)i) % 53;
        assert_int_equal(negs_freq_update(f, t, batch, 16), NEGS_OK);
    }
    return f;
}

static unsigned char *save_all(const negs_freq *f, size_t *n)
{
    assert_int_equal(negs_freq_save(f, NULL, 0, n), NEGS_OK);
    unsigned char *buf = malloc(*n);
    size_t got = 0;
    assert_int_equal(negs_freq_save(f, buf, *n, &got), NEGS_OK);
    assert_int_equal(got, *n);
    return buf;
}

static void assert_same_estimates(const negs_freq *a, const negs_freq *b)
{
    uint64_t ids[80];
    float pa[80], pb[80];
    for (int i = 0; i < 80; i++) ids[i] = (uint64_t)i;
    assert_int_equal(negs_freq_prob(a, ids, 80, pa), NEGS_OK);
    assert_int_equal(negs_freq_prob(b, ids, 80, pb), NEGS_OK);
    assert_memory_equal(pa, pb, sizeof pa);
}

static void round_trip(int kind, double half_life)
{
    negs_freq *f = filled(kind, 200, 3, half_life);
    size_t n;
    unsigned char *img = save_all(f, &n);
    assert_int_equal(n, 128 + 200 * 3 * (kind == NEGS_FREQ_GAP ? 16 : 8) + 8);
    negs_freq *g = negs_freq_load(img, n);
    assert_non_null(g);
    size_t n2;
    unsigned char *img2 = save_all(g, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(img, img2, n); /* load then save: the same bytes */
    assert_same_estimates(f, g);
    double v;
    assert_int_equal(negs_freq_get_param(g, NEGS_FP_MAX_GAP, &v), NEGS_OK);
    assert_true(v == 5000.0);
    /* both continue identically */
    uint64_t more[5] = {1, 2, 3, 99, 1};
    assert_int_equal(negs_freq_update(f, 1000, more, 5), NEGS_OK);
    assert_int_equal(negs_freq_update(g, 1000, more, 5), NEGS_OK);
    assert_same_estimates(f, g);
    assert_fails_with(negs_freq_update(g, 999, more, 5), NEGS_E_INVALID); /* the step survived */
    free(img);
    free(img2);
    negs_freq_free(f);
    negs_freq_free(g);
}

static void test_round_trip(void **state)
{
    (void)state;
    round_trip(NEGS_FREQ_GAP, 0.0);
    round_trip(NEGS_FREQ_SKETCH, 0.0);
    round_trip(NEGS_FREQ_SKETCH, 7.5);
    /* an estimator without data round-trips too */
    negs_freq *e = negs_freq_create(NEGS_FREQ_SKETCH, 4, 1, 1);
    size_t n;
    unsigned char *img = save_all(e, &n);
    negs_freq *g = negs_freq_load(img, n);
    assert_non_null(g);
    float p;
    uint64_t id = 1;
    assert_fails_with(negs_freq_prob(g, &id, 1, &p), NEGS_E_STATE);
    free(img);
    negs_freq_free(e);
    negs_freq_free(g);
}

static void test_save_bad_input(void **state)
{
    (void)state;
    negs_freq *f = filled(NEGS_FREQ_GAP, 8, 2, 0);
    size_t n;
    unsigned char buf[64];
    assert_fails_with(negs_freq_save(NULL, buf, sizeof buf, &n), NEGS_E_INVALID);
    assert_fails_with(negs_freq_save(f, buf, sizeof buf, NULL), NEGS_E_INVALID);
    assert_fails_with(negs_freq_save(f, buf, sizeof buf, &n), NEGS_E_INVALID); /* too small */
    assert_int_equal(n, 128 + 8 * 2 * 16 + 8); /* the size it needs is still reported */
    assert_null(negs_freq_load(NULL, 10));
    assert_int_equal(negs_last_status(), NEGS_E_INVALID);
    negs_freq_free(f);
}

static void expect_format(const unsigned char *img, size_t n)
{
    negs_freq *g = negs_freq_load(img, n);
    if (g) {
        negs_freq_free(g);
        print_error("a damaged image of %zu bytes was accepted\n", n);
        fail();
    }
    assert_int_equal(negs_last_status(), NEGS_E_FORMAT);
    assert_true(strlen(negs_last_error()) > 0);
}

/* Every truncation, every single-byte change (three patterns per byte) and an extra byte. */
static void damage_all(int kind)
{
    negs_freq *f = filled(kind, 6, 2, 3.0);
    size_t n;
    unsigned char *img = save_all(f, &n);
    unsigned char *bad = malloc(n + 1);
    for (size_t len = 0; len < n; len++) {
        memcpy(bad, img, len);
        expect_format(bad, len);
    }
    static const unsigned char flips[3] = {0x01, 0x80, 0xFF};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            memcpy(bad, img, n);
            bad[i] ^= flips[k];
            expect_format(bad, n);
            /* past the magic and version, any changed byte is reported as damage (the
             * checksum is verified before the fields), never as a field's range error */
            if (i >= 12 && !strstr(negs_last_error(), "checksum does not match")) {
                print_error("byte %zu ^ 0x%02x: \"%s\"\n", i, flips[k], negs_last_error());
                fail();
            }
        }
    memcpy(bad, img, 200);
    expect_format(bad, 200); /* truncated: the sentence says so */
    assert_non_null(strstr(negs_last_error(), "checksum does not match: size = 200 bytes but the "
                                              "header describes"));
    memcpy(bad, img, n);
    bad[n] = 0;
    expect_format(bad, n + 1);
    assert_non_null(strstr(negs_last_error(), "truncated, over-long or damaged"));
    bad[0] ^= 1;
    expect_format(bad, n);
    assert_non_null(strstr(negs_last_error(), "magic"));
    free(bad);
    free(img);
    negs_freq_free(f);
}

static void test_damaged_images(void **state)
{
    (void)state;
    damage_all(NEGS_FREQ_GAP);
    damage_all(NEGS_FREQ_SKETCH);
}

/* Foreign bytes, and images whose checksum is right but whose fields are not. */
static void reseal(unsigned char *img, size_t n)
{
    uint64_t c = negs_freq_image_checksum(img, n - 8);
    for (int i = 0; i < 8; i++) img[n - 8 + i] = (unsigned char)(c >> (8 * i));
}

static void test_foreign_and_forged(void **state)
{
    (void)state;
    unsigned char junk[512];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (unsigned char)(i * 131u + 7u);
    expect_format(junk, sizeof junk);
    memcpy(junk, "NEGSFREQ", 8);
    expect_format(junk, sizeof junk);

    negs_freq *f = filled(NEGS_FREQ_GAP, 6, 2, 0);
    size_t n;
    unsigned char *img = save_all(f, &n), *bad = malloc(n);
    const double nan = NAN;
    struct {
        size_t off, len;
        const void *val;
    } forge[] = {
        {8, 4, "\x02\0\0\0"},                 /* format version 2 */
        {12, 4, "\x03\0\0\0"},                /* unknown kind */
        {12, 4, "\x02\0\0\0"},                /* GAP tables labelled SKETCH */
        {16, 8, "\0\0\0\0\0\0\0\0"},          /* 0 buckets */
        {24, 4, "\x21\0\0\0"},                /* 33 hashes */
        {28, 4, "\x04\0\0\0"},                /* unknown flag */
        {40, 8, &nan},                        /* alpha NaN */
        {48, 8, "\0\0\0\0\0\0\0\0"},          /* max_gap 0 */
        {64, 8, "\xff\xff\xff\xff\0\0\0\0"},  /* first step after the last */
        {104, 8, &nan},                       /* rate NaN */
        {128 + 12, 4, "\0\0\xc0\x7f"},        /* a cell's count NaN */
        {128 + 8, 4, "\0\0\0\x3f"},           /* a cell's gap 0.5 */
    };
    for (size_t k = 0; k < sizeof forge / sizeof forge[0]; k++) {
        memcpy(bad, img, n);
        memcpy(bad + forge[k].off, forge[k].val, forge[k].len);
        reseal(bad, n);
        expect_format(bad, n);
    }
    memcpy(bad, img, n); /* resealing an undamaged image keeps it valid */
    reseal(bad, n);
    negs_freq *g = negs_freq_load(bad, n);
    assert_non_null(g);
    negs_freq_free(g);
    free(bad);
    free(img);
    negs_freq_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_save_bad_input),
        cmocka_unit_test(test_damaged_images),
        cmocka_unit_test(test_foreign_and_forged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
