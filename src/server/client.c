/* client.c - see client.h. */
#include "server/client.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "proto/codec.h"
#include "proto/messages/api_versions.h"
#include "server/delayed.h"
#include "server/net_threads.h"
#include "server/sasl_session.h"
#include "server/server_tls.h"

#define MAX_INFLIGHT 128
#define RESUME_INFLIGHT 64
#define MAX_OUT_BYTES (32u << 20)
#define RESUME_OUT_BYTES (8u << 20)
/* Arena room for building a response, on top of the decoding cap. */
#define RESPONSE_ARENA_ROOM ((size_t)64 << 20)

static void client_unref(client *cl)
{
    if (--cl->refs == 0) {
        conn_unref(cl->c);
        sasl_session_free(cl->sasl);
        free(cl);
    }
}

static void kreq_free(kreq *rq)
{
    obuf_free(&rq->resp);
    arena_reset(&rq->arena);
    free(rq->frame);
    client *cl = rq->cl;
    free(rq);
    client_unref(cl);
}

static void maybe_resume(client *cl)
{
    if (!cl->closed && !sasl_session_close_pending(cl) && cl->c->reads_paused &&
        !ktimer_armed(&cl->mute_timer) &&
        cl->inflight < RESUME_INFLIGHT &&
        conn_out_pending(cl->c) < RESUME_OUT_BYTES)
        conn_resume_reads(cl->c);
}

static void unmute(loop *lp, ktimer *t)
{
    (void)lp;
    client *cl = (client *)((char *)t - offsetof(client, mute_timer));
    maybe_resume(cl);
}

/* S-ENT4 (KIP-219): a throttled response goes out first, then the
 * connection reads nothing more for throttle_ms. */
static void mute_for(client *cl, int32_t ms)
{
    int64_t until = loop_now_us(cl->c->lp) + (int64_t)ms * 1000;
    if (cl->closed || until <= cl->mute_until_us)
        return;
    cl->mute_until_us = until;
    conn_pause_reads(cl->c);
    loop_timer_arm(cl->c->lp, &cl->mute_timer, until);
}

/* A request finished: release whatever responses are now in order. */
static void client_release(client *cl)
{
    cl->refs++;
    while (cl->head && cl->head->done) {
        kreq *rq = cl->head;
        cl->head = rq->next;
        if (!cl->head)
            cl->tail = NULL;
        cl->inflight--;
        if (!rq->no_response && !cl->closed)
            conn_send(cl->c, &rq->resp);
        if (rq->throttle_ms > 0)
            mute_for(cl, rq->throttle_ms);
        kreq_free(rq);
    }
    maybe_resume(cl);
    client_unref(cl);
}

/* ----------------------------------------------------------- kreq helpers */

const char *kreq_peer(const kreq *rq) { return rq->cl->c->peer; }
int kreq_listener(const kreq *rq) { return rq->cl->listener; }
const kprincipal *kreq_principal(const kreq *rq) { return &rq->cl->principal; }
const char *kreq_client_ip(const kreq *rq) { return rq->cl->ip; }
void *kreq_ctx(const kreq *rq) { return rq->cl->srv->ctx; }

void *kreq_new_response(kreq *rq)
{
    void *r = arena_alloc(&rq->arena, rq->api->resp->size);
    if (r)
        kcodec_defaults(rq->api->resp, r);
    return r;
}

static void encode_response(kreq *rq, const kf_struct *schema, int version, bool flex,
                            const void *resp)
{
    obuf_free(&rq->resp);
    uint8_t *size = obuf_reserve(&rq->resp, 4);
    if (!size)
        return;
    obuf_commit(&rq->resp, 4);
    kresp_header_write(&rq->resp, kresp_header_version(rq->hdr.api_key, (int16_t)version),
                       rq->hdr.correlation_id);
    kcodec_encode(schema, version, flex, resp, &rq->resp);
    be32_store(size, (uint32_t)(rq->resp.total - 4));
}

/* The response's throttle_time_ms (when its schema has one) carries the
 * request's quota throttle, if larger. */
