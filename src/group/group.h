/*
 * group.h - one consumer group of the classic protocol, as the coordinator
 * keeps it in memory: members, generation, chosen protocol, leader, and the
 * committed offsets.
 *
 * States (Kafka's): Empty -> PreparingRebalance -> CompletingRebalance ->
 * Stable, back to PreparingRebalance on any membership change, and Dead
 * once deleted.  This file holds the data and the pure operations on it
 * (lookups, protocol choice, sizes); the transitions with their timers and
 * persistence live in coordinator.c.
 *
 * Threads: only the coordinator thread touches groups.  Strings and byte
 * buffers are owned by the struct that points to them (malloc'd copies).
 */
#ifndef SAMSA_GROUP_GROUP_H
#define SAMSA_GROUP_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/strmap.h"
#include "net/loop.h"

struct kreq;
struct coordinator;

typedef enum group_state {
    GROUP_EMPTY,
    GROUP_PREPARING_REBALANCE,
    GROUP_COMPLETING_REBALANCE,
    GROUP_STABLE,
    GROUP_DEAD,
} group_state;

typedef struct group_protocol {
    char *name;
    uint8_t *meta;
    int32_t meta_len;
} group_protocol;

typedef struct group group;

typedef struct member {
    group *g;
    char *id;
    char *instance_id;            /* static membership (KIP-345); NULL = dynamic */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    group_protocol *protocols;
    int nprotocols;
    uint8_t *assignment;
    int32_t assignment_len;
    struct kreq *join;            /* parked JoinGroup (awaiting the rebalance) */
    struct kreq *sync;            /* parked SyncGroup (awaiting the leader) */
    int join_version;             /* JoinGroup version of the parked join */
    ktimer session;               /* expires the member unless it heartbeats */
    bool owes_sync;               /* answered a JoinGroup, no SyncGroup yet (G3) */
} member;

/* A member id handed out with MEMBER_ID_REQUIRED that has not rejoined. */
typedef struct pending_member {
    group *g;
    char *id;
    ktimer expiry;
} pending_member;

typedef struct offset_entry {
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;               /* metadata_len bytes (may hold NULs), then a NUL */
    int32_t metadata_len;
    int64_t commit_ts;
    int64_t expire_ts;            /* -1 = by group rules */
    /* Log offset of the batch that wrote it in __consumer_offsets (-1:
     * unknown); orders a transaction's offsets against plain commits
     * (TG2, docs/groups.md). */
    int64_t append_offset;
} offset_entry;

/* One producer's pending transactional offsets in a group (TxnOffsetCommit
 * written, no marker yet: TG1). */
typedef struct txn_pending {
    int64_t producer_id;
    strmap offsets;               /* offset key -> offset_entry* */
} txn_pending;

struct group {
    struct coordinator *co;       /* its coordinator (timer callbacks get only the group) */
    char *id;
    int32_t partition;            /* its __consumer_offsets partition */
    group_state state;
    int64_t state_ts_ms;          /* when it entered the current state */
    int32_t generation;
    char *protocol_type;          /* NULL until a member joined */
    char *protocol;               /* chosen protocol; NULL when none */
    char *leader;                 /* leader member id; NULL when none */
    member **members;
    int nmembers, capmembers;
    pending_member **pending;
    int npending, cappending;
    ktimer join_timer;            /* completes the join phase */
    int64_t join_deadline_us;     /* hard limit: max rebalance timeout */
    ktimer sync_timer;            /* drops members that never send SyncGroup (G3) */
    bool initial_delay;           /* the first join of an Empty group is delayed */
    bool new_member_added;        /* someone joined during the initial delay */
    strmap offsets;               /* topic NUL partition(4 bytes) -> offset_entry* */
    bool has_metadata;            /* loading: the last group record was not a tombstone */
    strmap txn;                   /* producer id (8 bytes, big-endian) -> txn_pending* (TG1) */
};

const char *group_state_name(group_state s);
/* "Empty" etc. -> state; -1 if unknown (case-insensitive, as Kafka). */
int group_state_parse(const char *s, int len);

group *group_new(const char *id, int32_t partition);
void group_free(group *g);        /* members, pending, offsets (timers: caller) */

member *group_find_member(const group *g, const char *id);
member *group_find_instance(const group *g, const char *instance_id);
int group_find_pending(const group *g, const char *id);
int group_add_member(group *g, member *m);
/* Forget every member, the protocol and the leader (group metadata
 * replaced or deleted while loading). */
void group_clear_membership(group *g);
/* Unlink (does not free). */
void group_remove_member(group *g, member *m);
void member_free(member *m);
void group_remove_pending(group *g, int idx);

/* The protocol every member supports that most prefer; NULL if none. */
const char *group_select_protocol(const group *g);
/* Does every member support `name`?  (A joining member must share one.) */
bool group_supports(const group *g, const group_protocol *ps, int n);
const group_protocol *member_protocol(const member *m, const char *name);
/* Members whose JoinGroup is parked / all of them. */
int group_joined_count(const group *g);
/* Bytes the group's metadata record would take (an estimate, for limits). */
size_t group_record_size(const group *g);

/* Offsets map key: topic NUL int32 partition (big-endian). */
size_t offset_key(char *buf, size_t cap, const char *topic, int32_t tlen, int32_t partition);
void offset_entry_free(offset_entry *e);
void txn_pending_free(txn_pending *tp);
/* Whether any producer has a pending transactional offset for the offsets
 * map key `key` (TG5, TG6). */
bool group_txn_pending_for(const group *g, const char *key, size_t klen);

/* Kafka's partition for a group id: Utils.abs(Java String.hashCode) % n. */
int32_t group_partition_for(const char *id, size_t len, int32_t nparts);

#endif
