/* delayed.c - see delayed.h. */
#include "server/delayed.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "server/client.h"

/* A loop's list of parked operations (that loop's thread only).  It lives
 * with the loop, as the argument of its kick hook (delayed_loop_init), so
 * there is no table indexed by loop id. */
typedef struct delayed_list {
    delayed_op *head;
} delayed_list;

static void on_kick(loop *lp, void *arg);

static delayed_list *list_of(loop *lp)
{
    return loop_kick_arg(lp, on_kick);
}

void partition_watch(partition *p, delayed_op *op)
{
    pthread_mutex_lock(&p->watch_lock);
    int n = atomic_load(&p->nwatchers);
    if (n == p->watch_cap) {
        int cap = p->watch_cap ? p->watch_cap * 2 : 4;
        delayed_op **w = realloc(p->watchers, (size_t)cap * sizeof *w);
        if (!w) {
            pthread_mutex_unlock(&p->watch_lock);
            LOG_ERR("delayed", "out of memory registering a watcher");
            return;   /* the op still completes by its timeout */
        }
        p->watchers = w;
        p->watch_cap = cap;
    }
    p->watchers[n] = op;
    atomic_store(&p->nwatchers, n + 1);
    pthread_mutex_unlock(&p->watch_lock);
}

void partition_unwatch(partition *p, delayed_op *op)
{
    pthread_mutex_lock(&p->watch_lock);
    int n = atomic_load(&p->nwatchers);
    for (int i = 0; i < n; i++) {
        if (p->watchers[i] == op) {
            p->watchers[i] = p->watchers[n - 1];
            atomic_store(&p->nwatchers, n - 1);
            break;
        }
    }
    pthread_mutex_unlock(&p->watch_lock);
}

void partition_notify(partition *p)
{
    if (atomic_load_explicit(&p->nwatchers, memory_order_acquire) == 0)
        return;
    pthread_mutex_lock(&p->watch_lock);
    int n = atomic_load(&p->nwatchers);
    for (int i = 0; i < n; i++) {
        delayed_op *op = p->watchers[i];
        if (!atomic_exchange(&op->dirty, true))
            loop_kick(op->lp);
    }
    pthread_mutex_unlock(&p->watch_lock);
}

static void unlink_op(delayed_op *op)
{
    delayed_list *l = list_of(op->lp);
    op->finished = true;
    loop_timer_cancel(op->lp, &op->timer);
    for (int i = 0; i < op->nwatched; i++)
        partition_unwatch(op->watched[i], op);
    if (op->prev)
        op->prev->next = op->next;
    else if (l->head == op)
        l->head = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
    op->rq->delayed = NULL;
}

static void run_op(delayed_op *op, bool expired)
{
    atomic_store(&op->dirty, false);
    if (expired || op->ready(op)) {
        unlink_op(op);
        op->complete(op, expired ? DELAYED_EXPIRED : DELAYED_READY);
    }
}

static void on_timeout(loop *lp, ktimer *t)
{
    delayed_op *op = (delayed_op *)((char *)t - offsetof(delayed_op, timer));
    run_op(op, true);
}

static void on_kick(loop *lp, void *arg)
{
    delayed_list *l = arg;
    /* Completing ops unlinks them; restart from the head after each. */
    bool again = true;
    while (again) {
        again = false;
        for (delayed_op *op = l->head; op; op = op->next) {
            if (atomic_load(&op->dirty)) {
                atomic_store(&op->dirty, false);
                if (op->ready(op)) {
                    unlink_op(op);
                    op->complete(op, DELAYED_READY);
                    again = true;      /* the list changed under us */
                    break;
                }
            }
        }
    }
}

int delayed_loop_init(loop *lp)
{
    delayed_list *l = calloc(1, sizeof *l);
    if (!l)
        return -1;
    loop_set_kick(lp, on_kick, l);
    return 0;
}

void delayed_park(delayed_op *op, kreq *rq, partition **parts, int nparts, int64_t timeout_ms)
{
    delayed_list *l = list_of(rq->lp);
    op->rq = rq;
    op->lp = rq->lp;
    op->watched = parts;
    op->nwatched = nparts;
    op->finished = false;
    atomic_init(&op->dirty, false);
    ktimer_init(&op->timer, on_timeout);
    rq->delayed = op;
    op->prev = NULL;
    op->next = l->head;
    if (l->head)
        l->head->prev = op;
    l->head = op;
    for (int i = 0; i < nparts; i++)
        partition_watch(parts[i], op);
    if (timeout_ms < 0)
        timeout_ms = 0;
    loop_timer_arm(op->lp, &op->timer, loop_now_us(op->lp) + timeout_ms * 1000);
    /* Re-check now that we are registered: nothing can slip through. */
    run_op(op, false);
}

void delayed_cancel(delayed_op *op)
{
    if (op->finished)
        return;
    unlink_op(op);
    op->complete(op, DELAYED_CANCELLED);
}

void delayed_expire_all(loop *lp)
{
    delayed_list *l = list_of(lp);
    while (l && l->head)
        run_op(l->head, true);
}
