/*
 * controller_leaders.c - who may lead, and moving leadership on purpose:
 * the state behind controlled shutdown, ElectLeaders, drained brokers and
 * the automatic leader rebalance (docs/controller.md, "Leadership
 * operations").  Controller thread only, like everything in
 * controller_int.h; the operations that callers wait for are in
 * controller_shutdown.c and controller_elect.c.
 *
 * Rules kept here:
 *   C30 a broker in controlled shutdown (for its current registration) is
 *       never chosen as leader by any election, until it registers again
 *       or goes (Kafka's shuttingDownBrokerIds).
 *   C33 the automatic rebalance and a preferred election only move
 *       leadership to the preferred replica when it is live, in the ISR,
 *       not shutting down and not drained.
 *   C34 a drained broker (samsa.leadership.drained=true in
 *       /config/brokers/<id>) leads nothing another live ISR member can
 *       lead: every election avoids it, and a drain moves its leaderships
 *       away; it stays a replica and in the ISR.  When it is the only
 *       eligible ISR member it is chosen anyway (availability first).
 *   C35 the drained set is read from ZooKeeper on winning and on every
 *       config change notification, so it survives controller failover
 *       and broker restarts; every DRAIN_CHECK_MS the controller moves
 *       again what a drained broker leads (it may have become leader as
 *       the last resort, or before a failover) once another ISR member
 *       can take it.
 */
#include "cluster/controller_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/errors.h"
#include "core/log.h"

#define MOD "controller"
#define MOVE_ATTEMPTS 3
#define DRAINED_KEY "samsa.leadership.drained"
#define DRAIN_CHECK_MS 1000

/* ---- who may lead ------------------------------------------------------- */

bool ctl_is_shutting_down(const controller *c, int32_t id)
{
    const cbroker *b = ctl_live_broker(c, id);
    for (int i = 0; b && i < c->nshutting; i++)
        if (c->shutting[i] == id && c->shutting_epoch[i] == b->epoch)
            return true;
    return false;
}

bool ctl_is_drained(const controller *c, int32_t id)
{
    return id_set_has((id_set){ c->drained, c->ndrained }, id);
}

id_set ctl_excluded(const controller *c, int32_t *buf)
{
    int n = 0;
    for (int i = 0; i < c->nshutting; i++)
        if (ctl_is_shutting_down(c, c->shutting[i]))
            buf[n++] = c->shutting[i];
    return (id_set){ buf, n };
}

id_set ctl_avoided(const controller *c)
{
    return (id_set){ c->drained, c->ndrained };
}

int32_t ctl_elect_offline(const controller *c, const ctopic *t, int32_t i, id_set isr,
                          id_set live, bool unclean, bool *unclean_out)
{
    int32_t ex[CTL_MAX_BROKERS];
    return election_offline_avoiding(ctl_assigned(t, i), isr, live, ctl_excluded(c, ex),
                                     ctl_avoided(c), unclean, unclean_out);
}

void ctl_leaders_forget(controller *c)
{
    c->nshutting = 0;
    c->ndrained = 0;
    c->next_rebalance_ms = 0;
    c->next_drain_check_ms = 0;
}

/* ---- moving leadership -------------------------------------------------- */

int ctl_move_leader(controller *c, ctopic *t, int32_t i, int32_t leader, int32_t drop)
{
    for (int attempt = 0; attempt < MOVE_ATTEMPTS; attempt++) {
        cpart *p = &t->parts[i];
        if (!p->has_state || p->bad)
            return 1;
        const zkl_partition_state *st = &p->st;
        id_set isr = { st->isr, st->nisr };
        if (!id_set_has(isr, leader) || !ctl_live_broker(c, leader))
            return 1;
        zkl_partition_state ns = *st;
        ns.leader = leader;
        if (drop >= 0 && drop != leader)
            ns.nisr = election_isr_without(isr, drop, ns.isr);
        if (ns.leader == st->leader && ns.nisr == st->nisr)
            return 0;            /* nothing to change */
        ns.leader_epoch = st->leader_epoch + 1;   /* C4 */
        int r = ctl_write_state(c, t, i, &ns);
        if (r <= 0)
            return r;
    }
    LOG_WRN(MOD, "%s-%d: state kept changing; leadership not moved", t->name, i);
    return 1;
}

/* Move the leadership of every partition `id` leads to the first other
 * eligible ISR member (C34; a drain, or its periodic re-check: quiet when
 * nothing moved).  -1 after resigning. */
