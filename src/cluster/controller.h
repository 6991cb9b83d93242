/*
 * controller.h - Kafka's ZooKeeper-mode controller: one broker at a time
 * holds the ephemeral /controller znode and, alone, decides and writes
 * every partition's leader and ISR, then tells the brokers with
 * LeaderAndIsr, UpdateMetadata and StopReplica.
 *
 * A module with its own thread and event queue, independent of the
 * broker's network code.  ZooKeeper watches (taken through zk_session's
 * listeners) and AlterPartition calls become events, handled one at a time
 * to completion on the controller thread; nothing else touches its state.
 * The state machine, the events and the rules (C1...) are in
 * docs/controller.md and beside the code in controller.c.
 *
 * The controller talks to brokers only through a controller_channel, so
 * tests record what it sends and the broker plugs in its kclient senders.
 */
#ifndef SAMSA_CLUSTER_CONTROLLER_H
#define SAMSA_CLUSTER_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/zk_layout.h"
#include "cluster/zk_session.h"
#include "proto/messages/leader_and_isr.h"
#include "proto/messages/stop_replica.h"
#include "proto/messages/update_metadata.h"

typedef struct controller_cfg {
    int32_t broker_id;                 /* this broker's broker.id */
    bool unclean_leader_election;      /* unclean.leader.election.enable (broker default) */
    bool auto_leader_rebalance;        /* auto.leader.rebalance.enable */
    int64_t imbalance_check_ms;        /* leader.imbalance.check.interval.seconds * 1000 */
    int imbalance_pct;                 /* leader.imbalance.per.broker.percentage */
    /* The inter-broker listener name: LiveLeaders carry each leader's
     * endpoint on it (Kafka: broker.endPoint(interBrokerListenerName)). */
    char listener[64];
} controller_cfg;

/* How the controller reaches brokers.  Called on the controller thread;
 * the request and everything it points to live only for the call (copy or
 * encode it before returning) and must not block for long (queue it to a
 * per-broker sender).  Requests are filled in the newest layout (grouped
 * topic_states; LeaderAndIsr partition states also carry topic_name), and
 * stamped with the controller id, controller epoch and the target's broker
 * epoch (the czxid of its /brokers/ids/N).  A request that cannot be
 * delivered is dropped: the broker gets a full LeaderAndIsr when it
 * registers again. */
typedef struct controller_channel {
    void *ctx;
    void (*leader_and_isr)(void *ctx, int32_t broker_id, const leader_and_isr_req *req);
    void (*update_metadata)(void *ctx, int32_t broker_id, const update_metadata_req *req);
    void (*stop_replica)(void *ctx, int32_t broker_id, const stop_replica_req *req);
} controller_channel;

typedef struct controller controller;

/* Start the controller thread, which at once runs for election.  zs stays
 * owned by the caller and must outlive controller_stop.  NULL (with err)
 * when out of memory or zs has no room for another listener. */
controller *controller_start(const controller_cfg *cfg, zk_session *zs,
                             const controller_channel *ch, char *err, size_t errlen);
/* Resign (delete /controller if it is ours), join the thread, free. */
void controller_stop(controller *c);

/* Any thread. */
bool controller_is_active(const controller *c);
/* The epoch this controller won with (0 before it first won). */
int32_t controller_epoch(const controller *c);
/* How many times it stopped being controller while running (fenced by a
 * newer epoch, /controller taken, ZooKeeper trouble, session expiry). */
int controller_resignations(const controller *c);

/* AlterPartition from a partition leader (an ISR change), with Kafka's
 * checks: NOT_CONTROLLER when not active; STALE_BROKER_EPOCH when
 * broker_id is not live with broker_epoch (-1: not checked);
 * UNKNOWN_TOPIC_OR_PARTITION; NOT_LEADER_OR_FOLLOWER when broker_id does
 * not lead it; FENCED_LEADER_EPOCH when leader_epoch is not the current
 * one; INVALID_UPDATE_VERSION when partition_epoch (the state znode's
 * version) is not; INELIGIBLE_REPLICA when a new ISR member is not live;
 * INVALID_REQUEST when the ISR is empty, has duplicates or non-replicas,
 * or lacks the leader.  A request whose ISR equals the current one
 * answers the current state.  Blocks until the controller thread has
 * handled it; `out` receives the state written (or the current one).
 * Not to be called once controller_stop has begun. */
