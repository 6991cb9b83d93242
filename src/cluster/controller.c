/*
 * controller.c - see controller.h; the design is docs/controller.md.
 *
 * One thread runs handle() for one event at a time.  The ZooKeeper
 * listener (on libzookeeper's completion thread) and
 * ctl_call (controller_alter_partition and the admin operations, on
 * request threads) only post events.
 * Everything below the "controller thread" line is owned by that thread.
 *
 * Rules kept here (numbered as in docs/cluster-design.md §7 and
 * docs/controller.md):
 *   C1  every partition-state write is one zoo_multi: a version check of
 *       /controller_epoch (the version this controller wrote when it won)
 *       plus the create/compare-and-set of the state znode.  A failed
 *       epoch check means a newer controller exists: resign.  A failed
 *       state version means the znode moved: re-read and recompute.
 *   C4  the leader epoch is bumped on every leader change, and on every
 *       ISR change the controller makes itself (a broker died), so the
 *       leader, which ignores LeaderAndIsr at an epoch it holds, hears it.
 *   C5  a new leader comes from the ISR (election_offline) unless unclean
 *       election is enabled; an unclean leader's ISR is just itself.
 *   C10 the last ISR member is kept when it dies, and the partition goes
 *       offline (leader -1) so a clean election can happen when it
 *       returns (election_isr_without).
 *   C11 the controller acts only while active: every event but ELECT,
 *       STOP and CALL is dropped otherwise, and a CALL (AlterPartition and
 *       the admin operations) gets NOT_CONTROLLER.
 *   C12 a broker that re-registered (new broker epoch) is first handled
 *       as failed (leaders move away, it leaves the ISR), then as joined.
 *   C30-C36 (who may lead: controlled shutdown, drained brokers,
 *       preferred and unclean elections) are in controller_leaders.c,
 *       controller_shutdown.c and controller_elect.c; compute() and
 *       handle_alter apply C30, C31 and C34 through their helpers.
 */
#include "cluster/controller.h"
#include "cluster/controller_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cluster/election.h"
#include "cluster/zk_damage.h"
#include "core/arena.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"

#define MOD "controller"
#define ELECT_RETRY_MS 500
#define WRITE_ATTEMPTS 3
/* Kafka's markers in UpdateMetadata/StopReplica for a topic being deleted. */
#define LEADER_DURING_DELETE (-2)
#define EPOCH_DURING_DELETE (-2)
/* LeaderAndIsr v5+ `type` (Kafka's AbstractControlRequest.Type). */
#define LAI_TYPE_INCREMENTAL 1
#define LAI_TYPE_FULL 2

/* ---- events (any thread) ------------------------------------------------ */

static bool post(controller *c, enum ev_type type, const char *arg, ctl_call_req *call)
{
    ev *e = calloc(1, sizeof *e);
    if (!e || (arg && !(e->arg = strdup(arg)))) {
        free(e);
        LOG_ERR(MOD, "out of memory: a controller event is lost");
        return false;
    }
    e->type = type;
    e->call = call;
    pthread_mutex_lock(&c->lock);
    if (c->tail)
        c->tail->next = e;
    else
        c->head = e;
    c->tail = e;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    return true;
}

/* A watch armed on a damaged znode (report_damaged) fired: re-read what it
 * feeds (bad input, docs/cluster.md §11). */
static void on_damaged_event(controller *c, const char *path)
{
    static const char ids[] = ZK_PATH_BROKER_IDS "/", topics[] = ZK_PATH_BROKER_TOPICS "/";
    if (!strcmp(path, ZK_PATH_CONTROLLER_EPOCH) || !strcmp(path, ZK_PATH_CONTROLLER)) {
        post(c, EV_ELECT, NULL, NULL);
    } else if (!strncmp(path, ids, sizeof ids - 1)) {
        post(c, EV_BROKERS, NULL, NULL);
    } else if (!strncmp(path, topics, sizeof topics - 1)) {
        char name[ZKL_MAX_PATH];            /* /brokers/topics/T/partitions/P/state */
        snprintf(name, sizeof name, "%s", path + sizeof topics - 1);
        char *slash = strchr(name, '/');
        if (slash)
            *slash = 0;
        post(c, EV_TOPIC_CHANGED, name, NULL);
    }
}

static void on_zk_event(zk_session *s, enum zk_event what, const char *path, void *ctx)
{
    (void)s;
    controller *c = ctx;
    static const char topics_prefix[] = ZK_PATH_BROKER_TOPICS "/";
    if (what == ZKE_EXPIRED)
        post(c, EV_EXPIRED, NULL, NULL);
    else if (!strcmp(path, ZK_PATH_CONTROLLER) && (what == ZKE_DELETED || what == ZKE_CREATED ||
                                                   what == ZKE_CHANGED))
        post(c, EV_ELECT, NULL, NULL);
    else if (!strcmp(path, ZK_PATH_BROKER_IDS) && what == ZKE_CHILD)
        post(c, EV_BROKERS, NULL, NULL);
    else if (!strcmp(path, ZK_PATH_BROKER_TOPICS) && what == ZKE_CHILD)
        post(c, EV_TOPICS, NULL, NULL);
    else if (!strcmp(path, ZK_PATH_DELETE_TOPICS) && what == ZKE_CHILD)
        post(c, EV_DELETES, NULL, NULL);
    else if (!strcmp(path, ZK_PATH_CONFIG_CHANGES) && what == ZKE_CHILD)
        post(c, EV_CONFIG_CHANGES, NULL, NULL);   /* drained brokers (C34) */
    else if (what == ZKE_CHANGED && !strncmp(path, topics_prefix, sizeof topics_prefix - 1) &&
             !strchr(path + sizeof topics_prefix - 1, '/'))
        post(c, EV_TOPIC_CHANGED, path + sizeof topics_prefix - 1, NULL);
    else if (what == ZKE_CHANGED && !strncmp(path, ZK_PATH_BROKER_IDS "/",
                                             sizeof ZK_PATH_BROKER_IDS))
        post(c, EV_BROKERS, NULL, NULL);         /* a registration edited in place */
    else if (zk_damage_has(&c->damaged, path))
        on_damaged_event(c, path);
}

/* ---- controller thread -------------------------------------------------- */

int64_t ctl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* path's data does not decode: an error naming it and what is wrong, once
 * per version (czxid, version), never a rewrite; watch: arm a data watch so
 * its repair comes back as an event (on_damaged_event). */
static void report_damaged(controller *c, const char *path, const zk_stat *st, const char *what,
                           const char *effect, bool watch)
{
    if (zk_damage_note(&c->damaged, path, st->czxid, st->version))
        LOG_ERR(MOD, "%s does not decode (%s): %s; left as it is, never rewritten", path, what,
                effect);
    if (watch)
        zk_exists(c->zs, path, true, NULL);
}

static void report_repaired(controller *c, const char *path)
{
    if (zk_damage_clear(&c->damaged, path))
        LOG_INF(MOD, "%s decodes again", path);
}

static void free_topic(ctopic *t)
{
    free(t->name);
    zkl_assignment_free(&t->a);
    free(t->parts);
}

static void forget_all(controller *c)
{
    for (int i = 0; i < c->ntopics; i++)
        free_topic(&c->topics[i]);
    free(c->topics);
    free(c->brokers);
    c->topics = NULL;
    c->ntopics = 0;
    c->brokers = NULL;
    c->nbrokers = 0;
    ctl_leaders_forget(c);
}

const cbroker *ctl_live_broker(const controller *c, int32_t id)
{
    for (int i = 0; i < c->nbrokers; i++)
        if (c->brokers[i].id == id)
            return &c->brokers[i];
    return NULL;
}

