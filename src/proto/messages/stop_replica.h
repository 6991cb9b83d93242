/*
 * stop_replica.h - StopReplica (API key 5): request and response bodies.
 *
 * Samsa's own field lists for every version up to STOP_REPLICA_MAX_VERSION; the
 * format is described in proto/schema.h.  An inter-broker API: the
 * controller sends it (ZooKeeper mode); which versions the broker serves
 * is decided by the dispatch table, not here.
 */
#ifndef SAMSA_PROTO_MSG_STOP_REPLICA_H
#define SAMSA_PROTO_MSG_STOP_REPLICA_H

#include "proto/schema.h"

#define STOP_REPLICA_API_KEY 5
#define STOP_REPLICA_FLEX_FROM 2
#define STOP_REPLICA_MAX_VERSION 4

#define STOP_REPLICA_REQ_UNGROUPED(F, S) \
    F(S, STR, topic_name,      0, 0) \
    F(S, I32, partition_index, 0, 0)
KSTRUCT_DECL(stop_replica_req_ungrouped, STOP_REPLICA_REQ_UNGROUPED)

#define STOP_REPLICA_REQ_TOPICS(F, S) \
    F(S, STR,  name,              1, 2) \
    F(S, AI32, partition_indexes, 1, 2)
KSTRUCT_DECL(stop_replica_req_topics, STOP_REPLICA_REQ_TOPICS)

#define STOP_REPLICA_REQ_PARTITION_STATES(F, S) \
    F(S, I32,  partition_index,  3, 99) \
    F(S, I32,  leader_epoch,     3, 99, DFLT(-1)) \
    F(S, BOOL, delete_partition, 3, 99)
KSTRUCT_DECL(stop_replica_req_partition_states, STOP_REPLICA_REQ_PARTITION_STATES)

#define STOP_REPLICA_REQ_TOPIC_STATES(F, S) \
    F(S, STR,     topic_name,       3, 99) \
    F(S, ASTRUCT, partition_states, 3, 99, stop_replica_req_partition_states)
KSTRUCT_DECL(stop_replica_req_topic_states, STOP_REPLICA_REQ_TOPIC_STATES)

#define STOP_REPLICA_REQ(F, S) \
    F(S, I32,     controller_id,        0, 99) \
    F(S, BOOL,    is_kraft_controller,  4, 99) \
    F(S, I32,     controller_epoch,     0, 99) \
    F(S, I64,     broker_epoch,         1, 99, DFLT(-1)) \
    F(S, BOOL,    delete_partitions,    0, 2) \
    F(S, ASTRUCT, ungrouped_partitions, 0, 0, stop_replica_req_ungrouped) \
    F(S, ASTRUCT, topics,               1, 2, stop_replica_req_topics) \
    F(S, ASTRUCT, topic_states,         3, 99, stop_replica_req_topic_states)
KSTRUCT_DECL(stop_replica_req, STOP_REPLICA_REQ)

#define STOP_REPLICA_RESP_PARTITION_ERRORS(F, S) \
    F(S, STR, topic_name,      0, 99) \
    F(S, I32, partition_index, 0, 99) \
    F(S, I16, error_code,      0, 99)
KSTRUCT_DECL(stop_replica_resp_partition_errors, STOP_REPLICA_RESP_PARTITION_ERRORS)

#define STOP_REPLICA_RESP(F, S) \
    F(S, I16,     error_code,       0, 99) \
    F(S, ASTRUCT, partition_errors, 0, 99, stop_replica_resp_partition_errors)
KSTRUCT_DECL(stop_replica_resp, STOP_REPLICA_RESP)

#define STOP_REPLICA_STRUCTS(X, XE) \
    X(stop_replica_req_ungrouped, STOP_REPLICA_REQ_UNGROUPED) \
    X(stop_replica_req_topics, STOP_REPLICA_REQ_TOPICS) \
    X(stop_replica_req_partition_states, STOP_REPLICA_REQ_PARTITION_STATES) \
    X(stop_replica_req_topic_states, STOP_REPLICA_REQ_TOPIC_STATES) \
    X(stop_replica_req, STOP_REPLICA_REQ) \
    X(stop_replica_resp_partition_errors, STOP_REPLICA_RESP_PARTITION_ERRORS) \
    X(stop_replica_resp, STOP_REPLICA_RESP)

#endif
