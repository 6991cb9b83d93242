/* test_config.c - broker config: .properties syntax, defaults, errors,
 * warnings, precedence, aliases, listeners, command line, describe. */
#include "test.h"

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "config/config.h"
#include "config/config_int.h"
#include "core/errors.h"

static char g_err[1024];

/* Load text as a properties file and finish.  Returns the kerr code. */
static int load(struct broker_config *c, const char *text)
{
    g_err[0] = 0;
    if (broker_config_init(c))
        return -1;
    int rc = broker_config_load_string(c, text, strlen(text), "t.properties", g_err, sizeof g_err);
    if (!rc)
        rc = broker_config_finish(c, g_err, sizeof g_err);
    return rc;
}

static bool has_warning(const struct broker_config *c, const char *sub)
{
    for (size_t i = 0; i < c->nwarnings; i++)
        if (strstr(c->warnings[i], sub))
            return true;
    return false;
}

static void dump_warnings(const struct broker_config *c)
{
    for (size_t i = 0; i < c->nwarnings; i++)
        fprintf(stderr, "      warning: %s\n", c->warnings[i]);
}

#define CHECK_ERR(text, expect) do {                                             \
        struct broker_config c_;                                                 \
        CHECK_EQ(load(&c_, text), KERR_INVALID_CONFIG);                          \
        if (!strstr(g_err, expect))                                              \
            test_fail(__FILE__, __LINE__, "error \"%s\" lacks \"%s\"", g_err, expect); \
        broker_config_free(&c_);                                                 \
    } while (0)

/* ---- .properties syntax ---- */

TEST(config_props_syntax)
{
    const char *text =
        "\xEF\xBB\xBF# comment\r\n"
        "! bang comment\n"
        "   key1=value1\n"
        "key2 : value2\n"
        "key3 value3\n"
        "key4=a\\\n"
        "    b\\\n"
        "\tc\n"
        "key5=tab\\there\\nnl\n"
        "key6=\\u0041\\u00e9\\uD83D\\uDE00\n"
        "key7 = trailing   \n"
        "key8=kept\\ \n"
        "key\\ with\\:odd\\=chars = v\n"
        "key9\n"
        "key10=a=b:c\n"
        "  # indented comment \\\n"
        "key11=x # not a comment\n"
        "key12=back\\\\\n"
        "key13=\n"
        "\n"
        "key14\t=\t  spaced\r"
        "key15=last";
    struct props p;
    char err[256];
    REQUIRE_EQ(props_parse(text, strlen(text), &p, err, sizeof err), 0);
    const char *expect[][2] = {
        { "key1", "value1" }, { "key2", "value2" }, { "key3", "value3" }, { "key4", "abc" },
        { "key5", "tab\there\nnl" }, { "key6", "A\xC3\xA9\xF0\x9F\x98\x80" },
        { "key7", "trailing" }, { "key8", "kept " }, { "key with:odd=chars", "v" },
        { "key9", "" }, { "key10", "a=b:c" }, { "key11", "x # not a comment" },
        { "key12", "back\\" }, { "key13", "" }, { "key14", "spaced" }, { "key15", "last" },
    };
    size_t ne = sizeof expect / sizeof *expect;
    REQUIRE_EQ(p.n, ne);
    for (size_t i = 0; i < ne; i++) {
        CHECK_STR(p.v[i].key, expect[i][0]);
        CHECK_STR(p.v[i].value, expect[i][1]);
    }
    CHECK_EQ(p.v[0].line, 3);
    CHECK_EQ(p.v[3].line, 6);       /* continuation entry starts on its first line */
    CHECK_EQ(p.v[4].line, 9);
    props_free(&p);

    CHECK_EQ(props_parse("a=\\u12G4\n", 9, &p, err, sizeof err), -1);
    CHECK(strstr(err, "line 1") && strstr(err, "\\uXXXX"));
    CHECK_EQ(props_parse("a=1\nb=\\u12", 10, &p, err, sizeof err), -1);
    CHECK(strstr(err, "line 2") != NULL);
    CHECK_EQ(props_parse("a=1\0b", 5, &p, err, sizeof err), -1);
    /* A comment ending in a backslash does not swallow the next line. */
    REQUIRE_EQ(props_parse("#c\\\nz=1", 7, &p, err, sizeof err), 0);
    REQUIRE_EQ(p.n, 1);
    CHECK_STR(p.v[0].key, "z");
    props_free(&p);
    REQUIRE_EQ(props_parse("", 0, &p, err, sizeof err), 0);
    CHECK_EQ(p.n, 0);
    props_free(&p);
}

/* ---- defaults ---- */

