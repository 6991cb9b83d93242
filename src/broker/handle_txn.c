/*
 * handle_txn.c - the transaction APIs on the network side and the
 * transaction coordinator's wiring into the broker (txn/txn_coordinator.h).
 *
 * AddPartitionsToTxn, AddOffsetsToTxn, EndTxn, DescribeTransactions and
 * ListTransactions are handed whole to the coordinator thread.
 * InitProducerId with a transactional id first reserves a spare producer
 * id on the admin thread (the only user of the broker's allocator), then
 * goes to the coordinator, which uses it for a new transactional id or an
 * exhausted epoch.  FindCoordinator for transactions (handle_groups.c)
 * creates __transaction_state through topic_admin_ensure_txn_topic.
 *
 * The context gives the coordinator what it may not include: the
 * configuration, the C13 lease, where each broker takes inter-broker
 * requests (the marker sender's WriteTxnMarkers go to this broker's own
 * listener too) and the size of __consumer_offsets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "cluster/metadata.h"
#include "config/config.h"
#include "core/errors.h"
#include "group/coordinator.h"
#include "proto/codec.h"
#include "proto/messages/add_offsets_to_txn.h"
#include "proto/messages/add_partitions_to_txn.h"
#include "proto/messages/end_txn.h"
#include "proto/messages/init_producer_id.h"
#include "rpc/kclient.h"
#include "rpc/txn_verify.h"
#include "txn/txn_coordinator.h"

/* ---------------------------------------------------------------- wiring */

static const struct broker_config *txn_config(void *arg)
{
    return broker_config_current(arg);
}

static bool txn_may_lead(void *arg)
{
    return broker_may_lead(arg);
}

/* Inter-broker requests go to the inter-broker listener (S-CL5), this
 * broker's own included (embedded mode: the markers to itself). */
static bool txn_endpoint(void *arg, int32_t id, char *host, size_t cap, int *port)
{
    broker *b = arg;
    if (id == b->set.node_id) {
        /* Over TLS the advertised host, which the certificate names. */
        bool tls = b->ib_sec && (b->ib_sec->protocol == CFG_SSL || b->ib_sec->protocol == CFG_SASL_SSL);
        const endpoint *ep = tls ? &b->set.adv[b->set.ib_index] : &b->set.listen[b->set.ib_index];
        bool any = !ep->host[0] || !strcmp(ep->host, "0.0.0.0") || !strcmp(ep->host, "::");
        snprintf(host, cap, "%s", any ? "127.0.0.1" : ep->host);
        *port = ep->port;
        return true;
    }
    md_brokers *live = md_live_brokers(b->md);
    const md_broker *br = md_brokers_find(live, id);
    const md_endpoint *ep = br ? md_broker_endpoint_named(br, b->set.ib_listener) : NULL;
    if (ep) {
        snprintf(host, cap, "%s", ep->host[0] ? ep->host : "127.0.0.1");
        *port = ep->port;
    }
    md_brokers_unref(live);
    return ep != NULL;
}

