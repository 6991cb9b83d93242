/*
 * describe_configs.h - Describe Configs (API key 32): request and response bodies.
 *
 * Samsa's own field lists for every version up to DESCRIBE_CONFIGS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_CONFIGS_H
#define SAMSA_PROTO_MSG_DESCRIBE_CONFIGS_H

#include "proto/schema.h"

#define DESCRIBE_CONFIGS_API_KEY 32
#define DESCRIBE_CONFIGS_FLEX_FROM 4
#define DESCRIBE_CONFIGS_MAX_VERSION 4

#define DESCRIBE_CONFIGS_REQ_RESOURCES(F, S) \
    F(S, I8,   resource_type,      0, 99) \
    F(S, STR,  resource_name,      0, 99) \
    F(S, ASTR, configuration_keys, 0, 99, NULLABLE(0))
KSTRUCT_DECL(describe_configs_req_resources, DESCRIBE_CONFIGS_REQ_RESOURCES)

#define DESCRIBE_CONFIGS_REQ(F, S) \
    F(S, ASTRUCT, resources,             0, 99, describe_configs_req_resources) \
    F(S, BOOL,    include_synonyms,      1, 99) \
    F(S, BOOL,    include_documentation, 3, 99)
KSTRUCT_DECL(describe_configs_req, DESCRIBE_CONFIGS_REQ)

#define DESCRIBE_CONFIGS_RESP_SYNONYMS(F, S) \
    F(S, STR, name,   1, 99) \
    F(S, STR, value,  1, 99, NULLABLE(0)) \
    F(S, I8,  source, 1, 99)
KSTRUCT_DECL(describe_configs_resp_synonyms, DESCRIBE_CONFIGS_RESP_SYNONYMS)

#define DESCRIBE_CONFIGS_RESP_CONFIGS(F, S) \
    F(S, STR,     name,          0, 99) \
    F(S, STR,     value,         0, 99, NULLABLE(0)) \
    F(S, BOOL,    read_only,     0, 99) \
    F(S, BOOL,    is_default,    0, 0) \
    F(S, I8,      config_source, 1, 99, DFLT(-1)) \
    F(S, BOOL,    is_sensitive,  0, 99) \
    F(S, ASTRUCT, synonyms,      1, 99, describe_configs_resp_synonyms) \
    F(S, I8,      config_type,   3, 99) \
    F(S, STR,     documentation, 3, 99, NULLABLE(0))
KSTRUCT_DECL(describe_configs_resp_configs, DESCRIBE_CONFIGS_RESP_CONFIGS)

#define DESCRIBE_CONFIGS_RESP_RESULTS(F, S) \
    F(S, I16,     error_code,    0, 99) \
    F(S, STR,     error_message, 0, 99, NULLABLE(0)) \
    F(S, I8,      resource_type, 0, 99) \
    F(S, STR,     resource_name, 0, 99) \
    F(S, ASTRUCT, configs,       0, 99, describe_configs_resp_configs)
KSTRUCT_DECL(describe_configs_resp_results, DESCRIBE_CONFIGS_RESP_RESULTS)

#define DESCRIBE_CONFIGS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, results,          0, 99, describe_configs_resp_results)
KSTRUCT_DECL(describe_configs_resp, DESCRIBE_CONFIGS_RESP)

#define DESCRIBE_CONFIGS_STRUCTS(X, XE) \
    X(describe_configs_req_resources, DESCRIBE_CONFIGS_REQ_RESOURCES) \
    X(describe_configs_req, DESCRIBE_CONFIGS_REQ) \
    X(describe_configs_resp_synonyms, DESCRIBE_CONFIGS_RESP_SYNONYMS) \
    X(describe_configs_resp_configs, DESCRIBE_CONFIGS_RESP_CONFIGS) \
    X(describe_configs_resp_results, DESCRIBE_CONFIGS_RESP_RESULTS) \
    X(describe_configs_resp, DESCRIBE_CONFIGS_RESP)

#endif