TEST(config_defaults)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, ""), 0);
    CHECK_EQ(c.node_id, 0);
    CHECK_EQ(c.broker_id, 0);
    REQUIRE_EQ(c.nendpoints, 1);
    CHECK_STR(c.endpoints[0].name, "PLAINTEXT");
    CHECK_STR(c.endpoints[0].host, "127.0.0.1");
    CHECK_EQ(c.endpoints[0].port, 9092);
    CHECK_EQ(c.endpoints[0].security_protocol, CFG_PLAINTEXT);
    REQUIRE_EQ(c.nadvertised, 1);
    CHECK_STR(c.advertised[0].host, "127.0.0.1");
    REQUIRE_EQ(c.nlog_dirs, 1);
    CHECK_STR(c.log_dir_list[0], "./data");
    CHECK(c.log_dirs == NULL);
    CHECK_EQ(c.num_partitions, 1);
    CHECK_EQ(c.default_replication_factor, 1);
    CHECK(c.auto_create_topics_enable);
    CHECK(c.delete_topic_enable);
    CHECK_EQ(c.log_segment_bytes, 1073741824);
    CHECK_EQ(c.retention_ms, 168LL * 3600000);
    CHECK(c.log_retention_ms == CFG_NULL_LONG);
    CHECK(c.log_retention_minutes == CFG_NULL_INT);
    CHECK_EQ(c.log_retention_bytes, -1);
    CHECK_EQ(c.log_retention_check_interval_ms, 300000);
    CHECK_EQ(c.roll_ms, 168LL * 3600000);
    CHECK_EQ(c.roll_jitter_ms, 0);
    CHECK(c.flush_ms == INT64_MAX);
    CHECK(c.log_flush_interval_messages == INT64_MAX);
    CHECK_EQ(c.log_flush_offset_checkpoint_interval_ms, 60000);
    CHECK_EQ(c.log_index_interval_bytes, 4096);
    CHECK_EQ(c.log_index_size_max_bytes, 10485760);
    CHECK_EQ(c.log_segment_delete_delay_ms, 60000);
    CHECK_STR(c.log_message_timestamp_type, "CreateTime");
    CHECK_STR(c.log_cleanup_policy, "delete");
    CHECK(c.log_cleaner_enable);
    CHECK(c.log_cleaner_min_cleanable_ratio == 0.5);
    CHECK_EQ(c.message_max_bytes, 1048588);
    CHECK_EQ(c.replica_fetch_max_bytes, 1048576);
    CHECK_EQ(c.socket_request_max_bytes, 104857600);
    CHECK_EQ(c.socket_send_buffer_bytes, 102400);
    CHECK_EQ(c.socket_receive_buffer_bytes, 102400);
    CHECK_EQ(c.connections_max_idle_ms, 600000);
    CHECK_EQ(c.num_network_threads, 3);
    CHECK_EQ(c.num_io_threads, 8);
    CHECK_EQ(c.max_connections, INT32_MAX);
    CHECK_EQ(c.queued_max_requests, 500);
    CHECK_EQ(c.group_initial_rebalance_delay_ms, 3000);
    CHECK_EQ(c.group_min_session_timeout_ms, 6000);
    CHECK_EQ(c.group_max_session_timeout_ms, 1800000);
    CHECK_EQ(c.offsets_topic_num_partitions, 50);
    CHECK_EQ(c.offsets_topic_replication_factor, 3);
    CHECK_EQ(c.offsets_retention_minutes, 10080);
    CHECK_EQ(c.offsets_topic_segment_bytes, 104857600);
    CHECK_EQ(c.offset_metadata_max_bytes, 4096);
    CHECK_EQ(c.producer_id_expiration_ms, 86400000);
    CHECK_EQ(c.min_insync_replicas, 1);
    CHECK(!c.unclean_leader_election_enable);
    CHECK_EQ(c.replica_lag_time_max_ms, 30000);
    CHECK_EQ(c.fetch_max_bytes, 57671680);
    CHECK_EQ(c.max_incremental_fetch_session_cache_slots, 1000);
    CHECK_STR(c.compression_type, "producer");
    CHECK(c.zookeeper_connect == NULL);
    CHECK_EQ(c.zookeeper_connection_timeout_eff_ms, 18000);
    CHECK_EQ(c.nconn_overrides, 0);
    CHECK_EQ(c.nwarnings, 0);
    CHECK(!broker_config_is_set(&c, "num.partitions"));
    broker_config_free(&c);
}

/* Every row's default passes its own validator; names are unique, and
 * every non-samsa key is a real Kafka key (catches typos in the table). */
TEST(config_table_sane)
{
    char why[512];
    for (size_t i = 0; i < cfg_broker_ndefs; i++) {
        const struct cfg_def *d = &cfg_broker_defs[i];
        CHECK(d->doc && d->doc[0]);
        if (d->dflt && cfgv_check(d, d->dflt, why, sizeof why))
            test_fail(__FILE__, __LINE__, "%s default %s: %s", d->name, d->dflt, why);
        CHECK_EQ(cfg_broker_find(d->name), (long long)i);
        const char *fam;
        if (strncmp(d->name, "samsa.", 6) && cfg_kafka_known(d->name, &fam) != CFG_KNOWN_KAFKA)
            test_fail(__FILE__, __LINE__, "%s is not in the Kafka key list", d->name);
        for (int s = 0; s < 3 && d->syn[s]; s++)
            CHECK(cfg_broker_find(d->syn[s]) >= 0);
    }
    for (size_t i = 0; i < cfg_topic_ndefs; i++) {
        const struct cfg_def *d = &cfg_topic_defs[i];
        if (d->dflt && cfgv_check(d, d->dflt, why, sizeof why))
            test_fail(__FILE__, __LINE__, "topic %s default %s: %s", d->name, d->dflt, why);
        for (int s = 0; s < 3 && d->syn[s]; s++)
            if (cfg_broker_find(d->syn[s]) < 0)
                test_fail(__FILE__, __LINE__, "topic %s synonym %s is not a broker key", d->name,
                          d->syn[s]);
    }
}

/* ---- error classes ---- */

TEST(config_error_bad_number)
{
    struct broker_config c;
    CHECK_EQ(load(&c, "num.partitions=2\nlog.segment.bytes=abc\n"), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "config error: log.segment.bytes=abc: not a number (expected int >= 14) "
                     "[t.properties:2]");
    broker_config_free(&c);
    CHECK_ERR("log.retention.bytes=12MB", "log.retention.bytes=12MB: not a number (expected long)");
    CHECK_ERR("log.cleaner.min.cleanable.ratio=half", "not a number (expected double in [0, 1])");
    CHECK_ERR("num.partitions=", "num.partitions=: not a number");
    CHECK_ERR("num.partitions=0x10", "not a number");
}

TEST(config_error_out_of_range)
{
    CHECK_ERR("log.segment.bytes=13",
              "config error: log.segment.bytes=13: out of range (expected int >= 14)");
    CHECK_ERR("num.partitions=99999999999", "num.partitions=99999999999: out of range");
    CHECK_ERR("offsets.topic.replication.factor=40000", "out of range (expected short >= 1)");
    CHECK_ERR("log.flush.interval.messages=99999999999999999999", "out of range (expected long >= 1)");
    CHECK_ERR("compression.lz4.level=18", "out of range (expected int in [1, 17])");
    /* Keys that size a thread pool or an array: the bound is named. */
    CHECK_ERR("num.network.threads=257", "num.network.threads must be at most 256");
    CHECK_ERR("num.network.threads=300", "num.network.threads must be at most 256");
    CHECK_ERR("log.cleaner.threads=257", "log.cleaner.threads must be at most 256");
    CHECK_ERR("num.partitions=100001", "num.partitions must be at most 100000");
    CHECK_ERR("offsets.topic.num.partitions=100001", "offsets.topic.num.partitions must be at most 100000");
    struct broker_config at_bound;
    CHECK_EQ(load(&at_bound, "num.network.threads=256\nlog.cleaner.threads=256\nnum.partitions=100000\n"), 0);
    CHECK_EQ(at_bound.num_network_threads, 256);
    broker_config_free(&at_bound);
    CHECK_ERR("compression.gzip.level=0", "expected int in [1, 9] or -1");
    CHECK_ERR("log.cleaner.min.cleanable.ratio=1.5", "out of range (expected double in [0, 1])");
    /* Surrounding blanks are fine, like Kafka's trim(). */
    struct broker_config c;
    REQUIRE_EQ(load(&c, "num.partitions =  +7  \nauto.create.topics.enable = FALSE"), 0);
    CHECK_EQ(c.num_partitions, 7);
    CHECK(!c.auto_create_topics_enable);
    broker_config_free(&c);
}

