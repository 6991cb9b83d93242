/*
 * cluster_mode.c - the broker's life in a ZooKeeper cluster: start its
 * controller candidate with the channel to the brokers, leave the cluster
 * cleanly at shutdown, and come back after a lost ZooKeeper session.
 *
 * Session loss (docs/cluster.md §8): ZooKeeper expired this broker's
 * session, so its registration and, if it was controller, /controller are
 * gone and the rest of the cluster has moved on.  On the admin thread
 * (which also serialises controller requests, so none is applied
 * meanwhile): stop the controller candidate, open a new session and
 * register again (a new broker epoch: orders stamped for the old one are
 * refused, C3), start a new candidate, re-read the topics.  The controller
 * treats the re-registration as a failure followed by a join (C12) and
 * sends this broker a full LeaderAndIsr, which is what re-establishes
 * leadership and following here.
 */
#include "broker/cluster_mode.h"

#include <stdio.h>
#include <time.h>

#include "broker/admin.h"
#include "broker/cluster_topics.h"
#include "broker/controller_link.h"
#include "cluster/controller.h"
#include "cluster/metadata_zk.h"
#include "config/config.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"

#define MOD "cluster"
#define RECONNECT_PAUSE_MS 1000

static int start_controller(broker *b, char *err, size_t errlen)
{
    const struct broker_config *cfg = broker_config_current(b);
    controller_cfg cc = {
        .broker_id = b->set.node_id,
        .unclean_leader_election = cfg->unclean_leader_election_enable,
        .auto_leader_rebalance = cfg->auto_leader_rebalance_enable,
        .imbalance_check_ms = cfg->leader_imbalance_check_interval_seconds * 1000,
        .imbalance_pct = cfg->leader_imbalance_per_broker_percentage,
    };
    snprintf(cc.listener, sizeof cc.listener, "%s", b->set.ib_listener);
    controller_channel ch = controller_link_channel(b->ctl_link);
    b->controller = controller_start(&cc, md_zk_session(b->md), &ch, err, errlen);
    return b->controller ? 0 : -1;
}

int cluster_mode_start(broker *b, char *err, size_t errlen)
{
    /* Inter-broker requests go to the listener this broker serves first
     * (Kafka's inter.broker.listener.name defaults to the same). */
    b->ctl_link = controller_link_new(b->md, b->set.ib_listener, b->ib_sec);
    if (!b->ctl_link) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return start_controller(b, err, errlen);
}

/* On the admin thread, which is the only other user of b->controller
 * (AlterPartition, reconnection): never stopped under a running call. */
static void stop_controller(broker *b, void *arg)
{
    (void)arg;
    controller_stop(b->controller);       /* resigns: /controller goes now */
    b->controller = NULL;
    controller_link_free(b->ctl_link);
    b->ctl_link = NULL;
}

void cluster_mode_leave(broker *b)
{
    cluster_controlled_shutdown(b);       /* leaders move while this broker still answers */
    atomic_store(&b->stopping, true);     /* data requests: NOT_LEADER_OR_FOLLOWER */
    broker_answer_parked(b);              /* and the acks=all ones parked here (C37) */
    admin_run(b, stop_controller, NULL);
    char err[512];
    if (md_zk_leave(b->md, err, sizeof err) < 0)
        LOG_WRN(MOD, "leaving the cluster: %s (the session timeout will remove it)", err);
    else
        LOG_INF(MOD, "left the cluster: /brokers/ids/%d removed", b->set.node_id);
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void reconnect_job(admin_job *job)
{
    broker *b = job->arg;
    if (atomic_load(&b->stopping))
        return;
    controller_stop(b->controller);
    b->controller = NULL;
    char err[768];
    while (md_zk_reconnect(b->md, err, sizeof err) < 0) {
        if (atomic_load(&b->stopping))
            return;
        LOG_WRN(MOD, "ZooKeeper session lost; reconnecting (zookeeper.connect): %s", err);
        sleep_ms(RECONNECT_PAUSE_MS);
    }
    LOG_INF(MOD, "registered again as broker %d (broker epoch %lld)", b->set.node_id,
            (long long)md_zk_broker_epoch(b->md));
    if (start_controller(b, err, sizeof err) < 0)
        LOG_ERR(MOD, "cannot start the controller candidate again: %s", err);
    if (cluster_topics_sync(b, err, sizeof err) < 0)
        LOG_WRN(MOD, "re-reading topics: %s", err);
}

void cluster_session_lost(broker *b)
{
    LOG_WRN(MOD, "the ZooKeeper session of broker %d expired", b->set.node_id);
    if (admin_post(b, reconnect_job, b) < 0)
        LOG_ERR(MOD, "cannot queue the ZooKeeper reconnection (stopping or out of memory)");
}

void cluster_mode_stop(broker *b)
{
    controller_stop(b->controller);
    b->controller = NULL;
    controller_link_free(b->ctl_link);
    b->ctl_link = NULL;
}

bool cluster_controller_active(const broker *b)
{
    return !atomic_load(&b->stopping) && b->controller && controller_is_active(b->controller);
}

bool broker_may_lead(broker *b)
{
    if (atomic_load_explicit(&b->stopping, memory_order_relaxed) ||
        atomic_load_explicit(&b->fenced, memory_order_relaxed))
        return false;
    if (!b->cluster_mode)
        return true;
    int64_t confirmed = md_zk_session_confirmed_ms(b->md);
    return mono_ms() - confirmed <= b->set.zookeeper_session_timeout_ms;
}

int16_t cluster_accept_controller(broker *b, int32_t controller_id, int32_t controller_epoch,
                                  int64_t broker_epoch)
{
    if (controller_epoch < b->controller_epoch) {
        LOG_INF(MOD, "request of controller %d at epoch %d refused: epoch %d seen (C2)",
                controller_id, controller_epoch, b->controller_epoch);
        return KERR_STALE_CONTROLLER_EPOCH;
    }
    if (b->cluster_mode && broker_epoch >= 0 && broker_epoch < md_zk_broker_epoch(b->md)) {
        LOG_INF(MOD, "request of controller %d for broker epoch %lld refused: ours is %lld (C3)",
                controller_id, (long long)broker_epoch, (long long)md_zk_broker_epoch(b->md));
        return KERR_STALE_BROKER_EPOCH;
    }
    b->controller_epoch = controller_epoch;
    atomic_store(&b->controller_id, controller_id);
    /* C13: the controller has heard of this registration: its orders
     * (applied in sequence on this thread) say what this broker leads. */
    if (b->cluster_mode && atomic_load(&b->fenced) && broker_epoch >= 0 &&
        broker_epoch == md_zk_broker_epoch(b->md) && !md_zk_expired(b->md)) {
        atomic_store(&b->fenced, false);
        LOG_INF(MOD, "controller %d knows broker epoch %lld: serving again", controller_id,
                (long long)broker_epoch);
    }
    return KERR_NONE;
}
