/*
 * cluster_topics.c - topics in cluster mode: the broker's topic registry
 * follows the topics ZooKeeper holds (docs/cluster.md §5).
 *
 * The dynamic broker configs (/config/brokers/<default> and /N) are
 * taken from the same read.
 *
 * Every broker knows every topic and every partition (Metadata answers
 * for all of them), but holds a log only for the partitions whose replica
 * list names it.  Those logs are opened (or created) when the topic first
 * appears here, before its partitions are published, so a partition's log
 * pointer never changes once readers can see it.  Who leads each
 * partition is not read from ZooKeeper: it arrives from the controller
 * (LeaderAndIsr for the replicas here, UpdateMetadata for the rest), so a
 * broker never acts on a state the controller has not sent it (C2-C4).
 *
 * Admin-side operations write ZooKeeper only (the per-entity writes of
 * cluster/metadata.h) and then re-sync, so the broker that served the
 * request sees its own change at once; the other brokers follow from
 * their watches (MD_EV_TOPICS / MD_EV_CONFIG, handled on the admin thread
 * by cluster_topics_sync).
 *
 * Admin thread only.
 */
#include "broker/cluster_topics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "cluster/metadata.h"
#include "cluster/placement.h"
#include "config/config.h"
#include "core/errors.h"
#include "core/log.h"
#include "group/coordinator.h"
#include "repl/fetcher.h"
#include "server/delayed.h"
#include "storage/log_manager.h"

#define MOD "cluster"

static bool assigned_here(const broker *b, const meta_topic *m, int32_t p)
{
    if (!m->replicas)
        return true;
    int32_t n;
    const int32_t *row = meta_topic_replicas(m, p, &n);
    for (int32_t k = 0; row && k < n; k++)
        if (row[k] == b->set.node_id)
            return true;
    return false;
}

/* The local log of partition p of m, opened or created; NULL when p is
 * not assigned here (*failed false) or on a storage error (*failed). */
static plog *local_log(broker *b, const meta_topic *m, kuuid id, int32_t p, const log_config *lc,
                       bool *failed)
{
    *failed = false;
    if (!assigned_here(b, m, p))
        return NULL;
    plog *l = log_manager_get(b->logs, m->name, p);
    if (l && !kuuid_is_zero(plog_topic_id(l)) && !kuuid_eq(plog_topic_id(l), id)) {
        /* A log of an earlier topic of the same name (deleted and created
         * again while this broker was away): not this topic's data. */
        LOG_WRN(MOD, "%s-%d: the local log belongs to an earlier topic of that name; deleting it",
                m->name, p);
        log_manager_delete_partition(b->logs, l);
        plog_unref(l);
        l = NULL;
    }
    if (l)
        return l;                         /* log_manager_get's reference */
    if (log_manager_create_partition(b->logs, m->name, p, id, lc, &l) != 0) {
        LOG_ERR(MOD, "%s-%d: cannot create the local log", m->name, p);
        *failed = true;
        return NULL;
    }
    return plog_ref(l);
}

static void topic_log_config(broker *b, topic *t, log_config *lc)
{
    int32_t min_isr = 1;
    char cerr[256];
    topic_registry_rdlock(&b->topics);
    int rc = log_config_for_overrides(broker_config_current(b), t->configs, t->nconfigs, lc,
                                      &min_isr, cerr, sizeof cerr);
    topic_registry_unlock(&b->topics);
    if (rc) {
        LOG_WRN(MOD, "topic %s: stored config rejected (%s); using broker defaults", t->name, cerr);
        log_config_for_overrides(broker_config_current(b), NULL, 0, lc, &min_isr, NULL, 0);
    }
    atomic_store(&t->min_insync_replicas, min_isr);
}

