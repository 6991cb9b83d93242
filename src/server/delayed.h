/*
 * delayed.h - requests parked until something happens or time runs out
 * (Kafka's "purgatory"): long-poll fetches waiting for data, produces
 * waiting for a flush or for replicas.
 *
 * An operation belongs to the loop of its request.  It watches partitions;
 * any thread that changes a watched partition (append, high-watermark
 * move, flush done) calls partition_notify(), which marks the operation
 * dirty and kicks its loop.  The loop then calls try_complete() on its
 * dirty operations - no polling, no busy loop.  Registration happens
 * before the final check, so a change between check and park is never
 * missed.
 */
#ifndef SAMSA_SERVER_DELAYED_H
#define SAMSA_SERVER_DELAYED_H

#include <stdatomic.h>
#include <stdbool.h>

#include "cluster/topic.h"
#include "net/loop.h"
#include "server/request.h"

typedef struct delayed_op delayed_op;
enum delayed_reason { DELAYED_READY, DELAYED_EXPIRED, DELAYED_CANCELLED };
struct delayed_op {
    kreq *rq;
    loop *lp;
    ktimer timer;
    /* Can the operation complete now?  May stash work for complete(). */
    bool (*ready)(delayed_op *op);
    /* Called exactly once, after the op is unlinked from watchers, timer
     * and list: answer the request (or, if cancelled, don't) and free op. */
    void (*complete)(delayed_op *op, enum delayed_reason why);
    atomic_bool dirty;
    partition **watched;
    int nwatched;
    delayed_op *prev, *next;    /* the loop's list */
    bool finished;
};

/* Park rq: watch `parts` (kept valid by the caller for the op's life), arm
 * the timeout and check once.  op is allocated by the caller (usually
 * embedded in a larger struct) with ready/complete set; complete frees it. */
void delayed_park(delayed_op *op, kreq *rq, partition **parts, int nparts, int64_t timeout_ms);
/* The connection went away: complete without answering. */
void delayed_cancel(delayed_op *op);
/* Register/unregister a watcher on p directly (the group coordinator keeps
 * one permanently on each offsets partition; only op->lp and op->dirty are
 * used).  Any thread. */
void partition_watch(partition *p, delayed_op *op);
void partition_unwatch(partition *p, delayed_op *op);
/* Any thread: something changed on p. */
void partition_notify(partition *p);
/* Complete every parked operation of this loop now, as if its deadline
 * had passed (shutdown).  Call on the loop's thread. */
void delayed_expire_all(loop *lp);
/* Give a loop its list of parked operations and the hook that runs the
 * dirty ones (once per loop, before it runs; -1 = out of memory).  Only
 * such a loop may park operations.  The list lives as long as the loop. */
int delayed_loop_init(loop *lp);

#endif
