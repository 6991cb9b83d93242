/*
 * metadata_zk.c - the ZooKeeper metadata store (see metadata_zk.h).
 *
 * Threads and what they own:
 *   ZooKeeper completion thread: on_zk_event() only; it sets bits in
 *     `pending` (and `self_gone`) under qmu and wakes the event thread.  It
 *     never calls the session (the library forbids it) and never blocks.
 *   event thread (event_main): turns the bits into re-reads that re-arm
 *     the watches, swaps `brokers`, marks `expired`, calls the listener.
 *   admin thread: every op of the interface but the two any-thread reads,
 *     and md_zk_reconnect.
 *   any thread: live_brokers and cluster_id (under mu), the broker epoch
 *     and the expired flag (atomics).
 * `zs` is used under sess_lock held for reading by every user (admin and
 * event thread); md_zk_reconnect alone takes it for writing to swap in a
 * new session.
 *
 * This file is the session side (registration, watches, the event thread,
 * open, reconnect, close); metadata_zk_data.c reads and writes the
 * metadata itself.
 */
#include "cluster/metadata_zk.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/metadata_zk_int.h"
#include "cluster/zk_layout.h"
#include "core/log.h"

#define Q_BROKERS 1u
#define Q_TOPICS  2u
#define Q_CONFIG  4u
#define Q_EXPIRED 8u
#define Q_STOP    16u
#define Q_ALL_WATCHES (Q_BROKERS | Q_TOPICS | Q_CONFIG)
#define RETRY_MS 500

static const cluster_md_ops zk_ops;

/* ---------------------------------------------------------------- helpers */

/* "ZooKeeper at <connect>: <message>" into err; returns MD_ERR. */
int mdzk_fail(const md_zk *z, char *err, size_t errlen, const char *fmt, ...)
{
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "ZooKeeper at %s: %s", z->connect, msg);
    return MD_ERR;
}

static int64_t now_ms(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait on qcv (qmu held) for a signal or ms, whichever comes first. */
static void qwait_ms(md_zk *z, int ms)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += ms / 1000;
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&z->qcv, &z->qmu, &until);
}

static void post(md_zk *z, unsigned bits)
{
    pthread_mutex_lock(&z->qmu);
    z->pending |= bits;
    pthread_cond_broadcast(&z->qcv);
    pthread_mutex_unlock(&z->qmu);
}

/* The session for one operation, read-locked; NULL (lock released, err
 * set) when it has expired. */
zk_session *mdzk_sess_begin(md_zk *z, char *err, size_t errlen)
{
    pthread_rwlock_rdlock(&z->sess_lock);
    if (atomic_load(&z->expired) || zk_is_expired(z->zs)) {
        pthread_rwlock_unlock(&z->sess_lock);
        mdzk_fail(z, err, errlen, "the session expired; broker %d must reconnect to ZooKeeper "
                              "(register again) before it reads or writes metadata", z->base.self);
        return NULL;
    }
    return z->zs;
}

void mdzk_sess_end(md_zk *z) { pthread_rwlock_unlock(&z->sess_lock); }

/* Read a znode; on anything but OK and NONODE, err names it. */
zk_rc mdzk_read(md_zk *z, zk_session *s, const char *path, char **data, size_t *len,
                   zk_stat *st, char *err, size_t errlen)
{
    zk_rc rc = zk_get(s, path, false, data, len, st);
    if (rc != ZKR_OK && rc != ZKR_NONODE)
        mdzk_fail(z, err, errlen, "cannot read %s: %s", path, zk_rc_str(rc));
    return rc;
}

/* ------------------------------------------------------- damaged znodes */

/* Bits to re-read when path changes: a registration feeds the live brokers,
 * anything else the topics and configs (md_load). */
static unsigned damage_bits(const char *path)
{
    return !strncmp(path, ZK_PATH_BROKER_IDS "/", sizeof ZK_PATH_BROKER_IDS) ? Q_BROKERS
                                                                              : Q_TOPICS;
}

void mdzk_damaged(md_zk *z, zk_session *s, const char *path, const zk_stat *st,
                  const char *what)
{
    /* Noted before the watch is armed, so the watch's event finds it. */
    if (zk_damage_note(&z->damaged, path, st->czxid, st->version))
        LOG_ERR("metadata", "ZooKeeper at %s: %s does not decode (%s); left as it is (Samsa "
                "never rewrites or deletes it), watched until it is repaired", z->connect, path,
                what);
    zk_stat now;
    zk_rc rc = zk_exists(s, path, true, &now);
    if (rc == ZKR_NONODE || (rc == ZKR_OK && (now.czxid != st->czxid ||
                                              now.version != st->version)))
        post(z, damage_bits(path));      /* changed before the watch was armed */
}

