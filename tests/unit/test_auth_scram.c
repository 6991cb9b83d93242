/* test_auth_scram.c - auth/base64 and auth/scram: RFC 7677's SCRAM-SHA-256
 * example, a SHA-512 vector computed independently (Python hashlib:
 * pbkdf2_hmac + hmac), Kafka's stored string form and its refusals. */
#include "test.h"

#include "auth/base64.h"
#include "auth/scram.h"

static void b64(const uint8_t *p, size_t n, char *out, size_t cap)
{
    if (b64_encode(p, n, out, cap) < 0)
        out[0] = '\0';
}

TEST(auth_base64_roundtrip_and_strictness)
{
    char out[64];
    uint8_t bin[64];
    CHECK_EQ(b64_encode((const uint8_t *)"", 0, out, sizeof out), 0);
    CHECK_EQ(b64_encode((const uint8_t *)"f", 1, out, sizeof out), 4);
    CHECK_STR(out, "Zg==");
    CHECK_EQ(b64_encode((const uint8_t *)"foobar", 6, out, sizeof out), 8);
    CHECK_STR(out, "Zm9vYmFy");
    CHECK_EQ(b64_encode((const uint8_t *)"fooba", 5, out, 8), -1);   /* no room for NUL */
    CHECK_EQ(b64_decode("Zm9vYg==", 8, bin, sizeof bin), 4);
    CHECK(!memcmp(bin, "foob", 4));
    CHECK_EQ(b64_decode("Zm9vYg=", 7, bin, sizeof bin), -1);   /* bad padding */
    CHECK_EQ(b64_decode("Zm9vYh==", 8, bin, sizeof bin), -1);  /* trailing bits */
    CHECK_EQ(b64_decode("Zm9v*mFy", 8, bin, sizeof bin), -1);
    CHECK_EQ(b64_decode("Zm9vYmFy", 8, bin, 5), -1);           /* cap */
    CHECK_EQ(b64url_decode("eyJhbGciOiJub25lIn0", 19, bin, sizeof bin), 14);
    CHECK(!memcmp(bin, "{\"alg\":\"none\"}", 14));
    CHECK_EQ(b64url_decode("_-8", 3, bin, sizeof bin), 2);
    CHECK_EQ(b64url_encode(bin, 2, out, sizeof out), 3);
    CHECK_STR(out, "_-8");
}

TEST(auth_scram_names)
{
    CHECK_STR(scram_mech_name(SCRAM_SHA_256), "SCRAM-SHA-256");
    CHECK_STR(scram_mech_name(SCRAM_SHA_512), "SCRAM-SHA-512");
    CHECK(scram_mech_name(3) == NULL);
    CHECK_EQ(scram_mech_parse("SCRAM-SHA-512"), SCRAM_SHA_512);
    CHECK_EQ(scram_mech_parse("scram-sha-256"), 0);
    CHECK_EQ(scram_digest_len(SCRAM_SHA_256), 32);
    CHECK_EQ(scram_digest_len(0), 0);
}

