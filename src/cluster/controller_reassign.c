/*
 * controller_reassign.c - partition reassignment (KIP-455), the way
 * Kafka's ZooKeeper-mode controller runs it.  Controller thread only,
 * except the two public entry points, which go through ctl_call.
 *
 * Names, per partition (Kafka's):
 *   ORS  the original replicas           RS  the replicas now (znode "partitions")
 *   TRS  the target replicas             AR  adding = TRS - ORS
 *                                        RR  removing = ORS - TRS
 * The whole state is in /brokers/topics/T (RS, AR, RR: Kafka's layout), so
 * ORS = RS - AR and TRS = RS - RR can be recomputed by any controller.
 *
 * Start (controller_alter_reassignments, a partition with a target):
 *   1. RS = TRS ++ ORS (distinct, target first: Kafka's order), AR, RR
 *      written to the topic znode (C20); with a reassignment already
 *      running, ORS is the original one and replicas it was adding that
 *      the new target drops are stopped and deleted (step 3);
 *   2. the leader epoch is bumped (C4) and LeaderAndIsr (replicas = RS,
 *      adding, removing) goes to RS: the new replicas create their logs and
 *      fetch; UpdateMetadata to every broker;
 *   3. StopReplica(delete) to the dropped replicas of step 1;
 *   4. if TRS is already in the ISR: complete at once.
 * Complete (an AlterPartition put the last target replica in the ISR, a
 * broker came back, or a new controller resumes): only when TRS is in the
 * ISR (C21) and a live member of TRS is in the ISR:
 *   1. the state: leader = itself if it is in TRS and live, else the
 *      first live replica of TRS in the ISR (C22); ISR = ISR ∩ TRS (C23);
 *      leader epoch + 1 (C4); one C1 write;
 *   2. the topic znode: RS = TRS, AR and RR gone (C20);
 *   3. LeaderAndIsr to TRS, UpdateMetadata to all;
 *   4. StopReplica(delete) to RR (C21: after 1 and 2 are in ZooKeeper).
 * Cancel (replicas null): the target becomes ORS; it completes at once
 * with the dropped replicas being AR, as long as some original replica is
 * in the ISR (C24).
 *
 * Rules (docs/cluster.md §8, docs/controller.md):
 *   C20 a reassignment's state (RS, AR, RR) is written to the topic znode,
 *       under C1, before any broker is told; a new controller resumes from
 *       it.
 *   C21 a removed replica is told to delete its log only after every
 *       target replica is in the ISR and the final state and assignment
 *       (RS = TRS) are in ZooKeeper.
 *   C22 during a reassignment the leader moves only to a live replica in
 *       TRS ∩ ISR (never outside the ISR), with the leader epoch bumped.
 *   C23 the final ISR is ISR ∩ TRS, which holds the leader: never empty.
 *   C24 a cancellation is refused while no original replica is in the
 *       ISR: dropping the adding replicas would drop every in-sync copy.
 */
#include "cluster/controller.h"
#include "cluster/controller_int.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/errors.h"
#include "core/log.h"

#define MOD "controller"
#define WRITE_ATTEMPTS 3

/* dst = src[0..n) (src may be NULL when n is 0). */
static void ids_copy(int32_t *dst, const int32_t *src, int n)
{
    if (n > 0)
        memcpy(dst, src, (size_t)n * sizeof *dst);
}

/* out = a - b (order of a); its size. */
static int ids_minus(id_set a, id_set b, int32_t *out)
{
    int n = 0;
    for (int i = 0; i < a.n; i++)
        if (!id_set_has(b, a.v[i]))
            out[n++] = a.v[i];
    return n;
}

/* The original replicas (RS - AR) and the target (RS - RR) of p. */
static int ors_of(const ctopic *t, int32_t p, int32_t *out)
{
    const zkl_assignment *a = &t->a;
    id_set ar = { a->nadding ? a->adding[p] : NULL, a->nadding ? a->nadding[p] : 0 };
    return ids_minus(ctl_assigned(t, p), ar, out);
}

