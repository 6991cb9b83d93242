/*
 * stall_probe.c - the machine's own latency floor, measured with no server
 * running: one thread pinned to each online CPU sleeps 200 us at a time
 * and records how late every wake-up is. A wake-up more than 1 ms late
 * means that CPU ran something else (a kernel thread, an interrupt) or was
 * not running at all (the hypervisor), and any message passing through
 * that CPU at that moment waits just as long. bench/run.py runs it beside
 * the end-to-end latency figures so their tails can be read against it.
 *
 *   bench/stall_probe SECONDS
 * Prints one JSON line: per CPU the number of wake-ups, the stalls over
 * 1 ms, the latest wake-up (max) and its 99.9th percentile, and in total
 * the stalls per second and the longest stall.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench_util.h"

#define SLEEP_US 200
#define STALL_US 1000

typedef struct {
    int cpu;
    int pinned;
    int64_t end;
    lat_t late;         /* lateness of every wake-up, us */
    uint64_t stalls;    /* wake-ups more than STALL_US late */
} probe_t;

static void *probe_main(void *arg)
{
    probe_t *p = arg;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(p->cpu, &set);
    p->pinned = pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0;
    struct timespec ts = {0, SLEEP_US * 1000L};
    for (;;) {
        int64_t a = now_us();
        if (a >= p->end)
            break;
        while (nanosleep(&ts, NULL) != 0 && errno == EINTR)
            ;
        int64_t late = now_us() - a - SLEEP_US;
        lat_add(&p->late, late);
        if (late > STALL_US)
            p->stalls++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? atof(argv[1]) : 0;
    if (argc != 2 || secs <= 0 || secs > 3600) {
        fprintf(stderr, "usage: %s SECONDS (0 < SECONDS <= 3600)\n", argv[0]);
        return 2;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu < 1 || ncpu > 1024)
        ncpu = 1;
    probe_t *p = calloc((size_t)ncpu, sizeof *p);
    pthread_t *th = calloc((size_t)ncpu, sizeof *th);
    if (!p || !th) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    int64_t t0 = now_us(), end = t0 + (int64_t)(secs * 1e6);
    for (long i = 0; i < ncpu; i++) {
        p[i].cpu = (int)i;
        p[i].end = end;
        if (pthread_create(&th[i], NULL, probe_main, &p[i]) != 0) {
            fprintf(stderr, "cannot start a probe thread\n");
            return 1;
        }
    }
    for (long i = 0; i < ncpu; i++)
        pthread_join(th[i], NULL);
    double dur = (double)(now_us() - t0) / 1e6;
    uint64_t stalls = 0;
    double worst = 0;
    printf("{\"type\": \"summary\", \"mode\": \"stall_probe\", \"duration_s\": %.3f, \"sleep_us\": %d, "
           "\"stall_over_us\": %d, \"cpus\": [", dur, SLEEP_US, STALL_US);
    for (long i = 0; i < ncpu; i++) {
        lat_t *l = &p[i].late;
        size_t n = l->n;
        printf("%s{\"cpu\": %d, \"pinned\": %s, \"wakeups\": %zu, \"stalls\": %" PRIu64 ", \"late_ms\": ",
               i ? ", " : "", p[i].cpu, p[i].pinned ? "true" : "false", n, p[i].stalls);
        lat_json(stdout, l);   /* sorts the samples */
        printf("}");
        stalls += p[i].stalls;
        if (n && l->v[n - 1] / 1000.0 > worst)
            worst = l->v[n - 1] / 1000.0;
        free(l->v);
    }
    printf("], \"stalls\": %" PRIu64 ", \"stalls_per_s\": %.3f, \"max_stall_ms\": %.3f}\n", stalls,
           (double)stalls / dur, worst);
    free(p);
    free(th);
    return 0;
}
