/*
 * oauthbearer.h - SASL/OAUTHBEARER (RFC 7628) with unsecured JWTs, as
 * Kafka's OAuthBearerSaslServer + OAuthBearerUnsecuredValidatorCallbackHandler
 * check them (for tests and development, as Kafka ships it).
 *
 * Client initial response: "n,[a=<authzid>],\x01auth=Bearer <jwt>\x01
 * [<key>=<value>\x01]*\x01".  The JWT is "<b64url header>.<b64url
 * claims>." with header alg "none" and an empty signature.  Checked:
 * the principal claim (unsecuredValidatorPrincipalClaimName, default
 * "sub") is a non-empty string; exp is a number and now - skew < exp;
 * iat, if present, a number not after now + skew and before exp;
 * every scope of unsecuredValidatorRequiredScope (space-separated) is in
 * the scope claim (unsecuredValidatorScopeClaimName, default "scope",
 * a string of space-separated scopes or an array of strings); skew is
 * unsecuredValidatorAllowableClockSkewMs (default 0).  Bounded by
 * OAUTH_MAX_MSG; the token is never logged.
 */
#ifndef SAMSA_AUTH_OAUTHBEARER_H
#define SAMSA_AUTH_OAUTHBEARER_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jaas.h"

#define OAUTH_MAX_MSG 16384
#define OAUTH_MAX_PRINCIPAL 256

enum oauth_rc {
    OAUTH_OK = 0,
    OAUTH_EMALFORMED = -1,      /* not an OAUTHBEARER initial response */
    OAUTH_EINVALID = -2,        /* the token fails validation: answer *status */
    OAUTH_EAUTHZID = -3,        /* authzid differs from the principal */
};

/* Validate a client initial response against the listener's JAAS options
 * (jc may be NULL: defaults).  On OAUTH_OK principal holds the principal
 * name and *exp_ms the token's expiry (Unix ms).  On OAUTH_EINVALID
 * *status is Kafka's JSON answer ({"status":"invalid_token"}, or
 * insufficient_scope with the scope); why says what failed (for a debug
 * log: it holds no token bytes). */
int oauth_server_validate(const jaas_config *jc, const uint8_t *msg, size_t len, int64_t now_ms,
                          char *principal, size_t pcap, int64_t *exp_ms, char *status, size_t sn,
                          char *why, size_t wn);

/* An unsecured JWT as Kafka's OAuthBearerUnsecuredLoginCallbackHandler
 * makes it: {"alg":"none"} and {"sub":..,"iat":..,"exp":..}.  Length or -1. */
long oauth_unsecured_jwt(const char *sub, int64_t now_ms, int64_t lifetime_s, char *out, size_t cap);
/* The client initial response for a token: "n,,\x01auth=Bearer <t>\x01\x01". */
long oauth_client_response(const char *jwt, uint8_t *out, size_t cap);

#endif
