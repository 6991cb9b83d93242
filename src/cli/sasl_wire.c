/*
 * sasl_wire.c - the CLI's SaslHandshake v1 and SaslAuthenticate v1
 * frames (cli/sasl_wire.h), for its own connections (conn.c).  Pure
 * codec over wire.h: no I/O, no librdkafka, bounds-checked both ways.
 */
#include "cli/sasl_wire.h"

#include <stdio.h>
#include <string.h>

#include "cli/wire.h"

size_t cli_sasl_encode_handshake(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                 const char *mechanism)
{
    wbuf_t w = {.p = buf, .cap = cap};
    frame_begin(&w, CLI_SASL_HANDSHAKE_KEY, 1, corr, client_id);
    putstr(&w, mechanism);
    return wbuf_finish(&w);
}

int cli_sasl_decode_handshake(const uint8_t *resp, size_t len, int32_t corr, int16_t *error,
                              char *mechs, size_t mcap)
{
    rbuf_t r = {.p = resp, .left = len};
    resp_header(&r, corr, 0);
    *error = get16(&r);
    int32_t n = get32(&r);
    size_t at = 0;
    if (mcap)
        mechs[0] = 0;
    for (int32_t i = 0; i < n && !r.bad; i++) {
        int16_t sl = get16(&r);
        const uint8_t *s = sl >= 0 ? take(&r, (size_t)sl) : NULL;
        if (s && at + (size_t)sl + 2 < mcap) {
            at += (size_t)snprintf(mechs + at, mcap - at, "%s%.*s", at ? "," : "", (int)sl,
                                   (const char *)s);
        }
    }
    return r.bad || n < 0 ? -1 : 0;
}

size_t cli_sasl_encode_authenticate(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                    const uint8_t *tok, size_t toklen)
{
    wbuf_t w = {.p = buf, .cap = cap};
    if (toklen > INT32_MAX)
        return 0;
    frame_begin(&w, CLI_SASL_AUTHENTICATE_KEY, 1, corr, client_id);
    put32(&w, (int32_t)toklen);
    put(&w, tok, toklen);
    return wbuf_finish(&w);
}

int cli_sasl_decode_authenticate(const uint8_t *resp, size_t len, int32_t corr, int16_t *error,
                                 char *msg, size_t msgcap, const uint8_t **tok, size_t *toklen)
{
    rbuf_t r = {.p = resp, .left = len};
    resp_header(&r, corr, 0);
    *error = get16(&r);
    int16_t ml = get16(&r);
    const uint8_t *m = ml > 0 ? take(&r, (size_t)ml) : NULL;
    if (msgcap)
        snprintf(msg, msgcap, "%.*s", m ? (int)ml : 0, m ? (const char *)m : "");
    int32_t tl = get32(&r);
    *tok = tl > 0 ? take(&r, (size_t)tl) : (const uint8_t *)"";
    *toklen = tl > 0 ? (size_t)tl : 0;
    (void)get64(&r);                    /* session_lifetime_ms */
    return r.bad || ml < -1 || tl < -1 ? -1 : 0;
}
