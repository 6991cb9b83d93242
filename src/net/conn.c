/* conn.c - see conn.h. */
#include "net/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/endian.h"
#include "core/log.h"
#include "net/tls.h"

#define READ_CHUNK 65536
#define MAX_IOV 64

static _Thread_local uint8_t t_scratch[READ_CHUNK];
static atomic_uint_fast64_t g_conn_ids;

static void conn_io(loop *lp, io_watch *w, uint32_t events);
static void idle_check(loop *lp, ktimer *t);
static int flush_out(conn *c);
static int tls_flush(conn *c);
static void tls_read(conn *c);
static void tls_handshake(conn *c);
static void handshake_timeout(loop *lp, ktimer *t);

/* One TLS record's worth of plaintext (the most SSL_write puts in one). */
#define TLS_WBUF 16384

static void describe_peer(int fd, char *out, size_t n)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
            port = ntohs(s4->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
            port = ntohs(s6->sin6_port);
        }
    }
    snprintf(out, n, "%s:%d", host, port);
}

conn *conn_new(loop *lp, int fd, const conn_ops *ops, const conn_limits *lim)
{
    conn *c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return NULL;
    }
    c->w.fd = fd;
    c->w.cb = conn_io;
    c->lp = lp;
    c->ops = ops;
    c->lim = *lim;
    c->refs = 1;
    c->id = atomic_fetch_add(&g_conn_ids, 1) + 1;
    obuf_init(&c->out);
    describe_peer(fd, c->peer, sizeof c->peer);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->last_active_us = loop_now_us(lp);
    ktimer_init(&c->idle_timer, idle_check);
    ktimer_init(&c->hs_timer, handshake_timeout);
    if (loop_watch(lp, &c->w, EPOLLIN | EPOLLRDHUP) < 0) {
        LOG_ERR("net", "epoll add failed for %s: %s", c->peer, strerror(errno));
        close(fd);
        free(c);
        return NULL;
    }
    if (c->lim.idle_ms > 0)
        loop_timer_arm(lp, &c->idle_timer, c->last_active_us + c->lim.idle_ms * 1000);
    return c;
}

conn *conn_new_tls(loop *lp, int fd, const conn_ops *ops, const conn_limits *lim,
                   struct ssl_ctx_st *ctx, int64_t handshake_ms)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, fd)) {
        LOG_ERR("net", "cannot create a TLS session: %s",
                ERR_reason_error_string(ERR_peek_last_error()) ? ERR_reason_error_string(ERR_peek_last_error()) : "?");
        ERR_clear_error();
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    SSL_set_accept_state(ssl);
    conn *c = conn_new(lp, fd, ops, lim);
    if (!c) {
        SSL_free(ssl);
        return NULL;
    }
    c->ssl = ssl;
    c->handshaking = true;
    /* S-TLS4: the handshake ends within handshake_ms, or the connection does. */
    loop_timer_arm(lp, &c->hs_timer, c->last_active_us + handshake_ms * 1000);
    return c;
}

void conn_ref(conn *c) { c->refs++; }

static void conn_free(void *arg)
{
    conn *c = arg;
    obuf_free(&c->out);
    free(c->frame);
    free(c);
}

void conn_unref(conn *c)
{
    if (--c->refs == 0)
        loop_defer(c->lp, conn_free, c);
}

static void do_close(conn *c, int level, const char *reason)
{
    if (c->closed)
        return;
    c->closed = true;
    if (reason)
        log_write((enum log_level)level, "net", "closing connection %s: %s", c->peer, reason);
    loop_timer_cancel(c->lp, &c->idle_timer);
    loop_unwatch(c->lp, &c->w);
    if (c->ssl) {
        loop_timer_cancel(c->lp, &c->hs_timer);
        if (!c->handshaking)
            SSL_shutdown(c->ssl);   /* close_notify, best effort: never waits */
        SSL_free(c->ssl);
        ERR_clear_error();
        c->ssl = NULL;
        free(c->tls_wbuf);
        c->tls_wbuf = NULL;
        c->tls_wlen = 0;
    }
    close(c->w.fd);
    c->w.fd = -1;
    obuf_free(&c->out);
    free(c->frame);
    c->frame = NULL;
    if (c->ops->on_close)
        c->ops->on_close(c);
    conn_unref(c);
}

