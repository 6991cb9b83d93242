/*
 * nats_bench.c - NATS JetStream load generator for bench/run.py, with its
 * own minimal NATS client (plain TCP, no library).
 *
 *   nats_bench produce -p PORT -k NAME -S STREAMS -s SIZE [-n N] [-d SECS] [-w WINDOW]
 *   nats_bench consume -p PORT -k NAME -S STREAMS -s SIZE [-c BATCH] [-n N]
 *   nats_bench e2e     -p PORT -k NAME -s SIZE -r RATE [-n N] [-d SECS]
 *   nats_bench delete  -p PORT -k NAME -S STREAMS
 *
 * Streams NAME-0 .. NAME-(STREAMS-1) (subjects NAME.0 ..), the counterpart
 * of a topic's partitions, are created with file storage, one replica,
 * limits retention (`$JS.API.STREAM.CREATE.<stream>` request/reply; creating
 * an identical stream again is a no-op, so consume/e2e reuse what produce
 * made). Payloads: bench_util.h (the same random printable bytes as
 * `samsa perf`).
 *
 * Protocol used (NATS client protocol, text): the server greets with INFO;
 * we send CONNECT {"headers":true,"no_responders":true,...} and PING, and
 * wait for PONG. SUB <subject> <sid>; PUB <subject> <reply> <len>; the
 * server sends MSG <subject> <sid> [reply] <len> and, for status messages
 * (pull request timeouts etc.), HMSG ... <hdr_len> <total_len>. PING from
 * the server is answered with PONG. Request/reply: a PUB whose reply subject
 * is our inbox _INBOX.<random>.api, subscribed as sid 1.
 *
 * produce  PUB NAME.i with reply subject _INBOX.<r>.ack, round-robin over the
 *          streams. JetStream answers each stored message with a PubAck
 *          ({"stream":..,"seq":..}) - the counterpart of a Kafka ack. At most
 *          WINDOW messages await their PubAck; messages are written in chunks
 *          of WINDOW/2 as acks come back. Throughput counts PubAcks, from the
 *          first send to the last PubAck. A PubAck with "error" is a failure.
 * consume  per stream: the message count from $JS.API.STREAM.INFO, an
 *          ephemeral pull consumer ($JS.API.CONSUMER.CREATE.<stream>,
 *          ack_policy none, deliver_policy all), then pull requests
 *          ($JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>, {"batch":BATCH,
 *          "expires":60s}) to a per-stream inbox, keeping up to two batches
 *          requested ahead, until every message was received. BATCH is
 *          lowered so that at most 16 MiB (by -s SIZE) are requested at once
 *          over all streams: beyond 64 MiB pending, the server disconnects a
 *          slow consumer. Throughput: first to last message (as `samsa perf
 *          consume`).
 * e2e      one stream (NAME-0) and one pull consumer on it, created first.
 *          A writer thread publishes at RATE msg/s on one connection (and
 *          reads the PubAcks); a reader thread on a second connection keeps
 *          pull requests outstanding (a waiting pull request is served as
 *          soon as a message is stored: the long poll). Each payload starts
 *          with its send time; latency = receive time - send time.
 * delete   $JS.API.STREAM.DELETE for each stream (frees the disk).
 *
 * Output: one JSON summary line on stdout (field names as `samsa perf --json`).
 * Exit status 1 on an error or a lost message.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_util.h"

static const char *host = "127.0.0.1", *name = "bench";
static int port = 4222, nstreams = 1, window = 1024, batch = 1000;
static size_t size = 100;
static uint64_t count = UINT64_MAX;
static double duration = 0, rate = 1000;

/* ------------------------------------------------------------------ client */

typedef struct nconn nconn;
typedef void (*msg_cb)(nconn *nc, uint64_t sid, const char *hdr, size_t hdrlen, const char *data,
                       size_t len);

