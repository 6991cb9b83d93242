/*
 * describe_acls.h - DescribeAcls (API key 29): request and response bodies.
 *
 * Samsa's own field lists for every version up to DESCRIBE_ACLS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_ACLS_H
#define SAMSA_PROTO_MSG_DESCRIBE_ACLS_H

#include "proto/schema.h"

#define DESCRIBE_ACLS_API_KEY 29
#define DESCRIBE_ACLS_FLEX_FROM 2
#define DESCRIBE_ACLS_MAX_VERSION 3

#define DESCRIBE_ACLS_REQ(F, S) \
    F(S, I8,  resource_type_filter, 0, 99) \
    F(S, STR, resource_name_filter, 0, 99, NULLABLE(0)) \
    F(S, I8,  pattern_type_filter,  1, 99, DFLT(3)) \
    F(S, STR, principal_filter,     0, 99, NULLABLE(0)) \
    F(S, STR, host_filter,          0, 99, NULLABLE(0)) \
    F(S, I8,  operation,            0, 99) \
    F(S, I8,  permission_type,      0, 99)
KSTRUCT_DECL(describe_acls_req, DESCRIBE_ACLS_REQ)

#define DESCRIBE_ACLS_RESP_ACLS(F, S) \
    F(S, STR, principal,       0, 99) \
    F(S, STR, host,            0, 99) \
    F(S, I8,  operation,       0, 99) \
    F(S, I8,  permission_type, 0, 99)
KSTRUCT_DECL(describe_acls_resp_acls, DESCRIBE_ACLS_RESP_ACLS)

#define DESCRIBE_ACLS_RESP_RESOURCES(F, S) \
    F(S, I8,      resource_type, 0, 99) \
    F(S, STR,     resource_name, 0, 99) \
    F(S, I8,      pattern_type,  1, 99, DFLT(3)) \
    F(S, ASTRUCT, acls,          0, 99, describe_acls_resp_acls)
KSTRUCT_DECL(describe_acls_resp_resources, DESCRIBE_ACLS_RESP_RESOURCES)

#define DESCRIBE_ACLS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, STR,     error_message,    0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, resources,        0, 99, describe_acls_resp_resources)
KSTRUCT_DECL(describe_acls_resp, DESCRIBE_ACLS_RESP)

#define DESCRIBE_ACLS_STRUCTS(X, XE) \
    X(describe_acls_req, DESCRIBE_ACLS_REQ) \
    X(describe_acls_resp_acls, DESCRIBE_ACLS_RESP_ACLS) \
    X(describe_acls_resp_resources, DESCRIBE_ACLS_RESP_RESOURCES) \
    X(describe_acls_resp, DESCRIBE_ACLS_RESP)

#endif
