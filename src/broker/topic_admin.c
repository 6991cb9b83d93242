/*
 * topic_admin.c - creating, deleting, growing and reconfiguring topics,
 * and producer-id blocks.  Runs on the admin thread only (admin.h), which
 * makes it the single writer of cluster metadata.
 *
 * Durability order:
 *   create  partition dirs first, then the metadata file, then publish.
 *           A crash in between leaves directories no topic names; they are
 *           reported at startup and replaced if the topic is created again.
 *   delete  unpublish, metadata file, then rename the dirs for deletion.
 *           A crash in between leaves dirs the metadata no longer names.
 *   grow    new dirs, metadata, then publish the larger partition array.
 *   configs metadata, then the live logs.
 * samsa-metadata.json is the source of truth.  If it does not exist at all
 * (a fresh install, or data written by another tool), every partition
 * directory found is adopted as a topic, with its id from
 * partition.metadata.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/broker.h"
#include "broker/cluster_topics.h"
#include "config/config.h"
#include "server/delayed.h"
#include "server/net_threads.h"
#include "server/server_tls.h"
#include "cluster/metadata.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator.h"
#include "txn/txn_coordinator.h"
#include "storage/log_manager.h"

#define MAX_PARTITIONS_PER_TOPIC CFG_MAX_PARTITIONS_PER_TOPIC
#define PRODUCER_ID_BLOCK 1000

/* --------------------------------------------------------------- helpers */

static void on_flushed(void *owner, int64_t flushed_offset)
{
    (void)flushed_offset;
    partition_notify(owner);
}

void topic_admin_attach_partition(broker *b, partition *p)
{
    log_manager_set_flush_callback(b->logs, p->log, on_flushed, p);
}

static void free_states(partition_state **v, int32_t n)
{
    for (int32_t i = 0; v && i < n; i++)
        pstate_unref(v[i]);
    free(v);
}