ctopic *ctl_find_topic(controller *c, const char *name)
{
    for (int i = 0; i < c->ntopics; i++)
        if (!strcmp(c->topics[i].name, name))
            return &c->topics[i];
    return NULL;
}

static void remove_topic(controller *c, ctopic *t)
{
    int i = (int)(t - c->topics);
    free_topic(t);
    c->topics[i] = c->topics[--c->ntopics];
}

/* Stop acting as controller.  Our /controller node is deleted (so an
 * election can happen) unless someone else holds it; retry: run for
 * election again shortly (a newer controller, if any, keeps the node). */
void ctl_resign(controller *c, const char *why, bool retry)
{
    if (atomic_load(&c->active)) {
        LOG_WRN(MOD, "broker %d resigns as controller (epoch %d): %s", c->cfg.broker_id,
                atomic_load(&c->epoch), why);
        atomic_store(&c->active, false);
        atomic_fetch_add(&c->resignations, 1);
        zk_stat st;
        if (zk_exists(c->zs, ZK_PATH_CONTROLLER, false, &st) == ZKR_OK &&
            st.ephemeral_owner == zk_session_id(c->zs))
            zk_delete(c->zs, ZK_PATH_CONTROLLER, st.version);
    }
    forget_all(c);
    c->retry_elect = retry;
}

void ctl_zk_trouble(controller *c, const char *what, zk_rc rc)
{
    char why[256];
    snprintf(why, sizeof why, "ZooKeeper %s failed: %s", what, zk_rc_str(rc));
    ctl_resign(c, why, rc != ZKR_EXPIRED);
}

/* live ids, in registration order */
int ctl_live_ids(const controller *c, int32_t *out)
{
    for (int i = 0; i < c->nbrokers; i++)
        out[i] = c->brokers[i].id;
    return c->nbrokers;
}

/* -- reading ZooKeeper -- */

/* Re-read /brokers/ids (watch armed).  joined/left: ids whose registration
 * is new or gone (a re-registered broker, new czxid, is in both).  Returns
 * 0, or -1 after resigning on ZooKeeper trouble. */
static int load_brokers(controller *c, int32_t *joined, int *njoined, int32_t *left, int *nleft)
{
    char **names;
    int n;
    zk_rc rc = zk_children(c->zs, ZK_PATH_BROKER_IDS, true, &names, &n);
    if (rc != ZKR_OK) {
        ctl_zk_trouble(c, "read of " ZK_PATH_BROKER_IDS, rc);
        return -1;
    }
    cbroker *nb = calloc((size_t)(n > 0 ? n : 1), sizeof *nb);
    if (!nb) {
        zk_free_strings(names, n);
        ctl_resign(c, "out of memory", true);
        return -1;
    }
    int k = 0;
    int use = n;
    if (use > CTL_MAX_BROKERS) {
        LOG_ERR(MOD, "%d registered brokers: only the first %d are used", n, CTL_MAX_BROKERS);
        use = CTL_MAX_BROKERS;
    }
    for (int i = 0; i < use; i++) {
        char *end;
        errno = 0;
        long id = strtol(names[i], &end, 10);
        if (errno || *end || end == names[i] || id < 0 || id > INT32_MAX) {
            LOG_WRN(MOD, "ignoring %s/%s: not a broker id", ZK_PATH_BROKER_IDS, names[i]);
            continue;
        }
        char path[ZKL_MAX_PATH], *data, err[160];
        size_t len;
        zk_stat st;
        zkl_path_broker(path, sizeof path, (int32_t)id);
        /* data watch (Kafka's BrokerModificationHandler): an edit re-reads */
        rc = zk_get(c->zs, path, true, &data, &len, &st);
        if (rc == ZKR_NONODE)
            continue;            /* gone meanwhile: the child watch tells us again */
        if (rc != ZKR_OK) {
            free(nb);
            zk_free_strings(names, n);
            ctl_zk_trouble(c, "read of a broker registration", rc);
            return -1;
        }
        if (zkl_broker_decode(data, len, &nb[k].reg, err, sizeof err) < 0) {
            report_damaged(c, path, &st, err, "broker not counted as live", true);
            free(data);
            continue;
        }
        report_repaired(c, path);
        free(data);
        nb[k].id = (int32_t)id;
        nb[k].reg.id = (int32_t)id;
        nb[k].epoch = st.czxid;
        k++;
    }
    zk_free_strings(names, n);
    *njoined = *nleft = 0;
    for (int i = 0; i < k; i++) {
        const cbroker *old = ctl_live_broker(c, nb[i].id);
        if (!old || old->epoch != nb[i].epoch)
            joined[(*njoined)++] = nb[i].id;
    }
    for (int i = 0; i < c->nbrokers; i++) {
        bool same = false;
        for (int j = 0; j < k; j++)
            same |= nb[j].id == c->brokers[i].id && nb[j].epoch == c->brokers[i].epoch;
        if (!same)
            left[(*nleft)++] = c->brokers[i].id;
    }
    free(c->brokers);
    c->brokers = nb;
    c->nbrokers = k;
    return 0;
}

/* Read one partition's state znode into *p. */
static int load_state(controller *c, const ctopic *t, int32_t i, cpart *p)
{
    char path[ZKL_MAX_PATH], *data, err[160];
    size_t len;
    zk_stat st;
    zkl_path_partition_state(path, sizeof path, t->name, i);
    memset(p, 0, sizeof *p);
    zk_rc rc = zk_get(c->zs, path, false, &data, &len, &st);
    if (rc == ZKR_NONODE)
        return 0;
    if (rc != ZKR_OK) {
        ctl_zk_trouble(c, "read of a partition state", rc);
        return -1;
    }
    if (zkl_partition_state_decode(data, len, &p->st, err, sizeof err) < 0) {
        report_damaged(c, path, &st, err, "partition left alone (no election, no ISR change)",
                       true);
        p->bad = true;
    } else {
        report_repaired(c, path);
        p->has_state = true;
        p->st.zk_version = st.version;
    }
    free(data);
    return 0;
}

/* The boolean `key` of the config znode at path (a /config/topics/T or
 * /config/brokers/N entry); dflt when absent or unreadable. */
bool ctl_config_bool(controller *c, const char *path, const char *key, bool dflt)
{
    char *data, err[160];
    size_t len;
    bool v = dflt;
    zk_stat st;
    if (zk_get(c->zs, path, false, &data, &len, &st) != ZKR_OK)
        return v;
    zkl_config cfg;
    if (zkl_config_decode(data, len, &cfg, err, sizeof err) == 0) {
        report_repaired(c, path);
        for (int i = 0; i < cfg.n; i++)
            if (!strcmp(cfg.keys[i], key))
                v = !strcmp(cfg.values[i], "true");
        zkl_config_free(&cfg);
    } else {
        report_damaged(c, path, &st, err, "its settings taken from the broker's defaults", false);
    }
    free(data);
    return v;
}

/* The topic's unclean.leader.election.enable: its /config/topics/T entry,
 * else the broker default. */
static bool topic_unclean(controller *c, const char *name)
{
    char path[ZKL_MAX_PATH];
    if (zkl_path_topic_config(path, sizeof path, name) < 0)
        return c->cfg.unclean_leader_election;
    return ctl_config_bool(c, path, "unclean.leader.election.enable",
                           c->cfg.unclean_leader_election);
}

/* (Re)load topic `name`: assignment (data watch armed), configs, and the
 * state of every partition not known yet.  *t: the topic, NULL when its
 * znode is gone or does not decode.  -1 after resigning. */
