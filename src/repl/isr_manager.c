/*
 * isr_manager.c - see isr_manager.h.
 *
 * Rules kept here (docs/cluster.md §7, docs/replication.md §3):
 *   C7  a replica enters the ISR only once its LEO reached the leader's HW
 *       (isr_decide), and the ISR changes only through the controller: the
 *       new state is installed only from the controller's answer, never
 *       from what was proposed (C1 keeps the znode write single-writer).
 *   C6  after an ISR change the HW is recomputed over the new ISR and
 *       parked acks=-1 produces are woken: a laggard that left no longer
 *       holds them.
 *   C9  a fenced AlterPartition (FENCED_LEADER_EPOCH,
 *       INVALID_UPDATE_VERSION) parks the partition until its state
 *       changes (the next LeaderAndIsr): the manager never retries with a
 *       state the controller has already superseded.
 *
 * Fenced partitions are remembered by their state snapshot (referenced,
 * so the pointer cannot be reused): a partition is skipped while its
 * current snapshot is the one that was fenced.  A scan keeps only the
 * snapshots it met again, so the list never outlives its partitions.
 */
#include "repl/isr_manager.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/metadata.h"
#include "cluster/topic.h"
#include "cluster/topic_registry.h"
#include "config/config.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"
#include "proto/codec.h"
#include "proto/messages/alter_partition.h"
#include "repl/isr_decide.h"
#include "rpc/kclient.h"
#include "server/delayed.h"
#include "storage/partition_log.h"

#define MOD "isr"
#define ALTER_VERSION 1              /* topic names; the controller serves 0-2 */
#define CONNECT_TIMEOUT_MS 3000
#define ALTER_TIMEOUT_MS 10000       /* the controller writes ZooKeeper before answering */
#define RESPONSE_MAX_BYTES (1u << 20)

struct isr_manager {
    isr_ctx ctx;
    pthread_t thread;
    pthread_mutex_t lock;            /* guards stop, poked, last_scan_ms */
    pthread_cond_t cond;
    bool stop, poked, started;
    int64_t last_scan_ms;            /* monotonic */

    /* The scan's own state: any thread calling isr_manager_scan holds
     * scan_lock. */
    pthread_mutex_t scan_lock;
    partition_state **fenced;        /* referenced snapshots */
    int nfenced, fenced_cap;
    kclient kc;                      /* to the active controller */
    int32_t kc_target;               /* broker the connection goes to; -1 none */
    bool kc_failing;                 /* the last call failed: log the next quietly */
    char kc_host[256];
    int kc_port;
};

enum outcome { ALTER_DONE, ALTER_RETRY, ALTER_FENCED };

/* ------------------------------------------------------------ transport */

/* The active controller's endpoint; false when unknown or not live. */
static bool controller_endpoint(isr_manager *m, int32_t id, char *host, size_t hostlen, int *port)
{
    md_brokers *live = m->ctx.md ? md_live_brokers(m->ctx.md) : NULL;
    const md_broker *br = live ? md_brokers_find(live, id) : NULL;
    const md_endpoint *ep = br ? md_broker_endpoint_named(br, m->ctx.listener) : NULL;   /* S-CL5 */
    if (ep) {
        snprintf(host, hostlen, "%s", ep->host);
        *port = ep->port;
    }
    if (live)
        md_brokers_unref(live);
    return ep != NULL;
}

/* A failed connection or call: warned once per streak (retried every
 * round while the controller is unreachable). */
static void call_failed(isr_manager *m, const isr_alter *a, int32_t cid, const char *err)
{
    if (!m->kc_failing)
        LOG_WRN(MOD, "AlterPartition for %s-%d: controller %d: %s (retrying each round)", a->topic,
                a->partition, cid, err);
    else
        LOG_DBG(MOD, "AlterPartition for %s-%d: controller %d: %s", a->topic, a->partition, cid, err);
    m->kc_failing = true;
}

