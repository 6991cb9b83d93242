/* server_tls.c - see server_tls.h. */
#include "server/server_tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "auth/ssl_mapper.h"
#include "config/config.h"
#include "core/log.h"
#include "rpc/kclient.h"

struct server_tls {
    pthread_mutex_t mu;            /* guards ctx */
    SSL_CTX *ctx;
    ssl_mapper *mapper;            /* SSL listeners: ssl.principal.mapping.rules (read-only key) */
    int64_t handshake_ms;
    bool sasl;                     /* SASL_SSL (KIP-684 for ssl.client.auth) */
    unsigned char fp[32];          /* digest of the settings ctx was built from */
    char name[64];
};

/* Every TLS key a context depends on (the order of tls_opts). */
static const char *const keys[] = {
    "ssl.keystore.type", "ssl.keystore.location", "ssl.keystore.password", "ssl.key.password",
    "ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.type",
    "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.certificates",
    "ssl.enabled.protocols", "ssl.cipher.suites", "ssl.client.auth",
};
#define NKEYS (sizeof keys / sizeof *keys)

static void opts_for(const struct broker_config *cfg, const char *listener, bool sasl,
                     tls_opts *o, char *what, size_t whatlen)
{
    const char *v[NKEYS];
    for (size_t i = 0; i < NKEYS; i++)
        v[i] = broker_config_listener_value(cfg, listener, keys[i]);
    /* KIP-684: on SASL_SSL, ssl.client.auth applies only when set with the
     * listener prefix (SASL authenticates; a certificate is not asked for). */
    if (sasl && v[12] == broker_config_listener_value(cfg, NULL, "ssl.client.auth"))
        v[12] = "none";
    snprintf(what, whatlen, "listener %s", listener);
    *o = (tls_opts){ .what = what, .keystore_type = v[0], .keystore_location = v[1],
                     .keystore_password = v[2], .key_password = v[3], .keystore_key = v[4],
                     .keystore_chain = v[5], .truststore_type = v[6], .truststore_location = v[7],
                     .truststore_password = v[8], .truststore_certs = v[9],
                     .enabled_protocols = v[10], .cipher_suites = v[11],
                     .client_auth = tls_client_auth_parse(v[12]) };
    if (o->client_auth < 0)
        o->client_auth = TLS_AUTH_NONE;     /* the table's enum has already refused it */
}

/* A digest of the listener's TLS settings and of its store files' size and
 * modification time (so setting the same path again after replacing the
 * file reloads it).  Only the digest is kept: no secret stays around. */
static void fingerprint(const struct broker_config *cfg, const char *listener, unsigned char out[32])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 32;
    memset(out, 0, 32);
    if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(md);
        return;
    }
    for (size_t i = 0; i < NKEYS; i++) {
        const char *v = broker_config_listener_value(cfg, listener, keys[i]);
        EVP_DigestUpdate(md, v ? v : "\1null", strlen(v ? v : "\1null") + 1);
        struct stat st;
        if (v && (!strcmp(keys[i], "ssl.keystore.location") ||
                  !strcmp(keys[i], "ssl.truststore.location")) && stat(v, &st) == 0) {
            long long f[3] = { (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                               (long long)st.st_mtim.tv_nsec };
            EVP_DigestUpdate(md, f, sizeof f);
        }
    }
    EVP_DigestFinal_ex(md, out, &len);
    EVP_MD_CTX_free(md);
}

static bool is_tls(const endpoint *e)
{
    return e->secproto == 1 || e->secproto == 3;       /* SSL, SASL_SSL */
}

static void describe(SSL_CTX *ctx, char *out, size_t n)
{
    tls_ctx_describe(ctx, out, n);
}

