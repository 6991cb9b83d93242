/*
 * handle_groups.c - the group APIs on the network side: FindCoordinator
 * here, and the hand-off of JoinGroup, SyncGroup, Heartbeat, LeaveGroup,
 * OffsetCommit, OffsetFetch, OffsetDelete, DescribeGroups, ListGroups and
 * DeleteGroups to the group coordinator thread (group/coordinator.h).
 *
 * FindCoordinator for a group creates __consumer_offsets on first use (as
 * Kafka does), on the admin thread, and answers once it exists: this
 * broker coordinates every group.  Transactions are not implemented: a
 * transactional coordinator lookup gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
 * which clients treat as fatal, instead of an endless retry.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator.h"
#include "proto/codec.h"
#include "proto/messages/find_coordinator.h"

#define KEY_GROUP 0
#define KEY_TXN 1

static void fill(kreq *rq, find_coordinator_resp *r, int16_t err, const char *msg)
{
    broker *b = broker_of(rq);
    find_coordinator_req *req = rq->body;
    const endpoint *ep = broker_advertised(b, kreq_listener(rq));
    int32_t node = err ? -1 : b->set.node_id;
    kstr host = err ? kstr_c("") : kstr_c(ep->host);
    int32_t port = err ? -1 : ep->port;
    kstr m = msg ? kstr_c(msg) : (kstr){ NULL, -1 };
    if (rq->hdr.api_version < 4) {
        r->error_code = err;
        r->error_message = m;
        r->node_id = node;
        r->host = host;
        r->port = port;
        return;
    }
    find_coordinator_resp_coordinators *cs =
        KARRAY_ALLOC(&rq->arena, &r->coordinators, req->coordinator_keys.n);
    for (int32_t i = 0; cs && i < req->coordinator_keys.n; i++)
        cs[i] = (find_coordinator_resp_coordinators){ .key = req->coordinator_keys.v[i],
                                                      .node_id = node, .host = host, .port = port,
                                                      .error_code = err, .error_message = m };
}

static void create_work(admin_job *job)
{
    char msg[256];
    int16_t *code = job->arg;
    *code = topic_admin_ensure_offsets_topic(broker_of(job->rq), msg, sizeof msg);
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
    if (req->key_type == KEY_TXN) {
        fill(rq, r, KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
             "transactions are not supported by this broker yet");
        kreq_respond(rq, r);
        return;
    }
    if (req->key_type != KEY_GROUP) {
        fill(rq, r, KERR_INVALID_REQUEST, "unsupported coordinator key type");
        kreq_respond(rq, r);
        return;
    }
    topic *t = topic_registry_get(&b->topics, OFFSETS_TOPIC, strlen(OFFSETS_TOPIC));
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

FORWARD(handle_join_group, coord_join_group)
FORWARD(handle_sync_group, coord_sync_group)
FORWARD(handle_heartbeat, coord_heartbeat)
FORWARD(handle_leave_group, coord_leave_group)
FORWARD(handle_offset_commit, coord_offset_commit)
FORWARD(handle_offset_fetch, coord_offset_fetch)
FORWARD(handle_offset_delete, coord_offset_delete)
FORWARD(handle_describe_groups, coord_describe_groups)
FORWARD(handle_list_groups, coord_list_groups)
FORWARD(handle_delete_groups, coord_delete_groups)
