/* test_config_topic.c - topic configs: validate, describe (sources and
 * synonyms), incremental alter on lists, effective settings; and the
 * generated docs in docs/configuration.md being current. */
#include "test.h"
#include "docs_check.h"

#include <stdbool.h>
#include <stdlib.h>

#include "config/config.h"
#include "core/errors.h"

static char g_err[1024];

static int broker(struct broker_config *c, const char *text)
{
    if (broker_config_init(c))
        return -1;
    int rc = broker_config_load_string(c, text, strlen(text), "t.properties", g_err, sizeof g_err);
    return rc ? rc : broker_config_finish(c, g_err, sizeof g_err);
}

TEST(config_topic_validate)
{
    char err[512];
    CHECK_EQ(topic_cfg_validate("retention.ms", "86400000", err, sizeof err), 0);
    CHECK_EQ(topic_cfg_validate("retention.ms", "-1", err, sizeof err), 0);
    CHECK_EQ(topic_cfg_validate("cleanup.policy", "compact, delete", err, sizeof err), 0);
    CHECK_EQ(topic_cfg_validate("min.cleanable.dirty.ratio", "0.1", err, sizeof err), 0);
    CHECK_EQ(topic_cfg_validate("retention.mss", "1", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK_STR(err, "Unknown topic config name: retention.mss");
    CHECK_EQ(topic_cfg_validate("retention.ms", "abc", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK_STR(err, "Invalid value abc for configuration retention.ms: not a number (expected long >= -1)");
    CHECK_EQ(topic_cfg_validate("segment.bytes", "13", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK(strstr(err, "out of range (expected int >= 14)") != NULL);
    CHECK_EQ(topic_cfg_validate("message.timestamp.type", "Now", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK_EQ(topic_cfg_validate("cleanup.policy", "delete,archive", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK_EQ(topic_cfg_validate("remote.storage.enable", "true", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK(strstr(err, "tiered storage is not supported") != NULL);
    CHECK_EQ(topic_cfg_validate("leader.replication.throttled.replicas", "0:1,1:2", err, sizeof err), 0);
    CHECK_EQ(topic_cfg_validate("leader.replication.throttled.replicas", "*", err, sizeof err), 0);
    CHECK_EQ(topic_cfg_validate("leader.replication.throttled.replicas", "x", err, sizeof err),
             KERR_INVALID_CONFIG);
    CHECK_EQ(topic_cfg_validate("retention.ms", NULL, err, sizeof err), KERR_INVALID_CONFIG);
    CHECK(topic_cfg_is_known("segment.ms"));
    CHECK(!topic_cfg_is_known("log.segment.bytes"));

    struct broker_config c;
    REQUIRE_EQ(broker(&c, ""), 0);
    cfg_kv bad[] = { { "min.compaction.lag.ms", "100" }, { "max.compaction.lag.ms", "50" } };
    CHECK_EQ(topic_cfg_validate_set(&c, bad, 2, err, sizeof err), KERR_INVALID_CONFIG);
    CHECK(strstr(err, "min.compaction.lag.ms (100) > max.compaction.lag.ms (50)") != NULL);
    cfg_kv good[] = { { "retention.ms", "1000" }, { "cleanup.policy", "compact" } };
    CHECK_EQ(topic_cfg_validate_set(&c, good, 2, err, sizeof err), 0);
    cfg_kv unknown[] = { { "retention", "1" } };
    CHECK_EQ(topic_cfg_validate_set(&c, unknown, 1, err, sizeof err), KERR_INVALID_CONFIG);
    broker_config_free(&c);
}

TEST(config_topic_describe_sources_and_synonyms)
{
    struct broker_config c;
    struct cfg_description d;
    const struct cfg_entry *e;

    /* Nothing set anywhere: values derived from broker defaults. */
    REQUIRE_EQ(broker(&c, ""), 0);
    REQUIRE_EQ(topic_cfg_describe(&c, NULL, 0, NULL, 0, &d), 0);
    e = cfg_description_find(&d, "retention.ms");
    REQUIRE(e != NULL);
    CHECK_STR(e->value, "604800000");
    CHECK_EQ(e->source, CFG_SRC_DEFAULT);
    CHECK_EQ(e->config_type, CFG_T_LONG);
    CHECK(!e->read_only);
    CHECK(!e->is_sensitive);
    REQUIRE_EQ(e->nsynonyms, 1);
    CHECK_STR(e->synonyms[0].name, "log.retention.hours");
    CHECK_STR(e->synonyms[0].value, "168");
    CHECK_EQ(e->synonyms[0].source, CFG_SRC_DEFAULT);
    e = cfg_description_find(&d, "flush.ms");
    REQUIRE(e != NULL);
    CHECK_STR(e->value, "9223372036854775807");
    REQUIRE_EQ(e->nsynonyms, 1);
    CHECK_STR(e->synonyms[0].name, "log.flush.scheduler.interval.ms");
    e = cfg_description_find(&d, "remote.storage.enable");     /* no broker synonym */
    REQUIRE(e != NULL);
    CHECK_STR(e->value, "false");
    CHECK_EQ(e->source, CFG_SRC_DEFAULT);
    CHECK_EQ(e->nsynonyms, 0);
    CHECK_EQ(cfg_description_find(&d, "cleanup.policy")->config_type, CFG_T_LIST);
    CHECK_EQ(cfg_description_find(&d, "preallocate")->config_type, CFG_T_BOOLEAN);
    cfg_description_free(&d);
    broker_config_free(&c);

    /* Broker file sets log.retention.ms and message.max.bytes; topic overrides one key. */
    REQUIRE_EQ(broker(&c, "log.retention.ms=1000\nmessage.max.bytes=2000\nlog.roll.hours=1\n"), 0);
    cfg_kv ov[] = { { "max.message.bytes", "3000" } };
    REQUIRE_EQ(topic_cfg_describe(&c, ov, 1, NULL, 0, &d), 0);
    e = cfg_description_find(&d, "retention.ms");
    CHECK_STR(e->value, "1000");
    CHECK_EQ(e->source, CFG_SRC_STATIC_BROKER);
    REQUIRE_EQ(e->nsynonyms, 2);
    CHECK_STR(e->synonyms[0].name, "log.retention.ms");
    CHECK_STR(e->synonyms[0].value, "1000");
    CHECK_EQ(e->synonyms[0].source, CFG_SRC_STATIC_BROKER);
    CHECK_STR(e->synonyms[1].name, "log.retention.hours");
    CHECK_EQ(e->synonyms[1].source, CFG_SRC_DEFAULT);
    e = cfg_description_find(&d, "max.message.bytes");
    CHECK_STR(e->value, "3000");
    CHECK_EQ(e->source, CFG_SRC_DYNAMIC_TOPIC);
    REQUIRE_EQ(e->nsynonyms, 3);
    CHECK_STR(e->synonyms[0].name, "max.message.bytes");
    CHECK_EQ(e->synonyms[0].source, CFG_SRC_DYNAMIC_TOPIC);
    CHECK_STR(e->synonyms[1].name, "message.max.bytes");
    CHECK_STR(e->synonyms[1].value, "2000");
    CHECK_EQ(e->synonyms[1].source, CFG_SRC_STATIC_BROKER);
    CHECK_STR(e->synonyms[2].value, "1048588");
    CHECK_EQ(e->synonyms[2].source, CFG_SRC_DEFAULT);
    e = cfg_description_find(&d, "segment.ms");
    CHECK_STR(e->value, "3600000");                 /* log.roll.hours=1, in ms */
    CHECK_EQ(e->source, CFG_SRC_STATIC_BROKER);
    CHECK_STR(e->synonyms[0].name, "log.roll.hours");
    cfg_description_free(&d);

    const char *keys[] = { "segment.ms", "nope" };
    REQUIRE_EQ(topic_cfg_describe(&c, ov, 1, keys, 2, &d), 0);
    REQUIRE_EQ(d.n, 1);
    CHECK_STR(d.v[0].name, "segment.ms");
    cfg_description_free(&d);
    broker_config_free(&c);
}

TEST(config_topic_incremental_alter)
{
    struct broker_config c;
    char err[512];
    REQUIRE_EQ(broker(&c, ""), 0);
    struct topic_overrides o;
    topic_overrides_init(&o);

    REQUIRE_EQ(topic_cfg_alter(&c, &o, "cleanup.policy", CFG_OP_APPEND, "compact", err, sizeof err), 0);
    CHECK_STR(topic_overrides_get(&o, "cleanup.policy"), "delete,compact");
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "cleanup.policy", CFG_OP_APPEND, "compact,delete", err, sizeof err), 0);
    CHECK_STR(topic_overrides_get(&o, "cleanup.policy"), "delete,compact");     /* no duplicates */
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "cleanup.policy", CFG_OP_SUBTRACT, "delete", err, sizeof err), 0);
    CHECK_STR(topic_overrides_get(&o, "cleanup.policy"), "compact");
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "cleanup.policy", CFG_OP_SUBTRACT, "compact", err, sizeof err), 0);
    CHECK_STR(topic_overrides_get(&o, "cleanup.policy"), "");
    CHECK_EQ(topic_cfg_alter(&c, &o, "cleanup.policy", CFG_OP_APPEND, "archive", err, sizeof err),
             KERR_INVALID_CONFIG);
    CHECK(strstr(err, "invalid item 'archive'") != NULL);
    CHECK_STR(topic_overrides_get(&o, "cleanup.policy"), "");                  /* unchanged */

    REQUIRE_EQ(topic_cfg_alter(&c, &o, "retention.ms", CFG_OP_SET, " 1000 ", err, sizeof err), 0);
    CHECK_STR(topic_overrides_get(&o, "retention.ms"), "1000");
    CHECK_EQ(topic_cfg_alter(&c, &o, "retention.ms", CFG_OP_SET, "soon", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK_STR(topic_overrides_get(&o, "retention.ms"), "1000");
    CHECK_EQ(topic_cfg_alter(&c, &o, "retention.ms", CFG_OP_APPEND, "5", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK_STR(err, "Config value append is not allowed for config key: retention.ms");
    CHECK_EQ(topic_cfg_alter(&c, &o, "retention.ms", CFG_OP_SUBTRACT, "5", err, sizeof err), KERR_INVALID_CONFIG);
    CHECK_STR(err, "Config value subtract is not allowed for config key: retention.ms");
    CHECK_EQ(topic_cfg_alter(&c, &o, "retention.msx", CFG_OP_DELETE, NULL, err, sizeof err), KERR_INVALID_CONFIG);
    CHECK_STR(err, "Unknown topic config name: retention.msx");
    CHECK_EQ(topic_cfg_alter(&c, &o, "retention.ms", 9, "1", err, sizeof err), KERR_INVALID_REQUEST);
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "retention.ms", CFG_OP_DELETE, NULL, err, sizeof err), 0);
    CHECK(topic_overrides_get(&o, "retention.ms") == NULL);
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "retention.ms", CFG_OP_DELETE, NULL, err, sizeof err), 0);

    /* Cross-key rule is checked on the result, and a failure leaves o as it was. */
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "max.compaction.lag.ms", CFG_OP_SET, "100", err, sizeof err), 0);
    CHECK_EQ(topic_cfg_alter(&c, &o, "min.compaction.lag.ms", CFG_OP_SET, "200", err, sizeof err),
             KERR_INVALID_CONFIG);
    CHECK(topic_overrides_get(&o, "min.compaction.lag.ms") == NULL);

    /* APPEND starts from the broker's effective value. */
    topic_overrides_free(&o);
    broker_config_free(&c);
    REQUIRE_EQ(broker(&c, "log.cleanup.policy=compact"), 0);
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "cleanup.policy", CFG_OP_APPEND, "delete", err, sizeof err), 0);
    CHECK_STR(topic_overrides_get(&o, "cleanup.policy"), "compact,delete");
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "leader.replication.throttled.replicas", CFG_OP_APPEND, "0:1",
                               err, sizeof err), 0);
    REQUIRE_EQ(topic_cfg_alter(&c, &o, "leader.replication.throttled.replicas", CFG_OP_APPEND, "1:1",
                               err, sizeof err), 0);
    CHECK_STR(topic_overrides_get(&o, "leader.replication.throttled.replicas"), "0:1,1:1");
    topic_overrides_free(&o);
    broker_config_free(&c);
}

