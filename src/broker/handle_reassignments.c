/*
 * handle_reassignments.c - AlterPartitionReassignments (key 45) and
 * ListPartitionReassignments (key 46), v0 (KIP-455), as a ZooKeeper-mode
 * Kafka broker serves them: admin clients send them to the controller
 * (the broker Metadata names); any other broker answers NOT_CONTROLLER at
 * the top level, so the client looks the controller up again.
 *
 * The controller does the work (cluster/controller_reassign.c): the calls
 * block until its thread has handled them, so they run on the admin
 * thread (admin_submit), never on a network thread.  Alter answers once
 * each partition's reassignment is started (or finished, or cancelled),
 * as Kafka does; its progress is read with List, or with Metadata (the
 * replica list holds target + original replicas until it is done).
 * timeout_ms is not used: nothing here waits for replication.
 *
 * Without ZooKeeper (one broker) this broker is the controller Metadata
 * names, as a single Kafka node is: List answers that nothing is being
 * reassigned, and Alter accepts only the assignment a partition already
 * has (its one replica, this broker; done at once), with the controller's
 * checks and messages for everything else (embedded_alter).  kafka-topics
 * --describe lists reassignments first, so this is what it needs.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/cluster_mode.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "cluster/controller.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/alter_partition_reassignments.h"
#include "proto/messages/list_partition_reassignments.h"

/* kstr as a NUL-terminated string in the request's arena ("" when null). */
static const char *cstr(kreq *rq, kstr s)
{
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *out = arena_alloc(&rq->arena, n + 1);
    if (out) {
        if (n)
            memcpy(out, s.p, n);
        out[n] = 0;
    }
    return out;
}

/* The response (*resp) and the job's memory (job_size bytes); NULL when
 * the request is answered already: out of memory, or NOT_CONTROLLER (at
 * err_off in the response) when this broker is not the controller. */
static void *begin(kreq *rq, void **resp, size_t job_size, size_t err_off)
{
    *resp = kreq_new_response(rq);
    void *job = arena_alloc(&rq->arena, job_size);
    if (!*resp || !job) {
        kreq_fail_close(rq, "out of memory");
        return NULL;
    }
    broker *b = broker_of(rq);
    if (b->cluster_mode && !cluster_controller_active(b)) {
        *(int16_t *)((char *)*resp + err_off) = KERR_NOT_CONTROLLER;
        kreq_respond(rq, *resp);
        return NULL;
    }
    return job;
}

/* ---- AlterPartitionReassignments ---- */

typedef struct apr_job {
    alter_partition_reassignments_resp *resp;
    controller_reassignment *items;
    int n;
    int16_t top;
} apr_job;

/* One broker, no ZooKeeper: every partition has the one replica this
 * broker, and no other broker exists to move it to.  The checks and
 * messages are the controller's (cluster/controller_reassign.c). */
