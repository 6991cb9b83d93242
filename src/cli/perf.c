/*
 * perf.c - `samsa perf produce|consume|e2e`: the load generator our
 * benchmarks use, in the spirit of kafka-producer-perf-test.
 *
 * perf produce: N producer instances (threads, one rd_kafka_t each) send
 * fixed-size messages without keys as fast as allowed (--rate is the total
 * across producers, split evenly; a producer paces itself against its own
 * start time, so it catches up after a stall instead of drifting). A
 * message's latency is from the produce call to its delivery report, like
 * Kafka's tool: local queueing included. The payload is one random buffer
 * shared by every message (no copy).
 *
 * Reporting: every --interval (default 5 s) one progress line on stderr:
 * messages acknowledged in the interval, their rate, MB/s, and the
 * interval's average and maximum latency. At the end a summary on stdout:
 * totals, msgs/s, MB/s (MB = 2^20 bytes) and latency avg, p50, p95, p99,
 * p99.9 and max in milliseconds. With --json the progress lines are JSON
 * too (stderr) and the summary is one JSON object (stdout).
 *
 * Ending: after --count messages (default 1,000,000 for produce), or when
 * --duration passes, or at Ctrl-C (the messages in flight are still
 * awaited and counted; a second Ctrl-C exits at once). Exit 1 if any
 * message failed.
 *
 * The topic is created if missing (--partitions, --replicas, else broker
 * defaults); an existing topic with a different partition count than
 * --partitions is an error rather than a silently different benchmark.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/perf.h"

perf_opts_t perf_o = {
    .count = -1, .rate = -1, .batch_messages = -1, .linger_ms = -1, .partitions = -1, .replicas = -1,
    .producers = 1,
};

void perf_meter_add(perf_meter_t *m, uint64_t bytes, int64_t lat_us, int64_t now)
{
    atomic_fetch_add_explicit(&m->n, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->bytes, bytes, memory_order_relaxed);
    if (lat_us >= 0) {
        atomic_fetch_add_explicit(&m->win_n, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&m->win_sum, (uint64_t)lat_us, memory_order_relaxed);
        if ((uint64_t)lat_us > atomic_load_explicit(&m->win_max, memory_order_relaxed))
            atomic_store_explicit(&m->win_max, (uint64_t)lat_us, memory_order_relaxed);
    }
    if (!atomic_load_explicit(&m->t_first, memory_order_relaxed))
        atomic_store_explicit(&m->t_first, now, memory_order_relaxed);
    atomic_store_explicit(&m->t_last, now, memory_order_relaxed);
}

/* ---- topic -------------------------------------------------------------------------- */

int perf_prepare_topic(perf_run_t *run)
{
    int rc;
    char errstr[256];
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, run->topic, NULL);
    rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 0, rkt, &md, (int)(G.timeout_s * 1000));
    rd_kafka_topic_destroy(rkt);
    if (err) {
        rc = cli_fail(cli_err_code(err), "metadata for topic '%s': %s", run->topic, cli_err_str(err));
        goto out;
    }
    rd_kafka_resp_err_t terr = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
    int have = md->topic_cnt == 1 ? md->topics[0].partition_cnt : 0;
    rd_kafka_metadata_destroy(md);
    if (!terr) {
        if (perf_o.partitions > 0 && have != perf_o.partitions) {
            rc = cli_fail(CLI_EFAIL, "topic '%s' exists with %d partitions, not %lld (use another topic, or "
                          "'samsa topic add-partitions')", run->topic, have, (long long)perf_o.partitions);
            goto out;
        }
        run->partitions = have;
        rc = CLI_OK;
        goto out;
    }
    if (terr != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        rc = cli_fail(cli_err_code(terr), "topic '%s': %s", run->topic, cli_err_str(terr));
        goto out;
    }
    if (!strcmp(run->mode, "consume")) {
        rc = cli_fail(CLI_ENOTFOUND, "topic '%s' does not exist", run->topic);
        goto out;
    }
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(run->topic, (int)perf_o.partitions, (int)perf_o.replicas,
                                                    errstr, sizeof errstr);
    if (!nt) {
        rc = cli_usage("cannot create topic '%s': %s", run->topic, errstr);
        goto out;
    }
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_CreateTopics(c->rk, &nt, 1, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, &rc);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    if (!ev)
        goto out;
    size_t n;
    const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    err = n == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
    if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char *es = n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : NULL;
        rc = cli_fail(cli_err_code(err), "cannot create topic '%s': %s", run->topic, es && *es ? es : cli_err_str(err));
        rd_kafka_event_destroy(ev);
        goto out;
    }
    rd_kafka_event_destroy(ev);
    if (cli_wait_topic(c, run->topic, perf_o.partitions > 0 ? (int)perf_o.partitions : 1) < 0) {
        rc = cli_fail(CLI_EFAIL, "topic '%s' was created but has no leaders after %gs", run->topic, G.timeout_s);
        goto out;
    }
    if ((rc = cli_topic_metadata(c, run->topic, &md)) != CLI_OK)
        goto out;
    run->partitions = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (!G.quiet)
        fprintf(stderr, "Created topic '%s' with %d partition%s.\n", run->topic, run->partitions,
                run->partitions == 1 ? "" : "s");
    rc = CLI_OK;
