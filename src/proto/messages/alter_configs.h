/*
 * alter_configs.h - Alter Configs (API key 33): request and response bodies.
 *
 * Samsa's own field lists for every version up to ALTER_CONFIGS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_ALTER_CONFIGS_H
#define SAMSA_PROTO_MSG_ALTER_CONFIGS_H

#include "proto/schema.h"

#define ALTER_CONFIGS_API_KEY 33
#define ALTER_CONFIGS_FLEX_FROM 2
#define ALTER_CONFIGS_MAX_VERSION 2

#define ALTER_CONFIGS_REQ_CONFIGS(F, S) \
    F(S, STR, name,  0, 99) \
    F(S, STR, value, 0, 99, NULLABLE(0))
KSTRUCT_DECL(alter_configs_req_configs, ALTER_CONFIGS_REQ_CONFIGS)

#define ALTER_CONFIGS_REQ_RESOURCES(F, S) \
    F(S, I8,      resource_type, 0, 99) \
    F(S, STR,     resource_name, 0, 99) \
    F(S, ASTRUCT, configs,       0, 99, alter_configs_req_configs)
KSTRUCT_DECL(alter_configs_req_resources, ALTER_CONFIGS_REQ_RESOURCES)

#define ALTER_CONFIGS_REQ(F, S) \
    F(S, ASTRUCT, resources,     0, 99, alter_configs_req_resources) \
    F(S, BOOL,    validate_only, 0, 99)
KSTRUCT_DECL(alter_configs_req, ALTER_CONFIGS_REQ)

#define ALTER_CONFIGS_RESP_RESPONSES(F, S) \
    F(S, I16, error_code,    0, 99) \
    F(S, STR, error_message, 0, 99, NULLABLE(0)) \
    F(S, I8,  resource_type, 0, 99) \
    F(S, STR, resource_name, 0, 99)
KSTRUCT_DECL(alter_configs_resp_responses, ALTER_CONFIGS_RESP_RESPONSES)

#define ALTER_CONFIGS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, responses,        0, 99, alter_configs_resp_responses)
KSTRUCT_DECL(alter_configs_resp, ALTER_CONFIGS_RESP)

#define ALTER_CONFIGS_STRUCTS(X, XE) \
    X(alter_configs_req_configs, ALTER_CONFIGS_REQ_CONFIGS) \
    X(alter_configs_req_resources, ALTER_CONFIGS_REQ_RESOURCES) \
    X(alter_configs_req, ALTER_CONFIGS_REQ) \
    X(alter_configs_resp_responses, ALTER_CONFIGS_RESP_RESPONSES) \
    X(alter_configs_resp, ALTER_CONFIGS_RESP)

#endif
