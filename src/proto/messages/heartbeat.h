/*
 * heartbeat.h - Heartbeat (API key 12): request and response bodies.
 *
 * Samsa's own field lists for every version up to HEARTBEAT_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_HEARTBEAT_H
#define SAMSA_PROTO_MSG_HEARTBEAT_H

#include "proto/schema.h"

#define HEARTBEAT_API_KEY 12
#define HEARTBEAT_FLEX_FROM 4
#define HEARTBEAT_MAX_VERSION 4

#define HEARTBEAT_REQ(F, S) \
    F(S, STR, group_id,          0, 99) \
    F(S, I32, generation_id,     0, 99) \
    F(S, STR, member_id,         0, 99) \
    F(S, STR, group_instance_id, 3, 99, NULLABLE(3), DFLT_NULL)
KSTRUCT_DECL(heartbeat_req, HEARTBEAT_REQ)

#define HEARTBEAT_RESP(F, S) \
    F(S, I32, throttle_time_ms, 1, 99) \
    F(S, I16, error_code,       0, 99)
KSTRUCT_DECL(heartbeat_resp, HEARTBEAT_RESP)

#define HEARTBEAT_STRUCTS(X, XE) \
    X(heartbeat_req, HEARTBEAT_REQ) \
    X(heartbeat_resp, HEARTBEAT_RESP)

#endif
