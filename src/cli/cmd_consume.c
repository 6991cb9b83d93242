/*
 * cmd_consume.c - `samsa consume TOPIC`: print messages as values, key and
 * value, or JSON lines.
 *
 * Two modes:
 *   - no -g: the partitions (all, or -p) are assigned directly; nothing is
 *     committed and no group is joined.
 *   - -g GROUP: subscribe and join the group; the group's committed offsets
 *     decide where each partition starts. -o beginning|end only sets
 *     auto.offset.reset (where to start when nothing is committed); an
 *     explicit -o N, -o -N or -T TIME moves every partition the first time
 *     it is assigned to us. Offsets are stored after a message is written
 *     to stdout, auto-committed every 5 s, and committed synchronously on
 *     exit (-n reached, -e, Ctrl-C, closed pipe), then the group is left.
 *
 * Start positions: beginning (default), end, N (absolute offset), -N (N
 * before the end of each partition), or -T TIME (first message with a
 * timestamp >= TIME; ListOffsets by timestamp; past the last message means
 * the end).
 *
 * Isolation (--isolation, librdkafka's isolation.level): read_committed by
 * default, as librdkafka (and as this command always did): transactional
 * messages appear once committed, aborted ones never, and the end of a
 * partition is its last stable offset; read_uncommitted shows everything
 * up to the high watermark (Kafka's console consumer default).
 *
 * End of partitions: with -e, librdkafka's PARTITION_EOF events mark each
 * assigned partition; when all are at their end we stop. A partition that
 * receives a message is no longer at its end.
 *
 * JSON lines: {"topic","partition","offset","timestamp","timestamp_type",
 * "key","value","headers":[{"key","value"}]}; bytes that are not UTF-8 are
 * base64 with "<field>_encoding":"base64" (see out.c).
 *
 * Threads: main only. The rebalance callback runs inside consumer_poll.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

enum fmt { FMT_VALUE, FMT_KV, FMT_JSON };
enum start { START_BEGINNING, START_END, START_OFFSET, START_TAIL, START_TIME };

static struct {
    const char *offset;
    const char *timestamp;
    int64_t count;
    const char *group;
    cli_list_t partitions;
    const char *format;
    const char *key_sep;
    int exit_at_end;
    const char *isolation;
} co = {.count = -1};

static const cli_opt_t consume_opts[] = {
    {"offset", 'o', OPT_STR, "WHERE", "start at: beginning (default), end, N (offset), -N (N before the end)",
     &co.offset},
    {"timestamp", 'T', OPT_STR, "TIME",
     "start at the first message at or after TIME (ISO-8601, epoch ms, -15m)", &co.timestamp},
    {"count", 'n', OPT_INT, "N", "exit after N messages", &co.count},
    {"group", 'g', OPT_STR, "GROUP", "consume as a member of GROUP and commit offsets", &co.group},
    {"partition", 'p', OPT_LIST, "N[,N...]", "only these partitions (not with -g), repeatable", &co.partitions},
    {"format", 'F', OPT_STR, "FMT", "value (default), kv (key SEP value) or json (also: --json)", &co.format},
    {"key-separator", 'K', OPT_STR, "SEP", "separator for -F kv (default: tab); implies -F kv", &co.key_sep},
    {"exit-at-end", 'e', OPT_FLAG, NULL, "exit when every partition's end is reached", &co.exit_at_end},
    {"isolation", 0, OPT_STR, "LEVEL",
     "read_committed (default: no aborted or open transactions' messages, up to the last stable "
     "offset) or read_uncommitted (everything, up to the high watermark)", &co.isolation},
    {0},
};

typedef struct pstate {
    int assigned;
    int eof;
    int seen;   /* group mode: explicit start already applied */
} pstate_t;

typedef struct consume {
    const char *topic;
    enum fmt fmt;
    enum start start;
    int64_t start_val;
    pstate_t *ps;
    int nps;
    int fatal;
    uint64_t count;
    jw_t w;
} consume_t;

static consume_t S;

static pstate_t *pstate(int32_t p)
{
    if (p < 0)
        return NULL;
    if (p >= S.nps) {
        int n = p + 16;
        pstate_t *ps = realloc(S.ps, (size_t)n * sizeof *ps);
        if (!ps)
            return NULL;
        memset(ps + S.nps, 0, (size_t)(n - S.nps) * sizeof *ps);
        S.ps = ps;
        S.nps = n;
    }
    return &S.ps[p];
}

static int all_at_end(void)
{
    int any = 0;
    for (int k = 0; k < S.nps; k++) {
        if (!S.ps[k].assigned)
            continue;
        any = 1;
        if (!S.ps[k].eof)
            return 0;
    }
    return any;
}