void conn_close(conn *c, const char *reason)
{
    do_close(c, LOG_WARN, reason);
}

static void update_interest(conn *c)
{
    if (c->closed)
        return;
    uint32_t ev = EPOLLRDHUP;
    if (!c->reads_paused || c->handshaking)
        ev |= EPOLLIN;
    if ((c->out.total > 0 && !c->handshaking) || c->tls_want_write)
        ev |= EPOLLOUT;
    if (loop_rewatch(c->lp, &c->w, ev) < 0)
        do_close(c, LOG_WARN, "epoll modify failed");
}

void conn_pause_reads(conn *c)
{
    if (!c->reads_paused) {
        c->reads_paused = true;
        update_interest(c);
    }
}

static void deferred_tls_read(void *arg)
{
    conn *c = arg;
    c->tls_read_deferred = false;
    if (!c->closed && !c->reads_paused && !c->handshaking)
        tls_read(c);
    conn_unref(c);
}

/* Bytes OpenSSL already took off the socket raise no epoll event: read
 * them after the current batch. */
static void tls_schedule_read(conn *c)
{
    if (c->tls_read_deferred || c->closed || !SSL_pending(c->ssl))
        return;
    c->tls_read_deferred = true;
    conn_ref(c);
    loop_defer(c->lp, deferred_tls_read, c);
}

void conn_resume_reads(conn *c)
{
    if (c->reads_paused) {
        c->reads_paused = false;
        update_interest(c);
        if (c->ssl)
            tls_schedule_read(c);
    }
}

/* ------------------------------------------------------------------ output */

/* Write as much queued output as the socket takes.  0 = all written or
 * would block; -1 = the connection was closed. */
static int flush_out(conn *c)
{
    if (c->ssl)
        return tls_flush(c);
    while (c->out.head) {
        obuf_chunk *ch = c->out.head;
        ssize_t n;
        if (ch->file) {
            off_t off = ch->file_off + (off_t)ch->sent;
            size_t want = ch->len - ch->sent;
            n = sendfile(c->w.fd, ch->file->fd, &off, want > 0x7ffff000 ? 0x7ffff000 : want);
            if (n == 0) {
                do_close(c, LOG_ERROR, "segment file shorter than the range being sent");
                return -1;
            }
        } else {
            struct iovec iov[MAX_IOV];
            int k = 0;
            obuf_chunk *p = ch;
            for (; p && !p->file && k < MAX_IOV; p = p->next, k++) {
                iov[k].iov_base = p->data + p->sent;
                iov[k].iov_len = p->len - p->sent;
            }
            struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)k };
            /* A file chunk follows: tell TCP more is coming so the header
             * and the records can share a segment. */
            n = sendmsg(c->w.fd, &msg, MSG_NOSIGNAL | (p && p->file ? MSG_MORE : 0));
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            do_close(c, LOG_DEBUG, errno == EPIPE || errno == ECONNRESET ? NULL : strerror(errno));
            return -1;
        }
        obuf_consume(&c->out, (size_t)n);
    }
    update_interest(c);
    if (c->out.total == 0 && c->ops->on_drained)
        c->ops->on_drained(c);
    return 0;
}

void conn_send(conn *c, obuf *ob)
{
    if (c->closed) {
        obuf_free(ob);
        return;
    }
    bool was_empty = c->out.total == 0;
    obuf_splice(&c->out, ob);
    if (was_empty)
        flush_out(c);
}

/* ------------------------------------------------------------------- input */

