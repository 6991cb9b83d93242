/*
 * clock.h - the two clocks the broker uses.
 *
 * wall_ms(): Unix epoch milliseconds (record timestamps, retention by time).
 * mono_us()/mono_ms(): monotonic, for timeouts and measuring durations.
 */
#ifndef SAMSA_CORE_CLOCK_H
#define SAMSA_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static inline int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static inline int64_t mono_ms(void)
{
    return mono_us() / 1000;
}

#endif
