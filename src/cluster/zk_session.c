/* zk_session.c - see zk_session.h.  A thin, bounded layer over the
 * synchronous API of libzookeeper-mt (built with THREADED). */
#define THREADED 1
#include "cluster/zk_session.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#include "core/log.h"

struct zk_session {
    zhandle_t *zh;
    zk_event_fn fn;
    void *ctx;
    pthread_mutex_t lock;        /* guards state for the connect wait */
    pthread_cond_t cond;
    int state;                   /* last ZOO_*_STATE seen */
    atomic_bool expired;
    pthread_mutex_t listeners_lock;  /* guards listeners[]; held while they run */
    struct { zk_event_fn fn; void *ctx; } listeners[ZK_MAX_LISTENERS];
    int nlisteners;
};

const char *zk_rc_str(zk_rc rc)
{
    static const char *const names[] = {
        [ZKR_OK] = "ok", [ZKR_NONODE] = "no node", [ZKR_NODEEXISTS] = "node exists",
        [ZKR_BADVERSION] = "version changed", [ZKR_NOTEMPTY] = "node has children",
        [ZKR_TOOBIG] = "data too large", [ZKR_CONNLOSS] = "connection lost",
        [ZKR_EXPIRED] = "session expired", [ZKR_ERROR] = "error",
    };
    return (unsigned)rc < sizeof names / sizeof *names ? names[rc] : "?";
}

static zk_rc map_rc(int rc)
{
    if (rc == ZOK)
        return ZKR_OK;
    if (rc == ZNONODE)
        return ZKR_NONODE;
    if (rc == ZNODEEXISTS)
        return ZKR_NODEEXISTS;
    if (rc == ZBADVERSION)
        return ZKR_BADVERSION;
    if (rc == ZNOTEMPTY)
        return ZKR_NOTEMPTY;
    if (rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT)
        return ZKR_CONNLOSS;
    if (rc == ZSESSIONEXPIRED || rc == ZINVALIDSTATE)
        return ZKR_EXPIRED;
    return ZKR_ERROR;
}

/* The client library's own log lines, through ours, at most one per
 * ZK_LOG_INTERVAL_MS: while a server is unreachable it reports every
 * reconnection attempt (ten a second), which would bury everything else. */
#define ZK_LOG_INTERVAL_MS 5000
static atomic_llong g_log_last_ms;
static atomic_int g_log_suppressed;

static void zk_log(const char *msg)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    long long now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    long long last = atomic_load(&g_log_last_ms);
    if (last && now - last < ZK_LOG_INTERVAL_MS) {
        atomic_fetch_add(&g_log_suppressed, 1);
        return;
    }
    if (!atomic_compare_exchange_strong(&g_log_last_ms, &last, now))
        return;                  /* another thread logged just now */
    int dropped = atomic_exchange(&g_log_suppressed, 0);
    if (dropped)
        LOG_WRN("zookeeper", "%s (%d more client-library messages in the last %d s not shown)",
                msg, dropped, ZK_LOG_INTERVAL_MS / 1000);
    else
        LOG_WRN("zookeeper", "%s", msg);
}

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *wctx)
{
    (void)zh;
    zk_session *s = wctx;
    enum zk_event ev;
    if (type == ZOO_SESSION_EVENT) {
        pthread_mutex_lock(&s->lock);
        s->state = state;
        if (state == ZOO_EXPIRED_SESSION_STATE)
            atomic_store(&s->expired, true);
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        if (state == ZOO_CONNECTED_STATE)
            ev = ZKE_CONNECTED;
        else if (state == ZOO_EXPIRED_SESSION_STATE)
            ev = ZKE_EXPIRED;
        else
            ev = ZKE_DISCONNECTED;
    } else if (type == ZOO_CREATED_EVENT) {
        ev = ZKE_CREATED;
    } else if (type == ZOO_DELETED_EVENT) {
        ev = ZKE_DELETED;
    } else if (type == ZOO_CHANGED_EVENT) {
        ev = ZKE_CHANGED;
    } else if (type == ZOO_CHILD_EVENT) {
        ev = ZKE_CHILD;
    } else {
        return;                  /* NOTWATCHING: nothing to tell */
    }
    if (s->fn)
        s->fn(s, ev, path ? path : "", s->ctx);
    pthread_mutex_lock(&s->listeners_lock);
    for (int i = 0; i < s->nlisteners; i++)
        s->listeners[i].fn(s, ev, path ? path : "", s->listeners[i].ctx);
    pthread_mutex_unlock(&s->listeners_lock);
}