out:
    cli_client_free(c);
    return rc;
}

/* ---- producers ---------------------------------------------------------------------- */

typedef struct worker {
    pthread_t th;
    int started;
    int warming;             /* delivery reports of warm-up messages are not counted */
    cli_client_t *c;
    rd_kafka_topic_t *rkt;
    uint64_t quota;
    double rate;
    const char *payload;
    size_t size;
    int e2e;
    perf_meter_t meter;
    perf_hist_t *hist;
    _Atomic int done;        /* 0 running, 2 asked to stop, 1 finished */
    _Atomic int first_err;
} worker_t;

struct perf_producers {
    int n;
    worker_t *w;
    char *payload;
};

static void perf_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    cli_client_t *c = opaque;
    worker_t *w = c->user;
    int64_t now = cli_now_us();
    if (w->warming) {
        if (m->err) {
            int zero = 0;
            atomic_compare_exchange_strong(&w->first_err, &zero, (int)m->err);
        }
        return;
    }
    if (m->err) {
        atomic_fetch_add_explicit(&w->meter.failed, 1, memory_order_relaxed);
        int zero = 0;
        atomic_compare_exchange_strong(&w->first_err, &zero, (int)m->err);
        return;
    }
    int64_t lat = now - (int64_t)(uintptr_t)m->_private;
    perf_hist_record(w->hist, lat > 0 ? (uint64_t)lat : 0);
    perf_meter_add(&w->meter, m->len, lat > 0 ? lat : 0, now);
}

static void sleep_us(int64_t us)
{
    struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

static void *producer_main(void *arg)
{
    worker_t *w = arg;
    rd_kafka_t *rk = w->c->rk;
    char *msg = w->e2e ? malloc(w->size) : NULL;   /* e2e: per-message send time, copied */
    if (msg)
        memcpy(msg, w->payload, w->size);
    int64_t t0 = cli_now_us();
    for (uint64_t i = 0; i < w->quota; i++) {
        if (atomic_load_explicit(&w->done, memory_order_relaxed) == 2)
            break;   /* stop requested (duration over, Ctrl-C) */
        if (w->rate > 0) {
            int64_t due = t0 + (int64_t)((double)i * 1e6 / w->rate);
            for (;;) {
                int64_t now = cli_now_us();
                if (now >= due || atomic_load_explicit(&w->done, memory_order_relaxed) == 2)
                    break;
                rd_kafka_poll(rk, 0);
                int64_t wait = due - now;
                sleep_us(wait > 5000 ? 5000 : wait);
            }
        }
        int64_t ts = cli_now_us();
        const char *payload = w->payload;
        int flags = 0;
        if (msg) {
            uint64_t magic = PERF_E2E_MAGIC, t = (uint64_t)ts;
            memcpy(msg, &magic, 8);
            memcpy(msg + 8, &t, 8);
            payload = msg;
            flags = RD_KAFKA_MSG_F_COPY;
        }
        for (;;) {
            if (rd_kafka_produce(w->rkt, RD_KAFKA_PARTITION_UA, flags, (void *)payload, w->size, NULL, 0,
                                 (void *)(uintptr_t)ts) == 0)
                break;
            rd_kafka_resp_err_t err = rd_kafka_last_error();
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                if (atomic_load_explicit(&w->done, memory_order_relaxed) == 2)
                    break;   /* the run ended while the queue was full: never sent, not failed */
                rd_kafka_poll(rk, 1);
                continue;
            }
            atomic_fetch_add_explicit(&w->meter.failed, 1, memory_order_relaxed);
            int zero = 0;
            atomic_compare_exchange_strong(&w->first_err, &zero, (int)err);
            break;
        }
        if ((i & 63) == 0)
            rd_kafka_poll(rk, 0);
    }
    /* Every message sent gets its delivery report (bounded by message.timeout.ms). */
    while (rd_kafka_outq_len(rk) > 0)
        rd_kafka_poll(rk, 50);
    free(msg);
    atomic_store(&w->done, 1);
    return NULL;
}

