/*
 * cmd_topic.c - `samsa topic`: create, list, describe, delete,
 * alter-config, add-partitions.
 *
 * Requests: CreateTopics, Metadata, ListOffsets (earliest and latest via
 * rd_kafka_offsets_for_times with timestamps -2/-1, one batched request per
 * leader rather than two per partition), DescribeConfigs, DeleteTopics,
 * AlterConfigs, CreatePartitions.
 *
 * alter-config and librdkafka 2.0.2: that version has no
 * IncrementalAlterConfigs, and the classic AlterConfigs *replaces* the
 * whole set of a topic's overrides. So alter-config reads the current
 * overrides (DescribeConfigs, entries whose source is DYNAMIC_TOPIC_CONFIG),
 * applies --set/--delete to that set, and sends the full result. Two
 * concurrent alter-config runs on one topic can therefore lose one
 * another's change (last writer wins); a sensitive override (value hidden
 * by the broker) cannot be carried over, so alter-config refuses to run on
 * a topic that has one.
 *
 * After create and add-partitions the command waits (up to --timeout) until
 * metadata shows the new partitions with leaders, so that the next command
 * in a script finds them.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* ---- shared helpers -------------------------------------------------------------- */

static const char *source_label(rd_kafka_ConfigSource_t s)
{
    switch (s) {
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG: return "topic";
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_BROKER_CONFIG: return "broker (dynamic)";
    case RD_KAFKA_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER_CONFIG: return "cluster default (dynamic)";
    case RD_KAFKA_CONFIG_SOURCE_STATIC_BROKER_CONFIG: return "broker (static)";
    case RD_KAFKA_CONFIG_SOURCE_DEFAULT_CONFIG: return "default";
    default: return "unknown";
    }
}

