/*
 * write_txn_markers.h - Write Txn Markers (API key 27): request and response bodies.
 *
 * Samsa's own field lists for every version up to WRITE_TXN_MARKERS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 * Sent by a transaction coordinator to the leaders of a transaction's
 * partitions (docs/transactions.md).
 */
#ifndef SAMSA_PROTO_MSG_WRITE_TXN_MARKERS_H
#define SAMSA_PROTO_MSG_WRITE_TXN_MARKERS_H

#include "proto/schema.h"

#define WRITE_TXN_MARKERS_API_KEY 27
#define WRITE_TXN_MARKERS_FLEX_FROM 1
#define WRITE_TXN_MARKERS_MAX_VERSION 1

#define WRITE_TXN_MARKERS_REQ_TOPICS(F, S) \
    F(S, STR,  name,              0, 99) \
    F(S, AI32, partition_indexes, 0, 99)
KSTRUCT_DECL(write_txn_markers_req_topics, WRITE_TXN_MARKERS_REQ_TOPICS)

#define WRITE_TXN_MARKERS_REQ_MARKERS(F, S) \
    F(S, I64,     producer_id,        0, 99) \
    F(S, I16,     producer_epoch,     0, 99) \
    F(S, BOOL,    transaction_result, 0, 99) \
    F(S, ASTRUCT, topics,             0, 99, write_txn_markers_req_topics) \
    F(S, I32,     coordinator_epoch,  0, 99)
KSTRUCT_DECL(write_txn_markers_req_markers, WRITE_TXN_MARKERS_REQ_MARKERS)

#define WRITE_TXN_MARKERS_REQ(F, S) \
    F(S, ASTRUCT, markers, 0, 99, write_txn_markers_req_markers)
KSTRUCT_DECL(write_txn_markers_req, WRITE_TXN_MARKERS_REQ)

#define WRITE_TXN_MARKERS_RESP_PARTITIONS(F, S) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I16, error_code,      0, 99)
KSTRUCT_DECL(write_txn_markers_resp_partitions, WRITE_TXN_MARKERS_RESP_PARTITIONS)

#define WRITE_TXN_MARKERS_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, write_txn_markers_resp_partitions)
KSTRUCT_DECL(write_txn_markers_resp_topics, WRITE_TXN_MARKERS_RESP_TOPICS)

#define WRITE_TXN_MARKERS_RESP_MARKERS(F, S) \
    F(S, I64,     producer_id, 0, 99) \
    F(S, ASTRUCT, topics,      0, 99, write_txn_markers_resp_topics)
KSTRUCT_DECL(write_txn_markers_resp_markers, WRITE_TXN_MARKERS_RESP_MARKERS)

#define WRITE_TXN_MARKERS_RESP(F, S) \
    F(S, ASTRUCT, markers, 0, 99, write_txn_markers_resp_markers)
KSTRUCT_DECL(write_txn_markers_resp, WRITE_TXN_MARKERS_RESP)

#define WRITE_TXN_MARKERS_STRUCTS(X, XE) \
    X(write_txn_markers_req_topics, WRITE_TXN_MARKERS_REQ_TOPICS) \
    X(write_txn_markers_req_markers, WRITE_TXN_MARKERS_REQ_MARKERS) \
    X(write_txn_markers_req, WRITE_TXN_MARKERS_REQ) \
    X(write_txn_markers_resp_partitions, WRITE_TXN_MARKERS_RESP_PARTITIONS) \
    X(write_txn_markers_resp_topics, WRITE_TXN_MARKERS_RESP_TOPICS) \
    X(write_txn_markers_resp_markers, WRITE_TXN_MARKERS_RESP_MARKERS) \
    X(write_txn_markers_resp, WRITE_TXN_MARKERS_RESP)

#endif
