/* fetcher.c - see fetcher.h.  One thread per leader broker; each round
 * either truncates the partitions that must (OffsetForLeaderEpoch) or
 * fetches the others (Fetch), then applies the answer under the fetcher's
 * lock, partition by partition, if the partition is still followed the
 * same way (its generation did not change meanwhile). */
#include "repl/fetcher.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/topic.h"
#include "config/config.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/endian.h"
#include "core/errors.h"
#include "core/log.h"
#include "core/rate.h"
#include "proto/codec.h"
#include "proto/messages/fetch.h"
#include "proto/messages/offset_for_leader_epoch.h"
#include "repl/truncation.h"
#include "rpc/kclient.h"
#include "storage/log_manager.h"
#include "storage/partition_log.h"

#define FETCH_VERSION 12             /* by topic name; see fetcher.h */
#define OFLE_VERSION 3               /* the first with replica_id */
#define RESPONSE_MAX_BYTES (10 << 20) /* Kafka's replica.fetch.response.max.bytes */
#define FRAME_SLACK_BYTES (64 << 20) /* a first batch larger than the limits comes whole (KIP-74) */
#define CONNECT_TIMEOUT_MS 3000
#define CALL_SLACK_MS 5000           /* beyond max wait, for the answer to arrive */
#define MAX_WAIT_CAP_MS 60000
#define MAX_TRUNCATION_ROUNDS 64     /* each round asks for a strictly older epoch */
#define ASK_LATEST (-2)
#define THROTTLE_NAP_MS 100          /* every partition throttled: look again after */

typedef struct fpart {
    topic *t;                        /* referenced while followed */
    partition *p;
    int32_t leader_epoch;
    enum repl_part_state st;
    int32_t ask_epoch;               /* TRUNCATING: the epoch to ask about; ASK_LATEST */
    int rounds;
    uint64_t gen;                    /* a new repl_follow: older answers are dropped */
    int64_t retry_at_ms;             /* monotonic; 0 = now */
} fpart;

typedef struct fetcher {
    struct repl_fetchers *rf;
    int32_t leader_id;
    int slot;                    /* which of num.replica.fetchers for this leader */
    pthread_t th;
    pthread_mutex_t lock;            /* guards all below except kc; held to apply answers */
    pthread_cond_t cv;               /* CLOCK_MONOTONIC */
    char host[256];
    int port;
    bool endpoint_changed, kicked, stop;
    fpart *parts;
    int nparts, cap;
    kclient kc;                      /* the fetcher thread's own */
    bool warned;                     /* the fetcher thread's: connection failure logged */
    struct fetcher *next;
} fetcher;

struct repl_fetchers {
    repl_ctx ctx;
    /* Bytes fetched for throttled partitions while out of the ISR
     * (follower.replication.throttled.rate; docs/cluster.md). */
    rate_window quota;
    pthread_mutex_t lock;            /* guards list and gen */
    fetcher *list;
    uint64_t gen;
    bool stopped;                    /* repl_fetchers_stop ran */
};

/* A partition as one round sees it, with its own topic reference. */
typedef struct snap {
    topic *t;
    partition *p;
    int32_t leader_epoch, ask_epoch;
    enum repl_part_state st;
    uint64_t gen;
    int64_t fetch_offset;
} snap;

static fpart *find_part(fetcher *f, const partition *p)
{
    for (int i = 0; i < f->nparts; i++)
        if (f->parts[i].p == p)
            return &f->parts[i];
    return NULL;
}

/* The live entry a snapshot stands for, if it did not change since. */
static fpart *live_part(fetcher *f, const snap *s)
{
    fpart *fp = find_part(f, s->p);
    return fp && fp->gen == s->gen && fp->st == s->st ? fp : NULL;
}

static void name_of(const fpart *fp, char *buf, size_t len)
{
    snprintf(buf, len, "%.*s-%d", (int)fp->t->name_len, fp->t->name, fp->p->index);
}

