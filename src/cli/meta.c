/*
 * meta.c - cli_meta_get: the cluster metadata snapshot behind `cluster info`
 * and `topic describe` (types and the reason for our own request in meta.h).
 *
 * Steps:
 *   1. librdkafka's Metadata (all topics, or one topic through
 *      cli_topic_metadata): reachability, "topic does not exist" (exit 4)
 *      and the broker addresses as the cluster advertises them.
 *   2. Unless -X asks for what the CLI's own connections cannot do (conn.c:
 *      a SASL mechanism other than PLAIN or SCRAM), one Metadata v7
 *      request over the CLI's own connection (TLS and SASL as configured),
 *      tried on the controller first (its view is the one the cluster acts
 *      on), then on the other brokers, each within what is left of
 *      --timeout. The first valid answer is the snapshot.
 *   3. Otherwise the snapshot is converted from step 1: leader epochs and
 *      racks unknown (-1, NULL), no offline replicas, internal = name
 *      starting with "__", controller and cluster id from librdkafka's cache.
 *      A failed request in step 2 is reported as a warning.
 *
 * Runs on the main thread.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"
#include "cli/meta.h"

/* One Metadata v7 round trip to host:port. NULL with a reason in err. */
static cli_meta_t *meta_request(const char *host, int32_t port, const char *client_id,
                                const char *topic, int64_t deadline_us, char *err, size_t errlen)
{
    uint8_t req[1024];
    uint8_t *resp = NULL;
    size_t len;
    cli_meta_t *m = NULL;
    const int32_t corr = 1;
    size_t n = cli_meta_encode_request(req, sizeof req, corr, client_id, topic);
    if (n == 0) {
        snprintf(err, errlen, "Metadata request for '%s' too large", topic ? topic : "");
        return NULL;
    }
    if (cli_wire_call(host, port, req, n, &resp, &len, deadline_us, err, errlen) < 0)
        return NULL;
    char why[160];
    if (!(m = cli_meta_decode(resp, len, corr, why, sizeof why)))
        snprintf(err, errlen, "%s:%d: %s", host, (int)port, why);
    free(resp);
    return m;
}

/* ---- librdkafka fallback ---------------------------------------------------------------- */

static int32_t *copy_ids(const int32_t *src, int n)
{
    int32_t *v = n > 0 ? malloc((size_t)n * sizeof *v) : NULL;
    if (v)
        memcpy(v, src, (size_t)n * sizeof *v);
    return v;
}

static cli_meta_t *from_rdkafka(cli_client_t *c, const struct rd_kafka_metadata *md)
{
    cli_meta_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->brokers = calloc((size_t)md->broker_cnt + 1, sizeof *m->brokers);
    m->topics = calloc((size_t)md->topic_cnt + 1, sizeof *m->topics);
    if (!m->brokers || !m->topics)
        goto oom;
    /* Each count is raised before its element is filled, so cli_meta_free
     * releases a partly converted one. */
    for (int k = 0; k < md->broker_cnt; k++) {
        m->nbrokers = k + 1;
        m->brokers[k].id = md->brokers[k].id;
        m->brokers[k].port = md->brokers[k].port;
        if (!(m->brokers[k].host = strdup(md->brokers[k].host)))
            goto oom;
    }
    for (int k = 0; k < md->topic_cnt; k++) {
        const struct rd_kafka_metadata_topic *st = &md->topics[k];
        cli_mtopic_t *t = &m->topics[k];
        m->ntopics = k + 1;
        t->err = (int16_t)st->err;
        t->internal = !strncmp(st->topic, "__", 2);
        if (!(t->name = strdup(st->topic)) ||
            !(t->parts = calloc((size_t)st->partition_cnt + 1, sizeof *t->parts)))
            goto oom;
        for (int j = 0; j < st->partition_cnt; j++) {
            const rd_kafka_metadata_partition_t *sp = &st->partitions[j];
            cli_mpart_t *p = &t->parts[j];
            t->nparts = j + 1;
            p->id = sp->id;
            p->err = (int16_t)sp->err;
            p->leader = sp->leader;
            p->leader_epoch = -1;
            p->nreplicas = sp->replica_cnt;
            p->nisr = sp->isr_cnt;
            p->replicas = copy_ids(sp->replicas, sp->replica_cnt);
            p->isr = copy_ids(sp->isrs, sp->isr_cnt);
            if ((sp->replica_cnt && !p->replicas) || (sp->isr_cnt && !p->isr))
                goto oom;
        }
    }
    int ms = (int)(G.timeout_s * 1000);
    char *cid = rd_kafka_clusterid(c->rk, ms);
    if (cid) {
        m->cluster_id = strdup(cid);
        rd_kafka_mem_free(c->rk, cid);
        if (!m->cluster_id)
            goto oom;
    }
    m->controller_id = rd_kafka_controllerid(c->rk, ms);
    cli_meta_sort(m);
    return m;
oom:
    cli_meta_free(m);
    return NULL;
}

/* ---- the snapshot ------------------------------------------------------------------------ */

int cli_meta_get(cli_client_t *c, const char *topic, cli_meta_t **out)
{
    const struct rd_kafka_metadata *md = NULL;
    int rc = CLI_OK;
    *out = NULL;
    if (topic) {
        if ((rc = cli_topic_metadata(c, topic, &md)) != CLI_OK)
            return rc;
    } else {
        rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 1, NULL, &md, (int)(G.timeout_s * 1000));
        if (err)
            return cli_fail(cli_err_code(err), "metadata: %s", cli_err_str(err));
    }

    cli_meta_t *m = NULL;
    char err[256] = "";
    if (cli_own_wire(c)) {
        char client_id[128];
        size_t n = sizeof client_id;
        if (rd_kafka_conf_get(rd_kafka_conf(c->rk), "client.id", client_id, &n) != RD_KAFKA_CONF_OK)
            snprintf(client_id, sizeof client_id, "samsa");
        int32_t controller = rd_kafka_controllerid(c->rk, 0);
        int64_t deadline = cli_now_us() + (int64_t)(G.timeout_s * 1e6);
        /* Controller first, then the others in librdkafka's order. */
        for (int pass = 0; pass < 2 && !m; pass++)
            for (int k = 0; k < md->broker_cnt && !m && !cli_interrupted; k++) {
                const struct rd_kafka_metadata_broker *b = &md->brokers[k];
                if ((b->id == controller) != (pass == 0))
                    continue;
                m = meta_request(b->host, b->port, client_id, topic, deadline, err, sizeof err);
                if (m && topic && (m->ntopics != 1 || m->topics[0].err)) {
                    snprintf(err, sizeof err, "broker %d has no metadata for topic '%s' yet", b->id, topic);
                    cli_meta_free(m);
                    m = NULL;
                }
            }
        if (!m)
            cli_warn("leader epochs, racks and offline replicas unknown: %s",
                     *err ? err : "no broker to ask");
    }
    if (!m && !(m = from_rdkafka(c, md)))
        rc = cli_fail(CLI_EFAIL, "out of memory");
    rd_kafka_metadata_destroy(md);
    *out = m;
    return rc;
}
