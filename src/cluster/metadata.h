/*
 * metadata.h - the cluster's metadata as one interface.
 *
 * What it covers (and where Kafka's ZooKeeper layout keeps it;
 * /work/shared/kafka-protocol/ZOOKEEPER-LAYOUT.md):
 *   topics: name, id, internal flag, partition count     /brokers/topics/T
 *   partition assignments (replica list per partition)   /brokers/topics/T
 *   partition state: leader, leader epoch, ISR, and the
 *     partition epoch (the znode version, for CAS)      .../partitions/P/state
 *   topic config overrides                               /config/topics/T
 *   dynamic broker configs (cluster default, this broker) /config/brokers/..
 *   live brokers: id, rack, endpoints                    /brokers/ids/N
 *   the cluster id                                       /cluster/id
 *   producer-id blocks                                   /latest_producer_id_block
 * and a listener told of changes.
 *
 * A store is a `cluster_md` whose `ops` table implements the operations;
 * callers use only the md_* wrappers below.  Two implementations: the
 * local store (metadata_store.h: one broker, one JSON file, every
 * partition's replicas = ISR = {self}, leader = self) and the ZooKeeper
 * store (metadata_zk.h, docs/cluster-zookeeper.md), shared by every broker
 * of a cluster.  Because a shared store has several writers, changes go
 * through the per-entity writes (md_create_topic, md_delete_topic,
 * md_set_topic_configs, md_set_broker_configs), each of which touches one
 * entity and nothing else; md_store (replace everything) remains for the
 * local store only (the ZooKeeper store refuses it).
 *
 * Threads:
 *   md_load, md_store, md_partition_state, md_reserve_producer_ids,
 *   md_register_broker, md_create_topic, md_delete_topic,
 *   md_set_topic_configs, md_set_broker_configs, md_load_entities,
 *   md_load_entity, md_set_entity_configs, md_close
 *       the admin worker thread (the single writer of cluster metadata),
 *       or startup/shutdown before/after the network threads run;
 *   md_live_brokers, md_cluster_id
 *       any thread (the store guards its own copy);
 *   md_set_listener
 *       before the network threads start, once (a store's own thread may
 *       notify meanwhile, so the pair is stored atomically).  The listener
 *       runs on the thread that caused the change (admin thread for the
 *       local store; the store's own event thread for changes the
 *       ZooKeeper store learns from its watches), after the store dropped
 *       its locks; it may call the any-thread reads, never the writers
 *       (post work to the admin thread instead).
 */
#ifndef SAMSA_CLUSTER_METADATA_H
#define SAMSA_CLUSTER_METADATA_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cluster/partition_state.h"
#include "cluster/topic.h"
#include "core/uuid.h"

/* ------------------------------------------------------------- records */

typedef struct meta_topic {
    char *name;
    kuuid id;
    int32_t partitions;
    bool internal;
    topic_kv *configs;
    int nconfigs;
    /* Replica assignment: partitions x replication_factor broker ids, row
     * by row; NULL = every partition on this broker alone (the local
     * store's only shape).  With nreplicas set (a reassignment in
     * progress: partitions hold different counts), row p holds
     * nreplicas[p] ids and replication_factor is the largest count (the
     * row stride); use meta_topic_replicas. */
    int32_t replication_factor;
    int32_t *replicas;
    int32_t *nreplicas;          /* [partitions], or NULL: every row is full */
    /* Cluster mode: its /brokers/topics/T (damaged) or /config/topics/T
     * (configs_damaged) znode does not decode.  A damaged topic carries its
     * name only: the broker keeps whatever it has of it (never drops it, never
     * creates it); damaged configs: the broker keeps the configs it has
     * (docs/cluster.md §11). */
    bool damaged, configs_damaged;
} meta_topic;

/* Partition p's replicas (row pointer, *n ids); NULL when t has no
 * assignment (the local store) or p is out of range. */
static inline const int32_t *meta_topic_replicas(const meta_topic *t, int32_t p, int32_t *n)
{
    *n = 0;
    if (!t->replicas || t->replication_factor < 1 || p < 0 || p >= t->partitions)
        return NULL;
    *n = t->nreplicas ? t->nreplicas[p] : t->replication_factor;
    return &t->replicas[(size_t)p * (size_t)t->replication_factor];
}

