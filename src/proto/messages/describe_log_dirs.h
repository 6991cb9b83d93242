/*
 * describe_log_dirs.h - Describe Log Dirs (API key 35): request and response bodies.
 *
 * Samsa's own field lists for every version up to DESCRIBE_LOG_DIRS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_LOG_DIRS_H
#define SAMSA_PROTO_MSG_DESCRIBE_LOG_DIRS_H

#include "proto/schema.h"

#define DESCRIBE_LOG_DIRS_API_KEY 35
#define DESCRIBE_LOG_DIRS_FLEX_FROM 2
#define DESCRIBE_LOG_DIRS_MAX_VERSION 5

#define DESCRIBE_LOG_DIRS_REQ_TOPICS(F, S) \
    F(S, STR,  topic,      0, 99) \
    F(S, AI32, partitions, 0, 99)
KSTRUCT_DECL(describe_log_dirs_req_topics, DESCRIBE_LOG_DIRS_REQ_TOPICS)

#define DESCRIBE_LOG_DIRS_REQ(F, S) \
    F(S, ASTRUCT, topics, 0, 99, describe_log_dirs_req_topics, NULLABLE(0))
KSTRUCT_DECL(describe_log_dirs_req, DESCRIBE_LOG_DIRS_REQ)

#define DESCRIBE_LOG_DIRS_RESP_PARTITIONS(F, S) \
    F(S, I32,  partition_index, 0, 99) \
    F(S, I64,  partition_size,  0, 99) \
    F(S, I64,  offset_lag,      0, 99) \
    F(S, BOOL, is_future_key,   0, 99)
KSTRUCT_DECL(describe_log_dirs_resp_partitions, DESCRIBE_LOG_DIRS_RESP_PARTITIONS)

#define DESCRIBE_LOG_DIRS_RESP_TOPICS(F, S) \
    F(S, STR,     name,       0, 99) \
    F(S, ASTRUCT, partitions, 0, 99, describe_log_dirs_resp_partitions)
KSTRUCT_DECL(describe_log_dirs_resp_topics, DESCRIBE_LOG_DIRS_RESP_TOPICS)

#define DESCRIBE_LOG_DIRS_RESP_RESULTS(F, S) \
    F(S, I16,     error_code,   0, 99) \
    F(S, STR,     log_dir,      0, 99) \
    F(S, ASTRUCT, topics,       0, 99, describe_log_dirs_resp_topics) \
    F(S, I64,     total_bytes,  4, 99, DFLT(-1)) \
    F(S, I64,     usable_bytes, 4, 99, DFLT(-1)) \
    F(S, BOOL,    is_cordoned,  5, 99)
KSTRUCT_DECL(describe_log_dirs_resp_results, DESCRIBE_LOG_DIRS_RESP_RESULTS)

#define DESCRIBE_LOG_DIRS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, I16,     error_code,       3, 99) \
    F(S, ASTRUCT, results,          0, 99, describe_log_dirs_resp_results)
KSTRUCT_DECL(describe_log_dirs_resp, DESCRIBE_LOG_DIRS_RESP)

#define DESCRIBE_LOG_DIRS_STRUCTS(X, XE) \
    X(describe_log_dirs_req_topics, DESCRIBE_LOG_DIRS_REQ_TOPICS) \
    X(describe_log_dirs_req, DESCRIBE_LOG_DIRS_REQ) \
    X(describe_log_dirs_resp_partitions, DESCRIBE_LOG_DIRS_RESP_PARTITIONS) \
    X(describe_log_dirs_resp_topics, DESCRIBE_LOG_DIRS_RESP_TOPICS) \
    X(describe_log_dirs_resp_results, DESCRIBE_LOG_DIRS_RESP_RESULTS) \
    X(describe_log_dirs_resp, DESCRIBE_LOG_DIRS_RESP)

#endif
