/*
 * describe_groups.h - Describe Groups (API key 15): request and response bodies.
 *
 * Samsa's own field lists for every version up to DESCRIBE_GROUPS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_GROUPS_H
#define SAMSA_PROTO_MSG_DESCRIBE_GROUPS_H

#include "proto/schema.h"

#define DESCRIBE_GROUPS_API_KEY 15
#define DESCRIBE_GROUPS_FLEX_FROM 5
#define DESCRIBE_GROUPS_MAX_VERSION 5

#define DESCRIBE_GROUPS_REQ(F, S) \
    F(S, ASTR, groups,                        0, 99) \
    F(S, BOOL, include_authorized_operations, 3, 99)
KSTRUCT_DECL(describe_groups_req, DESCRIBE_GROUPS_REQ)

#define DESCRIBE_GROUPS_RESP_MEMBERS(F, S) \
    F(S, STR,   member_id,         0, 99) \
    F(S, STR,   group_instance_id, 4, 99, NULLABLE(4), DFLT_NULL) \
    F(S, STR,   client_id,         0, 99) \
    F(S, STR,   client_host,       0, 99) \
    F(S, BYTES, member_metadata,   0, 99) \
    F(S, BYTES, member_assignment, 0, 99)
KSTRUCT_DECL(describe_groups_resp_members, DESCRIBE_GROUPS_RESP_MEMBERS)

#define DESCRIBE_GROUPS_RESP_GROUPS(F, S) \
    F(S, I16,     error_code,            0, 99) \
    F(S, STR,     group_id,              0, 99) \
    F(S, STR,     group_state,           0, 99) \
    F(S, STR,     protocol_type,         0, 99) \
    F(S, STR,     protocol_data,         0, 99) \
    F(S, ASTRUCT, members,               0, 99, describe_groups_resp_members) \
    F(S, I32,     authorized_operations, 3, 99, DFLT(-2147483648))
KSTRUCT_DECL(describe_groups_resp_groups, DESCRIBE_GROUPS_RESP_GROUPS)

#define DESCRIBE_GROUPS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 1, 99) \
    F(S, ASTRUCT, groups,           0, 99, describe_groups_resp_groups)
KSTRUCT_DECL(describe_groups_resp, DESCRIBE_GROUPS_RESP)

#define DESCRIBE_GROUPS_STRUCTS(X, XE) \
    X(describe_groups_req, DESCRIBE_GROUPS_REQ) \
    X(describe_groups_resp_members, DESCRIBE_GROUPS_RESP_MEMBERS) \
    X(describe_groups_resp_groups, DESCRIBE_GROUPS_RESP_GROUPS) \
    X(describe_groups_resp, DESCRIBE_GROUPS_RESP)

#endif
