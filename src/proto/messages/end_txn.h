/*
 * end_txn.h - End Txn (API key 26): request and response bodies.
 *
 * Samsa's own field lists for every version up to END_TXN_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 * (v5, KIP-890 part 2, is unstable in Kafka and not served.)
 */
#ifndef SAMSA_PROTO_MSG_END_TXN_H
#define SAMSA_PROTO_MSG_END_TXN_H

#include "proto/schema.h"

#define END_TXN_API_KEY 26
#define END_TXN_FLEX_FROM 3
#define END_TXN_MAX_VERSION 5

#define END_TXN_REQ(F, S) \
    F(S, STR,  transactional_id, 0, 99) \
    F(S, I64,  producer_id,      0, 99) \
    F(S, I16,  producer_epoch,   0, 99) \
    F(S, BOOL, committed,        0, 99)
KSTRUCT_DECL(end_txn_req, END_TXN_REQ)

#define END_TXN_RESP(F, S) \
    F(S, I32, throttle_time_ms, 0, 99) \
    F(S, I16, error_code,       0, 99) \
    F(S, I64, producer_id,      5, 99, DFLT(-1)) \
    F(S, I16, producer_epoch,   5, 99, DFLT(-1))
KSTRUCT_DECL(end_txn_resp, END_TXN_RESP)

#define END_TXN_STRUCTS(X, XE) \
    X(end_txn_req, END_TXN_REQ) \
    X(end_txn_resp, END_TXN_RESP)

#endif
