/* Replays every kept fuzz input (tests/fuzz/corpus/<harness>/ and tests/fuzz/repro/<harness>/)
 * through its harness, without libFuzzer: the regression half of `make fuzz`. A violated
 * invariant aborts with the harness's message, which names the input. */
#include <dirent.h>
#include <stdio.h>

#include "test_util.h"
#include "fuzz/fuzz_api.c"
#include "fuzz/fuzz_csr.c"
#include "fuzz/fuzz_freq_load.c"

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Runs `one` on every file of dir (sorted); returns how many. */
static size_t replay_dir(const char *dir, int (*one)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    char *names[4096];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096)
        if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        fz_input_name = path; /* named if the harness aborts on it */
        uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees reads past the input */
        assert_non_null(copy);
        memcpy(copy, buf, len);
        one(copy, len);
        free(copy);
        free(names[i]);
    }
    return n;
}

static void replay(const char *name, int (*one)(const uint8_t *, size_t), size_t min_inputs)
{
    char dir[256];
    snprintf(dir, sizeof dir, "tests/fuzz/corpus/%s", name);
    size_t n = replay_dir(dir, one);
    snprintf(dir, sizeof dir, "tests/fuzz/repro/%s", name);
    n += replay_dir(dir, one);
    printf("%s: %zu inputs replayed\n", name, n);
    assert_true(n >= min_inputs); /* run from the repository root, as make check does */
}

static void test_replay_freq_load(void **state)
{
    (void)state;
    replay("freq_load", negs_fuzz_freq_load, 10);
}

static void test_replay_csr(void **state)
{
    (void)state;
    replay("csr", negs_fuzz_csr, 10);
}

static void test_replay_api(void **state)
{
    (void)state;
    replay("api", negs_fuzz_api, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_freq_load),
        cmocka_unit_test(test_replay_csr),
        cmocka_unit_test(test_replay_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
