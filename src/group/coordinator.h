/*
 * coordinator.h - the group coordinator: consumer groups of the classic
 * protocol and their committed offsets, persisted in __consumer_offsets.
 *
 * The coordinator is an actor: one thread with its own event loop owns
 * every group, member, timer and offset.  Network threads hand it whole
 * requests (coordinator_submit); it decides, writes records to the
 * offsets topic's partition logs, and encodes responses itself before
 * handing each request back to its loop.  No locks guard group state
 * because nothing else touches it.  Requests that must wait (JoinGroup
 * until the rebalance completes, SyncGroup until the leader's assignment
 * is durable, OffsetCommit until an fsync when flush.messages asks for
 * one) are simply kept by the coordinator until then.
 *
 * Startup loads each partition of __consumer_offsets, newest record per
 * key wins; the topic is compacted, so this stays proportional to live
 * keys plus what the cleaner has not reached yet.
 */
#ifndef SAMSA_GROUP_COORDINATOR_H
#define SAMSA_GROUP_COORDINATOR_H

#include <stdbool.h>
#include <stddef.h>

struct broker;
struct kreq;
struct topic;
typedef struct coordinator coordinator;

#define OFFSETS_TOPIC "__consumer_offsets"

/* Start the thread; if the offsets topic exists it is loaded first. */
int coordinator_start(struct broker *b, char *err, size_t errlen);
/* Answer what is parked, stop the thread, free everything. */
void coordinator_stop(struct broker *b);

/* Run fn(co, rq) on the coordinator thread. */
void coordinator_submit(struct broker *b, struct kreq *rq, void (*fn)(coordinator *co, struct kreq *rq));
/* The offsets topic now exists (created by FindCoordinator); any thread. */
void coordinator_offsets_topic_created(struct broker *b, struct topic *t);

/* Request handlers, run on the coordinator thread. */
void coord_join_group(coordinator *co, struct kreq *rq);
void coord_sync_group(coordinator *co, struct kreq *rq);
void coord_heartbeat(coordinator *co, struct kreq *rq);
void coord_leave_group(coordinator *co, struct kreq *rq);
void coord_offset_commit(coordinator *co, struct kreq *rq);
void coord_offset_fetch(coordinator *co, struct kreq *rq);
void coord_offset_delete(coordinator *co, struct kreq *rq);
void coord_describe_groups(coordinator *co, struct kreq *rq);
void coord_list_groups(coordinator *co, struct kreq *rq);
void coord_delete_groups(coordinator *co, struct kreq *rq);

#endif
