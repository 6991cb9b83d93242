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
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "cluster/metadata.h"
#include "config/config.h"
#include "core/errors.h"
#include "group/coordinator.h"
#include "proto/codec.h"
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

int broker_txn_start(broker *b, char *err, size_t errlen)
{
    txn_verify_ctx vctx = { .arg = b, .coordinator_of = txn_coordinator_of, .broker_endpoint = txn_endpoint,
                            .sec = b->ib_sec };
    b->txn_verify = txn_verifier_start(&vctx, err, errlen);
    if (!b->txn_verify)
        return -1;
    txn_ctx ctx = { .node_id = b->set.node_id, .topics = &b->topics, .config = txn_config, .arg = b,
                    .may_lead = txn_may_lead, .broker_endpoint = txn_endpoint,
                    .offsets_partitions = txn_offsets_partitions, .sec = b->ib_sec };
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

FORWARD(handle_add_partitions_to_txn, txn_add_partitions)
FORWARD(handle_add_offsets_to_txn, txn_add_offsets)
FORWARD(handle_end_txn, txn_end_txn)
FORWARD(handle_describe_transactions, txn_describe)
FORWARD(handle_list_transactions, txn_list)