static int trs_of(const ctopic *t, int32_t p, int32_t *out)
{
    const zkl_assignment *a = &t->a;
    id_set rr = { a->nremoving ? a->removing[p] : NULL, a->nremoving ? a->nremoving[p] : 0 };
    return ids_minus(ctl_assigned(t, p), rr, out);
}

/* Write partition p's replicas / adding / removing to the topic znode
 * (read-modify-write at the znode's version, with the /controller_epoch
 * check: C1, C20), then reload the topic.  0 written; -1 resigned or
 * gone (*msg says). */
static int write_assignment(controller *c, ctopic **tp, int32_t p, const int32_t *rep, int nrep,
                            const int32_t *add, int nadd, const int32_t *rem, int nrem)
{
    char path[ZKL_MAX_PATH], err[160];
    const char *name = (*tp)->name;
    char *nm = strdup(name);
    if (!nm || zkl_path_topic(path, sizeof path, name) < 0) {
        free(nm);
        return -1;
    }
    int rc = -1;
    for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        char *data;
        size_t len;
        zk_stat st;
        zk_rc zr = zk_get(c->zs, path, false, &data, &len, &st);
        if (zr != ZKR_OK) {
            if (zr != ZKR_NONODE)
                ctl_zk_trouble(c, "read of a topic assignment", zr);
            goto out;
        }
        zkl_assignment a;
        int d = zkl_assignment_decode(data, len, &a, err, sizeof err);
        free(data);
        if (d < 0) {
            LOG_ERR(MOD, "%s does not decode (%s): reassignment not written", path, err);
            goto out;
        }
        char *body = zkl_assignment_set(&a, p, rep, nrep, add, nadd, rem, nrem) == 0
                         ? zkl_assignment_encode(&a) : NULL;
        zkl_assignment_free(&a);
        if (!body) {
            ctl_resign(c, "out of memory", true);
            goto out;
        }
        zk_op ops[2] = {
            { .type = ZKOP_CHECK, .path = ZK_PATH_CONTROLLER_EPOCH, .version = c->epoch_zkv },
            { .type = ZKOP_SET, .path = path, .data = body, .len = strlen(body),
              .version = st.version },
        };
        int failed;
        zr = zk_multi(c->zs, ops, 2, &failed);
        free(body);
        if (zr == ZKR_OK) {
            rc = ctl_load_topic(c, nm, tp) < 0 || !*tp ? -1 : 0;
            goto out;
        }
        if (failed == 0) {
            ctl_resign(c, "fenced: /controller_epoch changed since this controller won", true);
            goto out;
        }
        if (!(failed == 1 && zr == ZKR_BADVERSION)) {
            ctl_zk_trouble(c, "topic assignment write", zr);
            goto out;
        }
        /* someone else changed the topic (partitions added): again */
    }
    LOG_WRN(MOD, "%s kept changing: reassignment of partition %d not written", path, p);
out:
    free(nm);
    return rc;
}

/* StopReplica for partition p of t to the live brokers in `who`. */
static void stop_replicas(controller *c, const ctopic *t, int32_t p, id_set who, int32_t epoch,
                          bool del)
{
    for (int i = 0; i < who.n; i++) {
        const cbroker *b = ctl_live_broker(c, who.v[i]);
        if (!b) {
            LOG_WRN(MOD, "%s-%d: removed replica %d is not live: its log stays on its disk",
                    t->name, p, who.v[i]);
            continue;
        }
        stop_replica_req_partition_states ps = { .partition_index = p, .leader_epoch = epoch,
                                                 .delete_partition = del };
        stop_replica_req_topic_states ts = { .topic_name = { t->name, (int32_t)strlen(t->name) },
                                             .partition_states = { 1, &ps } };
        int32_t idx = p;
        stop_replica_req_topics tp = { .name = ts.topic_name, .partition_indexes = { 1, &idx } };
        stop_replica_req req = { .controller_id = c->cfg.broker_id,
                                 .controller_epoch = atomic_load(&c->epoch),
                                 .broker_epoch = b->epoch, .delete_partitions = del,
                                 .topic_states = { 1, &ts }, .topics = { 1, &tp } };
        c->ch.stop_replica(c->ch.ctx, b->id, &req);
    }
}

