/*
 * txn_markers.c - the marker sender (Kafka's TransactionMarkerChannelManager):
 * a thread of its own that writes the COMMIT/ABORT markers of finished
 * transactions by sending WriteTxnMarkers to the leader of each partition,
 * this broker included, over the broker's kclient.  One code path serves
 * a single broker and a cluster: the leader is whatever the partition's
 * state names, and its inter-broker endpoint comes from the context.
 *
 * A job is one transaction: its producer id and epoch, the result, the
 * coordinator epoch (the leader epoch of its __transaction_state
 * partition) and its partitions.  Each pass takes every job that is due,
 * groups their partitions still unmarked by current leader and sends each
 * leader one request carrying a marker per transaction (as Kafka batches
 * per broker); answers go back to their job by producer id.
 * TC5: a partition counts as marked only when its leader answers NONE;
 * retriable errors (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION,
 * NOT_ENOUGH_REPLICAS, timeouts, a broker that cannot be reached) are
 * retried with a backoff, after looking the leader up again; a partition
 * whose topic was deleted is dropped (Kafka); INVALID_PRODUCER_EPOCH or
 * TRANSACTION_COORDINATOR_FENCED end the job (a newer coordinator or
 * producer epoch exists).  When no partition is left the result goes back
 * to the coordinator thread (txn_markers_done), which writes Complete*.
 *
 * Threads: jobs are queued by the coordinator thread under `lock`; the
 * sender thread owns everything else here (its job list, connections).
 * A call is bounded by CALL_TIMEOUT_MS and a connection attempt by
 * CONNECT_TIMEOUT_MS; a broker that failed in a pass is not tried again
 * in it, so one unreachable broker delays the others by at most one
 * timeout per pass.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/write_txn_markers.h"
#include "rpc/kclient.h"
#include "txn/txn_int.h"

#define CALL_TIMEOUT_MS 15000
#define CONNECT_TIMEOUT_MS 3000
#define BACKOFF_MIN_MS 50
#define BACKOFF_MAX_MS 1000
#define MAX_RESPONSE (1u << 20)
#define MARKERS_VERSION 1
#define MAX_DOWN 64
#define SLOW_CALL_MS 1000

typedef struct mk_job {
    char *id;
    int32_t part, coord_epoch;
    int64_t pid;
    int16_t epoch;
    bool commit;
    txn_tp *tps;
    int ntps, nleft;
    bool *done;
    int32_t *leader;               /* per partition, this pass */
    int64_t next_ms;
    int backoff_ms;
    bool tried;                    /* attempted in the current pass */
    int16_t fatal;
    struct mk_job *next;
} mk_job;

typedef struct mk_peer {
    int32_t id;
    kclient kc;
} mk_peer;

struct txn_markers {
    txn_coordinator *co;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    mk_job *queued;                /* under lock */
    atomic_bool stop;
    mk_job *jobs;                  /* sender thread only */
    mk_peer **peers;               /* grown by the sender under lock (stop cuts them) */
    int npeers;
    int32_t down[MAX_DOWN];        /* brokers that failed in this pass (sender thread) */
    int ndown;
};

static void job_free(mk_job *j)
{
    if (!j)
        return;
    for (int i = 0; i < j->ntps; i++)
        free(j->tps[i].topic);
    free(j->tps);
    free(j->done);
    free(j->leader);
    free(j->id);
    free(j);
}

int txn_markers_send(struct txn_markers *mk, const char *id, int32_t part, int32_t coord_epoch,
                     int64_t pid, int16_t epoch, bool commit, const txn_tp *tps, int ntps)
{
    mk_job *j = calloc(1, sizeof *j);
    if (!mk || !j)
        goto fail;
    *j = (mk_job){ .id = strdup(id), .part = part, .coord_epoch = coord_epoch, .pid = pid,
                   .epoch = epoch, .commit = commit, .ntps = 0, .nleft = ntps,
                   .backoff_ms = BACKOFF_MIN_MS };
    j->tps = calloc((size_t)ntps + 1, sizeof *j->tps);
    j->done = calloc((size_t)ntps + 1, sizeof *j->done);
    j->leader = calloc((size_t)ntps + 1, sizeof *j->leader);
    if (!j->id || !j->tps || !j->done || !j->leader)
        goto fail;
    for (int i = 0; i < ntps; i++) {
        if (!(j->tps[i].topic = strdup(tps[i].topic)))
            goto fail;
        j->tps[i].partition = tps[i].partition;
        j->ntps++;
    }
    pthread_mutex_lock(&mk->lock);
    bool stopped = atomic_load(&mk->stop);
    if (!stopped) {
        j->next = mk->queued;
        mk->queued = j;
        pthread_cond_signal(&mk->cond);
    }
    pthread_mutex_unlock(&mk->lock);
    if (stopped)
        goto fail;                        /* shutting down: the next coordinator resends */
    return 0;
fail:
    job_free(j);
    return -1;
}

