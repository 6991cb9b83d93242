/*
 * meta.c - cli_meta_get: the cluster metadata snapshot behind `cluster info`
 * and `topic describe` (types and the reason for our own request in meta.h).
 *
 * Steps:
 *   1. librdkafka's Metadata (all topics, or one topic through
 *      cli_topic_metadata): reachability, "topic does not exist" (exit 4)
 *      and the broker addresses as the cluster advertises them.
 *   2. Unless -X configures TLS or SASL (security.protocol other than
 *      plaintext), one Metadata v7 request over a plain TCP connection,
 *      tried on the controller first (its view is the one the cluster acts
 *      on), then on the other brokers, each within what is left of
 *      --timeout. The first valid answer is the snapshot.
 *   3. Otherwise the snapshot is converted from step 1: leader epochs and
 *      racks unknown (-1, NULL), no offline replicas, internal = name
 *      starting with "__", controller and cluster id from librdkafka's cache.
 *      A failed request in step 2 is reported as a warning (not with TLS,
 *      where it is expected).
 *
 * Runs on the main thread; the socket is blocking-with-deadline through
 * poll() and closed before returning.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/meta.h"

/* Largest Metadata response we accept (a cluster with ~100k partitions). */
#define META_MAX_RESPONSE (64 * 1024 * 1024)

/* ---- one request over TCP ------------------------------------------------------------- */

static int remaining_ms(int64_t deadline_us)
{
    int64_t ms = (deadline_us - cli_now_us()) / 1000;
    return ms > 0 ? (int)(ms > 1000000 ? 1000000 : ms) : 0;
}

/* Wait for `events` on fd until the deadline. 0, or -1 with errno. */
static int wait_fd(int fd, short events, int64_t deadline_us)
{
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = events};
        int ms = remaining_ms(deadline_us);
        if (ms == 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        int n = poll(&pfd, 1, ms);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return -1;
        if (cli_interrupted) {
            errno = EINTR;
            return -1;
        }
    }
}

static int connect_to(const char *host, int32_t port, int64_t deadline_us, char *err, size_t errlen)
{
    char svc[16];
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    snprintf(svc, sizeof svc, "%d", (int)port);
    int gai = getaddrinfo(host, svc, &hints, &res);
    if (gai) {
        snprintf(err, errlen, "%s:%d: %s", host, (int)port, gai_strerror(gai));
        return -1;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno != EINPROGRESS) {
            e = errno;
        } else if (wait_fd(fd, POLLOUT, deadline_us) < 0) {
            e = errno;
        } else {
            socklen_t sl = sizeof e;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &sl) < 0)
                e = errno;
            if (e == 0)
                break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(err, errlen, "%s:%d: %s", host, (int)port, strerror(e ? e : ECONNREFUSED));
    return fd;
}

static int send_all(int fd, const uint8_t *p, size_t n, int64_t deadline_us)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
            return -1;
        } else if (wait_fd(fd, POLLOUT, deadline_us) < 0) {
            return -1;
        }
    }
    return 0;
}

static int recv_all(int fd, uint8_t *p, size_t n, int64_t deadline_us)
{
    while (n) {
        ssize_t r = recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r == 0) {
            errno = ECONNRESET;
            return -1;
        } else if (errno != EAGAIN && errno != EINTR) {
            return -1;
        } else if (wait_fd(fd, POLLIN, deadline_us) < 0) {
            return -1;
        }
    }
    return 0;
}