/* Stop a partition until the next repl_follow, and say why. */
static void stop_part(fetcher *f, fpart *fp, int err)
{
    char nm[300];
    name_of(fp, nm, sizeof nm);
    fp->st = REPL_STOPPED;
    LOG_WRN("repl", "%s: stopped fetching from leader %d at epoch %d: %s", nm, f->leader_id,
            fp->leader_epoch, kerr_name(err));
}

static void to_truncating(fpart *fp)
{
    fp->st = REPL_TRUNCATING;
    fp->ask_epoch = ASK_LATEST;
    fp->rounds = 0;
}

/* Sleep up to ms, or until stopped or kicked (a partition added).  False
 * when stopping. */
static bool nap(fetcher *f, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&f->lock);
    while (!f->stop && !f->kicked)
        if (pthread_cond_timedwait(&f->cv, &f->lock, &ts) == ETIMEDOUT)
            break;
    f->kicked = false;
    bool go = !f->stop;
    pthread_mutex_unlock(&f->lock);
    return go;
}

/* The partitions due now (state TRUNCATING or FETCHING, retry time
 * passed), into *out (malloc'd; each topic referenced); their count, or -1
 * when out of memory.  *wait_ms: until the next one is due when none is. */
static int take_snapshot(fetcher *f, snap **out, int64_t *wait_ms)
{
    int64_t now = mono_ms(), next = INT64_MAX;
    pthread_mutex_lock(&f->lock);
    snap *s = malloc((size_t)(f->nparts + 1) * sizeof *s);
    int n = 0;
    for (int i = 0; s && i < f->nparts; i++) {
        fpart *fp = &f->parts[i];
        if (fp->st != REPL_TRUNCATING && fp->st != REPL_FETCHING)
            continue;
        if (fp->retry_at_ms > now) {
            if (fp->retry_at_ms < next)
                next = fp->retry_at_ms;
            continue;
        }
        topic_ref(fp->t);
        s[n++] = (snap){ .t = fp->t, .p = fp->p, .leader_epoch = fp->leader_epoch,
                         .ask_epoch = fp->ask_epoch, .st = fp->st, .gen = fp->gen,
                         .fetch_offset = plog_log_end_offset(fp->p->log) };
    }
    pthread_mutex_unlock(&f->lock);
    *out = s;
    *wait_ms = next == INT64_MAX ? 1000 : next - now;
    return s ? n : -1;
}

static void drop_snapshot(snap *s, int n)
{
    for (int i = 0; i < n; i++)
        topic_unref(s[i].t);
    free(s);
}

static bool names(const snap *s, kstr tname, int32_t index)
{
    return (size_t)tname.len == s->t->name_len && !memcmp(tname.p, s->t->name, s->t->name_len) &&
           index == s->p->index;
}

/* Truncate fp's log to `offset` if it lies below the LEO; false on a
 * storage error (the partition is stopped). */
static bool truncate_log(fetcher *f, fpart *fp, int64_t offset)
{
    plog *l = fp->p->log;
    int64_t leo = plog_log_end_offset(l);
    if (offset >= leo)
        return true;
    char nm[300];
    name_of(fp, nm, sizeof nm);
    LOG_INF("repl", "%s: truncating from %" PRId64 " to %" PRId64 " (leader %d, epoch %d)", nm, leo,
            offset, f->leader_id, fp->leader_epoch);
    int rc = log_manager_truncate_to(f->rf->ctx.logs, l, offset);
    if (rc) {
        stop_part(f, fp, rc);
        return false;
    }
    return true;
}

/* One truncation step for fp from the leader's answer (C8). */
static void apply_epoch_answer(fetcher *f, fpart *fp, int32_t leader_epoch, int64_t leader_end)
{
    plog *l = fp->p->log;
    int32_t fe = -1;
    int64_t fo = -1;
    if (leader_epoch >= 0)
        plog_epoch_end_offset(l, leader_epoch, -1, &fe, &fo);
    repl_truncation d = repl_truncation_decide(leader_epoch, leader_end, fe, fo,
                                               plog_log_end_offset(l), plog_high_watermark(l));
    if (!truncate_log(f, fp, d.offset))   /* C8: no divergent tail is kept */
        return;
    if (d.complete) {
        fp->st = REPL_FETCHING;
    } else if (++fp->rounds > MAX_TRUNCATION_ROUNDS) {
        stop_part(f, fp, KERR_UNKNOWN_SERVER_ERROR);
    } else {
        fp->ask_epoch = d.next_epoch;
    }
}

