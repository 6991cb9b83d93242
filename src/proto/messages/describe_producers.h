/*
 * describe_producers.h - Describe Producers (API key 61): request and response bodies.
 *
 * Samsa's own field lists for every version up to DESCRIBE_PRODUCERS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_PRODUCERS_H
#define SAMSA_PROTO_MSG_DESCRIBE_PRODUCERS_H

#include "proto/schema.h"

#define DESCRIBE_PRODUCERS_API_KEY 61
#define DESCRIBE_PRODUCERS_FLEX_FROM 0
#define DESCRIBE_PRODUCERS_MAX_VERSION 0

#define DESCRIBE_PRODUCERS_REQ_TOPICS(F, S) \
    F(S, STR,  name,              0, 99) \
    F(S, AI32, partition_indexes, 0, 99)
KSTRUCT_DECL(describe_producers_req_topics, DESCRIBE_PRODUCERS_REQ_TOPICS)

#define DESCRIBE_PRODUCERS_REQ(F, S) \
    F(S, ASTRUCT, topics, 0, 99, describe_producers_req_topics)
KSTRUCT_DECL(describe_producers_req, DESCRIBE_PRODUCERS_REQ)

#define DESCRIBE_PRODUCERS_RESP_ACTIVE_PRODUCERS(F, S) \
    F(S, I64, producer_id,              0, 99) \
    F(S, I32, producer_epoch,           0, 99) \
    F(S, I32, last_sequence,            0, 99, DFLT(-1)) \
    F(S, I64, last_timestamp,           0, 99, DFLT(-1)) \
    F(S, I32, coordinator_epoch,        0, 99) \
    F(S, I64, current_txn_start_offset, 0, 99, DFLT(-1))
KSTRUCT_DECL(describe_producers_resp_active_producers, DESCRIBE_PRODUCERS_RESP_ACTIVE_PRODUCERS)

#define DESCRIBE_PRODUCERS_RESP_PARTITIONS(F, S) \
    F(S, I32,     partition_index,  0, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, STR,     error_message,    0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, active_producers, 0, 99, describe_producers_resp_active_producers)
KSTRUCT_DECL(describe_producers_resp_partitions, DESCRIBE_PRODUCERS_RESP_PARTITIONS)

#define DESCRIBE_PRODUCERS_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, describe_producers_resp_partitions)
KSTRUCT_DECL(describe_producers_resp_topics, DESCRIBE_PRODUCERS_RESP_TOPICS)

#define DESCRIBE_PRODUCERS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, topics,           0, 99, describe_producers_resp_topics)
KSTRUCT_DECL(describe_producers_resp, DESCRIBE_PRODUCERS_RESP)

#define DESCRIBE_PRODUCERS_STRUCTS(X, XE) \
    X(describe_producers_req_topics, DESCRIBE_PRODUCERS_REQ_TOPICS) \
    X(describe_producers_req, DESCRIBE_PRODUCERS_REQ) \
    X(describe_producers_resp_active_producers, DESCRIBE_PRODUCERS_RESP_ACTIVE_PRODUCERS) \
    X(describe_producers_resp_partitions, DESCRIBE_PRODUCERS_RESP_PARTITIONS) \
    X(describe_producers_resp_topics, DESCRIBE_PRODUCERS_RESP_TOPICS) \
    X(describe_producers_resp, DESCRIBE_PRODUCERS_RESP)

#endif
