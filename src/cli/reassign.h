/*
 * reassign.h - what `samsa cluster reassign` (cmd_cluster_reassign.c)
 * is built from, kept pure (no I/O, no librdkafka) so the unit tests link
 * it alone:
 *
 *   reassign_plan.c  the planner (a balanced move of replicas onto a set
 *                    of brokers, RF and racks kept, as few moves as it
 *                    can) and Kafka's reassignment JSON, read and written
 *   reassign_wire.c  AlterPartitionReassignments v0, ListPartition-
 *                    Reassignments v0 and IncrementalAlterConfigs v0:
 *                    request encoders and response decoders
 *
 * Memory: a plan owns its arrays (reassign_plan_free).
 */
#ifndef SAMSA_CLI_REASSIGN_H
#define SAMSA_CLI_REASSIGN_H

#include <stddef.h>
#include <stdint.h>

#include "cli/meta.h"

#define RA_MAX_RF 64              /* replicas per partition the tool handles */

typedef struct ra_move {
    char *topic;
    int32_t partition;
    int32_t nold, nnew;
    int32_t old[RA_MAX_RF];       /* current replicas ([] when read from JSON) */
    int32_t new_[RA_MAX_RF];      /* target replicas, preferred leader first */
} ra_move;

typedef struct ra_plan {
    ra_move *v;                   /* only partitions whose replicas change */
    int n, cap;
    int64_t partitions;           /* partitions considered */
    int64_t replicas_moved;       /* target replicas not in the current set */
} ra_plan;

void ra_plan_free(ra_plan *p);

/* Plan a move of every partition of the selected topics of m onto the
 * brokers `to` (each must be in m): replicas on brokers outside `to` move
 * to the least-loaded broker of `to` that does not hold the partition,
 * preferring a rack the partition does not use yet; then replicas move
 * from the most to the least loaded broker until the replica counts differ
 * by at most one, a move allowed only when it keeps the partition's racks
 * distinct (or the same rack).  A new replica takes the position of the
 * one it replaces, so preferred leaders move with their replica.
 * topics: NULL = every topic (internal ones too); else a NULL-terminated
 * list.  0, or -1 with a reason in err (an unknown broker, a partition
 * with more replicas than brokers in `to`, out of memory). */
int ra_plan_make(const cli_meta_t *m, const char *const *topics, const int32_t *to, int nto,
                 ra_plan *out, char *err, size_t errlen);

/* Kafka's reassignment JSON, as kafka-reassign-partitions.sh writes and
 * reads it: {"version":1,"partitions":[{"topic":T,"partition":P,
 * "replicas":[...],"log_dirs":["any",...]}]}.  _json returns a malloc'd
 * string (NULL: out of memory); _parse fills out (old replicas empty). */
char *ra_plan_json(const ra_plan *p);
int ra_plan_parse(const char *json, size_t len, ra_plan *out, char *err, size_t errlen);

/* ---- wire (reassign_wire.c) ---- */

/* AlterPartitionReassignments v0: moves[i].new_ (nnew < 0: cancel).
 * Frame with its size prefix; 0 when it does not fit in cap. */
size_t ra_encode_alter(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                       const ra_move *moves, int n, int32_t timeout_ms);
/* Its answer: top-level error (and message into msg), and per partition
 * the error of moves[i] into errs[i] (0 when the answer omits it).  -1
 * when the bytes do not decode. */
int ra_decode_alter(const uint8_t *p, size_t len, int32_t corr, const ra_move *moves, int n,
                    int16_t *errs, char *msg, size_t msglen, int16_t *top);

/* ListPartitionReassignments v0 of every partition (topics null). */
size_t ra_encode_list(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                      int32_t timeout_ms);
/* Its answer into out (replicas = the current set, old = removing,
 * new_ = adding), top-level error in *top; -1 when it does not decode. */
int ra_decode_list(const uint8_t *p, size_t len, int32_t corr, ra_plan *out, int16_t *top);

/* IncrementalAlterConfigs v0 for one resource (type 2 topic, 4 broker):
 * n (key, value) pairs, value NULL = DELETE (op 1) else SET (op 0). */
size_t ra_encode_configs(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                         int8_t rtype, const char *rname, const char *const *keys,
                         const char *const *values, int n);
/* The resource's error code; -1 when it does not decode. */
int ra_decode_configs(const uint8_t *p, size_t len, int32_t corr, int16_t *error);

#endif
