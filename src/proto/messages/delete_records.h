/*
 * delete_records.h - Delete Records (API key 21): request and response bodies.
 *
 * Samsa's own field lists for every version up to DELETE_RECORDS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DELETE_RECORDS_H
#define SAMSA_PROTO_MSG_DELETE_RECORDS_H

#include "proto/schema.h"

#define DELETE_RECORDS_API_KEY 21
#define DELETE_RECORDS_FLEX_FROM 2
#define DELETE_RECORDS_MAX_VERSION 2

#define DELETE_RECORDS_REQ_PARTITIONS(F, S) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I64, offset,          0, 99)
KSTRUCT_DECL(delete_records_req_partitions, DELETE_RECORDS_REQ_PARTITIONS)

#define DELETE_RECORDS_REQ_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, delete_records_req_partitions)
KSTRUCT_DECL(delete_records_req_topics, DELETE_RECORDS_REQ_TOPICS)

#define DELETE_RECORDS_REQ(F, S) \
    F(S, ASTRUCT, topics,     0, 99, delete_records_req_topics) \
    F(S, I32,     timeout_ms, 0, 99)
KSTRUCT_DECL(delete_records_req, DELETE_RECORDS_REQ)

#define DELETE_RECORDS_RESP_PARTITIONS(F, S) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I64, low_watermark,   0, 99) \
    F(S, I16, error_code,      0, 99)
KSTRUCT_DECL(delete_records_resp_partitions, DELETE_RECORDS_RESP_PARTITIONS)

#define DELETE_RECORDS_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, delete_records_resp_partitions)
KSTRUCT_DECL(delete_records_resp_topics, DELETE_RECORDS_RESP_TOPICS)

#define DELETE_RECORDS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, topics,           0, 99, delete_records_resp_topics)
KSTRUCT_DECL(delete_records_resp, DELETE_RECORDS_RESP)

#define DELETE_RECORDS_STRUCTS(X, XE) \
    X(delete_records_req_partitions, DELETE_RECORDS_REQ_PARTITIONS) \
    X(delete_records_req_topics, DELETE_RECORDS_REQ_TOPICS) \
    X(delete_records_req, DELETE_RECORDS_REQ) \
    X(delete_records_resp_partitions, DELETE_RECORDS_RESP_PARTITIONS) \
    X(delete_records_resp_topics, DELETE_RECORDS_RESP_TOPICS) \
    X(delete_records_resp, DELETE_RECORDS_RESP)

#endif