/* ---------------------------------------------------- back to the coordinator */

typedef struct done_msg {
    txn_coordinator *co;
    char *id;
    int32_t part, coord_epoch;
    int16_t err;
} done_msg;

static void done_on_loop(loop *lp, void *arg)
{
    (void)lp;
    done_msg *d = arg;
    txn_markers_done(d->co, d->id, d->part, d->coord_epoch, d->err);
    free(d->id);
    free(d);
}

static void report(struct txn_markers *mk, mk_job *j)
{
    done_msg *d = malloc(sizeof *d);
    char *id = strdup(j->id);
    if (d && id) {
        *d = (done_msg){ mk->co, id, j->part, j->coord_epoch, j->fatal };
        if (loop_post(mk->co->lp, done_on_loop, d) == 0)
            return;
    }
    free(id);
    free(d);
    LOG_ERR("txn", "transactional id %s: cannot report its markers (retried by the abort pass)", j->id);
}

/* ------------------------------------------------------------ one pass */

static kclient *peer_client(struct txn_markers *mk, int32_t id)
{
    for (int i = 0; i < mk->npeers; i++)
        if (mk->peers[i]->id == id)
            return &mk->peers[i]->kc;
    mk_peer *p = malloc(sizeof *p);
    if (!p)
        return NULL;
    p->id = id;
    kclient_init(&p->kc, "samsa-txn-markers", MAX_RESPONSE);
    kclient_set_security(&p->kc, mk->co->ctx.sec);   /* S-CL4 */
    pthread_mutex_lock(&mk->lock);
    mk_peer **np = realloc(mk->peers, (size_t)(mk->npeers + 1) * sizeof *np);
    if (np) {
        mk->peers = np;
        mk->peers[mk->npeers++] = p;
    }
    pthread_mutex_unlock(&mk->lock);
    if (!np) {
        free(p);
        return NULL;
    }
    return &p->kc;
}

/* Where each unmarked partition's leader is now; deleted topics are
 * dropped (marked done). */
static void find_leaders(struct txn_markers *mk, mk_job *j)
{
    for (int i = 0; i < j->ntps; i++) {
        if (j->done[i])
            continue;
        const char *name = j->tps[i].topic;
        topic *t = topic_registry_get(mk->co->ctx.topics, name, strlen(name));
        partition *p = t && !atomic_load(&t->deleted) ? topic_partition(t, j->tps[i].partition) : NULL;
        if (!p) {
            LOG_WRN("txn", "transactional id %s: %s-%d is gone; its marker is dropped", j->id, name,
                    j->tps[i].partition);
            j->done[i] = true;
            j->nleft--;
        } else {
            partition_state *st = partition_state_get(p);
            j->leader[i] = st ? st->leader : -1;
            pstate_unref(st);
        }
        topic_unref(t);
    }
}

static bool is_down(const struct txn_markers *mk, int32_t id)
{
    for (int i = 0; i < mk->ndown; i++)
        if (mk->down[i] == id)
            return true;
    return false;
}

static void mark_down(struct txn_markers *mk, int32_t id)
{
    if (mk->ndown < MAX_DOWN && !is_down(mk, id))
        mk->down[mk->ndown++] = id;
}

/* j's marker for the partitions broker `to` leads, into *mr (arrays from
 * a); false when it leads none of them (or out of memory). */
static bool fill_marker(arena *a, const mk_job *j, int32_t to, write_txn_markers_req_markers *mr)
{
    write_txn_markers_req_topics *ts = KARRAY_ALLOC(a, &mr->topics, j->ntps);
    int32_t *ids = arena_alloc(a, (size_t)j->ntps * sizeof *ids + 1);
    if (!ts || !ids)
        return false;
    mr->producer_id = j->pid;
    mr->producer_epoch = j->epoch;
    mr->transaction_result = j->commit;
    mr->coordinator_epoch = j->coord_epoch;
    int nt = 0, nid = 0;
    for (int i = 0; i < j->ntps; i++) {
        if (j->done[i] || j->leader[i] != to)
            continue;
        int k = 0;
        while (k < nt && strcmp(ts[k].name.p, j->tps[i].topic))
            k++;
        if (k < nt)
            continue;                      /* its topic is listed already */
        ts[nt].name = kstr_c(j->tps[i].topic);
        ts[nt].partition_indexes.v = &ids[nid];
        for (int l = i; l < j->ntps; l++)
            if (!j->done[l] && j->leader[l] == to && !strcmp(j->tps[l].topic, j->tps[i].topic))
                ids[nid++] = j->tps[l].partition;
        ts[nt].partition_indexes.n = (int32_t)(&ids[nid] - ts[nt].partition_indexes.v);
        nt++;
    }
    mr->topics.n = nt;
    return nt > 0;
}

