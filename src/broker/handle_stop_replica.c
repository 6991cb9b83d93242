/*
 * handle_stop_replica.c - StopReplica (key 5): the controller tells a
 * broker to stop replicating partitions and, when a topic is deleted, to
 * delete them (cluster mode; docs/cluster.md §5).
 *
 * Fenced like every controller request (C2, C3).  Stopping a partition
 * stops its fetcher (no follower append after this returns).  A deletion
 * (delete_partition) stops it the same way; the topic and its local logs
 * are dropped when its /brokers/topics znode goes, which the controller
 * removes right after (cluster_topics_sync on the watch), so this broker's
 * registry, DeleteTopics' wait and ZooKeeper agree on when a topic is
 * gone.  Per partition, a leader epoch older than the one held is refused
 * with FENCED_LEADER_EPOCH, as Kafka does; -2 (a deletion) and -1 (not
 * sent) always apply.
 *
 * Runs on the admin thread, in order with LeaderAndIsr and UpdateMetadata.
 */
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/cluster_mode.h"
#include "broker/cluster_topics.h"
#include "broker/dispatch.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator.h"
#include "txn/txn_coordinator.h"
#include "proto/codec.h"
#include "proto/messages/stop_replica.h"
#include "repl/fetcher.h"

typedef struct sr_item {
    kstr topic;
    int32_t partition, leader_epoch;
    bool del;
} sr_item;

typedef struct sr_job {
    stop_replica_resp *resp;
    sr_item *items;
    int32_t n;
} sr_job;

static int16_t stop_one(broker *b, const sr_item *it)
{
    topic *t = it->topic.len >= 0 ? topic_registry_get(&b->topics, it->topic.p, (size_t)it->topic.len)
                                  : NULL;
    partition *p = t ? topic_partition(t, it->partition) : NULL;
    if (!p) {
        topic_unref(t);
        return it->del ? KERR_NONE : KERR_UNKNOWN_TOPIC_OR_PARTITION;   /* gone already */
    }
    partition_state *st = partition_state_get(p);
    bool stale = st && it->leader_epoch >= 0 && it->leader_epoch < st->leader_epoch;
    pstate_unref(st);
    if (stale) {
        topic_unref(t);
        return KERR_FENCED_LEADER_EPOCH;
    }
    /* A deletion with a real leader epoch: this replica was removed by a
     * reassignment (C21: the controller sends it only once the target
     * replicas are in the ISR and ZooKeeper holds the new assignment), so
     * its log goes now.  Epoch -2 is a topic deletion: the logs go with
     * the topic's znode. */
    if (it->del && it->leader_epoch >= 0 && b->cluster_mode)
        cluster_replica_delete(b, p);
    else
        repl_unfollow(b->fetchers, p);
    /* An offsets partition that stops here (a leader removed by a
     * reassignment gets StopReplica, no LeaderAndIsr): its groups go
     * (groups.md G11; Kafka's onResignation). */
    if (it->leader_epoch >= 0 && !strcmp(t->name, OFFSETS_TOPIC))
        coordinator_resign(b->coord, it->partition, it->leader_epoch);
    else if (it->leader_epoch >= 0 && !strcmp(t->name, TXN_TOPIC))
        txn_coordinator_resign(b->txn, it->partition, it->leader_epoch);   /* transactions.md TC8 */
    topic_unref(t);
    return KERR_NONE;
}

static void work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    stop_replica_req *req = job->rq->body;
    sr_job *sj = job->arg;
    int16_t fenced = cluster_accept_controller(b, req->controller_id, req->controller_epoch,
                                               req->broker_epoch);
    for (int32_t i = 0; i < sj->n; i++)
        sj->resp->partition_errors.v[i].error_code = fenced ? fenced : stop_one(b, &sj->items[i]);
    sj->resp->error_code = fenced;
}

static void done(admin_job *job)
{
    sr_job *sj = job->arg;
    kreq_respond(job->rq, sj->resp);
}

void handle_stop_replica(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_CLUSTER_ACTION, stop_replica_resp);   /* docs/security.md, StopReplica */
    stop_replica_req *req = rq->body;
    stop_replica_resp *r = kreq_new_response(rq);
    sr_job *sj = arena_alloc(&rq->arena, sizeof *sj);
    int32_t total = req->ungrouped_partitions.n > 0 ? req->ungrouped_partitions.n : 0;
    for (int32_t i = 0; i < req->topics.n; i++)
        total += req->topics.v[i].partition_indexes.n > 0 ? req->topics.v[i].partition_indexes.n : 0;
    for (int32_t i = 0; i < req->topic_states.n; i++)
        total += req->topic_states.v[i].partition_states.n;
    sr_item *items = arena_alloc(&rq->arena, (size_t)(total + 1) * sizeof *items);
    stop_replica_resp_partition_errors *pe =
        r ? KARRAY_ALLOC(&rq->arena, &r->partition_errors, total) : NULL;
    if (!r || !sj || !items || (total > 0 && !pe)) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < req->ungrouped_partitions.n; i++, n++)
        items[n] = (sr_item){ req->ungrouped_partitions.v[i].topic_name,
                              req->ungrouped_partitions.v[i].partition_index, -1,
                              req->delete_partitions };
    for (int32_t i = 0; i < req->topics.n; i++)
        for (int32_t k = 0; k < req->topics.v[i].partition_indexes.n; k++, n++)
            items[n] = (sr_item){ req->topics.v[i].name, req->topics.v[i].partition_indexes.v[k],
                                  -1, req->delete_partitions };
    for (int32_t i = 0; i < req->topic_states.n; i++) {
        const stop_replica_req_topic_states *ts = &req->topic_states.v[i];
        for (int32_t k = 0; k < ts->partition_states.n; k++, n++)
            items[n] = (sr_item){ ts->topic_name, ts->partition_states.v[k].partition_index,
                                  ts->partition_states.v[k].leader_epoch,
                                  ts->partition_states.v[k].delete_partition };
    }
    for (int32_t i = 0; i < n; i++)
        pe[i] = (stop_replica_resp_partition_errors){ .topic_name = items[i].topic,
                                                      .partition_index = items[i].partition };
    *sj = (sr_job){ .resp = r, .items = items, .n = n };
    admin_submit(broker_of(rq), rq, work, done, sj);
}