static int drain_broker(controller *c, int32_t id, bool recheck)
{
    int32_t ex[CTL_MAX_BROKERS], live[CTL_MAX_BROKERS];
    id_set lv = { live, ctl_live_ids(c, live) };
    id_set exc = ctl_excluded(c, ex);
    int moved = 0, stuck = 0;
    for (int k = 0; k < c->ntopics; k++) {
        ctopic *t = &c->topics[k];
        for (int32_t i = 0; i < t->a.npartitions; i++) {
            cpart *p = &t->parts[i];
            if (!p->has_state || p->bad || p->st.leader != id)
                continue;
            int32_t nl = election_first_eligible(ctl_assigned(t, i),
                                                 (id_set){ p->st.isr, p->st.nisr }, lv, exc,
                                                 ctl_avoided(c));
            if (nl < 0 || nl == id) {
                stuck++;
                continue;
            }
            int r = ctl_move_leader(c, t, i, nl, -1);
            if (r < 0)
                return -1;
            moved += r == 0;
        }
    }
    if (!recheck || moved)
        LOG_INF(MOD, "broker %d drained: %d leaderships moved away, %d kept (no other eligible "
                "ISR member)", id, moved, stuck);
    return moved;
}

int ctl_elect_preferred(controller *c, ctopic *t, int32_t i, int16_t *err)
{
    cpart *p = &t->parts[i];
    *err = KERR_NONE;
    if (!p->has_state || p->bad) {
        *err = KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return 0;
    }
    id_set as = ctl_assigned(t, i);
    int32_t pref = as.n ? as.v[0] : -1;
    if (pref >= 0 && p->st.leader == pref && ctl_live_broker(c, pref)) {
        *err = KERR_ELECTION_NOT_NEEDED;
        return 0;
    }
    /* C33 */
    if (pref < 0 || !ctl_live_broker(c, pref) ||
        !id_set_has((id_set){ p->st.isr, p->st.nisr }, pref) || ctl_is_shutting_down(c, pref) ||
        ctl_is_drained(c, pref)) {
        *err = KERR_PREFERRED_LEADER_NOT_AVAILABLE;
        return 0;
    }
    int r = ctl_move_leader(c, t, i, pref, -1);
    if (r > 0)
        *err = KERR_PREFERRED_LEADER_NOT_AVAILABLE;
    return r < 0 ? -1 : 0;
}

/* Preferred elections for the partitions whose preferred replica `id` is
 * (undrain, the automatic rebalance).  -1 after resigning. */
static int prefer_broker(controller *c, int32_t id, int *moved)
{
    *moved = 0;
    for (int k = 0; k < c->ntopics; k++) {
        ctopic *t = &c->topics[k];
        for (int32_t i = 0; i < t->a.npartitions; i++) {
            id_set as = ctl_assigned(t, i);
            cpart *p = &t->parts[i];
            if (!as.n || as.v[0] != id || !p->has_state || p->bad || p->st.leader == id)
                continue;
            int16_t err;
            if (ctl_elect_preferred(c, t, i, &err) < 0)
                return -1;
            *moved += err == KERR_NONE;
        }
    }
    return 0;
}

/* ---- drained brokers (C34, C35) ----------------------------------------- */

static bool config_says_drained(controller *c, int32_t id)
{
    char path[ZKL_MAX_PATH];
    return zkl_path_broker_config(path, sizeof path, id) == 0 &&
           ctl_config_bool(c, path, DRAINED_KEY, false);
}

/* Read the drained brokers into out[CTL_MAX_BROKERS] (and re-arm the
 * /config/changes watch).  Their count, or -1 after resigning. */
static int read_drained(controller *c, int32_t *out)
{
    char **names;
    int n;
    zk_rc rc = zk_ensure_path(c->zs, ZK_PATH_CONFIG_CHANGES);   /* a watch needs the node */
    if (rc == ZKR_OK)
        rc = zk_children(c->zs, ZK_PATH_CONFIG_CHANGES, true, &names, &n);
    if (rc != ZKR_OK) {
        ctl_zk_trouble(c, "read of " ZK_PATH_CONFIG_CHANGES, rc);
        return -1;
    }
    zk_free_strings(names, n);
    rc = zk_children(c->zs, ZK_PATH_CONFIG_BROKERS, false, &names, &n);
    if (rc == ZKR_NONODE)
        return 0;
    if (rc != ZKR_OK) {
        ctl_zk_trouble(c, "read of " ZK_PATH_CONFIG_BROKERS, rc);
        return -1;
    }
    int k = 0;
    for (int i = 0; i < n && k < CTL_MAX_BROKERS; i++) {
        char *end;
        errno = 0;
        long id = strtol(names[i], &end, 10);
        if (errno || *end || end == names[i] || id < 0 || id > INT32_MAX)
            continue;            /* <default> and strays */
        if (config_says_drained(c, (int32_t)id))
            out[k++] = (int32_t)id;
    }
    zk_free_strings(names, n);
    return k;
}

