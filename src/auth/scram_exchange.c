/*
 * scram_exchange.c - SCRAM messages and proofs, server and client side (see
 * scram_exchange.h for the message grammar and the call order).
 *
 * Invariants (docs/security.md, "SASL"):
 *   S-SASL1  Every SCRAM message is at most SCRAM_MAX_MSG bytes, contains no
 *            NUL, and every field is parsed against its character class
 *            and bounded before use; nothing is allocated.
 *   S-SASL2  The client proof is checked by recomputing StoredKey and
 *            comparing it with CRYPTO_memcmp; the nonce of client-final must
 *            end with the server-first nonce (as Kafka checks it: librdkafka
 *            repeats its client nonce in front) and c= must be the GS2
 *            header of client-first (no channel-binding downgrade).
 *   S-SASL3  Keys derived during an exchange are wiped (OPENSSL_cleanse)
 *            when the exchange ends, success or failure.
 */
#include "auth/scram_exchange.h"

#include "auth/base64.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

/* Kafka's SASLNAME/VALUE class: 0x01..0x7F except ',' and '='. */
static bool value_char(unsigned char c) { return c >= 0x01 && c <= 0x7F && c != ',' && c != '='; }
/* Kafka's PRINTABLE: 0x21..0x7E except ','. */
static bool printable_char(unsigned char c) { return c >= 0x21 && c <= 0x7E && c != ','; }

int scram_saslname_escape(const char *name, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = name; *p; p++) {
        const char *rep = *p == ',' ? "=2C" : *p == '=' ? "=3D" : NULL;
        size_t n = rep ? 3 : 1;
        if (o + n >= cap)
            return -1;
        if (rep)
            memcpy(out + o, rep, 3);
        else
            out[o] = *p;
        o += n;
    }
    if (o >= cap)
        return -1;
    out[o] = '\0';
    return 0;
}

int scram_saslname_unescape(const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        if (c == '=') {
            if (len - i < 3)
                return -1;
            if (in[i + 1] == '2' && in[i + 2] == 'C')
                c = ',';
            else if (in[i + 1] == '3' && in[i + 2] == 'D')
                c = '=';
            else
                return -1;
            i += 2;
        } else if (!value_char((unsigned char)c)) {
            return -1;
        }
        if (o + 1 >= cap)
            return -1;
        out[o++] = c;
    }
    out[o] = '\0';
    return 0;
}

/* The message as a C string in buf (refusing NULs and oversize input). */
static int take_msg(const uint8_t *msg, size_t len, char *buf)
{
    if (!msg || len == 0 || len >= SCRAM_MAX_MSG || memchr(msg, 0, len))
        return -1;
    memcpy(buf, msg, len);
    buf[len] = '\0';
    return 0;
}

/* At *p: "<k>=" then a value up to ',' or the end.  Returns the value's
 * length (>= 1) and advances *p past it (not past the comma), or -1. */
static long attr(const char **p, char k, const char **val)
{
    const char *s = *p;
    if (s[0] != k || s[1] != '=')
        return -1;
    s += 2;
    const char *e = strchr(s, ',');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0)
        return -1;
    *val = s;
    *p = s + n;
    return (long)n;
}

static bool all_of(const char *s, size_t n, bool (*cls)(unsigned char))
{
    for (size_t i = 0; i < n; i++)
        if (!cls((unsigned char)s[i]))
            return false;
    return true;
}

