/*
 * perf_consume.c - `samsa perf consume` and `samsa perf e2e`.
 *
 * perf consume (main thread): without -g the partitions are assigned at
 * explicit offsets (log start, or log end with -o end) and, unless -n or
 * -d is given, reading stops when every partition reaches the log end
 * offset it had at the start. With -g it joins the group (subscribe) and
 * needs -n or -d. Throughput is measured from the first to the last
 * message received, so connection and group join time are not counted.
 * "Latency" is the record age: now - message timestamp (ms resolution).
 *
 * perf e2e: one consumer thread, assigned to every partition at its
 * current log end (explicit offsets, so nothing older is read and nothing
 * new is missed), then the producers of perf.c send messages whose first
 * 16 bytes are a magic number and the send time (CLOCK_MONOTONIC, us). The
 * consumer records now - send time: produce->consume latency within one
 * process, so both clocks are the same clock. When the producers are done
 * the consumer gets up to max(10 s, --timeout) to receive every
 * acknowledged message; missing messages make the exit code 1.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/perf.h"

#define PERF_BATCH 1024

static int consumer_open(perf_run_t *run, const char *group, int commit, cli_client_t **out)
{
    char gid[64];
    if (!group) {
        snprintf(gid, sizeof gid, "samsa-perf-%d", (int)getpid());
        group = gid;
    }
    const char *defaults[] = {
        "group.id", group,
        "enable.auto.commit", commit ? "true" : "false",
        "auto.offset.reset", perf_o.offset && !strcmp(perf_o.offset, "end") ? "latest" : "earliest",
        "client.id", "samsa-perf-consumer",
        NULL,
    };
    rd_kafka_conf_t *conf = cli_conf_new(defaults);
    if (!conf)
        return CLI_EUSAGE;
    cli_client_t *c = cli_client_new(RD_KAFKA_CONSUMER, conf, NULL);
    if (!c)
        return CLI_EUSAGE;
    int rc = cli_connect(c);
    if (rc != CLI_OK) {
        cli_client_free(c);
        return rc;
    }
    rd_kafka_poll_set_consumer(c->rk);
    *out = c;
    return CLI_OK;
}

/* Assign every partition; start at log start (or end); targets = log end. */
static int assign_all(cli_client_t *c, perf_run_t *run, int at_end, int64_t **targets, int *remaining)
{
    rd_kafka_topic_partition_list_t *lo = rd_kafka_topic_partition_list_new(run->partitions);
    for (int p = 0; p < run->partitions; p++)
        rd_kafka_topic_partition_list_add(lo, run->topic, p);
    rd_kafka_topic_partition_list_t *hi = rd_kafka_topic_partition_list_copy(lo);
    int rc = CLI_OK;
    rd_kafka_resp_err_t err = at_end ? 0 : cli_list_offsets(c, lo, -2);
    if (!err)
        err = cli_list_offsets(c, hi, -1);
    if (err) {
        rc = cli_fail(cli_err_code(err), "log offsets of '%s': %s", run->topic, cli_err_str(err));
        goto out;
    }
    if (targets)
        *targets = calloc((size_t)run->partitions + 1, sizeof **targets);
    if (remaining)
        *remaining = 0;
    for (int p = 0; p < run->partitions; p++) {
        if (lo->elems[p].err || hi->elems[p].err) {
            rc = cli_fail(CLI_EFAIL, "log offsets of %s[%d]: %s", run->topic, p,
                          cli_err_str(lo->elems[p].err ? lo->elems[p].err : hi->elems[p].err));
            goto out;
        }
        int64_t start = at_end ? hi->elems[p].offset : lo->elems[p].offset;
        lo->elems[p].offset = start;
        if (targets)
            (*targets)[p] = hi->elems[p].offset;
        if (remaining && start < hi->elems[p].offset)
            (*remaining)++;
    }
    err = rd_kafka_assign(c->rk, lo);
    if (err)
        rc = cli_fail(cli_err_code(err), "assign '%s': %s", run->topic, cli_err_str(err));
out:
    rd_kafka_topic_partition_list_destroy(lo);
    rd_kafka_topic_partition_list_destroy(hi);
    return rc;
}

/* ---- perf consume ------------------------------------------------------------------------- */

