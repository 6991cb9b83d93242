/*
 * handle_update_metadata.c - UpdateMetadata (key 6): the controller tells
 * every broker the state of every partition, so that Metadata, answered by
 * any broker, names each partition's leader, epoch, replicas, ISR and
 * offline replicas (cluster mode; docs/cluster.md §5).
 *
 * Fenced like every controller request (C2, C3: cluster_accept_controller).
 * A partition's state is taken from it when this broker holds no log of
 * the partition (it only describes it; a replica removed by a reassignment
 * deleted its log first, so it learns the new leader here), or to refresh the ISR of a
 * partition it follows at the same leader epoch.  A partition this broker
 * leads, or whose leader epoch differs from the one the controller's
 * LeaderAndIsr installed here, is left alone: leadership changes only by
 * LeaderAndIsr (C4), and the leader's own ISR comes from its
 * AlterPartition answers.  Topics being deleted (leader -2) are skipped.
 * Live brokers come from ZooKeeper's /brokers/ids watch, not from here.
 *
 * Runs on the admin thread, in order with LeaderAndIsr and StopReplica.
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
#include "proto/messages/update_metadata.h"
#include "server/delayed.h"

#define LEADER_DURING_DELETE (-2)

typedef update_metadata_partition_state um_state;

/* The topic, read from ZooKeeper first when it or its partition
 * `max_index` is not known here yet (this broker's watch is behind the
 * controller; partitions added to a topic change its znode's data, which
 * no broker watches). */
static topic *find_topic(broker *b, kstr name, int32_t max_index, bool *synced)
{
    if (name.len < 0)
        return NULL;
    topic *t = topic_registry_get(&b->topics, name.p, (size_t)name.len);
    if ((!t || max_index >= topic_nparts(t)) && b->cluster_mode && !*synced) {
        topic_unref(t);
        char err[512];
        *synced = true;                  /* at most one ZooKeeper read per request */
        if (cluster_topics_sync(b, err, sizeof err) < 0)
            LOG_WRN("cluster", "UpdateMetadata: reading topics from ZooKeeper: %s", err);
        t = topic_registry_get(&b->topics, name.p, (size_t)name.len);
    }
    return t;
}

static void apply(broker *b, topic *t, const um_state *ps)
{
    partition *p = topic_partition(t, ps->partition_index);
    if (!p || ps->leader == LEADER_DURING_DELETE)
        return;
    partition_state *cur = partition_state_get(p);
    bool take = !cluster_replica_hosted(b, p) ||
                (cur && cur->leader != b->set.node_id && ps->leader != b->set.node_id &&
                 cur->leader == ps->leader && cur->leader_epoch == ps->leader_epoch);
    pstate_unref(cur);
    if (!take)
        return;
    pstate_spec spec = { .leader = ps->leader, .leader_epoch = ps->leader_epoch,
                         .partition_epoch = ps->zk_version,
                         .controller_epoch = ps->controller_epoch,
                         .replicas = ps->replicas.v, .nreplicas = ps->replicas.n,
                         .isr = ps->isr.v, .nisr = ps->isr.n,
                         .offline = ps->offline_replicas.v,
                         .noffline = ps->offline_replicas.n > 0 ? ps->offline_replicas.n : 0 };
    partition_state *st = pstate_new(&spec);
    if (st && partition_set_state(p, st) == KERR_NONE)   /* M1: never an older epoch */
        partition_notify(p);
}

static void work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    update_metadata_req *req = job->rq->body;
    update_metadata_resp *r = job->arg;
    r->error_code = cluster_accept_controller(b, req->controller_id, req->controller_epoch,
                                              req->broker_epoch);
    if (r->error_code)
        return;
    bool synced = false;
    for (int32_t i = 0; i < req->ungrouped_partition_states.n; i++) {
        const um_state *ps = &req->ungrouped_partition_states.v[i];
        topic *t = find_topic(b, ps->topic_name, ps->partition_index, &synced);
        if (t)
            apply(b, t, ps);
        topic_unref(t);
    }
    for (int32_t i = 0; i < req->topic_states.n; i++) {
        const update_metadata_req_topic_states *ts = &req->topic_states.v[i];
        int32_t max = -1;
        for (int32_t k = 0; k < ts->partition_states.n; k++)
            if (ts->partition_states.v[k].partition_index > max)
                max = ts->partition_states.v[k].partition_index;
        topic *t = find_topic(b, ts->topic_name, max, &synced);
        for (int32_t k = 0; t && k < ts->partition_states.n; k++)
            apply(b, t, &ts->partition_states.v[k]);
        topic_unref(t);
    }
}

static void done(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

void handle_update_metadata(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_CLUSTER_ACTION, update_metadata_resp);   /* docs/security.md, UpdateMetadata */
    update_metadata_resp *r = kreq_new_response(rq);
    if (!r) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    admin_submit(broker_of(rq), rq, work, done, r);
}
