/*
 * config_topic.c - topic-level configs: the table, validation, the
 * IncrementalAlterConfigs edit helpers, DescribeConfigs for a topic and
 * the effective typed settings of a topic.
 *
 * Each topic row names its broker synonyms in Kafka's order (most
 * specific first), e.g. retention.ms <- log.retention.ms,
 * log.retention.minutes, log.retention.hours.  A topic without an
 * override for a key gets the broker's effective value for it, in the
 * topic key's units (retention.ms from log.retention.hours is in ms).
 * The row's Kafka default is only what Kafka documents; the broker's
 * value always wins because every broker synonym has a default.
 *
 * DescribeConfigs (Kafka's rules): an override has source
 * DYNAMIC_TOPIC_CONFIG; otherwise the source is that of the first
 * synonym: DYNAMIC_BROKER_CONFIG or DYNAMIC_DEFAULT_BROKER_CONFIG if a
 * dynamic broker layer sets it, STATIC_BROKER_CONFIG if set in the file,
 * else DEFAULT_CONFIG.  Synonyms list the override, then the broker
 * synonyms layer by layer (per-broker dynamic, cluster-default dynamic,
 * static, default), like Kafka's ConfigHelper.
 *
 * Pure functions over their arguments; see config.h for ownership.
 */
#include "config/config_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/errors.h"

#define F(field) .off = offsetof(struct topic_settings, field)
#define NOF .off = CFG_NOFIELD
#define K(nm, t, d) .name = (nm), .type = CFG_T_##t, .dflt = (d)
#define R(lo, hi) .has_range = 1, .min = (lo), .max = (hi)
#define MIN(lo) R((lo), INT64_MAX)
#define DR(lo, hi) .has_range = 1, .dmin = (lo), .dmax = (hi)
#define SYN(...) .syn = { __VA_ARGS__ }
#define CW .mode = CFG_CLUSTER_WIDE

#define LONG_MAX_S "9223372036854775807"

static const char *const compression_types[] = { "uncompressed", "zstd", "lz4", "snappy", "gzip",
                                                  "producer", NULL };
static const char *const timestamp_types[] = { "CreateTime", "LogAppendTime", NULL };
static const char *const cleanup_policies[] = { "compact", "delete", NULL };

static void land_cleanup(void *f, const char *v)
{
    char **items;
    size_t n;
    uint8_t bits = 0;
    if (cfg_split_list(v, &items, &n) == 0) {
        for (size_t i = 0; i < n; i++)
            bits |= !strcmp(items[i], "delete") ? CFG_CLEANUP_DELETE
                  : !strcmp(items[i], "compact") ? CFG_CLEANUP_COMPACT : 0;
        cfg_strv_free(items, n);
    }
    *(uint8_t *)f = bits;
}

