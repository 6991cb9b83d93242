/* test_group.c - the pure parts of the group coordinator: partition choice
 * (Kafka's Utils.abs(String.hashCode) % n), protocol selection, member
 * lookups, and the __consumer_offsets record formats. */
#include "test.h"

#include <stdlib.h>

#include "core/arena.h"
#include "core/obuf.h"
#include "group/group.h"
#include "group/offsets_records.h"
#include "proto/codec.h"

TEST(group_partition_matches_kafka)
{
    /* Expected values computed with Java's String.hashCode over UTF-16
     * code units and Kafka's Utils.abs, modulo 50. */
    CHECK_EQ(group_partition_for("my-group", 8, 50), 12);
    CHECK_EQ(group_partition_for("g1", 2, 50), 42);
    CHECK_EQ(group_partition_for("console-consumer-12345", 22, 50), 6);
    CHECK_EQ(group_partition_for("gr\xc3\xbc\xc3\x9f" "e", 7, 50), 23);   /* grüße */
    CHECK_EQ(group_partition_for("\xf0\x9f\x98\x80x", 5, 50), 39);       /* U+1F600 x */
    CHECK_EQ(group_partition_for("", 0, 50), 0);
}

static member *mk(const char *id, const char *const *protos, int n)
{
    member *m = calloc(1, sizeof *m);
    m->id = strdup(id);
    m->client_id = strdup("c");
    m->client_host = strdup("/127.0.0.1");
    m->protocols = calloc((size_t)n, sizeof *m->protocols);
    m->nprotocols = n;
    for (int i = 0; i < n; i++) {
        m->protocols[i].name = strdup(protos[i]);
        m->protocols[i].meta = malloc(1);
    }
    return m;
}

TEST(group_protocol_selection_votes_among_common)
{
    group *g = group_new("g", 0);
    const char *a[] = { "cooperative-sticky", "range" };
    const char *b[] = { "range", "cooperative-sticky" };
    const char *c[] = { "range", "roundrobin" };
    group_add_member(g, mk("m1", a, 2));
    group_add_member(g, mk("m2", b, 2));
    CHECK_STR(group_select_protocol(g), "cooperative-sticky");   /* tie: first counted */
    group_add_member(g, mk("m3", c, 2));
    CHECK_STR(group_select_protocol(g), "range");                /* the only common one */
    group_protocol q = { .name = "roundrobin" };
    CHECK(!group_supports(g, &q, 1));
    group_protocol r = { .name = "range" };
    CHECK(group_supports(g, &r, 1));
    CHECK(group_find_member(g, "m2") != NULL);
    CHECK(group_find_member(g, "nope") == NULL);
    member *m2 = group_find_member(g, "m2");
    group_remove_member(g, m2);
    member_free(m2);
    CHECK_EQ(g->nmembers, 2);
    group_free(g);
}

TEST(group_state_names_parse_case_insensitively)
{
    CHECK_EQ(group_state_parse("stable", 6), GROUP_STABLE);
    CHECK_EQ(group_state_parse("CompletingRebalance", 19), GROUP_COMPLETING_REBALANCE);
    CHECK_EQ(group_state_parse("bogus", 5), -1);
    CHECK_STR(group_state_name(GROUP_PREPARING_REBALANCE), "PreparingRebalance");
}

TEST(offsets_records_known_bytes_and_roundtrip)
{
    /* OffsetCommitValue v3: offset 7, leader epoch 2, metadata "m",
     * commit timestamp 1000 (after the INT16 version prefix). */
    static const uint8_t v3[] = { 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 2, 0, 1, 'm',
                                  0, 0, 0, 0, 0, 0, 0x03, 0xe8 };
    arena a;
    arena_init(&a, 4096);
    orec_offset_value v;
    kreader r;
    kr_init(&r, v3, sizeof v3);
    REQUIRE_EQ(kcodec_decode(&orec_offset_value_schema, 3, false, &r, &a, &v), 0);
    CHECK_EQ(v.offset, 7);
    CHECK_EQ(v.leader_epoch, 2);
    CHECK(kstr_eq(v.metadata, "m"));
    CHECK_EQ(v.commit_timestamp, 1000);
    CHECK_EQ(v.expire_timestamp, -1);     /* only v1 carries it */
    obuf ob;
    obuf_init(&ob);
    kcodec_encode(&orec_offset_value_schema, 3, false, &v, &ob);
    uint8_t out[64];
    REQUIRE_EQ(obuf_flatten(&ob, out, sizeof out), sizeof v3);
    CHECK(memcmp(out, v3, sizeof v3) == 0);
    obuf_free(&ob);

    /* GroupMetadataValue v0..v4 round trip through every version. */
    for (int ver = 0; ver <= OREC_GROUP_VALUE_MAX_VERSION; ver++) {
        orec_group_value gv;
        kcodec_defaults(&orec_group_value_schema, &gv);
        orec_group_member m = { .member_id = kstr_c("m-1"), .group_instance_id = kstr_c("i"),
                                .client_id = kstr_c("c"), .client_host = kstr_c("/h"),
                                .rebalance_timeout = 5, .session_timeout = 6,
                                .subscription = { (const uint8_t *)"sub", 3 },
                                .assignment = { (const uint8_t *)"as", 2 } };
        gv.protocol_type = kstr_c("consumer");
        gv.generation = 3;
        gv.protocol = kstr_c("range");
        gv.leader = kstr_c("m-1");
        gv.current_state_timestamp = 99;
        gv.members.n = 1;
        gv.members.v = &m;
        obuf_init(&ob);
        kcodec_encode(&orec_group_value_schema, ver, ver >= OREC_FLEX_FROM, &gv, &ob);
        uint8_t buf[256];
        long n = obuf_flatten(&ob, buf, sizeof buf);
        obuf_free(&ob);
        REQUIRE(n > 0);
        orec_group_value back;
        kr_init(&r, buf, (size_t)n);
        REQUIRE_EQ(kcodec_decode(&orec_group_value_schema, ver, ver >= OREC_FLEX_FROM, &r, &a, &back), 0);
        CHECK_EQ(back.generation, 3);
        REQUIRE_EQ(back.members.n, 1);
        CHECK(kstr_eq(back.members.v[0].member_id, "m-1"));
        CHECK_EQ(back.members.v[0].session_timeout, 6);
        CHECK_EQ(back.members.v[0].subscription.len, 3);
        if (ver >= 3)
            CHECK(kstr_eq(back.members.v[0].group_instance_id, "i"));
        else
            CHECK_EQ(back.members.v[0].group_instance_id.len, -1);
    }
    arena_reset(&a);
}
