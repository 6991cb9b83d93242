/* test_config_dynamic.c - dynamic broker configs: which keys, alter ops per
 * layer, precedence between the layers and the static config, DELETE
 * fallback, APPEND/SUBTRACT, errors, cross-key checks, DescribeConfigs
 * sources and synonyms (broker, cluster default, topic) and the effective
 * topic settings. */
#include "test.h"

#include <stdbool.h>
#include <stdlib.h>

#include "config/config.h"
#include "config/config_int.h"
#include "core/errors.h"

static char g_err[1024];

static int load(struct broker_config *c, const char *text)
{
    g_err[0] = 0;
    if (broker_config_init(c))
        return -1;
    int rc = broker_config_load_string(c, text, strlen(text), "t.properties", g_err, sizeof g_err);
    return rc ? rc : broker_config_finish(c, g_err, sizeof g_err);
}

static bool has_warning(const struct broker_config *c, const char *sub)
{
    for (size_t i = 0; i < c->nwarnings; i++)
        if (strstr(c->warnings[i], sub))
            return true;
    return false;
}

#define ALTER(cur, layer, set, key, op, value) \
    broker_cfg_alter((cur), (layer), (set), (key), (op), (value), g_err, sizeof g_err)
#define BUILD(base, def, brk, out) \
    broker_config_with_dynamic((base), (def), (brk), (out), g_err, sizeof g_err)
#define CHECK_MSG(expect) do {                                                      \
        if (!strstr(g_err, (expect)))                                               \
            test_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", g_err, (expect)); \
    } while (0)

static const struct cfg_entry *find(const struct cfg_description *d, const char *name)
{
    const struct cfg_entry *e = cfg_description_find(d, name);
    if (!e)
        test_fail(__FILE__, __LINE__, "%s not described", name);
    return e;
}

TEST(config_dyn_which_keys)
{
    static const char *const dynamic[] = {
        "log.retention.ms", "log.retention.bytes", "log.segment.bytes", "log.roll.ms",
        "log.roll.jitter.ms", "message.max.bytes", "log.message.timestamp.type",
        "log.cleanup.policy", "log.flush.interval.messages", "log.flush.interval.ms",
        "log.index.interval.bytes", "log.segment.delete.delay.ms", "min.insync.replicas",
        "unclean.leader.election.enable", "log.message.timestamp.before.max.ms",
        "log.message.timestamp.after.max.ms", "compression.type", "log.preallocate",
        "max.connections", "max.connections.per.ip", "max.connections.per.ip.overrides",
        "log.cleaner.delete.retention.ms", "producer.id.expiration.ms",
    };
    static const char *const readonly[] = {
        /* read-only in Kafka too */
        "log.dirs", "log.dir", "node.id", "broker.id", "num.partitions",
        "zookeeper.connect", "log.retention.hours", "log.retention.minutes", "log.roll.hours",
        "log.roll.jitter.hours", "log.flush.scheduler.interval.ms", "auto.create.topics.enable",
        "log.message.format.version", "log.cleaner.enable",
        /* dynamic in Kafka, not in Samsa (threads, sockets) */
        "listeners", "advertised.listeners", "listener.security.protocol.map",
        "num.network.threads", "num.io.threads", "num.recovery.threads.per.data.dir",
        "num.replica.fetchers", "log.cleaner.threads",
        /* not table keys */
        "background.threads", "no.such.key", "",
    };
    for (size_t i = 0; i < sizeof dynamic / sizeof *dynamic; i++)
        if (!broker_cfg_is_dynamic(dynamic[i]))
            test_fail(__FILE__, __LINE__, "%s should be dynamic", dynamic[i]);
    for (size_t i = 0; i < sizeof readonly / sizeof *readonly; i++)
        if (broker_cfg_is_dynamic(readonly[i]))
            test_fail(__FILE__, __LINE__, "%s should not be dynamic", readonly[i]);
    CHECK(!broker_cfg_is_dynamic(NULL));
}

