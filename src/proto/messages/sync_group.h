/*
 * sync_group.h - Sync Group (API key 14): request and response bodies.
 *
 * Samsa's own field lists for every version up to SYNC_GROUP_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_SYNC_GROUP_H
#define SAMSA_PROTO_MSG_SYNC_GROUP_H

#include "proto/schema.h"

#define SYNC_GROUP_API_KEY 14
#define SYNC_GROUP_FLEX_FROM 4
#define SYNC_GROUP_MAX_VERSION 5

#define SYNC_GROUP_REQ_ASSIGNMENTS(F, S) \
    F(S, STR,   member_id,  0, 99) \
    F(S, BYTES, assignment, 0, 99)
KSTRUCT_DECL(sync_group_req_assignments, SYNC_GROUP_REQ_ASSIGNMENTS)

#define SYNC_GROUP_REQ(F, S) \
    F(S, STR,     group_id,          0, 99) \
    F(S, I32,     generation_id,     0, 99) \
    F(S, STR,     member_id,         0, 99) \
    F(S, STR,     group_instance_id, 3, 99, NULLABLE(3), DFLT_NULL) \
    F(S, STR,     protocol_type,     5, 99, NULLABLE(5), DFLT_NULL) \
    F(S, STR,     protocol_name,     5, 99, NULLABLE(5), DFLT_NULL) \
    F(S, ASTRUCT, assignments,       0, 99, sync_group_req_assignments)
KSTRUCT_DECL(sync_group_req, SYNC_GROUP_REQ)

#define SYNC_GROUP_RESP(F, S) \
    F(S, I32,   throttle_time_ms, 1, 99) \
    F(S, I16,   error_code,       0, 99) \
    F(S, STR,   protocol_type,    5, 99, NULLABLE(5), DFLT_NULL) \
    F(S, STR,   protocol_name,    5, 99, NULLABLE(5), DFLT_NULL) \
    F(S, BYTES, assignment,       0, 99)
KSTRUCT_DECL(sync_group_resp, SYNC_GROUP_RESP)

#define SYNC_GROUP_STRUCTS(X, XE) \
    X(sync_group_req_assignments, SYNC_GROUP_REQ_ASSIGNMENTS) \
    X(sync_group_req, SYNC_GROUP_REQ) \
    X(sync_group_resp, SYNC_GROUP_RESP)

#endif
