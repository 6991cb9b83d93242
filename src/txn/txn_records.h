/*
 * txn_records.h - the records of the internal __transaction_state topic,
 * in Kafka's own formats (TransactionLogKey / TransactionLogValue), so the
 * topic is readable by Kafka tools and a coordinator that takes over a
 * partition rebuilds every transaction from it.
 *
 * Record key: INT16 version 0, then TransactionLogKey: transactional_id STRING.
 * Record value: INT16 version, then TransactionLogValue:
 *   v0: producer_id INT64, producer_epoch INT16, transaction_timeout_ms
 *       INT32, transaction_status INT8 (txn_state), transaction_partitions
 *       NULLABLE ARRAY of { topic STRING, partition_ids ARRAY INT32 },
 *       last_update_timestamp_ms INT64, start_timestamp_ms INT64
 *   v1: the same, flexible (compact strings/arrays, tag sections), with the
 *       tagged fields previous_producer_id (tag 0), next_producer_id (tag 1)
 *       and client_transaction_version (tag 2).
 * A null value (tombstone) deletes the transactional id (expiration).  We
 * write v0, as Kafka does for clients of transaction version 1.
 * TC1 (docs/transactions.md): one such record per state change, in the
 * partition partitionFor(transactional id).
 */
#ifndef SAMSA_TXN_TXN_RECORDS_H
#define SAMSA_TXN_TXN_RECORDS_H

#include "proto/schema.h"

#define TXN_LOG_KEY(F, S) \
    F(S, STR, transactional_id, 0, 99)
KSTRUCT_DECL(trec_key, TXN_LOG_KEY)

#define TXN_LOG_PARTITIONS(F, S) \
    F(S, STR,  topic,         0, 99) \
    F(S, AI32, partition_ids, 0, 99)
KSTRUCT_DECL(trec_partitions, TXN_LOG_PARTITIONS)

#define TXN_LOG_VALUE(F, S) \
    F(S, I64,     producer_id,                0, 99) \
    F(S, I64,     previous_producer_id,       1, 99, TAG(0, 1), DFLT(-1)) \
    F(S, I64,     next_producer_id,           1, 99, TAG(1, 1), DFLT(-1)) \
    F(S, I16,     producer_epoch,             0, 99) \
    F(S, I32,     transaction_timeout_ms,     0, 99) \
    F(S, I8,      transaction_status,         0, 99) \
    F(S, ASTRUCT, transaction_partitions,     0, 99, trec_partitions, NULLABLE(0)) \
    F(S, I64,     last_update_timestamp_ms,   0, 99) \
    F(S, I64,     start_timestamp_ms,         0, 99) \
    F(S, I16,     client_transaction_version, 1, 99, TAG(2, 1))
KSTRUCT_DECL(trec_value, TXN_LOG_VALUE)

#define TREC_VALUE_MAX_VERSION 1
#define TREC_FLEX_FROM 1

#endif