static int16_t embedded_check(broker *b, controller_reassignment *r)
{
    int32_t self = b->set.node_id;
    if (r->nreplicas == 0) {
        snprintf(r->message, sizeof r->message,
                 "Empty replica list specified in partition reassignment.");
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    for (int i = 0; i < r->nreplicas; i++) {
        for (int j = 0; j < i; j++)
            if (r->replicas[i] == r->replicas[j]) {
                snprintf(r->message, sizeof r->message,
                         "Duplicate replica ids in partition reassignment replica list: %d",
                         r->replicas[i]);
                return KERR_INVALID_REPLICA_ASSIGNMENT;
            }
        if (r->replicas[i] < 0) {
            snprintf(r->message, sizeof r->message, "Invalid broker id in replica list: %d",
                     r->replicas[i]);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
        if (r->replicas[i] != self) {
            snprintf(r->message, sizeof r->message, "Replica assignment has brokers that are not "
                     "alive: broker %d is not registered", r->replicas[i]);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    topic *t;
    partition *p;
    int16_t err = lookup_partition(b, kstr_c(r->topic), (kuuid){ { 0 } }, r->partition, -1, NULL,
                                   &t, &p);
    if (err == KERR_UNKNOWN_TOPIC_OR_PARTITION) {
        if (r->nreplicas >= 0)
            return err;
    } else if (err) {
        return err;
    } else {
        topic_unref(t);
    }
    if (r->nreplicas < 0) {
        snprintf(r->message, sizeof r->message, "No reassignment in progress for %s-%d",
                 r->topic, r->partition);
        return KERR_NO_REASSIGNMENT_IN_PROGRESS;
    }
    return KERR_NONE;            /* [self]: the assignment it has; nothing to move */
}

static void apr_work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    apr_job *aj = job->arg;
    if (!b->cluster_mode) {
        for (int i = 0; i < aj->n; i++) {
            aj->items[i].message[0] = 0;
            aj->items[i].error = embedded_check(b, &aj->items[i]);
        }
        aj->top = KERR_NONE;
        return;
    }
    aj->top = cluster_controller_active(b)
                  ? controller_alter_reassignments(b->controller, aj->items, aj->n)
                  : KERR_NOT_CONTROLLER;
}

static void apr_done(admin_job *job)
{
    apr_job *aj = job->arg;
    kreq *rq = job->rq;
    alter_partition_reassignments_resp *r = aj->resp;
    if (aj->top) {
        r->error_code = aj->top;
        r->responses.n = 0;      /* a top-level error answers no partitions */
        kreq_respond(rq, r);
        return;
    }
    int k = 0;
    for (int32_t i = 0; i < r->responses.n; i++) {
        alter_partition_reassignments_resp_topics *t = &r->responses.v[i];
        for (int32_t j = 0; j < t->partitions.n; j++, k++) {
            const controller_reassignment *it = &aj->items[k];
            t->partitions.v[j].error_code = it->error;
            if (it->error) {
                const char *m = it->message[0] ? it->message : kerr_name(it->error);
                t->partitions.v[j].error_message = kstr_c(cstr(rq, kstr_c(m)));
            }
        }
    }
    kreq_respond(rq, r);
}

void handle_alter_partition_reassignments(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_ALTER, alter_partition_reassignments_resp);   /* docs/security.md, AlterPartitionReassignments */
    broker *b = broker_of(rq);
    alter_partition_reassignments_req *req = rq->body;
    alter_partition_reassignments_resp *r;
    apr_job *aj = begin(rq, (void **)&r, sizeof *aj,
                        offsetof(alter_partition_reassignments_resp, error_code));
    if (!aj)
        return;
    int32_t total = 0;
    for (int32_t i = 0; i < req->topics.n; i++)
        total += req->topics.v[i].partitions.n;
    controller_reassignment *items = arena_alloc(&rq->arena, (size_t)(total + 1) * sizeof *items);
    alter_partition_reassignments_resp_topics *rt =
        KARRAY_ALLOC(&rq->arena, &r->responses, req->topics.n);
    if (!items || (req->topics.n > 0 && !rt)) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int n = 0;
    for (int32_t i = 0; i < req->topics.n; i++) {
        const alter_partition_reassignments_req_topics *t = &req->topics.v[i];
        const char *name = cstr(rq, t->name);
        rt[i].name = t->name;
        alter_partition_reassignments_resp_partitions *ps =
            KARRAY_ALLOC(&rq->arena, &rt[i].partitions, t->partitions.n);
        if (!name || (!ps && t->partitions.n > 0)) {
            kreq_fail_close(rq, "out of memory");
            return;
        }
        for (int32_t j = 0; j < t->partitions.n; j++) {
            const alter_partition_reassignments_req_partitions *p = &t->partitions.v[j];
            kcodec_defaults(&alter_partition_reassignments_resp_partitions_schema, &ps[j]);
            ps[j].partition_index = p->partition_index;
            items[n++] = (controller_reassignment){
                .topic = name, .partition = p->partition_index,
                .replicas = p->replicas.n >= 0 ? p->replicas.v : NULL,
                .nreplicas = p->replicas.n >= 0 ? p->replicas.n : -1 };
        }
    }
    *aj = (apr_job){ .resp = r, .items = items, .n = n };
    admin_submit(b, rq, apr_work, apr_done, aj);
}

/* ---- ListPartitionReassignments ---- */

typedef struct lpr_job {
    list_partition_reassignments_resp *resp;
    controller_reassign_filter *f;
    int nf;                          /* -1: all */
    controller_ongoing *out;
    int n;
    int16_t top;
} lpr_job;

static void lpr_work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    lpr_job *lj = job->arg;
    if (!b->cluster_mode) {             /* one broker: nothing is ever moving */
        lj->top = KERR_NONE;
        lj->out = NULL;
        lj->n = 0;
        return;
    }
    lj->top = cluster_controller_active(b)
                  ? controller_list_reassignments(b->controller, lj->f, lj->nf, &lj->out, &lj->n)
                  : KERR_NOT_CONTROLLER;
}

static karr_i32 copy_ids(kreq *rq, const int32_t *v, int n, bool *oom)
{
    karr_i32 a = { 0, NULL };
    int32_t *d = KARRAY_ALLOC(&rq->arena, &a, n);
    if (!d && n > 0)
        *oom = true;
    else if (n > 0)
        memcpy(d, v, (size_t)n * sizeof *d);
    return a;
}

static void lpr_done(admin_job *job)
{
    lpr_job *lj = job->arg;
    kreq *rq = job->rq;
    list_partition_reassignments_resp *r = lj->resp;
    r->error_code = lj->top;
    bool oom = false;
    /* group by topic, in the controller's order */
    list_partition_reassignments_resp_topics *ts =
        lj->n ? KARRAY_ALLOC(&rq->arena, &r->topics, lj->n) : NULL;
    if (lj->n && !ts)
        oom = true;
    r->topics.n = 0;
    for (int i = 0; !oom && i < lj->n; i++) {
        const controller_ongoing *o = &lj->out[i];
        list_partition_reassignments_resp_topics *t = NULL;
        for (int32_t k = 0; k < r->topics.n && !t; k++)
            if (!strcmp(ts[k].name.p, o->topic))
                t = &ts[k];
        if (!t) {
            t = &ts[r->topics.n++];
            const char *nm = cstr(rq, kstr_c(o->topic));
            t->name = kstr_c(nm ? nm : "");
            t->partitions.v = arena_alloc(&rq->arena, (size_t)lj->n * sizeof *t->partitions.v);
            t->partitions.n = 0;
            if (!nm || !t->partitions.v) {
                oom = true;
                break;
            }
        }
        list_partition_reassignments_resp_partitions *p = &t->partitions.v[t->partitions.n++];
        p->partition_index = o->partition;
        p->replicas = copy_ids(rq, o->replicas, o->nreplicas, &oom);
        p->adding_replicas = copy_ids(rq, o->adding, o->nadding, &oom);
        p->removing_replicas = copy_ids(rq, o->removing, o->nremoving, &oom);
    }
    controller_ongoing_free(lj->out, lj->n);
    if (oom) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    kreq_respond(rq, r);
}

void handle_list_partition_reassignments(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_DESCRIBE, list_partition_reassignments_resp);   /* docs/security.md, ListPartitionReassignments */
    broker *b = broker_of(rq);
    list_partition_reassignments_req *req = rq->body;
    list_partition_reassignments_resp *r;
    lpr_job *lj = begin(rq, (void **)&r, sizeof *lj,
                        offsetof(list_partition_reassignments_resp, error_code));
    if (!lj)
        return;
    *lj = (lpr_job){ .resp = r, .nf = -1 };
    if (req->topics.n >= 0) {
        int32_t total = 0;
        for (int32_t i = 0; i < req->topics.n; i++)
            total += req->topics.v[i].partition_indexes.n > 0
                         ? req->topics.v[i].partition_indexes.n : 0;
        lj->f = arena_alloc(&rq->arena, (size_t)(total + 1) * sizeof *lj->f);
        if (!lj->f) {
            kreq_fail_close(rq, "out of memory");
            return;
        }
        lj->nf = 0;
        for (int32_t i = 0; i < req->topics.n; i++) {
            const list_partition_reassignments_req_topics *t = &req->topics.v[i];
            const char *name = cstr(rq, t->name);
            if (!name) {
                kreq_fail_close(rq, "out of memory");
                return;
            }
            for (int32_t k = 0; k < t->partition_indexes.n; k++)
                lj->f[lj->nf++] = (controller_reassign_filter){ name, t->partition_indexes.v[k] };
        }
    }
    admin_submit(b, rq, lpr_work, lpr_done, lj);
}
