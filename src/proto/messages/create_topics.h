/*
 * create_topics.h - Create Topics (API key 19): request and response bodies.
 *
 * Samsa's own field lists for every version up to CREATE_TOPICS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_CREATE_TOPICS_H
#define SAMSA_PROTO_MSG_CREATE_TOPICS_H

#include "proto/schema.h"

#define CREATE_TOPICS_API_KEY 19
#define CREATE_TOPICS_FLEX_FROM 5
#define CREATE_TOPICS_MAX_VERSION 7

#define CREATE_TOPICS_REQ_ASSIGNMENTS(F, S) \
    F(S, I32,  partition_index, 0, 99) \
    F(S, AI32, broker_ids,      0, 99)
KSTRUCT_DECL(create_topics_req_assignments, CREATE_TOPICS_REQ_ASSIGNMENTS)

#define CREATE_TOPICS_REQ_CONFIGS(F, S) \
    F(S, STR, name,  0, 99) \
    F(S, STR, value, 0, 99, NULLABLE(0))
KSTRUCT_DECL(create_topics_req_configs, CREATE_TOPICS_REQ_CONFIGS)

#define CREATE_TOPICS_REQ_TOPICS(F, S) \
    F(S, STR,     name,               0, 99) \
    F(S, I32,     num_partitions,     0, 99) \
    F(S, I16,     replication_factor, 0, 99) \
    F(S, ASTRUCT, assignments,        0, 99, create_topics_req_assignments) \
    F(S, ASTRUCT, configs,            0, 99, create_topics_req_configs)
KSTRUCT_DECL(create_topics_req_topics, CREATE_TOPICS_REQ_TOPICS)

#define CREATE_TOPICS_REQ(F, S) \
    F(S, ASTRUCT, topics,        0, 99, create_topics_req_topics) \
    F(S, I32,     timeout_ms,    0, 99, DFLT(60000)) \
    F(S, BOOL,    validate_only, 1, 99)
KSTRUCT_DECL(create_topics_req, CREATE_TOPICS_REQ)

#define CREATE_TOPICS_RESP_CONFIGS(F, S) \
    F(S, STR,  name,          5, 99) \
    F(S, STR,  value,         5, 99, NULLABLE(5)) \
    F(S, BOOL, read_only,     5, 99) \
    F(S, I8,   config_source, 5, 99, DFLT(-1)) \
    F(S, BOOL, is_sensitive,  5, 99)
KSTRUCT_DECL(create_topics_resp_configs, CREATE_TOPICS_RESP_CONFIGS)

#define CREATE_TOPICS_RESP_TOPICS(F, S) \
    F(S, STR,     name,                    0, 99) \
    F(S, UUID,    topic_id,                7, 99) \
    F(S, I16,     error_code,              0, 99) \
    F(S, STR,     error_message,           1, 99, NULLABLE(0)) \
    F(S, I16,     topic_config_error_code, 5, 99, TAG(0, 5)) \
    F(S, I32,     num_partitions,          5, 99, DFLT(-1)) \
    F(S, I16,     replication_factor,      5, 99, DFLT(-1)) \
    F(S, ASTRUCT, configs,                 5, 99, create_topics_resp_configs, NULLABLE(5))
KSTRUCT_DECL(create_topics_resp_topics, CREATE_TOPICS_RESP_TOPICS)

#define CREATE_TOPICS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 2, 99) \
    F(S, ASTRUCT, topics,           0, 99, create_topics_resp_topics)
KSTRUCT_DECL(create_topics_resp, CREATE_TOPICS_RESP)

#define CREATE_TOPICS_STRUCTS(X, XE) \
    X(create_topics_req_assignments, CREATE_TOPICS_REQ_ASSIGNMENTS) \
    X(create_topics_req_configs, CREATE_TOPICS_REQ_CONFIGS) \
    X(create_topics_req_topics, CREATE_TOPICS_REQ_TOPICS) \
    X(create_topics_req, CREATE_TOPICS_REQ) \
    X(create_topics_resp_configs, CREATE_TOPICS_RESP_CONFIGS) \
    X(create_topics_resp_topics, CREATE_TOPICS_RESP_TOPICS) \
    X(create_topics_resp, CREATE_TOPICS_RESP)

#endif
