/*
 * fuzz_tls_handshake.c - what an unauthenticated client can make a TLS
 * listener's connection do: a REAL net/conn.c TLS connection (conn_new_tls
 * with a server context from net/tls.c, as an SSL listener builds it) on a
 * private event loop, fed the input through a socketpair in chunks, then
 * EOF.  Exercises the non-blocking handshake state machine (WANT_READ /
 * WANT_WRITE, alerts, the close paths and their frees) with OpenSSL's
 * ClientHello and record parsing in front.
 *
 * Input: byte 0 selects the write chunk size (as fuzz_frame); bytes 1.. are
 * what the client sends.  Seeds are real ClientHellos (TLS 1.2 and 1.3).
 *
 * Oracle (besides ASan/UBSan/LSan):
 *   - no input completes the handshake (the client's Finished needs the
 *     server's fresh randomness), so on_tls_ready and on_frame never run:
 *     no request is read before TLS is established (S-TLS4);
 *   - on_close runs exactly once and the loop always ends (a hang is a
 *     libFuzzer timeout): EOF or garbage ends the connection.
 *
 * Unlike the other targets this one is not fully deterministic: OpenSSL
 * draws the server's random and key share; parsing of what the client
 * sends is not affected by them.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "net/conn.h"
#include "net/loop.h"
#include "net/tls.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define MAX_WRITES 2048

static const size_t g_chunks[16] = {
    1 << 20, 65536, 4096, 1, 2, 3, 4, 5, 7, 13, 61, 512, 65535, 65537, 100000, 1 << 17,
};

static SSL_CTX *g_ctx;

typedef struct harness {
    loop *lp;
    io_watch wr;
    const uint8_t *stream;
    size_t len, sent, chunk;
    int closes;
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
    if (h->sent < h->len) {
        size_t n = h->len - h->sent;
        if (n > h->chunk)
            n = h->chunk;
        ssize_t k = send(w->fd, h->stream + h->sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (k < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (k <= 0) {
            close_writer(h);
            return;
        }
        h->sent += (size_t)k;
    }
    if (h->sent == h->len)
        close_writer(h);               /* EOF for the conn */
}

static void on_frame(conn *c, uint8_t *frame, size_t len)
{
    (void)c;
    (void)len;
    free(frame);
    FUZZ_ASSERT(0, "a frame was delivered before the TLS handshake completed");
}

static void on_tls_ready(conn *c)
{
    (void)c;
    FUZZ_ASSERT(0, "a handshake completed from fuzzer bytes");
}

static void on_close(conn *c)
{
    harness *h = c->user;
    h->closes++;
    loop_stop(h->lp);
}

static const conn_ops g_ops = { on_frame, on_close, NULL, on_tls_ready };

/* The listener's certificate: self-signed P-256, made once. */
static SSL_CTX *make_ctx(void)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    FUZZ_ASSERT(k && x, "key or certificate allocation");
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509_sign(x, k, EVP_sha256());
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL);
    PEM_write_bio_X509(cb, x);
    char *kp, *cp;
    long kn = BIO_get_mem_data(kb, &kp), cn = BIO_get_mem_data(cb, &cp);
    char *key = strndup(kp, (size_t)kn), *cert = strndup(cp, (size_t)cn);
    /* requested: the client may send a certificate, which is then verified */
    tls_opts o = { .what = "fuzz listener", .keystore_key = key, .keystore_chain = cert,
                   .truststore_certs = cert, .client_auth = TLS_AUTH_REQUESTED };
    char err[512];
    SSL_CTX *ctx = tls_server_ctx_new(&o, err, sizeof err);
    FUZZ_ASSERT(ctx, "server context: %s", err);
    free(key);
    free(cert);
    BIO_free(kb);
    BIO_free(cb);
    X509_free(x);
    EVP_PKEY_free(k);
    return ctx;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_quiet_logs();
    signal(SIGPIPE, SIG_IGN);          /* as the broker does (main.c): OpenSSL write()s */
    g_ctx = make_ctx();
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
    conn_limits lim = { .max_frame = 104857600, .idle_ms = 0 };
    conn *c = conn_new_tls(h.lp, sv[0], &g_ops, &lim, g_ctx, 10000);
    FUZZ_ASSERT(c, "conn_new_tls failed");
    c->user = &h;

    loop_run(h.lp);                    /* until on_close stops it */

    FUZZ_ASSERT(h.closes == 1, "on_close ran %d times", h.closes);
    close_writer(&h);
    loop_free(h.lp);
    return 0;
}
