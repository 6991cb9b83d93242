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
 * A partition links the metadata to its log (storage/partition_log.h),
 * carries its replication state (leader, epoch, replicas, ISR: an immutable
 * snapshot, cluster/partition_state.h) and the list of delayed operations
 * (long-poll fetches, produces waiting for a flush) that want to hear when
 * the log changes.
 */
#ifndef SAMSA_CLUSTER_TOPIC_H
#define SAMSA_CLUSTER_TOPIC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/partition_state.h"
#include "cluster/replica_progress.h"
#include "core/uuid.h"

typedef struct plog plog;
typedef struct topic topic;
struct delayed_op;

typedef struct partition {
    topic *topic;
    int32_t index;
    plog *log;                       /* a reference, set before the partition is
                                        published, or later by partition_attach_log
                                        (a replica added by a reassignment); dropped
                                        when the topic is freed */
    plog **old_logs;                 /* logs replaced by partition_attach_log: kept
                                        (referenced) until the topic is freed, since
                                        readers may still hold the pointer */
    int nold_logs;
    /* Replication state: read with partition_state_get(), changed only
     * with partition_set_state() (M2).  leader_epoch mirrors
     * state->leader_epoch for the append path, which stamps batches. */
    pthread_mutex_t state_lock;      /* guards the state pointer only */
    partition_state *state;          /* NULL until the first set: no leader */
    atomic_int leader_epoch;
    /* The ISR is one broker (the leader alone): the high watermark is the
     * log end after every append, and the follower tracking below is never
     * touched (the single-broker hot path).  Set with the state. */
    atomic_bool isr_solo;
    /* The leader's view of its followers (replica_progress.h). */
    replica_progress progress;

    pthread_mutex_t watch_lock;      /* guards watchers */
    atomic_int nwatchers;            /* cheap "anyone listening?" check */
    struct delayed_op **watchers;
    int watch_cap;
} partition;

/* A topic's replication throttle for one side (Kafka's
 * leader.replication.throttled.replicas / follower...): the partitions
 * listed with this broker's id, or every partition ("*"). */
typedef struct throttled_set {
    bool all;
    int n;
    int32_t parts[];
} throttled_set;
enum { THROTTLE_LEADER = 0, THROTTLE_FOLLOWER = 1 };

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
    /* Replication throttles for this broker (NULL: none); replaced sets
     * are kept until the topic is freed, as readers hold no lock. */
    _Atomic(throttled_set *) throttled[2];
    throttled_set **old_throttled;
    int nold_throttled;

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
 * reference the partition takes over) and states[i - current] (likewise;
 * states may be NULL: no leader yet) before the new partitions become
 * visible.  On failure the caller keeps its references.  Caller serialises
 * growth. */
int topic_grow(topic *t, int32_t n, plog **logs, partition_state **states);

/* Attach log l (a reference the partition takes over) to a published
 * partition: a replica assigned here after the topic was loaded (a
 * reassignment, C26).  A previous log (deleted when this broker stopped
 * being a replica) stays allocated until the topic is freed, so a reader
 * that loaded the old pointer keeps a valid (if deleted) log.  -1 when
 * out of memory (the caller keeps its reference).  Admin thread only. */
int partition_attach_log(partition *p, plog *l);
/* The partition's log as of now (any thread; NULL: not hosted here). */
static inline plog *partition_log(const partition *p)
{
    return __atomic_load_n(&((partition *)p)->log, __ATOMIC_ACQUIRE);
}

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

/* The partition's current state, referenced (drop it with pstate_unref),
 * or NULL if none was set yet.  Any thread. */
partition_state *partition_state_get(partition *p);
/* The one way to change a partition's state (M2).  Takes over the
 * caller's reference to s.  Refuses a state whose leader epoch is older
 * than the current one (M1) with KERR_STALE_CONTROLLER_EPOCH, as Kafka
 * ignores such a LeaderAndIsr entry; KERR_NONE when installed.  Any
 * thread; callers that must order several changes serialise themselves
 * (the admin thread does). */
int16_t partition_set_state(partition *p, partition_state *s);
/* The leader's high watermark rule (C6, replica_progress.h): when `self`
 * leads p, raise its HW to the smallest log end offset in the ISR (the LEO
 * when the ISR is the leader alone).  True when the HW moved: the caller
 * then calls partition_notify so parked acks=-1 produces and fetches
 * wake.  Any thread. */
bool partition_advance_hw(partition *p, int32_t self);
/* True when `broker` leads p now.  Any thread. */
bool partition_led_by(partition *p, int32_t broker);
/* docs/cluster.md C9: an append made here in leader epoch `appended_epoch`
 * and ending below `need_offset` may be gone: `self` no longer leads p, or
 * the epoch moved and the leader-epoch cache no longer gives those offsets
 * to the epoch they were appended in (truncated, reused).  An epoch bump
 * with this broker still leading (an ISR change) keeps them.  Waits for
 * acks=all (Produce, WriteTxnMarkers, both coordinators' writes) answer an
 * error instead of "written" when this is true.  Any thread. */
bool partition_append_lost(partition *p, int32_t self, int32_t appended_epoch, int64_t need_offset);

/* Parse a throttled-replicas value ("*", or PARTITION:BROKER,...) keeping
 * the partitions of `broker`; NULL when nothing applies to it (or out of
 * memory, or malformed: the config check refused such values). */
throttled_set *throttled_set_parse(const char *value, int32_t broker);
/* Install s (taken over, NULL = none) as t's throttle for `side`.  -1
 * when out of memory (s freed).  Admin thread only. */
int topic_set_throttled(topic *t, int side, throttled_set *s);
/* Is partition p of t throttled on `side` here?  Any thread, lock-free. */
bool topic_throttled(const topic *t, int side, int32_t p);

/* Override access (caller holds the registry lock). */
int topic_config_set(topic *t, const char *key, const char *value);  /* value NULL = remove */
void topic_config_clear(topic *t);

/* Kafka's topic-name rules: 1..249 chars of [a-zA-Z0-9._-], not "." or "..". */
bool topic_name_valid(const char *name, size_t len, const char **why);

#endif
