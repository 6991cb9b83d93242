/* tls.c - see tls.h. */
#include "net/tls.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/log.h"

#define MAX_STORE_BYTES (1 << 20)     /* a key/trust store file larger than this is refused */

int tls_client_auth_parse(const char *s)
{
    if (!s || !strcasecmp(s, "none"))
        return TLS_AUTH_NONE;
    if (!strcasecmp(s, "requested"))
        return TLS_AUTH_REQUESTED;
    if (!strcasecmp(s, "required"))
        return TLS_AUTH_REQUIRED;
    return -1;
}

static bool set(const char *s)
{
    return s && *s;
}

/* The OpenSSL error queue as one short string (and cleared). */
static void ossl_err(char *out, size_t n)
{
    unsigned long e = ERR_peek_last_error();
    if (!e) {
        snprintf(out, n, "unknown error");
    } else {
        const char *r = ERR_reason_error_string(e);
        snprintf(out, n, "%s", r ? r : "error");
    }
    ERR_clear_error();
}

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* A memory BIO with the file's bytes; NULL with err filled. */
static BIO *file_bio(const tls_opts *o, const char *key, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fail(err, errlen, "%s: %s=%s: cannot open: %s", o->what, key, path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(MAX_STORE_BYTES + 1);
    size_t len = buf ? fread(buf, 1, MAX_STORE_BYTES + 1, f) : 0;
    int rd = ferror(f);
    fclose(f);
    BIO *b = NULL;
    if (!buf)
        fail(err, errlen, "%s: out of memory", o->what);
    else if (rd)
        fail(err, errlen, "%s: %s=%s: cannot read", o->what, key, path);
    else if (len > MAX_STORE_BYTES)
        fail(err, errlen, "%s: %s=%s: larger than %d bytes", o->what, key, path, MAX_STORE_BYTES);
    else if (!(b = BIO_new(BIO_s_mem())) || BIO_write(b, buf, (int)len) != (int)len) {
        BIO_free(b);
        b = NULL;
        fail(err, errlen, "%s: out of memory", o->what);
    }
    if (buf) {
        OPENSSL_cleanse(buf, len);      /* may hold a private key */
        free(buf);
    }
    return b;
}

static BIO *str_bio(const char *s)
{
    return BIO_new_mem_buf(s, -1);
}

static int pw_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u;
    if (!pw)
        return 0;
    size_t n = strlen(pw);
    if (n > (size_t)size)
        return 0;
    memcpy(buf, pw, n);
    return (int)n;
}

