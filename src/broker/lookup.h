/*
 * lookup.h - resolve (topic name or id, partition) from a request to the
 * live partition, with the Kafka error for each way it can fail.
 */
#ifndef SAMSA_BROKER_LOOKUP_H
#define SAMSA_BROKER_LOOKUP_H

#include "broker/broker.h"
#include "proto/schema.h"

/* On success returns KERR_NONE and a referenced topic in *t (drop it with
 * topic_unref) and its partition in *p.  UNKNOWN_TOPIC_OR_PARTITION for an
 * unknown name or index, UNKNOWN_TOPIC_ID for an unknown id (name.len < 0
 * selects lookup by id), KAFKA_STORAGE_ERROR for a partition without a log. */
int16_t lookup_partition(broker *b, kstr name, kuuid id, int32_t index, topic **t, partition **p);

/* A client's current_leader_epoch against ours: NONE when it is -1 (not
 * sent) or equal, UNKNOWN_LEADER_EPOCH when newer, FENCED_LEADER_EPOCH when
 * older. */
int16_t partition_check_epoch(partition *p, int32_t requested);

#endif
