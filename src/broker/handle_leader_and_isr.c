/*
 * handle_leader_and_isr.c - LeaderAndIsr (key 4): a controller tells this
 * broker who leads each partition, at which leader epoch, with which
 * replicas and ISR.
 *
 * Today only tests send it (the dispatch row is served only with
 * samsa.test.hooks.enable=true); the ZooKeeper controller of a later issue
 * will use the same path.  Rules, as Kafka's ReplicaManager:
 *   - a controller epoch older than the newest seen refuses the whole
 *     request with STALE_CONTROLLER_EPOCH, applying nothing (M6);
 *   - per partition, a leader epoch older than the partition's is ignored
 *     with STALE_CONTROLLER_EPOCH (M1, kept by partition_set_state);
 *   - a partition whose replicas do not include this broker, or that this
 *     broker does not have, gets UNKNOWN_TOPIC_OR_PARTITION.
 * Replication (docs/replication.md): a partition this broker now follows
 * is handed to the replica fetchers (repl_follow: truncate, then fetch
 * from the leader's endpoint in the live-broker list); one it now leads is
 * taken from them first (repl_unfollow returns once no follower append can
 * run), its followers' positions are forgotten and its high watermark is
 * recomputed from the new ISR (C6).
 * A partition of __consumer_offsets also moves its groups: lead() elects
 * the group coordinator for it, follow() makes it resign (docs/groups.md).
 * LiveLeaders registers each other broker's endpoint in the metadata
 * store's live-broker list (an unnamed endpoint: clients on every listener
 * are sent there), so Metadata and FindCoordinator can name it.  This is
 * the smallest way to have a second broker for tests; the ZooKeeper store
 * will learn live brokers from /brokers/ids instead.
 *
 * The work runs on the admin thread, the single writer of cluster
 * metadata, so concurrent requests apply in a serial order.
 */
#include <stdio.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/authz.h"
#include "broker/broker.h"
#include "broker/cluster_mode.h"
#include "broker/cluster_topics.h"
#include "server/delayed.h"
#include "broker/dispatch.h"
#include "cluster/metadata.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "group/coordinator.h"
#include "txn/txn_coordinator.h"
#include "proto/codec.h"
#include "proto/messages/leader_and_isr.h"
#include "repl/fetcher.h"
#include "storage/partition_log.h"

typedef leader_and_isr_req_partition_state lisr_state;

static void register_live_leaders(broker *b, const leader_and_isr_req *req)
{
    for (int32_t i = 0; i < req->live_leaders.n; i++) {
        const leader_and_isr_req_live_leaders *ll = &req->live_leaders.v[i];
        if (ll->broker_id == b->set.node_id)
            continue;
        md_broker br = { .id = ll->broker_id, .nendpoints = 1 };
        br.ep[0].port = ll->port;
        if (ll->host_name.len < 0 || (size_t)ll->host_name.len >= sizeof br.ep[0].host) {
            LOG_WRN("cluster", "LeaderAndIsr: live leader %d: host name too long; ignored", ll->broker_id);
            continue;
        }
        memcpy(br.ep[0].host, ll->host_name.p, (size_t)ll->host_name.len);
        char err[256];
        if (md_register_broker(b->md, &br, err, sizeof err) < 0)
            LOG_WRN("cluster", "LeaderAndIsr: live leader %d: %s", ll->broker_id, err);
    }
}

static bool has(const karr_i32 *v, int32_t id)
{
    for (int32_t i = 0; i < v->n; i++)
        if (v->v[i] == id)
            return true;
    return false;
}

/* The leader's endpoint: the live-broker list, else the request's
 * LiveLeaders (the list is fed by a ZooKeeper watch that may be behind
 * the controller). */
static bool leader_endpoint(broker *b, const leader_and_isr_req *req, int32_t leader, char *host,
                            size_t cap, int *port)
{
    md_brokers *live = md_live_brokers(b->md);
    const md_broker *br = leader >= 0 ? md_brokers_find(live, leader) : NULL;
    const md_endpoint *ep = br ? md_broker_endpoint_named(br, b->set.ib_listener) : NULL;   /* S-CL5 */
    if (ep) {
        snprintf(host, cap, "%s", ep->host);
        *port = ep->port;
    }
    md_brokers_unref(live);
    for (int32_t i = 0; !ep && i < req->live_leaders.n; i++) {
        const leader_and_isr_req_live_leaders *ll = &req->live_leaders.v[i];
        if (ll->broker_id != leader || ll->host_name.len <= 0 || (size_t)ll->host_name.len >= cap ||
            ll->port <= 0)
            continue;
        memcpy(host, ll->host_name.p, (size_t)ll->host_name.len);
        host[ll->host_name.len] = 0;
        *port = ll->port;
        return true;
    }
    return ep != NULL;
}