/* The error after which a partition waits for a new LeaderAndIsr: our
 * leader epoch is older than the leader's, so the controller has news
 * for us that has not arrived yet. */
static bool fatal_for_partition(int err)
{
    return err == KERR_FENCED_LEADER_EPOCH;
}

/* Errors of a leader that has not applied its own LeaderAndIsr yet (the
 * controller tells every replica at once, and a follower may ask first):
 * NOT_LEADER_OR_FOLLOWER, UNKNOWN_LEADER_EPOCH (our epoch is newer than
 * its), UNKNOWN_TOPIC_OR_PARTITION (it has not read the topic yet).  Asked
 * again soon, not after replica.fetch.backoff.ms, since acks=all produces
 * wait for this follower; if the leader really moved on, the controller's
 * next LeaderAndIsr moves this partition. */
#define LEADER_NOT_READY_RETRY_MS 50
static bool leader_not_ready(int err)
{
    return err == KERR_NOT_LEADER_OR_FOLLOWER || err == KERR_UNKNOWN_LEADER_EPOCH ||
           err == KERR_UNKNOWN_TOPIC_OR_PARTITION;
}

static void retry_later(fpart *fp, int backoff_ms)
{
    fp->retry_at_ms = mono_ms() + backoff_ms;
}

static void retry_after_error(fpart *fp, int err, int backoff_ms)
{
    retry_later(fp, leader_not_ready(err) && backoff_ms > LEADER_NOT_READY_RETRY_MS
                        ? LEADER_NOT_READY_RETRY_MS : backoff_ms);
}

/* Step 1 (C8) for the truncating partitions of s: one OffsetForLeaderEpoch
 * for all of them.  -1 when the connection failed. */
static int truncate_round(fetcher *f, snap *s, int n, const struct broker_config *cfg)
{
    arena a;
    arena_init(&a, 16u << 20);
    offset_for_leader_epoch_req req;
    offset_for_leader_epoch_resp resp;
    kcodec_defaults(&offset_for_leader_epoch_req_schema, &req);
    memset(&resp, 0, sizeof resp);
    req.replica_id = f->rf->ctx.node_id;
    int k = 0;
    for (int i = 0; i < n; i++)
        k += s[i].st == REPL_TRUNCATING;
    offset_for_leader_epoch_req_topics *ts = KARRAY_ALLOC(&a, &req.topics, k);
    int *which = arena_alloc(&a, (size_t)(k + 1) * sizeof *which);
    int rc = 0;
    if (!ts || !which)
        goto out;
    k = 0;
    bool asked = false;
    for (int i = 0; i < n; i++) {
        if (s[i].st != REPL_TRUNCATING)
            continue;
        int32_t e = s[i].ask_epoch == ASK_LATEST ? plog_latest_epoch(s[i].p->log) : s[i].ask_epoch;
        if (e < 0) {
            /* No epoch history: keep what is known committed (Kafka's
             * truncateToHighWatermark), nothing to ask. */
            pthread_mutex_lock(&f->lock);
            fpart *fp = live_part(f, &s[i]);
            if (fp)
                apply_epoch_answer(f, fp, -1, -1);
            pthread_mutex_unlock(&f->lock);
            continue;
        }
        offset_for_leader_epoch_req_partitions *pp = KARRAY_ALLOC(&a, &ts[k].partitions, 1);
        if (!pp)
            goto out;
        ts[k].topic = (kstr){ s[i].t->name, (int32_t)s[i].t->name_len };
        *pp = (offset_for_leader_epoch_req_partitions){ .partition = s[i].p->index,
                                                        .current_leader_epoch = s[i].leader_epoch,
                                                        .leader_epoch = e };
        which[k++] = i;
        asked = true;
    }
    req.topics.n = k;
    if (!asked)
        goto out;
    char err[512];
    if (kclient_call(&f->kc, OFFSET_FOR_LEADER_EPOCH_API_KEY, OFLE_VERSION, &req, &a, &resp,
                     CONNECT_TIMEOUT_MS + CALL_SLACK_MS, err, sizeof err)) {
        LOG_WRN("repl", "fetcher for leader %d: OffsetForLeaderEpoch: %s", f->leader_id, err);
        rc = -1;
        goto out;
    }
    pthread_mutex_lock(&f->lock);
    for (int32_t ti = 0; ti < resp.topics.n; ti++) {
        offset_for_leader_epoch_resp_topics *rt = &resp.topics.v[ti];
        for (int32_t pi = 0; pi < rt->partitions.n; pi++) {
            offset_for_leader_epoch_resp_partitions *rp = &rt->partitions.v[pi];
            for (int j = 0; j < k; j++) {
                snap *sn = &s[which[j]];
                fpart *fp = names(sn, rt->topic, rp->partition) ? live_part(f, sn) : NULL;
                if (!fp)
                    continue;
                if (rp->error_code == KERR_NONE)
                    apply_epoch_answer(f, fp, rp->leader_epoch, rp->end_offset);
                else if (fatal_for_partition(rp->error_code))
                    stop_part(f, fp, rp->error_code);
                else
                    retry_after_error(fp, rp->error_code, cfg->replica_fetch_backoff_ms);
            }
        }
    }
    pthread_mutex_unlock(&f->lock);
out:
    arena_reset(&a);
    return rc;
}

