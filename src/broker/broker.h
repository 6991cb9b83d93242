/*
 * broker.h - the broker's shared context and the settings its core reads.
 *
 * One `broker` exists per process, owned by main() and passed to whoever
 * needs it (handlers: broker_of(rq)); there is no global pointer to it.
 * Subsystems keep their own locks; this struct only ties them together and
 * is immutable after startup except where a field names its lock or is
 * atomic.  `broker_settings` is the typed
 * view of the configuration the request path needs; main.c fills it from
 * the config module (config/config.h) so the core never parses strings.
 */
#ifndef SAMSA_BROKER_BROKER_H
#define SAMSA_BROKER_BROKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/metadata_store.h"
#include "cluster/topic_registry.h"
#include "core/rate.h"
#include "core/uuid.h"
#include "net/loop.h"
#include "server/request.h"
#include "server/server.h"

struct log_manager;
struct fetch_sessions;
struct admin_worker;
struct coordinator;
struct txn_coordinator;
struct broker_config;
struct cluster_md;
struct repl_fetchers;
struct controller;
struct controller_link;

typedef struct broker_settings {
    int32_t node_id;
    endpoint listen[MAX_LISTENERS];     /* what we bind */
    endpoint adv[MAX_LISTENERS];        /* what clients are told, same order */
    int nlisteners;
    char rack[128];                     /* "" = none */
    int num_network_threads;
    int32_t socket_request_max_bytes;
    int64_t connections_max_idle_ms;
    int32_t num_partitions;
    int16_t default_replication_factor;
    bool auto_create_topics;
    bool delete_topic_enable;
    int32_t message_max_bytes;
    int max_fetch_sessions;             /* max.incremental.fetch.session.cache.slots */
    int32_t offsets_topic_num_partitions;
    int32_t zookeeper_session_timeout_ms;   /* cluster mode: the session lease (C13) */
    /* The inter-broker listener (config_inter_broker.c): its name, looked
     * up in other brokers' registrations, and its index in listen[]. */
    char ib_listener[64];
    int ib_index;
} broker_settings;

