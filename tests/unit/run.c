/* run.c - the unit-test runner (see test.h). */
#include "test.h"

#include "core/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_TESTS 2048

static struct { const char *name, *file; test_fn fn; } g_tests[MAX_TESTS];
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
    for (int i = 0; i < g_ntests; i++) {
        if (argc > 1 && !strstr(g_tests[i].name, argv[1]) && !strstr(g_tests[i].file, argv[1]))
            continue;
        test_failed_now = 0;
        g_tests[i].fn();
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
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