static int16_t alter_remote(isr_manager *m, const isr_alter *a, int64_t broker_epoch,
                            controller_partition_state *out)
{
    int32_t cid = m->ctx.controller_id ? m->ctx.controller_id(m->ctx.arg) : -1;
    char host[256], err[512];
    int port;
    if (cid < 0 || !controller_endpoint(m, cid, host, sizeof host, &port))
        return KERR_NOT_CONTROLLER;
    if (!kclient_connected(&m->kc) || cid != m->kc_target || port != m->kc_port ||
        strcmp(host, m->kc_host)) {
        kclient_close(&m->kc);
        kclient_init(&m->kc, "samsa-isr", RESPONSE_MAX_BYTES);
        kclient_set_security(&m->kc, m->ctx.sec);   /* S-CL4 */
        m->kc_target = -1;
        if (kclient_connect(&m->kc, host, port, CONNECT_TIMEOUT_MS, err, sizeof err)) {
            call_failed(m, a, cid, err);
            return KERR__IO;
        }
        m->kc_target = cid;
        snprintf(m->kc_host, sizeof m->kc_host, "%s", host);
        m->kc_port = port;
    }

    arena ar;
    arena_init(&ar, RESPONSE_MAX_BYTES);
    alter_partition_req req;
    alter_partition_resp resp;
    kcodec_defaults(&alter_partition_req_schema, &req);
    memset(&resp, 0, sizeof resp);
    req.broker_id = m->ctx.node_id;
    req.broker_epoch = broker_epoch;
    int16_t rc = KERR__NOMEM;
    alter_partition_req_topics *t = KARRAY_ALLOC(&ar, &req.topics, 1);
    alter_partition_req_partitions *pp = t ? KARRAY_ALLOC(&ar, &t->partitions, 1) : NULL;
    int32_t *isr = pp ? KARRAY_ALLOC(&ar, &pp->new_isr, a->nisr) : NULL;
    if (!isr && a->nisr > 0)
        goto out;
    t->topic_name = kstr_c(a->topic);
    pp->partition_index = a->partition;
    pp->leader_epoch = a->leader_epoch;
    pp->partition_epoch = a->partition_epoch;
    pp->leader_recovery_state = 0;   /* RECOVERED */
    memcpy(isr, a->isr, (size_t)a->nisr * sizeof *isr);
    if (kclient_call(&m->kc, ALTER_PARTITION_API_KEY, ALTER_VERSION, &req, &ar, &resp,
                     ALTER_TIMEOUT_MS, err, sizeof err)) {
        call_failed(m, a, cid, err);
        m->kc_target = -1;
        rc = KERR__IO;
        goto out;
    }
    m->kc_failing = false;
    rc = resp.error_code;
    if (rc)
        goto out;
    rc = KERR_UNKNOWN_TOPIC_OR_PARTITION;            /* unless the answer names it */
    for (int32_t i = 0; i < resp.topics.n; i++) {
        const alter_partition_resp_topics *rt = &resp.topics.v[i];
        for (int32_t j = 0; kstr_eq(rt->topic_name, a->topic) && j < rt->partitions.n; j++) {
            const alter_partition_resp_partitions *rp = &rt->partitions.v[j];
            if (rp->partition_index != a->partition)
                continue;
            rc = rp->error_code;
            if (rc == KERR_NONE && rp->isr.n > ZKL_MAX_REPLICAS)
                rc = KERR_INVALID_REQUEST;
            if (rc == KERR_NONE) {
                out->leader = rp->leader_id;
                out->leader_epoch = rp->leader_epoch;
                out->partition_epoch = rp->partition_epoch;
                out->nisr = rp->isr.n;
                memcpy(out->isr, rp->isr.v, (size_t)rp->isr.n * sizeof *out->isr);
            }
        }
    }
out:
    arena_reset(&ar);
    return rc;
}

/* AlterPartition to the active controller, over the network even when it
 * is this broker: the broker's controller candidate is replaced on the
 * admin thread (session loss) and stopped at shutdown, so only the admin
 * thread, where handle_alter_partition runs, may call into it. */
static int16_t send_alter(isr_manager *m, const isr_alter *a, controller_partition_state *out)
{
    memset(out, 0, sizeof *out);
    if (m->ctx.alter)
        return m->ctx.alter(m->ctx.arg, a, out);
    int64_t epoch = m->ctx.broker_epoch ? m->ctx.broker_epoch(m->ctx.arg) : -1;
    return alter_remote(m, a, epoch, out);
}

