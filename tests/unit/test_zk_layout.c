/* test_zk_layout.c - Kafka's ZooKeeper znode bodies: what Kafka writes is
 * read back field by field, what we write is what Kafka writes, and
 * hand-edited nonsense is refused with the field named. */
#include <stdlib.h>
#include <string.h>

#include "cluster/zk_layout.h"
#include "test.h"

#define DEC(fn, s, ...) fn((s), strlen(s), __VA_ARGS__)

TEST(zk_paths_are_kafkas)
{
    char p[ZKL_MAX_PATH];
    REQUIRE(zkl_path_broker(p, sizeof p, 3) == 0);
    CHECK_STR(p, "/brokers/ids/3");
    REQUIRE(zkl_path_partition_state(p, sizeof p, "orders", 7) == 0);
    CHECK_STR(p, "/brokers/topics/orders/partitions/7/state");
    REQUIRE(zkl_path_topic_config(p, sizeof p, "orders") == 0);
    CHECK_STR(p, "/config/topics/orders");
    REQUIRE(zkl_path_broker_config(p, sizeof p, -1) == 0);
    CHECK_STR(p, "/config/brokers/<default>");
    char small[8];
    CHECK(zkl_path_topic(small, sizeof small, "a-long-topic") < 0);
}

TEST(zk_broker_registration_as_kafka_writes_it)
{
    /* A registration as Kafka 3.x writes it (two listeners, a rack). */
    const char *kafka =
        "{\"features\":{},\"listener_security_protocol_map\":{\"PLAINTEXT\":\"PLAINTEXT\","
        "\"REPL\":\"SSL\"},\"endpoints\":[\"PLAINTEXT://10.0.0.1:9092\",\"REPL://[::1]:9093\"],"
        "\"jmx_port\":-1,\"port\":9092,\"host\":\"10.0.0.1\",\"version\":5,"
        "\"timestamp\":\"1700000000123\",\"rack\":\"r1\"}";
    zkl_broker b = { .id = 2 };
    char err[256];
    REQUIRE(DEC(zkl_broker_decode, kafka, &b, err, sizeof err) == 0);
    CHECK_EQ(b.id, 2);
    REQUIRE_EQ(b.nep, 2);
    CHECK_STR(b.ep[0].listener, "PLAINTEXT");
    CHECK_STR(b.ep[0].host, "10.0.0.1");
    CHECK_EQ(b.ep[0].port, 9092);
    CHECK_STR(b.ep[1].listener, "REPL");
    CHECK_STR(b.ep[1].protocol, "SSL");
    CHECK_STR(b.ep[1].host, "[::1]");
    CHECK_EQ(b.ep[1].port, 9093);
    CHECK_STR(b.rack, "r1");
    CHECK_EQ(b.timestamp_ms, 1700000000123LL);

    /* Round trip through our encoder. */
    char *js = zkl_broker_encode(&b);
    REQUIRE(js);
    CHECK(strstr(js, "\"version\":5"));
    CHECK(strstr(js, "\"host\":\"10.0.0.1\""));
    CHECK(strstr(js, "\"port\":9092"));
    zkl_broker b2 = { .id = 2 };
    REQUIRE(DEC(zkl_broker_decode, js, &b2, err, sizeof err) == 0);
    CHECK(memcmp(&b, &b2, sizeof b) == 0);
    free(js);

    /* No PLAINTEXT listener: host null, port -1, as Kafka. No rack: null. */
    zkl_broker s = { .id = 1, .nep = 1 };
    strcpy(s.ep[0].listener, "SECURE");
    strcpy(s.ep[0].protocol, "SSL");
    strcpy(s.ep[0].host, "h");
    s.ep[0].port = 1;
    js = zkl_broker_encode(&s);
    REQUIRE(js);
    CHECK(strstr(js, "\"host\":null"));
    CHECK(strstr(js, "\"port\":-1"));
    CHECK(strstr(js, "\"rack\":null"));
    free(js);
}

