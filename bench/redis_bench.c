/*
 * redis_bench.c - Redis Streams load generator for bench/run.py (hiredis).
 *
 *   redis_bench produce -p PORT -k NAME -S STREAMS -s SIZE [-n N] [-d SECS] [-w WINDOW]
 *   redis_bench consume -p PORT -k NAME -S STREAMS [-c PAGE] [-n N]
 *   redis_bench e2e     -p PORT -k NAME -s SIZE -r RATE [-n N] [-d SECS]
 *   redis_bench flush   -p PORT                  (FLUSHALL: free the memory between runs)
 *
 * Streams are the keys NAME-0 .. NAME-(STREAMS-1), the counterpart of a
 * topic's partitions. Every entry has one field, "v", holding the payload
 * (see bench_util.h: the same random printable payload as `samsa perf`).
 *
 * produce  XADD NAME-i * v PAYLOAD, round-robin over the streams, pipelined
 *          on one connection with at most WINDOW commands awaiting their
 *          reply (the reply is the "ack"; with appendfsync everysec it comes
 *          before the fsync, like acks=1 on a broker that flushes later).
 *          Commands are written in chunks of WINDOW/2 as replies come back.
 *          Throughput counts replies, from the first send to the last reply.
 * consume  reads every stream from the start with XRANGE NAME-i (LASTID + COUNT
 *          PAGE, one outstanding XRANGE per stream, all streams pipelined on
 *          one connection) until each stream returns a short page. Bytes are
 *          the payload bytes received.
 * e2e      one stream (NAME-0); a writer connection sends XADD at RATE msg/s
 *          (pipelined, replies read as they come) and a reader connection
 *          loops on XREAD BLOCK 200 COUNT 10000 STREAMS NAME-0 LASTID. Each
 *          payload starts with its send time; latency = receive time - send
 *          time. Two threads (writer, reader), like `samsa perf e2e`.
 *
 * Output: one JSON summary line on stdout (field names as `samsa perf --json`).
 * Exit status 1 on a Redis error or a lost message.
 */
#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "bench_util.h"

static const char *host = "127.0.0.1", *name = "bench";
static int port = 6379, nstreams = 1, window = 1024, page = 1000;
static size_t size = 100;
static uint64_t count = UINT64_MAX;
static double duration = 0, rate = 1000;

static void die(const char *what, redisContext *c)
{
    fprintf(stderr, "redis_bench: %s: %s\n", what, c && c->err ? c->errstr : "error");
    exit(1);
}

static redisContext *connect_redis(void)
{
    redisContext *c = redisConnect(host, port);
    if (!c || c->err)
        die("connect", c);
    return c;
}

static void write_all(redisContext *c)
{
    int done = 0;
    while (!done)
        if (redisBufferWrite(c, &done) != REDIS_OK)
            die("write", c);
}

/* Next reply: from what is already buffered, else block for more. */
static redisReply *next_reply(redisContext *c, bool block)
{
    void *r = NULL;
    if (redisGetReplyFromReader(c, &r) != REDIS_OK)
        die("protocol", c);
    if (r || !block)
        return r;
    if (redisGetReply(c, &r) != REDIS_OK)
        die("read", c);
    return r;
}

static char *key_of(int i)
{
    static char k[256];
    snprintf(k, sizeof k, "%s-%d", name, i);
    return k;
}

static int do_produce(void)
{
    redisContext *c = connect_redis();
    char *payload = make_payload(size);
    /* One pre-formatted XADD per stream: the payload never changes. */
    char **cmd = calloc((size_t)nstreams, sizeof *cmd);
    int *cmdlen = calloc((size_t)nstreams, sizeof *cmdlen);
    for (int i = 0; i < nstreams; i++)
        cmdlen[i] = redisFormatCommand(&cmd[i], "XADD %s * v %b", key_of(i), payload, size);
    uint64_t sent = 0, acked = 0, failed = 0;
    int64_t t0 = now_us(), stop_at = duration > 0 ? t0 + (int64_t)(duration * 1e6) : INT64_MAX;
    int64_t t_last = t0;
    bool stop = false;
    while (!stop || acked + failed < sent) {
        if (!stop && sent - acked - failed <= (uint64_t)window / 2) {
            while (sent - acked - failed < (uint64_t)window && sent < count) {
                int s = (int)(sent % (uint64_t)nstreams);
                redisAppendFormattedCommand(c, cmd[s], (size_t)cmdlen[s]);
                sent++;
            }
            write_all(c);
        }
        redisReply *r = next_reply(c, true);
        do {
            if (r->type == REDIS_REPLY_ERROR) {
                if (!failed)
                    fprintf(stderr, "redis_bench: XADD: %s\n", r->str);
                failed++;
            } else {
                acked++;
            }
            freeReplyObject(r);
        } while ((r = next_reply(c, false)));
        t_last = now_us();
        if (sent >= count || t_last >= stop_at)
            stop = true;
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             ", \"settings\": {\"streams\": %d, \"size\": %zu, \"window\": %d, \"sent\": %" PRIu64 "}",
             nstreams, size, window, sent);
    print_summary("redis", "produce", name, acked, acked * size, failed, (t_last - t0) / 1e6, NULL, extra);
    for (int i = 0; i < nstreams; i++)
        redisFreeCommand(cmd[i]);
    redisFree(c);
    return failed ? 1 : 0;
}