static void land_compression(void *f, const char *v)
{
    static const struct { const char *name; int8_t id; } map[] = {
        { "producer", CFG_COMPRESSION_PRODUCER }, { "uncompressed", CFG_COMPRESSION_NONE },
        { "gzip", CFG_COMPRESSION_GZIP }, { "snappy", CFG_COMPRESSION_SNAPPY },
        { "lz4", CFG_COMPRESSION_LZ4 }, { "zstd", CFG_COMPRESSION_ZSTD },
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (!strcmp(v, map[i].name))
            *(int8_t *)f = map[i].id;
}

static void land_ts_type(void *f, const char *v)
{
    *(int8_t *)f = !strcmp(v, "LogAppendTime") ? CFG_TS_LOG_APPEND_TIME : CFG_TS_CREATE_TIME;
}

static int check_gzip_level(const char *v, char *why, size_t n)
{
    int64_t x;
    if (cfgv_parse_i64(v, &x) == 0 && (x == -1 || (x >= 1 && x <= 9)))
        return 0;
    snprintf(why, n, "out of range (expected int in [1, 9] or -1)");
    return -1;
}

static int check_remote(const char *v, char *why, size_t n)
{
    if (strcmp(v, "true"))
        return 0;
    snprintf(why, n, "tiered storage is not supported by Samsa");
    return -1;
}

/* "*" or PARTITION:BROKER[,...] */
static int check_throttled(const char *v, char *why, size_t n)
{
    char **items;
    size_t ni;
    int rc = 0;
    if (cfg_split_list(v, &items, &ni) < 0) {
        snprintf(why, n, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < ni && !rc; i++) {
        int64_t a, b;
        char *c = strchr(items[i], ':');
        if (!strcmp(items[i], "*") && ni == 1)
            continue;
        if (c)
            *c = 0;
        if (!c || cfgv_parse_i64(items[i], &a) || cfgv_parse_i64(c + 1, &b) || a < 0 || b < 0) {
            snprintf(why, n, "expected * or PARTITION:BROKER[,...]");
            rc = -1;
        }
    }
    cfg_strv_free(items, ni);
    return rc;
}

const struct cfg_def cfg_topic_defs[] = {
    { K("cleanup.policy", LIST, "delete"), CW, F(cleanup_policy), .land = land_cleanup,
      .enums = cleanup_policies, SYN("log.cleanup.policy"),
      .doc = "delete old segments (retention), compact to the latest value per key, or both." },
    { K("compression.type", STRING, "producer"), CW, F(compression_type), .land = land_compression,
      .enums = compression_types, SYN("compression.type"),
      .doc = "Final compression of the topic's batches; producer keeps what the producer sent." },
    { K("compression.gzip.level", INT, "-1"), CW, F(compression_gzip_level),
      .check = check_gzip_level, .valid = "[1, 9] or -1", SYN("compression.gzip.level"),
      .doc = "gzip level when compression.type=gzip." },
    { K("compression.lz4.level", INT, "9"), R(1, 17), CW, F(compression_lz4_level),
      SYN("compression.lz4.level"), .doc = "lz4 level when compression.type=lz4." },
    { K("compression.zstd.level", INT, "3"), R(-131072, 22), CW, F(compression_zstd_level),
      SYN("compression.zstd.level"), .doc = "zstd level when compression.type=zstd." },
    { K("delete.retention.ms", LONG, "86400000"), MIN(0), CW, F(delete_retention_ms),
      SYN("log.cleaner.delete.retention.ms"), .doc = "How long tombstones stay in a compacted topic." },
    { K("file.delete.delay.ms", LONG, "60000"), MIN(0), CW, F(file_delete_delay_ms),
      SYN("log.segment.delete.delay.ms"), .doc = "Delay before a deleted segment's files are removed." },
    { K("flush.messages", LONG, LONG_MAX_S), MIN(1), CW, F(flush_messages),
      SYN("log.flush.interval.messages"), .doc = "fsync after this many records." },
    { K("flush.ms", LONG, LONG_MAX_S), MIN(0), CW, F(flush_ms), .derive = CFG_DERIVE_FLUSH,
      SYN("log.flush.interval.ms", "log.flush.scheduler.interval.ms"),
      .doc = "fsync when the oldest unflushed record is this old." },
    { K("follower.replication.throttled.replicas", LIST, ""), CW, NOF, .check = check_throttled,
      .valid = "* or PARTITION:BROKER[,...]",
      .doc = "Replicas whose follower-side replication is throttled.",
      .note = "Accepted; no replication throttling yet." },
    { K("index.interval.bytes", INT, "4096"), MIN(0), CW, F(index_interval_bytes),
      SYN("log.index.interval.bytes"), .doc = "Bytes of records between two offset-index entries." },
    { K("leader.replication.throttled.replicas", LIST, ""), CW, NOF, .check = check_throttled,
      .valid = "* or PARTITION:BROKER[,...]",
      .doc = "Replicas whose leader-side replication is throttled.",
      .note = "Accepted; no replication throttling yet." },
    { K("local.retention.bytes", LONG, "-2"), MIN(-2), CW, F(local_retention_bytes),
      SYN("log.local.retention.bytes"), .doc = "Tiered storage: local size limit; -2 = retention.bytes." },
    { K("local.retention.ms", LONG, "-2"), MIN(-2), CW, F(local_retention_ms),
      SYN("log.local.retention.ms"), .doc = "Tiered storage: local time limit; -2 = retention.ms." },
    { K("max.compaction.lag.ms", LONG, LONG_MAX_S), MIN(1), CW, F(max_compaction_lag_ms),
      SYN("log.cleaner.max.compaction.lag.ms"), .doc = "Maximum time a record stays uncompacted." },
    { K("max.message.bytes", INT, "1048588"), MIN(0), CW, F(max_message_bytes),
      SYN("message.max.bytes"), .doc = "Largest record batch accepted (after compression)." },
    { K("message.downconversion.enable", BOOLEAN, "true"), CW, F(message_downconversion_enable),
      SYN("log.message.downconversion.enable"), .doc = "Down-convert for old fetch versions.",
      .note = "Samsa serves record batch v2 only." },
    { K("message.format.version", STRING, "3.0-IV1"), CW, NOF, SYN("log.message.format.version"),
      .doc = "Deprecated message format version.", .note = "Accepted and ignored." },
    { K("message.timestamp.after.max.ms", LONG, LONG_MAX_S), MIN(0), CW,
      F(timestamp_after_max_ms), SYN("log.message.timestamp.after.max.ms"),
      .doc = "With CreateTime, reject timestamps further than this in the future." },
    { K("message.timestamp.before.max.ms", LONG, LONG_MAX_S), MIN(0), CW,
      F(timestamp_before_max_ms), SYN("log.message.timestamp.before.max.ms"),
      .doc = "With CreateTime, reject timestamps further than this in the past." },
    { K("message.timestamp.difference.max.ms", LONG, LONG_MAX_S), MIN(0), CW,
      F(timestamp_difference_max_ms), SYN("log.message.timestamp.difference.max.ms"),
      .doc = "Deprecated: default for the before/after limits left at their default." },
    { K("message.timestamp.type", STRING, "CreateTime"), CW, F(timestamp_type),
      .land = land_ts_type, .enums = timestamp_types, SYN("log.message.timestamp.type"),
      .doc = "CreateTime (producer's timestamp) or LogAppendTime (broker's clock)." },
    { K("min.cleanable.dirty.ratio", DOUBLE, "0.5"), DR(0, 1), CW, F(min_cleanable_dirty_ratio),
      SYN("log.cleaner.min.cleanable.ratio"), .doc = "Dirty ratio that makes the log eligible for compaction." },
    { K("min.compaction.lag.ms", LONG, "0"), MIN(0), CW, F(min_compaction_lag_ms),
      SYN("log.cleaner.min.compaction.lag.ms"), .doc = "Minimum age of a record before compaction." },
    { K("min.insync.replicas", INT, "1"), MIN(1), CW, F(min_insync_replicas),
      SYN("min.insync.replicas"), .doc = "Replicas that must have a write for acks=all." },
    { K("preallocate", BOOLEAN, "false"), CW, F(preallocate), SYN("log.preallocate"),
      .doc = "Preallocate new segment files." },
    { K("remote.storage.enable", BOOLEAN, "false"), CW, F(remote_storage_enable),
      .check = check_remote, .valid = "false",
      .doc = "Tiered storage for this topic.", .note = "Not supported: true is rejected." },
    { K("retention.bytes", LONG, "-1"), CW, F(retention_bytes), SYN("log.retention.bytes"),
      .doc = "Delete old segments while a partition is larger than this; -1 = no limit." },
    { K("retention.ms", LONG, "604800000"), MIN(-1), CW, F(retention_ms),
      .derive = CFG_DERIVE_RETENTION,
      SYN("log.retention.ms", "log.retention.minutes", "log.retention.hours"),
      .doc = "Delete segments older than this; -1 = no time limit." },
    { K("segment.bytes", INT, "1073741824"), MIN(14), CW, F(segment_bytes), SYN("log.segment.bytes"),
      .doc = "Segment file size." },
    { K("segment.index.bytes", INT, "10485760"), MIN(4), CW, F(segment_index_bytes),
      SYN("log.index.size.max.bytes"), .doc = "Maximum offset-index size per segment." },
    { K("segment.jitter.ms", LONG, "0"), MIN(0), CW, F(segment_jitter_ms),
      .derive = CFG_DERIVE_JITTER, SYN("log.roll.jitter.ms", "log.roll.jitter.hours"),
      .doc = "Random jitter subtracted from segment.ms." },
    { K("segment.ms", LONG, "604800000"), MIN(1), CW, F(segment_ms), .derive = CFG_DERIVE_ROLL,
      SYN("log.roll.ms", "log.roll.hours"), .doc = "Roll a segment this long after its first record." },
    { K("unclean.leader.election.enable", BOOLEAN, "false"), CW,
      F(unclean_leader_election_enable), SYN("unclean.leader.election.enable"),
      .doc = "Allow an out-of-sync replica to become leader." },
};

const size_t cfg_topic_ndefs = sizeof cfg_topic_defs / sizeof *cfg_topic_defs;

int cfg_topic_find(const char *name)
{
    for (size_t i = 0; i < cfg_topic_ndefs; i++)
        if (!strcmp(cfg_topic_defs[i].name, name))
            return (int)i;
    return -1;
}

bool topic_cfg_is_known(const char *key)
{
    return cfg_topic_find(key) >= 0;
}

/* ---- override sets ---- */

void topic_overrides_init(struct topic_overrides *o)
{
    memset(o, 0, sizeof *o);
}

void topic_overrides_free(struct topic_overrides *o)
{
    for (size_t i = 0; i < o->n; i++) {
        free(o->v[i].key);
        free(o->v[i].value);
    }
    free(o->v);
    memset(o, 0, sizeof *o);
}

static const char *kv_get(const cfg_kv *kv, size_t n, const char *key)
{
    const char *v = NULL;
    for (size_t i = 0; i < n; i++)
        if (kv[i].key && !strcmp(kv[i].key, key))
            v = kv[i].value;        /* the last one wins */
    return v;
}

const char *topic_overrides_get(const struct topic_overrides *o, const char *key)
{
    return kv_get(o->v, o->n, key);
}

int topic_overrides_put(struct topic_overrides *o, const char *key, const char *value)
{
    if (!value) {
        topic_overrides_del(o, key);
        return 0;
    }
    char *v = cfg_strdup(value);
    if (!v)
        return KERR__NOMEM;
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].key, key)) {
            free(o->v[i].value);
            o->v[i].value = v;
            return 0;
        }
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 8;
        cfg_kv *nv = realloc(o->v, nc * sizeof *nv);
        if (!nv) {
            free(v);
            return KERR__NOMEM;
        }
        o->v = nv;
        o->cap = nc;
    }
    char *k = cfg_strdup(key);
    if (!k) {
        free(v);
        return KERR__NOMEM;
    }
    o->v[o->n++] = (cfg_kv){ k, v };
    return 0;
}