/* Set the explicit start offsets (offset, tail, time) into list. */
static int apply_start(cli_client_t *c, rd_kafka_topic_partition_list_t *list)
{
    if (S.start == START_TIME) {
        rd_kafka_topic_partition_list_t *q = rd_kafka_topic_partition_list_copy(list);
        rd_kafka_resp_err_t err = cli_list_offsets(c, q, S.start_val);
        if (err) {
            rd_kafka_topic_partition_list_destroy(q);
            return cli_fail(cli_err_code(err), "looking up offsets by timestamp: %s", cli_err_str(err));
        }
        for (int k = 0; k < list->cnt; k++) {
            int64_t off = q->elems[k].err ? RD_KAFKA_OFFSET_END : q->elems[k].offset;
            list->elems[k].offset = off < 0 ? RD_KAFKA_OFFSET_END : off;
        }
        rd_kafka_topic_partition_list_destroy(q);
        return 0;
    }
    for (int k = 0; k < list->cnt; k++) {
        switch (S.start) {
        case START_BEGINNING: list->elems[k].offset = RD_KAFKA_OFFSET_BEGINNING; break;
        case START_END: list->elems[k].offset = RD_KAFKA_OFFSET_END; break;
        case START_OFFSET: list->elems[k].offset = S.start_val; break;
        case START_TAIL: list->elems[k].offset = RD_KAFKA_OFFSET_TAIL(S.start_val); break;
        default: break;
        }
    }
    return 0;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts,
                         void *opaque)
{
    cli_client_t *c = opaque;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        int explicit_start = S.start == START_OFFSET || S.start == START_TAIL || S.start == START_TIME;
        rd_kafka_topic_partition_list_t *fresh = rd_kafka_topic_partition_list_new(parts->cnt);
        for (int k = 0; k < parts->cnt; k++) {
            pstate_t *p = pstate(parts->elems[k].partition);
            if (!p)
                continue;
            p->assigned = 1;
            p->eof = 0;
            if (explicit_start && !p->seen)
                rd_kafka_topic_partition_list_add(fresh, parts->elems[k].topic, parts->elems[k].partition);
            p->seen = 1;
        }
        if (fresh->cnt > 0 && apply_start(c, fresh) == 0)
            for (int k = 0; k < fresh->cnt; k++) {
                rd_kafka_topic_partition_t *t =
                    rd_kafka_topic_partition_list_find(parts, fresh->elems[k].topic, fresh->elems[k].partition);
                if (t)
                    t->offset = fresh->elems[k].offset;
            }
        rd_kafka_topic_partition_list_destroy(fresh);
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_assign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, parts);
        }
    } else {
        for (int k = 0; k < parts->cnt; k++) {
            pstate_t *p = pstate(parts->elems[k].partition);
            if (p)
                p->assigned = p->eof = 0;
        }
        if (cooperative) {
            rd_kafka_error_t *e = rd_kafka_incremental_unassign(rk, parts);
            if (e)
                rd_kafka_error_destroy(e);
        } else {
            rd_kafka_assign(rk, NULL);
        }
    }
}

/* Write one message; -1 when stdout is gone (closed pipe). */
static int emit(const rd_kafka_message_t *m)
{
    FILE *f = stdout;
    if (S.fmt == FMT_VALUE) {
        if (m->len)
            fwrite(m->payload, 1, m->len, f);
        fputc('\n', f);
    } else if (S.fmt == FMT_KV) {
        if (m->key_len)
            fwrite(m->key, 1, m->key_len, f);
        fputs(co.key_sep ? co.key_sep : "\t", f);
        if (m->len)
            fwrite(m->payload, 1, m->len, f);
        fputc('\n', f);
    } else {
        jw_t *w = &S.w;
        rd_kafka_timestamp_type_t tstype;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        jw_obj(w);
        jw_kstr(w, "topic", rd_kafka_topic_name(m->rkt));
        jw_kint(w, "partition", m->partition);
        jw_kint(w, "offset", m->offset);
        jw_key(w, "timestamp");
        tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? jw_null(w) : jw_int(w, ts);
        jw_key(w, "timestamp_type");
        jw_str(w, tstype == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? "create"
                  : tstype == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? "log_append"
                                                                 : NULL);
        jw_kbytes(w, "key", m->key, m->key_len);
        jw_kbytes(w, "value", m->payload, m->len);
        jw_key(w, "headers");
        jw_arr(w);
        rd_kafka_headers_t *hdrs = NULL;
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR) {
            const char *name;
            const void *val;
            size_t size;
            for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &size) == 0; i++) {
                jw_obj(w);
                jw_kstr(w, "key", name);
                jw_kbytes(w, "value", val, size);
                jw_obj_end(w);
            }
        }
        jw_arr_end(w);
        jw_obj_end(w);
        jw_flush(w, f);
    }
    if (isatty(1))
        fflush(f);
    return ferror(f) ? -1 : 0;
}

