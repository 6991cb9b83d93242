/*
 * partition_state.h - who leads a partition, at which epoch, and which
 * replicas are assigned, in sync and offline.
 *
 * A partition_state is an immutable, reference-counted snapshot.  The
 * partition holds one (topic.h `partition.state`); readers on any thread
 * take their own reference with partition_state_get() and drop it with
 * pstate_unref(), so a snapshot never changes or disappears under them.
 * The only way to change a partition's state is partition_set_state()
 * (the local metadata store at load and creation, a controller's
 * LeaderAndIsr later, the test hook today), which swaps the snapshot under
 * the partition's state_lock.  Invariants (docs/cluster-metadata.md):
 *   M1  a partition's leader epoch never decreases;
 *   M2  partition state changes only through partition_set_state;
 *   M3  a snapshot is never modified after it is published.
 */
#ifndef SAMSA_CLUSTER_PARTITION_STATE_H
#define SAMSA_CLUSTER_PARTITION_STATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* A replica list longer than this is refused (Kafka has no fixed cap, but
 * a replication factor above the broker count is invalid anyway). */
#define PSTATE_MAX_REPLICAS 256

typedef struct partition_state {
    atomic_int refs;
    int32_t leader;              /* broker id; -1 = no leader */
    int32_t leader_epoch;
    int32_t partition_epoch;     /* znode version: compare-and-set token */
    int32_t controller_epoch;    /* of the controller that set it; -1 = local */
    int32_t nreplicas, nisr, noffline;
    const int32_t *replicas, *isr, *offline;   /* point into ids[] */
    int32_t ids[];
} partition_state;

/* What a caller proposes; copied by pstate_new. */
typedef struct pstate_spec {
    int32_t leader, leader_epoch, partition_epoch, controller_epoch;
    const int32_t *replicas, *isr, *offline;
    int32_t nreplicas, nisr, noffline;
} pstate_spec;

/* A new snapshot with one reference, or NULL (out of memory, or a list
 * longer than PSTATE_MAX_REPLICAS or negative). */
partition_state *pstate_new(const pstate_spec *s);
/* The single-broker state: leader = replicas = ISR = {self}, epoch e. */
partition_state *pstate_local(int32_t self, int32_t leader_epoch);
void pstate_ref(partition_state *s);
void pstate_unref(partition_state *s);
bool pstate_in_isr(const partition_state *s, int32_t broker);

#endif
