/*
 * config.h - broker and topic configuration: Kafka's names, Samsa's table.
 *
 * What this module owns
 *   - The declarative table of every broker key Samsa implements
 *     (config_broker_table.c): name, type, default, validator, one-line doc,
 *     importance, update mode and the offset of the typed field in
 *     struct broker_config where the parsed value lands.
 *   - The table of topic-level keys with their broker synonyms
 *     (config_topic.c), the DescribeConfigs view of both, the
 *     IncrementalAlterConfigs edit helpers and the effective per-topic
 *     settings the storage layer needs.
 *   - The list of Kafka broker keys Samsa accepts but does not implement
 *     (config_kafka_keys.c), so any Kafka 2.x/3.x server.properties starts
 *     with a warning per such key instead of failing.
 *   - Loading: Java .properties syntax (config_props.c), command-line
 *     overrides, cross-key validation and derived values (config.c,
 *     config_listeners.c).
 *
 * Precedence (highest wins): per-broker dynamic config > cluster-default
 * dynamic config > --override (in argv order) > the properties file (last
 * duplicate wins, with a warning) > built-in defaults.  The two dynamic
 * layers exist only in configs built by broker_config_with_dynamic() (see
 * "Dynamic broker configs" below).  Aliases are resolved after every layer
 * is applied: log.retention.ms > .minutes > .hours, log.roll.ms > .hours,
 * log.dirs > log.dir, node.id == broker.id.
 *
 * Invariants
 *   1. After broker_config_finish() returns 0 every typed field holds a
 *      value that passed its validator and every derived field is set.
 *   2. Every failure is one line starting "config error: " that names the
 *      key; the library never exits or prints - the caller decides.
 *   3. Table order is documentation order; config_print_markdown() and
 *      docs/configuration.md are generated from the same rows.
 *
 * Threads: a broker_config is read-only once finished, so readers need
 * no lock.  The startup config is built on the main thread; a dynamic
 * update (AlterConfigs on a BROKER resource) builds a NEW one with
 * broker_config_with_dynamic() and publishes it - nothing here edits a
 * finished config in place.  Every function here is pure: it touches only
 * its arguments (updates to the same layer set must be serialised by the
 * caller).
 *
 * Memory: struct broker_config owns every string it points to (freed by
 * broker_config_free).  A cfg_description owns its value strings; its
 * name/doc pointers point into the static tables or into the broker_config
 * it was built from and stay valid while that config lives.  topic
 * overrides (struct topic_overrides) own copies of their keys and values.
 *
 * Errors: functions return 0 (KERR_NONE) or a kerr_t: KERR_INVALID_CONFIG
 * for a bad key or value, KERR__IO when the file cannot be read,
 * KERR__NOMEM.  err/errlen receive the one-line message.
 */
#ifndef SAMSA_BROKER_CONFIG_H
#define SAMSA_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- Bounds of keys that size a thread pool or an array ----------------
 * Far above anything an operator needs (Kafka's defaults are 3, 1 and a
 * few thousand partitions), low enough that nothing sized by them can
 * exhaust the process.  A larger value stops startup with "KEY must be at
 * most N".  Listed in docs/configuration.md ("Bounds"). */
#define CFG_MAX_NETWORK_THREADS 256          /* num.network.threads */
#define CFG_MAX_CLEANER_THREADS 256          /* log.cleaner.threads */
#define CFG_MAX_PARTITIONS_PER_TOPIC 100000  /* num.partitions, offsets.topic.num.partitions, CreateTopics */

/* ---- Kafka's enums, with their wire numbers ---------------------------- */

/* DescribeConfigs ConfigSource. */
enum cfg_source {
    CFG_SRC_UNKNOWN = 0,
    CFG_SRC_DYNAMIC_TOPIC = 1,          /* a topic override */
    CFG_SRC_DYNAMIC_BROKER = 2,
    CFG_SRC_DYNAMIC_DEFAULT_BROKER = 3,
    CFG_SRC_STATIC_BROKER = 4,          /* set in the file or by --override */
    CFG_SRC_DEFAULT = 5,                /* built-in default */
};

