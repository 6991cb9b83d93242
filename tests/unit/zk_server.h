/*
 * zk_server.h - a real ZooKeeper for unit tests: Debian's zookeeper jar,
 * started standalone on a free loopback port with its data in a test
 * temporary directory, and stopped by PID.
 */
#ifndef SAMSA_TEST_ZK_SERVER_H
#define SAMSA_TEST_ZK_SERVER_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct zk_server { pid_t pid; int port; char connect[64]; } zk_server;

/* A loopback port nobody listens on (at the time of the call). */
int free_port(void);
/* Start a standalone server; false (with a test failure) if it does not
 * answer "ruok" within 30 s. */
bool zk_server_start(zk_server *z);
/* Stop it with sig (SIGKILL, SIGTERM) and reap it. */
void zk_server_stop(zk_server *z, int sig);

#endif