typedef struct meta_kvs {
    topic_kv *v;
    int n;
} meta_kvs;

/* The durable part of the metadata, as loaded and stored whole. */
typedef struct meta_state {
    meta_topic *topics;
    int ntopics;
    /* Dynamic broker configs: the cluster-wide default layer (resource
     * "") and this broker's layer (resource "<node id>"). */
    meta_kvs broker_default;
    meta_kvs broker_own;
    /* Cluster mode: a /config/brokers znode does not decode; the broker
     * keeps the dynamic configs it has (both layers are then empty). */
    bool broker_configs_damaged;
    /* As loaded: the first producer id never reserved (ids below it may
     * belong to producers from earlier runs).  md_store ignores it: only
     * md_reserve_producer_ids moves it. */
    int64_t next_producer_id_block;
    /* As loaded: false when the store held no metadata at all (a fresh
     * install, or logs written by another tool: the caller may adopt
     * what it finds on disk). */
    bool found;
} meta_state;

void meta_state_free(meta_state *st);

/* User and client-id config entities (cluster/entity.h): each its path as
 * stored ("users/alice", "users/<default>/clients/c1", sanitized) and its
 * configs (SCRAM credentials, quotas). */
typedef struct md_entity {
    char *path;
    topic_kv *v;
    int n;
} md_entity;
typedef struct md_entities {
    md_entity *v;
    int n;
} md_entities;
void md_entities_free(md_entities *e);

#define MD_MAX_ENDPOINTS 8
#define MD_MAX_BROKERS 64

typedef struct md_endpoint {
    char listener[64];           /* listener name; "" = unnamed (any) */
    char host[256];
    int32_t port;
} md_endpoint;

typedef struct md_broker {
    int32_t id;
    char rack[128];              /* "" = none */
    int nendpoints;
    md_endpoint ep[MD_MAX_ENDPOINTS];
} md_broker;

/* Immutable, referenced snapshot of the live brokers, sorted by id. */
typedef struct md_brokers {
    atomic_int refs;
    int n;
    md_broker v[];
} md_brokers;

void md_brokers_unref(md_brokers *bs);
const md_broker *md_brokers_find(const md_brokers *bs, int32_t id);
/* The endpoint of `br` on the named listener, else its first one. */
const md_endpoint *md_broker_endpoint(const md_broker *br, const char *listener);
/* The endpoint of `br` on the named listener only (NULL when it has none):
 * inter-broker connections (docs/security.md S-CL5). */
const md_endpoint *md_broker_endpoint_named(const md_broker *br, const char *listener);

/* --------------------------------------------------------------- events */

/* MD_EV_BROKERS    the live brokers changed (md_live_brokers);
 * MD_EV_TOPICS     topics were created or deleted (md_load to see them);
 * MD_EV_PARTITION  one partition's state changed;
 * MD_EV_CONFIG     a topic or dynamic broker config changed (md_load);
 * MD_EV_SESSION_LOST  the ZooKeeper session expired: this broker is no
 *                  longer registered, the store refuses reads and writes
 *                  until md_zk_reconnect (metadata_zk.h) succeeds. */
enum md_event_kind { MD_EV_BROKERS, MD_EV_TOPICS, MD_EV_PARTITION, MD_EV_CONFIG,
                     MD_EV_SESSION_LOST };
typedef struct md_event {
    enum md_event_kind kind;
    const char *topic;           /* MD_EV_PARTITION */
    int32_t partition;
    /* MD_EV_CONFIG: the entity that changed, Kafka's entity path
     * ("topics/T", "brokers/<default>", "brokers/N"), valid during the
     * call; NULL = unknown (reload every config). */
    const char *entity;
} md_event;
typedef void (*md_listener_fn)(void *ctx, const md_event *ev);

/* ------------------------------------------------------------ interface */

typedef struct cluster_md cluster_md;

