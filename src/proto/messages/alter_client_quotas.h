/*
 * alter_client_quotas.h - AlterClientQuotas (API key 49): request and response bodies.
 *
 * Samsa's own field lists for every version up to ALTER_CLIENT_QUOTAS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_ALTER_CLIENT_QUOTAS_H
#define SAMSA_PROTO_MSG_ALTER_CLIENT_QUOTAS_H

#include "proto/schema.h"

#define ALTER_CLIENT_QUOTAS_API_KEY 49
#define ALTER_CLIENT_QUOTAS_FLEX_FROM 1
#define ALTER_CLIENT_QUOTAS_MAX_VERSION 1

#define ALTER_CLIENT_QUOTAS_ENTITY(F, S) \
    F(S, STR, entity_type, 0, 99) \
    F(S, STR, entity_name, 0, 99, NULLABLE(0))
KSTRUCT_DECL(alter_client_quotas_entity, ALTER_CLIENT_QUOTAS_ENTITY)

#define ALTER_CLIENT_QUOTAS_REQ_OPS(F, S) \
    F(S, STR,  key,    0, 99) \
    F(S, F64,  value,  0, 99) \
    F(S, BOOL, remove, 0, 99)
KSTRUCT_DECL(alter_client_quotas_req_ops, ALTER_CLIENT_QUOTAS_REQ_OPS)

#define ALTER_CLIENT_QUOTAS_REQ_ENTRIES(F, S) \
    F(S, ASTRUCT, entity, 0, 99, alter_client_quotas_entity) \
    F(S, ASTRUCT, ops,    0, 99, alter_client_quotas_req_ops)
KSTRUCT_DECL(alter_client_quotas_req_entries, ALTER_CLIENT_QUOTAS_REQ_ENTRIES)

#define ALTER_CLIENT_QUOTAS_REQ(F, S) \
    F(S, ASTRUCT, entries,       0, 99, alter_client_quotas_req_entries) \
    F(S, BOOL,    validate_only, 0, 99)
KSTRUCT_DECL(alter_client_quotas_req, ALTER_CLIENT_QUOTAS_REQ)

#define ALTER_CLIENT_QUOTAS_RESP_ENTRIES(F, S) \
    F(S, I16,     error_code,    0, 99) \
    F(S, STR,     error_message, 0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, entity,        0, 99, alter_client_quotas_entity)
KSTRUCT_DECL(alter_client_quotas_resp_entries, ALTER_CLIENT_QUOTAS_RESP_ENTRIES)

#define ALTER_CLIENT_QUOTAS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, entries,          0, 99, alter_client_quotas_resp_entries)
KSTRUCT_DECL(alter_client_quotas_resp, ALTER_CLIENT_QUOTAS_RESP)

#define ALTER_CLIENT_QUOTAS_STRUCTS(X, XE) \
    X(alter_client_quotas_entity, ALTER_CLIENT_QUOTAS_ENTITY) \
    X(alter_client_quotas_req_ops, ALTER_CLIENT_QUOTAS_REQ_OPS) \
    X(alter_client_quotas_req_entries, ALTER_CLIENT_QUOTAS_REQ_ENTRIES) \
    X(alter_client_quotas_req, ALTER_CLIENT_QUOTAS_REQ) \
    X(alter_client_quotas_resp_entries, ALTER_CLIENT_QUOTAS_RESP_ENTRIES) \
    X(alter_client_quotas_resp, ALTER_CLIENT_QUOTAS_RESP)

#endif