TEST(config_error_bad_enum_and_bool)
{
    CHECK_ERR("log.message.timestamp.type=createtime",
              "log.message.timestamp.type=createtime: invalid value (expected one of CreateTime, "
              "LogAppendTime; values are case-sensitive: CreateTime)");
    CHECK_ERR("compression.type=brotli", "expected one of uncompressed, zstd, lz4, snappy, gzip, producer");
    CHECK_ERR("log.cleanup.policy=delete,remove", "invalid item 'remove'");
    CHECK_ERR("log.cleanup.policy=delete,,compact", "empty list item");
    CHECK_ERR("auto.create.topics.enable=yes",
              "auto.create.topics.enable=yes: not a boolean (expected true or false)");
    CHECK_ERR("samsa.log.level=loud", "samsa.log.level=loud: invalid value");
    struct broker_config c;
    REQUIRE_EQ(load(&c, "log.cleanup.policy = compact , delete\nsamsa.log.level=debug"), 0);
    CHECK_STR(c.log_cleanup_policy, "compact,delete");
    CHECK_EQ(c.log_level, 0);           /* LOG_DEBUG */
    broker_config_free(&c);
}

TEST(config_error_typo_suggests)
{
    struct broker_config c;
    CHECK_EQ(load(&c, "num.partitions=1\nnum.partitons=3\n"), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "config error: num.partitons: unknown config key; did you mean "
                     "num.partitions? [t.properties:2]");
    broker_config_free(&c);
    CHECK_ERR("log.retention.hour=5", "did you mean log.retention.hours?");
    CHECK_ERR("Num.Partitions=5", "did you mean num.partitions?");
    CHECK_ERR("auto.leader.rebalance.enabel=true", "did you mean auto.leader.rebalance.enable?");
    CHECK_ERR("log.cleaner.thread=2", "did you mean log.cleaner.threads?");
    CHECK_ERR("a.b=1\nc.d=2\nx.y=3", "(and 2 more unknown keys)");
}

TEST(config_error_random_key)
{
    struct broker_config c;
    CHECK_EQ(load(&c, "frobnicate.the.widgets=1"), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "config error: frobnicate.the.widgets: unknown config key (not a Kafka or "
                     "Samsa broker config) [t.properties:1]");
    broker_config_free(&c);
    CHECK_ERR("=5", "empty key");
    /* samsa.unknown.config.policy=warn turns it into a warning, wherever it is. */
    REQUIRE_EQ(load(&c, "num.partitons=3\nsamsa.unknown.config.policy=warn"), 0);
    CHECK(has_warning(&c, "num.partitons: unknown config key; did you mean num.partitions?"));
    CHECK_EQ(c.num_partitions, 1);
    broker_config_free(&c);
}

TEST(config_unimplemented_kafka_key_warns)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "num.replica.alter.log.dirs.threads=2\n"
                        "zookeeper.ssl.keystore.password=hunter2\n"
                        "listener.name.internal.sasl.kerberos.service.name=/x\n"
                        "kafka.metrics.polling.interval.secs=5\n"
                        "metric.reporters=com.example.Reporter\n"
                        "confluent.support.metrics.enable=false\n"
                        "log.cleaner.io.buffer.size=1000\n"),
               0);
    CHECK(has_warning(&c, "num.replica.alter.log.dirs.threads is a Kafka config that Samsa does not "
                          "implement yet; ignored [t.properties:1]"));
    CHECK(has_warning(&c, "zookeeper.ssl.keystore.password is a Kafka config"));
    CHECK(has_warning(&c, "listener.name.internal.sasl.kerberos.service.name: per-listener overrides"));
    CHECK(has_warning(&c, "metric.reporters is a Kafka config"));
    CHECK(has_warning(&c, "confluent.support.metrics.enable: Confluent Platform key"));
    CHECK(has_warning(&c, "log.cleaner.io.buffer.size is a Kafka config"));
    for (size_t i = 0; i < c.nwarnings; i++)
        CHECK(strstr(c.warnings[i], "hunter2") == NULL);        /* never echo secrets */
    CHECK(!broker_config_is_set(&c, "num.replica.alter.log.dirs.threads"));

    struct cfg_description d;
    REQUIRE_EQ(broker_config_describe(&c, NULL, 0, &d), 0);
    const struct cfg_entry *e = cfg_description_find(&d, "zookeeper.ssl.keystore.password");
    REQUIRE(e != NULL);
    CHECK(e->is_sensitive);
    CHECK(e->value == NULL);
    CHECK_EQ(e->config_type, CFG_T_PASSWORD);
    CHECK_EQ(e->source, CFG_SRC_STATIC_BROKER);
    REQUIRE_EQ(e->nsynonyms, 1);
    CHECK(e->synonyms[0].value == NULL);
    e = cfg_description_find(&d, "num.replica.alter.log.dirs.threads");
    REQUIRE(e != NULL);
    CHECK_STR(e->value, "2");
    CHECK(!e->is_sensitive);
    CHECK(e->read_only);
    cfg_description_free(&d);
    broker_config_free(&c);
}

TEST(config_duplicate_key_last_wins)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "num.partitions=2\nnum.io.threads=4\nnum.partitions=5\n"), 0);
    CHECK_EQ(c.num_partitions, 5);
    CHECK(has_warning(&c, "num.partitions is set more than once (t.properties:1, then "
                          "t.properties:3); the last value wins"));
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "metric.reporters=a\nmetric.reporters=b\n"), 0);
    CHECK(has_warning(&c, "metric.reporters is set more than once"));
    broker_config_free(&c);
}

/* ---- precedence and aliases ---- */

