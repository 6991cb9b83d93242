/*
 * fuzz_util.h - helpers shared by the libFuzzer harnesses in tests/fuzz/.
 *
 * Every harness is one file, fuzz_<target>.c, built by `make fuzz-build`
 * with clang -fsanitize=fuzzer,address,undefined against an instrumented
 * libsamsa.a.  A harness must be deterministic (no wall clock, no random
 * numbers, no threads), must free everything it allocates per input, and
 * may write files only below a temp dir it created itself.
 *
 * FUZZ_ASSERT is the oracle: a violated invariant prints what failed and
 * aborts, which libFuzzer reports as a crash and saves the input.
 *
 * docs/reliability.md ("Fuzzing") describes the targets and how to run them.
 */
#ifndef SAMSA_FUZZ_UTIL_H
#define SAMSA_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/log.h"

/* A fixed "now" (2023-11-14T22:13:20Z) so that runs are reproducible. */
#define FUZZ_NOW_MS 1700000000000LL

#define FUZZ_ASSERT(cond, ...)                                                  \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "\nfuzz invariant violated at %s:%d: %s\n  ",      \
                    __FILE__, __LINE__, #cond);                                 \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            abort();                                                            \
        }                                                                       \
    } while (0)

/* The library logs every rejected input at WARN; keep the fuzzer's output
 * readable (ERROR lines still show).  SAMSA_FUZZ_LOG=debug|info|warn
 * restores them when reproducing a crash. */
static inline void fuzz_quiet_logs(void)
{
    const char *v = getenv("SAMSA_FUZZ_LOG");
    int lvl = v ? log_level_parse(v) : -1;
    log_set_level(lvl >= 0 ? (enum log_level)lvl : LOG_ERROR);
}

static inline uint16_t fuzz_be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t fuzz_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif
