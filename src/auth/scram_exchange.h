/*
 * scram_exchange.h - the SCRAM message exchange (RFC 5802), both sides,
 * as Kafka speaks it (ScramSaslServer / ScramSaslClient, ScramMessages).
 *
 *   client-first   n,[a=<authzid>],n=<saslname>,r=<cnonce>[,<ext>=<v>]*
 *   server-first   r=<cnonce><snonce>,s=<b64 salt>,i=<iterations>
 *   client-final   c=<b64 gs2 header>,r=<nonce>,p=<b64 proof>
 *   server-final   v=<b64 server signature>   (or e=<error>, client side)
 *
 * Only the "n" GS2 flag (no channel binding) is accepted, as Kafka.
 * Extensions: "tokenauth" (delegation tokens) is recognised and reported;
 * any other well-formed extension is ignored, as Kafka's ScramSaslServer
 * ignores them.  Every field is
 * bounded (SCRAM_MAX_MSG for a message, SCRAM_MAX_NAME for a name) and
 * the proof is compared in constant time (CRYPTO_memcmp).  No message or
 * secret is logged here; the caller decides what to say.
 *
 * Server use (one struct per connection, loop thread):
 *   scram_server_init(&s, mech);
 *   scram_server_client_first(&s, msg, len)  -> s.user (unescaped), s.authzid
 *   caller looks up the credential of s.user (server_ops.scram_lookup)
 *   scram_server_first(&s, &cred, out, cap)  -> server-first message
 *   scram_server_final(&s, msg, len, out, cap) -> server-final "v=..."
 * Client use: scram_client_init, scram_client_first, scram_client_final,
 * scram_client_verify (rpc/kclient_sasl.c, bench, CLI).
 * scram_*_clear() wipes the keys; call it when done either way.
 */
#ifndef SAMSA_AUTH_SCRAM_EXCHANGE_H
#define SAMSA_AUTH_SCRAM_EXCHANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth/scram.h"

#define SCRAM_MAX_MSG 1024        /* any one SCRAM message, bytes */
#define SCRAM_MAX_NAME 256        /* a user name or authzid, unescaped, with NUL */
#define SCRAM_MAX_NONCE 256       /* client + server nonce, with NUL */
#define SCRAM_SERVER_NONCE_BYTES 24

/* Result codes: 0 = ok; the others say which Kafka answer fits. */
enum scram_rc {
    SCRAM_OK = 0,
    SCRAM_EMALFORMED = -1,        /* a message that does not parse */
    SCRAM_EAUTH = -3,             /* wrong proof, unknown user, nonce mismatch */
    SCRAM_ESTATE = -4,            /* called out of order */
    SCRAM_EINTERNAL = -5,         /* OpenSSL / RNG failure */
};

typedef struct scram_server {
    int8_t mech;
    int state;                    /* 0 client-first, 1 client-final, 2 done, 3 failed */
    char user[SCRAM_MAX_NAME];    /* saslname unescaped (=2C -> ',', =3D -> '=') */
    char authzid[SCRAM_MAX_NAME]; /* "" when the client sent none */
    bool tokenauth;               /* extension tokenauth=true */
    char gs2[SCRAM_MAX_NAME + 8]; /* the GS2 header, for the c= check */
    char client_first_bare[SCRAM_MAX_MSG];
    char server_first[SCRAM_MAX_MSG];
    char nonce[SCRAM_MAX_NONCE];  /* client nonce + server nonce */
    scram_cred cred;
} scram_server;

void scram_server_init(scram_server *s, int8_t mech);
int scram_server_client_first(scram_server *s, const uint8_t *msg, size_t len);
/* Returns the server-first length or a negative scram_rc.  cred NULL =
 * unknown user (SCRAM_EAUTH, as Kafka: no server-first is sent). */
long scram_server_first(scram_server *s, const scram_cred *cred, char *out, size_t cap);
/* Verifies the proof; returns the server-final length or a negative rc. */
long scram_server_final(scram_server *s, const uint8_t *msg, size_t len, char *out, size_t cap);
void scram_server_clear(scram_server *s);

typedef struct scram_client {
    int8_t mech;
    int state;                    /* 0 first, 1 final, 2 verify, 3 done */
    char password[SCRAM_MAX_NAME];
    char client_first_bare[SCRAM_MAX_MSG];
    char cnonce[64];
    uint8_t server_sig[SCRAM_MAX_DIGEST];
} scram_client;

/* extensions: "" or ",tokenauth=true" (appended verbatim after the nonce). */
int scram_client_init(scram_client *c, int8_t mech, const char *password);
long scram_client_first(scram_client *c, const char *user, const char *extensions, char *out,
                        size_t cap);
/* The server-first message in, the client-final out.  Refuses a nonce that
 * does not extend ours and iterations outside SCRAM_MIN..MAX_ITERATIONS. */
long scram_client_final(scram_client *c, const uint8_t *msg, size_t len, char *out, size_t cap);
/* The server-final message: 0 when the signature matches; otherwise
 * SCRAM_EAUTH with the server's e= text (if any) in why. */
int scram_client_verify(scram_client *c, const uint8_t *msg, size_t len, char *why, size_t wn);
void scram_client_clear(scram_client *c);

/* saslname escaping (RFC 5802 5.1): ',' -> "=2C", '=' -> "=3D".  Unescape
 * returns -1 on a bad escape, a ',' or a NUL, or overflow. */
int scram_saslname_escape(const char *name, char *out, size_t cap);
int scram_saslname_unescape(const char *in, size_t len, char *out, size_t cap);

#endif
