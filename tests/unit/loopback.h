/*
 * loopback.h - the listening side of the unit tests' fake Kafka peers
 * (test_kclient*.c): a socket on 127.0.0.1 with a port the kernel picks,
 * blocking reads of whole size-prefixed frames, and the stop sequence that
 * wakes a thread blocked in accept().  Header-only, test code.
 */
#ifndef SAMSA_TESTS_LOOPBACK_H
#define SAMSA_TESTS_LOOPBACK_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/endian.h"

/* A listening socket on 127.0.0.1; its port in *port. */
static inline int loopback_listen(int *port)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) < 0 || listen(lfd, 4) < 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &l) < 0)
        abort();
    *port = ntohs(a.sin_port);
    return lfd;
}

/* Wake the peer thread out of accept(), wait for it, close the socket. */
static inline void loopback_close(int lfd, pthread_t th)
{
    shutdown(lfd, SHUT_RDWR);
    pthread_join(th, NULL);
    close(lfd);
}

static inline int loopback_read_full(int fd, void *p, size_t n)
{
    uint8_t *b = p;
    while (n) {
        ssize_t r = read(fd, b, n);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}

/* One request frame (without its size prefix), malloc'd, at most max
 * bytes; NULL at the end of the stream or on a bigger frame. */
static inline uint8_t *loopback_read_frame(int fd, uint32_t max, uint32_t *size)
{
    uint8_t szb[4];
    if (loopback_read_full(fd, szb, 4) < 0)
        return NULL;
    *size = be32_load(szb);
    if (*size > max)
        return NULL;
    uint8_t *req = malloc(*size ? *size : 1);
    if (req && loopback_read_full(fd, req, *size) < 0) {
        free(req);
        return NULL;
    }
    return req;
}

#endif
