/*
 * txn_coordinator.h - the transaction coordinator (KIP-98): transactional
 * ids, their producer ids and epochs, and the state machine of each one's
 * transaction, persisted in __transaction_state (txn_records.h).
 *
 * Like the group coordinator it is an actor: one thread with its own event
 * loop owns every transaction; network threads hand it whole requests
 * (txn_submit) and it answers them itself once the state change they
 * cause is written and replicated (acks=all: TC2).  Committing or aborting
 * a transaction writes PrepareCommit/PrepareAbort, answers the producer,
 * then has the marker sender (txn_markers.c, a thread of its own: blocking
 * inter-broker calls) send WriteTxnMarkers to the leader of every
 * partition of the transaction, this broker included, over the wire; when
 * all are written it writes CompleteCommit/CompleteAbort.
 *
 * It serves the transactional ids of the __transaction_state partitions
 * this broker leads (txn_load.c): loaded at start and on txn_coordinator_elect
 * (COORDINATOR_LOAD_IN_PROGRESS meanwhile), dropped on txn_coordinator_resign
 * (NOT_COORDINATOR).  The coordinator epoch of a partition is its leader
 * epoch.  docs/transactions.md has the state machine and the TC invariants.
 */
#ifndef SAMSA_TXN_TXN_COORDINATOR_H
#define SAMSA_TXN_TXN_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct broker_config;
struct kreq;
struct topic;
struct topic_registry;
typedef struct txn_coordinator txn_coordinator;

#define TXN_TOPIC "__transaction_state"

/* What the coordinator uses of the process (txn/ sits below broker/).
 * Every pointer outlives the coordinator. */
struct kclient_security;
typedef struct txn_ctx {
    int32_t node_id;
    struct topic_registry *topics;  /* __transaction_state, and the partitions of transactions */
    const struct broker_config *(*config)(void *arg);   /* read at start */
    void *arg;                       /* passed to every callback */
    /* docs/cluster.md C13: false while this broker may not lead (NULL: always may). */
    bool (*may_lead)(void *arg);
    /* Where broker `id` takes inter-broker requests (this broker included):
     * host and port; false when it is not live.  Any thread. */
    bool (*broker_endpoint)(void *arg, int32_t id, char *host, size_t cap, int *port);
    /* How to connect there (NULL = PLAINTEXT); outlives the coordinator. */
    const struct kclient_security *sec;
    /* The partition count of __consumer_offsets, for AddOffsetsToTxn's
     * group partition (its topic's, or offsets.topic.num.partitions). */
    int32_t (*offsets_partitions)(void *arg);
    /* ACLs (broker/authz.h): may the request's principal DESCRIBE this
     * transactional id (ListTransactions lists only those, DescribeTransactions
     * refuses the others)?  NULL: no authorizer. */
    bool (*may_describe)(void *arg, const struct kreq *rq, const char *id, size_t len);
} txn_ctx;

/* Start the coordinator and marker sender threads; if __transaction_state
 * exists, the partitions led here are loaded first.  NULL with err set on
 * failure. */
txn_coordinator *txn_coordinator_start(const txn_ctx *ctx, char *err, size_t errlen);
/* Answer what is parked (NOT_COORDINATOR), stop both threads; later
 * submissions are refused.  NULL: no-op. */
void txn_coordinator_stop(txn_coordinator *co);
void txn_coordinator_free(txn_coordinator *co);   /* stops first if needed */

/* Run fn(co, rq, arg) on the coordinator thread (co NULL or stopped: the
 * request's connection is closed). */
void txn_submit(txn_coordinator *co, struct kreq *rq,
                void (*fn)(txn_coordinator *co, struct kreq *rq, void *arg), void *arg);
/* __transaction_state now exists (created by FindCoordinator); any thread. */
void txn_coordinator_topic_created(txn_coordinator *co, struct topic *t);
/* LeaderAndIsr made this broker the leader (elect) or not (resign) of
 * __transaction_state partition `part` at `leader_epoch` (TC8).  Any thread. */
void txn_coordinator_elect(txn_coordinator *co, int32_t part, int32_t leader_epoch);
void txn_coordinator_resign(txn_coordinator *co, int32_t part, int32_t leader_epoch);

/* The partition of __transaction_state owning a transactional id (Kafka's
 * partitionFor). */
int32_t txn_partition_for(const char *id, size_t len, int32_t nparts);

/* Request handlers, run on the coordinator thread (txn_submit).
 * InitProducerId takes arg = a pointer to a spare producer id (int64_t,
 * reserved by the broker on its admin thread; -1 none): used for a new
 * transactional id or when the epoch is exhausted. */
void txn_init_producer_id(txn_coordinator *co, struct kreq *rq, void *spare_pid);
void txn_add_partitions(txn_coordinator *co, struct kreq *rq, void *arg);
void txn_add_offsets(txn_coordinator *co, struct kreq *rq, void *arg);
void txn_end_txn(txn_coordinator *co, struct kreq *rq, void *arg);
void txn_describe(txn_coordinator *co, struct kreq *rq, void *arg);
void txn_list(txn_coordinator *co, struct kreq *rq, void *arg);

#endif
