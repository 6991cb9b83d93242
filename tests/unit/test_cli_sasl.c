/*
 * test_cli_sasl.c - the CLI's SaslHandshake v1 / SaslAuthenticate v1
 * codec (src/cli/sasl_wire.c): request bytes as Kafka's message specs lay
 * them out; answers decoded, truncated ones and another correlation id
 * refused.
 */
#include <string.h>

#include "cli/sasl_wire.h"
#include "test.h"

TEST(cli_sasl_requests)
{
    uint8_t buf[128];
    size_t n = cli_sasl_encode_handshake(buf, sizeof buf, 1, "samsa", "PLAIN");
    static const uint8_t want_h[] = {
        0, 0, 0, 22,  0, 17,  0, 1,  0, 0, 0, 1,  0, 5, 's', 'a', 'm', 's', 'a',
        0, 5, 'P', 'L', 'A', 'I', 'N',
    };
    CHECK_EQ(n, sizeof want_h);
    CHECK(!memcmp(buf, want_h, sizeof want_h));
    n = cli_sasl_encode_authenticate(buf, sizeof buf, 2, "samsa", (const uint8_t *)"\0u\0p", 4);
    static const uint8_t want_a[] = {
        0, 0, 0, 23,  0, 36,  0, 1,  0, 0, 0, 2,  0, 5, 's', 'a', 'm', 's', 'a',
        0, 0, 0, 4,  0, 'u', 0, 'p',
    };
    CHECK_EQ(n, sizeof want_a);
    CHECK(!memcmp(buf, want_a, sizeof want_a));
    CHECK_EQ(cli_sasl_encode_handshake(buf, 20, 1, "samsa", "PLAIN"), 0);   /* does not fit */
}

TEST(cli_sasl_answers)
{
    /* SaslHandshake v1: corr 1, UNSUPPORTED_SASL_MECHANISM (33), [PLAIN, SCRAM-SHA-512] */
    static const uint8_t h[] = {
        0, 0, 0, 1,  0, 33,  0, 0, 0, 2,  0, 5, 'P', 'L', 'A', 'I', 'N',
        0, 13, 'S', 'C', 'R', 'A', 'M', '-', 'S', 'H', 'A', '-', '5', '1', '2',
    };
    int16_t e = 0;
    char mechs[64];
    CHECK_EQ(cli_sasl_decode_handshake(h, sizeof h, 1, &e, mechs, sizeof mechs), 0);
    CHECK_EQ(e, 33);
    CHECK(!strcmp(mechs, "PLAIN,SCRAM-SHA-512"));
    CHECK_EQ(cli_sasl_decode_handshake(h, sizeof h, 2, &e, mechs, sizeof mechs), -1);
    CHECK_EQ(cli_sasl_decode_handshake(h, sizeof h - 1, 1, &e, mechs, sizeof mechs), -1);
    /* SaslAuthenticate v1: corr 3, 58 "bad", token "v=x", lifetime 0 */
    static const uint8_t a[] = {
        0, 0, 0, 3,  0, 58,  0, 3, 'b', 'a', 'd',  0, 0, 0, 3, 'v', '=', 'x',
        0, 0, 0, 0, 0, 0, 0, 0,
    };
    char msg[16];
    const uint8_t *tok;
    size_t tl;
    CHECK_EQ(cli_sasl_decode_authenticate(a, sizeof a, 3, &e, msg, sizeof msg, &tok, &tl), 0);
    CHECK_EQ(e, 58);
    CHECK(!strcmp(msg, "bad"));
    CHECK_EQ(tl, 3);
    CHECK(!memcmp(tok, "v=x", 3));
    CHECK_EQ(cli_sasl_decode_authenticate(a, sizeof a - 1, 3, &e, msg, sizeof msg, &tok, &tl), -1);
}
