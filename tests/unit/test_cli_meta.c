/*
 * test_cli_meta.c - the CLI's Metadata v7 request encoder and response
 * decoder (src/cli/meta_wire.c): exact request bytes, a decoded response
 * (sorted, nullable strings, counts), every truncation rejected, counts
 * larger than the bytes left rejected before allocating, correlation id and
 * trailing bytes checked.
 */
#include <stdlib.h>

#include "cli/meta.h"
#include "test.h"

/* A tiny big-endian writer for building responses. */
typedef struct {
    uint8_t b[1024];
    size_t n;
} mb_t;

static void w16(mb_t *m, int v) { m->b[m->n++] = (uint8_t)(v >> 8); m->b[m->n++] = (uint8_t)v; }
static void w32(mb_t *m, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int s = 24; s >= 0; s -= 8)
        m->b[m->n++] = (uint8_t)(u >> s);
}
static void wstr(mb_t *m, const char *s)
{
    if (!s) {
        w16(m, -1);
        return;
    }
    w16(m, (int)strlen(s));
    memcpy(m->b + m->n, s, strlen(s));
    m->n += strlen(s);
}
static void wids(mb_t *m, int n, const int32_t *ids)
{
    w32(m, n);
    for (int k = 0; k < n; k++)
        w32(m, ids[k]);
}

/* Two brokers (2 with a rack, 0 without), controller 2, topics "zeta" (one
 * healthy partition) and "alpha" (partition 1 with broker 0 offline and out
 * of the ISR; partition 0 without a leader), given out of order. */
static void build_response(mb_t *m, int32_t corr)
{
    static const int32_t r3[] = {2, 0, 1}, isr2[] = {2, 1}, off0[] = {0}, r1[] = {2};
    m->n = 0;
    w32(m, corr);
    w32(m, 0);                          /* throttle */
    w32(m, 2);
    w32(m, 2); wstr(m, "b2.local"); w32(m, 9094); wstr(m, "rack-b");
    w32(m, 0); wstr(m, "b0.local"); w32(m, 9092); wstr(m, NULL);
    wstr(m, "cluster-xyz");
    w32(m, 2);                          /* controller */
    w32(m, 2);
    w16(m, 0); wstr(m, "zeta"); m->b[m->n++] = 0;
    w32(m, 1);
    w16(m, 0); w32(m, 0); w32(m, 2); w32(m, 7); wids(m, 1, r1); wids(m, 1, r1); wids(m, 0, NULL);
    w16(m, 0); wstr(m, "alpha"); m->b[m->n++] = 1;
    w32(m, 2);
    w16(m, 0); w32(m, 1); w32(m, 2); w32(m, 5); wids(m, 3, r3); wids(m, 2, isr2); wids(m, 1, off0);
    w16(m, 5); w32(m, 0); w32(m, -1); w32(m, 3); wids(m, 3, r3); wids(m, 1, off0); wids(m, 1, off0);
}

TEST(cli_meta_encode_request)
{
    uint8_t buf[128];
    static const uint8_t want_all[] = {
        0, 0, 0, 20,            /* size */
        0, 3, 0, 7,             /* Metadata v7 */
        0, 0, 0, 9,             /* correlation id */
        0, 5, 's', 'a', 'm', 's', 'a',
        0xff, 0xff, 0xff, 0xff, /* topics: null = all */
        0,                      /* allow_auto_topic_creation */
    };
    size_t n = cli_meta_encode_request(buf, sizeof buf, 9, "samsa", NULL);
    REQUIRE_EQ(n, sizeof want_all);
    CHECK(!memcmp(buf, want_all, n));

    n = cli_meta_encode_request(buf, sizeof buf, 1, "c", "orders");
    REQUIRE_EQ(n, 4 + 2 + 2 + 4 + 3 + 4 + 8 + 1);
    CHECK_EQ(buf[3], n - 4);
    CHECK_EQ(buf[18], 1);                     /* one topic */
    CHECK(!memcmp(buf + 19, "\0\6orders", 8));
    CHECK_EQ(buf[n - 1], 0);
    CHECK_EQ(cli_meta_encode_request(buf, 10, 1, "c", "orders"), 0);   /* too small */
}

