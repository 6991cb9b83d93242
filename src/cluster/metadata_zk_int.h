/*
 * metadata_zk_int.h - what the two halves of the ZooKeeper metadata store
 * share (metadata_zk.c: session, registration, watches; metadata_zk_data.c:
 * load, partition state, producer ids, cluster id, per-entity writes).
 * Private to them; everyone else uses metadata_zk.h.
 */
#ifndef SAMSA_CLUSTER_METADATA_ZK_INT_H
#define SAMSA_CLUSTER_METADATA_ZK_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "cluster/metadata_zk.h"
#include "cluster/zk_damage.h"

typedef struct md_zk {
    cluster_md base;
    char connect[1024];
    int session_ms, conn_ms;
    md_broker self;
    char self_path[64];

    pthread_rwlock_t sess_lock;
    zk_session *zs;              /* sess_lock */
    atomic_llong broker_epoch;
    atomic_bool expired;
    /* Highest /config/changes sequence number already reported (event
     * thread; set at open as the baseline). */
    atomic_llong last_change;
    /* Age past which a writer deletes /config/changes notifications
     * (Kafka's 15 minutes; md_zk_set_change_expiry for tests). */
    atomic_llong change_expiry_ms;

    pthread_mutex_t qmu;
    pthread_cond_t qcv;
    unsigned pending;            /* qmu: Q_* bits for the event thread */
    bool self_gone;              /* qmu: a watch saw self_path deleted */
    pthread_t thread;
    bool thread_started;
    /* The session lease (md_zk_session_confirmed_ms): the monotonic time at
     * which a request that ZooKeeper answered as this session's was sent. */
    atomic_llong confirmed_ms;
    pthread_t lease_thread;
    bool lease_started, lease_stop;   /* lease_stop: qmu */

    pthread_mutex_t mu;
    md_brokers *brokers;         /* mu */
    char cluster_id[64];         /* mu; "" = not read yet */
    /* Znodes found damaged: each version reported once, a data watch armed
     * on it so its repair re-reads (any thread; its own lock). */
    zk_damage damaged;
    /* md_zk_open_checked only, during the open (setup_session). */
    const char *expect_cluster_id;
    char *zk_id_out;
    size_t zk_id_cap;
    bool *mismatch;
} md_zk;

#define Z(m) ((md_zk *)(m))

/* Within the store only: a znode exists but its data does not decode
 * (mdzk_damaged has reported it); never returned through cluster_md. */
#define MDZK_DAMAGED (-10)

/* "ZooKeeper at <connect>: <message>" into err; returns MD_ERR. */
int mdzk_fail(const md_zk *z, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The session for one operation, read-locked; NULL (lock released, err
 * set) when it has expired.  Every non-NULL return is paired with
 * mdzk_sess_end. */
/* A znode whose data does not decode (what: the decoder's message):
 * reported once per version as an error naming path, left as it is, and
 * watched, so a repair makes the store re-read (MD_EV_TOPICS, or
 * MD_EV_BROKERS under /brokers/ids).  st NULL: read its stat here. */
void mdzk_damaged(md_zk *z, zk_session *s, const char *path, const zk_stat *st,
                  const char *what);
/* path decoded: report the repair if it had been damaged. */
void mdzk_repaired(md_zk *z, const char *path);
zk_session *mdzk_sess_begin(md_zk *z, char *err, size_t errlen);
void mdzk_sess_end(md_zk *z);
/* Read a znode; on anything but OK and NONODE, err names it. */
zk_rc mdzk_read(md_zk *z, zk_session *s, const char *path, char **data, size_t *len,
                zk_stat *st, char *err, size_t errlen);

/* The data operations of the ops table (metadata_zk_data.c; admin thread
 * but cluster_id, which any thread may call). */
int mdzk_load(cluster_md *m, meta_state *out, char *err, size_t errlen);
int mdzk_store(cluster_md *m, const meta_state *st, char *err, size_t errlen);
partition_state *mdzk_partition_state(cluster_md *m, const meta_topic *t, int32_t p);
int mdzk_reserve_pids(cluster_md *m, int64_t count, int64_t *first, char *err, size_t errlen);
int mdzk_cluster_id(cluster_md *m, const char *proposed, char *out, size_t cap);
int mdzk_create_topic(cluster_md *m, const meta_topic *t, char *err, size_t errlen);
int mdzk_delete_topic(cluster_md *m, const char *name, char *err, size_t errlen);
int mdzk_add_partitions(cluster_md *m, const char *name, int32_t total, int32_t rf,
                        const int32_t *replicas, char *err, size_t errlen);
int mdzk_set_topic_configs(cluster_md *m, const char *name, const topic_kv *v, int n, char *err,
                           size_t errlen);
int mdzk_set_broker_configs(cluster_md *m, bool cluster_default, const topic_kv *v, int n,
                            char *err, size_t errlen);
int mdzk_load_entities(cluster_md *m, md_entities *out, char *err, size_t errlen);
int mdzk_load_entity(cluster_md *m, const char *path, md_entities *out, char *err,
                     size_t errlen);
int mdzk_set_entity_configs(cluster_md *m, const char *path, const topic_kv *v, int n, char *err,
                            size_t errlen);

#endif