void mdzk_repaired(md_zk *z, const char *path)
{
    if (zk_damage_clear(&z->damaged, path))
        LOG_INF("metadata", "ZooKeeper at %s: %s decodes again (or is gone)", z->connect, path);
}

/* ------------------------------------------------------------ live brokers */

static void broker_from_zkl(const zkl_broker *b, md_broker *out)
{
    memset(out, 0, sizeof *out);
    out->id = b->id;
    snprintf(out->rack, sizeof out->rack, "%s", b->rack);
    for (int i = 0; i < b->nep && i < MD_MAX_ENDPOINTS; i++) {
        snprintf(out->ep[i].listener, sizeof out->ep[i].listener, "%s", b->ep[i].listener);
        snprintf(out->ep[i].host, sizeof out->ep[i].host, "%s", b->ep[i].host);
        out->ep[i].port = b->ep[i].port;
        out->nendpoints++;
    }
}

static bool is_security_protocol(const char *s)
{
    return !strcmp(s, "PLAINTEXT") || !strcmp(s, "SSL") || !strcmp(s, "SASL_PLAINTEXT") ||
           !strcmp(s, "SASL_SSL");
}

static char *self_registration(const md_broker *me)
{
    zkl_broker b = { .id = me->id, .timestamp_ms = now_ms(CLOCK_REALTIME) };
    snprintf(b.rack, sizeof b.rack, "%s", me->rack);
    for (int i = 0; i < me->nendpoints && i < ZKL_MAX_ENDPOINTS; i++) {
        zkl_endpoint *ep = &b.ep[b.nep++];
        const char *name = me->ep[i].listener[0] ? me->ep[i].listener : "PLAINTEXT";
        snprintf(ep->listener, sizeof ep->listener, "%s", name);
        snprintf(ep->protocol, sizeof ep->protocol, "%s",
                 is_security_protocol(name) ? name : "PLAINTEXT");
        snprintf(ep->host, sizeof ep->host, "%s", me->ep[i].host);
        ep->port = me->ep[i].port;
    }
    return zkl_broker_encode(&b);
}

static int cmp_broker(const void *a, const void *b)
{
    int32_t x = ((const md_broker *)a)->id, y = ((const md_broker *)b)->id;
    return (x > y) - (x < y);
}

/* Re-read /brokers/ids (re-arming its child watch) and swap the snapshot.
 * A registration that does not decode is left out, with a warning naming
 * its znode. */
static zk_rc refresh_brokers(md_zk *z, zk_session *s)
{
    char **names = NULL;
    int n = 0;
    zk_rc rc = zk_children(s, ZK_PATH_BROKER_IDS, true, &names, &n);
    if (rc != ZKR_OK)
        return rc;
    int cap = n < MD_MAX_BROKERS ? n : MD_MAX_BROKERS;
    md_brokers *bs = malloc(sizeof *bs + (size_t)(cap ? cap : 1) * sizeof(md_broker));
    if (!bs) {
        zk_free_strings(names, n);
        return ZKR_ERROR;
    }
    atomic_init(&bs->refs, 1);
    bs->n = 0;
    for (int i = 0; i < n && rc == ZKR_OK; i++) {
        char *end, path[ZKL_MAX_PATH], err[512];
        errno = 0;
        long id = strtol(names[i], &end, 10);
        if (errno || *end || end == names[i] || id < 0 || id > INT32_MAX ||
            zkl_path_broker(path, sizeof path, (int32_t)id) < 0) {
            LOG_WRN("metadata", "ZooKeeper at %s: ignoring %s/%s: not a broker id", z->connect,
                    ZK_PATH_BROKER_IDS, names[i]);
            continue;
        }
        char *data = NULL;
        size_t len = 0;
        zk_stat st;
        zk_rc g = zk_get(s, path, true, &data, &len, &st);   /* an edit in place re-reads */
        if (g == ZKR_NONODE) {
            mdzk_repaired(z, path);
            continue;                    /* left between the two reads */
        }
        if (g != ZKR_OK) {
            rc = g;
            break;
        }
        zkl_broker b;
        if (zkl_broker_decode(data, len, &b, err, sizeof err) < 0) {
            mdzk_damaged(z, s, path, &st, err);   /* left out of the live brokers */
        } else if (bs->n == MD_MAX_BROKERS) {
            LOG_WRN("metadata", "ZooKeeper at %s: more than %d live brokers; ignoring %s",
                    z->connect, MD_MAX_BROKERS, path);
        } else {
            mdzk_repaired(z, path);
            b.id = (int32_t)id;
            broker_from_zkl(&b, &bs->v[bs->n++]);
        }
        free(data);
    }
    zk_free_strings(names, n);
    if (rc != ZKR_OK) {
        free(bs);
        return rc;
    }
    qsort(bs->v, (size_t)bs->n, sizeof bs->v[0], cmp_broker);
    pthread_mutex_lock(&z->mu);
    md_brokers *old = z->brokers;
    z->brokers = bs;
    pthread_mutex_unlock(&z->mu);
    md_brokers_unref(old);
    return ZKR_OK;
}

