/*
 * list_offsets.h - List Offsets (API key 2): request and response bodies.
 *
 * Samsa's own field lists for every version up to LIST_OFFSETS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_LIST_OFFSETS_H
#define SAMSA_PROTO_MSG_LIST_OFFSETS_H

#include "proto/schema.h"

#define LIST_OFFSETS_API_KEY 2
#define LIST_OFFSETS_FLEX_FROM 6
#define LIST_OFFSETS_MAX_VERSION 10

#define LIST_OFFSETS_REQ_PARTITIONS(F, S) \
    F(S, I32, partition_index,      0, 99) \
    F(S, I32, current_leader_epoch, 4, 99, DFLT(-1)) \
    F(S, I64, timestamp,            0, 99) \
    F(S, I32, max_num_offsets,      0, 0, DFLT(1))
KSTRUCT_DECL(list_offsets_req_partitions, LIST_OFFSETS_REQ_PARTITIONS)

#define LIST_OFFSETS_REQ_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, list_offsets_req_partitions)
KSTRUCT_DECL(list_offsets_req_topics, LIST_OFFSETS_REQ_TOPICS)

#define LIST_OFFSETS_REQ(F, S) \
    F(S, I32,     replica_id,      0, 99) \
    F(S, I8,      isolation_level, 2, 99) \
    F(S, ASTRUCT, topics,          0, 99, list_offsets_req_topics) \
    F(S, I32,     timeout_ms,      10, 99)
KSTRUCT_DECL(list_offsets_req, LIST_OFFSETS_REQ)

#define LIST_OFFSETS_RESP_PARTITIONS(F, S) \
    F(S, I32,  partition_index,   0, 99) \
    F(S, I16,  error_code,        0, 99) \
    F(S, AI64, old_style_offsets, 0, 0) \
    F(S, I64,  timestamp,         1, 99, DFLT(-1)) \
    F(S, I64,  offset,            1, 99, DFLT(-1)) \
    F(S, I32,  leader_epoch,      4, 99, DFLT(-1))
KSTRUCT_DECL(list_offsets_resp_partitions, LIST_OFFSETS_RESP_PARTITIONS)

#define LIST_OFFSETS_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, list_offsets_resp_partitions)
KSTRUCT_DECL(list_offsets_resp_topics, LIST_OFFSETS_RESP_TOPICS)

#define LIST_OFFSETS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 2, 99) \
    F(S, ASTRUCT, topics,           0, 99, list_offsets_resp_topics)
KSTRUCT_DECL(list_offsets_resp, LIST_OFFSETS_RESP)

#define LIST_OFFSETS_STRUCTS(X, XE) \
    X(list_offsets_req_partitions, LIST_OFFSETS_REQ_PARTITIONS) \
    X(list_offsets_req_topics, LIST_OFFSETS_REQ_TOPICS) \
    X(list_offsets_req, LIST_OFFSETS_REQ) \
    X(list_offsets_resp_partitions, LIST_OFFSETS_RESP_PARTITIONS) \
    X(list_offsets_resp_topics, LIST_OFFSETS_RESP_TOPICS) \
    X(list_offsets_resp, LIST_OFFSETS_RESP)

#endif