/* Each layer alone, then both: per-broker > cluster default > static > default. */
TEST(config_dyn_layers_precedence_and_delete)
{
    struct broker_config base, c1, c2, c3;
    struct topic_overrides def, brk;
    topic_overrides_init(&def);
    topic_overrides_init(&brk);
    REQUIRE_EQ(load(&base, "log.retention.ms=5000\nmessage.max.bytes=2000\n"), 0);
    CHECK_EQ(base.retention_ms, 5000);

    /* cluster default only */
    REQUIRE_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "log.retention.ms", CFG_OP_SET, " 1000 "), 0);
    CHECK_STR(topic_overrides_get(&def, "log.retention.ms"), "1000");     /* canonical */
    REQUIRE_EQ(BUILD(&base, &def, NULL, &c1), 0);
    CHECK_EQ(c1.retention_ms, 1000);
    CHECK_EQ(c1.log_retention_ms, 1000);
    CHECK_EQ(c1.message_max_bytes, 2000);
    CHECK_EQ(base.retention_ms, 5000);                  /* base untouched */
    CHECK_EQ(base.log_retention_ms, 5000);

    /* per-broker on top: wins over the default */
    REQUIRE_EQ(ALTER(&c1, CFG_DYN_BROKER, &brk, "log.retention.ms", CFG_OP_SET, "2000"), 0);
    REQUIRE_EQ(ALTER(&c1, CFG_DYN_BROKER, &brk, "message.max.bytes", CFG_OP_SET, "4000"), 0);
    REQUIRE_EQ(BUILD(&base, &def, &brk, &c2), 0);
    CHECK_EQ(c2.retention_ms, 2000);
    CHECK_EQ(c2.message_max_bytes, 4000);
    CHECK(broker_config_is_set(&c2, "log.retention.ms"));

    /* per-broker only */
    REQUIRE_EQ(BUILD(&base, NULL, &brk, &c3), 0);
    CHECK_EQ(c3.retention_ms, 2000);
    broker_config_free(&c3);

    /* DELETE falls back one layer at a time */
    REQUIRE_EQ(ALTER(&c2, CFG_DYN_BROKER, &brk, "log.retention.ms", CFG_OP_DELETE, NULL), 0);
    CHECK(topic_overrides_get(&brk, "log.retention.ms") == NULL);
    REQUIRE_EQ(BUILD(&base, &def, &brk, &c3), 0);
    CHECK_EQ(c3.retention_ms, 1000);                    /* the cluster default */
    CHECK_EQ(c3.message_max_bytes, 4000);
    broker_config_free(&c3);
    REQUIRE_EQ(ALTER(&c2, CFG_DYN_CLUSTER_DEFAULT, &def, "log.retention.ms", CFG_OP_DELETE, NULL), 0);
    REQUIRE_EQ(BUILD(&base, &def, &brk, &c3), 0);
    CHECK_EQ(c3.retention_ms, 5000);                    /* static */
    broker_config_free(&c3);
    /* DELETE of an absent or unknown key is a no-op, like Kafka */
    CHECK_EQ(ALTER(&c2, CFG_DYN_CLUSTER_DEFAULT, &def, "log.retention.ms", CFG_OP_DELETE, NULL), 0);
    CHECK_EQ(ALTER(&c2, CFG_DYN_CLUSTER_DEFAULT, &def, "no.such.key", CFG_OP_DELETE, NULL), 0);

    /* nothing static: a dynamic .ms beats the static/default .hours */
    broker_config_free(&base);
    REQUIRE_EQ(load(&base, "log.retention.hours=24\n"), 0);
    topic_overrides_free(&brk);
    REQUIRE_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, "log.retention.ms", CFG_OP_SET, "-1"), 0);
    REQUIRE_EQ(BUILD(&base, NULL, &brk, &c3), 0);
    CHECK_EQ(c3.retention_ms, -1);
    broker_config_free(&c3);

    broker_config_free(&c1);
    broker_config_free(&c2);
    broker_config_free(&base);
    topic_overrides_free(&def);
    topic_overrides_free(&brk);
}

