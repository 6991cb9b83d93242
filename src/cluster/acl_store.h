/*
 * acl_store.h - where ACLs live: ZooKeeper in cluster mode (Kafka's
 * layout, so Kafka's own tools reading the same ZooKeeper agree), a file
 * under the first log dir on a single broker.  The in-memory index the
 * checks read is the caller's acl_authz (auth/acl.h); the store keeps it
 * equal to the durable copy.
 *
 * ZooKeeper (ZkAclStore / ZkAclChangeStore):
 *   /kafka-acl/<Type>/<name>                     literal patterns
 *   /kafka-acl-extended/prefixed/<Type>/<name>   prefixed patterns
 *   body {"version":1,"acls":[{"principal":"User:alice",
 *         "permissionType":"Allow","operation":"Read","host":"*"}]}
 *   /kafka-acl-changes/acl_changes_<seq>           "TOPIC:name"
 *   /kafka-acl-extended-changes/acl_changes_<seq>  {"version":1,
 *         "resourceType":"TOPIC","name":"n","patternType":"PREFIXED"}
 * A change rewrites one resource's znode with compare-and-set on its
 * version (S-ACL7), then leaves a change node; every broker watches the
 * two change dirs (and polls them each second as a safety net) and reloads
 * the named resource from its znode (S-ACL8).
 *
 * File: <first log dir>/samsa-acls.json, {"version":1,"resources":[
 * {"resourceType":"Topic","patternType":"LITERAL","name":"t","acls":[...]}]},
 * replaced atomically through os/sio on every change (S-ACL9).
 *
 * Threads: acl_store_create/delete block (ZooKeeper round trips, fsync):
 * call them from the admin thread only (they are serialised there).  The
 * ZooKeeper store runs one watcher thread of its own.
 */
#ifndef SAMSA_CLUSTER_ACL_STORE_H
#define SAMSA_CLUSTER_ACL_STORE_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/acl.h"

#define ACL_FILE "samsa-acls.json"
#define ACL_FILE_MAX_BYTES (64 << 20)

typedef struct acl_store acl_store;

/* Load dir/samsa-acls.json (absent = no ACLs) into a. */
acl_store *acl_store_open_file(acl_authz *a, const char *dir, char *err, size_t errlen);
/* Open a ZooKeeper session of the store's own (as Kafka's authorizer
 * does), load every ACL and start watching the change dirs. */
acl_store *acl_store_open_zk(acl_authz *a, const char *connect, int session_timeout_ms,
                             int connect_timeout_ms, char *err, size_t errlen);
void acl_store_close(acl_store *s);

/* Add one validated binding durably, then to the index.  0, or -1 with a
 * message (the caller answers UNKNOWN_SERVER_ERROR). */
int acl_store_create(acl_store *s, const acl_binding *b, char *why, size_t n);
/* The same for nb bindings at once (one file write on a single broker;
 * one compare-and-set per binding in ZooKeeper): rc[i] per binding, and
 * -1 with the last message when any failed. */
int acl_store_create_many(acl_store *s, const acl_binding *const *b, int nb, int *rc, char *why,
                          size_t n);
/* Remove every binding the filter matches, durably; fn sees each removed
 * binding (strings valid during the call).  Returns the count, or -1. */
int acl_store_delete(acl_store *s, const acl_binding *filter, acl_visit_fn fn, void *ctx,
                     char *why, size_t n);

/* ---- Kafka's formats (pure; unit tests and the fuzz target) ---------- */

/* The znode body; encode returns a malloc'd string.  Parse refuses
 * malformed JSON, unknown names and entries failing validation. */
char *acl_json_encode(const acl_entry *e, int n);
int acl_json_parse(const char *s, size_t len, acl_entry **e, int *n, char *why, size_t wn);
/* The znode path of a pattern; -1 when it does not fit. */
int acl_zk_path(int rtype, int pattern, const char *name, char *out, size_t n);
/* A change node's body: "TOPIC:name" (literal) or the extended JSON. */
int acl_change_encode(int rtype, int pattern, const char *name, char *out, size_t n);
int acl_change_decode(const char *s, size_t len, bool extended, int *rtype, int *pattern,
                      char *name, size_t name_cap);

#endif