int perf_producers_start(perf_run_t *run, int e2e, perf_producers_t **out)
{
    int rc = CLI_OK;
    perf_producers_t *pp = calloc(1, sizeof *pp);
    pp->n = run->producers;
    pp->w = calloc((size_t)pp->n, sizeof *pp->w);
    pp->payload = malloc((size_t)run->size + 1);
    /* Random printable payload: compressible like text, not trivially. */
    uint64_t x = 0x9E3779B97F4A7C15ULL ^ (uint64_t)cli_now_us();
    for (int64_t k = 0; k < run->size; k++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        pp->payload[k] = (char)('A' + (x % 58));
    }
    char buf[32];
    const char *defaults[] = {"message.timeout.ms", "30000", NULL};
    for (int k = 0; k < pp->n; k++) {
        worker_t *w = &pp->w[k];
        rd_kafka_conf_t *conf = cli_conf_new(defaults);
        if (!conf) {
            rc = CLI_EUSAGE;
            goto out;
        }
        int bad = 0;
        if (perf_o.acks)
            bad |= cli_conf_set(conf, "acks", perf_o.acks);
        if (perf_o.compression)
            bad |= cli_conf_set(conf, "compression.codec", perf_o.compression);
        if (perf_o.batch_size)
            bad |= cli_conf_set(conf, "batch.size", perf_o.batch_size);
        if (perf_o.batch_messages >= 0) {
            snprintf(buf, sizeof buf, "%lld", (long long)perf_o.batch_messages);
            bad |= cli_conf_set(conf, "batch.num.messages", buf);
        }
        if (perf_o.linger_ms >= 0) {
            snprintf(buf, sizeof buf, "%lld", (long long)perf_o.linger_ms);
            bad |= cli_conf_set(conf, "linger.ms", buf);
        }
        snprintf(buf, sizeof buf, "samsa-perf-%d", k);
        bad |= cli_conf_set(conf, "client.id", buf);
        if (bad) {
            rd_kafka_conf_destroy(conf);
            rc = CLI_EUSAGE;
            goto out;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, perf_dr_cb);
        if (!(w->c = cli_client_new(RD_KAFKA_PRODUCER, conf, w))) {
            rc = CLI_EUSAGE;
            goto out;
        }
        if ((rc = cli_connect(w->c)) != CLI_OK)
            goto out;
        w->rkt = rd_kafka_topic_new(w->c->rk, run->topic, NULL);
        w->hist = malloc(sizeof *w->hist);
        perf_hist_init(w->hist);
        w->payload = pp->payload;
        w->size = (size_t)run->size;
        w->e2e = e2e;
        w->rate = run->rate > 0 ? run->rate / pp->n : 0;
        if (run->count == UINT64_MAX)
            w->quota = UINT64_MAX;
        else
            w->quota = run->count / (uint64_t)pp->n + ((uint64_t)k < run->count % (uint64_t)pp->n ? 1 : 0);
    }
    /* --warmup-records (KIP-1052's name): connections, metadata and the
     * client's first-message delays are paid before the clock starts. */
    for (int k = 0; k < pp->n && perf_o.warmup_records > 0 && !e2e; k++) {
        worker_t *w = &pp->w[k];
        uint64_t each = (uint64_t)perf_o.warmup_records / (uint64_t)pp->n + 1;
        w->warming = 1;
        for (uint64_t i = 0; i < each; i++)
            while (rd_kafka_produce(w->rkt, RD_KAFKA_PARTITION_UA, 0, pp->payload, w->size, NULL, 0,
                                    NULL) != 0 &&
                   rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                rd_kafka_poll(w->c->rk, 10);
        rd_kafka_resp_err_t ferr = rd_kafka_flush(w->c->rk, (int)(G.timeout_s * 1000));
        w->warming = 0;
        int werr = atomic_exchange(&w->first_err, 0);
        if (ferr || werr) {
            rc = cli_fail(CLI_EFAIL, "warm-up messages were not acknowledged: %s",
                          cli_err_str(ferr ? ferr : (rd_kafka_resp_err_t)werr));
            goto out;
        }
    }
    run->t0 = cli_now_us();   /* the clock starts when the first message can be sent */
    for (int k = 0; k < pp->n; k++) {
        if (pthread_create(&pp->w[k].th, NULL, producer_main, &pp->w[k]) != 0) {
            rc = cli_fail(CLI_EFAIL, "cannot start producer thread %d", k);
            perf_producers_stop(pp);
            goto out;
        }
        pp->w[k].started = 1;
    }
out:
    *out = pp;
    return rc;
}

int perf_producers_done(perf_producers_t *pp)
{
    for (int k = 0; k < pp->n; k++)
        if (pp->w[k].started && atomic_load(&pp->w[k].done) != 1)
            return 0;
    return 1;
}

void perf_producers_stop(perf_producers_t *pp)
{
    for (int k = 0; k < pp->n; k++) {
        int zero = 0;
        atomic_compare_exchange_strong(&pp->w[k].done, &zero, 2);
    }
}

void perf_producers_totals(perf_producers_t *pp, uint64_t *acked, uint64_t *bytes, uint64_t *failed,
                           uint64_t *win_n, uint64_t *win_sum, uint64_t *win_max)
{
    *acked = *bytes = *failed = *win_n = *win_sum = *win_max = 0;
    for (int k = 0; k < pp->n; k++) {
        perf_meter_t *m = &pp->w[k].meter;
        *acked += atomic_load(&m->n);
        *bytes += atomic_load(&m->bytes);
        *failed += atomic_load(&m->failed);
        *win_n += atomic_exchange(&m->win_n, 0);
        *win_sum += atomic_exchange(&m->win_sum, 0);
        uint64_t mx = atomic_exchange(&m->win_max, 0);
        if (mx > *win_max)
            *win_max = mx;
    }
}

void perf_producers_join(perf_producers_t *pp, perf_hist_t *hist, uint64_t *acked, uint64_t *failed,
                         uint64_t *bytes, int64_t *t_last, char *err, size_t errlen)
{
    *acked = *failed = *bytes = 0;
    *t_last = 0;
    if (err && errlen)
        err[0] = 0;
    for (int k = 0; k < pp->n; k++) {
        worker_t *w = &pp->w[k];
        if (w->started)
            pthread_join(w->th, NULL);
        w->started = 0;
        if (w->hist)
            perf_hist_merge(hist, w->hist);
        *acked += atomic_load(&w->meter.n);
        *failed += atomic_load(&w->meter.failed);
        *bytes += atomic_load(&w->meter.bytes);
        int64_t tl = atomic_load(&w->meter.t_last);
        if (tl > *t_last)
            *t_last = tl;
        int fe = atomic_load(&w->first_err);
        if (fe && err && !err[0])
            snprintf(err, errlen, "%s", cli_err_str((rd_kafka_resp_err_t)fe));
    }
}

void perf_producers_free(perf_producers_t *pp)
{
    if (!pp)
        return;
    perf_producers_stop(pp);
    for (int k = 0; k < pp->n; k++) {
        worker_t *w = &pp->w[k];
        if (w->started)
            pthread_join(w->th, NULL);
        if (w->rkt)
            rd_kafka_topic_destroy(w->rkt);
        cli_client_free(w->c);
        free(w->hist);
    }
    free(pp->w);
    free(pp->payload);
    free(pp);
}

/* ---- reporting ------------------------------------------------------------------------ */

void perf_print_header(const perf_run_t *run)
{
    if (G.quiet)
        return;
    char cnt[32];
    if (run->count == UINT64_MAX)
        snprintf(cnt, sizeof cnt, "%.0fs", (double)run->duration_ms / 1000.0);
    else
        cli_fmt_count(cnt, sizeof cnt, run->count);
    if (!strcmp(run->mode, "consume")) {
        fprintf(stderr, "perf consume: topic '%s' (%d partition%s), %s%s\n", run->topic, run->partitions,
                run->partitions == 1 ? "" : "s",
                run->count == UINT64_MAX && !run->duration_ms ? "until the end of every partition" : cnt,
                run->count != UINT64_MAX ? " messages" : "");
        return;
    }
    char rate[32];
    if (run->rate > 0)
        snprintf(rate, sizeof rate, "%.0f msg/s", run->rate);
    else
        snprintf(rate, sizeof rate, "unlimited");
    fprintf(stderr, "perf %s: topic '%s' (%d partition%s), %s%s x %lld B, %d producer%s, acks=%s, "
            "compression=%s, rate %s\n", run->mode, run->topic, run->partitions, run->partitions == 1 ? "" : "s", cnt,
            run->count == UINT64_MAX ? "" : " messages", (long long)run->size, run->producers,
            run->producers == 1 ? "" : "s", perf_o.acks ? perf_o.acks : "all",
            perf_o.compression ? perf_o.compression : "none", rate);
}

void perf_print_progress(const perf_run_t *run, const char *what, uint64_t total, uint64_t dmsgs,
                         uint64_t dbytes, double dt_s, uint64_t win_n, uint64_t win_sum, uint64_t win_max)
{
    if (G.quiet)
        return;
    double el = (double)(cli_now_us() - run->t0) / 1e6;
    double rate = dt_s > 0 ? (double)dmsgs / dt_s : 0, mbs = dt_s > 0 ? (double)dbytes / dt_s / 1048576.0 : 0;
    double avg = win_n ? (double)win_sum / (double)win_n / 1000.0 : 0, mx = (double)win_max / 1000.0;
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "type", "progress");
        jw_knum(&w, "elapsed_s", el);
        jw_kint(&w, what, (int64_t)total);
        jw_knum(&w, "msgs_per_sec", rate);
        jw_knum(&w, "mb_per_sec", mbs);
        jw_key(&w, "latency_avg_ms");
        win_n ? jw_num(&w, avg) : jw_null(&w);
        jw_key(&w, "latency_max_ms");
        win_n ? jw_num(&w, mx) : jw_null(&w);
        jw_obj_end(&w);
        jw_flush(&w, stderr);
        jw_free(&w);
        return;
    }
    char a[32];
    if (win_n)
        fprintf(stderr, "%7.1fs  %12s %s  %10.0f msg/s  %8.2f MB/s  latency avg %.2f ms, max %.2f ms\n", el,
                cli_fmt_count(a, sizeof a, total), what, rate, mbs, avg, mx);
    else
        fprintf(stderr, "%7.1fs  %12s %s  %10.0f msg/s  %8.2f MB/s\n", el, cli_fmt_count(a, sizeof a, total), what,
                rate, mbs);
}

