/*
 * describe_cluster.h - Describe Cluster (API key 60): request and response bodies.
 *
 * Samsa's own field lists for every version up to DESCRIBE_CLUSTER_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_CLUSTER_H
#define SAMSA_PROTO_MSG_DESCRIBE_CLUSTER_H

#include "proto/schema.h"

#define DESCRIBE_CLUSTER_API_KEY 60
#define DESCRIBE_CLUSTER_FLEX_FROM 0
#define DESCRIBE_CLUSTER_MAX_VERSION 1

#define DESCRIBE_CLUSTER_REQ(F, S) \
    F(S, BOOL, include_cluster_authorized_operations, 0, 99) \
    F(S, I8,   endpoint_type,                         1, 99, DFLT(1))
KSTRUCT_DECL(describe_cluster_req, DESCRIBE_CLUSTER_REQ)

#define DESCRIBE_CLUSTER_RESP_BROKERS(F, S) \
    F(S, I32, broker_id, 0, 99) \
    F(S, STR, host,      0, 99) \
    F(S, I32, port,      0, 99) \
    F(S, STR, rack,      0, 99, NULLABLE(0), DFLT_NULL)
KSTRUCT_DECL(describe_cluster_resp_brokers, DESCRIBE_CLUSTER_RESP_BROKERS)

#define DESCRIBE_CLUSTER_RESP(F, S) \
    F(S, I32,     throttle_time_ms,              0, 99) \
    F(S, I16,     error_code,                    0, 99) \
    F(S, STR,     error_message,                 0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, I8,      endpoint_type,                 1, 99, DFLT(1)) \
    F(S, STR,     cluster_id,                    0, 99) \
    F(S, I32,     controller_id,                 0, 99, DFLT(-1)) \
    F(S, ASTRUCT, brokers,                       0, 99, describe_cluster_resp_brokers) \
    F(S, I32,     cluster_authorized_operations, 0, 99, DFLT(-2147483648))
KSTRUCT_DECL(describe_cluster_resp, DESCRIBE_CLUSTER_RESP)

#define DESCRIBE_CLUSTER_STRUCTS(X, XE) \
    X(describe_cluster_req, DESCRIBE_CLUSTER_REQ) \
    X(describe_cluster_resp_brokers, DESCRIBE_CLUSTER_RESP_BROKERS) \
    X(describe_cluster_resp, DESCRIBE_CLUSTER_RESP)

#endif