/* Arm a child watch on path (the names are not needed: the listener
 * re-loads). */
static zk_rc arm_children(zk_session *s, const char *path)
{
    char **names = NULL;
    int n = 0;
    zk_rc rc = zk_children(s, path, true, &names, &n);
    if (rc == ZKR_OK)
        zk_free_strings(names, n);
    return rc;
}

#define CHANGE_PREFIX "config_change_"

typedef struct change { int64_t seq; const char *name; } change;

static int cmp_change(const void *a, const void *b)
{
    int64_t x = ((const change *)a)->seq, y = ((const change *)b)->seq;
    return (x > y) - (x < y);
}

/* Read /config/changes (re-arming its child watch).  report: the entity
 * path of every notification newer than the last one reported, in order,
 * into *out (malloc'd strings, "" when the body is damaged: a warning names
 * it); else only record the newest as the baseline.  On failure nothing is
 * recorded, so a retry reports the same ones. */
static zk_rc scan_changes(md_zk *z, zk_session *s, bool report, char ***out, int *nout)
{
    *out = NULL;
    *nout = 0;
    char **names = NULL;
    int n = 0;
    zk_rc rc = zk_children(s, ZK_PATH_CONFIG_CHANGES, true, &names, &n);
    if (rc != ZKR_OK)
        return rc;
    int64_t last = atomic_load(&z->last_change), newest = last;
    change *cs = calloc((size_t)(n ? n : 1), sizeof *cs);
    char **ents = calloc((size_t)(n ? n : 1), sizeof *ents);
    int k = 0;
    for (int i = 0; cs && i < n; i++) {
        char *end;
        if (strncmp(names[i], CHANGE_PREFIX, strlen(CHANGE_PREFIX)))
            continue;
        errno = 0;
        long long seq = strtoll(names[i] + strlen(CHANGE_PREFIX), &end, 10);
        if (errno || *end || seq <= last)
            continue;
        cs[k++] = (change){ seq, names[i] };
        if (seq > newest)
            newest = seq;
    }
    if (!cs || !ents)
        rc = ZKR_ERROR;
    else
        qsort(cs, (size_t)k, sizeof *cs, cmp_change);
    for (int i = 0; report && rc == ZKR_OK && i < k; i++) {
        char path[ZKL_MAX_PATH], entity[ZKL_MAX_PATH] = "", derr[512], *data = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", ZK_PATH_CONFIG_CHANGES, cs[i].name);
        zk_rc g = zk_get(s, path, false, &data, &len, NULL);
        if (g == ZKR_NONODE)
            continue;                    /* purged already */
        if (g != ZKR_OK) {
            rc = g;
            break;
        }
        if (zkl_config_change_decode(data, len, entity, sizeof entity, derr, sizeof derr) < 0) {
            LOG_WRN("metadata", "ZooKeeper at %s: %s: %s; reloading every config", z->connect,
                    path, derr);
            entity[0] = 0;
        }
        free(data);
        if (!(ents[*nout] = strdup(entity))) {
            rc = ZKR_ERROR;
            break;
        }
        (*nout)++;
    }
    free(cs);
    zk_free_strings(names, n);
    if (rc != ZKR_OK) {
        zk_free_strings(ents, *nout);
        *nout = 0;
        return rc;
    }
    atomic_store(&z->last_change, newest);
    *out = ents;
    return ZKR_OK;
}