/* The keys the storage and request paths read change with a dynamic value. */
TEST(config_dyn_keys_take_effect)
{
    static const struct {
        const char *key, *value;
    } kv[] = {
        { "log.retention.ms", "111" },
        { "log.retention.bytes", "222" },
        { "log.segment.bytes", "333333" },
        { "log.roll.ms", "444" },
        { "message.max.bytes", "555" },
        { "log.message.timestamp.type", "LogAppendTime" },
        { "log.cleanup.policy", "compact" },
        { "log.flush.interval.messages", "666" },
        { "log.flush.interval.ms", "777" },
        { "log.index.interval.bytes", "888" },
        { "log.segment.delete.delay.ms", "999" },
        { "min.insync.replicas", "2" },
        { "unclean.leader.election.enable", "TRUE" },
        { "log.message.timestamp.before.max.ms", "1001" },
        { "log.message.timestamp.after.max.ms", "1002" },
        { "compression.type", "zstd" },
        { "log.preallocate", "true" },
        { "max.connections", "10" },
        { "max.connections.per.ip", "5" },
        { "max.connections.per.ip.overrides", "127.0.0.1:7" },
    };
    struct broker_config base, c;
    struct topic_overrides brk;
    topic_overrides_init(&brk);
    REQUIRE_EQ(load(&base, ""), 0);
    for (size_t i = 0; i < sizeof kv / sizeof *kv; i++)
        if (ALTER(&base, CFG_DYN_BROKER, &brk, kv[i].key, CFG_OP_SET, kv[i].value))
            test_fail(__FILE__, __LINE__, "%s=%s: %s", kv[i].key, kv[i].value, g_err);
    REQUIRE_EQ(BUILD(&base, NULL, &brk, &c), 0);
    CHECK_EQ(c.retention_ms, 111);
    CHECK_EQ(c.log_retention_bytes, 222);
    CHECK_EQ(c.log_segment_bytes, 333333);
    CHECK_EQ(c.roll_ms, 444);
    CHECK_EQ(c.message_max_bytes, 555);
    CHECK_STR(c.log_message_timestamp_type, "LogAppendTime");
    CHECK_STR(c.log_cleanup_policy, "compact");
    CHECK_EQ(c.log_flush_interval_messages, 666);
    CHECK_EQ(c.flush_ms, 777);
    CHECK_EQ(c.log_index_interval_bytes, 888);
    CHECK_EQ(c.log_segment_delete_delay_ms, 999);
    CHECK_EQ(c.min_insync_replicas, 2);
    CHECK(c.unclean_leader_election_enable);
    CHECK_EQ(c.log_message_timestamp_before_max_ms, 1001);
    CHECK_EQ(c.log_message_timestamp_after_max_ms, 1002);
    CHECK_STR(c.compression_type, "zstd");
    CHECK(c.log_preallocate);
    CHECK_EQ(c.max_connections, 10);
    CHECK_EQ(c.max_connections_per_ip, 5);
    REQUIRE_EQ(c.nconn_overrides, 1);
    CHECK_EQ(c.conn_overrides[0].max, 7);

    /* A topic without overrides follows; an override still wins. */
    struct topic_settings ts;
    REQUIRE_EQ(topic_cfg_effective(&c, NULL, 0, &ts, g_err, sizeof g_err), 0);
    CHECK_EQ(ts.retention_ms, 111);
    CHECK_EQ(ts.retention_bytes, 222);
    CHECK_EQ(ts.segment_bytes, 333333);
    CHECK_EQ(ts.segment_ms, 444);
    CHECK_EQ(ts.max_message_bytes, 555);
    CHECK_EQ(ts.timestamp_type, CFG_TS_LOG_APPEND_TIME);
    CHECK(ts.compact && !ts.delete_);
    CHECK_EQ(ts.flush_messages, 666);
    CHECK_EQ(ts.flush_ms, 777);
    CHECK_EQ(ts.index_interval_bytes, 888);
    CHECK_EQ(ts.file_delete_delay_ms, 999);
    CHECK_EQ(ts.min_insync_replicas, 2);
    CHECK(ts.unclean_leader_election_enable);
    CHECK_EQ(ts.timestamp_before_max_ms, 1001);
    CHECK_EQ(ts.timestamp_after_max_ms, 1002);
    CHECK_EQ(ts.compression_type, CFG_COMPRESSION_ZSTD);
    CHECK(ts.preallocate);
    cfg_kv ov[] = { { "retention.ms", "42" } };
    REQUIRE_EQ(topic_cfg_effective(&c, ov, 1, &ts, g_err, sizeof g_err), 0);
    CHECK_EQ(ts.retention_ms, 42);
    CHECK_EQ(ts.max_message_bytes, 555);
    /* ... and the static config still gives the defaults */
    REQUIRE_EQ(topic_cfg_effective(&base, NULL, 0, &ts, g_err, sizeof g_err), 0);
    CHECK_EQ(ts.retention_ms, 604800000);
    CHECK_EQ(ts.max_message_bytes, 1048588);

    broker_config_free(&c);
    broker_config_free(&base);
    topic_overrides_free(&brk);
}

TEST(config_dyn_append_subtract_cleanup_policy)
{
    struct broker_config base, c1, c2;
    struct topic_overrides def, brk;
    topic_overrides_init(&def);
    topic_overrides_init(&brk);
    REQUIRE_EQ(load(&base, ""), 0);
    /* empty layer: start from the static/default value "delete" */
    REQUIRE_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "log.cleanup.policy", CFG_OP_APPEND, "compact"), 0);
    CHECK_STR(topic_overrides_get(&def, "log.cleanup.policy"), "delete,compact");
    REQUIRE_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "log.cleanup.policy", CFG_OP_APPEND, "compact, delete"), 0);
    CHECK_STR(topic_overrides_get(&def, "log.cleanup.policy"), "delete,compact");     /* unique */
    REQUIRE_EQ(BUILD(&base, &def, NULL, &c1), 0);
    CHECK_STR(c1.log_cleanup_policy, "delete,compact");
    /* empty per-broker layer: start from the cluster default in effect */
    REQUIRE_EQ(ALTER(&c1, CFG_DYN_BROKER, &brk, "log.cleanup.policy", CFG_OP_SUBTRACT, "delete"), 0);
    CHECK_STR(topic_overrides_get(&brk, "log.cleanup.policy"), "compact");
    REQUIRE_EQ(BUILD(&base, &def, &brk, &c2), 0);
    struct topic_settings ts;
    REQUIRE_EQ(topic_cfg_effective(&c2, NULL, 0, &ts, g_err, sizeof g_err), 0);
    CHECK(ts.compact && !ts.delete_);
    /* subtracting the last item leaves the empty list (no cleanup) */
    REQUIRE_EQ(ALTER(&c2, CFG_DYN_BROKER, &brk, "log.cleanup.policy", CFG_OP_SUBTRACT, "compact"), 0);
    CHECK_STR(topic_overrides_get(&brk, "log.cleanup.policy"), "");
    /* an invalid item is rejected and the set is unchanged */
    CHECK_EQ(ALTER(&c2, CFG_DYN_BROKER, &brk, "log.cleanup.policy", CFG_OP_APPEND, "archive"),
             KERR_INVALID_CONFIG);
    CHECK_MSG("Invalid value archive for configuration log.cleanup.policy: invalid item 'archive'");
    CHECK_STR(topic_overrides_get(&brk, "log.cleanup.policy"), "");
    /* not a list */
    CHECK_EQ(ALTER(&c2, CFG_DYN_BROKER, &brk, "message.max.bytes", CFG_OP_APPEND, "1"),
             KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Config value append is not allowed for config key: message.max.bytes");
    CHECK_EQ(ALTER(&c2, CFG_DYN_BROKER, &brk, "message.max.bytes", CFG_OP_SUBTRACT, "1"),
             KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Config value subtract is not allowed for config key: message.max.bytes");
    broker_config_free(&c1);
    broker_config_free(&c2);
    broker_config_free(&base);
    topic_overrides_free(&def);
    topic_overrides_free(&brk);

    /* with nothing dynamic, APPEND starts from the static value */
    REQUIRE_EQ(load(&base, "log.cleanup.policy=compact\n"), 0);
    topic_overrides_init(&brk);
    REQUIRE_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, "log.cleanup.policy", CFG_OP_APPEND, "delete"), 0);
    CHECK_STR(topic_overrides_get(&brk, "log.cleanup.policy"), "compact,delete");
    broker_config_free(&base);
    topic_overrides_free(&brk);
}