TEST(zk_broker_registration_nonsense_is_refused)
{
    static const struct { const char *json, *needle; } bad[] = {
        { "not json", "not valid JSON" },
        { "[1,2]", "not a JSON object" },
        { "{\"version\":5}", "\"endpoints\"" },
        { "{\"endpoints\":[]}", "\"endpoints\"" },
        { "{\"endpoints\":[\"nohost\"]}", "NAME://host:port" },
        { "{\"endpoints\":[\"P://h:99999\"]}", "bad port" },
        { "{\"endpoints\":[\"P://h:\"]}", "bad port" },
        { "{\"endpoints\":[7]}", "not a string" },
        { "{\"endpoints\":[\"P://h:1\"],\"rack\":5}", "\"rack\"" },
        { "{\"endpoints\":[\"P://h:1\"],\"timestamp\":\"soon\"}", "\"timestamp\"" },
        { "{\"endpoints\":[\"a://h:1\",\"b://h:1\",\"c://h:1\",\"d://h:1\",\"e://h:1\","
          "\"f://h:1\",\"g://h:1\",\"h://h:1\",\"i://h:1\"]}", "more than 8" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        zkl_broker b = { 0 };
        char err[256] = "";
        CHECK(DEC(zkl_broker_decode, bad[i].json, &b, err, sizeof err) < 0);
        if (!strstr(err, bad[i].needle))
            test_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks \"%s\"", i, err, bad[i].needle);
    }
}

typedef struct bad_json { const char *json, *needle; } bad_json;

/* Each must be refused with a message containing its needle, leaving the
 * assignment empty. */
static void refused_assignments(const bad_json *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        zkl_assignment a;
        char e2[256] = "";
        CHECK(DEC(zkl_assignment_decode, bad[i].json, &a, e2, sizeof e2) < 0);
        CHECK(a.replicas == NULL && a.adding == NULL && a.npartitions == 0);
        if (!strstr(e2, bad[i].needle))
            test_fail(__FILE__, __LINE__, "case %zu: \"%s\" lacks \"%s\"", i, e2, bad[i].needle);
    }
}

TEST(zk_topic_assignment_round_trip_and_checks)
{
    const char *kafka =
        "{\"version\":2,\"partitions\":{\"1\":[2,3,1],\"0\":[1,2,3]},\"adding_replicas\":{},"
        "\"removing_replicas\":{},\"topic_id\":\"AAAAAAAAAAAAAAAAAAAAAg\"}";
    zkl_assignment a;
    char err[256];
    REQUIRE(DEC(zkl_assignment_decode, kafka, &a, err, sizeof err) == 0);
    REQUIRE_EQ(a.npartitions, 2);
    REQUIRE_EQ(a.nreplicas[0], 3);
    CHECK_EQ(a.replicas[0][0], 1);
    CHECK_EQ(a.replicas[1][0], 2);
    CHECK_EQ(a.replicas[1][2], 1);
    CHECK_EQ(a.topic_id.b[15], 2);
    char *js = zkl_assignment_encode(&a);
    REQUIRE(js);
    CHECK_STR(js, "{\"version\":2,\"partitions\":{\"0\":[1,2,3],\"1\":[2,3,1]},"
                  "\"adding_replicas\":{},\"removing_replicas\":{},"
                  "\"topic_id\":\"AAAAAAAAAAAAAAAAAAAAAg\"}");
    free(js);
    zkl_assignment_free(&a);

    static const bad_json bad[] = {
        { "{\"partitions\":{}}", "0 partitions" },
        { "{\"partitions\":[1]}", "must be an object" },
        { "{\"partitions\":{\"1\":[1]}}", "not one of 0..0" },
        { "{\"partitions\":{\"0\":[1],\"x\":[1]}}", "not one of" },
        { "{\"partitions\":{\"0\":[]}}", "is empty" },
        { "{\"partitions\":{\"0\":[1,1]}}", "twice" },
        { "{\"partitions\":{\"0\":[-1]}}", "not a broker id" },
        { "{\"partitions\":{\"0\":[1.5]}}", "not a broker id" },
        { "{\"partitions\":{\"0\":[1]},\"topic_id\":\"short\"}", "topic_id" },
        { "{\"partitions\":{\"0\":[1],\"0\":[2]}}", "appears twice" },
    };
    refused_assignments(bad, sizeof bad / sizeof *bad);
}

