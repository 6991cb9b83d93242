/* test_auth_scram_exchange.c - the SCRAM exchange (auth/scram_exchange):
 * RFC 7677's messages through the server side, a full client <-> server
 * exchange for SHA-256 and SHA-512, and the refusals (wrong password,
 * nonce and channel-binding tampering, extensions, malformed fields). */
#include "test.h"

#include "auth/base64.h"
#include "auth/scram_exchange.h"

#define U8(s) (const uint8_t *)(s), strlen(s)

static void rfc_cred(scram_cred *c)
{
    uint8_t salt[16];
    b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof salt);
    scram_cred_from_password(SCRAM_SHA_256, "pencil", salt, 16, 4096, c);
}

TEST(auth_scram_server_rfc7677_messages)
{
    scram_server s;
    scram_cred c;
    rfc_cred(&c);
    scram_server_init(&s, SCRAM_SHA_256);
    REQUIRE_EQ(scram_server_client_first(&s, U8("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")), 0);
    CHECK_STR(s.user, "user");
    CHECK_STR(s.authzid, "");
    CHECK_STR(s.gs2, "n,,");
    char out[512];
    REQUIRE(scram_server_first(&s, &c, out, sizeof out) > 0);
    CHECK(!strncmp(out, "r=rOprNGfwEbeRWgbNEkqO", 22));
    CHECK(strstr(out, ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096") != NULL);
    /* Replace the random server nonce with the RFC's to check its proof. */
    snprintf(s.nonce, sizeof s.nonce, "rOprNGfwEbeRWgbNEkqO%%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    snprintf(s.server_first, sizeof s.server_first, "r=%s,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", s.nonce);
    long n = scram_server_final(&s, U8("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="), out, sizeof out);
    REQUIRE(n > 0);
    CHECK_STR(out, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    /* The same with one proof bit flipped: refused. */
    scram_server_init(&s, SCRAM_SHA_256);
    REQUIRE_EQ(scram_server_client_first(&s, U8("n,,n=user,r=rOprNGfwEbeRWgbNEkqO")), 0);
    REQUIRE(scram_server_first(&s, &c, out, sizeof out) > 0);
    snprintf(s.nonce, sizeof s.nonce, "rOprNGfwEbeRWgbNEkqO%%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    snprintf(s.server_first, sizeof s.server_first, "r=%s,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", s.nonce);
    CHECK_EQ(scram_server_final(&s, U8("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                                       "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVR="), out, sizeof out),
             SCRAM_EMALFORMED);   /* non-canonical base64 tail */
}

/* One full exchange; returns the server's final rc. */
static long run(int8_t mech, const char *user, const char *cpw, const char *spw, char *sfinal)
{
    scram_client cl;
    scram_server sv;
    scram_cred cred;
    char a[1024], b[1024];
    if (scram_cred_from_password(mech, spw, (const uint8_t *)"saltsaltsalt", 12, 4096, &cred))
        return -100;
    if (scram_client_init(&cl, mech, cpw))
        return -101;
    long n = scram_client_first(&cl, user, "", a, sizeof a);
    if (n < 0)
        return -102;
    scram_server_init(&sv, mech);
    if (scram_server_client_first(&sv, (uint8_t *)a, (size_t)n))
        return -103;
    if (strcmp(sv.user, user))
        return -104;
    n = scram_server_first(&sv, &cred, b, sizeof b);
    if (n < 0)
        return -105;
    n = scram_client_final(&cl, (uint8_t *)b, (size_t)n, a, sizeof a);
    if (n < 0)
        return -106;
    n = scram_server_final(&sv, (uint8_t *)a, (size_t)n, sfinal, 1024);
    if (n < 0)
        return n;
    char why[128];
    int v = scram_client_verify(&cl, (uint8_t *)sfinal, (size_t)n, why, sizeof why);
    scram_client_clear(&cl);
    return v == 0 ? n : -107;
}

TEST(auth_scram_full_exchange)
{
    char fin[1024];
    CHECK(run(SCRAM_SHA_256, "alice", "alice-secret", "alice-secret", fin) > 0);
    CHECK(run(SCRAM_SHA_512, "bob", "b0b", "b0b", fin) > 0);
    CHECK(run(SCRAM_SHA_512, "we,ird=name", "pw", "pw", fin) > 0);
    CHECK_EQ(run(SCRAM_SHA_256, "alice", "wrong", "alice-secret", fin), SCRAM_EAUTH);
    CHECK_EQ(run(SCRAM_SHA_512, "alice", "alice-secret", "alice-secreT", fin), SCRAM_EAUTH);
}

TEST(auth_scram_client_first_parse)
{
    scram_server s;
    scram_server_init(&s, SCRAM_SHA_512);
    CHECK_EQ(scram_server_client_first(&s, U8("n,a=al=2Cice,n=al=2Cice,r=abc,tokenauth=true")), 0);
    CHECK_STR(s.user, "al,ice");
    CHECK_STR(s.authzid, "al,ice");
    CHECK_STR(s.gs2, "n,a=al=2Cice,");
    CHECK(s.tokenauth);
    CHECK_STR(s.client_first_bare, "n=al=2Cice,r=abc,tokenauth=true");
    scram_server_init(&s, SCRAM_SHA_512);
    CHECK_EQ(scram_server_client_first(&s, U8("n,,m=x,n=u,r=abc")), 0);
    const char *bad[] = {
        "y,,n=u,r=abc",          /* channel binding flags other than n */
        "p=tls-unique,,n=u,r=abc",
        "n,,n=,r=abc",           /* empty name */
        "n,,n=u=2X,r=abc",       /* bad escape */
        "n,,n=u=2,r=abc",
        "n,,n=u,r=",             /* empty nonce */
        "n,,n=u,r=a b",          /* nonce not printable */
        "n,,r=abc,n=u",          /* order */
        "n,,n=u,r=abc,",         /* trailing comma */
        "n,,n=u,r=abc,x",
        "n,,n=\xc3\xa9,r=abc",   /* Kafka's saslname class is ASCII */
        "n,n=u,r=abc",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        scram_server_init(&s, SCRAM_SHA_256);
        if (scram_server_client_first(&s, U8(bad[i])) != SCRAM_EMALFORMED)
            test_fail(__FILE__, __LINE__, "accepted or wrong rc: %s", bad[i]);
    }
    scram_server_init(&s, SCRAM_SHA_256);
    CHECK_EQ(scram_server_client_first(&s, U8("n,,n=u,r=abc,foo=bar")), 0);   /* ignored, as Kafka */
    CHECK(!s.tokenauth);
    scram_server_init(&s, SCRAM_SHA_256);
    CHECK_EQ(scram_server_client_first(&s, U8("n,,n=u,r=abc,f0o=bar")), SCRAM_EMALFORMED);
    /* NUL inside, and oversize. */
    scram_server_init(&s, SCRAM_SHA_256);
    CHECK_EQ(scram_server_client_first(&s, (const uint8_t *)"n,,n=u\0,r=abc", 13), SCRAM_EMALFORMED);
    static uint8_t big[SCRAM_MAX_MSG + 10];
    memset(big, 'a', sizeof big);
    memcpy(big, "n,,n=u,r=", 9);
    scram_server_init(&s, SCRAM_SHA_256);
    CHECK_EQ(scram_server_client_first(&s, big, sizeof big), SCRAM_EMALFORMED);
    /* Out of order. */
    char out[256];
    scram_server_init(&s, SCRAM_SHA_256);
    CHECK_EQ(scram_server_final(&s, U8("c=biws,r=x,p=AA=="), out, sizeof out), SCRAM_ESTATE);
    /* Unknown user: no server-first. */
    scram_server_init(&s, SCRAM_SHA_256);
    REQUIRE_EQ(scram_server_client_first(&s, U8("n,,n=u,r=abc")), 0);
    CHECK_EQ(scram_server_first(&s, NULL, out, sizeof out), SCRAM_EAUTH);
}

/* A correct client-final with its nonce or channel binding changed. */
TEST(auth_scram_client_final_tampering)
{
    scram_cred c;
    scram_cred_from_password(SCRAM_SHA_256, "pw", (const uint8_t *)"salt", 4, 4096, &c);
    /* c= of another GS2 header; a nonce that does not end with the server's;
     * an extension the proof did not cover; a longer nonce ending with the server's (librdkafka's
     * habit, accepted as Kafka does) but then the proof no longer matches. */
    const char *edits[][2] = { { "c=biws", "c=eSws" }, { ",p=", "X,p=" }, { ",p=", ",x=1,p=" },
                               { ",r=", ",r=X" } };
    for (size_t i = 0; i < 4; i++) {
        scram_client cl;
        scram_server sv;
        char a[1024], b[1024], t[1100];
        scram_client_init(&cl, SCRAM_SHA_256, "pw");
        long n = scram_client_first(&cl, "u", "", a, sizeof a);
        scram_server_init(&sv, SCRAM_SHA_256);
        REQUIRE_EQ(scram_server_client_first(&sv, (uint8_t *)a, (size_t)n), 0);
        n = scram_server_first(&sv, &c, b, sizeof b);
        REQUIRE(n > 0);
        n = scram_client_final(&cl, (uint8_t *)b, (size_t)n, a, sizeof a);
        REQUIRE(n > 0);
        char *at = strstr(a, edits[i][0]);
        REQUIRE(at != NULL);
        snprintf(t, sizeof t, "%.*s%s%s", (int)(at - a), a, edits[i][1], at + strlen(edits[i][0]));
        long rc = scram_server_final(&sv, (uint8_t *)t, strlen(t), b, sizeof b);
        CHECK_EQ(rc, SCRAM_EAUTH);
    }
}

TEST(auth_scram_client_refuses_bad_server_first)
{
    const char *bad[] = {
        "r=OTHERNONCE,s=c2FsdA==,i=4096",   /* does not extend our nonce */
        "r=%s,s=c2FsdA==,i=100",            /* too few iterations */
        "r=%s,s=c2FsdA==,i=99999999",
        "r=%s,s=,i=4096",
        "r=%s,s=c2FsdA==",
        "r=%s,i=4096,s=c2FsdA==",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        scram_client cl;
        char a[512], sf[512], out[512];
        scram_client_init(&cl, SCRAM_SHA_256, "pw");
        REQUIRE(scram_client_first(&cl, "u", "", a, sizeof a) > 0);
        char nonce[128];
        snprintf(nonce, sizeof nonce, "%sSRV", cl.cnonce);
        /* %s in the template stands for the nonce. */
        const char *at = strstr(bad[i], "%s");
        if (at)
            snprintf(sf, sizeof sf, "%.*s%s%s", (int)(at - bad[i]), bad[i], nonce, at + 2);
        else
            snprintf(sf, sizeof sf, "%s", bad[i]);
        CHECK(scram_client_final(&cl, (uint8_t *)sf, strlen(sf), out, sizeof out) < 0);
    }
    /* e= from the server, and a wrong signature. */
    scram_client cl;
    char why[128];
    scram_client_init(&cl, SCRAM_SHA_256, "pw");
    cl.state = 2;
    CHECK_EQ(scram_client_verify(&cl, U8("e=invalid-proof"), why, sizeof why), SCRAM_EAUTH);
    CHECK(strstr(why, "invalid-proof") != NULL);
    cl.state = 2;
    CHECK_EQ(scram_client_verify(&cl, U8("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="), why, sizeof why),
             SCRAM_EAUTH);
}