/* A frame's buffer is allocated when its size is known, up to this much:
 * a request up to 1 MiB (librdkafka's default batch limit) is read into
 * one buffer without growing it.  Pages are only touched as bytes arrive,
 * so a client announcing a big frame and sending nothing costs no memory;
 * bigger frames grow by doubling as their bytes arrive. */
#define FRAME_PREALLOC ((size_t)1 << 20)

/* From this size on, the bytes after a frame are read up to the next
 * frame's size only (do_read).  Below a 64 KiB batch: librdkafka's
 * batch.size=65536 makes requests just under 64 KiB, the Java client's
 * default 16 KiB batches requests just over 16 KiB. */
#define LARGE_FRAME ((size_t)16 * 1024)

static int frame_begin(conn *c, int32_t size)
{
    if (size <= 0 || size > c->lim.max_frame) {
        char why[128];
        snprintf(why, sizeof why, "invalid request size %d (socket.request.max.bytes=%d)",
                 size, c->lim.max_frame);
        do_close(c, LOG_WARN, why);
        return -1;
    }
    size_t cap = (size_t)size < FRAME_PREALLOC ? (size_t)size : FRAME_PREALLOC;
    c->frame = malloc(cap);
    if (!c->frame) {
        do_close(c, LOG_ERROR, "out of memory reading request");
        return -1;
    }
    c->frame_len = (size_t)size;
    c->frame_have = 0;
    c->frame_cap = cap;
    return 0;
}

/* Make room for `want` more bytes, growing with what actually arrives. */
static int frame_reserve(conn *c, size_t want)
{
    size_t need = c->frame_have + want;
    if (need <= c->frame_cap)
        return 0;
    size_t cap = c->frame_cap * 2;
    if (cap < need)
        cap = need;
    if (cap > c->frame_len)
        cap = c->frame_len;
    uint8_t *p = realloc(c->frame, cap);
    if (!p) {
        do_close(c, LOG_ERROR, "out of memory reading request");
        return -1;
    }
    c->frame = p;
    c->frame_cap = cap;
    return 0;
}

static void frame_deliver(conn *c)
{
    uint8_t *f = c->frame;
    size_t len = c->frame_len;
    c->frame = NULL;
    c->frame_len = c->frame_have = c->frame_cap = 0;
    c->size_have = 0;
    c->ops->on_frame(c, f, len);
}

/* Feed bytes read into the scratch buffer through the framing state. */
static void consume_bytes(conn *c, const uint8_t *p, size_t n)
{
    while (n > 0 && !c->closed) {
        if (c->size_have < 4) {
            size_t k = 4 - c->size_have;
            if (k > n)
                k = n;
            memcpy(c->size_buf + c->size_have, p, k);
            c->size_have += k;
            p += k;
            n -= k;
            if (c->size_have < 4)
                return;
            if (frame_begin(c, (int32_t)be32_load(c->size_buf)) < 0)
                return;
            if (n == 0)
                return;     /* no body bytes yet */
        }
        size_t k = c->frame_len - c->frame_have;
        if (k > n)
            k = n;
        if (frame_reserve(c, k) < 0)
            return;
        memcpy(c->frame + c->frame_have, p, k);
        c->frame_have += k;
        p += k;
        n -= k;
        if (c->frame_have == c->frame_len)
            frame_deliver(c);
    }
}

