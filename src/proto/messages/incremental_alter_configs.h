/*
 * incremental_alter_configs.h - Incremental Alter Configs (API key 44): request and response bodies.
 *
 * Samsa's own field lists for every version up to INCREMENTAL_ALTER_CONFIGS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_INCREMENTAL_ALTER_CONFIGS_H
#define SAMSA_PROTO_MSG_INCREMENTAL_ALTER_CONFIGS_H

#include "proto/schema.h"

#define INCREMENTAL_ALTER_CONFIGS_API_KEY 44
#define INCREMENTAL_ALTER_CONFIGS_FLEX_FROM 1
#define INCREMENTAL_ALTER_CONFIGS_MAX_VERSION 1

#define INCREMENTAL_ALTER_CONFIGS_REQ_CONFIGS(F, S) \
    F(S, STR, name,             0, 99) \
    F(S, I8,  config_operation, 0, 99) \
    F(S, STR, value,            0, 99, NULLABLE(0))
KSTRUCT_DECL(incremental_alter_configs_req_configs, INCREMENTAL_ALTER_CONFIGS_REQ_CONFIGS)

#define INCREMENTAL_ALTER_CONFIGS_REQ_RESOURCES(F, S) \
    F(S, I8,      resource_type, 0, 99) \
    F(S, STR,     resource_name, 0, 99) \
    F(S, ASTRUCT, configs,       0, 99, incremental_alter_configs_req_configs)
KSTRUCT_DECL(incremental_alter_configs_req_resources, INCREMENTAL_ALTER_CONFIGS_REQ_RESOURCES)

#define INCREMENTAL_ALTER_CONFIGS_REQ(F, S) \
    F(S, ASTRUCT, resources,     0, 99, incremental_alter_configs_req_resources) \
    F(S, BOOL,    validate_only, 0, 99)
KSTRUCT_DECL(incremental_alter_configs_req, INCREMENTAL_ALTER_CONFIGS_REQ)

#define INCREMENTAL_ALTER_CONFIGS_RESP_RESPONSES(F, S) \
    F(S, I16, error_code,    0, 99) \
    F(S, STR, error_message, 0, 99, NULLABLE(0)) \
    F(S, I8,  resource_type, 0, 99) \
    F(S, STR, resource_name, 0, 99)
KSTRUCT_DECL(incremental_alter_configs_resp_responses, INCREMENTAL_ALTER_CONFIGS_RESP_RESPONSES)

#define INCREMENTAL_ALTER_CONFIGS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, responses,        0, 99, incremental_alter_configs_resp_responses)
KSTRUCT_DECL(incremental_alter_configs_resp, INCREMENTAL_ALTER_CONFIGS_RESP)

#define INCREMENTAL_ALTER_CONFIGS_STRUCTS(X, XE) \
    X(incremental_alter_configs_req_configs, INCREMENTAL_ALTER_CONFIGS_REQ_CONFIGS) \
    X(incremental_alter_configs_req_resources, INCREMENTAL_ALTER_CONFIGS_REQ_RESOURCES) \
    X(incremental_alter_configs_req, INCREMENTAL_ALTER_CONFIGS_REQ) \
    X(incremental_alter_configs_resp_responses, INCREMENTAL_ALTER_CONFIGS_RESP_RESPONSES) \
    X(incremental_alter_configs_resp, INCREMENTAL_ALTER_CONFIGS_RESP)

#endif