struct nconn {
    int fd;
    char *in, *out;
    size_t in_len, in_cap, out_len, out_cap;
    char inbox[48];          /* _INBOX.<random> */
    msg_cb cb;               /* messages on sids other than 1 */
    void *user;
    char *api_reply;         /* last reply on sid 1 (request/reply) */
    size_t api_len;
    bool api_got;
};

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("nats_bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void nc_out(nconn *nc, const void *p, size_t n)
{
    if (nc->out_len + n > nc->out_cap) {
        while (nc->out_len + n > nc->out_cap)
            nc->out_cap = nc->out_cap ? nc->out_cap * 2 : 1 << 20;
        nc->out = realloc(nc->out, nc->out_cap);
        if (!nc->out)
            fail("out of memory");
    }
    memcpy(nc->out + nc->out_len, p, n);
    nc->out_len += n;
}

__attribute__((format(printf, 2, 3))) static void nc_outf(nconn *nc, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= (int)sizeof buf)
        fail("protocol line too long");
    nc_out(nc, buf, (size_t)n);
}

static void nc_flush(nconn *nc)
{
    size_t off = 0;
    while (off < nc->out_len) {
        ssize_t w = write(nc->fd, nc->out + off, nc->out_len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fail("write: %s", strerror(errno));
        }
        off += (size_t)w;
    }
    nc->out_len = 0;
}

static void nc_pub(nconn *nc, const char *subj, const char *reply, const void *data, size_t len)
{
    nc_outf(nc, "PUB %s %s %zu\r\n", subj, reply ? reply : "", len);
    nc_out(nc, data, len);
    nc_out(nc, "\r\n", 2);
}

/* Splits a protocol line into at most 6 space-separated tokens. */
static int split(char *line, char **tok)
{
    int n = 0;
    char *save = NULL;
    for (char *p = strtok_r(line, " \t", &save); p && n < 6; p = strtok_r(NULL, " \t", &save))
        tok[n++] = p;
    return n;
}

/* Parses every complete protocol message in the input buffer. */
static void nc_parse(nconn *nc)
{
    size_t pos = 0;
    for (;;) {
        char *start = nc->in + pos;
        char *eol = memmem(start, nc->in_len - pos, "\r\n", 2);
        if (!eol)
            break;
        size_t linelen = (size_t)(eol - start);
        char line[1024];
        if (linelen >= sizeof line && strncmp(start, "INFO", 4) != 0)
            fail("protocol line too long");
        if (!strncmp(start, "MSG ", 4) || !strncmp(start, "HMSG ", 5)) {
            bool h = start[0] == 'H';
            memcpy(line, start, linelen);
            line[linelen] = 0;
            char *tok[6];
            int n = split(line, tok);
            /* MSG subj sid [reply] len | HMSG subj sid [reply] hlen total */
            int need = h ? 5 : 4;
            if (n != need && n != need + 1)
                fail("bad message line: %.*s", (int)linelen, start);
            size_t total = strtoull(tok[n - 1], NULL, 10);
            size_t hlen = h ? strtoull(tok[n - 2], NULL, 10) : 0;
            size_t body = linelen + 2;
            if (nc->in_len - pos < body + total + 2)
                break;   /* wait for the rest */
            uint64_t sid = strtoull(tok[2], NULL, 10);
            const char *payload = start + body;
            if (sid == 1) {
                free(nc->api_reply);
                nc->api_reply = malloc(total + 1);
                memcpy(nc->api_reply, payload, total);
                nc->api_reply[total] = 0;
                nc->api_len = total;
                nc->api_got = true;
            } else if (nc->cb) {
                nc->cb(nc, sid, payload, hlen, payload + hlen, total - hlen);
            }
            pos += body + total + 2;
            continue;
        }
        if (!strncmp(start, "PING", 4)) {
            nc_out(nc, "PONG\r\n", 6);
            nc_flush(nc);
        } else if (!strncmp(start, "-ERR", 4)) {
            fail("server error: %.*s", (int)linelen, start);
        }
        /* PONG, +OK, INFO: nothing to do */
        pos += linelen + 2;
    }
    memmove(nc->in, nc->in + pos, nc->in_len - pos);
    nc->in_len -= pos;
}

/* Reads what is available (waiting up to timeout_us) and parses it.
 * Returns false on timeout. */
