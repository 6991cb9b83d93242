/*
 * controlled_shutdown.c - the broker's half of Kafka's controlled
 * shutdown (docs/cluster.md, "Controlled shutdown"): on SIGTERM, before
 * the clean leave (cluster_mode_leave), ask the controller to move every
 * leadership away from this broker, so producers and consumers switch to
 * the new leaders while this broker still answers (with
 * NOT_LEADER_OR_FOLLOWER, retriable) instead of after its registration
 * disappears.
 *
 * Steps (main thread, cluster_controlled_shutdown):
 *   1. Find the controller: /controller in ZooKeeper.
 *   2. This broker is the controller: call it directly (on the admin
 *      thread, which owns b->controller); else ControlledShutdown v3 (our
 *      broker id and broker epoch) to its endpoint over the inter-broker
 *      listener (rpc/kclient), connect and answer within
 *      controller.socket.timeout.ms.
 *   3. Done when the answer is NONE with no partition remaining.
 *      Otherwise (no controller, unreachable, an error, partitions still
 *      led here: no other eligible ISR member) wait
 *      controlled.shutdown.retry.backoff.ms and try again, at most
 *      controlled.shutdown.max.retries attempts in all; then leave anyway.
 *      Unlike Kafka, partitions remaining none of whose other replicas is
 *      live end the retries at once: no wait can move them (the last
 *      broker of a cluster stopped one by one would wait retries x
 *      backoff for nothing).
 *   4. When this broker is the controller, give its sender threads a
 *      moment (bounded) to deliver the LeaderAndIsr requests it just
 *      queued before it resigns (resigning drops them; the next
 *      controller would resend them only after its election).
 * C32: the whole sequence is bounded: attempts x (call bound + backoff),
 * each ZooKeeper read bounded by the session's own timeouts, so a lost
 * controller cannot hold SIGTERM forever.
 */
#include "broker/cluster_mode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/admin.h"
#include "broker/broker.h"
#include "broker/controller_link.h"
#include "cluster/controller.h"
#include "cluster/metadata_zk.h"
#include "cluster/zk_layout.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/controlled_shutdown.h"
#include "rpc/kclient.h"

#define MOD "cluster"
#define CS_VERSION 3
#define CS_MAX_RESPONSE (4u << 20)
#define LINK_DRAIN_MS 2000

/* The controller's id from /controller; -1 when none or unreadable. */
static int32_t find_controller(broker *b)
{
    char *data, err[160];
    size_t len;
    int32_t id = -1;
    zk_session *zs = md_zk_session(b->md);
    if (!zs || zk_get(zs, ZK_PATH_CONTROLLER, false, &data, &len, NULL) != ZKR_OK)
        return -1;
    if (zkl_controller_decode(data, len, &id, err, sizeof err) < 0)
        id = -1;
    free(data);
    return id;
}

/* Could partition `topic`-`part`, still led here, move if we waited: is
 * one of its other replicas live? */
static bool movable(broker *b, const char *topic_name, size_t len, int32_t part, md_brokers *live)
{
    bool any = false;
    topic *t = topic_registry_get(&b->topics, topic_name, len);
    partition *p = t && part >= 0 && part < topic_nparts(t) ? topic_partition(t, part) : NULL;
    partition_state *st = p ? partition_state_get(p) : NULL;
    for (int32_t i = 0; st && i < st->nreplicas && !any; i++)
        any = st->replicas[i] != b->set.node_id && live && md_brokers_find(live, st->replicas[i]);
    pstate_unref(st);
    topic_unref(t);
    return any || !p;            /* unknown here: let the controller decide */
}

typedef struct local_call {
    int16_t err;
    int nremaining;
    bool movable;                /* one of them could move */
} local_call;

/* Admin thread: b->controller is replaced and stopped there only. */
static void call_local(broker *b, void *arg)
{
    local_call *lc = arg;
    controller_tp *rem = NULL;
    lc->err = KERR_NOT_CONTROLLER;
    lc->nremaining = 0;
    lc->movable = false;
    if (!b->controller || !controller_is_active(b->controller))
        return;
    lc->err = controller_controlled_shutdown(b->controller, b->set.node_id,
                                             md_zk_broker_epoch(b->md), &rem, &lc->nremaining);
    md_brokers *live = md_live_brokers(b->md);
    lc->movable = false;
    for (int i = 0; i < lc->nremaining; i++) {
        if (i < 5)
            LOG_INF(MOD, "controlled shutdown: still leading %s-%d", rem[i].topic, rem[i].partition);
        lc->movable = lc->movable || movable(b, rem[i].topic, strlen(rem[i].topic),
                                             rem[i].partition, live);
    }
    if (live)
        md_brokers_unref(live);
    controller_tps_free(rem, lc->nremaining);
}

/* ControlledShutdown to broker cid; the error (KERR__IO when unreachable),
 * the partitions remaining and whether one of them could move. */
