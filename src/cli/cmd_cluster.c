/*
 * cmd_cluster.c - `samsa cluster info`: brokers (id, address, rack), the
 * controller, the cluster id, and counts of topics, partitions,
 * under-replicated partitions (ISR smaller than the replica set) and
 * offline partitions (no leader), from one metadata snapshot (meta.c).
 *
 * Drained brokers (maintenance mode, `samsa cluster drain`) are read with
 * one DescribeConfigs per broker (its samsa.leadership.drained; our own
 * v0 request, else - a SASL mechanism the CLI's own connections lack -
 * librdkafka's).
 *
 * JSON: {"cluster_id", "controller_id", "brokers": [{"id","host","port",
 * "rack","controller","drained"}], "topics", "partitions", "internal_topics",
 * "under_replicated_partitions", "offline_partitions", "under_replicated":
 * [{"topic","partition"}], "offline": [{"topic","partition"}]}. Internal topics
 * are those the broker flags is_internal (Metadata v7); in the librdkafka
 * fallback (meta.h), names starting with "__".
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

#define DRAINED_KEY "samsa.leadership.drained"

/* Human output names at most this many partitions per health line. */
#define NAMED_MAX 8

/* JSON: [{"topic","partition"}] of every partition for which bad() holds. */
static void json_parts(jw_t *w, const cli_meta_t *m, int (*bad)(const cli_mpart_t *))
{
    jw_arr(w);
    for (int32_t k = 0; k < m->ntopics; k++)
        for (int32_t j = 0; j < m->topics[k].nparts; j++)
            if (bad(&m->topics[k].parts[j])) {
                jw_obj(w);
                jw_kstr(w, "topic", m->topics[k].name);
                jw_kint(w, "partition", m->topics[k].parts[j].id);
                jw_obj_end(w);
            }
    jw_arr_end(w);
}

/* "  3 (orders-0, orders-1, ... and 1 more)\n", or "  0\n". */
static void print_parts(const char *label, const cli_meta_t *m, int64_t count,
                        int (*bad)(const cli_mpart_t *))
{
    int named = 0;
    printf("%-30s%lld", label, (long long)count);
    for (int32_t k = 0; k < m->ntopics && named < NAMED_MAX; k++)
        for (int32_t j = 0; j < m->topics[k].nparts && named < NAMED_MAX; j++)
            if (bad(&m->topics[k].parts[j]))
                printf("%s%s-%d", named++ ? ", " : " (", m->topics[k].name, m->topics[k].parts[j].id);
    if (count > named)
        printf(", ... and %lld more", (long long)(count - named));
    printf("%s\n", named ? ")" : "");
}

/* Plaintext: one DescribeConfigs v0 of our own per broker (a refused
 * connection fails at once; librdkafka would retry until the timeout). */
static void brokers_drained_wire(const cli_meta_t *m, int *drained)
{
    int64_t deadline = cli_now_us() + (int64_t)(G.timeout_s * 1e6);
    for (int32_t k = 0; k < m->nbrokers; k++) {
        uint8_t req[256], *resp = NULL;
        size_t len;
        char name[16], err[256], *v = NULL;
        snprintf(name, sizeof name, "%d", m->brokers[k].id);
        size_t n = cli_dc_encode_request(req, sizeof req, 1, "samsa", 4, name, DRAINED_KEY);
        drained[k] = -1;
        if (cli_wire_call(m->brokers[k].host, m->brokers[k].port, req, n, &resp, &len, deadline,
                          err, sizeof err) == 0 &&
            cli_dc_decode(resp, len, 1, DRAINED_KEY, &v, err, sizeof err) == 0)
            drained[k] = v && !strcmp(v, "true");
        free(v);
        free(resp);
    }
}

/* samsa.leadership.drained of every broker into drained[k] (1, 0, or -1
 * when unknown: its DescribeConfigs failed).  Without our own wire: one
 * librdkafka DescribeConfigs per broker (it sends a BROKER resource to that
 * broker), all in flight at once, so unreachable brokers cost one
 * --timeout in all. */