int ctl_leaders_load(controller *c)
{
    int n = read_drained(c, c->drained);
    if (n < 0)
        return -1;
    c->ndrained = n;
    for (int i = 0; i < n; i++)
        LOG_INF(MOD, "broker %d is drained (%s=true)", c->drained[i], DRAINED_KEY);
    if (c->cfg.auto_leader_rebalance && c->cfg.imbalance_check_ms > 0)
        c->next_rebalance_ms = mono_ms() + c->cfg.imbalance_check_ms;
    c->next_drain_check_ms = mono_ms() + DRAIN_CHECK_MS;
    return 0;
}

void ctl_leaders_config_changed(controller *c)
{
    int32_t now[CTL_MAX_BROKERS], before[CTL_MAX_BROKERS];
    int n = read_drained(c, now);
    if (n < 0)
        return;
    int nbefore = c->ndrained;
    memcpy(before, c->drained, (size_t)nbefore * sizeof *before);
    memcpy(c->drained, now, (size_t)n * sizeof *now);
    c->ndrained = n;
    for (int i = 0; i < n; i++)
        if (!id_set_has((id_set){ before, nbefore }, now[i]) && drain_broker(c, now[i], false) < 0)
            return;
    for (int i = 0; i < nbefore; i++) {
        if (id_set_has((id_set){ now, n }, before[i]))
            continue;
        int moved;
        if (prefer_broker(c, before[i], &moved) < 0)
            return;
        LOG_INF(MOD, "broker %d undrained: %d preferred leaderships given back", before[i],
                moved);
    }
    ctl_flush(c, NULL, 0, FL_LAI);
}

/* ---- the automatic leader rebalance (C33) ------------------------------- */

int64_t ctl_timer_next(const controller *c)
{
    if (!atomic_load(&c->active))
        return INT64_MAX;
    int64_t next = c->cfg.auto_leader_rebalance && c->next_rebalance_ms ? c->next_rebalance_ms
                                                                        : INT64_MAX;
    if (c->ndrained && c->next_drain_check_ms && c->next_drain_check_ms < next)
        next = c->next_drain_check_ms;
    return next;
}

/* Kafka's checkAndTriggerAutoLeaderRebalance: per live broker that may
 * lead, the share of its preferred partitions led by another broker;
 * over leader.imbalance.per.broker.percentage, preferred elections for
 * them (each only when the preferred replica is eligible, C33). */
static void rebalance(controller *c)
{
    int32_t live[CTL_MAX_BROKERS];
    int nlive = ctl_live_ids(c, live);
    int total = 0;
    for (int b = 0; b < nlive; b++) {
        int32_t id = live[b];
        if (ctl_is_shutting_down(c, id) || ctl_is_drained(c, id))
            continue;
        int preferred = 0, not_led = 0;
        for (int k = 0; k < c->ntopics; k++) {
            const ctopic *t = &c->topics[k];
            for (int32_t i = 0; i < t->a.npartitions; i++) {
                id_set as = ctl_assigned(t, i);
                if (!as.n || as.v[0] != id || !t->parts[i].has_state)
                    continue;
                preferred++;
                not_led += t->parts[i].st.leader != id;
            }
        }
        if (!election_imbalanced(preferred, not_led, c->cfg.imbalance_pct))
            continue;
        int moved;
        if (prefer_broker(c, id, &moved) < 0)
            return;
        if (moved)
            LOG_INF(MOD, "leader imbalance of broker %d (%d of %d preferred partitions led "
                    "elsewhere): %d moved back", id, not_led, preferred, moved);
        total += moved;
    }
    if (total)
        ctl_flush(c, NULL, 0, FL_LAI);
}

/* C35: what drained brokers lead and others could. */
static void recheck_drained(controller *c)
{
    int moved = 0;
    for (int i = 0; i < c->ndrained; i++) {
        if (!ctl_live_broker(c, c->drained[i]))
            continue;
        int r = drain_broker(c, c->drained[i], true);
        if (r < 0)
            return;
        moved += r;
    }
    if (moved)
        ctl_flush(c, NULL, 0, FL_LAI);
}

void ctl_timer_run(controller *c)
{
    int64_t now = mono_ms();
    if (ctl_timer_next(c) > now)
        return;
    if (c->ndrained && c->next_drain_check_ms <= now) {
        c->next_drain_check_ms = now + DRAIN_CHECK_MS;
        recheck_drained(c);
    }
    if (atomic_load(&c->active) && c->cfg.auto_leader_rebalance && c->next_rebalance_ms &&
        c->next_rebalance_ms <= now) {
        c->next_rebalance_ms = now + c->cfg.imbalance_check_ms;
        rebalance(c);
    }
}