/* Publish partitions [nparts(t), m->partitions) of t, with their logs. */
static int grow(broker *b, topic *t, const meta_topic *m)
{
    int32_t from = topic_nparts(t), n = m->partitions - from;
    if (n <= 0)
        return 0;
    log_config lc;
    topic_log_config(b, t, &lc);
    plog **logs = calloc((size_t)n, sizeof *logs);
    if (!logs)
        return -1;
    bool failed = false;
    for (int32_t i = 0; i < n && !failed; i++)
        logs[i] = local_log(b, m, t->id, from + i, &lc, &failed);
    if (failed || topic_grow(t, m->partitions, logs, NULL) < 0) {
        for (int32_t i = 0; i < n; i++)
            plog_unref(logs[i]);
        free(logs);
        return -1;
    }
    free(logs);
    for (int32_t i = from; i < m->partitions; i++) {
        partition *p = topic_partition(t, i);
        if (p->log)
            topic_admin_attach_partition(b, p);
    }
    return 0;
}

static int add_topic(broker *b, const meta_topic *m)
{
    kuuid id = kuuid_is_zero(m->id) ? kuuid_random() : m->id;
    topic *t = topic_new(m->name, strlen(m->name), id, m->internal);
    if (!t)
        return -1;
    for (int k = 0; k < m->nconfigs; k++)
        topic_config_set(t, m->configs[k].key, m->configs[k].value);
    topic_admin_refresh_throttles(b, t);
    if (grow(b, t, m) < 0 || topic_registry_add(&b->topics, t) < 0) {
        topic_unref(t);
        return -1;
    }
    LOG_INF(MOD, "topic %s: %d partition(s) known, replication factor %d", m->name,
            m->partitions, m->replicas ? m->replication_factor : 1);
    return 0;
}

void cluster_topic_drop(broker *b, const char *name)
{
    topic *t = topic_registry_remove(&b->topics, name, strlen(name));
    if (!t)
        return;
    for (int32_t i = 0; i < topic_nparts(t); i++) {
        partition *p = topic_partition(t, i);
        repl_unfollow(b->fetchers, p);   /* no follower append after this */
        if (p->log)
            log_manager_delete_partition(b->logs, p->log);
        partition_notify(p);              /* parked requests see the deletion */
    }
    LOG_INF(MOD, "topic %s deleted here", name);
    topic_unref(t);
}

bool cluster_replica_hosted(broker *b, partition *p)
{
    plog *l = partition_log(p);
    if (!l)
        return false;
    plog *reg = log_manager_get(b->logs, p->topic->name, p->index);
    plog_unref(reg);
    return reg == l;          /* a deleted log has left the registry */
}

int cluster_replica_open(broker *b, topic *t, partition *p)
{
    if (cluster_replica_hosted(b, p))
        return 0;
    log_config lc;
    topic_log_config(b, t, &lc);
    meta_topic m = { .name = t->name };      /* no assignment: "assigned here" */
    bool failed;
    plog *l = local_log(b, &m, t->id, p->index, &lc, &failed);
    if (!l)
        return -1;
    if (partition_attach_log(p, l) < 0) {
        plog_unref(l);
        return -1;
    }
    topic_admin_attach_partition(b, p);
    LOG_INF(MOD, "%s-%d: replica added here (log end %lld)", t->name, p->index,
            (long long)plog_log_end_offset(l));
    return 0;
}

void cluster_replica_delete(broker *b, partition *p)
{
    repl_unfollow(b->fetchers, p);           /* no follower append after this */
    if (!cluster_replica_hosted(b, p))
        return;
    log_manager_delete_partition(b->logs, partition_log(p));
    partition_notify(p);                      /* parked requests re-check */
    LOG_INF(MOD, "%s-%d: replica removed from this broker; local log deleted", p->topic->name,
            p->index);
}

static bool same_configs(topic *t, const meta_topic *m)
{
    if (t->nconfigs != m->nconfigs)
        return false;
    for (int i = 0; i < m->nconfigs; i++) {
        bool found = false;
        for (int k = 0; k < t->nconfigs && !found; k++)
            found = !strcmp(t->configs[k].key, m->configs[i].key) &&
                    !strcmp(t->configs[k].value, m->configs[i].value);
        if (!found)
            return false;
    }
    return true;
}

static void update_configs(broker *b, topic *t, const meta_topic *m)
{
    topic_registry_wrlock(&b->topics);
    bool same = same_configs(t, m);
    if (!same) {
        topic_config_clear(t);
        for (int k = 0; k < m->nconfigs; k++)
            topic_config_set(t, m->configs[k].key, m->configs[k].value);
    }
    topic_registry_unlock(&b->topics);
    if (!same) {
        topic_admin_refresh_settings(b, t);
        LOG_INF(MOD, "topic %s: configs updated from ZooKeeper", t->name);
    }
}