typedef struct broker {
    broker_settings set;
    /* The parsed configuration; replaced (never edited) by dynamic broker
     * config changes on the admin thread.  Old versions are kept until
     * shutdown so readers never see freed memory. */
    _Atomic(const struct broker_config *) config;
    const struct broker_config *static_config;   /* file + overrides, as started */
    /* Dynamic broker config layers (admin thread only): the cluster
     * default (resource "") and this broker's own (resource "<id>"). */
    struct topic_overrides *dyn_default, *dyn_broker;
    struct broker_config **retired_configs;      /* freed at exit */
    int nretired_configs;
    char cluster_id[64];
    char metadata_dir[4096];            /* where samsa-metadata.json lives */
    /* samsa-metadata.json as read at startup (topic configs while the logs
     * load, then topic_admin_load); freed when storage closes. */
    meta_state loaded;

    /* The cluster metadata (cluster/metadata.h; the local store today).
     * Writes on the admin thread; live brokers readable anywhere. */
    struct cluster_md *md;
    topic_registry topics;
    struct log_manager *logs;
    struct fetch_sessions *sessions;
    struct admin_worker *admin;
    struct coordinator *coord;          /* the group coordinator (its own thread) */
    struct txn_coordinator *txn;        /* the transaction coordinator (its own threads) */
    struct txn_verifier *txn_verify;    /* KIP-890 partition verification (rpc/txn_verify.h) */
    struct repl_fetchers *fetchers;     /* follower fetcher threads (repl/fetcher.h) */
    /* Bytes sent to throttled followers (leader.replication.throttled.rate):
     * recorded and checked by the follower fetch path only when a rate is
     * set; any thread. */
    rate_window leader_quota;
    /* User and client-id entities: SCRAM credentials and client quotas
     * (broker/entities.h); any thread reads, the admin thread reloads. */
    struct entities *ents;
    struct isr_manager *isr;            /* the leader's ISR manager (repl/isr_manager.h);
                                           NULL in embedded mode */

    /* The request pipeline: network threads, listeners, connection
     * limits; its ctx is this broker (broker_of). */
    server srv;

    /* Producer ids: handed out from blocks reserved durably in the
     * metadata store (admin thread only). */
    int64_t next_producer_id;
    int64_t next_producer_id_block;     /* end of the block being handed out */

    /* When the "too few brokers for __consumer_offsets" warning was last
     * logged (admin thread; monotonic ms). */
    int64_t offsets_topic_warned_ms;
    int64_t txn_topic_warned_ms;        /* the same for __transaction_state */

    /* Highest controller epoch a LeaderAndIsr carried (admin thread). */
    int32_t controller_epoch;

    /* Cluster mode (zookeeper.connect set; docs/cluster.md).  Immutable
     * after startup. */
    bool cluster_mode;
    /* This broker's controller candidate (cluster/controller.h); NULL in
     * embedded mode.  Active on at most one broker of the cluster. */
    struct controller *controller;
    struct controller_link *ctl_link;   /* its channel to the brokers */
    /* How every broker-to-broker kclient connects (inter_broker.h): the
     * inter-broker listener's protocol, TLS context and SASL identity;
     * NULL = PLAINTEXT.  Built before any thread starts, freed at exit. */
    struct kclient_security *ib_sec;
    /* Set at the start of shutdown: this broker stops leading (every data
     * request gets NOT_LEADER_OR_FOLLOWER) before it leaves ZooKeeper, so
     * clients move to the new leaders the controller elects. */
    atomic_bool stopping;
    /* Cluster mode: ZooKeeper expired this broker's session, so the
     * controller may have moved its leaderships already; until the first
     * controller request stamped with the new registration's broker epoch
     * is accepted, it leads nothing (data requests: NOT_LEADER_OR_FOLLOWER;
     * Metadata does not name it leader).  docs/cluster.md C13. */
    atomic_bool fenced;
    /* The active controller as the last controller request named it (-1:
     * not known yet); any thread. */
    _Atomic int32_t controller_id;

    /* ACLs (broker/authz.h): NULL when authorizer.class.name is empty, so
     * every check is one branch.  Immutable pointers after startup; the
     * index has its own lock, the store is used on the admin thread. */
    struct acl_authz *authz;
    struct acl_store *acl_store;
} broker;

/* C13: may this broker act as a leader now?  Not while stopping, not
 * while fenced after a lost session, and in cluster mode only while its
 * ZooKeeper session lease is fresh (confirmed within the session
 * timeout: metadata_zk.h md_zk_session_confirmed_ms).  Any thread. */
bool broker_may_lead(broker *b);

/* The broker a request's handler works for (the server's context). */
static inline broker *broker_of(const kreq *rq)
{
    return kreq_ctx(rq);
}

static inline const struct broker_config *broker_config_current(broker *b)
{
    return atomic_load_explicit(&b->config, memory_order_acquire);
}

/* Storage lifecycle (broker_storage.c): lock and load the log dirs, learn
 * or create the cluster id; at shutdown close every log (clean = write the
 * clean-shutdown marker).  broker_quiesce() flushes and drains in-flight
 * work before the network threads stop. */
int broker_storage_open(broker *b, const struct broker_config *cfg, char *err, size_t errlen);
int broker_storage_close(broker *b, bool clean);
/* This broker as the metadata lists it: id, rack, advertised endpoints. */
struct md_broker;
void broker_self_description(const broker *b, struct md_broker *out);
void broker_quiesce(broker *b);
/* Answer every parked request now (what is satisfied as such, a produce
 * still waiting for replicas with NOT_LEADER_OR_FOLLOWER once `stopping`
 * is set): a broker leaving the cluster, whose leaderships moved, must not
 * hold an idempotent producer's in-flight batch until its shutdown ends. */
void broker_answer_parked(broker *b);
/* Start the transaction coordinator (handle_txn.c): b->txn, and the
 * partition verifier b->txn_verify. */
int broker_txn_start(broker *b, char *err, size_t errlen);

/* The endpoint advertised for connections accepted on listener `idx`. */
static inline const endpoint *broker_advertised(const broker *b, int idx)
{
    return &b->set.adv[idx >= 0 && idx < b->set.nlisteners ? idx : 0];
}

#endif
