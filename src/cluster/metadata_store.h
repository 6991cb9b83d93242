/*
 * metadata_store.h - durable cluster metadata for the embedded (single
 * broker, no ZooKeeper) mode: topics with ids, partition counts and config
 * overrides, and the producer-id block high-water mark.
 *
 * File `<metadata dir>/samsa-metadata.json`:
 *   line 1: "samsa-metadata <version> <crc32c of the body, 8 hex digits>"
 *   rest:   a JSON body (see docs/storage-format.md):
 *     { "topics": [ { "name": "t", "id": "<base64 uuid>", "partitions": 3,
 *                     "internal": false, "configs": { "retention.ms": "1000" } } ],
 *       "next_producer_id_block": 2000,
 *       "broker_configs": { "default": { "log.retention.ms": "1000" },
 *                           "broker": { } } }
 * Replaced atomically: write to .tmp, fsync, rename, fsync the directory.
 * A file whose CRC does not match is refused at startup with an error
 * naming it; nothing is silently dropped.
 *
 * With ZooKeeper (a later issue) the same records live in znodes; callers
 * use only this interface.  Not thread-safe: the admin worker serialises
 * all saves.
 */
#ifndef SAMSA_CLUSTER_METADATA_STORE_H
#define SAMSA_CLUSTER_METADATA_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/topic.h"
#include "core/uuid.h"

typedef struct meta_topic {
    char *name;
    kuuid id;
    int32_t partitions;
    bool internal;
    topic_kv *configs;
    int nconfigs;
} meta_topic;

typedef struct meta_kvs {
    topic_kv *v;
    int n;
} meta_kvs;

typedef struct meta_state {
    meta_topic *topics;
    int ntopics;
    int64_t next_producer_id_block;
    /* Dynamic broker configs: the cluster-wide default layer (resource
     * "") and this broker's layer (resource "<node id>"). */
    meta_kvs broker_default;
    meta_kvs broker_own;
} meta_state;

#define METADATA_FILE "samsa-metadata.json"
#define METADATA_VERSION 1

/* Missing file = empty state (returns 0).  -1 with a message otherwise. */
int metadata_load(const char *dir, meta_state *out, char *err, size_t errlen);
/* Persist `st` durably.  -1 with a message on failure (nothing changed). */
int metadata_save(const char *dir, const meta_state *st, char *err, size_t errlen);
void meta_state_free(meta_state *st);

#endif
