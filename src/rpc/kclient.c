/* kclient.c - see kclient.h. */
#include "rpc/kclient.h"
#include "rpc/kclient_int.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "core/endian.h"
#include "core/errors.h"
#include "core/obuf.h"
#include "net/tls.h"
#include "proto/api.h"
#include "proto/codec.h"
#include "proto/header.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int fail(kclient *c, int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int fail(kclient *c, int rc, char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        int n = snprintf(err, errlen, "broker %s: ", c->peer);
        if (n >= 0 && (size_t)n < errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    kclient_tls_end(c);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    return rc;
}

void kclient_init(kclient *c, const char *client_id, size_t max_response)
{
    memset(c, 0, sizeof *c);
    c->fd = -1;
    atomic_init(&c->cut_fd, -1);
    snprintf(c->client_id, sizeof c->client_id, "%s", client_id ? client_id : "");
    c->max_response = max_response;
    snprintf(c->peer, sizeof c->peer, "(not connected)");
}

bool kclient_connected(const kclient *c)
{
    return c->fd >= 0;
}

void kclient_close(kclient *c)
{
    kclient_tls_end(c);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    free(c->frame);
    c->frame = NULL;
    c->frame_len = 0;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int wait_fd(int fd, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd p = { .fd = fd, .events = events };
        int n = poll(&p, 1, (int)(left > 1000000 ? 1000000 : left));
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -errno;
    }
}

int kclient_connect(kclient *c, const char *host, int port, int timeout_ms, char *err,
                    size_t errlen)
{
    kclient_tls_end(c);
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    snprintf(c->peer, sizeof c->peer, "%s:%d", host, port);
    int64_t deadline = now_ms() + timeout_ms;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    int grc = getaddrinfo(host, portstr, &hints, &res);
    if (grc != 0)
        return fail(c, KERR__IO, err, errlen, "cannot resolve: %s", gai_strerror(grc));
    int last = ECONNREFUSED;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            last = errno;
            continue;
        }
        int rc = connect(fd, ai->ai_addr, ai->ai_addrlen);
        if (rc < 0 && errno == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (w < 0)
                soerr = -w;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
                soerr = errno;
            rc = soerr ? -1 : 0;
            errno = soerr;
        }
        if (rc == 0) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            c->fd = fd;
            break;
        }
        last = errno;
        close(fd);
    }
    freeaddrinfo(res);
    if (c->fd < 0)
        return fail(c, KERR__IO, err, errlen, "cannot connect: %s", strerror(last));
    int8_t proto = c->sec ? c->sec->protocol : 0;
    if ((proto == 1 || proto == 3) && kclient_tls_start(c, host, deadline, err, errlen) != 0) {
        kclient_close(c);
        return KERR__IO;
    }
    if ((proto == 2 || proto == 3) && kclient_sasl_start(c, deadline, err, errlen) != 0) {
        kclient_close(c);
        return KERR__IO;
    }
    return 0;
}

void kclient_set_security(kclient *c, const kclient_security *sec)
{
    c->sec = sec;
}

/* One SSL_write / SSL_read of up to n bytes, waiting (until the deadline)
 * for the socket as OpenSSL asks: bytes moved (> 0), or -1 with err. */
static int tls_io(kclient *c, uint8_t *p, size_t n, bool write, int64_t deadline, char *err,
                  size_t errlen)
{
    const char *what = write ? "sending the request" : "reading the answer";
    int len = n > INT32_MAX ? INT32_MAX : (int)n;
    for (;;) {
        ERR_clear_error();
        int r = write ? SSL_write(c->ssl, p, len) : SSL_read(c->ssl, p, len);
        if (r > 0)
            return r;
        int e = SSL_get_error(c->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int rc = wait_fd(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
            if (rc < 0)
                return fail(c, -1, err, errlen, "%s: %s", what,
                            rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
            continue;
        }
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && r == 0))
            return fail(c, -1, err, errlen, "%s: connection closed", what);
        char why[256];
        tls_error_text(c->ssl, r, e, why, sizeof why);
        return fail(c, -1, err, errlen, "%s: TLS: %s", what, why);
    }
}

