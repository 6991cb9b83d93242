/*
 * txn_verify.h - the partition leader's side of KIP-890 part 1 (Kafka's
 * AddPartitionsToTxnManager): before a transactional write opens a
 * producer's transaction on a partition, ask the transaction coordinator of
 * its transactional id whether the partition is in the ongoing transaction
 * (AddPartitionsToTxn v4, verify_only).
 *
 * A thread of its own (blocking kclient calls, never a network loop):
 * requesters queue jobs (one transaction, its partitions) from any thread;
 * each pass takes every queued job, groups them by coordinator broker (the
 * leader of the id's __transaction_state partition, this broker included:
 * one code path) and sends each coordinator one request carrying every
 * transaction (a transactional id at most once per request).  Each job's
 * per-partition answer goes back to the requester's loop (done()).
 *
 * Answers, as AddPartitionsToTxnManager maps them: NONE (in the
 * transaction); the coordinator's partition errors with PRODUCER_FENCED as
 * INVALID_PRODUCER_EPOCH and TRANSACTION_ABORTABLE as INVALID_TXN_STATE
 * unless the job says the client understands it; the response's top-level
 * error for every partition; COORDINATOR_NOT_AVAILABLE when no coordinator
 * is known; NETWORK_EXCEPTION when it cannot be reached or did not answer.
 * The caller maps these for its own API (Produce, TxnOffsetCommit).
 *
 * Memory: a job copies what it needs; jobs are bounded by the requests in
 * flight (each job belongs to one parked request).
 */
#ifndef SAMSA_RPC_TXN_VERIFY_H
#define SAMSA_RPC_TXN_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/loop.h"

typedef struct txn_verifier txn_verifier;

struct kclient_security;
typedef struct txn_verify_ctx {
    void *arg;
    /* The broker coordinating transactional id `id` now (-1: unknown). */
    int32_t (*coordinator_of)(void *arg, const char *id, size_t len);
    /* Where broker `id` takes inter-broker requests; false when not live. */
    bool (*broker_endpoint)(void *arg, int32_t id, char *host, size_t cap, int *port);
    /* How to connect there (NULL = PLAINTEXT); outlives the verifier. */
    const struct kclient_security *sec;
} txn_verify_ctx;

typedef struct txn_verify_tp {
    const char *topic;
    size_t topic_len;
    int32_t partition;
} txn_verify_tp;

/* Runs on the requester's loop: errors[i] answers tps[i] of the job. */
typedef void (*txn_verify_done)(void *arg, const int16_t *errors, int n);

txn_verifier *txn_verifier_start(const txn_verify_ctx *ctx, char *err, size_t errlen);
/* Stop the thread: jobs not answered yet are answered NETWORK_EXCEPTION
 * (their loops must still run), later submissions refused.  NULL: no-op. */
void txn_verifier_stop(txn_verifier *v);
void txn_verifier_free(txn_verifier *v);      /* stops first if needed */

/* Queue a verification (any thread).  0, or -1 (out of memory, stopped):
 * done is then never called. */
int txn_verify_submit(txn_verifier *v, loop *lp, const char *id, size_t idlen, int64_t pid, int16_t epoch,
                      bool abortable_ok, const txn_verify_tp *tps, int n, txn_verify_done done, void *arg);

#endif
