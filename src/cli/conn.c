/*
 * conn.c - the CLI's own connections (cli_wire_call): the raw requests of
 * `cluster info`, `cluster reassign`, `cluster elect-leaders`, `txn`,
 * `user` and `quota`, over the same security the librdkafka side uses.
 *
 * Settings: librdkafka's property names, from --command-config FILE (or
 * $SAMSA_COMMAND_CONFIG) then every -X (the last value wins, as librdkafka
 * applies them):
 *   security.protocol                       plaintext, ssl, sasl_plaintext, sasl_ssl
 *   ssl.ca.location                         PEM file or directory (default: the system's CAs)
 *   ssl.certificate.location, ssl.key.location, ssl.key.password   a client certificate
 *   ssl.endpoint.identification.algorithm   https (librdkafka's default) or none
 *   enable.ssl.certificate.verification     true (default) or false
 *   sasl.mechanisms (or sasl.mechanism)     PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
 *   sasl.username, sasl.password
 *
 * A connection: TCP, then TLS (OpenSSL, the broker's certificate verified
 * against ssl.ca.location and, with https, its host name or IP), then
 * SaslHandshake v1 and SaslAuthenticate v1 (PLAIN, or SCRAM with the
 * server's signature checked: src/auth/, the broker's own implementation),
 * then the request.  Everything within the caller's deadline.
 *
 * Invariants (docs/security.md S-CL8, S-CL9):
 *   S-CL8  The CLI never sends a request over a connection that has not
 *          completed the configured TLS and SASL steps, and never falls
 *          back to plaintext; a certificate that does not verify, a SCRAM
 *          server signature that does not match or a refused login is an
 *          error naming the broker.
 *   S-CL9  Passwords are never printed; the SCRAM keys and the PLAIN token
 *          are wiped after use.
 *
 * Main thread only; the settings are read once.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "auth/plain.h"
#include "auth/scram.h"
#include "auth/scram_exchange.h"
#include "cli/cli.h"
#include "cli/sasl_wire.h"

/* Largest answer we accept (a Metadata of a cluster with ~100k partitions). */
#define WIRE_MAX_RESPONSE (64 * 1024 * 1024)

enum { P_PLAINTEXT, P_SSL, P_SASL_PLAINTEXT, P_SASL_SSL };

static struct {
    int loaded;
    int proto;
    char mech[32], user[256], pass[256];
    const char *ca, *cert, *key, *keypass;
    int verify_host, verify_cert;
    int too_long;                 /* sasl.username / sasl.password over 255 bytes */
    SSL_CTX *ctx;
} S;

/* ---- settings --------------------------------------------------------------------------- */

static const char *prop(const char *key)
{
    const char *v = NULL;
    size_t kl = strlen(key);
    for (size_t k = 0; k < G.props.n; k++)
        if (!strncmp(G.props.v[k], key, kl) && G.props.v[k][kl] == '=')
            v = G.props.v[k] + kl + 1;
    return v;
}

static void load(void)
{
    if (S.loaded)
        return;
    S.loaded = 1;
    const char *p = prop("security.protocol");
    S.proto = !p || !strcasecmp(p, "plaintext") ? P_PLAINTEXT
              : !strcasecmp(p, "ssl")           ? P_SSL
              : !strcasecmp(p, "sasl_plaintext") ? P_SASL_PLAINTEXT
              : !strcasecmp(p, "sasl_ssl")      ? P_SASL_SSL : -1;
    const char *m = prop("sasl.mechanisms");
    const char *m1 = prop("sasl.mechanism");
    snprintf(S.mech, sizeof S.mech, "%s", m1 ? m1 : m ? m : "GSSAPI");   /* librdkafka's default */
    const char *u = prop("sasl.username"), *pw = prop("sasl.password");
    S.too_long = (u && strlen(u) >= sizeof S.user) || (pw && strlen(pw) >= sizeof S.pass);
    snprintf(S.user, sizeof S.user, "%s", u ? u : "");
    snprintf(S.pass, sizeof S.pass, "%s", pw ? pw : "");
    S.ca = prop("ssl.ca.location");
    S.cert = prop("ssl.certificate.location");
    S.key = prop("ssl.key.location");
    S.keypass = prop("ssl.key.password");
    const char *alg = prop("ssl.endpoint.identification.algorithm");
    S.verify_host = !alg || !strcasecmp(alg, "https");
    const char *vc = prop("enable.ssl.certificate.verification");
    S.verify_cert = !vc || !strcasecmp(vc, "true");
}

