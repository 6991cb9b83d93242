/*
 * entities.h - the broker's view of the user and client-id entities
 * (cluster/entity.h): SCRAM credentials for SASL/SCRAM logins
 * (server_ops.scram_lookup) and client quotas (their bounds and the
 * rates they are measured against, Kafka's ClientQuotaManager).
 *
 * The cache is an immutable, referenced snapshot of every entity, built
 * on the admin thread from md_load_entities at start, and patched with the
 * one entity re-read (md_load_entity) after each write this broker makes
 * and whenever the store reports a change of a user or client entity
 * (ZooKeeper: /config/changes, so a change made on another broker lands
 * here within the watch's latency); a change naming no entity re-reads
 * them all.  Readers on any thread
 * take the current snapshot under a mutex held only for the pointer swap
 * (S-ENT2: a login or a quota check never sees a half-built snapshot).
 *
 * Quotas: three kinds, producer_byte_rate (Produce request bytes),
 * consumer_byte_rate (Fetch response bytes, follower fetches exempt) and
 * request_percentage (handler time, 100 = one thread).  A client's bound
 * is found with Kafka's precedence of (user, client-id) entities, first
 * match per kind:
 *   1 users/U/clients/C  2 users/U/clients/<default>  3 users/U
 *   4 users/<default>/clients/C  5 users/<default>/clients/<default>
 *   6 users/<default>  7 clients/C  8 clients/<default>
 * and measured per (user, client-id) as that level names them (a default
 * part counts per actual name: each user under users/<default> has its own
 * rate).  The rates live in a bounded map (S-ENT5).
 */
#ifndef SAMSA_BROKER_ENTITIES_H
#define SAMSA_BROKER_ENTITIES_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/scram.h"
#include "cluster/entity.h"
#include "cluster/topic.h"
#include "server/request.h"

typedef struct broker broker;

enum quota_kind { QK_PRODUCE, QK_FETCH, QK_REQUEST, QK_COUNT };
/* Kafka's config keys, by kind. */
extern const char *const quota_keys[QK_COUNT];

typedef struct ent_entry {
    ent_name name;
    char path[ENT_PATH_MAX];     /* as stored (sanitized) */
    bool has_scram[3];           /* by mechanism: [SCRAM_SHA_256], [SCRAM_SHA_512] */
    scram_cred scram[3];
    double quota[QK_COUNT];      /* < 0: not set */
    char **keys, **values;       /* every config, as stored */
    int n;
} ent_entry;

typedef struct ent_snapshot {
    _Atomic int refs;
    int n;
    bool any_quota;              /* fast path: no entity has a quota */
    ent_entry *v;
} ent_snapshot;

typedef struct entities entities;

entities *entities_new(void);
void entities_free(entities *e);
/* Re-read every entity from the store and publish it.  Admin thread (or
 * startup).  0, or -1 with err (the old snapshot stays). */
int entities_reload(broker *b, char *err, size_t errlen);
/* Re-read one entity (path as stored) and publish the snapshot with it
 * replaced (or gone); the others are kept as they are.  Admin thread. */
int entities_reload_one(broker *b, const char *path, char *err, size_t errlen);
/* A change was reported (any thread): true when the caller should queue
 * a reload, false when one is queued already and has not started (a burst
 * of changes costs one re-read, not one each). */
bool entities_mark_stale(entities *e);
/* The queued reload is failing to be queued (admin_post refused). */
void entities_unmark_stale(entities *e);
/* The current snapshot, referenced (any thread); never NULL. */
ent_snapshot *entities_get(entities *e);
void ent_snapshot_unref(ent_snapshot *s);
/* The entity of this exact name in s, or NULL. */
const ent_entry *ent_find(const ent_snapshot *s, const ent_name *n);

/* A mutable copy of one entity's configs, to edit and store (admin
 * thread).  Functions returning int: 0, or -1 when out of memory. */
typedef struct ent_kvs {
    topic_kv *v;
    int n, cap;
} ent_kvs;
int ent_kvs_init(ent_kvs *k, const ent_entry *e);      /* e NULL: empty */
int ent_kvs_set(ent_kvs *k, const char *key, const char *value);
bool ent_kvs_del(ent_kvs *k, const char *key);
void ent_kvs_free(ent_kvs *k);
/* Store the entity at `path` with k's configs (none: removed) through the
 * metadata store, then republish the snapshot so this broker's next login
 * or quota check sees it (S-ENT2).  Admin thread.  MD_OK or an MD_ error
 * with err naming the file or znode. */
int entities_store(broker *b, const char *path, const ent_kvs *k, char *err, size_t errlen);

/* server_ops.scram_lookup. */
int entities_scram_lookup(void *ctx, const char *user, int8_t mech, scram_cred *out);

/* Quotas.  Record `value` for rq's (user, client-id) against its bound of
 * this kind and return the throttle it earns (0: none or no quota). */
int32_t quotas_record(broker *b, kreq *rq, enum quota_kind kind, double value);
/* Take back a value recorded for rq (a Fetch answered empty because it
 * was throttled: Kafka's unrecordQuotaSensor). */
void quotas_unrecord(broker *b, kreq *rq, enum quota_kind kind, double value);
/* The most a response may carry without a guaranteed throttle: the bound
 * times (quota.window.num - 1) windows (Kafka's getMaxValueInQuotaWindow);
 * 0 when rq's client has no quota of this kind. */
double quotas_window_max(broker *b, const kreq *rq, enum quota_kind kind);
/* server_ops.request_quota: record request_percentage for rq. */
int32_t quotas_request_time(void *ctx, kreq *rq, int64_t handler_ns);

#endif