int perf_run_consume(perf_run_t *run)
{
    cli_client_t *c = NULL;
    int64_t *targets = NULL;
    char *done = NULL;
    int remaining = 0, rc;
    perf_hist_t *h = malloc(sizeof *h);
    perf_meter_t m;
    memset(&m, 0, sizeof m);
    perf_hist_init(h);
    int until_end = run->count == UINT64_MAX && !run->duration_ms;

    if ((rc = consumer_open(run, perf_o.group, perf_o.group != NULL, &c)) != CLI_OK)
        goto out;
    if (perf_o.group) {
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, run->topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        if (err) {
            rc = cli_fail(cli_err_code(err), "subscribe to '%s': %s", run->topic, cli_err_str(err));
            goto out;
        }
    } else {
        int at_end = perf_o.offset && !strcmp(perf_o.offset, "end");
        if ((rc = assign_all(c, run, at_end, &targets, &remaining)) != CLI_OK)
            goto out;
        done = calloc((size_t)run->partitions + 1, 1);
    }
    perf_print_header(run);
    rd_kafka_queue_t *cq = rd_kafka_queue_get_consumer(c->rk);
    int64_t next = cli_now_us() + run->interval_ms * 1000, last_t = cli_now_us();
    uint64_t last_n = 0, last_b = 0;
    int warned = 0;
    run->t0 = cli_now_us();
    while (!cli_interrupted && !(until_end && remaining == 0)) {
        int64_t now = cli_now_us();
        if (run->duration_ms && now - run->t0 >= run->duration_ms * 1000)
            break;
        if (now >= next) {
            uint64_t n = atomic_load(&m.n), b = atomic_load(&m.bytes);
            uint64_t wn = atomic_exchange(&m.win_n, 0), ws = atomic_exchange(&m.win_sum, 0),
                     wm = atomic_exchange(&m.win_max, 0);
            perf_print_progress(run, "received", n, n - last_n, b - last_b, (double)(now - last_t) / 1e6, wn, ws, wm);
            last_n = n;
            last_b = b;
            last_t = now;
            next += run->interval_ms * 1000;
        }
        rd_kafka_message_t *batch[PERF_BATCH];
        ssize_t got = rd_kafka_consume_batch_queue(cq, 100, batch, PERF_BATCH);
        if (got <= 0)
            continue;
        now = cli_now_us();
        int64_t wall = cli_wall_ms();
        int stop = 0;
        for (ssize_t k = 0; k < got; k++) {
            rd_kafka_message_t *msg = batch[k];
            if (stop || msg->err) {
                if (!stop && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !warned && !G.quiet) {
                    cli_warn("%s", rd_kafka_message_errstr(msg));
                    warned = 1;
                }
                rd_kafka_message_destroy(msg);
                continue;
            }
            rd_kafka_timestamp_type_t tt;
            int64_t ts = rd_kafka_message_timestamp(msg, &tt), age = -1;
            if (tt != RD_KAFKA_TIMESTAMP_NOT_AVAILABLE && ts > 0) {
                age = (wall - ts) * 1000;
                if (age < 0)
                    age = 0;
                perf_hist_record(h, (uint64_t)age);
            }
            perf_meter_add(&m, msg->len + msg->key_len, age, now);
            int32_t p = msg->partition;
            if (done && p >= 0 && p < run->partitions && !done[p] && msg->offset + 1 >= targets[p]) {
                done[p] = 1;
                remaining--;
            }
            rd_kafka_message_destroy(msg);
            if (atomic_load(&m.n) >= run->count)
                stop = 1;
        }
        if (stop)
            break;
    }
    uint64_t n = atomic_load(&m.n), bytes = atomic_load(&m.bytes);
    int64_t t1 = atomic_load(&m.t_first), t2 = atomic_load(&m.t_last);
    double secs = n > 1 && t2 > t1 ? (double)(t2 - t1) / 1e6 : 0;
    double rate = secs > 0 ? (double)n / secs : 0, mbs = secs > 0 ? (double)bytes / secs / 1048576.0 : 0;
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "type", "summary");
        jw_kstr(&w, "mode", "consume");
        jw_kstr(&w, "topic", run->topic);
        jw_kint(&w, "messages", (int64_t)n);
        jw_kint(&w, "bytes", (int64_t)bytes);
        jw_knum(&w, "duration_s", secs);
        jw_knum(&w, "msgs_per_sec", rate);
        jw_knum(&w, "mb_per_sec", mbs);
        perf_write_latency(&w, "latency_ms", h);
        jw_kbool(&w, "interrupted", cli_interrupted != 0);
        perf_write_settings(&w, run);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        char a[32];
        printf("Consumed %s messages (%.2f MB) in %.2f s\n", cli_fmt_count(a, sizeof a, n), (double)bytes / 1048576.0,
               secs);
        printf("  throughput   %.0f msg/s  %.2f MB/s\n", rate, mbs);
        perf_print_latency_line("age ms", h);
    }
    rd_kafka_queue_destroy(cq);
    if (perf_o.group) {
        rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, 0);
        (void)err;   /* __NO_OFFSET when nothing was read: fine */
    }
    rd_kafka_consumer_close(c->rk);
    rc = CLI_OK;
