/*
 * broker_storage.c - the broker's storage lifecycle: identity files, the
 * log manager, and turning topic configs into log configs.
 *
 * At startup: read samsa-metadata.json (first log dir), read or create
 * meta.properties in every log dir (version=1, node.id, cluster.id - as a
 * KRaft Kafka writes it; the cluster id is generated once and must agree
 * across dirs and with node.id), then open the log manager, which locks
 * the dirs and loads (and if needed recovers) every partition.  Topics are
 * then attached by topic_admin_load().
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/admin.h"
#include "broker/entities.h"
#include "broker/broker.h"
#include "config/config.h"
#include "broker/cluster_mode.h"
#include "broker/cluster_topics.h"
#include "cluster/metadata_store.h"
#include "cluster/metadata_zk.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/strbuf.h"
#include "server/delayed.h"
#include "server/net_threads.h"
#include "storage/fd_cache.h"
#include "storage/log_dir.h"
#include "storage/log_manager.h"

void log_config_from_topic(const struct broker_config *cfg, const struct topic_settings *s,
                           log_config *c)
{
    log_config_defaults(c);
    c->segment_bytes = s->segment_bytes;
    c->segment_ms = s->segment_ms;
    c->segment_jitter_ms = s->segment_jitter_ms;
    c->segment_index_bytes = s->segment_index_bytes;
    c->index_interval_bytes = s->index_interval_bytes;
    c->retention_ms = s->retention_ms;
    c->retention_bytes = s->retention_bytes;
    c->max_message_bytes = s->max_message_bytes;
    c->flush_messages = s->flush_messages;
    c->flush_ms = s->flush_ms;
    c->timestamp_type = s->timestamp_type;
    c->timestamp_before_max_ms = s->timestamp_before_max_ms;
    c->timestamp_after_max_ms = s->timestamp_after_max_ms;
    c->file_delete_delay_ms = s->file_delete_delay_ms;
    c->producer_id_expiration_ms = cfg->producer_id_expiration_ms;
    c->compact = s->compact;
    c->delete_retention = s->delete_;
    c->min_cleanable_ratio = s->min_cleanable_dirty_ratio;
    c->min_compaction_lag_ms = s->min_compaction_lag_ms;
    c->max_compaction_lag_ms = s->max_compaction_lag_ms;
    c->delete_retention_ms = s->delete_retention_ms;
}

int log_config_for_overrides(const struct broker_config *cfg, const topic_kv *kv, int n,
                             log_config *out, int32_t *min_isr, char *err, size_t errlen)
{
    cfg_kv *tmp = calloc((size_t)(n > 0 ? n : 1), sizeof *tmp);
    if (!tmp)
        return KERR__NOMEM;
    for (int i = 0; i < n; i++)
        tmp[i] = (cfg_kv){ kv[i].key, kv[i].value };
    struct topic_settings s;
    int rc = topic_cfg_effective(cfg, tmp, (size_t)n, &s, err, errlen);
    free(tmp);
    if (rc)
        return rc;
    log_config_from_topic(cfg, &s, out);
    if (min_isr)
        *min_isr = s.min_insync_replicas;
    return 0;
}

/* ------------------------------------------------------- meta.properties */

static int ensure_dir(const char *dir, char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            goto fail;
        *p = '/';
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "log.dirs: cannot create %s: %s", tmp, strerror(errno));
    return -1;
}

/* Every log dir's meta.properties against the config and each other:
 * *found (cap 64) the cluster id they name ("" none) and *found_in its dir.
 * In cluster mode the open of the ZooKeeper store then compares it with
 * /cluster/id before registering (md_zk_open_checked), as Kafka's ZooKeeper
 * mode does (InconsistentClusterIdException).  A refusal names the file
 * and both values; nothing is deleted or rewritten (docs/cluster.md §11). */
