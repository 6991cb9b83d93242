/*
 * fetch.h - Fetch (API key 1): request and response bodies.
 *
 * Samsa's own field lists for every version up to FETCH_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_FETCH_H
#define SAMSA_PROTO_MSG_FETCH_H

#include "proto/schema.h"

#define FETCH_API_KEY 1
#define FETCH_FLEX_FROM 12
#define FETCH_MAX_VERSION 17

#define FETCH_REQ_REPLICA_STATE(F, S) \
    F(S, I32, replica_id,    15, 99, DFLT(-1)) \
    F(S, I64, replica_epoch, 15, 99, DFLT(-1))
KSTRUCT_DECL(fetch_req_replica_state, FETCH_REQ_REPLICA_STATE)

#define FETCH_REQ_PARTITIONS(F, S) \
    F(S, I32,  partition,            0, 99) \
    F(S, I32,  current_leader_epoch, 9, 99, DFLT(-1)) \
    F(S, I64,  fetch_offset,         0, 99) \
    F(S, I32,  last_fetched_epoch,   12, 99, DFLT(-1)) \
    F(S, I64,  log_start_offset,     5, 99, DFLT(-1)) \
    F(S, I32,  partition_max_bytes,  0, 99) \
    F(S, UUID, replica_directory_id, 17, 99, TAG(0, 17))
KSTRUCT_DECL(fetch_req_partitions, FETCH_REQ_PARTITIONS)

#define FETCH_REQ_TOPICS(F, S) \
    F(S, STR,     topic,      0, 12) \
    F(S, UUID,    topic_id,   13, 99) \
    F(S, ASTRUCT, partitions, 0, 99, fetch_req_partitions)
KSTRUCT_DECL(fetch_req_topics, FETCH_REQ_TOPICS)

#define FETCH_REQ_FORGOTTEN_TOPICS_DATA(F, S) \
    F(S, STR,  topic,      7, 12) \
    F(S, UUID, topic_id,   13, 99) \
    F(S, AI32, partitions, 7, 99)
KSTRUCT_DECL(fetch_req_forgotten_topics_data, FETCH_REQ_FORGOTTEN_TOPICS_DATA)

#define FETCH_REQ(F, S) \
    F(S, STR,     cluster_id,            12, 99, NULLABLE(12), TAG(0, 12), DFLT_NULL) \
    F(S, I32,     replica_id,            0, 14, DFLT(-1)) \
    F(S, STRUCT,  replica_state,         15, 99, fetch_req_replica_state, TAG(1, 15)) \
    F(S, I32,     max_wait_ms,           0, 99) \
    F(S, I32,     min_bytes,             0, 99) \
    F(S, I32,     max_bytes,             3, 99, DFLT(2147483647)) \
    F(S, I8,      isolation_level,       4, 99) \
    F(S, I32,     session_id,            7, 99) \
    F(S, I32,     session_epoch,         7, 99, DFLT(-1)) \
    F(S, ASTRUCT, topics,                0, 99, fetch_req_topics) \
    F(S, ASTRUCT, forgotten_topics_data, 7, 99, fetch_req_forgotten_topics_data) \
    F(S, STR,     rack_id,               11, 99)
KSTRUCT_DECL(fetch_req, FETCH_REQ)

#define FETCH_RESP_DIVERGING_EPOCH(F, S) \
    F(S, I32, epoch,      12, 99, DFLT(-1)) \
    F(S, I64, end_offset, 12, 99, DFLT(-1))
KSTRUCT_DECL(fetch_resp_diverging_epoch, FETCH_RESP_DIVERGING_EPOCH)

#define FETCH_RESP_CURRENT_LEADER(F, S) \
    F(S, I32, leader_id,    12, 99, DFLT(-1)) \
    F(S, I32, leader_epoch, 12, 99, DFLT(-1))
KSTRUCT_DECL(fetch_resp_current_leader, FETCH_RESP_CURRENT_LEADER)

#define FETCH_RESP_SNAPSHOT_ID(F, S) \
    F(S, I64, end_offset, 0, 99, DFLT(-1)) \
    F(S, I32, epoch,      0, 99, DFLT(-1))
KSTRUCT_DECL(fetch_resp_snapshot_id, FETCH_RESP_SNAPSHOT_ID)

#define FETCH_RESP_ABORTED_TRANSACTIONS(F, S) \
    F(S, I64, producer_id,  4, 99) \
    F(S, I64, first_offset, 4, 99)
KSTRUCT_DECL(fetch_resp_aborted_transactions, FETCH_RESP_ABORTED_TRANSACTIONS)

#define FETCH_RESP_PARTITIONS(F, S) \
    F(S, I32,     partition_index,        0, 99) \
    F(S, I16,     error_code,             0, 99) \
    F(S, I64,     high_watermark,         0, 99) \
    F(S, I64,     last_stable_offset,     4, 99, DFLT(-1)) \
    F(S, I64,     log_start_offset,       5, 99, DFLT(-1)) \
    F(S, STRUCT,  diverging_epoch,        12, 99, fetch_resp_diverging_epoch, TAG(0, 12)) \
    F(S, STRUCT,  current_leader,         12, 99, fetch_resp_current_leader, TAG(1, 12)) \
    F(S, STRUCT,  snapshot_id,            12, 99, fetch_resp_snapshot_id, TAG(2, 12)) \
    F(S, ASTRUCT, aborted_transactions,   4, 99, fetch_resp_aborted_transactions, NULLABLE(4)) \
    F(S, I32,     preferred_read_replica, 11, 99, DFLT(-1)) \
    F(S, RECORDS, records,                0, 99, NULLABLE(0))
KSTRUCT_DECL(fetch_resp_partitions, FETCH_RESP_PARTITIONS)

#define FETCH_RESP_RESPONSES(F, S) \
    F(S, STR,     topic,      0, 12) \
    F(S, UUID,    topic_id,   13, 99) \
    F(S, ASTRUCT, partitions, 0, 99, fetch_resp_partitions)
KSTRUCT_DECL(fetch_resp_responses, FETCH_RESP_RESPONSES)

#define FETCH_RESP_NODE_ENDPOINTS(F, S) \
    F(S, I32, node_id, 16, 99) \
    F(S, STR, host,    16, 99) \
    F(S, I32, port,    16, 99) \
    F(S, STR, rack,    16, 99, NULLABLE(16), DFLT_NULL)
KSTRUCT_DECL(fetch_resp_node_endpoints, FETCH_RESP_NODE_ENDPOINTS)

#define FETCH_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 1, 99) \
    F(S, I16,     error_code,       7, 99) \
    F(S, I32,     session_id,       7, 99) \
    F(S, ASTRUCT, responses,        0, 99, fetch_resp_responses) \
    F(S, ASTRUCT, node_endpoints,   16, 99, fetch_resp_node_endpoints, TAG(0, 16))
KSTRUCT_DECL(fetch_resp, FETCH_RESP)

#define FETCH_STRUCTS(X, XE) \
    X(fetch_req_replica_state, FETCH_REQ_REPLICA_STATE) \
    X(fetch_req_partitions, FETCH_REQ_PARTITIONS) \
    X(fetch_req_topics, FETCH_REQ_TOPICS) \
    X(fetch_req_forgotten_topics_data, FETCH_REQ_FORGOTTEN_TOPICS_DATA) \
    X(fetch_req, FETCH_REQ) \
    X(fetch_resp_diverging_epoch, FETCH_RESP_DIVERGING_EPOCH) \
    X(fetch_resp_current_leader, FETCH_RESP_CURRENT_LEADER) \
    X(fetch_resp_snapshot_id, FETCH_RESP_SNAPSHOT_ID) \
    X(fetch_resp_aborted_transactions, FETCH_RESP_ABORTED_TRANSACTIONS) \
    X(fetch_resp_partitions, FETCH_RESP_PARTITIONS) \
    X(fetch_resp_responses, FETCH_RESP_RESPONSES) \
    X(fetch_resp_node_endpoints, FETCH_RESP_NODE_ENDPOINTS) \
    X(fetch_resp, FETCH_RESP)

#endif
