/* conn_limits.c - see conn_limits.h. */
#include "broker/conn_limits.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/broker.h"
#include "config/config.h"
#include "core/strmap.h"

/* The limits are read from the current config at every decision, so a
 * dynamic update (the three keys are cluster-wide dynamic) applies to the
 * next connection; see conn_limits_changed for a raised max.connections. */
static struct {
    pthread_mutex_t mu;           /* guards everything below */
    strmap per_ip;                /* ip -> (intptr) count */
    int total;
    broker *b;
    bool full;
} g_cl = { .mu = PTHREAD_MUTEX_INITIALIZER };

int conn_limits_init(broker *b)
{
    strmap_init(&g_cl.per_ip);
    g_cl.b = b;
    return 0;
}

static int max_total(void)
{
    return broker_config_current(g_cl.b)->max_connections;
}

void conn_limits_free(void)
{
    strmap_free(&g_cl.per_ip);
}

static int limit_for(const char *ip)
{
    const struct broker_config *cfg = broker_config_current(g_cl.b);
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

int conn_limits_admit(int fd, char ip[CONN_IP_LEN])
{
    peer_ip(fd, ip);
    int rc = 1;
    pthread_mutex_lock(&g_cl.mu);
    intptr_t n = (intptr_t)strmap_get(&g_cl.per_ip, ip, strlen(ip));
    if (n >= limit_for(ip)) {
        rc = 0;
    } else if (g_cl.total >= max_total()) {
        g_cl.full = true;
        rc = -1;
    } else {
        int err = 0;
        strmap_put(&g_cl.per_ip, ip, strlen(ip), (void *)(n + 1), &err);
        if (err)
            rc = 0;
        else
            g_cl.total++;
    }
    pthread_mutex_unlock(&g_cl.mu);
    return rc;
}

bool conn_limits_release(const char *ip)
{
    bool resume = false;
    pthread_mutex_lock(&g_cl.mu);
    intptr_t n = (intptr_t)strmap_get(&g_cl.per_ip, ip, strlen(ip));
    if (n > 1)
        strmap_put(&g_cl.per_ip, ip, strlen(ip), (void *)(n - 1), NULL);
    else if (n == 1)
        strmap_del(&g_cl.per_ip, ip, strlen(ip));
    if (n > 0)
        g_cl.total--;
    if (g_cl.full && g_cl.total < max_total()) {
        g_cl.full = false;
        resume = true;
    }
    pthread_mutex_unlock(&g_cl.mu);
    return resume;
}

bool conn_limits_changed(void)
{
    bool resume = false;
    pthread_mutex_lock(&g_cl.mu);
    if (g_cl.b && g_cl.full && g_cl.total < max_total()) {
        g_cl.full = false;
        resume = true;
    }
    pthread_mutex_unlock(&g_cl.mu);
    return resume;
}

int conn_limits_count(void)
{
    pthread_mutex_lock(&g_cl.mu);
    int n = g_cl.total;
    pthread_mutex_unlock(&g_cl.mu);
    return n;
}
