/*
 * placement.h - where the replicas of new partitions go (CreateTopics,
 * CreatePartitions), with Kafka's own assignment algorithm so a topic
 * lands on a Samsa cluster as it would on Kafka:
 *
 *   - rack-unaware: brokers sorted by id; the first replica of partition p
 *     on broker (p + start) mod n; the others follow at a shift that grows
 *     by one every n partitions, so leaders and followers both spread
 *     evenly and no two partitions of a topic share the same follower
 *     pattern more than needed;
 *   - rack-aware (every broker has a `broker.rack`): the same walk over a
 *     broker list that alternates racks (racks sorted, brokers sorted in
 *     each rack, one from each rack in turn), and each further replica goes
 *     to the next broker in a rack that holds no replica of the partition
 *     yet, and that is not already a replica, while such a rack or broker
 *     remains.
 *
 * `start` (first-replica index) and `shift` are random in Kafka for a new
 * topic, so topics' leaders do not pile up on broker 0; for
 * CreatePartitions Kafka passes first_partition = the current count and
 * start = shift = the index of partition 0's first replica in the sorted
 * list.  -1 = random; tests pass fixed values.  Pure functions; any thread.
 */
#ifndef SAMSA_CLUSTER_PLACEMENT_H
#define SAMSA_CLUSTER_PLACEMENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct placement_broker {
    int32_t id;
    const char *rack;            /* NULL or "" = none */
} placement_broker;

/* Errors, with Kafka's codes where a client sees them. */
enum placement_err {
    PLACEMENT_OK = 0,
    PLACEMENT_BAD_RF,            /* rf < 1, or rf > brokers: INVALID_REPLICATION_FACTOR */
    PLACEMENT_MIXED_RACKS,       /* some brokers have a rack, some not: INVALID_REPLICA_ASSIGNMENT */
    PLACEMENT_NOMEM,
};

/* Assign partitions [first_partition, first_partition + nparts) of a topic
 * over `brokers` (any order; at most 1,000,000 brokers), rf replicas each.
 * out: nparts * rf broker ids (caller-allocated), partition by partition,
 * first replica = preferred leader. */
enum placement_err placement_assign(const placement_broker *brokers, int nbrokers, int32_t nparts,
                                    int16_t rf, int32_t first_partition, int start, int shift,
                                    int32_t *out);

#endif