/* ----------------------------------------------------------- event thread */

static void on_zk_event(zk_session *s, enum zk_event ev, const char *path, void *ctx)
{
    (void)s;
    md_zk *z = ctx;
    unsigned bits = 0;
    if (ev == ZKE_EXPIRED)
        bits = Q_EXPIRED;
    else if (ev == ZKE_CHILD && !strcmp(path, ZK_PATH_BROKER_IDS))
        bits = Q_BROKERS;
    else if (ev == ZKE_CHILD && !strcmp(path, ZK_PATH_BROKER_TOPICS))
        bits = Q_TOPICS;
    else if (ev == ZKE_CHILD && !strcmp(path, ZK_PATH_CONFIG_CHANGES))
        bits = Q_CONFIG;
    else if (ev == ZKE_CHANGED && !strncmp(path, ZK_PATH_BROKER_IDS "/",
                                           sizeof ZK_PATH_BROKER_IDS))
        bits = Q_BROKERS;           /* a registration edited in place */
    else if (ev != ZKE_CHILD && path && zk_damage_has(&z->damaged, path))
        bits = damage_bits(path);   /* a damaged znode's watch (mdzk_damaged) */
    pthread_mutex_lock(&z->qmu);
    if (ev == ZKE_DELETED && !strcmp(path, z->self_path))
        z->self_gone = true;
    z->pending |= bits;
    pthread_cond_broadcast(&z->qcv);
    pthread_mutex_unlock(&z->qmu);
}

/* Handle one batch of bits; returns the bits to retry later. */
static unsigned handle(md_zk *z, unsigned bits)
{
    unsigned retry = 0, tell = 0;
    bool lost = false;
    char **ents = NULL;
    int nents = 0;
    pthread_rwlock_rdlock(&z->sess_lock);
    zk_session *s = z->zs;
    if ((bits & Q_EXPIRED) && zk_is_expired(s) && !atomic_exchange(&z->expired, true))
        lost = true;
    /* While expired the bits are dropped: md_zk_reconnect posts them all. */
    for (unsigned bit = Q_BROKERS; bit <= Q_CONFIG && !atomic_load(&z->expired) &&
                                   !zk_is_expired(s); bit <<= 1) {
        if (!(bits & bit))
            continue;
        zk_rc rc = bit == Q_BROKERS  ? refresh_brokers(z, s)
                   : bit == Q_TOPICS ? arm_children(s, ZK_PATH_BROKER_TOPICS)
                                     : scan_changes(z, s, true, &ents, &nents);
        if (rc == ZKR_OK)
            tell |= bit;
        else
            retry |= bit;
    }
    pthread_rwlock_unlock(&z->sess_lock);
    if (lost) {
        LOG_ERR("metadata", "ZooKeeper at %s: session expired; broker %d is no longer registered",
                z->connect, z->base.self);
        md_notify(&z->base, &(md_event){ .kind = MD_EV_SESSION_LOST });
    }
    if (tell & Q_BROKERS)
        md_notify(&z->base, &(md_event){ .kind = MD_EV_BROKERS });
    if (tell & Q_TOPICS)
        md_notify(&z->base, &(md_event){ .kind = MD_EV_TOPICS });
    for (int i = 0; (tell & Q_CONFIG) && i < nents; i++)
        md_notify(&z->base, &(md_event){ .kind = MD_EV_CONFIG,
                                         .entity = ents[i][0] ? ents[i] : NULL });
    zk_free_strings(ents, nents);
    return retry;
}

static void *event_main(void *arg)
{
    md_zk *z = arg;
    unsigned retry = 0;
    pthread_mutex_lock(&z->qmu);
    for (;;) {
        if (retry && !z->pending)
            qwait_ms(z, RETRY_MS);
        while (!retry && !z->pending)
            pthread_cond_wait(&z->qcv, &z->qmu);
        unsigned bits = z->pending | retry;
        z->pending = 0;
        if (bits & Q_STOP)
            break;
        pthread_mutex_unlock(&z->qmu);
        retry = handle(z, bits);
        pthread_mutex_lock(&z->qmu);
    }
    pthread_mutex_unlock(&z->qmu);
    return NULL;
}

/* ------------------------------------------------------------ registration */

/* "the live broker at PLAINTEXT://h:p (ZooKeeper session 0x...)": who
 * holds a registration, for the duplicate-id refusal. */
