/*
 * elect_leaders.h - ElectLeaders (API key 43): request and response bodies.
 *
 * Samsa's own field lists for every version up to ELECT_LEADERS_MAX_VERSION; the
 * format is described in proto/schema.h.  An admin API the client sends to
 * the controller (KIP-183, election types KIP-460).
 */
#ifndef SAMSA_PROTO_MSG_ELECT_LEADERS_H
#define SAMSA_PROTO_MSG_ELECT_LEADERS_H

#include "proto/schema.h"

#define ELECT_LEADERS_API_KEY 43
#define ELECT_LEADERS_FLEX_FROM 2
#define ELECT_LEADERS_MAX_VERSION 2

#define ELECT_LEADERS_REQ_TOPIC_PARTITIONS(F, S) \
    F(S, STR,  topic,      0, 99) \
    F(S, AI32, partitions, 0, 99)
KSTRUCT_DECL(elect_leaders_req_topic_partitions, ELECT_LEADERS_REQ_TOPIC_PARTITIONS)

#define ELECT_LEADERS_REQ(F, S) \
    F(S, I8,      election_type,    1, 99) \
    F(S, ASTRUCT, topic_partitions, 0, 99, elect_leaders_req_topic_partitions, NULLABLE(0)) \
    F(S, I32,     timeout_ms,       0, 99, DFLT(60000))
KSTRUCT_DECL(elect_leaders_req, ELECT_LEADERS_REQ)

#define ELECT_LEADERS_RESP_PARTITION_RESULT(F, S) \
    F(S, I32, partition_id,  0, 99) \
    F(S, I16, error_code,    0, 99) \
    F(S, STR, error_message, 0, 99, NULLABLE(0), DFLT_NULL)
KSTRUCT_DECL(elect_leaders_resp_partition_result, ELECT_LEADERS_RESP_PARTITION_RESULT)

#define ELECT_LEADERS_RESP_REPLICA_ELECTION_RESULTS(F, S) \
    F(S, STR,     topic,            0, 99) \
    F(S, ASTRUCT, partition_result, 0, 99, elect_leaders_resp_partition_result)
KSTRUCT_DECL(elect_leaders_resp_replica_election_results, ELECT_LEADERS_RESP_REPLICA_ELECTION_RESULTS)

#define ELECT_LEADERS_RESP(F, S) \
    F(S, I32,     throttle_time_ms,         0, 99) \
    F(S, I16,     error_code,               1, 99) \
    F(S, ASTRUCT, replica_election_results, 0, 99, elect_leaders_resp_replica_election_results)
KSTRUCT_DECL(elect_leaders_resp, ELECT_LEADERS_RESP)

#define ELECT_LEADERS_STRUCTS(X, XE) \
    X(elect_leaders_req_topic_partitions, ELECT_LEADERS_REQ_TOPIC_PARTITIONS) \
    X(elect_leaders_req, ELECT_LEADERS_REQ) \
    X(elect_leaders_resp_partition_result, ELECT_LEADERS_RESP_PARTITION_RESULT) \
    X(elect_leaders_resp_replica_election_results, ELECT_LEADERS_RESP_REPLICA_ELECTION_RESULTS) \
    X(elect_leaders_resp, ELECT_LEADERS_RESP)

#endif