out:
    cli_client_free(c);
    free(targets);
    free(done);
    free(h);
    return rc;
}

/* ---- perf e2e ------------------------------------------------------------------------------ */

typedef struct e2e_consumer {
    cli_client_t *c;
    perf_hist_t *hist;
    perf_meter_t meter;
    _Atomic int stop;
    _Atomic int polls;
    char err[256];
} e2e_consumer_t;

static void *e2e_consumer_main(void *arg)
{
    e2e_consumer_t *ec = arg;
    while (!atomic_load(&ec->stop)) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(ec->c->rk, 50);
        atomic_fetch_add(&ec->polls, 1);
        if (!m)
            continue;
        int64_t now = cli_now_us();
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && !ec->err[0])
                snprintf(ec->err, sizeof ec->err, "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        uint64_t magic, sent;
        if (m->len >= PERF_E2E_HDR) {
            memcpy(&magic, m->payload, 8);
            memcpy(&sent, (const char *)m->payload + 8, 8);
            if (magic == PERF_E2E_MAGIC) {
                int64_t lat = now - (int64_t)sent;
                if (lat < 0)
                    lat = 0;
                perf_hist_record(ec->hist, (uint64_t)lat);
                perf_meter_add(&ec->meter, m->len, lat, now);
            }
        }
        rd_kafka_message_destroy(m);
    }
    return NULL;
}