static void describe_holder(zk_session *s, const char *path, const zk_stat *st, char *out,
                            size_t cap)
{
    char *data = NULL, derr[160], eps[400] = "";
    size_t len = 0, n = 0;
    zkl_broker b;
    if (zk_get(s, path, false, &data, &len, NULL) == ZKR_OK &&
        zkl_broker_decode(data, len, &b, derr, sizeof derr) == 0) {
        for (int i = 0; i < b.nep && n < sizeof eps; i++) {
            int w = snprintf(eps + n, sizeof eps - n, "%s%s://%s:%d", i ? ", " : "",
                             b.ep[i].listener, b.ep[i].host, (int)b.ep[i].port);
            n = w < 0 ? sizeof eps : n + (size_t)w;
        }
    } else {
        snprintf(eps, sizeof eps, "an endpoint that cannot be read");
    }
    free(data);
    snprintf(out, cap, "the live broker at %s (ZooKeeper session 0x%llx)", eps,
             (unsigned long long)st->ephemeral_owner);
}

/* Create /brokers/ids/<self> (ephemeral).  A node of another live session
 * is waited for up to the session timeout, then refused. */
static int register_self(md_zk *z, zk_session *s, char *err, size_t errlen)
{
    char *body = self_registration(&z->self);
    if (!body)
        return mdzk_fail(z, err, errlen, "out of memory registering broker %d", z->base.self);
    int64_t deadline = now_ms(CLOCK_MONOTONIC) + z->session_ms;
    int rc = MD_ERR;
    for (;;) {
        int64_t czxid = 0;
        zk_stat st;
        zk_rc c = zk_create(s, z->self_path, body, strlen(body), ZKC_EPHEMERAL, NULL, 0, &czxid);
        if (c == ZKR_OK) {
            atomic_store(&z->broker_epoch, czxid);
            atomic_store(&z->confirmed_ms, now_ms(CLOCK_MONOTONIC));
            rc = MD_OK;
            break;
        }
        bool late = now_ms(CLOCK_MONOTONIC) >= deadline;
        if (c == ZKR_NODEEXISTS) {
            pthread_mutex_lock(&z->qmu);
            z->self_gone = false;
            pthread_mutex_unlock(&z->qmu);
            zk_rc e = zk_exists(s, z->self_path, true, &st);
            if (e == ZKR_NONODE)
                continue;
            if (e == ZKR_OK && st.ephemeral_owner == zk_session_id(s)) {
                atomic_store(&z->broker_epoch, st.czxid);   /* ours: a create whose answer was lost */
                rc = MD_OK;
                break;
            }
            if (e == ZKR_OK && late) {
                char holder[600];
                describe_holder(s, z->self_path, &st, holder, sizeof holder);
                snprintf(err, errlen, "broker id %d is already registered in ZooKeeper at %s "
                         "by another broker: %s is held by %s; node.id must be unique (this "
                         "broker exits, the other is left alone)", z->base.self, z->connect,
                         z->self_path, holder);
                break;
            }
            if (e != ZKR_OK && e != ZKR_CONNLOSS) {
                mdzk_fail(z, err, errlen, "cannot read %s: %s", z->self_path, zk_rc_str(e));
                break;
            }
            pthread_mutex_lock(&z->qmu);
            if (!z->self_gone)
                qwait_ms(z, RETRY_MS / 5);
            pthread_mutex_unlock(&z->qmu);
        } else if (c == ZKR_CONNLOSS && !late) {
            pthread_mutex_lock(&z->qmu);
            qwait_ms(z, RETRY_MS / 5);
            pthread_mutex_unlock(&z->qmu);
        } else {
            mdzk_fail(z, err, errlen, "cannot register broker %d as %s: %s", z->base.self,
                  z->self_path, zk_rc_str(c));
            break;
        }
    }
    free(body);
    return rc;
}

/* md_zk_open_checked: /cluster/id against the log dirs' cluster id, before
 * registering.  Read only: a missing id is not created here. */
