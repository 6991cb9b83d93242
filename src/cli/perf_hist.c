/*
 * perf_hist.c - latency histogram for `samsa perf` (log-linear buckets in
 * the manner of HdrHistogram).
 *
 * Values are microseconds. Values below 2^SUB_BITS (128) get a bucket
 * each; above, every power of two is split into 128 equal buckets, so a
 * recorded value is known to within 1/128 (< 0.8%) of itself, from 1 us to
 * years, in a fixed 59 KiB array. The exact minimum, maximum and sum are
 * kept beside the buckets. Percentiles return the middle of the bucket
 * holding the requested rank, capped by the exact maximum.
 *
 * Threads: a histogram belongs to one thread while recording; merge after
 * joining. No locks.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/perf.h"

static int bucket_of(uint64_t v)
{
    if (v < PERF_HIST_SUB)
        return (int)v;
    int msb = 63 - __builtin_clzll(v);
    int shift = msb - PERF_HIST_SUB_BITS;              /* >= 0 */
    int sub = (int)(v >> shift) - PERF_HIST_SUB;       /* 0 .. SUB-1 */
    int idx = (shift + 1) * PERF_HIST_SUB + sub;
    return idx < PERF_HIST_BUCKETS ? idx : PERF_HIST_BUCKETS - 1;
}

/* Middle value of bucket idx. */
static double bucket_mid(int idx)
{
    if (idx < PERF_HIST_SUB)
        return idx;
    int shift = idx / PERF_HIST_SUB - 1;
    uint64_t sub = (uint64_t)(idx % PERF_HIST_SUB + PERF_HIST_SUB);
    uint64_t lo = sub << shift, width = (uint64_t)1 << shift;
    return (double)lo + (double)(width - 1) / 2.0;
}

void perf_hist_init(perf_hist_t *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void perf_hist_record(perf_hist_t *h, uint64_t v)
{
    h->counts[bucket_of(v)]++;
    h->n++;
    h->sum += v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void perf_hist_merge(perf_hist_t *dst, const perf_hist_t *src)
{
    for (int k = 0; k < PERF_HIST_BUCKETS; k++)
        dst->counts[k] += src->counts[k];
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

double perf_hist_pct(const perf_hist_t *h, double pct)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)(pct / 100.0 * (double)h->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > h->n)
        rank = h->n;
    uint64_t cum = 0;
    for (int k = 0; k < PERF_HIST_BUCKETS; k++) {
        cum += h->counts[k];
        if (cum >= rank) {
            double v = bucket_mid(k);
            if (v > (double)h->max)
                v = (double)h->max;
            if (v < (double)h->min)
                v = (double)h->min;
            return v;
        }
    }
    return (double)h->max;
}

double perf_hist_mean(const perf_hist_t *h)
{
    return h->n ? (double)h->sum / (double)h->n : 0;
}