static int32_t txn_offsets_partitions(void *arg)
{
    broker *b = arg;
    topic *t = topic_registry_get(&b->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
    int32_t n = t ? topic_nparts(t) : broker_config_current(b)->offsets_topic_num_partitions;
    topic_unref(t);
    return n;
}

/* KIP-890: the coordinator of a transactional id is the leader of its
 * __transaction_state partition (-1: no topic yet, or no leader). */
static int32_t txn_coordinator_of(void *arg, const char *id, size_t len)
{
    broker *b = arg;
    topic *t = topic_registry_get(&b->topics, TXN_TOPIC, strlen(TXN_TOPIC));
    partition *p = t && !atomic_load(&t->deleted) ? topic_partition(t, txn_partition_for(id, len, topic_nparts(t)))
                                                  : NULL;
    partition_state *st = p ? partition_state_get(p) : NULL;
    int32_t leader = st ? st->leader : -1;
    pstate_unref(st);
    topic_unref(t);
    return leader;
}

static bool txn_may_describe(void *arg, const kreq *rq, const char *id, size_t len)
{
    return authz_allowed(arg, rq, ACL_OP_DESCRIBE, ACL_RT_TRANSACTIONAL_ID, id, len);
}

int broker_txn_start(broker *b, char *err, size_t errlen)
{
    txn_verify_ctx vctx = { .arg = b, .coordinator_of = txn_coordinator_of, .broker_endpoint = txn_endpoint,
                            .sec = b->ib_sec };
    b->txn_verify = txn_verifier_start(&vctx, err, errlen);
    if (!b->txn_verify)
        return -1;
    txn_ctx ctx = { .node_id = b->set.node_id, .topics = &b->topics, .config = txn_config, .arg = b,
                    .may_lead = txn_may_lead, .broker_endpoint = txn_endpoint,
                    .offsets_partitions = txn_offsets_partitions, .sec = b->ib_sec,
                    .may_describe = b->authz ? txn_may_describe : NULL };
    b->txn = txn_coordinator_start(&ctx, err, errlen);
    return b->txn ? 0 : -1;
}

/* -------------------------------------------------------- InitProducerId */

static void spare_work(admin_job *job)
{
    int64_t *spare = job->arg;
    *spare = producer_id_allocate(broker_of(job->rq));
}

static void spare_done(admin_job *job)
{
    txn_submit(broker_of(job->rq)->txn, job->rq, txn_init_producer_id, job->arg);
}

void handle_init_producer_id_txn(kreq *rq)
{
    int64_t *spare = arena_alloc(&rq->arena, sizeof *spare);
    if (!spare) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    *spare = -1;
    admin_submit(broker_of(rq), rq, spare_work, spare_done, spare);
}

/* ------------------------------------------------------------- hand-off */

#define FORWARD(name, fn) \
    void name(kreq *rq) { txn_submit(broker_of(rq)->txn, rq, fn, NULL); }

FORWARD(handle_list_transactions, txn_list)

/* docs/security.md, AddPartitionsToTxn: v0-3 (producers) TransactionalId
 * WRITE (else every partition TRANSACTIONAL_ID_AUTHORIZATION_FAILED), then
 * WRITE on each topic (the refused TOPIC_AUTHORIZATION_FAILED, the rest
 * OPERATION_NOT_ATTEMPTED, nothing added); v4+ (brokers verifying)
 * Cluster CLUSTER_ACTION (else CLUSTER_AUTHORIZATION_FAILED). */
static int16_t add_partitions_denied(broker *b, kreq *rq, const add_partitions_to_txn_req *req,
                                     bool *per_topic)
{
    *per_topic = false;
    if (rq->hdr.api_version >= 4)
        return authz_cluster(b, rq, ACL_OP_CLUSTER_ACTION) ? KERR_NONE
                                                           : KERR_CLUSTER_AUTHORIZATION_FAILED;
    if (!authz_allowed_k(b, rq, ACL_OP_WRITE, ACL_RT_TRANSACTIONAL_ID, req->transactional_id))
        return KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    for (int32_t i = 0; i < req->topics.n; i++)
        if (!authz_allowed_k(b, rq, ACL_OP_WRITE, ACL_RT_TOPIC, req->topics.v[i].name))
            *per_topic = true;
    return *per_topic ? KERR_TOPIC_AUTHORIZATION_FAILED : KERR_NONE;
}

void handle_add_partitions_to_txn(kreq *rq)
{
    broker *b = broker_of(rq);
    add_partitions_to_txn_req *req = rq->body;
    bool per_topic;
    int16_t err = b->authz ? add_partitions_denied(b, rq, req, &per_topic) : KERR_NONE;
    if (!err) {
        txn_submit(b->txn, rq, txn_add_partitions, NULL);
        return;
    }
    add_partitions_to_txn_resp *r = kreq_new_response(rq);
    if (rq->hdr.api_version >= 4) {
        r->error_code = err;
        kreq_respond(rq, r);
        return;
    }
    add_partitions_to_txn_topic_result *ts =
        KARRAY_ALLOC(&rq->arena, &r->results_by_topic, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        add_partitions_to_txn_topic *qt = &req->topics.v[i];
        int16_t e = err;
        if (per_topic)
            e = authz_allowed_k(b, rq, ACL_OP_WRITE, ACL_RT_TOPIC, qt->name)
                    ? KERR_OPERATION_NOT_ATTEMPTED : KERR_TOPIC_AUTHORIZATION_FAILED;
        ts[i].name = qt->name;
        add_partitions_to_txn_partition_result *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].results_by_partition, qt->partitions.n);
        for (int32_t j = 0; ps && j < qt->partitions.n; j++)
            ps[j] = (add_partitions_to_txn_partition_result){ qt->partitions.v[j], e };
    }
    kreq_respond(rq, r);
}

/* docs/security.md, AddOffsetsToTxn: TransactionalId WRITE, Group READ. */
void handle_add_offsets_to_txn(kreq *rq)
{
    broker *b = broker_of(rq);
    add_offsets_to_txn_req *req = rq->body;
    int16_t err = !authz_allowed_k(b, rq, ACL_OP_WRITE, ACL_RT_TRANSACTIONAL_ID,
                                   req->transactional_id)
                      ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                  : !authz_allowed_k(b, rq, ACL_OP_READ, ACL_RT_GROUP, req->group_id)
                      ? KERR_GROUP_AUTHORIZATION_FAILED : KERR_NONE;
    if (!err) {
        txn_submit(b->txn, rq, txn_add_offsets, NULL);
        return;
    }
    add_offsets_to_txn_resp *r = kreq_new_response(rq);
    r->error_code = err;
    kreq_respond(rq, r);
}

/* docs/security.md, EndTxn: TransactionalId WRITE. */
void handle_end_txn(kreq *rq)
{
    broker *b = broker_of(rq);
    end_txn_req *req = rq->body;
    if (authz_allowed_k(b, rq, ACL_OP_WRITE, ACL_RT_TRANSACTIONAL_ID, req->transactional_id)) {
        txn_submit(b->txn, rq, txn_end_txn, NULL);
        return;
    }
    end_txn_resp *r = kreq_new_response(rq);
    r->error_code = KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    kreq_respond(rq, r);
}

FORWARD(handle_describe_transactions, txn_describe)   /* checks: txn ctx may_describe */