TEST(cli_meta_decode_response)
{
    mb_t m;
    char err[128];
    build_response(&m, 42);
    cli_meta_t *md = cli_meta_decode(m.b, m.n, 42, err, sizeof err);
    REQUIRE(md != NULL);
    CHECK(md->detailed);
    CHECK_STR(md->cluster_id, "cluster-xyz");
    CHECK_EQ(md->controller_id, 2);
    REQUIRE_EQ(md->nbrokers, 2);
    CHECK_EQ(md->brokers[0].id, 0);           /* sorted by id */
    CHECK(md->brokers[0].rack == NULL);
    CHECK_STR(md->brokers[1].host, "b2.local");
    CHECK_EQ(md->brokers[1].port, 9094);
    CHECK_STR(md->brokers[1].rack, "rack-b");
    CHECK(cli_meta_broker(md, 2) == &md->brokers[1]);
    CHECK(cli_meta_broker(md, 7) == NULL);

    REQUIRE_EQ(md->ntopics, 2);
    const cli_mtopic_t *a = &md->topics[0];   /* sorted by name */
    CHECK_STR(a->name, "alpha");
    CHECK(a->internal);
    REQUIRE_EQ(a->nparts, 2);
    CHECK_EQ(a->parts[0].id, 0);              /* sorted by id */
    CHECK_EQ(a->parts[0].err, 5);
    CHECK_EQ(a->parts[0].leader, -1);
    CHECK_EQ(a->parts[1].leader, 2);
    CHECK_EQ(a->parts[1].leader_epoch, 5);
    REQUIRE_EQ(a->parts[1].nreplicas, 3);
    CHECK_EQ(a->parts[1].replicas[0], 2);
    CHECK_EQ(a->parts[1].replicas[2], 1);
    REQUIRE_EQ(a->parts[1].nisr, 2);
    CHECK_EQ(a->parts[1].isr[1], 1);
    REQUIRE_EQ(a->parts[1].noffline, 1);
    CHECK_EQ(a->parts[1].offline[0], 0);
    CHECK_STR(md->topics[1].name, "zeta");
    CHECK(!md->topics[1].internal);
    CHECK_EQ(md->topics[1].parts[0].noffline, 0);

    cli_meta_counts_t c;
    cli_meta_count(md, &c);
    CHECK_EQ(c.topics, 2);
    CHECK_EQ(c.internal_topics, 1);
    CHECK_EQ(c.partitions, 3);
    CHECK_EQ(c.under_replicated, 2);          /* alpha/0 and alpha/1 */
    CHECK_EQ(c.offline, 1);                   /* alpha/0 */
    cli_meta_free(md);
}

TEST(cli_meta_decode_rejects_every_truncation)
{
    mb_t m;
    char err[128];
    build_response(&m, 1);
    for (size_t n = 0; n < m.n; n++) {
        cli_meta_t *md = cli_meta_decode(m.b, n, 1, err, sizeof err);
        CHECK(md == NULL);
        cli_meta_free(md);
    }
    CHECK(strstr(err, "Metadata v7") != NULL);
}

TEST(cli_meta_decode_rejects_bad_frames)
{
    mb_t m;
    char err[128];
    build_response(&m, 1);
    CHECK(cli_meta_decode(m.b, m.n, 2, err, sizeof err) == NULL);
    CHECK(strstr(err, "correlation id") != NULL);

    m.b[m.n++] = 0;                           /* one byte too many */
    CHECK(cli_meta_decode(m.b, m.n, 1, err, sizeof err) == NULL);
    CHECK(strstr(err, "trailing") != NULL);

    /* A broker count of 2^31-1 with a few bytes behind it: refused before
     * any allocation (ASan/LSan would see a huge calloc or a leak). */
    mb_t h = {.n = 0};
    w32(&h, 1);
    w32(&h, 0);
    w32(&h, INT32_MAX);
    w32(&h, 0);
    CHECK(cli_meta_decode(h.b, h.n, 1, err, sizeof err) == NULL);

    /* A null host is malformed (only rack and cluster id are nullable). */
    build_response(&m, 1);
    size_t host_len_at = 4 + 4 + 4 + 4;       /* corr, throttle, count, node id */
    m.b[host_len_at] = 0xff;
    m.b[host_len_at + 1] = 0xff;
    CHECK(cli_meta_decode(m.b, m.n, 1, err, sizeof err) == NULL);
}

/* ---- ElectLeaders v1 and IncrementalAlterConfigs v0 (issue 14) ---- */

TEST(cli_elect_encode_request)
{
    uint8_t buf[256];
    int32_t parts[] = { 0, 2 };
    size_t n = cli_elect_encode_request(buf, sizeof buf, 7, "cli", 1, "t", parts, 2, 5000);
    static const uint8_t want[] = {
        0, 0, 0, 37,            /* size */
        0, 43, 0, 1, 0, 0, 0, 7, 0, 3, 'c', 'l', 'i',
        1,                      /* election type: unclean */
        0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2,
        0, 0, 0x13, 0x88,       /* timeout 5000 */
    };
    REQUIRE_EQ(n, sizeof want);
    CHECK(!memcmp(buf, want, n));
    /* null = every partition */
    n = cli_elect_encode_request(buf, sizeof buf, 7, "cli", 0, NULL, NULL, 0, 5000);
    CHECK_EQ(n, 4 + 13 + 1 + 4 + 4);
    CHECK(!memcmp(buf + 18, "\xff\xff\xff\xff", 4));
    CHECK_EQ(cli_elect_encode_request(buf, 10, 7, "cli", 0, NULL, NULL, 0, 5000), 0);
}

