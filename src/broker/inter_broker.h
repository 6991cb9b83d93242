/*
 * inter_broker.h - how this broker connects to the other brokers (and to
 * itself, for transaction markers): one kclient_security built at startup
 * from its own configuration (docs/security.md, "The cluster over secured
 * listeners").  Every broker-to-broker kclient points at it (S-CL4).
 */
#ifndef SAMSA_BROKER_INTER_BROKER_H
#define SAMSA_BROKER_INTER_BROKER_H

#include <stddef.h>

struct broker_config;
struct kclient_security;

/* The security of the inter-broker listener (cfg->inter_broker_listener):
 * TLS context from that listener's ssl.* keys (truststore to verify the
 * peer, keystore as the client certificate, ssl.endpoint.identification.
 * algorithm), SASL identity from sasl.mechanism.inter.broker.protocol and
 * the username/password of that listener's JAAS config for the mechanism.
 * *out NULL for PLAINTEXT.  0, or -1 with err naming the key (startup
 * stops: Kafka validates inter-broker security at startup). */
int inter_broker_security_new(const struct broker_config *cfg, struct kclient_security **out,
                              char *err, size_t errlen);
/* Free (the TLS context, the secrets wiped).  NULL: no-op. */
void inter_broker_security_free(struct kclient_security *s);

#endif
