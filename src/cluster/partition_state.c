/*
 * partition_state.c - immutable partition-state snapshots and the one
 * function that changes a partition's state (see partition_state.h).
 */
#include "cluster/partition_state.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/topic.h"
#include "core/errors.h"
#include "storage/partition_log.h"

static bool list_ok(const int32_t *v, int32_t n)
{
    return n >= 0 && n <= PSTATE_MAX_REPLICAS && (n == 0 || v);
}

/* M3: the only code that fills a snapshot; nothing writes one once published. */
partition_state *pstate_new(const pstate_spec *s)
{
    if (!list_ok(s->replicas, s->nreplicas) || !list_ok(s->isr, s->nisr) ||
        !list_ok(s->offline, s->noffline))
        return NULL;
    size_t n = (size_t)s->nreplicas + (size_t)s->nisr + (size_t)s->noffline;
    partition_state *ps = malloc(sizeof *ps + n * sizeof(int32_t));
    if (!ps)
        return NULL;
    atomic_init(&ps->refs, 1);
    ps->leader = s->leader;
    ps->leader_epoch = s->leader_epoch;
    ps->partition_epoch = s->partition_epoch;
    ps->controller_epoch = s->controller_epoch;
    ps->nreplicas = s->nreplicas;
    ps->nisr = s->nisr;
    ps->noffline = s->noffline;
    int32_t *w = ps->ids;
    ps->replicas = w;
    if (s->nreplicas)
        memcpy(w, s->replicas, (size_t)s->nreplicas * sizeof *w);
    w += s->nreplicas;
    ps->isr = w;
    if (s->nisr)
        memcpy(w, s->isr, (size_t)s->nisr * sizeof *w);
    w += s->nisr;
    ps->offline = w;
    if (s->noffline)
        memcpy(w, s->offline, (size_t)s->noffline * sizeof *w);
    return ps;
}

partition_state *pstate_local(int32_t self, int32_t leader_epoch)
{
    pstate_spec s = { .leader = self, .leader_epoch = leader_epoch, .partition_epoch = 0,
                      .controller_epoch = -1, .replicas = &self, .nreplicas = 1,
                      .isr = &self, .nisr = 1 };
    return pstate_new(&s);
}

void pstate_ref(partition_state *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

void pstate_unref(partition_state *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        free(s);
}

bool pstate_in_isr(const partition_state *s, int32_t broker)
{
    for (int32_t i = 0; i < s->nisr; i++)
        if (s->isr[i] == broker)
            return true;
    return false;
}

partition_state *partition_state_get(partition *p)
{
    pthread_mutex_lock(&p->state_lock);
    partition_state *s = p->state;
    if (s)
        pstate_ref(s);
    pthread_mutex_unlock(&p->state_lock);
    return s;
}

int16_t partition_set_state(partition *p, partition_state *s)
{
    int16_t rc = KERR_NONE;
    partition_state *old = NULL;
    pthread_mutex_lock(&p->state_lock);
    if (p->state && s->leader_epoch < p->state->leader_epoch) {
        rc = KERR_STALE_CONTROLLER_EPOCH;        /* M1: the leader epoch never decreases */
        old = s;
    } else {
        old = p->state;
        p->state = s;                            /* M2: the only store to p->state */
        atomic_store(&p->leader_epoch, s->leader_epoch);
        atomic_store(&p->isr_solo, s->nisr <= 1);
    }
    pthread_mutex_unlock(&p->state_lock);
    pstate_unref(old);
    return rc;
}

bool partition_led_by(partition *p, int32_t broker)
{
    partition_state *s = partition_state_get(p);
    bool led = s && s->leader == broker;
    pstate_unref(s);
    return led;
}

bool partition_append_lost(partition *p, int32_t self, int32_t appended_epoch, int64_t need_offset)
{
    int32_t now = atomic_load_explicit(&p->leader_epoch, memory_order_acquire);
    if (now == appended_epoch)
        return false;
    if (!partition_led_by(p, self) || !p->log)
        return true;
    int32_t e = -1;
    int64_t end = -1;
    plog_epoch_end_offset(p->log, appended_epoch, now, &e, &end);
    return e != appended_epoch || end < need_offset;
}
