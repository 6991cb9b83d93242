/*
 * create_partitions.h - Create Partitions (API key 37): request and response bodies.
 *
 * Samsa's own field lists for every version up to CREATE_PARTITIONS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_CREATE_PARTITIONS_H
#define SAMSA_PROTO_MSG_CREATE_PARTITIONS_H

#include "proto/schema.h"

#define CREATE_PARTITIONS_API_KEY 37
#define CREATE_PARTITIONS_FLEX_FROM 2
#define CREATE_PARTITIONS_MAX_VERSION 3

#define CREATE_PARTITIONS_REQ_ASSIGNMENTS(F, S) \
    F(S, AI32, broker_ids, 0, 99)
KSTRUCT_DECL(create_partitions_req_assignments, CREATE_PARTITIONS_REQ_ASSIGNMENTS)

#define CREATE_PARTITIONS_REQ_TOPICS(F, S) \
    F(S, STR,     name,        0, 99) \
    F(S, I32,     count,       0, 99) \
    F(S, ASTRUCT, assignments, 0, 99, create_partitions_req_assignments, NULLABLE(0))
KSTRUCT_DECL(create_partitions_req_topics, CREATE_PARTITIONS_REQ_TOPICS)

#define CREATE_PARTITIONS_REQ(F, S) \
    F(S, ASTRUCT, topics,        0, 99, create_partitions_req_topics) \
    F(S, I32,     timeout_ms,    0, 99) \
    F(S, BOOL,    validate_only, 0, 99)
KSTRUCT_DECL(create_partitions_req, CREATE_PARTITIONS_REQ)

#define CREATE_PARTITIONS_RESP_RESULTS(F, S) \
    F(S, STR, name,          0, 99) \
    F(S, I16, error_code,    0, 99) \
    F(S, STR, error_message, 0, 99, NULLABLE(0), DFLT_NULL)
KSTRUCT_DECL(create_partitions_resp_results, CREATE_PARTITIONS_RESP_RESULTS)

#define CREATE_PARTITIONS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, results,          0, 99, create_partitions_resp_results)
KSTRUCT_DECL(create_partitions_resp, CREATE_PARTITIONS_RESP)

#define CREATE_PARTITIONS_STRUCTS(X, XE) \
    X(create_partitions_req_assignments, CREATE_PARTITIONS_REQ_ASSIGNMENTS) \
    X(create_partitions_req_topics, CREATE_PARTITIONS_REQ_TOPICS) \
    X(create_partitions_req, CREATE_PARTITIONS_REQ) \
    X(create_partitions_resp_results, CREATE_PARTITIONS_RESP_RESULTS) \
    X(create_partitions_resp, CREATE_PARTITIONS_RESP)

#endif