static int16_t call_remote(broker *b, int32_t cid, int timeout_ms, int *nremaining,
                           bool *can_move)
{
    char host[256], err[512];
    int port = -1;
    md_brokers *live = md_live_brokers(b->md);
    const md_broker *br = live ? md_brokers_find(live, cid) : NULL;
    const md_endpoint *ep = br ? md_broker_endpoint_named(br, b->set.ib_listener) : NULL;   /* S-CL5 */
    if (ep) {
        snprintf(host, sizeof host, "%s", ep->host);
        port = ep->port;
    }
    if (live)
        md_brokers_unref(live);
    if (port < 0)
        return KERR_NOT_CONTROLLER;
    kclient kc;
    kclient_init(&kc, "samsa-shutdown", CS_MAX_RESPONSE);
    kclient_set_security(&kc, b->ib_sec);   /* S-CL4 */
    int64_t deadline = mono_ms() + timeout_ms;
    if (kclient_connect(&kc, host, port, timeout_ms, err, sizeof err) != 0) {
        LOG_WRN(MOD, "controlled shutdown: controller %d: %s", cid, err);
        return KERR__IO;
    }
    controlled_shutdown_req req;
    controlled_shutdown_resp resp;
    kcodec_defaults(&controlled_shutdown_req_schema, &req);
    memset(&resp, 0, sizeof resp);
    req.broker_id = b->set.node_id;
    req.broker_epoch = md_zk_broker_epoch(b->md);
    arena ar;
    arena_init(&ar, 0);
    int left = (int)(deadline - mono_ms());
    int16_t rc = (int16_t)kclient_call(&kc, CONTROLLED_SHUTDOWN_API_KEY, CS_VERSION, &req, &ar,
                                       &resp, left > 1 ? left : 1, err, sizeof err);
    if (rc != 0) {
        LOG_WRN(MOD, "controlled shutdown: controller %d: %s", cid, err);
    } else {
        rc = resp.error_code;
        *nremaining = resp.remaining_partitions.n > 0 ? resp.remaining_partitions.n : 0;
        md_brokers *now_live = md_live_brokers(b->md);
        for (int32_t i = 0; i < *nremaining; i++) {
            const controlled_shutdown_resp_remaining *r = &resp.remaining_partitions.v[i];
            size_t nlen = r->topic_name.len > 0 ? (size_t)r->topic_name.len : 0;
            if (i < 5)
                LOG_INF(MOD, "controlled shutdown: still leading %.*s-%d", (int)nlen,
                        r->topic_name.p, r->partition_index);
            *can_move = *can_move ||
                        movable(b, r->topic_name.p, nlen, r->partition_index, now_live);
        }
        if (now_live)
            md_brokers_unref(now_live);
    }
    arena_reset(&ar);
    kclient_close(&kc);
    return rc;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

void cluster_controlled_shutdown(broker *b)
{
    const struct broker_config *cfg = broker_config_current(b);
    if (!cfg->controlled_shutdown_enable)
        return;
    int attempts = cfg->controlled_shutdown_max_retries;
    int64_t started = mono_ms();
    for (int attempt = 1; attempt <= attempts; attempt++) {
        int32_t cid = find_controller(b);
        int16_t err;
        int nremaining = 0;
        bool can_move = false;
        bool self = cid == b->set.node_id;
        if (cid < 0) {
            err = KERR_NOT_CONTROLLER;
        } else if (self) {
            local_call lc = { .err = KERR_NOT_CONTROLLER };
            admin_run(b, call_local, &lc);
            err = lc.err;
            nremaining = lc.nremaining;
            can_move = lc.movable;
        } else {
            err = call_remote(b, cid, cfg->controller_socket_timeout_ms, &nremaining, &can_move);
        }
        if (err == KERR_NONE && nremaining == 0) {
            LOG_INF(MOD, "controlled shutdown succeeded (controller %d%s, attempt %d, %lld ms)",
                    cid, self ? ", this broker" : "", attempt, (long long)(mono_ms() - started));
            if (self && b->ctl_link)
                controller_link_drain(b->ctl_link, LINK_DRAIN_MS);
            return;
        }
        if (err == KERR_NONE && !can_move) {
            LOG_INF(MOD, "controlled shutdown: %d partition(s) remain led here with no other live "
                    "replica; leaving without retrying (%lld ms)", nremaining,
                    (long long)(mono_ms() - started));
            return;
        }
        LOG_WRN(MOD, "controlled shutdown attempt %d of %d: %s%s", attempt, attempts,
                err ? kerr_name(err) : "partitions remain led here",
                cid < 0 ? " (no controller)" : "");
        if (attempt < attempts)
            sleep_ms(cfg->controlled_shutdown_retry_backoff_ms);
    }
    LOG_WRN(MOD, "controlled shutdown did not complete after %d attempts (%lld ms): leaving anyway",
            attempts, (long long)(mono_ms() - started));
}
