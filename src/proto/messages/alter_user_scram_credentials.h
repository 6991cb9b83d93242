/*
 * alter_user_scram_credentials.h - AlterUserScramCredentials (API key 51): request and
 * response bodies.
 *
 * Samsa's own field lists for every version up to
 * ALTER_USER_SCRAM_CREDENTIALS_MAX_VERSION; the format is described in
 * proto/schema.h.  Which versions the broker advertises is decided by the
 * dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_ALTER_USER_SCRAM_CREDENTIALS_H
#define SAMSA_PROTO_MSG_ALTER_USER_SCRAM_CREDENTIALS_H

#include "proto/schema.h"

#define ALTER_USER_SCRAM_CREDENTIALS_API_KEY 51
#define ALTER_USER_SCRAM_CREDENTIALS_FLEX_FROM 0
#define ALTER_USER_SCRAM_CREDENTIALS_MAX_VERSION 0

#define ALTER_USER_SCRAM_CREDENTIALS_REQ_DELETIONS(F, S) \
    F(S, STR, name,      0, 99) \
    F(S, I8,  mechanism, 0, 99)
KSTRUCT_DECL(alter_user_scram_credentials_req_deletions, ALTER_USER_SCRAM_CREDENTIALS_REQ_DELETIONS)

#define ALTER_USER_SCRAM_CREDENTIALS_REQ_UPSERTIONS(F, S) \
    F(S, STR,   name,            0, 99) \
    F(S, I8,    mechanism,       0, 99) \
    F(S, I32,   iterations,      0, 99) \
    F(S, BYTES, salt,            0, 99) \
    F(S, BYTES, salted_password, 0, 99)
KSTRUCT_DECL(alter_user_scram_credentials_req_upsertions,
             ALTER_USER_SCRAM_CREDENTIALS_REQ_UPSERTIONS)

#define ALTER_USER_SCRAM_CREDENTIALS_REQ(F, S) \
    F(S, ASTRUCT, deletions,  0, 99, alter_user_scram_credentials_req_deletions) \
    F(S, ASTRUCT, upsertions, 0, 99, alter_user_scram_credentials_req_upsertions)
KSTRUCT_DECL(alter_user_scram_credentials_req, ALTER_USER_SCRAM_CREDENTIALS_REQ)

#define ALTER_USER_SCRAM_CREDENTIALS_RESP_RESULTS(F, S) \
    F(S, STR, user,          0, 99) \
    F(S, I16, error_code,    0, 99) \
    F(S, STR, error_message, 0, 99, NULLABLE(0), DFLT_NULL)
KSTRUCT_DECL(alter_user_scram_credentials_resp_results, ALTER_USER_SCRAM_CREDENTIALS_RESP_RESULTS)

#define ALTER_USER_SCRAM_CREDENTIALS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, ASTRUCT, results,          0, 99, alter_user_scram_credentials_resp_results)
KSTRUCT_DECL(alter_user_scram_credentials_resp, ALTER_USER_SCRAM_CREDENTIALS_RESP)

#define ALTER_USER_SCRAM_CREDENTIALS_STRUCTS(X, XE) \
    X(alter_user_scram_credentials_req_deletions, ALTER_USER_SCRAM_CREDENTIALS_REQ_DELETIONS) \
    X(alter_user_scram_credentials_req_upsertions, ALTER_USER_SCRAM_CREDENTIALS_REQ_UPSERTIONS) \
    X(alter_user_scram_credentials_req, ALTER_USER_SCRAM_CREDENTIALS_REQ) \
    X(alter_user_scram_credentials_resp_results, ALTER_USER_SCRAM_CREDENTIALS_RESP_RESULTS) \
    X(alter_user_scram_credentials_resp, ALTER_USER_SCRAM_CREDENTIALS_RESP)

#endif
