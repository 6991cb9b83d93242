/*
 * controller_shutdown.c - ControlledShutdown on the controller
 * (controller_controlled_shutdown; Kafka's doControlledShutdown).
 *
 * Steps, on the controller thread (ctl_call):
 *   1. Checks: active (C11), the broker live, its broker epoch.
 *   2. Record it as shutting down for this registration (C30): from now
 *      on no election chooses it, until it registers again or goes.
 *   3. Every replicated partition (more than one replica) it leads: the
 *      first other live ISR member not shutting down (a drained one last,
 *      C34) becomes leader, epoch + 1 (C4), and the broker leaves the ISR
 *      (C31, Kafka's ControlledShutdownPartitionLeaderElectionStrategy).
 *      None: it stays leader, and the partition is reported remaining.
 *   4. Every replicated partition it follows: it leaves the ISR (C10 keeps
 *      a last member), epoch + 1 (C4), so acks=all stops waiting for it.
 *   5. LeaderAndIsr and UpdateMetadata for what was written (ctl_flush),
 *      then the answer: the replicated partitions it still leads.
 * C31 also holds afterwards: handle_alter (controller.c) refuses to add a
 * shutting-down broker back to an ISR (INELIGIBLE_REPLICA).
 */
#include "cluster/controller_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/errors.h"
#include "core/log.h"

#define MOD "controller"

typedef struct cs_req {
    int32_t id;
    int64_t epoch;
    controller_tp *rem;
    int nrem;
} cs_req;

void controller_tps_free(controller_tp *v, int n)
{
    for (int i = 0; v && i < n; i++)
        free(v[i].topic);
    free(v);
}

/* Step 3 or 4 for partition i of t; -1 after resigning. */
static int shut_partition(controller *c, ctopic *t, int32_t i, int32_t id, int *moved)
{
    cpart *p = &t->parts[i];
    id_set isr = { p->st.isr, p->st.nisr };
    if (p->st.leader == id) {
        int32_t ex[CTL_MAX_BROKERS], live[CTL_MAX_BROKERS];
        id_set lv = { live, ctl_live_ids(c, live) };
        int32_t nl = election_first_eligible(ctl_assigned(t, i), isr, lv, ctl_excluded(c, ex),
                                             ctl_avoided(c));
        if (nl < 0)
            return 0;            /* remaining: reported */
        int r = ctl_move_leader(c, t, i, nl, id);
        *moved += r == 0;
        return r < 0 ? -1 : 0;
    }
    if (!id_set_has(isr, id) || p->st.leader < 0)
        return 0;
    return ctl_move_leader(c, t, i, p->st.leader, id) < 0 ? -1 : 0;
}

static int16_t do_shutdown(controller *c, void *arg)
{
    cs_req *r = arg;
    if (!atomic_load(&c->active))
        return KERR_NOT_CONTROLLER;
    const cbroker *b = ctl_live_broker(c, r->id);
    if (!b)
        return KERR_BROKER_NOT_AVAILABLE;
    if (r->epoch != -1 && r->epoch != b->epoch)
        return KERR_STALE_BROKER_EPOCH;
    if (!ctl_is_shutting_down(c, r->id)) {
        int k = 0;
        for (int i = 0; i < c->nshutting; i++)          /* drop stale registrations */
            if (ctl_is_shutting_down(c, c->shutting[i]) && c->shutting[i] != r->id) {
                c->shutting_epoch[k] = c->shutting_epoch[i];
                c->shutting[k++] = c->shutting[i];
            }
        c->nshutting = k;
        if (k < CTL_MAX_BROKERS) {
            c->shutting[k] = r->id;
            c->shutting_epoch[k] = b->epoch;
            c->nshutting++;
        }
    }
    int moved = 0;
    for (int k = 0; k < c->ntopics; k++) {
        ctopic *t = &c->topics[k];
        for (int32_t i = 0; i < t->a.npartitions; i++) {
            cpart *p = &t->parts[i];
            id_set as = ctl_assigned(t, i);
            if (as.n < 2 || !id_set_has(as, r->id) || !p->has_state || p->bad)
                continue;
            if (shut_partition(c, t, i, r->id, &moved) < 0)
                return KERR_NOT_CONTROLLER;
        }
    }
    ctl_flush(c, NULL, 0, FL_LAI);
    /* the answer: replicated partitions it still leads */
    int n = 0;
    for (int k = 0; k < c->ntopics; k++)
        for (int32_t i = 0; i < c->topics[k].a.npartitions; i++)
            n += c->topics[k].parts[i].has_state && c->topics[k].parts[i].st.leader == r->id &&
                 c->topics[k].a.nreplicas[i] > 1;
    r->rem = calloc((size_t)n + 1, sizeof *r->rem);
    if (!r->rem)
        return KERR_UNKNOWN_SERVER_ERROR;
    for (int k = 0; k < c->ntopics; k++) {
        const ctopic *t = &c->topics[k];
        for (int32_t i = 0; i < t->a.npartitions; i++) {
            if (!t->parts[i].has_state || t->parts[i].st.leader != r->id || t->a.nreplicas[i] < 2)
                continue;
            controller_tp *e = &r->rem[r->nrem];
            if (!(e->topic = strdup(t->name)))
                return KERR_UNKNOWN_SERVER_ERROR;
            e->partition = i;
            r->nrem++;
        }
    }
    LOG_INF(MOD, "controlled shutdown of broker %d: %d leaderships moved, %d remaining", r->id,
            moved, r->nrem);
    return KERR_NONE;
}

int16_t controller_controlled_shutdown(controller *c, int32_t broker_id, int64_t broker_epoch,
                                       controller_tp **remaining, int *nremaining)
{
    cs_req r = { .id = broker_id, .epoch = broker_epoch };
    int16_t err = ctl_call(c, do_shutdown, &r);
    if (err) {
        controller_tps_free(r.rem, r.nrem);
        r.rem = NULL;
        r.nrem = 0;
    }
    *remaining = r.rem;
    *nremaining = r.nrem;
    return err;
}