/* An empty local log (end = start) whose first fetched batch starts below
 * its end and ends at or above it: the leader's log start (DeleteRecords,
 * retention) is inside that batch.  Restart the log at the batch's base
 * offset (Kafka's Partition.appendRecordsToFollowerOrFutureReplica); true
 * when done, so the append can be tried again. */
static bool restart_below(fetcher *f, fpart *fp, plog *l, const fetch_resp_partitions *rp)
{
    if (rp->records.len < 61)                     /* a v2 batch header */
        return false;
    const uint8_t *b = (const uint8_t *)rp->records.p;
    int64_t first = (int64_t)be64_load(b);
    int64_t last = first + (int32_t)be32_load(b + 23);
    int64_t leo = plog_log_end_offset(l);
    if (leo != plog_log_start_offset(l) || first >= leo || last < leo || first < 0)
        return false;
    char nm[300];
    name_of(fp, nm, sizeof nm);
    LOG_INF("repl", "%s: the leader's first batch starts at %" PRId64 ", below our empty log's "
            "start %" PRId64 ": restarting the log there", nm, first, leo);
    return log_manager_truncate_fully_and_start_at(f->rf->ctx.logs, l, first) == KERR_NONE;
}

/* One fetched partition's answer, under f->lock. */
static void apply_fetched(fetcher *f, fpart *fp, const snap *sn, const fetch_resp_partitions *rp,
                          const struct broker_config *cfg)
{
    plog *l = fp->p->log;
    int err = rp->error_code;
    if (err == KERR_OFFSET_OUT_OF_RANGE) {
        if (rp->log_start_offset > sn->fetch_offset) {
            /* Below the leader's log start (a new replica of a partition
             * whose first segments are gone): Kafka empties the log and
             * restarts it there (truncateFullyAndStartAt); the next round
             * fetches from that offset. */
            char nm[300];
            name_of(fp, nm, sizeof nm);
            LOG_INF("repl", "%s: leader %d's log starts at %" PRId64 ", above our log end %" PRId64
                    ": restarting the local log there", nm, f->leader_id, rp->log_start_offset,
                    sn->fetch_offset);
            if (log_manager_truncate_fully_and_start_at(f->rf->ctx.logs, l, rp->log_start_offset))
                stop_part(f, fp, KERR_KAFKA_STORAGE_ERROR);
        } else {
            to_truncating(fp);       /* above the leader's end: find the common point again */
        }
        return;
    }
    if (fatal_for_partition(err)) {
        stop_part(f, fp, err);
        return;
    }
    if (err) {
        retry_after_error(fp, err, cfg->replica_fetch_backoff_ms);
        return;
    }
    if (rp->records.len > 0 && rp->records.p) {
        plog_append_result ar;
        /* The frame is the kclient's own malloc'd buffer; a follower append
         * does not rewrite it. */
        plog_append_follower(l, (uint8_t *)rp->records.p, (size_t)rp->records.len, wall_ms(), &ar);
        if (ar.error == KERR__APPEND_OFFSET && restart_below(f, fp, l, rp)) {
            /* Kafka's UnexpectedAppendOffsetException case: an empty log
             * restarted at the leader's log start, which falls inside the
             * first batch: the log now starts at that batch. */
            plog_append_follower(l, (uint8_t *)rp->records.p, (size_t)rp->records.len, wall_ms(),
                                 &ar);
        }
        if (ar.error == KERR__APPEND_OFFSET) {
            to_truncating(fp);       /* our log end is not where the leader's batches are */
            return;
        }
        if (ar.error) {
            char nm[300];
            name_of(fp, nm, sizeof nm);
            LOG_WRN("repl", "%s: follower append at %" PRId64 " failed: %s", nm, sn->fetch_offset,
                    ar.error_message ? ar.error_message : kerr_name(ar.error));
            retry_later(fp, cfg->replica_fetch_backoff_ms);
            return;
        }
        if (ar.flush_needed)
            log_manager_request_flush(f->rf->ctx.logs, l);
    }
    /* The follower's HW: the leader's, bounded by our LEO (plog clamps, S1). */
    plog_set_high_watermark(l, rp->high_watermark);
    /* The log start follows the leader's (Kafka's maybeIncrementLogStartOffset):
     * DeleteRecords on the leader, or a log restarted at a batch below it. */
    int64_t start = rp->log_start_offset, hw = plog_high_watermark(l), ns;
    if (start > plog_log_start_offset(l))
        plog_delete_records(l, start < hw ? start : hw, &ns);
}

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Follower-side replication throttle (C25: never while in the ISR):
 * partition p of t is listed in the
 * topic's follower.replication.throttled.replicas for this broker and this
 * broker is not in its ISR, while follower.replication.throttled.rate is
 * set (nothing else is paid when it is not). */