TEST(config_retention_precedence)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "log.retention.hours=1"), 0);
    CHECK_EQ(c.retention_ms, 3600000);
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "log.retention.hours=1\nlog.retention.minutes=30"), 0);
    CHECK_EQ(c.retention_ms, 1800000);
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "log.retention.ms=1234\nlog.retention.hours=1\nlog.retention.minutes=30"), 0);
    CHECK_EQ(c.retention_ms, 1234);
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "log.retention.ms=-1\nlog.retention.hours=1"), 0);
    CHECK_EQ(c.retention_ms, -1);
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "log.retention.hours=-5"), 0);
    CHECK_EQ(c.retention_ms, -1);           /* any negative = unlimited, like Kafka */
    broker_config_free(&c);
    CHECK_ERR("log.retention.hours=0",
              "log.retention.hours=0: retention must be unlimited (-1) or at least 1 ms");
    CHECK_ERR("log.retention.hours=1\nlog.retention.ms=0", "log.retention.ms=0: retention must");
    /* roll, jitter and flush: ms beats hours; flush falls back to the scheduler. */
    REQUIRE_EQ(load(&c, "log.roll.hours=2\nlog.roll.jitter.hours=1\nlog.flush.scheduler.interval.ms=777"), 0);
    CHECK_EQ(c.roll_ms, 7200000);
    CHECK_EQ(c.roll_jitter_ms, 3600000);
    CHECK_EQ(c.flush_ms, 777);
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "log.roll.hours=2\nlog.roll.ms=100\nlog.roll.jitter.ms=5\n"
                        "log.flush.interval.ms=50\nlog.flush.scheduler.interval.ms=777"), 0);
    CHECK_EQ(c.roll_ms, 100);
    CHECK_EQ(c.roll_jitter_ms, 5);
    CHECK_EQ(c.flush_ms, 50);
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "zookeeper.session.timeout.ms=9000"), 0);
    CHECK_EQ(c.zookeeper_connection_timeout_eff_ms, 9000);
    broker_config_free(&c);
}

TEST(config_node_id_broker_id_alias)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "broker.id=7"), 0);
    CHECK_EQ(c.node_id, 7);
    CHECK_EQ(c.broker_id, 7);
    CHECK(broker_config_is_set(&c, "node.id"));
    struct cfg_description d;
    const char *keys[] = { "node.id" };
    REQUIRE_EQ(broker_config_describe(&c, keys, 1, &d), 0);
    REQUIRE_EQ(d.n, 1);
    CHECK_STR(d.v[0].value, "7");
    cfg_description_free(&d);
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "node.id=3"), 0);
    CHECK_EQ(c.broker_id, 3);
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "node.id=3\nbroker.id=3"), 0);
    CHECK_EQ(c.node_id, 3);
    broker_config_free(&c);
    CHECK_ERR("node.id=1\nbroker.id=2", "config error: node.id=1 and broker.id=2 must match");
    REQUIRE_EQ(load(&c, "broker.id=-1"), 0);
    CHECK_EQ(c.node_id, 0);
    CHECK(has_warning(&c, "broker.id=-1 asks Kafka to generate a broker id"));
    broker_config_free(&c);
    CHECK_ERR("node.id=-2", "out of range (expected int >= -1)");
}

/* ---- listeners ---- */

TEST(config_listeners_forms)
{
    struct broker_config c;
    char host[256];
    gethostname(host, sizeof host);
    host[sizeof host - 1] = 0;

    REQUIRE_EQ(load(&c, "listeners=PLAINTEXT://:9092"), 0);
    REQUIRE_EQ(c.nendpoints, 1);
    CHECK_STR(c.endpoints[0].host, "");
    CHECK(c.endpoints[0].wildcard);
    REQUIRE_EQ(c.nadvertised, 1);
    if (host[0])
        CHECK_STR(c.advertised[0].host, host);
    CHECK(!c.advertised[0].wildcard);
    CHECK_EQ(c.nwarnings, 0);               /* empty host: silent, like Kafka */
    broker_config_free(&c);

    REQUIRE_EQ(load(&c, "listeners=plaintext://0.0.0.0:9093"), 0);
    CHECK_STR(c.endpoints[0].name, "PLAINTEXT");
    CHECK(c.endpoints[0].wildcard);
    CHECK_EQ(c.advertised[0].port, 9093);
    CHECK(has_warning(&c, "binds 0.0.0.0 and advertised.listeners is not set"));
    broker_config_free(&c);

    REQUIRE_EQ(load(&c, "listeners=PLAINTEXT://[::1]:9092,  CLIENT://127.0.0.1:9092\n"
                        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CLIENT:PLAINTEXT\n"
                        "advertised.listeners=CLIENT://broker1.example.com:19092"),
               0);
    REQUIRE_EQ(c.nendpoints, 2);
    CHECK_STR(c.endpoints[0].host, "::1");
    CHECK(c.endpoints[0].ipv6);
    CHECK(!c.endpoints[0].wildcard);
    CHECK_STR(c.endpoints[1].name, "CLIENT");
    CHECK_EQ(c.endpoints[1].security_protocol, CFG_PLAINTEXT);
    REQUIRE_EQ(c.nadvertised, 1);
    CHECK_STR(c.advertised[0].host, "broker1.example.com");
    CHECK_EQ(c.advertised[0].port, 19092);
    broker_config_free(&c);

    REQUIRE_EQ(load(&c, "listeners=PLAINTEXT://::1:9092"), 0);     /* unbracketed IPv6 */
    CHECK_STR(c.endpoints[0].host, "::1");
    CHECK_EQ(c.endpoints[0].port, 9092);
    broker_config_free(&c);

    REQUIRE_EQ(load(&c, "listeners=PLAINTEXT://[::]:0"), 0);
    CHECK(c.endpoints[0].wildcard);
    CHECK_EQ(c.endpoints[0].port, 0);
    broker_config_free(&c);
}

TEST(config_listeners_errors)
{
    CHECK_ERR("listeners=PLAINTEXT://a:9092,PLAINTEXT://b:9093",
              "listeners=PLAINTEXT://a:9092,PLAINTEXT://b:9093: listener name PLAINTEXT is used "
              "more than once");
    CHECK_ERR("listeners=PLAINTEXT://a:9092,SSL://b:9092", "port 9092 is used by both PLAINTEXT and SSL");
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093",
              "sasl.enabled.mechanisms=GSSAPI: GSSAPI (Kerberos) is not supported by Samsa");
    CHECK_ERR("listeners=CLIENT://:9093", "listener name CLIENT has no entry in listener.security.protocol.map");
    CHECK_ERR("listeners=PLAINTEXT://:99999", "port must be a number in [0, 65535]");
    CHECK_ERR("listeners=localhost:9092", "is not NAME://HOST:PORT");
    CHECK_ERR("listeners=PLAINTEXT://host", "has no port");
    CHECK_ERR("listeners=", "at least one listener is required");
    CHECK_ERR("listeners=PLAINTEXT://h$st:1", "invalid character '$'");
    CHECK_ERR("advertised.listeners=PLAINTEXT://0.0.0.0:9092", "non-routable meta-address 0.0.0.0");
    CHECK_ERR("advertised.listeners=OTHER://h:9092\nlistener.security.protocol.map=OTHER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
              "listener OTHER is not one of the listeners");
    CHECK_ERR("listener.security.protocol.map=PLAINTEXT:TLS", "unknown security protocol 'TLS'");
    CHECK_ERR("inter.broker.listener.name=REPLICATION", "inter.broker.listener.name=REPLICATION: not one of");
    /* IPv4 and IPv6 literals may share a port (Kafka 3.x). */
    struct broker_config c;
    REQUIRE_EQ(load(&c, "listeners=PLAINTEXT://127.0.0.1:9092,V6://[::1]:9092\n"
                        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,V6:PLAINTEXT"),
               0);
    CHECK_EQ(c.nendpoints, 2);
    broker_config_free(&c);
}