TEST(config_topic_overrides_container)
{
    struct topic_overrides o, p;
    topic_overrides_init(&o);
    topic_overrides_init(&p);
    char k[32], v[32];
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "k%d", i);
        snprintf(v, sizeof v, "v%d", i);
        REQUIRE_EQ(topic_overrides_put(&o, k, v), 0);
    }
    REQUIRE_EQ(topic_overrides_put(&o, "k3", "new"), 0);
    CHECK_EQ(o.n, 20);
    CHECK_STR(topic_overrides_get(&o, "k3"), "new");
    CHECK(topic_overrides_del(&o, "k0"));
    CHECK(!topic_overrides_del(&o, "k0"));
    CHECK_EQ(o.n, 19);
    CHECK_STR(topic_overrides_get(&o, "k19"), "v19");
    REQUIRE_EQ(topic_overrides_put(&o, "k19", NULL), 0);
    CHECK(topic_overrides_get(&o, "k19") == NULL);
    REQUIRE_EQ(topic_overrides_assign(&p, o.v, o.n), 0);
    CHECK_EQ(p.n, 18);
    CHECK(p.v[0].key != o.v[0].key);                /* deep copy */
    topic_overrides_free(&o);
    topic_overrides_free(&p);
}

TEST(config_topic_effective_settings)
{
    struct broker_config c;
    struct topic_settings ts;
    char err[512];
    REQUIRE_EQ(broker(&c, ""), 0);
    REQUIRE_EQ(topic_cfg_effective(&c, NULL, 0, &ts, err, sizeof err), 0);
    CHECK_EQ(ts.cleanup_policy, CFG_CLEANUP_DELETE);
    CHECK(ts.delete_ && !ts.compact);
    CHECK_EQ(ts.compression_type, CFG_COMPRESSION_PRODUCER);
    CHECK_EQ(ts.segment_bytes, 1073741824);
    CHECK_EQ(ts.segment_ms, 604800000);
    CHECK_EQ(ts.segment_jitter_ms, 0);
    CHECK_EQ(ts.segment_index_bytes, 10485760);
    CHECK_EQ(ts.index_interval_bytes, 4096);
    CHECK_EQ(ts.retention_ms, 604800000);
    CHECK_EQ(ts.retention_bytes, -1);
    CHECK_EQ(ts.max_message_bytes, 1048588);
    CHECK(ts.flush_messages == INT64_MAX);
    CHECK(ts.flush_ms == INT64_MAX);
    CHECK_EQ(ts.file_delete_delay_ms, 60000);
    CHECK_EQ(ts.delete_retention_ms, 86400000);
    CHECK_EQ(ts.timestamp_type, CFG_TS_CREATE_TIME);
    CHECK(ts.timestamp_before_max_ms == INT64_MAX);
    CHECK(ts.timestamp_after_max_ms == INT64_MAX);
    CHECK_EQ(ts.min_insync_replicas, 1);
    CHECK(ts.min_cleanable_dirty_ratio == 0.5);
    CHECK(ts.max_compaction_lag_ms == INT64_MAX);
    CHECK_EQ(ts.local_retention_ms, -2);
    CHECK(!ts.preallocate && !ts.remote_storage_enable && !ts.unclean_leader_election_enable);
    CHECK(ts.message_downconversion_enable);
    CHECK_EQ(ts.compression_gzip_level, -1);
    broker_config_free(&c);

    REQUIRE_EQ(broker(&c, "log.retention.minutes=10\nlog.flush.interval.ms=1000\n"
                          "log.flush.interval.messages=500\nlog.segment.bytes=1048576\n"
                          "log.roll.jitter.hours=1\nlog.message.timestamp.type=LogAppendTime\n"
                          "compression.type=lz4\nlog.cleanup.policy=compact,delete\n"),
               0);
    REQUIRE_EQ(topic_cfg_effective(&c, NULL, 0, &ts, err, sizeof err), 0);
    CHECK_EQ(ts.retention_ms, 600000);
    CHECK_EQ(ts.flush_ms, 1000);
    CHECK_EQ(ts.flush_messages, 500);
    CHECK_EQ(ts.segment_bytes, 1048576);
    CHECK_EQ(ts.segment_jitter_ms, 3600000);
    CHECK_EQ(ts.timestamp_type, CFG_TS_LOG_APPEND_TIME);
    CHECK_EQ(ts.compression_type, CFG_COMPRESSION_LZ4);
    CHECK(ts.compact && ts.delete_);

    cfg_kv ov[] = {
        { "retention.ms", "-1" }, { "segment.bytes", "2048" }, { "cleanup.policy", "compact" },
        { "compression.type", "uncompressed" }, { "message.timestamp.difference.max.ms", "5000" },
        { "message.timestamp.before.max.ms", "100" }, { "segment.ms", "60000" },
    };
    REQUIRE_EQ(topic_cfg_effective(&c, ov, 7, &ts, err, sizeof err), 0);
    CHECK_EQ(ts.retention_ms, -1);
    CHECK_EQ(ts.segment_bytes, 2048);
    CHECK(ts.compact && !ts.delete_);
    CHECK_EQ(ts.compression_type, CFG_COMPRESSION_NONE);
    CHECK_EQ(ts.timestamp_before_max_ms, 100);
    CHECK_EQ(ts.timestamp_after_max_ms, 5000);      /* falls back to difference */
    CHECK_EQ(ts.segment_ms, 60000);
    cfg_kv bad[] = { { "segment.bytes", "tiny" } };
    CHECK_EQ(topic_cfg_effective(&c, bad, 1, &ts, err, sizeof err), KERR_INVALID_CONFIG);
    CHECK(strstr(err, "Invalid value tiny for configuration segment.bytes") != NULL);
    broker_config_free(&c);

    /* Unlimited broker retention reaches topics as -1. */
    REQUIRE_EQ(broker(&c, "log.retention.hours=-1"), 0);
    REQUIRE_EQ(topic_cfg_effective(&c, NULL, 0, &ts, err, sizeof err), 0);
    CHECK_EQ(ts.retention_ms, -1);
    broker_config_free(&c);
}

/* docs/configuration.md embeds config_print_markdown() between markers;
 * fail when it is stale.  SAMSA_REGEN_DOCS=1 rewrites that section. */
#define DOC_PATH "docs/configuration.md"
#define BEGIN_MARK "<!-- BEGIN GENERATED CONFIG TABLES (config_print_markdown) -->\n"
#define END_MARK "<!-- END GENERATED CONFIG TABLES -->\n"

TEST(config_docs_generated_current)
{
    docs_check_section(DOC_PATH, BEGIN_MARK, END_MARK, config_print_markdown, "config_docs");
}
