/* listener.c - see listener.h. */
#include "net/listener.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

struct listener {
    io_watch w;
    loop *lp;
    int port;
    ktimer backoff;
    void (*on_accept)(listener *, int, void *);
    void *arg;
    bool paused;
};

static void accept_ready(loop *lp, io_watch *w, uint32_t events)
{
    listener *ls = (listener *)w;
    for (int i = 0; i < 256 && !ls->paused; i++) {
        int fd = accept4(ls->w.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            LOG_ERR("net", "accept failed: %s; pausing accepts for 100 ms", strerror(errno));
            loop_rewatch(lp, &ls->w, 0);
            loop_timer_arm(lp, &ls->backoff, loop_now_us(lp) + 100000);
            return;
        }
        ls->on_accept(ls, fd, ls->arg);
    }
}

static void backoff_done(loop *lp, ktimer *t)
{
    listener *ls = (listener *)((char *)t - offsetof(listener, backoff));
    if (!ls->paused)
        loop_rewatch(lp, &ls->w, EPOLLIN);
}

listener *listener_open(loop *lp, const char *host, int port,
                        void (*on_accept)(listener *, int, void *), void *arg,
                        char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
    struct addrinfo *res = NULL;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *h = host && *host ? host : NULL;
    int rc = getaddrinfo(h, portstr, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve listener host '%s': %s", h ? h : "*", gai_strerror(rc));
        return NULL;
    }
    int fd = -1;
    struct addrinfo *ai = res;
    if (!h) {   /* all interfaces: prefer the IPv6 dual-stack socket */
        for (struct addrinfo *p = res; p; p = p->ai_next)
            if (p->ai_family == AF_INET6) { ai = p; break; }
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        goto fail;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6 && !h)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        snprintf(err, errlen, "cannot bind %s:%d: %s", h ? h : "*", port, strerror(errno));
        goto fail;
    }
    if (listen(fd, 1024) < 0) {
        snprintf(err, errlen, "listen on %s:%d: %s", h ? h : "*", port, strerror(errno));
        goto fail;
    }
    listener *ls = calloc(1, sizeof *ls);
    if (!ls) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    ls->w.fd = fd;
    ls->w.cb = accept_ready;
    ls->lp = lp;
    ls->on_accept = on_accept;
    ls->arg = arg;
    ktimer_init(&ls->backoff, backoff_done);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    ls->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(res);
    if (loop_watch(lp, &ls->w, EPOLLIN) < 0) {
        snprintf(err, errlen, "epoll: %s", strerror(errno));
        close(fd);
        free(ls);
        return NULL;
    }
    return ls;
fail:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return NULL;
}

int listener_port(const listener *ls) { return ls->port; }

void listener_pause(listener *ls)
{
    if (!ls->paused) {
        ls->paused = true;
        loop_rewatch(ls->lp, &ls->w, 0);
    }
}

void listener_resume(listener *ls)
{
    if (ls->paused) {
        ls->paused = false;
        if (!ktimer_armed(&ls->backoff))
            loop_rewatch(ls->lp, &ls->w, EPOLLIN);
    }
}

/* Called on the listener's loop thread (a mailbox message at shutdown). The
 * epoll batch being handled may still hold an event for this listener (a
 * client connecting during shutdown), so the memory is freed after the batch
 * (loop_defer, as conn.c does for connections) and accept_ready, if reached,
 * sees it paused and does nothing. */
void listener_close(listener *ls)
{
    if (!ls)
        return;
    ls->paused = true;
    loop_timer_cancel(ls->lp, &ls->backoff);
    loop_unwatch(ls->lp, &ls->w);
    close(ls->w.fd);
    ls->w.fd = -1;
    loop_defer(ls->lp, free, ls);
}
