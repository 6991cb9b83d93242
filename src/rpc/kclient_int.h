/*
 * kclient_int.h - the kclient's security steps, shared by kclient.c and
 * the files that implement them (kclient_tls.c, kclient_sasl.c).
 *
 * kclient_connect runs them in order on the new connection: TLS (SSL and
 * SASL_SSL), then SASL (SASL_PLAINTEXT and SASL_SSL).  Each returns 0, or
 * -1 with a message in err naming the peer and what failed; on failure the
 * caller closes the connection.  All waits end by `deadline` (ms, the
 * CLOCK_MONOTONIC clock kclient.c's now_ms reads).
 */
#ifndef SAMSA_RPC_KCLIENT_INT_H
#define SAMSA_RPC_KCLIENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "rpc/kclient.h"

/* TLS handshake as a client over c->fd (c->ssl set on success); host for
 * SNI and, with sec->verify_hostname, the certificate's name check. */
int kclient_tls_start(kclient *c, const char *host, int64_t deadline, char *err, size_t errlen);
/* Free c->ssl (no close_notify wait); safe when there is none. */
void kclient_tls_end(kclient *c);
/* SaslHandshake v1 + SaslAuthenticate with sec's mechanism and identity. */
int kclient_sasl_start(kclient *c, int64_t deadline, char *err, size_t errlen);

#endif
