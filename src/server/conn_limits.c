/* conn_limits.c - see conn_limits.h. */
#include "server/conn_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/strmap.h"

/* The limits are read from the current config at every decision, so a
 * dynamic update (the three keys are cluster-wide dynamic) applies to the
 * next connection; see conn_limits_changed for a raised max.connections. */
void conn_limits_init(server *s)
{
    pthread_mutex_init(&s->limits.mu, NULL);
    strmap_init(&s->limits.per_ip);
    s->limits.total = 0;
    s->limits.full = false;
}

static int max_total(server *s)
{
    return s->ops->config(s->ctx)->max_connections;
}

void conn_limits_free(server *s)
{
    strmap_free(&s->limits.per_ip);
    pthread_mutex_destroy(&s->limits.mu);
}

static int limit_for(server *s, const char *ip)
{
    const struct broker_config *cfg = s->ops->config(s->ctx);
    for (size_t i = 0; i < cfg->nconn_overrides; i++)
        if (!strcmp(cfg->conn_overrides[i].host, ip))
            return cfg->conn_overrides[i].max;
    return cfg->max_connections_per_ip;
}

static void peer_ip(int fd, char ip[CONN_IP_LEN])
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    strcpy(ip, "?");
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, CONN_IP_LEN);
    } else if (ss.ss_family == AF_INET6) {
        struct in6_addr *a = &((struct sockaddr_in6 *)&ss)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], ip, CONN_IP_LEN);
        else
            inet_ntop(AF_INET6, a, ip, CONN_IP_LEN);
    }
}

int conn_limits_admit(server *s, int fd, char ip[CONN_IP_LEN])
{
    peer_ip(fd, ip);
    int rc = 1;
    pthread_mutex_lock(&s->limits.mu);
    intptr_t n = (intptr_t)strmap_get(&s->limits.per_ip, ip, strlen(ip));
    if (n >= limit_for(s, ip)) {
        rc = 0;
    } else if (s->limits.total >= max_total(s)) {
        s->limits.full = true;
        rc = -1;
    } else {
        int err = 0;
        strmap_put(&s->limits.per_ip, ip, strlen(ip), (void *)(n + 1), &err);
        if (err)
            rc = 0;
        else
            s->limits.total++;
    }
    pthread_mutex_unlock(&s->limits.mu);
    return rc;
}

bool conn_limits_release(server *s, const char *ip)
{
    bool resume = false;
    pthread_mutex_lock(&s->limits.mu);
    intptr_t n = (intptr_t)strmap_get(&s->limits.per_ip, ip, strlen(ip));
    if (n > 1)
        strmap_put(&s->limits.per_ip, ip, strlen(ip), (void *)(n - 1), NULL);
    else if (n == 1)
        strmap_del(&s->limits.per_ip, ip, strlen(ip));
    if (n > 0)
        s->limits.total--;
    if (s->limits.full && s->limits.total < max_total(s)) {
        s->limits.full = false;
        resume = true;
    }
    pthread_mutex_unlock(&s->limits.mu);
    return resume;
}

bool conn_limits_changed(server *s)
{
    bool resume = false;
    pthread_mutex_lock(&s->limits.mu);
    if (s->limits.full && s->limits.total < max_total(s)) {
        s->limits.full = false;
        resume = true;
    }
    pthread_mutex_unlock(&s->limits.mu);
    return resume;
}

int conn_limits_count(server *s)
{
    pthread_mutex_lock(&s->limits.mu);
    int n = s->limits.total;
    pthread_mutex_unlock(&s->limits.mu);
    return n;
}
