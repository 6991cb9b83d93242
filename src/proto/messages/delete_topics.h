/*
 * delete_topics.h - Delete Topics (API key 20): request and response bodies.
 *
 * Samsa's own field lists for every version up to DELETE_TOPICS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DELETE_TOPICS_H
#define SAMSA_PROTO_MSG_DELETE_TOPICS_H

#include "proto/schema.h"

#define DELETE_TOPICS_API_KEY 20
#define DELETE_TOPICS_FLEX_FROM 4
#define DELETE_TOPICS_MAX_VERSION 6

#define DELETE_TOPICS_REQ_TOPICS(F, S) \
    F(S, STR,  name,     6, 99, NULLABLE(6), DFLT_NULL) \
    F(S, UUID, topic_id, 6, 99)
KSTRUCT_DECL(delete_topics_req_topics, DELETE_TOPICS_REQ_TOPICS)

#define DELETE_TOPICS_REQ(F, S) \
    F(S, ASTRUCT, topics,      6, 99, delete_topics_req_topics) \
    F(S, ASTR,    topic_names, 0, 5) \
    F(S, I32,     timeout_ms,  0, 99)
KSTRUCT_DECL(delete_topics_req, DELETE_TOPICS_REQ)

#define DELETE_TOPICS_RESP_RESPONSES(F, S) \
    F(S, STR,  name,          0, 99, NULLABLE(6)) \
    F(S, UUID, topic_id,      6, 99) \
    F(S, I16,  error_code,    0, 99) \
    F(S, STR,  error_message, 5, 99, NULLABLE(5), DFLT_NULL)
KSTRUCT_DECL(delete_topics_resp_responses, DELETE_TOPICS_RESP_RESPONSES)

#define DELETE_TOPICS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 1, 99) \
    F(S, ASTRUCT, responses,        0, 99, delete_topics_resp_responses)
KSTRUCT_DECL(delete_topics_resp, DELETE_TOPICS_RESP)

#define DELETE_TOPICS_STRUCTS(X, XE) \
    X(delete_topics_req_topics, DELETE_TOPICS_REQ_TOPICS) \
    X(delete_topics_req, DELETE_TOPICS_REQ) \
    X(delete_topics_resp_responses, DELETE_TOPICS_RESP_RESPONSES) \
    X(delete_topics_resp, DELETE_TOPICS_RESP)

#endif
