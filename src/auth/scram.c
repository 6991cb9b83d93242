/*
 * scram.c - SCRAM credentials (RFC 5802 / RFC 7677) and Kafka's stored form.
 *
 *   SaltedPassword = Hi(password, salt, i)      (PBKDF2-HMAC-SHA-256/512)
 *   ClientKey      = HMAC(SaltedPassword, "Client Key")
 *   StoredKey      = H(ClientKey)
 *   ServerKey      = HMAC(SaltedPassword, "Server Key")
 *
 * The stored form is Kafka's ScramCredentialUtils.credentialToString:
 * "salt=<b64>,stored_key=<b64>,server_key=<b64>,iterations=<n>" (standard
 * base64 with padding).  Parsing takes the four keys in any order, each
 * once, nothing else (Kafka: "Credentials not valid").  Bounds: salt 1..
 * SCRAM_MAX_SALT bytes; keys exactly the digest length; iterations
 * SCRAM_MIN_ITERATIONS..SCRAM_MAX_ITERATIONS (Kafka's ScramMechanism
 * minIterations / AlterUserScramCredentials' maximum).  Pure; no logging
 * (a credential is a secret).
 */
#include "auth/scram.h"

#include "auth/base64.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *scram_mech_name(int8_t mech)
{
    switch (mech) {
    case SCRAM_SHA_256: return "SCRAM-SHA-256";
    case SCRAM_SHA_512: return "SCRAM-SHA-512";
    default: return NULL;
    }
}

int8_t scram_mech_parse(const char *name)
{
    if (!name)
        return 0;
    if (!strcmp(name, "SCRAM-SHA-256"))
        return SCRAM_SHA_256;
    if (!strcmp(name, "SCRAM-SHA-512"))
        return SCRAM_SHA_512;
    return 0;
}

size_t scram_digest_len(int8_t mech)
{
    switch (mech) {
    case SCRAM_SHA_256: return 32;
    case SCRAM_SHA_512: return 64;
    default: return 0;
    }
}

static const EVP_MD *md_of(int8_t mech)
{
    switch (mech) {
    case SCRAM_SHA_256: return EVP_sha256();
    case SCRAM_SHA_512: return EVP_sha512();
    default: return NULL;
    }
}

int scram_hi(int8_t mech, const char *password, size_t pw_len, const uint8_t *salt,
             size_t salt_len, int32_t iterations, uint8_t *out)
{
    const EVP_MD *md = md_of(mech);
    if (!md || iterations < 1 || pw_len > INT32_MAX || salt_len > INT32_MAX)
        return -1;
    return PKCS5_PBKDF2_HMAC(password, (int)pw_len, salt, (int)salt_len, iterations, md,
                             (int)scram_digest_len(mech), out) == 1 ? 0 : -1;
}

int scram_hmac(int8_t mech, const uint8_t *key, size_t key_len, const void *msg,
               size_t msg_len, uint8_t *out)
{
    const EVP_MD *md = md_of(mech);
    unsigned int n = 0;
    if (!md || key_len > INT32_MAX)
        return -1;
    if (!HMAC(md, key, (int)key_len, msg, msg_len, out, &n) || n != scram_digest_len(mech))
        return -1;
    return 0;
}

int scram_hash(int8_t mech, const uint8_t *in, size_t n, uint8_t *out)
{
    const EVP_MD *md = md_of(mech);
    unsigned int len = 0;
    if (!md || EVP_Digest(in, n, out, &len, md, NULL) != 1 || len != scram_digest_len(mech))
        return -1;
    return 0;
}

int scram_cred_from_salted(int8_t mech, const uint8_t *salt, size_t salt_len,
                           const uint8_t *salted, size_t salted_len, int32_t iterations,
                           scram_cred *out)
{
    size_t dl = scram_digest_len(mech);
    uint8_t client_key[SCRAM_MAX_DIGEST];
    if (!dl || salted_len != dl || salt_len == 0 || salt_len > SCRAM_MAX_SALT ||
        iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS)
        return -1;
    memset(out, 0, sizeof *out);
    out->mech = mech;
    out->iterations = iterations;
    out->salt_len = salt_len;
    memcpy(out->salt, salt, salt_len);
    int rc = -1;
    if (scram_hmac(mech, salted, dl, "Client Key", 10, client_key) ||
        scram_hash(mech, client_key, dl, out->stored_key) ||
        scram_hmac(mech, salted, dl, "Server Key", 10, out->server_key))
        goto out;
    rc = 0;
out:
    OPENSSL_cleanse(client_key, sizeof client_key);
    return rc;
}

int scram_cred_from_password(int8_t mech, const char *password, const uint8_t *salt,
                             size_t salt_len, int32_t iterations, scram_cred *out)
{
    uint8_t salted[SCRAM_MAX_DIGEST];
    size_t dl = scram_digest_len(mech);
    if (!dl || !password || salt_len == 0 || salt_len > SCRAM_MAX_SALT ||
        iterations < SCRAM_MIN_ITERATIONS || iterations > SCRAM_MAX_ITERATIONS)
        return -1;
    int rc = -1;
    if (scram_hi(mech, password, strlen(password), salt, salt_len, iterations, salted))
        goto out;
    rc = scram_cred_from_salted(mech, salt, salt_len, salted, dl, iterations, out);
out:
    OPENSSL_cleanse(salted, sizeof salted);
    return rc;
}