void perf_write_latency(jw_t *w, const char *key, const perf_hist_t *h)
{
    jw_key(w, key);
    if (!h || h->n == 0) {
        jw_null(w);
        return;
    }
    jw_obj(w);
    jw_knum(w, "avg", perf_hist_mean(h) / 1000.0);
    jw_knum(w, "min", (double)h->min / 1000.0);
    jw_knum(w, "p50", perf_hist_pct(h, 50) / 1000.0);
    jw_knum(w, "p95", perf_hist_pct(h, 95) / 1000.0);
    jw_knum(w, "p99", perf_hist_pct(h, 99) / 1000.0);
    jw_knum(w, "p99_9", perf_hist_pct(h, 99.9) / 1000.0);
    jw_knum(w, "max", (double)h->max / 1000.0);
    jw_obj_end(w);
}

void perf_print_latency_line(const char *label, const perf_hist_t *h)
{
    if (h->n == 0) {
        printf("  %-12s -\n", label);
        return;
    }
    printf("  %-12s avg %.3f  p50 %.3f  p95 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", label,
           perf_hist_mean(h) / 1000.0, perf_hist_pct(h, 50) / 1000.0, perf_hist_pct(h, 95) / 1000.0,
           perf_hist_pct(h, 99) / 1000.0, perf_hist_pct(h, 99.9) / 1000.0, (double)h->max / 1000.0);
}

