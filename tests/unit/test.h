/*
 * test.h - the unit-test harness: TEST() registers a function at load time;
 * run.c runs them all (or those matching argv[1]) and ends with the line
 * "N passed, N failed".  CHECK* record a failure and keep going; REQUIRE*
 * stop the current test.
 */
#ifndef SAMSA_TEST_H
#define SAMSA_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*test_fn)(void);
void test_register(const char *name, const char *file, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern int test_failed_now;

#define TEST(name)                                                      \
    static void test_##name(void);                                      \
    __attribute__((constructor)) static void reg_##name(void)           \
    { test_register(#name, __FILE__, test_##name); }                    \
    static void test_##name(void)

#define CHECK(cond) do { if (!(cond)) test_fail(__FILE__, __LINE__, "%s", #cond); } while (0)
#define REQUIRE(cond) do { if (!(cond)) { test_fail(__FILE__, __LINE__, "%s", #cond); return; } } while (0)
#define CHECK_EQ(a, b) do {                                              \
        long long a_ = (long long)(a), b_ = (long long)(b);              \
        if (a_ != b_) test_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, a_, b_); \
    } while (0)
#define REQUIRE_EQ(a, b) do {                                            \
        long long a_ = (long long)(a), b_ = (long long)(b);              \
        if (a_ != b_) { test_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", #a, #b, a_, b_); return; } \
    } while (0)
#define CHECK_STR(a, b) do {                                             \
        const char *a_ = (a), *b_ = (b);                                 \
        if (!a_ || !b_ || strcmp(a_, b_)) test_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")", #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
    } while (0)

/* A fresh empty directory under $TMPDIR for this test; removed at exit. */
const char *test_tmpdir(void);

#endif
