/*
 * client.c - librdkafka handles for the `samsa` CLI.
 *
 * Configuration layers, lowest first: our defaults (bootstrap servers from
 * -b, client.id, no topic auto-creation by metadata lookups), the command's
 * defaults, then every -X KEY=VALUE, then flags the user gave explicitly
 * (the command sets those after cli_conf_new). So -X beats our defaults
 * and an explicit flag beats -X.
 *
 * Logging: librdkafka's log lines go to cli_log_cb, which drops them
 * unless -v. Errors librdkafka reports asynchronously (error_cb, served by
 * rd_kafka_poll on the thread that owns the handle) are remembered in the
 * cli_client_t so that "cannot reach the cluster" can say why (connection
 * refused, name not resolved, ...).
 *
 * Reachability: cli_connect() sends Metadata requests in 500 ms slices until
 * one succeeds or --timeout passes. Once librdkafka has reported that all
 * brokers are down (every bootstrap address refused or did not resolve) it
 * gives up after about 2 s instead of waiting for the full timeout: a
 * broker that is down is an error within seconds, not a hang.
 *
 * Ownership: cli_client_new takes the conf; cli_client_free destroys the
 * handle (and waits for librdkafka's threads).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

volatile int cli_interrupted;

int64_t cli_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t cli_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_signal(int sig)
{
    if (cli_interrupted) {
        static const char msg[] = "\nsamsa: interrupted\n";
        ssize_t r = write(2, msg, sizeof msg - 1);
        (void)r;
        _exit(CLI_EINTR);
    }
    cli_interrupted = sig;
}

void cli_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;   /* no SA_RESTART: a blocked read of stdin returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- errors ------------------------------------------------------------------ */

int cli_err_code(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
        return CLI_OK;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__RESOLVE:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
    case RD_KAFKA_RESP_ERR__SSL:
        return CLI_EUNREACH;
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
        return CLI_ENOTFOUND;
    default:
        return CLI_EFAIL;
    }
}

const char *cli_kerr_name(int16_t e)
{
    return e ? rd_kafka_err2name((rd_kafka_resp_err_t)e) : "NONE";
}

const char *cli_err_str(rd_kafka_resp_err_t err)
{
    const char *s = rd_kafka_err2str(err);
    if (!strncmp(s, "Broker: ", 8))
        s += 8;
    else if (!strncmp(s, "Local: ", 7))
        s += 7;
    return s;
}

/* "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection
 * refused (after 0ms in state CONNECT)" -> "Connect to ipv4#127.0.0.1:1
 * failed: Connection refused". */
static void clean_reason(char *s)
{
    char *p = strstr(s, ": ");
    if (p && memchr(s, '/', (size_t)(p - s)) && !memchr(s, ' ', (size_t)(p - s)))
        memmove(s, p + 2, strlen(p + 2) + 1);
    char *after = strstr(s, " (after ");
    if (after)
        *after = 0;
    /* ", 1 identical error(s) suppressed" */
    char *sup = strstr(s, " identical error(s) suppressed");
    if (sup) {
        char *comma = strrchr(s, ',');
        if (comma && comma < sup)
            *comma = 0;
    }
}

/* ---- callbacks --------------------------------------------------------------- */

static void cli_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (!G.verbose)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    fprintf(stderr, "%%%d|%ld.%03ld|%s|%s| %s\n", level, (long)ts.tv_sec,
            ts.tv_nsec / 1000000, fac, rk ? rd_kafka_name(rk) : "-", buf);
}

static void cli_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    cli_client_t *c = opaque;
    if (G.verbose)
        fprintf(stderr, "samsa: librdkafka error: %s: %s\n", rd_kafka_err2name(err), reason);
    if (!c)
        return;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
        c->all_down = 1;
        if (c->last_errstr[0])
            return;   /* keep the more specific reason (connection refused) */
    }
    c->last_err = err;
    snprintf(c->last_errstr, sizeof c->last_errstr, "%s", reason);
    clean_reason(c->last_errstr);
}

/* ---- configuration and handles ---------------------------------------------- */

