/*
 * log.h - the broker's diagnostic log (not the commit log: see storage/).
 *
 * Lines go to stderr as "2026-11-25T22:01:21.123Z INFO  [module] text".
 * One write(2) per line, so lines from different threads never interleave.
 * The level is set once at startup (log_set_level) and read without locks.
 */
#ifndef SAMSA_CORE_LOG_H
#define SAMSA_CORE_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);
/* Parse "debug", "info", "warn"/"warning", "error"; -1 if unknown. */
int log_level_parse(const char *s);

void log_write(enum log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define LOG_DBG(mod, ...)  do { if (log_get_level() <= LOG_DEBUG) log_write(LOG_DEBUG, mod, __VA_ARGS__); } while (0)
#define LOG_INF(mod, ...)  log_write(LOG_INFO, mod, __VA_ARGS__)
#define LOG_WRN(mod, ...)  log_write(LOG_WARN, mod, __VA_ARGS__)
#define LOG_ERR(mod, ...)  log_write(LOG_ERROR, mod, __VA_ARGS__)

#endif