/* DescribeConfigs of one topic. Returns the event (owner of *resp). */
static rd_kafka_event_t *describe_configs(cli_client_t *c, const char *topic,
                                          const rd_kafka_ConfigResource_t **resp, int *rc)
{
    rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_DescribeConfigs(c->rk, &res, 1, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT, rc);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_ConfigResource_destroy(res);
    if (!ev)
        return NULL;
    size_t n;
    const rd_kafka_ConfigResource_t **rs =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    if (n != 1) {
        *rc = cli_fail(CLI_EFAIL, "DescribeConfigs for topic '%s': no result", topic);
        goto bad;
    }
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(rs[0]);
    if (err) {
        const char *es = rd_kafka_ConfigResource_error_string(rs[0]);
        if (err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
            *rc = cli_fail(CLI_ENOTFOUND, "topic '%s' does not exist", topic);
        else
            *rc = cli_fail(cli_err_code(err), "DescribeConfigs for topic '%s': %s", topic,
                           es && *es ? es : cli_err_str(err));
        goto bad;
    }
    *resp = rs[0];
    return ev;
bad:
    rd_kafka_event_destroy(ev);
    return NULL;
}

/* ---- create -------------------------------------------------------------------------- */

static struct {
    int64_t partitions, replicas;
    cli_list_t configs;
    int if_not_exists, dry_run;
} co = {.partitions = -1, .replicas = -1};

static const cli_opt_t create_opts[] = {
    {"partitions", 'p', OPT_INT, "N", "number of partitions (default: the broker's num.partitions)", &co.partitions},
    {"replication-factor", 'r', OPT_INT, "N",
     "replication factor (default: the broker's default.replication.factor)", &co.replicas},
    {"replicas", 0, OPT_INT, "N", "same as --replication-factor", &co.replicas},
    {"config", 'c', OPT_LIST, "KEY=VALUE", "topic config, repeatable (e.g. -c cleanup.policy=compact)", &co.configs},
    {"if-not-exists", 0, OPT_FLAG, NULL, "succeed (exit 0) if the topic already exists", &co.if_not_exists},
    {"dry-run", 0, OPT_FLAG, NULL, "let the broker validate the request without creating the topic", &co.dry_run},
    {0},
};

static int run_create(int argc, char **argv)
{
    const char *name = argv[0];
    char errstr[512];
    int rc = CLI_OK;
    if (co.partitions == 0 || co.partitions < -1 || co.partitions > 1000000)
        return cli_usage("bad --partitions %lld (at least 1)", (long long)co.partitions);
    if (co.replicas == 0 || co.replicas < -1 || co.replicas > 32767)
        return cli_usage("bad --replication-factor %lld (at least 1)", (long long)co.replicas);
    rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(name, (int)co.partitions, (int)co.replicas, errstr,
                                                    sizeof errstr);
    if (!nt)
        return cli_usage("cannot create topic '%s': %s", name, errstr);
    for (size_t k = 0; k < co.configs.n; k++) {
        char *key;
        const char *val;
        if (cli_split_kv(co.configs.v[k], &key, &val) < 0) {
            rd_kafka_NewTopic_destroy(nt);
            return cli_usage("bad --config '%s': expected KEY=VALUE", co.configs.v[k]);
        }
        rd_kafka_NewTopic_set_config(nt, key, val);
        free(key);
    }
    cli_client_t *c = cli_admin_open(&rc);
    if (!c) {
        rd_kafka_NewTopic_destroy(nt);
        return rc;
    }
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (co.dry_run)
        rd_kafka_AdminOptions_set_validate_only(o, 1, errstr, sizeof errstr);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_CreateTopics(c->rk, &nt, 1, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_CREATETOPICS_RESULT, &rc);
    if (!ev)
        goto out;
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    rd_kafka_resp_err_t err = n == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
    const char *es = n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : NULL;
    int existed = err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
    if (err && !(existed && co.if_not_exists)) {
        if (existed)
            rc = cli_fail(CLI_EFAIL, "topic '%s' already exists", name);
        else
            rc = cli_fail(cli_err_code(err), "cannot create topic '%s': %s", name,
                          es && *es ? es : cli_err_str(err));
        goto out;
    }
    int parts = (int)co.partitions, rf = (int)co.replicas;
    if (!co.dry_run) {
        const struct rd_kafka_metadata *md = NULL;
        if (cli_wait_topic(c, name, parts > 0 ? parts : 1) < 0)
            cli_warn("topic '%s' created, but its partitions do not have leaders yet", name);
        if (cli_topic_metadata(c, name, &md) == CLI_OK) {
            parts = md->topics[0].partition_cnt;
            if (parts > 0)
                rf = md->topics[0].partitions[0].replica_cnt;
            rd_kafka_metadata_destroy(md);
        }
    }
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "topic", name);
        jw_kbool(&w, "created", !existed && !co.dry_run);
        jw_kbool(&w, "existed", existed);
        jw_kbool(&w, "dry_run", co.dry_run);
        jw_key(&w, "partitions");
        parts > 0 ? jw_int(&w, parts) : jw_null(&w);
        jw_key(&w, "replication_factor");
        rf > 0 ? jw_int(&w, rf) : jw_null(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else if (existed) {
        printf("Topic '%s' already exists.\n", name);
    } else if (co.dry_run) {
        printf("Topic '%s' can be created (dry run, nothing changed).\n", name);
    } else {
        printf("Created topic '%s' with %d partition%s, replication factor %d.\n", name, parts,
               parts == 1 ? "" : "s", rf);
    }
    rc = CLI_OK;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewTopic_destroy(nt);
    cli_client_free(c);
    return rc;
}

/* ---- list ------------------------------------------------------------------------------ */

static struct {
    int exclude_internal;
} lo;

static const cli_opt_t list_opts[] = {
    {"exclude-internal", 0, OPT_FLAG, NULL, "hide internal topics (names starting with __)", &lo.exclude_internal},
    {0},
};

static int cmp_mdtopic(const void *a, const void *b)
{
    const struct rd_kafka_metadata_topic *const *x = a, *const *y = b;
    return strcmp((*x)->topic, (*y)->topic);
}

static int run_list(int argc, char **argv)
{
    int rc;
    const struct rd_kafka_metadata *md = NULL;
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 1, NULL, &md, (int)(G.timeout_s * 1000));
    if (err) {
        rc = cli_fail(cli_err_code(err), "metadata: %s", cli_err_str(err));
        goto out;
    }
    const struct rd_kafka_metadata_topic **ts = calloc((size_t)md->topic_cnt + 1, sizeof *ts);
    size_t n = 0;
    for (int k = 0; k < md->topic_cnt; k++)
        if (!(lo.exclude_internal && !strncmp(md->topics[k].topic, "__", 2)))
            ts[n++] = &md->topics[k];
    qsort(ts, n, sizeof *ts, cmp_mdtopic);
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_arr(&w);
        for (size_t k = 0; k < n; k++) {
            jw_obj(&w);
            jw_kstr(&w, "topic", ts[k]->topic);
            jw_kint(&w, "partitions", ts[k]->partition_cnt);
            jw_kint(&w, "replication_factor", ts[k]->partition_cnt ? ts[k]->partitions[0].replica_cnt : 0);
            jw_kbool(&w, "internal", !strncmp(ts[k]->topic, "__", 2));
            jw_key(&w, "error");
            ts[k]->err ? jw_str(&w, cli_err_str(ts[k]->err)) : jw_null(&w);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else if (n == 0) {
        if (!G.quiet)
            fprintf(stderr, "No topics.\n");
    } else {
        cli_table_t *t = cli_table_new(3, "TOPIC", ">PARTITIONS", ">REPLICATION");
        for (size_t k = 0; k < n; k++) {
            cli_table_row(t);
            cli_table_cell(t, "%s", ts[k]->topic);
            cli_table_cell(t, "%d", ts[k]->partition_cnt);
            cli_table_cell(t, "%d", ts[k]->partition_cnt ? ts[k]->partitions[0].replica_cnt : 0);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    free(ts);
    rc = CLI_OK;
out:
    if (md)
        rd_kafka_metadata_destroy(md);
    cli_client_free(c);
    return rc;
}

/* ---- describe -------------------------------------------------------------------------- */

static struct {
    int all_configs;
} dso;

static const cli_opt_t describe_opts[] = {
    {"all-configs", 0, OPT_FLAG, NULL, "list every config with its source, not only the topic's overrides",
     &dso.all_configs},
    {0},
};

static int show_config(const rd_kafka_ConfigEntry_t *e)
{
    if (rd_kafka_ConfigEntry_is_synonym(e))
        return 0;
    return dso.all_configs ||
           rd_kafka_ConfigEntry_source(e) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(rd_kafka_ConfigEntry_name(*(const rd_kafka_ConfigEntry_t *const *)a),
                  rd_kafka_ConfigEntry_name(*(const rd_kafka_ConfigEntry_t *const *)b));
}

static int cmp_mpart_id(const void *key, const void *elem)
{
    int32_t id = *(const int32_t *)key, e = ((const cli_mpart_t *)elem)->id;
    return (id > e) - (id < e);
}

/* Log start and end offsets per partition (-1: unknown). Partitions without
 * a leader are not asked: librdkafka would wait for a leader until
 * --timeout, and then fail the whole request. */
static void log_offsets(cli_client_t *c, const cli_mtopic_t *t, int64_t *start, int64_t *end)
{
    static const int64_t ts[2] = {-2, -1};   /* earliest, latest */
    int64_t *dst[2] = {start, end};
    for (int32_t k = 0; k < t->nparts; k++)
        start[k] = end[k] = -1;
    for (int i = 0; i < 2; i++) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(t->nparts);
        for (int32_t k = 0; k < t->nparts; k++)
            if (t->parts[k].leader >= 0)
                rd_kafka_topic_partition_list_add(l, t->name, t->parts[k].id);
        rd_kafka_resp_err_t err = cli_list_offsets(c, l, ts[i]);
        if (err) {
            cli_warn("log %s offsets of '%s': %s", i ? "end" : "start", t->name, cli_err_str(err));
        } else {
            for (int j = 0; j < l->cnt; j++) {
                const rd_kafka_topic_partition_t *e = &l->elems[j];
                const cli_mpart_t *p = bsearch(&e->partition, t->parts, (size_t)t->nparts,
                                               sizeof *t->parts, cmp_mpart_id);
                if (p && !e->err && e->offset >= 0)
                    dst[i][p - t->parts] = e->offset;
            }
        }
        rd_kafka_topic_partition_list_destroy(l);
    }
}

static int run_describe(int argc, char **argv)
{
    const char *name = argv[0];
    int rc;
    cli_meta_t *md = NULL;
    int64_t *lso = NULL, *leo = NULL;
    rd_kafka_event_t *cev = NULL;
    const rd_kafka_ConfigEntry_t **entries = NULL;
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    if ((rc = cli_meta_get(c, name, &md)) != CLI_OK)
        goto out;
    const cli_mtopic_t *t = &md->topics[0];
    const cli_mpart_t *parts = t->parts;

    lso = calloc((size_t)t->nparts + 1, sizeof *lso);
    leo = calloc((size_t)t->nparts + 1, sizeof *leo);
    if (!lso || !leo) {
        rc = cli_fail(CLI_EFAIL, "out of memory");
        goto out;
    }
    log_offsets(c, t, lso, leo);

    const rd_kafka_ConfigResource_t *res = NULL;
    size_t nent = 0, nshow = 0;
    cev = describe_configs(c, name, &res, &rc);
    if (!cev)
        goto out;
    const rd_kafka_ConfigEntry_t **all = rd_kafka_ConfigResource_configs(res, &nent);
    entries = calloc(nent + 1, sizeof *entries);
    for (size_t k = 0; k < nent; k++)
        if (show_config(all[k]))
            entries[nshow++] = all[k];
    qsort(entries, nshow, sizeof *entries, cmp_entry);

    int64_t records = 0;
    int rf = t->nparts ? parts[0].nreplicas : 0;
    for (int k = 0; k < t->nparts; k++) {
        if (lso[k] >= 0 && leo[k] >= lso[k])
            records += leo[k] - lso[k];
    }

    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "topic", name);
        jw_kint(&w, "replication_factor", rf);
        jw_key(&w, "partitions");
        jw_arr(&w);
        for (int k = 0; k < t->nparts; k++) {
            const cli_mpart_t *p = &parts[k];
            jw_obj(&w);
            jw_kint(&w, "partition", p->id);
            jw_kint(&w, "leader", p->leader);
            jw_key(&w, "leader_epoch");
            p->leader_epoch >= 0 ? jw_int(&w, p->leader_epoch) : jw_null(&w);
            jw_key(&w, "replicas");
            jw_ids(&w, p->replicas, p->nreplicas);
            jw_key(&w, "isr");
            jw_ids(&w, p->isr, p->nisr);
            jw_key(&w, "offline_replicas");
            md->detailed ? jw_ids(&w, p->offline, p->noffline) : jw_null(&w);
            jw_key(&w, "log_start_offset");
            lso[k] >= 0 ? jw_int(&w, lso[k]) : jw_null(&w);
            jw_key(&w, "log_end_offset");
            leo[k] >= 0 ? jw_int(&w, leo[k]) : jw_null(&w);
            jw_key(&w, "error");
            p->err ? jw_str(&w, cli_err_str((rd_kafka_resp_err_t)p->err)) : jw_null(&w);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_key(&w, "configs");
        jw_arr(&w);
        for (size_t k = 0; k < nshow; k++) {
            const rd_kafka_ConfigEntry_t *e = entries[k];
            jw_obj(&w);
            jw_kstr(&w, "name", rd_kafka_ConfigEntry_name(e));
            jw_kstr(&w, "value", rd_kafka_ConfigEntry_value(e));
            jw_kstr(&w, "source", rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(e)));
            jw_kbool(&w, "read_only", rd_kafka_ConfigEntry_is_read_only(e));
            jw_kbool(&w, "sensitive", rd_kafka_ConfigEntry_is_sensitive(e));
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        printf("Topic:               %s\n", name);
        printf("Partitions:          %d\n", t->nparts);
        printf("Replication factor:  %d\n", rf);
        printf("Records:             %lld (log end - log start, summed)\n\n", (long long)records);
        cli_table_t *tb = cli_table_new(8, ">PARTITION", ">LEADER", ">EPOCH", "REPLICAS", "ISR", "OFFLINE",
                                        ">LOG-START", ">LOG-END");
        for (int k = 0; k < t->nparts; k++) {
            const cli_mpart_t *p = &parts[k];
            char rep[256], isr[256], off[256];
            cli_fmt_ids(rep, sizeof rep, p->replicas, p->nreplicas);
            cli_fmt_ids(isr, sizeof isr, p->isr, p->nisr);
            cli_fmt_ids(off, sizeof off, p->offline, p->noffline);
            cli_table_row(tb);
            cli_table_cell(tb, "%d", p->id);
            if (p->leader >= 0)
                cli_table_cell(tb, "%d", p->leader);
            else
                cli_table_cell(tb, "none");
            if (p->leader_epoch >= 0)
                cli_table_cell(tb, "%d", p->leader_epoch);
            else
                cli_table_cell(tb, "?");
            cli_table_cell(tb, "%s", rep);
            cli_table_cell(tb, "%s", isr);
            cli_table_cell(tb, "%s", *off ? off : (md->detailed ? "-" : "?"));
            if (lso[k] >= 0)
                cli_table_cell(tb, "%lld", (long long)lso[k]);
            else
                cli_table_cell(tb, "-");
            if (leo[k] >= 0)
                cli_table_cell(tb, "%lld", (long long)leo[k]);
            else
                cli_table_cell(tb, "-");
        }
        cli_table_print(tb, stdout);
        cli_table_free(tb);
        if (nshow == 0) {
            printf("\nConfigs: none set on the topic (broker defaults apply; --all-configs lists them)\n");
        } else {
            printf("\nConfigs%s:\n", dso.all_configs ? "" : " set on the topic");
            tb = cli_table_new(3, "NAME", "VALUE", "SOURCE");
            for (size_t k = 0; k < nshow; k++) {
                const rd_kafka_ConfigEntry_t *e = entries[k];
                const char *v = rd_kafka_ConfigEntry_value(e);
                cli_table_row(tb);
                cli_table_cell(tb, "%s", rd_kafka_ConfigEntry_name(e));
                cli_table_cell(tb, "%s", v ? v : (rd_kafka_ConfigEntry_is_sensitive(e) ? "(hidden)" : "(null)"));
                cli_table_cell(tb, "%s", source_label(rd_kafka_ConfigEntry_source(e)));
            }
            cli_table_print(tb, stdout);
            cli_table_free(tb);
        }
    }
    rc = CLI_OK;
out:
    free(entries);
    if (cev)
        rd_kafka_event_destroy(cev);
    free(lso);
    free(leo);
    cli_meta_free(md);
    cli_client_free(c);
    return rc;
}

/* ---- delete ------------------------------------------------------------------------------ */

static struct {
    int if_exists;
} dlo;

static const cli_opt_t delete_opts[] = {
    {"if-exists", 0, OPT_FLAG, NULL, "a topic that does not exist is not an error", &dlo.if_exists},
    {0},
};

static int run_delete(int argc, char **argv)
{
    int rc, nfail = 0, nmissing = 0;
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    rd_kafka_DeleteTopic_t **dt = calloc((size_t)argc, sizeof *dt);
    for (int k = 0; k < argc; k++)
        dt[k] = rd_kafka_DeleteTopic_new(argv[k]);
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_DELETETOPICS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_DeleteTopics(c->rk, dt, (size_t)argc, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_DELETETOPICS_RESULT, &rc);
    if (!ev)
        goto out;
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    jw_t w;
    jw_init(&w);
    jw_arr(&w);
    for (size_t k = 0; k < n; k++) {
        const char *name = rd_kafka_topic_result_name(tr[k]);
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(tr[k]);
        const char *es = rd_kafka_topic_result_error_string(tr[k]);
        int missing = err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        if (G.json) {
            jw_obj(&w);
            jw_kstr(&w, "topic", name);
            jw_kbool(&w, "deleted", !err);
            jw_key(&w, "error");
            err ? jw_str(&w, missing ? "topic does not exist" : (es && *es ? es : cli_err_str(err)))
                : jw_null(&w);
            jw_obj_end(&w);
        }
        if (!err) {
            if (!G.json)
                printf("Deleted topic '%s'.\n", name);
        } else if (missing && dlo.if_exists) {
            if (!G.json)
                printf("Topic '%s' does not exist (skipped).\n", name);
        } else {
            if (missing) {
                nmissing++;
                cli_fail(CLI_ENOTFOUND, "topic '%s' does not exist", name);
            } else {
                cli_fail(CLI_EFAIL, "cannot delete topic '%s': %s", name, es && *es ? es : cli_err_str(err));
            }
            nfail++;
        }
    }
    jw_arr_end(&w);
    if (G.json)
        jw_flush(&w, stdout);
    jw_free(&w);
    rc = nfail == 0 ? CLI_OK : nfail == nmissing ? CLI_ENOTFOUND : CLI_EFAIL;
    rd_kafka_event_destroy(ev);
out:
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_DeleteTopic_destroy_array(dt, (size_t)argc);
    free(dt);
    cli_client_free(c);
    return rc;
}

/* ---- alter-config ------------------------------------------------------------------------ */

static struct {
    cli_list_t set, del;
    int dry_run;
} ao;

static const cli_opt_t alter_opts[] = {
    {"set", 's', OPT_LIST, "KEY=VALUE", "set a topic config, repeatable", &ao.set},
    {"delete", 'd', OPT_LIST, "KEY", "remove a topic override (back to the broker default), repeatable", &ao.del},
    {"dry-run", 0, OPT_FLAG, NULL, "let the broker validate the change without applying it", &ao.dry_run},
    {0},
};

typedef struct kv {
    char *key;
    char *val;      /* NULL: deleted */
    char *old;      /* previous override, NULL if none */
} kv_t;

static kv_t *kv_find(kv_t *v, size_t n, const char *key)
{
    for (size_t k = 0; k < n; k++)
        if (!strcmp(v[k].key, key))
            return &v[k];
    return NULL;
}

static int run_alter(int argc, char **argv)
{
    const char *name = argv[0];
    int rc;
    char errstr[256];
    if (ao.set.n == 0 && ao.del.n == 0)
        return cli_usage("nothing to change: give --set KEY=VALUE and/or --delete KEY");
    size_t cap = ao.set.n + ao.del.n + 512, n = 0;
    kv_t *cfg = calloc(cap, sizeof *cfg);
    rd_kafka_event_t *dev = NULL, *aev = NULL;
    rd_kafka_ConfigResource_t *res = NULL;
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_queue_t *q = NULL;
    for (size_t k = 0; k < ao.set.n; k++) {
        char *key;
        const char *val;
        if (cli_split_kv(ao.set.v[k], &key, &val) < 0) {
            free(cfg);
            return cli_usage("bad --set '%s': expected KEY=VALUE", ao.set.v[k]);
        }
        free(key);
    }
    cli_client_t *c = cli_admin_open(&rc);
    if (!c) {
        free(cfg);
        return rc;
    }
    const struct rd_kafka_metadata *md = NULL;
    if ((rc = cli_topic_metadata(c, name, &md)) != CLI_OK)
        goto out;
    rd_kafka_metadata_destroy(md);

    /* 1. the current overrides */
    const rd_kafka_ConfigResource_t *cur = NULL;
    if (!(dev = describe_configs(c, name, &cur, &rc)))
        goto out;
    size_t nent;
    const rd_kafka_ConfigEntry_t **ents = rd_kafka_ConfigResource_configs(cur, &nent);
    for (size_t k = 0; k < nent && n < cap; k++) {
        const rd_kafka_ConfigEntry_t *e = ents[k];
        if (rd_kafka_ConfigEntry_source(e) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
            rd_kafka_ConfigEntry_is_synonym(e))
            continue;
        const char *v = rd_kafka_ConfigEntry_value(e);
        if (!v) {
            rc = cli_fail(CLI_EFAIL, "topic '%s' has a sensitive override (%s) whose value the broker "
                          "hides; alter-config would drop it", name, rd_kafka_ConfigEntry_name(e));
            goto out;
        }
        cfg[n].key = strdup(rd_kafka_ConfigEntry_name(e));
        cfg[n].val = strdup(v);
        cfg[n].old = strdup(v);
        n++;
    }

    /* 2. apply --delete, then --set */
    for (size_t k = 0; k < ao.del.n; k++) {
        kv_t *e = kv_find(cfg, n, ao.del.v[k]);
        if (!e || !e->val) {
            if (!G.quiet)
                cli_warn("'%s' is not set on topic '%s'; nothing to delete", ao.del.v[k], name);
            continue;
        }
        free(e->val);
        e->val = NULL;
    }
    for (size_t k = 0; k < ao.set.n; k++) {
        char *key;
        const char *val;
        cli_split_kv(ao.set.v[k], &key, &val);
        kv_t *e = kv_find(cfg, n, key);
        if (!e && n < cap) {
            e = &cfg[n++];
            e->key = strdup(key);
        }
        free(key);
        if (e) {
            free(e->val);
            e->val = strdup(val);
        }
    }

    /* 3. AlterConfigs with the full resulting set */
    res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name);
    for (size_t k = 0; k < n; k++)
        if (cfg[k].val)
            rd_kafka_ConfigResource_set_config(res, cfg[k].key, cfg[k].val);
    o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_ALTERCONFIGS);
    if (ao.dry_run)
        rd_kafka_AdminOptions_set_validate_only(o, 1, errstr, sizeof errstr);
    q = rd_kafka_queue_new(c->rk);
    rd_kafka_AlterConfigs(c->rk, &res, 1, o, q);
    if (!(aev = cli_admin_wait(c, q, RD_KAFKA_EVENT_ALTERCONFIGS_RESULT, &rc)))
        goto out;
    size_t nr;
    const rd_kafka_ConfigResource_t **rr =
        rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(aev), &nr);
    rd_kafka_resp_err_t err = nr == 1 ? rd_kafka_ConfigResource_error(rr[0]) : RD_KAFKA_RESP_ERR__FAIL;
    if (err) {
        const char *es = nr == 1 ? rd_kafka_ConfigResource_error_string(rr[0]) : NULL;
        rc = cli_fail(cli_err_code(err), "cannot alter configs of topic '%s': %s", name,
                      es && *es ? es : cli_err_str(err));
        goto out;
    }

    /* 4. report what changed */
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "topic", name);
        jw_kbool(&w, "dry_run", ao.dry_run);
        jw_key(&w, "changes");
        jw_arr(&w);
        for (size_t k = 0; k < n; k++) {
            if ((cfg[k].old && cfg[k].val && !strcmp(cfg[k].old, cfg[k].val)) || (!cfg[k].old && !cfg[k].val))
                continue;
            jw_obj(&w);
            jw_kstr(&w, "name", cfg[k].key);
            jw_kstr(&w, "old", cfg[k].old);
            jw_kstr(&w, "new", cfg[k].val);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_key(&w, "overrides");
        jw_obj(&w);
        for (size_t k = 0; k < n; k++)
            if (cfg[k].val)
                jw_kstr(&w, cfg[k].key, cfg[k].val);
        jw_obj_end(&w);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        cli_table_t *t = cli_table_new(3, "CONFIG", "OLD", "NEW");
        for (size_t k = 0; k < n; k++) {
            if ((cfg[k].old && cfg[k].val && !strcmp(cfg[k].old, cfg[k].val)) || (!cfg[k].old && !cfg[k].val))
                continue;
            cli_table_row(t);
            cli_table_cell(t, "%s", cfg[k].key);
            cli_table_cell(t, "%s", cfg[k].old ? cfg[k].old : "(default)");
            cli_table_cell(t, "%s", cfg[k].val ? cfg[k].val : "(default)");
        }
        if (cli_table_rows(t) == 0)
            printf("No change to the configs of topic '%s'.\n", name);
        else {
            printf("%s configs of topic '%s'%s:\n", ao.dry_run ? "Would update" : "Updated", name,
                   ao.dry_run ? " (dry run, nothing changed)" : "");
            cli_table_print(t, stdout);
        }
        cli_table_free(t);
    }
    rc = CLI_OK;
