/*
 * handle_topics_admin.c - CreateTopics (19), DeleteTopics (20) and
 * CreatePartitions (37).
 *
 * Requests are checked for shape on the network thread (duplicates,
 * counts), then the changes run on the admin thread (admin.h), which
 * creates or removes partition directories and rewrites the metadata
 * store durably before answering.  Error choices follow Kafka:
 *   name invalid            INVALID_TOPIC_EXCEPTION
 *   partitions 0 or < -1    INVALID_PARTITIONS
 *   replication > brokers   INVALID_REPLICATION_FACTOR
 *   bad manual assignment   INVALID_REPLICA_ASSIGNMENT
 *   bad config              INVALID_CONFIG
 *   topic listed twice      INVALID_REQUEST (every occurrence)
 *   exists                  TOPIC_ALREADY_EXISTS
 *   deletion disabled       TOPIC_DELETION_DISABLED
 *   fewer partitions        INVALID_PARTITIONS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "server/delayed.h"
#include "config/config.h"
#include "broker/dispatch.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/create_partitions.h"
#include "proto/messages/create_topics.h"
#include "proto/messages/delete_topics.h"

#define MSG_LEN 300

static char *arena_msg(kreq *rq, const char *m)
{
    return arena_strndup(&rq->arena, m, strlen(m));
}

static bool dup_name(const kstr *names, int stride_unused, int32_t n, int32_t i)
{
    (void)stride_unused;
    for (int32_t k = 0; k < n; k++)
        if (k != i && names[k].len == names[i].len && names[i].len >= 0 &&
            memcmp(names[k].p, names[i].p, (size_t)names[i].len) == 0)
            return true;
    return false;
}

/* ----------------------------------------------------------- CreateTopics */

