/* test_auth_ssl_mapper.c - ssl.principal.mapping.rules (auth/ssl_mapper.c)
 * against the cases of Kafka's SslPrincipalMapperTest. */
#include "test.h"

#include "auth/ssl_mapper.h"

static int valid(const char *rules)
{
    char why[256];
    ssl_mapper *m = ssl_mapper_parse(rules, why, sizeof why);
    ssl_mapper_free(m);
    return m != NULL;
}

TEST(ssl_mapper_valid_and_invalid_rules)
{
    const char *ok[] = {
        "DEFAULT",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
        "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
        "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
        "RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,DEFAULT",     /* split on the comma */
        "  RULE:   /     / ,  DEFAULT  ",
        ",,RULE://,,,DEFAULT,,",
        "",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (!valid(ok[i]))
            test_fail(__FILE__, __LINE__, "rejected valid rules '%s'", ok[i]);
    const char *bad[] = {
        "default", "DEFAUL", "DEFAULT/L", "DEFAULT/U",
        "RULE:CN=(.*?),OU=ServiceUsers.*/$1",
        "rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
        "RULE:(/x/",                                        /* bad regex */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (valid(bad[i]))
            test_fail(__FILE__, __LINE__, "accepted invalid rules '%s'", bad[i]);
    char why[256];
    CHECK(!ssl_mapper_parse("DEFAULT/L", why, sizeof why));
    CHECK_STR(why, "Invalid rule: DEFAULT/L");
}

static const char *map(const ssl_mapper *m, const char *dn, char *buf, size_t n)
{
    return ssl_mapper_map(m, dn, buf, n) == 0 ? buf : NULL;
}

TEST(ssl_mapper_maps_like_kafka)
{
    char why[256], out[256];
    ssl_mapper *m = ssl_mapper_parse(
        "RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, "
        "RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L, "
        "RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U, "
        "RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U, DEFAULT", why, sizeof why);
    REQUIRE(m);
    CHECK_STR(map(m, "CN=Duke,OU=ServiceUsers,O=Org,C=US", out, sizeof out), "duke");
    CHECK_STR(map(m, "CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", out, sizeof out), "duke@sme");
    CHECK_STR(map(m, "cn=duke,ou=sme,dc=mycp,dc=com", out, sizeof out), "DUKE@SME");
    CHECK_STR(map(m, "cN=duke,OU=JavaSoft,O=Sun Microsystems", out, sizeof out), "DUKE");
    CHECK_STR(map(m, "OU=JavaSoft,O=Sun Microsystems,C=US", out, sizeof out),
              "OU=JavaSoft,O=Sun Microsystems,C=US");
    ssl_mapper_free(m);

    /* No DEFAULT: a DN no rule matches is refused, in Kafka's words. */
    m = ssl_mapper_parse("RULE:^CN=([a-z]+),O=Samsa,C=US$/$1/", why, sizeof why);
    REQUIRE(m);
    CHECK_STR(map(m, "CN=alice,O=Samsa,C=US", out, sizeof out), "alice");
    CHECK_EQ(ssl_mapper_map(m, "CN=bob,O=Other,C=US", out, sizeof out), -1);
    CHECK_STR(out, "No rules apply to CN=bob,O=Other,C=US");
    /* A result that does not fit is refused, not truncated. */
    char tiny[4];
    CHECK_EQ(ssl_mapper_map(m, "CN=alice,O=Samsa,C=US", tiny, sizeof tiny), -1);
    ssl_mapper_free(m);

    /* "" is no rule at all (Kafka): nothing maps.  NULL is DEFAULT. */
    m = ssl_mapper_parse("", why, sizeof why);
    REQUIRE(m);
    CHECK_EQ(ssl_mapper_map(m, "CN=alice", out, sizeof out), -1);
    ssl_mapper_free(m);
    m = ssl_mapper_parse(NULL, why, sizeof why);
    REQUIRE(m);
    CHECK_STR(map(m, "CN=alice", out, sizeof out), "CN=alice");
    ssl_mapper_free(m);

    /* $n beyond the groups is literal; \ escapes in the replacement;
     * Java's replaceAll also replaces the empty match at the end. */
    m = ssl_mapper_parse("RULE:^CN=([a-z]+)$/$1@$2\\/x/", why, sizeof why);
    REQUIRE(m);
    CHECK_STR(map(m, "CN=carol", out, sizeof out), "carol@$2/x");
    ssl_mapper_free(m);
    m = ssl_mapper_parse("RULE:.*/x/", why, sizeof why);
    REQUIRE(m);
    CHECK_STR(map(m, "abc", out, sizeof out), "xx");
    ssl_mapper_free(m);
}