static void do_read(conn *c)
{
    if (c->ssl) {
        tls_read(c);
        return;
    }
    /* Bounded work per wake-up so one busy client can't starve others. */
    for (int rounds = 0; rounds < 16 && !c->closed && !c->reads_paused; rounds++) {
        ssize_t n;
        size_t asked;
        if (c->size_have == 4) {
            /* A frame in progress: its bytes go straight into its buffer
             * (no copy), and in the same readv what follows it: after a
             * small frame into the scratch buffer (many small requests per
             * read), after a large one only the next frame's size, into
             * size_buf - its body is then read straight into its own
             * buffer too, instead of its first 64 KiB being copied out of
             * the scratch buffer (producers send large requests back to
             * back).  size_buf's old content, this frame's size, was read
             * by frame_begin and is not needed again. */
            size_t want = c->frame_len - c->frame_have;
            if (frame_reserve(c, want < FRAME_PREALLOC ? want : FRAME_PREALLOC) < 0)
                return;
            size_t room = c->frame_cap - c->frame_have;
            if (room > want)
                room = want;
            bool size_only = c->frame_len >= LARGE_FRAME;
            struct iovec iov[2] = {
                { c->frame + c->frame_have, room },
                size_only ? (struct iovec){ c->size_buf, 4 } : (struct iovec){ t_scratch, sizeof t_scratch },
            };
            int niov = room == want ? 2 : 1;
            asked = room + (niov == 2 ? iov[1].iov_len : 0);
            n = readv(c->w.fd, iov, niov);
            if (n > 0) {
                size_t k = (size_t)n < room ? (size_t)n : room;
                c->frame_have += k;
                if (c->frame_have == c->frame_len)
                    frame_deliver(c);           /* size_have = 0 */
                if ((size_t)n > k && !c->closed) {
                    if (size_only) {
                        c->size_have = (size_t)n - k;
                        if (c->size_have == 4 && frame_begin(c, (int32_t)be32_load(c->size_buf)) < 0)
                            return;
                    } else {
                        consume_bytes(c, t_scratch, (size_t)n - k);
                    }
                }
            }
        } else {
            asked = sizeof t_scratch;
            n = read(c->w.fd, t_scratch, sizeof t_scratch);
            if (n > 0)
                consume_bytes(c, t_scratch, (size_t)n);
        }
        if (n == 0) {
            do_close(c, LOG_DEBUG, NULL);
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            do_close(c, LOG_DEBUG, errno == ECONNRESET ? NULL : strerror(errno));
            return;
        }
        c->last_active_us = loop_now_us(c->lp);
        if ((size_t)n < asked)
            return;
    }
}

static void conn_io(loop *lp, io_watch *w, uint32_t events)
{
    conn *c = (conn *)w;
    /* Closed earlier in this epoll batch (a mailbox callback answering one
     * of its requests found the peer gone, say): its event was already in
     * the batch, and its last reference may be gone, with the free
     * deferred to the end of the batch.  Taking a reference now would
     * bring refs back from 0 and free it twice. */
    if (c->closed)
        return;
    conn_ref(c);
    if (c->handshaking && !(events & EPOLLERR)) {
        tls_handshake(c);
    } else if (events & (EPOLLERR)) {
        do_close(c, LOG_DEBUG, NULL);
    } else {
        bool read_wanted_write = c->tls_want_write && c->ssl && !c->out.total;
        if ((events & EPOLLOUT) && !c->closed)
            flush_out(c);
        if ((events & EPOLLOUT) && read_wanted_write && !c->closed && !c->reads_paused)
            do_read(c);         /* an SSL_read that needed the socket writable */
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) && !c->closed && !c->reads_paused)
            do_read(c);
        else if ((events & (EPOLLHUP)) && !c->closed)
            do_close(c, LOG_DEBUG, NULL);
    }
    conn_unref(c);
}

static void idle_check(loop *lp, ktimer *t)
{
    conn *c = (conn *)((char *)t - offsetof(conn, idle_timer));
    if (c->closed)
        return;
    int64_t idle_until = c->last_active_us + c->lim.idle_ms * 1000;
    if (loop_now_us(lp) >= idle_until && c->out.total == 0) {
        do_close(c, LOG_INFO, "idle longer than connections.max.idle.ms");
        return;
    }
    loop_timer_arm(lp, t, (idle_until > loop_now_us(lp) ? idle_until : loop_now_us(lp) + c->lim.idle_ms * 1000));
}

/* ---------------------------------------------------------------------- TLS */

/* TLS failures (handshakes above all) are warnings, at most HS_WARN_PER_SEC a second for the
 * whole process (a scanner must not flood the log); the rest are debug
 * lines, counted and reported with the next warning. */