void perf_write_settings(jw_t *w, const perf_run_t *run)
{
    jw_key(w, "settings");
    jw_obj(w);
    jw_kint(w, "partitions", run->partitions);
    if (strcmp(run->mode, "consume")) {
        jw_kint(w, "size", run->size);
        jw_kint(w, "producers", run->producers);
        jw_kstr(w, "acks", perf_o.acks ? perf_o.acks : "all");
        jw_kstr(w, "compression", perf_o.compression ? perf_o.compression : "none");
        jw_key(w, "rate");
        run->rate > 0 ? jw_num(w, run->rate) : jw_null(w);
        jw_key(w, "batch_size");
        perf_o.batch_size ? jw_str(w, perf_o.batch_size) : jw_null(w);
        jw_key(w, "batch_messages");
        perf_o.batch_messages >= 0 ? jw_int(w, perf_o.batch_messages) : jw_null(w);
        jw_key(w, "linger_ms");
        perf_o.linger_ms >= 0 ? jw_int(w, perf_o.linger_ms) : jw_null(w);
    } else {
        jw_kstr(w, "group", perf_o.group);
    }
    jw_key(w, "count");
    run->count != UINT64_MAX ? jw_int(w, (int64_t)run->count) : jw_null(w);
    jw_key(w, "duration_s");
    run->duration_ms ? jw_num(w, (double)run->duration_ms / 1000.0) : jw_null(w);
    jw_key(w, "properties");
    jw_arr(w);
    for (size_t k = 0; k < G.props.n; k++)
        jw_str(w, G.props.v[k]);
    jw_arr_end(w);
    jw_obj_end(w);
}

