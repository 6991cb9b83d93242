/*
 * metadata_zk.h - the ZooKeeper metadata store: the cluster_md
 * implementation (cluster/metadata.h) a cluster of brokers shares, kept in
 * Apache Kafka's ZooKeeper layout (zk_layout.h; every znode it reads or
 * writes, when and with which guarantee: docs/cluster-zookeeper.md).
 *
 * Open: a session to `zookeeper.connect` (a missing chroot is created);
 * the persistent paths Kafka has are created if missing; this broker is
 * registered as the ephemeral /brokers/ids/<id>, whose creation zxid is
 * its broker epoch.  A node of that id held by another live session is
 * waited for (watched) for up to the session timeout, which lets a
 * restarted broker replace its old, dying session; after that the open is
 * refused ("broker id N is already registered ... node.id must be unique").
 *
 * Change feed: watches on /brokers/ids, /brokers/topics and
 * /config/changes children.  The ZooKeeper completion thread only records
 * which watch fired; the store's own event thread re-reads the znodes
 * (re-arming the watch), swaps the live-broker snapshot, and calls the
 * listener (MD_EV_BROKERS, MD_EV_TOPICS, MD_EV_CONFIG).  A failed re-read
 * (connection lost) is retried every 500 ms.
 *
 * Writes: only the per-entity ones (md_create_topic and friends); md_store
 * and md_register_broker are refused.  Partition state is read, never
 * written here (the controller writes it).
 *
 * Session loss: when ZooKeeper expires the session the store is marked
 * expired, the listener hears MD_EV_SESSION_LOST (event thread), and every
 * read or write fails with an error saying so until md_zk_reconnect opens
 * a new session and registers again (a new broker epoch).  md_live_brokers
 * keeps answering with the last snapshot meanwhile (the listener was told).
 *
 * Crash windows (as in Kafka): md_create_topic writes /config/topics/T
 * before /brokers/topics/T, so a crash between leaves a config znode with
 * no topic (the next create of that name overwrites it); two brokers
 * creating the same topic at once both write the config before one wins
 * the assignment.  md_set_*_configs writes the config before the change
 * notification; a crash between leaves brokers unaware until the next one.
 */
#ifndef SAMSA_CLUSTER_METADATA_ZK_H
#define SAMSA_CLUSTER_METADATA_ZK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/metadata.h"
#include "cluster/zk_session.h"

/* Open the store for broker `self` (its id, rack and advertised
 * endpoints).  NULL with a message naming the connect string on failure
 * (the caller adds the config key). */
cluster_md *md_zk_open(const char *connect, int session_timeout_ms, int connection_timeout_ms,
                       const md_broker *self, char *err, size_t errlen);
/* md_zk_open for a broker whose log dirs name a cluster (expect_cluster_id,
 * from meta.properties): /cluster/id is compared with it *before* the broker
 * registers, so a broker of another cluster never appears in this one.  A
 * missing, damaged or different id refuses the open with *mismatch set and
 * ZooKeeper's id ("" when missing or damaged) in zk_id; nothing is written.
 * expect_cluster_id NULL or "": md_zk_open. */
cluster_md *md_zk_open_checked(const char *connect, int session_timeout_ms,
                               int connection_timeout_ms, const md_broker *self,
                               const char *expect_cluster_id, char *zk_id, size_t zk_id_cap,
                               bool *mismatch, char *err, size_t errlen);
/* Is m a ZooKeeper store? */
bool md_is_zk(const cluster_md *m);
/* Tests: the age past which this store's writes delete /config/changes
 * notifications (default Kafka's 15 minutes). */
void md_zk_set_change_expiry(cluster_md *m, int64_t ms);
/* The czxid of this broker's current /brokers/ids/<id> (any thread). */
int64_t md_zk_broker_epoch(cluster_md *m);
/* Has the session expired (and no md_zk_reconnect succeeded since)? */
bool md_zk_expired(cluster_md *m);
/* After MD_EV_SESSION_LOST: a new session, this broker registered again
 * (new broker epoch), watches re-armed and the snapshots re-read (their
 * events follow on the event thread).  Admin thread; 0, or -1 with a
 * message (the store stays expired; the caller may retry). */
int md_zk_reconnect(cluster_md *m, char *err, size_t errlen);
/* The session lease: the monotonic ms (core/clock.h mono_ms) at which a
 * request that ZooKeeper answered as this session's was last sent
 * (renewed every session timeout / 4 by the store's lease thread; set at
 * registration).  Older than the session timeout: the session may be gone.
 * Any thread; -1 for a store that is not ZooKeeper's. */
int64_t md_zk_session_confirmed_ms(cluster_md *m);
/* Leave the cluster ahead of closing (clean shutdown): delete this
 * broker's own /brokers/ids/<id> now, so the controller moves leadership
 * away at once instead of after the session timeout.  Reads keep working
 * until md_close.  0, or -1 with a message. */
int md_zk_leave(cluster_md *m, char *err, size_t errlen);
/* The current session (tests: to expire it), valid until md_zk_reconnect
 * or md_close. */
zk_session *md_zk_session(cluster_md *m);

#endif
