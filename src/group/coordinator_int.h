/*
 * coordinator_int.h - state and helpers shared by the coordinator's files
 * (coordinator.c: thread, loading, persistence; coord_membership.c:
 * join/sync/heartbeat/leave; coord_offsets.c; coord_admin.c).  Everything
 * here runs on the coordinator thread.
 */
#ifndef SAMSA_GROUP_COORDINATOR_INT_H
#define SAMSA_GROUP_COORDINATOR_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "cluster/topic.h"
#include "cluster/topic_registry.h"
#include "core/strmap.h"
#include "group/coordinator.h"
#include "group/group.h"
#include "net/loop.h"
#include "server/delayed.h"
#include "server/request.h"
#include "storage/batch_builder.h"

/* Continuation after records are durable (or failed: err != 0). */
typedef void (*persist_done)(coordinator *co, void *arg, int16_t err);

/* An append waiting to be answered: for an fsync (flush.messages) and/or,
 * when the ISR is more than the leader alone, for the high watermark to
 * cover it (G13). */
typedef struct flush_wait {
    int32_t partition;
    int64_t need;                  /* recovery point / HW must reach this */
    bool flush;                    /* wait for the recovery point */
    bool hw;                       /* wait for the high watermark (ISR > 1) */
    int32_t epoch;                 /* leader epoch of the append (hw waits) */
    int64_t deadline_us;           /* hw waits: offsets.commit.timeout.ms */
    persist_done done;
    void *arg;
} flush_wait;

/* Whether this coordinator serves the groups of one __consumer_offsets
 * partition (G10-G12, docs/groups.md). */
typedef enum cpart_state {
    CPART_UNOWNED,                 /* another broker leads it: NOT_COORDINATOR */
    CPART_LOADING,                 /* elected, reading its log: LOAD_IN_PROGRESS */
    CPART_OWNED,                   /* loaded: its groups are served */
} cpart_state;

typedef struct load_stats {
    int64_t records, offsets, groups;
} load_stats;

/* A transaction marker that arrived while its partition was loading (TG4). */
typedef struct txn_marker {
    int64_t producer_id;
    bool commit;
} txn_marker;

typedef struct coord_part {
    cpart_state state;
    int32_t epoch;                 /* newest elect/resign leader epoch seen; -1 none (G11) */
    /* While LOADING: the next offset to read and the log end to reach. */
    int64_t load_next, load_end;
    int64_t load_t0_us;
    load_stats load_st;
    /* While LOADING: markers written past load_end, applied in order once
     * the load is done (TG4). */
    txn_marker *markers;
    int nmarkers, capmarkers;
} coord_part;

struct coordinator {
    coord_ctx ctx;                 /* what it uses of the process (copied at start) */
    loop *lp;
    pthread_t thread;
    bool running;                  /* the thread was started (main thread only) */
    atomic_bool stopped;           /* coordinator_stop ran: submissions are refused */

    strmap groups;                 /* id -> group* */
    strmap txn_groups;             /* id -> group*: those with pending transactional offsets (TG4) */
    topic *offsets;                /* referenced; NULL until it exists */
    int32_t nparts;
    coord_part *parts;             /* nparts entries, with offsets */
    int nloading;                  /* parts in CPART_LOADING */
    uint8_t *load_buf;             /* read buffer of the loads (one at a time) */
    size_t load_cap;
    delayed_op watcher;            /* hears flushes of the offsets partitions */

    flush_wait *waits;
    int nwaits, capwaits;
    ktimer wait_timer;             /* times out hw waits (offsets.commit.timeout.ms) */
    ktimer expire_timer;

    /* Settings, read once at start (broker config keys). */
    int32_t min_session_ms, max_session_ms;
    int32_t initial_delay_ms;
    int32_t max_group_size;
    int32_t max_metadata_bytes;    /* offset.metadata.max.bytes */
    int64_t retention_ms;          /* offsets.retention.minutes */
    int64_t retention_check_ms;
    size_t max_record_bytes;       /* what one offsets-topic batch may hold */
    int32_t commit_timeout_ms;     /* offsets.commit.timeout.ms */
};

/* ACLs: coord_ctx.authorize, or true without an authorizer (one branch). */
static inline bool coord_authorized(coordinator *co, const kreq *rq, int op, int rtype, kstr name)
{
    return !co->ctx.authorize ||
           co->ctx.authorize(co->ctx.config_arg, rq, op, rtype, name.p ? name.p : "",
                             name.len > 0 ? (size_t)name.len : 0);
}

/* Encode and hand back (the response may point into group state). */
void coord_respond(kreq *rq, const void *resp);

group *coord_group(coordinator *co, const char *id);
group *coord_group_create(coordinator *co, const char *id);
void coord_group_delete(coordinator *co, group *g);

/* Whether this broker coordinates group `id` (G10): NOT_COORDINATOR when
 * it does not own the group's __consumer_offsets partition (another broker
 * leads it), COORDINATOR_LOAD_IN_PROGRESS while it loads it,
 * COORDINATOR_NOT_AVAILABLE when that topic does not exist yet, else NONE.
 * coord_check_owner_k: the same for a wire string. */
int16_t coord_check_owner(coordinator *co, const char *id);
int16_t coord_check_owner_k(coordinator *co, kstr id);

/* Whether the groups of offsets partition `part` are served now (G10). */
bool coord_owns_partition(const coordinator *co, int32_t part);