TEST(config_dyn_errors)
{
    struct broker_config base;
    struct topic_overrides set;
    topic_overrides_init(&set);
    REQUIRE_EQ(load(&base, ""), 0);
    REQUIRE_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "message.max.bytes", CFG_OP_SET, "100"), 0);

    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "listeners", CFG_OP_SET, "PLAINTEXT://:9093"),
             KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Cannot update these configs dynamically: Set(listeners)");
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &set, "num.partitions", CFG_OP_SET, "3"),
             KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Cannot update these configs dynamically: Set(num.partitions)");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "log.retention.hours", CFG_OP_SET, "1"),
             KERR_INVALID_REQUEST);
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "num.network.threads", CFG_OP_SET, "4"),
             KERR_INVALID_REQUEST);
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "log.dirs", CFG_OP_APPEND, "/x"),
             KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Cannot update these configs dynamically: Set(log.dirs)");

    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "frobnicate", CFG_OP_SET, "1"), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "Unknown broker config name: frobnicate");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "log.retention.mss", CFG_OP_SET, "1"), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "Unknown broker config name: log.retention.mss (did you mean log.retention.ms?)");
    /* a real Kafka key Kafka cannot change at runtime: Kafka's refusal */
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "zookeeper.sync.time.ms", CFG_OP_SET, "4"),
             KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Cannot update these configs dynamically: Set(zookeeper.sync.time.ms)");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "retention.ms", CFG_OP_SET, "1"), KERR_INVALID_CONFIG);

    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "log.segment.bytes", CFG_OP_SET, "abc"), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "Invalid value abc for configuration log.segment.bytes: not a number (expected int >= 14)");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "log.segment.bytes", CFG_OP_SET, "13"), KERR_INVALID_CONFIG);
    CHECK_MSG("out of range (expected int >= 14)");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "log.message.timestamp.type", CFG_OP_SET, "createtime"),
             KERR_INVALID_CONFIG);
    CHECK_MSG("values are case-sensitive: CreateTime");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "log.preallocate", CFG_OP_SET, "yes"), KERR_INVALID_CONFIG);
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "message.max.bytes", CFG_OP_SET, NULL), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "Invalid value null for configuration message.max.bytes: a value is required");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &set, "message.max.bytes", 7, "1"), KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Unknown config operation 7 for message.max.bytes");
    CHECK_EQ(ALTER(&base, (enum cfg_dyn_layer)5, &set, "message.max.bytes", CFG_OP_SET, "1"),
             KERR_INVALID_REQUEST);

    /* every failure left the set as it was */
    REQUIRE_EQ(set.n, 1);
    CHECK_STR(topic_overrides_get(&set, "message.max.bytes"), "100");
    broker_config_free(&base);
    topic_overrides_free(&set);
}

