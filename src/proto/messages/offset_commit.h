/*
 * offset_commit.h - Offset Commit (API key 8): request and response bodies.
 *
 * Samsa's own field lists for every version up to OFFSET_COMMIT_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_OFFSET_COMMIT_H
#define SAMSA_PROTO_MSG_OFFSET_COMMIT_H

#include "proto/schema.h"

#define OFFSET_COMMIT_API_KEY 8
#define OFFSET_COMMIT_FLEX_FROM 8
#define OFFSET_COMMIT_MAX_VERSION 9

#define OFFSET_COMMIT_REQ_PARTITIONS(F, S) \
    F(S, I32, partition_index,        0, 99) \
    F(S, I64, committed_offset,       0, 99) \
    F(S, I32, committed_leader_epoch, 6, 99, DFLT(-1)) \
    F(S, I64, commit_timestamp,       1, 1, DFLT(-1)) \
    F(S, STR, committed_metadata,     0, 99, NULLABLE(0))
KSTRUCT_DECL(offset_commit_req_partitions, OFFSET_COMMIT_REQ_PARTITIONS)

#define OFFSET_COMMIT_REQ_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, offset_commit_req_partitions)
KSTRUCT_DECL(offset_commit_req_topics, OFFSET_COMMIT_REQ_TOPICS)

#define OFFSET_COMMIT_REQ(F, S) \
    F(S, STR,     group_id,                      0, 99) \
    F(S, I32,     generation_id_or_member_epoch, 1, 99, DFLT(-1)) \
    F(S, STR,     member_id,                     1, 99) \
    F(S, STR,     group_instance_id,             7, 99, NULLABLE(7), DFLT_NULL) \
    F(S, I64,     retention_time_ms,             2, 4, DFLT(-1)) \
    F(S, ASTRUCT, topics,                        0, 99, offset_commit_req_topics)
KSTRUCT_DECL(offset_commit_req, OFFSET_COMMIT_REQ)

#define OFFSET_COMMIT_RESP_PARTITIONS(F, S) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I16, error_code,      0, 99)
KSTRUCT_DECL(offset_commit_resp_partitions, OFFSET_COMMIT_RESP_PARTITIONS)

#define OFFSET_COMMIT_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, offset_commit_resp_partitions)
KSTRUCT_DECL(offset_commit_resp_topics, OFFSET_COMMIT_RESP_TOPICS)

#define OFFSET_COMMIT_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 3, 99) \
    F(S, ASTRUCT, topics,           0, 99, offset_commit_resp_topics)
KSTRUCT_DECL(offset_commit_resp, OFFSET_COMMIT_RESP)

#define OFFSET_COMMIT_STRUCTS(X, XE) \
    X(offset_commit_req_partitions, OFFSET_COMMIT_REQ_PARTITIONS) \
    X(offset_commit_req_topics, OFFSET_COMMIT_REQ_TOPICS) \
    X(offset_commit_req, OFFSET_COMMIT_REQ) \
    X(offset_commit_resp_partitions, OFFSET_COMMIT_RESP_PARTITIONS) \
    X(offset_commit_resp_topics, OFFSET_COMMIT_RESP_TOPICS) \
    X(offset_commit_resp, OFFSET_COMMIT_RESP)

#endif
