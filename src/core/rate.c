/* rate.c - see rate.h. */
#include "core/rate.h"

#include <string.h>

void rate_init(rate_window *r)
{
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
}

void rate_destroy(rate_window *r)
{
    pthread_mutex_destroy(&r->lock);
}

/* Samples older than the window are forgotten (lock held). */
static void expire(rate_window *r, int64_t now_ms)
{
    for (int i = 0; i < RATE_SAMPLES; i++)
        if (r->start_ms[i] && now_ms - r->start_ms[i] >= RATE_SAMPLES * RATE_SAMPLE_MS) {
            r->start_ms[i] = 0;
            r->bytes[i] = 0;
        }
}

void rate_record(rate_window *r, int64_t n, int64_t now_ms)
{
    pthread_mutex_lock(&r->lock);
    expire(r, now_ms);
    if (!r->start_ms[r->cur] || now_ms - r->start_ms[r->cur] >= RATE_SAMPLE_MS) {
        r->cur = (r->cur + 1) % RATE_SAMPLES;
        r->start_ms[r->cur] = now_ms ? now_ms : 1;
        r->bytes[r->cur] = 0;
    }
    r->bytes[r->cur] += n;
    pthread_mutex_unlock(&r->lock);
}

double rate_measure(rate_window *r, int64_t now_ms)
{
    pthread_mutex_lock(&r->lock);
    expire(r, now_ms);
    int64_t total = 0, oldest = now_ms;
    for (int i = 0; i < RATE_SAMPLES; i++)
        if (r->start_ms[i]) {
            total += r->bytes[i];
            if (r->start_ms[i] < oldest)
                oldest = r->start_ms[i];
        }
    pthread_mutex_unlock(&r->lock);
    int64_t span = now_ms - oldest;
    int64_t min_span = (int64_t)(RATE_SAMPLES - 1) * RATE_SAMPLE_MS;   /* Kafka's */
    if (span < min_span)
        span = min_span;
    return (double)total * 1000.0 / (double)span;
}