TEST(config_dyn_replace)
{
    struct topic_overrides set;
    topic_overrides_init(&set);
    cfg_kv a[] = { { "log.retention.ms", "100" }, { "min.insync.replicas", " 2" },
                   { "log.segment.bytes", NULL } };
    REQUIRE_EQ(broker_cfg_replace(CFG_DYN_CLUSTER_DEFAULT, &set, a, 3, g_err, sizeof g_err), 0);
    REQUIRE_EQ(set.n, 2);
    CHECK_STR(topic_overrides_get(&set, "min.insync.replicas"), "2");
    cfg_kv b[] = { { "message.max.bytes", "5" } };
    REQUIRE_EQ(broker_cfg_replace(CFG_DYN_CLUSTER_DEFAULT, &set, b, 1, g_err, sizeof g_err), 0);
    REQUIRE_EQ(set.n, 1);                           /* the whole layer was replaced */
    CHECK_STR(topic_overrides_get(&set, "message.max.bytes"), "5");
    cfg_kv ro[] = { { "message.max.bytes", "1" }, { "listeners", "PLAINTEXT://:1" },
                    { "log.dirs", "/x" }, { "listeners", "PLAINTEXT://:2" } };
    CHECK_EQ(broker_cfg_replace(CFG_DYN_BROKER, &set, ro, 4, g_err, sizeof g_err), KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Cannot update these configs dynamically: Set(listeners, log.dirs)");
    cfg_kv bad[] = { { "message.max.bytes", "1" }, { "min.insync.replicas", "0" } };
    CHECK_EQ(broker_cfg_replace(CFG_DYN_BROKER, &set, bad, 2, g_err, sizeof g_err), KERR_INVALID_CONFIG);
    CHECK_MSG("Invalid value 0 for configuration min.insync.replicas");
    cfg_kv unk[] = { { "nope", "1" } };
    CHECK_EQ(broker_cfg_replace(CFG_DYN_BROKER, &set, unk, 1, g_err, sizeof g_err), KERR_INVALID_CONFIG);
    REQUIRE_EQ(set.n, 1);
    CHECK_STR(topic_overrides_get(&set, "message.max.bytes"), "5");
    REQUIRE_EQ(broker_cfg_replace(CFG_DYN_BROKER, &set, NULL, 0, g_err, sizeof g_err), 0);
    CHECK_EQ(set.n, 0);
    topic_overrides_free(&set);
}

/* Cross-key rules run when the config is built; bad persisted entries are skipped. */
TEST(config_dyn_build_checks)
{
    struct broker_config base, c;
    struct topic_overrides def, brk;
    topic_overrides_init(&def);
    topic_overrides_init(&brk);
    REQUIRE_EQ(load(&base, ""), 0);

    REQUIRE_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "max.connections.per.ip", CFG_OP_SET, "0"), 0);
    CHECK_EQ(BUILD(&base, &def, NULL, &c), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "max.connections.per.ip=0: allowed only with max.connections.per.ip.overrides");
    broker_config_free(&c);                 /* harmless after an error */
    REQUIRE_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, "max.connections.per.ip.overrides", CFG_OP_SET, "h:1"), 0);
    REQUIRE_EQ(BUILD(&base, &def, &brk, &c), 0);        /* the two layers together are fine */
    CHECK_EQ(c.max_connections_per_ip, 0);
    broker_config_free(&c);

    topic_overrides_free(&def);
    REQUIRE_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "log.retention.ms", CFG_OP_SET, "0"), 0);
    CHECK_EQ(BUILD(&base, &def, NULL, &c), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "log.retention.ms=0: retention must be unlimited (-1) or at least 1 ms "
                     "[dynamic default broker config]");

    /* persisted junk: skipped with a warning, the rest applies */
    topic_overrides_free(&def);
    REQUIRE_EQ(topic_overrides_put(&def, "log.retention.hours", "1"), 0);
    REQUIRE_EQ(topic_overrides_put(&def, "frobnicate", "1"), 0);
    REQUIRE_EQ(topic_overrides_put(&def, "log.segment.bytes", "abc"), 0);
    REQUIRE_EQ(topic_overrides_put(&def, "ssl.keystore.password", "hunter2"), 0);
    REQUIRE_EQ(topic_overrides_put(&def, "message.max.bytes", "77"), 0);
    REQUIRE_EQ(BUILD(&base, &def, NULL, &c), 0);
    CHECK_EQ(c.retention_ms, 604800000);
    CHECK_EQ(c.log_segment_bytes, 1073741824);
    CHECK_EQ(c.message_max_bytes, 77);
    CHECK(has_warning(&c, "log.retention.hours=1: ignored [dynamic default broker config]: "
                          "Cannot update these configs dynamically: Set(log.retention.hours)"));
    CHECK(has_warning(&c, "frobnicate=1: ignored"));
    CHECK(has_warning(&c, "log.segment.bytes=abc: ignored"));
    CHECK(has_warning(&c, "ssl.keystore.password=****: ignored"));
    for (size_t i = 0; i < c.nwarnings; i++)
        CHECK(strstr(c.warnings[i], "hunter2") == NULL);
    struct topic_overrides got;
    topic_overrides_init(&got);
    REQUIRE_EQ(broker_config_dynamic_layer(&c, CFG_DYN_CLUSTER_DEFAULT, &got), 0);
    REQUIRE_EQ(got.n, 1);                   /* only what was applied */
    CHECK_STR(topic_overrides_get(&got, "message.max.bytes"), "77");
    REQUIRE_EQ(broker_config_dynamic_layer(&c, CFG_DYN_BROKER, &got), 0);
    CHECK_EQ(got.n, 0);
    topic_overrides_free(&got);
    broker_config_free(&c);

    broker_config_free(&base);
    topic_overrides_free(&def);
    topic_overrides_free(&brk);
}

