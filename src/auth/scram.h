/*
 * scram.h - SCRAM credentials (RFC 5802, RFC 7677) as Kafka stores them.
 *
 * A credential is the salt, the stored key H(HMAC(SaltedPassword,
 * "Client Key")), the server key HMAC(SaltedPassword, "Server Key") and
 * the iteration count: never the password.  Kafka's stored string form
 * (the value of "SCRAM-SHA-256" in /config/users/<user>) is
 * "salt=<base64>,stored_key=<base64>,server_key=<base64>,iterations=<n>".
 * Mechanism numbers are Kafka's ScramMechanism ids (the wire values of
 * Describe/AlterUserScramCredentials).  Pure functions over OpenSSL.
 */
#ifndef SAMSA_AUTH_SCRAM_H
#define SAMSA_AUTH_SCRAM_H

#include <stddef.h>
#include <stdint.h>

#define SCRAM_SHA_256 1
#define SCRAM_SHA_512 2
#define SCRAM_MAX_DIGEST 64
#define SCRAM_MAX_SALT 128
/* Kafka's bounds for a stored credential's iterations. */
#define SCRAM_MIN_ITERATIONS 4096
#define SCRAM_MAX_ITERATIONS 16384

typedef struct scram_cred {
    int8_t mech;                         /* SCRAM_SHA_256 or SCRAM_SHA_512 */
    int32_t iterations;
    size_t salt_len;
    uint8_t salt[SCRAM_MAX_SALT];
    uint8_t stored_key[SCRAM_MAX_DIGEST];  /* scram_digest_len(mech) bytes */
    uint8_t server_key[SCRAM_MAX_DIGEST];
} scram_cred;

/* "SCRAM-SHA-256" / "SCRAM-SHA-512"; NULL for anything else. */
const char *scram_mech_name(int8_t mech);
/* The mechanism for a name (case-sensitive, as Kafka), or 0. */
int8_t scram_mech_parse(const char *name);
/* 32 or 64; 0 for an unknown mechanism. */
size_t scram_digest_len(int8_t mech);

/* The credential for a salted password (Hi(password, salt, i), as
 * AlterUserScramCredentials carries it) or for a password.  0, or -1 on a
 * bad mechanism, salt length or iteration count. */
int scram_cred_from_salted(int8_t mech, const uint8_t *salt, size_t salt_len,
                           const uint8_t *salted, size_t salted_len, int32_t iterations,
                           scram_cred *out);
int scram_cred_from_password(int8_t mech, const char *password, const uint8_t *salt,
                             size_t salt_len, int32_t iterations, scram_cred *out);

/* Kafka's stored string form; 0, or -1 when cap is too small. */
int scram_cred_format(const scram_cred *c, char *out, size_t cap);
/* Parse it for mechanism `mech`; 0, or -1 with the reason in why. */
int scram_cred_parse(int8_t mech, const char *s, scram_cred *out, char *why, size_t wn);

/* The primitives under the credential and the exchange (auth/scram_exchange.c):
 * Hi() = PBKDF2-HMAC, HMAC and H for the mechanism's digest.  Each returns
 * 0, or -1 on a bad mechanism or an OpenSSL failure; out holds
 * scram_digest_len(mech) bytes. */
int scram_hi(int8_t mech, const char *password, size_t pw_len, const uint8_t *salt,
             size_t salt_len, int32_t iterations, uint8_t *out);
int scram_hmac(int8_t mech, const uint8_t *key, size_t key_len, const void *msg,
               size_t msg_len, uint8_t *out);
int scram_hash(int8_t mech, const uint8_t *in, size_t n, uint8_t *out);

#endif