/* ---- perf produce ----------------------------------------------------------------------- */

static int run_produce(perf_run_t *run)
{
    perf_producers_t *pp = NULL;
    perf_print_header(run);
    int rc = perf_producers_start(run, 0, &pp);
    if (rc != CLI_OK)
        goto out;
    int64_t next = run->t0 + run->interval_ms * 1000, last_t = run->t0;
    uint64_t last_n = 0, last_b = 0;
    int stopping = 0;
    while (!perf_producers_done(pp)) {
        usleep(20000);
        int64_t now = cli_now_us();
        if (!stopping && (cli_interrupted || (run->duration_ms && now - run->t0 >= run->duration_ms * 1000))) {
            perf_producers_stop(pp);
            stopping = 1;
        }
        if (now >= next) {
            uint64_t n, b, f, wn, ws, wm;
            perf_producers_totals(pp, &n, &b, &f, &wn, &ws, &wm);
            perf_print_progress(run, "acked", n, n - last_n, b - last_b, (double)(now - last_t) / 1e6, wn, ws, wm);
            last_n = n;
            last_b = b;
            last_t = now;
            next += run->interval_ms * 1000;
        }
    }
    perf_hist_t *h = malloc(sizeof *h);
    perf_hist_init(h);
    uint64_t acked, failed, bytes;
    int64_t t_last;
    char err[256];
    perf_producers_join(pp, h, &acked, &failed, &bytes, &t_last, err, sizeof err);
    double secs = (double)((t_last > run->t0 ? t_last : cli_now_us()) - run->t0) / 1e6;
    double rate = secs > 0 ? (double)acked / secs : 0, mbs = secs > 0 ? (double)bytes / secs / 1048576.0 : 0;
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "type", "summary");
        jw_kstr(&w, "mode", "produce");
        jw_kstr(&w, "topic", run->topic);
        jw_kint(&w, "messages", (int64_t)acked);
        jw_kint(&w, "failed", (int64_t)failed);
        jw_kint(&w, "bytes", (int64_t)bytes);
        jw_knum(&w, "duration_s", secs);
        jw_knum(&w, "msgs_per_sec", rate);
        jw_knum(&w, "mb_per_sec", mbs);
        perf_write_latency(&w, "latency_ms", h);
        jw_key(&w, "error");
        err[0] ? jw_str(&w, err) : jw_null(&w);
        jw_kbool(&w, "interrupted", cli_interrupted != 0);
        perf_write_settings(&w, run);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        char a[32], b[32];
        printf("Produced %s messages (%.2f MB) in %.2f s, %s failed\n", cli_fmt_count(a, sizeof a, acked),
               (double)bytes / 1048576.0, secs, cli_fmt_count(b, sizeof b, failed));
        printf("  throughput   %.0f msg/s  %.2f MB/s\n", rate, mbs);
        perf_print_latency_line("latency ms", h);
    }
    free(h);
    if (failed)
        rc = cli_fail(CLI_EFAIL, "%llu message%s failed: %s", (unsigned long long)failed, failed == 1 ? "" : "s",
                      err[0] ? err : "unknown error");
out:
    perf_producers_free(pp);
    return rc;
}

/* ---- options and the table --------------------------------------------------------------- */

