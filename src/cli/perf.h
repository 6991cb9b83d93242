/*
 * perf.h - internals shared by the files of `samsa perf` (perf.c: options,
 * topic setup, producers, reporting; perf_consume.c: consume and e2e;
 * perf_hist.c: latency histogram).
 *
 * Threads and ownership:
 *   - each producer instance is one thread with its own rd_kafka_t; its
 *     delivery callback runs on that thread (rd_kafka_poll), so its
 *     histogram needs no lock;
 *   - the e2e consumer is one more thread; perf consume runs on main;
 *   - the main thread reports: it reads the perf_meter_t counters (atomics,
 *     one writer each) and swaps the per-interval window out.
 */
#ifndef SAMSA_CLI_PERF_H
#define SAMSA_CLI_PERF_H

#include <stdatomic.h>
#include <stdint.h>

#include "cli/cli.h"

#define PERF_HIST_SUB_BITS 7
#define PERF_HIST_SUB (1 << PERF_HIST_SUB_BITS)
#define PERF_HIST_BUCKETS (58 * PERF_HIST_SUB)

typedef struct perf_hist {
    uint64_t counts[PERF_HIST_BUCKETS];
    uint64_t n, sum, min, max;   /* microseconds */
} perf_hist_t;

void perf_hist_init(perf_hist_t *h);
void perf_hist_record(perf_hist_t *h, uint64_t us);
void perf_hist_merge(perf_hist_t *dst, const perf_hist_t *src);
double perf_hist_pct(const perf_hist_t *h, double pct);   /* us */
double perf_hist_mean(const perf_hist_t *h);

/* Counters of one writer thread, read by the reporter. */
typedef struct perf_meter {
    _Atomic uint64_t n, bytes, failed;
    _Atomic uint64_t win_n, win_sum, win_max;   /* latency window, us */
    _Atomic int64_t t_first, t_last;            /* monotonic us, 0 = none */
} perf_meter_t;

void perf_meter_add(perf_meter_t *m, uint64_t bytes, int64_t lat_us, int64_t now);

/* The options of all three modes (one struct, per-mode tables). */
typedef struct perf_opts {
    int64_t count;
    const char *duration;
    const char *size;
    int64_t rate;
    const char *acks;
    const char *compression;
    const char *batch_size;
    int64_t batch_messages;
    int64_t linger_ms;
    int64_t partitions;
    int64_t replicas;
    int64_t producers;
    const char *interval;
    const char *group;
    const char *offset;
    int64_t warmup_records;      /* produce: sent and acknowledged before the clock starts */
} perf_opts_t;

extern perf_opts_t perf_o;

/* Parsed settings. */
typedef struct perf_run {
    const char *topic;
    const char *mode;            /* "produce", "consume", "e2e" */
    uint64_t count;              /* UINT64_MAX: until the duration ends */
    int64_t duration_ms;         /* 0: none */
    int64_t size;
    double rate;                 /* total msgs/s, 0 = unlimited */
    int64_t interval_ms;
    int producers;
    int partitions;              /* of the topic */
    int64_t t0;                  /* start, monotonic us */
} perf_run_t;

/* Make sure the topic exists (create with --partitions/--replicas when
 * missing). Returns 0 with run->partitions set, or an exit code. */
int perf_prepare_topic(perf_run_t *run);

/* Producer side (perf.c), also used by e2e. */
typedef struct perf_producers perf_producers_t;
int perf_producers_start(perf_run_t *run, int e2e, perf_producers_t **out);
int perf_producers_done(perf_producers_t *pp);
void perf_producers_stop(perf_producers_t *pp);
/* Join, merge histograms; returns the number of failed messages. */
void perf_producers_join(perf_producers_t *pp, perf_hist_t *hist, uint64_t *acked, uint64_t *failed,
                         uint64_t *bytes, int64_t *t_last, char *err, size_t errlen);
/* Sum of the meters (acked counts), and the window (reset). */
void perf_producers_totals(perf_producers_t *pp, uint64_t *acked, uint64_t *bytes, uint64_t *failed,
                           uint64_t *win_n, uint64_t *win_sum, uint64_t *win_max);
void perf_producers_free(perf_producers_t *pp);

/* Reporting (perf.c). */
void perf_print_header(const perf_run_t *run);
void perf_print_progress(const perf_run_t *run, const char *what, uint64_t total, uint64_t dmsgs,
                         uint64_t dbytes, double dt_s, uint64_t win_n, uint64_t win_sum, uint64_t win_max);
void perf_write_latency(jw_t *w, const char *key, const perf_hist_t *h);
void perf_print_latency_line(const char *label, const perf_hist_t *h);
void perf_write_settings(jw_t *w, const perf_run_t *run);

/* e2e payload: magic + send time (monotonic us), little-endian. */
#define PERF_E2E_MAGIC 0x45324541534d4153ULL /* "SAMSAE2E" */
#define PERF_E2E_HDR 16

int perf_run_consume(perf_run_t *run);
int perf_run_e2e(perf_run_t *run);

#endif
