/* net_threads.c - see net_threads.h. */
#include "broker/net_threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "broker/client.h"
#include "broker/conn_limits.h"
#include "broker/delayed.h"
#include "core/clock.h"
#include "core/log.h"
#include "net/listener.h"

typedef struct adoption {
    int fd;
    int listener;
    char ip[CONN_IP_LEN];
} adoption;

static void adopt(loop *lp, void *arg)
{
    adoption *a = arg;
    client_accept(lp, a->fd, a->listener, a->ip);
    free(a);
}

static void on_accept(listener *ls, int fd, void *arg)
{
    broker *b = g_broker;
    adoption *a = malloc(sizeof *a);
    if (!a) {
        close(fd);
        return;
    }
    a->fd = fd;
    a->listener = (int)(intptr_t)arg;
    int ok = conn_limits_admit(fd, a->ip);
    if (ok <= 0) {
        static _Atomic int64_t last_log_ms;
        int64_t now = mono_ms();
        if (now - atomic_load(&last_log_ms) >= 1000) {
            atomic_store(&last_log_ms, now);
            if (ok == 0)
                LOG_WRN("net", "refusing a connection from %s: max.connections.per.ip reached", a->ip);
            else
                LOG_WRN("net", "max.connections (%d) reached: not accepting until one closes",
                        conn_limits_count());
        }
        close(fd);
        free(a);
        if (ok < 0)
            for (int i = 0; i < b->set.nlisteners; i++)
                if (b->listeners[i])
                    listener_pause(b->listeners[i]);
        return;
    }
    unsigned i = atomic_fetch_add(&b->next_loop, 1) % (unsigned)b->nloops;
    if (loop_post(b->loops[i], adopt, a) < 0) {
        conn_limits_release(a->ip);
        close(fd);
        free(a);
    }
}

static void resume_accepting(loop *lp, void *arg)
{
    broker *b = arg;
    for (int i = 0; i < b->set.nlisteners; i++)
        if (b->listeners[i])
            listener_resume(b->listeners[i]);
}

void net_threads_connection_closed(const char *ip)
{
    broker *b = g_broker;
    if (conn_limits_release(ip) && b->nloops > 0)
        loop_post(b->loops[0], resume_accepting, b);
}

void net_threads_limits_changed(broker *b)
{
    if (b->nloops > 0 && conn_limits_changed())
        loop_post(b->loops[0], resume_accepting, b);
}

int net_threads_init(broker *b, char *err, size_t errlen)
{
    int n = b->set.num_network_threads > 0 ? b->set.num_network_threads : 1;
    b->loops = calloc((size_t)n, sizeof *b->loops);
    b->threads = calloc((size_t)n, sizeof *b->threads);
    if (!b->loops || !b->threads) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int i = 0; i < n; i++) {
        b->loops[i] = loop_new(i);
        if (!b->loops[i]) {
            snprintf(err, errlen, "cannot create event loop %d", i);
            return -1;
        }
        delayed_loop_init(b->loops[i]);
    }
    b->nloops = n;
    conn_limits_init(b);
    for (int i = 0; i < b->set.nlisteners; i++) {
        endpoint *e = &b->set.listen[i];
        b->listeners[i] = listener_open(b->loops[0], e->host, e->port, on_accept,
                                        (void *)(intptr_t)i, err, errlen);
        if (!b->listeners[i])
            return -1;
        /* Port 0 asks the kernel for one (tests); advertise what we got. */
        if (e->port == 0)
            e->port = listener_port(b->listeners[i]);
        if (b->set.adv[i].port == 0)
            b->set.adv[i].port = e->port;
    }
    return 0;
}

static void *thread_main(void *arg)
{
    loop_run(arg);
    return NULL;
}

int net_threads_start(broker *b)
{
    for (int i = 0; i < b->nloops; i++) {
        char name[16];
        snprintf(name, sizeof name, "samsa-net-%d", i % 1000);
        if (pthread_create(&b->threads[i], NULL, thread_main, b->loops[i]) != 0)
            return -1;
        pthread_setname_np(b->threads[i], name);
    }
    return 0;
}

static void close_listener(loop *lp, void *arg)
{
    listener_close(arg);
}

void net_threads_stop(broker *b)
{
    for (int i = 0; i < b->set.nlisteners; i++) {
        if (b->listeners[i]) {
            loop_post(b->loops[0], close_listener, b->listeners[i]);
            b->listeners[i] = NULL;
        }
    }
    for (int i = 0; i < b->nloops; i++)
        loop_stop(b->loops[i]);
    for (int i = 0; i < b->nloops; i++)
        pthread_join(b->threads[i], NULL);
}
