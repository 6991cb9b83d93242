/*
 * replica_progress.h - what a partition's leader knows of its followers:
 * each follower's log end offset (the offset of its last Fetch) and when
 * it last caught up, and the high watermark rule that follows from them.
 *
 * Owned by the partition (partition.progress, cluster/topic.h).  The
 * leader's Fetch handler records a follower fetch (replica_progress_record)
 * and then advances the high watermark (partition_advance_hw); becoming
 * leader forgets the followers' positions (replica_progress_reset), as
 * Kafka's Partition.makeLeader does.  docs/replication.md describes it.
 *
 * Rules (docs/cluster.md §7):
 *   C6  the high watermark is the smallest log end offset in the ISR (the
 *       leader's own included); an ISR member whose position is unknown
 *       (it has not fetched since this broker became leader) holds it
 *       where it is.  plog_set_high_watermark keeps it monotone (S2).
 *   C7  a follower enters the ISR only once its log end offset reached
 *       the high watermark: the positions kept here are what the leader's
 *       ISR manager reads (repl/isr_decide.h, repl/isr_manager.h).
 *
 * Threads: any.  `lock` guards the follower array; it is held only to
 * copy or update a few integers, never across I/O.  The single-broker path
 * (ISR = {self}, partition.isr_solo) never touches it.
 */
#ifndef SAMSA_CLUSTER_REPLICA_PROGRESS_H
#define SAMSA_CLUSTER_REPLICA_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/partition_state.h"

typedef struct replica_follower {
    int32_t id;
    int64_t leo;                     /* the offset of its last fetch; -1 = unknown */
    int64_t last_caught_up_ms;       /* Kafka's lastCaughtUpTimeMs (wall clock); 0 = never */
    int64_t last_fetch_ms;           /* when it last fetched */
    int64_t last_fetch_leader_leo;   /* the leader's LEO at that fetch */
} replica_follower;

typedef struct replica_progress {
    pthread_mutex_t lock;            /* guards f, n, cap, pending, npending */
    replica_follower *f;
    int n, cap;                      /* n <= PSTATE_MAX_REPLICAS */
    /* Members an ISR expansion in flight adds (KIP-497's "maximal ISR"):
     * the HW counts them from the moment the AlterPartition is sent until
     * its answer is installed or refused (C27). */
    int32_t pending[PSTATE_MAX_REPLICAS];
    int npending;
    int64_t leader_since_ms;         /* when the positions were last forgotten (init or
                                        reset: a new leadership), wall clock */
} replica_progress;

void replica_progress_init(replica_progress *rp);
void replica_progress_destroy(replica_progress *rp);
/* Forget every follower's position (a new leadership) and restart the
 * leadership clock (leader_since_ms = now: a follower not heard from yet
 * counts as caught up then, for ISR shrink). */
void replica_progress_reset(replica_progress *rp);

/* A follower fetched at `fetch_offset` while the leader's LEO was
 * `leader_leo`: its LEO becomes fetch_offset; it caught up now when the
 * offset reached the leader's LEO, or at its previous fetch when the offset
 * reached the LEO the leader had then (Kafka's updateFetchState).  0, or -1
 * when out of memory or more than PSTATE_MAX_REPLICAS followers. */
int replica_progress_record(replica_progress *rp, int32_t id, int64_t fetch_offset,
                            int64_t leader_leo, int64_t now_ms);
/* A copy of a follower's state; false when it never fetched. */
bool replica_progress_get(replica_progress *rp, int32_t id, replica_follower *out);
/* Copy every known follower (at most cap) into out; the count.
 * *leader_since_ms receives the leadership clock. */
int replica_progress_snapshot(replica_progress *rp, replica_follower *out, int cap,
                              int64_t *leader_since_ms);

/* C27: the members an ISR expansion is adding count for the HW from now
 * (n 0: the expansion is over).  Any thread. */
void replica_progress_set_pending(replica_progress *rp, const int32_t *ids, int n);

/* C6, as a pure function: min(leader_leo, LEO of each ISR member other than
 * `self`), or -1 when an ISR member's position is unknown (the high
 * watermark cannot move).  f[0..nf) are the known followers. */
int64_t replica_hw_from_isr(int64_t leader_leo, int32_t self, const int32_t *isr, int32_t nisr,
                            const replica_follower *f, int nf);

#endif