int zk_add_listener(zk_session *s, zk_event_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->listeners_lock);
    int rc = -1;
    if (s->nlisteners < ZK_MAX_LISTENERS) {
        s->listeners[s->nlisteners].fn = fn;
        s->listeners[s->nlisteners].ctx = ctx;
        s->nlisteners++;
        rc = 0;
    }
    pthread_mutex_unlock(&s->listeners_lock);
    return rc;
}

void zk_remove_listener(zk_session *s, zk_event_fn fn, void *ctx)
{
    pthread_mutex_lock(&s->listeners_lock);
    for (int i = 0; i < s->nlisteners; i++) {
        if (s->listeners[i].fn == fn && s->listeners[i].ctx == ctx) {
            s->listeners[i] = s->listeners[--s->nlisteners];
            break;
        }
    }
    pthread_mutex_unlock(&s->listeners_lock);
}

static pthread_once_t g_log_once = PTHREAD_ONCE_INIT;
static void quiet_library(void)
{
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
}

static zk_session *open_one(const char *connect, int session_ms, int connect_ms, zk_event_fn fn,
                            void *ctx, char *err, size_t errlen)
{
    zk_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fn = fn;
    s->ctx = ctx;
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->listeners_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cond, &ca);
    pthread_condattr_destroy(&ca);
    s->zh = zookeeper_init2(connect, watcher, session_ms, NULL, s, 0, zk_log);
    if (!s->zh) {
        snprintf(err, errlen, "cannot start a ZooKeeper client for \"%s\": %s", connect,
                 strerror(errno));
        goto fail;
    }
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += connect_ms / 1000;
    until.tv_nsec += (long)(connect_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->lock);
    int wrc = 0;
    while (s->state != ZOO_CONNECTED_STATE && !atomic_load(&s->expired) && wrc != ETIMEDOUT)
        wrc = pthread_cond_timedwait(&s->cond, &s->lock, &until);
    bool ok = s->state == ZOO_CONNECTED_STATE;
    pthread_mutex_unlock(&s->lock);
    if (!ok) {
        snprintf(err, errlen, "could not connect to ZooKeeper at \"%s\" within %d ms", connect,
                 connect_ms);
        goto fail;
    }
    return s;
fail:
    zk_close(s);
    return NULL;
}

zk_session *zk_open(const char *connect, int session_ms, int connect_ms, zk_event_fn fn,
                    void *ctx, char *err, size_t errlen)
{
    pthread_once(&g_log_once, quiet_library);
    const char *slash = strchr(connect, '/');
    if (slash && slash[1]) {
        /* A chroot: make sure its path exists first, as Kafka does. */
        char hosts[1024];
        size_t hl = (size_t)(slash - connect);
        if (hl == 0 || hl >= sizeof hosts) {
            snprintf(err, errlen, "bad ZooKeeper connect string \"%s\"", connect);
            return NULL;
        }
        memcpy(hosts, connect, hl);
        hosts[hl] = 0;
        zk_session *root = open_one(hosts, session_ms, connect_ms, NULL, NULL, err, errlen);
        if (!root)
            return NULL;
        zk_rc rc = zk_ensure_path(root, slash);
        zk_close(root);
        if (rc != ZKR_OK) {
            snprintf(err, errlen, "cannot create the chroot \"%s\" in ZooKeeper at \"%s\": %s",
                     slash, hosts, zk_rc_str(rc));
            return NULL;
        }
    }
    return open_one(connect, session_ms, connect_ms, fn, ctx, err, errlen);
}

void zk_close(zk_session *s)
{
    if (!s)
        return;
    if (s->zh)
        zookeeper_close(s->zh);
    pthread_cond_destroy(&s->cond);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->listeners_lock);
    free(s);
}

int64_t zk_session_id(const zk_session *s)
{
    const clientid_t *id = zoo_client_id(s->zh);
    return id ? id->client_id : 0;
}

void zk_session_password(const zk_session *s, char out[ZK_PASSWD_LEN])
{
    const clientid_t *id = zoo_client_id(s->zh);
    memset(out, 0, ZK_PASSWD_LEN);
    if (id)
        memcpy(out, id->passwd, ZK_PASSWD_LEN < sizeof id->passwd ? ZK_PASSWD_LEN
                                                                   : sizeof id->passwd);
}

int zk_session_timeout_ms(const zk_session *s)
{
    return zoo_recv_timeout(s->zh);
}

