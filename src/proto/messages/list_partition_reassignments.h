/*
 * list_partition_reassignments.h - ListPartitionReassignments (API key
 * 46, KIP-455): request and response bodies.
 *
 * Samsa's own field lists for every version up to
 * LIST_PARTITION_REASSIGNMENTS_MAX_VERSION (v0, flexible); the format is
 * described in proto/schema.h.  Sent by admin clients to the controller;
 * null topics lists every reassignment in progress.
 */
#ifndef SAMSA_PROTO_MSG_LIST_PARTITION_REASSIGNMENTS_H
#define SAMSA_PROTO_MSG_LIST_PARTITION_REASSIGNMENTS_H

#include "proto/schema.h"

#define LIST_PARTITION_REASSIGNMENTS_API_KEY 46
#define LIST_PARTITION_REASSIGNMENTS_FLEX_FROM 0
#define LIST_PARTITION_REASSIGNMENTS_MAX_VERSION 0

#define LPR_REQ_TOPICS(F, S) \
    F(S, STR,  name,              0, 99) \
    F(S, AI32, partition_indexes, 0, 99)
KSTRUCT_DECL(list_partition_reassignments_req_topics, LPR_REQ_TOPICS)

#define LPR_REQ(F, S) \
    F(S, I32,     timeout_ms, 0, 99, DFLT(60000)) \
    F(S, ASTRUCT, topics,     0, 99, list_partition_reassignments_req_topics, NULLABLE(0))
KSTRUCT_DECL(list_partition_reassignments_req, LPR_REQ)

#define LPR_RESP_PARTITIONS(F, S) \
    F(S, I32,  partition_index,   0, 99) \
    F(S, AI32, replicas,          0, 99) \
    F(S, AI32, adding_replicas,   0, 99) \
    F(S, AI32, removing_replicas, 0, 99)
KSTRUCT_DECL(list_partition_reassignments_resp_partitions, LPR_RESP_PARTITIONS)

#define LPR_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, list_partition_reassignments_resp_partitions)
KSTRUCT_DECL(list_partition_reassignments_resp_topics, LPR_RESP_TOPICS)

#define LPR_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, STR,     error_message,    0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, topics,           0, 99, list_partition_reassignments_resp_topics)
KSTRUCT_DECL(list_partition_reassignments_resp, LPR_RESP)

#define LIST_PARTITION_REASSIGNMENTS_STRUCTS(X, XE) \
    X(list_partition_reassignments_req_topics, LPR_REQ_TOPICS) \
    X(list_partition_reassignments_req, LPR_REQ) \
    X(list_partition_reassignments_resp_partitions, LPR_RESP_PARTITIONS) \
    X(list_partition_reassignments_resp_topics, LPR_RESP_TOPICS) \
    X(list_partition_reassignments_resp, LPR_RESP)

#endif
