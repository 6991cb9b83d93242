/*
 * fuzz_frame.c - request framing, header and body decode, end to end.
 *
 * The input is what a client writes on a connection.  It is fed through a
 * REAL net/conn.c connection: a socketpair whose one end is adopted with
 * conn_new() on a private event loop, the other end written by a watcher
 * on the same loop and then closed.  So the size-prefix state machine, the
 * frame buffer growth and the large-frame direct-read path are the
 * broker's own code, split across reads in different ways.
 *
 * Input: byte 0 selects the write chunk size (table below: how the stream
 * is cut into writes, and so into reads); bytes 1.. are the stream: any
 * number of [INT32 size][frame] records, as a client sends them.
 *
 * Every delivered frame goes through what server/client.c on_frame does
 * before calling a handler: kreq_header_peek, the dispatch table lookup
 * (unknown key or unsupported version closes the connection; ApiVersions
 * above our range is answered in the v0 form), kreq_header_parse with the
 * header version of the API version, and kcodec_decode of the body with
 * the same arena cap (16 x frame size + 64 KiB, at most 256 MiB).  A
 * failure closes the connection like kreq_fail_close, so later frames of
 * the same input are not delivered.  Handlers are not run.
 *
 * Oracle (besides ASan/UBSan/LSan):
 *   - conn delivers exactly the frames a reference parser of the stream
 *     finds, in order, byte for byte, and nothing after a size <= 0 or
 *     above socket.request.max.bytes, or after the harness closed it;
 *   - on_close runs exactly once, and the loop always ends (a hang is a
 *     libFuzzer timeout);
 *   - a decoded request's header echoes what peek saw, and its client id
 *     lies inside the frame.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/dispatch.h"
#include "core/arena.h"
#include "core/errors.h"
#include "core/obuf.h"
#include "net/conn.h"
#include "net/loop.h"
#include "proto/api.h"
#include "proto/codec.h"
#include "proto/header.h"
#include "proto/messages/api_versions.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_FRAME 104857600            /* socket.request.max.bytes default */
#define MAX_WRITES 2048                /* bound the loop iterations per input */

static const size_t g_chunks[16] = {
    1 << 20, 65536, 4096, 1, 2, 3, 4, 5, 7, 13, 61, 512, 65535, 65537, 100000, 1 << 17,
};

typedef struct harness {
    loop *lp;
    io_watch wr;                       /* our end of the socketpair */
    const uint8_t *stream;
    size_t len, sent, chunk;
    /* reference parser: where the next expected frame starts */
    size_t ref_pos;
    int frames;
    int closes;
    bool closed_by_us;
} harness;

static void close_writer(harness *h)
{
    if (h->wr.fd >= 0) {
        loop_unwatch(h->lp, &h->wr);
        close(h->wr.fd);
        h->wr.fd = -1;
    }
}

static void on_writable(loop *lp, io_watch *w, uint32_t events)
{
    harness *h = (harness *)((char *)w - offsetof(harness, wr));
    (void)lp;
    (void)events;
    while (h->sent < h->len) {
        size_t n = h->len - h->sent;
        if (n > h->chunk)
            n = h->chunk;
        ssize_t k = send(w->fd, h->stream + h->sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0) {                  /* the conn closed its end */
            close_writer(h);
            return;
        }
        h->sent += (size_t)k;
        break;                         /* one chunk per wake-up: interleave with reads */
    }
    if (h->sent == h->len)
        close_writer(h);               /* EOF for the conn */
}

/* Reference framing: the next complete, valid frame of the stream, or
 * false if there is none (short tail or a size conn must refuse). */
static bool ref_next(const harness *h, size_t *start, size_t *len)
{
    size_t left = h->len - h->ref_pos;
    if (left < 4)
        return false;
    int32_t sz = (int32_t)fuzz_be32(h->stream + h->ref_pos);
    if (sz <= 0 || sz > MAX_FRAME || left - 4 < (size_t)sz)
        return false;
    *start = h->ref_pos + 4;
    *len = (size_t)sz;
    return true;
}

/* server/client.c answer_unsupported_api_versions, minus the send. */
static void encode_unsupported_api_versions(arena *a, int32_t corr)
{
    api_versions_resp *r = arena_alloc(a, sizeof *r);
    FUZZ_ASSERT(r, "arena");
    kcodec_defaults(&api_versions_resp_schema, r);
    r->error_code = KERR_UNSUPPORTED_VERSION;
    int n = 0;
    const api_entry *tab = dispatch_table(&n);
    api_versions_resp_api_keys *keys = KARRAY_ALLOC(a, &r->api_keys, n);
    for (int i = 0; keys && i < n; i++)
        keys[i] = (api_versions_resp_api_keys){ .api_key = tab[i].key,
                                               .min_version = tab[i].min_version,
                                               .max_version = tab[i].max_version };
    obuf ob;
    obuf_init(&ob);
    kresp_header_write(&ob, 0, corr);
    kcodec_encode(&api_versions_resp_schema, 0, false, r, &ob);
    FUZZ_ASSERT(!ob.oom && ob.total > 4, "ApiVersions fallback response not built");
    obuf_free(&ob);
}

