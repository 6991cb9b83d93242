/*
 * main.c - samsa-broker: parse config, open storage, start threads, wait
 * for SIGTERM/SIGINT, shut down cleanly.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/admin.h"
#include "broker/broker.h"
#include "broker/net_threads.h"
#include "core/log.h"

broker *g_broker;

int main(int argc, char **argv)
{
    static broker b;
    g_broker = &b;
    b.set.node_id = 0;
    snprintf(b.set.listen_host, sizeof b.set.listen_host, "127.0.0.1");
    b.set.listen_port = 9092;
    b.set.num_network_threads = 3;
    b.set.socket_request_max_bytes = 104857600;
    b.set.connections_max_idle_ms = 600000;
    b.set.num_partitions = 1;
    b.set.default_replication_factor = 1;
    b.set.auto_create_topics = true;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--override") && !strncmp(argv[i + 1], "listeners=PLAINTEXT://127.0.0.1:", 32))
            b.set.listen_port = atoi(argv[i + 1] + 32);
    snprintf(b.set.adv_host, sizeof b.set.adv_host, "%s", b.set.listen_host);
    snprintf(b.cluster_id, sizeof b.cluster_id, "AAAAAAAAAAAAAAAAAAAAAA");
    registry_init(&b.topics);
    char err[512];
    if (net_threads_init(&b, err, sizeof err) < 0) {
        LOG_ERR("main", "%s", err);
        return 1;
    }
    admin_worker_start(&b);
    net_threads_start(&b);
    LOG_INF("main", "listening on %s:%d", b.set.listen_host, b.set.listen_port);
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    pthread_sigmask(SIG_BLOCK, &ss, NULL);
    int sig;
    sigwait(&ss, &sig);
    LOG_INF("main", "signal %d: shutting down", sig);
    net_threads_stop(&b);
    admin_worker_stop(&b);
    return 0;
}