/* The static layer is rebuilt from what was loaded, not from derived values. */
TEST(config_dyn_static_replay)
{
    struct broker_config base, c1, c2;
    struct topic_overrides brk;
    topic_overrides_init(&brk);
    REQUIRE_EQ(load(&base, "broker.id=7\nhost.name=127.0.0.1\nport=0\nnum.partitions=2\n"
                           "num.partitions=3\nnum.replica.alter.log.dirs.threads=2\n"
                           "log.retention.hours=24\n"), 0);
    CHECK_EQ(base.node_id, 7);
    REQUIRE_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, "log.retention.ms", CFG_OP_SET, "1000"), 0);
    REQUIRE_EQ(BUILD(&base, NULL, &brk, &c1), 0);
    CHECK_EQ(c1.node_id, 7);
    CHECK_EQ(c1.broker_id, 7);
    CHECK_EQ(c1.num_partitions, 3);
    CHECK_EQ(c1.retention_ms, 1000);
    CHECK_EQ(c1.log_retention_hours, 24);
    REQUIRE_EQ(c1.nendpoints, 1);
    CHECK_STR(c1.endpoints[0].host, "127.0.0.1");
    CHECK_EQ(c1.nwarnings, base.nwarnings);
    CHECK(has_warning(&c1, "num.partitions is set more than once"));
    CHECK(has_warning(&c1, "num.replica.alter.log.dirs.threads is a Kafka config"));
    CHECK(has_warning(&c1, "host.name/port are deprecated (removed in Kafka 3.0); using listeners="));
    CHECK(!has_warning(&c1, "ignored because listeners is set"));
    struct cfg_description d;
    const char *keys[] = { "num.replica.alter.log.dirs.threads" };
    REQUIRE_EQ(broker_config_describe(&c1, keys, 1, &d), 0);
    REQUIRE_EQ(d.n, 1);
    CHECK_STR(d.v[0].value, "2");
    cfg_description_free(&d);

    /* built from a dynamic config: its dynamic values are not carried over */
    REQUIRE_EQ(BUILD(&c1, NULL, NULL, &c2), 0);
    CHECK_EQ(c2.retention_ms, 24 * 3600000LL);
    CHECK_EQ(c2.node_id, 7);
    CHECK(!broker_config_is_set(&c2, "log.retention.ms"));
    broker_config_free(&c2);
    CHECK_EQ(c1.retention_ms, 1000);
    broker_config_free(&c1);
    broker_config_free(&base);
    topic_overrides_free(&brk);
}

/* Static: log.retention.hours=24, message.max.bytes=2000.
 * Cluster default: log.retention.ms=1000, message.max.bytes=3000, log.cleanup.policy=compact.
 * Per broker: message.max.bytes=4000. */
static int describe_fixture(struct broker_config *base, struct broker_config *c)
{
    struct topic_overrides def, brk;
    topic_overrides_init(&def);
    topic_overrides_init(&brk);
    int rc = load(base, "log.retention.hours=24\nmessage.max.bytes=2000\n");
    if (!rc)
        rc = ALTER(base, CFG_DYN_CLUSTER_DEFAULT, &def, "log.retention.ms", CFG_OP_SET, "1000");
    if (!rc)
        rc = ALTER(base, CFG_DYN_CLUSTER_DEFAULT, &def, "message.max.bytes", CFG_OP_SET, "3000");
    if (!rc)
        rc = ALTER(base, CFG_DYN_CLUSTER_DEFAULT, &def, "log.cleanup.policy", CFG_OP_SET, "compact");
    if (!rc)
        rc = ALTER(base, CFG_DYN_BROKER, &brk, "message.max.bytes", CFG_OP_SET, "4000");
    if (!rc)
        rc = BUILD(base, &def, &brk, c);
    topic_overrides_free(&def);
    topic_overrides_free(&brk);
    return rc;
}

#define SYN(e, k, nm, val, src) do {                                      \
        CHECK_STR((e)->synonyms[k].name, nm);                             \
        CHECK_STR((e)->synonyms[k].value, val);                           \
        CHECK_EQ((e)->synonyms[k].source, src);                           \
    } while (0)