static void fail_close(harness *h, conn *c)
{
    h->closed_by_us = true;
    conn_close(c, "fuzz: request rejected");
}

static void on_frame(conn *c, uint8_t *frame, size_t len)
{
    harness *h = c->user;
    size_t start, rlen;
    FUZZ_ASSERT(!h->closed_by_us, "frame delivered after the connection was closed");
    FUZZ_ASSERT(ref_next(h, &start, &rlen), "frame %d delivered where the stream has none", h->frames);
    FUZZ_ASSERT(len == rlen && memcmp(frame, h->stream + start, len) == 0,
                "frame %d differs from the stream (len %zu, expected %zu)", h->frames, len, rlen);
    h->ref_pos = start + rlen;
    h->frames++;

    /* --- server/client.c on_frame, up to the handler call --- */
    size_t cap = 16 * len + 65536;
    arena a;
    arena_init(&a, cap > (256u << 20) ? (256u << 20) : cap);
    kreq_header peek, hdr;
    kreader r;
    if (kreq_header_peek(frame, len, &peek) < 0) {
        fail_close(h, c);
        goto out;
    }
    hdr = peek;
    const api_entry *e = dispatch_get(peek.api_key);
    const kapi_schema *api = kapi_schema_get(peek.api_key);
    if (!e || !api) {
        fail_close(h, c);
        goto out;
    }
    kr_init(&r, frame, len);
    if (peek.api_key == 18 && peek.api_version > e->max_version) {
        kreq_header_parse(&r, 1, &hdr);
        encode_unsupported_api_versions(&a, hdr.correlation_id);
        goto out;
    }
    if (peek.api_version < e->min_version || peek.api_version > e->max_version) {
        fail_close(h, c);
        goto out;
    }
    bool flex = kapi_flexible(api, peek.api_version);
    if (kreq_header_parse(&r, kreq_header_version(peek.api_key, peek.api_version), &hdr) < 0) {
        fail_close(h, c);
        goto out;
    }
    FUZZ_ASSERT(hdr.api_key == peek.api_key && hdr.api_version == peek.api_version &&
                hdr.correlation_id == peek.correlation_id, "header parse disagrees with peek");
    FUZZ_ASSERT(hdr.client_id.len < 0 ||
                ((const uint8_t *)hdr.client_id.p >= frame &&
                 (const uint8_t *)hdr.client_id.p + hdr.client_id.len <= frame + len),
                "client id outside the frame");
    void *body = arena_alloc(&a, api->req->size);
    int rc = body ? kcodec_decode(api->req, peek.api_version, flex, &r, &a, body) : KERR__NOMEM;
    FUZZ_ASSERT(rc == 0 || rc == KERR__PARSE || rc == KERR__NOMEM, "kcodec_decode returned %d", rc);
    FUZZ_ASSERT(r.p <= frame + len, "reader past the frame");
    if (rc)
        fail_close(h, c);
out:
    arena_reset(&a);
    free(frame);
}

static void on_close(conn *c)
{
    harness *h = c->user;
    h->closes++;
    loop_stop(h->lp);
}

static const conn_ops g_ops = { on_frame, on_close, NULL };

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    harness h = { 0 };
    h.stream = data + 1;
    h.len = size - 1;
    h.chunk = g_chunks[data[0] & 15];
    if (h.len / h.chunk > MAX_WRITES)
        h.chunk = h.len / MAX_WRITES + 1;

    int sv[2];
    FUZZ_ASSERT(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0,
                "socketpair: %s", strerror(errno));
    h.lp = loop_new(0);
    FUZZ_ASSERT(h.lp, "loop_new failed");
    h.wr.fd = sv[1];
    h.wr.cb = on_writable;
    FUZZ_ASSERT(loop_watch(h.lp, &h.wr, EPOLLOUT) == 0, "watch writer");
    conn_limits lim = { .max_frame = MAX_FRAME, .idle_ms = 0 };
    conn *c = conn_new(h.lp, sv[0], &g_ops, &lim);
    FUZZ_ASSERT(c, "conn_new failed");
    c->user = &h;

    loop_run(h.lp);                    /* until on_close stops it */

    FUZZ_ASSERT(h.closes == 1, "on_close ran %d times", h.closes);
    if (!h.closed_by_us) {
        size_t s0, l0;
        FUZZ_ASSERT(!ref_next(&h, &s0, &l0), "conn closed with a complete frame (%zu bytes at %zu) undelivered",
                    l0, s0);
    }
    close_writer(&h);
    loop_free(h.lp);
    return 0;
}
