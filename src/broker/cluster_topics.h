/*
 * cluster_topics.h - the topic registry in cluster mode: kept in line with
 * ZooKeeper, and the admin operations that write ZooKeeper instead of the
 * local metadata file (cluster_topics.c says how).  Admin thread only.
 */
#ifndef SAMSA_BROKER_CLUSTER_TOPICS_H
#define SAMSA_BROKER_CLUSTER_TOPICS_H

#include "broker/broker.h"

/* Make the registry hold exactly the topics of the store: add new ones
 * (opening or creating the logs of the partitions assigned here), grow
 * partition counts, take config changes, drop deleted topics.  -1 with a
 * message when the store cannot be read or a log cannot be opened (the
 * rest is still applied). */
int cluster_topics_sync(broker *b, char *err, size_t errlen);
/* Forget a topic here: stop fetching it, delete its local logs. */
void cluster_topic_drop(broker *b, const char *name);
/* A replica of p assigned here by a reassignment (LeaderAndIsr names this
 * broker; C26): its local log, created (or the one on disk opened) and
 * attached unless p already has a live one.  -1 on a storage error. */
int cluster_replica_open(broker *b, topic *t, partition *p);
/* This broker is no longer a replica of p (StopReplica with deletion
 * after a reassignment; C21): stop fetching, delete the local log (p->log
 * stays a valid, deleted log until a new one is attached). */
void cluster_replica_delete(broker *b, partition *p);
/* True when p has a local log that has not been deleted. */
bool cluster_replica_hosted(broker *b, partition *p);

/* The admin operations of admin.h in cluster mode, after their shared
 * validation: they write ZooKeeper, then sync. */
/* assignment: partitions x rf broker ids (validated by the caller), or
 * NULL to place the replicas over the live brokers. */
int16_t cluster_topic_create(broker *b, const char *name, int32_t partitions, int16_t rf,
                             const int32_t *assignment, const topic_kv *configs, int nconfigs,
                             kuuid *id_out, char *msg, size_t msglen);
int16_t cluster_topic_delete(broker *b, const char *name, kuuid *id_out, char *msg,
                             size_t msglen);
int16_t cluster_topic_add_partitions(broker *b, topic *t, int32_t total, char *msg,
                                     size_t msglen);
/* Replace t's overrides with v[0..n). */
int16_t cluster_topic_set_configs(broker *b, topic *t, const topic_kv *v, int n, char *msg,
                                  size_t msglen);

#endif