TEST(config_dyn_describe_broker)
{
    struct broker_config base, c;
    REQUIRE_EQ(describe_fixture(&base, &c), 0);
    struct cfg_description d;
    const struct cfg_entry *e;
    REQUIRE_EQ(broker_config_describe(&c, NULL, 0, &d), 0);

    REQUIRE((e = find(&d, "message.max.bytes")));
    CHECK_STR(e->value, "4000");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_BROKER);
    CHECK(!e->read_only);
    REQUIRE_EQ(e->nsynonyms, 4);
    SYN(e, 0, "message.max.bytes", "4000", CFG_SRC_DYNAMIC_BROKER);
    SYN(e, 1, "message.max.bytes", "3000", CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    SYN(e, 2, "message.max.bytes", "2000", CFG_SRC_STATIC_BROKER);
    SYN(e, 3, "message.max.bytes", "1048588", CFG_SRC_DEFAULT);

    REQUIRE((e = find(&d, "log.retention.ms")));
    CHECK_STR(e->value, "1000");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    CHECK(!e->read_only);
    REQUIRE_EQ(e->nsynonyms, 3);
    SYN(e, 0, "log.retention.ms", "1000", CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    SYN(e, 1, "log.retention.hours", "24", CFG_SRC_STATIC_BROKER);
    SYN(e, 2, "log.retention.hours", "168", CFG_SRC_DEFAULT);

    REQUIRE((e = find(&d, "log.retention.hours")));
    CHECK_STR(e->value, "24");
    CHECK_EQ(e->source, CFG_SRC_STATIC_BROKER);
    CHECK(e->read_only);

    REQUIRE((e = find(&d, "log.cleanup.policy")));
    CHECK_STR(e->value, "compact");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    REQUIRE_EQ(e->nsynonyms, 2);
    SYN(e, 1, "log.cleanup.policy", "delete", CFG_SRC_DEFAULT);

    CHECK(find(&d, "listeners")->read_only);
    CHECK(find(&d, "num.network.threads")->read_only);
    CHECK(find(&d, "num.partitions")->read_only);
    CHECK(!find(&d, "max.connections")->read_only);
    CHECK_EQ(find(&d, "min.insync.replicas")->source, CFG_SRC_DEFAULT);
    cfg_description_free(&d);

    /* the static config knows nothing of the dynamic layers */
    REQUIRE_EQ(broker_config_describe(&base, NULL, 0, &d), 0);
    REQUIRE((e = find(&d, "message.max.bytes")));
    CHECK_STR(e->value, "2000");
    CHECK_EQ(e->source, CFG_SRC_STATIC_BROKER);
    CHECK_EQ(e->nsynonyms, 2);
    cfg_description_free(&d);

    /* the cluster-default resource: only its keys, only its layer */
    REQUIRE_EQ(broker_config_describe_default(&c, NULL, 0, &d), 0);
    CHECK_EQ(d.n, 3);
    REQUIRE((e = find(&d, "message.max.bytes")));
    CHECK_STR(e->value, "3000");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    REQUIRE_EQ(e->nsynonyms, 1);
    SYN(e, 0, "message.max.bytes", "3000", CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    REQUIRE((e = find(&d, "log.retention.ms")));
    REQUIRE_EQ(e->nsynonyms, 1);
    SYN(e, 0, "log.retention.ms", "1000", CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    CHECK(cfg_description_find(&d, "log.retention.hours") == NULL);
    cfg_description_free(&d);
    const char *keys[] = { "log.cleanup.policy", "num.partitions", "nope" };
    REQUIRE_EQ(broker_config_describe_default(&c, keys, 3, &d), 0);
    REQUIRE_EQ(d.n, 1);
    CHECK_STR(d.v[0].name, "log.cleanup.policy");
    cfg_description_free(&d);
    REQUIRE_EQ(broker_config_describe_default(&base, NULL, 0, &d), 0);
    CHECK_EQ(d.n, 0);
    cfg_description_free(&d);

    broker_config_free(&c);
    broker_config_free(&base);
}

TEST(config_dyn_describe_topic)
{
    struct broker_config base, c;
    REQUIRE_EQ(describe_fixture(&base, &c), 0);
    struct cfg_description d;
    const struct cfg_entry *e;
    cfg_kv ov[] = { { "max.message.bytes", "5000" } };
    REQUIRE_EQ(topic_cfg_describe(&c, ov, 1, NULL, 0, &d), 0);

    REQUIRE((e = find(&d, "retention.ms")));          /* no override */
    CHECK_STR(e->value, "1000");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    REQUIRE_EQ(e->nsynonyms, 3);
    SYN(e, 0, "log.retention.ms", "1000", CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    SYN(e, 1, "log.retention.hours", "24", CFG_SRC_STATIC_BROKER);
    SYN(e, 2, "log.retention.hours", "168", CFG_SRC_DEFAULT);

    REQUIRE((e = find(&d, "max.message.bytes")));     /* override on top of everything */
    CHECK_STR(e->value, "5000");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_TOPIC);
    REQUIRE_EQ(e->nsynonyms, 5);
    SYN(e, 0, "max.message.bytes", "5000", CFG_SRC_DYNAMIC_TOPIC);
    SYN(e, 1, "message.max.bytes", "4000", CFG_SRC_DYNAMIC_BROKER);
    SYN(e, 2, "message.max.bytes", "3000", CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    SYN(e, 3, "message.max.bytes", "2000", CFG_SRC_STATIC_BROKER);
    SYN(e, 4, "message.max.bytes", "1048588", CFG_SRC_DEFAULT);

    REQUIRE((e = find(&d, "cleanup.policy")));
    CHECK_STR(e->value, "compact");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    cfg_description_free(&d);

    REQUIRE_EQ(topic_cfg_describe(&c, NULL, 0, NULL, 0, &d), 0);
    REQUIRE((e = find(&d, "max.message.bytes")));
    CHECK_STR(e->value, "4000");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_BROKER);
    CHECK_EQ(e->nsynonyms, 4);
    cfg_description_free(&d);

    /* topic edits see the dynamic broker values too */
    struct topic_overrides o;
    topic_overrides_init(&o);
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "cleanup.policy", CFG_OP_APPEND, "delete", g_err, sizeof g_err), 0);
    CHECK_STR(topic_overrides_get(&o, "cleanup.policy"), "compact,delete");
    topic_overrides_free(&o);

    broker_config_free(&c);
    broker_config_free(&base);
}

/* Issue 12: a Kafka key Samsa does not implement but Kafka changes at
 * runtime is accepted by AlterConfigs / IncrementalAlterConfigs, stored,
 * described and warned about; Kafka's refusals (read-only, per-broker at
 * the cluster default, SSL stores without a listener prefix) and typos are
 * refused. */
TEST(config_dyn_kafka_keys_not_implemented)
{
    struct broker_config base, c;
    struct topic_overrides def, brk;
    topic_overrides_init(&def);
    topic_overrides_init(&brk);
    REQUIRE_EQ(load(&base, "background.threads=8\n"), 0);

    char kerb[] = "sasl.kerberos.min.time.before.relogin";
    CHECK(broker_cfg_is_stored_only(kerb));
    CHECK(!broker_cfg_is_stored_only("message.max.bytes"));
    CHECK(!broker_cfg_is_stored_only("zookeeper.sync.time.ms"));
    CHECK(!broker_cfg_is_stored_only("frobnicate"));
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, kerb, CFG_OP_SET, "58000"), 0);
    CHECK_STR(topic_overrides_get(&brk, kerb), "58000");
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, kerb, CFG_OP_SET, "1"), KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Cannot update these configs at default cluster level, broker id must be "
                     "specified: Set(sasl.kerberos.min.time.before.relogin)");
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "background.threads", CFG_OP_SET, "4"), 0);
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, "ssl.keystore.location", CFG_OP_SET, "/k"),
             KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "These security configs can be dynamically updated only per-listener using "
                     "the listener prefix: Set(ssl.keystore.location)");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, "listener.name.ext.ssl.keystore.location",
                   CFG_OP_SET, "/k"), 0);
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "listener.name.ext.ssl.keystore.location",
                   CFG_OP_SET, "/k"), KERR_INVALID_REQUEST);
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "listener.name.ext.max.connection.creation.rate",
                   CFG_OP_SET, "5"), 0);
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "listener.name.ext", CFG_OP_SET, "5"),
             KERR_INVALID_REQUEST);
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "confluent.x", CFG_OP_SET, "5"),
             KERR_INVALID_REQUEST);
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, "sasl.kerberos.min.time.before.relogn",
                   CFG_OP_SET, "1"), KERR_INVALID_CONFIG);
    CHECK_MSG("Unknown broker config name: sasl.kerberos.min.time.before.relogn (did you mean "
              "sasl.kerberos.min.time.before.relogin?)");
    CHECK_EQ(ALTER(&base, CFG_DYN_BROKER, &brk, kerb, CFG_OP_SET, NULL), KERR_INVALID_CONFIG);
    /* list keys take APPEND/SUBTRACT, the others refuse them */
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "metric.reporters", CFG_OP_APPEND, "a"), 0);
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "metric.reporters", CFG_OP_APPEND, "b"), 0);
    CHECK_STR(topic_overrides_get(&def, "metric.reporters"), "a,b");
    CHECK_EQ(ALTER(&base, CFG_DYN_CLUSTER_DEFAULT, &def, "background.threads", CFG_OP_APPEND, "1"),
             KERR_INVALID_REQUEST);
    CHECK_STR(topic_overrides_get(&def, "background.threads"), "4");

    /* the built config stores, describes and warns */
    REQUIRE_EQ(BUILD(&base, &def, &brk, &c), 0);
    CHECK(has_warning(&c, "sasl.kerberos.min.time.before.relogin=58000 [dynamic broker config]: "
                          "a Kafka config that Samsa does not implement; stored and described, "
                          "not acted on"));
    struct cfg_description d;
    const struct cfg_entry *e;
    REQUIRE_EQ(broker_config_describe(&c, NULL, 0, &d), 0);
    REQUIRE((e = find(&d, kerb)));
    CHECK_STR(e->value, "58000");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_BROKER);
    CHECK(!e->read_only);
    REQUIRE((e = find(&d, "background.threads")));
    CHECK_STR(e->value, "4");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    REQUIRE_EQ(e->nsynonyms, 2);
    SYN(e, 0, "background.threads", "4", CFG_SRC_DYNAMIC_DEFAULT_BROKER);
    SYN(e, 1, "background.threads", "8", CFG_SRC_STATIC_BROKER);
    cfg_description_free(&d);
    REQUIRE_EQ(broker_config_describe_default(&c, NULL, 0, &d), 0);
    CHECK_STR(find(&d, "background.threads")->value, "4");
    CHECK(cfg_description_find(&d, kerb) == NULL);
    cfg_description_free(&d);
    struct topic_overrides back;
    topic_overrides_init(&back);
    REQUIRE_EQ(broker_config_dynamic_layer(&c, CFG_DYN_BROKER, &back), 0);
    CHECK_STR(topic_overrides_get(&back, kerb), "58000");
    topic_overrides_free(&back);
    broker_config_free(&c);

    /* replace (AlterConfigs): read-only keys are named before anything else */
    cfg_kv kv[] = { { kerb, "1" }, { "zookeeper.sync.time.ms", "1" }, { "ssl.keystore.type", "x" } };
    CHECK_EQ(broker_cfg_replace(CFG_DYN_BROKER, &brk, kv, 3, g_err, sizeof g_err), KERR_INVALID_REQUEST);
    CHECK_STR(g_err, "Cannot update these configs dynamically: Set(zookeeper.sync.time.ms)");
    CHECK_EQ(broker_cfg_replace(CFG_DYN_BROKER, &brk, kv, 1, g_err, sizeof g_err), 0);
    CHECK_STR(topic_overrides_get(&brk, kerb), "1");

    /* the table: real Kafka keys, none implemented, sorted */
    const char *prev = "";
    for (size_t i = 0; cfg_kafka_dynamic_at(i); i++) {
        const char *k = cfg_kafka_dynamic_at(i), *why;
        CHECK_EQ(cfg_kafka_known(k, &why), CFG_KNOWN_KAFKA);
        CHECK(cfg_broker_find(k) < 0);
        CHECK(strcmp(prev, k) < 0);
        prev = k;
    }
    topic_overrides_free(&def);
    topic_overrides_free(&brk);
    broker_config_free(&base);
}