/* One marker's answers from broker `to` applied to its job (TC5). */
static void apply_answer(mk_job *j, int32_t to, const write_txn_markers_resp_markers *rm)
{
    for (int32_t t = 0; t < rm->topics.n; t++) {
        const write_txn_markers_resp_topics *rt = &rm->topics.v[t];
        for (int32_t q = 0; q < rt->partitions.n; q++) {
            int16_t code = rt->partitions.v[q].error_code;
            for (int i = 0; i < j->ntps; i++) {
                if (j->done[i] || j->leader[i] != to || j->tps[i].partition != rt->partitions.v[q].partition_index ||
                    !kstr_eq(rt->name, j->tps[i].topic))
                    continue;
                if (code == KERR_NONE) {
                    j->done[i] = true;
                    j->nleft--;
                } else if (code == KERR_INVALID_PRODUCER_EPOCH || code == KERR_TRANSACTION_COORDINATOR_FENCED) {
                    j->fatal = code;
                } else {
                    LOG_INF("txn", "transactional id %s: marker on %s-%d: %s (retried)", j->id,
                            j->tps[i].topic, j->tps[i].partition, kerr_name(code));
                }
            }
        }
    }
}

/* One WriteTxnMarkers to broker `to` carrying the marker of every job in
 * jobs[0..n) with partitions it leads (Kafka batches them per broker too). */
static void send_to(struct txn_markers *mk, mk_job **jobs, int n, int32_t to)
{
    if (is_down(mk, to))
        return;                            /* failed in this pass already: next pass */
    arena a;
    arena_init(&a, 16u << 20);
    write_txn_markers_req req = { 0 };
    write_txn_markers_req_markers *ms = KARRAY_ALLOC(&a, &req.markers, n);
    mk_job **of = arena_alloc(&a, (size_t)n * sizeof *of + 1);   /* the job of each marker */
    if (!ms || !of)
        goto out;
    int nm = 0;
    for (int i = 0; i < n; i++)
        if (!jobs[i]->fatal && fill_marker(&a, jobs[i], to, &ms[nm]))
            of[nm++] = jobs[i];
    req.markers.n = nm;
    if (nm == 0)
        goto out;
    kclient *kc = peer_client(mk, to);
    char err[256], host[256];
    int port = -1;
    if (!kc)
        goto out;
    if (!kclient_connected(kc)) {
        if (!mk->co->ctx.broker_endpoint(mk->co->ctx.arg, to, host, sizeof host, &port) ||
            kclient_connect(kc, host, port, CONNECT_TIMEOUT_MS, err, sizeof err) != 0) {
            mark_down(mk, to);             /* not live or unreachable: retried */
            goto out;
        }
    }
    write_txn_markers_resp resp = { 0 };
    int64_t t0 = mono_ms();
    int rc = kclient_call(kc, WRITE_TXN_MARKERS_API_KEY, MARKERS_VERSION, &req, &a, &resp, CALL_TIMEOUT_MS,
                          err, sizeof err);
    if (mono_ms() - t0 >= SLOW_CALL_MS)
        LOG_WRN("txn", "WriteTxnMarkers to broker %d (%d transaction(s)) took %" PRId64 " ms", to, nm,
                mono_ms() - t0);
    if (rc != 0) {
        LOG_WRN("txn", "WriteTxnMarkers to broker %d (%d transaction(s)): %s (retried)", to, nm, err);
        kclient_close(kc);
        mark_down(mk, to);
        goto out;
    }
    /* Answers name their producer id; each marker's job is found by it. */
    for (int32_t r = 0; r < resp.markers.n; r++)
        for (int i = 0; i < nm; i++)
            if (of[i]->pid == resp.markers.v[r].producer_id)
                apply_answer(of[i], to, &resp.markers.v[r]);
out:
    arena_reset(&a);
}

/* One pass over the jobs due: leaders looked up again, then one request
 * per leader broker for all of them. */
