/*
 * plain.c - SASL/PLAIN (see plain.h).
 *
 *   S-SASL4  A PLAIN password is compared as SHA-256 digests with
 *            CRYPTO_memcmp, so neither its bytes nor its length leak
 *            through timing; the token copy is wiped before returning.
 */
#include "auth/plain.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

static int digest(const char *s, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    return EVP_Digest(s, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : -1;
}

int plain_authenticate(const jaas_config *users, const uint8_t *tok, size_t len, char *user,
                       size_t ucap, const char **msg)
{
    char buf[PLAIN_MAX_TOKEN + 1];
    const char *part[3];
    size_t plen[3];
    int rc = PLAIN_EMALFORMED;
    *msg = "Invalid SASL/PLAIN response";
    if (!tok || len > PLAIN_MAX_TOKEN)
        return PLAIN_EMALFORMED;
    memcpy(buf, tok, len);
    buf[len] = '\0';
    /* Exactly three NUL-separated tokens (Kafka: "expected 3 tokens"). */
    size_t start = 0;
    int n = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || buf[i] == '\0') {
            if (n == 3)
                goto out;
            part[n] = buf + start;
            plen[n++] = i - start;
            start = i + 1;
        }
    }
    if (n != 3)
        goto out;
    rc = PLAIN_EAUTH;
    if (plen[1] == 0) {
        *msg = "Authentication failed: username not specified";
        goto out;
    }
    if (plen[2] == 0) {
        *msg = "Authentication failed: password not specified";
        goto out;
    }
    *msg = "Authentication failed: Invalid username or password";
    if (plen[1] >= PLAIN_MAX_USER || plen[1] >= ucap)
        goto out;
    char key[PLAIN_MAX_USER + 8];
    snprintf(key, sizeof key, "user_%s", part[1]);
    const char *expected = jaas_get(users, key);
    uint8_t a[32], b[32];
    /* Digest something even for an unknown user: the same work either way. */
    if (digest(expected ? expected : "", expected ? strlen(expected) : 0, a) ||
        digest(part[2], plen[2], b) || !expected || CRYPTO_memcmp(a, b, 32) != 0)
        goto out;
    if (plen[0] && (plen[0] != plen[1] || memcmp(part[0], part[1], plen[0]))) {
        *msg = "Authentication failed: Client requested an authorization id that is different "
               "from username";
        goto out;
    }
    memcpy(user, part[1], plen[1] + 1);
    *msg = NULL;
    rc = PLAIN_OK;
out:
    OPENSSL_cleanse(buf, sizeof buf);
    return rc;
}

long plain_client_token(const char *user, const char *password, uint8_t *out, size_t cap)
{
    size_t ul = strlen(user), pl = strlen(password);
    if (ul + pl + 2 > cap || ul + pl + 2 > PLAIN_MAX_TOKEN)
        return -1;
    out[0] = 0;
    memcpy(out + 1, user, ul);
    out[1 + ul] = 0;
    memcpy(out + 2 + ul, password, pl);
    return (long)(ul + pl + 2);
}
