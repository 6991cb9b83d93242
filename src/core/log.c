/* log.c - see log.h. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static enum log_level g_level = LOG_INFO;

void log_set_level(enum log_level lvl) { g_level = lvl; }
enum log_level log_get_level(void) { return g_level; }

int log_level_parse(const char *s)
{
    if (!strcasecmp(s, "debug") || !strcasecmp(s, "trace")) return LOG_DEBUG;
    if (!strcasecmp(s, "info")) return LOG_INFO;
    if (!strcasecmp(s, "warn") || !strcasecmp(s, "warning")) return LOG_WARN;
    if (!strcasecmp(s, "error")) return LOG_ERROR;
    return -1;
}

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
{
    static const char *names[] = { "DEBUG", "INFO ", "WARN ", "ERROR" };
    if (lvl < g_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%s] ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                     tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[lvl], module);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, len);
    (void)w;
}
