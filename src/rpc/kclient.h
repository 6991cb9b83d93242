/*
 * kclient.h - the broker's own Kafka-protocol client, for calls from one
 * broker to another: the controller's LeaderAndIsr / UpdateMetadata /
 * StopReplica, a follower's Fetch and OffsetForLeaderEpoch to its leader.
 *
 * One TCP connection, one request in flight, every wait bounded by the
 * caller's timeout.  Requests and responses go through the same schema
 * tables and codec the broker serves clients with (proto/), so an
 * inter-broker message is encoded exactly as a Kafka broker would.
 *
 * Threads: blocking (poll with a deadline), so it runs on a thread of its
 * own (the controller's, a replica fetcher's), never on a network loop.
 * A kclient belongs to one thread at a time.
 *
 * Memory: a response frame is at most max_response bytes (a frame that
 * claims more closes the connection); it is kept by the client until the
 * next call or close, and a decoded response points into it (record sets,
 * strings) and into the caller's arena (arrays).
 *
 * Errors: 0, or KERR__IO (the connection failed or timed out: it is
 * closed, reconnect before the next call) or KERR__PARSE (the answer did
 * not decode or did not match the request: closed too), with a message
 * naming the peer.
 */
#ifndef SAMSA_RPC_KCLIENT_H
#define SAMSA_RPC_KCLIENT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"

/* How a kclient reaches its peer: the inter-broker listener's security
 * protocol (security.inter.broker.protocol / inter.broker.listener.name),
 * with its TLS context and SASL identity.  Owned by the broker, immutable
 * while any kclient points at it (replaced whole, never edited).  TLS:
 * rpc/kclient_tls.c; SASL: rpc/kclient_sasl.c; docs/security.md. */
typedef struct kclient_security {
    int8_t protocol;                 /* cfg_secproto: 0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL */
    struct ssl_ctx_st *ssl_ctx;      /* client SSL_CTX for SSL / SASL_SSL */
    bool verify_hostname;            /* ssl.endpoint.identification.algorithm=https */
    char sasl_mechanism[32];         /* PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER */
    char sasl_username[256];
    char sasl_password[256];
    char sasl_token[4096];           /* OAUTHBEARER: the (unsecured) JWT */
} kclient_security;

typedef struct kclient {
    int fd;                      /* -1 when not connected */
    const kclient_security *sec; /* NULL = PLAINTEXT */
    struct ssl_st *ssl;          /* the TLS session while connected over TLS */
    char peer[300];              /* "host:port", for messages */
    char client_id[64];
    int32_t next_correlation;
    size_t max_response;
    uint8_t *frame;              /* the last response frame (owned) */
    size_t frame_len;
    /* A duplicate of fd while a call runs (-1 otherwise; -2: cut before
     * the next call), for kclient_cut; whichever of the call and the
     * cutter takes it (atomic exchange) closes it, so its number is never
     * reused under the other. */
    atomic_int cut_fd;
    bool was_cut;                /* the last call failed because it was cut */
} kclient;

void kclient_init(kclient *c, const char *client_id, size_t max_response);
/* Use `sec` (which outlives c; NULL = PLAINTEXT) from the next connect on. */
void kclient_set_security(kclient *c, const kclient_security *sec);
/* Connect (closing any previous connection), at most timeout_ms. */
int kclient_connect(kclient *c, const char *host, int port, int timeout_ms, char *err,
                    size_t errlen);
bool kclient_connected(const kclient *c);
void kclient_close(kclient *c);   /* also frees the last frame; connect again to reuse */

/* Any thread: make the call in flight on c return now, or, when none
 * runs, the next call fail at once (either fails with KERR__IO and
 * kclient_was_cut says so).  For a
 * long poll that should be asked again (a follower's Fetch when a
 * partition joins it) or a shutdown that must not wait for an answer. */
void kclient_cut(kclient *c);
/* Did the last call fail because kclient_cut cut it (not the peer)? */
static inline bool kclient_was_cut(const kclient *c) { return c->was_cut; }

/* Send `req` (the API's request struct) at `version` and decode the answer
 * into `resp` (the API's response struct, zeroed by the caller), arrays
 * from arena `a`.  The whole exchange takes at most timeout_ms. */
int kclient_call(kclient *c, int16_t api_key, int16_t version, const void *req, arena *a,
                 void *resp, int timeout_ms, char *err, size_t errlen);

/* The two halves of kclient_call, for a caller that encodes on one thread
 * and sends on another (the controller's per-broker senders): the body of
 * `req` (no header, no size prefix) in a malloc'd buffer (*out, *len), 0
 * or KERR__PARSE; then one exchange with that body. */
int kclient_encode(int16_t api_key, int16_t version, const void *req, uint8_t **out,
                   size_t *len);
int kclient_call_encoded(kclient *c, int16_t api_key, int16_t version, const uint8_t *body,
                         size_t body_len, arena *a, void *resp, int timeout_ms, char *err,
                         size_t errlen);

#endif