int server_tls_init(server *s, char *err, size_t errlen)
{
    const struct broker_config *cfg = s->ops->config(s->ctx);
    for (int i = 0; i < s->nlisteners; i++) {
        const endpoint *e = &s->listen[i];
        if (!is_tls(e))
            continue;
        struct server_tls *t = calloc(1, sizeof *t);
        if (!t) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        pthread_mutex_init(&t->mu, NULL);
        snprintf(t->name, sizeof t->name, "%s", e->name);
        t->sasl = e->secproto == 3;
        s->tls[i] = t;
        tls_opts o;
        char what[96], why[256];
        opts_for(cfg, e->name, e->secproto == 3, &o, what, sizeof what);
        char e2[512];
        if (!(t->ctx = tls_server_ctx_new(&o, e2, sizeof e2))) {
            snprintf(err, errlen, "config error: %s", e2);
            return -1;
        }
        const char *rules = broker_config_listener_value(cfg, e->name, "ssl.principal.mapping.rules");
        if (!(t->mapper = ssl_mapper_parse(rules, why, sizeof why))) {
            snprintf(err, errlen, "config error: ssl.principal.mapping.rules: %s", why);
            return -1;
        }
        const char *hs = broker_config_listener_value(cfg, e->name, "samsa.ssl.handshake.timeout.ms");
        t->handshake_ms = hs ? atoll(hs) : 10000;
        fingerprint(cfg, e->name, t->fp);
        char desc[384];
        describe(t->ctx, desc, sizeof desc);
        LOG_INF("tls", "listener %s: TLS with %s; ssl.client.auth=%s", e->name, desc,
                o.client_auth == TLS_AUTH_REQUIRED ? "required" :
                o.client_auth == TLS_AUTH_REQUESTED ? "requested" : "none");
    }
    return 0;
}

/* The certificate's subject and its SANs as text, for S-TLS7's checks. */
static void cert_ids(SSL_CTX *ctx, char *dn, size_t dnlen, char *sans, size_t sanlen)
{
    dn[0] = sans[0] = 0;
    X509 *x = ctx ? SSL_CTX_get0_certificate(ctx) : NULL;
    if (!x)
        return;
    X509_NAME_oneline(X509_get_subject_name(x), dn, (int)dnlen);
    GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    size_t len = 0;
    for (int i = 0; g && i < sk_GENERAL_NAME_num(g); i++) {
        GENERAL_NAME *n = sk_GENERAL_NAME_value(g, i);
        int type;
        ASN1_STRING *v = GENERAL_NAME_get0_value(n, &type);
        if (!v)
            continue;
        int k = snprintf(sans + len, sanlen - len, "%d:%.*s;", type, ASN1_STRING_length(v),
                         (const char *)ASN1_STRING_get0_data(v));
        if (k < 0 || (size_t)k >= sanlen - len)
            break;
        len += (size_t)k;
    }
    GENERAL_NAMES_free(g);
}

int server_tls_update(server *s, const struct broker_config *next, bool dry_run, char *err,
                      size_t errlen)
{
    SSL_CTX *made[MAX_LISTENERS] = { 0 };
    unsigned char fps[MAX_LISTENERS][32];
    int rc = 0;
    for (int i = 0; i < s->nlisteners && !rc; i++) {
        struct server_tls *t = s->tls[i];
        if (!t)
            continue;
        fingerprint(next, t->name, fps[i]);
        if (!memcmp(fps[i], t->fp, 32))
            continue;
        tls_opts o;
        char what[96], e[512];
        opts_for(next, t->name, t->sasl, &o, what, sizeof what);
        /* S-TLS7: the new context is complete before anything changes. */
        if (!(made[i] = tls_server_ctx_new(&o, e, sizeof e))) {
            snprintf(err, errlen, "Validation of dynamic config update of SSLFactory failed: %s", e);
            rc = -1;
            break;
        }
        char odn[512], osan[1024], ndn[512], nsan[1024];
        pthread_mutex_lock(&t->mu);
        cert_ids(t->ctx, odn, sizeof odn, osan, sizeof osan);
        pthread_mutex_unlock(&t->mu);
        cert_ids(made[i], ndn, sizeof ndn, nsan, sizeof nsan);
        const char *adn = broker_config_listener_value(next, t->name, "ssl.allow.dn.changes");
        const char *asan = broker_config_listener_value(next, t->name, "ssl.allow.san.changes");
        if (strcmp(odn, ndn) && !(adn && !strcmp(adn, "true"))) {
            snprintf(err, errlen, "Validation of dynamic config update of SSLFactory failed: "
                     "listener %s: Keystore DistinguishedName does not match: existing=%s, new=%s "
                     "(ssl.allow.dn.changes=false)", t->name, odn, ndn);
            rc = -1;
        } else if (strcmp(osan, nsan) && !(asan && !strcmp(asan, "true"))) {
            snprintf(err, errlen, "Validation of dynamic config update of SSLFactory failed: "
                     "listener %s: Keystore SubjectAltNames do not match "
                     "(ssl.allow.san.changes=false)", t->name);
            rc = -1;
        }
    }
    for (int i = 0; i < s->nlisteners; i++) {
        if (!made[i])
            continue;
        if (rc || dry_run) {
            SSL_CTX_free(made[i]);
            continue;
        }
        struct server_tls *t = s->tls[i];
        char desc[384];
        describe(made[i], desc, sizeof desc);
        pthread_mutex_lock(&t->mu);
        SSL_CTX *old = t->ctx;
        t->ctx = made[i];
        memcpy(t->fp, fps[i], 32);
        pthread_mutex_unlock(&t->mu);
        SSL_CTX_free(old);          /* sessions made from it keep their own reference */
        LOG_INF("tls", "listener %s: TLS settings reloaded for new connections: %s", t->name, desc);
    }
    return rc;
}