static int do_consume(void)
{
    redisContext *c = connect_redis();
    char (*last)[64] = calloc((size_t)nstreams, sizeof *last);
    bool *done = calloc((size_t)nstreams, sizeof *done);
    uint64_t msgs = 0, bytes = 0;
    int64_t t0 = now_us();
    int active = nstreams;
    while (active > 0 && msgs < count) {
        for (int i = 0; i < nstreams; i++) {
            if (done[i])
                continue;
            if (last[i][0])
                redisAppendCommand(c, "XRANGE %s (%s + COUNT %d", key_of(i), last[i], page);
            else
                redisAppendCommand(c, "XRANGE %s - + COUNT %d", key_of(i), page);
        }
        write_all(c);
        for (int i = 0; i < nstreams; i++) {
            if (done[i])
                continue;
            redisReply *r = next_reply(c, true);
            if (r->type != REDIS_REPLY_ARRAY) {
                fprintf(stderr, "redis_bench: XRANGE: %s\n", r->type == REDIS_REPLY_ERROR ? r->str : "bad reply");
                return 1;
            }
            for (size_t e = 0; e < r->elements; e++) {
                redisReply *ent = r->element[e];   /* [id, [field, value]] */
                if (ent->type != REDIS_REPLY_ARRAY || ent->elements != 2 || ent->element[1]->elements != 2)
                    continue;
                bytes += ent->element[1]->element[1]->len;
                msgs++;
                if (e + 1 == r->elements)
                    snprintf(last[i], sizeof last[i], "%s", ent->element[0]->str);
            }
            if (r->elements < (size_t)page) {
                done[i] = true;
                active--;
            }
            freeReplyObject(r);
        }
    }
    double secs = (now_us() - t0) / 1e6;
    char extra[128];
    snprintf(extra, sizeof extra, ", \"settings\": {\"streams\": %d, \"page\": %d}", nstreams, page);
    print_summary("redis", "consume", name, msgs, bytes, 0, secs, NULL, extra);
    redisFree(c);
    return 0;
}

/* e2e: the writer thread paces XADDs and reads their replies; the reader
 * thread (below, in do_e2e) blocks in XREAD. */
typedef struct {
    redisContext *c;
    char *payload;
    const char *key;
    _Atomic uint64_t sent, acked, failed;
    _Atomic int done;
} e2e_writer_t;

static void *e2e_writer(void *arg)
{
    e2e_writer_t *w = arg;
    int64_t t0 = now_us(), stop_at = duration > 0 ? t0 + (int64_t)(duration * 1e6) : INT64_MAX;
    uint64_t sent = 0;
    for (;;) {
        int64_t now = now_us();
        bool sending = sent < count && now < stop_at;
        if (!sending && atomic_load(&w->acked) + atomic_load(&w->failed) >= sent)
            break;
        bool wrote = false;   /* every message that is due (catching up after a stall) */
        while (sending && sent < count && t0 + (int64_t)((double)sent * 1e6 / rate) <= now) {
            stamp_payload(w->payload, now_us());
            redisAppendCommand(w->c, "XADD %s * v %b", w->key, w->payload, size);
            sent++;
            wrote = true;
        }
        if (wrote) {
            atomic_store(&w->sent, sent);
            write_all(w->c);
        }
        /* Read replies until the next message is due (ppoll: microseconds). */
        int64_t wait = sending ? t0 + (int64_t)((double)sent * 1e6 / rate) - now_us() : 100000;
        wait = wait < 0 ? 0 : wait > 100000 ? 100000 : wait;
        struct timespec tmo = {wait / 1000000, (wait % 1000000) * 1000};
        struct pollfd pf = {.fd = w->c->fd, .events = POLLIN};
        if (ppoll(&pf, 1, &tmo, NULL) < 0 && errno != EINTR)
            die("poll", NULL);
        if (!pf.revents)
            continue;
        if (redisBufferRead(w->c) != REDIS_OK)
            die("read", w->c);
        redisReply *r;
        while ((r = next_reply(w->c, false))) {
            if (r->type == REDIS_REPLY_ERROR) {
                if (!atomic_load(&w->failed))
                    fprintf(stderr, "redis_bench: XADD: %s\n", r->str);
                atomic_fetch_add(&w->failed, 1);
            } else {
                atomic_fetch_add(&w->acked, 1);
            }
            freeReplyObject(r);
        }
    }
    atomic_store(&w->done, 1);
    return NULL;
}