bool zk_is_expired(const zk_session *s)
{
    return atomic_load(&s->expired);
}

static void fill_stat(zk_stat *out, const struct Stat *st)
{
    if (!out)
        return;
    out->version = st->version;
    out->czxid = st->czxid;
    out->ephemeral_owner = st->ephemeralOwner;
    out->num_children = st->numChildren;
    out->ctime_ms = st->ctime;
}

static bool len_ok(size_t len)
{
    return len <= ZK_MAX_DATA;
}

zk_rc zk_create(zk_session *s, const char *path, const void *data, size_t len, int flags,
                char *created, size_t created_len, int64_t *czxid_out)
{
    if (!len_ok(len) || created_len > INT32_MAX)
        return ZKR_TOOBIG;
    int mode = (flags & ZKC_EPHEMERAL)
                   ? ((flags & ZKC_SEQUENTIAL) ? ZOO_EPHEMERAL_SEQUENTIAL : ZOO_EPHEMERAL)
                   : ((flags & ZKC_SEQUENTIAL) ? ZOO_PERSISTENT_SEQUENTIAL : ZOO_PERSISTENT);
    struct Stat st;
    memset(&st, 0, sizeof st);
    int rc = zoo_create2(s->zh, path, data ? data : "", data ? (int)len : 0,
                         &ZOO_OPEN_ACL_UNSAFE, mode, created, created ? (int)created_len : 0,
                         &st);
    if (rc == ZOK && czxid_out)
        *czxid_out = st.czxid;
    return map_rc(rc);
}

zk_rc zk_ensure_path(zk_session *s, const char *path)
{
    size_t n = strlen(path);
    char buf[1024];
    if (n == 0 || n >= sizeof buf || path[0] != '/')
        return ZKR_ERROR;
    memcpy(buf, path, n + 1);
    if (n > 1 && buf[n - 1] == '/')
        buf[--n] = 0;
    /* Each prefix ending before a '/', then the whole path. */
    for (size_t i = 1; i <= n; i++) {
        if (i < n && buf[i] != '/')
            continue;
        char c = buf[i];
        buf[i] = 0;
        int rc = zoo_create(s->zh, buf, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_PERSISTENT, NULL, 0);
        buf[i] = c;
        if (rc != ZOK && rc != ZNODEEXISTS)
            return map_rc(rc);
    }
    return ZKR_OK;
}

zk_rc zk_get(zk_session *s, const char *path, bool watch, char **data, size_t *len, zk_stat *st)
{
    int cap = 4096;
    *data = NULL;
    *len = 0;
    /* The node may grow between the read of its size and the read of its
     * data: retry a few times with the size the last answer reported. */
    for (int attempt = 0; attempt < 4; attempt++) {
        char *buf = malloc((size_t)cap + 1);
        if (!buf)
            return ZKR_ERROR;
        int got = cap;
        struct Stat zs;
        memset(&zs, 0, sizeof zs);
        int rc = zoo_get(s->zh, path, watch ? 1 : 0, buf, &got, &zs);
        if (rc != ZOK) {
            free(buf);
            return map_rc(rc);
        }
        if (zs.dataLength <= cap) {
            if (got < 0)
                got = 0;     /* a node with NULL data */
            buf[got] = 0;
            *data = buf;
            *len = (size_t)got;
            fill_stat(st, &zs);
            return ZKR_OK;
        }
        free(buf);
        if (zs.dataLength > ZK_MAX_DATA)
            return ZKR_TOOBIG;
        cap = zs.dataLength;
    }
    return ZKR_CONNLOSS;         /* kept changing under us: treat as unknown */
}

zk_rc zk_exists(zk_session *s, const char *path, bool watch, zk_stat *st)
{
    struct Stat zs;
    memset(&zs, 0, sizeof zs);
    int rc = zoo_exists(s->zh, path, watch ? 1 : 0, &zs);
    if (rc == ZOK)
        fill_stat(st, &zs);
    return map_rc(rc);
}

zk_rc zk_set(zk_session *s, const char *path, const void *data, size_t len,
             int32_t expected_version, int32_t *new_version)
{
    if (!len_ok(len))
        return ZKR_TOOBIG;
    struct Stat zs;
    memset(&zs, 0, sizeof zs);
    int rc = zoo_set2(s->zh, path, data, (int)len, expected_version, &zs);
    if (rc == ZOK && new_version)
        *new_version = zs.version;
    return map_rc(rc);
}