static int sasl(void)
{
    return S.proto == P_SASL_PLAINTEXT || S.proto == P_SASL_SSL;
}

int cli_own_wire(cli_client_t *c)
{
    (void)c;
    load();
    if (S.proto < 0)
        return 0;
    return !sasl() || !strcmp(S.mech, "PLAIN") || scram_mech_parse(S.mech) != 0;
}

/* ---- TCP -------------------------------------------------------------------------------- */

static int remaining_ms(int64_t deadline_us)
{
    int64_t ms = (deadline_us - cli_now_us()) / 1000;
    return ms > 0 ? (int)(ms > 1000000 ? 1000000 : ms) : 0;
}

/* Wait for `events` on fd until the deadline. 0, or -1 with errno. */
static int wait_fd(int fd, short events, int64_t deadline_us)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int ms = remaining_ms(deadline_us);
        if (ms == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int n = poll(&pfd, 1, ms);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
        if (cli_interrupted) {
            errno = EINTR;
            return -1;
        }
    }
}

static int connect_to(const char *host, int32_t port, int64_t deadline_us, char *err, size_t errlen)
{
    char svc[16];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    snprintf(svc, sizeof svc, "%d", (int)port);
    int gai = getaddrinfo(host, svc, &hints, &res);
    if (gai) {
        snprintf(err, errlen, "%s:%d: %s", host, (int)port, gai_strerror(gai));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno != EINPROGRESS) {
            e = errno;
        } else if (wait_fd(fd, POLLOUT, deadline_us) < 0) {
            e = errno;
        } else {
            socklen_t sl = sizeof e;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
                e = errno;
            if (e == 0)
                break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "%s:%d: %s", host, (int)port, strerror(e ? e : ECONNREFUSED));
    return fd;
}

/* ---- one connection: TCP, TLS, SASL ------------------------------------------------------ */

typedef struct conn {
    int fd;
    SSL *ssl;
    const char *host;
    int32_t port;
    int64_t deadline;
} conn;

/* Why the last SSL call failed: OpenSSL's queue, else the verify result. */
static void ssl_why(SSL *ssl, char *out, size_t n)
{
    unsigned long e = ERR_get_error();
    long v = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (v != X509_V_OK)
        snprintf(out, n, "certificate verify failed: %s", X509_verify_cert_error_string(v));
    else if (e)
        ERR_error_string_n(e, out, n);
    else
        snprintf(out, n, "%s", errno ? strerror(errno) : "connection closed");
    ERR_clear_error();
}

/* Wait as SSL_get_error says; 0 to retry, -1 otherwise. */
static int ssl_wait(conn *c, int r)
{
    int e = SSL_get_error(c->ssl, r);
    if (e == SSL_ERROR_WANT_READ)
        return wait_fd(c->fd, POLLIN, c->deadline);
    if (e == SSL_ERROR_WANT_WRITE)
        return wait_fd(c->fd, POLLOUT, c->deadline);
    if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errno == 0))
        errno = ECONNRESET;
    else if (e == SSL_ERROR_SSL)
        errno = EPROTO;                 /* a TLS protocol error, not the last errno */
    return -1;
}

