/*
 * handle_groups.c - the group APIs on the network side: FindCoordinator
 * here, and the hand-off of JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit, OffsetFetch, OffsetDelete, DescribeGroups, ListGroups and
 * DeleteGroups to the group coordinator thread (group/coordinator.h).
 *
 * FindCoordinator for a group creates __consumer_offsets on first use (as
 * Kafka does), on the admin thread, and answers once it exists: a group's
 * coordinator is the current leader of its __consumer_offsets partition
 * (this broker on a single node; docs/groups.md G10), with its endpoint for
 * the request's listener; COORDINATOR_NOT_AVAILABLE while the partition
 * has no leader or that leader is not live.  A transactional id (key_type
 * 1) is served the same way with __transaction_state (created on first
 * use, transaction.state.log.*): its coordinator is the leader of partition
 * abs(hashCode(id)) % partitions, Kafka's partitionFor (docs/transactions.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator.h"
#include "group/group.h"
#include "proto/codec.h"
#include "proto/messages/find_coordinator.h"
#include "proto/messages/heartbeat.h"
#include "proto/messages/join_group.h"
#include "proto/messages/leave_group.h"
#include "proto/messages/offset_commit.h"
#include "proto/messages/sync_group.h"
#include "txn/txn_coordinator.h"

#define KEY_GROUP 0
#define KEY_TXN 1

static const char *topic_for(kreq *rq)
{
    find_coordinator_req *req = rq->body;
    return req->key_type == KEY_TXN ? TXN_TOPIC : OFFSETS_TOPIC;
}

/* The coordinator of `key`: the leader of its partition of the offsets
 * (groups) or transaction state topic (transactional ids). */
static int16_t coordinator_of(kreq *rq, kstr key, broker_view *out)
{
    broker *b = broker_of(rq);
    const char *name = topic_for(rq);
    topic *t = topic_registry_get(&b->topics, name, strlen(name));
    if (!t)
        return KERR_COORDINATOR_NOT_AVAILABLE;
    int32_t n = topic_nparts(t);
    partition *p = n > 0 ? topic_partition(t, group_partition_for(key.p, key.len > 0 ? (size_t)key.len : 0, n))
                         : NULL;
    partition_state *st = p ? partition_state_get(p) : NULL;
    bool ok = st && lookup_broker(b, rq, st->leader, out);
    pstate_unref(st);
    topic_unref(t);
    return ok ? KERR_NONE : KERR_COORDINATOR_NOT_AVAILABLE;
}

/* One answer: the coordinator of key, or err (when set) for every key. */
static void answer(kreq *rq, kstr key, int16_t err, const char *msg, int16_t *code, kstr *m,
                   int32_t *node, kstr *host, int32_t *port)
{
    broker_view v;
    broker *b = broker_of(rq);
    if (!err && b->authz && rq->hdr.api_version >= 4) {
        bool txn = ((find_coordinator_req *)rq->body)->key_type == KEY_TXN;
        if (!authz_allowed_k(b, rq, ACL_OP_DESCRIBE, txn ? ACL_RT_TRANSACTIONAL_ID : ACL_RT_GROUP,
                             key))
            err = txn ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED : KERR_GROUP_AUTHORIZATION_FAILED;
    }
    if (!err)
        err = coordinator_of(rq, key, &v);
    *code = err;
    *m = msg ? kstr_c(msg) : (kstr){ NULL, -1 };
    *node = err ? -1 : v.id;
    *host = err ? kstr_c("") : v.host;
    *port = err ? -1 : v.port;
}

static void fill(kreq *rq, find_coordinator_resp *r, int16_t err, const char *msg)
{
    find_coordinator_req *req = rq->body;
    if (rq->hdr.api_version < 4) {
        answer(rq, req->key, err, msg, &r->error_code, &r->error_message, &r->node_id, &r->host,
               &r->port);
        return;
    }
    find_coordinator_resp_coordinators *cs =
        KARRAY_ALLOC(&rq->arena, &r->coordinators, req->coordinator_keys.n);
    for (int32_t i = 0; cs && i < req->coordinator_keys.n; i++) {
        find_coordinator_resp_coordinators *c = &cs[i];
        c->key = req->coordinator_keys.v[i];
        answer(rq, c->key, err, msg, &c->error_code, &c->error_message, &c->node_id, &c->host,
               &c->port);
    }
}

static void create_work(admin_job *job)
{
    char msg[256];
    int16_t *code = job->arg;
    find_coordinator_req *req = job->rq->body;
    *code = req->key_type == KEY_TXN ? topic_admin_ensure_txn_topic(broker_of(job->rq), msg, sizeof msg)
                                     : topic_admin_ensure_offsets_topic(broker_of(job->rq), msg, sizeof msg);
}

static void create_done(admin_job *job)
{
    int16_t *code = job->arg;
    find_coordinator_resp *r = kreq_new_response(job->rq);
    fill(job->rq, r, *code ? KERR_COORDINATOR_NOT_AVAILABLE : KERR_NONE, NULL);
    kreq_respond(job->rq, r);
}

