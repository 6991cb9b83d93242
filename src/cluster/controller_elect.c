/*
 * controller_elect.c - ElectLeaders on the controller
 * (controller_elect_leaders; Kafka's KIP-460 elections in ZooKeeper mode).
 *
 * Per partition, on the controller thread (ctl_call):
 *   PREFERRED  the first assigned replica becomes leader if it is live, in
 *              the ISR, not shutting down and not drained (C33);
 *              ELECTION_NOT_NEEDED when it leads already,
 *              PREFERRED_LEADER_NOT_AVAILABLE otherwise.
 *   UNCLEAN    only for an offline partition (no leader): the clean rule
 *              first (an ISR member), else the first live assigned
 *              replica, whatever the topic's unclean.leader.election.enable
 *              (the operator asked), with a warning that records may be
 *              lost (C36); its ISR becomes just it.  ELECTION_NOT_NEEDED
 *              when the partition has a live leader,
 *              ELIGIBLE_LEADERS_NOT_AVAILABLE when no replica is live.
 *   UNKNOWN_TOPIC_OR_PARTITION for a topic or partition that does not
 *   exist (or has no state yet).  want NULL: every partition of every
 *   topic, each answered.
 * Then LeaderAndIsr and UpdateMetadata for what was written.
 */
#include "cluster/controller_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"

#define MOD "controller"

typedef struct el_req {
    int8_t type;
    controller_tp *want;
    int nwant;
    controller_tp *all;
    int nall;
} el_req;

static const char *message_of(int16_t err, int8_t type)
{
    switch (err) {
    case KERR_NONE:
        return NULL;
    case KERR_ELECTION_NOT_NEEDED:
        return type == CTL_ELECT_PREFERRED ? "The preferred replica is the leader already"
                                           : "The partition has a live leader";
    case KERR_PREFERRED_LEADER_NOT_AVAILABLE:
        return "The preferred replica is not live, not in the ISR, shutting down or drained";
    case KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE:
        return "No live replica can lead the partition";
    case KERR_UNKNOWN_TOPIC_OR_PARTITION:
        return "The topic or partition does not exist";
    default:
        return kerr_name(err);
    }
}

/* -1 after resigning. */
static int elect_unclean(controller *c, ctopic *t, int32_t i, int16_t *err)
{
    cpart *p = &t->parts[i];
    *err = KERR_NONE;
    if (p->st.leader >= 0 && ctl_live_broker(c, p->st.leader)) {
        *err = KERR_ELECTION_NOT_NEEDED;
        return 0;
    }
    int32_t live[ZKL_MAX_REPLICAS];
    id_set lv = { live, ctl_live_assigned(c, t, i, live) };
    bool unclean = false;
    int32_t leader = ctl_elect_offline(c, t, i, (id_set){ p->st.isr, p->st.nisr }, lv, true,
                                       &unclean);
    if (leader < 0) {
        *err = KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE;
        return 0;
    }
    zkl_partition_state ns = p->st;
    ns.leader = leader;
    ns.leader_epoch = p->st.leader_epoch + 1;          /* C4 */
    if (unclean) {
        LOG_WRN(MOD, "unclean election (ElectLeaders): %s-%d led by %d, out of its ISR; "
                "records may be lost", t->name, i, leader);
        ns.isr[0] = leader;
        ns.nisr = 1;
    }
    int r = ctl_write_state(c, t, i, &ns);
    if (r > 0)
        *err = KERR_ELIGIBLE_LEADERS_NOT_AVAILABLE;    /* moved meanwhile: ask again */
    return r < 0 ? -1 : 0;
}

/* One partition; -1 after resigning. */
static int elect_one(controller *c, int8_t type, controller_tp *e)
{
    ctopic *t = ctl_find_topic(c, e->topic);
    if (!t || e->partition < 0 || e->partition >= t->a.npartitions ||
        !t->parts[e->partition].has_state || t->parts[e->partition].bad) {
        e->error = KERR_UNKNOWN_TOPIC_OR_PARTITION;
    } else {
        int r = type == CTL_ELECT_PREFERRED ? ctl_elect_preferred(c, t, e->partition, &e->error)
                                            : elect_unclean(c, t, e->partition, &e->error);
        if (r < 0)
            return -1;
    }
    e->message = message_of(e->error, type);
    return 0;
}

static int16_t do_elect(controller *c, void *arg)
{
    el_req *r = arg;
    if (!atomic_load(&c->active))
        return KERR_NOT_CONTROLLER;
    if (r->type != CTL_ELECT_PREFERRED && r->type != CTL_ELECT_UNCLEAN)
        return KERR_INVALID_REQUEST;
    if (!r->want) {
        int n = 0;
        for (int k = 0; k < c->ntopics; k++)
            n += c->topics[k].a.npartitions;
        r->all = calloc((size_t)n + 1, sizeof *r->all);
        if (!r->all)
            return KERR_UNKNOWN_SERVER_ERROR;
        for (int k = 0; k < c->ntopics; k++)
            for (int32_t i = 0; i < c->topics[k].a.npartitions; i++) {
                controller_tp *e = &r->all[r->nall];
                if (!(e->topic = strdup(c->topics[k].name)))
                    return KERR_UNKNOWN_SERVER_ERROR;
                e->partition = i;
                r->nall++;
            }
    }
    controller_tp *v = r->want ? r->want : r->all;
    int n = r->want ? r->nwant : r->nall;
    int elected = 0;
    for (int i = 0; i < n; i++) {
        if (elect_one(c, r->type, &v[i]) < 0)
            return KERR_NOT_CONTROLLER;
        elected += v[i].error == KERR_NONE;
    }
    if (elected) {
        LOG_INF(MOD, "ElectLeaders (%s): %d leaders elected",
                r->type == CTL_ELECT_PREFERRED ? "preferred" : "unclean", elected);
        ctl_flush(c, NULL, 0, FL_LAI);
    }
    return KERR_NONE;
}

int16_t controller_elect_leaders(controller *c, int8_t type, controller_tp *want, int nwant,
                                 controller_tp **all, int *nall)
{
    el_req r = { .type = type, .want = want, .nwant = nwant };
    int16_t err = ctl_call(c, do_elect, &r);
    if (err) {
        controller_tps_free(r.all, r.nall);
        r.all = NULL;
        r.nall = 0;
    }
    if (all) {
        *all = r.all;
        *nall = r.nall;
    } else {
        controller_tps_free(r.all, r.nall);
    }
    return err;
}