static void stamp_throttle(const kf_struct *schema, void *resp, int32_t ms)
{
    for (uint32_t i = 0; i < schema->nfields; i++) {
        const kf_field *f = &schema->fields[i];
        if (f->type == KT_I32 && !strcmp(f->name, "throttle_time_ms")) {
            int32_t *p = (int32_t *)((char *)resp + f->off);
            if (*p < ms)
                *p = ms;
            return;
        }
    }
}

void kreq_encode(kreq *rq, const void *resp)
{
    if (resp && rq->throttle_ms > 0)
        stamp_throttle(rq->api->resp, (void *)resp, rq->throttle_ms);
    if (resp)
        encode_response(rq, rq->api->resp, rq->hdr.api_version, rq->flex, resp);
    rq->encode_failed = !resp || rq->resp.oom;
}

void kreq_finish_encoded(kreq *rq)
{
    if (rq->done)
        return;
    rq->done = true;
    if (rq->encode_failed) {
        LOG_ERR("broker", "could not build %s response for %s", kapi_name(rq->hdr.api_key),
                kreq_peer(rq));
        rq->no_response = true;
        if (!rq->cl->closed)
            conn_close(rq->cl->c, "response could not be built");
    }
    client_release(rq->cl);
}

static void finish_on_loop(loop *lp, void *arg)
{
    (void)lp;
    kreq_finish_encoded(arg);
}

void kreq_respond_remote(kreq *rq, const void *resp)
{
    kreq_encode(rq, resp);
    if (loop_post(rq->lp, finish_on_loop, rq) < 0)
        LOG_ERR("broker", "cannot hand a %s response back to its network thread", kapi_name(rq->hdr.api_key));
}

void kreq_respond(kreq *rq, const void *resp)
{
    if (rq->done)
        return;
    client *cl = rq->cl;
    if (cl->handling == rq && !cl->handling_recorded) {
        int32_t t = cl->srv->ops->request_quota(cl->srv->ctx, rq,
                                                (mono_us() - rq->quota_t0_us) * 1000);
        cl->handling_recorded = true;
        if (t > rq->throttle_ms)
            rq->throttle_ms = t;
    }
    kreq_encode(rq, resp);
    kreq_finish_encoded(rq);
}

void kreq_complete_silently(kreq *rq)
{
    rq->no_response = true;
    rq->done = true;
    client_release(rq->cl);
}

void kreq_fail_close(kreq *rq, const char *why)
{
    char msg[512];
    snprintf(msg, sizeof msg, "%s v%d request (correlation id %d): %s", kapi_name(rq->hdr.api_key),
             rq->hdr.api_version, rq->hdr.correlation_id, why);
    if (!rq->cl->closed)
        conn_close(rq->cl->c, msg);
    kreq_complete_silently(rq);
}

/* -------------------------------------------------------------- framing in */

/* ApiVersions with a version we do not know: answer in the v0 format with
 * UNSUPPORTED_VERSION and our own ranges, without parsing the body. */
static void answer_unsupported_api_versions(kreq *rq)
{
    api_versions_resp *r = arena_alloc(&rq->arena, sizeof *r);
    kcodec_defaults(&api_versions_resp_schema, r);
    r->error_code = KERR_UNSUPPORTED_VERSION;
    int n = 0;
    const api_entry *tab = rq->cl->srv->ops->api_table(&n);
    api_versions_resp_api_keys *keys = KARRAY_ALLOC(&rq->arena, &r->api_keys, n);
    for (int i = 0; keys && i < n; i++)
        keys[i] = (api_versions_resp_api_keys){ .api_key = tab[i].key,
                                               .min_version = tab[i].min_version,
                                               .max_version = tab[i].max_version };
    encode_response(rq, &api_versions_resp_schema, 0, false, r);
    rq->done = true;
    client_release(rq->cl);
}