static int check_cluster_id(md_zk *z, zk_session *s, char *err, size_t errlen)
{
    char *data = NULL, derr[256], id[64] = "";
    size_t len = 0;
    zk_stat st;
    zk_rc rc = mdzk_read(z, s, ZK_PATH_CLUSTER_ID, &data, &len, &st, err, errlen);
    if (rc != ZKR_OK && rc != ZKR_NONODE)
        return MD_ERR;
    if (rc == ZKR_OK && zkl_cluster_id_decode(data, len, id, derr, sizeof derr) < 0) {
        id[0] = 0;
        LOG_ERR("metadata", "ZooKeeper at %s: %s does not decode (%s); left as it is",
                z->connect, ZK_PATH_CLUSTER_ID, derr);
    }
    free(data);
    snprintf(z->zk_id_out, z->zk_id_cap, "%s", id);
    if (id[0] && !strcmp(id, z->expect_cluster_id)) {
        pthread_mutex_lock(&z->mu);
        snprintf(z->cluster_id, sizeof z->cluster_id, "%s", id);
        pthread_mutex_unlock(&z->mu);
        return MD_OK;
    }
    *z->mismatch = true;
    return mdzk_fail(z, err, errlen, "%s is %s%s%s, the log dirs' is %s", ZK_PATH_CLUSTER_ID,
                     rc == ZKR_NONODE ? "missing" : id[0] ? "\"" : "damaged", id,
                     id[0] ? "\"" : "", z->expect_cluster_id);
}

/* Everything a new session needs: Kafka's persistent paths, this broker's
 * registration, the live-broker snapshot and the three watches.  first:
 * the store's first session, whose config changes so far are the baseline
 * (a later session reports those made while it was away). */
static int setup_session(md_zk *z, zk_session *s, bool first, char *err, size_t errlen)
{
    static const char *const persistent[] = {
        ZK_PATH_BROKER_IDS, ZK_PATH_BROKER_TOPICS, ZK_PATH_CONFIG_TOPICS,
        ZK_PATH_CONFIG_BROKERS, ZK_PATH_CONFIG_CHANGES, ZK_PATH_DELETE_TOPICS,
        ZK_PATH_CONFIG_USERS, ZK_PATH_CONFIG_CLIENTS,
    };
    for (size_t i = 0; i < sizeof persistent / sizeof *persistent; i++) {
        zk_rc rc = zk_ensure_path(s, persistent[i]);
        if (rc != ZKR_OK)
            return mdzk_fail(z, err, errlen, "cannot create %s: %s", persistent[i], zk_rc_str(rc));
    }
    if (first && z->expect_cluster_id && z->expect_cluster_id[0] &&
        check_cluster_id(z, s, err, errlen) < 0)
        return MD_ERR;
    if (register_self(z, s, err, errlen) < 0)
        return MD_ERR;
    zk_rc rc = refresh_brokers(z, s);
    if (rc == ZKR_OK)
        rc = arm_children(s, ZK_PATH_BROKER_TOPICS);
    if (rc == ZKR_OK && first) {
        char **none;
        int nnone;
        rc = scan_changes(z, s, false, &none, &nnone);
        zk_free_strings(none, nnone);
    } else if (rc == ZKR_OK) {
        rc = arm_children(s, ZK_PATH_CONFIG_CHANGES);
    }
    if (rc != ZKR_OK)
        return mdzk_fail(z, err, errlen, "cannot watch %s, %s and %s: %s", ZK_PATH_BROKER_IDS,
                     ZK_PATH_BROKER_TOPICS, ZK_PATH_CONFIG_CHANGES, zk_rc_str(rc));
    return MD_OK;
}

/* --------------------------------------------------------- the rest of it */

static md_brokers *zk_live_brokers(cluster_md *m)
{
    md_zk *z = Z(m);
    pthread_mutex_lock(&z->mu);
    md_brokers *bs = z->brokers;
    atomic_fetch_add_explicit(&bs->refs, 1, memory_order_relaxed);
    pthread_mutex_unlock(&z->mu);
    return bs;
}

static int zk_register_broker(cluster_md *m, const md_broker *br, char *err, size_t errlen)
{
    return mdzk_fail(Z(m), err, errlen, "broker %d: live brokers come from %s, not from "
                 "md_register_broker", br->id, ZK_PATH_BROKER_IDS);
}

/* The session lease: every session timeout / 4, ask ZooKeeper for this
 * broker's own registration; when it answers that the node is this
 * session's, the session was alive when the question was sent.  A broker
 * whose last confirmation is older than the session timeout cannot know
 * it still holds its session (ZooKeeper may have expired it, and the
 * controller moved its leaderships): the broker stops leading until the
 * lease is renewed (docs/cluster.md C13).  A paused process (SIGSTOP, a VM
 * freeze) finds its lease old the moment it resumes, before any request
 * it then serves. */
