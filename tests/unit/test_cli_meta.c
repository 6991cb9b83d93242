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
