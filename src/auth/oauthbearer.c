/*
 * oauthbearer.c - SASL/OAUTHBEARER with unsecured JWTs (see oauthbearer.h).
 * JSON through cJSON on a bounded, NUL-terminated copy.
 *
 *   S-SASL12 An OAUTHBEARER token is accepted only with alg "none", an
 *            empty signature, a string principal claim and a numeric exp
 *            not yet past (minus the allowed skew); its size is bounded by
 *            OAUTH_MAX_MSG before any decoding.
 */
#include "auth/oauthbearer.h"

#include "auth/base64.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void set_status(char *status, size_t sn, const char *scope)
{
    if (scope)
        snprintf(status, sn, "{\"status\":\"insufficient_scope\", \"scope\":\"%s\"}", scope);
    else
        snprintf(status, sn, "{\"status\":\"invalid_token\"}");
}

/* One JWT segment, base64url-decoded and parsed as a JSON object. */
static cJSON *segment(const char *s, size_t n)
{
    char buf[OAUTH_MAX_MSG];
    long m = b64url_decode(s, n, (uint8_t *)buf, sizeof buf - 1);
    if (m < 0)
        return NULL;
    buf[m] = '\0';
    if (memchr(buf, 0, (size_t)m))
        return NULL;
    cJSON *j = cJSON_ParseWithLength(buf, (size_t)m);
    if (j && !cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

static bool has_scope(const cJSON *claim, const char *want, size_t wl)
{
    if (cJSON_IsString(claim)) {
        const char *p = claim->valuestring;
        while (*p) {
            while (*p == ' ')
                p++;
            const char *e = strchr(p, ' ');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            if (l == wl && !memcmp(p, want, l))
                return true;
            p += l;
        }
        return false;
    }
    const cJSON *it;
    cJSON_ArrayForEach(it, claim)
        if (cJSON_IsString(it) && strlen(it->valuestring) == wl && !memcmp(it->valuestring, want, wl))
            return true;
    return false;
}

static int validate_jwt(const jaas_config *jc, const char *tok, size_t tl, int64_t now_ms,
                        char *principal, size_t pcap, int64_t *exp_ms, char *status, size_t sn,
                        char *why, size_t wn)
{
    const char *d1 = memchr(tok, '.', tl);
    const char *d2 = d1 ? memchr(d1 + 1, '.', tl - (size_t)(d1 + 1 - tok)) : NULL;
    cJSON *h = NULL, *c = NULL;
    int rc = OAUTH_EINVALID;
    set_status(status, sn, NULL);
    if (!d1 || !d2 || d2 + 1 != tok + tl) {
        snprintf(why, wn, "not an unsecured JWS: three dot-separated parts with an empty signature "
                 "are required");
        goto out;
    }
    h = segment(tok, (size_t)(d1 - tok));
    c = segment(d1 + 1, (size_t)(d2 - d1 - 1));
    if (!h || !c) {
        snprintf(why, wn, "JWT header or claims are not base64url JSON objects");
        goto out;
    }
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "none")) {
        snprintf(why, wn, "unsecured JWS must have alg \"none\"");
        goto out;
    }
    const char *pname = jaas_get(jc, "unsecuredValidatorPrincipalClaimName");
    const char *sname = jaas_get(jc, "unsecuredValidatorScopeClaimName");
    const char *req = jaas_get(jc, "unsecuredValidatorRequiredScope");
    const char *skew_s = jaas_get(jc, "unsecuredValidatorAllowableClockSkewMs");
    int64_t skew = 0;
    if (skew_s) {
        char *e;
        long long v = strtoll(skew_s, &e, 10);
        if (*e || v < 0) {
            snprintf(why, wn, "unsecuredValidatorAllowableClockSkewMs is not a non-negative number");
            goto out;
        }
        skew = v;
    }
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, pname && *pname ? pname : "sub");
    if (!cJSON_IsString(sub) || !sub->valuestring[0] || strlen(sub->valuestring) >= pcap) {
        snprintf(why, wn, "the principal claim '%.64s' is missing, empty, too long or not a string",
                 pname && *pname ? pname : "sub");
        goto out;
    }
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(c, "iat");
    if (!cJSON_IsNumber(exp) || !isfinite(exp->valuedouble) || fabs(exp->valuedouble) > 1e13) {
        snprintf(why, wn, "the exp claim is missing or not a number");
        goto out;
    }
    double expms = exp->valuedouble * 1000.0;
    if ((double)(now_ms - skew) >= expms) {
        snprintf(why, wn, "The indicated time (%lld ms) minus allowable clock skew (%lld ms) was on "
                 "or after the Expiration Time value (%.3f seconds)", (long long)now_ms,
                 (long long)skew, exp->valuedouble);
        goto out;
    }
    if (iat) {
        if (!cJSON_IsNumber(iat) || !isfinite(iat->valuedouble)) {
            snprintf(why, wn, "the iat claim is not a number");
            goto out;
        }
        if (iat->valuedouble * 1000.0 > (double)(now_ms + skew)) {
            snprintf(why, wn, "The Issued At value (%.3f seconds) was after the indicated time (%lld "
                     "ms) plus allowable clock skew (%lld ms)", iat->valuedouble, (long long)now_ms,
                     (long long)skew);
            goto out;
        }
        if (iat->valuedouble >= exp->valuedouble) {
            snprintf(why, wn, "The Issued At value was not before the Expiration Time value");
            goto out;
        }
    }
    if (req && *req) {
        const cJSON *scope = cJSON_GetObjectItemCaseSensitive(c, sname && *sname ? sname : "scope");
        for (const char *p = req; *p;) {
            while (*p == ' ')
                p++;
            const char *e = strchr(p, ' ');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            if (l && (!scope || !has_scope(scope, p, l))) {
                set_status(status, sn, req);
                snprintf(why, wn, "the token lacks a required scope");
                goto out;
            }
            p += l;
        }
    }
    memcpy(principal, sub->valuestring, strlen(sub->valuestring) + 1);
    *exp_ms = (int64_t)expms;
    rc = OAUTH_OK;
