/* test_kclient.c - the inter-broker client against a peer on a real
 * loopback socket: headers as Kafka frames them (v1/v2 requests, v0/v1
 * responses, ApiVersions' special case), bodies through the codec, and
 * every way a peer can misbehave (silence, a giant frame, a wrong
 * correlation id, a dead port) ends in a bounded error naming the peer. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/endian.h"
#include "core/errors.h"
#include "proto/codec.h"
#include "proto/header.h"
#include "proto/messages/api_versions.h"
#include "proto/messages/metadata.h"
#include "rpc/kclient.h"
#include "test.h"
#include "loopback.h"

enum peer_mode { PEER_ANSWER, PEER_SILENT, PEER_GIANT, PEER_WRONG_CORR };

typedef struct peer {
    int lfd, port;
    enum peer_mode mode;
    pthread_t th;
    /* what the peer saw */
    int16_t key, version;
    char client_id[64];
    int header_ok;
} peer;

static void send_frame(int fd, obuf *ob)
{
    uint8_t *buf = malloc(ob->total + 4);
    long n = obuf_flatten(ob, buf + 4, ob->total);
    be32_store(buf, (uint32_t)n);
    if (write(fd, buf, (size_t)n + 4) != n + 4)
        perror("peer write");
    free(buf);
}

