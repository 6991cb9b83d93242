/*
 * net_threads.h - the network threads: num.network.threads event loops,
 * each serving its own set of connections, plus the listener (on loop 0)
 * that hands new sockets out round-robin.  Requests are handled on the
 * thread that owns the connection; blocking work (admin operations,
 * fsync) is sent to background threads and completes back here.
 */
#ifndef SAMSA_BROKER_NET_THREADS_H
#define SAMSA_BROKER_NET_THREADS_H

#include <stddef.h>

#include "broker/broker.h"

/* Create loops and bind the listener; errors name the address. */
int net_threads_init(broker *b, char *err, size_t errlen);
int net_threads_start(broker *b);
/* A client connection from ip is gone (any network thread). */
void net_threads_connection_closed(const char *ip);
/* A dynamic config update: resume accepting if max.connections was raised
 * while the broker was full. */
void net_threads_limits_changed(broker *b);
/* Stop accepting, stop loops and join threads. */
void net_threads_stop(broker *b);

#endif
