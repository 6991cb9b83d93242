/*
 * config_broker_table.c - every broker key Samsa implements, one row each.
 *
 * A row says everything about a key: Kafka name, type, default (Kafka's
 * string form; NULL = null), valid values, update mode (Kafka's: read-only,
 * per-broker, cluster-wide; the latter two can be altered dynamically
 * unless the row is NODYN - Kafka updates the key live but Samsa cannot:
 * thread pools, bound listeners), importance, the typed field the value lands in,
 * broker synonyms (for DescribeConfigs), a one-line doc and, when Samsa
 * differs from Kafka, a note.  Validation, landing, describe and the
 * generated docs all read these rows; nothing else lists keys.
 *
 * Defaults are Kafka's except listeners (127.0.0.1, not all interfaces),
 * log.dir (./data) and node.id/broker.id (0, not -1 = generate).
 *
 * Rows are grouped in documentation order (the sections of
 * config/server.properties).  Static const data; no threads involved.
 */
#include "config/config_int.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "auth/ssl_mapper.h"
#include "core/log.h"

#define F(field) .off = offsetof(struct broker_config, field)
#define K(nm, t, d) .name = (nm), .type = CFG_T_##t, .dflt = (d)
#define R(lo, hi) .has_range = 1, .min = (lo), .max = (hi)
#define MIN(lo) R((lo), INT64_MAX)
#define DR(lo, hi) .has_range = 1, .dmin = (lo), .dmax = (hi)
#define RO .mode = CFG_READ_ONLY
#define PB .mode = CFG_PER_BROKER
#define CW .mode = CFG_CLUSTER_WIDE
#define NODYN .static_only = 1
#define HI .importance = CFG_HIGH
#define MED .importance = CFG_MEDIUM
#define LOW .importance = CFG_LOW
#define SYN(...) .syn = { __VA_ARGS__ }

#define LONG_MAX_S "9223372036854775807"
#define INT_MAX_S "2147483647"

static const char *const compression_types[] = { "uncompressed", "zstd", "lz4", "snappy", "gzip",
                                                  "producer", NULL };
static const char *const timestamp_types[] = { "CreateTime", "LogAppendTime", NULL };
static const char *const cleanup_policies[] = { "compact", "delete", NULL };
static const char *const unknown_policies[] = { "error", "warn", NULL };
static const char *const ssl_client_auths[] = { "required", "requested", "none", NULL };
static const char *const ssl_store_types[] = { "PEM", "PKCS12", "JKS", NULL };
static const char *const ssl_protocols[] = { "TLSv1.2", "TLSv1.3", "TLSv1.1", "TLSv1", NULL };
static const char *const ssl_endpoint_algs[] = { "https", "", NULL };

static int check_mapping_rules(const char *v, char *why, size_t n)
{
    ssl_mapper *m = ssl_mapper_parse(v, why, n);
    ssl_mapper_free(m);
    return m ? 0 : -1;
}

static int check_gzip_level(const char *v, char *why, size_t n)
{
    int64_t x;
    if (cfgv_parse_i64(v, &x) == 0 && (x == -1 || (x >= 1 && x <= 9)))
        return 0;
    snprintf(why, n, "out of range (expected int in [1, 9] or -1)");
    return -1;
}

static int check_max_open_files(const char *v, char *why, size_t n)
{
    int64_t x;
    if (cfgv_parse_i64(v, &x) == 0 && (x == -1 || (x >= 16 && x <= INT32_MAX)))
        return 0;
    snprintf(why, n, "out of range (expected -1, or an int >= 16)");
    return -1;
}

#define AUTHORIZER_ACL "kafka.security.authorizer.AclAuthorizer"
#define AUTHORIZER_STANDARD "org.apache.kafka.metadata.authorizer.StandardAuthorizer"

static int check_authorizer(const char *v, char *why, size_t n)
{
    if (!*v || !strcmp(v, AUTHORIZER_ACL) || !strcmp(v, AUTHORIZER_STANDARD))
        return 0;
    snprintf(why, n, "unsupported authorizer (expected \"\", %s or %s)", AUTHORIZER_ACL,
             AUTHORIZER_STANDARD);
    return -1;
}

/* super.users: "Type:name" entries separated by ';' (Kafka splits on ';'
 * and trims); each must have a non-empty type and a ':'. */
