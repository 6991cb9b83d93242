/*
 * alter_partition_reassignments.h - AlterPartitionReassignments (API key
 * 45, KIP-455): request and response bodies.
 *
 * Samsa's own field lists for every version up to
 * ALTER_PARTITION_REASSIGNMENTS_MAX_VERSION (v0, flexible); the format is
 * described in proto/schema.h.  Sent by admin clients to the controller;
 * a null replica list cancels a partition's reassignment.
 */
#ifndef SAMSA_PROTO_MSG_ALTER_PARTITION_REASSIGNMENTS_H
#define SAMSA_PROTO_MSG_ALTER_PARTITION_REASSIGNMENTS_H

#include "proto/schema.h"

#define ALTER_PARTITION_REASSIGNMENTS_API_KEY 45
#define ALTER_PARTITION_REASSIGNMENTS_FLEX_FROM 0
#define ALTER_PARTITION_REASSIGNMENTS_MAX_VERSION 0

#define APR_REQ_PARTITIONS(F, S) \
    F(S, I32,  partition_index, 0, 99) \
    F(S, AI32, replicas,        0, 99, NULLABLE(0))
KSTRUCT_DECL(alter_partition_reassignments_req_partitions, APR_REQ_PARTITIONS)

#define APR_REQ_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, alter_partition_reassignments_req_partitions)
KSTRUCT_DECL(alter_partition_reassignments_req_topics, APR_REQ_TOPICS)

#define APR_REQ(F, S) \
    F(S, I32,     timeout_ms, 0, 99, DFLT(60000)) \
    F(S, ASTRUCT, topics,     0, 99, alter_partition_reassignments_req_topics)
KSTRUCT_DECL(alter_partition_reassignments_req, APR_REQ)

#define APR_RESP_PARTITIONS(F, S) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I16, error_code,      0, 99) \
    F(S, STR, error_message,   0, 99, NULLABLE(0), DFLT_NULL)
KSTRUCT_DECL(alter_partition_reassignments_resp_partitions, APR_RESP_PARTITIONS)

#define APR_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, alter_partition_reassignments_resp_partitions)
KSTRUCT_DECL(alter_partition_reassignments_resp_topics, APR_RESP_TOPICS)

#define APR_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, STR,     error_message,    0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, responses,        0, 99, alter_partition_reassignments_resp_topics)
KSTRUCT_DECL(alter_partition_reassignments_resp, APR_RESP)

#define ALTER_PARTITION_REASSIGNMENTS_STRUCTS(X, XE) \
    X(alter_partition_reassignments_req_partitions, APR_REQ_PARTITIONS) \
    X(alter_partition_reassignments_req_topics, APR_REQ_TOPICS) \
    X(alter_partition_reassignments_req, APR_REQ) \
    X(alter_partition_reassignments_resp_partitions, APR_RESP_PARTITIONS) \
    X(alter_partition_reassignments_resp_topics, APR_RESP_TOPICS) \
    X(alter_partition_reassignments_resp, APR_RESP)

#endif