/* ------------------------------------------------------------- the scan */

static void fmt_ids(char *buf, size_t len, const int32_t *v, int n)
{
    size_t at = 0;
    buf[0] = 0;
    for (int i = 0; i < n && at + 1 < len; i++) {
        int w = snprintf(buf + at, len - at, "%s%d", i ? "," : "", v[i]);
        if (w < 0)
            break;
        at += (size_t)w;
    }
}

/* The controller accepted: install its answer if p is still in the
 * leadership and state the request was made from (a LeaderAndIsr may have
 * moved it since; M1 refuses an older leader epoch anyway). */
static bool install(isr_manager *m, topic *t, partition *p, const partition_state *st,
                    const controller_partition_state *ans)
{
    if (ans->leader != m->ctx.node_id || ans->leader_epoch != st->leader_epoch)
        return false;
    partition_state *cur = partition_state_get(p);
    bool same = cur && cur->leader == st->leader && cur->leader_epoch == st->leader_epoch &&
                cur->partition_epoch < ans->partition_epoch;
    pstate_unref(cur);
    if (!same)
        return false;
    pstate_spec spec = { .leader = ans->leader, .leader_epoch = ans->leader_epoch,
                         .partition_epoch = ans->partition_epoch,
                         .controller_epoch = st->controller_epoch,
                         .replicas = st->replicas, .nreplicas = st->nreplicas,
                         .isr = ans->isr, .nisr = ans->nisr,
                         .offline = st->offline, .noffline = st->noffline };
    partition_state *ns = pstate_new(&spec);
    if (!ns || partition_set_state(p, ns) != KERR_NONE)   /* M2 */
        return false;
    char was[512], now[512];
    fmt_ids(was, sizeof was, st->isr, st->nisr);
    fmt_ids(now, sizeof now, ans->isr, ans->nisr);
    LOG_INF(MOD, "%s-%d: ISR [%s] -> [%s] (leader epoch %d, partition epoch %d)", t->name,
            p->index, was, now, ans->leader_epoch, ans->partition_epoch);
    partition_advance_hw(p, m->ctx.node_id);   /* C6 over the new ISR */
    partition_notify(p);                       /* parked acks=-1 produces re-check */
    return true;
}

