/*
 * fetcher.h - replica fetchers: the follower side of replication.
 *
 * For each partition this broker follows, a fetcher thread copies the
 * leader's log byte for byte (docs/replication.md):
 *   1. truncate (C8): ask the leader OffsetForLeaderEpoch for the latest
 *      epoch of the local log and cut the local log where the two stop
 *      agreeing (repl/truncation.h), with log_manager_truncate_to;
 *   2. fetch: Fetch v12 with replica_id = this broker, the leader epoch we
 *      were given as current_leader_epoch and the local LEO as fetch
 *      offset; every returned batch is appended with plog_append_follower
 *      (the leader's offsets and epochs kept), then the local high
 *      watermark becomes min(the leader's, local LEO).
 * Errors, per partition: OFFSET_OUT_OF_RANGE below the leader's log
 * start empties the local log and restarts it there (Kafka's
 * truncateFullyAndStartAt); above, and a batch below the LEO, go back to
 * step 1; FENCED_LEADER_EPOCH stops the partition (logged)
 * until the next repl_follow; NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH
 * and UNKNOWN_TOPIC_OR_PARTITION (a leader that has not applied its own
 * LeaderAndIsr yet) are retried after 50 ms; anything else after
 * replica.fetch.backoff.ms.
 * A lost connection is re-established after the same backoff.
 *
 * num.replica.fetchers threads per leader broker ("samsa-f<leader
 * id>-<n>"; a partition goes to Kafka's abs(31 * topic hash + partition)
 * modulo that count), each created the first time a partition needs it
 * and kept until repl_fetchers_free.  Fetch v12 names topics (not ids): a follower's log
 * may have been created under a topic id of its own until the controller
 * creates replicas from LeaderAndIsr's ids.
 *
 * Threads: repl_follow / repl_unfollow from any thread (the admin thread
 * today, serialised by it); each fetcher's partition list is guarded by
 * its mutex, which the fetcher thread also holds while it truncates or
 * appends (never during a network call).  So when repl_unfollow returns,
 * no follower append to that partition is running or will run: the
 * partition can become leader at once.
 *
 * The module reaches the process through its repl_ctx only (never
 * `broker *`, which sits above it).
 */
#ifndef SAMSA_REPL_FETCHER_H
#define SAMSA_REPL_FETCHER_H

#include <stdbool.h>
#include <stdint.h>

struct broker_config;
struct log_manager;
struct partition;
struct topic;

struct kclient_security;
typedef struct repl_ctx {
    int32_t node_id;                 /* our replica id in Fetch requests */
    struct log_manager *logs;        /* truncation, flush requests */
    /* The current configuration (replica.fetch.*). */
    const struct broker_config *(*config)(void *arg);
    void *config_arg;
    /* How to reach leaders (inter-broker listener; NULL = PLAINTEXT);
     * outlives the fetchers. */
    const struct kclient_security *sec;
} repl_ctx;

typedef struct repl_fetchers repl_fetchers;

/* NULL when out of memory.  No thread runs until a partition is followed. */
repl_fetchers *repl_fetchers_new(const repl_ctx *ctx);
/* Stop and join every fetcher thread (shutdown, before the logs close);
 * later repl_follow calls fail, so the struct stays valid for threads
 * that may still call in.  NULL: no-op. */
void repl_fetchers_stop(repl_fetchers *rf);
/* Stop if needed, drop every partition, free.  NULL: no-op. */
void repl_fetchers_free(repl_fetchers *rf);

/* Follow partition p of t (referenced while followed) from leader
 * `leader_id` at host:port, in leader epoch `leader_epoch`.  A partition
 * already followed is moved to that leader / epoch and truncates again
 * before fetching.  0, or -1 (out of memory, or the thread could not
 * start). */
int repl_follow(repl_fetchers *rf, struct topic *t, struct partition *p, int32_t leader_id,
                const char *host, int port, int32_t leader_epoch);
/* Stop following p; no-op if it is not followed.  On return no follower
 * append to p is running or will run. */
void repl_unfollow(repl_fetchers *rf, struct partition *p);

/* What the fetcher is doing with p (tests, logs). */
enum repl_part_state { REPL_NOT_FOLLOWED, REPL_TRUNCATING, REPL_FETCHING, REPL_STOPPED };
enum repl_part_state repl_state_of(repl_fetchers *rf, struct partition *p);

#endif
