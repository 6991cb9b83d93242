/*
 * describe_user_scram_credentials.h - DescribeUserScramCredentials (API key 50): request and
 * response bodies.
 *
 * Samsa's own field lists for every version up to
 * DESCRIBE_USER_SCRAM_CREDENTIALS_MAX_VERSION; the format is described in
 * proto/schema.h.  Which versions the broker advertises is decided by the
 * dispatch table (broker/dispatch.c), not here.
 */
#ifndef SAMSA_PROTO_MSG_DESCRIBE_USER_SCRAM_CREDENTIALS_H
#define SAMSA_PROTO_MSG_DESCRIBE_USER_SCRAM_CREDENTIALS_H

#include "proto/schema.h"

#define DESCRIBE_USER_SCRAM_CREDENTIALS_API_KEY 50
#define DESCRIBE_USER_SCRAM_CREDENTIALS_FLEX_FROM 0
#define DESCRIBE_USER_SCRAM_CREDENTIALS_MAX_VERSION 0

#define DESCRIBE_USER_SCRAM_CREDENTIALS_REQ_USERS(F, S) \
    F(S, STR, name, 0, 99)
KSTRUCT_DECL(describe_user_scram_credentials_req_users, DESCRIBE_USER_SCRAM_CREDENTIALS_REQ_USERS)

#define DESCRIBE_USER_SCRAM_CREDENTIALS_REQ(F, S) \
    F(S, ASTRUCT, users, 0, 99, describe_user_scram_credentials_req_users, NULLABLE(0))
KSTRUCT_DECL(describe_user_scram_credentials_req, DESCRIBE_USER_SCRAM_CREDENTIALS_REQ)

#define DESCRIBE_USER_SCRAM_CREDENTIALS_RESP_INFOS(F, S) \
    F(S, I8,  mechanism,  0, 99) \
    F(S, I32, iterations, 0, 99)
KSTRUCT_DECL(describe_user_scram_credentials_resp_infos, DESCRIBE_USER_SCRAM_CREDENTIALS_RESP_INFOS)

#define DESCRIBE_USER_SCRAM_CREDENTIALS_RESP_RESULTS(F, S) \
    F(S, STR,     user,             0, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, STR,     error_message,    0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, credential_infos, 0, 99, describe_user_scram_credentials_resp_infos)
KSTRUCT_DECL(describe_user_scram_credentials_resp_results,
             DESCRIBE_USER_SCRAM_CREDENTIALS_RESP_RESULTS)

#define DESCRIBE_USER_SCRAM_CREDENTIALS_RESP(F, S) \
    F(S, I32,     throttle_time_ms, 0, 99) \
    F(S, I16,     error_code,       0, 99) \
    F(S, STR,     error_message,    0, 99, NULLABLE(0), DFLT_NULL) \
    F(S, ASTRUCT, results,          0, 99, describe_user_scram_credentials_resp_results)
KSTRUCT_DECL(describe_user_scram_credentials_resp, DESCRIBE_USER_SCRAM_CREDENTIALS_RESP)

#define DESCRIBE_USER_SCRAM_CREDENTIALS_STRUCTS(X, XE) \
    X(describe_user_scram_credentials_req_users, DESCRIBE_USER_SCRAM_CREDENTIALS_REQ_USERS) \
    X(describe_user_scram_credentials_req, DESCRIBE_USER_SCRAM_CREDENTIALS_REQ) \
    X(describe_user_scram_credentials_resp_infos, DESCRIBE_USER_SCRAM_CREDENTIALS_RESP_INFOS) \
    X(describe_user_scram_credentials_resp_results, DESCRIBE_USER_SCRAM_CREDENTIALS_RESP_RESULTS) \
    X(describe_user_scram_credentials_resp, DESCRIBE_USER_SCRAM_CREDENTIALS_RESP)

#endif
