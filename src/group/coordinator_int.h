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

typedef struct flush_wait {
    int32_t partition;
    int64_t need;                  /* recovery point must reach this */
    persist_done done;
    void *arg;
} flush_wait;

struct coordinator {
    coord_ctx ctx;                 /* what it uses of the process (copied at start) */
    loop *lp;
    pthread_t thread;
    bool running;                  /* the thread was started (main thread only) */
    atomic_bool stopped;           /* coordinator_stop ran: submissions are refused */

    strmap groups;                 /* id -> group* */
    topic *offsets;                /* referenced; NULL until it exists */
    int32_t nparts;
    delayed_op watcher;            /* hears flushes of the offsets partitions */

    flush_wait *waits;
    int nwaits, capwaits;
    ktimer expire_timer;

    /* Settings, read once at start (broker config keys). */
    int32_t min_session_ms, max_session_ms;
    int32_t initial_delay_ms;
    int32_t max_group_size;
    int32_t max_metadata_bytes;    /* offset.metadata.max.bytes */
    int64_t retention_ms;          /* offsets.retention.minutes */
    int64_t retention_check_ms;
    size_t max_record_bytes;       /* what one offsets-topic batch may hold */
};

/* Encode and hand back (the response may point into group state). */
void coord_respond(kreq *rq, const void *resp);

group *coord_group(coordinator *co, const char *id);
group *coord_group_create(coordinator *co, const char *id);
void coord_group_delete(coordinator *co, group *g);

/* Whether this broker coordinates group `id`: NOT_COORDINATOR when another
 * broker leads its __consumer_offsets partition, COORDINATOR_NOT_AVAILABLE
 * when that topic does not exist yet, else NONE. */
int16_t coord_check_owner(coordinator *co, const char *id);

/* Append records to the offsets partition; done() runs when they are
 * durable as configured (maybe at once).  Returns the append error (done
 * is then not called) or 0. */
int16_t coord_persist(coordinator *co, int32_t partition, const bb_record *recs, int n,
                      persist_done done, void *arg);
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
bool kstr_is(kstr s, const char *c);                 /* equal (null matches NULL) */
int64_t coord_now_ms(void);

#endif
