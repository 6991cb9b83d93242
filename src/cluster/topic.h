/*
 * topic.h - a topic and its partitions as the broker serves them.
 *
 * A topic has a name, a permanent id, config overrides and an array of
 * partitions that only ever grows (CreatePartitions).  Readers on any thread
 * use topic_partition() without a lock: the array pointer is published
 * before the count, and arrays replaced by growth are kept until the topic
 * is freed.  Topics are reference counted; the registry holds one reference
 * while the topic is live, and every lookup returns one the caller drops
 * with topic_unref().
 *
 * A partition links the metadata to its log (storage/partition_log.h) and
 * carries the list of delayed operations (long-poll fetches, produces
 * waiting for a flush) that want to hear when the log changes.
 */
#ifndef SAMSA_CLUSTER_TOPIC_H
#define SAMSA_CLUSTER_TOPIC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/uuid.h"

typedef struct plog plog;
typedef struct topic topic;
struct delayed_op;

typedef struct partition {
    topic *topic;
    int32_t index;
    plog *log;                       /* a reference, set before the partition is
                                        published; dropped when the topic is freed */
    atomic_int leader_epoch;         /* 0 on a single node */

    pthread_mutex_t watch_lock;      /* guards watchers */
    atomic_int nwatchers;            /* cheap "anyone listening?" check */
    struct delayed_op **watchers;
    int watch_cap;
} partition;

/* Topic config overrides: key/value strings, owned by the topic. */
typedef struct topic_kv {
    char *key, *value;
} topic_kv;

struct topic {
    char *name;
    size_t name_len;
    kuuid id;
    bool internal;
    atomic_int refs;
    atomic_bool deleted;

    _Atomic(int32_t) nparts;
    _Atomic(partition **) parts;
    partition ***retired;            /* replaced arrays, freed with the topic */
    int nretired;

    /* Effective settings the request path reads without locks; refreshed
     * by the admin thread when configs change. */
    atomic_int min_insync_replicas;

    /* Overrides; guarded by the registry lock (read for describe, write
     * for alter). */
    topic_kv *configs;
    int nconfigs;
};

/* A topic with no partitions yet (add them with topic_grow). */
topic *topic_new(const char *name, size_t len, kuuid id, bool internal);
void topic_ref(topic *t);
void topic_unref(topic *t);
/* Grow to n partitions (n > current), attaching logs[i - current] (each a
 * reference the partition takes over) before the new partitions become
 * visible.  Caller serialises growth. */
int topic_grow(topic *t, int32_t n, plog **logs);

static inline int32_t topic_nparts(const topic *t)
{
    return atomic_load_explicit(&((topic *)t)->nparts, memory_order_acquire);
}
static inline partition *topic_partition(const topic *t, int32_t i)
{
    int32_t n = topic_nparts(t);
    if (i < 0 || i >= n)
        return NULL;
    return atomic_load_explicit(&((topic *)t)->parts, memory_order_acquire)[i];
}

/* Override access (caller holds the registry lock). */
int topic_config_set(topic *t, const char *key, const char *value);  /* value NULL = remove */
void topic_config_clear(topic *t);

/* Kafka's topic-name rules: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
bool topic_name_valid(const char *name, size_t len, const char **why);

#endif
