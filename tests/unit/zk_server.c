/* zk_server.c - see zk_server.h. */
#include "zk_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define ZK_JAR "/usr/share/java/zookeeper.jar"

int zk_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

static bool ruok(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    char buf[8] = { 0 };
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
              write(fd, "ruok", 4) == 4 && read(fd, buf, 4) == 4 && !memcmp(buf, "imok", 4);
    if (fd >= 0)
        close(fd);
    return ok;
}

bool zk_server_start(zk_server *z)
{
    char cfg[512], data[512];
    const char *dir = test_tmpdir();
    z->port = zk_free_port();
    snprintf(data, sizeof data, "%s/zk-data", dir);
    snprintf(cfg, sizeof cfg, "%s/zoo.cfg", dir);
    FILE *f = fopen(cfg, "w");
    if (!f || z->port < 0)
        return false;
    fprintf(f, "tickTime=500\ndataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
               "admin.enableServer=false\n4lw.commands.whitelist=ruok\n"
               "minSessionTimeout=1000\nmaxSessionTimeout=60000\n", data, z->port);
    fclose(f);
    snprintf(z->connect, sizeof z->connect, "127.0.0.1:%d", z->port);
    z->pid = fork();
    if (z->pid == 0) {
        char log[600];
        snprintf(log, sizeof log, "%s/zk.log", dir);
        if (!freopen(log, "w", stdout) || !freopen(log, "a", stderr))
            _exit(126);
        execlp("java", "java", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
               "-cp", ZK_JAR ":/etc/zookeeper/conf_example",
               "org.apache.zookeeper.server.ZooKeeperServerMain", cfg, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 600; i++) {
        if (ruok(z->port))
            return true;
        int st;
        if (waitpid(z->pid, &st, WNOHANG) == z->pid) {
            test_fail(__FILE__, __LINE__, "zookeeper exited (is Debian's zookeeper installed?)");
            z->pid = 0;
            return false;
        }
        usleep(50000);
    }
    test_fail(__FILE__, __LINE__, "zookeeper not ready on %s within 30 s", z->connect);
    zk_server_stop(z, SIGKILL);
    return false;
}

void zk_server_stop(zk_server *z, int sig)
{
    if (z->pid > 0) {
        kill(z->pid, sig);
        waitpid(z->pid, NULL, 0);
        z->pid = 0;
    }
}

bool zk_wait_for(atomic_int *v, int want, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (atomic_load(v) >= want)
            return true;
        usleep(10000);
    }
    return atomic_load(v) >= want;
}
