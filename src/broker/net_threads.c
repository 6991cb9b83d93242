/* net_threads.c - see net_threads.h. */
#include "broker/net_threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "broker/client.h"
#include "broker/delayed.h"
#include "core/log.h"
#include "net/listener.h"

static void adopt(loop *lp, void *arg)
{
    client_accept(lp, (int)(intptr_t)arg);
}

static void on_accept(listener *ls, int fd, void *arg)
{
    broker *b = arg;
    unsigned i = atomic_fetch_add(&b->next_loop, 1) % (unsigned)b->nloops;
    if (loop_post(b->loops[i], adopt, (void *)(intptr_t)fd) < 0)
        close(fd);
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
    b->listener = listener_open(b->loops[0], b->set.listen_host, b->set.listen_port, on_accept, b,
                                err, errlen);
    if (!b->listener)
        return -1;
    if (b->set.listen_port == 0)
        b->set.listen_port = listener_port(b->listener);
    if (b->set.adv_port == 0)
        b->set.adv_port = b->set.listen_port;
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
    if (b->listener) {
        loop_post(b->loops[0], close_listener, b->listener);
        b->listener = NULL;
    }
    for (int i = 0; i < b->nloops; i++)
        loop_stop(b->loops[i]);
    for (int i = 0; i < b->nloops; i++)
        pthread_join(b->threads[i], NULL);
}