static bool follower_throttled(const fetcher *f, const snap *sn, const struct broker_config *cfg)
{
    if (cfg->follower_replication_throttled_rate == INT64_MAX ||
        !topic_throttled(sn->t, THROTTLE_FOLLOWER, sn->p->index))
        return false;
    partition_state *st = partition_state_get(sn->p);
    bool in_isr = false;
    for (int32_t i = 0; st && i < st->nisr && !in_isr; i++)
        in_isr = st->isr[i] == f->rf->ctx.node_id;
    pstate_unref(st);
    return !in_isr;
}

/* Leave out of this round the throttled partitions while the follower's
 * rate is over its bound (Kafka's shouldFollowerThrottle); they are
 * marked in thr[] (bytes fetched for them are recorded).  The count left. */
static int apply_follower_throttle(fetcher *f, snap *s, int n, bool *thr,
                                   const struct broker_config *cfg)
{
    bool over = false, checked = false;
    int k = 0;
    for (int i = 0; i < n; i++) {
        bool t = follower_throttled(f, &s[i], cfg);
        if (t && !checked) {
            over = rate_exceeded(&f->rf->quota, cfg->follower_replication_throttled_rate,
                                 mono_ms());
            checked = true;
        }
        if (t && over) {
            topic_unref(s[i].t);             /* not fetched this round */
            continue;
        }
        thr[k] = t;
        s[k++] = s[i];
    }
    return k;
}

/* Step 2 for the fetching partitions of s: one Fetch for all of them.
 * -1 when the connection failed. */
