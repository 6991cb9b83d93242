/*
 * cmd_cluster.c - `samsa cluster info`: brokers, controller, cluster id and
 * topic/partition counts, from one Metadata request (all topics) plus
 * librdkafka's cached cluster and controller ids.
 *
 * JSON: {"cluster_id", "controller_id", "brokers": [{"id","host","port",
 * "controller"}], "topics", "partitions", "internal_topics"}. A topic is
 * counted as internal when its name starts with "__" (__consumer_offsets,
 * __transaction_state); Metadata v0 as exposed by librdkafka 2.0 does not
 * carry the is_internal flag.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int cmp_broker(const void *a, const void *b)
{
    const struct rd_kafka_metadata_broker *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

static int run_info(int argc, char **argv)
{
    int rc;
    cli_client_t *c = cli_admin_open(&rc);
    const struct rd_kafka_metadata *md = NULL;
    char *cluster_id = NULL;
    if (!c)
        return rc;
    int ms = (int)(G.timeout_s * 1000);
    rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 1, NULL, &md, ms);
    if (err) {
        rc = cli_fail(cli_err_code(err), "metadata: %s", cli_err_str(err));
        goto out;
    }
    cluster_id = rd_kafka_clusterid(c->rk, ms);
    int32_t controller = rd_kafka_controllerid(c->rk, ms);

    size_t partitions = 0, internal = 0;
    for (int k = 0; k < md->topic_cnt; k++) {
        partitions += (size_t)md->topics[k].partition_cnt;
        if (!strncmp(md->topics[k].topic, "__", 2))
            internal++;
    }
    struct rd_kafka_metadata_broker *brokers = calloc((size_t)md->broker_cnt + 1, sizeof *brokers);
    if (!brokers) {
        rc = cli_fail(CLI_EFAIL, "out of memory");
        goto out;
    }
    memcpy(brokers, md->brokers, (size_t)md->broker_cnt * sizeof *brokers);
    qsort(brokers, (size_t)md->broker_cnt, sizeof *brokers, cmp_broker);

    if (G.json) {
        jw_t w;
        jw_init(&w);
        jw_obj(&w);
        jw_kstr(&w, "cluster_id", cluster_id);
        jw_key(&w, "controller_id");
        if (controller >= 0)
            jw_int(&w, controller);
        else
            jw_null(&w);
        jw_key(&w, "brokers");
        jw_arr(&w);
        for (int k = 0; k < md->broker_cnt; k++) {
            jw_obj(&w);
            jw_kint(&w, "id", brokers[k].id);
            jw_kstr(&w, "host", brokers[k].host);
            jw_kint(&w, "port", brokers[k].port);
            jw_kbool(&w, "controller", brokers[k].id == controller);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_kint(&w, "topics", md->topic_cnt);
        jw_kint(&w, "partitions", (int64_t)partitions);
        jw_kint(&w, "internal_topics", (int64_t)internal);
        jw_obj_end(&w);
        jw_flush(&w, stdout);
        jw_free(&w);
    } else {
        printf("Cluster id:  %s\n", cluster_id ? cluster_id : "(unknown)");
        if (controller >= 0)
            printf("Controller:  %d\n", controller);
        else
            printf("Controller:  (unknown)\n");
        printf("Brokers:     %d\n", md->broker_cnt);
        printf("Topics:      %d (%zu internal)\n", md->topic_cnt, internal);
        printf("Partitions:  %zu\n\n", partitions);
        cli_table_t *t = cli_table_new(4, ">ID", "HOST", ">PORT", "CONTROLLER");
        for (int k = 0; k < md->broker_cnt; k++) {
            cli_table_row(t);
            cli_table_cell(t, "%d", brokers[k].id);
            cli_table_cell(t, "%s", brokers[k].host);
            cli_table_cell(t, "%d", brokers[k].port);
            cli_table_cell(t, "%s", brokers[k].id == controller ? "yes" : "");
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    free(brokers);
    rc = CLI_OK;
out:
    if (cluster_id)
        rd_kafka_mem_free(c->rk, cluster_id);
    if (md)
        rd_kafka_metadata_destroy(md);
    cli_client_free(c);
    return rc;
}

static const cli_opt_t info_opts[] = {{0}};

static const cli_cmd_t cluster_info = {
    .name = "info",
    .summary = "show brokers, controller, cluster id, and topic and partition counts",
    .examples = "samsa cluster info\n"
                "samsa cluster info --json | jq .brokers\n"
                "samsa -b kafka1:9092,kafka2:9092 cluster info",
    .opts = info_opts,
    .min_args = 0,
    .max_args = 0,
    .run = run_info,
};

static const cli_cmd_t *const cluster_subs[] = {&cluster_info, NULL};

const cli_cmd_t cli_cmd_cluster = {
    .name = "cluster",
    .summary = "inspect the cluster",
    .examples = "samsa cluster info",
    .subs = cluster_subs,
};
