/* run.c - the unit-test runner (see test.h). */
#include "test.h"

#include "core/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define MAX_TESTS 2048

static struct { const char *name, *file; test_fn fn; double secs; } g_tests[MAX_TESTS];
static int g_ntests;
int test_failed_now;
static char g_tmp_root[256];
static int g_tmp_seq;

void test_register(const char *name, const char *file, test_fn fn)
{
    if (g_ntests < MAX_TESTS)
        { g_tests[g_ntests].name = name; g_tests[g_ntests].file = file; g_tests[g_ntests++].fn = fn; }
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "    FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    test_failed_now = 1;
}

const char *test_tmpdir(void)
{
    static char path[512];
    if (!g_tmp_root[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(g_tmp_root, sizeof g_tmp_root, "%s/samsa-unit-XXXXXX", t ? t : "/tmp");
        if (!mkdtemp(g_tmp_root)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    snprintf(path, sizeof path, "%s/t%d", g_tmp_root, ++g_tmp_seq);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0)
        exit(2);
    return path;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    /* The code under test logs what it does; keep the run readable unless
     * SAMSA_TEST_VERBOSE is set. */
    if (!getenv("SAMSA_TEST_VERBOSE"))
        log_set_level(LOG_WARN);
    /* SAMSA_TEST_SHARD=K/N: only every Nth test from the Kth (0-based), so
     * that N processes run the suite in parallel (make unit-test, UNIT_JOBS). */
    int shard = 0, nshards = 1;
    const char *sh = getenv("SAMSA_TEST_SHARD");
    if (sh && (sscanf(sh, "%d/%d", &shard, &nshards) != 2 || nshards < 1 || shard < 0 ||
               shard >= nshards)) {
        fprintf(stderr, "SAMSA_TEST_SHARD=%s: expected K/N with 0 <= K < N\n", sh);
        return 2;
    }
    for (int i = 0; i < g_ntests; i++) {
        if (argc > 1 && !strstr(g_tests[i].name, argv[1]) && !strstr(g_tests[i].file, argv[1]))
            continue;
        if (i % nshards != shard)
            continue;
        test_failed_now = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        g_tests[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        g_tests[i].secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (test_failed_now) {
            fprintf(stderr, "FAIL %s (%s)\n", g_tests[i].name, g_tests[i].file);
            failed++;
        } else {
            passed++;
        }
    }
    if (g_tmp_root[0]) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp_root);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", g_tmp_root);
    }
    /* The slowest tests, so that a slow one is seen (make test's budget). */
    for (int k = 0; k < 8; k++) {
        int best = -1;
        for (int i = 0; i < g_ntests; i++)
            if (g_tests[i].secs >= 1.0 && (best < 0 || g_tests[i].secs > g_tests[best].secs))
                best = i;
        if (best < 0)
            break;
        printf("  slow: %5.1f s %s (%s)\n", g_tests[best].secs, g_tests[best].name, g_tests[best].file);
        g_tests[best].secs = 0;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
