/*
 * client.h - the server's side of one connection: turns frames into
 * requests, dispatches them, and releases responses in request order.
 *
 * Flow control: while too many requests are pending or too many response
 * bytes are queued, the client stops reading from the socket, so a client
 * that never reads its responses cannot make the broker buffer without
 * bound.  Lives on the connection's loop thread.
 */
#ifndef SAMSA_SERVER_CLIENT_H
#define SAMSA_SERVER_CLIENT_H

#include "auth/principal.h"
#include "net/conn.h"
#include "server/request.h"
#include "server/server.h"

struct client {
    server *srv;
    conn *c;
    int refs;                 /* the conn + every live kreq */
    kreq *head, *tail;        /* requests not yet answered, in order */
    int inflight;
    int listener;             /* index into server.listen */
    char ip[64];              /* peer address, for max.connections.per.ip */
    bool closed;

    /* Security (docs/security.md).  secproto is the listener's
     * (cfg_secproto: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL).
     * principal is "User:ANONYMOUS" until TLS (client certificate) or
     * SASL sets it; authenticated is true once the listener's
     * authentication is complete (at once on PLAINTEXT and SSL). */
    int8_t secproto;
    bool authenticated;
    kprincipal principal;
    struct sasl_session *sasl;    /* SASL_* listeners: the exchange's state */

    /* Client quotas: muted (reads stopped) until mute_until_us after a
     * throttled response was queued; mute_timer ends it (S-ENT4). */
    int64_t mute_until_us;
    ktimer mute_timer;
    /* The request whose handler runs now (request_percentage: its time is
     * recorded once, in kreq_respond or after the handler returns). */
    kreq *handling;
    bool handling_recorded;
};

extern const conn_ops client_conn_ops;

/* Adopt a new socket on this loop as a Kafka client connection. */
void client_accept(server *s, loop *lp, int fd, int listener_idx, const char *ip);

#endif