static int scan_meta(const struct broker_config *cfg, char *found, const char **found_in,
                     char *err, size_t errlen)
{
    found[0] = 0;
    *found_in = NULL;
    for (size_t i = 0; i < cfg->nlog_dirs; i++) {
        const char *dir = cfg->log_dir_list[i];
        meta_properties mp;
        int rc = meta_properties_read(dir, &mp);
        if (rc == KERR__NOENT)
            continue;
        if (rc != KERR_NONE) {
            snprintf(err, errlen, "cannot read %s/meta.properties: %s", dir,
                     rc == KERR_CORRUPT_MESSAGE ? "malformed (expected version=, node.id= and "
                     "cluster.id= lines); fix or remove the file" : "I/O error");
            return -1;
        }
        if (mp.node_id >= 0 && mp.node_id != cfg->node_id) {
            snprintf(err, errlen, "%s/meta.properties: stored node.id %d does not match "
                     "configured node.id %d (these logs are broker %d's): if you moved the data, "
                     "configure node.id=%d; nothing was deleted", dir, mp.node_id, cfg->node_id,
                     mp.node_id, mp.node_id);
            return -1;
        }
        if (mp.cluster_id[0] && found[0] && strcmp(mp.cluster_id, found)) {
            snprintf(err, errlen, "log dirs %s and %s belong to different clusters: "
                     "%s/meta.properties has cluster.id %s, %s/meta.properties has cluster.id %s",
                     *found_in, dir, *found_in, found, dir, mp.cluster_id);
            return -1;
        }
        if (mp.cluster_id[0] && !found[0]) {
            str_copy(found, 64, mp.cluster_id);
            *found_in = dir;
        }
    }
    return 0;
}

/* The cluster id (the logs', else the metadata store's, else a new one),
 * then meta.properties written where missing. */
