/*
 * server_tls.h - the TLS side of the server's SSL and SASL_SSL listeners:
 * each listener's SSL_CTX built from its ssl.* keys (listener.name.<l>.
 * prefix first), the principal of a client certificate, and the reload of
 * a listener's keystore/truststore when a dynamic config changes them.
 *
 * Invariants (docs/security.md):
 *   S-TLS6  The principal on an SSL listener is the client certificate's
 *           subject (RFC 2253) mapped by ssl.principal.mapping.rules; no
 *           certificate = User:ANONYMOUS; a subject no rule maps closes the
 *           connection (Kafka fails the authentication).  On SASL_SSL the
 *           certificate never sets the principal (SASL does).
 *   S-TLS7  A dynamic change of a listener's TLS keys is validated by
 *           building the new context first: a bad store is refused with
 *           INVALID_CONFIG naming the key and file, and the old context
 *           stays.  Unless ssl.allow.dn.changes / ssl.allow.san.changes,
 *           the new certificate must keep the subject DN / SANs (Kafka).
 *           Connections keep the context they were accepted with; new ones
 *           get the new one.
 *
 * Threads: init/update/free run on the admin path (one at a time, the
 * caller serialises config publication); network threads take a context
 * reference under the listener's mutex (server_tls_ctx_ref).
 */
#ifndef SAMSA_SERVER_SERVER_TLS_H
#define SAMSA_SERVER_SERVER_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/principal.h"
#include "net/tls.h"
#include "server/server.h"

struct broker_config;

/* Build the context of every SSL / SASL_SSL listener from the current
 * config (s->ops->config).  -1 with one line in err (startup stops). */
int server_tls_init(server *s, char *err, size_t errlen);
/* The config `next` is about to be published: rebuild the context of each
 * TLS listener whose TLS keys (or store files) changed.  All or nothing:
 * on failure (-1, err filled) nothing changes; dry_run only validates. */
int server_tls_update(server *s, const struct broker_config *next, bool dry_run, char *err,
                      size_t errlen);
/* After the network threads and every thread that publishes configs
 * (admin worker, cluster-mode watchers) have stopped. */
void server_tls_free(server *s);

/* A reference to listener i's current context (SSL_CTX_free it), NULL if
 * the listener has no TLS.  Any thread. */
SSL_CTX *server_tls_ctx_ref(server *s, int i);
int64_t server_tls_handshake_ms(const server *s, int i);
/* S-TLS6: the principal of a completed handshake on listener i.  0, or -1
 * with the reason in why (close the connection). */
int server_tls_principal(server *s, int i, SSL *ssl, kprincipal *out, char *why, size_t whylen);

/* For the broker's own connections (kclient; clustersec): a client
 * context built from listener `listener`'s keys - its truststore verifies
 * the peer broker, its keystore (if set) is presented for mTLS.  NULL with
 * err.  *verify_hostname receives ssl.endpoint.identification.algorithm
 * == https. */
SSL_CTX *server_tls_client_ctx(const struct broker_config *cfg, const char *listener,
                               bool *verify_hostname, char *err, size_t errlen);

/* The TLS half of a kclient_security for connections to other brokers'
 * listener `listener` (security.inter.broker.protocol / the inter-broker
 * listener's protocol `secproto`): protocol set; for SSL / SASL_SSL the
 * context from server_tls_client_ctx and verify_hostname.  SASL fields are
 * left as they are (the caller's).  0, or -1 with err.  The caller owns
 * out->ssl_ctx (SSL_CTX_free when the last kclient using it is gone). */
struct kclient_security;
int server_tls_kclient_security(const struct broker_config *cfg, const char *listener,
                                int8_t secproto, struct kclient_security *out, char *err,
                                size_t errlen);

#endif
