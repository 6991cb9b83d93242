/* zk_server.h - a throw-away standalone ZooKeeper for unit tests: Debian's
 * zookeeper jar started on a free loopback port with its data in the
 * test's tmpdir, stopped by PID (never by name). */
#ifndef SAMSA_TEST_ZK_SERVER_H
#define SAMSA_TEST_ZK_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

typedef struct zk_server { pid_t pid; int port; char connect[64]; } zk_server;

/* A free loopback TCP port (-1 if none). */
int zk_free_port(void);
/* Start a server; false (with a test failure, nothing left running) if
 * it does not answer "ruok" within 30 s. */
bool zk_server_start(zk_server *z);
/* Send sig to the server and reap it; safe on a stopped server. */
void zk_server_stop(zk_server *z, int sig);
/* Poll until *v >= want or ms elapse; true when reached. */
bool zk_wait_for(atomic_int *v, int want, int ms);

#endif
