/*
 * cmd_produce.c - `samsa produce TOPIC`: one message per input line.
 *
 * Input: stdin or -f FILE. A line is a message; its trailing "\n" (and a
 * "\r" before it) is removed, an empty line is an empty message. With
 * -K SEP the line is split at the first SEP into key and value; a line
 * without SEP becomes a message without key. -H KEY=VALUE headers are
 * added to every message.
 *
 * Flow, all on the main thread:
 *   check the topic exists (Metadata) -> read a line -> rd_kafka_producev
 *   (on a full local queue: poll and retry) -> rd_kafka_poll(0) serves
 *   delivery reports -> ... -> EOF -> flush until every message has a
 *   delivery report (bounded by message.timeout.ms, default 30 s here).
 * Delivery reports count successes and failures per error code; the
 * summary names the error(s) and the exit code is 1 if any message failed.
 *
 * Ctrl-C stops reading, then still waits for the messages already handed
 * to librdkafka; a second Ctrl-C exits at once. Exit code 130 then.
 *
 * Progress: when stderr is a terminal (and not -q), and the input is not
 * one (someone typing), a line with counts and rates is refreshed every
 * 0.5 s.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

#define MAX_ERR_KINDS 8

typedef struct produce_stats {
    uint64_t sent, delivered, failed, bytes;
    struct {
        rd_kafka_resp_err_t err;
        uint64_t count;
    } errs[MAX_ERR_KINDS];
    int nerrs;
} produce_stats_t;

static struct {
    const char *file;
    const char *key_sep;
    cli_list_t headers;
    int64_t partition;
    const char *compression;
    const char *acks;
} po = {.partition = -1};

static const cli_opt_t produce_opts[] = {
    {"file", 'f', OPT_STR, "FILE", "read lines from FILE instead of stdin (- = stdin)", &po.file},
    {"key-separator", 'K', OPT_STR, "SEP", "split each line at the first SEP into key and value", &po.key_sep},
    {"header", 'H', OPT_LIST, "KEY=VALUE", "add a header to every message, repeatable", &po.headers},
    {"partition", 'p', OPT_INT, "N", "produce to partition N (default: the partitioner: key hash, or spread)",
     &po.partition},
    {"compression", 'z', OPT_STR, "CODEC", "none, gzip, snappy, lz4 or zstd (default none)", &po.compression},
    {"acks", 'a', OPT_STR, "ACKS", "0, 1 or all (default all)", &po.acks},
    {0},
};

static void count_err(produce_stats_t *st, rd_kafka_resp_err_t err)
{
    st->failed++;
    for (int k = 0; k < st->nerrs; k++)
        if (st->errs[k].err == err) {
            st->errs[k].count++;
            return;
        }
    if (st->nerrs < MAX_ERR_KINDS) {
        st->errs[st->nerrs].err = err;
        st->errs[st->nerrs].count = 1;
        st->nerrs++;
    }
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    cli_client_t *c = opaque;
    produce_stats_t *st = c->user;
    if (m->err) {
        count_err(st, m->err);
    } else {
        st->delivered++;
        st->bytes += m->len + m->key_len;
    }
}

/* Not while someone types the input: the line would overwrite their typing. */
static int interactive;

static void show_progress(produce_stats_t *st, int64_t t0, int64_t *last)
{
    int64_t now = cli_now_us();
    if (interactive || now - *last < 500000)
        return;
    *last = now;
    double secs = (double)(now - t0) / 1e6;
    char a[32], b[32];
    cli_progress("produced %s msgs, %s waiting for delivery  (%.0f msg/s, %.2f MB/s)",
                 cli_fmt_count(a, sizeof a, st->delivered), cli_fmt_count(b, sizeof b, st->sent - st->delivered - st->failed),
                 secs > 0 ? (double)st->delivered / secs : 0.0,
                 secs > 0 ? (double)st->bytes / secs / 1048576.0 : 0.0);
}

