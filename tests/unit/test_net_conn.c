/* test_net_conn.c - net/conn.c's framing against a real loop and a real
 * TCP connection: frames of every size, back to back, written in chunks
 * that split them anywhere, arrive whole and in order.  Large frames take
 * the path that reads only the next frame's size after them (conn.c,
 * do_read); small ones the scratch-buffer path. */
#include "test.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/endian.h"
#include "net/conn.h"
#include "net/loop.h"

static const size_t k_sizes[] = { 70000, 10, 65536, 131072, 3, 65535, 200000, 4, 65537, 1, 16384, 16383, 9, 1 << 20 };
#define NSIZES (sizeof k_sizes / sizeof k_sizes[0])
#define NFRAMES (NSIZES * 4)

static uint8_t frame_byte(size_t frame, size_t j) { return (uint8_t)(frame * 31 + j * 7 + (j >> 9)); }

typedef struct rx {
    loop *lp;
    size_t got, bad;
    bool closed;
} rx;

static rx g_rx;

static void on_frame(conn *c, uint8_t *f, size_t len)
{
    (void)c;
    size_t i = g_rx.got++;
    bool ok = len == k_sizes[i % NSIZES];
    for (size_t j = 0; ok && j < len; j++)
        ok = f[j] == frame_byte(i, j);
    g_rx.bad += !ok;
    free(f);
    if (g_rx.got == NFRAMES)
        loop_stop(g_rx.lp);
}

static void on_close(conn *c)
{
    (void)c;
    g_rx.closed = true;
    loop_stop(g_rx.lp);
}

static const conn_ops k_ops = { .on_frame = on_frame, .on_close = on_close };

/* The whole stream, built before the writer starts. */
static uint8_t *build_stream(size_t *total)
{
    *total = 0;
    for (size_t i = 0; i < NFRAMES; i++)
        *total += 4 + k_sizes[i % NSIZES];
    uint8_t *buf = malloc(*total), *p = buf;
    for (size_t i = 0; buf && i < NFRAMES; i++) {
        size_t len = k_sizes[i % NSIZES];
        be32_store(p, (uint32_t)len);
        p += 4;
        for (size_t j = 0; j < len; j++)
            *p++ = frame_byte(i, j);
    }
    return buf;
}

/* What the writer thread sends: buf[0, total) through fd, in writes of
 * 1..max_chunk bytes chosen by rand_r(seed). */
static struct {
    int fd;
    const uint8_t *buf;
    size_t total, max_chunk;
    unsigned seed;
} g_tx;

static void *writer(void *unused)
{
    (void)unused;
    for (size_t off = 0; off < g_tx.total;) {
        size_t n = 1 + (size_t)rand_r(&g_tx.seed) % g_tx.max_chunk;
        ssize_t w = write(g_tx.fd, g_tx.buf + off, n < g_tx.total - off ? n : g_tx.total - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    return NULL;
}

static void stop(loop *lp, void *arg)
{
    (void)arg;
    loop_stop(lp);
}

static void run_stream(size_t max_chunk, unsigned seed)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(ls >= 0);
    struct sockaddr_in sa = { .sin_family = AF_INET };
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    socklen_t sl = sizeof sa;
    REQUIRE_EQ(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
    REQUIRE_EQ(listen(ls, 1), 0);
    REQUIRE_EQ(getsockname(ls, (struct sockaddr *)&sa, &sl), 0);
    int cfd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE_EQ(connect(cfd, (struct sockaddr *)&sa, sizeof sa), 0);
    int sfd = accept(ls, NULL, NULL);
    REQUIRE(sfd >= 0);
    close(ls);

    loop *lp = loop_new(0);
    REQUIRE(lp != NULL);
    memset(&g_rx, 0, sizeof g_rx);
    g_rx.lp = lp;
    conn_limits lim = { .max_frame = 2 << 20, .idle_ms = 0 };
    conn *c = conn_new(lp, sfd, &k_ops, &lim);
    REQUIRE(c != NULL);
    size_t total;
    uint8_t *stream = build_stream(&total);
    REQUIRE(stream != NULL);
    g_tx.fd = cfd;
    g_tx.buf = stream;
    g_tx.total = total;
    g_tx.max_chunk = max_chunk;
    g_tx.seed = seed;
    pthread_t th;
    REQUIRE_EQ(pthread_create(&th, NULL, writer, NULL), 0);
    loop_run(lp);
    pthread_join(th, NULL);
    free(stream);
    CHECK_EQ(g_rx.got, NFRAMES);
    CHECK_EQ(g_rx.bad, 0);
    CHECK(!g_rx.closed);
    if (!g_rx.closed)
        conn_close(c, NULL);
    REQUIRE_EQ(loop_post(lp, stop, NULL), 0);
    loop_run(lp);                   /* runs the deferred free */
    close(cfd);
    loop_free(lp);
}

TEST(conn_frames_in_one_write_arrive_whole) { run_stream(64 << 20, 1); }
TEST(conn_frames_in_small_chunks_arrive_whole) { run_stream(4096, 2); }
TEST(conn_frames_split_anywhere_arrive_whole) { run_stream(100000, 3); }
TEST(conn_frames_split_into_tiny_writes_arrive_whole) { run_stream(97, 4); }