/* DescribeConfigs (v3+) ConfigType; also the table's value types. */
enum cfg_type {
    CFG_T_UNKNOWN = 0,
    CFG_T_BOOLEAN = 1,
    CFG_T_STRING = 2,
    CFG_T_INT = 3,
    CFG_T_SHORT = 4,
    CFG_T_LONG = 5,
    CFG_T_DOUBLE = 6,
    CFG_T_LIST = 7,
    CFG_T_CLASS = 8,
    CFG_T_PASSWORD = 9,
};

/* IncrementalAlterConfigs operation. */
enum cfg_alter_op { CFG_OP_SET = 0, CFG_OP_DELETE = 1, CFG_OP_APPEND = 2, CFG_OP_SUBTRACT = 3 };

/* Kafka SecurityProtocol ids. */
enum cfg_secproto { CFG_PLAINTEXT = 0, CFG_SSL = 1, CFG_SASL_PLAINTEXT = 2, CFG_SASL_SSL = 3 };

/* Record timestamp type (the batch attribute bit). */
enum cfg_ts_type { CFG_TS_CREATE_TIME = 0, CFG_TS_LOG_APPEND_TIME = 1 };

/* Topic compression.type; codecs keep Kafka's attribute ids. */
enum cfg_compression {
    CFG_COMPRESSION_PRODUCER = -1,      /* keep what the producer sent */
    CFG_COMPRESSION_NONE = 0,           /* "uncompressed" */
    CFG_COMPRESSION_GZIP = 1,
    CFG_COMPRESSION_SNAPPY = 2,
    CFG_COMPRESSION_LZ4 = 3,
    CFG_COMPRESSION_ZSTD = 4,
};

/* cleanup.policy bits. */
#define CFG_CLEANUP_DELETE  1u
#define CFG_CLEANUP_COMPACT 2u

/* A numeric key whose Kafka default is null and that is not set holds
 * this value in its typed field (e.g. log.retention.ms). */
#define CFG_NULL_INT  INT32_MIN
#define CFG_NULL_LONG INT64_MIN

/* ---- Parsed listeners ----------------------------------------------- */

struct cfg_endpoint {
    char name[64];              /* listener name, upper-case: "PLAINTEXT" */
    char host[256];             /* no brackets; "" = all interfaces */
    int32_t port;               /* 0..65535; 0 = kernel-chosen (tests) */
    int8_t security_protocol;   /* enum cfg_secproto */
    bool ipv6;                  /* host is an IPv6 literal */
    bool wildcard;              /* host is "", 0.0.0.0 or :: */
    bool controller;            /* named in controller.listener.names:
                                   Samsa runs no controller, never bound */
};

struct cfg_conn_override {      /* one max.connections.per.ip.overrides entry */
    char host[256];
    int32_t max;
};

struct cfg_state;               /* bookkeeping private to config.c */

/*
 * The typed broker configuration.  Field names follow the Kafka key with
 * dots turned into underscores; the table in config_broker_table.c maps
 * each key to its field.  "derived" fields are computed by
 * broker_config_finish() and are what the rest of the broker should read.
 */
struct broker_config {
    /* -- server basics -- */
    int32_t node_id;                    /* node.id; after finish: the effective id */
    int32_t broker_id;                  /* broker.id (alias of node.id) */
    char *listeners;
    char *advertised_listeners;         /* NULL = derive from listeners */
    char *listener_security_protocol_map;
    char *controller_listener_names;    /* NULL = none */
    char *inter_broker_listener_name;   /* NULL = none */
    char *security_inter_broker_protocol;       /* PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL */
    char *sasl_mechanism_inter_broker_protocol; /* the mechanism brokers log in with */
    char *broker_rack;                  /* NULL = none */
    char *host_name;                    /* deprecated (Kafka < 3.0) */
    int32_t port;                       /* deprecated (Kafka < 3.0) */
    char *advertised_host_name;         /* deprecated (Kafka < 3.0) */
    int32_t advertised_port;            /* deprecated; CFG_NULL_INT if unset */
    bool auto_create_topics_enable;
    bool delete_topic_enable;
    bool controlled_shutdown_enable;
    int32_t controlled_shutdown_max_retries;
    int64_t controlled_shutdown_retry_backoff_ms;
    int32_t controller_socket_timeout_ms;
    bool auto_leader_rebalance_enable;
    int64_t leader_imbalance_check_interval_seconds;
    int32_t leader_imbalance_per_broker_percentage;
    bool samsa_leadership_drained;      /* per-broker dynamic; read by the controller */
    int32_t num_partitions;
    int32_t default_replication_factor;
    char *compression_type;
    int32_t compression_gzip_level;
    int32_t compression_lz4_level;
    int32_t compression_zstd_level;
    int32_t num_network_threads;
    int32_t num_io_threads;
    int32_t num_recovery_threads_per_data_dir;

