/*
 * quota_math.h - Kafka's client-quota arithmetic (ClientQuotaManager over
 * Rate / SampledStat), pure and lock-free: the caller serialises.
 *
 * A quota_rate keeps up to quota.window.num samples of
 * quota.window.size.seconds each.  A sample starts at the time of the
 * first value recorded after the previous one completed (not aligned);
 * samples older than num * size are reset.  The measured rate is the sum
 * of the samples over the window's length, and the length counts as at
 * least (num - 1) full windows plus the elapsed part (Rate.windowSize), so
 * a new client is not judged on its first second alone.
 *
 * When a recorded value leaves the rate above the bound, the throttle is
 *     round((rate - bound) / bound * windowSize)   ms       (S-ENT4)
 * (ClientQuotaManager.throttleTime): the time for which the client must
 * send nothing for its rate over the window to fall back to the bound.
 */
#ifndef SAMSA_CORE_QUOTA_MATH_H
#define SAMSA_CORE_QUOTA_MATH_H

#include <stdint.h>

#define QUOTA_MAX_SAMPLES 128

typedef struct quota_rate {
    int nsamples;                 /* quota.window.num */
    int64_t window_ms;            /* quota.window.size.seconds * 1000 */
    int used;                     /* samples created so far (<= nsamples) */
    int cur;
    int64_t start_ms[QUOTA_MAX_SAMPLES];
    double value[QUOTA_MAX_SAMPLES];
} quota_rate;

/* nsamples is clamped to [1, QUOTA_MAX_SAMPLES], window_ms to >= 1. */
void quota_rate_init(quota_rate *q, int nsamples, int64_t window_ms);
/* Add v (bytes, or percent-seconds) at monotonic time now_ms. */
void quota_rate_record(quota_rate *q, double v, int64_t now_ms);
/* The window's length in ms at now_ms (Rate.windowSize); purges. */
int64_t quota_rate_window(quota_rate *q, int64_t now_ms);
/* The rate per second at now_ms. */
double quota_rate_measure(quota_rate *q, int64_t now_ms);
/* The throttle for a measured rate against bound over window_ms; 0 when
 * rate <= bound or bound <= 0 is "no quota".  Capped at INT32_MAX. */
int32_t quota_throttle_ms(double rate, double bound, int64_t window_ms);
/* Record v and return the throttle it earns (0 within the quota). */
int32_t quota_rate_record_check(quota_rate *q, double v, double bound, int64_t now_ms);

#endif
