/*
 * loop.h - one event loop per network thread: epoll, a timer heap, and a
 * mailbox other threads post work to.
 *
 * Every connection, timer and delayed operation belongs to exactly one loop
 * and is touched only by that loop's thread.  Other threads talk to a loop
 * only through loop_post(), which queues a callback and wakes the loop with
 * an eventfd (one write per burst: a flag coalesces wake-ups).  Timers live
 * in a binary min-heap keyed by monotonic microseconds, so arming and
 * cancelling are O(log n) and the loop never scans idle timers.
 */
#ifndef SAMSA_NET_LOOP_H
#define SAMSA_NET_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef struct loop loop;

typedef struct io_watch {
    int fd;
    void (*cb)(loop *lp, struct io_watch *w, uint32_t events);
    uint32_t events;      /* currently registered EPOLL* mask */
} io_watch;

typedef struct ktimer {
    int64_t when_us;      /* monotonic deadline */
    int heap_idx;         /* -1 when not armed */
    void (*cb)(loop *lp, struct ktimer *t);
} ktimer;

loop *loop_new(int id);
void loop_free(loop *lp);
int loop_id(const loop *lp);

int loop_watch(loop *lp, io_watch *w, uint32_t events);     /* add */
int loop_rewatch(loop *lp, io_watch *w, uint32_t events);   /* modify if changed */
void loop_unwatch(loop *lp, io_watch *w);

void ktimer_init(ktimer *t, void (*cb)(loop *, ktimer *));
void loop_timer_arm(loop *lp, ktimer *t, int64_t when_us);
void loop_timer_cancel(loop *lp, ktimer *t);
static inline bool ktimer_armed(const ktimer *t) { return t->heap_idx >= 0; }

/* Thread-safe: run fn(lp, arg) on the loop's thread soon.  Returns -1 on
 * ENOMEM (the caller keeps ownership of arg then). */
int loop_post(loop *lp, void (*fn)(loop *, void *), void *arg);

/* Thread-safe: ask the loop to run its "kick" hook (set with
 * loop_set_kick) soon.  Many kicks before it runs collapse into one. */
void loop_kick(loop *lp);
void loop_set_kick(loop *lp, void (*kick)(loop *, void *), void *arg);
/* The arg given to loop_set_kick if the loop's hook is `kick`, else NULL
 * (per-loop state a layer above keeps with its hook: delayed operations). */
void *loop_kick_arg(const loop *lp, void (*kick)(loop *, void *));

/* Run fn(arg) on this loop's thread after the current batch of events has
 * been handled (used to free objects other pending events may name). */
void loop_defer(loop *lp, void (*fn)(void *), void *arg);

/* Run until loop_stop() (thread-safe).  Runs on the calling thread. */
void loop_run(loop *lp);
void loop_stop(loop *lp);
/* Cached monotonic time of the current loop iteration. */
int64_t loop_now_us(loop *lp);

#endif
