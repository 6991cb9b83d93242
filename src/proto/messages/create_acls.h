/*
 * create_acls.h - CreateAcls (API key 30): request and response bodies.
 *
 * Samsa's own field lists for every version up to CREATE_ACLS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_CREATE_ACLS_H
#define SAMSA_PROTO_MSG_CREATE_ACLS_H

#include "proto/schema.h"

#define CREATE_ACLS_API_KEY 30
#define CREATE_ACLS_FLEX_FROM 2
#define CREATE_ACLS_MAX_VERSION 3

#define CREATE_ACLS_REQ_CREATIONS(F, S) \
    F(S, I8,  resource_type,         0, 99) \
    F(S, STR, resource_name,         0, 99) \
    F(S, I8,  resource_pattern_type, 1, 99, DFLT(3)) \
    F(S, STR, principal,             0, 99) \
    F(S, STR, host,                  0, 99) \
    F(S, I8,  operation,             0, 99) \
    F(S, I8,  permission_type,       0, 99)
KSTRUCT_DECL(create_acls_req_creations, CREATE_ACLS_REQ_CREATIONS)

#define CREATE_ACLS_REQ(F, S) \
    F(S, ASTRUCT, creations, 0, 99, create_acls_req_creations)
KSTRUCT_DECL(create_acls_req, CREATE_ACLS_REQ)

#define CREATE_ACLS_RESP_RESULTS(F, S) \
    F(S, I16, error_code,    0, 99) \
    F(S, STR, error_message, 0, 99, NULLABLE(0), DFLT_NULL)
KSTRUCT_DECL(create_acls_resp_results, CREATE_ACLS_RESP_RESULTS)

#define CREATE_ACLS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, results,          0, 99, create_acls_resp_results)
KSTRUCT_DECL(create_acls_resp, CREATE_ACLS_RESP)

#define CREATE_ACLS_STRUCTS(X, XE) \
    X(create_acls_req_creations, CREATE_ACLS_REQ_CREATIONS) \
    X(create_acls_req, CREATE_ACLS_REQ) \
    X(create_acls_resp_results, CREATE_ACLS_RESP_RESULTS) \
    X(create_acls_resp, CREATE_ACLS_RESP)

#endif
