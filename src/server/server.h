/*
 * server.h - the request pipeline's context: what one process needs to
 * serve Kafka requests on event loops, independent of what the requests do.
 *
 * A `server` owns the network threads (one event loop each), the listening
 * sockets, the connection limits and, through `ops`, the table of request
 * handlers its owner registers (the broker's dispatch table).  Handlers
 * reach their owner's state with kreq_ctx(): the pipeline never names a
 * layer above it.  Layer: server/ sits above storage/ and cluster/, below
 * group/ and broker/ (docs/architecture.md).
 *
 * Threads: the fields set by the owner are immutable once net_threads_init
 * runs; `limits` has its own mutex; loops and listeners are created by
 * net_threads_init and used by their own threads afterwards.
 */
#ifndef SAMSA_SERVER_SERVER_H
#define SAMSA_SERVER_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/strmap.h"
#include "net/loop.h"
#include "server/request.h"

struct listener;
struct broker_config;
struct scram_cred;

#define MAX_LISTENERS 8

typedef struct endpoint {
    char name[64];                      /* listener name, e.g. PLAINTEXT */
    char host[256];                     /* "" = all interfaces (bind only) */
    int port;
    int8_t secproto;                    /* cfg_secproto (listen[] only) */
} endpoint;

/* One API the owner implements: key, the version range we implement and
 * advertise in ApiVersions, and the handler (run on the request's loop). */
typedef void (*api_handler)(kreq *rq);
typedef struct api_entry {
    int16_t key;
    int16_t min_version, max_version;
    api_handler handle;
    const char *notes;         /* for the coverage doc */
    bool test_hook;            /* inter-broker API: served only in cluster mode
                                  or with samsa.test.hooks.enable */
} api_entry;

typedef struct server_ops {
    /* The row for an API key, or NULL (the connection is closed). */
    const api_entry *(*api_get)(int key);
    /* Every row in key order (the answer to an ApiVersions of a version
     * we do not know). */
    const api_entry *(*api_table)(int *n);
    /* The current configuration snapshot; connection limits read it at
     * every decision, so dynamic changes apply to the next connection. */
    const struct broker_config *(*config)(void *ctx);
    /* SCRAM: the stored credential of `user` for mechanism `mech`
     * (auth/scram.h), 0, or -1 when the user has none.  Any network
     * thread; the owner keeps the credentials (docs/security.md).  NULL =
     * no SCRAM user exists. */
    int (*scram_lookup)(void *ctx, const char *user, int8_t mech, struct scram_cred *out);
    /* Client quotas: record request_percentage for rq, its handler having
     * run handler_ns (the loop thread, once per request: when it answers
     * at once, before its response is encoded).  Returns the throttle in
     * ms (0: none).  NULL = no request quotas. */
    int32_t (*request_quota)(void *ctx, kreq *rq, int64_t handler_ns);
} server_ops;

/* max.connections / max.connections.per.ip bookkeeping (conn_limits.c). */
typedef struct conn_counts {
    pthread_mutex_t mu;           /* guards everything below */
    strmap per_ip;                /* ip -> (intptr) count */
    int total;
    bool full;                    /* accepting paused at max.connections */
} conn_counts;

typedef struct server {
    /* Set by the owner before net_threads_init. */
    const server_ops *ops;
    void *ctx;                    /* the handlers' context: kreq_ctx() */
    int nthreads;                 /* num.network.threads */
    int32_t max_frame;            /* socket.request.max.bytes */
    int64_t idle_ms;              /* connections.max.idle.ms */
    endpoint *listen, *adv;       /* nlisteners each; port 0 is filled in */
    int nlisteners;

    /* Created by net_threads_init. */
    loop **loops;                 /* one per network thread */
    pthread_t *threads;
    int nloops;
    atomic_uint next_loop;        /* round-robin for new connections */
    /* Set by the owner while any client quota exists: only then does the
     * pipeline time handlers for ops->request_quota (request_percentage),
     * so a broker without quotas pays one relaxed load per request. */
    atomic_bool quotas_on;
    struct listener *listeners[MAX_LISTENERS];
    struct accept_arg *accept_args[MAX_LISTENERS];   /* owned; freed at stop */
    struct server_tls *tls[MAX_LISTENERS];   /* SSL / SASL_SSL listeners (server_tls.c) */
    conn_counts limits;
    int64_t refusal_logged_ms;    /* loop 0 only: rate-limits the refusal warning */
} server;

#endif
