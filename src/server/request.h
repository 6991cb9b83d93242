/*
 * request.h - one client request from the moment its frame arrives until
 * its response is queued on the connection.
 *
 * A kreq owns its frame bytes (decoded strings and records point into
 * them), an arena holding the decoded body, and, once complete, the encoded
 * response.  Requests on a connection are answered strictly in arrival
 * order: a completed request waits in the client's queue behind any earlier
 * one that is still pending (a long-poll fetch, a produce awaiting flush).
 * All of this happens on the connection's loop thread.
 */
#ifndef SAMSA_SERVER_REQUEST_H
#define SAMSA_SERVER_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/obuf.h"
#include "net/conn.h"
#include "proto/api.h"
#include "proto/header.h"

typedef struct client client;

typedef struct kreq {
    client *cl;
    loop *lp;
    kreq_header hdr;
    const kapi_schema *api;
    bool flex;
    uint8_t *frame;              /* owned */
    size_t frame_len;
    arena arena;                 /* decoded body and response structs */
    void *body;                  /* decoded request */
    obuf resp;                   /* encoded response, once done */
    bool done;
    bool no_response;            /* acks=0 produce */
    bool encode_failed;
    struct delayed_op *delayed;  /* set while parked */
    struct kreq *next;           /* client queue */
    int64_t recv_us;
    /* Client quotas (broker/entities.h): the throttle this request earned;
     * its response's throttle_time_ms carries it and the connection stops
     * reading for that long once the response is queued (KIP-219). */
    int32_t throttle_ms;
    int64_t quota_t0_us;         /* its handler's start (request_percentage) */
} kreq;

/* Encode `resp` (schema = the API's response) as this request's answer and
 * release it in order.  The response struct may live in rq->arena. */
void kreq_respond(kreq *rq, const void *resp);
/* The same in two steps, for work done on another thread (the group
 * coordinator): kreq_encode() on the thread that owns the request at the
 * moment, then kreq_finish_encoded() on the request's loop. */
void kreq_encode(kreq *rq, const void *resp);
void kreq_finish_encoded(kreq *rq);
/* Both steps from a thread that is not the request's (the group and
 * transaction coordinators): encode here, finish on the request's loop. */
void kreq_respond_remote(kreq *rq, const void *resp);
/* Complete without a response (acks=0). */
void kreq_complete_silently(kreq *rq);
/* The request was malformed or unanswerable: close the connection. */
void kreq_fail_close(kreq *rq, const char *why);
/* Allocate a zeroed response struct with the schema defaults applied. */
void *kreq_new_response(kreq *rq);
const char *kreq_peer(const kreq *rq);
/* Index of the listener the request's connection came in on. */
int kreq_listener(const kreq *rq);
/* The connection's principal ("User:ANONYMOUS" until authenticated) and
 * its peer's IP address (no port), for ACLs and quotas. */
const struct kprincipal *kreq_principal(const kreq *rq);
const char *kreq_client_ip(const kreq *rq);
/* The handlers' context the server's owner registered (server.ctx). */
void *kreq_ctx(const kreq *rq);

#endif