/* This broker follows p now: fetch it from its leader's endpoint. */
static void follow(broker *b, const leader_and_isr_req *req, topic *t, partition *p,
                   const lisr_state *ps)
{
    char host[256];
    int port = -1;
    if (!leader_endpoint(b, req, ps->leader, host, sizeof host, &port)) {
        repl_unfollow(b->fetchers, p);
        if (ps->leader >= 0)
            LOG_WRN("cluster", "%s-%d: leader %d is not a live broker; not fetching", t->name,
                    ps->partition_index, ps->leader);
    } else if (repl_follow(b->fetchers, t, p, ps->leader, host, port, ps->leader_epoch) < 0) {
        LOG_WRN("cluster", "%s-%d: cannot start fetching from leader %d", t->name,
                ps->partition_index, ps->leader);
    }
    if (!strcmp(t->name, OFFSETS_TOPIC))
        coordinator_resign(b->coord, ps->partition_index, ps->leader_epoch);   /* groups.md G11 */
    else if (!strcmp(t->name, TXN_TOPIC))
        txn_coordinator_resign(b->txn, ps->partition_index, ps->leader_epoch);   /* transactions.md TC8 */
}

/* This broker leads p now (state installed): a new leadership forgets
 * the followers' positions and starts its epoch in the log; the HW
 * follows the new ISR (C6). */
static void lead(broker *b, partition *p, bool new_leadership, int32_t epoch)
{
    if (new_leadership) {
        replica_progress_reset(&p->progress);
        plog_assign_leader_epoch(p->log, epoch);
    }
    partition_advance_hw(p, b->set.node_id);
    if (!strcmp(p->topic->name, OFFSETS_TOPIC))
        coordinator_elect(b->coord, p->index, epoch);   /* groups.md G11 */
    else if (!strcmp(p->topic->name, TXN_TOPIC))
        txn_coordinator_elect(b->txn, p->index, epoch);   /* transactions.md TC8 */
}

/* Apply one partition's state; the partition error. */
static int16_t apply(broker *b, const leader_and_isr_req *req, kstr topic_name,
                     const lisr_state *ps)
{
    if (!has(&ps->replicas, b->set.node_id))
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    topic *t = topic_name.len >= 0 ? topic_registry_get(&b->topics, topic_name.p, (size_t)topic_name.len) : NULL;
    partition *p = t ? topic_partition(t, ps->partition_index) : NULL;
    int16_t err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
    /* C26: assigned here by the controller but not by the assignment this
     * broker read (a reassignment adds this broker): the log is created
     * now, before the state that makes it a follower is installed. */
    if (p && b->cluster_mode && !cluster_replica_hosted(b, p) &&
        cluster_replica_open(b, t, p) < 0) {
        LOG_WRN("cluster", "LeaderAndIsr for %s-%d: cannot create the local log", t->name,
                ps->partition_index);
        err = KERR_KAFKA_STORAGE_ERROR;
    } else if (p && !p->log) {
        LOG_WRN("cluster", "LeaderAndIsr for %s-%d: no local log here", t->name, ps->partition_index);
        err = KERR_KAFKA_STORAGE_ERROR;
    } else if (p) {
        pstate_spec spec = { .leader = ps->leader, .leader_epoch = ps->leader_epoch,
                             .partition_epoch = ps->partition_epoch,
                             .controller_epoch = ps->controller_epoch,
                             .replicas = ps->replicas.v, .nreplicas = ps->replicas.n,
                             .isr = ps->isr.v, .nisr = ps->isr.n };
        partition_state *st = pstate_new(&spec);
        partition_state *old = partition_state_get(p);
        bool here = ps->leader == b->set.node_id;
        bool newer = !old || ps->leader_epoch >= old->leader_epoch;
        bool new_leadership = !old || old->leader != ps->leader || old->leader_epoch != ps->leader_epoch;
        /* The same leadership with an older partition epoch: a delayed
         * request, older than an ISR change the leader already installed
         * from its AlterPartition answer.  Ignored, or it would undo it. */
        bool stale_isr = old && ps->leader_epoch == old->leader_epoch &&
                         ps->partition_epoch < old->partition_epoch;
        pstate_unref(old);
        if (stale_isr) {
            pstate_unref(st);
            st = NULL;
            err = KERR_STALE_CONTROLLER_EPOCH;
        }
        if (st && here && newer && p->log)
            repl_unfollow(b->fetchers, p);   /* no follower append once we serve as leader */
        if (st)
            err = partition_set_state(p, st);   /* M2 */
        else if (!stale_isr)
            err = KERR_INVALID_REQUEST;
        if (err == KERR_STALE_CONTROLLER_EPOCH)
            LOG_INF("cluster", "LeaderAndIsr for %s-%d ignored: leader epoch %d (partition epoch "
                    "%d) is older than ours", t->name, ps->partition_index, ps->leader_epoch,
                    ps->partition_epoch);
        if (!err && p->log) {
            if (here)
                lead(b, p, new_leadership, ps->leader_epoch);
            else
                follow(b, req, t, p, ps);
        }
        if (!err)
            partition_notify(p);         /* parked requests re-check the partition */
    }
    topic_unref(t);
    return err;
}

/* Each partition state of the request with its response entry, in
 * request order (v0-1 ungrouped, v2+ per topic). */
typedef struct lisr_item {
    kstr topic_name;
    const lisr_state *ps;
    int16_t *error;
} lisr_item;