static int run_produce(int argc, char **argv)
{
    const char *topic = argv[0];
    produce_stats_t st;
    int rc = CLI_OK;
    char *line = NULL;
    size_t cap = 0;
    FILE *in = stdin;
    cli_client_t *c = NULL;
    rd_kafka_headers_t *hdrs = NULL;
    rd_kafka_topic_t *rkt = NULL;
    memset(&st, 0, sizeof st);

    if (po.key_sep && !*po.key_sep)
        return cli_usage("--key-separator must not be empty");
    if (po.partition < -1 || po.partition > INT32_MAX)
        return cli_usage("bad --partition %lld", (long long)po.partition);
    if (po.compression && cli_check_compression(po.compression))
        return CLI_EUSAGE;
    if (po.acks && cli_check_acks(po.acks))
        return CLI_EUSAGE;
    hdrs = rd_kafka_headers_new(po.headers.n);
    for (size_t k = 0; k < po.headers.n; k++) {
        char *key;
        const char *val;
        if (cli_split_kv(po.headers.v[k], &key, &val) < 0) {
            rd_kafka_headers_destroy(hdrs);
            return cli_usage("bad --header '%s': expected KEY=VALUE", po.headers.v[k]);
        }
        rd_kafka_header_add(hdrs, key, -1, val, -1);
        free(key);
    }
    if (po.file && strcmp(po.file, "-")) {
        in = fopen(po.file, "r");
        if (!in) {
            rc = cli_fail(CLI_EFAIL, "cannot open %s: %s", po.file, strerror(errno));
            in = NULL;
            goto out;
        }
    }

    static const char *const defaults[] = {
        "message.timeout.ms", "30000",
        "acks", "all",
        NULL,
    };
    rd_kafka_conf_t *conf = cli_conf_new(defaults);
    if (!conf) {
        rc = CLI_EUSAGE;
        goto out;
    }
    if ((po.compression && cli_conf_set(conf, "compression.codec", po.compression) < 0) ||
        (po.acks && cli_conf_set(conf, "acks", po.acks) < 0)) {
        rd_kafka_conf_destroy(conf);
        rc = CLI_EUSAGE;
        goto out;
    }
    rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
    if (!(c = cli_client_new(RD_KAFKA_PRODUCER, conf, &st))) {
        rc = CLI_EUSAGE;
        goto out;
    }
    if ((rc = cli_connect(c)) != CLI_OK)
        goto out;
    const struct rd_kafka_metadata *md;
    if ((rc = cli_topic_metadata(c, topic, &md)) != CLI_OK)
        goto out;
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    if (po.partition >= nparts) {
        rc = cli_fail(CLI_EUSAGE, "topic '%s' has %d partition%s; there is no partition %lld", topic, nparts,
                      nparts == 1 ? "" : "s", (long long)po.partition);
        goto out;
    }
    rkt = rd_kafka_topic_new(c->rk, topic, NULL);
    interactive = isatty(fileno(in));
    cli_signals_install();

    int64_t t0 = cli_now_us(), last = t0;
    size_t seplen = po.key_sep ? strlen(po.key_sep) : 0;
    for (;;) {
        if (cli_interrupted)
            break;
        errno = 0;
        ssize_t n = getline(&line, &cap, in);
        if (n < 0) {
            if (errno == EINTR && !cli_interrupted)
                continue;
            if (ferror(in) && errno != EINTR) {
                rc = cli_fail(CLI_EFAIL, "reading %s: %s", po.file ? po.file : "stdin", strerror(errno));
                break;
            }
            break;
        }
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = 0;
        if (n > 0 && line[n - 1] == '\r')
            line[--n] = 0;
        const char *key = NULL, *val = line;
        size_t klen = 0, vlen = (size_t)n;
        if (po.key_sep) {
            char *s = memmem(line, (size_t)n, po.key_sep, seplen);
            if (s) {
                key = line;
                klen = (size_t)(s - line);
                val = s + seplen;
                vlen = (size_t)n - klen - seplen;
            }
        }
        for (;;) {
            rd_kafka_headers_t *h = po.headers.n ? rd_kafka_headers_copy(hdrs) : NULL;
            rd_kafka_resp_err_t err = rd_kafka_producev(
                c->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION((int32_t)po.partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, klen),
                RD_KAFKA_V_VALUE((void *)val, vlen), RD_KAFKA_V_HEADERS(h), RD_KAFKA_V_END);
            if (!err) {
                st.sent++;
                break;
            }
            if (h)
                rd_kafka_headers_destroy(h);
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !cli_interrupted) {
                rd_kafka_poll(c->rk, 50);
                show_progress(&st, t0, &last);
                continue;
            }
            st.sent++;
            count_err(&st, err);   /* e.g. message larger than message.max.bytes */
            break;
        }
        rd_kafka_poll(c->rk, 0);
        show_progress(&st, t0, &last);
    }

    /* Wait for every delivery report. */
    while (rd_kafka_outq_len(c->rk) > 0 && st.delivered + st.failed < st.sent) {
        rd_kafka_poll(c->rk, 100);
        show_progress(&st, t0, &last);
    }
    rd_kafka_flush(c->rk, 1000);
    cli_progress_end();

    double secs = (double)(cli_now_us() - t0) / 1e6;
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "topic", topic);
        jw_kint(&w, "produced", (int64_t)st.delivered);
        jw_kint(&w, "failed", (int64_t)st.failed);
        jw_kint(&w, "bytes", (int64_t)st.bytes);
        jw_knum(&w, "duration_s", secs);
        jw_kbool(&w, "interrupted", cli_interrupted != 0);
        jw_key(&w, "errors");
        jw_arr(&w);
        for (int k = 0; k < st.nerrs; k++) {
            jw_obj(&w);
            jw_kstr(&w, "error", cli_err_str(st.errs[k].err));
            jw_kstr(&w, "code", rd_kafka_err2name(st.errs[k].err));
            jw_kint(&w, "count", (int64_t)st.errs[k].count);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    }
    if (st.failed) {
        char what[512];
        size_t o = 0;
        what[0] = 0;
        for (int k = 0; k < st.nerrs && o < sizeof what; k++)
            o += (size_t)snprintf(what + o, sizeof what - o, "%s%s (%llu)", k ? "; " : "",
                                  cli_err_str(st.errs[k].err), (unsigned long long)st.errs[k].count);
        rc = cli_fail(CLI_EFAIL, "%llu of %llu message%s to '%s' failed: %s", (unsigned long long)st.failed,
                      (unsigned long long)st.sent, st.sent == 1 ? "" : "s", topic, what);
    } else if (!G.quiet && !G.json && rc == CLI_OK) {
        char a[32];
        fprintf(stderr, "Produced %s message%s to '%s' in %.2fs.\n", cli_fmt_count(a, sizeof a, st.delivered),
                st.delivered == 1 ? "" : "s", topic, secs);
    }
    if (cli_interrupted && rc == CLI_OK)
        rc = CLI_EINTR;
out:
    free(line);
    if (in && in != stdin)
        fclose(in);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (hdrs)
        rd_kafka_headers_destroy(hdrs);
    cli_client_free(c);
    return rc;
}

const cli_cmd_t cli_cmd_produce = {
    .name = "produce",
    .args = "TOPIC",
    .summary = "produce one message per line of stdin or a file",
    .description = "Each line is a message (without its newline). Waits until every message is\n"
                   "delivered; if any fails, the errors are summarised and the exit code is 1.\n"
                   "With -K, a line without the separator is sent without a key. A progress line\n"
                   "is shown while stderr is a terminal. The topic must exist.\n",
    .examples = "echo hello | samsa produce orders\n"
                "samsa produce orders -f orders.txt -K : -z zstd        # lines like 'order-17:{\"qty\": 2}'\n"
                "seq 100000 | samsa produce orders -p 0 -a 1 -H source=seq\n"
                "samsa produce orders -X linger.ms=50 -X batch.size=1000000 < big.txt",
    .opts = produce_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_produce,
};
