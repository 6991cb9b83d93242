/*
 * add_offsets_to_txn.h - Add Offsets To Txn (API key 25): request and response bodies.
 *
 * Samsa's own field lists for every version up to ADD_OFFSETS_TO_TXN_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_ADD_OFFSETS_TO_TXN_H
#define SAMSA_PROTO_MSG_ADD_OFFSETS_TO_TXN_H

#include "proto/schema.h"

#define ADD_OFFSETS_TO_TXN_API_KEY 25
#define ADD_OFFSETS_TO_TXN_FLEX_FROM 3
#define ADD_OFFSETS_TO_TXN_MAX_VERSION 4

#define ADD_OFFSETS_TO_TXN_REQ(F, S) \
    F(S, STR, transactional_id, 0, 99) \
    F(S, I64, producer_id,      0, 99) \
    F(S, I16, producer_epoch,   0, 99) \
    F(S, STR, group_id,         0, 99)
KSTRUCT_DECL(add_offsets_to_txn_req, ADD_OFFSETS_TO_TXN_REQ)

#define ADD_OFFSETS_TO_TXN_RESP(F, S) \
    F(S, I32, throttle_time_ms, 0, 99) \
    F(S, I16, error_code,       0, 99)
KSTRUCT_DECL(add_offsets_to_txn_resp, ADD_OFFSETS_TO_TXN_RESP)

#define ADD_OFFSETS_TO_TXN_STRUCTS(X, XE) \
    X(add_offsets_to_txn_req, ADD_OFFSETS_TO_TXN_REQ) \
    X(add_offsets_to_txn_resp, ADD_OFFSETS_TO_TXN_RESP)

#endif