int ctl_load_topic(controller *c, const char *name, ctopic **out)
{
    char path[ZKL_MAX_PATH], *data, err[160];
    size_t len;
    *out = NULL;
    if (zkl_path_topic(path, sizeof path, name) < 0) {
        LOG_WRN(MOD, "ignoring topic \"%.64s...\": name too long", name);
        return 0;
    }
    zk_stat st;
    zk_rc rc = zk_get(c->zs, path, true, &data, &len, &st);
    if (rc == ZKR_NONODE)
        return 0;
    if (rc != ZKR_OK) {
        ctl_zk_trouble(c, "read of a topic assignment", rc);
        return -1;
    }
    zkl_assignment a;
    int drc = zkl_assignment_decode(data, len, &a, err, sizeof err);
    free(data);
    if (drc < 0) {               /* its data watch is armed: a repair re-reads it */
        report_damaged(c, path, &st, err, "topic left alone", false);
        return 0;
    }
    report_repaired(c, path);
    ctopic *t = ctl_find_topic(c, name);
    int32_t known = 0;
    if (!t) {
        ctopic *nt = realloc(c->topics, (size_t)(c->ntopics + 1) * sizeof *nt);
        char *nm = strdup(name);
        if (!nt || !nm) {
            if (nt)
                c->topics = nt;
            free(nm);
            zkl_assignment_free(&a);
            ctl_resign(c, "out of memory", true);
            return -1;
        }
        c->topics = nt;
        t = &c->topics[c->ntopics++];
        memset(t, 0, sizeof *t);
        t->name = nm;
    } else {
        known = t->a.npartitions < a.npartitions ? t->a.npartitions : a.npartitions;
        zkl_assignment_free(&t->a);
    }
    cpart *np = calloc((size_t)a.npartitions, sizeof *np);
    if (!np) {
        t->a = a;
        remove_topic(c, t);
        ctl_resign(c, "out of memory", true);
        return -1;
    }
    if (known)
        memcpy(np, t->parts, (size_t)known * sizeof *np);
    free(t->parts);
    t->parts = np;
    t->a = a;
    t->unclean = topic_unclean(c, name);
    for (int32_t i = 0; i < a.npartitions; i++) {   /* new ones, and damaged ones again */
        bool was_bad = i < known && t->parts[i].bad;
        if ((i >= known || was_bad) && load_state(c, t, i, &t->parts[i]) < 0)
            return -1;
        if (was_bad && t->parts[i].has_state)
            t->parts[i].dirty = true;   /* repaired: its replicas hear it at the next flush */
    }
    *out = t;
    return 0;
}

/* -- deciding ---- */

id_set ctl_assigned(const ctopic *t, int32_t i)
{
    return (id_set){ t->a.replicas[i], t->a.nreplicas[i] };
}

int ctl_live_assigned(const controller *c, const ctopic *t, int32_t i, int32_t *out)
{
    int n = 0;
    id_set as = ctl_assigned(t, i);
    for (int k = 0; k < as.n && n < ZKL_MAX_REPLICAS; k++)
        if (ctl_live_broker(c, as.v[k]))
            out[n++] = as.v[k];
    return n;
}

/* The ISR without every member that is not live (C10: the last is kept).
 * The leader goes last, so when every member died at once the one kept is
 * the leader, which has every acknowledged record (acks=1 included). */
static int isr_without_dead(const controller *c, const zkl_partition_state *st, int32_t *out)
{
    int32_t tmp[ZKL_MAX_REPLICAS];
    int n = st->nisr;
    memcpy(out, st->isr, (size_t)n * sizeof *out);
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < st->nisr; i++) {
            int32_t id = st->isr[i];
            if ((id == st->leader) != (pass == 1) || ctl_live_broker(c, id))
                continue;
            n = election_isr_without((id_set){ out, n }, id, tmp);
            memcpy(out, tmp, (size_t)n * sizeof *out);
        }
    }
    return n;
}

/* The state partition i should have given the live brokers: true (and
 * *ns) when it differs from the current one.
 *   no state znode  -> New: leader = first live assigned replica, ISR = the
 *                      live assigned replicas, leader epoch 0
 *   leader not live -> offline election (C5); a leader: epoch + 1 (C4),
 *                      ISR = the live ISR, or {leader} if unclean; none:
 *                      leader -1, ISR without the dead (C10), epoch + 1
 *   leader live, dead ISR members -> ISR without them, epoch + 1 (C4) */
static bool compute(const controller *c, const ctopic *t, int32_t i, zkl_partition_state *ns)
{
    const cpart *p = &t->parts[i];
    /* the live brokers that matter: the live assigned replicas */
    int32_t live[ZKL_MAX_REPLICAS];
    id_set lv = { live, ctl_live_assigned(c, t, i, live) };
    if (p->bad)
        return false;
    if (!p->has_state) {
        memset(ns, 0, sizeof *ns);
        id_set as = ctl_assigned(t, i);
        for (int k = 0; k < as.n; k++)        /* C31: not the brokers shutting down */
            if (id_set_has(lv, as.v[k]) && !ctl_is_shutting_down(c, as.v[k]))
                ns->isr[ns->nisr++] = as.v[k];
        for (int k = 0; k < as.n && !ns->nisr; k++)
            if (id_set_has(lv, as.v[k]))
                ns->isr[ns->nisr++] = as.v[k];     /* ... unless only they are live */
        if (!ns->nisr)
            return false;        /* no live replica: stays New until one joins */
        ns->leader = ctl_elect_offline(c, t, i, (id_set){ ns->isr, ns->nisr }, lv, false, NULL);
        if (ns->leader < 0)
            ns->leader = ns->isr[0];             /* only brokers shutting down: still one */
        ns->leader_epoch = 0;
        return true;
    }
    const zkl_partition_state *st = &p->st;
    *ns = *st;
    if (st->leader >= 0 && id_set_has(lv, st->leader)) {
        ns->nisr = isr_without_dead(c, st, ns->isr);
        if (ns->nisr == st->nisr)
            return false;
        ns->leader_epoch = st->leader_epoch + 1;     /* C4: so the leader hears it */
        return true;
    }
    bool unclean = false;
    /* C5: from the ISR unless the topic allows unclean election */
    /* C30, C34: never a broker in controlled shutdown; a drained one last */
    int32_t leader = ctl_elect_offline(c, t, i, (id_set){ st->isr, st->nisr }, lv, t->unclean,
                                       &unclean);
    if (leader < 0) {
        ns->nisr = isr_without_dead(c, st, ns->isr);     /* C10 */
        if (st->leader < 0 && ns->nisr == st->nisr)
            return false;        /* offline already */
        ns->leader = -1;
    } else if (unclean) {
        LOG_WRN(MOD, "unclean election: %s-%d led by %d, out of its ISR; records may be lost",
                t->name, i, leader);
        ns->leader = leader;
        ns->isr[0] = leader;
        ns->nisr = 1;
    } else {
        ns->leader = leader;
        ns->nisr = isr_without_dead(c, st, ns->isr);
    }
    ns->leader_epoch = st->leader_epoch + 1;         /* C4 */
    return true;
}

/* -- writing (C1) -- */

/* Write partition i's state ns.  0: written; 1: the state znode had moved
 * (re-read: recompute); -1: fenced or ZooKeeper trouble (resigned). */
