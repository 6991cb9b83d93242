/* loop.c - see loop.h. */
#include "net/loop.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"

typedef struct post_msg {
    struct post_msg *next;
    void (*fn)(loop *, void *);
    void *arg;
} post_msg;

typedef struct deferred_call {
    struct deferred_call *next;
    void (*fn)(void *);
    void *arg;
} deferred_call;

struct loop {
    int id;
    int epfd;
    io_watch wake;            /* eventfd */
    atomic_bool wake_pending;
    atomic_bool kicked;
    atomic_bool stop;
    void (*kick)(loop *, void *);
    void *kick_arg;

    pthread_mutex_t mbox_lock; /* guards mbox_head/tail */
    post_msg *mbox_head, *mbox_tail;

    struct deferred_call *deferred;   /* loop thread only */

    ktimer **heap;            /* timer min-heap; owned by the loop thread */
    int nheap, capheap;
    int64_t now_us;
};

static void wake_cb(loop *lp, io_watch *w, uint32_t ev);

loop *loop_new(int id)
{
    loop *lp = calloc(1, sizeof *lp);
    if (!lp)
        return NULL;
    lp->id = id;
    lp->epfd = epoll_create1(EPOLL_CLOEXEC);
    lp->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    lp->wake.cb = wake_cb;
    pthread_mutex_init(&lp->mbox_lock, NULL);
    if (lp->epfd < 0 || lp->wake.fd < 0 || loop_watch(lp, &lp->wake, EPOLLIN) < 0) {
        loop_free(lp);
        return NULL;
    }
    lp->now_us = mono_us();
    return lp;
}

void loop_free(loop *lp)
{
    if (!lp)
        return;
    if (lp->epfd >= 0)
        close(lp->epfd);
    if (lp->wake.fd >= 0)
        close(lp->wake.fd);
    post_msg *m = lp->mbox_head;
    while (m) {
        post_msg *n = m->next;
        free(m);
        m = n;
    }
    pthread_mutex_destroy(&lp->mbox_lock);
    free(lp->heap);
    free(lp);
}

int loop_id(const loop *lp) { return lp->id; }
int64_t loop_now_us(loop *lp) { return lp->now_us; }

int loop_watch(loop *lp, io_watch *w, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = w };
    w->events = events;
    return epoll_ctl(lp->epfd, EPOLL_CTL_ADD, w->fd, &ev);
}

int loop_rewatch(loop *lp, io_watch *w, uint32_t events)
{
    if (w->events == events)
        return 0;
    struct epoll_event ev = { .events = events, .data.ptr = w };
    w->events = events;
    return epoll_ctl(lp->epfd, EPOLL_CTL_MOD, w->fd, &ev);
}

void loop_unwatch(loop *lp, io_watch *w)
{
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

/* ------------------------------------------------------------------ timers */

void ktimer_init(ktimer *t, void (*cb)(loop *, ktimer *))
{
    t->when_us = 0;
    t->heap_idx = -1;
    t->cb = cb;
}

static void heap_swap(loop *lp, int a, int b)
{
    ktimer *t = lp->heap[a];
    lp->heap[a] = lp->heap[b];
    lp->heap[b] = t;
    lp->heap[a]->heap_idx = a;
    lp->heap[b]->heap_idx = b;
}

static void heap_up(loop *lp, int i)
{
    while (i > 0) {
        int p = (i - 1) / 2;
        if (lp->heap[p]->when_us <= lp->heap[i]->when_us)
            break;
        heap_swap(lp, p, i);
        i = p;
    }
}

static void heap_down(loop *lp, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < lp->nheap && lp->heap[l]->when_us < lp->heap[m]->when_us)
            m = l;
        if (r < lp->nheap && lp->heap[r]->when_us < lp->heap[m]->when_us)
            m = r;
        if (m == i)
            break;
        heap_swap(lp, i, m);
        i = m;
    }
}

void loop_timer_cancel(loop *lp, ktimer *t)
{
    int i = t->heap_idx;
    if (i < 0)
        return;
    int last = --lp->nheap;
    if (i != last) {
        lp->heap[i] = lp->heap[last];
        lp->heap[i]->heap_idx = i;
        heap_down(lp, i);
        heap_up(lp, i);
    }
    t->heap_idx = -1;
}

