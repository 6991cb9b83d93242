/*
 * find_coordinator.h - Find Coordinator (API key 10): request and response bodies.
 *
 * Samsa's own field lists for every version up to FIND_COORDINATOR_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_FIND_COORDINATOR_H
#define SAMSA_PROTO_MSG_FIND_COORDINATOR_H

#include "proto/schema.h"

#define FIND_COORDINATOR_API_KEY 10
#define FIND_COORDINATOR_FLEX_FROM 3
#define FIND_COORDINATOR_MAX_VERSION 6

#define FIND_COORDINATOR_REQ(F, S) \
    F(S, STR,  key,              0, 3) \
    F(S, I8,   key_type,         1, 99) \
    F(S, ASTR, coordinator_keys, 4, 99)
KSTRUCT_DECL(find_coordinator_req, FIND_COORDINATOR_REQ)

#define FIND_COORDINATOR_RESP_COORDINATORS(F, S) \
    F(S, STR, key,           4, 99) \
    F(S, I32, node_id,       4, 99) \
    F(S, STR, host,          4, 99) \
    F(S, I32, port,          4, 99) \
    F(S, I16, error_code,    4, 99) \
    F(S, STR, error_message, 4, 99, NULLABLE(4))
KSTRUCT_DECL(find_coordinator_resp_coordinators, FIND_COORDINATOR_RESP_COORDINATORS)

#define FIND_COORDINATOR_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 1, 99) \
    F(S, I16,     error_code,       0, 3) \
    F(S, STR,     error_message,    1, 3, NULLABLE(1)) \
    F(S, I32,     node_id,          0, 3) \
    F(S, STR,     host,             0, 3) \
    F(S, I32,     port,             0, 3) \
    F(S, ASTRUCT, coordinators,     4, 99, find_coordinator_resp_coordinators)
KSTRUCT_DECL(find_coordinator_resp, FIND_COORDINATOR_RESP)

#define FIND_COORDINATOR_STRUCTS(X, XE) \
    X(find_coordinator_req, FIND_COORDINATOR_REQ) \
    X(find_coordinator_resp_coordinators, FIND_COORDINATOR_RESP_COORDINATORS) \
    X(find_coordinator_resp, FIND_COORDINATOR_RESP)

#endif