void server_tls_free(server *s)
{
    for (int i = 0; i < MAX_LISTENERS; i++) {
        struct server_tls *t = s->tls[i];
        if (!t)
            continue;
        SSL_CTX_free(t->ctx);
        ssl_mapper_free(t->mapper);
        pthread_mutex_destroy(&t->mu);
        free(t);
        s->tls[i] = NULL;
    }
}

SSL_CTX *server_tls_ctx_ref(server *s, int i)
{
    struct server_tls *t = i >= 0 && i < MAX_LISTENERS ? s->tls[i] : NULL;
    if (!t)
        return NULL;
    pthread_mutex_lock(&t->mu);
    SSL_CTX *ctx = t->ctx;
    SSL_CTX_up_ref(ctx);
    pthread_mutex_unlock(&t->mu);
    return ctx;
}

int64_t server_tls_handshake_ms(const server *s, int i)
{
    return s->tls[i] ? s->tls[i]->handshake_ms : 10000;
}

int server_tls_principal(server *s, int i, SSL *ssl, kprincipal *out, char *why, size_t whylen)
{
    struct server_tls *t = s->tls[i];
    char dn[KPRINCIPAL_NAME_MAX], name[KPRINCIPAL_NAME_MAX];
    int r = tls_peer_subject(ssl, dn, sizeof dn);
    if (r == 1) {
        kprincipal_anonymous(out);
        return 0;
    }
    if (r < 0) {
        snprintf(why, whylen, "the client certificate's subject cannot be read or is too long");
        return -1;
    }
    if (ssl_mapper_map(t->mapper, dn, name, sizeof name) < 0) {
        snprintf(why, whylen, "ssl.principal.mapping.rules: %s", name);
        return -1;
    }
    kprincipal_set(out, "User", name);
    return 0;
}

SSL_CTX *server_tls_client_ctx(const struct broker_config *cfg, const char *listener,
                               bool *verify_hostname, char *err, size_t errlen)
{
    tls_opts o;
    char what[96];
    opts_for(cfg, listener, false, &o, what, sizeof what);
    const char *alg = broker_config_listener_value(cfg, listener, "ssl.endpoint.identification.algorithm");
    if (verify_hostname)
        *verify_hostname = alg && !strcasecmp(alg, "https");
    return tls_client_ctx_new(&o, err, errlen);
}

int server_tls_kclient_security(const struct broker_config *cfg, const char *listener,
                                int8_t secproto, struct kclient_security *out, char *err,
                                size_t errlen)
{
    out->protocol = secproto;
    out->ssl_ctx = NULL;
    out->verify_hostname = false;
    if (secproto != 1 && secproto != 3)
        return 0;
    out->ssl_ctx = server_tls_client_ctx(cfg, listener, &out->verify_hostname, err, errlen);
    return out->ssl_ctx ? 0 : -1;
}