static bool nc_read(nconn *nc, int64_t timeout_us)
{
    struct pollfd pf = {.fd = nc->fd, .events = POLLIN};
    struct timespec tmo = {timeout_us / 1000000, (timeout_us % 1000000) * 1000};
    int r = ppoll(&pf, 1, timeout_us < 0 ? NULL : &tmo, NULL);
    if (r < 0 && errno != EINTR)
        fail("poll: %s", strerror(errno));
    if (r <= 0)
        return false;
    if (nc->in_cap - nc->in_len < 65536) {
        nc->in_cap = nc->in_cap ? nc->in_cap * 2 : 4 << 20;
        nc->in = realloc(nc->in, nc->in_cap);
        if (!nc->in)
            fail("out of memory");
    }
    ssize_t n = read(nc->fd, nc->in + nc->in_len, nc->in_cap - nc->in_len);
    if (n == 0)
        fail("connection closed by the server");
    if (n < 0) {
        if (errno == EINTR || errno == EAGAIN)
            return true;
        fail("read: %s", strerror(errno));
    }
    nc->in_len += (size_t)n;
    nc_parse(nc);
    return true;
}

static nconn *nc_connect(void)
{
    nconn *nc = calloc(1, sizeof *nc);
    nc->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        fail("bad host %s (an IPv4 address is expected)", host);
    if (connect(nc->fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        fail("connect %s:%d: %s", host, port, strerror(errno));
    int one = 1;
    setsockopt(nc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    snprintf(nc->inbox, sizeof nc->inbox, "_INBOX.%016llx",
             (unsigned long long)(now_us() * 2654435761ULL ^ (uint64_t)getpid() << 32 ^ (uint64_t)(uintptr_t)nc));
    nc_outf(nc, "CONNECT {\"verbose\":false,\"pedantic\":false,\"lang\":\"c\",\"version\":\"0.1\","
                "\"protocol\":1,\"headers\":true,\"no_responders\":true,\"name\":\"nats_bench\"}\r\n"
                "PING\r\n");
    nc_outf(nc, "SUB %s.api 1\r\n", nc->inbox);
    nc_flush(nc);
    /* Wait for the PONG answering our PING (INFO comes first). */
    int64_t deadline = now_us() + 5000000;
    for (;;) {
        if (now_us() > deadline)
            fail("no PONG from the server");
        char *p = nc->in_len ? memmem(nc->in, nc->in_len, "PONG\r\n", 6) : NULL;
        if (p) {
            nc_parse(nc);
            break;
        }
        struct pollfd pf = {.fd = nc->fd, .events = POLLIN};
        if (poll(&pf, 1, 100) <= 0)
            continue;
        if (nc->in_cap - nc->in_len < 65536) {
            nc->in_cap = nc->in_cap ? nc->in_cap * 2 : 4 << 20;
            nc->in = realloc(nc->in, nc->in_cap);
        }
        ssize_t n = read(nc->fd, nc->in + nc->in_len, nc->in_cap - nc->in_len);
        if (n <= 0)
            fail("connection closed during the handshake");
        nc->in_len += (size_t)n;
        if (memmem(nc->in, nc->in_len, "-ERR", 4))
            fail("server refused the connection: %.*s", (int)nc->in_len, nc->in);
    }
    return nc;
}

/* Request/reply on the API inbox; returns the reply (owned by nc). */
static const char *nc_request(nconn *nc, const char *subj, const char *json)
{
    char reply[80];
    snprintf(reply, sizeof reply, "%s.api", nc->inbox);
    nc->api_got = false;
    nc_pub(nc, subj, reply, json, strlen(json));
    nc_flush(nc);
    int64_t deadline = now_us() + 10000000;
    while (!nc->api_got) {
        if (now_us() > deadline)
            fail("no reply to %s", subj);
        nc_read(nc, 100000);
    }
    return nc->api_reply;
}

/* ------------------------------------------------------------- JetStream */

static void stream_name(char *buf, size_t n, int i) { snprintf(buf, n, "%s-%d", name, i); }
static void subject_name(char *buf, size_t n, int i) { snprintf(buf, n, "%s.%d", name, i); }

static void create_stream(nconn *nc, int i)
{
    char st[200], sj[200], api[300], json[600];
    stream_name(st, sizeof st, i);
    subject_name(sj, sizeof sj, i);
    snprintf(api, sizeof api, "$JS.API.STREAM.CREATE.%s", st);
    snprintf(json, sizeof json,
             "{\"name\":\"%s\",\"subjects\":[\"%s\"],\"storage\":\"file\",\"retention\":\"limits\","
             "\"discard\":\"old\",\"num_replicas\":1}", st, sj);
    const char *r = nc_request(nc, api, json);
    if (strstr(r, "\"error\""))
        fail("cannot create stream %s: %s", st, r);
}

/* JSON helpers for the few fields we read (the API's JSON is compact). */
static uint64_t json_u64_after(const char *js, const char *after, const char *key)
{
    const char *p = after ? strstr(js, after) : js;
    if (!p || !(p = strstr(p, key)))
        return UINT64_MAX;
    return strtoull(p + strlen(key), NULL, 10);
}

/* Creates an ephemeral pull consumer; writes its name to out. */
static void create_consumer(nconn *nc, const char *st, char *out, size_t n)
{
    char api[300], json[600];
    snprintf(api, sizeof api, "$JS.API.CONSUMER.CREATE.%s", st);
    snprintf(json, sizeof json,
             "{\"stream_name\":\"%s\",\"config\":{\"deliver_policy\":\"all\",\"ack_policy\":\"none\","
             "\"replay_policy\":\"instant\",\"inactive_threshold\":60000000000}}", st);
    const char *r = nc_request(nc, api, json);
    const char *p = strstr(r, "\"name\":\"");
    if (strstr(r, "\"error\"") || !p)
        fail("cannot create a consumer on %s: %s", st, r);
    p += 8;
    size_t len = strcspn(p, "\"");
    if (len >= n)
        fail("consumer name too long");
    memcpy(out, p, len);
    out[len] = 0;
}

static void pull(nconn *nc, const char *st, const char *cons, const char *inbox, int b)
{
    char api[400], json[128];
    snprintf(api, sizeof api, "$JS.API.CONSUMER.MSG.NEXT.%s.%s", st, cons);
    snprintf(json, sizeof json, "{\"batch\":%d,\"expires\":60000000000}", b);
    nc_pub(nc, api, inbox, json, strlen(json));
}

/* A status message (HMSG "NATS/1.0 408 Request Timeout" ...): returns the
 * number of requested messages it cancels (Nats-Pending-Messages), else 0. */
static uint64_t status_msg(const char *hdr, size_t hlen)
{
    char buf[512];
    size_t n = hlen < sizeof buf - 1 ? hlen : sizeof buf - 1;
    memcpy(buf, hdr, n);
    buf[n] = 0;
    char *pend = strstr(buf, "Nats-Pending-Messages:");
    if (!strncmp(buf, "NATS/1.0 408", 12) && pend)
        return strtoull(pend + 22, NULL, 10);
    static int warned;
    if (!warned++)
        fprintf(stderr, "nats_bench: status message: %.*s\n", (int)strcspn(buf, "\r"), buf);
    return 0;
}

/* ------------------------------------------------------------------ produce */

typedef struct {
    uint64_t acked, failed;
} pub_state;

static void on_puback(nconn *nc, uint64_t sid, const char *hdr, size_t hlen, const char *data, size_t len)
{
    pub_state *ps = nc->user;
    if (sid != 2)
        return;
    if (hlen || memmem(data, len, "\"error\"", 7)) {
        if (!ps->failed)
            fprintf(stderr, "nats_bench: publish failed: %.*s\n", (int)(hlen ? hlen : len), hlen ? hdr : data);
        ps->failed++;
    } else {
        ps->acked++;
    }
}

static int do_produce(void)
{
    nconn *nc = nc_connect();
    pub_state ps = {0};
    nc->cb = on_puback;
    nc->user = &ps;
    for (int i = 0; i < nstreams; i++)
        create_stream(nc, i);
    nc_outf(nc, "SUB %s.ack 2\r\n", nc->inbox);
    /* One pre-formatted PUB per stream: the payload never changes. */
    char *payload = make_payload(size);
    char **msg = calloc((size_t)nstreams, sizeof *msg);
    size_t *msglen = calloc((size_t)nstreams, sizeof *msglen);
    for (int i = 0; i < nstreams; i++) {
        char sj[200];
        subject_name(sj, sizeof sj, i);
        msg[i] = malloc(size + 512);
        int h = snprintf(msg[i], 512, "PUB %s %s.ack %zu\r\n", sj, nc->inbox, size);
        memcpy(msg[i] + h, payload, size);
        memcpy(msg[i] + h + size, "\r\n", 2);
        msglen[i] = (size_t)h + size + 2;
    }
    uint64_t sent = 0;
    int64_t t0 = now_us(), stop_at = duration > 0 ? t0 + (int64_t)(duration * 1e6) : INT64_MAX;
    int64_t t_last = t0;
    bool stop = false;
    while (!stop || ps.acked + ps.failed < sent) {
        uint64_t inflight = sent - ps.acked - ps.failed;
        if (!stop && inflight <= (uint64_t)window / 2) {
            while (sent - ps.acked - ps.failed < (uint64_t)window && sent < count) {
                int s = (int)(sent % (uint64_t)nstreams);
                nc_out(nc, msg[s], msglen[s]);
                sent++;
            }
            nc_flush(nc);
        }
        if (!nc_read(nc, 10000000))
            fail("no PubAck within 10 s (%" PRIu64 " outstanding)", sent - ps.acked - ps.failed);
        t_last = now_us();
        if (sent >= count || t_last >= stop_at)
            stop = true;
    }
    char extra[256];
    snprintf(extra, sizeof extra,
             ", \"settings\": {\"streams\": %d, \"size\": %zu, \"window\": %d, \"sent\": %" PRIu64 "}",
             nstreams, size, window, sent);
    print_summary("nats", "produce", name, ps.acked, ps.acked * size, ps.failed, (t_last - t0) / 1e6,
                  NULL, extra);
    return ps.failed ? 1 : 0;
}

/* ------------------------------------------------------------------ consume */

typedef struct {
    char stream[200], cons[200], inbox[96];
    uint64_t target, requested, received;
} pull_sub;

typedef struct {
    pull_sub *subs;
    int n;
    uint64_t msgs, bytes;
    int64_t t_first, t_last;
    lat_t *lat;              /* e2e: latency from the payload's stamp */
} cons_state;

/* Messages per pull request: BATCH, but small enough that all the streams'
 * requests together (two each) stay under 16 MiB of messages in flight, far
 * below the server's per-connection limit (max_pending, 64 MiB: beyond it
 * the server drops the connection as a slow consumer). */
static int pull_batch(void)
{
    uint64_t cap = (16u << 20) / ((uint64_t)nstreams * 2 * (size + 100));
    if (cap < 1)
        cap = 1;
    return cap < (uint64_t)batch ? (int)cap : batch;
}

static void top_up(nconn *nc, pull_sub *s)
{
    /* Keep up to two batches requested ahead of what was received. */
    int bmax = pull_batch();
    while (s->requested < s->target && s->requested - s->received < (uint64_t)bmax * 2) {
        uint64_t left = s->target - s->requested;
        int b = left < (uint64_t)bmax ? (int)left : bmax;
        pull(nc, s->stream, s->cons, s->inbox, b);
        s->requested += (uint64_t)b;
    }
}

static void on_pulled(nconn *nc, uint64_t sid, const char *hdr, size_t hlen, const char *data, size_t len)
{
    cons_state *cs = nc->user;
    if (sid < 100 || sid >= 100 + (uint64_t)cs->n)
        return;
    pull_sub *s = &cs->subs[sid - 100];
    if (hlen >= 12 && len == 0 && !strncmp(hdr, "NATS/1.0 ", 9)) {   /* status, no data */
        uint64_t cancelled = status_msg(hdr, hlen);
        s->requested -= cancelled < s->requested - s->received ? cancelled : s->requested - s->received;
        top_up(nc, s);
        return;
    }
    int64_t t = now_us();
    if (!cs->msgs)
        cs->t_first = t;
    cs->t_last = t;
    cs->msgs++;
    cs->bytes += len;
    s->received++;
    if (cs->lat) {
        int64_t ts = read_stamp(data, len);
        if (ts > 0)
            lat_add(cs->lat, t - ts);
    }
    if (s->requested - s->received <= (uint64_t)pull_batch())
        top_up(nc, s);
}

static int do_consume(void)
{
    nconn *nc = nc_connect();
    cons_state cs = {.n = nstreams, .subs = calloc((size_t)nstreams, sizeof(pull_sub))};
    nc->cb = on_pulled;
    nc->user = &cs;
    uint64_t total = 0;
    for (int i = 0; i < nstreams; i++) {
        pull_sub *s = &cs.subs[i];
        stream_name(s->stream, sizeof s->stream, i);
        char api[300];
        snprintf(api, sizeof api, "$JS.API.STREAM.INFO.%s", s->stream);
        const char *r = nc_request(nc, api, "");
        s->target = json_u64_after(r, "\"state\"", "\"messages\":");
        if (strstr(r, "\"error\"") || s->target == UINT64_MAX)
            fail("cannot read stream %s: %s", s->stream, r);
        if (count != UINT64_MAX && total + s->target > count)
            s->target = count > total ? count - total : 0;
        total += s->target;
        create_consumer(nc, s->stream, s->cons, sizeof s->cons);
        snprintf(s->inbox, sizeof s->inbox, "%s.c%d", nc->inbox, i);
        nc_outf(nc, "SUB %s %d\r\n", s->inbox, 100 + i);
    }
    int64_t t0 = now_us();
    for (int i = 0; i < nstreams; i++)
        top_up(nc, &cs.subs[i]);
    nc_flush(nc);
    while (cs.msgs < total) {
        if (!nc_read(nc, 10000000))
            fail("no message within 10 s (%" PRIu64 " of %" PRIu64 " received)", cs.msgs, total);
        nc_flush(nc);
    }
    for (int i = 0; i < nstreams; i++) {
        char api[500];
        snprintf(api, sizeof api, "$JS.API.CONSUMER.DELETE.%s.%s", cs.subs[i].stream, cs.subs[i].cons);
        nc_request(nc, api, "");
    }
    double secs = cs.msgs ? (cs.t_last - cs.t_first) / 1e6 : (now_us() - t0) / 1e6;
    char extra[128];
    snprintf(extra, sizeof extra, ", \"settings\": {\"streams\": %d, \"batch\": %d}", nstreams, pull_batch());
    print_summary("nats", "consume", name, cs.msgs, cs.bytes, 0, secs, NULL, extra);
    return 0;
}

/* ---------------------------------------------------------------------- e2e */

typedef struct {
    nconn *nc;
    pub_state ps;
    _Atomic uint64_t sent, acked;
    _Atomic int done;
} e2e_writer_t;

static void *e2e_writer(void *arg)
{
    e2e_writer_t *w = arg;
    nconn *nc = w->nc;
    char sj[200], reply[96];
    subject_name(sj, sizeof sj, 0);
    snprintf(reply, sizeof reply, "%s.ack", nc->inbox);
    char *payload = make_payload(size);
    int64_t t0 = now_us(), stop_at = duration > 0 ? t0 + (int64_t)(duration * 1e6) : INT64_MAX;
    uint64_t sent = 0;
    for (;;) {
        int64_t now = now_us();
        bool sending = sent < count && now < stop_at;
        if (!sending && w->ps.acked + w->ps.failed >= sent)
            break;
        bool wrote = false;   /* every message that is due (catching up after a stall) */
        while (sending && sent < count && t0 + (int64_t)((double)sent * 1e6 / rate) <= now) {
            stamp_payload(payload, now_us());
            nc_pub(nc, sj, reply, payload, size);
            sent++;
            wrote = true;
        }
        if (wrote) {
            atomic_store(&w->sent, sent);
            nc_flush(nc);
        }
        int64_t wait = sending ? t0 + (int64_t)((double)sent * 1e6 / rate) - now_us() : 100000;
        nc_read(nc, wait < 0 ? 0 : wait > 100000 ? 100000 : wait);
        atomic_store(&w->acked, w->ps.acked);
    }
    atomic_store(&w->done, 1);
    return NULL;
}

static int do_e2e(void)
{
    if (size < 16)
        fail("e2e needs --size >= 16");
    if (count == UINT64_MAX && duration <= 0)
        count = 10000;
    nconn *rd = nc_connect();
    create_stream(rd, 0);
    lat_t lat = {0};
    pull_sub sub = {.target = UINT64_MAX};
    cons_state cs = {.n = 1, .subs = &sub, .lat = &lat};
    stream_name(sub.stream, sizeof sub.stream, 0);
    create_consumer(rd, sub.stream, sub.cons, sizeof sub.cons);
    snprintf(sub.inbox, sizeof sub.inbox, "%s.c0", rd->inbox);
    nc_outf(rd, "SUB %s 100\r\n", sub.inbox);
    rd->cb = on_pulled;
    rd->user = &cs;
    top_up(rd, &sub);
    nc_flush(rd);
    nc_request(rd, "$JS.API.INFO", "");   /* round trip: the pull requests are registered */

    e2e_writer_t w = {.nc = nc_connect()};
    w.nc->cb = on_puback;
    w.nc->user = &w.ps;
    nc_outf(w.nc, "SUB %s.ack 2\r\n", w.nc->inbox);
    nc_flush(w.nc);
    int64_t t0 = now_us(), drain_deadline = 0;
    pthread_t th;
    if (pthread_create(&th, NULL, e2e_writer, &w) != 0)
        fail("pthread_create");
    for (;;) {
        if (atomic_load(&w.done)) {
            if (cs.msgs >= atomic_load(&w.sent))
                break;
            if (!drain_deadline)
                drain_deadline = now_us() + 10000000;   /* 10 s for the last messages */
            else if (now_us() > drain_deadline)
                break;
        }
        nc_read(rd, 100000);
        nc_flush(rd);   /* pull requests queued by on_pulled */
    }
    pthread_join(th, NULL);
    uint64_t sent = atomic_load(&w.sent);
    double secs = ((cs.msgs ? cs.t_last : now_us()) - t0) / 1e6;
    char extra[256];
    snprintf(extra, sizeof extra,
             ", \"produced\": %" PRIu64 ", \"missing\": %" PRIu64
             ", \"settings\": {\"size\": %zu, \"rate\": %.0f}",
             w.ps.acked, sent > cs.msgs ? sent - cs.msgs : 0, size, rate);
    print_summary("nats", "e2e", name, cs.msgs, cs.bytes, w.ps.failed, secs, &lat, extra);
    return w.ps.failed || cs.msgs < sent ? 1 : 0;
}

/* ------------------------------------------------------------------- delete */

static int do_delete(void)
{
    nconn *nc = nc_connect();
    for (int i = 0; i < nstreams; i++) {
        char st[200], api[300];
        stream_name(st, sizeof st, i);
        snprintf(api, sizeof api, "$JS.API.STREAM.DELETE.%s", st);
        const char *r = nc_request(nc, api, "");
        if (strstr(r, "\"error\"") && !strstr(r, "not found"))
            fail("cannot delete stream %s: %s", st, r);
    }
    return 0;
}

static void usage(FILE *f)
{
    fputs("usage: nats_bench produce|consume|e2e|delete [-H HOST] [-p PORT] [-k NAME] [-S STREAMS]\n"
          "                  [-s SIZE] [-n COUNT] [-d SECS] [-w WINDOW] [-r RATE] [-c BATCH]\n"
          "(see the comment at the top of bench/nats_bench.c)\n", f);
}

int main(int argc, char **argv)
{
    const bench_opts o = {&host, &name, &port, &nstreams, &window, &batch, &size, &count,
                          &duration, &rate, "batch", usage};
    int rc;
    const char *mode = bench_parse_opts(argc, argv, &o, &rc);
    if (!mode)
        return rc;
    signal(SIGPIPE, SIG_IGN);
    if (!strcmp(mode, "produce"))
        return do_produce();
    if (!strcmp(mode, "consume"))
        return do_consume();
    if (!strcmp(mode, "e2e"))
        return do_e2e();
    if (!strcmp(mode, "delete"))
        return do_delete();
    usage(stderr);
    return 2;
}