static void create_topics_work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    kreq *rq = job->rq;
    create_topics_req *req = rq->body;
    create_topics_resp *r = job->arg;
    kstr *names = arena_alloc(&rq->arena, (size_t)(req->topics.n + 1) * sizeof *names);
    for (int32_t i = 0; names && i < req->topics.n; i++)
        names[i] = req->topics.v[i].name;
    for (int32_t i = 0; i < req->topics.n; i++) {
        create_topics_req_topics *qt = &req->topics.v[i];
        create_topics_resp_topics *rt = &r->topics.v[i];
        char msg[MSG_LEN] = "";
        rt->name = qt->name;
        if (names && dup_name(names, 0, req->topics.n, i)) {
            rt->error_code = KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "Create topics request from client contains multiple entries for the same topic.");
            rt->error_message = kstr_c(arena_msg(rq, msg));
            continue;
        }
        /* docs/security.md, CreateTopics: Cluster CREATE or Topic CREATE. */
        if (b->authz && !authz_cluster(b, rq, ACL_OP_CREATE) &&
            !authz_allowed_k(b, rq, ACL_OP_CREATE, ACL_RT_TOPIC, qt->name)) {
            rt->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
            rt->error_message = kstr_c("Authorization failed.");
            continue;
        }
        char *name = arena_strndup(&rq->arena, qt->name.p ? qt->name.p : "", (size_t)(qt->name.len > 0 ? qt->name.len : 0));
        if (!name) {                    /* request arena exhausted */
            rt->error_code = KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        int32_t nparts = qt->num_partitions;
        int16_t rf = qt->replication_factor;
        int32_t *assignment = NULL;
        if (qt->assignments.n > 0) {
            if (nparts != -1 || rf != -1) {
                rt->error_code = KERR_INVALID_REQUEST;
                snprintf(msg, sizeof msg, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.");
                rt->error_message = kstr_c(arena_msg(rq, msg));
                continue;
            }
            nparts = qt->assignments.n;
            rf = (int16_t)qt->assignments.v[0].broker_ids.n;
            bool ok = rf > 0 && qt->assignments.v[0].broker_ids.n <= INT16_MAX;
            if (ok && b->cluster_mode)
                assignment = arena_alloc(&rq->arena, (size_t)nparts * (size_t)rf * sizeof *assignment);
            for (int32_t a = 0; a < qt->assignments.n && ok; a++) {
                create_topics_req_assignments *as = &qt->assignments.v[a];
                if (as->partition_index != a || as->broker_ids.n != rf)
                    ok = false;
                else if (!b->cluster_mode)
                    ok = rf == 1 && as->broker_ids.v[0] == b->set.node_id;
                else if (assignment)
                    memcpy(&assignment[(size_t)a * (size_t)rf], as->broker_ids.v,
                           (size_t)rf * sizeof *assignment);
            }
            if (ok && b->cluster_mode && !assignment) {
                rt->error_code = KERR_UNKNOWN_SERVER_ERROR;     /* request arena exhausted */
                continue;
            }
            if (!ok) {
                rt->error_code = KERR_INVALID_REPLICA_ASSIGNMENT;
                if (b->cluster_mode)
                    snprintf(msg, sizeof msg, "Replica assignments must name partitions 0..n-1 in order, each with the same number of brokers.");
                else
                    snprintf(msg, sizeof msg, "Replica assignments must name partitions 0..n-1 in order, each on broker %d only (the only broker).", b->set.node_id);
                rt->error_message = kstr_c(arena_msg(rq, msg));
                continue;
            }
        }
        topic_kv *cfgs = arena_alloc(&rq->arena, (size_t)(qt->configs.n + 1) * sizeof *cfgs);
        if (!cfgs) {                    /* never create the topic without its configs */
            rt->error_code = KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        int ncfg = 0;
        bool null_value = false;
        for (int32_t c = 0; cfgs && c < qt->configs.n; c++) {
            create_topics_req_configs *cv = &qt->configs.v[c];
            if (cv->value.len < 0) {
                null_value = true;
                snprintf(msg, sizeof msg, "Null value not supported for topic configs: %.*s",
                         cv->name.len, cv->name.p);
                break;
            }
            cfgs[ncfg].key = arena_strndup(&rq->arena, cv->name.p, (size_t)cv->name.len);
            cfgs[ncfg].value = arena_strndup(&rq->arena, cv->value.p, (size_t)cv->value.len);
            if (!cfgs[ncfg].key || !cfgs[ncfg].value)
                break;                  /* arena exhausted: refuse below, don't drop it */
            ncfg++;
        }
        if (!null_value && ncfg < qt->configs.n) {
            rt->error_code = KERR_UNKNOWN_SERVER_ERROR;
            continue;
        }
        if (null_value) {
            rt->error_code = KERR_INVALID_CONFIG;
            rt->error_message = kstr_c(arena_msg(rq, msg));
            continue;
        }
        kuuid id = { { 0 } };
        rt->error_code = topic_admin_create_assigned(b, name, nparts, rf, assignment, cfgs, ncfg,
                                                     req->validate_only, &id, msg, sizeof msg);
        if (rt->error_code) {
            rt->error_message = kstr_c(arena_msg(rq, msg));
            continue;
        }
        rt->topic_id = id;
        rt->num_partitions = nparts == -1 ? b->set.num_partitions : nparts;
        rt->replication_factor = rf == -1 ? b->set.default_replication_factor : rf;
        /* v5+: the topic's configs as DescribeConfigs would show them. */
        struct cfg_description d = { 0 };
        cfg_kv *kv = arena_alloc(&rq->arena, (size_t)(ncfg + 1) * sizeof *kv);
        for (int c = 0; kv && c < ncfg; c++)
            kv[c] = (cfg_kv){ cfgs[c].key, cfgs[c].value };
        if (kv && topic_cfg_describe(b->config, kv, (size_t)ncfg, NULL, 0, &d) == 0) {
            create_topics_resp_configs *rc = KARRAY_ALLOC(&rq->arena, &rt->configs, (int32_t)d.n);
            for (size_t c = 0; rc && c < d.n; c++) {
                rc[c].name = kstr_c(d.v[c].name);
                rc[c].value = d.v[c].value ? kstr_c(arena_msg(rq, d.v[c].value)) : (kstr){ NULL, -1 };
                rc[c].read_only = d.v[c].read_only;
                rc[c].config_source = d.v[c].source;
                rc[c].is_sensitive = d.v[c].is_sensitive;
            }
            cfg_description_free(&d);
        }
    }
}

static void respond_job(admin_job *job)
{
    kreq_respond(job->rq, job->arg);
}

/* Cluster mode: CreateTopics answers once every partition of the topics it
 * created has a leader known here (the controller's UpdateMetadata reached
 * this broker), as Kafka's DelayedCreatePartitions does, so a client that
 * produces right after creating finds the leaders; DeleteTopics answers
 * once the controller has deleted the topics (this broker dropped them),
 * as Kafka's DelayedDeleteTopics, so a client may create the name again.
 * Topics not there yet at timeout_ms get REQUEST_TIMED_OUT (the operation
 * still completes later, as in Kafka).  Partition changes wake the wait:
 * UpdateMetadata and the drop both call partition_notify. */
typedef struct topics_wait {
    delayed_op op;
    broker *b;
    void *resp;
    bool deleting;
    topic **topics;              /* referenced; per response entry, NULL = skip */
    int ntopics;
} topics_wait;

static bool topic_settled(const topics_wait *w, topic *t)
{
    if (w->deleting) {
        topic *cur = topic_registry_get_id(&w->b->topics, t->id);
        topic_unref(cur);
        return cur == NULL;
    }
    bool all = true;
    for (int32_t i = 0; all && i < topic_nparts(t); i++) {
        partition_state *st = partition_state_get(topic_partition(t, i));
        all = st && st->leader >= 0;
        pstate_unref(st);
    }
    return all;
}

static bool topics_ready(delayed_op *op)
{
    topics_wait *w = (topics_wait *)op;
    for (int i = 0; i < w->ntopics; i++)
        if (w->topics[i] && !topic_settled(w, w->topics[i]))
            return false;
    return true;
}

static void topics_complete(delayed_op *op, enum delayed_reason why)
{
    topics_wait *w = (topics_wait *)op;
    for (int i = 0; i < w->ntopics; i++) {
        if (!w->topics[i])
            continue;
        if (!topic_settled(w, w->topics[i])) {
            int16_t *code = w->deleting
                                ? &((delete_topics_resp *)w->resp)->responses.v[i].error_code
                                : &((create_topics_resp *)w->resp)->topics.v[i].error_code;
            *code = KERR_REQUEST_TIMED_OUT;
        }
        topic_unref(w->topics[i]);
    }
    if (why == DELAYED_CANCELLED)
        kreq_complete_silently(op->rq);
    else
        kreq_respond(op->rq, w->resp);
}

/* Park rq until the topics named by the successful entries settle;
 * names[i] / codes[i] per response entry. */
static void wait_for_topics(kreq *rq, void *resp, bool deleting, const kstr *names,
                            const int16_t *codes, int32_t n, int32_t timeout_ms)
{
    broker *b = broker_of(rq);
    topics_wait *w = arena_alloc(&rq->arena, sizeof *w);
    topic **ts = arena_alloc(&rq->arena, (size_t)(n + 1) * sizeof *ts);
    int32_t nparts = 0;
    for (int32_t i = 0; ts && i < n; i++) {
        ts[i] = codes[i] || names[i].len < 0
                    ? NULL : topic_registry_get(&b->topics, names[i].p, (size_t)names[i].len);
        nparts += ts[i] ? topic_nparts(ts[i]) : 0;
    }
    partition **parts = ts ? arena_alloc(&rq->arena, (size_t)(nparts + 1) * sizeof *parts) : NULL;
    if (!w || !ts || !parts) {
        for (int32_t i = 0; ts && i < n; i++)
            topic_unref(ts[i]);
        kreq_respond(rq, resp);         /* done; just not waited for */
        return;
    }
    int k = 0;
    for (int32_t i = 0; i < n; i++)
        for (int32_t p = 0; ts[i] && p < topic_nparts(ts[i]) && k < nparts; p++)
            parts[k++] = topic_partition(ts[i], p);
    *w = (topics_wait){ .b = b, .resp = resp, .deleting = deleting, .topics = ts, .ntopics = n };
    w->op.ready = topics_ready;
    w->op.complete = topics_complete;
    delayed_park(&w->op, rq, parts, k, timeout_ms);
}

static void create_topics_done(admin_job *job)
{
    kreq *rq = job->rq;
    create_topics_req *req = rq->body;
    create_topics_resp *r = job->arg;
    kstr *names = arena_alloc(&rq->arena, (size_t)(r->topics.n + 1) * sizeof *names);
    int16_t *codes = arena_alloc(&rq->arena, (size_t)(r->topics.n + 1) * sizeof *codes);
    if (!broker_of(rq)->cluster_mode || req->validate_only || req->timeout_ms <= 0 || !names ||
        !codes) {
        kreq_respond(rq, r);
        return;
    }
    for (int32_t i = 0; i < r->topics.n; i++) {
        names[i] = r->topics.v[i].name;
        codes[i] = r->topics.v[i].error_code;
    }
    wait_for_topics(rq, r, false, names, codes, r->topics.n, req->timeout_ms);
}

static void delete_topics_done(admin_job *job)
{
    kreq *rq = job->rq;
    delete_topics_req *req = rq->body;
    delete_topics_resp *r = job->arg;
    kstr *names = arena_alloc(&rq->arena, (size_t)(r->responses.n + 1) * sizeof *names);
    int16_t *codes = arena_alloc(&rq->arena, (size_t)(r->responses.n + 1) * sizeof *codes);
    if (!broker_of(rq)->cluster_mode || req->timeout_ms <= 0 || !names || !codes) {
        kreq_respond(rq, r);
        return;
    }
    for (int32_t i = 0; i < r->responses.n; i++) {
        names[i] = r->responses.v[i].name;
        codes[i] = r->responses.v[i].error_code;
    }
    wait_for_topics(rq, r, true, names, codes, r->responses.n, req->timeout_ms);
}

void handle_create_topics(kreq *rq)
{
    create_topics_req *req = rq->body;
    /* The response describes each created topic's configs (v5+): ~40
     * entries per topic.  The request-size-based arena cap (plus the
     * fixed response room) may not cover a request naming thousands of
     * topics: budget them per topic (the count is bounded by the request
     * size). */
    if (rq->arena.cap && req->topics.n > 0)
        rq->arena.cap += (size_t)req->topics.n * 16384;
    create_topics_resp *r = kreq_new_response(rq);
    create_topics_resp_topics *ts = r ? KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n) : NULL;
    if (!ts && req->topics.n > 0) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    for (int32_t i = 0; ts && i < req->topics.n; i++) {
        kcodec_defaults(&create_topics_resp_topics_schema, &ts[i]);
        /* As Kafka: no message when the topic was created, and an empty
         * (not null) config list when it was not. */
        ts[i].error_message = (kstr){ NULL, -1 };
        ts[i].configs.n = 0;
    }
    admin_submit(broker_of(rq), rq, create_topics_work, create_topics_done, r);
}

