/*
 * config_kafka_keys.c - the names of Apache Kafka's broker configs
 * (2.x through 4.x: server, socket, log, replication, groups,
 * transactions, quotas, SSL/SASL, ZooKeeper, KRaft, remote storage,
 * metrics), plus prefix families.
 *
 * Why: an operator's existing server.properties must start.  A key Samsa
 * implements is handled by the broker table; any other name in this list
 * is accepted with a warning ("not implemented by Samsa, ignored"); a
 * name in neither is an error, with the closest name from both lists as
 * a suggestion.  The list is our own compilation of key names (no
 * defaults or docs); it includes the keys Samsa implements, and a unit
 * test checks that every non-samsa.* table key appears here, which
 * catches typos in the table.
 *
 * Invariant: kafka_keys[] is sorted by strcmp (binary search).
 * Pure lookups over static data.
 */
#include "config/config_int.h"

#include <stdlib.h>
#include <string.h>

static const char *const kafka_keys[] = {
    "advertised.host.name", "advertised.listeners", "advertised.port",
    "allow.everyone.if.no.acl.found", "alter.config.policy.class.name",
    "alter.config.policy.kraft.compatibility.enable",
    "alter.log.dirs.replication.quota.window.num",
    "alter.log.dirs.replication.quota.window.size.seconds", "authorizer.class.name",
    "auto.create.topics.enable", "auto.include.jmx.reporter", "auto.leader.rebalance.enable",
    "background.threads", "broker.heartbeat.interval.ms", "broker.id",
    "broker.id.generation.enable", "broker.rack", "broker.session.timeout.ms",
    "client.quota.callback.class", "compression.gzip.level", "compression.lz4.level",
    "compression.type", "compression.zstd.level", "config.providers",
    "connection.failed.authentication.delay.ms", "connections.max.idle.ms",
    "connections.max.reauth.ms", "control.plane.listener.name", "controlled.shutdown.enable",
    "controlled.shutdown.max.retries", "controlled.shutdown.retry.backoff.ms",
    "controller.listener.names", "controller.quorum.append.linger.ms",
    "controller.quorum.auto.join.enable", "controller.quorum.bootstrap.servers",
    "controller.quorum.election.backoff.max.ms", "controller.quorum.election.timeout.ms",
    "controller.quorum.fetch.timeout.ms", "controller.quorum.request.timeout.ms",
    "controller.quorum.retry.backoff.ms", "controller.quorum.voters",
    "controller.quota.window.num", "controller.quota.window.size.seconds",
    "controller.socket.timeout.ms", "create.topic.policy.class.name",
    "default.replication.factor", "delegation.token.expiry.check.interval.ms",
    "delegation.token.expiry.time.ms", "delegation.token.master.key",
    "delegation.token.max.lifetime.ms", "delegation.token.secret.key",
    "delete.records.purgatory.purge.interval.requests", "delete.topic.enable",
    "early.start.listeners", "eligible.leader.replicas.enable", "fetch.max.bytes",
    "fetch.purgatory.purge.interval.requests", "follower.replication.throttled.rate",
    "group.consumer.assignors", "group.consumer.heartbeat.interval.ms",
    "group.consumer.max.heartbeat.interval.ms", "group.consumer.max.session.timeout.ms",
    "group.consumer.max.size", "group.consumer.migration.policy",
    "group.consumer.min.heartbeat.interval.ms", "group.consumer.min.session.timeout.ms",
    "group.consumer.session.timeout.ms", "group.coordinator.append.linger.ms",
    "group.coordinator.new.enable", "group.coordinator.rebalance.protocols",
    "group.coordinator.threads", "group.initial.rebalance.delay.ms",
    "group.max.session.timeout.ms", "group.max.size", "group.min.session.timeout.ms",
    "group.share.delivery.count.limit", "group.share.enable", "group.share.heartbeat.interval.ms",
    "group.share.max.groups", "group.share.max.heartbeat.interval.ms",
    "group.share.max.record.lock.duration.ms", "group.share.max.session.timeout.ms",
    "group.share.max.size", "group.share.min.heartbeat.interval.ms",
    "group.share.min.record.lock.duration.ms", "group.share.min.session.timeout.ms",
    "group.share.partition.max.record.locks", "group.share.record.lock.duration.ms",
    "group.share.session.timeout.ms", "host.name", "initial.broker.registration.timeout.ms",
    "inter.broker.listener.name", "inter.broker.protocol.version",
    "kafka.metrics.polling.interval.secs", "kafka.metrics.reporters",
    "leader.imbalance.check.interval.seconds", "leader.imbalance.per.broker.percentage",
    "leader.replication.throttled.rate", "listener.security.protocol.map", "listeners",
    "log.cleaner.backoff.ms", "log.cleaner.dedupe.buffer.size", "log.cleaner.delete.retention.ms",
    "log.cleaner.enable", "log.cleaner.io.buffer.load.factor", "log.cleaner.io.buffer.size",
    "log.cleaner.io.max.bytes.per.second", "log.cleaner.max.compaction.lag.ms",
    "log.cleaner.min.cleanable.ratio", "log.cleaner.min.compaction.lag.ms", "log.cleaner.threads",
    "log.cleanup.policy", "log.dir", "log.dir.failure.timeout.ms", "log.dirs",
    "log.flush.interval.messages", "log.flush.interval.ms",
    "log.flush.offset.checkpoint.interval.ms", "log.flush.scheduler.interval.ms",
    "log.flush.start.offset.checkpoint.interval.ms", "log.index.interval.bytes",
    "log.index.size.max.bytes", "log.initial.task.delay.ms", "log.local.retention.bytes",
    "log.local.retention.ms", "log.message.downconversion.enable", "log.message.format.version",
    "log.message.timestamp.after.max.ms", "log.message.timestamp.before.max.ms",
    "log.message.timestamp.difference.max.ms", "log.message.timestamp.type", "log.preallocate",
    "log.retention.bytes", "log.retention.check.interval.ms", "log.retention.hours",
    "log.retention.minutes", "log.retention.ms", "log.roll.hours", "log.roll.jitter.hours",
    "log.roll.jitter.ms", "log.roll.ms", "log.segment.bytes", "log.segment.delete.delay.ms",
    "max.connection.creation.rate", "max.connections", "max.connections.per.ip",
    "max.connections.per.ip.overrides", "max.incremental.fetch.session.cache.slots",
    "max.request.partition.size.limit", "message.max.bytes", "metadata.log.dir",
    "metadata.log.max.record.bytes.between.snapshots", "metadata.log.max.snapshot.interval.ms",
    "metadata.log.segment.bytes", "metadata.log.segment.min.bytes", "metadata.log.segment.ms",
    "metadata.max.idle.interval.ms", "metadata.max.retention.bytes", "metadata.max.retention.ms",
    "metric.reporters", "metrics.num.samples", "metrics.recording.level",
    "metrics.sample.window.ms", "min.insync.replicas", "node.id", "num.io.threads",
    "num.network.threads", "num.partitions", "num.recovery.threads.per.data.dir",
    "num.replica.alter.log.dirs.threads", "num.replica.fetchers", "offset.metadata.max.bytes",
    "offsets.commit.required.acks", "offsets.commit.timeout.ms", "offsets.load.buffer.size",
    "offsets.retention.check.interval.ms", "offsets.retention.minutes",
    "offsets.topic.compression.codec", "offsets.topic.num.partitions",
    "offsets.topic.replication.factor", "offsets.topic.segment.bytes",
    "password.encoder.cipher.algorithm", "password.encoder.iterations",
    "password.encoder.key.length", "password.encoder.keyfactory.algorithm",
    "password.encoder.old.secret", "password.encoder.secret", "port", "principal.builder.class",
    "process.roles", "producer.id.expiration.check.interval.ms", "producer.id.expiration.ms",
    "producer.purgatory.purge.interval.requests", "queued.max.request.bytes",
    "queued.max.requests", "quota.consumer.default", "quota.producer.default", "quota.window.num",
    "quota.window.size.seconds", "remote.fetch.max.wait.ms",
    "remote.list.offsets.request.timeout.ms", "remote.log.index.file.cache.total.size.bytes",
    "remote.log.manager.copier.thread.pool.size", "remote.log.manager.copy.max.bytes.per.second",
    "remote.log.manager.copy.quota.window.num",
    "remote.log.manager.copy.quota.window.size.seconds",
    "remote.log.manager.expiration.thread.pool.size",
    "remote.log.manager.fetch.max.bytes.per.second", "remote.log.manager.fetch.quota.window.num",
    "remote.log.manager.fetch.quota.window.size.seconds",
    "remote.log.manager.follower.thread.pool.size", "remote.log.manager.task.interval.ms",
    "remote.log.manager.task.retry.backoff.max.ms", "remote.log.manager.task.retry.backoff.ms",
    "remote.log.manager.task.retry.jitter", "remote.log.manager.thread.pool.size",
    "remote.log.metadata.custom.metadata.max.bytes", "remote.log.metadata.manager.class.name",
    "remote.log.metadata.manager.class.path", "remote.log.metadata.manager.impl.prefix",
    "remote.log.metadata.manager.listener.name", "remote.log.reader.max.pending.tasks",
    "remote.log.reader.threads", "remote.log.storage.manager.class.name",
    "remote.log.storage.manager.class.path", "remote.log.storage.manager.impl.prefix",
    "remote.log.storage.system.enable", "replica.alter.log.dirs.io.max.bytes.per.second",
    "replica.fetch.backoff.ms", "replica.fetch.max.bytes", "replica.fetch.min.bytes",
    "replica.fetch.response.max.bytes", "replica.fetch.wait.max.ms",
    "replica.high.watermark.checkpoint.interval.ms", "replica.lag.time.max.ms",
    "replica.selector.class", "replica.socket.receive.buffer.bytes", "replica.socket.timeout.ms",
    "replication.quota.window.num", "replication.quota.window.size.seconds", "request.timeout.ms",
    "reserved.broker.max.id", "sasl.client.callback.handler.class", "sasl.enabled.mechanisms",
    "sasl.jaas.config", "sasl.kerberos.kinit.cmd", "sasl.kerberos.min.time.before.relogin",
    "sasl.kerberos.principal.to.local.rules", "sasl.kerberos.service.name",
    "sasl.kerberos.ticket.renew.jitter", "sasl.kerberos.ticket.renew.window.factor",
    "sasl.login.callback.handler.class", "sasl.login.class", "sasl.login.connect.timeout.ms",
    "sasl.login.read.timeout.ms", "sasl.login.refresh.buffer.seconds",
    "sasl.login.refresh.min.period.seconds", "sasl.login.refresh.window.factor",
    "sasl.login.refresh.window.jitter", "sasl.login.retry.backoff.max.ms",
    "sasl.login.retry.backoff.ms", "sasl.mechanism.controller.protocol",
    "sasl.mechanism.inter.broker.protocol", "sasl.oauthbearer.clock.skew.seconds",
    "sasl.oauthbearer.expected.audience", "sasl.oauthbearer.expected.issuer",
    "sasl.oauthbearer.jwks.endpoint.refresh.ms",
    "sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms",
    "sasl.oauthbearer.jwks.endpoint.retry.backoff.ms", "sasl.oauthbearer.jwks.endpoint.url",
    "sasl.oauthbearer.scope.claim.name", "sasl.oauthbearer.sub.claim.name",
    "sasl.oauthbearer.token.endpoint.url", "sasl.server.callback.handler.class",
    "sasl.server.max.receive.size", "security.inter.broker.protocol", "security.providers",
    "server.max.startup.time.ms", "share.fetch.purgatory.purge.interval.requests",
    "socket.connection.setup.timeout.max.ms", "socket.connection.setup.timeout.ms",
    "socket.listen.backlog.size", "socket.receive.buffer.bytes", "socket.request.max.bytes",
    "socket.send.buffer.bytes", "ssl.allow.dn.changes", "ssl.allow.san.changes",
    "ssl.cipher.suites", "ssl.client.auth", "ssl.enabled.protocols",
    "ssl.endpoint.identification.algorithm", "ssl.engine.factory.class", "ssl.key.password",
    "ssl.keymanager.algorithm", "ssl.keystore.certificate.chain", "ssl.keystore.key",
    "ssl.keystore.location", "ssl.keystore.password", "ssl.keystore.type",
    "ssl.principal.mapping.rules", "ssl.protocol", "ssl.provider",
    "ssl.secure.random.implementation", "ssl.trustmanager.algorithm",
    "ssl.truststore.certificates", "ssl.truststore.location", "ssl.truststore.password",
    "ssl.truststore.type", "super.users", "telemetry.max.bytes",
    "transaction.abort.timed.out.transaction.cleanup.interval.ms", "transaction.max.timeout.ms",
    "transaction.partition.verification.enable",
    "transaction.remove.expired.transaction.cleanup.interval.ms",
    "transaction.state.log.load.buffer.size", "transaction.state.log.min.isr",
    "transaction.state.log.num.partitions", "transaction.state.log.replication.factor",
    "transaction.state.log.segment.bytes", "transaction.two.phase.commit.enable",
    "transactional.id.expiration.ms", "unclean.leader.election.enable",
    "unclean.leader.election.interval.ms", "unstable.api.versions.enable",
    "unstable.feature.versions.enable", "unstable.metadata.versions.enable",
    "zookeeper.clientCnxnSocket", "zookeeper.connect", "zookeeper.connection.timeout.ms",
    "zookeeper.max.in.flight.requests", "zookeeper.metadata.migration.enable",
    "zookeeper.metadata.migration.min.batch.size", "zookeeper.session.timeout.ms",
    "zookeeper.set.acl", "zookeeper.ssl.cipher.suites", "zookeeper.ssl.client.enable",
    "zookeeper.ssl.crl.enable", "zookeeper.ssl.enabled.protocols",
    "zookeeper.ssl.endpoint.identification.algorithm", "zookeeper.ssl.keystore.location",
    "zookeeper.ssl.keystore.password", "zookeeper.ssl.keystore.type", "zookeeper.ssl.ocsp.enable",
    "zookeeper.ssl.protocol", "zookeeper.ssl.truststore.location",
    "zookeeper.ssl.truststore.password", "zookeeper.ssl.truststore.type",
    "zookeeper.sync.time.ms",
};