static void *lease_main(void *arg)
{
    md_zk *z = arg;
    int every = z->session_ms / 4 > 50 ? z->session_ms / 4 : 50;
    pthread_mutex_lock(&z->qmu);
    while (!z->lease_stop) {
        pthread_mutex_unlock(&z->qmu);
        pthread_rwlock_rdlock(&z->sess_lock);
        zk_session *s = z->zs;
        int64_t sent = now_ms(CLOCK_MONOTONIC);
        zk_stat st;
        if (!atomic_load(&z->expired) && !zk_is_expired(s) &&
            zk_exists(s, z->self_path, false, &st) == ZKR_OK &&
            st.ephemeral_owner == zk_session_id(s))
            atomic_store(&z->confirmed_ms, sent);
        pthread_rwlock_unlock(&z->sess_lock);
        pthread_mutex_lock(&z->qmu);
        /* qcv is broadcast for the event thread too: wait out the period. */
        for (int64_t now = now_ms(CLOCK_MONOTONIC); !z->lease_stop && now < sent + every;
             now = now_ms(CLOCK_MONOTONIC))
            qwait_ms(z, (int)(sent + every - now));
    }
    pthread_mutex_unlock(&z->qmu);
    return NULL;
}

int64_t md_zk_session_confirmed_ms(cluster_md *m)
{
    return md_is_zk(m) ? atomic_load(&Z(m)->confirmed_ms) : -1;
}

static void zk_destroy(cluster_md *m)
{
    md_zk *z = Z(m);
    if (z->lease_started) {
        pthread_mutex_lock(&z->qmu);
        z->lease_stop = true;
        pthread_cond_broadcast(&z->qcv);
        pthread_mutex_unlock(&z->qmu);
        pthread_join(z->lease_thread, NULL);
    }
    if (z->thread_started) {
        post(z, Q_STOP);
        pthread_join(z->thread, NULL);
    }
    zk_close(z->zs);             /* after it, no more callbacks */
    md_brokers_unref(z->brokers);
    pthread_rwlock_destroy(&z->sess_lock);
    pthread_mutex_destroy(&z->qmu);
    pthread_cond_destroy(&z->qcv);
    pthread_mutex_destroy(&z->mu);
    zk_damage_destroy(&z->damaged);
    free(z);
}

static const cluster_md_ops zk_ops = {
    .name = "zookeeper",
    .load = mdzk_load,
    .store = mdzk_store,
    .partition_state = mdzk_partition_state,
    .add_partitions = mdzk_add_partitions,
    .reserve_producer_ids = mdzk_reserve_pids,
    .live_brokers = zk_live_brokers,
    .register_broker = zk_register_broker,
    .cluster_id = mdzk_cluster_id,
    .create_topic = mdzk_create_topic,
    .delete_topic = mdzk_delete_topic,
    .set_topic_configs = mdzk_set_topic_configs,
    .set_broker_configs = mdzk_set_broker_configs,
    .load_entities = mdzk_load_entities,
    .load_entity = mdzk_load_entity,
    .set_entity_configs = mdzk_set_entity_configs,
    .destroy = zk_destroy,
};

bool md_is_zk(const cluster_md *m) { return m && m->ops == &zk_ops; }

void md_zk_set_change_expiry(cluster_md *m, int64_t ms)
{
    if (md_is_zk(m))
        atomic_store(&Z(m)->change_expiry_ms, ms);
}

cluster_md *md_zk_open(const char *connect, int session_timeout_ms, int connection_timeout_ms,
                       const md_broker *self, char *err, size_t errlen)
{
    bool mismatch = false;
    return md_zk_open_checked(connect, session_timeout_ms, connection_timeout_ms, self, NULL,
                              NULL, 0, &mismatch, err, errlen);
}

