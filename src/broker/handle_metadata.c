/*
 * handle_metadata.c - Metadata (key 3): brokers, cluster id, controller and
 * topics with their partitions, topic ids (v10+).
 *
 * Topics named in the request that do not exist are created with the
 * broker defaults when auto.create.topics.enable is on and the client
 * allows it (v4+ allow_auto_topic_creation; always for v0-3, as Kafka).
 * Creation runs on the admin worker; the response is built when it is
 * done.  A newly created topic is returned with NONE and full partition
 * data, because creation here is synchronous (Kafka would say
 * LEADER_NOT_AVAILABLE until its controller caught up).
 *
 * v12+ asks by topic id when any requested topic has a non-zero id: then,
 * as Kafka, only the ids count (the Java client sends an empty name beside
 * each id), each known id is answered with its topic and an unknown one
 * with UNKNOWN_TOPIC_ID and a null name, and nothing is auto-created.
 *
 * Brokers are the live brokers of the metadata store; each partition's
 * leader, epoch, replicas, ISR and offline replicas are its current state
 * (cluster/partition_state.h).  A partition whose leader is not live (or
 * that has no state) is LEADER_NOT_AVAILABLE with leader -1, as Kafka.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/dispatch.h"
#include "broker/lookup.h"
#include "cluster/metadata.h"
#include "core/errors.h"
#include "core/strmap.h"
#include "group/coordinator.h"
#include "proto/codec.h"
#include "proto/messages/metadata.h"

/* include_topic_authorized_operations: the operations this principal may
 * perform on the topic (every one a topic supports without an
 * authorizer), as a bit field of AclOperation codes; INT32_MIN when the
 * client did not ask. */
static int32_t topic_operations(const kreq *rq, const topic *t)
{
    const metadata_req *req = rq->body;
    return req->include_topic_authorized_operations
               ? authz_ops(broker_of(rq), rq, ACL_RT_TOPIC, t->name, t->name_len)
               : INT32_MIN;
}

/* docs/security.md, Metadata: a topic without DESCRIBE is hidden from
 * "all topics" and TOPIC_AUTHORIZATION_FAILED when named. */
static bool may_describe(broker *b, const kreq *rq, const char *name, size_t len)
{
    return authz_allowed(b, rq, ACL_OP_DESCRIBE, ACL_RT_TOPIC, name, len);
}

/* Auto-creation needs CREATE on the Cluster or on the topic. */
static bool may_create(broker *b, const kreq *rq, kstr name)
{
    return !b->authz || authz_cluster(b, rq, ACL_OP_CREATE) ||
           authz_allowed_k(b, rq, ACL_OP_CREATE, ACL_RT_TOPIC, name);
}

/* false if the arena ran out: the caller fails the request rather than
 * answer with a topic whose partitions are missing. */
static bool copy_ids(kreq *rq, karr_i32 *dst, const int32_t *src, int32_t n)
{
    int32_t *v = KARRAY_ALLOC(&rq->arena, dst, n);
    if (!v && n > 0)
        return false;
    for (int32_t i = 0; i < n; i++)
        v[i] = src[i];
    return true;
}

/* Offline replicas: the assigned replicas whose broker is not live now
 * (what Kafka's controller puts in UpdateMetadata), from this broker's own
 * live-broker list, so every broker answers the same whoever leads. */
static bool offline_ids(kreq *rq, karr_i32 *dst, const partition_state *st, const md_brokers *live)
{
    int32_t n = 0;
    for (int32_t i = 0; st && i < st->nreplicas; i++)
        n += !md_brokers_find(live, st->replicas[i]);
    int32_t *v = KARRAY_ALLOC(&rq->arena, dst, n);
    if (!v && n > 0)
        return false;
    for (int32_t i = 0, k = 0; st && i < st->nreplicas; i++)
        if (!md_brokers_find(live, st->replicas[i]))
            v[k++] = st->replicas[i];
    return true;
}