int cli_wire_call(const char *host, int32_t port, const uint8_t *req, size_t n,
                  uint8_t **resp, size_t *resp_len, int64_t deadline_us, char *err, size_t errlen)
{
    *resp = NULL;
    *resp_len = 0;
    int rc = -1;
    int fd = connect_to(host, port, deadline_us, err, errlen);
    if (fd < 0)
        return -1;
    uint8_t szb[4];
    if (send_all(fd, req, n, deadline_us) < 0 || recv_all(fd, szb, 4, deadline_us) < 0) {
        snprintf(err, errlen, "%s:%d: %s", host, (int)port, strerror(errno));
        goto out;
    }
    uint32_t sz = (uint32_t)szb[0] << 24 | (uint32_t)szb[1] << 16 | (uint32_t)szb[2] << 8 | szb[3];
    if (sz < 4 || sz > META_MAX_RESPONSE) {
        snprintf(err, errlen, "%s:%d: bad response size %u", host, (int)port, sz);
        goto out;
    }
    if (!(*resp = malloc(sz))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (recv_all(fd, *resp, sz, deadline_us) < 0) {
        snprintf(err, errlen, "%s:%d: %s", host, (int)port, strerror(errno));
        free(*resp);
        *resp = NULL;
        goto out;
    }
    *resp_len = sz;
    rc = 0;
out:
    close(fd);
    return rc;
}

/* One Metadata v7 round trip to host:port. NULL with a reason in err. */
static cli_meta_t *meta_request(const char *host, int32_t port, const char *client_id,
                                const char *topic, int64_t deadline_us, char *err, size_t errlen)
{
    uint8_t req[1024];
    uint8_t *resp = NULL;
    size_t len;
    cli_meta_t *m = NULL;
    const int32_t corr = 1;
    size_t n = cli_meta_encode_request(req, sizeof req, corr, client_id, topic);
    if (n == 0) {
        snprintf(err, errlen, "Metadata request for '%s' too large", topic ? topic : "");
        return NULL;
    }
    if (cli_wire_call(host, port, req, n, &resp, &len, deadline_us, err, errlen) < 0)
        return NULL;
    char why[160];
    if (!(m = cli_meta_decode(resp, len, corr, why, sizeof why)))
        snprintf(err, errlen, "%s:%d: %s", host, (int)port, why);
    free(resp);
    return m;
}

/* ---- librdkafka fallback ---------------------------------------------------------------- */

static int32_t *copy_ids(const int32_t *src, int n)
{
    int32_t *v = n > 0 ? malloc((size_t)n * sizeof *v) : NULL;
    if (v)
        memcpy(v, src, (size_t)n * sizeof *v);
    return v;
}

static cli_meta_t *from_rdkafka(cli_client_t *c, const struct rd_kafka_metadata *md)
{
    cli_meta_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->brokers = calloc((size_t)md->broker_cnt + 1, sizeof *m->brokers);
    m->topics = calloc((size_t)md->topic_cnt + 1, sizeof *m->topics);
    if (!m->brokers || !m->topics)
        goto oom;
    /* Each count is raised before its element is filled, so cli_meta_free
     * releases a partly converted one. */
    for (int k = 0; k < md->broker_cnt; k++) {
        m->nbrokers = k + 1;
        m->brokers[k].id = md->brokers[k].id;
        m->brokers[k].port = md->brokers[k].port;
        if (!(m->brokers[k].host = strdup(md->brokers[k].host)))
            goto oom;
    }
    for (int k = 0; k < md->topic_cnt; k++) {
        const struct rd_kafka_metadata_topic *st = &md->topics[k];
        cli_mtopic_t *t = &m->topics[k];
        m->ntopics = k + 1;
        t->err = (int16_t)st->err;
        t->internal = !strncmp(st->topic, "__", 2);
        if (!(t->name = strdup(st->topic)) ||
            !(t->parts = calloc((size_t)st->partition_cnt + 1, sizeof *t->parts)))
            goto oom;
        for (int j = 0; j < st->partition_cnt; j++) {
            const rd_kafka_metadata_partition_t *sp = &st->partitions[j];
            cli_mpart_t *p = &t->parts[j];
            t->nparts = j + 1;
            p->id = sp->id;
            p->err = (int16_t)sp->err;
            p->leader = sp->leader;
            p->leader_epoch = -1;
            p->nreplicas = sp->replica_cnt;
            p->nisr = sp->isr_cnt;
            p->replicas = copy_ids(sp->replicas, sp->replica_cnt);
            p->isr = copy_ids(sp->isrs, sp->isr_cnt);
            if ((sp->replica_cnt && !p->replicas) || (sp->isr_cnt && !p->isr))
                goto oom;
        }
    }
    int ms = (int)(G.timeout_s * 1000);
    char *cid = rd_kafka_clusterid(c->rk, ms);
    if (cid) {
        m->cluster_id = strdup(cid);
        rd_kafka_mem_free(c->rk, cid);
        if (!m->cluster_id)
            goto oom;
    }
    m->controller_id = rd_kafka_controllerid(c->rk, ms);
    cli_meta_sort(m);
    return m;
oom:
    cli_meta_free(m);
    return NULL;
}

/* ---- the snapshot ------------------------------------------------------------------------ */

/* Our own requests are plaintext only. */
int cli_plaintext(cli_client_t *c)
{
    char v[64];
    size_t n = sizeof v;
    if (rd_kafka_conf_get(rd_kafka_conf(c->rk), "security.protocol", v, &n) != RD_KAFKA_CONF_OK)
        return 1;
    return !strcasecmp(v, "plaintext");
}

int cli_meta_get(cli_client_t *c, const char *topic, cli_meta_t **out)
{
    const struct rd_kafka_metadata *md = NULL;
    int rc = CLI_OK;
    *out = NULL;
    if (topic) {
        if ((rc = cli_topic_metadata(c, topic, &md)) != CLI_OK)
            return rc;
    } else {
        rd_kafka_resp_err_t err = rd_kafka_metadata(c->rk, 1, NULL, &md, (int)(G.timeout_s * 1000));
        if (err)
            return cli_fail(cli_err_code(err), "metadata: %s", cli_err_str(err));
    }

    cli_meta_t *m = NULL;
    char err[256] = "";
    if (cli_plaintext(c)) {
        char client_id[128];
        size_t n = sizeof client_id;
        if (rd_kafka_conf_get(rd_kafka_conf(c->rk), "client.id", client_id, &n) != RD_KAFKA_CONF_OK)
            snprintf(client_id, sizeof client_id, "samsa");
        int32_t controller = rd_kafka_controllerid(c->rk, 0);
        int64_t deadline = cli_now_us() + (int64_t)(G.timeout_s * 1e6);
        /* Controller first, then the others in librdkafka's order. */
        for (int pass = 0; pass < 2 && !m; pass++)
            for (int k = 0; k < md->broker_cnt && !m && !cli_interrupted; k++) {
                const struct rd_kafka_metadata_broker *b = &md->brokers[k];
                if ((b->id == controller) != (pass == 0))
                    continue;
                m = meta_request(b->host, b->port, client_id, topic, deadline, err, sizeof err);
                if (m && topic && (m->ntopics != 1 || m->topics[0].err)) {
                    snprintf(err, sizeof err, "broker %d has no metadata for topic '%s' yet", b->id, topic);
                    cli_meta_free(m);
                    m = NULL;
                }
            }
        if (!m)
            cli_warn("leader epochs, racks and offline replicas unknown: %s",
                     *err ? err : "no broker to ask");
    }
    if (!m && !(m = from_rdkafka(c, md)))
        rc = cli_fail(CLI_EFAIL, "out of memory");
    rd_kafka_metadata_destroy(md);
    *out = m;
    return rc;
}