/* ----------------------------------------------------------- DeleteTopics */

static void delete_topics_work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    kreq *rq = job->rq;
    delete_topics_req *req = rq->body;
    delete_topics_resp *r = job->arg;
    bool v6 = rq->hdr.api_version >= 6;
    int32_t n = v6 ? req->topics.n : req->topic_names.n;
    for (int32_t i = 0; i < n; i++) {
        delete_topics_resp_responses *rt = &r->responses.v[i];
        char msg[MSG_LEN] = "";
        kstr name = v6 ? req->topics.v[i].name : req->topic_names.v[i];
        kuuid id = v6 ? req->topics.v[i].topic_id : (kuuid){ { 0 } };
        rt->name = name;
        rt->topic_id = id;
        if (!b->set.delete_topic_enable) {
            rt->error_code = KERR_TOPIC_DELETION_DISABLED;
            rt->error_message = kstr_c("Topic deletion is disabled (delete.topic.enable=false).");
            continue;
        }
        char *cname = NULL;
        if (name.len < 0) {
            topic *t = topic_registry_get_id(&b->topics, id);
            if (!t) {
                rt->error_code = KERR_UNKNOWN_TOPIC_ID;
                continue;
            }
            cname = arena_strndup(&rq->arena, t->name, t->name_len);
            rt->name = kstr_c(cname);
            topic_unref(t);
        } else {
            cname = arena_strndup(&rq->arena, name.p, (size_t)name.len);
        }
        /* docs/security.md, DeleteTopics: Topic DELETE (by id: DESCRIBE too). */
        if (b->authz && cname &&
            ((name.len < 0 && !authz_allowed(b, rq, ACL_OP_DESCRIBE, ACL_RT_TOPIC, cname,
                                             strlen(cname))) ||
             !authz_allowed(b, rq, ACL_OP_DELETE, ACL_RT_TOPIC, cname, strlen(cname)))) {
            rt->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
            if (name.len < 0)
                rt->name = (kstr){ NULL, -1 };
            continue;
        }
        kuuid got = { { 0 } };
        rt->error_code = topic_admin_delete(b, cname, &got, msg, sizeof msg);
        if (rt->error_code)
            rt->error_message = kstr_c(arena_msg(rq, msg));
        else
            rt->topic_id = got;
    }
}

