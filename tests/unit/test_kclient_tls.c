/* test_kclient_tls.c - the inter-broker client over TLS (rpc/kclient_tls.c)
 * against a TLS peer on a loopback socket, both contexts made by net/tls.c
 * from inline PEM (ssl.keystore.key / .certificate.chain /
 * ssl.truststore.certificates): a call goes through; an untrusted
 * certificate, a name that does not match the host dialled and a peer that
 * never answers the handshake each end in a bounded error naming the peer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "config/config.h"
#include "core/endian.h"
#include "net/tls.h"
#include "proto/codec.h"
#include "proto/header.h"
#include "proto/messages/api_versions.h"
#include "rpc/kclient.h"
#include "server/server_tls.h"
#include "test.h"
#include "loopback.h"

/* OpenSSL write()s: a peer that closed would raise SIGPIPE (the broker
 * ignores it, broker/main.c; so do these tests). */
__attribute__((constructor)) static void ignore_sigpipe(void)
{
    signal(SIGPIPE, SIG_IGN);
}

typedef struct pem_pair {
    char *key, *cert;
} pem_pair;

static char *bio_str(BIO *b)
{
    char *p;
    long n = BIO_get_mem_data(b, &p);
    char *s = malloc((size_t)n + 1);
    memcpy(s, p, (size_t)n);
    s[n] = 0;
    BIO_free(b);
    return s;
}

/* A self-signed certificate (its own trust anchor) with these SANs. */
static pem_pair make_cert(const char *san)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, k);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"broker", -1, -1, 0);
    X509_set_issuer_name(x, n);
    X509V3_CTX v;
    X509V3_set_ctx_nodb(&v);
    X509V3_set_ctx(&v, x, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v, NID_subject_alt_name, san);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    e = X509V3_EXT_conf_nid(NULL, &v, NID_basic_constraints, "critical,CA:TRUE");
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
    X509_sign(x, k, EVP_sha256());
    BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(kb, k, NULL, NULL, 0, NULL, NULL);
    PEM_write_bio_X509(cb, x);
    EVP_PKEY_free(k);
    X509_free(x);
    return (pem_pair){ bio_str(kb), bio_str(cb) };
}

static void pem_free(pem_pair *p)
{
    free(p->key);
    free(p->cert);
}

typedef struct tpeer {
    int lfd, port;
    bool silent;              /* accept, never speak TLS */
    SSL_CTX *ctx;
    pthread_t th;
} tpeer;

static int ssl_read_full(SSL *s, void *p, int n)
{
    uint8_t *b = p;
    while (n > 0) {
        int r = SSL_read(s, b, n);
        if (r <= 0)
            return -1;
        b += r;
        n -= r;
    }
    return 0;
}

