/*
 * mock_cluster.c - run librdkafka's in-memory mock cluster as a stand-alone
 * "broker" for benchmarks: the baseline of a Kafka-protocol peer that keeps
 * everything in memory and does no durable work.
 *
 *   bench/mock_cluster [TOPIC:PARTITIONS]...
 * Prints "BOOTSTRAP host:port" on stdout, then serves until SIGTERM/SIGINT.
 * Topics named on the command line are created up front (the mock
 * auto-creates others with one partition).
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "mock_cluster: %s\n", err);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, 1);
    if (!mc) {
        fprintf(stderr, "mock_cluster: cannot create the mock cluster\n");
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        char *colon = strrchr(argv[i], ':');
        int parts = colon ? atoi(colon + 1) : 1;
        if (colon)
            *colon = 0;
        if (rd_kafka_mock_topic_create(mc, argv[i], parts > 0 ? parts : 1, 1)) {
            fprintf(stderr, "mock_cluster: cannot create topic %s\n", argv[i]);
            return 1;
        }
    }
    printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    sigset_t ss;
    sigemptyset(&ss);
    sigaddset(&ss, SIGTERM);
    sigaddset(&ss, SIGINT);
    sigprocmask(SIG_BLOCK, &ss, NULL);
    int sig;
    sigwait(&ss, &sig);
    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
