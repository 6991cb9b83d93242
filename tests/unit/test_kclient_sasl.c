/* test_kclient_sasl.c - the kclient's SASL (rpc/kclient_sasl.c) against a
 * peer on a loopback socket that runs the broker's own server side of the
 * exchange (auth/plain, auth/scram_exchange, auth/oauthbearer): PLAIN,
 * SCRAM-SHA-256/512 and OAUTHBEARER log in; a wrong password, a mechanism
 * the peer does not enable and a peer that forges the SCRAM server
 * signature all fail with a message naming the peer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "auth/jaas.h"
#include "auth/oauthbearer.h"
#include "auth/plain.h"
#include "auth/scram_exchange.h"
#include "core/clock.h"
#include "core/endian.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/header.h"
#include "proto/messages/sasl_authenticate.h"
#include "proto/messages/sasl_handshake.h"
#include "rpc/kclient.h"
#include "test.h"
#include "loopback.h"

typedef struct speer {
    int lfd, port;
    pthread_t th;
    const char *enabled;          /* the one mechanism the peer enables */
    bool forge_signature;         /* SCRAM: send a wrong v= */
    int logins;                   /* successful authentications */
} speer;

static void send_resp(int fd, const kreq_header *h, const kf_struct *schema, const void *resp)
{
    obuf ob;
    obuf_init(&ob);
    kresp_header_write(&ob, kresp_header_version(h->api_key, h->api_version), h->correlation_id);
    kcodec_encode(schema, h->api_version, h->api_key == 36 && h->api_version >= 2, resp, &ob);
    uint8_t *buf = malloc(ob.total + 4);
    long n = obuf_flatten(&ob, buf + 4, ob.total);
    be32_store(buf, (uint32_t)n);
    if (write(fd, buf, (size_t)n + 4) != n + 4)
        perror("peer write");
    free(buf);
    obuf_free(&ob);
}