#define PLAIN_JAAS "org.apache.kafka.common.security.plain.PlainLoginModule required user_a=\"x\" " \
                   "username=\"a\" password=\"x\";"

TEST(config_sasl_listeners)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "listeners=SASL_PLAINTEXT://:9093,PLAINTEXT://:9092\n"
                        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512\n"
                        "listener.name.sasl_plaintext.plain.sasl.jaas.config=" PLAIN_JAAS "\n"
                        "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config="
                        "org.apache.kafka.common.security.scram.ScramLoginModule required;\n"
                        "connections.max.reauth.ms=5000\n"),
               0);
    CHECK(!has_warning(&c, "listener.name"));
    CHECK_STR(broker_config_sasl_mechanisms(&c, "SASL_PLAINTEXT"), "PLAIN,SCRAM-SHA-512");
    char k[256];
    CHECK(broker_config_sasl_jaas(&c, "SASL_PLAINTEXT", "PLAIN", k, sizeof k) != NULL);
    CHECK_STR(k, "listener.name.sasl_plaintext.plain.sasl.jaas.config");
    CHECK(broker_config_sasl_jaas(&c, "SASL_PLAINTEXT", "OAUTHBEARER", k, sizeof k) == NULL);
    CHECK_EQ(c.connections_max_reauth_ms, 5000);
    char u[64], pw[64], why[256];
    CHECK_EQ(broker_config_sasl_login(&c, "SASL_PLAINTEXT", "SCRAM-SHA-512", u, sizeof u, pw,
                                      sizeof pw, why, sizeof why), -1);
    CHECK(strstr(why, "scram-sha-512.sasl.jaas.config: the broker's own login needs username and password"));
    CHECK_EQ(c.sasl_server_max_receive_size, 524288);
    broker_config_free(&c);
    /* The listener's own list wins over the broker-wide one. */
    REQUIRE_EQ(load(&c, "listeners=SASL_PLAINTEXT://:9093\n"
                        "listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN\n"
                        "listener.name.sasl_plaintext.plain.sasl.jaas.config=" PLAIN_JAAS "\n"),
               0);
    CHECK_STR(broker_config_sasl_mechanisms(&c, "SASL_PLAINTEXT"), "PLAIN");
    REQUIRE_EQ(broker_config_sasl_login(&c, "sasl_plaintext", "PLAIN", u, sizeof u, pw, sizeof pw,
                                        why, sizeof why), 0);
    CHECK_STR(u, "a");
    CHECK_STR(pw, "x");
    broker_config_free(&c);
    /* connections.max.reauth.ms: per mechanism > per listener > broker. */
    REQUIRE_EQ(load(&c, "listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN,OAUTHBEARER\n"
                        "listener.name.sasl_plaintext.plain.sasl.jaas.config=" PLAIN_JAAS "\n"
                        "listener.name.sasl_plaintext.oauthbearer.sasl.jaas.config="
                        "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;\n"
                        "connections.max.reauth.ms=1000\n"
                        "listener.name.sasl_plaintext.connections.max.reauth.ms=2000\n"
                        "listener.name.sasl_plaintext.oauthbearer.connections.max.reauth.ms=3000\n"),
               0);
    CHECK(!has_warning(&c, "reauth"));
    int64_t ms = -1;
    CHECK_EQ(broker_config_sasl_reauth_ms(&c, "SASL_PLAINTEXT", "OAUTHBEARER", &ms), 0);
    CHECK_EQ(ms, 3000);
    CHECK_EQ(broker_config_sasl_reauth_ms(&c, "SASL_PLAINTEXT", "PLAIN", &ms), 0);
    CHECK_EQ(ms, 2000);
    CHECK_EQ(broker_config_sasl_reauth_ms(&c, "OTHER", "PLAIN", &ms), 0);
    CHECK_EQ(ms, 1000);
    broker_config_free(&c);
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN\n"
              "listener.name.sasl_plaintext.plain.sasl.jaas.config=" PLAIN_JAAS "\n"
              "listener.name.sasl_plaintext.plain.connections.max.reauth.ms=soon",
              "listener.name.sasl_plaintext.plain.connections.max.reauth.ms: not a number >= 0");
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN",
              "listener.name.sasl_plaintext.plain.sasl.jaas.config is not set: listener SASL_PLAINTEXT "
              "enables SASL mechanism PLAIN");
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN,KERBEROS5",
              "unknown SASL mechanism 'KERBEROS5'");
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=",
              "sasl.enabled.mechanisms is empty");
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=SCRAM-SHA-256\n"
              "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=" PLAIN_JAAS,
              "login module org.apache.kafka.common.security.plain.PlainLoginModule is not "
              "org.apache.kafka.common.security.scram.ScramLoginModule");
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN\n"
              "listener.name.sasl_plaintext.plain.sasl.jaas.config=x required",
              "listener.name.sasl_plaintext.plain.sasl.jaas.config: JAAS config entry not terminated by semi-colon");
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN\n"
              "listener.name.sasl_plaintext.plain.sasl.jaas.config=" PLAIN_JAAS "\n"
              "inter.broker.listener.name=SASL_PLAINTEXT\nsasl.mechanism.inter.broker.protocol=SCRAM-SHA-256",
              "sasl.mechanism.inter.broker.protocol=SCRAM-SHA-256 must be included in the "
              "sasl.enabled.mechanisms of inter-broker listener SASL_PLAINTEXT (PLAIN)");
    CHECK_ERR("listeners=SASL_PLAINTEXT://:9093\nsasl.enabled.mechanisms=PLAIN\n"
              "listener.name.sasl_plaintext.plain.sasl.jaas.config=" PLAIN_JAAS "\n"
              "sasl.server.max.receive.size=0", "sasl.server.max.receive.size=0");
}

