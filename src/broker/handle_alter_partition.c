/*
 * handle_alter_partition.c - AlterPartition (key 56, v0-2): a partition
 * leader asks the controller to change its ISR (KIP-497; Kafka's ZooKeeper
 * mode).  The sender is another broker's ISR manager (repl/isr_manager.h);
 * this broker's own manager calls controller_alter_partition directly.
 *
 * Served on every broker: when this broker's controller is not the active
 * one (or the broker is leaving the cluster) the whole request gets
 * NOT_CONTROLLER (top level), so the leader tries again once it has heard
 * of the new controller.  Its own ISR manager sends it here too, over the
 * loopback: only the admin thread may call into b->controller.  Otherwise each
 * partition goes through controller_alter_partition (cluster/controller.h:
 * leader, leader epoch, partition epoch and eligibility checks; a
 * compare-and-set of the state znode, C1), which blocks until the
 * controller thread has handled it: so the calls run on the admin thread
 * (admin_submit), never on a network thread.  STALE_BROKER_EPOCH and a
 * controller that resigned mid-request (NOT_CONTROLLER) are answered at
 * the top level, as Kafka does; every other error is the partition's.
 * On success a partition's entry carries the state written: leader,
 * leader epoch, ISR, partition epoch.
 *
 * Topics are named (v0-1) or given by id (v2), answered the same way; an
 * id this broker does not know gets UNKNOWN_TOPIC_ID.  v3's
 * new_isr_with_epochs (KIP-903) is not served.
 */
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/cluster_mode.h"
#include "broker/dispatch.h"
#include "cluster/controller.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/alter_partition.h"

/* One partition of the request, with its answer. */
typedef struct ap_item {
    const char *topic;               /* NUL-terminated in the arena; NULL: unknown id */
    const alter_partition_req_partitions *rp;
    alter_partition_resp_partitions *out;
    controller_partition_state st;   /* filled on the admin thread */
    int16_t error;
} ap_item;

typedef struct ap_job {
    alter_partition_resp *resp;
    ap_item *items;
    int32_t n;
} ap_job;

/* Admin thread: one blocking controller call per partition. */
static void work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    alter_partition_req *req = job->rq->body;
    ap_job *aj = job->arg;
    for (int32_t i = 0; i < aj->n; i++) {
        ap_item *it = &aj->items[i];
        if (!it->topic) {
            it->error = job->rq->hdr.api_version >= 2 ? KERR_UNKNOWN_TOPIC_ID
                                                      : KERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        if (!cluster_controller_active(b)) {
            aj->resp->error_code = KERR_NOT_CONTROLLER;
            return;
        }
        it->error = controller_alter_partition(b->controller, req->broker_id, req->broker_epoch,
                                               it->topic, it->rp->partition_index,
                                               it->rp->leader_epoch, it->rp->partition_epoch,
                                               it->rp->new_isr.v, it->rp->new_isr.n, &it->st);
        if (it->error == KERR_NOT_CONTROLLER || it->error == KERR_STALE_BROKER_EPOCH) {
            aj->resp->error_code = it->error;   /* the whole request, as Kafka */
            return;
        }
        /* INELIGIBLE_REPLICA repeats every ISR round while a caught-up
         * follower is shutting down or gone (C31): not worth a line each */
        if (it->error == KERR_INELIGIBLE_REPLICA)
            LOG_DBG("cluster", "AlterPartition from broker %d for %s-%d refused: %s",
                    req->broker_id, it->topic, it->rp->partition_index, kerr_name(it->error));
        else if (it->error)
            LOG_INF("cluster", "AlterPartition from broker %d for %s-%d refused: %s", req->broker_id,
                    it->topic, it->rp->partition_index, kerr_name(it->error));
    }
}

/* The request's loop: the answers into the response (arrays from the
 * request's arena, which only this thread allocates from). */
static void done(admin_job *job)
{
    ap_job *aj = job->arg;
    kreq *rq = job->rq;
    for (int32_t i = 0; !aj->resp->error_code && i < aj->n; i++) {
        ap_item *it = &aj->items[i];
        it->out->error_code = it->error;
        if (it->error)
            continue;
        it->out->leader_id = it->st.leader;
        it->out->leader_epoch = it->st.leader_epoch;
        it->out->partition_epoch = it->st.partition_epoch;
        int32_t *isr = KARRAY_ALLOC(&rq->arena, &it->out->isr, it->st.nisr);
        if (!isr && it->st.nisr > 0) {
            kreq_fail_close(rq, "out of memory");
            return;
        }
        memcpy(isr, it->st.isr, (size_t)it->st.nisr * sizeof *isr);
    }
    if (aj->resp->error_code)
        aj->resp->topics.n = 0;      /* a top-level error answers no partitions */
    kreq_respond(rq, aj->resp);
}

/* The topic's name as a C string in the arena: by name (v0-1) or id (v2). */
static const char *topic_of(kreq *rq, const alter_partition_req_topics *t)
{
    broker *b = broker_of(rq);
    if (rq->hdr.api_version < 2) {
        if (t->topic_name.len < 0)
            return NULL;
        char *s = arena_alloc(&rq->arena, (size_t)t->topic_name.len + 1);
        if (s) {
            memcpy(s, t->topic_name.p, (size_t)t->topic_name.len);
            s[t->topic_name.len] = 0;
        }
        return s;
    }
    topic *tp = topic_registry_get_id(&b->topics, t->topic_id);
    char *s = tp ? arena_alloc(&rq->arena, tp->name_len + 1) : NULL;
    if (s)
        memcpy(s, tp->name, tp->name_len + 1);
    topic_unref(tp);
    return s;
}

void handle_alter_partition(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_CLUSTER_ACTION, alter_partition_resp);   /* docs/security.md, AlterPartition */
    broker *b = broker_of(rq);
    alter_partition_req *req = rq->body;
    alter_partition_resp *resp = kreq_new_response(rq);
    ap_job *aj = arena_alloc(&rq->arena, sizeof *aj);
    if (!resp || !aj) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    if (!cluster_controller_active(b)) {
        resp->error_code = KERR_NOT_CONTROLLER;
        kreq_respond(rq, resp);
        return;
    }
    int32_t total = 0;
    for (int32_t i = 0; i < req->topics.n; i++)
        total += req->topics.v[i].partitions.n;
    ap_item *items = arena_alloc(&rq->arena, (size_t)(total + 1) * sizeof *items);
    alter_partition_resp_topics *rts = KARRAY_ALLOC(&rq->arena, &resp->topics, req->topics.n);
    if (!items || (req->topics.n > 0 && !rts)) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < req->topics.n; i++) {
        const alter_partition_req_topics *t = &req->topics.v[i];
        rts[i].topic_name = t->topic_name;
        rts[i].topic_id = t->topic_id;
        const char *name = topic_of(rq, t);
        alter_partition_resp_partitions *ps = KARRAY_ALLOC(&rq->arena, &rts[i].partitions, t->partitions.n);
        if (!ps && t->partitions.n > 0) {
            kreq_fail_close(rq, "out of memory");
            return;
        }
        for (int32_t j = 0; j < t->partitions.n; j++) {
            kcodec_defaults(&alter_partition_resp_partitions_schema, &ps[j]);
            ps[j].partition_index = t->partitions.v[j].partition_index;
            items[n++] = (ap_item){ .topic = name, .rp = &t->partitions.v[j], .out = &ps[j] };
        }
    }
    *aj = (ap_job){ .resp = resp, .items = items, .n = n };
    admin_submit(b, rq, work, done, aj);
}