#define HS_WARN_PER_SEC 20
static _Atomic int64_t g_hs_sec;
static atomic_int g_hs_in_sec, g_hs_dropped;

static int handshake_log_level(void)
{
    int64_t sec = (int64_t)time(NULL);
    if (atomic_exchange(&g_hs_sec, sec) != sec)
        atomic_store(&g_hs_in_sec, 0);
    if (atomic_fetch_add(&g_hs_in_sec, 1) < HS_WARN_PER_SEC) {
        int dropped = atomic_exchange(&g_hs_dropped, 0);
        if (dropped)
            LOG_WRN("net", "%d more TLS connection failure(s) were logged at debug level only "
                    "(more than %d a second)", dropped, HS_WARN_PER_SEC);
        return LOG_WARN;
    }
    atomic_fetch_add(&g_hs_dropped, 1);
    return LOG_DEBUG;
}

static void tls_fail(conn *c, int ret, int e, const char *what)
{
    /* A peer that goes away (a TCP health check, a client giving up) is
     * not worth a warning; a handshake that fails on its merits is. */
    unsigned long q = ERR_peek_last_error();
    bool eof = e == SSL_ERROR_ZERO_RETURN ||
               (e == SSL_ERROR_SYSCALL && (ret == 0 || errno == 0 || errno == ECONNRESET)) ||
               (e == SSL_ERROR_SSL && ERR_GET_REASON(q) == SSL_R_UNEXPECTED_EOF_WHILE_READING);
    char why[256], msg[320];
    tls_error_text(c->ssl, ret, e, why, sizeof why);
    snprintf(msg, sizeof msg, "%s: %s", what, why);
    do_close(c, eof ? LOG_DEBUG : handshake_log_level(), msg);
}

/* S-TLS5: a failed handshake (no or bad client certificate, wrong CA,
 * expired, garbage) closes the connection with the peer and the reason
 * logged; nothing of it stays (do_close frees the session). */
static void tls_handshake(conn *c)
{
    ERR_clear_error();
    int r = SSL_do_handshake(c->ssl);
    if (r == 1) {
        c->handshaking = false;
        c->tls_want_write = false;
        loop_timer_cancel(c->lp, &c->hs_timer);
        c->last_active_us = loop_now_us(c->lp);
        tls_log_send_path_once(c->ssl);
        if (c->ops->on_tls_ready)
            c->ops->on_tls_ready(c);
        if (c->closed)
            return;
        update_interest(c);
        if (c->out.total)
            flush_out(c);
        if (!c->closed && !c->reads_paused)
            tls_read(c);
        return;
    }
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
        update_interest(c);
        return;
    }
    tls_fail(c, r, e, "TLS handshake failed");
}

static void handshake_timeout(loop *lp, ktimer *t)
{
    (void)lp;
    conn *c = (conn *)((char *)t - offsetof(conn, hs_timer));
    if (!c->closed && c->handshaking)
        do_close(c, LOG_WARN, "TLS handshake not completed in time "
                              "(samsa.ssl.handshake.timeout.ms)");
}

static void tls_read(conn *c)
{
    c->tls_want_write = false;
    /* Bounded work per wake-up, as in do_read; a record OpenSSL holds
     * past the bound is read by tls_schedule_read. */
    for (int rounds = 0; rounds < 16 && !c->closed && !c->reads_paused; rounds++) {
        uint8_t *dst = t_scratch;
        size_t room = sizeof t_scratch;
        bool direct = c->size_have == 4;
        if (direct) {
            /* A frame in progress: decrypt straight into its buffer. */
            size_t want = c->frame_len - c->frame_have;
            if (frame_reserve(c, want < FRAME_PREALLOC ? want : FRAME_PREALLOC) < 0)
                return;
            dst = c->frame + c->frame_have;
            room = c->frame_cap - c->frame_have;
            if (room > want)
                room = want;
        }
        ERR_clear_error();
        int n = SSL_read(c->ssl, dst, room > INT32_MAX ? INT32_MAX : (int)room);
        if (n > 0) {
            c->last_active_us = loop_now_us(c->lp);
            if (direct) {
                c->frame_have += (size_t)n;
                if (c->frame_have == c->frame_len)
                    frame_deliver(c);
            } else {
                consume_bytes(c, t_scratch, (size_t)n);
            }
            continue;
        }
        int e = SSL_get_error(c->ssl, n);
        if (e == SSL_ERROR_WANT_READ)
            return;
        if (e == SSL_ERROR_WANT_WRITE) {
            c->tls_want_write = true;
            update_interest(c);
            return;
        }
        tls_fail(c, n, e, "TLS read failed");
        return;
    }
    if (!c->closed && !c->reads_paused)
        tls_schedule_read(c);
}