static int check_super_users(const char *v, char *why, size_t n)
{
    const char *p = v;
    while (*p) {
        const char *e = strchr(p, ';');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        while (len && (*p == ' ' || *p == '\t'))
            p++, len--;
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        const char *colon = len ? memchr(p, ':', len) : NULL;
        if (len && (!colon || colon == p)) {
            snprintf(why, n, "invalid principal '%.*s' (expected Type:name, e.g. User:alice)",
                     (int)(len > 64 ? 64 : len), p);
            return -1;
        }
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static int check_log_level(const char *v, char *why, size_t n)
{
    if (log_level_parse(v) >= 0)
        return 0;
    snprintf(why, n, "invalid value (expected one of debug, info, warn, error)");
    return -1;
}

static int check_dirs(const char *v, char *why, size_t n)
{
    char **items;
    size_t ni;
    int rc = 0;
    if (cfg_split_list(v, &items, &ni) < 0) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    if (!ni) {
        snprintf(why, n, "at least one directory is required");
        rc = -1;
    }
    for (size_t i = 0; i < ni && !rc; i++) {
        if (!items[i][0]) {
            snprintf(why, n, "empty directory in list");
            rc = -1;
        }
        for (size_t j = 0; j < i && !rc; j++)
            if (!strcmp(items[i], items[j])) {
                snprintf(why, n, "directory %s is listed twice", items[i]);
                rc = -1;
            }
    }
    cfg_strv_free(items, ni);
    return rc;
}

static int check_names(const char *v, char *why, size_t n)
{
    char **items;
    size_t ni;
    int rc = 0;
    if (cfg_split_list(v, &items, &ni) < 0) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < ni && !rc; i++)
        if (!items[i][0]) {
            snprintf(why, n, "empty listener name in list");
            rc = -1;
        }
    cfg_strv_free(items, ni);
    return rc;
}

/* security.inter.broker.protocol: one of Kafka's four protocols. */
static int check_secproto(const char *v, char *why, size_t n)
{
    if (cfg_secproto_parse(v) >= 0)
        return 0;
    snprintf(why, n, "unknown security protocol (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)");
    return -1;
}

/* sasl.mechanism.inter.broker.protocol: a mechanism name (IANA SASL names
 * are upper-case letters, digits, '-' and '_', at most 20); whether Samsa
 * can log in with it is checked when the inter-broker listener uses SASL
 * (config_inter_broker.c), as GSSAPI is the default. */
static int check_mechanism(const char *v, char *why, size_t n)
{
    size_t len = strlen(v);
    bool ok = len > 0 && len <= 20;
    for (size_t i = 0; ok && i < len; i++)
        ok = (v[i] >= 'A' && v[i] <= 'Z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-' ||
             v[i] == '_';
    if (ok)
        return 0;
    snprintf(why, n, "not a SASL mechanism name");
    return -1;
}

const struct cfg_def cfg_broker_defs[] = {
    /* ---------------- Server basics ---------------- */
    { K("node.id", INT, "0"), R(-1, INT32_MAX), RO, HI, F(node_id),
      .doc = "Id of this broker in the cluster; same as broker.id (set either, or both to the same value).",
      .note = "Kafka's default is -1 (generate an id); Samsa uses 0 when neither node.id nor broker.id is set." },
    { K("broker.id", INT, "0"), R(-1, INT32_MAX), RO, HI, F(broker_id),
      .doc = "Alias of node.id, the name used by ZooKeeper-mode Kafka.",
      .note = "-1 (Kafka: generate an id) is accepted with a warning and means 0." },
    { K("listeners", STRING, "PLAINTEXT://127.0.0.1:9092"), PB, NODYN, HI, F(listeners),
      .check = cfg_check_listeners, .valid = "NAME://HOST:PORT[,...]",
      .doc = "Comma-separated NAME://HOST:PORT endpoints to accept connections on; an empty host, 0.0.0.0 or [::] means all interfaces.",
      .note = "Kafka's default is PLAINTEXT://:9092 (all interfaces); PLAINTEXT and SSL are implemented." },
    { K("advertised.listeners", STRING, NULL), PB, NODYN, HI, F(advertised_listeners),
      .check = cfg_check_advertised, .valid = "NAME://HOST:PORT[,...]",
      .doc = "Endpoints published to clients in Metadata responses; defaults to listeners.",
      .note = "When derived from listeners, a wildcard or empty host is replaced by this machine's host name (gethostname)." },
    { K("listener.security.protocol.map", STRING,
        "SASL_SSL:SASL_SSL,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT"),
      PB, NODYN, LOW, F(listener_security_protocol_map), .check = cfg_check_protocol_map,
      .valid = "NAME:PROTOCOL[,...]",
      .doc = "Security protocol of each listener name." },
    { K("controller.listener.names", STRING, NULL), RO, HI, F(controller_listener_names),
      .check = check_names, .valid = "listener names",
      .doc = "KRaft controller listener names; such listeners are recognised and not served.",
      .note = "Samsa runs no KRaft controller: these listeners are skipped with a warning." },
    { K("inter.broker.listener.name", STRING, NULL), RO, MED, F(inter_broker_listener_name),
      .doc = "Listener used between brokers; must name one of listeners. Set this or security.inter.broker.protocol, not both." },
    { K("security.inter.broker.protocol", STRING, "PLAINTEXT"), RO, MED,
      F(security_inter_broker_protocol), .check = check_secproto,
      .valid = "PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL",
      .doc = "Security protocol between brokers: they connect to each other on the listener of that name. Set this or inter.broker.listener.name, not both." },
    { K("sasl.mechanism.inter.broker.protocol", STRING, "GSSAPI"), RO, MED,
      F(sasl_mechanism_inter_broker_protocol), .check = check_mechanism,
      .valid = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512",
      .doc = "SASL mechanism brokers authenticate to each other with when the inter-broker listener uses SASL; the identity is the username and password of the listener's JAAS config for that mechanism.",
      .note = "Kafka updates it dynamically and defaults to GSSAPI (Kerberos), which Samsa does not implement: a SASL inter-broker listener needs PLAIN or SCRAM here. Read at startup." },
    { K("broker.rack", STRING, NULL), RO, MED, F(broker_rack),
      .doc = "Rack of this broker, reported in Metadata responses." },
    { K("host.name", STRING, ""), RO, LOW, F(host_name),
      .doc = "Deprecated (removed in Kafka 3.0): host for the PLAINTEXT listener when listeners is not set." },
    { K("port", INT, "9092"), R(0, 65535), RO, LOW, F(port),
      .doc = "Deprecated (removed in Kafka 3.0): port for the PLAINTEXT listener when listeners is not set." },
    { K("advertised.host.name", STRING, NULL), RO, LOW, F(advertised_host_name),
      .doc = "Deprecated (removed in Kafka 3.0): advertised host when advertised.listeners is not set." },
    { K("advertised.port", INT, NULL), R(0, 65535), RO, LOW, F(advertised_port),
      .doc = "Deprecated (removed in Kafka 3.0): advertised port when advertised.listeners is not set." },
    { K("auto.create.topics.enable", BOOLEAN, "true"), RO, HI, F(auto_create_topics_enable),
      .doc = "Create a topic when a client asks for metadata of or produces to one that does not exist." },
    { K("delete.topic.enable", BOOLEAN, "true"), RO, HI, F(delete_topic_enable),
      .doc = "Allow DeleteTopics; when false it fails with TOPIC_DELETION_DISABLED." },
    { K("num.partitions", INT, "1"), R(1, CFG_MAX_PARTITIONS_PER_TOPIC), RO, MED, F(num_partitions),
      .doc = "Partitions of auto-created topics and of topics created with -1 partitions." },
    { K("default.replication.factor", INT, "1"), MIN(1), RO, MED, F(default_replication_factor),
      .doc = "Replication factor of auto-created topics and of topics created with -1." },
    { K("controlled.shutdown.enable", BOOLEAN, "true"), RO, MED, F(controlled_shutdown_enable),
      .doc = "Hand over leadership before shutting down (no effect on a single node)." },
    { K("controlled.shutdown.max.retries", INT, "3"), MIN(0), RO, MED,
      F(controlled_shutdown_max_retries),
      .doc = "ControlledShutdown attempts while the controller answers that partitions remain led "
             "here or cannot be reached; then the broker leaves anyway." },
    { K("controlled.shutdown.retry.backoff.ms", LONG, "5000"), MIN(0), RO, MED,
      F(controlled_shutdown_retry_backoff_ms),
      .doc = "Pause between ControlledShutdown attempts." },
    { K("controller.socket.timeout.ms", INT, "30000"), MIN(1), RO, MED,
      F(controller_socket_timeout_ms),
      .doc = "Bound of one broker-to-controller call (ControlledShutdown): connecting and the answer." },
    { K("auto.leader.rebalance.enable", BOOLEAN, "true"), RO, HI, F(auto_leader_rebalance_enable),
      .doc = "The controller moves leadership back to preferred replicas when a broker's share of "
             "preferred partitions led elsewhere exceeds leader.imbalance.per.broker.percentage." },
    { K("leader.imbalance.check.interval.seconds", LONG, "300"), MIN(1), RO, HI,
      F(leader_imbalance_check_interval_seconds),
      .doc = "How often the controller checks the leader imbalance." },
    { K("leader.imbalance.per.broker.percentage", INT, "10"), R(0, 100), RO, HI,
      F(leader_imbalance_per_broker_percentage),
      .doc = "Share (%) of a broker's preferred partitions that may be led elsewhere before a rebalance." },
    { K("compression.type", STRING, "producer"), CW, HI, F(compression_type),
      .enums = compression_types,
      .doc = "Final compression of stored batches; producer keeps what the producer sent." },
    { K("compression.gzip.level", INT, "-1"), CW, MED, F(compression_gzip_level),
      .check = check_gzip_level, .valid = "[1, 9] or -1",
      .doc = "gzip level when compression.type=gzip; -1 = zlib default." },
    { K("compression.lz4.level", INT, "9"), R(1, 17), CW, MED, F(compression_lz4_level),
      .doc = "lz4 level when compression.type=lz4." },
    { K("compression.zstd.level", INT, "3"), R(-131072, 22), CW, MED, F(compression_zstd_level),
      .doc = "zstd level when compression.type=zstd." },
    { K("num.network.threads", INT, "3"), R(1, CFG_MAX_NETWORK_THREADS), CW, NODYN, HI, F(num_network_threads),
      .doc = "Network threads (event loops) that read requests and write responses." },
    { K("num.io.threads", INT, "8"), MIN(1), CW, NODYN, HI, F(num_io_threads),
      .doc = "Request handler threads in Kafka.",
      .note = "Accepted for compatibility; Samsa handles requests on its network threads." },
    { K("num.recovery.threads.per.data.dir", INT, "1"), MIN(1), CW, NODYN, HI,
      F(num_recovery_threads_per_data_dir),
      .doc = "Threads per log directory for recovery at startup and flushing at shutdown." },

    /* ---------------- Socket server ---------------- */
    { K("socket.send.buffer.bytes", INT, "102400"), MIN(-1), RO, HI, F(socket_send_buffer_bytes),
      .doc = "SO_SNDBUF of client sockets; -1 = OS default." },
    { K("socket.receive.buffer.bytes", INT, "102400"), MIN(-1), RO, HI,
      F(socket_receive_buffer_bytes), .doc = "SO_RCVBUF of client sockets; -1 = OS default." },
    { K("socket.request.max.bytes", INT, "104857600"), MIN(1), RO, HI, F(socket_request_max_bytes),
      .doc = "Largest request accepted; bigger size prefixes close the connection." },
    { K("socket.listen.backlog.size", INT, "50"), MIN(1), RO, MED, F(socket_listen_backlog_size),
      .doc = "listen(2) backlog of each listener socket." },
    { K("connections.max.idle.ms", LONG, "600000"), RO, MED, F(connections_max_idle_ms),
      .doc = "Close connections idle for longer than this." },
    { K("max.connections", INT, INT_MAX_S), MIN(0), CW, MED, F(max_connections),
      .doc = "Most connections open at once across all listeners." },
    { K("max.connections.per.ip", INT, INT_MAX_S), MIN(0), CW, MED, F(max_connections_per_ip),
      .doc = "Most connections from one IP address; 0 needs max.connections.per.ip.overrides." },
    { K("max.connections.per.ip.overrides", STRING, ""), CW, MED,
      F(max_connections_per_ip_overrides), .check = cfg_check_conn_overrides,
      .valid = "HOST:COUNT[,...]", .doc = "Per-host or per-IP exceptions to max.connections.per.ip." },
    { K("queued.max.requests", INT, "500"), MIN(1), RO, HI, F(queued_max_requests),
      .doc = "Requests queued per network thread before reading from sockets pauses." },
    { K("queued.max.request.bytes", LONG, "-1"), RO, MED, F(queued_max_request_bytes),
      .doc = "Bytes of queued requests before reading pauses; -1 = no limit." },

    /* ---------------- SASL (docs/security.md) ---------------- */
    { K("sasl.enabled.mechanisms", LIST, "GSSAPI"), PB, NODYN, MED, F(sasl_enabled_mechanisms),
      .per_listener = 1,
      .valid = "PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER",
      .doc = "SASL mechanisms served on SASL_* listeners (listener.name.<l>.sasl.enabled.mechanisms "
             "per listener); each needs listener.name.<l>.<mechanism>.sasl.jaas.config.",
      .note = "GSSAPI (Kerberos) is not supported: a SASL listener left at Kafka's default stops "
              "startup." },
    { K("sasl.server.max.receive.size", INT, "524288"), MIN(1), RO, LOW,
      F(sasl_server_max_receive_size),
      .doc = "Largest frame accepted on a SASL listener before the client is authenticated." },
    { K("connection.failed.authentication.delay.ms", INT, "100"), MIN(0), RO, LOW,
      F(connection_failed_authentication_delay_ms),
      .doc = "Delay of the answer to a failed authentication (the connection then closes): "
             "slows password guessing." },
    { K("connections.max.reauth.ms", LONG, "0"), MIN(0), RO, MED, F(connections_max_reauth_ms),
      .per_listener = 1,
      .doc = "Session lifetime of a SASL authentication (KIP-368); the client must re-authenticate "
             "before it ends. 0 = sessions never expire." },

    /* ---------------- Log basics ---------------- */
    { K("log.dirs", STRING, NULL), RO, HI, F(log_dirs), .check = check_dirs, .valid = "DIR[,...]",
      .doc = "Comma-separated directories holding partition data; defaults to log.dir." },
    { K("log.dir", STRING, "./data"), RO, HI, F(log_dir), .check = check_dirs, .valid = "DIR",
      .doc = "Data directory used when log.dirs is not set.",
      .note = "Kafka's default is /tmp/kafka-logs; Samsa's is ./data." },
    { K("log.segment.bytes", INT, "1073741824"), MIN(14), CW, HI, F(log_segment_bytes),
      .doc = "Roll to a new segment file once the active one reaches this size." },
    { K("log.roll.ms", LONG, NULL), MIN(1), CW, HI, F(log_roll_ms),
      SYN("log.roll.ms", "log.roll.hours"),
      .doc = "Roll a segment this long after its first record; defaults to log.roll.hours." },
    { K("log.roll.hours", INT, "168"), MIN(1), RO, HI, F(log_roll_hours),
      .doc = "log.roll.ms in hours (used when log.roll.ms is not set)." },
    { K("log.roll.jitter.ms", LONG, NULL), MIN(0), CW, HI, F(log_roll_jitter_ms),
      SYN("log.roll.jitter.ms", "log.roll.jitter.hours"),
      .doc = "Random jitter subtracted from the roll time; defaults to log.roll.jitter.hours." },
    { K("log.roll.jitter.hours", INT, "0"), MIN(0), RO, HI, F(log_roll_jitter_hours),
      .doc = "log.roll.jitter.ms in hours (used when log.roll.jitter.ms is not set)." },
    { K("log.index.size.max.bytes", INT, "10485760"), MIN(4), CW, MED, F(log_index_size_max_bytes),
      .doc = "Maximum size of a segment's offset index; a full index rolls the segment." },
    { K("log.index.interval.bytes", INT, "4096"), MIN(0), CW, MED, F(log_index_interval_bytes),
      .doc = "Bytes of records between two offset-index entries." },
    { K("log.segment.delete.delay.ms", LONG, "60000"), MIN(0), CW, HI,
      F(log_segment_delete_delay_ms),
      .doc = "Delay between unlinking a segment from the log and deleting its files." },
    { K("log.preallocate", BOOLEAN, "false"), CW, MED, F(log_preallocate),
      .doc = "Preallocate new segment files to their full size." },
    { K("message.max.bytes", INT, "1048588"), MIN(0), CW, HI, F(message_max_bytes),
      .doc = "Largest record batch accepted (after compression); per topic: max.message.bytes." },
    { K("log.message.timestamp.type", STRING, "CreateTime"), CW, MED,
      F(log_message_timestamp_type), .enums = timestamp_types,
      .doc = "Keep the producer's timestamps (CreateTime) or stamp append time (LogAppendTime)." },
    { K("log.message.timestamp.before.max.ms", LONG, LONG_MAX_S), MIN(0), CW, MED,
      F(log_message_timestamp_before_max_ms),
      .doc = "With CreateTime, reject records whose timestamp is further than this in the past." },
    { K("log.message.timestamp.after.max.ms", LONG, LONG_MAX_S), MIN(0), CW, MED,
      F(log_message_timestamp_after_max_ms),
      .doc = "With CreateTime, reject records whose timestamp is further than this in the future." },
    { K("log.message.timestamp.difference.max.ms", LONG, LONG_MAX_S), MIN(0), CW, MED,
      F(log_message_timestamp_difference_max_ms),
      .doc = "Deprecated: both limits above at once; used for a limit left at its default." },
    { K("log.message.format.version", STRING, "3.0-IV1"), RO, MED, F(log_message_format_version),
      .doc = "Deprecated message format version.",
      .note = "Accepted and ignored: Samsa always stores record batch v2." },
    { K("log.message.downconversion.enable", BOOLEAN, "true"), CW, LOW,
      F(log_message_downconversion_enable),
      .doc = "Down-convert batches for fetches from old clients.",
      .note = "Samsa serves record batch v2 only." },
    { K("min.insync.replicas", INT, "1"), MIN(1), CW, HI, F(min_insync_replicas),
      .doc = "Replicas that must have a write for acks=all to succeed." },
    { K("unclean.leader.election.enable", BOOLEAN, "false"), CW, HI,
      F(unclean_leader_election_enable),
      .doc = "Allow an out-of-sync replica to become leader (may lose data)." },
    { K("log.local.retention.ms", LONG, "-2"), MIN(-2), CW, MED, F(log_local_retention_ms),
      .doc = "Tiered storage: local retention time; -2 = log.retention.ms.",
      .note = "Tiered storage is not implemented." },
    { K("log.local.retention.bytes", LONG, "-2"), MIN(-2), CW, MED, F(log_local_retention_bytes),
      .doc = "Tiered storage: local retention size; -2 = log.retention.bytes.",
      .note = "Tiered storage is not implemented." },

    /* ---------------- Log cleaner ---------------- */
    { K("log.cleanup.policy", LIST, "delete"), CW, MED, F(log_cleanup_policy),
      .enums = cleanup_policies,
      .doc = "Default cleanup of old segments: delete, compact, or both." },
    { K("log.cleaner.enable", BOOLEAN, "true"), RO, MED, F(log_cleaner_enable),
      .doc = "Run the log cleaner that compacts topics with cleanup.policy=compact." },
    { K("log.cleaner.threads", INT, "1"), R(0, CFG_MAX_CLEANER_THREADS), CW, NODYN, MED, F(log_cleaner_threads),
      .doc = "Log cleaner threads." },
    { K("log.cleaner.backoff.ms", LONG, "15000"), MIN(0), CW, MED, F(log_cleaner_backoff_ms),
      .doc = "Sleep of the cleaner when there is nothing to clean." },
    { K("log.cleaner.dedupe.buffer.size", LONG, "134217728"), CW, MED,
      F(log_cleaner_dedupe_buffer_size), .doc = "Memory for key deduplication across cleaner threads." },
    { K("log.cleaner.delete.retention.ms", LONG, "86400000"), MIN(0), CW, MED,
      F(log_cleaner_delete_retention_ms),
      .doc = "How long tombstones stay in compacted topics." },
    { K("log.cleaner.min.cleanable.ratio", DOUBLE, "0.5"), DR(0, 1), CW, MED,
      F(log_cleaner_min_cleanable_ratio),
      .doc = "Dirty/total ratio above which a log is eligible for compaction." },
    { K("log.cleaner.min.compaction.lag.ms", LONG, "0"), MIN(0), CW, MED,
      F(log_cleaner_min_compaction_lag_ms), .doc = "Minimum age of a record before it can be compacted." },
    { K("log.cleaner.max.compaction.lag.ms", LONG, LONG_MAX_S), MIN(1), CW, MED,
      F(log_cleaner_max_compaction_lag_ms), .doc = "Maximum time a record stays uncompacted." },

    /* ---------------- Flush policy ---------------- */
    { K("log.flush.interval.messages", LONG, LONG_MAX_S), MIN(1), CW, HI,
      F(log_flush_interval_messages),
      .doc = "fsync a partition after this many appended records (default: leave it to the OS)." },
    { K("log.flush.interval.ms", LONG, NULL), MIN(0), CW, HI, F(log_flush_interval_ms),
      SYN("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
      .doc = "fsync a partition when its oldest unflushed record is this old; defaults to log.flush.scheduler.interval.ms." },
    { K("log.flush.scheduler.interval.ms", LONG, LONG_MAX_S), MIN(0), RO, HI,
      F(log_flush_scheduler_interval_ms),
      .doc = "How often the flusher checks for logs to fsync; also the default of log.flush.interval.ms." },
    { K("log.flush.offset.checkpoint.interval.ms", INT, "60000"), MIN(0), RO, HI,
      F(log_flush_offset_checkpoint_interval_ms),
      .doc = "How often the recovery-point checkpoint is written." },
    { K("log.flush.start.offset.checkpoint.interval.ms", INT, "60000"), MIN(0), RO, HI,
      F(log_flush_start_offset_checkpoint_interval_ms),
      .doc = "How often the log-start-offset checkpoint is written." },

    /* ---------------- Retention ---------------- */
    { K("log.retention.ms", LONG, NULL), CW, HI, F(log_retention_ms),
      SYN("log.retention.ms", "log.retention.minutes", "log.retention.hours"),
      .doc = "Delete segments older than this; -1 = no time limit. Wins over .minutes and .hours." },
    { K("log.retention.minutes", INT, NULL), RO, HI, F(log_retention_minutes),
      .doc = "log.retention.ms in minutes (wins over log.retention.hours)." },
    { K("log.retention.hours", INT, "168"), RO, HI, F(log_retention_hours),
      .doc = "log.retention.ms in hours (used when neither .ms nor .minutes is set)." },
    { K("log.retention.bytes", LONG, "-1"), CW, HI, F(log_retention_bytes),
      .doc = "Delete old segments while a partition is larger than this; -1 = no size limit." },
    { K("log.retention.check.interval.ms", LONG, "300000"), MIN(1), RO, MED,
      F(log_retention_check_interval_ms), .doc = "How often retention is enforced." },

    /* ---------------- Groups and offsets ---------------- */
    { K("group.initial.rebalance.delay.ms", INT, "3000"), MIN(0), RO, MED,
      F(group_initial_rebalance_delay_ms),
      .doc = "Wait for more members before the first rebalance of an empty group." },
    { K("group.min.session.timeout.ms", INT, "6000"), MIN(0), RO, MED,
      F(group_min_session_timeout_ms), .doc = "Smallest session timeout a member may ask for." },
    { K("group.max.session.timeout.ms", INT, "1800000"), MIN(0), RO, MED,
      F(group_max_session_timeout_ms), .doc = "Largest session timeout a member may ask for." },
    { K("group.max.size", INT, INT_MAX_S), MIN(1), RO, MED, F(group_max_size),
      .doc = "Most members in one consumer group." },
    { K("offsets.topic.num.partitions", INT, "50"), R(1, CFG_MAX_PARTITIONS_PER_TOPIC), RO, HI, F(offsets_topic_num_partitions),
      .doc = "Partitions of __consumer_offsets (do not change after first start)." },
    { K("offsets.topic.replication.factor", SHORT, "3"), MIN(1), RO, HI,
      F(offsets_topic_replication_factor),
      .doc = "Replication factor of __consumer_offsets.",
      .note = "Capped at the number of live brokers when the topic is created, so 3 works on one node." },
    { K("offsets.topic.segment.bytes", INT, "104857600"), MIN(1), RO, HI,
      F(offsets_topic_segment_bytes), .doc = "Segment size of __consumer_offsets." },
    { K("offsets.retention.minutes", INT, "10080"), MIN(1), RO, HI, F(offsets_retention_minutes),
      .doc = "Keep committed offsets of empty groups this long." },
    { K("offsets.retention.check.interval.ms", LONG, "600000"), MIN(1), RO, HI,
      F(offsets_retention_check_interval_ms), .doc = "How often expired offsets are removed." },
    { K("offsets.load.buffer.size", INT, "5242880"), MIN(1), RO, HI, F(offsets_load_buffer_size),
      .doc = "Read size when loading __consumer_offsets at startup." },
    { K("offsets.commit.timeout.ms", INT, "5000"), MIN(1), RO, HI, F(offsets_commit_timeout_ms),
      .doc = "Longest an offset commit waits for its write to be replicated." },
    { K("offset.metadata.max.bytes", INT, "4096"), RO, HI, F(offset_metadata_max_bytes),
      .doc = "Largest metadata string stored with a committed offset." },

    /* ---------------- Transactions and producer ids ---------------- */
    { K("transactional.id.expiration.ms", INT, "604800000"), MIN(1), RO, HI,
      F(transactional_id_expiration_ms),
      .doc = "Expire a transactional id after this long without transaction activity." },
    { K("transaction.max.timeout.ms", INT, "900000"), MIN(1), RO, HI, F(transaction_max_timeout_ms),
      .doc = "Largest transaction timeout a producer may ask for." },
    { K("transaction.partition.verification.enable", BOOLEAN, "true"), CW, LOW,
      F(transaction_partition_verification_enable),
      .doc = "Before a transactional write opens a producer's transaction on a partition (Produce, "
             "TxnOffsetCommit), ask the transaction coordinator whether the partition is in the "
             "transaction (KIP-890 part 1); false skips the check." },
    { K("transaction.state.log.num.partitions", INT, "50"), MIN(1), RO, HI,
      F(transaction_state_log_num_partitions), .doc = "Partitions of __transaction_state." },
    { K("transaction.state.log.replication.factor", SHORT, "3"), MIN(1), RO, HI,
      F(transaction_state_log_replication_factor),
      .doc = "Replication factor of __transaction_state.",
      .note = "One broker: 1. A cluster creates the topic only once this many brokers are live "
              "(FindCoordinator answers COORDINATOR_NOT_AVAILABLE meanwhile), like "
              "__consumer_offsets (docs/transactions.md)." },
    { K("transaction.state.log.min.isr", INT, "2"), MIN(1), RO, HI,
      F(transaction_state_log_min_isr), .doc = "min.insync.replicas of __transaction_state.",
      .note = "Capped at the topic's replication factor (1 on one broker)." },
    { K("transaction.state.log.segment.bytes", INT, "104857600"), MIN(1), RO, HI,
      F(transaction_state_log_segment_bytes), .doc = "Segment size of __transaction_state." },
    { K("transaction.abort.timed.out.transaction.cleanup.interval.ms", INT, "10000"), MIN(1), RO, LOW,
      F(transaction_abort_timed_out_transaction_cleanup_interval_ms),
      .doc = "How often the transaction coordinator aborts transactions older than their timeout." },
    { K("transaction.remove.expired.transaction.cleanup.interval.ms", INT, "3600000"), MIN(1), RO, LOW,
      F(transaction_remove_expired_transaction_cleanup_interval_ms),
      .doc = "How often the transaction coordinator removes expired transactional ids." },
    { K("producer.id.expiration.ms", INT, "86400000"), MIN(1), CW, LOW, F(producer_id_expiration_ms),
      .doc = "Forget a producer id's sequence state after this long without writes." },

    /* ---------------- Replication and fetch ---------------- */
    { K("replica.lag.time.max.ms", LONG, "30000"), RO, HI, F(replica_lag_time_max_ms),
      .doc = "Drop a follower from the ISR when it has not caught up for this long." },
    { K("num.replica.fetchers", INT, "1"), MIN(1), CW, NODYN, HI, F(num_replica_fetchers),
      .doc = "Fetcher threads per source broker." },
    { K("replica.fetch.wait.max.ms", INT, "500"), RO, HI, F(replica_fetch_wait_max_ms),
      .doc = "Max wait of follower fetch requests." },
    { K("replica.fetch.min.bytes", INT, "1"), RO, HI, F(replica_fetch_min_bytes),
      .doc = "Min bytes of follower fetch responses." },
    { K("replica.fetch.max.bytes", INT, "1048576"), MIN(0), RO, MED, F(replica_fetch_max_bytes),
      .doc = "Bytes per partition a follower fetch asks for." },
    { K("replica.fetch.backoff.ms", INT, "1000"), MIN(0), RO, MED, F(replica_fetch_backoff_ms),
      .doc = "Wait after a failed follower fetch (or a lost connection) before the next." },
    { K("leader.replication.throttled.rate", LONG, LONG_MAX_S), MIN(0), CW, MED,
      F(leader_replication_throttled_rate),
      .doc = "Bytes/s a leader sends to throttled replicas out of the ISR "
             "(leader.replication.throttled.replicas of each topic)." },
    { K("follower.replication.throttled.rate", LONG, LONG_MAX_S), MIN(0), CW, MED,
      F(follower_replication_throttled_rate),
      .doc = "Bytes/s a follower fetches for its throttled replicas while out of the ISR "
             "(follower.replication.throttled.replicas of each topic)." },
    { K("fetch.max.bytes", INT, "57671680"), MIN(1024), RO, MED, F(fetch_max_bytes),
      .doc = "Most bytes returned by one fetch request." },
    { K("max.incremental.fetch.session.cache.slots", INT, "1000"), MIN(0), RO, MED,
      F(max_incremental_fetch_session_cache_slots), .doc = "Most incremental fetch sessions kept." },
    { K("fetch.purgatory.purge.interval.requests", INT, "1000"), RO, MED,
      F(fetch_purgatory_purge_interval_requests),
      .doc = "Purge completed delayed fetches every this many requests." },
    { K("producer.purgatory.purge.interval.requests", INT, "1000"), RO, MED,
      F(producer_purgatory_purge_interval_requests),
      .doc = "Purge completed delayed produces every this many requests." },
    { K("delete.records.purgatory.purge.interval.requests", INT, "1"), RO, MED,
      F(delete_records_purgatory_purge_interval_requests),
      .doc = "Purge completed delayed DeleteRecords every this many requests." },

    /* ---------------- Client quotas (entity: docs/security.md) ---------------- */
    { K("quota.window.num", INT, "11"), MIN(1), RO, LOW, F(quota_window_num),
      .doc = "The number of samples to retain in memory for client quotas." },
    { K("quota.window.size.seconds", INT, "1"), MIN(1), RO, LOW, F(quota_window_size_seconds),
      .doc = "The time span of each sample for client quotas." },

    /* ---------------- ZooKeeper / cluster ---------------- */
    { K("zookeeper.connect", STRING, NULL), RO, HI, F(zookeeper_connect),
      .doc = "ZooKeeper connection string host:port[,...][/chroot]; empty = single node, no ZooKeeper.",
      .note = "ZooKeeper coordination is not implemented yet: a value is accepted with a warning." },
    { K("zookeeper.session.timeout.ms", INT, "18000"), MIN(1), RO, HI,
      F(zookeeper_session_timeout_ms), .doc = "ZooKeeper session timeout." },
    { K("zookeeper.connection.timeout.ms", INT, NULL), MIN(1), RO, HI,
      F(zookeeper_connection_timeout_ms),
      .doc = "Wait this long to connect to ZooKeeper; defaults to zookeeper.session.timeout.ms." },

    /* ---------------- Security: TLS (net/tls.c; docs/security.md) ----------------
     * Every key is also read behind listener.name.<listener>. (that value wins). */
#define TLS .off = CFG_NOFIELD, .per_listener = 1
#define STORE TLS, .listener_only = 1
    { K("ssl.keystore.type", STRING, "PEM"), PB, MED, STORE, .enums = ssl_store_types,
      .doc = "Format of the keystore: PEM (a file, or the inline ssl.keystore.key and ssl.keystore.certificate.chain) or PKCS12.",
      .note = "Kafka's default is JKS, which Samsa cannot read: JKS is refused at startup (convert with keytool -importkeystore -deststoretype PKCS12)." },
    { K("ssl.keystore.location", STRING, NULL), PB, HI, STORE,
      .doc = "Keystore file: for PEM the private key and the certificate chain (leaf first) in one file. Changed dynamically behind listener.name.<l>., the listener's certificate is reloaded for new connections." },
    { K("ssl.keystore.password", PASSWORD, NULL), PB, HI, STORE,
      .doc = "Password of a PKCS12 keystore (must not be set for PEM, as in Kafka)." },
    { K("ssl.key.password", PASSWORD, NULL), PB, HI, STORE,
      .doc = "Password of the (encrypted) private key in a PEM keystore." },
    { K("ssl.keystore.key", PASSWORD, NULL), PB, HI, STORE,
      .doc = "The private key in PEM, inline (with ssl.keystore.certificate.chain, instead of ssl.keystore.location)." },
    { K("ssl.keystore.certificate.chain", PASSWORD, NULL), PB, HI, STORE,
      .doc = "The certificate chain in PEM, inline, leaf first." },
    { K("ssl.truststore.type", STRING, "PEM"), PB, MED, STORE, .enums = ssl_store_types,
      .doc = "Format of the truststore: PEM or PKCS12.",
      .note = "Kafka's default is JKS, which Samsa refuses (see ssl.keystore.type)." },
    { K("ssl.truststore.location", STRING, NULL), PB, HI, STORE,
      .doc = "Truststore file: the CA certificates that client (and, for the broker's own connections, broker) certificates must chain to." },
    { K("ssl.truststore.password", PASSWORD, NULL), PB, HI, STORE,
      .doc = "Password of a PKCS12 truststore." },
    { K("ssl.truststore.certificates", PASSWORD, NULL), PB, HI, STORE,
      .doc = "Trusted certificates in PEM, inline (instead of ssl.truststore.location)." },
    { K("ssl.enabled.protocols", LIST, "TLSv1.2,TLSv1.3"), PB, MED, TLS, .enums = ssl_protocols,
      .doc = "TLS versions accepted." },
    { K("ssl.protocol", STRING, "TLSv1.3"), PB, MED, TLS,
      .doc = "Kafka's SSLContext protocol; accepted for compatibility, ssl.enabled.protocols decides." },
    { K("ssl.cipher.suites", LIST, ""), PB, LOW, TLS,
      .doc = "Cipher suites by their standard (IANA/Java) names; empty = OpenSSL's defaults." },
    { K("ssl.client.auth", STRING, "none"), PB, MED, TLS, .enums = ssl_client_auths,
      .doc = "Client certificates: required (no valid certificate, no connection), requested (verified if sent) or none." },
    { K("ssl.endpoint.identification.algorithm", STRING, "https"), PB, LOW, TLS,
      .enums = ssl_endpoint_algs,
      .doc = "https: the broker's own TLS connections check the peer's host name against its certificate; empty: no check." },
    { K("ssl.principal.mapping.rules", STRING, "DEFAULT"), RO, LOW, TLS, .check = check_mapping_rules,
      .valid = "DEFAULT, RULE:pattern/replacement/[LU], ...",
      .doc = "How a client certificate's subject (RFC 2253 DN) becomes the principal name on SSL listeners: Kafka's rules, tried in order.",
      .note = "Patterns are POSIX extended regular expressions (Java's reluctant .*? is read as greedy)." },
    { K("ssl.allow.dn.changes", BOOLEAN, "false"), RO, LOW, TLS,
      .doc = "A reloaded keystore may change the certificate's subject DN." },
    { K("ssl.allow.san.changes", BOOLEAN, "false"), RO, LOW, TLS,
      .doc = "A reloaded keystore may change the certificate's subject alternative names." },
    { K("samsa.ssl.handshake.timeout.ms", INT, "10000"), R(100, 600000), RO, LOW, TLS,
      .doc = "Samsa: a TLS handshake not finished this long after the connection was accepted closes it." },
#undef TLS
#undef STORE

    /* ---------------- Authorization ---------------- */
    { K("authorizer.class.name", STRING, ""), RO, LOW, F(authorizer_class_name),
      .check = check_authorizer, .valid = "\"\", " AUTHORIZER_ACL ", " AUTHORIZER_STANDARD,
      .doc = "The authorizer: Kafka's ACL authorizer class turns ACL checks on; empty = every "
             "request is allowed and the ACL APIs answer SECURITY_DISABLED." },
    { K("super.users", STRING, NULL), RO, LOW, F(super_users), .check = check_super_users,
      .doc = "Principals (Type:name, semicolon-separated) allowed every operation on every resource." },
    { K("allow.everyone.if.no.acl.found", BOOLEAN, "false"), RO, LOW,
      F(allow_everyone_if_no_acl_found),
      .doc = "Allow an operation on a resource no ACL matches at all." },

    /* ---------------- Samsa ---------------- */
    { K("samsa.log.level", STRING, "info"), RO, MED, F(samsa_log_level), .check = check_log_level,
      .valid = "debug, info, warn, error",
      .doc = "Samsa: level of the broker's diagnostic log on stderr." },
    { K("samsa.unknown.config.policy", STRING, "error"), RO, LOW, F(samsa_unknown_config_policy),
      .enums = unknown_policies,
      .doc = "Samsa: what an unknown (non-Kafka) key does: error stops startup, warn logs and ignores it." },
    { K("samsa.max.open.files", INT, "-1"), RO, MED, F(samsa_max_open_files), .check = check_max_open_files,
      .valid = "-1 or [16,...]",
      .doc = "Samsa: most segment (.log) files kept open; files open on first use and the least recently "
             "used are closed beyond this. -1 = half of the open-file limit (RLIMIT_NOFILE, which the broker "
             "raises to its hard limit at startup); the other half is left to sockets.",
      .note = "Kafka keeps every segment's files open (3 per segment) and needs ulimit -n above that; Samsa "
              "bounds its descriptors. Index files are not held open at all." },
    { K("samsa.leadership.drained", BOOLEAN, "false"), PB, MED, F(samsa_leadership_drained),
      .doc = "Samsa: maintenance mode of this broker (set per broker, dynamically, by `samsa cluster "
             "drain`/`undrain`): the controller moves its leaderships to other in-sync replicas and "
             "does not choose it as leader while another eligible in-sync replica exists. It stays a "
             "replica and in the ISR." },
    { K("samsa.test.hooks.enable", BOOLEAN, "false"), RO, LOW, F(samsa_test_hooks_enable),
      .doc = "Samsa, TEST ONLY: serve LeaderAndIsr (API key 4) from any client, so tests can mark a "
             "partition as led by another broker and register that broker's endpoint. Never enable "
             "it in production: any client could move leadership. Off, the API is not advertised and "
             "a request for it closes the connection like any unknown API." },
};

const size_t cfg_broker_ndefs = sizeof cfg_broker_defs / sizeof *cfg_broker_defs;

int cfg_broker_find(const char *name)
{
    for (size_t i = 0; i < cfg_broker_ndefs; i++)
        if (!strcmp(cfg_broker_defs[i].name, name))
            return (int)i;
    return -1;
}
