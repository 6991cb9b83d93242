/*
 * kclient_sasl.c - SASL for the broker's own client (kclient_int.h):
 * SaslHandshake v1 then SaslAuthenticate v1 tokens, as Kafka's
 * SaslClientAuthenticator, with the identity in kclient_security:
 *
 *   PLAIN          one token "\0user\0password"
 *   SCRAM-SHA-*    client-first, client-final, and the server signature
 *                  checked (a peer that does not know the password fails)
 *   OAUTHBEARER    sec->sasl_token, or an unsecured JWT for sasl_username
 *                  (OAuthBearerLoginModule unsecuredLoginStringClaim_sub)
 *
 * Errors name the peer, the mechanism and the peer's message; never a
 * password, token or proof.  Runs on the caller's thread, blocking until
 * the kclient_connect deadline.
 */
#include <stdio.h>
#include <string.h>

#include "auth/oauthbearer.h"
#include "auth/plain.h"
#include "auth/scram_exchange.h"
#include "core/clock.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/messages/sasl_authenticate.h"
#include "proto/messages/sasl_handshake.h"
#include "rpc/kclient_int.h"

static int left_ms(int64_t deadline)
{
    int64_t l = deadline - mono_ms();
    return l < 1 ? 1 : l > INT32_MAX ? INT32_MAX : (int)l;
}

/* One SaslAuthenticate: token out, the peer's token in (*in points into
 * the arena).  0, or -1 with err set. */
static int auth_step(kclient *c, arena *a, const uint8_t *tok, size_t len, int64_t deadline,
                     const uint8_t **in, size_t *in_len, char *err, size_t errlen)
{
    sasl_authenticate_req req = { .auth_bytes = { tok, (int32_t)len } };
    sasl_authenticate_resp resp;
    memset(&resp, 0, sizeof resp);
    int rc = kclient_call(c, SASL_AUTHENTICATE_API_KEY, 1, &req, a, &resp, left_ms(deadline), err,
                          errlen);
    if (rc)
        return -1;
    if (resp.error_code) {
        snprintf(err, errlen, "%s: SASL %s authentication failed: %s (%.*s)", c->peer,
                 c->sec->sasl_mechanism, kerr_name(resp.error_code),
                 resp.error_message.len > 0 ? (int)resp.error_message.len : 0,
                 resp.error_message.p ? resp.error_message.p : "");
        return -1;
    }
    *in = resp.auth_bytes.p ? resp.auth_bytes.p : (const uint8_t *)"";
    *in_len = resp.auth_bytes.len > 0 ? (size_t)resp.auth_bytes.len : 0;
    return 0;
}

static int scram(kclient *c, arena *a, int8_t mech, int64_t deadline, char *err, size_t errlen)
{
    const kclient_security *sec = c->sec;
    scram_client sc;
    char out[SCRAM_MAX_MSG], why[256];
    const uint8_t *in;
    size_t in_len;
    int rc = -1;
    if (scram_client_init(&sc, mech, sec->sasl_password) != SCRAM_OK) {
        snprintf(err, errlen, "%s: SASL %s: password too long", c->peer, sec->sasl_mechanism);
        goto out;
    }
    long n = scram_client_first(&sc, sec->sasl_username, "", out, sizeof out);
    if (n < 0) {
        snprintf(err, errlen, "%s: SASL %s: bad user name", c->peer, sec->sasl_mechanism);
        goto out;
    }
    if (auth_step(c, a, (uint8_t *)out, (size_t)n, deadline, &in, &in_len, err, errlen) < 0)
        goto out;
    n = scram_client_final(&sc, in, in_len, out, sizeof out);
    if (n < 0) {
        snprintf(err, errlen, "%s: SASL %s: bad server-first message", c->peer, sec->sasl_mechanism);
        goto out;
    }
    if (auth_step(c, a, (uint8_t *)out, (size_t)n, deadline, &in, &in_len, err, errlen) < 0)
        goto out;
    if (scram_client_verify(&sc, in, in_len, why, sizeof why) != SCRAM_OK) {
        snprintf(err, errlen, "%s: SASL %s: %s", c->peer, sec->sasl_mechanism, why);
        goto out;
    }
    rc = 0;
out:
    scram_client_clear(&sc);
    return rc;
}

int kclient_sasl_start(kclient *c, int64_t deadline, char *err, size_t errlen)
{
    const kclient_security *sec = c->sec;
    arena a;
    int rc = -1;
    if (!sec) {
        snprintf(err, errlen, "%s: SASL without a SASL identity", c->peer);
        return -1;
    }
    arena_init(&a, (size_t)1 << 20);
    sasl_handshake_req hreq = { .mechanism = kstr_c(sec->sasl_mechanism) };
    sasl_handshake_resp hresp;
    memset(&hresp, 0, sizeof hresp);
    if (kclient_call(c, SASL_HANDSHAKE_API_KEY, 1, &hreq, &a, &hresp, left_ms(deadline), err,
                     errlen))
        goto out;
    if (hresp.error_code) {
        char list[256] = "";
        size_t o = 0;
        for (int32_t i = 0; i < hresp.mechanisms.n && o + 1 < sizeof list; i++)
            o += (size_t)snprintf(list + o, sizeof list - o, "%s%.*s", i ? "," : "",
                                  (int)hresp.mechanisms.v[i].len, hresp.mechanisms.v[i].p);
        snprintf(err, errlen, "%s: SaslHandshake for %s failed: %s (the peer enables: %s)", c->peer,
                 sec->sasl_mechanism, kerr_name(hresp.error_code), list);
        goto out;
    }
    const uint8_t *in;
    size_t in_len;
    int8_t mech = scram_mech_parse(sec->sasl_mechanism);
    if (mech) {
        rc = scram(c, &a, mech, deadline, err, errlen);
    } else if (!strcmp(sec->sasl_mechanism, "PLAIN")) {
        uint8_t tok[PLAIN_MAX_TOKEN];
        long n = plain_client_token(sec->sasl_username, sec->sasl_password, tok, sizeof tok);
        if (n < 0)
            snprintf(err, errlen, "%s: SASL PLAIN: user name or password too long", c->peer);
        else
            rc = auth_step(c, &a, tok, (size_t)n, deadline, &in, &in_len, err, errlen);
        memset(tok, 0, sizeof tok);
    } else if (!strcmp(sec->sasl_mechanism, "OAUTHBEARER")) {
        char jwt[4096];
        uint8_t tok[4200];
        long n = sec->sasl_token[0]
                     ? (long)snprintf(jwt, sizeof jwt, "%s", sec->sasl_token)
                     : oauth_unsecured_jwt(sec->sasl_username, wall_ms(), 3600, jwt, sizeof jwt);
        n = n < 0 ? -1 : oauth_client_response(jwt, tok, sizeof tok);
        if (n < 0) {
            snprintf(err, errlen, "%s: SASL OAUTHBEARER: no usable token", c->peer);
        } else if (auth_step(c, &a, tok, (size_t)n, deadline, &in, &in_len, err, errlen) == 0) {
            if (in_len) {            /* an error status: acknowledge, get the failure */
                static const uint8_t ack = 0x01;
                if (auth_step(c, &a, &ack, 1, deadline, &in, &in_len, err, errlen) == 0)
                    snprintf(err, errlen, "%s: SASL OAUTHBEARER: token refused", c->peer);
            } else {
                rc = 0;
            }
        }
    } else {
        snprintf(err, errlen, "%s: SASL mechanism %s is not supported by Samsa's client", c->peer,
                 sec->sasl_mechanism);
    }
out:
    arena_reset(&a);
    return rc;
}
