/*
 * tls.h - OpenSSL contexts built from Kafka's ssl.* settings, and the few
 * helpers the connection code needs (peer subject, errors, kTLS).
 *
 * A listener's settings arrive as strings (tls_opts; the server layer
 * resolves listener.name.<l>.ssl.* over ssl.* from the config) and become
 * one SSL_CTX: tls_server_ctx_new for SSL / SASL_SSL listeners,
 * tls_client_ctx_new for the broker's own connections to other brokers
 * (kclient) - the same keys, the truststore verifying the peer and the
 * keystore (if any) as the client certificate.
 *
 * Stores (docs/security.md "TLS"):
 *   ssl.keystore.type      PEM (default here; Kafka's is JKS) or PKCS12; JKS is refused
 *   PEM keystore           ssl.keystore.location: one file with the private key (optionally
 *                          encrypted, ssl.key.password) and the certificate chain, leaf
 *                          first; or inline ssl.keystore.key + ssl.keystore.certificate.chain.
 *                          ssl.keystore.password must not be set (Kafka refuses it too).
 *   PKCS12 keystore        ssl.keystore.location + ssl.keystore.password
 *   truststore             ssl.truststore.location (PEM file of CA certificates, or PKCS12
 *                          with ssl.truststore.password) or inline ssl.truststore.certificates
 *
 * Invariants (S-TLS numbering; docs/security.md lists them all):
 *   S-TLS1  A context is built completely or not at all: every failure is one
 *           line naming the listener, the key and the file, and no half-made
 *           context is ever used (startup stops; a dynamic change is refused).
 *   S-TLS2  Only TLS 1.2 and 1.3 unless ssl.enabled.protocols names older
 *           ones; renegotiation is off; compression is off (OpenSSL default).
 *   S-TLS3  ssl.client.auth=required: a client without a certificate, or with
 *           one that does not chain to the truststore or is outside its
 *           validity, fails the handshake (SSL_VERIFY_FAIL_IF_NO_PEER_CERT).
 *           requested: a certificate is asked for and, when sent, verified
 *           the same way; none = not asked for.
 *
 * Threads: building a context touches only its arguments; an SSL_CTX is
 * reference counted and shared read-only by the SSL sessions made from it.
 */
#ifndef SAMSA_NET_TLS_H
#define SAMSA_NET_TLS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/ssl.h>

enum tls_client_auth { TLS_AUTH_NONE = 0, TLS_AUTH_REQUESTED = 1, TLS_AUTH_REQUIRED = 2 };

/* Kafka's values, already resolved for one listener; NULL = not set. */
typedef struct tls_opts {
    const char *what;                 /* "listener SSL", for messages */
    const char *keystore_type;        /* PEM | PKCS12 | JKS (refused) */
    const char *keystore_location;
    const char *keystore_password;
    const char *key_password;         /* ssl.key.password */
    const char *keystore_key;         /* inline PEM private key */
    const char *keystore_chain;       /* inline PEM certificate chain */
    const char *truststore_type;
    const char *truststore_location;
    const char *truststore_password;
    const char *truststore_certs;     /* inline PEM certificates */
    const char *enabled_protocols;    /* "TLSv1.2,TLSv1.3" */
    const char *cipher_suites;        /* Kafka/IANA names, comma-separated; empty = defaults */
    int client_auth;                  /* enum tls_client_auth (servers) */
} tls_opts;

/* "none" / "requested" / "required" -> enum tls_client_auth, -1 if none of them. */
int tls_client_auth_parse(const char *s);

/* A server context (SSL / SASL_SSL listener).  NULL with a one-line
 * message in err (S-TLS1). */
SSL_CTX *tls_server_ctx_new(const tls_opts *o, char *err, size_t errlen);
/* A client context: verifies the server against the truststore (the
 * system's CAs when none is set), presents the keystore's certificate when
 * one is set.  Hostname checks are per connection (SSL_set1_host). */
SSL_CTX *tls_client_ctx_new(const tls_opts *o, char *err, size_t errlen);

/* "subject=..., serial=..." of ctx's own certificate, for logs. */
void tls_ctx_describe(SSL_CTX *ctx, char *out, size_t n);

/* The peer certificate's subject DN in RFC 2253 form (Java's
 * X500Principal.getName(): "CN=alice,O=Samsa,C=US").  0; 1 when the peer
 * sent no certificate; -1 when it does not fit or cannot be printed. */
int tls_peer_subject(SSL *ssl, char *out, size_t n);
/* The same for any certificate: 0, or -1 when it does not fit in n.
 * Java's rules: RDNs last first, RFC 2253 keywords (CN, C, L, ST, O, OU,
 * STREET, DC, UID) with escaped UTF-8 values, other attributes as
 * OID=#<DER hex> (emailAddress: 1.2.840.113549.1.9.1=#16...). */
int tls_subject_rfc2253(X509 *x, char *out, size_t n);

/* Why the last SSL_* call on ssl returned ret (SSL_get_error code e):
 * the OpenSSL error queue, the certificate verification result, or the
 * errno.  Clears the thread's error queue. */
void tls_error_text(SSL *ssl, int ret, int e, char *out, size_t n);

/* Does this session send through kernel TLS (SSL_sendfile possible)? */
bool tls_ktls_send(SSL *ssl);
/* Log, once per process, which path file chunks take over TLS. */
void tls_log_send_path_once(SSL *ssl);

#endif