zk_rc zk_delete(zk_session *s, const char *path, int32_t expected_version)
{
    return map_rc(zoo_delete(s->zh, path, expected_version));
}

zk_rc zk_children(zk_session *s, const char *path, bool watch, char ***names, int *n)
{
    struct String_vector v;
    memset(&v, 0, sizeof v);
    *names = NULL;
    *n = 0;
    int rc = zoo_get_children(s->zh, path, watch ? 1 : 0, &v);
    if (rc != ZOK)
        return map_rc(rc);
    zk_rc out = ZKR_OK;
    char **arr = calloc((size_t)(v.count > 0 ? v.count : 1), sizeof *arr);
    if (!arr)
        out = ZKR_ERROR;
    for (int i = 0; arr && i < v.count; i++) {
        arr[i] = strdup(v.data[i]);
        if (!arr[i]) {
            zk_free_strings(arr, i);
            arr = NULL;
            out = ZKR_ERROR;
        }
    }
    if (arr) {
        *names = arr;
        *n = v.count;
    }
    deallocate_String_vector(&v);
    return out;
}

void zk_free_strings(char **names, int n)
{
    for (int i = 0; names && i < n; i++)
        free(names[i]);
    free(names);
}

zk_rc zk_multi(zk_session *s, zk_op *ops, int n, int *failed)
{
    if (failed)
        *failed = -1;
    if (n <= 0 || n > ZK_MAX_MULTI)
        return ZKR_ERROR;
    zoo_op_t *zops = calloc((size_t)n, sizeof *zops);
    zoo_op_result_t *res = calloc((size_t)n, sizeof *res);
    struct Stat *stats = calloc((size_t)n, sizeof *stats);
    zk_rc out = ZKR_ERROR;
    if (!zops || !res || !stats)
        goto done;
    for (int i = 0; i < n; i++) {
        const zk_op *o = &ops[i];
        if ((o->type == ZKOP_CREATE || o->type == ZKOP_SET) && !len_ok(o->len)) {
            out = ZKR_TOOBIG;
            if (failed)
                *failed = i;
            goto done;
        }
        const char *d = o->data ? o->data : "";
        int dl = o->data ? (int)o->len : 0;
        switch (o->type) {
        case ZKOP_CHECK:
            zoo_check_op_init(&zops[i], o->path, o->version);
            break;
        case ZKOP_CREATE: {
            int mode = (o->flags & ZKC_EPHEMERAL) ? ZOO_EPHEMERAL : ZOO_PERSISTENT;
            if (o->flags & ZKC_SEQUENTIAL)
                goto done;       /* the created name would be lost: not offered */
            zoo_create_op_init(&zops[i], o->path, d, dl, &ZOO_OPEN_ACL_UNSAFE, mode, NULL, 0);
            break;
        }
        case ZKOP_SET:
            zoo_set_op_init(&zops[i], o->path, d, dl, o->version, &stats[i]);
            break;
        case ZKOP_DELETE:
            zoo_delete_op_init(&zops[i], o->path, o->version);
            break;
        default:
            goto done;
        }
    }
    /* libzookeeper_mt 3.8's zoo_amulti frees the ops' completion entries
     * twice when the handle is already unrecoverable (a multi issued after
     * the session expired: an AddressSanitizer double free, seen on a
     * controller that resumed from a pause past its session timeout and
     * wrote a partition state).  The expiry is known here: answer it
     * without calling the library.  (The state may still turn between this
     * check and the call: the window is the library's own.) */
    int st = zoo_state(s->zh);
    if (st == ZOO_EXPIRED_SESSION_STATE || st == ZOO_AUTH_FAILED_STATE) {
        out = ZKR_EXPIRED;
        goto done;
    }
    int rc = zoo_multi(s->zh, n, zops, res);
    for (int i = 0; i < n; i++) {
        /* ZRUNTIMEINCONSISTENCY: this op was fine but another failed. */
        ops[i].rc = (res[i].err == ZRUNTIMEINCONSISTENCY) ? ZKR_OK : map_rc(res[i].err);
        ops[i].new_version = ops[i].type == ZKOP_SET ? stats[i].version : 0;
    }
    out = map_rc(rc);
    if (out != ZKR_OK) {
        for (int i = 0; i < n; i++) {
            if (res[i].err != ZOK && res[i].err != ZRUNTIMEINCONSISTENCY) {
                out = map_rc(res[i].err);
                if (failed)
                    *failed = i;
                break;
            }
        }
    }
done:
    free(zops);
    free(res);
    free(stats);
    return out;
}