/* Serve one connection: answer every ApiVersions request. */
static void *tpeer_main(void *arg)
{
    tpeer *pe = arg;
    int fd = accept(pe->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    if (pe->silent) {
        uint8_t junk[512];
        while (read(fd, junk, sizeof junk) > 0) {
        }
        close(fd);
        return NULL;
    }
    SSL *s = SSL_new(pe->ctx);
    SSL_set_fd(s, fd);
    if (SSL_accept(s) == 1) {
        uint8_t szb[4];
        while (ssl_read_full(s, szb, 4) == 0) {
            uint32_t size = be32_load(szb);
            if (size > 4096)
                break;
            uint8_t req[4096];
            if (ssl_read_full(s, req, (int)size) < 0)
                break;
            kreq_header h;
            kreq_header_peek(req, size, &h);
            obuf ob;
            obuf_init(&ob);
            kresp_header_write(&ob, kresp_header_version(h.api_key, h.api_version),
                               h.correlation_id);
            api_versions_resp_api_keys keys[1] = { { 18, 0, 3 } };
            api_versions_resp resp;
            kcodec_defaults(&api_versions_resp_schema, &resp);
            resp.api_keys.n = 1;
            resp.api_keys.v = keys;
            kcodec_encode(&api_versions_resp_schema, h.api_version, h.api_version >= 3, &resp, &ob);
            uint8_t out[4096];
            long n = obuf_flatten(&ob, out + 4, sizeof out - 4);
            be32_store(out, (uint32_t)n);
            obuf_free(&ob);
            if (SSL_write(s, out, (int)n + 4) != (int)n + 4)
                break;
        }
    }
    SSL_free(s);
    ERR_clear_error();
    close(fd);
    return NULL;
}

static void tpeer_start(tpeer *pe, SSL_CTX *ctx, bool silent)
{
    memset(pe, 0, sizeof *pe);
    pe->ctx = ctx;
    pe->silent = silent;
    pe->lfd = loopback_listen(&pe->port);
    pthread_create(&pe->th, NULL, tpeer_main, pe);
}

static void tpeer_stop(tpeer *pe)
{
    loopback_close(pe->lfd, pe->th);
}

/* Connect over TLS trusting `trust` and call ApiVersions v3: 0 or the error. */
static int tls_call(tpeer *pe, const char *trust, bool verify_host, int timeout_ms, char *err,
                    size_t errlen)
{
    tls_opts co = { .what = "test client", .truststore_certs = trust };
    kclient_security sec = { .protocol = 1, .verify_hostname = verify_host };
    sec.ssl_ctx = tls_client_ctx_new(&co, err, errlen);
    if (!sec.ssl_ctx)
        return -100;
    kclient c;
    kclient_init(&c, "samsa-broker-tls", 1 << 20);
    kclient_set_security(&c, &sec);
    int rc = kclient_connect(&c, "127.0.0.1", pe->port, timeout_ms, err, errlen);
    if (rc == 0) {
        arena a;
        arena_init(&a, 1 << 20);
        api_versions_req req;
        kcodec_defaults(&api_versions_req_schema, &req);
        req.client_software_name = kstr_c("samsa");
        req.client_software_version = kstr_c("1");
        api_versions_resp resp;
        rc = kclient_call(&c, 18, 3, &req, &a, &resp, 2000, err, errlen);
        if (rc == 0 && (resp.api_keys.n != 1 || resp.api_keys.v[0].max_version != 3))
            rc = -200;
        arena_reset(&a);
    }
    kclient_close(&c);
    SSL_CTX_free(sec.ssl_ctx);
    return rc;
}

TEST(kclient_tls_calls_and_refusals)
{
    pem_pair good = make_cert("IP:127.0.0.1,DNS:localhost");
    pem_pair other = make_cert("IP:127.0.0.1");
    pem_pair wrong_name = make_cert("DNS:elsewhere.example");
    char err[512];

    tls_opts so = { .what = "test peer", .keystore_key = good.key, .keystore_chain = good.cert };
    SSL_CTX *sctx = tls_server_ctx_new(&so, err, sizeof err);
    REQUIRE(sctx != NULL);
    tpeer pe;

    /* trusted, the IP dialled is in the certificate: the call goes through */
    tpeer_start(&pe, sctx, false);
    int rc = tls_call(&pe, good.cert, true, 2000, err, sizeof err);
    if (rc)
        test_fail(__FILE__, __LINE__, "TLS call failed (%d): %s", rc, err);
    tpeer_stop(&pe);

    /* a certificate the client does not trust */
    tpeer_start(&pe, sctx, false);
    CHECK(tls_call(&pe, other.cert, true, 2000, err, sizeof err) != 0);
    CHECK(strstr(err, "TLS handshake failed: certificate verify failed") != NULL);
    CHECK(strstr(err, "127.0.0.1:") != NULL);
    tpeer_stop(&pe);

    /* trusted, but naming another host: refused with https identification
     * only */
    tls_opts wo = { .what = "test peer", .keystore_key = wrong_name.key,
                    .keystore_chain = wrong_name.cert };
    SSL_CTX *wctx = tls_server_ctx_new(&wo, err, sizeof err);
    REQUIRE(wctx != NULL);
    tpeer_start(&pe, wctx, false);
    CHECK(tls_call(&pe, wrong_name.cert, true, 2000, err, sizeof err) != 0);
    CHECK(strstr(err, "mismatch") != NULL);
    tpeer_stop(&pe);
    tpeer_start(&pe, wctx, false);
    rc = tls_call(&pe, wrong_name.cert, false, 2000, err, sizeof err);
    if (rc)
        test_fail(__FILE__, __LINE__, "TLS call without identification failed: %s", err);
    tpeer_stop(&pe);

    /* a peer that never answers the handshake: bounded by the connect timeout */
    tpeer_start(&pe, sctx, true);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK(tls_call(&pe, good.cert, true, 300, err, sizeof err) != 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(took < 1.5);
    CHECK(strstr(err, "TLS handshake: timed out") != NULL);
    tpeer_stop(&pe);

    SSL_CTX_free(sctx);
    SSL_CTX_free(wctx);
    pem_free(&good);
    pem_free(&other);
    pem_free(&wrong_name);
}

TEST(tls_store_errors_name_key_and_file)
{
    char err[512];
    tls_opts o = { .what = "listener SSL", .keystore_location = "/nonexistent/k.pem" };
    CHECK(tls_server_ctx_new(&o, err, sizeof err) == NULL);
    CHECK_STR(err, "listener SSL: ssl.keystore.location=/nonexistent/k.pem: cannot open: "
                   "No such file or directory");
    o = (tls_opts){ .what = "listener SSL", .keystore_type = "JKS", .keystore_location = "/k.jks" };
    CHECK(tls_server_ctx_new(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "ssl.keystore.type=JKS is not supported") != NULL);
    o = (tls_opts){ .what = "listener SSL" };
    CHECK(tls_server_ctx_new(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "no keystore") != NULL);
    pem_pair p = make_cert("IP:127.0.0.1");
    o = (tls_opts){ .what = "listener SSL", .keystore_key = p.key, .keystore_chain = p.cert,
                    .enabled_protocols = "TLSv1.2,SSLv3" };
    CHECK(tls_server_ctx_new(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "ssl.enabled.protocols=TLSv1.2,SSLv3: unknown protocol SSLv3") != NULL);
    o.enabled_protocols = NULL;
    o.cipher_suites = "TLS_NOT_A_SUITE";
    CHECK(tls_server_ctx_new(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "unknown cipher suite TLS_NOT_A_SUITE") != NULL);
    o.cipher_suites = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256";
    SSL_CTX *ctx = tls_server_ctx_new(&o, err, sizeof err);
    if (!ctx)
        test_fail(__FILE__, __LINE__, "Kafka cipher suite names refused: %s", err);
    SSL_CTX_free(ctx);
    o.cipher_suites = NULL;
    o.client_auth = TLS_AUTH_REQUIRED;
    CHECK(tls_server_ctx_new(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "ssl.client.auth=required needs a truststore") != NULL);
    o.keystore_password = "x";
    o.client_auth = TLS_AUTH_NONE;
    CHECK(tls_server_ctx_new(&o, err, sizeof err) == NULL);
    CHECK(strstr(err, "ssl.keystore.password cannot be set with ssl.keystore.type=PEM") != NULL);
    pem_free(&p);
}

/* clustersec's entry point: the inter-broker kclient_security built from a
 * listener's keys in a broker config (listener.name.<l>.ssl.* first). */
TEST(kclient_security_from_listener_keys)
{
    pem_pair good = make_cert("IP:127.0.0.1");
    char err[512], trust[600], ks[600];
    snprintf(trust, sizeof trust, "%s/ca.pem", test_tmpdir());
    snprintf(ks, sizeof ks, "%s/ks.pem", test_tmpdir());
    FILE *f = fopen(trust, "w");
    fputs(good.cert, f);
    fclose(f);
    f = fopen(ks, "w");
    fputs(good.key, f);
    fputs(good.cert, f);
    fclose(f);
    struct broker_config cfg;
    REQUIRE_EQ(broker_config_init(&cfg), 0);
    const char *kv[][2] = {
        { "listeners", "INTERNAL://127.0.0.1:0" },
        { "listener.security.protocol.map", "INTERNAL:SSL" },
        { "ssl.truststore.location", "/nonexistent/overridden-by-the-listener.pem" },
        { "listener.name.internal.ssl.truststore.location", trust },
        { "listener.name.internal.ssl.keystore.location", ks },
    };
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        REQUIRE_EQ(broker_config_set(&cfg, kv[i][0], kv[i][1], CFG_LAYER_OVERRIDE, "test", err,
                                     sizeof err), 0);
    REQUIRE_EQ(broker_config_finish(&cfg, err, sizeof err), 0);
    kclient_security sec;
    int rc = server_tls_kclient_security(&cfg, "INTERNAL", 1, &sec, err, sizeof err);
    if (rc)
        test_fail(__FILE__, __LINE__, "%s", err);
    REQUIRE_EQ(rc, 0);
    CHECK(sec.verify_hostname);          /* ssl.endpoint.identification.algorithm=https */
    tls_opts so = { .what = "test peer", .keystore_key = good.key, .keystore_chain = good.cert };
    SSL_CTX *sctx = tls_server_ctx_new(&so, err, sizeof err);
    REQUIRE(sctx != NULL);
    tpeer pe;
    tpeer_start(&pe, sctx, false);
    kclient c;
    kclient_init(&c, "samsa-broker-tls", 1 << 20);
    kclient_set_security(&c, &sec);
    rc = kclient_connect(&c, "127.0.0.1", pe.port, 2000, err, sizeof err);
    if (rc)
        test_fail(__FILE__, __LINE__, "%s", err);
    kclient_close(&c);
    tpeer_stop(&pe);
    SSL_CTX_free(sctx);
    SSL_CTX_free(sec.ssl_ctx);
    /* PLAINTEXT: no context */
    CHECK_EQ(server_tls_kclient_security(&cfg, "INTERNAL", 0, &sec, err, sizeof err), 0);
    CHECK(sec.ssl_ctx == NULL);
    broker_config_free(&cfg);
    pem_free(&good);
}

/* The principal's DN as Java's X500Principal.getName() prints it (what
 * Kafka's DefaultKafkaPrincipalBuilder uses): RDNs last first, keywords
 * for the RFC 2253 types, escapes, other types as OID=#DER-hex. */
TEST(tls_subject_like_java)
{
    X509 *x = X509_new();
    X509_NAME *n = X509_get_subject_name(x);
    const char *ents[][2] = {
        { "C", "US" }, { "ST", "CA" }, { "L", "Palo Alto" }, { "O", "Acme, Inc." },
        { "OU", "Eng+Ops" }, { "CN", " alice#1 " }, { "emailAddress", "a@b.c" },
    };
    for (size_t i = 0; i < sizeof ents / sizeof *ents; i++)
        X509_NAME_add_entry_by_txt(n, ents[i][0], MBSTRING_UTF8,
                                   (const unsigned char *)ents[i][1], -1, -1, 0);
    char out[512];
    REQUIRE_EQ(tls_subject_rfc2253(x, out, sizeof out), 0);
    CHECK_STR(out, "1.2.840.113549.1.9.1=#16056140622e63,CN=\\ alice#1\\ ,OU=Eng\\+Ops,"
                   "O=Acme\\, Inc.,L=Palo Alto,ST=CA,C=US");
    char tiny[16];
    CHECK_EQ(tls_subject_rfc2253(x, tiny, sizeof tiny), -1);
    X509_free(x);
}