typedef struct cluster_md_ops {
    const char *name;
    int (*load)(cluster_md *m, meta_state *out, char *err, size_t errlen);
    int (*store)(cluster_md *m, const meta_state *st, char *err, size_t errlen);
    partition_state *(*partition_state)(cluster_md *m, const meta_topic *t, int32_t partition);
    int (*reserve_producer_ids)(cluster_md *m, int64_t count, int64_t *first, char *err,
                                size_t errlen);
    md_brokers *(*live_brokers)(cluster_md *m);
    int (*register_broker)(cluster_md *m, const md_broker *br, char *err, size_t errlen);
    int (*cluster_id)(cluster_md *m, const char *proposed, char *out, size_t cap);
    int (*create_topic)(cluster_md *m, const meta_topic *t, char *err, size_t errlen);
    int (*delete_topic)(cluster_md *m, const char *name, char *err, size_t errlen);
    int (*add_partitions)(cluster_md *m, const char *name, int32_t total, int32_t rf,
                          const int32_t *replicas, char *err, size_t errlen);
    int (*set_topic_configs)(cluster_md *m, const char *name, const topic_kv *v, int n,
                             char *err, size_t errlen);
    int (*set_broker_configs)(cluster_md *m, bool cluster_default, const topic_kv *v, int n,
                              char *err, size_t errlen);
    int (*load_entities)(cluster_md *m, md_entities *out, char *err, size_t errlen);
    int (*load_entity)(cluster_md *m, const char *path, md_entities *out, char *err,
                       size_t errlen);
    int (*set_entity_configs)(cluster_md *m, const char *path, const topic_kv *v, int n,
                              char *err, size_t errlen);
    void (*destroy)(cluster_md *m);
} cluster_md_ops;

struct cluster_md {
    const cluster_md_ops *ops;
    int32_t self;                /* this broker's id */
    /* Atomic: a store with a thread of its own (ZooKeeper) may notify
     * while the listener is being set. */
    _Atomic(md_listener_fn) listener;
    _Atomic(void *) listener_ctx;
};

/* Everything durable.  A store with nothing yet loads an empty state
 * (returns 0); -1 with a message naming the file/znode otherwise. */
static inline int md_load(cluster_md *m, meta_state *out, char *err, size_t errlen)
{ return m->ops->load(m, out, err, errlen); }
/* Replace topics, assignments, topic configs and dynamic broker configs
 * durably; -1 with a message and nothing changed on failure. */
static inline int md_store(cluster_md *m, const meta_state *st, char *err, size_t errlen)
{ return m->ops->store(m, st, err, errlen); }
/* The state a partition starts with at load or creation (referenced), or
 * NULL when out of memory. */
static inline partition_state *md_partition_state(cluster_md *m, const meta_topic *t, int32_t p)
{ return m->ops->partition_state(m, t, p); }
/* Durably reserve `count` producer ids, never handed out before; the first
 * in *first. */
static inline int md_reserve_producer_ids(cluster_md *m, int64_t count, int64_t *first, char *err,
                                          size_t errlen)
{ return m->ops->reserve_producer_ids(m, count, first, err, errlen); }
/* The live brokers (referenced; md_brokers_unref), NULL when out of memory. */
static inline md_brokers *md_live_brokers(cluster_md *m) { return m->ops->live_brokers(m); }
/* Add or replace a live broker (not this one); MD_EV_BROKERS follows. */
static inline int md_register_broker(cluster_md *m, const md_broker *br, char *err, size_t errlen)
{ return m->ops->register_broker(m, br, err, errlen); }
/* The cluster id: the store's if it has one, else `proposed`, which it
 * keeps.  Copies into out; -1 if it does not fit. */
static inline int md_cluster_id(cluster_md *m, const char *proposed, char *out, size_t cap)
{ return m->ops->cluster_id(m, proposed, out, cap); }

/* Per-entity writes.  Return MD_OK, MD_EXISTS, MD_NOT_FOUND or MD_ERR
 * (with a message naming the file or znode and, for ZooKeeper, the
 * connect string).  Each is durable when it returns MD_OK, and changes
 * nothing on any other result (the ZooKeeper store: see metadata_zk.h for
 * the one window a crash can leave).  A listener hears MD_EV_TOPICS or
 * MD_EV_CONFIG afterwards (ZooKeeper: from its watch, on the event thread). */