TEST(config_kraft_controller_listener_skipped)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "process.roles=broker,controller\n"
                        "node.id=1\n"
                        "controller.quorum.voters=1@localhost:9093\n"
                        "listeners=PLAINTEXT://:9092,CONTROLLER://:9093\n"
                        "inter.broker.listener.name=PLAINTEXT\n"
                        "advertised.listeners=PLAINTEXT://localhost:9092\n"
                        "controller.listener.names=CONTROLLER\n"
                        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,"
                        "SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL\n"),
               0);
    REQUIRE_EQ(c.nendpoints, 2);
    CHECK(!c.endpoints[0].controller);
    CHECK(c.endpoints[1].controller);
    REQUIRE_EQ(c.nadvertised, 1);
    CHECK_STR(c.advertised[0].host, "localhost");
    CHECK(has_warning(&c, "listener CONTROLLER is a KRaft controller listener"));
    CHECK(has_warning(&c, "process.roles is a Kafka config"));
    CHECK_EQ(c.node_id, 1);
    broker_config_free(&c);
    CHECK_ERR("listeners=PLAINTEXT://:9092,CONTROLLER://:9093\ncontroller.listener.names=CONTROLLER\n"
              "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT\n"
              "advertised.listeners=CONTROLLER://h:9093",
              "listener CONTROLLER is not one of the non-controller listeners");
}

TEST(config_legacy_host_port)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "port=9095\nhost.name=10.0.0.1\nadvertised.host.name=kafka1"), 0);
    REQUIRE_EQ(c.nendpoints, 1);
    CHECK_STR(c.endpoints[0].host, "10.0.0.1");
    CHECK_EQ(c.endpoints[0].port, 9095);
    CHECK_STR(c.advertised[0].host, "kafka1");
    CHECK_EQ(c.advertised[0].port, 9095);
    CHECK(has_warning(&c, "host.name/port are deprecated"));
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "port=9095\nlisteners=PLAINTEXT://127.0.0.1:9099"), 0);
    CHECK_EQ(c.endpoints[0].port, 9099);
    CHECK(has_warning(&c, "ignored because listeners is set"));
    broker_config_free(&c);
}

TEST(config_connection_limits)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "max.connections.per.ip=0\n"
                        "max.connections.per.ip.overrides=127.0.0.1:200, host.example:10,::1:5"),
               0);
    REQUIRE_EQ(c.nconn_overrides, 3);
    CHECK_STR(c.conn_overrides[0].host, "127.0.0.1");
    CHECK_EQ(c.conn_overrides[0].max, 200);
    CHECK_STR(c.conn_overrides[2].host, "::1");
    CHECK_EQ(c.conn_overrides[2].max, 5);
    broker_config_free(&c);
    CHECK_ERR("max.connections.per.ip=0", "allowed only with max.connections.per.ip.overrides");
    CHECK_ERR("max.connections.per.ip.overrides=host", "entry 'host' is not HOST:COUNT");
    CHECK_ERR("group.min.session.timeout.ms=10\ngroup.max.session.timeout.ms=5",
              "group.min.session.timeout.ms=10: greater than group.max.session.timeout.ms=5");
    CHECK_ERR("log.dirs=/a,/b,/a", "directory /a is listed twice");
    REQUIRE_EQ(load(&c, "log.dir=/x\nlog.dirs=/a, /b"), 0);
    REQUIRE_EQ(c.nlog_dirs, 2);
    CHECK_STR(c.log_dir_list[1], "/b");
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "log.dir=/x"), 0);
    REQUIRE_EQ(c.nlog_dirs, 1);
    CHECK_STR(c.log_dir_list[0], "/x");
    broker_config_free(&c);
    REQUIRE_EQ(load(&c, "zookeeper.connect=localhost:2181"), 0);   /* cluster mode: no warning */
    CHECK_STR(c.zookeeper_connect, "localhost:2181");
    CHECK_EQ(c.nwarnings, 0);
    broker_config_free(&c);
}

/* ---- command line ---- */

static int run_argv(struct broker_config *c, enum cfg_cli_action *act, int argc, char **argv)
{
    g_err[0] = 0;
    return broker_config_from_argv(c, argc, argv, act, g_err, sizeof g_err);
}

TEST(config_argv_overrides_win)
{
    char path[600];
    snprintf(path, sizeof path, "%s/server.properties", test_tmpdir());
    FILE *f = fopen(path, "w");
    REQUIRE(f != NULL);
    fputs("num.partitions=2\nlog.retention.hours=10\nbroker.id=4\n", f);
    fclose(f);
    struct broker_config c;
    enum cfg_cli_action act;
    char *argv1[] = { "samsa-broker", "--override", "num.partitions=4", path,
                      "--override=log.retention.hours = 1", "--override", "num.partitions=6" };
    REQUIRE_EQ(run_argv(&c, &act, 7, argv1), 0);
    CHECK_EQ(act, CFG_CLI_RUN);
    CHECK_EQ(c.num_partitions, 6);                 /* overrides in order, after the file */
    CHECK_EQ(c.retention_ms, 3600000);
    CHECK_EQ(c.node_id, 4);
    CHECK(has_warning(&c, "num.partitions is set more than once (--override, then --override)"));
    broker_config_free(&c);

    char *argv2[] = { "samsa-broker" };
    REQUIRE_EQ(run_argv(&c, &act, 1, argv2), 0);
    CHECK_EQ(c.num_partitions, 1);
    broker_config_free(&c);

    char *argv3[] = { "samsa-broker", path, "--bogus" };
    CHECK_EQ(run_argv(&c, &act, 3, argv3), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "config error: unknown option '--bogus' (try --help)");
    broker_config_free(&c);

    char *argv4[] = { "samsa-broker", "--bogus", "-h" };
    REQUIRE_EQ(run_argv(&c, &act, 3, argv4), 0);
    CHECK_EQ(act, CFG_CLI_HELP);
    broker_config_free(&c);
    char *argv5[] = { "samsa-broker", "--version" };
    REQUIRE_EQ(run_argv(&c, &act, 2, argv5), 0);
    CHECK_EQ(act, CFG_CLI_VERSION);
    broker_config_free(&c);
    char *argv6[] = { "samsa-broker", "--print-config-docs" };
    REQUIRE_EQ(run_argv(&c, &act, 2, argv6), 0);
    CHECK_EQ(act, CFG_CLI_PRINT_DOCS);
    broker_config_free(&c);

    char *argv7[] = { "samsa-broker", path, path };
    CHECK_EQ(run_argv(&c, &act, 3, argv7), KERR_INVALID_CONFIG);
    CHECK(strstr(g_err, "more than one config file") != NULL);
    broker_config_free(&c);
    char *argv8[] = { "samsa-broker", "--override" };
    CHECK_EQ(run_argv(&c, &act, 2, argv8), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "config error: --override needs KEY=VALUE");
    broker_config_free(&c);
    char *argv9[] = { "samsa-broker", "--override", "num.partitions" };
    CHECK_EQ(run_argv(&c, &act, 3, argv9), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "config error: --override expects KEY=VALUE, got 'num.partitions'");
    broker_config_free(&c);
    char *argv10[] = { "samsa-broker", "--override", "num.partitions=x" };
    CHECK_EQ(run_argv(&c, &act, 3, argv10), KERR_INVALID_CONFIG);
    CHECK_STR(g_err, "config error: num.partitions=x: not a number (expected int in [1, 100000]) [--override]");
    broker_config_free(&c);
    char *argv11[] = { "samsa-broker", "/nonexistent/server.properties" };
    CHECK_EQ(run_argv(&c, &act, 2, argv11), KERR__IO);
    CHECK_STR(g_err, "config error: cannot open config file /nonexistent/server.properties: "
                     "No such file or directory");
    broker_config_free(&c);

    FILE *u = fopen("/dev/null", "w");
    broker_config_usage(u, "samsa-broker");
    fclose(u);
}

