/*
 * net_threads.h - the network threads: server.nthreads event loops, each
 * serving its own set of connections, plus the listeners (on loop 0) that
 * hand new sockets out round-robin.  Requests are handled on the thread
 * that owns the connection; blocking work (admin operations, fsync) is
 * sent to background threads and completes back here.
 */
#ifndef SAMSA_SERVER_NET_THREADS_H
#define SAMSA_SERVER_NET_THREADS_H

#include <stddef.h>

#include "server/server.h"

/* Create loops and bind the listeners; errors name the address. */
int net_threads_init(server *s, char *err, size_t errlen);
int net_threads_start(server *s);
/* A client connection from ip is gone (any network thread). */
void net_threads_connection_closed(server *s, const char *ip);
/* A dynamic config update: resume accepting if max.connections was raised
 * while the server was full. */
void net_threads_limits_changed(server *s);
/* Run fn(lp, arg) on every network loop and wait until all have run
 * (shutdown: complete what is parked). */
void net_threads_run_on_each(server *s, void (*fn)(loop *lp, void *arg), void *arg);
/* Stop accepting, stop loops and join threads. */
void net_threads_stop(server *s);

#endif