int ctl_write_state(controller *c, ctopic *t, int32_t i, zkl_partition_state *ns)
{
    cpart *p = &t->parts[i];
    char path[ZKL_MAX_PATH];
    if (zkl_path_partition_state(path, sizeof path, t->name, i) < 0)
        return -1;
    ns->controller_epoch = atomic_load(&c->epoch);
    if (!p->has_state) {
        /* parents first: persistent and empty, harmless if left behind */
        char parent[ZKL_MAX_PATH];
        snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(path, '/') - path), path);
        zk_rc rc = zk_ensure_path(c->zs, parent);
        if (rc != ZKR_OK) {
            ctl_zk_trouble(c, "create of a partition path", rc);
            return -1;
        }
    }
    char *body = zkl_partition_state_encode(ns);
    if (!body) {
        ctl_resign(c, "out of memory", true);
        return -1;
    }
    /* C1: the epoch check and the state write, atomically */
    zk_op ops[2] = {
        { .type = ZKOP_CHECK, .path = ZK_PATH_CONTROLLER_EPOCH, .version = c->epoch_zkv },
        { .type = p->has_state ? ZKOP_SET : ZKOP_CREATE, .path = path, .data = body,
          .len = strlen(body), .version = p->has_state ? p->st.zk_version : -1 },
    };
    int failed;
    zk_rc rc = zk_multi(c->zs, ops, 2, &failed);
    free(body);
    if (rc == ZKR_OK) {
        ns->zk_version = p->has_state ? ops[1].new_version : 0;
        p->is_new |= !p->has_state;
        p->st = *ns;
        p->has_state = true;
        p->dirty = true;
        return 0;
    }
    if (failed == 0) {
        /* C1: /controller_epoch moved on: a newer controller exists. */
        ctl_resign(c, "fenced: /controller_epoch changed since this controller won", true);
        return -1;
    }
    if (failed == 1 && (rc == ZKR_BADVERSION || rc == ZKR_NODEEXISTS || rc == ZKR_NONODE)) {
        LOG_WRN(MOD, "%s changed behind the controller (%s): re-reading", path, zk_rc_str(rc));
        return load_state(c, t, i, p) < 0 ? -1 : 1;
    }
    ctl_zk_trouble(c, "partition state write", rc);
    return -1;
}

/* Bring partition i to the state compute() wants; -1 after resigning. */
int ctl_reconcile_partition(controller *c, ctopic *t, int32_t i)
{
    for (int attempt = 0; attempt < WRITE_ATTEMPTS; attempt++) {
        zkl_partition_state ns;
        if (!compute(c, t, i, &ns))
            return 0;
        int r = ctl_write_state(c, t, i, &ns);
        if (r <= 0)
            return r;
    }
    LOG_WRN(MOD, "%s-%d: state kept changing; left for the next event", t->name, i);
    return 0;
}

/* t NULL: every topic. */
int ctl_reconcile(controller *c, ctopic *t)
{
    for (int k = 0; k < c->ntopics; k++) {
        ctopic *tt = &c->topics[k];
        if (t && tt != t)
            continue;
        for (int32_t i = 0; i < tt->a.npartitions; i++)
            if (ctl_reconcile_partition(c, tt, i) < 0)
                return -1;
    }
    return 0;
}

/* -- telling the brokers -- */

static kstr ks(const char *s)
{
    return (kstr){ s, (int32_t)strlen(s) };
}

static karr_i32 ids(int32_t *v, int n)
{
    return (karr_i32){ n, v };
}

static int16_t security_protocol_id(const char *name)
{
    static const char *const names[] = { "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL" };
    for (int16_t i = 0; i < 4; i++)
        if (!strcmp(name, names[i]))
            return i;
    return 0;
}

/* LeaderAndIsr to broker b for its partitions: all of them (full) or
 * those written since the last flush. */
static void send_leader_and_isr(controller *c, const cbroker *b, bool full, arena *ar)
{
    leader_and_isr_req req = { .controller_id = c->cfg.broker_id,
                               .controller_epoch = atomic_load(&c->epoch),
                               .broker_epoch = b->epoch,
                               .type = full ? LAI_TYPE_FULL : LAI_TYPE_INCREMENTAL };
    req.topic_states.v = arena_alloc(ar, (size_t)(c->ntopics + 1) * sizeof *req.topic_states.v);
    req.live_leaders.v = arena_alloc(ar, (size_t)(c->nbrokers + 1) * sizeof *req.live_leaders.v);
    if (!req.topic_states.v || !req.live_leaders.v)
        return;
    int total = 0;
    for (int k = 0; k < c->ntopics; k++) {
        ctopic *t = &c->topics[k];
        leader_and_isr_req_topic_states *ts = &req.topic_states.v[req.topic_states.n];
        ts->topic_name = ks(t->name);
        ts->topic_id = t->a.topic_id;
        for (int32_t i = 0; i < t->a.npartitions; i++) {
            cpart *p = &t->parts[i];
            if (!p->has_state || !(full || p->dirty) || !id_set_has(ctl_assigned(t, i), b->id))
                continue;
            if (!ts->partition_states.v) {
                ts->partition_states.v = arena_alloc(
                    ar, (size_t)t->a.npartitions * sizeof *ts->partition_states.v);
                if (!ts->partition_states.v)
                    return;
            }
            leader_and_isr_req_partition_state *ps =
                &ts->partition_states.v[ts->partition_states.n++];
            ps->topic_name = ks(t->name);
            ps->partition_index = i;
            ps->controller_epoch = p->st.controller_epoch;
            ps->leader = p->st.leader;
            ps->leader_epoch = p->st.leader_epoch;
            ps->isr = ids(p->st.isr, p->st.nisr);
            ps->partition_epoch = p->st.zk_version;
            ps->replicas = ids(t->a.replicas[i], t->a.nreplicas[i]);
            bool mv = zkl_assignment_reassigning(&t->a, i);     /* controller_reassign.c */
            ps->adding_replicas = ids(mv ? t->a.adding[i] : NULL, mv ? t->a.nadding[i] : 0);
            ps->removing_replicas = ids(mv ? t->a.removing[i] : NULL, mv ? t->a.nremoving[i] : 0);
            ps->is_new = p->is_new;
            const cbroker *l = ctl_live_broker(c, p->st.leader);
            bool listed = false;
            for (int j = 0; j < req.live_leaders.n; j++)
                listed |= req.live_leaders.v[j].broker_id == p->st.leader;
            if (l && !listed) {
                /* S-CL5: the leader's endpoint on the inter-broker listener
                 * ("", -1 when it registered none: not reachable). */
                const zkl_endpoint *e = NULL;
                for (int q = 0; q < l->reg.nep && !e; q++)
                    if (!strcmp(l->reg.ep[q].listener, c->cfg.listener))
                        e = &l->reg.ep[q];
                leader_and_isr_req_live_leaders *ll = &req.live_leaders.v[req.live_leaders.n++];
                ll->broker_id = l->id;
                ll->host_name = ks(e ? e->host : "");
                ll->port = e ? e->port : -1;
            }
            total++;
        }
        if (ts->partition_states.n)
            req.topic_states.n++;
    }
    if (total)
        c->ch.leader_and_isr(c->ch.ctx, b->id, &req);
}

static void fill_um_partition(update_metadata_partition_state *ps, const controller *c,
                              const ctopic *t, int32_t i, arena *ar)
{
    const cpart *p = &t->parts[i];
    ps->topic_name = ks(t->name);
    ps->partition_index = i;
    ps->controller_epoch = p->st.controller_epoch;
    ps->leader = p->st.leader;
    ps->leader_epoch = p->st.leader_epoch;
    ps->isr = ids((int32_t *)p->st.isr, p->st.nisr);
    ps->zk_version = p->st.zk_version;
    ps->replicas = ids(t->a.replicas[i], t->a.nreplicas[i]);
    int32_t *off = arena_alloc(ar, (size_t)t->a.nreplicas[i] * sizeof *off + 1);
    int noff = 0;
    for (int k = 0; off && k < t->a.nreplicas[i]; k++)
        if (!ctl_live_broker(c, t->a.replicas[i][k]))
            off[noff++] = t->a.replicas[i][k];
    ps->offline_replicas = ids(off, noff);
}