/* Every PEM certificate in b (in order); NULL if none. */
static STACK_OF(X509) *read_certs(BIO *b)
{
    STACK_OF(X509) *sk = sk_X509_new_null();
    X509 *x;
    while (sk && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
        if (!sk_X509_push(sk, x))
            X509_free(x);
    ERR_clear_error();          /* the read that ended the loop */
    if (sk && sk_X509_num(sk) == 0) {
        sk_X509_free(sk);
        sk = NULL;
    }
    return sk;
}

/* Key + leaf + chain from the keystore settings.  0, 1 when no keystore
 * is configured, -1 with err. */
static int load_keystore(const tls_opts *o, EVP_PKEY **pkey, X509 **cert, STACK_OF(X509) **chain,
                         char *err, size_t errlen)
{
    *pkey = NULL;
    *cert = NULL;
    *chain = NULL;
    const char *type = set(o->keystore_type) ? o->keystore_type : "PEM";
    if (!strcasecmp(type, "JKS"))
        return fail(err, errlen, "%s: ssl.keystore.type=JKS is not supported: convert the keystore "
                    "to PKCS12 (keytool -importkeystore -deststoretype PKCS12) or PEM", o->what);
    bool pem = !strcasecmp(type, "PEM"), p12 = !strcasecmp(type, "PKCS12");
    if (!pem && !p12)
        return fail(err, errlen, "%s: ssl.keystore.type=%s: expected PEM or PKCS12", o->what, type);
    bool inline_pem = set(o->keystore_key) || set(o->keystore_chain);
    if (!set(o->keystore_location) && !inline_pem)
        return 1;
    if (inline_pem && set(o->keystore_location))
        return fail(err, errlen, "%s: set either ssl.keystore.location or ssl.keystore.key with "
                    "ssl.keystore.certificate.chain, not both", o->what);
    if (inline_pem && !pem)
        return fail(err, errlen, "%s: ssl.keystore.key requires ssl.keystore.type=PEM", o->what);
    if (inline_pem && !(set(o->keystore_key) && set(o->keystore_chain)))
        return fail(err, errlen, "%s: ssl.keystore.key and ssl.keystore.certificate.chain must be "
                    "set together", o->what);
    if (pem && set(o->keystore_password))
        return fail(err, errlen, "%s: ssl.keystore.password cannot be set with "
                    "ssl.keystore.type=PEM; only ssl.key.password may be", o->what);
    const char *key = inline_pem ? "ssl.keystore.key" : "ssl.keystore.location";
    const char *src = inline_pem ? "(inline)" : o->keystore_location;
    char why[256];
    if (p12) {
        BIO *b = file_bio(o, key, o->keystore_location, err, errlen);
        if (!b)
            return -1;
        PKCS12 *p = d2i_PKCS12_bio(b, NULL);
        BIO_free(b);
        if (!p) {
            ossl_err(why, sizeof why);
            return fail(err, errlen, "%s: %s=%s: not a PKCS12 file (%s)", o->what, key, src, why);
        }
        int ok = PKCS12_parse(p, o->keystore_password ? o->keystore_password : "", pkey, cert, chain);
        PKCS12_free(p);
        if (!ok || !*pkey || !*cert) {
            ossl_err(why, sizeof why);
            EVP_PKEY_free(*pkey);
            X509_free(*cert);
            sk_X509_pop_free(*chain, X509_free);
            *pkey = NULL, *cert = NULL, *chain = NULL;
            return fail(err, errlen, "%s: %s=%s: cannot read the key and certificate (%s; "
                        "ssl.keystore.password wrong or missing?)", o->what, key, src, why);
        }
        return 0;
    }
    BIO *kb = inline_pem ? str_bio(o->keystore_key) : file_bio(o, key, o->keystore_location, err, errlen);
    if (!kb)
        return inline_pem ? fail(err, errlen, "%s: out of memory", o->what) : -1;
    *pkey = PEM_read_bio_PrivateKey(kb, NULL, pw_cb, (void *)o->key_password);
    if (!*pkey) {
        ossl_err(why, sizeof why);
        BIO_free(kb);
        return fail(err, errlen, "%s: %s=%s: cannot read the private key (%s%s)", o->what, key, src,
                    why, strstr(why, "bad decrypt") || strstr(why, "password") ||
                    strstr(why, "decode") ? "; ssl.key.password wrong or missing?" : "");
    }
    BIO_free(kb);
    BIO *cb;
    if (inline_pem) {
        cb = str_bio(o->keystore_chain);
        key = "ssl.keystore.certificate.chain";
    } else if (!(cb = file_bio(o, key, o->keystore_location, err, errlen))) {
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
        return -1;
    }
    STACK_OF(X509) *all = cb ? read_certs(cb) : NULL;
    BIO_free(cb);
    if (!all) {
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
        return fail(err, errlen, "%s: %s=%s: no PEM certificate found", o->what, key, src);
    }
    *cert = sk_X509_shift(all);
    *chain = all;
    return 0;
}

/* Add the truststore's certificates to ctx's store (and, for a server,
 * to the CA names sent with a certificate request).  0, 1 when none is
 * configured, -1 with err. */
static int load_truststore(const tls_opts *o, SSL_CTX *ctx, bool server, char *err, size_t errlen)
{
    const char *type = set(o->truststore_type) ? o->truststore_type : "PEM";
    if (!strcasecmp(type, "JKS"))
        return fail(err, errlen, "%s: ssl.truststore.type=JKS is not supported: convert the "
                    "truststore to PKCS12 or PEM", o->what);
    if (strcasecmp(type, "PEM") && strcasecmp(type, "PKCS12"))
        return fail(err, errlen, "%s: ssl.truststore.type=%s: expected PEM or PKCS12", o->what, type);
    bool inline_pem = set(o->truststore_certs);
    if (!inline_pem && !set(o->truststore_location))
        return 1;
    if (inline_pem && set(o->truststore_location))
        return fail(err, errlen, "%s: set either ssl.truststore.location or "
                    "ssl.truststore.certificates, not both", o->what);
    const char *key = inline_pem ? "ssl.truststore.certificates" : "ssl.truststore.location";
    const char *src = inline_pem ? "(inline)" : o->truststore_location;
    STACK_OF(X509) *certs = NULL;
    char why[256];
    if (!inline_pem && !strcasecmp(type, "PKCS12")) {
        BIO *b = file_bio(o, key, o->truststore_location, err, errlen);
        if (!b)
            return -1;
        PKCS12 *p = d2i_PKCS12_bio(b, NULL);
        BIO_free(b);
        EVP_PKEY *pk = NULL;
        X509 *x = NULL;
        if (!p || !PKCS12_parse(p, o->truststore_password ? o->truststore_password : "", &pk, &x,
                                &certs)) {
            ossl_err(why, sizeof why);
            PKCS12_free(p);
            return fail(err, errlen, "%s: %s=%s: cannot read the PKCS12 truststore (%s)", o->what,
                        key, src, why);
        }
        PKCS12_free(p);
        EVP_PKEY_free(pk);
        if (x) {
            if (!certs)
                certs = sk_X509_new_null();
            if (!certs || !sk_X509_push(certs, x))
                X509_free(x);
        }
    } else {
        BIO *b = inline_pem ? str_bio(o->truststore_certs)
                            : file_bio(o, key, o->truststore_location, err, errlen);
        if (!b)
            return inline_pem ? fail(err, errlen, "%s: out of memory", o->what) : -1;
        certs = read_certs(b);
        BIO_free(b);
    }
    if (!certs || sk_X509_num(certs) == 0) {
        sk_X509_pop_free(certs, X509_free);
        return fail(err, errlen, "%s: %s=%s: no certificate found", o->what, key, src);
    }
    X509_STORE *st = SSL_CTX_get_cert_store(ctx);
    int rc = 0;
    for (int i = 0; i < sk_X509_num(certs) && !rc; i++) {
        X509 *x = sk_X509_value(certs, i);
        if (!X509_STORE_add_cert(st, x) || (server && !SSL_CTX_add_client_CA(ctx, x))) {
            ossl_err(why, sizeof why);
            rc = fail(err, errlen, "%s: %s=%s: certificate %d not usable (%s)", o->what, key, src,
                      i + 1, why);
        }
    }
    sk_X509_pop_free(certs, X509_free);
    return rc;
}

static int proto_version(const char *s)
{
    static const struct { const char *name; int v; } p[] = {
        { "TLSv1", TLS1_VERSION }, { "TLSv1.1", TLS1_1_VERSION },
        { "TLSv1.2", TLS1_2_VERSION }, { "TLSv1.3", TLS1_3_VERSION },
    };
    for (size_t i = 0; i < sizeof p / sizeof *p; i++)
        if (!strcmp(s, p[i].name))
            return p[i].v;
    return 0;
}

/* Split a comma list into items (trimmed, non-empty), calling fn on each. */
static int each_item(const char *list, int (*fn)(const char *item, void *arg), void *arg)
{
    char item[128];
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        const char *s = p, *e = p + n;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > s) {
            if ((size_t)(e - s) >= sizeof item)
                return -1;
            memcpy(item, s, (size_t)(e - s));
            item[e - s] = 0;
            if (fn(item, arg) < 0)
                return -1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

struct protos { int min, max; const char *bad; char badbuf[128]; };

static int proto_item(const char *item, void *arg)
{
    struct protos *ps = arg;
    int v = proto_version(item);
    if (!v) {
        snprintf(ps->badbuf, sizeof ps->badbuf, "%s", item);
        ps->bad = ps->badbuf;
        return -1;
    }
    if (!ps->min || v < ps->min)
        ps->min = v;
    if (v > ps->max)
        ps->max = v;
    return 0;
}

struct suites { char tls12[2048], tls13[512]; char bad[128]; };

static void append(char *dst, size_t n, const char *s)
{
    size_t l = strlen(dst);
    snprintf(dst + l, n - l, "%s%s", l ? ":" : "", s);
}

static int suite_item(const char *item, void *arg)
{
    struct suites *su = arg;
    if (!strncmp(item, "TLS_AES_", 8) || !strncmp(item, "TLS_CHACHA20_", 13)) {
        append(su->tls13, sizeof su->tls13, item);
        return 0;
    }
    const char *name = OPENSSL_cipher_name(item);       /* IANA/Java name -> OpenSSL's */
    if (!name || !strcmp(name, "(NONE)")) {
        snprintf(su->bad, sizeof su->bad, "%s", item);
        return -1;
    }
    append(su->tls12, sizeof su->tls12, name);
    return 0;
}

/* Protocols, cipher suites and options shared by both sides. */
static int common_setup(const tls_opts *o, SSL_CTX *ctx, char *err, size_t errlen)
{
    struct protos ps = { 0 };
    const char *protos = set(o->enabled_protocols) ? o->enabled_protocols : "TLSv1.2,TLSv1.3";
    if (each_item(protos, proto_item, &ps) < 0 || !ps.min)
        return fail(err, errlen, "%s: ssl.enabled.protocols=%s: unknown protocol %s (expected "
                    "TLSv1.2, TLSv1.3, TLSv1.1 or TLSv1)", o->what, protos, ps.bad ? ps.bad : "(none)");
    if (set(o->cipher_suites)) {
        struct suites su = { "", "", "" };
        if (each_item(o->cipher_suites, suite_item, &su) < 0)
            return fail(err, errlen, "%s: ssl.cipher.suites: unknown cipher suite %s", o->what,
                        su.bad[0] ? su.bad : "(too long)");
        if ((su.tls12[0] && !SSL_CTX_set_cipher_list(ctx, su.tls12)) ||
            !SSL_CTX_set_ciphersuites(ctx, su.tls13))
            return fail(err, errlen, "%s: ssl.cipher.suites=%s: not usable with this OpenSSL",
                        o->what, o->cipher_suites);
        if (!su.tls13[0] && ps.max == TLS1_3_VERSION)
            ps.max = TLS1_2_VERSION;    /* no TLS 1.3 suite named: no TLS 1.3, as in Java */
        if (!su.tls12[0] && ps.min < TLS1_3_VERSION)
            ps.min = TLS1_3_VERSION;
        if (ps.min > ps.max)
            return fail(err, errlen, "%s: ssl.cipher.suites=%s: no suite for the protocols in "
                        "ssl.enabled.protocols=%s", o->what, o->cipher_suites, protos);
    }
    SSL_CTX_set_min_proto_version(ctx, ps.min);
    SSL_CTX_set_max_proto_version(ctx, ps.max);
    /* S-TLS2: no renegotiation; kTLS when the kernel has it (tls.h). */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_ENABLE_KTLS);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    return 0;
}

static int use_keystore(const tls_opts *o, SSL_CTX *ctx, bool required, char *err, size_t errlen)
{
    EVP_PKEY *pkey;
    X509 *cert;
    STACK_OF(X509) *chain;
    int r = load_keystore(o, &pkey, &cert, &chain, err, errlen);
    if (r < 0)
        return -1;
    if (r == 1)
        return required ? fail(err, errlen, "%s: no keystore: set ssl.keystore.location (or "
                               "ssl.keystore.key and ssl.keystore.certificate.chain)", o->what) : 0;
    char why[256];
    int rc = 0;
    if (!SSL_CTX_use_cert_and_key(ctx, cert, pkey, chain, 1)) {
        ossl_err(why, sizeof why);
        rc = fail(err, errlen, "%s: %s: the certificate and the private key cannot be used (%s)",
                  o->what, set(o->keystore_location) ? o->keystore_location : "ssl.keystore.key", why);
    } else if (!SSL_CTX_check_private_key(ctx)) {
        ERR_clear_error();
        rc = fail(err, errlen, "%s: %s: the private key does not match the certificate", o->what,
                  set(o->keystore_location) ? o->keystore_location : "ssl.keystore.key");
    }
    EVP_PKEY_free(pkey);
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    return rc;
}

SSL_CTX *tls_server_ctx_new(const tls_opts *o, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        fail(err, errlen, "%s: cannot create a TLS context", o->what);
        return NULL;
    }
    int auth = o->client_auth;
    if (common_setup(o, ctx, err, errlen) < 0 || use_keystore(o, ctx, true, err, errlen) < 0)
        goto bad;
    int tr = load_truststore(o, ctx, true, err, errlen);
    if (tr < 0)
        goto bad;
    if (tr == 1 && auth != TLS_AUTH_NONE) {
        fail(err, errlen, "%s: ssl.client.auth=%s needs a truststore (ssl.truststore.location or "
             "ssl.truststore.certificates)", o->what, auth == TLS_AUTH_REQUIRED ? "required" : "requested");
        goto bad;
    }
    /* S-TLS3. */
    SSL_CTX_set_verify(ctx, auth == TLS_AUTH_REQUIRED ? SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT
                            : auth == TLS_AUTH_REQUESTED ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_verify_depth(ctx, 10);
    /* No resumption: every connection verifies the client's certificate
     * against the current truststore (and a reloaded keystore applies to
     * every new connection at once). */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    /* An idle connection keeps no record buffers (OpenSSL frees them
     * between records): tens of thousands of idle clients stay cheap. */
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *tls_client_ctx_new(const tls_opts *o, char *err, size_t errlen)
{
    ERR_clear_error();
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        fail(err, errlen, "%s: cannot create a TLS context", o->what);
        return NULL;
    }
    if (common_setup(o, ctx, err, errlen) < 0 || use_keystore(o, ctx, false, err, errlen) < 0)
        goto bad;
    int tr = load_truststore(o, ctx, false, err, errlen);
    if (tr < 0)
        goto bad;
    if (tr == 1)
        SSL_CTX_set_default_verify_paths(ctx);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_verify_depth(ctx, 10);
    return ctx;
bad:
    SSL_CTX_free(ctx);
    return NULL;
}

void tls_ctx_describe(SSL_CTX *ctx, char *out, size_t n)
{
    X509 *x = ctx ? SSL_CTX_get0_certificate(ctx) : NULL;
    if (!x) {
        snprintf(out, n, "no certificate");
        return;
    }
    char subj[256] = "?", serial[80] = "?";
    if (tls_subject_rfc2253(x, subj, sizeof subj) < 0)
        snprintf(subj, sizeof subj, "(longer than %zu bytes)", sizeof subj);
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    if (hex)
        snprintf(serial, sizeof serial, "%s", hex);
    OPENSSL_free(hex);
    BN_free(bn);
    snprintf(out, n, "subject %s, serial %s", subj, serial);
}

/* Bounded append for the DN printer; false once out is full. */
struct dnbuf {
    char *p;
    size_t n, len;
    bool full;
};

static void dn_put(struct dnbuf *b, const char *s, size_t k)
{
    if (b->full || b->len + k >= b->n) {
        b->full = true;
        return;
    }
    memcpy(b->p + b->len, s, k);
    b->len += k;
    b->p[b->len] = 0;
}

/* One attribute as Java's X500Principal.getName() (RFC 2253) prints it:
 * the RFC 2253 keywords (CN, C, L, ST, O, OU, STREET, DC, UID) with the
 * value as UTF-8 text, escaped; any other type as its OID and "#" + the
 * value's DER in lower-case hex (so emailAddress is
 * 1.2.840.113549.1.9.1=#16...). */
static void dn_ava(struct dnbuf *b, const X509_NAME_ENTRY *e)
{
    static const struct { int nid; const char *kw; } kws[] = {
        { NID_commonName, "CN" }, { NID_countryName, "C" }, { NID_localityName, "L" },
        { NID_stateOrProvinceName, "ST" }, { NID_organizationName, "O" },
        { NID_organizationalUnitName, "OU" }, { NID_streetAddress, "STREET" },
        { NID_domainComponent, "DC" }, { NID_userId, "UID" },
    };
    const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(e);
    const ASN1_STRING *v = X509_NAME_ENTRY_get_data(e);
    int nid = OBJ_obj2nid(obj);
    const char *kw = NULL;
    for (size_t i = 0; i < sizeof kws / sizeof *kws; i++)
        if (kws[i].nid == nid)
            kw = kws[i].kw;
    unsigned char *utf8 = NULL;
    int ulen = kw ? ASN1_STRING_to_UTF8(&utf8, v) : -1;
    if (ulen < 0) {
        char oid[128];
        OBJ_obj2txt(oid, sizeof oid, obj, 1);
        dn_put(b, oid, strlen(oid));
        dn_put(b, "=#", 2);
        unsigned char *der = NULL;
        int dl = i2d_ASN1_TYPE(&(ASN1_TYPE){ .type = ASN1_STRING_type(v),
                                             .value.asn1_string = (ASN1_STRING *)v }, &der);
        for (int i = 0; i < dl; i++) {
            char hx[3];
            snprintf(hx, sizeof hx, "%02x", der[i]);
            dn_put(b, hx, 2);
        }
        OPENSSL_free(der);
        return;
    }
    dn_put(b, kw, strlen(kw));
    dn_put(b, "=", 1);
    for (int i = 0; i < ulen; i++) {
        char ch = (char)utf8[i];
        bool esc = (ch && strchr(",+\"<>;\\", ch)) ||
                   (i == 0 && (ch == '#' || ch == ' ')) || (i == ulen - 1 && ch == ' ');
        if (esc)
            dn_put(b, "\\", 1);
        dn_put(b, &ch, 1);
    }
    OPENSSL_free(utf8);
}

int tls_subject_rfc2253(X509 *x, char *out, size_t n)
{
    if (!n)
        return -1;
    out[0] = 0;
    struct dnbuf b = { out, n, 0, false };
    const X509_NAME *name = X509_get_subject_name(x);
    int cnt = X509_NAME_entry_count(name);
    /* RDNs last first; the attributes of a multi-valued RDN joined by "+". */
    for (int i = cnt - 1; i >= 0; i--) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
        int set = X509_NAME_ENTRY_set(e);
        int first = i;
        while (first > 0 && X509_NAME_ENTRY_set(X509_NAME_get_entry(name, first - 1)) == set)
            first--;
        if (b.len)
            dn_put(&b, ",", 1);
        for (int k = first; k <= i; k++) {
            if (k > first)
                dn_put(&b, "+", 1);
            dn_ava(&b, X509_NAME_get_entry(name, k));
        }
        i = first;
    }
    return b.full ? -1 : 0;
}