int cluster_topics_sync(broker *b, char *err, size_t errlen)
{
    meta_state st = { 0 };
    if (md_load(b->md, &st, err, errlen) < 0)
        return -1;
    int rc = 0;
    for (int i = 0; i < st.ntopics; i++) {
        const meta_topic *m = &st.topics[i];
        if (m->damaged)
            continue;     /* its znode does not decode: keep what we have (§11 Bad input) */
        topic *t = topic_registry_get(&b->topics, m->name, strlen(m->name));
        if (t && !kuuid_is_zero(m->id) && !kuuid_eq(t->id, m->id)) {
            topic_unref(t);
            cluster_topic_drop(b, m->name);   /* deleted and created again */
            t = NULL;
        }
        if (!t) {
            if (add_topic(b, m) < 0) {
                snprintf(err, errlen, "cannot open the local logs of topic %s", m->name);
                rc = -1;
            }
            continue;
        }
        if (m->partitions > topic_nparts(t) && grow(b, t, m) < 0) {
            snprintf(err, errlen, "cannot open the new partitions of topic %s", m->name);
            rc = -1;
        }
        if (!m->configs_damaged)
            update_configs(b, t, m);
        topic_unref(t);
    }
    topic **list = NULL;
    int n = topic_registry_list(&b->topics, &list);
    for (int i = 0; i < n; i++) {
        bool kept = false;
        for (int k = 0; k < st.ntopics && !kept; k++)
            kept = !strcmp(st.topics[k].name, list[i]->name);
        if (!kept)
            cluster_topic_drop(b, list[i]->name);
    }
    if (n >= 0)
        topic_registry_list_free(list, n);
    if (!st.broker_configs_damaged)
        broker_admin_follow_dynamic(b, &st);
    meta_state_free(&st);
    return rc;
}

/* Replicas for partitions [first, first+n) over the live brokers, as
 * Kafka places them (rack-aware when every broker has a rack). */
