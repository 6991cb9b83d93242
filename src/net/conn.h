/*
 * conn.h - one client TCP connection: Kafka framing in, chained responses out.
 *
 * Input: a stream of frames, each an INT32 size followed by that many bytes.
 * Every complete frame is handed to ops->on_frame in a buffer the callee
 * owns (malloc'd, exactly the frame).  Buffers grow only as bytes actually
 * arrive, so a client announcing a 100 MB frame and sending 10 bytes costs
 * 10 bytes; sizes <= 0 or above the limit close the connection.
 *
 * Output: obufs queued with conn_send() are written in order, memory chunks
 * with writev/sendmsg and file chunks with sendfile (zero copy).  Writes that
 * would block wait for EPOLLOUT.
 *
 * TLS (conn_new_tls): the handshake runs first, non-blocking, bounded in
 * time (handshake_ms) and in memory (OpenSSL's own buffers: no frame
 * buffer exists before it completes); then ops->on_tls_ready runs and
 * frames flow over SSL_read / SSL_write.  File chunks go out with
 * SSL_sendfile when the session uses kernel TLS, else through a 16 KiB
 * buffer (pread + SSL_write).  A plaintext conn never touches any of it.
 * OpenSSL writes with write(), not send(MSG_NOSIGNAL): a process with TLS
 * connections must ignore SIGPIPE (the broker does, broker/main.c).
 *
 * Lifetime: a conn is owned by its loop's thread.  Pending requests hold a
 * reference (conn_ref) so the struct outlives conn_close(); once closed,
 * conn_send() drops what it is given.  The struct is freed after the last
 * reference goes and the current event batch has finished.
 */
#ifndef SAMSA_NET_CONN_H
#define SAMSA_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/obuf.h"
#include "net/loop.h"

typedef struct conn conn;
struct ssl_st;
struct ssl_ctx_st;

typedef struct conn_ops {
    /* A complete frame (without the size prefix); the callee frees it. */
    void (*on_frame)(conn *c, uint8_t *frame, size_t len);
    /* The connection closed (peer, error, idle, or conn_close). */
    void (*on_close)(conn *c);
    /* All queued output was written (used to resume paused reads). */
    void (*on_drained)(conn *c);
    /* TLS only: the handshake completed (the callee may conn_close). */
    void (*on_tls_ready)(conn *c);
} conn_ops;

typedef struct conn_limits {
    int32_t max_frame;        /* socket.request.max.bytes */
    int64_t idle_ms;          /* connections.max.idle.ms; <= 0 = never */
} conn_limits;

struct conn {
    io_watch w;
    loop *lp;
    const conn_ops *ops;
    conn_limits lim;
    void *user;               /* the broker's per-connection state */
    char peer[64];            /* "ip:port" for logs */
    uint64_t id;

    /* Frame being assembled. */
    uint8_t size_buf[4];
    size_t size_have;
    uint8_t *frame;
    size_t frame_len, frame_have, frame_cap;

    obuf out;
    bool closed;
    bool reads_paused;
    int refs;
    int64_t last_active_us;
    ktimer idle_timer;

    /* TLS (NULL/false/0 on plaintext connections). */
    struct ssl_st *ssl;
    bool handshaking;
    bool tls_want_write;      /* the last SSL call needs the socket writable */
    bool tls_read_deferred;   /* a read of SSL-buffered bytes is scheduled */
    uint8_t *tls_wbuf;        /* the plaintext of the record being written: */
    size_t tls_wlen;          /* always the first tls_wlen bytes of out */
    ktimer hs_timer;
};

/* Adopt an accepted, connected socket on loop lp (call on lp's thread). */
conn *conn_new(loop *lp, int fd, const conn_ops *ops, const conn_limits *lim);
/* The same over TLS with a session made from ctx; the handshake must end
 * within handshake_ms or the connection is closed (S-TLS4). */
conn *conn_new_tls(loop *lp, int fd, const conn_ops *ops, const conn_limits *lim,
                   struct ssl_ctx_st *ctx, int64_t handshake_ms);
void conn_ref(conn *c);
void conn_unref(conn *c);
/* Queue a response; takes every chunk of ob (ob is left empty). */
void conn_send(conn *c, obuf *ob);
/* Close now (logged as a warning with reason). */
void conn_close(conn *c, const char *reason);
void conn_pause_reads(conn *c);
void conn_resume_reads(conn *c);
static inline size_t conn_out_pending(const conn *c) { return c->out.total; }

#endif