void handle_delete_topics(kreq *rq)
{
    delete_topics_req *req = rq->body;
    delete_topics_resp *r = kreq_new_response(rq);
    int32_t n = rq->hdr.api_version >= 6 ? req->topics.n : req->topic_names.n;
    delete_topics_resp_responses *ts = KARRAY_ALLOC(&rq->arena, &r->responses, n);
    for (int32_t i = 0; ts && i < n; i++)
        kcodec_defaults(&delete_topics_resp_responses_schema, &ts[i]);
    admin_submit(broker_of(rq), rq, delete_topics_work, delete_topics_done, r);
}

/* ------------------------------------------------------- CreatePartitions */

static void create_partitions_work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    kreq *rq = job->rq;
    create_partitions_req *req = rq->body;
    create_partitions_resp *r = job->arg;
    kstr *names = arena_alloc(&rq->arena, (size_t)(req->topics.n + 1) * sizeof *names);
    for (int32_t i = 0; names && i < req->topics.n; i++)
        names[i] = req->topics.v[i].name;
    for (int32_t i = 0; i < req->topics.n; i++) {
        create_partitions_req_topics *qt = &req->topics.v[i];
        create_partitions_resp_results *rt = &r->results.v[i];
        char msg[MSG_LEN] = "";
        rt->name = qt->name;
        if (names && dup_name(names, 0, req->topics.n, i)) {
            rt->error_code = KERR_INVALID_REQUEST;
            rt->error_message = kstr_c("Duplicate topic in request.");
            continue;
        }
        /* docs/security.md, CreatePartitions: Topic ALTER. */
        if (!authz_allowed_k(b, rq, ACL_OP_ALTER, ACL_RT_TOPIC, qt->name)) {
            rt->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
            rt->error_message = kstr_c("Authorization failed.");
            continue;
        }
        bool bad_assign = false;
        for (int32_t a = 0; a < qt->assignments.n; a++) {
            karr_i32 *ids = &qt->assignments.v[a].broker_ids;
            if (ids->n != 1 || ids->v[0] != b->set.node_id)
                bad_assign = true;
        }
        if (bad_assign) {
            rt->error_code = KERR_INVALID_REPLICA_ASSIGNMENT;
            snprintf(msg, sizeof msg, "Each new partition must be assigned to broker %d only.", b->set.node_id);
            rt->error_message = kstr_c(arena_msg(rq, msg));
            continue;
        }
        char *name = arena_strndup(&rq->arena, qt->name.p, (size_t)qt->name.len);
        rt->error_code = topic_admin_add_partitions(b, name, qt->count, req->validate_only, msg, sizeof msg);
        if (rt->error_code)
            rt->error_message = kstr_c(arena_msg(rq, msg));
    }
}

void handle_create_partitions(kreq *rq)
{
    create_partitions_req *req = rq->body;
    create_partitions_resp *r = kreq_new_response(rq);
    create_partitions_resp_results *ts = KARRAY_ALLOC(&rq->arena, &r->results, req->topics.n);
    for (int32_t i = 0; ts && i < req->topics.n; i++)
        kcodec_defaults(&create_partitions_resp_results_schema, &ts[i]);
    admin_submit(broker_of(rq), rq, create_partitions_work, respond_job, r);
}
