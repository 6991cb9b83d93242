/*
 * sasl_session.h - the SASL exchange of one connection on a SASL_PLAINTEXT
 * or SASL_SSL listener (Kafka's SaslServerAuthenticator).
 *
 * States: HANDSHAKE (only ApiVersions and SaslHandshake are served) ->
 * AUTHENTICATE (SaslAuthenticate v0-2 carries the tokens; after a v0
 * SaslHandshake: LEGACY, raw size-prefixed tokens without a Kafka header)
 * -> DONE (client.authenticated, client.principal = User:<authcid>).
 * A DONE connection whose client authenticated with SaslAuthenticate v1+
 * may re-authenticate (KIP-368) with SaslHandshake + SaslAuthenticate;
 * once a session with a lifetime has expired, any other request closes
 * the connection.  Lives on the connection's loop thread, owned by the
 * client (sasl_session_free at close).
 */
#ifndef SAMSA_SERVER_SASL_SESSION_H
#define SAMSA_SERVER_SASL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/request.h"

struct client;
struct sasl_session;

/* A session for a new connection on a SASL listener: sets the frame
 * bound to sasl.server.max.receive.size until authentication. */
struct sasl_session *sasl_session_new(struct client *cl);
void sasl_session_free(struct sasl_session *s);

/* Called for every frame before it is parsed as a request.  Returns true
 * when the frame was a raw legacy token (v0 exchange) and was consumed
 * (the frame is freed). */
bool sasl_session_raw_frame(struct client *cl, uint8_t *frame, size_t len);

/* May a request with this API key be served now?  NULL = yes; otherwise
 * why the connection must close (Kafka's message). */
const char *sasl_session_gate(struct client *cl, int16_t api_key, char *buf, size_t n);

/* Handlers of SaslHandshake (17) and SaslAuthenticate (36), for the
 * owner's dispatch table; on a PLAINTEXT or SSL listener they answer
 * ILLEGAL_SASL_STATE, as Kafka does. */
void sasl_handle_handshake(kreq *rq);
void sasl_handle_authenticate(kreq *rq);

/* The client asked to be closed once its last response is written (a
 * failed authentication answers first, then closes). */
bool sasl_session_close_pending(const struct client *cl);

#endif