static int16_t place(broker *b, int32_t first, int32_t n, int16_t rf, int32_t *out, char *msg,
                     size_t msglen)
{
    md_brokers *live = md_live_brokers(b->md);
    if (!live) {
        snprintf(msg, msglen, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    placement_broker pb[MD_MAX_BROKERS];
    int nb = 0;
    for (int i = 0; i < live->n && nb < MD_MAX_BROKERS; i++)
        pb[nb++] = (placement_broker){ live->v[i].id, live->v[i].rack };
    enum placement_err pe = placement_assign(pb, nb, n, rf, first, -1, -1, out);
    md_brokers_unref(live);
    switch (pe) {
    case PLACEMENT_OK:
        return KERR_NONE;
    case PLACEMENT_BAD_RF:
        snprintf(msg, msglen, "Replication factor: %d larger than available brokers: %d.", rf, nb);
        return KERR_INVALID_REPLICATION_FACTOR;
    case PLACEMENT_MIXED_RACKS:
        snprintf(msg, msglen, "Not all brokers have rack information for replica rack aware "
                              "assignment.");
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    default:
        snprintf(msg, msglen, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
}

static void sync_after_write(broker *b)
{
    char err[512];
    if (cluster_topics_sync(b, err, sizeof err) < 0)
        LOG_WRN(MOD, "re-reading topics after a change: %s", err);
}

int16_t cluster_topic_create(broker *b, const char *name, int32_t partitions, int16_t rf,
                             const int32_t *assignment, const topic_kv *configs, int nconfigs,
                             kuuid *id_out, char *msg, size_t msglen)
{
    int32_t *replicas = calloc((size_t)partitions * (size_t)rf, sizeof *replicas);
    if (!replicas) {
        snprintf(msg, msglen, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    int16_t code = KERR_NONE;
    if (assignment)
        memcpy(replicas, assignment, (size_t)partitions * (size_t)rf * sizeof *replicas);
    else
        code = place(b, 0, partitions, rf, replicas, msg, msglen);
    if (code) {
        free(replicas);
        return code;
    }
    kuuid id = kuuid_random();
    meta_topic m = { .name = (char *)name, .id = id, .partitions = partitions,
                     .internal = !strcmp(name, OFFSETS_TOPIC) || !strcmp(name, "__transaction_state"),
                     .configs = (topic_kv *)configs, .nconfigs = nconfigs,
                     .replication_factor = rf, .replicas = replicas };
    char err[512];
    int r = md_create_topic(b->md, &m, err, sizeof err);
    free(replicas);
    if (r == MD_EXISTS) {
        snprintf(msg, msglen, "Topic '%s' already exists.", name);
        return KERR_TOPIC_ALREADY_EXISTS;
    }
    if (r != MD_OK) {
        LOG_ERR(MOD, "creating topic %s: %s", name, err);
        snprintf(msg, msglen, "could not write the topic to ZooKeeper: %s", err);
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    if (id_out)
        *id_out = id;
    LOG_INF(MOD, "created topic %s: %d partition(s), replication factor %d", name, partitions, rf);
    sync_after_write(b);
    return KERR_NONE;
}

int16_t cluster_topic_delete(broker *b, const char *name, kuuid *id_out, char *msg, size_t msglen)
{
    topic *t = topic_registry_get(&b->topics, name, strlen(name));
    if (t && id_out)
        *id_out = t->id;
    topic_unref(t);
    char err[512];
    int r = md_delete_topic(b->md, name, err, sizeof err);
    if (r == MD_NOT_FOUND || (r == MD_OK && !t)) {
        snprintf(msg, msglen, "Topic '%s' does not exist.", name);
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    if (r != MD_OK) {
        snprintf(msg, msglen, "could not mark the topic for deletion in ZooKeeper: %s", err);
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    LOG_INF(MOD, "topic %s marked for deletion (/admin/delete_topics)", name);
    return KERR_NONE;
}

int16_t cluster_topic_add_partitions(broker *b, topic *t, int32_t total, char *msg, size_t msglen)
{
    int32_t cur = topic_nparts(t), n = total - cur;
    partition_state *st = cur > 0 ? partition_state_get(topic_partition(t, 0)) : NULL;
    int16_t rf = st && st->nreplicas > 0 ? (int16_t)st->nreplicas : 1;
    pstate_unref(st);
    int32_t *replicas = calloc((size_t)n * (size_t)rf, sizeof *replicas);
    if (!replicas) {
        snprintf(msg, msglen, "out of memory");
        return KERR_UNKNOWN_SERVER_ERROR;
    }
    int16_t code = place(b, cur, n, rf, replicas, msg, msglen);
    char err[512];
    int r = code ? MD_OK : md_add_partitions(b->md, t->name, total, rf, replicas, err, sizeof err);
    free(replicas);
    if (code)
        return code;
    if (r == MD_BUSY) {                   /* Kafka's answer while a reassignment runs */
        snprintf(msg, msglen, "%s", err);
        return KERR_REASSIGNMENT_IN_PROGRESS;
    }
    if (r != MD_OK) {
        snprintf(msg, msglen, "could not write the new partitions to ZooKeeper: %s", err);
        return r == MD_NOT_FOUND ? KERR_UNKNOWN_TOPIC_OR_PARTITION : KERR_UNKNOWN_SERVER_ERROR;
    }
    LOG_INF(MOD, "topic %s now has %d partitions", t->name, total);
    sync_after_write(b);
    return KERR_NONE;
}

int16_t cluster_topic_set_configs(broker *b, topic *t, const topic_kv *v, int n, char *msg,
                                  size_t msglen)
{
    char err[512];
    int r = md_set_topic_configs(b->md, t->name, v, n, err, sizeof err);
    if (r != MD_OK) {
        snprintf(msg, msglen, "could not write the topic config to ZooKeeper: %s", err);
        return r == MD_NOT_FOUND ? KERR_UNKNOWN_TOPIC_OR_PARTITION : KERR_UNKNOWN_SERVER_ERROR;
    }
    sync_after_write(b);
    return KERR_NONE;
}