out:
    for (size_t k = 0; k < n; k++) {
        free(cfg[k].key);
        free(cfg[k].val);
        free(cfg[k].old);
    }
    free(cfg);
    if (dev)
        rd_kafka_event_destroy(dev);
    if (aev)
        rd_kafka_event_destroy(aev);
    if (res)
        rd_kafka_ConfigResource_destroy(res);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (q)
        rd_kafka_queue_destroy(q);
    cli_client_free(c);
    return rc;
}

/* ---- add-partitions ---------------------------------------------------------------------- */

static struct {
    int64_t total;
} apo = {.total = -1};

static const cli_opt_t addp_opts[] = {
    {"total", 'n', OPT_INT, "N", "the new total number of partitions (required)", &apo.total},
    {0},
};

static int run_add_partitions(int argc, char **argv)
{
    const char *name = argv[0];
    char errstr[256];
    int rc;
    if (apo.total < 0)
        return cli_usage("missing --total N (the new partition count)");
    if (apo.total < 1 || apo.total > 1000000)
        return cli_usage("bad --total %lld", (long long)apo.total);
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    const struct rd_kafka_metadata *md = NULL;
    if ((rc = cli_topic_metadata(c, name, &md)) != CLI_OK) {
        cli_client_free(c);
        return rc;
    }
    int before = md->topics[0].partition_cnt;
    rd_kafka_metadata_destroy(md);
    rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(name, (size_t)apo.total, errstr, sizeof errstr);
    if (!np) {
        cli_client_free(c);
        return cli_usage("bad --total: %s", errstr);
    }
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS);
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_CreatePartitions(c->rk, &np, 1, o, q);
    rd_kafka_event_t *ev = cli_admin_wait(c, q, RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT, &rc);
    if (!ev)
        goto out;
    size_t n;
    const rd_kafka_topic_result_t **tr =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
    rd_kafka_resp_err_t err = n == 1 ? rd_kafka_topic_result_error(tr[0]) : RD_KAFKA_RESP_ERR__FAIL;
    if (err) {
        const char *es = n == 1 ? rd_kafka_topic_result_error_string(tr[0]) : NULL;
        rc = cli_fail(cli_err_code(err), "cannot add partitions to topic '%s': %s", name,
                      es && *es ? es : cli_err_str(err));
        goto out;
    }
    if (cli_wait_topic(c, name, (int)apo.total) < 0)
        cli_warn("partitions added, but metadata does not show all %lld with leaders yet", (long long)apo.total);
    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "topic", name);
        jw_kint(&w, "partitions", apo.total);
        jw_kint(&w, "previous", before);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        printf("Topic '%s' now has %lld partitions (was %d).\n", name, (long long)apo.total, before);
    }
    rc = CLI_OK;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_NewPartitions_destroy(np);
    cli_client_free(c);
    return rc;
}