static int send_all(kclient *c, const uint8_t *p, size_t n, int64_t deadline, char *err,
                    size_t errlen)
{
    while (n > 0) {
        if (c->ssl) {
            int rc = tls_io(c, (uint8_t *)p, n, true, deadline, err, errlen);
            if (rc < 0)
                return KERR__IO;
            p += rc;
            n -= (size_t)rc;
            continue;
        }
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(c->fd, POLLOUT, deadline);
            if (rc < 0)
                return fail(c, KERR__IO, err, errlen, "sending the request: %s", strerror(-rc));
            continue;
        }
        return fail(c, KERR__IO, err, errlen, "sending the request: %s",
                    w < 0 ? strerror(errno) : "connection closed");
    }
    return 0;
}

static int recv_all(kclient *c, uint8_t *p, size_t n, int64_t deadline, char *err,
                    size_t errlen)
{
    while (n > 0) {
        if (c->ssl) {
            int rc = tls_io(c, p, n, false, deadline, err, errlen);
            if (rc < 0)
                return KERR__IO;
            p += rc;
            n -= (size_t)rc;
            continue;
        }
        ssize_t r = recv(c->fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r == 0)
            return fail(c, KERR__IO, err, errlen, "connection closed before the whole answer");
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int rc = wait_fd(c->fd, POLLIN, deadline);
            if (rc < 0)
                return fail(c, KERR__IO, err, errlen, "waiting for the answer: %s",
                            rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
            continue;
        }
        return fail(c, KERR__IO, err, errlen, "reading the answer: %s", strerror(errno));
    }
    return 0;
}

int kclient_encode(int16_t api_key, int16_t version, const void *req, uint8_t **out,
                   size_t *len)
{
    const kapi_schema *api = kapi_schema_get(api_key);
    *out = NULL;
    *len = 0;
    if (!api || version < 0 || version > api->max_version)
        return KERR__PARSE;
    obuf ob;
    obuf_init(&ob);
    int rc = kcodec_encode(api->req, version, kapi_flexible(api, version), req, &ob);
    uint8_t *buf = NULL;
    long total = -1;
    if (rc == 0 && !ob.oom && ob.total <= INT32_MAX - 1024 && (buf = malloc(ob.total + 1)))
        total = obuf_flatten(&ob, buf, ob.total);
    obuf_free(&ob);
    if (total < 0) {
        free(buf);
        return KERR__PARSE;
    }
    *out = buf;
    *len = (size_t)total;
    return 0;
}

int kclient_call(kclient *c, int16_t api_key, int16_t version, const void *req, arena *a,
                 void *resp, int timeout_ms, char *err, size_t errlen)
{
    uint8_t *body;
    size_t len;
    if (kclient_encode(api_key, version, req, &body, &len) != 0) {
        const kapi_schema *api = kapi_schema_get(api_key);
        return fail(c, KERR__PARSE, err, errlen, "cannot encode %s v%d",
                    api ? api->name : "request", version);
    }
    int rc = kclient_call_encoded(c, api_key, version, body, len, a, resp, timeout_ms, err, errlen);
    free(body);
    return rc;
}

#define CUT_PENDING (-2)            /* cut_fd: cut before the next call began */

void kclient_cut(kclient *c)
{
    int fd = atomic_exchange(&c->cut_fd, CUT_PENDING);
    if (fd >= 0) {
        shutdown(fd, SHUT_RDWR);     /* the socket under both numbers: the call returns */
        close(fd);
    }
}

static int call_encoded(kclient *c, int16_t api_key, int16_t version, const uint8_t *body,
                        size_t body_len, arena *a, void *resp, int timeout_ms, char *err,
                        size_t errlen);

int kclient_call_encoded(kclient *c, int16_t api_key, int16_t version, const uint8_t *body,
                         size_t body_len, arena *a, void *resp, int timeout_ms, char *err,
                         size_t errlen)
{
    c->was_cut = false;
    int dupfd = c->fd >= 0 ? dup(c->fd) : -1;
    if (atomic_exchange(&c->cut_fd, dupfd) == CUT_PENDING) {
        /* Cut between calls (a cutter that checked no call ran): this one
         * does not start, so no cut is ever lost to the gap. */
        atomic_store(&c->cut_fd, -1);
        if (dupfd >= 0)
            close(dupfd);
        c->was_cut = true;
        return fail(c, KERR__IO, err, errlen, "call cut short");
    }
    int rc = call_encoded(c, api_key, version, body, body_len, a, resp, timeout_ms, err, errlen);
    int mine = atomic_exchange(&c->cut_fd, -1);
    if (mine >= 0)
        close(mine);
    else if (dupfd >= 0)
        c->was_cut = true;           /* kclient_cut took it (and closed it) */
    return rc;
}

