/*
 * isr_decide.h - the leader's ISR rule as a pure function: given what the
 * leader knows of its followers, the ISR it should ask the controller for.
 *
 * Kafka's Partition.getOutOfSyncReplicas / isFollowerInSync (KIP-497,
 * ZooKeeper mode with AlterPartition), in one step:
 *   shrink  an ISR member other than the leader leaves when it is not
 *           caught up: its LEO is not the leader's LEO and it last caught
 *           up more than lag_max_ms ago.  A member that has not caught up
 *           (or not fetched at all) since this leadership began counts
 *           from the leadership's start (Kafka resets lastCaughtUpTimeMs
 *           to the leader's clock in makeLeader).
 *   expand  (C7) a replica outside the ISR joins once its LEO has reached
 *           the leader's high watermark and the start offset of the
 *           leader's current epoch (so it holds everything this leader
 *           could have acknowledged).
 * The leader itself is never removed, and nothing is proposed when the
 * leader is not in the current ISR (Kafka's rule: a leader shrinks only to
 * an ISR that still contains itself; never an empty ISR).
 *
 * Any thread; no locks, no allocation.
 */
#ifndef SAMSA_REPL_ISR_DECIDE_H
#define SAMSA_REPL_ISR_DECIDE_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/replica_progress.h"

typedef struct isr_input {
    int32_t self;                        /* the leader (this broker) */
    const int32_t *replicas, *isr;
    int32_t nreplicas, nisr;
    const replica_follower *f;           /* followers heard from since this leadership began */
    int nf;
    int64_t leader_leo, hw;
    int64_t epoch_start_offset;          /* of the leader's current epoch; <= 0: none known */
    int64_t leader_since_ms;             /* this leadership's start (wall clock) */
    int64_t now_ms, lag_max_ms;          /* replica.lag.time.max.ms */
} isr_input;

/* Write the ISR to propose into out[0..PSTATE_MAX_REPLICAS) (current
 * members in their order, minus those that lag, then replicas that caught
 * up in replica order) and return its size; *changed tells whether it
 * differs from in->isr.  Returns in->nisr with *changed false when the
 * leader is not in the ISR. */
int isr_decide(const isr_input *in, int32_t *out, bool *changed);

/* One follower's view under the rules above (exported for the fetch
 * path's prompt expansion check and for tests). */
bool isr_follower_caught_up(const isr_input *in, const replica_follower *f);
bool isr_follower_may_join(const isr_input *in, const replica_follower *f);

#endif