static bool alpha_char(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

/* ",<alpha>=<value>" pairs from *p up to the end or to ",p=" (stop_at_proof).
 * tokenauth (if non-NULL) is set by tokenauth=true; other keys are
 * checked for form and ignored, as Kafka does. */
static int extensions(const char **p, bool stop_at_proof, bool *tokenauth)
{
    const char *s = *p;
    while (*s == ',') {
        if (stop_at_proof && s[1] == 'p' && s[2] == '=')
            break;
        const char *k = s + 1, *eq = strchr(k, '=');
        if (!eq || eq == k || !all_of(k, (size_t)(eq - k), alpha_char))
            return SCRAM_EMALFORMED;
        const char *v = eq + 1, *e = strchr(v, ',');
        size_t vl = e ? (size_t)(e - v) : strlen(v);
        if (vl == 0 || !all_of(v, vl, value_char))
            return SCRAM_EMALFORMED;
        /* Kafka's ScramSaslServer knows tokenauth and ignores (logs at
         * debug) any other extension. */
        if ((size_t)(eq - k) == 9 && !memcmp(k, "tokenauth", 9) && tokenauth)
            *tokenauth = vl == 4 && !strncasecmp(v, "true", 4);
        s = v + vl;
    }
    *p = s;
    return 0;
}

static void xor_into(uint8_t *a, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        a[i] ^= b[i];
}

/* client-first-bare "," server-first "," client-final-without-proof */
static int auth_message(char *out, size_t cap, const char *cfb, const char *sf, const char *cf,
                        size_t cf_len)
{
    int n = snprintf(out, cap, "%s,%s,%.*s", cfb, sf, (int)cf_len, cf);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* ------------------------------------------------------------- server */

void scram_server_init(scram_server *s, int8_t mech)
{
    memset(s, 0, sizeof *s);
    s->mech = mech;
}

void scram_server_clear(scram_server *s)
{
    OPENSSL_cleanse(&s->cred, sizeof s->cred);
}

int scram_server_client_first(scram_server *s, const uint8_t *msg, size_t len)
{
    char buf[SCRAM_MAX_MSG];
    const char *v;
    long n;
    if (s->state != 0)
        return SCRAM_ESTATE;
    s->state = 3;
    if (!scram_digest_len(s->mech) || take_msg(msg, len, buf) < 0)
        return SCRAM_EMALFORMED;
    /* GS2 header: "n," then an optional "a=<authzid>" then ",". */
    const char *p = buf;
    if (p[0] != 'n' || p[1] != ',')
        return SCRAM_EMALFORMED;
    p += 2;
    if (p[0] == 'a') {
        if ((n = attr(&p, 'a', &v)) < 0 ||
            scram_saslname_unescape(v, (size_t)n, s->authzid, sizeof s->authzid) < 0)
            return SCRAM_EMALFORMED;
    }
    if (*p != ',')
        return SCRAM_EMALFORMED;
    p++;
    if ((size_t)(p - buf) >= sizeof s->gs2)
        return SCRAM_EMALFORMED;
    memcpy(s->gs2, buf, (size_t)(p - buf));
    s->gs2[p - buf] = '\0';
    const char *bare = p;
    /* Kafka accepts (and ignores) a reserved m= attribute. */
    if (p[0] == 'm') {
        if (attr(&p, 'm', &v) < 0 || *p != ',')
            return SCRAM_EMALFORMED;
        p++;
    }
    if ((n = attr(&p, 'n', &v)) < 0 ||
        scram_saslname_unescape(v, (size_t)n, s->user, sizeof s->user) < 0 || *p != ',')
        return SCRAM_EMALFORMED;
    p++;
    if ((n = attr(&p, 'r', &v)) < 0 || !all_of(v, (size_t)n, printable_char) ||
        (size_t)n + SCRAM_SERVER_NONCE_BYTES * 2 >= sizeof s->nonce)
        return SCRAM_EMALFORMED;
    memcpy(s->nonce, v, (size_t)n);
    s->nonce[n] = '\0';
    int rc = extensions(&p, false, &s->tokenauth);
    if (rc)
        return rc;
    if (*p)
        return SCRAM_EMALFORMED;
    memcpy(s->client_first_bare, bare, strlen(bare) + 1);
    s->state = 1;
    return SCRAM_OK;
}

long scram_server_first(scram_server *s, const scram_cred *cred, char *out, size_t cap)
{
    uint8_t rnd[SCRAM_SERVER_NONCE_BYTES];
    char snonce[B64_ENCODED_LEN(SCRAM_SERVER_NONCE_BYTES) + 1];
    char salt[B64_ENCODED_LEN(SCRAM_MAX_SALT) + 1];
    if (s->state != 1)
        return SCRAM_ESTATE;
    s->state = 3;
    if (!cred || cred->mech != s->mech || cred->iterations < SCRAM_MIN_ITERATIONS ||
        cred->iterations > SCRAM_MAX_ITERATIONS || cred->salt_len == 0 ||
        cred->salt_len > SCRAM_MAX_SALT)
        return SCRAM_EAUTH;
    if (RAND_bytes(rnd, sizeof rnd) != 1 || b64_encode(rnd, sizeof rnd, snonce, sizeof snonce) < 0 ||
        b64_encode(cred->salt, cred->salt_len, salt, sizeof salt) < 0)
        return SCRAM_EINTERNAL;
    size_t nl = strlen(s->nonce);
    if (nl + strlen(snonce) >= sizeof s->nonce)
        return SCRAM_EMALFORMED;
    memcpy(s->nonce + nl, snonce, strlen(snonce) + 1);
    int n = snprintf(s->server_first, sizeof s->server_first, "r=%s,s=%s,i=%d", s->nonce, salt,
                     (int)cred->iterations);
    if (n < 0 || (size_t)n >= sizeof s->server_first || (size_t)n >= cap)
        return SCRAM_EINTERNAL;
    memcpy(out, s->server_first, (size_t)n + 1);
    s->cred = *cred;
    s->state = 2;
    return n;
}

long scram_server_final(scram_server *s, const uint8_t *msg, size_t len, char *out, size_t cap)
{
    char buf[SCRAM_MAX_MSG], am[3 * SCRAM_MAX_MSG + 2];
    char gs2_b64[B64_ENCODED_LEN(sizeof s->gs2) + 1];
    uint8_t proof[SCRAM_MAX_DIGEST], sig[SCRAM_MAX_DIGEST], key[SCRAM_MAX_DIGEST];
    size_t dl = scram_digest_len(s->mech);
    const char *v;
    long n, rc = SCRAM_EMALFORMED;
    if (s->state != 2)
        return SCRAM_ESTATE;
    s->state = 3;
    if (take_msg(msg, len, buf) < 0)
        goto out;
    const char *p = buf;
    /* c=<base64 of the GS2 header> */
    if ((n = attr(&p, 'c', &v)) < 0 || *p != ',' ||
        b64_encode((const uint8_t *)s->gs2, strlen(s->gs2), gs2_b64, sizeof gs2_b64) < 0)
        goto out;
    bool cb_ok = (size_t)n == strlen(gs2_b64) && !memcmp(v, gs2_b64, (size_t)n);
    p++;
    if ((n = attr(&p, 'r', &v)) < 0)
        goto out;
    /* Kafka's ScramSaslServer accepts a nonce that ENDS with the
     * server-first nonce (librdkafka sends client nonce + that nonce);
     * the server's random part is still required. */
    size_t snl = strlen(s->nonce);
    bool nonce_ok = (size_t)n >= snl && !memcmp(v + (size_t)n - snl, s->nonce, snl) &&
                    all_of(v, (size_t)n, printable_char);
    if ((rc = extensions(&p, true, NULL)) != 0)
        goto out;
    rc = SCRAM_EMALFORMED;
    size_t without_proof = (size_t)(p - buf);
    if (*p != ',')
        goto out;
    p++;
    if ((n = attr(&p, 'p', &v)) < 0 || *p || b64_decode(v, (size_t)n, proof, sizeof proof) != (long)dl)
        goto out;
    rc = SCRAM_EAUTH;
    if (!cb_ok || !nonce_ok)
        goto out;
    rc = SCRAM_EINTERNAL;
    int aml = auth_message(am, sizeof am, s->client_first_bare, s->server_first, buf, without_proof);
    if (aml < 0 || scram_hmac(s->mech, s->cred.stored_key, dl, am, (size_t)aml, sig))
        goto out;
    /* ClientKey = proof XOR ClientSignature; StoredKey must be H(ClientKey). */
    xor_into(proof, sig, dl);
    if (scram_hash(s->mech, proof, dl, key))
        goto out;
    rc = SCRAM_EAUTH;
    if (CRYPTO_memcmp(key, s->cred.stored_key, dl) != 0)
        goto out;
    rc = SCRAM_EINTERNAL;
    char vb[B64_ENCODED_LEN(SCRAM_MAX_DIGEST) + 1];
    if (scram_hmac(s->mech, s->cred.server_key, dl, am, (size_t)aml, sig) ||
        b64_encode(sig, dl, vb, sizeof vb) < 0)
        goto out;
    int m = snprintf(out, cap, "v=%s", vb);
    if (m < 0 || (size_t)m >= cap)
        goto out;
    rc = m;
    s->state = 4;
out:
    OPENSSL_cleanse(proof, sizeof proof);
    OPENSSL_cleanse(key, sizeof key);
    scram_server_clear(s);
    return rc;
}

/* ------------------------------------------------------------- client */

int scram_client_init(scram_client *c, int8_t mech, const char *password)
{
    memset(c, 0, sizeof *c);
    c->mech = mech;
    if (!scram_digest_len(mech) || !password || strlen(password) >= sizeof c->password)
        return SCRAM_EMALFORMED;
    memcpy(c->password, password, strlen(password) + 1);
    return SCRAM_OK;
}

void scram_client_clear(scram_client *c)
{
    OPENSSL_cleanse(c, sizeof *c);
}

long scram_client_first(scram_client *c, const char *user, const char *ext, char *out, size_t cap)
{
    char name[3 * SCRAM_MAX_NAME];
    uint8_t rnd[24];
    if (c->state != 0)
        return SCRAM_ESTATE;
    if (!user || !user[0] || strlen(user) >= SCRAM_MAX_NAME ||
        scram_saslname_escape(user, name, sizeof name) < 0)
        return SCRAM_EMALFORMED;
    if (RAND_bytes(rnd, sizeof rnd) != 1 || b64_encode(rnd, sizeof rnd, c->cnonce, sizeof c->cnonce) < 0)
        return SCRAM_EINTERNAL;
    int n = snprintf(c->client_first_bare, sizeof c->client_first_bare, "n=%s,r=%s%s", name,
                     c->cnonce, ext ? ext : "");
    if (n < 0 || (size_t)n >= sizeof c->client_first_bare)
        return SCRAM_EMALFORMED;
    int m = snprintf(out, cap, "n,,%s", c->client_first_bare);
    if (m < 0 || (size_t)m >= cap)
        return SCRAM_EMALFORMED;
    c->state = 1;
    return m;
}

long scram_client_final(scram_client *c, const uint8_t *msg, size_t len, char *out, size_t cap)
{
    char buf[SCRAM_MAX_MSG], am[3 * SCRAM_MAX_MSG + 2], cf[SCRAM_MAX_MSG];
    uint8_t salt[SCRAM_MAX_SALT], salted[SCRAM_MAX_DIGEST], ck[SCRAM_MAX_DIGEST];
    uint8_t sk[SCRAM_MAX_DIGEST], sig[SCRAM_MAX_DIGEST], vk[SCRAM_MAX_DIGEST];
    size_t dl = scram_digest_len(c->mech);
    const char *v, *nonce;
    long n, nonce_len, rc = SCRAM_EMALFORMED;
    if (c->state != 1)
        return SCRAM_ESTATE;
    c->state = 4;
    if (take_msg(msg, len, buf) < 0)
        goto out;
    const char *p = buf;
    if (p[0] == 'm' && (attr(&p, 'm', &v) < 0 || *p++ != ','))
        goto out;
    size_t cnl = strlen(c->cnonce);
    if ((nonce_len = attr(&p, 'r', &nonce)) < 0 || (size_t)nonce_len <= cnl ||
        memcmp(nonce, c->cnonce, cnl) || !all_of(nonce, (size_t)nonce_len, printable_char) ||
        *p++ != ',')
        goto out;
    long sl;
    if ((n = attr(&p, 's', &v)) < 0 || (sl = b64_decode(v, (size_t)n, salt, sizeof salt)) <= 0 ||
        *p++ != ',')
        goto out;
    if ((n = attr(&p, 'i', &v)) < 0 || n > 9)
        goto out;
    long it = 0;
    for (long i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            goto out;
        it = it * 10 + (v[i] - '0');
    }
    if (it < SCRAM_MIN_ITERATIONS || it > SCRAM_MAX_ITERATIONS || (*p && *p != ','))
        goto out;   /* extensions after i= are ignored, as Kafka's client does */
    int cfl = snprintf(cf, sizeof cf, "c=biws,r=%.*s", (int)nonce_len, nonce);
    rc = SCRAM_EINTERNAL;
    if (cfl < 0 || (size_t)cfl >= sizeof cf)
        goto out;
    int aml = auth_message(am, sizeof am, c->client_first_bare, buf, cf, (size_t)cfl);
    if (aml < 0 ||
        scram_hi(c->mech, c->password, strlen(c->password), salt, (size_t)sl, (int32_t)it, salted) ||
        scram_hmac(c->mech, salted, dl, "Client Key", 10, ck) || scram_hash(c->mech, ck, dl, sk) ||
        scram_hmac(c->mech, sk, dl, am, (size_t)aml, sig) ||
        scram_hmac(c->mech, salted, dl, "Server Key", 10, vk) ||
        scram_hmac(c->mech, vk, dl, am, (size_t)aml, c->server_sig))
        goto out;
    xor_into(ck, sig, dl);   /* the proof */
    char pb[B64_ENCODED_LEN(SCRAM_MAX_DIGEST) + 1];
    if (b64_encode(ck, dl, pb, sizeof pb) < 0)
        goto out;
    int m = snprintf(out, cap, "%s,p=%s", cf, pb);
    if (m < 0 || (size_t)m >= cap)
        goto out;
    rc = m;
    c->state = 2;
out:
    OPENSSL_cleanse(salted, sizeof salted);
    OPENSSL_cleanse(ck, sizeof ck);
    OPENSSL_cleanse(sk, sizeof sk);
    OPENSSL_cleanse(vk, sizeof vk);
    OPENSSL_cleanse(c->password, sizeof c->password);
    return rc;
}

int scram_client_verify(scram_client *c, const uint8_t *msg, size_t len, char *why, size_t wn)
{
    char buf[SCRAM_MAX_MSG];
    uint8_t sig[SCRAM_MAX_DIGEST];
    size_t dl = scram_digest_len(c->mech);
    const char *v;
    long n;
    if (c->state != 2)
        return SCRAM_ESTATE;
    c->state = 4;
    if (take_msg(msg, len, buf) < 0) {
        snprintf(why, wn, "malformed SCRAM server-final message");
        return SCRAM_EMALFORMED;
    }
    const char *p = buf;
    if (p[0] == 'e') {
        n = attr(&p, 'e', &v);
        snprintf(why, wn, "server error: %.*s", n > 0 ? (int)(n > 200 ? 200 : n) : 0, n > 0 ? v : "");
        return SCRAM_EAUTH;
    }
    if ((n = attr(&p, 'v', &v)) < 0 || b64_decode(v, (size_t)n, sig, sizeof sig) != (long)dl) {
        snprintf(why, wn, "malformed SCRAM server-final message");
        return SCRAM_EMALFORMED;
    }
    if (CRYPTO_memcmp(sig, c->server_sig, dl) != 0) {
        snprintf(why, wn, "invalid server signature in the SCRAM server-final message");
        return SCRAM_EAUTH;
    }
    c->state = 3;
    return SCRAM_OK;
}
