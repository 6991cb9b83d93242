/*
 * controller_link.h - how this broker's controller (cluster/controller.h)
 * reaches the brokers: a controller_channel whose requests are queued per
 * target broker and sent, in order, by a sender thread per broker over the
 * Kafka protocol (controller_link.c says how delivery and retries work).
 */
#ifndef SAMSA_BROKER_CONTROLLER_LINK_H
#define SAMSA_BROKER_CONTROLLER_LINK_H

#include "cluster/controller.h"

struct cluster_md;
struct kclient_security;
typedef struct controller_link controller_link;

/* Targets are looked up in md's live brokers, on the endpoint of the
 * named listener (the inter-broker one; a broker without it is not
 * reached), and connected to with `sec` (NULL = PLAINTEXT; outlives the
 * link).  NULL when out of memory. */
controller_link *controller_link_new(struct cluster_md *md, const char *listener,
                                     const struct kclient_security *sec);
controller_channel controller_link_channel(controller_link *l);
/* Wait, at most timeout_ms, until every request queued so far has been
 * delivered or dropped (a controlled shutdown of the controller itself,
 * before it resigns). */
void controller_link_drain(controller_link *l, int timeout_ms);
/* Stop the senders (queued requests are dropped) and free.  Call after
 * controller_stop.  NULL: no-op. */
void controller_link_free(controller_link *l);

#endif
