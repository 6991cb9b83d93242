/*
 * describe_client_quotas.h - DescribeClientQuotas (API key 48): request and response bodies.
 *
 * Samsa's own field lists for every version up to DESCRIBE_CLIENT_QUOTAS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_CLIENT_QUOTAS_H
#define SAMSA_PROTO_MSG_DESCRIBE_CLIENT_QUOTAS_H

#include "proto/schema.h"

#define DESCRIBE_CLIENT_QUOTAS_API_KEY 48
#define DESCRIBE_CLIENT_QUOTAS_FLEX_FROM 1
#define DESCRIBE_CLIENT_QUOTAS_MAX_VERSION 1

#define DESCRIBE_CLIENT_QUOTAS_REQ_COMPONENTS(F, S) \
    F(S, STR, entity_type, 0, 99) \
    F(S, I8,  match_type,  0, 99) \
    F(S, STR, match,       0, 99, NULLABLE(0))
KSTRUCT_DECL(describe_client_quotas_req_components, DESCRIBE_CLIENT_QUOTAS_REQ_COMPONENTS)

#define DESCRIBE_CLIENT_QUOTAS_REQ(F, S) \
    F(S, ASTRUCT, components, 0, 99, describe_client_quotas_req_components) \
    F(S, BOOL,    strict,     0, 99)
KSTRUCT_DECL(describe_client_quotas_req, DESCRIBE_CLIENT_QUOTAS_REQ)

#define DESCRIBE_CLIENT_QUOTAS_RESP_ENTITY(F, S) \
    F(S, STR, entity_type, 0, 99) \
    F(S, STR, entity_name, 0, 99, NULLABLE(0))
KSTRUCT_DECL(describe_client_quotas_resp_entity, DESCRIBE_CLIENT_QUOTAS_RESP_ENTITY)

#define DESCRIBE_CLIENT_QUOTAS_RESP_VALUES(F, S) \
    F(S, STR, key,   0, 99) \
    F(S, F64, value, 0, 99)
KSTRUCT_DECL(describe_client_quotas_resp_values, DESCRIBE_CLIENT_QUOTAS_RESP_VALUES)

#define DESCRIBE_CLIENT_QUOTAS_RESP_ENTRIES(F, S) \
    F(S, ASTRUCT, entity, 0, 99, describe_client_quotas_resp_entity) \
    F(S, ASTRUCT, values, 0, 99, describe_client_quotas_resp_values)
KSTRUCT_DECL(describe_client_quotas_resp_entries, DESCRIBE_CLIENT_QUOTAS_RESP_ENTRIES)

#define DESCRIBE_CLIENT_QUOTAS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, STR,     error_message,    0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, entries,          0, 99, describe_client_quotas_resp_entries, NULLABLE(0))
KSTRUCT_DECL(describe_client_quotas_resp, DESCRIBE_CLIENT_QUOTAS_RESP)

#define DESCRIBE_CLIENT_QUOTAS_STRUCTS(X, XE) \
    X(describe_client_quotas_req_components, DESCRIBE_CLIENT_QUOTAS_REQ_COMPONENTS) \
    X(describe_client_quotas_req, DESCRIBE_CLIENT_QUOTAS_REQ) \
    X(describe_client_quotas_resp_entity, DESCRIBE_CLIENT_QUOTAS_RESP_ENTITY) \
    X(describe_client_quotas_resp_values, DESCRIBE_CLIENT_QUOTAS_RESP_VALUES) \
    X(describe_client_quotas_resp_entries, DESCRIBE_CLIENT_QUOTAS_RESP_ENTRIES) \
    X(describe_client_quotas_resp, DESCRIBE_CLIENT_QUOTAS_RESP)

#endif