void loop_timer_arm(loop *lp, ktimer *t, int64_t when_us)
{
    loop_timer_cancel(lp, t);
    if (lp->nheap == lp->capheap) {
        int ncap = lp->capheap ? lp->capheap * 2 : 64;
        ktimer **nh = realloc(lp->heap, (size_t)ncap * sizeof *nh);
        if (!nh) {
            /* Out of memory: fire as soon as possible instead of losing it. */
            LOG_ERR("loop", "timer heap allocation failed");
            return;
        }
        lp->heap = nh;
        lp->capheap = ncap;
    }
    t->when_us = when_us;
    t->heap_idx = lp->nheap;
    lp->heap[lp->nheap++] = t;
    heap_up(lp, t->heap_idx);
}

static void run_timers(loop *lp)
{
    while (lp->nheap > 0 && lp->heap[0]->when_us <= lp->now_us) {
        ktimer *t = lp->heap[0];
        loop_timer_cancel(lp, t);
        t->cb(lp, t);
    }
}

/* ----------------------------------------------------------------- mailbox */

static void signal_wake(loop *lp)
{
    if (!atomic_exchange(&lp->wake_pending, true)) {
        uint64_t one = 1;
        ssize_t n = write(lp->wake.fd, &one, sizeof one);
        (void)n;
    }
}

int loop_post(loop *lp, void (*fn)(loop *, void *), void *arg)
{
    post_msg *m = malloc(sizeof *m);
    if (!m)
        return -1;
    m->next = NULL;
    m->fn = fn;
    m->arg = arg;
    pthread_mutex_lock(&lp->mbox_lock);
    if (lp->mbox_tail)
        lp->mbox_tail->next = m;
    else
        lp->mbox_head = m;
    lp->mbox_tail = m;
    pthread_mutex_unlock(&lp->mbox_lock);
    signal_wake(lp);
    return 0;
}

void loop_kick(loop *lp)
{
    if (!atomic_exchange(&lp->kicked, true))
        signal_wake(lp);
}

void loop_set_kick(loop *lp, void (*kick)(loop *, void *), void *arg)
{
    lp->kick = kick;
    lp->kick_arg = arg;
}

void *loop_kick_arg(const loop *lp, void (*kick)(loop *, void *))
{
    return lp->kick == kick ? lp->kick_arg : NULL;
}

static void drain_mailbox(loop *lp)
{
    pthread_mutex_lock(&lp->mbox_lock);
    post_msg *m = lp->mbox_head;
    lp->mbox_head = lp->mbox_tail = NULL;
    pthread_mutex_unlock(&lp->mbox_lock);
    while (m) {
        post_msg *n = m->next;
        m->fn(lp, m->arg);
        free(m);
        m = n;
    }
}

static void wake_cb(loop *lp, io_watch *w, uint32_t ev)
{
    uint64_t v;
    ssize_t n = read(w->fd, &v, sizeof v);
    (void)n;
    atomic_store(&lp->wake_pending, false);
    drain_mailbox(lp);
    if (atomic_exchange(&lp->kicked, false) && lp->kick)
        lp->kick(lp, lp->kick_arg);
}

void loop_defer(loop *lp, void (*fn)(void *), void *arg)
{
    deferred_call *d = malloc(sizeof *d);
    if (!d) {
        LOG_ERR("loop", "deferred call allocation failed; leaking object");
        return;
    }
    d->fn = fn;
    d->arg = arg;
    d->next = lp->deferred;
    lp->deferred = d;
}

static void run_deferred(loop *lp)
{
    while (lp->deferred) {
        deferred_call *d = lp->deferred;
        lp->deferred = NULL;
        while (d) {
            deferred_call *n = d->next;
            d->fn(d->arg);
            free(d);
            d = n;
        }
    }
}

void loop_stop(loop *lp)
{
    atomic_store(&lp->stop, true);
    signal_wake(lp);
}

void loop_run(loop *lp)
{
    struct epoll_event evs[256];
    while (!atomic_load(&lp->stop)) {
        lp->now_us = mono_us();
        run_timers(lp);
        int timeout = -1;
        if (lp->nheap > 0) {
            int64_t d = lp->heap[0]->when_us - lp->now_us;
            timeout = d <= 0 ? 0 : (int)((d + 999) / 1000);
        }
        int n = epoll_wait(lp->epfd, evs, 256, timeout);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            LOG_ERR("loop", "epoll_wait: %s", strerror(errno));
            break;
        }
        lp->now_us = mono_us();
        for (int i = 0; i < n; i++) {
            io_watch *w = evs[i].data.ptr;
            w->cb(lp, w, evs[i].events);
        }
        run_deferred(lp);
    }
    drain_mailbox(lp);
    run_deferred(lp);
}
