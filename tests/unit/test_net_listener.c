/* test_net_listener.c - net/listener.c against a real loop. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/listener.h"
#include "net/loop.h"

static void count_accept(listener *ls, int fd, void *arg)
{
    (void)ls;
    (*(int *)arg)++;
    close(fd);
}

static void close_and_stop(loop *lp, void *arg)
{
    listener_close(arg);
    loop_stop(lp);
}

/* Shutdown closes the listener from a mailbox message while a client is
 * connecting: the wake event and the listener's EPOLLIN arrive in one
 * epoll batch, the wake first. The listener's event must not reach freed
 * memory (a heap-use-after-free the cluster fault runner's rolling restart
 * found under ASan) nor accept. */
TEST(listener_close_with_its_event_pending_in_the_same_batch)
{
    loop *lp = loop_new(0);
    REQUIRE(lp != NULL);
    int accepted = 0;
    char err[160];
    listener *ls = listener_open(lp, "127.0.0.1", 0, count_accept, &accepted, err, sizeof err);
    REQUIRE(ls != NULL);
    REQUIRE_EQ(loop_post(lp, close_and_stop, ls), 0);   /* the wake fd is ready first */
    int c = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(c >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(listener_port(ls)) };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    CHECK_EQ(connect(c, (struct sockaddr *)&sa, sizeof sa), 0);   /* then the listener */
    loop_run(lp);
    CHECK_EQ(accepted, 0);
    close(c);
    loop_free(lp);
}