/* One partition led here with state st. */
static enum outcome check_partition(isr_manager *m, topic *t, partition *p,
                                    const partition_state *st, int64_t lag_ms, bool *installed)
{
    replica_follower f[PSTATE_MAX_REPLICAS];
    int32_t isr[PSTATE_MAX_REPLICAS];
    isr_input in = { .self = m->ctx.node_id, .replicas = st->replicas, .nreplicas = st->nreplicas,
                     .isr = st->isr, .nisr = st->nisr, .f = f, .now_ms = wall_ms(),
                     .lag_max_ms = lag_ms };
    in.nf = replica_progress_snapshot(&p->progress, f, PSTATE_MAX_REPLICAS, &in.leader_since_ms);
    in.leader_leo = plog_log_end_offset(p->log);
    in.hw = plog_high_watermark(p->log);
    int32_t e;
    int64_t start;
    /* The end of the epoch before ours is where ours starts. */
    plog_epoch_end_offset(p->log, st->leader_epoch - 1, st->leader_epoch, &e, &start);
    in.epoch_start_offset = start > 0 ? start : 0;
    bool changed;
    int n = isr_decide(&in, isr, &changed);
    *installed = false;
    if (!changed)
        return ALTER_DONE;

    isr_alter a = { .topic = t->name, .partition = p->index, .leader_epoch = st->leader_epoch,
                    .partition_epoch = st->partition_epoch, .isr = isr, .nisr = n };
    /* C27 (KIP-497's maximal ISR): members this expansion adds hold the HW
     * from before the request leaves until its answer is in, so a record
     * is never acknowledged without a replica the controller already
     * counts as in sync (and may make leader). */
    int32_t added[PSTATE_MAX_REPLICAS];
    int nadded = 0;
    for (int i = 0; i < n; i++) {
        bool had = false;
        for (int k = 0; k < st->nisr && !had; k++)
            had = st->isr[k] == isr[i];
        if (!had && nadded < PSTATE_MAX_REPLICAS)
            added[nadded++] = isr[i];
    }
    if (nadded)
        replica_progress_set_pending(&p->progress, added, nadded);
    controller_partition_state ans;
    int16_t err = send_alter(m, &a, &ans);
    if (err == KERR_NONE)
        *installed = install(m, t, p, st, &ans);
    /* The outcome is known (installed, or refused): the maximal ISR goes.
     * A lost answer keeps it, as the controller may have taken it. */
    bool known = err == KERR_NONE || err == KERR_FENCED_LEADER_EPOCH ||
                 err == KERR_INVALID_UPDATE_VERSION || err == KERR_NOT_LEADER_OR_FOLLOWER ||
                 err == KERR_UNKNOWN_TOPIC_OR_PARTITION || err == KERR_INVALID_REQUEST ||
                 err == KERR_INELIGIBLE_REPLICA;
    if (nadded && known)
        replica_progress_set_pending(&p->progress, NULL, 0);
    switch (err) {
    case KERR_NONE:
        return ALTER_DONE;
    case KERR_FENCED_LEADER_EPOCH:
    case KERR_INVALID_UPDATE_VERSION:
    case KERR_NOT_LEADER_OR_FOLLOWER:
    case KERR_UNKNOWN_TOPIC_OR_PARTITION:
    case KERR_INVALID_REQUEST:
        /* C9: our state is stale; wait for the controller's LeaderAndIsr. */
        LOG_WRN(MOD, "%s-%d: AlterPartition at leader epoch %d, partition epoch %d refused: %s; "
                "waiting for the next LeaderAndIsr", t->name, p->index, st->leader_epoch,
                st->partition_epoch, kerr_name(err));
        return ALTER_FENCED;
    default:
        LOG_DBG(MOD, "%s-%d: AlterPartition: %s; trying again next round", t->name, p->index,
                kerr_name(err));
        return ALTER_RETRY;
    }
}

static bool fenced_has(const isr_manager *m, const partition_state *st)
{
    for (int i = 0; i < m->nfenced; i++)
        if (m->fenced[i] == st)
            return true;
    return false;
}

/* Append a referenced snapshot to a fenced list (dropped when out of
 * memory: the partition is then simply tried again). */
static void fenced_push(partition_state ***v, int *n, int *cap, partition_state *st)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 8;
        partition_state **nv = realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv) {
            pstate_unref(st);
            return;
        }
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = st;
}

static void fenced_free(partition_state **v, int n)
{
    for (int i = 0; i < n; i++)
        pstate_unref(v[i]);
    free(v);
}

static int64_t lag_max_ms(isr_manager *m)
{
    const struct broker_config *cfg = m->ctx.config ? m->ctx.config(m->ctx.arg) : NULL;
    return cfg ? cfg->replica_lag_time_max_ms : 30000;
}

int isr_manager_scan(isr_manager *m)
{
    int changed = 0;
    pthread_mutex_lock(&m->scan_lock);
    int64_t lag = lag_max_ms(m);
    topic **list = NULL;
    int nt = topic_registry_list(m->ctx.topics, &list);
    partition_state **keep = NULL;
    int nkeep = 0, keep_cap = 0;
    for (int i = 0; i < nt; i++) {
        topic *t = list[i];
        if (atomic_load(&t->deleted))
            continue;
        int32_t np = topic_nparts(t);
        for (int32_t k = 0; k < np; k++) {
            partition *p = topic_partition(t, k);
            partition_state *st = p ? partition_state_get(p) : NULL;
            if (!st || st->leader != m->ctx.node_id || !p->log) {
                pstate_unref(st);
                continue;
            }
            bool installed = false;
            if (fenced_has(m, st) ||
                check_partition(m, t, p, st, lag, &installed) == ALTER_FENCED)
                fenced_push(&keep, &nkeep, &keep_cap, st);   /* takes our reference */
            else
                pstate_unref(st);
            changed += installed;
        }
    }
    if (nt >= 0)
        topic_registry_list_free(list, nt);       /* also the empty list */
    fenced_free(m->fenced, m->nfenced);
    m->fenced = keep;
    m->nfenced = nkeep;
    m->fenced_cap = keep_cap;
    pthread_mutex_unlock(&m->scan_lock);
    return changed;
}