static void *speer_main(void *arg)
{
    speer *pe = arg;
    int fd = accept(pe->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    scram_server ss;
    int8_t smech = scram_mech_parse(pe->enabled);
    scram_server_init(&ss, smech);
    scram_cred cred;
    scram_cred_from_password(smech ? smech : SCRAM_SHA_256, "scram-pw", (const uint8_t *)"salt1234",
                             8, 4096, &cred);
    jaas_config jc;
    char why[128];
    jaas_parse(JAAS_PLAIN_MODULE " required user_broker=\"plain-pw\";", &jc, why, sizeof why);
    arena a;
    arena_init(&a, 1 << 20);
    for (;;) {
        uint32_t size;
        uint8_t *req = loopback_read_frame(fd, 1u << 20, &size);
        if (!req)
            break;
        kreader r;
        kr_init(&r, req, size);
        kreq_header h;
        kreq_header_peek(req, size, &h);
        kreq_header_parse(&r, kreq_header_version(h.api_key, h.api_version), &h);
        bool stop = false;
        if (h.api_key == SASL_HANDSHAKE_API_KEY) {
            sasl_handshake_req q;
            kcodec_decode(&sasl_handshake_req_schema, h.api_version, false, &r, &a, &q);
            sasl_handshake_resp s;
            kcodec_defaults(&sasl_handshake_resp_schema, &s);
            kstr m = kstr_c(pe->enabled);
            s.mechanisms.n = 1;
            s.mechanisms.v = &m;
            if (!kstr_eq(q.mechanism, pe->enabled)) {
                s.error_code = KERR_UNSUPPORTED_SASL_MECHANISM;
                stop = true;
            }
            send_resp(fd, &h, &sasl_handshake_resp_schema, &s);
        } else {
            sasl_authenticate_req q;
            kcodec_decode(&sasl_authenticate_req_schema, h.api_version, h.api_version >= 2, &r, &a, &q);
            sasl_authenticate_resp s;
            kcodec_defaults(&sasl_authenticate_resp_schema, &s);
            char out[1024], user[256];
            const char *msg = NULL;
            long n = 0;
            if (!strcmp(pe->enabled, "PLAIN")) {
                if (plain_authenticate(&jc, q.auth_bytes.p, (size_t)q.auth_bytes.len, user,
                                       sizeof user, &msg) == PLAIN_OK)
                    pe->logins++;
                else
                    s.error_code = KERR_SASL_AUTHENTICATION_FAILED;
            } else if (smech && ss.state == 0) {
                if (scram_server_client_first(&ss, q.auth_bytes.p, (size_t)q.auth_bytes.len) ||
                    (n = scram_server_first(&ss, &cred, out, sizeof out)) < 0)
                    s.error_code = KERR_SASL_AUTHENTICATION_FAILED;
            } else if (smech) {
                n = scram_server_final(&ss, q.auth_bytes.p, (size_t)q.auth_bytes.len, out, sizeof out);
                if (n < 0) {
                    s.error_code = KERR_SASL_AUTHENTICATION_FAILED;
                } else {
                    pe->logins++;
                    if (pe->forge_signature)
                        out[3] = out[3] == 'A' ? 'B' : 'A';
                }
            } else {
                char status[128];
                int64_t exp;
                if (oauth_server_validate(NULL, q.auth_bytes.p, (size_t)q.auth_bytes.len, wall_ms(),
                                          user, sizeof user, &exp, status, sizeof status, why,
                                          sizeof why) == OAUTH_OK && !strcmp(user, "broker"))
                    pe->logins++;
                else
                    s.error_code = KERR_SASL_AUTHENTICATION_FAILED;
            }
            if (s.error_code) {
                s.error_message = kstr_c(msg ? msg : "Authentication failed");
                stop = true;
            } else if (n > 0) {
                s.auth_bytes = (kbytes){ (const uint8_t *)out, (int32_t)n };
            }
            send_resp(fd, &h, &sasl_authenticate_resp_schema, &s);
        }
        free(req);
        arena_reset(&a);
        if (stop)
            break;
    }
    jaas_free(&jc);
    close(fd);
    return NULL;
}

static void speer_start(speer *pe, const char *mech)
{
    memset(pe, 0, sizeof *pe);
    pe->enabled = mech;
    pe->lfd = loopback_listen(&pe->port);
}

/* Connect with `mech`/user/password to a peer enabling `peer_mech`. */
static int login(const char *peer_mech, const char *mech, const char *user, const char *pw,
                 bool forge, int *logins, char *err, size_t errlen)
{
    speer pe;
    speer_start(&pe, peer_mech);
    pe.forge_signature = forge;
    pthread_create(&pe.th, NULL, speer_main, &pe);
    kclient_security sec = { .protocol = 2 };
    snprintf(sec.sasl_mechanism, sizeof sec.sasl_mechanism, "%s", mech);
    snprintf(sec.sasl_username, sizeof sec.sasl_username, "%s", user);
    snprintf(sec.sasl_password, sizeof sec.sasl_password, "%s", pw);
    kclient c;
    kclient_init(&c, "samsa-broker-1", 1 << 20);
    kclient_set_security(&c, &sec);
    err[0] = '\0';
    int rc = kclient_connect(&c, "127.0.0.1", pe.port, 3000, err, errlen);
    kclient_close(&c);
    loopback_close(pe.lfd, pe.th);
    *logins = pe.logins;
    return rc;
}

TEST(kclient_sasl_logs_in_with_each_mechanism)
{
    char err[512];
    int logins;
    CHECK_EQ(login("PLAIN", "PLAIN", "broker", "plain-pw", false, &logins, err, sizeof err), 0);
    CHECK_EQ(logins, 1);
    CHECK_EQ(login("SCRAM-SHA-256", "SCRAM-SHA-256", "broker", "scram-pw", false, &logins, err,
                   sizeof err), 0);
    CHECK_EQ(logins, 1);
    CHECK_EQ(login("SCRAM-SHA-512", "SCRAM-SHA-512", "broker", "scram-pw", false, &logins, err,
                   sizeof err), 0);
    CHECK_EQ(logins, 1);
    CHECK_EQ(login("OAUTHBEARER", "OAUTHBEARER", "broker", "", false, &logins, err, sizeof err), 0);
    CHECK_EQ(logins, 1);
}

TEST(kclient_sasl_failures_name_peer_and_reason)
{
    char err[512];
    int logins;
    CHECK(login("PLAIN", "PLAIN", "broker", "nope", false, &logins, err, sizeof err) != 0);
    CHECK(strstr(err, "127.0.0.1:") && strstr(err, "SASL PLAIN authentication failed") &&
          strstr(err, "Invalid username or password"));
    CHECK(!strstr(err, "nope"));
    CHECK(login("PLAIN", "SCRAM-SHA-512", "broker", "x", false, &logins, err, sizeof err) != 0);
    CHECK(strstr(err, "SaslHandshake for SCRAM-SHA-512 failed") && strstr(err, "the peer enables: PLAIN"));
    CHECK(login("SCRAM-SHA-256", "SCRAM-SHA-256", "broker", "wrong", false, &logins, err,
                sizeof err) != 0);
    CHECK_EQ(logins, 0);
    /* A peer that accepted the proof but cannot prove it knows the key. */
    CHECK(login("SCRAM-SHA-256", "SCRAM-SHA-256", "broker", "scram-pw", true, &logins, err,
                sizeof err) != 0);
    CHECK(strstr(err, "server signature") || strstr(err, "server-final"));
}