/* RFC 7677 section 3: user "user", password "pencil". */
TEST(auth_scram_rfc7677_sha256)
{
    uint8_t salt[32];
    long sl = b64_decode("W22ZaJ0SNY7soEsUEjb6gQ==", 24, salt, sizeof salt);
    REQUIRE_EQ(sl, 16);
    scram_cred c;
    REQUIRE_EQ(scram_cred_from_password(SCRAM_SHA_256, "pencil", salt, (size_t)sl, 4096, &c), 0);
    char s[128];
    b64(c.stored_key, 32, s, sizeof s);
    CHECK_STR(s, "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=");
    b64(c.server_key, 32, s, sizeof s);
    CHECK_STR(s, "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=");
    /* The proof and server signature of the RFC's exchange. */
    const char *am = "n=user,r=rOprNGfwEbeRWgbNEkqO,"
                     "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
                     "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
                     "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    uint8_t salted[32], ck[32], sig[32], proof[32], v[32];
    REQUIRE_EQ(scram_hi(SCRAM_SHA_256, "pencil", 6, salt, 16, 4096, salted), 0);
    REQUIRE_EQ(scram_hmac(SCRAM_SHA_256, salted, 32, "Client Key", 10, ck), 0);
    REQUIRE_EQ(scram_hmac(SCRAM_SHA_256, c.stored_key, 32, am, strlen(am), sig), 0);
    for (int i = 0; i < 32; i++)
        proof[i] = ck[i] ^ sig[i];
    b64(proof, 32, s, sizeof s);
    CHECK_STR(s, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    REQUIRE_EQ(scram_hmac(SCRAM_SHA_256, c.server_key, 32, am, strlen(am), v), 0);
    b64(v, 32, s, sizeof s);
    CHECK_STR(s, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    /* From the salted password (AlterUserScramCredentials' form): same keys. */
    scram_cred c2;
    REQUIRE_EQ(scram_cred_from_salted(SCRAM_SHA_256, salt, 16, salted, 32, 4096, &c2), 0);
    CHECK(!memcmp(c.stored_key, c2.stored_key, 32));
    CHECK(!memcmp(c.server_key, c2.server_key, 32));
}

/* Computed with Python: hashlib.pbkdf2_hmac('sha512', b"s3cr3t-\xc3\xa9",
 * b"samsa-salt-512", 4096), then hmac "Client Key"/"Server Key", sha512. */
TEST(auth_scram_sha512_vector)
{
    const char *salt = "samsa-salt-512";
    scram_cred c;
    REQUIRE_EQ(scram_cred_from_password(SCRAM_SHA_512, "s3cr3t-\xc3\xa9", (const uint8_t *)salt,
                                        strlen(salt), 4096, &c), 0);
    char s[256];
    uint8_t salted[64];
    REQUIRE_EQ(scram_hi(SCRAM_SHA_512, "s3cr3t-\xc3\xa9", 9, (const uint8_t *)salt,
                        strlen(salt), 4096, salted), 0);
    b64(salted, 64, s, sizeof s);
    CHECK_STR(s, "1Ku7DOH9bym7+lViW8Br/97DNv7mSeLI7EGRgoOoajnzY2Rshpu9g53OyhW89VPd4QGrCdjREsNkEWl8u+UNDA==");
    b64(c.stored_key, 64, s, sizeof s);
    CHECK_STR(s, "kp58BdKMIY2cdjBtfFsC5CyfHWAuf82qcRUTuS/IlwSNoDgH7TaOVhj1spL0w0CMsZs53WzuZ6o42BsqnbYodg==");
    b64(c.server_key, 64, s, sizeof s);
    CHECK_STR(s, "Nzb++6ItTa3rC4L3jd1L3EQqlG0W+7GPOqQFlUx3MGuR9XSUxlolHPR7ihSA7C7Uwwc67gvtOZrCLm8Uci1l4A==");
}

TEST(auth_scram_cred_bounds)
{
    uint8_t salt[SCRAM_MAX_SALT + 1] = { 1 }, salted[64] = { 0 };
    scram_cred c;
    CHECK_EQ(scram_cred_from_password(SCRAM_SHA_256, "p", salt, 8, 4095, &c), -1);
    CHECK_EQ(scram_cred_from_password(SCRAM_SHA_256, "p", salt, 8, 16385, &c), -1);
    CHECK_EQ(scram_cred_from_password(SCRAM_SHA_256, "p", salt, 0, 4096, &c), -1);
    CHECK_EQ(scram_cred_from_password(SCRAM_SHA_256, "p", salt, SCRAM_MAX_SALT + 1, 4096, &c), -1);
    CHECK_EQ(scram_cred_from_password(3, "p", salt, 8, 4096, &c), -1);
    CHECK_EQ(scram_cred_from_salted(SCRAM_SHA_512, salt, 8, salted, 32, 4096, &c), -1);
    CHECK_EQ(scram_cred_from_salted(SCRAM_SHA_512, salt, 8, salted, 64, 16384, &c), 0);
}

TEST(auth_scram_cred_string_roundtrip)
{
    scram_cred c, back;
    char s[512], why[128];
    REQUIRE_EQ(scram_cred_from_password(SCRAM_SHA_512, "alice-secret", (const uint8_t *)"0123456789abcdef",
                                        16, 8192, &c), 0);
    REQUIRE_EQ(scram_cred_format(&c, s, sizeof s), 0);
    CHECK(!strncmp(s, "salt=MDEyMzQ1Njc4OWFiY2RlZg==,stored_key=", 41));
    CHECK(strstr(s, ",iterations=8192") != NULL);
    char small[40];
    CHECK_EQ(scram_cred_format(&c, small, sizeof small), -1);
    REQUIRE_EQ(scram_cred_parse(SCRAM_SHA_512, s, &back, why, sizeof why), 0);
    CHECK_EQ(back.mech, SCRAM_SHA_512);
    CHECK_EQ(back.iterations, 8192);
    CHECK_EQ(back.salt_len, 16);
    CHECK(!memcmp(back.salt, c.salt, 16));
    CHECK(!memcmp(back.stored_key, c.stored_key, 64));
    CHECK(!memcmp(back.server_key, c.server_key, 64));
    /* Wrong mechanism: the keys have the wrong length. */
    CHECK_EQ(scram_cred_parse(SCRAM_SHA_256, s, &back, why, sizeof why), -1);
    /* Kafka's RFC example credential, keys in another order. */
    const char *k = "iterations=4096,server_key=wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=,"
                    "stored_key=WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,salt=W22ZaJ0SNY7soEsUEjb6gQ==";
    CHECK_EQ(scram_cred_parse(SCRAM_SHA_256, k, &back, why, sizeof why), 0);
    const char *bad[] = {
        "",
        "salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key=WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
        "server_key=wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=",                         /* no iterations */
        "salt=W22ZaJ0SNY7soEsUEjb6gQ==,salt=W22ZaJ0SNY7soEsUEjb6gQ==,iterations=4096",
        "salt=,stored_key=x,server_key=y,iterations=4096",
        "salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key=WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
        "server_key=wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=,iterations=12x",
        "salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key=WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
        "server_key=wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=,iterations=100",
        "salt=W22ZaJ0SNY7soEsUEjb6gQ==,stored_key=WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=,"
        "server_key=wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=,iterations=4096,extra=1",
        "=x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        why[0] = '\0';
        CHECK_EQ(scram_cred_parse(SCRAM_SHA_256, bad[i], &back, why, sizeof why), -1);
        CHECK(why[0] != '\0');
    }
}