TEST(zk_topic_assignment_reassignment_fields)
{
    /* Kafka's layout during a reassignment: uneven counts, adding and
     * removing lists keyed by partition (KIP-455). */
    const char *kafka =
        "{\"version\":2,\"partitions\":{\"0\":[4,2,1,3],\"1\":[2,3]},"
        "\"adding_replicas\":{\"0\":[4]},\"removing_replicas\":{\"0\":[3]}}";
    zkl_assignment a, b;
    char err[256];
    REQUIRE(DEC(zkl_assignment_decode, kafka, &a, err, sizeof err) == 0);
    REQUIRE_EQ(a.nreplicas[0], 4);
    REQUIRE_EQ(a.nreplicas[1], 2);
    CHECK(zkl_assignment_reassigning(&a, 0));
    CHECK(!zkl_assignment_reassigning(&a, 1));
    CHECK_EQ(a.adding[0][0], 4);
    CHECK_EQ(a.removing[0][0], 3);
    char *js = zkl_assignment_encode(&a);
    REQUIRE(js);
    CHECK_STR(js, "{\"version\":2,\"partitions\":{\"0\":[4,2,1,3],\"1\":[2,3]},"
                  "\"adding_replicas\":{\"0\":[4]},\"removing_replicas\":{\"0\":[3]}}");
    free(js);
    /* a copy, then the reassignment completed on it: lists gone */
    REQUIRE(zkl_assignment_copy(&b, &a) == 0);
    int32_t trs[3] = { 4, 2, 1 };
    REQUIRE(zkl_assignment_set(&b, 0, trs, 3, NULL, 0, NULL, 0) == 0);
    CHECK(!zkl_assignment_reassigning(&b, 0));
    js = zkl_assignment_encode(&b);
    REQUIRE(js);
    CHECK_STR(js, "{\"version\":2,\"partitions\":{\"0\":[4,2,1],\"1\":[2,3]},"
                  "\"adding_replicas\":{},\"removing_replicas\":{}}");
    free(js);
    zkl_assignment_free(&a);
    zkl_assignment_free(&b);

    static const bad_json bad[] = {
        { "{\"partitions\":{\"0\":[1,2]},\"adding_replicas\":{\"0\":[3]}}", "not a replica" },
        { "{\"partitions\":{\"0\":[1,2]},\"removing_replicas\":{\"1\":[1]}}", "not one of" },
        { "{\"partitions\":{\"0\":[1,2]},\"adding_replicas\":[1]}", "must be an object" },
        { "{\"partitions\":{\"0\":[1,2]},\"adding_replicas\":{\"0\":[1,1]}}", "twice" },
    };
    refused_assignments(bad, sizeof bad / sizeof *bad);
}

TEST(zk_partition_state_round_trip_and_checks)
{
    const char *kafka =
        "{\"controller_epoch\":4,\"leader\":2,\"version\":1,\"leader_epoch\":9,\"isr\":[2,3]}";
    zkl_partition_state s = { .zk_version = 17 };
    char err[256];
    REQUIRE(DEC(zkl_partition_state_decode, kafka, &s, err, sizeof err) == 0);
    CHECK_EQ(s.leader, 2);
    CHECK_EQ(s.leader_epoch, 9);
    CHECK_EQ(s.controller_epoch, 4);
    REQUIRE_EQ(s.nisr, 2);
    CHECK_EQ(s.isr[1], 3);
    CHECK_EQ(s.zk_version, 17);          /* kept: it is not in the body */
    char *js = zkl_partition_state_encode(&s);
    REQUIRE(js);
    CHECK_STR(js, kafka);
    free(js);

    /* An offline partition: leader -1, empty ISR is legal. */
    CHECK(DEC(zkl_partition_state_decode, "{\"leader\":-1,\"leader_epoch\":3,"
              "\"controller_epoch\":1,\"isr\":[]}", &s, err, sizeof err) == 0);
    CHECK_EQ(s.leader, -1);
    CHECK(DEC(zkl_partition_state_decode, "{\"leader\":-2,\"leader_epoch\":3,"
              "\"controller_epoch\":1,\"isr\":[]}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "\"leader\""));
    CHECK(DEC(zkl_partition_state_decode, "{\"leader\":1,\"leader_epoch\":1e300,"
              "\"controller_epoch\":1,\"isr\":[1]}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "\"leader_epoch\""));
    CHECK(DEC(zkl_partition_state_decode, "{\"leader\":1,\"leader_epoch\":1,"
              "\"controller_epoch\":1}", &s, err, sizeof err) < 0);
    CHECK(strstr(err, "\"isr\""));
}