    /* -- socket server -- */
    int32_t socket_send_buffer_bytes;   /* -1 = OS default */
    int32_t socket_receive_buffer_bytes;/* -1 = OS default */
    int32_t socket_request_max_bytes;
    int32_t socket_listen_backlog_size;
    int64_t connections_max_idle_ms;
    int32_t max_connections;
    int32_t max_connections_per_ip;
    char *max_connections_per_ip_overrides;
    int32_t queued_max_requests;
    int64_t queued_max_request_bytes;   /* -1 = unbounded */

    /* -- SASL (server/sasl_session.c; per listener: listener.name.<l>.*) -- */
    char *sasl_enabled_mechanisms;      /* list; Kafka's default GSSAPI is refused */
    int32_t sasl_server_max_receive_size;   /* frames before authentication */
    int64_t connections_max_reauth_ms;  /* 0 = no re-authentication (KIP-368) */
    int32_t connection_failed_authentication_delay_ms;  /* KIP-306 */

    /* -- log basics -- */
    char *log_dir;
    char *log_dirs;                     /* NULL = use log.dir */
    int32_t log_segment_bytes;
    int64_t log_roll_ms;                /* CFG_NULL_LONG if unset */
    int32_t log_roll_hours;
    int64_t log_roll_jitter_ms;         /* CFG_NULL_LONG if unset */
    int32_t log_roll_jitter_hours;
    int32_t log_index_size_max_bytes;
    int32_t log_index_interval_bytes;
    int64_t log_segment_delete_delay_ms;
    bool log_preallocate;
    char *log_message_timestamp_type;
    int64_t log_message_timestamp_before_max_ms;
    int64_t log_message_timestamp_after_max_ms;
    int64_t log_message_timestamp_difference_max_ms;
    char *log_message_format_version;
    bool log_message_downconversion_enable;
    int32_t message_max_bytes;
    int32_t min_insync_replicas;
    bool unclean_leader_election_enable;
    int64_t log_local_retention_ms;
    int64_t log_local_retention_bytes;

    /* -- cleaner -- */
    char *log_cleanup_policy;
    bool log_cleaner_enable;
    int32_t log_cleaner_threads;
    int64_t log_cleaner_backoff_ms;
    int64_t log_cleaner_dedupe_buffer_size;
    int64_t log_cleaner_delete_retention_ms;
    double log_cleaner_min_cleanable_ratio;
    int64_t log_cleaner_min_compaction_lag_ms;
    int64_t log_cleaner_max_compaction_lag_ms;

    /* -- flush policy -- */
    int64_t log_flush_interval_messages;
    int64_t log_flush_interval_ms;      /* CFG_NULL_LONG if unset */
    int64_t log_flush_scheduler_interval_ms;
    int32_t log_flush_offset_checkpoint_interval_ms;
    int32_t log_flush_start_offset_checkpoint_interval_ms;

    /* -- retention -- */
    int64_t log_retention_ms;           /* CFG_NULL_LONG if unset */
    int32_t log_retention_minutes;      /* CFG_NULL_INT if unset */
    int32_t log_retention_hours;
    int64_t log_retention_bytes;        /* -1 = unlimited */
    int64_t log_retention_check_interval_ms;

    /* -- groups and offsets -- */
    int32_t group_initial_rebalance_delay_ms;
    int32_t group_min_session_timeout_ms;
    int32_t group_max_session_timeout_ms;
    int32_t group_max_size;
    int32_t offsets_topic_num_partitions;
    int16_t offsets_topic_replication_factor;
    int32_t offsets_topic_segment_bytes;
    int32_t offsets_retention_minutes;
    int64_t offsets_retention_check_interval_ms;
    int32_t offsets_load_buffer_size;
    int32_t offsets_commit_timeout_ms;
    int32_t offset_metadata_max_bytes;