static bool fill_partitions(kreq *rq, metadata_resp_topics *rt, topic *t, const md_brokers *live)
{
    broker *b = broker_of(rq);
    int32_t n = topic_nparts(t);
    metadata_resp_partitions *ps = KARRAY_ALLOC(&rq->arena, &rt->partitions, n);
    if (!ps && n > 0)
        return false;
    bool ok = true;
    for (int32_t i = 0; ok && ps && i < n; i++) {
        partition *p = topic_partition(t, i);
        partition_state *st = p ? partition_state_get(p) : NULL;
        metadata_resp_partitions *rp = &ps[i];
        rp->partition_index = i;
        rp->leader_id = st && md_brokers_find(live, st->leader) ? st->leader : -1;
        if (rp->leader_id == b->set.node_id && !broker_may_lead(b))
            rp->leader_id = -1;          /* C13: not a leader clients should use now */
        rp->error_code = rp->leader_id < 0 ? KERR_LEADER_NOT_AVAILABLE : KERR_NONE;
        rp->leader_epoch = st ? st->leader_epoch : -1;
        ok = copy_ids(rq, &rp->replica_nodes, st ? st->replicas : NULL, st ? st->nreplicas : 0) &&
             copy_ids(rq, &rp->isr_nodes, st ? st->isr : NULL, st ? st->nisr : 0) &&
             offline_ids(rq, &rp->offline_replicas, st, live);
        pstate_unref(st);
    }
    return ok;
}

static bool fill_topic(kreq *rq, metadata_resp_topics *rt, topic *t, const md_brokers *live)
{
    rt->error_code = KERR_NONE;
    rt->name = (kstr){ t->name, (int32_t)t->name_len };
    rt->topic_id = t->id;
    rt->is_internal = t->internal;
    rt->topic_authorized_operations = topic_operations(rq, t);
    return fill_partitions(rq, rt, t, live);
}

/* Answer or, if the response did not fit in memory, close. */
static void finish(kreq *rq, metadata_resp *r, bool complete)
{
    if (complete)
        kreq_respond(rq, r);
    else
        kreq_fail_close(rq, "Metadata response does not fit in the request's memory cap");
}

/* Does this request name its topics by id (v12+, any non-zero id)? */
static bool by_topic_id(const kreq *rq, const metadata_req *req)
{
    if (rq->hdr.api_version < 12)
        return false;
    for (int32_t i = 0; i < req->topics.n; i++)
        if (!kuuid_is_zero(req->topics.v[i].topic_id))
            return true;
    return false;
}

static void build_response(kreq *rq)
{
    broker *b = broker_of(rq);
    metadata_req *req = rq->body;
    metadata_resp *r = kreq_new_response(rq);
    broker_view *views;
    int nb = lookup_live_brokers(b, rq, &views);
    metadata_resp_brokers *br = nb > 0 ? KARRAY_ALLOC(&rq->arena, &r->brokers, nb) : NULL;
    for (int i = 0; br && i < nb; i++)
        br[i] = (metadata_resp_brokers){ .node_id = views[i].id, .host = views[i].host,
                                         .port = views[i].port, .rack = views[i].rack };
    if (!br) {
        finish(rq, r, false);
        return;
    }
    md_brokers *live = md_live_brokers(b->md);
    r->cluster_id = kstr_c(b->cluster_id);
    r->controller_id = atomic_load(&b->controller_id);
    if (req->include_cluster_authorized_operations && rq->hdr.api_version <= 10)
        r->cluster_authorized_operations =
            authz_ops(b, rq, ACL_RT_CLUSTER, ACL_CLUSTER_NAME, sizeof ACL_CLUSTER_NAME - 1);

    /* v0: empty array means all topics; v1+: null means all topics. */
    bool all = req->topics.n < 0 || (rq->hdr.api_version == 0 && req->topics.n == 0);
    if (all) {
        topic **list = NULL;
        int n = topic_registry_list(&b->topics, &list);
        metadata_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, n > 0 ? n : 0);
        bool ok = ts || n <= 0;
        int32_t shown = 0;
        for (int i = 0; ok && i < n; i++)
            if (may_describe(b, rq, list[i]->name, list[i]->name_len))
                ok = fill_topic(rq, &ts[shown++], list[i], live);
        if (ts)
            r->topics.n = shown;
        if (n >= 0)
            topic_registry_list_free(list, n);
        md_brokers_unref(live);
        finish(rq, r, ok);
        return;
    }
    /* Like Kafka (a set of names), a topic named twice is answered once. */
    metadata_resp_topics *ts = KARRAY_ALLOC(&rq->arena, &r->topics, req->topics.n);
    bool ok = ts || req->topics.n <= 0;
    strmap seen;
    strmap_init(&seen);
    int32_t k = 0;
    bool ids = by_topic_id(rq, req);
    for (int32_t i = 0; ok && i < req->topics.n; i++) {
        metadata_req_topics *qt = &req->topics.v[i];
        if (ids) {
            /* By id: entries without one are not answered; each id once. */
            int err = 0;
            if (kuuid_is_zero(qt->topic_id) || strmap_get(&seen, (const char *)qt->topic_id.b, 16))
                continue;
            strmap_put(&seen, (const char *)qt->topic_id.b, 16, (void *)1, &err);
        } else if (qt->name.len >= 0) {
            int err = 0;
            if (strmap_get(&seen, qt->name.p, (size_t)qt->name.len))
                continue;
            strmap_put(&seen, qt->name.p, (size_t)qt->name.len, (void *)1, &err);
        }
        metadata_resp_topics *rt = &ts[k++];
        rt->topic_authorized_operations = INT32_MIN;
        topic *t = NULL;
        if (ids)
            t = topic_registry_get_id(&b->topics, qt->topic_id);
        else if (qt->name.len >= 0)
            t = topic_registry_get(&b->topics, qt->name.p, (size_t)qt->name.len);
        else if (!kuuid_is_zero(qt->topic_id))
            t = topic_registry_get_id(&b->topics, qt->topic_id);
        bool described = t ? may_describe(b, rq, t->name, t->name_len)
                           : ids || qt->name.len < 0 || authz_allowed_k(b, rq, ACL_OP_DESCRIBE,
                                                                  ACL_RT_TOPIC, qt->name);
        if (t && described) {
            ok = fill_topic(rq, rt, t, live);
            topic_unref(t);
            continue;
        }
        if (t)
            topic_unref(t);
        rt->name = ids ? (kstr){ NULL, -1 } : qt->name;
        rt->topic_id = qt->topic_id;
        const char *why;
        bool auto_create = (rq->hdr.api_version < 4 || req->allow_auto_topic_creation) &&
                           b->set.auto_create_topics;
        if (!described || (!ids && qt->name.len >= 0 && auto_create &&
                           topic_name_valid(qt->name.p, (size_t)qt->name.len, &why) &&
                           !may_create(b, rq, qt->name)))
            rt->error_code = KERR_TOPIC_AUTHORIZATION_FAILED;
        else if (ids)
            rt->error_code = KERR_UNKNOWN_TOPIC_ID;
        else if (qt->name.len >= 0 && !topic_name_valid(qt->name.p, (size_t)qt->name.len, &why))
            rt->error_code = KERR_INVALID_TOPIC_EXCEPTION;
        else if (qt->name.len < 0)
            rt->error_code = KERR_UNKNOWN_TOPIC_ID;
        else
            rt->error_code = KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    strmap_free(&seen);
    md_brokers_unref(live);
    if (ts)
        r->topics.n = k;
    finish(rq, r, ok);
}