static int conn_write(conn *c, const uint8_t *p, size_t n)
{
    while (n) {
        ssize_t w;
        if (c->ssl) {
            ERR_clear_error();
            int r = SSL_write(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
            if (r <= 0) {
                if (ssl_wait(c, r) < 0)
                    return -1;
                continue;
            }
            w = r;
        } else {
            w = send(c->fd, p, n, MSG_NOSIGNAL);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                return -1;
            if (w <= 0) {
                if (wait_fd(c->fd, POLLOUT, c->deadline) < 0)
                    return -1;
                continue;
            }
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int conn_read(conn *c, uint8_t *p, size_t n)
{
    while (n) {
        ssize_t r;
        if (c->ssl) {
            ERR_clear_error();
            int k = SSL_read(c->ssl, p, n > INT32_MAX ? INT32_MAX : (int)n);
            if (k <= 0) {
                if (ssl_wait(c, k) < 0)
                    return -1;
                continue;
            }
            r = k;
        } else {
            r = recv(c->fd, p, n, 0);
            if (r == 0) {
                errno = ECONNRESET;
                return -1;
            }
            if (r < 0) {
                if (errno != EAGAIN && errno != EINTR)
                    return -1;
                if (wait_fd(c->fd, POLLIN, c->deadline) < 0)
                    return -1;
                continue;
            }
        }
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One request frame out, its answer (after the size prefix) in *resp. */
static int conn_call(conn *c, const uint8_t *req, size_t n, uint8_t **resp, size_t *len, char *err,
                     size_t errlen)
{
    uint8_t szb[4];
    *resp = NULL;
    *len = 0;
    if (conn_write(c, req, n) < 0 || conn_read(c, szb, 4) < 0) {
        snprintf(err, errlen, "%s:%d: %s", c->host, (int)c->port, strerror(errno));
        return -1;
    }
    uint32_t sz = (uint32_t)szb[0] << 24 | (uint32_t)szb[1] << 16 | (uint32_t)szb[2] << 8 | szb[3];
    if (sz < 4 || sz > WIRE_MAX_RESPONSE) {
        snprintf(err, errlen, "%s:%d: bad response size %u", c->host, (int)c->port, sz);
        return -1;
    }
    if (!(*resp = malloc(sz))) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (conn_read(c, *resp, sz) < 0) {
        snprintf(err, errlen, "%s:%d: %s", c->host, (int)c->port, strerror(errno));
        free(*resp);
        *resp = NULL;
        return -1;
    }
    *len = sz;
    return 0;
}

static SSL_CTX *ssl_ctx(char *err, size_t errlen)
{
    if (S.ctx)
        return S.ctx;
    char why[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: cannot create a context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, S.verify_cert ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    int ok = 1;
    const char *what = "ssl.ca.location";
    if (S.ca) {
        ok = SSL_CTX_load_verify_locations(ctx, S.ca, NULL) == 1 ||
             SSL_CTX_load_verify_locations(ctx, NULL, S.ca) == 1;
    } else {
        ok = SSL_CTX_set_default_verify_paths(ctx) == 1;
    }
    if (ok && S.cert) {
        what = "ssl.certificate.location";
        ok = SSL_CTX_use_certificate_chain_file(ctx, S.cert) == 1;
    }
    if (ok && S.key) {
        what = "ssl.key.location";
        if (S.keypass)
            SSL_CTX_set_default_passwd_cb_userdata(ctx, (void *)S.keypass);
        ok = SSL_CTX_use_PrivateKey_file(ctx, S.key, SSL_FILETYPE_PEM) == 1 &&
             SSL_CTX_check_private_key(ctx) == 1;
    }
    if (!ok) {
        ssl_why(NULL, why, sizeof why);
        snprintf(err, errlen, "%s: %s", what, why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return S.ctx = ctx;
}

static int tls_start(conn *c, char *err, size_t errlen)
{
    char why[256];
    SSL_CTX *ctx = ssl_ctx(err, errlen);
    if (!ctx || !(c->ssl = SSL_new(ctx))) {
        if (ctx)
            snprintf(err, errlen, "TLS: out of memory");
        return -1;
    }
    SSL_set_fd(c->ssl, c->fd);
    unsigned char ipb[16];
    int ip = inet_pton(AF_INET, c->host, ipb) == 1 || inet_pton(AF_INET6, c->host, ipb) == 1;
    if (!ip)
        SSL_set_tlsext_host_name(c->ssl, c->host);
    if (S.verify_cert && S.verify_host &&
        (ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), c->host)
            : SSL_set1_host(c->ssl, c->host)) != 1) {
        snprintf(err, errlen, "%s:%d: TLS: bad host name for verification", c->host, (int)c->port);
        return -1;
    }
    for (;;) {
        ERR_clear_error();
        errno = 0;
        int r = SSL_connect(c->ssl);
        if (r == 1)
            return 0;
        if (ssl_wait(c, r) < 0) {
            ssl_why(c->ssl, why, sizeof why);
            snprintf(err, errlen, "%s:%d: TLS handshake failed: %s", c->host, (int)c->port, why);
            return -1;
        }
    }
}

/* One SaslAuthenticate round: tok out, the server's token into buf. */
static int auth_step(conn *c, int32_t corr, const uint8_t *tok, size_t toklen, uint8_t *in,
                     size_t incap, size_t *inlen, char *err, size_t errlen)
{
    uint8_t req[8192], *resp = NULL;
    size_t n = cli_sasl_encode_authenticate(req, sizeof req, corr, "samsa", tok, toklen), len;
    int rc = -1;
    if (n == 0) {
        snprintf(err, errlen, "SASL %s: token too large", S.mech);
    } else if (conn_call(c, req, n, &resp, &len, err, errlen) == 0) {
        int16_t e;
        char msg[256];
        const uint8_t *t;
        size_t tl;
        if (cli_sasl_decode_authenticate(resp, len, corr, &e, msg, sizeof msg, &t, &tl) < 0)
            snprintf(err, errlen, "%s:%d: bad SaslAuthenticate answer", c->host, (int)c->port);
        else if (e)
            snprintf(err, errlen, "%s:%d: SASL %s authentication failed: %s%s%s", c->host,
                     (int)c->port, S.mech, cli_kerr_name(e), msg[0] ? ": " : "", msg);
        else if (tl >= incap)
            snprintf(err, errlen, "%s:%d: SASL %s: server token too large", c->host, (int)c->port,
                     S.mech);
        else {
            memcpy(in, t, tl);
            in[tl] = 0;
            *inlen = tl;
            rc = 0;
        }
    }
    memset(req, 0, sizeof req);      /* S-CL9: a PLAIN token holds the password */
    free(resp);
    return rc;
}

static int sasl_start(conn *c, char *err, size_t errlen)
{
    uint8_t req[512], *resp = NULL, in[SCRAM_MAX_MSG + 1];
    if (S.too_long) {
        snprintf(err, errlen, "sasl.username / sasl.password: longer than %zu bytes",
                 sizeof S.pass - 1);
        return -1;
    }
    size_t n = cli_sasl_encode_handshake(req, sizeof req, 1, "samsa", S.mech), len, inlen;
    if (n == 0 || conn_call(c, req, n, &resp, &len, err, errlen) < 0) {
        if (n == 0)
            snprintf(err, errlen, "sasl.mechanisms=%s: too long", S.mech);
        return -1;
    }
    int16_t e;
    char mechs[256];
    int bad = cli_sasl_decode_handshake(resp, len, 1, &e, mechs, sizeof mechs);
    free(resp);
    if (bad || e) {
        if (bad)
            snprintf(err, errlen, "%s:%d: bad SaslHandshake answer", c->host, (int)c->port);
        else
            snprintf(err, errlen, "%s:%d: SASL mechanism %s: %s (the broker enables: %s)", c->host,
                     (int)c->port, S.mech, cli_kerr_name(e), mechs);
        return -1;
    }
    int8_t mech = scram_mech_parse(S.mech);
    if (!mech) {                                            /* PLAIN */
        uint8_t tok[PLAIN_MAX_TOKEN];
        long tl = plain_client_token(S.user, S.pass, tok, sizeof tok);
        int rc = tl < 0 ? -1 : auth_step(c, 2, tok, (size_t)tl, in, sizeof in, &inlen, err, errlen);
        if (tl < 0)
            snprintf(err, errlen, "sasl.username/sasl.password: too long for PLAIN");
        OPENSSL_cleanse(tok, sizeof tok);
        return rc;
    }
    scram_client sc;
    char out[SCRAM_MAX_MSG], why[256];
    int rc = -1;
    long k;
    if (scram_client_init(&sc, mech, S.pass) != SCRAM_OK) {
        snprintf(err, errlen, "sasl.password: too long for %s", S.mech);
    } else if ((k = scram_client_first(&sc, S.user, "", out, sizeof out)) < 0) {
        snprintf(err, errlen, "sasl.username: not usable with %s", S.mech);
    } else if (auth_step(c, 2, (uint8_t *)out, (size_t)k, in, sizeof in, &inlen, err, errlen) == 0) {
        if ((k = scram_client_final(&sc, in, inlen, out, sizeof out)) < 0)
            snprintf(err, errlen, "%s:%d: SASL %s: bad server-first message", c->host,
                     (int)c->port, S.mech);
        else if (auth_step(c, 3, (uint8_t *)out, (size_t)k, in, sizeof in, &inlen, err,
                           errlen) == 0) {
            if (scram_client_verify(&sc, in, inlen, why, sizeof why) != SCRAM_OK)
                snprintf(err, errlen, "%s:%d: SASL %s: %s", c->host, (int)c->port, S.mech, why);
            else
                rc = 0;
        }
    }
    scram_client_clear(&sc);            /* S-CL9 */
    OPENSSL_cleanse(out, sizeof out);
    return rc;
}

int cli_wire_call(const char *host, int32_t port, const uint8_t *req, size_t n,
                  uint8_t **resp, size_t *resp_len, int64_t deadline_us, char *err, size_t errlen)
{
    *resp = NULL;
    *resp_len = 0;
    load();
    if (!cli_own_wire(NULL)) {
        snprintf(err, errlen, "security.protocol / sasl.mechanisms: only PLAINTEXT, SSL, and SASL "
                 "with PLAIN or SCRAM-SHA-256/512 are supported for this command");
        return -1;
    }
    conn c = {.host = host, .port = port, .deadline = deadline_us};
    if ((c.fd = connect_to(host, port, deadline_us, err, errlen)) < 0)
        return -1;
    int rc = -1;
    /* S-CL8: the request goes out only after every configured step. */
    if ((S.proto == P_SSL || S.proto == P_SASL_SSL) && tls_start(&c, err, errlen) < 0)
        goto out;
    if (sasl() && sasl_start(&c, err, errlen) < 0)
        goto out;
    rc = conn_call(&c, req, n, resp, resp_len, err, errlen);
out:
    if (c.ssl) {
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
    }
    close(c.fd);
    return rc;
}

void cli_conn_cleanup(void)
{
    if (S.ctx)
        SSL_CTX_free(S.ctx);
    S.ctx = NULL;
    OPENSSL_cleanse(S.pass, sizeof S.pass);
}

/* ---- --command-config ------------------------------------------------------------------- */

static char *cc_text;          /* the file, its lines cut in place into "key=value" */
static size_t cc_len;

int cli_command_config_load(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cli_fail(CLI_EUSAGE, "--command-config %s: %s", path, strerror(errno));
    enum { MAX_BYTES = 1 << 20 };
    cc_text = malloc(MAX_BYTES + 1);
    size_t n = cc_text ? fread(cc_text, 1, MAX_BYTES + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!cc_text || bad || n > MAX_BYTES)
        return cli_fail(CLI_EUSAGE, "--command-config %s: %s", path,
                        !cc_text ? "out of memory" : bad ? "read error" : "larger than 1 MiB");
    cc_text[n] = 0;
    cc_len = n;
    cli_list_t merged = {0};
    int lineno = 0;
    for (char *line = cc_text, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = 0;
        lineno++;
        char *e = line + strlen(line);
        while (e > line && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
            *--e = 0;
        while (*line == ' ' || *line == '\t')
            line++;
        if (!*line || *line == '#' || *line == '!')
            continue;
        char *sep = strpbrk(line, "=:");
        if (!sep || sep == line) {
            cli_list_free(&merged);
            return cli_fail(CLI_EUSAGE, "--command-config %s:%d: expected KEY=VALUE", path, lineno);
        }
        /* "key = value" -> "key=value" in place (the value moves left). */
        char *k_end = sep;
        while (k_end > line && (k_end[-1] == ' ' || k_end[-1] == '\t'))
            k_end--;
        char *v = sep + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        *k_end = '=';
        memmove(k_end + 1, v, strlen(v) + 1);
        cli_list_push(&merged, line);
    }
    for (size_t k = 0; k < G.props.n; k++)      /* -X after the file: they win */
        cli_list_push(&merged, G.props.v[k]);
    cli_list_free(&G.props);
    G.props = merged;
    return 0;
}

void cli_command_config_free(void)
{
    if (cc_text)
        OPENSSL_cleanse(cc_text, cc_len);   /* it may hold sasl.password */
    free(cc_text);
    cc_text = NULL;
}