/* coord_load.c: loading and ownership of the offsets partitions. */
void coord_load_all(coordinator *co);                 /* start-up: attach, load what is led here */
void coord_offsets_created(coordinator *co, topic *t);   /* created here: attach, own what is led */
bool coord_load_step(coordinator *co);                /* one chunk per loading partition; true: more */
/* Drop partition part's groups; parked requests and waiting writes get err. */
void coord_drop_partition(coordinator *co, int32_t part, int16_t err);
/* Answer g's parked JoinGroups/SyncGroups with err; stop its sessions. */
void coord_answer_parked(coordinator *co, group *g, int16_t err);
/* Answer every write waiting on partition part with err (coordinator.c). */
void coord_fail_waits(coordinator *co, int32_t part, int16_t err);

/* Append records to the offsets partition; done() runs when they are
 * durable as configured and, when the ISR is more than this leader, once
 * the high watermark covers them (G13; maybe at once).  Returns the append error (done
 * is then not called) or 0. */
int16_t coord_persist(coordinator *co, int32_t partition, const bb_record *recs, int n,
                      persist_done done, void *arg);
/* What coord_persist_ex adds: the batch is transactional for producer_id
 * (>= 0; TG3) and appended(co, arg, base offset) runs once the records are
 * in the log, before done() (which may run within the call). */
typedef struct persist_opts {
    int64_t producer_id;           /* -1: a plain batch */
    int16_t producer_epoch;
    void (*appended)(coordinator *co, void *arg, int64_t base_offset);
    bool verify;                   /* KIP-890 TV1: append presenting `guard` */
    uint64_t guard;
} persist_opts;
int16_t coord_persist_ex(coordinator *co, int32_t partition, const bb_record *recs, int n,
                         const persist_opts *o, persist_done done, void *arg);
/* Record builders (malloc'd key/value in *rec; free with coord_record_free). */
int coord_group_record(const group *g, bb_record *rec);
int coord_group_tombstone(const group *g, bb_record *rec);
int coord_offset_record(const char *group_id, const char *topic_name, int32_t partition_index,
                        const offset_entry *e, bb_record *rec);
void coord_record_free(bb_record *rec);
/* Map an append error to what group/offset APIs answer (as Kafka does). */
int16_t coord_map_store_error(int16_t err, bool for_offsets);

/* The checks Sync/Heartbeat/OffsetCommit share: the member exists, its
 * static instance id (if any) matches, the generation is current.
 * Returns the error or NONE; *out is the member when found. */
int16_t coord_check_member(group *g, kstr member_id, kstr instance_id, int32_t generation,
                           member **out);

/* coord_offsets.c: one partition of an OffsetCommit or TxnOffsetCommit,
 * checked as Kafka does (the partition exists: UNKNOWN_TOPIC_OR_PARTITION;
 * metadata within offset.metadata.max.bytes: OFFSET_METADATA_TOO_LARGE):
 * fills e (malloc'd, append_offset -1), key/klen (malloc'd map key) and
 * *rec (free with coord_record_free) and returns NONE, or returns the
 * partition's error with nothing to free. */
typedef struct commit_one {
    topic *t;                      /* in: the topic (NULL: unknown) */
    const char *tname;             /* in: its name (NULL: out of memory) */
    int32_t tlen, partition;
    int64_t offset;
    int32_t leader_epoch;
    kstr metadata;
    int64_t commit_ts, expire_ts;
    offset_entry *e;               /* out */
    char *key;                     /* out */
    size_t klen;                   /* out */
} commit_one;
int16_t coord_commit_prepare(coordinator *co, const char *group_id, commit_one *c, bb_record *rec);

/* coord_txn.c: pending transactional offsets (TG1-TG7, docs/groups.md). */
/* Keep e (owned from now, freed on failure) as producer pid's pending
 * offset for key; -1 when out of memory. */
int coord_txn_add(coordinator *co, group *g, int64_t pid, const char *key, size_t klen, offset_entry *e);
/* Drop pid's pending offset for key, if written at append_offset (-1: any). */
void coord_txn_remove(coordinator *co, group *g, int64_t pid, const char *key, size_t klen,
                      int64_t append_offset);
/* A plain tombstone for key: no producer's offset for it stays pending. */
void coord_txn_drop_key(coordinator *co, group *g, const char *key, size_t klen);
/* Producer pid's marker on offsets partition part: its pending offsets in
 * the groups of part are committed (TG2) or dropped.  Returns how many. */
int coord_txn_complete_partition(coordinator *co, int32_t part, int64_t pid, bool commit);
/* Apply (apply true) or forget the markers queued while part loaded. */
void coord_txn_flush_markers(coordinator *co, int32_t part, bool apply);
/* Make e (owned from now) g's committed offset for key unless the one
 * there was appended later (TG2). */
void coord_offset_apply(group *g, const char *key, size_t klen, offset_entry *e);

/* Membership internals used across files. */
void coord_remove_member(coordinator *co, group *g, member *m, int16_t reply_err);
void coord_schedule_session(coordinator *co, member *m);
/* Expire the group's members and pending members whose deadline has passed
 * but whose timer has not run yet (G9). */
void coord_expire_overdue(coordinator *co, group *g);
void coord_set_state(group *g, group_state s);
void coord_store_group(coordinator *co, group *g);   /* fire-and-forget metadata write */

/* Helpers */
char *coord_strdup_k(kstr s);                        /* malloc'd copy; "" for null */
/* e->metadata = a copy of s, every byte of it (a STRING may hold NULs; null
 * is stored as "", as Kafka does); -1 when out of memory. */
int coord_entry_set_metadata(offset_entry *e, kstr s);
kstr coord_entry_metadata(const offset_entry *e);    /* the bytes set above */
bool kstr_is(kstr s, const char *c);                 /* equal (null matches NULL) */
int64_t coord_now_ms(void);

#endif