static int fetch_round(fetcher *f, snap *s, int n, const bool *thr,
                       const struct broker_config *cfg)
{
    arena a;
    arena_init(&a, 16u << 20);
    fetch_req req;
    fetch_resp resp;
    kcodec_defaults(&fetch_req_schema, &req);
    memset(&resp, 0, sizeof resp);
    int32_t wait = clamp32(cfg->replica_fetch_wait_max_ms, 0, MAX_WAIT_CAP_MS);
    req.replica_id = f->rf->ctx.node_id;
    req.max_wait_ms = wait;
    req.min_bytes = clamp32(cfg->replica_fetch_min_bytes, 0, RESPONSE_MAX_BYTES);
    req.max_bytes = RESPONSE_MAX_BYTES;
    req.isolation_level = 0;
    req.session_id = 0;
    req.session_epoch = -1;              /* a full fetch without a session */
    req.rack_id = (kstr){ "", 0 };
    int rc = 0;
    fetch_req_topics *ts = KARRAY_ALLOC(&a, &req.topics, n);
    if (!ts && n > 0)
        goto out;
    for (int i = 0; i < n; i++) {
        fetch_req_partitions *pp = KARRAY_ALLOC(&a, &ts[i].partitions, 1);
        if (!pp)
            goto out;
        ts[i].topic = (kstr){ s[i].t->name, (int32_t)s[i].t->name_len };
        kcodec_defaults(&fetch_req_partitions_schema, pp);
        pp->partition = s[i].p->index;
        pp->current_leader_epoch = s[i].leader_epoch;
        pp->fetch_offset = s[i].fetch_offset;
        pp->log_start_offset = plog_log_start_offset(s[i].p->log);
        pp->partition_max_bytes = cfg->replica_fetch_max_bytes;
    }
    char err[512];
    if (kclient_call(&f->kc, FETCH_API_KEY, FETCH_VERSION, &req, &a, &resp, wait + CALL_SLACK_MS,
                     err, sizeof err)) {
        if (!kclient_was_cut(&f->kc))
            LOG_WRN("repl", "fetcher for leader %d: Fetch: %s", f->leader_id, err);
        rc = -1;
        goto out;
    }
    if (resp.error_code) {
        LOG_WRN("repl", "fetcher for leader %d: Fetch answered %s", f->leader_id,
                kerr_name(resp.error_code));
        rc = -1;
        goto out;
    }
    pthread_mutex_lock(&f->lock);
    for (int32_t ti = 0; ti < resp.responses.n; ti++) {
        fetch_resp_responses *rt = &resp.responses.v[ti];
        for (int32_t pi = 0; pi < rt->partitions.n; pi++) {
            fetch_resp_partitions *rp = &rt->partitions.v[pi];
            for (int j = 0; j < n; j++) {
                fpart *fp = names(&s[j], rt->topic, rp->partition_index) ? live_part(f, &s[j]) : NULL;
                if (fp && thr && thr[j] && rp->records.len > 0)
                    rate_record(&f->rf->quota, rp->records.len, mono_ms());
                if (fp)
                    apply_fetched(f, fp, &s[j], rp, cfg);
            }
        }
    }
    pthread_mutex_unlock(&f->lock);
out:
    arena_reset(&a);
    return rc;
}

/* The largest answer a fetch may bring (bounded: the frame is malloc'd). */
static size_t max_response(const struct broker_config *cfg)
{
    int64_t m = (int64_t)RESPONSE_MAX_BYTES + FRAME_SLACK_BYTES + cfg->replica_fetch_max_bytes;
    return (size_t)(m > INT32_MAX ? INT32_MAX : m);
}

