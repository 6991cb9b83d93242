/*
 * bench_util.h - helpers shared by the C load generators in bench/
 * (redis_bench.c, nats_bench.c): clock, payloads, latency samples, the
 * JSON summary line and their common command-line options.
 *
 * The payload is built the way `samsa perf` builds its own: `size` random
 * printable bytes ('A' + x % 58 from an xorshift64 generator), so every
 * system stores the same kind of (equally incompressible) data. For the
 * end-to-end mode the first 16 bytes carry the send time as 16 hex digits
 * (CLOCK_MONOTONIC, microseconds); the consumer runs in the same process,
 * so no clock synchronisation is involved.
 *
 * The summary printed on stdout has the field names of `samsa perf --json`
 * ("type":"summary", "mode", "messages", "bytes", "duration_s",
 * "msgs_per_sec", "mb_per_sec" with MB = 2^20 bytes, "latency_ms"), so
 * bench/run.py reads every tool the same way.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static inline char *make_payload(size_t size)
{
    char *p = malloc(size + 1);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    uint64_t x = 0x9E3779B97F4A7C15ULL ^ (uint64_t)now_us();
    for (size_t k = 0; k < size; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[k] = (char)('A' + (x % 58));
    }
    p[size] = 0;
    return p;
}

/* e2e: the send time in the first 16 bytes (size >= 16 is checked by the tools). */
static inline void stamp_payload(char *p, int64_t t_us)
{
    static const char hex[] = "0123456789abcdef";
    uint64_t v = (uint64_t)t_us;
    for (int i = 15; i >= 0; i--, v >>= 4)
        p[i] = hex[v & 15];
}

static inline int64_t read_stamp(const char *p, size_t len)
{
    if (len < 16)
        return -1;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char c = p[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    return (int64_t)v;
}

/* Latency samples in microseconds; every sample is kept (runs are short). */
typedef struct {
    uint32_t *v;
    size_t n, cap;
} lat_t;

static inline void lat_add(lat_t *l, int64_t us)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 65536;
        l->v = realloc(l->v, l->cap * sizeof *l->v);
        if (!l->v) {
            fprintf(stderr, "out of memory\n");
            exit(1);
        }
    }
    l->v[l->n++] = us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

static int lat_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted samples, in milliseconds. */
static inline double lat_pct(const lat_t *l, double pct)
{
    size_t rank = (size_t)(pct / 100.0 * (double)l->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > l->n)
        rank = l->n;
    return l->v[rank - 1] / 1000.0;
}

/* Prints `"latency_ms": {...}` (or null) into f. */
static inline void lat_json(FILE *f, lat_t *l)
{
    if (!l || l->n == 0) {
        fputs("null", f);
        return;
    }
    qsort(l->v, l->n, sizeof *l->v, lat_cmp);
    double sum = 0;
    for (size_t i = 0; i < l->n; i++)
        sum += l->v[i];
    fprintf(f, "{\"avg\": %.3f, \"min\": %.3f, \"p50\": %.3f, \"p95\": %.3f, \"p99\": %.3f, "
               "\"p99_9\": %.3f, \"max\": %.3f}",
            sum / (double)l->n / 1000.0, l->v[0] / 1000.0, lat_pct(l, 50), lat_pct(l, 95),
            lat_pct(l, 99), lat_pct(l, 99.9), l->v[l->n - 1] / 1000.0);
}

/* One JSON summary line on stdout; `extra` is appended verbatim (", ..." or ""). */
static inline void print_summary(const char *system, const char *mode, const char *name,
                                 uint64_t msgs, uint64_t bytes, uint64_t failed, double secs,
                                 lat_t *lat, const char *extra)
{
    if (secs <= 0)
        secs = 1e-9;
    printf("{\"type\": \"summary\", \"system\": \"%s\", \"mode\": \"%s\", \"topic\": \"%s\", "
           "\"messages\": %" PRIu64 ", \"failed\": %" PRIu64 ", \"bytes\": %" PRIu64
           ", \"duration_s\": %.6f, \"msgs_per_sec\": %.3f, \"mb_per_sec\": %.3f, \"latency_ms\": ",
           system, mode, name, msgs, failed, bytes, secs, (double)msgs / secs,
           (double)bytes / secs / (1024.0 * 1024.0));
    lat_json(stdout, lat);
    printf("%s}\n", extra ? extra : "");
    fflush(stdout);
}

/* The options both load generators take (bench/run.py passes the same flags
 * to each); every field points at the tool's own variable, set to its
 * default beforehand.  `chunk` is -c: NATS's pull batch, Redis's XRANGE page. */
typedef struct {
    const char **host, **name;
    int *port, *nstreams, *window, *chunk;
    size_t *size;
    uint64_t *count;
    double *duration, *rate;
    const char *chunk_long;          /* long name of -c */
    void (*usage)(FILE *);
} bench_opts;

/* Parses argv.  Returns the mode (the one operand), or NULL after printing
 * the usage, with *exit_code 0 for --help and 2 for wrong usage. */
static inline const char *bench_parse_opts(int argc, char **argv, const bench_opts *o, int *exit_code)
{
    const struct option opts[] = {
        {"host", 1, 0, 'H'}, {"port", 1, 0, 'p'}, {"key", 1, 0, 'k'}, {"streams", 1, 0, 'S'},
        {"size", 1, 0, 's'}, {"count", 1, 0, 'n'}, {"duration", 1, 0, 'd'}, {"window", 1, 0, 'w'},
        {"rate", 1, 0, 'r'}, {o->chunk_long, 1, 0, 'c'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    *exit_code = 2;
    while ((c = getopt_long(argc, argv, "H:p:k:S:s:n:d:w:r:c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'H': *o->host = optarg; break;
        case 'p': *o->port = atoi(optarg); break;
        case 'k': *o->name = optarg; break;
        case 'S': *o->nstreams = atoi(optarg); break;
        case 's': *o->size = (size_t)strtoull(optarg, NULL, 10); break;
        case 'n': *o->count = strtoull(optarg, NULL, 10); break;
        case 'd': *o->duration = atof(optarg); break;
        case 'w': *o->window = atoi(optarg); break;
        case 'r': *o->rate = atof(optarg); break;
        case 'c': *o->chunk = atoi(optarg); break;
        case 'h': o->usage(stdout); *exit_code = 0; return NULL;
        default: o->usage(stderr); return NULL;
        }
    }
    if (optind != argc - 1 || *o->nstreams < 1 || *o->window < 2 || *o->chunk < 1 || *o->rate <= 0 ||
        *o->size < 1) {
        o->usage(stderr);
        return NULL;
    }
    return argv[optind];
}

#endif