/* Fill tls_wbuf with the next bytes of out (without consuming them):
 * memory chunks copied, file chunks read.  With kernel TLS, stops at a
 * file chunk (SSL_sendfile sends it).  -1 = closed. */
static int tls_fill(conn *c, bool ktls)
{
    if (!c->tls_wbuf && !(c->tls_wbuf = malloc(TLS_WBUF))) {
        do_close(c, LOG_ERROR, "out of memory writing a response");
        return -1;
    }
    size_t len = 0;
    for (obuf_chunk *ch = c->out.head; ch && len < TLS_WBUF; ch = ch->next) {
        size_t have = ch->len - ch->sent, k = TLS_WBUF - len < have ? TLS_WBUF - len : have;
        if (!ch->file) {
            memcpy(c->tls_wbuf + len, ch->data + ch->sent, k);
        } else {
            if (ktls)
                break;
            ssize_t r = pread(ch->file->fd, c->tls_wbuf + len, k, ch->file_off + (off_t)ch->sent);
            if (r <= 0) {
                do_close(c, LOG_ERROR, r == 0 ? "segment file shorter than the range being sent"
                                              : "cannot read a segment file for a response");
                return -1;
            }
            k = (size_t)r;
        }
        len += k;
        if (k < have)
            break;
    }
    c->tls_wlen = len;
    return 0;
}

static int tls_flush(conn *c)
{
    if (c->handshaking)
        return 0;               /* sent once the handshake is done */
    c->tls_want_write = false;
    bool ktls = tls_ktls_send(c->ssl);
    while (c->out.head) {
        ssize_t n;
        obuf_chunk *ch = c->out.head;
        if (!c->tls_wlen && ktls && ch->file) {
            size_t want = ch->len - ch->sent;
            ERR_clear_error();
            n = SSL_sendfile(c->ssl, ch->file->fd, ch->file_off + (off_t)ch->sent,
                             want > 0x7ffff000 ? 0x7ffff000 : want, 0);
            if (n == 0) {
                do_close(c, LOG_ERROR, "segment file shorter than the range being sent");
                return -1;
            }
        } else {
            if (!c->tls_wlen && tls_fill(c, ktls) < 0)
                return -1;
            ERR_clear_error();
            n = SSL_write(c->ssl, c->tls_wbuf, (int)c->tls_wlen);
            if (n > 0) {
                c->tls_wlen -= (size_t)n;
                memmove(c->tls_wbuf, c->tls_wbuf + n, c->tls_wlen);
            }
        }
        if (n <= 0) {
            int e = SSL_get_error(c->ssl, (int)n);
            if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
                c->tls_want_write = e == SSL_ERROR_WANT_WRITE;
                break;
            }
            tls_fail(c, (int)n, e, "TLS write failed");
            return -1;
        }
        obuf_consume(&c->out, (size_t)n);
    }
    if (c->out.total == 0) {
        free(c->tls_wbuf);      /* idle connections hold no write buffer */
        c->tls_wbuf = NULL;
    }
    update_interest(c);
    if (c->out.total == 0 && c->ops->on_drained)
        c->ops->on_drained(c);
    return 0;
}
