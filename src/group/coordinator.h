/*
 * coordinator.h - the group coordinator: consumer groups of the classic
 * protocol and their committed offsets, persisted in __consumer_offsets.
 *
 * The coordinator is an actor: one thread with its own event loop owns
 * every group, member, timer and offset.  Network threads hand it whole
 * requests (coordinator_submit); it decides, writes records to the
 * offsets topic's partition logs, and encodes responses itself before
 * handing each request back to its loop.  No locks guard group state
 * because nothing else touches it.  Requests that must wait (JoinGroup
 * until the rebalance completes, SyncGroup until the leader's assignment
 * is durable, OffsetCommit until an fsync when flush.messages asks for
 * one) are simply kept by the coordinator until then.
 *
 * The coordinator serves the groups of the __consumer_offsets partitions
 * this broker leads (coord_load.c, G10-G13 in docs/groups.md): start-up
 * loads every partition led here (embedded mode: all); later leadership
 * changes arrive through coordinator_elect/coordinator_resign.
 */
#ifndef SAMSA_GROUP_COORDINATOR_H
#define SAMSA_GROUP_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker_config;
struct kreq;
struct log_manager;
struct topic;
struct topic_registry;
typedef struct coordinator coordinator;

#define OFFSETS_TOPIC "__consumer_offsets"

/* What the coordinator uses of the process, given at start instead of the
 * broker itself (group/ sits below broker/).  Every pointer outlives the
 * coordinator. */
typedef struct coord_ctx {
    int32_t node_id;                 /* this broker: groups are ours where it leads */
    struct topic_registry *topics;   /* where __consumer_offsets is found */
    struct log_manager *logs;        /* flush requests for durable commits */
    /* The current configuration snapshot (group.*, offsets.*,
     * offset.metadata.max.bytes, message.max.bytes are read at start). */
    const struct broker_config *(*config)(void *arg);
    void *config_arg;
    /* docs/cluster.md C13: false while this broker may not act as a leader
     * (its ZooKeeper session lease is stale, or it is fenced after a lost
     * session); groups are then not served. Called with config_arg; NULL:
     * always may. */
    bool (*may_lead)(void *arg);
    /* KIP-890 part 1: the broker's partition verifier (rpc/txn_verify.h),
     * asked before a TxnOffsetCommit opens a transaction on an offsets
     * partition; NULL (or returning NULL): not verified. */
    struct txn_verifier *(*verifier)(void *arg);
    /* ACLs (broker/authz.h): may the request's principal perform op
     * (auth/acl.h codes) on the resource?  Called with config_arg on the
     * coordinator thread; NULL: no authorizer, everything allowed. */
    bool (*authorize)(void *arg, const struct kreq *rq, int op, int rtype, const char *name,
                      size_t len);
} coord_ctx;

/* Start the thread; if the offsets topic exists it is loaded first.
 * NULL with a message in err on failure. */
coordinator *coordinator_start(const coord_ctx *ctx, char *err, size_t errlen);
/* Answer what is parked, stop the thread and free the groups; from then on
 * submissions are refused (the connection is closed).  The struct stays
 * valid for threads that may still hold the pointer: coordinator_free it
 * once they are stopped.  NULL: no-op. */
void coordinator_stop(coordinator *co);
void coordinator_free(coordinator *co);    /* stops first if needed */

/* Run fn(co, rq) on the coordinator thread (co NULL: the request's
 * connection is closed, "group coordinator unavailable"). */
void coordinator_submit(coordinator *co, struct kreq *rq, void (*fn)(coordinator *co, struct kreq *rq));
/* The offsets topic now exists (created by FindCoordinator); any thread. */
void coordinator_offsets_topic_created(coordinator *co, struct topic *t);

/* LeaderAndIsr made this broker the leader of __consumer_offsets partition
 * `part` at `leader_epoch`: load its groups and offsets (requests for
 * them get COORDINATOR_LOAD_IN_PROGRESS meanwhile), then serve them.  An
 * election for a partition already owned or loading changes nothing.
 * Any thread: posts to the coordinator thread, in call order. */
void coordinator_elect(coordinator *co, int32_t part, int32_t leader_epoch);
/* ... made another broker (or none) its leader: drop its groups; parked
 * and waiting requests for them are answered NOT_COORDINATOR, later ones
 * too.  An election or resignation with a leader epoch older than the
 * newest seen for the partition is ignored (G11).  Any thread. */
void coordinator_resign(coordinator *co, int32_t part, int32_t leader_epoch);

/* docs/transactions.md: a transaction marker for producer `producer_id`
 * was written on __consumer_offsets partition `part` (by WriteTxnMarkers,
 * once acks=all is met): that producer's pending transactional offset
 * commits (TxnOffsetCommit) on that partition become committed offsets
 * (commit) or are dropped (abort).  Any thread: posts to the coordinator
 * thread. */
void coordinator_txn_complete(coordinator *co, int32_t part, int64_t producer_id, bool commit);

/* Request handlers, run on the coordinator thread. */
void coord_join_group(coordinator *co, struct kreq *rq);
void coord_sync_group(coordinator *co, struct kreq *rq);
void coord_heartbeat(coordinator *co, struct kreq *rq);
void coord_leave_group(coordinator *co, struct kreq *rq);
void coord_offset_commit(coordinator *co, struct kreq *rq);
void coord_offset_fetch(coordinator *co, struct kreq *rq);
void coord_offset_delete(coordinator *co, struct kreq *rq);
void coord_txn_offset_commit(coordinator *co, struct kreq *rq);
void coord_describe_groups(coordinator *co, struct kreq *rq);
void coord_list_groups(coordinator *co, struct kreq *rq);
void coord_delete_groups(coordinator *co, struct kreq *rq);

#endif