/* UpdateMetadata to broker b: every partition (full) or those written
 * since the last flush; `deleting`, when set, is a topic being deleted,
 * sent with leader LEADER_DURING_DELETE. */
void ctl_send_update_metadata(controller *c, const cbroker *b, bool full,
                                 const ctopic *deleting, arena *ar)
{
    update_metadata_req req = { .controller_id = c->cfg.broker_id,
                                .controller_epoch = atomic_load(&c->epoch),
                                .broker_epoch = b->epoch };
    req.topic_states.v = arena_alloc(ar, (size_t)(c->ntopics + 1) * sizeof *req.topic_states.v);
    req.live_brokers.v = arena_alloc(ar, (size_t)(c->nbrokers + 1) * sizeof *req.live_brokers.v);
    if (!req.topic_states.v || !req.live_brokers.v)
        return;
    for (int k = 0; k < c->ntopics; k++) {
        const ctopic *t = &c->topics[k];
        update_metadata_req_topic_states *ts = &req.topic_states.v[req.topic_states.n];
        ts->topic_name = ks(t->name);
        ts->topic_id = t->a.topic_id;
        ts->partition_states.v =
            arena_alloc(ar, (size_t)t->a.npartitions * sizeof *ts->partition_states.v);
        if (!ts->partition_states.v)
            return;
        for (int32_t i = 0; i < t->a.npartitions; i++) {
            const cpart *p = &t->parts[i];
            if (!p->has_state || !(full || p->dirty || t == deleting))
                continue;
            update_metadata_partition_state *ps =
                &ts->partition_states.v[ts->partition_states.n++];
            fill_um_partition(ps, c, t, i, ar);
            if (t == deleting)
                ps->leader = LEADER_DURING_DELETE;
        }
        if (ts->partition_states.n)
            req.topic_states.n++;
    }
    for (int k = 0; k < c->nbrokers; k++) {
        const cbroker *lb = &c->brokers[k];
        update_metadata_req_live_brokers *l = &req.live_brokers.v[req.live_brokers.n++];
        l->id = lb->id;
        l->rack = lb->reg.rack[0] ? ks(lb->reg.rack) : (kstr){ NULL, -1 };
        l->endpoints.v = arena_alloc(ar, (size_t)(lb->reg.nep + 1) * sizeof *l->endpoints.v);
        if (!l->endpoints.v)
            return;
        for (int e = 0; e < lb->reg.nep; e++) {
            update_metadata_req_endpoints *ep = &l->endpoints.v[l->endpoints.n++];
            ep->port = lb->reg.ep[e].port;
            ep->host = ks(lb->reg.ep[e].host);
            ep->listener = ks(lb->reg.ep[e].listener);
            ep->security_protocol = security_protocol_id(lb->reg.ep[e].protocol);
        }
        if (lb->reg.nep) {
            l->v0_host = ks(lb->reg.ep[0].host);
            l->v0_port = lb->reg.ep[0].port;
        }
    }
    c->ch.update_metadata(c->ch.ctx, b->id, &req);
}

/* Tell the brokers what changed: LeaderAndIsr to the live replicas of
 * each written partition (full to the brokers in `fresh`: just joined, or
 * everyone after a failover), UpdateMetadata to every live broker (full
 * to `fresh`).  Then nothing is dirty any more. */
void ctl_flush(controller *c, const int32_t *fresh, int nfresh, int flags)
{
    bool any_dirty = false;
    for (int k = 0; k < c->ntopics; k++)
        for (int32_t i = 0; i < c->topics[k].a.npartitions; i++)
            any_dirty |= c->topics[k].parts[i].dirty;
    arena ar;
    arena_init(&ar, 0);
    for (int k = 0; k < c->nbrokers; k++) {
        const cbroker *b = &c->brokers[k];
        bool full = id_set_has((id_set){ fresh, nfresh }, b->id);
        if ((flags & FL_LAI) || full)
            send_leader_and_isr(c, b, full, &ar);
        if (full || any_dirty || (flags & FL_UM_ALL))
            ctl_send_update_metadata(c, b, full, NULL, &ar);
        arena_reset(&ar);
    }
    for (int k = 0; k < c->ntopics; k++)
        for (int32_t i = 0; i < c->topics[k].a.npartitions; i++)
            c->topics[k].parts[i].dirty = c->topics[k].parts[i].is_new = false;
}

/* -- topic deletion -- */

static void send_stop_replicas(controller *c, const ctopic *t, arena *ar)
{
    for (int k = 0; k < c->nbrokers; k++) {
        const cbroker *b = &c->brokers[k];
        stop_replica_req req = { .controller_id = c->cfg.broker_id,
                                 .controller_epoch = atomic_load(&c->epoch),
                                 .broker_epoch = b->epoch, .delete_partitions = true };
        stop_replica_req_topic_states *ts = arena_alloc(ar, sizeof *ts);
        stop_replica_req_topics *tp = arena_alloc(ar, sizeof *tp);
        stop_replica_req_partition_states *ps =
            arena_alloc(ar, (size_t)t->a.npartitions * sizeof *ps + 1);
        int32_t *idx = arena_alloc(ar, (size_t)t->a.npartitions * sizeof *idx + 1);
        if (!ts || !tp || !ps || !idx)
            return;
        int n = 0;
        for (int32_t i = 0; i < t->a.npartitions; i++) {
            if (!id_set_has(ctl_assigned(t, i), b->id))
                continue;
            ps[n] = (stop_replica_req_partition_states){ .partition_index = i,
                                                         .leader_epoch = EPOCH_DURING_DELETE,
                                                         .delete_partition = true };
            idx[n++] = i;
        }
        if (!n)
            continue;
        ts->topic_name = ks(t->name);
        ts->partition_states.v = ps;
        ts->partition_states.n = n;
        tp->name = ks(t->name);
        tp->partition_indexes = ids(idx, n);
        req.topic_states.v = ts;
        req.topic_states.n = 1;
        req.topics.v = tp;
        req.topics.n = 1;
        c->ch.stop_replica(c->ch.ctx, b->id, &req);
    }
}

/* Delete path, conditioned on our epoch (C1).  0: deleted or gone
 * already; 1: it has children; -1: fenced or ZooKeeper trouble (resigned). */
static int delete_c1(controller *c, const char *path)
{
    zk_op ops[2] = {
        { .type = ZKOP_CHECK, .path = ZK_PATH_CONTROLLER_EPOCH, .version = c->epoch_zkv },
        { .type = ZKOP_DELETE, .path = path, .version = -1 },
    };
    int failed;
    zk_rc rc = zk_multi(c->zs, ops, 2, &failed);
    if (rc == ZKR_OK || (failed == 1 && rc == ZKR_NONODE))
        return 0;
    if (failed == 1 && rc == ZKR_NOTEMPTY) {
        LOG_ERR(MOD, "cannot delete %s: it has children the controller did not make", path);
        return 1;
    }
    if (failed == 0)
        ctl_resign(c, "fenced: /controller_epoch changed since this controller won", true);
    else
        ctl_zk_trouble(c, "delete", rc);
    return -1;
}

/* Delete topic `name` (marker /admin/delete_topics/name): StopReplica
 * (delete) to its live replicas, UpdateMetadata (leader -2) to every live
 * broker, then its znodes leaf first, each removal conditioned on our
 * epoch (C1), the marker last.  A znode that will not go (foreign
 * children) leaves the marker in place: the next deletion event retries. */
