/*
 * isr_manager.h - the leader's ISR manager: shrinks and expands the
 * in-sync replica set of every partition this broker leads, through
 * AlterPartition to the active controller (KIP-497, Kafka's ZooKeeper mode).
 *
 * One thread ("samsa-isr").  Every check interval (replica.lag.time.max.ms
 * / 2, at most 1 s) and, sooner, when poked by the fetch path
 * (isr_manager_follower_fetched: a follower outside the ISR reached the
 * HW), it scans the partitions this broker leads and, for each, computes
 * the ISR to propose with isr_decide (repl/isr_decide.h: shrink members
 * lagging beyond replica.lag.time.max.ms, add replicas that reached the HW,
 * C7).  A change is sent as AlterPartition with the state's leader epoch
 * and partition epoch (the state znode version) over a kclient connection
 * to the active controller's endpoint (v1, topic names), this broker's own
 * included: the controller candidate is replaced on the admin thread after
 * a session loss and stopped at shutdown, so only the admin thread calls
 * into it (broker/handle_alter_partition.c).  The answer:
 *   NONE                      the new state (same leader epoch, new ISR and
 *                             partition epoch) is installed with
 *                             partition_set_state, the HW recomputed (C6:
 *                             it may move once a laggard left) and parked
 *                             requests woken (partition_notify);
 *   FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION, NOT_LEADER_OR_FOLLOWER,
 *   UNKNOWN_TOPIC_OR_PARTITION, INVALID_REQUEST
 *                             the partition is left alone until its state
 *                             changes (the next LeaderAndIsr, C9);
 *   anything else (NOT_CONTROLLER, STALE_BROKER_EPOCH, INELIGIBLE_REPLICA,
 *   a connection failure)     tried again next round.
 * The ISR is never changed locally without the controller's answer (C7:
 * a replica leaves only through the controller, C1).
 *
 * Layer repl: it reaches the process through isr_ctx only (never broker *).
 * Threads: isr_manager_* from any thread; the scan runs on the manager's
 * thread and holds no lock across a controller call.
 */
#ifndef SAMSA_REPL_ISR_MANAGER_H
#define SAMSA_REPL_ISR_MANAGER_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/controller.h"

struct broker_config;
struct partition;
struct topic_registry;
struct cluster_md;

/* One AlterPartition entry, as the manager sends it. */
typedef struct isr_alter {
    const char *topic;
    int32_t partition, leader_epoch, partition_epoch;
    const int32_t *isr;
    int nisr;
} isr_alter;

struct kclient_security;
typedef struct isr_ctx {
    int32_t node_id;
    struct topic_registry *topics;   /* scanned for the partitions led here */
    /* The current configuration (replica.lag.time.max.ms). */
    const struct broker_config *(*config)(void *arg);
    void *arg;                       /* for every callback */
    /* The live brokers (the controller's endpoint on `listener`). */
    struct cluster_md *md;
    const char *listener;
    const struct kclient_security *sec;   /* NULL = PLAINTEXT; outlives the manager */
    /* The active controller as last heard (-1: unknown). */
    int32_t (*controller_id)(void *arg);
    /* This broker's epoch (the czxid of its registration). */
    int64_t (*broker_epoch)(void *arg);
    /* Tests: replaces the transport above (controller / kclient).  The
     * error (top-level or the partition's), *out the state on NONE. */
    int16_t (*alter)(void *arg, const isr_alter *a, controller_partition_state *out);
} isr_ctx;

typedef struct isr_manager isr_manager;

/* Start the thread.  NULL when out of memory or the thread cannot start. */
isr_manager *isr_manager_start(const isr_ctx *ctx);
/* A manager without a thread: it scans only when isr_manager_scan is
 * called (tests).  NULL when out of memory. */
isr_manager *isr_manager_new(const isr_ctx *ctx);
/* Stop and join the thread (if any), free.  NULL: no-op. */
void isr_manager_stop(isr_manager *m);

/* Scan soon (rate-limited to one scan per ISR_POKE_GAP_MS).  NULL: no-op. */
void isr_manager_poke(isr_manager *m);
/* The fetch path, after recording a follower's position on a partition
 * this broker leads: poke when the follower is outside the ISR and may
 * join (C7), so a caught-up replica rejoins within ~100 ms instead of a
 * check interval.  Cheap; any thread.  NULL m: no-op. */
void isr_manager_follower_fetched(isr_manager *m, struct partition *p, int32_t replica_id,
                                  int64_t fetch_offset);

/* One scan now, on the caller's thread (serialised with the thread's
 * scans).  How many partitions got a new ISR installed. */
int isr_manager_scan(isr_manager *m);

#define ISR_POKE_GAP_MS 50
#define ISR_MAX_CHECK_MS 1000

#endif