    /* -- transactions and producer ids -- */
    int32_t transactional_id_expiration_ms;
    int32_t transaction_max_timeout_ms;
    bool transaction_partition_verification_enable;   /* dynamic; KIP-890 part 1 */
    int32_t transaction_state_log_num_partitions;
    int16_t transaction_state_log_replication_factor;
    int32_t transaction_state_log_min_isr;
    int32_t transaction_state_log_segment_bytes;
    int32_t transaction_abort_timed_out_transaction_cleanup_interval_ms;
    int32_t transaction_remove_expired_transaction_cleanup_interval_ms;
    int32_t producer_id_expiration_ms;

    /* -- replication and fetch -- */
    int64_t replica_lag_time_max_ms;
    int32_t num_replica_fetchers;
    int32_t replica_fetch_wait_max_ms;
    int32_t replica_fetch_min_bytes;
    int32_t replica_fetch_max_bytes;
    int32_t replica_fetch_backoff_ms;
    /* Replication throttles, bytes/s (LONG_MAX: none); dynamic. */
    int64_t leader_replication_throttled_rate;
    int64_t follower_replication_throttled_rate;
    int32_t fetch_max_bytes;
    /* -- client quotas (broker/quotas.c) -- */
    int32_t quota_window_num;
    int32_t quota_window_size_seconds;
    int32_t max_incremental_fetch_session_cache_slots;
    int32_t fetch_purgatory_purge_interval_requests;
    int32_t producer_purgatory_purge_interval_requests;
    int32_t delete_records_purgatory_purge_interval_requests;

    /* -- ZooKeeper / cluster -- */
    char *zookeeper_connect;            /* NULL or "" = single node, no ZooKeeper */
    int32_t zookeeper_session_timeout_ms;
    int32_t zookeeper_connection_timeout_ms;    /* CFG_NULL_INT = session timeout */

    /* -- Authorization (ACLs; docs/security.md) -- */
    char *authorizer_class_name;        /* "" = no authorizer */
    char *super_users;                  /* "User:a;User:b"; NULL = none */
    bool allow_everyone_if_no_acl_found;

    /* -- Samsa-specific (samsa.*) -- */
    char *samsa_log_level;
    char *samsa_unknown_config_policy;  /* "error" or "warn" */
    int32_t samsa_max_open_files;       /* segment files kept open; -1 = half of RLIMIT_NOFILE */
    bool samsa_test_hooks_enable;       /* test only: serve LeaderAndIsr from any client */

    /* -- derived by broker_config_finish() -- */
    int64_t retention_ms;               /* ms > minutes > hours; -1 = unlimited */
    int64_t roll_ms;                    /* log.roll.ms, else hours * 3600000 */
    int64_t roll_jitter_ms;
    int64_t flush_ms;                   /* log.flush.interval.ms, else scheduler interval */
    int32_t zookeeper_connection_timeout_eff_ms;
    int log_level;                      /* enum log_level from samsa.log.level */
    struct cfg_endpoint *endpoints;     /* listeners, in order (controller ones flagged) */
    size_t nendpoints;
    struct cfg_endpoint *advertised;    /* effective advertised.listeners; never wildcard */
    size_t nadvertised;
    char **log_dir_list;                /* log.dirs (or log.dir) split on commas */
    size_t nlog_dirs;
    struct cfg_conn_override *conn_overrides;
    size_t nconn_overrides;
    /* The listener brokers talk to each other on (config_inter_broker.c:
     * inter.broker.listener.name, else the listener named after
     * security.inter.broker.protocol) and its security protocol. */
    char inter_broker_listener[64];
    int8_t inter_broker_secproto;       /* enum cfg_secproto */

    /* -- warnings collected while loading and finishing, one line each,
     *    naming the key and its origin; broker_config_log_warnings() logs them -- */
    char **warnings;
    size_t nwarnings;

    struct cfg_state *st;               /* private */
};

/* ---- Building a broker config --------------------------------------- */

/* Every field at its default.  Returns 0 or KERR__NOMEM. */
int broker_config_init(struct broker_config *cfg);
void broker_config_free(struct broker_config *cfg);

/* Which static layer a value comes from; a key set twice in the same
 * layer warns ("last wins", Java Properties semantics).  Both are
 * STATIC_BROKER_CONFIG for DescribeConfigs.  (Dynamic values are not set
 * through broker_config_set: see broker_config_with_dynamic.) */