/* Families accepted by prefix: per-listener overrides, vendor and plugin
 * namespaces, and config groups whose member names change between Kafka
 * releases. */
static const struct {
    const char *prefix;
    const char *why;
} prefixes[] = {
    { "listener.name.", "per-listener overrides are not implemented; the broker-wide value applies" },
    { "confluent.", "Confluent Platform key" },
    { "kafka.metrics.", "Yammer metrics reporter key" },
    { "metrics.context.", "metrics context label" },
    { "config.providers.", "config provider settings (${provider:...} values are not expanded)" },
    { "rlmm.config.", "remote log metadata manager setting" },
    { "rsm.config.", "remote storage manager setting" },
    { "sasl.oauthbearer.", "SASL/OAUTHBEARER setting" },
    { "share.coordinator.", "share group (KIP-932) setting" },
    { "group.share.", "share group (KIP-932) setting" },
    { "group.streams.", "streams group (KIP-1071) setting" },
};

/* The keys above that Kafka updates dynamically (its "dynamic update mode"
 * column; DynamicBrokerConfig.AllDynamicConfigs) and Samsa does not
 * implement.  AlterConfigs stores them, as Kafka would, and DescribeConfigs
 * returns them; nothing acts on them (a warning says so).  Every key not
 * here nor in the broker table is read-only in Kafka.  Sorted by strcmp. */
