/*
 * fuzz_sasl_scram.c - the SCRAM message parsers (src/auth/scram_exchange.c,
 * src/auth/scram.c, src/auth/base64.c): bytes an unauthenticated client
 * (or, for the client side, any peer a broker logs in to) controls.
 *
 * Input: one selector byte, then the message.
 *   0 client-first (server side)        1 client-final against a fixed
 *   2 server-first (client side)          exchange state (server side)
 *   3 server-final (client side)        4 saslname unescape + escape
 *   5 Kafka's stored credential string  6 base64 / base64url decode
 *
 * Oracle: nothing crashes or leaks; accepted client-first fields are
 * within their bounds and escape back to what was sent; a stored
 * credential that parses formats back to a string that parses to the same
 * credential; decoded base64 re-encodes to the canonical input.
 * Deterministic: the server nonce and client nonce are fixed here, not
 * drawn from RAND_bytes.
 */
#include <string.h>

#include "auth/base64.h"
#include "auth/scram_exchange.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CFB[] = "n=user,r=fyko+d2lbbFgONRv9qkxdawL";
static const char NONCE[] = "fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";

static void server_at_final(scram_server *s, int8_t mech)
{
    scram_server_init(s, mech);
    snprintf(s->user, sizeof s->user, "user");
    snprintf(s->gs2, sizeof s->gs2, "n,,");
    snprintf(s->client_first_bare, sizeof s->client_first_bare, "%s", CFB);
    snprintf(s->nonce, sizeof s->nonce, "%s", NONCE);
    snprintf(s->server_first, sizeof s->server_first, "r=%s,s=QSXCR+Q6sek8bf92,i=4096", NONCE);
    static scram_cred cred[3];      /* PBKDF2 once per mechanism, not per input */
    if (!cred[mech].mech)
        scram_cred_from_password(mech, "pencil", (const uint8_t *)"salt", 4, 4096, &cred[mech]);
    s->cred = cred[mech];
    s->state = 2;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *m = data + 1;
    size_t n = size - 1;
    int8_t mech = (data[0] & 0x80) ? SCRAM_SHA_512 : SCRAM_SHA_256;
    char out[2 * SCRAM_MAX_MSG], why[256];
    switch (data[0] % 7) {
    case 0: {
        scram_server s;
        scram_server_init(&s, mech);
        if (scram_server_client_first(&s, m, n) == SCRAM_OK) {
            FUZZ_ASSERT(s.user[0] && strlen(s.user) < SCRAM_MAX_NAME, "user");
            FUZZ_ASSERT(strlen(s.client_first_bare) < n, "bare longer than the message");
            char esc[3 * SCRAM_MAX_NAME];
            FUZZ_ASSERT(scram_saslname_escape(s.user, esc, sizeof esc) == 0, "escape");
            FUZZ_ASSERT(strstr(s.client_first_bare, esc) != NULL, "name does not escape back");
        }
        break;
    }
    case 1: {
        scram_server s;
        server_at_final(&s, mech);
        long r = scram_server_final(&s, m, n, out, sizeof out);
        FUZZ_ASSERT(r < 0 || (out[0] == 'v' && out[1] == '='), "server-final form");
        break;
    }
    case 2: {
        scram_client c;
        scram_client_init(&c, mech, "pencil");
        snprintf(c.cnonce, sizeof c.cnonce, "fyko+d2lbbFgONRv9qkxdawL");
        snprintf(c.client_first_bare, sizeof c.client_first_bare, "%s", CFB);
        c.state = 1;
        long r = scram_client_final(&c, m, n, out, sizeof out);
        FUZZ_ASSERT(r < 0 || !strncmp(out, "c=biws,r=fyko+d2lbbFgONRv9qkxdawL", 33), "client-final");
        scram_client_clear(&c);
        break;
    }
    case 3: {
        scram_client c;
        scram_client_init(&c, mech, "pencil");
        memset(c.server_sig, 0x5a, sizeof c.server_sig);
        c.state = 2;
        (void)scram_client_verify(&c, m, n, why, sizeof why);
        scram_client_clear(&c);
        break;
    }
    case 4: {
        char un[SCRAM_MAX_NAME], esc[3 * SCRAM_MAX_NAME];
        if (scram_saslname_unescape((const char *)m, n, un, sizeof un) == 0) {
            FUZZ_ASSERT(scram_saslname_escape(un, esc, sizeof esc) == 0, "escape");
            FUZZ_ASSERT(strlen(esc) == n && !memcmp(esc, m, n), "unescape/escape round trip");
        }
        break;
    }
    case 5: {
        char s[1100];
        scram_cred c, back;
        if (n >= sizeof s)
            break;
        memcpy(s, m, n);
        s[n] = '\0';
        if (scram_cred_parse(mech, s, &c, why, sizeof why) == 0) {
            char f[1100];
            FUZZ_ASSERT(scram_cred_format(&c, f, sizeof f) == 0, "format");
            FUZZ_ASSERT(scram_cred_parse(mech, f, &back, why, sizeof why) == 0, "reparse");
            FUZZ_ASSERT(!memcmp(&c, &back, sizeof c), "credential round trip");
        }
        break;
    }
    case 6: {
        uint8_t bin[2048];
        char enc[4096];
        long r = (data[0] & 0x40) ? b64url_decode((const char *)m, n, bin, sizeof bin)
                                  : b64_decode((const char *)m, n, bin, sizeof bin);
        if (r >= 0) {
            long e = (data[0] & 0x40) ? b64url_encode(bin, (size_t)r, enc, sizeof enc)
                                      : b64_encode(bin, (size_t)r, enc, sizeof enc);
            FUZZ_ASSERT(e >= 0 && (size_t)e <= n && !memcmp(enc, m, (size_t)e), "base64 round trip");
        }
        break;
    }
    }
    return 0;
}