enum cfg_layer { CFG_LAYER_FILE = 1, CFG_LAYER_OVERRIDE = 2 };

/* Set one key.  Implemented keys are validated and land in their field;
 * Kafka keys Samsa does not implement are kept (for DescribeConfigs) with
 * a warning; unknown keys are remembered and reported by
 * broker_config_finish() (with a "did you mean" suggestion).  origin names
 * where the value came from for messages ("server.properties:12"). */
int broker_config_set(struct broker_config *cfg, const char *key, const char *value,
                      enum cfg_layer layer, const char *origin, char *err, size_t errlen);

/* Parse Java .properties text / a file and set each entry in order. */
int broker_config_load_string(struct broker_config *cfg, const char *text, size_t len,
                              const char *name, char *err, size_t errlen);
int broker_config_load_file(struct broker_config *cfg, const char *path, char *err, size_t errlen);

/* Cross-key validation and derived values (see the struct).  Call once,
 * after every set/load. */
int broker_config_finish(struct broker_config *cfg, char *err, size_t errlen);

/* True if key was set by the file, an override or a dynamic layer (false
 * for defaults, unknown or unimplemented keys). */
bool broker_config_is_set(const struct broker_config *cfg, const char *key);
/* The SASL mechanisms a listener enables (its listener.name.<l>.
 * sasl.enabled.mechanisms, else sasl.enabled.mechanisms), and the JAAS
 * config of one of them (listener.name.<l>.<mech lower>.sasl.jaas.config;
 * NULL if unset; the key in keybuf) (config_sasl.c, over
 * broker_config_listener_value).  Values are secrets: never log them. */
const char *broker_config_sasl_mechanisms(const struct broker_config *cfg, const char *listener);
const char *broker_config_sasl_jaas(const struct broker_config *cfg, const char *listener,
                                    const char *mech, char *keybuf, size_t kn);
/* The session lifetime for `mech` on `listener`: listener.name.<l>.<mech
 * lower>.connections.max.reauth.ms, else listener.name.<l>.connections.
 * max.reauth.ms, else connections.max.reauth.ms (Kafka's lookup).  0, or
 * -1 when the value is not a number >= 0. */
int broker_config_sasl_reauth_ms(const struct broker_config *cfg, const char *listener,
                                 const char *mech, int64_t *out);
/* The broker's own SASL identity on `listener` for `mech`, as Kafka's
 * broker takes it from the listener's JAAS entry: username/password
 * (PLAIN, SCRAM-*) or unsecuredLoginStringClaim_sub (OAUTHBEARER, password
 * ""), for the inter-broker kclient_security.  0, or -1 naming the key. */
int broker_config_sasl_login(const struct broker_config *cfg, const char *listener,
                             const char *mech, char *user, size_t un, char *pw, size_t pn,
                             char *why, size_t wn);

/* The value of key for listener `listener` (its name as in listeners=,
 * any case): listener.name.<lower-case name>.<key> when set in any layer
 * (per-broker dynamic > cluster-default dynamic > static), else key's
 * own value or default (NULL = null).  Kafka's precedence for listener
 * configs.  Points into cfg or the table; valid while cfg lives.
 * listener NULL = the unprefixed key. */
const char *broker_config_listener_value(const struct broker_config *cfg, const char *listener,
                                         const char *key);

/* Each collected warning through LOG_WRN("config", ...). */
void broker_config_log_warnings(const struct broker_config *cfg);

/* ---- Command line ---------------------------------------------------- */

enum cfg_cli_action {
    CFG_CLI_RUN = 0,            /* cfg is loaded and finished: start the broker */
    CFG_CLI_HELP,               /* print broker_config_usage() and exit 0 */
    CFG_CLI_VERSION,            /* print the version and exit 0 */
    CFG_CLI_PRINT_DOCS,         /* config_print_markdown(stdout) and exit 0 */
};

/*
 * samsa-broker [CONFIG.properties] [--override KEY=VALUE]...
 * Also --override=KEY=VALUE, -h/--help, --version, --print-config-docs.
 * The file is loaded first, then overrides in argv order, then
 * broker_config_finish().  Without a file the defaults apply.  cfg is
 * initialised in every case (free it even on error).
 */
