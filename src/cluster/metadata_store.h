/*
 * metadata_store.h - the local metadata store: the cluster_md
 * implementation (cluster/metadata.h) for the embedded mode, one broker and
 * no ZooKeeper.
 *
 * Durable part: `<metadata dir>/samsa-metadata.json`, format version 1:
 *   line 1: "samsa-metadata <version> <crc32c of the body, 8 hex digits>"
 *   rest:   a JSON body (see docs/storage-format.md):
 *     { "topics": [ { "name": "t", "id": "<base64 uuid>", "partitions": 3,
 *                     "internal": false, "configs": { "retention.ms": "1000" } } ],
 *       "next_producer_id_block": 2000,
 *       "broker_configs": { "default": { "log.retention.ms": "1000" },
 *                           "broker": { } } }
 * Written only through src/os/sio.h (sio_write_file_atomic: .tmp, fsync,
 * rename, fsync of the directory) and read with sio_read_file.  A file
 * whose header or CRC does not match is refused with an error naming it;
 * nothing is silently dropped.
 *
 * Derived, not stored: every partition is assigned to this broker alone,
 * which leads it with ISR = {self} at leader epoch 0 (a single broker has
 * no other shape; assignments a caller passes are not persisted).
 * In memory only: the live-broker list (this broker, plus brokers
 * registered by the test hook) and the cluster id (meta.properties keeps
 * it durably in the log directories).
 */
#ifndef SAMSA_CLUSTER_METADATA_STORE_H
#define SAMSA_CLUSTER_METADATA_STORE_H

#include <stddef.h>

#include "cluster/metadata.h"

#define METADATA_FILE "samsa-metadata.json"
#define METADATA_VERSION 1
#define METADATA_MAX_BYTES (64 << 20)

/* A local store keeping its file in `dir`, for the broker `self` (its id
 * and advertised endpoints).  NULL with a message when out of memory. */
cluster_md *md_local_open(const char *dir, const md_broker *self, char *err, size_t errlen);

#endif
