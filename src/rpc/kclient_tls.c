/*
 * kclient_tls.c - TLS for the broker's own client (kclient_int.h): a
 * blocking handshake over the connected socket, bounded by the connect
 * deadline, with SNI and, when sec->verify_hostname
 * (ssl.endpoint.identification.algorithm=https), the peer certificate's
 * name checked against the host we dialled (a DNS name or an IP literal).
 * The context (truststore, and keystore for mutual TLS) is the broker's:
 * server_tls_client_ctx() builds it from a listener's ssl.* keys.
 * Afterwards kclient.c's send_all/recv_all go through c->ssl.
 *
 *   S-TLS8  An inter-broker TLS connection is used only after the peer's
 *           certificate chained to the truststore and, with https
 *           identification, named the host dialled; otherwise the connect
 *           fails with the peer and the reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net/tls.h"
#include "rpc/kclient_int.h"

static int64_t mono_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool is_ip_literal(const char *h)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

int kclient_tls_start(kclient *c, const char *host, int64_t deadline, char *err, size_t errlen)
{
    SSL_CTX *ctx = c->sec ? c->sec->ssl_ctx : NULL;
    if (!ctx) {
        snprintf(err, errlen, "%s: TLS: no client TLS context configured", c->peer);
        return -1;
    }
    ERR_clear_error();
    SSL *ssl = SSL_new(ctx);
    if (!ssl || !SSL_set_fd(ssl, c->fd)) {
        SSL_free(ssl);
        snprintf(err, errlen, "%s: TLS: cannot create a session", c->peer);
        ERR_clear_error();
        return -1;
    }
    bool ip = is_ip_literal(host);
    if (!ip)
        SSL_set_tlsext_host_name(ssl, host);
    if (c->sec->verify_hostname) {
        int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host)
                    : SSL_set1_host(ssl, host);
        if (!ok) {
            SSL_free(ssl);
            snprintf(err, errlen, "%s: TLS: cannot set the host name to verify", c->peer);
            ERR_clear_error();
            return -1;
        }
    }
    SSL_set_connect_state(ssl);
    for (;;) {
        ERR_clear_error();
        int r = SSL_do_handshake(ssl);
        if (r == 1)
            break;
        int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            int64_t left = deadline - mono_now_ms();
            struct pollfd p = { .fd = c->fd, .events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT };
            int n = left > 0 ? poll(&p, 1, (int)(left > 1000000 ? 1000000 : left)) : 0;
            if (n > 0 || (n < 0 && errno == EINTR))
                continue;
            snprintf(err, errlen, "%s: TLS handshake: %s", c->peer,
                     n == 0 ? "timed out" : strerror(errno));
            SSL_free(ssl);
            return -1;
        }
        char why[256];
        tls_error_text(ssl, r, e, why, sizeof why);
        snprintf(err, errlen, "%s: TLS handshake failed: %s", c->peer, why);
        SSL_free(ssl);
        return -1;
    }
    c->ssl = ssl;
    return 0;
}

void kclient_tls_end(kclient *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);       /* no close_notify wait: the socket is closed next */
        ERR_clear_error();
    }
    c->ssl = NULL;
}
