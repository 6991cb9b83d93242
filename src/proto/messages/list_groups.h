/*
 * list_groups.h - List Groups (API key 16): request and response bodies.
 *
 * Samsa's own field lists for every version up to LIST_GROUPS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_LIST_GROUPS_H
#define SAMSA_PROTO_MSG_LIST_GROUPS_H

#include "proto/schema.h"

#define LIST_GROUPS_API_KEY 16
#define LIST_GROUPS_FLEX_FROM 3
#define LIST_GROUPS_MAX_VERSION 5

#define LIST_GROUPS_REQ(F, S) \
    F(S, ASTR, states_filter, 4, 99) \
    F(S, ASTR, types_filter,  5, 99)
KSTRUCT_DECL(list_groups_req, LIST_GROUPS_REQ)

#define LIST_GROUPS_RESP_GROUPS(F, S) \
    F(S, STR, group_id,      0, 99) \
    F(S, STR, protocol_type, 0, 99) \
    F(S, STR, group_state,   4, 99) \
    F(S, STR, group_type,    5, 99)
KSTRUCT_DECL(list_groups_resp_groups, LIST_GROUPS_RESP_GROUPS)

#define LIST_GROUPS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 1, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, ASTRUCT, groups,           0, 99, list_groups_resp_groups)
KSTRUCT_DECL(list_groups_resp, LIST_GROUPS_RESP)

#define LIST_GROUPS_STRUCTS(X, XE) \
    X(list_groups_req, LIST_GROUPS_REQ) \
    X(list_groups_resp_groups, LIST_GROUPS_RESP_GROUPS) \
    X(list_groups_resp, LIST_GROUPS_RESP)

#endif
