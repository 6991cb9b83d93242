/*
 * init_producer_id.h - Init Producer Id (API key 22): request and response bodies.
 *
 * Samsa's own field lists for every version up to INIT_PRODUCER_ID_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_INIT_PRODUCER_ID_H
#define SAMSA_PROTO_MSG_INIT_PRODUCER_ID_H

#include "proto/schema.h"

#define INIT_PRODUCER_ID_API_KEY 22
#define INIT_PRODUCER_ID_FLEX_FROM 2
#define INIT_PRODUCER_ID_MAX_VERSION 5

#define INIT_PRODUCER_ID_REQ(F, S) \
    F(S, STR, transactional_id,       0, 99, NULLABLE(0)) \
    F(S, I32, transaction_timeout_ms, 0, 99) \
    F(S, I64, producer_id,            3, 99, DFLT(-1)) \
    F(S, I16, producer_epoch,         3, 99, DFLT(-1))
KSTRUCT_DECL(init_producer_id_req, INIT_PRODUCER_ID_REQ)

#define INIT_PRODUCER_ID_RESP(F, S) \
    F(S, I32, throttle_time_ms, 0, 99) \
    F(S, I16, error_code,       0, 99) \
    F(S, I64, producer_id,      0, 99, DFLT(-1)) \
    F(S, I16, producer_epoch,   0, 99)
KSTRUCT_DECL(init_producer_id_resp, INIT_PRODUCER_ID_RESP)

#define INIT_PRODUCER_ID_STRUCTS(X, XE) \
    X(init_producer_id_req, INIT_PRODUCER_ID_REQ) \
    X(init_producer_id_resp, INIT_PRODUCER_ID_RESP)

#endif