typedef struct lisr_job {
    leader_and_isr_resp *resp;
    lisr_item *items;
    int32_t n;
} lisr_job;

/* Cluster mode: a topic or partition the controller names that this
 * broker has not read from ZooKeeper yet (its watch is behind the
 * controller, or partitions were added: no broker watches a topic's
 * znode data) is read now, once per request. */
static void learn_topics(broker *b, const lisr_job *lj)
{
    for (int32_t i = 0; i < lj->n; i++) {
        kstr n = lj->items[i].topic_name;
        topic *t = n.len >= 0 ? topic_registry_get(&b->topics, n.p, (size_t)n.len) : NULL;
        bool known = t && lj->items[i].ps->partition_index < topic_nparts(t);
        topic_unref(t);
        if (known)
            continue;
        char err[512];
        if (cluster_topics_sync(b, err, sizeof err) < 0)
            LOG_WRN("cluster", "LeaderAndIsr: reading topics from ZooKeeper: %s", err);
        return;
    }
}

static void work(admin_job *job)
{
    broker *b = broker_of(job->rq);
    leader_and_isr_req *req = job->rq->body;
    lisr_job *lj = job->arg;
    int16_t fenced = cluster_accept_controller(b, req->controller_id, req->controller_epoch,
                                               req->broker_epoch);
    if (fenced) {
        lj->resp->error_code = fenced;      /* M6, C2, C3: nothing applied */
        for (int32_t i = 0; i < lj->n; i++)
            *lj->items[i].error = fenced;
        return;
    }
    if (b->cluster_mode)
        learn_topics(b, lj);
    else
        register_live_leaders(b, req);      /* test hook: no ZooKeeper to list them */
    for (int32_t i = 0; i < lj->n; i++)
        *lj->items[i].error = apply(b, req, lj->items[i].topic_name, lj->items[i].ps);
}

static void done(admin_job *job)
{
    lisr_job *lj = job->arg;
    kreq_respond(job->rq, lj->resp);
}

/* Lay out the response (v0-4: one flat list; v5+: per topic id) on the
 * request's thread; the admin thread only fills in error codes. */
void handle_leader_and_isr(kreq *rq)
{
    AUTHZ_CLUSTER_OR_REFUSE(rq, ACL_OP_CLUSTER_ACTION, leader_and_isr_resp);   /* docs/security.md, LeaderAndIsr */
    leader_and_isr_req *req = rq->body;
    int ver = rq->hdr.api_version;
    leader_and_isr_resp *r = kreq_new_response(rq);
    lisr_job *lj = arena_alloc(&rq->arena, sizeof *lj);
    int32_t total = req->ungrouped_partition_states.n > 0 ? req->ungrouped_partition_states.n : 0;
    for (int32_t i = 0; i < req->topic_states.n; i++)
        total += req->topic_states.v[i].partition_states.n;
    lisr_item *items = arena_alloc(&rq->arena, (size_t)(total + 1) * sizeof *items);
    leader_and_isr_resp_partition_errors *flat =
        ver < 5 ? KARRAY_ALLOC(&rq->arena, &r->partition_errors, total) : NULL;
    leader_and_isr_resp_topics *ts =
        ver >= 5 ? KARRAY_ALLOC(&rq->arena, &r->topics, req->topic_states.n) : NULL;
    if (!r || !lj || !items || (ver < 5 && total > 0 && !flat) ||
        (ver >= 5 && req->topic_states.n > 0 && !ts)) {
        kreq_fail_close(rq, "out of memory");
        return;
    }
    int32_t n = 0;
    for (int32_t i = 0; i < req->ungrouped_partition_states.n; i++) {
        const lisr_state *ps = &req->ungrouped_partition_states.v[i];
        flat[n] = (leader_and_isr_resp_partition_errors){ .topic_name = ps->topic_name,
                                                         .partition_index = ps->partition_index };
        items[n] = (lisr_item){ ps->topic_name, ps, &flat[n].error_code };
        n++;
    }
    for (int32_t i = 0; i < req->topic_states.n; i++) {
        const leader_and_isr_req_topic_states *tst = &req->topic_states.v[i];
        leader_and_isr_resp_partition_errors *pe = flat ? flat + n : NULL;
        if (ts) {
            ts[i].topic_id = tst->topic_id;
            pe = KARRAY_ALLOC(&rq->arena, &ts[i].partition_errors, tst->partition_states.n);
            if (!pe && tst->partition_states.n > 0) {
                kreq_fail_close(rq, "out of memory");
                return;
            }
        }
        for (int32_t j = 0; j < tst->partition_states.n; j++) {
            const lisr_state *ps = &tst->partition_states.v[j];
            pe[j] = (leader_and_isr_resp_partition_errors){ .topic_name = tst->topic_name,
                                                           .partition_index = ps->partition_index };
            items[n++] = (lisr_item){ tst->topic_name, ps, &pe[j].error_code };
        }
    }
    *lj = (lisr_job){ .resp = r, .items = items, .n = n };
    admin_submit(broker_of(rq), rq, work, done, lj);
}
