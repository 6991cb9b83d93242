/*
 * produce.h - Produce (API key 0): request and response bodies.
 *
 * Samsa's own field lists for every version up to PRODUCE_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_PRODUCE_H
#define SAMSA_PROTO_MSG_PRODUCE_H

#include "proto/schema.h"

#define PRODUCE_API_KEY 0
#define PRODUCE_FLEX_FROM 9
#define PRODUCE_MAX_VERSION 11

#define PRODUCE_REQ_PARTITION_DATA(F, S) \
    F(S, I32,     index,   0, 99) \
    F(S, RECORDS, records, 0, 99, NULLABLE(0))
KSTRUCT_DECL(produce_req_partition_data, PRODUCE_REQ_PARTITION_DATA)

#define PRODUCE_REQ_TOPIC_DATA(F, S) \
    F(S, STR,     name,           0, 99) \
    F(S, ASTRUCT, partition_data, 0, 99, produce_req_partition_data)
KSTRUCT_DECL(produce_req_topic_data, PRODUCE_REQ_TOPIC_DATA)

#define PRODUCE_REQ(F, S) \
    F(S, STR,     transactional_id, 3, 99, NULLABLE(3), DFLT_NULL) \
    F(S, I16,     acks,             0, 99) \
    F(S, I32,     timeout_ms,       0, 99) \
    F(S, ASTRUCT, topic_data,       0, 99, produce_req_topic_data)
KSTRUCT_DECL(produce_req, PRODUCE_REQ)

#define PRODUCE_RESP_RECORD_ERRORS(F, S) \
    F(S, I32, batch_index,               8, 99) \
    F(S, STR, batch_index_error_message, 8, 99, NULLABLE(8), DFLT_NULL)
KSTRUCT_DECL(produce_resp_record_errors, PRODUCE_RESP_RECORD_ERRORS)

#define PRODUCE_RESP_CURRENT_LEADER(F, S) \
    F(S, I32, leader_id,    10, 99, DFLT(-1)) \
    F(S, I32, leader_epoch, 10, 99, DFLT(-1))
KSTRUCT_DECL(produce_resp_current_leader, PRODUCE_RESP_CURRENT_LEADER)

#define PRODUCE_RESP_PARTITION_RESPONSES(F, S) \
    F(S, I32,     index,              0, 99) \
    F(S, I16,     error_code,         0, 99) \
    F(S, I64,     base_offset,        0, 99) \
    F(S, I64,     log_append_time_ms, 2, 99, DFLT(-1)) \
    F(S, I64,     log_start_offset,   5, 99, DFLT(-1)) \
    F(S, ASTRUCT, record_errors,      8, 99, produce_resp_record_errors) \
    F(S, STR,     error_message,      8, 99, NULLABLE(8), DFLT_NULL) \
    F(S, STRUCT,  current_leader,     10, 99, produce_resp_current_leader, TAG(0, 10))
KSTRUCT_DECL(produce_resp_partition_responses, PRODUCE_RESP_PARTITION_RESPONSES)

#define PRODUCE_RESP_RESPONSES(F, S) \
    F(S, STR,     name,                0, 99) \
    F(S, ASTRUCT, partition_responses, 0, 99, produce_resp_partition_responses)
KSTRUCT_DECL(produce_resp_responses, PRODUCE_RESP_RESPONSES)

#define PRODUCE_RESP_NODE_ENDPOINTS(F, S) \
    F(S, I32, node_id, 10, 99) \
    F(S, STR, host,    10, 99) \
    F(S, I32, port,    10, 99) \
    F(S, STR, rack,    10, 99, NULLABLE(10), DFLT_NULL)
KSTRUCT_DECL(produce_resp_node_endpoints, PRODUCE_RESP_NODE_ENDPOINTS)

#define PRODUCE_RESP(F, S) \
    F(S, ASTRUCT, responses,        0, 99, produce_resp_responses) \
    F(S, I32,     throttle_time_ms, 1, 99) \
    F(S, ASTRUCT, node_endpoints,   10, 99, produce_resp_node_endpoints, TAG(0, 10))
KSTRUCT_DECL(produce_resp, PRODUCE_RESP)

#define PRODUCE_STRUCTS(X, XE) \
    X(produce_req_partition_data, PRODUCE_REQ_PARTITION_DATA) \
    X(produce_req_topic_data, PRODUCE_REQ_TOPIC_DATA) \
    X(produce_req, PRODUCE_REQ) \
    X(produce_resp_record_errors, PRODUCE_RESP_RECORD_ERRORS) \
    X(produce_resp_current_leader, PRODUCE_RESP_CURRENT_LEADER) \
    X(produce_resp_partition_responses, PRODUCE_RESP_PARTITION_RESPONSES) \
    X(produce_resp_responses, PRODUCE_RESP_RESPONSES) \
    X(produce_resp_node_endpoints, PRODUCE_RESP_NODE_ENDPOINTS) \
    X(produce_resp, PRODUCE_RESP)

#endif