static int do_e2e(void)
{
    if (size < 16) {
        fprintf(stderr, "redis_bench: e2e needs --size >= 16\n");
        return 2;
    }
    if (count == UINT64_MAX && duration <= 0)
        count = 10000;
    char key[256];
    snprintf(key, sizeof key, "%s", key_of(0));
    e2e_writer_t w = {.c = connect_redis(), .payload = make_payload(size), .key = key};
    redisContext *rd = connect_redis();
    char last[64] = "0-0";
    lat_t lat = {0};
    uint64_t received = 0;
    int64_t t0 = now_us(), t_last = t0, drain_deadline = 0;
    pthread_t th;
    if (pthread_create(&th, NULL, e2e_writer, &w) != 0)
        die("pthread_create", NULL);
    for (;;) {
        if (atomic_load(&w.done)) {
            if (received >= atomic_load(&w.sent))
                break;
            if (!drain_deadline)
                drain_deadline = now_us() + 10000000;   /* 10 s for the last messages */
            else if (now_us() > drain_deadline)
                break;
        }
        redisReply *r = redisCommand(rd, "XREAD BLOCK 200 COUNT 10000 STREAMS %s %s", key, last);
        int64_t t = now_us();
        if (!r)
            die("XREAD", rd);
        /* [[key, [[id, [field, value]], ...]]] or nil on timeout */
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements == 2) {
            redisReply *ents = r->element[0]->element[1];
            for (size_t e = 0; e < ents->elements; e++) {
                redisReply *ent = ents->element[e];
                if (ent->elements != 2 || ent->element[1]->elements != 2)
                    continue;
                redisReply *v = ent->element[1]->element[1];
                int64_t ts = read_stamp(v->str, v->len);
                if (ts > 0)
                    lat_add(&lat, t - ts);
                received++;
                t_last = t;
                snprintf(last, sizeof last, "%s", ent->element[0]->str);
            }
        } else if (r->type == REDIS_REPLY_ERROR) {
            fprintf(stderr, "redis_bench: XREAD: %s\n", r->str);
            return 1;
        }
        freeReplyObject(r);
    }
    pthread_join(th, NULL);
    double secs = (t_last - t0) / 1e6;   /* first send to last message received */
    uint64_t sent = atomic_load(&w.sent), failed = atomic_load(&w.failed);
    char extra[256];
    snprintf(extra, sizeof extra,
             ", \"produced\": %" PRIu64 ", \"missing\": %" PRIu64
             ", \"settings\": {\"size\": %zu, \"rate\": %.0f}",
             (uint64_t)atomic_load(&w.acked), sent > received ? sent - received : 0, size, rate);
    print_summary("redis", "e2e", key, received, received * size, failed, secs, &lat, extra);
    return failed || received < sent ? 1 : 0;
}

static int do_flush(void)
{
    redisContext *c = connect_redis();
    redisReply *r = redisCommand(c, "FLUSHALL");
    if (!r || r->type == REDIS_REPLY_ERROR)
        die("FLUSHALL", c);
    freeReplyObject(r);
    redisFree(c);
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: redis_bench produce|consume|e2e|flush [-H HOST] [-p PORT] [-k NAME] [-S STREAMS]\n"
          "                   [-s SIZE] [-n COUNT] [-d SECS] [-w WINDOW] [-r RATE] [-c PAGE]\n"
          "(see the comment at the top of bench/redis_bench.c)\n", f);
}

int main(int argc, char **argv)
{
    const bench_opts o = {&host, &name, &port, &nstreams, &window, &page, &size, &count,
                          &duration, &rate, "page", usage};
    int rc;
    const char *mode = bench_parse_opts(argc, argv, &o, &rc);
    if (!mode)
        return rc;
    if (!strcmp(mode, "produce"))
        return do_produce();
    if (!strcmp(mode, "consume"))
        return do_consume();
    if (!strcmp(mode, "e2e"))
        return do_e2e();
    if (!strcmp(mode, "flush"))
        return do_flush();
    usage(stderr);
    return 2;
}
