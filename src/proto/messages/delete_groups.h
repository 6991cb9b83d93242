/*
 * delete_groups.h - Delete Groups (API key 42): request and response bodies.
 *
 * Samsa's own field lists for every version up to DELETE_GROUPS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DELETE_GROUPS_H
#define SAMSA_PROTO_MSG_DELETE_GROUPS_H

#include "proto/schema.h"

#define DELETE_GROUPS_API_KEY 42
#define DELETE_GROUPS_FLEX_FROM 2
#define DELETE_GROUPS_MAX_VERSION 2

#define DELETE_GROUPS_REQ(F, S) \
    F(S, ASTR, groups_names, 0, 99)
KSTRUCT_DECL(delete_groups_req, DELETE_GROUPS_REQ)

#define DELETE_GROUPS_RESP_RESULTS(F, S) \
    F(S, STR, group_id,   0, 99) \
    F(S, I16, error_code, 0, 99)
KSTRUCT_DECL(delete_groups_resp_results, DELETE_GROUPS_RESP_RESULTS)

#define DELETE_GROUPS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, results,          0, 99, delete_groups_resp_results)
KSTRUCT_DECL(delete_groups_resp, DELETE_GROUPS_RESP)

#define DELETE_GROUPS_STRUCTS(X, XE) \
    X(delete_groups_req, DELETE_GROUPS_REQ) \
    X(delete_groups_resp_results, DELETE_GROUPS_RESP_RESULTS) \
    X(delete_groups_resp, DELETE_GROUPS_RESP)

#endif
