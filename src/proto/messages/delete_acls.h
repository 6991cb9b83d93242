/*
 * delete_acls.h - DeleteAcls (API key 31): request and response bodies.
 *
 * Samsa's own field lists for every version up to DELETE_ACLS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DELETE_ACLS_H
#define SAMSA_PROTO_MSG_DELETE_ACLS_H

#include "proto/schema.h"

#define DELETE_ACLS_API_KEY 31
#define DELETE_ACLS_FLEX_FROM 2
#define DELETE_ACLS_MAX_VERSION 3

#define DELETE_ACLS_REQ_FILTERS(F, S) \
    F(S, I8,  resource_type_filter, 0, 99) \
    F(S, STR, resource_name_filter, 0, 99, NULLABLE(0)) \
    F(S, I8,  pattern_type_filter,  1, 99, DFLT(3)) \
    F(S, STR, principal_filter,     0, 99, NULLABLE(0)) \
    F(S, STR, host_filter,          0, 99, NULLABLE(0)) \
    F(S, I8,  operation,            0, 99) \
    F(S, I8,  permission_type,      0, 99)
KSTRUCT_DECL(delete_acls_req_filters, DELETE_ACLS_REQ_FILTERS)

#define DELETE_ACLS_REQ(F, S) \
    F(S, ASTRUCT, filters, 0, 99, delete_acls_req_filters)
KSTRUCT_DECL(delete_acls_req, DELETE_ACLS_REQ)

#define DELETE_ACLS_RESP_MATCHING(F, S) \
    F(S, I16, error_code,      0, 99) \
    F(S, STR, error_message,   0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, I8,  resource_type,   0, 99) \
    F(S, STR, resource_name,   0, 99) \
    F(S, I8,  pattern_type,    1, 99, DFLT(3)) \
    F(S, STR, principal,       0, 99) \
    F(S, STR, host,            0, 99) \
    F(S, I8,  operation,       0, 99) \
    F(S, I8,  permission_type, 0, 99)
KSTRUCT_DECL(delete_acls_resp_matching, DELETE_ACLS_RESP_MATCHING)

#define DELETE_ACLS_RESP_RESULTS(F, S) \
    F(S, I16,     error_code,    0, 99) \
    F(S, STR,     error_message, 0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, matching_acls, 0, 99, delete_acls_resp_matching)
KSTRUCT_DECL(delete_acls_resp_results, DELETE_ACLS_RESP_RESULTS)

#define DELETE_ACLS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, filter_results,   0, 99, delete_acls_resp_results)
KSTRUCT_DECL(delete_acls_resp, DELETE_ACLS_RESP)

#define DELETE_ACLS_STRUCTS(X, XE) \
    X(delete_acls_req_filters, DELETE_ACLS_REQ_FILTERS) \
    X(delete_acls_req, DELETE_ACLS_REQ) \
    X(delete_acls_resp_matching, DELETE_ACLS_RESP_MATCHING) \
    X(delete_acls_resp_results, DELETE_ACLS_RESP_RESULTS) \
    X(delete_acls_resp, DELETE_ACLS_RESP)

#endif