int cli_conf_set(rd_kafka_conf_t *conf, const char *key, const char *val)
{
    char errstr[256];
    if (rd_kafka_conf_set(conf, key, val, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        cli_usage("bad setting %s=%s: %s", key, val, errstr);
        return -1;
    }
    return 0;
}

rd_kafka_conf_t *cli_conf_new(const char *const *cmd_defaults)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    const char *base[] = {
        "bootstrap.servers", G.brokers,
        "client.id", "samsa",
        /* Metadata lookups must not create topics (samsa topic describe typo). */
        "allow.auto.create.topics", "false",
        "log.connection.close", "false",
        NULL,
    };
    for (size_t k = 0; base[k]; k += 2)
        if (cli_conf_set(conf, base[k], base[k + 1]) < 0)
            goto bad;
    for (size_t k = 0; cmd_defaults && cmd_defaults[k]; k += 2)
        if (cli_conf_set(conf, cmd_defaults[k], cmd_defaults[k + 1]) < 0)
            goto bad;
    for (size_t k = 0; k < G.props.n; k++) {
        char *key;
        const char *val;
        if (cli_split_kv(G.props.v[k], &key, &val) < 0) {
            cli_usage("bad -X '%s': expected KEY=VALUE", G.props.v[k]);
            goto bad;
        }
        int r = cli_conf_set(conf, key, val);
        free(key);
        if (r < 0)
            goto bad;
    }
    rd_kafka_conf_set_log_cb(conf, cli_log_cb);
    rd_kafka_conf_set_error_cb(conf, cli_error_cb);
    return conf;
bad:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

cli_client_t *cli_client_new(rd_kafka_type_t type, rd_kafka_conf_t *conf, void *user)
{
    char errstr[512];
    cli_client_t *c = calloc(1, sizeof *c);
    if (!c) {
        rd_kafka_conf_destroy(conf);
        cli_fail(CLI_EFAIL, "out of memory");
        return NULL;
    }
    c->user = user;
    rd_kafka_conf_set_opaque(conf, c);
    c->rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!c->rk) {
        rd_kafka_conf_destroy(conf);
        free(c);
        cli_usage("bad client configuration: %s", errstr);
        return NULL;
    }
    return c;
}

void cli_client_free(cli_client_t *c)
{
    if (!c)
        return;
    if (c->rk)
        rd_kafka_destroy(c->rk);
    free(c);
}

int cli_connect(cli_client_t *c)
{
    int64_t start = cli_now_us();
    int64_t deadline = start + (int64_t)(G.timeout_s * 1e6);
    for (;;) {
        int64_t now = cli_now_us();
        int slice = (int)((deadline - now) / 1000);
        if (slice > 500)
            slice = 500;
        if (slice < 1)
            slice = 1;
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 0, NULL, &md, slice);
        if (!err) {
            rd_kafka_metadata_destroy(md);
            return CLI_OK;
        }
        rd_kafka_poll(c->rk, 0);   /* serve error_cb: why are we not connected */
        now = cli_now_us();
        if (now >= deadline || (c->all_down && now - start >= 2000000) || cli_interrupted)
            break;
    }
    if (c->last_errstr[0])
        return cli_fail(CLI_EUNREACH, "cannot reach the cluster at %s: %s", G.brokers, c->last_errstr);
    return cli_fail(CLI_EUNREACH, "cannot reach the cluster at %s: no broker answered within %gs",
                    G.brokers, G.timeout_s);
}

cli_client_t *cli_admin_open(int *rc)
{
    rd_kafka_conf_t *conf = cli_conf_new(NULL);
    if (!conf) {
        *rc = CLI_EUSAGE;
        return NULL;
    }
    cli_client_t *c = cli_client_new(RD_KAFKA_PRODUCER, conf, NULL);
    if (!c) {
        *rc = CLI_EUSAGE;
        return NULL;
    }
    if ((*rc = cli_connect(c)) != CLI_OK) {
        cli_client_free(c);
        return NULL;
    }
    return c;
}

/* ---- admin requests ------------------------------------------------------------- */