static void brokers_drained(cli_client_t *c, const cli_meta_t *m, int *drained)
{
    if (cli_own_wire(c)) {
        brokers_drained_wire(m, drained);
        return;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(c->rk);
    rd_kafka_AdminOptions_t *o = cli_admin_options(c, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    for (int32_t k = 0; k < m->nbrokers; k++) {
        char name[16];
        snprintf(name, sizeof name, "%d", m->brokers[k].id);
        rd_kafka_ConfigResource_t *res = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_BROKER, name);
        rd_kafka_DescribeConfigs(c->rk, &res, 1, o, q);
        rd_kafka_ConfigResource_destroy(res);
        drained[k] = -1;
    }
    int64_t deadline = cli_now_us() + (int64_t)(G.timeout_s * 1e6) + 2000000;
    for (int32_t got = 0; got < m->nbrokers; got++) {
        int ms = (int)((deadline - cli_now_us()) / 1000);
        rd_kafka_event_t *ev = ms > 0 ? rd_kafka_queue_poll(q, ms) : NULL;
        if (!ev)
            break;
        size_t n = 0, ne = 0;
        const rd_kafka_ConfigResource_t **rs =
            rd_kafka_event_type(ev) == RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT
                ? rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n)
                : NULL;
        for (size_t r = 0; r < n; r++) {
            if (rd_kafka_ConfigResource_error(rs[r]))
                continue;
            int64_t id;
            if (cli_parse_int(rd_kafka_ConfigResource_name(rs[r]), &id) < 0)
                continue;
            int v = 0;
            const rd_kafka_ConfigEntry_t **es = rd_kafka_ConfigResource_configs(rs[r], &ne);
            for (size_t i = 0; i < ne; i++)
                if (!strcmp(rd_kafka_ConfigEntry_name(es[i]), DRAINED_KEY))
                    v = rd_kafka_ConfigEntry_value(es[i]) &&
                        !strcmp(rd_kafka_ConfigEntry_value(es[i]), "true");
            for (int32_t k = 0; k < m->nbrokers; k++)
                if (m->brokers[k].id == id)
                    drained[k] = v;
        }
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_queue_destroy(q);
}

static void print_json(const cli_meta_t *m, const cli_meta_counts_t *n, const int *drained)
{
    jw_t w;
    jw_init(&w);
    jw_obj(&w);
    jw_kstr(&w, "cluster_id", m->cluster_id);
    jw_key(&w, "controller_id");
    m->controller_id >= 0 ? jw_int(&w, m->controller_id) : jw_null(&w);
    jw_key(&w, "brokers");
    jw_arr(&w);
    for (int32_t k = 0; k < m->nbrokers; k++) {
        const cli_mbroker_t *b = &m->brokers[k];
        jw_obj(&w);
        jw_kint(&w, "id", b->id);
        jw_kstr(&w, "host", b->host);
        jw_kint(&w, "port", b->port);
        jw_kstr(&w, "rack", b->rack);
        jw_kbool(&w, "controller", b->id == m->controller_id);
        jw_key(&w, "drained");
        drained[k] < 0 ? jw_null(&w) : jw_bool(&w, drained[k]);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_kint(&w, "topics", n->topics);
    jw_kint(&w, "partitions", n->partitions);
    jw_kint(&w, "internal_topics", n->internal_topics);
    jw_kint(&w, "under_replicated_partitions", n->under_replicated);
    jw_kint(&w, "offline_partitions", n->offline);
    jw_key(&w, "under_replicated");
    json_parts(&w, m, cli_mpart_under_replicated);
    jw_key(&w, "offline");
    json_parts(&w, m, cli_mpart_offline);
    jw_obj_end(&w);
    jw_flush(&w, stdout);
    jw_free(&w);
}

static void print_human(const cli_meta_t *m, const cli_meta_counts_t *n, const int *drained)
{
    const char *unknown = m->detailed ? "-" : "?";
    printf("Cluster id:                   %s\n", m->cluster_id ? m->cluster_id : "(unknown)");
    if (m->controller_id >= 0)
        printf("Controller:                   %d\n", m->controller_id);
    else
        printf("Controller:                   (unknown)\n");
    printf("Brokers:                      %d\n", m->nbrokers);
    printf("Topics:                       %lld (%lld internal)\n", (long long)n->topics,
           (long long)n->internal_topics);
    printf("Partitions:                   %lld\n", (long long)n->partitions);
    print_parts("Under-replicated partitions:", m, n->under_replicated, cli_mpart_under_replicated);
    print_parts("Offline partitions:", m, n->offline, cli_mpart_offline);
    int ndrained = 0;
    for (int32_t k = 0; k < m->nbrokers; k++)
        ndrained += drained[k] == 1;
    printf("Drained brokers:              %d", ndrained);
    for (int32_t k = 0, named = 0; k < m->nbrokers; k++)
        if (drained[k] == 1)
            printf("%s%d", named++ ? ", " : " (", m->brokers[k].id);
    printf("%s\n", ndrained ? ")" : "");
    printf("\n");
    cli_table_t *t = cli_table_new(6, ">ID", "HOST", ">PORT", "RACK", "CONTROLLER", "DRAINED");
    for (int32_t k = 0; k < m->nbrokers; k++) {
        const cli_mbroker_t *b = &m->brokers[k];
        cli_table_row(t);
        cli_table_cell(t, "%d", b->id);
        cli_table_cell(t, "%s", b->host);
        cli_table_cell(t, "%d", b->port);
        cli_table_cell(t, "%s", b->rack ? b->rack : unknown);
        cli_table_cell(t, "%s", b->id == m->controller_id ? "yes" : "");
        cli_table_cell(t, "%s", drained[k] == 1 ? "yes" : drained[k] < 0 ? "?" : "");
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

static int run_info(int argc, char **argv)
{
    int rc;
    cli_meta_t *m = NULL;
    cli_client_t *c = cli_admin_open(&rc);
    if (!c)
        return rc;
    if ((rc = cli_meta_get(c, NULL, &m)) == CLI_OK) {
        cli_meta_counts_t n;
        cli_meta_count(m, &n);
        int *drained = calloc((size_t)m->nbrokers + 1, sizeof *drained);
        if (drained)
            brokers_drained(c, m, drained);
        if (!drained)
            rc = cli_fail(CLI_EFAIL, "out of memory");
        else if (G.json)
            print_json(m, &n, drained);
        else
            print_human(m, &n, drained);
        free(drained);
    }
    cli_meta_free(m);
    cli_client_free(c);
    return rc;
}

static const cli_opt_t info_opts[] = {{0}};

static const cli_cmd_t cluster_info = {
    .name = "info",
    .summary = "show brokers, controller, cluster id, and under-replicated and offline partitions",
    .description = "A partition is under-replicated when its ISR is smaller than its replica set, and\n"
                   "offline when it has no leader. The first 8 of each are named (--json lists all;\n"
                   "'samsa topic describe' shows their replicas and ISR). Racks come from\n"
                   "broker.rack ('-' when unset). DRAINED: the broker is in maintenance mode\n"
                   "('samsa cluster drain'); '?' when its configs could not be read.\n",
    .examples = "samsa cluster info\n"
                "samsa cluster info --json | jq .brokers\n"
                "samsa -b kafka1:9092,kafka2:9092 cluster info",
    .opts = info_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_info,
};

static const cli_cmd_t *const cluster_subs[] = {&cluster_info, &cli_cmd_cluster_reassign,
                                                 &cli_cmd_cluster_elect, &cli_cmd_cluster_drain,
                                                 &cli_cmd_cluster_undrain, NULL};

const cli_cmd_t cli_cmd_cluster = {
    .name = "cluster",
    .summary = "inspect the cluster; move replicas, elect leaders, maintenance mode",
    .examples = "samsa cluster info\n"
                "samsa cluster reassign --brokers 0,1,2,3 --execute\n"
                "samsa cluster elect-leaders\n"
                "samsa cluster drain 2",
    .subs = cluster_subs,
};