static void on_frame(conn *c, uint8_t *frame, size_t len)
{
    client *cl = c->user;
    /* SASL: a legacy v0 raw token, or a connection closing after its
     * failed authentication was answered (S-SASL8). */
    if (cl->sasl) {
        if (sasl_session_close_pending(cl)) {
            free(frame);
            return;
        }
        cl->refs++;         /* a failed raw token closes the connection */
        bool consumed = sasl_session_raw_frame(cl, frame, len);
        client_unref(cl);
        if (consumed)
            return;
    }
    kreq *rq = calloc(1, sizeof *rq);
    if (!rq) {
        free(frame);
        conn_close(c, "out of memory");
        return;
    }
    rq->cl = cl;
    rq->lp = c->lp;
    rq->frame = frame;
    rq->frame_len = len;
    rq->recv_us = loop_now_us(c->lp);
    obuf_init(&rq->resp);
    /* Everything decoded from a request fits in a bounded multiple of its
     * size: the arena cap makes that a hard limit. */
    size_t cap = 16 * len + 65536;
    arena_init(&rq->arena, cap > (256u << 20) ? (256u << 20) : cap);
    cl->refs++;
    if (cl->tail)
        cl->tail->next = rq;
    else
        cl->head = rq;
    cl->tail = rq;
    cl->inflight++;

    kreq_header peek;
    if (kreq_header_peek(frame, len, &peek) < 0) {
        rq->hdr.api_key = -1;
        kreq_fail_close(rq, "request shorter than its header");
        return;
    }
    rq->hdr = peek;
    char gate[256];
    const char *refused = sasl_session_gate(cl, peek.api_key, gate, sizeof gate);
    if (refused) {      /* S-SASL6, S-SASL10 */
        kreq_fail_close(rq, refused);
        return;
    }
    const api_entry *e = cl->srv->ops->api_get(peek.api_key);
    rq->api = kapi_schema_get(peek.api_key);
    if (!e || !rq->api) {
        kreq_fail_close(rq, "unknown or unsupported API key");
        return;
    }
    kreader r;
    kr_init(&r, frame, len);
    if (peek.api_key == API_VERSIONS_API_KEY && peek.api_version > e->max_version) {
        /* Parse what a v1 header would hold; the body is not ours to read. */
        kreq_header_parse(&r, 1, &rq->hdr);
        answer_unsupported_api_versions(rq);
        return;
    }
    if (peek.api_version < e->min_version || peek.api_version > e->max_version) {
        kreq_fail_close(rq, "unsupported API version");
        return;
    }
    rq->flex = kapi_flexible(rq->api, peek.api_version);
    if (kreq_header_parse(&r, kreq_header_version(peek.api_key, peek.api_version), &rq->hdr) < 0) {
        kreq_fail_close(rq, "malformed request header");
        return;
    }
    rq->body = arena_alloc(&rq->arena, rq->api->req->size);
    int rc = rq->body ? kcodec_decode(rq->api->req, peek.api_version, rq->flex, &r, &rq->arena, rq->body)
                      : KERR__NOMEM;
    if (rc) {
        kreq_fail_close(rq, rc == KERR__NOMEM ? "request decodes to more memory than allowed"
                                              : "malformed request body");
        return;
    }
    /* The response is sized by the broker's own state (Metadata for a
     * 10,000-partition topic is ~1.5 MB of structs), not by the request:
     * give it room beyond the decoding cap.  Handlers that echo request
     * arrays are bounded by the decoded counts. */
    rq->arena.cap += RESPONSE_ARENA_ROOM;
    LOG_DBG("req", "%s %s v%d corr %d", c->peer, kapi_name(rq->hdr.api_key), peek.api_version,
            peek.correlation_id);
    /* Answering may find the peer gone (EPIPE/ECONNRESET on the send): the
     * connection closes and drops its reference, and finishing the request
     * drops the request's.  Hold one of our own until we are done here. */
    cl->refs++;
    /* request_percentage (S-ENT4): a handler that answers at once records
     * its time in kreq_respond, so its response carries the throttle; one
     * that parks the request records here (rq may be gone by now, so
     * against a copy of what identifies the client) and only mutes. */
    const server_ops *ops = cl->srv->ops;
    bool timed = ops->request_quota &&
                 atomic_load_explicit(&cl->srv->quotas_on, memory_order_relaxed);
    kreq shadow = { .cl = cl, .hdr = rq->hdr };
    char cid[256];
    if (timed) {
        size_t n = rq->hdr.client_id.len > 0 ? (size_t)rq->hdr.client_id.len : 0;
        if (n > sizeof cid)
            n = sizeof cid;
        memcpy(cid, rq->hdr.client_id.p ? rq->hdr.client_id.p : "", n);
        shadow.hdr.client_id = (kstr){ cid, (int32_t)n };
        rq->quota_t0_us = shadow.quota_t0_us = mono_us();
        cl->handling = rq;
        cl->handling_recorded = false;
    }
    e->handle(rq);
    cl->handling = NULL;
    if (timed && !cl->handling_recorded && !cl->closed) {
        int32_t t = ops->request_quota(cl->srv->ctx, &shadow,
                                       (mono_us() - shadow.quota_t0_us) * 1000);
        if (t > 0)
            mute_for(cl, t);
    }
    if (!cl->closed && (cl->inflight >= MAX_INFLIGHT || conn_out_pending(c) >= MAX_OUT_BYTES))
        conn_pause_reads(c);
    client_unref(cl);
}

