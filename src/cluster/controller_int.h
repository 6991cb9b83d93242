/*
 * controller_int.h - the controller's state and helpers, shared by the
 * files that make up the controller (controller.c: election, events,
 * partition states and the requests to brokers; the other controller_*.c:
 * one operation each).  Everything here runs on the controller thread,
 * except ctl_call, which any thread may use to run a function there.
 * Not for use outside src/cluster/controller*.c.
 */
#ifndef SAMSA_CLUSTER_CONTROLLER_INT_H
#define SAMSA_CLUSTER_CONTROLLER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cluster/controller.h"
#include "cluster/election.h"
#include "cluster/zk_damage.h"
#include "cluster/zk_layout.h"
#include "cluster/zk_session.h"

#define CTL_MAX_BROKERS 4096      /* live brokers the controller tracks */

enum ev_type { EV_ELECT, EV_BROKERS, EV_TOPICS, EV_TOPIC_CHANGED, EV_DELETES, EV_EXPIRED,
               EV_CALL, EV_STOP, EV_CONFIG_CHANGES };

/* A function run on the controller thread for a caller that waits: see
 * ctl_call. */
typedef int16_t (*ctl_call_fn)(controller *c, void *arg);

typedef struct ctl_call_req {
    ctl_call_fn fn;
    void *arg;
    int16_t error;
    bool done;
} ctl_call_req;

typedef struct ev {
    enum ev_type type;
    char *arg;                   /* EV_TOPIC_CHANGED: the topic */
    ctl_call_req *call;          /* EV_CALL */
    struct ev *next;
} ev;

typedef struct cbroker {
    int32_t id;
    int64_t epoch;               /* czxid of /brokers/ids/N */
    zkl_broker reg;
} cbroker;

typedef struct cpart {
    bool has_state;              /* the state znode exists (st is valid) */
    bool bad;                    /* its state znode does not decode: left alone */
    bool dirty;                  /* written since the last flush */
    bool is_new;                 /* created since the last flush */
    zkl_partition_state st;
} cpart;

typedef struct ctopic {
    char *name;
    bool unclean;                /* unclean.leader.election.enable for the topic */
    zkl_assignment a;
    cpart *parts;                /* [a.npartitions] */
} ctopic;

struct controller {
    controller_cfg cfg;
    controller_channel ch;
    zk_session *zs;
    pthread_t thread;
    pthread_mutex_t lock;        /* guards the queue and ctl_call_req.done */
    pthread_cond_t cond;         /* queue not empty */
    pthread_cond_t done_cond;    /* a ctl_call_req is done */
    ev *head, *tail;
    atomic_bool active;
    atomic_int epoch;
    atomic_int resignations;
    /* ---- controller thread only ---- */
    bool retry_elect;            /* run the election again after ELECT_RETRY_MS */
    int32_t epoch_zkv;           /* /controller_epoch version we wrote (C1) */
    cbroker *brokers;
    int nbrokers;
    ctopic *topics;
    int ntopics;
    zk_damage damaged;           /* znodes found damaged (its own lock) */
    /* leadership operations (controller_leaders.c; C30-C39) */
    int32_t shutting[CTL_MAX_BROKERS];       /* brokers in controlled shutdown (C30) */
    int64_t shutting_epoch[CTL_MAX_BROKERS]; /* ... for this registration only */
    int nshutting;
    int32_t drained[CTL_MAX_BROKERS];        /* samsa.leadership.drained=true (C34) */
    int ndrained;
    int64_t next_rebalance_ms;               /* mono_ms of the next imbalance check */
    int64_t next_drain_check_ms;             /* ... of the next look at drained leaders */
};

/* Any thread: run fn(c, arg) on the controller thread and wait for it;
 * its result, or KERR_NOT_CONTROLLER when the controller stops first.
 * fn must check c->active itself (C11). */
int16_t ctl_call(controller *c, ctl_call_fn fn, void *arg);

/* ---- controller thread only ---- */

int64_t ctl_now_ms(void);
/* The live broker `id` (registered), or NULL. */
const cbroker *ctl_live_broker(const controller *c, int32_t id);
/* Live ids in registration order into out[CTL_MAX_BROKERS]; their count. */
int ctl_live_ids(const controller *c, int32_t *out);
ctopic *ctl_find_topic(controller *c, const char *name);
/* Partition i's assigned replicas. */
id_set ctl_assigned(const ctopic *t, int32_t i);
/* Its live assigned replicas into out[ZKL_MAX_REPLICAS]; their count. */
int ctl_live_assigned(const controller *c, const ctopic *t, int32_t i, int32_t *out);
/* The boolean `key` of the config znode at path; dflt when absent. */
bool ctl_config_bool(controller *c, const char *path, const char *key, bool dflt);

