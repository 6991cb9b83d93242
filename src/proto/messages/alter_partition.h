/*
 * alter_partition.h - AlterPartition (API key 56): request and response bodies.
 *
 * Samsa's own field lists for every version up to ALTER_PARTITION_MAX_VERSION; the
 * format is described in proto/schema.h.  An inter-broker API: the
 * controller sends it (ZooKeeper mode); which versions the broker serves
 * is decided by the dispatch table, not here.
 */
#ifndef SAMSA_PROTO_MSG_ALTER_PARTITION_H
#define SAMSA_PROTO_MSG_ALTER_PARTITION_H

#include "proto/schema.h"

#define ALTER_PARTITION_API_KEY 56
#define ALTER_PARTITION_FLEX_FROM 0
#define ALTER_PARTITION_MAX_VERSION 3

#define ALTER_PARTITION_REQ_BROKER_STATE(F, S) \
    F(S, I32, broker_id,    3, 99) \
    F(S, I64, broker_epoch, 3, 99, DFLT(-1))
KSTRUCT_DECL(alter_partition_req_broker_state, ALTER_PARTITION_REQ_BROKER_STATE)

#define ALTER_PARTITION_REQ_PARTITIONS(F, S) \
    F(S, I32,     partition_index,       0, 99) \
    F(S, I32,     leader_epoch,          0, 99) \
    F(S, AI32,    new_isr,               0, 2) \
    F(S, ASTRUCT, new_isr_with_epochs,   3, 99, alter_partition_req_broker_state) \
    F(S, I8,      leader_recovery_state, 1, 99) \
    F(S, I32,     partition_epoch,       0, 99)
KSTRUCT_DECL(alter_partition_req_partitions, ALTER_PARTITION_REQ_PARTITIONS)

#define ALTER_PARTITION_REQ_TOPICS(F, S) \
    F(S, STR,     topic_name, 0, 1) \
    F(S, UUID,    topic_id,   2, 99) \
    F(S, ASTRUCT, partitions, 0, 99, alter_partition_req_partitions)
KSTRUCT_DECL(alter_partition_req_topics, ALTER_PARTITION_REQ_TOPICS)

#define ALTER_PARTITION_REQ(F, S) \
    F(S, I32,     broker_id,    0, 99) \
    F(S, I64,     broker_epoch, 0, 99, DFLT(-1)) \
    F(S, ASTRUCT, topics,       0, 99, alter_partition_req_topics)
KSTRUCT_DECL(alter_partition_req, ALTER_PARTITION_REQ)

#define ALTER_PARTITION_RESP_PARTITIONS(F, S) \
    F(S, I32,  partition_index,       0, 99) \
    F(S, I16,  error_code,            0, 99) \
    F(S, I32,  leader_id,             0, 99) \
    F(S, I32,  leader_epoch,          0, 99) \
    F(S, AI32, isr,                   0, 99) \
    F(S, I8,   leader_recovery_state, 1, 99) \
    F(S, I32,  partition_epoch,       0, 99)
KSTRUCT_DECL(alter_partition_resp_partitions, ALTER_PARTITION_RESP_PARTITIONS)

#define ALTER_PARTITION_RESP_TOPICS(F, S) \
    F(S, STR,     topic_name, 0, 1) \
    F(S, UUID,    topic_id,   2, 99) \
    F(S, ASTRUCT, partitions, 0, 99, alter_partition_resp_partitions)
KSTRUCT_DECL(alter_partition_resp_topics, ALTER_PARTITION_RESP_TOPICS)

#define ALTER_PARTITION_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, ASTRUCT, topics,           0, 99, alter_partition_resp_topics)
KSTRUCT_DECL(alter_partition_resp, ALTER_PARTITION_RESP)

#define ALTER_PARTITION_STRUCTS(X, XE) \
    X(alter_partition_req_broker_state, ALTER_PARTITION_REQ_BROKER_STATE) \
    X(alter_partition_req_partitions, ALTER_PARTITION_REQ_PARTITIONS) \
    X(alter_partition_req_topics, ALTER_PARTITION_REQ_TOPICS) \
    X(alter_partition_req, ALTER_PARTITION_REQ) \
    X(alter_partition_resp_partitions, ALTER_PARTITION_RESP_PARTITIONS) \
    X(alter_partition_resp_topics, ALTER_PARTITION_RESP_TOPICS) \
    X(alter_partition_resp, ALTER_PARTITION_RESP)

#endif