int broker_config_from_argv(struct broker_config *cfg, int argc, char *const argv[],
                            enum cfg_cli_action *action, char *err, size_t errlen);
void broker_config_usage(FILE *out, const char *prog);

/* Markdown tables of every implemented broker and topic key, generated
 * from the tables (docs/configuration.md embeds this output). */
void config_print_markdown(FILE *out);

/* ---- DescribeConfigs -------------------------------------------------- */

#define CFG_MAX_SYNONYMS 8

struct cfg_synonym {
    const char *name;
    char *value;                /* owned; NULL = null or sensitive */
    int8_t source;              /* enum cfg_source */
};

struct cfg_entry {
    const char *name;
    char *value;                /* owned; NULL = null or sensitive */
    int8_t source;              /* enum cfg_source */
    int8_t config_type;         /* enum cfg_type */
    bool read_only;             /* not updatable by AlterConfigs */
    bool is_sensitive;          /* passwords: value and synonym values are NULL */
    const char *doc;
    int nsynonyms;              /* Kafka's order: most specific first */
    struct cfg_synonym synonyms[CFG_MAX_SYNONYMS];
};

struct cfg_description {
    struct cfg_entry *v;
    size_t n;
};

/* DescribeConfigs for this broker (resource name = its id): every key
 * with its effective value; source = that of the first synonym; synonyms
 * in Kafka's order: per-broker dynamic, cluster-default dynamic, static,
 * default (for log.retention.ms, log.roll.ms, log.roll.jitter.ms and
 * log.flush.interval.ms the whole family: e.g. ms, minutes, hours per
 * layer).  read_only = !broker_cfg_is_dynamic(name).
 * keys/nkeys: only these names (unknown names are skipped, like Kafka);
 * keys == NULL: every config. */
int broker_config_describe(const struct broker_config *cfg, const char *const *keys,
                           size_t nkeys, struct cfg_description *out);
/* DescribeConfigs for the cluster-default resource (resource name ""):
 * like Kafka, only the keys set in the cluster-default dynamic layer, each
 * with source DYNAMIC_DEFAULT_BROKER_CONFIG and only synonyms of that
 * layer.  keys as above. */
int broker_config_describe_default(const struct broker_config *cfg, const char *const *keys,
                                   size_t nkeys, struct cfg_description *out);
void cfg_description_free(struct cfg_description *d);
const struct cfg_entry *cfg_description_find(const struct cfg_description *d, const char *name);

/* ---- Topic configs --------------------------------------------------- */

/* One override.  Arrays of these are "override sets"; functions taking
 * (kv, n) only read them. */
typedef struct cfg_kv {
    char *key;
    char *value;
} cfg_kv;

/* An owning override set: keys unique, each key/value a private copy. */
struct topic_overrides {
    cfg_kv *v;
    size_t n, cap;
};

void topic_overrides_init(struct topic_overrides *o);
void topic_overrides_free(struct topic_overrides *o);
const char *topic_overrides_get(const struct topic_overrides *o, const char *key);
/* Copies key and value; replaces an existing key; value NULL removes it.
 * 0 or KERR__NOMEM. */
int topic_overrides_put(struct topic_overrides *o, const char *key, const char *value);
bool topic_overrides_del(struct topic_overrides *o, const char *key);
/* Replace dst's contents with copies of kv[0..n). */
int topic_overrides_assign(struct topic_overrides *dst, const cfg_kv *kv, size_t n);

/* Is key a topic config Samsa knows?  (Case-sensitive, like Kafka.) */
bool topic_cfg_is_known(const char *key);

/* Validate one (key, value).  KERR_INVALID_CONFIG with a client-facing
 * message: "Unknown topic config name: x" or "Invalid value v for
 * configuration k: <why>". */
int topic_cfg_validate(const char *key, const char *value, char *err, size_t errlen);

/* Validate a whole set: each pair, then cross-key rules
 * (min.compaction.lag.ms <= max.compaction.lag.ms, ...). */
int topic_cfg_validate_set(const struct broker_config *cfg, const cfg_kv *kv, size_t n,
                           char *err, size_t errlen);

/* Apply one IncrementalAlterConfigs op to o.  SET replaces; DELETE drops
 * the override (back to the broker default); APPEND/SUBTRACT only for
 * LIST keys, starting from the current effective value and keeping items
 * unique.  The result is validated; on error o is unchanged.  To apply a
 * request atomically, run every op on a copy and keep it only if all
 * succeed. */
