/* test_auth_plain_jaas.c - Kafka's sasl.jaas.config syntax (auth/jaas) and
 * SASL/PLAIN checks (auth/plain) with Kafka's messages. */
#include "test.h"

#include "auth/jaas.h"
#include "auth/plain.h"

TEST(auth_jaas_parse_kafka_examples)
{
    jaas_config jc;
    char why[256];
    REQUIRE_EQ(jaas_parse("org.apache.kafka.common.security.plain.PlainLoginModule required\n"
                          "  username=\"admin\" password=\"admin-secret\"\n"
                          "  user_admin=\"admin-secret\" user_alice='al\\\"ice\\n' // a comment\n"
                          "  /* another */ user_bob=bobpw;", &jc, why, sizeof why), 0);
    CHECK_STR(jc.module, JAAS_PLAIN_MODULE);
    CHECK_EQ(jc.flag, JAAS_REQUIRED);
    CHECK_EQ(jc.nopts, 5);
    CHECK_STR(jaas_get(&jc, "username"), "admin");
    CHECK_STR(jaas_get(&jc, "user_alice"), "al\"ice\n");
    CHECK_STR(jaas_get(&jc, "user_bob"), "bobpw");
    CHECK(jaas_get(&jc, "user_carol") == NULL);
    jaas_free(&jc);
    REQUIRE_EQ(jaas_parse("org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule "
                          "Required unsecuredLoginStringClaim_sub=\"alice\" a=\"\\101\\7\";",
                          &jc, why, sizeof why), 0);
    CHECK_STR(jaas_get(&jc, "unsecuredLoginStringClaim_sub"), "alice");
    CHECK_STR(jaas_get(&jc, "a"), "A\a");
    CHECK_STR(jaas_module_for("SCRAM-SHA-512"), JAAS_SCRAM_MODULE);
    CHECK(jaas_module_for("GSSAPI") == NULL);
    jaas_free(&jc);
    /* Repeated key: last wins. */
    REQUIRE_EQ(jaas_parse("m optional k=1 k=2;", &jc, why, sizeof why), 0);
    CHECK_EQ(jc.nopts, 1);
    CHECK_STR(jaas_get(&jc, "k"), "2");
    jaas_free(&jc);
}

TEST(auth_jaas_refusals)
{
    static const struct { const char *text, *why; } bad[] = {
        { "", "Login module not specified in JAAS config" },
        { "m required k=v", "JAAS config entry not terminated by semi-colon" },
        { "m", "Login module control flag not specified in JAAS config" },
        { "m always;", "Invalid login module control flag 'always' in JAAS config" },
        { "m required k=;", "Value not specified for key 'k' in JAAS config" },
        { "m required k;", "Value not specified for key 'k' in JAAS config" },
        { "m required k=\"v;", "unterminated quote or comment in JAAS config" },
        { "m required /* k=v;", "unterminated quote or comment in JAAS config" },
        { "a required; b required;", "JAAS config property contains 2 login modules, should be 1 module" },
        { "= required;", "Login module not specified in JAAS config" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        jaas_config jc;
        char why[256] = "";
        CHECK_EQ(jaas_parse(bad[i].text, &jc, why, sizeof why), -1);
        CHECK_STR(why, bad[i].why);
    }
}

#define TOK(s) (const uint8_t *)(s), sizeof(s) - 1

TEST(auth_plain_kafka_rules)
{
    jaas_config jc;
    char why[128], user[PLAIN_MAX_USER];
    const char *msg;
    REQUIRE_EQ(jaas_parse(JAAS_PLAIN_MODULE " required user_alice=\"alice-secret\" user_bob=\"b\";",
                          &jc, why, sizeof why), 0);
    CHECK_EQ(plain_authenticate(&jc, TOK("\0alice\0alice-secret"), user, sizeof user, &msg), PLAIN_OK);
    CHECK_STR(user, "alice");
    CHECK_EQ(plain_authenticate(&jc, TOK("alice\0alice\0alice-secret"), user, sizeof user, &msg), PLAIN_OK);
    CHECK_EQ(plain_authenticate(&jc, TOK("bob\0alice\0alice-secret"), user, sizeof user, &msg), PLAIN_EAUTH);
    CHECK_STR(msg, "Authentication failed: Client requested an authorization id that is different from username");
    CHECK_EQ(plain_authenticate(&jc, TOK("\0alice\0alice-secreT"), user, sizeof user, &msg), PLAIN_EAUTH);
    CHECK_STR(msg, "Authentication failed: Invalid username or password");
    CHECK_EQ(plain_authenticate(&jc, TOK("\0alice\0alice-secret2"), user, sizeof user, &msg), PLAIN_EAUTH);
    CHECK_EQ(plain_authenticate(&jc, TOK("\0carol\0x"), user, sizeof user, &msg), PLAIN_EAUTH);
    CHECK_STR(msg, "Authentication failed: Invalid username or password");
    CHECK_EQ(plain_authenticate(&jc, TOK("\0\0x"), user, sizeof user, &msg), PLAIN_EAUTH);
    CHECK_STR(msg, "Authentication failed: username not specified");
    CHECK_EQ(plain_authenticate(&jc, TOK("\0alice\0"), user, sizeof user, &msg), PLAIN_EAUTH);
    CHECK_STR(msg, "Authentication failed: password not specified");
    CHECK_EQ(plain_authenticate(&jc, TOK("\0alice"), user, sizeof user, &msg), PLAIN_EMALFORMED);
    CHECK_EQ(plain_authenticate(&jc, TOK("\0alice\0pw\0x"), user, sizeof user, &msg), PLAIN_EMALFORMED);
    /* "user_" with an empty name is not a user. */
    uint8_t t[64];
    long n = plain_client_token("bob", "b", t, sizeof t);
    REQUIRE_EQ(n, 6);
    CHECK_EQ(plain_authenticate(&jc, t, (size_t)n, user, sizeof user, &msg), PLAIN_OK);
    CHECK_STR(user, "bob");
    CHECK_EQ(plain_client_token("bob", "b", t, 5), -1);
    jaas_free(&jc);
}