bool topic_overrides_del(struct topic_overrides *o, const char *key)
{
    for (size_t i = 0; i < o->n; i++)
        if (!strcmp(o->v[i].key, key)) {
            free(o->v[i].key);
            free(o->v[i].value);
            memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof *o->v);
            o->n--;
            return true;
        }
    return false;
}

int topic_overrides_assign(struct topic_overrides *dst, const cfg_kv *kv, size_t n)
{
    struct topic_overrides t;
    topic_overrides_init(&t);
    for (size_t i = 0; i < n; i++)
        if (topic_overrides_put(&t, kv[i].key, kv[i].value)) {
            topic_overrides_free(&t);
            return KERR__NOMEM;
        }
    topic_overrides_free(dst);
    *dst = t;
    return 0;
}

/* ---- validation ---- */

static int bad_value(const char *key, const char *value, const char *why, char *err, size_t errlen)
{
    snprintf(err, errlen, "Invalid value %s for configuration %s: %s", value, key, why);
    return KERR_INVALID_CONFIG;
}

int topic_cfg_validate(const char *key, const char *value, char *err, size_t errlen)
{
    char why[512];
    int i = cfg_topic_find(key);
    if (i < 0) {
        snprintf(err, errlen, "Unknown topic config name: %s", key);
        return KERR_INVALID_CONFIG;
    }
    if (!value)
        return bad_value(key, "null", "a value is required", err, errlen);
    if (cfgv_check(&cfg_topic_defs[i], value, why, sizeof why) < 0)
        return bad_value(key, value, why, err, errlen);
    return 0;
}

