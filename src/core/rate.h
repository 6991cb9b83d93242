/*
 * rate.h - a byte-rate window, Kafka's quota measure (its Rate over
 * SampledStat, as ReplicationQuotaManager configures it: 11 samples of
 * 1 s).  The rate is the bytes recorded in the live samples divided by
 * the time they span, which counts as at least 10 s (samples - 1), so a
 * fresh window lets a burst of 10 s worth through before it throttles,
 * then holds the long-run rate to the bound.
 *
 * Used for replication throttles (docs/cluster.md "Replication
 * throttles"): the leader's and the follower's.  Any thread: a mutex
 * guards the samples; nobody calls in when no throttle is set.
 */
#ifndef SAMSA_CORE_RATE_H
#define SAMSA_CORE_RATE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define RATE_SAMPLES 11
#define RATE_SAMPLE_MS 1000

typedef struct rate_window {
    pthread_mutex_t lock;
    int64_t start_ms[RATE_SAMPLES];      /* each sample's start; 0 = unused */
    int64_t bytes[RATE_SAMPLES];
    int cur;
} rate_window;

void rate_init(rate_window *r);
void rate_destroy(rate_window *r);
/* Add n bytes at monotonic time now_ms. */
void rate_record(rate_window *r, int64_t n, int64_t now_ms);
/* Bytes per second over the window at now_ms. */
double rate_measure(rate_window *r, int64_t now_ms);
/* True when the measured rate is above bound (bytes/s). */
static inline bool rate_exceeded(rate_window *r, int64_t bound, int64_t now_ms)
{
    return rate_measure(r, now_ms) > (double)bound;
}

#endif