void handle_find_coordinator(kreq *rq)
{
    broker *b = broker_of(rq);
    find_coordinator_req *req = rq->body;
    find_coordinator_resp *r = kreq_new_response(rq);
    if (req->key_type != KEY_GROUP && req->key_type != KEY_TXN) {
        fill(rq, r, KERR_INVALID_REQUEST, "unsupported coordinator key type");
        kreq_respond(rq, r);
        return;
    }
    /* docs/security.md, FindCoordinator: Group DESCRIBE (key type 0) or
     * TransactionalId DESCRIBE (1), for the single key (v0-3). */
    if (b->authz && rq->hdr.api_version < 4) {
        bool txn = req->key_type == KEY_TXN;
        if (!authz_allowed_k(b, rq, ACL_OP_DESCRIBE, txn ? ACL_RT_TRANSACTIONAL_ID : ACL_RT_GROUP,
                             req->key)) {
            fill(rq, r, txn ? KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED
                            : KERR_GROUP_AUTHORIZATION_FAILED, NULL);
            kreq_respond(rq, r);
            return;
        }
    }
    topic *t = topic_registry_get(&b->topics, topic_for(rq), strlen(topic_for(rq)));
    if (t) {
        topic_unref(t);
        fill(rq, r, KERR_NONE, NULL);
        kreq_respond(rq, r);
        return;
    }
    int16_t *code = arena_alloc(&rq->arena, sizeof *code);
    if (!code) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    admin_submit(b, rq, create_work, create_done, code);
}

#define FORWARD(name, fn) \
    void name(kreq *rq) { coordinator_submit(broker_of(rq)->coord, rq, fn); }

/* docs/security.md: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and
 * OffsetCommit need Group READ; refused here, before the coordinator,
 * with GROUP_AUTHORIZATION_FAILED (every partition for OffsetCommit). */
static bool group_readable(kreq *rq, kstr group_id)
{
    return authz_allowed_k(broker_of(rq), rq, ACL_OP_READ, ACL_RT_GROUP, group_id);
}

void handle_join_group(kreq *rq)
{
    join_group_req *req = rq->body;
    if (group_readable(rq, req->group_id)) {
        coordinator_submit(broker_of(rq)->coord, rq, coord_join_group);
        return;
    }
    join_group_resp *r = kreq_new_response(rq);
    r->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
    r->generation_id = -1;
    r->member_id = kstr_c("");
    r->protocol_name = rq->hdr.api_version >= 7 ? (kstr){ NULL, -1 } : kstr_c("");
    kreq_respond(rq, r);
}

void handle_sync_group(kreq *rq)
{
    sync_group_req *req = rq->body;
    if (group_readable(rq, req->group_id)) {
        coordinator_submit(broker_of(rq)->coord, rq, coord_sync_group);
        return;
    }
    sync_group_resp *r = kreq_new_response(rq);
    r->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
    r->protocol_type = r->protocol_name = (kstr){ NULL, -1 };
    kreq_respond(rq, r);
}

void handle_heartbeat(kreq *rq)
{
    heartbeat_req *req = rq->body;
    if (group_readable(rq, req->group_id)) {
        coordinator_submit(broker_of(rq)->coord, rq, coord_heartbeat);
        return;
    }
    heartbeat_resp *r = kreq_new_response(rq);
    r->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
    kreq_respond(rq, r);
}

void handle_leave_group(kreq *rq)
{
    leave_group_req *req = rq->body;
    if (group_readable(rq, req->group_id)) {
        coordinator_submit(broker_of(rq)->coord, rq, coord_leave_group);
        return;
    }
    leave_group_resp *r = kreq_new_response(rq);
    r->error_code = KERR_GROUP_AUTHORIZATION_FAILED;
    kreq_respond(rq, r);
}

void handle_offset_commit(kreq *rq)
{
    offset_commit_req *req = rq->body;
    if (group_readable(rq, req->group_id)) {
        coordinator_submit(broker_of(rq)->coord, rq, coord_offset_commit);
        return;
    }
    offset_commit_resp *r = kreq_new_response(rq);
    offset_commit_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        ts[i].name = req->topics.v[i].name;
        offset_commit_resp_partitions *ps =
            KARRAY_ALLOC(&rq->arena, &ts[i].partitions, req->topics.v[i].partitions.n);
        for (int32_t j = 0; ps && j < req->topics.v[i].partitions.n; j++)
            ps[j] = (offset_commit_resp_partitions){
                .partition_index = req->topics.v[i].partitions.v[j].partition_index,
                .error_code = KERR_GROUP_AUTHORIZATION_FAILED };
    }
    kreq_respond(rq, r);
}
FORWARD(handle_offset_fetch, coord_offset_fetch)
FORWARD(handle_offset_delete, coord_offset_delete)
FORWARD(handle_txn_offset_commit, coord_txn_offset_commit)
FORWARD(handle_describe_groups, coord_describe_groups)
FORWARD(handle_list_groups, coord_list_groups)
FORWARD(handle_delete_groups, coord_delete_groups)