static void attempt(struct txn_markers *mk, mk_job **jobs, int n)
{
    int cap = 0;
    for (int i = 0; i < n; i++) {
        find_leaders(mk, jobs[i]);
        cap += jobs[i]->ntps;
    }
    int32_t *leaders = malloc((size_t)cap * sizeof *leaders + 1);
    int nl = 0;
    for (int i = 0; leaders && i < n; i++) {
        for (int k = 0; k < jobs[i]->ntps; k++) {
            int32_t l = jobs[i]->leader[k];
            if (jobs[i]->done[k] || l < 0)
                continue;
            int x = 0;
            while (x < nl && leaders[x] != l)
                x++;
            if (x == nl)
                leaders[nl++] = l;
        }
    }
    for (int x = 0; x < nl && !atomic_load(&mk->stop); x++)
        send_to(mk, jobs, n, leaders[x]);
    free(leaders);
}

static void *sender_main(void *arg)
{
    struct txn_markers *mk = arg;
    pthread_mutex_lock(&mk->lock);
    while (!atomic_load(&mk->stop)) {
        while (mk->queued) {
            mk_job *j = mk->queued;
            mk->queued = j->next;
            j->next = mk->jobs;
            mk->jobs = j;
        }
        pthread_mutex_unlock(&mk->lock);
        int64_t now = mono_ms(), first = INT64_MAX;
        mk->ndown = 0;
        int ndue = 0;
        for (mk_job *j = mk->jobs; j; j = j->next)
            ndue += j->next_ms <= now;
        mk_job **due = ndue ? malloc((size_t)ndue * sizeof *due) : NULL;
        ndue = 0;
        for (mk_job *j = mk->jobs; due && j; j = j->next)
            if (j->next_ms <= now) {
                due[ndue++] = j;
                j->tried = true;
            }
        if (due)
            attempt(mk, due, ndue);
        free(due);
        now = mono_ms();
        for (mk_job **pp = &mk->jobs; *pp;) {
            mk_job *j = *pp;
            if (j->nleft <= 0 || j->fatal) {
                report(mk, j);
                *pp = j->next;
                job_free(j);
                continue;
            }
            if (j->tried) {                /* tried in this pass: back off */
                j->tried = false;
                j->next_ms = now + j->backoff_ms;
                j->backoff_ms = j->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : j->backoff_ms * 2;
            }
            if (j->next_ms < first)
                first = j->next_ms;
            pp = &j->next;
        }
        pthread_mutex_lock(&mk->lock);
        if (atomic_load(&mk->stop) || mk->queued)
            continue;
        if (first == INT64_MAX) {
            pthread_cond_wait(&mk->cond, &mk->lock);
        } else {
            int64_t wait = first - mono_ms();
            if (wait > 0) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_sec += wait / 1000;
                ts.tv_nsec += (wait % 1000) * 1000000L;
                if (ts.tv_nsec >= 1000000000L) {
                    ts.tv_sec++;
                    ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&mk->cond, &mk->lock, &ts);
            }
        }
    }
    pthread_mutex_unlock(&mk->lock);
    return NULL;
}

struct txn_markers *txn_markers_start(txn_coordinator *co, char *err, size_t errlen)
{
    struct txn_markers *mk = calloc(1, sizeof *mk);
    if (!mk) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    mk->co = co;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&mk->lock, NULL);
    pthread_cond_init(&mk->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&mk->thread, NULL, sender_main, mk) != 0) {
        pthread_mutex_destroy(&mk->lock);
        pthread_cond_destroy(&mk->cond);
        free(mk);
        snprintf(err, errlen, "cannot start the transaction marker sender thread");
        return NULL;
    }
    pthread_setname_np(mk->thread, "samsa-txn-mark");
    return mk;
}

void txn_markers_stop(struct txn_markers *mk)
{
    if (!mk || atomic_load(&mk->stop))
        return;
    pthread_mutex_lock(&mk->lock);
    atomic_store(&mk->stop, true);
    pthread_cond_signal(&mk->cond);
    for (int i = 0; i < mk->npeers; i++)
        kclient_cut(&mk->peers[i]->kc);    /* a call in flight returns now */
    pthread_mutex_unlock(&mk->lock);
    pthread_join(mk->thread, NULL);
    while (mk->queued) {
        mk_job *j = mk->queued;
        mk->queued = j->next;
        job_free(j);
    }
    while (mk->jobs) {
        mk_job *j = mk->jobs;
        mk->jobs = j->next;
        job_free(j);
    }
    for (int i = 0; i < mk->npeers; i++) {
        kclient_close(&mk->peers[i]->kc);
        free(mk->peers[i]);
    }
    free(mk->peers);
    mk->peers = NULL;
    mk->npeers = 0;
}

void txn_markers_free(struct txn_markers *mk)
{
    if (!mk)
        return;
    txn_markers_stop(mk);
    pthread_mutex_destroy(&mk->lock);
    pthread_cond_destroy(&mk->cond);
    free(mk);
}
