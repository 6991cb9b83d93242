/*
 * truncation.h - where a follower cuts its log before fetching (C8,
 * KIP-101/KIP-279; Kafka's AbstractFetcherThread.getOffsetTruncationState).
 *
 * The follower asks its leader OffsetForLeaderEpoch for its own latest
 * epoch; the leader answers (epoch L, end offset O): the largest epoch it
 * knows at or below the one asked for, and where that epoch ended on the
 * leader.  The follower then looks up its own end offset for L, and:
 *   - O undefined (-1): the leader knows nothing of our history: keep what
 *     is known committed, min(HW, LEO);
 *   - L undefined (-1) with O defined: min(O, LEO);
 *   - we have no entry at or below L: min(O, LEO);
 *   - our largest epoch at or below L is F != L (we never saw L): cut to
 *     min(our end of F, LEO) and ask again for F (not complete);
 *   - F == L: min(O, our end of L, LEO): both logs agree up to there.
 * Pure: no log, no I/O, so the rule is unit-tested on its own.
 */
#ifndef SAMSA_REPL_TRUNCATION_H
#define SAMSA_REPL_TRUNCATION_H

#include <stdbool.h>
#include <stdint.h>

typedef struct repl_truncation {
    int64_t offset;              /* truncate the log to this (a no-op at the LEO) */
    bool complete;               /* false: ask the leader again for next_epoch */
    int32_t next_epoch;
} repl_truncation;

/* leader_epoch/leader_end: the leader's answer.  follower_epoch/
 * follower_end: the follower's own answer for leader_epoch
 * (plog_epoch_end_offset; -1/-1 when it has no entry at or below it).
 * leo, hw: the follower's log end offset and high watermark. */
repl_truncation repl_truncation_decide(int32_t leader_epoch, int64_t leader_end,
                                       int32_t follower_epoch, int64_t follower_end,
                                       int64_t leo, int64_t hw);

#endif
