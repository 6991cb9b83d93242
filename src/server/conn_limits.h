/*
 * conn_limits.h - max.connections and max.connections.per.ip(.overrides).
 *
 * Kafka's semantics: a connection from an address already at its per-IP
 * limit is closed as soon as it is accepted; when the whole server is at
 * max.connections the acceptor stops accepting (clients wait in the
 * listen backlog) until a connection closes.  The counts live in the
 * server's conn_counts behind one mutex: admissions happen on loop 0,
 * releases on any network thread.
 */
#ifndef SAMSA_SERVER_CONN_LIMITS_H
#define SAMSA_SERVER_CONN_LIMITS_H

#include <stdbool.h>
#include <sys/socket.h>

#include "server/server.h"

#define CONN_IP_LEN 64

void conn_limits_init(server *s);
void conn_limits_free(server *s);
/* Decide on a just-accepted socket.  Fills ip (text form).  Returns 1 to
 * admit, 0 to refuse (per-IP limit), -1 when the server is full (the
 * caller stops accepting until conn_limits_release reports room). */
int conn_limits_admit(server *s, int fd, char ip[CONN_IP_LEN]);
/* A connection from ip closed.  Returns true if the server was full and
 * accepting may resume. */
bool conn_limits_release(server *s, const char *ip);
/* The config changed: true if the server was full and the new
 * max.connections leaves room (the caller resumes accepting). */
bool conn_limits_changed(server *s);
/* Live connection count (for logs and tests). */
int conn_limits_count(server *s);

#endif