/* Snapshot of every live topic (plus optional changes) for the store. */
static int save_metadata(broker *b, const topic *skip, const topic *extra, char *msg, size_t msglen)
{
    topic **list = NULL;
    int n = topic_registry_list(&b->topics, &list);
    if (n < 0) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    meta_state st = { 0 };
    st.topics = calloc((size_t)n + 2, sizeof *st.topics);
    int rc = -1;
    if (!st.topics) {
        snprintf(msg, msglen, "out of memory");
        goto out;
    }
    topic_registry_rdlock(&b->topics);
    for (int i = 0; i <= n; i++) {
        const topic *t = i < n ? list[i] : extra;
        if (!t || t == skip)
            continue;
        meta_topic *m = &st.topics[st.ntopics++];
        m->name = t->name;                 /* borrowed for the save */
        m->id = t->id;
        m->partitions = topic_nparts(t);
        m->internal = t->internal;
        m->configs = t->configs;
        m->nconfigs = t->nconfigs;
    }
    topic_registry_unlock(&b->topics);
    topic_kv *dd = calloc(b->dyn_default->n + 1, sizeof *dd);
    topic_kv *db = calloc(b->dyn_broker->n + 1, sizeof *db);
    if (!dd || !db) {
        free(dd);
        free(db);
        snprintf(msg, msglen, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < b->dyn_default->n; i++)
        dd[i] = (topic_kv){ b->dyn_default->v[i].key, b->dyn_default->v[i].value };
    for (size_t i = 0; i < b->dyn_broker->n; i++)
        db[i] = (topic_kv){ b->dyn_broker->v[i].key, b->dyn_broker->v[i].value };
    st.broker_default = (meta_kvs){ dd, (int)b->dyn_default->n };
    st.broker_own = (meta_kvs){ db, (int)b->dyn_broker->n };
    char err[512];
    rc = md_store(b->md, &st, err, sizeof err);
    if (rc < 0) {
        LOG_ERR("admin", "%s", err);
        snprintf(msg, msglen, "could not persist metadata: %s", err);
    }
    free(dd);
    free(db);
out:
    free(st.topics);              /* entries are borrowed: not meta_state_free */
    topic_registry_list_free(list, n);
    return rc;
}

/* The starting state of partitions [from, from+n) of m, from the metadata
 * store; NULL when out of memory (the references are released). */
static partition_state **initial_states(broker *b, const meta_topic *m, int32_t from, int32_t n)
{
    partition_state **v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    for (int32_t i = 0; v && i < n; i++) {
        if (!(v[i] = md_partition_state(b->md, m, from + i))) {
            free_states(v, i);
            return NULL;
        }
    }
    return v;
}

/* Replicas for a new topic: this broker first (it leads what it creates),
 * then the other live brokers by id; NULL for rf 1 (the local shape) or
 * when out of memory. */
static int32_t *assign_replicas(broker *b, int32_t partitions, int16_t rf)
{
    if (rf <= 1)
        return NULL;
    md_brokers *live = md_live_brokers(b->md);
    int32_t *v = live ? calloc((size_t)partitions * (size_t)rf, sizeof *v) : NULL;
    for (int32_t p = 0; v && p < partitions; p++) {
        int32_t *row = &v[(size_t)p * (size_t)rf];
        int k = 0;
        row[k++] = b->set.node_id;
        for (int i = 0; i < live->n && k < rf; i++)
            if (live->v[i].id != b->set.node_id)
                row[k++] = live->v[i].id;
    }
    md_brokers_unref(live);
    return v;
}

static bool collides(broker *b, const char *name, char *other, size_t cap)
{
    /* Kafka refuses topics whose names differ only in '.' vs '_' (they
     * clash in metric names). */
    topic **list = NULL;
    int n = topic_registry_list(&b->topics, &list);
    bool hit = false;
    for (int i = 0; i < n && !hit; i++) {
        const char *a = list[i]->name;
        if (strlen(a) != strlen(name) || !strcmp(a, name))
            continue;
        hit = true;
        for (size_t k = 0; a[k]; k++) {
            char x = a[k] == '.' ? '_' : a[k], y = name[k] == '.' ? '_' : name[k];
            if (x != y) {
                hit = false;
                break;
            }
        }
        if (hit)
            snprintf(other, cap, "%s", a);
    }
    if (n >= 0)
        topic_registry_list_free(list, n);
    return hit;
}

/* The topic's replication throttles for this broker, from its
 * leader/follower.replication.throttled.replicas overrides. */
void topic_admin_refresh_throttles(broker *b, topic *t)
{
    static const char *const keys[2] = { "leader.replication.throttled.replicas",
                                         "follower.replication.throttled.replicas" };
    for (int side = 0; side < 2; side++) {
        throttled_set *s = NULL;
        topic_registry_rdlock(&b->topics);
        for (int i = 0; i < t->nconfigs; i++)
            if (!strcmp(t->configs[i].key, keys[side]))
                s = throttled_set_parse(t->configs[i].value, b->set.node_id);
        topic_registry_unlock(&b->topics);
        if (!s && !atomic_load(&t->throttled[side]))
            continue;
        topic_set_throttled(t, side, s);
    }
}

void topic_admin_refresh_settings(broker *b, topic *t)
{
    topic_admin_refresh_throttles(b, t);
    log_config lc;
    int32_t min_isr = 1;
    char err[256];
    topic_registry_rdlock(&b->topics);
    int rc = log_config_for_overrides(broker_config_current(b), t->configs, t->nconfigs, &lc,
                                      &min_isr, err, sizeof err);
    topic_registry_unlock(&b->topics);
    if (rc) {
        LOG_WRN("admin", "topic %s: %s", t->name, err);
        return;
    }
    atomic_store(&t->min_insync_replicas, min_isr);
    for (int32_t i = 0; i < topic_nparts(t); i++) {
        partition *p = topic_partition(t, i);
        if (p && p->log)
            plog_set_config(p->log, &lc);
    }
}

static void delete_logs(broker *b, plog **logs, int n)
{
    for (int i = 0; i < n; i++) {
        if (!logs[i])
            continue;
        log_manager_delete_partition(b->logs, logs[i]);
        plog_unref(logs[i]);
    }
}

/* Create n partition logs [from, from+n).  An orphan directory with the
 * same name (left by a crash) is retired first. */
static int16_t create_logs(broker *b, const char *name, kuuid id, int32_t from, int32_t n,
                           const log_config *lc, plog **out, char *msg, size_t msglen)
{
    for (int32_t i = 0; i < n; i++) {
        plog *orphan = log_manager_get(b->logs, name, from + i);
        if (orphan) {
            LOG_WRN("admin", "replacing orphaned directory of %s-%d", name, from + i);
            log_manager_delete_partition(b->logs, orphan);
            plog_unref(orphan);
        }
        plog *l = NULL;
        int rc = log_manager_create_partition(b->logs, name, from + i, id, lc, &l);
        if (rc) {
            snprintf(msg, msglen, "cannot create partition %d: %s", from + i, kerr_name(rc));
            delete_logs(b, out, i);
            return KERR_KAFKA_STORAGE_ERROR;
        }
        out[i] = plog_ref(l);
    }
    return KERR_NONE;
}

/* ------------------------------------------------------------------ load */

typedef struct orphan_scan {
    broker *b;
    int norphans;
    bool adopt;
    meta_state *adopted;
} orphan_scan;

static void scan_orphan(void *ctx, const lm_partition_info *pi)
{
    orphan_scan *s = ctx;
    topic *t = topic_registry_get(&s->b->topics, pi->topic, strlen(pi->topic));
    if (t) {
        topic_unref(t);
        return;
    }
    if (!s->adopt) {
        s->norphans++;
        LOG_WRN("admin", "%s/%s-%d belongs to no known topic; left on disk, not served",
                pi->log_dir, pi->topic, pi->partition);
        return;
    }
    meta_state *st = s->adopted;
    for (int i = 0; i < st->ntopics; i++) {
        if (!strcmp(st->topics[i].name, pi->topic)) {
            if (pi->partition + 1 > st->topics[i].partitions)
                st->topics[i].partitions = pi->partition + 1;
            return;
        }
    }
    meta_topic *nt = realloc(st->topics, (size_t)(st->ntopics + 1) * sizeof *nt);
    if (!nt)
        return;
    st->topics = nt;
    st->topics[st->ntopics++] = (meta_topic){ .name = strdup(pi->topic), .id = pi->topic_id,
                                              .partitions = pi->partition + 1 };
}

static int load_topic(broker *b, const meta_topic *m, char *err, size_t errlen)
{
    kuuid id = kuuid_is_zero(m->id) ? kuuid_random() : m->id;
    topic *t = topic_new(m->name, strlen(m->name), id, m->internal);
    plog **logs = calloc((size_t)m->partitions, sizeof *logs);
    if (!t || !logs) {
        snprintf(err, errlen, "out of memory loading topic %s", m->name);
        free(logs);
        topic_unref(t);
        return -1;
    }
    for (int k = 0; k < m->nconfigs; k++)
        topic_config_set(t, m->configs[k].key, m->configs[k].value);
    log_config lc;
    int32_t min_isr = 1;
    char cerr[256];
    if (log_config_for_overrides(broker_config_current(b), t->configs, t->nconfigs, &lc, &min_isr,
                                 cerr, sizeof cerr))
        log_config_for_overrides(broker_config_current(b), NULL, 0, &lc, &min_isr, NULL, 0);
    atomic_store(&t->min_insync_replicas, min_isr);
    for (int32_t i = 0; i < m->partitions; i++) {
        logs[i] = log_manager_get(b->logs, m->name, i);
        if (!logs[i]) {
            LOG_WRN("admin", "partition %s-%d is missing on disk; recreating it empty", m->name, i);
            plog *l = NULL;
            if (log_manager_create_partition(b->logs, m->name, i, id, &lc, &l) != 0) {
                snprintf(err, errlen, "cannot recreate missing partition %s-%d", m->name, i);
                delete_logs(b, logs, 0);
                for (int32_t k = 0; k < i; k++)
                    plog_unref(logs[k]);
                free(logs);
                topic_unref(t);
                return -1;
            }
            logs[i] = plog_ref(l);
        } else if (!kuuid_is_zero(plog_topic_id(logs[i])) && !kuuid_eq(plog_topic_id(logs[i]), id)) {
            char a[23], c[23];
            kuuid_to_str(plog_topic_id(logs[i]), a);
            kuuid_to_str(id, c);
            LOG_WRN("admin", "%s-%d: partition.metadata topic id %s differs from metadata %s",
                    m->name, i, a, c);
        }
    }
    partition_state **states = initial_states(b, m, 0, m->partitions);
    if (!states || topic_grow(t, m->partitions, logs, states) < 0) {
        snprintf(err, errlen, "out of memory loading topic %s", m->name);
        free_states(states, m->partitions);
        for (int32_t k = 0; k < m->partitions; k++)
            plog_unref(logs[k]);
        free(logs);
        topic_unref(t);
        return -1;
    }
    free(states);
    free(logs);
    for (int32_t i = 0; i < m->partitions; i++)
        topic_admin_attach_partition(b, topic_partition(t, i));
    if (topic_registry_add(&b->topics, t) < 0) {
        snprintf(err, errlen, "duplicate topic %s in metadata", m->name);
        topic_unref(t);
        return -1;
    }
    return 0;
}

int topic_admin_load(broker *b, char *err, size_t errlen)
{
    if (b->cluster_mode) {
        /* ZooKeeper has the topics; local logs of topics it does not know
         * are reported and left alone. */
        if (cluster_topics_sync(b, err, errlen) < 0)
            return -1;
        orphan_scan s = { .b = b };
        log_manager_foreach(b->logs, scan_orphan, &s);
        return 0;
    }
    meta_state *st = &b->loaded;
    bool have_file = st->found;
    for (int i = 0; i < st->ntopics; i++)
        if (load_topic(b, &st->topics[i], err, errlen) < 0)
            return -1;
    orphan_scan s = { .b = b, .adopt = !have_file, .adopted = &(meta_state){ 0 } };
    log_manager_foreach(b->logs, scan_orphan, &s);
    int adopted = 0;
    for (int i = 0; i < s.adopted->ntopics; i++) {
        if (load_topic(b, &s.adopted->topics[i], err, errlen) < 0) {
            meta_state_free(s.adopted);
            return -1;
        }
        adopted++;
    }
    meta_state_free(s.adopted);
    if (adopted || !have_file) {
        char msg[256];
        if (adopted)
            LOG_INF("admin", "adopted %d topic(s) found on disk without metadata", adopted);
        if (save_metadata(b, NULL, NULL, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "%s", msg);
            return -1;
        }
    }
    topic **list = NULL;
    int n = topic_registry_list(&b->topics, &list);
    int nparts = 0;
    for (int i = 0; i < n; i++)
        nparts += topic_nparts(list[i]);
    if (n >= 0)
        topic_registry_list_free(list, n);
    LOG_INF("admin", "loaded %d topic(s), %d partition(s)", n, nparts);
    return 0;
}

/* ---------------------------------------------------------------- create */

int16_t topic_admin_create(broker *b, const char *name, int32_t partitions, int16_t replication,
                           const topic_kv *configs, int nconfigs, bool validate_only,
                           kuuid *id_out, char *msg, size_t msglen)
{
    return topic_admin_create_assigned(b, name, partitions, replication, NULL, configs, nconfigs,
                                       validate_only, id_out, msg, msglen);
}

/* Every id of an explicit assignment is a live broker, once per row. */
static int16_t check_assignment(broker *b, const int32_t *a, int32_t partitions, int16_t rf,
                                char *msg, size_t msglen)
{
    md_brokers *live = md_live_brokers(b->md);
    int16_t code = KERR_NONE;
    for (int32_t p = 0; p < partitions && !code; p++) {
        const int32_t *row = &a[(size_t)p * (size_t)rf];
        for (int k = 0; k < rf && !code; k++) {
            for (int j = 0; j < k; j++)
                if (row[j] == row[k]) {
                    snprintf(msg, msglen, "Duplicate brokers not allowed in replica assignment: "
                             "partition %d names broker %d twice.", p, row[k]);
                    code = KERR_INVALID_REPLICA_ASSIGNMENT;
                }
            if (!code && !md_brokers_find(live, row[k])) {
                snprintf(msg, msglen, "Unknown broker %d in replica assignment of partition %d.",
                         row[k], p);
                code = KERR_INVALID_REPLICA_ASSIGNMENT;
            }
        }
    }
    md_brokers_unref(live);
    return code;
}

int16_t topic_admin_create_assigned(broker *b, const char *name, int32_t partitions,
                                    int16_t replication, const int32_t *assignment,
                                    const topic_kv *configs, int nconfigs, bool validate_only,
                                    kuuid *id_out, char *msg, size_t msglen)
{
    const struct broker_config *cfg = broker_config_current(b);
    const char *why;
    if (!topic_name_valid(name, strlen(name), &why)) {
        snprintf(msg, msglen, "Topic name '%s' is invalid: %s", name, why);
        return KERR_INVALID_TOPIC_EXCEPTION;
    }
    if (partitions == -1)
        partitions = b->set.num_partitions;
    if (replication == -1)
        replication = b->set.default_replication_factor;
    if (partitions <= 0) {
        snprintf(msg, msglen, "Number of partitions must be larger than 0.");
        return KERR_INVALID_PARTITIONS;
    }
    if (partitions > MAX_PARTITIONS_PER_TOPIC) {
        snprintf(msg, msglen, "Number of partitions %d exceeds the limit of %d per topic.",
                 partitions, MAX_PARTITIONS_PER_TOPIC);
        return KERR_INVALID_PARTITIONS;
    }
    if (replication <= 0) {
        snprintf(msg, msglen, "Replication factor must be larger than 0.");
        return KERR_INVALID_REPLICATION_FACTOR;
    }
    md_brokers *live = md_live_brokers(b->md);
    int nlive = live ? live->n : 1;
    md_brokers_unref(live);
    if (assignment) {
        int16_t code = check_assignment(b, assignment, partitions, replication, msg, msglen);
        if (code)
            return code;
    } else if (replication > nlive) {
        snprintf(msg, msglen, "Replication factor: %d larger than available brokers: %d.",
                 replication, nlive);
        return KERR_INVALID_REPLICATION_FACTOR;
    }
    topic *t = topic_registry_get(&b->topics, name, strlen(name));
    if (t) {
        topic_unref(t);
        snprintf(msg, msglen, "Topic '%s' already exists.", name);
        return KERR_TOPIC_ALREADY_EXISTS;
    }
    char other[256];
    if (collides(b, name, other, sizeof other)) {
        snprintf(msg, msglen, "Topic '%s' collides with existing topic: %s", name, other);
        return KERR_INVALID_TOPIC_EXCEPTION;
    }
    cfg_kv *kv = calloc((size_t)nconfigs + 1, sizeof *kv);
    if (!kv) {
        snprintf(msg, msglen, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    for (int i = 0; i < nconfigs; i++)
        kv[i] = (cfg_kv){ configs[i].key, configs[i].value };
    int rc = topic_cfg_validate_set(cfg, kv, (size_t)nconfigs, msg, msglen);
    free(kv);
    if (rc)
        return KERR_INVALID_CONFIG;
    log_config lc;
    int32_t min_isr = 1;
    if (log_config_for_overrides(cfg, configs, nconfigs, &lc, &min_isr, msg, msglen))
        return KERR_INVALID_CONFIG;
    if (validate_only)
        return KERR_NONE;
    if (b->cluster_mode)
        return cluster_topic_create(b, name, partitions, replication, assignment, configs,
                                    nconfigs, id_out, msg, msglen);

    kuuid id = kuuid_random();
    t = topic_new(name, strlen(name), id, name[0] == '_' && name[1] == '_');
    plog **logs = calloc((size_t)partitions, sizeof *logs);
    if (!t || !logs) {
        free(logs);
        topic_unref(t);
        snprintf(msg, msglen, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    t->internal = !strcmp(name, "__consumer_offsets") || !strcmp(name, "__transaction_state");
    for (int i = 0; i < nconfigs; i++)
        topic_config_set(t, configs[i].key, configs[i].value);
    atomic_store(&t->min_insync_replicas, min_isr);
    int16_t code = create_logs(b, name, id, 0, partitions, &lc, logs, msg, msglen);
    if (code) {
        free(logs);
        topic_unref(t);
        return code;
    }
    int32_t *replicas = assign_replicas(b, partitions, replication);
    meta_topic m = { .name = t->name, .id = id, .partitions = partitions, .internal = t->internal,
                     .replication_factor = replicas ? replication : 1, .replicas = replicas };
    partition_state **states = initial_states(b, &m, 0, partitions);
    free(replicas);
    if (!states || topic_grow(t, partitions, logs, states) < 0) {
        free_states(states, partitions);
        delete_logs(b, logs, partitions);
        free(logs);
        topic_unref(t);
        snprintf(msg, msglen, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    free(states);
    if (save_metadata(b, NULL, t, msg, msglen) < 0) {
        for (int32_t i = 0; i < partitions; i++) {
            partition *p = topic_partition(t, i);
            log_manager_delete_partition(b->logs, p->log);
        }
        free(logs);
        topic_unref(t);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    free(logs);
    for (int32_t i = 0; i < partitions; i++)
        topic_admin_attach_partition(b, topic_partition(t, i));
    if (id_out)
        *id_out = id;
    topic_registry_add(&b->topics, t);
    LOG_INF("admin", "created topic %s with %d partition(s)", name, partitions);
    return KERR_NONE;
}

/* Create internal topic `name` unless it exists: compacted, `segment`
 * bytes per segment, `min_isr` (0: the broker default) capped at the
 * replication factor.  One broker: one replica; a cluster: `rf`, refused
 * (and retried at the next FindCoordinator) while fewer brokers are live,
 * as Kafka does.  The topic (referenced) in *out on success. */
static int16_t ensure_internal_topic(broker *b, const char *name, int32_t partitions, int16_t rf,
                                     int32_t segment, int32_t min_isr, const char *rf_key,
                                     int64_t *warned_ms, topic **out, char *msg, size_t msglen)
{
    topic *t = topic_registry_get(&b->topics, name, strlen(name));
    if (!t) {
        char seg[32], isr[32];
        snprintf(seg, sizeof seg, "%d", segment);
        if (!b->cluster_mode)
            rf = 1;
        snprintf(isr, sizeof isr, "%d", min_isr < rf ? min_isr : rf);
        topic_kv cfgs[] = { { "cleanup.policy", "compact" }, { "segment.bytes", seg },
                            { "compression.type", "producer" }, { "min.insync.replicas", isr } };
        int16_t code = topic_admin_create(b, name, partitions, rf, cfgs, min_isr > 0 ? 4 : 3, false,
                                          NULL, msg, msglen);
        if (code == KERR_INVALID_REPLICATION_FACTOR) {
            /* Too few brokers yet: FindCoordinator answers
             * COORDINATOR_NOT_AVAILABLE and the client retries; said once
             * a minute, not at every retry. */
            int64_t now = mono_ms();
            if (!*warned_ms || now - *warned_ms >= 60000) {
                *warned_ms = now;
                LOG_WRN("admin", "cannot create %s yet: %s (%s); its coordinator waits for more brokers",
                        name, msg, rf_key);
            }
            return KERR_COORDINATOR_NOT_AVAILABLE;
        }
        if (code && code != KERR_TOPIC_ALREADY_EXISTS) {
            LOG_ERR("admin", "cannot create %s: %s", name, msg);
            return code;
        }
        t = topic_registry_get(&b->topics, name, strlen(name));
        if (!t)
            return KERR_COORDINATOR_NOT_AVAILABLE;
    }
    *out = t;
    return KERR_NONE;
}

int16_t topic_admin_ensure_offsets_topic(broker *b, char *msg, size_t msglen)
{
    const struct broker_config *cfg = broker_config_current(b);
    topic *t = NULL;
    int16_t code = ensure_internal_topic(b, OFFSETS_TOPIC, cfg->offsets_topic_num_partitions,
                                         (int16_t)cfg->offsets_topic_replication_factor,
                                         cfg->offsets_topic_segment_bytes, 0,
                                         "offsets.topic.replication.factor",
                                         &b->offsets_topic_warned_ms, &t, msg, msglen);
    if (code)
        return code;
    coordinator_offsets_topic_created(b->coord, t);
    topic_unref(t);
    return KERR_NONE;
}

int16_t topic_admin_ensure_txn_topic(broker *b, char *msg, size_t msglen)
{
    const struct broker_config *cfg = broker_config_current(b);
    topic *t = NULL;
    int16_t code = ensure_internal_topic(b, TXN_TOPIC, cfg->transaction_state_log_num_partitions,
                                         cfg->transaction_state_log_replication_factor,
                                         cfg->transaction_state_log_segment_bytes,
                                         cfg->transaction_state_log_min_isr,
                                         "transaction.state.log.replication.factor",
                                         &b->txn_topic_warned_ms, &t, msg, msglen);
    if (code)
        return code;
    txn_coordinator_topic_created(b->txn, t);
    topic_unref(t);
    return KERR_NONE;
}

/* ---------------------------------------------------------------- delete */

int16_t topic_admin_delete(broker *b, const char *name, kuuid *id_out, char *msg, size_t msglen)
{
    if (b->cluster_mode)
        return cluster_topic_delete(b, name, id_out, msg, msglen);
    topic *t = topic_registry_remove(&b->topics, name, strlen(name));
    if (!t) {
        snprintf(msg, msglen, "Topic '%s' does not exist.", name);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (save_metadata(b, t, NULL, msg, msglen) < 0) {
        atomic_store(&t->deleted, false);
        topic_registry_add(&b->topics, t);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    if (id_out)
        *id_out = t->id;
    for (int32_t i = 0; i < topic_nparts(t); i++) {
        partition *p = topic_partition(t, i);
        log_manager_delete_partition(b->logs, p->log);
        partition_notify(p);      /* parked fetches see the deletion now */
    }
    LOG_INF("admin", "deleted topic %s", name);
    topic_unref(t);
    return KERR_NONE;
}

/* -------------------------------------------------------- add partitions */

int16_t topic_admin_add_partitions(broker *b, const char *name, int32_t total, bool validate_only,
                                   char *msg, size_t msglen)
{
    topic *t = topic_registry_get(&b->topics, name, strlen(name));
    if (!t) {
        snprintf(msg, msglen, "The topic '%s' does not exist.", name);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    int16_t code = KERR_NONE;
    int32_t cur = topic_nparts(t);
    plog **logs = NULL;
    if (total == cur) {
        snprintf(msg, msglen, "Topic already has %d partitions.", cur);
        code = KERR_INVALID_PARTITIONS;
        goto out;
    }
    if (total < cur) {
        snprintf(msg, msglen, "Topic currently has %d partitions, which is higher than the requested %d.",
                 cur, total);
        code = KERR_INVALID_PARTITIONS;
        goto out;
    }
    if (total > MAX_PARTITIONS_PER_TOPIC) {
        snprintf(msg, msglen, "Number of partitions %d exceeds the limit of %d per topic.", total,
                 MAX_PARTITIONS_PER_TOPIC);
        code = KERR_INVALID_PARTITIONS;
        goto out;
    }
    if (validate_only)
        goto out;
    if (b->cluster_mode) {
        code = cluster_topic_add_partitions(b, t, total, msg, msglen);
        goto out;
    }
    log_config lc;
    topic_registry_rdlock(&b->topics);
    int rc = log_config_for_overrides(broker_config_current(b), t->configs, t->nconfigs, &lc, NULL,
                                      msg, msglen);
    topic_registry_unlock(&b->topics);
    if (rc) {
        code = KERR_INVALID_CONFIG;
        goto out;
    }
    logs = calloc((size_t)(total - cur), sizeof *logs);
    if (!logs) {
        code = KERR_UNKNOWN_SERVER_ERROR;
        goto out;
    }
    code = create_logs(b, name, t->id, cur, total - cur, &lc, logs, msg, msglen);
    if (code)
        goto out;
    /* Publish, then persist (save_metadata reads the new count). */
    meta_topic m = { .name = t->name, .id = t->id, .partitions = total, .internal = t->internal,
                     .replication_factor = 1 };
    partition_state **states = initial_states(b, &m, cur, total - cur);
    if (!states || topic_grow(t, total, logs, states) < 0) {
        free_states(states, total - cur);
        delete_logs(b, logs, total - cur);
        code = KERR_UNKNOWN_SERVER_ERROR;
        goto out;
    }
    free(states);
    if (save_metadata(b, NULL, NULL, msg, msglen) < 0) {
        /* The partitions are visible but not durable: report the failure;
         * they will be dropped (not served) after a restart. */
        code = KERR_KAFKA_STORAGE_ERROR;
        goto out;
    }
    for (int32_t i = cur; i < total; i++)
        topic_admin_attach_partition(b, topic_partition(t, i));
    LOG_INF("admin", "topic %s now has %d partitions", name, total);
out:
    free(logs);
    topic_unref(t);
    return code;
}

/* --------------------------------------------------------------- configs */

/* Cluster mode: the full new override set (edited or replaced) goes to
 * ZooKeeper; the registry follows when it is read back. */
static int16_t cluster_set_configs(broker *b, topic *t, const topic_kv *set, int nset,
                                   bool replace_all, char *msg, size_t msglen)
{
    topic_registry_rdlock(&b->topics);
    int cap = (replace_all ? 0 : t->nconfigs) + nset + 1;
    topic_kv *v = calloc((size_t)cap, sizeof *v);
    int n = 0;
    bool ok = v != NULL;
    for (int i = 0; ok && !replace_all && i < t->nconfigs; i++, n++)
        ok = (v[n].key = strdup(t->configs[i].key)) && (v[n].value = strdup(t->configs[i].value));
    topic_registry_unlock(&b->topics);     /* the sync after the write takes it */
    for (int i = 0; ok && i < nset; i++) {
        int k = 0;
        while (k < n && strcmp(v[k].key, set[i].key))
            k++;
        if (k < n) {
            free(v[k].key);
            free(v[k].value);
            v[k] = v[--n];
            v[n] = (topic_kv){ 0 };
        }
        if (set[i].value)                  /* NULL: remove */
            ok = (v[n].key = strdup(set[i].key)) && (v[n++].value = strdup(set[i].value));
    }
    int16_t code = ok ? cluster_topic_set_configs(b, t, v, n, msg, msglen) : KERR_UNKNOWN_SERVER_ERROR;
    if (!ok)
        snprintf(msg, msglen, "out of memory");
    for (int i = 0; v && i < cap; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
    return code;
}

int16_t topic_admin_set_configs(broker *b, const char *name, const topic_kv *set, int nset,
                                bool replace_all, bool validate_only, char *msg, size_t msglen)
{
    topic *t = topic_registry_get(&b->topics, name, strlen(name));
    if (!t) {
        snprintf(msg, msglen, "Topic %s does not exist", name);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    int16_t code = KERR_NONE;
    log_config lc;
    if (log_config_for_overrides(broker_config_current(b), set, nset, &lc, NULL, msg, msglen)) {
        code = KERR_INVALID_CONFIG;
        goto out;
    }
    if (validate_only)
        goto out;
    if (b->cluster_mode) {
        code = cluster_set_configs(b, t, set, nset, replace_all, msg, msglen);
        goto out;
    }
    /* Keep the old set to roll back if persisting fails. */
    topic_kv *old = calloc((size_t)t->nconfigs + 1, sizeof *old);
    int nold = 0;
    topic_registry_wrlock(&b->topics);
    for (int i = 0; old && i < t->nconfigs; i++, nold++)
        old[i] = (topic_kv){ strdup(t->configs[i].key), strdup(t->configs[i].value) };
    if (replace_all)
        topic_config_clear(t);
    for (int i = 0; i < nset; i++)
        topic_config_set(t, set[i].key, set[i].value);
    topic_registry_unlock(&b->topics);
    if (save_metadata(b, NULL, NULL, msg, msglen) < 0) {
        topic_registry_wrlock(&b->topics);
        topic_config_clear(t);
        for (int i = 0; i < nold; i++)
            topic_config_set(t, old[i].key, old[i].value);
        topic_registry_unlock(&b->topics);
        code = KERR_KAFKA_STORAGE_ERROR;
    } else {
        topic_admin_refresh_settings(b, t);
        LOG_INF("admin", "topic %s: configs updated", name);
    }
    for (int i = 0; i < nold; i++) {
        free(old[i].key);
        free(old[i].value);
    }
    free(old);
out:
    topic_unref(t);
    return code;
}

/* Build and publish the config for the given dynamic layers. */
static int publish_config(broker *b, const struct topic_overrides *def,
                          const struct topic_overrides *own, bool dry_run, char *msg, size_t msglen)
{
    struct broker_config *next = calloc(1, sizeof *next);
    struct broker_config **ret = realloc(b->retired_configs,
                                         (size_t)(b->nretired_configs + 1) * sizeof *ret);
    if (!next || !ret) {
        free(next);
        if (ret)
            b->retired_configs = ret;
        snprintf(msg, msglen, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    b->retired_configs = ret;
    int rc = broker_config_with_dynamic(b->static_config, def, own, next, msg, msglen);
    /* S-TLS7: TLS listeners rebuilt from the new config, or the config refused. */
    if (!rc && server_tls_update(&b->srv, next, dry_run, msg, msglen) < 0)
        rc = KERR_INVALID_CONFIG;
    if (rc || dry_run) {
        broker_config_free(next);
        free(next);
        return rc;
    }
    /* Readers may still hold the old config: keep it until exit. */
    b->retired_configs[b->nretired_configs++] = next;
    atomic_store_explicit(&b->config, next, memory_order_release);
    b->set.message_max_bytes = next->message_max_bytes;
    net_threads_limits_changed(&b->srv);
    return 0;
}

int broker_admin_apply_dynamic_at_start(broker *b, char *err, size_t errlen)
{
    if (b->dyn_default->n == 0 && b->dyn_broker->n == 0)
        return 0;
    if (publish_config(b, b->dyn_default, b->dyn_broker, false, err, errlen))
        return -1;
    LOG_INF("admin", "applied %zu cluster-default and %zu per-broker dynamic config(s)",
            b->dyn_default->n, b->dyn_broker->n);
    return 0;
}

static bool layer_equals(const struct topic_overrides *o, const meta_kvs *kv)
{
    if (o->n != (size_t)kv->n)
        return false;
    for (int i = 0; i < kv->n; i++) {
        const char *v = topic_overrides_get(o, kv->v[i].key);
        if (!v || strcmp(v, kv->v[i].value))
            return false;
    }
    return true;
}

static int assign_layer(struct topic_overrides *o, const meta_kvs *kv)
{
    cfg_kv *tmp = calloc((size_t)kv->n + 1, sizeof *tmp);
    if (!tmp)
        return -1;
    for (int i = 0; i < kv->n; i++)
        tmp[i] = (cfg_kv){ kv->v[i].key, kv->v[i].value };
    int rc = topic_overrides_assign(o, tmp, (size_t)kv->n);
    free(tmp);
    return rc ? -1 : 0;
}

void broker_admin_follow_dynamic(broker *b, const meta_state *st)
{
    if (layer_equals(b->dyn_default, &st->broker_default) &&
        layer_equals(b->dyn_broker, &st->broker_own))
        return;
    char msg[512];
    if (assign_layer(b->dyn_default, &st->broker_default) < 0 ||
        assign_layer(b->dyn_broker, &st->broker_own) < 0 ||
        publish_config(b, b->dyn_default, b->dyn_broker, false, msg, sizeof msg)) {
        LOG_WRN("admin", "dynamic broker config from the metadata store not applied");
        return;
    }
    topic **list = NULL;
    int nt = topic_registry_list(&b->topics, &list);
    for (int i = 0; i < nt; i++)
        topic_admin_refresh_settings(b, list[i]);
    if (nt >= 0)
        topic_registry_list_free(list, nt);
    LOG_INF("admin", "dynamic broker config changed elsewhere in the cluster: applied");
}

/* Write one dynamic broker layer: the whole local metadata file, or in
 * cluster mode that layer's znode (/config/brokers/<default> or /N). */
static int persist_broker_layer(broker *b, bool cluster_default, const struct topic_overrides *cur,
                                char *msg, size_t msglen)
{
    if (!b->cluster_mode)
        return save_metadata(b, NULL, NULL, msg, msglen);
    topic_kv *v = calloc(cur->n + 1, sizeof *v);
    if (!v) {
        snprintf(msg, msglen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cur->n; i++)
        v[i] = (topic_kv){ cur->v[i].key, cur->v[i].value };
    char err[512];
    int r = md_set_broker_configs(b->md, cluster_default, v, (int)cur->n, err, sizeof err);
    free(v);
    if (r != MD_OK) {
        LOG_ERR("admin", "%s", err);
        snprintf(msg, msglen, "could not persist the broker config: %s", err);
        return -1;
    }
    return 0;
}

int16_t broker_admin_set_configs(broker *b, bool cluster_default, const topic_kv *kv,
                                 const int *ops, int n, bool replace_all, bool validate_only,
                                 char *msg, size_t msglen)
{
    enum cfg_dyn_layer layer = cluster_default ? CFG_DYN_CLUSTER_DEFAULT : CFG_DYN_BROKER;
    struct topic_overrides *cur = cluster_default ? b->dyn_default : b->dyn_broker;
    struct topic_overrides set;
    topic_overrides_init(&set);
    int rc = 0;
    if (replace_all) {
        cfg_kv *items = calloc((size_t)n + 1, sizeof *items);
        if (!items) {
            snprintf(msg, msglen, "out of memory");
            return KERR_UNKNOWN_SERVER_ERROR;
        }
        for (int i = 0; i < n; i++)
            items[i] = (cfg_kv){ kv[i].key, kv[i].value };
        rc = broker_cfg_replace(layer, &set, items, (size_t)n, msg, msglen);
        free(items);
    } else {
        rc = topic_overrides_assign(&set, cur->v, cur->n);
        for (int i = 0; i < n && !rc; i++)
            rc = broker_cfg_alter(broker_config_current(b), layer, &set, kv[i].key, ops[i],
                                  kv[i].value, msg, msglen);
    }
    if (!rc)
        rc = publish_config(b, cluster_default ? &set : b->dyn_default,
                            cluster_default ? b->dyn_broker : &set, true, msg, msglen);
    if (rc || validate_only) {
        topic_overrides_free(&set);
        return (int16_t)rc;
    }
    struct topic_overrides old;
    topic_overrides_init(&old);
    topic_overrides_assign(&old, cur->v, cur->n);
    topic_overrides_assign(cur, set.v, set.n);
    topic_overrides_free(&set);
    if (persist_broker_layer(b, cluster_default, cur, msg, msglen) < 0) {
        topic_overrides_assign(cur, old.v, old.n);
        topic_overrides_free(&old);
        return KERR_KAFKA_STORAGE_ERROR;
    }
    topic_overrides_free(&old);
    rc = publish_config(b, b->dyn_default, b->dyn_broker, false, msg, msglen);
    if (rc)
        return (int16_t)rc;
    /* Topics without their own overrides follow the new broker defaults. */
    topic **list = NULL;
    int nt = topic_registry_list(&b->topics, &list);
    for (int i = 0; i < nt; i++)
        topic_admin_refresh_settings(b, list[i]);
    if (nt >= 0)
        topic_registry_list_free(list, nt);
    for (int i = 0; i < n; i++)
        if (broker_cfg_is_stored_only(kv[i].key) && (replace_all || ops[i] != CFG_OP_DELETE))
            LOG_WRN("admin", "dynamic broker config %s: a Kafka config that Samsa does not "
                    "implement; stored and returned by DescribeConfigs, not acted on", kv[i].key);
    LOG_INF("admin", "dynamic broker config (%s layer) updated", cluster_default ? "cluster default" : "broker");
    return KERR_NONE;
}

/* ----------------------------------------------------------- producer ids */

int64_t producer_id_allocate(broker *b)
{
    if (b->next_producer_id >= b->next_producer_id_block) {
        int64_t first;
        char err[256];
        if (md_reserve_producer_ids(b->md, PRODUCER_ID_BLOCK, &first, err, sizeof err) < 0) {
            LOG_ERR("admin", "%s", err);
            return -1;
        }
        b->next_producer_id = first;
        b->next_producer_id_block = first + PRODUCER_ID_BLOCK;
    }
    return b->next_producer_id++;
}