typedef struct controller_partition_state {
    int32_t leader, leader_epoch, partition_epoch;
    int32_t isr[ZKL_MAX_REPLICAS];
    int nisr;
} controller_partition_state;

int16_t controller_alter_partition(controller *c, int32_t broker_id, int64_t broker_epoch,
                                   const char *topic, int32_t partition, int32_t leader_epoch,
                                   int32_t partition_epoch, const int32_t *new_isr, int nisr,
                                   controller_partition_state *out);

/* ---- partition reassignment (controller_reassign.c; docs/controller.md) ---- */

/* One partition of AlterPartitionReassignments: replicas NULL with
 * nreplicas -1 cancels.  error and message are the answer. */
typedef struct controller_reassignment {
    const char *topic;
    int32_t partition;
    const int32_t *replicas;
    int nreplicas;
    int16_t error;
    char message[200];
} controller_reassignment;

/* Start, replace or cancel reassignments, with Kafka's checks per
 * partition (INVALID_REPLICA_ASSIGNMENT: empty, duplicates, negative ids,
 * an added replica not live; UNKNOWN_TOPIC_OR_PARTITION;
 * NO_REASSIGNMENT_IN_PROGRESS for a cancel).  Returns NOT_CONTROLLER when
 * not active (nothing done), else 0 with each entry's error set.  Returns
 * once each is started (or done); any thread but the controller's. */
int16_t controller_alter_reassignments(controller *c, controller_reassignment *v, int n);

typedef struct controller_reassign_filter {
    const char *topic;
    int32_t partition;
} controller_reassign_filter;

typedef struct controller_ongoing {
    char *topic;
    int32_t partition;
    int32_t replicas[ZKL_MAX_REPLICAS], adding[ZKL_MAX_REPLICAS], removing[ZKL_MAX_REPLICAS];
    int nreplicas, nadding, nremoving;
} controller_ongoing;

/* The reassignments in progress (nf < 0: all; else those of the nf
 * partitions in f).  *out is malloc'd (controller_ongoing_free). */
int16_t controller_list_reassignments(controller *c, const controller_reassign_filter *f, int nf,
                                      controller_ongoing **out, int *n);
void controller_ongoing_free(controller_ongoing *v, int n);
/* A partition named in an answer (malloc'd name; controller_tps_free). */
typedef struct controller_tp {
    char *topic;
    int32_t partition;
    int16_t error;               /* controller_elect_leaders: the partition's result */
    const char *message;         /* ... and its message (static), NULL when none */
} controller_tp;

void controller_tps_free(controller_tp *v, int n);

/* ControlledShutdown from broker_id (docs/controller.md, C30-C32): the
 * broker is recorded as shutting down for its current registration (never
 * chosen as leader again until it re-registers or goes), the leadership of
 * every replicated partition it leads moves to another live ISR member
 * (it leaves that ISR), it leaves the ISR of the partitions it follows,
 * and the brokers are told.  *remaining (malloc'd): the replicated
 * partitions it still leads (no other eligible ISR member).  Errors:
 * NOT_CONTROLLER; BROKER_NOT_AVAILABLE when broker_id is not live;
 * STALE_BROKER_EPOCH when broker_epoch (-1: not checked) is not its
 * registration's. */
int16_t controller_controlled_shutdown(controller *c, int32_t broker_id, int64_t broker_epoch,
                                       controller_tp **remaining, int *nremaining);

/* ElectLeaders (API 43): election type 0 PREFERRED, 1 UNCLEAN; want NULL
 * = every partition, else nwant partitions (their error and message set
 * on return).  With want NULL, *all (malloc'd) receives every partition
 * with its result.  Top-level errors: NOT_CONTROLLER, INVALID_REQUEST (an
 * unknown election type). */
#define CTL_ELECT_PREFERRED 0
#define CTL_ELECT_UNCLEAN 1
int16_t controller_elect_leaders(controller *c, int8_t type, controller_tp *want, int nwant,
                                 controller_tp **all, int *nall);

#endif