static int identity(broker *b, const struct broker_config *cfg, const char *found, char *err,
                    size_t errlen)
{
    if (found[0]) {
        str_copy(b->cluster_id, sizeof b->cluster_id, found);
    } else {
        kuuid_to_str(kuuid_random(), b->cluster_id);
    }
    /* The metadata store has the last word (ZooKeeper's /cluster/id: the
     * first broker's proposal wins). */
    char proposed[64];
    str_copy(proposed, sizeof proposed, b->cluster_id);
    if (md_cluster_id(b->md, proposed, b->cluster_id, sizeof b->cluster_id) < 0) {
        if (b->cluster_mode)
            snprintf(err, errlen, "cannot read or create /cluster/id at zookeeper.connect=%s "
                     "(damaged or unreachable: see the error above); nothing was changed",
                     cfg->zookeeper_connect);
        else
            snprintf(err, errlen, "cluster id does not fit");
        return -1;
    }
    if (!found[0] && !strcmp(proposed, b->cluster_id))
        LOG_INF("main", "new cluster id %s", b->cluster_id);
    for (size_t i = 0; i < cfg->nlog_dirs; i++) {
        meta_properties mp;
        if (meta_properties_read(cfg->log_dir_list[i], &mp) == KERR_NONE && mp.cluster_id[0])
            continue;
        memset(&mp, 0, sizeof mp);
        mp.version = 1;
        mp.node_id = cfg->node_id;
        str_copy(mp.cluster_id, sizeof mp.cluster_id, b->cluster_id);
        if (meta_properties_write(cfg->log_dir_list[i], &mp) != KERR_NONE) {
            snprintf(err, errlen, "cannot write %s/meta.properties: %s", cfg->log_dir_list[i],
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------- log manager */

/* Changes the metadata store reports: on the admin thread (local store)
 * or the ZooKeeper store's event thread.  Topic and config changes are
 * applied on the admin thread (cluster_topics_sync); a lost ZooKeeper
 * session is handled there too (cluster_session_lost). */
static void sync_job(admin_job *job)
{
    broker *b = job->arg;
    char err[512];
    if (cluster_topics_sync(b, err, sizeof err) < 0)
        LOG_WRN("cluster", "re-reading topics from ZooKeeper: %s", err);
}

/* A user or client-id entity changed (or every config may have): the
 * credential and quota snapshot is rebuilt on the admin thread. */
static void entities_job(admin_job *job)
{
    broker *b = job->arg;
    char err[512];
    if (entities_reload(b, err, sizeof err) < 0)
        LOG_WRN("entities", "re-reading the user and client-id entities: %s", err);
}

/* One entity named by a notification: only it is re-read. */
typedef struct entity_change {
    broker *b;
    char path[];
} entity_change;

static void entity_one_job(admin_job *job)
{
    entity_change *c = job->arg;
    char err[512] = "";
    if (entities_reload_one(c->b, c->path, err, sizeof err) < 0) {
        LOG_WRN("entities", "re-reading %s: %s; re-reading every entity", c->path, err);
        if (entities_reload(c->b, err, sizeof err) < 0)
            LOG_WRN("entities", "re-reading the user and client-id entities: %s", err);
    }
    free(c);
}

static bool is_entity_event(const md_event *ev)
{
    return !ev->entity || !strncmp(ev->entity, "users/", 6) ||
           !strncmp(ev->entity, "clients/", 8);
}

static void on_metadata_change(void *ctx, const md_event *ev)
{
    broker *b = ctx;
    if (ev->kind == MD_EV_CONFIG && ev->entity && is_entity_event(ev) && b->ents) {
        size_t len = strlen(ev->entity) + 1;
        entity_change *c = malloc(sizeof *c + len);
        if (c) {
            c->b = b;
            memcpy(c->path, ev->entity, len);
        }
        if (!c || admin_post(b, entity_one_job, c) < 0) {
            free(c);
            LOG_WRN("entities", "cannot queue a re-read of %s (stopping or out of memory)",
                    ev->entity);
        }
    } else if (ev->kind == MD_EV_CONFIG && is_entity_event(ev) && b->ents &&
               entities_mark_stale(b->ents) && admin_post(b, entities_job, b) < 0) {
        entities_unmark_stale(b->ents);
        LOG_WRN("entities", "cannot queue an entity re-read (stopping or out of memory)");
    }
    if (ev->kind == MD_EV_CONFIG && ev->entity && is_entity_event(ev))
        return;
    switch (ev->kind) {
    case MD_EV_BROKERS: {
        md_brokers *live = md_live_brokers(b->md);
        LOG_INF("cluster", "live brokers changed: %d live", live ? live->n : -1);
        md_brokers_unref(live);
        break;
    }
    case MD_EV_TOPICS:
    case MD_EV_CONFIG:
        if (b->cluster_mode && admin_post(b, sync_job, b) < 0)
            LOG_WRN("cluster", "cannot queue a topic re-read (stopping or out of memory)");
        break;
    case MD_EV_SESSION_LOST:
        if (b->cluster_mode) {
            atomic_store(&b->fenced, true);   /* C13: first, before anything else runs */
            cluster_session_lost(b);
        }
        break;
    case MD_EV_PARTITION:
        break;
    }
}

void broker_self_description(const broker *b, md_broker *out)
{
    memset(out, 0, sizeof *out);
    out->id = b->set.node_id;
    str_copy(out->rack, sizeof out->rack, b->set.rack);
    for (int i = 0; i < b->set.nlisteners && i < MD_MAX_ENDPOINTS; i++) {
        md_endpoint *e = &out->ep[out->nendpoints++];
        str_copy(e->listener, sizeof e->listener, b->set.adv[i].name);
        str_copy(e->host, sizeof e->host, b->set.adv[i].host);
        e->port = b->set.adv[i].port;
    }
}

static void config_for(void *ctx, const char *topic_name, log_config *out)
{
    broker *b = ctx;
    const struct broker_config *cfg = broker_config_current(b);
    for (int i = 0; i < b->loaded.ntopics; i++) {
        if (strcmp(b->loaded.topics[i].name, topic_name))
            continue;
        char err[256];
        if (log_config_for_overrides(cfg, b->loaded.topics[i].configs, b->loaded.topics[i].nconfigs,
                                     out, NULL, err, sizeof err) == 0)
            return;
        LOG_WRN("main", "topic %s: stored config rejected (%s); using broker defaults", topic_name, err);
        break;
    }
    log_config_for_overrides(cfg, NULL, 0, out, NULL, NULL, 0);
}

static int load_dynamic_layers(broker *b, char *err, size_t errlen)
{
    b->dyn_default = calloc(1, sizeof *b->dyn_default);
    b->dyn_broker = calloc(1, sizeof *b->dyn_broker);
    if (!b->dyn_default || !b->dyn_broker) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    topic_overrides_init(b->dyn_default);
    topic_overrides_init(b->dyn_broker);
    for (int i = 0; i < b->loaded.broker_default.n; i++)
        if (topic_overrides_put(b->dyn_default, b->loaded.broker_default.v[i].key,
                                b->loaded.broker_default.v[i].value))
            goto nomem;
    for (int i = 0; i < b->loaded.broker_own.n; i++)
        if (topic_overrides_put(b->dyn_broker, b->loaded.broker_own.v[i].key,
                                b->loaded.broker_own.v[i].value))
            goto nomem;
    return broker_admin_apply_dynamic_at_start(b, err, errlen);
nomem:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static void hw_to_log_end(void *ctx, const lm_partition_info *p)
{
    (void)ctx;
    plog_set_high_watermark(p->log, plog_log_end_offset(p->log));
}

int broker_storage_open(broker *b, const struct broker_config *cfg, char *err, size_t errlen)
{
    if (cfg->nlog_dirs == 0) {
        snprintf(err, errlen, "config error: log.dirs: no log directory configured");
        return -1;
    }
    for (size_t i = 0; i < cfg->nlog_dirs; i++)
        if (ensure_dir(cfg->log_dir_list[i], err, errlen) < 0)
            return -1;
    snprintf(b->metadata_dir, sizeof b->metadata_dir, "%s", cfg->log_dir_list[0]);

    /* The log dirs' identity first: a refusal touches nothing. */
    char found[64];
    const char *found_in = NULL;
    if (scan_meta(cfg, found, &found_in, err, errlen) < 0)
        return -1;
    /* Topic configs and dynamic broker configs are needed while the logs
     * load (config_for), so the metadata comes first. */
    md_broker self;
    broker_self_description(b, &self);
    if (b->cluster_mode) {
        char zerr[768];
        LOG_INF("cluster", "cluster mode: connecting to ZooKeeper at %s (zookeeper.connect)",
                cfg->zookeeper_connect);
        char zk_id[64] = "";
        bool mismatch = false;
        b->md = md_zk_open_checked(cfg->zookeeper_connect, cfg->zookeeper_session_timeout_ms,
                                   cfg->zookeeper_connection_timeout_eff_ms, &self, found,
                                   zk_id, sizeof zk_id, &mismatch, zerr, sizeof zerr);
        if (!b->md && mismatch && zk_id[0]) {
            snprintf(err, errlen, "%s/meta.properties: cluster.id %s does not match the cluster "
                     "id %s in /cluster/id at zookeeper.connect=%s: these logs belong to another "
                     "cluster (wrong zookeeper.connect or chroot?); refused before registering, "
                     "nothing was deleted", found_in, found, zk_id, cfg->zookeeper_connect);
            return -1;
        }
        if (!b->md && mismatch) {
            snprintf(err, errlen, "%s/meta.properties: cluster.id %s, but /cluster/id at "
                     "zookeeper.connect=%s is missing or damaged (%s): the chroot may be wrong "
                     "or the cluster's ZooKeeper data lost; to adopt these logs, create "
                     "/cluster/id as {\"version\":\"1\",\"id\":\"%s\"}; refused before "
                     "registering, nothing was deleted", found_in, found, cfg->zookeeper_connect,
                     zerr, found);
            return -1;
        }
        if (!b->md) {
            snprintf(err, errlen, "zookeeper.connect=%s: %s", cfg->zookeeper_connect, zerr);
            return -1;
        }
        LOG_INF("cluster", "registered as broker %d (broker epoch %lld)", self.id,
                (long long)md_zk_broker_epoch(b->md));
    } else if (!(b->md = md_local_open(b->metadata_dir, &self, err, errlen))) {
        return -1;
    }
    md_set_listener(b->md, on_metadata_change, b);
    if (identity(b, cfg, found, err, errlen) < 0)
        goto fail_meta;
    if (md_load(b->md, &b->loaded, err, errlen) < 0)
        goto fail_meta;
    /* Nothing to hand out until the first InitProducerId reserves a block;
     * ids below this one may belong to producers of earlier runs. */
    b->next_producer_id_block = b->loaded.next_producer_id_block;
    b->next_producer_id = b->next_producer_id_block;
    if (load_dynamic_layers(b, err, errlen) < 0)
        goto fail_meta;
    if (!(b->ents = entities_new())) {
        snprintf(err, errlen, "out of memory");
        goto fail_meta;
    }
    if (entities_reload(b, err, errlen) < 0)
        goto fail_meta;
    cfg = broker_config_current(b);

    /* Segment files kept open (main raised RLIMIT_NOFILE to its hard limit). */
    fdc_set_cap(cfg->samsa_max_open_files > 0 ? (size_t)cfg->samsa_max_open_files : fdc_auto_cap());
    LOG_INF("storage", "keeping at most %zu segment files open (samsa.max.open.files)", fdc_cap());

    log_manager_config lc;
    log_manager_config_defaults(&lc);
    lc.dirs = (const char *const *)cfg->log_dir_list;
    lc.ndirs = (int)cfg->nlog_dirs;
    char cerr[256];
    if (log_config_for_overrides(cfg, NULL, 0, &lc.defaults, NULL, cerr, sizeof cerr) != 0) {
        snprintf(err, errlen, "config error: %s", cerr);
        goto fail_meta;
    }
    lc.config_for = config_for;
    lc.config_ctx = b;
    lc.retention_check_interval_ms = cfg->log_retention_check_interval_ms;
    lc.recovery_checkpoint_interval_ms = cfg->log_flush_offset_checkpoint_interval_ms;
    lc.start_offset_checkpoint_interval_ms = cfg->log_flush_start_offset_checkpoint_interval_ms;
    if (cfg->log_flush_scheduler_interval_ms > 0 && cfg->log_flush_scheduler_interval_ms < lc.flush_check_interval_ms)
        lc.flush_check_interval_ms = cfg->log_flush_scheduler_interval_ms;
    lc.start_threads = true;
    lc.cleaner_enable = cfg->log_cleaner_enable;
    lc.cleaner_threads = cfg->log_cleaner_threads;
    lc.cleaner_dedupe_buffer_size = cfg->log_cleaner_dedupe_buffer_size;
    lc.cleaner_backoff_ms = cfg->log_cleaner_backoff_ms;
    if (log_manager_open(&lc, &b->logs, err, errlen) != 0)
        goto fail_meta;
    /* A single node is every partition's only in-sync replica, so its HW
     * is its LEO (Kafka's maybeIncrementLeaderHW with ISR = {self}); the
     * checkpointed HW can lag after a crash.  In a cluster the HW is the
     * checkpointed one until this broker leads (then C6 moves it) or its
     * leader tells it (follower fetches). */
    if (!b->cluster_mode)
        log_manager_foreach(b->logs, hw_to_log_end, NULL);
    return 0;
fail_meta:
    meta_state_free(&b->loaded);
    md_close(b->md);
    b->md = NULL;
    entities_free(b->ents);
    b->ents = NULL;
    return -1;
}

static void expire_on_loop(loop *lp, void *arg)
{
    delayed_expire_all(lp);
}

void broker_answer_parked(broker *b)
{
    net_threads_run_on_each(&b->srv, expire_on_loop, NULL);
}

/* Flush every log (answering produces that wait for durability), then
 * complete whatever is still parked, so in-flight requests are answered
 * before the network threads stop. */
void broker_quiesce(broker *b)
{
    topic **list = NULL;
    int n = topic_registry_list(&b->topics, &list);
    for (int i = 0; i < n; i++) {
        for (int32_t k = 0; k < topic_nparts(list[i]); k++) {
            partition *p = topic_partition(list[i], k);
            if (p && p->log && plog_flush(p->log) == KERR_NONE)
                partition_notify(p);
        }
    }
    if (n >= 0)
        topic_registry_list_free(list, n);
    net_threads_run_on_each(&b->srv, expire_on_loop, NULL);
}

int broker_storage_close(broker *b, bool clean)
{
    for (int i = 0; i < b->nretired_configs; i++) {
        broker_config_free(b->retired_configs[i]);
        free(b->retired_configs[i]);
    }
    free(b->retired_configs);
    b->retired_configs = NULL;
    b->nretired_configs = 0;
    if (b->dyn_default) {
        topic_overrides_free(b->dyn_default);
        free(b->dyn_default);
        b->dyn_default = NULL;
    }
    if (b->dyn_broker) {
        topic_overrides_free(b->dyn_broker);
        free(b->dyn_broker);
        b->dyn_broker = NULL;
    }
    /* Drop the registry's topics (and with them the partitions' log
     * references) before the manager closes every log. */
    topic_registry_destroy(&b->topics);
    meta_state_free(&b->loaded);
    md_close(b->md);
    b->md = NULL;
    entities_free(b->ents);
    b->ents = NULL;
    if (!b->logs)
        return 0;
    int rc = log_manager_shutdown(b->logs);
    b->logs = NULL;
    if (rc != 0) {
        LOG_ERR("main", "storage did not close cleanly: %s", kerr_name(rc));
        return -1;
    }
    (void)clean;
    return 0;
}
