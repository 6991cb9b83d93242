/*
 * add_partitions_to_txn.h - Add Partitions To Txn (API key 24): request and response bodies.
 *
 * Samsa's own field lists for every version up to ADD_PARTITIONS_TO_TXN_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 * v0-3 are a producer's (one transaction); v4+ the batched form brokers
 * send (KIP-890).  Served by the transaction coordinator (txn/).
 */
#ifndef SAMSA_PROTO_MSG_ADD_PARTITIONS_TO_TXN_H
#define SAMSA_PROTO_MSG_ADD_PARTITIONS_TO_TXN_H

#include "proto/schema.h"

#define ADD_PARTITIONS_TO_TXN_API_KEY 24
#define ADD_PARTITIONS_TO_TXN_FLEX_FROM 3
#define ADD_PARTITIONS_TO_TXN_MAX_VERSION 5

#define ADD_PARTITIONS_TO_TXN_TOPIC(F, S) \
    F(S, STR,  name,       0, 99) \
    F(S, AI32, partitions, 0, 99)
KSTRUCT_DECL(add_partitions_to_txn_topic, ADD_PARTITIONS_TO_TXN_TOPIC)

#define ADD_PARTITIONS_TO_TXN_REQ_TRANSACTIONS(F, S) \
    F(S, STR,     transactional_id, 4, 99) \
    F(S, I64,     producer_id,      4, 99) \
    F(S, I16,     producer_epoch,   4, 99) \
    F(S, BOOL,    verify_only,      4, 99) \
    F(S, ASTRUCT, topics,           4, 99, add_partitions_to_txn_topic)
KSTRUCT_DECL(add_partitions_to_txn_req_transactions, ADD_PARTITIONS_TO_TXN_REQ_TRANSACTIONS)

#define ADD_PARTITIONS_TO_TXN_REQ(F, S) \
    F(S, ASTRUCT, transactions,     4, 99, add_partitions_to_txn_req_transactions) \
    F(S, STR,     transactional_id, 0, 3) \
    F(S, I64,     producer_id,      0, 3) \
    F(S, I16,     producer_epoch,   0, 3) \
    F(S, ASTRUCT, topics,           0, 3, add_partitions_to_txn_topic)
KSTRUCT_DECL(add_partitions_to_txn_req, ADD_PARTITIONS_TO_TXN_REQ)

#define ADD_PARTITIONS_TO_TXN_PARTITION_RESULT(F, S) \
    F(S, I32, partition_index,      0, 99) \
    F(S, I16, partition_error_code, 0, 99)
KSTRUCT_DECL(add_partitions_to_txn_partition_result, ADD_PARTITIONS_TO_TXN_PARTITION_RESULT)

#define ADD_PARTITIONS_TO_TXN_TOPIC_RESULT(F, S) \
    F(S, STR,     name,                 0, 99) \
    F(S, ASTRUCT, results_by_partition, 0, 99, add_partitions_to_txn_partition_result)
KSTRUCT_DECL(add_partitions_to_txn_topic_result, ADD_PARTITIONS_TO_TXN_TOPIC_RESULT)

#define ADD_PARTITIONS_TO_TXN_RESULT(F, S) \
    F(S, STR,     transactional_id, 4, 99) \
    F(S, ASTRUCT, topic_results,    4, 99, add_partitions_to_txn_topic_result)
KSTRUCT_DECL(add_partitions_to_txn_result, ADD_PARTITIONS_TO_TXN_RESULT)

#define ADD_PARTITIONS_TO_TXN_RESP(F, S) \
    F(S, I32,     throttle_time_ms,       0, 99) \
    F(S, I16,     error_code,             4, 99) \
    F(S, ASTRUCT, results_by_transaction, 4, 99, add_partitions_to_txn_result) \
    F(S, ASTRUCT, results_by_topic,       0, 3, add_partitions_to_txn_topic_result)
KSTRUCT_DECL(add_partitions_to_txn_resp, ADD_PARTITIONS_TO_TXN_RESP)

#define ADD_PARTITIONS_TO_TXN_STRUCTS(X, XE) \
    X(add_partitions_to_txn_topic, ADD_PARTITIONS_TO_TXN_TOPIC) \
    X(add_partitions_to_txn_req_transactions, ADD_PARTITIONS_TO_TXN_REQ_TRANSACTIONS) \
    X(add_partitions_to_txn_req, ADD_PARTITIONS_TO_TXN_REQ) \
    X(add_partitions_to_txn_partition_result, ADD_PARTITIONS_TO_TXN_PARTITION_RESULT) \
    X(add_partitions_to_txn_topic_result, ADD_PARTITIONS_TO_TXN_TOPIC_RESULT) \
    X(add_partitions_to_txn_result, ADD_PARTITIONS_TO_TXN_RESULT) \
    X(add_partitions_to_txn_resp, ADD_PARTITIONS_TO_TXN_RESP)

#endif