#define CW CFG_KDYN_CLUSTER_WIDE
#define PB CFG_KDYN_PER_BROKER
#define LS CFG_KDYN_LISTENER_ONLY
#define LIST CFG_KDYN_LIST
static const struct kafka_dyn {
    const char *name;
    int flags;
} kafka_dynamic[] = {
    { "background.threads", CW },
    { "config.providers", CW | LIST },
    { "log.cleaner.io.buffer.load.factor", CW },
    { "log.cleaner.io.buffer.size", CW },
    { "log.cleaner.io.max.bytes.per.second", CW },
    { "max.connection.creation.rate", CW },
    { "metric.reporters", CW | LIST },
    { "principal.builder.class", PB },
    { "remote.fetch.max.wait.ms", CW },
    { "remote.list.offsets.request.timeout.ms", CW },
    { "remote.log.index.file.cache.total.size.bytes", CW },
    { "remote.log.manager.copier.thread.pool.size", CW },
    { "remote.log.manager.copy.max.bytes.per.second", CW },
    { "remote.log.manager.expiration.thread.pool.size", CW },
    { "remote.log.manager.fetch.max.bytes.per.second", CW },
    { "remote.log.manager.follower.thread.pool.size", CW },
    { "remote.log.reader.threads", CW },
    { "replica.alter.log.dirs.io.max.bytes.per.second", CW },
    { "sasl.jaas.config", PB },
    { "sasl.kerberos.kinit.cmd", PB },
    { "sasl.kerberos.min.time.before.relogin", PB },
    { "sasl.kerberos.principal.to.local.rules", PB | LIST },
    { "sasl.kerberos.service.name", PB },
    { "sasl.kerberos.ticket.renew.jitter", PB },
    { "sasl.kerberos.ticket.renew.window.factor", PB },
    { "sasl.login.refresh.buffer.seconds", PB },
    { "sasl.login.refresh.min.period.seconds", PB },
    { "sasl.login.refresh.window.factor", PB },
    { "sasl.login.refresh.window.jitter", PB },
    { "ssl.engine.factory.class", PB },
    { "ssl.keymanager.algorithm", PB },
    { "ssl.provider", PB },
    { "ssl.secure.random.implementation", PB },
    { "ssl.trustmanager.algorithm", PB },
};
#undef CW
#undef PB
#undef LS
#undef LIST