/* ---- the table --------------------------------------------------------------------------- */

static const cli_cmd_t topic_create = {
    .name = "create",
    .args = "NAME",
    .summary = "create a topic",
    .description = "The broker places the replicas (spread over brokers and racks) and refuses a\n"
                   "replication factor larger than the number of live brokers\n"
                   "(INVALID_REPLICATION_FACTOR); its message is printed as it is.\n",
    .examples = "samsa topic create orders\n"
                "samsa topic create orders -p 6 --replication-factor 3\n"
                "samsa topic create compacted -p 3 -c cleanup.policy=compact -c min.compaction.lag.ms=60000\n"
                "samsa topic create orders -p 6 --if-not-exists    # idempotent, for scripts",
    .opts = create_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_create,
};

static const cli_cmd_t topic_list = {
    .name = "list",
    .summary = "list topics with their partition counts and replication factors",
    .examples = "samsa topic list\n"
                "samsa topic list --exclude-internal --json | jq -r '.[].topic'",
    .opts = list_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_list,
};

static const cli_cmd_t topic_describe = {
    .name = "describe",
    .args = "NAME",
    .summary = "show partitions (leader, epoch, replicas, ISR, offline, log start and end) and configs",
    .description = "Per partition: leader, leader epoch, replicas, in-sync replicas (ISR) and offline\n"
                   "replicas. '?' marks what is unknown when the metadata came from librdkafka\n"
                   "(TLS/SASL connections; see docs/cli.md).\n"
                   "Configs lists the topic's own overrides; --all-configs adds the inherited values\n"
                   "with their source (default, broker (static), broker (dynamic), ...).\n",
    .examples = "samsa topic describe orders\n"
                "samsa topic describe orders --all-configs\n"
                "samsa topic describe orders --json | jq '.partitions[] | .log_end_offset'",
    .opts = describe_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_describe,
};

