/*
 * plain.h - SASL/PLAIN (RFC 4616) as Kafka's PlainSaslServer checks it:
 * the token is "authzid NUL authcid NUL passwd"; authzid empty or equal to
 * authcid; the password is the JAAS option user_<authcid> of the
 * listener's PlainLoginModule entry.  Kafka's messages (sent to the client)
 * are returned in *msg.  No copy of the password outlives the call.
 */
#ifndef SAMSA_AUTH_PLAIN_H
#define SAMSA_AUTH_PLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "auth/jaas.h"

#define PLAIN_MAX_TOKEN 4096
#define PLAIN_MAX_USER 256

enum plain_rc { PLAIN_OK = 0, PLAIN_EMALFORMED = -1, PLAIN_EAUTH = -2 };

/* Check a client's token against the JAAS users; on PLAIN_OK user holds
 * the authcid.  On failure *msg is Kafka's text for the client (for
 * PLAIN_EMALFORMED the caller answers with its generic message, as Kafka
 * does for a SaslException). */
int plain_authenticate(const jaas_config *users, const uint8_t *tok, size_t len, char *user,
                       size_t ucap, const char **msg);

/* Build a client token "\0user\0password"; its length, or -1. */
long plain_client_token(const char *user, const char *password, uint8_t *out, size_t cap);

#endif