int topic_cfg_alter(const struct broker_config *cfg, struct topic_overrides *o, const char *key,
                    int op, const char *value, char *err, size_t errlen);

/* DescribeConfigs for a topic: every topic key (or those in keys) with
 * its value, source (DYNAMIC_TOPIC_CONFIG for overrides, else the first
 * broker synonym's source: DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_
 * CONFIG, STATIC_BROKER_CONFIG or DEFAULT_CONFIG), synonyms in Kafka's
 * order (the override, then the broker synonyms as in
 * broker_config_describe) and docs. */
int topic_cfg_describe(const struct broker_config *cfg, const cfg_kv *kv, size_t n,
                       const char *const *keys, size_t nkeys, struct cfg_description *out);

/* The effective, typed settings of one topic: override, else the broker
 * default through its synonym(s). */
struct topic_settings {
    uint8_t cleanup_policy;             /* CFG_CLEANUP_* bits; 0 = neither */
    bool compact;                       /* cleanup_policy has compact */
    bool delete_;                       /* cleanup_policy has delete */
    int8_t compression_type;            /* enum cfg_compression */
    int32_t compression_gzip_level;
    int32_t compression_lz4_level;
    int32_t compression_zstd_level;
    int64_t delete_retention_ms;
    int64_t file_delete_delay_ms;
    int64_t flush_messages;             /* INT64_MAX = never by count */
    int64_t flush_ms;                   /* INT64_MAX = never by time */
    int32_t index_interval_bytes;
    int64_t local_retention_bytes;
    int64_t local_retention_ms;
    int64_t max_compaction_lag_ms;
    int32_t max_message_bytes;
    bool message_downconversion_enable;
    int64_t timestamp_after_max_ms;     /* effective (falls back to difference) */
    int64_t timestamp_before_max_ms;    /* effective (falls back to difference) */
    int64_t timestamp_difference_max_ms;
    int8_t timestamp_type;              /* enum cfg_ts_type */
    double min_cleanable_dirty_ratio;
    int64_t min_compaction_lag_ms;
    int32_t min_insync_replicas;
    bool preallocate;
    bool remote_storage_enable;
    int64_t retention_bytes;            /* -1 = unlimited */
    int64_t retention_ms;               /* -1 = unlimited */
    int32_t segment_bytes;
    int32_t segment_index_bytes;
    int64_t segment_jitter_ms;
    int64_t segment_ms;
    bool unclean_leader_election_enable;
};

int topic_cfg_effective(const struct broker_config *cfg, const cfg_kv *kv, size_t n,
                        struct topic_settings *out, char *err, size_t errlen);

/* ---- Dynamic broker configs (AlterConfigs on BROKER resources) --------- */

/*
 * Kafka's two dynamic layers above the static config: the per-broker
 * layer (resource name = this broker's id, source DYNAMIC_BROKER_CONFIG)
 * and the cluster-wide default (resource name "", source
 * DYNAMIC_DEFAULT_BROKER_CONFIG).  Each layer is an owning set of
 * (key, canonical value) in a struct topic_overrides; the caller keeps
 * and persists both sets.  This module validates edits to a set and
 * builds the broker_config that results from static + both sets.
 *
 * Only keys for which broker_cfg_is_dynamic() is true may be set: Kafka's
 * dynamic keys (update mode per-broker or cluster-wide) minus those Samsa
 * cannot apply to a running broker (thread pool sizes, listeners); see
 * the "Update mode" column of docs/configuration.md.  log.retention.hours
 * /.minutes, log.roll.hours etc. are read-only, as in Kafka: set the .ms
 * key, which wins over them.  A real Kafka key Samsa does not implement
 * follows Kafka's update mode too (broker_cfg_is_stored_only): when Kafka
 * changes it at runtime it is stored as given, described and logged as
 * not acted on - the start-up rule (accept real Kafka keys with a
 * warning) applied to dynamic changes.
 *
 * Request flow in a handler (one resource):
 *     copy the layer's current set (AlterConfigs: start from an empty one)
 *     broker_cfg_alter() per op (IncrementalAlterConfigs) or
 *       broker_cfg_replace() (AlterConfigs); the first error answers
 *     broker_config_with_dynamic(static, default_set, broker_set, &next)
 *       - cross-key rules (retention 0, max.connections.per.ip=0 needs
 *         overrides, ...); its error answers the request
 *     unless validate_only: persist the set, publish next (readers may
 *       still hold the old config: free it only when none can)
 *
 * Error codes: a key that cannot be updated dynamically, a per-broker key
 * on the cluster default, an SSL store key without its listener prefix,
 * APPEND/SUBTRACT on a non-list key and an unknown op are
 * KERR_INVALID_REQUEST with Kafka's messages ("Cannot update these
 * configs dynamically: Set(listeners)").  An unknown key and a bad value (also cross-key, from
 * broker_config_with_dynamic) are KERR_INVALID_CONFIG ("Invalid value x
 * for configuration k: why").  Kafka answers INVALID_REQUEST for bad
 * values too (KAFKA-13609) and stores unknown keys; Samsa does neither.
 * Messages are client-facing (no "config error: " prefix).
 */