static void *fetcher_main(void *arg)
{
    fetcher *f = arg;
    char host[256], err[512];
    for (;;) {
        pthread_mutex_lock(&f->lock);
        while (!f->stop && f->nparts == 0)
            pthread_cond_wait(&f->cv, &f->lock);
        bool stop = f->stop, changed = f->endpoint_changed;
        f->endpoint_changed = false;
        snprintf(host, sizeof host, "%s", f->host);
        int port = f->port;
        pthread_mutex_unlock(&f->lock);
        if (stop)
            break;
        const struct broker_config *cfg = f->rf->ctx.config(f->rf->ctx.config_arg);
        int backoff = cfg->replica_fetch_backoff_ms;
        if (changed)
            kclient_close(&f->kc);
        if (!kclient_connected(&f->kc)) {
            f->kc.max_response = max_response(cfg);
            if (kclient_connect(&f->kc, host, port, CONNECT_TIMEOUT_MS, err, sizeof err)) {
                if (!f->warned)
                    LOG_WRN("repl", "fetcher for leader %d: %s; retrying every %d ms", f->leader_id,
                            err, backoff);
                f->warned = true;
                nap(f, backoff);
                continue;
            }
            if (f->warned)
                LOG_INF("repl", "fetcher for leader %d: connected to %s:%d", f->leader_id, host, port);
            f->warned = false;
        }
        snap *s;
        int64_t wait_ms;
        int n = take_snapshot(f, &s, &wait_ms);
        if (n <= 0) {
            free(s);
            nap(f, n < 0 ? backoff : wait_ms);
            continue;
        }
        bool any_trunc = false;
        for (int i = 0; i < n; i++)
            any_trunc |= s[i].st == REPL_TRUNCATING;
        bool *thr = any_trunc ? NULL : calloc((size_t)n + 1, sizeof *thr);
        if (thr && (n = apply_follower_throttle(f, s, n, thr, cfg)) == 0) {
            free(thr);                   /* everything throttled: wait for the rate to drop */
            drop_snapshot(s, 0);
            nap(f, THROTTLE_NAP_MS);
            continue;
        }
        int rc = any_trunc ? truncate_round(f, s, n, cfg) : fetch_round(f, s, n, thr, cfg);
        free(thr);
        drop_snapshot(s, n);
        if (rc < 0) {
            bool cut = kclient_was_cut(&f->kc);
            kclient_close(&f->kc);   /* reconnect: at once when repl_follow cut the call */
            if (!cut)
                nap(f, backoff);
        }
    }
    kclient_close(&f->kc);
    return NULL;
}

static fetcher *fetcher_start(repl_fetchers *rf, int32_t leader_id, int slot)
{
    fetcher *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    f->rf = rf;
    f->leader_id = leader_id;
    f->slot = slot;
    kclient_init(&f->kc, "samsa-replica-fetcher", RESPONSE_MAX_BYTES);
    kclient_set_security(&f->kc, rf->ctx.sec);     /* S-CL4 */
    pthread_mutex_init(&f->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&f->th, NULL, fetcher_main, f) != 0) {
        pthread_cond_destroy(&f->cv);
        pthread_mutex_destroy(&f->lock);
        free(f);
        return NULL;
    }
    char tname[16];
    snprintf(tname, sizeof tname, "samsa-f%u-%u", (unsigned)leader_id % 1000u,
             (unsigned)slot % 100u);
    pthread_setname_np(f->th, tname);
    return f;
}

static void fetcher_free(fetcher *f)
{
    pthread_mutex_lock(&f->lock);
    f->stop = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->lock);
    pthread_join(f->th, NULL);
    for (int i = 0; i < f->nparts; i++)
        topic_unref(f->parts[i].t);
    free(f->parts);
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

repl_fetchers *repl_fetchers_new(const repl_ctx *ctx)
{
    repl_fetchers *rf = calloc(1, sizeof *rf);
    if (!rf)
        return NULL;
    rf->ctx = *ctx;
    pthread_mutex_init(&rf->lock, NULL);
    rate_init(&rf->quota);
    return rf;
}

void repl_fetchers_stop(repl_fetchers *rf)
{
    if (!rf)
        return;
    pthread_mutex_lock(&rf->lock);
    fetcher *f = rf->list;
    rf->list = NULL;
    rf->stopped = true;
    pthread_mutex_unlock(&rf->lock);
    while (f) {
        fetcher *next = f->next;
        fetcher_free(f);
        f = next;
    }
}

void repl_fetchers_free(repl_fetchers *rf)
{
    if (!rf)
        return;
    repl_fetchers_stop(rf);
    pthread_mutex_destroy(&rf->lock);
    rate_destroy(&rf->quota);
    free(rf);
}