static void on_close(conn *c)
{
    client *cl = c->user;
    cl->closed = true;
    loop_timer_cancel(c->lp, &cl->mute_timer);
    net_threads_connection_closed(cl->srv, cl->ip);
    /* Parked requests will never be answered: finish them now.  Each
     * cancel may release (free) requests, so rescan from the head. */
    cl->refs++;
    for (;;) {
        kreq *rq = cl->head;
        while (rq && !rq->delayed)
            rq = rq->next;
        if (!rq)
            break;
        delayed_cancel(rq->delayed);
    }
    cl->refs--;          /* our temporary reference; the conn's remains */
    client_unref(cl);    /* the conn's reference */
}

static void on_drained(conn *c)
{
    client *cl = c->user;
    if (sasl_session_close_pending(cl) && !cl->head) {   /* the refusal is out */
        conn_close(c, "SASL authentication failed");
        return;
    }
    maybe_resume(cl);
}

/* S-TLS6: an SSL listener's principal comes from the client certificate;
 * SASL_SSL's from SASL (the certificate only encrypts). */
static void on_tls_ready(conn *c)
{
    client *cl = c->user;
    if (cl->secproto != 1)
        return;
    char why[600];
    if (server_tls_principal(cl->srv, cl->listener, c->ssl, &cl->principal, why, sizeof why) < 0) {
        conn_close(c, why);
        return;
    }
    LOG_DBG("net", "%s authenticated by TLS as %s:%s", c->peer, cl->principal.type,
            cl->principal.name);
}

const conn_ops client_conn_ops = { on_frame, on_close, on_drained, on_tls_ready };

void client_accept(server *s, loop *lp, int fd, int listener_idx, const char *ip)
{
    conn_limits lim = { .max_frame = s->max_frame, .idle_ms = s->idle_ms };
    client *cl = calloc(1, sizeof *cl);
    if (!cl) {
        close(fd);
        net_threads_connection_closed(s, ip);
        return;
    }
    str_copy(cl->ip, sizeof cl->ip, ip);
    int8_t secproto = s->listen[listener_idx].secproto;
    conn *c;
    if (secproto == 1 || secproto == 3) {       /* SSL, SASL_SSL */
        SSL_CTX *ctx = server_tls_ctx_ref(s, listener_idx);
        c = ctx ? conn_new_tls(lp, fd, &client_conn_ops, &lim, ctx,
                               server_tls_handshake_ms(s, listener_idx))
                : (close(fd), NULL);
        SSL_CTX_free(ctx);          /* the session holds its own reference */
    } else {
        c = conn_new(lp, fd, &client_conn_ops, &lim);
    }
    if (!c) {
        free(cl);
        net_threads_connection_closed(s, ip);
        return;
    }
    cl->srv = s;
    cl->c = c;
    cl->refs = 1;
    cl->listener = listener_idx;
    cl->secproto = secproto;
    kprincipal_anonymous(&cl->principal);
    ktimer_init(&cl->mute_timer, unmute);
    cl->authenticated = true;     /* PLAINTEXT; TLS and SASL listeners change this */
    conn_ref(c);     /* the client keeps the conn struct alive */
    c->user = cl;
    if (cl->secproto == 2 || cl->secproto == 3) {      /* SASL_PLAINTEXT, SASL_SSL */
        cl->authenticated = false;
        cl->sasl = sasl_session_new(cl);
        if (!cl->sasl)
            conn_close(c, "out of memory");
    }
    LOG_DBG("net", "accepted %s on thread %d", c->peer, loop_id(lp));
}