cluster_md *md_zk_open_checked(const char *connect, int session_timeout_ms,
                               int connection_timeout_ms, const md_broker *self,
                               const char *expect_cluster_id, char *zk_id, size_t zk_id_cap,
                               bool *mismatch, char *err, size_t errlen)
{
    *mismatch = false;
    md_zk *z = calloc(1, sizeof *z);
    md_brokers *bs = malloc(sizeof *bs);
    if (!z || !bs) {
        free(z);
        free(bs);
        snprintf(err, errlen, "out of memory opening the ZooKeeper metadata store");
        return NULL;
    }
    z->base.ops = &zk_ops;
    atomic_init(&z->change_expiry_ms, 15 * 60 * 1000);
    z->base.self = self->id;
    z->self = *self;
    z->session_ms = session_timeout_ms;
    z->conn_ms = connection_timeout_ms;
    z->expect_cluster_id = expect_cluster_id;
    z->zk_id_out = zk_id;
    z->zk_id_cap = zk_id_cap;
    z->mismatch = mismatch;
    snprintf(z->connect, sizeof z->connect, "%s", connect);
    atomic_init(&bs->refs, 1);
    bs->n = 0;
    z->brokers = bs;
    pthread_rwlock_init(&z->sess_lock, NULL);
    pthread_mutex_init(&z->qmu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&z->qcv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&z->mu, NULL);
    zk_damage_init(&z->damaged);
    if (self->id < 0 || zkl_path_broker(z->self_path, sizeof z->self_path, self->id) < 0) {
        mdzk_fail(z, err, errlen, "bad broker id %d", self->id);
        goto fail;
    }
    z->zs = zk_open(connect, session_timeout_ms, connection_timeout_ms, on_zk_event, z, err,
                    errlen);
    atomic_init(&z->last_change, -1);
    if (!z->zs || setup_session(z, z->zs, true, err, errlen) < 0)
        goto fail;
    if (pthread_create(&z->thread, NULL, event_main, z) != 0) {
        mdzk_fail(z, err, errlen, "cannot start the metadata event thread");
        goto fail;
    }
    z->thread_started = true;
    if (pthread_create(&z->lease_thread, NULL, lease_main, z) != 0) {
        mdzk_fail(z, err, errlen, "cannot start the session lease thread");
        goto fail;
    }
    z->lease_started = true;
    z->expect_cluster_id = NULL;         /* the caller's, valid during the open only */
    z->zk_id_out = NULL;
    z->mismatch = NULL;
    return &z->base;
fail:
    zk_destroy(&z->base);
    return NULL;
}

int64_t md_zk_broker_epoch(cluster_md *m)
{
    return md_is_zk(m) ? atomic_load(&Z(m)->broker_epoch) : -1;
}

bool md_zk_expired(cluster_md *m)
{
    return md_is_zk(m) && atomic_load(&Z(m)->expired);
}

zk_session *md_zk_session(cluster_md *m)
{
    return md_is_zk(m) ? Z(m)->zs : NULL;
}

int md_zk_reconnect(cluster_md *m, char *err, size_t errlen)
{
    if (!md_is_zk(m)) {
        snprintf(err, errlen, "not a ZooKeeper metadata store");
        return MD_ERR;
    }
    md_zk *z = Z(m);
    zk_session *ns = zk_open(z->connect, z->session_ms, z->conn_ms, on_zk_event, z, err, errlen);
    if (!ns)
        return MD_ERR;
    pthread_rwlock_wrlock(&z->sess_lock);
    zk_session *old = z->zs;
    z->zs = ns;
    pthread_rwlock_unlock(&z->sess_lock);
    zk_close(old);
    pthread_rwlock_rdlock(&z->sess_lock);
    int rc = setup_session(z, ns, false, err, errlen);
    pthread_rwlock_unlock(&z->sess_lock);
    if (rc != MD_OK) {
        atomic_store(&z->expired, true);     /* not registered: still refuse service */
        return rc;
    }
    atomic_store(&z->expired, false);
    post(z, Q_ALL_WATCHES);
    LOG_INF("metadata", "ZooKeeper at %s: broker %d registered again (broker epoch %" PRId64 ")",
            z->connect, m->self, md_zk_broker_epoch(m));
    return MD_OK;
}

int md_zk_leave(cluster_md *m, char *err, size_t errlen)
{
    md_zk *z = Z(m);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return -1;
    zk_stat st;
    zk_rc rc = zk_exists(s, z->self_path, false, &st);
    /* Only our own registration: a node of another session (this id
     * restarted elsewhere) is not ours to remove. */
    if (rc == ZKR_OK && st.ephemeral_owner == zk_session_id(s))
        rc = zk_delete(s, z->self_path, st.version);
    else if (rc == ZKR_OK || rc == ZKR_NONODE)
        rc = ZKR_OK;
    int r = rc == ZKR_OK || rc == ZKR_NONODE
                ? 0
                : mdzk_fail(z, err, errlen, "cannot remove %s: %s", z->self_path, zk_rc_str(rc));
    mdzk_sess_end(z);
    return r;
}
