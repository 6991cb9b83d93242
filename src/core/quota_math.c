/* quota_math.c - see quota_math.h. */
#include "core/quota_math.h"

#include <math.h>
#include <string.h>

void quota_rate_init(quota_rate *q, int nsamples, int64_t window_ms)
{
    memset(q, 0, sizeof *q);
    q->nsamples = nsamples < 1 ? 1 : nsamples > QUOTA_MAX_SAMPLES ? QUOTA_MAX_SAMPLES : nsamples;
    q->window_ms = window_ms < 1 ? 1 : window_ms;
}

/* SampledStat.purgeObsoleteSamples: a sample older than the whole window
 * restarts empty at now. */
static void purge(quota_rate *q, int64_t now_ms)
{
    int64_t expire = (int64_t)q->nsamples * q->window_ms;
    for (int i = 0; i < q->used; i++)
        if (now_ms - q->start_ms[i] >= expire) {
            q->start_ms[i] = now_ms;
            q->value[i] = 0;
        }
}

void quota_rate_record(quota_rate *q, double v, int64_t now_ms)
{
    if (q->used == 0) {
        q->used = 1;
        q->cur = 0;
        q->start_ms[0] = now_ms;
        q->value[0] = 0;
    } else if (now_ms >= q->start_ms[q->cur] + q->window_ms) {
        /* The current sample is complete: advance (reusing the oldest). */
        q->cur = (q->cur + 1) % q->nsamples;
        if (q->cur >= q->used)
            q->used = q->cur + 1;
        q->start_ms[q->cur] = now_ms;
        q->value[q->cur] = 0;
    }
    q->value[q->cur] += v;
}

int64_t quota_rate_window(quota_rate *q, int64_t now_ms)
{
    purge(q, now_ms);
    int64_t oldest = now_ms;
    for (int i = 0; i < q->used; i++)
        if (q->start_ms[i] < oldest)
            oldest = q->start_ms[i];
    int64_t elapsed = now_ms - oldest;
    int64_t full = elapsed / q->window_ms, min_full = q->nsamples - 1;
    if (full < min_full)
        elapsed += (min_full - full) * q->window_ms;
    return elapsed > 0 ? elapsed : 1;
}

double quota_rate_measure(quota_rate *q, int64_t now_ms)
{
    int64_t w = quota_rate_window(q, now_ms);
    double total = 0;
    for (int i = 0; i < q->used; i++)
        total += q->value[i];
    return total * 1000.0 / (double)w;
}

int32_t quota_throttle_ms(double rate, double bound, int64_t window_ms)
{
    if (!(bound > 0) || !(rate > bound))
        return 0;
    double t = round((rate - bound) / bound * (double)window_ms);
    return t >= 2147483647.0 ? 2147483647 : (int32_t)t;
}

int32_t quota_rate_record_check(quota_rate *q, double v, double bound, int64_t now_ms)
{
    quota_rate_record(q, v, now_ms);
    double rate = quota_rate_measure(q, now_ms);
    return quota_throttle_ms(rate, bound, quota_rate_window(q, now_ms));
}