/* Finish partition p's reassignment towards trs, dropping rr.  wait_isr:
 * only once every replica of trs is in the ISR (C21; a cancellation does
 * not wait: the original replicas out of the ISR stay and catch up).
 * 0: done, or not ready; -1: resigned. */
static int finish(controller *c, ctopic *t, int32_t p, const int32_t *trs, int ntrs,
                  const int32_t *rr, int nrr, bool wait_isr)
{
    if (!t->parts[p].has_state)
        return 0;
    const zkl_partition_state *st = &t->parts[p].st;
    id_set isr = { st->isr, st->nisr }, target = { trs, ntrs };
    for (int i = 0; wait_isr && i < ntrs; i++)
        if (!id_set_has(isr, trs[i]))
            return 0;                             /* C21: not yet */
    int32_t live[CTL_MAX_BROKERS];
    int nlive = ctl_live_ids(c, live);
    int32_t leader = st->leader;
    if (!id_set_has(target, leader) || !ctl_live_broker(c, leader))
        leader = election_reassignment(target, isr, (id_set){ live, nlive });   /* C22 */
    if (leader < 0) {
        LOG_WRN(MOD, "%s-%d: reassignment waits: no live target replica in the ISR", t->name, p);
        return 0;
    }
    zkl_partition_state ns = *st;
    ns.leader = leader;
    ns.nisr = 0;
    for (int i = 0; i < st->nisr; i++)            /* C23: ISR ∩ TRS, holds the leader */
        if (id_set_has(target, st->isr[i]))
            ns.isr[ns.nisr++] = st->isr[i];
    ns.leader_epoch = st->leader_epoch + 1;       /* C4 */
    int w = ctl_write_state(c, t, p, &ns);
    if (w < 0)
        return -1;
    if (w > 0)
        return 0;                                 /* moved: the next event looks again */
    int32_t keep_rr[ZKL_MAX_REPLICAS];
    ids_copy(keep_rr, rr, nrr);   /* rr may point into t->a */
    int32_t keep_trs[ZKL_MAX_REPLICAS];
    ids_copy(keep_trs, trs, ntrs);
    if (write_assignment(c, &t, p, keep_trs, ntrs, NULL, 0, NULL, 0) < 0)   /* C20 */
        return atomic_load(&c->active) ? 0 : -1;
    LOG_INF(MOD, "%s-%d: reassignment done: %d replicas, leader %d (epoch %d)", t->name, p, ntrs,
            leader, ns.leader_epoch);
    ctl_flush(c, NULL, 0, FL_LAI);
    /* C21: the state and RS = TRS are in ZooKeeper: the removed go. */
    stop_replicas(c, t, p, (id_set){ keep_rr, nrr }, ns.leader_epoch, true);
    if (nrr) {
        /* Once its log is gone a removed replica takes the state from
         * UpdateMetadata (it only describes the partition now): again,
         * after the StopReplica, so its Metadata names the new leader. */
        t->parts[p].dirty = true;
        ctl_flush(c, NULL, 0, 0);
    }
    return 0;
}

/* Complete p's reassignment if its target is in the ISR. */
static int complete(controller *c, ctopic *t, int32_t p)
{
    if (!zkl_assignment_reassigning(&t->a, p))
        return 0;
    int32_t trs[ZKL_MAX_REPLICAS];
    int ntrs = trs_of(t, p, trs);
    return finish(c, t, p, trs, ntrs, t->a.removing[p], t->a.nremoving[p], true);
}

int ctl_reassign_check(controller *c, ctopic *t, int32_t p)
{
    if (!atomic_load(&c->active) || p < 0 || p >= t->a.npartitions)
        return 0;
    return complete(c, t, p);
}