/* ---- describe ---- */

TEST(config_broker_describe)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "num.partitions=3\nlog.retention.hours=24\n"), 0);
    struct cfg_description d;
    REQUIRE_EQ(broker_config_describe(&c, NULL, 0, &d), 0);
    CHECK_EQ(d.n, cfg_broker_ndefs);

    const struct cfg_entry *e = cfg_description_find(&d, "num.partitions");
    REQUIRE(e != NULL);
    CHECK_STR(e->value, "3");
    CHECK_EQ(e->source, CFG_SRC_STATIC_BROKER);
    CHECK_EQ(e->config_type, CFG_T_INT);
    CHECK(e->read_only);
    CHECK(!e->is_sensitive);
    CHECK(e->doc && e->doc[0]);
    REQUIRE_EQ(e->nsynonyms, 2);
    CHECK_STR(e->synonyms[0].name, "num.partitions");
    CHECK_STR(e->synonyms[0].value, "3");
    CHECK_EQ(e->synonyms[0].source, CFG_SRC_STATIC_BROKER);
    CHECK_STR(e->synonyms[1].value, "1");
    CHECK_EQ(e->synonyms[1].source, CFG_SRC_DEFAULT);

    e = cfg_description_find(&d, "log.retention.ms");    /* unset, null default */
    REQUIRE(e != NULL);
    CHECK(e->value == NULL);
    CHECK_EQ(e->source, CFG_SRC_STATIC_BROKER);           /* from log.retention.hours */
    CHECK(!e->read_only);
    REQUIRE_EQ(e->nsynonyms, 2);
    CHECK_STR(e->synonyms[0].name, "log.retention.hours");
    CHECK_STR(e->synonyms[0].value, "24");
    CHECK_EQ(e->synonyms[1].source, CFG_SRC_DEFAULT);

    e = cfg_description_find(&d, "message.max.bytes");
    REQUIRE(e != NULL);
    CHECK_STR(e->value, "1048588");
    CHECK_EQ(e->source, CFG_SRC_DEFAULT);
    REQUIRE_EQ(e->nsynonyms, 1);

    e = cfg_description_find(&d, "broker.rack");          /* null default, unset */
    REQUIRE(e != NULL);
    CHECK(e->value == NULL);
    CHECK_EQ(e->source, CFG_SRC_DEFAULT);
    CHECK_EQ(e->nsynonyms, 0);
    CHECK_EQ(cfg_description_find(&d, "log.cleaner.min.cleanable.ratio")->config_type, CFG_T_DOUBLE);
    CHECK_EQ(cfg_description_find(&d, "log.cleanup.policy")->config_type, CFG_T_LIST);
    CHECK_EQ(cfg_description_find(&d, "offsets.topic.replication.factor")->config_type, CFG_T_SHORT);
    cfg_description_free(&d);

    const char *keys[] = { "num.partitions", "no.such.key", "listeners" };
    REQUIRE_EQ(broker_config_describe(&c, keys, 3, &d), 0);
    CHECK_EQ(d.n, 2);
    cfg_description_free(&d);
    broker_config_free(&c);
}

/* ---- real-world files ---- */

TEST(config_kafka_sample_files_load)
{
    /* Kafka 2.x ZooKeeper-mode sample (trimmed of comments). */
    const char *zk =
        "broker.id=0\n"
        "num.network.threads=3\nnum.io.threads=8\n"
        "socket.send.buffer.bytes=102400\nsocket.receive.buffer.bytes=102400\n"
        "socket.request.max.bytes=104857600\n"
        "log.dirs=/tmp/kafka-logs\nnum.partitions=1\nnum.recovery.threads.per.data.dir=1\n"
        "offsets.topic.replication.factor=1\ntransaction.state.log.replication.factor=1\n"
        "transaction.state.log.min.isr=1\n"
        "log.retention.hours=168\nlog.segment.bytes=1073741824\n"
        "log.retention.check.interval.ms=300000\n"
        "zookeeper.connect=localhost:2181\nzookeeper.connection.timeout.ms=18000\n"
        "group.initial.rebalance.delay.ms=0\n";
    struct broker_config c;
    REQUIRE_EQ(load(&c, zk), 0);
    /* A note for the key accepted without effect (num.io.threads); nothing
     * else (zookeeper.connect is cluster mode, the transaction keys are the
     * transaction coordinator's). */
    CHECK_EQ(c.nwarnings, 1);
    if (c.nwarnings != 1)
        dump_warnings(&c);
    CHECK_EQ(c.transaction_state_log_replication_factor, 1);
    CHECK_EQ(c.group_initial_rebalance_delay_ms, 0);
    broker_config_free(&c);
}