int perf_run_e2e(perf_run_t *run)
{
    e2e_consumer_t ec;
    perf_producers_t *pp = NULL;
    pthread_t th;
    int th_started = 0, rc;
    memset(&ec, 0, sizeof ec);
    ec.hist = malloc(sizeof *ec.hist);
    perf_hist_init(ec.hist);
    perf_hist_t *ph = malloc(sizeof *ph);
    perf_hist_init(ph);

    if ((rc = consumer_open(run, NULL, 0, &ec.c)) != CLI_OK)
        goto out;
    if ((rc = assign_all(ec.c, run, 1, NULL, NULL)) != CLI_OK)
        goto out;
    if (pthread_create(&th, NULL, e2e_consumer_main, &ec) != 0) {
        rc = cli_fail(CLI_EFAIL, "cannot start the consumer thread");
        goto out;
    }
    th_started = 1;
    /* Let the consumer start fetching before the first message is sent. */
    for (int k = 0; k < 40 && atomic_load(&ec.polls) < 4; k++)
        usleep(25000);
    usleep(100000);

    perf_print_header(run);
    if ((rc = perf_producers_start(run, 1, &pp)) != CLI_OK)
        goto out;
    int64_t next = run->t0 + run->interval_ms * 1000, last_t = run->t0;
    uint64_t last_n = 0, last_b = 0;
    int stopping = 0;
    int64_t wait_until = 0;
    for (;;) {
        usleep(20000);
        int64_t now = cli_now_us();
        if (!stopping && (cli_interrupted || (run->duration_ms && now - run->t0 >= run->duration_ms * 1000))) {
            perf_producers_stop(pp);
            stopping = 1;
        }
        if (now >= next) {
            uint64_t n = atomic_load(&ec.meter.n), b = atomic_load(&ec.meter.bytes);
            uint64_t wn = atomic_exchange(&ec.meter.win_n, 0), ws = atomic_exchange(&ec.meter.win_sum, 0),
                     wm = atomic_exchange(&ec.meter.win_max, 0);
            perf_print_progress(run, "received", n, n - last_n, b - last_b, (double)(now - last_t) / 1e6, wn, ws, wm);
            last_n = n;
            last_b = b;
            last_t = now;
            next += run->interval_ms * 1000;
        }
        if (!perf_producers_done(pp))
            continue;
        uint64_t acked, bytes, failed, wn, ws, wm;
        perf_producers_totals(pp, &acked, &bytes, &failed, &wn, &ws, &wm);
        if (atomic_load(&ec.meter.n) >= acked)
            break;
        if (!wait_until)   /* after Ctrl-C give the stragglers 2 s, else max(10 s, --timeout) */
            wait_until = now + (cli_interrupted ? 2000000 : (int64_t)((G.timeout_s > 10 ? G.timeout_s : 10) * 1e6));
        if (now >= wait_until)
            break;
    }
    atomic_store(&ec.stop, 1);
    pthread_join(th, NULL);
    th_started = 0;

    uint64_t acked, failed, pbytes;
    int64_t p_last;
    char perr[256];
    perf_producers_join(pp, ph, &acked, &failed, &pbytes, &p_last, perr, sizeof perr);
    uint64_t recv = atomic_load(&ec.meter.n), rbytes = atomic_load(&ec.meter.bytes);
    int64_t r_last = atomic_load(&ec.meter.t_last);
    double secs = (double)((r_last > run->t0 ? r_last : cli_now_us()) - run->t0) / 1e6;
    double rate = secs > 0 ? (double)recv / secs : 0, mbs = secs > 0 ? (double)rbytes / secs / 1048576.0 : 0;
    uint64_t missing = acked > recv ? acked - recv : 0;
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "type", "summary");
        jw_kstr(&w, "mode", "e2e");
        jw_kstr(&w, "topic", run->topic);
        jw_kint(&w, "messages", (int64_t)recv);
        jw_kint(&w, "produced", (int64_t)acked);
        jw_kint(&w, "failed", (int64_t)failed);
        jw_kint(&w, "missing", (int64_t)missing);
        jw_kint(&w, "bytes", (int64_t)rbytes);
        jw_knum(&w, "duration_s", secs);
        jw_knum(&w, "msgs_per_sec", rate);
        jw_knum(&w, "mb_per_sec", mbs);
        perf_write_latency(&w, "latency_ms", ec.hist);
        perf_write_latency(&w, "produce_latency_ms", ph);
        jw_key(&w, "error");
        perr[0] ? jw_str(&w, perr) : ec.err[0] ? jw_str(&w, ec.err) : jw_null(&w);
        jw_kbool(&w, "interrupted", cli_interrupted != 0);
        perf_write_settings(&w, run);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        char a[32], b[32], d[32], e[32];
        printf("Produced %s, received %s messages in %.2f s (%s failed, %s missing)\n",
               cli_fmt_count(a, sizeof a, acked), cli_fmt_count(b, sizeof b, recv), secs,
               cli_fmt_count(d, sizeof d, failed), cli_fmt_count(e, sizeof e, missing));
        printf("  throughput   %.0f msg/s  %.2f MB/s\n", rate, mbs);
        perf_print_latency_line("e2e ms", ec.hist);
        perf_print_latency_line("produce ms", ph);
    }
    rc = CLI_OK;
    if (failed)
        rc = cli_fail(CLI_EFAIL, "%llu message%s failed: %s", (unsigned long long)failed, failed == 1 ? "" : "s",
                      perr[0] ? perr : "unknown error");
    else if (missing && !cli_interrupted)
        rc = cli_fail(CLI_EFAIL, "%llu acknowledged message%s not consumed%s%s", (unsigned long long)missing,
                      missing == 1 ? " was" : "s were", ec.err[0] ? ": " : "", ec.err);
out:
    if (th_started) {
        atomic_store(&ec.stop, 1);
        pthread_join(th, NULL);
    }
    perf_producers_free(pp);
    if (ec.c) {
        rd_kafka_consumer_close(ec.c->rk);
        cli_client_free(ec.c);
    }
    free(ec.hist);
    free(ph);
    return rc;
}
