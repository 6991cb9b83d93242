/*
 * api_versions.h - Api Versions (API key 18): request and response bodies.
 *
 * Samsa's own field lists for every version up to API_VERSIONS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_API_VERSIONS_H
#define SAMSA_PROTO_MSG_API_VERSIONS_H

#include "proto/schema.h"

#define API_VERSIONS_API_KEY 18
#define API_VERSIONS_FLEX_FROM 3
#define API_VERSIONS_MAX_VERSION 5

#define API_VERSIONS_REQ(F, S) \
    F(S, STR, client_software_name,    3, 99) \
    F(S, STR, client_software_version, 3, 99) \
    F(S, STR, cluster_id,              5, 99, NULLABLE(5), DFLT_NULL) \
    F(S, I32, node_id,                 5, 99, DFLT(-1))
KSTRUCT_DECL(api_versions_req, API_VERSIONS_REQ)

#define API_VERSIONS_RESP_API_KEYS(F, S) \
    F(S, I16, api_key,     0, 99) \
    F(S, I16, min_version, 0, 99) \
    F(S, I16, max_version, 0, 99)
KSTRUCT_DECL(api_versions_resp_api_keys, API_VERSIONS_RESP_API_KEYS)

#define API_VERSIONS_RESP_SUPPORTED_FEATURES(F, S) \
    F(S, STR, name,        3, 99) \
    F(S, I16, min_version, 3, 99) \
    F(S, I16, max_version, 3, 99)
KSTRUCT_DECL(api_versions_resp_supported_features, API_VERSIONS_RESP_SUPPORTED_FEATURES)

#define API_VERSIONS_RESP_FINALIZED_FEATURES(F, S) \
    F(S, STR, name,              3, 99) \
    F(S, I16, max_version_level, 3, 99) \
    F(S, I16, min_version_level, 3, 99)
KSTRUCT_DECL(api_versions_resp_finalized_features, API_VERSIONS_RESP_FINALIZED_FEATURES)

#define API_VERSIONS_RESP(F, S) \
    F(S, I16,     error_code,               0, 99) \
    F(S, ASTRUCT, api_keys,                 0, 99, api_versions_resp_api_keys) \
    F(S, I32,     throttle_time_ms,         1, 99) \
    F(S, ASTRUCT, supported_features,       3, 99, api_versions_resp_supported_features, TAG(0, 3)) \
    F(S, I64,     finalized_features_epoch, 3, 99, TAG(1, 3), DFLT(-1)) \
    F(S, ASTRUCT, finalized_features,       3, 99, api_versions_resp_finalized_features, TAG(2, 3)) \
    F(S, BOOL,    zk_migration_ready,       3, 99, TAG(3, 3))
KSTRUCT_DECL(api_versions_resp, API_VERSIONS_RESP)

#define API_VERSIONS_STRUCTS(X, XE) \
    X(api_versions_req, API_VERSIONS_REQ) \
    X(api_versions_resp_api_keys, API_VERSIONS_RESP_API_KEYS) \
    X(api_versions_resp_supported_features, API_VERSIONS_RESP_SUPPORTED_FEATURES) \
    X(api_versions_resp_finalized_features, API_VERSIONS_RESP_FINALIZED_FEATURES) \
    X(api_versions_resp, API_VERSIONS_RESP)

#endif