/* The broker's value for topic row d, in the topic key's units. */
static const char *broker_default(const struct broker_config *cfg, const struct cfg_def *d,
                                  char *buf, size_t n)
{
    int64_t v;
    switch (d->derive) {
    case CFG_DERIVE_RETENTION: v = cfg->retention_ms; break;
    case CFG_DERIVE_ROLL: v = cfg->roll_ms; break;
    case CFG_DERIVE_JITTER: v = cfg->roll_jitter_ms; break;
    case CFG_DERIVE_FLUSH: v = cfg->flush_ms; break;
    default: {
        const char *s = d->syn[0] ? cfg_broker_value(cfg, d->syn[0]) : NULL;
        return s ? s : d->dflt;
    }
    }
    snprintf(buf, n, "%lld", (long long)v);
    return buf;
}

int topic_cfg_effective(const struct broker_config *cfg, const cfg_kv *kv, size_t n,
                        struct topic_settings *out, char *err, size_t errlen)
{
    char buf[32], why[512];
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < cfg_topic_ndefs; i++) {
        const struct cfg_def *d = &cfg_topic_defs[i];
        const char *ov = kv_get(kv, n, d->name);
        const char *v = ov ? ov : broker_default(cfg, d, buf, sizeof buf);
        if (cfgv_check(d, v, why, sizeof why) < 0) {
            if (ov)
                return bad_value(d->name, v, why, err, errlen);
            v = d->dflt;            /* broker value unusable here: Kafka's default */
        }
        char *c = cfgv_canonical(d, v);
        if (!c) {
            snprintf(err, errlen, "out of memory");
            return KERR__NOMEM;
        }
        cfgv_land(d, c, out);
        free(c);
    }
    out->compact = out->cleanup_policy & CFG_CLEANUP_COMPACT;
    out->delete_ = out->cleanup_policy & CFG_CLEANUP_DELETE;
    if (out->timestamp_before_max_ms == INT64_MAX)
        out->timestamp_before_max_ms = out->timestamp_difference_max_ms;
    if (out->timestamp_after_max_ms == INT64_MAX)
        out->timestamp_after_max_ms = out->timestamp_difference_max_ms;
    return 0;
}