static const cli_cmd_t topic_delete = {
    .name = "delete",
    .args = "NAME...",
    .summary = "delete one or more topics",
    .examples = "samsa topic delete orders\n"
                "samsa topic delete tmp1 tmp2 tmp3 --if-exists",
    .opts = delete_opts,
    .min_args = 1,
    .max_args = -1,
    .run = run_delete,
};

static const cli_cmd_t topic_alter = {
    .name = "alter-config",
    .args = "NAME",
    .summary = "set or remove topic configs",
    .description = "Reads the topic's current overrides, applies --set and --delete, and sends the\n"
                   "complete set with AlterConfigs (librdkafka 2.0 has no IncrementalAlterConfigs).\n"
                   "Overrides not named on the command line are kept. Two alter-config runs on\n"
                   "the same topic at the same moment can lose one of the changes.\n",
    .examples = "samsa topic alter-config orders --set retention.ms=86400000\n"
                "samsa topic alter-config orders --set cleanup.policy=compact --delete retention.ms\n"
                "samsa topic alter-config orders --set segment.bytes=1048576 --dry-run",
    .opts = alter_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_alter,
};

static const cli_cmd_t topic_addp = {
    .name = "add-partitions",
    .args = "NAME",
    .summary = "grow a topic to a new total number of partitions",
    .description = "Partitions can only be added. Keys hash to different partitions afterwards.\n",
    .examples = "samsa topic add-partitions orders -n 12",
    .opts = addp_opts,
    .min_args = 1,
    .max_args = 1,
    .run = run_add_partitions,
};

static const cli_cmd_t *const topic_subs[] = {
    &topic_create, &topic_list, &topic_describe, &topic_delete, &topic_alter, &topic_addp, NULL,
};

const cli_cmd_t cli_cmd_topic = {
    .name = "topic",
    .summary = "create, list, describe, configure and delete topics",
    .examples = "samsa topic create orders -p 6\n"
                "samsa topic describe orders\n"
                "samsa topic alter-config orders --set retention.ms=3600000",
    .subs = topic_subs,
};