/* Drop p from f; on return f's thread no longer touches p. */
static void remove_part(fetcher *f, partition *p)
{
    topic *t = NULL;
    pthread_mutex_lock(&f->lock);
    fpart *fp = find_part(f, p);
    if (fp) {
        t = fp->t;
        *fp = f->parts[--f->nparts];
    }
    pthread_mutex_unlock(&f->lock);
    if (t)
        topic_unref(t);
}

/* Which of the leader's num.replica.fetchers threads fetches p: Kafka's
 * abs(31 * topic.hashCode + partition) % num.replica.fetchers, so one
 * leader's partitions spread over that many connections. */
static int fetcher_slot(repl_fetchers *rf, const topic *t, const partition *p)
{
    const struct broker_config *cfg = rf->ctx.config(rf->ctx.config_arg);
    int n = cfg->num_replica_fetchers > 0 ? cfg->num_replica_fetchers : 1;
    uint32_t h = 0;
    for (size_t i = 0; i < t->name_len; i++)
        h = 31u * h + (uint8_t)t->name[i];
    int32_t v = (int32_t)(31u * h + (uint32_t)p->index);
    return (int)((v == INT32_MIN ? 0 : v < 0 ? -v : v) % n);
}

int repl_follow(repl_fetchers *rf, topic *t, partition *p, int32_t leader_id, const char *host,
                int port, int32_t leader_epoch)
{
    int rc = -1;
    pthread_mutex_lock(&rf->lock);
    fetcher *f = NULL;
    if (rf->stopped)
        goto out;
    int slot = fetcher_slot(rf, t, p);
    for (fetcher *x = rf->list; x; x = x->next) {
        if (x->leader_id == leader_id && x->slot == slot)
            f = x;
        else
            remove_part(x, p);       /* a new leader: the old fetcher lets go first */
    }
    if (!f) {
        f = fetcher_start(rf, leader_id, slot);
        if (!f)
            goto out;
        f->next = rf->list;
        rf->list = f;
    }
    pthread_mutex_lock(&f->lock);
    if (strcmp(f->host, host) || f->port != port) {
        snprintf(f->host, sizeof f->host, "%s", host);
        f->port = port;
        f->endpoint_changed = true;
    }
    fpart *fp = find_part(f, p);
    if (!fp && f->nparts == f->cap) {
        int cap = f->cap ? f->cap * 2 : 8;
        fpart *np = realloc(f->parts, (size_t)cap * sizeof *np);
        if (np) {
            f->parts = np;
            f->cap = cap;
        }
    }
    if (!fp && f->nparts < f->cap) {
        fp = &f->parts[f->nparts++];
        topic_ref(t);
        *fp = (fpart){ .t = t, .p = p };
    }
    if (fp) {
        fp->leader_epoch = leader_epoch;
        to_truncating(fp);           /* C8: truncate before every new leadership's first fetch */
        fp->gen = ++rf->gen;
        fp->retry_at_ms = 0;
        f->kicked = true;
        /* The leader holds a follower's Fetch up to replica.fetch.wait.max.ms:
         * cut the one in flight so this partition (acks=all produces wait
         * for it) is asked for now. */
        kclient_cut(&f->kc);
        pthread_cond_broadcast(&f->cv);
        rc = 0;
    }
    pthread_mutex_unlock(&f->lock);
out:
    pthread_mutex_unlock(&rf->lock);
    return rc;
}

void repl_unfollow(repl_fetchers *rf, partition *p)
{
    pthread_mutex_lock(&rf->lock);
    for (fetcher *f = rf->list; f; f = f->next)
        remove_part(f, p);
    pthread_mutex_unlock(&rf->lock);
}

enum repl_part_state repl_state_of(repl_fetchers *rf, partition *p)
{
    enum repl_part_state st = REPL_NOT_FOLLOWED;
    pthread_mutex_lock(&rf->lock);
    for (fetcher *f = rf->list; f && st == REPL_NOT_FOLLOWED; f = f->next) {
        pthread_mutex_lock(&f->lock);
        fpart *fp = find_part(f, p);
        if (fp)
            st = fp->st;
        pthread_mutex_unlock(&f->lock);
    }
    pthread_mutex_unlock(&rf->lock);
    return st;
}