static int delete_topic(controller *c, const char *name)
{
    char marker[ZKL_MAX_PATH], path[ZKL_MAX_PATH];
    if (snprintf(marker, sizeof marker, "%s/%s", ZK_PATH_DELETE_TOPICS, name) >=
        (int)sizeof marker)
        return 0;
    ctopic *t = ctl_find_topic(c, name);
    if (t) {
        LOG_INF(MOD, "deleting topic %s (%d partitions)", name, t->a.npartitions);
        arena ar;
        arena_init(&ar, 0);
        send_stop_replicas(c, t, &ar);
        arena_reset(&ar);
        for (int k = 0; k < c->nbrokers; k++) {
            ctl_send_update_metadata(c, &c->brokers[k], false, t, &ar);
            arena_reset(&ar);
        }
        int r = 0;
        for (int32_t i = 0; i < t->a.npartitions && r == 0; i++) {
            zkl_path_partition_state(path, sizeof path, name, i);
            r = delete_c1(c, path);
            *strrchr(path, '/') = 0;             /* .../partitions/P */
            if (r == 0)
                r = delete_c1(c, path);
        }
        if (r == 0 && zkl_path_partitions(path, sizeof path, name) == 0)
            r = delete_c1(c, path);
        if (r == 0 && zkl_path_topic(path, sizeof path, name) == 0)
            r = delete_c1(c, path);
        if (r != 0)
            return r < 0 ? -1 : 0;
        if (zkl_path_topic_config(path, sizeof path, name) == 0)
            zk_delete(c->zs, path, -1);          /* its configs, if any */
        remove_topic(c, t);
    }
    return delete_c1(c, marker) < 0 ? -1 : 0;
}

static int handle_deletes(controller *c)
{
    char **names;
    int n;
    zk_rc rc = zk_children(c->zs, ZK_PATH_DELETE_TOPICS, true, &names, &n);
    if (rc != ZKR_OK) {
        ctl_zk_trouble(c, "read of " ZK_PATH_DELETE_TOPICS, rc);
        return -1;
    }
    int r = 0;
    for (int i = 0; i < n && r == 0; i++)
        r = delete_topic(c, names[i]);
    zk_free_strings(names, n);
    return r;
}

/* -- events -- */

static int handle_topics(controller *c)
{
    char **names;
    int n;
    zk_rc rc = zk_children(c->zs, ZK_PATH_BROKER_TOPICS, true, &names, &n);
    if (rc != ZKR_OK) {
        ctl_zk_trouble(c, "read of " ZK_PATH_BROKER_TOPICS, rc);
        return -1;
    }
    /* topics removed behind our back: forget them */
    for (int k = c->ntopics - 1; k >= 0; k--) {
        bool still = false;
        for (int i = 0; i < n && !still; i++)
            still = !strcmp(names[i], c->topics[k].name);
        if (!still)
            remove_topic(c, &c->topics[k]);
    }
    int r = 0;
    for (int i = 0; i < n && r == 0; i++) {
        if (ctl_find_topic(c, names[i]))
            continue;
        ctopic *t;
        r = ctl_load_topic(c, names[i], &t);
        if (r == 0 && t) {
            LOG_INF(MOD, "new topic %s: %d partitions", t->name, t->a.npartitions);
            r = ctl_reconcile(c, t);
        }
    }
    zk_free_strings(names, n);
    return r;
}

static int handle_topic_changed(controller *c, const char *name)
{
    ctopic *t;
    char path[ZKL_MAX_PATH];
    bool was_damaged = zkl_path_topic(path, sizeof path, name) == 0 &&
                       zk_damage_has(&c->damaged, path);
    if (!ctl_find_topic(c, name) && !was_damaged)
        return 0;                /* not ours to know yet: the child watch brings it */
    if (ctl_load_topic(c, name, &t) < 0)
        return -1;
    return t ? ctl_reconcile(c, t) : 0;
}

static int become_controller(controller *c)
{
    int32_t joined[CTL_MAX_BROKERS], left[CTL_MAX_BROKERS];
    int njoined, nleft;
    forget_all(c);
    if (load_brokers(c, joined, &njoined, left, &nleft) < 0)
        return -1;
    char **names;
    int n;
    zk_rc rc = zk_children(c->zs, ZK_PATH_BROKER_TOPICS, true, &names, &n);
    if (rc != ZKR_OK) {
        ctl_zk_trouble(c, "read of " ZK_PATH_BROKER_TOPICS, rc);
        return -1;
    }
    int r = 0;
    for (int i = 0; i < n && r == 0; i++) {
        ctopic *t;
        r = ctl_load_topic(c, names[i], &t);
    }
    zk_free_strings(names, n);
    if (r < 0 || ctl_leaders_load(c) < 0 || ctl_reconcile(c, NULL) < 0)
        return -1;
    int32_t all[CTL_MAX_BROKERS];
    int nall = ctl_live_ids(c, all);
    ctl_flush(c, all, nall, FL_LAI);
    if (ctl_reassign_resume(c) < 0)              /* C20: from the topic znodes */
        return -1;
    return handle_deletes(c);
}

static int handle_brokers(controller *c)
{
    int32_t joined[CTL_MAX_BROKERS], left[CTL_MAX_BROKERS];
    int njoined, nleft;
    if (load_brokers(c, joined, &njoined, left, &nleft) < 0)
        return -1;
    for (int i = 0; i < njoined; i++)
        LOG_INF(MOD, "broker %d registered", joined[i]);
    for (int i = 0; i < nleft; i++)
        LOG_INF(MOD, "broker %d is gone", left[i]);
    /* C12: a broker that re-registered (its old registration gone, a new
     * one there: in both lists) lost its state with its previous life.
     * As in Kafka, it first counts as failed: leadership moves away and it
     * leaves the ISR; then, live again, it is a follower that must catch
     * up (C7) to come back into the ISR. */
    int nb = c->nbrokers;
    for (int i = 0; i < nb;) {
        if (id_set_has((id_set){ joined, njoined }, c->brokers[i].id) &&
            id_set_has((id_set){ left, nleft }, c->brokers[i].id)) {
            cbroker tmp = c->brokers[i];             /* park it past the end */
            c->brokers[i] = c->brokers[nb - 1];
            c->brokers[nb - 1] = tmp;
            nb--;
        } else {
            i++;
        }
    }
    if (nb != c->nbrokers) {
        int all = c->nbrokers;
        c->nbrokers = nb;
        int r = ctl_reconcile(c, NULL);
        if (!atomic_load(&c->active))
            return -1;           /* resigned: brokers already forgotten */
        c->nbrokers = all;
        if (r < 0)
            return -1;
    }
    if (ctl_reconcile(c, NULL) < 0)
        return -1;
    ctl_flush(c, joined, njoined, FL_LAI | ((njoined || nleft) ? FL_UM_ALL : 0));
    return ctl_reassign_resume(c);
}

/* /controller is held by someone else: if it does not decode, say so
 * (once per version).  It is left alone, as Kafka's brokers do: no broker
 * can be elected until an operator deletes it (its watch is armed). */
static void check_controller_node(controller *c)
{
    char *data, err[160];
    size_t len;
    zk_stat st;
    int32_t id;
    if (zk_get(c->zs, ZK_PATH_CONTROLLER, false, &data, &len, &st) != ZKR_OK)
        return;
    if (zkl_controller_decode(data, len, &id, err, sizeof err) < 0) {
        char effect[160];
        snprintf(effect, sizeof effect, "no controller can be elected until it is deleted "
                 "(%s node, session 0x%llx)", st.ephemeral_owner ? "ephemeral" : "persistent",
                 (unsigned long long)st.ephemeral_owner);
        report_damaged(c, ZK_PATH_CONTROLLER, &st, err, effect, false);
    } else {
        report_repaired(c, ZK_PATH_CONTROLLER);
    }
    free(data);
}

