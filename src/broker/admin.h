/*
 * admin.h - topic administration and the worker thread it runs on.
 *
 * Creating, deleting and altering topics touches the filesystem (partition
 * directories, the metadata file with fsync), so it never runs on a network
 * thread.  Handlers submit an admin_job: `work` runs on the single admin
 * thread, which also serialises every metadata change; `done` then runs back
 * on the request's loop to build the response.
 *
 * The topic_admin_* functions run on the admin thread only.  Each returns a
 * Kafka error code and, on failure, a message for the response.
 */
#ifndef SAMSA_BROKER_ADMIN_H
#define SAMSA_BROKER_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/broker.h"
#include "server/request.h"

typedef struct admin_job admin_job;
struct admin_job {
    kreq *rq;
    void (*work)(admin_job *job);     /* admin thread */
    void (*done)(admin_job *job);     /* request's loop thread */
    void *arg;
    admin_job *next;
};

int admin_worker_start(broker *b);
void admin_worker_stop(broker *b);
/* Queue work for rq.  The job is freed after done() returns. */
void admin_submit(broker *b, kreq *rq, void (*work)(admin_job *), void (*done)(admin_job *),
                  void *arg);

/* Queue work of the broker's own (no request, no response): job->rq is
 * NULL, the job is freed after work() returns.  -1 when out of memory or
 * the worker is stopping (work never runs; arg stays the caller's). */
int admin_post(broker *b, void (*work)(admin_job *), void *arg);

/* Run fn on the admin thread and wait for it (any other thread), so it is
 * serialised with every admin job; inline when the worker is not running.
 * Never from the admin thread itself. */
void admin_run(broker *b, void (*fn)(broker *b, void *arg), void *arg);

/* Load topics from the metadata store and attach their logs (startup). */
int topic_admin_load(broker *b, char *err, size_t errlen);

int16_t topic_admin_create(broker *b, const char *name, int32_t partitions, int16_t replication,
                           const topic_kv *configs, int nconfigs, bool validate_only,
                           kuuid *id_out, char *msg, size_t msglen);
/* The same with an explicit assignment (partitions x replication broker
 * ids, row by row; cluster mode only: NULL = placed over live brokers). */
int16_t topic_admin_create_assigned(broker *b, const char *name, int32_t partitions,
                                    int16_t replication, const int32_t *assignment,
                                    const topic_kv *configs, int nconfigs, bool validate_only,
                                    kuuid *id_out, char *msg, size_t msglen);
int16_t topic_admin_delete(broker *b, const char *name, kuuid *id_out, char *msg, size_t msglen);
int16_t topic_admin_add_partitions(broker *b, const char *name, int32_t total, bool validate_only,
                                   char *msg, size_t msglen);
/* Create __consumer_offsets (compacted, offsets.topic.* settings) unless
 * it exists, and tell the group coordinator.  KERR_NONE when it exists. */
int16_t topic_admin_ensure_offsets_topic(broker *b, char *msg, size_t msglen);
/* The same for __transaction_state (transaction.state.log.*: compacted,
 * min.insync.replicas = transaction.state.log.min.isr capped at the
 * replication factor); the transaction coordinator is told. */
int16_t topic_admin_ensure_txn_topic(broker *b, char *msg, size_t msglen);
/* Replace (incremental=false) or edit a topic's overrides; validates all
 * first, applies none on error. */
int16_t topic_admin_set_configs(broker *b, const char *name, const topic_kv *set, int nset,
                                bool replace_all, bool validate_only, char *msg, size_t msglen);

/* Effective log settings of a topic with these overrides under cfg (also
 * the topic's min.insync.replicas when min_isr is set).  KERR_INVALID_CONFIG
 * with a message when an override is invalid. */
struct broker_config;
typedef struct log_config log_config;
int log_config_for_overrides(const struct broker_config *cfg, const topic_kv *kv, int n,
                             log_config *out, int32_t *min_isr, char *err, size_t errlen);

/* Dynamic broker configs (AlterConfigs on BROKER resources). */
int16_t broker_admin_set_configs(broker *b, bool cluster_default, const topic_kv *kv,
                                 const int *ops, int n, bool replace_all, bool validate_only,
                                 char *msg, size_t msglen);

/* Cluster mode: take the dynamic broker layers another broker changed
 * (as read back from the store), if they differ from ours. */
void broker_admin_follow_dynamic(broker *b, const meta_state *st);
/* Publish the dynamic broker config loaded from the metadata store. */
int broker_admin_apply_dynamic_at_start(broker *b, char *err, size_t errlen);

/* Register p's log with the flush scheduler (its flushes wake p's
 * watchers), once, when the partition is published. */
void topic_admin_attach_partition(broker *b, partition *p);
/* Re-read t's replication throttles for this broker (topic.h
 * throttled_set) from its config overrides.  Admin thread. */
void topic_admin_refresh_throttles(broker *b, topic *t);
/* Recompute t's effective settings (log configs, min.insync.replicas)
 * after its overrides or the broker defaults changed. */
void topic_admin_refresh_settings(broker *b, topic *t);

/* Producer ids for InitProducerId: blocks reserved durably in the
 * metadata store, so ids are never reused across restarts. */
int64_t producer_id_allocate(broker *b);

#endif
