/* net_threads.c - see net_threads.h. */
#include "server/net_threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "net/listener.h"
#include "server/client.h"
#include "server/conn_limits.h"
#include "server/delayed.h"
#include "server/server_tls.h"

typedef struct adoption {
    server *srv;
    int fd;
    int listener;
    char ip[CONN_IP_LEN];
} adoption;

typedef struct accept_arg {
    server *srv;
    int listener;
} accept_arg;

static void adopt(loop *lp, void *arg)
{
    adoption *a = arg;
    client_accept(a->srv, lp, a->fd, a->listener, a->ip);
    free(a);
}

static void on_accept(listener *ls, int fd, void *arg)
{
    server *s = ((accept_arg *)arg)->srv;
    adoption *a = malloc(sizeof *a);
    if (!a) {
        close(fd);
        return;
    }
    a->srv = s;
    a->fd = fd;
    a->listener = ((accept_arg *)arg)->listener;
    int ok = conn_limits_admit(s, fd, a->ip);
    if (ok <= 0) {
        int64_t now = mono_ms();
        if (now - s->refusal_logged_ms >= 1000) {
            s->refusal_logged_ms = now;
            if (ok == 0)
                LOG_WRN("net", "refusing a connection from %s: max.connections.per.ip reached", a->ip);
            else
                LOG_WRN("net", "max.connections (%d) reached: not accepting until one closes",
                        conn_limits_count(s));
        }
        close(fd);
        free(a);
        if (ok < 0)
            for (int i = 0; i < s->nlisteners; i++)
                if (s->listeners[i])
                    listener_pause(s->listeners[i]);
        return;
    }
    unsigned i = atomic_fetch_add(&s->next_loop, 1) % (unsigned)s->nloops;
    if (loop_post(s->loops[i], adopt, a) < 0) {
        conn_limits_release(s, a->ip);
        close(fd);
        free(a);
    }
}

static void resume_accepting(loop *lp, void *arg)
{
    server *s = arg;
    for (int i = 0; i < s->nlisteners; i++)
        if (s->listeners[i])
            listener_resume(s->listeners[i]);
}

void net_threads_connection_closed(server *s, const char *ip)
{
    if (conn_limits_release(s, ip) && s->nloops > 0)
        loop_post(s->loops[0], resume_accepting, s);
}

void net_threads_limits_changed(server *s)
{
    if (s->nloops > 0 && conn_limits_changed(s))
        loop_post(s->loops[0], resume_accepting, s);
}

int net_threads_init(server *s, char *err, size_t errlen)
{
    int n = s->nthreads > 0 ? s->nthreads : 1;
    s->loops = calloc((size_t)n, sizeof *s->loops);
    s->threads = calloc((size_t)n, sizeof *s->threads);
    if (!s->loops || !s->threads) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        s->loops[i] = loop_new(i);
        if (!s->loops[i] || delayed_loop_init(s->loops[i]) < 0) {
            snprintf(err, errlen, "cannot create event loop %d", i);
            return -1;
        }
        s->nloops = i + 1;
    }
    conn_limits_init(s);
    if (server_tls_init(s, err, errlen) < 0)
        return -1;
    for (int i = 0; i < s->nlisteners; i++) {
        endpoint *e = &s->listen[i];
        accept_arg *aa = malloc(sizeof *aa);
        if (!aa) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        aa->srv = s;
        aa->listener = i;
        s->listeners[i] = listener_open(s->loops[0], e->host, e->port, on_accept, aa, err, errlen);
        if (!s->listeners[i]) {
            free(aa);
            return -1;
        }
        s->accept_args[i] = aa;
        /* Port 0 asks the kernel for one (tests); advertise what we got. */
        if (e->port == 0)
            e->port = listener_port(s->listeners[i]);
        if (s->adv[i].port == 0)
            s->adv[i].port = e->port;
    }
    return 0;
}

static void *thread_main(void *arg)
{
    loop_run(arg);
    return NULL;
}

int net_threads_start(server *s)
{
    for (int i = 0; i < s->nloops; i++) {
        char name[16];
        snprintf(name, sizeof name, "samsa-net-%d", i % 1000);
        if (pthread_create(&s->threads[i], NULL, thread_main, s->loops[i]) != 0)
            return -1;
        pthread_setname_np(s->threads[i], name);
    }
    return 0;
}

typedef struct latch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int left;
    void (*fn)(loop *lp, void *arg);
    void *arg;
} latch;

static void run_and_count(loop *lp, void *arg)
{
    latch *l = arg;
    l->fn(lp, l->arg);
    pthread_mutex_lock(&l->mu);
    l->left--;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

void net_threads_run_on_each(server *s, void (*fn)(loop *lp, void *arg), void *arg)
{
    latch l = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, fn, arg };
    pthread_mutex_lock(&l.mu);
    for (int i = 0; i < s->nloops; i++)
        if (loop_post(s->loops[i], run_and_count, &l) == 0)
            l.left++;
    while (l.left > 0)
        pthread_cond_wait(&l.cv, &l.mu);
    pthread_mutex_unlock(&l.mu);
}

static void close_listener(loop *lp, void *arg)
{
    listener_close(arg);
}

void net_threads_stop(server *s)
{
    for (int i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i]) {
            loop_post(s->loops[0], close_listener, s->listeners[i]);
            s->listeners[i] = NULL;
        }
    }
    for (int i = 0; i < s->nloops; i++)
        loop_stop(s->loops[i]);
    for (int i = 0; i < s->nloops; i++)
        pthread_join(s->threads[i], NULL);
    for (int i = 0; i < s->nlisteners; i++) {
        free(s->accept_args[i]);
        s->accept_args[i] = NULL;
    }
    conn_limits_free(s);
}