int ctl_reassign_resume(controller *c)
{
    for (int k = 0; k < c->ntopics; k++) {
        ctopic *t = &c->topics[k];
        for (int32_t p = 0; p < t->a.npartitions; p++) {
            if (!zkl_assignment_reassigning(&t->a, p))
                continue;
            if (complete(c, t, p) < 0)
                return -1;
            t = &c->topics[k];                    /* reloaded in place */
        }
    }
    return 0;
}

/* ---- AlterPartitionReassignments --------------------------------------- */

static void set_msg(controller_reassignment *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void set_msg(controller_reassignment *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* The state a reassignment starts with: leader epoch + 1 (C4); replicas
 * a replaced reassignment was adding and the new one drops leave the ISR,
 * and the leadership if they held it (the first live replica of rs left in
 * the ISR leads, C22).  false when no live in-sync replica would remain. */
static bool start_state(const controller *c, const zkl_partition_state *st, id_set drop,
                        id_set rs, zkl_partition_state *ns)
{
    *ns = *st;
    ns->nisr = ids_minus((id_set){ st->isr, st->nisr }, drop, ns->isr);
    if (id_set_has(drop, st->leader)) {
        int32_t live[CTL_MAX_BROKERS];
        int nlive = ctl_live_ids(c, live);
        ns->leader = election_reassignment(rs, (id_set){ ns->isr, ns->nisr }, (id_set){ live, nlive });
        if (ns->leader < 0)
            return false;
    }
    ns->leader_epoch = st->leader_epoch + 1;
    return ns->nisr > 0;
}

/* Start (or replace) partition p's reassignment towards target. */
static int16_t start(controller *c, ctopic *t, controller_reassignment *r)
{
    int32_t p = r->partition;
    int32_t ors[ZKL_MAX_REPLICAS], rs[2 * ZKL_MAX_REPLICAS], ar[ZKL_MAX_REPLICAS],
        rr[ZKL_MAX_REPLICAS], drop[ZKL_MAX_REPLICAS];
    int nors = ors_of(t, p, ors), nrs = 0;
    id_set target = { r->replicas, r->nreplicas };
    for (int i = 0; i < target.n; i++)
        rs[nrs++] = target.v[i];
    for (int i = 0; i < nors; i++)
        if (!id_set_has(target, ors[i]))
            rs[nrs++] = ors[i];
    if (nrs > ZKL_MAX_REPLICAS) {
        set_msg(r, "more than %d replicas during the reassignment", ZKL_MAX_REPLICAS);
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    int nar = ids_minus((id_set){ rs, nrs }, (id_set){ ors, nors }, ar);
    int nrr = ids_minus((id_set){ rs, nrs }, target, rr);
    /* replicas the running reassignment was adding that this one drops */
    int ndrop = ids_minus(ctl_assigned(t, p), (id_set){ rs, nrs }, drop);
    id_set cur = ctl_assigned(t, p);
    bool same = !zkl_assignment_reassigning(&t->a, p) && cur.n == target.n &&
                !memcmp(cur.v, target.v, (size_t)target.n * sizeof *target.v);
    if (same)
        return KERR_NONE;                         /* already there */
    cpart *cp = &t->parts[p];
    bool online = cp->has_state && cp->st.leader >= 0;
    zkl_partition_state ns;
    if (online && !start_state(c, &cp->st, (id_set){ drop, ndrop }, (id_set){ rs, nrs }, &ns)) {
        set_msg(r, "the new replica list drops every live in-sync replica of %s-%d", t->name, p);
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    /* The state first (C4: the new replica list reaches every replica by
     * a newer epoch; dropped replicas leave the ISR and the leadership,
     * C22), then the assignment (C20). */
    for (int attempt = 0; online && attempt < WRITE_ATTEMPTS; attempt++) {
        if (attempt && !start_state(c, &cp->st, (id_set){ drop, ndrop }, (id_set){ rs, nrs }, &ns))
            break;
        int w = ctl_write_state(c, t, p, &ns);
        if (w < 0)
            return KERR_NOT_CONTROLLER;
        if (w == 0)
            break;
    }
    if (write_assignment(c, &t, p, rs, nrs, ar, nar, rr, nrr) < 0)    /* C20 */
        return KERR_NOT_CONTROLLER;
    LOG_INF(MOD, "%s-%d: reassignment started: %d replicas, adding %d, removing %d", t->name, p,
            nrs, nar, nrr);
    cp = &t->parts[p];
    if (!online && ctl_reconcile_partition(c, t, p) < 0)
        return KERR_NOT_CONTROLLER;
    ctl_flush(c, NULL, 0, FL_LAI);
    if (ndrop)
        stop_replicas(c, t, p, (id_set){ drop, ndrop }, cp->st.leader_epoch, true);
    return complete(c, t, p) < 0 ? KERR_NOT_CONTROLLER : KERR_NONE;
}

static int16_t cancel(controller *c, ctopic *t, controller_reassignment *r)
{
    int32_t p = r->partition;
    if (!zkl_assignment_reassigning(&t->a, p)) {
        set_msg(r, "No reassignment in progress for %s-%d", t->name, p);
        return KERR_NO_REASSIGNMENT_IN_PROGRESS;
    }
    int32_t ors[ZKL_MAX_REPLICAS], ar[ZKL_MAX_REPLICAS];
    int nors = ors_of(t, p, ors);
    int nar = t->a.nadding[p];
    ids_copy(ar, t->a.adding[p], nar);
    const cpart *cp = &t->parts[p];
    bool some = false;
    for (int i = 0; cp->has_state && i < nors; i++)
        some |= id_set_has((id_set){ cp->st.isr, cp->st.nisr }, ors[i]) &&
                ctl_live_broker(c, ors[i]);
    if (!some) {                                  /* C24 */
        set_msg(r, "cannot cancel the reassignment of %s-%d: no original replica is live and "
                   "in sync", t->name, p);
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    LOG_INF(MOD, "%s-%d: cancelling the reassignment: back to %d replicas", t->name, p, nors);
    return finish(c, t, p, ors, nors, ar, nar, false) < 0 ? KERR_NOT_CONTROLLER : KERR_NONE;
}

/* Kafka's validateReplicas: 0 or the error (r->message set). */
static int16_t validate(controller *c, const ctopic *t, controller_reassignment *r)
{
    id_set rep = { r->replicas, r->nreplicas };
    if (rep.n == 0) {
        set_msg(r, "Empty replica list specified in partition reassignment.");
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    if (rep.n > ZKL_MAX_REPLICAS) {
        set_msg(r, "More than %d replicas in partition reassignment.", ZKL_MAX_REPLICAS);
        return KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    for (int i = 0; i < rep.n; i++) {
        for (int j = 0; j < i; j++)
            if (rep.v[i] == rep.v[j]) {
                set_msg(r, "Duplicate replica ids in partition reassignment replica list: %d",
                        rep.v[i]);
                return KERR_INVALID_REPLICA_ASSIGNMENT;
            }
        if (rep.v[i] < 0) {
            set_msg(r, "Invalid broker id in replica list: %d", rep.v[i]);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    /* the replicas it would add must be live brokers */
    int32_t ors[ZKL_MAX_REPLICAS];
    int nors = t && r->partition >= 0 && r->partition < t->a.npartitions
                   ? ors_of(t, r->partition, ors) : 0;
    for (int i = 0; i < rep.n; i++)
        if (!id_set_has((id_set){ ors, nors }, rep.v[i]) && !ctl_live_broker(c, rep.v[i])) {
            set_msg(r, "Replica assignment has brokers that are not alive: broker %d is not "
                       "registered", rep.v[i]);
            return KERR_INVALID_REPLICA_ASSIGNMENT;
        }
    return KERR_NONE;
}

static bool deletion_pending(controller *c, const char *topic)
{
    char path[ZKL_MAX_PATH];
    if (snprintf(path, sizeof path, "%s/%s", ZK_PATH_DELETE_TOPICS, topic) >= (int)sizeof path)
        return false;
    return zk_exists(c->zs, path, false, NULL) == ZKR_OK;
}

typedef struct alter_call {
    controller_reassignment *v;
    int n;
} alter_call;

static int16_t do_alter(controller *c, void *arg)
{
    alter_call *ac = arg;
    if (!atomic_load(&c->active))
        return KERR_NOT_CONTROLLER;
    for (int i = 0; i < ac->n; i++) {
        controller_reassignment *r = &ac->v[i];
        r->message[0] = 0;
        ctopic *t = ctl_find_topic(c, r->topic);
        bool known = t && r->partition >= 0 && r->partition < t->a.npartitions;
        if (r->nreplicas >= 0 && (r->error = validate(c, known ? t : NULL, r)))
            continue;
        if (!known || deletion_pending(c, r->topic)) {
            if (r->nreplicas < 0) {
                set_msg(r, "No reassignment in progress for %s-%d", r->topic, r->partition);
                r->error = KERR_NO_REASSIGNMENT_IN_PROGRESS;
            } else {
                r->error = KERR_UNKNOWN_TOPIC_OR_PARTITION;
            }
            continue;
        }
        r->error = r->nreplicas < 0 ? cancel(c, t, r) : start(c, t, r);
        if (!atomic_load(&c->active))
            return KERR_NOT_CONTROLLER;
    }
    return KERR_NONE;
}

int16_t controller_alter_reassignments(controller *c, controller_reassignment *v, int n)
{
    alter_call ac = { v, n };
    return ctl_call(c, do_alter, &ac);
}

typedef struct list_call {
    const controller_reassign_filter *f;
    int nf;
    controller_ongoing *out;
    int n, cap;
} list_call;

static bool wanted(const list_call *lc, const char *topic, int32_t p)
{
    if (lc->nf < 0)
        return true;
    for (int i = 0; i < lc->nf; i++)
        if (!strcmp(lc->f[i].topic, topic) && lc->f[i].partition == p)
            return true;
    return false;
}

static int16_t do_list(controller *c, void *arg)
{
    list_call *lc = arg;
    if (!atomic_load(&c->active))
        return KERR_NOT_CONTROLLER;
    for (int k = 0; k < c->ntopics; k++) {
        const ctopic *t = &c->topics[k];
        for (int32_t p = 0; p < t->a.npartitions; p++) {
            if (!zkl_assignment_reassigning(&t->a, p) || !wanted(lc, t->name, p))
                continue;
            if (lc->n == lc->cap) {
                int cap = lc->cap ? 2 * lc->cap : 16;
                controller_ongoing *v = realloc(lc->out, (size_t)cap * sizeof *v);
                if (!v)
                    return KERR_UNKNOWN_SERVER_ERROR;
                lc->out = v;
                lc->cap = cap;
            }
            controller_ongoing *o = &lc->out[lc->n];
            memset(o, 0, sizeof *o);
            o->topic = strdup(t->name);
            if (!o->topic)
                return KERR_UNKNOWN_SERVER_ERROR;
            lc->n++;
            o->partition = p;
            id_set rs = ctl_assigned(t, p);
            o->nreplicas = rs.n;
            ids_copy(o->replicas, rs.v, rs.n);
            o->nadding = t->a.nadding[p];
            ids_copy(o->adding, t->a.adding[p], o->nadding);
            o->nremoving = t->a.nremoving[p];
            ids_copy(o->removing, t->a.removing[p], o->nremoving);
        }
    }
    return KERR_NONE;
}

int16_t controller_list_reassignments(controller *c, const controller_reassign_filter *f, int nf,
                                      controller_ongoing **out, int *n)
{
    list_call lc = { .f = f, .nf = nf };
    int16_t err = ctl_call(c, do_list, &lc);
    if (err) {
        controller_ongoing_free(lc.out, lc.n);
        lc.out = NULL;
        lc.n = 0;
    }
    *out = lc.out;
    *n = lc.n;
    return err;
}

void controller_ongoing_free(controller_ongoing *v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i].topic);
    free(v);
}
