/*
 * metadata_zk_data.c - the ZooKeeper metadata store's reads and writes of
 * the metadata itself (metadata_zk.h; znodes and guarantees:
 * docs/cluster-zookeeper.md): load, partition state, producer-id blocks
 * (compare-and-set), the cluster id (create race), and the per-entity
 * writes with their change notifications.  Each operation holds the
 * session read-locked (mdzk_sess_begin) for its duration.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/metadata_zk_int.h"
#include "cluster/zk_layout.h"
#include "core/clock.h"
#include "core/log.h"

/* Bound on compare-and-set retries (producer ids, cluster id). */
#define CAS_ATTEMPTS 1000

/* Write data whatever the version, creating the node if missing. */
static zk_rc set_or_create(zk_session *s, const char *path, const char *data)
{
    size_t len = strlen(data);
    for (int i = 0; i < 3; i++) {
        zk_rc rc = zk_set(s, path, data, len, -1, NULL);
        if (rc != ZKR_NONODE)
            return rc;
        rc = zk_create(s, path, data, len, ZKC_PERSISTENT, NULL, 0, NULL);
        if (rc != ZKR_NODEEXISTS)
            return rc;
    }
    return ZKR_BADVERSION;
}

/* A topic name that is one path component. */
static bool topic_name_ok(const char *name)
{
    return name && name[0] && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..") &&
           strlen(name) <= 249;
}

