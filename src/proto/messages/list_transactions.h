/*
 * list_transactions.h - List Transactions (API key 66): request and response bodies.
 *
 * Samsa's own field lists for every version up to LIST_TRANSACTIONS_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_LIST_TRANSACTIONS_H
#define SAMSA_PROTO_MSG_LIST_TRANSACTIONS_H

#include "proto/schema.h"

#define LIST_TRANSACTIONS_API_KEY 66
#define LIST_TRANSACTIONS_FLEX_FROM 0
#define LIST_TRANSACTIONS_MAX_VERSION 1

#define LIST_TRANSACTIONS_REQ(F, S) \
    F(S, ASTR, state_filters,       0, 99) \
    F(S, AI64, producer_id_filters, 0, 99) \
    F(S, I64,  duration_filter,     1, 99, DFLT(-1))
KSTRUCT_DECL(list_transactions_req, LIST_TRANSACTIONS_REQ)

#define LIST_TRANSACTIONS_RESP_STATES(F, S) \
    F(S, STR, transactional_id,  0, 99) \
    F(S, I64, producer_id,       0, 99) \
    F(S, STR, transaction_state, 0, 99)
KSTRUCT_DECL(list_transactions_resp_states, LIST_TRANSACTIONS_RESP_STATES)

#define LIST_TRANSACTIONS_RESP(F, S) \
    F(S, I32,     throttle_time_ms,      0, 99) \
    F(S, I16,     error_code,            0, 99) \
    F(S, ASTR,    unknown_state_filters, 0, 99) \
    F(S, ASTRUCT, transaction_states,    0, 99, list_transactions_resp_states)
KSTRUCT_DECL(list_transactions_resp, LIST_TRANSACTIONS_RESP)

#define LIST_TRANSACTIONS_STRUCTS(X, XE) \
    X(list_transactions_req, LIST_TRANSACTIONS_REQ) \
    X(list_transactions_resp_states, LIST_TRANSACTIONS_RESP_STATES) \
    X(list_transactions_resp, LIST_TRANSACTIONS_RESP)

#endif