TEST(config_shipped_server_properties)
{
    FILE *f = fopen("config/server.properties", "r");
    if (!f)
        return;                         /* not run from the repository root */
    fclose(f);
    struct broker_config c, dflt;
    REQUIRE_EQ(broker_config_init(&c), 0);
    REQUIRE_EQ(broker_config_load_file(&c, "config/server.properties", g_err, sizeof g_err), 0);
    REQUIRE_EQ(broker_config_finish(&c, g_err, sizeof g_err), 0);
    CHECK_EQ(c.nwarnings, 0);
    if (c.nwarnings)
        dump_warnings(&c);
    /* Every value in the shipped file is the built-in default. */
    REQUIRE_EQ(load(&dflt, ""), 0);
    struct cfg_description a, b;
    REQUIRE_EQ(broker_config_describe(&c, NULL, 0, &a), 0);
    REQUIRE_EQ(broker_config_describe(&dflt, NULL, 0, &b), 0);
    REQUIRE_EQ(a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        if (!strcmp(a.v[i].name, "log.dirs"))
            continue;                   /* spelled out: ./data, what log.dir gives */
        const char *va = a.v[i].value ? a.v[i].value : "(null)";
        const char *vb = b.v[i].value ? b.v[i].value : "(null)";
        if (strcmp(va, vb))
            test_fail(__FILE__, __LINE__, "%s: shipped %s, default %s", a.v[i].name, va, vb);
    }
    REQUIRE_EQ(c.nlog_dirs, 1);
    CHECK_STR(c.log_dir_list[0], "./data");
    /* Every implemented key appears in the file (set or commented out). */
    size_t flen = 0;
    FILE *fp = fopen("config/server.properties", "rb");
    static char text[65536];
    flen = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[flen] = 0;
    for (size_t i = 0; i < cfg_broker_ndefs; i++) {
        char pat[160];
        const char *n = cfg_broker_defs[i].name;
        if (!strcmp(n, "broker.id") || !strcmp(n, "host.name") || !strcmp(n, "port") ||
            !strncmp(n, "advertised.host", 15) || !strcmp(n, "advertised.port") ||
            !strcmp(n, "log.dir") || strstr(n, "difference.max.ms") ||
            !strcmp(n, "log.message.format.version"))
            continue;                   /* aliases and deprecated keys */
        snprintf(pat, sizeof pat, "\n%s=", n);
        char pat2[160];
        snprintf(pat2, sizeof pat2, "\n#%s=", n);
        if (!strstr(text, pat) && !strstr(text, pat2))
            test_fail(__FILE__, __LINE__, "config/server.properties lacks %s", n);
    }
    cfg_description_free(&a);
    cfg_description_free(&b);
    broker_config_free(&dflt);
    broker_config_free(&c);
}

/* ---- the inter-broker listener (config_inter_broker.c, S-CL1..S-CL3) ---- */

#define TWO "listeners=PLAINTEXT://127.0.0.1:9092,REPLICATION://127.0.0.1:9093\n" \
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,REPLICATION:PLAINTEXT\n"

TEST(config_inter_broker_listener_choice)
{
    struct broker_config c;
    /* Default: the listener named PLAINTEXT (security.inter.broker.protocol). */
    REQUIRE_EQ(load(&c, TWO), 0);
    CHECK(!strcmp(c.inter_broker_listener, "PLAINTEXT"));
    CHECK_EQ(c.inter_broker_secproto, CFG_PLAINTEXT);
    broker_config_free(&c);
    /* inter.broker.listener.name, any case. */
    REQUIRE_EQ(load(&c, TWO "inter.broker.listener.name=replication\n"), 0);
    CHECK(!strcmp(c.inter_broker_listener, "REPLICATION"));
    broker_config_free(&c);
    /* Embedded mode, no listener named PLAINTEXT: the first PLAINTEXT one. */
    REQUIRE_EQ(load(&c, "listeners=CLIENT://127.0.0.1:9092\n"
                        "listener.security.protocol.map=CLIENT:PLAINTEXT\n"), 0);
    CHECK(!strcmp(c.inter_broker_listener, "CLIENT"));
    broker_config_free(&c);
}

TEST(config_inter_broker_listener_errors)
{
    /* S-CL1 */
    CHECK_ERR(TWO "inter.broker.listener.name=REPLICATION\nsecurity.inter.broker.protocol=PLAINTEXT\n",
           "Only one of inter.broker.listener.name and security.inter.broker.protocol should be set.");
    CHECK_ERR("security.inter.broker.protocol=TLS\n", "security.inter.broker.protocol");
    /* S-CL2: in a cluster the named listener must be advertised. */
    CHECK_ERR("zookeeper.connect=127.0.0.1:2181\nlisteners=CLIENT://127.0.0.1:9092\n"
           "listener.security.protocol.map=CLIENT:PLAINTEXT\n",
           "security.inter.broker.protocol=PLAINTEXT: brokers connect to each other on the "
           "listener named PLAINTEXT, which is not in advertised.listeners (CLIENT)");
    CHECK_ERR(TWO "advertised.listeners=PLAINTEXT://h:9092\ninter.broker.listener.name=REPLICATION\n",
           "inter.broker.listener.name must be a listener name defined in advertised.listeners. "
           "The valid options based on currently configured listeners are PLAINTEXT");
    CHECK_ERR("sasl.mechanism.inter.broker.protocol=scram\n",
           "sasl.mechanism.inter.broker.protocol");
}

/* listener.name.<l>.<key> for per-listener keys (TLS): validated as the key,
 * no "not implemented" warning, and the listener's value wins. */
TEST(config_listener_prefixed_keys)
{
    struct broker_config c;
    REQUIRE_EQ(load(&c, "listeners=PLAINTEXT://127.0.0.1:9092,SSL://127.0.0.1:9093\n"
                        "ssl.keystore.location=/all.pem\n"
                        "listener.name.ssl.ssl.keystore.location=/ssl.pem\n"
                        "listener.name.ssl.ssl.client.auth=required\n"),
               0);
    CHECK_STR(broker_config_listener_value(&c, "SSL", "ssl.keystore.location"), "/ssl.pem");
    CHECK_STR(broker_config_listener_value(&c, "ssl", "ssl.client.auth"), "required");
    CHECK_STR(broker_config_listener_value(&c, "PLAINTEXT", "ssl.keystore.location"), "/all.pem");
    CHECK_STR(broker_config_listener_value(&c, "PLAINTEXT", "ssl.client.auth"), "none");
    CHECK_STR(broker_config_listener_value(&c, NULL, "ssl.enabled.protocols"), "TLSv1.2,TLSv1.3");
    CHECK(!has_warning(&c, "listener.name.ssl"));
    broker_config_free(&c);
    CHECK_ERR("listener.name.ssl.ssl.client.auth=sometimes", "listener.name.ssl.ssl.client.auth=sometimes");
    CHECK_ERR("ssl.principal.mapping.rules=RULE:x", "Invalid rule: RULE:x");
}