TEST(cli_elect_decode_response)
{
    mb_t m = { .n = 0 };
    w32(&m, 9);                  /* correlation id */
    w32(&m, 0);                  /* throttle */
    w16(&m, 0);                  /* top-level error */
    w32(&m, 2);
    wstr(&m, "a");
    w32(&m, 2);
    w32(&m, 0), w16(&m, 0), wstr(&m, NULL);
    w32(&m, 1), w16(&m, 84), wstr(&m, "not needed");
    wstr(&m, "b");
    w32(&m, 1);
    w32(&m, 3), w16(&m, 80), wstr(&m, "x");
    int16_t top = -1;
    cli_elect_t *v = NULL;
    int n = 0;
    char err[128];
    REQUIRE_EQ(cli_elect_decode(m.b, m.n, 9, &top, &v, &n, err, sizeof err), 0);
    CHECK_EQ(top, 0);
    REQUIRE_EQ(n, 3);
    CHECK(!strcmp(v[0].topic, "a") && v[0].partition == 0 && v[0].error == 0 && !v[0].message);
    CHECK(!strcmp(v[1].message, "not needed") && v[1].error == 84);
    CHECK(!strcmp(v[2].topic, "b") && v[2].partition == 3 && v[2].error == 80);
    cli_elect_free(v, n);
    /* every truncation, a wrong correlation id, a count beyond the bytes */
    for (size_t cut = 0; cut < m.n; cut++)
        CHECK_EQ(cli_elect_decode(m.b, cut, 9, &top, &v, &n, err, sizeof err), -1);
    CHECK_EQ(cli_elect_decode(m.b, m.n, 8, &top, &v, &n, err, sizeof err), -1);
    m.b[10] = 0x7f;              /* topic count: huge */
    CHECK_EQ(cli_elect_decode(m.b, m.n, 9, &top, &v, &n, err, sizeof err), -1);
}

TEST(cli_iac_encode_and_decode)
{
    uint8_t buf[256];
    size_t n = cli_iac_encode_request(buf, sizeof buf, 3, "c", 4, "2", "k", 1, NULL);
    static const uint8_t want[] = {
        0, 0, 0, 30, 0, 44, 0, 0, 0, 0, 0, 3, 0, 1, 'c',
        0, 0, 0, 1, 4, 0, 1, '2',                       /* BROKER "2" */
        0, 0, 0, 1, 0, 1, 'k', 1, 0xff, 0xff,           /* k DELETE null */
        0,                                              /* validate_only */
    };
    REQUIRE_EQ(n, sizeof want);
    CHECK(!memcmp(buf, want, n));
    mb_t m = { .n = 0 };
    w32(&m, 3), w32(&m, 0), w32(&m, 1), w16(&m, 42), wstr(&m, "why");
    m.b[m.n++] = 4;
    wstr(&m, "2");
    int16_t e = 0;
    char *msg = NULL, err[128];
    REQUIRE_EQ(cli_iac_decode(m.b, m.n, 3, &e, &msg, err, sizeof err), 0);
    CHECK(e == 42 && msg && !strcmp(msg, "why"));
    free(msg);
    CHECK_EQ(cli_iac_decode(m.b, 9, 3, &e, &msg, err, sizeof err), -1);
}

TEST(cli_dc_one_key)
{
    uint8_t buf[128];
    size_t n = cli_dc_encode_request(buf, sizeof buf, 5, "c", 4, "1", "k");
    static const uint8_t want[] = {
        0, 0, 0, 26, 0, 32, 0, 0, 0, 0, 0, 5, 0, 1, 'c',
        0, 0, 0, 1, 4, 0, 1, '1', 0, 0, 0, 1, 0, 1, 'k',
    };
    REQUIRE_EQ(n, sizeof want);
    CHECK(!memcmp(buf, want, n));
    mb_t m = { .n = 0 };
    w32(&m, 5), w32(&m, 0), w32(&m, 1), w16(&m, 0), wstr(&m, NULL);
    m.b[m.n++] = 4;
    wstr(&m, "1");
    w32(&m, 2);
    wstr(&m, "other"), wstr(&m, "x"), m.b[m.n++] = 0, m.b[m.n++] = 0, m.b[m.n++] = 0;
    wstr(&m, "k"), wstr(&m, "true"), m.b[m.n++] = 0, m.b[m.n++] = 0, m.b[m.n++] = 0;
    char *v = NULL, err[128];
    REQUIRE_EQ(cli_dc_decode(m.b, m.n, 5, "k", &v, err, sizeof err), 0);
    CHECK(v && !strcmp(v, "true"));
    free(v);
    for (size_t cut = 0; cut < m.n; cut++)
        CHECK_EQ(cli_dc_decode(m.b, cut, 5, "k", &v, err, sizeof err), -1);
    m.b[12] = 0, m.b[13] = 41;   /* the resource's error */
    CHECK_EQ(cli_dc_decode(m.b, m.n, 5, "k", &v, err, sizeof err), -1);
}
