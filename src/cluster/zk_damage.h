/*
 * zk_damage.h - a ledger of znodes found damaged (data that does not
 * decode), so each damaged version is reported once, not on every re-read,
 * and its repair is reported too (docs/cluster.md §11, "Bad input").
 *
 * A version is (czxid, data version): a set changes the version, a delete
 * and re-create changes the czxid.  The ledger is bounded
 * (ZK_DAMAGE_MAX entries; past that the oldest entry is forgotten, so at
 * worst a damaged znode is reported again).  Thread-safe (one mutex);
 * every user owns its own ledger (the metadata store, the controller).
 * Nothing here touches ZooKeeper.
 */
#ifndef SAMSA_CLUSTER_ZK_DAMAGE_H
#define SAMSA_CLUSTER_ZK_DAMAGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define ZK_DAMAGE_MAX 64
#define ZK_DAMAGE_PATH 256       /* longer paths are kept truncated */

typedef struct zk_damage {
    pthread_mutex_t mu;
    int n;
    struct {
        char path[ZK_DAMAGE_PATH];
        int64_t czxid;
        int32_t version;
    } v[ZK_DAMAGE_MAX];
} zk_damage;

void zk_damage_init(zk_damage *d);
void zk_damage_destroy(zk_damage *d);
/* path's data at (czxid, version) does not decode: true the first time
 * this version is noted (the caller reports it), false when it already was. */
bool zk_damage_note(zk_damage *d, const char *path, int64_t czxid, int32_t version);
/* path decoded (or is gone): true when it had been noted as damaged (the
 * caller reports the repair). */
bool zk_damage_clear(zk_damage *d, const char *path);
/* Whether path is noted as damaged now. */
bool zk_damage_has(zk_damage *d, const char *path);

#endif