/* Requested topic i if it should be auto-created: valid name, missing,
 * and the principal may describe and create it. */
static bool wants_creation(broker *b, const kreq *rq, const metadata_req *req, int32_t i)
{
    kstr n = req->topics.v[i].name;
    const char *why;
    if (n.len < 0 || !topic_name_valid(n.p, (size_t)n.len, &why) ||
        !may_describe(b, rq, n.p, (size_t)n.len) || !may_create(b, rq, n))
        return false;
    topic *t = topic_registry_get(&b->topics, n.p, (size_t)n.len);
    if (t)
        topic_unref(t);
    return t == NULL;
}

/* Runs on the admin worker: create the missing, valid, requested topics. */
static void auto_create(admin_job *job)
{
    broker *b = broker_of(job->rq);
    metadata_req *req = job->rq->body;
    for (int32_t i = 0; i < req->topics.n; i++) {
        if (!wants_creation(b, job->rq, req, i))
            continue;
        kstr n = req->topics.v[i].name;
        char msg[256];
        char *name = strndup(n.p, (size_t)n.len);
        if (name && !strcmp(name, OFFSETS_TOPIC))
            topic_admin_ensure_offsets_topic(b, msg, sizeof msg);   /* internal settings */
        else if (name)
            topic_admin_create(b, name, b->set.num_partitions, b->set.default_replication_factor,
                               NULL, 0, false, NULL, msg, sizeof msg);
        free(name);
    }
}

static void auto_create_done(admin_job *job)
{
    build_response(job->rq);
}

void handle_metadata(kreq *rq)
{
    broker *b = broker_of(rq);
    metadata_req *req = rq->body;
    bool allow = rq->hdr.api_version < 4 || req->allow_auto_topic_creation;
    if (allow && b->set.auto_create_topics && !by_topic_id(rq, req)) {
        for (int32_t i = 0; i < req->topics.n; i++) {
            if (wants_creation(b, rq, req, i)) {
                admin_submit(b, rq, auto_create, auto_create_done, NULL);
                return;
            }
        }
    }
    build_response(rq);
}
