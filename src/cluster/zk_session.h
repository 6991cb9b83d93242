/*
 * zk_session.h - one ZooKeeper session (libzookeeper-mt), with the few
 * synchronous operations a Kafka-layout metadata store needs: create
 * (persistent, ephemeral, sequential), get with version and czxid, a
 * compare-and-set write on the znode version, delete, children, and
 * one-shot watches.
 *
 * Connect string: Kafka's `zookeeper.connect`, "host:port[,host:port...][/chroot]".
 * As Kafka does, a missing chroot path is created (through a session
 * without the chroot) before the real session opens.
 *
 * Threads: every call here blocks on a round trip to ZooKeeper, so none may
 * run on a network (event-loop) thread.  libzookeeper-mt runs its own I/O
 * and completion threads; the event callback (watches and session state
 * changes) runs on its completion thread, must not block for long, and
 * must not call back into this session synchronously (post the work to
 * another thread instead).
 *
 * Errors: operations return an zk_rc; ZKR_CONNLOSS means the outcome is
 * unknown (the caller re-reads before retrying), ZKR_EXPIRED that the
 * session, and every ephemeral node and watch with it, is gone for good.
 */
#ifndef SAMSA_CLUSTER_ZK_SESSION_H
#define SAMSA_CLUSTER_ZK_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct zk_session zk_session;

typedef enum zk_rc {
    ZKR_OK = 0,
    ZKR_NONODE,          /* the node (or, for create, its parent) does not exist */
    ZKR_NODEEXISTS,
    ZKR_BADVERSION,      /* compare-and-set lost: someone wrote first */
    ZKR_NOTEMPTY,        /* delete of a node with children */
    ZKR_TOOBIG,          /* a node's data larger than ZK_MAX_DATA */
    ZKR_CONNLOSS,        /* no answer: the operation may or may not have happened */
    ZKR_EXPIRED,         /* the session is gone */
    ZKR_ERROR,           /* anything else (auth, bad arguments, ...) */
} zk_rc;

/* Largest znode body read (ZooKeeper's own jute.maxbuffer default is 1 MiB). */
#define ZK_MAX_DATA (1 << 20)

/* Event kinds delivered to the callback. */
enum zk_event {
    ZKE_CONNECTED,       /* (re)connected, session intact */
    ZKE_DISCONNECTED,    /* lost the server; the client library reconnects */
    ZKE_EXPIRED,         /* session expired: open a new one */
    ZKE_CREATED,         /* watch fired on path */
    ZKE_DELETED,
    ZKE_CHANGED,
    ZKE_CHILD,
};
typedef void (*zk_event_fn)(zk_session *s, enum zk_event ev, const char *path, void *ctx);

/* Open a session and wait until it is connected, at most connect_timeout_ms.
 * On failure returns NULL with a message naming the connect string (the
 * caller adds the config key). */
zk_session *zk_open(const char *connect, int session_timeout_ms, int connect_timeout_ms,
                    zk_event_fn fn, void *ctx, char *err, size_t errlen);
/* Close the session (its ephemeral nodes go at once). */
void zk_close(zk_session *s);
/* The session id (0 before connected) and the timeout the server granted. */
int64_t zk_session_id(const zk_session *s);
int zk_session_timeout_ms(const zk_session *s);
/* The session's password (with its id, what a client needs to resume the
 * session; tests use it to expire a session as ZooKeeper's own tests do). */
#define ZK_PASSWD_LEN 16
void zk_session_password(const zk_session *s, char out[ZK_PASSWD_LEN]);
bool zk_is_expired(const zk_session *s);
const char *zk_rc_str(zk_rc rc);

enum zk_create_flags { ZKC_PERSISTENT = 0, ZKC_EPHEMERAL = 1, ZKC_SEQUENTIAL = 2 };
/* Create path with data (open ACL).  created: the real path (sequential
 * nodes) when non-NULL.  czxid_out: the creation zxid (a broker epoch). */
zk_rc zk_create(zk_session *s, const char *path, const void *data, size_t len, int flags,
                char *created, size_t created_len, int64_t *czxid_out);
/* Create path and any missing ancestors as empty persistent nodes; a node
 * that exists already is fine. */
zk_rc zk_ensure_path(zk_session *s, const char *path);

typedef struct zk_stat {
    int32_t version;     /* data version: the compare-and-set token */
    int64_t czxid;
    int64_t ephemeral_owner;   /* session id, 0 for persistent nodes */
    int32_t num_children;
    int64_t ctime_ms;    /* creation time (the server's wall clock) */
} zk_stat;

/* Read path's data into a malloc'd NUL-terminated buffer (*data, *len);
 * watch: arm a one-shot watch (ZKE_CHANGED / ZKE_DELETED) on success, or
 * ZKE_CREATED when the node does not exist. */
zk_rc zk_get(zk_session *s, const char *path, bool watch, char **data, size_t *len,
             zk_stat *st);
zk_rc zk_exists(zk_session *s, const char *path, bool watch, zk_stat *st);
/* Write data if the node's version is still expected_version (-1: any).
 * new_version: the version after the write. */
zk_rc zk_set(zk_session *s, const char *path, const void *data, size_t len,
             int32_t expected_version, int32_t *new_version);
zk_rc zk_delete(zk_session *s, const char *path, int32_t expected_version);
/* Children's names (malloc'd array of malloc'd strings, free with
 * zk_free_strings); watch: one-shot ZKE_CHILD. */
zk_rc zk_children(zk_session *s, const char *path, bool watch, char ***names, int *n);
void zk_free_strings(char **names, int n);

/* One operation of an atomic zk_multi.  ZKOP_CHECK fails the whole multi
 * unless path's version is `version` (-1: any); ZKOP_SET and ZKOP_DELETE
 * compare-and-set on `version` likewise; ZKOP_CREATE takes data/len/flags
 * (persistent or ephemeral; sequential is refused: its name would be lost).
 * Outputs: rc, this op's own result (ZKR_OK for the ops that would have
 * succeeded when another failed); new_version (SET: the version after it;
 * CREATE: 0). */
enum zk_op_type { ZKOP_CHECK, ZKOP_CREATE, ZKOP_SET, ZKOP_DELETE };
typedef struct zk_op {
    enum zk_op_type type;
    const char *path;
    const void *data;
    size_t len;
    int32_t version;
    int flags;                   /* ZKOP_CREATE: enum zk_create_flags */
    zk_rc rc;
    int32_t new_version;
} zk_op;
#define ZK_MAX_MULTI 1024

/* Run ops[0..n) as one transaction: all apply or none does.  Returns
 * ZKR_OK, or the first failing op's code with *failed (when non-NULL) its
 * index; -1 when the failure is not any one op's (connection, session).
 * n is at most ZK_MAX_MULTI. */
zk_rc zk_multi(zk_session *s, zk_op *ops, int n, int *failed);

/* More receivers of this session's events, besides the one given to
 * zk_open (a controller and a metadata store can share a session; each
 * watch event goes to every receiver, which filters by path).  At most
 * ZK_MAX_LISTENERS; -1 when full.  After zk_remove_listener returns, fn is
 * not running and will not be called again. */
#define ZK_MAX_LISTENERS 8
int zk_add_listener(zk_session *s, zk_event_fn fn, void *ctx);
void zk_remove_listener(zk_session *s, zk_event_fn fn, void *ctx);

#endif