static int cmp_dyn(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, ((const struct kafka_dyn *)b)->name);
}

/* Listener configs Kafka keeps cluster-wide even behind listener.name.<l>. */
static bool cluster_level_listener_key(const char *base)
{
    return !strcmp(base, "max.connections") || !strcmp(base, "max.connection.creation.rate") ||
           !strcmp(base, "num.network.threads");
}

int cfg_kafka_dynamic(const char *key)
{
    static const char lp[] = "listener.name.";
    if (!strncmp(key, lp, sizeof lp - 1)) {
        /* listener.name.<listener>.<config>: Kafka takes any of these
         * dynamically, per broker unless the config is cluster-level. */
        const char *dot = strchr(key + sizeof lp - 1, '.');
        if (!dot || dot == key + sizeof lp - 1 || !dot[1])
            return CFG_KDYN_NONE;
        return cluster_level_listener_key(dot + 1) ? CFG_KDYN_CLUSTER_WIDE : CFG_KDYN_PER_BROKER;
    }
    const struct kafka_dyn *d = bsearch(&key, kafka_dynamic, sizeof kafka_dynamic / sizeof *kafka_dynamic,
                                        sizeof *kafka_dynamic, cmp_dyn);
    return d ? d->flags : CFG_KDYN_NONE;
}

