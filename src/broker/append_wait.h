/*
 * append_wait.h - what an append waits for before it is answered, shared
 * by Produce (handle_produce.c) and WriteTxnMarkers
 * (handle_write_txn_markers.c): a flush when flush.messages was reached,
 * and for acks=-1 the high watermark over the appended data with the
 * leader-epoch checks of C9/C38 and Kafka's DelayedProduce rules
 * (NOT_ENOUGH_REPLICAS_AFTER_APPEND when the ISR shrank below
 * min.insync.replicas meanwhile).
 *
 * Threads: the request's loop; the partition fields it reads are atomic or
 * behind the log's lock.
 */
#ifndef SAMSA_BROKER_APPEND_WAIT_H
#define SAMSA_BROKER_APPEND_WAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "cluster/topic.h"
#include "server/delayed.h"

typedef struct append_wait {
    topic *t;                    /* referenced while waiting (append_wait_release drops it) */
    partition *p;
    int16_t *error;              /* the part's error code in the response */
    int64_t need_offset;         /* exclusive end of what was appended */
    int32_t leader_epoch;        /* ours when we appended (acks=-1) */
    int32_t self;                /* this broker's id */
    bool need_flush, need_hw;
} append_wait;

/* The flush and HW conditions hold. */
bool append_wait_satisfied(const append_wait *w);
/* C9/C38: the leadership the data was appended under is gone. */
bool append_wait_lost(const append_wait *w);
/* Never to be satisfied: lost, or the log went offline. */
bool append_wait_failed(const append_wait *w);
/* Every part satisfied or failed (a delayed op's ready()). */
bool append_wait_all_done(const append_wait *w, int n);
/* Set each part's error after the wait (lost, offline, timed out - a
 * stopping broker answers NOT_LEADER_OR_FOLLOWER - or the min.insync
 * check). */
void append_wait_finish(append_wait *w, int n, enum delayed_reason why, bool stopping);
/* The min.insync.replicas check once the HW covers the data (acks=-1). */
void append_wait_check_min_insync(append_wait *w);
int32_t append_wait_isr_size(partition *p);
void append_wait_release(append_wait *w, int n);

#endif