int topic_cfg_validate_set(const struct broker_config *cfg, const cfg_kv *kv, size_t n,
                           char *err, size_t errlen)
{
    int rc;
    for (size_t i = 0; i < n; i++)
        if ((rc = topic_cfg_validate(kv[i].key, kv[i].value, err, errlen)))
            return rc;
    struct topic_settings ts;
    if ((rc = topic_cfg_effective(cfg, kv, n, &ts, err, errlen)))
        return rc;
    if (ts.min_compaction_lag_ms > ts.max_compaction_lag_ms) {
        snprintf(err, errlen,
                 "conflicting topic configs: min.compaction.lag.ms (%lld) > max.compaction.lag.ms (%lld)",
                 (long long)ts.min_compaction_lag_ms, (long long)ts.max_compaction_lag_ms);
        return KERR_INVALID_CONFIG;
    }
    return 0;
}

/* ---- IncrementalAlterConfigs ---- */

static bool in_items(char **items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(items[i], s))
            return true;
    return false;
}

char *cfg_list_edit(const char *current, const char *value, bool append)
{
    char **cur = NULL, **ops = NULL, *out = NULL;
    size_t nc = 0, no = 0, len = 1;
    if (cfg_split_list(current, &cur, &nc) < 0 || cfg_split_list(value, &ops, &no) < 0)
        goto done;
    for (size_t i = 0; i < nc; i++)
        len += strlen(cur[i]) + 1;
    for (size_t i = 0; i < no; i++)
        len += strlen(ops[i]) + 1;
    if (!(out = malloc(len)))
        goto done;
    size_t off = 0;
    out[0] = 0;
    for (size_t i = 0; i < nc; i++) {
        if (!cur[i][0] || (!append && in_items(ops, no, cur[i])) || in_items(cur, i, cur[i]))
            continue;
        off += (size_t)snprintf(out + off, len - off, "%s%s", off ? "," : "", cur[i]);
    }
    for (size_t i = 0; append && i < no; i++) {
        if (!ops[i][0] || in_items(cur, nc, ops[i]) || in_items(ops, i, ops[i]))
            continue;
        off += (size_t)snprintf(out + off, len - off, "%s%s", off ? "," : "", ops[i]);
    }
done:
    cfg_strv_free(cur, nc);
    cfg_strv_free(ops, no);
    return out;
}