const char *cfg_kafka_dynamic_at(size_t i)
{
    return i < sizeof kafka_dynamic / sizeof *kafka_dynamic ? kafka_dynamic[i].name : NULL;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int cfg_kafka_known(const char *key, const char **why)
{
    *why = NULL;
    if (bsearch(&key, kafka_keys, sizeof kafka_keys / sizeof *kafka_keys, sizeof *kafka_keys,
                cmp_key))
        return CFG_KNOWN_KAFKA;
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        size_t pl = strlen(prefixes[i].prefix);
        if (!strncmp(key, prefixes[i].prefix, pl) && key[pl]) {
            *why = prefixes[i].why;
            return CFG_KNOWN_PREFIX;
        }
    }
    return CFG_KNOWN_NONE;
}

void cfg_kafka_foreach(void (*fn)(const char *name, void *arg), void *arg)
{
    for (size_t i = 0; i < sizeof kafka_keys / sizeof *kafka_keys; i++)
        fn(kafka_keys[i], arg);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t ls = strlen(s), lx = strlen(suffix);
    return ls >= lx && !strcmp(s + ls - lx, suffix);
}

bool cfg_key_is_sensitive(const char *key)
{
    static const char *const suffixes[] = {
        "password", ".secret", ".secret.key", ".master.key", "sasl.jaas.config",
        "ssl.keystore.key", "ssl.keystore.certificate.chain", "ssl.truststore.certificates",
    };
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++)
        if (ends_with(key, suffixes[i]))
            return true;
    return false;
}
