/*
 * client.h - the broker's side of one connection: turns frames into
 * requests, dispatches them, and releases responses in request order.
 *
 * Flow control: while too many requests are pending or too many response
 * bytes are queued, the client stops reading from the socket, so a client
 * that never reads its responses cannot make the broker buffer without
 * bound.  Lives on the connection's loop thread.
 */
#ifndef SAMSA_BROKER_CLIENT_H
#define SAMSA_BROKER_CLIENT_H

#include "broker/request.h"
#include "net/conn.h"

struct client {
    conn *c;
    int refs;                 /* the conn + every live kreq */
    kreq *head, *tail;        /* requests not yet answered, in order */
    int inflight;
    int listener;             /* index into broker_settings.listen */
    char ip[64];              /* peer address, for max.connections.per.ip */
    bool closed;
};

extern const conn_ops client_conn_ops;

/* Adopt a new socket on this loop as a Kafka client connection. */
void client_accept(loop *lp, int fd, int listener_idx, const char *ip);
/* A request finished: release whatever responses are now in order. */
void client_release(client *cl);

#endif