int scram_cred_format(const scram_cred *c, char *out, size_t cap)
{
    size_t dl = scram_digest_len(c->mech);
    char salt[B64_ENCODED_LEN(SCRAM_MAX_SALT) + 1];
    char sk[B64_ENCODED_LEN(SCRAM_MAX_DIGEST) + 1], vk[B64_ENCODED_LEN(SCRAM_MAX_DIGEST) + 1];
    if (!dl || c->salt_len == 0 || c->salt_len > SCRAM_MAX_SALT ||
        b64_encode(c->salt, c->salt_len, salt, sizeof salt) < 0 ||
        b64_encode(c->stored_key, dl, sk, sizeof sk) < 0 ||
        b64_encode(c->server_key, dl, vk, sizeof vk) < 0)
        return -1;
    int n = snprintf(out, cap, "salt=%s,stored_key=%s,server_key=%s,iterations=%d", salt, sk,
                     vk, (int)c->iterations);
    int rc = n < 0 || (size_t)n >= cap ? -1 : 0;
    OPENSSL_cleanse(sk, sizeof sk);
    OPENSSL_cleanse(vk, sizeof vk);
    return rc;
}

#define SCRAM_CRED_MAX_STR 1024

int scram_cred_parse(int8_t mech, const char *s, scram_cred *out, char *why, size_t wn)
{
    size_t dl = scram_digest_len(mech);
    unsigned seen = 0;   /* bits: salt, stored_key, server_key, iterations */
    scram_cred c;
    memset(&c, 0, sizeof c);
    c.mech = mech;
    if (!dl) {
        snprintf(why, wn, "unknown SCRAM mechanism %d", (int)mech);
        return -1;
    }
    if (!s || strnlen(s, SCRAM_CRED_MAX_STR + 1) > SCRAM_CRED_MAX_STR) {
        snprintf(why, wn, "credential string missing or longer than %d", SCRAM_CRED_MAX_STR);
        return -1;
    }
    const char *p = s;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t tl = end ? (size_t)(end - p) : strlen(p);
        const char *eq = memchr(p, '=', tl);
        if (!eq || eq == p) {
            snprintf(why, wn, "credential field without key=value");
            return -1;
        }
        size_t kl = (size_t)(eq - p);
        const char *v = eq + 1;
        size_t vl = tl - kl - 1;
        unsigned bit;
        long got;
        if (kl == 4 && !memcmp(p, "salt", 4)) {
            bit = 1;
            got = b64_decode(v, vl, c.salt, sizeof c.salt);
            if (got <= 0) {
                snprintf(why, wn, "salt is not base64 of 1..%d bytes", SCRAM_MAX_SALT);
                return -1;
            }
            c.salt_len = (size_t)got;
        } else if ((kl == 10 && !memcmp(p, "stored_key", 10)) ||
                   (kl == 10 && !memcmp(p, "server_key", 10))) {
            bit = p[1] == 't' ? 2 : 4;
            uint8_t *dst = bit == 2 ? c.stored_key : c.server_key;
            got = b64_decode(v, vl, dst, SCRAM_MAX_DIGEST);
            if (got != (long)dl) {
                snprintf(why, wn, "%.*s is not base64 of %zu bytes", (int)kl, p, dl);
                return -1;
            }
        } else if (kl == 10 && !memcmp(p, "iterations", 10)) {
            bit = 8;
            char num[16];
            char *ep;
            if (vl == 0 || vl >= sizeof num) {
                snprintf(why, wn, "iterations is not a number");
                return -1;
            }
            memcpy(num, v, vl);
            num[vl] = '\0';
            long it = strtol(num, &ep, 10);
            if (*ep || num[0] < '0' || num[0] > '9' || it < SCRAM_MIN_ITERATIONS ||
                it > SCRAM_MAX_ITERATIONS) {
                snprintf(why, wn, "iterations must be %d..%d", SCRAM_MIN_ITERATIONS,
                         SCRAM_MAX_ITERATIONS);
                return -1;
            }
            c.iterations = (int32_t)it;
        } else {
            snprintf(why, wn, "unknown credential field '%.*s'", (int)(kl < 32 ? kl : 32), p);
            return -1;
        }
        if (seen & bit) {
            snprintf(why, wn, "credential field '%.*s' repeated", (int)kl, p);
            return -1;
        }
        seen |= bit;
        if (!end)
            break;
        p = end + 1;
    }
    if (seen != 15) {
        snprintf(why, wn, "credential needs salt, stored_key, server_key and iterations");
        return -1;
    }
    *out = c;
    OPENSSL_cleanse(&c, sizeof c);
    return 0;
}
