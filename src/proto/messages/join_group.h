/*
 * join_group.h - Join Group (API key 11): request and response bodies.
 *
 * Samsa's own field lists for every version up to JOIN_GROUP_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_JOIN_GROUP_H
#define SAMSA_PROTO_MSG_JOIN_GROUP_H

#include "proto/schema.h"

#define JOIN_GROUP_API_KEY 11
#define JOIN_GROUP_FLEX_FROM 6
#define JOIN_GROUP_MAX_VERSION 9

#define JOIN_GROUP_REQ_PROTOCOLS(F, S) \
    F(S, STR,   name,     0, 99) \
    F(S, BYTES, metadata, 0, 99)
KSTRUCT_DECL(join_group_req_protocols, JOIN_GROUP_REQ_PROTOCOLS)

#define JOIN_GROUP_REQ(F, S) \
    F(S, STR,     group_id,             0, 99) \
    F(S, I32,     session_timeout_ms,   0, 99) \
    F(S, I32,     rebalance_timeout_ms, 1, 99, DFLT(-1)) \
    F(S, STR,     member_id,            0, 99) \
    F(S, STR,     group_instance_id,    5, 99, NULLABLE(5), DFLT_NULL) \
    F(S, STR,     protocol_type,        0, 99) \
    F(S, ASTRUCT, protocols,            0, 99, join_group_req_protocols) \
    F(S, STR,     reason,               8, 99, NULLABLE(8), DFLT_NULL)
KSTRUCT_DECL(join_group_req, JOIN_GROUP_REQ)

#define JOIN_GROUP_RESP_MEMBERS(F, S) \
    F(S, STR,   member_id,         0, 99) \
    F(S, STR,   group_instance_id, 5, 99, NULLABLE(5), DFLT_NULL) \
    F(S, BYTES, metadata,          0, 99)
KSTRUCT_DECL(join_group_resp_members, JOIN_GROUP_RESP_MEMBERS)

#define JOIN_GROUP_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 2, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, I32,     generation_id,    0, 99, DFLT(-1)) \
    F(S, STR,     protocol_type,    7, 99, NULLABLE(7), DFLT_NULL) \
    F(S, STR,     protocol_name,    0, 99, NULLABLE(7)) \
    F(S, STR,     leader,           0, 99) \
    F(S, BOOL,    skip_assignment,  9, 99) \
    F(S, STR,     member_id,        0, 99) \
    F(S, ASTRUCT, members,          0, 99, join_group_resp_members)
KSTRUCT_DECL(join_group_resp, JOIN_GROUP_RESP)

#define JOIN_GROUP_STRUCTS(X, XE) \
    X(join_group_req_protocols, JOIN_GROUP_REQ_PROTOCOLS) \
    X(join_group_req, JOIN_GROUP_REQ) \
    X(join_group_resp_members, JOIN_GROUP_RESP_MEMBERS) \
    X(join_group_resp, JOIN_GROUP_RESP)

#endif
