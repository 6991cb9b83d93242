/*
 * leave_group.h - Leave Group (API key 13): request and response bodies.
 *
 * Samsa's own field lists for every version up to LEAVE_GROUP_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_LEAVE_GROUP_H
#define SAMSA_PROTO_MSG_LEAVE_GROUP_H

#include "proto/schema.h"

#define LEAVE_GROUP_API_KEY 13
#define LEAVE_GROUP_FLEX_FROM 4
#define LEAVE_GROUP_MAX_VERSION 5

#define LEAVE_GROUP_REQ_MEMBERS(F, S) \
    F(S, STR, member_id,         3, 99) \
    F(S, STR, group_instance_id, 3, 99, NULLABLE(3), DFLT_NULL) \
    F(S, STR, reason,            5, 99, NULLABLE(5), DFLT_NULL)
KSTRUCT_DECL(leave_group_req_members, LEAVE_GROUP_REQ_MEMBERS)

#define LEAVE_GROUP_REQ(F, S) \
    F(S, STR,     group_id,  0, 99) \
    F(S, STR,     member_id, 0, 2) \
    F(S, ASTRUCT, members,   3, 99, leave_group_req_members)
KSTRUCT_DECL(leave_group_req, LEAVE_GROUP_REQ)

#define LEAVE_GROUP_RESP_MEMBERS(F, S) \
    F(S, STR, member_id,         3, 99) \
    F(S, STR, group_instance_id, 3, 99, NULLABLE(3)) \
    F(S, I16, error_code,        3, 99)
KSTRUCT_DECL(leave_group_resp_members, LEAVE_GROUP_RESP_MEMBERS)

#define LEAVE_GROUP_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 1, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, ASTRUCT, members,          3, 99, leave_group_resp_members)
KSTRUCT_DECL(leave_group_resp, LEAVE_GROUP_RESP)

#define LEAVE_GROUP_STRUCTS(X, XE) \
    X(leave_group_req_members, LEAVE_GROUP_REQ_MEMBERS) \
    X(leave_group_req, LEAVE_GROUP_REQ) \
    X(leave_group_resp_members, LEAVE_GROUP_RESP_MEMBERS) \
    X(leave_group_resp, LEAVE_GROUP_RESP)

#endif
