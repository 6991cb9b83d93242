/*
 * txn_offset_commit.h - TxnOffsetCommit (API key 28): request and response
 * bodies.
 *
 * Samsa's own field lists for versions 0-4 (v3 is the first flexible one
 * and adds the KIP-447 generation, member and static instance).  v5 is
 * transaction protocol v2 (KIP-890 part 2), which Samsa does not serve.
 * The format is described in proto/schema.h; which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c).
 */
#ifndef SAMSA_PROTO_MSG_TXN_OFFSET_COMMIT_H
#define SAMSA_PROTO_MSG_TXN_OFFSET_COMMIT_H

#include "proto/schema.h"

#define TXN_OFFSET_COMMIT_API_KEY 28
#define TXN_OFFSET_COMMIT_FLEX_FROM 3
#define TXN_OFFSET_COMMIT_MAX_VERSION 4

#define TXN_OFFSET_COMMIT_REQ_PARTITIONS(F, S) \
    F(S, I32, partition_index,        0, 99) \
    F(S, I64, committed_offset,       0, 99) \
    F(S, I32, committed_leader_epoch, 2, 99, DFLT(-1)) \
    F(S, STR, committed_metadata,     0, 99, NULLABLE(0))
KSTRUCT_DECL(txn_offset_commit_req_partitions, TXN_OFFSET_COMMIT_REQ_PARTITIONS)

#define TXN_OFFSET_COMMIT_REQ_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, txn_offset_commit_req_partitions)
KSTRUCT_DECL(txn_offset_commit_req_topics, TXN_OFFSET_COMMIT_REQ_TOPICS)

#define TXN_OFFSET_COMMIT_REQ(F, S) \
    F(S, STR,     transactional_id,  0, 99) \
    F(S, STR,     group_id,          0, 99) \
    F(S, I64,     producer_id,       0, 99) \
    F(S, I16,     producer_epoch,    0, 99) \
    F(S, I32,     generation_id,     3, 99, DFLT(-1)) \
    F(S, STR,     member_id,         3, 99) \
    F(S, STR,     group_instance_id, 3, 99, NULLABLE(3), DFLT_NULL) \
    F(S, ASTRUCT, topics,            0, 99, txn_offset_commit_req_topics)
KSTRUCT_DECL(txn_offset_commit_req, TXN_OFFSET_COMMIT_REQ)

#define TXN_OFFSET_COMMIT_RESP_PARTITIONS(F, S) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I16, error_code,      0, 99)
KSTRUCT_DECL(txn_offset_commit_resp_partitions, TXN_OFFSET_COMMIT_RESP_PARTITIONS)

#define TXN_OFFSET_COMMIT_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, txn_offset_commit_resp_partitions)
KSTRUCT_DECL(txn_offset_commit_resp_topics, TXN_OFFSET_COMMIT_RESP_TOPICS)

#define TXN_OFFSET_COMMIT_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, topics,           0, 99, txn_offset_commit_resp_topics)
KSTRUCT_DECL(txn_offset_commit_resp, TXN_OFFSET_COMMIT_RESP)

#define TXN_OFFSET_COMMIT_STRUCTS(X, XE) \
    X(txn_offset_commit_req_partitions, TXN_OFFSET_COMMIT_REQ_PARTITIONS) \
    X(txn_offset_commit_req_topics, TXN_OFFSET_COMMIT_REQ_TOPICS) \
    X(txn_offset_commit_req, TXN_OFFSET_COMMIT_REQ) \
    X(txn_offset_commit_resp_partitions, TXN_OFFSET_COMMIT_RESP_PARTITIONS) \
    X(txn_offset_commit_resp_topics, TXN_OFFSET_COMMIT_RESP_TOPICS) \
    X(txn_offset_commit_resp, TXN_OFFSET_COMMIT_RESP)

#endif