#define OPT_COUNT_N(dflt) {"count", 'n', OPT_INT, "N", "number of messages (default " dflt ")", &perf_o.count}
#define OPT_DURATION {"duration", 'd', OPT_STR, "TIME", "run for TIME instead (30s, 5m); with -n, whichever ends first", &perf_o.duration}
#define OPT_INTERVAL {"interval", 0, OPT_STR, "TIME", "progress line every TIME (default 5s)", &perf_o.interval}
#define OPT_PRODUCER_SET \
    {"size", 's', OPT_STR, "BYTES", "message size (default 100; 1k = 1024)", &perf_o.size}, \
    {"rate", 0, OPT_INT, "MSGS/S", "total rate across producers (0 = unlimited; default: produce 0, e2e 1000)", &perf_o.rate}, \
    {"acks", 'a', OPT_STR, "ACKS", "0, 1 or all (default all)", &perf_o.acks}, \
    {"compression", 'z', OPT_STR, "CODEC", "none, gzip, snappy, lz4 or zstd (default none)", &perf_o.compression}, \
    {"batch-size", 0, OPT_STR, "BYTES", "producer batch.size (librdkafka default 1000000)", &perf_o.batch_size}, \
    {"batch-messages", 0, OPT_INT, "N", "producer batch.num.messages (default 10000)", &perf_o.batch_messages}, \
    {"linger-ms", 0, OPT_INT, "MS", "producer linger.ms (default 5)", &perf_o.linger_ms}, \
    {"partitions", 'P', OPT_INT, "N", "create the topic with N partitions if missing (must match if it exists)", &perf_o.partitions}, \
    {"replicas", 0, OPT_INT, "N", "replication factor when creating the topic", &perf_o.replicas}, \
    {"producers", 0, OPT_INT, "N", "number of producer instances (threads, one connection set each)", &perf_o.producers}

static const cli_opt_t produce_opts[] = {
    OPT_COUNT_N("1000000"), OPT_DURATION, OPT_PRODUCER_SET,
    {"warmup-records", 0, OPT_INT, "N", "send N messages first, not measured (default 0)", &perf_o.warmup_records},
    OPT_INTERVAL, {0}};

static const cli_opt_t consume_opts[] = {
    OPT_COUNT_N("without -d: up to the log end at start"),
    OPT_DURATION,
    {"group", 'g', OPT_STR, "GROUP", "consume as a group member (needs -n or -d)", &perf_o.group},
    {"offset", 'o', OPT_STR, "WHERE", "beginning (default) or end", &perf_o.offset},
    OPT_INTERVAL,
    {0},
};

static const cli_opt_t e2e_opts[] = {OPT_COUNT_N("10000"), OPT_DURATION, OPT_PRODUCER_SET, OPT_INTERVAL, {0}};

static int parse_run(perf_run_t *run, const char *mode, const char *topic)
{
    memset(run, 0, sizeof *run);
    run->mode = mode;
    run->topic = topic;
    int e2e = !strcmp(mode, "e2e"), consume = !strcmp(mode, "consume");
    if (perf_o.count == 0 || perf_o.count < -1)
        return cli_usage("bad --count %lld (at least 1)", (long long)perf_o.count);
    if (perf_o.duration && (cli_parse_duration_ms(perf_o.duration, &run->duration_ms) < 0 || run->duration_ms <= 0))
        return cli_usage("bad --duration '%s' (e.g. 30s, 5m)", perf_o.duration);
    if (perf_o.count > 0)
        run->count = (uint64_t)perf_o.count;
    else if (run->duration_ms || consume)
        run->count = UINT64_MAX;
    else
        run->count = e2e ? 10000 : 1000000;
    run->size = 100;
    if (perf_o.size && (cli_parse_size(perf_o.size, &run->size) < 0 || run->size < 0 || run->size > 100 << 20))
        return cli_usage("bad --size '%s' (bytes, up to 100m)", perf_o.size);
    if (e2e && run->size < PERF_E2E_HDR)
        return cli_usage("perf e2e needs --size of at least %d bytes (the send time travels in the payload)",
                         PERF_E2E_HDR);
    if (perf_o.rate < -1)
        return cli_usage("bad --rate %lld", (long long)perf_o.rate);
    run->rate = perf_o.rate >= 0 ? (double)perf_o.rate : e2e ? 1000.0 : 0.0;
    if (perf_o.producers < 1 || perf_o.producers > 256)
        return cli_usage("bad --producers %lld (1..256)", (long long)perf_o.producers);
    run->producers = (int)perf_o.producers;
    run->interval_ms = 5000;
    if (perf_o.interval && (cli_parse_duration_ms(perf_o.interval, &run->interval_ms) < 0 || run->interval_ms < 100))
        return cli_usage("bad --interval '%s' (at least 100ms)", perf_o.interval);
    if (perf_o.acks && cli_check_acks(perf_o.acks))
        return CLI_EUSAGE;
    if (perf_o.compression && cli_check_compression(perf_o.compression))
        return CLI_EUSAGE;
    int64_t bs;
    if (perf_o.batch_size && (cli_parse_size(perf_o.batch_size, &bs) < 0 || bs < 1 || bs > INT32_MAX))
        return cli_usage("bad --batch-size '%s'", perf_o.batch_size);
    if (perf_o.batch_size) {
        static char bsbuf[32];
        snprintf(bsbuf, sizeof bsbuf, "%lld", (long long)bs);
        perf_o.batch_size = bsbuf;
    }
    if (perf_o.partitions == 0 || perf_o.partitions < -1)
        return cli_usage("bad --partitions %lld", (long long)perf_o.partitions);
    if (perf_o.replicas == 0 || perf_o.replicas < -1)
        return cli_usage("bad --replicas %lld", (long long)perf_o.replicas);
    if (consume) {
        if (perf_o.offset && strcmp(perf_o.offset, "beginning") && strcmp(perf_o.offset, "end"))
            return cli_usage("bad --offset '%s' (beginning or end)", perf_o.offset);
        if (run->count == UINT64_MAX && !run->duration_ms &&
            (perf_o.group || (perf_o.offset && !strcmp(perf_o.offset, "end"))))
            return cli_usage("give -n or -d: with %s there is no end to read up to",
                             perf_o.group ? "--group" : "--offset end");
    }
    return 0;
}

