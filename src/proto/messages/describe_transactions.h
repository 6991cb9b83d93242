/*
 * describe_transactions.h - Describe Transactions (API key 65): request and response bodies.
 *
 * Samsa's own field lists for every version up to DESCRIBE_TRANSACTIONS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_TRANSACTIONS_H
#define SAMSA_PROTO_MSG_DESCRIBE_TRANSACTIONS_H

#include "proto/schema.h"

#define DESCRIBE_TRANSACTIONS_API_KEY 65
#define DESCRIBE_TRANSACTIONS_FLEX_FROM 0
#define DESCRIBE_TRANSACTIONS_MAX_VERSION 0

#define DESCRIBE_TRANSACTIONS_REQ(F, S) \
    F(S, ASTR, transactional_ids, 0, 99)
KSTRUCT_DECL(describe_transactions_req, DESCRIBE_TRANSACTIONS_REQ)

#define DESCRIBE_TRANSACTIONS_RESP_TOPICS(F, S) \
    F(S, STR,  topic,      0, 99) \
    F(S, AI32, partitions, 0, 99)
KSTRUCT_DECL(describe_transactions_resp_topics, DESCRIBE_TRANSACTIONS_RESP_TOPICS)

#define DESCRIBE_TRANSACTIONS_RESP_STATES(F, S) \
    F(S, I16,     error_code,                 0, 99) \
    F(S, STR,     transactional_id,           0, 99) \
    F(S, STR,     transaction_state,          0, 99) \
    F(S, I32,     transaction_timeout_ms,     0, 99) \
    F(S, I64,     transaction_start_time_ms,  0, 99) \
    F(S, I64,     producer_id,                0, 99) \
    F(S, I16,     producer_epoch,             0, 99) \
    F(S, ASTRUCT, topics,                     0, 99, describe_transactions_resp_topics)
KSTRUCT_DECL(describe_transactions_resp_states, DESCRIBE_TRANSACTIONS_RESP_STATES)

#define DESCRIBE_TRANSACTIONS_RESP(F, S) \
    F(S, I32,     throttle_time_ms,   0, 99) \
    F(S, ASTRUCT, transaction_states, 0, 99, describe_transactions_resp_states)
KSTRUCT_DECL(describe_transactions_resp, DESCRIBE_TRANSACTIONS_RESP)

#define DESCRIBE_TRANSACTIONS_STRUCTS(X, XE) \
    X(describe_transactions_req, DESCRIBE_TRANSACTIONS_REQ) \
    X(describe_transactions_resp_topics, DESCRIBE_TRANSACTIONS_RESP_TOPICS) \
    X(describe_transactions_resp_states, DESCRIBE_TRANSACTIONS_RESP_STATES) \
    X(describe_transactions_resp, DESCRIBE_TRANSACTIONS_RESP)

#endif