static int parse_start(void)
{
    if (co.offset && co.timestamp)
        return cli_usage("give either --offset or --timestamp, not both");
    S.start = START_BEGINNING;
    if (co.timestamp) {
        char err[256];
        if (cli_parse_time_ms(co.timestamp, &S.start_val, err, sizeof err) < 0)
            return cli_usage("bad --timestamp: %s", err);
        S.start = START_TIME;
        return 0;
    }
    if (!co.offset || !strcmp(co.offset, "beginning") || !strcmp(co.offset, "earliest"))
        return 0;
    if (!strcmp(co.offset, "end") || !strcmp(co.offset, "latest")) {
        S.start = START_END;
        return 0;
    }
    int64_t v;
    if (cli_parse_int(co.offset, &v) < 0)
        return cli_usage("bad --offset '%s' (use beginning, end, N or -N)", co.offset);
    S.start = v < 0 ? START_TAIL : START_OFFSET;
    S.start_val = v < 0 ? -v : v;
    return 0;
}

static int run_consume(int argc, char **argv)
{
    int rc = CLI_OK;
    cli_client_t *c = NULL;
    rd_kafka_topic_partition_list_t *list = NULL;
    int64_t *only = NULL;
    size_t nonly = 0;
    memset(&S, 0, sizeof S);
    S.topic = argv[0];
    jw_init(&S.w);

    if ((rc = parse_start()))
        goto out;
    S.fmt = co.key_sep ? FMT_KV : FMT_VALUE;
    if (G.json)
        S.fmt = FMT_JSON;
    if (co.format) {
        if (!strcmp(co.format, "value"))
            S.fmt = FMT_VALUE;
        else if (!strcmp(co.format, "kv"))
            S.fmt = FMT_KV;
        else if (!strcmp(co.format, "json"))
            S.fmt = FMT_JSON;
        else {
            rc = cli_usage("bad --format '%s' (use value, kv or json)", co.format);
            goto out;
        }
    }
    if (co.count == 0 || co.count < -1) {
        rc = cli_usage("bad --count %lld (at least 1)", (long long)co.count);
        goto out;
    }
    if (co.group && co.partitions.n) {
        rc = cli_usage("--partition cannot be used with --group (the group assigns partitions)");
        goto out;
    }
    only = calloc(co.partitions.n * 64 + 1, sizeof *only);
    for (size_t k = 0; k < co.partitions.n; k++) {
        char *dup = strdup(co.partitions.v[k]), *save = NULL;
        for (char *tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            int64_t p;
            if (cli_parse_int(tok, &p) < 0 || p < 0 || p > INT32_MAX || nonly >= co.partitions.n * 64) {
                free(dup);
                rc = cli_usage("bad --partition '%s'", co.partitions.v[k]);
                goto out;
            }
            only[nonly++] = p;
        }
        free(dup);
    }

    const char *iso = co.isolation ? co.isolation : "read_committed";
    if (strcmp(iso, "read_committed") && strcmp(iso, "read_uncommitted")) {
        rc = cli_usage("bad --isolation '%s' (read_committed or read_uncommitted)", iso);
        goto out;
    }
    const char *reset = S.start == START_END ? "latest" : "earliest";
    const char *defaults_group[] = {
        "group.id", co.group,
        "enable.auto.commit", "true",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", reset,
        "enable.partition.eof", co.exit_at_end ? "true" : "false",
        "isolation.level", iso,
        NULL,
    };
    const char *defaults_plain[] = {
        /* librdkafka's assign() needs a group.id; it is never joined or committed to. */
        "group.id", "samsa-cli-no-group",
        "enable.auto.commit", "false",
        "enable.auto.offset.store", "false",
        "auto.offset.reset", reset,
        "enable.partition.eof", co.exit_at_end ? "true" : "false",
        "isolation.level", iso,
        NULL,
    };
    rd_kafka_conf_t *conf = cli_conf_new(co.group ? defaults_group : defaults_plain);
    if (!conf) {
        rc = CLI_EUSAGE;
        goto out;
    }
    if (co.group)
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    if (!(c = cli_client_new(RD_KAFKA_CONSUMER, conf, &S))) {
        rc = CLI_EUSAGE;
        goto out;
    }
    if ((rc = cli_connect(c)) != CLI_OK)
        goto out;
    const struct rd_kafka_metadata *md;
    if ((rc = cli_topic_metadata(c, S.topic, &md)) != CLI_OK)
        goto out;
    int nparts = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    for (size_t k = 0; k < nonly; k++)
        if (only[k] >= nparts) {
            rc = cli_fail(CLI_EUSAGE, "topic '%s' has %d partition%s; there is no partition %lld", S.topic, nparts,
                          nparts == 1 ? "" : "s", (long long)only[k]);
            goto out;
        }
    rd_kafka_poll_set_consumer(c->rk);
    cli_signals_install();

    if (co.group) {
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, S.topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, list);
        if (err) {
            rc = cli_fail(cli_err_code(err), "subscribe to '%s': %s", S.topic, cli_err_str(err));
            goto out;
        }
    } else {
        list = rd_kafka_topic_partition_list_new(nparts);
        for (int p = 0; p < nparts; p++) {
            int want = nonly == 0;
            for (size_t k = 0; k < nonly; k++)
                want |= only[k] == p;
            if (want) {
                rd_kafka_topic_partition_list_add(list, S.topic, p);
                pstate_t *ps = pstate(p);
                if (ps)
                    ps->assigned = 1;
            }
        }
        if ((rc = apply_start(c, list)))
            goto out;
        rd_kafka_resp_err_t err = rd_kafka_assign(c->rk, list);
        if (err) {
            rc = cli_fail(cli_err_code(err), "assign partitions of '%s': %s", S.topic, cli_err_str(err));
            goto out;
        }
    }

    int warned = 0;
    while (!cli_interrupted) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(c->rk, 200);
        if (!m) {
            fflush(stdout);
            if (ferror(stdout))
                break;   /* closed pipe (samsa consume t | head) */
            continue;
        }
        if (m->err) {
            rd_kafka_resp_err_t err = m->err;
            if (err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                pstate_t *p = pstate(m->partition);
                if (p)
                    p->eof = 1;
                rd_kafka_message_destroy(m);
                if (co.exit_at_end && all_at_end())
                    break;
                continue;
            }
            char es[512];
            snprintf(es, sizeof es, "%s", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            if (err == RD_KAFKA_RESP_ERR__FATAL || err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
                err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
                rc = cli_fail(cli_err_code(err) == CLI_ENOTFOUND ? CLI_EFAIL : cli_err_code(err),
                              "consuming '%s': %s", S.topic, es);
                break;
            }
            if (!warned && !G.quiet)
                cli_warn("%s (still trying)", es);
            warned = 1;
            continue;
        }
        warned = 0;
        pstate_t *p = pstate(m->partition);
        if (p)
            p->eof = 0;
        if (emit(m) < 0) {
            rd_kafka_message_destroy(m);
            break;
        }
        if (co.group)
            rd_kafka_offset_store(m->rkt, m->partition, m->offset);
        rd_kafka_message_destroy(m);
        S.count++;
        if (co.count > 0 && S.count >= (uint64_t)co.count)
            break;
    }
    fflush(stdout);

    if (co.group) {
        rd_kafka_resp_err_t err = rd_kafka_commit(c->rk, NULL, 0);
        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET && rc == CLI_OK)
            rc = cli_fail(CLI_EFAIL, "committing offsets of group '%s': %s", co.group, cli_err_str(err));
    }
    rd_kafka_consumer_close(c->rk);
    if (!G.quiet && rc == CLI_OK) {
        char a[32];
        fprintf(stderr, "Consumed %s message%s from '%s'%s%s%s.\n", cli_fmt_count(a, sizeof a, S.count),
                S.count == 1 ? "" : "s", S.topic, co.group ? " (offsets committed for group '" : "",
                co.group ? co.group : "", co.group ? "')" : "");
    }
out:
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
    cli_client_free(c);
    free(only);
    free(S.ps);
    jw_free(&S.w);
    return rc;
}

const cli_cmd_t cli_cmd_consume = {
    .name = "consume",
    .args = "TOPIC",
    .summary = "print messages from a topic",
    .description =
        "Without -g the partitions are read directly and nothing is committed. With\n"
        "-g GROUP the group's committed offsets are where each partition starts\n"
        "(-o beginning|end only applies when none is committed; -o N, -o -N and -T\n"
        "move the group's position); offsets are committed as messages are printed\n"
        "and on exit. Runs until -n messages, the end with -e, or Ctrl-C.\n",
    .examples = "samsa consume orders -e                       # everything, then exit\n"
                "samsa consume orders -o end                   # only new messages\n"
                "samsa consume orders -o -10 -e                # the last 10 of each partition\n"
                "samsa consume orders -T 2024-05-01T12:00:00Z -n 100\n"
                "samsa consume orders -T -15m -F kv -K ' => '\n"
                "samsa consume orders -g billing --json | jq .value\n"
                "samsa consume orders -p 0,1 -o 42 -n 1",
    .opts = consume_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_consume,
};
