/* Shared by the hostile-input suites (tests/test_hostile*.c): a table of hostile calls, each
 * recorded with the status it gave and the sentence it left, checked together. Each call must
 * give the expected status and a sentence that starts with the status name and contains the
 * needle (the argument's name). tests/test_hostile.c checks that every public function and
 * parameter of include/negsample.h has an entry in one of these suites. */
#ifndef NEGS_TEST_HOSTILE_H
#define NEGS_TEST_HOSTILE_H

#include <float.h>
#include <stdio.h>

#include "test_util.h"

typedef struct hostile_case {
    const char *call;
    int got, want;
    const char *needle;
    char sentence[256];
} hostile_case;

static hostile_case g_cases[400];
static size_t g_n;

/* Records one hostile call: the status it gave and the sentence it left. */
#define H(expr, want_, needle_)                                                            \
    do {                                                                                   \
        assert_true(g_n < sizeof g_cases / sizeof g_cases[0]);                             \
        hostile_case *c_ = &g_cases[g_n++];                                                \
        c_->call = #expr;                                                                  \
        c_->got = (expr);                                                                  \
        c_->want = (want_);                                                                \
        c_->needle = (needle_);                                                            \
        snprintf(c_->sentence, sizeof c_->sentence, "%s", negs_last_error());              \
    } while (0)
/* A constructor: NULL and the status behind it. */
#define HN(expr, want_, needle_) H((expr) == NULL ? negs_last_status() : 0, want_, needle_)

static void check_cases(void)
{
    int bad = 0;
    for (size_t i = 0; i < g_n; i++) {
        hostile_case *c = &g_cases[i];
        const char *name = negs_status_name(c->want);
        int ok = c->got == c->want;
        if (c->want < 0)
            ok = ok && strncmp(c->sentence, name, strlen(name)) == 0 && strstr(c->sentence, c->needle);
        if (!ok) {
            print_error("%s: got %s, want %s naming \"%s\": \"%s\"\n", c->call,
                        negs_status_name(c->got), name, c->needle, c->sentence);
            bad++;
        }
    }
    g_n = 0;
    assert_int_equal(bad, 0);
}

#endif