int topic_cfg_alter(const struct broker_config *cfg, struct topic_overrides *o, const char *key,
                    int op, const char *value, char *err, size_t errlen)
{
    char buf[32];
    int i = cfg_topic_find(key), rc = 0;
    if (i < 0) {
        snprintf(err, errlen, "Unknown topic config name: %s", key);
        return KERR_INVALID_CONFIG;
    }
    const struct cfg_def *d = &cfg_topic_defs[i];
    struct topic_overrides t;
    topic_overrides_init(&t);
    if (topic_overrides_assign(&t, o->v, o->n))
        return KERR__NOMEM;
    char *nv = NULL;
    switch (op) {
    case CFG_OP_SET:
        if ((rc = topic_cfg_validate(key, value, err, errlen)))
            goto out;
        nv = cfgv_canonical(d, value);
        break;
    case CFG_OP_DELETE:
        topic_overrides_del(&t, key);
        break;
    case CFG_OP_APPEND:
    case CFG_OP_SUBTRACT: {
        if (d->type != CFG_T_LIST) {
            snprintf(err, errlen, "Config value %s is not allowed for config key: %s",
                     op == CFG_OP_APPEND ? "append" : "subtract", key);
            rc = KERR_INVALID_CONFIG;
            goto out;
        }
        const char *cur = topic_overrides_get(&t, key);
        if (!cur)
            cur = broker_default(cfg, d, buf, sizeof buf);
        nv = cfg_list_edit(cur ? cur : "", value ? value : "", op == CFG_OP_APPEND);
        if (nv && (rc = topic_cfg_validate(key, nv, err, errlen)))
            goto out;
        break;
    }
    default:
        snprintf(err, errlen, "Unknown config operation %d for %s", op, key);
        rc = KERR_INVALID_REQUEST;
        goto out;
    }
    if (op != CFG_OP_DELETE && (!nv || topic_overrides_put(&t, key, nv))) {
        snprintf(err, errlen, "out of memory");
        rc = KERR__NOMEM;
        goto out;
    }
    if ((rc = topic_cfg_validate_set(cfg, t.v, t.n, err, errlen)))
        goto out;
    topic_overrides_free(o);
    *o = t;
    t.v = NULL;
    t.n = t.cap = 0;
out:
    free(nv);
    topic_overrides_free(&t);
    return rc;
}

/* ---- DescribeConfigs ---- */

int topic_cfg_describe(const struct broker_config *cfg, const cfg_kv *kv, size_t n,
                       const char *const *keys, size_t nkeys, struct cfg_description *out)
{
    char buf[32];
    out->n = 0;
    out->v = calloc(cfg_topic_ndefs, sizeof *out->v);
    if (!out->v)
        return KERR__NOMEM;
    for (size_t i = 0; i < cfg_topic_ndefs; i++) {
        const struct cfg_def *d = &cfg_topic_defs[i];
        bool want = !keys;
        for (size_t k = 0; k < nkeys && !want; k++)
            want = keys[k] && !strcmp(keys[k], d->name);
        if (!want)
            continue;
        struct cfg_entry *e = &out->v[out->n++];
        const char *ov = kv_get(kv, n, d->name);
        const char *v = ov ? ov : broker_default(cfg, d, buf, sizeof buf);
        e->name = d->name;
        e->config_type = (int8_t)d->type;
        e->doc = d->doc;
        if (v && !(e->value = cfg_strdup(v)))
            goto oom;
        if (ov && cfg_entry_add_synonym(e, d->name, ov, CFG_SRC_DYNAMIC_TOPIC, false) < 0)
            goto oom;
        if (cfg_broker_synonyms_of(cfg, d->syn, 3, CFG_SYN_ALL, e) < 0)
            goto oom;
        e->source = e->nsynonyms ? e->synonyms[0].source : CFG_SRC_DEFAULT;
    }
    return 0;
oom:
    cfg_description_free(out);
    return KERR__NOMEM;
}
