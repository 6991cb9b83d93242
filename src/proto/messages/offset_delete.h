/*
 * offset_delete.h - Offset Delete (API key 47): request and response bodies.
 *
 * Samsa's own field lists for every version up to OFFSET_DELETE_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_OFFSET_DELETE_H
#define SAMSA_PROTO_MSG_OFFSET_DELETE_H

#include "proto/schema.h"

#define OFFSET_DELETE_API_KEY 47
#define OFFSET_DELETE_FLEX_FROM 127
#define OFFSET_DELETE_MAX_VERSION 0

#define OFFSET_DELETE_REQ_PARTITIONS(F, S) \
    F(S, I32, partition_index, 0, 99)
KSTRUCT_DECL(offset_delete_req_partitions, OFFSET_DELETE_REQ_PARTITIONS)

#define OFFSET_DELETE_REQ_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, offset_delete_req_partitions)
KSTRUCT_DECL(offset_delete_req_topics, OFFSET_DELETE_REQ_TOPICS)

#define OFFSET_DELETE_REQ(F, S) \
    F(S, STR,     group_id, 0, 99) \
    F(S, ASTRUCT, topics,   0, 99, offset_delete_req_topics)
KSTRUCT_DECL(offset_delete_req, OFFSET_DELETE_REQ)

#define OFFSET_DELETE_RESP_PARTITIONS(F, S) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I16, error_code,      0, 99)
KSTRUCT_DECL(offset_delete_resp_partitions, OFFSET_DELETE_RESP_PARTITIONS)

#define OFFSET_DELETE_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, offset_delete_resp_partitions)
KSTRUCT_DECL(offset_delete_resp_topics, OFFSET_DELETE_RESP_TOPICS)

#define OFFSET_DELETE_RESP(F, S) \
    F(S, I16,     error_code,       0, 99) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, topics,           0, 99, offset_delete_resp_topics)
KSTRUCT_DECL(offset_delete_resp, OFFSET_DELETE_RESP)

#define OFFSET_DELETE_STRUCTS(X, XE) \
    X(offset_delete_req_partitions, OFFSET_DELETE_REQ_PARTITIONS) \
    X(offset_delete_req_topics, OFFSET_DELETE_REQ_TOPICS) \
    X(offset_delete_req, OFFSET_DELETE_REQ) \
    X(offset_delete_resp_partitions, OFFSET_DELETE_RESP_PARTITIONS) \
    X(offset_delete_resp_topics, OFFSET_DELETE_RESP_TOPICS) \
    X(offset_delete_resp, OFFSET_DELETE_RESP)

#endif