TEST(zk_controller_epoch_cluster_id_pid_block_config)
{
    char err[256];
    int32_t id = -1, epoch = -1;
    char *js = zkl_controller_encode(3, 1700000000000LL);
    REQUIRE(js);
    CHECK_STR(js, "{\"version\":1,\"brokerid\":3,\"timestamp\":\"1700000000000\"}");
    CHECK(DEC(zkl_controller_decode, js, &id, err, sizeof err) == 0 && id == 3);
    free(js);
    js = zkl_controller_epoch_encode(12);
    CHECK(DEC(zkl_controller_epoch_decode, js, &epoch, err, sizeof err) == 0 && epoch == 12);
    free(js);
    CHECK(DEC(zkl_controller_epoch_decode, "12x", &epoch, err, sizeof err) < 0);
    CHECK(DEC(zkl_controller_epoch_decode, "99999999999", &epoch, err, sizeof err) < 0);

    char cid[KUUID_STR_LEN + 1];
    js = zkl_cluster_id_encode("Ab-_9xQ");
    CHECK_STR(js, "{\"version\":\"1\",\"id\":\"Ab-_9xQ\"}");
    CHECK(DEC(zkl_cluster_id_decode, js, cid, err, sizeof err) == 0);
    CHECK_STR(cid, "Ab-_9xQ");
    free(js);
    CHECK(DEC(zkl_cluster_id_decode, "{\"id\":\"a b\"}", cid, err, sizeof err) < 0);
    CHECK(DEC(zkl_cluster_id_decode, "{\"id\":\"AAAAAAAAAAAAAAAAAAAAAAA\"}", cid, err,
              sizeof err) < 0);

    zkl_pid_block pb = { .broker = 2, .block_start = 1000, .block_end = 1999 }, pb2;
    js = zkl_pid_block_encode(&pb);
    CHECK_STR(js, "{\"version\":1,\"broker\":2,\"block_start\":\"1000\",\"block_end\":\"1999\"}");
    CHECK(DEC(zkl_pid_block_decode, js, &pb2, err, sizeof err) == 0);
    CHECK(pb2.broker == 2 && pb2.block_start == 1000 && pb2.block_end == 1999);
    free(js);
    CHECK(DEC(zkl_pid_block_decode, "{\"broker\":1,\"block_start\":\"9\",\"block_end\":\"3\"}",
              &pb2, err, sizeof err) < 0);
    CHECK(strstr(err, "block_end"));

    zkl_config c;
    REQUIRE(DEC(zkl_config_decode, "{\"version\":1,\"config\":{\"retention.ms\":\"1000\","
                "\"cleanup.policy\":\"compact\"}}", &c, err, sizeof err) == 0);
    REQUIRE_EQ(c.n, 2);
    CHECK_STR(c.keys[0], "retention.ms");
    CHECK_STR(c.values[1], "compact");
    js = zkl_config_encode(&c);
    CHECK_STR(js, "{\"version\":1,\"config\":{\"retention.ms\":\"1000\","
                  "\"cleanup.policy\":\"compact\"}}");
    free(js);
    zkl_config_free(&c);
    CHECK(DEC(zkl_config_decode, "{\"config\":{\"a\":1}}", &c, err, sizeof err) < 0);
    CHECK(strstr(err, "\"a\""));
    js = zkl_config_change_encode("topics/orders");
    CHECK_STR(js, "{\"version\":2,\"entity_path\":\"topics/orders\"}");
    free(js);
    char entity[64];
    CHECK_EQ(DEC(zkl_config_change_decode, "{\"version\":2,\"entity_path\":\"topics/orders\"}",
                 entity, sizeof entity, err, sizeof err), 0);
    CHECK_STR(entity, "topics/orders");
    CHECK(DEC(zkl_config_change_decode, "{\"version\":1,\"entity_name\":\"x\"}", entity,
              sizeof entity, err, sizeof err) < 0);
    CHECK(strstr(err, "\"version\""));
    CHECK(DEC(zkl_config_change_decode, "{\"version\":2,\"entity_path\":\"orders\"}", entity,
              sizeof entity, err, sizeof err) < 0);
    CHECK(strstr(err, "entity_path"));
    CHECK(DEC(zkl_config_change_decode, "{\"version\":2,\"entity_path\":\"topics/a-long-one\"}",
              entity, 8, err, sizeof err) < 0);
}