static int run_mode(const char *mode, char **argv)
{
    perf_run_t run;
    int rc = parse_run(&run, mode, argv[0]);
    if (rc)
        return rc;
    if ((rc = perf_prepare_topic(&run)) != CLI_OK)
        return rc;
    cli_signals_install();
    run.t0 = cli_now_us();
    if (!strcmp(mode, "produce"))
        return run_produce(&run);
    if (!strcmp(mode, "consume"))
        return perf_run_consume(&run);
    return perf_run_e2e(&run);
}

static int run_perf_produce(int argc, char **argv) { return run_mode("produce", argv); }
static int run_perf_consume(int argc, char **argv) { return run_mode("consume", argv); }
static int run_perf_e2e(int argc, char **argv) { return run_mode("e2e", argv); }

static const cli_cmd_t perf_produce = {
    .name = "produce",
    .args = "TOPIC",
    .summary = "producer load: throughput and produce->ack latency",
    .description = "Latency is from the produce call to the delivery report (local queueing\n"
                   "included, like kafka-producer-perf-test). The topic is created if missing.\n",
    .examples = "samsa perf produce bench -n 1000000 -s 100\n"
                "samsa perf produce bench -d 60s --rate 50000 -a 1 -z lz4 --producers 4 -P 12\n"
                "samsa perf produce bench -n 5000000 --linger-ms 20 --batch-size 1m --json > result.json",
    .opts = produce_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_perf_produce,
};

static const cli_cmd_t perf_consume = {
    .name = "consume",
    .args = "TOPIC",
    .summary = "consumer load: read throughput (by default, everything up to the current end)",
    .description = "Latency here is the record age: time of consumption minus the message\n"
                   "timestamp (millisecond resolution); meaningful when reading live traffic.\n"
                   "Consumer settings pass through -X (e.g. -X fetch.max.bytes=...).\n",
    .examples = "samsa perf consume bench\n"
                "samsa perf consume bench -n 1000000 -g perf-readers\n"
                "samsa perf consume bench -d 30s -o end -X fetch.wait.max.ms=10",
    .opts = consume_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_perf_consume,
};

static const cli_cmd_t perf_e2e = {
    .name = "e2e",
    .args = "TOPIC",
    .summary = "end-to-end latency: produce and consume in one process",
    .description = "Each message carries its send time; a consumer in the same process\n"
                   "measures produce->consume latency. Default rate 1000 msg/s (--rate 0 =\n"
                   "unlimited, which measures queueing more than latency). Consumer settings\n"
                   "pass through -X, e.g. -X fetch.wait.max.ms=5 (-X applies to both sides).\n",
    .examples = "samsa perf e2e bench-e2e\n"
                "samsa perf e2e bench-e2e -d 60s --rate 5000 -a all -X fetch.wait.max.ms=5\n"
                "samsa perf e2e bench-e2e -n 100000 --rate 0 --json",
    .opts = e2e_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_perf_e2e,
};

static const cli_cmd_t *const perf_subs[] = {&perf_produce, &perf_consume, &perf_e2e, NULL};

const cli_cmd_t cli_cmd_perf = {
    .name = "perf",
    .summary = "load generator: throughput and latency (p50/p95/p99/p99.9/max)",
    .description = "Progress goes to stderr every --interval; the summary to stdout (one JSON\n"
                   "object with --json). Exit 1 if any message failed or was not consumed.\n",
    .examples = "samsa perf produce bench -n 1000000\n"
                "samsa perf consume bench\n"
                "samsa perf e2e bench-e2e -d 30s --rate 2000",
    .subs = perf_subs,
};