enum cfg_dyn_layer { CFG_DYN_CLUSTER_DEFAULT = 0, CFG_DYN_BROKER = 1 };

/* Can key be altered dynamically (at either layer)?  False for unknown,
 * unimplemented and read-only keys. */
bool broker_cfg_is_dynamic(const char *key);
/* A Kafka key Samsa does not implement that Kafka changes at runtime: the
 * dynamic layers accept it, keep its value as given and DescribeConfigs
 * returns it, but nothing acts on it (callers log that). */
bool broker_cfg_is_stored_only(const char *key);

/*
 * Apply one IncrementalAlterConfigs op (enum cfg_alter_op) to layer_set,
 * the current set of dynamic layer `layer`.  SET validates and stores the
 * canonical value; DELETE removes the key (never fails: it also cleans up
 * keys that are no longer valid); APPEND/SUBTRACT only for LIST keys
 * (log.cleanup.policy), starting from the layer's value, else the value
 * in effect below the layer in cur (cluster default, static, default),
 * items kept unique.  Per-key validation only; cross-key rules are checked
 * by broker_config_with_dynamic.  On error layer_set is unchanged.
 * cur: the config in effect (static or built with dynamic layers).
 */
int broker_cfg_alter(const struct broker_config *cur, enum cfg_dyn_layer layer,
                     struct topic_overrides *layer_set, const char *key, int op,
                     const char *value, char *err, size_t errlen);

/* AlterConfigs (non-incremental): replace layer_set with kv[0..n), every
 * pair validated like a SET (entries with a NULL value are skipped, like
 * Kafka; a key given twice: the last wins).  All read-only keys are named
 * in one message.  On error layer_set is unchanged. */
int broker_cfg_replace(enum cfg_dyn_layer layer, struct topic_overrides *layer_set,
                       const cfg_kv *kv, size_t n, char *err, size_t errlen);

/*
 * Build a NEW finished config: the static layer of base (its file and
 * --override values, replayed in their original order; any dynamic
 * values base has are ignored) + cluster_default + per_broker (either may
 * be NULL = empty), then broker_config_finish (derived fields such as
 * retention_ms recomputed).  base is not modified (out must be a
 * different struct; base may itself come from this function).  out is initialised
 * here; on success the caller owns it (broker_config_free); on error it is
 * left empty (freeing it is harmless) and err holds one client-facing line.
 *
 * An entry that may not be set in its layer (unknown, read-only, bad
 * value - e.g. persisted by an older version) is skipped with a warning in
 * out->warnings, like Kafka does with invalid persisted dynamic configs;
 * cross-key errors fail (KERR_INVALID_CONFIG).  out->warnings also repeats
 * base's static warnings.
 */
int broker_config_with_dynamic(const struct broker_config *base,
                               const struct topic_overrides *cluster_default,
                               const struct topic_overrides *per_broker,
                               struct broker_config *out, char *err, size_t errlen);

/* Copy the dynamic values of `layer` in effect in cfg (those
 * broker_config_with_dynamic applied) into out, replacing its contents.
 * 0 or KERR__NOMEM. */
int broker_config_dynamic_layer(const struct broker_config *cfg, enum cfg_dyn_layer layer,
                                struct topic_overrides *out);

#endif