static int call_encoded(kclient *c, int16_t api_key, int16_t version, const uint8_t *body,
                        size_t body_len, arena *a, void *resp, int timeout_ms, char *err,
                        size_t errlen)
{
    const kapi_schema *api = kapi_schema_get(api_key);
    if (c->fd < 0)
        return fail(c, KERR__IO, err, errlen, "not connected");
    if (!api || version < 0 || version > api->max_version)
        return fail(c, KERR__PARSE, err, errlen, "no schema for API %d v%d", api_key, version);
    int64_t deadline = now_ms() + timeout_ms;
    bool flex = kapi_flexible(api, version);
    int32_t corr = c->next_correlation++;
    if (c->next_correlation < 0)
        c->next_correlation = 0;

    /* Size prefix, request header (v1, or v2 with its empty tag section
     * for flexible versions), body. */
    uint8_t hdr[4 + 8 + 2 + sizeof c->client_id + 1];
    size_t idlen = strlen(c->client_id), h = 4;
    be16_store(hdr + h, (uint16_t)api_key);
    be16_store(hdr + h + 2, (uint16_t)version);
    be32_store(hdr + h + 4, (uint32_t)corr);
    be16_store(hdr + h + 8, (uint16_t)idlen);
    memcpy(hdr + h + 10, c->client_id, idlen);
    h += 10 + idlen;
    if (kreq_header_version(api_key, version) >= 2)
        hdr[h++] = 0;
    if (body_len > (size_t)INT32_MAX - h)
        return fail(c, KERR__PARSE, err, errlen, "%s v%d of %zu bytes is too large", api->name,
                    version, body_len);
    size_t total = h + body_len;
    uint8_t *buf = malloc(total);
    if (!buf)
        return fail(c, KERR__IO, err, errlen, "out of memory for a %zu-byte request", total);
    memcpy(buf, hdr, h);
    if (body_len)
        memcpy(buf + h, body, body_len);
    be32_store(buf, (uint32_t)(total - 4));
    int rc;
    rc = send_all(c, buf, (size_t)total, deadline, err, errlen);
    free(buf);
    if (rc)
        return rc;

    /* The answer: size, then exactly that many bytes. */
    uint8_t szb[4];
    if ((rc = recv_all(c, szb, 4, deadline, err, errlen)))
        return rc;
    int32_t size = (int32_t)be32_load(szb);
    if (size < 4 || (size_t)size > c->max_response)
        return fail(c, KERR__PARSE, err, errlen, "answer of %d bytes (limit %zu)", size,
                    c->max_response);
    free(c->frame);
    c->frame_len = 0;
    c->frame = malloc((size_t)size);
    if (!c->frame)
        return fail(c, KERR__IO, err, errlen, "out of memory for a %d-byte answer", size);
    if ((rc = recv_all(c, c->frame, (size_t)size, deadline, err, errlen)))
        return rc;
    c->frame_len = (size_t)size;

    kreader r;
    kr_init(&r, c->frame, c->frame_len);
    int32_t got = kr_i32(&r);
    if (kresp_header_version(api_key, version) >= 1) {
        uint32_t ntags = kr_uvarint(&r);      /* none defined: skip them */
        for (uint32_t i = 0; i < ntags && !r.err; i++) {
            (void)kr_uvarint(&r);
            (void)kr_bytes(&r, kr_uvarint(&r));
        }
    }
    if (r.err || got != corr)
        return fail(c, KERR__PARSE, err, errlen, "answer for correlation id %d, expected %d",
                    got, corr);
    kcodec_defaults(api->resp, resp);
    if (kcodec_decode(api->resp, version, flex, &r, a, resp) != 0)
        return fail(c, KERR__PARSE, err, errlen, "%s v%d answer does not decode", api->name,
                    version);
    return 0;
}