/* ----------------------------------------------------------- the thread */

/* replica.lag.time.max.ms / 2, at most ISR_MAX_CHECK_MS (Kafka checks at
 * lag / 2; the cap keeps shrink and retries responsive). */
static int64_t check_interval_ms(isr_manager *m)
{
    int64_t iv = lag_max_ms(m) / 2;
    if (iv > ISR_MAX_CHECK_MS)
        iv = ISR_MAX_CHECK_MS;
    return iv < ISR_POKE_GAP_MS ? ISR_POKE_GAP_MS : iv;
}

static void *run(void *arg)
{
    isr_manager *m = arg;
    pthread_mutex_lock(&m->lock);
    while (!m->stop) {
        int64_t now = mono_ms();
        int64_t due = m->last_scan_ms + check_interval_ms(m);
        if (m->poked && m->last_scan_ms + ISR_POKE_GAP_MS < due)
            due = m->last_scan_ms + ISR_POKE_GAP_MS;
        if (now < due) {
            struct timespec ts = { .tv_sec = due / 1000, .tv_nsec = (due % 1000) * 1000000L };
            pthread_cond_timedwait(&m->cond, &m->lock, &ts);
            continue;
        }
        m->poked = false;
        m->last_scan_ms = now;
        pthread_mutex_unlock(&m->lock);
        isr_manager_scan(m);
        pthread_mutex_lock(&m->lock);
    }
    pthread_mutex_unlock(&m->lock);
    return NULL;
}

isr_manager *isr_manager_new(const isr_ctx *ctx)
{
    isr_manager *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->ctx = *ctx;
    m->kc_target = -1;
    m->last_scan_ms = mono_ms();
    kclient_init(&m->kc, "samsa-isr", RESPONSE_MAX_BYTES);
    kclient_set_security(&m->kc, m->ctx.sec);       /* S-CL4 */
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->scan_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);   /* mono_ms() deadlines */
    pthread_cond_init(&m->cond, &ca);
    pthread_condattr_destroy(&ca);
    return m;
}

isr_manager *isr_manager_start(const isr_ctx *ctx)
{
    isr_manager *m = isr_manager_new(ctx);
    if (!m)
        return NULL;
    if (pthread_create(&m->thread, NULL, run, m) != 0) {
        isr_manager_stop(m);
        return NULL;
    }
    m->started = true;
    pthread_setname_np(m->thread, "samsa-isr");
    return m;
}

void isr_manager_stop(isr_manager *m)
{
    if (!m)
        return;
    if (m->started) {
        pthread_mutex_lock(&m->lock);
        m->stop = true;
        pthread_cond_signal(&m->cond);
        pthread_mutex_unlock(&m->lock);
        pthread_join(m->thread, NULL);
    }
    kclient_close(&m->kc);
    fenced_free(m->fenced, m->nfenced);
    pthread_cond_destroy(&m->cond);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->scan_lock);
    free(m);
}

void isr_manager_poke(isr_manager *m)
{
    if (!m)
        return;
    pthread_mutex_lock(&m->lock);
    if (!m->poked) {
        m->poked = true;
        pthread_cond_signal(&m->cond);
    }
    pthread_mutex_unlock(&m->lock);
}

void isr_manager_follower_fetched(isr_manager *m, partition *p, int32_t replica_id,
                                  int64_t fetch_offset)
{
    if (!m)
        return;
    partition_state *st = partition_state_get(p);
    if (st && st->leader == m->ctx.node_id && !pstate_in_isr(st, replica_id) &&
        fetch_offset >= plog_high_watermark(p->log))
        isr_manager_poke(m);             /* C7: it may join */
    pstate_unref(st);
}
