/*
 * sasl_authenticate.h - Sasl Authenticate (API key 36): request and response bodies.
 *
 * Samsa's own field lists for every version up to SASL_AUTHENTICATE_MAX_VERSION; the
 * format is described in proto/schema.h.  Which versions the broker
 * advertises is decided by the dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_SASL_AUTHENTICATE_H
#define SAMSA_PROTO_MSG_SASL_AUTHENTICATE_H

#include "proto/schema.h"

#define SASL_AUTHENTICATE_API_KEY 36
#define SASL_AUTHENTICATE_FLEX_FROM 2
#define SASL_AUTHENTICATE_MAX_VERSION 2

#define SASL_AUTHENTICATE_REQ(F, S) \
    F(S, BYTES, auth_bytes, 0, 99)
KSTRUCT_DECL(sasl_authenticate_req, SASL_AUTHENTICATE_REQ)

#define SASL_AUTHENTICATE_RESP(F, S) \
    F(S, I16,   error_code,          0, 99) \
    F(S, STR,   error_message,       0, 99, NULLABLE(0)) \
    F(S, BYTES, auth_bytes,          0, 99) \
    F(S, I64,   session_lifetime_ms, 1, 99)
KSTRUCT_DECL(sasl_authenticate_resp, SASL_AUTHENTICATE_RESP)

#define SASL_AUTHENTICATE_STRUCTS(X, XE) \
    X(sasl_authenticate_req, SASL_AUTHENTICATE_REQ) \
    X(sasl_authenticate_resp, SASL_AUTHENTICATE_RESP)

#endif
