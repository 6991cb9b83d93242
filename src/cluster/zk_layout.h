/*
 * zk_layout.h - Apache Kafka's ZooKeeper layout: the znode paths a cluster
 * keeps its state in and the JSON bodies of each, encoded and decoded
 * exactly as ZooKeeper-mode Kafka writes them, so an operator with zkCli.sh
 * (or a Kafka tool of that era) sees what they expect.
 *
 *   /cluster/id                          {"version":"1","id":"<uuid>"}
 *   /controller (ephemeral)              {"version":1,"brokerid":N,"timestamp":"<ms>"}
 *   /controller_epoch                    "<decimal>"
 *   /brokers/ids/N (ephemeral)           zkl_broker
 *   /brokers/topics/T                    zkl_assignment (replicas per partition, topic id)
 *   /brokers/topics/T/partitions/P/state zkl_partition_state
 *   /config/topics/T, /config/brokers/N  {"version":1,"config":{...}}
 *   /config/users/U, /config/clients/C,
 *   /config/users/U/clients/C            the same (cluster/entity.h)
 *   /config/changes/config_change_N      {"version":2,"entity_path":"topics/T"}
 *   /latest_producer_id_block            zkl_pid_block
 *
 * Pure functions, no ZooKeeper session here (that is the store built on
 * it).  Encoders return a malloc'd NUL-terminated string (NULL only when
 * out of memory).  Decoders take untrusted bytes (a znode anyone with ZK
 * access may have edited by hand), check every field's type and range,
 * and on failure return -1 with a message naming the field; they never
 * allocate more than a bounded multiple of the input's size.
 */
#ifndef SAMSA_CLUSTER_ZK_LAYOUT_H
#define SAMSA_CLUSTER_ZK_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/uuid.h"

/* Fixed paths (relative to the chroot of zookeeper.connect). */
#define ZK_PATH_CLUSTER_ID        "/cluster/id"
#define ZK_PATH_CONTROLLER        "/controller"
#define ZK_PATH_CONTROLLER_EPOCH  "/controller_epoch"
#define ZK_PATH_BROKER_IDS        "/brokers/ids"
#define ZK_PATH_BROKER_TOPICS     "/brokers/topics"
#define ZK_PATH_CONFIG_TOPICS     "/config/topics"
#define ZK_PATH_CONFIG_BROKERS    "/config/brokers"
#define ZK_PATH_CONFIG_CHANGES    "/config/changes"
#define ZK_PATH_CONFIG_USERS      "/config/users"
#define ZK_PATH_CONFIG_CLIENTS    "/config/clients"
#define ZK_PATH_DELETE_TOPICS     "/admin/delete_topics"
#define ZK_PATH_PID_BLOCK         "/latest_producer_id_block"
/* Kafka's name of the cluster-wide dynamic broker config entity. */
#define ZK_BROKER_DEFAULT_ENTITY  "<default>"

/* Bounds on what a decoder accepts (Kafka has no smaller ones in practice). */
#define ZKL_MAX_ENDPOINTS   8
#define ZKL_MAX_REPLICAS    256      /* per partition, and ISR */
#define ZKL_MAX_PARTITIONS  1000000  /* per topic */
#define ZKL_MAX_CONFIGS     4096     /* per config entity */
#define ZKL_MAX_PATH        1024

/* Paths built from names: -1 when they would not fit in n bytes. */
int zkl_path_broker(char *out, size_t n, int32_t broker_id);
int zkl_path_topic(char *out, size_t n, const char *topic);
int zkl_path_partitions(char *out, size_t n, const char *topic);
int zkl_path_partition_state(char *out, size_t n, const char *topic, int32_t partition);
int zkl_path_topic_config(char *out, size_t n, const char *topic);
/* broker_id < 0: the cluster-wide default entity. */
int zkl_path_broker_config(char *out, size_t n, int32_t broker_id);

/* ---- /brokers/ids/N -------------------------------------------------- */
typedef struct zkl_endpoint {
    char listener[64];       /* listener name, e.g. PLAINTEXT */
    char protocol[32];       /* security protocol, e.g. PLAINTEXT */
    char host[256];
    int32_t port;
} zkl_endpoint;

typedef struct zkl_broker {
    int32_t id;              /* not in the body: taken from the path */
    zkl_endpoint ep[ZKL_MAX_ENDPOINTS];
    int nep;
    char rack[128];          /* "" = none (JSON null) */
    int64_t timestamp_ms;
} zkl_broker;

char *zkl_broker_encode(const zkl_broker *b);
int zkl_broker_decode(const char *json, size_t len, zkl_broker *out, char *err, size_t errlen);

