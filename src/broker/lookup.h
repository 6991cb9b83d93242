/*
 * lookup.h - resolve what a request names to what this broker serves: a
 * (topic name or id, partition) to the live partition, with the Kafka error
 * for each way it can fail, and a broker id to the endpoint a client on
 * the request's listener should use.
 */
#ifndef SAMSA_BROKER_LOOKUP_H
#define SAMSA_BROKER_LOOKUP_H

#include "broker/broker.h"
#include "server/request.h"
#include "core/errors.h"
#include "proto/schema.h"

/* Who leads a partition, for the CurrentLeader fields of KIP-951.
 * -1/-1 when unknown. */
typedef struct leader_hint {
    int32_t leader_id;
    int32_t leader_epoch;
} leader_hint;

/* Resolve a partition for a data request (Produce, Fetch, ListOffsets,
 * DeleteRecords, OffsetForLeaderEpoch).  On success returns KERR_NONE and a
 * referenced topic in *t (drop it with topic_unref) and its partition in
 * *p.  Errors, in Kafka's order:
 *   UNKNOWN_TOPIC_OR_PARTITION  unknown name or index
 *   UNKNOWN_TOPIC_ID            unknown id (name.len < 0 selects by id)
 *   FENCED_LEADER_EPOCH         current_leader_epoch older than ours  (M5)
 *   UNKNOWN_LEADER_EPOCH        current_leader_epoch newer than ours  (M5)
 *   NOT_LEADER_OR_FOLLOWER      this broker does not lead it           (M4)
 *   KAFKA_STORAGE_ERROR         a partition without a log
 * current_leader_epoch -1 = not sent.  hint (may be NULL) receives the
 * partition's leader and epoch whenever the partition exists. */
int16_t lookup_partition(broker *b, kstr name, kuuid id, int32_t index,
                         int32_t current_leader_epoch, leader_hint *hint, topic **t, partition **p);

/* The epoch and leadership checks of lookup_partition alone, for a
 * partition already resolved (a parked Fetch re-checks them when woken). */
int16_t lookup_recheck(broker *b, partition *p, int32_t current_leader_epoch, leader_hint *hint);


/* True for the errors after which Kafka tells the client the current
 * leader (Produce v10+, Fetch v12+; KIP-951). */
static inline bool lookup_error_names_leader(int16_t err)
{
    return err == KERR_NOT_LEADER_OR_FOLLOWER || err == KERR_FENCED_LEADER_EPOCH;
}

/* A live broker as a client on rq's listener reaches it; strings live in
 * the request arena. */
typedef struct broker_view {
    int32_t id;
    kstr host;
    int32_t port;
    kstr rack;                   /* len -1 = none */
} broker_view;

/* All live brokers (sorted by id) into *out (request arena): their count,
 * or -1 when out of memory. */
int lookup_live_brokers(broker *b, kreq *rq, broker_view **out);
/* One live broker; false when it is not live (or out of memory). */
bool lookup_broker(broker *b, kreq *rq, int32_t id, broker_view *out);
/* The live brokers among ids[0..n) (each once, in first-seen order) into
 * *out (request arena), for a response's NodeEndpoints: their count, or
 * -1 when out of memory. */
int lookup_brokers_named(broker *b, kreq *rq, const int32_t *ids, int n, broker_view **out);

#endif