/* Stop acting as controller; retry: run for election again shortly. */
void ctl_resign(controller *c, const char *why, bool retry);
/* Resign because a ZooKeeper call failed (retry unless the session expired). */
void ctl_zk_trouble(controller *c, const char *what, zk_rc rc);

/* (Re)load topic `name` from ZooKeeper (assignment watched, configs, new
 * partitions' states); *out NULL when gone or undecodable.  -1 after
 * resigning. */
int ctl_load_topic(controller *c, const char *name, ctopic **out);

/* Write partition i's state ns under C1.  0: written (marked dirty);
 * 1: the znode had moved (re-read: recompute); -1: resigned. */
int ctl_write_state(controller *c, ctopic *t, int32_t i, zkl_partition_state *ns);
/* Bring partition i (or every partition of t, or of every topic when t is
 * NULL) to the state the live brokers call for; -1 after resigning. */
int ctl_reconcile_partition(controller *c, ctopic *t, int32_t i);
int ctl_reconcile(controller *c, ctopic *t);

enum ctl_flush_flags {
    FL_LAI = 1,                  /* LeaderAndIsr for written partitions */
    FL_UM_ALL = 2,               /* UpdateMetadata to every live broker even if nothing was written */
};
/* Tell the brokers what was written since the last flush: LeaderAndIsr to
 * the replicas of written partitions (FL_LAI; full to the brokers in
 * `fresh`), UpdateMetadata to every live broker (full to `fresh`). */
void ctl_flush(controller *c, const int32_t *fresh, int nfresh, int flags);

/* Partition reassignment (controller_reassign.c).  Complete partition
 * p's reassignment if its target replicas are all in the ISR (called after
 * an ISR change); resume every reassignment found in ZooKeeper (after
 * becoming controller, and when brokers come and go).  -1 after resigning. */
int ctl_reassign_check(controller *c, ctopic *t, int32_t p);
int ctl_reassign_resume(controller *c);

/* ---- leadership operations (controller_leaders.c) ---- */

/* The brokers never chosen as leader (live, in controlled shutdown: C30)
 * and those chosen only as a last resort (drained: C34), into
 * buf[CTL_MAX_BROKERS]. */
id_set ctl_excluded(const controller *c, int32_t *buf);
id_set ctl_avoided(const controller *c);
bool ctl_is_shutting_down(const controller *c, int32_t id);
bool ctl_is_drained(const controller *c, int32_t id);
/* The leader an offline partition i gets (the rule of compute()), with
 * C30 and C34 applied; -1 when none. */
int32_t ctl_elect_offline(const controller *c, const ctopic *t, int32_t i, id_set isr,
                          id_set live, bool unclean, bool *unclean_out);
/* Move partition i's leadership to `leader` (in its ISR), epoch + 1,
 * optionally dropping `drop` from the ISR (-1: none).  0 written, 1 gave
 * up (the state kept moving or no longer allows it), -1 resigned. */
int ctl_move_leader(controller *c, ctopic *t, int32_t i, int32_t leader, int32_t drop);
/* A preferred election for partition i (C33): *err KERR_NONE (moved),
 * ELECTION_NOT_NEEDED, PREFERRED_LEADER_NOT_AVAILABLE or
 * UNKNOWN_TOPIC_OR_PARTITION (no state yet).  -1 after resigning. */
int ctl_elect_preferred(controller *c, ctopic *t, int32_t i, int16_t *err);
/* After winning: read the drained brokers (watching /config/changes). -1
 * after resigning. */
int ctl_leaders_load(controller *c);
/* /config/changes moved: re-read the drained brokers and act on changes. */
void ctl_leaders_config_changed(controller *c);
/* The periodic tasks (auto leader rebalance): the mono_ms at which the
 * next is due (INT64_MAX: none), and run those due. */
int64_t ctl_timer_next(const controller *c);
void ctl_timer_run(controller *c);
/* Forget the leadership state (on resigning). */
void ctl_leaders_forget(controller *c);

#endif