/* ---- /brokers/topics/T ------------------------------------------------- */
typedef struct zkl_assignment {
    kuuid topic_id;          /* zero when the znode has none (pre-2.8 Kafka) */
    int32_t npartitions;
    int32_t *nreplicas;      /* [npartitions] (counts may differ: a reassignment) */
    int32_t **replicas;      /* [npartitions][nreplicas[p]]; first = preferred leader */
    /* A reassignment in progress (KIP-455, Kafka's "adding_replicas" and
     * "removing_replicas" objects): NULL when no partition has one;
     * else [npartitions] lists, empty for partitions not reassigned.
     * Both are subsets of the partition's replicas. */
    int32_t *nadding, **adding;
    int32_t *nremoving, **removing;
} zkl_assignment;

char *zkl_assignment_encode(const zkl_assignment *a);
/* Partitions must be exactly 0..n-1, each a non-empty list of distinct
 * non-negative broker ids; "adding_replicas" / "removing_replicas" (absent
 * or objects keyed by partition) hold lists of distinct ids that must be
 * replicas of their partition. */
int zkl_assignment_decode(const char *json, size_t len, zkl_assignment *out, char *err,
                          size_t errlen);
void zkl_assignment_free(zkl_assignment *a);
/* True when partition p has adding or removing replicas. */
bool zkl_assignment_reassigning(const zkl_assignment *a, int32_t p);
/* Deep copy of src into *dst; -1 when out of memory (dst zeroed). */
int zkl_assignment_copy(zkl_assignment *dst, const zkl_assignment *src);
/* Set partition p's replicas, adding and removing lists (copied; nadd and
 * nrem 0 for none; allocates the adding/removing arrays on first use);
 * -1 when out of memory (a unchanged but possibly with empty arrays). */
int zkl_assignment_set(zkl_assignment *a, int32_t p, const int32_t *rep, int nrep,
                       const int32_t *add, int nadd, const int32_t *rem, int nrem);

/* ---- .../partitions/P/state -------------------------------------------- */
typedef struct zkl_partition_state {
    int32_t leader;          /* -1 = none (offline) */
    int32_t leader_epoch;
    int32_t controller_epoch;
    int32_t isr[ZKL_MAX_REPLICAS];
    int nisr;
    /* Not in the body: the znode's version, the "partition epoch" every
     * write compares-and-sets against. */
    int32_t zk_version;
} zkl_partition_state;

char *zkl_partition_state_encode(const zkl_partition_state *s);
int zkl_partition_state_decode(const char *json, size_t len, zkl_partition_state *out,
                               char *err, size_t errlen);

/* ---- /controller, /controller_epoch, /cluster/id ---------------------- */
char *zkl_controller_encode(int32_t broker_id, int64_t timestamp_ms);
int zkl_controller_decode(const char *json, size_t len, int32_t *broker_id, char *err,
                          size_t errlen);
/* The epoch znode holds a bare decimal (1 .. INT32_MAX). */
char *zkl_controller_epoch_encode(int32_t epoch);
int zkl_controller_epoch_decode(const char *data, size_t len, int32_t *epoch, char *err,
                                size_t errlen);
char *zkl_cluster_id_encode(const char *id);
/* id_out: at least KUUID_STR_LEN + 1 bytes; any non-empty id up to 22
 * characters of the base64url alphabet is accepted (Kafka's own). */
int zkl_cluster_id_decode(const char *json, size_t len, char *id_out, char *err, size_t errlen);

/* ---- /config/... -------------------------------------------------------- */
typedef struct zkl_config {
    char **keys, **values;
    int n;
} zkl_config;

char *zkl_config_encode(const zkl_config *c);
int zkl_config_decode(const char *json, size_t len, zkl_config *out, char *err, size_t errlen);
void zkl_config_free(zkl_config *c);
/* {"version":2,"entity_path":"topics/T"} */
char *zkl_config_change_encode(const char *entity_path);
/* Version 2 only (Kafka 2.0+); the entity path "<type>/<name>" into
 * entity_out (cap bytes). */
int zkl_config_change_decode(const char *json, size_t len, char *entity_out, size_t cap,
                             char *err, size_t errlen);

/* ---- /latest_producer_id_block ------------------------------------------ */
typedef struct zkl_pid_block {
    int32_t broker;
    int64_t block_start, block_end;     /* inclusive; written as strings */
} zkl_pid_block;

char *zkl_pid_block_encode(const zkl_pid_block *b);
int zkl_pid_block_decode(const char *json, size_t len, zkl_pid_block *out, char *err,
                         size_t errlen);

#endif
