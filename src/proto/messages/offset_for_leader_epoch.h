/*
 * offset_for_leader_epoch.h - Offset For Leader Epoch (API key 23): request and response bodies.
 *
 * Samsa's own field lists for every version up to OFFSET_FOR_LEADER_EPOCH_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_OFFSET_FOR_LEADER_EPOCH_H
#define SAMSA_PROTO_MSG_OFFSET_FOR_LEADER_EPOCH_H

#include "proto/schema.h"

#define OFFSET_FOR_LEADER_EPOCH_API_KEY 23
#define OFFSET_FOR_LEADER_EPOCH_FLEX_FROM 4
#define OFFSET_FOR_LEADER_EPOCH_MAX_VERSION 4

#define OFFSET_FOR_LEADER_EPOCH_REQ_PARTITIONS(F, S) \
    F(S, I32, partition,            0, 99) \
    F(S, I32, current_leader_epoch, 2, 99, DFLT(-1)) \
    F(S, I32, leader_epoch,         0, 99)
KSTRUCT_DECL(offset_for_leader_epoch_req_partitions, OFFSET_FOR_LEADER_EPOCH_REQ_PARTITIONS)

#define OFFSET_FOR_LEADER_EPOCH_REQ_TOPICS(F, S) \
    F(S, STR,     topic,      0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, offset_for_leader_epoch_req_partitions)
KSTRUCT_DECL(offset_for_leader_epoch_req_topics, OFFSET_FOR_LEADER_EPOCH_REQ_TOPICS)

#define OFFSET_FOR_LEADER_EPOCH_REQ(F, S) \
    F(S, I32,     replica_id, 3, 99, DFLT(-2)) \
    F(S, ASTRUCT, topics,     0, 99, offset_for_leader_epoch_req_topics)
KSTRUCT_DECL(offset_for_leader_epoch_req, OFFSET_FOR_LEADER_EPOCH_REQ)

#define OFFSET_FOR_LEADER_EPOCH_RESP_PARTITIONS(F, S) \
    F(S, I16, error_code,   0, 99) \
    F(S, I32, partition,    0, 99) \
    F(S, I32, leader_epoch, 1, 99, DFLT(-1)) \
    F(S, I64, end_offset,   0, 99, DFLT(-1))
KSTRUCT_DECL(offset_for_leader_epoch_resp_partitions, OFFSET_FOR_LEADER_EPOCH_RESP_PARTITIONS)

#define OFFSET_FOR_LEADER_EPOCH_RESP_TOPICS(F, S) \
    F(S, STR,     topic,      0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, offset_for_leader_epoch_resp_partitions)
KSTRUCT_DECL(offset_for_leader_epoch_resp_topics, OFFSET_FOR_LEADER_EPOCH_RESP_TOPICS)

#define OFFSET_FOR_LEADER_EPOCH_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 2, 99) \
    F(S, ASTRUCT, topics,           0, 99, offset_for_leader_epoch_resp_topics)
KSTRUCT_DECL(offset_for_leader_epoch_resp, OFFSET_FOR_LEADER_EPOCH_RESP)

#define OFFSET_FOR_LEADER_EPOCH_STRUCTS(X, XE) \
    X(offset_for_leader_epoch_req_partitions, OFFSET_FOR_LEADER_EPOCH_REQ_PARTITIONS) \
    X(offset_for_leader_epoch_req_topics, OFFSET_FOR_LEADER_EPOCH_REQ_TOPICS) \
    X(offset_for_leader_epoch_req, OFFSET_FOR_LEADER_EPOCH_REQ) \
    X(offset_for_leader_epoch_resp_partitions, OFFSET_FOR_LEADER_EPOCH_RESP_PARTITIONS) \
    X(offset_for_leader_epoch_resp_topics, OFFSET_FOR_LEADER_EPOCH_RESP_TOPICS) \
    X(offset_for_leader_epoch_resp, OFFSET_FOR_LEADER_EPOCH_RESP)

#endif
