/*
 * meta.h - the CLI's cluster metadata snapshot (cli_meta_t): brokers with
 * their racks, cluster id, controller, and per partition the leader, leader
 * epoch, replicas, ISR and offline replicas.
 *
 * Why the CLI speaks Metadata itself: librdkafka 2.0.2 (the version we
 * build on) exposes neither leader epochs, racks nor offline replicas in
 * its metadata struct, and has no DescribeTopics/DescribeCluster admin API
 * (both arrived in 2.3). So `cluster info` and `topic describe` send one
 * Metadata v7 request of their own over a plain TCP connection
 * (meta_wire.c encodes and decodes, meta.c connects). When that cannot be
 * done (TLS/SASL configured through -X, or the request fails) they fall
 * back to librdkafka's metadata, with epochs and racks unknown.
 *
 * meta_wire.c is pure (bytes in, struct out; no librdkafka, no I/O), so the
 * unit tests link it alone.
 *
 * Memory: a cli_meta_t and everything it points to is owned by it and freed
 * by cli_meta_free. Arrays are sorted: brokers by id, topics by name,
 * partitions by id.
 */
#ifndef SAMSA_CLI_META_H
#define SAMSA_CLI_META_H

#include <stddef.h>
#include <stdint.h>

typedef struct cli_mpart {
    int32_t id;
    int16_t err;            /* Kafka error code (LEADER_NOT_AVAILABLE = 5) */
    int32_t leader;         /* -1: no leader (offline) */
    int32_t leader_epoch;   /* -1: unknown */
    int32_t nreplicas, nisr, noffline;
    int32_t *replicas, *isr, *offline;
} cli_mpart_t;

typedef struct cli_mtopic {
    char *name;
    int16_t err;
    int internal;
    int32_t nparts;
    cli_mpart_t *parts;
} cli_mtopic_t;

typedef struct cli_mbroker {
    int32_t id;
    char *host;
    int32_t port;
    char *rack;             /* NULL: none or unknown */
} cli_mbroker_t;

typedef struct cli_meta {
    char *cluster_id;       /* NULL: unknown */
    int32_t controller_id;  /* -1: unknown */
    int detailed;           /* 1: from our Metadata v7 (epochs, racks, offline
                               replicas, is_internal known); 0: librdkafka's */
    int32_t nbrokers, ntopics;
    cli_mbroker_t *brokers;
    cli_mtopic_t *topics;
} cli_meta_t;

/* The Metadata version we send. */
#define CLI_META_VERSION 7

/* Encode a whole Metadata v7 request frame (size prefix included) into buf:
 * header v1 (api key 3, version 7, correlation id, client id), topics NULL
 * (= all) or [topic], allow_auto_topic_creation false. Returns the frame
 * length, or 0 if buf is too small. */
size_t cli_meta_encode_request(uint8_t *buf, size_t cap, int32_t correlation_id,
                               const char *client_id, const char *topic);

/* Decode a Metadata v7 response (after the size prefix: correlation id
 * first). Every count is checked against the bytes left before anything is
 * allocated. Returns a snapshot (sorted), or NULL with a reason in err. */
cli_meta_t *cli_meta_decode(const uint8_t *p, size_t len, int32_t correlation_id,
                            char *err, size_t errlen);

void cli_meta_free(cli_meta_t *m);
/* Sort brokers, topics and partitions (the decoder and the librdkafka
 * conversion both call it). */
void cli_meta_sort(cli_meta_t *m);

/* Partition health, as Kafka's tools define it. */
static inline int cli_mpart_under_replicated(const cli_mpart_t *p) { return p->nisr < p->nreplicas; }
static inline int cli_mpart_offline(const cli_mpart_t *p) { return p->leader < 0; }

/* Counts over every topic: partitions, under-replicated (ISR smaller than
 * the replica set) and offline (no leader). */
typedef struct cli_meta_counts {
    int64_t topics, internal_topics, partitions, under_replicated, offline;
} cli_meta_counts_t;
void cli_meta_count(const cli_meta_t *m, cli_meta_counts_t *out);

const cli_mbroker_t *cli_meta_broker(const cli_meta_t *m, int32_t id);

/* ---- admin requests librdkafka 2.0.2 lacks (meta_wire.c, pure) ---- */

/* One partition's ElectLeaders result (malloc'd strings; cli_elect_free). */
typedef struct cli_elect {
    char *topic;
    int32_t partition;
    int16_t error;
    char *message;          /* NULL: none */
} cli_elect_t;

/* ElectLeaders v1 frame (size prefix included): type 0 preferred, 1
 * unclean; topic NULL = every partition, else parts[nparts] of topic.
 * The frame length, or 0 if buf is too small. */
size_t cli_elect_encode_request(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                                int8_t type, const char *topic, const int32_t *parts, int nparts,
                                int32_t timeout_ms);
/* Decode its response (after the size prefix): the top-level error and
 * every partition's result.  0, or -1 with a reason. */
int cli_elect_decode(const uint8_t *p, size_t len, int32_t corr, int16_t *top, cli_elect_t **out,
                     int *nout, char *err, size_t errlen);
void cli_elect_free(cli_elect_t *v, int n);

/* IncrementalAlterConfigs v0 frame altering one key of one resource
 * (op 0 SET, 1 DELETE; value NULL for DELETE). */
size_t cli_iac_encode_request(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                              int8_t resource_type, const char *resource_name, const char *key,
                              int8_t op, const char *value);
/* DescribeConfigs v0 frame asking one resource for one key, and its
 * response: 0 with *value the key's value (malloc'd; NULL: absent), or -1
 * with a reason (the resource's error too). */
size_t cli_dc_encode_request(uint8_t *buf, size_t cap, int32_t corr, const char *client_id,
                             int8_t resource_type, const char *resource_name, const char *key);
int cli_dc_decode(const uint8_t *p, size_t len, int32_t corr, const char *key, char **value,
                  char *err, size_t errlen);

/* Its response: the resource's error and message (malloc'd or NULL). */
int cli_iac_decode(const uint8_t *p, size_t len, int32_t corr, int16_t *error, char **message,
                   char *err, size_t errlen);

#endif