out:
    cJSON_Delete(h);
    cJSON_Delete(c);
    return rc;
}

int oauth_server_validate(const jaas_config *jc, const uint8_t *msg, size_t len, int64_t now_ms,
                          char *principal, size_t pcap, int64_t *exp_ms, char *status, size_t sn,
                          char *why, size_t wn)
{
    char buf[OAUTH_MAX_MSG + 1];
    char authzid[OAUTH_MAX_PRINCIPAL] = "";
    why[0] = '\0';
    if (!msg || len < 4 || len > OAUTH_MAX_MSG || memchr(msg, 0, len)) {
        snprintf(why, wn, "not an OAUTHBEARER initial response");
        return OAUTH_EMALFORMED;
    }
    memcpy(buf, msg, len);
    buf[len] = '\0';
    /* GS2 header: "n," [a=<authzid>] ","  (Kafka: no channel binding). */
    const char *p = buf;
    if (p[0] != 'n' || p[1] != ',')
        return OAUTH_EMALFORMED;
    p += 2;
    if (p[0] == 'a' && p[1] == '=') {
        const char *e = strchr(p, ',');
        if (!e || (size_t)(e - p - 2) >= sizeof authzid || e == p + 2)
            return OAUTH_EMALFORMED;
        memcpy(authzid, p + 2, (size_t)(e - p - 2));
        authzid[e - p - 2] = '\0';
        p = e;
    }
    if (*p != ',' || p[1] != '\x01')
        return OAUTH_EMALFORMED;
    p += 2;
    /* key=value\x01 pairs, then a final \x01. */
    const char *tok = NULL;
    size_t tl = 0;
    while (*p != '\x01') {
        const char *e = strchr(p, '\x01'), *eq = strchr(p, '=');
        if (!e || !eq || eq > e || eq == p)
            return OAUTH_EMALFORMED;
        for (const char *k = p; k < eq; k++)
            if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z')))
                return OAUTH_EMALFORMED;
        if (eq - p == 4 && !memcmp(p, "auth", 4)) {
            const char *v = eq + 1;
            if (e - v < 8 || strncasecmp(v, "bearer ", 7))
                return OAUTH_EMALFORMED;
            v += 7;
            while (v < e && *v == ' ')
                v++;
            tok = v;
            tl = (size_t)(e - v);
        }
        p = e + 1;
    }
    if (p[1] != '\0' || !tok || tl == 0)
        return OAUTH_EMALFORMED;
    for (size_t i = 0; i < tl; i++) {
        char ch = tok[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return OAUTH_EMALFORMED;
    }
    int rc = validate_jwt(jc, tok, tl, now_ms, principal, pcap, exp_ms, status, sn, why, wn);
    if (rc == OAUTH_OK && authzid[0] && strcmp(authzid, principal))
        return OAUTH_EAUTHZID;
    return rc;
}

long oauth_unsecured_jwt(const char *sub, int64_t now_ms, int64_t lifetime_s, char *out, size_t cap)
{
    char claims[1024], hb[64], cb[1500];
    cJSON *c = cJSON_CreateObject();
    if (!c)
        return -1;
    cJSON_AddStringToObject(c, "sub", sub);
    cJSON_AddNumberToObject(c, "iat", (double)(now_ms / 1000));
    cJSON_AddNumberToObject(c, "exp", (double)(now_ms / 1000 + lifetime_s));
    bool ok = cJSON_PrintPreallocated(c, claims, sizeof claims, false);
    cJSON_Delete(c);
    static const char hdr[] = "{\"alg\":\"none\"}";
    if (!ok || b64url_encode((const uint8_t *)hdr, sizeof hdr - 1, hb, sizeof hb) < 0 ||
        b64url_encode((const uint8_t *)claims, strlen(claims), cb, sizeof cb) < 0)
        return -1;
    int n = snprintf(out, cap, "%s.%s.", hb, cb);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

long oauth_client_response(const char *jwt, uint8_t *out, size_t cap)
{
    int n = snprintf((char *)out, cap, "n,,\x01" "auth=Bearer %s\x01\x01", jwt);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
