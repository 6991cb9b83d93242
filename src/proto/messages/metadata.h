/*
 * metadata.h - Metadata (API key 3): request and response bodies.
 *
 * Samsa's own field lists for every version up to METADATA_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_METADATA_H
#define SAMSA_PROTO_MSG_METADATA_H

#include "proto/schema.h"

#define METADATA_API_KEY 3
#define METADATA_FLEX_FROM 9
#define METADATA_MAX_VERSION 12

#define METADATA_REQ_TOPICS(F, S) \
    F(S, UUID, topic_id, 10, 99) \
    F(S, STR,  name,     0, 99, NULLABLE(10))
KSTRUCT_DECL(metadata_req_topics, METADATA_REQ_TOPICS)

#define METADATA_REQ(F, S) \
    F(S, ASTRUCT, topics,                                0, 99, metadata_req_topics, NULLABLE(1)) \
    F(S, BOOL,    allow_auto_topic_creation,             4, 99, DFLT(1)) \
    F(S, BOOL,    include_cluster_authorized_operations, 8, 10) \
    F(S, BOOL,    include_topic_authorized_operations,   8, 99)
KSTRUCT_DECL(metadata_req, METADATA_REQ)

#define METADATA_RESP_BROKERS(F, S) \
    F(S, I32, node_id, 0, 99) \
    F(S, STR, host,    0, 99) \
    F(S, I32, port,    0, 99) \
    F(S, STR, rack,    1, 99, NULLABLE(1), DFLT_NULL)
KSTRUCT_DECL(metadata_resp_brokers, METADATA_RESP_BROKERS)

#define METADATA_RESP_PARTITIONS(F, S) \
    F(S, I16,  error_code,       0, 99) \
    F(S, I32,  partition_index,  0, 99) \
    F(S, I32,  leader_id,        0, 99) \
    F(S, I32,  leader_epoch,     7, 99, DFLT(-1)) \
    F(S, AI32, replica_nodes,    0, 99) \
    F(S, AI32, isr_nodes,        0, 99) \
    F(S, AI32, offline_replicas, 5, 99)
KSTRUCT_DECL(metadata_resp_partitions, METADATA_RESP_PARTITIONS)

#define METADATA_RESP_TOPICS(F, S) \
    F(S, I16,     error_code,                  0, 99) \
    F(S, STR,     name,                        0, 99, NULLABLE(12)) \
    F(S, UUID,    topic_id,                    10, 99) \
    F(S, BOOL,    is_internal,                 1, 99) \
    F(S, ASTRUCT, partitions,                  0, 99, metadata_resp_partitions) \
    F(S, I32,     topic_authorized_operations, 8, 99, DFLT(-2147483648))
KSTRUCT_DECL(metadata_resp_topics, METADATA_RESP_TOPICS)

#define METADATA_RESP(F, S) \
    F(S, I32,     throttle_time_ms,              3, 99) \
    F(S, ASTRUCT, brokers,                       0, 99, metadata_resp_brokers) \
    F(S, STR,     cluster_id,                    2, 99, NULLABLE(2), DFLT_NULL) \
    F(S, I32,     controller_id,                 1, 99, DFLT(-1)) \
    F(S, ASTRUCT, topics,                        0, 99, metadata_resp_topics) \
    F(S, I32,     cluster_authorized_operations, 8, 10, DFLT(-2147483648))
KSTRUCT_DECL(metadata_resp, METADATA_RESP)

#define METADATA_STRUCTS(X, XE) \
    X(metadata_req_topics, METADATA_REQ_TOPICS) \
    X(metadata_req, METADATA_REQ) \
    X(metadata_resp_brokers, METADATA_RESP_BROKERS) \
    X(metadata_resp_partitions, METADATA_RESP_PARTITIONS) \
    X(metadata_resp_topics, METADATA_RESP_TOPICS) \
    X(metadata_resp, METADATA_RESP)

#endif
