/*
 * sasl_handshake.h - Sasl Handshake (API key 17): request and response bodies.
 *
 * Samsa's own field lists for every version up to SASL_HANDSHAKE_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_SASL_HANDSHAKE_H
#define SAMSA_PROTO_MSG_SASL_HANDSHAKE_H

#include "proto/schema.h"

#define SASL_HANDSHAKE_API_KEY 17
#define SASL_HANDSHAKE_FLEX_FROM 127
#define SASL_HANDSHAKE_MAX_VERSION 1

#define SASL_HANDSHAKE_REQ(F, S) \
    F(S, STR, mechanism, 0, 99)
KSTRUCT_DECL(sasl_handshake_req, SASL_HANDSHAKE_REQ)

#define SASL_HANDSHAKE_RESP(F, S) \
    F(S, I16,  error_code, 0, 99) \
    F(S, ASTR, mechanisms, 0, 99)
KSTRUCT_DECL(sasl_handshake_resp, SASL_HANDSHAKE_RESP)

#define SASL_HANDSHAKE_STRUCTS(X, XE) \
    X(sasl_handshake_req, SASL_HANDSHAKE_REQ) \
    X(sasl_handshake_resp, SASL_HANDSHAKE_RESP)

#endif
