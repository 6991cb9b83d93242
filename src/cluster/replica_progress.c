/* replica_progress.c - see replica_progress.h. */
#include "cluster/replica_progress.h"

#include <stdlib.h>
#include <string.h>

#include "cluster/topic.h"
#include "core/clock.h"
#include "storage/partition_log.h"

void replica_progress_init(replica_progress *rp)
{
    memset(rp, 0, sizeof *rp);
    pthread_mutex_init(&rp->lock, NULL);
    rp->leader_since_ms = wall_ms();
}

void replica_progress_destroy(replica_progress *rp)
{
    pthread_mutex_destroy(&rp->lock);
    free(rp->f);
    rp->f = NULL;
    rp->n = rp->cap = 0;
}

void replica_progress_reset(replica_progress *rp)
{
    pthread_mutex_lock(&rp->lock);
    rp->n = 0;
    rp->npending = 0;                /* C27: a new leadership has no expansion in flight */
    rp->leader_since_ms = wall_ms();
    pthread_mutex_unlock(&rp->lock);
}

static replica_follower *find(replica_progress *rp, int32_t id)
{
    for (int i = 0; i < rp->n; i++)
        if (rp->f[i].id == id)
            return &rp->f[i];
    return NULL;
}

int replica_progress_record(replica_progress *rp, int32_t id, int64_t fetch_offset,
                            int64_t leader_leo, int64_t now_ms)
{
    int rc = 0;
    pthread_mutex_lock(&rp->lock);
    replica_follower *f = find(rp, id);
    if (!f) {
        if (rp->n == rp->cap) {
            int cap = rp->cap ? rp->cap * 2 : 4;
            replica_follower *nf = cap <= PSTATE_MAX_REPLICAS ? realloc(rp->f, (size_t)cap * sizeof *nf) : NULL;
            if (!nf) {
                rc = -1;
                goto out;
            }
            rp->f = nf;
            rp->cap = cap;
        }
        f = &rp->f[rp->n++];
        *f = (replica_follower){ .id = id, .leo = -1, .last_fetch_leader_leo = INT64_MAX };
    }
    /* Kafka's ReplicaState.updateFetchState. */
    if (fetch_offset >= leader_leo)
        f->last_caught_up_ms = now_ms;
    else if (fetch_offset >= f->last_fetch_leader_leo)
        f->last_caught_up_ms = f->last_fetch_ms;
    f->leo = fetch_offset;
    f->last_fetch_ms = now_ms;
    f->last_fetch_leader_leo = leader_leo;
out:
    pthread_mutex_unlock(&rp->lock);
    return rc;
}

bool replica_progress_get(replica_progress *rp, int32_t id, replica_follower *out)
{
    pthread_mutex_lock(&rp->lock);
    replica_follower *f = find(rp, id);
    if (f)
        *out = *f;
    pthread_mutex_unlock(&rp->lock);
    return f != NULL;
}

int replica_progress_snapshot(replica_progress *rp, replica_follower *out, int cap,
                              int64_t *leader_since_ms)
{
    pthread_mutex_lock(&rp->lock);
    int n = rp->n < cap ? rp->n : cap;
    if (n > 0)
        memcpy(out, rp->f, (size_t)n * sizeof *out);
    *leader_since_ms = rp->leader_since_ms;
    pthread_mutex_unlock(&rp->lock);
    return n;
}

int64_t replica_hw_from_isr(int64_t leader_leo, int32_t self, const int32_t *isr, int32_t nisr,
                            const replica_follower *f, int nf)
{
    int64_t hw = leader_leo;
    for (int32_t i = 0; i < nisr; i++) {
        if (isr[i] == self)
            continue;
        int64_t leo = -1;
        for (int k = 0; k < nf; k++)
            if (f[k].id == isr[i])
                leo = f[k].leo;
        if (leo < 0)
            return -1;               /* C6: an ISR member we have not heard from holds it */
        if (leo < hw)
            hw = leo;                /* C6: the smallest log end offset in the ISR */
    }
    return hw;
}

void replica_progress_set_pending(replica_progress *rp, const int32_t *ids, int n)
{
    pthread_mutex_lock(&rp->lock);
    rp->npending = n < PSTATE_MAX_REPLICAS ? n : PSTATE_MAX_REPLICAS;
    if (rp->npending > 0)
        memcpy(rp->pending, ids, (size_t)rp->npending * sizeof *ids);
    pthread_mutex_unlock(&rp->lock);
}

bool partition_advance_hw(partition *p, int32_t self)
{
    partition_state *st = partition_state_get(p);
    bool moved = false;
    if (!st || st->leader != self || !p->log)
        goto out;
    int64_t leo = plog_log_end_offset(p->log), hw = leo;
    replica_progress *rp = &p->progress;
    if (st->nisr > 1 || rp->npending > 0) {
        int32_t isr[2 * PSTATE_MAX_REPLICAS];
        int n = st->nisr < PSTATE_MAX_REPLICAS ? st->nisr : PSTATE_MAX_REPLICAS;
        memcpy(isr, st->isr, (size_t)n * sizeof *isr);
        pthread_mutex_lock(&rp->lock);
        /* C27: the maximal ISR, with the members an expansion in flight
         * adds: once the controller has them in the ISR, one of them may
         * lead (a reassignment completes at once), so nothing is
         * acknowledged that they lack. */
        for (int i = 0; i < rp->npending; i++)
            isr[n++] = rp->pending[i];
        hw = replica_hw_from_isr(leo, self, isr, n, rp->f, rp->n);   /* C6 */
        pthread_mutex_unlock(&rp->lock);
    }
    if (hw > plog_high_watermark(p->log)) {
        plog_set_high_watermark(p->log, hw);    /* monotone (S2) */
        moved = true;
    }
out:
    pstate_unref(st);
    return moved;
}