static void kvs_free(topic_kv *v, int n)
{
    for (int i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

/* ------------------------------------------------------------------- load */

/* A zk_layout decoder, through a wrapper of one shape. */
typedef int (*node_decoder)(const char *json, size_t len, void *out, char *err, size_t errlen);

static int dec_config(const char *j, size_t n, void *o, char *e, size_t el)
{ return zkl_config_decode(j, n, o, e, el); }
static int dec_assignment(const char *j, size_t n, void *o, char *e, size_t el)
{ return zkl_assignment_decode(j, n, o, e, el); }
static int dec_pid_block(const char *j, size_t n, void *o, char *e, size_t el)
{ return zkl_pid_block_decode(j, n, o, e, el); }
static int dec_partition_state(const char *j, size_t n, void *o, char *e, size_t el)
{ return zkl_partition_state_decode(j, n, o, e, el); }
static int dec_cluster_id(const char *j, size_t n, void *o, char *e, size_t el)
{ return zkl_cluster_id_decode(j, n, o, e, el); }

/* Read path and decode it into out: MD_OK, MD_NOT_FOUND (no such znode),
 * MDZK_DAMAGED (it does not decode: reported once and watched by
 * mdzk_damaged) or MD_ERR; both errors with a message naming the znode. */
static int read_node(md_zk *z, zk_session *s, const char *path, node_decoder dec, void *out,
                     zk_stat *st, char *err, size_t errlen)
{
    char *data = NULL, derr[512];
    size_t len = 0;
    zk_stat local;
    if (!st)
        st = &local;
    zk_rc rc = mdzk_read(z, s, path, &data, &len, st, err, errlen);
    if (rc == ZKR_NONODE) {
        mdzk_repaired(z, path);
        return MD_NOT_FOUND;
    }
    if (rc != ZKR_OK)
        return MD_ERR;
    int res = dec(data, len, out, derr, sizeof derr);
    free(data);
    if (res < 0) {
        mdzk_fail(z, err, errlen, "%s: %s", path, derr);
        mdzk_damaged(z, s, path, st, derr);
        return MDZK_DAMAGED;
    }
    mdzk_repaired(z, path);
    return MD_OK;
}

/* A config znode's keys and values; NONODE = none. */
static int load_config(md_zk *z, zk_session *s, const char *path, topic_kv **out, int *n,
                       char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    zkl_config c = { 0 };
    int r = read_node(z, s, path, dec_config, &c, NULL, err, errlen);
    if (r != MD_OK)
        return r == MD_NOT_FOUND ? MD_OK : r;
    topic_kv *v = calloc((size_t)(c.n ? c.n : 1), sizeof *v);
    for (int i = 0; v && i < c.n; i++) {
        v[i].key = strdup(c.keys[i]);
        v[i].value = strdup(c.values[i]);
        if (!v[i].key || !v[i].value) {
            kvs_free(v, i + 1);
            v = NULL;
        }
    }
    int cnt = c.n;
    zkl_config_free(&c);
    if (!v)
        return mdzk_fail(z, err, errlen, "out of memory reading %s", path);
    *out = v;
    *n = cnt;
    return MD_OK;
}

/* One topic into t (name set first, so meta_state_free cleans a partial
 * one); MD_NOT_FOUND when it went between listing and reading. */
static int load_topic(md_zk *z, zk_session *s, const char *name, meta_topic *t, char *err,
                      size_t errlen)
{
    char path[ZKL_MAX_PATH], cpath[ZKL_MAX_PATH];
    if (!(t->name = strdup(name)))
        return mdzk_fail(z, err, errlen, "out of memory loading topic %s", name);
    if (zkl_path_topic(path, sizeof path, name) < 0 ||
        zkl_path_topic_config(cpath, sizeof cpath, name) < 0)
        return mdzk_fail(z, err, errlen, "%s/%s: topic name too long", ZK_PATH_BROKER_TOPICS, name);
    zkl_assignment a = { 0 };
    int r = read_node(z, s, path, dec_assignment, &a, NULL, err, errlen);
    if (r == MDZK_DAMAGED) {
        t->damaged = true;               /* name only: the broker keeps what it has */
        return MD_OK;
    }
    if (r != MD_OK)
        return r;
    /* Counts differ while a reassignment runs (replicas = target +
     * original): rows are padded to the largest with -1, which names no
     * broker; nreplicas says how long each row is. */
    int32_t rf = 0;
    bool uneven = false;
    for (int32_t p = 0; p < a.npartitions; p++) {
        uneven |= p > 0 && a.nreplicas[p] != a.nreplicas[0];
        rf = a.nreplicas[p] > rf ? a.nreplicas[p] : rf;
    }
    t->replicas = malloc((size_t)a.npartitions * (size_t)rf * sizeof *t->replicas);
    t->nreplicas = uneven ? malloc((size_t)a.npartitions * sizeof *t->nreplicas) : NULL;
    if (!t->replicas || (uneven && !t->nreplicas)) {
        zkl_assignment_free(&a);
        return mdzk_fail(z, err, errlen, "out of memory loading %s", path);
    }
    for (int32_t p = 0; p < a.npartitions; p++) {
        for (int32_t k = 0; k < rf; k++)
            t->replicas[(size_t)p * (size_t)rf + (size_t)k] = k < a.nreplicas[p] ? a.replicas[p][k] : -1;
        if (uneven)
            t->nreplicas[p] = a.nreplicas[p];
    }
    t->id = a.topic_id;
    t->partitions = a.npartitions;
    t->replication_factor = rf;
    t->internal = !strcmp(name, "__consumer_offsets") || !strcmp(name, "__transaction_state");
    zkl_assignment_free(&a);
    r = load_config(z, s, cpath, &t->configs, &t->nconfigs, err, errlen);
    if (r == MDZK_DAMAGED) {
        t->configs_damaged = true;       /* the broker keeps the configs it has */
        r = MD_OK;
    }
    return r;
}

int mdzk_load(cluster_md *m, meta_state *out, char *err, size_t errlen)
{
    md_zk *z = Z(m);
    memset(out, 0, sizeof *out);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    char **names = NULL;
    int n = 0, rc = MD_ERR;
    char path[ZKL_MAX_PATH];
    zk_rc c = zk_children(s, ZK_PATH_BROKER_TOPICS, false, &names, &n);
    if (c != ZKR_OK) {
        mdzk_fail(z, err, errlen, "cannot list %s: %s", ZK_PATH_BROKER_TOPICS, zk_rc_str(c));
        goto out;
    }
    if (!(out->topics = calloc((size_t)(n ? n : 1), sizeof *out->topics))) {
        mdzk_fail(z, err, errlen, "out of memory loading %s", ZK_PATH_BROKER_TOPICS);
        goto out;
    }
    for (int i = 0; i < n; i++) {
        meta_topic *t = &out->topics[out->ntopics++];
        int r = load_topic(z, s, names[i], t, err, errlen);
        if (r == MD_NOT_FOUND) {
            out->ntopics--;
            free(t->name);
            memset(t, 0, sizeof *t);
        } else if (r != MD_OK) {
            goto out;
        }
    }
    for (int layer = 0; layer < 2; layer++) {
        meta_kvs *kv = layer ? &out->broker_own : &out->broker_default;
        zkl_path_broker_config(path, sizeof path, layer ? m->self : -1);
        int r = load_config(z, s, path, &kv->v, &kv->n, err, errlen);
        if (r == MDZK_DAMAGED)
            out->broker_configs_damaged = true;
        else if (r != MD_OK)
            goto out;
    }
    zkl_pid_block b;
    /* A damaged block is reported (and stops reservations), not loaded. */
    int r = read_node(z, s, ZK_PATH_PID_BLOCK, dec_pid_block, &b, NULL, err, errlen);
    if (r == MD_ERR)
        goto out;
    if (r == MD_OK)
        out->next_producer_id_block = b.block_end < INT64_MAX ? b.block_end + 1 : INT64_MAX;
    out->found = out->ntopics > 0 || r == MD_OK || r == MDZK_DAMAGED;
    rc = MD_OK;
out:
    mdzk_sess_end(z);
    zk_free_strings(names, n);
    if (rc != MD_OK)
        meta_state_free(out);
    return rc;
}

int mdzk_store(cluster_md *m, const meta_state *st, char *err, size_t errlen)
{
    (void)st;
    return mdzk_fail(Z(m), err, errlen, "a shared store takes per-entity writes only "
                 "(md_create_topic, md_delete_topic, md_set_*_configs), not md_store");
}

/* -------------------------------------------------------- partition state */

partition_state *mdzk_partition_state(cluster_md *m, const meta_topic *t, int32_t p)
{
    md_zk *z = Z(m);
    char path[ZKL_MAX_PATH], err[768] = "topic name too long for a znode path";
    pstate_spec spec = { .leader = -1, .leader_epoch = -1, .partition_epoch = -1,
                         .controller_epoch = -1 };
    int32_t nrep;
    const int32_t *row = meta_topic_replicas(t, p, &nrep);
    if (row) {
        spec.replicas = row;
        spec.nreplicas = nrep;
    }
    zkl_partition_state ps;
    zk_session *s = zkl_path_partition_state(path, sizeof path, t->name, p) < 0 ? NULL
                    : mdzk_sess_begin(z, err, sizeof err);
    if (s) {
        zk_stat st;
        int r = read_node(z, s, path, dec_partition_state, &ps, &st, err, sizeof err);
        mdzk_sess_end(z);
        if (r == MD_OK) {
            spec.leader = ps.leader;
            spec.leader_epoch = ps.leader_epoch;
            spec.controller_epoch = ps.controller_epoch;
            spec.partition_epoch = st.version;
            spec.isr = ps.isr;
            spec.nisr = ps.nisr;
        } else if (r == MD_ERR) {
            LOG_WRN("metadata", "%s; partition has no leader", err);
        }   /* MDZK_DAMAGED: reported once by read_node; no leader */
    } else {
        LOG_WRN("metadata", "%s/%d: %s; partition has no leader", t->name, p, err);
    }
    return pstate_new(&spec);
}

/* ----------------------------------------------------------- producer ids */

int mdzk_reserve_pids(cluster_md *m, int64_t count, int64_t *first, char *err, size_t errlen)
{
    md_zk *z = Z(m);
    if (count <= 0)
        return mdzk_fail(z, err, errlen, "bad producer-id block size %" PRId64, count);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    int rc = MD_ERR;
    for (int attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
        zk_stat st;
        zkl_pid_block cur, next = { .broker = m->self, .block_start = 0 };
        int g = read_node(z, s, ZK_PATH_PID_BLOCK, dec_pid_block, &cur, &st, err, errlen);
        if (g == MD_ERR || g == MDZK_DAMAGED)
            goto out;
        if (g == MD_OK)
            next.block_start = cur.block_end + 1;
        if (next.block_start > INT64_MAX - count) {
            mdzk_fail(z, err, errlen, "%s: producer ids exhausted", ZK_PATH_PID_BLOCK);
            goto out;
        }
        next.block_end = next.block_start + count - 1;
        char *body = zkl_pid_block_encode(&next);
        if (!body) {
            mdzk_fail(z, err, errlen, "out of memory writing %s", ZK_PATH_PID_BLOCK);
            goto out;
        }
        zk_rc w = g == MD_NOT_FOUND
                      ? zk_create(s, ZK_PATH_PID_BLOCK, body, strlen(body), ZKC_PERSISTENT, NULL,
                                  0, NULL)
                      : zk_set(s, ZK_PATH_PID_BLOCK, body, strlen(body), st.version, NULL);
        free(body);
        if (w == ZKR_OK) {
            *first = next.block_start;
            rc = MD_OK;
            goto out;
        }
        /* Lost the race (or the answer): read again.  A write that did land
         * without its answer only wastes its block. */
        if (w != ZKR_BADVERSION && w != ZKR_NODEEXISTS && w != ZKR_CONNLOSS) {
            mdzk_fail(z, err, errlen, "cannot write %s: %s", ZK_PATH_PID_BLOCK, zk_rc_str(w));
            goto out;
        }
    }
    mdzk_fail(z, err, errlen, "%s: gave up after %d compare-and-set attempts", ZK_PATH_PID_BLOCK,
          CAS_ATTEMPTS);
out:
    mdzk_sess_end(z);
    return rc;
}

/* ------------------------------------------------------------- cluster id */

int mdzk_cluster_id(cluster_md *m, const char *proposed, char *out, size_t cap)
{
    md_zk *z = Z(m);
    char err[768], id[64] = "";
    pthread_mutex_lock(&z->mu);
    snprintf(id, sizeof id, "%s", z->cluster_id);
    pthread_mutex_unlock(&z->mu);
    zk_session *s = id[0] ? NULL : mdzk_sess_begin(z, err, sizeof err);
    if (!id[0] && !s) {
        LOG_ERR("metadata", "%s", err);
        return -1;
    }
    for (int attempt = 0; s && attempt < CAS_ATTEMPTS; attempt++) {
        int r = read_node(z, s, ZK_PATH_CLUSTER_ID, dec_cluster_id, id, NULL, err, sizeof err);
        if (r == MD_ERR || r == MDZK_DAMAGED) {
            id[0] = 0;                   /* never a made-up one; never rewritten */
            if (r == MD_ERR)
                LOG_ERR("metadata", "%s", err);
        }
        if (r != MD_NOT_FOUND || !proposed || !proposed[0])
            break;
        /* None yet: propose ours; whoever loses the race reads the winner's. */
        char *body = zkl_cluster_id_encode(proposed);
        zk_rc c = body ? zk_ensure_path(s, "/cluster") : ZKR_ERROR;
        if (c == ZKR_OK)
            c = zk_create(s, ZK_PATH_CLUSTER_ID, body, strlen(body), ZKC_PERSISTENT, NULL, 0,
                          NULL);
        free(body);
        if (c == ZKR_OK) {
            snprintf(id, sizeof id, "%s", proposed);
            break;
        }
        if (c != ZKR_NODEEXISTS && c != ZKR_CONNLOSS) {
            LOG_ERR("metadata", "ZooKeeper at %s: cannot create %s: %s", z->connect,
                    ZK_PATH_CLUSTER_ID, zk_rc_str(c));
            break;
        }
    }
    if (s)
        mdzk_sess_end(z);
    if (!id[0])
        return -1;
    pthread_mutex_lock(&z->mu);
    snprintf(z->cluster_id, sizeof z->cluster_id, "%s", id);
    pthread_mutex_unlock(&z->mu);
    int n = snprintf(out, cap, "%s", id);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ------------------------------------------------------ per-entity writes */

/* Kafka's ZkNodeChangeNotificationListener deletes change notifications
 * older than 15 minutes (every broker has long seen them); here the writer
 * does it after each notification it adds, so /config/changes stays as
 * long as 15 minutes of changes however many users and quotas come and go.
 * Best effort: a failure leaves them for the next write. */
static void purge_changes(md_zk *z, zk_session *s)
{
    int64_t expiry = atomic_load(&z->change_expiry_ms);
    char **names = NULL;
    int n = 0;
    if (zk_children(s, ZK_PATH_CONFIG_CHANGES, false, &names, &n) != ZKR_OK)
        return;
    int64_t now = wall_ms();
    for (int i = 0; i < n; i++) {
        char path[ZKL_MAX_PATH];
        zk_stat st;
        if (strncmp(names[i], "config_change_", 14) ||
            snprintf(path, sizeof path, "%s/%s", ZK_PATH_CONFIG_CHANGES, names[i]) >=
                (int)sizeof path)
            continue;
        if (zk_exists(s, path, false, &st) == ZKR_OK && now - st.ctime_ms >= expiry)
            zk_delete(s, path, -1);
    }
    zk_free_strings(names, n);
}

/* A sequential /config/changes/config_change_ node naming the entity. */
static int notify_change(md_zk *z, zk_session *s, const char *entity_path, char *err,
                         size_t errlen)
{
    purge_changes(z, s);
    char *body = zkl_config_change_encode(entity_path);
    char path[ZKL_MAX_PATH];
    snprintf(path, sizeof path, "%s/config_change_", ZK_PATH_CONFIG_CHANGES);
    zk_rc rc = body ? zk_create(s, path, body, strlen(body), ZKC_SEQUENTIAL, NULL, 0, NULL)
                    : ZKR_ERROR;
    free(body);
    if (rc != ZKR_OK)
        return mdzk_fail(z, err, errlen, "cannot create %s for %s: %s", path, entity_path,
                     zk_rc_str(rc));
    return MD_OK;
}

/* Write a config entity whole (set or create). */
static int write_config(md_zk *z, zk_session *s, const char *path, const topic_kv *v, int n,
                        char *err, size_t errlen)
{
    if (n < 0 || n > ZKL_MAX_CONFIGS)
        return mdzk_fail(z, err, errlen, "%s: %d configs (at most %d)", path, n, ZKL_MAX_CONFIGS);
    char **keys = calloc((size_t)(n ? n : 1), sizeof *keys);
    char **vals = calloc((size_t)(n ? n : 1), sizeof *vals);
    for (int i = 0; keys && vals && i < n; i++) {
        keys[i] = v[i].key;
        vals[i] = v[i].value;
    }
    zkl_config c = { .keys = keys, .values = vals, .n = n };
    char *body = keys && vals ? zkl_config_encode(&c) : NULL;
    free(keys);
    free(vals);
    if (!body)
        return mdzk_fail(z, err, errlen, "out of memory writing %s", path);
    zk_rc rc = set_or_create(s, path, body);
    free(body);
    if (rc != ZKR_OK)
        return mdzk_fail(z, err, errlen, "cannot write %s: %s", path, zk_rc_str(rc));
    return MD_OK;
}

/* MD_OK when /brokers/topics/<name> exists, MD_NOT_FOUND, or MD_ERR. */
static int topic_exists(md_zk *z, zk_session *s, const char *name, char *err, size_t errlen)
{
    char path[ZKL_MAX_PATH];
    if (!topic_name_ok(name) || zkl_path_topic(path, sizeof path, name) < 0)
        return mdzk_fail(z, err, errlen, "bad topic name \"%s\"", name ? name : "");
    zk_rc rc = zk_exists(s, path, false, NULL);
    if (rc == ZKR_NONODE)
        return MD_NOT_FOUND;
    if (rc != ZKR_OK)
        return mdzk_fail(z, err, errlen, "cannot read %s: %s", path, zk_rc_str(rc));
    return MD_OK;
}

static int create_topic_in(md_zk *z, zk_session *s, const meta_topic *t, char *err,
                           size_t errlen)
{
    char path[ZKL_MAX_PATH], cpath[ZKL_MAX_PATH];
    int r = topic_exists(z, s, t->name, err, errlen);
    if (r == MD_OK) {
        mdzk_fail(z, err, errlen, "topic \"%s\" exists", t->name);
        return MD_EXISTS;
    }
    if (r != MD_NOT_FOUND)
        return r;
    if (t->partitions < 1 || t->partitions > ZKL_MAX_PARTITIONS ||
        (t->replicas && (t->replication_factor < 1 || t->replication_factor > ZKL_MAX_REPLICAS)))
        return mdzk_fail(z, err, errlen, "topic \"%s\": bad partition count %d or replication "
                     "factor %d", t->name, t->partitions, t->replication_factor);
    zkl_path_topic(path, sizeof path, t->name);
    if (zkl_path_topic_config(cpath, sizeof cpath, t->name) < 0)
        return mdzk_fail(z, err, errlen, "bad topic name \"%s\"", t->name);
    int32_t rf = t->replicas ? t->replication_factor : 1;
    int32_t *nrep = malloc((size_t)t->partitions * sizeof *nrep);
    int32_t **rows = malloc((size_t)t->partitions * sizeof *rows);
    int32_t *self_row = &z->base.self;
    char *body = NULL;
    if (nrep && rows) {
        for (int32_t p = 0; p < t->partitions; p++) {
            nrep[p] = rf;
            rows[p] = t->replicas ? &t->replicas[(size_t)p * (size_t)rf] : self_row;
        }
        zkl_assignment a = { .topic_id = t->id, .npartitions = t->partitions,
                             .nreplicas = nrep, .replicas = rows };
        body = zkl_assignment_encode(&a);
    }
    free(nrep);
    free(rows);
    if (!body)
        return mdzk_fail(z, err, errlen, "out of memory writing %s", path);
    /* Kafka's order: the config first, so whoever sees the topic finds it. */
    r = write_config(z, s, cpath, t->configs, t->nconfigs, err, errlen);
    zk_rc rc = r == MD_OK ? zk_create(s, path, body, strlen(body), ZKC_PERSISTENT, NULL, 0, NULL)
                          : ZKR_OK;
    free(body);
    if (r != MD_OK)
        return r;
    if (rc == ZKR_NODEEXISTS) {
        mdzk_fail(z, err, errlen, "topic \"%s\" exists", t->name);
        return MD_EXISTS;
    }
    if (rc != ZKR_OK)
        return mdzk_fail(z, err, errlen, "cannot create %s: %s", path, zk_rc_str(rc));
    return MD_OK;
}

int mdzk_create_topic(cluster_md *m, const meta_topic *t, char *err, size_t errlen)
{
    md_zk *z = Z(m);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    int r = create_topic_in(z, s, t, err, errlen);
    mdzk_sess_end(z);
    return r;
}

int mdzk_delete_topic(cluster_md *m, const char *name, char *err, size_t errlen)
{
    md_zk *z = Z(m);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    int r = topic_exists(z, s, name, err, errlen);
    if (r == MD_NOT_FOUND)
        mdzk_fail(z, err, errlen, "no topic \"%s\"", name);
    if (r == MD_OK) {
        char path[ZKL_MAX_PATH];
        snprintf(path, sizeof path, "%s/%s", ZK_PATH_DELETE_TOPICS, name);
        zk_rc rc = zk_create(s, path, "", 0, ZKC_PERSISTENT, NULL, 0, NULL);
        if (rc != ZKR_OK && rc != ZKR_NODEEXISTS)   /* already marked: same request */
            r = mdzk_fail(z, err, errlen, "cannot create %s: %s", path, zk_rc_str(rc));
    }
    mdzk_sess_end(z);
    return r;
}

int mdzk_set_topic_configs(cluster_md *m, const char *name, const topic_kv *v, int n,
                                char *err, size_t errlen)
{
    md_zk *z = Z(m);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    char path[ZKL_MAX_PATH], entity[ZKL_MAX_PATH];
    int r = topic_exists(z, s, name, err, errlen);
    if (r == MD_NOT_FOUND)
        mdzk_fail(z, err, errlen, "no topic \"%s\"", name);
    if (r == MD_OK) {
        zkl_path_topic_config(path, sizeof path, name);
        snprintf(entity, sizeof entity, "topics/%s", name);
        r = write_config(z, s, path, v, n, err, errlen);
        if (r == MD_OK)
            r = notify_change(z, s, entity, err, errlen);
    }
    mdzk_sess_end(z);
    return r;
}

int mdzk_set_broker_configs(cluster_md *m, bool cluster_default, const topic_kv *v, int n,
                                 char *err, size_t errlen)
{
    md_zk *z = Z(m);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    char path[ZKL_MAX_PATH], entity[ZKL_MAX_PATH];
    zkl_path_broker_config(path, sizeof path, cluster_default ? -1 : m->self);
    /* "brokers/<default>" or "brokers/N": the path under /config. */
    snprintf(entity, sizeof entity, "%s", path + strlen("/config/"));
    int r = write_config(z, s, path, v, n, err, errlen);
    if (r == MD_OK)
        r = notify_change(z, s, entity, err, errlen);
    mdzk_sess_end(z);
    return r;
}

int mdzk_add_partitions(cluster_md *m, const char *name, int32_t total, int32_t rf,
                        const int32_t *replicas, char *err, size_t errlen)
{
    md_zk *z = Z(m);
    char path[ZKL_MAX_PATH];
    if (!topic_name_ok(name) || zkl_path_topic(path, sizeof path, name) < 0)
        return mdzk_fail(z, err, errlen, "bad topic name \"%s\"", name ? name : "");
    if (rf < 1 || rf > ZKL_MAX_REPLICAS || total < 1 || total > ZKL_MAX_PARTITIONS)
        return mdzk_fail(z, err, errlen, "%s: bad partition count %d or replication factor %d",
                         path, total, rf);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    zkl_assignment a = { 0 };
    zk_stat st;
    int r = read_node(z, s, path, dec_assignment, &a, &st, err, errlen);
    if (r == MDZK_DAMAGED)
        r = MD_ERR;                      /* the message names it; never rewritten */
    int32_t *nrep = NULL, **rows = NULL;
    char *body = NULL;
    if (r == MD_OK && total <= a.npartitions)
        r = mdzk_fail(z, err, errlen, "%s already has %d partitions", path, a.npartitions);
    for (int32_t p = 0; r == MD_OK && p < a.npartitions; p++)
        if (zkl_assignment_reassigning(&a, p)) {
            mdzk_fail(z, err, errlen, "%s: partition %d is being reassigned; try again when "
                      "the reassignment is done", path, p);
            r = MD_BUSY;
        }
    if (r == MD_OK) {
        nrep = malloc((size_t)total * sizeof *nrep);
        rows = malloc((size_t)total * sizeof *rows);
        if (nrep && rows) {
            for (int32_t p = 0; p < total; p++) {
                bool old = p < a.npartitions;
                nrep[p] = old ? a.nreplicas[p] : rf;
                rows[p] = old ? a.replicas[p]
                              : (int32_t *)&replicas[(size_t)(p - a.npartitions) * (size_t)rf];
            }
            zkl_assignment na = { .topic_id = a.topic_id, .npartitions = total,
                                  .nreplicas = nrep, .replicas = rows };
            body = zkl_assignment_encode(&na);
        }
        if (!body)
            r = mdzk_fail(z, err, errlen, "out of memory writing %s", path);
    }
    if (r == MD_OK) {
        /* Compare-and-set: a concurrent change of the assignment wins and
         * this one fails (the caller reports it; the client retries). */
        zk_rc rc = zk_set(s, path, body, strlen(body), st.version, NULL);
        if (rc == ZKR_BADVERSION)
            r = mdzk_fail(z, err, errlen, "%s changed concurrently; try again", path);
        else if (rc != ZKR_OK)
            r = mdzk_fail(z, err, errlen, "cannot write %s: %s", path, zk_rc_str(rc));
    }
    free(body);
    free(nrep);
    free(rows);
    zkl_assignment_free(&a);
    mdzk_sess_end(z);
    return r;
}

/* ------------------------------------------- user and client-id entities */

/* Add entity `path` (relative to /config) with the configs of its znode;
 * an empty znode (a parent Kafka created for .../clients) or an empty
 * config adds nothing; a damaged one is reported and skipped. */
static int load_entity(md_zk *z, zk_session *s, const char *path, md_entities *out, int *cap,
                       char *err, size_t errlen)
{
    char full[ZKL_MAX_PATH], *data = NULL, derr[512];
    size_t len = 0;
    zk_stat st;
    if (snprintf(full, sizeof full, "/config/%s", path) >= (int)sizeof full)
        return MD_OK;
    zk_rc rc = mdzk_read(z, s, full, &data, &len, &st, err, errlen);
    if (rc == ZKR_NONODE)
        return MD_OK;
    if (rc != ZKR_OK)
        return MD_ERR;
    zkl_config c = { 0 };
    int r = len ? zkl_config_decode(data, len, &c, derr, sizeof derr) : 0;
    free(data);
    if (r < 0) {
        mdzk_damaged(z, s, full, &st, derr);
        return MD_OK;
    }
    if (c.n == 0) {
        zkl_config_free(&c);
        return MD_OK;
    }
    if (out->n == *cap) {
        int nc = *cap ? *cap * 2 : 16;
        md_entity *nv = realloc(out->v, (size_t)nc * sizeof *nv);
        if (!nv)
            goto nomem;
        out->v = nv;
        *cap = nc;
    }
    md_entity *e = &out->v[out->n++];
    memset(e, 0, sizeof *e);
    e->path = strdup(path);
    e->v = calloc((size_t)c.n, sizeof *e->v);
    if (!e->path || !e->v)
        goto nomem;
    for (int i = 0; i < c.n; i++) {
        e->v[i].key = strdup(c.keys[i]);
        e->v[i].value = strdup(c.values[i]);
        e->n++;
        if (!e->v[i].key || !e->v[i].value)
            goto nomem;
    }
    zkl_config_free(&c);
    return MD_OK;
nomem:
    zkl_config_free(&c);
    return mdzk_fail(z, err, errlen, "out of memory reading %s", full);
}

/* The children of a /config path (none when it is missing). */
static int entity_children(md_zk *z, zk_session *s, const char *path, char ***names, int *n,
                           char *err, size_t errlen)
{
    zk_rc rc = zk_children(s, path, false, names, n);
    if (rc == ZKR_NONODE) {
        *names = NULL;
        *n = 0;
        return MD_OK;
    }
    if (rc != ZKR_OK)
        return mdzk_fail(z, err, errlen, "cannot list %s: %s", path, zk_rc_str(rc));
    return MD_OK;
}

int mdzk_load_entities(cluster_md *m, md_entities *out, char *err, size_t errlen)
{
    md_zk *z = Z(m);
    memset(out, 0, sizeof *out);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    int cap = 0, r = MD_OK;
    static const char *const kinds[] = { "users", "clients" };
    for (int k = 0; r == MD_OK && k < 2; k++) {
        char dir[ZKL_MAX_PATH], **names = NULL;
        int n = 0;
        snprintf(dir, sizeof dir, "/config/%s", kinds[k]);
        r = entity_children(z, s, dir, &names, &n, err, errlen);
        for (int i = 0; r == MD_OK && i < n; i++) {
            char path[ZKL_MAX_PATH], sub[ZKL_MAX_PATH], **cl = NULL;
            int ncl = 0;
            if (snprintf(path, sizeof path, "%s/%s", kinds[k], names[i]) >= (int)sizeof path - 32)
                continue;
            r = load_entity(z, s, path, out, &cap, err, errlen);
            if (r != MD_OK || k != 0)
                continue;
            if (snprintf(sub, sizeof sub, "/config/%s/clients", path) >= (int)sizeof sub)
                continue;
            r = entity_children(z, s, sub, &cl, &ncl, err, errlen);
            for (int j = 0; r == MD_OK && j < ncl; j++) {
                char cpath[ZKL_MAX_PATH];
                if (snprintf(cpath, sizeof cpath, "%s/clients/%s", path, cl[j]) <
                    (int)sizeof cpath)
                    r = load_entity(z, s, cpath, out, &cap, err, errlen);
            }
            zk_free_strings(cl, ncl);
        }
        zk_free_strings(names, n);
    }
    mdzk_sess_end(z);
    if (r != MD_OK)
        md_entities_free(out);
    return r;
}

int mdzk_load_entity(cluster_md *m, const char *path, md_entities *out, char *err,
                     size_t errlen)
{
    md_zk *z = Z(m);
    memset(out, 0, sizeof *out);
    if (strncmp(path, "users/", 6) && strncmp(path, "clients/", 8))
        return mdzk_fail(z, err, errlen, "bad entity path \"%s\"", path);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    int cap = 0, r = load_entity(z, s, path, out, &cap, err, errlen);
    mdzk_sess_end(z);
    if (r != MD_OK)
        md_entities_free(out);
    return r;
}

int mdzk_set_entity_configs(cluster_md *m, const char *path, const topic_kv *v, int n, char *err,
                            size_t errlen)
{
    md_zk *z = Z(m);
    char full[ZKL_MAX_PATH];
    if ((strncmp(path, "users/", 6) && strncmp(path, "clients/", 8)) ||
        snprintf(full, sizeof full, "/config/%s", path) >= (int)sizeof full)
        return mdzk_fail(z, err, errlen, "bad entity path \"%s\"", path);
    zk_session *s = mdzk_sess_begin(z, err, errlen);
    if (!s)
        return MD_ERR;
    int r = MD_OK;
    /* users/U/clients/C: its parents first (Kafka creates them empty). */
    char *last = strrchr(full, '/');
    *last = 0;
    zk_rc rc = zk_ensure_path(s, full);
    if (rc != ZKR_OK)
        r = mdzk_fail(z, err, errlen, "cannot create %s: %s", full, zk_rc_str(rc));
    *last = '/';
    /* No configs left: Kafka writes the empty config (the znode stays). */
    if (r == MD_OK)
        r = write_config(z, s, full, v, n, err, errlen);
    if (r == MD_OK)
        r = notify_change(z, s, path, err, errlen);
    mdzk_sess_end(z);
    return r;
}