enum { MD_OK = 0, MD_ERR = -1, MD_EXISTS = -2, MD_NOT_FOUND = -3,
       MD_BUSY = -4 /* a reassignment is running on the entity (md_add_partitions) */ };
/* Create topic t (name, id, partitions, internal, configs, assignment;
 * replicas NULL = every partition on this broker alone); MD_EXISTS when a
 * topic of that name exists. */
static inline int md_create_topic(cluster_md *m, const meta_topic *t, char *err, size_t errlen)
{ return m->ops->create_topic(m, t, err, errlen); }
/* Delete a topic (local: at once; ZooKeeper: mark it in
 * /admin/delete_topics for the controller, which removes it later);
 * MD_NOT_FOUND when no such topic. */
static inline int md_delete_topic(cluster_md *m, const char *name, char *err, size_t errlen)
{ return m->ops->delete_topic(m, name, err, errlen); }
/* Grow topic `name` to `total` partitions; the new ones get rf replicas
 * each, row by row in `replicas`.  MD_NOT_FOUND when no such topic;
 * MD_BUSY while one of its partitions is being reassigned; MD_ERR
 * when the store has no per-entity growth (the local store grows through
 * md_store) or the assignment changed meanwhile. */
static inline int md_add_partitions(cluster_md *m, const char *name, int32_t total, int32_t rf,
                                    const int32_t *replicas, char *err, size_t errlen)
{
    if (!m->ops->add_partitions) {
        snprintf(err, errlen, "the %s metadata store cannot add partitions one topic at a time",
                 m->ops->name);
        return MD_ERR;
    }
    return m->ops->add_partitions(m, name, total, rf, replicas, err, errlen);
}
/* Replace a topic's config overrides with v[0..n) (n = 0: none). */
static inline int md_set_topic_configs(cluster_md *m, const char *name, const topic_kv *v, int n,
                                       char *err, size_t errlen)
{ return m->ops->set_topic_configs(m, name, v, n, err, errlen); }
/* Replace one layer of dynamic broker configs: the cluster-wide default
 * (cluster_default) or this broker's own. */
static inline int md_set_broker_configs(cluster_md *m, bool cluster_default, const topic_kv *v,
                                        int n, char *err, size_t errlen)
{ return m->ops->set_broker_configs(m, cluster_default, v, n, err, errlen); }

/* Every user and client-id entity with its configs (ZooKeeper: the
 * znodes under /config/users and /config/clients; local: the file's
 * "entities").  MD_OK or MD_ERR; an entity whose znode does not decode is
 * reported and left out. */
static inline int md_load_entities(cluster_md *m, md_entities *out, char *err, size_t errlen)
{ return m->ops->load_entities(m, out, err, errlen); }
/* One entity: out holds it (one element) when it has configs, nothing when
 * it has none or no such entity exists; MD_OK or MD_ERR. */
static inline int md_load_entity(cluster_md *m, const char *path, md_entities *out, char *err,
                                 size_t errlen)
{ return m->ops->load_entity(m, path, out, err, errlen); }
/* Replace one entity's configs (path as cluster/entity.h formats it;
 * n = 0: it has none left and is removed where nothing hangs below it);
 * a change notification follows (MD_EV_CONFIG with the path; ZooKeeper:
 * /config/changes, so every broker hears it). */
static inline int md_set_entity_configs(cluster_md *m, const char *path, const topic_kv *v,
                                        int n, char *err, size_t errlen)
{ return m->ops->set_entity_configs(m, path, v, n, err, errlen); }

static inline void md_set_listener(cluster_md *m, md_listener_fn fn, void *ctx)
{
    atomic_store_explicit(&m->listener_ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&m->listener, fn, memory_order_release);
}
static inline void md_close(cluster_md *m) { if (m) m->ops->destroy(m); }

/* Tell the listener (implementations call this after a change). */
static inline void md_notify(cluster_md *m, const md_event *ev)
{
    md_listener_fn fn = atomic_load_explicit(&m->listener, memory_order_acquire);
    if (fn)
        fn(atomic_load_explicit(&m->listener_ctx, memory_order_relaxed), ev);
}

#endif