static void handle_elect(controller *c)
{
    zk_stat st;
    if (atomic_load(&c->active)) {
        /* /controller changed: still ours? (C11) */
        zk_rc rc = zk_exists(c->zs, ZK_PATH_CONTROLLER, true, &st);
        if (rc == ZKR_OK && st.ephemeral_owner == zk_session_id(c->zs))
            return;
        ctl_resign(c, "/controller is no longer this broker's", true);
        return;
    }
    c->retry_elect = false;
    const char *paths[] = { ZK_PATH_BROKER_IDS, ZK_PATH_BROKER_TOPICS, ZK_PATH_DELETE_TOPICS };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        zk_rc rc = zk_ensure_path(c->zs, paths[i]);
        if (rc != ZKR_OK) {
            c->retry_elect = rc != ZKR_EXPIRED;
            return;
        }
    }
    char *body = zkl_controller_encode(c->cfg.broker_id, ctl_now_ms());
    if (!body) {
        c->retry_elect = true;
        return;
    }
    zk_rc rc = zk_create(c->zs, ZK_PATH_CONTROLLER, body, strlen(body), ZKC_EPHEMERAL, NULL, 0,
                         NULL);
    free(body);
    if (rc == ZKR_NODEEXISTS || rc == ZKR_CONNLOSS) {
        /* Someone holds it (watch it), or our create's fate is unknown. */
        zk_rc erc = zk_exists(c->zs, ZK_PATH_CONTROLLER, true, &st);
        if (erc == ZKR_NONODE || (erc != ZKR_OK && erc != ZKR_EXPIRED))
            c->retry_elect = true;
        if (erc == ZKR_OK && st.ephemeral_owner != zk_session_id(c->zs))
            check_controller_node(c);
        if (erc != ZKR_OK || st.ephemeral_owner != zk_session_id(c->zs))
            return;
        rc = ZKR_OK;             /* it is ours after all */
    }
    if (rc != ZKR_OK) {
        c->retry_elect = rc != ZKR_EXPIRED;
        return;
    }
    zk_exists(c->zs, ZK_PATH_CONTROLLER, true, NULL);   /* watch: moved away from us? */
    /* Won: compare-and-set increment /controller_epoch (create at 1). */
    int32_t epoch = 0, zkv = -1;
    for (int attempt = 0; attempt < 5 && zkv < 0; attempt++) {
        char *data, err[160];
        size_t len;
        rc = zk_get(c->zs, ZK_PATH_CONTROLLER_EPOCH, false, &data, &len, &st);
        if (rc == ZKR_NONODE) {
            char *one = zkl_controller_epoch_encode(1);
            rc = one ? zk_create(c->zs, ZK_PATH_CONTROLLER_EPOCH, one, strlen(one), 0, NULL, 0,
                                 NULL) : ZKR_ERROR;
            free(one);
            if (rc == ZKR_OK) {
                epoch = 1;
                zkv = 0;
            } else if (rc != ZKR_NODEEXISTS) {
                break;
            }
            continue;
        }
        if (rc != ZKR_OK)
            break;
        int32_t cur;
        int drc = zkl_controller_epoch_decode(data, len, &cur, err, sizeof err);
        free(data);
        if (drc < 0 || cur == INT32_MAX) {
            /* Keep /controller (no election churn between the brokers), act
             * as no controller, try again when the epoch znode changes. */
            report_damaged(c, ZK_PATH_CONTROLLER_EPOCH, &st, drc < 0 ? err : "at its maximum",
                           "this broker holds /controller but does not act as controller "
                           "until it is repaired", true);
            return;
        }
        report_repaired(c, ZK_PATH_CONTROLLER_EPOCH);
        char *next = zkl_controller_epoch_encode(cur + 1);
        int32_t nv = -1;
        rc = next ? zk_set(c->zs, ZK_PATH_CONTROLLER_EPOCH, next, strlen(next), st.version, &nv)
                  : ZKR_ERROR;
        free(next);
        if (rc == ZKR_OK) {
            epoch = cur + 1;
            zkv = nv;
        } else if (rc != ZKR_BADVERSION) {
            break;
        }
    }
    atomic_store(&c->active, true);
    if (zkv < 0) {
        ctl_zk_trouble(c, "increment of " ZK_PATH_CONTROLLER_EPOCH, rc == ZKR_OK ? ZKR_ERROR : rc);
        return;
    }
    c->epoch_zkv = zkv;
    atomic_store(&c->epoch, epoch);
    LOG_INF(MOD, "broker %d is the controller, epoch %d", c->cfg.broker_id, epoch);
    become_controller(c);
}

static bool isr_equal(const int32_t *a, int na, const int32_t *b, int nb)
{
    if (na != nb)
        return false;
    for (int i = 0; i < na; i++) {
        bool found = false;
        for (int j = 0; j < nb && !found; j++)
            found = a[i] == b[j];
        if (!found)
            return false;
    }
    return true;
}

static void fill_out(controller_partition_state *out, const zkl_partition_state *st)
{
    out->leader = st->leader;
    out->leader_epoch = st->leader_epoch;
    out->partition_epoch = st->zk_version;
    out->nisr = st->nisr;
    memcpy(out->isr, st->isr, (size_t)st->nisr * sizeof *st->isr);
}

typedef struct alter_req {
    int32_t broker_id, partition, leader_epoch, partition_epoch;
    int64_t broker_epoch;
    const char *topic;
    const int32_t *isr;
    int nisr;
    controller_partition_state *out;
} alter_req;

static int16_t handle_alter(controller *c, void *arg)
{
    alter_req *r = arg;
    if (!atomic_load(&c->active))
        return KERR_NOT_CONTROLLER;
    const cbroker *b = ctl_live_broker(c, r->broker_id);
    if (!b || (r->broker_epoch != -1 && r->broker_epoch != b->epoch))
        return KERR_STALE_BROKER_EPOCH;
    ctopic *t = ctl_find_topic(c, r->topic);
    if (!t || r->partition < 0 || r->partition >= t->a.npartitions ||
        !t->parts[r->partition].has_state)
        return KERR_UNKNOWN_TOPIC_OR_PARTITION;
    cpart *p = &t->parts[r->partition];
    if (p->st.leader != r->broker_id)
        return KERR_NOT_LEADER_OR_FOLLOWER;
    if (r->leader_epoch != p->st.leader_epoch)
        return KERR_FENCED_LEADER_EPOCH;
    if (isr_equal(r->isr, r->nisr, p->st.isr, p->st.nisr)) {
        fill_out(r->out, &p->st);
        return KERR_NONE;
    }
    if (r->partition_epoch != p->st.zk_version)
        return KERR_INVALID_UPDATE_VERSION;
    if (r->nisr < 1 || r->nisr > ZKL_MAX_REPLICAS)
        return KERR_INVALID_REQUEST;
    bool has_leader = false;
    for (int i = 0; i < r->nisr; i++) {
        for (int j = 0; j < i; j++)
            if (r->isr[i] == r->isr[j])
                return KERR_INVALID_REQUEST;
        if (!id_set_has(ctl_assigned(t, r->partition), r->isr[i]))
            return KERR_INVALID_REQUEST;
        if (!ctl_live_broker(c, r->isr[i]))
            return KERR_INELIGIBLE_REPLICA;       /* C7's other half: only live members */
        if (ctl_is_shutting_down(c, r->isr[i]) &&
            !id_set_has((id_set){ p->st.isr, p->st.nisr }, r->isr[i]))
            return KERR_INELIGIBLE_REPLICA;       /* C31: it does not come back while leaving */
        has_leader |= r->isr[i] == r->broker_id;
    }
    if (!has_leader)
        return KERR_INVALID_REQUEST;
    zkl_partition_state ns = p->st;
    memcpy(ns.isr, r->isr, (size_t)r->nisr * sizeof *r->isr);
    ns.nisr = r->nisr;
    int w = ctl_write_state(c, t, r->partition, &ns);
    if (w < 0)
        return KERR_NOT_CONTROLLER;
    if (w > 0)
        return KERR_INVALID_UPDATE_VERSION;       /* re-read; the leader learns by LeaderAndIsr */
    fill_out(r->out, &p->st);
    LOG_INF(MOD, "%s-%d: ISR now has %d members (AlterPartition from %d)", t->name,
            r->partition, ns.nisr, r->broker_id);
    ctl_flush(c, NULL, 0, 0);        /* UpdateMetadata only: the leader has the answer */
    ctl_reassign_check(c, t, r->partition);      /* the last target replica joined? */
    return KERR_NONE;
}

