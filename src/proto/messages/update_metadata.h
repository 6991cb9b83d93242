/*
 * update_metadata.h - UpdateMetadata (API key 6): request and response bodies.
 *
 * Samsa's own field lists for every version up to UPDATE_METADATA_MAX_VERSION; the
 * format is described in proto/schema.h.  An inter-broker API: the
 * controller sends it (ZooKeeper mode); which versions the broker serves
 * is decided by the dispatch table, not here.
 */
#ifndef SAMSA_PROTO_MSG_UPDATE_METADATA_H
#define SAMSA_PROTO_MSG_UPDATE_METADATA_H

#include "proto/schema.h"

#define UPDATE_METADATA_API_KEY 6
#define UPDATE_METADATA_FLEX_FROM 6
#define UPDATE_METADATA_MAX_VERSION 8

/* One partition's state (Kafka's common struct): in the request's
 * ungrouped list up to v4 (with its topic name), per topic from v5. */
#define UPDATE_METADATA_PARTITION_STATE(F, S) \
    F(S, STR,  topic_name,       0, 4) \
    F(S, I32,  partition_index,  0, 99) \
    F(S, I32,  controller_epoch, 0, 99) \
    F(S, I32,  leader,           0, 99) \
    F(S, I32,  leader_epoch,     0, 99) \
    F(S, AI32, isr,              0, 99) \
    F(S, I32,  zk_version,       0, 99) \
    F(S, AI32, replicas,         0, 99) \
    F(S, AI32, offline_replicas, 4, 99)
KSTRUCT_DECL(update_metadata_partition_state, UPDATE_METADATA_PARTITION_STATE)

#define UPDATE_METADATA_REQ_TOPIC_STATES(F, S) \
    F(S, STR,     topic_name,       5, 99) \
    F(S, UUID,    topic_id,         7, 99) \
    F(S, ASTRUCT, partition_states, 5, 99, update_metadata_partition_state)
KSTRUCT_DECL(update_metadata_req_topic_states, UPDATE_METADATA_REQ_TOPIC_STATES)

#define UPDATE_METADATA_REQ_ENDPOINTS(F, S) \
    F(S, I32, port,              1, 99) \
    F(S, STR, host,              1, 99) \
    F(S, STR, listener,          3, 99) \
    F(S, I16, security_protocol, 1, 99)
KSTRUCT_DECL(update_metadata_req_endpoints, UPDATE_METADATA_REQ_ENDPOINTS)

#define UPDATE_METADATA_REQ_LIVE_BROKERS(F, S) \
    F(S, I32,     id,        0, 99) \
    F(S, STR,     v0_host,   0, 0) \
    F(S, I32,     v0_port,   0, 0) \
    F(S, ASTRUCT, endpoints, 1, 99, update_metadata_req_endpoints) \
    F(S, STR,     rack,      2, 99, NULLABLE(0), DFLT_NULL)
KSTRUCT_DECL(update_metadata_req_live_brokers, UPDATE_METADATA_REQ_LIVE_BROKERS)

#define UPDATE_METADATA_REQ(F, S) \
    F(S, I32,     controller_id,              0, 99) \
    F(S, BOOL,    is_kraft_controller,        8, 99) \
    F(S, I8,      type,                       8, 99, TAG(0, 8)) \
    F(S, I32,     controller_epoch,           0, 99) \
    F(S, I64,     broker_epoch,               5, 99, DFLT(-1)) \
    F(S, ASTRUCT, ungrouped_partition_states, 0, 4, update_metadata_partition_state) \
    F(S, ASTRUCT, topic_states,               5, 99, update_metadata_req_topic_states) \
    F(S, ASTRUCT, live_brokers,               0, 99, update_metadata_req_live_brokers)
KSTRUCT_DECL(update_metadata_req, UPDATE_METADATA_REQ)

#define UPDATE_METADATA_RESP(F, S) \
    F(S, I16, error_code, 0, 99)
KSTRUCT_DECL(update_metadata_resp, UPDATE_METADATA_RESP)

#define UPDATE_METADATA_STRUCTS(X, XE) \
    X(update_metadata_partition_state, UPDATE_METADATA_PARTITION_STATE) \
    X(update_metadata_req_topic_states, UPDATE_METADATA_REQ_TOPIC_STATES) \
    X(update_metadata_req_endpoints, UPDATE_METADATA_REQ_ENDPOINTS) \
    X(update_metadata_req_live_brokers, UPDATE_METADATA_REQ_LIVE_BROKERS) \
    X(update_metadata_req, UPDATE_METADATA_REQ) \
    X(update_metadata_resp, UPDATE_METADATA_RESP)

#endif