/* Serve one connection: read each request, answer per mode. */
static void *peer_main(void *arg)
{
    peer *pe = arg;
    int fd = accept(pe->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    for (;;) {
        uint32_t size;
        uint8_t *req = loopback_read_frame(fd, 1u << 20, &size);
        if (!req)
            break;
        kreader r;
        kr_init(&r, req, size);
        kreq_header h;
        kreq_header_peek(req, size, &h);
        pe->key = h.api_key;
        pe->version = h.api_version;
        pe->header_ok = kreq_header_parse(&r, kreq_header_version(h.api_key, h.api_version),
                                          &h) == 0;
        if (h.client_id.len > 0 && h.client_id.len < 64) {
            memcpy(pe->client_id, h.client_id.p, (size_t)h.client_id.len);
            pe->client_id[h.client_id.len] = 0;
        }
        obuf ob;
        obuf_init(&ob);
        int32_t corr = h.correlation_id + (pe->mode == PEER_WRONG_CORR ? 1 : 0);
        kresp_header_write(&ob, kresp_header_version(h.api_key, h.api_version), corr);
        if (pe->mode == PEER_GIANT) {
            uint8_t big[4];
            be32_store(big, 100u << 20);          /* claims 100 MiB */
            if (write(fd, big, 4) != 4)
                perror("peer write");
        } else if (pe->mode == PEER_ANSWER || pe->mode == PEER_WRONG_CORR) {
            if (h.api_key == 18) {
                api_versions_resp_api_keys keys[2] = { { 0, 3, 9 }, { 1, 4, 12 } };
                api_versions_resp resp;
                kcodec_defaults(&api_versions_resp_schema, &resp);
                resp.api_keys.n = 2;
                resp.api_keys.v = keys;
                kcodec_encode(&api_versions_resp_schema, h.api_version, h.api_version >= 3,
                              &resp, &ob);
            } else {
                metadata_resp_brokers b = { 7, kstr_c("peer-host"), 9097, kstr_c("rack-a") };
                metadata_resp resp;
                kcodec_defaults(&metadata_resp_schema, &resp);
                resp.brokers.n = 1;
                resp.brokers.v = &b;
                resp.controller_id = 7;
                resp.cluster_id = kstr_c("cid");
                kcodec_encode(&metadata_resp_schema, h.api_version, h.api_version >= 9, &resp,
                              &ob);
            }
            send_frame(fd, &ob);
        }
        obuf_free(&ob);
        free(req);
        if (pe->mode != PEER_ANSWER)
            break;
    }
    if (pe->mode == PEER_SILENT)
        usleep(600 * 1000);         /* hold the connection open, say nothing */
    close(fd);
    return NULL;
}

static void peer_start(peer *pe, enum peer_mode mode)
{
    memset(pe, 0, sizeof *pe);
    pe->mode = mode;
    pe->lfd = loopback_listen(&pe->port);
    pthread_create(&pe->th, NULL, peer_main, pe);
}

static void peer_stop(peer *pe)
{
    loopback_close(pe->lfd, pe->th);
}

TEST(kclient_calls_frame_like_kafka)
{
    peer pe;
    peer_start(&pe, PEER_ANSWER);
    kclient c;
    kclient_init(&c, "samsa-broker-3", 1 << 20);
    char err[256];
    REQUIRE(kclient_connect(&c, "127.0.0.1", pe.port, 2000, err, sizeof err) == 0);
    arena a;
    arena_init(&a, 1 << 20);

    /* ApiVersions v3: flexible request header, v0 response header. */
    api_versions_req req;
    kcodec_defaults(&api_versions_req_schema, &req);
    req.client_software_name = kstr_c("samsa");
    req.client_software_version = kstr_c("1");
    api_versions_resp resp;
    REQUIRE(kclient_call(&c, 18, 3, &req, &a, &resp, 2000, err, sizeof err) == 0);
    CHECK(pe.header_ok);
    CHECK_EQ(pe.key, 18);
    CHECK_EQ(pe.version, 3);
    CHECK_STR(pe.client_id, "samsa-broker-3");
    REQUIRE_EQ(resp.api_keys.n, 2);
    CHECK_EQ(resp.api_keys.v[1].api_key, 1);
    CHECK_EQ(resp.api_keys.v[1].max_version, 12);

    /* Metadata v12: flexible both ways (a v1 response header). */
    metadata_req mreq;
    kcodec_defaults(&metadata_req_schema, &mreq);
    metadata_resp mresp;
    REQUIRE(kclient_call(&c, 3, 12, &mreq, &a, &mresp, 2000, err, sizeof err) == 0);
    CHECK(pe.header_ok);
    REQUIRE_EQ(mresp.brokers.n, 1);
    CHECK_EQ(mresp.brokers.v[0].node_id, 7);
    CHECK(kstr_eq(mresp.brokers.v[0].host, "peer-host"));
    CHECK(kstr_eq(mresp.brokers.v[0].rack, "rack-a"));
    CHECK_EQ(mresp.controller_id, 7);

    /* Metadata v1: neither is flexible. */
    REQUIRE(kclient_call(&c, 3, 1, &mreq, &a, &mresp, 2000, err, sizeof err) == 0);
    CHECK_EQ(mresp.brokers.v[0].port, 9097);
    kclient_close(&c);
    arena_reset(&a);
    peer_stop(&pe);
}

static int call_once(enum peer_mode mode, int timeout_ms, char *err, size_t errlen,
                     double *took)
{
    peer pe;
    peer_start(&pe, mode);
    kclient c;
    kclient_init(&c, "t", 1 << 20);
    arena a;
    arena_init(&a, 1 << 20);
    int rc = kclient_connect(&c, "127.0.0.1", pe.port, 2000, err, errlen);
    api_versions_req req;
    api_versions_resp resp;
    kcodec_defaults(&api_versions_req_schema, &req);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (rc == 0)
        rc = kclient_call(&c, 18, 0, &req, &a, &resp, timeout_ms, err, errlen);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    *took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (rc != 0)
        CHECK(!kclient_connected(&c));      /* a failed call leaves it closed */
    kclient_close(&c);
    arena_reset(&a);
    peer_stop(&pe);
    return rc;
}

TEST(kclient_misbehaving_peers_end_in_bounded_errors)
{
    char err[256];
    double took;
    CHECK_EQ(call_once(PEER_SILENT, 300, err, sizeof err, &took), KERR__IO);
    CHECK(strstr(err, "timed out") != NULL);
    CHECK(strstr(err, "127.0.0.1:") != NULL);
    CHECK(took >= 0.29 && took < 5);

    CHECK_EQ(call_once(PEER_GIANT, 2000, err, sizeof err, &took), KERR__PARSE);
    CHECK(strstr(err, "104857600 bytes") != NULL);

    CHECK_EQ(call_once(PEER_WRONG_CORR, 2000, err, sizeof err, &took), KERR__PARSE);
    CHECK(strstr(err, "correlation") != NULL);

    /* Nobody listens on a port we just closed. */
    peer pe;
    peer_start(&pe, PEER_ANSWER);
    int port = pe.port;
    peer_stop(&pe);
    kclient c;
    kclient_init(&c, "t", 1 << 20);
    CHECK_EQ(kclient_connect(&c, "127.0.0.1", port, 1000, err, sizeof err), KERR__IO);
    CHECK(strstr(err, "cannot connect") != NULL);
    kclient_close(&c);
}

typedef struct cutter {
    kclient *c;
    int delay_ms;
} cutter;

static void *cut_after(void *arg)
{
    cutter *k = arg;
    struct timespec ts = { 0, (long)k->delay_ms * 1000000L };
    nanosleep(&ts, NULL);
    kclient_cut(k->c);
    return NULL;
}

/* kclient_cut from another thread ends a call to a silent peer at once
 * (not at its 10 s deadline) and says so; a cut while no call runs makes
 * the next call fail at once; a later call is not cut. */
TEST(kclient_cut_ends_a_call_at_once)
{
    peer pe;
    peer_start(&pe, PEER_SILENT);
    kclient c;
    kclient_init(&c, "t", 1 << 20);
    arena a;
    arena_init(&a, 1 << 20);
    char err[256];
    api_versions_req req;
    api_versions_resp resp;
    kcodec_defaults(&api_versions_req_schema, &req);
    REQUIRE_EQ(kclient_connect(&c, "127.0.0.1", pe.port, 2000, err, sizeof err), 0);
    cutter k = { &c, 100 };
    pthread_t th;
    REQUIRE_EQ(pthread_create(&th, NULL, cut_after, &k), 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_EQ(kclient_call(&c, 18, 0, &req, &a, &resp, 10000, err, sizeof err), KERR__IO);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    pthread_join(th, NULL);
    double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    CHECK(took < 5);
    CHECK(kclient_was_cut(&c));

    /* Cut between calls: the next one does not start. */
    kclient_cut(&c);
    CHECK_EQ(kclient_call(&c, 18, 0, &req, &a, &resp, 10000, err, sizeof err), KERR__IO);
    CHECK(kclient_was_cut(&c));
    CHECK(strstr(err, "cut short") != NULL);
    kclient_close(&c);
    arena_reset(&a);
    peer_stop(&pe);

    /* No cut pending: a call to an answering peer succeeds, not cut. */
    peer_start(&pe, PEER_ANSWER);
    arena_init(&a, 1 << 20);
    REQUIRE_EQ(kclient_connect(&c, "127.0.0.1", pe.port, 2000, err, sizeof err), 0);
    memset(&resp, 0, sizeof resp);
    CHECK_EQ(kclient_call(&c, 18, 0, &req, &a, &resp, 5000, err, sizeof err), 0);
    CHECK(!kclient_was_cut(&c));
    kclient_close(&c);
    arena_reset(&a);
    peer_stop(&pe);
}