static void finish_call(controller *c, ctl_call_req *r, int16_t error)
{
    pthread_mutex_lock(&c->lock);
    r->error = error;
    r->done = true;
    pthread_cond_broadcast(&c->done_cond);
    pthread_mutex_unlock(&c->lock);
}

static void handle(controller *c, ev *e)
{
    bool active = atomic_load(&c->active);
    switch (e->type) {
    case EV_ELECT:
        handle_elect(c);
        break;
    case EV_EXPIRED:
        ctl_resign(c, "ZooKeeper session expired", false);
        break;
    case EV_CALL:
        finish_call(c, e->call, e->call->fn(c, e->call->arg));
        break;
    case EV_BROKERS:
        if (active)
            handle_brokers(c);
        break;
    case EV_TOPICS:
        if (active && handle_topics(c) == 0)
            ctl_flush(c, NULL, 0, FL_LAI);
        break;
    case EV_TOPIC_CHANGED:
        if (active && handle_topic_changed(c, e->arg) == 0)
            ctl_flush(c, NULL, 0, FL_LAI);
        break;
    case EV_DELETES:
        if (active)
            handle_deletes(c);
        break;
    case EV_CONFIG_CHANGES:
        if (active)
            ctl_leaders_config_changed(c);
        break;
    case EV_STOP:
        break;
    }
}

static void *run(void *arg)
{
    controller *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->lock);
        bool timed_out = false;
        /* two timers: the election retry, and the periodic tasks */
        int64_t elect_at = c->retry_elect ? mono_ms() + ELECT_RETRY_MS : INT64_MAX;
        int64_t tick_at = ctl_timer_next(c);
        int64_t wake = elect_at < tick_at ? elect_at : tick_at;
        while (!c->head && !timed_out) {
            if (wake != INT64_MAX) {
                struct timespec until = { (time_t)(wake / 1000), (long)(wake % 1000) * 1000000L };
                timed_out = pthread_cond_timedwait(&c->cond, &c->lock, &until) == ETIMEDOUT;
            } else {
                pthread_cond_wait(&c->cond, &c->lock);
            }
        }
        ev *e = c->head;
        if (e) {
            c->head = e->next;
            if (!c->head)
                c->tail = NULL;
        }
        pthread_mutex_unlock(&c->lock);
        if (!e) {
            if (mono_ms() >= elect_at)
                handle_elect(c);     /* the retry timer */
            ctl_timer_run(c);
            continue;
        }
        bool stop = e->type == EV_STOP;
        handle(c, e);
        if (!stop)
            ctl_timer_run(c);        /* a busy queue does not starve the timers */
        free(e->arg);
        free(e);
        if (stop)
            break;
    }
    ctl_resign(c, "stopping", false);
    /* Nothing is posted after EV_STOP but ZooKeeper events, which are
     * dropped, and no AlterPartition (the caller's contract). */
    return NULL;
}

/* ---- public (any thread) ------------------------------------------------ */

controller *controller_start(const controller_cfg *cfg, zk_session *zs,
                             const controller_channel *ch, char *err, size_t errlen)
{
    controller *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->ch = *ch;
    c->zs = zs;
    zk_damage_init(&c->damaged);
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_cond_init(&c->done_cond, NULL);
    if (zk_add_listener(zs, on_zk_event, c) < 0) {
        snprintf(err, errlen, "the ZooKeeper session has no room for another listener");
        goto fail;
    }
    c->retry_elect = true;       /* the first election, at once or by the timer */
    post(c, EV_ELECT, NULL, NULL);
    int rc = pthread_create(&c->thread, NULL, run, c);
    if (rc) {
        zk_remove_listener(zs, on_zk_event, c);
        snprintf(err, errlen, "cannot start the controller thread: %s", strerror(rc));
        goto fail;
    }
    return c;
fail:
    while (c->head) {
        ev *e = c->head;
        c->head = e->next;
        free(e);
    }
    pthread_cond_destroy(&c->cond);
    pthread_cond_destroy(&c->done_cond);
    pthread_mutex_destroy(&c->lock);
    zk_damage_destroy(&c->damaged);
    free(c);
    return NULL;
}

void controller_stop(controller *c)
{
    if (!c)
        return;
    while (!post(c, EV_STOP, NULL, NULL))
        nanosleep(&(struct timespec){ 0, 10000000L }, NULL);
    pthread_join(c->thread, NULL);
    zk_remove_listener(c->zs, on_zk_event, c);
    /* events posted after EV_STOP (watches) are dropped unhandled */
    while (c->head) {
        ev *e = c->head;
        c->head = e->next;
        if (e->call)
            finish_call(c, e->call, KERR_NOT_CONTROLLER);
        free(e->arg);
        free(e);
    }
    pthread_cond_destroy(&c->cond);
    pthread_cond_destroy(&c->done_cond);
    pthread_mutex_destroy(&c->lock);
    zk_damage_destroy(&c->damaged);
    free(c);
}

bool controller_is_active(const controller *c)
{
    return atomic_load(&c->active);
}

int32_t controller_epoch(const controller *c)
{
    return atomic_load(&c->epoch);
}

int controller_resignations(const controller *c)
{
    return atomic_load(&c->resignations);
}

int16_t ctl_call(controller *c, ctl_call_fn fn, void *arg)
{
    ctl_call_req r = { .fn = fn, .arg = arg };
    if (!post(c, EV_CALL, NULL, &r))
        return KERR_NOT_CONTROLLER;
    pthread_mutex_lock(&c->lock);
    while (!r.done)
        pthread_cond_wait(&c->done_cond, &c->lock);
    pthread_mutex_unlock(&c->lock);
    return r.error;
}

int16_t controller_alter_partition(controller *c, int32_t broker_id, int64_t broker_epoch,
                                   const char *topic, int32_t partition, int32_t leader_epoch,
                                   int32_t partition_epoch, const int32_t *new_isr, int nisr,
                                   controller_partition_state *out)
{
    alter_req r = { .broker_id = broker_id, .broker_epoch = broker_epoch, .topic = topic,
                    .partition = partition, .leader_epoch = leader_epoch,
                    .partition_epoch = partition_epoch, .isr = new_isr, .nisr = nisr,
                    .out = out };
    memset(out, 0, sizeof *out);
    return ctl_call(c, handle_alter, &r);
}