rd_kafka_AdminOptions_t *cli_admin_options(cli_client_t *c, rd_kafka_admin_op_t op)
{
    char errstr[256];
    int ms = (int)(G.timeout_s * 1000);
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(c->rk, op);
    rd_kafka_AdminOptions_set_request_timeout(o, ms, errstr, sizeof errstr);
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS || op == RD_KAFKA_ADMIN_OP_DELETERECORDS)
        rd_kafka_AdminOptions_set_operation_timeout(o, ms, errstr, sizeof errstr);
    return o;
}

rd_kafka_event_t *cli_admin_wait(cli_client_t *c, rd_kafka_queue_t *q, int evtype, int *rc)
{
    int ms = (int)(G.timeout_s * 1000) + 2000;
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, ms);
    if (!ev) {
        *rc = cli_fail(CLI_EUNREACH, "no answer from the cluster within %gs", G.timeout_s);
        return NULL;
    }
    rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
    if (err) {
        const char *es = rd_kafka_event_error_string(ev);
        *rc = cli_fail(cli_err_code(err), "%s", es && *es ? es : cli_err_str(err));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    if (rd_kafka_event_type(ev) != evtype) {
        *rc = cli_fail(CLI_EFAIL, "unexpected result %s from librdkafka", rd_kafka_event_name(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

/* ---- metadata and offsets ----------------------------------------------------- */

int cli_topic_metadata(cli_client_t *c, const char *topic, const struct rd_kafka_metadata **mdp)
{
    int64_t deadline = cli_now_us() + (int64_t)(G.timeout_s * 1e6);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int rc = CLI_OK;
    *mdp = NULL;
    if (!rkt)
        return cli_fail(CLI_EFAIL, "topic '%s': %s", topic, cli_err_str(rd_kafka_last_error()));
    for (;;) {
        int ms = (int)((deadline - cli_now_us()) / 1000);
        rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 0, rkt, &md, ms > 1 ? ms : 1);
        if (err) {
            rc = cli_fail(cli_err_code(err), "metadata for topic '%s': %s", topic, cli_err_str(err));
            goto out;
        }
        const struct rd_kafka_metadata_topic *t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
        rd_kafka_resp_err_t terr = t ? t->err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        if (!terr) {
            *mdp = md;
            goto out;
        }
        /* Right after creation a leader may not be elected yet: retry. */
        int transient = terr == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE;
        if (!transient || cli_now_us() >= deadline) {
            if (terr == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
                rc = cli_fail(CLI_ENOTFOUND, "topic '%s' does not exist", topic);
            else
                rc = cli_fail(cli_err_code(terr), "topic '%s': %s", topic, cli_err_str(terr));
            rd_kafka_metadata_destroy(md);
            goto out;
        }
        rd_kafka_metadata_destroy(md);
        usleep(100000);
    }
out:
    rd_kafka_topic_destroy(rkt);
    return rc;
}

int cli_wait_topic(cli_client_t *c, const char *topic, int partitions)
{
    int64_t deadline = cli_now_us() + (int64_t)(G.timeout_s * 1e6);
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(c->rk, topic, NULL);
    int ready = 0;
    if (!rkt)
        return -1;
    while (!ready && !cli_interrupted) {
        const struct rd_kafka_metadata *md = NULL;
        int ms = (int)((deadline - cli_now_us()) / 1000);
        if (ms <= 0)
            break;
        if (rd_kafka_metadata(c->rk, 0, rkt, &md, ms) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const struct rd_kafka_metadata_topic *t = &md->topics[0];
            if (md->topic_cnt == 1 && !t->err && t->partition_cnt >= partitions) {
                ready = 1;
                for (int k = 0; k < t->partition_cnt; k++)
                    if (t->partitions[k].leader < 0)
                        ready = 0;
            }
            rd_kafka_metadata_destroy(md);
        }
        if (!ready)
            usleep(50000);
    }
    rd_kafka_topic_destroy(rkt);
    return ready ? 0 : -1;
}

rd_kafka_resp_err_t cli_list_offsets(cli_client_t *c, rd_kafka_topic_partition_list_t *list, int64_t ts)
{
    if (list->cnt == 0)
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int k = 0; k < list->cnt; k++) {
        list->elems[k].offset = ts;
        list->elems[k].err = 0;
    }
    return rd_kafka_offsets_for_times(c->rk, list, (int)(G.timeout_s * 1000));
}