int tls_peer_subject(SSL *ssl, char *out, size_t n)
{
    X509 *x = SSL_get0_peer_certificate(ssl);
    if (!x)
        return 1;
    int rc = tls_subject_rfc2253(x, out, n);
    ERR_clear_error();
    return rc;
}

void tls_error_text(SSL *ssl, int ret, int e, char *out, size_t n)
{
    unsigned long q = ERR_peek_last_error();
    long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
    if (vr != X509_V_OK && q) {
        const char *r = ERR_reason_error_string(q);
        snprintf(out, n, "%s (%s)", r ? r : "error", X509_verify_cert_error_string(vr));
    } else if (q) {
        const char *r = ERR_reason_error_string(q);
        snprintf(out, n, "%s", r ? r : "error");
    } else if (e == SSL_ERROR_SYSCALL) {
        snprintf(out, n, "%s", ret == 0 || errno == 0 ? "peer closed the connection" : strerror(errno));
    } else if (e == SSL_ERROR_ZERO_RETURN) {
        snprintf(out, n, "peer closed the TLS session");
    } else {
        snprintf(out, n, "TLS error %d", e);
    }
    ERR_clear_error();
}

bool tls_ktls_send(SSL *ssl)
{
    return BIO_get_ktls_send(SSL_get_wbio(ssl)) > 0;
}

void tls_log_send_path_once(SSL *ssl)
{
    static atomic_bool logged;
    if (atomic_exchange(&logged, true))
        return;
    if (tls_ktls_send(ssl))
        LOG_INF("tls", "file data over TLS: kernel TLS, SSL_sendfile (zero copy)");
    else
        LOG_INF("tls", "file data over TLS: kernel TLS not in use (no tls module in this kernel, or "
                "the cipher is not offloadable): read into a 16 KiB buffer and SSL_write");
}
