/*
 * offset_fetch.h - Offset Fetch (API key 9): request and response bodies.
 *
 * Samsa's own field lists for every version up to OFFSET_FETCH_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_OFFSET_FETCH_H
#define SAMSA_PROTO_MSG_OFFSET_FETCH_H

#include "proto/schema.h"

#define OFFSET_FETCH_API_KEY 9
#define OFFSET_FETCH_FLEX_FROM 6
#define OFFSET_FETCH_MAX_VERSION 9

#define OFFSET_FETCH_REQ_TOPICS(F, S) \
    F(S, STR,  name,              0, 7) \
    F(S, AI32, partition_indexes, 0, 7)
KSTRUCT_DECL(offset_fetch_req_topics, OFFSET_FETCH_REQ_TOPICS)

#define OFFSET_FETCH_REQ_GROUPS_TOPICS(F, S) \
    F(S, STR,  name,              8, 99) \
    F(S, AI32, partition_indexes, 8, 99)
KSTRUCT_DECL(offset_fetch_req_groups_topics, OFFSET_FETCH_REQ_GROUPS_TOPICS)

#define OFFSET_FETCH_REQ_GROUPS(F, S) \
    F(S, STR,     group_id,     8, 99) \
    F(S, STR,     member_id,    9, 99, NULLABLE(9), DFLT_NULL) \
    F(S, I32,     member_epoch, 9, 99, DFLT(-1)) \
    F(S, ASTRUCT, topics,       8, 99, offset_fetch_req_groups_topics, NULLABLE(8))
KSTRUCT_DECL(offset_fetch_req_groups, OFFSET_FETCH_REQ_GROUPS)

#define OFFSET_FETCH_REQ(F, S) \
    F(S, STR,     group_id,       0, 7) \
    F(S, ASTRUCT, topics,         0, 7, offset_fetch_req_topics, NULLABLE(2)) \
    F(S, ASTRUCT, groups,         8, 99, offset_fetch_req_groups) \
    F(S, BOOL,    require_stable, 7, 99)
KSTRUCT_DECL(offset_fetch_req, OFFSET_FETCH_REQ)

#define OFFSET_FETCH_RESP_PARTITIONS(F, S) \
    F(S, I32, partition_index,        0, 7) \
    F(S, I64, committed_offset,       0, 7) \
    F(S, I32, committed_leader_epoch, 5, 7, DFLT(-1)) \
    F(S, STR, metadata,               0, 7, NULLABLE(0)) \
    F(S, I16, error_code,             0, 7)
KSTRUCT_DECL(offset_fetch_resp_partitions, OFFSET_FETCH_RESP_PARTITIONS)

#define OFFSET_FETCH_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 7) \
    F(S, ASTRUCT, partitions, 0, 7, offset_fetch_resp_partitions)
KSTRUCT_DECL(offset_fetch_resp_topics, OFFSET_FETCH_RESP_TOPICS)

#define OFFSET_FETCH_RESP_GROUPS_TOPICS_PARTITIONS(F, S) \
    F(S, I32, partition_index,        8, 99) \
    F(S, I64, committed_offset,       8, 99) \
    F(S, I32, committed_leader_epoch, 8, 99, DFLT(-1)) \
    F(S, STR, metadata,               8, 99, NULLABLE(8)) \
    F(S, I16, error_code,             8, 99)
KSTRUCT_DECL(offset_fetch_resp_groups_topics_partitions, OFFSET_FETCH_RESP_GROUPS_TOPICS_PARTITIONS)

#define OFFSET_FETCH_RESP_GROUPS_TOPICS(F, S) \
    F(S, STR,     name,       8, 99) \
    F(S, ASTRUCT, partitions, 8, 99, offset_fetch_resp_groups_topics_partitions)
KSTRUCT_DECL(offset_fetch_resp_groups_topics, OFFSET_FETCH_RESP_GROUPS_TOPICS)

#define OFFSET_FETCH_RESP_GROUPS(F, S) \
    F(S, STR,     group_id,   8, 99) \
    F(S, ASTRUCT, topics,     8, 99, offset_fetch_resp_groups_topics) \
    F(S, I16,     error_code, 8, 99)
KSTRUCT_DECL(offset_fetch_resp_groups, OFFSET_FETCH_RESP_GROUPS)

#define OFFSET_FETCH_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 3, 99) \
    F(S, ASTRUCT, topics,           0, 7, offset_fetch_resp_topics) \
    F(S, I16,     error_code,       2, 7) \
    F(S, ASTRUCT, groups,           8, 99, offset_fetch_resp_groups)
KSTRUCT_DECL(offset_fetch_resp, OFFSET_FETCH_RESP)

#define OFFSET_FETCH_STRUCTS(X, XE) \
    X(offset_fetch_req_topics, OFFSET_FETCH_REQ_TOPICS) \
    X(offset_fetch_req_groups_topics, OFFSET_FETCH_REQ_GROUPS_TOPICS) \
    X(offset_fetch_req_groups, OFFSET_FETCH_REQ_GROUPS) \
    X(offset_fetch_req, OFFSET_FETCH_REQ) \
    X(offset_fetch_resp_partitions, OFFSET_FETCH_RESP_PARTITIONS) \
    X(offset_fetch_resp_topics, OFFSET_FETCH_RESP_TOPICS) \
    X(offset_fetch_resp_groups_topics_partitions, OFFSET_FETCH_RESP_GROUPS_TOPICS_PARTITIONS) \
    X(offset_fetch_resp_groups_topics, OFFSET_FETCH_RESP_GROUPS_TOPICS) \
    X(offset_fetch_resp_groups, OFFSET_FETCH_RESP_GROUPS) \
    X(offset_fetch_resp, OFFSET_FETCH_RESP)

#endif
